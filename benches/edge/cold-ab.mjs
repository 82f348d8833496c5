// Cold start of two or more Worker builds, interleaved (A, B, …, jose; A, B, …, jose; …), so
// each build meets the same machine load: a fresh Miniflare (workerd process and isolate)
// per sample, "ready" (the isolate loaded: its modules compiled and top-level code run)
// and the first request (a repeated token on a gated route, the tenant's key stored).
//
//   node benches/edge/cold-ab.mjs --build build --build /tmp/other-build [--rounds 10]
//
// Each --build is a directory with index.js and its wasm (`make build-worker`'s build/, or
// scripts/build-worker.mjs --out-dir DIR at another commit). Prints the medians, and each
// build's ready against the jose Worker's (benches/edge/jose-worker.mjs, same bindings).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { bundleJoseWorker, coldStarts, joseVars, scriptOptions, startOrigin, toriiOptions } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: { build: { type: 'string', multiple: true }, rounds: { type: 'string' } },
});
const BUILDS = (values.build ?? ['build']).map((b) => resolve(ROOT, b));
const ROUNDS = Number(values.rounds ?? 10);
const SECRET = 'bench-master-secret-not-for-production-0123456789abcdef';
const ISSUER = 'http://demo.torii.test';
const ROUTES = JSON.stringify([{ path: '/public/**', access: 'public' }]);
const DB = 'cold-db';

const { server, url: ORIGIN_URL } = await startOrigin();
const tmp = mkdtempSync(join(tmpdir(), 'torii-cold-'));
const joseBundle = join(tmp, 'jose-worker.js');
await bundleJoseWorker(joseBundle);
const jose = await joseVars({ secret: SECRET, issuer: ISSUER, originUrl: ORIGIN_URL });
const token = await mintDevToken({ masterSecret: SECRET, issuer: ISSUER, lifetime: 3600 });

// Every candidate has torii-edge's D1, KV and limiter bindings (the jose Worker uses none).
const candidates = [
  ...BUILDS.map((build) => ({
    name: build,
    seed: { firstKey: true },
    options: () => toriiOptions({ build, db: DB, secret: SECRET, baseDomain: 'torii.test', originUrl: ORIGIN_URL, routes: ROUTES }),
  })),
  { name: 'jose Worker', options: () => scriptOptions({ script: joseBundle, vars: jose, db: DB }) },
];

try {
  const got = await coldStarts(candidates, {
    rounds: ROUNDS,
    issuer: ISSUER,
    request: (mf) => mf.dispatchFetch(`${ISSUER}/api/x`, { headers: { authorization: `Bearer ${token}` } }),
  });
  const joseReady = got[got.length - 1].ready_ms;
  console.log(`cold start, median of ${ROUNDS} interleaved rounds (ready + first request):`);
  for (const [i, c] of candidates.entries()) {
    const { ready_ms: ready, first_request_ms: first } = got[i];
    console.log(`  ${c.name}: ${ready.toFixed(1)} + ${first.toFixed(1)} ms; ready ${(ready / joseReady).toFixed(3)}x the jose Worker's`);
  }
} finally {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}
