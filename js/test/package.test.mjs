// Packaging: `npm pack`, install the tarball into a scratch project outside the repo, then
// run the README's Node example in Node and its Worker example under Miniflare (bundled by
// wrangler, as users deploy it), verifying a token in each.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ISS, newKey, signToken, edgeAssertion, claimsHeader } from "./helpers.mjs";
import { bundleWorker, miniflareOf, skipWithoutWorkerTools } from "./worker-bundle.mjs";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const root = join(pkgDir, "..");
const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
const example = (tag) => {
  const m = readme.match(new RegExp("```js " + tag + "\\n([\\s\\S]*?)```"));
  assert.ok(m, `README has a ${tag} block`);
  return m[1];
};
const key = newKey("k1");
const nowSecs = () => Math.floor(Date.now() / 1000);
const freshToken = () => signToken(key, { alg: "EdDSA", kid: "k1" }, { iss: ISS, sub: "user_42", exp: nowSecs() + 600 });
const npmEnv = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
let scratch;
let tarball;

test("the npm examples of the root README and docs/npm.md are exactly js/README.md's (run below)", () => {
  const pages = { "README.md": ["node-example"], "docs/npm.md": ["node-example", "worker-example"] };
  for (const [page, tags] of Object.entries(pages)) {
    const text = readFileSync(join(root, page), "utf8");
    for (const tag of tags) {
      const m = text.match(new RegExp("```js " + tag + "\\n([\\s\\S]*?)```"));
      assert.ok(m, `${page} has a ${tag} block`);
      assert.equal(m[1], example(tag), `${page}: ${tag}`);
    }
  }
});

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "torii-edge-pack-"));
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: pkgDir, env: npmEnv, encoding: "utf8" });
  const [info] = JSON.parse(out);
  tarball = join(scratch, info.filename);
  const files = info.files.map((f) => f.path).sort();
  assert.deepEqual(files, ["README.md", "dist/node.cjs", "dist/node.d.cts", "index.d.ts", "package.json", "pkg/torii_edge.js", "pkg/torii_edge_bg.wasm", "src/browser.mjs", "src/cjs.mjs", "src/clients.mjs", "src/core.mjs", "src/ed25519.mjs", "src/errors.mjs", "src/io.mjs", "src/lib.mjs", "src/node.mjs", "src/verifier.mjs", "src/worker.mjs"]);
  const app = join(scratch, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch-app", private: true, type: "module" }));
  execFileSync("npm", ["install", "--offline", tarball], { cwd: app, env: npmEnv, stdio: "pipe" });
});

after(() => rmSync(scratch, { recursive: true, force: true }));

test("the tarball installs and the README's Node example verifies a token (JWKS over HTTP)", async () => {
  const app = join(scratch, "app");
  writeFileSync(join(app, "node-example.mjs"), example("node-example"));
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.jwk] }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ["node-example.mjs"], {
      cwd: app,
      env: { ...process.env, AUTHORIZATION: `Bearer ${freshToken()}`, ISSUER: ISS, JWKS_URL: `http://127.0.0.1:${server.address().port}/jwks` },
    });
    assert.equal(stdout.trim(), "user_42");
    assert.equal(requests, 1);
  } finally {
    server.close();
  }
  // The installed package resolves through its `node` condition and exposes the types.
  const installed = join(app, "node_modules", "torii-edge");
  assert.ok(existsSync(join(installed, "index.d.ts")));
  const mod = await import(pathToFileURL(join(installed, "src", "node.mjs")).href);
  assert.equal(typeof mod.createVerifier, "function");
});

