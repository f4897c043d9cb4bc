// A flag's history in the browser: compare two versions and restore an earlier one, checked against
// the evaluation API.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { heading, managementApi as api, signInAsOwner, uiSuite } from './harness.mjs';

const uiTest = uiSuite();

uiTest('an earlier version is compared with the current one and restored', async (page, server) => {
  const flag = await api(server, 'POST', '/api/v1/flags', { key: 'history-demo', description: 'Rolled back', template: 'boolean' });
  await api(server, 'PUT', `/api/v1/flags/${flag.id}/enabled`, { enabled: true });
  const variant = async () =>
    (await api(server, 'POST', '/api/v1/evaluation', { flagID: flag.id, entityID: 'user-7', entityContext: {} })).variantKey;
  assert.equal(await variant(), 'on');
  // The change to undo: nobody gets the flag any more.
  const segment = (await api(server, 'GET', `/api/v1/flags/${flag.id}`)).segments[0];
  await api(server, 'PUT', `/api/v1/flags/${flag.id}/segments/${segment.id}`, { description: segment.description, rolloutPercent: 0 });
  assert.equal(await variant(), undefined, 'a 0% rollout still serves a variant');

  await signInAsOwner(page, server);
  await page.getByRole('link', { name: 'history-demo' }).click();
  await page.getByRole('link', { name: 'History', exact: true }).click();
  assert.equal(await heading(page), 'History of history-demo');

  // The newest two are compared at first: the rollout went from 100 to 0.
  const diff = page.locator('.diff');
  assert.match(await diff.locator('.line.removed').allInnerTexts().then((t) => t.join('\n')), /"rolloutPercent": 100/);
  assert.match(await diff.locator('.line.added').allInnerTexts().then((t) => t.join('\n')), /"rolloutPercent": 0/);
  const current = page.locator('table.history tbody tr').first();
  assert.match(await current.innerText(), /current/);
  assert.match(await current.innerText(), /segments/);
  await screenshot(page, 'history');

  // Restore the version before it, after the question.
  const previous = page.locator('table.history tbody tr').nth(1);
  const version = (await previous.locator('th').innerText()).trim();
  let question = '';
  page.once('dialog', (dialog) => {
    question = dialog.message();
    dialog.accept();
  });
  await Promise.all([page.waitForEvent('load'), previous.getByRole('button', { name: /^Restore/ }).click()]);
  assert.match(question, new RegExp(`Restore version ${version.slice(1)} of this flag in Development`));
  assert.equal(await variant(), 'on', 'the restored version does not serve its variant');

  // The restore is the newest version; compared with the one before, the rollout is back.
  const newest = page.locator('table.history tbody tr').first();
  assert.match(await newest.innerText(), /current/);
  assert.match(await diff.locator('.line.added').allInnerTexts().then((t) => t.join('\n')), /"rolloutPercent": 100/);

  // Any two versions: the first and the restored one configure the same targeting, but the first was off.
  const rows = page.locator('table.history tbody tr');
  const count = await rows.count();
  await rows.nth(count - 1).getByRole('radio', { name: /Compare from/ }).check();
  await rows.nth(0).getByRole('radio', { name: /Compare to/ }).check();
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Compare selected' }).click()]);
  const texts = async (kind) => (await diff.locator(`.line.${kind} code`).allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(await texts('removed'), ['"enabled": false,']);
  assert.deepEqual(await texts('added'), ['"enabled": true,']);
});
