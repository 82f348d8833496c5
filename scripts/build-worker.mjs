#!/usr/bin/env node
// Builds the Worker into OUT_DIR (`make build-worker`: build/, `make build-worker-dev`:
// build-dev/) with the project's pinned tools only:
//
//   1. cargo: the crate for wasm32-unknown-unknown, profile `worker`, with FEATURES (and
//      the standard library rebuilt with it, panics as traps: see step 1 below), twice:
//      the edge's module (index_bg.wasm) and the Backend API's (api_bg.wasm, FEATURES
//      without `edge`, plus `api`);
//   2. wasm-bindgen (.tools/bin, the version in Cargo.lock): `--target module`, with the
//      reset-state function and the abort handler the entry's panic recovery uses;
//   3. wasm-opt (npm binaryen): `-O` twice with the wasm features workerd supports (no newer
//      encodings), names kept;
//   4. esbuild (npm): src/worker/entry.mjs and both glues bundled into OUT_DIR/index.js,
//      the wasm beside it as OUT_DIR/index_bg.wasm and OUT_DIR/api_bg.wasm.
//
// These are the steps worker-build ran, with our own entry instead of its shim (see
// src/worker/entry.mjs for why).
//
//   node scripts/build-worker.mjs --out-dir build --features worker,dalek,edge [--target-dir DIR]
//       [--stable-std]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    'out-dir': { type: 'string', default: 'build' },
    features: { type: 'string', default: 'worker,dalek,edge' },
    'target-dir': { type: 'string', default: process.env.CARGO_TARGET_DIR || join(ROOT, 'target') },
    'stable-std': { type: 'boolean', default: false },
  },
});
const out = resolve(ROOT, values['out-dir']);
const targetDir = resolve(ROOT, values['target-dir']);
const stage = join(out, '.stage');
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

function run(cmd, args, env = {}) {
  execFileSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
}

// 1. The crate. By default with the standard library rebuilt for the Worker
// (`-Z build-std`, at the `worker` profile's opt-level and in its LTO) and panics as an
// immediate trap (`-C panic=immediate-abort`: no panic messages, locations or their
// formatting code in the wasm; a panic was already a trap with `panic = "abort"`, and the
// recovery is the same: wasm-bindgen's glue and the entry handle the trap. Lost: the panic
// message workers-rs's hook logged): 700,094 -> 649,902 bytes raw, 290,343 -> 273,568 gzip
// (docs/benchmarks.md, "Worker size"). Both are unstable options, accepted by the
// machine's stable toolchain with RUSTC_BOOTSTRAP=1 (as `make fuzz` does) and the
// rust-src component (`make rust-tools`). `--stable-std` (or TORII_STABLE_STD=1) builds
// without them: the prebuilt standard library and its panic messages; so does a machine
// without rust-src, with a warning.
const stableAsked = values['stable-std'] || process.env.TORII_STABLE_STD === '1';
const sysroot = execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
const haveStdSource = existsSync(join(sysroot, 'lib', 'rustlib', 'src', 'rust', 'library', 'std', 'Cargo.toml'));
if (!stableAsked && !haveStdSource) {
  console.warn('build-worker: no rust-src component (`rustup component add rust-src`): building with the prebuilt standard library');
}
const stableStd = stableAsked || !haveStdSource;
/** The wasm features wasm-opt may use: none newer than workerd loads. */
const WASM_FEATURES = ['mutable-globals', 'sign-ext', 'nontrapping-float-to-int', 'bulk-memory',
  'multivalue', 'reference-types', 'exception-handling'];
const cargoEnv = { CARGO_TARGET_DIR: targetDir, WASM_BINDGEN_USE_JS_SYS: '1' };
const buildStd = [];
if (!stableStd) {
  buildStd.push('-Zbuild-std=std,panic_abort');
  Object.assign(cargoEnv, {
    RUSTC_BOOTSTRAP: '1',
    RUSTFLAGS: `${process.env.RUSTFLAGS ?? ''} -Zunstable-options -Cpanic=immediate-abort`.trim(),
  });
}

