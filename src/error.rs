//! Errors, one enum per phase, each mapped to a stable snake_case code.
//!
//! Codes are API: they are shared by the Rust core, the npm package and the edge's HTTP
//! responses, and never change meaning. Messages (`Display`) are for humans and may change.

use alloc::string::String;
use core::fmt;

/// Every stable error code the core produces, in one table.
///
/// `as_str` gives the snake_case code; `http_status` the status the edge answers with.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No token: the `Authorization` header is missing or empty.
    MissingToken,
    /// The `Authorization` header is present but is not `Bearer <token>`.
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
    /// The edge could not reach the origin it fronts (gateway).
    OriginUnreachable,
    /// No tenant is configured for the request's host or `x-application-id`.
    TenantNotFound,
    /// The session behind a session token was revoked, has ended, or does not exist.
    SessionRevoked,
    /// No JWT template with the requested name exists for the tenant.
    JwtTemplateNotFound,
    /// The edge's store (D1) could not be read and nothing usable is cached.
    StorageUnavailable,
    /// Gateway: the verified claims do not meet the route's `roles` or `claims`.
    InsufficientScope,
    /// Gateway: the request path cannot be matched safely (encoded `/` or `\`, bad escapes).
    InvalidPath,
    /// Gateway: the path or the query string is longer than the gateway accepts.
    UriTooLong,
    /// Gateway: a verified claim the edge copies into a header holds a control character.
    InvalidClaimValue,
}

/// All codes, in documentation order.
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
    ErrorCode::OriginUnreachable,
    ErrorCode::TenantNotFound,
    ErrorCode::SessionRevoked,
    ErrorCode::JwtTemplateNotFound,
    ErrorCode::StorageUnavailable,
    ErrorCode::InsufficientScope,
    ErrorCode::InvalidPath,
    ErrorCode::UriTooLong,
    ErrorCode::InvalidClaimValue,
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
            Self::OriginUnreachable => "origin_unreachable",
            Self::TenantNotFound => "tenant_not_found",
            Self::SessionRevoked => "session_revoked",
            Self::JwtTemplateNotFound => "jwt_template_not_found",
            Self::StorageUnavailable => "storage_unavailable",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidPath => "invalid_path",
            Self::UriTooLong => "uri_too_long",
            Self::InvalidClaimValue => "invalid_claim_value",
        }
    }

    /// The HTTP status the edge answers with when this code ends a request.
    ///
    /// A bad or absent token is 401; a malformed `Authorization` header is 400; a broken
    /// key set is the server's fault (500): it never lets a request through.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest | Self::InvalidPath => 400,
            Self::InsufficientScope => 403,
            Self::UriTooLong => 414,
            Self::InvalidJwks | Self::InvalidKey => 500,
            Self::JwksUnavailable | Self::StorageUnavailable => 503,
            Self::OriginUnreachable => 502,
            Self::TenantNotFound | Self::JwtTemplateNotFound => 404,
            _ => 401,
        }
    }

    /// One line saying what causes this code (used for the README table).
    pub const fn description(self) -> &'static str {
        match self {
            Self::MissingToken => "No `Authorization` header, or an empty one.",
            Self::InvalidRequest => "`Authorization` is present but not `Bearer <b64token>`.",
            Self::TokenTooLarge => "The token is longer than `max_token_len` (default 8 KiB).",
            Self::MalformedToken => "Not three base64url parts; non-canonical base64url; header or payload not a JSON object; duplicate JSON keys; JSON nested too deep; signature not 64 bytes.",
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
            Self::OriginUnreachable => "The gateway could not connect to `ORIGIN_URL` (the request was not forwarded).",
            Self::TenantNotFound => "No tenant for the request's host (`<tenant>.<TORII_BASE_DOMAIN>`, a custom domain in D1, loopback → `TORII_DEFAULT_TENANT`) or its `x-application-id`.",
            Self::SessionRevoked => "Minting: the session token's session was revoked, has ended, or does not exist (D1 `sessions`).",
            Self::JwtTemplateNotFound => "Minting: the tenant has no JWT template with the requested `template` name.",
            Self::StorageUnavailable => "D1 could not be read and the isolate holds no tenant data younger than 1 h (fail closed).",
            Self::InsufficientScope => "Gateway: a valid token whose `org_role` or claims do not meet the route's `roles`/`claims`.",
            Self::InvalidPath => "Gateway: the path has an encoded `/`, `\\` or `%`, a raw `\\`, or a malformed escape.",
            Self::UriTooLong => "Gateway: the path is over 2048 bytes or the query over 4096 (checked before any matching).",
            Self::InvalidClaimValue => "Gateway: a verified `sub`, `sid`, `iss`, `org_id`, `org_role` or `aal` holds a control character (CR, LF, NUL…): never copied into a header, the request is refused.",
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
