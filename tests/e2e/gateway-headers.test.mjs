// End-to-end: what the origin may believe of a forwarded request's headers, over real
// HTTP under `wrangler dev` (issue: security review items 4, 6 and 8).
// * Client forwarding headers (Forwarded, X-Forwarded-*, X-Real-IP, True-Client-IP, …, in
//   any spelling) never reach the origin; the edge sets its own.
// * Claims copied into headers: a control character (CR, LF, NUL) in `sub`/`org_role`/…
//   refuses the request (401 invalid_claim_value, origin never called); a non-ASCII value is
//   only in x-torii-claims (base64url), never in its own header.
// * Paths over 2 KiB and queries over 4 KiB: 414 uri_too_long, origin never called.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDemoOrigin } from '../../scripts/demo-origin.mjs';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { rawRequest } from './gateway-helpers.mjs';
import { startWorker } from './worker.mjs';

const SECRET = 'e2e-gateway-headers-master-secret-not-for-production-01234';
const SPOOF = '6.6.6.6';
const FORWARDING = [
  'Forwarded', 'X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto', 'X-Forwarded-Port',
  'X-Forwarded-Prefix', 'X-Real-IP', 'X-Client-IP', 'Client-IP', 'True-Client-IP',
  'X-Cluster-Client-IP', 'Fastly-Client-IP', 'X-Original-URL', 'X-Rewrite-URL',
  'X-HTTP-Method-Override', 'X_Forwarded_For', 'x-real_ip',
];

describe('gateway headers under wrangler dev', () => {
  let origin;
  let worker;
  const seen = () => origin.requests.length;
  const headersOf = (r) => Object.fromEntries(r.rawHeaders.map(([n, v]) => [n.toLowerCase(), v]));

  before(async () => {
    origin = await startDemoOrigin({ quiet: true });
    worker = await startWorker(
      { TORII_MASTER_SECRET: SECRET, ORIGIN_URL: origin.url, TORII_LOG: 'off' },
      { tenants: [{ id: 'demo' }] },
    );
    origin.edge = worker.origin;
  });
  after(async () => {
    await worker?.stop();
    await origin?.close();
  });

  test('client forwarding headers never reach the origin; the edge sets its own', async () => {
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    const res = await rawRequest(worker.origin, {
      path: '/api/where',
      headers: [['Authorization', `Bearer ${token}`], ...FORWARDING.map((n) => [n, SPOOF])],
    });
    assert.equal(res.status, 200, res.body);
    // What the origin saw, from its own record (not the relayed body).
    const got = origin.requests.at(-1);
    assert.equal(got.assertion.ok, true, got.assertion.error);
    for (const [name, value] of got.rawHeaders) {
      assert.ok(!value.includes(SPOOF), `${name}: ${value} reached the origin`);
    }
    const h = headersOf(got);
    assert.equal(got.method, 'GET', 'X-HTTP-Method-Override is not honoured');
    assert.equal(got.url, '/api/where', 'X-Original-URL / X-Rewrite-URL are not honoured');
    assert.match(h.forwarded, /(^|;)proto=http($|;)/);
    assert.match(h.forwarded, /host="127\.0\.0\.1:\d+"/);
    assert.equal(h['x-forwarded-proto'], 'http');
    // The client address, when the runtime reports one, is the runtime's own.
    if (h['x-forwarded-for'] !== undefined) {
      assert.match(h['x-forwarded-for'], /^[0-9a-f.:]+$/i);
      assert.equal(h['x-real-ip'], h['x-forwarded-for']);
    }
  });

  test('control characters in claims copied into headers: 401 invalid_claim_value, origin never called', async () => {
    for (const claims of [
      { sub: 'user_demo\r\nx-torii-org-role: owner' },
      { sub: 'user\u0000demo' },
      { org_id: 'org_1', org_role: 'member\nx-admin: 1' },
      { aal: 'aal1\r' },
    ]) {
      const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, claims });
      const before = seen();
      const res = await fetch(`${worker.origin}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401, JSON.stringify(claims));
      assert.equal((await res.json()).code, 'invalid_claim_value');
      assert.match(res.headers.get('www-authenticate'), /error_description="invalid_claim_value"/);
      assert.equal(seen(), before, 'the origin must not be called');
    }
  });

  test('non-ASCII claims are only in x-torii-claims; ASCII ones in their own headers', async () => {
    const token = await mintDevToken({
      masterSecret: SECRET,
      issuer: worker.origin,
      claims: { sub: 'usér_ü', org_id: 'org_1', org_role: 'Администратор' },
    });
    const res = await fetch(`${worker.origin}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const got = await res.json();
    assert.equal(got.assertion.ok, true, got.assertion.error);
    const h = headersOf(got);
    assert.equal(h['x-torii-user-id'], undefined);
    assert.equal(h['x-torii-org-role'], undefined);
    assert.equal(h['x-torii-org-id'], 'org_1');
    assert.equal(h['x-torii-issuer'], worker.origin);
    const claims = JSON.parse(Buffer.from(h['x-torii-claims'], 'base64url').toString('utf8'));
    assert.equal(claims.sub, 'usér_ü');
    assert.equal(claims.org_role, 'Администратор');
  });

  test('paths over 2 KiB and queries over 4 KiB: 414 uri_too_long, origin never called', async () => {
    const before = seen();
    for (const path of [`/${'a'.repeat(2048)}`, `/api?q=${'x'.repeat(4100)}`]) {
      const res = await rawRequest(worker.origin, { path });
      assert.equal(res.status, 414, path.slice(0, 20));
      assert.equal(JSON.parse(res.body).code, 'uri_too_long');
    }
    // Just under the caps, it is an ordinary request (401: no token).
    const ok = await rawRequest(worker.origin, { path: `/${'a'.repeat(2000)}?q=${'x'.repeat(4000)}` });
    assert.equal(ok.status, 401);
    assert.equal(seen(), before);
  });
});
