//! One test per verification rule, named after the rule.

use serde_json::{json, Value};
use torii_edge::{
    b64, bearer_token, Jwk, Jwks, Policy, SigningKey, TypPolicy, UnixTime, Verifier, VerifyError,
};

const ISS: &str = "https://demo.torii.test";
const NOW: i64 = 1_800_000_000;

fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

fn claims() -> Value {
    json!({ "iss": ISS, "sub": "user_1", "sid": "sess_1", "iat": NOW - 10, "exp": NOW + 600 })
}

/// Signs raw header and payload JSON text, exactly as given.
fn raw(k: &SigningKey, header: &str, payload: &str) -> String {
    k.sign_compact(header.as_bytes(), payload.as_bytes())
}

fn header_with(k: &SigningKey, extra: &str) -> String {
    format!(r#"{{"alg":"EdDSA","kid":"{}"{extra}}}"#, k.kid())
}

fn token(k: &SigningKey, c: &Value) -> String {
    raw(k, &header_with(k, r#","typ":"JWT""#), &c.to_string())
}

fn verifier_for(k: &SigningKey) -> Verifier {
    Verifier::new(Jwks::from_keys(vec![k.public_jwk()]), Policy::new(ISS))
}

fn code_of(v: &Verifier, t: &str) -> &'static str {
    v.verify(t, UnixTime(NOW)).unwrap_err().code()
}

fn with(mut c: Value, name: &str, v: Value) -> Value {
    c[name] = v;
    c
}

fn without(mut c: Value, name: &str) -> Value {
    c.as_object_mut().unwrap().remove(name);
    c
}

fn jwks_of(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn okp(k: &SigningKey) -> Value {
    json!({ "kty": "OKP", "crv": "Ed25519", "x": k.public_jwk().x(), "kid": k.kid() })
}

// ---------------------------------------------------------------- happy path

#[test]
fn valid_token_verifies_with_typed_accessors() {
    let k = key(1);
    let c = json!({ "iss": ISS, "sub": "u", "sid": "s", "aal": "aal2", "org_id": "org_1", "org_role": "admin",
                    "pid": "demo", "act": {"sub": "admin_1"}, "aud": ["a", "b"], "iat": NOW, "nbf": NOW, "exp": NOW + 5, "jti": "j" });
    let v = verifier_for(&k)
        .verify(&token(&k, &c), UnixTime(NOW))
        .unwrap();
    assert_eq!(v.iss(), ISS);
    assert_eq!(v.sub(), Some("u"));
    assert_eq!(v.sid(), Some("s"));
    assert_eq!(v.aal(), Some("aal2"));
    assert_eq!(v.org_id(), Some("org_1"));
    assert_eq!(v.org_role(), Some("admin"));
    assert_eq!(v.pid(), Some("demo"));
    assert_eq!(v.jti(), Some("j"));
    assert_eq!(v.act().unwrap()["sub"], "admin_1");
    assert_eq!(v.aud(), vec!["a", "b"]);
    assert_eq!(
        (v.iat(), v.nbf(), v.exp()),
        (Some(NOW), Some(NOW), Some(NOW + 5))
    );
    assert_eq!(v.kid(), Some(k.kid()));
    assert_eq!(v.claims().len(), c.as_object().unwrap().len());
}

#[test]
fn org_accessor_accepts_org_as_alias() {
    let k = key(1);
    let v = verifier_for(&k)
        .verify(
            &token(&k, &with(claims(), "org", json!("org_9"))),
            UnixTime(NOW),
        )
        .unwrap();
    assert_eq!(v.org_id(), Some("org_9"));
}

// ---------------------------------------------------------------- structure

#[test]
fn token_must_have_exactly_three_parts() {
    let k = key(1);
    let v = verifier_for(&k);
    let t = token(&k, &claims());
    let parts: Vec<&str> = t.split('.').collect();
    for bad in [
        parts[0].to_string(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{t}.x"),
        format!("{t}."),
        format!(".{}.{}", parts[1], parts[2]),
        format!("{}..{}", parts[0], parts[2]),
        String::new(),
    ] {
        assert_eq!(code_of(&v, &bad), "malformed_token", "{bad}");
    }
}

#[test]
fn token_larger_than_max_len_is_rejected_before_parsing() {
    let k = key(1);
    let big = with(claims(), "pad", json!("x".repeat(9000)));
    let t = token(&k, &big);
    assert_eq!(code_of(&verifier_for(&k), &t), "token_too_large");
    let roomy = Verifier::new(
        Jwks::from_keys(vec![k.public_jwk()]),
        Policy::new(ISS).with_max_token_len(16 * 1024),
    );
    assert!(roomy.verify(&t, UnixTime(NOW)).is_ok());
    let tight = Verifier::new(
        Jwks::from_keys(vec![k.public_jwk()]),
        Policy::new(ISS).with_max_token_len(100),
    );
    let small = token(&k, &claims());
    assert_eq!(
        tight.verify(&small, UnixTime(NOW)).unwrap_err(),
        VerifyError::TokenTooLarge {
            len: small.len(),
            max: 100
        }
    );
    // Garbage that is too large is refused as too large, whatever it holds.
    assert_eq!(
        code_of(&verifier_for(&k), &"!".repeat(8193)),
        "token_too_large"
    );
}

#[test]
fn non_canonical_base64url_is_rejected_in_every_part() {
    let k = key(1);
    let v = verifier_for(&k);
    let t = token(&k, &claims());
    let parts: Vec<&str> = t.split('.').collect();
    // Padding, standard alphabet, whitespace.
    for (i, bad) in [
        (0, format!("{}=", parts[0])),
        (1, format!("{}==", parts[1])),
        (2, parts[2].replace('-', "+").replace('_', "/") + "+"),
        (1, format!(" {}", parts[1])),
    ] {
        let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        p[i] = bad;
        assert_eq!(code_of(&v, &p.join(".")), "malformed_token");
    }
    // Non-zero unused trailing bits in the signature (64 bytes -> 86 chars, 4 unused bits).
    let sig = parts[2];
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(idx | 1).unwrap();
    assert_ne!(tweaked, last, "canonical last char has zero low bits");
    let bad = format!(
        "{}.{}.{}{}",
        parts[0],
        parts[1],
        &sig[..sig.len() - 1],
        tweaked
    );
    assert_eq!(code_of(&v, &bad), "malformed_token");
}

#[test]
fn signature_must_be_exactly_64_bytes() {
    let k = key(1);
    let t = token(&k, &claims());
    let (head, _) = t.rsplit_once('.').unwrap();
    for n in [0usize, 32, 63, 65, 128] {
        let bad = format!("{head}.{}", b64::encode(&vec![7u8; n]));
        let code = if n == 0 {
            "malformed_token"
        } else {
            code_of(&verifier_for(&k), &bad)
        };
        assert_eq!(code, "malformed_token", "{n} bytes");
    }
}

#[test]
fn header_must_be_a_json_object() {
    let k = key(1);
    for h in [
        r#"["alg","EdDSA"]"#,
        r#""EdDSA""#,
        "null",
        "{",
        r#"{"alg":"EdDSA"} x"#,
    ] {
        assert_eq!(
            code_of(&verifier_for(&k), &raw(&k, h, &claims().to_string())),
            "malformed_token",
            "{h}"
        );
    }
}

#[test]
fn payload_must_be_a_json_object() {
    let k = key(1);
    for p in [r#"["sub"]"#, r#""just a string""#, "42", "not json", ""] {
        let t = raw(&k, &header_with(&k, ""), p);
        assert_eq!(code_of(&verifier_for(&k), &t), "malformed_token", "{p:?}");
    }
}

#[test]
fn duplicate_json_keys_are_rejected_in_header_and_payload_at_any_depth() {
    let k = key(1);
    let v = verifier_for(&k);
    let dup_header = format!(
        r#"{{"alg":"EdDSA","kid":"{}","kid":"{}"}}"#,
        k.kid(),
        k.kid()
    );
    assert_eq!(
        code_of(&v, &raw(&k, &dup_header, &claims().to_string())),
        "malformed_token"
    );
    let p = format!(
        r#"{{"iss":"{ISS}","sub":"u","exp":{},"sub":"admin"}}"#,
        NOW + 60
    );
    assert_eq!(
        code_of(&v, &raw(&k, &header_with(&k, ""), &p)),
        "malformed_token"
    );
    let nested = format!(
        r#"{{"iss":"{ISS}","sub":"u","exp":{},"meta":{{"a":[{{"r":1,"r":2}}]}}}}"#,
        NOW + 60
    );
    assert_eq!(
        code_of(&v, &raw(&k, &header_with(&k, ""), &nested)),
        "malformed_token"
    );
}

#[test]
fn json_nesting_depth_is_bounded() {
    let k = key(1);
    let v = verifier_for(&k);
    // `d` nested n arrays deep: the claims object is depth 1, so the value is n + 1 deep.
    let deep = |n: usize| {
        format!(
            r#"{{"iss":"{ISS}","sub":"u","exp":{},"d":{}1{}}}"#,
            NOW + 60,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let signed = |n: usize| raw(&k, &header_with(&k, ""), &deep(n));
    // Organisation and permission trees other issuers mint: 40 levels pass by default.
    for n in [10, 40, 63] {
        assert!(v.verify(&signed(n), UnixTime(NOW)).is_ok(), "{n}");
    }
    assert_eq!(torii_edge::DEFAULT_CLAIMS_DEPTH, 64);
    for n in [64, 200, 2000] {
        assert_eq!(code_of(&v, &signed(n)), "malformed_token", "{n}");
    }
    // Configurable...
    let strict = Verifier::new(
        v.jwks().clone(),
        v.policy().clone().with_max_claims_depth(16),
    );
    assert!(strict.verify(&signed(15), UnixTime(NOW)).is_ok());
    assert_eq!(code_of(&strict, &signed(16)), "malformed_token");
    // ...and bounded well below serde_json's recursion limit (128).
    let lax = Verifier::new(
        v.jwks().clone(),
        v.policy().clone().with_max_claims_depth(10_000),
    );
    assert_eq!(
        lax.policy().max_claims_depth(),
        torii_edge::MAX_CLAIMS_DEPTH
    );
    assert!(lax.verify(&signed(95), UnixTime(NOW)).is_ok());
    for n in [96, 127, 128, 129, 2000] {
        assert_eq!(code_of(&lax, &signed(n)), "malformed_token", "{n}");
    }
}

// ---------------------------------------------------------------- header

#[test]
fn alg_must_be_eddsa_or_ed25519() {
    let k = key(1);
    let v = verifier_for(&k);
    for alg in [
        r#""none""#,
        r#""HS256""#,
        r#""RS256""#,
        r#""ES256""#,
        r#""PS256""#,
        r#""eddsa""#,
        r#""""#,
        "null",
        "1",
    ] {
        let h = format!(r#"{{"alg":{alg},"kid":"{}"}}"#, k.kid());
        assert_eq!(
            code_of(&v, &raw(&k, &h, &claims().to_string())),
            "unsupported_algorithm",
            "{alg}"
        );
    }
    let no_alg = format!(r#"{{"kid":"{}"}}"#, k.kid());
    assert_eq!(
        code_of(&v, &raw(&k, &no_alg, &claims().to_string())),
        "unsupported_algorithm"
    );
    // RFC 9864's fully specified name is accepted by a key without `alg`.
    let keyless_alg = Jwk::from_json(okp(&k).to_string().as_bytes()).unwrap();
    let v2 = Verifier::new(Jwks::from_keys(vec![keyless_alg]), Policy::new(ISS));
    let h = format!(r#"{{"alg":"Ed25519","kid":"{}"}}"#, k.kid());
    assert!(v2
        .verify(&raw(&k, &h, &claims().to_string()), UnixTime(NOW))
        .is_ok());
}

#[test]
fn alg_must_agree_with_the_key() {
    let k = key(1);
    // The signing key's JWK declares alg EdDSA: an `Ed25519` header does not match it.
    let h = format!(r#"{{"alg":"Ed25519","kid":"{}"}}"#, k.kid());
    assert_eq!(
        code_of(&verifier_for(&k), &raw(&k, &h, &claims().to_string())),
        "unsupported_algorithm"
    );
    let mut jwk = okp(&k);
    jwk["alg"] = json!("Ed25519");
    let set = Jwks::from_json(jwks_of(&[jwk]).as_bytes()).unwrap();
    let v = Verifier::new(set, Policy::new(ISS));
    assert!(v
        .verify(&raw(&k, &h, &claims().to_string()), UnixTime(NOW))
        .is_ok());
    assert_eq!(
        v.verify(&token(&k, &claims()), UnixTime(NOW))
            .unwrap_err()
            .code(),
        "unsupported_algorithm"
    );
}

#[test]
fn hs256_token_signed_with_the_public_key_as_secret_is_rejected() {
    // The classic key-confusion attack: alg HS256 with the public key bytes as HMAC secret.
    let k = key(1);
    let h = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.kid());
    let fake = format!(
        "{}.{}.{}",
        b64::encode(h.as_bytes()),
        b64::encode(claims().to_string().as_bytes()),
        b64::encode(&[0u8; 32])
    );
    assert_eq!(code_of(&verifier_for(&k), &fake), "unsupported_algorithm");
}

#[test]
fn header_jku_x5u_jwk_x5c_crit_b64_are_each_rejected() {
    let k = key(1);
    let v = verifier_for(&k);
    for extra in [
        r#","jku":"https://evil.test/jwks.json""#,
        r#","x5u":"https://evil.test/cert.pem""#,
        r#","jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#","x5c":["MIIB"]"#,
        r#","crit":["exp"]"#,
        r#","b64":false"#,
    ] {
        let t = raw(&k, &header_with(&k, extra), &claims().to_string());
        assert_eq!(code_of(&v, &t), "unsupported_header", "{extra}");
    }
}

#[test]
fn header_parameter_count_is_bounded() {
    let k = key(1);
    let extra: String = (0..15).map(|i| format!(r#","p{i}":1"#)).collect();
    let t = raw(&k, &header_with(&k, &extra), &claims().to_string());
    assert_eq!(code_of(&verifier_for(&k), &t), "unsupported_header");
    let ok: String = (0..14).map(|i| format!(r#","p{i}":1"#)).collect();
    assert!(verifier_for(&k)
        .verify(
            &raw(&k, &header_with(&k, &ok), &claims().to_string()),
            UnixTime(NOW)
        )
        .is_ok());
}

#[test]
fn typ_defaults_to_absent_or_jwt_case_insensitive() {
    let k = key(1);
    let v = verifier_for(&k);
    for typ in [
        "",
        r#","typ":"JWT""#,
        r#","typ":"jwt""#,
        r#","typ":"application/jwt""#,
    ] {
        assert!(
            v.verify(
                &raw(&k, &header_with(&k, typ), &claims().to_string()),
                UnixTime(NOW)
            )
            .is_ok(),
            "{typ}"
        );
    }
    for typ in [
        r#","typ":"at+jwt""#,
        r#","typ":"JOSE""#,
        r#","typ":"torii-template+jwt""#,
        r#","typ":1"#,
    ] {
        assert_eq!(
            code_of(&v, &raw(&k, &header_with(&k, typ), &claims().to_string())),
            "invalid_token_type",
            "{typ}"
        );
    }
}

#[test]
fn typ_policy_exact_requires_that_type() {
    let k = key(1);
    let v = Verifier::new(
        Jwks::from_keys(vec![k.public_jwk()]),
        Policy::new(ISS).with_typ(TypPolicy::Exact("at+jwt".into())),
    );
    assert!(v
        .verify(
            &raw(
                &k,
                &header_with(&k, r#","typ":"AT+JWT""#),
                &claims().to_string()
            ),
            UnixTime(NOW)
        )
        .is_ok());
    assert!(v
        .verify(
            &raw(
                &k,
                &header_with(&k, r#","typ":"application/at+jwt""#),
                &claims().to_string()
            ),
            UnixTime(NOW)
        )
        .is_ok());
    assert_eq!(code_of(&v, &token(&k, &claims())), "invalid_token_type");
    assert_eq!(
        code_of(&v, &raw(&k, &header_with(&k, ""), &claims().to_string())),
        "invalid_token_type"
    );
}

#[test]
fn kid_is_required_when_the_set_has_several_keys() {
    let (a, b) = (key(1), key(2));
    let no_kid = |k: &SigningKey| raw(k, r#"{"alg":"EdDSA"}"#, &claims().to_string());
    let one = verifier_for(&a);
    assert!(one.verify(&no_kid(&a), UnixTime(NOW)).is_ok());
    let two = Verifier::new(
        Jwks::from_keys(vec![a.public_jwk(), b.public_jwk()]),
        Policy::new(ISS),
    );
    assert_eq!(code_of(&two, &no_kid(&a)), "unknown_key");
    assert!(two.verify(&token(&b, &claims()), UnixTime(NOW)).is_ok());
}

#[test]
fn unknown_kid_is_rejected() {
    let (a, b) = (key(1), key(2));
    assert_eq!(
        code_of(&verifier_for(&a), &token(&b, &claims())),
        "unknown_key"
    );
    let h = r#"{"alg":"EdDSA","kid":"nope"}"#;
    assert_eq!(
        code_of(&verifier_for(&a), &raw(&a, h, &claims().to_string())),
        "unknown_key"
    );
}

#[test]
fn colliding_kid_from_another_key_fails_the_signature() {
    let (a, b) = (key(1), key(2).with_kid(a_kid()));
    fn a_kid() -> &'static str {
        "shared-kid"
    }
    let a = a.with_kid(a_kid());
    assert_eq!(
        code_of(&verifier_for(&a), &token(&b, &claims())),
        "invalid_signature"
    );
}

// ---------------------------------------------------------------- signature

#[test]
fn signature_is_checked_before_claims() {
    let (a, b) = (key(1), key(2).with_kid(key(1).kid()));
    // Expired and wrongly signed: the signature error wins, claims are never looked at.
    let t = token(&b, &with(claims(), "exp", json!(NOW - 3600)));
    assert_eq!(code_of(&verifier_for(&a), &t), "invalid_signature");
}

#[test]
fn tampered_payload_fails_the_signature() {
    let k = key(1);
    let t = token(&k, &claims());
    let parts: Vec<&str> = t.split('.').collect();
    let evil = b64::encode(with(claims(), "sub", json!("admin")).to_string().as_bytes());
    assert_eq!(
        code_of(
            &verifier_for(&k),
            &format!("{}.{evil}.{}", parts[0], parts[2])
        ),
        "invalid_signature"
    );
}

// ---------------------------------------------------------------- claims

#[test]
fn issuer_must_match_one_of_the_list_exactly() {
    let k = key(1);
    let v = verifier_for(&k);
    for iss in [
        "https://demo.torii.test/",
        "https://DEMO.torii.test",
        "https://other.test",
        "",
    ] {
        assert_eq!(
            code_of(&v, &token(&k, &with(claims(), "iss", json!(iss)))),
            "invalid_issuer",
            "{iss}"
        );
    }
    let multi = Verifier::new(
        Jwks::from_keys(vec![k.public_jwk()]),
        Policy::new(ISS).with_issuer("https://other.test"),
    );
    assert!(multi
        .verify(
            &token(&k, &with(claims(), "iss", json!("https://other.test"))),
            UnixTime(NOW)
        )
        .is_ok());
}

#[test]
fn audience_string_or_array_must_contain_an_expected_value() {
    let k = key(1);
    let v = Verifier::new(
        Jwks::from_keys(vec![k.public_jwk()]),
        Policy::new(ISS).with_audience("api"),
    );
    assert!(v
        .verify(
            &token(&k, &with(claims(), "aud", json!("api"))),
            UnixTime(NOW)
        )
        .is_ok());
    assert!(v
        .verify(
            &token(&k, &with(claims(), "aud", json!(["x", "api"]))),
            UnixTime(NOW)
        )
        .is_ok());
    assert_eq!(
        code_of(&v, &token(&k, &with(claims(), "aud", json!("apix")))),
        "invalid_audience"
    );
    assert_eq!(
        code_of(&v, &token(&k, &with(claims(), "aud", json!([])))),
        "invalid_audience"
    );
    assert_eq!(code_of(&v, &token(&k, &claims())), "missing_claim");
    // Without a configured audience, `aud` is not required.
    assert!(verifier_for(&k)
        .verify(
            &token(&k, &with(claims(), "aud", json!("x"))),
            UnixTime(NOW)
        )
        .is_ok());
}

#[test]
fn required_claims_default_to_exp_iss_sub() {
    let k = key(1);
    let v = verifier_for(&k);
    for c in ["exp", "iss", "sub"] {
        let err = v
            .verify(&token(&k, &without(claims(), c)), UnixTime(NOW))
            .unwrap_err();
        assert_eq!(err, VerifyError::MissingClaim(c.into()));
    }
    assert!(v
        .verify(&token(&k, &without(claims(), "sid")), UnixTime(NOW))
        .is_ok());
}

#[test]
fn required_claims_are_configurable_but_iss_is_always_checked() {
    let k = key(1);
    let p = Policy::new(ISS)
        .with_required_claims(["sid"])
        .require_claim("org_id");
    let v = Verifier::new(Jwks::from_keys(vec![k.public_jwk()]), p);
    assert_eq!(code_of(&v, &token(&k, &claims())), "missing_claim");
    assert!(v
        .verify(
            &token(&k, &without(with(claims(), "org_id", json!("o")), "exp")),
            UnixTime(NOW)
        )
        .is_ok());
    assert_eq!(
        code_of(
            &v,
            &token(&k, &without(with(claims(), "org_id", json!("o")), "iss"))
        ),
        "missing_claim"
    );
}

#[test]
fn time_claims_must_be_json_numbers() {
    let k = key(1);
    let v = verifier_for(&k);
    for name in ["exp", "nbf", "iat"] {
        for bad in [
            json!("1800000000"),
            json!(true),
            json!(null),
            json!([1]),
            json!({}),
        ] {
            let err = v
                .verify(
                    &token(&k, &with(claims(), name, bad.clone())),
                    UnixTime(NOW),
                )
                .unwrap_err();
            assert_eq!(
                err,
                VerifyError::InvalidClaimType(name.into()),
                "{name}={bad}"
            );
        }
    }
    // Fractional NumericDates are numbers and are accepted.
    assert!(v
        .verify(
            &token(&k, &with(claims(), "exp", json!((NOW + 10) as f64 + 0.5))),
            UnixTime(NOW)
        )
        .is_ok());
}

#[test]
fn string_claims_must_be_strings() {
    let k = key(1);
    let v = verifier_for(&k);
    for name in [
        "iss", "sub", "jti", "sid", "pid", "aal", "org", "org_id", "org_role", "azp",
    ] {
        for bad in [
            json!(1),
            json!(null),
            json!(["x"]),
            json!({"a": 1}),
            json!(false),
        ] {
            let err = v
                .verify(
                    &token(&k, &with(claims(), name, bad.clone())),
                    UnixTime(NOW),
                )
                .unwrap_err();
            assert_eq!(
                err,
                VerifyError::InvalidClaimType(name.into()),
                "{name}={bad}"
            );
        }
    }
}

#[test]
fn aud_must_be_a_string_or_array_of_strings() {
    let k = key(1);
    for bad in [
        json!(1),
        json!(null),
        json!([1]),
        json!(["a", 2]),
        json!({}),
    ] {
        let err = verifier_for(&k)
            .verify(
                &token(&k, &with(claims(), "aud", bad.clone())),
                UnixTime(NOW),
            )
            .unwrap_err();
        assert_eq!(err, VerifyError::InvalidClaimType("aud".into()), "{bad}");
    }
}

#[test]
fn act_must_be_an_object() {
    let k = key(1);
    for bad in [json!("admin"), json!(1), json!(null), json!([])] {
        assert_eq!(
            code_of(&verifier_for(&k), &token(&k, &with(claims(), "act", bad))),
            "invalid_claim_type"
        );
    }
}

#[test]
fn exp_is_enforced_with_skew() {
    let k = key(1);
    let v = verifier_for(&k);
    let t = token(&k, &with(claims(), "exp", json!(NOW)));
    assert!(v.verify(&t, UnixTime(NOW + 59)).is_ok());
    assert_eq!(
        v.verify(&t, UnixTime(NOW + 60)).unwrap_err(),
        VerifyError::TokenExpired {
            exp: NOW,
            now: NOW + 60
        }
    );
}

#[test]
fn nbf_is_enforced_with_skew() {
    let k = key(1);
    let v = verifier_for(&k);
    let t = token(&k, &with(claims(), "nbf", json!(NOW + 60)));
    assert!(v.verify(&t, UnixTime(NOW)).is_ok());
    let t = token(&k, &with(claims(), "nbf", json!(NOW + 61)));
    assert_eq!(code_of(&v, &t), "token_not_yet_valid");
}

#[test]
fn iat_in_the_future_is_rejected_beyond_skew() {
    let k = key(1);
    let v = verifier_for(&k);
    assert!(v
        .verify(
            &token(&k, &with(claims(), "iat", json!(NOW + 60))),
            UnixTime(NOW)
        )
        .is_ok());
    assert_eq!(
        code_of(&v, &token(&k, &with(claims(), "iat", json!(NOW + 61)))),
        "token_issued_in_future"
    );
}

#[test]
fn clock_skew_defaults_to_60s_and_is_capped_at_300s() {
    assert_eq!(Policy::new(ISS).clock_skew(), 60);
    assert_eq!(Policy::new(ISS).with_clock_skew(10_000).clock_skew(), 300);
    assert_eq!(Policy::new(ISS).with_clock_skew(-5).clock_skew(), 0);
    let k = key(1);
    let v = Verifier::new(
        Jwks::from_keys(vec![k.public_jwk()]),
        Policy::new(ISS).with_clock_skew(10_000),
    );
    let t = token(&k, &with(claims(), "exp", json!(NOW)));
    assert!(v.verify(&t, UnixTime(NOW + 299)).is_ok());
    assert_eq!(
        v.verify(&t, UnixTime(NOW + 300)).unwrap_err().code(),
        "token_expired"
    );
}

#[test]
fn max_token_age_is_optional_and_requires_iat() {
    let k = key(1);
    let v = Verifier::new(
        Jwks::from_keys(vec![k.public_jwk()]),
        Policy::new(ISS).with_max_age(300),
    );
    assert!(v
        .verify(
            &token(&k, &with(claims(), "iat", json!(NOW - 360))),
            UnixTime(NOW)
        )
        .is_ok());
    assert_eq!(
        code_of(&v, &token(&k, &with(claims(), "iat", json!(NOW - 361)))),
        "token_too_old"
    );
    assert_eq!(
        code_of(&v, &token(&k, &without(claims(), "iat"))),
        "missing_claim"
    );
}

// ---------------------------------------------------------------- keys

#[test]
fn jwk_must_be_okp_ed25519() {
    let k = key(1);
    for j in [
        json!({"kty": "EC", "crv": "P-256", "x": k.public_jwk().x(), "y": "AA"}),
        json!({"kty": "OKP", "crv": "X25519", "x": k.public_jwk().x()}),
        json!({"kty": "OKP", "crv": "Ed448", "x": k.public_jwk().x()}),
        json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        json!({"crv": "Ed25519", "x": k.public_jwk().x()}),
    ] {
        assert_eq!(
            Jwk::from_json(j.to_string().as_bytes()).unwrap_err().code(),
            "invalid_key",
            "{j}"
        );
    }
}

#[test]
fn jwk_x_must_be_exactly_32_canonical_bytes() {
    for x in [
        b64::encode(&[9u8; 31]),
        b64::encode(&[9u8; 33]),
        String::new(),
        format!("{}=", b64::encode(&[9u8; 32])),
    ] {
        let j = json!({"kty": "OKP", "crv": "Ed25519", "x": x});
        assert_eq!(
            Jwk::from_json(j.to_string().as_bytes()).unwrap_err().code(),
            "invalid_key",
            "{x}"
        );
    }
    let j = json!({"kty": "OKP", "crv": "Ed25519", "x": 5});
    assert_eq!(
        Jwk::from_json(j.to_string().as_bytes()).unwrap_err().code(),
        "invalid_key"
    );
}

#[test]
fn jwk_small_order_and_non_canonical_keys_are_rejected() {
    let mut small_order = vec![[0u8; 32]];
    let mut identity = [0u8; 32];
    identity[0] = 1; // the neutral element
    small_order.push(identity);
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f; // y = p - 1: a point of order 2
    small_order.push(minus_one);
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xee;
    non_canonical[31] = 0x7f; // y = p + 1 > p
    small_order.push(non_canonical);
    for bytes in small_order {
        let j = json!({"kty": "OKP", "crv": "Ed25519", "x": b64::encode(&bytes)});
        assert_eq!(
            Jwk::from_json(j.to_string().as_bytes()).unwrap_err().code(),
            "invalid_key"
        );
        assert_eq!(
            Jwks::from_json(jwks_of(&[j]).as_bytes())
                .unwrap_err()
                .code(),
            "invalid_key"
        );
    }
}

#[test]
fn jwk_carrying_private_material_is_refused() {
    let k = key(1);
    let mut j = okp(&k);
    j["d"] = json!(b64::encode(&[1u8; 32]));
    assert_eq!(
        Jwks::from_json(jwks_of(&[j]).as_bytes())
            .unwrap_err()
            .code(),
        "invalid_key"
    );
    // Even on a key of another type: a set that leaks private keys is not loaded.
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"});
    assert_eq!(
        Jwks::from_json(jwks_of(&[okp(&k), rsa]).as_bytes())
            .unwrap_err()
            .code(),
        "invalid_key"
    );
}

#[test]
fn jwk_use_must_be_absent_or_sig() {
    let k = key(1);
    let mut j = okp(&k);
    j["use"] = json!("sig");
    assert!(Jwk::from_json(j.to_string().as_bytes()).is_ok());
    j["use"] = json!("enc");
    assert_eq!(
        Jwk::from_json(j.to_string().as_bytes()).unwrap_err().code(),
        "invalid_key"
    );
    assert_eq!(
        Jwks::from_json(jwks_of(&[j]).as_bytes())
            .unwrap_err()
            .code(),
        "invalid_jwks"
    );
}

#[test]
fn jwk_key_ops_must_contain_verify() {
    let k = key(1);
    let mut j = okp(&k);
    j["key_ops"] = json!(["verify"]);
    assert!(Jwk::from_json(j.to_string().as_bytes()).is_ok());
    j["key_ops"] = json!(["sign"]);
    assert_eq!(
        Jwk::from_json(j.to_string().as_bytes()).unwrap_err().code(),
        "invalid_key"
    );
    j["key_ops"] = json!("verify");
    assert_eq!(
        Jwk::from_json(j.to_string().as_bytes()).unwrap_err().code(),
        "invalid_key"
    );
}

#[test]
fn jwk_alg_must_be_absent_eddsa_or_ed25519() {
    let k = key(1);
    for (alg, ok) in [
        (json!("EdDSA"), true),
        (json!("Ed25519"), true),
        (json!("RS256"), false),
        (json!("none"), false),
    ] {
        let mut j = okp(&k);
        j["alg"] = alg.clone();
        assert_eq!(
            Jwk::from_json(j.to_string().as_bytes()).is_ok(),
            ok,
            "{alg}"
        );
    }
}

#[test]
fn jwks_skips_keys_of_other_types() {
    let (a, b) = (key(1), key(2));
    let doc = jwks_of(&[
        json!({"kty": "RSA", "kid": "rsa1", "n": "AQAB", "e": "AQAB"}),
        json!({"kty": "EC", "kid": "ec1", "crv": "P-256", "x": "AA", "y": "AA"}),
        json!({"kty": "OKP", "kid": "x1", "crv": "X25519", "x": a.public_jwk().x()}),
        okp(&a),
        okp(&b),
    ]);
    let set = Jwks::from_json(doc.as_bytes()).unwrap();
    assert_eq!(set.len(), 2);
    let v = Verifier::new(set, Policy::new(ISS));
    assert!(v.verify(&token(&b, &claims()), UnixTime(NOW)).is_ok());
    let h = r#"{"alg":"EdDSA","kid":"rsa1"}"#;
    assert_eq!(
        code_of(&v, &raw(&a, h, &claims().to_string())),
        "unknown_key"
    );
}

#[test]
fn jwks_is_bounded_to_64_kib_and_64_keys() {
    let k = key(1);
    let many: Vec<Value> = (0..65)
        .map(|i| json!({"kty": "RSA", "kid": format!("k{i}"), "n": "AQAB", "e": "AQAB"}))
        .collect();
    assert_eq!(
        Jwks::from_json(jwks_of(&many).as_bytes())
            .unwrap_err()
            .code(),
        "invalid_jwks"
    );
    let mut sixty_four: Vec<Value> = (0..63)
        .map(|i| json!({"kty": "RSA", "kid": format!("k{i}"), "n": "AQAB", "e": "AQAB"}))
        .collect();
    sixty_four.push(okp(&k));
    assert!(Jwks::from_json(jwks_of(&sixty_four).as_bytes()).is_ok());
    let mut padded = okp(&k);
    padded["pad"] = json!("x".repeat(64 * 1024));
    assert_eq!(
        Jwks::from_json(jwks_of(&[padded]).as_bytes())
            .unwrap_err()
            .code(),
        "invalid_jwks"
    );
}

#[test]
fn jwks_duplicate_kid_is_rejected() {
    let (a, b) = (key(1), key(2));
    let mut jb = okp(&b);
    jb["kid"] = json!(a.kid());
    assert_eq!(
        Jwks::from_json(jwks_of(&[okp(&a), jb]).as_bytes())
            .unwrap_err()
            .code(),
        "invalid_jwks"
    );
}

#[test]
fn jwks_must_be_an_object_with_a_keys_array_and_a_usable_key() {
    for doc in [
        r#"[]"#,
        r#"{}"#,
        r#"{"keys":{}}"#,
        r#"{"keys":[1]}"#,
        r#"{"keys":[]}"#,
        r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#,
        "{",
        r#"{"keys":[],"keys":[]}"#,
    ] {
        assert_eq!(
            Jwks::from_json(doc.as_bytes()).unwrap_err().code(),
            "invalid_jwks",
            "{doc}"
        );
    }
}

#[test]
fn jwks_round_trips_through_its_json() {
    let (a, b) = (key(1), key(2));
    let set = Jwks::from_keys(vec![a.public_jwk(), b.public_jwk()]);
    let again = Jwks::from_json(set.to_json().as_bytes()).unwrap();
    assert_eq!(again, set);
    let v: Value = serde_json::from_str(&set.to_json()).unwrap();
    for key in v["keys"].as_array().unwrap() {
        assert!(key.get("d").is_none());
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
    }
}

#[test]
fn discovery_document_states_only_true_fields() {
    let doc: Value = serde_json::from_str(&torii_edge::discovery_document(
        ISS,
        &format!("{ISS}/_torii/.well-known/jwks.json"),
    ))
    .unwrap();
    assert_eq!(
        doc,
        json!({
            "issuer": ISS,
            "jwks_uri": format!("{ISS}/_torii/.well-known/jwks.json"),
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "subject_types_supported": ["public"],
        })
    );
}

// ---------------------------------------------------------------- Authorization header

#[test]
fn authorization_header_bearer_parsing() {
    assert_eq!(bearer_token(Some("Bearer a.b.c")), Ok("a.b.c"));
    assert_eq!(bearer_token(Some("bearer a.b.c")), Ok("a.b.c"));
    assert_eq!(bearer_token(None).unwrap_err().code(), "missing_token");
    assert_eq!(bearer_token(Some("")).unwrap_err().code(), "missing_token");
    for bad in ["Bearer", "Basic YTpi", "Bearer a.b.c extra", "Bearer ä"] {
        assert_eq!(
            bearer_token(Some(bad)).unwrap_err().code(),
            "invalid_request",
            "{bad}"
        );
    }
}

#[test]
fn every_error_code_is_snake_case_and_unique() {
    let mut seen = std::collections::HashSet::new();
    for c in torii_edge::ALL_CODES {
        let s = c.as_str();
        assert!(
            s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
            "{s}"
        );
        assert!(seen.insert(s), "duplicate {s}");
        assert!(!c.description().is_empty());
    }
}

/// Any 32 bytes are an RFC 8032 seed, the all-zero one too: every backend derives its
/// known public key and a token it signs verifies (the crates.io `ed25519-compact`
/// panicked on it: vendor/ed25519-compact/TORII-PATCH.md).
#[test]
fn the_all_zero_seed_is_a_seed_like_any_other() {
    let k = key(0);
    assert_eq!(
        k.public_jwk().public_key_bytes(),
        [
            0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d, 0x62, 0xa3, 0xa8, 0xd0, 0x2a, 0x6f,
            0x0d, 0x73, 0x65, 0x32, 0x15, 0x77, 0x1d, 0xe2, 0x43, 0xa6, 0x3a, 0xc0, 0x48, 0xa1,
            0x8b, 0x59, 0xda, 0x29
        ]
    );
    let token = k.sign_jwt(Some("JWT"), claims().as_object().unwrap());
    let v = Verifier::new(Jwks::from_keys(vec![k.public_jwk()]), Policy::new(ISS));
    assert!(v.verify(&token, UnixTime(NOW)).is_ok());
}
