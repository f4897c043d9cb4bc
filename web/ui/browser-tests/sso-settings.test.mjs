// Settings → Single sign-on in the browser: an OIDC provider added through the form shows its redirect
// URL and keeps its secret when edited without one; a SAML provider added from pasted metadata XML (a
// real self-signed certificate made by openssl; the file input reads the same document) shows its ACS
// URL, SP entity ID and metadata link; validation errors appear at the field the API names; the role
// mapping is reordered and kept; providers are disabled, enabled and deleted (after a question); the
// test sign-in opens the identity provider in a new tab; a domain is claimed with its TXT record and a
// failed verification says why; SSO is enforced with break-glass members, which an admin sees read-only.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { screenshot } from './browser.mjs';
import { heading, mailedLink, managementApi, managementCall, messages, signIn, signInAsOwner, uiSuite } from './harness.mjs';
import { OWNER } from './server.mjs';

/**
 * A DNS server on a free UDP port of 127.0.0.1 that knows no name: it answers every question with
 * NXDOMAIN at once, so a domain's verification fails without waiting for a resolver's timeout.
 */
async function emptyDns() {
  const socket = createSocket('udp4');
  socket.on('message', (query, from) => {
    if (query.length < 12) return;
    let end = 12;
    while (end < query.length && query[end] !== 0) end += query[end] + 1;
    const answer = Buffer.from(query.subarray(0, Math.min(end + 5, query.length)));
    answer[2] = 0x80 | (query[2] & 0x79); // a response, with the query's opcode and RD
    answer[3] = 0x83; // recursion available, NXDOMAIN
    answer.writeUInt16BE(0, 6); // no answers,
    answer.writeUInt16BE(0, 8); // no authority,
    answer.writeUInt16BE(0, 10); // no additional records (the query's EDNS is dropped)
    socket.send(answer, from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  socket.unref();
  return socket.address().port;
}

const uiTest = uiSuite({ env: { FLAGENT_AUTH__DNS_SERVER: `127.0.0.1:${await emptyDns()}` } });

/** Where the made-up identity providers live: nothing listens there; the tests answer for it. */
const IDP = 'http://127.0.0.1:9';

/** A self-signed certificate, base64 DER (the PEM body). */
function certificate() {
  const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=idp',
    '-days', '1', '-keyout', '/dev/null', '-out', '-'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** Minimal IdP metadata: an entity ID, an HTTP-Redirect SSO URL and, unless `cert` is null, a signing key. */
function metadata(entityID, cert) {
  const key = cert === null ? '' : `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityID}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    ${key}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${IDP}/saml/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

/** Creates an OIDC provider through the API; returns its answer. */
async function oidcProvider(server, name, extra = {}) {
  const created = await managementCall(server, 'POST', '/api/v1/sso/providers', {
    name, kind: 'oidc', oidc: { issuer: `${IDP}/`, clientId: 'flagent', clientSecret: 'a browser-test secret' }, ...extra,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

/** Invites `email` as `role` and accepts the mailed invitation through the API; returns the user id. */
async function addMember(server, email, role) {
  const invited = await managementCall(server, 'POST', '/api/v1/invitations', { email, role });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));
  const token = new URL(await mailedLink(server, email, 'accept-invitation')).searchParams.get('token');
  const accepted = await fetch(`${server.url}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, password: 'a member passphrase of some length', name: 'Rita Admin' }),
  });
  assert.equal(accepted.status, 200, await accepted.text());
  const members = await managementApi(server, 'GET', '/api/v1/members');
  return members.find((m) => m.email === email).userId;
}

/** Opens Settings → Single sign-on from the sidebar. */
async function openSso(page) {
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Single sign-on', exact: true }).click(),
  ]);
  assert.equal(await heading(page), 'Single sign-on');
}

