// The two Workers `make load` drives, both under `wrangler dev` on loopback, and the
// workerd processes behind them:
// * ours: the real Worker through tests/e2e/worker.mjs `startWorker` (dev build, D1
//   migrated and seeded, `--test-scheduled`);
// * the pass-through baseline (pass-through.mjs + pass-through.wrangler.toml), started
//   here with the same wrangler flags (`--port 0`, own env file and state directory).
// wrangler dev runs two workerd processes in its process group: a proxy in front (no
// inspector) and the runtime that runs the Worker (`--inspector-addr`). Their RSS is read
// from /proc/<pid>/status (VmRSS).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, startWorker, stopProcessGroup } from '../../tests/e2e/worker.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const READY_TIMEOUT_MS = 90_000;

/** argv of a process (empty when it is gone). */
function argv(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Process group id of a process (null when it is gone). */
function pgid(pid) {
  try {
    // Fields after the parenthesized comm: state ppid pgrp …
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

const pids = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);

/**
 * The workerd processes in process group `group`: `{ runtime, proxy }` pids (the
 * runtime is the one with an inspector; null when not found).
 */
export function workerdOf(group) {
  const found = pids().filter((p) => pgid(p) === group && argv(p).some((a) => a.endsWith('/workerd')));
  const runtime = found.find((p) => argv(p).some((a) => a.startsWith('--inspector-addr'))) ?? null;
  const proxy = found.find((p) => p !== runtime) ?? null;
  return { runtime, proxy, all: found };
}

/** The process group of the `wrangler dev` started with `--persist-to state`. */
export function wranglerGroupByState(state) {
  for (const p of pids()) {
    const a = argv(p);
    const i = a.indexOf('--persist-to');
    if (i >= 0 && a[i + 1] === state && a.some((x) => x.endsWith('wrangler.js'))) return pgid(p);
  }
  return null;
}

/** VmRSS of `pid` in KiB (null when it is gone). */
export function rssKib(pid) {
  if (!pid) return null;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The RSS of `pid` by kind of mapping (/proc/<pid>/smaps), in KiB: `code` (executable
 * anonymous mappings: JIT code, compiled wasm included), `anon` (other anonymous and
 * [heap] mappings: the V8 heaps, malloc arenas, wasm linear memory), `file` (mapped files).
 */
export function rssByKind(pid) {
  const out = { code: 0, anon: 0, file: 0 };
  let kind = null;
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) {
        const [, perms, path] = head;
        kind = path && !path.startsWith('[') ? 'file' : perms.includes('x') ? 'code' : 'anon';
        continue;
      }
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss && kind) out[kind] += Number(rss[1]);
    }
  } catch {
    return null;
  }
  return out;
}

/** The loopback TCP ports `pid` listens on. */
function listeningPorts(pid) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1));
      } catch {}
    }
  } catch {
    return [];
  }
  const ports = [];
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'latin1');
    } catch {}
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':').at(-1), 16));
    }
  }
  return ports;
}

/**
 * A DevTools protocol session with the Worker's isolate, through wrangler's inspector
 * proxy (served by the proxy workerd; the runtime's own inspector is held by wrangler):
 * `{ heap() → { used, total } bytes of the isolate's V8 heap, close() }`, or null.
 */
export async function inspectWorker(workerd) {
  let WebSocket;
  try {
    ({ WebSocket } = await import('undici'));
  } catch {
    return null;
  }
  for (const port of listeningPorts(workerd.proxy)) {
    let list;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) list = await res.json();
    } catch {}
    const url = Array.isArray(list) ? list[0]?.webSocketDebuggerUrl : undefined;
    if (!url) continue;
    // The proxy accepts DevTools' origin.
    const ws = new WebSocket(url, { headers: { origin: 'https://devtools.devprod.cloudflare.dev' } });
    const open = await new Promise((resolve) => {
      ws.onopen = () => resolve(true);
      ws.onerror = () => resolve(false);
    });
    if (!open) continue;
    const pending = new Map();
    let id = 0;
    ws.onmessage = (m) => {
      try {
        const d = JSON.parse(m.data);
        pending.get(d.id)?.(d.result);
        pending.delete(d.id);
      } catch {}
    };
    const call = (method) =>
      new Promise((resolve) => {
        const i = ++id;
        pending.set(i, resolve);
        ws.send(JSON.stringify({ id: i, method }));
        setTimeout(() => pending.delete(i) && resolve(null), 5_000);
      });
    return {
      async heap() {
        const r = await call('Runtime.getHeapUsage');
        return r ? { used: r.usedSize, total: r.totalSize } : null;
      },
      /**
       * The isolate's live heap: a full garbage collection first, then the heap in use, so
       * what is left is what the Worker (and its runtime glue) still holds. The console
       * messages V8 keeps for DevTools sessions are discarded first.
       */
      async liveHeap() {
        await call('Runtime.discardConsoleEntries');
        await call('HeapProfiler.collectGarbage');
        const r = await call('Runtime.getHeapUsage');
        return r ? { used: r.usedSize, total: r.totalSize } : null;
      },
      close: () => ws.close(),
    };
  }
  return null;
}

/** Ours: the real Worker (dev build) with `vars` and `tenants`; adds `group` and `workerd`. */
export async function startOurs(vars, tenants) {
  const w = await startWorker(vars, { tenants });
  const group = wranglerGroupByState(w.state);
  return { ...w, name: 'torii-edge', group, workerd: group ? workerdOf(group) : { runtime: null, proxy: null, all: [] } };
}

/**
 * The pass-through baseline under `wrangler dev`, the same flags as startWorker plus
 * `--config pass-through.wrangler.toml`. Resolves to `{ origin, stop, group, workerd }`.
 */
export async function startPassThrough(vars, { config = 'pass-through.wrangler.toml', name = 'pass-through' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'torii-load-pass-'));
  const envFile = join(dir, 'pass.env');
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  const args = [
    WRANGLER, 'dev',
    '--config', join(HERE, config),
    '--ip', '127.0.0.1', '--port', '0',
    '--inspector-port', '0',
    '--env-file', envFile,
    '--persist-to', join(dir, 'state'),
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    '--live-reload=false',
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: '1' },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = async () => {
    await stopProcessGroup(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  let timer;
  const port = await Promise.race([
    new Promise((resolve) =>
      child.on('message', (m) => {
        try {
          const msg = typeof m === 'string' ? JSON.parse(m) : m;
          if (msg?.event === 'DEV_SERVER_READY' && Number.isInteger(msg.port) && msg.port > 0) resolve(msg.port);
        } catch {}
      }),
    ),
    exited.then(() => null),
    new Promise((resolve) => (timer = setTimeout(resolve, READY_TIMEOUT_MS, null))),
  ]);
  clearTimeout(timer);
  if (port === null) {
    await stop();
    throw new Error(`${name} wrangler dev did not start:\n${output}`);
  }
  child.channel?.unref();
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${origin}/ready`);
      await res.arrayBuffer();
      break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, origin, port, stop, output: () => output, group: child.pid, workerd: workerdOf(child.pid) };
}
