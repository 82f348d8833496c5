//! Strict base64url without padding (RFC 7515 §2).
//!
//! Only the canonical encoding is accepted: no padding, no whitespace, no `+`/`/`, and
//! unused trailing bits must be zero, so every byte string has exactly one encoding.
//!
//! Table-driven, not constant-time: everything encoded or decoded here is public (tokens,
//! claims, signatures, public keys, ids, thumbprints, page cursors). Secret keys are
//! base62 (`crate::api::keys`) and never pass through this module. On the warm gateway path
//! every token is decoded and every claims header and assertion encoded, and in wasm at
//! opt-level `z` the constant-time `base64ct` arithmetic cost ~12 µs a request
//! (docs/benchmarks.md, "What one plan costs, and the opt-level"); `base64ct` stays a
//! dev-dependency, the oracle of the differential tests below.

use alloc::string::String;
use alloc::vec::Vec;

/// The input is not canonical unpadded base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonCanonical;

/// The alphabet (RFC 4648 §5).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Not a base64url character.
const INVALID: u8 = 0xff;

/// The 6-bit value of each byte, or [`INVALID`].
// Evaluated at compile time: an index out of bounds would fail the build, not a request.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The 6-bit value of `c`.
fn sextet(c: u8) -> Result<u32, NonCanonical> {
    match DECODE.get(usize::from(c)).copied().unwrap_or(INVALID) {
        INVALID => Err(NonCanonical),
        v => Ok(u32::from(v)),
    }
}

/// The [`DECODE`] entry of `c`: its 6-bit value, or [`INVALID`] (the only entry with its
/// high bit set, so OR-ing the entries of a run of characters tells whether any was bad).
fn entry(c: u8) -> u32 {
    // A u8 indexes a 256-entry table: `get` never fails (no bounds-check branch remains).
    u32::from(DECODE.get(usize::from(c)).copied().unwrap_or(INVALID))
}

/// The character of the 6 bits of `n` at `shift`.
fn char_of(n: u32, shift: u32) -> u8 {
    ALPHABET
        .get(((n >> shift) & 63) as usize)
        .copied()
        .unwrap_or(b'A')
}

/// The length of the unpadded encoding of `n` bytes.
const fn encoded_len(n: usize) -> usize {
    n / 3 * 4
        + match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        }
}

/// The number of bytes `len` characters of unpadded base64url encode; `None` for a length
/// no encoding has (one character left over encodes no whole byte).
const fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        0 => Some(len / 4 * 3),
        r => Some(len / 4 * 3 + r - 1),
    }
}

/// Decodes canonical unpadded base64url into `out`, which is [`decoded_len`] bytes long.
fn decode_into(input: &[u8], out: &mut [u8]) -> Result<(), NonCanonical> {
    // The whole quads without a branch per character: the table entries' OR is checked
    // once at the end (an invalid entry's high bit survives the OR). Garbage written to
    // `out` on the way is never returned: the caller drops `out` on an error.
    let mut bad = 0u32;
    let mut quads = input.chunks_exact(4);
    let mut bytes = out.chunks_exact_mut(3);
    for (q, o) in quads.by_ref().zip(bytes.by_ref()) {
        let [a, b, c, d] = *q else {
            return Err(NonCanonical);
        };
        let (a, b, c, d) = (entry(a), entry(b), entry(c), entry(d));
        bad |= a | b | c | d;
        let n = a << 18 | b << 12 | c << 6 | d;
        let [_, x, y, z] = n.to_be_bytes();
        o.copy_from_slice(&[x, y, z]);
    }
    if bad & 0x80 != 0 {
        return Err(NonCanonical);
    }
    match (quads.remainder(), bytes.into_remainder()) {
        ([], []) => Ok(()),
        (&[a, b], [o]) => {
            let n = sextet(a)? << 18 | sextet(b)? << 12;
            // The 4 low bits of the last character are unused: canonical means zero.
            if n & 0xffff != 0 {
                return Err(NonCanonical);
            }
            let [_, x, _, _] = n.to_be_bytes();
            *o = x;
            Ok(())
        }
        (&[a, b, c], [o, p]) => {
            let n = sextet(a)? << 18 | sextet(b)? << 12 | sextet(c)? << 6;
            // The 2 low bits of the last character are unused.
            if n & 0xff != 0 {
                return Err(NonCanonical);
            }
            let [_, x, y, _] = n.to_be_bytes();
            (*o, *p) = (x, y);
            Ok(())
        }
        // `out` is not `decoded_len` of `input` (callers size it so).
        _ => Err(NonCanonical),
    }
}

