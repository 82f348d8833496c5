// The Worker's entry module (wrangler's `main` is its bundle, build/index.js), built by
// scripts/build-worker.mjs around wasm-bindgen's glue (`./index.js`, `--target module`).
//
// It replaces worker-build's generated shim, which wrapped the entrypoint class in a Proxy
// built per request, with a Proxy per method call and an extra async frame, and exposed
// every other exported wasm function as an RPC method of the entrypoint. Here the
// default export is a plain handler object with exactly `fetch` and `scheduled`; all
// they do is call the Rust handlers (src/worker/mod.rs), which decide everything.
//
// Panic recovery, as worker-build's shim does it: the crate is built with
// `panic = "abort"`, so a panic traps (`WebAssembly.RuntimeError`) and leaves the instance
// unusable. wasm-bindgen's `--experimental-reset-state-function` gives the glue a
// `__wbg_reset_state` that instantiates the module again; the next request runs on the
// fresh instance (the isolate's caches start empty, nothing is half-updated).
import * as edgeGlue from './index.js';

Error.stackTraceLimit = 100;

// Two wasm modules (scripts/build-worker.mjs): the edge's (`index`: the gateway, the
// well-known documents, minting, the dev routes of a dev build), instantiated when the
// isolate starts, and the Backend API's (`api`: `/v1`, the dashboard, the scheduled
// rotation), instantiated on the first request or cron run that needs it: esbuild keeps
// the dynamic import's module lazy, so a gateway isolate never instantiates the API's
// code (workerd still compiles both wasm modules when the isolate loads: about 20 ms of
// the cold start, docs/benchmarks.md). The core decides which module answers
// (`gateway_plan`'s `api` plan).
//
// Each instance has its own tenant cache. When one forgets a tenant (an API write, a
// rotation, a tenant found missing), the other must too: after each call into one, the
// entry hands what it forgot (`tenant_forgotten`) to the other (`tenant_forget`).

/** A wasm instance: its glue and the `worker` crate's shared state object of it. */
function instance(glue) {
  return { glue, state: glue.__worker_init_state() };
}

const edge = instance(edgeGlue);
/** The Backend API's instance once loaded; `apiLoading`, its load while it runs. */
let api;
let apiLoading;

function loadApi() {
  apiLoading ??= import('./api.js').then(
    (glue) => {
      api = instance(glue);
      return api;
    },
    (e) => {
      // Not remembered: the next call tries again.
      apiLoading = undefined;
      throw e;
    },
  );
  return apiLoading;
}

/** Hands what `from` forgot of its tenant cache to `to` (when it runs). */
function carryForgotten(from, to) {
  // A trapped instance is replaced before its next call, and the other then forgets all.
  if (from.state.criticalError) return;
  const forgotten = from.glue.tenant_forgotten();
  if (forgotten !== undefined && to !== undefined) to.glue.tenant_forget(forgotten);
}

// Dev builds: the dev counters (answered by the edge's instance) add the API instance's.
globalThis.__toriiPeerCounters = () => api?.glue.dev_counters?.();

function reinitializeIfCritical(inst) {
  if (inst.state.criticalError) {
    console.error('torii-edge: the wasm instance trapped; starting a fresh one');
    inst.glue.__wbg_reset_state();
    inst.state.criticalError = false;
    inst.state.instanceId++;
    // What the trapped instance forgot but had not handed over is lost with it: the
    // other instance forgets every tenant (it reloads them from D1).
    const other = inst === edge ? api : edge;
    other?.glue.tenant_forget('*');
  }
}

/** Traps already put down to an instance (a trap rethrown through the other's caller). */
const noted = new WeakSet();

/** A trap in an instance (or, from the isolate's error event, in either) marks it for replacement. */
function noteCritical(e, inst) {
  if (e instanceof WebAssembly.RuntimeError && !noted.has(e)) {
    noted.add(e);
    console.error('torii-edge: critical', e);
    for (const i of inst ? [inst] : [edge, api]) if (i) i.state.criticalError = true;
  }
}