test("the README's origin example (node:http) accepts edge-signed requests and refuses others", async () => {
  const app = join(scratch, "app");
  writeFileSync(join(app, "origin-example.mjs"), example("origin-example"));
  const jwksPaths = [];
  const issuerServer = createServer((req, res) => {
    jwksPaths.push(req.url);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.jwk] }));
  });
  await new Promise((r) => issuerServer.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${issuerServer.address().port}`;
  // PORT=0: the example binds a port of the kernel's choosing; a preloaded hook reports
  // it over IPC (no port picked here and bound later by the child). The edge names this
  // origin ORIGIN_URL; the assertions are bound to that, not to the socket's address.
  const origin = "https://api.example.test";
  const reportPort = `import net from "node:net";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  this.once("listening", () => process.send({ port: this.address().port }));
  return listen.apply(this, args);
};`;
  const child = spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(reportPort)}`, "origin-example.mjs"], {
    cwd: app,
    env: { ...process.env, TORII_ISSUER: issuer, ORIGIN_URL: origin, PORT: "0" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    const port = await new Promise((resolve, reject) => {
      child.once("message", (m) => resolve(m.port));
      child.once("exit", (code) => reject(new Error(`origin example exited with ${code}`)));
    });
    child.channel.unref();
    const send = async (path, headers = {}, method = "GET") => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers });
      return [res.status, await res.json()];
    };
    const now = nowSecs();
    const user = claimsHeader({ iss: issuer, sub: "user_42", org_role: "admin" });
    const a = edgeAssertion(key, { iss: issuer, aud: origin, now, method: "POST", url: `${origin}/orders?id=9`, claims: user, sub: "user_42" });
    const h = { "x-torii-edge-assertion": a, "x-torii-claims": user };
    assert.deepEqual(await send("/orders?id=9", h, "POST"), [200, { user: "user_42", role: "admin" }]);
    assert.deepEqual(await send("/orders?id=10", h, "POST"), [401, { error: "assertion_mismatch" }]);
    assert.deepEqual(await send("/orders?id=9", { ...h, "x-torii-claims": claimsHeader({ iss: issuer, sub: "user_42", org_role: "owner" }) }, "POST"), [401, { error: "assertion_mismatch" }]);
    assert.deepEqual(await send("/orders?id=9", { "x-torii-claims": user }, "POST"), [401, { error: "missing_token" }]);
    const anon = edgeAssertion(key, { iss: issuer, aud: origin, now, url: `${origin}/public` });
    assert.deepEqual(await send("/public", { "x-torii-edge-assertion": anon }), [200, { user: null, role: null }]);
    const stale = edgeAssertion(key, { iss: issuer, aud: origin, now: now - 600, url: `${origin}/public` });
    assert.deepEqual(await send("/public", { "x-torii-edge-assertion": stale }), [401, { error: "token_expired" }]);
    assert.deepEqual(jwksPaths, ["/_torii/.well-known/jwks.json"]);
  } finally {
    child.kill();
    issuerServer.close();
  }
});

test("CommonJS: require('torii-edge') from the installed tarball verifies a token", async () => {
  const app = join(scratch, "app");
  writeFileSync(
    join(app, "cjs-example.cjs"),
    `const torii = require("torii-edge");
const assert = require("node:assert/strict");
assert.equal(require.resolve("torii-edge"), require("node:path").join(__dirname, "node_modules/torii-edge/dist/node.cjs"));
const verifier = torii.createVerifier({ issuer: process.env.ISSUER, jwks: process.env.JWKS });
verifier.verify(process.env.AUTHORIZATION).then(
  (c) => console.log(c.sub),
  (e) => { console.error(e); process.exit(1); },
);
verifier.verify("Bearer x.y.z").catch((e) => assert.ok(e instanceof torii.ToriiError && e.code === "malformed_token"));
`,
  );
  const { stdout } = await promisify(execFile)(process.execPath, ["cjs-example.cjs"], {
    cwd: app,
    env: { ...process.env, AUTHORIZATION: `Bearer ${freshToken()}`, ISSUER: ISS, JWKS: JSON.stringify({ keys: [key.jwk] }) },
  });
  assert.equal(stdout.trim(), "user_42");
  // The same API as the ESM entry.
  const esm = await import(pathToFileURL(join(app, "node_modules", "torii-edge", "src", "node.mjs")).href);
  const cjs = (await import("node:module")).createRequire(join(app, "x.cjs"))("torii-edge");
  assert.deepEqual(Object.keys(cjs).sort(), Object.keys(esm).sort());
});


test("the README's Worker example, bundled by wrangler, verifies a token under Miniflare", { skip: skipWithoutWorkerTools }, async () => {
  const app = join(scratch, "app");
  writeFileSync(join(app, "worker.mjs"), example("worker-example"));
  const out = bundleWorker(app, { name: "scratch", outdir: join(scratch, "out") });
  const wasm = readdirSync(out).filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one wasm module in ${readdirSync(out)}`);
  const mf = await miniflareOf(out, { ISSUER: ISS, JWKS: JSON.stringify({ keys: [key.jwk] }) });
  try {
    const ok = await mf.dispatchFetch("http://localhost/", { headers: { authorization: `Bearer ${freshToken()}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { sub: "user_42" });
    const missing = await mf.dispatchFetch("http://localhost/");
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { error: "missing_token" });
    const expired = signToken(key, { alg: "EdDSA", kid: "k1" }, { iss: ISS, sub: "u", exp: nowSecs() - 3600 });
    const bad = await mf.dispatchFetch("http://localhost/", { headers: { authorization: `Bearer ${expired}` } });
    assert.deepEqual([bad.status, await bad.json()], [401, { error: "token_expired" }]);
  } finally {
    await mf.dispose();
  }
});

