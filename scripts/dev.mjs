#!/usr/bin/env node
// `make dev`: starts the demo origin (scripts/demo-origin.mjs, when present) and the dev build
// of the Worker (build-dev/, `make build-worker-dev`: the one with the dev-only routes)
// under `wrangler dev` on 127.0.0.1 (migrations are applied by the Makefile first),
// then creates the demo application through the Backend API (`POST /v1/applications`
// with the operator secret of .dev.vars), its user, templates and session through /v1,
// and prints the demo secret key and ready-to-paste commands: a curl line per /v1 group,
// a 401 and a 200 through the gateway, a session token and a minted "hasura" token.
// Usage: node scripts/dev.mjs [--port 8787] [--origin-port 8788] [--vars .dev.vars]
//        [--script build-dev/index.js]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readVars } from './dev-token.mjs';
import { DEMO_TEMPLATES, DEMO_TENANT, DEMO_USER, DEMO_USER_ROW } from './seed.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    'origin-port': { type: 'string', default: '8788' },
    vars: { type: 'string', default: '.dev.vars' },
    script: { type: 'string', default: 'build-dev/index.js' },
  },
});
const edge = `http://127.0.0.1:${values.port}`;
const WRANGLER = 'node_modules/.bin/wrangler';
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
const vars = readVars(values.vars);
if (!vars.TORII_MASTER_SECRET) {
  console.error(`dev: no TORII_MASTER_SECRET in ${values.vars}`);
  process.exit(1);
}
if (!vars.TORII_OPERATOR_SECRET) {
  // A .dev.vars from before the Backend API: add the operator secret (git-ignored file).
  vars.TORII_OPERATOR_SECRET = randomBytes(32).toString('base64url');
  appendFileSync(values.vars, `TORII_OPERATOR_SECRET=${vars.TORII_OPERATOR_SECRET}\n`, { mode: 0o600 });
  console.log(`dev: added a random TORII_OPERATOR_SECRET to ${values.vars}`);
}
const OPERATOR = vars.TORII_OPERATOR_SECRET;

// 1. A fresh demo application each run (its first secret key is shown only at creation):
// drop the previous one from local D1 (cascading to its keys, users, sessions, templates).
execFileSync(
  WRANGLER,
  ['d1', 'execute', 'DB', '--local', '--command', `DELETE FROM tenants WHERE id = '${DEMO_TENANT}'`],
  { env, stdio: ['ignore', 'ignore', 'inherit'] },
);

// 2. The demo origin (owned by the gateway: scripts/demo-origin.mjs), if present.
const devVars = { TORII_DEFAULT_TENANT: DEMO_TENANT, TORII_DEV_MODE: '1' };
let origin = null;
if (existsSync(new URL('./demo-origin.mjs', import.meta.url))) {
  const { startDemoOrigin } = await import('./demo-origin.mjs');
  origin = await startDemoOrigin({ port: Number(values['origin-port']), edge });
  devVars.ORIGIN_URL = origin.url;
  devVars.ROUTES = JSON.stringify([
    { path: '/public/**', access: 'public' },
    { path: '/admin/**', access: 'required', roles: ['admin'] },
    // Template tokens pass only routes naming their template.
    { path: '/graphql', access: 'required', templates: ['hasura'] },
  ]);
}

