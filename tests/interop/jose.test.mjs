// Interop both ways with panva/jose: tokens from jose verify in the core, and tokens
// from the core verify in jose. The core is driven through `examples/jwt.rs`.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as jose from "jose";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ISS = "https://demo.torii.test";
const NOW = Math.floor(Date.now() / 1000);
let bin;

before(() => {
  execFileSync("cargo", ["build", "--quiet", "--locked", "--example", "jwt"], { cwd: root, stdio: "inherit" });
  const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, "target");
  bin = join(targetDir, "debug", "examples", "jwt");
});

function core(args, input = "") {
  const r = spawnSync(bin, args, { input, encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout.trim() };
}

async function joseKey(extra = {}) {
  const { publicKey, privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), ...extra };
  jwk.kid ??= await jose.calculateJwkThumbprint(jwk);
  const dir = mkdtempSync(join(tmpdir(), "torii-interop-"));
  const jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return { privateKey, jwk, jwksFile };
}

test("a token signed by jose verifies in the core", async () => {
  const { privateKey, jwk, jwksFile } = await joseKey();
  const token = await new jose.SignJWT({ sid: "sess_1", org_role: "admin", nested: { a: [1, 2.5, "x"] } })
    .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid, typ: "JWT" })
    .setIssuer(ISS).setSubject("user_1").setAudience("api").setIssuedAt(NOW).setExpirationTime(NOW + 300)
    .sign(privateKey);
  const r = core(["verify", jwksFile, ISS, String(NOW), "api"], token);
  assert.ok(r.ok, r.out);
  const claims = JSON.parse(r.out);
  assert.equal(claims.sub, "user_1");
  assert.equal(claims.sid, "sess_1");
  assert.deepEqual(claims.nested, { a: [1, 2.5, "x"] });
  assert.deepEqual(claims, jose.decodeJwt(token));
});

test("jose's fully specified alg Ed25519 verifies in the core", async () => {
  const { privateKey, jwk, jwksFile } = await joseKey();
  const token = await new jose.SignJWT({})
    .setProtectedHeader({ alg: "Ed25519", kid: jwk.kid })
    .setIssuer(ISS).setSubject("u").setExpirationTime(NOW + 60).sign(privateKey);
  assert.ok(core(["verify", jwksFile, ISS, String(NOW)], token).ok);
});

test("jose tokens the core must refuse give the right codes", async () => {
  const { privateKey, jwk, jwksFile } = await joseKey();
  const sign = (claims, header = {}) => new jose.SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid, ...header }).sign(privateKey);
  const base = { iss: ISS, sub: "u", exp: NOW + 60 };
  const cases = [
    [await sign({ ...base, exp: NOW - 120 }), "token_expired"],
    [await sign({ ...base, nbf: NOW + 600 }), "token_not_yet_valid"],
    [await sign({ ...base, iss: "https://evil.test" }), "invalid_issuer"],
    [await sign({ ...base, exp: String(NOW + 60) }), "invalid_claim_type"],
    [await sign({ iss: ISS, exp: NOW + 60 }), "missing_claim"],
    [await sign(base, { typ: "at+jwt" }), "invalid_token_type"],
    [await sign(base, { kid: "other" }), "unknown_key"],
    [await sign(base, { jku: "https://evil.test/jwks" }), "unsupported_header"],
  ];
  for (const [token, code] of cases) {
    const r = core(["verify", jwksFile, ISS, String(NOW)], token);
    assert.equal(r.ok, false);
    assert.equal(r.out, `error: ${code}`);
  }
  // A token from another jose key with the same kid fails the signature.
  const other = await joseKey({ kid: jwk.kid });
  const forged = await new jose.SignJWT(base).setProtectedHeader({ alg: "EdDSA", kid: jwk.kid }).sign(other.privateKey);
  assert.equal(core(["verify", jwksFile, ISS, String(NOW)], forged).out, "error: invalid_signature");
});

test("a token signed by the core verifies in jose", async () => {
  const seed = "11".repeat(32);
  const jwks = JSON.parse(core(["jwks", seed]).out);
  const claims = { iss: ISS, sub: "user_2", sid: "sess_2", aud: ["api"], iat: NOW, exp: NOW + 300, meta: { plan: "pro", n: 1.25 } };
  const r = core(["sign", seed, "JWT"], JSON.stringify(claims));
  assert.ok(r.ok, r.out);
  const { payload, protectedHeader } = await jose.jwtVerify(r.out, jose.createLocalJWKSet(jwks), {
    issuer: ISS, audience: "api", algorithms: ["EdDSA"], typ: "JWT", currentDate: new Date(NOW * 1000),
  });
  assert.deepEqual(payload, claims);
  assert.equal(protectedHeader.kid, jwks.keys[0].kid);
  assert.equal(protectedHeader.kid, await jose.calculateJwkThumbprint(jwks.keys[0]));
  // jose agrees the public JWK is a plain Ed25519 key with no private part.
  assert.equal(jwks.keys[0].d, undefined);
  const key = await jose.importJWK(jwks.keys[0], "EdDSA");
  assert.equal(key.type, "public");
});

