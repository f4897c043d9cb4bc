// A Flagent server for the browser tests: the binary from FLAGENT_BIN (default
// <repo>/target/debug/flagent) on a free port of 127.0.0.1, with a fresh SQLite database in a
// temporary folder and chosen first-start credentials (owner account, management and evaluation keys).
//
// Invariant: the server's stdout and stderr go to flagent.log in its folder; a failed start throws
// with the log's tail, and stop() ends the process (SIGTERM, then SIGKILL) and removes the folder.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The owner account the first start creates. */
export const OWNER = Object.freeze({ email: 'admin@localhost', password: 'browser-test owner passphrase' });
/** The management key (admin, all environments) the first start creates. */
export const MANAGEMENT_KEY = 'flg_mgmt_browsertest_0123456789abcdef';
/** The evaluation key (production) the first start creates. */
export const EVALUATION_KEY = 'flg_eval_browsertest_0123456789abcdef';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** A free port on 127.0.0.1 (bound and released). */
async function freePort() {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

/** The process environment without anything that would point the server elsewhere. */
function cleanEnv() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'DATABASE_URL' || name.startsWith('FLAGENT_')) continue;
    env[name] = value;
  }
  return env;
}

/**
 * Starts the server and resolves once `GET /health` answers 200. `options.env` adds or overrides
 * environment variables (say, `FLAGENT_AUTH__SIGNUP_ENABLED: 'true'`).
 * @returns {Promise<{url: string, port: number, dir: string, log: () => string, stop: () => Promise<void>}>}
 */
export async function startServer(options = {}) {
  const bin = process.env.FLAGENT_BIN || join(REPO, 'target', 'debug', 'flagent');
  const dir = mkdtempSync(join(tmpdir(), 'flagent-browser-'));
  const logPath = join(dir, 'flagent.log');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  const out = openSync(logPath, 'a');
  const child = spawn(bin, ['serve'], {
    // The folder has no config/, so only the defaults and the variables below apply.
    cwd: dir,
    stdio: ['ignore', out, out],
    env: {
      ...cleanEnv(),
      DATABASE_URL: `sqlite://${join(dir, 'flagent.db')}?mode=rwc`,
      FLAGENT_SERVER__HOST: '127.0.0.1',
      FLAGENT_SERVER__PORT: String(port),
      FLAGENT_SERVER__WORKERS: '2',
      FLAGENT_AUTH__PUBLIC_URL: url,
      FLAGENT_AUTH__SIGNUP_ENABLED: 'false',
      FLAGENT_BOOTSTRAP__ADMIN_EMAIL: OWNER.email,
      FLAGENT_ADMIN_PASSWORD: OWNER.password,
      FLAGENT_BOOTSTRAP__MANAGEMENT_KEY: MANAGEMENT_KEY,
      FLAGENT_BOOTSTRAP__EVALUATION_KEY: EVALUATION_KEY,
      RUST_LOG: process.env.RUST_LOG || 'info',
      NO_COLOR: '1', // plain text in the log the tests print
      ...(options.env ?? {}),
    },
  });
  closeSync(out);

  let exited = null;
  let spawnError = null;
  child.on('error', (err) => { spawnError = err; });
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  // However the test process ends, the server does not outlive it.
  const killOnExit = () => { if (exited === null) child.kill('SIGKILL'); };
  process.on('exit', killOnExit);

  const log = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  const tail = () => log().split('\n').slice(-60).join('\n');

  const stop = async () => {
    if (exited === null && spawnError === null) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await gone;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`could not start ${bin}: ${spawnError.message} (build it, or set FLAGENT_BIN)`);
    }
    if (exited) {
      const text = tail();
      await stop();
      throw new Error(`the server exited (${JSON.stringify(exited)}) before answering; its log:\n${text}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      const text = tail();
      await stop();
      throw new Error(`the server did not answer ${url}/health in ${READY_TIMEOUT_MS / 1000} s; its log:\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    port,
    dir,
    log,
    /** Whether the process is still running. */
    running: () => exited === null,
    stop,
  };
}
