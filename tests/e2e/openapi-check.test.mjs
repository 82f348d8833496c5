// The OpenAPI document of the Backend API (src/api/openapi/, printed by
// `cargo run --example openapi`): valid OpenAPI 3.1 for a real validator
// (@seriousme/openapi-schema-validator), every schema compiling in ajv's strict 2020-12
// mode, and the response checker of openapi-check.mjs on synthetic bodies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { checkResponse, compileDocument, coreDocument, matchPath, validateResponse } from "./openapi-check.mjs";

const doc = coreDocument();
const now = 1_760_000_000;
const user = {
  id: "user_1",
  email: "ada@example.com",
  email_verified: true,
  first_name: "Ada",
  last_name: null,
  public_metadata: { plan: "pro" },
  private_metadata: {},
  unsafe_metadata: {},
  created_at: now,
  updated_at: now,
};
const apiKey = {
  id: "AbC123xyz789",
  status: "active",
  name: "ci",
  scopes: ["users:read"],
  prefix: "sk_live_AbC123xyz789",
  last_four: "x9Q2",
  created_at: now,
  last_used_at: null,
  expires_at: null,
  revoked_at: null,
};

test("the document is valid OpenAPI 3.1 (and the validator does refuse a broken one)", async () => {
  const res = await new Validator().validate(structuredClone(doc));
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1));
  const broken = structuredClone(doc);
  broken.paths["/v1/users"].get.parameters.push({ name: "x", in: "body", schema: {} });
  assert.equal((await new Validator().validate(broken)).valid, false);
  const badScheme = structuredClone(doc);
  badScheme.components.securitySchemes.secretKey.type = "password";
  assert.equal((await new Validator().validate(badScheme)).valid, false);
});

test("every component schema compiles in ajv strict mode (2020-12)", () => {
  const { ajv } = compileDocument(doc);
  for (const name of Object.keys(doc.components.schemas)) {
    assert.equal(typeof ajv.getSchema(`urn:torii-edge:openapi:components#/$defs/${name}`), "function", name);
  }
});

test("operations: unique operationIds, the paths of the router, security", () => {
  const ids = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      ids.push(op.operationId);
      if (method === "post") assert.ok(op.parameters.some((p) => p.$ref === "#/components/parameters/IdempotencyKey"), op.operationId);
      assert.ok(op.responses.default, `${op.operationId} has a default error`);
      assert.ok(path.startsWith("/v1/"));
    }
  }
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.length, 28);
  assert.deepEqual(doc.paths["/v1/openapi.json"].get.security, []);
  assert.deepEqual(doc.paths["/v1/applications"].post.security, [{ operatorSecret: [] }]);
  assert.deepEqual(doc.paths["/v1/users"].get.security, [{ secretKey: ["users:read"], applicationId: [] }]);
  assert.ok(doc.components.schemas.ErrorCode.enum.includes("validation_failed"));
});

test("paths: concrete paths find their template, literals win over parameters", () => {
  assert.equal(matchPath(doc, "/v1/users/user_1"), "/v1/users/{user_id}");
  assert.equal(matchPath(doc, "/v1/users/user_1/metadata"), "/v1/users/{user_id}/metadata");
  assert.equal(matchPath(doc, "/v1/jwt-templates/preview"), "/v1/jwt-templates/preview");
  assert.equal(matchPath(doc, "/v1/jwt-templates/hasura"), "/v1/jwt-templates/{name}");
  assert.equal(matchPath(doc, "/v1/users?limit=2"), "/v1/users");
  assert.equal(matchPath(doc, "/v1/users/{user_id}"), "/v1/users/{user_id}");
  assert.equal(matchPath(doc, "/v1/nope"), null);
});

