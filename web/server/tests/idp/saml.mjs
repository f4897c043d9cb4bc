// A SAML 2.0 identity provider for the integration tests, on 127.0.0.1 at an ephemeral port: plain
// node:http, with samlify signing the responses (xml-crypto underneath), for real SP-initiated
// (HTTP-Redirect or HTTP-POST AuthnRequest in, HTTP-POST Response out) and IdP-initiated sign-ins.
//
//   node saml.mjs CONFIG.json      (or the config on stdin, then it runs until SIGTERM)
//
// The config is one JSON object:
//
//   {
//     "accounts": { "<login>": { "nameID": "alice@acme.test",
//                                "nameIDFormat"?: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
//                                "email"?, "name"?, "groups"?: [...],
//                                "attributes"?: { "<name>": ["<value>", ...] } } },
//     "sign"?: "assertion" | "response" | "both"     which element is signed (default "assertion")
//     "lifetimeSeconds"?: 300                         how long assertions are good for
//   }
//
// nameIDFormat defaults to emailAddress. The AttributeStatement holds, in this order and with
// NameFormat basic, `email`, `name` (the display name) and `groups` (one AttributeValue per group),
// each only when the account has it, then every `attributes` entry (a single string is one value).
//
// The entity id is http://127.0.0.1:<port>/metadata. Once it listens, the process prints exactly one
// line to stdout, `listening http://127.0.0.1:<port>`, and nothing else after. It exits when its
// stdin closes (when the config came from a file) or on SIGTERM/SIGINT.
//
// It signs with an RSA-2048 key and a self-signed X.509 certificate (node-forge) made at start:
// RSA-SHA256, SHA-256 digests, exclusive c14n, an enveloped signature placed right after the signed
// element's Issuer, `Reference URI="#<ID>"`, and KeyInfo/X509Data/X509Certificate. The response's
// XML is written here whole and handed to samlify's IdentityProvider.createLoginResponse (as a
// customTagReplacement), which signs it as the ServiceProvider entity chosen for the signed element
// asks (WantAssertionsSigned, wantMessageSigned); with "both", the Assertion is signed first.
//
//   GET  /metadata          the IdP metadata (application/samlmetadata+xml): md:EntityDescriptor
//                           with one md:IDPSSODescriptor (WantAuthnRequestsSigned="false",
//                           protocolSupportEnumeration SAML 2.0): one md:KeyDescriptor use="signing"
//                           per published certificate (the signing one first), NameIDFormat
//                           emailAddress and persistent, SingleSignOnService HTTP-Redirect and
//                           HTTP-POST at /sso
//   GET  /sso               the HTTP-Redirect binding: SAMLRequest (base64 of raw DEFLATE),
//                           RelayState?, SigAlg?, Signature?. Answers the login form, or 400 when the
//                           SAMLRequest is missing, has a DOCTYPE, or is no AuthnRequest with an ID,
//                           an Issuer and an AssertionConsumerServiceURL (this IdP holds no SP
//                           metadata, so the request's ACS is where the response goes). When the SP
//                           registered a certificate (POST /test/sp), a Signature is checked as the
//                           bindings say (§3.4.4.1: over the raw query's `SAMLRequest=..&RelayState=..
//                           &SigAlg=..`, as received) and the outcome recorded, never enforced (see
//                           GET /test/last-request). SigAlg rsa-sha1/256/384/512 or ecdsa-sha256/384/512.
//   POST /sso               the HTTP-POST binding: urlencoded SAMLRequest (base64 of the XML) and
//                           RelayState?; an enveloped ds:Signature in it is checked likewise (xml-crypto)
//   POST /sso/login         the login form: urlencoded `login=<account>` and the form's hidden fields
//                           (SAMLRequestID, AssertionConsumerServiceURL, SPEntityID, RelayState?: the
//                           flow is stateless). 401 for an unknown login, 400 for missing fields. Else
//                           an HTML page that posts itself to the ACS: `<form method="post"
//                           action="<ACS>">` with hidden SAMLResponse (base64 of the XML) and RelayState
//                           (as received; no input when there was none)
//
// The Response: samlp:Response (ID, Version, IssueInstant, Destination = the ACS, InResponseTo = the
// request's ID) with saml:Issuer, samlp:Status Success and one saml:Assertion (fresh ID,
// IssueInstant, Issuer, Subject with NameID Format=.. and a bearer SubjectConfirmation whose
// SubjectConfirmationData has InResponseTo, Recipient = the ACS and NotOnOrAfter = now + lifetime,
// Conditions NotBefore = now, NotOnOrAfter = now + lifetime with AudienceRestriction/Audience = the
// request's Issuer, an AuthnStatement (AuthnInstant, SessionIndex, PasswordProtectedTransport) and the
// AttributeStatement). Times are UTC to the second (`2030-01-02T03:04:05Z`).
//
// Test-only endpoints:
//
//   POST /test/idp-initiated   JSON {login, acs, audience, relayState?}: an unsolicited response (no
//                              InResponseTo anywhere; Destination and Recipient = acs), signed as
//                              usual, an armed tamper applied. Answers {"SAMLResponse": "<base64>",
//                              "RelayState": relayState or null}; 404 for an unknown login
//   POST /test/tamper          JSON {values?, sign?, after?}: arms a one-shot change to the next
//                              response built (by /sso/login or /test/idp-initiated). Answers
//                              {"armed": true}, or 400 with the reason for a spec it cannot apply
//     values   overrides used when building, then signed validly: audience, recipient (the
//              SubjectConfirmationData's), destination (the Response's), issuer (the Response's and
//              the Assertion's), inResponseTo (the Response's and the SubjectConfirmationData's),
//              notBefore (the Conditions'), notOnOrAfter (the Conditions' and the
//              SubjectConfirmationData's), issueInstant (the Response's, the Assertion's and
//              AuthnInstant). Each is a string (times: ISO 8601, used as is), {"offsetSeconds": N}
//              for a time relative to now, or null to leave the attribute out (for audience: no
//              AudienceRestriction; not for issuer and issueInstant)
//     sign     "idp" (the default): the IdP's current key; "foreign": a freshly generated key and
//              self-signed certificate (same subject) that no metadata lists, its certificate in
//              KeyInfo; "none": no signature at all; "assertion" | "response" | "both": the IdP's
//              key, on that element instead of the config's `sign`
//     after    a change to the XML after signing (so the signatures stay as they were):
//       tamper-nameid              the NameID text becomes evil@evil.test
//       tamper-attribute           the first `groups` value becomes `admins` (an AttributeValue
//                                  `admins` is added when the account has no groups)
//       comment-nameid             the NameID is built and signed as <nameID>.evil, then shown as
//                                  <nameID><!---->.evil (exclusive c14n drops comments, so the
//                                  signature still holds; a naive text read sees <nameID>)
//       doctype                    prepends <!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM
//                                  "file:///etc/passwd">]> and makes the first AttributeValue's text
//                                  (or, with no attributes, the NameID's) `&xxe;`
//       unsigned-second-assertion  an unsigned copy of the assertion (fresh ID, evil@evil.test as
//                                  NameID and email) right after the signed one
//     and the signature wrapping shapes of SAML Raider (after "On Breaking SAML", Somorovsky et al.,
//     2012). In each, the evil copy is unsigned and names evil@evil.test as NameID and email (its
//     email Attribute is added if the account has none). XSW1-2 wrap the Response's signature: when
//     `sign` names no element, the Response alone is signed (sign "assertion" is refused). XSW3-8 wrap
//     the Assertion's: when `sign` names no element, the assertion is signed as the config says, or
//     alone when the config says "response" (sign "response" is refused). Sign "none" is refused.
//       xsw1   the Response becomes the evil one (ID _evil_response_ID, keeps its Signature); a copy of
//              the signed Response, its Signature taken out, is appended inside that ds:Signature
//       xsw2   as xsw1, but the copy of the signed Response goes right before the ds:Signature
//       xsw3   an evil copy of the Assertion (ID _evil_assertion_ID, no Signature) before the signed one
//       xsw4   an evil copy of the Assertion (ID _evil_assertion_ID, no Signature) takes the signed one's
//              place, with the signed Assertion moved inside it as its last child
//       xsw5   the signed Assertion becomes the evil one (ID _evil_assertion_ID, keeps the Signature);
//              a copy of the original, without Signature, is appended to the Response
//       xsw6   as xsw5, but the copy of the original goes inside the evil Assertion's ds:Signature
//       xsw7   a samlp:Extensions holding an evil copy of the Assertion (same ID, no Signature) right
//              before the signed Assertion (SAML Raider writes an Extensions in no namespace)
//       xsw8   the signed Assertion becomes the evil one (same ID, keeps the Signature); a ds:Object
//              appended to its ds:Signature holds a copy of the original, without Signature (SAML
//              Raider writes an Object in no namespace)
//   GET  /test/tamper          {"armed": bool, "applied": N}: whether a tamper waits, and how many
//                              responses were tampered with so far
//   POST /test/rotate-keys[?keep=1]  signs with a new key and certificate from now on and answers
//                              {"certificate": "<base64 DER>"}; the metadata then lists only the new
//                              certificate, or with keep=1 the new one followed by the previous ones
//   GET  /test/last-request    the last AuthnRequest received (null before any): {id, acs, issuer,
//                              destination, issueInstant, relayState, binding: "redirect" | "post",
//                              signed: bool, sigAlg, signatureValid: bool, or null when unsigned or
//                              when no SP certificate is registered}
//   POST /test/sp              JSON {certificate: "<base64 DER or PEM>" | null}: the SP's
//                              request-signing certificate, to check signed AuthnRequests from now on
//                              (null forgets it). Answers {"registered": bool}
//   GET  /test/certificate     {"certificates": ["<base64 DER>", ...]}: the published ones, signing
//                              one first
//
// Errors of the test endpoints are JSON {"error": "..."} with 400 (or 404).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as zlib from 'node:zlib';

