// Node entry: the wasm bytes are read from the package folder and instantiated
// synchronously (the only thing this module does at import).
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { initSync } from "../pkg/torii_edge.js";
import { loadCore } from "./core.mjs";
import { nodeEd25519, useEd25519 } from "./ed25519.mjs";

initSync({ module: readFileSync(new URL("../pkg/torii_edge_bg.wasm", import.meta.url)) });
loadCore();
// Signatures: node:crypto's Ed25519 (the core's backend if it fails its known-answer test).
useEd25519(nodeEd25519({ createPublicKey, verify }));

export * from "./lib.mjs";
export * from "./clients.mjs";
