// A flag's funnel in the browser: exposures and events sent with an API key are rolled up by the
// server's own background job, then the funnel page (reached from the experiments page) is asked for
// three steps and a window through its form, and draws each variant's bars (heights in proportion to
// the share of the exposed, whiskers for the intervals, the step-to-step rates as labels) with the
// table and the completion line the API's figures give; a refused query shows the API's message at
// the steps.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { EVALUATION_KEY } from './server.mjs';
import { heading, managementApi as api, managementCall, messages, signInAsOwner, uiSuite } from './harness.mjs';

// The rollup reads rows at once instead of 10 s after they were written.
const uiTest = uiSuite({ env: { FLAGENT_ANALYTICS__ROLLUP_HORIZON_MS: '0' } });

/** How long the background rollup may take to show what was sent. */
const ROLLUP_DEADLINE_MS = 30_000;
const HOUR = 3_600_000;
const STEPS = ['visit', 'signup', 'purchase'];

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

/** Polls the funnel API until each variant's step counts are `expected`, or fails at the deadline. */
async function rolledUp(server, id, query, expected) {
  const deadline = Date.now() + ROLLUP_DEADLINE_MS;
  let last = null;
  while (Date.now() < deadline) {
    last = await api(server, 'GET', `/api/v1/flags/${id}/funnel?${query}`, undefined, 'production');
    const counts = Object.fromEntries(last.variants.map((v) => [v.variant, v.steps.map((s) => s.entities)]));
    if (JSON.stringify(counts) === JSON.stringify(expected)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the rollup did not show the data in time; the last funnel: ${JSON.stringify(last)}`);
}

/** A share as the page writes it: one decimal, two under 1%. */
const percent = (v) => {
  const p = v * 100;
  return p !== 0 && Math.abs(p) < 1 ? `${p.toFixed(2)}%` : `${p.toFixed(1)}%`;
};

/** A p-value as the page states it: four decimals under 0.01, three under 0.1, two above. */
const pStatement = (p) => (p < 0.0001 ? 'p < 0.0001' : `p = ${p.toFixed(p < 0.01 ? 4 : p < 0.1 ? 3 : 2)}`);

/** Where the chart draws share `v` on its 0–100% scale (232 at 0, 24 at 100%), to a tenth. */
const y = (v) => Math.round((232 - 208 * v) * 10) / 10;

uiTest('the funnel page draws each variant\'s steps as bars with intervals and refuses a one-step funnel', async (page, server) => {
  for (const key of STEPS) {
    const made = await managementCall(server, 'POST', '/api/v1/metrics', { key, name: `Did ${key}`, kind: 'conversion', event: key, windowHours: 72 });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  }
  const flag = await api(server, 'POST', '/api/v1/flags', { key: 'onboarding', description: 'funnel test', template: 'experiment' });
  const exposedAt = Date.now() - 10 * HOUR;
  await ingest(server, '/api/v1/exposures', 'exposures', ['control', 'treatment'].flatMap((variant) =>
    Array.from({ length: 100 }, (_, i) => ({ flagKey: 'onboarding', variantKey: variant, entityID: `${variant}-${i}`, timestamp: exposedAt }))));
  // Control: 60 visit, 30 sign up, 10 buy; treatment: 80, 50, 20, each an hour after the step before.
  const plan = { control: [60, 30, 10], treatment: [80, 50, 20] };
  const sent = Object.entries(plan).flatMap(([variant, counts]) => counts.flatMap((count, s) =>
    Array.from({ length: count }, (_, i) => ({ key: STEPS[s], entityID: `${variant}-${i}`, timestamp: exposedAt + (s + 1) * HOUR }))));
  await ingest(server, '/api/v1/events', 'events', sent);
  const funnel = await rolledUp(server, flag.id, 'steps=visit,signup,purchase&windowHours=4', plan);

  await signInAsOwner(page, server);
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('navigation', { name: 'Environments' }).getByRole('link', { name: /production/i }).click(),
  ]);
  await page.getByRole('link', { name: 'onboarding', exact: true }).click();
  await page.getByRole('link', { name: 'Experiment', exact: true }).click();
  await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: 'Funnel', exact: true }).click()]);
  assert.equal(await heading(page), 'Funnel: onboarding');
  assert.equal(await page.locator('svg.funnel').count(), 0, 'no funnel before one is asked for');

  for (const [s, key] of STEPS.entries()) await page.getByLabel(`Step ${s + 1}`, { exact: true }).selectOption(key);
  await page.getByLabel('Window (hours after the first step)').fill('4');
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Show the funnel', exact: true }).click()]);
  assert.equal(new URL(page.url()).searchParams.getAll('step').join(','), STEPS.join(','));
  assert.equal(await page.getByLabel('Step 3', { exact: true }).inputValue(), 'purchase');

  const bar = (variant, step) => page.locator(`svg.funnel g.funnel-bar[data-variant="${variant}"][data-step="${step}"]`);
  for (const [v, figures] of funnel.variants.entries()) {
    for (const [s, step] of STEPS.entries()) {
      const f = figures.steps[s];
      const g = bar(figures.variant, step);
      assert.equal(await g.getAttribute('class'), `funnel-bar series-${v}`);
      const rect = g.locator('rect.bar');
      assert.equal(Number(await rect.getAttribute('y')), y(f.overall));
      assert.equal(Number(await rect.getAttribute('height')), Math.round((232 - y(f.overall)) * 10) / 10);
      const whisker = g.locator('line.whisker');
      assert.equal(Number(await whisker.getAttribute('y1')), y(f.overallCi95[1]));
      assert.equal(Number(await whisker.getAttribute('y2')), y(f.overallCi95[0]));
      assert.equal(await g.locator('text.rate-label').textContent(), percent(f.rate));
      const row = page.locator(`table.funnel-table tbody[data-step="${step}"] tr[data-variant="${figures.variant}"]`);
      assert.equal(await row.locator('.entities').innerText(), String(plan[figures.variant][s]));
      assert.equal(await row.locator('.rate-figure').innerText(), percent(f.rate));
      assert.equal(await row.locator('.rate .ci').innerText(), `${percent(f.rateCi95[0])} to ${percent(f.rateCi95[1])}`);
      assert.equal(await row.locator('.overall-figure').innerText(), percent(f.overall));
      assert.equal(await row.locator('.overall .ci').innerText(), `${percent(f.overallCi95[0])} to ${percent(f.overallCi95[1])}`);
    }
  }
  // The drawn bars keep the shares' proportions: treatment's 80% visit against control's 60%.
  const drawn = async (variant, step) => (await bar(variant, step).locator('rect.bar').boundingBox()).height;
  const ratio = (await drawn('control', 'visit')) / (await drawn('treatment', 'visit'));
  assert.ok(Math.abs(ratio - 0.75) < 0.01, `bar heights in proportion 0.75, not ${ratio}`);
  assert.equal(await bar('treatment', 'purchase').locator('text.rate-label').textContent(), '40.0%');

  const completion = funnel.variants[1].completion;
  const signed = (v) => `${v >= 0 ? '+' : '\u2212'}${(Math.abs(Math.round(v * 1000)) / 10).toFixed(1)}%`;
  assert.equal(
    await page.locator('li.completion[data-variant="treatment"]').innerText(),
    `treatment completes 20.0% against 10.0% for control: difference ${signed(completion.absDiff)} (95% interval ${signed(completion.ci95[0])} to ${signed(completion.ci95[1])}), ${pStatement(completion.pValue)}.`,
  );
  await screenshot(page, 'funnel');

  // One step only: the API's refusal at the steps, and no chart.
  await page.getByLabel('Step 2', { exact: true }).selectOption('');
  await page.getByLabel('Step 3', { exact: true }).selectOption('');
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Show the funnel', exact: true }).click()]);
  const note = page.locator('#funnel-steps-error');
  assert.equal(await note.innerText(), 'a funnel has 2 to 10 steps (metric keys separated by commas), not 1');
  assert.equal(await page.getByLabel('Step 1', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Step 1', { exact: true }).inputValue(), 'visit');
  assert.match(await messages(page).innerText(), /a funnel has 2 to 10 steps/);
  assert.equal(await page.locator('svg.funnel').count(), 0);
  await screenshot(page, 'funnel-refused');
});
