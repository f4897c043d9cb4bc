// Crash groups in the browser: crash reports and exposures are sent with the evaluation key, the
// server's own rollup job counts the exposures, then the Crashes page lists the groups with their
// counts and filters them by flag, a group's page draws each variant's crash rate as a bar against
// the flag's exposures, the flag's results link back to its crash groups, and a viewer reads both
// pages with no edit control.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { EVALUATION_KEY } from './server.mjs';
import { heading, mailedLink, managementApi as api, managementCall, signIn, signInAsOwner, uiSuite } from './harness.mjs';

// The rollup reads rows at once instead of 10 s after they were written.
const uiTest = uiSuite({ env: { FLAGENT_ANALYTICS__ROLLUP_HORIZON_MS: '0' } });

/** How long the background rollup may take to count the exposures. */
const ROLLUP_DEADLINE_MS = 30_000;

/** Sends `items` as `field` to the ingestion route `path` with the production evaluation key; all must be accepted. */
async function ingest(server, path, field, items) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${EVALUATION_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ [field]: items }),
  });
  const answer = await response.json();
  assert.equal(response.status, 202, JSON.stringify(answer));
  assert.equal(answer.accepted, items.length, JSON.stringify(answer));
}

/** A crash report of `errorType` in `Checkout.pay` from `entity`, `minutes` ago, with `flags` active. */
function crash(errorType, entity, minutes, flags = {}) {
  return {
    platform: 'web', appVersion: '4.2.0', errorType, entityID: entity, timestamp: Date.now() - minutes * 60_000, flags,
    message: "Cannot read properties of undefined (reading 'total')",
    frames: [
      { function: 'Checkout.pay', file: 'https://cdn.example.com/static/js/main.3f2a9c1b.js:12:17', line: 12 },
      { function: 'submit', file: 'https://cdn.example.com/static/js/main.3f2a9c1b.js', line: 52 },
    ],
  };
}

/** Opens the production environment, then the sidebar's Crashes page. */
async function openCrashes(page) {
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('navigation', { name: 'Environments' }).getByRole('link', { name: /production/i }).click(),
  ]);
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Crashes', exact: true }).click(),
  ]);
  assert.equal(await heading(page), 'Crashes');
}

