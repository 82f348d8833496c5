//! Token minting: session tokens and named-template tokens, signed with a caller-supplied
//! key at a caller-supplied time.
//!
//! * **Session token** (`typ: "JWT"`, [`SESSION_TOKEN_TYP`]): the standard claims `iss`,
//!   `sub` (the user id), `pid` (tenant/application id), `sid`, `iat`, `exp`, then `aal`,
//!   `locale`, `org_id`, `org_role`, `act` and `jti` when given, plus the default template's
//!   claims when there is one. A verifier with the default [`Policy`](crate::Policy)
//!   (`typ` absent or `JWT`) accepts it.
//! * **Template token** (`typ: "torii-template+jwt"`, [`TEMPLATE_TOKEN_TYP`]): the same
//!   standard claims plus the named template's claims, with the template's lifetime or
//!   the environment default. The distinct `typ` means a session verifier (default
//!   policy) refuses it with `invalid_token_type`, and a template verifier
//!   (`TypPolicy::Exact(TEMPLATE_TOKEN_TYP)`) refuses session tokens: a token handed to
//!   a third party can never be replayed as a session token.
//! * The template's claims are rendered first, skipping any member named like a reserved
//!   claim, and the standard claims are written **last**: nothing a template renders can
//!   replace them, even if validation were bypassed.
//! * Lifetimes are 30 s … 86 400 s (`invalid_lifetime`). `exp` must fit in year 9999,
//!   because `expiresAt` is an ISO 8601 UTC string (`invalid_mint_input` otherwise, also
//!   for an empty issuer, tenant id, session id or `jti`).
//! * Private metadata has no path into a token: templates cannot select it and minting
//!   never reads it.

use crate::encoding::b64;
use crate::error::ErrorCode;
use crate::jose::sign::{finish_jws, SigningKey};
use crate::templates::engine::{
    Template, MAX_TEMPLATE_LIFETIME_SECS, MIN_TEMPLATE_LIFETIME_SECS, RESERVED_CLAIMS,
};
use crate::templates::user::User;
use crate::time::UnixTime;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

/// `typ` header of session tokens.
pub const SESSION_TOKEN_TYP: &str = "JWT";
/// `typ` header of named-template tokens (never accepted where a session token is expected).
pub const TEMPLATE_TOKEN_TYP: &str = "torii-template+jwt";
/// The reserved claim a template token carries its template's name in (`"tpl": "hasura"`):
/// a gateway route accepts template tokens only of the templates it names.
pub const TEMPLATE_NAME_CLAIM: &str = "tpl";
/// Last second representable as an ISO 8601 date with a 4-digit year (9999-12-31T23:59:59Z).
pub const MAX_ISO8601_SECS: i64 = 253_402_300_799;

/// Why a token was not minted.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MintError {
    /// The lifetime is outside 30 s … 86 400 s.
    InvalidLifetime {
        /// The lifetime asked for, in seconds.
        secs: i64,
    },
    /// An input is empty, or `now + lifetime` is before 1970 or after year 9999.
    InvalidMintInput(&'static str),
}

impl MintError {
    /// The stable snake_case code: `invalid_lifetime` or `invalid_mint_input`.
    pub const fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The error's entry in the code table.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::InvalidLifetime { .. } => ErrorCode::InvalidLifetime,
            Self::InvalidMintInput(_) => ErrorCode::InvalidMintInput,
        }
    }
}

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidLifetime { secs } => {
                write!(f, "lifetime {secs} s is outside {MIN_TEMPLATE_LIFETIME_SECS}..={MAX_TEMPLATE_LIFETIME_SECS} s")
            }
            Self::InvalidMintInput(why) => write!(f, "invalid mint input: {why}"),
        }
    }
}

impl core::error::Error for MintError {}

/// Who and what a token is minted for: the session's standard claims.
#[derive(Debug, Clone)]
pub struct SessionInput<'a> {
    issuer: &'a str,
    tenant_id: &'a str,
    user: &'a User,
    session_id: &'a str,
    aal: Option<&'a str>,
    locale: Option<&'a str>,
    org_id: Option<&'a str>,
    org_role: Option<&'a str>,
    act: Option<&'a Map<String, Value>>,
}

