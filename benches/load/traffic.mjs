// The traffic of `make load` and the expected outcome of every request, decided before
// it is sent from the route rules (docs/gateway.md), the token and the run's phase (key
// rotation, time-bounded tokens). The Worker under test never informs an expectation.
import { SignJWT } from 'jose';
import { deriveKey } from '../../scripts/dev-token.mjs';

export const TENANT = 'demo';
export const OTHER = 'acme';
export const OTHER_ISSUER = 'https://acme.torii.test';
export const SKEW = 60; // the core's default clock skew (src/jose/policy.rs)
export const TEMPLATE_TYP = 'torii-template+jwt';

export const ROUTES = [
  { path: '/public/**', access: 'public' },
  { path: '/feed/**', access: 'optional' },
  { path: '/admin/**', access: 'required', roles: ['admin', 'owner'] },
  { path: '/billing/**', access: 'required', claims: { aal: 'aal2' } },
  { path: '/graphql', access: 'required', templates: ['hasura'] },
];

/** Route kinds: how each is reached and what it requires (the ROUTES above; /api is unmatched: default deny). */
const ROUTE_KINDS = {
  public: { access: 'public', path: (n) => `/public/items/${n}` },
  optional: { access: 'optional', path: (n) => `/feed/${n}` },
  admin: { access: 'required', roles: ['admin', 'owner'], path: (n) => `/admin/users/${n}` },
  billing: { access: 'required', claims: { aal: 'aal2' }, path: (n) => `/billing/invoices/${n}` },
  graphql: { access: 'required', templates: ['hasura'], path: () => '/graphql' },
  default: { access: 'required', path: (n) => `/api/things/${n}` },
};
const ROUTE_WEIGHTS = [['public', 20], ['optional', 15], ['default', 30], ['admin', 15], ['billing', 10], ['graphql', 10]];

/** The users of the valid tokens: several roles, org-less, and a non-ASCII role (no header). */
export const USERS = [
  { sub: 'user_alice', sid: 'sess_alice', org_id: 'org_1', org_role: 'admin', aal: 'aal2' },
  { sub: 'user_bob', sid: 'sess_bob', org_id: 'org_1', org_role: 'member', aal: 'aal1' },
  { sub: 'user_carol', sid: 'sess_carol' },
  { sub: 'user_dave', sid: 'sess_dave', org_id: 'org_2', org_role: 'owner' },
  { sub: 'user_eve', sid: 'sess_eve', org_id: 'org_3', org_role: 'менеджер', aal: 'aal2' },
];

/**
 * Spoofed headers sent on every request: our x-torii-* names in several spellings and
 * forwarding headers. Every value carries "spoof" or an address of 203.0.113.0/24, so a
 * value that reaches the origin is found by a substring search. (CF-Connecting-IP is not
 * among them: it is the runtime's own header, set by Cloudflare in production; `wrangler
 * dev` passes a client's through, see docs/benchmarks.md.)
 */
export function spoofedHeaders(rid) {
  return [
    ['X-Torii-User-Id', `spoof-user-${rid}`],
    ['x_torii_user_id', `spoof-user2-${rid}`],
    ['X-TORII-CLAIMS', Buffer.from(JSON.stringify({ sub: `spoof-${rid}`, org_role: 'admin' })).toString('base64url')],
    ['x-torii-org-role', `spoof-role-${rid}`],
    ['X_Torii_Tenant_Id', `spoof-tenant-${rid}`],
    ['x-torii-session-id', `spoof-sess-${rid}`],
    ['x-torii-issuer', `https://spoof-${rid}.example`],
    ['x-torii-aal', `spoof-aal-${rid}`],
    ['x-torii-edge-assertion', `spoof.assertion.${rid}`],
    ['X-Forwarded-For', '203.0.113.7, 203.0.113.8'],
    ['Forwarded', `for=203.0.113.9;host=spoof-${rid}.example;proto=https`],
    ['X-Forwarded-Host', `spoof-${rid}.example`],
    ['X-Forwarded-Proto', 'spoof-https'],
    ['X-Real-IP', '203.0.113.10'],
    ['True-Client-IP', '203.0.113.11'],
    ['X_Forwarded_For', '203.0.113.12'],
    ['X-HTTP-Method-Override', 'SPOOF-DELETE'],
    ['X-Original-URL', `/spoof-${rid}`],
  ];
}
/** What a spoofed value looks like (any header value at the origin matching it is a leak). */
export const SPOOF_MARK = /spoof|203\.0\.113\./i;

