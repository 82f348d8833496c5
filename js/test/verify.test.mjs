// Every export of the package, every core error code reaching JS unchanged, the clock
// (currentDate, skew and its cap) and interop with jose.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as jose from "jose";
import * as torii from "../src/node.mjs";
import { createVerifier, verifyToken, ToriiError, errorCodes } from "../src/node.mjs";
import { errorTable } from "../pkg/torii_edge.js";
import { ISS, NOW, at, newKey, signToken, token, claims } from "./helpers.mjs";

const key = newKey("k1");
const other = newKey("k2");
const jwks = { keys: [key.jwk] };
const pinned = { currentDate: at(NOW) };

async function rejects(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ToriiError, `not a ToriiError: ${e}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "ToriiError");
    assert.equal(e.code, code, e.message);
    return true;
  });
}

test("the package exports exactly its API", () => {
  assert.deepEqual(Object.keys(torii).sort(), [
    "CLAIMS_HEADER",
    "DEFAULT_CACHE_CONFIG",
    "DISCOVERY_PATH",
    "EDGE_ASSERTION_HEADER",
    "IDENTITY_HEADERS",
    "JWKS_FETCH_TIMEOUT_MS",
    "JwksCachePolicy",
    "MAX_API_RESPONSE_BYTES",
    "MAX_JWKS_BYTES",
    "REQUEST_TIMEOUT_MS",
    "TOKEN_PATH",
    "TOKEN_REFRESH_MARGIN_SECS",
    "ToriiError",
    "createEdgeAssertionVerifier",
    "createServerClient",
    "createTokenClient",
    "createVerifier",
    "errorCodes",
    "renderTemplate",
    "validateTemplate",
    "verifyEdgeAssertion",
    "verifyToken",
  ]);
  assert.equal(torii.MAX_JWKS_BYTES, 65536);
  assert.deepEqual(torii.IDENTITY_HEADERS, [
    "x-torii-user-id",
    "x-torii-session-id",
    "x-torii-tenant-id",
    "x-torii-issuer",
    "x-torii-org-id",
    "x-torii-org-role",
    "x-torii-aal",
    "x-torii-claims",
  ]);
  assert.equal(torii.JWKS_FETCH_TIMEOUT_MS, 5000);
  assert.deepEqual({ ...torii.DEFAULT_CACHE_CONFIG }, { defaultTtl: 600, minTtl: 60, maxTtl: 86400, cooldown: 30, maxStale: 86400 });
  assert.ok(Object.isFrozen(torii.DEFAULT_CACHE_CONFIG));
});

/** The string literals of `export type <name> = ...;` in index.d.ts. */
function dtsUnion(dts, name) {
  const start = dts.indexOf(`export type ${name} =`);
  assert.ok(start >= 0, name);
  const body = dts.slice(start, dts.indexOf(";", start));
  return [...body.matchAll(/"([a-z_]+)"|\b(\d{3})\b/g)].map((m) => m[1] ?? Number(m[2]));
}

test("errorCodes() is the core's table, and index.d.ts lists exactly its codes and statuses", async () => {
  const table = JSON.parse(errorTable());
  const codes = errorCodes();
  assert.deepEqual(codes, table.map((r) => r.code));
  assert.equal(codes[0], "missing_token");
  for (const c of ["jwks_unavailable", "jwks_fetch_failed", "token_request_failed", "assertion_mismatch", "invalid_template", "misconfigured"]) {
    assert.ok(codes.includes(c), c);
  }
  const { readFileSync } = await import("node:fs");
  const dts = readFileSync(new URL("../index.d.ts", import.meta.url), "utf8");
  // The code union is the table, in its order; the status union its set of statuses.
  assert.deepEqual(dtsUnion(dts, "CoreErrorCode"), codes);
  assert.deepEqual(dtsUnion(dts, "ToriiErrorStatus"), [...new Set(table.map((r) => r.status))].sort((a, b) => a - b));
  for (const sub of ["TemplateErrorCode", "UserErrorCode"]) {
    for (const c of dtsUnion(dts, sub)) assert.ok(codes.includes(c), `${sub}: ${c}`);
  }
  // ToriiError.status is the table's status for every code.
  for (const { code, status, description } of table) {
    assert.equal(new ToriiError(code, "x").status, status, code);
    assert.ok(description.length > 0, code);
  }
  // The core's error table in docs/errors.md agrees too.
  const errorsPage = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  for (const { code, status } of table) assert.ok(errorsPage.includes(`| \`${code}\` | ${status} |`), code);
});

