//! Strict Ed25519 signature encodings, checked before any backend runs.
//!
//! RFC 8032 §5.1.7 requires `S < L`; refusing an `R` of small order removes the last
//! freedom a signer has to make a second valid signature for the same message. Rust
//! backends check both themselves; native ones (WebCrypto in workerd, BoringSSL's
//! `ED25519_verify`, `node:crypto`) do not all check them, so the verifier makes these
//! checks for every backend, in one place, before the signature equation. (A
//! non-canonical `R` never verifies: every backend compares `R` with the canonical
//! encoding it computes. Public keys were validated when the key set was loaded.)

/// The group order L, little-endian.
pub const ED25519_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// The canonical encodings of the eight points of small order.
pub const SMALL_ORDER_POINTS: [[u8; 32]; 8] = {
    let mut pts = [[0u8; 32]; 8];
    // Identity (y = 1).
    pts[0][0] = 1;
    // y = -1 = p - 1 (order 2).
    pts[1] = [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ];
    // y = 0, both signs of x (order 4).
    pts[3][31] = 0x80;
    // Order 8.
    pts[4] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    pts[5] = pts[4];
    pts[5][31] = 0x85;
    pts[6] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    pts[7] = pts[6];
    pts[7][31] = 0xfa;
    pts
};

/// Whether a signature's encoding is strict: `S < L` and `R` not one of the eight points
/// of small order. Only such signatures reach a backend.
pub fn signature_encoding_ok(signature: &[u8; 64]) -> bool {
    let (r, s) = signature.split_at(32);
    let s_below_order = s
        .iter()
        .rev()
        .zip(ED25519_ORDER.iter().rev())
        .find(|(a, b)| a != b)
        .is_some_and(|(a, b)| a < b);
    s_below_order && !SMALL_ORDER_POINTS.iter().any(|p| p.as_slice() == r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    #[test]
    fn refuses_non_canonical_s_and_small_order_r() {
        let key = SigningKey::from_seed(&[9; 32]);
        let sig = key.sign_raw(b"message");
        assert!(signature_encoding_ok(&sig));
        // S + L: the same signature to a lax verifier, refused here.
        let mut malleated = sig;
        let mut carry = 0u16;
        for (b, l) in malleated[32..].iter_mut().zip(ED25519_ORDER) {
            let v = u16::from(*b) + u16::from(l) + carry;
            *b = (v & 0xff) as u8;
            carry = v >> 8;
        }
        assert!(!signature_encoding_ok(&malleated));
        let mut s_is_l = sig;
        s_is_l[32..].copy_from_slice(&ED25519_ORDER);
        assert!(!signature_encoding_ok(&s_is_l));
        // Each small-order R is refused; the list is the canonical small-order set.
        for p in SMALL_ORDER_POINTS {
            let mut bad = sig;
            bad[..32].copy_from_slice(&p);
            assert!(!signature_encoding_ok(&bad));
            assert!(
                crate::crypto::validate_public_key(&p).is_none(),
                "{p:?} is not small order"
            );
        }
        let distinct: alloc::collections::BTreeSet<[u8; 32]> =
            SMALL_ORDER_POINTS.into_iter().collect();
        assert_eq!(distinct.len(), 8);
    }
}
