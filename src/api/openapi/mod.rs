//! `GET /v1/openapi.json`: the OpenAPI 3.1 document of the whole Backend API, built from
//! the core's own tables and limits, so it cannot drift from them.
//!
//! * every [`ApiRoute`] but the CORS preflight is one operation, its `operationId`
//!   [`ApiRoute::operation_id`]; [`endpoint`] is an exhaustive match, so a new route does
//!   not compile until it is documented;
//! * request bodies and queries are JSON Schemas of what [`super::requests`] accepts:
//!   types (an optional member may be `null`, which means absent), required members,
//!   `additionalProperties: false`, length and range bounds, the scope and `aal` enums.
//!   Lengths of free text are bytes of UTF-8 in the parsers; `maxLength` (characters) is
//!   the same number, so it is exact for ASCII and necessary otherwise. Caps that JSON
//!   Schema cannot say (metadata's 512 bytes and depth 8, the template engine's rules)
//!   are in the descriptions; the server remains the judge;
//! * responses are the bodies the Worker sends (`additionalProperties: false` too), the
//!   error body `{code, message, field?, pointer?, request_id}` with every code of the
//!   core's table, and the headers `ETag`, `Retry-After`, `x-request-id`,
//!   `idempotent-replayed`; requests take `Idempotency-Key` (every `POST`) and `If-Match`
//!   (writes of users and templates).
//!
//! Pure: no clock, no I/O; the same bytes on every call.

use super::idempotency::MAX_IDEMPOTENCY_KEY_BYTES;
use super::keys::{CHECKSUM_LEN, KEY_ID_LEN, SECRET_LEN};
use super::pagination::{DEFAULT_LIMIT, MAX_CURSOR_BYTES, MAX_LIMIT, MIN_LIMIT};
use super::requests::{
    MAX_ACTOR_BYTES, MAX_ALLOWED_ORIGINS, MAX_APPLICATION_ID_BYTES, MAX_BODY_BYTES, MAX_DOMAINS,
    MAX_DOMAIN_BYTES, MAX_EXPIRE_PREVIOUS_IN, MAX_ISSUER_BYTES, MAX_KEY_EXPIRES_IN,
    MAX_KEY_NAME_BYTES, MAX_ORG_ID_BYTES, MAX_ORG_ROLE_BYTES, MAX_ORIGIN_BYTES,
    MAX_SESSION_EXPIRES_IN, MIN_KEY_EXPIRES_IN, MIN_SESSION_EXPIRES_IN,
};
use super::routes::{ApiRoute, MAX_SESSION_ID_BYTES, MAX_TEMPLATE_NAME_BYTES};
use super::scopes::{required_scope, Access, ALL_SCOPES, MAX_SCOPES};
use crate::error::ALL_CODES;
use crate::templates::engine::{MAX_TEMPLATE_LIFETIME_SECS, MIN_TEMPLATE_LIFETIME_SECS};
use crate::templates::user::{
    MAX_EMAIL_BYTES, MAX_METADATA_BYTES, MAX_METADATA_DEPTH, MAX_NAME_BYTES, MAX_USER_ID_BYTES,
};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde_json::{json, Map, Value};

mod components;
mod operations;
mod schemas;

use components::*;
use operations::*;
use schemas::*;

/// The OpenAPI version of the document.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// Text without control characters (what every string field of a body accepts).
const NO_CONTROL: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

/// Every route the document describes: one of each [`ApiRoute`] variant but
/// [`ApiRoute::Preflight`] (CORS, answered on every path; see the document's
/// description), path parameters empty.
pub fn documented_routes() -> Vec<ApiRoute> {
    use ApiRoute as R;
    let s = String::new;
    vec![
        R::CreateApplication,
        R::GetApplication,
        R::UpdateApplication,
        R::OpenApi,
        R::CreateUser,
        R::ListUsers,
        R::GetUser { user_id: s() },
        R::UpdateUser { user_id: s() },
        R::UpdateUserMetadata { user_id: s() },
        R::DeleteUser { user_id: s() },
        R::RevokeUserSessions { user_id: s() },
        R::CreateSession,
        R::ListSessions,
        R::GetSession { session_id: s() },
        R::RevokeSession { session_id: s() },
        R::CreateSessionToken { session_id: s() },
        R::ListTemplates,
        R::PreviewTemplate,
        R::PutTemplate { name: s() },
        R::GetTemplate { name: s() },
        R::DeleteTemplate { name: s() },
        R::CreateApiKey,
        R::ListApiKeys,
        R::GetApiKey { key_id: s() },
        R::RollApiKey { key_id: s() },
        R::RevokeApiKey { key_id: s() },
        R::ListSigningKeys,
        R::RotateSigningKeys,
    ]
}

