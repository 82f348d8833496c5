// End-to-end: signing-key rotation driven by the Cron Trigger (`scheduled` export, run
// through wrangler dev's `/__scheduled`), with a short period so the test sees it:
// the new key is published before it signs, the old one stays published, and clients
// that honour the JWKS `max-age` (and never refetch on an unknown kid) see zero failures
// while tokens are minted and verified during several rotations.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { newDevSession, startWorker } from './worker.mjs';

const SECRET = 'e2e-rotation-master-secret-not-for-production-0123456789';
const JWKS = '/_torii/.well-known/jwks.json';
const MINT = '/_torii/auth/session/token';
const PERIOD = 3;
const LEAD = 2;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('key rotation under wrangler dev', () => {
  let w;
  const kids = async () => (await (await fetch(w.origin + JWKS)).json()).keys.map((k) => k.kid);
  const cron = async () => {
    const res = await fetch(`${w.origin}/__scheduled?cron=17+*+*+*+*`);
    assert.equal(res.status, 200, await res.text());
  };
  const session = async () => (await newDevSession(w.origin)).accessToken;
  const mint = async (token) => {
    const res = await fetch(w.origin + MINT, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const body = await res.json();
    return { status: res.status, body };
  };

  before(async () => {
    w = await startWorker({
      TORII_MASTER_SECRET: SECRET,
      TORII_DEV_MODE: '1',
      TORII_ROTATION_PERIOD_SECS: String(PERIOD),
      TORII_ROTATION_PUBLISH_LEAD_SECS: String(LEAD),
      TORII_TENANT_CACHE_TTL_SECS: '1',
    },
    // Clients here mint far beyond a session's production budget (MINT_LIMITER): a load
    // test of rotation, not of the limits (tests/e2e/ratelimit.test.mjs).
    { ratelimits: {} });
  });
  after(() => w?.stop());

  test('the cron publishes a new key before it signs and keeps the old one', async () => {
    const token = await session();
    const [v1] = await kids();
    assert.equal(decodeProtectedHeader(token).kid, v1);
    // Not due yet: the cron changes nothing.
    await cron();
    assert.deepEqual(await kids(), [v1]);
    await sleep(PERIOD * 1000 + 200);
    await cron();
    // Dated from the next second (when it is surely visible in D1).
    await sleep(1100);
    const published = await kids();
    assert.equal(published.length, 2, 'the new key is published');
    assert.equal(published[0], v1);
    const v2 = published[1];
    // Published, not signing yet: new tokens are still signed by v1.
    const early = await mint(token);
    assert.equal(early.status, 200);
    assert.equal(decodeProtectedHeader(early.body.accessToken).kid, v1);
    // The JWKS max-age is at most half the publish lead.
    const res = await fetch(w.origin + JWKS);
    assert.equal(res.headers.get('cache-control'), `public, max-age=${LEAD / 2}`);
    await res.arrayBuffer();
    await sleep(LEAD * 1000 + 200);
    const late = await mint(early.body.accessToken);
    assert.equal(late.status, 200, 'a token signed by the old key still mints');
    assert.equal(decodeProtectedHeader(late.body.accessToken).kid, v2, 'the new key signs after the lead');
    assert.deepEqual((await kids()).slice(0, 2), [v1, v2], 'the old key stays published');
    // A second cron run within the period does not rotate again.
    await cron();
    assert.equal((await kids()).length, 2);
  });

  test('rotations while requests flow: zero failures', async () => {
    const clients = 4;
    const deadline = Date.now() + 3 * PERIOD * 1000 + 1500;
    const failures = [];
    const signers = new Set();
    let verified = 0;
    const client = async () => {
      // A verifier honouring max-age (1 s here) that never refetches on an unknown kid.
      const jwks = createRemoteJWKSet(new URL(w.origin + JWKS), { cacheMaxAge: (LEAD / 2) * 1000, cooldownDuration: 600_000 });
      let token = await session();
      while (Date.now() < deadline) {
        const r = await mint(token);
        if (r.status !== 200) {
          failures.push(`mint ${r.status} ${r.body.code}`);
          token = await session();
          continue;
        }
        token = r.body.accessToken;
        signers.add(decodeProtectedHeader(token).kid);
        try {
          await jwtVerify(token, jwks, { issuer: w.origin });
          verified++;
        } catch (e) {
          failures.push(`jose ${e.code}`);
        }
      }
    };
    const rotator = async () => {
      while (Date.now() < deadline) {
        await cron();
        await sleep(500);
      }
    };
    await Promise.all([rotator(), ...Array.from({ length: clients }, client)]);
    assert.deepEqual(failures, []);
    assert.ok(verified > 20, `verified ${verified}`);
    assert.ok(signers.size >= 3, `tokens signed by ${signers.size} keys during the run`);
  });
});
