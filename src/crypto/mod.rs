//! The one seam every signature check goes through.
//!
//! The verifier ([`Verifier`](crate::Verifier)) decides everything about a signature but
//! the equation itself: key selection, `alg`, and the strict encoding checks of
//! [`strict`] all run before a backend is asked. A backend answers one question through
//! [`Ed25519Verify`]: does this signature verify under this (validated) key? Adapters
//! with a native primitive (WebCrypto in the Worker, later `node:crypto`) use the
//! verifier's prepare/complete pair ([`Verifier::prepare`](crate::Verifier::prepare))
//! and call it themselves, synchronously or not.
//!
//! The compiled-in Rust backend ([`RustBackend`]) is chosen by a crate feature without
//! touching callers:
//!
//! * feature `dalek` (default): `ed25519-dalek` (measured 2.6× faster in wasm, where
//!   `ed25519-compact`'s `u128` field arithmetic is emulated, and 1.4× natively on AMD
//!   EPYC): its cofactorless `verify`, as strict as `verify_strict` behind the verifier's
//!   checks (see the dalek `verify` below);
//! * without it: `ed25519-compact` (the reference backend; vendored with a patch, see
//!   vendor/ed25519-compact/TORII-PATCH.md: the cofactorless equation, keys decoded once).
//!
//! Both backends accept exactly the same keys and signatures: canonical encodings only
//! (`S < L`, canonical `R` and `A`), small-order keys and small-order `R` refused, no
//! cofactor. The Wycheproof, RFC 8037 and speccheck vectors run against each
//! (`tests/vectors.rs`).
//! Every failure is the same `false`: callers report one public `invalid_signature` code.

pub mod strict;

/// Length of an Ed25519 signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An Ed25519 signature primitive: the cofactorless RFC 8032 equation under a key that
/// was validated when its key set was loaded. Every failure is `false`.
///
/// Called by [`Verifier::verify_with`](crate::Verifier::verify_with) only after `typ`,
/// key, `alg` and [`strict::signature_encoding_ok`] passed.
pub trait Ed25519Verify {
    /// Whether `signature` over `message` verifies under `key`.
    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool;
}

/// The compiled-in Rust backend: `ed25519-compact` by default, `ed25519-dalek` with
/// feature `dalek`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustBackend;

impl Ed25519Verify for RustBackend {
    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
        verify(key, message, signature)
    }
}

/// A validated Ed25519 public key: a canonical encoding of a point not of small order.
/// Only key loading ([`Jwk`](crate::Jwk)) and [`SigningKey`](crate::SigningKey) build one.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; 32],
    #[cfg(feature = "dalek")]
    key: ed25519_dalek::VerifyingKey,
    /// Decoded once, on load: a verify does not decode the key again.
    #[cfg(not(feature = "dalek"))]
    key: ed25519_compact::PreparedPublicKey,
}

impl PublicKey {
    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("PublicKey").field(&self.bytes).finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

/// Checks a public key once when it is loaded: canonical encoding of a curve point that
/// is not of small order.
#[cfg(not(feature = "dalek"))]
pub(crate) fn validate_public_key(bytes: &[u8; 32]) -> Option<PublicKey> {
    let key = ed25519_compact::PublicKey::new(*bytes).prepare().ok()?;
    Some(PublicKey { bytes: *bytes, key })
}

/// Checks a public key once when it is loaded: canonical encoding of a curve point that
/// is not of small order.
#[cfg(feature = "dalek")]
pub(crate) fn validate_public_key(bytes: &[u8; 32]) -> Option<PublicKey> {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let point = CompressedEdwardsY(*bytes).decompress()?;
    // `decompress` accepts y >= p and a "negative zero" x; re-encoding tells.
    if point.compress().0 != *bytes || point.is_small_order() {
        return None;
    }
    let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).ok()?;
    Some(PublicKey { bytes: *bytes, key })
}

/// The public key of a 32-byte RFC 8032 seed (always valid: a non-zero multiple of the
/// base point).
#[cfg(not(feature = "dalek"))]
pub(crate) fn public_key_from_seed(seed: &[u8; 32]) -> PublicKey {
    let key = ed25519_compact::PreparedPublicKey::from_seed(&ed25519_compact::Seed::new(*seed));
    PublicKey {
        bytes: **key.public_key(),
        key,
    }
}

/// The public key of a 32-byte RFC 8032 seed (always valid: a non-zero multiple of the
/// base point).
#[cfg(feature = "dalek")]
pub(crate) fn public_key_from_seed(seed: &[u8; 32]) -> PublicKey {
    let key = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key();
    PublicKey {
        bytes: key.to_bytes(),
        key,
    }
}

