//! Errors, one enum per phase, each mapped to a stable snake_case code.
//!
//! Codes are API: they are shared by the Rust core, the npm package and the edge's HTTP
//! responses, and never change meaning. Messages (`Display`) are for humans and may change.

use alloc::string::String;
use core::fmt;

/// A group of related codes (the sections of docs/errors.md), in documentation order.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeGroup {
    /// The token phase: the `Authorization` header, parsing, signature, claims.
    Token,
    /// Key sets: loading, fetching and caching JWKS.
    Keys,
    /// Tenants, their store, sessions and minting.
    Tenant,
    /// The gateway: routes, origin, edge assertions.
    Gateway,
    /// JWT templates (validated when saved, rendered at mint time).
    Template,
    /// User fields as templates see them.
    User,
    /// The edge's HTTP routes and its own faults.
    Http,
    /// The Backend API under `/v1`: secret keys, scopes, request validation, preconditions.
    Api,
}

/// Every group, in documentation order.
pub const ALL_GROUPS: &[CodeGroup] = &[
    CodeGroup::Token,
    CodeGroup::Keys,
    CodeGroup::Tenant,
    CodeGroup::Gateway,
    CodeGroup::Template,
    CodeGroup::User,
    CodeGroup::Http,
    CodeGroup::Api,
];

impl CodeGroup {
    /// The section title in docs/errors.md.
    pub const fn title(self) -> &'static str {
        match self {
            Self::Token => "Tokens: the `Authorization` header and the token itself",
            Self::Keys => "Key sets",
            Self::Tenant => "Tenants, sessions and minting",
            Self::Gateway => "The gateway and edge assertions",
            Self::Template => "JWT templates",
            Self::User => "Users (template data)",
            Self::Http => "Edge HTTP routes",
            Self::Api => "Backend API (`/v1`)",
        }
    }
}

