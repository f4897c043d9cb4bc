// What every browser test file shares: one server and one browser per file, a test wrapper that
// checks the pages for console errors, uncaught exceptions and CSP violations and leaves a screenshot
// when it fails, and the steps most tests start with.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, MANAGEMENT_KEY, OWNER } from './server.mjs';
import { launchBrowser, screenshot, watch } from './browser.mjs';

/** How long one locator or navigation waits for its condition. */
export const TIMEOUT_MS = 15_000;

/**
 * Starts a server (with `serverOptions`, see `startServer`) and a browser for the calling test file,
 * stopped after its tests; returns `uiTest(name, body)`, which runs `body(page, server)` on a fresh
 * page in its own browser context.
 */
export function uiSuite(serverOptions = {}) {
  let server;
  let browser;
  let failed = false;

  before(async () => {
    server = await startServer(serverOptions);
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

  return function uiTest(name, body) {
    test(name, async () => {
      const context = await browser.newContext();
      context.setDefaultTimeout(TIMEOUT_MS);
      context.setDefaultNavigationTimeout(TIMEOUT_MS);
      const page = await context.newPage();
      const watcher = await watch(page);
      let bodyPassed = false;
      try {
        await body(page, server);
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
  };
}

/** The page's only <h1>, trimmed. */
export async function heading(page) {
  const h1 = page.locator('h1');
  await h1.waitFor();
  return (await h1.innerText()).trim();
}

/** Elements with role="alert" that say something (an empty live region waiting for a message is fine). */
export function messages(page) {
  return page.getByRole('alert').filter({ hasText: /\S/ });
}

/** Fills the sign-in form and submits it. */
export async function signIn(page, email, password) {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs the owner in from the login page and waits for the flags page. */
export async function signInAsOwner(page, server) {
  await page.goto(`${server.url}/ui/login`);
  await signIn(page, OWNER.email, OWNER.password);
  await page.waitForURL((url) => url.pathname.endsWith('/flags'));
}

/**
 * The link to `path` (say `verify-email`) mailed to `email`, once the server's mail relay (every 2 s)
 * has written the mail to its log, as it does when no SMTP server is configured.
 */
export async function mailedLink(server, email, path) {
  const deadline = Date.now() + TIMEOUT_MS;
  const pattern = new RegExp(`https?://\\S+/${path}\\?token=[A-Za-z0-9_-]+`);
  while (Date.now() < deadline) {
    // The mail's body follows its `to=` on the next lines of the log.
    const log = server.log();
    const start = log.lastIndexOf(`to=${email}`);
    const found = start >= 0 ? log.slice(start).match(pattern) : null;
    if (found) return found[0];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no ${path} link for ${email} in the server's log`);
}

/**
 * Calls the server's API with the management key in `environment`; returns the status and the
 * parsed answer (null when empty).
 */
export async function managementCall(server, method, path, body, environment = 'development') {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${MANAGEMENT_KEY}`, 'X-Environment': environment, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Like `managementCall`, for a call that must succeed: asserts a 200 and returns the answer. */
export async function managementApi(server, method, path, body, environment = 'development') {
  const { status, body: answer } = await managementCall(server, method, path, body, environment);
  assert.equal(status, 200, `${method} ${path}: ${JSON.stringify(answer)}`);
  return answer;
}
