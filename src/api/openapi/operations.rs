//! The OpenAPI document's operations: one per documented route (summary, scope, parameters, body, responses).

use super::*;

pub(super) fn param_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

pub(super) fn response_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

pub(super) fn header_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/headers/{name}") })
}

/// A success response: `schema` (a component name; `None`: no body), with `x-request-id`
/// (and `ETag` when `etag`, `idempotent-replayed` for a `POST`).
pub(super) fn success(description: &str, schema: Option<&str>, etag: bool, post: bool) -> Value {
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

pub(super) fn body(schema: &str, required: bool) -> Value {
    json!({
        "required": required,
        "content": { "application/json": { "schema": r(schema) } },
    })
}

/// What one operation takes and answers.
pub(super) struct Op {
    summary: &'static str,
    tag: &'static str,
    params: Vec<&'static str>,
    body: Option<(&'static str, bool)>,
    /// `(status, description, schema, etag)`.
    ok: Vec<(&'static str, &'static str, Option<&'static str>, bool)>,
    /// Extra error statuses (besides those every keyed call may get).
    errors: Vec<&'static str>,
}

pub(super) fn op_of(route: &ApiRoute) -> Op {
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

pub(super) fn operation(route: &ApiRoute) -> Value {
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
