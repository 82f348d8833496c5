// Where js/README.md says the package runs and the other tests do not go: Deno, Bun and a
// real browser, each loading the package from the packed tarball installed into a scratch
// project outside the repo.
// - Deno (npm `deno`) and Bun (npm `@oven/bun-linux-x64`), pinned devDependencies of
//   js/package.json whose binaries ship inside the npm packages: the README's Node example
//   as written, then `createVerifier` and `verifyEdgeAssertion` on a Fetch `Request`.
// - Chromium (Debian's, `make browser-tools`) driven by playwright-core: a page on a
//   loopback static server imports the package's `browser` export (an import map names it
//   from package.json), which fetches its .wasm over HTTP, and verifies a token against a
//   JWKS fetched from the same server.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { claimsHeader, edgeAssertion, newKey, signToken } from "./helpers.mjs";

const run = promisify(execFile);
const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
const nodeExample = readme.match(/```js node-example\n([\s\S]*?)```/)?.[1];
const npmEnv = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

const key = newKey("k1");
const nowSecs = () => Math.floor(Date.now() / 1000);
const ORIGIN = "https://api.example.test";
let scratch;
let app;
let issuer; // a loopback server: the JWKS at /_torii/.well-known/jwks.json, the app's files otherwise
let server;
const served = [];

const TYPES = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };

before(async () => {
  assert.ok(nodeExample, "README has a node-example block");
  scratch = mkdtempSync(join(tmpdir(), "torii-edge-runtimes-"));
  const [info] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: pkgDir, env: npmEnv, encoding: "utf8" }));
  app = join(scratch, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch-app", private: true, type: "module" }));
  execFileSync("npm", ["install", "--offline", join(scratch, info.filename)], { cwd: app, env: npmEnv, stdio: "pipe" });
  server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    served.push(path);
    if (path === "/_torii/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" }).end(JSON.stringify({ keys: [key.jwk] }));
      return;
    }
    const file = normalize(join(app, path === "/" ? "index.html" : path));
    if (!file.startsWith(app + "/") || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  issuer = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const freshToken = (claims = {}) => signToken(key, { alg: "EdDSA", kid: "k1", typ: "JWT" }, { iss: issuer, sub: "user_42", iat: nowSecs(), exp: nowSecs() + 600, ...claims });

// Run in Deno and in Bun: which entry `torii-edge` resolves to, a verified token and a
// refused one, and verifyEdgeAssertion on a Fetch Request (accepted, then moved).
const FETCH_SCRIPT = `import { createVerifier, verifyEdgeAssertion, ToriiError } from "torii-edge";
const { ISSUER, JWKS_URL, AUTHORIZATION, EXPIRED, ASSERTION, CLAIMS, ORIGIN } = process.env;
const out = { entry: import.meta.resolve("torii-edge") };
const verifier = createVerifier({ issuer: ISSUER, jwksUrl: JWKS_URL });
out.sub = (await verifier.verify(AUTHORIZATION)).sub;
out.expired = await verifier.verify(EXPIRED).then(() => "accepted", (e) => e instanceof ToriiError && e.code);
const headers = { "x-torii-edge-assertion": ASSERTION, "x-torii-claims": CLAIMS };
const ok = await verifyEdgeAssertion(new Request(ORIGIN + "/v1/x?y=1", { method: "PUT", headers }), { issuer: ISSUER, audience: ORIGIN });
out.assertionSub = ok.sub;
out.moved = await verifyEdgeAssertion(new Request(ORIGIN + "/v1/z?y=1", { method: "PUT", headers }), { issuer: ISSUER, audience: ORIGIN })
  .then(() => "accepted", (e) => e.code);
// Which Ed25519 the verifier used (the package's internal module beside its entry).
out.backend = (await import(new URL("./ed25519.mjs", out.entry))).ed25519Backend();
console.log(JSON.stringify(out));
`;

function runtimeEnv() {
  const user = claimsHeader({ iss: issuer, sub: "user_42" });
  return {
    ISSUER: issuer,
    JWKS_URL: `${issuer}/_torii/.well-known/jwks.json`,
    AUTHORIZATION: `Bearer ${freshToken()}`,
    EXPIRED: `Bearer ${freshToken({ iat: nowSecs() - 7200, exp: nowSecs() - 3600 })}`,
    ASSERTION: edgeAssertion(key, { iss: issuer, aud: ORIGIN, now: nowSecs(), method: "PUT", url: `${ORIGIN}/v1/x?y=1`, claims: user, sub: "user_42" }),
    CLAIMS: user,
    ORIGIN,
  };
}

/** The binary inside an npm package (npm may skip its install script): made executable. */
function binary(...path) {
  const file = join(pkgDir, "node_modules", ...path);
  assert.ok(existsSync(file), `no ${file}: run \`make deps\` in js/ (npm ci)`);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    chmodSync(file, 0o755);
  }
  return file;
}