// 3. The edge.
const child = spawn(
  WRANGLER,
  [
    'dev', values.script, '--ip', '127.0.0.1', '--port', values.port, '--test-scheduled',
    ...Object.entries(devVars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ],
  { stdio: 'inherit', env },
);
const stop = (signal) => {
  child.kill(signal);
  origin?.close();
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(signal));
child.on('exit', (code, signal) => {
  origin?.close();
  process.exit(code ?? (signal ? 1 : 0));
});

const deadline = Date.now() + 120_000;
for (;;) {
  try {
    // Any answer will do: the demo application does not exist yet (404 is expected).
    const res = await fetch(`${edge}/.well-known/openid-configuration`);
    await res.arrayBuffer();
    break;
  } catch {}
  if (Date.now() > deadline) {
    console.error(`dev: ${edge} did not answer within 120 s`);
    stop('SIGTERM');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}

// 4. Through the Backend API: the application (operator), its user, templates, a session.
const api = async (method, path, { key, body, operator = false } = {}) => {
  const headers = { 'content-type': 'application/json' };
  if (operator) headers.authorization = `Bearer ${OPERATOR}`;
  if (key) Object.assign(headers, { authorization: `Bearer ${key}`, 'x-application-id': DEMO_TENANT });
  const res = await fetch(edge + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const out = { status: res.status, body: await res.json().catch(() => null) };
  if (res.status >= 300) {
    console.error(`dev: ${method} ${path} answered ${res.status}:`, out.body);
    stop('SIGTERM');
    process.exitCode = 1;
    throw new Error('dev: the demo setup failed');
  }
  return out.body;
};
const created = await api('POST', '/v1/applications', {
  operator: true,
  body: { id: DEMO_TENANT, environment: 'development', allowed_origins: ['http://localhost:3000'] },
});
const KEY = created.api_key.secret;
const { id: _id, ...userFields } = DEMO_USER_ROW;
await api('POST', '/v1/users', {
  key: KEY,
  body: { id: DEMO_USER, ...userFields, email_verified: Boolean(DEMO_USER_ROW.email_verified) },
});
for (const t of DEMO_TEMPLATES) {
  await api('PUT', `/v1/jwt-templates/${t.name}`, {
    key: KEY,
    body: { claims: t.body, default: Boolean(t.is_default), ...(t.lifetime ? { lifetime: t.lifetime } : {}) },
  });
}
const created_session = await api('POST', '/v1/sessions', { key: KEY, body: { user_id: DEMO_USER, expires_in: 86400 } });
const session = { body: { sessionId: created_session.session.id, expiresAt: new Date(created_session.token.expires_at * 1000).toISOString() } };
const token = created_session.token.jwt;
const hasuraToken = await api('POST', `/v1/sessions/${session.body.sessionId}/tokens?template=hasura`, { key: KEY });
const hasura = { body: { accessToken: hasuraToken.jwt, expiresAt: hasuraToken.expires_at } };

const gateway = origin
  ? `
Through the gateway (origin ${origin.url} prints what it receives and checks the edge assertion):
  curl -si ${edge}/api/hello                                    # 401: no token (default deny)
  curl -si -H "Authorization: Bearer $TOKEN" ${edge}/api/hello  # 200: verified, x-torii-* headers
  curl -si -H "X-Torii-User-Id: admin" ${edge}/public/hi        # 200: spoofed header stripped
  HASURA=${hasura.body?.accessToken ?? ''}
  curl -si -H "Authorization: Bearer $HASURA" ${edge}/api/hello # 401 invalid_token_type: a template token
  curl -si -H "Authorization: Bearer $HASURA" ${edge}/graphql   # 200: the route names "hasura"
`
  : '';
console.log(`
────────────────────────── torii-edge dev ──────────────────────────
Application "${DEMO_TENANT}" (issuer ${edge}), user ${DEMO_USER}, session ${session.body.sessionId},
all created through the Backend API. Its admin secret key (shown once; local only):
  KEY=${KEY}
  APP=${DEMO_TENANT}

Dashboard (docs/dashboard.md): ${edge}/_torii/dashboard/ (Connection: application $APP, the KEY above)

Backend API (/v1), one line per group (docs/backend-api.md):
  curl -s -H "Authorization: Bearer $KEY" -H "x-application-id: $APP" ${edge}/v1/applications/current
  curl -s -H "Authorization: Bearer $KEY" -H "x-application-id: $APP" ${edge}/v1/api-keys
  curl -s -H "Authorization: Bearer $KEY" -H "x-application-id: $APP" '${edge}/v1/users?limit=10'
  curl -s -H "Authorization: Bearer $KEY" -H "x-application-id: $APP" '${edge}/v1/sessions?user_id=${DEMO_USER}&status=active'
  curl -s -X POST -H "Authorization: Bearer $KEY" -H "x-application-id: $APP" '${edge}/v1/sessions/${session.body.sessionId}/tokens?template=hasura'
  curl -s -H "Authorization: Bearer $KEY" -H "x-application-id: $APP" ${edge}/v1/jwt-templates
  curl -s -H "Authorization: Bearer $KEY" -H "x-application-id: $APP" ${edge}/v1/signing-keys

Session token (valid until ${session.body.expiresAt}: TORII_TOKEN_LIFETIME_SECS, 60 s; mint another with the tokens line above):
  TOKEN=${token}

Discovery and JWKS (ETag; repeat with -H 'If-None-Match: "…"' for a 304):
  curl -si ${edge}/.well-known/openid-configuration
  curl -si ${edge}/_torii/.well-known/jwks.json
${gateway}
Minting (seed 002): a "hasura" template token, and a fresh session token:
  curl -s -X POST -H "Authorization: Bearer $TOKEN" '${edge}/_torii/auth/session/token?template=hasura'
  curl -s -X POST -H "Authorization: Bearer $TOKEN" ${edge}/_torii/auth/session/token
  → ${JSON.stringify(hasura.body)}
Verify a token with jose against the served JWKS:
  node scripts/verify-token.mjs --issuer ${edge} "$TOKEN"
Rotate keys now (the Cron Trigger, with TORII_ROTATION_PERIOD_SECS elapsed):
  curl -s '${edge}/__scheduled?cron=17+*+*+*+*'
────────────────────────────────────────────────────────────────────
`);
