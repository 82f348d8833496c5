#!/usr/bin/env node
// `make load`: LOAD_SECONDS (default 60) of mixed traffic at a fixed concurrency through
// the real Worker under `wrangler dev` (the dev build), then the same traffic through a
// bare pass-through Worker run the same way, on loopback only. Every request's outcome is
// decided before it is sent (benches/load/traffic.mjs) and checked afterwards against the
// response and a capturing origin (benches/load/check.mjs): 0 wrong decisions, 0
// unexpected 5xx. Reports requests/s, latency percentiles and the workerd RSS curves
// (ours vs pass-through), with the machine's load average.
//
//   node benches/load/load.mjs [--seconds 60] [--concurrency 16] [--targets torii,pass]
//                              [--seed 1] [--sample-every 50] [--json FILE] [--assert-memory]
//                              [--rate N] [--pass-rate matched|max|N] [--heap]
//                              [--mix 'class=w,…'] [--route-mix 'route=w,…']  (experiments)
//
// --targets torii,pass,jose adds a reference: the jose Worker of the edge bench
// (benches/edge/jose-worker.mjs, a JS gateway doing the same work), capped at our rate
// like the pass-through; its memory growth is printed beside ours (not judged).
//
// --heap also samples the Worker isolate's V8 heap every second over the DevTools
// protocol (wrangler's inspector proxy); it costs the Worker some throughput.
//
// The pass-through runs capped at the request rate our Worker reached (`--pass-rate
// matched`), so both workerd processes see the same traffic over the same time.
//
// Exit status 1 on any wrong decision, unexpected 5xx, transport error or stray origin
// request in our Worker's run; on a checker that finds nothing wrong with the
// pass-through (it forwards everything, so it must fail as an edge); and, with
// --assert-memory (`make load`), when our workerd's steady-state RSS growth per request
// after the warm-up exceeds the pass-through's by more than 10% (benches/load/memory.mjs:
// the Theil–Sen slope against requests done, after the same warm-up rule for both).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { joseVars } from '../edge/harness.mjs';
import { ROOT } from '../../tests/e2e/worker.mjs';
import { judge } from './check.mjs';
import { startCapturingOrigin } from './origin.mjs';
import { OTHER, OTHER_ISSUER, ROUTES, TENANT, makeTokens, planner } from './traffic.mjs';
import { compareGrowth, median, steadyGrowth } from './memory.mjs';
import { inspectWorker, rssByKind, rssKib, startOurs, startPassThrough } from './workers.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.LOAD_SECONDS || '60' },
    rounds: { type: 'string', default: process.env.LOAD_ROUNDS || '1' },
    concurrency: { type: 'string', default: process.env.LOAD_CONCURRENCY || '16' },
    targets: { type: 'string', default: process.env.LOAD_TARGETS || 'torii,pass' },
    seed: { type: 'string', default: process.env.LOAD_SEED || '1' },
    'sample-every': { type: 'string', default: '50' },
    json: { type: 'string', default: join(ROOT, 'target', 'load', 'report.json') },
    'assert-memory': { type: 'boolean', default: process.env.LOAD_ASSERT_MEMORY === '1' },
    rate: { type: 'string', default: '0' },
    'pass-rate': { type: 'string', default: 'matched' },
    heap: { type: 'boolean', default: process.env.LOAD_HEAP === '1' },
    mix: { type: 'string', default: process.env.LOAD_MIX || '' },
    'route-mix': { type: 'string', default: process.env.LOAD_ROUTE_MIX || '' },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const SEED = Number(values.seed);
