// The flag workflow in the browser: create a flag, give it variants and a segment with two
// constraints and a 50/50 split, turn it on in development only, and read the variant the Debug
// Console shows, checked against the evaluation API.

import assert from 'node:assert/strict';
import { OWNER } from './server.mjs';
import { screenshot } from './browser.mjs';
import { heading, mailedLink, managementApi, managementCall, messages, signIn, signInAsOwner, uiSuite } from './harness.mjs';

const uiTest = uiSuite();

/** Submits the form around `button` and waits for the page it leads to (a reload or `data-next`). */
async function submitAndWait(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

uiTest('a flag is built, turned on in development only, and explained in the Debug Console', async (page, server) => {
  await signInAsOwner(page, server);

  // Create it, blank.
  await page.getByText('New flag', { exact: true }).click();
  await page.getByLabel('Key', { exact: true }).fill('new-checkout');
  await page.getByLabel('Description', { exact: true }).fill('The new checkout flow');
  await page.getByLabel('Template', { exact: true }).selectOption('');
  await Promise.all([
    page.waitForURL(/\/flags\/\d+/),
    page.getByRole('button', { name: 'Create flag' }).click(),
  ]);
  assert.equal(await heading(page), 'new-checkout');
  const flagUrl = new URL(page.url());
  const flagId = Number(flagUrl.pathname.split('/').pop());

  // Two variants; a bad attachment is refused as it is typed.
  for (const key of ['control', 'treatment']) {
    const adder = page.locator('details', { hasText: 'Add a variant' });
    await adder.getByText('Add a variant', { exact: true }).click();
    await adder.getByLabel('Key', { exact: true }).fill(key);
    const attachment = adder.getByLabel('Attachment (JSON)', { exact: true });
    await attachment.fill('{"color": ');
    assert.equal(await attachment.getAttribute('aria-invalid'), 'true', 'invalid JSON is not marked');
    await attachment.fill(`{"color": "${key === 'control' ? 'grey' : 'green'}"}`);
    assert.equal(await attachment.getAttribute('aria-invalid'), null, 'valid JSON is still marked');
    await submitAndWait(page, adder.getByRole('button', { name: 'Add variant' }));
  }

  // A segment with two constraints.
  const segmentAdder = page.locator('details', { hasText: 'Add a segment' });
  await segmentAdder.getByText('Add a segment', { exact: true }).click();
  await segmentAdder.getByLabel('Description', { exact: true }).fill('Canadian users on recent apps');
  await submitAndWait(page, page.getByRole('button', { name: 'Add segment' }));
  const segment = page.locator('li.segment').first();
  const constraintForm = segment.locator('form.constraint-form[data-method="POST"]');
  for (const [property, operator, kind, label, value] of [
    ['country', 'EQ', 'text', 'Text', 'CA'],
    ['app.version', 'GTE', 'version', 'Version', '2.1.0'],
  ]) {
    await constraintForm.getByLabel('Property', { exact: true }).fill(property);
    await constraintForm.getByLabel('Operator', { exact: true }).selectOption(operator);
    await constraintForm.getByLabel('Value type', { exact: true }).selectOption(kind);
    await constraintForm.getByLabel(label, { exact: true }).fill(value);
    await submitAndWait(page, constraintForm.getByRole('button', { name: 'Add constraint' }));
  }
  assert.deepEqual(await segment.locator('ul.constraints li.constraint > code:last-of-type').allInnerTexts(), ['"CA"', 'semver:"2.1.0"']);
  // The server's own validation message is shown in the form.
  await constraintForm.getByLabel('Property', { exact: true }).fill('plan');
  await constraintForm.getByLabel('Operator', { exact: true }).selectOption('IN');
  await constraintForm.getByLabel('Value type', { exact: true }).selectOption('literal');
  await constraintForm.getByLabel('Literal', { exact: true }).fill('not a list');
  await constraintForm.getByRole('button', { name: 'Add constraint' }).click();
  const refusal = messages(constraintForm);
  await refusal.waitFor({ state: 'visible' });
  assert.match(await refusal.innerText(), /\S/);
  assert.equal(await segment.locator('ul.constraints li').count(), 2, 'the refused constraint was added');

  // 50/50: the form cannot be sent until the shares add up to 100.
  const save = segment.getByRole('button', { name: 'Save distribution' });
  await segment.getByLabel('control', { exact: true }).fill('50');
  assert.equal(await save.isDisabled(), true, 'a 50% total can be saved');
  await segment.getByLabel('treatment', { exact: true }).fill('50');
  assert.equal(await segment.locator('[data-sum-total]').innerText(), '100');
  assert.equal(await save.isDisabled(), false, 'a 100% total cannot be saved');
  await submitAndWait(page, save);
  assert.equal(await page.locator('li.segment').first().getByLabel('treatment', { exact: true }).inputValue(), '50');

  // On in development (the first environment) only.
  await submitAndWait(page, page.getByRole('button', { name: 'Turn on' }));
  assert.equal(await page.locator('.toggle .status').innerText(), 'On');
  await screenshot(page, 'flag');
  const sections = page.getByRole('navigation', { name: 'Sections' });
  await sections.getByRole('link', { name: 'Flags', exact: true }).click();
  const row = page.locator('tr', { has: page.getByRole('link', { name: 'new-checkout' }) });
  assert.deepEqual(await row.locator('td .status').allInnerTexts(), ['On', 'Off'], 'development on, production off');

  // The Debug Console gives the variant the evaluation API gives.
  await sections.getByRole('link', { name: 'Debug Console' }).click();
  assert.equal(await heading(page), 'Debug Console');
  const context = { country: 'CA', app: { version: '2.3.0' } };
  await page.getByLabel('Flag', { exact: true }).selectOption('new-checkout');
  await page.getByLabel('Entity ID', { exact: true }).fill('user-42');
  await page.getByLabel('Context (JSON object)', { exact: true }).fill(JSON.stringify(context));
  await submitAndWait(page, page.getByRole('button', { name: 'Evaluate' }));
  const result = page.locator('article.result');
  const shown = (await result.locator('.variant strong').innerText()).trim();
  const answer = await managementApi(server, 'POST', '/api/v1/evaluation', { flagID: flagId, entityID: 'user-42', entityContext: context });
  assert.equal(shown, answer.variantKey, `the console shows ${shown}, the API gives ${JSON.stringify(answer)}`);
  assert.equal(await result.locator('.reason').innerText(), 'SPLIT');
  assert.match(await result.locator('ol.debug-log li.matched').innerText(), /bucket \d+ is in window/);
  await screenshot(page, 'debug');

  // Outside the segment: no variant, and the log names the constraint that failed.
  await page.getByLabel('Context (JSON object)', { exact: true }).fill('{"country": "US", "app": {"version": "2.3.0"}}');
  await submitAndWait(page, page.getByRole('button', { name: 'Evaluate' }));
  assert.equal(await result.locator('.reason').innerText(), 'DEFAULT');
  assert.match(await result.locator('ol.debug-log').innerText(), /country/);

  // Every step is in the audit log, by the owner: the flag, two variants, the segment, two
  // constraints, the distribution and turning it on.
  await sections.getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('Resource', { exact: true }).fill(`flag:${flagId}`);
  await submitAndWait(page, page.getByRole('button', { name: 'Filter' }));
  const rows = page.locator('table.audit tbody tr');
  const actions = await rows.locator('th').allInnerTexts();
  assert.ok(actions.length >= 8, `only ${actions.length} events for the flag: ${actions.join(', ')}`);
  assert.ok(actions.includes('flag.create'), actions.join(', '));
  const actors = new Set(await rows.locator('td:nth-child(2)').allInnerTexts());
  assert.deepEqual([...actors], [`user:${OWNER.email}`]);
});

uiTest('segments are reordered and the configuration is copied to production', async (page, server) => {
  await signInAsOwner(page, server);
  await page.getByText('New flag', { exact: true }).click();
  await page.getByLabel('Key', { exact: true }).fill('checkout-experiment');
  await page.getByLabel('Description', { exact: true }).fill('Checkout experiment');
  await page.getByLabel('Template', { exact: true }).selectOption('experiment');
  await Promise.all([page.waitForURL(/\/flags\/\d+/), page.getByRole('button', { name: 'Create flag' }).click()]);

  const adder = page.locator('details', { hasText: 'Add a segment' });
  await adder.getByText('Add a segment', { exact: true }).click();
  await adder.getByLabel('Description', { exact: true }).fill('Beta testers');
  await submitAndWait(page, adder.getByRole('button', { name: 'Add segment' }));
  const titles = () => page.locator('li.segment h3').allInnerTexts();
  assert.deepEqual(await titles(), ['Everyone', 'Beta testers']);

  await submitAndWait(page, page.getByRole('button', { name: 'Move Beta testers up' }));
  assert.deepEqual(await titles(), ['Beta testers', 'Everyone'], 'the new order was not saved');

  page.once('dialog', (dialog) => dialog.accept());
  await Promise.all([
    page.waitForURL((url) => url.pathname.endsWith('/flags')),
    page.getByRole('button', { name: 'Copy configuration' }).click(),
  ]);
  await page.getByRole('navigation', { name: 'Environments' }).getByRole('link', { name: 'Production' }).click();
  await page.getByRole('link', { name: 'checkout-experiment' }).click();
  assert.deepEqual(await titles(), ['Beta testers', 'Everyone'], 'production did not get the configuration');
  const development = page.locator('table.compare tr', { hasText: 'Development' });
  assert.equal(await development.locator('td').last().innerText(), 'Same as here');
  await screenshot(page, 'flag-production');
});

uiTest('flags are turned on and off together from the list', async (page, server) => {
  await signInAsOwner(page, server);
  for (const key of ['bulk-one', 'bulk-two']) {
    await page.getByText('New flag', { exact: true }).click();
    await page.getByLabel('Key', { exact: true }).fill(key);
    await page.getByLabel('Description', { exact: true }).fill(`Bulk ${key}`);
    await Promise.all([page.waitForURL(/\/flags\/\d+/), page.getByRole('button', { name: 'Create flag' }).click()]);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Flags', exact: true }).click();
  }
  const turnOn = page.getByRole('button', { name: 'Turn on in Development' });
  assert.equal(await turnOn.isDisabled(), true, 'nothing is selected, yet the button works');
  await page.getByLabel('Select bulk-one').check();
  await page.getByLabel('Select bulk-two').check();
  assert.equal(await page.locator('[data-bulk-count]').innerText(), '2 selected');
  await submitAndWait(page, turnOn);
  for (const key of ['bulk-one', 'bulk-two']) {
    const row = page.locator('tr', { has: page.getByRole('link', { name: key, exact: true }) });
    assert.deepEqual(await row.locator('td .status').allInnerTexts(), ['On', 'Off'], key);
  }
});

uiTest('a viewer sees flags without edit controls, and the API refuses their changes', async (page, server) => {
  const flag = await managementApi(server, 'POST', '/api/v1/flags', { key: 'viewer-visible', description: 'Seen by a viewer', template: 'boolean' });
  const invited = await managementCall(server, 'POST', '/api/v1/invitations', { email: 'viewer@example.com', role: 'viewer' });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));

  await page.goto(await mailedLink(server, 'viewer@example.com', 'accept-invitation'));
  assert.equal(await heading(page), 'Accept the invitation');
  await page.getByLabel('Your name', { exact: true }).fill('Vera Viewer');
  await page.getByLabel('New password', { exact: true }).fill('viewer passphrase 1');
  await Promise.all([page.waitForURL((url) => url.pathname === '/ui/login'), page.getByRole('button', { name: 'Join' }).click()]);
  await signIn(page, 'viewer@example.com', 'viewer passphrase 1');
  await page.waitForURL((url) => url.pathname.endsWith('/flags'));

  assert.equal(await page.getByText('New flag', { exact: true }).count(), 0, 'a viewer is offered a new flag');
  const sections = page.getByRole('navigation', { name: 'Sections' });
  // Metrics, crashes, roles and the plan's usage need only flags:read; keys, members and the audit log
  // are not offered.
  assert.deepEqual(await sections.getByRole('link').allInnerTexts(), ['Flags', 'Debug Console', 'Metrics', 'Crashes', 'Roles', 'Plan and usage'],
    'a viewer is shown settings they cannot open');
  assert.equal(await page.locator('input[data-bulk-item]').count(), 0, 'a viewer is offered bulk changes');
  await page.getByRole('link', { name: 'viewer-visible' }).click();
  assert.equal(await heading(page), 'viewer-visible');
  assert.equal(await page.locator('form[data-api]').count(), 1, 'only the sign-out form is on the page');
  assert.equal(await page.getByRole('button', { name: 'Turn on' }).count(), 0);
  await screenshot(page, 'flag-viewer');

  // Sending the change anyway, with the session's own CSRF token, is refused.
  const status = await page.evaluate(async (id) => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('flagent_csrf=')).split('=')[1];
    const response = await fetch(`/api/v1/flags/${id}/enabled`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'X-Tenant-ID': document.body.dataset.tenant },
      body: JSON.stringify({ enabled: true }),
    });
    return response.status;
  }, flag.id);
  assert.equal(status, 403);
});
