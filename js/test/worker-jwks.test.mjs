// The remote JWKS inside a Worker (the package bundled by wrangler, run by Miniflare):
// requests that need the key set at the same time never await a fetch that another
// request started (workerd: "Cannot perform I/O on behalf of a different request"; a
// cancelled request's I/O never completes), yet the set is fetched once for all of them,
// and when the request that was fetching is cancelled the others still succeed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ISS, newKey, signToken } from "./helpers.mjs";
import { bundleWorker, miniflareOf, skipWithoutWorkerTools } from "./worker-bundle.mjs";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const skip = skipWithoutWorkerTools;

const key = newKey("k1");
const nowSecs = () => Math.floor(Date.now() / 1000);
const freshToken = (sub) => signToken(key, { alg: "EdDSA", kid: "k1" }, { iss: ISS, sub, exp: nowSecs() + 600 });
// The fetch timeout inside the Worker: a cancelled fetch is taken over after it (+1 s).
const TIMEOUT_MS = 1000;

const WORKER = `import { createVerifier } from "torii-edge";
let verifier;
export default {
  async fetch(request, env) {
    verifier ??= createVerifier({ issuer: env.ISSUER, jwksUrl: env.JWKS_URL, timeoutMs: Number(env.TIMEOUT_MS) });
    try {
      const verified = verifier.verify(request.headers.get("authorization"));
      // x-give-up-ms: this request answers without waiting longer, which makes workerd
      // cancel its outstanding I/O (the JWKS fetch it may have started) and timers.
      const giveUp = Number(request.headers.get("x-give-up-ms") ?? NaN);
      if (giveUp >= 0) {
        verified.catch(() => {});
        const late = new Promise((resolve) => setTimeout(resolve, giveUp, null));
        if ((await Promise.race([verified, late])) === null) return Response.json({ error: "gave_up" }, { status: 504 });
      }
      const claims = await verified;
      return Response.json({ sub: claims.sub });
    } catch (e) {
      return Response.json({ error: e.code ?? e.name, message: e.message }, { status: e.status ?? 500 });
    }
  },
};
`;

// A JWKS server that holds its answers while `hold` is set (release() answers them).
const jwks = { hold: false, hits: 0, held: [] };
let server;
let jwksUrl;
let scratch;
let bundle;

function answer(res) {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=600" });
  res.end(JSON.stringify({ keys: [key.jwk] }));
}
const release = () => jwks.held.splice(0).forEach(answer);

async function until(cond, what, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(async () => {
  if (skip) return;
  server = createServer((_req, res) => {
    jwks.hits += 1;
    if (jwks.hold) jwks.held.push(res);
    else answer(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${server.address().port}/jwks`;
  // Bundle the package as users deploy it: wrangler, resolving "torii-edge" to js/.
  scratch = mkdtempSync(join(tmpdir(), "torii-edge-worker-jwks-"));
  mkdirSync(join(scratch, "node_modules"));
  symlinkSync(pkgDir, join(scratch, "node_modules", "torii-edge"), "dir");
  writeFileSync(join(scratch, "worker.mjs"), WORKER);
  bundle = bundleWorker(scratch, { name: "jwks-concurrency", outdir: join(scratch, "out") });
});

after(async () => {
  release();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r()));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function startWorker() {
  const mf = await miniflareOf(bundle, { ISSUER: ISS, JWKS_URL: jwksUrl, TIMEOUT_MS: String(TIMEOUT_MS) });
  await mf.ready;
  return mf;
}

// Each answer within 10 s (a request waiting on a cancelled request's fetch never gets one).
const verifyThrough = async (mf, sub, headers = {}) => {
  const res = await mf.dispatchFetch("http://localhost/", {
    headers: { authorization: `Bearer ${freshToken(sub)}`, ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  return [res.status, await res.json()];
};

test("concurrent requests that all need the JWKS: one fetch, each request succeeds", { skip }, async () => {
  Object.assign(jwks, { hold: true, hits: 0 });
  const mf = await startWorker();
  try {
    const first = verifyThrough(mf, "u0");
    await until(() => jwks.hits === 1, "the first request's JWKS fetch");
    const others = [1, 2, 3, 4].map((i) => verifyThrough(mf, `u${i}`));
    await new Promise((r) => setTimeout(r, 300)); // they are in, waiting for the keys
    jwks.hold = false;
    release();
    const results = await Promise.all([first, ...others]);
    assert.deepEqual(results, [0, 1, 2, 3, 4].map((i) => [200, { sub: `u${i}` }]));
    assert.equal(jwks.hits, 1, "the set is fetched once for all of them");
  } finally {
    await mf.dispose();
  }
});

test("the request fetching the JWKS is cancelled mid-fetch: the others still succeed", { skip }, async () => {
  Object.assign(jwks, { hold: true, hits: 0 });
  const mf = await startWorker();
  try {
    // The first request starts the fetch, then gives up after 500 ms: workerd cancels its
    // fetch (the held answer never reaches it) while the others wait for the keys.
    const first = verifyThrough(mf, "gone", { "x-give-up-ms": "500" });
    await until(() => jwks.hits === 1, "the first request's JWKS fetch");
    const others = [1, 2, 3].map((i) => verifyThrough(mf, `u${i}`));
    assert.deepEqual(await first, [504, { error: "gave_up" }]);
    // From now on the server answers at once.
    jwks.hold = false;
    const results = await Promise.all(others);
    assert.deepEqual(results, [1, 2, 3].map((i) => [200, { sub: `u${i}` }]));
    // The cancelled fetch, then one fetch by the request that took it over.
    assert.equal(jwks.hits, 2);
  } finally {
    await mf.dispose();
  }
});
