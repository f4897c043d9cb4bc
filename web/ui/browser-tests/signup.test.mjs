// Signing up in the browser: the signup form, the mailed confirmation link (read from the server's
// log, where mail goes when no SMTP server is configured), and the first sign-in of the new owner.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { heading, mailedLink, messages, signIn, uiSuite } from './harness.mjs';

const uiTest = uiSuite({ env: { FLAGENT_AUTH__SIGNUP_ENABLED: 'true' } });

uiTest('a new organisation signs up, confirms its email and signs in', async (page, server) => {
  const email = 'founder@startup.example';
  const password = 'a long enough passphrase';
  await page.goto(`${server.url}/ui/login`);
  await page.getByRole('link', { name: 'Create an organisation' }).click();
  assert.equal(await heading(page), 'Create an organisation');
  await page.getByLabel('Organisation', { exact: true }).fill('Startup');
  await page.getByLabel('Your name', { exact: true }).fill('Founder');
  await page.getByLabel('Email', { exact: true }).fill(email);
  // A short password is refused with the server's message.
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await messages(page).waitFor({ state: 'visible' });
  await screenshot(page, 'signup');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/ui/signup/sent'),
    page.getByRole('button', { name: 'Create organisation' }).click(),
  ]);
  assert.equal(await heading(page), 'Check your email');

  // Before confirming, the account cannot use its organisation.
  const link = await mailedLink(server, email, 'verify-email');
  await page.goto(link);
  assert.equal(await heading(page), 'Confirm your email address');
  await screenshot(page, 'verify');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/ui/login'),
    page.getByRole('button', { name: 'Confirm email address' }).click(),
  ]);
  assert.match(await page.getByRole('status').innerText(), /confirmed/);

  await signIn(page, email, password);
  await page.waitForURL((url) => url.pathname.startsWith('/ui/t/') && url.pathname.endsWith('/flags'));
  assert.equal(await heading(page), 'Flags');
  const organisation = page.getByLabel('Organisation', { exact: true });
  assert.equal(await organisation.locator('option:checked').innerText(), 'Startup');
});
