//! The gateway's authenticate phase, sans-I/O: which verifier a token goes to (the
//! tenant's own keys or a trusted issuer's, [`pick_issuer`]), which policy the tenant's
//! own tokens are verified under on a route, and the template-token rule.
//!
//! A session token (`typ` absent or `JWT`) is the user's own credential: every route that
//! needs a token takes it. A named-template token (`typ` [`TEMPLATE_TOKEN_TYP`]) is made for
//! a third party (seed 002: Hasura, Supabase…) and carries no audience, so anyone it was
//! handed to could replay it: the gateway refuses it (`invalid_token_type`) unless the
//! route names its template (`"templates": ["hasura"]`), checked against the verified
//! `tpl` claim minting stamps. Edge assertions are never accepted.

use super::issuers::TrustedIssuer;
use super::routing::Access;
use crate::error::VerifyError;
use crate::jose::claims::VerifiedClaims;
use crate::jose::jwk::Jwks;
use crate::jose::policy::{Policy, TypPolicy};
use crate::jose::token::UntrustedToken;
use crate::jose::verify::Verifier;
use crate::templates::mint::{TEMPLATE_NAME_CLAIM, TEMPLATE_TOKEN_TYP};
use alloc::borrow::Cow;
use alloc::string::String;

fn is_template(typ: Option<&str>) -> bool {
    typ.is_some_and(|t| t.eq_ignore_ascii_case(TEMPLATE_TOKEN_TYP))
}

fn route_templates(access: &Access) -> &[String] {
    match access {
        Access::Required(req) => &req.templates,
        Access::Public | Access::Optional => &[],
    }
}

/// Whether [`tenant_policy`] is the template policy (a template token on a route that
/// names templates) rather than the session policy.
fn template_policy(typ: Option<&str>, access: &Access) -> bool {
    is_template(typ) && !route_templates(access).is_empty()
}

/// The policy for a token of the tenant (`issuer`) whose header says `typ`, on a route
/// with `access`: session tokens always; template tokens only where the route names
/// templates (and then `tpl` is required).
pub fn tenant_policy(issuer: &str, typ: Option<&str>, access: &Access) -> Policy {
    let policy = Policy::new(issuer);
    if template_policy(typ, access) {
        policy
            .with_typ(TypPolicy::Exact(TEMPLATE_TOKEN_TYP.into()))
            .require_claim(TEMPLATE_NAME_CLAIM)
    } else {
        policy
    }
}

/// The verifier of the tenant's session tokens: its published keys under
/// [`Policy::new`] of its `issuer` (what [`tenant_policy`] gives a session token). Built
/// once per key set by the adapter and passed to [`tenant_verifier`] for every request, so
/// a request neither copies the keys nor hashes a policy.
pub fn session_verifier(jwks: Jwks, issuer: &str) -> Verifier {
    Verifier::new(jwks, Policy::new(issuer))
}

/// The verifier for a token of the tenant whose header says `typ`, on a route with
/// `access`: `session` (from [`session_verifier`] for the same `issuer`) when
/// [`tenant_policy`] is the session policy, else a verifier under that policy, built now
/// with `session`'s keys. Either way it accepts exactly what
/// `Verifier::new(keys, tenant_policy(issuer, typ, access))` accepts.
pub fn tenant_verifier<'v>(
    session: &'v Verifier,
    issuer: &str,
    typ: Option<&str>,
    access: &Access,
) -> Cow<'v, Verifier> {
    if template_policy(typ, access) {
        Cow::Owned(Verifier::new(
            session.jwks().clone(),
            tenant_policy(issuer, typ, access),
        ))
    } else {
        Cow::Borrowed(session)
    }
}

/// After verification: a template token passes only when its verified `tpl` is one of the
/// route's templates (`invalid_token_type` otherwise). Session tokens pass unchanged.
pub fn check_template(
    typ: Option<&str>,
    claims: &VerifiedClaims,
    access: &Access,
) -> Result<(), VerifyError> {
    if !is_template(typ) {
        return Ok(());
    }
    let name = claims.get(TEMPLATE_NAME_CLAIM).and_then(|v| v.as_str());
    match name {
        Some(name) if route_templates(access).iter().any(|t| t == name) => Ok(()),
        _ => Err(VerifyError::InvalidTokenType),
    }
}

/// Which verifier a token goes to, chosen from its (unverified) `iss`.
#[derive(Debug)]
pub enum Issuer<'a> {
    /// The tenant itself.
    Tenant,
    /// A trusted external issuer mapped to this tenant.
    Trusted(&'a TrustedIssuer),
}

/// Most claims [`pick_issuer`] reads as members, without building a map.
const MAX_PICK_MEMBERS: usize = 64;

