// End-to-end: tenants from local D1 and the minting endpoint, against the real Worker
// under `wrangler dev` (migrations applied, tenants seeded by the harness).
//
// * well-known documents per tenant (loopback default, x-application-id, <id>.<base>
//   host, custom domain), with Cache-Control, ETag and 304;
// * a token of one tenant fails at another (unknown_key / invalid_issuer, and a kid
//   collision still fails);
// * POST /_torii/auth/session/token: 200 session / template tokens that verify with jose
//   against the served JWKS, 404 unknown template, 401 revoked session, template token
//   used as a session token, expired token; CORS;
// * a warm request reads nothing from D1.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { deriveKey, mintDevToken } from '../../scripts/dev-token.mjs';
import { DEMO_USER } from '../../scripts/seed.mjs';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ROOT, newDevSession, requestWithHost, startWorker } from './worker.mjs';

const SECRET = 'e2e-tenants-master-secret-not-for-production-0123456789';
const DISCOVERY = '/.well-known/openid-configuration';
const JWKS = '/_torii/.well-known/jwks.json';
const MINT = '/_torii/auth/session/token';
const ACME_ISSUER = 'https://acme.torii.test';
const GLOBEX_ISSUER = 'https://auth.globex.test';

/** GET with an explicit Host header (fetch cannot set one). */
const getWithHost = (origin, path, host, headers = {}) => requestWithHost(origin, path, { host, headers });

