// Test helpers: Ed25519 keys from node:crypto, tokens signed by hand (any header) or by jose.
import { createHash, generateKeyPairSync, sign } from "node:crypto";

export const ISS = "https://demo.torii.test";
export const NOW = 1_800_000_000; // pinned with currentDate in every test
export const at = (secs) => new Date(secs * 1000);

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

export function newKey(kid = "k1") {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" };
  return { kid, jwk, publicKey, privateKey };
}

/** A compact JWS with exactly this header and payload, signed by `key` (or a given signature). */
export function signToken(key, header, payload, { signature } = {}) {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = signature ?? sign(null, Buffer.from(input), key.privateKey);
  return `${input}.${Buffer.from(sig).toString("base64url")}`;
}

export function claims(extra = {}) {
  return { iss: ISS, sub: "user_1", exp: NOW + 600, iat: NOW - 10, ...extra };
}

export function token(key, extraClaims = {}, extraHeader = {}) {
  return signToken(key, { alg: "EdDSA", kid: key.kid, typ: "JWT", ...extraHeader }, claims(extraClaims));
}

export const ASSERTION_TYP = "torii-edge-assertion+jwt";
export const ORIGIN = "https://api.example.test";

/** The edge's identity headers, in the fixed order `ihash` binds them (the core's IDENTITY_HEADERS). */
export const IDENTITY_HEADERS = [
  "x-torii-user-id",
  "x-torii-session-id",
  "x-torii-tenant-id",
  "x-torii-issuer",
  "x-torii-org-id",
  "x-torii-org-role",
  "x-torii-aal",
  "x-torii-claims",
];

/** base64url(SHA-256(`name:value\n` per identity header present, in order)): the core's `identity_hash`. */
export const ihash = (identity) =>
  createHash("sha256")
    .update(IDENTITY_HEADERS.filter((n) => identity[n] !== undefined).map((n) => `${n}:${identity[n]}\n`).join(""))
    .digest("base64url");

/** The `x-torii-claims` value for a claims object (base64url JSON, as the edge sends it). */
export const claimsHeader = (c) => Buffer.from(JSON.stringify(c)).toString("base64url");

/**
 * An edge assertion as the core's `edge_assertion_claims` + the Worker sign it: same claim
 * names, order and formats (htm upper case, ihash over the identity headers: by default
 * just `x-torii-claims` = `claims`, none when `claims` is empty).
 */
export function edgeAssertion(key, { method = "GET", url = `${ORIGIN}/`, claims: c = "", identity, sub, iss = ISS, aud = ORIGIN, now = NOW, lifetime = 60 } = {}, header = {}) {
  const bound = identity ?? (c === "" ? {} : { "x-torii-claims": c });
  const payload = { iss, aud, iat: now, exp: now + lifetime, htm: method.toUpperCase(), htu: url, ihash: ihash(bound) };
  if (sub !== undefined) payload.sub = sub;
  return signToken(key, { alg: "EdDSA", kid: key.kid, typ: ASSERTION_TYP, ...header }, payload);
}