test("inside a Worker (wrangler bundle, Miniflare): verifyEdgeAssertion on a Fetch Request, renderTemplate", { skip: skipWithoutWorkerTools }, async () => {
  const app = join(scratch, "app");
  const ORIGIN = "https://api.example.test";
  writeFileSync(
    join(app, "origin-worker.mjs"),
    `import { verifyEdgeAssertion, renderTemplate } from "torii-edge";
export default {
  async fetch(request, env) {
    try {
      const claims = await verifyEdgeAssertion(request, { issuer: env.ISSUER, audience: env.ORIGIN, jwks: env.JWKS });
      return Response.json({ claims, rendered: renderTemplate({ uid: "{{ user.id }}" }, { id: claims?.sub ?? "anon" }) });
    } catch (e) {
      return Response.json({ error: e.code }, { status: e.status ?? 500 });
    }
  },
};
`,
  );
  const dir = join(scratch, "origin-worker");
  execFileSync("mkdir", ["-p", dir]);
  bundleWorker(app, { name: "scratch-origin", main: "origin-worker.mjs", config: "wrangler-origin.toml", outdir: dir });
  const mf = await miniflareOf(dir, { ISSUER: ISS, ORIGIN, JWKS: JSON.stringify({ keys: [key.jwk] }) }, "origin-worker.js");
  try {
    const now = nowSecs();
    const user = claimsHeader({ iss: ISS, sub: "user_42" });
    const a = edgeAssertion(key, { iss: ISS, aud: ORIGIN, now, method: "PUT", url: `${ORIGIN}/v1/x?y=1`, claims: user, sub: "user_42" });
    const headers = { "x-torii-edge-assertion": a, "x-torii-claims": user };
    const ok = await mf.dispatchFetch("http://localhost/v1/x?y=1", { method: "PUT", headers });
    assert.deepEqual(await ok.json(), { claims: { iss: ISS, sub: "user_42" }, rendered: { uid: "user_42" } });
    const moved = await mf.dispatchFetch("http://localhost/v1/z?y=1", { method: "PUT", headers });
    assert.deepEqual([moved.status, await moved.json()], [401, { error: "assertion_mismatch" }]);
    const none = await mf.dispatchFetch("http://localhost/v1/x?y=1", { method: "PUT" });
    assert.deepEqual([none.status, await none.json()], [401, { error: "missing_token" }]);
  } finally {
    await mf.dispose();
  }
});

test("inside a Worker (wrangler bundle, Miniflare): signatures by workerd's WebCrypto after the core's checks; tampered tokens get the core's codes", { skip: skipWithoutWorkerTools }, async () => {
  const app = join(scratch, "app");
  writeFileSync(
    join(app, "native-worker.mjs"),
    `import { createVerifier } from "torii-edge";
// The package's internal module, bundled once with the entry that uses it.
import { ed25519Backend, ed25519Counts } from "./node_modules/torii-edge/src/ed25519.mjs";
let verifier;
export default {
  async fetch(request, env) {
    verifier ??= createVerifier({ issuer: env.ISSUER, jwks: env.JWKS });
    const out = [];
    for (const t of await request.json()) out.push(await verifier.verify(t).then((c) => c.sub, (e) => e.code));
    return Response.json({ out, backend: ed25519Backend(), counts: ed25519Counts });
  },
};
`,
  );
  const dir = join(scratch, "native-worker");
  execFileSync("mkdir", ["-p", dir]);
  bundleWorker(app, { name: "scratch-native", main: "native-worker.mjs", config: "wrangler-native.toml", outdir: dir });
  const mf = await miniflareOf(dir, { ISSUER: ISS, JWKS: JSON.stringify({ keys: [key.jwk] }) }, "native-worker.js");
  try {
    const valid = freshToken();
    const [h, p, s] = valid.split(".");
    const sig = Buffer.from(s, "base64url");
    const flipped = Buffer.from(sig);
    flipped[10] ^= 4;
    // S + L (L little-endian): the same signature to a lax primitive, refused by the core first.
    const L = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex");
    const plusL = Buffer.from(sig);
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = plusL[32 + i] + L[i] + carry;
      plusL[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    const identityR = Buffer.concat([Buffer.from([1]), Buffer.alloc(31), sig.subarray(32)]);
    const enc = (b) => `${h}.${p}.${b.toString("base64url")}`;
    const otherKey = signToken(newKey("k1"), { alg: "EdDSA", kid: "k1" }, { iss: ISS, sub: "user_42", exp: nowSecs() + 600 });
    const res = await mf.dispatchFetch("http://localhost/", { method: "POST", body: JSON.stringify([valid, valid, enc(flipped), enc(plusL), enc(identityR), otherKey]) });
    const got = await res.json();
    assert.deepEqual(got.out, ["user_42", "user_42", "invalid_signature", "invalid_signature", "invalid_signature", "invalid_signature"]);
    assert.equal(got.backend, "webcrypto");
    // WebCrypto checked the valid token once (the repeat was a cache hit), the flipped one and
    // the other key's; S + L and the small-order R never reached it; the core's backend never ran.
    assert.deepEqual(got.counts, { native: 3, core: 0 });
  } finally {
    await mf.dispose();
  }
});
