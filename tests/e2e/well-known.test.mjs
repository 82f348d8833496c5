// End-to-end: the built Worker under `wrangler dev` serves the discovery document and
// the JWKS, and a token minted with the dev key (scripts/dev-token.mjs, which re-derives
// the key in Node) verifies with jose against the served JWKS.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  SignJWT,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  errors,
  exportJWK,
  jwtVerify,
} from 'jose';
import { deriveKey, mintDevToken } from '../../scripts/dev-token.mjs';
import { startWorker } from './worker.mjs';

const SECRET = 'e2e-test-master-secret-not-for-production-0123456789';
const DISCOVERY = '/.well-known/openid-configuration';
const JWKS = '/_torii/.well-known/jwks.json';

function assertPublicHeaders(res) {
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('cache-control') ?? '', /(^|,\s*)max-age=\d+/);
  assert.match(res.headers.get('cache-control') ?? '', /\bpublic\b/);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
}

describe('worker under wrangler dev', () => {
  let worker;
  let misconfigured;
  before(async () => {
    [worker, misconfigured] = await Promise.all([
      startWorker({ TORII_MASTER_SECRET: SECRET }),
      startWorker({ TORII_MASTER_SECRET: 'too-short' }),
    ]);
  });
  after(async () => {
    await Promise.all([worker?.stop(), misconfigured?.stop()]);
  });

  test('discovery document: issuer, jwks_uri, EdDSA, only true fields, CORS, caching', async () => {
    const res = await fetch(worker.origin + DISCOVERY);
    assert.equal(res.status, 200);
    assertPublicHeaders(res);
    const doc = await res.json();
    assert.equal(doc.issuer, worker.origin);
    assert.equal(doc.jwks_uri, worker.origin + JWKS);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['EdDSA']);
    // Only what the edge really does: no OAuth endpoints it does not serve.
    for (const absent of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'registration_endpoint',
      'end_session_endpoint',
    ]) {
      assert.equal(doc[absent], undefined, absent);
    }
    const allowed = new Set([
      'issuer',
      'jwks_uri',
      'id_token_signing_alg_values_supported',
      'subject_types_supported',
    ]);
    for (const key of Object.keys(doc)) assert.ok(allowed.has(key), `unexpected field ${key}`);
  });

  test('JWKS: one public Ed25519 key whose kid is its RFC 7638 thumbprint', async () => {
    const res = await fetch(worker.origin + JWKS);
    assert.equal(res.status, 200);
    assertPublicHeaders(res);
    const { keys, ...rest } = await res.json();
    assert.deepEqual(rest, {});
    assert.equal(keys.length, 1);
    const [key] = keys;
    assert.equal(key.kty, 'OKP');
    assert.equal(key.crv, 'Ed25519');
    assert.match(key.x, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key.x, 'base64url').length, 32);
    assert.equal(key.d, undefined, 'no private material');
    if ('alg' in key) assert.equal(key.alg, 'EdDSA');
    if ('use' in key) assert.equal(key.use, 'sig');
    assert.equal(key.kid, await calculateJwkThumbprint(key, 'sha256'));
    // The Worker (Rust HKDF) and scripts/dev-token.mjs (node:crypto HKDF) derive the same key.
    const { publicJwk } = await deriveKey(SECRET);
    assert.equal(key.x, publicJwk.x);
    assert.equal(key.kid, publicJwk.kid);
  });

  test('CORS preflight is 204', async () => {
    const res = await fetch(worker.origin + JWKS, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bGET\b/);
  });

  test('unknown path is a JSON 404 not_found', async () => {
    const res = await fetch(`${worker.origin}/no/such/route`);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).code, 'not_found');
  });

  test('a token minted with the dev key verifies with jose against the served JWKS', async () => {
    const { jwks_uri: jwksUri } = await (await fetch(worker.origin + DISCOVERY)).json();
    const jwks = createRemoteJWKSet(new URL(jwksUri));
    const token = await mintDevToken({ masterSecret: SECRET, issuer: worker.origin });
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: worker.origin,
      algorithms: ['EdDSA'],
      typ: 'JWT',
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(payload.sub, 'user_demo');
    assert.equal(payload.sid, 'sess_demo');
    assert.equal(payload.pid, 'demo');
    assert.equal(payload.exp - payload.iat, 600);
  });

  test('tokens signed by any other key are rejected', async () => {
    const jwks = createRemoteJWKSet(new URL(worker.origin + JWKS));
    const { kid } = await deriveKey(SECRET);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const foreignKid = await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
    const sign = (headerKid) =>
      new SignJWT({ sub: 'user_demo' })
        .setProtectedHeader({ alg: 'EdDSA', kid: headerKid, typ: 'JWT' })
        .setIssuer(worker.origin)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
    // Claiming the served key's kid: the signature does not match.
    await assert.rejects(
      jwtVerify(await sign(kid), jwks, { issuer: worker.origin }),
      errors.JWSSignatureVerificationFailed,
    );
    // Its own kid: no such key is served.
    await assert.rejects(
      jwtVerify(await sign(foreignKid), jwks, { issuer: worker.origin }),
      errors.JWKSNoMatchingKey,
    );
    // Another master secret (another deployment or tenant) gives another key.
    const other = await mintDevToken({
      masterSecret: `${SECRET}-other`,
      issuer: worker.origin,
    });
    await assert.rejects(jwtVerify(other, jwks, { issuer: worker.origin }), errors.JWKSNoMatchingKey);
  });

  test('a short master secret fails closed with 500 misconfigured', async () => {
    const res = await fetch(misconfigured.origin + JWKS);
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.code, 'misconfigured');
    assert.equal(typeof body.message, 'string');
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });
});
