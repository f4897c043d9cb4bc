// Single sign-on on the sign-in page: typing an email whose domain an organisation verified (through a
// real DNS server, dnsmasq, answering the TXT record) offers that organisation's identity provider;
// other emails are offered nothing; a refused sign-in comes back with its reason and support code.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Resolver } from 'node:dns/promises';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { after } from 'node:test';
import { screenshot } from './browser.mjs';
import { managementCall, messages, uiSuite } from './harness.mjs';

/** Whether the socket `open` binds (a UDP socket or a TCP server) starts listening. */
async function bindable(open) {
  const socket = open();
  try {
    await Promise.race([once(socket, 'listening'), once(socket, 'error').then(([e]) => Promise.reject(e))]);
    return true;
  } catch {
    return false;
  } finally {
    socket.close();
  }
}

/**
 * A port on 127.0.0.1 free for both UDP and TCP (dnsmasq binds both), below the kernel's ephemeral range,
 * so that no connection opened meanwhile takes it before dnsmasq binds it (the server is configured first).
 */
async function freeDnsPort() {
  const lowest = 20000;
  const ephemeral = 32768;
  for (let i = 0; i < 1000; i += 1) {
    const port = lowest + Math.floor(Math.random() * (ephemeral - lowest));
    const udp = await bindable(() => createSocket('udp4').bind(port, '127.0.0.1'));
    const tcp = udp && await bindable(() => createServer().listen(port, '127.0.0.1'));
    if (tcp) return port;
  }
  throw new Error('no free port for dnsmasq');
}

const dnsPort = await freeDnsPort();
const uiTest = uiSuite({ env: { FLAGENT_AUTH__DNS_SERVER: `127.0.0.1:${dnsPort}` } });
let dnsmasq;

/**
 * dnsmasq answering `records` ([name, value] TXT records) on the chosen port. dnsmasq binds its sockets before
 * it logs "started", so that line (on stderr, through `--log-facility=-`) says it is ready.
 */
async function serveDns(records) {
  const args = ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--bind-interfaces',
    '--listen-address=127.0.0.1', '--user=root', '--pid-file=', '--log-facility=-', `--port=${dnsPort}`,
    ...records.map(([name, value]) => `--txt-record=${name},${value}`)];
  const child = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (log.includes(': started,')) resolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`dnsmasq exited (${code}): ${log}`)));
  });
  const resolver = new Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([`127.0.0.1:${dnsPort}`]);
  assert.deepEqual(await resolver.resolveTxt(records[0][0]), [[records[0][1]]]);
  return child;
}

after(() => dnsmasq?.kill());

uiTest('an email of a verified domain is offered its organisation\'s identity provider', async (page, server) => {
  const claimed = await managementCall(server, 'POST', '/api/v1/sso/domains', { domain: 'acme.test' });
  assert.equal(claimed.status, 201, JSON.stringify(claimed.body));
  dnsmasq = await serveDns([[claimed.body.txtName, claimed.body.txtValue]]);
  const verified = await managementCall(server, 'POST', `/api/v1/sso/domains/${claimed.body.id}/verify`);
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  const provider = await managementCall(server, 'POST', '/api/v1/sso/providers', {
    name: 'Acme IdP', kind: 'oidc',
    oidc: { issuer: 'https://idp.acme.test', clientId: 'flagent', clientSecret: 'browser-test-secret' },
  });
  assert.equal(provider.status, 201, JSON.stringify(provider.body));

  await page.goto(`${server.url}/ui/login?next=/ui/settings`);
  const email = page.getByLabel('Email', { exact: true });
  await email.fill('someone@elsewhere.test');
  await email.blur();
  const offer = page.getByRole('link', { name: 'Continue with Acme IdP' });
  await email.fill('Ada@acme.test');
  await email.blur();
  await offer.waitFor();
  assert.equal(await offer.getAttribute('href'), `/sso/${provider.body.id}/start?next=%2Fui%2Fsettings`);
  await screenshot(page, 'login-sso-offer');

  await email.fill('ada@elsewhere.test');
  await email.blur();
  await offer.waitFor({ state: 'hidden' });
  assert.ok(await page.getByLabel('Password', { exact: true }).isVisible(), 'the password stays available');
});

uiTest('a refused single sign-on is explained on the sign-in page', async (page, server) => {
  await page.goto(`${server.url}/ui/login?sso_error=sso_state_mismatch&support=Ab12cd34`);
  const alert = messages(page);
  assert.equal(await alert.count(), 1);
  const text = await alert.innerText();
  assert.match(text, /started in another browser/);
  assert.match(text, /Support code: Ab12cd34/);
});