impl<'a> SessionInput<'a> {
    /// The mandatory parts: `iss`, `pid` (tenant/application id), the user (`sub`) and
    /// `sid`.
    pub fn new(issuer: &'a str, tenant_id: &'a str, user: &'a User, session_id: &'a str) -> Self {
        Self {
            issuer,
            tenant_id,
            user,
            session_id,
            aal: None,
            locale: None,
            org_id: None,
            org_role: None,
            act: None,
        }
    }

    /// Sets `aal` (authenticator assurance level).
    #[must_use]
    pub fn with_aal(mut self, aal: &'a str) -> Self {
        self.aal = Some(aal);
        self
    }

    /// Sets `locale`.
    #[must_use]
    pub fn with_locale(mut self, locale: &'a str) -> Self {
        self.locale = Some(locale);
        self
    }

    /// Sets the active organization: `org_id` and `org_role`.
    #[must_use]
    pub fn with_org(mut self, org_id: &'a str, org_role: &'a str) -> Self {
        self.org_id = Some(org_id);
        self.org_role = Some(org_role);
        self
    }

    /// Sets `act`, the actor of an impersonation session.
    #[must_use]
    pub fn with_act(mut self, act: &'a Map<String, Value>) -> Self {
        self.act = Some(act);
        self
    }

    /// The user.
    pub fn user(&self) -> &User {
        self.user
    }
}

/// A minted token, as the edge returns it: `{ "accessToken", "expiresAt" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The compact JWT.
    pub access_token: String,
    /// `exp` as ISO 8601 UTC, e.g. `2026-11-24T06:00:00Z`.
    pub expires_at: String,
    /// `exp`, in seconds since the epoch.
    pub exp: i64,
}

impl MintedToken {
    /// `{"accessToken":…,"expiresAt":…}`, the HTTP response body.
    pub fn to_json(&self) -> String {
        let mut body = Map::new();
        body.insert("accessToken".into(), self.access_token.as_str().into());
        body.insert("expiresAt".into(), self.expires_at.as_str().into());
        Value::Object(body).to_string()
    }
}

/// Mints a session token: standard claims plus the default template's claims, if any.
pub fn mint_session_token(
    key: &SigningKey,
    input: &SessionInput<'_>,
    default_template: Option<&Template>,
    now: UnixTime,
    lifetime_secs: i64,
    jti: Option<&str>,
) -> Result<MintedToken, MintError> {
    prepare_session_token(key.kid(), input, default_template, now, lifetime_secs, jti)
        .map(|t| sign_with(key, t))
}

/// Mints a named-template token: standard claims, `tpl` = `name`, plus `template`'s
/// claims, living for the template's lifetime or else `default_lifetime_secs`.
pub fn mint_template_token(
    key: &SigningKey,
    input: &SessionInput<'_>,
    name: &str,
    template: &Template,
    now: UnixTime,
    default_lifetime_secs: i64,
    jti: Option<&str>,
) -> Result<MintedToken, MintError> {
    prepare_template_token(
        key.kid(),
        input,
        name,
        template,
        now,
        default_lifetime_secs,
        jti,
    )
    .map(|t| sign_with(key, t))
}

fn sign_with(key: &SigningKey, token: UnsignedToken) -> MintedToken {
    let signature = key.sign_raw(token.signing_input.as_bytes());
    token.finish(&signature)
}

/// A minted token before its signature: what [`mint_session_token`] and
/// [`mint_template_token`] sign, for adapters that sign with a native primitive (the
/// Worker signs with WebCrypto). [`UnsignedToken::finish`] appends the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedToken {
    /// The JWS signing input, `base64url(header) "." base64url(claims)`: the bytes to sign
    /// with the Ed25519 key whose `kid` the header names.
    pub signing_input: String,
    /// `exp` as ISO 8601 UTC.
    pub expires_at: String,
    /// `exp`, in seconds since the epoch.
    pub exp: i64,
}