const ROUNDS = Number(values.rounds);
const SAMPLE_EVERY = Number(values['sample-every']);
const TARGETS = values.targets.split(',').map((t) => t.trim()).filter(Boolean);
if (!(SECONDS >= 5 && SECONDS <= 3600)) throw new Error('--seconds must be within 5..3600');
if (!(CONCURRENCY >= 1 && CONCURRENCY <= 256)) throw new Error('--concurrency must be within 1..256');
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1 && ROUNDS <= 9)) throw new Error('--rounds must be within 1..9');
const REQUEST_TIMEOUT_MS = 30_000;
const SECRET = 'load-master-secret-not-for-production-0123456789abcdef';
// A key rotation in the middle of the run: due after PERIOD (the first key is made when
// the Worker starts), published at once, signing after LEAD.
const PERIOD = Math.max(1, Math.floor(SECONDS / 4));
const LEAD = Math.max(2, Math.min(10, Math.floor(SECONDS / 10)));
const TENANT_CACHE_TTL = 2;
// Memory: steady-state growth is measured once both this far into the run and this many
// requests done (after one-time warm-up costs; benches/load/memory.mjs), for both Workers.
const WARMUP_S = Math.max(5, Math.round(SECONDS / 5));
const WARMUP_REQUESTS = 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (kib) => (kib == null ? null : Math.round((kib / 1024) * 10) / 10);

let undici = null;
try {
  undici = await import('undici');
} catch {}

