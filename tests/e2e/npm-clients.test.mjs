// End-to-end: the npm package's createServerClient and createTokenClient against the real
// edge (wrangler dev, local D1 seeded with the demo tenant, user, session and templates):
// discovery + JWKS with x-application-id, getToken({ template }) through the minting
// endpoint with caching, null for an unknown template and for a revoked session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServerClient, createTokenClient, createVerifier } from '../../js/src/node.mjs';
import { DEMO_USER } from '../../scripts/seed.mjs';
import { newDevSession, startWorker } from './worker.mjs';

const SECRET = 'e2e-npm-clients-master-secret-not-for-production-0123456789';
const JWKS = '/_torii/.well-known/jwks.json';

describe('npm clients against the real edge', () => {
  let w;
  const newSession = () => newDevSession(w.origin);

  before(async () => {
    w = await startWorker({ TORII_MASTER_SECRET: SECRET, TORII_DEV_MODE: '1' });
  });
  after(() => w?.stop());

  test('createTokenClient: template and session tokens; cached; null for an unknown template or a revoked session', async () => {
    const { sessionId, accessToken } = await newSession();
    const tokens = createTokenClient({ baseUrl: w.origin, applicationId: 'demo', getSessionToken: () => accessToken });
    const hasura = await tokens.getToken({ template: 'hasura' });
    assert.equal(typeof hasura, 'string');
    const [again, concurrent] = await Promise.all([tokens.getToken({ template: 'hasura' }), tokens.getToken({ template: 'hasura' })]);
    assert.equal(again, hasura);
    assert.equal(concurrent, hasura);
    assert.equal(tokens.requests, 1, 'one mint for three calls');
    // The template token verifies with the package against the served JWKS, as a template token.
    const asTemplate = createVerifier({ issuer: w.origin, jwksUrl: w.origin + JWKS, typ: 'torii-template+jwt' });
    const claims = await asTemplate.verify(hasura);
    assert.deepEqual(claims['https://hasura.io/jwt/claims'], { 'x-hasura-default-role': 'admin', 'x-hasura-user-id': DEMO_USER });

    const session = await tokens.getToken();
    const sessionClaims = await createVerifier({ issuer: w.origin, jwksUrl: w.origin + JWKS }).verify(session);
    assert.equal(sessionClaims.sid, sessionId);
    assert.equal(await tokens.getToken({ template: 'nope' }), null);
    assert.equal(tokens.requests, 3);

    const revoke = await fetch(`${w.origin}/_torii/devtools/sessions/revoke`, { method: 'POST', body: JSON.stringify({ sessionId }) });
    assert.equal(revoke.status, 204);
    tokens.clear();
    assert.equal(await tokens.getToken({ template: 'hasura' }), null, '401 session_revoked → null');
    assert.equal(await tokens.getToken(), null);
  });

  test('createServerClient: verifies session tokens via discovery + JWKS (fetched once); refuses template tokens', async () => {
    const { accessToken } = await newSession();
    const server = createServerClient({ baseUrl: w.origin, applicationId: 'demo' });
    for (let i = 0; i < 3; i++) {
      const claims = await server.verifyToken(`Bearer ${accessToken}`);
      assert.equal(claims.sub, DEMO_USER);
      assert.equal(claims.iss, w.origin);
    }
    assert.deepEqual(server.fetches, { discovery: 1, jwks: 1 });
    const tokens = createTokenClient({ baseUrl: w.origin, getSessionToken: () => accessToken });
    const hasura = await tokens.getToken({ template: 'hasura' });
    await assert.rejects(server.verifyToken(`Bearer ${hasura}`), (e) => e.code === 'invalid_token_type');
    await assert.rejects(server.verifyToken(''), (e) => e.code === 'missing_token');
  });
});