import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import forge from 'node-forge';
import * as samlify from 'samlify';
import { SignedXml } from 'xml-crypto';

const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
};
const BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
};
const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const EVIL = 'evil@evil.test';
/** The redirect binding's SigAlg values this IdP checks, as node:crypto digests. */
const SIG_ALGS = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': { digest: 'sha1' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { digest: 'sha256' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { digest: 'sha384' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { digest: 'sha512' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { digest: 'sha256', dsaEncoding: 'ieee-p1363' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { digest: 'sha384', dsaEncoding: 'ieee-p1363' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': { digest: 'sha512', dsaEncoding: 'ieee-p1363' },
};
const SIGN_ELEMENTS = ['assertion', 'response', 'both'];
const SIGN_MODES = ['idp', 'foreign', 'none', ...SIGN_ELEMENTS];
const XSW = ['xsw1', 'xsw2', 'xsw3', 'xsw4', 'xsw5', 'xsw6', 'xsw7', 'xsw8'];
const AFTER = [
  'tamper-nameid',
  'tamper-attribute',
  'comment-nameid',
  'doctype',
  'unsigned-second-assertion',
  ...XSW,
];
const VALUES = [
  'audience',
  'recipient',
  'destination',
  'issuer',
  'inResponseTo',
  'notBefore',
  'notOnOrAfter',
  'issueInstant',
];
const NOT_NULLABLE = ['issuer', 'issueInstant'];
const CERT_SUBJECT = 'Flagent test SAML IdP';

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The config from the file named as the first argument, or else all of stdin. */
function readConfig() {
  const file = process.argv[2];
  const text = file ? fs.readFileSync(file, 'utf8') : fs.readFileSync(0, 'utf8');
  const config = JSON.parse(text);
  if (!isObject(config) || !isObject(config.accounts)) {
    throw new Error('the config needs "accounts" (an object)');
  }
  for (const [login, account] of Object.entries(config.accounts)) {
    if (!isObject(account) || typeof account.nameID !== 'string') {
      throw new Error(`account ${login} needs a "nameID" (a string)`);
    }
  }
  if (config.sign !== undefined && !SIGN_ELEMENTS.includes(config.sign)) {
    throw new Error(`"sign" is one of ${SIGN_ELEMENTS.join(', ')}`);
  }
  if (config.lifetimeSeconds !== undefined && !(Number(config.lifetimeSeconds) > 0)) {
    throw new Error('"lifetimeSeconds" is a positive number');
  }
  return config;
}

