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
import * as wasm from './index.js';

Error.stackTraceLimit = 100;

/** The `worker` crate's shared state object (`criticalError`, `instanceId`). */
const initState = wasm.__worker_init_state();

function reinitializeIfCritical() {
  if (initState.criticalError) {
    console.error('torii-edge: the wasm instance trapped; starting a fresh one');
    wasm.__wbg_reset_state();
    initState.criticalError = false;
    initState.instanceId++;
  }
}

function noteCritical(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error('torii-edge: critical', e);
    initState.criticalError = true;
  }
}

addEventListener('error', (e) => noteCritical(e.error));

/** Calls a Rust handler; a trap marks the instance for replacement and rethrows. */
function call(handler, event, env, ctx) {
  reinitializeIfCritical();
  let pending;
  try {
    pending = handler(event, env, ctx);
  } catch (e) {
    noteCritical(e);
    throw e;
  }
  return pending.catch((e) => {
    noteCritical(e);
    throw e;
  });
}

// ------------------------------------------------------------------ the fast path
//
// A warm gateway request is decided by one synchronous call into the core
// (`gateway_plan`, src/worker/fast.rs; a first-seen token's request is resumed by a second,
// `gateway_signature`, after its WebCrypto verify): the plan says what to do, and this module only
// does the runtime I/O the plan names (WebCrypto, `fetch`, `Response`). Anything else,
// and any plan it does not know, goes to the full path (`wasm.fetch`): the Rust handler.

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

function writeLog(log, startedMs) {
  if (log) {
    log.total_ms = Date.now() - startedMs;
    console.log(JSON.stringify(log));
  }
}

/** The origin could not be reached or the assertion not signed: the core's reply. */
function failed(plan, failure, why) {
  const { reply, log } = JSON.parse(
    wasm.gateway_origin_failed(failure, plan.timeout_ms, why, plan.response_headers[0][1]),
  );
  if (plan.log) {
    plan.log.status = log.status;
    if (log.code) plan.log.code = log.code;
    if (log.decision) plan.log.decision = log.decision;
  }
  writeLog(plan.log, plan.started_ms);
  return replyOf(reply);
}

async function forward(request, plan, verifyMs) {
  let assertion;
  try {
    const key = wasm.gateway_signing_key(plan.kid);
    const signature = await crypto.subtle.sign(ED25519, key, encoder.encode(plan.sign));
    assertion = wasm.gateway_assertion(plan.sign, new Uint8Array(signature));
  } catch {}
  if (assertion === undefined) return failed(plan, 'unsigned', '');
  const headers = new Headers(plan.headers);
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
    return failed(plan, abort.signal.aborted ? 'timeout' : 'unreachable', String(e));
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
  writeLog(plan.log, plan.started_ms);
  return response;
}

async function handle(request, env, ctx) {
  const now = Date.now();
  // One `name "\n" value "\n"` per header (neither can hold a line feed): http.rs's
  // `header_lines` reads it.
  let headers = '';
  for (const [name, value] of request.headers) headers += name + '\n' + value + '\n';
  let plan = JSON.parse(wasm.gateway_plan(request.method, request.url, headers, env, now));
  let verifyMs;
  // A first-seen token: one native verify; the answer resumes the request in the core
  // where it stopped (a valid signature goes into the core's memo and the claims are
  // checked; a refused one is refused like any bad signature), which gives the plan.
  // When WebCrypto threw, that plan is the full path.
  if (plan.k === 'verify') {
    const t0 = Date.now();
    const valid = await checkSignature(plan);
    verifyMs = Date.now() - t0;
    plan = JSON.parse(wasm.gateway_signature(plan.id, valid));
  }
  switch (plan.k) {
    case 'reply':
      return replyOf(plan);
    case 'forward':
      return forward(request, plan, verifyMs);
    default:
      return wasm.fetch(request, env, ctx);
  }
}

export default {
  fetch(request, env, ctx) {
    return call(handle, request, env, ctx);
  },
  scheduled(event, env, ctx) {
    return call(wasm.scheduled, event, env, ctx);
  },
};
