// torii-edge: the npm package's API over the wasm core (js/pkg, built from src/js/).
//
// Every verification decision is the core's: this file normalizes options, keeps the
// JWKS cache (memory, fetched over HTTPS) and turns the core's coded errors into
// ToriiError. The entry points (node.mjs, worker.mjs, browser.mjs) instantiate the wasm
// module and re-export this file; nothing here runs at import.
import {
  AssertionVerifier as WasmAssertionVerifier,
  JwksCache as WasmJwksCache,
  errorCodes as wasmErrorCodes,
  maxAgeFromCacheControl,
  renderTemplate as wasmRenderTemplate,
  validateTemplate as wasmValidateTemplate,
} from "../pkg/torii_edge.js";
import { Flight, fetchableUrl, readBody } from "./io.mjs";
import { DEFAULT_CACHE_CONFIG, IDENTITY_HEADERS, MAX_JWKS_BYTES } from "./core.mjs";
import { ToriiError, toToriiError } from "./errors.mjs";
import { TokenVerifier } from "./verifier.mjs";

// The core's constants (src/js/tables.rs `coreConstants`), filled in by the entry point.
export { DEFAULT_CACHE_CONFIG, IDENTITY_HEADERS, MAX_JWKS_BYTES };
/** Timeout of one JWKS fetch, in milliseconds. */
export const JWKS_FETCH_TIMEOUT_MS = 5000;

export { ToriiError };

/** Every stable error code (the core's table, src/error.rs `ALL_CODES`), in documentation order. */
export function errorCodes() {
  return wasmErrorCodes();
}

// ------------------------------------------------------------------ options

function isStringList(v) {
  return typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string"));
}

/** The policy part of the options, checked, as the JSON text src/js/ reads. */
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
  // The Date's own time value (not an overridable getTime): never NaN into the core,
  // whose clock would read it as 0.
  const ms = currentDate instanceof Date ? Date.prototype.getTime.call(currentDate) : NaN;
  if (!Number.isFinite(ms)) throw new TypeError("torii-edge: `currentDate` must be a valid Date");
  return Math.floor(ms / 1000);
}

/** A cache clock reading, in seconds: refused unless finite (the core reads NaN as 0). */
function cacheSeconds(now, what = "`now`") {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError(`torii-edge: ${what} must be a finite number, not ${String(now)}`);
  }
  return now;
}

function tokenInput(tokenOrHeader) {
  if (tokenOrHeader === undefined || tokenOrHeader === null) return "";
  if (typeof tokenOrHeader !== "string") {
    throw new TypeError("torii-edge: the token must be a string (a JWT or an Authorization header value)");
  }
  return tokenOrHeader;
}

function newVerifier(jwksText, policy) {
  return new TokenVerifier(jwksText, policy);
}

function runVerify(verifier, input, now) {
  return verifier.verify(input, now);
}

// ------------------------------------------------------------------ JWKS cache

/**
 * The cache policy of one issuer's key set, as a state machine that does no I/O: the
 * core's `JwksCache` (src/jwks_cache.rs) through wasm, so the package and the edge make
 * the same decisions from the same code. It keeps the timing; `value` (here: the verifier
 * built from the fetched set) is kept beside it. `lookup` answers one of:
 *   { kind: "use" }                  verify with the cached set, no I/O;
 *   { kind: "revalidate" }           verify with the (stale) set, refresh in background;
 *   { kind: "fetch" }                fetch first (call beginFetch);
 *   { kind: "unavailable", retryAfter } fail closed (jwks_unavailable).
 */
export class JwksCachePolicy {
  constructor(config = DEFAULT_CACHE_CONFIG) {
    this.config = Object.freeze({ ...DEFAULT_CACHE_CONFIG, ...config });
    for (const [k, v] of Object.entries(this.config)) {
      if (!(Number.isSafeInteger(v) && v >= 0)) throw new TypeError(`torii-edge: cacheConfig.${k} must be a non-negative integer`);
    }
    const { defaultTtl, minTtl, maxTtl, cooldown, maxStale } = this.config;
    this.core = new WasmJwksCache(defaultTtl, minTtl, maxTtl, cooldown, maxStale);
    this.stored = undefined;
  }