/** mulberry32: a small seeded PRNG, so a run's mix is reproducible (`--seed`). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (weighted) => {
    const total = weighted.reduce((s, [, w]) => s + w, 0);
    let x = next() * total;
    for (const [v, w] of weighted) if ((x -= w) < 0) return v;
    return weighted.at(-1)[0];
  };
  return { next, pick, int: (n) => Math.floor(next() * n), chance: (p) => next() < p };
}

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const unb64 = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

/** A copy of `token` with one signature byte flipped (still a 64-byte, canonical encoding). */
export function flipSignature(token, at = 40) {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[at] ^= 0x01;
  return `${h}.${p}.${sig.toString('base64url')}`;
}
/** A copy of `token` whose payload is changed (`changes` merged in), signature kept. */
export function changePayload(token, changes) {
  const [h, p, s] = token.split('.');
  return `${h}.${b64({ ...unb64(p), ...changes })}.${s}`;
}
export const payloadOf = (token) => unb64(token.split('.')[1]);

/**
 * Token fixtures for one run: signing keys derived like the Worker's (scripts/dev-token.mjs),
 * pools of valid tokens per user and key version (repeated: the verified-token cache),
 * first-seen tokens minted on demand, and the refused kinds.
 */
export async function makeTokens({ secret, issuer, t0, seconds, pool: poolSize = 24 }) {
  const pool = Math.max(6, poolSize);
  const keys = {};
  const key = async (tenant, version) => (keys[`${tenant}/${version}`] ??= await deriveKey(secret, tenant, version));
  const now = Math.floor(t0 / 1000);
  let serial = 0;
  const sign = async ({ tenant = TENANT, version = 1, iss = issuer, typ = 'JWT', claims, iat = now, exp = now + seconds + 3600 }) => {
    const k = await key(tenant, version);
    return new SignJWT({ pid: tenant, jti: `j${serial++}`, ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: k.kid, typ })
      .setIssuer(iss)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(k.privateKey);
  };
  const user = (u) => Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined));
  const pools = {};
  for (const version of [1, 2]) {
    for (const u of USERS) {
      const list = [];
      for (let i = 0; i < pool; i++) list.push(await sign({ version, claims: user(u) }));
      pools[`${version}/${u.sub}`] = list;
    }
  }
  // Time boundaries (seconds since the epoch, Worker clock): tokens that expire during
  // the run (valid before `expiresAt`, token_expired from it), and tokens that become
  // valid during it (token_not_yet_valid before `validFrom`). Each is one of a few
  // tokens sent over and over, so the verified-token cache holds them.
  const expiresAt = now + Math.max(3, Math.round(seconds * 0.3));
  const validFrom = now + Math.max(6, Math.round(seconds * 0.7));
  const expiring = [];
  const notYet = [];
  for (const u of USERS.slice(0, 4)) {
    expiring.push(await sign({ claims: user(u), iat: expiresAt - SKEW - 600, exp: expiresAt - SKEW }));
    notYet.push(await sign({ claims: { ...user(u), nbf: validFrom + SKEW } }));
  }
  const expired = [];
  const tamperedSig = [];
  const tamperedPayload = [];
  for (const u of USERS) {
    expired.push(await sign({ claims: user(u), iat: now - 7200, exp: now - 3600 }));
    const good = pools[`1/${u.sub}`];
    tamperedSig.push(flipSignature(good[0]), flipSignature(good[1], 33));
    const changed = [
      changePayload(good[2], { org_role: u.org_role === 'admin' ? 'owner' : 'admin' }),
      changePayload(good[3], { sub: `${u.sub}_x` }),
      changePayload(good[4], { exp: payloadOf(good[4]).exp + 86_400 }),
    ];
    if (changed.some((t, i) => t === good[2 + i])) throw new Error('a tampered payload equals its original');
    tamperedPayload.push(...changed);
  }
  const templates = { hasura: [], supabase: [] };
  for (const u of USERS.slice(0, 3)) {
    for (const tpl of ['hasura', 'supabase']) {
      templates[tpl].push(
        await sign({
          typ: TEMPLATE_TYP,
          claims: { sub: u.sub, sid: u.sid, tpl, 'https://hasura.io/jwt/claims': { 'x-hasura-user-id': u.sub, 'x-hasura-default-role': 'user' } },
          exp: now + seconds + 600,
        }),
      );
    }
  }
  const other = { ownIssuer: [], ourIssuer: [] };
  const ourAtOther = [];
  for (const u of USERS.slice(0, 3)) {
    // The second tenant's token (its issuer, its key); its key under our issuer.
    other.ownIssuer.push(await sign({ tenant: OTHER, iss: OTHER_ISSUER, claims: user(u) }));
    other.ourIssuer.push(await sign({ tenant: OTHER, claims: user(u) }));
    ourAtOther.push(pools[`1/${u.sub}`][5]);
  }
  const fresh = async (version, u) => sign({ version, claims: user(u) });
  return { pools, fresh, expiring, notYet, expiresAt, validFrom, expired, tamperedSig, tamperedPayload, templates, other, ourAtOther, kid: async (t, v) => (await key(t, v)).kid };
}

