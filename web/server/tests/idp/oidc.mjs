// An OpenID Connect identity provider for the integration tests: oidc-provider on 127.0.0.1 at an
// ephemeral port, with its in-memory adapter, for real authorization-code + PKCE sign-ins.
//
//   node oidc.mjs CONFIG.json      (or the config on stdin, then it runs until SIGTERM)
//
// The config is one JSON object:
//
//   {
//     "clients": [{ "client_id", "client_secret", "redirect_uris": [...],
//                   "token_endpoint_auth_method"?, "id_token_signed_response_alg"? }],
//     "accounts": { "<sub>": { "email", "email_verified", "name", "groups": [...] } },
//     "ttl"?: { ... }          oidc-provider's `ttl` option, as is (seconds per token kind)
//   }
//
// The signing keys are RSA keys for RS256, so a client's id_token_signed_response_alg is RS256 (the
// default) or HS256 (signed with its client secret). The first key of the JWKS signs.
//
// The issuer is http://127.0.0.1:<port>. Once it listens, the process prints exactly one line to
// stdout, `listening http://127.0.0.1:<port>`, and nothing else after. It exits when its stdin closes
// (when the config came from a file) or on SIGTERM/SIGINT.
//
// PKCE (S256, the only method oidc-provider 9 knows) is required of every client. The development
// interactions are off; this file's own ones stand in:
//
//   GET  /interaction/:uid          an HTML form with one field, `login`
//   POST /interaction/:uid/login    urlencoded `login=<account id>`: signs that account in and grants
//                                   every scope asked for (openid email profile groups) with their
//                                   claims, then finishes the interaction, without a consent page
//
// The ID token carries the scopes' claims too (`conformIdTokenClaims: false`), and the authorization
// response carries `iss` (RFC 9207, on by default in oidc-provider 9).
//
// Test-only endpoints:
//
//   GET  /test/jwks-hits            {"hits": N}: requests so far to the jwks_uri (/jwks)
//   GET  /test/discovery-hits       {"hits": N}: requests so far to /.well-known/openid-configuration
//   POST /test/clients              a JSON client (as in the config's `clients`) registered from now
//                                   on, for clients whose redirect URI is known only after the start
//   POST /test/rotate-keys[?keep=1] signs with a newly generated RSA key from now on and answers
//                                   {"kid": "<its kid>"}; the JWKS then holds only the new key, or
//                                   with keep=1 the new key followed by the previous ones
//   POST /test/tamper               JSON {claims?, sign?, kid?, header?}: arms a one-shot tamper of
//                                   the next successful token endpoint response (/token, the
//                                   discovery's token_endpoint): its id_token is decoded, its claims
//                                   changed, and it is signed again, for tests of a client's ID token
//                                   checks with a real IdP that misbehaves on purpose. Answers
//                                   {"armed": true}.
//                                     claims   {"<name>": value}: sets each claim, or deletes it when
//                                              the value is null
//                                     sign     "idp" (the default): RS256 with the IdP's current
//                                              signing key, so the token is validly signed;
//                                              "foreign": RS256 with a freshly generated RSA key that
//                                              no JWKS lists, under the real kid unless `kid` is given;
//                                              "none": `alg: none` and an empty signature;
//                                              "hs256": HMAC-SHA256 keyed by the secret of the client
//                                              the token was issued to (algorithm confusion), no kid
//                                              unless `kid` is given
//                                     kid      the header's kid
//                                     header   more header fields, set last (they may replace `alg`)
//   GET  /test/tamper               {"armed": bool, "applied": N}: whether a tamper waits for the
//                                   next token response, and how many were applied so far
//
// Tampering: the HTTP server below hands the token endpoint's requests to the Provider as any
// other, but while a tamper is armed it wraps the response's `write` and `end` to buffer the body.
// Koa sends its headers with the body, in `end`, so the body can still be rewritten there and its
// Content-Length set again. Only a 200 whose JSON has an `id_token` uses the tamper up; a refused
// code leaves it armed.
//
// Key rotation without a restart: oidc-provider reads its keys once, when a Provider is made, and
// has no public way to change them. So the HTTP server below sends each request to the current
// Provider, and a rotation makes a new Provider with the same config and the new keys and makes it
// the current one. Sessions, interactions, codes and grants survive it: oidc-provider's in-memory
// adapter keeps them in one store per process, shared by every Provider, and the cookie keys are the
// same static test values.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const JWKS_PATH = '/jwks';
const TOKEN_PATH = '/token';
const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** The config from the file named as the first argument, or else all of stdin. */
function readConfig() {
  const file = process.argv[2];
  const text = file ? fs.readFileSync(file, 'utf8') : fs.readFileSync(0, 'utf8');
  const config = JSON.parse(text);
  if (!Array.isArray(config.clients) || typeof config.accounts !== 'object') {
    throw new Error('the config needs "clients" (an array) and "accounts" (an object)');
  }
  return config;
}

