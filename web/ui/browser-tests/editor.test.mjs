// The flag editor's finer controls in the browser: prerequisites and the default variant, checked
// against the evaluation API and OFREP; constraint values typed with the list editor and the regex
// tester, then evaluated; and the Debug Console's recent contexts, kept in the browser across reloads.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { heading, managementCall as api, messages, signInAsOwner, uiSuite } from './harness.mjs';

const uiTest = uiSuite();

/** Creates a flag from `template` and turns it on in development; returns it. */
async function flagOn(server, key, template) {
  const created = await api(server, 'POST', '/api/v1/flags', { key, description: `The ${key} flag`, template });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const on = await api(server, 'PUT', `/api/v1/flags/${created.body.id}/enabled`, { enabled: true });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  return created.body;
}

/** The variant the evaluation API gives `flagKey` for `entityContext` in development (undefined for none). */
async function evaluated(server, flagKey, entityContext = {}) {
  const { status, body } = await api(server, 'POST', '/api/v1/evaluation', { flagKey, entityID: 'user-1', entityContext });
  assert.equal(status, 200, JSON.stringify(body));
  return { variant: body.variantKey, reason: body.reason };
}

/** Opens the flag's page in development from the flags list. */
async function openFlag(page, key) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Flags', exact: true }).click();
  await page.getByRole('link', { name: key, exact: true }).click();
  assert.equal(await heading(page), key);
}

