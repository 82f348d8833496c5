#!/usr/bin/env node
// `make bench`: runs every benchmark once, in one go, each with `--json FILE` (their own
// prose tables go to target/bench/logs/<stage>.log), and prints ONE markdown table: native,
// npm and edge rows with the ratios to their peers, the issue's targets, met or not, the
// physical floors measured in the same run, the wasm sizes, the cold starts and the Backend
// API reads; with the date, the machine (nproc, CPU, load average at the start and the end)
// and the tool versions. The table and its inputs are written to target/bench/report.md and
// target/bench/report.json. Rows and formatting: benches/report/table.mjs.
//
//   node benches/report.mjs [--quick] [--out DIR] [--only STAGE,...] [--from DIR]
//   node benches/report.mjs --readme [--out DIR]
//
// --quick (or BENCH_QUICK=1): every bench with few rounds (a smoke run, minutes).
// --only: run only these stages (native-compact, native-dalek, templates, npm, edge, api);
//   the others' rows say "not measured".
// --from DIR: run nothing; build the table from DIR/<stage>.json (and DIR/meta.json when
//   there) — the self-test uses it on canned inputs.
// --readme: run nothing; put DIR/report.md (default target/bench) between the markers of
//   README.md and docs/benchmarks.md (`make bench-readme`).
//
// The builds a stage needs are the Makefile's (`make bench` builds the Worker, the dev
// Worker and the npm package first). Exit status: 1 when a stage produced no JSON or
// exited non-zero (a bench's own budget check), after the table is printed.
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { STAGES, buildRows, parseStage, renderReport, splice } from './report/table.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    out: { type: 'string' },
    only: { type: 'string' },
    from: { type: 'string' },
    readme: { type: 'boolean' },
  },
});
const OUT = resolve(values.out ?? join(ROOT, 'target', 'bench'));
const QUICK = values.quick || (!!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0');
const log = (...a) => console.error('[bench]', ...a);

if (values.readme) {
  const report = join(OUT, 'report.md');
  if (!existsSync(report)) {
    console.error(`${report}: none yet: run \`make bench\` first`);
    process.exit(1);
  }
  const block = readFileSync(report, 'utf8');
  for (const file of ['README.md', join('docs', 'benchmarks.md')]) {
    const path = join(ROOT, file);
    writeFileSync(path, splice(readFileSync(path, 'utf8'), block, file));
    log(`wrote the table into ${file}`);
  }
  process.exit(0);
}

// ---------------------------------------------------------------- the stages
const q = QUICK ? ['--quick'] : [];
const file = (id) => join(OUT, `${id}.json`);
const COMMANDS = {
  'native-compact': ['cargo', ['bench', '--locked', '--bench', 'verify', '--no-default-features', '--features', 'std', '--', '--json', file('native-compact'), ...q]],
  'native-dalek': ['cargo', ['bench', '--locked', '--bench', 'verify', '--', '--json', file('native-dalek'), ...q]],
  templates: ['cargo', ['bench', '--locked', '--bench', 'templates', '--', '--json', file('templates'), ...q]],
  npm: ['node', [join(ROOT, 'js', 'bench', 'verify.mjs'), '--json', file('npm'), ...q]],
  edge: ['node', [join(ROOT, 'benches', 'edge', 'bench.mjs'), '--json', file('edge'), ...q]],
  api: ['node', [join(ROOT, 'benches', 'api', 'bench.mjs'), '--json', file('api'), ...q]],
};

function run(id) {
  const [cmd, args] = COMMANDS[id];
  mkdirSync(join(OUT, 'logs'), { recursive: true });
  const logPath = join(OUT, 'logs', `${id}.log`);
  const out = createWriteStream(logPath);
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('close', (code, signal) => {
      out.end();
      done({ code, signal, logPath });
    });
  });
}

const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};
const pkgVersion = (p) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, p, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};
const lockVersion = (name) => {
  const lock = readFileSync(join(ROOT, 'Cargo.lock'), 'utf8');
  return new RegExp(`name = "${name}"\\nversion = "([^"]+)"`).exec(lock)?.[1] ?? '?';
};
const round2 = (l) => l.map((x) => Math.round(x * 100) / 100);

function machine() {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: Number(sh('nproc', [])) || cpus().length,
    cpu: /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? '?',
  };
}

