// Browser (and default) entry: the .wasm is fetched by URL, relative to this module, and
// instantiated before the module finishes loading (top-level await).
import init from "../pkg/torii_edge.js";
import { loadCore } from "./core.mjs";
import { useEd25519, webCryptoEd25519 } from "./ed25519.mjs";

await init({ module_or_path: new URL("../pkg/torii_edge_bg.wasm", import.meta.url) });
loadCore();
// Signatures: WebCrypto's Ed25519 where it exists (else, or if it fails its known-answer
// test, the core's backend).
useEd25519(globalThis.crypto?.subtle ? webCryptoEd25519(globalThis.crypto.subtle) : null);

export * from "./lib.mjs";
export * from "./clients.mjs";
