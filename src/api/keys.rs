//! Backend API secret keys: format, checksum, hashing and constant-time verification.
//!
//! A secret key is made for leak scanning (GitHub's token format):
//!
//! ```text
//! sk_live_ 7Hq2pXk9aB3d _ <43 base62 chars: 256 random bits> <6 base62 chars: CRC32>
//! └prefix┘ └─key id───┘
//! ```
//!
//! * the prefix names the environment (`sk_test_`: development, `sk_live_`: production);
//! * the key id (12 base62 chars, 71 random bits) is public: it is the D1 lookup key and
//!   shows in listings;
//! * the secret is 32 caller-supplied random bytes written as exactly 43 base62 digits;
//! * the checksum is the CRC32 (IEEE) of everything before it, as 6 base62 digits, so a
//!   mistyped or truncated key is refused by [`parse_secret_key`] before any D1 read, and
//!   a scanner can tell a real key from a look-alike.
//!
//! D1 stores the key id and a [`SecretHash`] of the whole key (SHA-256, or HMAC-SHA256
//! with a [`Pepper`]), never the key; [`verify_secret`] compares in constant time.

use super::error::ApiError;
use crate::error::ErrorCode;
use alloc::string::String;
use alloc::vec::Vec;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The base62 alphabet of keys: digits, upper case, lower case.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of a key id, in base62 characters.
pub const KEY_ID_LEN: usize = 12;
/// Length of the secret part, in base62 characters (32 bytes: 256 bits).
pub const SECRET_LEN: usize = 43;
/// Length of the checksum, in base62 characters (a CRC32).
pub const CHECKSUM_LEN: usize = 6;
/// Random bytes [`generate_secret_key`] takes: 9 for the key id (71 bits used), 32 for
/// the secret.
pub const KEY_RANDOM_BYTES: usize = 41;
/// Length of every secret key (both prefixes are 8 bytes).
pub const SECRET_KEY_LEN: usize = 8 + KEY_ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN;

/// An application's environment: it decides the prefix of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// `development`: keys start `sk_test_`.
    Development,
    /// `production`: keys start `sk_live_`.
    Production,
}

impl Environment {
    /// `development` or `production` (the D1 and JSON value).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }

    /// The environment named `s` (`development` or `production`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "development" => Some(Self::Development),
            "production" => Some(Self::Production),
            _ => None,
        }
    }

    /// The prefix of this environment's secret keys: `sk_test_` or `sk_live_`.
    pub const fn key_prefix(self) -> &'static str {
        match self {
            Self::Development => "sk_test_",
            Self::Production => "sk_live_",
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial `0xEDB88320`, as zlib and PNG), bitwise.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `bytes` as a big-endian integer in exactly `width` base62 digits (left-padded with
/// `0`); `None` if it needs more.
fn base62_fixed(bytes: &[u8], width: usize) -> Option<String> {
    let mut num: Vec<u8> = bytes.to_vec();
    let mut digits: Vec<u8> = Vec::with_capacity(width);
    while num.iter().any(|&b| b != 0) {
        let mut rem: u32 = 0;
        for b in &mut num {
            let cur = (rem << 8) | u32::from(*b);
            // cur < 62 * 256, so the quotient fits a byte.
            *b = u8::try_from(cur / 62).ok()?;
            rem = cur % 62;
        }
        digits.push(*BASE62.get(usize::try_from(rem).ok()?)?);
    }
    if digits.len() > width {
        return None;
    }
    digits.resize(width, b'0');
    digits.reverse();
    String::from_utf8(digits).ok()
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The checksum of `body` (everything before it): its CRC32 in 6 base62 digits.
fn checksum(body: &str) -> String {
    base62_fixed(&crc32(body.as_bytes()).to_be_bytes(), CHECKSUM_LEN).unwrap_or_default()
}

/// A newly generated key: `secret` is shown once and never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    /// The whole secret key (`sk_…`), returned once to the caller.
    pub secret: String,
    /// Its public key id (the D1 lookup key).
    pub key_id: String,
    /// Its environment.
    pub env: Environment,
}

impl core::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("key_id", &self.key_id)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

impl GeneratedKey {
    /// The display prefix, e.g. `sk_live_7Hq2pXk9aB3d` (see [`display_prefix`]).
    pub fn prefix(&self) -> String {
        display_prefix(self.env, &self.key_id)
    }

    /// The last four characters, for listings (see [`last_four`]).
    pub fn last_four(&self) -> &str {
        last_four(&self.secret)
    }
}

/// A new secret key for `env` from [`KEY_RANDOM_BYTES`] caller-supplied random bytes
/// (the first 9 make the key id, the last 32 the secret).
pub fn generate_secret_key(env: Environment, random: &[u8; KEY_RANDOM_BYTES]) -> GeneratedKey {
    let (id_bytes, secret_bytes) = random.split_at(9);
    let mut id_bytes: Vec<u8> = id_bytes.to_vec();
    if let Some(top) = id_bytes.first_mut() {
        *top &= 0x7F; // 71 bits: 2^71 < 62^12
    }
    let key_id = base62_fixed(&id_bytes, KEY_ID_LEN).unwrap_or_default();
    let secret = base62_fixed(secret_bytes, SECRET_LEN).unwrap_or_default();
    let mut out = String::with_capacity(SECRET_KEY_LEN);
    out.push_str(env.key_prefix());
    out.push_str(&key_id);
    out.push('_');
    out.push_str(&secret);
    let sum = checksum(&out);
    out.push_str(&sum);
    GeneratedKey {
        secret: out,
        key_id,
        env,
    }
}

/// A secret key whose format and checksum are valid (not yet looked up).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    /// The environment its prefix names.
    pub env: Environment,
    /// Its public key id.
    pub key_id: &'a str,
    /// The whole key as presented (hash it with [`hash_secret`]).
    pub secret: &'a str,
}