/** Escapes text for HTML. */
function html(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escapes text for XML, in content and in attribute values. */
function xml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c],
  );
}

/** A time as SAML writes it: UTC, to the second. */
function instant(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A fresh XML ID (an NCName). */
function newId() {
  return `_${crypto.randomBytes(20).toString('hex')}`;
}

/** The request's body as text. */
async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, text) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
const sendJson = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));
const sendHtml = (res, status, text) => send(res, status, 'text/html; charset=utf-8', text);
const sendError = (res, status, error) => sendJson(res, status, { error });

/** A page with a heading and a message, for the browser's errors. */
function errorPage(res, status, message) {
  sendHtml(
    res,
    status,
    `<!doctype html>
<html><head><meta charset="utf-8"><title>Error</title></head>
<body><h1>${status}</h1><p>${html(message)}</p></body></html>
`,
  );
}

/** Base64 of a PEM's body, or the text itself when it is base64 already (whitespace dropped). */
function certificateBase64(text) {
  return String(text)
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '');
}

/** A PEM certificate from base64 DER or PEM; throws when it is not a certificate. */
function certificatePem(text) {
  const b64 = certificateBase64(text);
  const lines = b64.match(/.{1,64}/g) ?? [];
  const pem = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
  new crypto.X509Certificate(pem); // eslint-disable-line no-new -- throws when it is none
  return pem;
}

