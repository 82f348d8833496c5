// The constants the npm package shares with the Rust core, read from the wasm module
// (src/js/tables.rs `coreConstants`) instead of copied: `loadCore()` fills them, and every entry
// point (node.mjs, worker.mjs, browser.mjs, cjs.mjs) calls it once the module is
// instantiated, before its own evaluation ends. lib.mjs re-exports the (live) bindings.
import { coreConstants } from "../pkg/torii_edge.js";

/** Largest JWKS document accepted, in bytes (the core's `MAX_JWKS_BYTES`). */
export let MAX_JWKS_BYTES;

/** The JWKS cache policy, in seconds: the core's `CacheConfig::default()`. */
export let DEFAULT_CACHE_CONFIG;

/** The identity headers the edge assertion binds (`ihash`), in their canonical order. */
export let IDENTITY_HEADERS;

/** The bounds of the core's verified-token cache (`DEFAULT_CACHE_ENTRIES`, `DEFAULT_CACHE_BYTES`). */
export let TOKEN_CACHE;

/** Reads the core's constants (the wasm module must be instantiated). */
export function loadCore() {
  const core = JSON.parse(coreConstants());
  MAX_JWKS_BYTES = core.maxJwksBytes;
  IDENTITY_HEADERS = Object.freeze([...core.identityHeaders]);
  DEFAULT_CACHE_CONFIG = Object.freeze({ ...core.defaultCacheConfig });
  TOKEN_CACHE = Object.freeze({ ...core.tokenCache });
}