impl core::fmt::Debug for ParsedKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ParsedKey")
            .field("env", &self.env)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ParsedKey<'_> {
    /// The display prefix (see [`display_prefix`]).
    pub fn prefix(&self) -> String {
        display_prefix(self.env, self.key_id)
    }

    /// The last four characters (see [`last_four`]).
    pub fn last_four(&self) -> &str {
        last_four(self.secret)
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidApiKey, message)
}

/// Checks a presented secret key's prefix, length, alphabet and checksum, without I/O.
/// Empty → `missing_api_key`; anything else wrong → `invalid_api_key`.
pub fn parse_secret_key(presented: &str) -> Result<ParsedKey<'_>, ApiError> {
    if presented.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingApiKey, "no secret key"));
    }
    let (env, rest) = if let Some(rest) = presented.strip_prefix("sk_test_") {
        (Environment::Development, rest)
    } else if let Some(rest) = presented.strip_prefix("sk_live_") {
        (Environment::Production, rest)
    } else {
        return Err(invalid("a secret key starts with sk_test_ or sk_live_"));
    };
    if presented.len() != SECRET_KEY_LEN || !rest.is_ascii() {
        return Err(invalid("the secret key has the wrong length"));
    }
    let (key_id, rest) = rest
        .split_at_checked(KEY_ID_LEN)
        .ok_or_else(|| invalid("short"))?;
    let tail = rest
        .strip_prefix('_')
        .ok_or_else(|| invalid("the secret key is malformed"))?;
    if !is_base62(key_id) || !is_base62(tail) {
        return Err(invalid("the secret key holds characters outside base62"));
    }
    let body_len = presented.len().saturating_sub(CHECKSUM_LEN);
    let (body, sum) = presented
        .split_at_checked(body_len)
        .ok_or_else(|| invalid("short"))?;
    if checksum(body).as_bytes().ct_eq(sum.as_bytes()).unwrap_u8() != 1 {
        return Err(invalid(
            "the secret key's checksum does not match (mistyped or truncated?)",
        ));
    }
    Ok(ParsedKey {
        env,
        key_id,
        secret: presented,
    })
}

/// The secret key of an `Authorization` header: `Bearer <key>` (scheme case-insensitive).
/// No header or an empty one → `missing_api_key`; another scheme or a bad key →
/// `invalid_api_key`.
pub fn secret_key_from_authorization(header: Option<&str>) -> Result<ParsedKey<'_>, ApiError> {
    let header = header.map(str::trim).unwrap_or_default();
    if header.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingApiKey,
            "send `Authorization: Bearer sk_…`",
        ));
    }
    if header.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::new(ErrorCode::MissingApiKey, "no secret key"));
    }
    let (scheme, key) = header
        .split_once(' ')
        .ok_or_else(|| invalid("`Authorization` is not `Bearer <secret key>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid("`Authorization` is not `Bearer <secret key>`"));
    }
    let key = key.trim_start_matches(' ');
    if key.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingApiKey, "no secret key"));
    }
    parse_secret_key(key)
}

