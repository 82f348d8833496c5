// End-to-end: hostile input at the edge, over real HTTP under `wrangler dev` (the way
// oauth2-proxy's header-spoofing suite and Envoy's tests probe a gateway). Nothing reaches
// the origin that should not, nothing spoofed reaches it, and nothing breaks the Worker.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { rawRequest } from './gateway-helpers.mjs';
import { startWorker } from './worker.mjs';

const SECRET = 'e2e-hostile-master-secret-not-for-production-0123456789';
const ROUTES = JSON.stringify([{ path: '/public/**', access: 'public' }]);

describe('hostile input at the edge', () => {
  let worker;
  let origin;
  let token;
  const seen = [];

  before(async () => {
    origin = createServer(async (req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of req) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      const rawHeaders = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      seen.push({ method: req.method, url: req.url, rawHeaders, bytes, sha256: hash.digest('hex') });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes }));
    });
    await new Promise((r) => origin.listen(0, '127.0.0.1', r));
    worker = await startWorker({
      TORII_MASTER_SECRET: SECRET,
      ORIGIN_URL: `http://127.0.0.1:${origin.address().port}`,
      ROUTES,
      TORII_LOG: 'off',
    });
    token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
  });
  after(async () => {
    await worker?.stop();
    origin?.close();
  });

  const ours = (r) => r.rawHeaders.filter(([n]) => n.toLowerCase().replaceAll('_', '-').startsWith('x-torii-'));

  test('100 duplicate x-torii-* headers: the origin sees only the edge\'s, once each', async () => {
    const headers = [['Authorization', `Bearer ${token}`]];
    for (let i = 0; i < 100; i++) headers.push([i % 2 ? 'X-Torii-User-Id' : 'x_torii_org_role', `spoof${i}`]);
    const before = seen.length;
    const res = await rawRequest(worker.origin, { path: '/api/dup', headers });
    assert.equal(res.status, 200);
    assert.equal(seen.length, before + 1);
    const got = ours(seen.at(-1));
    const names = got.map(([n]) => n.toLowerCase());
    assert.equal(new Set(names).size, names.length, names.join());
    assert.ok(got.every(([, v]) => !v.startsWith('spoof')));
    assert.equal(got.find(([n]) => n === 'x-torii-user-id')?.[1], 'user_demo');
  });

  test('a 64 KiB header value and an oversized cookie: refused or stripped, never a 5xx', async () => {
    const before = seen.length;
    const big = await rawRequest(worker.origin, {
      path: '/api/big',
      headers: [['Authorization', `Bearer ${token}`], ['X-Torii-Claims', 'A'.repeat(64 * 1024)]],
    });
    assert.ok(big.status < 500, `status ${big.status}`);
    if (big.status === 200) assert.ok(ours(seen.at(-1)).every(([, v]) => v.length < 64 * 1024));
    // A 16 KiB session cookie is a token over the 8 KiB limit: 401, origin not called.
    const n = seen.length;
    const cookie = await rawRequest(worker.origin, { path: '/api/c', headers: [['Cookie', `__session=${'a'.repeat(16 * 1024)}`]] });
    assert.equal(cookie.status, 401);
    assert.equal(JSON.parse(cookie.body).code, 'token_too_large');
    assert.equal(seen.length, n);
    assert.ok(seen.length - before <= 1);
  });

  test('path tricks never reach /_torii/ or /.well-known/ on the origin, nor unlock them', async () => {
    const tricks = [
      '/_torii/dev/counters', '/%5Ftorii/dev/counters', '/%5ftorii/devtools/sessions', '//_torii/dev/counters',
      '/x/../_torii/dev/counters', '/x/%2e%2e/_torii/dev/counters', '/public/../_torii/dev/counters',
      '/public/%2e%2e/%2e%2e/_torii/dev/counters', '/.well-known/../_torii/dev/counters', '/%2Ewell-known/jwks.json',
      '/.well-known/%2e%2e/_torii/dev/clock', '/_torii%2fdev/counters', '/public/..%2f_torii/dev/counters',
      '/_torii/.well-known/jwks.json/../../_torii/dev/counters', '/%2e/_torii/dev/counters', '/v1/../_torii/dev/counters',
      '/public//..//_torii/dev/counters',
    ];
    const before = seen.length;
    for (const path of tricks) {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(worker.origin, { method, path, headers: [['Authorization', `Bearer ${token}`]] });
        // Never a dev route answering (a deployable-like Worker: no TORII_DEV_MODE), never a 5xx.
        assert.ok(res.status < 500, `${method} ${path}: ${res.status}`);
        assert.ok(!/d1_queries|counters|sessionId/.test(res.body), `${method} ${path}: ${res.body}`);
        if (res.status !== 200) assert.ok(['not_found', 'invalid_path', 'method_not_allowed'].includes(JSON.parse(res.body).code), `${method} ${path}: ${res.body}`);
      }
    }
    // What was forwarded went to the origin under a path that is not the edge's own.
    for (const { url } of seen.slice(before)) {
      assert.ok(!/^\/(_torii|\.well-known)(\/|$)/.test(url.split('?')[0]), `forwarded ${url}`);
    }
    // Mixed case is another path (not ours), forwarded as such and only with a token.
    const mixed = await rawRequest(worker.origin, { path: '/_TORII/x' });
    assert.equal(mixed.status, 401);
  });

  test('HEAD, OPTIONS and TRACE on a protected route need a token; CORS preflights too', async () => {
    const before = seen.length;
    for (const method of ['HEAD', 'OPTIONS', 'TRACE', 'PATCH', 'DELETE']) {
      const res = await rawRequest(worker.origin, { method, path: '/api/secret' });
      assert.ok([401, 405].includes(res.status), `${method}: ${res.status}`);
    }
    const preflight = await rawRequest(worker.origin, {
      method: 'OPTIONS',
      path: '/api/secret',
      headers: [['Origin', 'https://evil.example'], ['Access-Control-Request-Method', 'DELETE'], ['Access-Control-Request-Headers', 'authorization']],
    });
    assert.equal(preflight.status, 401);
    assert.equal(preflight.headers.get('access-control-allow-origin'), undefined);
    assert.equal(seen.length, before, 'nothing reached the origin');
    const head = await rawRequest(worker.origin, { method: 'HEAD', path: '/api/secret', headers: [['Authorization', `Bearer ${token}`]] });
    assert.equal(head.status, 200);
    assert.equal(seen.at(-1).method, 'HEAD');
  });

  test('a body on GET is not forwarded', async () => {
    const res = await rawRequest(worker.origin, {
      method: 'GET',
      path: '/api/get-body',
      headers: [['Authorization', `Bearer ${token}`], ['Content-Type', 'text/plain']],
      body: 'smuggled',
    });
    assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
    if (res.status === 200) assert.equal(seen.at(-1).bytes, 0);
  });

  test('a 10 MB body goes through the gateway intact', async () => {
    const body = randomBytes(10 * 1024 * 1024);
    const res = await fetch(`${worker.origin}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { bytes: body.length });
    const got = seen.at(-1);
    assert.equal(got.url, '/api/upload');
    assert.equal(got.sha256, createHash('sha256').update(body).digest('hex'));
  });
});
