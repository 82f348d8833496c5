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

/// Declares [`ErrorCode`] from one table: each row is a variant (its doc comment is the
/// short description) `= (code, HTTP status, group, cause)`, in documentation order, and
/// the macro writes the enum, [`ALL_CODES`], `as_str`, `http_status`, `group` and
/// `description` from it, so a code cannot exist in one without the others.
macro_rules! code_table {
    ($(
        $(#[$doc:meta])*
        $variant:ident = ($code:literal, $status:literal, $group:ident, $cause:literal),
    )*) => {
        /// Every stable error code the product emits, in one table: the core's errors, the
        /// template, user and mint errors, the edge's HTTP replies, the Backend API's and the
        /// npm package's own codes.
        ///
        /// `as_str` gives the snake_case code; `http_status` the status the edge answers
        /// with; `description` the one-line cause; `group` its section. Every error enum's
        /// `code()` is `self.error_code().as_str()`, so no code exists outside this table.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        /// All codes, in documentation order: by group, the token codes first.
        pub const ALL_CODES: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

        impl ErrorCode {
            /// The stable snake_case code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// The HTTP status the edge answers with when this code ends a request.
            ///
            /// A bad or absent token is 401; a malformed request is 400; a broken key set
            /// or configuration is the server's fault (500): it never lets a request
            /// through. Codes the edge itself never answers with (template, user and
            /// mint-input faults, the npm package's own codes) carry the status an HTTP API
            /// reporting them should use (400 for bad input); the npm package's
            /// `ToriiError.status` is this value.
            pub const fn http_status(self) -> u16 {
                match self {
                    $(Self::$variant => $status,)*
                }
            }

            /// One line saying what causes this code (the cause column of docs/errors.md).
            pub const fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => $cause,)*
                }
            }

            /// The group (section of docs/errors.md) this code belongs to.
            pub const fn group(self) -> CodeGroup {
                match self {
                    $(Self::$variant => CodeGroup::$group,)*
                }
            }
        }
    };
}

