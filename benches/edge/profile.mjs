#!/usr/bin/env node
// Where the edge's time goes (issue 14, item 1): runs the deployable Worker (build/) under
// Miniflare with the V8 inspector on, and for each case (public route, first-seen token,
// repeated token) records over `--requests` sequential requests:
//   * a V8 CPU profile of workerd (sampling), printed as the top frames by self time;
//   * a sampling heap profile, printed as the top allocation sites (bytes per request);
//   * the JS↔wasm boundary crossings per request (every import the wasm module calls,
//     counted by wrapping the import object of a copy of the glue) and the calls into wasm.
//
// The same is measured for the jose Worker (benches/edge/jose-worker.mjs) with `--peer`,
// and a last table compares the sampled in-isolate CPU per request of the two. The
// inspector makes `console.log` much dearer than it is without one (each line is also
// sent to the inspector): its subtree is reported apart ("log line").
//
//   node benches/edge/profile.mjs [--requests 2000] [--top 15] [--case public|first|repeated]
//       [--peer] [--save DIR]   (writes DIR/<worker>-<case>.cpuprofile, for Chrome DevTools)
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { mintDevToken } from '../../scripts/dev-token.mjs';
import { bundleJoseWorker, joseVars, seedD1, startOrigin } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    top: { type: 'string', default: '15' },
    case: { type: 'string', multiple: true },
    save: { type: 'string' },
    peer: { type: 'boolean', default: false },
    build: { type: 'string', default: 'build' },
  },
});
const N = Number(values.requests);
const TOP = Number(values.top);
const CASES = values.case ?? ['public', 'first', 'repeated'];
const SECRET = 'bench-master-secret-not-for-production-0123456789abcdef';
const BASE_DOMAIN = 'torii.test';
const ISSUER = `http://demo.${BASE_DOMAIN}`;
const ROUTES = JSON.stringify([{ path: '/public/**', access: 'public' }]);

// ---------------------------------------------------------------- origin
const { server: originServer, url: ORIGIN_URL } = await startOrigin();

// ---------------------------------------------------------------- instrumented copy
// The glue instantiates the module once with `new WebAssembly.Instance(Q, imports())`;
// the copy wraps every imported function with a counter kept on globalThis, and answers
// `GET /__profile/counters` itself (never reaching the Worker) with the counts.
const tmp = mkdtempSync(join(tmpdir(), 'torii-profile-'));
const src = join(ROOT, values.build);
for (const f of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!f.isFile()) continue;
  const rel = join(f.parentPath ?? f.path, f.name).slice(src.length + 1);
  mkdirSync(dirname(join(tmp, rel)), { recursive: true });
  copyFileSync(join(src, rel), join(tmp, rel));
}
let glue = readFileSync(join(tmp, 'index.js'), 'utf8');
const instantiate = /new WebAssembly\.Instance\((\w+),(\w+)\(\)\)/g;
if (!instantiate.test(glue)) throw new Error('profile: the glue no longer instantiates with new WebAssembly.Instance(m, imports())');
glue = glue.replace(instantiate, 'new WebAssembly.Instance($1,globalThis.__toriiCount($2()))');
const counting = `
// A named frame around console.log (as for the jose Worker), so the log line's subtree is
// found and reported apart whether wasm or the entry module writes it.
const __toriiLog = console.log;
console.log = function log(...a) { return __toriiLog.apply(console, a); };
globalThis.__toriiCrossings = new Map();
globalThis.__toriiCount = (imports) => {
  const counts = globalThis.__toriiCrossings;
  for (const [mod, fns] of Object.entries(imports)) {
    for (const [name, fn] of Object.entries(fns)) {
      if (typeof fn !== 'function') continue;
      const key = name.replace(/_[0-9a-f]{16}$/, '');
      fns[name] = function (...args) { counts.set(key, (counts.get(key) ?? 0) + 1); return fn.apply(this, args); };
    }
  }
  return imports;
};
`;
// A module of its own, imported first, so it runs before the glue instantiates.
writeFileSync(join(tmp, 'profile-count.mjs'), counting);
writeFileSync(join(tmp, 'index.js'), `import './profile-count.mjs';\n${glue}`);
// The entry answers the counters route before the Worker sees it.
const shim = join(tmp, 'profile-entry.mjs');
writeFileSync(
  shim,
  `import worker from './index.js';
export default {
  fetch(req, env, ctx) {
    if (new URL(req.url).pathname === '/__profile/counters') {
      return Response.json(Object.fromEntries(globalThis.__toriiCrossings));
    }
    return worker.fetch(req, env, ctx);
  },
};
`,
);

