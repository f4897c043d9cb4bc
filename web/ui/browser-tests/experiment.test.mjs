// The experiments view in the browser: a 50/50 experiment evaluated through the API shows its served
// counts, its charts (SVG drawn by the server) and its sample-ratio check.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { heading, managementApi as api, signInAsOwner, uiSuite } from './harness.mjs';

const uiTest = uiSuite();

uiTest('an experiment shows what each variant served against its configured split', async (page, server) => {
  const flag = await api(server, 'POST', '/api/v1/flags', { key: 'pricing-test', description: 'Pricing page', template: 'experiment' });
  await api(server, 'PUT', `/api/v1/flags/${flag.id}/enabled`, { enabled: true });
  const entities = Array.from({ length: 200 }, (_, i) => ({ entityID: `visitor-${i}`, entityContext: {} }));
  const batch = await api(server, 'POST', '/api/v1/evaluation/batch', { entities, flagIDs: [flag.id] });
  const tally = {};
  for (const r of batch.evaluationResults) tally[r.variantKey] = (tally[r.variantKey] ?? 0) + 1;

  await signInAsOwner(page, server);
  await page.getByRole('link', { name: 'pricing-test' }).click();
  await page.getByRole('link', { name: 'Experiment', exact: true }).click();
  assert.equal(await heading(page), 'Experiment: pricing-test');
  for (const [variant, count] of Object.entries(tally)) {
    const row = page.locator('table.split tbody tr', { hasText: variant });
    assert.equal(await row.locator('td').first().innerText(), String(count), `${variant} served`);
  }
  assert.equal(await page.locator('figure.chart svg').count(), 2);
  assert.equal(await page.locator('figure.chart polyline').count(), 4);
  assert.ok(await page.getByRole('img', { name: 'Observed share of each variant over time' }).isVisible());
  assert.match(await page.locator('.srm').innerText(), /Consistent with the configured split|Sample ratio mismatch/);
  await screenshot(page, 'experiment');

  await page.getByRole('link', { name: 'Last 7 days' }).click();
  assert.equal(await page.locator('.ranges [aria-current]').innerText(), 'Last 7 days');
  assert.match(await page.locator('#split-h + p').innerText(), /^200 evaluations/);
});
