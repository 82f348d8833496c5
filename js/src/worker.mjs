// Workers entry (workerd, wrangler, Miniflare): the .wasm import is a compiled
// WebAssembly.Module (wrangler's default CompiledWasm rule), instantiated synchronously.
import wasmModule from "../pkg/torii_edge_bg.wasm";
import { initSync } from "../pkg/torii_edge.js";
import { loadCore } from "./core.mjs";

initSync({ module: wasmModule });
loadCore();

export * from "./lib.mjs";
export * from "./clients.mjs";
