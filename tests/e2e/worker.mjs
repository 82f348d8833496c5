// Starts the real, built Worker (build/index.js, from `make build-worker`) under
// `wrangler dev` on a free loopback port, with its own env file and state directory:
// the D1 migrations are applied to that state with `wrangler d1 migrations apply --local`
// and the demo tenant is seeded (scripts/seed.mjs) before the Worker starts.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { seedSql } from '../../scripts/seed.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const READY_TIMEOUT_MS = 90_000;

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const run = promisify(execFile);
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: '1' };

/** Runs a wrangler command against local D1 in `persistTo`; returns its stdout. */
export async function wranglerD1(persistTo, args) {
  const { stdout } = await run(
    process.execPath,
    [WRANGLER, 'd1', ...args, '--local', '--persist-to', persistTo],
    { cwd: ROOT, env: WRANGLER_ENV, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/**
 * Runs `wrangler dev` with `vars` (written to a temporary env file, so the developer's
 * .dev.vars is never read) and resolves once the Worker answers.
 *
 * Before it starts, the migrations are applied to a fresh local D1 and `tenants` are
 * seeded: each `{ id, issuer?, domains?, user?, templates? }` (issuer default: the
 * Worker's origin; default: the demo tenant). `TORII_DEFAULT_TENANT` defaults to `demo`.
 * `/__scheduled` is enabled (`--test-scheduled`) to drive the cron.
 * Returns `{ origin, port, stop, output, state }`.
 */
export async function startWorker(vars, { tenants = [{ id: 'demo' }] } = {}) {
  if (!existsSync(join(ROOT, 'build', 'index.js'))) {
    throw new Error('build/index.js is missing: run `make build-worker` first');
  }
  const dir = mkdtempSync(join(tmpdir(), 'torii-e2e-'));
  const envFile = join(dir, 'test.env');
  writeFileSync(
    envFile,
    Object.entries({ TORII_DEFAULT_TENANT: 'demo', ...vars })
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const origin = `http://127.0.0.1:${port}`;
  const state = join(dir, 'state');
  try {
    await wranglerD1(state, ['migrations', 'apply', 'DB']);
    if (tenants.length) {
      const seedFile = join(dir, 'seed.sql');
      writeFileSync(
        seedFile,
        tenants
          .map(({ id, issuer, ...rest }) => seedSql({ tenant: id, issuer: issuer ?? origin, ...rest }))
          .join(''),
      );
      await wranglerD1(state, ['execute', 'DB', '--file', seedFile]);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const args = [
    WRANGLER, 'dev',
    '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(inspectorPort),
    '--env-file', envFile,
    '--persist-to', state,
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    '--live-reload=false',
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true, // own process group: stop() ends wrangler and its workerd children
    stdio: ['ignore', 'pipe', 'pipe'],
    env: WRANGLER_ENV,
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const res = await fetch(`${origin}/.well-known/openid-configuration`);
      await res.arrayBuffer();
      break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev not ready after ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { origin, port, stop, output: () => output, state };
}