// Two wasm modules, the same crate with two feature sets: the edge's (`index`: FEATURES,
// with `edge`: the gateway, well-known and mint routes, what a gateway isolate
// instantiates) and the Backend API's (`api`: FEATURES without `edge`, plus `api`: `/v1`,
// the dashboard, the scheduled rotation), which the entry instantiates on the first
// request or cron run that needs it (src/worker/entry.mjs); workerd compiles both when an
// isolate loads. Without `edge` the API's module has none of the edge's entry points, so
// none of the gateway's code (656,276 -> 497,974 bytes raw, 275,904 -> 208,499 gzip).
// Steps 1 to 3 run once per module.
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const featureList = values.features.split(',').map((f) => f.trim()).filter(Boolean);
if (!featureList.includes('edge')) throw new Error('build-worker: --features must include `edge` (the edge\'s module)');
const modules = [
  { name: 'index', features: featureList.join(',') },
  { name: 'api', features: [...featureList.filter((f) => f !== 'edge'), 'api'].join(',') },
];
for (const { name, features: crateFeatures } of modules) {
  run('cargo', ['build', '--lib', '--profile', 'worker', '--target', 'wasm32-unknown-unknown',
    '--locked', '--no-default-features', '--features', crateFeatures, ...buildStd], cargoEnv);

  // 2. The bindings, into a staging directory (a failed build leaves OUT_DIR as it was).
  run(join(ROOT, '.tools', 'bin', 'wasm-bindgen'), [
    join(targetDir, 'wasm32-unknown-unknown', 'worker', 'torii_edge.wasm'),
    '--out-dir', stage, '--no-typescript', '--target', 'module', '--out-name', name,
    '--experimental-reset-state-function', '--force-enable-abort-handler',
  ]);

  // 3. wasm-opt, with an explicit feature set (never an encoding workerd cannot load yet):
  // the default pipeline twice (`-O -O`: the second pass finds what the first one's
  // inlining and merging exposed: 199,372 -> 198,334 bytes gzip for the edge's module).
  const wasm = join(stage, `${name}_bg.wasm`);
  run(bin('wasm-opt'), [wasm, '-o', `${wasm}.opt`, '-O', '-O', ...WASM_FEATURES.map((f) => `--enable-${f}`), '--debuginfo']);
  renameSync(`${wasm}.opt`, wasm);

  // The fast path's entry points are the edge's: the API's module must have none (the
  // gateway's code would be back in it), the edge's module must have them (its glue
  // exports what the wasm does).
  const exportsPlan = /export function gateway_plan\(/.test(readFileSync(join(stage, `${name}.js`), 'utf8'));
  if (exportsPlan !== (name === 'index')) {
    throw new Error(`build-worker: ${name}_bg.wasm ${name === 'index' ? 'lacks' : 'exports'} gateway_plan`);
  }
}

// 4. The entry and the glue in one module; the wasm stays a separate module import.
copyFileSync(join(ROOT, 'src', 'worker', 'entry.mjs'), join(stage, 'entry.mjs'));
const wasmFiles = modules.map(({ name }) => `${name}_bg.wasm`);
run(bin('esbuild'), [
  join(stage, 'entry.mjs'), '--bundle', '--format=esm', '--minify',
  ...wasmFiles.map((f) => `--external:./${f}`), '--external:cloudflare:*', `--outfile=${join(stage, 'bundle.js')}`,
]);
// wasm-bindgen's module target imports the wasm as `import source` (source-phase
// imports); workerd's module loader takes the plain import of a compiled module.
const bundle = readFileSync(join(stage, 'bundle.js'), 'utf8').replace(/import source /g, 'import ');
for (const f of wasmFiles) {
  if (!bundle.includes(`./${f}`)) throw new Error(`the bundle does not import ./${f}`);
}

mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'index.js'), bundle);
for (const f of wasmFiles) renameSync(join(stage, f), join(out, f));
writeFileSync(join(out, '.gitignore'), '*\n');
rmSync(join(out, 'worker'), { recursive: true, force: true });
rmSync(join(out, 'package.json'), { force: true });
rmSync(stage, { recursive: true, force: true });
console.log(`built ${join(values['out-dir'], 'index.js')}, ${wasmFiles.join(' and ')} (features ${values.features}; ${stableStd ? 'prebuilt std' : 'std rebuilt, panics as traps'})`);
