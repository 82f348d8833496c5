// Self-test of `make bench`'s driver (benches/report.mjs, benches/report/table.mjs), part of
// `make test` (`make bench-selftest`). No wall-clock assertion anywhere: the table is built
// from canned inputs (fixtures/: the JSON of a real quick run) and its shape, verdicts and
// markers are checked; the npm, edge and API benches run with tiny counts only to check that
// what they write is what the table reads (the native ones' JSON is checked on the fixtures:
// compiling the bench profile would double this test's time).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BEGIN, END, HEADER, STAGES, buildRows, fmt, parseStage, renderReport, renderTable, splice, verdict } from './table.mjs';
import { wranglerRatelimits } from '../edge/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const FIXTURES = join(HERE, 'fixtures');
const raw = (id) => JSON.parse(readFileSync(join(FIXTURES, `${id}.json`), 'utf8'));
const all = () => Object.fromEntries([...STAGES, 'sizes'].map((id) => [id, parseStage(id, raw(id))]));
const meta = () => raw('meta');

const ROW_IDS = [
  'native-dalek-raw', 'native-dalek-jwt', 'native-compact-raw', 'native-compact-jwt', 'native-gateway',
  'template-hasura', 'template-1kb', 'npm-first', 'npm-repeat',
  'edge-public', 'edge-first', 'edge-repeated', 'edge-public-nolog', 'edge-first-nolog', 'edge-repeated-nolog',
  'edge-public-cpu', 'edge-first-cpu', 'edge-repeated-cpu',
  'edge-cold', 'worker-wasm', 'worker-wasm-loaded', 'npm-wasm', 'api-user', 'api-list',
];

/** The cells of one markdown table line (`\|` is a pipe inside a cell). */
const cells = (line) => line.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((c) => c.trim().replaceAll('\u0000', '|'));

test('every fixture parses, and a missing field is named', () => {
  const r = all();
  for (const id of [...STAGES, 'sizes']) assert.ok(r[id], id);
  const edge = raw('edge');
  edge.rows = edge.rows.filter((x) => x.id !== 'floor');
  assert.throws(() => parseStage('edge', edge), /edge\.json: no case "floor"/);
  const npm = raw('npm');
  delete npm.cases.find((c) => c.id === 'jose').ns;
  assert.throws(() => parseStage('npm', npm), /npm\.json: case "jose" has no number "ns"/);
  const dalek = raw('native-dalek');
  dalek.cases = dalek.cases.filter((c) => c.id !== 'raw_backend');
  assert.throws(() => parseStage('native-dalek', dalek), /raw_backend/);
  assert.throws(() => parseStage('api', { ...raw('api'), bench: 'edge' }), /bench is not "api"/);
});

