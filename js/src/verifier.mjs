// The token verifier of one key set and one policy: the wasm core's Verifier, the
// runtime's native Ed25519 for the signature equation (ed25519.mjs), and an index of the
// tokens the core's cache holds. Not part of the package's API (lib.mjs wraps it).
import { Verifier as WasmVerifier } from "../pkg/torii_edge.js";
import { TOKEN_CACHE } from "./core.mjs";
import { ed25519Counts, nativeEd25519 } from "./ed25519.mjs";
import { toToriiError } from "./errors.mjs";

/**
 * One key set under one policy: the core's verifier (wasm) with the runtime's native
 * Ed25519 for the signature equation, and an index of the tokens the core's cache holds.
 *
 * A first-seen token, with a synchronous primitive (node:crypto): one call into the core,
 * `verifyWith`, which runs every check before the signature (the strict encoding
 * included), calls back with the key index, signature and signing input, and checks the
 * claims (the token is cached). With an asynchronous one (WebCrypto): `prepare` in the
 * core (the same checks; it names the key and bytes), the primitive, then `complete` in
 * the core. Keys are imported once per verifier. No usable native Ed25519, or a primitive
 * that fails on a call: the core's backend computes the equation.
 *
 * A repeat: the exact input string finds the ticket the core issued for its cache entry,
 * and the core's `recheck` decides (the entry still cached, for this verifier, its time
 * claims checked at `now`); the claims come back from the JSON the core returned for it.
 */
export class TokenVerifier {
  /** `ed25519`: the native provider's selector (ed25519.mjs `tested`); default the package's. */
  constructor(jwksText, policy, { ed25519 = nativeEd25519 } = {}) {
    this.ed25519 = ed25519;
    try {
      this.core = new WasmVerifier(jwksText, policy);
    } catch (e) {
      throw toToriiError(e);
    }
    /** input string -> { ticket, json }, oldest first, bounded like the core's cache. */
    this.hits = new Map();
    this.hitBytes = 0;
    /** key index -> the provider's imported key (or its promise), per provider. */
    this.keys = new Map();
    this.keysOf = null;
  }

  /** The claims, or a promise of them; throws a ToriiError. */
  verify(input, now) {
    const hit = this.hits.get(input);
    if (hit !== undefined) {
      let fresh;
      try {
        fresh = this.core.recheck(hit.ticket, now);
      } catch (e) {
        this.forget(input);
        throw toToriiError(e);
      }
      if (fresh) return JSON.parse(hit.json);
      this.forget(input);
    }
    const native = this.ed25519();
    if (native === null || native.sync === true) {
      // One call: the core calls back for the signature equation, synchronously.
      let json;
      try {
        json = this.core.verifyWith(input, now, this.callback(native));
      } catch (e) {
        throw toToriiError(e);
      }
      return this.remember(input, json, this.core.lastTicket);
    }
    return this.verifyAsync(input, now, native);
  }

  /** The synchronous callback the core computes the signature equation with. */
  callback(provider) {
    if (this.callbackOf !== provider || this.callbackFn === undefined) {
      this.callbackOf = provider;
      this.callbackFn = (index, signature, message) => {
        const valid = this.check(provider, index, signature, message);
        if (typeof valid === "boolean") {
          ed25519Counts.native += 1;
          return valid;
        }
        ed25519Counts.core += 1;
        return undefined; // the core's backend decides
      };
    }
    return this.callbackFn;
  }

  /** With an asynchronous primitive (WebCrypto): `prepare`, the primitive, `complete`. */
  verifyAsync(input, now, native) {
    let prepared;
    try {
      prepared = this.core.prepare(input, now);
    } catch (e) {
      throw toToriiError(e);
    }
    let pending = false;
    try {
      const index = prepared.keyIndex;
      if (index < 0) return this.remember(input, prepared.claims, prepared.ticket);
      const data = prepared.data();
      const signature = data.subarray(0, 64);
      const message = data.subarray(64);
      const answer = typeof native.then === "function" ? native.then((p) => this.check(p, index, signature, message)) : this.check(native, index, signature, message);
      if (typeof answer === "boolean" || answer === undefined) return this.complete(input, prepared, answer, now);
      pending = true;
      return answer
        .then(
          (valid) => this.complete(input, prepared, valid, now),
          () => this.complete(input, prepared, undefined, now),
        )
        .finally(() => prepared.free());
    } finally {
      if (!pending) prepared.free();
    }
  }

  /**
   * The provider's answer (a boolean, or a promise of one), or `undefined` to leave it to
   * the core's backend (no provider, or the provider failed: never a verdict).
   */
  check(provider, index, signature, message) {
    if (provider === null) return undefined;
    try {
      const key = this.key(provider, index);
      const run = (k) => {
        const valid = provider.verify(k, signature, message);
        return typeof valid === "boolean" ? valid : valid.then((v) => (typeof v === "boolean" ? v : undefined));
      };
      if (typeof key?.then !== "function") return run(key);
      return key.then(run).catch(() => {
        this.keys.delete(index);
        return undefined;
      });
    } catch {
      this.keys.delete(index);
      return undefined;
    }
  }

  /** The key at `index` imported into `provider` (once per verifier and provider). */
  key(provider, index) {
    if (this.keysOf !== provider) {
      this.keys.clear();
      this.keysOf = provider;
    }
    let key = this.keys.get(index);
    if (key === undefined) {
      const x = this.core.keyX(index);
      if (x === undefined) throw new Error("no such key");
      key = provider.importKey(x);
      this.keys.set(index, key);
    }
    return key;
  }

  complete(input, prepared, valid, now) {
    if (valid === undefined) ed25519Counts.core += 1;
    else ed25519Counts.native += 1;
    let json;
    try {
      json = this.core.complete(prepared, valid, now);
    } catch (e) {
      throw toToriiError(e);
    }
    return this.remember(input, json, prepared.ticket);
  }

  /** Indexes the core's cache entry `ticket` by `input`; returns the claims. */
  remember(input, json, ticket) {
    if (ticket > 0) {
      this.forget(input);
      const bytes = input.length + json.length + 64;
      while (this.hits.size > 0 && (this.hits.size >= TOKEN_CACHE.entries || this.hitBytes + bytes > TOKEN_CACHE.bytes)) {
        this.forget(this.hits.keys().next().value);
      }
      if (bytes <= TOKEN_CACHE.bytes) {
        this.hits.set(input, { ticket, json, bytes });
        this.hitBytes += bytes;
      }
    }
    return JSON.parse(json);
  }

  forget(input) {
    const hit = this.hits.get(input);
    if (hit !== undefined) {
      this.hits.delete(input);
      this.hitBytes -= hit.bytes;
    }
  }
}
