// URLs the package fetches from (jwksUrl, the issuer's default JWKS URL, baseUrl, a
// discovered jwks_uri): https, or plain http only to a loopback host.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createVerifier, createEdgeAssertionVerifier, createServerClient, createTokenClient, ToriiError } from "../src/node.mjs";
import { ISS, ORIGIN, newKey, token } from "./helpers.mjs";

const insecure = [
  "http://example.com/jwks",
  "http://10.0.0.1/jwks",
  "http://192.168.1.10:8080/jwks",
  "http://128.0.0.1/jwks",
  "http://localhost.example.com/jwks",
  "http://[::2]/jwks",
  "http://[::ffff:8.8.8.8]/jwks",
];
const loopback = [
  "http://127.0.0.1:8787/jwks",
  "http://127.1.2.3/jwks",
  "http://localhost:3000/jwks",
  "http://LOCALHOST/jwks",
  "http://[::1]:8787/jwks",
  "https://example.com/jwks",
  "https://10.0.0.1/jwks",
];
const refusesHttp = (e) => e instanceof TypeError && /https/.test(e.message);

test("jwksUrl: plain http is refused off loopback, https always allowed", () => {
  for (const jwksUrl of insecure) {
    assert.throws(() => createVerifier({ issuer: ISS, jwksUrl }), refusesHttp, jwksUrl);
    assert.throws(() => createEdgeAssertionVerifier({ issuer: ISS, audience: ORIGIN, jwksUrl }), refusesHttp, jwksUrl);
  }
  for (const jwksUrl of loopback) {
    assert.equal(typeof createVerifier({ issuer: ISS, jwksUrl }).verify, "function", jwksUrl);
    assert.equal(typeof createEdgeAssertionVerifier({ issuer: ISS, audience: ORIGIN, jwksUrl }).verify, "function", jwksUrl);
  }
});

test("the issuer's default JWKS URL and baseUrl: the same rule", () => {
  for (const u of insecure) {
    const issuer = new URL(u).origin;
    assert.throws(() => createEdgeAssertionVerifier({ issuer, audience: ORIGIN }), refusesHttp, issuer);
    assert.throws(() => createServerClient({ baseUrl: issuer, applicationId: "app" }), refusesHttp, issuer);
    assert.throws(() => createTokenClient({ baseUrl: issuer, getSessionToken: () => null }), refusesHttp, issuer);
  }
  for (const u of loopback) {
    const origin = new URL(u).origin;
    createEdgeAssertionVerifier({ issuer: origin, audience: ORIGIN });
    createServerClient({ baseUrl: origin, applicationId: "app" });
    createTokenClient({ baseUrl: origin, getSessionToken: () => null });
  }
  // The audience is an identifier, never fetched: an http origin stays accepted.
  createEdgeAssertionVerifier({ issuer: ISS, audience: "http://api.internal:8080", jwks: { keys: [newKey("k1").jwk] } });
});

test("a discovery document pointing at a plain-http jwks_uri off loopback: jwks_fetch_failed, nothing fetched from it", async () => {
  const key = newKey("k1");
  const fetched = [];
  const fetch = async (url) => {
    fetched.push(String(url));
    return Response.json({ issuer: ISS, jwks_uri: "http://keys.example.com/jwks" });
  };
  const client = createServerClient({ baseUrl: "https://edge.example.test", applicationId: "app", fetch });
  await assert.rejects(client.verifyToken(`Bearer ${token(key)}`), (e) => e instanceof ToriiError && e.code === "jwks_fetch_failed" && /https/.test(e.message));
  assert.deepEqual(fetched, ["https://edge.example.test/.well-known/openid-configuration"]);
});
