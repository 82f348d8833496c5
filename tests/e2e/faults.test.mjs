// End-to-end faults, each of which must fail closed (never a pass, never a hang): a
// trusted issuer's JWKS answering 5xx, HTML, a private key, an empty set, or dropping a
// kid in use; D1 unavailable; the origin too slow (TORII_ORIGIN_TIMEOUT_MS → 504) or
// resetting the connection (502); the master secret missing (every signing route 500
// misconfigured, nothing signed). (Slow and over-64-KiB key sets: gateway-jwks.test.mjs;
// KV read and write errors: kv-faults.test.mjs, under Miniflare with a faulty KV binding.)
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { exportJWK } from 'jose';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { newKey, signToken } from './gateway-helpers.mjs';
import { startWorker, wranglerD1 } from './worker.mjs';

const SECRET = 'e2e-faults-master-secret-not-for-production-0123456789';
const AUD = 'api://faults';

/** A loopback issuer whose key-set paths misbehave on purpose. */
async function startBadIssuer(keyA, keyB) {
  const { privateKey } = generateKeyPairSync('ed25519');
  const priv = { ...(await exportJWK(privateKey)), kid: 'with-d' };
  const state = { rotatingKeys: [keyA.publicJwk, keyB.publicJwk], hits: {} };
  const server = createServer((req, res) => {
    state.hits[req.url] = (state.hits[req.url] ?? 0) + 1;
    const json = (body, headers = {}) =>
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60', ...headers }).end(JSON.stringify(body));
    switch (req.url) {
      case '/5xx': return res.writeHead(500).end('boom');
      case '/html': return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>login</body></html>');
      case '/private': return json({ keys: [priv] });
      case '/empty': return json({ keys: [] });
      case '/rotating': return json({ keys: state.rotatingKeys });
      default: return res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${server.address().port}`;
  state.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); });
  return state;
}

describe('faults fail closed', () => {
  let worker;
  let issuer;
  let keyA;
  let keyB;
  let origin;
  let originMode = 'ok';
  const seen = [];

  before(async () => {
    [keyA, keyB] = [await newKey(), await newKey()];
    issuer = await startBadIssuer(keyA, keyB);
    origin = createServer((req, res) => {
      seen.push(req.url);
      if (originMode === 'slow') return setTimeout(() => res.writeHead(200).end('late'), 2_000);
      if (originMode === 'reset') return req.socket.destroy();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise((r) => origin.listen(0, '127.0.0.1', r));
    const trusted = ['5xx', 'html', 'private', 'empty', 'rotating'].map((p) => ({
      issuer: `${issuer.url}/${p}`, jwks_uri: `${issuer.url}/${p}`, audiences: [AUD], tenant: 'demo',
    }));
    worker = await startWorker(
      {
        TORII_MASTER_SECRET: SECRET,
        TORII_DEV_MODE: '1',
        ORIGIN_URL: `http://127.0.0.1:${origin.address().port}`,
        TORII_ORIGIN_TIMEOUT_MS: '300',
        TRUSTED_ISSUERS: JSON.stringify(trusted),
        TORII_LOG: 'off',
      },
      { tenants: [{ id: 'demo' }, { id: 'acme', issuer: 'https://acme.faults.test' }] },
    );
  });
  after(async () => {
    await worker?.stop();
    await issuer?.close();
    origin?.close();
  });

  const call = async (token, path = '/api/f', headers = {}) => {
    const before = seen.length;
    const res = await fetch(worker.origin + path, { headers: { authorization: `Bearer ${token}`, ...headers } });
    const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
    return { status: res.status, body, res, forwarded: seen.length - before };
  };

  test("a trusted issuer's JWKS answering 5xx, HTML, a private key or no keys: 503 jwks_unavailable, never forwarded", async () => {
    for (const p of ['5xx', 'html', 'private', 'empty']) {
      const r = await call(await signToken(keyA, { iss: `${issuer.url}/${p}`, aud: AUD }));
      assert.equal(r.status, 503, `${p}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'jwks_unavailable', p);
      assert.match(r.res.headers.get('retry-after') ?? '', /^\d+$/, p);
      assert.equal(r.forwarded, 0, p);
      assert.ok(issuer.hits[`/${p}`] >= 1, `${p} was fetched`);
    }
  });

  test('a set that drops a kid in use: tokens of that kid stop verifying (401), others go on', async () => {
    const iss = `${issuer.url}/rotating`;
    assert.equal((await call(await signToken(keyB, { iss, aud: AUD }))).status, 200);
    issuer.rotatingKeys = [keyA.publicJwk];
    // Stale after max-age: one background revalidation learns the set without B.
    const clock = await fetch(`${worker.origin}/_torii/dev/clock?advance=120`, { method: 'POST' });
    assert.equal(clock.status, 200);
    await clock.arrayBuffer();
    await call(await signToken(keyB, { iss, aud: AUD }));
    await new Promise((r) => setTimeout(r, 500));
    const r = await call(await signToken(keyB, { iss, aud: AUD }));
    assert.equal(r.status, 401, JSON.stringify(r.body));
    assert.equal(r.body.code, 'unknown_key');
    assert.equal(r.forwarded, 0);
    assert.equal((await call(await signToken(keyA, { iss, aud: AUD }))).status, 200);
  });

  test('origin too slow: 504 origin_timeout with the request id; resetting: 502 origin_unreachable', async () => {
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    originMode = 'slow';
    try {
      const t0 = Date.now();
      const r = await call(token, '/api/slow', { 'x-request-id': 'fault-slow-1' });
      const took = Date.now() - t0;
      assert.equal(r.status, 504, JSON.stringify(r.body));
      assert.equal(r.body.code, 'origin_timeout');
      assert.equal(r.res.headers.get('x-request-id'), 'fault-slow-1');
      assert.ok(took < 1_900, `answered after ${took} ms, not after the origin's 2 s`);
      originMode = 'reset';
      const reset = await call(token, '/api/reset');
      assert.equal(reset.status, 502, JSON.stringify(reset.body));
      assert.equal(reset.body.code, 'origin_unreachable');
    } finally {
      originMode = 'ok';
    }
    assert.equal((await call(token, '/api/ok')).status, 200);
  });

  test('D1 unavailable: a tenant not cached in the isolate is 503 storage_unavailable, never a pass', async () => {
    // Break the store under the running Worker: its tables are gone.
    await wranglerD1(worker.state, ['execute', 'DB', '--command', 'DROP TABLE tenant_domains; DROP TABLE key_versions; DROP TABLE tenants;']);
    const acme = await fetch(`${worker.origin}/.well-known/openid-configuration`, { headers: { 'x-application-id': 'acme' } });
    assert.equal(acme.status, 503, await acme.clone().text());
    assert.equal((await acme.json()).code, 'storage_unavailable');
    const token = await mintDevToken({ masterSecret: SECRET, issuer: 'https://acme.faults.test', tenant: 'acme' });
    const r = await call(token, '/api/acme', { 'x-application-id': 'acme' });
    assert.equal(r.status, 503);
    assert.equal(r.forwarded, 0);
  });
});

