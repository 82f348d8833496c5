//! The one seam every signature check goes through.
//!
//! The rest of the crate calls only [`verify`]; the backend (today `ed25519-compact`, the
//! reference) can be swapped by a crate feature without touching callers. Every failure
//! is the same `false`: callers report one public `invalid_signature` code.

use ed25519_compact::{PublicKey, Signature};

/// Length of an Ed25519 signature in bytes.
pub(crate) const SIGNATURE_LEN: usize = 64;

/// Verifies an Ed25519 signature (RFC 8032, with canonical `S` and `R`, and small-order
/// keys refused, as `ed25519-compact` >= 2.6.1 does).
pub(crate) fn verify(key: &PublicKey, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
    key.verify(message, &Signature::new(*signature)).is_ok()
}

/// Checks a public key once when it is loaded: canonical encoding of a curve point that
/// is not of small order.
pub(crate) fn validate_public_key(bytes: &[u8; 32]) -> Option<PublicKey> {
    let key = PublicKey::new(*bytes);
    key.validate().ok().map(|()| key)
}
