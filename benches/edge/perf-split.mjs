#!/usr/bin/env node
// Where workerd's CPU goes per request, by kind of code, for torii-edge and the jose Worker
// (benches/edge/jose-worker.mjs): Linux `perf` samples the workerd process (all its
// threads, `cpu-clock` at --freq Hz) while sequential requests of one case run through
// Miniflare, one fresh Miniflare (one workerd, one Worker) per Worker and case. Samples are
// split by what they landed in:
//   jit       code V8 generated: the Worker's wasm (Liftoff and TurboFan) and its
//             optimized JS
//   builtins  V8's builtins, the JS interpreter among them (where much of a JS Worker's
//             JS runs), and the wasm↔JS call stubs
//   v8        V8's C++ runtime (JSON, strings, property lookups, GC)
//   workerd   the rest of the runtime's C++ (HTTP, Headers, streams, WebCrypto, malloc)
//   kernel   system calls, scheduling, loopback networking
//   other    libc and the rest
// and printed in µs per request. Unlike the V8 profile (benches/edge/profile.mjs), nothing
// is attached to the isolate, so the figures are not inflated; unlike latency, another
// process on the machine does not lengthen them. The same requests include Miniflare's own
// entry Worker and loopback on both sides, so compare the Workers' rows, not the totals.
//
//   node benches/edge/perf-split.mjs [--requests 2000] [--warm 500] [--freq 4000]
//       [--cases public,repeated,first] [--build DIR] [--workers torii,torii-nolog,jose]
//       [--browser-headers]
//
// `--browser-headers` sends what a browser sends beside the token (accept*, user-agent,
// sec-ch-*, a ~600-byte cookie, referer: ~1.3 KB); without it, only the token.
// `torii-nolog` is torii-edge with `TORII_LOG=off`; the last two rows compare the first
// Worker listed with the last.
//
// Needs `perf` (Debian's linux-perf) and the right to sample a child process
// (kernel.perf_event_paranoid ≤ 2). Not part of `make test` or `make bench`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { bundleJoseWorker, joseVars, scriptOptions, seedD1, startOrigin, toriiOptions, workerdPid } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    warm: { type: 'string', default: '500' },
    freq: { type: 'string', default: '4000' },
    cases: { type: 'string', default: 'public,repeated,first' },
    build: { type: 'string', default: 'build' },
    workers: { type: 'string', default: 'torii,jose' },
    'browser-headers': { type: 'boolean', default: false },
  },
});
const N = Number(values.requests);
const WARM = Number(values.warm);
const FREQ = Number(values.freq);
const CASES = values.cases.split(',');
const SECRET = 'perf-split-master-secret-not-for-production-0123456789';
const BASE_DOMAIN = 'torii.test';
const ISSUER = `http://demo.${BASE_DOMAIN}`;
const ROUTES = JSON.stringify([{ path: '/public/**', access: 'public' }]);

try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('perf-split: `perf` is not installed (Debian: apt-get install linux-perf)');
  process.exit(1);
}

const { server: originServer, url: ORIGIN_URL } = await startOrigin();
const tmp = mkdtempSync(join(tmpdir(), 'torii-perf-split-'));
const joseBundle = join(tmp, 'jose-worker.js');
await bundleJoseWorker(joseBundle);
const jose = await joseVars({ secret: SECRET, issuer: ISSUER, originUrl: ORIGIN_URL });

const toriiBase = (vars) =>
  toriiOptions({ build: join(ROOT, values.build), db: 'perf-db', secret: SECRET, baseDomain: BASE_DOMAIN, originUrl: ORIGIN_URL, routes: ROUTES, vars });
const allWorkers = [
  {
    id: 'torii',
    name: 'torii-edge',
    options: () => toriiBase(),
    seed: (mf) => seedD1(mf, undefined, ISSUER, { firstKey: true }),
  },
  {
    id: 'torii-nolog',
    name: 'torii-edge, TORII_LOG=off',
    options: () => toriiBase({ TORII_LOG: 'off' }),
    seed: (mf) => seedD1(mf, undefined, ISSUER, { firstKey: true }),
  },
  // With the same (unused) bindings, as `make bench`'s cold start compares it.
  { id: 'jose', name: 'jose Worker', options: () => scriptOptions({ script: joseBundle, vars: jose, db: 'perf-db' }), seed: async () => {} },
];
const workers = values.workers.split(',').map((id) => {
  const w = allWorkers.find((x) => x.id === id);
  if (!w) throw new Error(`perf-split: no Worker ${id} (${allWorkers.map((x) => x.id).join(', ')})`);
  return w;
});

