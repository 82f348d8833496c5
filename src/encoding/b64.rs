//! Strict base64url without padding (RFC 7515 §2), via `base64ct`.
//!
//! Only the canonical encoding is accepted: no padding, no whitespace, no `+`/`/`, and
//! unused trailing bits must be zero, so every byte string has exactly one encoding.

use alloc::string::String;
use alloc::vec::Vec;
use base64ct::{Base64UrlUnpadded, Encoding};

/// The input is not canonical unpadded base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonCanonical;

/// Decodes canonical unpadded base64url.
pub fn decode(input: &str) -> Result<Vec<u8>, NonCanonical> {
    Base64UrlUnpadded::decode_vec(input).map_err(|_| NonCanonical)
}

/// Decodes canonical unpadded base64url into a fixed-size array; any other length fails.
pub fn decode_array<const N: usize>(input: &str) -> Result<[u8; N], NonCanonical> {
    let mut out = [0u8; N];
    if Base64UrlUnpadded::encoded_len(&out) != input.len() {
        return Err(NonCanonical);
    }
    let written = Base64UrlUnpadded::decode(input, &mut out).map_err(|_| NonCanonical)?;
    if written.len() != N {
        return Err(NonCanonical);
    }
    Ok(out)
}

/// Encodes as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for n in 0..70u8 {
            let bytes: Vec<u8> = (0..n).collect();
            assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // "QQ" is the canonical encoding of "A"; "QR" decodes to the same byte with a
        // non-zero unused bit.
        assert_eq!(decode("QQ").unwrap(), b"A");
        assert!(decode("QR").is_err());
        assert_eq!(decode("QUE").unwrap(), b"AA");
        assert!(decode("QUF").is_err());
    }

    #[test]
    fn rejects_padding_whitespace_and_standard_alphabet() {
        assert!(decode("QQ==").is_err());
        assert!(decode("QQ=").is_err());
        assert!(decode("Q Q").is_err());
        assert!(decode("+/+/").is_err());
        assert!(decode("-_-_").is_ok());
        assert!(decode("Q").is_err());
    }

    #[test]
    fn decode_array_checks_length() {
        assert!(decode_array::<2>("QUE").is_ok());
        assert!(decode_array::<2>("QQ").is_err());
        assert!(decode_array::<2>("QUFB").is_err());
    }
}
