#!/usr/bin/env node
// Where the time of one npm `verify` goes: a V8 CPU profile (node:inspector, in-process)
// of `createVerifier().verify` over N first-seen tokens, or N times one token (the
// verified-token cache), printed as the top frames by self time. Not a benchmark (the
// profiler slows everything down alike): bench/verify.mjs gives the figures.
//
//   node js/bench/profile.mjs [--case first|repeat] [--n 3000] [--top 15] [--out file.cpuprofile]
//
// The shipped wasm has no symbol names (strip = true): its frames show as wasm-function[N].
// For names, build the same code unstripped and bind it into a copy of js/ (here /tmp/p):
//   CARGO_PROFILE_RELEASE_STRIP=false cargo build --locked --release --lib \
//     --target wasm32-unknown-unknown --no-default-features --features js,dalek --target-dir target/js-prof
//   mkdir -p /tmp/p && cp -r js/src js/bench js/package.json /tmp/p && ln -s "$PWD/js/node_modules" /tmp/p/
//   .tools/bin/wasm-bindgen --target web --out-dir /tmp/p/pkg --out-name torii_edge \
//     target/js-prof/wasm32-unknown-unknown/release/torii_edge.wasm
//   node /tmp/p/bench/profile.mjs --case repeat --n 30000
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { parseArgs } from "node:util";
import { createVerifier } from "../src/node.mjs";
import { ISSUER, jwks, mint } from "./tokens.mjs";

const { values } = parseArgs({
  options: {
    case: { type: "string", default: "first" },
    n: { type: "string", default: "3000" },
    top: { type: "string", default: "15" },
    out: { type: "string" },
  },
});
const N = Number(values.n);
const repeat = values.case === "repeat";
if (!repeat && values.case !== "first") throw new Error("--case is first or repeat");
const tokens = Array.from({ length: repeat ? 1 : N + 200 }, (_, i) => mint(i));
const verifier = createVerifier({ issuer: ISSUER, jwks });
const at = (i) => tokens[repeat ? 0 : i];
for (let i = 0; i < 200; i++) await verifier.verify(at(i)); // warm-up (JIT, caches)

const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 50 });
await session.post("Profiler.start");
for (let i = 0; i < N; i++) await verifier.verify(at(200 + i));
const { profile } = await session.post("Profiler.stop");
session.disconnect();
if (values.out) writeFileSync(values.out, JSON.stringify(profile));

// Self time per frame (function name + script + line), from the samples.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const ticks = new Map();
for (const id of profile.samples) ticks.set(id, (ticks.get(id) ?? 0) + 1);
const frames = new Map();
let total = 0;
for (const [id, count] of ticks) {
  const { callFrame: f } = byId.get(id);
  const script = f.url ? f.url.replace(/^.*\/(js\/|node_modules\/)?/, "") : "";
  const name = `${f.functionName || "(anonymous)"} ${script}${f.url ? `:${f.lineNumber + 1}` : ""}`.trim();
  frames.set(name, (frames.get(name) ?? 0) + count);
  total += count;
}
const us = (profile.endTime - profile.startTime) / N;
console.log(`${values.case}: ${N} verifies, ${us.toFixed(1)} µs/op under the profiler, ${total} samples`);
console.log("| self % | frame |");
console.log("|---:|---|");
for (const [name, count] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`| ${((100 * count) / total).toFixed(1)} | ${name} |`);
}
