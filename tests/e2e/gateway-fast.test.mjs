// End-to-end: the gateway's fast path (src/worker/fast.rs, src/worker/entry.mjs) against
// the full path (src/worker/gateway.rs `handle`), under `wrangler dev`. A fresh isolate
// answers its first request down the full path (the tenant comes from D1, the signing key
// is imported); every warm request after it is planned by the core in one call and carried
// by the entry module. The two must be indistinguishable to the client, the origin and
// the log, and the dev counters say which path each request took.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDemoOrigin } from '../../scripts/demo-origin.mjs';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { startWorker } from './worker.mjs';

const SECRET = 'e2e-fast-path-master-secret-not-for-production-0123456789';
const ROUTES = JSON.stringify([
  { path: '/public/**', access: 'public' },
  { path: '/admin/**', access: 'required', roles: ['admin'] },
]);

/** The origin request as the client would compare it: headers by name, minus per-request values. */
function comparable(seen) {
  const headers = {};
  for (const [n, v] of seen.rawHeaders) {
    const name = n.toLowerCase();
    if (['x-request-id', 'x-torii-edge-assertion', 'content-length'].includes(name)) continue;
    headers[name] = headers[name] === undefined ? v : `${headers[name]}, ${v}`;
  }
  return { method: seen.method, url: seen.url, headers, assertionOk: seen.assertion.ok };
}

/** A log line without its per-request values (id and times). */
function comparableLog(line) {
  const { request_id, verify_ms, origin_ms, total_ms, ...rest } = line;
  return { ...rest, keys: Object.keys(line).join(',') };
}

