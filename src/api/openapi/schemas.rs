//! The OpenAPI document's schemas: helpers for JSON Schema values and every request and resource schema.

use super::*;

/// Sets member `key` of an object (a no-op on anything else).
pub(super) fn set(target: &mut Value, key: &str, value: impl Into<Value>) {
    if let Some(map) = target.as_object_mut() {
        map.insert(key.into(), value.into());
    }
}

pub(super) fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `schema` or `null` (an optional member: `null` means absent).
pub(super) fn or_null(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

pub(super) fn text(max: usize) -> Value {
    json!({ "type": "string", "maxLength": max, "pattern": NO_CONTROL })
}

pub(super) fn int(min: i64, max: i64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// A list of custom domains (DNS names; the Worker lowercases and sorts them).
pub(super) fn domains_schema() -> Value {
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

pub(super) fn timestamp() -> Value {
    json!({ "type": "integer", "description": "Seconds since the Unix epoch." })
}

/// A strict object: these properties, `required` of them, nothing else.
pub(super) fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

pub(super) fn with_description(mut schema: Value, description: &str) -> Value {
    if let Some(map) = schema.as_object_mut() {
        map.insert("description".into(), description.into());
    }
    schema
}

pub(super) fn list_of(item: &str) -> Value {
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

pub(super) fn metadata_description(bag: &str) -> String {
    format!(
        "The {bag} bag: a JSON object of at most {MAX_METADATA_BYTES} bytes of compact JSON, \
         nested at most {MAX_METADATA_DEPTH} levels."
    )
}

/// The members of a user in a create (`POST /v1/users`, a preview's inline `user`).
pub(super) fn user_input_properties() -> Value {
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

pub(super) fn template_claims() -> Value {
    json!({
        "type": "object",
        "description": "The template's claims: JSON whose strings may hold `{{user.…}}` shortcodes. \
            Checked by the template engine: its codes (`reserved_claim`, `unknown_shortcode`, \
            `private_metadata_not_allowed`, …) with a `pointer` into `claims`.",
    })
}

pub(super) fn template_lifetime() -> Value {
    or_null(with_description(
        int(MIN_TEMPLATE_LIFETIME_SECS, MAX_TEMPLATE_LIFETIME_SECS),
        "Token lifetime in seconds (out of range: `invalid_lifetime`).",
    ))
}

pub(super) fn schemas() -> Value {
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