/** Submits the form around `button` and waits for the page that follows success. */
async function submitAndWait(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** The new provider's form, opened. */
async function newProviderForm(page) {
  await page.getByText('Add an identity provider', { exact: true }).click();
  return page.locator('#new-provider-form');
}

/** The provider id in the page's path (`/sso/providers/{id}`). */
function providerId(page) {
  return Number(new URL(page.url()).pathname.split('/').pop());
}

/** The claims of each rule row of `form`, in order. */
async function ruleClaims(form) {
  return form.locator('li.rule [data-row-field="value"]').evaluateAll((els) => els.map((el) => el.value));
}

uiTest('an OIDC provider is added through the form, shows its redirect URL and keeps its secret', async (page, server) => {
  await signInAsOwner(page, server);
  await openSso(page);
  const form = await newProviderForm(page);
  await form.getByLabel('Name', { exact: true }).fill('Acme OIDC');
  assert.equal(await form.getByLabel('Protocol', { exact: true }).inputValue(), 'oidc');
  assert.equal(await form.getByLabel('IdP metadata XML').isVisible(), false, 'the SAML fields show for OIDC');
  await form.getByLabel('Issuer', { exact: true }).fill(`${IDP}/`);
  await form.getByLabel('Client ID', { exact: true }).fill('flagent-ui');
  await form.getByLabel('Client secret', { exact: true }).fill('the client secret');
  await form.getByLabel('Scopes', { exact: true }).fill('openid email groups');
  await form.getByLabel('Default role', { exact: true }).selectOption('editor');
  await submitAndWait(page, form.getByRole('button', { name: 'Add provider', exact: true }));

  assert.match(new URL(page.url()).pathname, /\/sso\/providers\/\d+$/);
  assert.equal(await heading(page), 'Acme OIDC');
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const id = providerId(page);
  const redirect = page.locator('#value-redirect');
  assert.equal(await redirect.innerText(), `${server.url}/sso/oidc/${id}/callback`);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const copy = page.getByRole('button', { name: 'Copy the redirect URL', exact: true });
  await copy.click();
  await page.waitForFunction(() => document.querySelector('[data-copy="#value-redirect"]').textContent === 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${server.url}/sso/oidc/${id}/callback`);
  const stored = await managementApi(server, 'GET', `/api/v1/sso/providers/${id}`);
  assert.deepEqual(stored.oidc, { issuer: `${IDP}/`, clientId: 'flagent-ui', scopes: ['openid', 'email', 'groups'],
    useUserinfo: false, clientSecretSet: true });
  assert.equal(stored.defaultRole, 'editor');
  await screenshot(page, 'sso-provider-oidc');

  // Edited without a secret: the stored one stays.
  const edit = page.locator('#edit-provider-form');
  assert.match(await edit.locator('label[for="edit-client-secret"]').innerText(), /stored/);
  assert.equal(await edit.getByLabel(/^Client secret/).inputValue(), '');
  await edit.getByLabel('Client ID', { exact: true }).fill('flagent-ui-2');
  await submitAndWait(page, edit.getByRole('button', { name: 'Save provider', exact: true }));
  const saved = await managementApi(server, 'GET', `/api/v1/sso/providers/${id}`);
  assert.equal(saved.oidc.clientId, 'flagent-ui-2');
  assert.equal(saved.oidc.clientSecretSet, true, 'saving without a secret dropped it');
  assert.equal(await page.locator('#edit-provider-form').getByLabel('Client ID', { exact: true }).inputValue(), 'flagent-ui-2');
});

uiTest('a SAML provider is added from pasted metadata XML and shows the values for its identity provider', async (page, server) => {
  const cert = certificate();
  const xml = metadata('https://idp.browser.test/saml', cert);
  await signInAsOwner(page, server);
  await openSso(page);
  const form = await newProviderForm(page);
  await form.getByLabel('Name', { exact: true }).fill('Acme SAML');
  await form.getByLabel('Protocol', { exact: true }).selectOption('saml');
  assert.equal(await form.getByLabel('Issuer', { exact: true }).isVisible(), false, 'the OIDC fields show for SAML');
  assert.equal(await form.getByLabel("The identity provider's values").inputValue(), 'xml');
  const pasted = form.getByLabel('IdP metadata XML', { exact: true });
  // A file chosen is read into the field, as a paste would fill it.
  await form.getByLabel('Or read it from a file', { exact: true }).setInputFiles({ name: 'idp.xml', mimeType: 'application/xml', buffer: Buffer.from(xml) });
  await page.waitForFunction((text) => document.getElementById('new-metadata-xml').value === text, xml);
  await pasted.fill('');
  await pasted.fill(xml);
  await form.getByLabel('Sign authentication requests').check();
  await submitAndWait(page, form.getByRole('button', { name: 'Add provider', exact: true }));

  assert.equal(await heading(page), 'Acme SAML');
  const id = providerId(page);
  const metadataURL = `${server.url}/sso/saml/${id}/metadata`;
  assert.equal(await page.locator('#value-acs').innerText(), `${server.url}/sso/saml/${id}/acs`);
  assert.equal(await page.locator('#value-entity-id').innerText(), metadataURL);
  const link = page.getByRole('link', { name: metadataURL, exact: true });
  assert.equal(await link.getAttribute('href'), metadataURL);
  assert.match(await page.locator('#value-certificate').innerText(), /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----$/);
  const sp = await fetch(metadataURL);
  assert.equal(sp.status, 200);
  const spXml = await sp.text();
  assert.ok(spXml.includes(`entityID="${metadataURL}"`), spXml);
  assert.ok(spXml.includes(`${server.url}/sso/saml/${id}/acs`), spXml);
  const stored = await managementApi(server, 'GET', `/api/v1/sso/providers/${id}`);
  assert.equal(stored.saml.idpEntityID, 'https://idp.browser.test/saml');
  assert.equal(stored.saml.ssoURL, `${IDP}/saml/sso`);
  assert.deepEqual(stored.saml.certificates, [cert]);
  assert.equal(stored.sp.signingCertificate.length > 0, true);
  // The edit form starts from the stored values, one by one.
  const edit = page.locator('#edit-provider-form');
  assert.equal(await edit.getByLabel("The identity provider's values").inputValue(), 'fields');
  assert.equal(await edit.getByLabel('IdP entity ID', { exact: true }).inputValue(), 'https://idp.browser.test/saml');
  await screenshot(page, 'sso-provider-saml');

  // Sent again as shown, nothing changes.
  await submitAndWait(page, edit.getByRole('button', { name: 'Save provider', exact: true }));
  const again = await managementApi(server, 'GET', `/api/v1/sso/providers/${id}`);
  assert.deepEqual(again.saml, stored.saml);
  assert.deepEqual(again.sp, stored.sp);
});

uiTest('the API\'s validation errors appear at the field they name', async (page, server) => {
  await signInAsOwner(page, server);
  await openSso(page);
  const form = await newProviderForm(page);
  await form.getByLabel('Name', { exact: true }).fill('No certificate');
  await form.getByLabel('Protocol', { exact: true }).selectOption('saml');
  await form.getByLabel("The identity provider's values").selectOption('fields');
  await form.getByLabel('IdP entity ID', { exact: true }).fill('https://idp.browser.test/none');
  await form.getByLabel('IdP single sign-on URL (HTTP-Redirect)', { exact: true }).fill(`${IDP}/saml/sso`);
  await form.getByRole('button', { name: 'Add provider', exact: true }).click();
  const certificates = form.getByLabel('IdP signing certificates', { exact: true });
  const note = form.locator('#new-certificates-error');
  await note.waitFor();
  assert.match(await note.innerText(), /signing certificate/);
  assert.equal(await certificates.getAttribute('aria-invalid'), 'true');
  assert.equal(await certificates.getAttribute('aria-describedby'), 'new-certificates-error');
  assert.match(await messages(form).innerText(), /signing certificate/);
  await screenshot(page, 'sso-validation');

  // Metadata without a signing key: the error is the metadata field's.
  await form.getByLabel("The identity provider's values").selectOption('xml');
  await form.getByLabel('IdP metadata XML', { exact: true }).fill(metadata('https://idp.browser.test/keyless', null));
  await form.getByRole('button', { name: 'Add provider', exact: true }).click();
  await form.locator('#new-metadata-xml-error').waitFor();
  assert.equal(await form.getByLabel('IdP metadata XML', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await certificates.getAttribute('aria-invalid'), null, 'the earlier mark stayed');

  // OIDC: an issuer on plain http elsewhere than this machine.
  await form.getByLabel('Protocol', { exact: true }).selectOption('oidc');
  await form.getByLabel('Issuer', { exact: true }).fill('http://idp.browser.test');
  await form.getByLabel('Client ID', { exact: true }).fill('flagent');
  await form.getByLabel('Client secret', { exact: true }).fill('secret');
  await form.getByRole('button', { name: 'Add provider', exact: true }).click();
  const issuerNote = form.locator('#new-issuer-error');
  await issuerNote.waitFor();
  assert.match(await issuerNote.innerText(), /issuer uses https/);
  const listed = await managementApi(server, 'GET', '/api/v1/sso/providers');
  assert.equal(listed.some((p) => p.name === 'No certificate'), false, 'a refused provider was saved');
});

uiTest('the role mapping is edited, reordered and kept in its order', async (page, server) => {
  const provider = await oidcProvider(server, 'Mapped IdP');
  await signInAsOwner(page, server);
  await page.goto(`${server.url}/ui/t/default/sso/providers/${provider.id}`);
  const form = page.locator('#edit-provider-form');
  assert.match(await form.locator('fieldset.rules').innerText(), /first that matches sets the role/);
  const add = form.getByRole('button', { name: 'Add rule', exact: true });
  for (const [claim, op, value, role] of [['groups', 'equals', 'engineering', 'editor'], ['groups', 'contains', 'admins', 'admin'], ['dept', 'equals', 'gone', 'viewer']]) {
    await add.click();
    const row = form.locator('li.rule').last();
    await row.getByLabel('Claim or attribute', { exact: true }).fill(claim);
    await row.getByLabel('Match', { exact: true }).selectOption(op);
    await row.getByLabel('Value', { exact: true }).fill(value);
    await row.getByLabel('Role', { exact: true }).selectOption(role);
  }
  assert.deepEqual(await ruleClaims(form), ['engineering', 'admins', 'gone']);
  assert.equal(await form.getByRole('button', { name: 'Rule 1 up', exact: true }).isDisabled(), true);
  await form.getByRole('button', { name: 'Remove rule 3', exact: true }).click();
  await form.getByRole('button', { name: 'Rule 2 up', exact: true }).click();
  assert.deepEqual(await ruleClaims(form), ['admins', 'engineering']);
  assert.deepEqual(await form.locator('li.rule [data-row-field]').evaluateAll((els) => els.map((el) => el.name)),
    ['roleRules.0.claim', 'roleRules.0.op', 'roleRules.0.value', 'roleRules.0.role',
      'roleRules.1.claim', 'roleRules.1.op', 'roleRules.1.value', 'roleRules.1.role']);
  await form.getByLabel("Set members' roles again from the rules").check();
  await submitAndWait(page, form.getByRole('button', { name: 'Save provider', exact: true }));

  await page.reload();
  assert.deepEqual(await ruleClaims(page.locator('#edit-provider-form')), ['admins', 'engineering']);
  assert.equal(await page.locator('#edit-rule-0-op').inputValue(), 'contains');
  assert.equal(await page.locator('#edit-rule-0-role').inputValue(), 'admin');
  const stored = await managementApi(server, 'GET', `/api/v1/sso/providers/${provider.id}`);
  assert.deepEqual(stored.roleRules, [
    { claim: 'groups', op: 'contains', value: 'admins', role: 'admin' },
    { claim: 'groups', op: 'equals', value: 'engineering', role: 'editor' },
  ]);
  assert.equal(stored.resyncRoles, true);
  assert.equal(stored.oidc.clientSecretSet, true);
  await screenshot(page, 'sso-role-mapping');
});

uiTest('a provider is disabled, enabled and deleted from the list, deleting after a question', async (page, server) => {
  const provider = await oidcProvider(server, 'Short-lived IdP', {
    roleRules: [{ claim: 'groups', op: 'equals', value: 'ops', role: 'editor' }],
  });
  await signInAsOwner(page, server);
  await openSso(page);
  const row = page.locator('tr', { has: page.getByRole('link', { name: 'Short-lived IdP', exact: true }) });
  assert.match(await row.innerText(), /OIDC\s+Enabled\s+viewer/);
  assert.equal(await row.locator('code').innerText(), provider.startURL);

  let asked = '';
  page.once('dialog', (dialog) => { asked = dialog.message(); dialog.accept(); });
  await submitAndWait(page, row.getByRole('button', { name: 'Disable', exact: true }));
  assert.match(asked, /Disable Short-lived IdP\?/);
  assert.match(await row.innerText(), /Disabled/);
  const disabled = await managementApi(server, 'GET', `/api/v1/sso/providers/${provider.id}`);
  assert.equal(disabled.enabled, false);
  assert.deepEqual(disabled.roleRules, provider.roleRules, 'disabling changed the rules');
  assert.equal(disabled.oidc.clientSecretSet, true, 'disabling dropped the secret');
  await submitAndWait(page, row.getByRole('button', { name: 'Enable', exact: true }));
  assert.equal((await managementApi(server, 'GET', `/api/v1/sso/providers/${provider.id}`)).enabled, true);
  await screenshot(page, 'sso-settings');

  page.once('dialog', (dialog) => dialog.dismiss());
  await row.getByRole('button', { name: 'Delete', exact: true }).click();
  assert.equal(await row.count(), 1, 'a dismissed question deleted the provider');
  page.once('dialog', (dialog) => { asked = dialog.message(); dialog.accept(); });
  await submitAndWait(page, row.getByRole('button', { name: 'Delete', exact: true }));
  assert.match(asked, /Delete the identity provider Short-lived IdP\?/);
  assert.equal(await row.count(), 0, 'the provider is still listed');
  assert.equal((await managementCall(server, 'GET', `/api/v1/sso/providers/${provider.id}`)).status, 404);
});

uiTest('the test sign-in opens the identity provider in a new tab', async (page, server) => {
  const created = await managementCall(server, 'POST', '/api/v1/sso/providers', {
    name: 'Tested SAML', kind: 'saml', saml: { metadataXML: metadata('https://idp.browser.test/tested', certificate()) },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // The identity provider, as far as the new tab sees it.
  await page.context().route(`${IDP}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>IdP</title><h1>IdP</h1>' }));
  await signInAsOwner(page, server);
  await page.goto(`${server.url}/ui/t/default/sso/providers/${created.body.id}`);
  const test = page.locator('form.test-sign-in');
  const [tab] = await Promise.all([
    page.context().waitForEvent('page'),
    test.getByRole('button', { name: 'Test sign-in', exact: true }).click(),
  ]);
  await tab.waitForURL((url) => url.href.startsWith(`${IDP}/saml/sso?`));
  assert.ok(new URL(tab.url()).searchParams.get('SAMLRequest'), tab.url());
  await test.getByRole('status').waitFor();
  assert.equal(await test.getByRole('link', { name: 'open it here' }).getAttribute('href'), tab.url());
  const cookies = await page.context().cookies(`${server.url}/sso/`);
  assert.ok(cookies.some((c) => c.name === 'flagent_sso' && c.path === '/sso/'), JSON.stringify(cookies));
  await tab.close();
});

uiTest('a claimed domain shows its TXT record as pending, and a failed verification says why', async (page, server) => {
  await signInAsOwner(page, server);
  await openSso(page);
  const claim = page.locator('form.claim-domain');
  await claim.getByLabel('Domain', { exact: true }).fill('Browser-Acme.test');
  await submitAndWait(page, claim.getByRole('button', { name: 'Claim domain', exact: true }));
  const [claimed] = (await managementApi(server, 'GET', '/api/v1/sso/domains')).filter((d) => d.domain === 'browser-acme.test');
  assert.ok(claimed, 'the domain was not claimed');
  const row = page.locator('table.domains tr', { hasText: 'browser-acme.test' });
  assert.equal(await row.locator(`#txt-name-${claimed.id}`).innerText(), '_flagent-challenge.browser-acme.test');
  assert.equal(await row.locator(`#txt-value-${claimed.id}`).innerText(), claimed.txtValue);
  assert.match(claimed.txtValue, /^flagent-verification=/);
  assert.equal(await row.locator('.status').innerText(), 'Pending');
  assert.ok(await row.getByRole('button', { name: 'Copy the TXT record value of browser-acme.test', exact: true }).isVisible());

  await row.getByRole('button', { name: 'Verify', exact: true }).click();
  const refusal = messages(row);
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /no TXT record _flagent-challenge\.browser-acme\.test with the value flagent-verification=\S+ was found/);
  assert.equal(await row.locator('.status').innerText(), 'Pending');
  await screenshot(page, 'sso-domains');

  page.once('dialog', (dialog) => dialog.accept());
  await submitAndWait(page, row.getByRole('button', { name: 'Remove', exact: true }));
  assert.equal(await row.count(), 0);
});

uiTest('SSO is enforced with break-glass members kept after a reload, and an admin sees it read-only', async (page, server) => {
  const rita = await addMember(server, 'rita.admin@example.com', 'admin');
  await oidcProvider(server, 'Enforced IdP');
  const owner = (await managementApi(server, 'GET', '/api/v1/members')).find((m) => m.email === OWNER.email).userId;
  await signInAsOwner(page, server);
  await openSso(page);
  const form = page.locator('form[data-api="/api/v1/sso/enforcement"]');
  assert.match(await page.locator('section.enforce').innerText(), /only through its identity providers/);
  const toggle = form.getByRole('switch', { name: 'Require single sign-on' });
  assert.equal(await toggle.isChecked(), false);
  await toggle.check();
  const breakGlass = form.getByRole('group', { name: /Keep password sign-in/ });
  await breakGlass.getByLabel(/admin@localhost/).check();
  await breakGlass.getByLabel(/rita\.admin@example\.com/).check();
  await submitAndWait(page, form.getByRole('button', { name: 'Save enforcement', exact: true }));

  await page.reload();
  assert.equal(await page.getByRole('switch', { name: 'Require single sign-on' }).isChecked(), true);
  assert.equal(await page.getByLabel(/rita\.admin@example\.com/).isChecked(), true);
  assert.equal(await page.getByLabel(/admin@localhost/).isChecked(), true);
  const enforcement = await managementApi(server, 'GET', '/api/v1/sso/enforcement');
  assert.deepEqual(enforcement, { enforced: true, breakGlass: [owner, rita].sort((a, b) => a - b) });
  await screenshot(page, 'sso-enforcement');

  // An admin manages providers but not the enforcement: the switch is shown, read-only.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/ui/login');
  await signIn(page, 'rita.admin@example.com', 'a member passphrase of some length');
  await page.waitForURL((url) => url.pathname.endsWith('/flags'));
  await openSso(page);
  const readOnly = page.getByRole('switch', { name: 'Require single sign-on' });
  assert.equal(await readOnly.isChecked(), true);
  assert.equal(await readOnly.isDisabled(), true);
  assert.equal(await page.locator('form[data-api="/api/v1/sso/enforcement"]').count(), 0);
  assert.match(await page.locator('section.enforce').innerText(), /Only owners change this\.[\s\S]*Keep password sign-in: .*rita\.admin@example\.com/);

  // Back to password sign-in for everyone, so the rest of the suite is unaffected.
  const off = await managementCall(server, 'PUT', '/api/v1/sso/enforcement', { enforced: false, breakGlass: [] });
  assert.equal(off.status, 200, JSON.stringify(off.body));
});

uiTest('a SCIM token is created on the single sign-on page, shown once, provisions, and is revoked', async (page, server) => {
  await signInAsOwner(page, server);
  await openSso(page);
  const base = (await page.locator('#scim-base').innerText()).trim();
  assert.equal(base, `${server.url}/scim/v2`);

  const form = page.locator('form.create-scim-token');
  await form.getByLabel('Token name', { exact: true }).fill('Okta provisioning');
  await form.getByRole('button', { name: 'Create SCIM token', exact: true }).click();
  const issued = page.locator('#issued-scim-token');
  await issued.waitFor({ state: 'visible' });
  const token = (await issued.locator('code').innerText()).trim();
  assert.match(token, /^flg_scim_/);
  assert.equal(await messages(page).count(), 0, 'the form shows an error');

  // The token provisions: the identity provider's first request succeeds with it.
  const config = await fetch(`${base}/ServiceProviderConfig`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(config.status, 200);
  assert.equal((await config.json()).patch.supported, true);

  await Promise.all([page.waitForEvent('load'), issued.getByRole('link', { name: 'Done', exact: true }).click()]);
  const row = page.locator('table.scim-tokens tbody tr', { hasText: 'Okta provisioning' });
  await row.locator('.status', { hasText: 'Active' }).waitFor();
  assert.ok(!(await page.content()).includes(token), 'the page shows the token again');
  await screenshot(page, 'sso-scim-tokens');

  page.once('dialog', (dialog) => dialog.accept());
  await row.getByRole('button', { name: 'Revoke', exact: true }).click();
  await row.locator('.status.revoked').waitFor();
  const refused = await fetch(`${base}/ServiceProviderConfig`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(refused.status, 401);
});
