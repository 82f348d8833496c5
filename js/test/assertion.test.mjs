// verifyEdgeAssertion / createEdgeAssertionVerifier: origin servers checking that a request
// came through the edge. Assertions are minted exactly as the core's edge_assertion_claims
// (helpers.mjs edgeAssertion); tests/e2e/npm-assertion.test.mjs checks ones the real edge made.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import { createEdgeAssertionVerifier, verifyEdgeAssertion, ToriiError } from "../src/node.mjs";
import { ISS, NOW, ORIGIN, at, newKey, token, edgeAssertion, claimsHeader } from "./helpers.mjs";

const key = newKey("k1");
const jwks = { keys: [key.jwk] };
const pinned = { currentDate: at(NOW) };
const base = { issuer: ISS, audience: ORIGIN, jwks, ...pinned };
const user = { iss: ISS, sub: "user_1", sid: "sess_1", org_role: "admin", exp: NOW + 600 };
const ch = claimsHeader(user);

async function rejects(promise, code, status) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ToriiError, `not a ToriiError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (status !== undefined) assert.equal(e.status, status);
    return true;
  });
}

function fetchRequest(path, { method = "GET", assertion, claims, host = ORIGIN } = {}) {
  const headers = new Headers();
  if (assertion !== undefined) headers.set("x-torii-edge-assertion", assertion);
  if (claims !== undefined) headers.set("x-torii-claims", claims);
  return new Request(host + path, { method, headers });
}

test("a Fetch Request: returns the claims the edge verified", async () => {
  const a = edgeAssertion(key, { method: "POST", url: `${ORIGIN}/orders?x=1`, claims: ch, sub: "user_1" });
  const req = fetchRequest("/orders?x=1", { method: "POST", assertion: a, claims: ch });
  assert.deepEqual(await verifyEdgeAssertion(req, base), user);
  // The URL is the audience's origin + the request's path and query: the host the origin
  // sees (a load balancer, 127.0.0.1) does not matter.
  const behindProxy = fetchRequest("/orders?x=1", { method: "POST", assertion: a, claims: ch, host: "http://10.0.0.7:3000" });
  assert.deepEqual(await verifyEdgeAssertion(behindProxy, base), user);
});

test("an anonymous request (public route) resolves to null", async () => {
  const a = edgeAssertion(key, { url: `${ORIGIN}/public/x` });
  assert.equal(await verifyEdgeAssertion(fetchRequest("/public/x", { assertion: a }), base), null);
});

test("a Node IncomingMessage: audience origin + req.url", async () => {
  const verifier = createEdgeAssertionVerifier({ issuer: ISS, audience: ORIGIN, jwks });
  const results = [];
  const server = createServer(async (req, res) => {
    try {
      results.push({ ok: await verifier.verify(req, pinned) });
    } catch (e) {
      results.push({ code: e.code });
    }
    res.end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const send = (method, path, headers) =>
    new Promise((resolve, reject) => {
      const r = httpRequest({ host: "127.0.0.1", port: server.address().port, method, path, headers }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      r.on("error", reject);
      r.end();
    });
  try {
    const a = edgeAssertion(key, { method: "DELETE", url: `${ORIGIN}/items/7?force=1`, claims: ch });
    await send("DELETE", "/items/7?force=1", { "X-Torii-Edge-Assertion": a, "X-Torii-Claims": ch });
    await send("DELETE", "/items/8?force=1", { "x-torii-edge-assertion": a, "x-torii-claims": ch });
    await send("GET", "/items/7?force=1", { "x-torii-edge-assertion": a, "x-torii-claims": ch });
    await send("DELETE", "/items/7?force=1", { "x-torii-edge-assertion": a });
    await send("DELETE", "/items/7?force=1", {});
  } finally {
    server.close();
  }
  assert.deepEqual(results, [
    { ok: user },
    { code: "assertion_mismatch" },
    { code: "assertion_mismatch" },
    { code: "assertion_mismatch" },
    { code: "missing_token" },
  ]);
});

test("Headers (Fetch or a plain object) with an explicit method and URL", async () => {
  const a = edgeAssertion(key, { method: "PUT", url: `${ORIGIN}/v1/a`, claims: ch });
  const opts = { ...base, method: "PUT", url: `${ORIGIN}/v1/a` };
  assert.deepEqual(await verifyEdgeAssertion(new Headers({ "x-torii-edge-assertion": a, "x-torii-claims": ch }), opts), user);
  assert.deepEqual(await verifyEdgeAssertion({ "X-Torii-Edge-Assertion": a, "x-torii-claims": ch }, opts), user);
  assert.deepEqual(await verifyEdgeAssertion({ "x-torii-edge-assertion": a, "x-torii-claims": ch }, { ...opts, url: new URL(`${ORIGIN}/v1/a`) }), user);
  await assert.rejects(verifyEdgeAssertion({ "x-torii-edge-assertion": a }, { ...base, url: `${ORIGIN}/v1/a` }), TypeError);
  await assert.rejects(verifyEdgeAssertion({ "x-torii-edge-assertion": a }, { ...base, method: "PUT" }), TypeError);
  // A header sent twice (Node keeps duplicates of unknown headers as arrays when asked).
  await rejects(verifyEdgeAssertion({ "x-torii-edge-assertion": [a, a] }, opts), "invalid_request");
});

test("the binding: method, URL (path and query) and x-torii-claims", async () => {
  const a = edgeAssertion(key, { method: "GET", url: `${ORIGIN}/a?b=1`, claims: ch });
  const ok = (over) => verifyEdgeAssertion(fetchRequest("/a?b=1", { assertion: a, claims: ch, ...over }), base);
  assert.deepEqual(await ok({}), user);
  assert.deepEqual(await ok({ method: "get" }), user); // methods compare case-insensitively
  await rejects(ok({ method: "HEAD" }), "assertion_mismatch", 401);
  await rejects(verifyEdgeAssertion(fetchRequest("/a?b=2", { assertion: a, claims: ch }), base), "assertion_mismatch", 401);
  await rejects(verifyEdgeAssertion(fetchRequest("/a", { assertion: a, claims: ch }), base), "assertion_mismatch");
  await rejects(verifyEdgeAssertion(fetchRequest("/A?b=1", { assertion: a, claims: ch }), base), "assertion_mismatch");
  const forged = claimsHeader({ ...user, org_role: "owner" });
  await rejects(ok({ claims: forged }), "assertion_mismatch");
  await rejects(ok({ claims: undefined }), "assertion_mismatch");
  // An anonymous assertion does not cover claims added later.
  const anon = edgeAssertion(key, { url: `${ORIGIN}/a?b=1` });
  await rejects(verifyEdgeAssertion(fetchRequest("/a?b=1", { assertion: anon, claims: ch }), base), "assertion_mismatch");
});

test("the assertion as a JWT: typ, issuer, audience, lifetime, signature, key", async () => {
  const at0 = (a, opts = base) => verifyEdgeAssertion(fetchRequest("/", { assertion: a }), opts);
  assert.equal(await at0(edgeAssertion(key)), null);
  await rejects(at0(token(key)), "invalid_token_type"); // an access token is not an assertion
  await rejects(at0(edgeAssertion(key, {}, { typ: "JWT" })), "invalid_token_type");
  await rejects(at0(edgeAssertion(key, { iss: "https://other.test" })), "invalid_issuer");
  await rejects(at0(edgeAssertion(key, { aud: "https://other.example.test" })), "invalid_audience");
  await rejects(at0(edgeAssertion(key, { now: NOW - 3600 })), "token_expired");
  await rejects(at0(edgeAssertion(key, { now: NOW - 200, lifetime: 3600 })), "token_too_old");
  await rejects(at0(edgeAssertion(key, { now: NOW + 3600 })), "token_issued_in_future");
  await rejects(at0(edgeAssertion(newKey("k1"))), "invalid_signature");
  await rejects(at0(edgeAssertion(newKey("k9"))), "unknown_key");
  await rejects(at0(edgeAssertion(key, {}, { alg: "HS256" })), "unsupported_algorithm");
  await rejects(at0("not-a-jwt"), "malformed_token");
  await rejects(at0(edgeAssertion(key), { ...base, jwks: { keys: [] } }), "invalid_jwks");
  // currentDate pins the clock: the same assertion is fine at its time, expired later.
  const a = edgeAssertion(key);
  assert.equal(await at0(a, { ...base, currentDate: at(NOW + 30) }), null);
  await rejects(at0(a, { ...base, currentDate: at(NOW + 200) }), "token_expired");
});

test("options: audience is an origin; issuer required; one key source", () => {
  assert.throws(() => createEdgeAssertionVerifier({ issuer: ISS, audience: `${ORIGIN}/api`, jwks }), TypeError);
  assert.throws(() => createEdgeAssertionVerifier({ issuer: ISS, audience: `${ORIGIN}?x`, jwks }), TypeError);
  assert.throws(() => createEdgeAssertionVerifier({ issuer: ISS, jwks }), TypeError);
  assert.throws(() => createEdgeAssertionVerifier({ audience: ORIGIN, jwks }), TypeError);
  assert.throws(() => createEdgeAssertionVerifier({ issuer: ISS, audience: ORIGIN, jwks, jwksUrl: "https://x/jwks" }), TypeError);
  assert.throws(() => createEdgeAssertionVerifier({ issuer: ISS, audience: "ftp://x", jwks }), TypeError);
  assert.throws(() => createEdgeAssertionVerifier({ issuer: ISS, audience: ORIGIN, jwks: { keys: [{ kty: "RSA" }] } }), (e) => e.code === "invalid_key" || e.code === "invalid_jwks");
  // A trailing slash is the same origin.
  assert.ok(createEdgeAssertionVerifier({ issuer: ISS, audience: `${ORIGIN}/`, jwks }));
});

test("jwksUrl defaults to the issuer's /_torii/.well-known/jwks.json, fetched once for N requests", async () => {
  const paths = [];
  let keys = [key.jwk];
  const server = createServer((req, res) => {
    paths.push(req.url);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  try {
    let clock = NOW * 1000;
    const v = createEdgeAssertionVerifier({ issuer, audience: ORIGIN, now: () => clock });
    for (let i = 0; i < 5; i++) {
      const a = edgeAssertion(key, { iss: issuer, url: `${ORIGIN}/n/${i}`, claims: ch });
      assert.deepEqual(await v.verify(fetchRequest(`/n/${i}`, { assertion: a, claims: ch }), pinned), user);
    }
    assert.deepEqual(paths, ["/_torii/.well-known/jwks.json"]);
    assert.equal(v.jwksFetches, 1);
    // A rotated key: an unknown kid refetches (after the cooldown), then verifies.
    const k2 = newKey("k2");
    keys = [key.jwk, k2.jwk];
    clock += 31_000;
    const a2 = edgeAssertion(k2, { iss: issuer, url: `${ORIGIN}/r` });
    assert.equal(await v.verify(fetchRequest("/r", { assertion: a2 }), pinned), null);
    assert.equal(v.jwksFetches, 2);
  } finally {
    server.close();
  }
});
