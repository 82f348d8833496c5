// End-to-end: rate limits and the bounded tenant caches, against the real Worker under
// `wrangler dev` (Miniflare emulates the Workers Rate Limiting bindings: fixed windows
// of the configured period, counted in memory).
//
// * Without limiter bindings: nothing is limited (logged once), and a flood of random
//   tenant names costs one D1 read per name: the figure the limits bound.
// * With low per-test limits (`startWorker(…, { ratelimits })`):
//   - mint: the same session beyond MINT_LIMITER's limit gets 429 `rate_limited` with
//     `Retry-After: 60` and no D1 read; another session is unaffected;
//   - a flood of 300 distinct hosts / x-application-ids from one (loopback) client costs
//     at most TENANT_LIMITER's limit of D1 reads, the rest is 429; a name already known
//     to be missing stays a free 404; the known tenant answers throughout and after.
// Every request goes to 127.0.0.1.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { newDevSession, requestWithHost, startWorker } from './worker.mjs';

const SECRET = 'e2e-ratelimit-master-secret-not-for-production-0123456789';
const DISCOVERY = '/.well-known/openid-configuration';
const MINT = '/_torii/auth/session/token';
const FLOOD = 300;
const MINT_LIMIT = 5;
const TENANT_LIMIT = 20;
const VARS = {
  TORII_MASTER_SECRET: SECRET,
  TORII_DEV_MODE: '1',
  TORII_BASE_DOMAIN: 'torii.test',
  TORII_LOG: 'off',
};

/** A request to the Worker with any Host header (fetch cannot set one). */
const call = (w, path, { host, method = 'GET', headers = {} } = {}) =>
  requestWithHost(w.origin, path, { host: host ?? `127.0.0.1:${w.port}`, method, headers });

const counters = async (w) => (await call(w, '/_torii/dev/counters')).body;

/** 300 names no tenant has: half custom-domain hosts, half x-application-ids. */
function floodNames(w) {
  const tag = randomBytes(4).toString('hex');
  return Array.from({ length: FLOOD }, (_, i) =>
    i % 2 === 0
      ? { host: `r${i}-${tag}.flood.test:${w.port}` }
      : { headers: { 'x-application-id': `flood-${i}-${tag}` } },
  );
}

/**
 * Sends the flood (8 at a time); between batches the known tenant must answer 200.
 * Resolves to the statuses seen.
 */
async function flood(w, names) {
  const statuses = {};
  for (let i = 0; i < names.length; i += 8) {
    const batch = await Promise.all(names.slice(i, i + 8).map((n) => call(w, DISCOVERY, n)));
    for (const r of batch) {
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 429) {
        assert.equal(r.body.code, 'rate_limited');
        assert.equal(r.headers['retry-after'], '60');
      } else {
        assert.equal(r.status, 404);
        assert.equal(r.body.code, 'tenant_not_found');
      }
    }
    const known = await call(w, DISCOVERY);
    assert.equal(known.status, 200, 'the known tenant answers during the flood');
  }
  return statuses;
}

/** Miniflare counts in fixed 60 s windows: start a limited sequence well inside one. */
async function awayFromWindowEdge() {
  const into = Date.now() % 60_000;
  if (into > 45_000) await new Promise((r) => setTimeout(r, 60_000 - into + 250));
}

const newSession = (w) => newDevSession(w.origin);

const mint = (w, token) => call(w, MINT, { method: 'POST', headers: { authorization: `Bearer ${token}` } });

describe('without rate limiter bindings', () => {
  let w;
  before(async () => {
    w = await startWorker(VARS, { ratelimits: {} });
  });
  after(async () => w?.stop());

  test('nothing is limited (logged once) and each unknown name costs D1 reads', async () => {
    assert.equal((await call(w, DISCOVERY)).status, 200);
    const { accessToken } = await newSession(w);
    for (let i = 0; i < MINT_LIMIT + 3; i++) assert.equal((await mint(w, accessToken)).status, 200);

    const before = await counters(w);
    const statuses = await flood(w, floodNames(w));
    const after = await counters(w);
    assert.deepEqual(statuses, { 404: FLOOD });
    const reads = after.d1_queries - before.d1_queries;
    // A custom domain costs one statement, an application id two (tenant + key versions).
    assert.equal(reads, (FLOOD / 2) * 1 + (FLOOD / 2) * 2, 'unbounded: every name reads D1');
    console.log(`# no limiter: ${FLOOD} random tenant names → ${reads} D1 statements`);
    assert.equal(after.limiter_calls, 0);
    assert.equal(after.rate_limited, 0);
    const logged = w.output().match(/no rate limiter binding TENANT_LIMITER/g) ?? [];
    assert.equal(logged.length, 1, 'the missing binding is logged once');
  });
});

