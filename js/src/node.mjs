// Node entry: the wasm bytes are read from the package folder and instantiated
// synchronously (the only thing this module does at import).
import { readFileSync } from "node:fs";
import { initSync } from "../pkg/torii_edge.js";
import { loadCore } from "./core.mjs";

initSync({ module: readFileSync(new URL("../pkg/torii_edge_bg.wasm", import.meta.url)) });
loadCore();

export * from "./lib.mjs";
export * from "./clients.mjs";
