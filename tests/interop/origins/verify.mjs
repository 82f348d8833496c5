// An origin's check of what torii-edge forwards, in Node with `jose` only (the recipe of
// docs/origin.md, "Node"). Usage:
//   node verify.mjs assertion < {"jwks_url", "issuer", "audience", "request": {"method", "path", "headers"}}
//   node verify.mjs session   < {"jwks_url", "issuer", "token"}
// `audience` is ORIGIN_URL's origin and `path` the request-target the origin received
// (path + query), so htu = audience + path. Prints one JSON verdict:
//   {"ok": true, "claims": {...}}  or  {"ok": false, "error": "expired" | "signature" | "binding" | "invalid", "message"}
// and exits 0 when it accepts, 1 when it refuses.
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const ASSERTION_TYP = 'torii-edge-assertion+jwt';
// The identity headers bound by `ihash`, in this order (docs/origin.md).
const IDENTITY = ['x-torii-user-id', 'x-torii-session-id', 'x-torii-tenant-id', 'x-torii-issuer',
  'x-torii-org-id', 'x-torii-org-role', 'x-torii-aal', 'x-torii-claims'];

class Binding extends Error {}

async function verifyAssertion({ jwks_url, issuer, audience, request }) {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([n, v]) => [n.toLowerCase(), v]));
  const { payload } = await jwtVerify(headers['x-torii-edge-assertion'] ?? '', createRemoteJWKSet(new URL(jwks_url)), {
    issuer,
    audience,
    typ: ASSERTION_TYP,
    algorithms: ['EdDSA'],
    maxTokenAge: 60,
    requiredClaims: ['exp', 'iat', 'htm', 'htu', 'ihash'],
  });
  const canonical = IDENTITY.filter((n) => headers[n] !== undefined).map((n) => `${n}:${headers[n]}\n`).join('');
  const ihash = createHash('sha256').update(canonical).digest('base64url');
  if (payload.htm !== request.method) throw new Binding(`htm is ${payload.htm}, the request's method ${request.method}`);
  if (payload.htu !== audience + request.path) throw new Binding(`htu is ${payload.htu}, the request's URL ${audience + request.path}`);
  if (payload.ihash !== ihash) throw new Binding('ihash does not match the identity headers');
  return payload;
}

async function verifySession({ jwks_url, issuer, token }) {
  const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(jwks_url)), {
    issuer,
    algorithms: ['EdDSA'],
    requiredClaims: ['exp', 'iat', 'sub'],
  });
  if (protectedHeader.typ === ASSERTION_TYP) throw new Error('an edge assertion is no session token');
  return payload;
}

function kind(e) {
  if (e instanceof Binding) return 'binding';
  if (e.code === 'ERR_JWT_EXPIRED') return 'expired';
  if (e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'signature';
  return 'invalid';
}

const mode = process.argv[2];
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
try {
  if (mode !== 'assertion' && mode !== 'session') throw new Error('usage: verify.mjs assertion|session < input.json');
  const claims = await (mode === 'assertion' ? verifyAssertion : verifySession)(input);
  console.log(JSON.stringify({ ok: true, claims }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: kind(e), message: String(e.message ?? e) }));
  process.exitCode = 1;
}
