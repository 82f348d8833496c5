// torii-edge: the npm package's API over the wasm core (js/pkg, built from src/js.rs).
//
// Every verification decision is the core's: this file normalizes options, keeps the
// JWKS cache (memory, fetched over HTTPS) and turns the core's coded errors into
// ToriiError. The entry points (node.mjs, worker.mjs, browser.mjs) instantiate the wasm
// module and re-export this file; nothing here runs at import.
import {
  Verifier as WasmVerifier,
  errorCodes as wasmErrorCodes,
  httpStatus,
  maxAgeFromCacheControl,
} from "../pkg/torii_edge.js";

/** Largest JWKS document accepted, in bytes (the core's MAX_JWKS_BYTES). */
export const MAX_JWKS_BYTES = 64 * 1024;
/** Timeout of one JWKS fetch, in milliseconds. */
export const JWKS_FETCH_TIMEOUT_MS = 5000;

/**
 * The JWKS cache policy, in seconds: the core's `CacheConfig::default()`
 * (src/jwks_cache.rs).
 */
export const DEFAULT_CACHE_CONFIG = Object.freeze({
  defaultTtl: 600,
  minTtl: 60,
  maxTtl: 86_400,
  cooldown: 30,
  maxStale: 86_400,
});

/** A verification failure; `code` is the core's stable snake_case code. */
export class ToriiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ cause?: unknown, retryAfter?: number }} [options]
   */
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ToriiError";
    this.code = code;
    this.status = code === "jwks_fetch_failed" ? 503 : httpStatus(code) || 500;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/** Every stable error code of the core, in documentation order. */
export function errorCodes() {
  return wasmErrorCodes();
}

function toToriiError(e) {
  if (e instanceof ToriiError) return e;
  if (e && typeof e.code === "string" && !(e instanceof TypeError)) {
    return new ToriiError(e.code, e.message);
  }
  return e;
}

// ------------------------------------------------------------------ options

function isStringList(v) {
  return typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string"));
}

/** The policy part of the options, checked, as the JSON text src/js.rs reads. */
function policyJson(options) {
  const { issuer, audience, clockTolerance, requiredClaims, maxTokenLength, maxTokenAge, typ } = options;
  if (!isStringList(issuer) || issuer.length === 0) {
    throw new TypeError("torii-edge: `issuer` must be a non-empty string or array of strings");
  }
  if (audience !== undefined && !isStringList(audience)) {
    throw new TypeError("torii-edge: `audience` must be a string or an array of strings");
  }
  if (clockTolerance !== undefined && !(typeof clockTolerance === "number" && Number.isFinite(clockTolerance))) {
    throw new TypeError("torii-edge: `clockTolerance` must be a number of seconds");
  }
  if (requiredClaims !== undefined && !(Array.isArray(requiredClaims) && isStringList(requiredClaims))) {
    throw new TypeError("torii-edge: `requiredClaims` must be an array of strings");
  }
  if (maxTokenLength !== undefined && !(Number.isSafeInteger(maxTokenLength) && maxTokenLength > 0)) {
    throw new TypeError("torii-edge: `maxTokenLength` must be a positive integer");
  }
  if (maxTokenAge !== undefined && !(typeof maxTokenAge === "number" && Number.isFinite(maxTokenAge) && maxTokenAge >= 0)) {
    throw new TypeError("torii-edge: `maxTokenAge` must be a number of seconds");
  }
  if (typ !== undefined && typeof typ !== "string") {
    throw new TypeError("torii-edge: `typ` must be a string");
  }
  return JSON.stringify({
    issuer,
    audience,
    clockTolerance: clockTolerance === undefined ? undefined : Math.floor(clockTolerance),
    requiredClaims,
    maxTokenLength,
    maxTokenAge: maxTokenAge === undefined ? undefined : Math.floor(maxTokenAge),
    typ,
  });
}

function secondsOf(currentDate) {
  if (currentDate === undefined) return Math.floor(Date.now() / 1000);
  if (!(currentDate instanceof Date) || Number.isNaN(currentDate.getTime())) {
    throw new TypeError("torii-edge: `currentDate` must be a valid Date");
  }
  return Math.floor(currentDate.getTime() / 1000);
}

function tokenInput(tokenOrHeader) {
  if (tokenOrHeader === undefined || tokenOrHeader === null) return "";
  if (typeof tokenOrHeader !== "string") {
    throw new TypeError("torii-edge: the token must be a string (a JWT or an Authorization header value)");
  }
  return tokenOrHeader;
}

