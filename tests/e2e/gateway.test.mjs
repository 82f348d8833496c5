// End-to-end: the gateway in front of a real loopback origin (scripts/demo-origin.mjs),
// under `wrangler dev`, over real HTTP. Spoofed headers in every spelling never reach the
// origin; bad tokens never reach it; good ones arrive with claims headers and an edge
// assertion the origin verifies with jose.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT, createRemoteJWKSet, jwtVerify } from 'jose';
import { createEdgeAssertionVerifier, startDemoOrigin } from '../../scripts/demo-origin.mjs';
import { deriveKey, mintDevToken } from '../../scripts/dev-token.mjs';
import { rawRequest } from './gateway-helpers.mjs';
import { startDeadOrigin, startWorker } from './worker.mjs';

const SECRET = 'e2e-gateway-master-secret-not-for-production-0123456789';
const ACME_ISSUER = 'https://acme.torii.test';
const ROUTES = JSON.stringify([
  { path: '/public/**', access: 'public' },
  { path: '/maybe/**', access: 'optional' },
  { path: '/admin/**', access: 'required', roles: ['admin'] },
  { path: '/mfa/**', access: 'required', claims: { aal: 'aal2' } },
]);
// Our headers, read the way the gateway reads them.
const isOurs = (name) => name.toLowerCase().replaceAll('_', '-').startsWith('x-torii-');

const SPOOFED = [
  ['X-Torii-User-Id', 'admin'],
  ['x_torii_user_id', 'admin'],
  ['X-TORII-CLAIMS', 'eyJzdWIiOiJhZG1pbiJ9'],
  ['x-torii-org-role', 'admin'],
  ['x-torii-org-role', 'owner'],
  ['X_Torii_Tenant_Id', 'other'],
  ['x-torii-edge-assertion', 'forged.assertion.value'],
  ['x-torii-aal', 'aal2'],
  // Listing our own header in Connection must not make it vanish downstream.
  ['Connection', 'close, x-torii-user-id, Keep-Alive'],
  ['Keep-Alive', 'timeout=5'],
  // Control: an ordinary header with underscores survives, so underscores reach the Worker.
  ['x_custom_trace', 'kept'],
];