test('one row per measured case, in order, each with every column', () => {
  const rows = buildRows(all());
  assert.deepEqual(rows.map((r) => r.id), ROW_IDS);
  for (const r of rows) {
    for (const k of ['name', 'ours', 'peer', 'target', 'met', 'floor']) assert.equal(typeof r[k], 'string', `${r.id}.${k}`);
    assert.notEqual(r.ours, 'not measured', r.id);
  }
  // The targets, and the floors where it names one.
  const by = Object.fromEntries(rows.map((r) => [r.id, r]));
  // The native targets are the default backend's (dalek); the reference backend is beside it.
  assert.equal(by['native-dalek-raw'].target, '≤ 1.05×');
  assert.equal(by['native-dalek-jwt'].target, '≤ 1.00×');
  assert.match(by['native-dalek-raw'].name, /`dalek` \(default\)/);
  assert.equal(by['native-compact-raw'].target, '— (the default\'s: ≤ 1.05×)');
  assert.equal(by['native-compact-jwt'].met, 'reference');
  assert.equal(by['npm-first'].target, '≤ 0.8×');
  assert.equal(by['npm-repeat'].target, '≤ 0.05×');
  assert.deepEqual(['edge-public', 'edge-first', 'edge-repeated', 'edge-cold'].map((id) => by[id].target), ['≤ 0.8×', '≤ 0.6×', '≤ 0.4×', '≤ 1.00×']);
  assert.equal(by['worker-wasm'].target, '≤ 200,000 B');
  // The budget is the edge's module's; the Backend API's module is reported beside it.
  assert.match(by['worker-wasm'].peer, /Backend API's module, instantiated on its first call: 190,000 B \(raw 480,000 B\)/);
  // What every isolate compiles is both modules: the budget applies to their sum too.
  assert.equal(by['worker-wasm-loaded'].target, '≤ 200,000 B');
  assert.match(by['worker-wasm-loaded'].ours, /^\d[\d,]* B \(raw \d[\d,]* B\)$/);
  assert.match(by['npm-first'].floor, /node:crypto/);
  assert.match(by['npm-repeat'].floor, /SHA-256/);
  assert.match(by['edge-first'].floor, /verify/);
  assert.match(by['edge-public'].floor, /sign/);
  assert.match(by['native-gateway'].floor, /sign/);
});

test('ratios and verdicts come from the inputs', () => {
  const r = all();
  // npm: ours / jose of the same run.
  const jose = r.npm.cases.jose.ns;
  r.npm.cases.first_seen.ns = 0.8 * jose;
  r.npm.cases.repeat.ns = 0.051 * jose;
  // edge: jose's added latency lost in noise (≤ 0) gives no ratio.
  r.edge.rows.jose.public = 0;
  r.edge.rows.torii.first = 300;
  r.edge.rows.jose.first = 600;
  r.edge.wasm.gzip = 200_000;
  r.api.rows.user.roundTrips = 2;
  const by = Object.fromEntries(buildRows(r).map((x) => [x.id, x]));
  assert.equal(by['npm-first'].ratio.toFixed(3), '0.800');
  assert.equal(by['npm-first'].met, 'met');
  assert.equal(by['npm-repeat'].met, '**not met**');
  assert.equal(by['edge-public'].ratio, null);
  assert.equal(by['edge-public'].met, 'n/a');
  assert.equal(by['edge-first'].ratio, 0.5);
  assert.equal(by['edge-first'].met, 'met');
  assert.equal(by['worker-wasm'].met, 'met');
  assert.equal(by['worker-wasm-loaded'].ours, `${fmt.bytes(200_000 + r.edge.api_wasm.gzip)} (raw ${fmt.bytes(r.edge.wasm.raw + r.edge.api_wasm.raw)})`);
  assert.equal(by['worker-wasm-loaded'].met, '**not met**');
  assert.equal(by['api-user'].met, '**not met**');
  assert.equal(by['api-list'].met, 'met');
  // Native ratios are the bench's paired ones, not a quotient of medians.
  assert.equal(by['native-compact-raw'].ratio, r['native-compact'].paired.ours_vs_raw_backend);
  assert.equal(by['native-dalek-raw'].ratio, r['native-dalek'].paired.ours_vs_raw_backend);
  r['native-dalek'].paired.ours_vs_jsonwebtoken = 1.01;
  r['native-compact'].paired.ours_vs_jsonwebtoken = 1.5;
  const n = Object.fromEntries(buildRows(r).map((x) => [x.id, x]));
  assert.equal(n['native-dalek-jwt'].met, '**not met**');
  assert.equal(n['native-compact-jwt'].met, 'reference');
  assert.equal(verdict(1.05, 1.05), 'met');
  assert.equal(verdict(1.0501, 1.05), '**not met**');
  assert.equal(verdict(0.5, null), '—');
});

test('the dalek rows show raw verify_strict beside the raw verify the backend calls, when measured', () => {
  const r = all();
  let by = Object.fromEntries(buildRows(r).map((x) => [x.id, x]));
  const c = (id) => r['native-dalek'].cases[id].ns;
  assert.equal(by['native-dalek-raw'].floor, `one Ed25519 verify (raw backend): ${fmt.us(c('raw_backend'))}; \`verify_strict\`: ${fmt.us(c('raw_strict'))}`);
  // An older run without it: the raw backend alone.
  delete r['native-dalek'].cases.raw_strict;
  by = Object.fromEntries(buildRows(r).map((x) => [x.id, x]));
  assert.equal(by['native-dalek-raw'].floor, `one Ed25519 verify (raw backend): ${fmt.us(c('raw_backend'))}`);
});

test("the edge bench's Workers get wrangler.toml's limiter bindings", () => {
  const toml = readFileSync(join(HERE, '..', '..', 'wrangler.toml'), 'utf8');
  const limits = wranglerRatelimits();
  const names = [...toml.matchAll(/^\s*\[\[ratelimits\]\]\s*\n\s*name\s*=\s*"([^"]+)"/gm)].map((m) => m[1]);
  assert.ok(names.includes('TENANT_LIMITER'), 'wrangler.toml has TENANT_LIMITER');
  assert.deepEqual(Object.keys(limits).sort(), [...names].sort());
  for (const n of names) {
    assert.ok(limits[n].simple.limit > 0 && limits[n].simple.period > 0, n);
  }
});

test('the cold start compares with the jose Worker given the same bindings, when measured', () => {
  const r = all();
  const sum = (c) => c.ready_ms + c.first_request_ms;
  let by = Object.fromEntries(buildRows(r).map((x) => [x.id, x]));
  assert.equal(by['edge-cold'].ratio, sum(r.edge.cold.torii) / sum(r.edge.cold.jose_bound));
  assert.match(by['edge-cold'].peer, /same D1\/KV bindings; .* without\)$/);
  // An older run without it: against the bare jose Worker.
  delete r.edge.cold.jose_bound;
  by = Object.fromEntries(buildRows(r).map((x) => [x.id, x]));
  assert.equal(by['edge-cold'].ratio, sum(r.edge.cold.torii) / sum(r.edge.cold.jose));
  assert.equal(by['edge-cold'].peer, `${fmt.ms(r.edge.cold.jose.ready_ms)} + ${fmt.ms(r.edge.cold.jose.first_request_ms)} (jose Worker)`);
  // A new tenant's first request (it creates the key) is shown beside, not in the ratio.
  assert.equal(by['edge-cold'].floor, `a new tenant's first request (creates its key): ${fmt.ms(r.edge.cold.torii_first_key.first_request_ms)}`);
  delete r.edge.cold.torii_first_key;
  by = Object.fromEntries(buildRows(r).map((x) => [x.id, x]));
  assert.equal(by['edge-cold'].floor, '—');
});

