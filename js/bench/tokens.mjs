// The tokens of the npm benchmarks (bench/verify.mjs, bench/profile.mjs): one fresh Ed25519
// key with a 43-character kid (like the edge's RFC 7638 thumbprints), its JWKS, and
// `mint(i)`: a ~400-byte EdDSA token whose `jti` is unique per `i` (so nothing can be
// cached per token), valid for an hour from NOW.
import { generateKeyPairSync, sign } from "node:crypto";

export const ISSUER = "https://bench.torii.test";
export const NOW = Math.floor(Date.now() / 1000);
export const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const kid = "k".repeat(43);
export const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" }] };
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const header = b64({ alg: "EdDSA", kid, typ: "JWT" });

/** A signed token with `jti` `j<i, 5 digits>`. */
export function mint(i) {
  const claims = { aal: "aal1", exp: NOW + 3600, iat: NOW, iss: ISSUER, jti: `j${String(i).padStart(5, "0")}`, nbf: NOW - 5, org_role: "admin", sid: "s_1", sub: "user_2" };
  const input = `${header}.${b64(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
}
