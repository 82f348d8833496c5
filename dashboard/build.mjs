// Builds the dashboard (`make dashboard`) into dashboard/dist, the Worker's static assets
// (wrangler.toml `[assets]`): index.html and style.css as they are, src/app.mjs bundled
// with CodeMirror by esbuild into app.js, and the npm package's browser entry
// (js/src/*.mjs + js/pkg, from `make js`) copied unchanged under torii-edge/, where
// app.js imports it. Prints each file's size and the gzip transfer size of the page.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const OUT = join(HERE, "dist");
const PKG_FILES = ["src/browser.mjs", "src/core.mjs", "src/lib.mjs", "src/clients.mjs", "src/io.mjs", "pkg/torii_edge.js", "pkg/torii_edge_bg.wasm"];

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
for (const f of PKG_FILES) {
  const src = join(ROOT, "js", f);
  try {
    statSync(src);
  } catch {
    console.error(`dashboard: ${relative(ROOT, src)} is missing: run \`make js\` first`);
    process.exit(1);
  }
  mkdirSync(dirname(join(OUT, "torii-edge", f)), { recursive: true });
  copyFileSync(src, join(OUT, "torii-edge", f));
}
await build({
  entryPoints: [join(HERE, "src", "app.mjs")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "linked",
  external: ["./torii-edge/*"],
  outfile: join(OUT, "app.js"),
  logLevel: "error",
  metafile: Boolean(process.env.DASHBOARD_METAFILE),
}).then((r) => r.metafile && writeFileSync(process.env.DASHBOARD_METAFILE, JSON.stringify(r.metafile)));
for (const f of ["index.html", "style.css", "favicon.svg"]) copyFileSync(join(HERE, f), join(OUT, f));
// A file wrangler would otherwise upload: not needed, and not a served type.
for (const f of readdirSync(OUT)) if (f.endsWith(".LEGAL.txt")) rmSync(join(OUT, f));

const files = [];
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else files.push(p);
  }
};
walk(OUT);
let raw = 0;
let gz = 0;
const rows = files.sort().map((p) => {
  const data = readFileSync(p);
  const z = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += z;
  return `  ${relative(OUT, p).padEnd(34)} ${(data.length / 1024).toFixed(1).padStart(7)} KiB  gzip ${(z / 1024).toFixed(1).padStart(6)} KiB`;
});
const report = `dashboard/dist: ${files.length} files, ${(raw / 1024).toFixed(1)} KiB, gzip ${(gz / 1024).toFixed(1)} KiB (the page's transfer size)\n${rows.join("\n")}\n`;
process.stdout.write(report);
