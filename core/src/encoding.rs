//! Encodings B2 uses on the wire: percent-encoding of names and info values, hex SHA-1s and
//! the base64 of `Authorization: Basic`. All of them render through `Display` or into caller
//! buffers; nothing allocates.

use core::fmt;

/// Percent-encodes UTF-8 the way B2 expects file names and info values: RFC 3986 unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`) and `/` stay as they are, every other byte becomes
/// `%XX`. Renders through `Display`; [`PercentEncoded::encoded_len`] gives its length.
pub fn percent_encode(s: &str) -> PercentEncoded<'_> {
    PercentEncoded(s)
}

/// A string rendered percent-encoded (see [`percent_encode`]).
#[derive(Clone, Copy, Debug)]
pub struct PercentEncoded<'a>(&'a str);

fn keeps(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

impl PercentEncoded<'_> {
    /// Length of the encoded form in bytes.
    pub fn encoded_len(&self) -> usize {
        self.0.bytes().map(|b| if keeps(b) { 1 } else { 3 }).sum()
    }
}

impl fmt::Display for PercentEncoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if keeps(b) {
                continue;
            }
            // Runs of kept bytes are ASCII, so slicing at these indices stays on char bounds.
            f.write_str(self.0.get(start..i).unwrap_or(""))?;
            let esc = [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
            f.write_str(core::str::from_utf8(&esc).unwrap_or("%3F"))?;
            start = i + 1;
        }
        f.write_str(self.0.get(start..).unwrap_or(""))
    }
}

/// Why [`percent_decode`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
    /// `out` is too small; the decoded form needs this many bytes.
    TooSmall {
        /// Bytes needed.
        needed: usize,
    },
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes a percent-encoded string into `out` (`+` decodes to a space, as B2 does) and
/// returns the decoded UTF-8 text.
pub fn percent_decode<'o>(s: &str, out: &'o mut [u8]) -> Result<&'o str, DecodeError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    let mut needed = 0;
    while i < b.len() {
        let byte = match b[i] {
            b'%' => {
                let hi = b.get(i + 1).copied().and_then(hex_val);
                let lo = b.get(i + 2).copied().and_then(hex_val);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(DecodeError::BadEscape);
                };
                i += 3;
                hi << 4 | lo
            }
            b'+' => {
                i += 1;
                b' '
            }
            other => {
                i += 1;
                other
            }
        };
        needed += 1;
        if let Some(slot) = out.get_mut(n) {
            *slot = byte;
            n += 1;
        }
    }
    if needed > n {
        return Err(DecodeError::TooSmall { needed });
    }
    core::str::from_utf8(out.get(..n).unwrap_or(&[])).map_err(|_| DecodeError::NotUtf8)
}

/// Lower-case hex of a SHA-1 digest, as B2 writes it.
pub fn sha1_hex(d: &[u8; 20]) -> [u8; 40] {
    let mut out = [0u8; 40];
    for (i, b) in d.iter().enumerate() {
        out[2 * i] = HEX_LOWER[usize::from(b >> 4)];
        out[2 * i + 1] = HEX_LOWER[usize::from(b & 15)];
    }
    out
}

/// Parses 40 hex digits (either case) into a digest; `None` for anything else.
pub fn parse_sha1_hex(s: &str) -> Option<[u8; 20]> {
    let b = s.as_bytes();
    if b.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, o) in out.iter_mut().enumerate() {
        *o = hex_val(b[2 * i])? << 4 | hex_val(b[2 * i + 1])?;
    }
    Some(out)
}

/// Renders `base64(user ":" password)` for `Authorization: Basic` through `Display`,
/// without a buffer.
pub fn base64_pair<'a>(user: &'a str, password: &'a str) -> Base64Pair<'a> {
    Base64Pair(user, password)
}

/// `base64(user:password)`, rendered by `Display` (see [`base64_pair`]). Its `Debug` does not
/// show the password.
#[derive(Clone, Copy)]
pub struct Base64Pair<'a>(&'a str, &'a str);

impl fmt::Debug for Base64Pair<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Base64Pair(<redacted>)")
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl fmt::Display for Base64Pair<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = self
            .0
            .bytes()
            .chain(core::iter::once(b':'))
            .chain(self.1.bytes());
        while let Some(a) = bytes.next() {
            let b = bytes.next();
            let c = bytes.next();
            let n = u32::from(a) << 16 | u32::from(b.unwrap_or(0)) << 8 | u32::from(c.unwrap_or(0));
            let mut out = [b'='; 4];
            out[0] = B64[(n >> 18) as usize & 63];
            out[1] = B64[(n >> 12) as usize & 63];
            if b.is_some() {
                out[2] = B64[(n >> 6) as usize & 63];
            }
            if c.is_some() {
                out[3] = B64[n as usize & 63];
            }
            f.write_str(core::str::from_utf8(&out).unwrap_or("===="))?;
            if c.is_none() {
                break;
            }
        }
        Ok(())
    }
}

/// Renders bytes as standard base64 (with `=` padding) through `Display`, without a buffer.
/// Used for SSE-C keys and their MD5; its `Debug` shows nothing of the bytes.
#[derive(Clone, Copy)]
pub struct Base64Bytes<'a>(pub &'a [u8]);

impl fmt::Debug for Base64Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Base64Bytes(<redacted>)")
    }
}

