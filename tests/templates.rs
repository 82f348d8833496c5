//! JWT templates: the seed's examples, one test per rule (named after it), and the
//! worst-case size bound as a property.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use torii_edge::templates::engine::{
    DEFAULT_TEMPLATE_BUDGET, MAX_TEMPLATE_BYTES, MAX_TEMPLATE_LIFETIME_SECS,
    MIN_TEMPLATE_LIFETIME_SECS, RESERVED_CLAIMS,
};
use torii_edge::templates::user::{
    MAX_EMAIL_BYTES, MAX_METADATA_BYTES, MAX_NAME_BYTES, MAX_USER_ID_BYTES,
};
use torii_edge::{preview, MetadataBag, Template, TemplateError, User};

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn ada() -> User {
    let mut u = User::new("user_2ada").unwrap();
    u.set_email(Some("ada@example.com"), true).unwrap();
    u.set_names(Some("Ada"), Some("Lovelace")).unwrap();
    u.set_public_metadata(obj(
        json!({"role": "admin", "plan": "pro", "org": {"team": "core", "n": 3}}),
    ))
    .unwrap();
    u.set_unsafe_metadata(obj(json!({"theme": "dark"})))
        .unwrap();
    u.set_private_metadata(obj(json!({"stripe_id": "cus_secret"})))
        .unwrap();
    u
}

fn bare() -> User {
    User::new("user_bare").unwrap()
}

/// Renders with no size budget: these tests are about rendering (the budget has its own).
fn render(template: &str, user: &User) -> Value {
    Value::Object(
        Template::parse_with_budget(template.as_bytes(), usize::MAX)
            .unwrap()
            .render(user),
    )
}

fn err(template: &str) -> TemplateError {
    Template::parse(template.as_bytes()).unwrap_err()
}

// ---------------------------------------------------------------------------------------
// The seed's three examples, verbatim (example 2 without its `//` annotations, which are
// not JSON).

const SEED_ROLE_EMAIL_PLAN: &str = r#"{ "role": "{{ user.public_metadata.role || \"member\" }}", "email": "{{ user.email }}", "plan": "{{ user.public_metadata.plan }}"}"#;
const SEED_UID_GREETING_TEAM: &str = r#"{ "uid": "{{ user.id }}", "greeting": "Hi {{ user.first_name }}", "team": "{{ user.public_metadata.team || \"none\" }}"}"#;
const SEED_HASURA: &str = r#"{ "https://hasura.io/jwt/claims": { "x-hasura-default-role": "{{ user.public_metadata.role || \"user\" }}", "x-hasura-user-id": "{{ user.id }}" }}"#;