/// The method (lower case, as OpenAPI writes it) and path template of a route; `None`
/// for the CORS preflight, which is not an operation of its own.
pub const fn endpoint(route: &ApiRoute) -> Option<(&'static str, &'static str)> {
    use ApiRoute as R;
    Some(match route {
        R::Preflight { .. } => return None,
        R::CreateApplication => ("post", "/v1/applications"),
        R::GetApplication => ("get", "/v1/applications/current"),
        R::UpdateApplication => ("patch", "/v1/applications/current"),
        R::OpenApi => ("get", "/v1/openapi.json"),
        R::CreateUser => ("post", "/v1/users"),
        R::ListUsers => ("get", "/v1/users"),
        R::GetUser { .. } => ("get", "/v1/users/{user_id}"),
        R::UpdateUser { .. } => ("patch", "/v1/users/{user_id}"),
        R::DeleteUser { .. } => ("delete", "/v1/users/{user_id}"),
        R::UpdateUserMetadata { .. } => ("patch", "/v1/users/{user_id}/metadata"),
        R::RevokeUserSessions { .. } => ("post", "/v1/users/{user_id}/sessions/revoke"),
        R::CreateSession => ("post", "/v1/sessions"),
        R::ListSessions => ("get", "/v1/sessions"),
        R::GetSession { .. } => ("get", "/v1/sessions/{session_id}"),
        R::RevokeSession { .. } => ("post", "/v1/sessions/{session_id}/revoke"),
        R::CreateSessionToken { .. } => ("post", "/v1/sessions/{session_id}/tokens"),
        R::ListTemplates => ("get", "/v1/jwt-templates"),
        R::PreviewTemplate => ("post", "/v1/jwt-templates/preview"),
        R::PutTemplate { .. } => ("put", "/v1/jwt-templates/{name}"),
        R::GetTemplate { .. } => ("get", "/v1/jwt-templates/{name}"),
        R::DeleteTemplate { .. } => ("delete", "/v1/jwt-templates/{name}"),
        R::CreateApiKey => ("post", "/v1/api-keys"),
        R::ListApiKeys => ("get", "/v1/api-keys"),
        R::GetApiKey { .. } => ("get", "/v1/api-keys/{key_id}"),
        R::RollApiKey { .. } => ("post", "/v1/api-keys/{key_id}/roll"),
        R::RevokeApiKey { .. } => ("post", "/v1/api-keys/{key_id}/revoke"),
        R::ListSigningKeys => ("get", "/v1/signing-keys"),
        R::RotateSigningKeys => ("post", "/v1/signing-keys/rotate"),
    })
}

/// The document, as compact JSON.
pub fn document() -> String {
    document_value().to_string()
}

/// [`document`]'s exact bytes, committed as `src/api/openapi/openapi.json`: what the
/// Worker serves. `cargo test --test readme` fails when the file is not exactly
/// [`document`] (`TORII_BLESS=1` rewrites it).
pub const DOCUMENT: &str = include_str!("openapi.json");

/// Where the Worker's static assets hold [`DOCUMENT`] (`make dashboard` copies the
/// committed file there): the Worker serves `GET /v1/openapi.json` from it, so its wasm
/// holds neither the document nor the code that builds it.
pub const ASSET_PATH: &str = "/v1/openapi.json";

/// The answer to `GET /v1/openapi.json` with the document's text: public (any origin may
/// read it) and cacheable for five minutes.
pub fn reply(document: String) -> crate::edge::reply::Reply {
    let mut reply = crate::edge::reply::Reply::json(200, document);
    reply
        .headers
        .push(("cache-control", "public, max-age=300".into()));
    reply
        .headers
        .push(("access-control-allow-origin", "*".into()));
    reply
}

