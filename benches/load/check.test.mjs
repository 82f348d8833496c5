// Self-tests of the `make load` harness (no Worker): the expectations it plans and the
// checks that judge a run must each catch what they are there to catch. Run first by
// `make load` and `make load-smoke` (`node --test benches/load/`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { deriveKey } from '../../scripts/dev-token.mjs';
import { forwardedProblems, judge } from './check.mjs';
import { OTHER, ROUTES, TENANT, USERS, decide, identityHeaders, makeTokens, payloadOf, planner, spoofedHeaders } from './traffic.mjs';

const SECRET = 'load-selftest-master-secret-not-for-production-0123456789';
const ISSUER = 'http://127.0.0.1:9';
const EDGE = '127.0.0.1:9';
const ORIGIN = 'http://127.0.0.1:10';
const t0 = Date.now();
const tokens = await makeTokens({ secret: SECRET, issuer: ISSUER, t0, seconds: 20, pool: 3 });

test('decide follows the gateway table', () => {
  const alice = { kind: 'session', claims: { ...USERS[0], iss: ISSUER } };
  const bob = { kind: 'session', claims: { ...USERS[1], iss: ISSUER } };
  const carol = { kind: 'session', claims: { ...USERS[2], iss: ISSUER } };
  const hasura = { kind: 'template', tpl: 'hasura', claims: { sub: 'u', tpl: 'hasura' } };
  const supabase = { kind: 'template', tpl: 'supabase', claims: { sub: 'u', tpl: 'supabase' } };
  const none = { kind: 'none' };
  const expired = { kind: 'error', code: 'token_expired' };
  const basic = { kind: 'bad-header' };
  const cases = [
    ['public', none, 'pass'], ['public', expired, 'pass'], ['public', basic, 'pass'], ['public', supabase, 'pass'],
    ['optional', none, 'pass'], ['optional', expired, '401 token_expired'], ['optional', hasura, '401 invalid_token_type'],
    ['optional', basic, '400 invalid_request'], ['default', none, '401 missing_token'], ['default', bob, 'pass'],
    ['admin', alice, 'pass'], ['admin', bob, '403 insufficient_scope'], ['admin', carol, '403 insufficient_scope'],
    ['admin', expired, '401 token_expired'], ['billing', alice, 'pass'], ['billing', bob, '403 insufficient_scope'],
    ['graphql', hasura, 'pass'], ['graphql', supabase, '401 invalid_token_type'], ['graphql', carol, 'pass'],
    ['default', hasura, '401 invalid_token_type'], ['admin', hasura, '401 invalid_token_type'],
  ];
  for (const [route, cred, want] of cases) {
    const d = decide(route, cred);
    assert.equal(d.pass ? 'pass' : `${d.status} ${d.code}`, want, `${route} ${JSON.stringify(cred)}`);
  }
  assert.equal(ROUTES.length, 5);
});

