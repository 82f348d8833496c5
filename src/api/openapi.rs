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

// ------------------------------------------------------------------ schema helpers

/// Sets member `key` of an object (a no-op on anything else).
fn set(target: &mut Value, key: &str, value: impl Into<Value>) {
    if let Some(map) = target.as_object_mut() {
        map.insert(key.into(), value.into());
    }
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `schema` or `null` (an optional member: `null` means absent).
fn or_null(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

fn text(max: usize) -> Value {
    json!({ "type": "string", "maxLength": max, "pattern": NO_CONTROL })
}

fn int(min: i64, max: i64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// A list of custom domains (DNS names; the Worker lowercases and sorts them).
fn domains_schema() -> Value {
    json!({
        "type": "array", "maxItems": MAX_DOMAINS,
        "items": {
            "type": "string", "minLength": 3, "maxLength": MAX_DOMAIN_BYTES,
            "pattern": "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
            "description": "A host name such as `auth.example.com` (no scheme, port or path); \
                not the base domain, a tenant subdomain or a loopback name.",
        },
        "description": "Custom domains serving the application (besides \
            `<id>.<TORII_BASE_DOMAIN>`); on update, the list replaces the stored one.",
    })
}

fn timestamp() -> Value {
    json!({ "type": "integer", "description": "Seconds since the Unix epoch." })
}

/// A strict object: these properties, `required` of them, nothing else.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn with_description(mut schema: Value, description: &str) -> Value {
    if let Some(map) = schema.as_object_mut() {
        map.insert("description".into(), description.into());
    }
    schema
}

fn list_of(item: &str) -> Value {
    object(
        json!({
            "data": { "type": "array", "items": r(item), "maxItems": MAX_LIMIT },
            "has_more": { "type": "boolean" },
            "next_cursor": {
                "anyOf": [r("Cursor"), { "type": "null" }],
                "description": "Pass it as `starting_after` for the next page; `null` on the last page.",
            },
        }),
        &["data", "has_more", "next_cursor"],
    )
}

fn metadata_description(bag: &str) -> String {
    format!(
        "The {bag} bag: a JSON object of at most {MAX_METADATA_BYTES} bytes of compact JSON, \
         nested at most {MAX_METADATA_DEPTH} levels."
    )
}

/// The members of a user in a create (`POST /v1/users`, a preview's inline `user`).
fn user_input_properties() -> Value {
    json!({
        "id": or_null(with_description(r("UserId"), "A caller-chosen id (e.g. importing users); absent: generated.")),
        "email": or_null(r("Email")),
        "email_verified": or_null(json!({ "type": "boolean", "default": false })),
        "first_name": or_null(text(MAX_NAME_BYTES)),
        "last_name": or_null(text(MAX_NAME_BYTES)),
        "public_metadata": or_null(r("Metadata")),
        "private_metadata": or_null(r("Metadata")),
        "unsafe_metadata": or_null(r("Metadata")),
    })
}

fn template_claims() -> Value {
    json!({
        "type": "object",
        "description": "The template's claims: JSON whose strings may hold `{{user.…}}` shortcodes. \
            Checked by the template engine: its codes (`reserved_claim`, `unknown_shortcode`, \
            `private_metadata_not_allowed`, …) with a `pointer` into `claims`.",
    })
}

fn template_lifetime() -> Value {
    or_null(with_description(
        int(MIN_TEMPLATE_LIFETIME_SECS, MAX_TEMPLATE_LIFETIME_SECS),
        "Token lifetime in seconds (out of range: `invalid_lifetime`).",
    ))
}

fn schemas() -> Value {
    let scope_names: Vec<&str> = ALL_SCOPES.iter().map(|s| s.as_str()).collect();
    let codes: Vec<&str> = ALL_CODES.iter().map(|c| c.as_str()).collect();
    let key_chars = SECRET_LEN + CHECKSUM_LEN;
    let mut s = Map::new();
    let mut put = |name: &str, schema: Value| {
        s.insert(name.into(), schema);
    };

    // ---- scalars
    put(
        "UserId",
        json!({
            "type": "string", "minLength": 1, "maxLength": MAX_USER_ID_BYTES,
            "pattern": "^[!#-\\[\\]-~]+$",
            "description": "1 to 64 printable ASCII characters without `\"` or `\\`.",
        }),
    );
    put(
        "SessionId",
        json!({
            "type": "string", "minLength": 1, "maxLength": MAX_SESSION_ID_BYTES,
            "pattern": "^[!#-\\[\\]-~]+$",
        }),
    );
    put(
        "TemplateName",
        json!({
            "type": "string", "minLength": 1, "maxLength": MAX_TEMPLATE_NAME_BYTES,
            "pattern": "^[A-Za-z0-9_.-]+$",
            "not": { "enum": ["preview", ".", ".."] },
        }),
    );
    put(
        "KeyId",
        json!({
            "type": "string", "pattern": format!("^[A-Za-z0-9]{{{KEY_ID_LEN}}}$"),
            "description": "The public part of a secret key.",
        }),
    );
    put(
        "SecretKey",
        json!({
            "type": "string",
            "pattern": format!("^sk_(test|live)_[A-Za-z0-9]{{{KEY_ID_LEN}}}_[A-Za-z0-9]{{{key_chars}}}$"),
            "description": "`sk_test_` (development) or `sk_live_` (production), the key id, `_`, \
                the secret (43 base62) and its CRC32 checksum (6 base62). Shown once.",
        }),
    );
    put(
        "Email",
        json!({
            "type": "string", "maxLength": MAX_EMAIL_BYTES,
            "pattern": "^[^@\\x00-\\x1F\\x7F-\\x9F]+@[^@\\x00-\\x1F\\x7F-\\x9F]+$",
            "description": "An address `local@domain`, at most 254 bytes; compared as stored.",
        }),
    );
    put(
        "Metadata",
        with_description(
            json!({ "type": "object" }),
            &metadata_description("metadata"),
        ),
    );
    put("Scope", json!({ "type": "string", "enum": scope_names }));
    put(
        "Aal",
        json!({ "type": "string", "enum": ["aal1", "aal2", "aal3"] }),
    );
    put(
        "Environment",
        json!({ "type": "string", "enum": ["development", "production"] }),
    );
    put(
        "Cursor",
        json!({
            "type": "string", "minLength": 1, "maxLength": MAX_CURSOR_BYTES,
            "pattern": "^[A-Za-z0-9_-]+$",
            "description": "An opaque cursor of one list (another list's cursor is refused).",
        }),
    );
    put("ErrorCode", json!({ "type": "string", "enum": codes }));

    // ---- error
    put(
        "Error",
        object(
            json!({
                "code": r("ErrorCode"),
                "message": { "type": "string", "description": "For humans; never holds a secret." },
                "field": { "type": "string", "description": "The body member, query parameter or header refused (`user.email`, `If-Match`)." },
                "pointer": { "type": "string", "description": "An RFC 6901 pointer into the field's value (templates: into `claims`)." },
                "request_id": { "type": "string" },
            }),
            &["code", "message", "request_id"],
        ),
    );

    // ---- requests
    put(
        "EmptyRequest",
        with_description(
            json!({ "type": "object", "additionalProperties": false, "maxProperties": 0 }),
            "No body, or `{}`.",
        ),
    );
    put(
        "UpdateApplicationRequest",
        object(
            json!({
                "allowed_origins": {
                    "type": "array", "maxItems": MAX_ALLOWED_ORIGINS,
                    "items": {
                        "type": "string", "maxLength": MAX_ORIGIN_BYTES,
                        "pattern": "^https?://[A-Za-z0-9.:\\[\\]-]+$",
                        "description": "`https://host[:port]`, without a path.",
                    },
                },
                "domains": domains_schema(),
            }),
            &[],
        ),
    );
    put(
        "CreateApplicationRequest",
        object(
            json!({
                "id": {
                    "type": "string", "minLength": 1, "maxLength": MAX_APPLICATION_ID_BYTES,
                    "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
                    "description": "The application (tenant) id: a DNS label.",
                },
                "environment": r("Environment"),
                "issuer": or_null(json!({
                    "type": "string", "maxLength": MAX_ISSUER_BYTES,
                    "pattern": "^https?://[^\\x00-\\x1F\\x7F-\\x9F]*$",
                    "description": "Absent: derived from the base domain.",
                })),
                "allowed_origins": or_null(json!({
                    "type": "array", "maxItems": MAX_ALLOWED_ORIGINS,
                    "items": {
                        "type": "string", "maxLength": MAX_ORIGIN_BYTES,
                        "pattern": "^https?://[A-Za-z0-9.:\\[\\]-]+$",
                        "description": "`https://host[:port]`, without a path.",
                    },
                })),
                "domains": or_null(domains_schema()),
            }),
            &["id", "environment"],
        ),
    );
    put("CreateUserRequest", object(user_input_properties(), &[]));
    put(
        "UpdateUserRequest",
        with_description(
            object(
                json!({
                    "email": or_null(r("Email")),
                    "email_verified": or_null(json!({ "type": "boolean" })),
                    "first_name": or_null(text(MAX_NAME_BYTES)),
                    "last_name": or_null(text(MAX_NAME_BYTES)),
                    "public_metadata": or_null(r("Metadata")),
                    "private_metadata": or_null(r("Metadata")),
                    "unsafe_metadata": or_null(r("Metadata")),
                }),
                &[],
            ),
            "Absent: unchanged; `null` clears a text field; a bag given replaces the bag. \
        A new email without `email_verified` is unverified. The id cannot change.",
        ),
    );
    let bags = ["public_metadata", "private_metadata", "unsafe_metadata"];
    let mut metadata_patch = object(
        json!({
            "public_metadata": or_null(r("Metadata")),
            "private_metadata": or_null(r("Metadata")),
            "unsafe_metadata": or_null(r("Metadata")),
        }),
        &[],
    );
    let any_of: Value = bags
        .iter()
        .map(|b| {
            let mut props = Map::new();
            props.insert((*b).into(), json!({ "type": "object" }));
            json!({ "type": "object", "required": [b], "properties": props })
        })
        .collect();
    set(&mut metadata_patch, "anyOf", any_of);
    set(
        &mut metadata_patch,
        "description",
        "A JSON Merge Patch (RFC 7396) per bag: `null` deletes a key, \
        objects merge, anything else replaces. At least one bag; the result is checked against \
        the bag caps again.",
    );
    put("UpdateMetadataRequest", metadata_patch);
    let mut session = object(
        json!({
            "user_id": r("UserId"),
            "org_id": or_null(text(MAX_ORG_ID_BYTES)),
            "org_role": or_null(with_description(text(MAX_ORG_ROLE_BYTES), "Needs `org_id`.")),
            "aal": or_null(r("Aal")),
            "actor": or_null(json!({
                "type": "object",
                "properties": { "sub": { "type": "string", "minLength": 1 } },
                "required": ["sub"],
                "description": format!("The `act` claim (impersonation): an object with a string `sub`, \
                    at most {MAX_ACTOR_BYTES} bytes of compact JSON."),
            })),
            "expires_in": or_null(with_description(
                int(MIN_SESSION_EXPIRES_IN, MAX_SESSION_EXPIRES_IN),
                "Lifetime in seconds; absent: the Worker's default.",
            )),
        }),
        &["user_id"],
    );
    set(
        &mut session,
        "dependentRequired",
        json!({ "org_role": ["org_id"] }),
    );
    put("CreateSessionRequest", session);
    put(
        "PutJwtTemplateRequest",
        object(
            json!({
                "claims": template_claims(),
                "lifetime": template_lifetime(),
                "default": or_null(json!({
                    "type": "boolean", "default": false,
                    "description": "Whether its claims go into session tokens (one default per application).",
                })),
            }),
            &["claims"],
        ),
    );
    let mut preview = object(
        json!({
            "claims": template_claims(),
            "lifetime": template_lifetime(),
            "user_id": or_null(with_description(r("UserId"), "Render for this stored user.")),
            "user": or_null(with_description(
                object(user_input_properties(), &[]),
                "Render for this inline user (the fields of `POST /v1/users`).",
            )),
        }),
        &["claims"],
    );
    set(
        &mut preview,
        "description",
        "Neither `user_id` nor `user`: a sample user; not both.",
    );
    put("PreviewJwtTemplateRequest", preview);
    put(
        "CreateApiKeyRequest",
        object(
            json!({
                "name": {
                    "type": "string", "minLength": 1, "maxLength": MAX_KEY_NAME_BYTES, "pattern": NO_CONTROL,
                    "description": "Unique among the application's keys that are not revoked.",
                },
                "scopes": {
                    "type": "array", "items": r("Scope"), "minItems": 1, "maxItems": MAX_SCOPES,
                    "uniqueItems": true,
                    "description": "At most the calling key's own scopes (else `scope_escalation`); only `admin` grants `admin`.",
                },
                "expires_in": or_null(with_description(
                    int(MIN_KEY_EXPIRES_IN, MAX_KEY_EXPIRES_IN),
                    "Lifetime in seconds; absent: never expires.",
                )),
            }),
            &["name", "scopes"],
        ),
    );
    put(
        "RollApiKeyRequest",
        object(
            json!({
                "expire_previous_in": or_null(with_description(
                    int(0, MAX_EXPIRE_PREVIOUS_IN),
                    "Seconds the previous secret keeps working; absent or 0: it stops at once.",
                )),
            }),
            &[],
        ),
    );

    // ---- resources
    put(
        "Application",
        object(
            json!({
                "id": { "type": "string" },
                "environment": r("Environment"),
                "issuer": { "type": "string" },
                "allowed_origins": { "type": "array", "items": { "type": "string" } },
                "domains": {
                    "type": "array", "items": { "type": "string" },
                    "description": "Custom domains serving it, sorted.",
                },
                "created_at": timestamp(),
            }),
            &[
                "id",
                "environment",
                "issuer",
                "allowed_origins",
                "domains",
                "created_at",
            ],
        ),
    );
    put(
        "CreatedApplication",
        object(
            json!({
                "application": r("Application"),
                "api_key": with_description(r("ApiKeyWithSecret"), "Its first key, with `admin`."),
            }),
            &["application", "api_key"],
        ),
    );
    put(
        "User",
        object(
            json!({
                "id": r("UserId"),
                "email": or_null(json!({ "type": "string" })),
                "email_verified": { "type": "boolean" },
                "first_name": or_null(json!({ "type": "string" })),
                "last_name": or_null(json!({ "type": "string" })),
                "public_metadata": r("Metadata"),
                "private_metadata": r("Metadata"),
                "unsafe_metadata": r("Metadata"),
                "created_at": timestamp(),
                "updated_at": timestamp(),
            }),
            &[
                "id",
                "email",
                "email_verified",
                "first_name",
                "last_name",
                "public_metadata",
                "private_metadata",
                "unsafe_metadata",
                "created_at",
                "updated_at",
            ],
        ),
    );
    put("UserList", list_of("User"));
    put(
        "Session",
        object(
            json!({
                "id": r("SessionId"),
                "user_id": r("UserId"),
                "status": { "type": "string", "enum": ["active", "revoked", "expired"] },
                "aal": or_null(r("Aal")),
                "org_id": or_null(json!({ "type": "string" })),
                "org_role": or_null(json!({ "type": "string" })),
                "actor": or_null(json!({
                    "type": "object",
                    "properties": { "sub": { "type": "string" } },
                    "required": ["sub"],
                    "description": "The `act` claim the session's tokens carry (impersonation).",
                })),
                "created_at": timestamp(),
                "expires_at": timestamp(),
            }),
            &[
                "id",
                "user_id",
                "status",
                "aal",
                "org_id",
                "org_role",
                "actor",
                "created_at",
                "expires_at",
            ],
        ),
    );
    put("SessionList", list_of("Session"));
    put(
        "SessionToken",
        object(
            json!({
                "jwt": { "type": "string", "description": "A compact EdDSA JWT." },
                "expires_at": timestamp(),
                "template": or_null(r("TemplateName")),
            }),
            &["jwt", "expires_at", "template"],
        ),
    );
    put(
        "CreatedSession",
        object(
            json!({
                "session": r("Session"),
                "token": with_description(r("SessionToken"), "The session's first session token."),
            }),
            &["session", "token"],
        ),
    );
    put(
        "RevokedSessions",
        object(
            json!({
                "revoked": { "type": "integer", "minimum": 0, "description": "How many sessions were revoked." },
            }),
            &["revoked"],
        ),
    );
    put(
        "JwtTemplate",
        object(
            json!({
                "name": r("TemplateName"),
                "claims": { "type": "object" },
                "lifetime": or_null(int(MIN_TEMPLATE_LIFETIME_SECS, MAX_TEMPLATE_LIFETIME_SECS)),
                "default": { "type": "boolean" },
                "created_at": timestamp(),
                "updated_at": timestamp(),
            }),
            &[
                "name",
                "claims",
                "lifetime",
                "default",
                "created_at",
                "updated_at",
            ],
        ),
    );
    put("JwtTemplateList", list_of("JwtTemplate"));
    put(
        "JwtTemplatePreview",
        object(
            json!({
                "claims": { "type": "object", "description": "The claims rendered for the user." },
                "lifetime": or_null(int(MIN_TEMPLATE_LIFETIME_SECS, MAX_TEMPLATE_LIFETIME_SECS)),
            }),
            &["claims", "lifetime"],
        ),
    );
    let api_key_properties = |secret: bool| {
        let mut p = json!({
            "id": r("KeyId"),
            "name": { "type": "string" },
            "scopes": { "type": "array", "items": r("Scope") },
            "prefix": {
                "type": "string",
                "pattern": format!("^sk_(test|live)_[A-Za-z0-9]{{{KEY_ID_LEN}}}$"),
                "description": "The display prefix: environment prefix and key id (not secret).",
            },
            "last_four": { "type": "string", "pattern": "^[A-Za-z0-9]{4}$" },
            "status": {
                "type": "string",
                "enum": ["active", "revoked", "expired"],
                "description": "`revoked` once `revoked_at` has passed, `expired` once `expires_at` has.",
            },
            "created_at": timestamp(),
            "last_used_at": or_null(timestamp()),
            "expires_at": or_null(timestamp()),
            "revoked_at": or_null(timestamp()),
        });
        let mut required = vec![
            "id",
            "name",
            "scopes",
            "prefix",
            "last_four",
            "status",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        ];
        if secret {
            set(
                &mut p,
                "secret",
                or_null(with_description(
                    r("SecretKey"),
                    "The secret, once; `null` in an `Idempotency-Key` replay (secrets are never stored).",
                )),
            );
            required.push("secret");
        }
        object(p, &required)
    };
    put(
        "ApiKey",
        with_description(
            api_key_properties(false),
            "A key as listed: never its secret.",
        ),
    );
    put(
        "ApiKeyWithSecret",
        with_description(
            api_key_properties(true),
            "A key just created or rolled, with its secret (returned only here, once).",
        ),
    );
    put("ApiKeyList", list_of("ApiKey"));
    put(
        "SigningKey",
        object(
            json!({
                "version": { "type": "integer", "minimum": 1 },
                "kid": { "type": "string" },
                "state": { "type": "string", "enum": ["published", "active", "retiring", "retired"] },
                "published_at": with_description(timestamp(), "When it enters the JWKS (seconds since the epoch)."),
                "signs_from": with_description(timestamp(), "When it starts signing."),
                "signs_until": or_null(with_description(timestamp(), "When it stops signing.")),
                "jwk": {
                    "type": "object",
                    "description": "The public key (Ed25519 JWK), as the JWKS serves it.",
                },
            }),
            &[
                "version",
                "kid",
                "state",
                "published_at",
                "signs_from",
                "signs_until",
            ],
        ),
    );
    put(
        "SigningKeyList",
        with_description(
            list_of("SigningKey"),
            "Every version not retired, newest first, on one page (`has_more` is false).",
        ),
    );
    Value::Object(s)
}

// ------------------------------------------------------------------ operations

fn param_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn response_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn header_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/headers/{name}") })
}

/// A success response: `schema` (a component name; `None`: no body), with `x-request-id`
/// (and `ETag` when `etag`, `idempotent-replayed` for a `POST`).
fn success(description: &str, schema: Option<&str>, etag: bool, post: bool) -> Value {
    let mut headers = Map::new();
    headers.insert("x-request-id".into(), header_ref("RequestId"));
    if etag {
        headers.insert("ETag".into(), header_ref("ETag"));
    }
    if post {
        headers.insert(
            "idempotent-replayed".into(),
            header_ref("IdempotentReplayed"),
        );
    }
    let mut out = json!({ "description": description, "headers": headers });
    if let Some(name) = schema {
        set(
            &mut out,
            "content",
            json!({ "application/json": { "schema": r(name) } }),
        );
    }
    out
}

fn body(schema: &str, required: bool) -> Value {
    json!({
        "required": required,
        "content": { "application/json": { "schema": r(schema) } },
    })
}

/// What one operation takes and answers.
struct Op {
    summary: &'static str,
    tag: &'static str,
    params: Vec<&'static str>,
    body: Option<(&'static str, bool)>,
    /// `(status, description, schema, etag)`.
    ok: Vec<(&'static str, &'static str, Option<&'static str>, bool)>,
    /// Extra error statuses (besides those every keyed call may get).
    errors: Vec<&'static str>,
}

fn op_of(route: &ApiRoute) -> Op {
    use ApiRoute as R;
    let op = |summary, tag, params: &[&'static str], body, ok, errors: &[&'static str]| Op {
        summary,
        tag,
        params: params.to_vec(),
        body,
        ok,
        errors: errors.to_vec(),
    };
    let list = ["Limit", "StartingAfter"];
    match route {
        R::Preflight { .. } => op("CORS preflight", "meta", &[], None, vec![], &[]),
        R::CreateApplication => op(
            "Create an application (operator) and its first admin key",
            "applications",
            &[],
            Some(("CreateApplicationRequest", true)),
            vec![(
                "201",
                "The application and its first key.",
                Some("CreatedApplication"),
                false,
            )],
            &["409", "413", "422"],
        ),
        R::GetApplication => op(
            "The application of the key (`admin`)",
            "applications",
            &[],
            None,
            vec![("200", "The application.", Some("Application"), false)],
            &[],
        ),
        R::UpdateApplication => op(
            "Change the application's allowed CORS origins (`admin`)",
            "applications",
            &[],
            Some(("UpdateApplicationRequest", true)),
            vec![("200", "The application.", Some("Application"), false)],
            &["413", "422"],
        ),
        R::OpenApi => op(
            "This document",
            "meta",
            &[],
            None,
            vec![(
                "200",
                "The OpenAPI 3.1 document of the Backend API.",
                Some("OpenApiDocument"),
                false,
            )],
            &[],
        ),
        R::CreateUser => op(
            "Create a user",
            "users",
            &[],
            Some(("CreateUserRequest", true)),
            vec![("201", "The user.", Some("User"), true)],
            &["409", "413", "422"],
        ),
        R::ListUsers => op(
            "List users, newest first",
            "users",
            &["EmailFilter", list[0], list[1]],
            None,
            vec![("200", "A page of users.", Some("UserList"), false)],
            &["422"],
        ),
        R::GetUser { .. } => op(
            "Get a user",
            "users",
            &["UserIdPath"],
            None,
            vec![("200", "The user.", Some("User"), true)],
            &["404", "422"],
        ),
        R::UpdateUser { .. } => op(
            "Update a user",
            "users",
            &["UserIdPath", "IfMatch"],
            Some(("UpdateUserRequest", true)),
            vec![("200", "The user after the update.", Some("User"), true)],
            &["404", "409", "412", "413", "422"],
        ),
        R::UpdateUserMetadata { .. } => op(
            "Merge into a user's metadata",
            "users",
            &["UserIdPath", "IfMatch"],
            Some(("UpdateMetadataRequest", true)),
            vec![("200", "The user after the merge.", Some("User"), true)],
            &["404", "412", "413", "422"],
        ),
        R::DeleteUser { .. } => op(
            "Delete a user (and their sessions)",
            "users",
            &["UserIdPath", "IfMatch"],
            None,
            vec![("204", "Deleted.", None, false)],
            &["404", "412", "422"],
        ),
        R::RevokeUserSessions { .. } => op(
            "Revoke every active session of a user",
            "users",
            &["UserIdPath"],
            Some(("EmptyRequest", false)),
            vec![(
                "200",
                "How many sessions were revoked.",
                Some("RevokedSessions"),
                false,
            )],
            &["404", "409", "413", "422"],
        ),
        R::CreateSession => op(
            "Create a session and its first session token",
            "sessions",
            &[],
            Some(("CreateSessionRequest", true)),
            vec![(
                "201",
                "The session and its first token.",
                Some("CreatedSession"),
                false,
            )],
            &["404", "409", "413", "422"],
        ),
        R::ListSessions => op(
            "List sessions, newest first",
            "sessions",
            &["UserIdFilter", "StatusFilter", list[0], list[1]],
            None,
            vec![("200", "A page of sessions.", Some("SessionList"), false)],
            &["422"],
        ),
        R::GetSession { .. } => op(
            "Get a session",
            "sessions",
            &["SessionIdPath"],
            None,
            vec![("200", "The session.", Some("Session"), false)],
            &["404", "422"],
        ),
        R::RevokeSession { .. } => op(
            "Revoke a session",
            "sessions",
            &["SessionIdPath"],
            Some(("EmptyRequest", false)),
            vec![("200", "The session, revoked.", Some("Session"), false)],
            &["404", "409", "413", "422"],
        ),
        R::CreateSessionToken { .. } => op(
            "Mint a token of an active session (a session token, or a template's)",
            "sessions",
            &["SessionIdPath", "TemplateQuery"],
            Some(("EmptyRequest", false)),
            vec![("200", "The token.", Some("SessionToken"), false)],
            &["404", "409", "413", "422"],
        ),
        R::ListTemplates => op(
            "List JWT templates, newest first",
            "jwt_templates",
            &list,
            None,
            vec![(
                "200",
                "A page of templates.",
                Some("JwtTemplateList"),
                false,
            )],
            &["422"],
        ),
        R::PreviewTemplate => op(
            "Render claims for a user without saving them",
            "jwt_templates",
            &[],
            Some(("PreviewJwtTemplateRequest", true)),
            vec![(
                "200",
                "The rendered claims.",
                Some("JwtTemplatePreview"),
                false,
            )],
            &["400", "404", "409", "413", "422"],
        ),
        R::PutTemplate { .. } => op(
            "Create or replace a JWT template",
            "jwt_templates",
            &["TemplateNamePath", "IfMatch"],
            Some(("PutJwtTemplateRequest", true)),
            vec![
                ("200", "The template, replaced.", Some("JwtTemplate"), true),
                ("201", "The template, created.", Some("JwtTemplate"), true),
            ],
            &["400", "412", "413", "422"],
        ),
        R::GetTemplate { .. } => op(
            "Get a JWT template",
            "jwt_templates",
            &["TemplateNamePath"],
            None,
            vec![("200", "The template.", Some("JwtTemplate"), true)],
            &["404", "422"],
        ),
        R::DeleteTemplate { .. } => op(
            "Delete a JWT template",
            "jwt_templates",
            &["TemplateNamePath", "IfMatch"],
            None,
            vec![("204", "Deleted.", None, false)],
            &["404", "412", "422"],
        ),
        R::CreateApiKey => op(
            "Create a secret key",
            "api_keys",
            &[],
            Some(("CreateApiKeyRequest", true)),
            vec![(
                "201",
                "The key with its secret (shown once).",
                Some("ApiKeyWithSecret"),
                false,
            )],
            &["409", "413", "422"],
        ),
        R::ListApiKeys => op(
            "List secret keys, newest first (never their secrets)",
            "api_keys",
            &list,
            None,
            vec![("200", "A page of keys.", Some("ApiKeyList"), false)],
            &["422"],
        ),
        R::GetApiKey { .. } => op(
            "Get a secret key (never its secret)",
            "api_keys",
            &["KeyIdPath"],
            None,
            vec![("200", "The key.", Some("ApiKey"), false)],
            &["404", "422"],
        ),
        R::RollApiKey { .. } => op(
            "Roll a secret key: a new key with the same name and scopes",
            "api_keys",
            &["KeyIdPath"],
            Some(("RollApiKeyRequest", false)),
            vec![(
                "201",
                "The new key with its secret (shown once).",
                Some("ApiKeyWithSecret"),
                false,
            )],
            &["404", "409", "413", "422"],
        ),
        R::RevokeApiKey { .. } => op(
            "Revoke a secret key",
            "api_keys",
            &["KeyIdPath"],
            Some(("EmptyRequest", false)),
            vec![("200", "The key, revoked.", Some("ApiKey"), false)],
            &["404", "409", "413", "422"],
        ),
        R::ListSigningKeys => op(
            "List the signing-key versions",
            "signing_keys",
            &[],
            None,
            vec![(
                "200",
                "The versions not retired.",
                Some("SigningKeyList"),
                false,
            )],
            &["422"],
        ),
        R::RotateSigningKeys => op(
            "Rotate: publish a new signing key, which signs after the publish lead",
            "signing_keys",
            &[],
            Some(("EmptyRequest", false)),
            vec![("201", "The new version.", Some("SigningKey"), false)],
            &["409", "413", "422"],
        ),
    }
}

fn operation(route: &ApiRoute) -> Value {
    let op = op_of(route);
    let post = route.is_post();
    let mut params: Vec<Value> = op.params.iter().map(|p| param_ref(p)).collect();
    if post {
        params.push(param_ref("IdempotencyKey"));
    }
    let mut responses = Map::new();
    for (status, description, schema, etag) in &op.ok {
        responses.insert((*status).into(), success(description, *schema, *etag, post));
    }
    let access = required_scope(route);
    let mut errors: Vec<&str> = op.errors.clone();
    if !matches!(access, Access::Public) {
        errors.extend(["401", "429"]);
    }
    if matches!(access, Access::Key(_)) {
        errors.push("403");
    }
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        let name = if status == "429" {
            "RateLimited"
        } else {
            "Error"
        };
        responses.insert(status.into(), response_ref(name));
    }
    responses.insert("default".into(), response_ref("Error"));
    let (security, scope_text) = match access {
        Access::Public => (json!([]), String::from("Public: no key.")),
        Access::Operator => (
            json!([{ "operatorSecret": [] }]),
            String::from("The operator call: the Worker's operator secret, not a secret key."),
        ),
        Access::Key(scope) => (
            json!([{ "secretKey": [scope.as_str()], "applicationId": [] }]),
            format!("Requires scope `{}` (or `admin`).", scope.as_str()),
        ),
    };
    let mut out = json!({
        "operationId": route.operation_id(),
        "summary": op.summary,
        "description": scope_text,
        "tags": [op.tag],
        "security": security,
        "responses": responses,
    });
    if let Access::Key(scope) = access {
        set(&mut out, "x-required-scope", scope.as_str());
    }
    if !params.is_empty() {
        set(&mut out, "parameters", Value::Array(params));
    }
    if let Some((schema, required)) = op.body {
        set(&mut out, "requestBody", body(schema, required));
    }
    out
}

// ------------------------------------------------------------------ components

fn path_param(name: &str, schema: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "path", "required": true,
        "description": format!("{description} (percent-encoded as needed)."),
        "schema": r(schema),
    })
}

