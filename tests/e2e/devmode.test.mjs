// End-to-end: the dev-only routes (/_torii/dev/*, /_torii/devtools/*) exist only in the
// dev build, and even there answer only loopback requests with TORII_DEV_MODE=1.
//
// * the deployable build (build/, `make build-worker`: what `wrangler deploy` ships) has
//   no dev code in its wasm, and run WITH TORII_DEV_MODE=1 answers every dev path, with
//   any method, exactly like an unknown /_torii/ path (404 not_found);
// * the dev build (build-dev/, `make build-worker-dev`) answers them for a loopback host
//   (127.0.0.1, localhost, [::1]) and 404s them for any other Host, or when a forwarded
//   host (x-forwarded-host, Forwarded: host=) is not loopback.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEMO_USER } from '../../scripts/seed.mjs';
import { BUILDS, ROOT, requestWithHost, startWorker } from './worker.mjs';

const SECRET = 'e2e-devmode-master-secret-not-for-production-0123456789';
const DEV_PATHS = [
  '/_torii/dev/counters',
  '/_torii/dev/memory',
  '/_torii/dev/clock?advance=60',
  '/_torii/dev/ed25519?pk=00&msg=00&sig=00',
  '/_torii/dev/forget',
  '/_torii/dev/trap',
  '/_torii/dev/other',
  '/_torii/devtools/sessions',
  '/_torii/devtools/sessions/revoke',
  '/_torii/devtools/counters',
  '/_torii/devtools/forget',
  '/_torii/devtools/other',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
// Strings only the dev routes use (their messages, JSON fields and the variable's name):
// present in the dev build's wasm, absent from the deployable one.
const DEV_ONLY = ['TORII_DEV_MODE', 'userId is required', 'sessionId is required', 'd1_queries', 'clock_offset'];

/**
 * One request over node:http (fetch cannot set Host), to the Worker at `origin`, on its
 * own connection (`requestWithHost`). Resolves to `{ status, type, body }` (body: the text).
 */
async function send(origin, path, options = {}) {
  const res = await requestWithHost(origin, path, options);
  return { status: res.status, type: res.headers['content-type'], body: res.text };
}

const code = (r) => JSON.parse(r.body).code;

test('the deployable wasm has no dev code; the dev wasm has it (the strings are the right probe)', () => {
  // Both modules: the edge's (which answers the dev routes) and the Backend API's.
  for (const file of ['index_bg.wasm', 'api_bg.wasm']) {
    const deployable = readFileSync(join(ROOT, BUILDS.deployable, file));
    const dev = readFileSync(join(ROOT, BUILDS.dev, file));
    for (const s of DEV_ONLY) {
      assert.equal(deployable.indexOf(s), -1, `${s} is in ${BUILDS.deployable}/${file}`);
      if (file === 'index_bg.wasm') assert.notEqual(dev.indexOf(s), -1, `${s} is not in ${BUILDS.dev}/${file}`);
    }
  }
  // What `wrangler deploy` ships is the deployable build.
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  assert.match(toml, /^main\s*=\s*"build\/index\.js"\s*$/m);
});

describe('the deployable build, even with TORII_DEV_MODE=1', () => {
  let w;
  before(async () => {
    w = await startWorker({ TORII_MASTER_SECRET: SECRET, TORII_DEV_MODE: '1' }, { build: BUILDS.deployable });
  });
  after(() => w?.stop());

  test('every dev path, with any method, is 404 not_found like an unknown /_torii/ path', async () => {
    for (const method of METHODS) {
      const body = method === 'GET' || method === 'OPTIONS' ? undefined : { userId: DEMO_USER };
      const unknown = await send(w.origin, '/_torii/unknown', { method, body });
      assert.equal(unknown.status, 404);
      assert.equal(code(unknown), 'not_found');
      for (const path of DEV_PATHS) {
        const r = await send(w.origin, path, { method, body });
        assert.equal(r.status, 404, `${method} ${path}`);
        assert.equal(r.body, unknown.body, `${method} ${path}`);
        assert.equal(r.type, unknown.type, `${method} ${path}`);
      }
    }
    // No session came into being: minting with nothing is still the mint endpoint's 401.
    const mint = await send(w.origin, '/_torii/auth/session/token', { method: 'POST' });
    assert.equal(mint.status, 401);
  });
});

describe('the dev build with TORII_DEV_MODE=1', () => {
  let w;
  before(async () => {
    w = await startWorker({ TORII_MASTER_SECRET: SECRET, TORII_DEV_MODE: '1', TORII_BASE_DOMAIN: 'torii.test' });
  });
  after(() => w?.stop());

  test('loopback hosts get the dev routes', async () => {
    for (const host of [undefined, `localhost:${w.port}`, `[::1]:${w.port}`, `127.0.0.2:${w.port}`]) {
      const c = await send(w.origin, '/_torii/dev/counters', { host });
      assert.equal(c.status, 200, `${host}: ${c.body}`);
      assert.equal(typeof JSON.parse(c.body).kv_reads, 'number');
      const d = await send(w.origin, '/_torii/devtools/counters', { host });
      assert.equal(d.status, 200, `${host}: ${d.body}`);
      assert.equal(typeof JSON.parse(d.body).d1_queries, 'number');
    }
    const s = await send(w.origin, '/_torii/devtools/sessions', { method: 'POST', body: { userId: DEMO_USER } });
    assert.equal(s.status, 201, s.body);
    // A local proxy in front of the dev Worker (loopback forwarded hosts) is still local.
    const viaLocalProxy = await send(w.origin, '/_torii/devtools/counters', {
      headers: { 'x-forwarded-host': 'localhost:5173', forwarded: 'for=127.0.0.1;host="localhost:5173"' },
    });
    assert.equal(viaLocalProxy.status, 200);
  });

  test('any other host, or a non-loopback forwarded host, is 404 not_found on every dev path', async () => {
    const remote = [
      { host: 'acme.example.com' },
      { host: `acme.example.com:${w.port}` },
      { host: `demo.torii.test:${w.port}` },
      { host: `127.0.0.1.nip.io:${w.port}` },
      { headers: { 'x-forwarded-host': 'acme.example.com' } },
      { headers: { 'x-forwarded-host': `127.0.0.1:${w.port}, acme.example.com` } },
      { headers: { forwarded: 'for=192.0.2.1;host=acme.example.com;proto=https' } },
    ];
    for (const where of remote) {
      for (const method of ['GET', 'POST']) {
        for (const path of DEV_PATHS) {
          const r = await send(w.origin, path, {
            method,
            ...where,
            headers: { 'x-application-id': 'demo', ...where.headers },
            body: method === 'POST' ? { userId: DEMO_USER, orgRole: 'admin', aal: 'aal2' } : undefined,
          });
          assert.equal(r.status, 404, `${method} ${path} ${JSON.stringify(where)}: ${r.body}`);
          assert.equal(code(r), 'not_found');
        }
      }
    }
  });
});

describe('a panic in the dev build: the instance is replaced, the next request is served', () => {
  let w;
  before(async () => {
    w = await startWorker({ TORII_MASTER_SECRET: SECRET, TORII_DEV_MODE: '1' });
  });
  after(() => w?.stop());

  test('POST /_torii/dev/trap fails that request only; the next one runs on a fresh instance', async () => {
    // Isolate state to lose: the cache's test clock, kept in the wasm instance.
    const advanced = await send(w.origin, '/_torii/dev/clock?advance=3600', { method: 'POST' });
    assert.equal(advanced.status, 200, advanced.body);
    assert.equal(JSON.parse(advanced.body).clock_offset, 3600);
    // The trapped request never completes: the runtime answers it 500 ("hung").
    const trapped = await send(w.origin, '/_torii/dev/trap', { method: 'POST' });
    assert.ok(trapped.status >= 500, `the trapped request: ${trapped.status} ${trapped.body}`);
    const fresh = await send(w.origin, '/_torii/dev/counters');
    assert.equal(fresh.status, 200, fresh.body);
    assert.equal(JSON.parse(fresh.body).clock_offset, 0, 'a fresh instance: its state starts empty');
    // And the edge itself still answers (the demo tenant's discovery document).
    const oidc = await send(w.origin, '/.well-known/openid-configuration');
    assert.equal(oidc.status, 200, oidc.body);
    assert.equal(JSON.parse(oidc.body).issuer, w.origin);
  });
});
