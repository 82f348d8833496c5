#!/usr/bin/env node
// Edge benchmark (`make bench`): the latency the gateway adds per request over a
// pass-through (public) route to the same loopback origin, measured sequentially through
// Miniflare's dispatchFetch, for first-seen tokens and a repeated token; next to the
// same measurement of a minimal jose Worker doing the same checks
// (benches/edge/jose-worker.mjs). Also: the Worker's wasm size (raw, gzip) and the cold
// start of a fresh Miniflare isolate. Beside them, the physical floor through the same
// harness: benches/edge/floor-worker.mjs, a pass-through doing only one WebCrypto Ed25519
// verify per first-seen token, one SHA-256 per token and one Ed25519 sign per forwarded
// request (the assertion).
//
//   node benches/edge/bench.mjs [--rounds 20] [--batch 50] [--cold 9] [--cpu-rounds 10] [--cpu-block 200]
//       [--build DIR] [--quick] [--json FILE]
// --cpu-rounds/--cpu-block: the workerd CPU-time phase (blocks of requests per case, /proc);
// --quick (or BENCH_QUICK=1): --rounds 2 --batch 25 --cold 2 unless given;
// --json FILE: every figure as JSON too (read by benches/report.mjs).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Miniflare } from 'miniflare';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import {
  bundleJoseWorker, coldStarts, joseVars, quiet, scriptOptions, seedD1, startOrigin, toriiOptions as toriiWorkerOptions, workerdPid,
} from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    batch: { type: 'string' },
    cold: { type: 'string' },
    quick: { type: 'boolean' },
    json: { type: 'string' },
    'cpu-rounds': { type: 'string' },
    'cpu-block': { type: 'string' },
    build: { type: 'string' },
  },
});
const QUICK = values.quick || (!!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0');
const ROUNDS = Number(values.rounds ?? (QUICK ? 2 : 20));
const BATCH = Number(values.batch ?? (QUICK ? 25 : 50));
const COLD = Number(values.cold ?? (QUICK ? 2 : 9));
const SECRET = 'bench-master-secret-not-for-production-0123456789abcdef';
// The tenant `demo` at `demo.<TORII_BASE_DOMAIN>`; its issuer is that origin.
const BASE_DOMAIN = 'torii.test';
const ISSUER = `http://demo.${BASE_DOMAIN}`;
const ROUTES = JSON.stringify([{ path: '/public/**', access: 'public' }]);

// ---------------------------------------------------------------- origin
const { server: originServer, url: ORIGIN_URL } = await startOrigin();

// ---------------------------------------------------------------- workers
// The Workers' stdout (torii-edge logs a JSON line per request) is drained, not printed
// (harness.mjs `quiet`).
// The Worker measured: build/ (`make build-worker`) unless --build names another directory.
const BUILD = join(ROOT, values.build ?? 'build');
// The edge's module (what a gateway isolate instantiates) and the Backend API's
// (instantiated on the first /v1, dashboard or cron call, but compiled, like the edge's,
// when the isolate loads; scripts/build-worker.mjs).
const wasmPath = join(BUILD, 'index_bg.wasm');
const apiWasmPath = join(BUILD, 'api_bg.wasm');
// With wrangler.toml's KV, D1 and limiter bindings, as deployed.
const toriiOptions = (vars) =>
  toriiWorkerOptions({ build: BUILD, db: 'bench-db', secret: SECRET, baseDomain: BASE_DOMAIN, originUrl: ORIGIN_URL, routes: ROUTES, vars });

const tmp = mkdtempSync(join(tmpdir(), 'torii-bench-'));
const joseBundle = join(tmp, 'jose-worker.js');
await bundleJoseWorker(joseBundle);
const jose = await joseVars({ secret: SECRET, issuer: ISSUER, originUrl: ORIGIN_URL });
// The baseline: a bare pass-through Worker (no checks at all) to the same origin.
const passBundle = join(tmp, 'pass-through.js');
writeFileSync(
  passBundle,
  `export default { fetch(req, env) { const u = new URL(req.url); return fetch(env.ORIGIN_URL + u.pathname + u.search, req); } };`,
);
const passOptions = () => scriptOptions({ script: passBundle, vars: { ORIGIN_URL } });
// The floor: only the cryptography (benches/edge/floor-worker.mjs, no imports: loaded as is).
const floorOptions = () =>
  scriptOptions({ script: join(ROOT, 'benches', 'edge', 'floor-worker.mjs'), vars: { ORIGIN_URL, SIGNING_JWK: jose.SIGNING_JWK } });
const joseOptions = () => scriptOptions({ script: joseBundle, vars: jose });
/** The jose Worker with the same KV, D1 and rate-limit bindings as torii-edge's (it uses none). */
const joseBoundOptions = () => scriptOptions({ script: joseBundle, vars: jose, db: 'bench-db' });

// ---------------------------------------------------------------- tokens
const N_FIRST = 4 * (ROUNDS * BATCH + 100) + 10; // four gateways, warm-up included
const firstSeen = [];
for (let i = 0; i < N_FIRST; i++) {
  firstSeen.push(await mintDevToken({ masterSecret: SECRET, issuer: ISSUER, claims: { jti: `t${i}` }, lifetime: 3600 }));
}
const CPU_ROUNDS = Number(values['cpu-rounds'] ?? (QUICK ? 1 : 10));
const CPU_BLOCK = Number(values['cpu-block'] ?? (QUICK ? 20 : 200));
const cpuFirstSeen = [];
for (let i = 0; i < 4 * CPU_ROUNDS * CPU_BLOCK; i++) {
  cpuFirstSeen.push(await mintDevToken({ masterSecret: SECRET, issuer: ISSUER, claims: { jti: `c${i}` }, lifetime: 3600 }));
}
const repeated = await mintDevToken({ masterSecret: SECRET, issuer: ISSUER, lifetime: 3600 });

// ---------------------------------------------------------------- measurement
async function once(mf, path, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const t0 = performance.now();
  const res = await mf.fetch(`${ISSUER}${path}`, { headers });
  await res.arrayBuffer();
  const dt = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  return dt;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The cases measured: the pass-through's request first, then each Worker's public route,
 * repeated token and first-seen token (the next unused one of `firstSeen` per request).
 */
function caseList(workers, baseline, firstSeen) {
  let next = 0;
  const cases = [{ w: baseline, c: 'baseline', run: () => once(baseline.mf, '/public/x', null) }];
  for (const w of workers) {
    cases.push({ w, c: 'public', run: () => once(w.mf, '/public/x', null) });
    cases.push({ w, c: 'repeated', run: () => once(w.mf, '/api/x', repeated) });
    cases.push({ w, c: 'first', run: () => once(w.mf, '/api/x', firstSeen[next++]) });
  }
  return cases;
}

/**
 * Runs every case of every Worker once per iteration, in an order rotated each iteration,
 * so load drift on the machine hits all of them alike. `added` is the median over
 * iterations of (case - public route of the same Worker, same iteration).
 */
async function measure(workers, baseline) {
  const cases = caseList(workers, baseline, firstSeen);
  for (let i = 0; i < 100; i++) for (const k of cases) await k.run();
  const iterations = ROUNDS * BATCH;
  const times = new Map(cases.map((k) => [k, []]));
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < cases.length; j++) {
      const k = cases[(i + j) % cases.length];
      times.get(k).push(await k.run());
    }
  }
  const base = times.get(cases[0]);
  const us = (x) => Math.round(x * 1000);
  return {
    baseline_us: us(median(base)),
    rows: workers.map((w) => {
      const t = (c) => times.get(cases.find((k) => k.w === w && k.c === c));
      // Per iteration, against the pass-through request of the same iteration.
      const added = (c) => us(median(t(c).map((x, i) => x - base[i])));
      return { id: w.id, name: w.name, n: iterations, public: added('public'), first: added('first'), repeated: added('repeated') };
    }),
  };
}