/** A new RSA-2048 key and a self-signed certificate for it: {keyPem, certPem, certBase64}. */
function newSigningKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }));
  // A positive serial: the leading byte stays below 0x80.
  cert.serialNumber = `01${crypto.randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3600 * 1000);
  cert.validity.notAfter = new Date(now + 10 * 365 * 24 * 3600 * 1000);
  const name = [{ name: 'commonName', value: CERT_SUBJECT }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true },
  ]);
  const keyPkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' });
  cert.sign(forge.pki.privateKeyFromPem(keyPkcs1), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    certPem,
    certBase64: new crypto.X509Certificate(certPem).raw.toString('base64'),
  };
}

const config = readConfig();
const lifetimeSeconds = Number(config.lifetimeSeconds ?? 300);

/** The base URL, http://127.0.0.1:<port>, and the entity id; set once listening. */
let base = '';
let entityId = '';
/** The published keys; the first signs. */
let keys = [newSigningKey()];
/** The SP's request-signing certificate (PEM), if registered. */
let spCertificate = null;
/** The last AuthnRequest received (see GET /test/last-request). */
let lastRequest = null;
/** The tamper armed for the next response built, if any, and how many were applied. */
let tamper = null;
let tampered = 0;

/** samlify IdP entities, one per signing key, made when first used. */
const idpEntities = new WeakMap();

function idpEntity(key) {
  let entity = idpEntities.get(key);
  if (!entity) {
    // samlify warns on stderr that the (unused) SingleLogoutService is missing: keep the log quiet.
    const warn = console.warn;
    console.warn = () => {};
    try {
      entity = samlify.IdentityProvider({
        entityID: entityId,
        privateKey: key.keyPem,
        signingCert: key.certPem,
        nameIDFormat: [NAMEID_EMAIL, NAMEID_PERSISTENT],
        singleSignOnService: [
          { Binding: BINDING.redirect, Location: `${base}/sso` },
          { Binding: BINDING.post, Location: `${base}/sso` },
        ],
      });
    } finally {
      console.warn = warn;
    }
    idpEntities.set(key, entity);
  }
  return entity;
}

/**
 * samlify SP entities, one per signing choice: samlify signs the Assertion when the SP's metadata
 * says WantAssertionsSigned, and the Response when the SP wants messages signed or does not want
 * assertions signed. The SP's entity id and ACS are not used: the response's XML is built here and
 * handed to samlify whole (customTagReplacement), to be signed only.
 */
const spEntities = Object.fromEntries(
  SIGN_ELEMENTS.map((element) => [
    element,
    samlify.ServiceProvider({
      entityID: `urn:flagent:test-idp:signing:${element}`,
      assertionConsumerService: [{ Binding: BINDING.post, Location: 'http://127.0.0.1/acs' }],
      wantAssertionsSigned: element !== 'response',
      wantMessageSigned: element !== 'assertion',
    }),
  ]),
);

/** `xml` (a Response with one Assertion), signed by `key` on `element` with samlify. */
async function signResponse(xmlText, responseId, key, element) {
  const response = await idpEntity(key).createLoginResponse(
    spEntities[element],
    {},
    'post',
    {},
    { customTagReplacement: () => ({ id: responseId, context: xmlText }) },
  );
  return Buffer.from(response.context, 'base64').toString('utf8');
}

/** The reason `spec` is not a tamper (see POST /test/tamper), or null when it is one. */
function tamperProblem(spec) {
  if (!isObject(spec)) return 'a tamper is a JSON object';
  const unknown = Object.keys(spec).filter((k) => !['values', 'sign', 'after'].includes(k));
  if (unknown.length) return `unknown fields: ${unknown.join(', ')}`;
  if (spec.values !== undefined) {
    if (!isObject(spec.values)) return '"values" is an object';
    for (const [name, value] of Object.entries(spec.values)) {
      if (!VALUES.includes(name)) return `"values" has ${VALUES.join(', ')}, not ${name}`;
      const ok =
        typeof value === 'string' ||
        (value === null && !NOT_NULLABLE.includes(name)) ||
        (isObject(value) && Number.isFinite(value.offsetSeconds));
      if (!ok) return `values.${name} is a string, {"offsetSeconds": N} or (but for issuer, issueInstant) null`;
    }
  }
  if (spec.sign !== undefined && !SIGN_MODES.includes(spec.sign)) {
    return `"sign" is one of ${SIGN_MODES.join(', ')}`;
  }
  if (spec.after !== undefined && !AFTER.includes(spec.after)) {
    return `"after" is one of ${AFTER.join(', ')}`;
  }
  if (XSW.includes(spec.after) && spec.sign === 'none') return `${spec.after} needs a signature`;
  if ((spec.after === 'xsw1' || spec.after === 'xsw2') && spec.sign === 'assertion') {
    return `${spec.after} wraps the Response's signature: sign "response" or "both"`;
  }
  if (XSW.includes(spec.after) && !['xsw1', 'xsw2'].includes(spec.after) && spec.sign === 'response') {
    return `${spec.after} wraps the Assertion's signature: sign "assertion" or "both"`;
  }
  return null;
}

/** Which element is signed (or null for none) and with which key, for `spec` (a tamper or null). */
function signing(spec) {
  const mode = spec?.sign ?? 'idp';
  if (mode === 'none') return { element: null, key: null };
  const key = mode === 'foreign' ? newSigningKey() : keys[0];
  let element = SIGN_ELEMENTS.includes(mode) ? mode : (config.sign ?? 'assertion');
  if (!SIGN_ELEMENTS.includes(mode)) {
    if (spec?.after === 'xsw1' || spec?.after === 'xsw2') element = 'response';
    else if (XSW.includes(spec?.after) && element === 'response') element = 'assertion';
  }
  return { element, key };
}

/** A tamper value: a string as is, null, or {offsetSeconds} as a time relative to `now`. */
function resolveValue(value, now) {
  if (isObject(value)) return instant(new Date(now.getTime() + value.offsetSeconds * 1000));
  return value;
}

/** ` name="value"`, or nothing when value is null. */
function attribute(name, value) {
  return value === null || value === undefined ? '' : ` ${name}="${xml(value)}"`;
}

/** The account's attributes as [name, [values]]. */
function accountAttributes(account) {
  const out = [];
  if (account.email != null) out.push(['email', [account.email]]);
  if (account.name != null) out.push(['name', [account.name]]);
  if (account.groups != null) out.push(['groups', [].concat(account.groups)]);
  for (const [name, values] of Object.entries(account.attributes ?? {})) {
    out.push([name, [].concat(values)]);
  }
  return out;
}

/**
 * The unsigned samlp:Response for `account` to the SP at `acs` (audience: its entity id), in reply
 * to the request `inResponseTo` (null for an unsolicited one), with the tamper's `values`.
 */