test('token fixtures: valid ones verify, every refused kind fails as planned', async () => {
  const key = await deriveKey(SECRET, TENANT, 1);
  const jwks = createLocalJWKSet({ keys: [key.publicJwk] });
  const verify = (t) => jwtVerify(t, jwks, { issuer: ISSUER, algorithms: ['EdDSA'], clockTolerance: 60 });
  for (const t of tokens.pools[`1/${USERS[0].sub}`]) await verify(t);
  const fails = async (list, code) => {
    assert.ok(list.length > 0);
    for (const t of list) await assert.rejects(verify(t), (e) => e.code === code, code);
  };
  await fails(tokens.tamperedSig, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  await fails(tokens.tamperedPayload, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  await fails(tokens.expired, 'ERR_JWT_EXPIRED');
  await fails(tokens.other.ourIssuer, 'ERR_JWKS_NO_MATCHING_KEY');
  await fails(tokens.pools[`2/${USERS[0].sub}`], 'ERR_JWKS_NO_MATCHING_KEY');
  // Tampering changed something each time.
  const originals = new Set(Object.values(tokens.pools).flat());
  for (const t of [...tokens.tamperedSig, ...tokens.tamperedPayload]) assert.ok(!originals.has(t));
  for (const t of tokens.templates.hasura) assert.equal(payloadOf(t).tpl, 'hasura');
});

test('the planner: spoofed headers and a unique id on every request, no v2 token in transition, boundaries kept', async () => {
  const plan = planner({ tokens, seed: 7, edgeHost: EDGE });
  const ids = new Set();
  const spoofNames = spoofedHeaders('x').map(([n]) => n);
  for (const phase of ['pre', 'transition', 'post']) {
    for (let i = 0; i < 400; i++) {
      const req = await plan.next(phase, t0);
      assert.ok(!ids.has(req.rid));
      ids.add(req.rid);
      assert.deepEqual(req.headers[0], ['x-request-id', req.rid]);
      for (const n of spoofNames) assert.ok(req.headers.some(([h]) => h === n), n);
      if (phase === 'transition') assert.notEqual(req.version, 2);
      if (phase === 'pre' && req.version === 2 && req.route !== 'public') assert.equal(req.expected.code, 'unknown_key');
      if (req.tenant === OTHER) assert.ok(req.headers.some(([h, v]) => h === 'x-application-id' && v === OTHER));
    }
  }
  // Near a boundary no token bound to it is planned.
  for (let i = 0; i < 300; i++) {
    const req = await plan.next('pre', tokens.expiresAt * 1000 + 200);
    assert.notEqual(req.cls, 'expiring');
  }
});

/** What a correct edge would forward for `req`. */
function forwarded(req) {
  const headers = {
    host: '127.0.0.1:10',
    'x-request-id': req.rid,
    'x-forwarded-host': EDGE,
    'x-forwarded-proto': 'http',
    forwarded: `for=127.0.0.1;host="${EDGE}";proto=http`,
    'x-forwarded-for': '127.0.0.1',
    'x-real-ip': '127.0.0.1',
    'x-torii-edge-assertion': 'a.b.c',
    ...req.expected.identity,
  };
  if (req.expected.claims) headers['x-torii-claims'] = Buffer.from(JSON.stringify(req.expected.claims)).toString('base64url');
  return { at: Date.now(), method: req.method, url: req.path, headers, rawHeaders: Object.entries(headers).flat(), body: req.body ?? '' };
}

test('forwardedProblems: a correct forward passes; each kind of leak or mismatch is caught', async () => {
  const plan = planner({ tokens, seed: 3, edgeHost: EDGE });
  let req;
  do req = await plan.next('pre', t0);
  while (!(req.expected.pass && req.expected.claims && req.expected.identity['x-torii-org-role']));
  assert.deepEqual(forwardedProblems(req, forwarded(req), { edgeHost: EDGE }), []);
  const mutations = {
    'spoofed x-torii value': (h) => (h['x-torii-user-id'] = `spoof-user-${req.rid}`),
    'identity header missing': (h) => delete h['x-torii-org-role'],
    'other claims': (h) => (h['x-torii-claims'] = Buffer.from('{"sub":"x"}').toString('base64url')),
    'underscore spelling passed': (h) => (h.x_torii_user_id = 'admin'),
    'spoofed x-forwarded-for': (h) => (h['x-forwarded-for'] = '203.0.113.7'),
    'spoofed forwarded': (h) => (h.forwarded = 'for=203.0.113.9;host="127.0.0.1:9";proto=http'),
    'spoofed host': (h) => (h['x-forwarded-host'] = `spoof-${req.rid}.example`),
    'method override passed': (h) => (h['x-http-method-override'] = 'SPOOF-DELETE'),
    'no assertion': (h) => delete h['x-torii-edge-assertion'],
  };
  for (const [what, mutate] of Object.entries(mutations)) {
    const rec = forwarded(req);
    mutate(rec.headers);
    rec.rawHeaders = Object.entries(rec.headers).flat();
    assert.ok(forwardedProblems(req, rec, { edgeHost: EDGE }).length > 0, what);
  }
  assert.ok(forwardedProblems(req, { ...forwarded(req), url: '/elsewhere' }, { edgeHost: EDGE }).length > 0, 'URL');
  assert.deepEqual(identityHeaders({ sub: 'u', iss: ISSUER, org_role: 'менеджер' }, TENANT), {
    'x-torii-user-id': 'u', 'x-torii-tenant-id': TENANT, 'x-torii-issuer': ISSUER,
  });
});

test('judge: refused-but-forwarded, wrong codes, missing passes, strays and 5xx are all reported', async () => {
  const plan = planner({ tokens, seed: 5, edgeHost: EDGE });
  const reqs = [];
  while (reqs.filter((r) => r.expected.pass).length < 3 || reqs.filter((r) => !r.expected.pass).length < 4) reqs.push(await plan.next('pre', t0));
  const passes = reqs.filter((r) => r.expected.pass);
  const refusals = reqs.filter((r) => !r.expected.pass);
  const seen = new Map();
  const results = [];
  const ok = (req) => ({ req, plannedAt: t0, doneAt: t0, status: 200, headers: { 'x-load-origin': '1', 'x-request-id': req.rid } });
  const no = (req, code = req.expected.code, status = req.expected.status) => ({ req, plannedAt: t0, doneAt: t0, status, code, headers: { 'x-request-id': req.rid } });
  // Correct: passes[0], refusals[0].
  seen.set(passes[0].rid, forwarded(passes[0]));
  results.push(ok(passes[0]), no(refusals[0]));
  // Wrong: a pass the origin never saw; a refusal it saw; a wrong code; a 5xx.
  results.push(ok(passes[1]));
  seen.set(refusals[1].rid, forwarded(refusals[1]));
  results.push(ok(refusals[1]));
  results.push(no(refusals[2], 'not_the_code'));
  results.push(no(refusals[3], 'misconfigured', 500));
  seen.set('never-sent', forwarded(passes[2]));
  const origin = { seen, duplicates: [], anonymous: [], count: seen.size };
  const v = await judge(results, origin, { edgeHost: EDGE, originUrl: ORIGIN, tenants: {}, sampleEvery: 0 });
  assert.deepEqual(v.wrong.map((w) => w.rid).sort(), [passes[1].rid, refusals[1].rid, refusals[2].rid].sort());
  assert.deepEqual(v.fivexx.map((e) => e.rid), [refusals[3].rid]);
  assert.deepEqual(v.strays.map((s) => s.rid), ['never-sent']);
});