describe('gateway under wrangler dev', () => {
  let origin;
  let worker;
  let token;
  const seen = () => origin.requests.length;
  const lastSeen = () => origin.requests.at(-1);
  const get = (path, headers = {}) => fetch(worker.origin + path, { headers });
  const bearer = (t) => ({ authorization: `Bearer ${t}` });

  before(async () => {
    origin = await startDemoOrigin({ quiet: true });
    worker = await startWorker(
      {
        TORII_MASTER_SECRET: SECRET,
        ORIGIN_URL: origin.url,
        ROUTES,
        TORII_DEV_MODE: '1',
      },
      { tenants: [{ id: 'demo' }, { id: 'acme', issuer: ACME_ISSUER }] },
    );
    origin.edge = worker.origin;
    token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
  });
  after(async () => {
    await worker?.stop();
    await origin?.close();
  });

  async function assertRejected(promise, status, code) {
    const before = seen();
    const res = await promise;
    assert.equal(res.status, status);
    const body = await res.json();
    assert.equal(body.code, code);
    assert.equal(typeof body.message, 'string');
    assert.equal(seen(), before, 'the origin must not be called');
    return res;
  }

  test('public route: forwarded without a token, with an anonymous edge assertion', async () => {
    const res = await get('/public/hello?x=1');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-demo-origin'), '1');
    const got = await res.json();
    assert.equal(got.url, '/public/hello?x=1');
    assert.deepEqual(got.assertion, { ok: true, claims: null });
    const names = got.rawHeaders.map(([n]) => n.toLowerCase());
    assert.deepEqual(names.filter(isOurs), ['x-torii-edge-assertion']);
  });

  test('default deny: an unmatched path needs a token (401, no error attribute)', async () => {
    const res = await assertRejected(get('/api/things'), 401, 'missing_token');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="demo"');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  });

  test('a valid token: claims headers and an edge assertion the origin verifies with jose', async () => {
    const res = await get('/api/things?q=1', { ...bearer(token), 'x-request-id': 'req-e2e-1' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-e2e-1');
    const got = await res.json();
    assert.equal(got.assertion.ok, true, got.assertion.error);
    const h = Object.fromEntries(got.rawHeaders.map(([n, v]) => [n.toLowerCase(), v]));
    assert.equal(h['x-torii-user-id'], 'user_demo');
    assert.equal(h['x-torii-session-id'], 'sess_demo');
    assert.equal(h['x-torii-tenant-id'], 'demo');
    assert.equal(h['x-torii-org-id'], undefined);
    assert.equal(h['x-request-id'], 'req-e2e-1');
    const claims = JSON.parse(Buffer.from(h['x-torii-claims'], 'base64url').toString());
    assert.equal(claims.sub, 'user_demo');
    assert.equal(claims.iss, worker.origin);
    assert.deepEqual(got.assertion.claims, claims);
    // The assertion itself, checked here too: typ, lifetime, binding.
    const jwks = createRemoteJWKSet(new URL(`${worker.origin}/_torii/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(h['x-torii-edge-assertion'], jwks, {
      issuer: worker.origin,
      audience: origin.url,
      typ: 'torii-edge-assertion+jwt',
      algorithms: ['EdDSA'],
    });
    assert.equal(protectedHeader.typ, 'torii-edge-assertion+jwt');
    assert.ok(payload.exp - payload.iat <= 60);
    assert.equal(payload.htm, 'GET');
    assert.equal(payload.htu, `${origin.url}/api/things?q=1`);
    assert.equal(payload.sub, 'user_demo');
  });

  test('the token may come in the __session cookie', async () => {
    const res = await get('/api/cookie', { cookie: `theme=dark; __session=${token}` });
    assert.equal(res.status, 200);
    const got = await res.json();
    assert.equal(got.assertion.ok, true);
    assert.equal(got.assertion.claims.sub, 'user_demo');
  });

  test('POST bodies are forwarded and bound to the method', async () => {
    const res = await fetch(`${worker.origin}/api/items`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'text/plain' },
      body: 'hello origin',
    });
    assert.equal(res.status, 200);
    const got = await res.json();
    assert.equal(got.method, 'POST');
    assert.equal(got.body, 'hello origin');
    assert.equal(got.assertion.ok, true, got.assertion.error);
  });

  for (const [label, path, withToken] of [
    ['public route', '/public/spoof', false],
    ['verified route', '/api/spoof', true],
    ['optional route without token', '/maybe/spoof', false],
  ]) {
    test(`spoofed x-torii-* in every spelling and Connection-listed headers are stripped (${label})`, async () => {
      const headers = [...SPOOFED];
      if (withToken) headers.push(['Authorization', `Bearer ${token}`]);
      const before = seen();
      const res = await rawRequest(worker.origin, { path, headers });
      assert.equal(res.status, 200, res.body);
      assert.equal(seen(), before + 1);
      const got = lastSeen();
      const ours = got.rawHeaders.filter(([n]) => isOurs(n));
      const names = ours.map(([n]) => n.toLowerCase());
      // Only the edge's own headers, each once, with the edge's values.
      assert.equal(new Set(names).size, names.length, `duplicates: ${names}`);
      const spoofedValues = new Set(SPOOFED.filter(([n]) => isOurs(n)).map(([, v]) => v));
      for (const [n, v] of ours) assert.ok(!spoofedValues.has(v), `${n}: ${v}`);
      assert.ok(!names.includes('x-torii-org-role'));
      assert.ok(!names.includes('x-torii-aal'));
      for (const hop of ['connection', 'keep-alive', 'te', 'upgrade', 'transfer-encoding']) {
        assert.equal(got.rawHeaders.find(([n]) => n.toLowerCase() === hop), undefined, hop);
      }
      assert.ok(got.rawHeaders.some(([n, v]) => n.toLowerCase() === 'x_custom_trace' && v === 'kept'));
      assert.equal(got.assertion.ok, true, got.assertion.error);
      if (withToken) {
        assert.equal(got.rawHeaders.find(([n]) => n === 'x-torii-user-id')?.[1], 'user_demo');
        assert.equal(got.rawHeaders.find(([n]) => n === 'x-torii-tenant-id')?.[1], 'demo');
      } else {
        assert.deepEqual(names, ['x-torii-edge-assertion']);
      }
    });
  }

  test('spoofed headers with a bad token: 401 and nothing reaches the origin', async () => {
    const before = seen();
    const res = await rawRequest(worker.origin, {
      path: '/api/spoof',
      headers: [...SPOOFED, ['Authorization', `Bearer ${token.slice(0, -4)}AAAA`]],
    });
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(res.body).code, 'invalid_signature');
    assert.equal(seen(), before);
  });

  test('expired, tampered, other-tenant, foreign and wrong-typ tokens: 401, origin never called', async () => {
    const expired = await mintDevToken({
      masterSecret: SECRET,
      issuer: worker.origin,
      now: Math.floor(Date.now() / 1000) - 3600,
    });
    let res = await assertRejected(get('/api/x', bearer(expired)), 401, 'token_expired');
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer realm="demo", error="invalid_token", error_description="token_expired"',
    );

    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${s}`;
    await assertRejected(get('/api/x', bearer(tampered)), 401, 'invalid_signature');

    // Another tenant's key (same issuer URL, so only the key differs) and another issuer.
    const otherTenant = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, tenant: 'acme' });
    await assertRejected(get('/api/x', bearer(otherTenant)), 401, 'unknown_key');
    const otherIssuer = await mintDevToken({ masterSecret: SECRET, issuer: 'https://acme.torii.test' });
    await assertRejected(get('/api/x', bearer(otherIssuer)), 401, 'invalid_issuer');

    // The right key, but a typ the gateway does not take as an access token.
    const { privateKey, kid } = await deriveKey(SECRET);
    for (const typ of ['torii-edge-assertion+jwt', 'at+jwt']) {
      const t = await new SignJWT({ sub: 'user_demo' })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ })
        .setIssuer(worker.origin)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      await assertRejected(get('/api/x', bearer(t)), 401, 'invalid_token_type');
    }
    await assertRejected(get('/api/x', bearer('not-a-jwt')), 401, 'malformed_token');
    res = await assertRejected(get('/api/x', { authorization: 'Basic dXNlcjpwdw==' }), 400, 'invalid_request');
    // Optional routes too: a bad token is refused, not ignored.
    await assertRejected(get('/maybe/x', bearer(expired)), 401, 'token_expired');
  });

  test('tenants: each accepts only its own tokens; the origin learns which tenant', async () => {
    const acme = await mintDevToken({ masterSecret: SECRET, issuer: ACME_ISSUER, tenant: 'acme' });
    const asAcme = { 'x-application-id': 'acme' };
    // acme's token at demo, demo's token at acme: refused, origin never called.
    await assertRejected(get('/api/t', bearer(acme)), 401, 'invalid_issuer');
    await assertRejected(get('/api/t', { ...bearer(token), ...asAcme }), 401, 'invalid_issuer');
    // acme's key under demo's issuer (a kid that demo does not have): unknown_key.
    const forged = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, tenant: 'acme' });
    await assertRejected(get('/api/t', bearer(forged)), 401, 'unknown_key');
    // acme's token at acme: forwarded as tenant acme, the assertion signed by acme's key.
    const res = await get('/api/t', { ...bearer(acme), ...asAcme });
    assert.equal(res.status, 200);
    const got = await res.json();
    const h = Object.fromEntries(got.rawHeaders.map(([n, v]) => [n.toLowerCase(), v]));
    assert.equal(h['x-torii-tenant-id'], 'acme');
    const jwks = createRemoteJWKSet(new URL(`${worker.origin}/_torii/.well-known/jwks.json`), {
      headers: asAcme,
    });
    const { payload } = await jwtVerify(h['x-torii-edge-assertion'], jwks, {
      issuer: ACME_ISSUER,
      audience: origin.url,
      typ: 'torii-edge-assertion+jwt',
    });
    assert.equal(payload.sub, 'user_demo');
    // ...which demo's key set does not verify (the demo origin's verifier says so).
    assert.equal(got.assertion.ok, false);
  });

  test('an edge assertion is not an access token, and an access token is not an assertion', async () => {
    const res = await get('/api/whoami', bearer(token));
    const { rawHeaders } = await res.json();
    const assertion = rawHeaders.find(([n]) => n === 'x-torii-edge-assertion')[1];
    await assertRejected(get('/api/x', bearer(assertion)), 401, 'invalid_token_type');
    // The origin's assertion verifier refuses an access token in the assertion header.
    const verify = createEdgeAssertionVerifier({ issuer: worker.origin, audience: origin.url });
    await assert.rejects(
      verify({ method: 'GET', url: '/api/x', headers: { 'x-torii-edge-assertion': token } }),
      /typ|claim/i,
    );
    // ...and an assertion replayed to another URL or method.
    await assert.rejects(
      verify({ method: 'GET', url: '/api/other', headers: { 'x-torii-edge-assertion': assertion } }),
      /URL mismatch/,
    );
    await assert.rejects(
      verify({ method: 'DELETE', url: '/api/whoami', headers: { 'x-torii-edge-assertion': assertion } }),
      /method mismatch/,
    );
  });

  test('role and claim rules: 403 insufficient_scope, origin never called', async () => {
    const member = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_id: 'org_1', org_role: 'member' } });
    const res = await assertRejected(get('/admin/panel', bearer(member)), 403, 'insufficient_scope');
    assert.match(res.headers.get('www-authenticate'), /^Bearer realm="demo", error="insufficient_scope"/);
    await assertRejected(get('/admin/panel', bearer(token)), 403, 'insufficient_scope');
    await assertRejected(get('/mfa/settings', bearer(token)), 403, 'insufficient_scope');

    const admin = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_id: 'org_1', org_role: 'admin', aal: 'aal2' } });
    for (const path of ['/admin/panel', '/mfa/settings']) {
      const ok = await get(path, bearer(admin));
      assert.equal(ok.status, 200);
      const got = await ok.json();
      const h = Object.fromEntries(got.rawHeaders.map(([n, v]) => [n.toLowerCase(), v]));
      assert.equal(h['x-torii-org-id'], 'org_1');
      assert.equal(h['x-torii-org-role'], 'admin');
      assert.equal(h['x-torii-aal'], 'aal2');
      assert.equal(got.assertion.ok, true);
    }
  });

  test('paths are normalized before matching; encoded slashes are refused', async () => {
    const member = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_role: 'member' } });
    // /public/../admin is /admin: the admin rule applies, not the public one.
    const before = seen();
    const res = await rawRequest(worker.origin, {
      path: '/public/../admin/panel',
      headers: [['Authorization', `Bearer ${member}`]],
    });
    assert.equal(res.status, 403);
    const res2 = await rawRequest(worker.origin, { path: '/public/..%2Fadmin/panel' });
    assert.equal(res2.status, 400);
    assert.equal(JSON.parse(res2.body).code, 'invalid_path');
    assert.equal(seen(), before);
  });

  test('/_torii/ and /.well-known/ are never proxied', async () => {
    const before = seen();
    for (const path of ['/_torii/anything', '/.well-known/other', '/_torii/.well-known/jwks.json']) {
      const res = await get(path, bearer(token));
      await res.arrayBuffer();
      assert.notEqual(res.headers.get('x-demo-origin'), '1', path);
    }
    assert.equal(seen(), before);
  });

  test('warm requests verify without KV reads or subrequests besides the origin', async () => {
    await get('/api/warm', bearer(token)).then((r) => r.arrayBuffer());
    const c0 = await (await get('/_torii/dev/counters')).json();
    for (let i = 0; i < 3; i++) {
      const r = await get('/api/warm', bearer(token));
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
    const c1 = await (await get('/_torii/dev/counters')).json();
    assert.equal(c1.kv_reads - c0.kv_reads, 0);
    assert.equal(c1.jwks_fetches - c0.jwks_fetches, 0);
    assert.equal(c1.origin_fetches - c0.origin_fetches, 3);
    // The repeated token was verified once (WebCrypto), then served from the isolate's
    // token cache (its time claims re-checked each time).
    assert.equal(c1.token_cache_hits - c0.token_cache_hits, 3);
    assert.equal(c1.webcrypto_verifies - c0.webcrypto_verifies, 0);
    assert.equal(c1.webcrypto_failures, 0);
  });

  test('a remembered signature still goes through every claim and route check', async () => {
    const member = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_role: 'member' } });
    const ok = await get('/api/m', bearer(member));
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    // Same token, same signature: the role rule is still enforced.
    await assertRejected(get('/admin/m', bearer(member)), 403, 'insufficient_scope');
    // The same signature on other bytes is not remembered.
    const [h, p, s] = member.split('.');
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), org_role: 'admin' })).toString('base64url');
    await assertRejected(get('/admin/m', bearer(`${h}.${other}.${s}`)), 401, 'invalid_signature');
  });

  test('origin down: 502 origin_unreachable', async () => {
    // A held loopback port that resets every connection: no other process can bind it.
    const dead = await startDeadOrigin();
    const down = await startWorker({
      TORII_MASTER_SECRET: SECRET,
      ORIGIN_URL: dead.url,
      ROUTES,
    }).catch(async (e) => {
      await dead.close();
      throw e;
    });
    try {
      const res = await fetch(`${down.origin}/public/x`);
      assert.equal(res.status, 502);
      assert.equal((await res.json()).code, 'origin_unreachable');
      // Dev endpoints exist only with TORII_DEV_MODE=1.
      const dev = await fetch(`${down.origin}/_torii/dev/counters`);
      assert.equal(dev.status, 404);
      await dev.arrayBuffer();
      // Logs are structured and never hold a token.
      const t = await mintDevToken({ masterSecret: SECRET, issuer: down.origin });
      const r = await fetch(`${down.origin}/api/x`, { headers: bearer(t) });
      assert.equal(r.status, 502);
      await r.arrayBuffer();
      await new Promise((r) => setTimeout(r, 300));
      const lines = down
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"torii-edge gateway"'));
      assert.ok(lines.length >= 2, down.output());
      const last = JSON.parse(lines.at(-1).slice(lines.at(-1).indexOf('{')));
      assert.equal(last.code, 'origin_unreachable');
      assert.equal(last.tenant, 'demo');
      assert.equal(last.decision, 'origin_unreachable');
      assert.equal(typeof last.total_ms, 'number');
      assert.ok(!down.output().includes(t.split('.')[2]), 'a token leaked into the logs');
    } finally {
      await down.stop();
      await dead.close();
    }
  });
});
