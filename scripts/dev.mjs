#!/usr/bin/env node
// `make dev`: seeds the demo tenant into local D1 (migrations are applied by the Makefile
// first), starts the demo origin (scripts/demo-origin.mjs, when present) and the dev build
// of the Worker (build-dev/, `make build-worker-dev`: the one with the dev-only routes)
// under `wrangler dev` on 127.0.0.1, then prints ready-to-paste commands: a 401 and a 200
// through the gateway, a session token and a minted "hasura" template token.
// Usage: node scripts/dev.mjs [--port 8787] [--origin-port 8788] [--vars .dev.vars]
//        [--script build-dev/index.js]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readVars } from './dev-token.mjs';
import { DEMO_TENANT, DEMO_USER, seedSql } from './seed.mjs';

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
if (!readVars(values.vars).TORII_MASTER_SECRET) {
  console.error(`dev: no TORII_MASTER_SECRET in ${values.vars}`);
  process.exit(1);
}

// 1. Seed local D1: the demo tenant (issuer = this edge), its user, session and templates.
const dir = mkdtempSync(join(tmpdir(), 'torii-dev-'));
writeFileSync(join(dir, 'seed.sql'), seedSql({ tenant: DEMO_TENANT, issuer: edge }));
execFileSync(WRANGLER, ['d1', 'execute', 'DB', '--local', '--file', join(dir, 'seed.sql')], {
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
rmSync(dir, { recursive: true, force: true });

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
    const res = await fetch(`${edge}/.well-known/openid-configuration`);
    if (res.ok) break;
  } catch {}
  if (Date.now() > deadline) {
    console.error(`dev: ${edge} did not answer within 120 s`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}

// 4. A session for the demo user (dev-only endpoint), and a minted "hasura" token.
const post = async (path, body, headers = {}) => {
  const res = await fetch(edge + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
};
const session = await post('/_torii/devtools/sessions', { userId: DEMO_USER, ttl: 86400, tokenLifetime: 3600 });
if (session.status !== 201) {
  console.error('dev: could not create the demo session:', session);
  process.exit(1);
}
const token = session.body.accessToken;
const hasura = await post('/_torii/auth/session/token?template=hasura', undefined, {
  authorization: `Bearer ${token}`,
});

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
Tenant "${DEMO_TENANT}" (issuer ${edge}), user ${DEMO_USER}, session ${session.body.sessionId}.

Session token (dev: valid 1 h, until ${session.body.expiresAt}; minted ones live TORII_TOKEN_LIFETIME_SECS, 60 s):
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