/** Claims → the identity headers the gateway must forward (docs/gateway.md "Claims in headers"). */
export function identityHeaders(claims, tenant) {
  const printable = (v) => typeof v === 'string' && v.length <= 1024 && /^[\x20-\x7e]+$/.test(v) && v.trim() === v;
  const out = {};
  const put = (name, v) => {
    if (v !== undefined && printable(v)) out[name] = v;
  };
  put('x-torii-user-id', claims.sub);
  put('x-torii-session-id', claims.sid);
  put('x-torii-tenant-id', tenant);
  put('x-torii-issuer', claims.iss);
  put('x-torii-org-id', claims.org_id);
  put('x-torii-org-role', claims.org_role);
  put('x-torii-aal', claims.aal);
  return out;
}

const refuse = (status, code) => ({ pass: false, status, code });

/**
 * What the gateway must do with a credential on a route (docs/gateway.md):
 * `cred` is `{ kind: 'none' | 'bad-header' | 'error' | 'session' | 'template', code?, claims?, tpl? }`.
 * Returns `{ pass: true, claims | null }` or `{ pass: false, status, code }`.
 */
export function decide(route, cred) {
  const r = ROUTE_KINDS[route];
  if (r.access === 'public') return { pass: true, claims: null };
  if (cred.kind === 'none') return r.access === 'optional' ? { pass: true, claims: null } : refuse(401, 'missing_token');
  if (cred.kind === 'bad-header') return refuse(400, 'invalid_request');
  if (cred.kind === 'error') return refuse(401, cred.code);
  if (cred.kind === 'template') {
    if (!(r.templates ?? []).includes(cred.tpl)) return refuse(401, 'invalid_token_type');
  }
  const c = cred.claims;
  if (r.roles && !r.roles.includes(c.org_role)) return refuse(403, 'insufficient_scope');
  if (r.claims && Object.entries(r.claims).some(([k, v]) => c[k] !== v)) return refuse(403, 'insufficient_scope');
  return { pass: true, claims: c };
}

/**
 * Weights changed by `spec` ("name=weight,…"; `*=w` for every name not listed), e.g.
 * `none=1,*=0` (experiments: `--mix`, `--route-mix`).
 */
export function reweigh(weights, spec) {
  if (!spec) return weights;
  const set = Object.fromEntries(spec.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k.trim(), Number(v)]));
  for (const k of Object.keys(set)) {
    if (k !== '*' && !weights.some(([n]) => n === k)) throw new Error(`unknown name ${k} in ${spec}`);
  }
  const out = weights.map(([n, w]) => [n, set[n] ?? set['*'] ?? w]);
  if (!out.some(([, w]) => w > 0)) throw new Error(`no weight left in ${spec}`);
  return out.filter(([, w]) => w > 0);
}

/**
 * The request planner: `next(phase, nowMs)` → a request with its expectation. `phase` is
 * the rotation phase: 'pre' (only key v1 published: v2 tokens are unknown_key),
 * 'transition' (no v2 token is sent: the outcome depends on when the cron's write is
 * seen), 'post' (both published). Time-bounded tokens are sent only more than `marginMs`
 * away from their boundary.
 */
