// Runs the origin programs of this folder (one per language, each with its language's
// common JOSE library only) on one input: verify.mjs (jose), verify.py (PyJWT, from
// `make py-tools`), verify.go (go-jose v2) and verify.rb (ruby-jwt + rbnacl), both from
// Debian (`make interop-tools`). `await originPrograms()` builds the Go one (offline, from
// /usr/share/gocode) and resolves to `{ verdicts(mode, input), close() }`: verdicts runs
// every program on the same input (stdin JSON) and resolves to `{ node, python, go, ruby }`,
// each a verdict `{ ok, claims | error, message }`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(DIR, '..', '..', '..');
const PYTHON = join(ROOT, '.tools', 'venv', 'bin', 'python');
// Debian's Go packages live in a GOPATH tree: no module download, no proxy.
const GO_ENV = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOPROXY: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local' };

export async function originPrograms() {
  assert.ok(existsSync(PYTHON), `no ${PYTHON}: run \`make py-tools\``);
  for (const [tool, flag] of [['go', 'version'], ['ruby', '-v']]) {
    await run(tool, [flag]).catch(() => assert.fail(`no ${tool}: run \`make interop-tools\``));
  }
  const out = mkdtempSync(join(tmpdir(), 'torii-interop-'));
  const goBinary = join(out, 'verify');
  await run('go', ['build', '-o', goBinary, 'verify.go'], { cwd: DIR, env: GO_ENV, timeout: 300_000 });
  const programs = {
    node: [process.execPath, [join(DIR, 'verify.mjs')]],
    python: [PYTHON, [join(DIR, 'verify.py')]],
    go: [goBinary, []],
    ruby: ['ruby', [join(DIR, 'verify.rb')]],
  };

  async function verdict([cmd, args], mode, input) {
    const child = run(cmd, [...args, mode], { timeout: 60_000 });
    child.child.stdin.end(JSON.stringify(input));
    let stdout;
    let code = 0;
    try {
      ({ stdout } = await child);
    } catch (e) {
      if (typeof e.code !== 'number') throw e;
      ({ stdout, code } = e);
      if (!stdout) throw e;
    }
    const v = JSON.parse(stdout);
    assert.equal(code, v.ok ? 0 : 1, `${cmd}: exit code ${code} for ${stdout}`);
    return v;
  }

  return {
    programs,
    async verdicts(mode, input) {
      const langs = Object.keys(programs);
      const got = await Promise.all(langs.map((l) => verdict(programs[l], mode, input)));
      return Object.fromEntries(langs.map((l, i) => [l, got[i]]));
    },
    close: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** `{ lang: value(verdict) }` for every language: compare to one expected value for all. */
export const each = (verdicts, value) => Object.fromEntries(Object.entries(verdicts).map(([l, v]) => [l, value(v)]));
