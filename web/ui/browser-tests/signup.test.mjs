// Signing up in the browser: the signup form, the mailed confirmation link (read from the server's
// log, where mail goes when no SMTP server is configured), and the first sign-in of the new owner.

import assert from 'node:assert/strict';
import { screenshot } from './browser.mjs';
import { TIMEOUT_MS, heading, messages, signIn, uiSuite } from './harness.mjs';

const uiTest = uiSuite({ env: { FLAGENT_AUTH__SIGNUP_ENABLED: 'true' } });

/** The confirmation link mailed to `email`, once the mail relay (every 2 s) has written it to the log. */
async function mailedLink(server, email) {
  const deadline = Date.now() + TIMEOUT_MS;
  const pattern = /https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_-]+/;
  while (Date.now() < deadline) {
    // The mail's body follows its `to=` on the next lines of the log.
    const log = server.log();
    const start = log.indexOf(`to=${email}`);
    const found = start >= 0 ? log.slice(start).match(pattern) : null;
    if (found) return found[0];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no confirmation link for ${email} in the server's log`);
}

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
  const link = await mailedLink(server, email);
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
