#!/usr/bin/env node
// `make dev`: runs the built Worker under `wrangler dev` on 127.0.0.1 and, once it
// answers, prints ready-to-paste commands and a demo token minted with the dev key.
// Usage: node scripts/dev.mjs [--port 8787] [--vars .dev.vars]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { mintDevToken, readVars } from './dev-token.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    vars: { type: 'string', default: '.dev.vars' },
  },
});
const origin = `http://127.0.0.1:${values.port}`;
const masterSecret = readVars(values.vars).TORII_MASTER_SECRET;
if (!masterSecret) {
  console.error(`dev: no TORII_MASTER_SECRET in ${values.vars}`);
  process.exit(1);
}

const child = spawn(
  'node_modules/.bin/wrangler',
  ['dev', '--ip', '127.0.0.1', '--port', values.port],
  { stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

const deadline = Date.now() + 120_000;
for (;;) {
  try {
    const res = await fetch(`${origin}/.well-known/openid-configuration`);
    if (res.ok) {
      const { issuer } = await res.json();
      const token = await mintDevToken({ masterSecret, issuer });
      console.log(`
────────────────────────── torii-edge dev ──────────────────────────
Discovery and JWKS:
  curl -s ${origin}/.well-known/openid-configuration
  curl -s ${origin}/_torii/.well-known/jwks.json

Demo token (tenant "demo", key version 1, valid 10 minutes):
  TOKEN=${token}

Verify it with jose against the served JWKS:
  node scripts/verify-token.mjs --issuer ${issuer} "$TOKEN"
New token: node scripts/dev-token.mjs --issuer ${issuer}
────────────────────────────────────────────────────────────────────
`);
      break;
    }
  } catch {}
  if (Date.now() > deadline) {
    console.error(`dev: ${origin} did not answer within 120 s`);
    break;
  }
  await new Promise((r) => setTimeout(r, 200));
}
