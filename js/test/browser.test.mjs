// The browser (and default) entry loads the .wasm by URL relative to the module, with
// fetch: stand in a fetch that serves file: URLs, as a static server would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ISS, NOW, at, newKey, token } from "./helpers.mjs";

test("the browser entry fetches the .wasm by URL and verifies a token", async () => {
  const fetched = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input) => {
    const url = new URL(String(input));
    fetched.push(url.pathname.split("/").slice(-2).join("/"));
    return new Response(readFileSync(url), { headers: { "content-type": "application/wasm" } });
  };
  try {
    const torii = await import("../src/browser.mjs");
    assert.deepEqual(fetched, ["pkg/torii_edge_bg.wasm"]);
    const key = newKey();
    const v = torii.createVerifier({ issuer: ISS, jwks: { keys: [key.jwk] } });
    assert.equal((await v.verify(`Bearer ${token(key)}`, { currentDate: at(NOW) })).sub, "user_1");
    await assert.rejects(v.verify("nope.nope.nope", { currentDate: at(NOW) }), (e) => e.code === "malformed_token");
    // The same API as the Node entry, backed by the same wasm.
    const node = await import("../src/node.mjs");
    assert.deepEqual(Object.keys(torii).sort(), Object.keys(node).sort());
    assert.deepEqual(torii.renderTemplate({ uid: "{{ user.id }}" }, { id: "u_1" }), { uid: "u_1" });
    assert.equal(torii.validateTemplate({ sub: "x" }).error.pointer, "/sub");
  } finally {
    globalThis.fetch = realFetch;
  }
});