test('a stage without output leaves its rows "not measured", the rest intact', () => {
  const r = all();
  delete r.edge;
  const rows = buildRows(r);
  const edge = rows.filter((x) => x.group === 'edge' || x.id.startsWith('worker-wasm'));
  assert.ok(edge.length >= 5);
  for (const x of edge) assert.equal(x.ours, 'not measured', x.id);
  assert.ok(rows.filter((x) => x.group === 'npm').every((x) => x.ours !== 'not measured'));
  assert.ok(buildRows({}).every((x) => x.ours === 'not measured'));
});

test('the table has its header, separator and one line per row, all with the same columns', () => {
  const rows = buildRows(all());
  rows[0].name = 'a | b';
  const lines = renderTable(rows).split('\n');
  assert.equal(lines.length, rows.length + 2);
  assert.deepEqual(cells(lines[0]), HEADER);
  assert.equal(cells(lines[1]).length, HEADER.length);
  for (const l of lines.slice(2)) assert.equal(cells(l).length, HEADER.length, l);
  assert.equal(cells(lines[2])[0], 'a | b');
  assert.equal(fmt.added(-12.4), '−12 µs');
  assert.equal(fmt.bytes(334953), '334,953 B');
  assert.equal(fmt.us(51886), '51.9 µs');
});

test('the report carries the date, the machine, the load average and the tools', () => {
  const text = renderReport(meta(), all());
  assert.match(text, /^\*\*`make bench` \(quick mode[^)]*\), 2026-12-01 16:07 UTC\*\*, commit e27cbe5\./);
  assert.match(text, /Machine: 2 × AMD EPYC; load average \(1 \/ 5 \/ 15 min\) 1\.84 \/ 1\.90 \/ 1\.85 at the start, 2\.10 \/ 1\.95 \/ 1\.87 at the end/);
  assert.match(text, /Tools: rustc 1\.95\.0, node v20\.20\.2, workerd 1\.20260426\.1, jose 6\.2\.18\./);
  assert.match(text, /Stages: native-compact 103 s \(load 1\.84\), npm 0 s \(load 1\.90\), exited 1\./);
  assert.ok(text.includes(renderTable(buildRows(all()))));
});