describe('master secret missing or short', () => {
  let origin;
  const seen = [];
  before(async () => {
    origin = createServer((req, res) => {
      seen.push(req.url);
      res.writeHead(200).end('ok');
    });
    await new Promise((r) => origin.listen(0, '127.0.0.1', r));
  });
  after(() => origin?.close());

  test('every signing route answers 500 misconfigured and nothing is signed or forwarded', async () => {
    for (const vars of [{}, { TORII_MASTER_SECRET: 'short' }]) {
      const worker = await startWorker({ ...vars, ORIGIN_URL: `http://127.0.0.1:${origin.address().port}`, TORII_LOG: 'off' });
      try {
        const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
        for (const [method, path, headers] of [
          ['GET', '/.well-known/openid-configuration', {}],
          ['GET', '/_torii/.well-known/jwks.json', {}],
          ['POST', '/_torii/auth/session/token', { authorization: `Bearer ${token}` }],
          ['GET', '/api/x', { authorization: `Bearer ${token}` }],
          ['GET', '/public/x', {}],
        ]) {
          const res = await fetch(worker.origin + path, { method, headers });
          const body = await res.json();
          assert.equal(res.status, 500, `${JSON.stringify(vars)} ${method} ${path}`);
          assert.equal(body.code, 'misconfigured');
          assert.ok(!JSON.stringify(body).includes('eyJ'), 'no token in the reply');
        }
        assert.deepEqual(seen, [], 'nothing reached the origin');
      } finally {
        await worker.stop();
      }
    }
  });
});