  /** @param {boolean} knowsKid whether the cached set has the token's key */
  lookup(knowsKid, now) {
    const d = this.core.lookup(Boolean(knowsKid), cacheSeconds(now));
    if (d === 0) return { kind: "use" };
    if (d === 1) return { kind: "revalidate" };
    if (d === 2) return { kind: "fetch" };
    return { kind: "unavailable", retryAfter: -d };
  }

  beginFetch(now) {
    this.core.beginFetch(cacheSeconds(now));
  }

  onFetchOk(value, maxAge, now) {
    this.core.store(maxAge ?? undefined, cacheSeconds(now));
    this.stored = value;
  }

  ttl(maxAge) {
    return this.core.ttl(maxAge ?? undefined);
  }

  /** The cached value, whatever its age. */
  get value() {
    return this.stored;
  }
}


/** A remote key set: fetch, cache in memory, hand out a verifier per policy. */
class RemoteJwks {
  /** `build(jwksText)` makes the verifier object cached for the key set. */
  constructor(url, build, { fetch: fetchImpl, now, timeoutMs, cacheConfig }) {
    this.url = String(url);
    this.build = build;
    this.fetch = fetchImpl ?? ((...a) => globalThis.fetch(...a));
    if (now !== undefined && typeof now !== "function") throw new TypeError("torii-edge: `now` must be a function returning milliseconds");
    this.now = now ?? (() => Date.now());
    this.timeoutMs = timeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
    this.cache = new JwksCachePolicy(cacheConfig);
    this.flight = new Flight(this.timeoutMs);
    this.fetchCount = 0;
  }

  clock() {
    return Math.floor(cacheSeconds(this.now(), "the `now` clock's reading (milliseconds)") / 1000);
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

  /**
   * This caller's own fetch: the set is stored in the shared cache; resolves once stored,
   * rejects with why not. Other callers never await this promise (see Flight).
   */
  async fetchNow() {
    const run = this.flight.begin();
    this.cache.beginFetch(this.clock());
    try {
      const { text, maxAge } = await this.download();
      const verifier = this.build(text); // invalid_jwks/invalid_key: a failed fetch
      this.cache.onFetchOk(verifier, maxAge, this.clock());
      this.flight.end(run);
    } catch (e) {
      this.flight.end(run, e);
      throw e;
    }
  }

  /**
   * The verifier to use now, following the core's cache policy (I/O only when it says
   * so). While another caller's fetch is under way, this one waits for it on its own
   * timers and reads the cache; it fetches itself only when the policy says so, or when
   * that other fetch was abandoned (its request cancelled before it reported back).
   */
  async current(knowsKid) {
    let joinedFailure = null;
    for (let round = 0; round < 4; round++) {
      const decision = this.cache.lookup(knowsKid, this.clock());
      if (decision.kind === "use") return this.cache.value;
      const busy = this.flight.active();
      if (decision.kind === "revalidate") {
        if (!busy) this.fetchNow().catch(() => {});
        return this.cache.value;
      }
      if (busy) {
        const outcome = await this.flight.wait(busy);
        if (outcome?.error !== undefined) joinedFailure = outcome.error;
        continue;
      }
      if (decision.kind === "fetch" || (this.flight.abandoned() && joinedFailure === null)) {
        const previous = this.cache.value;
        try {
          await this.fetchNow();
        } catch (cause) {
          // A refetch for an unknown kid that fails leaves the servable set in use.
          if (!knowsKid && previous) return previous;
          throw new ToriiError("jwks_fetch_failed", `fetching the JWKS failed: ${cause?.message ?? cause}`, { cause });
        }
        return this.cache.value;
      }
      if (joinedFailure !== null) {
        throw new ToriiError("jwks_fetch_failed", `fetching the JWKS failed: ${joinedFailure?.message ?? joinedFailure}`, {
          cause: joinedFailure,
        });
      }
      throw new ToriiError("jwks_unavailable", "no usable JWKS: fetching failed and no cached set is young enough", {
        retryAfter: decision.retryAfter,
      });
    }
    throw new ToriiError("jwks_unavailable", "no usable JWKS: the fetches under way did not finish", { retryAfter: 1 });
  }

  /** Runs `run(verifier)` with the cached verifier, once more after a refetch on `unknown_key`. */
  async with(run) {
    const verifier = await this.current(true);
    try {
      return await run(verifier);
    } catch (e) {
      if (!(e instanceof ToriiError && e.code === "unknown_key")) throw e;
      const next = await this.current(false);
      if (next === verifier) throw e;
      return run(next);
    }
  }
}

// ------------------------------------------------------------------ API

function httpUrl(value, name) {
  let url;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`torii-edge: \`${name}\` must be an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`torii-edge: \`${name}\` must be an http(s) URL`);
  }
  return url;
}

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
  const remote = new RemoteJwks(fetchableUrl(jwksUrl, "jwksUrl"), (text) => newVerifier(text, policy), options);
  return Object.freeze({
    async verify(tokenOrHeader, { currentDate } = {}) {
      const input = tokenInput(tokenOrHeader);
      const now = secondsOf(currentDate);
      return remote.with((verifier) => runVerify(verifier, input, now));
    },
    /** How many JWKS fetches were started (for tests and metrics). */
    get jwksFetches() {
      return remote.fetchCount;
    },
  });
}