impl UnsignedToken {
    /// The minted token, given the Ed25519 signature over [`UnsignedToken::signing_input`].
    pub fn finish(self, signature: &[u8; 64]) -> MintedToken {
        MintedToken {
            access_token: finish_jws(self.signing_input, signature),
            expires_at: self.expires_at,
            exp: self.exp,
        }
    }
}

/// [`mint_session_token`] without the signature, for the key `kid`.
pub fn prepare_session_token(
    kid: &str,
    input: &SessionInput<'_>,
    default_template: Option<&Template>,
    now: UnixTime,
    lifetime_secs: i64,
    jti: Option<&str>,
) -> Result<UnsignedToken, MintError> {
    prepare(
        kid,
        SESSION_TOKEN_TYP,
        input,
        default_template.map(|t| ("", t)),
        now,
        lifetime_secs,
        jti,
    )
}

/// [`mint_template_token`] without the signature, for the key `kid`.
pub fn prepare_template_token(
    kid: &str,
    input: &SessionInput<'_>,
    name: &str,
    template: &Template,
    now: UnixTime,
    default_lifetime_secs: i64,
    jti: Option<&str>,
) -> Result<UnsignedToken, MintError> {
    let lifetime = template.lifetime().unwrap_or(default_lifetime_secs);
    let name = non_empty(name, "empty template name")?;
    prepare(
        kid,
        TEMPLATE_TOKEN_TYP,
        input,
        Some((name, template)),
        now,
        lifetime,
        jti,
    )
}

fn non_empty<'a>(value: &'a str, what: &'static str) -> Result<&'a str, MintError> {
    if value.is_empty() {
        Err(MintError::InvalidMintInput(what))
    } else {
        Ok(value)
    }
}

fn prepare(
    kid: &str,
    typ: &str,
    input: &SessionInput<'_>,
    template: Option<(&str, &Template)>,
    now: UnixTime,
    lifetime: i64,
    jti: Option<&str>,
) -> Result<UnsignedToken, MintError> {
    // The template's name is stamped only in template tokens (the default template of a
    // session token has none).
    let (name, template) = match template {
        Some((name, t)) => (Some(name).filter(|n| !n.is_empty()), Some(t)),
        None => (None, None),
    };
    if !(MIN_TEMPLATE_LIFETIME_SECS..=MAX_TEMPLATE_LIFETIME_SECS).contains(&lifetime) {
        return Err(MintError::InvalidLifetime { secs: lifetime });
    }
    let iss = non_empty(input.issuer, "empty issuer")?;
    let pid = non_empty(input.tenant_id, "empty tenant id")?;
    let sid = non_empty(input.session_id, "empty session id")?;
    let jti = jti.map(|j| non_empty(j, "empty jti")).transpose()?;
    let exp = now
        .0
        .checked_add(lifetime)
        .filter(|e| (0..=MAX_ISO8601_SECS).contains(e) && now.0 >= 0);
    let exp = exp.ok_or(MintError::InvalidMintInput("time outside 1970..=9999"))?;
    let expires_at =
        iso8601_utc(exp).ok_or(MintError::InvalidMintInput("time outside 1970..=9999"))?;

    // Template claims first, rendered straight to JSON; members named like a reserved
    // claim are dropped (validation already refuses them: this is defence in depth), then
    // the standard claims are written last.
    let mut payload =
        Vec::with_capacity(256 + template.map_or(0, |t| t.worst_case_size().min(4096)));
    payload.push(b'{');
    let mut first = template.is_none_or(|t| {
        t.write_members(input.user, &mut payload, true, |k| {
            RESERVED_CLAIMS.contains(&k)
        })
    });
    let mut put = |name: &str, v: &Value| {
        if !first {
            payload.push(b',');
        }
        first = false;
        payload.extend_from_slice(Value::from(name).to_string().as_bytes());
        payload.push(b':');
        payload.extend_from_slice(v.to_string().as_bytes());
    };
    put("iss", &iss.into());
    put("sub", &input.user.id().into());
    put("pid", &pid.into());
    put("sid", &sid.into());
    put("iat", &now.0.into());
    put("exp", &exp.into());
    let optional = [
        ("aal", input.aal),
        ("locale", input.locale),
        ("org_id", input.org_id),
        ("org_role", input.org_role),
        ("jti", jti),
        (TEMPLATE_NAME_CLAIM, name),
    ];
    for (name, v) in optional {
        if let Some(v) = v {
            put(name, &v.into());
        }
    }
    if let Some(act) = input.act {
        put("act", &Value::Object(act.clone()));
    }
    payload.push(b'}');
    let mut header = Map::new();
    header.insert("alg".into(), "EdDSA".into());
    header.insert("kid".into(), kid.into());
    header.insert("typ".into(), typ.into());
    let mut signing_input = b64::encode(Value::Object(header).to_string().as_bytes());
    signing_input.push('.');
    signing_input.push_str(&b64::encode(&payload));
    Ok(UnsignedToken {
        signing_input,
        expires_at,
        exp,
    })
}

