// The runtime's native Ed25519, for the signature equation only: `node:crypto` in Node
// (and Deno, Bun), WebCrypto (`crypto.subtle`) in Workers and browsers. Every decision
// stays in the wasm core: before a signature reaches the primitive the core has checked
// the token's structure, `typ`, key (validated when the set was loaded), `alg`, and the
// strict encoding (`S < L`, `R` not of small order: src/crypto/strict.rs); after it, the
// core checks the claims. The primitive only answers "does this 64-byte signature verify
// over these bytes with this key".
//
// The entry point picks the provider (useEd25519). Before its first use a provider must
// pass a known-answer test (RFC 8037 A.4, and the same signature over another message,
// and S + L); one that fails it, throws, or is missing leaves verification to the core's
// own (Rust) backend, as does any error of a single call.

/** RFC 8037 Appendix A.4: the Ed25519 public key, signing input and signature. */
const KAT = {
  x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
  input: "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
  signature: "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
};
// The group order L, little-endian.
const ORDER = "7dPVXBpjEljWnPei3vneFAAAAAAAAAAAAAAAAAAAABA";

/** Bytes of a base64url string (no padding). */
export function base64urlBytes(value) {
  const b64 = value.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Ed25519 through `node:crypto` (synchronous): pass `{ createPublicKey, verify }`. */
export function nodeEd25519({ createPublicKey, verify }) {
  return {
    name: "node:crypto",
    sync: true,
    importKey: (x) => createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }),
    verify: (key, signature, message) => verify(null, message, key, signature) === true,
  };
}

/** Ed25519 through WebCrypto (asynchronous): pass `crypto.subtle`. */
export function webCryptoEd25519(subtle) {
  return {
    name: "webcrypto",
    sync: false,
    importKey: (x) => subtle.importKey("raw", base64urlBytes(x), { name: "Ed25519" }, false, ["verify"]),
    verify: async (key, signature, message) => (await subtle.verify({ name: "Ed25519" }, key, signature, message)) === true,
  };
}

const isThenable = (v) => v !== null && typeof v === "object" && typeof v.then === "function";
/** `f(value)` now, or once `value` settles when it is a promise. */
const then = (value, f) => (isThenable(value) ? value.then(f) : f(value));

/**
 * The known-answer test: the RFC's signature verifies, the same signature over another
 * message does not, nor does it with S + L (what a lax primitive could accept; the core
 * refuses it before any primitive runs, but a primitive this wrong is not used at all).
 * `true`, `false`, or a promise of either; never throws.
 */
function selfTest(provider) {
  try {
    const message = new TextEncoder().encode(KAT.input);
    const other = message.slice();
    other[other.length - 1] ^= 1;
    const signature = base64urlBytes(KAT.signature);
    const malleated = signature.slice();
    const order = base64urlBytes(ORDER);
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = malleated[32 + i] + order[i] + carry;
      malleated[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    const outcome = then(provider.importKey(KAT.x), (key) => {
      const answers = [provider.verify(key, signature, message), provider.verify(key, signature, other), provider.verify(key, malleated, message)];
      const judge = (a) => a[0] === true && a[1] === false && a[2] === false;
      return answers.some(isThenable) ? Promise.all(answers).then(judge) : judge(answers);
    });
    return isThenable(outcome) ? Promise.resolve(outcome).catch(() => false) : outcome;
  } catch {
    return false;
  }
}

/** Signature checks by backend, since load (for tests and diagnostics). */
export const ed25519Counts = { native: 0, core: 0 };

/**
 * A selector for `provider` (`null`: none): a function returning the provider once it
 * passed its known-answer test, `null` when there is none or it failed, or a promise of
 * one of those while an asynchronous test runs. Each selector tests once.
 */
export function tested(provider) {
  if (!provider) {
    const none = () => null;
    none.backend = () => "core";
    return none;
  }
  let state = "untested";
  let ready = null;
  const select = () => {
    if (state === "ok") return provider;
    if (state === "failed") return null;
    if (state === "testing") return ready;
    const settle = (passed) => {
      state = passed === true ? "ok" : "failed";
      return passed === true ? provider : null;
    };
    const result = selfTest(provider);
    if (!isThenable(result)) return settle(result);
    state = "testing";
    ready = result.then(settle);
    return ready;
  };
  select.backend = () => (state === "ok" ? provider.name : state === "failed" ? "core" : "untested");
  return select;
}

let selected = tested(null);

/** Sets the package's native provider (`null`: the core's backend only); the entry points call it. */
export function useEd25519(provider) {
  selected = tested(provider);
}

/** The package's provider now (see `tested`). */
export function nativeEd25519() {
  return selected();
}

/** Where signatures go now: "node:crypto", "webcrypto", "core", or "untested" (before the first). */
export function ed25519Backend() {
  return selected.backend();
}
