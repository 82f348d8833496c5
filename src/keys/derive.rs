//! Signing-key derivation: no private key is stored anywhere.

use hkdf::Hkdf;
use sha2::Sha256;

/// HKDF salt for signing-key derivation (versioned so the scheme can change).
/// Shortest master secret accepted (`TORII_MASTER_SECRET`), in bytes: 256 bits.
pub const MIN_MASTER_SECRET_BYTES: usize = 32;

const SALT: &[u8] = b"torii-edge/signing-key/v1";

/// Derives the 32-byte Ed25519 seed of a tenant's signing key `version` from a master
/// secret, with HKDF-SHA256 (RFC 5869):
/// salt = `torii-edge/signing-key/v1`, ikm = `master_secret`,
/// info = `tenant=<tenant_id>;version=<version>`.
///
/// The same inputs always give the same key, so a Worker can re-derive it from its secret
/// instead of storing it; different tenants or versions give unrelated keys.
pub fn derive_signing_seed(master_secret: &[u8], tenant_id: &str, version: u32) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(Some(SALT), master_secret);
    let info = alloc::format!("tenant={tenant_id};version={version}");
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 255 * 32 byte output limit: expand cannot fail.
    let _ = hk.expand(info.as_bytes(), &mut okm);
    okm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let a = derive_signing_seed(b"0123456789abcdef0123456789abcdef", "demo", 1);
        assert_eq!(
            a,
            derive_signing_seed(b"0123456789abcdef0123456789abcdef", "demo", 1)
        );
        assert_ne!(
            a,
            derive_signing_seed(b"0123456789abcdef0123456789abcdef", "demo", 2)
        );
        assert_ne!(
            a,
            derive_signing_seed(b"0123456789abcdef0123456789abcdef", "demo2", 1)
        );
        assert_ne!(
            a,
            derive_signing_seed(b"0123456789abcdef0123456789abcdeX", "demo", 1)
        );
    }
}