#[test]
fn seed_example_role_email_plan() {
    let expected: Value =
        serde_json::from_str(r#"{ "role": "admin", "email": "ada@example.com", "plan": "pro" }"#)
            .unwrap();
    assert_eq!(render(SEED_ROLE_EMAIL_PLAN, &ada()), expected);
    // Without metadata: the fallback, and `plan` omitted (whole value, no fallback).
    let mut u = bare();
    u.set_email(Some("b@example.com"), false).unwrap();
    assert_eq!(
        render(SEED_ROLE_EMAIL_PLAN, &u),
        json!({"role": "member", "email": "b@example.com"})
    );
}

#[test]
fn seed_example_uid_greeting_team() {
    assert_eq!(
        render(SEED_UID_GREETING_TEAM, &ada()),
        json!({"uid": "user_2ada", "greeting": "Hi Ada", "team": "none"})
    );
    let mut u = ada();
    u.set_public_metadata(obj(json!({"team": "blue"}))).unwrap();
    assert_eq!(render(SEED_UID_GREETING_TEAM, &u)["team"], "blue");
    assert_eq!(render(SEED_UID_GREETING_TEAM, &bare())["greeting"], "Hi ");
}

#[test]
fn seed_example_hasura() {
    assert_eq!(
        render(SEED_HASURA, &ada()),
        json!({"https://hasura.io/jwt/claims": {"x-hasura-default-role": "admin", "x-hasura-user-id": "user_2ada"}})
    );
    assert_eq!(
        render(SEED_HASURA, &bare()),
        json!({"https://hasura.io/jwt/claims": {"x-hasura-default-role": "user", "x-hasura-user-id": "user_bare"}})
    );
}

#[test]
fn seed_examples_fit_the_default_budget() {
    for t in [SEED_ROLE_EMAIL_PLAN, SEED_UID_GREETING_TEAM, SEED_HASURA] {
        let t = Template::parse(t.as_bytes()).unwrap();
        assert!(
            t.worst_case_size() <= DEFAULT_TEMPLATE_BUDGET,
            "{}",
            t.worst_case_size()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Shortcodes

#[test]
fn whole_value_keeps_json_type() {
    let t = r#"{"v":"{{user.email_verified}}","bag":"{{ user.public_metadata }}","n":"{{user.public_metadata.org.n}}",
        "o":"{{user.public_metadata.org}}","u":"{{user.unsafe_metadata}}"}"#;
    assert_eq!(
        render(t, &ada()),
        json!({"v": true, "bag": {"role": "admin", "plan": "pro", "org": {"team": "core", "n": 3}},
               "n": 3, "o": {"team": "core", "n": 3}, "u": {"theme": "dark"}})
    );
    assert_eq!(
        render(r#"{"v":"{{user.email_verified}}"}"#, &bare()),
        json!({"v": false})
    );
}

#[test]
fn embedded_shortcode_interpolates_text() {
    let t = r#"{"s":"{{user.first_name}} {{user.last_name}} <{{user.email}}> v={{user.email_verified}} n={{user.public_metadata.org.n}} o={{user.public_metadata.org}}"}"#;
    assert_eq!(
        render(t, &ada()),
        json!({"s": r#"Ada Lovelace <ada@example.com> v=true n=3 o={"n":3,"team":"core"}"#})
    );
}

#[test]
fn every_shortcode_in_the_table_resolves() {
    let t = r#"{"id":"{{user.id}}","email":"{{user.email}}","ev":"{{user.email_verified}}","name":"{{user.name}}",
        "first":"{{user.first_name}}","last":"{{user.last_name}}","pm":"{{user.public_metadata}}",
        "pk":"{{user.public_metadata.role}}","um":"{{user.unsafe_metadata}}","uk":"{{user.unsafe_metadata.theme}}"}"#;
    let out = render(t, &ada());
    assert_eq!(out["id"], "user_2ada");
    assert_eq!(out["email"], "ada@example.com");
    assert_eq!(out["ev"], true);
    assert_eq!(out["name"], "Ada Lovelace");
    assert_eq!(out["first"], "Ada");
    assert_eq!(out["last"], "Lovelace");
    assert_eq!(out["pm"]["plan"], "pro");
    assert_eq!(out["pk"], "admin");
    assert_eq!(out["um"], json!({"theme": "dark"}));
    assert_eq!(out["uk"], "dark");
}

#[test]
fn whitespace_inside_braces_is_optional() {
    for t in [
        "{{user.id}}",
        "{{ user.id }}",
        "{{\tuser.id\n}}",
        "{{   user.id||\"x\"}}",
        "{{user.id ||\"x\"   }}",
    ] {
        let doc = json!({ "a": t }).to_string();
        assert_eq!(render(&doc, &ada()), json!({"a": "user_2ada"}), "{t}");
    }
}

#[test]
fn metadata_key_is_a_dotted_path_into_nested_objects() {
    let t = r#"{"team":"{{user.public_metadata.org.team}}","miss":"{{user.public_metadata.org.team.x || 0}}",
        "through_scalar":"{{user.public_metadata.role.x || \"fb\"}}"}"#;
    assert_eq!(
        render(t, &ada()),
        json!({"team": "core", "miss": 0, "through_scalar": "fb"})
    );
}

#[test]
fn metadata_keys_with_dots_are_only_reachable_through_the_whole_bag() {
    let mut u = bare();
    u.set_public_metadata(obj(json!({"a.b": 1, "a": {"b": 2}})))
        .unwrap();
    assert_eq!(
        render(r#"{"x":"{{user.public_metadata.a.b}}"}"#, &u),
        json!({"x": 2})
    );
    assert_eq!(
        render(r#"{"x":"{{user.public_metadata}}"}"#, &u)["x"]["a.b"],
        1
    );
}

#[test]
fn fallback_is_a_json_literal_of_any_type() {
    let t = r#"{"s":"{{user.email || \"none\"}}","n":"{{user.email || 42}}","f":"{{user.email || -1.5}}",
        "b":"{{user.email || false}}","z":"{{user.email || null}}","o":"{{user.email || {\"a\":[1,\"}}\"]} }}",
        "a":"{{user.email || [1,2]}}","t":"<{{user.email || \"x}}y\"}}>"}"#;
    assert_eq!(
        render(t, &bare()),
        json!({"s": "none", "n": 42, "f": -1.5, "b": false, "z": null, "o": {"a": [1, "}}"]}, "a": [1, 2], "t": "<x}}y>"})
    );
}

#[test]
fn embedded_fallback_gives_text() {
    let t = r#"{"a":"n={{user.email || 42}} z={{user.email || null}} o={{user.email || {\"k\":\"v\"} }} s={{user.email || \"q\\\"\"}}"}"#;
    assert_eq!(
        render(t, &bare()),
        json!({"a": r#"n=42 z= o={"k":"v"} s=q""#})
    );
}

#[test]
fn fallback_not_used_when_value_present() {
    assert_eq!(
        render(
            r#"{"r":"{{user.public_metadata.role || \"member\"}}"}"#,
            &ada()
        ),
        json!({"r": "admin"})
    );
}

#[test]
fn null_resolves_to_nothing() {
    let mut u = bare();
    u.set_public_metadata(obj(json!({"role": null}))).unwrap();
    assert_eq!(
        render(
            r#"{"r":"{{user.public_metadata.role || \"m\"}}","s":"{{user.public_metadata.role}}"}"#,
            &u
        ),
        json!({"r": "m"})
    );
    assert_eq!(
        render(r#"{"e":"[{{user.public_metadata.role}}]"}"#, &u),
        json!({"e": "[]"})
    );
}

#[test]
fn empty_string_is_a_value_not_nothing() {
    let mut u = bare();
    u.set_public_metadata(obj(json!({"role": ""}))).unwrap();
    assert_eq!(
        render(r#"{"r":"{{user.public_metadata.role || \"m\"}}"}"#, &u),
        json!({"r": ""})
    );
}

#[test]
fn whole_value_resolving_to_nothing_omits_the_claim() {
    assert_eq!(
        render(r#"{"email":"{{ user.email }}","keep":1}"#, &bare()),
        json!({"keep": 1})
    );
}

#[test]
fn embedded_resolving_to_nothing_becomes_empty_string() {
    assert_eq!(
        render(r#"{"g":"Hi {{ user.first_name }}!"}"#, &bare()),
        json!({"g": "Hi !"})
    );
}

#[test]
fn nested_objects_omit_members_that_resolve_to_nothing() {
    let t = r#"{"ns":{"deep":{"email":"{{user.email}}","id":"{{user.id}}"},"lit":{"iss":"nested keys are free"}}}"#;
    assert_eq!(
        render(t, &bare()),
        json!({"ns": {"deep": {"id": "user_bare"}, "lit": {"iss": "nested keys are free"}}})
    );
}

#[test]
fn arrays_drop_elements_that_resolve_to_nothing() {
    let t = r#"{"roles":["{{user.email}}","{{user.id}}",null,"x{{user.email}}",["{{user.email}}"],{"e":"{{user.email}}"}]}"#;
    assert_eq!(
        render(t, &bare()),
        json!({"roles": ["user_bare", null, "x", [], {}]})
    );
}

#[test]
fn name_is_explicit_or_derived_from_parts() {
    let mut u = bare();
    assert_eq!(render(r#"{"n":"{{user.name}}"}"#, &u), json!({}));
    u.set_names(None, Some("Lovelace")).unwrap();
    assert_eq!(
        render(r#"{"n":"{{user.name}}"}"#, &u),
        json!({"n": "Lovelace"})
    );
    u.set_names(Some("Ada"), Some("Lovelace")).unwrap();
    assert_eq!(
        render(r#"{"n":"{{user.name}}"}"#, &u),
        json!({"n": "Ada Lovelace"})
    );
    u.set_name(Some("Countess of Lovelace")).unwrap();
    assert_eq!(
        render(r#"{"n":"{{user.name}}"}"#, &u),
        json!({"n": "Countess of Lovelace"})
    );
    // Derived names are capped like explicit ones (at a character boundary).
    let long = "é".repeat(128);
    let mut v = bare();
    v.set_names(Some(&long), Some(&long)).unwrap();
    assert_eq!(v.name().unwrap().len(), MAX_NAME_BYTES);
}

#[test]
fn literals_are_copied_as_authored() {
    let t = r#"{"n":1.5,"b":true,"z":null,"s":"plain } text }}","a":[1,{"b":2}]}"#;
    assert_eq!(
        render(t, &bare()),
        serde_json::from_str::<Value>(t).unwrap()
    );
}

#[test]
fn preview_validates_then_renders_against_a_sample_user() {
    assert_eq!(
        preview(SEED_HASURA.as_bytes(), &ada()).unwrap()["https://hasura.io/jwt/claims"]
            ["x-hasura-user-id"],
        "user_2ada"
    );
    assert_eq!(
        preview(br#"{"sub":"x"}"#, &ada()).unwrap_err().code(),
        "reserved_claim"
    );
}

// ---------------------------------------------------------------------------------------
// reserved_claim: one test per reserved claim.

fn assert_reserved(claim: &str) {
    let doc = json!({ claim: "value" }).to_string();
    let e = err(&doc);
    assert_eq!(e.code(), "reserved_claim", "{claim}");
    assert_eq!(
        e,
        TemplateError::ReservedClaim {
            claim: claim.into(),
            pointer: format!("/{claim}")
        }
    );
    // Also with a shortcode value.
    let doc = json!({ "ok": 1, claim: "{{ user.id }}" }).to_string();
    assert_eq!(err(&doc).code(), "reserved_claim", "{claim}");
}

macro_rules! reserved_claim_tests {
    ($($name:ident => $claim:literal),* $(,)?) => {
        $(#[test] fn $name() { assert_reserved($claim); })*

        #[test]
        fn reserved_claim_list_is_exactly_the_tested_one() {
            let tested: Vec<&str> = vec![$($claim),*];
            assert_eq!(RESERVED_CLAIMS, tested.as_slice());
        }
    };
}

reserved_claim_tests! {
    reserved_claim_iss => "iss",
    reserved_claim_sub => "sub",
    reserved_claim_aud => "aud",
    reserved_claim_exp => "exp",
    reserved_claim_nbf => "nbf",
    reserved_claim_iat => "iat",
    reserved_claim_jti => "jti",
    reserved_claim_pid => "pid",
    reserved_claim_sid => "sid",
    reserved_claim_act => "act",
    reserved_claim_aal => "aal",
    reserved_claim_azp => "azp",
    reserved_claim_locale => "locale",
    reserved_claim_org => "org",
    reserved_claim_org_id => "org_id",
    reserved_claim_org_role => "org_role",
    reserved_claim_tpl => "tpl",
}

#[test]
fn reserved_claim_only_at_top_level_and_case_sensitive() {
    assert!(
        Template::parse(br#"{"ns":{"iss":"x","sub":"{{user.id}}"},"ISS":"x","Sub":1}"#).is_ok()
    );
}

// ---------------------------------------------------------------------------------------
// unknown_shortcode

#[test]
fn unknown_shortcode() {
    for code in [
        "user.emial",
        "user.email.domain",
        "user.id.x",
        "user",
        "org.id",
        "session.id",
        "user.publicMetadata",
        "user.metadata",
    ] {
        let doc = json!({ "a": { "b": format!("x {{{{ {code} }}}}") } }).to_string();
        let e = err(&doc);
        assert_eq!(
            e,
            TemplateError::UnknownShortcode {
                shortcode: code.into(),
                pointer: "/a/b".into()
            },
            "{code}"
        );
        assert_eq!(e.code(), "unknown_shortcode");
    }
}

// ---------------------------------------------------------------------------------------
// private_metadata_not_allowed

#[test]
fn private_metadata_not_allowed() {
    for code in [
        "{{ user.private_metadata }}",
        "{{ user.private_metadata.stripe_id }}",
        "{{ user.private_metadata.x || \"fallback\" }}",
        "{{ user.privateMetadata }}",
        "{{ user.PrivateMetadata.x }}",
        "{{ privateMetadata }}",
        "{{ private_metadata.x }}",
        "hello {{ user.private-metadata }}",
    ] {
        let doc = json!({ "list": [0, code] }).to_string();
        let e = err(&doc);
        assert_eq!(
            e,
            TemplateError::PrivateMetadataNotAllowed {
                pointer: "/list/1".into()
            },
            "{code}"
        );
        assert_eq!(e.code(), "private_metadata_not_allowed");
    }
    // A public key that happens to be called `private_metadata` is public data.
    assert!(Template::parse(br#"{"a":"{{user.public_metadata.private_metadata}}"}"#).is_ok());
}

// ---------------------------------------------------------------------------------------
// invalid_shortcode

#[test]
fn invalid_shortcode() {
    for value in [
        "{{ user.id",
        "{{ user.id }",
        "{{}}",
        "{{ }}",
        "{{ user..id }}",
        "{{ .user.id }}",
        "{{ user.id. }}",
        "{{ user.id extra }}",
        "{{ user.public_metadata.ui:theme }}",
        "{{ user id }}",
        "{{{ user.id }}}",
        "{{ user.id || }}",
        "{{ user.id || nope }}",
        "{{ user.id || 'single' }}",
        "{{ user.id || \"unterminated }}",
        "{{ user.id || \"a\" \"b\" }}",
        "{{ user.id || {\"a\":1,\"a\":2} }}",
        "{{ user.id || 01 }}",
        "{{ user.id || [1,] }}",
        "{{ user.id | \"x\" }}",
        "ok {{ user.id }} then {{ broken",
    ] {
        let doc = json!({ "a": [ { "b~/c": value } ] }).to_string();
        let e = err(&doc);
        assert_eq!(e.code(), "invalid_shortcode", "{value}: {e}");
        assert_eq!(e.pointer(), Some("/a/0/b~0~1c"), "{value}");
    }
}

#[test]
fn invalid_shortcode_in_a_key() {
    let e = err(r#"{"ns":{"{{user.id}}":1}}"#);
    assert_eq!(e.code(), "invalid_shortcode");
    assert_eq!(e.pointer(), Some("/ns/{{user.id}}"));
    assert_eq!(err(r#"{"{{user.id}}":1}"#).code(), "invalid_shortcode");
}

#[test]
fn json_pointer_escapes_per_rfc6901() {
    let e = err(r#"{"https://x.io/c":{"a~b":["ok","{{user.nope}}"]}}"#);
    assert_eq!(e.pointer(), Some("/https:~1~1x.io~1c/a~0b/1"));
}

// ---------------------------------------------------------------------------------------
// invalid_template

#[test]
fn invalid_template() {
    for doc in [
        &b"not json"[..],
        b"[1]",
        b"\"s\"",
        br#"{"a":1,"a":2}"#,
        br#"{"a":1}x"#,
        br#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{}}}}}}}}}"#,
    ] {
        let e = Template::parse(doc).unwrap_err();
        assert_eq!(
            e.code(),
            "invalid_template",
            "{}",
            String::from_utf8_lossy(doc)
        );
        assert_eq!(e.pointer(), Some(""));
    }
    // Depth 8 is fine.
    assert!(Template::parse(br#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}}}"#).is_ok());
}

// ---------------------------------------------------------------------------------------
// invalid_lifetime

#[test]
fn invalid_lifetime() {
    let t = || Template::parse(SEED_HASURA.as_bytes()).unwrap();
    for secs in [i64::MIN, -1, 0, 29, 86_401, i64::MAX] {
        let e = t().with_lifetime(secs).unwrap_err();
        assert_eq!(e, TemplateError::InvalidLifetime { secs });
        assert_eq!(e.code(), "invalid_lifetime");
        assert_eq!(e.pointer(), None);
    }
    for secs in [MIN_TEMPLATE_LIFETIME_SECS, 300, MAX_TEMPLATE_LIFETIME_SECS] {
        assert_eq!(t().with_lifetime(secs).unwrap().lifetime(), Some(secs));
    }
    assert_eq!(t().lifetime(), None);
}

// ---------------------------------------------------------------------------------------
// template_too_large

#[test]
fn template_too_large_as_authored() {
    let filler = "x".repeat(MAX_TEMPLATE_BYTES);
    let doc = json!({ "a": filler }).to_string();
    assert_eq!(
        Template::parse_with_budget(doc.as_bytes(), usize::MAX).unwrap_err(),
        TemplateError::SourceTooLarge {
            size: doc.len(),
            limit: MAX_TEMPLATE_BYTES
        }
    );
    assert_eq!(err(&doc).code(), "template_too_large");
}

#[test]
fn template_too_large_worst_case_carries_size_and_limit() {
    // Three full bags embedded as text: each counts 2 × 512.
    let doc = r#"{"a":"{{user.public_metadata}}","b":"{{user.unsafe_metadata}}","c":"x{{user.public_metadata}}"}"#;
    let e = err(doc);
    assert_eq!(e.code(), "template_too_large");
    let TemplateError::TemplateTooLarge { size, limit } = e else {
        panic!("{e:?}")
    };
    assert_eq!(limit, DEFAULT_TEMPLATE_BUDGET);
    assert!(size > limit);
    // The budget is configurable, and the same number is reported by an accepted template.
    let t = Template::parse_with_budget(doc.as_bytes(), size).unwrap();
    assert_eq!(t.worst_case_size(), size);
    assert_eq!(
        Template::parse_with_budget(doc.as_bytes(), size - 1).unwrap_err(),
        TemplateError::TemplateTooLarge {
            size,
            limit: size - 1
        }
    );
}

#[test]
fn worst_case_counts_each_field_at_its_cap() {
    let size = |t: &str| {
        Template::parse_with_budget(t.as_bytes(), usize::MAX)
            .unwrap()
            .worst_case_size()
    };
    // `{"k":` + value + `}` = 7 bytes of structure around one member named `k`.
    assert_eq!(size(r#"{"k":"{{user.id}}"}"#), 6 + 2 + MAX_USER_ID_BYTES);
    assert_eq!(
        size(r#"{"k":"{{user.email}}"}"#),
        6 + 2 + 2 * MAX_EMAIL_BYTES
    );
    assert_eq!(
        size(r#"{"k":"{{user.first_name}}"}"#),
        6 + 2 + 2 * MAX_NAME_BYTES
    );
    assert_eq!(size(r#"{"k":"{{user.email_verified}}"}"#), 6 + 5);
    assert_eq!(
        size(r#"{"k":"{{user.public_metadata}}"}"#),
        6 + MAX_METADATA_BYTES
    );
    assert_eq!(
        size(r#"{"k":"<{{user.public_metadata}}>"}"#),
        6 + 4 + 2 * MAX_METADATA_BYTES
    );
    // A bigger fallback wins over a smaller cap.
    let fb = "y".repeat(100);
    assert_eq!(
        size(&json!({"k": format!("{{{{user.email_verified || \"{fb}\"}}}}")}).to_string()),
        6 + 102
    );
    // Disjoint selections from one bag share its 512 bytes.
    assert_eq!(
        size(r#"{"a":"{{user.public_metadata.x}}","b":"{{user.public_metadata.y}}"}"#),
        2 + 4 + 1 + 4 + MAX_METADATA_BYTES
    );
    // Literals count exactly.
    let lit = r#"{"a":[1,true,null,"\u0001é"],"b":{"c":2.5}}"#;
    assert_eq!(
        size(lit),
        serde_json::to_string(&serde_json::from_str::<Value>(lit).unwrap())
            .unwrap()
            .len()
    );
}

// ---------------------------------------------------------------------------------------
// User caps: metadata_too_large, metadata_too_deep, invalid_user_field.

fn bag_of_size(n: usize) -> Map<String, Value> {
    // {"k":"…"} is 8 bytes of structure.
    obj(json!({ "k": "a".repeat(n - 8) }))
}

#[test]
fn metadata_too_large() {
    for bag in [
        MetadataBag::Public,
        MetadataBag::Unsafe,
        MetadataBag::Private,
    ] {
        let mut u = bare();
        u.set_metadata(bag, bag_of_size(MAX_METADATA_BYTES))
            .unwrap();
        let e = u
            .set_metadata(bag, bag_of_size(MAX_METADATA_BYTES + 1))
            .unwrap_err();
        assert_eq!(e.code(), "metadata_too_large");
        assert_eq!(
            e,
            torii_edge::UserError::MetadataTooLarge {
                bag,
                size: 513,
                limit: 512
            }
        );
    }
    let mut u = bare();
    assert_eq!(
        u.set_public_metadata(bag_of_size(600)).unwrap_err().code(),
        "metadata_too_large"
    );
    assert_eq!(
        u.set_unsafe_metadata(bag_of_size(600)).unwrap_err().code(),
        "metadata_too_large"
    );
    assert_eq!(
        u.set_private_metadata(bag_of_size(600)).unwrap_err().code(),
        "metadata_too_large"
    );
    // Escapes count as serialized: 100 control characters are 600 bytes.
    assert_eq!(
        u.set_public_metadata(obj(json!({"k": "\u{1}".repeat(100)})))
            .unwrap_err()
            .code(),
        "metadata_too_large"
    );
    assert!(u.public_metadata().is_empty());
}

#[test]
fn metadata_too_deep() {
    let mut u = bare();
    let ok = json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": [1]}}}}}}});
    u.set_public_metadata(obj(ok)).unwrap();
    let deep = json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": [[1]]}}}}}}});
    assert_eq!(
        u.set_public_metadata(obj(deep)).unwrap_err().code(),
        "metadata_too_deep"
    );
}

#[test]
fn invalid_user_field() {
    for id in [
        "",
        "has space",
        "quote\"",
        "back\\slash",
        "é",
        &"a".repeat(MAX_USER_ID_BYTES + 1),
    ] {
        assert_eq!(
            User::new(id).unwrap_err().code(),
            "invalid_user_field",
            "{id:?}"
        );
    }
    assert!(User::new(&"a".repeat(MAX_USER_ID_BYTES)).is_ok());
    let mut u = bare();
    assert_eq!(
        u.set_email(Some(&"a".repeat(MAX_EMAIL_BYTES + 1)), true)
            .unwrap_err()
            .code(),
        "invalid_user_field"
    );
    assert_eq!(
        u.set_email(Some("a\n@b"), true).unwrap_err().code(),
        "invalid_user_field"
    );
    assert_eq!(
        u.set_names(Some(&"a".repeat(MAX_NAME_BYTES + 1)), None)
            .unwrap_err()
            .code(),
        "invalid_user_field"
    );
    assert_eq!(
        u.set_names(None, Some("\u{0}")).unwrap_err().code(),
        "invalid_user_field"
    );
    assert_eq!(
        u.set_name(Some("\t")).unwrap_err().code(),
        "invalid_user_field"
    );
    u.set_email(None, true).unwrap();
    assert!(!u.email_verified(), "no email, not verified");
}

// ---------------------------------------------------------------------------------------
// Property: for users within the caps, the rendered size never exceeds the worst case.

/// Templates exercising every shortcode, overlapping paths, repeats, fallbacks and text.
const BOUND_TEMPLATES: &[&str] = &[
    SEED_ROLE_EMAIL_PLAN,
    SEED_UID_GREETING_TEAM,
    SEED_HASURA,
    r#"{"e":"{{user.email}}","n":"{{user.name}}","v":"{{user.email_verified}}","i":"{{user.id}}"}"#,
    r#"{"t":"{{user.first_name}}\"{{user.last_name}}\\","u":"{{user.unsafe_metadata.k}}"}"#,
    r#"{"a":"{{user.public_metadata.k}}","b":"{{user.public_metadata.k}}"}"#,
    r#"{"a":"{{user.public_metadata}}","b":"{{user.public_metadata.k}}"}"#,
    r#"{"a":"<{{user.public_metadata.k}}>","b":["{{user.public_metadata.n.k}}","{{user.public_metadata.n}}"]}"#,
    r#"{"a":"{{user.unsafe_metadata.k || {\"fb\":[1,2,3]} }}","b":"x{{user.unsafe_metadata.n.k || \"fallback\"}}"}"#,
    r#"{"u":"{{user.unsafe_metadata}}","p":"={{user.public_metadata}}"}"#,
];

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        // Strings heavy in characters JSON escapes.
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\u{1}'),
                Just('\n'),
                Just('é'),
                any::<char>()
            ],
            0..200
        )
        .prop_map(|cs| Value::String(cs.into_iter().collect())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![Just("k".to_string()), Just("n".to_string()), "[a-z]{1,3}"],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn bag() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map(
        prop_oneof![
            Just("k".to_string()),
            Just("n".to_string()),
            Just("role".to_string()),
            Just("team".to_string()),
            "[a-z]{1,4}"
        ],
        json_value(),
        0..4,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn text(max: usize) -> impl Strategy<Value = Option<String>> {
    let ch = prop_oneof![
        Just('"'),
        Just('\\'),
        Just('é'),
        Just('😀'),
        any::<char>().prop_filter("no control", |c| *c >= ' ')
    ];
    proptest::option::of(proptest::collection::vec(ch, 0..max).prop_map(move |cs| {
        let mut s = String::new();
        for c in cs {
            if s.len() + c.len_utf8() > max {
                break;
            }
            s.push(c);
        }
        s
    }))
}

prop_compose! {
    fn user_within_caps()(
        id in "[!#-\\[\\]-~]{1,64}",
        email in text(MAX_EMAIL_BYTES),
        verified in any::<bool>(),
        first in text(MAX_NAME_BYTES),
        last in text(MAX_NAME_BYTES),
        name in proptest::option::weighted(0.3, text(MAX_NAME_BYTES)),
        public in bag(),
        unsafe_ in bag(),
    ) -> User {
        let mut u = User::new(&id).unwrap();
        u.set_email(email.as_deref(), verified).unwrap();
        u.set_names(first.as_deref(), last.as_deref()).unwrap();
        u.set_name(name.flatten().as_deref()).unwrap();
        // Bags over the cap are refused on write: keep the user's bag empty then.
        let _ = u.set_public_metadata(public);
        let _ = u.set_unsafe_metadata(unsafe_);
        u
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn size_bound_holds_for_every_user_within_caps(user in user_within_caps()) {
        for t in BOUND_TEMPLATES {
            let template = Template::parse_with_budget(t.as_bytes(), usize::MAX).unwrap();
            let rendered = template.render_json(&user);
            // The direct writer is byte-for-byte serde_json's compact output.
            prop_assert_eq!(&rendered, &serde_json::to_vec(&template.render(&user)).unwrap());
            prop_assert!(rendered.len() <= template.worst_case_size(), "{} > {} for {t}", rendered.len(), template.worst_case_size());
        }
    }
}

/// The bound is attained (tight) for whole-value scalar fields at their caps.
#[test]
fn size_bound_is_tight_for_scalar_fields() {
    let mut u = User::new(&"a".repeat(MAX_USER_ID_BYTES)).unwrap();
    u.set_email(Some(&"\"".repeat(MAX_EMAIL_BYTES)), true)
        .unwrap();
    u.set_names(Some(&"\\".repeat(MAX_NAME_BYTES)), None)
        .unwrap();
    let t = Template::parse_with_budget(
        br#"{"i":"{{user.id}}","e":"{{user.email}}","f":"{{user.first_name}}"}"#,
        usize::MAX,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_vec(&t.render(&u)).unwrap().len(),
        t.worst_case_size()
    );
}
