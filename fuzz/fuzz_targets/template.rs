//! `Template::parse` on arbitrary bytes must never panic; a template it accepts must
//! render, for every `User`, a JSON object that the strict parser takes (no duplicate
//! keys, depth ≤ 16), no longer than the template's `worst_case_size` (itself within the
//! default budget), and `render`/`preview` must agree with `render_json`.
//!
//! Input: the template's bytes, then optionally a NUL byte (never valid in JSON text)
//! followed by the bytes the `User` is built from (`arbitrary`). A seed without a NUL is
//! a plain template rendered against a default user.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use torii_edge::templates::engine::DEFAULT_TEMPLATE_BUDGET;
use torii_edge::{json, preview, Map, Template, User, Value};

/// Keys templates are likely to select, so the fuzzer reaches the metadata paths.
const KEYS: &[&str] = &[
    "role",
    "plan",
    "org",
    "team",
    "n",
    "a",
    "b",
    "x-hasura-role",
];

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Any(String),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Known(i) => KEYS[usize::from(*i) % KEYS.len()].to_string(),
            Key::Any(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(Key, Json)>),
}

impl Json {
    fn value(&self, depth: usize) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::Float(f) => Value::from(*f),
            Json::Str(s) => Value::String(s.clone()),
            _ if depth == 0 => Value::Null,
            Json::Arr(items) => Value::Array(items.iter().map(|j| j.value(depth - 1)).collect()),
            Json::Obj(members) => Value::Object(object(members, depth - 1)),
        }
    }
}

fn object(members: &[(Key, Json)], depth: usize) -> Map<String, Value> {
    members
        .iter()
        .map(|(k, v)| (k.text(), v.value(depth)))
        .collect()
}

#[derive(Arbitrary, Debug)]
struct ArbUser {
    id: String,
    email: Option<String>,
    verified: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    name: Option<String>,
    public_metadata: Vec<(Key, Json)>,
    unsafe_metadata: Vec<(Key, Json)>,
}

/// A valid `User` from the fuzzed fields: a field its setter refuses is left unset.
fn user(a: &ArbUser) -> User {
    let mut u = User::new(&a.id).unwrap_or_else(|_| User::new("user_1").unwrap());
    let _ = u.set_email(a.email.as_deref(), a.verified);
    let _ = u.set_names(a.first_name.as_deref(), a.last_name.as_deref());
    let _ = u.set_name(a.name.as_deref());
    let _ = u.set_public_metadata(object(&a.public_metadata, 9));
    let _ = u.set_unsafe_metadata(object(&a.unsafe_metadata, 9));
    u
}

fn default_user() -> User {
    let mut u = User::new("user_1").unwrap();
    u.set_email(Some("ada@example.com"), true).unwrap();
    u.set_names(Some("Ada"), Some("Lovelace")).unwrap();
    let bag = json::parse_object(
        br#"{"role":"admin","plan":"pro","org":{"n":3,"team":"core"}}"#,
        8,
    )
    .unwrap();
    u.set_public_metadata(bag).unwrap();
    u
}

fuzz_target!(|data: &[u8]| {
    let (source, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(template) = Template::parse(source) else {
        return;
    };
    let worst = template.worst_case_size();
    assert!(
        worst <= DEFAULT_TEMPLATE_BUDGET,
        "worst case {worst} over the budget"
    );
    let user = match rest {
        None => default_user(),
        Some(bytes) => match ArbUser::arbitrary_take_rest(Unstructured::new(bytes)) {
            Ok(a) => user(&a),
            Err(_) => return,
        },
    };
    let rendered = template.render_json(&user);
    assert!(
        rendered.len() <= worst,
        "rendered {} bytes > worst case {worst}: {}",
        rendered.len(),
        String::from_utf8_lossy(&rendered)
    );
    let strict = json::parse_object(&rendered, json::DEFAULT_MAX_DEPTH).unwrap_or_else(|e| {
        panic!(
            "rendered claims are not a strict JSON object ({}): {}",
            e.reason(),
            String::from_utf8_lossy(&rendered)
        )
    });
    assert_eq!(
        template.render(&user),
        strict,
        "render and render_json differ"
    );
    assert_eq!(preview(source, &user).ok(), Some(strict), "preview differs");
});
