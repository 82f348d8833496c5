// End-to-end: the Backend API under /v1 against the real Worker (wrangler dev, local D1
// with every migration applied, no seeded tenant: applications are created through the
// API with the operator secret).
//
// * the whole flow: application → key → user → templates → session → mint → gateway;
// * authentication: missing / bad-checksum (0 D1 queries) / revoked / other application's
//   keys, the operator secret, scopes (a users:read key cannot write; escalation refused);
// * every error code of the contract, and D1 read back after failed calls: nothing
//   partially written;
// * Idempotency-Key replay and reuse, ETag / If-Match, CORS, a deleted user's session;
// * no secret key or operator secret in plain text in local D1 or the logs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startDemoOrigin } from '../../scripts/demo-origin.mjs';
import { checkResponse, compileDocument, COMPONENTS_ID, coreDocument, matchPath } from './openapi-check.mjs';
import { requestWithHost, startWorker, wranglerD1 } from './worker.mjs';

const SECRET = 'e2e-api-master-secret-not-for-production-0123456789abcdef';
const OPERATOR = 'e2e-api-operator-secret-not-for-production-0123456789';
const ALLOWED = 'https://app.example.test';

describe('Backend API under wrangler dev', () => {
  let worker;
  let origin;
  let demoKey; // admin key of "demo"
  let otherKey; // admin key of "other"
  const secrets = [];
  let doc; // the document the Worker serves at GET /v1/openapi.json
  let core; // the document the core builds (cargo run --example openapi)

  const call = async (method, path, { key, app = 'demo', body, headers = {}, raw } = {}) => {
    const h = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    if (app) h['x-application-id'] = app;
    if (body !== undefined || raw !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(worker.origin + path, {
      method,
      headers: h,
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    // Every /v1 response goes through the real validator (ajv 2020-12, strict) against the
    // document the Worker itself serves; a 204 has no body.
    if (path.startsWith('/v1/')) {
      const template = matchPath(doc, path);
      if (res.status === 405 && !doc.paths[template]?.[method.toLowerCase()]) {
        // No such operation to look the 405 up in: the body is the documented error body.
        const validate = compileDocument(doc).ajv.getSchema(`${COMPONENTS_ID}#/$defs/Error`);
        assert.ok(validate(json), `${method} ${path} 405: ${JSON.stringify(validate.errors)}`);
      } else {
        checkResponse(doc, method, path, res.status, text);
      }
    }
    return { status: res.status, body: json, headers: res.headers };
  };
  const d1 = async (sql) => {
    const out = JSON.parse(await wranglerD1(worker.state, ['execute', 'DB', '--command', sql, '--json']));
    return out[0].results;
  };
  const counterValues = async () => await (await fetch(`${worker.origin}/_torii/devtools/counters`)).json();
  const counters = async () => (await counterValues()).d1_queries;
  const getWithHost = (path, host) => requestWithHost(worker.origin, path, { host });
  const createApp = (id, body = {}, headers = {}) =>
    call('POST', '/v1/applications', {
      app: null,
      body: { id, environment: 'development', ...body },
      headers: { authorization: `Bearer ${OPERATOR}`, ...headers },
    });

  before(async () => {
    core = coreDocument(); // built before the Worker starts: cargo does not race wrangler dev
    origin = await startDemoOrigin({ quiet: true });
    worker = await startWorker(
      {
        TORII_MASTER_SECRET: SECRET,
        TORII_OPERATOR_SECRET: OPERATOR,
        TORII_DEV_MODE: '1',
        ORIGIN_URL: origin.url,
        ROUTES: JSON.stringify([{ path: '/api/**', access: 'required' }]),
        TORII_LOG: 'off',
      },
      { tenants: [] },
    );
    origin.edge = worker.origin;
    const res = await fetch(`${worker.origin}/v1/openapi.json`);
    assert.equal(res.status, 200);
    doc = await res.json();
  });
  after(async () => {
    await worker?.stop();
    await origin?.close();
  });

  test('GET /v1/openapi.json is the core document', () => {
    assert.deepEqual(doc, core);
  });

  test('operator: creates applications with their first key; refuses without the secret', async () => {
    let r = await call('POST', '/v1/applications', { app: null, body: { id: 'demo', environment: 'development' } });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'missing_api_key');
    r = await call('POST', '/v1/applications', {
      app: null,
      body: { id: 'demo', environment: 'development' },
      headers: { authorization: 'Bearer not-the-operator-secret' },
    });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_api_key');
    r = await createApp('Demo!');
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'id');

    r = await createApp('demo', { allowed_origins: [ALLOWED] }, { 'idempotency-key': 'create-demo' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.application.id, 'demo');
    assert.equal(r.body.application.issuer, worker.origin);
    assert.deepEqual(r.body.api_key.scopes, ['admin']);
    assert.match(r.body.api_key.secret, /^sk_test_/);
    demoKey = r.body.api_key.secret;
    secrets.push(demoKey);
    // Replayed without the secret; taken id → 409.
    const again = await createApp('demo', { allowed_origins: [ALLOWED] }, { 'idempotency-key': 'create-demo' });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.api_key.secret, null);
    assert.equal(again.body.api_key.id, r.body.api_key.id);
    assert.equal((await createApp('demo')).status, 409);

    r = await createApp('other', { environment: 'production', issuer: 'https://other.torii.test' });
    assert.equal(r.status, 201);
    assert.match(r.body.api_key.secret, /^sk_live_/);
    otherKey = r.body.api_key.secret;
    secrets.push(otherKey);
    assert.equal((await d1("SELECT count(*) AS n FROM tenants"))[0].n, 2);
  });

  test('the whole flow: key → user → templates → session → mint → gateway', async () => {
    let r = await call('GET', '/v1/applications/current', { key: demoKey });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.allowed_origins, [ALLOWED]);

    r = await call('POST', '/v1/api-keys', { key: demoKey, body: { name: 'backend', scopes: ['users:write', 'sessions:write', 'templates:write'] } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const backend = r.body.secret;
    secrets.push(backend);
    r = await call('GET', `/v1/api-keys/${r.body.id}`, { key: demoKey });
    assert.equal(r.status, 200);
    assert.equal(r.body.secret, undefined);
    assert.equal(r.body.name, 'backend');

    r = await call('POST', '/v1/users', {
      key: backend,
      body: { id: 'user_ada', email: 'ada@example.com', first_name: 'Ada', public_metadata: { role: 'admin' }, private_metadata: { ssn: 'x' } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.match(r.headers.get('etag'), /^"v1-\d+"$/);

    r = await call('PUT', '/v1/jwt-templates/default', { key: backend, body: { claims: { role: '{{ user.public_metadata.role }}' }, default: true } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    r = await call('PUT', '/v1/jwt-templates/hasura', {
      key: backend,
      body: { claims: { 'https://hasura.io/jwt/claims': { 'x-hasura-user-id': '{{ user.id }}' } }, lifetime: 300 },
    });
    assert.equal(r.status, 201);

    r = await call('POST', '/v1/sessions', { key: backend, body: { user_id: 'user_ada', aal: 'aal2' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const sid = r.body.session.id;
    assert.equal(r.body.session.status, 'active');
    const sessionToken = r.body.token.jwt;
    const jwks = createRemoteJWKSet(new URL(`${worker.origin}/_torii/.well-known/jwks.json`));
    const { payload } = await jwtVerify(sessionToken, jwks, { issuer: worker.origin });
    assert.equal(payload.sub, 'user_ada');
    assert.equal(payload.sid, sid);
    assert.equal(payload.role, 'admin');

    r = await call('POST', `/v1/sessions/${sid}/tokens?template=hasura`, { key: backend });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const claims = decodeJwt(r.body.jwt);
    assert.equal(claims['https://hasura.io/jwt/claims']['x-hasura-user-id'], 'user_ada');
    assert.equal(claims.tpl, 'hasura');
    r = await call('POST', `/v1/sessions/${sid}/tokens?template=nope`, { key: backend });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'jwt_template_not_found');

    const through = await fetch(`${worker.origin}/api/hello`, { headers: { authorization: `Bearer ${sessionToken}` } });
    assert.equal(through.status, 200);
    await through.arrayBuffer();

    // Lists.
    r = await call('GET', '/v1/sessions?user_id=user_ada&status=active', { key: demoKey });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.length, 1);
    r = await call('GET', '/v1/users?email=ada%40example.com', { key: demoKey });
    assert.equal(r.body.data[0].id, 'user_ada');
    r = await call('GET', '/v1/jwt-templates?limit=1', { key: demoKey });
    assert.equal(r.body.data.length, 1);
    assert.equal(r.body.has_more, true);
    const next = await call('GET', `/v1/jwt-templates?limit=1&starting_after=${r.body.next_cursor}`, { key: demoKey });
    assert.equal(next.body.data.length, 1);
    assert.notEqual(next.body.data[0].name, r.body.data[0].name);
    assert.equal(next.body.has_more, false);
    r = await call('GET', '/v1/signing-keys', { key: demoKey });
    assert.equal(r.status, 200);
    assert.equal(r.body.data[0].state, 'active');
    r = await call('POST', '/v1/jwt-templates/preview', { key: backend, body: { claims: { e: '{{ user.email }}' } } });
    assert.equal(r.status, 200);
    assert.equal(r.body.claims.e, 'ada@example.com');
    r = await call('POST', '/v1/jwt-templates/preview', { key: backend, body: { claims: { r: '{{ user.public_metadata.role }}' }, user_id: 'user_ada' } });
    assert.equal(r.body.claims.r, 'admin');

    // Revoke: the session cannot mint any more.
    r = await call('POST', `/v1/sessions/${sid}/revoke`, { key: backend });
    assert.equal(r.body.status, 'revoked');
    r = await call('POST', `/v1/sessions/${sid}/tokens`, { key: backend });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'session_revoked');
  });

  test('a bad-checksum key is refused before any D1 query', async () => {
    const before = await counters();
    const bad = demoKey.slice(0, -1) + (demoKey.endsWith('A') ? 'B' : 'A');
    const r = await call('GET', '/v1/users', { key: bad });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_api_key');
    assert.equal(await counters(), before);
    const missing = await call('GET', '/v1/users', {});
    assert.equal(missing.body.code, 'missing_api_key');
    assert.equal(await counters(), before);
    // A valid call: one statement (application + key, one round trip).
    await call('GET', '/v1/applications/current', { key: demoKey });
    assert.equal(await counters(), before + 1);
  });

  test('one D1 round trip per authenticated read, the route\'s row or page batched with the key check', async () => {
    const sid = (await d1("SELECT id FROM sessions WHERE tenant_id = 'demo' LIMIT 1"))[0].id;
    const keyId = (await call('GET', '/v1/api-keys?limit=1', { key: demoKey })).body.data[0].id;
    for (const path of [
      '/v1/applications/current',
      '/v1/users/user_ada',
      '/v1/users/nobody', // a 404 costs the same
      `/v1/sessions/${sid}`,
      '/v1/jwt-templates/hasura',
      `/v1/api-keys/${keyId}`,
      '/v1/users?limit=2',
      '/v1/users?email=ada%40example.com',
      `/v1/sessions?user_id=user_ada&status=active`,
      '/v1/jwt-templates',
      '/v1/api-keys?limit=1',
    ]) {
      const before = await counterValues();
      const r = await call('GET', path, { key: demoKey });
      assert.ok([200, 404].includes(r.status), `${path}: ${r.status}`);
      const after = await counterValues();
      assert.equal(after.d1_round_trips - before.d1_round_trips, 1, path);
    }
    // A page read ahead is the page the handler would read.
    const page = await call('GET', '/v1/users?email=ada%40example.com', { key: demoKey });
    assert.deepEqual(page.body.data.map((u) => u.id), ['user_ada']);
    // What was read ahead is never shown to a caller who fails authentication; a bad
    // query is still judged after the key (401 before 422).
    let r = await call('GET', '/v1/users/user_ada', { key: otherKey });
    assert.equal(r.body.code, 'application_mismatch');
    assert.ok(!JSON.stringify(r.body).includes('ada@example.com'));
    r = await call('GET', '/v1/users?limit=0', { key: otherKey });
    assert.equal(r.body.code, 'application_mismatch');
    r = await call('GET', '/v1/users?limit=0', { key: demoKey });
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'limit');
  });

  test('custom domains: created with the application, served by the edge, unique, updatable', async () => {
    let r = await createApp('acme', { issuer: 'https://auth.acme.test', domains: ['Auth.Acme.test', 'login.acme.test'] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.application.domains, ['auth.acme.test', 'login.acme.test']);
    secrets.push(r.body.api_key.secret);
    const acmeKey = r.body.api_key.secret;
    const stored = await d1("SELECT host FROM tenant_domains WHERE tenant_id = 'acme' ORDER BY host");
    assert.deepEqual(stored.map((x) => x.host), ['auth.acme.test', 'login.acme.test']);
    // The edge serves the application at its domain.
    const jwks = await getWithHost('/_torii/.well-known/jwks.json', 'auth.acme.test');
    assert.equal(jwks.status, 200);
    assert.equal(jwks.body.keys.length >= 1, true);
    const jwksById = await (await fetch(`${worker.origin}/_torii/.well-known/jwks.json`, { headers: { 'x-application-id': 'acme' } })).json();
    assert.deepEqual(jwks.body, jwksById);
    // Another application cannot take it (409, nothing written), nor loopback names (422).
    r = await createApp('acme2', { issuer: 'https://acme2.test', domains: ['new.acme2.test', 'auth.acme.test'] });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'conflict');
    assert.equal((await d1("SELECT count(*) AS n FROM tenants WHERE id = 'acme2'"))[0].n, 0);
    assert.equal((await d1("SELECT count(*) AS n FROM tenant_domains WHERE host = 'new.acme2.test'"))[0].n, 0);
    r = await createApp('acme3', { issuer: 'https://acme3.test', domains: ['localhost.test', 'localhost'] });
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'domains');
    assert.equal(r.body.pointer, '/1');
    r = await createApp('acme3', { issuer: 'https://acme3.test', domains: ['auth.acme.test:8443'] });
    assert.equal(r.status, 422);
    assert.equal(r.body.pointer, '/0');
    // GET shows them; PATCH replaces the list; the old domain stops serving.
    r = await call('GET', '/v1/applications/current', { key: acmeKey, app: 'acme' });
    assert.deepEqual(r.body.domains, ['auth.acme.test', 'login.acme.test']);
    r = await call('PATCH', '/v1/applications/current', { key: acmeKey, app: 'acme', body: { domains: ['id.acme.test'] } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.domains, ['id.acme.test']);
    assert.equal((await getWithHost('/_torii/.well-known/jwks.json', 'id.acme.test')).status, 200);
    assert.equal((await getWithHost('/_torii/.well-known/jwks.json', 'auth.acme.test')).status, 404);
    r = await call('PATCH', '/v1/applications/current', { key: demoKey, body: { domains: ['id.acme.test'] } });
    assert.equal(r.status, 409);
    assert.deepEqual((await call('GET', '/v1/applications/current', { key: demoKey })).body.domains, []);
  });

  test('cross-application access is refused both ways', async () => {
    let r = await call('GET', '/v1/users', { key: otherKey, app: 'demo' });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'application_mismatch');
    r = await call('GET', '/v1/users', { key: demoKey, app: 'other' });
    assert.equal(r.body.code, 'application_mismatch');
    r = await call('GET', '/v1/users/user_ada', { key: otherKey, app: 'other' });
    assert.equal(r.status, 404);
    r = await call('GET', '/v1/users', { key: demoKey, app: 'nosuchapp' });
    assert.equal(r.body.code, 'application_mismatch');
  });

  test('scopes: a users:read key cannot write; escalation is refused', async () => {
    let r = await call('POST', '/v1/api-keys', { key: demoKey, body: { name: 'reader', scopes: ['users:read', 'api_keys:write'] } });
    const reader = r.body.secret;
    secrets.push(reader);
    r = await call('POST', '/v1/users', { key: reader, body: { id: 'u_nope' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'insufficient_scope');
    assert.equal((await d1("SELECT count(*) AS n FROM users WHERE id = 'u_nope'"))[0].n, 0);
    assert.equal((await call('GET', '/v1/users', { key: reader })).status, 200);
    r = await call('POST', '/v1/api-keys', { key: reader, body: { name: 'escalated', scopes: ['admin'] } });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'scope_escalation');
    r = await call('POST', '/v1/api-keys', { key: reader, body: { name: 'escalated', scopes: ['users:read', 'users:write'] } });
    assert.equal(r.body.code, 'scope_escalation');
    assert.equal((await d1("SELECT count(*) AS n FROM api_keys WHERE name = 'escalated'"))[0].n, 0);
  });

  test('a revoked key is refused on the very next call; a rolled key gets a new secret', async () => {
    let r = await call('POST', '/v1/api-keys', { key: demoKey, body: { name: 'short', scopes: ['users:read'] } });
    const key = r.body.secret;
    const id = r.body.id;
    secrets.push(key);
    assert.equal((await call('GET', '/v1/users', { key })).status, 200);
    r = await call('POST', `/v1/api-keys/${id}/revoke`, { key: demoKey });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'revoked');
    r = await call('GET', '/v1/users', { key });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'invalid_api_key');

    r = await call('POST', '/v1/api-keys', { key: demoKey, body: { name: 'rolling', scopes: ['users:read'] } });
    const old = r.body.secret;
    secrets.push(old);
    r = await call('POST', `/v1/api-keys/${r.body.id}/roll`, { key: demoKey, body: { expire_previous_in: 0 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    secrets.push(r.body.secret);
    assert.equal(r.body.name, 'rolling');
    assert.equal((await call('GET', '/v1/users', { key: r.body.secret })).status, 200);
    assert.equal((await call('GET', '/v1/users', { key: old })).body.code, 'invalid_api_key');
  });

  test('errors: 404, 405, 413, 422 naming the field, 409 conflict, nothing written', async () => {
    let r = await call('GET', '/v1/users/nobody', { key: demoKey });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'not_found');
    assert.ok(r.body.request_id);
    r = await call('DELETE', '/v1/users', { key: demoKey });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, POST');
    r = await call('POST', '/v1/users', { key: demoKey, raw: JSON.stringify({ id: 'big', public_metadata: { x: 'y'.repeat(70 * 1024) } }) });
    assert.equal(r.status, 413);
    assert.equal(r.body.code, 'payload_too_large');
    r = await call('POST', '/v1/users', { key: demoKey, body: { id: 'u1', email: 'not-an-email' } });
    assert.equal(r.status, 422);
    assert.equal(r.body.field, 'email');
    r = await call('POST', '/v1/users', { key: demoKey, body: { id: 'u1', nope: 1 } });
    assert.equal(r.body.field, 'nope');
    r = await call('GET', '/v1/users?limit=500', { key: demoKey });
    assert.equal(r.body.field, 'limit');
    r = await call('PUT', '/v1/jwt-templates/bad', { key: demoKey, body: { claims: { sub: 'x' } } });
    assert.equal(r.body.code, 'reserved_claim');
    assert.equal(r.body.pointer, '/sub');
    r = await call('POST', '/v1/users', { key: demoKey, body: { id: 'u_dup', email: 'ada@example.com' } });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'conflict');
    assert.deepEqual(await d1("SELECT id FROM users WHERE id IN ('u1', 'big', 'u_dup')"), []);
    assert.deepEqual(await d1("SELECT name FROM templates WHERE name = 'bad'"), []);
  });

  test('ETags: a stale If-Match is 412 and writes nothing', async () => {
    let r = await call('GET', '/v1/users/user_ada', { key: demoKey });
    const tag = r.headers.get('etag');
    r = await call('PATCH', '/v1/users/user_ada', { key: demoKey, body: { first_name: 'Augusta' }, headers: { 'if-match': tag } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.notEqual(r.headers.get('etag'), tag);
    r = await call('PATCH', '/v1/users/user_ada/metadata', { key: demoKey, body: { public_metadata: { plan: 'pro', role: null } }, headers: { 'if-match': tag } });
    assert.equal(r.status, 412);
    assert.equal(r.body.code, 'precondition_failed');
    const [row] = await d1("SELECT first_name, public_metadata, version FROM users WHERE id = 'user_ada'");
    assert.equal(row.first_name, 'Augusta');
    assert.deepEqual(JSON.parse(row.public_metadata), { role: 'admin' });
    assert.equal(row.version, 2);
    r = await call('PATCH', '/v1/users/user_ada/metadata', { key: demoKey, body: { public_metadata: { plan: 'pro', role: null } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.public_metadata, { plan: 'pro' });
    r = await call('GET', '/v1/jwt-templates/hasura', { key: demoKey });
    const ttag = r.headers.get('etag');
    r = await call('PUT', '/v1/jwt-templates/hasura', { key: demoKey, body: { claims: { a: 1 } }, headers: { 'if-match': '"v9-1"' } });
    assert.equal(r.status, 412);
    r = await call('PUT', '/v1/jwt-templates/hasura', { key: demoKey, body: { claims: { a: 1 }, default: true }, headers: { 'if-match': ttag } });
    assert.equal(r.status, 200);
    const defaults = await d1("SELECT name FROM templates WHERE tenant_id = 'demo' AND is_default = 1");
    assert.deepEqual(defaults, [{ name: 'hasura' }]);
  });

  test('Idempotency-Key: the same request replays, another is 409', async () => {
    const headers = { 'idempotency-key': 'create-grace' };
    const body = { id: 'user_grace', email: 'grace@example.com' };
    const first = await call('POST', '/v1/users', { key: demoKey, body, headers });
    assert.equal(first.status, 201);
    const again = await call('POST', '/v1/users', { key: demoKey, body, headers });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    const other = await call('POST', '/v1/users', { key: demoKey, body: { ...body, id: 'user_grace2' }, headers });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'idempotency_key_reused');
    assert.equal((await d1("SELECT count(*) AS n FROM users WHERE id LIKE 'user_grace%'"))[0].n, 1);
  });

  test("deleting a user revokes its sessions: they cannot mint", async () => {
    let r = await call('POST', '/v1/users', { key: demoKey, body: { id: 'user_gone' } });
    r = await call('POST', '/v1/sessions', { key: demoKey, body: { user_id: 'user_gone' } });
    const sid = r.body.session.id;
    r = await call('DELETE', '/v1/users/user_gone', { key: demoKey });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.equal(r.body, null);
    r = await call('POST', `/v1/sessions/${sid}/tokens`, { key: demoKey });
    assert.ok([401, 404].includes(r.status), JSON.stringify(r.body));
    assert.ok(['session_revoked', 'not_found'].includes(r.body.code));
    assert.deepEqual(await d1(`SELECT id FROM sessions WHERE id = '${sid}' AND status = 'active'`), []);
    assert.deepEqual(await d1("SELECT id FROM users WHERE id = 'user_gone'"), []);
  });

  test('CORS: only the allowed origin, never *; preflights answered', async () => {
    let res = await fetch(`${worker.origin}/v1/users`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
    assert.match(res.headers.get('access-control-allow-headers'), /x-application-id/);
    res = await fetch(`${worker.origin}/v1/users`, { method: 'OPTIONS', headers: { origin: 'https://evil.test' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    let r = await call('GET', '/v1/users', { key: demoKey, headers: { origin: ALLOWED } });
    assert.equal(r.headers.get('access-control-allow-origin'), ALLOWED);
    r = await call('GET', '/v1/users', { key: demoKey, headers: { origin: 'https://evil.test' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    r = await call('GET', '/v1/users', { key: otherKey, app: 'other', headers: { origin: ALLOWED } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });

  test('signing keys rotate with the publish lead', async () => {
    // The edge's instance caches the tenant (and its JWKS) now; the API's instance writes.
    const kids = async () => {
      const res = await fetch(`${worker.origin}/_torii/.well-known/jwks.json`, { headers: { 'x-application-id': 'demo' } });
      assert.equal(res.status, 200);
      return (await res.json()).keys.map((k) => k.kid);
    };
    const before = await kids();
    assert.equal(before.length, 1);
    const r = await call('POST', '/v1/signing-keys/rotate', { key: demoKey });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.version, 2);
    assert.equal(r.body.state, 'published');
    assert.ok(r.body.signs_from > r.body.published_at);
    const again = await call('POST', '/v1/signing-keys/rotate', { key: demoKey });
    assert.equal(again.status, 409);
    const list = await call('GET', '/v1/signing-keys', { key: demoKey });
    assert.deepEqual(list.body.data.map((k) => k.version), [2, 1]);
    // The edge forgot the tenant when the API rotated (the other wasm instance's write,
    // carried by the entry): once the new version's `published_at` (the next second) has
    // come, the JWKS publishes it, well within the edge's 60 s tenant cache.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await kids();
    assert.equal(after.length, 2, JSON.stringify(after));
    assert.equal(after[0], before[0]);
  });

  test('no secret key or operator secret in plain text in local D1 (or the logs)', async () => {
    const files = [];
    const walk = (dir) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(worker.state);
    assert.ok(files.some((f) => f.endsWith('.sqlite')));
    const needles = [...secrets, OPERATOR];
    assert.ok(secrets.length >= 5);
    for (const f of files) {
      const bytes = readFileSync(f).toString('latin1');
      for (const n of needles) assert.ok(!bytes.includes(n), `${f} holds a secret`);
    }
    const rows = await d1('SELECT secret_hash, prefix, last_four FROM api_keys');
    for (const row of rows) assert.match(row.secret_hash, /^[0-9a-f]{64}$/);
    for (const n of needles) assert.ok(!worker.output().includes(n), 'the logs hold a secret');
  });
});

describe('Backend API: per-key rate limit (API_LIMITER)', () => {
  const LIMIT = 4;
  let worker;
  let doc;
  const call = async (method, path, key, body) => {
    const headers = { 'x-application-id': 'demo', authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(worker.origin + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    checkResponse(doc, method, path, res.status, text);
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };

  before(async () => {
    worker = await startWorker(
      { TORII_MASTER_SECRET: SECRET, TORII_OPERATOR_SECRET: OPERATOR, TORII_DEV_MODE: '1', TORII_LOG: 'off' },
      { tenants: [], ratelimits: { API_LIMITER: { limit: LIMIT, period: 60 } } },
    );
    doc = await (await fetch(`${worker.origin}/v1/openapi.json`)).json();
  });
  after(async () => {
    await worker?.stop();
  });

  test('the same key is limited with 429 + Retry-After; another key of the application is not', async () => {
    // The operator call is not counted against any key.
    const created = await call('POST', '/v1/applications', OPERATOR, { id: 'demo', environment: 'development' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const admin = created.body.api_key.secret;
    const other = await call('POST', '/v1/api-keys', admin, { name: 'other', scopes: ['users:read'] });
    assert.equal(other.status, 201);
    const statuses = [];
    let limited;
    for (let i = 0; i < LIMIT + 2; i++) {
      const r = await call('GET', '/v1/applications/current', admin);
      statuses.push(r.status);
      if (r.status === 429) {
        limited = r;
        break;
      }
    }
    assert.ok(limited, `never limited: ${statuses}`);
    assert.ok(statuses.filter((s) => s === 200).length >= LIMIT - 2, `${statuses}`);
    assert.equal(limited.body.code, 'rate_limited');
    assert.equal(limited.headers.get('retry-after'), '60');
    assert.ok(limited.body.request_id);
    // Another key has its own budget.
    const r = await call('GET', '/v1/users', other.body.secret);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
});