/** CPU time (user + system) the process has used, in µs (from /proc, clock ticks of 10 ms). */
function cpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * CPU time workerd spends per request, by Worker and case: blocks of `block` requests of
 * one (Worker, case), every pair once per round in a rotated order, the process's CPU time
 * read around each block. CPU time, unlike latency, is not lengthened by other processes
 * on a loaded machine; `added` is over the pass-through's request.
 */
async function measureCpu(pid, workers, baseline, rounds, block) {
  const cases = caseList(workers, baseline, cpuFirstSeen);
  const spent = new Map(cases.map((k) => [k, 0]));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < cases.length; j++) {
      const k = cases[(r + j) % cases.length];
      const before = cpuUs(pid);
      for (let i = 0; i < block; i++) await k.run();
      spent.set(k, spent.get(k) + cpuUs(pid) - before);
    }
  }
  const per = (k) => spent.get(k) / (rounds * block);
  const base = per(cases[0]);
  const at = (w, c) => per(cases.find((k) => k.w === w && k.c === c));
  return {
    baseline_us: Math.round(base),
    requests: rounds * block,
    rows: workers.map((w) => ({
      id: w.id,
      name: w.name,
      public: Math.round(at(w, 'public') - base),
      first: Math.round(at(w, 'first') - base),
      repeated: Math.round(at(w, 'repeated') - base),
    })),
  };
}