// ---------------------------------------------------------------- workers
const workers = [];
if (values.peer) {
  await bundleJoseWorker(join(tmp, 'jose-worker.js'), {
    // A named frame around console.log, so its subtree is found and reported apart.
    banner: { js: 'const __toriiLog = console.log; console.log = function log(...a) { return __toriiLog.apply(console, a); };' },
  });
  workers.push({
    name: 'jose',
    modules: true,
    scriptPath: join(tmp, 'jose-worker.js'),
    modulesRoot: tmp,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }],
    compatibilityDate: '2026-04-20',
    unsafeInspectorProxy: true,
    bindings: await joseVars({ secret: SECRET, issuer: ISSUER, originUrl: ORIGIN_URL }),
  });
}
const mf = new Miniflare({
  inspectorPort: 0,
  handleRuntimeStdio: (stdout, stderr) => {
    stdout.resume();
    stderr.on('data', (d) => process.stderr.write(d));
  },
  workers: [
    {
      name: 'torii',
      modules: true,
      scriptPath: shim,
      modulesRoot: tmp,
      modulesRules: [
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
        { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      ],
      compatibilityDate: '2026-04-20',
      unsafeInspectorProxy: true,
      kvNamespaces: ['JWKS_CACHE'],
      d1Databases: { DB: 'profile-db' },
      bindings: { TORII_MASTER_SECRET: SECRET, TORII_BASE_DOMAIN: BASE_DOMAIN, ORIGIN_URL, ROUTES },
    },
    ...workers,
  ],
});
await mf.ready;
await seedD1(mf, 'torii', ISSUER);

// ---------------------------------------------------------------- inspector
/** A DevTools protocol session with Worker `name`'s isolate. */
async function inspect(name) {
  const inspector = new URL(await mf.getInspectorURL());
  const ws = new WebSocket(`ws://${inspector.host}/${name}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    // workerd answers some Profiler methods with the request echoed (no `result`).
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message}`));
      else resolve(msg.result);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

// ---------------------------------------------------------------- cases
const repeated = await mintDevToken({ masterSecret: SECRET, issuer: ISSUER, lifetime: 3600 });
let serial = 0;
const fresh = () => mintDevToken({ masterSecret: SECRET, issuer: ISSUER, claims: { jti: `p${serial++}` }, lifetime: 3600 });

const frameKey = (f) => `${f.functionName || '(anonymous)'}${f.url ? ` ${f.url.split('/').pop()}:${f.lineNumber + 1}` : ''}`;
const isLog = (f) => /^__wbg_log_|^log$/.test(f.functionName);

/**
 * Self time per frame from a V8 CPU profile, in µs, with the time under `console.log`
 * (the inspector's own cost included) summed apart as `log`.
 */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const underLog = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at)) if (isLog(byId.get(at).callFrame)) return true;
    return false;
  };
  const self = new Map();
  let log = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]);
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') idle += dt;
    else if (underLog(node.id)) log += dt;
    else self.set(frameKey(node.callFrame), (self.get(frameKey(node.callFrame)) ?? 0) + dt);
  }
  return { self, log, idle };
}

/** Allocation bytes per site from a sampling heap profile. */
function allocations(profile) {
  const out = new Map();
  const walk = (node) => {
    const bytes = node.selfSize ?? 0;
    if (bytes) out.set(frameKey(node.callFrame), (out.get(frameKey(node.callFrame)) ?? 0) + bytes);
    for (const c of node.children ?? []) walk(c);
  };
  walk(profile.head);
  return out;
}

const top = (map, n) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
const summary = [];

