//! Published documents: OIDC discovery (the JWKS itself is [`Jwks::to_json`](crate::Jwks::to_json)).

use alloc::string::{String, ToString};
use serde_json::{json, Value};

/// The OIDC discovery document served at `/.well-known/openid-configuration`.
///
/// It states only what is true of this edge: the issuer, where its keys are, that tokens
/// are signed with EdDSA, and that subjects are public identifiers. It lists no
/// authorization or token endpoint, because the edge does not run an OAuth flow.
pub fn discovery_document(issuer: &str, jwks_uri: &str) -> String {
    discovery_value(issuer, jwks_uri).to_string()
}

pub(crate) fn discovery_value(issuer: &str, jwks_uri: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "subject_types_supported": ["public"],
    })
}
