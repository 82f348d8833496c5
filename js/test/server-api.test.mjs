// createServerClient's Backend API groups (users, sessions, jwtTemplates, apiKeys,
// signingKeys) against a loopback fake server that records the method, path, query,
// headers and body of every call and answers with canned responses: success bodies,
// errors, pagination, oversized and slow answers. Then once inside a Worker (the package
// bundled by wrangler, run by Miniflare).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServerClient, ToriiError, MAX_API_RESPONSE_BYTES } from "../src/node.mjs";
import { bundleWorker, miniflareOf, skipWithoutWorkerTools } from "./worker-bundle.mjs";

const API_KEY = "sk_test_AbC123xyz789_" + "s".repeat(43) + "c".repeat(6);
const APP = "acme";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const now = 1_760_000_000;
const user = (id) => ({
  id,
  email: `${id}@example.com`,
  email_verified: false,
  first_name: null,
  last_name: null,
  public_metadata: {},
  private_metadata: {},
  unsafe_metadata: {},
  created_at: now,
  updated_at: now,
});

let server;
let base;
let log = [];
// (req) => { status, body?, headers?, raw?, hold? }
let reply = () => ({ status: 200, body: {} });
const held = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url, "http://x");
      const entry = {
        method: req.method,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      log.push(entry);
      const out = reply(entry);
      if (out.hold) return held.push(res);
      const headers = { ...(out.raw === undefined ? { "content-type": "application/json" } : {}), ...out.headers };
      res.writeHead(out.status, headers);
      res.end(out.raw ?? (out.body === undefined ? undefined : JSON.stringify(out.body)));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const client = (extra = {}) => createServerClient({ baseUrl: base, applicationId: APP, apiKey: API_KEY, ...extra });

test("every endpoint: method, path, query, headers and JSON body; the answer parsed", async () => {
  const c = client();
  const page = { data: [], has_more: false, next_cursor: null };
  // [call, method, path, query, body (undefined: none), status, answer]
  const cases = [
    [() => c.users.create({ email: "a@b.co" }), "POST", "/v1/users", {}, { email: "a@b.co" }, 201, user("u1")],
    [() => c.users.list({ email: "a+b@c.co", limit: 5, startingAfter: "Y3Vy" }), "GET", "/v1/users", { email: "a+b@c.co", limit: "5", starting_after: "Y3Vy" }, undefined, 200, page],
    [() => c.users.list(), "GET", "/v1/users", {}, undefined, 200, page],
    [() => c.users.get("user 1/x"), "GET", "/v1/users/user%201%2Fx", {}, undefined, 200, user("user 1/x")],
    [() => c.users.update("u1", { first_name: null }, { ifMatch: '"v2-9"' }), "PATCH", "/v1/users/u1", {}, { first_name: null }, 200, user("u1")],
    [() => c.users.updateMetadata("u1", { public_metadata: { plan: "pro" } }), "PATCH", "/v1/users/u1/metadata", {}, { public_metadata: { plan: "pro" } }, 200, user("u1")],
    [() => c.users.delete("u1", { ifMatch: "*" }), "DELETE", "/v1/users/u1", {}, undefined, 204, undefined],
    [() => c.users.revokeSessions("u1"), "POST", "/v1/users/u1/sessions/revoke", {}, undefined, 200, { revoked: 2 }],
    [() => c.sessions.create({ user_id: "u1", aal: "aal2" }), "POST", "/v1/sessions", {}, { user_id: "u1", aal: "aal2" }, 201, { session: {}, token: {} }],
    [() => c.sessions.list({ userId: "u1", status: "active", limit: 2 }), "GET", "/v1/sessions", { user_id: "u1", status: "active", limit: "2" }, undefined, 200, page],
    [() => c.sessions.get("sess_1"), "GET", "/v1/sessions/sess_1", {}, undefined, 200, { id: "sess_1" }],
    [() => c.sessions.revoke("sess_1"), "POST", "/v1/sessions/sess_1/revoke", {}, undefined, 200, { id: "sess_1" }],
    [() => c.sessions.revokeAllOfUser("u1"), "POST", "/v1/users/u1/sessions/revoke", {}, undefined, 200, { revoked: 0 }],
    [() => c.sessions.createToken("sess_1", { template: "hasura" }), "POST", "/v1/sessions/sess_1/tokens", { template: "hasura" }, undefined, 200, { jwt: "a.b.c" }],
    [() => c.sessions.createToken("sess_1"), "POST", "/v1/sessions/sess_1/tokens", {}, undefined, 200, { jwt: "a.b.c" }],
    [() => c.jwtTemplates.put("hasura", { claims: { a: 1 }, default: true }, { ifMatch: '"v1-1"' }), "PUT", "/v1/jwt-templates/hasura", {}, { claims: { a: 1 }, default: true }, 201, { name: "hasura" }],
    [() => c.jwtTemplates.get("hasura"), "GET", "/v1/jwt-templates/hasura", {}, undefined, 200, { name: "hasura" }],
    [() => c.jwtTemplates.list({ limit: 100 }), "GET", "/v1/jwt-templates", { limit: "100" }, undefined, 200, page],
    [() => c.jwtTemplates.delete("hasura"), "DELETE", "/v1/jwt-templates/hasura", {}, undefined, 204, undefined],
    [() => c.jwtTemplates.preview({ claims: {}, user_id: "u1" }), "POST", "/v1/jwt-templates/preview", {}, { claims: {}, user_id: "u1" }, 200, { claims: {}, lifetime: null }],
    [() => c.apiKeys.create({ name: "ci", scopes: ["users:read"] }), "POST", "/v1/api-keys", {}, { name: "ci", scopes: ["users:read"] }, 201, { id: "k", secret: "sk" }],
    [() => c.apiKeys.list(), "GET", "/v1/api-keys", {}, undefined, 200, page],
    [() => c.apiKeys.get("AbC123xyz789"), "GET", "/v1/api-keys/AbC123xyz789", {}, undefined, 200, { id: "AbC123xyz789" }],
    [() => c.apiKeys.roll("AbC123xyz789", { expire_previous_in: 3600 }), "POST", "/v1/api-keys/AbC123xyz789/roll", {}, { expire_previous_in: 3600 }, 201, { id: "new" }],
    [() => c.apiKeys.roll("AbC123xyz789"), "POST", "/v1/api-keys/AbC123xyz789/roll", {}, undefined, 201, { id: "new" }],
    [() => c.apiKeys.revoke("AbC123xyz789"), "POST", "/v1/api-keys/AbC123xyz789/revoke", {}, undefined, 200, { id: "AbC123xyz789" }],
    [() => c.signingKeys.list(), "GET", "/v1/signing-keys", {}, undefined, 200, page],
    [() => c.signingKeys.rotate(), "POST", "/v1/signing-keys/rotate", {}, undefined, 201, { version: 2 }],
  ];
  const keys = new Set();
  for (const [call, method, path, query, body, status, answer] of cases) {
    log = [];
    reply = () => ({ status, body: answer });
    const got = await call();
    const what = `${method} ${path}`;
    assert.equal(log.length, 1, what);
    const [req] = log;
    assert.equal(req.method, method, what);
    assert.equal(req.path, path, what);
    assert.deepEqual(req.query, query, what);
    assert.equal(req.headers.authorization, `Bearer ${API_KEY}`, what);
    assert.equal(req.headers["x-application-id"], APP, what);
    assert.equal(req.headers.accept, "application/json", what);
    if (body === undefined) {
      assert.equal(req.body, "", what);
      assert.equal(req.headers["content-type"], undefined, what);
    } else {
      assert.equal(req.headers["content-type"], "application/json", what);
      assert.deepEqual(JSON.parse(req.body), body, what);
    }
    if (method === "POST") {
      assert.match(req.headers["idempotency-key"], UUID, what);
      keys.add(req.headers["idempotency-key"]);
    } else {
      assert.equal(req.headers["idempotency-key"], undefined, what);
    }
    const ifMatch = { "PATCH /v1/users/u1": '"v2-9"', "DELETE /v1/users/u1": "*", "PUT /v1/jwt-templates/hasura": '"v1-1"' }[what];
    assert.equal(req.headers["if-match"], ifMatch, what);
    if (status === 204) assert.equal(got, undefined, what);
    else assert.deepEqual({ ...got }, answer, what);
  }
  assert.equal(keys.size, cases.filter((c) => c[1] === "POST").length, "a fresh Idempotency-Key per POST");
});

test("Idempotency-Key: the caller's key when given; ETag exposed as a non-enumerable `etag`", async () => {
  const c = client();
  log = [];
  reply = () => ({ status: 201, body: user("u1"), headers: { etag: '"v1-5"', "x-request-id": "req_9" } });
  const u = await c.users.create({}, { idempotencyKey: "import-u1" });
  await c.sessions.createToken("s", { idempotencyKey: "tok-1" });
  assert.deepEqual(log.map((r) => r.headers["idempotency-key"]), ["import-u1", "tok-1"]);
  assert.equal(u.etag, '"v1-5"');
  assert.deepEqual(JSON.parse(JSON.stringify(u)), user("u1"));
  await assert.rejects(c.users.create({}, { idempotencyKey: "" }), TypeError);
});

test("errors: ToriiError with the server's code, status, field, pointer, request id, Retry-After", async () => {
  const c = client();
  reply = () => ({ status: 422, body: { code: "validation_failed", message: "must be 1 to 100", field: "limit", request_id: "req_1" } });
  await assert.rejects(c.users.list({ limit: 500 }), (e) => {
    assert.ok(e instanceof ToriiError);
    assert.deepEqual([e.code, e.status, e.message, e.field, e.requestId], ["validation_failed", 422, "must be 1 to 100", "limit", "req_1"]);
    return true;
  });
  reply = () => ({ status: 400, body: { code: "reserved_claim", message: "sub is reserved", field: "claims", pointer: "/sub", request_id: "req_2" } });
  await assert.rejects(c.jwtTemplates.put("t", { claims: { sub: "x" } }), (e) => e.code === "reserved_claim" && e.pointer === "/sub" && e.field === "claims" && e.status === 400);
  reply = () => ({ status: 429, body: { code: "rate_limited", message: "slow down", request_id: "req_3" }, headers: { "retry-after": "7" } });
  await assert.rejects(c.users.get("u1"), (e) => e.code === "rate_limited" && e.status === 429 && e.retryAfter === 7 && e.requestId === "req_3");
  reply = () => ({ status: 502, raw: "<html>bad gateway</html>", headers: { "content-type": "text/html", "x-request-id": "req_4" } });
  await assert.rejects(c.users.get("u1"), (e) => e.code === "internal_error" && e.status === 502 && e.requestId === "req_4" && /answered 502/.test(e.message));
  reply = () => ({ status: 200, raw: "[1,2]" });
  await assert.rejects(c.users.get("u1"), (e) => e.code === "internal_error" && /without a JSON object/.test(e.message));
  reply = () => ({ status: 409, body: { code: "idempotency_key_reused", message: "another request", field: "Idempotency-Key", request_id: "r" } });
  await assert.rejects(c.users.create({}, { idempotencyKey: "k" }), (e) => e.code === "idempotency_key_reused" && e.status === 409 && e.field === "Idempotency-Key");
});

test("lists: the page, and `for await` over every item of every page following next_cursor", async () => {
  const all = ["u5", "u4", "u3", "u2", "u1"].map(user);
  reply = (req) => {
    const limit = Number(req.query.limit ?? 20);
    const start = req.query.starting_after ? all.findIndex((u) => u.id === atob(req.query.starting_after)) + 1 : 0;
    const data = all.slice(start, start + limit);
    const has_more = start + limit < all.length;
    return { status: 200, body: { data, has_more, next_cursor: has_more ? btoa(data.at(-1).id) : null } };
  };
  const c = client();
  const page = await c.users.list({ limit: 2, email: "x@y.z" });
  assert.deepEqual(page.data.map((u) => u.id), ["u5", "u4"]);
  assert.equal(page.has_more, true);
  assert.equal(page.next_cursor, btoa("u4"));
  log = [];
  const ids = [];
  for await (const u of c.users.list({ limit: 2, email: "x@y.z" })) ids.push(u.id);
  assert.deepEqual(ids, ["u5", "u4", "u3", "u2", "u1"]);
  assert.deepEqual(
    log.map((r) => r.query),
    [
      { email: "x@y.z", limit: "2" },
      { email: "x@y.z", limit: "2", starting_after: btoa("u4") },
      { email: "x@y.z", limit: "2", starting_after: btoa("u2") },
    ],
  );
  // The awaited page iterates from itself on (no refetch of the first page).
  log = [];
  const rest = [];
  for await (const u of page) rest.push(u.id);
  assert.deepEqual(rest, ["u5", "u4", "u3", "u2", "u1"]);
  assert.equal(log.length, 2);
  // A server that repeats a cursor does not loop forever.
  reply = () => ({ status: 200, body: { data: [user("u")], has_more: true, next_cursor: "same" } });
  await assert.rejects(async () => {
    for await (const _ of c.sessions.list()) void _;
  }, /repeated a list cursor/);
  // An error on a later page rejects the iteration.
  let n = 0;
  reply = () => (n++ === 0 ? { status: 200, body: { data: [user("a")], has_more: true, next_cursor: "c1" } } : { status: 503, body: { code: "storage_unavailable", message: "d1", request_id: "r" } });
  const seen = [];
  await assert.rejects(async () => {
    for await (const u of c.apiKeys.list()) seen.push(u.id);
  }, (e) => e.code === "storage_unavailable" && e.status === 503);
  assert.deepEqual(seen, ["a"]);
});

test("bounded: answers over the limit and slow answers reject; no apiKey, bad arguments, plain http", async () => {
  reply = () => ({ status: 200, raw: JSON.stringify({ pad: "x".repeat(MAX_API_RESPONSE_BYTES) }) });
  await assert.rejects(client().users.get("u1"), (e) => e.code === "internal_error" && e.status === 502 && /more than/.test(e.message));
  reply = () => ({ hold: true });
  const t0 = Date.now();
  await assert.rejects(client({ timeoutMs: 150 }).users.get("u1"), (e) => e.code === "internal_error" && /timed out after 150 ms/.test(e.message));
  assert.ok(Date.now() - t0 < 5000);

  log = [];
  const noKey = createServerClient({ baseUrl: base, applicationId: APP });
  await assert.rejects(noKey.users.get("u1"), (e) => e instanceof TypeError && /apiKey/.test(e.message));
  await assert.rejects(async () => {
    for await (const _ of noKey.users.list()) void _;
  }, TypeError);
  assert.equal(log.length, 0, "nothing is sent without a key");
  const c = client();
  await assert.rejects(c.users.get(""), TypeError);
  await assert.rejects(c.users.update("u1", null), TypeError);
  await assert.rejects(c.users.update("u1", {}, { ifMatch: 5 }), TypeError);
  assert.equal(log.length, 0);
  assert.throws(() => createServerClient({ baseUrl: "http://edge.example.com", applicationId: APP, apiKey: API_KEY }), /https/);
});

test("the README's Backend API example runs against the fake server", async () => {
  const { readFileSync } = await import("node:fs");
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const block = readme.match(/```js backend-api-example\n([\s\S]*?)```/)[1];
  const code = `${block.replace(/^import [\s\S]*?;$/m, "").replaceAll("https://auth.example.com", base)}\nreturn { page, hasura };`;
  const session = { id: "sess_1", user_id: "u1", status: "active", aal: "aal2", org_id: null, org_role: null, actor: null, created_at: now, expires_at: now + 3600 };
  log = [];
  reply = (req) => {
    const route = `${req.method} ${req.path}`;
    if (route === "POST /v1/users") return { status: 201, body: user("u1"), headers: { etag: '"v1-1"' } };
    if (route === "PATCH /v1/users/u1" || route === "PATCH /v1/users/u1/metadata") return { status: 200, body: user("u1"), headers: { etag: '"v2-2"' } };
    if (route === "POST /v1/sessions") return { status: 201, body: { session, token: { jwt: "s.t.u", expires_at: now + 60, template: null } } };
    if (route === "POST /v1/sessions/sess_1/tokens") return { status: 200, body: { jwt: "h.a.s", expires_at: now + 60, template: "hasura" } };
    if (route === "GET /v1/users") {
      return req.query.starting_after
        ? { status: 200, body: { data: [user("u0")], has_more: false, next_cursor: null } }
        : { status: 200, body: { data: [user("u1")], has_more: true, next_cursor: "Y3Vy" } };
    }
    if (route === "POST /v1/api-keys") return { status: 403, body: { code: "insufficient_scope", message: "needs api_keys:write", request_id: "req_r" } };
    return { status: 404, body: { code: "not_found", message: route, request_id: "r" } };
  };
  const printed = [];
  const fakeConsole = { log: (...a) => printed.push(a), error: (...a) => printed.push(a) };
  const process = { env: { TORII_APP_ID: APP, TORII_SECRET_KEY: API_KEY } };
  const AsyncFunction = (async () => {}).constructor;
  const out = await new AsyncFunction("createServerClient", "ToriiError", "process", "console", code)(createServerClient, ToriiError, process, fakeConsole);
  assert.equal(out.hasura.jwt, "h.a.s");
  assert.deepEqual(out.page.data.map((u) => u.id), ["u1"]);
  assert.deepEqual(printed, [["u1"], ["u0"], ["insufficient_scope", 403, undefined, "req_r"]]);
  assert.equal(log.find((r) => r.method === "PATCH").headers["if-match"], '"v1-1"');
  assert.ok(log.every((r) => r.headers.authorization === `Bearer ${API_KEY}` && r.headers["x-application-id"] === APP));
});

// ------------------------------------------------------------------ inside a Worker

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const skip = skipWithoutWorkerTools;

const WORKER = `import { createServerClient } from "torii-edge";
export default {
  async fetch(request, env) {
    const client = createServerClient({ baseUrl: env.API_URL, applicationId: "acme", apiKey: env.API_KEY });
    try {
      const created = await client.users.create({ email: "w@example.com" });
      const ids = [];
      for await (const u of client.users.list({ limit: 2 })) ids.push(u.id);
      let error = null;
      try {
        await client.users.get("missing");
      } catch (e) {
        error = { code: e.code, status: e.status, requestId: e.requestId, name: e.name };
      }
      return Response.json({ created: created.id, etag: created.etag, ids, error });
    } catch (e) {
      return Response.json({ failed: e.message, code: e.code }, { status: 500 });
    }
  },
};
`;

test("inside a Worker (wrangler bundle, Miniflare): create, iterate pages, a coded error", { skip }, async () => {
  const all = ["w3", "w2", "w1"].map(user);
  log = [];
  reply = (req) => {
    if (req.method === "POST") return { status: 201, body: user("w_new"), headers: { etag: '"v1-1"' } };
    if (req.path === "/v1/users/missing") return { status: 404, body: { code: "not_found", message: "no such user", request_id: "req_w" } };
    const start = req.query.starting_after ? all.findIndex((u) => u.id === req.query.starting_after) + 1 : 0;
    const data = all.slice(start, start + 2);
    const has_more = start + 2 < all.length;
    return { status: 200, body: { data, has_more, next_cursor: has_more ? data.at(-1).id : null } };
  };
  const scratch = mkdtempSync(join(tmpdir(), "torii-edge-worker-api-"));
  try {
    mkdirSync(join(scratch, "node_modules"));
    symlinkSync(pkgDir, join(scratch, "node_modules", "torii-edge"), "dir");
    writeFileSync(join(scratch, "worker.mjs"), WORKER);
    const bundle = bundleWorker(scratch, { name: "server-api", outdir: join(scratch, "out") });
    const mf = await miniflareOf(bundle, { API_URL: base, API_KEY });
    try {
      const res = await mf.dispatchFetch("http://localhost/");
      const out = await res.json();
      assert.equal(res.status, 200, JSON.stringify(out));
      assert.deepEqual(out, {
        created: "w_new",
        etag: '"v1-1"',
        ids: ["w3", "w2", "w1"],
        error: { code: "not_found", status: 404, requestId: "req_w", name: "ToriiError" },
      });
    } finally {
      await mf.dispose();
    }
    const post = log.find((r) => r.method === "POST");
    assert.match(post.headers["idempotency-key"], UUID, "crypto.randomUUID inside workerd");
    assert.equal(post.headers.authorization, `Bearer ${API_KEY}`);
    assert.deepEqual(log.filter((r) => r.method === "GET").map((r) => r.query.starting_after ?? null), [null, "w2", null]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
