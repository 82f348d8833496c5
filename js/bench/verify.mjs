#!/usr/bin/env node
// npm package benchmark (`make bench`, or `make -C js bench`): `verify` of a first-seen
// ~400-byte EdDSA token in Node, torii-edge (wasm) vs `jose.jwtVerify` with a local JWKS,
// in the same run. Every call verifies a token neither side has seen before (distinct
// `jti`, pre-signed), so nothing can be cached per token (one more case repeats one token:
// the verified-token cache); both sides keep their key set
// (torii-edge: the wasm Verifier; jose: createLocalJWKSet, whose imported CryptoKey is
// cached). Cases run round-robin in short batches (short, so load from other processes
// hits every case alike); the median batch gives ns/op, in wall-clock time and in the
// process's CPU time (every thread: jose's WebCrypto verify runs on libuv's pool; CPU
// time leaves out the waits a loaded machine adds, which hit that thread hop most). Two more cases are the physical
// floors: one node:crypto Ed25519 verify of a first-seen token's signing input (KeyObject
// imported once), and one SHA-256 of the token (what a repeat must at least cost).
//
//   node js/bench/verify.mjs [--rounds 300] [--batch 20] [--quick] [--json FILE]
// --quick: 30 rounds x 10 (BENCH_QUICK=1 too), unless --rounds/--batch are given;
// --json FILE: every figure as JSON too (read by benches/report.mjs).
import { createHash, verify } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createLocalJWKSet, jwtVerify } from "jose";
import { createVerifier, verifyToken } from "../src/node.mjs";
import { ISSUER, jwks, mint, publicKey } from "./tokens.mjs";

const { values } = parseArgs({
  options: { rounds: { type: "string" }, batch: { type: "string" }, quick: { type: "boolean" }, json: { type: "string" } },
});
const QUICK = values.quick || !!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== "0";
const ROUNDS = Number(values.rounds ?? (QUICK ? 30 : 300));
const BATCH = Number(values.batch ?? (QUICK ? 10 : 20));
const total = ROUNDS * BATCH + BATCH; // + warm-up
const tokens = Array.from({ length: total }, (_, i) => mint(i));
const size = tokens[0].length;

const torii = createVerifier({ issuer: ISSUER, jwks });
const joseKeys = createLocalJWKSet(jwks);
const joseOptions = { issuer: ISSUER, algorithms: ["EdDSA"], requiredClaims: ["exp", "iss", "sub"] };
const oneShotOptions = { issuer: ISSUER, jwks };

const repeated = createVerifier({ issuer: ISSUER, jwks });
// The floors work on bytes split ahead of time (what the primitive alone costs).
const split = new Map(tokens.map((t) => {
  const dot = t.lastIndexOf(".");
  return [t, { input: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), "base64url") }];
}));
const floorVerify = (t) => {
  const { input, sig } = split.get(t) ?? { input: Buffer.from(t), sig: Buffer.alloc(64) };
  if (!verify(null, input, publicKey, sig)) throw new Error("invalid signature");
  return { sub: "user_2" };
};
const floorHash = (t) => {
  createHash("sha256").update(t).digest();
  return { sub: "user_2" };
};
const cases = [
  { id: "first_seen", name: "torii-edge createVerifier().verify", run: (t) => torii.verify(t), next: 0 },
  { id: "repeat", name: "torii-edge repeated token (verified-token cache)", run: (t) => repeated.verify(t), next: 0, repeat: true },
  { id: "one_shot", name: "torii-edge verifyToken (one-shot)", run: (t) => verifyToken(t, oneShotOptions), next: 0 },
  { id: "jose", name: "jose.jwtVerify, createLocalJWKSet", run: (t) => jwtVerify(t, joseKeys, joseOptions), next: 0 },
  { id: "floor_verify", name: "floor: node:crypto Ed25519 verify (per first-seen token)", run: floorVerify, next: 0, floor: true },
  { id: "floor_hash", name: "floor: SHA-256 of the token, node:crypto (per repeat)", run: floorHash, next: 0, repeat: true, floor: true },
];

// Each case gets its own slice of first-seen tokens; all must verify (and a forged one not).
for (const [i, c] of cases.entries()) {
  c.tokens = c.repeat ? tokens.map(() => tokens[1]) : tokens.map((t, j) => tokens[(j + i * 7919) % total]);
  c.samples = [];
  c.cpu = [];
  const claims = await c.run(c.tokens[0]);
  if ((claims.payload ?? claims).sub !== "user_2") throw new Error(`${c.name} did not verify`);
  const forged = `${c.tokens[0].slice(0, -4)}AAAA`;
  if (!c.floor && await c.run(forged).then(() => true, () => false)) throw new Error(`${c.name} accepted a forged token`);
}
// Warm-up batch, then round-robin.
for (const c of cases) for (let i = 0; i < BATCH; i++) await c.run(c.tokens[c.next++]);
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (let i = 0; i < BATCH; i++) await c.run(c.tokens[c.next++]);
    const used = process.cpuUsage(cpu);
    c.samples.push(((performance.now() - start) * 1e6) / BATCH);
    c.cpu.push(((used.user + used.system) * 1e3) / BATCH);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const joseCase = cases.find((c) => c.name.startsWith("jose"));
const jose = median(joseCase.samples);
const joseCpu = median(joseCase.cpu);
console.log(`npm verify, first-seen ${size}-byte token, Node ${process.version}, ${ROUNDS} rounds x ${BATCH}`);
console.log("| case | ns/op (median) | vs jose | CPU ns/op (median) | CPU vs jose |");
console.log("|---|---:|---:|---:|---:|");
for (const c of cases) {
  const ns = median(c.samples);
  const cpu = median(c.cpu);
  console.log(`| ${c.name} | ${Math.round(ns)} | ${(ns / jose).toFixed(3)}x | ${Math.round(cpu)} | ${(cpu / joseCpu).toFixed(3)}x |`);
}
const of = (prefix, what = "samples") => median(cases.find((c) => c.name.startsWith(prefix))[what]);
const ratio = of("torii-edge createVerifier") / jose;
const repeat = of("torii-edge repeated") / jose;
const floorFirst = of("floor: node:crypto") / jose;
const floorRepeat = of("floor: SHA-256") / jose;
const cpuRatio = (prefix) => (of(prefix, "cpu") / joseCpu).toFixed(3);
console.log(`ratio torii-edge first-seen / jose = ${ratio.toFixed(3)} (target <= 0.8, budget <= 1.5; floor ${floorFirst.toFixed(3)}; CPU time ${cpuRatio("torii-edge createVerifier")}, floor ${cpuRatio("floor: node:crypto")})`);
console.log(`ratio torii-edge repeated / jose first-seen = ${repeat.toFixed(3)} (target <= 0.05; floor ${floorRepeat.toFixed(3)}; CPU time ${cpuRatio("torii-edge repeated")}, floor ${cpuRatio("floor: SHA-256")})`);
if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, JSON.stringify({
    bench: "npm-verify",
    quick: QUICK,
    node: process.version,
    token_bytes: size,
    rounds: ROUNDS,
    batch: BATCH,
    // ns/op medians (wall clock and process CPU time) per case.
    cases: cases.map((c) => ({ id: c.id, name: c.name, ns: median(c.samples), cpu_ns: median(c.cpu) })),
  }, null, 2));
}
if (ratio > 1.5) {
  console.error("over budget: torii-edge verify is more than 1.5x jose.jwtVerify");
  process.exitCode = 1;
}