/// Every stable error code the product emits, in one table: the core's errors, the
/// template, user and mint errors, the edge's HTTP replies and the npm package's own codes.
///
/// `as_str` gives the snake_case code; `http_status` the status the edge answers with;
/// `description` the one-line cause; `group` its section. Every error enum's `code()` is
/// `self.error_code().as_str()`, so no code exists outside this table.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No token: the `Authorization` header is missing or empty.
    MissingToken,
    /// The request is malformed: `Authorization` is not `Bearer <token>`, a header is repeated, or a body is not what the endpoint expects.
    InvalidRequest,
    /// The token is longer than the configured maximum.
    TokenTooLarge,
    /// The token is not a well-formed compact JWS/JWT (parts, base64url, JSON).
    MalformedToken,
    /// The header's `alg` is not `EdDSA`/`Ed25519`, or disagrees with the key.
    UnsupportedAlgorithm,
    /// The header carries a parameter we never honour (`jku`, `x5u`, `jwk`, `x5c`, `crit`, `b64`).
    UnsupportedHeader,
    /// The header's `typ` is not the one the policy expects.
    InvalidTokenType,
    /// No key in the set matches the token's `kid` (or `kid` is required and absent).
    UnknownKey,
    /// The signature does not verify.
    InvalidSignature,
    /// `exp` is in the past (beyond the allowed skew).
    TokenExpired,
    /// `nbf` is in the future (beyond the allowed skew).
    TokenNotYetValid,
    /// `iat` is in the future (beyond the allowed skew).
    TokenIssuedInFuture,
    /// `iat` is older than the policy's maximum token age.
    TokenTooOld,
    /// `iss` is not one of the accepted issuers.
    InvalidIssuer,
    /// `aud` does not contain an accepted audience.
    InvalidAudience,
    /// A required claim is absent.
    MissingClaim,
    /// A registered claim has the wrong JSON type.
    InvalidClaimType,
    /// The JWKS document is malformed or exceeds its bounds.
    InvalidJwks,
    /// A JWK is malformed, not an Ed25519 public key, weak, or carries private material.
    InvalidKey,
    /// No usable key set: fetching it failed and the last good one is too old (or absent).
    JwksUnavailable,
    /// npm package: a JWKS or discovery fetch made for this call failed and no cached set can be served.
    JwksFetchFailed,
    /// No tenant is configured for the request's host or `x-application-id`.
    TenantNotFound,
    /// The request's host names one tenant and its `x-application-id` another.
    TenantMismatch,
    /// The edge's store (D1) could not be read and nothing usable is cached.
    StorageUnavailable,
    /// The session behind a session token was revoked, has ended, or does not exist.
    SessionRevoked,
    /// No JWT template with the requested name exists for the tenant.
    JwtTemplateNotFound,
    /// Minting (Rust API): an input is empty, or the expiry is before 1970 or after year 9999.
    InvalidMintInput,
    /// npm package: the token endpoint could not be reached or answered something unexpected.
    TokenRequestFailed,
    /// Gateway: the verified claims do not meet the route's `roles` or `claims`.
    InsufficientScope,
    /// Gateway: the request path cannot be matched safely (encoded `/` or `\`, bad escapes).
    InvalidPath,
    /// Gateway: the path or the query string is longer than the gateway accepts.
    UriTooLong,
    /// Gateway: a verified claim the edge copies into a header holds a control character.
    InvalidClaimValue,
    /// Gateway: the route table configuration is invalid.
    InvalidRouteConfig,
    /// The edge could not reach the origin it fronts (gateway).
    OriginUnreachable,
    /// The origin did not send its response headers within `TORII_ORIGIN_TIMEOUT_MS`.
    OriginTimeout,
    /// An edge assertion is valid but bound to another method, URL or claims header.
    AssertionMismatch,
    /// A template is not a JSON object of claims, or fails to render.
    InvalidTemplate,
    /// A template, or the worst case of its rendered claims, exceeds its budget.
    TemplateTooLarge,
    /// A template sets a reserved claim.
    ReservedClaim,
    /// A template reads private metadata.
    PrivateMetadataNotAllowed,
    /// A template uses a well-formed shortcode that does not exist.
    UnknownShortcode,
    /// A template holds a malformed shortcode or fallback.
    InvalidShortcode,
    /// A token lifetime is outside 30 s … 86 400 s.
    InvalidLifetime,
    /// A user metadata bag is too large.
    MetadataTooLarge,
    /// A user metadata bag nests too deep.
    MetadataTooDeep,
    /// A user text field is empty (id), too long, or holds characters it may not hold.
    InvalidUserField,
    /// The edge serves no such path (or no such dev-mode record).
    NotFound,
    /// The path exists but not for this method.
    MethodNotAllowed,
    /// A request body exceeds its limit.
    PayloadTooLarge,
    /// Too many requests for one key (a session, a client address) in the limiter's period.
    RateLimited,
    /// The runtime failed under the edge (details go to the log).
    InternalError,
    /// The edge's configuration or stored data is unusable (details go to the log).
    Misconfigured,
    /// Backend API: no `Authorization: Bearer sk_…` secret key was presented.
    MissingApiKey,
    /// Backend API: the secret key is malformed, fails its checksum, is unknown, revoked or expired.
    InvalidApiKey,
    /// Backend API: the secret key belongs to another application or environment.
    ApplicationMismatch,
    /// Backend API: a key tried to create a key with scopes it does not hold itself.
    ScopeEscalation,
    /// Backend API: a request body or query parameter is refused (the reply names the field).
    ValidationFailed,
    /// Backend API: the write conflicts with an existing resource (a unique name or email).
    Conflict,
    /// Backend API: `If-Match` names a version that is no longer current.
    PreconditionFailed,
    /// Backend API: an `Idempotency-Key` was reused with a different request.
    IdempotencyKeyReused,
}