/// The document as a JSON value.
pub fn document_value() -> Value {
    let mut paths = Map::new();
    for route in documented_routes() {
        let Some((method, path)) = endpoint(&route) else {
            continue;
        };
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(method.into(), operation(&route));
        }
    }
    let description = format!(
        "Manage an application's users, sessions, JWT templates, secret keys and signing keys. \
         Every call but two takes `Authorization: Bearer sk_…` and `x-application-id`. \
         Bodies are one JSON object of at most {MAX_BODY_BYTES} bytes (else \
         `payload_too_large`), without duplicate or unknown members; queries refuse unknown \
         and repeated parameters. Every refusal names its `field`. Lists run newest first: \
         `{{data, has_more, next_cursor}}`. `OPTIONS` on any path is a CORS preflight (allowed \
         origins of the application), not listed as an operation."
    );
    json!({
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "torii-edge Backend API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": description,
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{ "url": "/", "description": "The Worker's origin." }],
        "security": [{ "secretKey": [], "applicationId": [] }],
        "tags": [
            { "name": "applications" }, { "name": "users" }, { "name": "sessions" },
            { "name": "jwt_templates" }, { "name": "api_keys" }, { "name": "signing_keys" },
            { "name": "meta" },
        ],
        "paths": paths,
        "components": components(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::routes::{route, tests::sample_routes};

    /// A concrete path for a template (valid sample parameters).
    fn concrete(template: &str) -> String {
        template
            .replace("{user_id}", "user_1")
            .replace("{session_id}", "sess_1")
            .replace("{name}", "hasura")
            .replace("{key_id}", "AbC123xyz789")
    }

    #[test]
    fn the_document_is_json_with_every_route_once() {
        let text = document();
        let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
        assert_eq!(doc["openapi"], OPENAPI_VERSION);
        let mut ids = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap().to_string();
                // The router sends this method and path to the route with this id.
                let routed = route(&method.to_uppercase(), &concrete(path))
                    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
                assert_eq!(routed.operation_id(), id, "{method} {path}");
                ids.push(id);
            }
        }
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "operationIds are unique");
        // Every route of the router's own table (one of each variant) is documented.
        for r in sample_routes() {
            match endpoint(&r) {
                None => assert!(matches!(r, ApiRoute::Preflight { .. }), "{r:?}"),
                Some((method, path)) => {
                    let op = &doc["paths"][path][method];
                    assert_eq!(op["operationId"], r.operation_id(), "{r:?}");
                }
            }
        }
        assert_eq!(n, documented_routes().len());
        assert_eq!(
            n + 1,
            sample_routes().len(),
            "every variant but the preflight"
        );
    }

    #[test]
    fn every_ref_resolves_and_every_operation_answers_errors() {
        let doc = document_value();
        fn walk(v: &Value, doc: &Value) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let pointer = r.strip_prefix('#').expect("local ref");
                        assert!(doc.pointer(pointer).is_some(), "dangling {r}");
                    }
                    m.values().for_each(|x| walk(x, doc));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, doc)),
                _ => {}
            }
        }
        walk(&doc, &doc);
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                assert!(op["responses"]["default"].is_object());
            }
        }
    }

    #[test]
    fn schemas_follow_the_parsers() {
        let doc = document_value();
        let s = &doc["components"]["schemas"];
        let scopes: Vec<&str> = s["Scope"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(scopes.len(), ALL_SCOPES.len());
        for scope in scopes {
            assert!(crate::api::scopes::Scope::parse(scope).is_some());
        }
        assert_eq!(
            s["ErrorCode"]["enum"].as_array().unwrap().len(),
            ALL_CODES.len()
        );
        for name in [
            "CreateUserRequest",
            "UpdateUserRequest",
            "UpdateMetadataRequest",
            "CreateSessionRequest",
            "PutJwtTemplateRequest",
            "PreviewJwtTemplateRequest",
            "CreateApiKeyRequest",
            "RollApiKeyRequest",
            "CreateApplicationRequest",
            "User",
            "Session",
            "ApiKey",
            "ApiKeyWithSecret",
            "Error",
        ] {
            assert_eq!(s[name]["additionalProperties"], false, "{name}");
        }
        assert_eq!(s["CreateSessionRequest"]["required"], json!(["user_id"]));
        assert_eq!(
            s["CreateApiKeyRequest"]["required"],
            json!(["name", "scopes"])
        );
        assert_eq!(
            s["CreateUserRequest"]["properties"]["email"]["anyOf"][0]["$ref"],
            "#/components/schemas/Email"
        );
        assert_eq!(s["Email"]["maxLength"], MAX_EMAIL_BYTES);
        assert!(s["ApiKey"]["properties"].get("secret").is_none());
        assert!(s["ApiKeyWithSecret"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("secret")));
        // Every POST takes Idempotency-Key; every write of a user or template If-Match.
        for r in documented_routes() {
            let (method, path) = endpoint(&r).unwrap();
            let op = &doc["paths"][path][method];
            let params = op["parameters"].to_string();
            assert_eq!(params.contains("IdempotencyKey"), r.is_post(), "{r:?}");
        }
        // The key pattern's lengths add up to a generated key's.
        let key = crate::api::keys::generate_secret_key(
            crate::api::keys::Environment::Production,
            &[7; crate::api::keys::KEY_RANDOM_BYTES],
        );
        assert_eq!(
            key.secret.len(),
            8 + KEY_ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN
        );
        let pattern = s["SecretKey"]["pattern"].as_str().unwrap();
        assert!(pattern.contains(&format!("{{{}}}$", SECRET_LEN + CHECKSUM_LEN)));
    }

    #[test]
    fn the_document_is_deterministic() {
        assert_eq!(document(), document());
    }
}