test("createVerifier verifies a bare token and an Authorization header", async () => {
  const v = createVerifier({ issuer: ISS, jwks });
  const t = token(key, { sid: "sess_1", nested: { a: [1, 2.5, "x"] } });
  const c = await v.verify(t, pinned);
  assert.deepEqual(c, claims({ sid: "sess_1", nested: { a: [1, 2.5, "x"] } }));
  assert.deepEqual(await v.verify(`Bearer ${t}`, pinned), c);
  assert.deepEqual(await v.verify(`bearer   ${t} `, pinned), c);
  // JWKS as JSON text, issuer as a list.
  const v2 = createVerifier({ issuer: ["https://other", ISS], jwks: JSON.stringify(jwks) });
  assert.equal((await v2.verify(t, pinned)).sub, "user_1");
});

test("verifyToken is the one-shot form", async () => {
  const t = token(key);
  assert.equal((await verifyToken(`Bearer ${t}`, { issuer: ISS, jwks, ...pinned })).sub, "user_1");
  await rejects(verifyToken(t, { issuer: ISS, jwks, currentDate: at(NOW + 3600) }), "token_expired");
  await rejects(verifyToken(undefined, { issuer: ISS, jwks, ...pinned }), "missing_token");
});

test("ToriiError carries the code, the edge's status and a message", () => {
  const e = new ToriiError("token_expired", "expired");
  assert.equal(e.status, 401);
  assert.equal(new ToriiError("invalid_request", "x").status, 400);
  assert.equal(new ToriiError("invalid_jwks", "x").status, 500);
  assert.equal(new ToriiError("jwks_unavailable", "x", { retryAfter: 7 }).retryAfter, 7);
  assert.equal(new ToriiError("jwks_fetch_failed", "x").status, 503);
  assert.ok(e.stack.includes("ToriiError"));
});

test("every token-phase error code reaches JS unchanged", async () => {
  const v = createVerifier({ issuer: ISS, jwks: { keys: [key.jwk, other.jwk] }, audience: "api", requiredClaims: ["exp", "sub"] });
  const aud = { aud: "api" };
  const cases = {
    missing_token: [undefined, null, "", "   "],
    invalid_request: ["Basic dXNlcg==", "Bearer", "Bearer a b", "Token abc.def.ghi"],
    token_too_large: [`${"a".repeat(9000)}.b.c`],
    malformed_token: ["a.b.c", "abc", token(key, aud).slice(0, -2)],
    unsupported_algorithm: [
      signToken(key, { alg: "none", kid: "k1" }, claims(aud)),
      await new jose.SignJWT(claims(aud)).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(new Uint8Array(32)),
    ],
    unsupported_header: ["jku", "x5u", "jwk", "x5c", "crit"].map((h) =>
      token(key, aud, { [h]: h === "crit" ? ["exp"] : h === "jwk" ? key.jwk : h === "x5c" ? ["AA=="] : "https://evil.test/jwks" }),
    ),
    invalid_token_type: [token(key, aud, { typ: "at+jwt" })],
    unknown_key: [token({ ...other, kid: "nope" }, aud)],
    invalid_signature: [
      signToken(key, { alg: "EdDSA", kid: "k2" }, claims(aud)),
      (() => { const [h, , s] = token(key, aud).split("."); return `${h}.${Buffer.from(JSON.stringify(claims({ ...aud, sub: "admin" }))).toString("base64url")}.${s}`; })(),
    ],
    token_expired: [token(key, { ...aud, exp: NOW - 61 })],
    token_not_yet_valid: [token(key, { ...aud, nbf: NOW + 61 })],
    token_issued_in_future: [token(key, { ...aud, iat: NOW + 61 })],
    invalid_issuer: [token(key, { ...aud, iss: "https://evil.test" }), token(key, { ...aud, iss: `${ISS}/` })],
    invalid_audience: [token(key, { aud: "other" }), token(key, { aud: ["a", "b"] })],
    missing_claim: [token(key, { ...aud, sub: undefined }), token(key, {})],
    invalid_claim_type: [token(key, { ...aud, exp: String(NOW + 60) }), token(key, { aud: 5 }), token(key, { ...aud, sub: 1 })],
  };
  for (const [code, inputs] of Object.entries(cases)) {
    for (const input of inputs) await rejects(v.verify(input, pinned), code);
  }
  // token_too_old needs a maximum age.
  const aged = createVerifier({ issuer: ISS, jwks, maxTokenAge: 60 });
  await rejects(aged.verify(token(key, { iat: NOW - 200 }), pinned), "token_too_old");
  assert.equal((await aged.verify(token(key, { iat: NOW - 100 }), pinned)).sub, "user_1"); // 60 + 60 s skew
  // maxTokenLength lowers the limit.
  const small = createVerifier({ issuer: ISS, jwks, maxTokenLength: 100 });
  await rejects(small.verify(token(key), pinned), "token_too_large");
});

