// End-to-end: tokens of a trusted external issuer (a loopback JWKS server) through the
// gateway, with the JWKS cache's I/O counted by the dev-mode counters: memory → KV →
// fetch, one fetch for many requests, unknown-kid refetch then cooldown, stale keys while
// the issuer is down, and failing closed (503) once they are too old.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDemoOrigin } from '../../scripts/demo-origin.mjs';
import { newKey, signToken, startJwksServer } from './gateway-helpers.mjs';
import { startWorker } from './worker.mjs';

const SECRET = 'e2e-gateway-jwks-master-secret-not-for-production-012345';
const AUD = 'api://demo';

describe('trusted issuer JWKS cache under wrangler dev', () => {
  let origin;
  let worker;
  let jwks;
  let keyA;
  let keyB;
  let iss;

  const counters = async () => (await fetch(`${worker.origin}/_torii/dev/counters`)).json();
  const advance = async (secs) => {
    const res = await fetch(`${worker.origin}/_torii/dev/clock?advance=${secs}`, { method: 'POST' });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  };
  /** Sends one request with `token` and returns [response status, body, counter deltas, JWKS server hits]. */
  async function call(token, path = '/api/ext') {
    const c0 = await counters();
    const h0 = jwks.hits;
    const seen0 = origin.requests.length;
    const res = await fetch(worker.origin + path, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json();
    const c1 = await counters();
    const delta = Object.fromEntries(Object.keys(c1).map((k) => [k, c1[k] - c0[k]]));
    if (res.status !== 200) assert.equal(origin.requests.length, seen0, 'origin called on failure');
    return { status: res.status, body, delta, hits: jwks.hits - h0, res };
  }

  before(async () => {
    [keyA, keyB] = [await newKey(), await newKey()];
    jwks = await startJwksServer({ keys: [keyA.publicJwk], cacheControl: 'public, max-age=120' });
    iss = jwks.url;
    origin = await startDemoOrigin({ quiet: true });
    worker = await startWorker({
      TORII_MASTER_SECRET: SECRET,
      ORIGIN_URL: origin.url,
      TORII_DEV_MODE: '1',
      TRUSTED_ISSUERS: JSON.stringify([
        { issuer: iss, jwks_uri: `${iss}/jwks`, audiences: [AUD], tenant: 'demo' },
        { issuer: `${iss}/disc`, discovery: `${iss}/disc/.well-known/openid-configuration`, audiences: [AUD], tenant: 'demo' },
        { issuer: `${iss}/acme`, jwks_uri: `${iss}/jwks`, audiences: [AUD], tenant: 'acme' },
        { issuer: `${iss}/big`, jwks_uri: `${iss}/big`, audiences: [AUD], tenant: 'demo' },
        { issuer: `${iss}/slow`, jwks_uri: `${iss}/slow`, audiences: [AUD], tenant: 'demo' },
      ]),
    });
    origin.edge = worker.origin;
  });
  after(async () => {
    await worker?.stop();
    await origin?.close();
    await jwks?.close();
  });

  test('cold: one KV read, one fetch, one KV write; the origin gets the external claims', async () => {
    const r = await call(await signToken(keyA, { iss, aud: AUD, claims: { org_id: 'org_x', org_role: 'admin' } }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.delta.kv_reads, r.delta.jwks_fetches, r.delta.kv_writes, r.hits], [1, 1, 1, 1]);
    const h = Object.fromEntries(r.body.rawHeaders.map(([n, v]) => [n.toLowerCase(), v]));
    assert.equal(h['x-torii-user-id'], 'ext_user');
    assert.equal(h['x-torii-tenant-id'], 'demo');
    assert.equal(h['x-torii-org-role'], 'admin');
    assert.equal(r.body.assertion.ok, true, r.body.assertion.error);
  });

  test('warm: later requests (new tokens, same kid) do 0 KV reads and 0 fetches', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await call(await signToken(keyA, { iss, aud: AUD, sub: `u${i}` }));
      assert.equal(r.status, 200);
      assert.deepEqual([r.delta.kv_reads, r.delta.jwks_fetches, r.delta.origin_fetches, r.hits], [0, 0, 1, 0]);
    }
  });

  test('audience and tenant mapping are enforced', async () => {
    let r = await call(await signToken(keyA, { iss, aud: 'api://other' }));
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_audience');
    r = await call(await signToken(keyA, { iss, aud: undefined }));
    assert.equal(r.body.code, 'missing_claim');
    // Trusted, but mapped to another tenant.
    r = await call(await signToken(keyA, { iss: `${iss}/acme`, aud: AUD }));
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_issuer');
    assert.equal(r.hits, 0);
  });

  test('unknown kid: one refetch, then a 30 s cooldown; a rotated-in key verifies after it', async () => {
    // The cold fetch above started a cooldown too: an unknown kid right now fetches nothing.
    let r = await call(await signToken(keyB, { iss, aud: AUD }));
    assert.deepEqual([r.body.code, r.hits], ['unknown_key', 0]);
    await advance(31);
    r = await call(await signToken(keyB, { iss, aud: AUD }));
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'unknown_key');
    assert.deepEqual([r.delta.jwks_fetches, r.hits], [1, 1]);
    // A flood of unknown kids costs nothing more during the cooldown.
    for (let i = 0; i < 3; i++) {
      r = await call(await signToken(await newKey(), { iss, aud: AUD }));
      assert.equal(r.body.code, 'unknown_key');
      assert.deepEqual([r.delta.jwks_fetches, r.hits], [0, 0]);
    }
    // The issuer publishes B; still cooling down, then one refetch finds it.
    jwks.keys = [keyA.publicJwk, keyB.publicJwk];
    r = await call(await signToken(keyB, { iss, aud: AUD }));
    assert.equal(r.body.code, 'unknown_key');
    assert.equal(r.hits, 0);
    await advance(31);
    r = await call(await signToken(keyB, { iss, aud: AUD }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.delta.jwks_fetches, r.hits], [1, 1]);
  });

  test('a fresh isolate reads the set from KV instead of fetching it', async () => {
    const res = await fetch(`${worker.origin}/_torii/dev/forget`, { method: 'POST' });
    assert.equal(res.status, 204);
    const r = await call(await signToken(keyB, { iss, aud: AUD }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.delta.kv_reads, r.delta.jwks_fetches, r.hits], [1, 0, 0]);
  });

  test('a burst on a fresh isolate: one KV read, no fetch, every request verified', async () => {
    await (await fetch(`${worker.origin}/_torii/dev/forget`, { method: 'POST' })).arrayBuffer();
    const c0 = await counters();
    const h0 = jwks.hits;
    const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => signToken(keyA, { iss, aud: AUD, sub: `burst${i}` })));
    const statuses = await Promise.all(
      tokens.map(async (t) => {
        const res = await fetch(`${worker.origin}/api/burst`, { headers: { authorization: `Bearer ${t}` } });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    assert.deepEqual(statuses, Array(8).fill(200));
    const c1 = await counters();
    assert.deepEqual([c1.kv_reads - c0.kv_reads, c1.jwks_fetches - c0.jwks_fetches, jwks.hits - h0], [1, 0, 0]);
  });

  test('discovery: the jwks_uri comes from the issuer\'s discovery document', async () => {
    const r = await call(await signToken(keyA, { iss: `${iss}/disc`, aud: AUD }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.delta.jwks_fetches, r.hits], [2, 2]);
    const again = await call(await signToken(keyA, { iss: `${iss}/disc`, aud: AUD }));
    assert.deepEqual([again.status, again.delta.jwks_fetches], [200, 0]);
  });

  test('a key set over 64 KiB, or one that takes over 5 s, is not used: 503 jwks_unavailable', async () => {
    let r = await call(await signToken(keyA, { iss: `${iss}/big`, aud: AUD }));
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'jwks_unavailable');
    assert.match(r.res.headers.get('retry-after') ?? '', /^\d+$/);
    assert.deepEqual([r.delta.jwks_fetches, r.delta.jwks_fetch_failures], [1, 1]);
    const t0 = Date.now();
    r = await call(await signToken(keyA, { iss: `${iss}/slow`, aud: AUD }));
    const took = Date.now() - t0;
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'jwks_unavailable');
    assert.ok(took >= 4500 && took < 15_000, `took ${took} ms`);
  });

  test('issuer down: stale keys still verify (revalidation in the background fails)', async () => {
    jwks.down = true;
    await advance(200); // past max-age=120: stale
    let r = await call(await signToken(keyA, { iss, aud: AUD }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.delta.revalidations, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const c = await counters();
    assert.ok(c.jwks_fetch_failures >= 1);
    // During the cooldown the stale set is served without more attempts.
    r = await call(await signToken(keyA, { iss, aud: AUD }));
    assert.equal(r.status, 200);
    assert.deepEqual([r.delta.jwks_fetches, r.hits], [0, 0]);
  });

  test('past 24 h of staleness: 503 jwks_unavailable with Retry-After; recovers when the issuer is back', async () => {
    await advance(90_000);
    let r = await call(await signToken(keyA, { iss, aud: AUD }));
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'jwks_unavailable');
    assert.match(r.res.headers.get('retry-after') ?? '', /^\d+$/);
    jwks.down = false;
    await advance(31);
    r = await call(await signToken(keyA, { iss, aud: AUD }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.delta.jwks_fetches, 1);
  });
});
