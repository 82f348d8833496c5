#!/usr/bin/env node
// Mints a demo token signed with the dev Worker's key, re-deriving that key exactly as
// the Rust core does (src/keys.rs `derive_signing_seed`):
//   HKDF-SHA256, salt = "torii-edge/signing-key/v1", ikm = the master secret's UTF-8
//   bytes, info = "tenant=<id>;version=<n>", 32 bytes out = the Ed25519 seed (RFC 8032);
//   kid = RFC 7638 SHA-256 thumbprint of the public JWK, base64url.
//
// CLI:  node scripts/dev-token.mjs [--issuer URL] [--vars FILE] [--tenant ID] [--version N]
//       The secret comes from $TORII_MASTER_SECRET, else from FILE (default .dev.vars).
//       Prints the token on stdout.
import { createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SignJWT, calculateJwkThumbprint } from 'jose';

export const SALT = 'torii-edge/signing-key/v1';
export const MIN_SECRET_BYTES = 32;
export const DEMO_TENANT = 'demo';
export const DEMO_KEY_VERSION = 1;
export const DEFAULT_ISSUER = 'http://127.0.0.1:8787';

// PKCS#8 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The 32-byte Ed25519 seed of `tenant`'s key `version` (same as the Rust core). */
export function deriveSeed(masterSecret, tenant = DEMO_TENANT, version = DEMO_KEY_VERSION) {
  const ikm = Buffer.from(masterSecret, 'utf8');
  if (ikm.length < MIN_SECRET_BYTES) {
    throw new Error(`TORII_MASTER_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (!Number.isInteger(version) || version < 0 || version > 0xffffffff) {
    throw new Error('version must be a u32');
  }
  const info = Buffer.from(`tenant=${tenant};version=${version}`, 'utf8');
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.from(SALT, 'utf8'), info, 32));
}

/** The signing key of `tenant`/`version`: `{ privateKey, publicJwk, kid }`. */
export async function deriveKey(masterSecret, tenant = DEMO_TENANT, version = DEMO_KEY_VERSION) {
  const seed = deriveSeed(masterSecret, tenant, version);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty, crv, x }, 'sha256');
  return { privateKey, publicJwk: { kty, crv, x, kid }, kid };
}

/** A demo session token: header {alg: EdDSA, kid, typ: JWT}; claims iss, sub, sid, iat, exp, pid. */
export async function mintDevToken({
  masterSecret,
  issuer = DEFAULT_ISSUER,
  tenant = DEMO_TENANT,
  version = DEMO_KEY_VERSION,
  now = Math.floor(Date.now() / 1000),
  lifetime = 600,
  claims = {},
}) {
  const { privateKey, kid } = await deriveKey(masterSecret, tenant, version);
  return new SignJWT({ sub: 'user_demo', sid: 'sess_demo', pid: tenant, ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .sign(privateKey);
}

/** Reads `KEY=VALUE` lines (wrangler's .dev.vars format; quotes optional). */
export function readVars(file) {
  const vars = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    vars[m[1]] = value;
  }
  return vars;
}

async function main() {
  const { values } = parseArgs({
    options: {
      issuer: { type: 'string', default: DEFAULT_ISSUER },
      vars: { type: 'string', default: '.dev.vars' },
      tenant: { type: 'string', default: DEMO_TENANT },
      version: { type: 'string', default: String(DEMO_KEY_VERSION) },
    },
  });
  const masterSecret = process.env.TORII_MASTER_SECRET || readVars(values.vars).TORII_MASTER_SECRET;
  if (!masterSecret) {
    throw new Error(`no TORII_MASTER_SECRET in the environment or in ${values.vars}`);
  }
  const token = await mintDevToken({
    masterSecret,
    issuer: values.issuer,
    tenant: values.tenant,
    version: Number(values.version),
  });
  process.stdout.write(`${token}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(`dev-token: ${err.message}`);
    process.exit(1);
  });
}