/// The display prefix of a key: its environment prefix and key id, e.g.
/// `sk_live_7Hq2pXk9aB3d` (never secret).
pub fn display_prefix(env: Environment, key_id: &str) -> String {
    let mut out = String::from(env.key_prefix());
    out.push_str(key_id);
    out
}

/// The last four characters of a key (part of its checksum), for listings.
pub fn last_four(secret: &str) -> &str {
    let start = secret.len().saturating_sub(4);
    secret.get(start..).unwrap_or_default()
}

/// A server-side key for HMAC-ing secrets ("pepper"): a D1 leak alone then does not let
/// anyone test guesses. Derive it from the Worker secret with [`Pepper::derive`].
#[derive(Clone)]
pub struct Pepper([u8; 32]);

impl core::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Pepper(..)")
    }
}

impl Pepper {
    /// A pepper from 32 bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The pepper derived from a master secret with HKDF-SHA256 (RFC 5869):
    /// salt = `torii-edge/api-key-pepper/v1`, ikm = `master_secret`, no info.
    pub fn derive(master_secret: &[u8]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"torii-edge/api-key-pepper/v1"), master_secret);
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's output limit: expand cannot fail.
        let _ = hk.expand(&[], &mut okm);
        Self(okm)
    }
}

/// The stored form of a secret key: 32 bytes (SHA-256 or HMAC-SHA256 of the whole key).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl core::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretHash({})", self.to_hex())
    }
}

impl SecretHash {
    /// Lower-case hex (64 characters), as D1 stores it.
    pub fn to_hex(&self) -> String {
        crate::encoding::hex::encode(&self.0)
    }

    /// From 64 hex characters (either case); `None` otherwise.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let s = core::str::from_utf8(pair).ok()?;
            *slot = u8::from_str_radix(s, 16).ok()?;
        }
        Some(Self(out))
    }
}

/// The hash of a whole secret key: HMAC-SHA256 keyed with `pepper`, or plain SHA-256
/// without one.
pub fn hash_secret(secret: &str, pepper: Option<&Pepper>) -> SecretHash {
    match pepper {
        None => SecretHash(Sha256::digest(secret.as_bytes()).into()),
        Some(Pepper(p)) => {
            // HMAC pads a short key with zeros to the block size: keying with the padded
            // 64 bytes is HMAC with the 32-byte pepper, and cannot fail.
            let mut key = [0u8; 64];
            for (k, b) in key.iter_mut().zip(p.iter()) {
                *k = *b;
            }
            let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&key.into());
            mac.update(secret.as_bytes());
            SecretHash(mac.finalize().into_bytes().into())
        }
    }
}

/// Whether `presented` hashes to `stored` (same `pepper` as at creation), compared in
/// constant time. A stored value that is not 32 bytes never matches.
pub fn verify_secret(stored: &[u8], presented: &str, pepper: Option<&Pepper>) -> bool {
    let hash = hash_secret(presented, pepper);
    stored.len() == 32 && bool::from(hash.0.as_slice().ct_eq(stored))
}

/// Whether `presented` equals the operator secret `expected`, in constant time (both are
/// hashed first, so neither their contents nor their lengths leak through timing). An
/// empty `expected` (no secret configured) never matches.
pub fn operator_secret_matches(expected: &str, presented: &str) -> bool {
    if expected.is_empty() {
        return false;
    }
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

/// `last_used_at` is written at most once per this many seconds per key.
pub const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// Whether a call at `now` should record itself in the key's `last_used_at` (never
/// recorded, or last recorded at least [`LAST_USED_GRANULARITY_SECS`] ago). The Worker
/// writes it off the response path, with the same condition in SQL so concurrent
/// isolates write it at most once a minute.
pub fn last_used_due(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|t| now.saturating_sub(t) >= LAST_USED_GRANULARITY_SECS)
}

/// When a rolled key stops working: `expire_previous_in` seconds after `now` (0: at
/// once), never later than its own expiry. Stored as its `revoked_at`, which frees its
/// name for the new key at once.
pub fn previous_key_end(now: i64, expire_previous_in: i64, expires_at: Option<i64>) -> i64 {
    let end = now.saturating_add(expire_previous_in.max(0));
    expires_at.map_or(end, |e| end.min(e))
}

