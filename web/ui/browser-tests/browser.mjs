// Headless Chromium for the browser tests (Debian's /usr/bin/chromium, or $CHROMIUM), full-page
// screenshots under <repo>/target/ui-screenshots/, and a watcher that records what a page must not do:
// console errors, uncaught exceptions, CSP violations, and HTML pages served without a strict
// Content-Security-Policy.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO } from './server.mjs';

/** Where screenshots go. */
export const SCREENSHOTS = join(REPO, 'target', 'ui-screenshots');

/** Launches headless Chromium. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  try {
    return await chromium.launch({ executablePath, headless: true });
  } catch (err) {
    throw new Error(`could not launch Chromium at ${executablePath} (set CHROMIUM, or install Debian's chromium): ${err.message}`);
  }
}

/** Writes a full-page PNG of `page` to <repo>/target/ui-screenshots/<name>.png and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * The directive that governs scripts in a Content-Security-Policy header value: `script-src`, else
 * `default-src`; null when neither is set (scripts unrestricted).
 */
export function scriptPolicy(csp) {
  const directives = new Map();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources);
  }
  const sources = directives.get('script-src') ?? directives.get('default-src');
  return sources ? sources.join(' ') : null;
}

/**
 * Records, for one page, console errors, uncaught exceptions, CSP violations and the HTML documents
 * it navigated to. `await problems()` lists everything that went wrong, `documents` every HTML page seen.
 */
export async function watch(page) {
  const errors = [];
  const documents = [];
  const pending = new Set();
  // Chromium logs a console error for every response with a 4xx or 5xx status. Two kinds are the
  // page working as meant, not failing: a main-frame document (its status is the test's to assert;
  // a login form may answer a wrong password with 401), and the page's own fetch or XHR refused with
  // a 4xx other than 404 (a sign-in call answered 401, whose message the page then shows). A 404 of
  // anything but the document, a 5xx, and any failed script, style, image or font still count.
  const answered = new Map(); // url -> [{ status, document, call }]
  const FAILED_STATUS = /^Failed to load resource: the server responded with a status of (\d+)/;
  const rawErrors = []; // [{ text, url, line }]

  // The page's own report of a blocked resource or script (init scripts are not subject to its CSP).
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const { url, lineNumber } = msg.location();
      rawErrors.push({ text: msg.text(), url, line: lineNumber });
    }
  });
  page.on('pageerror', (err) => errors.push(`uncaught exception: ${err.stack || err.message}`));
  page.on('response', (response) => {
    const request = response.request();
    const status = response.status();
    const document = request.isNavigationRequest() && request.frame() === page.mainFrame();
    const call = ['fetch', 'xhr'].includes(request.resourceType());
    if (!answered.has(response.url())) answered.set(response.url(), []);
    answered.get(response.url()).push({ status, document, call });
    if (!document) return;
    if (status >= 300 && status < 400) return; // a redirect, not a page
    const seen = response.allHeaders().then((headers) => {
      if (!(headers['content-type'] || '').startsWith('text/html')) return;
      documents.push({ url: response.url(), status, csp: headers['content-security-policy'] ?? null });
    });
    pending.add(seen);
    seen.finally(() => pending.delete(seen)).catch(() => {});
  });

  return {
    documents,
    /** Everything this page did wrong so far, one line each. */
    async problems() {
      await Promise.allSettled([...pending]);
      const found = [];
      for (const { text, url, line } of rawErrors) {
        const failed = FAILED_STATUS.exec(text);
        if (failed) {
          const status = Number(failed[1]);
          const expected = (answered.get(url) ?? []).some((r) => r.status === status
            && (r.document || (r.call && status >= 400 && status < 500 && status !== 404)));
          if (expected) continue;
        }
        found.push(`console error: ${text}${url ? ` (${url}:${line})` : ''}`);
      }
      found.push(...errors);
      for (const doc of documents) {
        if (doc.csp === null) {
          found.push(`${doc.url} (${doc.status}): no Content-Security-Policy header`);
          continue;
        }
        const scripts = scriptPolicy(doc.csp);
        if (scripts === null) {
          found.push(`${doc.url}: Content-Security-Policy has neither script-src nor default-src: ${doc.csp}`);
        } else if (scripts.includes("'unsafe-inline'")) {
          found.push(`${doc.url}: Content-Security-Policy allows 'unsafe-inline' scripts: ${doc.csp}`);
        }
      }
      return found;
    },
  };
}
