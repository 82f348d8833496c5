// Native Ed25519 (node:crypto, WebCrypto) against the core's own backend: the Wycheproof
// vectors and RFC 8037 A.4 through every backend, random valid and tampered tokens through
// a verifier per backend (same verdict, same error code, first-seen and repeated), the
// strict checks running before any native call, the known-answer test refusing a broken
// primitive, and the verified-token index (repeats, expiry, eviction) deciding as the core.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, randomBytes, sign, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { createVerifier, ToriiError } from "../src/node.mjs";
import { ed25519Verify } from "../pkg/torii_edge.js";
import { ed25519Backend, ed25519Counts, nodeEd25519, tested, webCryptoEd25519 } from "../src/ed25519.mjs";
import { TokenVerifier } from "../src/verifier.mjs";
import { ISS, NOW, at, claims, newKey, signToken } from "./helpers.mjs";

const vectors = (name) => JSON.parse(readFileSync(new URL(`../../tests/data/vectors/${name}`, import.meta.url), "utf8"));
const hex = (s) => Buffer.from(s, "hex");
// Ed25519's group order L, little-endian; the canonical encodings of the small-order points.
const L = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
].map(hex);

/** Whether a signature's encoding is strict (S < L, R not of small order), computed here. */
function strictEncoding(sig) {
  const s = sig.subarray(32);
  let below = false;
  for (let i = 31; i >= 0; i--) {
    if (s[i] !== L[i]) {
      below = s[i] < L[i];
      break;
    }
  }
  const r = sig.subarray(0, 32);
  return below && !SMALL_ORDER.some((p) => Buffer.compare(Buffer.from(r), p) === 0);
}

const node = nodeEd25519({ createPublicKey, verify });
const web = webCryptoEd25519(globalThis.crypto.subtle);

/**
 * A provider that delegates to `inner` and records what reached it; `select` is its
 * selector, its known-answer test already passed (and not recorded).
 */
async function spy(inner) {
  const calls = [];
  const provider = { ...inner, name: `spy(${inner.name})`, verify: (key, s, m) => (calls.push(Buffer.from(s)), inner.verify(key, s, m)) };
  const select = tested(provider);
  assert.equal(await select(), provider);
  calls.length = 0;
  return { calls, provider, select };
}

test("the Node entry verifies with node:crypto (its known-answer test passed)", async () => {
  const key = newKey();
  const v = createVerifier({ issuer: ISS, jwks: { keys: [key.jwk] } });
  const before = { ...ed25519Counts };
  const t = signToken(key, { alg: "EdDSA", kid: key.kid }, claims({ jti: "entry" }));
  assert.equal((await v.verify(t, { currentDate: at(NOW) })).jti, "entry");
  assert.equal(ed25519Backend(), "node:crypto");
  assert.equal(ed25519Counts.native, before.native + 1);
  assert.equal(ed25519Counts.core, before.core);
  // The repeat is a cache hit: no signature at all.
  await v.verify(t, { currentDate: at(NOW) });
  assert.equal(ed25519Counts.native, before.native + 1);
});

test("a primitive that fails the known-answer test is never used; the core's backend is", async () => {
  const yes = { ...node, name: "accepts-anything", verify: () => true };
  const no = { ...node, name: "refuses-anything", verify: () => false };
  const throws = { ...node, name: "throws", importKey: () => { throw new Error("no Ed25519 here"); } };
  const lax = { ...node, name: "accepts S + L", verify: (key, s, m) => node.verify(key, s, m) || !strictEncoding(Buffer.from(s)) };
  for (const p of [yes, no, throws, lax]) {
    const select = tested(p);
    assert.equal(select(), null, p.name);
    assert.equal(select.backend(), "core", p.name);
  }
  const asyncBroken = { ...web, name: "async-accepts-anything", verify: async () => true };
  const select = tested(asyncBroken);
  assert.equal(select.backend(), "untested");
  assert.equal(await select(), null);
  assert.equal(select.backend(), "core");
  assert.equal(await tested(web)(), web);
  assert.equal(tested(node)(), node);
  // A verifier whose primitive failed its test still verifies, with the core's backend.
  const key = newKey();
  const v = new TokenVerifier(JSON.stringify({ keys: [key.jwk] }), JSON.stringify({ issuer: ISS }), { ed25519: tested(yes) });
  const t = signToken(key, { alg: "EdDSA", kid: key.kid }, claims());
  assert.equal(v.verify(t, NOW).sub, "user_1");
  const forged = `${t.slice(0, -8)}AAAAAAAA`;
  assert.throws(() => v.verify(forged, NOW), (e) => e instanceof ToriiError && e.code === "invalid_signature");
});