function responseXml({ account, acs, audience, inResponseTo, values, nameID }) {
  const now = new Date();
  const later = instant(new Date(now.getTime() + lifetimeSeconds * 1000));
  const defaults = {
    audience,
    recipient: acs,
    destination: acs,
    issuer: entityId,
    inResponseTo,
    notBefore: instant(now),
    notOnOrAfter: later,
    issueInstant: instant(now),
  };
  const v = { ...defaults };
  for (const [name, value] of Object.entries(values ?? {})) v[name] = resolveValue(value, now);

  const responseId = newId();
  const assertionId = newId();
  const attributes = accountAttributes(account)
    .map(
      ([name, list]) =>
        `<saml:Attribute Name="${xml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${list
          .map((value) => `<saml:AttributeValue>${xml(value)}</saml:AttributeValue>`)
          .join('')}</saml:Attribute>`,
    )
    .join('');
  const audienceRestriction =
    v.audience === null
      ? ''
      : `<saml:AudienceRestriction><saml:Audience>${xml(v.audience)}</saml:Audience></saml:AudienceRestriction>`;
  const text =
    `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${responseId}" Version="2.0"` +
    `${attribute('IssueInstant', v.issueInstant)}${attribute('Destination', v.destination)}${attribute('InResponseTo', v.inResponseTo)}>` +
    `<saml:Issuer>${xml(v.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion ID="${assertionId}" Version="2.0"${attribute('IssueInstant', v.issueInstant)}>` +
    `<saml:Issuer>${xml(v.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${xml(account.nameIDFormat ?? NAMEID_EMAIL)}">${xml(nameID ?? account.nameID)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData${attribute('InResponseTo', v.inResponseTo)}${attribute('NotOnOrAfter', v.notOnOrAfter)}${attribute('Recipient', v.recipient)}/>` +
    `</saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions${attribute('NotBefore', v.notBefore)}${attribute('NotOnOrAfter', v.notOnOrAfter)}>${audienceRestriction}</saml:Conditions>` +
    `<saml:AuthnStatement${attribute('AuthnInstant', v.issueInstant)} SessionIndex="${newId()}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>` +
    `</saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion></samlp:Response>`;
  return { text, responseId };
}

// ---- Changes after signing (the tamper's `after`), on the DOM ----

/** The element children of `node` named `local` (any namespace). */
function childElements(node, local) {
  return Array.from(node.childNodes).filter((n) => n.nodeType === 1 && n.localName === local);
}

/** The first descendant of `node` named `local` (any namespace), or null. */
function descendant(node, local) {
  return node.getElementsByTagNameNS('*', local).item(0);
}

function setText(element, text) {
  while (element.firstChild) element.removeChild(element.firstChild);
  element.appendChild(element.ownerDocument.createTextNode(text));
}

/** The Assertion that is a child of the Response. */
function responseAssertion(doc) {
  const [assertion] = childElements(doc.documentElement, 'Assertion');
  if (!assertion) throw new Error('the response has no Assertion');
  return assertion;
}

/** Removes the ds:Signature that is a child of `element`, if any. */
function dropSignature(element) {
  for (const signature of childElements(element, 'Signature')) element.removeChild(signature);
}

/** The ds:Signature that is a child of `element`; throws when there is none. */
function signatureOf(element) {
  const [signature] = childElements(element, 'Signature');
  if (!signature) throw new Error(`the ${element.localName} is not signed`);
  return signature;
}