/// All codes, in documentation order: by group, the token codes first.
pub const ALL_CODES: &[ErrorCode] = &[
    ErrorCode::MissingToken,
    ErrorCode::InvalidRequest,
    ErrorCode::TokenTooLarge,
    ErrorCode::MalformedToken,
    ErrorCode::UnsupportedAlgorithm,
    ErrorCode::UnsupportedHeader,
    ErrorCode::InvalidTokenType,
    ErrorCode::UnknownKey,
    ErrorCode::InvalidSignature,
    ErrorCode::TokenExpired,
    ErrorCode::TokenNotYetValid,
    ErrorCode::TokenIssuedInFuture,
    ErrorCode::TokenTooOld,
    ErrorCode::InvalidIssuer,
    ErrorCode::InvalidAudience,
    ErrorCode::MissingClaim,
    ErrorCode::InvalidClaimType,
    ErrorCode::InvalidJwks,
    ErrorCode::InvalidKey,
    ErrorCode::JwksUnavailable,
    ErrorCode::JwksFetchFailed,
    ErrorCode::TenantNotFound,
    ErrorCode::TenantMismatch,
    ErrorCode::StorageUnavailable,
    ErrorCode::SessionRevoked,
    ErrorCode::JwtTemplateNotFound,
    ErrorCode::InvalidMintInput,
    ErrorCode::TokenRequestFailed,
    ErrorCode::InsufficientScope,
    ErrorCode::InvalidPath,
    ErrorCode::UriTooLong,
    ErrorCode::InvalidClaimValue,
    ErrorCode::InvalidRouteConfig,
    ErrorCode::OriginUnreachable,
    ErrorCode::OriginTimeout,
    ErrorCode::AssertionMismatch,
    ErrorCode::InvalidTemplate,
    ErrorCode::TemplateTooLarge,
    ErrorCode::ReservedClaim,
    ErrorCode::PrivateMetadataNotAllowed,
    ErrorCode::UnknownShortcode,
    ErrorCode::InvalidShortcode,
    ErrorCode::InvalidLifetime,
    ErrorCode::MetadataTooLarge,
    ErrorCode::MetadataTooDeep,
    ErrorCode::InvalidUserField,
    ErrorCode::NotFound,
    ErrorCode::MethodNotAllowed,
    ErrorCode::PayloadTooLarge,
    ErrorCode::RateLimited,
    ErrorCode::InternalError,
    ErrorCode::Misconfigured,
    ErrorCode::MissingApiKey,
    ErrorCode::InvalidApiKey,
    ErrorCode::ApplicationMismatch,
    ErrorCode::ScopeEscalation,
    ErrorCode::ValidationFailed,
    ErrorCode::Conflict,
    ErrorCode::PreconditionFailed,
    ErrorCode::IdempotencyKeyReused,
];

