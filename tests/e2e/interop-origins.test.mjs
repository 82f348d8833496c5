// Interop across languages, behind the real Worker: an origin program per language
// (tests/interop/origins/: Node + jose, Python + PyJWT, Go + go-jose v2, Ruby + ruby-jwt
// with rbnacl; each is a docs/origin.md recipe) verifies a session token and the edge
// assertion of a request the Worker forwarded, with its binding (htm, htu, ihash
// recomputed from the received headers), against the JWKS the Worker serves. All accept
// the real thing; all refuse a tampered copy (another user id, path, method, dropped
// header, audience, signature) and the same request with an expired assertion.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { deriveKey, mintDevToken } from '../../scripts/dev-token.mjs';
import { each, originPrograms } from '../interop/origins/programs.mjs';
import { startWorker } from './worker.mjs';

const SECRET = 'e2e-interop-origins-master-secret-not-for-production-01';
const JWKS_PATH = '/_torii/.well-known/jwks.json';
const LANGS = ['node', 'python', 'go', 'ruby'];
const all = (value) => Object.fromEntries(LANGS.map((l) => [l, value]));

describe('origins in Node, Python, Go and Ruby verify what the edge forwards', () => {
  let worker;
  let origin;
  let originUrl;
  let programs;
  let forwarded; // { method, path, headers } as the origin received it
  let assertion; // its claims, decoded (not verified)

  before(async () => {
    origin = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        forwarded = { method: req.method, path: req.url, headers: { ...req.headers } };
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${origin.address().port}`;
    // Both settle before either failure is thrown, so `after` stops a Worker that started
    // even when the origin programs could not (a failed Promise.all left it running).
    const started = await Promise.allSettled([
      startWorker({ TORII_MASTER_SECRET: SECRET, ORIGIN_URL: originUrl, TORII_LOG: 'off' }),
      originPrograms(),
    ]);
    [worker, programs] = started.map((s) => s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    const res = await fetch(`${worker.origin}/orders/9?expand=items&q=a%20b`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"qty":1}',
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(forwarded?.headers['x-torii-edge-assertion'], 'the origin got an assertion');
    assertion = JSON.parse(Buffer.from(forwarded.headers['x-torii-edge-assertion'].split('.')[1], 'base64url'));
  });
  after(async () => {
    await worker?.stop();
    origin?.close();
    programs?.close();
  });

  const base = () => ({ jwks_url: worker.origin + JWKS_PATH, issuer: worker.origin });
  const asserted = (request = forwarded, extra = {}) => programs.verdicts('assertion', { ...base(), audience: originUrl, request, ...extra });
  const withHeaders = (change) => ({ ...forwarded, headers: change({ ...forwarded.headers }) });

  test('a session token (scripts/dev-token.mjs): all accept it; forged, expired or mis-issued, all refuse', async () => {
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    const ok = await programs.verdicts('session', { ...base(), token });
    assert.deepEqual(each(ok, (v) => [v.ok, v.message, v.claims?.sub, v.claims?.iss]), all([true, undefined, 'user_demo', worker.origin]));

    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: 'admin' })).toString('base64url');
    assert.deepEqual(each(await programs.verdicts('session', { ...base(), token: `${h}.${forged}.${s}` }), (v) => v.error), all('signature'));

    const now = Math.floor(Date.now() / 1000);
    const expired = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin, now: now - 3600, lifetime: 600 });
    assert.deepEqual(each(await programs.verdicts('session', { ...base(), token: expired }), (v) => v.error), all('expired'));

    assert.deepEqual(each(await programs.verdicts('session', { ...base(), issuer: 'https://other.example', token }), (v) => v.error), all('invalid'));
    // An edge assertion is no session token (its typ), even though the same key signed it.
    const asSession = await programs.verdicts('session', { ...base(), token: forwarded.headers['x-torii-edge-assertion'] });
    assert.deepEqual(each(asSession, (v) => v.error), all('invalid'));
  });

  test('the edge assertion of the forwarded request: all accept it, bound to that request', async () => {
    assert.equal(forwarded.method, 'POST');
    assert.equal(forwarded.path, '/orders/9?expand=items&q=a%20b');
    assert.equal(forwarded.headers['x-torii-user-id'], 'user_demo');
    assert.equal(forwarded.headers['x-torii-issuer'], worker.origin);
    const got = await asserted();
    assert.deepEqual(
      each(got, (v) => [v.ok, v.message, v.claims?.sub, v.claims?.htm, v.claims?.htu, v.claims?.aud, v.claims?.iss]),
      all([true, undefined, 'user_demo', 'POST', `${originUrl}/orders/9?expand=items&q=a%20b`, originUrl, worker.origin]),
    );
    assert.deepEqual(each(got, (v) => v.claims.ihash), all(assertion.ihash));
  });

  test('a tampered copy: all refuse it', async () => {
    const cases = {
      'another user id': [asserted(withHeaders((h) => ({ ...h, 'x-torii-user-id': 'admin' }))), 'binding'],
      'another path': [asserted({ ...forwarded, path: '/orders/10?expand=items&q=a%20b' }), 'binding'],
      'another query': [asserted({ ...forwarded, path: '/orders/9?expand=items' }), 'binding'],
      'another method': [asserted({ ...forwarded, method: 'DELETE' }), 'binding'],
      'a dropped identity header': [asserted(withHeaders(({ 'x-torii-claims': _, ...h }) => h)), 'binding'],
      'an added identity header': [asserted(withHeaders((h) => ({ ...h, 'x-torii-org-role': 'owner' }))), 'binding'],
      'another origin (audience)': [asserted(forwarded, { audience: 'http://127.0.0.1:1' }), 'invalid'],
      'another issuer': [asserted(forwarded, { issuer: 'https://other.example' }), 'invalid'],
      'no assertion': [asserted(withHeaders(({ 'x-torii-edge-assertion': _, ...h }) => h)), 'invalid'],
    };
    const [h, p, s] = forwarded.headers['x-torii-edge-assertion'].split('.');
    const forged = Buffer.from(JSON.stringify({ ...assertion, sub: 'admin' })).toString('base64url');
    assert.notEqual(forged, p);
    cases['a re-signed payload'] = [asserted(withHeaders((x) => ({ ...x, 'x-torii-edge-assertion': `${h}.${forged}.${s}` }))), 'signature'];
    for (const [name, [verdicts, error]] of Object.entries(cases)) {
      assert.deepEqual(each(await verdicts, (v) => v.error), all(error), name);
    }
  });

  test('the same request with its assertion expired: all refuse it', async () => {
    assert.ok(assertion.exp - assertion.iat <= 60);
    // The same claims, signed by the tenant's own key (derived from the master secret as
    // the edge derives it) but issued and expired in the past: only `exp` is wrong, so
    // every program must say `expired` (no clock seam in the programs, no 60 s wait).
    const { privateKey, kid } = await deriveKey(SECRET, 'demo', 1);
    const now = Math.floor(Date.now() / 1000);
    const stale = await new SignJWT({ ...assertion, iat: now - 180, exp: now - 120 })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'torii-edge-assertion+jwt' })
      .sign(privateKey);
    const replay = withHeaders((h) => ({ ...h, 'x-torii-edge-assertion': stale }));
    assert.deepEqual(each(await asserted(replay), (v) => v.error), all('expired'));
  });
});