/// Decodes canonical unpadded base64url.
pub fn decode(input: &str) -> Result<Vec<u8>, NonCanonical> {
    let mut out = alloc::vec![0u8; decoded_len(input.len()).ok_or(NonCanonical)?];
    decode_into(input.as_bytes(), &mut out)?;
    Ok(out)
}

/// Decodes canonical unpadded base64url into a fixed-size array; any other length fails.
pub fn decode_array<const N: usize>(input: &str) -> Result<[u8; N], NonCanonical> {
    if encoded_len(N) != input.len() {
        return Err(NonCanonical);
    }
    let mut out = [0u8; N];
    decode_into(input.as_bytes(), &mut out)?;
    Ok(out)
}

/// Encodes as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(encoded_len(bytes.len()));
    encode_to(bytes, &mut out);
    // Every byte pushed is from ALPHABET (ASCII).
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the unpadded base64url encoding of `bytes` to `out` (ASCII only), for a
/// caller that builds one buffer from several parts (a JWS signing input).
pub(crate) fn encode_to(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(encoded_len(bytes.len()));
    let mut triples = bytes.chunks_exact(3);
    for t in triples.by_ref() {
        let [a, b, c] = *t else { break };
        let n = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
        out.extend_from_slice(&[char_of(n, 18), char_of(n, 12), char_of(n, 6), char_of(n, 0)]);
    }
    match *triples.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend_from_slice(&[char_of(n, 18), char_of(n, 12)]);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend_from_slice(&[char_of(n, 18), char_of(n, 12), char_of(n, 6)]);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding};
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        for n in 0..70u8 {
            let bytes: Vec<u8> = (0..n).collect();
            assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
            assert_eq!(encode(&bytes).len(), encoded_len(bytes.len()));
            assert_eq!(decoded_len(encoded_len(bytes.len())), Some(bytes.len()));
        }
    }

    #[test]
    fn rfc_4648_vectors() {
        // RFC 4648 §10, in the URL-safe alphabet without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
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
        assert!(decode("QUFBQ").is_err());
        assert!(decode("QUJD\n").is_err());
        assert!(decode("QUJ\u{e9}").is_err());
    }

    #[test]
    fn decode_array_checks_length() {
        assert!(decode_array::<2>("QUE").is_ok());
        assert!(decode_array::<2>("QQ").is_err());
        assert!(decode_array::<2>("QUFB").is_err());
        assert_eq!(decode_array::<0>(""), Ok([]));
    }

    proptest! {
        /// Encoding agrees with `base64ct` and decodes back.
        #[test]
        fn encode_agrees_with_base64ct(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let ours = encode(&bytes);
            prop_assert_eq!(&ours, &Base64UrlUnpadded::encode_string(&bytes));
            prop_assert_eq!(decode(&ours).unwrap(), bytes);
        }

        /// Any string is accepted exactly when `base64ct` accepts it, with the same bytes.
        #[test]
        fn decode_agrees_with_base64ct(s in "[A-Za-z0-9_=+/. -]{0,40}") {
            prop_assert_eq!(decode(&s).ok(), Base64UrlUnpadded::decode_vec(&s).ok());
        }

        /// Near-canonical strings: one character of a valid encoding changed.
        #[test]
        fn decode_agrees_on_mutations(
            bytes in proptest::collection::vec(any::<u8>(), 1..64),
            at in any::<prop::sample::Index>(),
            c in any::<u8>(),
        ) {
            let mut s = encode(&bytes).into_bytes();
            let i = at.index(s.len());
            s[i] = c;
            if let Ok(s) = String::from_utf8(s) {
                prop_assert_eq!(decode(&s).ok(), Base64UrlUnpadded::decode_vec(&s).ok());
            }
        }
    }
}