// The one-shot forms keep one verifier per option set, so repeated calls with a jwksUrl
// share one cache (no fetch on the hot path). Options holding functions are not memoized.
const MEMO_LIMIT = 32;

function memoized(create) {
  const memo = new Map();
  return (options) => {
    let key = null;
    if (typeof options.fetch !== "function" && typeof options.now !== "function") {
      const { currentDate: _d, url: _u, method: _m, ...rest } = options;
      try {
        key = JSON.stringify(rest, (_k, v) => (v instanceof URL ? v.href : v));
      } catch {
        key = null;
      }
    }
    let made = key === null ? undefined : memo.get(key);
    if (!made) {
      made = create(options);
      if (key !== null) {
        if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value);
        memo.set(key, made);
      }
    }
    return made;
  };
}

const memoVerifier = memoized(createVerifier);

/** One-shot form of `createVerifier(options).verify(tokenOrHeader, options)`. */
export async function verifyToken(tokenOrHeader, options) {
  if (!options || typeof options !== "object") throw new TypeError("torii-edge: options are required");
  return memoVerifier(options).verify(tokenOrHeader, { currentDate: options.currentDate });
}

// ------------------------------------------------------------------ edge assertions

/** The header the edge signs every forwarded request with. */
export const EDGE_ASSERTION_HEADER = "x-torii-edge-assertion";
/** The header carrying the verified claims (base64url JSON), bound by the assertion. */
export const CLAIMS_HEADER = "x-torii-claims";

/** `get(name)` over a Fetch `Headers`, a Node `IncomingMessage.headers` or a plain object. */
function headerReader(headers) {
  if (headers && typeof headers.get === "function") {
    return (name) => headers.get(name) ?? undefined;
  }
  if (headers && typeof headers === "object") {
    return (name) => {
      for (const [k, v] of Object.entries(headers)) {
        if (k.toLowerCase() !== name) continue;
        // Node joins most duplicates; an array means the header came more than once.
        if (Array.isArray(v)) throw new ToriiError("invalid_request", `${name} appears more than once`);
        return v === undefined || v === null ? undefined : String(v);
      }
      return undefined;
    };
  }
  throw new TypeError("torii-edge: expected a Request, an IncomingMessage or headers");
}

