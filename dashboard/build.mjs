// Builds the dashboard (`make dashboard`) into dashboard/dist, the Worker's static assets
// (wrangler.toml `[assets]`): index.html and style.css as they are, src/app.mjs bundled
// with CodeMirror by esbuild into app.js, the npm package's browser entry
// (js/src/*.mjs + js/pkg, from `make js`) copied unchanged under torii-edge/, where
// app.js imports it, and the Backend API's OpenAPI document as v1/openapi.json (served at
// GET /v1/openapi.json, not part of the page). Prints each file's size and the gzip
// transfer size of the page.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const OUT = join(HERE, "dist");

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
// The npm package's browser entry and every module it imports (found by esbuild, not
// listed here), plus the .wasm it fetches by URL, copied unchanged.
const JS = join(ROOT, "js");
for (const f of ["src/browser.mjs", "pkg/torii_edge.js", "pkg/torii_edge_bg.wasm"]) {
  try {
    statSync(join(JS, f));
  } catch {
    console.error(`dashboard: js/${f} is missing: run \`make js\` first`);
    process.exit(1);
  }
}
const graph = await build({
  entryPoints: [join(JS, "src", "browser.mjs")],
  bundle: true,
  format: "esm",
  target: "es2022",
  write: false,
  metafile: true,
  logLevel: "error",
});
const pkgFiles = [...Object.keys(graph.metafile.inputs).map((f) => relative(JS, join(process.cwd(), f))), "pkg/torii_edge_bg.wasm"];
for (const f of pkgFiles) {
  if (f.startsWith("..")) throw new Error(`dashboard: the browser entry imports ${f}, outside js/`);
  mkdirSync(dirname(join(OUT, "torii-edge", f)), { recursive: true });
  copyFileSync(join(JS, f), join(OUT, "torii-edge", f));
}
// The notices of the bundled packages (CodeMirror's are MIT), once per distinct text,
// as a comment at the end of app.js.
function notices(metafile) {
  const pkgs = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) pkgs.set(m[1], join(ROOT, "node_modules", m[1]));
  }
  const texts = new Map();
  for (const [name, dir] of [...pkgs].sort()) {
    const { version, license } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    const text = file ? readFileSync(join(dir, file), "utf8").trim() : `${license}`;
    if (!texts.has(text)) texts.set(text, []);
    texts.get(text).push(`${name} ${version} (${license})`);
  }
  return [...texts].map(([text, names]) => `${names.join(", ")}:\n\n${text}`).join("\n\n---\n\n");
}

const bundled = await build({
  entryPoints: [join(HERE, "src", "app.mjs")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "none",
  external: ["./torii-edge/*"],
  outfile: join(OUT, "app.js"),
  logLevel: "error",
  metafile: true,
});
if (process.env.DASHBOARD_METAFILE) writeFileSync(process.env.DASHBOARD_METAFILE, JSON.stringify(bundled.metafile));
const appJs = join(OUT, "app.js");
writeFileSync(appJs, `${readFileSync(appJs, "utf8")}/*! Bundled third-party packages and their licenses:\n\n${notices(bundled.metafile).replaceAll("*/", "* /")}\n*/\n`);
for (const f of ["index.html", "style.css", "favicon.svg"]) copyFileSync(join(HERE, f), join(OUT, f));
// The Backend API's OpenAPI document (src/api/openapi/openapi.json, the core's committed
// bytes): the Worker serves GET /v1/openapi.json from the assets, not from its wasm.
mkdirSync(join(OUT, "v1"), { recursive: true });
copyFileSync(join(ROOT, "src", "api", "openapi", "openapi.json"), join(OUT, "v1", "openapi.json"));

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
  if (!relative(OUT, p).startsWith("v1/")) {
    raw += data.length;
    gz += z;
  }
  return `  ${relative(OUT, p).padEnd(34)} ${(data.length / 1024).toFixed(1).padStart(7)} KiB  gzip ${(z / 1024).toFixed(1).padStart(6)} KiB`;
});
const report = `dashboard/dist: ${files.length} files; the page: ${(raw / 1024).toFixed(1)} KiB, gzip ${(gz / 1024).toFixed(1)} KiB (the page's transfer size)\n${rows.join("\n")}\n`;
process.stdout.write(report);
