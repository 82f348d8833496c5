// What the edge benches (benches/edge/bench.mjs, benches/edge/profile.mjs) and the load
// harness share: the loopback origin, D1's migrations and demo tenant applied through a
// Worker's `DB`, and the jose Worker (benches/edge/jose-worker.mjs): its bundle and vars.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveKey } from '../../scripts/dev-token.mjs';
import { seedSql } from '../../scripts/seed.mjs';

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