code_table! {
    /// No token: the `Authorization` header is missing or empty.
    MissingToken = ("missing_token", 401, Token,
        "No `Authorization` header, or an empty one."),
    /// The request is malformed: `Authorization` is not `Bearer <token>`, a header is repeated, or a body is not what the endpoint expects.
    InvalidRequest = ("invalid_request", 400, Token,
        "`Authorization` is present but not `Bearer <b64token>`; a header the edge reads is repeated; a dev-mode body is not the JSON it expects."),
    /// The token is longer than the configured maximum.
    TokenTooLarge = ("token_too_large", 401, Token,
        "The token is longer than `max_token_len` (default 8 KiB)."),
    /// The token is not a well-formed compact JWS/JWT (parts, base64url, JSON).
    MalformedToken = ("malformed_token", 401, Token,
        "Not three base64url parts (a `__session` cookie that is not a b64token included); non-canonical base64url; header or payload not a JSON object; duplicate JSON keys; JSON nested too deep; signature not 64 bytes."),
    /// The header's `alg` is not `EdDSA`/`Ed25519`, or disagrees with the key.
    UnsupportedAlgorithm = ("unsupported_algorithm", 401, Token,
        "`alg` missing or not `EdDSA`/`Ed25519` (`none`, HS*, RS*, ES*...), or not the algorithm the key declares."),
    /// The header carries a parameter we never honour (`jku`, `x5u`, `jwk`, `x5c`, `crit`, `b64`).
    UnsupportedHeader = ("unsupported_header", 401, Token,
        "The header carries `jku`, `x5u`, `jwk`, `x5c`, `crit` or `b64`, or has too many parameters."),
    /// The header's `typ` is not the one the policy expects.
    InvalidTokenType = ("invalid_token_type", 401, Token,
        "`typ` is not what the policy expects (default: absent or `JWT`)."),
    /// No key in the set matches the token's `kid` (or `kid` is required and absent).
    UnknownKey = ("unknown_key", 401, Token,
        "No key with the token's `kid`; or no `kid` while the set holds several keys."),
    /// The signature does not verify.
    InvalidSignature = ("invalid_signature", 401, Token,
        "The Ed25519 signature does not verify (including non-canonical or small-order encodings)."),
    /// `exp` is in the past (beyond the allowed skew).
    TokenExpired = ("token_expired", 401, Token,
        "`now - skew >= exp`."),
    /// `nbf` is in the future (beyond the allowed skew).
    TokenNotYetValid = ("token_not_yet_valid", 401, Token,
        "`nbf > now + skew`."),
    /// `iat` is in the future (beyond the allowed skew).
    TokenIssuedInFuture = ("token_issued_in_future", 401, Token,
        "`iat > now + skew`."),
    /// `iat` is older than the policy's maximum token age.
    TokenTooOld = ("token_too_old", 401, Token,
        "`now - iat > max_age + skew` (only with a maximum token age)."),
    /// `iss` is not one of the accepted issuers.
    InvalidIssuer = ("invalid_issuer", 401, Token,
        "`iss` is not exactly one of the accepted issuers."),
    /// `aud` does not contain an accepted audience.
    InvalidAudience = ("invalid_audience", 401, Token,
        "An audience is configured and `aud` (string or array) contains none of them."),
    /// A required claim is absent.
    MissingClaim = ("missing_claim", 401, Token,
        "A required claim (default `exp`, `iss`, `sub`) is absent."),
    /// A registered claim has the wrong JSON type.
    InvalidClaimType = ("invalid_claim_type", 401, Token,
        "A registered claim has the wrong JSON type (e.g. `exp` as a string, `aud` as a number)."),
    /// The JWKS document is malformed or exceeds its bounds.
    InvalidJwks = ("invalid_jwks", 500, Keys,
        "The JWKS is not `{\"keys\":[...]}`, exceeds 64 KiB or 64 keys, has duplicate `kid`s or no usable key."),
    /// A JWK is malformed, not an Ed25519 public key, weak, or carries private material.
    InvalidKey = ("invalid_key", 500, Keys,
        "A JWK is not `OKP`/`Ed25519`, has a bad `x`, is weak (small order / non-canonical), carries `d`, or forbids verification (`use`, `key_ops`, `alg`)."),
    /// No usable key set: fetching it failed and the last good one is too old (or absent).
    JwksUnavailable = ("jwks_unavailable", 503, Keys,
        "The issuer's JWKS could not be fetched and no cached set is young enough (fail closed, with `Retry-After`)."),
    /// npm package: a JWKS or discovery fetch made for this call failed and no cached set can be served.
    JwksFetchFailed = ("jwks_fetch_failed", 503, Keys,
        "npm package: the JWKS (or discovery document) fetch made for this call failed and no cached set can be served; `cause` says why."),
    /// No tenant is configured for the request's host or `x-application-id`.
    TenantNotFound = ("tenant_not_found", 404, Tenant,
        "No tenant for the request's host (`<tenant>.<TORII_BASE_DOMAIN>`, a custom domain in D1, loopback → `TORII_DEFAULT_TENANT`) or its `x-application-id`."),
    /// The request's host names one tenant and its `x-application-id` another.
    TenantMismatch = ("tenant_mismatch", 400, Tenant,
        "The host is `<tenant>.<TORII_BASE_DOMAIN>` (or a custom domain) of one tenant and `x-application-id` names another."),
    /// The edge's store (D1) could not be read and nothing usable is cached.
    StorageUnavailable = ("storage_unavailable", 503, Tenant,
        "D1 could not be read and the isolate holds no tenant data younger than 1 h (fail closed)."),
    /// The session behind a session token was revoked, has ended, or does not exist.
    SessionRevoked = ("session_revoked", 401, Tenant,
        "Minting: the session token's session was revoked, has ended, or does not exist (D1 `sessions`)."),
    /// No JWT template with the requested name exists for the tenant.
    JwtTemplateNotFound = ("jwt_template_not_found", 404, Tenant,
        "Minting: the tenant has no JWT template with the requested `template` name."),
    /// Minting (Rust API): an input is empty, or the expiry is before 1970 or after year 9999.
    InvalidMintInput = ("invalid_mint_input", 400, Tenant,
        "Rust minting API: an empty issuer, tenant id, session id or `jti`, or `exp` outside 1970 … 9999 (the edge answers `misconfigured` instead)."),
    /// npm package: the token endpoint could not be reached or answered something unexpected.
    TokenRequestFailed = ("token_request_failed", 502, Tenant,
        "npm package: `POST /_torii/auth/session/token` failed or answered something other than a token, `jwt_template_not_found` or a 401."),
    /// Gateway: the verified claims do not meet the route's `roles` or `claims`.
    InsufficientScope = ("insufficient_scope", 403, Gateway,
        "Gateway: a valid token whose `org_role` or claims do not meet the route's `roles`/`claims`. Backend API: the secret key lacks the endpoint's scope."),
    /// Gateway: the request path cannot be matched safely (encoded `/` or `\`, bad escapes).
    InvalidPath = ("invalid_path", 400, Gateway,
        "Gateway: the path has an encoded `/`, `\\` or `%`, a raw `\\`, or a malformed escape."),
    /// Gateway: the path or the query string is longer than the gateway accepts.
    UriTooLong = ("uri_too_long", 414, Gateway,
        "Gateway: the path is over 2048 bytes or the query over 4096 (checked before any matching)."),
    /// Gateway: a verified claim the edge copies into a header holds a control character.
    InvalidClaimValue = ("invalid_claim_value", 401, Gateway,
        "Gateway: a verified `sub`, `sid`, `iss`, `org_id`, `org_role` or `aal` holds a control character (CR, LF, NUL…): never copied into a header, the request is refused."),
    /// Gateway: the route table configuration is invalid.
    InvalidRouteConfig = ("invalid_route_config", 500, Gateway,
        "Gateway: `ROUTES` does not parse or breaks a rule (the edge logs it and answers `misconfigured`)."),
    /// The edge could not reach the origin it fronts (gateway).
    OriginUnreachable = ("origin_unreachable", 502, Gateway,
        "The gateway could not connect to `ORIGIN_URL` (the request was not forwarded)."),
    /// The origin did not send its response headers within `TORII_ORIGIN_TIMEOUT_MS`.
    OriginTimeout = ("origin_timeout", 504, Gateway,
        "The origin sent no response headers within `TORII_ORIGIN_TIMEOUT_MS` (default 30 s); the request was aborted."),
    /// An edge assertion is valid but bound to another method, URL or claims header.
    AssertionMismatch = ("assertion_mismatch", 401, Gateway,
        "Origin side: a valid edge assertion bound to another method, URL or `x-torii-claims` value."),
    /// A template is not a JSON object of claims, or fails to render.
    InvalidTemplate = ("invalid_template", 400, Template,
        "The template is not a JSON object (bad JSON, duplicate keys, nested deeper than 8), or its rendered claims are not UTF-8."),
    /// A template, or the worst case of its rendered claims, exceeds its budget.
    TemplateTooLarge = ("template_too_large", 400, Template,
        "The template exceeds 4 KiB, or its worst-case rendered claims exceed the budget (default 1200 bytes)."),
    /// A template sets a reserved claim.
    ReservedClaim = ("reserved_claim", 400, Template,
        "A top-level key is a reserved claim (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`, `pid`, `sid`, `act`, `aal`, `azp`, `locale`, `org`, `org_id`, `org_role`)."),
    /// A template reads private metadata.
    PrivateMetadataNotAllowed = ("private_metadata_not_allowed", 400, Template,
        "A shortcode reads `user.private_metadata` (never available in tokens)."),
    /// A template uses a well-formed shortcode that does not exist.
    UnknownShortcode = ("unknown_shortcode", 400, Template,
        "A well-formed shortcode that names no user field (e.g. `{{user.emial}}`)."),
    /// A template holds a malformed shortcode or fallback.
    InvalidShortcode = ("invalid_shortcode", 400, Template,
        "A malformed shortcode or fallback in a template string or key."),
    /// A token lifetime is outside 30 s … 86 400 s.
    InvalidLifetime = ("invalid_lifetime", 400, Template,
        "A template's or a mint call's lifetime is outside 30 s … 86 400 s."),
    /// A user metadata bag is too large.
    MetadataTooLarge = ("metadata_too_large", 400, User,
        "A metadata bag serializes to more than 512 bytes."),
    /// A user metadata bag nests too deep.
    MetadataTooDeep = ("metadata_too_deep", 400, User,
        "A metadata bag nests deeper than 8 levels."),
    /// A user text field is empty (id), too long, or holds characters it may not hold.
    InvalidUserField = ("invalid_user_field", 400, User,
        "A user field (`id`, `email`, names, a metadata bag) is empty, too long, of the wrong type or holds forbidden characters."),
    /// The edge serves no such path (or no such dev-mode record).
    NotFound = ("not_found", 404, Http,
        "No route for this path under `/_torii/` or `/.well-known/`, a gateway path routed to the edge, a dev-mode user that does not exist, or a Backend API resource (user, session, template, key) that does not exist in the application."),
    /// The path exists but not for this method.
    MethodNotAllowed = ("method_not_allowed", 405, Http,
        "The path exists but not for this method (the reply has `Allow`)."),
    /// A request body exceeds its limit.
    PayloadTooLarge = ("payload_too_large", 413, Http,
        "A request body exceeds its limit (dev-mode helpers and the Backend API: 64 KiB)."),
    /// Too many requests for one key (a session, a client address) in the limiter's period.
    RateLimited = ("rate_limited", 429, Http,
        "Over a Workers Rate Limiting binding's limit (with `Retry-After`): mints per session (`MINT_LIMITER`), requests naming tenants unknown to the isolate per client address (`TENANT_LIMITER`), or Backend API calls per secret key (`API_LIMITER`)."),
    /// The runtime failed under the edge (details go to the log).
    InternalError = ("internal_error", 500, Http,
        "The runtime failed under the edge (details in the log, never in the reply)."),
    /// The edge's configuration or stored data is unusable (details go to the log).
    Misconfigured = ("misconfigured", 500, Http,
        "`TORII_MASTER_SECRET` missing or short; bad `ORIGIN_URL`, `ROUTES` or `TRUSTED_ISSUERS`; a tenant without keys; a stored template or user row that no longer passes its checks at mint time."),
    /// Backend API: no `Authorization: Bearer sk_…` secret key was presented.
    MissingApiKey = ("missing_api_key", 401, Api,
        "Backend API: no `Authorization: Bearer sk_…` header (the operator call `POST /v1/applications` takes the Worker secret instead)."),
    /// Backend API: the secret key is malformed, fails its checksum, is unknown, revoked or expired.
    InvalidApiKey = ("invalid_api_key", 401, Api,
        "Backend API: the key is not `sk_test_`/`sk_live_` + key id + `_` + secret + checksum (refused before any D1 read when the CRC32 fails), or it is unknown, revoked, expired, or its secret does not match."),
    /// Backend API: the secret key belongs to another application or environment.
    ApplicationMismatch = ("application_mismatch", 401, Api,
        "Backend API: a valid key of another application than `x-application-id`, or of the other environment (`sk_test_` for production, `sk_live_` for development)."),
    /// Backend API: a key tried to create a key with scopes it does not hold itself.
    ScopeEscalation = ("scope_escalation", 403, Api,
        "Backend API: `POST /v1/api-keys` (or a roll) asks for scopes the calling key does not hold (`admin` holds them all)."),
    /// Backend API: a request body or query parameter is refused (the reply names the field).
    ValidationFailed = ("validation_failed", 422, Api,
        "Backend API: the body is not JSON, a field has the wrong type, is unknown, too long or out of range, a scope is unknown, metadata exceeds 512 bytes, or a query parameter (`limit` 1…100, a cursor) is invalid; `field` names it."),
    /// Backend API: the write conflicts with an existing resource (a unique name or email).
    Conflict = ("conflict", 409, Api,
        "Backend API: a unique value is taken (an API key name, a user email in the application, an application id, issuer or custom domain)."),
    /// Backend API: `If-Match` names a version that is no longer current.
    PreconditionFailed = ("precondition_failed", 412, Api,
        "Backend API: `If-Match` does not match the resource's current `ETag` (a user or a JWT template changed since it was read)."),
    /// Backend API: an `Idempotency-Key` was reused with a different request.
    IdempotencyKeyReused = ("idempotency_key_reused", 409, Api,
        "Backend API: an `Idempotency-Key` seen in the last 24 h came with another method, path or body."),
}

impl ErrorCode {
    /// The code for a snake_case string, if it is one of the table's.
    pub fn from_code(code: &str) -> Option<Self> {
        ALL_CODES.iter().copied().find(|c| c.as_str() == code)
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