/// An API key row as D1 keeps it (the input of [`authenticate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApiKey<'a> {
    /// The application (tenant) it belongs to.
    pub tenant_id: &'a str,
    /// The stored [`SecretHash`] bytes.
    pub secret_hash: &'a [u8],
    /// Expiry (seconds since the epoch), if any.
    pub expires_at: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// Decides whether a parsed key authenticates a request for application `app_id` of
/// environment `app_env` at `now`, given the row found by its key id (`None`: no such
/// key id). Order: environment (before any read), row, secret, revocation, expiry, then
/// the application: `invalid_api_key` unless the secret matches, so another
/// application's key id alone reveals nothing.
pub fn authenticate(
    key: &ParsedKey<'_>,
    row: Option<&StoredApiKey<'_>>,
    app_id: &str,
    app_env: Environment,
    now: i64,
    pepper: Option<&Pepper>,
) -> Result<(), ApiError> {
    check_environment(key, app_env)?;
    let row = row.ok_or_else(|| invalid("unknown secret key"))?;
    if !verify_secret(row.secret_hash, key.secret, pepper) {
        return Err(invalid("unknown secret key"));
    }
    if row.revoked_at.is_some_and(|t| t <= now) {
        return Err(invalid("the secret key was revoked"));
    }
    if row.expires_at.is_some_and(|t| t <= now) {
        return Err(invalid("the secret key has expired"));
    }
    if row.tenant_id != app_id {
        return Err(ApiError::new(
            ErrorCode::ApplicationMismatch,
            "the secret key belongs to another application",
        ));
    }
    Ok(())
}

