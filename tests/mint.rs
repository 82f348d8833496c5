//! Minting: session and named-template tokens, explicit token typing, lifetimes,
//! `expiresAt`, and properties (round trip through the core verifier, private metadata
//! never in a token).

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use torii_edge::{
    b64, iso8601_utc, mint_session_token, mint_template_token, Jwks, MintError, Policy,
    SessionInput, SigningKey, Template, TypPolicy, UnixTime, User, Verifier, SESSION_TOKEN_TYP,
    TEMPLATE_TOKEN_TYP,
};

const ISS: &str = "https://demo.torii.test";
const NOW: UnixTime = UnixTime(1_795_500_000);
const HASURA: &str = r#"{ "https://hasura.io/jwt/claims": { "x-hasura-default-role": "{{ user.public_metadata.role || \"user\" }}", "x-hasura-user-id": "{{ user.id }}" }}"#;
const DEFAULT: &str = r#"{ "role": "{{ user.public_metadata.role || \"member\" }}", "email": "{{ user.email }}", "plan": "{{ user.public_metadata.plan }}"}"#;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn key() -> SigningKey {
    SigningKey::from_seed(&[42; 32]).with_kid("k1")
}

fn ada() -> User {
    let mut u = User::new("user_2ada").unwrap();
    u.set_email(Some("ada@example.com"), true).unwrap();
    u.set_public_metadata(obj(json!({"role": "admin", "plan": "pro"})))
        .unwrap();
    u.set_private_metadata(obj(json!({"stripe_id": "cus_secret"})))
        .unwrap();
    u
}

fn session_verifier() -> Verifier {
    Verifier::new(Jwks::from_keys(vec![key().public_jwk()]), Policy::new(ISS))
}

fn template_verifier() -> Verifier {
    Verifier::new(
        Jwks::from_keys(vec![key().public_jwk()]),
        Policy::new(ISS).with_typ(TypPolicy::Exact(TEMPLATE_TOKEN_TYP.into())),
    )
}

