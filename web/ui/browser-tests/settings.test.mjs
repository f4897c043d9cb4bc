// The Settings pages for roles and the plan in the browser: a custom role is created with two
// permissions through its form (after the server refused it without any), shown in the permission
// grid, given to a member on the members page, edited, refused deletion while held and deleted with
// confirmation; the plan and usage page counts the flags created; times read relative and their title
// holds the exact time in the browser's time zone.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { heading, mailedLink, managementApi, managementCall, messages, signInAsOwner, uiSuite } from './harness.mjs';

const uiTest = uiSuite();

/** Invites `email` as a viewer and accepts the mailed invitation through the API. */
async function addMember(server, email) {
  const invited = await managementCall(server, 'POST', '/api/v1/invitations', { email, role: 'viewer' });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));
  const token = new URL(await mailedLink(server, email, 'accept-invitation')).searchParams.get('token');
  const accepted = await fetch(`${server.url}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, password: 'a member passphrase of some length', name: 'Rita Release' }),
  });
  assert.equal(accepted.status, 200, await accepted.text());
}

/** Opens the sidebar's `section` link and waits for its page. */
async function openSection(page, section) {
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section, exact: true }).click(),
  ]);
  assert.equal(await heading(page), section);
}

/** Submits the form around `button` and waits for the reload that follows success. */
async function submitAndWait(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** The grid cell of `permission` for the role whose column is headed `roleKey`. */
async function gridCell(page, permission, roleKey) {
  const heads = await page.locator('table.grid thead th').allInnerTexts();
  const column = heads.findIndex((text) => text.split(/\s+/).includes(roleKey));
  assert.ok(column > 0, `no column for ${roleKey} in ${heads.join(' | ')}`);
  const row = page.locator('table.grid tbody tr').filter({ has: page.locator('th code', { hasText: new RegExp(`^${permission}$`) }) });
  return row.locator('th, td').nth(column);
}

uiTest('a custom role is created, shown in the grid, assigned, edited and deleted with confirmation', async (page, server) => {
  await addMember(server, 'rita@example.com');
  await signInAsOwner(page, server);
  await openSection(page, 'Roles');

  // Without permissions the server refuses the role, and says why in the form.
  await page.getByText('New custom role', { exact: true }).click();
  const form = page.locator('form[data-api="/api/v1/roles"]');
  await form.getByLabel('Key', { exact: true }).fill('release-manager');
  await form.getByLabel('Name', { exact: true }).fill('Release manager');
  await form.getByRole('button', { name: 'Create role', exact: true }).click();
  const refusal = messages(form);
  await refusal.waitFor({ state: 'visible' });
  assert.match(await refusal.innerText(), /at least one permission/);

  // Two permissions: reading flags, and changing them in production only.
  await form.locator('input[value="flags:read"]').check();
  await form.locator('input[value="flags:write:production"]').check();
  await submitAndWait(page, form.getByRole('button', { name: 'Create role', exact: true }));
  const role = page.locator('section.role[data-role="release-manager"]');
  await role.waitFor();
  assert.deepEqual(await role.locator('.tag').allInnerTexts(), ['flags:read', 'flags:write:production']);
  assert.match(await (await gridCell(page, 'flags:write', 'release-manager')).innerText(), /only in production/);
  assert.match(await (await gridCell(page, 'flags:toggle', 'release-manager')).innerText(), /only in production\s*with flags:write/);
  assert.match(await (await gridCell(page, 'keys:manage', 'release-manager')).innerText(), /not granted/);
  assert.match(await (await gridCell(page, 'flags:read', 'release-manager')).innerText(), /granted/);
  await page.waitForLoadState('load');
  await screenshot(page, 'roles');

  // Given to a member on the members page.
  await openSection(page, 'Members');
  const member = page.locator('table.members tbody tr', { hasText: 'rita@example.com' });
  const select = member.getByLabel('Role of rita@example.com', { exact: true });
  assert.equal(await select.locator('option[value="release-manager"]').innerText(), 'Release manager (custom)');
  await select.selectOption('release-manager');
  await submitAndWait(page, member.getByRole('button', { name: 'Change role', exact: true }));
  assert.equal(await page.locator('table.members tbody tr', { hasText: 'rita@example.com' })
    .getByLabel('Role of rita@example.com', { exact: true }).inputValue(), 'release-manager');

  // Edited: audit:read added, production writes widened to every environment.
  await openSection(page, 'Roles');
  assert.match(await page.locator('table.grid thead').innerText(), /custom · 1 member/);
  await role.getByText('Edit Release manager', { exact: true }).click();
  const edit = role.locator('form[data-method="PUT"]');
  assert.equal(await edit.locator('input[value="flags:write:production"]').isChecked(), true, 'the form lost a permission');
  await edit.getByLabel('Name', { exact: true }).fill('Release lead');
  await edit.locator('input[value="audit:read"]').check();
  await edit.locator('input[value="flags:write:production"]').uncheck();
  await edit.locator('input[value="flags:write"]').check();
  await submitAndWait(page, edit.getByRole('button', { name: 'Save role', exact: true }));
  assert.deepEqual(await role.locator('.tag').allInnerTexts(), ['flags:read', 'flags:write', 'audit:read']);
  assert.match(await role.locator('h3').innerText(), /Release lead/);
  assert.match(await (await gridCell(page, 'audit:read', 'release-manager')).innerText(), /granted/);
  assert.match(await (await gridCell(page, 'flags:write', 'release-manager')).innerText(), /every environment/);

  // Deleting asks first; while a member holds it the server refuses, and the form says so.
  let asked = '';
  page.once('dialog', (dialog) => { asked = dialog.message(); dialog.accept(); });
  const remove = role.locator('form[data-method="DELETE"]');
  await remove.getByRole('button', { name: 'Delete role', exact: true }).click();
  await messages(remove).waitFor({ state: 'visible' });
  assert.match(asked, /Delete the role Release lead\?/);
  assert.match(await messages(remove).innerText(), /held by members/);

  // Once nobody holds it: declining the question changes nothing, accepting deletes the role.
  await openSection(page, 'Members');
  await page.locator('table.members tbody tr', { hasText: 'rita@example.com' })
    .getByLabel('Role of rita@example.com', { exact: true }).selectOption('viewer');
  await submitAndWait(page, page.locator('table.members tbody tr', { hasText: 'rita@example.com' })
    .getByRole('button', { name: 'Change role', exact: true }));
  await openSection(page, 'Roles');
  page.once('dialog', (dialog) => dialog.dismiss());
  await role.getByRole('button', { name: 'Delete role', exact: true }).click();
  assert.equal(await role.count(), 1, 'a dismissed question deleted the role');
  page.once('dialog', (dialog) => dialog.accept());
  await submitAndWait(page, role.getByRole('button', { name: 'Delete role', exact: true }));
  assert.equal(await role.count(), 0, 'the role is still shown');
  assert.equal(await page.locator('table.grid thead').innerText().then((t) => t.includes('release-manager')), false);
  await page.getByText('No custom roles yet.').waitFor();
});

uiTest('the plan and usage page counts the flags created', async (page, server) => {
  for (const key of ['usage-one', 'usage-two', 'usage-three']) {
    await managementApi(server, 'POST', '/api/v1/flags', { key, description: key });
  }
  const listed = await managementApi(server, 'GET', '/api/v1/flags');
  assert.ok(listed.length >= 3, `the API lists ${listed.length} flags`);

  await signInAsOwner(page, server);
  await openSection(page, 'Plan and usage');
  const flags = page.locator('tr[data-limit="limit-flags"]');
  assert.equal((await flags.locator('.used').innerText()).trim(), String(listed.length));
  assert.equal((await flags.locator('.allowed').innerText()).trim(), 'unlimited');
  assert.match(await page.locator('.plan').innerText(), /Self-hosted|self-hosted/);
  assert.match(await page.locator('.plan').innerText(), /Billing period: \w+ \d{4}/);
  const report = await managementApi(server, 'GET', '/api/v1/usage');
  assert.equal(report.usage.flags, listed.length, 'the page and the API count differently');
  await page.waitForLoadState('load');
  await screenshot(page, 'usage');
});

uiTest('a time reads relative and its title holds the exact time in the browser\'s time zone', async (page, server) => {
  await managementApi(server, 'POST', '/api/v1/flags', { key: 'timed-flag', description: 'when' });
  await signInAsOwner(page, server);
  const time = page.locator('tbody tr', { hasText: 'timed-flag' }).locator('time');
  assert.match((await time.innerText()).trim(), /^(just now|\d+ minutes? ago)$/);
  const { title, expected, datetime } = await time.evaluate((el) => ({
    title: el.title,
    datetime: el.dateTime,
    expected: new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' }).format(new Date(el.dateTime)),
  }));
  assert.match(datetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(title, expected, 'the title is not the exact local time');
  const serverTitle = `${datetime.slice(0, 10)} ${datetime.slice(11, 19)} UTC`;
  assert.notEqual(title, serverTitle, 'app.js left the server\'s UTC title');
});
