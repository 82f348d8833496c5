//! A bounded memo of signatures that verified.
//!
//! A signature is a pure function of (key, message, signature): one that verified needs
//! no second check. The memo remembers [`SignatureCheck::memo_key`]s; everything else
//! (`typ`, `kid`, `alg` before; every claim after, against the caller's `now` and policy)
//! still runs on every call. Failures are never remembered. No clock, no I/O: an adapter
//! holds one per isolate.

use crate::jose::SignatureCheck;
use alloc::collections::BTreeSet;

/// Default bound of a [`SignatureMemo`]: 4096 entries of 32 bytes.
pub const DEFAULT_MEMO_ENTRIES: usize = 4096;

/// Verified signatures, by [`SignatureCheck::memo_key`]; cleared whole when full.
#[derive(Debug, Clone)]
pub struct SignatureMemo {
    seen: BTreeSet<[u8; 32]>,
    max: usize,
}

impl Default for SignatureMemo {
    fn default() -> Self {
        Self::new(DEFAULT_MEMO_ENTRIES)
    }
}

impl SignatureMemo {
    /// An empty memo of at most `max` entries (at least 1).
    pub const fn new(max: usize) -> Self {
        Self {
            seen: BTreeSet::new(),
            max: if max == 0 { 1 } else { max },
        }
    }

    /// Whether this check's signature verified before.
    pub fn contains(&self, check: &SignatureCheck<'_, '_>) -> bool {
        self.seen.contains(&check.memo_key())
    }

    /// Remembers a signature the primitive verified.
    pub fn remember(&mut self, check: &SignatureCheck<'_, '_>) {
        if self.seen.len() >= self.max {
            self.seen.clear();
        }
        self.seen.insert(check.memo_key());
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Jwks, Policy, SigningKey, UnixTime, UntrustedToken, Verifier};

    fn token(key: &SigningKey, exp: i64) -> alloc::string::String {
        let mut c = serde_json::Map::new();
        c.insert("iss".into(), "https://i".into());
        c.insert("sub".into(), "u".into());
        c.insert("exp".into(), exp.into());
        key.sign_jwt(None, &c)
    }

    #[test]
    fn a_remembered_signature_still_has_its_claims_checked() {
        let key = SigningKey::from_seed(&[4; 32]);
        let verifier = Verifier::new(
            Jwks::from_keys(alloc::vec![key.public_jwk()]),
            Policy::new("https://i"),
        );
        let tok = token(&key, 1000);
        let untrusted = UntrustedToken::parse(&tok, 8192).unwrap();
        let mut memo = SignatureMemo::new(2);
        let check = verifier.prepare(&untrusted).unwrap();
        assert!(!memo.contains(&check));
        assert!(check.verify_with(&crate::RustBackend));
        memo.remember(&check);
        let check = verifier.prepare(&untrusted).unwrap();
        assert!(memo.contains(&check));
        // Expired by now: the memo only skips the equation.
        assert_eq!(
            check.complete(true, UnixTime(5000)).unwrap_err().code(),
            "token_expired"
        );
        // Bounded: the third entry clears the first two.
        for exp in [2000, 3000] {
            let t = token(&key, exp);
            let u = UntrustedToken::parse(&t, 8192).unwrap();
            memo.remember(&verifier.prepare(&u).unwrap());
        }
        assert_eq!(memo.len(), 1);
    }
}