let results;
let cpu = null;
try {
  // One workerd process runs all three Workers, so none gets a different process or core.
  const strip = ({ handleRuntimeStdio, ...rest }) => rest;
  const mf = new Miniflare({
    handleRuntimeStdio: quiet,
    workers: [
      { name: 'pass', ...strip(passOptions()) },
      { name: 'torii', ...strip(toriiOptions()) },
      { name: 'torii-nolog', ...strip(toriiOptions({ TORII_LOG: 'off' })) },
      { name: 'jose', ...strip(joseOptions()) },
      { name: 'floor', ...strip(floorOptions()) },
    ],
  });
  await mf.ready;
  await seedD1(mf, 'torii', ISSUER);
  try {
    const [pass, torii, toriiNoLog, jose, floor] = await Promise.all(
      ['pass', 'torii', 'torii-nolog', 'jose', 'floor'].map((n) => mf.getWorker(n)),
    );
    const measured = [
      { id: 'torii', name: 'torii-edge (Rust/wasm)', mf: torii },
      { id: 'torii_nolog', name: 'torii-edge, `TORII_LOG=off`', mf: toriiNoLog },
      { id: 'jose', name: 'jose Worker (JS)', mf: jose },
      { id: 'floor', name: 'floor: WebCrypto verify (first-seen) / SHA-256 / sign only', mf: floor },
    ];
    results = await measure(measured, { name: 'pass-through', mf: pass });
    const pid = workerdPid();
    cpu = pid === null ? null : await measureCpu(pid, measured, { name: 'pass-through', mf: pass }, CPU_ROUNDS, CPU_BLOCK);
  } finally {
    await mf.dispose();
  }
  // Fresh Miniflare instances, interleaved round by round (harness.mjs `coldStarts`):
  // torii-edge meeting a tenant whose key is stored (what a fresh isolate meets), and a
  // new tenant's very first request (it also creates the key, a D1 write); the jose Worker,
  // and again with torii-edge's D1 and KV bindings (unused): Miniflare starts a local D1
  // and KV service for a Worker that has them, which lengthens "ready" for any Worker
  // (docs/benchmarks.md, "Cold start"); a deployed isolate starts no such service.
  const [coldTorii, coldToriiFirstKey, coldJose, coldJoseBound] = await coldStarts([
    { options: toriiOptions, seed: { firstKey: true } },
    { options: toriiOptions, seed: { firstKey: false } },
    { options: joseOptions },
    { options: joseBoundOptions },
  ], {
    rounds: COLD,
    issuer: ISSUER,
    request: (m) => m.dispatchFetch(`${ISSUER}/api/x`, { headers: { authorization: `Bearer ${repeated}` } }),
  });

  const wasm = readFileSync(wasmPath);
  const gz = gzipSync(wasm, { level: 9 }).length;
  const apiWasm = readFileSync(apiWasmPath);
  const apiGz = gzipSync(apiWasm, { level: 9 }).length;
  const jsBytes = readFileSync(joseBundle).length;

  console.log(`\nEdge benchmark: sequential dispatchFetch through Miniflare to a loopback origin.`);
  console.log(`${results.rows[0].n} iterations, each sending one request of every case below (order rotated).`);
  console.log(`Added = median over iterations of (request - the bare pass-through request of the same iteration);`);
  console.log(`the pass-through Worker's own median is ${results.baseline_us} µs (dispatchFetch + loopback origin).\n`);
  console.log('| Worker | public route (no token) | first-seen token | repeated token | token cost: first-seen / repeated (minus public) |');
  console.log('|---|---|---|---|---|');
  for (const r of results.rows) {
    console.log(`| ${r.name} | +${r.public} µs | +${r.first} µs | +${r.repeated} µs | ${r.first - r.public} / ${r.repeated - r.public} µs |`);
  }
  if (cpu) {
    console.log(`\nworkerd CPU time per request (user + system, /proc; ${cpu.requests} requests per case in blocks of ${CPU_BLOCK}, rotated),`);
    console.log(`added over the pass-through's ${cpu.baseline_us} µs:\n`);
    console.log('| Worker | public route (no token) | first-seen token | repeated token |');
    console.log('|---|---|---|---|');
    for (const r of cpu.rows) console.log(`| ${r.name} | +${r.public} µs | +${r.first} µs | +${r.repeated} µs |`);
  } else {
    console.log('\nworkerd CPU time: not measured (no workerd child process found in /proc)');
  }
  console.log(`\nWorker wasm, the edge's module: ${wasm.length} bytes raw, ${gz} bytes gzip (-9); the Backend API's module (instantiated on its first call, compiled by every isolate at load): ${apiWasm.length} raw, ${apiGz} gzip`);
  console.log(`jose Worker bundle: ${jsBytes} bytes (minified JS)`);
  console.log(`Cold start, fresh Miniflare isolate (median of ${COLD}): torii-edge ready ${coldTorii.ready_ms.toFixed(0)} ms + first request ${coldTorii.first_request_ms.toFixed(1)} ms (a new tenant's first request, which creates its key: ${coldToriiFirstKey.first_request_ms.toFixed(1)} ms); jose Worker ready ${coldJose.ready_ms.toFixed(0)} ms + first request ${coldJose.first_request_ms.toFixed(1)} ms, with torii-edge's D1 and KV bindings ready ${coldJoseBound.ready_ms.toFixed(0)} ms + first request ${coldJoseBound.first_request_ms.toFixed(1)} ms`);
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, JSON.stringify({
      bench: 'edge',
      quick: QUICK,
      rounds: ROUNDS,
      batch: BATCH,
      iterations: results.rows[0].n,
      // Medians in µs: the pass-through's own request, then each Worker's added latency.
      baseline_us: results.baseline_us,
      rows: results.rows,
      // workerd CPU µs per request added over the pass-through's (null: not measured).
      cpu,
      wasm: { path: 'build/index_bg.wasm', raw: wasm.length, gzip: gz },
      api_wasm: { path: 'build/api_bg.wasm', raw: apiWasm.length, gzip: apiGz },
      jose_bundle_bytes: jsBytes,
      // torii: a tenant with its key stored; torii_first_key: a new tenant's first request
      // (it creates the key); jose_bound: the jose Worker with torii-edge's (unused) D1 and KV bindings.
      cold: { n: COLD, torii: coldTorii, torii_first_key: coldToriiFirstKey, jose: coldJose, jose_bound: coldJoseBound },
    }, null, 2));
  }
} finally {
  originServer.close();
  rmSync(tmp, { recursive: true, force: true });
}