/** What the request says: `{ header, method, target }` (target: path+query or absolute URL). */
function requestParts(input) {
  const isRequest = input && typeof input === "object" && "headers" in input && typeof input.method === "string";
  if (isRequest) return { header: headerReader(input.headers), method: input.method, target: input.url };
  return { header: headerReader(input), method: undefined, target: undefined };
}

/** The URL the origin received: origin of the audience + path and query of the request. */
function boundUrl(audienceOrigin, target) {
  if (typeof target !== "string" || target === "") return undefined;
  if (target.startsWith("/")) return audienceOrigin + target;
  let u;
  try {
    u = new URL(target);
  } catch {
    return undefined;
  }
  return audienceOrigin + u.pathname + u.search;
}

function base64urlText(value) {
  const b64 = value.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

function originOf(audience) {
  if (typeof audience !== "string" && !(audience instanceof URL)) {
    throw new TypeError("torii-edge: `audience` (this origin, as the edge's ORIGIN_URL names it) is required");
  }
  const url = httpUrl(audience, "audience");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new TypeError("torii-edge: `audience` must be an origin (scheme://host[:port]), without path or query");
  }
  return url.origin;
}

/**
 * A verifier of edge assertions for one origin. Options: `issuer` (the tenant's issuer),
 * `audience` (this origin: `scheme://host[:port]`, the origin of the edge's ORIGIN_URL),
 * `jwks` or `jwksUrl` (default `${issuer}/_torii/.well-known/jwks.json`), plus the
 * cache options of `createVerifier`.
 */
export function createEdgeAssertionVerifier(options) {
  if (!options || typeof options !== "object") throw new TypeError("torii-edge: options are required");
  const { issuer, jwks, jwksUrl } = options;
  if (typeof issuer !== "string" || issuer === "") {
    throw new TypeError("torii-edge: `issuer` (the tenant's issuer URL) must be a non-empty string");
  }
  const audience = originOf(options.audience);
  if (jwks !== undefined && jwksUrl !== undefined) {
    throw new TypeError("torii-edge: give at most one of `jwks` and `jwksUrl`");
  }
  const build = (text) => {
    try {
      return new WasmAssertionVerifier(text, issuer, audience);
    } catch (e) {
      throw toToriiError(e);
    }
  };
  let withVerifier;
  let remote = null;
  if (jwks !== undefined) {
    const verifier = build(typeof jwks === "string" ? jwks : JSON.stringify(jwks));
    withVerifier = async (run) => run(verifier);
  } else {
    const url = fetchableUrl(jwksUrl ?? `${issuer.replace(/\/+$/, "")}/_torii/.well-known/jwks.json`, jwksUrl === undefined ? "issuer" : "jwksUrl");
    remote = new RemoteJwks(url, build, options);
    withVerifier = (run) => remote.with(run);
  }
  return Object.freeze({
    /**
     * Verifies the request's edge assertion; resolves to the claims the edge verified
     * (the decoded `x-torii-claims`), or `null` for a request the edge let through
     * without a token (a public route).
     */
    async verify(requestOrHeaders, { url, method, currentDate } = {}) {
      const parts = requestParts(requestOrHeaders);
      const theMethod = method ?? parts.method;
      if (typeof theMethod !== "string" || theMethod === "") {
        throw new TypeError("torii-edge: no request method: pass a request or `method`");
      }
      const theUrl = url === undefined ? boundUrl(audience, parts.target) : String(url instanceof URL ? url.href : url);
      if (theUrl === undefined) throw new TypeError("torii-edge: no request URL: pass a request or `url`");
      const now = secondsOf(currentDate);
      const assertion = parts.header(EDGE_ASSERTION_HEADER);
      if (assertion === undefined || assertion === "") {
        throw new ToriiError("missing_token", "no x-torii-edge-assertion header: the request did not come through the edge");
      }
      // Every identity header the request carries; the core checks them against `ihash`.
      const identity = [];
      for (const name of IDENTITY_HEADERS) {
        const value = parts.header(name);
        if (value !== undefined) identity.push([name, value]);
      }
      const identityJson = JSON.stringify(identity);
      const claimsHeader = parts.header(CLAIMS_HEADER) ?? "";
      await withVerifier((v) => {
        try {
          return v.verify(assertion, theMethod, theUrl, identityJson, now);
        } catch (e) {
          throw toToriiError(e);
        }
      });
      if (claimsHeader === "") return null;
      try {
        return JSON.parse(base64urlText(claimsHeader));
      } catch (cause) {
        throw new ToriiError("malformed_token", "x-torii-claims is not base64url JSON", { cause });
      }
    },
    /** How many JWKS fetches were started (remote key sets only). */
    get jwksFetches() {
      return remote?.fetchCount;
    },
  });
}