describe('tenants and minting under wrangler dev', () => {
  let w;
  let origin;
  const seen = [];
  const get = (path, headers = {}) => fetch(w.origin + path, { headers });
  const mint = (token, { template, headers = {}, method = 'POST' } = {}) =>
    fetch(w.origin + MINT + (template === undefined ? '' : `?template=${encodeURIComponent(template)}`), {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
  const newSession = (headers = {}) => newDevSession(w.origin, { headers });
  const jwksOf = async (headers = {}) => (await (await get(JWKS, headers)).json()).keys;

  before(async () => {
    origin = createServer((req, res) => {
      seen.push({ url: req.url, user: req.headers['x-torii-user-id'], tenant: req.headers['x-torii-tenant-id'] });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise((r) => origin.listen(0, '127.0.0.1', r));
    w = await startWorker(
      {
        TORII_MASTER_SECRET: SECRET,
        TORII_DEV_MODE: '1',
        TORII_BASE_DOMAIN: 'torii.test',
        ORIGIN_URL: `http://127.0.0.1:${origin.address().port}`,
        ROUTES: JSON.stringify([{ path: '/graphql', access: 'required', templates: ['hasura'] }]),
        TORII_LOG: 'off',
      },
      {
        tenants: [
          { id: 'demo' },
          { id: 'acme', issuer: ACME_ISSUER },
          { id: 'globex', issuer: GLOBEX_ISSUER, domains: ['auth.globex.test'], templates: [] },
        ],
      },
    );
  });
  after(async () => {
    await w?.stop();
    origin?.close();
  });

  test('well-known per tenant: issuer, own keys, Cache-Control, ETag and 304', async () => {
    const demo = await get(DISCOVERY);
    assert.equal(demo.status, 200);
    assert.equal((await demo.json()).issuer, w.origin);
    const acme = await get(DISCOVERY, { 'x-application-id': 'acme' });
    const acmeDoc = await acme.json();
    assert.equal(acmeDoc.issuer, ACME_ISSUER);
    assert.equal(acmeDoc.jwks_uri, ACME_ISSUER + JWKS);

    const [demoKeys, acmeKeys] = [await jwksOf(), await jwksOf({ 'x-application-id': 'acme' })];
    assert.equal(demoKeys.length, 1);
    assert.equal(acmeKeys.length, 1);
    assert.notEqual(demoKeys[0].kid, acmeKeys[0].kid);
    assert.equal(demoKeys[0].kid, (await deriveKey(SECRET, 'demo', 1)).kid, 'key version 1 derived by HKDF');
    for (const k of [...demoKeys, ...acmeKeys]) assert.equal(k.d, undefined);

    for (const [path, headers] of [[JWKS, {}], [DISCOVERY, {}], [JWKS, { 'x-application-id': 'acme' }]]) {
      const res = await get(path, headers);
      const etag = res.headers.get('etag');
      assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      await res.arrayBuffer();
      const again = await get(path, { ...headers, 'if-none-match': etag });
      assert.equal(again.status, 304, path);
      assert.equal(again.headers.get('etag'), etag);
      assert.equal((await again.arrayBuffer()).byteLength, 0);
      const stale = await get(path, { ...headers, 'if-none-match': '"stale"' });
      assert.equal(stale.status, 200);
      await stale.arrayBuffer();
    }
    const demoTag = (await get(JWKS)).headers.get('etag');
    const acmeTag = (await get(JWKS, { 'x-application-id': 'acme' })).headers.get('etag');
    assert.notEqual(demoTag, acmeTag);
  });

  test('tenant from the host: <id>.<base domain> and a custom domain in D1; unknown → 404', async () => {
    const port = w.port;
    const byHost = (host, headers = {}) => getWithHost(w.origin, DISCOVERY, host, headers);
    assert.equal((await byHost(`acme.torii.test:${port}`)).body.issuer, ACME_ISSUER);
    assert.equal((await byHost(`auth.globex.test:${port}`)).body.issuer, GLOBEX_ISSUER);
    const mismatch = await byHost(`acme.torii.test:${port}`, { 'x-application-id': 'globex' });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.code, 'tenant_mismatch');
    for (const host of [`nope.torii.test:${port}`, `torii.test:${port}`, `unmapped.example:${port}`]) {
      const r = await byHost(host);
      assert.equal(r.status, 404, host);
      assert.equal(r.body.code, 'tenant_not_found');
    }
    const unknown = await get(JWKS, { 'x-application-id': 'nope' });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).code, 'tenant_not_found');
  });

  test('mint: a fresh session token (default template) that jose verifies against the JWKS', async () => {
    const { sessionId, accessToken } = await newSession();
    const res = await mint(accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'expiresAt']);
    const jwks = createRemoteJWKSet(new URL(w.origin + JWKS));
    const { payload, protectedHeader } = await jwtVerify(body.accessToken, jwks, { issuer: w.origin, typ: 'JWT' });
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(payload.sid, sessionId);
    assert.equal(payload.sub, DEMO_USER);
    assert.equal(payload.pid, 'demo');
    assert.equal(payload.role, 'admin', 'default template claims');
    assert.equal(payload.email, 'ada@example.com');
    assert.equal(payload.plan, 'pro');
    assert.equal(new Date(body.expiresAt).getTime() / 1000, payload.exp);
    assert.equal(payload.exp - payload.iat, 60);
    // The seeded session works with a token minted outside the Worker (same HKDF key).
    const seeded = await mintDevToken({ masterSecret: SECRET, issuer: w.origin });
    assert.equal((await mint(seeded)).status, 200);
  });

  test('mint: the "hasura" template token (seed 002), its own typ and lifetime, no private metadata', async () => {
    const { accessToken } = await newSession();
    const res = await mint(accessToken, { template: 'hasura' });
    assert.equal(res.status, 200);
    const { accessToken: t, expiresAt } = await res.json();
    const jwks = createRemoteJWKSet(new URL(w.origin + JWKS));
    const { payload } = await jwtVerify(t, jwks, { issuer: w.origin, typ: 'torii-template+jwt' });
    assert.deepEqual(payload['https://hasura.io/jwt/claims'], {
      'x-hasura-default-role': 'admin',
      'x-hasura-user-id': DEMO_USER,
    });
    assert.equal(payload.exp - payload.iat, 300);
    assert.equal(Date.parse(expiresAt) / 1000, payload.exp);
    assert.doesNotMatch(JSON.stringify(payload), /cus_demo_123/);
    assert.equal(payload.role, undefined, 'the default template is not applied to named templates');

    // A template token is not a session token.
    const reuse = await mint(t);
    assert.equal(reuse.status, 401);
    assert.equal((await reuse.json()).code, 'invalid_token_type');
    assert.match(reuse.headers.get('www-authenticate'), /error="invalid_token"/);
  });

  test('mint: unknown template → 404 jwt_template_not_found; another tenant\'s template is unknown', async () => {
    const { accessToken } = await newSession();
    for (const name of ['nope', '', 'x'.repeat(65)]) {
      const res = await mint(accessToken, { template: name });
      assert.equal(res.status, 404, name);
      assert.equal((await res.json()).code, 'jwt_template_not_found');
    }
    // globex has no templates at all: its sessions mint plain session tokens only.
    const g = await newSession({ 'x-application-id': 'globex' });
    const res = await mint(g.accessToken, { template: 'hasura', headers: { 'x-application-id': 'globex' } });
    assert.equal(res.status, 404);
    const plain = await mint(g.accessToken, { headers: { 'x-application-id': 'globex' } });
    assert.equal(plain.status, 200);
    const p = decodeJwt((await plain.json()).accessToken);
    assert.equal(p.iss, GLOBEX_ISSUER);
    assert.equal(p.role, undefined);
  });

  test('mint: revoked session → 401 session_revoked; expired or missing token → 401', async () => {
    const { sessionId, accessToken } = await newSession();
    assert.equal((await mint(accessToken)).status, 200);
    const revoke = await fetch(`${w.origin}/_torii/devtools/sessions/revoke`, {
      method: 'POST',
      body: JSON.stringify({ sessionId }),
    });
    assert.equal(revoke.status, 204);
    for (const template of [undefined, 'hasura']) {
      const res = await mint(accessToken, { template });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).code, 'session_revoked');
      assert.match(res.headers.get('www-authenticate'), /session_revoked/);
    }
    const now = Math.floor(Date.now() / 1000);
    const expired = await mintDevToken({ masterSecret: SECRET, issuer: w.origin, now: now - 3600, lifetime: 60 });
    const res = await mint(expired);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).code, 'token_expired');
    const missing = await mint(null);
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).code, 'missing_token');
    // A well-signed token for a session that does not exist.
    const ghost = await mintDevToken({ masterSecret: SECRET, issuer: w.origin, claims: { sid: 'sess_ghost' } });
    assert.equal((await (await mint(ghost)).json()).code, 'session_revoked');
  });

  test('a token of one tenant fails at another, even with a colliding kid', async () => {
    const demo = await newSession();
    const atAcme = await mint(demo.accessToken, { headers: { 'x-application-id': 'acme' } });
    assert.equal(atAcme.status, 401);
    assert.equal((await atAcme.json()).code, 'invalid_issuer');

    const acme = await newSession({ 'x-application-id': 'acme' });
    assert.equal(decodeJwt(acme.accessToken).iss, ACME_ISSUER);
    const atDemo = await mint(acme.accessToken);
    assert.equal(atDemo.status, 401);
    assert.equal((await atDemo.json()).code, 'invalid_issuer');
    // With acme's issuer forged into a token signed by demo's key, sent to acme: no such key there.
    const demoKey = await deriveKey(SECRET, 'demo', 1);
    const t = Math.floor(Date.now() / 1000);
    const foreignKey = await new SignJWT({ sub: DEMO_USER, sid: acme.sessionId, pid: 'acme' })
      .setProtectedHeader({ alg: 'EdDSA', kid: demoKey.kid, typ: 'JWT' })
      .setIssuer(ACME_ISSUER)
      .setIssuedAt(t)
      .setExpirationTime(t + 60)
      .sign(demoKey.privateKey);
    const unknown = await mint(foreignKey, { headers: { 'x-application-id': 'acme' } });
    assert.equal(unknown.status, 401);
    assert.equal((await unknown.json()).code, 'unknown_key');

    // acme's real key, but demo's kid in the header: the kid collides, the key does not.
    const now = Math.floor(Date.now() / 1000);
    const acmeKey = await deriveKey(SECRET, 'acme', 1);
    const demoKid = (await deriveKey(SECRET, 'demo', 1)).kid;
    const forged = await new SignJWT({ sub: DEMO_USER, sid: demo.sessionId, pid: 'demo' })
      .setProtectedHeader({ alg: 'EdDSA', kid: demoKid, typ: 'JWT' })
      .setIssuer(w.origin)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(acmeKey.privateKey);
    const collided = await mint(forged);
    assert.equal(collided.status, 401);
    assert.equal((await collided.json()).code, 'invalid_signature');
    // acme's key and kid with demo's issuer, sent to acme: wrong issuer there.
    const wrongIss = await new SignJWT({ sub: DEMO_USER, sid: acme.sessionId, pid: 'acme' })
      .setProtectedHeader({ alg: 'EdDSA', kid: acmeKey.kid, typ: 'JWT' })
      .setIssuer(w.origin)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(acmeKey.privateKey);
    const iss = await mint(wrongIss, { headers: { 'x-application-id': 'acme' } });
    assert.equal(iss.status, 401);
    assert.equal((await iss.json()).code, 'invalid_issuer');
    // And jose, with demo's JWKS, refuses acme's token.
    const demoJwks = createLocalJWKSet({ keys: await jwksOf() });
    await assert.rejects(jwtVerify(acme.accessToken, demoJwks));
    assert.equal(decodeProtectedHeader(acme.accessToken).kid, acmeKey.kid);
  });

  test('mint: CORS preflight and methods', async () => {
    const pre = await fetch(w.origin + MINT, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.match(pre.headers.get('access-control-allow-headers'), /authorization/);
    const getRes = await mint('x', { method: 'GET' });
    assert.equal(getRes.status, 405);
    assert.equal(getRes.headers.get('allow'), 'POST, OPTIONS');
  });

  test('warm requests read nothing from D1', async () => {
    const counters = async () => (await (await get('/_torii/devtools/counters')).json()).d1_queries;
    await (await get(JWKS)).arrayBuffer();
    const before = await counters();
    for (let i = 0; i < 20; i++) {
      await (await get(i % 2 ? JWKS : DISCOVERY)).arrayBuffer();
    }
    assert.equal(await counters(), before);
  });

  test('the gateway accepts minted tokens of its tenant only; warm requests read nothing from D1', async () => {
    const api = (token, headers = {}) =>
      fetch(`${w.origin}/api/me`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    const demo = await newSession();
    const minted = await (await mint(demo.accessToken)).json();
    const hasura = await (await mint(demo.accessToken, { template: 'hasura' })).json();
    for (const token of [demo.accessToken, minted.accessToken]) {
      const res = await api(token);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    assert.deepEqual(seen.slice(-2).map((s) => [s.user, s.tenant]), Array(2).fill([DEMO_USER, 'demo']));
    // A template token is made for a third party and carries no audience: refused by
    // default (anyone holding a user's "hasura" token must not call the origin as them)...
    const refused = seen.length;
    const tpl = await api(hasura.accessToken);
    assert.equal(tpl.status, 401);
    assert.equal((await tpl.json()).code, 'invalid_token_type');
    assert.match(tpl.headers.get('www-authenticate'), /error="invalid_token", error_description="invalid_token_type"/);
    assert.equal(seen.length, refused, 'the origin is never called');
    // ...accepted only on a route that names its template; session tokens still pass there.
    for (const token of [hasura.accessToken, minted.accessToken]) {
      const res = await fetch(`${w.origin}/graphql`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    assert.deepEqual(seen.slice(-2).map((s) => [s.url, s.user]), Array(2).fill(['/graphql', DEMO_USER]));
    const acme = await newSession({ 'x-application-id': 'acme' });
    const ok = await api(acme.accessToken, { 'x-application-id': 'acme' });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    assert.equal(seen.at(-1).tenant, 'acme');
    const before = seen.length;
    const cross = await api(acme.accessToken);
    assert.equal(cross.status, 401);
    assert.ok(['invalid_issuer', 'unknown_key'].includes((await cross.json()).code));
    assert.equal(seen.length, before, 'the origin is never called');

    const counters = async () => (await (await get('/_torii/devtools/counters')).json()).d1_queries;
    const d1 = await counters();
    for (let i = 0; i < 10; i++) await (await api(minted.accessToken)).arrayBuffer();
    assert.equal(await counters(), d1, 'warm gateway requests: 0 D1 queries');
  });

  test('dev-mode bodies: over 64 KiB is 413 payload_too_large, not a JSON object is 400 invalid_request', async () => {
    const post = (body) => fetch(`${w.origin}/_torii/devtools/sessions`, { method: 'POST', body });
    const big = await post(JSON.stringify({ userId: DEMO_USER, pad: 'x'.repeat(65 * 1024) }));
    assert.equal(big.status, 413);
    assert.equal((await big.json()).code, 'payload_too_large');
    const bad = await post('[1]');
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'invalid_request');
  });

  test('dev-mode helpers are off without TORII_DEV_MODE', async () => {
    const off = await startWorker({ TORII_MASTER_SECRET: SECRET });
    try {
      const res = await fetch(`${off.origin}/_torii/devtools/sessions`, { method: 'POST', body: '{"userId":"user_demo"}' });
      assert.equal(res.status, 404);
      assert.equal((await (await fetch(`${off.origin}/_torii/devtools/counters`)).json()).code, 'not_found');
    } finally {
      await off.stop();
    }
  });
});

test('wrangler.toml (the deploy config) never enables dev mode or a default tenant, and has the cron', () => {
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  const active = toml.split('\n').filter((l) => !/^\s*(#|$)/.test(l));
  for (const name of ['TORII_DEV_MODE', 'TORII_DEFAULT_TENANT', 'TORII_MASTER_SECRET']) {
    assert.ok(!active.some((l) => l.includes(name)), `${name} must not be set in wrangler.toml`);
  }
  assert.ok(active.some((l) => /^crons\s*=\s*\[\s*"[^"]+"/.test(l)), 'a Cron Trigger rotates keys');
});
