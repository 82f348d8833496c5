// validateTemplate / renderTemplate: the core's template engine (src/template.rs) through
// wasm, with the same codes and RFC 6901 pointers as tests/templates.rs, one test per code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateTemplate, renderTemplate, ToriiError } from "../src/node.mjs";

const SEED_ROLE_EMAIL_PLAN = '{ "role": "{{ user.public_metadata.role || \\"member\\" }}", "email": "{{ user.email }}", "plan": "{{ user.public_metadata.plan }}"}';
const SEED_UID_GREETING_TEAM = '{ "uid": "{{ user.id }}", "greeting": "Hi {{ user.first_name }}", "team": "{{ user.public_metadata.team || \\"none\\" }}"}';
const SEED_HASURA = '{ "https://hasura.io/jwt/claims": { "x-hasura-default-role": "{{ user.public_metadata.role || \\"user\\" }}", "x-hasura-user-id": "{{ user.id }}" }}';

const ada = {
  id: "user_2ada",
  email: "ada@example.com",
  email_verified: true,
  first_name: "Ada",
  last_name: "Lovelace",
  public_metadata: { role: "admin", plan: "pro", org: { team: "core", n: 3 } },
  unsafe_metadata: { theme: "dark" },
  private_metadata: { stripe_id: "cus_secret" },
};

/** validateTemplate's error for `template`: asserts the code and returns the pointer. */
function invalid(template, code, options) {
  const r = validateTemplate(template, options);
  assert.equal(r.valid, false, `expected ${code} for ${typeof template === "string" ? template : JSON.stringify(template)}`);
  assert.ok(r.error instanceof ToriiError);
  assert.equal(r.error.code, code, r.error.message);
  assert.equal(r.error.status, 400);
  // renderTemplate refuses it with the same error.
  assert.throws(() => renderTemplate(template, { id: "u" }, options), (e) => e instanceof ToriiError && e.code === code && e.pointer === r.error.pointer);
  return r.error.pointer;
}

test("the seed's examples render as the edge mints them", () => {
  assert.deepEqual(renderTemplate(SEED_ROLE_EMAIL_PLAN, ada), { role: "admin", email: "ada@example.com", plan: "pro" });
  assert.deepEqual(renderTemplate(SEED_ROLE_EMAIL_PLAN, { id: "u", email: "b@example.com" }), { role: "member", email: "b@example.com" });
  assert.deepEqual(renderTemplate(SEED_UID_GREETING_TEAM, ada), { uid: "user_2ada", greeting: "Hi Ada", team: "none" });
  assert.deepEqual(renderTemplate(SEED_HASURA, ada), { "https://hasura.io/jwt/claims": { "x-hasura-default-role": "admin", "x-hasura-user-id": "user_2ada" } });
  // Objects work as well as JSON text; camelCase user fields too.
  assert.deepEqual(
    renderTemplate({ n: "{{ user.name }}", v: "{{ user.email_verified }}", t: "{{ user.unsafe_metadata.theme }}", o: "{{ user.public_metadata.org }}", e: "x{{ user.public_metadata.org }}" }, {
      id: "u",
      firstName: "Grace",
      lastName: "Hopper",
      unsafeMetadata: { theme: "light" },
      publicMetadata: { org: { a: 1 } },
    }, { budget: 100_000 }),
    { n: "Grace Hopper", v: false, t: "light", o: { a: 1 }, e: 'x{"a":1}' },
  );
});

test("validateTemplate: valid templates report their worst-case size", () => {
  const r = validateTemplate(SEED_HASURA);
  assert.equal(r.valid, true);
  assert.ok(Number.isInteger(r.worstCaseSize) && r.worstCaseSize > 60 && r.worstCaseSize <= 1200, String(r.worstCaseSize));
  assert.equal(validateTemplate({}).worstCaseSize, 2);
  assert.equal(validateTemplate({ a: 1 }).worstCaseSize, '{"a":1}'.length);
  assert.equal(validateTemplate(SEED_HASURA, { lifetime: 300 }).valid, true);
});

test("invalid_template (pointer \"\")", () => {
  for (const doc of ["not json", "[1]", '"s"', '{"a":1,"a":2}', '{"a":1}x', '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{}}}}}}}}}']) {
    assert.equal(invalid(doc, "invalid_template"), "", doc);
  }
  assert.equal(validateTemplate('{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}}}').valid, true);
});

test("reserved_claim", () => {
  for (const claim of ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "pid", "sid", "act", "aal", "azp", "locale", "org", "org_id", "org_role"]) {
    assert.equal(invalid({ ok: 1, [claim]: "x" }, "reserved_claim"), `/${claim}`);
  }
  // Only at the top level.
  assert.equal(validateTemplate({ nested: { sub: "x" } }).valid, true);
});

test("private_metadata_not_allowed", () => {
  for (const code of ["{{ user.private_metadata }}", "{{ user.private_metadata.stripe_id }}", '{{ user.private_metadata.x || "fallback" }}', "{{ user.privateMetadata }}", "{{ user.PrivateMetadata.x }}", "{{ privateMetadata }}", "{{ private_metadata.x }}", "hello {{ user.private-metadata }}"]) {
    assert.equal(invalid({ list: [0, code] }, "private_metadata_not_allowed"), "/list/1", code);
  }
  assert.equal(validateTemplate('{"a":"{{user.public_metadata.private_metadata}}"}').valid, true);
});

test("unknown_shortcode", () => {
  for (const code of ["user.emial", "user.email.domain", "user.id.x", "user", "org.id", "session.id", "user.publicMetadata", "user.metadata"]) {
    assert.equal(invalid({ a: { b: `x {{ ${code} }}` } }, "unknown_shortcode"), "/a/b", code);
  }
});