fn header(token: &str) -> Map<String, Value> {
    serde_json::from_slice(&b64::decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

fn payload_bytes(token: &str) -> Vec<u8> {
    b64::decode(token.split('.').nth(1).unwrap()).unwrap()
}

#[test]
fn session_token_has_the_standard_claims_only_without_a_default_template() {
    let user = ada();
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
    let minted = mint_session_token(&key(), &input, None, NOW, 60, None).unwrap();
    let verified = session_verifier()
        .verify(&minted.access_token, NOW)
        .unwrap();
    assert_eq!(
        Value::Object(verified.claims().clone()),
        json!({"iss": ISS, "sub": "user_2ada", "pid": "app_1", "sid": "sess_1", "iat": NOW.0, "exp": NOW.0 + 60})
    );
    assert_eq!(minted.exp, NOW.0 + 60);
    assert_eq!(
        header(&minted.access_token),
        obj(json!({"alg": "EdDSA", "kid": "k1", "typ": SESSION_TOKEN_TYP}))
    );
}

#[test]
fn session_token_carries_the_default_template_claims() {
    let user = ada();
    let template = Template::parse(DEFAULT.as_bytes()).unwrap();
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
    let minted = mint_session_token(&key(), &input, Some(&template), NOW, 60, None).unwrap();
    let verified = session_verifier()
        .verify(&minted.access_token, NOW)
        .unwrap();
    assert_eq!(verified.get("role"), Some(&json!("admin")));
    assert_eq!(verified.get("email"), Some(&json!("ada@example.com")));
    assert_eq!(verified.get("plan"), Some(&json!("pro")));
    assert_eq!(verified.sub(), Some("user_2ada"));
}

#[test]
fn session_token_optional_claims_when_present() {
    let user = ada();
    let act = obj(json!({"sub": "user_admin"}));
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1")
        .with_aal("aal2")
        .with_locale("fr-FR")
        .with_org("org_1", "org:admin")
        .with_act(&act);
    let minted = mint_session_token(&key(), &input, None, NOW, 60, Some("jti_1")).unwrap();
    let v = session_verifier()
        .verify(&minted.access_token, NOW)
        .unwrap();
    assert_eq!(v.aal(), Some("aal2"));
    assert_eq!(v.get("locale"), Some(&json!("fr-FR")));
    assert_eq!(v.org_id(), Some("org_1"));
    assert_eq!(v.org_role(), Some("org:admin"));
    assert_eq!(v.act(), Some(&act));
    assert_eq!(v.jti(), Some("jti_1"));
    assert_eq!(v.pid(), Some("app_1"));
    assert_eq!(v.sid(), Some("sess_1"));
}

#[test]
fn template_token_has_standard_claims_and_template_claims() {
    let user = ada();
    let template = Template::parse(HASURA.as_bytes()).unwrap();
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
    let minted = mint_template_token(&key(), &input, "hasura", &template, NOW, 60, None).unwrap();
    assert_eq!(header(&minted.access_token)["typ"], TEMPLATE_TOKEN_TYP);
    let v = template_verifier()
        .verify(&minted.access_token, NOW)
        .unwrap();
    assert_eq!(
        Value::Object(v.claims().clone()),
        json!({"iss": ISS, "sub": "user_2ada", "pid": "app_1", "sid": "sess_1", "iat": NOW.0, "exp": NOW.0 + 60, "tpl": "hasura",
               "https://hasura.io/jwt/claims": {"x-hasura-default-role": "admin", "x-hasura-user-id": "user_2ada"}})
    );
}

/// The attack: a token minted for a third party is presented where a session token is
/// expected (and the reverse).
#[test]
fn template_token_is_never_a_session_token() {
    let user = ada();
    let template = Template::parse(HASURA.as_bytes()).unwrap();
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
    let template_token =
        mint_template_token(&key(), &input, "hasura", &template, NOW, 60, None).unwrap();
    let e = session_verifier()
        .verify(&template_token.access_token, NOW)
        .unwrap_err();
    assert_eq!(e.code(), "invalid_token_type");

    let session_token = mint_session_token(&key(), &input, Some(&template), NOW, 60, None).unwrap();
    let e = template_verifier()
        .verify(&session_token.access_token, NOW)
        .unwrap_err();
    assert_eq!(e.code(), "invalid_token_type");
}

#[test]
fn template_lifetime_overrides_the_environment_default() {
    let user = ada();
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
    let t = Template::parse(HASURA.as_bytes()).unwrap();
    assert_eq!(
        mint_template_token(&key(), &input, "hasura", &t, NOW, 60, None)
            .unwrap()
            .exp,
        NOW.0 + 60
    );
    let t = t.with_lifetime(3600).unwrap();
    let minted = mint_template_token(&key(), &input, "hasura", &t, NOW, 60, None).unwrap();
    assert_eq!(minted.exp, NOW.0 + 3600);
    assert_eq!(
        template_verifier()
            .verify(&minted.access_token, NOW)
            .unwrap()
            .exp(),
        Some(NOW.0 + 3600)
    );
}

#[test]
fn invalid_lifetime() {
    let user = ada();
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
    let t = Template::parse(HASURA.as_bytes()).unwrap();
    for secs in [i64::MIN, -60, 0, 29, 86_401, i64::MAX] {
        let e = mint_session_token(&key(), &input, None, NOW, secs, None).unwrap_err();
        assert_eq!(e, MintError::InvalidLifetime { secs });
        assert_eq!(e.code(), "invalid_lifetime");
        let e = mint_template_token(&key(), &input, "hasura", &t, NOW, secs, None).unwrap_err();
        assert_eq!(e.code(), "invalid_lifetime");
    }
    assert!(mint_session_token(&key(), &input, None, NOW, 30, None).is_ok());
    assert!(mint_session_token(&key(), &input, None, NOW, 86_400, None).is_ok());
}

#[test]
fn invalid_mint_input() {
    let user = ada();
    let ok = SessionInput::new(ISS, "app_1", &user, "sess_1");
    for input in [
        SessionInput::new("", "app_1", &user, "sess_1"),
        SessionInput::new(ISS, "", &user, "sess_1"),
        SessionInput::new(ISS, "app_1", &user, ""),
    ] {
        assert_eq!(
            mint_session_token(&key(), &input, None, NOW, 60, None)
                .unwrap_err()
                .code(),
            "invalid_mint_input"
        );
    }
    assert_eq!(
        mint_session_token(&key(), &ok, None, NOW, 60, Some(""))
            .unwrap_err()
            .code(),
        "invalid_mint_input"
    );
    for now in [-1, i64::MIN, 253_402_300_799 - 59, i64::MAX] {
        let e = mint_session_token(&key(), &ok, None, UnixTime(now), 60, None).unwrap_err();
        assert_eq!(e.code(), "invalid_mint_input", "{now}");
    }
    assert!(
        mint_session_token(&key(), &ok, None, UnixTime(253_402_300_799 - 60), 60, None).is_ok()
    );
}

#[test]
fn expires_at_is_iso8601_utc() {
    let user = ada();
    let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
    // 2026-11-24T06:00:00Z is 1_795_500_000.
    let minted =
        mint_session_token(&key(), &input, None, UnixTime(1_795_500_000 - 60), 60, None).unwrap();
    assert_eq!(minted.expires_at, "2026-11-24T06:00:00Z");
    assert_eq!(
        minted.to_json(),
        format!(
            r#"{{"accessToken":"{}","expiresAt":"2026-11-24T06:00:00Z"}}"#,
            minted.access_token
        )
    );
}

#[test]
fn iso8601_known_instants() {
    for (secs, want) in [
        (0, "1970-01-01T00:00:00Z"),
        (59, "1970-01-01T00:00:59Z"),
        (86_399, "1970-01-01T23:59:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_800, "2000-03-01T00:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (1_795_500_000, "2026-11-24T06:00:00Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"), // 2100 is not a leap year
        (4_107_456_000, "2100-02-28T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ] {
        assert_eq!(iso8601_utc(secs).as_deref(), Some(want), "{secs}");
    }
    assert_eq!(iso8601_utc(-1), None);
    assert_eq!(iso8601_utc(253_402_300_800), None);
}

/// Reference: walk the calendar a year and a month at a time.
fn naive_civil(secs: i64) -> String {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = secs / 86_400;
    let mut y = 1970;
    loop {
        let len = if leap(y) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        y += 1;
    }
    let months = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while days >= months[m] {
        days -= months[m];
        m += 1;
    }
    let rem = secs % 86_400;
    format!(
        "{y:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        m + 1,
        days + 1,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

proptest! {
    #[test]
    fn iso8601_agrees_with_a_naive_calendar(secs in 0i64..=253_402_300_799) {
        prop_assert_eq!(iso8601_utc(secs), Some(naive_civil(secs)));
    }
}

// ---------------------------------------------------------------------------------------
// Properties over random users and templates.

const MARKER: &str = "PRIVATE-MARKER-7f3a9c";

/// Templates selecting every selectable field, whole and embedded, and trying private
/// metadata would not even parse.
const TEMPLATES: &[&str] = &[
    HASURA,
    DEFAULT,
    r#"{"all":["{{user.id}}","{{user.email}}","{{user.email_verified}}","{{user.name}}","{{user.first_name}}","{{user.last_name}}"]}"#,
    r#"{"p":"{{user.public_metadata}}","u":"{{user.unsafe_metadata}}"}"#,
    r#"{"t":"{{user.public_metadata}} / {{user.unsafe_metadata}}"}"#,
    r#"{"k":"{{user.public_metadata.k || {\"d\":1} }}","n":{"deep":"{{user.unsafe_metadata.n.k}}"}}"#,
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[ -~é\"\\\\]{0,40}".prop_map(Value::String),
    ]
}

fn bag() -> impl Strategy<Value = Map<String, Value>> {
    let value = leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,2}|k|n", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    proptest::collection::btree_map("[a-z]{1,2}|k|n", value, 0..4)
        .prop_map(|m| m.into_iter().collect())
}

prop_compose! {
    fn user()(
        id in "user_[a-zA-Z0-9]{1,20}",
        email in proptest::option::of("[a-z.+\"\\\\]{1,30}@[a-z]{1,10}\\.test"),
        verified in any::<bool>(),
        first in proptest::option::of("[ -~é]{0,30}"),
        last in proptest::option::of("[ -~é]{0,30}"),
        public in bag(),
        unsafe_ in bag(),
        private_extra in bag(),
    ) -> User {
        let mut u = User::new(&id).unwrap();
        u.set_email(email.as_deref(), verified).unwrap();
        u.set_names(first.as_deref(), last.as_deref()).unwrap();
        let _ = u.set_public_metadata(public);
        let _ = u.set_unsafe_metadata(unsafe_);
        let mut private = Map::new();
        private.insert("secret".into(), MARKER.into());
        private.insert(MARKER.into(), json!({"nested": MARKER}));
        for (k, v) in private_extra.into_iter().take(1) {
            private.insert(k, v);
        }
        if u.set_private_metadata(private).is_err() {
            u.set_private_metadata(obj(json!({"secret": MARKER}))).unwrap();
        }
        u
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn private_metadata_never_appears_in_a_minted_token(user in user(), which in 0..TEMPLATES.len(), as_session in any::<bool>()) {
        prop_assert!(user.private_metadata().values().any(|v| v == MARKER));
        let template = Template::parse_with_budget(TEMPLATES[which].as_bytes(), usize::MAX).unwrap();
        let input = SessionInput::new(ISS, "app_1", &user, "sess_1");
        let minted = if as_session {
            mint_session_token(&key(), &input, Some(&template), NOW, 60, None).unwrap()
        } else {
            mint_template_token(&key(), &input, "hasura", &template, NOW, 60, None).unwrap()
        };
        let payload = String::from_utf8(payload_bytes(&minted.access_token)).unwrap();
        prop_assert!(!payload.contains(MARKER), "{payload}");
    }

    #[test]
    fn mint_then_verify_round_trips(user in user(), which in 0..TEMPLATES.len(), lifetime in 30i64..=86_400, skew in 0i64..30) {
        let template = Template::parse_with_budget(TEMPLATES[which].as_bytes(), usize::MAX).unwrap();
        let input = SessionInput::new(ISS, "app_1", &user, "sess_1").with_org("org_1", "member");
        let minted = mint_session_token(&key(), &input, Some(&template), NOW, lifetime, Some("jti")).unwrap();
        let verified = session_verifier().verify(&minted.access_token, UnixTime(NOW.0 + skew)).unwrap();
        let mut expected = template.render(&user);
        for (k, v) in [("iss", json!(ISS)), ("sub", json!(user.id())), ("pid", json!("app_1")), ("sid", json!("sess_1")),
                       ("iat", json!(NOW.0)), ("exp", json!(NOW.0 + lifetime)), ("org_id", json!("org_1")),
                       ("org_role", json!("member")), ("jti", json!("jti"))] {
            expected.insert(k.into(), v);
        }
        prop_assert_eq!(verified.claims(), &expected);
        prop_assert_eq!(minted.expires_at, iso8601_utc(NOW.0 + lifetime).unwrap());

        let minted = mint_template_token(&key(), &input, "hasura", &template, NOW, lifetime, None).unwrap();
        let verified = template_verifier().verify(&minted.access_token, NOW).unwrap();
        prop_assert_eq!(verified.sub(), Some(user.id()));
        prop_assert_eq!(verified.exp(), Some(NOW.0 + lifetime));
    }
}