/** Sends planned requests over keep-alive connections: undici's Pool when present (raw paths, exact header list), else fetch. */
function transport(origin) {
  if (undici) {
    const pool = new undici.Pool(origin, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 });
    return {
      raw: true,
      async send(req) {
        const res = await pool.request({
          path: req.raw,
          method: req.method,
          headers: req.headers.flat(),
          body: req.body,
          headersTimeout: REQUEST_TIMEOUT_MS,
          bodyTimeout: REQUEST_TIMEOUT_MS,
        });
        return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
      },
      close: () => pool.close(),
    };
  }
  return {
    raw: false,
    async send(req) {
      const res = await fetch(origin + req.raw, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
    },
    close: async () => {},
  };
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One target's run: start it, drive the traffic, sample memory, judge. */
async function runTarget(kind, origin, rate = 0) {
  const vars = {
    TORII_MASTER_SECRET: SECRET,
    TORII_DEV_MODE: '1',
    ORIGIN_URL: origin.url,
    ROUTES: JSON.stringify(ROUTES),
    TORII_ROTATION_PERIOD_SECS: String(PERIOD),
    TORII_ROTATION_PUBLISH_LEAD_SECS: String(LEAD),
    TORII_TENANT_CACHE_TTL_SECS: String(TENANT_CACHE_TTL),
    // LOAD_VARS='{"TORII_LOG":"off"}': more or other vars for ours, for experiments.
    ...JSON.parse(process.env.LOAD_VARS || '{}'),
  };
  const w = kind === 'torii'
    ? await startOurs(vars, [{ id: TENANT }, { id: OTHER, issuer: OTHER_ISSUER }])
    : kind === 'jose'
      ? await startPassThrough(
        // The tenant's key version 1 (what our tenant starts with); ISSUER=origin: the harness's port.
        await joseVars({ secret: SECRET, issuer: 'origin', originUrl: origin.url, tenant: TENANT, version: 1 }),
        { config: 'jose.wrangler.toml', name: 'jose Worker' },
      )
      : await startPassThrough({ ORIGIN_URL: origin.url });
  active.add(w);
  const run = { target: w.name, workerd: w.workerd };
  try {
    const edgeHost = `127.0.0.1:${w.port}`;
    const tokens = await makeTokens({ secret: SECRET, issuer: w.origin, t0: Date.now(), seconds: SECONDS });
    const net = transport(w.origin);
    const plan = planner({ tokens, seed: SEED, rawPaths: net.raw, edgeHost, mix: values.mix, routeMix: values['route-mix'] });

    // Memory, every second: the workerd RSS (runtime and proxy), the Worker isolate's V8
    // heap (DevTools protocol) and, for ours, the wasm linear memory.
    const inspector = values.heap ? await inspectWorker(w.workerd) : null;
    if (values.heap && !inspector) console.error(`load: ${w.name}: no DevTools session, no V8 heap figures`);
    const samples = [];
    const results = [];
    const sample = async (t0) => {
      const s = { t: Math.round((performance.now() - t0) / 100) / 10, done: results.length, runtime: rssKib(w.workerd.runtime), proxy: rssKib(w.workerd.proxy), load1: loadavg()[0] };
      // Every 5 s, the runtime's RSS by kind of mapping (JIT code, anonymous, files).
      if (samples.length % 5 === 0) s.kinds = rssByKind(w.workerd.runtime);
      const heap = await inspector?.heap();
      if (heap) s.heap = heap.total;
      // Every 5 s with --heap, the live heap after a forced full GC (what is retained).
      if (inspector && samples.length % 5 === 0) {
        const live = await inspector.liveHeap();
        if (live) s.live = live.used;
      }
      if (kind === 'torii') {
        try {
          const res = await fetch(`${w.origin}/_torii/dev/memory`, { signal: AbortSignal.timeout(5_000) });
          s.wasm = (await res.json()).wasm_memory_bytes;
        } catch {}
      }
      samples.push(s);
    };
    origin.reset();
    const t0 = performance.now();
    const startedAt = Date.now();
    await sample(t0);
    let running = true;
    const sampler = (async () => {
      for (let k = 1; running; k++) {
        await sleep(Math.max(0, t0 + k * 1000 - performance.now()));
        if (running) await sample(t0);
      }
    })();

    // The rotation: at half time (short runs: 6 s before the end, so that tokens of the new
    // key are sent for a few seconds) no v2 token is planned any more; once every request
    // planned before is done the cron runs; v2 tokens are planned again (now expected to
    // pass) 1 s after the JWKS lists the new key.
    let phase = 'pre';
    let inflightPre = 0;
    const rotation = { period: PERIOD, lead: LEAD };
    const endAt = t0 + SECONDS * 1000;
    const controller = (async () => {
      await sleep(Math.min(SECONDS * 500, (SECONDS - 6) * 1000));
      phase = 'transition';
      rotation.transitionAt = performance.now() - t0;
      while (inflightPre > 0) await sleep(10);
      if (kind !== 'torii') {
        await sleep(1500);
        phase = 'post';
        rotation.postAt = performance.now() - t0;
        return;
      }
      const jwksKeys = async () => {
        const res = await fetch(`${w.origin}/_torii/.well-known/jwks.json`, { signal: AbortSignal.timeout(5_000) });
        return (await res.json()).keys.map((k) => k.kid);
      };
      rotation.kidsBefore = await jwksKeys();
      for (let attempt = 0; attempt < 3 && performance.now() < endAt; attempt++) {
        const res = await fetch(`${w.origin}/__scheduled?cron=17+*+*+*+*`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        rotation.cronAt ??= performance.now() - t0;
        rotation.cronStatus = res.status;
        const until = performance.now() + 3000;
        while (performance.now() < until) {
          const kids = await jwksKeys();
          if (kids.length >= 2) {
            rotation.kidsAfter = kids;
            rotation.publishedSeenAt = performance.now() - t0;
            break;
          }
          await sleep(200);
        }
        if (rotation.kidsAfter) break;
      }
      if (!rotation.kidsAfter) return;
      await sleep(1000);
      phase = 'post';
      rotation.postAt = performance.now() - t0;
    })();

    // With a rate (requests/s), request k starts no earlier than k / rate s into the run.
    let slot = 0;
    const loop = async () => {
      while (performance.now() < endAt) {
        if (rate > 0) {
          const at = t0 + (slot++ * 1000) / rate;
          if (at >= endAt) break;
          await sleep(Math.max(0, at - performance.now()));
        }
        const ph = phase;
        if (ph === 'pre') inflightPre++;
        try {
          const plannedAt = Date.now();
          const req = await plan.next(ph, plannedAt);
          const r = { req, plannedAt, phase: ph };
          const s0 = performance.now();
          try {
            const res = await net.send(req);
            r.status = res.status;
            r.headers = res.headers;
            if (res.status !== 200 || !res.headers['x-load-origin']) {
              try {
                r.code = JSON.parse(res.text).code;
              } catch {}
            }
          } catch (e) {
            r.error = `${e.code ?? e.name}: ${e.message}`;
          }
          r.ms = performance.now() - s0;
          r.doneAt = Date.now();
          results.push(r);
        } finally {
          if (ph === 'pre') inflightPre--;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, loop));
    const elapsed = (performance.now() - t0) / 1000;
    await controller;
    running = false;
    await sampler;
    await sample(t0);
    // Ours: which path its gateway requests took (the dev counters).
    if (kind === 'torii') {
      try {
        const c = await (await fetch(`${w.origin}/_torii/dev/counters`, { signal: AbortSignal.timeout(5_000) })).json();
        run.paths = { fast: c.fast_path, full: c.fast_path_fallbacks };
      } catch {}
    }
    // LOAD_SMAPS=DIR (experiments): the runtime's /proc/<pid>/smaps at the end, per target.
    if (process.env.LOAD_SMAPS) {
      mkdirSync(process.env.LOAD_SMAPS, { recursive: true });
      try {
        writeFileSync(join(process.env.LOAD_SMAPS, `${kind}.smaps`), readFileSync(`/proc/${w.workerd.runtime}/smaps`, 'latin1'));
      } catch {}
    }
    inspector?.close();
    await net.close();

    // The tenants' JWKS as served at the end (both key versions), for the assertions.
    const tenants = {};
    if (kind === 'torii') {
      for (const [id, issuer, headers] of [[TENANT, w.origin, {}], [OTHER, OTHER_ISSUER, { 'x-application-id': OTHER }]]) {
        const res = await fetch(`${w.origin}/_torii/.well-known/jwks.json`, { headers });
        tenants[id] = { issuer, jwks: await res.json() };
      }
    }
    const verdict = await judge(results, origin, {
      edgeHost,
      originUrl: origin.url,
      tenants,
      sampleEvery: kind === 'torii' ? SAMPLE_EVERY : 0,
    });
    // What wrangler printed, when requests failed in transport (a workerd restart or a
    // dropped connection shows there). No request log lines: they are one per request.
    if (verdict.transport.length || verdict.fivexx.length) {
      run.wranglerTail = w.output().split('\n').filter((l) => !/"request_id"|\[wrangler:info\] (GET|POST) /.test(l)).slice(-40);
    }
    const lat = results.filter((r) => !r.error).map((r) => r.ms).sort((a, b) => a - b);
    const latOf = (pred) => results.filter((r) => !r.error && pred(r)).map((r) => r.ms).sort((a, b) => a - b);
    const round = (x) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
    const passLat = latOf((r) => r.req.expected.pass);
    const refusedLat = latOf((r) => !r.req.expected.pass);
    // Each curve: idle (before the first request), warm (WARMUP_S into the run: the
    // first seconds hold one-time costs such as compiling hot code), end and max.
    const curve = (key) => {
      const xs = samples.filter((x) => x[key] != null);
      if (!xs.length) return null;
      const v = xs.map((x) => x[key]);
      const warm = (xs.find((x) => x.t >= WARMUP_S) ?? xs.at(-1))[key];
      const max = Math.max(...v);
      return { start: v[0], warm, end: v.at(-1), max, growthEnd: v.at(-1) - v[0], growthMax: max - v[0], growthWarm: max - warm };
    };
    const loads = samples.map((s) => s.load1);
    // Both key versions, before and after the rotation.
    const versions = {};
    for (const r of results) {
      if (!r.req.version) continue;
      const k = `v${r.req.version} ${r.phase} ${r.req.expected.pass ? 'pass' : r.req.expected.code}`;
      versions[k] = (versions[k] ?? 0) + 1;
    }
    Object.assign(run, {
      startedAt: new Date(startedAt).toISOString(),
      seconds: round(elapsed),
      concurrency: CONCURRENCY,
      rateCap: rate || null,
      transport: undici ? `undici ${undici.Pool ? 'Pool' : ''}`.trim() : 'fetch',
      requests: results.length,
      rps: round(results.length / elapsed),
      latencyMs: { p50: round(percentile(lat, 50)), p90: round(percentile(lat, 90)), p99: round(percentile(lat, 99)), max: round(lat.at(-1)) },
      latencyPassMs: { p50: round(percentile(passLat, 50)), p99: round(percentile(passLat, 99)) },
      latencyRefusedMs: { p50: round(percentile(refusedLat, 50)), p99: round(percentile(refusedLat, 99)) },
      memory: {
        warmupSeconds: WARMUP_S,
        warmupRequests: WARMUP_REQUESTS,
        steady: Object.fromEntries(['runtime', 'proxy', 'wasm'].map((key) => [key, steadyGrowth(samples, { key, warmupSeconds: WARMUP_S, warmupRequests: WARMUP_REQUESTS })])),
        runtimeKib: curve('runtime'), proxyKib: curve('proxy'), heapBytes: curve('heap'), liveHeapBytes: curve('live'), wasmBytes: curve('wasm') },
      loadAverage: { start: round(loads[0]), end: round(loads.at(-1)), mean: round(loads.reduce((a, b) => a + b, 0) / loads.length) },
      rotation: { ...rotation, transitionAt: round(rotation.transitionAt / 1000), cronAt: round(rotation.cronAt / 1000), publishedSeenAt: round(rotation.publishedSeenAt / 1000), postAt: round(rotation.postAt / 1000) },
      versions,
      boundaries: { expiresAt: tokens.expiresAt - Math.floor(startedAt / 1000), validFrom: tokens.validFrom - Math.floor(startedAt / 1000) },
      verdict,
      samples,
    });
    return run;
  } finally {
    active.delete(w);
    await w.stop();
  }
}

// wrangler runs in its own process group: stop it when this run is interrupted.
const active = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.error(`load: ${signal}: stopping the Workers`);
    await Promise.allSettled([...active].map((w) => w.stop()));
    process.exit(130);
  });
}