/// Verifies an Ed25519 signature (RFC 8032 with canonical `S` and `R`, small-order keys
/// and `R` refused, cofactorless equation).
///
/// The vendored `ed25519-compact` (vendor/ed25519-compact/TORII-PATCH.md): under the key's
/// point decoded when it was loaded, and with the cofactorless equation (upstream also
/// accepted an `R` off by a small-order point: speccheck case 4, which every other backend
/// refuses).
#[cfg(not(feature = "dalek"))]
pub(crate) fn verify(key: &PublicKey, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
    key.key
        .verify(message, &ed25519_compact::Signature::new(*signature))
        .is_ok()
}

/// Verifies an Ed25519 signature (RFC 8032 with canonical `S` and `R`, small-order keys
/// and `R` refused, cofactorless equation).
///
/// `ed25519-dalek`'s cofactorless `verify`, not `verify_strict`: what `verify_strict` adds
/// is decompressing `R` to refuse one of small order, and refusing a small-order key. The
/// key was validated when its set was loaded ([`validate_public_key`]); `R` is checked
/// against the eight small-order encodings here ([`strict::signature_encoding_ok`], with
/// `S < L`: the verifier makes the same check before any backend, this keeps a direct
/// [`RustBackend`] call as strict). Any other encoding of a small-order point is not
/// canonical, and `verify` only accepts an `R` equal to the canonical encoding it
/// computes. So this accepts exactly what `verify_strict` does (a test below and the
/// Wycheproof vectors check it), without the point decompression.
#[cfg(feature = "dalek")]
pub(crate) fn verify(key: &PublicKey, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
    use ed25519_dalek::Verifier as _;
    strict::signature_encoding_ok(signature)
        && key
            .key
            .verify(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// p = 2^255 - 19, little-endian.
    fn p_plus(small: u8) -> [u8; 32] {
        let mut b = [0xffu8; 32];
        b[0] = 0xed;
        b[31] = 0x7f;
        // p + small, for small < 19: only the low byte changes (0xed + small < 0x100).
        b[0] = b[0].wrapping_add(small);
        b
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        for small in 0..19u8 {
            for sign in [0u8, 0x80] {
                let mut bytes = p_plus(small);
                bytes[31] |= sign;
                assert!(
                    validate_public_key(&bytes).is_none(),
                    "y = p + {small}, sign {sign:#x} accepted"
                );
            }
        }
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity (y = 1), and y = -1 (order 2), and y = 0 (order 4).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut minus_one = p_plus(0);
        minus_one[0] -= 1;
        assert!(validate_public_key(&identity).is_none());
        assert!(validate_public_key(&minus_one).is_none());
        assert!(validate_public_key(&[0u8; 32]).is_none());
    }

    #[test]
    fn a_seed_public_key_round_trips_through_validation() {
        let derived = public_key_from_seed(&[7u8; 32]);
        assert_eq!(validate_public_key(derived.as_bytes()), Some(derived));
    }

    /// With the dalek backend, [`verify`] (the cofactorless `verify` behind the strict
    /// encoding checks) accepts exactly what plain `verify_strict` does: over one-bit
    /// changes of a valid signature (every fourth bit), and over every small-order `R`
    /// encoding (the eight canonical ones, and each non-canonical `y = p + k` with either
    /// sign) beside a valid `S`.
    #[cfg(feature = "dalek")]
    #[test]
    fn dalek_verify_behind_the_checks_is_verify_strict() {
        let signer = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let key = validate_public_key(&signer.verifying_key().to_bytes()).unwrap();
        let message = b"header.payload";
        let valid = ed25519_dalek::Signer::sign(&signer, message).to_bytes();
        let ours = |sig: &[u8; 64]| verify(&key, message, sig);
        let strict = |sig: &[u8; 64]| {
            key.key
                .verify_strict(message, &ed25519_dalek::Signature::from_bytes(sig))
                .is_ok()
        };
        assert!(ours(&valid) && strict(&valid));
        let mut candidates = alloc::vec::Vec::new();
        // Every fourth bit of `R` and of `S` (each flip is a verify, slow in a debug build).
        for bit in (0..512).step_by(4) {
            let mut sig = valid;
            sig[bit / 8] ^= 1 << (bit % 8);
            candidates.push(sig);
        }
        let mut small: alloc::vec::Vec<[u8; 32]> = strict::SMALL_ORDER_POINTS.to_vec();
        for k in 0..19u8 {
            for sign in [0u8, 0x80] {
                let mut r = p_plus(k);
                r[31] |= sign;
                small.push(r);
            }
        }
        for r in small {
            let mut sig = valid;
            sig[..32].copy_from_slice(&r);
            candidates.push(sig);
        }
        for sig in &candidates {
            assert_eq!(ours(sig), strict(sig), "{sig:02x?}");
        }
        // Nothing but the valid signature verifies.
        assert!(candidates.iter().all(|sig| !ours(sig)));
    }

    #[test]
    fn the_basepoint_is_accepted() {
        let mut base = [0x66u8; 32];
        base[0] = 0x58;
        assert!(validate_public_key(&base).is_some());
    }
}