describe('gateway fast path under wrangler dev', () => {
  let origin;
  let worker;
  const counters = async () => (await fetch(`${worker.origin}/_torii/dev/counters`)).json();
  const get = (path, headers = {}) => fetch(worker.origin + path, { headers });
  const bearer = (t) => ({ authorization: `Bearer ${t}` });
  const logLines = () =>
    worker
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"torii-edge gateway"'))
      .map((l) => JSON.parse(l.slice(l.indexOf('{'))));
  const settle = () => new Promise((r) => setTimeout(r, 300));

  before(async () => {
    origin = await startDemoOrigin({ quiet: true });
    worker = await startWorker({
      TORII_MASTER_SECRET: SECRET,
      ORIGIN_URL: origin.url,
      ROUTES,
      TORII_DEV_MODE: '1',
    });
    origin.edge = worker.origin;
  });
  after(async () => {
    await worker?.stop();
    await origin?.close();
  });

  test('the first request takes the full path, the same request warm the fast path: same reply, same origin request, same log line', async () => {
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_role: 'admin' } });
    const c0 = await counters();
    const cold = await get('/admin/fast?x=1', bearer(token));
    const coldBody = await cold.text();
    const c1 = await counters();
    const warm = await get('/admin/fast?x=1', bearer(token));
    const warmBody = await warm.text();
    const c2 = await counters();
    assert.equal(c1.fast_path_fallbacks - c0.fast_path_fallbacks, 1, 'the cold request went down the full path');
    assert.equal(c1.fast_path - c0.fast_path, 0);
    assert.equal(c2.fast_path - c1.fast_path, 1, 'the warm request took the fast path');
    assert.equal(c2.fast_path_fallbacks - c1.fast_path_fallbacks, 0);
    assert.equal(cold.status, 200);
    assert.equal(warm.status, cold.status);
    // The demo origin echoes what it saw: the same request but for its id.
    const echo = (body) => JSON.stringify(comparable(JSON.parse(body)));
    assert.equal(echo(warmBody), echo(coldBody));
    assert.match(warm.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    assert.equal(warm.headers.get('x-demo-origin'), cold.headers.get('x-demo-origin'));
    const [a, b] = origin.requests.slice(-2);
    assert.deepEqual(comparable(b), comparable(a));
    assert.equal(b.assertion.ok, true, b.assertion.error);
    assert.equal(b.assertion.claims.sub, a.assertion.claims.sub);
    await settle();
    const [la, lb] = logLines().slice(-2);
    assert.deepEqual(comparableLog(lb), comparableLog(la));
    assert.equal(lb.status, 200);
    assert.equal(typeof lb.total_ms, 'number');
    assert.equal(typeof lb.origin_ms, 'number');
  });

  test('a reply of the fast path is the full path reply (missing token, insufficient scope)', async () => {
    // The isolate is warm: both replies come from the fast path; the full path's are in
    // the other e2e suites. Here the shape is compared with what the core documents.
    const c0 = await counters();
    const missing = await get('/admin/x');
    const member = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_role: 'member' } });
    const scope = await get('/admin/x', bearer(member));
    const c1 = await counters();
    assert.equal(c1.fast_path - c0.fast_path, 2);
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).code, 'missing_token');
    assert.match(missing.headers.get('www-authenticate'), /^Bearer realm="demo"/);
    assert.equal(missing.headers.get('content-type'), 'application/json');
    assert.match(missing.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    assert.equal(scope.status, 403);
    assert.equal((await scope.json()).code, 'insufficient_scope');
    assert.match(scope.headers.get('www-authenticate'), /error="insufficient_scope"/);
    await settle();
    const last = logLines().at(-1);
    assert.equal(last.decision, 'reject');
    assert.equal(last.code, 'insufficient_scope');
    assert.equal(last.status, 403);
  });

  test('a first-seen token on a warm isolate: one WebCrypto verify by the entry, then forwarded', async () => {
    await get('/public/warm').then((r) => r.arrayBuffer());
    // A claim of its own: no earlier test's token (same claims, same second) is this one.
    const fresh = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_role: 'admin', jti: 'first-seen' } });
    const c0 = await counters();
    const seen = origin.requests.length;
    const res = await get('/admin/first', bearer(fresh));
    await res.arrayBuffer();
    const c1 = await counters();
    assert.equal(res.status, 200);
    assert.equal(origin.requests.length, seen + 1);
    assert.equal(c1.webcrypto_verifies - c0.webcrypto_verifies, 1);
    assert.equal(c1.signature_memo_hits - c0.signature_memo_hits, 0, 'resumed where it stopped: no second plan, no memo lookup');
    assert.equal(c1.fast_path - c0.fast_path, 1);
    assert.equal(c1.fast_path_fallbacks - c0.fast_path_fallbacks, 0);
    assert.equal(c1.webcrypto_signs - c0.webcrypto_signs, 1);
    assert.equal(c1.origin_fetches - c0.origin_fetches, 1);
    // The same token again: the token cache, no verify.
    const again = await get('/admin/first', bearer(fresh));
    await again.arrayBuffer();
    const c2 = await counters();
    assert.equal(c2.webcrypto_verifies - c1.webcrypto_verifies, 0);
    assert.equal(c2.token_cache_hits - c1.token_cache_hits, 1);
  });

  test('a bad signature on a warm isolate: one WebCrypto verify, refused on the fast path; never remembered, never forwarded', async () => {
    const good = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_role: 'admin', jti: 'flipped' } });
    const [h, p, s] = good.split('.');
    // A character inside S (bytes 32..63): still strictly encoded, so only the signature
    // equation refuses it.
    const at = 60;
    const flipped = `${h}.${p}.${s.slice(0, at)}${s[at] === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`;
    const c0 = await counters();
    const seen = origin.requests.length;
    const res = await get('/admin/bad', bearer(flipped));
    const c1 = await counters();
    assert.equal(res.status, 401);
    assert.equal((await res.json()).code, 'invalid_signature');
    assert.equal(origin.requests.length, seen);
    assert.equal(c1.fast_path - c0.fast_path, 1);
    assert.equal(c1.fast_path_fallbacks - c0.fast_path_fallbacks, 0);
    // Checked once, by the entry; the request resumed with the refusal.
    assert.equal(c1.webcrypto_verifies - c0.webcrypto_verifies, 1);
    assert.equal(c1.signature_memo_hits - c0.signature_memo_hits, 0);
    assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
    // A second try is checked again and refused the same way (failures are never cached).
    const again = await get('/admin/bad', bearer(flipped));
    assert.equal(again.status, 401);
    assert.equal((await again.json()).code, 'invalid_signature');
    const c2 = await counters();
    assert.equal(c2.webcrypto_verifies - c1.webcrypto_verifies, 1);
    assert.equal(origin.requests.length, seen);
    // The good token still passes (the refusal was of other bytes).
    const ok = await get('/admin/bad', bearer(good));
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
  });

  test('spoofed x-torii-* headers never reach the origin on the fast path either', async () => {
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims: { org_role: 'admin' } });
    await get('/admin/spoof', bearer(token)).then((r) => r.arrayBuffer());
    const c0 = await counters();
    const res = await get('/admin/spoof', {
      ...bearer(token),
      'x-torii-user-id': 'someone-else',
      'x-torii-org-role': 'owner',
      'x-torii-edge-assertion': 'forged',
    });
    await res.arrayBuffer();
    const c1 = await counters();
    assert.equal(c1.fast_path - c0.fast_path, 1);
    const last = origin.requests.at(-1);
    const values = (name) => last.rawHeaders.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
    assert.notDeepEqual(values('x-torii-user-id'), ['someone-else']);
    assert.equal(values('x-torii-user-id').length, 1);
    assert.deepEqual(values('x-torii-org-role'), ['admin']);
    assert.equal(values('x-torii-edge-assertion').length, 1);
    assert.equal(last.assertion.ok, true, last.assertion.error);
  });
});