/// Picks the verifier for a token: the tenant's issuer, or a trusted issuer mapped to the
/// tenant. Anything else is `invalid_issuer` (tokens of other tenants included).
pub fn pick_issuer<'a>(
    untrusted: &UntrustedToken<'_>,
    tenant_id: &str,
    tenant_issuer: &str,
    trusted: &'a [TrustedIssuer],
) -> Result<Issuer<'a>, VerifyError> {
    let claims;
    // The claims' members without a map (what a token's usual claims are); any other
    // document through the map, which gives its error.
    let members = crate::encoding::json::parse_members(
        &untrusted.payload,
        crate::jose::policy::MAX_CLAIMS_DEPTH,
        MAX_PICK_MEMBERS,
    );
    let iss = match &members {
        Some(members) => members
            .iter()
            .find(|(name, _)| name == "iss")
            .and_then(|(_, v)| v.as_str()),
        None => {
            claims = untrusted.claims_unverified()?;
            claims.get("iss").and_then(serde_json::Value::as_str)
        }
    }
    .unwrap_or_default();
    if iss == tenant_issuer {
        return Ok(Issuer::Tenant);
    }
    trusted
        .iter()
        .find(|t| t.issuer == iss && t.tenant == tenant_id)
        .map(Issuer::Trusted)
        .ok_or(VerifyError::InvalidIssuer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::routing::Requirements;
    use crate::{Jwks, SigningKey, UnixTime, UntrustedToken, Verifier};
    use alloc::string::ToString;
    use alloc::vec;

    const ISS: &str = "http://127.0.0.1:8787";

    fn token(key: &SigningKey, typ: Option<&str>, tpl: Option<&str>) -> String {
        let mut c = serde_json::Map::new();
        c.insert("iss".into(), ISS.into());
        c.insert("sub".into(), "u".into());
        c.insert("exp".into(), 4_000_000_000i64.into());
        if let Some(tpl) = tpl {
            c.insert(TEMPLATE_NAME_CLAIM.into(), tpl.into());
        }
        key.sign_jwt(typ, &c)
    }

    /// `pick_issuer` reads `iss` as the claims map has it (what it did before reading
    /// members), for every shape of claims: escaped names, a repeated `iss`, a
    /// non-string one, more members than it reads without the map, nesting, not JSON.
    #[test]
    fn the_issuer_is_the_maps_for_any_claims() {
        let key = SigningKey::from_seed(&[3; 32]);
        let trusted = [TrustedIssuer {
            issuer: "https://idp.example".into(),
            jwks_uri: Some("https://idp.example/jwks".into()),
            discovery: None,
            audiences: vec!["api".into()],
            tenant: "t".into(),
            typ: None,
        }];
        let many: String = (0..80).map(|i| alloc::format!(r#""c{i}":{i},"#)).collect();
        let payloads = [
            alloc::format!(r#"{{"iss":"{ISS}"}}"#),
            alloc::format!(r#"{{"\u0069ss":"{ISS}"}}"#),
            alloc::format!(r#"{{"iss":"{ISS}","iss":"{ISS}"}}"#),
            r#"{"iss":"https://idp.example"}"#.to_string(),
            r#"{"iss":"https://other.example"}"#.to_string(),
            r#"{"iss":42}"#.to_string(),
            r#"{"sub":"u"}"#.to_string(),
            alloc::format!(r#"{{{many}"iss":"{ISS}"}}"#),
            alloc::format!(r#"{{{many}"iss":"{ISS}","c0":1}}"#),
            alloc::format!(r#"{{"a":{{"b":{{"b":1,"b":2}}}},"iss":"{ISS}"}}"#),
            alloc::format!(
                r#"{{"a":{},"iss":"{ISS}"}}"#,
                "[".repeat(40) + &"]".repeat(40)
            ),
            r#"[1]"#.to_string(),
            r#"{"iss":"#.to_string(),
        ];
        for payload in payloads {
            let tok = key.sign_compact(br#"{"alg":"EdDSA"}"#, payload.as_bytes());
            let u = UntrustedToken::parse(&tok, 8192).expect("parse");
            let by_map = u.claims_unverified().map(|claims| {
                let iss = claims
                    .get("iss")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if iss == ISS {
                    "tenant".to_string()
                } else if trusted.iter().any(|t| t.issuer == iss && t.tenant == "t") {
                    "trusted".to_string()
                } else {
                    "invalid".to_string()
                }
            });
            let picked = match pick_issuer(&u, "t", ISS, &trusted) {
                Ok(Issuer::Tenant) => Ok("tenant".to_string()),
                Ok(Issuer::Trusted(_)) => Ok("trusted".to_string()),
                Err(VerifyError::InvalidIssuer) => Ok("invalid".to_string()),
                Err(e) => Err(e),
            };
            assert_eq!(picked, by_map, "{payload}");
        }
    }

    fn pass(key: &SigningKey, tok: &str, access: &Access) -> Result<(), VerifyError> {
        let u = UntrustedToken::parse(tok, 8192)?;
        let session = session_verifier(Jwks::from_keys(vec![key.public_jwk()]), ISS);
        let v = tenant_verifier(&session, ISS, u.typ(), access);
        let claims = v.verify_untrusted(&u, UnixTime(1_700_000_000))?;
        check_template(u.typ(), &claims, access)
    }

    #[test]
    fn the_shared_session_verifier_stands_for_exactly_the_routes_policy() {
        let keys = Jwks::from_keys(vec![SigningKey::from_seed(&[3; 32]).public_jwk()]);
        let session = session_verifier(keys.clone(), ISS);
        let templated = Access::Required(Requirements {
            templates: vec!["hasura".to_string()],
            ..Requirements::default()
        });
        let plain = Access::Required(Requirements::default());
        for access in [&Access::Public, &Access::Optional, &plain, &templated] {
            for typ in [None, Some("JWT"), Some(TEMPLATE_TOKEN_TYP), Some("other")] {
                let direct = Verifier::new(keys.clone(), tenant_policy(ISS, typ, access));
                let v = tenant_verifier(&session, ISS, typ, access);
                assert_eq!(v.scope(), direct.scope(), "{typ:?} on {access:?}");
                // Shared (not rebuilt) exactly when the route's policy is the session one.
                assert_eq!(
                    matches!(v, Cow::Borrowed(_)),
                    direct.scope() == session.scope()
                );
            }
        }
        let shared = tenant_verifier(&session, ISS, Some(TEMPLATE_TOKEN_TYP), &templated);
        assert!(matches!(shared, Cow::Owned(_)));
    }

    #[test]
    fn template_tokens_pass_only_routes_naming_their_template() {
        let key = SigningKey::from_seed(&[3; 32]);
        let hasura_route = Access::Required(Requirements {
            templates: vec!["hasura".to_string()],
            ..Requirements::default()
        });
        let default_route = Access::Required(Requirements::default());
        let hasura = token(&key, Some(TEMPLATE_TOKEN_TYP), Some("hasura"));
        let supabase = token(&key, Some(TEMPLATE_TOKEN_TYP), Some("supabase"));
        let unnamed = token(&key, Some(TEMPLATE_TOKEN_TYP), None);
        let session = token(&key, None, None);
        let jwt = token(&key, Some("JWT"), None);
        let assertion = token(&key, Some(crate::edge::assertion::EDGE_ASSERTION_TYP), None);

        // Refused by default, on every kind of route.
        for access in [&default_route, &Access::Optional, &Access::Public] {
            assert_eq!(
                pass(&key, &hasura, access),
                Err(VerifyError::InvalidTokenType)
            );
        }
        // A route naming the template takes that template only.
        assert_eq!(pass(&key, &hasura, &hasura_route), Ok(()));
        assert_eq!(
            pass(&key, &supabase, &hasura_route),
            Err(VerifyError::InvalidTokenType)
        );
        assert_eq!(
            pass(&key, &unnamed, &hasura_route),
            Err(VerifyError::MissingClaim(TEMPLATE_NAME_CLAIM.into()))
        );
        // Session tokens pass both; edge assertions neither.
        for access in [&default_route, &hasura_route] {
            assert_eq!(pass(&key, &session, access), Ok(()));
            assert_eq!(pass(&key, &jwt, access), Ok(()));
            assert_eq!(
                pass(&key, &assertion, access),
                Err(VerifyError::InvalidTokenType)
            );
        }
    }

    #[test]
    fn tokens_route_to_tenant_or_trusted_issuer_by_iss() {
        let key = SigningKey::from_seed(&[3; 32]);
        let trusted = crate::edge::issuers::parse_trusted_issuers(
            r#"[{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks","audiences":["api"],"tenant":"demo"},
                {"issuer":"https://other.example","jwks_uri":"https://other.example/jwks","audiences":["api"],"tenant":"acme"}]"#,
        )
        .unwrap();
        let sign = |iss: &str, typ: Option<&str>| {
            let mut c = serde_json::Map::new();
            c.insert("iss".into(), iss.into());
            c.insert("sub".into(), "u".into());
            c.insert("exp".into(), 4_000_000_000i64.into());
            key.sign_jwt(typ, &c)
        };
        let tok = sign("http://127.0.0.1:8787", None);
        let u = UntrustedToken::parse(&tok, 8192).unwrap();
        assert!(matches!(
            pick_issuer(&u, "demo", ISS, &trusted),
            Ok(Issuer::Tenant)
        ));
        let tok = sign("https://idp.example", None);
        let u = UntrustedToken::parse(&tok, 8192).unwrap();
        assert!(
            matches!(pick_issuer(&u, "demo", ISS, &trusted), Ok(Issuer::Trusted(i)) if i.issuer == "https://idp.example")
        );
        // Trusted, but for another tenant.
        let tok = sign("https://other.example", None);
        let u = UntrustedToken::parse(&tok, 8192).unwrap();
        assert_eq!(
            pick_issuer(&u, "demo", ISS, &trusted).unwrap_err(),
            VerifyError::InvalidIssuer
        );
    }
}