const RUNTIMES = {
  deno: {
    bin: () => binary("@deno", "linux-x64-glibc", "deno"),
    // The scratch project's package.json and node_modules, as installed by npm; no lockfile, no prompt.
    args: (script) => ["run", "--quiet", "--no-prompt", "--no-lock", "--node-modules-dir=manual", "--allow-read", "--allow-env", "--allow-net=127.0.0.1", script],
    env: () => ({ DENO_DIR: join(scratch, "deno-dir"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }),
  },
  bun: {
    bin: () => binary("@oven", "bun-linux-x64", "bin", "bun"),
    args: (script) => ["run", "--no-install", script],
    env: () => ({ BUN_INSTALL_CACHE_DIR: join(scratch, "bun-cache"), DO_NOT_TRACK: "1", NO_COLOR: "1" }),
  },
};

for (const [name, rt] of Object.entries(RUNTIMES)) {
  describe(`${name}, from the packed tarball`, () => {
    const exec = (script, env) =>
      run(rt.bin(), rt.args(script), { cwd: app, env: { PATH: process.env.PATH, HOME: scratch, ...rt.env(), ...env }, timeout: 120_000 });

    test(`the README's Node example runs as written in ${name}`, async () => {
      writeFileSync(join(app, "node-example.mjs"), nodeExample);
      const env = runtimeEnv();
      const { stdout } = await exec("node-example.mjs", env);
      assert.equal(stdout.trim(), "user_42");
    });

    test(`createVerifier and verifyEdgeAssertion on a Fetch Request in ${name}`, async (t) => {
      writeFileSync(join(app, `fetch-${name}.mjs`), FETCH_SCRIPT);
      const { stdout } = await exec(`fetch-${name}.mjs`, runtimeEnv());
      const got = JSON.parse(stdout);
      assert.match(got.entry, /\/node_modules\/torii-edge\/src\/\w+\.mjs$/);
      assert.deepEqual({ ...got, entry: undefined }, { entry: undefined, sub: "user_42", expired: "token_expired", assertionSub: "user_42", moved: "assertion_mismatch", backend: "node:crypto" });
      t.diagnostic(`${name} resolves torii-edge to ${got.entry.replace(/.*node_modules\//, "")}, signatures by ${got.backend}`);
    });
  });
}

test("Chromium loads the browser entry over HTTP and verifies a token", { skip: !existsSync(CHROMIUM) && "no /usr/bin/chromium (run `make browser-tools`)" }, async () => {
  const { chromium } = await import("playwright-core");
  const pkg = JSON.parse(readFileSync(join(app, "node_modules", "torii-edge", "package.json"), "utf8"));
  const entry = pkg.exports["."].browser;
  assert.equal(entry, "./src/browser.mjs");
  writeFileSync(
    join(app, "index.html"),
    `<!doctype html><meta charset="utf-8"><title>torii-edge</title>
<script type="importmap">${JSON.stringify({ imports: { "torii-edge": `/node_modules/torii-edge/${entry.slice(2)}` } })}</script>
<script type="module">
import * as torii from "torii-edge";
window.torii = torii;
document.title = "ready";
</script>
`,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    served.length = 0;
    await page.goto(`${issuer}/`);
    await page.waitForFunction(() => document.title === "ready" || undefined, null, { timeout: 30_000 });
    assert.deepEqual(errors, []);
    assert.ok(served.includes("/node_modules/torii-edge/pkg/torii_edge_bg.wasm"), `the wasm was fetched over HTTP: ${served}`);
    const env = runtimeEnv();
    const got = await page.evaluate(async ({ ISSUER, JWKS_URL, AUTHORIZATION, EXPIRED, ASSERTION, CLAIMS, ORIGIN }) => {
      const { createVerifier, verifyEdgeAssertion } = window.torii;
      const verifier = createVerifier({ issuer: ISSUER, jwksUrl: JWKS_URL });
      const out = { ua: navigator.userAgent, sub: (await verifier.verify(AUTHORIZATION)).sub };
      out.expired = await verifier.verify(EXPIRED).then(() => "accepted", (e) => e.code);
      out.malformed = await verifier.verify("Bearer x.y.z").then(() => "accepted", (e) => e.code);
      const headers = { "x-torii-edge-assertion": ASSERTION, "x-torii-claims": CLAIMS };
      out.assertionSub = (await verifyEdgeAssertion(new Request(ORIGIN + "/v1/x?y=1", { method: "PUT", headers }), { issuer: ISSUER, audience: ORIGIN })).sub;
      // Which Ed25519 the verifier used: Chromium's WebCrypto (the module the entry imports).
      out.backend = (await import("/node_modules/torii-edge/src/ed25519.mjs")).ed25519Backend();
      return out;
    }, env);
    assert.match(got.ua, /HeadlessChrome|Chrome\//);
    assert.deepEqual({ ...got, ua: undefined }, { ua: undefined, sub: "user_42", expired: "token_expired", malformed: "malformed_token", assertionSub: "user_42", backend: "webcrypto" });
    // Once for the verifier (cached for the expired token), once for verifyEdgeAssertion's own.
    assert.equal(served.filter((p) => p === "/_torii/.well-known/jwks.json").length, 2);
  } finally {
    await browser.close();
  }
});