test("Wycheproof Ed25519, RFC 8037 A.4 and speccheck: node:crypto, WebCrypto and the core agree with the expected result", async () => {
  const doc = vectors("wycheproof/ed25519_test.json");
  const rfc = vectors("rfc8037.json");
  const cases = [];
  for (const group of doc.testGroups) {
    for (const t of group.tests) cases.push({ x: hex(group.publicKey.pk).toString("base64url"), msg: hex(t.msg), sig: hex(t.sig), expected: t.result === "valid", id: `tcId ${t.tcId} ${t.comment} ${t.flags}` });
  }
  assert.equal(cases.length, doc.numberOfTests);
  const [p, m, s] = rfc.jws.compact.split(".");
  cases.push({ x: rfc.public_jwk.x, msg: Buffer.from(`${p}.${m}`), sig: Buffer.from(s, "base64url"), expected: true, id: "RFC 8037 A.4" });
  // "Taming the many EdDSAs" (tests/data/vectors/speccheck): of its twelve edge cases only
  // case 3 (mixed-order key and R, valid under the cofactorless equation) is accepted.
  const speccheck = vectors("speccheck/cases.json");
  assert.equal(speccheck.length, 12);
  speccheck.forEach((k, i) => cases.push({ x: hex(k.pub_key).toString("base64url"), msg: hex(k.message), sig: hex(k.signature), expected: i === 3, id: `speccheck case ${i}` }));
  const nodeSpy = await spy(node);
  let nodeCalls = 0;
  let webCalls = 0;
  for (const c of cases) {
    let core;
    try {
      core = ed25519Verify(c.x, c.msg, c.sig);
    } catch (e) {
      assert.equal(e.code, "invalid_key", c.id);
      core = false; // refused when the set is loaded: no backend ever sees it
      assert.equal(c.expected, false, c.id);
      continue;
    }
    assert.equal(core, c.expected, `core, ${c.id}`);
    // node:crypto, through the core's strict checks (the same seam tokens take).
    const nodeKey = nodeSpy.provider.importKey(c.x);
    const before = nodeSpy.calls.length;
    const viaNode = ed25519Verify(c.x, c.msg, c.sig, (_i, sig, msg) => nodeSpy.provider.verify(nodeKey, sig, msg));
    assert.equal(viaNode, c.expected, `node:crypto, ${c.id}`);
    nodeCalls += nodeSpy.calls.length - before;
    // The strict checks ran first: only strictly encoded signatures reached node:crypto.
    if (c.sig.length !== 64 || !strictEncoding(c.sig)) assert.equal(nodeSpy.calls.length, before, `precheck, ${c.id}`);
    // WebCrypto (asynchronous): the core's strict checks, then the primitive, as the verifier does.
    const strict = ed25519Verify(c.x, c.msg, c.sig, () => true);
    let viaWeb = false;
    if (strict) {
      webCalls += 1;
      viaWeb = await web.verify(await web.importKey(c.x), c.sig, c.msg);
    }
    assert.equal(viaWeb, c.expected, `WebCrypto, ${c.id}`);
  }
  assert.ok(nodeCalls > 100 && webCalls > 100, `the native primitives ran (${nodeCalls}, ${webCalls})`);
  for (const sig of nodeSpy.calls) assert.ok(strictEncoding(sig), "no non-strict signature reached node:crypto");
});

// ------------------------------------------------------------------ tokens

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** A random valid token and tampered variants of it (all first-seen), with what the core says each is. */
function variants(key, i, rng) {
  const header = { alg: rng() < 0.5 ? "EdDSA" : "Ed25519", kid: key.kid, typ: rng() < 0.8 ? "JWT" : undefined };
  const c = claims({ jti: `t${i}_${randomBytes(4).toString("hex")}`, sid: `s_${i}`, org_role: ["admin", "member", "ünïcode"][i % 3], n: i, nested: { a: [i, { b: "x".repeat(i % 9) }] } });
  const valid = signToken(key, header, c);
  const [h, p, s] = valid.split(".");
  const sig = Buffer.from(s, "base64url");
  const flip = Buffer.from(sig);
  flip[Math.floor(rng() * 64)] ^= 1 << Math.floor(rng() * 8);
  const plusL = Buffer.from(sig);
  let carry = 0;
  for (let j = 0; j < 32; j++) {
    const v = plusL[32 + j] + L[j] + carry;
    plusL[32 + j] = v & 0xff;
    carry = v >> 8;
  }
  const smallR = Buffer.concat([SMALL_ORDER[i % SMALL_ORDER.length], sig.subarray(32)]);
  const payload = b64({ ...c, org_role: "owner" });
  const enc = (bytes) => Buffer.from(bytes).toString("base64url");
  const lastChar = s.at(-1) === "A" ? "B" : "A";
  return [
    valid,
    `Bearer ${valid}`,
    `${h}.${p}.${enc(flip)}`,
    `${h}.${p}.${enc(plusL)}`,
    `${h}.${p}.${enc(smallR)}`,
    `${h}.${payload}.${s}`,
    `${b64({ ...header, kid: "nope" })}.${p}.${s}`,
    `${b64({ ...header, alg: "none" })}.${p}.${s}`,
    `${b64({ ...header, typ: "at+jwt" })}.${p}.${s}`,
    `${h}.${p}.${s.slice(0, -1)}${lastChar}`,
    `${h}.${p}`,
    `${h}.${p}.${s}.`,
    signToken(key, header, { ...c, exp: NOW - 120 }),
    signToken(key, header, { ...c, nbf: NOW + 600 }),
    signToken(key, header, { ...c, iss: "https://other.test" }),
    signToken(key, header, { ...c, exp: "soon" }),
    signToken(key, header, "not json"),
    signToken(newKey(key.kid), header, c),
    valid.slice(0, -2),
  ];
}

