#!/usr/bin/env node
// A demo origin behind the torii-edge gateway: a loopback HTTP server that prints the
// headers it receives and verifies the edge assertion (x-torii-edge-assertion) with jose
// against the tenant's JWKS, then answers with what it saw as JSON.
//
//   node scripts/demo-origin.mjs --port 8788 --edge http://127.0.0.1:8787
//
// Tests import `startDemoOrigin` and `createEdgeAssertionVerifier` from here.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export const EDGE_ASSERTION_TYP = 'torii-edge-assertion+jwt';
/** The identity headers the assertion binds (`ihash`), in canonical order. */
export const IDENTITY_HEADERS = [
  'x-torii-user-id', 'x-torii-session-id', 'x-torii-tenant-id', 'x-torii-issuer',
  'x-torii-org-id', 'x-torii-org-role', 'x-torii-aal', 'x-torii-claims',
];

/** base64url(SHA-256(`name:value\n` for each identity header present, in order)). */
export function identityHash(headers) {
  const canonical = IDENTITY_HEADERS.filter((n) => headers[n] !== undefined)
    .map((n) => `${n}:${headers[n]}\n`)
    .join('');
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Returns `verify(req)` for a Node `http.IncomingMessage`: it checks the request's
 * `x-torii-edge-assertion` (EdDSA, typ, issuer, audience = this origin, ≤ 60 s old) with
 * jose against the tenant JWKS, then its binding to the method, the URL and every
 * identity header (`ihash`). Resolves to the verified claims (base64url-decoded
 * `x-torii-claims`, or `null` for an anonymous request); rejects otherwise.
 *
 * `issuer`: the tenant's issuer (the edge's URL); `audience`: this origin as the edge's
 * ORIGIN_URL names it (`http://127.0.0.1:8788`); `jwksUrl` defaults to the issuer's.
 */
export function createEdgeAssertionVerifier({ issuer, audience, jwksUrl }) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl ?? `${issuer}/_torii/.well-known/jwks.json`));
  const base = audience.replace(/\/+$/, '');
  return async function verify(req) {
    const assertion = req.headers['x-torii-edge-assertion'];
    if (typeof assertion !== 'string') throw new Error('no edge assertion: not from the edge');
    const { payload } = await jwtVerify(assertion, jwks, {
      issuer,
      audience: base,
      typ: EDGE_ASSERTION_TYP,
      algorithms: ['EdDSA'],
      maxTokenAge: 60,
      requiredClaims: ['exp', 'iat', 'htm', 'htu', 'ihash'],
    });
    const claimsHeader = req.headers['x-torii-claims'] ?? '';
    if (payload.htm !== req.method) throw new Error('edge assertion: method mismatch');
    if (payload.htu !== base + req.url) throw new Error('edge assertion: URL mismatch');
    if (payload.ihash !== identityHash(req.headers)) throw new Error('edge assertion: identity headers mismatch');
    return claimsHeader ? JSON.parse(Buffer.from(claimsHeader, 'base64url').toString('utf8')) : null;
  };
}

/**
 * Starts the demo origin on `host:port` (port 0: a free one). `edge` is the edge's URL
 * (issuer and JWKS); it may also be set later through the returned object's `edge`.
 * Resolves to `{ url, requests, close(), edge }`; `requests` lists every request seen:
 * `{ method, url, rawHeaders: [[name, value], …], assertion: { ok, error?, claims? } }`.
 */
export async function startDemoOrigin({ port = 0, host = '127.0.0.1', edge, quiet = false } = {}) {
  const state = { edge, verifier: null, verifierFor: null };
  const requests = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    const rawHeaders = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    }
    let assertion;
    try {
      if (!state.edge) throw new Error('demo origin: edge URL not set');
      if (state.verifierFor !== state.edge) {
        state.verifier = createEdgeAssertionVerifier({ issuer: state.edge, audience: url });
        state.verifierFor = state.edge;
      }
      assertion = { ok: true, claims: await state.verifier(req) };
    } catch (e) {
      assertion = { ok: false, error: `${e.code ?? e.name}: ${e.message}` };
    }
    const seen = { method: req.method, url: req.url, rawHeaders, body, assertion };
    requests.push(seen);
    if (!quiet) {
      console.log(`demo-origin: ${req.method} ${req.url}`);
      for (const [n, v] of rawHeaders) {
        if (/^x-torii-|^x-request-id$/i.test(n)) {
          console.log(`  ${n}: ${v.length > 80 ? `${v.slice(0, 77)}...` : v}`);
        }
      }
      console.log(assertion.ok ? '  edge assertion: ok' : `  edge assertion: REJECTED (${assertion.error})`);
    }
    const status = req.url.startsWith('/status/') ? Number(req.url.slice(8, 11)) || 200 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'x-demo-origin': '1' });
    res.end(JSON.stringify(seen));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  return {
    url,
    requests,
    get edge() {
      return state.edge;
    },
    set edge(v) {
      state.edge = v;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8788' },
      edge: { type: 'string', default: 'http://127.0.0.1:8787' },
    },
  });
  const origin = await startDemoOrigin({ port: Number(values.port), edge: values.edge });
  console.log(`demo-origin: listening on ${origin.url}, trusting the edge at ${values.edge}`);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => origin.close().then(() => process.exit(0)));
  }
}
