//! Names and metadata: percent encoding, file-name, bucket-name and file-info rules.

use std::collections::BTreeMap;

use crate::error::{ApiError, ApiResult};

/// Longest file name, in UTF-8 bytes.
pub(crate) const MAX_FILE_NAME_BYTES: usize = 1024;
/// Most `X-Bz-Info-*` entries on one file.
pub(crate) const MAX_INFO_ENTRIES: usize = 10;
/// Longest info key, in bytes.
pub(crate) const MAX_INFO_KEY_BYTES: usize = 50;
/// File name plus all info keys and values must fit in this many bytes.
pub(crate) const MAX_HEADER_BYTES: usize = 7000;

/// Percent-decodes a B2 header or path value (`+` means space, as B2 does).
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = hex_val(*b.get(i + 1)?)?;
                let lo = hex_val(*b.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-decodes a URL path segment (a literal `+` stays `+`).
pub(crate) fn percent_decode_path(s: &str) -> Option<String> {
    percent_decode(&s.replace('+', "%2B"))
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes UTF-8, leaving RFC 3986 unreserved characters and `/` as they are.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(c as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(c >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(c & 15)]));
        }
    }
    out
}

/// Checks a file name the way B2 does: 1..=1024 bytes, no control characters, no DEL.
pub(crate) fn validate_file_name(name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(ApiError::bad_request("File names must not be empty"));
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(ApiError::bad_request(format!(
            "File names must be at most {MAX_FILE_NAME_BYTES} bytes when UTF-8 encoded"
        )));
    }
    if name.chars().any(|c| (c as u32) < 32 || c == '\u{7f}') {
        return Err(ApiError::bad_request(
            "File names must not contain control characters or DEL",
        ));
    }
    Ok(())
}

/// Checks a bucket name: 6..=63 letters, digits and `-`, not starting with `b2-`.
pub(crate) fn validate_bucket_name(name: &str) -> ApiResult<()> {
    let ok_chars = name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    if !(6..=63).contains(&name.len()) || !ok_chars {
        return Err(ApiError::new(
            400,
            "bad_bucket_name",
            "Bucket name must be 6 to 63 letters, digits or hyphens",
        ));
    }
    if name.to_ascii_lowercase().starts_with("b2-") {
        return Err(ApiError::new(
            400,
            "bad_bucket_name",
            "Bucket names starting with b2- are reserved",
        ));
    }
    Ok(())
}

/// `b2-*` info keys that B2 accepts (they become HTTP headers on download).
pub(crate) const B2_INFO_KEYS: [(&str, &str); 5] = [
    ("b2-content-disposition", "Content-Disposition"),
    ("b2-content-language", "Content-Language"),
    ("b2-expires", "Expires"),
    ("b2-cache-control", "Cache-Control"),
    ("b2-content-encoding", "Content-Encoding"),
];

/// Checks file info and the name against B2's limits.
pub(crate) fn validate_info(name: &str, info: &BTreeMap<String, String>) -> ApiResult<()> {
    if info.len() > MAX_INFO_ENTRIES {
        return Err(ApiError::bad_request(format!(
            "Too many file info entries: {} (at most {MAX_INFO_ENTRIES})",
            info.len()
        )));
    }
    let mut total = name.len();
    for (k, v) in info {
        if k.is_empty() || k.len() > MAX_INFO_KEY_BYTES {
            return Err(ApiError::bad_request(format!(
                "File info names must be 1 to {MAX_INFO_KEY_BYTES} bytes: {k}"
            )));
        }
        if !k
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return Err(ApiError::bad_request(format!(
                "File info names may only use letters, digits, '-' and '_': {k}"
            )));
        }
        let lower = k.to_ascii_lowercase();
        if lower.starts_with("b2-") && !B2_INFO_KEYS.iter().any(|(n, _)| *n == lower) {
            return Err(ApiError::bad_request(format!(
                "File info name {k} is reserved"
            )));
        }
        total += k.len() + v.len();
    }
    if total > MAX_HEADER_BYTES {
        return Err(ApiError::bad_request(format!(
            "File name and file info are {total} bytes; the limit is {MAX_HEADER_BYTES}"
        )));
    }
    Ok(())
}

/// Picks a content type from a file name's extension, for `b2/x-auto`.
pub(crate) fn guess_content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "js" => "application/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "bin" => "application/octet-stream",
        _ => "application/octet-stream",
    }
}

/// True for 40 lowercase or uppercase hex digits.
pub(crate) fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_roundtrip() {
        let s = "dir/a b+c%é~_.-";
        let e = percent_encode(s);
        assert_eq!(e, "dir/a%20b%2Bc%25%C3%A9~_.-");
        assert_eq!(percent_decode(&e).as_deref(), Some(s));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a b"));
        assert_eq!(percent_decode_path("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%C3"), None);
    }

    #[test]
    fn file_names() {
        assert!(validate_file_name("a/b.txt").is_ok());
        assert!(validate_file_name("").is_err());
        assert!(validate_file_name("a\u{1}b").is_err());
        assert!(validate_file_name("a\u{7f}b").is_err());
        assert!(validate_file_name(&"x".repeat(1024)).is_ok());
        assert!(validate_file_name(&"x".repeat(1025)).is_err());
        assert!(validate_file_name(&"é".repeat(513)).is_err());
    }

    #[test]
    fn bucket_names() {
        assert!(validate_bucket_name("my-bucket-1").is_ok());
        assert!(validate_bucket_name("short").is_err());
        assert!(validate_bucket_name(&"a".repeat(64)).is_err());
        assert!(validate_bucket_name("b2-bucket").is_err());
        assert!(validate_bucket_name("under_score").is_err());
    }

    #[test]
    fn info_limits() {
        let mut info = BTreeMap::new();
        for i in 0..10 {
            info.insert(format!("k{i}"), "v".to_string());
        }
        assert!(validate_info("n", &info).is_ok());
        info.insert("k10".into(), "v".into());
        assert!(validate_info("n", &info).is_err());
        let mut info = BTreeMap::new();
        info.insert("b2-content-disposition".into(), "inline".into());
        assert!(validate_info("n", &info).is_ok());
        info.insert("b2-other".into(), "x".into());
        assert!(validate_info("n", &info).is_err());
        let mut info = BTreeMap::new();
        info.insert("k".repeat(51), "v".into());
        assert!(validate_info("n", &info).is_err());
        let mut info = BTreeMap::new();
        info.insert("big".into(), "v".repeat(7000));
        assert!(validate_info("n", &info).is_err());
    }

    #[test]
    fn auto_types() {
        assert_eq!(guess_content_type("a.TXT"), "text/plain");
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
        assert_eq!(guess_content_type("x.jpeg"), "image/jpeg");
    }
}
