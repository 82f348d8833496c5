// Source of the CommonJS entry (dist/node.cjs, bundled by esbuild in `make -C js`): like
// node.mjs, with the wasm path from __dirname (dist/) since CommonJS has no import.meta.
// `require("torii-edge")` gets its own copy of the classes: a ToriiError from the ESM
// entry is not `instanceof` the CommonJS one (check `.code`/`.name` across the two).
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initSync } from "../pkg/torii_edge.js";
import { loadCore } from "./core.mjs";
import { nodeEd25519, useEd25519 } from "./ed25519.mjs";

initSync({ module: readFileSync(join(__dirname, "..", "pkg", "torii_edge_bg.wasm")) });
loadCore();
// Signatures: node:crypto's Ed25519 (the core's backend if it fails its known-answer test).
useEd25519(nodeEd25519({ createPublicKey, verify }));

export * from "./lib.mjs";
export * from "./clients.mjs";
