// Workers entry (workerd, wrangler, Miniflare): the .wasm import is a compiled
// WebAssembly.Module (wrangler's default CompiledWasm rule), instantiated synchronously.
import wasmModule from "../pkg/torii_edge_bg.wasm";
import { initSync } from "../pkg/torii_edge.js";
import { loadCore } from "./core.mjs";
import { useEd25519, webCryptoEd25519 } from "./ed25519.mjs";

initSync({ module: wasmModule });
loadCore();
// Signatures: WebCrypto's Ed25519 where it exists (else, or if it fails its known-answer
// test, the core's backend).
useEd25519(globalThis.crypto?.subtle ? webCryptoEd25519(globalThis.crypto.subtle) : null);

export * from "./lib.mjs";
export * from "./clients.mjs";
