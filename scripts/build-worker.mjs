#!/usr/bin/env node
// Builds the Worker into OUT_DIR (`make build-worker`: build/, `make build-worker-dev`:
// build-dev/) with the project's pinned tools only:
//
//   1. cargo: the crate for wasm32-unknown-unknown, profile `worker`, with FEATURES;
//   2. wasm-bindgen (.tools/bin, the version in Cargo.lock): `--target module`, with the
//      reset-state function and the abort handler the entry's panic recovery uses;
//   3. wasm-opt (npm binaryen): `-O` with the wasm features workerd supports (no newer
//      encodings), names kept;
//   4. esbuild (npm): src/worker/entry.mjs and the glue bundled into OUT_DIR/index.js,
//      the wasm beside it as OUT_DIR/index_bg.wasm.
//
// These are the steps worker-build ran, with our own entry instead of its shim (see
// src/worker/entry.mjs for why).
//
//   node scripts/build-worker.mjs --out-dir build --features worker,dalek [--target-dir DIR]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    'out-dir': { type: 'string', default: 'build' },
    features: { type: 'string', default: 'worker,dalek' },
    'target-dir': { type: 'string', default: process.env.CARGO_TARGET_DIR || join(ROOT, 'target') },
  },
});
const out = resolve(ROOT, values['out-dir']);
const targetDir = resolve(ROOT, values['target-dir']);
const stage = join(out, '.stage');
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

function run(cmd, args, env = {}) {
  execFileSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
}

// 1. The crate.
run(
  'cargo',
  ['build', '--lib', '--profile', 'worker', '--target', 'wasm32-unknown-unknown', '--locked',
    '--no-default-features', '--features', values.features],
  { CARGO_TARGET_DIR: targetDir, WASM_BINDGEN_USE_JS_SYS: '1' },
);

// 2. The bindings, into a staging directory (a failed build leaves OUT_DIR as it was).
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
run(join(ROOT, '.tools', 'bin', 'wasm-bindgen'), [
  join(targetDir, 'wasm32-unknown-unknown', 'worker', 'torii_edge.wasm'),
  '--out-dir', stage, '--no-typescript', '--target', 'module', '--out-name', 'index',
  '--experimental-reset-state-function', '--force-enable-abort-handler',
]);

// 3. wasm-opt, with an explicit feature set (never an encoding workerd cannot load yet).
const features = ['mutable-globals', 'sign-ext', 'nontrapping-float-to-int', 'bulk-memory',
  'multivalue', 'reference-types', 'exception-handling'];
const wasm = join(stage, 'index_bg.wasm');
run(bin('wasm-opt'), [wasm, '-o', `${wasm}.opt`, '-O', ...features.map((f) => `--enable-${f}`), '--debuginfo']);
renameSync(`${wasm}.opt`, wasm);

// 4. The entry and the glue in one module; the wasm stays a separate module import.
copyFileSync(join(ROOT, 'src', 'worker', 'entry.mjs'), join(stage, 'entry.mjs'));
run(bin('esbuild'), [
  join(stage, 'entry.mjs'), '--bundle', '--format=esm', '--minify',
  '--external:./index_bg.wasm', '--external:cloudflare:*', `--outfile=${join(stage, 'bundle.js')}`,
]);
// wasm-bindgen's module target imports the wasm as `import source` (source-phase
// imports); workerd's module loader takes the plain import of a compiled module.
const bundle = readFileSync(join(stage, 'bundle.js'), 'utf8').replace(/import source /g, 'import ');
if (!bundle.includes('./index_bg.wasm')) throw new Error('the bundle does not import ./index_bg.wasm');

mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'index.js'), bundle);
renameSync(wasm, join(out, 'index_bg.wasm'));
writeFileSync(join(out, '.gitignore'), '*\n');
rmSync(join(out, 'worker'), { recursive: true, force: true });
rmSync(join(out, 'package.json'), { force: true });
rmSync(stage, { recursive: true, force: true });
console.log(`built ${join(values['out-dir'], 'index.js')} and index_bg.wasm (features ${values.features})`);
