// Starts the real, built Worker under `wrangler dev`: by default the dev build
// (build-dev/index.js, from `make build-worker-dev`: crate feature `dev`, with the
// dev-only routes the tests drive), or `{ build: 'build' }` the deployable one (from
// `make build-worker`, what `wrangler deploy` ships; wrangler.toml's `main`). Either runs
// with wrangler.toml's bindings; the script path overrides only `main`. It runs on a
// loopback port that workerd itself chooses (`--port 0`, and `--inspector-port 0`):
// wrangler reports the bound port over an IPC channel (`DEV_SERVER_READY`). No port is picked here and bound later by another process, so
// test files can start Workers in parallel without an `Address already in use` race.
// Each Worker has its own env file and state directory: the D1 migrations are applied to
// that state with `wrangler d1 migrations apply --local` before the Worker starts; the
// tenants (whose default issuer is the Worker's origin, known only once it is bound) are
// seeded (scripts/seed.mjs) right after it reports its port and before any request
// reaches it, so D1 is not open in the Worker yet.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_USER, seedSql } from '../../scripts/seed.mjs';
import { assertNoLeaks } from './log-scan.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const READY_TIMEOUT_MS = 90_000;

/**
 * A loopback origin that is down but whose port nobody else can take: it listens (on a
 * port the kernel chooses) and resets every connection at once, so every fetch to it
 * fails. Resolves to `{ url, close() }`.
 */