test("key-phase codes: invalid_jwks and invalid_key throw from createVerifier", () => {
  const throwsCode = (fn, code) =>
    assert.throws(fn, (e) => e instanceof ToriiError && e.code === code && e.status === 500);
  throwsCode(() => createVerifier({ issuer: ISS, jwks: { keys: [] } }), "invalid_jwks");
  throwsCode(() => createVerifier({ issuer: ISS, jwks: "{not json" }), "invalid_jwks");
  throwsCode(() => createVerifier({ issuer: ISS, jwks: { keys: [{ ...key.jwk, d: "AAAA" }] } }), "invalid_key");
  throwsCode(() => createVerifier({ issuer: ISS, jwks: { keys: [{ ...key.jwk, x: "short" }] } }), "invalid_key");
});

test("bad options are TypeErrors, not ToriiErrors", () => {
  const bad = [
    undefined,
    {},
    { issuer: "", jwks },
    { issuer: [], jwks },
    { issuer: ISS },
    { issuer: ISS, jwks, jwksUrl: "https://x.test/jwks" },
    { issuer: ISS, jwksUrl: "not a url" },
    { issuer: ISS, jwksUrl: "file:///etc/passwd" },
    { issuer: ISS, jwks, clockTolerance: "30s" },
    { issuer: ISS, jwks, audience: 5 },
    { issuer: ISS, jwks, requiredClaims: "sub" },
    { issuer: ISS, jwks, maxTokenLength: 0 },
    { issuer: ISS, jwks, typ: 1 },
  ];
  for (const o of bad) assert.throws(() => createVerifier(o), TypeError, JSON.stringify(o));
  const v = createVerifier({ issuer: ISS, jwks });
  return Promise.all([
    assert.rejects(v.verify(42, pinned), TypeError),
    assert.rejects(v.verify(token(key), { currentDate: new Date(NaN) }), TypeError),
    assert.rejects(v.verify(token(key), { currentDate: NOW }), TypeError),
  ]);
});

test("currentDate pins the clock; the default is now", async () => {
  const v = createVerifier({ issuer: ISS, jwks, clockTolerance: 0 });
  const t = token(key, { exp: NOW + 100, nbf: NOW - 100, iat: NOW - 100 });
  assert.equal((await v.verify(t, { currentDate: at(NOW + 99) })).sub, "user_1");
  assert.equal((await v.verify(t, { currentDate: new Date((NOW + 99) * 1000 + 999) })).sub, "user_1");
  await rejects(v.verify(t, { currentDate: at(NOW + 100) }), "token_expired");
  await rejects(v.verify(t, { currentDate: at(NOW - 101) }), "token_not_yet_valid");
  // Without currentDate, the real clock: NOW is in the future of this test run (2027).
  const real = Math.floor(Date.now() / 1000);
  assert.equal((await v.verify(token(key, { exp: real + 60, iat: real }))).sub, "user_1");
  await rejects(v.verify(token(key, { exp: real - 5, iat: real - 100 })), "token_expired");
});

test("clock skew is honoured, defaults to 60 s and is capped at 300 s", async () => {
  const expiredBy = (s) => token(key, { exp: NOW - s, iat: NOW - 1000 });
  const dflt = createVerifier({ issuer: ISS, jwks });
  assert.equal((await dflt.verify(expiredBy(59), pinned)).sub, "user_1");
  await rejects(dflt.verify(expiredBy(60), pinned), "token_expired");
  const v120 = createVerifier({ issuer: ISS, jwks, clockTolerance: 120 });
  assert.equal((await v120.verify(expiredBy(119), pinned)).sub, "user_1");
  await rejects(v120.verify(expiredBy(120), pinned), "token_expired");
  const capped = createVerifier({ issuer: ISS, jwks, clockTolerance: 10_000 });
  assert.equal((await capped.verify(expiredBy(299), pinned)).sub, "user_1");
  await rejects(capped.verify(expiredBy(300), pinned), "token_expired");
  await rejects(capped.verify(expiredBy(5000), pinned), "token_expired");
  const none = createVerifier({ issuer: ISS, jwks, clockTolerance: 0 });
  await rejects(none.verify(expiredBy(0), pinned), "token_expired");
  await rejects(none.verify(token(key, { nbf: NOW + 1 }), pinned), "token_not_yet_valid");
  assert.equal((await v120.verify(token(key, { nbf: NOW + 119, iat: NOW + 119 }), pinned)).sub, "user_1");
});

test("typ and audience policies", async () => {
  const v = createVerifier({ issuer: ISS, jwks, typ: "at+jwt", audience: ["a", "api"] });
  assert.equal((await v.verify(token(key, { aud: ["x", "api"] }, { typ: "application/at+jwt" }), pinned)).sub, "user_1");
  await rejects(v.verify(token(key, { aud: "api" }, { typ: "JWT" }), pinned), "invalid_token_type");
  await rejects(v.verify(token(key, { aud: "api" }, { typ: undefined }), pinned), "invalid_token_type");
});