function newVerifier(jwksText, policy) {
  try {
    return new WasmVerifier(jwksText, policy);
  } catch (e) {
    throw toToriiError(e);
  }
}

function runVerify(verifier, input, now) {
  try {
    return JSON.parse(verifier.verify(input, now));
  } catch (e) {
    throw toToriiError(e);
  }
}

// ------------------------------------------------------------------ JWKS cache

/**
 * The cache policy of one issuer's key set, as a state machine that does no I/O: the
 * mirror of the core's `JwksCache` (src/jwks_cache.rs), same defaults and decisions.
 * `lookup` answers one of:
 *   { kind: "use" }                  verify with the cached set, no I/O;
 *   { kind: "revalidate" }           verify with the (stale) set, refresh in background;
 *   { kind: "fetch" }                fetch first (call beginFetch);
 *   { kind: "unavailable", retryAfter } fail closed (jwks_unavailable).
 */
export class JwksCachePolicy {
  constructor(config = DEFAULT_CACHE_CONFIG) {
    this.config = { ...DEFAULT_CACHE_CONFIG, ...config };
    this.entry = null; // { value, fetchedAt, freshUntil }
    this.lastAttempt = null;
  }

  coolingDown(now) {
    if (this.lastAttempt === null) return null;
    const wait = this.lastAttempt + this.config.cooldown - now;
    return wait > 0 ? wait : null;
  }

  /** @param {boolean} knowsKid whether the cached set has the token's key */
  lookup(knowsKid, now) {
    const cooling = this.coolingDown(now);
    const entry = this.entry;
    if (!entry) return cooling === null ? { kind: "fetch" } : { kind: "unavailable", retryAfter: cooling };
    if (now < entry.freshUntil) {
      return knowsKid || cooling !== null ? { kind: "use" } : { kind: "fetch" };
    }
    if (now < entry.freshUntil + this.config.maxStale) {
      if (cooling !== null) return { kind: "use" };
      return knowsKid ? { kind: "revalidate" } : { kind: "fetch" };
    }
    return cooling === null ? { kind: "fetch" } : { kind: "unavailable", retryAfter: cooling };
  }

  beginFetch(now) {
    this.lastAttempt = now;
  }

  onFetchOk(value, maxAge, now) {
    this.entry = { value, fetchedAt: now, freshUntil: now + this.ttl(maxAge) };
  }

  ttl(maxAge) {
    const { defaultTtl, minTtl, maxTtl } = this.config;
    return maxAge === undefined || maxAge === null ? defaultTtl : Math.min(Math.max(maxAge, minTtl), maxTtl);
  }

  /** The cached value, whatever its age. */
  get value() {
    return this.entry?.value;
  }
}