test("valid bodies pass", () => {
  assert.equal(checkResponse(doc, "GET", "/v1/users/user_1", 200, user), "users.get");
  assert.equal(checkResponse(doc, "POST", "/v1/users", 201, JSON.stringify(user)), "users.create");
  checkResponse(doc, "GET", "/v1/users", 200, { data: [user, user], has_more: true, next_cursor: "dXNlcnM6MTp1" });
  checkResponse(doc, "GET", "/v1/users", 200, { data: [], has_more: false, next_cursor: null });
  checkResponse(doc, "DELETE", "/v1/users/user_1", 204, "");
  checkResponse(doc, "DELETE", "/v1/jwt-templates/{name}", 204, undefined);
  checkResponse(doc, "GET", "/v1/api-keys/AbC123xyz789", 200, apiKey);
  const secret = "sk_live_AbC123xyz789_" + "a".repeat(43) + "b".repeat(6);
  checkResponse(doc, "POST", "/v1/api-keys", 201, { ...apiKey, secret });
  checkResponse(doc, "POST", "/v1/api-keys/AbC123xyz789/roll", 201, { ...apiKey, secret });
  const session = { id: "sess_1", user_id: "user_1", status: "active", aal: "aal2", org_id: null, org_role: null, actor: null, created_at: now, expires_at: now + 3600 };
  checkResponse(doc, "POST", "/v1/sessions", 201, { session, token: { jwt: "a.b.c", expires_at: now + 60, template: null } });
  checkResponse(doc, "POST", "/v1/sessions/sess_1/tokens?template=hasura", 200, { jwt: "a.b.c", expires_at: now + 60, template: "hasura" });
  checkResponse(doc, "PUT", "/v1/jwt-templates/hasura", 201, { name: "hasura", claims: { a: "{{user.email}}" }, lifetime: null, default: false, created_at: now, updated_at: now });
  checkResponse(doc, "GET", "/v1/signing-keys", 200, {
    data: [{ version: 2, kid: "k2", state: "published", published_at: now, signs_from: now + 600, signs_until: null }],
    has_more: false,
    next_cursor: null,
  });
  for (const [status, code] of [[422, "validation_failed"], [401, "missing_api_key"], [404, "not_found"], [429, "internal_error"], [503, "storage_unavailable"]]) {
    checkResponse(doc, "GET", "/v1/users", status, { code, message: "m", field: "limit", request_id: "req_1" });
  }
  checkResponse(doc, "GET", "/v1/openapi.json", 200, doc);
});

test("a wrong type, an unknown or missing field, a leaked secret, an unknown code fail", () => {
  const fails = (method, path, status, body, needle) => {
    const r = validateResponse(doc, method, path, status, body);
    assert.equal(r.valid, false, `${method} ${path} ${JSON.stringify(body)}`);
    if (needle) assert.ok(r.errors.join("\n").includes(needle), r.errors.join("\n"));
    assert.throws(() => checkResponse(doc, method, path, status, body), /does not match the OpenAPI document/);
  };
  fails("GET", "/v1/users/user_1", 200, { ...user, email_verified: "yes" }, "/email_verified");
  fails("GET", "/v1/users/user_1", 200, { ...user, password: "x" }, "(password)");
  const { created_at: _, ...partial } = user;
  fails("GET", "/v1/users/user_1", 200, partial, "created_at");
  fails("GET", "/v1/api-keys/AbC123xyz789", 200, { ...apiKey, secret: "sk_live_x" }, "(secret)");
  fails("GET", "/v1/api-keys", 200, { data: [apiKey], has_more: false }, "next_cursor");
  fails("GET", "/v1/users", 422, { code: "no_such_code", message: "m", request_id: "r" }, "/code");
  fails("GET", "/v1/users", 422, { code: "validation_failed", message: "m" }, "request_id");
  fails("DELETE", "/v1/users/user_1", 204, { deleted: true }, "no body");
  fails("GET", "/v1/users/user_1", 200, "not json", "not JSON");
  fails("GET", "/v1/users/user_1", 200, undefined, "got none");
  fails("GET", "/v1/nope", 200, {}, "no operation");
  fails("PATCH", "/v1/users", 200, {}, "no operation");
});
