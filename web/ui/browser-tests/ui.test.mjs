// The hosted admin UI (/ui) in headless Chromium: signing in, and what every page must not do
// (console errors, uncaught exceptions, CSP violations, HTML without a strict Content-Security-Policy).
//
// Each test gets its own browser context (no shared cookies) against one server with a fresh database.
// A failing test leaves a screenshot `failed-<test>.png` and prints the tail of the server's log.

import assert from 'node:assert/strict';
import { OWNER } from './server.mjs';
import { screenshot } from './browser.mjs';
import { heading, messages, signIn, uiSuite } from './harness.mjs';

const uiTest = uiSuite();

/** Opens the login page and checks that it answered 200. */
async function openLogin(page, server) {
  const response = await page.goto(`${server.url}/ui/login`);
  assert.equal(response.status(), 200, `GET /ui/login answered ${response.status()}`);
}

uiTest('the login page shows the sign-in form', async (page, server) => {
  await openLogin(page, server);
  assert.equal(await heading(page), 'Sign in');

  const email = page.getByLabel('Email', { exact: true });
  const password = page.getByLabel('Password', { exact: true });
  const button = page.getByRole('button', { name: 'Sign in', exact: true });
  for (const [what, locator] of [['Email', email], ['Password', password], ['Sign in button', button]]) {
    assert.ok(await locator.isVisible(), `${what} is not visible`);
  }
  assert.equal(await email.evaluate((el) => el.tagName), 'INPUT', 'the "Email" label names no <input>');
  assert.equal(await password.evaluate((el) => el.tagName), 'INPUT', 'the "Password" label names no <input>');
  assert.equal(await password.getAttribute('type'), 'password', 'the password is not typed into a password field');
  assert.equal(await messages(page).count(), 0, 'the fresh login page already shows an alert');

  await page.waitForLoadState('load');
  await screenshot(page, 'login');
});

uiTest('a wrong password keeps the user on the login page with the server\'s message', async (page, server) => {
  await openLogin(page, server);
  const alert = messages(page);
  assert.equal(await alert.count(), 0, 'the fresh login page already shows an alert');

  await signIn(page, OWNER.email, 'not the owner passphrase');

  await alert.waitFor({ state: 'visible' });
  const message = (await alert.innerText()).trim();
  assert.notEqual(message, '', 'the alert is empty');
  assert.equal(new URL(page.url()).pathname, '/ui/login', `the user was taken to ${page.url()}`);
  assert.equal(await heading(page), 'Sign in');
  assert.ok(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible(), 'the form is gone');

  await page.waitForLoadState('load');
  await screenshot(page, 'login-error');
});

uiTest('the owner signs in and lands on the flags page', async (page, server) => {
  await openLogin(page, server);
  await signIn(page, OWNER.email, OWNER.password);

  await page.waitForURL((url) => url.pathname.startsWith('/ui/t/') && url.pathname.endsWith('/flags'));
  assert.equal(await heading(page), 'Flags');

  await page.waitForLoadState('load');
  await screenshot(page, 'flags');
});

/** Signs the owner in and opens the sidebar's `section` link; checks the page's heading. */
async function openSettings(page, server, section) {
  await openLogin(page, server);
  await signIn(page, OWNER.email, OWNER.password);
  await page.waitForURL((url) => url.pathname.endsWith('/flags'));
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section, exact: true }).click();
  await page.waitForURL((url) => !url.pathname.endsWith('/flags'));
  assert.equal(await heading(page), section);
  const current = page.getByRole('navigation', { name: 'Sections' }).locator('[aria-current="page"]');
  assert.equal((await current.innerText()).trim(), section, 'the sidebar marks another section');
}

uiTest('the owner creates an API key, sees it once, copies it and revokes it', async (page, server) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await openSettings(page, server, 'API keys');

  await page.getByText('New API key', { exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill('browser-test key');
  await page.getByLabel('read', { exact: true }).check();
  await page.getByLabel('Environment', { exact: true }).selectOption('production');
  await page.getByRole('button', { name: 'Create key', exact: true }).click();

  const issued = page.locator('#issued-key');
  await issued.waitFor({ state: 'visible' });
  const plaintext = (await issued.locator('code').innerText()).trim();
  assert.match(plaintext, /^flg_/, 'the new key is shown');
  assert.ok(await issued.getByText('will not be shown again').isVisible(), 'no note that it is shown once');
  await issued.getByRole('button', { name: 'Copy', exact: true }).click();
  await issued.getByRole('button', { name: 'Copied', exact: true }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), plaintext, 'the clipboard holds another text');
  assert.equal(await messages(page).count(), 0, 'the create form shows an error');

  // Back to the list: the key is there, active, and its plaintext is not.
  await issued.getByRole('link', { name: 'Done', exact: true }).click();
  const row = page.locator('tbody tr', { hasText: 'browser-test key' });
  await row.locator('.status', { hasText: 'Active' }).waitFor();
  await page.waitForLoadState('load');
  assert.ok(await issued.isHidden(), 'the key is still shown after leaving it');
  assert.ok(!(await page.content()).includes(plaintext), 'the list shows the plaintext');
  assert.ok((await row.innerText()).includes('production'), 'the row does not show the environment');

  page.once('dialog', (dialog) => dialog.accept());
  await row.getByRole('button', { name: 'Revoke', exact: true }).click();
  await row.locator('.status.revoked').waitFor();
  assert.equal(await row.getByRole('button', { name: 'Revoke', exact: true }).count(), 0, 'a revoked key still offers Revoke');

  await page.waitForLoadState('load');
  await screenshot(page, 'keys');
});

uiTest('the owner invites a member and finds it in the audit log and its export', async (page, server) => {
  await openSettings(page, server, 'Members');
  assert.ok(await page.locator('tbody tr', { hasText: OWNER.email }).isVisible(), 'the owner is not listed');

  await page.getByText('Invite someone', { exact: true }).click();
  await page.getByLabel('Email', { exact: true }).fill('invitee@example.com');
  await page.getByLabel('Role', { exact: true }).selectOption('editor');
  await page.getByRole('button', { name: 'Send invitation', exact: true }).click();
  const invited = page.locator('table.invitations tbody tr', { hasText: 'invitee@example.com' });
  await invited.waitFor();
  assert.ok((await invited.innerText()).includes('editor'), 'the invitation shows another role');
  await page.waitForLoadState('load');
  await screenshot(page, 'members');

  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Audit log', exact: true }).click();
  await page.waitForURL((url) => url.pathname.endsWith('/audit'));
  assert.equal(await heading(page), 'Audit log');
  const event = page.locator('tbody tr', { hasText: 'invitation.create' }).first();
  await event.waitFor();
  assert.ok((await event.innerText()).includes(`user:${OWNER.email}`), 'the event names another actor');

  await page.getByLabel('Action', { exact: true }).fill('invitation.');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL((url) => url.searchParams.get('action') === 'invitation.');
  assert.equal(await page.locator('tbody tr').count(), await page.locator('tbody tr', { hasText: 'invitation.' }).count(),
    'the filter shows other actions');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'CSV', exact: true }).click(),
  ]);
  const stream = await download.createReadStream();
  let csv = '';
  for await (const chunk of stream) csv += chunk;
  assert.ok(csv.includes('invitation.create'), `the export lacks the event: ${csv.slice(0, 300)}`);
  assert.equal(download.suggestedFilename().endsWith('.csv'), true);

  await page.waitForLoadState('load');
  await screenshot(page, 'audit');
});