test('splice replaces exactly the block between the markers', () => {
  const doc = `# x\n\ntext\n${BEGIN}\nold\n${END}\nafter\n`;
  const once = splice(doc, 'new table\n');
  assert.equal(once, `# x\n\ntext\n${BEGIN}\nnew table\n${END}\nafter\n`);
  assert.equal(splice(once, 'new table'), once);
  assert.throws(() => splice('# nothing', 'x', 'README.md'), /README\.md: needs exactly one pair of markers/);
  assert.throws(() => splice(`${BEGIN}\n${END}\n${BEGIN}\n${END}`, 'x'), /exactly one pair/);
  assert.throws(() => splice(`${END}\n${BEGIN}`, 'x'), /exactly one pair/);
});

test('README.md and docs/benchmarks.md carry a generated table between the markers', () => {
  for (const file of ['README.md', 'docs/benchmarks.md']) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const block = text.slice(text.indexOf(BEGIN) + BEGIN.length, text.indexOf(END));
    assert.doesNotThrow(() => splice(text, block, file));
    assert.match(block, /\*\*`make bench`[^*]*, \d{4}-\d\d-\d\d \d\d:\d\d UTC\*\*/, file);
    assert.match(block, /Machine: \d+ × .+; load average/, file);
    const lines = block.split('\n').filter((l) => l.startsWith('|'));
    assert.deepEqual(cells(lines[0]), HEADER, file);
    assert.equal(lines.length, ROW_IDS.length + 2, file);
    for (const l of lines) assert.equal(cells(l).length, HEADER.length, `${file}: ${l}`);
  }
});

test('the driver builds the table from a directory of results (--from)', () => {
  const out = mkdtempSync(join(tmpdir(), 'torii-report-'));
  try {
    const stdout = execFileSync('node', [join(ROOT, 'benches', 'report.mjs'), '--from', FIXTURES, '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    assert.equal(stdout.trim(), report.trim());
    assert.equal(report, renderReport(meta(), all()));
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.deepEqual(json.rows.map((r) => r.id), ROW_IDS);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// What each bench writes with --json is what the table reads (tiny counts; no timing checked).
const runs = [
  ['npm', ['js/bench/verify.mjs', '--rounds', '2', '--batch', '2']],
  ['edge', ['benches/edge/bench.mjs', '--rounds', '1', '--batch', '2', '--cold', '1', '--cpu-rounds', '1', '--cpu-block', '20']],
  ['api', ['benches/api/bench.mjs', '--requests', '3', '--warmup', '1']],
];
for (const [id, [script, ...args]] of runs) {
  test(`${script} --json writes what the table reads`, () => {
    const out = mkdtempSync(join(tmpdir(), `torii-report-${id}-`));
    try {
      const file = join(out, `${id}.json`);
      try {
        execFileSync('node', [join(ROOT, script), ...args, '--json', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
      } catch (e) {
        // A bench's own budget check may exit 1 on a loaded machine: its JSON still counts.
        if (e.status !== 1) throw e;
      }
      const parsed = parseStage(id, JSON.parse(readFileSync(file, 'utf8')));
      const rows = buildRows({ [id]: parsed }).filter((r) => r.ours !== 'not measured');
      assert.ok(rows.length >= 2, `${id}: ${rows.length} rows`);
      if (id === 'edge') assert.ok(parsed.cold.jose_bound?.ready_ms > 0, 'edge: no cold.jose_bound');
      if (id === 'edge') assert.ok(parsed.cold.torii_first_key?.first_request_ms > 0, 'edge: no cold.torii_first_key');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

// The cold-start A/B (benches/edge/cold-ab.mjs) runs and prints a line per build and one for
// the jose Worker (one round; no timing checked).
test('benches/edge/cold-ab.mjs prints each build and the jose Worker', () => {
  const stdout = execFileSync('node', [join(ROOT, 'benches', 'edge', 'cold-ab.mjs'), '--build', 'build', '--rounds', '1'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 3, stdout);
  assert.match(lines[0], /^cold start, median of 1 interleaved rounds/);
  assert.match(lines[1], /build: \d+\.\d \+ \d+\.\d ms; ready \d+\.\d{3}x the jose Worker's$/);
  assert.match(lines[2], /^ {2}jose Worker: \d+\.\d \+ \d+\.\d ms; ready 1\.000x/);
});