impl fmt::Display for Base64Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.chunks(3) {
            let a = chunk.first().copied().unwrap_or(0);
            let b = chunk.get(1).copied();
            let c = chunk.get(2).copied();
            let n = u32::from(a) << 16 | u32::from(b.unwrap_or(0)) << 8 | u32::from(c.unwrap_or(0));
            let mut out = [b'='; 4];
            out[0] = B64[(n >> 18) as usize & 63];
            out[1] = B64[(n >> 12) as usize & 63];
            if b.is_some() {
                out[2] = B64[(n >> 6) as usize & 63];
            }
            if c.is_some() {
                out[3] = B64[n as usize & 63];
            }
            f.write_str(core::str::from_utf8(&out).unwrap_or("===="))?;
        }
        Ok(())
    }
}

/// Decodes standard base64 (padding required, no whitespace) into exactly `N` bytes;
/// `None` when the text is not that.
pub fn base64_decode_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) || s.len() / 4 * 3 < N || s.len() / 4 * 3 >= N + 3 {
        return None;
    }
    let val = |c: u8| -> Option<u32> { B64.iter().position(|&x| x == c).map(|p| p as u32) };
    let mut out = [0u8; N];
    let mut at = 0usize;
    let quads = s.len() / 4;
    for (qi, q) in s.chunks(4).enumerate() {
        let last = qi + 1 == quads;
        let pads = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pads > 2 || (pads > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in q.iter().enumerate() {
            let v = if i >= 4 - pads { 0 } else { val(c)? };
            n = n << 6 | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        for &b in bytes.iter().take(3 - pads) {
            *out.get_mut(at)? = b;
            at += 1;
        }
    }
    (at == N).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::format;
    use std::string::String;

    #[test]
    fn base64_bytes_round_trip() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8 * 7);
        let text = format!("{}", Base64Bytes(&key));
        assert_eq!(text.len(), 44);
        assert_eq!(base64_decode_exact::<32>(&text), Some(key));
        assert_eq!(format!("{}", Base64Bytes(b"hi")), "aGk=");
        assert_eq!(base64_decode_exact::<2>("aGk="), Some(*b"hi"));
        assert_eq!(base64_decode_exact::<32>("aGk="), None);
        assert_eq!(base64_decode_exact::<2>("a=k="), None);
        assert_eq!(base64_decode_exact::<2>("aG*="), None);
    }

    proptest! {
        #[test]
        fn base64_decode_never_panics(s in "[A-Za-z0-9+/=]{0,60}") {
            let _ = base64_decode_exact::<32>(&s);
            let _ = base64_decode_exact::<16>(&s);
        }

        #[test]
        fn base64_round_trips(b in proptest::collection::vec(any::<u8>(), 16..=16)) {
            let text = format!("{}", Base64Bytes(&b));
            prop_assert_eq!(base64_decode_exact::<16>(&text).map(|a| a.to_vec()), Some(b));
        }
    }

    #[test]
    fn encodes_like_b2() {
        assert_eq!(
            format!("{}", percent_encode("a b+c/d~é")),
            "a%20b%2Bc/d~%C3%A9"
        );
        assert_eq!(percent_encode("a b+c/d~é").encoded_len(), 18);
        assert_eq!(format!("{}", percent_encode("")), "");
    }

    #[test]
    fn decodes_plus_and_escapes() {
        let mut out = [0u8; 32];
        assert_eq!(percent_decode("a+b%2Bc%C3%A9", &mut out), Ok("a b+cé"));
        assert_eq!(percent_decode("%4", &mut out), Err(DecodeError::BadEscape));
        assert_eq!(percent_decode("%FF", &mut out), Err(DecodeError::NotUtf8));
        let mut small = [0u8; 2];
        assert_eq!(
            percent_decode("abc", &mut small),
            Err(DecodeError::TooSmall { needed: 3 })
        );
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(
            format!("{}", base64_pair("Aladdin", "open sesame")),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(format!("{}", base64_pair("a", "")), "YTo=");
        assert_eq!(format!("{}", base64_pair("ab", "c")), "YWI6Yw==");
        assert_eq!(format!("{}", base64_pair("ab", "cd")), "YWI6Y2Q=");
        assert_eq!(
            format!("{:?}", base64_pair("id", "secret")),
            "Base64Pair(<redacted>)"
        );
    }

    proptest! {
        #[test]
        fn percent_round_trip(s in "\\PC*") {
            let enc = format!("{}", percent_encode(&s));
            prop_assert_eq!(enc.len(), percent_encode(&s).encoded_len());
            prop_assert!(!enc.contains('+') && !enc.contains(' '));
            let mut out = std::vec![0u8; s.len()];
            prop_assert_eq!(percent_decode(&enc, &mut out), Ok(s.as_str()));
        }

        #[test]
        fn decode_never_panics(s in ".*") {
            let mut out = [0u8; 64];
            let _ = percent_decode(&s, &mut out);
        }

        #[test]
        fn sha1_hex_round_trip(d in any::<[u8; 20]>()) {
            let hex = sha1_hex(&d);
            let s = core::str::from_utf8(&hex).map(String::from).unwrap_or_default();
            prop_assert_eq!(parse_sha1_hex(&s), Some(d));
            prop_assert_eq!(parse_sha1_hex(&s.to_uppercase()), Some(d));
        }
    }
}