impl ErrorCode {
    /// The stable snake_case code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidRequest => "invalid_request",
            Self::TokenTooLarge => "token_too_large",
            Self::MalformedToken => "malformed_token",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedHeader => "unsupported_header",
            Self::InvalidTokenType => "invalid_token_type",
            Self::UnknownKey => "unknown_key",
            Self::InvalidSignature => "invalid_signature",
            Self::TokenExpired => "token_expired",
            Self::TokenNotYetValid => "token_not_yet_valid",
            Self::TokenIssuedInFuture => "token_issued_in_future",
            Self::TokenTooOld => "token_too_old",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
            Self::MissingClaim => "missing_claim",
            Self::InvalidClaimType => "invalid_claim_type",
            Self::InvalidJwks => "invalid_jwks",
            Self::InvalidKey => "invalid_key",
            Self::JwksUnavailable => "jwks_unavailable",
            Self::JwksFetchFailed => "jwks_fetch_failed",
            Self::TenantNotFound => "tenant_not_found",
            Self::TenantMismatch => "tenant_mismatch",
            Self::StorageUnavailable => "storage_unavailable",
            Self::SessionRevoked => "session_revoked",
            Self::JwtTemplateNotFound => "jwt_template_not_found",
            Self::InvalidMintInput => "invalid_mint_input",
            Self::TokenRequestFailed => "token_request_failed",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidPath => "invalid_path",
            Self::UriTooLong => "uri_too_long",
            Self::InvalidClaimValue => "invalid_claim_value",
            Self::InvalidRouteConfig => "invalid_route_config",
            Self::OriginUnreachable => "origin_unreachable",
            Self::OriginTimeout => "origin_timeout",
            Self::AssertionMismatch => "assertion_mismatch",
            Self::InvalidTemplate => "invalid_template",
            Self::TemplateTooLarge => "template_too_large",
            Self::ReservedClaim => "reserved_claim",
            Self::PrivateMetadataNotAllowed => "private_metadata_not_allowed",
            Self::UnknownShortcode => "unknown_shortcode",
            Self::InvalidShortcode => "invalid_shortcode",
            Self::InvalidLifetime => "invalid_lifetime",
            Self::MetadataTooLarge => "metadata_too_large",
            Self::MetadataTooDeep => "metadata_too_deep",
            Self::InvalidUserField => "invalid_user_field",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::InternalError => "internal_error",
            Self::Misconfigured => "misconfigured",
            Self::MissingApiKey => "missing_api_key",
            Self::InvalidApiKey => "invalid_api_key",
            Self::ApplicationMismatch => "application_mismatch",
            Self::ScopeEscalation => "scope_escalation",
            Self::ValidationFailed => "validation_failed",
            Self::Conflict => "conflict",
            Self::PreconditionFailed => "precondition_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
        }
    }

    /// The code for a snake_case string, if it is one of the table's.
    pub fn from_code(code: &str) -> Option<Self> {
        ALL_CODES.iter().copied().find(|c| c.as_str() == code)
    }

    /// The HTTP status the edge answers with when this code ends a request.
    ///
    /// A bad or absent token is 401; a malformed request is 400; a broken key set or
    /// configuration is the server's fault (500): it never lets a request through. Codes
    /// the edge itself never answers with (template, user and mint-input faults, the npm
    /// package's own codes) carry the status an HTTP API reporting them should use
    /// (400 for bad input); the npm package's `ToriiError.status` is this value.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::TenantMismatch
            | Self::InvalidMintInput
            | Self::InvalidPath
            | Self::InvalidTemplate
            | Self::TemplateTooLarge
            | Self::ReservedClaim
            | Self::PrivateMetadataNotAllowed
            | Self::UnknownShortcode
            | Self::InvalidShortcode
            | Self::InvalidLifetime
            | Self::MetadataTooLarge
            | Self::MetadataTooDeep
            | Self::InvalidUserField => 400,
            Self::MissingToken
            | Self::TokenTooLarge
            | Self::MalformedToken
            | Self::UnsupportedAlgorithm
            | Self::UnsupportedHeader
            | Self::InvalidTokenType
            | Self::UnknownKey
            | Self::InvalidSignature
            | Self::TokenExpired
            | Self::TokenNotYetValid
            | Self::TokenIssuedInFuture
            | Self::TokenTooOld
            | Self::InvalidIssuer
            | Self::InvalidAudience
            | Self::MissingClaim
            | Self::InvalidClaimType
            | Self::SessionRevoked
            | Self::InvalidClaimValue
            | Self::AssertionMismatch
            | Self::MissingApiKey
            | Self::InvalidApiKey
            | Self::ApplicationMismatch => 401,
            Self::InsufficientScope | Self::ScopeEscalation => 403,
            Self::TenantNotFound | Self::JwtTemplateNotFound | Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict | Self::IdempotencyKeyReused => 409,
            Self::PreconditionFailed => 412,
            Self::PayloadTooLarge => 413,
            Self::UriTooLong => 414,
            Self::ValidationFailed => 422,
            Self::RateLimited => 429,
            Self::InvalidJwks
            | Self::InvalidKey
            | Self::InvalidRouteConfig
            | Self::InternalError
            | Self::Misconfigured => 500,
            Self::TokenRequestFailed | Self::OriginUnreachable => 502,
            Self::OriginTimeout => 504,
            Self::JwksUnavailable | Self::JwksFetchFailed | Self::StorageUnavailable => 503,
        }
    }

    /// One line saying what causes this code (the cause column of docs/errors.md).
    pub const fn description(self) -> &'static str {
        match self {
            Self::MissingToken => "No `Authorization` header, or an empty one.",
            Self::InvalidRequest => "`Authorization` is present but not `Bearer <b64token>`; a header the edge reads is repeated; a dev-mode body is not the JSON it expects.",
            Self::TokenTooLarge => "The token is longer than `max_token_len` (default 8 KiB).",
            Self::MalformedToken => "Not three base64url parts (a `__session` cookie that is not a b64token included); non-canonical base64url; header or payload not a JSON object; duplicate JSON keys; JSON nested too deep; signature not 64 bytes.",
            Self::UnsupportedAlgorithm => "`alg` missing or not `EdDSA`/`Ed25519` (`none`, HS*, RS*, ES*...), or not the algorithm the key declares.",
            Self::UnsupportedHeader => "The header carries `jku`, `x5u`, `jwk`, `x5c`, `crit` or `b64`, or has too many parameters.",
            Self::InvalidTokenType => "`typ` is not what the policy expects (default: absent or `JWT`).",
            Self::UnknownKey => "No key with the token's `kid`; or no `kid` while the set holds several keys.",
            Self::InvalidSignature => "The Ed25519 signature does not verify (including non-canonical or small-order encodings).",
            Self::TokenExpired => "`now - skew >= exp`.",
            Self::TokenNotYetValid => "`nbf > now + skew`.",
            Self::TokenIssuedInFuture => "`iat > now + skew`.",
            Self::TokenTooOld => "`now - iat > max_age + skew` (only with a maximum token age).",
            Self::InvalidIssuer => "`iss` is not exactly one of the accepted issuers.",
            Self::InvalidAudience => "An audience is configured and `aud` (string or array) contains none of them.",
            Self::MissingClaim => "A required claim (default `exp`, `iss`, `sub`) is absent.",
            Self::InvalidClaimType => "A registered claim has the wrong JSON type (e.g. `exp` as a string, `aud` as a number).",
            Self::InvalidJwks => "The JWKS is not `{\"keys\":[...]}`, exceeds 64 KiB or 64 keys, has duplicate `kid`s or no usable key.",
            Self::InvalidKey => "A JWK is not `OKP`/`Ed25519`, has a bad `x`, is weak (small order / non-canonical), carries `d`, or forbids verification (`use`, `key_ops`, `alg`).",
            Self::JwksUnavailable => "The issuer's JWKS could not be fetched and no cached set is young enough (fail closed, with `Retry-After`).",
            Self::JwksFetchFailed => "npm package: the JWKS (or discovery document) fetch made for this call failed and no cached set can be served; `cause` says why.",
            Self::TenantNotFound => "No tenant for the request's host (`<tenant>.<TORII_BASE_DOMAIN>`, a custom domain in D1, loopback → `TORII_DEFAULT_TENANT`) or its `x-application-id`.",
            Self::TenantMismatch => "The host is `<tenant>.<TORII_BASE_DOMAIN>` (or a custom domain) of one tenant and `x-application-id` names another.",
            Self::StorageUnavailable => "D1 could not be read and the isolate holds no tenant data younger than 1 h (fail closed).",
            Self::SessionRevoked => "Minting: the session token's session was revoked, has ended, or does not exist (D1 `sessions`).",
            Self::JwtTemplateNotFound => "Minting: the tenant has no JWT template with the requested `template` name.",
            Self::InvalidMintInput => "Rust minting API: an empty issuer, tenant id, session id or `jti`, or `exp` outside 1970 … 9999 (the edge answers `misconfigured` instead).",
            Self::TokenRequestFailed => "npm package: `POST /_torii/auth/session/token` failed or answered something other than a token, `jwt_template_not_found` or a 401.",
            Self::InsufficientScope => "Gateway: a valid token whose `org_role` or claims do not meet the route's `roles`/`claims`. Backend API: the secret key lacks the endpoint's scope.",
            Self::InvalidPath => "Gateway: the path has an encoded `/`, `\\` or `%`, a raw `\\`, or a malformed escape.",
            Self::UriTooLong => "Gateway: the path is over 2048 bytes or the query over 4096 (checked before any matching).",
            Self::InvalidClaimValue => "Gateway: a verified `sub`, `sid`, `iss`, `org_id`, `org_role` or `aal` holds a control character (CR, LF, NUL…): never copied into a header, the request is refused.",
            Self::InvalidRouteConfig => "Gateway: `ROUTES` does not parse or breaks a rule (the edge logs it and answers `misconfigured`).",
            Self::OriginUnreachable => "The gateway could not connect to `ORIGIN_URL` (the request was not forwarded).",
            Self::OriginTimeout => "The origin sent no response headers within `TORII_ORIGIN_TIMEOUT_MS` (default 30 s); the request was aborted.",
            Self::AssertionMismatch => "Origin side: a valid edge assertion bound to another method, URL or `x-torii-claims` value.",
            Self::InvalidTemplate => "The template is not a JSON object (bad JSON, duplicate keys, nested deeper than 8), or its rendered claims are not UTF-8.",
            Self::TemplateTooLarge => "The template exceeds 4 KiB, or its worst-case rendered claims exceed the budget (default 1200 bytes).",
            Self::ReservedClaim => "A top-level key is a reserved claim (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`, `pid`, `sid`, `act`, `aal`, `azp`, `locale`, `org`, `org_id`, `org_role`).",
            Self::PrivateMetadataNotAllowed => "A shortcode reads `user.private_metadata` (never available in tokens).",
            Self::UnknownShortcode => "A well-formed shortcode that names no user field (e.g. `{{user.emial}}`).",
            Self::InvalidShortcode => "A malformed shortcode or fallback in a template string or key.",
            Self::InvalidLifetime => "A template's or a mint call's lifetime is outside 30 s … 86 400 s.",
            Self::MetadataTooLarge => "A metadata bag serializes to more than 512 bytes.",
            Self::MetadataTooDeep => "A metadata bag nests deeper than 8 levels.",
            Self::InvalidUserField => "A user field (`id`, `email`, names, a metadata bag) is empty, too long, of the wrong type or holds forbidden characters.",
            Self::NotFound => "No route for this path under `/_torii/` or `/.well-known/`, a gateway path routed to the edge, a dev-mode user that does not exist, or a Backend API resource (user, session, template, key) that does not exist in the application.",
            Self::MethodNotAllowed => "The path exists but not for this method (the reply has `Allow`).",
            Self::PayloadTooLarge => "A request body exceeds its limit (dev-mode helpers and the Backend API: 64 KiB).",
            Self::RateLimited => "Over a Workers Rate Limiting binding's limit (with `Retry-After`): mints per session (`MINT_LIMITER`), or requests naming tenants unknown to the isolate per client address (`TENANT_LIMITER`).",
            Self::InternalError => "The runtime failed under the edge (details in the log, never in the reply).",
            Self::Misconfigured => "`TORII_MASTER_SECRET` missing or short; bad `ORIGIN_URL`, `ROUTES` or `TRUSTED_ISSUERS`; a tenant without keys; a stored template or user row that no longer passes its checks at mint time.",
            Self::MissingApiKey => "Backend API: no `Authorization: Bearer sk_…` header (the operator call `POST /v1/applications` takes the Worker secret instead).",
            Self::InvalidApiKey => "Backend API: the key is not `sk_test_`/`sk_live_` + key id + `_` + secret + checksum (refused before any D1 read when the CRC32 fails), or it is unknown, revoked, expired, or its secret does not match.",
            Self::ApplicationMismatch => "Backend API: a valid key of another application than `x-application-id`, or of the other environment (`sk_test_` for production, `sk_live_` for development).",
            Self::ScopeEscalation => "Backend API: `POST /v1/api-keys` (or a roll) asks for scopes the calling key does not hold (`admin` holds them all).",
            Self::ValidationFailed => "Backend API: the body is not JSON, a field has the wrong type, is unknown, too long or out of range, a scope is unknown, metadata exceeds 512 bytes, or a query parameter (`limit` 1…100, a cursor) is invalid; `field` names it.",
            Self::Conflict => "Backend API: a unique value is taken (an API key name, a user email in the application).",
            Self::PreconditionFailed => "Backend API: `If-Match` does not match the resource's current `ETag` (a user or a JWT template changed since it was read).",
            Self::IdempotencyKeyReused => "Backend API: an `Idempotency-Key` seen in the last 24 h came with another method, path or body.",
        }
    }

    /// The group (section of docs/errors.md) this code belongs to.
    pub const fn group(self) -> CodeGroup {
        match self {
            Self::MissingToken
            | Self::InvalidRequest
            | Self::TokenTooLarge
            | Self::MalformedToken
            | Self::UnsupportedAlgorithm
            | Self::UnsupportedHeader
            | Self::InvalidTokenType
            | Self::UnknownKey
            | Self::InvalidSignature
            | Self::TokenExpired
            | Self::TokenNotYetValid
            | Self::TokenIssuedInFuture
            | Self::TokenTooOld
            | Self::InvalidIssuer
            | Self::InvalidAudience
            | Self::MissingClaim
            | Self::InvalidClaimType => CodeGroup::Token,
            Self::InvalidJwks
            | Self::InvalidKey
            | Self::JwksUnavailable
            | Self::JwksFetchFailed => CodeGroup::Keys,
            Self::TenantNotFound
            | Self::TenantMismatch
            | Self::StorageUnavailable
            | Self::SessionRevoked
            | Self::JwtTemplateNotFound
            | Self::InvalidMintInput
            | Self::TokenRequestFailed => CodeGroup::Tenant,
            Self::InsufficientScope
            | Self::InvalidPath
            | Self::UriTooLong
            | Self::InvalidClaimValue
            | Self::InvalidRouteConfig
            | Self::OriginUnreachable
            | Self::OriginTimeout
            | Self::AssertionMismatch => CodeGroup::Gateway,
            Self::InvalidTemplate
            | Self::TemplateTooLarge
            | Self::ReservedClaim
            | Self::PrivateMetadataNotAllowed
            | Self::UnknownShortcode
            | Self::InvalidShortcode
            | Self::InvalidLifetime => CodeGroup::Template,
            Self::MetadataTooLarge | Self::MetadataTooDeep | Self::InvalidUserField => {
                CodeGroup::User
            }
            Self::NotFound
            | Self::MethodNotAllowed
            | Self::PayloadTooLarge
            | Self::RateLimited
            | Self::InternalError
            | Self::Misconfigured => CodeGroup::Http,
            Self::MissingApiKey
            | Self::InvalidApiKey
            | Self::ApplicationMismatch
            | Self::ScopeEscalation
            | Self::ValidationFailed
            | Self::Conflict
            | Self::PreconditionFailed
            | Self::IdempotencyKeyReused => CodeGroup::Api,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token was not accepted (the token phase: header, parsing, signature, claims).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No token was given.
    MissingToken,
    /// The `Authorization` header is malformed.
    InvalidRequest,
    /// The token exceeds the maximum length.
    TokenTooLarge {
        /// The token's length in bytes.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The token is not well formed; the reason is for humans.
    MalformedToken(&'static str),
    /// The algorithm is not accepted.
    UnsupportedAlgorithm,
    /// A header parameter we never honour is present.
    UnsupportedHeader(&'static str),
    /// `typ` does not match the policy.
    InvalidTokenType,
    /// No matching key.
    UnknownKey,
    /// The signature does not verify.
    InvalidSignature,
    /// The token has expired.
    TokenExpired {
        /// The token's `exp`.
        exp: i64,
        /// The time of the check.
        now: i64,
    },
    /// The token is not valid yet.
    TokenNotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The time of the check.
        now: i64,
    },
    /// The token was issued in the future.
    TokenIssuedInFuture {
        /// The token's `iat`.
        iat: i64,
        /// The time of the check.
        now: i64,
    },
    /// The token is older than the maximum age.
    TokenTooOld {
        /// The token's `iat`.
        iat: i64,
        /// The time of the check.
        now: i64,
    },
    /// The issuer is not accepted.
    InvalidIssuer,
    /// The audience is not accepted.
    InvalidAudience,
    /// A required claim is missing.
    MissingClaim(String),
    /// A claim has the wrong JSON type.
    InvalidClaimType(String),
}

impl VerifyError {
    /// The error's entry in the code table.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::MissingToken => ErrorCode::MissingToken,
            Self::InvalidRequest => ErrorCode::InvalidRequest,
            Self::TokenTooLarge { .. } => ErrorCode::TokenTooLarge,
            Self::MalformedToken(_) => ErrorCode::MalformedToken,
            Self::UnsupportedAlgorithm => ErrorCode::UnsupportedAlgorithm,
            Self::UnsupportedHeader(_) => ErrorCode::UnsupportedHeader,
            Self::InvalidTokenType => ErrorCode::InvalidTokenType,
            Self::UnknownKey => ErrorCode::UnknownKey,
            Self::InvalidSignature => ErrorCode::InvalidSignature,
            Self::TokenExpired { .. } => ErrorCode::TokenExpired,
            Self::TokenNotYetValid { .. } => ErrorCode::TokenNotYetValid,
            Self::TokenIssuedInFuture { .. } => ErrorCode::TokenIssuedInFuture,
            Self::TokenTooOld { .. } => ErrorCode::TokenTooOld,
            Self::InvalidIssuer => ErrorCode::InvalidIssuer,
            Self::InvalidAudience => ErrorCode::InvalidAudience,
            Self::MissingClaim(_) => ErrorCode::MissingClaim,
            Self::InvalidClaimType(_) => ErrorCode::InvalidClaimType,
        }
    }

    /// The stable snake_case code, e.g. `token_expired`.
    pub const fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingToken => f.write_str("no bearer token was given"),
            Self::InvalidRequest => f.write_str("the Authorization header is not `Bearer <token>`"),
            Self::TokenTooLarge { len, max } => {
                write!(f, "token is {len} bytes, the maximum is {max}")
            }
            Self::MalformedToken(why) => write!(f, "malformed token: {why}"),
            Self::UnsupportedAlgorithm => {
                f.write_str("only EdDSA (Ed25519) tokens matching the key's algorithm are accepted")
            }
            Self::UnsupportedHeader(name) => write!(f, "header parameter `{name}` is not accepted"),
            Self::InvalidTokenType => f.write_str("unexpected `typ` header"),
            Self::UnknownKey => f.write_str("no matching key in the key set"),
            Self::InvalidSignature => f.write_str("signature verification failed"),
            Self::TokenExpired { exp, now } => write!(f, "token expired at {exp} (now {now})"),
            Self::TokenNotYetValid { nbf, now } => {
                write!(f, "token not valid before {nbf} (now {now})")
            }
            Self::TokenIssuedInFuture { iat, now } => {
                write!(f, "token issued in the future at {iat} (now {now})")
            }
            Self::TokenTooOld { iat, now } => {
                write!(f, "token issued at {iat} is too old (now {now})")
            }
            Self::InvalidIssuer => f.write_str("issuer not accepted"),
            Self::InvalidAudience => f.write_str("audience not accepted"),
            Self::MissingClaim(c) => write!(f, "required claim `{c}` is missing"),
            Self::InvalidClaimType(c) => write!(f, "claim `{c}` has the wrong JSON type"),
        }
    }
}

impl core::error::Error for VerifyError {}

/// Why a key or key set was refused (the key-loading phase).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The JWKS document is malformed or out of bounds; the reason is for humans.
    InvalidJwks(&'static str),
    /// A key is malformed, weak, private or not usable for verification.
    InvalidKey(&'static str),
}

impl KeyError {
    /// The error's entry in the code table.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::InvalidJwks(_) => ErrorCode::InvalidJwks,
            Self::InvalidKey(_) => ErrorCode::InvalidKey,
        }
    }

    /// The stable snake_case code, `invalid_jwks` or `invalid_key`.
    pub const fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJwks(why) => write!(f, "invalid JWKS: {why}"),
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
        }
    }
}

impl core::error::Error for KeyError {}
