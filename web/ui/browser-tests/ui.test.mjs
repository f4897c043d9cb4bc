// The hosted admin UI (/ui) in headless Chromium: signing in, and what every page must not do
// (console errors, uncaught exceptions, CSP violations, HTML without a strict Content-Security-Policy).
//
// Each test gets its own browser context (no shared cookies) against one server with a fresh database.
// A failing test leaves a screenshot `failed-<test>.png` and prints the tail of the server's log.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OWNER } from './server.mjs';
import { launchBrowser, screenshot, watch } from './browser.mjs';

/** How long one locator or navigation waits for its condition. */
const TIMEOUT_MS = 15_000;

let server;
let browser;
let failed = false;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server) {
    if (failed) {
      const tail = server.log().split('\n').slice(-100).join('\n');
      console.error(`--- the server's log (last 100 lines) ---\n${tail}\n--- end of the server's log ---`);
    }
    await server.stop();
  }
});

/**
 * A test with a fresh page; after `body` passes, the page must have shown at least one HTML document,
 * and none of the watcher's problems.
 */
function uiTest(name, body) {
  test(name, async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(TIMEOUT_MS);
    context.setDefaultNavigationTimeout(TIMEOUT_MS);
    const page = await context.newPage();
    const watcher = await watch(page);
    let bodyPassed = false;
    try {
      await body(page);
      bodyPassed = true;
      assert.ok(watcher.documents.length > 0, 'no HTML page was loaded, so none was checked');
      assert.deepEqual(await watcher.problems(), [], 'the pages misbehaved');
    } catch (err) {
      failed = true;
      const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
      await screenshot(page, `failed-${slug}`).catch(() => {});
      const problems = bodyPassed ? [] : await watcher.problems();
      if (problems.length && err instanceof Error) err.message += `\nalso seen on the page:\n  ${problems.join('\n  ')}`;
      throw err;
    } finally {
      await context.close();
    }
  });
}

/** Opens the login page and checks that it answered 200. */
async function openLogin(page) {
  const response = await page.goto(`${server.url}/ui/login`);
  assert.equal(response.status(), 200, `GET /ui/login answered ${response.status()}`);
}

/** The page's only <h1>, trimmed. */
async function heading(page) {
  const h1 = page.locator('h1');
  await h1.waitFor();
  return (await h1.innerText()).trim();
}

/** Elements with role="alert" that say something (an empty live region waiting for a message is fine). */
function messages(page) {
  return page.getByRole('alert').filter({ hasText: /\S/ });
}

/** Fills the sign-in form and submits it. */
async function signIn(page, email, password) {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

uiTest('the login page shows the sign-in form', async (page) => {
  await openLogin(page);
  assert.equal(await heading(page), 'Sign in');

  const email = page.getByLabel('Email', { exact: true });
  const password = page.getByLabel('Password', { exact: true });
  const button = page.getByRole('button', { name: 'Sign in', exact: true });
  for (const [what, locator] of [['Email', email], ['Password', password], ['Sign in button', button]]) {
    assert.ok(await locator.isVisible(), `${what} is not visible`);
  }
  assert.equal(await email.evaluate((el) => el.tagName), 'INPUT', 'the "Email" label names no <input>');
  assert.equal(await password.evaluate((el) => el.tagName), 'INPUT', 'the "Password" label names no <input>');
  assert.equal(await password.getAttribute('type'), 'password', 'the password is not typed into a password field');
  assert.equal(await messages(page).count(), 0, 'the fresh login page already shows an alert');

  await page.waitForLoadState('load');
  await screenshot(page, 'login');
});

uiTest('a wrong password keeps the user on the login page with the server\'s message', async (page) => {
  await openLogin(page);
  const alert = messages(page);
  assert.equal(await alert.count(), 0, 'the fresh login page already shows an alert');

  await signIn(page, OWNER.email, 'not the owner passphrase');

  await alert.waitFor({ state: 'visible' });
  const message = (await alert.innerText()).trim();
  assert.notEqual(message, '', 'the alert is empty');
  assert.equal(new URL(page.url()).pathname, '/ui/login', `the user was taken to ${page.url()}`);
  assert.equal(await heading(page), 'Sign in');
  assert.ok(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible(), 'the form is gone');

  await page.waitForLoadState('load');
  await screenshot(page, 'login-error');
});

uiTest('the owner signs in and lands on the flags page', async (page) => {
  await openLogin(page);
  await signIn(page, OWNER.email, OWNER.password);

  await page.waitForURL((url) => url.pathname.startsWith('/ui/t/') && url.pathname.endsWith('/flags'));
  assert.equal(await heading(page), 'Flags');

  await page.waitForLoadState('load');
  await screenshot(page, 'flags');
});