test("interop: tokens signed by jose verify, with the same claims jose decodes", async () => {
  for (const alg of ["EdDSA", "Ed25519"]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { crv: "Ed25519", extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    jwk.kid = await jose.calculateJwkThumbprint(jwk);
    const t = await new jose.SignJWT({ sid: "sess_1", org_role: "admin", n: [1, 2.5, "x"] })
      .setProtectedHeader({ alg, kid: jwk.kid, typ: "JWT" })
      .setIssuer(ISS).setSubject("user_1").setAudience("api").setIssuedAt(NOW).setExpirationTime(NOW + 300)
      .sign(privateKey);
    const c = await createVerifier({ issuer: ISS, audience: "api", jwks: { keys: [jwk] } }).verify(`Bearer ${t}`, pinned);
    assert.deepEqual(c, jose.decodeJwt(t));
  }
});

test("interop: what the package accepts, jose accepts with the same claims", async () => {
  const t = token(key, { aud: "api", org: "org_1" });
  const ours = await createVerifier({ issuer: ISS, audience: "api", jwks }).verify(t, pinned);
  const { payload } = await jose.jwtVerify(t, jose.createLocalJWKSet(jwks), { issuer: ISS, audience: "api", currentDate: at(NOW) });
  assert.deepEqual(ours, payload);
  // ...and a tampered token both refuse.
  const bad = t.slice(0, -4) + (t.endsWith("AAAA") ? "BBBB" : "AAAA");
  await rejects(createVerifier({ issuer: ISS, jwks }).verify(bad, pinned), "invalid_signature");
  await assert.rejects(jose.jwtVerify(bad, jose.createLocalJWKSet(jwks), { currentDate: at(NOW) }));
});

test("an invalid clock never reaches the core as time 0", async () => {
  // currentDate: every entry point refuses a NaN / invalid / non-Date value.
  const { verifyEdgeAssertion, createEdgeAssertionVerifier, createServerClient, JwksCachePolicy } = torii;
  const overridden = new Date(NaN);
  overridden.getTime = () => NOW * 1000; // its time value is still NaN
  for (const currentDate of [new Date(NaN), new Date(Infinity), NaN, Infinity, NOW, "2027-01-15", null, overridden]) {
    const what = String(currentDate);
    await assert.rejects(verifyToken(token(key), { issuer: ISS, jwks, currentDate }), TypeError, what);
    await assert.rejects(createVerifier({ issuer: ISS, jwks }).verify(token(key), { currentDate }), TypeError, what);
    const req = { method: "GET", url: "/", headers: { "x-torii-edge-assertion": "x.y.z" } };
    await assert.rejects(verifyEdgeAssertion(req, { issuer: ISS, audience: "https://api.example.test", jwks, currentDate }), TypeError, what);
    await assert.rejects(createEdgeAssertionVerifier({ issuer: ISS, audience: "https://api.example.test", jwks }).verify(req, { currentDate }), TypeError, what);
  }
  // The JWKS cache's clock (`now`, and JwksCachePolicy's `now` arguments) likewise: a NaN
  // reading would make the core decide at time 0 (e.g. a set stored "at 0" never ages).
  let fetches = 0;
  const fetch = async () => {
    fetches += 1;
    return Response.json({ keys: [key.jwk] });
  };
  const real = Math.floor(Date.now() / 1000);
  const fresh = token(key, { exp: real + 600, iat: real });
  for (const bad of [NaN, Infinity, -Infinity, "1", undefined]) {
    const v = createVerifier({ issuer: ISS, jwksUrl: "https://x.test/jwks", fetch, now: () => bad });
    await assert.rejects(v.verify(fresh), TypeError, String(bad));
  }
  assert.equal(fetches, 0, "nothing fetched on a broken clock");
  assert.throws(() => createVerifier({ issuer: ISS, jwksUrl: "https://x.test/jwks", now: 5 }), TypeError);
  const client = createServerClient({
    baseUrl: "https://edge.example.test",
    applicationId: "app",
    now: () => NaN,
    fetch: async (url) => (String(url).endsWith("/jwks") ? fetch() : Response.json({ issuer: ISS, jwks_uri: "https://edge.example.test/jwks" })),
  });
  await assert.rejects(client.verifyToken(`Bearer ${fresh}`), TypeError);
  const policy = new JwksCachePolicy();
  for (const bad of [NaN, Infinity, "5", undefined]) {
    assert.throws(() => policy.lookup(true, bad), TypeError, String(bad));
    assert.throws(() => policy.beginFetch(bad), TypeError, String(bad));
    assert.throws(() => policy.onFetchOk({}, 60, bad), TypeError, String(bad));
  }
  assert.deepEqual(policy.lookup(true, NOW), { kind: "fetch" });
});