/** What a browser sends beside the token (`--browser-headers`). */
const BROWSER = values['browser-headers']
  ? {
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
      'accept-encoding': 'gzip, deflate, br, zstd',
      'accept-language': 'en-GB,en;q=0.9,fr;q=0.8',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'sec-ch-ua': '"Chromium";v="131", "Not_A Brand";v="24"',
      'sec-ch-ua-mobile': '?0',
      'sec-ch-ua-platform': '"Linux"',
      'sec-fetch-dest': 'document',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-site': 'same-origin',
      referer: `${ISSUER}/dashboard/settings?tab=profile`,
      cookie: Array.from({ length: 12 }, (_, i) => `pref_${i}=${'v'.repeat(40)}`).join('; '),
    }
  : {};
const repeated = await mintDevToken({ masterSecret: SECRET, issuer: ISSUER, lifetime: 3600 });
let minted = 0;
/** A token no request has carried yet (first-seen). */
const fresh = () => mintDevToken({ masterSecret: SECRET, issuer: ISSUER, claims: { jti: `p${minted++}` }, lifetime: 3600 });

/** Samples per kind from `perf report --sort dso,sym`. */
function split(data) {
  const out = execFileSync('perf', ['report', '-i', data, '--no-children', '--sort', 'dso,sym', '--stdio', '-g', 'none', '-n'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 << 20,
  });
  const kinds = { jit: 0, builtins: 0, v8: 0, workerd: 0, kernel: 0, other: 0 };
  for (const line of out.split('\n')) {
    const m = /^\s+[\d.]+%\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[[^\]]+\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, n, dso, sym] = m;
    let kind = 'other';
    if (dso.startsWith('[JIT]')) kind = 'jit';
    else if (dso.startsWith('[kernel')) kind = 'kernel';
    else if (dso === 'workerd') kind = sym.startsWith('Builtins_') ? 'builtins' : sym.startsWith('v8::') ? 'v8' : 'workerd';
    kinds[kind] += Number(n);
  }
  return kinds;
}

async function run(worker, kase) {
  const mf = new Miniflare(worker.options());
  try {
    await mf.ready;
    await worker.seed(mf);
    const tokens = kase === 'first' ? await Promise.all(Array.from({ length: WARM + N }, fresh)) : [];
    let next = 0;
    const once = async () => {
      const token = kase === 'public' ? null : kase === 'repeated' ? repeated : tokens[next++];
      const res = await mf.dispatchFetch(`${ISSUER}${kase === 'public' ? '/public/x' : '/api/x'}`, {
        headers: token ? { ...BROWSER, authorization: `Bearer ${token}` } : BROWSER,
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${worker.id} ${kase}: ${res.status}`);
    };
    for (let i = 0; i < WARM; i++) await once();
    const data = join(tmp, `${worker.id}-${kase}.data`);
    const pid = workerdPid();
    if (pid === null) throw new Error('no workerd child process to sample');
    const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(FREQ), '-p', String(pid), '-o', data], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await new Promise((r) => setTimeout(r, 300)); // perf attaches
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await once();
    const wallUs = ((performance.now() - t0) * 1000) / N;
    perf.kill('SIGINT');
    await new Promise((r) => perf.on('exit', r));
    const kinds = split(data);
    const us = Object.fromEntries(Object.entries(kinds).map(([k, n]) => [k, (n * 1e6) / FREQ / N]));
    return { ...us, total: Object.values(us).reduce((a, b) => a + b, 0), wall: wallUs };
  } finally {
    await mf.dispose();
  }
}

const results = [];
try {
  for (const kase of CASES) {
    for (const w of workers) {
      results.push({ w, kase, r: await run(w, kase) });
    }
  }
} finally {
  originServer.close();
  rmSync(tmp, { recursive: true, force: true });
}

const f = (x) => x.toFixed(0).padStart(7);
console.log(`\nworkerd CPU per request by kind of code, µs (perf cpu-clock ${FREQ} Hz, ${N} sequential requests after ${WARM}):\n`);
console.log('| case | Worker | jit (wasm, optimized JS) | V8 builtins | V8 runtime | workerd | kernel | other | total CPU | wall |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { w, kase, r } of results) {
  console.log(
    `| ${kase} | ${w.name} | ${f(r.jit)} | ${f(r.builtins)} | ${f(r.v8)} | ${f(r.workerd)} | ${f(r.kernel)} | ${f(r.other)} | ${f(r.total)} | ${f(r.wall)} |`,
  );
}
for (const kase of CASES) {
  const [a, b] = [workers[0], workers[workers.length - 1]].map((w) => results.find((x) => x.w === w && x.kase === kase).r);
  console.log(
    `${kase}: ${workers[0].name} − ${workers[workers.length - 1].name}: ` +
      ['jit', 'builtins', 'v8', 'workerd', 'kernel', 'total'].map((k) => `${k} ${(a[k] - b[k]).toFixed(0)}`).join(', ') +
      ' µs',
  );
}
process.exit(0);