fn query_param(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn parameters() -> Value {
    json!({
        "UserIdPath": path_param("user_id", "UserId", "The user id"),
        "SessionIdPath": path_param("session_id", "SessionId", "The session id"),
        "TemplateNamePath": path_param("name", "TemplateName", "The template name"),
        "KeyIdPath": path_param("key_id", "KeyId", "The key id"),
        "Limit": query_param("limit", json!({
            "type": "integer", "minimum": MIN_LIMIT, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT,
        }), "Items per page (outside 1 to 100: `validation_failed`, never clamped)."),
        "StartingAfter": query_param("starting_after", r("Cursor"),
            "The `next_cursor` of the previous page."),
        "EmailFilter": query_param("email", text(MAX_EMAIL_BYTES), "Only the user with this email (exact)."),
        "UserIdFilter": query_param("user_id", r("UserId"), "Only this user's sessions."),
        "StatusFilter": query_param("status",
            json!({ "type": "string", "enum": ["active", "revoked", "expired"] }),
            "Only sessions in this state."),
        "TemplateQuery": query_param("template", r("TemplateName"),
            "Mint from this JWT template; absent: a session token."),
        "IdempotencyKey": {
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "For 24 h the same key with the same method, path and body replays the \
                first response (`idempotent-replayed: true`); with another request: \
                `idempotency_key_reused` (409); while the first is running: `conflict`.",
            "schema": {
                "type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_BYTES,
                "pattern": "^[!-~]+$",
            },
        },
        "IfMatch": {
            "name": "If-Match", "in": "header", "required": false,
            "description": "An `ETag` read before (or `*`): if the resource changed since, \
                `precondition_failed` (412). Weak tags never match.",
            "schema": { "type": "string", "maxLength": 1024 },
        },
    })
}

fn error_response(description: &str, retry_after: bool) -> Value {
    let mut headers = json!({ "x-request-id": header_ref("RequestId") });
    if retry_after {
        set(&mut headers, "Retry-After", header_ref("RetryAfter"));
    }
    json!({
        "description": description,
        "headers": headers,
        "content": { "application/json": { "schema": r("Error") } },
    })
}

fn components() -> Value {
    let mut schemas = schemas();
    set(
        &mut schemas,
        "OpenApiDocument",
        json!({
            "type": "object",
            "properties": { "openapi": { "type": "string" }, "paths": { "type": "object" } },
            "required": ["openapi", "paths"],
        }),
    );
    json!({
        "securitySchemes": {
            "secretKey": {
                "type": "http", "scheme": "bearer", "bearerFormat": "sk_test_… / sk_live_…",
                "description": "`Authorization: Bearer sk_…`: a secret key of the application. \
                    The scopes listed are the ones the operation requires (`admin` holds them all).",
            },
            "applicationId": {
                "type": "apiKey", "in": "header", "name": "x-application-id",
                "description": "The application (tenant) the key belongs to.",
            },
            "operatorSecret": {
                "type": "http", "scheme": "bearer",
                "description": "`Authorization: Bearer <operator secret>`: the Worker's operator \
                    secret, compared in constant time (only `POST /v1/applications`).",
            },
        },
        "schemas": schemas,
        "parameters": parameters(),
        "headers": {
            "ETag": {
                "description": "The strong tag of the user or template version (`\"v<version>-<updated_at>\"`).",
                "schema": { "type": "string" },
            },
            "RetryAfter": {
                "description": "Seconds to wait before retrying.",
                "schema": { "type": "integer", "minimum": 0 },
            },
            "RequestId": {
                "description": "The request's id (also `request_id` of an error body).",
                "schema": { "type": "string" },
            },
            "IdempotentReplayed": {
                "description": "`true` when this is the stored first response to the `Idempotency-Key`.",
                "schema": { "type": "string", "enum": ["true"] },
            },
        },
        "responses": {
            "Error": error_response(
                "An error: the status is always the code's (docs/errors.md, \"Backend API\").",
                false,
            ),
            "RateLimited": error_response("`rate_limited`: wait `Retry-After` seconds.", true),
        },
    })
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
