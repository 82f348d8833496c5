//! The OpenAPI document's shared components: parameters, error responses, headers, security schemes.

use super::*;

pub(super) fn path_param(name: &str, schema: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "path", "required": true,
        "description": format!("{description} (percent-encoded as needed)."),
        "schema": r(schema),
    })
}

pub(super) fn query_param(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

pub(super) fn parameters() -> Value {
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

pub(super) fn error_response(description: &str, retry_after: bool) -> Value {
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

pub(super) fn components() -> Value {
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