/** What a verifier says: the claims it returned, or the error code. */
async function verdict(v, input, now = NOW) {
  try {
    return { claims: await v.verify(input, now) };
  } catch (e) {
    assert.ok(e instanceof ToriiError, `not a ToriiError: ${e?.stack ?? e}`);
    return { code: e.code };
  }
}

function seeded(seed) {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

test("random valid and tampered tokens: node:crypto, WebCrypto and the core give the same verdict and code, first-seen and repeated", async () => {
  const keys = [newKey("k1"), newKey("k2"), newKey("k3")];
  const jwks = JSON.stringify({ keys: keys.map((k) => k.jwk) });
  const policy = JSON.stringify({ issuer: ISS });
  const nodeSpy = await spy(node);
  const webSpy = await spy(web);
  const backends = {
    core: new TokenVerifier(jwks, policy, { ed25519: tested(null) }),
    node: new TokenVerifier(jwks, policy, { ed25519: nodeSpy.select }),
    web: new TokenVerifier(jwks, policy, { ed25519: webSpy.select }),
  };
  const rng = seeded(20261201);
  const codes = new Map();
  let n = 0;
  for (let i = 0; i < 40; i++) {
    for (const input of variants(keys[i % 3], i, rng)) {
      for (const round of ["first-seen", "repeated"]) {
        const got = {};
        for (const [name, v] of Object.entries(backends)) got[name] = await verdict(v, input);
        assert.deepEqual(got.node, got.core, `node:crypto vs core, ${round}: ${input}`);
        assert.deepEqual(got.web, got.core, `WebCrypto vs core, ${round}: ${input}`);
        const what = got.core.code ?? "ok";
        codes.set(what, (codes.get(what) ?? 0) + 1);
      }
      n += 1;
    }
  }
  // Every kind of verdict the variants aim at came up.
  for (const code of ["ok", "invalid_signature", "unknown_key", "unsupported_algorithm", "invalid_token_type", "malformed_token", "token_expired", "token_not_yet_valid", "invalid_issuer", "invalid_claim_type"]) {
    assert.ok(codes.get(code) > 0, `no ${code} among ${[...codes.keys()]}`);
  }
  // The 6 checked signatures per valid token reached the primitives, and only strict ones.
  assert.ok(nodeSpy.calls.length >= n / 4 && webSpy.calls.length >= n / 4, `${nodeSpy.calls.length}, ${webSpy.calls.length} of ${n}`);
  for (const sig of [...nodeSpy.calls, ...webSpy.calls]) assert.ok(strictEncoding(sig), "a non-strict signature reached a native primitive");
  // A valid token is checked once per verifier, its repeats never reach the primitive.
  const calls = nodeSpy.calls.length;
  const t = signToken(keys[0], { alg: "EdDSA", kid: "k1" }, claims({ jti: "once" }));
  for (let i = 0; i < 5; i++) assert.equal((await verdict(backends.node, t)).claims.jti, "once");
  assert.equal(nodeSpy.calls.length, calls + 1);
});

test("WebCrypto: concurrent first verifies of one token and of many agree with the core", async () => {
  const key = newKey();
  const jwks = JSON.stringify({ keys: [key.jwk] });
  const policy = JSON.stringify({ issuer: ISS, audience: "api" });
  const webV = new TokenVerifier(jwks, policy, { ed25519: tested(web) });
  const coreV = new TokenVerifier(jwks, policy, { ed25519: tested(null) });
  const one = signToken(key, { alg: "EdDSA", kid: key.kid }, claims({ aud: "api" }));
  const many = Array.from({ length: 20 }, (_, i) => signToken(key, { alg: "EdDSA", kid: key.kid }, claims({ aud: i % 4 ? "api" : "other", jti: `c${i}` })));
  const inputs = [...Array(10).fill(one), ...many, ...many];
  const [web_, core_] = await Promise.all([Promise.all(inputs.map((t) => verdict(webV, t))), Promise.all(inputs.map((t) => verdict(coreV, t)))]);
  assert.deepEqual(web_, core_);
  assert.equal(web_.filter((r) => r.code === "invalid_audience").length, 10);
});

test("repeats: a fresh claims object each time, re-checked at now, expired from the cache, re-verified after eviction", async () => {
  const key = newKey();
  const nodeSpy = await spy(node);
  const v = new TokenVerifier(JSON.stringify({ keys: [key.jwk] }), JSON.stringify({ issuer: ISS }), { ed25519: nodeSpy.select });
  const t = signToken(key, { alg: "EdDSA", kid: key.kid }, claims({ exp: NOW + 100, nested: { a: 1 } }));
  const first = v.verify(t, NOW);
  first.nested.a = 2;
  first.sub = "mallory";
  const again = v.verify(t, NOW + 10);
  assert.deepEqual([again.sub, again.nested.a], ["user_1", 1]);
  assert.equal(nodeSpy.calls.length, 1);
  // The same token as a header value: another input string, the core's hash finds it.
  assert.equal(v.verify(`Bearer ${t}`, NOW).sub, "user_1");
  assert.equal(nodeSpy.calls.length, 1);
  // Past exp + 60 s of skew: refused from the cache (the core re-checks), entry dropped...
  assert.throws(() => v.verify(t, NOW + 160), (e) => e.code === "token_expired");
  assert.equal(nodeSpy.calls.length, 1);
  // ...so the header form's ticket is dead too: verified in full, and refused (not cached)...
  assert.throws(() => v.verify(`Bearer ${t}`, NOW + 160), (e) => e.code === "token_expired");
  assert.equal(nodeSpy.calls.length, 2);
  // ...and at an earlier `now` it is verified in full again.
  assert.equal(v.verify(t, NOW).sub, "user_1");
  assert.equal(nodeSpy.calls.length, 3);
  // A token not yet valid is refused, and valid once its time comes.
  const later = signToken(key, { alg: "EdDSA", kid: key.kid }, claims({ nbf: NOW + 500, exp: NOW + 900 }));
  assert.throws(() => v.verify(later, NOW), (e) => e.code === "token_not_yet_valid");
  assert.equal(v.verify(later, NOW + 500).sub, "user_1");
  assert.equal(v.verify(later, NOW + 501).sub, "user_1");
  // More tokens than the core's cache holds (4096): the oldest is evicted, its ticket
  // dead, and the index follows (bounded the same way): the next repeat is a full verify.
  const seen = nodeSpy.calls.length;
  for (let i = 0; i < 4100; i++) v.verify(signToken(key, { alg: "EdDSA", kid: key.kid }, claims({ jti: `e${i}` })), NOW);
  assert.ok(v.hits.size <= 4096, `index bounded: ${v.hits.size}`);
  assert.equal(nodeSpy.calls.length, seen + 4100);
  assert.equal(v.verify(t, NOW).sub, "user_1");
  assert.equal(nodeSpy.calls.length, seen + 4101);
});

test("a key set change is a new verifier: nothing verified under the old set is a hit", async () => {
  const k1 = newKey("k1");
  const rotated = newKey("k1"); // the same kid, another key
  const t = signToken(k1, { alg: "EdDSA", kid: "k1" }, claims());
  const policy = JSON.stringify({ issuer: ISS });
  const before = new TokenVerifier(JSON.stringify({ keys: [k1.jwk] }), policy, { ed25519: tested(node) });
  assert.equal(before.verify(t, NOW).sub, "user_1");
  const after = new TokenVerifier(JSON.stringify({ keys: [rotated.jwk] }), policy, { ed25519: tested(node) });
  assert.throws(() => after.verify(t, NOW), (e) => e.code === "invalid_signature");
  // A ticket of one verifier means nothing to another (the core checks the scope).
  const [[, hit]] = [...before.hits];
  assert.equal(after.core.recheck(hit.ticket, NOW), false);
  assert.equal(before.core.recheck(hit.ticket, NOW), true);
  assert.equal(before.core.recheck(hit.ticket + 1, NOW), false);
  assert.equal(before.core.recheck(Number.NaN, NOW), false);
});
