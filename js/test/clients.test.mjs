// createServerClient and createTokenClient against a loopback fake edge (discovery, JWKS,
// token endpoint as issue 5 / seed 002 specify them).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServerClient, createTokenClient, ToriiError } from "../src/node.mjs";
import { newKey, signToken } from "./helpers.mjs";

const key = newKey("k1");
const TEMPLATE_TYP = "torii-template+jwt";
let edge; // { url, log, down, delayMs, lifetime, sessions }
let server;
const nowSecs = () => Math.floor(Date.now() / 1000);

before(async () => {
  edge = { log: [], down: false, delayMs: 0, lifetime: 120, sessions: new Set(["sess-A", "sess-B"]), fail500: false };
  server = createServer(async (req, res) => {
    const u = new URL(req.url, "http://x");
    edge.log.push({ method: req.method, path: u.pathname, search: u.search, app: req.headers["x-application-id"], auth: req.headers.authorization });
    const json = (status, body) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (edge.down) return json(503, { code: "down" });
    if (req.method === "GET" && u.pathname === "/.well-known/openid-configuration") {
      return json(200, { issuer: edge.url, jwks_uri: `${edge.url}/_torii/.well-known/jwks.json`, id_token_signing_alg_values_supported: ["EdDSA"] });
    }
    if (req.method === "GET" && u.pathname === "/_torii/.well-known/jwks.json") return json(200, { keys: [key.jwk] });
    if (req.method === "POST" && u.pathname === "/_torii/auth/session/token") {
      if (edge.delayMs) await new Promise((r) => setTimeout(r, edge.delayMs));
      if (edge.fail500) return json(500, { code: "internal_error" });
      const session = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      if (!edge.sessions.has(session)) return json(401, { code: "session_revoked" });
      const template = u.searchParams.get("template");
      if (template !== null && template !== "hasura" && template !== "a b/c") return json(404, { code: "jwt_template_not_found" });
      const exp = nowSecs() + edge.lifetime;
      const typ = template === null ? "JWT" : TEMPLATE_TYP;
      const accessToken = signToken(key, { alg: "EdDSA", kid: "k1", typ }, { iss: edge.url, sub: `user_of_${session}`, exp, iat: nowSecs(), tpl: template, n: edge.log.length });
      return json(200, { accessToken, expiresAt: new Date(exp * 1000).toISOString() });
    }
    json(404, { code: "not_found" });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  edge.url = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

const reset = () => {
  edge.log.length = 0;
  Object.assign(edge, { down: false, delayMs: 0, lifetime: 120, fail500: false });
};
const sessionToken = (sub = "user_1", extra = {}) => signToken(key, { alg: "EdDSA", kid: "k1", typ: "JWT" }, { iss: edge.url, sub, sid: "s1", exp: nowSecs() + 600, ...extra });

// ------------------------------------------------------------------ server client

test("server client: discovery then JWKS, once each for N verifies, with x-application-id (never the API key)", async () => {
  reset();
  const client = createServerClient({ baseUrl: `${edge.url}/`, applicationId: "app_1", apiKey: "torii_sk_secret" });
  const results = await Promise.all(Array.from({ length: 5 }, (_, i) => client.verifyToken(`Bearer ${sessionToken(`user_${i}`)}`)));
  assert.deepEqual(results.map((c) => c.sub), ["user_0", "user_1", "user_2", "user_3", "user_4"]);
  for (let i = 0; i < 5; i++) await client.verifyToken(sessionToken());
  assert.deepEqual(edge.log.map((l) => [l.method, l.path, l.app, l.auth]), [
    ["GET", "/.well-known/openid-configuration", "app_1", undefined],
    ["GET", "/_torii/.well-known/jwks.json", "app_1", undefined],
  ]);
  assert.deepEqual(client.fetches, { discovery: 1, jwks: 1 });
  assert.equal(client.baseUrl, edge.url);
});

test("server client: the issuer comes from discovery; template tokens and bad tokens are refused", async () => {
  reset();
  const client = createServerClient({ baseUrl: edge.url, applicationId: "app_1" });
  const reject = (p, code) => assert.rejects(p, (e) => e instanceof ToriiError && e.code === code);
  await reject(client.verifyToken(signToken(key, { alg: "EdDSA", kid: "k1" }, { iss: "https://other.test", sub: "u", exp: nowSecs() + 60 })), "invalid_issuer");
  await reject(client.verifyToken(signToken(key, { alg: "EdDSA", kid: "k1", typ: TEMPLATE_TYP }, { iss: edge.url, sub: "u", exp: nowSecs() + 60 })), "invalid_token_type");
  await reject(client.verifyToken(""), "missing_token");
  await reject(client.verifyToken("Basic abc"), "invalid_request");
  await reject(client.verifyToken(signToken(newKey("k1"), { alg: "EdDSA", kid: "k1" }, { iss: edge.url, sub: "u", exp: nowSecs() + 60 })), "invalid_signature");
  // Policy options pass through (audience).
  const strict = createServerClient({ baseUrl: edge.url, applicationId: "app_1", audience: "api" });
  await reject(strict.verifyToken(sessionToken()), "missing_claim");
  assert.equal((await strict.verifyToken(sessionToken("u", { aud: "api" }))).sub, "u");
});

test("server client: discovery down fails closed, cools down, then recovers", async () => {
  reset();
  edge.down = true;
  let clock = Date.now();
  const client = createServerClient({ baseUrl: edge.url, applicationId: "app_1", now: () => clock });
  await assert.rejects(client.verifyToken(sessionToken()), (e) => e.code === "jwks_fetch_failed" && e.status === 503);
  await assert.rejects(client.verifyToken(sessionToken()), (e) => e.code === "jwks_unavailable" && e.retryAfter === 30);
  assert.equal(edge.log.length, 1, "no fetch during the cooldown");
  edge.down = false;
  clock += 31_000;
  assert.equal((await client.verifyToken(sessionToken())).sub, "user_1");
});

test("server client: management fetch sends the API key; options are checked", async () => {
  reset();
  const client = createServerClient({ baseUrl: edge.url, applicationId: "app_1", apiKey: "torii_sk_secret" });
  const res = await client.fetch("/v1/users", { method: "GET", headers: { "x-extra": "1" } });
  assert.equal(res.status, 404);
  assert.deepEqual(edge.log.map((l) => [l.path, l.app, l.auth]), [["/v1/users", "app_1", "Bearer torii_sk_secret"]]);
  await assert.rejects(createServerClient({ baseUrl: edge.url, applicationId: "a" }).fetch("/v1/users"), TypeError);
  assert.throws(() => createServerClient({ baseUrl: edge.url }), TypeError);
  assert.throws(() => createServerClient({ baseUrl: "not a url", applicationId: "a" }), TypeError);
  assert.throws(() => createServerClient({ baseUrl: "ftp://x", applicationId: "a" }), TypeError);
});

// ------------------------------------------------------------------ token client

test("token client: a template token, cached until ~30 s before it expires", async () => {
  reset();
  let clock = Date.now();
  const tokens = createTokenClient({ baseUrl: edge.url, applicationId: "app_1", getSessionToken: async () => "sess-A", now: () => clock });
  const t1 = await tokens.getToken({ template: "hasura" });
  assert.equal(typeof t1, "string");
  const payload = JSON.parse(Buffer.from(t1.split(".")[1], "base64url"));
  assert.equal(payload.tpl, "hasura");
  assert.equal(await tokens.getToken({ template: "hasura" }), t1);
  clock += 89_000; // 120 s lifetime: still 31 s left
  assert.equal(await tokens.getToken({ template: "hasura" }), t1);
  assert.equal(tokens.requests, 1);
  clock += 2_000; // 29 s left: refresh
  const t2 = await tokens.getToken({ template: "hasura" });
  assert.notEqual(t2, t1);
  assert.equal(tokens.requests, 2);
  assert.deepEqual(edge.log.map((l) => [l.method, l.path, l.search, l.auth, l.app]), [
    ["POST", "/_torii/auth/session/token", "?template=hasura", "Bearer sess-A", "app_1"],
    ["POST", "/_torii/auth/session/token", "?template=hasura", "Bearer sess-A", "app_1"],
  ]);
});

test("token client: one in-flight request per template; templates cached separately; session token without template", async () => {
  reset();
  edge.delayMs = 50;
  const tokens = createTokenClient({ baseUrl: edge.url, getSessionToken: () => "sess-A" });
  const [a, b, c, s1, s2] = await Promise.all([
    tokens.getToken({ template: "hasura" }),
    tokens.getToken({ template: "hasura" }),
    tokens.getToken({ template: "hasura" }),
    tokens.getToken(),
    tokens.getToken(),
  ]);
  assert.equal(a, b);
  assert.equal(b, c);
  assert.equal(s1, s2);
  assert.notEqual(a, s1);
  assert.equal(tokens.requests, 2);
  assert.deepEqual(edge.log.map((l) => l.search).sort(), ["", "?template=hasura"]);
  assert.equal(JSON.parse(Buffer.from(s1.split(".")[1], "base64url")).tpl, null);
  // Names are URL-encoded.
  assert.equal(typeof (await tokens.getToken({ template: "a b/c" })), "string");
  assert.equal(edge.log.at(-1).search, "?template=a%20b%2Fc");
});

test("token client: null for an unknown template, an ended session or no session", async () => {
  reset();
  let session = "sess-B";
  const tokens = createTokenClient({ baseUrl: edge.url, getSessionToken: () => session });
  assert.equal(await tokens.getToken({ template: "nope" }), null);
  const t = await tokens.getToken({ template: "hasura" });
  assert.equal(typeof t, "string");
  // Session ended server-side: the cached token is still fresh but the client only learns
  // on its next request; a new session token is a different session: request again.
  edge.sessions.delete("sess-B");
  session = "sess-B2";
  assert.equal(await tokens.getToken({ template: "hasura" }), null); // 401 for sess-B2
  session = "sess-B";
  assert.equal(await tokens.getToken({ template: "hasura" }), t, "cached for sess-B");
  tokens.clear();
  assert.equal(await tokens.getToken({ template: "hasura" }), null); // 401: ended
  const before = tokens.requests;
  session = null;
  assert.equal(await tokens.getToken({ template: "hasura" }), null);
  assert.equal(tokens.requests, before, "no request without a session");
  edge.sessions.add("sess-B");
});

test("token client: a 401 drops what was cached for that session", async () => {
  reset();
  let clock = Date.now();
  const tokens = createTokenClient({ baseUrl: edge.url, getSessionToken: () => "sess-A", now: () => clock });
  const t = await tokens.getToken();
  assert.equal(typeof (await tokens.getToken({ template: "hasura" })), "string");
  edge.sessions.delete("sess-A");
  clock += 100_000; // the session token needs a refresh: 401
  assert.equal(await tokens.getToken(), null);
  clock -= 100_000; // even a still-fresh template token is gone
  assert.equal(await tokens.getToken({ template: "hasura" }), null);
  assert.notEqual(t, null);
  edge.sessions.add("sess-A");
});

test("token client: server errors reject with token_request_failed and are not cached", async () => {
  reset();
  edge.fail500 = true;
  const tokens = createTokenClient({ baseUrl: edge.url, getSessionToken: () => "sess-A" });
  await assert.rejects(tokens.getToken({ template: "hasura" }), (e) => e instanceof ToriiError && e.code === "token_request_failed" && e.status === 502 && /500 \(internal_error\)/.test(e.message));
  edge.fail500 = false;
  assert.equal(typeof (await tokens.getToken({ template: "hasura" })), "string");
  const dead = createTokenClient({ baseUrl: "http://127.0.0.1:1", getSessionToken: () => "s", timeoutMs: 2000 });
  await assert.rejects(dead.getToken(), (e) => e.code === "token_request_failed");
  assert.throws(() => createTokenClient({ baseUrl: edge.url }), TypeError);
  // Responses are bounded (64 KiB), streamed or declared.
  const huge = createTokenClient({
    baseUrl: edge.url,
    getSessionToken: () => "s",
    fetch: async () => new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(16 * 1024)) }), { status: 200 }),
  });
  await assert.rejects(huge.getToken(), (e) => e.code === "token_request_failed" && /more than 65536/.test(e.message));
  await assert.rejects(tokens.getToken({ template: "" }), TypeError);
});

test("the README's clients example runs against the fake edge", async () => {
  reset();
  const { readFileSync } = await import("node:fs");
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const block = readme.match(/```js clients-example\n([\s\S]*?)```/)[1];
  const body = `${block.replace(/^import .*$/m, "").replaceAll("https://auth.example.com", edge.url)}\nreturn { claims, hasuraToken };`;
  const AsyncFunction = (async () => {}).constructor;
  const req = { headers: { authorization: `Bearer ${sessionToken("user_readme")}` } };
  const process = { env: { TORII_APP_ID: "app_readme" } };
  const { claims, hasuraToken } = await new AsyncFunction("createServerClient", "createTokenClient", "req", "session", "process", body)(
    createServerClient,
    createTokenClient,
    req,
    { token: "sess-A" },
    process,
  );
  assert.equal(claims.sub, "user_readme");
  assert.equal(JSON.parse(Buffer.from(hasuraToken.split(".")[1], "base64url")).tpl, "hasura");
  assert.ok(edge.log.some((l) => l.app === "app_readme"));
});
