// The TypeScript types (index.d.ts, and dist/node.d.cts for require) type-check a use of
// every export under `strict`, resolved through the package's own name and export
// conditions (tsc --noEmit; TypeScript pinned in package.json).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));

test("index.d.ts and dist/node.d.cts type-check test/types/usage.{mts,cts}", async () => {
  const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
  const run = promisify(execFile)(process.execPath, [tsc, "-p", "test/types/tsconfig.json"], { cwd: pkgDir });
  await run.catch((e) => assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`));
});