export async function startDeadOrigin() {
  const server = createServer((socket) => socket.resetAndDestroy?.() ?? socket.destroy());
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Ends a detached child's whole process group (wrangler and its workerd children):
 * SIGTERM, then SIGKILL after 5 s; resolves once `exited` (the child's exit) has.
 */
export async function stopProcessGroup(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return;
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

const run = promisify(execFile);
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: '1' };

/**
 * The repo's wrangler.toml with its `[[ratelimits]]` replaced by `ratelimits`
 * (`{ NAME: { limit, period } }`; `{}`: no limiter bindings), and `main` and
 * `migrations_dir` made absolute so the copy works from any folder.
 */
export function wranglerConfig(ratelimits) {
  const lines = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8').split('\n');
  const out = [];
  let skipping = false;
  for (const line of lines) {
    if (/^\s*\[/.test(line)) skipping = /^\s*\[\[ratelimits\]\]/.test(line);
    if (skipping) continue;
    out.push(
      line
        .replace(/^main = "(.*)"$/, (_, p) => `main = ${JSON.stringify(join(ROOT, p))}`)
        .replace(/^migrations_dir = "(.*)"$/, (_, p) => `migrations_dir = ${JSON.stringify(join(ROOT, p))}`)
        .replace(/^directory = "(.*)"$/, (_, p) => `directory = ${JSON.stringify(join(ROOT, p))}`),
    );
  }
  Object.entries(ratelimits).forEach(([name, { limit, period = 60 }], i) => {
    out.push('', '[[ratelimits]]', `name = "${name}"`, `namespace_id = "${9001 + i}"`,
      `simple = { limit = ${limit}, period = ${period} }`);
  });
  return out.join('\n') + '\n';
}

/** Runs a wrangler command against local D1 in `persistTo`; returns its stdout. */
export async function wranglerD1(persistTo, args, config) {
  const { stdout } = await run(
    process.execPath,
    [WRANGLER, 'd1', ...args, '--local', '--persist-to', persistTo, ...(config ? ['--config', config] : [])],
    { cwd: ROOT, env: WRANGLER_ENV, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/** The Worker builds startWorker can run: out dirs of worker-build, relative to ROOT. */
/**
 * One request over node:http (fetch cannot set Host) to the Worker at `origin`, with any
 * `host` (default: the origin's), on its own connection and with a Content-Length (workerd
 * misreads a chunked body on a kept-alive connection). `body` is sent as JSON. Resolves to
 * `{ status, headers, text, body }`: `body` is the parsed JSON, or `null` when it is not JSON.
 */
export function requestWithHost(origin, path, { host, method = 'GET', headers = {}, body } = {}) {
  const u = new URL(origin);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        path,
        method,
        agent: false,
        headers: {
          host: host ?? u.host,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {}
          resolve({ status: res.statusCode, headers: res.headers, text, body: json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * A session for `userId` (default: the seeded demo user) through the dev build's
 * `POST /_torii/devtools/sessions` (`headers` added to the request); asserts its 201 and
 * resolves to `{ sessionId, accessToken, expiresAt, keyVersion }`.
 */
export async function newDevSession(origin, { userId = DEMO_USER, headers = {} } = {}) {
  const res = await fetch(`${origin}/_torii/devtools/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ userId }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

export const BUILDS = { dev: 'build-dev', deployable: 'build' };

/**
 * Runs `wrangler dev` with `vars` (written to a temporary env file, so the developer's
 * .dev.vars is never read) and resolves once the Worker answers.
 *
 * The migrations are applied to a fresh local D1 before it starts; `tenants` are seeded
 * once it has reported its port, before the first request: each
 * `{ id, issuer?, domains?, user?, templates? }` (issuer default: the Worker's origin;
 * default: the demo tenant). `TORII_DEFAULT_TENANT` defaults to `demo`.
 * `/__scheduled` is enabled (`--test-scheduled`) to drive the cron. `build` is the out
 * dir of the Worker to run (default the dev build, {@link BUILDS}).
 * `ratelimits` (`{ NAME: { limit, period } }`, `{}` for none) replaces wrangler.toml's
 * `[[ratelimits]]` for this Worker (a copy of the config in its temporary folder).
 * Returns `{ origin, port, stop, output, state }`.
 */
export async function startWorker(vars, { tenants = [{ id: 'demo' }], build = BUILDS.dev, ratelimits } = {}) {
  const script = join(build, 'index.js');
  if (!existsSync(join(ROOT, script))) {
    const target = build === BUILDS.deployable ? 'build-worker' : 'build-worker-dev';
    throw new Error(`${script} is missing: run \`make ${target}\` first`);
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
  const state = join(dir, 'state');
  let config;
  if (ratelimits) {
    config = join(dir, 'wrangler.toml');
    writeFileSync(config, wranglerConfig(ratelimits));
  }
  try {
    await wranglerD1(state, ['migrations', 'apply', 'DB'], config);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const args = [
    WRANGLER, 'dev', script,
    // Port 0: workerd binds a port of the kernel's choosing and wrangler reports it.
    '--ip', '127.0.0.1', '--port', '0',
    '--inspector-port', '0',
    '--env-file', envFile,
    '--persist-to', state,
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    '--live-reload=false',
    ...(config ? ['--config', config] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true, // own process group: stop() ends wrangler and its workerd children
    // fd 3: the IPC channel on which wrangler sends DEV_SERVER_READY with the bound port.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: WRANGLER_ENV,
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const reported = new Promise((resolve) => {
    child.on('message', (m) => {
      try {
        const msg = typeof m === 'string' ? JSON.parse(m) : m;
        if (msg?.event === 'DEV_SERVER_READY' && Number.isInteger(msg.port) && msg.port > 0) {
          resolve(msg.port);
        }
      } catch {}
    });
  });

  let started = false;
  const stop = async () => {
    await stopProcessGroup(child, exited);
    rmSync(dir, { recursive: true, force: true });
    // Everything this Worker and wrangler printed: no token, key, secret or seed.
    if (started) assertNoLeaks(output, vars, tenants.map((t) => t.id));
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let timer;
  const port = await Promise.race([
    reported,
    exited.then(() => null),
    new Promise((resolve) => (timer = setTimeout(resolve, READY_TIMEOUT_MS, null))),
  ]);
  clearTimeout(timer);
  if (port === null) {
    const code = child.exitCode;
    await stop();
    throw new Error(
      code === null
        ? `wrangler dev reported no port after ${READY_TIMEOUT_MS} ms:\n${output}`
        : `wrangler dev exited with ${code}:\n${output}`,
    );
  }
  child.channel?.unref();
  const origin = `http://127.0.0.1:${port}`;

  // Seed before the first request: the Worker has not opened D1 yet.
  if (tenants.length) {
    try {
      const seedFile = join(dir, 'seed.sql');
      writeFileSync(
        seedFile,
        tenants
          .map(({ id, issuer, ...rest }) => seedSql({ tenant: id, issuer: issuer ?? origin, ...rest }))
          .join(''),
      );
      await wranglerD1(state, ['execute', 'DB', '--file', seedFile], config);
    } catch (e) {
      await stop();
      throw e;
    }
  }

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
  started = true;
  return { origin, port, stop, output: () => output, state };
}