export function planner({ tokens, seed = 1, marginMs = 1500, rawPaths = true, edgeHost, mix = '', routeMix = '' }) {
  const R = rng(seed);
  let n = 0;
  const sent = new Set();
  const pickUser = () => USERS[R.int(USERS.length)];
  const of = (list) => list[R.int(list.length)];
  const CLASSES = reweigh([
    ['valid', 36], ['none', 10], ['expired', 5], ['expiring', 3], ['not-yet', 3],
    ['tampered-sig', 5], ['tampered-payload', 5], ['other-issuer', 3], ['other-key', 3],
    ['ours-at-other', 2], ['other-at-other', 4], ['template', 6], ['template-other', 2],
    ['v2', 5], ['malformed-token', 2], ['bad-header', 2],
  ], mix);
  const routeWeights = reweigh(ROUTE_WEIGHTS, routeMix);
  async function credential(cls, phase, nowMs) {
    const s = nowMs / 1000;
    switch (cls) {
      case 'valid': {
        const u = pickUser();
        const version = phase === 'post' && R.chance(0.5) ? 2 : 1;
        const token = R.chance(0.3) ? await tokens.fresh(version, u) : of(tokens.pools[`${version}/${u.sub}`]);
        return { token, kind: 'session', version };
      }
      case 'v2': {
        if (phase === 'transition') return null;
        const u = pickUser();
        const token = R.chance(0.3) ? await tokens.fresh(2, u) : of(tokens.pools[`2/${u.sub}`]);
        return phase === 'pre' ? { token, kind: 'error', code: 'unknown_key', version: 2 } : { token, kind: 'session', version: 2 };
      }
      case 'none':
        return { kind: 'none' };
      case 'expired':
        return { token: of(tokens.expired), kind: 'error', code: 'token_expired' };
      case 'expiring': {
        const b = tokens.expiresAt;
        if (Math.abs(s - b) * 1000 < marginMs) return null;
        const token = of(tokens.expiring);
        return s < b ? { token, kind: 'session', boundary: b } : { token, kind: 'error', code: 'token_expired', boundary: b };
      }
      case 'not-yet': {
        const b = tokens.validFrom;
        if (Math.abs(s - b) * 1000 < marginMs) return null;
        const token = of(tokens.notYet);
        return s < b ? { token, kind: 'error', code: 'token_not_yet_valid', boundary: b } : { token, kind: 'session', boundary: b };
      }
      case 'tampered-sig':
        return { token: of(tokens.tamperedSig), kind: 'error', code: 'invalid_signature' };
      case 'tampered-payload':
        return { token: of(tokens.tamperedPayload), kind: 'error', code: 'invalid_signature' };
      case 'other-issuer':
        return { token: of(tokens.other.ownIssuer), kind: 'error', code: 'invalid_issuer' };
      case 'other-key':
        return { token: of(tokens.other.ourIssuer), kind: 'error', code: 'unknown_key' };
      case 'ours-at-other':
        return { token: of(tokens.ourAtOther), kind: 'error', code: 'invalid_issuer', tenant: OTHER };
      case 'other-at-other':
        return { token: of(tokens.other.ownIssuer), kind: 'session', tenant: OTHER };
      case 'template':
        return { token: of(tokens.templates.hasura), kind: 'template', tpl: 'hasura', bearerOnly: true };
      case 'template-other':
        return { token: of(tokens.templates.supabase), kind: 'template', tpl: 'supabase', bearerOnly: true };
      case 'malformed-token':
        return { token: 'not-a-jwt', kind: 'error', code: 'malformed_token', bearerOnly: true };
      case 'bad-header':
        return { header: 'Basic dXNlcjpwYXNz', kind: 'bad-header' };
      default:
        throw new Error(cls);
    }
  }
  return {
    sent,
    async next(phase, nowMs) {
      let cls;
      let cred;
      do {
        cls = R.pick(CLASSES);
        cred = await credential(cls, phase, nowMs);
      } while (!cred);
      const i = n++;
      const rid = `load-${seed}-${i}`;
      let route = cls.startsWith('template') && !routeMix && R.chance(0.6) ? 'graphql' : R.pick(routeWeights);
      const tenant = cred.tenant ?? TENANT;
      if (tenant === OTHER && route === 'graphql') route = 'default';
      const claims = cred.token && (cred.kind === 'session' || cred.kind === 'template') ? payloadOf(cred.token) : undefined;
      const expected = decide(route, { ...cred, claims });
      let path = ROUTE_KINDS[route].path(i);
      const query = R.chance(0.3) ? `?q=${i}&sort=asc` : '';
      // Sometimes reach the route through a public prefix and `..`: the edge normalizes
      // the path first (the origin sees the normalized one), so this is the same route.
      let raw = path;
      if (rawPaths && route !== 'public' && R.chance(0.05)) raw = `/public/..${path}`;
      else if (rawPaths && R.chance(0.03)) raw = path.replace(/^\/([^/]+)\//, '/$1/./');
      const method = R.chance(0.2) ? 'POST' : 'GET';
      const body = method === 'POST' ? `body-${rid}` : undefined;
      const headers = [['x-request-id', rid], ...spoofedHeaders(rid)];
      if (tenant !== TENANT) headers.push(['x-application-id', tenant]);
      if (cred.header) headers.push(['authorization', cred.header]);
      else if (cred.token) {
        if (!cred.bearerOnly && R.chance(0.15)) headers.push(['cookie', `theme=dark; __session=${cred.token}`]);
        else headers.push(['authorization', `Bearer ${cred.token}`]);
      }
      if (body) headers.push(['content-type', 'text/plain']);
      sent.add(rid);
      return {
        i, rid, cls, route, tenant, method, raw: raw + query, path: path + query, body, headers,
        version: cred.version, boundary: cred.boundary, token: cred.token,
        expected: expected.pass
          ? { ...expected, identity: expected.claims ? identityHeaders(expected.claims, tenant) : {} }
          : expected,
        edgeHost,
      };
    },
  };
}