/// `application_mismatch` unless the key's prefix is the application's environment's
/// (checked before any D1 read of the key).
pub fn check_environment(key: &ParsedKey<'_>, app_env: Environment) -> Result<(), ApiError> {
    if key.env == app_env {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::ApplicationMismatch,
            alloc::format!(
                "a {} application takes {} keys",
                app_env.as_str(),
                app_env.key_prefix()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::{format, vec};

    fn random(seed: u8) -> [u8; KEY_RANDOM_BYTES] {
        let mut r = [0u8; KEY_RANDOM_BYTES];
        for (i, b) in r.iter_mut().enumerate() {
            *b = seed.wrapping_mul(31).wrapping_add(i as u8).wrapping_mul(97);
        }
        r
    }

    #[test]
    fn last_used_is_throttled_and_rolls_end_in_time() {
        assert!(last_used_due(None, 0));
        assert!(!last_used_due(Some(100), 159));
        assert!(last_used_due(Some(100), 160));
        assert!(!last_used_due(Some(200), 100));
        assert_eq!(previous_key_end(1000, 0, None), 1000);
        assert_eq!(previous_key_end(1000, 60, None), 1060);
        assert_eq!(previous_key_end(1000, 60, Some(1030)), 1030);
        assert_eq!(previous_key_end(1000, -5, None), 1000);
    }

    #[test]
    fn crc32_known_vectors() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"a"), 0xE8B7_BE43);
        assert_eq!(crc32(b"abc"), 0x3524_41C2);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        assert_eq!(crc32(&[0u8; 32]), 0x190A_55AD);
        assert_eq!(crc32(&[0xFFu8; 32]), 0xFF6C_AB0B);
    }

    #[test]
    fn base62_is_fixed_width_big_endian() {
        assert_eq!(base62_fixed(&[0], 3).unwrap(), "000");
        assert_eq!(base62_fixed(&[61], 2).unwrap(), "0z");
        assert_eq!(base62_fixed(&[62], 2).unwrap(), "10");
        assert_eq!(base62_fixed(&[0xFF; 4], 6).unwrap(), "4gfFC3");
        assert_eq!(base62_fixed(&[0xFF; 32], 43).unwrap().len(), 43);
        assert_eq!(base62_fixed(&[0xFF; 32], 42), None);
        let mut top = [0xFF; 9];
        top[0] = 0x7F;
        assert_eq!(base62_fixed(&top, 12).unwrap().len(), 12);
    }

    #[test]
    fn generated_keys_parse_back() {
        for env in [Environment::Development, Environment::Production] {
            for seed in 0..50 {
                let key = generate_secret_key(env, &random(seed));
                assert_eq!(key.secret.len(), SECRET_KEY_LEN);
                assert!(key.secret.starts_with(env.key_prefix()));
                let parsed = parse_secret_key(&key.secret).unwrap();
                assert_eq!(parsed.env, env);
                assert_eq!(parsed.key_id, key.key_id);
                assert_eq!(parsed.prefix(), key.prefix());
                assert_eq!(parsed.last_four(), key.last_four());
                assert_eq!(key.last_four().len(), 4);
                assert!(key.prefix().ends_with(&key.key_id));
            }
        }
    }

    #[test]
    fn the_shape_is_the_documented_one() {
        let key = generate_secret_key(Environment::Production, &[0xFF; KEY_RANDOM_BYTES]);
        let s = &key.secret;
        assert_eq!(s.get(..8), Some("sk_live_"));
        assert_eq!(s.get(20..21), Some("_"));
        let body = s.get(..s.len() - 6).unwrap();
        assert_eq!(s.get(s.len() - 6..).unwrap(), checksum(body));
        assert!(!format!("{key:?}").contains(s.as_str()));
        let zero = generate_secret_key(Environment::Development, &[0; KEY_RANDOM_BYTES]);
        assert_eq!(
            zero.secret.get(..64),
            Some("sk_test_000000000000_0000000000000000000000000000000000000000000")
        );
    }

    #[test]
    fn every_malformed_key_is_refused() {
        let good = generate_secret_key(Environment::Production, &random(3)).secret;
        assert!(parse_secret_key(&good).is_ok());
        assert_eq!(
            parse_secret_key("").unwrap_err().code,
            ErrorCode::MissingApiKey
        );
        let bad: Vec<String> = vec![
            good.replacen("sk_live_", "sk_prod_", 1),
            good.replacen("sk_live_", "pk_live_", 1),
            good.replacen("sk_live_", "SK_LIVE_", 1),
            good[..good.len() - 1].to_string(),
            format!("{good}0"),
            format!("{good} "),
            good.replacen('_', "-", 1),
            {
                let mut s = good.clone();
                s.replace_range(20..21, "x");
                s
            },
            {
                let mut s = good.clone();
                s.replace_range(30..31, "+");
                s
            },
            {
                let mut s = good.clone();
                s.replace_range(30..31, "é");
                s
            },
        ];
        for b in &bad {
            let err = parse_secret_key(b).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidApiKey, "{b}");
            assert!(!err.message.contains(good.as_str()));
        }
    }

    #[test]
    fn any_one_character_change_fails_the_checksum() {
        let good = generate_secret_key(Environment::Development, &random(9)).secret;
        for i in 8..good.len() {
            let c = good.as_bytes()[i];
            if c == b'_' {
                continue;
            }
            for &r in BASE62.iter().filter(|&&r| r != c) {
                let mut s = good.clone().into_bytes();
                s[i] = r;
                let s = String::from_utf8(s).unwrap();
                assert!(parse_secret_key(&s).is_err(), "{s}");
            }
        }
        // Two adjacent characters swapped.
        for i in 21..good.len() - 1 {
            let mut s = good.clone().into_bytes();
            if s[i] == s[i + 1] {
                continue;
            }
            s.swap(i, i + 1);
            assert!(parse_secret_key(&String::from_utf8(s).unwrap()).is_err());
        }
    }

    #[test]
    fn authorization_header() {
        let good = generate_secret_key(Environment::Production, &random(1)).secret;
        let header = format!("Bearer {good}");
        assert_eq!(
            secret_key_from_authorization(Some(&header)).unwrap().secret,
            good
        );
        let lower = format!("bearer {good}");
        assert!(secret_key_from_authorization(Some(&lower)).is_ok());
        for missing in [None, Some(""), Some("   "), Some("Bearer ")] {
            assert_eq!(
                secret_key_from_authorization(missing).unwrap_err().code,
                ErrorCode::MissingApiKey,
                "{missing:?}"
            );
        }
        for bad in [
            format!("Basic {good}"),
            good.clone(),
            "Bearer sk_live_x".into(),
        ] {
            assert_eq!(
                secret_key_from_authorization(Some(&bad)).unwrap_err().code,
                ErrorCode::InvalidApiKey
            );
        }
    }

    #[test]
    fn hashing_and_constant_time_verification() {
        let key = generate_secret_key(Environment::Production, &random(4)).secret;
        let plain = hash_secret(&key, None);
        let expected: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        assert_eq!(plain.0, expected);
        assert!(verify_secret(&plain.0, &key, None));
        assert!(!verify_secret(&plain.0[..31], &key, None));
        assert!(!verify_secret(&[], &key, None));
        let other = generate_secret_key(Environment::Production, &random(5)).secret;
        assert!(!verify_secret(&plain.0, &other, None));

        let pepper = Pepper::new([7; 32]);
        let keyed = hash_secret(&key, Some(&pepper));
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7; 32]).unwrap();
        mac.update(key.as_bytes());
        assert_eq!(keyed.0.as_slice(), mac.finalize().into_bytes().as_slice());
        assert_ne!(keyed, plain);
        assert!(verify_secret(&keyed.0, &key, Some(&pepper)));
        assert!(!verify_secret(&keyed.0, &key, None));
        assert!(!verify_secret(&keyed.0, &key, Some(&Pepper::new([8; 32]))));

        assert_eq!(SecretHash::from_hex(&keyed.to_hex()), Some(keyed.clone()));
        assert_eq!(
            SecretHash::from_hex(&keyed.to_hex().to_uppercase()),
            Some(keyed)
        );
        assert_eq!(SecretHash::from_hex("00"), None);
        assert_eq!(SecretHash::from_hex(&"g".repeat(64)), None);
        assert_eq!(
            hash_secret("abc", None).to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pepper_derivation_is_deterministic_and_hidden() {
        let a = Pepper::derive(b"0123456789abcdef0123456789abcdef");
        let b = Pepper::derive(b"0123456789abcdef0123456789abcdef");
        let c = Pepper::derive(b"0123456789abcdef0123456789abcdeg");
        assert_eq!(a.0, b.0);
        assert_ne!(a.0, c.0);
        assert_eq!(format!("{a:?}"), "Pepper(..)");
    }

    #[test]
    fn operator_secret() {
        assert!(operator_secret_matches(
            "s3cret-operator",
            "s3cret-operator"
        ));
        assert!(!operator_secret_matches(
            "s3cret-operator",
            "s3cret-operatoR"
        ));
        assert!(!operator_secret_matches("s3cret-operator", "s3cret"));
        assert!(!operator_secret_matches("s3cret-operator", ""));
        assert!(!operator_secret_matches("", ""));
    }

    #[test]
    fn authentication_decisions() {
        let gen = generate_secret_key(Environment::Production, &random(6));
        let key = parse_secret_key(&gen.secret).unwrap();
        let hash = hash_secret(&gen.secret, None);
        let row = StoredApiKey {
            tenant_id: "app_1",
            secret_hash: &hash.0,
            expires_at: Some(2_000),
            revoked_at: None,
        };
        let auth = |row: Option<&StoredApiKey<'_>>, app: &str, env, now| {
            authenticate(&key, row, app, env, now, None).map_err(|e| e.code)
        };
        assert_eq!(
            auth(Some(&row), "app_1", Environment::Production, 1_000),
            Ok(())
        );
        assert_eq!(
            auth(Some(&row), "app_1", Environment::Development, 1_000),
            Err(ErrorCode::ApplicationMismatch)
        );
        assert_eq!(
            auth(Some(&row), "app_2", Environment::Production, 1_000),
            Err(ErrorCode::ApplicationMismatch)
        );
        assert_eq!(
            auth(None, "app_1", Environment::Production, 1_000),
            Err(ErrorCode::InvalidApiKey)
        );
        assert_eq!(
            auth(Some(&row), "app_1", Environment::Production, 2_000),
            Err(ErrorCode::InvalidApiKey)
        );
        let revoked = StoredApiKey {
            revoked_at: Some(500),
            ..row.clone()
        };
        assert_eq!(
            auth(Some(&revoked), "app_1", Environment::Production, 1_000),
            Err(ErrorCode::InvalidApiKey)
        );
        let other_hash = hash_secret("sk_live_other", None);
        let wrong = StoredApiKey {
            secret_hash: &other_hash.0,
            tenant_id: "app_2",
            ..row.clone()
        };
        // Another application's row with a wrong secret: invalid, not mismatch.
        assert_eq!(
            auth(Some(&wrong), "app_1", Environment::Production, 1_000),
            Err(ErrorCode::InvalidApiKey)
        );
    }

    #[test]
    fn environments() {
        for env in [Environment::Development, Environment::Production] {
            assert_eq!(Environment::parse(env.as_str()), Some(env));
        }
        assert_eq!(Environment::parse("staging"), None);
        assert_eq!(Environment::Development.key_prefix(), "sk_test_");
        assert_eq!(Environment::Production.key_prefix(), "sk_live_");
    }
}