/** Polls the flag's results until both variants' exposures are counted, or fails at the deadline. */
async function exposuresCounted(server, id) {
  const deadline = Date.now() + ROLLUP_DEADLINE_MS;
  let last = null;
  while (Date.now() < deadline) {
    last = await api(server, 'GET', `/api/v1/flags/${id}/results`, undefined, 'production');
    const rows = last.metrics.find((m) => m.metric === 'crash_rate')?.variants ?? [];
    if (rows.length === 2 && rows.every((v) => v.exposed === 100)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the rollup did not count the exposures in time; the last results: ${JSON.stringify(last)}`);
}

uiTest('crash groups list their counts and a group draws each variant\'s crash rate against its exposures', async (page, server) => {
  const flag = await api(server, 'POST', '/api/v1/flags', { key: 'checkout', description: 'checkout test', template: 'experiment' });
  const hourAgo = Date.now() - 3_600_000;
  const exposures = ['control', 'treatment'].flatMap((variant) =>
    Array.from({ length: 100 }, (_, i) => ({ flagKey: 'checkout', variantKey: variant, entityID: `${variant}-${i}`, timestamp: hourAgo })));
  await ingest(server, '/api/v1/exposures', 'exposures', exposures);
  // 3 of 100 control entities crash, 12 of 100 treatment entities; then one RangeError under no flag.
  await ingest(server, '/api/v1/crashes', 'crashes', [
    ...Array.from({ length: 3 }, (_, i) => crash('TypeError', `control-${i}`, 30, { checkout: 'control' })),
    ...Array.from({ length: 12 }, (_, i) => crash('TypeError', `treatment-${i}`, 20, { checkout: 'treatment' })),
    crash('RangeError', 'someone', 5),
  ]);
  const results = await exposuresCounted(server, flag.id);
  const rates = Object.fromEntries(results.metrics.find((m) => m.metric === 'crash_rate').variants.map((v) => [v.variant, v.value]));

  await signInAsOwner(page, server);
  await openCrashes(page);
  const rows = page.locator('table.crashes tbody tr');
  assert.deepEqual(await rows.locator('.error-type').allInnerTexts(), ['RangeError', 'TypeError'], 'the newest group first');
  const typeError = rows.filter({ hasText: 'TypeError' });
  assert.equal(await typeError.locator('.occurrences').innerText(), '15');
  assert.equal(await typeError.locator('.entities').innerText(), '15');
  assert.equal(await typeError.locator('.versions').innerText(), '4.2.0');
  assert.match(await typeError.locator('.last-seen time').innerText(), /^\d+ minutes ago$/);
  assert.match(await typeError.locator('.message').innerText(), /reading 'total'/);
  await screenshot(page, 'crashes');

  // Only the group with crashes under the flag.
  await Promise.all([page.waitForEvent('load'), page.getByLabel('Flag', { exact: true }).selectOption('checkout')]);
  assert.deepEqual(await rows.locator('.error-type').allInnerTexts(), ['TypeError']);
  assert.equal(new URL(page.url()).searchParams.get('flag'), 'checkout');

  await Promise.all([page.waitForEvent('load'), rows.getByRole('link', { name: 'TypeError', exact: true }).click()]);
  assert.equal(await heading(page), 'TypeError');
  assert.deepEqual(await page.locator('ol.frames code.function').allInnerTexts(), ['Checkout.pay', 'submit']);
  assert.equal(await page.locator('table.recent-crashes tbody tr').count(), 15);
  const chart = page.locator('.rate-result[data-flag="checkout"]');
  const figures = {};
  for (const variant of ['control', 'treatment']) {
    const row = chart.locator(`table tr[data-variant="${variant}"]`);
    figures[variant] = {
      crashes: await row.locator('.crashes').innerText(),
      exposed: await row.locator('.exposed').innerText(),
      rate: await row.locator('.rate').innerText(),
    };
  }
  assert.deepEqual(figures, {
    control: { crashes: '3', exposed: '100', rate: '0.0300' },
    treatment: { crashes: '12', exposed: '100', rate: '0.120' },
  });
  assert.deepEqual(rates, { control: 0.03, treatment: 0.12 }, 'the results count the same crash rates');
  // Each bar is its rate on one axis: the treatment's is four times the control's, as drawn.
  const control = chart.locator('svg rect.bar[data-variant="control"]');
  const treatment = chart.locator('svg rect.bar[data-variant="treatment"]');
  assert.equal(await control.getAttribute('width'), '50.4');
  assert.equal(await treatment.getAttribute('width'), '201.6');
  const [drawnControl, drawnTreatment] = [await control.boundingBox(), await treatment.boundingBox()];
  assert.ok(drawnControl.width > 0, 'the control bar is drawn');
  assert.ok(Math.abs(drawnTreatment.width / drawnControl.width - 4) < 0.05, `${drawnTreatment.width} is not 4 × ${drawnControl.width}`);
  assert.notEqual(await control.evaluate((el) => getComputedStyle(el).fill), await treatment.evaluate((el) => getComputedStyle(el).fill));
  assert.equal(await treatment.locator('title').textContent(), 'treatment: 12 crashes among 100 exposed entities, 0.120 per entity');
  await screenshot(page, 'crash-group');

  // The flag's results link its crash rate to its crash groups.
  await Promise.all([page.waitForEvent('load'), chart.getByRole('link', { name: 'checkout', exact: true }).click()]);
  assert.equal(await heading(page), 'Experiment: checkout');
  const crashRate = page.locator('[data-metric="crash_rate"]');
  await Promise.all([page.waitForEvent('load'), crashRate.getByRole('link', { name: 'Crash groups under checkout', exact: true }).click()]);
  assert.equal(await heading(page), 'Crashes');
  assert.equal(await page.getByLabel('Flag', { exact: true }).inputValue(), 'checkout');
  assert.deepEqual(await rows.locator('.error-type').allInnerTexts(), ['TypeError']);
});

uiTest('a viewer reads the crash pages without any edit control', async (page, server) => {
  await ingest(server, '/api/v1/crashes', 'crashes', [crash('ViewerError', 'v-1', 1)]);
  const invited = await managementCall(server, 'POST', '/api/v1/invitations', { email: 'crash-viewer@example.com', role: 'viewer' });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));
  const token = new URL(await mailedLink(server, 'crash-viewer@example.com', 'accept-invitation')).searchParams.get('token');
  const accepted = await fetch(`${server.url}/api/v1/invitations/accept`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, password: 'a viewer passphrase of some length', name: 'Cora Crash' }),
  });
  assert.equal(accepted.status, 200, await accepted.text());
  await page.goto(`${server.url}/ui/login`);
  await signIn(page, 'crash-viewer@example.com', 'a viewer passphrase of some length');
  await page.waitForURL((url) => url.pathname.endsWith('/flags'));

  await openCrashes(page);
  assert.deepEqual(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allInnerTexts(),
    ['Flags', 'Debug Console', 'Metrics', 'Crashes', 'Roles', 'Plan and usage']);
  const row = page.locator('table.crashes tbody tr', { hasText: 'ViewerError' });
  assert.equal(await row.locator('.occurrences').innerText(), '1');
  assert.equal(await page.locator('form[data-api]').count(), 1, 'only the sign-out form is on the page');
  await Promise.all([page.waitForEvent('load'), row.getByRole('link', { name: 'ViewerError', exact: true }).click()]);
  assert.equal(await heading(page), 'ViewerError');
  assert.match(await page.locator('#rates-h').locator('xpath=..').innerText(), /No report of this group named an active flag variant/);
  assert.equal(await page.locator('form[data-api]').count(), 1, 'only the sign-out form is on the page');
  assert.equal(await page.getByRole('button').count(), 1, 'only the sign-out button');
  await screenshot(page, 'crash-group-viewer');
});