/** Makes the assertions in `element` (an Assertion or a Response) name evil@evil.test as NameID and email. */
function makeEvil(element) {
  const assertions =
    element.localName === 'Assertion' ? [element] : childElements(element, 'Assertion');
  for (const assertion of assertions) {
    const doc = assertion.ownerDocument;
    const [subject] = childElements(assertion, 'Subject');
    const nameId = subject && childElements(subject, 'NameID')[0];
    if (nameId) setText(nameId, EVIL);
    let [statement] = childElements(assertion, 'AttributeStatement');
    if (!statement) {
      statement = doc.createElementNS(NS.assertion, 'saml:AttributeStatement');
      assertion.appendChild(statement);
    }
    let email = childElements(statement, 'Attribute').find((a) => a.getAttribute('Name') === 'email');
    if (!email) {
      email = doc.createElementNS(NS.assertion, 'saml:Attribute');
      email.setAttribute('Name', 'email');
      email.setAttribute('NameFormat', 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic');
      statement.insertBefore(email, statement.firstChild);
    }
    while (email.firstChild) email.removeChild(email.firstChild);
    const value = doc.createElementNS(NS.assertion, 'saml:AttributeValue');
    value.appendChild(doc.createTextNode(EVIL));
    email.appendChild(value);
  }
}

/** An unsigned, evil copy of `assertion`, with `id` (or the same ID when none is given). */
function evilCopy(assertion, id) {
  const copy = assertion.cloneNode(true);
  dropSignature(copy);
  if (id) copy.setAttribute('ID', id);
  makeEvil(copy);
  return copy;
}

/** A copy of `element` as it was signed: its own ds:Signature taken out. */
function signedCopy(element) {
  const copy = element.cloneNode(true);
  dropSignature(copy);
  return copy;
}

/** Applies `after` (one of AFTER) to the signed XML text. `account` is the one signed in. */
function applyAfter(text, after, account) {
  const doc = new DOMParser().parseFromString(text, 'text/xml');
  const response = doc.documentElement;
  const assertion = responseAssertion(doc);
  const nameId = descendant(assertion, 'NameID');
  let doctype = false;
  switch (after) {
    case 'tamper-nameid':
      setText(nameId, EVIL);
      break;
    case 'tamper-attribute': {
      let [statement] = childElements(assertion, 'AttributeStatement');
      if (!statement) {
        statement = doc.createElementNS(NS.assertion, 'saml:AttributeStatement');
        assertion.appendChild(statement);
      }
      let groups = childElements(statement, 'Attribute').find((a) => a.getAttribute('Name') === 'groups');
      if (!groups) {
        groups = doc.createElementNS(NS.assertion, 'saml:Attribute');
        groups.setAttribute('Name', 'groups');
        groups.setAttribute('NameFormat', 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic');
        statement.appendChild(groups);
      }
      const [value] = childElements(groups, 'AttributeValue');
      if (value) {
        setText(value, 'admins');
      } else {
        const added = doc.createElementNS(NS.assertion, 'saml:AttributeValue');
        added.appendChild(doc.createTextNode('admins'));
        groups.appendChild(added);
      }
      break;
    }
    case 'comment-nameid': {
      // Built and signed as <nameID>.evil (see buildResponse).
      while (nameId.firstChild) nameId.removeChild(nameId.firstChild);
      nameId.appendChild(doc.createTextNode(account.nameID));
      nameId.appendChild(doc.createComment(''));
      nameId.appendChild(doc.createTextNode('.evil'));
      break;
    }
    case 'doctype':
      doctype = true;
      break;
    case 'unsigned-second-assertion':
      response.insertBefore(evilCopy(assertion, newId()), assertion.nextSibling);
      break;
    case 'xsw1':
    case 'xsw2': {
      const original = signedCopy(response);
      const signature = signatureOf(response);
      makeEvil(response);
      if (after === 'xsw1') signature.appendChild(original);
      else response.insertBefore(original, signature);
      response.setAttribute('ID', '_evil_response_ID');
      break;
    }
    case 'xsw3':
      signatureOf(assertion);
      response.insertBefore(evilCopy(assertion, '_evil_assertion_ID'), assertion);
      break;
    case 'xsw4': {
      signatureOf(assertion);
      const evil = evilCopy(assertion, '_evil_assertion_ID');
      response.replaceChild(evil, assertion);
      evil.appendChild(assertion);
      break;
    }
    case 'xsw5':
    case 'xsw6': {
      const signature = signatureOf(assertion);
      const original = signedCopy(assertion);
      makeEvil(assertion);
      assertion.setAttribute('ID', '_evil_assertion_ID');
      if (after === 'xsw5') response.appendChild(original);
      else signature.appendChild(original);
      break;
    }
    case 'xsw7': {
      signatureOf(assertion);
      const extensions = doc.createElementNS(NS.protocol, 'samlp:Extensions');
      extensions.appendChild(evilCopy(assertion, null));
      response.insertBefore(extensions, assertion);
      break;
    }
    case 'xsw8': {
      const signature = signatureOf(assertion);
      const original = signedCopy(assertion);
      makeEvil(assertion);
      const object = doc.createElementNS(NS.dsig, 'ds:Object');
      object.appendChild(original);
      signature.appendChild(object);
      break;
    }
    default:
      throw new Error(`unknown after: ${after}`);
  }
  let out = new XMLSerializer().serializeToString(doc);
  if (doctype) {
    const value = /(<saml:AttributeValue[^>]*>)[^<]*(<\/saml:AttributeValue>)/;
    const name = /(<saml:NameID[^>]*>)[^<]*(<\/saml:NameID>)/;
    out = out.replace(value.test(out) ? value : name, '$1&xxe;$2');
    const declaration = out.match(/^<\?xml[^>]*\?>/)?.[0] ?? '';
    out = `${declaration}<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${out.slice(declaration.length)}`;
  }
  return out;
}

/**
 * The response XML for `account` to the SP at `acs`, for the AuthnRequest `inResponseTo` (null when
 * unsolicited): signed as the config says, or as the armed tamper says, which it uses up.
 */
async function buildResponse({ account, acs, audience, inResponseTo }) {
  const spec = tamper;
  tamper = null;
  if (spec) tampered += 1;
  const { text, responseId } = responseXml({
    account,
    acs,
    audience,
    inResponseTo,
    values: spec?.values,
    nameID: spec?.after === 'comment-nameid' ? `${account.nameID}.evil` : undefined,
  });
  const { element, key } = signing(spec);
  let out = element ? await signResponse(text, responseId, key, element) : text;
  if (spec?.after) out = applyAfter(out, spec.after, account);
  return out;
}

// ---- Metadata ----

function metadataXml() {
  const keyDescriptors = keys
    .map(
      (key) =>
        `    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${key.certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="${NS.metadata}" xmlns:ds="${NS.dsig}" entityID="${xml(entityId)}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${NS.protocol}">
${keyDescriptors}    <md:NameIDFormat>${NAMEID_EMAIL}</md:NameIDFormat>
    <md:NameIDFormat>${NAMEID_PERSISTENT}</md:NameIDFormat>
    <md:SingleSignOnService Binding="${BINDING.redirect}" Location="${xml(base)}/sso"/>
    <md:SingleSignOnService Binding="${BINDING.post}" Location="${xml(base)}/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}

// ---- AuthnRequests ----

/** A parse failure, answered with 400. */
class BadRequest extends Error {}

/** Parses XML, throwing BadRequest on any error or warning of the parser. */
function parseXml(text) {
  const fail = (message) => {
    throw new BadRequest(`the SAMLRequest is not well-formed XML: ${message}`);
  };
  const doc = new DOMParser({
    errorHandler: { warning: fail, error: fail, fatalError: fail },
  }).parseFromString(text, 'text/xml');
  if (!doc?.documentElement) fail('no document element');
  return doc;
}

/** The AuthnRequest's fields from its XML. */
function authnRequest(text) {
  if (/<!DOCTYPE/i.test(text)) throw new BadRequest('the SAMLRequest has a DOCTYPE');
  const doc = parseXml(text);
  const root = doc.documentElement;
  if (root.localName !== 'AuthnRequest' || root.namespaceURI !== NS.protocol) {
    throw new BadRequest(`the SAMLRequest is a ${root.nodeName}, not a samlp:AuthnRequest`);
  }
  const [issuer] = childElements(root, 'Issuer').filter((e) => e.namespaceURI === NS.assertion);
  const request = {
    id: root.getAttribute('ID') || null,
    acs: root.getAttribute('AssertionConsumerServiceURL') || null,
    issuer: issuer ? issuer.textContent.trim() : null,
    destination: root.getAttribute('Destination') || null,
    issueInstant: root.getAttribute('IssueInstant') || null,
  };
  if (!request.id) throw new BadRequest('the AuthnRequest has no ID');
  if (!request.issuer) throw new BadRequest('the AuthnRequest has no Issuer');
  if (!request.acs) {
    throw new BadRequest('the AuthnRequest has no AssertionConsumerServiceURL (this IdP holds no SP metadata)');
  }
  return { request, doc };
}

/** base64 from a form or query value: a `+` decoded as a space is a `+` again. */
function base64Value(value) {
  return Buffer.from(value.replace(/ /g, '+'), 'base64');
}

/** The first raw (still URL-encoded) value of each query parameter. */
function rawQueryValues(rawQuery) {
  const values = {};
  for (const part of rawQuery.split('&')) {
    const at = part.indexOf('=');
    const name = at < 0 ? part : part.slice(0, at);
    if (!(name in values)) values[name] = at < 0 ? '' : part.slice(at + 1);
  }
  return values;
}

/** Whether the redirect binding's signature over the raw query holds for the SP's certificate. */
function redirectSignatureValid(rawQuery, params) {
  const raw = rawQueryValues(rawQuery);
  const alg = SIG_ALGS[params.get('SigAlg')];
  if (!alg) return false;
  let signed = `SAMLRequest=${raw.SAMLRequest}`;
  if ('RelayState' in raw) signed += `&RelayState=${raw.RelayState}`;
  signed += `&SigAlg=${raw.SigAlg}`;
  try {
    const key = new crypto.X509Certificate(spCertificate).publicKey;
    return crypto.verify(
      alg.digest,
      Buffer.from(signed, 'utf8'),
      alg.dsaEncoding ? { key, dsaEncoding: alg.dsaEncoding } : key,
      base64Value(params.get('Signature') ?? ''),
    );
  } catch (err) {
    console.error('the AuthnRequest signature could not be checked:', err.message);
    return false;
  }
}

/** Whether the POST binding's enveloped signature on the AuthnRequest holds for the SP's certificate. */
function postSignatureValid(text, doc) {
  try {
    const [signature] = childElements(doc.documentElement, 'Signature');
    const sig = new SignedXml({ publicCert: spCertificate, getCertFromKeyInfo: () => null });
    sig.loadSignature(signature);
    if (!sig.checkSignature(text)) return false;
    // The reference must be the AuthnRequest itself.
    const uri = sig.getReferences()[0]?.uri ?? '';
    return uri === '' || uri === `#${doc.documentElement.getAttribute('ID')}`;
  } catch (err) {
    console.error('the AuthnRequest signature does not hold:', err.message);
    return false;
  }
}

/** The login page for `request`; its hidden fields carry the request to POST /sso/login. */
function loginPage(request) {
  const hidden = [
    ['SAMLRequestID', request.id],
    ['AssertionConsumerServiceURL', request.acs],
    ['SPEntityID', request.issuer],
    ...(request.relayState === null ? [] : [['RelayState', request.relayState]]),
  ]
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${html(value)}">\n`)
    .join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in to ${html(request.issuer)}</h1>
<form method="post" action="/sso/login">
${hidden}<label>Account <input name="login" autofocus></label>
<button type="submit">Sign in</button>
</form>
</body></html>
`;
}

/** The page that posts `samlResponse` (XML) and `relayState` to the SP's ACS. */
function autoPostPage(acs, samlResponse, relayState) {
  const encoded = Buffer.from(samlResponse, 'utf8').toString('base64');
  const relay =
    relayState === null || relayState === undefined
      ? ''
      : `<input type="hidden" name="RelayState" value="${html(relayState)}">\n`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Signing in</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="${html(acs)}">
<input type="hidden" name="SAMLResponse" value="${html(encoded)}">
${relay}<noscript><button type="submit">Continue</button></noscript>
</form>
</body></html>
`;
}

/** GET /sso and POST /sso: records the AuthnRequest and answers the login page. */
function sso(res, binding, params, rawQuery) {
  const samlRequest = params.get('SAMLRequest');
  if (!samlRequest) throw new BadRequest('no SAMLRequest');
  let text;
  const bytes = base64Value(samlRequest);
  if (binding === 'redirect') {
    try {
      text = zlib.inflateRawSync(bytes).toString('utf8');
    } catch (err) {
      throw new BadRequest(`the SAMLRequest is not base64 of DEFLATE data: ${err.message}`);
    }
  } else {
    text = bytes.toString('utf8');
  }
  const { request, doc } = authnRequest(text);
  const signed =
    binding === 'redirect'
      ? params.has('Signature')
      : childElements(doc.documentElement, 'Signature').length > 0;
  let signatureValid = null;
  if (signed && spCertificate) {
    signatureValid =
      binding === 'redirect'
        ? redirectSignatureValid(rawQuery, params)
        : postSignatureValid(text, doc);
  }
  lastRequest = {
    ...request,
    relayState: params.get('RelayState'),
    binding,
    signed,
    sigAlg: binding === 'redirect' ? params.get('SigAlg') : null,
    signatureValid,
  };
  sendHtml(res, 200, loginPage(lastRequest));
}

/** POST /sso/login: signs the account in and answers the page that posts the response to the ACS. */
async function ssoLogin(res, form) {
  const login = form.get('login') ?? '';
  const account = Object.hasOwn(config.accounts, login) ? config.accounts[login] : null;
  if (!account) {
    errorPage(res, 401, `unknown account ${login}`);
    return;
  }
  const [id, acs, audience] = ['SAMLRequestID', 'AssertionConsumerServiceURL', 'SPEntityID'].map(
    (name) => form.get(name),
  );
  if (!id || !acs || !audience) {
    errorPage(res, 400, 'the form lacks SAMLRequestID, AssertionConsumerServiceURL or SPEntityID');
    return;
  }
  const response = await buildResponse({ account, acs, audience, inResponseTo: id });
  sendHtml(res, 200, autoPostPage(acs, response, form.get('RelayState')));
}

// ---- The server ----

async function jsonBody(req) {
  const text = await body(req);
  try {
    return JSON.parse(text || 'null');
  } catch {
    throw new BadRequest('the body is not JSON');
  }
}

async function route(req, res, url) {
  const path = url.pathname;
  const method = req.method;
  if (method === 'GET' && path === '/metadata') {
    send(res, 200, 'application/samlmetadata+xml', metadataXml());
  } else if (method === 'GET' && path === '/sso') {
    const at = req.url.indexOf('?');
    sso(res, 'redirect', url.searchParams, at < 0 ? '' : req.url.slice(at + 1));
  } else if (method === 'POST' && path === '/sso') {
    sso(res, 'post', new URLSearchParams(await body(req)), '');
  } else if (method === 'POST' && path === '/sso/login') {
    await ssoLogin(res, new URLSearchParams(await body(req)));
  } else if (method === 'POST' && path === '/test/idp-initiated') {
    const spec = await jsonBody(req);
    if (!isObject(spec) || typeof spec.acs !== 'string' || typeof spec.audience !== 'string') {
      sendError(res, 400, 'the body is {login, acs, audience, relayState?}');
      return;
    }
    const account = Object.hasOwn(config.accounts, spec.login) ? config.accounts[spec.login] : null;
    if (!account) {
      sendError(res, 404, `unknown account ${spec.login}`);
      return;
    }
    const response = await buildResponse({
      account,
      acs: spec.acs,
      audience: spec.audience,
      inResponseTo: null,
    });
    sendJson(res, 200, {
      SAMLResponse: Buffer.from(response, 'utf8').toString('base64'),
      RelayState: spec.relayState ?? null,
    });
  } else if (method === 'POST' && path === '/test/tamper') {
    const spec = await jsonBody(req);
    const problem = tamperProblem(spec);
    if (problem) {
      sendError(res, 400, problem);
      return;
    }
    tamper = spec;
    sendJson(res, 200, { armed: true });
  } else if (method === 'GET' && path === '/test/tamper') {
    sendJson(res, 200, { armed: tamper !== null, applied: tampered });
  } else if (method === 'POST' && path === '/test/rotate-keys') {
    const key = newSigningKey();
    keys = url.searchParams.get('keep') === '1' ? [key, ...keys] : [key];
    sendJson(res, 200, { certificate: key.certBase64 });
  } else if (method === 'GET' && path === '/test/last-request') {
    sendJson(res, 200, lastRequest);
  } else if (method === 'POST' && path === '/test/sp') {
    const spec = await jsonBody(req);
    if (!isObject(spec) || !(typeof spec.certificate === 'string' || spec.certificate === null)) {
      sendError(res, 400, 'the body is {certificate: "<base64 DER or PEM>" | null}');
      return;
    }
    try {
      spCertificate = spec.certificate === null ? null : certificatePem(spec.certificate);
    } catch (err) {
      sendError(res, 400, `not a certificate: ${err.message}`);
      return;
    }
    sendJson(res, 200, { registered: spCertificate !== null });
  } else if (method === 'GET' && path === '/test/certificate') {
    sendJson(res, 200, { certificates: keys.map((k) => k.certBase64) });
  } else {
    sendError(res, 404, `no ${method} ${path}`);
  }
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  try {
    await route(req, res, url);
  } catch (err) {
    const status = err instanceof BadRequest ? 400 : 500;
    if (status === 500) console.error(`${req.method} ${url.pathname}:`, err);
    if (res.headersSent) {
      res.end();
    } else if (url.pathname.startsWith('/test/')) {
      sendError(res, status, err.message);
    } else {
      errorPage(res, status, err.message);
    }
  }
});

server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  entityId = `${base}/metadata`;
  process.stdout.write(`listening ${base}\n`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.argv[2]) {
  // The test holds stdin open for as long as it wants the IdP: its end, or its death, ends it.
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
