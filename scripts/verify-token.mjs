#!/usr/bin/env node
// Verifies a token with jose against the JWKS a running edge serves (found through its
// discovery document), the way any OIDC client would. Prints the claims.
// Usage: node scripts/verify-token.mjs [--issuer http://127.0.0.1:8787] <token>
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { issuer: { type: 'string', default: 'http://127.0.0.1:8787' } },
});
const [token] = positionals;
if (!token) {
  console.error('usage: verify-token.mjs [--issuer URL] <token>');
  process.exit(2);
}
try {
  const discovery = await (await fetch(`${values.issuer}/.well-known/openid-configuration`)).json();
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: discovery.issuer,
    algorithms: discovery.id_token_signing_alg_values_supported,
  });
  console.log(JSON.stringify({ valid: true, header: protectedHeader, claims: payload }, null, 2));
} catch (err) {
  console.error(JSON.stringify({ valid: false, code: err.code ?? 'error', message: err.message }));
  process.exit(1);
}
