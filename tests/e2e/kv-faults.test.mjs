// End-to-end KV faults (issue "faults: KV read and write errors"), each failing closed:
// KV (`JWKS_CACHE`) only caches trusted issuers' key sets, so a KV read that fails, hangs
// or returns a corrupt value is a miss (the request fetches the set, bounded by the KV
// deadline), a KV write that fails or hangs still answers the request from the fetched
// set; each is counted (`kv_read_failures`, `kv_write_failures`) and logged; a token the
// fetched set does not verify is never forwarded, and with the issuer down too the answer
// is 503 `jwks_unavailable`. The real built Worker runs under Miniflare with a KV binding
// the test controls (tests/e2e/kv-worker.mjs): workerd's own KV has no fault seam.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { newKey, signToken, startJwksServer } from './gateway-helpers.mjs';
import { faultyKv, startKvWorker } from './kv-worker.mjs';
import { BUILDS } from './worker.mjs';

const SECRET = 'e2e-kv-faults-master-secret-not-for-production-0123456789';
const AUD = 'api://kv-faults';
/** Bound of one test request: far above the KV deadline (1 s) plus a fetch, never reached when the edge is bounded. */
const REQUEST_BOUND_MS = 20_000;

/** A loopback origin that counts what reaches it. */
async function startOrigin() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/** A token whose signature no longer matches (one character of it changed). */
function tamper(token) {
  const [h, p, s] = token.split('.');
  return `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
}

describe('KV faults under the real Worker (dev build)', () => {
  let kv;
  let worker;
  let jwks;
  let origin;
  let keyA;
  let stranger;
  let iss;

  const counters = async () => (await fetch(`${worker.origin}/_torii/dev/counters`)).json();
  /** A cold isolate: the trusted issuers' memory is dropped, so the next request reads KV. */
  const forget = async () => {
    const res = await fetch(`${worker.origin}/_torii/dev/forget`, { method: 'POST' });
    assert.equal(res.status, 204);
    await res.arrayBuffer();
  };
  /** Sends `token`; returns status, body, counter deltas, JWKS hits and whether the origin saw it. */
  async function call(token) {
    const c0 = await counters();
    const [h0, seen0] = [jwks.hits, origin.seen.length];
    const res = await fetch(`${worker.origin}/api/kv`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
    });
    const body = await res.json();
    const c1 = await counters();
    const delta = Object.fromEntries(Object.keys(c1).map((k) => [k, c1[k] - c0[k]]));
    return { status: res.status, body, res, delta, hits: jwks.hits - h0, forwarded: origin.seen.length - seen0 };
  }
  const pick = (d) => [d.kv_reads, d.kv_read_failures, d.jwks_fetches, d.kv_writes, d.kv_write_failures];

  before(async () => {
    [keyA, stranger] = [await newKey(), await newKey()];
    jwks = await startJwksServer({ keys: [keyA.publicJwk], cacheControl: 'public, max-age=120' });
    iss = jwks.url;
    origin = await startOrigin();
    kv = faultyKv();
    worker = await startKvWorker(
      {
        TORII_MASTER_SECRET: SECRET,
        TORII_DEV_MODE: '1',
        ORIGIN_URL: origin.url,
        TORII_LOG: 'off',
        TRUSTED_ISSUERS: JSON.stringify([
          { issuer: iss, jwks_uri: `${iss}/jwks`, audiences: [AUD], tenant: 'demo' },
          // Its key set URL answers 404: the issuer is down.
          { issuer: `${iss}/down`, jwks_uri: `${iss}/down`, audiences: [AUD], tenant: 'demo' },
        ]),
      },
      { kv },
    );
  });
  after(async () => {
    await worker?.stop();
    await jwks?.close();
    await origin?.close();
  });

  test('the test binding is the Worker\'s KV: a cold isolate reads it, a fetch writes it, the next cold isolate is served from it', async () => {
    kv.read = kv.write = 'ok';
    kv.store.clear();
    await forget();
    const token = await signToken(keyA, { iss, aud: AUD });
    const first = await call(token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(pick(first.delta), [1, 0, 1, 1, 0]);
    assert.equal(first.forwarded, 1);
    const [[key, value]] = [...kv.store];
    assert.match(key, /^jwks:v1:[A-Za-z0-9_-]{43}$/);
    assert.equal(JSON.parse(value).issuer, iss);
    assert.ok(kv.calls.find((c) => c.op === 'put').ttl >= 60);
    await forget();
    const second = await call(token);
    assert.equal(second.status, 200);
    assert.deepEqual(pick(second.delta), [1, 0, 0, 0, 0], 'served from KV, nothing fetched');
    assert.equal(second.hits, 0);
  });

  test('KV read error: a miss; the request fetches and passes only tokens the fetched set verifies', async () => {
    kv.read = 'error';
    kv.write = 'ok';
    await forget();
    const token = await signToken(keyA, { iss, aud: AUD });
    const r = await call(token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(pick(r.delta), [1, 1, 1, 1, 0]);
    assert.equal(r.forwarded, 1);
    // The isolate does not read the broken KV again: memory serves.
    const again = await call(token);
    assert.equal(again.status, 200);
    assert.deepEqual(pick(again.delta), [0, 0, 0, 0, 0]);
    for (const bad of [tamper(token), await signToken(stranger, { iss, aud: AUD })]) {
      const b = await call(bad);
      assert.equal(b.status, 401, JSON.stringify(b.body));
      assert.equal(b.forwarded, 0);
    }
    assert.match(worker.output(), /JWKS KV read for \S+ failed \(KV GET failed: 500 injected fault\): treated as a miss/);
  });

  test('KV read error or corrupt value with the issuer down: 503 jwks_unavailable, never forwarded', async () => {
    kv.write = 'ok';
    for (const mode of ['error', 'corrupt']) {
      kv.read = mode;
      await forget();
      const r = await call(await signToken(keyA, { iss: `${iss}/down`, aud: AUD }));
      assert.equal(r.status, 503, `${mode}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'jwks_unavailable', mode);
      assert.match(r.res.headers.get('retry-after') ?? '', /^\d+$/, mode);
      assert.equal(r.forwarded, 0, mode);
      assert.deepEqual([r.delta.kv_reads, r.delta.kv_read_failures, r.delta.jwks_fetch_failures], [1, 1, 1], mode);
      assert.equal(r.delta.kv_writes, 0, mode);
    }
  });

  test('KV value corrupt: a miss, fetched; not parsed as keys', async () => {
    kv.read = 'corrupt';
    kv.write = 'ok';
    await forget();
    const token = await signToken(keyA, { iss, aud: AUD });
    const r = await call(token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(pick(r.delta), [1, 1, 1, 1, 0]);
    assert.match(worker.output(), /JWKS KV value for \S+ is not a valid cached set: treated as a miss/);
  });

  test('KV read hangs: bounded by the KV deadline, then fetched; concurrent requests share the one read and the one fetch', async () => {
    kv.read = 'hang';
    kv.write = 'ok';
    await forget();
    const token = await signToken(keyA, { iss, aud: AUD });
    const c0 = await counters();
    const [h0, gets0] = [jwks.hits, kv.calls.filter((c) => c.op === 'get').length];
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        fetch(`${worker.origin}/api/kv`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(REQUEST_BOUND_MS) })
          .then(async (res) => [res.status, await res.text()])),
    );
    for (const [status, body] of results) assert.equal(status, 200, body);
    const c1 = await counters();
    assert.deepEqual(
      [c1.kv_reads - c0.kv_reads, c1.kv_read_failures - c0.kv_read_failures, c1.jwks_fetches - c0.jwks_fetches, jwks.hits - h0],
      [1, 1, 1, 1],
    );
    assert.equal(kv.calls.filter((c) => c.op === 'get').length - gets0, 1);
    assert.match(worker.output(), /JWKS KV read for \S+ failed \(no answer within 1000 ms\)/);
    kv.release();
  });

  test('KV write error: the request succeeds with the fetched keys, the failure is logged; unverifiable tokens still 401', async () => {
    kv.read = 'ok';
    kv.write = 'error';
    kv.store.clear();
    await forget();
    const token = await signToken(keyA, { iss, aud: AUD });
    const r = await call(token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(pick(r.delta), [1, 0, 1, 1, 1]);
    assert.equal(kv.store.size, 0, 'nothing written');
    const again = await call(token);
    assert.equal(again.status, 200);
    assert.deepEqual(pick(again.delta), [0, 0, 0, 0, 0], 'memory serves');
    const bad = await call(tamper(token));
    assert.equal(bad.status, 401);
    assert.equal(bad.forwarded, 0);
    assert.match(worker.output(), /JWKS KV write for \S+ failed \(KV PUT failed: 500 injected fault\): the set is served from memory/);
  });

  test('KV write hangs: the request still answers, bounded by the KV deadline', async () => {
    kv.read = 'ok';
    kv.write = 'hang';
    kv.store.clear();
    await forget();
    const r = await call(await signToken(keyA, { iss, aud: AUD }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(pick(r.delta), [1, 0, 1, 1, 1]);
    assert.match(worker.output(), /JWKS KV write for \S+ failed \(no answer within 1000 ms\)/);
    kv.release();
  });
});

describe('KV faults under the deployable Worker (build/, no dev routes)', () => {
  test('KV read and write errors: a verified token passes, a tampered one is 401, neither hangs', async () => {
    const keyA = await newKey();
    const jwks = await startJwksServer({ keys: [keyA.publicJwk] });
    const origin = await startOrigin();
    const kv = faultyKv();
    kv.read = kv.write = 'error';
    const worker = await startKvWorker(
      {
        TORII_MASTER_SECRET: SECRET,
        ORIGIN_URL: origin.url,
        TORII_LOG: 'off',
        TRUSTED_ISSUERS: JSON.stringify([{ issuer: jwks.url, jwks_uri: `${jwks.url}/jwks`, audiences: [AUD], tenant: 'demo' }]),
      },
      { kv, build: BUILDS.deployable },
    );
    try {
      const token = await signToken(keyA, { iss: jwks.url, aud: AUD });
      const send = async (t) => {
        const res = await fetch(`${worker.origin}/api/kv`, { headers: { authorization: `Bearer ${t}` }, signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
        await res.arrayBuffer();
        return res.status;
      };
      assert.equal(await send(token), 200);
      assert.equal(await send(tamper(token)), 401);
      assert.deepEqual(origin.seen, ['/api/kv']);
      assert.deepEqual(kv.calls.map((c) => [c.op, c.outcome]), [['get', 'error'], ['put', 'error']]);
      assert.match(worker.output(), /JWKS KV read for \S+ failed/);
      assert.match(worker.output(), /JWKS KV write for \S+ failed/);
    } finally {
      await worker.stop();
      await jwks.close();
      await origin.close();
    }
  });
});
