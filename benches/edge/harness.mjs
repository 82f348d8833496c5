// What the edge benches (benches/edge/bench.mjs, benches/edge/profile.mjs,
// benches/edge/cold-ab.mjs, benches/edge/perf-split.mjs) and the load harness share: the
// loopback origin, D1's migrations and demo tenant applied through a Worker's `DB`, the
// jose Worker (benches/edge/jose-worker.mjs): its bundle and vars, the Miniflare options of
// the built torii-edge Worker and of one-file Workers (the jose Worker, the pass-through,
// the floor), the interleaved cold start, and the pid of the workerd process Miniflare runs.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { deriveKey } from '../../scripts/dev-token.mjs';
import { seedSql } from '../../scripts/seed.mjs';
import { median } from '../load/memory.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Applies the D1 migrations and seeds tenant `demo` (issuer `issuer`) through `worker`'s
 * `DB`; `firstKey`: with its first key version stored (scripts/seed.mjs).
 */
export async function seedD1(mf, worker, issuer, { firstKey = false } = {}) {
  const db = await mf.getD1Database('DB', worker);
  const statements = [];
  for (const file of readdirSync(join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).sort()) {
    const sql = readFileSync(join(ROOT, 'migrations', file), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('--'))
      .join('\n');
    statements.push(...sql.split(/;\s*\n/));
  }
  statements.push(...seedSql({ tenant: 'demo', issuer, firstKey }).split(/;\s*\n/));
  const clean = statements.map((x) => x.trim().replace(/;$/, '')).filter(Boolean);
  await db.batch(clean.map((x) => db.prepare(x)));
}

/**
 * wrangler.toml's `[[ratelimits]]` as Miniflare's `ratelimits` option
 * (`{ NAME: { simple: { limit, period } } }`), so a benched Worker has the limiter
 * bindings it is deployed with.
 */
export function wranglerRatelimits() {
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  const out = {};
  for (const block of toml.split(/^\s*\[\[ratelimits\]\]\s*$/m).slice(1)) {
    const body = block.split(/^\s*\[/m)[0];
    const name = /^\s*name\s*=\s*"([^"]+)"/m.exec(body)?.[1];
    const simple = /^\s*simple\s*=\s*\{\s*limit\s*=\s*(\d+)\s*,\s*period\s*=\s*(\d+)\s*\}/m.exec(body);
    if (name && simple) out[name] = { simple: { limit: Number(simple[1]), period: Number(simple[2]) } };
  }
  return out;
}

/** A loopback origin answering `200 ok` to everything (the body read first): `{ server, url }`. */
export async function startOrigin() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

/** Bundles benches/edge/jose-worker.mjs into `outfile` as workerd loads it (`extra`: more esbuild options). */
export async function bundleJoseWorker(outfile, extra = {}) {
  await build({
    entryPoints: [join(ROOT, 'benches', 'edge', 'jose-worker.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    minify: true,
    outfile,
    logLevel: 'warning',
    ...extra,
  });
}

/**
 * The jose Worker's vars: `issuer` (or `origin`: the request's), `originUrl`, and the
 * tenant's key `version` derived from `secret` (defaults: the demo tenant's first key),
 * public in `JWKS` and private in `SIGNING_JWK`.
 */
export async function joseVars({ secret, issuer, originUrl, tenant, version }) {
  const { privateKey, publicJwk, kid } = await deriveKey(secret, tenant, version);
  return {
    ISSUER: issuer,
    ORIGIN_URL: originUrl,
    JWKS: JSON.stringify({ keys: [publicJwk] }),
    SIGNING_JWK: JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid }),
  };
}

/** The compatibility date the benched Workers run with (wrangler.toml's). */
export const COMPAT_DATE = '2026-04-20';

/** Miniflare's `handleRuntimeStdio` for benched Workers: stdout (log lines) drained, stderr shown. */
export function quiet(stdout, stderr) {
  stdout.resume();
  stderr.on('data', (d) => process.stderr.write(d));
}

/**
 * The KV, D1 and rate-limit bindings torii-edge is deployed with (wrangler.toml's limiters:
 * a fresh isolate's first request for a tenant asks TENANT_LIMITER before its D1 read).
 */
export function toriiBindings(db) {
  return { kvNamespaces: ['JWKS_CACHE'], d1Databases: { DB: db }, ratelimits: wranglerRatelimits() };
}

/**
 * Miniflare options of a built torii-edge Worker in `build` (index.js and its wasm; an
 * `.mjs` beside them is an ES module), with its deployed bindings (D1 `db`) and vars,
 * plus `vars` (e.g. `{ TORII_LOG: 'off' }`).
 */
export function toriiOptions({ build, db, secret, baseDomain, originUrl, routes, vars = {} }) {
  return {
    modules: true,
    scriptPath: join(build, 'index.js'),
    modulesRoot: build,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'ESModule', include: ['**/*.mjs'] }],
    compatibilityDate: COMPAT_DATE,
    handleRuntimeStdio: quiet,
    ...toriiBindings(db),
    bindings: { TORII_MASTER_SECRET: secret, TORII_BASE_DOMAIN: baseDomain, ORIGIN_URL: originUrl, ROUTES: routes, ...vars },
  };
}

/**
 * Miniflare options of a one-file ES-module Worker at `script` with `vars`: the jose Worker
 * (bundled by [`bundleJoseWorker`], vars from [`joseVars`]), the pass-through, the floor;
 * `db`: also torii-edge's bindings (unused by them; Miniflare starts their local services,
 * which lengthens "ready").
 */
export function scriptOptions({ script, vars, db }) {
  return {
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: COMPAT_DATE,
    handleRuntimeStdio: quiet,
    ...(db === undefined ? {} : toriiBindings(db)),
    bindings: vars,
  };
}

/**
 * Cold starts, interleaved: `rounds` rounds, each starting every candidate once in turn
 * (a fresh Miniflare: workerd process and isolate), so load drift on the machine meets
 * them alike. A candidate is `{ options, seed }`: `options()` gives the Miniflare options;
 * `seed` (scripts/seed.mjs options, e.g. `{ firstKey: true }`) seeds tenant `demo` of
 * `issuer` after "ready" and before the request, untimed. Each sample times "ready" (the
 * isolate loaded: its modules compiled, its top-level code run) and one request,
 * `request(mf)`, which must answer 200. Returns per candidate the medians,
 * `{ ready_ms, first_request_ms }`.
 */
export async function coldStarts(candidates, { rounds, issuer, request }) {
  const got = candidates.map(() => ({ ready: [], first: [] }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, { options, seed }] of candidates.entries()) {
      // Built before the clock starts (torii-edge's read wrangler.toml's limiters).
      const opts = options();
      const t0 = performance.now();
      const mf = new Miniflare(opts);
      try {
        await mf.ready;
        got[i].ready.push(performance.now() - t0);
        if (seed) await seedD1(mf, undefined, issuer, seed);
        const t1 = performance.now();
        const res = await request(mf);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`cold start: ${res.status}`);
        got[i].first.push(performance.now() - t1);
      } finally {
        await mf.dispose();
      }
    }
  }
  return got.map(({ ready, first }) => ({ ready_ms: median(ready), first_request_ms: median(first) }));
}

/** The pid of the workerd process Miniflare started (a child of this process), or `null`. */
export function workerdPid() {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && stat.includes('(workerd)')) return Number(d);
    } catch {
      // The process went away while listed.
    }
  }
  return null;
}