test("jose rejects a core token once tampered", async () => {
  const seed = "22".repeat(32);
  const jwks = JSON.parse(core(["jwks", seed]).out);
  const token = core(["sign", seed], JSON.stringify({ iss: ISS, sub: "u", exp: NOW + 60 })).out;
  const [h, , s] = token.split(".");
  const evil = `${h}.${jose.base64url.encode(JSON.stringify({ iss: ISS, sub: "admin", exp: NOW + 60 }))}.${s}`;
  await assert.rejects(jose.jwtVerify(evil, jose.createLocalJWKSet(jwks)), { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
});

// Issue 4: every minted token verifies in jose; its typ keeps a template token out of a
// session-token check, in jose as in the core.
function mintInput(extra = {}) {
  return {
    issuer: ISS, tenant: "app_1", session: "sess_9",
    user: {
      id: "user_9", email: "ada@example.com", email_verified: true, first_name: "Ada", last_name: "L",
      public_metadata: { role: "admin", team: { id: 7 } }, unsafe_metadata: { theme: "dark" },
      private_metadata: { marker: "PRIVATE-MARKER-8f3a" },
    },
    lifetime: 300,
    ...extra,
  };
}

test("minted session and template tokens verify in jose", async () => {
  const seed = "44".repeat(32);
  const jwks = jose.createLocalJWKSet(JSON.parse(core(["jwks", seed]).out));
  const opts = { issuer: ISS, algorithms: ["EdDSA"], currentDate: new Date(NOW * 1000) };

  const session = core(["mint", seed, String(NOW)], JSON.stringify(mintInput()));
  assert.ok(session.ok, session.out);
  const s = JSON.parse(session.out);
  const { payload: sp, protectedHeader: sh } = await jose.jwtVerify(s.accessToken, jwks, { ...opts, typ: "JWT" });
  assert.equal(sh.typ, "JWT");
  assert.deepEqual(sp, { iss: ISS, sub: "user_9", pid: "app_1", sid: "sess_9", iat: NOW, exp: NOW + 300 });
  assert.equal(s.expiresAt, new Date((NOW + 300) * 1000).toISOString().replace(/\.000Z$/, "Z"));

  const template = { role: "{{ user.public_metadata.role }}", team: "{{user.public_metadata.team}}", hi: "Hi {{user.first_name}}!" };
  const minted = core(["mint", seed, String(NOW)], JSON.stringify(mintInput({ template, template_name: "team", template_lifetime: 120 })));
  assert.ok(minted.ok, minted.out);
  const t = JSON.parse(minted.out);
  assert.ok(!Buffer.from(t.accessToken.split(".")[1], "base64url").toString().includes("PRIVATE-MARKER"));
  const { payload: tp, protectedHeader: th } = await jose.jwtVerify(t.accessToken, jwks, { ...opts, typ: "torii-template+jwt" });
  assert.equal(th.typ, "torii-template+jwt");
  assert.deepEqual(tp, { role: "admin", team: { id: 7 }, hi: "Hi Ada!", iss: ISS, sub: "user_9", pid: "app_1", sid: "sess_9", iat: NOW, exp: NOW + 120, tpl: "team" });
  // A session-token check refuses the template token, in jose and in the core.
  await assert.rejects(jose.jwtVerify(t.accessToken, jwks, { ...opts, typ: "JWT" }), { code: "ERR_JWT_CLAIM_VALIDATION_FAILED" });
  const dir = mkdtempSync(join(tmpdir(), "torii-interop-"));
  const jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, core(["jwks", seed]).out);
  assert.equal(core(["verify", jwksFile, ISS, String(NOW)], t.accessToken).out, "error: invalid_token_type");
  assert.ok(core(["verify", jwksFile, ISS, String(NOW)], s.accessToken).ok);
});

test("minting refuses a template that reaches for private metadata", () => {
  const r = core(["mint", "55".repeat(32), String(NOW)], JSON.stringify(mintInput({ template: { x: "{{user.private_metadata.marker}}" } })));
  assert.equal(r.ok, false);
  assert.equal(r.out, "error: private_metadata_not_allowed");
});