function printRun(run) {
  const v = run.verdict;
  const m = run.memory;
  const fmtCurve = (c, f) => (c ? `idle ${f(c.start)}, at ${m.warmupSeconds} s ${f(c.warm)}, end ${f(c.end)}, max ${f(c.max)} (max - idle ${f(c.growthMax)}, max - at ${m.warmupSeconds} s ${f(c.growthWarm)})` : 'n/a');
  console.log(`\n== ${run.target}: ${run.requests} requests in ${run.seconds} s at concurrency ${run.concurrency}${run.rateCap ? `, capped at ${run.rateCap} requests/s` : ''} (${run.transport}), load average ${run.loadAverage.start} → ${run.loadAverage.end} (mean ${run.loadAverage.mean})`);
  console.log(`   ${run.rps} requests/s; latency p50 ${run.latencyMs.p50} ms, p90 ${run.latencyMs.p90} ms, p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms`);
  console.log(`   forwarded p50/p99 ${run.latencyPassMs.p50}/${run.latencyPassMs.p99} ms; refused p50/p99 ${run.latencyRefusedMs.p50}/${run.latencyRefusedMs.p99} ms`);
  console.log(`   workerd runtime RSS (MiB): ${fmtCurve(m.runtimeKib, mib)}`);
  console.log(`   workerd proxy RSS (MiB):   ${fmtCurve(m.proxyKib, mib)}`);
  const mibB = (b) => Math.round((b / 1048576) * 10) / 10;
  if (m.heapBytes) console.log(`   Worker V8 heap (MiB):      ${fmtCurve(m.heapBytes, mibB)}`);
  if (m.liveHeapBytes) console.log(`   V8 heap live after GC:     ${fmtCurve(m.liveHeapBytes, mibB)}; every 5 s: ${run.samples.filter((x) => x.live != null).map((x) => `${Math.round(x.t)}: ${mibB(x.live)}`).join(', ')}`);
  if (m.wasmBytes) console.log(`   wasm linear memory (MiB):  ${fmtCurve(m.wasmBytes, mibB)}`);
  const st = m.steady.runtime;
  const r2 = (x) => (x == null ? 'n/a' : Math.round(x * 100) / 100);
  if (st.from) {
    console.log(`   steady growth after the warm-up (from ${st.from.t} s, ${st.from.done} requests done; ${st.samples} samples, ${st.requests} requests; Theil–Sen): runtime RSS ${r2(st.kibPerRequest)} KiB/request, proxy RSS ${r2(m.steady.proxy.kibPerRequest)} KiB/request${m.steady.wasm.samples ? `, wasm linear memory ${r2(m.steady.wasm.kibPerRequest)} bytes/request` : ''}${st.conclusive ? '' : ' (too few samples or requests: inconclusive)'}`);
  }
  const every = Math.max(1, Math.round(run.samples.length / 12));
  const points = run.samples.filter((x, i) => i % every === 0 || i === run.samples.length - 1);
  console.log(`   curve (s: runtime RSS${m.heapBytes ? ' / V8 heap' : ''}${m.wasmBytes ? ' / wasm' : ''}, MiB): ${points.map((x) => `${Math.round(x.t)}: ${mib(x.runtime)}${x.heap ? ` / ${mibB(x.heap)}` : ''}${x.wasm ? ` / ${mibB(x.wasm)}` : ''}`).join(', ')}`);
  if (run.paths) console.log(`   gateway requests by path: fast ${run.paths.fast}, full ${run.paths.full} (dev counters; a request the fast path hands over counts once, as full)`);
  console.log(`   expected outcomes: ${Object.entries(v.byOutcome).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`   origin saw ${v.originSaw} (expected ${v.expectedPass}); wrong decisions ${v.wrong.length}, stray origin requests ${v.strays.length}, unexpected 5xx ${v.fivexx.length}, transport errors ${v.transport.length}, ambiguous (boundary in flight) ${v.ambiguous}; edge assertions verified with jose ${v.assertionsVerified}`);
  if (run.rotation.cronAt != null) {
    console.log(`   rotation: cron at ${run.rotation.cronAt} s, new key in the JWKS at ${run.rotation.publishedSeenAt} s, v2 tokens expected to pass from ${run.rotation.postAt} s; key versions sent: ${Object.entries(run.versions).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
}

const origin = await startCapturingOrigin();
const rounds = [];
let failed = false;
const fail = (why) => {
  failed = true;
  console.error(`load: FAIL: ${why}`);
};
try {
  console.log(`load: ${SECONDS} s per target, ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}, concurrency ${CONCURRENCY}, targets ${TARGETS.join(', ')}, seed ${SEED}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on a shared machine (figures are noisy)`);
  for (let round = 1; round <= ROUNDS; round++) {
    const runs = {};
    rounds.push(runs);
    if (ROUNDS > 1) console.log(`\n#### round ${round} of ${ROUNDS}`);
    // Every second round runs the pass-through first (capped at our previous round's
    // rate), so the machine's load drifting over the minutes weighs on both alike.
    const previous = rounds.at(-2)?.torii?.rps;
    const order = round % 2 === 0 && previous ? [...TARGETS].reverse() : TARGETS;
    for (const t of order) {
      if (t !== 'torii' && t !== 'pass' && t !== 'jose') throw new Error(`unknown target ${t}`);
      // The pass-through is faster: by default it gets our run's request rate as a cap, so
      // both workerd processes handle the same traffic over the same time (memory compared
      // like for like); `--pass-rate max` lets it run flat out, a number caps it there.
      let rate = Number(values.rate);
      if (t !== 'torii' && values['pass-rate'] !== 'max') {
        rate = values['pass-rate'] === 'matched' ? (runs.torii?.rps ?? previous ?? rate) : Number(values['pass-rate']);
      }
      runs[t] = await runTarget(t, origin, rate);
      printRun(runs[t]);
    }
    checkRound(runs);
  }
} finally {
  await origin.close();
}

/** The checks of one round: ours decided everything right, the checker caught the pass-through; memory printed. */
function checkRound(runs) {
  const ours = runs.torii;
  if (ours) {
    const v = ours.verdict;
    for (const w of v.wrong.slice(0, 20)) console.error(`   wrong: ${JSON.stringify(w)}`);
    for (const s of v.strays.slice(0, 10)) console.error(`   stray: ${JSON.stringify(s)}`);
    for (const e of v.fivexx.slice(0, 10)) console.error(`   5xx: ${JSON.stringify(e)}`);
    for (const e of v.transport.slice(0, 10)) console.error(`   transport: ${JSON.stringify(e)}`);
    if (ours.wranglerTail) console.error(`   wrangler's last lines:\n     ${ours.wranglerTail.join('\n     ')}`);
    if (v.wrong.length) fail(`${v.wrong.length} wrong decisions`);
    if (v.strays.length) fail(`${v.strays.length} requests reached the origin that were never sent or were sent twice`);
    if (v.fivexx.length) fail(`${v.fivexx.length} unexpected 5xx`);
    if (v.transport.length) fail(`${v.transport.length} transport errors`);
    if (SAMPLE_EVERY && !v.assertionsVerified) fail('no edge assertion was verified');
    if (!ours.rotation.kidsAfter) fail('the cron did not publish a new key');
    if (!Object.keys(ours.versions).some((k) => k.startsWith('v2 post pass'))) fail('no token of the new key version was sent after the rotation');
  }
  const pass = runs.pass;
  if (pass) {
    // The checker must tell an edge from a pipe: the pass-through forwards everything.
    console.log(`\nchecker self-check: the pass-through judged as an edge: ${pass.verdict.wrong.length} wrong decisions (must be > 0), e.g. ${JSON.stringify(pass.verdict.wrong[0]?.why)}`);
    if (!pass.verdict.wrong.length) fail('the checker found nothing wrong with a pass-through Worker');
    if (pass.verdict.fivexx.length || pass.verdict.transport.length) {
      console.log(`   (pass-through: ${pass.verdict.fivexx.length} 5xx, ${pass.verdict.transport.length} transport errors)`);
    }
  }
  const jose = runs.jose;
  if (jose && pass && jose.memory.steady?.runtime && pass.memory.steady?.runtime) {
    // A reference: a JS gateway doing the same work (verify, claims headers, a signed
    // assertion, a log line) under the same harness and rate.
    const j = jose.memory.steady.runtime.kibPerRequest;
    const p = pass.memory.steady.runtime.kibPerRequest;
    const o = ours?.memory.steady?.runtime?.kibPerRequest;
    const r2 = (x) => (x == null ? 'n/a' : Math.round(x * 100) / 100);
    console.log(`\nreference, jose Worker: steady runtime RSS growth ${r2(j)} KiB/request (${r2(p ? j / p : null)}x the pass-through's ${r2(p)}${o != null ? `; ours ${r2(o)}, ${r2(j ? o / j : null)}x the jose Worker's` : ''})`);
  }
  if (ours && pass) {
    const a = ours.memory.runtimeKib;
    const b = pass.memory.runtimeKib;
    if (a && b) {
      const w = ours.memory.warmupSeconds;
      const sa = ours.memory.steady.runtime;
      const sb = pass.memory.steady.runtime;
      const verdict = compareGrowth(sa, sb, 0.1);
      const r2 = (x) => (x == null ? 'n/a' : Math.round(x * 100) / 100);
      const perRequest = (g, n) => Math.round((g / n) * 10) / 10;
      console.log(`\nmemory, workerd runtime RSS (MiB; ${ours.requests} vs ${pass.requests} requests, ${pass.rateCap ? 'the pass-through capped at our rate' : 'both flat out'}):`);
      console.log(`   ours:         idle ${mib(a.start)}, at ${w} s ${mib(a.warm)}, end ${mib(a.end)}, max ${mib(a.max)}`);
      console.log(`   pass-through: idle ${mib(b.start)}, at ${w} s ${mib(b.warm)}, end ${mib(b.end)}, max ${mib(b.max)}`);
      console.log(`   steady growth after ${w} s and ${ours.memory.warmupRequests} requests (Theil–Sen, KiB/request): ours ${r2(sa.kibPerRequest)}, pass-through ${r2(sb.kibPerRequest)}, limit (pass-through + 10%) ${r2(verdict.limit)}: ${verdict.conclusive ? `${verdict.within ? 'within' : 'OVER'}${verdict.ratio != null ? ` (${r2(verdict.ratio)}x)` : ''}` : 'inconclusive (too few samples or requests after the warm-up)'}`);
      console.log(`   growth max - at ${w} s (MiB): ours ${mib(a.growthWarm)}, pass-through ${mib(b.growthWarm)} (+10%: ${mib(b.growthWarm * 1.1)}: ${a.growthWarm <= b.growthWarm * 1.1 ? 'within' : 'over'})`);
      console.log(`   growth max - idle: ours ${mib(a.growthMax)}, pass-through ${mib(b.growthMax)} (+10%: ${mib(b.growthMax * 1.1)}: ${a.growthMax <= b.growthMax * 1.1 ? 'within' : 'over'}); per request ${perRequest(a.growthMax, ours.requests)} vs ${perRequest(b.growthMax, pass.requests)} KiB`);
      const h = (run) => run.memory.heapBytes;
      if (h(ours) && h(pass)) console.log(`   the Worker isolate's V8 heap (total): ours ${mib(h(ours).start / 1024)} → max ${mib(h(ours).max / 1024)}, pass-through ${mib(h(pass).start / 1024)} → max ${mib(h(pass).max / 1024)}`);
      if (ours.memory.wasmBytes) console.log(`   of ours, wasm linear memory: ${mib(ours.memory.wasmBytes.start / 1024)} → ${mib(ours.memory.wasmBytes.end / 1024)} MiB (grew ${mib(ours.memory.wasmBytes.growthEnd / 1024)})`);
      runs.memoryVerdict = { ours: sa, pass: sb, ...verdict };
    }
  }
}

// The memory verdict over all rounds: the median of our steady slopes against the median
// of the pass-through's (one round: that round's), + 10%.
const judged = rounds.map((r) => r.memoryVerdict).filter(Boolean);
if (judged.length) {
  const r2 = (x) => (x == null ? 'n/a' : Math.round(x * 100) / 100);
  const conclusive = judged.every((v) => v.conclusive);
  const oursMedian = median(judged.map((v) => v.ours.kibPerRequest).filter((x) => x != null));
  const passMedian = median(judged.map((v) => v.pass.kibPerRequest).filter((x) => x != null));
  const limit = passMedian == null ? null : Math.max(0, passMedian) * 1.1;
  const within = conclusive && oursMedian != null && limit != null && oursMedian <= limit;
  console.log(`\nmemory verdict over ${judged.length} round${judged.length > 1 ? 's' : ''} (steady runtime RSS growth, KiB/request; per round ours/pass-through: ${judged.map((v) => `${r2(v.ours.kibPerRequest)}/${r2(v.pass.kibPerRequest)}${v.ratio != null ? ` = ${r2(v.ratio)}x` : ''}`).join(', ')}):`);
  console.log(`   median ours ${r2(oursMedian)}, median pass-through ${r2(passMedian)}, limit (+10%) ${r2(limit)}: ${conclusive ? (within ? 'within' : 'OVER') : 'inconclusive (too few samples or requests after the warm-up)'}${conclusive && passMedian > 0 && oursMedian != null ? ` (${r2(oursMedian / passMedian)}x)` : ''}`);
  if (values['assert-memory'] && !conclusive) fail('memory: too few samples or requests after the warm-up for a verdict: run longer');
  if (values['assert-memory'] && conclusive && !within) fail(`our median steady RSS growth, ${r2(oursMedian)} KiB/request, exceeds the pass-through's ${r2(passMedian)} KiB/request + 10%`);
}
const ours = rounds.at(-1)?.torii;
const totalOurs = rounds.reduce((n, r) => n + (r.torii?.requests ?? 0), 0);
mkdirSync(dirname(values.json), { recursive: true });
// The report: every figure and memory sample; the verdict's lists cut to their first 50.
const cut = (run) => ({
  ...run,
  verdict: Object.fromEntries(Object.entries(run.verdict).map(([k, x]) => [k, Array.isArray(x) ? { count: x.length, first: x.slice(0, 50) } : x])),
});
const cutRound = (runs) => Object.fromEntries(Object.entries(runs).filter(([k]) => k !== 'memoryVerdict').map(([k, r]) => [k, cut(r)]));
writeFileSync(values.json, JSON.stringify({ seconds: SECONDS, concurrency: CONCURRENCY, seed: SEED, rounds: rounds.map(cutRound), runs: cutRound(rounds.at(-1) ?? {}) }, null, 1));
console.log(`\nload: report in ${values.json}`);
if (failed) process.exit(1);
console.log(`load: ${ours ? `0 wrong decisions, 0 unexpected 5xx in ${totalOurs} requests` : 'done'}`);