describe('with rate limiter bindings (low per-test limits)', () => {
  let w;
  before(async () => {
    w = await startWorker(VARS, {
      ratelimits: {
        MINT_LIMITER: { limit: MINT_LIMIT, period: 60 },
        TENANT_LIMITER: { limit: TENANT_LIMIT, period: 60 },
      },
    });
  });
  after(async () => w?.stop());

  test('mint: the same session beyond the limit gets 429 + Retry-After; another session is unaffected', async () => {
    const a = await newSession(w);
    const b = await newSession(w);
    await awayFromWindowEdge();
    for (let i = 0; i < MINT_LIMIT; i++) {
      const r = await mint(w, a.accessToken);
      assert.equal(r.status, 200, `mint ${i + 1}`);
    }
    const before = await counters(w);
    const limited = await mint(w, a.accessToken);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    assert.equal(limited.headers['retry-after'], '60');
    assert.equal(limited.headers['cache-control'], 'no-store');
    assert.equal(limited.headers['access-control-allow-origin'], '*');
    const afterLimited = await counters(w);
    assert.equal(afterLimited.d1_queries, before.d1_queries, 'a limited mint reads nothing from D1');
    assert.equal(afterLimited.rate_limited, before.rate_limited + 1);
    // Another session has its own budget.
    const other = await mint(w, b.accessToken);
    assert.equal(other.status, 200);
    assert.ok(other.body.accessToken);
    // A token that does not verify is refused before the limiter (never 429).
    const bad = await mint(w, a.accessToken.slice(0, -4) + 'AAAA');
    assert.equal(bad.status, 401);
  });

  test('a flood of random tenant names costs bounded D1 reads; the known tenant keeps working', async () => {
    assert.equal((await call(w, DISCOVERY)).status, 200);
    await awayFromWindowEdge();
    const names = floodNames(w);
    const before = await counters(w);
    const statuses = await flood(w, names);
    const after = await counters(w);
    const reads = after.d1_queries - before.d1_queries;
    console.log(`# TENANT_LIMITER ${TENANT_LIMIT}/60 s: ${FLOOD} random tenant names → ${reads} D1 statements, ` +
      `${statuses[404] ?? 0}×404, ${statuses[429] ?? 0}×429`);
    // At most the limit reached D1 (an application id is 2 statements), the rest got 429.
    assert.ok((statuses[404] ?? 0) <= TENANT_LIMIT, JSON.stringify(statuses));
    assert.ok((statuses[429] ?? 0) >= FLOOD - TENANT_LIMIT, JSON.stringify(statuses));
    assert.ok(reads <= 2 * TENANT_LIMIT, `${reads} D1 statements`);
    assert.equal(after.rate_limited - before.rate_limited, statuses[429]);

    // A name already known to be missing is a free 404 (negative cache), not a 429.
    const seenMissing = [];
    for (const n of names.slice(0, 40)) {
      const mark = await counters(w);
      const r = await call(w, DISCOVERY, n);
      if (r.status === 404) {
        seenMissing.push(n);
        assert.equal((await counters(w)).d1_queries, mark.d1_queries, 'negative cache: no D1 read');
      }
    }
    assert.ok(seenMissing.length > 0, 'the names that reached D1 are cached as missing');

    // After the flood: the known tenant, its JWKS and minting still work.
    assert.equal((await call(w, DISCOVERY)).status, 200);
    assert.equal((await call(w, '/_torii/.well-known/jwks.json')).status, 200);
    const { accessToken } = await newSession(w);
    assert.equal((await mint(w, accessToken)).status, 200);
  });
});