function tools() {
  return {
    rustc: sh('rustc', ['--version'])?.split(' ')[1] ?? '?',
    node: process.version,
    workerd: pkgVersion('node_modules/workerd'),
    miniflare: pkgVersion('node_modules/miniflare'),
    wrangler: pkgVersion('node_modules/wrangler'),
    jose: pkgVersion('js/node_modules/jose'),
    jsonwebtoken: lockVersion('jsonwebtoken'),
    'jwt-simple': lockVersion('jwt-simple'),
    'ed25519-compact': lockVersion('ed25519-compact'),
    'ed25519-dalek': lockVersion('ed25519-dalek'),
  };
}

function commit() {
  const head = sh('git', ['rev-parse', '--short', 'HEAD']) ?? '?';
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no']);
  return dirty ? `${head} (with local changes)` : head;
}

function readStage(dir, id) {
  const p = join(dir, `${id}.json`);
  if (!existsSync(p)) return undefined;
  return parseStage(id, JSON.parse(readFileSync(p, 'utf8')));
}

function sizes() {
  const p = join(ROOT, 'js', 'pkg', 'torii_edge_bg.wasm');
  if (!existsSync(p)) return undefined;
  const wasm = readFileSync(p);
  return { bench: 'sizes', npm_wasm: { path: 'js/pkg/torii_edge_bg.wasm', raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length } };
}

// ---------------------------------------------------------------- main
let failed = false;
let meta;
const results = {};
if (values.from) {
  const dir = resolve(values.from);
  for (const id of [...STAGES, 'sizes']) results[id] = readStage(dir, id);
  const m = join(dir, 'meta.json');
  meta = existsSync(m)
    ? JSON.parse(readFileSync(m, 'utf8'))
    : { date: new Date().toISOString(), quick: QUICK, ...machine(), load_start: round2(loadavg()), load_end: round2(loadavg()), tools: tools(), commit: commit(), stages: [] };
} else {
  const only = values.only ? values.only.split(',') : STAGES;
  for (const id of only) if (!STAGES.includes(id)) throw new Error(`--only: unknown stage ${id} (${STAGES.join(', ')})`);
  mkdirSync(OUT, { recursive: true });
  meta = { date: new Date().toISOString(), quick: QUICK, ...machine(), load_start: round2(loadavg()), tools: tools(), commit: commit(), stages: [] };
  log(`${meta.nproc} × ${meta.cpu}, load ${meta.load_start.join(' ')}${QUICK ? ', quick mode' : ''}; logs in ${join(OUT, 'logs')}`);
  for (const id of STAGES) {
    if (!only.includes(id)) continue;
    rmSync(file(id), { force: true });
    const load = round2(loadavg());
    const t0 = Date.now();
    log(`${id}: ${[COMMANDS[id][0], ...COMMANDS[id][1]].join(' ')}`);
    const { code, signal, logPath } = await run(id);
    const seconds = (Date.now() - t0) / 1000;
    let status = code === 0 ? '' : `exited ${code ?? signal}`;
    try {
      results[id] = readStage(OUT, id);
      if (!results[id]) status = `${status ? `${status}, ` : ''}no JSON`;
    } catch (e) {
      status = `${status ? `${status}, ` : ''}${e.message}`;
    }
    if (status) {
      failed = true;
      log(`${id}: ${status}; the end of ${logPath}:`);
      console.error(readFileSync(logPath, 'utf8').split('\n').slice(-25).join('\n'));
    }
    meta.stages.push({ id, seconds, load, status });
    log(`${id}: ${Math.round(seconds)} s${status ? ` (${status})` : ''}`);
  }
  results.sizes = sizes();
  meta.load_end = round2(loadavg());
  writeFileSync(join(OUT, 'meta.json'), JSON.stringify(meta, null, 2));
  if (results.sizes) writeFileSync(file('sizes'), JSON.stringify(results.sizes, null, 2));
}

const rows = buildRows(results);
const report = renderReport(meta, results, rows);
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'report.md'), report);
writeFileSync(join(OUT, 'report.json'), JSON.stringify({ meta, rows }, null, 2));
process.stdout.write(`\n${report}`);
log(`written: ${join(OUT, 'report.md')} (\`make bench-readme\` puts it into README.md and docs/benchmarks.md)`);
if (failed) process.exitCode = 1;
