// The real, built Worker (by default the dev build, build-dev/) run by Miniflare's Node API
// instead of `wrangler dev`, with its KV binding (`JWKS_CACHE`) replaced by one whose
// every call the test decides: answered from a Map, failed, hung, or answered with a
// corrupt value. workerd's own KV has no fault seam, and the Worker must not have one
// (no production backdoor): this seam lives in the test only. The Worker's code, build
// and every other binding are wrangler's own for wrangler.toml
// (`unstable_getMiniflareWorkerOptions`), so only `JWKS_CACHE` differs from `wrangler dev`.
//
// How: a Miniflare *wrapped binding* — a tiny ES module whose default export builds the
// binding object — gives the Worker an object with KV's `get`/`put` shape; each call goes
// over a service binding to a function in this Node process ({@link faultyKv}), which
// answers, throws (a 500, which the module turns into a rejected promise, as workerd's KV
// rejects), or never answers until the Worker stops.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { seedSql } from '../../scripts/seed.mjs';
import { assertNoLeaks } from './log-scan.mjs';
import { BUILDS, ROOT, wranglerD1 } from './worker.mjs';

/** The wrapped binding's module: KV's `get`/`put` shape over the `CONTROL` service binding. */
const KV_SHIM = `
export default function (env) {
  const call = async (op, key, init = {}) => {
    const res = await env.CONTROL.fetch('http://kv/' + op + '?key=' + encodeURIComponent(key), init);
    if (res.status === 404) return null;
    const text = await res.text();
    if (!res.ok) throw new Error('KV ' + op.toUpperCase() + ' failed: ' + res.status + ' ' + text);
    return op === 'get' ? text : undefined;
  };
  const unsupported = (name) => () => { throw new Error('KV ' + name + ' is not part of this test binding'); };
  return {
    get(key, options) {
      const type = typeof options === 'string' ? options : options?.type ?? 'text';
      if (type !== 'text') throw new Error('KV get type ' + type + ' is not part of this test binding');
      return call('get', key);
    },
    put(key, value, options = {}) {
      if (typeof value !== 'string') throw new Error('KV put of a non-string is not part of this test binding');
      return call('put', key, { method: 'PUT', body: value, headers: { 'x-ttl': String(options.expirationTtl ?? '') } });
    },
    getWithMetadata: unsupported('getWithMetadata'),
    list: unsupported('list'),
    delete: unsupported('delete'),
  };
}
`;

/**
 * A KV namespace in this process whose behaviour the test sets per operation:
 * `read` and `write` are each `'ok'` (answered from `store`), `'error'` (the call rejects),
 * `'hang'` (it never answers until {@link startKvWorker}'s `stop`), and `read` may also be
 * `'corrupt'` (answers a value that is not a cached set). `calls` records
 * `{ op, key, outcome, ttl? }` of every call, `store` the values written (key → value).
 */
export function faultyKv() {
  const held = new Set();
  const kv = {
    read: 'ok',
    write: 'ok',
    store: new Map(),
    calls: [],
    /** Answers every hung call (503), so nothing is left pending. */
    release() {
      for (const resolve of held) resolve();
      held.clear();
    },
    async handler(request) {
      const url = new URL(request.url);
      const op = url.pathname.slice(1);
      const key = url.searchParams.get('key') ?? '';
      const mode = op === 'get' ? kv.read : kv.write;
      kv.calls.push({ op, key, outcome: mode, ...(op === 'put' ? { ttl: Number(request.headers.get('x-ttl')) } : {}) });
      if (mode === 'hang') {
        await new Promise((resolve) => held.add(resolve));
        return new Response('released', { status: 503 });
      }
      if (mode === 'error') return new Response('injected fault', { status: 500 });
      if (op === 'get') {
        if (mode === 'corrupt') return new Response('{"issuer": "<html>', { status: 200 });
        return kv.store.has(key) ? new Response(kv.store.get(key)) : new Response(null, { status: 404 });
      }
      if (op === 'put') {
        kv.store.set(key, await request.text());
        return new Response(null, { status: 204 });
      }
      return new Response('unknown operation', { status: 400 });
    },
  };
  return kv;
}

/**
 * Runs the built Worker (`build`, default the dev build) with `vars` under Miniflare, its
 * `JWKS_CACHE` bound to `kv` (from {@link faultyKv}), D1 migrated and `tenants` seeded as
 * tests/e2e/worker.mjs does (issuer default: the Worker's origin). Resolves to
 * `{ origin, stop, output }` once it answers; `stop` releases hung KV calls, disposes
 * the runtime and scans everything it printed for leaks.
 */
export async function startKvWorker(vars, { kv, tenants = [{ id: 'demo' }], build = BUILDS.dev } = {}) {
  const scriptPath = join(ROOT, build, 'index.js');
  if (!existsSync(scriptPath)) {
    throw new Error(`${build}/index.js is missing: run \`make ${build === BUILDS.deployable ? 'build-worker' : 'build-worker-dev'}\` first`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'torii-kv-e2e-'));
  const state = join(dir, 'state');
  let mf;
  let output = '';
  const allVars = { TORII_DEFAULT_TENANT: 'demo', ...vars };
  const stop = async () => {
    kv.release();
    await mf?.dispose();
    rmSync(dir, { recursive: true, force: true });
    assertNoLeaks(output, allVars, tenants.map((t) => t.id));
  };
  try {
    await wranglerD1(state, ['migrations', 'apply', 'DB']);
    const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml'));
    const { JWKS_CACHE, ...kvNamespaces } = workerOptions.kvNamespaces ?? {};
    if (!JWKS_CACHE) throw new Error('wrangler.toml has no JWKS_CACHE KV namespace to replace');
    mf = new Miniflare({
      host: '127.0.0.1',
      port: 0,
      // wrangler's layout for `--persist-to state`, so `wrangler d1 --persist-to` sees the same D1.
      defaultPersistRoot: join(state, 'v3'),
      handleRuntimeStdio(stdout, stderr) {
        stdout.on('data', (d) => (output += d));
        stderr.on('data', (d) => (output += d));
      },
      workers: [
        {
          ...workerOptions,
          name: 'torii-edge',
          modules: true,
          scriptPath,
          bindings: allVars,
          kvNamespaces,
          wrappedBindings: { JWKS_CACHE: { scriptName: 'faulty-kv' } },
        },
        {
          name: 'faulty-kv',
          modules: true,
          script: KV_SHIM,
          serviceBindings: { CONTROL: (request) => kv.handler(request) },
        },
      ],
    });
    const url = await mf.ready;
    const origin = url.origin;
    if (tenants.length) {
      const seedFile = join(dir, 'seed.sql');
      writeFileSync(
        seedFile,
        tenants.map(({ id, issuer, ...rest }) => seedSql({ tenant: id, issuer: issuer ?? origin, ...rest })).join(''),
      );
      await wranglerD1(state, ['execute', 'DB', '--file', seedFile]);
    }
    const res = await fetch(`${origin}/.well-known/openid-configuration`);
    await res.arrayBuffer();
    return { origin, stop, output: () => output };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