/// Default lifetime of minted session and template tokens, in seconds
/// (`TORII_TOKEN_LIFETIME_SECS`).
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 60;

/// The lifetime of minted tokens from `TORII_TOKEN_LIFETIME_SECS`: a whole number of
/// seconds clamped to 30 s … 24 h; absent or not a number, the 60 s default.
pub fn token_lifetime(raw: Option<&str>) -> i64 {
    raw.and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS)
        .clamp(MIN_TEMPLATE_LIFETIME_SECS, MAX_TEMPLATE_LIFETIME_SECS)
}

/// The lifetime of a session token minted at `now` for a session ending at
/// `session_expires_at`: `lifetime`, but never outliving the session by more than the
/// 30 s minimum lifetime.
pub fn session_token_lifetime(lifetime: i64, session_expires_at: i64, now: i64) -> i64 {
    let left = session_expires_at.saturating_sub(now);
    lifetime.min(left).max(MIN_TEMPLATE_LIFETIME_SECS)
}

/// A stored session, as minting sees it.
#[derive(Debug, Clone, Copy)]
pub struct SessionState<'a> {
    /// Its tenant.
    pub tenant_id: &'a str,
    /// Its user.
    pub user_id: &'a str,
    /// `active` or `revoked`.
    pub status: &'a str,
    /// When it ends, in seconds since the epoch.
    pub expires_at: i64,
}

impl SessionState<'_> {
    /// Whether it may mint at `now` for `tenant` and `user`: active, not ended, and theirs
    /// (a session of another tenant or user is as good as revoked).
    pub fn can_mint(&self, tenant: &str, user: &str, now: i64) -> bool {
        self.tenant_id == tenant
            && self.user_id == user
            && self.status == "active"
            && self.expires_at > now
    }
}

