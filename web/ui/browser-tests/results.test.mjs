// Experiment results and metric definitions in the browser: exposures and events sent with an API key
// are rolled up by the server's own background job, then the experiments page shows each metric's
// table with the lift's interval bar and the status, warns about a deliberately skewed split, and
// changes the experiment's settings through its form; the metrics page defines metrics through its
// form (refused first at the field the API names), lists them and deletes one.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { EVALUATION_KEY } from './server.mjs';
import { TIMEOUT_MS, heading, managementApi as api, managementCall, messages, signInAsOwner, uiSuite } from './harness.mjs';

// The rollup reads rows at once instead of 10 s after they were written.
const uiTest = uiSuite({ env: { FLAGENT_ANALYTICS__ROLLUP_HORIZON_MS: '0' } });

/** How long the background rollup may take to show what was sent. */
const ROLLUP_DEADLINE_MS = 30_000;

/** Sends `items` to the ingestion route `path` with the production evaluation key; all must be accepted. */
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

/** Exposes entities `${prefix}-0` … of `count` to `variant` of flag `flag`, an hour ago. */
function exposures(flag, variant, prefix, count) {
  const timestamp = Date.now() - 3_600_000;
  return Array.from({ length: count }, (_, i) => ({ flagKey: flag, variantKey: variant, entityID: `${prefix}-${i}`, timestamp }));
}

/** `${prefix}-0` … of `count` each send `key` half an hour ago. */
function events(key, prefix, count) {
  const timestamp = Date.now() - 1_800_000;
  return Array.from({ length: count }, (_, i) => ({ key, entityID: `${prefix}-${i}`, timestamp }));
}

/** A 50/50 flag whose experiment is decided on the metric `purchase`; returns its id. */
async function experiment(server, key) {
  const flag = await api(server, 'POST', '/api/v1/flags', { key, description: `${key} test`, template: 'experiment' });
  await api(server, 'PUT', `/api/v1/flags/${flag.id}/experiment`, { controlVariant: 'control', primaryMetric: 'purchase' });
  return flag.id;
}