addEventListener('error', (e) => noteCritical(e.error));

/** Calls `inst`'s Rust handler `name`; a trap marks the instance for replacement and rethrows. */
function call(inst, name, event, env, ctx) {
  reinitializeIfCritical(inst);
  let pending;
  try {
    pending = inst.glue[name](event, env, ctx);
  } catch (e) {
    noteCritical(e, inst);
    throw e;
  }
  return pending.catch((e) => {
    noteCritical(e, inst);
    throw e;
  });
}

/** The edge's full path (its Rust `fetch`); what it forgot goes to the API's instance. */
async function edgeFetch(request, env, ctx) {
  try {
    return await call(edge, 'fetch', request, env, ctx);
  } finally {
    carryForgotten(edge, api);
  }
}

/** A call into the API's instance (`fetch` or `scheduled`), with what each forgot carried over. */
async function apiCall(name, event, env, ctx) {
  const inst = await loadApi();
  carryForgotten(edge, inst);
  try {
    return await call(inst, name, event, env, ctx);
  } finally {
    carryForgotten(inst, edge);
  }
}

// ------------------------------------------------------------------ the fast path
//
// A warm gateway request is decided by one synchronous call into the core
// (`gateway_plan`, src/worker/fast.rs; a first-seen token's request is resumed by a second,
// `gateway_signature`, after its WebCrypto verify): the plan says what to do, and this module only
// does the runtime I/O the plan names (WebCrypto, `fetch`, `Response`). Anything else,
// and any plan it does not know, goes to the full path (the edge's Rust `fetch`), or to the API's instance.

const encoder = new TextEncoder();
const ED25519 = { name: 'Ed25519' };

/** Imported WebCrypto verify keys by their base64url bytes (bounded, cleared when full). */
const verifyKeys = new Map();
const MAX_VERIFY_KEYS = 256;

