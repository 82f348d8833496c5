// Test helpers for the package inside a Worker: bundle a Worker with the project's wrangler
// (`wrangler deploy --dry-run`, the bundling a user gets) and run the bundle under
// Miniflare's Node API. Both come from the root node_modules (`make npm-tools`).
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const miniflareEntry = join(root, "node_modules", "miniflare", "dist", "src", "index.js");
const wrangler = join(root, "node_modules", ".bin", "wrangler");

/** A `skip` option for node:test: the reason when wrangler or Miniflare is missing, else false. */
export const skipWithoutWorkerTools = !(existsSync(miniflareEntry) && existsSync(wrangler)) && "no root node_modules (run `make npm-tools`)";

/**
 * Bundles `main` (a module in `dir`) with wrangler into `outdir`, through a config file
 * `config` written in `dir` (Worker `name`). Returns `outdir`.
 */
export function bundleWorker(dir, { name, main = "worker.mjs", config = "wrangler.toml", outdir }) {
  writeFileSync(join(dir, config), `name = "${name}"\nmain = "${main}"\ncompatibility_date = "2025-01-01"\n`);
  execFileSync(wrangler, ["deploy", "--dry-run", "--config", config, "--outdir", outdir], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
    stdio: "pipe",
  });
  return outdir;
}

/** A Miniflare running `script` of the bundle in `outdir` with `bindings`. */
export async function miniflareOf(outdir, bindings, script = "worker.js") {
  const { Miniflare } = await import(pathToFileURL(miniflareEntry).href);
  return new Miniflare({
    modules: true,
    scriptPath: join(outdir, script),
    modulesRoot: outdir,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-01-01",
    bindings,
  });
}