/** Polls the results API until `ready(results)` holds, or fails at the deadline. */
async function rolledUp(server, id, ready) {
  const deadline = Date.now() + ROLLUP_DEADLINE_MS;
  let last = null;
  while (Date.now() < deadline) {
    last = await api(server, 'GET', `/api/v1/flags/${id}/results`, undefined, 'production');
    if (ready(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the rollup did not show the data in time; the last results: ${JSON.stringify(last)}`);
}

/** The row of `variant` in the primary metric's results. */
const primaryRow = (results, variant) => results.metrics[0].variants.find((v) => v.variant === variant);

/** Opens flag `key`'s experiments page in production: the environment's flags list, the flag, its experiment. */
async function openExperiment(page, key) {
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('navigation', { name: 'Environments' }).getByRole('link', { name: /production/i }).click(),
  ]);
  await page.getByRole('link', { name: key, exact: true }).click();
  await page.getByRole('link', { name: 'Experiment', exact: true }).click();
  assert.equal(await heading(page), `Experiment: ${key}`);
}

uiTest('results show each metric with its lift bar and status, and warn about a skewed split', async (page, server) => {
  const metric = await managementCall(server, 'POST', '/api/v1/metrics', { key: 'purchase', name: 'Purchase', kind: 'conversion', event: 'purchase' });
  assert.equal(metric.status, 201, JSON.stringify(metric.body));
  const pricing = await experiment(server, 'pricing');
  const skewed = await experiment(server, 'skewed');
  // Pricing: 300 entities per variant; 30 control entities buy, 150 treatment entities.
  await ingest(server, '/api/v1/exposures', 'exposures', [
    ...exposures('pricing', 'control', 'c', 300), ...exposures('pricing', 'treatment', 't', 300),
  ]);
  await ingest(server, '/api/v1/events', 'events', [...events('purchase', 'c', 30), ...events('purchase', 't', 150)]);
  // Skewed: 300 against 100 on a 50/50 split.
  await ingest(server, '/api/v1/exposures', 'exposures', [
    ...exposures('skewed', 'control', 'sc', 300), ...exposures('skewed', 'treatment', 'st', 100),
  ]);
  const results = await rolledUp(server, pricing, (r) => primaryRow(r, 'treatment')?.value === 0.5 && primaryRow(r, 'control')?.value === 0.1);
  await rolledUp(server, skewed, (r) => r.srm?.observed?.treatment === 100);
  assert.equal(primaryRow(results, 'treatment').status, 'significant_better', JSON.stringify(results));

  await signInAsOwner(page, server);
  await openExperiment(page, 'pricing');
  const table = page.locator('[data-metric="purchase"] table');
  const control = table.locator('tr[data-variant="control"]');
  const treatment = table.locator('tr[data-variant="treatment"]');
  assert.equal(await control.locator('.exposed').innerText(), '300');
  assert.equal(await control.locator('.value').innerText(), '10.0%');
  assert.match(await control.innerText(), /Control/);
  assert.equal(await treatment.locator('.value').innerText(), '50.0%');
  assert.equal(await treatment.locator('.lift-figure').innerText(), '+400.0%');
  assert.equal(await treatment.locator('.badge').innerText(), 'Treatment is better');
  const bar = treatment.getByRole('img', { name: /^Lift \+400\.0%, 95% interval \+\d+\.\d% to \+\d+\.\d%/ });
  assert.equal(await bar.getAttribute('class'), 'interval better');
  const [lo, hi] = primaryRow(results, 'treatment').relCi95.map((v) => `+${(Math.round(v * 1000) / 10).toFixed(1)}%`);
  assert.match(await bar.locator('title').textContent(), new RegExp(`95% interval \\${lo} to \\${hi}`));
  assert.equal(await page.locator('.srm-warning').count(), 0);
  assert.ok(await page.locator('[data-metric="error_rate"]').isVisible(), 'the built-in guardrails are shown');
  await screenshot(page, 'results');

  // The settings form: Benjamini–Hochberg instead of Holm, sent to the API and shown after the reload.
  await page.getByText("Change the experiment's settings", { exact: true }).click();
  await page.getByLabel('Correction across secondary metrics').selectOption('benjamini_hochberg');
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Save settings', exact: true }).click()]);
  assert.match(await page.locator('dl.settings-list').innerText(), /Benjamini–Hochberg/);
  const settings = await api(server, 'GET', `/api/v1/flags/${pricing}/experiment`);
  assert.deepEqual(settings, { flagId: pricing, controlVariant: 'control', primaryMetric: 'purchase', secondaryMetrics: [], correction: 'benjamini_hochberg' });

  await openExperiment(page, 'skewed');
  const warning = page.locator('.srm-warning');
  assert.match(
    await warning.innerText(),
    /^Sample ratio mismatch: the exposures per variant \(control 300, treatment 100\) do not match the configured split \(control 50%, treatment 50%\), p < 0\.0001; results may be biased\.$/,
  );
  const skewedRow = page.locator('[data-metric="purchase"] tr[data-variant="treatment"]');
  assert.equal(await skewedRow.locator('.badge').innerText(), 'Collecting data');
  await screenshot(page, 'results-srm');
});

uiTest('metrics are defined on the metrics page, refused at the field the API names, and deleted', async (page, server) => {
  await signInAsOwner(page, server);
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Metrics', exact: true }).click(),
  ]);
  assert.equal(await heading(page), 'Metrics');
  assert.match(await page.locator('tr[data-metric="error_rate"]').innerText(), /Built in/);

  await page.getByText('New metric', { exact: true }).click();
  const form = page.locator('form[data-api="/api/v1/metrics"]');
  const key = form.getByLabel('Key', { exact: true });
  await key.fill('Bad Key');
  await form.getByLabel('Event', { exact: true }).fill('signup');
  await form.getByRole('button', { name: 'Create metric', exact: true }).click();
  const note = form.locator('#metric-key-error');
  await note.waitFor();
  assert.match(await note.innerText(), /key must be 1 to 128 characters/);
  assert.equal(await key.getAttribute('aria-invalid'), 'true');
  assert.match(await messages(form).innerText(), /key must be/);
  await screenshot(page, 'metrics-refused');

  await key.fill('signup_done');
  await form.getByLabel('Name', { exact: true }).fill('Signed up');
  await Promise.all([page.waitForEvent('load'), form.getByRole('button', { name: 'Create metric', exact: true }).click()]);
  const signup = page.locator('tr[data-metric="signup_done"]');
  assert.match(await signup.innerText(), /Signed up\s+signup_done[\s\S]*conversion[\s\S]*signup[\s\S]*higher is better[\s\S]*7 days/);

  // A quantile metric: only the fields its kind takes are shown, and sent.
  await page.getByText('New metric', { exact: true }).click();
  await key.fill('latency_p95');
  await form.getByLabel('Kind', { exact: true }).selectOption('quantile');
  assert.ok(await form.getByLabel('Quantile', { exact: true }).isVisible());
  assert.ok(!(await form.getByLabel('Cap per entity (winsorize at)').isVisible()));
  await form.getByLabel('Event', { exact: true }).fill('request');
  await form.getByLabel('Value property', { exact: true }).fill('ms');
  await form.getByLabel('Quantile', { exact: true }).fill('0.95');
  await form.getByLabel('Direction', { exact: true }).selectOption('decrease');
  await form.getByLabel('Window (hours after exposure)').fill('36');
  await Promise.all([page.waitForEvent('load'), form.getByRole('button', { name: 'Create metric', exact: true }).click()]);
  const latency = page.locator('tr[data-metric="latency_p95"]');
  assert.match(await latency.innerText(), /value from property ms; p95[\s\S]*lower is better[\s\S]*36 hours/);
  const stored = await api(server, 'GET', '/api/v1/metrics/latency_p95');
  assert.equal(stored.quantile, 0.95);
  assert.equal(stored.winsorizeAt, null);
  await screenshot(page, 'metrics');

  page.once('dialog', (dialog) => dialog.accept());
  await Promise.all([page.waitForEvent('load'), latency.getByRole('button', { name: 'Delete the metric latency_p95' }).click()]);
  await signup.waitFor({ timeout: TIMEOUT_MS });
  assert.equal(await page.locator('tr[data-metric="latency_p95"]').count(), 0);
});