/** Submits the form around `button` and waits for the reload. */
async function submitAndWait(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

uiTest('a prerequisite and a default variant set on the page decide evaluation and OFREP', async (page, server) => {
  const gate = await api(server, 'POST', '/api/v1/flags', { key: 'gate', description: 'The gate', template: 'boolean' });
  assert.equal(gate.status, 200, JSON.stringify(gate.body));
  const checkout = await flagOn(server, 'checkout', 'multivariate');
  assert.deepEqual(await evaluated(server, 'checkout'), { variant: 'control', reason: 'TARGETING_MATCH' });

  await signInAsOwner(page, server);
  await openFlag(page, 'checkout');
  const section = page.locator('section', { has: page.getByRole('heading', { name: 'Prerequisites' }) });
  await section.getByText('Add a prerequisite', { exact: true }).click();
  const variant = section.getByLabel('Variant', { exact: true });
  // Until a flag is chosen only "any variant" is offered; then that flag's variants.
  assert.deepEqual(await variant.locator('option:enabled').allInnerTexts(), ['any variant']);
  await section.getByLabel('Flag', { exact: true }).selectOption('gate');
  assert.deepEqual(await variant.locator('option:enabled').allInnerTexts(), ['any variant', 'on', 'off']);
  await variant.selectOption('on');
  await submitAndWait(page, section.getByRole('button', { name: 'Add prerequisite' }));
  assert.equal(
    (await section.locator('li.prerequisite > span').innerText()).replace(/\s+/g, ' ').trim(),
    'requires flag gate to yield variant on',
  );

  // The gate is off: checkout yields nothing. On: checkout's own segment decides again.
  assert.deepEqual(await evaluated(server, 'checkout'), { variant: undefined, reason: 'PREREQUISITE_FAILED' });
  const on = await api(server, 'PUT', `/api/v1/flags/${gate.body.id}/enabled`, { enabled: true });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  assert.deepEqual(await evaluated(server, 'checkout'), { variant: 'control', reason: 'TARGETING_MATCH' });

  // Changed to any variant of the gate.
  const row = section.locator('li.prerequisite');
  await row.getByText('Change', { exact: true }).click();
  const changed = row.getByLabel('Variant', { exact: true });
  assert.equal(await changed.inputValue(), 'on');
  await changed.selectOption('');
  await submitAndWait(page, row.getByRole('button', { name: 'Save prerequisite' }));
  assert.equal((await row.locator('> span').innerText()).replace(/\s+/g, ' ').trim(), 'requires flag gate to yield any variant');
  const stored = await api(server, 'GET', `/api/v1/flags/${checkout.id}`);
  assert.deepEqual(stored.body.dependsOn, [{ flagKey: 'gate', variantKey: null }]);

  // The default variant answers OFREP when no segment matches.
  const segment = checkout.segments[0].id;
  const constraint = await api(server, 'POST', `/api/v1/flags/${checkout.id}/segments/${segment}/constraints`,
    { property: 'country', operator: 'EQ', value: '"CA"' });
  assert.equal(constraint.status, 200, JSON.stringify(constraint.body));
  await page.reload();
  await page.getByRole('combobox', { name: 'Default variant', exact: true }).selectOption('treatment');
  await submitAndWait(page, page.getByRole('button', { name: 'Save default variant' }));
  assert.equal(await page.getByRole('combobox', { name: 'Default variant', exact: true }).inputValue(), 'treatment');
  const ofrep = async (country) => {
    const { status, body } = await api(server, 'POST', '/ofrep/v1/evaluate/flags/checkout', { context: { targetingKey: 'user-1', country } });
    assert.equal(status, 200, JSON.stringify(body));
    return { variant: body.variant, reason: body.reason };
  };
  assert.deepEqual(await ofrep('US'), { variant: 'treatment', reason: 'DEFAULT' });
  assert.deepEqual(await ofrep('CA'), { variant: 'control', reason: 'TARGETING_MATCH' });

  // A cycle is refused by the API, and its message is shown in the form.
  await openFlag(page, 'gate');
  const gateSection = page.locator('section', { has: page.getByRole('heading', { name: 'Prerequisites' }) });
  await gateSection.getByText('Add a prerequisite', { exact: true }).click();
  await gateSection.getByLabel('Flag', { exact: true }).selectOption('checkout');
  await gateSection.getByRole('button', { name: 'Add prerequisite' }).click();
  const refusal = messages(gateSection);
  await refusal.waitFor({ state: 'visible' });
  assert.equal(await refusal.innerText(), 'prerequisites would form a cycle: gate -> checkout -> gate');
  assert.equal(await gateSection.locator('li.prerequisite').count(), 0);

  await openFlag(page, 'checkout');
  await page.locator('li.constraint').getByText('Edit constraint', { exact: true }).click();
  await screenshot(page, 'flag-editor');
});

uiTest('constraints written with the list editor and the regex tester evaluate as written', async (page, server) => {
  const flag = await flagOn(server, 'targeting', 'multivariate');
  await signInAsOwner(page, server);
  await openFlag(page, 'targeting');
  const segment = page.locator('li.segment').first();
  const adder = segment.locator('form.constraint-form[data-method="POST"]');
  const kind = adder.getByLabel('Value type', { exact: true });
  const sent = adder.locator('output[data-shows="value"]');

  // IN takes a list: one item per line, sent as a JSON array.
  await adder.getByLabel('Property', { exact: true }).fill('country');
  await adder.getByLabel('Operator', { exact: true }).selectOption('IN');
  assert.equal(await kind.inputValue(), 'list', 'IN did not switch to the list editor');
  assert.equal(await adder.getByLabel('Text', { exact: true }).isVisible(), false);
  await adder.getByLabel('Items, one per line', { exact: true }).fill('CA\n US \n\n');
  assert.equal(await sent.innerText(), '["CA","US"]');
  await submitAndWait(page, adder.getByRole('button', { name: 'Add constraint' }));
  assert.equal(await segment.locator('li.constraint code').nth(1).innerText(), '["CA","US"]');

  // EREG takes a pattern, tested as it is typed.
  await adder.getByLabel('Property', { exact: true }).fill('email');
  await adder.getByLabel('Operator', { exact: true }).selectOption('EREG');
  assert.equal(await kind.inputValue(), 'regex');
  const pattern = adder.getByLabel('Pattern', { exact: true });
  const sample = adder.getByLabel('Test with', { exact: true });
  const result = adder.locator('output.regex-result');
  await pattern.fill('^beta-\\d+@');
  await sample.fill('beta-42@example.com');
  assert.equal(await result.innerText(), 'Matches');
  await sample.fill('alpha@example.com');
  assert.equal(await result.innerText(), 'No match');
  await pattern.fill('^(beta');
  assert.match(await result.innerText(), /^JavaScript cannot read this pattern/);
  assert.equal(await pattern.getAttribute('aria-invalid'), 'true');
  // JavaScript reads a look-ahead, the server's regular expressions do not: the server's word stands.
  await pattern.fill('^(?=beta)');
  assert.equal(await result.innerText(), 'No match');
  await adder.getByRole('button', { name: 'Add constraint' }).click();
  const refusal = messages(adder);
  await refusal.waitFor({ state: 'visible' });
  assert.match(await refusal.innerText(), /is not a valid regular expression/);
  await pattern.fill('^beta-\\d+@');
  assert.equal(await sent.innerText(), '"^beta-\\\\d+@"');
  await submitAndWait(page, adder.getByRole('button', { name: 'Add constraint' }));

  // A version is checked before it is sent.
  await adder.getByLabel('Operator', { exact: true }).selectOption('GTE');
  assert.equal(await kind.inputValue(), 'number');
  await kind.selectOption('version');
  const version = adder.getByLabel('Version', { exact: true });
  await version.fill('2.1');
  assert.equal(await version.getAttribute('aria-invalid'), 'true');
  await version.fill('2.1.0');
  assert.equal(await version.getAttribute('aria-invalid'), null);
  assert.equal(await sent.innerText(), 'semver:"2.1.0"');

  const variant = async (context) => (await evaluated(server, 'targeting', context)).variant;
  assert.equal(await variant({ country: 'CA', email: 'beta-7@example.com' }), 'control');
  assert.equal(await variant({ country: 'FR', email: 'beta-7@example.com' }), undefined);
  assert.equal(await variant({ country: 'US', email: 'alpha@example.com' }), undefined);

  // The edit form opens the list in the list editor; adding a line widens the audience.
  const listed = segment.locator('li.constraint').first();
  await listed.getByText('Edit constraint', { exact: true }).click();
  const items = listed.getByLabel('Items, one per line', { exact: true });
  assert.equal(await items.inputValue(), 'CA\nUS');
  await items.fill('CA\nUS\nFR');
  await submitAndWait(page, listed.getByRole('button', { name: 'Save constraint' }));
  assert.equal(await segment.locator('li.constraint code').nth(1).innerText(), '["CA","US","FR"]');
  assert.equal(await variant({ country: 'FR', email: 'beta-7@example.com' }), 'control');
  const stored = await api(server, 'GET', `/api/v1/flags/${flag.id}`);
  assert.deepEqual(stored.body.segments[0].constraints.map((c) => [c.operator, c.value]),
    [['IN', '["CA","US","FR"]'], ['EREG', '"^beta-\\\\d+@"']]);
});

uiTest('the Debug Console offers the recent contexts again after a reload', async (page, server) => {
  await flagOn(server, 'recent', 'multivariate');
  await signInAsOwner(page, server);
  const sections = page.getByRole('navigation', { name: 'Sections' });
  await sections.getByRole('link', { name: 'Debug Console' }).click();
  const recent = page.locator('section.recent');
  assert.equal(await recent.isVisible(), false, 'a fresh browser shows recent contexts');
  const entity = page.getByLabel('Entity ID', { exact: true });
  const context = page.getByLabel('Context (JSON object)', { exact: true });
  const evaluate = async (id, text) => {
    await entity.fill(id);
    await context.fill(text);
    await submitAndWait(page, page.getByRole('button', { name: 'Evaluate' }));
  };
  await evaluate('user-1', '{"plan": "pro"}');
  await evaluate('user-2', '{"plan": "free"}');
  await evaluate('user-1', '{ "plan":"pro" }');
  // A context the server could not read was not evaluated, so it is not remembered.
  const refused = new URL(page.url());
  refused.searchParams.set('entity', 'user-3');
  refused.searchParams.set('context', '{nope');
  await page.goto(refused.href);
  assert.match(await messages(page).innerText(), /not valid JSON/);
  const entries = () => recent.locator('ol.recent-list li').allInnerTexts();
  assert.deepEqual(await entries(), ['user-1 {"plan":"pro"}', 'user-2 {"plan":"free"}']);

  // A fresh load of the console, without the last request in its address.
  await sections.getByRole('link', { name: 'Debug Console' }).click();
  assert.equal(await entity.inputValue(), '');
  await recent.getByRole('button', { name: 'user-2 {"plan":"free"}' }).click();
  assert.equal(await entity.inputValue(), 'user-2');
  assert.equal(await context.inputValue(), '{"plan":"free"}');
  await submitAndWait(page, page.getByRole('button', { name: 'Evaluate' }));
  const result = page.locator('article.result', { has: page.getByRole('heading', { name: 'recent', exact: true }) });
  assert.equal(await result.locator('.variant strong').innerText(), 'control');
  assert.deepEqual(await entries(), ['user-2 {"plan":"free"}', 'user-1 {"plan":"pro"}']);

  // Another environment keeps its own list; Clear forgets this one.
  await page.getByRole('navigation', { name: 'Environments' }).getByRole('link', { name: 'Production' }).click();
  assert.equal(await recent.isVisible(), false, 'production shows development\'s contexts');
  await page.getByRole('navigation', { name: 'Environments' }).getByRole('link', { name: 'Development' }).click();
  await recent.getByRole('button', { name: 'Clear' }).click();
  assert.equal(await recent.isVisible(), false);
  await page.reload();
  assert.equal(await recent.isVisible(), false, 'cleared contexts came back');
});