function fromB64url(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** WebCrypto's answer for a `verify` plan: true, false, or undefined when it threw. */
async function checkSignature(plan) {
  try {
    let key = verifyKeys.get(plan.key);
    if (key === undefined) {
      key = await crypto.subtle.importKey('raw', fromB64url(plan.key), ED25519, false, ['verify']);
      if (verifyKeys.size >= MAX_VERIFY_KEYS) verifyKeys.clear();
      verifyKeys.set(plan.key, key);
    }
    return await crypto.subtle.verify(ED25519, key, fromB64url(plan.sig), encoder.encode(plan.data));
  } catch {
    return undefined;
  }
}

/** A reply plan (or a failure's) as the runtime's Response. */
function replyOf(plan) {
  const headers = new Headers();
  for (const [name, value] of plan.headers) headers.set(name, value);
  return new Response(plan.body ?? null, { status: plan.status, headers });
}

/**
 * Writes a forwarded request's log line after its response has gone out, as a proxy
 * writes its access log: `total_ms` is taken now, and the line is written by a timer that
 * the request's `waitUntil` keeps alive, so its `JSON.stringify` and `console.log` are
 * not on the response's path (docs/benchmarks.md, "The log line after the response").
 */
function writeLog(log, startedMs, ctx) {
  if (!log) return;
  log.total_ms = Date.now() - startedMs;
  ctx.waitUntil(
    new Promise((resolve) => {
      setTimeout(() => {
        console.log(JSON.stringify(log));
        resolve();
      }, 0);
    }),
  );
}

/** The origin could not be reached or the assertion not signed: the core's reply. */
function failed(plan, failure, why, ctx) {
  const { reply, log } = JSON.parse(
    edge.glue.gateway_origin_failed(failure, plan.timeout_ms, why, plan.response_headers[0][1]),
  );
  if (plan.log) {
    plan.log.status = log.status;
    if (log.code) plan.log.code = log.code;
    if (log.decision) plan.log.decision = log.decision;
  }
  writeLog(plan.log, plan.started_ms, ctx);
  return replyOf(reply);
}

async function forward(request, plan, verifyMs, ctx) {
  let assertion;
  try {
    const key = edge.glue.gateway_signing_key(plan.kid);
    const sign = encoder.encode(plan.sign);
    const signature = await crypto.subtle.sign(ED25519, key, sign);
    assertion = edge.glue.gateway_assertion(sign, new Uint8Array(signature));
  } catch {}
  if (assertion === undefined) return failed(plan, 'unsigned', '', ctx);
  // The origin's headers: a copy of the runtime's own, less what the core dropped, plus
  // what it added (no inbound value goes through the plan).
  // (Indexed loops: this code runs once per request, mostly before V8 optimizes it, and
  // the iterator protocol of `for…of` with destructuring is what costs there.)
  const headers = new Headers(request.headers);
  const { drop, add } = plan;
  for (let i = 0; i < drop.length; i++) headers.delete(drop[i]);
  for (let i = 0; i < add.length; i++) headers.append(add[i][0], add[i][1]);
  headers.append(plan.assertion, assertion);
  const abort = new AbortController();
  const init = { method: plan.method, headers, redirect: 'manual', signal: abort.signal };
  if (plan.body && request.body !== null) init.body = request.body;
  // The origin has timeout_ms to send its response headers; the body then streams.
  const timer = setTimeout(() => abort.abort(), plan.timeout_ms);
  const t0 = Date.now();
  let upstream;
  try {
    upstream = await fetch(plan.url, init);
  } catch (e) {
    clearTimeout(timer);
    return failed(plan, abort.signal.aborted ? 'timeout' : 'unreachable', String(e), ctx);
  }
  clearTimeout(timer);
  // The origin's response as is (status, status text, headers, streamed body), with ours set.
  const response = new Response(upstream.body, upstream);
  for (const [name, value] of plan.response_headers) response.headers.set(name, value);
  if (plan.log) {
    plan.log.status = upstream.status;
    if (verifyMs !== undefined && 'verify_ms' in plan.log) plan.log.verify_ms = verifyMs;
    plan.log.origin_ms = Date.now() - t0;
  }
  writeLog(plan.log, plan.started_ms, ctx);
  return response;
}

async function handle(request, env, ctx) {
  const now = Date.now();
  // One `name "\n" value "\n"` per header (neither can hold a line feed): http.rs's
  // `header_lines` reads it.
  let headers = '';
  for (const [name, value] of request.headers) headers += name + '\n' + value + '\n';
  // As bytes: one native copy into wasm memory (a string argument is copied by the glue
  // one character at a time).
  let plan = JSON.parse(edge.glue.gateway_plan(request.method, request.url, encoder.encode(headers), env, now));
  let verifyMs;
  // A first-seen token: one native verify; the answer resumes the request in the core
  // where it stopped (a valid signature goes into the core's memo and the claims are
  // checked; a refused one is refused like any bad signature), which gives the plan.
  // When WebCrypto threw, that plan is the full path.
  if (plan.k === 'verify') {
    const t0 = Date.now();
    const valid = await checkSignature(plan);
    verifyMs = Date.now() - t0;
    plan = JSON.parse(edge.glue.gateway_signature(plan.id, valid));
  }
  switch (plan.k) {
    case 'reply':
      return replyOf(plan);
    case 'forward':
      return forward(request, plan, verifyMs, ctx);
    case 'api':
      return apiCall('fetch', request, env, ctx);
    default:
      return edgeFetch(request, env, ctx);
  }
}

export default {
  fetch(request, env, ctx) {
    reinitializeIfCritical(edge);
    return handle(request, env, ctx).catch((e) => {
      noteCritical(e, edge);
      throw e;
    });
  },
  scheduled(event, env, ctx) {
    return apiCall('scheduled', event, env, ctx);
  },
};