const memoAssertionVerifier = memoized(createEdgeAssertionVerifier);

/**
 * One-shot form of `createEdgeAssertionVerifier(options).verify(requestOrHeaders, options)`
 * (verifiers, and so JWKS caches, are reused across calls with equal options).
 */
export async function verifyEdgeAssertion(requestOrHeaders, options) {
  if (!options || typeof options !== "object") throw new TypeError("torii-edge: options are required");
  const { url, method, currentDate } = options;
  return memoAssertionVerifier(options).verify(requestOrHeaders, { url, method, currentDate });
}

// ------------------------------------------------------------------ templates

function templateText(template) {
  if (typeof template === "string") return template;
  if (template && typeof template === "object" && !Array.isArray(template)) return JSON.stringify(template);
  throw new TypeError("torii-edge: a template is JSON text or an object");
}

function budgetOption(budget) {
  if (budget === undefined) return undefined;
  if (!(Number.isSafeInteger(budget) && budget >= 0)) {
    throw new TypeError("torii-edge: `budget` must be a non-negative integer number of bytes");
  }
  return budget;
}

/**
 * Validates a JWT template as the edge does when it is saved (strict JSON object ≤ 4 KiB,
 * no reserved claims, known shortcodes, worst-case claims size within `budget`, default
 * 1200 bytes; `lifetime` in seconds when given). Resolves nothing: returns
 * `{ valid: true, worstCaseSize }` or `{ valid: false, error }`, `error` being a
 * ToriiError with the core's `code` and the RFC 6901 `pointer` of the offending value.
 */
export function validateTemplate(template, { budget, lifetime } = {}) {
  const text = templateText(template);
  if (lifetime !== undefined && typeof lifetime !== "number") {
    throw new TypeError("torii-edge: `lifetime` must be a number of seconds");
  }
  try {
    return { valid: true, worstCaseSize: wasmValidateTemplate(text, budgetOption(budget), lifetime) };
  } catch (e) {
    const error = toToriiError(e);
    if (!(error instanceof ToriiError)) throw error;
    return { valid: false, error };
  }
}

/**
 * Renders a template's custom claims for `user` exactly as the edge mints them. `user`:
 * `{ id, email?, email_verified?, first_name?, last_name?, name?, public_metadata?,
 * unsafe_metadata?, private_metadata? }` (camelCase accepted). Throws a ToriiError: a
 * template code with `pointer`, or a user code (`invalid_user_field`,
 * `metadata_too_large`, `metadata_too_deep`) with `field`.
 */
export function renderTemplate(template, user, { budget } = {}) {
  const text = templateText(template);
  if (!user || typeof user !== "object" || Array.isArray(user)) {
    throw new TypeError("torii-edge: `user` must be an object with at least an `id`");
  }
  try {
    return JSON.parse(wasmRenderTemplate(text, JSON.stringify(user), budgetOption(budget)));
  } catch (e) {
    throw toToriiError(e);
  }
}