/** A new RSA signing key as a private JWK with a fresh kid. */
function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: crypto.randomUUID(),
    use: 'sig',
    alg: 'RS256',
  };
}

/** Escapes text for HTML. */
function html(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The request's body as text. */
async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendHtml(res, status, text) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const config = readConfig();

/** A Provider for `issuer` that signs with the first of `keys`. */
function makeProvider(issuer, keys) {
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys },
    ...(config.ttl ? { ttl: config.ttl } : {}),
    async findAccount(_ctx, sub) {
      const account = config.accounts[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, ...account };
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    cookies: {
      keys: ['flagent-test-idp-cookie-key-1', 'flagent-test-idp-cookie-key-2'],
    },
    routes: { jwks: JWKS_PATH, token: TOKEN_PATH },
  });
  // The provider's own errors, and why it refused a token request, go to stderr: the test's log.
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));
  provider.on('grant.error', (_ctx, err) => {
    const detail = err.error_detail ?? err.cause?.message;
    console.error(`token endpoint: ${err.error}: ${err.error_description}${detail ? ` (${detail})` : ''}`);
  });
  return provider;
}

/** The login form of interaction `uid`. */
function loginPage(uid, details) {
  const client = details.params.client_id;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in to ${html(client)}</h1>
<form method="post" action="/interaction/${html(uid)}/login">
<label>Account <input name="login" autofocus></label>
<button type="submit">Sign in</button>
</form>
</body></html>
`;
}

/** Signs the posted account in and grants the scopes the client asked for, with their claims. */
async function login(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const form = new URLSearchParams(await body(req));
  const accountId = form.get('login') ?? '';
  if (!config.accounts[accountId]) {
    sendHtml(res, 400, `<p>unknown account ${html(accountId)}</p>`);
    return;
  }
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope ?? 'openid'));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const hits = { jwks: 0, discovery: 0 };
let keys = [newSigningKey()];
/** The tamper armed for the next successful token response (see POST /test/tamper), if any. */
let tamper = null;
/** How many token responses were tampered with. */
let tampered = 0;

const SIGNING_MODES = ['idp', 'foreign', 'none', 'hs256'];

/** A JSON object as one base64url part of a JWT. */
function jwtPart(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** One base64url part of a JWT as the JSON object it holds. */
function jwtJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** The reason `spec` is not a tamper (see POST /test/tamper), or null when it is one. */
function tamperProblem(spec) {
  const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(spec)) return 'a tamper is a JSON object';
  if (spec.claims !== undefined && !isObject(spec.claims)) return '"claims" is an object';
  if (spec.header !== undefined && !isObject(spec.header)) return '"header" is an object';
  if (spec.kid !== undefined && typeof spec.kid !== 'string') return '"kid" is a string';
  if (spec.sign !== undefined && !SIGNING_MODES.includes(spec.sign)) {
    return `"sign" is one of ${SIGNING_MODES.join(', ')}`;
  }
  return null;
}

/** The secret of the client an ID token with `claims` was issued to. */
function clientSecretFor(claims) {
  const clientId = claims.azp ?? (Array.isArray(claims.aud) ? claims.aud[0] : claims.aud);
  const client = config.clients.find((c) => c.client_id === clientId);
  if (!client?.client_secret) throw new Error(`no client secret for ${clientId}`);
  return client.client_secret;
}

/** `idToken` with `spec`'s claims, signed again as `spec` says. */
function tamperedIdToken(idToken, spec) {
  const [headerPart, payloadPart] = idToken.split('.');
  const issued = jwtJson(headerPart);
  const original = jwtJson(payloadPart);
  const claims = { ...original };
  for (const [name, value] of Object.entries(spec.claims ?? {})) {
    if (value === null) delete claims[name];
    else claims[name] = value;
  }
  let header;
  let signature;
  switch (spec.sign ?? 'idp') {
    case 'idp': {
      const key = keys[0];
      const privateKey = crypto.createPrivateKey({ key, format: 'jwk' });
      header = { ...issued, alg: 'RS256', kid: key.kid };
      signature = (input) => crypto.sign('sha256', input, privateKey);
      break;
    }
    case 'foreign': {
      const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      header = { ...issued, alg: 'RS256' };
      signature = (input) => crypto.sign('sha256', input, privateKey);
      break;
    }
    case 'none': {
      header = { ...issued, alg: 'none' };
      signature = () => Buffer.alloc(0);
      break;
    }
    case 'hs256': {
      const secret = clientSecretFor(original);
      header = { ...issued, alg: 'HS256' };
      delete header.kid;
      signature = (input) => crypto.createHmac('sha256', secret).update(input).digest();
      break;
    }
  }
  if (spec.kid !== undefined) header.kid = spec.kid;
  Object.assign(header, spec.header ?? {});
  const input = `${jwtPart(header)}.${jwtPart(claims)}`;
  return `${input}.${signature(Buffer.from(input)).toString('base64url')}`;
}

/** Buffers the body of `res`, a token endpoint response, and lets it through the armed tamper. */
function interceptTokenResponse(res) {
  const { write, end } = res;
  const chunks = [];
  const chunk = (data, encoding) =>
    Buffer.isBuffer(data) ? data : Buffer.from(data, typeof encoding === 'string' ? encoding : 'utf8');
  res.write = (data, encoding, callback) => {
    chunks.push(chunk(data, encoding));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  };
  res.end = (data, encoding, callback) => {
    res.write = write;
    res.end = end;
    if (typeof data === 'function') [data, callback] = [undefined, data];
    else if (typeof encoding === 'function') [encoding, callback] = [undefined, encoding];
    if (data !== undefined && data !== null) chunks.push(chunk(data, encoding));
    let text = Buffer.concat(chunks);
    if (tamper && res.statusCode === 200) {
      try {
        const tokens = JSON.parse(text.toString('utf8'));
        if (typeof tokens.id_token === 'string') {
          if (res.headersSent) throw new Error('the headers were sent before the body');
          tokens.id_token = tamperedIdToken(tokens.id_token, tamper);
          text = Buffer.from(JSON.stringify(tokens));
          res.setHeader('content-length', text.length);
          tamper = null;
          tampered += 1;
        }
      } catch (err) {
        console.error('tamper: the token response was sent as is:', err);
      }
    }
    return end.call(res, text, callback);
  };
}
/** The Provider that serves requests, and its request handler. */
let provider;
let handle;

/** Makes a Provider with `keys` the one that serves requests. */
function serve(issuer) {
  provider = makeProvider(issuer, keys);
  handle = provider.callback();
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const path = url.pathname;
  if (path === JWKS_PATH) hits.jwks += 1;
  if (path === DISCOVERY_PATH) hits.discovery += 1;
  // The Provider of this request, even if a rotation replaces it meanwhile.
  const [current, currentHandle] = [provider, handle];
  try {
    if (req.method === 'GET' && path === '/test/jwks-hits') {
      sendJson(res, 200, { hits: hits.jwks });
      return;
    }
    if (req.method === 'GET' && path === '/test/discovery-hits') {
      sendJson(res, 200, { hits: hits.discovery });
      return;
    }
    if (req.method === 'POST' && path === '/test/clients') {
      config.clients.push(JSON.parse(await body(req)));
      serve(current.issuer);
      sendJson(res, 200, { clients: config.clients.length });
      return;
    }
    if (req.method === 'POST' && path === '/test/tamper') {
      const spec = JSON.parse(await body(req));
      const problem = tamperProblem(spec);
      if (problem) {
        sendJson(res, 400, { error: 'invalid_request', error_description: problem });
        return;
      }
      tamper = spec;
      sendJson(res, 200, { armed: true });
      return;
    }
    if (req.method === 'GET' && path === '/test/tamper') {
      sendJson(res, 200, { armed: tamper !== null, applied: tampered });
      return;
    }
    if (req.method === 'POST' && path === '/test/rotate-keys') {
      const key = newSigningKey();
      keys = url.searchParams.get('keep') === '1' ? [key, ...keys] : [key];
      serve(current.issuer);
      sendJson(res, 200, { kid: key.kid });
      return;
    }
    const interaction = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (interaction) {
      const [, uid, isLogin] = interaction;
      if (req.method === 'GET' && !isLogin) {
        const details = await current.interactionDetails(req, res);
        sendHtml(res, 200, loginPage(uid, details));
        return;
      }
      if (req.method === 'POST' && isLogin) {
        await login(current, req, res);
        return;
      }
      sendHtml(res, 405, '<p>method not allowed</p>');
      return;
    }
    if (tamper && req.method === 'POST' && path === TOKEN_PATH) interceptTokenResponse(res);
    currentHandle(req, res);
  } catch (err) {
    // A missing or expired interaction ends up here; say what went wrong.
    console.error(`${req.method} ${path}:`, err);
    if (!res.headersSent) {
      sendJson(res, err.statusCode ?? 500, {
        error: err.error ?? 'server_error',
        error_description: err.error_description ?? err.message,
      });
    } else {
      res.end();
    }
  }
});

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  serve(issuer);
  process.stdout.write(`listening ${issuer}\n`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.argv[2]) {
  // The test holds stdin open for as long as it wants the provider: its end, or its death, ends it.
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