async function readBody(response, limit) {
  const declared = Number(response.headers.get("content-length"));
  if (declared > limit) throw new Error(`JWKS is ${declared} bytes, more than ${limit}`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new Error(`JWKS is more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** A remote key set: fetch, cache in memory, hand out a verifier per policy. */
class RemoteJwks {
  constructor(url, policy, { fetch: fetchImpl, now, timeoutMs, cacheConfig }) {
    this.url = String(url);
    this.policy = policy;
    this.fetch = fetchImpl ?? ((...a) => globalThis.fetch(...a));
    this.now = now ?? (() => Date.now());
    this.timeoutMs = timeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
    this.cache = new JwksCachePolicy(cacheConfig);
    this.inflight = null;
    this.fetchCount = 0;
  }

  clock() {
    return Math.floor(this.now() / 1000);
  }

  async download() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      this.fetchCount += 1;
      const response = await this.fetch(this.url, {
        headers: { accept: "application/jwk-set+json, application/json" },
        signal: controller.signal,
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`GET ${this.url} answered ${response.status}`);
      }
      const text = await readBody(response, MAX_JWKS_BYTES);
      const cc = response.headers.get("cache-control");
      return { text, maxAge: cc === null ? undefined : maxAgeFromCacheControl(cc) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** One shared fetch; resolves to true when a new set was stored, rejects with why not. */
  refresh() {
    if (this.inflight) return this.inflight;
    this.cache.beginFetch(this.clock());
    this.inflight = (async () => {
      try {
        const { text, maxAge } = await this.download();
        const verifier = newVerifier(text, this.policy); // invalid_jwks/invalid_key: a failed fetch
        this.cache.onFetchOk(verifier, maxAge, this.clock());
        return true;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  async fetchOrFail() {
    try {
      await this.refresh();
    } catch (cause) {
      throw new ToriiError("jwks_fetch_failed", `fetching the JWKS failed: ${cause?.message ?? cause}`, { cause });
    }
  }

  /** The verifier to use now, following the cache policy (I/O only when it says so). */
  async current(knowsKid) {
    let decision = this.cache.lookup(knowsKid, this.clock());
    let joinedFailure = null;
    if (this.inflight && (decision.kind === "fetch" || decision.kind === "unavailable")) {
      // Join the fetch under way instead of starting (or being refused) another.
      joinedFailure = await this.inflight.then(() => null, (e) => e);
      decision = this.cache.lookup(knowsKid, this.clock());
    }
    switch (decision.kind) {
      case "use":
        return this.cache.value;
      case "revalidate":
        this.refresh().catch(() => {});
        return this.cache.value;
      case "fetch": {
        const previous = this.cache.value;
        try {
          await this.fetchOrFail();
        } catch (e) {
          // A refetch for an unknown kid that fails leaves the servable set in use.
          if (!knowsKid && previous) return previous;
          throw e;
        }
        return this.cache.value;
      }
      default:
        if (joinedFailure) {
          throw new ToriiError("jwks_fetch_failed", `fetching the JWKS failed: ${joinedFailure?.message ?? joinedFailure}`, {
            cause: joinedFailure,
          });
        }
        throw new ToriiError("jwks_unavailable", "no usable JWKS: fetching failed and no cached set is young enough", {
          retryAfter: decision.retryAfter,
        });
    }
  }

  async verify(input, now) {
    const verifier = await this.current(true);
    try {
      return runVerify(verifier, input, now);
    } catch (e) {
      if (!(e instanceof ToriiError && e.code === "unknown_key")) throw e;
      const next = await this.current(false);
      if (next === verifier) throw e;
      return runVerify(next, input, now);
    }
  }
}

// ------------------------------------------------------------------ API

/**
 * A verifier for one issuer: `verify(tokenOrAuthorizationHeader, { currentDate? })`
 * resolves to the claims or rejects with a ToriiError.
 */
export function createVerifier(options) {
  if (!options || typeof options !== "object") throw new TypeError("torii-edge: options are required");
  const policy = policyJson(options);
  const { jwks, jwksUrl } = options;
  if ((jwks === undefined) === (jwksUrl === undefined)) {
    throw new TypeError("torii-edge: give exactly one of `jwks` and `jwksUrl`");
  }
  if (jwks !== undefined) {
    const text = typeof jwks === "string" ? jwks : JSON.stringify(jwks);
    const verifier = newVerifier(text, policy);
    return Object.freeze({
      async verify(tokenOrHeader, { currentDate } = {}) {
        return runVerify(verifier, tokenInput(tokenOrHeader), secondsOf(currentDate));
      },
    });
  }
  let url;
  try {
    url = new URL(String(jwksUrl));
  } catch {
    throw new TypeError("torii-edge: `jwksUrl` must be an absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError("torii-edge: `jwksUrl` must be an http(s) URL");
  }
  const remote = new RemoteJwks(url, policy, options);
  return Object.freeze({
    async verify(tokenOrHeader, { currentDate } = {}) {
      const input = tokenInput(tokenOrHeader);
      const now = secondsOf(currentDate);
      return remote.verify(input, now);
    },
    /** How many JWKS fetches were started (for tests and metrics). */
    get jwksFetches() {
      return remote.fetchCount;
    },
  });
}

// verifyToken keeps one verifier per option set, so repeated calls with a jwksUrl share
// one cache (no fetch on the hot path). Options holding functions are not memoized.
const MEMO_LIMIT = 32;
const memo = new Map();

function memoKey(options) {
  if (typeof options.fetch === "function" || typeof options.now === "function") return null;
  const { currentDate: _ignored, ...rest } = options;
  try {
    return JSON.stringify(rest, (_k, v) => (v instanceof URL ? v.href : v));
  } catch {
    return null;
  }
}

/** One-shot form of `createVerifier(options).verify(tokenOrHeader, options)`. */
export async function verifyToken(tokenOrHeader, options) {
  if (!options || typeof options !== "object") throw new TypeError("torii-edge: options are required");
  const key = memoKey(options);
  let verifier = key === null ? undefined : memo.get(key);
  if (!verifier) {
    verifier = createVerifier(options);
    if (key !== null) {
      if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value);
      memo.set(key, verifier);
    }
  }
  return verifier.verify(tokenOrHeader, { currentDate: options.currentDate });
}
