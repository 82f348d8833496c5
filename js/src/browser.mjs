// Browser (and default) entry: the .wasm is fetched by URL, relative to this module, and
// instantiated before the module finishes loading (top-level await).
import init from "../pkg/torii_edge.js";
import { loadCore } from "./core.mjs";

await init({ module_or_path: new URL("../pkg/torii_edge_bg.wasm", import.meta.url) });
loadCore();

export * from "./lib.mjs";
export * from "./clients.mjs";
