// The JWKS cache against a local JWKS server on 127.0.0.1: one fetch for N verifies,
// max-age freshness (clamped), refetch on unknown kid with a 30 s cooldown, stale served
// while the server is down (up to 24 h), then fail closed. The cache's clock is injected.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createVerifier, verifyToken, ToriiError, JwksCachePolicy } from "../src/node.mjs";
import { ISS, NOW, at, newKey, token } from "./helpers.mjs";

const k1 = newKey("k1");
const k2 = newKey("k2");
const k3 = newKey("k3");
const server = {
  keys: [k1.jwk],
  cacheControl: "public, max-age=600",
  mode: "up", // up | down (connection reset) | error (503) | huge | invalid | hang
  requests: 0,
};
let http;
let url;

before(async () => {
  http = createServer((req, res) => {
    server.requests += 1;
    switch (server.mode) {
      case "down":
        req.socket.destroy();
        return;
      case "error":
        res.writeHead(503).end("unavailable");
        return;
      case "hang":
        return; // never answers: the 5 s (here shortened) timeout aborts
      case "huge":
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [k1.jwk], pad: "x".repeat(70_000) }));
        return;
      case "invalid":
        res.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}');
        return;
      default: {
        const headers = { "content-type": "application/jwk-set+json" };
        if (server.cacheControl) headers["cache-control"] = server.cacheControl;
        res.writeHead(200, headers).end(JSON.stringify({ keys: server.keys }));
      }
    }
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${http.address().port}/.well-known/jwks.json`;
});

after(() => new Promise((resolve) => { http.closeAllConnections(); http.close(resolve); }));

function reset(overrides = {}) {
  Object.assign(server, { keys: [k1.jwk], cacheControl: "public, max-age=600", mode: "up", requests: 0 }, overrides);
}

/** A verifier whose cache clock is `clock.t` (seconds). */
function remote(extra = {}) {
  const clock = { t: NOW };
  const v = createVerifier({ issuer: ISS, jwksUrl: url, now: () => clock.t * 1000, ...extra });
  return { v, clock };
}

const ok = async (v, key, when = NOW) => assert.equal((await v.verify(`Bearer ${token(key, { exp: when + 600, iat: when })}`, { currentDate: at(when) })).sub, "user_1");
async function fails(v, key, code, when = NOW) {
  await assert.rejects(v.verify(token(key, { exp: when + 600, iat: when }), { currentDate: at(when) }), (e) => {
    assert.ok(e instanceof ToriiError);
    assert.equal(e.code, code, e.message);
    return true;
  });
}
async function settle(check) {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
}

test("one fetch for N verifies, including N concurrent first verifies", async () => {
  reset();
  const { v, clock } = remote();
  await Promise.all(Array.from({ length: 20 }, () => ok(v, k1)));
  for (let i = 0; i < 100; i++) {
    clock.t = NOW + i * 5; // 0..495 s: fresh for max-age=600
    await ok(v, k1, clock.t);
  }
  assert.equal(server.requests, 1);
  assert.equal(v.jwksFetches, 1);
});

test("max-age sets freshness, clamped to [60 s, 24 h]; 10 min without it; stale revalidates in the background", async () => {
  for (const [cacheControl, ttl] of [["max-age=120", 120], ["max-age=5", 60], ["no-store", 60], [null, 600], ["max-age=999999", 86400]]) {
    reset({ cacheControl });
    const { v, clock } = remote();
    await ok(v, k1);
    clock.t = NOW + ttl - 1;
    await ok(v, k1);
    assert.equal(server.requests, 1, `${cacheControl}: fresh until ${ttl}`);
    clock.t = NOW + ttl;
    await ok(v, k1); // served stale, refreshed in the background
    await settle(() => server.requests === 2);
    clock.t = NOW + ttl + 1;
    await ok(v, k1);
    assert.equal(server.requests, 2, `${cacheControl}: fresh again after the refresh`);
  }
});

test("unknown kid: one refetch, then at most one per 30 s", async () => {
  reset({ cacheControl: "max-age=3600" });
  const { v, clock } = remote();
  await ok(v, k1);
  // A key rotated in is found by one refetch.
  server.keys = [k1.jwk, k2.jwk];
  clock.t = NOW + 40;
  await ok(v, k2);
  assert.equal(server.requests, 2);
  // A flood of unknown kids inside the cooldown costs nothing...
  clock.t = NOW + 45;
  await Promise.all(Array.from({ length: 10 }, () => fails(v, k3, "unknown_key")));
  clock.t = NOW + 69;
  await fails(v, k3, "unknown_key");
  assert.equal(server.requests, 2);
  // ...and once it has passed, one more refetch.
  clock.t = NOW + 70;
  await fails(v, k3, "unknown_key");
  assert.equal(server.requests, 3);
  // Known keys never wait for any of this.
  await ok(v, k1);
  await ok(v, k2);
  assert.equal(server.requests, 3);
  // An unknown kid while the server is down keeps serving the known keys.
  server.mode = "down";
  clock.t = NOW + 200;
  await fails(v, k3, "unknown_key");
  await ok(v, k1);
  assert.equal(server.requests, 4);
});

test("the last good set is served while the server is down, for 24 h past freshness, then fail closed", async () => {
  reset({ cacheControl: "max-age=60" });
  const { v, clock } = remote();
  await ok(v, k1);
  server.mode = "down";
  // Each stale verify starts one background refresh (shared while in flight), which fails.
  for (const [t, requests] of [[60, 2], [61, 2], [1000, 3], [60 + 86_399, 4]]) {
    clock.t = NOW + t;
    await ok(v, k1);
    await settle(() => server.requests === requests);
    await new Promise((r) => setTimeout(r, 20));
  }
  const before = server.requests;
  // Past 24 h of staleness (and the cooldown of the last attempt): fetch, fail, fail closed.
  clock.t = NOW + 60 + 86_399 + 30;
  await fails(v, k1, "jwks_fetch_failed");
  assert.equal(server.requests, before + 1);
  clock.t += 10;
  await assert.rejects(v.verify(token(k1), { currentDate: at(NOW) }), (e) => e.code === "jwks_unavailable" && e.retryAfter === 20 && e.status === 503);
  assert.equal(server.requests, before + 1);
  // Back up: after the cooldown, the next verify fetches and succeeds.
  server.mode = "up";
  clock.t += 20;
  await ok(v, k1);
  assert.equal(server.requests, before + 2);
});

test("first fetch failures: jwks_fetch_failed with a cause, then jwks_unavailable during the cooldown", async () => {
  for (const mode of ["down", "error", "huge", "invalid", "hang"]) {
    reset({ mode });
    const { v, clock } = remote({ timeoutMs: 200 });
    await assert.rejects(v.verify(token(k1), { currentDate: at(NOW) }), (e) => {
      assert.equal(e.code, "jwks_fetch_failed", `${mode}: ${e.message}`);
      assert.ok(e.cause, mode);
      if (mode === "invalid") assert.equal(e.cause.code, "invalid_jwks");
      return true;
    });
    clock.t = NOW + 29;
    await assert.rejects(v.verify(token(k1), { currentDate: at(NOW) }), (e) => e.code === "jwks_unavailable" && e.retryAfter === 1);
    assert.equal(server.requests, 1, mode);
  }
});

test("verifyToken with a jwksUrl shares one cache across calls", async () => {
  reset();
  const t = `Bearer ${token(k1, { exp: Math.floor(Date.now() / 1000) + 600, iat: Math.floor(Date.now() / 1000) })}`;
  for (let i = 0; i < 10; i++) assert.equal((await verifyToken(t, { issuer: ISS, jwksUrl: url })).sub, "user_1");
  assert.equal(server.requests, 1);
});

test("JwksCachePolicy is the core's JwksCache (through wasm)", () => {
  const c = new JwksCachePolicy();
  assert.deepEqual(c.lookup(true, 0), { kind: "fetch" });
  c.beginFetch(0);
  assert.deepEqual(c.lookup(true, 1), { kind: "unavailable", retryAfter: 29 });
  c.onFetchOk("set", undefined, 0);
  assert.deepEqual(c.lookup(true, 599), { kind: "use" });
  assert.deepEqual(c.lookup(false, 29), { kind: "use" });
  assert.deepEqual(c.lookup(false, 30), { kind: "fetch" });
  assert.deepEqual(c.lookup(true, 600), { kind: "revalidate" });
  assert.deepEqual(c.lookup(true, 600 + 86_400), { kind: "fetch" });
  assert.equal(c.ttl(5), 60);
  assert.equal(c.ttl(10_000_000), 86_400);
  assert.equal(c.value, "set");
  // A custom policy reaches the core; nonsense is refused.
  const short = new JwksCachePolicy({ cooldown: 5, defaultTtl: 100 });
  short.beginFetch(0);
  assert.deepEqual(short.lookup(true, 1), { kind: "unavailable", retryAfter: 4 });
  short.onFetchOk("v", undefined, 0);
  assert.deepEqual(short.lookup(true, 99), { kind: "use" });
  assert.deepEqual(short.lookup(true, 100), { kind: "revalidate" });
  assert.deepEqual(short.lookup(false, 5), { kind: "fetch" });
  assert.throws(() => new JwksCachePolicy({ cooldown: -1 }), TypeError);
  assert.throws(() => new JwksCachePolicy({ maxStale: 1.5 }), TypeError);
});