test("invalid_shortcode, with RFC 6901 escapes in the pointer", () => {
  for (const value of ["{{ user.id", "{{ user.id }", "{{}}", "{{ }}", "{{ user..id }}", "{{ user.id extra }}", "{{{ user.id }}}", "{{ user.id || }}", "{{ user.id || nope }}", "{{ user.id || 'single' }}", '{{ user.id || {"a":1,"a":2} }}', "{{ user.id || 01 }}", '{{ user.id | "x" }}', "ok {{ user.id }} then {{ broken"]) {
    assert.equal(invalid({ a: [{ "b~/c": value }] }, "invalid_shortcode"), "/a/0/b~0~1c", value);
  }
  assert.equal(invalid('{"ns":{"{{user.id}}":1}}', "invalid_shortcode"), "/ns/{{user.id}}");
  assert.equal(invalid('{"https://x.io/c":{"a~b":["ok","{{user.nope}}"]}}', "unknown_shortcode"), "/https:~1~1x.io~1c/a~0b/1");
});

test("template_too_large: as authored (4 KiB) and worst case (budget)", () => {
  assert.equal(invalid({ a: "x".repeat(4096) }, "template_too_large"), "");
  const big = '{"a":"{{user.public_metadata}}","b":"{{user.unsafe_metadata}}","c":"x{{user.public_metadata}}"}';
  assert.equal(invalid(big, "template_too_large"), "");
  assert.match(validateTemplate(big).error.message, /budget is 1200/);
  // A larger budget accepts it, and reports the size it checked.
  const r = validateTemplate(big, { budget: 100_000 });
  assert.equal(r.valid, true);
  assert.ok(r.worstCaseSize > 1200);
  assert.equal(invalid({ a: 1 }, "template_too_large", { budget: 3 }), "");
  assert.throws(() => validateTemplate({}, { budget: -1 }), TypeError);
});

test("invalid_lifetime (no pointer)", () => {
  for (const secs of [-1, 0, 29, 86_401, 1e300, Infinity, NaN]) {
    const r = validateTemplate(SEED_HASURA, { lifetime: secs });
    assert.equal(r.valid, false, String(secs));
    assert.equal(r.error.code, "invalid_lifetime");
    assert.equal(r.error.pointer, undefined);
  }
  for (const secs of [30, 300, 86_400]) assert.equal(validateTemplate(SEED_HASURA, { lifetime: secs }).valid, true);
});

test("user errors: invalid_user_field, metadata_too_large, metadata_too_deep (with field)", () => {
  const t = '{"a":"{{ user.id }}"}';
  const userErr = (user, code, field) =>
    assert.throws(() => renderTemplate(t, user), (e) => {
      assert.ok(e instanceof ToriiError);
      assert.equal(e.code, code, e.message);
      assert.equal(e.field, field);
      assert.equal(e.status, 400);
      return true;
    });
  userErr({ id: "" }, "invalid_user_field", "id");
  userErr({ id: "x".repeat(65) }, "invalid_user_field", "id");
  userErr({ id: 'a"b' }, "invalid_user_field", "id");
  userErr({}, "invalid_user_field", "id");
  userErr({ id: "u", email: "a\n@b" }, "invalid_user_field", "email");
  userErr({ id: "u", email: 5 }, "invalid_user_field", "email");
  userErr({ id: "u", first_name: "x".repeat(257) }, "invalid_user_field", "first_name");
  userErr({ id: "u", last_name: "\u0000" }, "invalid_user_field", "last_name");
  userErr({ id: "u", name: "\t" }, "invalid_user_field", "name");
  userErr({ id: "u", email_verified: "yes" }, "invalid_user_field", "email_verified");
  userErr({ id: "u", public_metadata: [1] }, "invalid_user_field", "public_metadata");
  userErr({ id: "u", public_metadata: { s: "x".repeat(600) } }, "metadata_too_large", "public_metadata");
  userErr({ id: "u", unsafe_metadata: { s: "x".repeat(600) } }, "metadata_too_large", "unsafe_metadata");
  userErr({ id: "u", private_metadata: { s: "x".repeat(600) } }, "metadata_too_large", "private_metadata");
  let deep = 1;
  for (let i = 0; i < 9; i++) deep = { d: deep };
  userErr({ id: "u", public_metadata: deep }, "metadata_too_deep", "public_metadata");
  assert.throws(() => renderTemplate(t, null), TypeError);
  assert.throws(() => renderTemplate(42, { id: "u" }), TypeError);
});

test("private metadata never reaches the output, whatever the user holds", () => {
  const out = renderTemplate({ all: "{{ user.public_metadata }}", u: "{{ user.unsafe_metadata }}" }, ada);
  assert.ok(!JSON.stringify(out).includes("cus_secret"));
});

test("the README's template example gives the results it shows", async () => {
  const { readFileSync } = await import("node:fs");
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const block = readme.match(/```js template-example\n([\s\S]*?)```/)[1];
  const lines = block.split("\n").filter((l) => l.trim() && !l.startsWith("import "));
  const body = lines
    .map((l) => {
      const m = l.match(/^(.*);\s*\/\/ → (.*)$/);
      return m ? `check(${m[1]}, ${m[2]});` : l;
    })
    .join("\n");
  let checks = 0;
  const check = (got, want) => {
    checks += 1;
    assert.deepEqual(got, want);
  };
  new Function("validateTemplate", "renderTemplate", "check", body)(validateTemplate, renderTemplate, check);
  assert.equal(checks, 3);
});