/** Profiles every case on Worker `name`; returns its CPU per request by case. */
async function profileWorker(name) {
  const worker = await mf.getWorker(name);
  const counted = name === 'torii';
  const once = async (path, token) => {
    const res = await worker.fetch(`${ISSUER}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${name} ${path}: ${res.status}`);
  };
  const counters = async () => (counted ? (await worker.fetch(`${ISSUER}/__profile/counters`)).json() : {});
  const { send, close } = await inspect(name);
  await send('Profiler.enable');
  await send('HeapProfiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  console.log(`\n# ${name}: ${N} sequential requests per case through Miniflare (workerd)${counted ? `, build ${values.build}/` : ''}`);
  const cpu = {};
  for (const c of CASES) {
    const path = c === 'public' ? '/public/x' : '/api/x';
    const tokens = c === 'first' ? await Promise.all(Array.from({ length: N + 200 }, fresh)) : [];
    const token = (i) => (c === 'public' ? null : c === 'repeated' ? repeated : tokens[i]);
    for (let i = 0; i < 200; i++) await once(path, token(N + i));
    const before = await counters();
    await send('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await send('Profiler.start');
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await once(path, token(i));
    const wall = performance.now() - t0;
    const { profile } = await send('Profiler.stop');
    const { profile: heap } = await send('HeapProfiler.stopSampling');
    const after = await counters();
    // The counters request itself crosses too: measured once more, subtracted.
    const probe = await counters();
    const crossings = new Map();
    for (const [k, v] of Object.entries(after)) {
      const d = v - (before[k] ?? 0) - ((probe[k] ?? 0) - v);
      if (d > 0) crossings.set(k, d / N);
    }
    if (values.save) {
      mkdirSync(values.save, { recursive: true });
      writeFileSync(join(values.save, `${name}-${c}.cpuprofile`), JSON.stringify(profile));
      writeFileSync(join(values.save, `${name}-${c}.heapprofile`), JSON.stringify(heap));
    }
    const { self, log } = selfTimes(profile);
    const busy = [...self.values()].reduce((a, b) => a + b, 0);
    cpu[c] = { busy: busy / N, log: log / N };
    const alloc = allocations(heap);
    const allocTotal = [...alloc.values()].reduce((a, b) => a + b, 0);
    console.log(`\n## ${name}, ${c}: ${(wall / N * 1000).toFixed(0)} µs/request wall under the profiler; sampled CPU in the isolate ${(busy / N).toFixed(0)} µs/request + log line ${(log / N).toFixed(0)} µs/request`);
    console.log(`\nTop frames by self time (µs/request, share; log line excluded):`);
    for (const [k, v] of top(self, TOP)) console.log(`  ${(v / N).toFixed(1).padStart(7)}  ${(100 * v / busy).toFixed(1).padStart(5)}%  ${k}`);
    console.log(`\nAllocation sites (sampled, bytes/request; total ${(allocTotal / N).toFixed(0)} B/request):`);
    for (const [k, v] of top(alloc, TOP)) console.log(`  ${(v / N).toFixed(0).padStart(7)}  ${k}`);
    if (counted) {
      const crossTotal = [...crossings.values()].reduce((a, b) => a + b, 0);
      console.log(`\nJS↔wasm: ${crossTotal.toFixed(1)} import calls per request (wasm → JS), by import:`);
      for (const [k, v] of top(crossings, TOP)) console.log(`  ${v.toFixed(2).padStart(7)}  ${k}`);
    }
  }
  close();
  return cpu;
}

const results = { torii: await profileWorker('torii') };
if (values.peer) results.jose = await profileWorker('jose');
console.log(`\nSampled CPU in the isolate, µs/request (log line apart; the profiler inflates both alike):\n`);
console.log(`| Worker | ${CASES.join(' | ')} |`);
console.log(`|---|${CASES.map(() => '---:').join('|')}|`);
for (const [name, cpu] of Object.entries(results)) {
  console.log(`| ${name} | ${CASES.map((c) => `${cpu[c].busy.toFixed(0)} + log ${cpu[c].log.toFixed(0)}`).join(' | ')} |`);
}
if (results.jose) {
  console.log(`| ratio torii/jose (without log) | ${CASES.map((c) => (results.torii[c].busy / results.jose[c].busy).toFixed(2) + '×').join(' | ')} |`);
}
await mf.dispose();
originServer.close();
rmSync(tmp, { recursive: true, force: true });