/// Formats seconds since the epoch as ISO 8601 UTC, `YYYY-MM-DDTHH:MM:SSZ`; `None`
/// outside 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
///
/// Proleptic Gregorian calendar, via Howard Hinnant's `civil_from_days`; no date crate.
pub fn iso8601_utc(secs: i64) -> Option<String> {
    if !(0..=MAX_ISO8601_SECS).contains(&secs) {
        return None;
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    Some(alloc::format!(
        "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"
    ))
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Even a template that skipped validation cannot replace a standard claim nor set
    /// another reserved one (`aud`, `nbf` here).
    #[test]
    fn standard_claims_written_last() {
        let forged = br#"{"iss":"https://evil","sub":"admin","pid":"other","sid":"x","iat":0,"exp":9999999999,
            "aal":"aal9","locale":"xx","org_id":"org_evil","org_role":"owner","act":{"sub":"evil"},"jti":"j0","aud":"evil","nbf":0,"tpl":"admin","keep":1}"#;
        let template = Template::parse_unchecked(forged).unwrap();
        let user = User::new("user_1").unwrap();
        let act = Map::from_iter([("sub".to_string(), Value::from("user_admin"))]);
        let input = SessionInput::new("https://torii.test", "app_1", &user, "sess_1")
            .with_aal("aal1")
            .with_locale("fr-FR")
            .with_org("org_1", "member")
            .with_act(&act);
        let key = SigningKey::from_seed(&[1; 32]);
        let minted = mint_template_token(
            &key,
            &input,
            "hasura",
            &template,
            UnixTime(1_000),
            60,
            Some("jti_1"),
        )
        .unwrap();
        let payload = minted.access_token.split('.').nth(1).unwrap();
        let claims: Map<String, Value> =
            serde_json::from_slice(&crate::encoding::b64::decode(payload).unwrap()).unwrap();
        let expect = [
            ("iss", Value::from("https://torii.test")),
            ("sub", "user_1".into()),
            ("pid", "app_1".into()),
            ("sid", "sess_1".into()),
            ("iat", 1_000.into()),
            ("exp", 1_060.into()),
            ("aal", "aal1".into()),
            ("locale", "fr-FR".into()),
            ("org_id", "org_1".into()),
            ("org_role", "member".into()),
            ("act", Value::Object(act.clone())),
            ("jti", "jti_1".into()),
            ("tpl", "hasura".into()),
            ("keep", 1.into()),
        ];
        assert_eq!(
            claims,
            Map::from_iter(expect.into_iter().map(|(k, v)| (k.to_string(), v)))
        );
    }

    #[test]
    fn prepared_tokens_signed_elsewhere_are_the_minted_tokens() {
        let user = User::new("user_1").unwrap();
        let input = SessionInput::new("https://torii.test", "app_1", &user, "sess_1");
        let template = Template::parse(br#"{"role": "admin"}"#)
            .unwrap()
            .with_lifetime(120)
            .unwrap();
        let key = SigningKey::from_seed(&[3; 32]);
        let now = UnixTime(1_000);
        let minted = mint_session_token(&key, &input, Some(&template), now, 60, None).unwrap();
        let unsigned =
            prepare_session_token(key.kid(), &input, Some(&template), now, 60, None).unwrap();
        let sig = key.sign_raw(unsigned.signing_input.as_bytes());
        assert_eq!(unsigned.finish(&sig), minted);
        let minted = mint_template_token(&key, &input, "t", &template, now, 60, Some("j")).unwrap();
        let unsigned =
            prepare_template_token(key.kid(), &input, "t", &template, now, 60, Some("j")).unwrap();
        assert_eq!(unsigned.exp, 1_120);
        let sig = key.sign_raw(unsigned.signing_input.as_bytes());
        assert_eq!(unsigned.finish(&sig), minted);
        assert!(prepare_template_token(key.kid(), &input, "", &template, now, 60, None).is_err());
    }

    #[test]
    fn civil_from_days_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
    }

    #[test]
    fn token_and_session_lifetimes() {
        assert_eq!(token_lifetime(None), DEFAULT_TOKEN_LIFETIME_SECS);
        assert_eq!(token_lifetime(Some(" 120 ")), 120);
        assert_eq!(token_lifetime(Some("5")), 30);
        assert_eq!(token_lifetime(Some("999999")), 86_400);
        assert_eq!(token_lifetime(Some("soon")), DEFAULT_TOKEN_LIFETIME_SECS);
        assert_eq!(session_token_lifetime(60, 1_000, 100), 60);
        assert_eq!(session_token_lifetime(600, 1_000, 900), 100);
        assert_eq!(session_token_lifetime(600, 1_000, 990), 30);
        assert_eq!(session_token_lifetime(600, 1_000, 5_000), 30);
    }

    #[test]
    fn only_active_unexpired_sessions_of_this_tenant_and_user_mint() {
        let s = |status, expires_at| SessionState {
            tenant_id: "demo",
            user_id: "user_1",
            status,
            expires_at,
        };
        assert!(s("active", 100).can_mint("demo", "user_1", 99));
        assert!(!s("active", 100).can_mint("demo", "user_1", 100));
        assert!(!s("revoked", 100).can_mint("demo", "user_1", 99));
        assert!(!s("active", 100).can_mint("acme", "user_1", 99));
        assert!(!s("active", 100).can_mint("demo", "user_2", 99));
    }
}
