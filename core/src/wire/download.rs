//! Download answers: the `x-bz-*` headers of `GET`/`HEAD` on `/file/...` and
//! `b2_download_file_by_id`. (Downloads are not JSON calls; `op::download` renders them.)

use crate::encoding::parse_sha1_hex;
use crate::error::BadAnswer;
use crate::http::Headers;

/// What `x-bz-content-sha1` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sha1State {
    /// A verified SHA-1 of the whole file.
    Known([u8; 20]),
    /// `unverified:<hex>`: given by the uploader, not checked by B2.
    Unverified([u8; 20]),
    /// `none` (large files) or absent.
    None,
}

/// The headers of a download answer that the SDK uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DownloadHead<'h> {
    /// Bytes in this answer.
    pub content_length: u64,
    /// Whole-file SHA-1.
    pub content_sha1: Sha1State,
    /// `x-bz-info-large_file_sha1`, when present.
    pub large_file_sha1: Option<[u8; 20]>,
    /// `x-bz-file-id`.
    pub file_id: &'h str,
    /// `x-bz-file-name`, still percent-encoded.
    pub file_name: Option<&'h str>,
    /// `Content-Type`.
    pub content_type: Option<&'h str>,
    /// `Content-Range: bytes a-b/total` of a 206 answer.
    pub content_range: Option<(u64, u64, u64)>,
    /// `x-bz-upload-timestamp`.
    pub upload_timestamp: Option<u64>,
    /// `x-bz-info-src_last_modified_millis` (the source's modification time), when present
    /// and a number.
    pub src_last_modified_millis: Option<u64>,
}

fn parse_sha1_header(v: &str) -> Result<Sha1State, BadAnswer> {
    if v == "none" {
        return Ok(Sha1State::None);
    }
    if let Some(hex) = v.strip_prefix("unverified:") {
        return parse_sha1_hex(hex)
            .map(Sha1State::Unverified)
            .ok_or(BadAnswer::Header);
    }
    parse_sha1_hex(v)
        .map(Sha1State::Known)
        .ok_or(BadAnswer::Header)
}

/// Parses `Content-Range: bytes a-b/total`.
pub fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, total): (u64, u64, u64) = (
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (a <= b && b < total).then_some((a, b, total))
}

/// Reads the download headers; fails when `Content-Length`, `x-bz-file-id` or a present
/// SHA-1 or range header is missing or malformed.
pub fn parse_download_head(h: &dyn Headers) -> Result<DownloadHead<'_>, BadAnswer> {
    let content_length = h
        .get("content-length")
        .and_then(crate::http::parse_content_length)
        .ok_or(BadAnswer::Header)?;
    let content_sha1 = match h.get("x-bz-content-sha1") {
        Some(v) => parse_sha1_header(v.trim())?,
        None => Sha1State::None,
    };
    let large_file_sha1 = match h.get("x-bz-info-large_file_sha1") {
        Some(v) => Some(parse_sha1_hex(v.trim()).ok_or(BadAnswer::Header)?),
        None => None,
    };
    let content_range = match h.get("content-range") {
        Some(v) => Some(parse_content_range(v).ok_or(BadAnswer::Header)?),
        None => None,
    };
    if let Some((a, b, _)) = content_range {
        if b - a + 1 != content_length {
            return Err(BadAnswer::Header);
        }
    }
    Ok(DownloadHead {
        content_length,
        content_sha1,
        large_file_sha1,
        file_id: h.get("x-bz-file-id").ok_or(BadAnswer::Header)?,
        file_name: h.get("x-bz-file-name"),
        content_type: h.get("content-type"),
        content_range,
        src_last_modified_millis: h
            .get("x-bz-info-src_last_modified_millis")
            .and_then(|v| v.trim().parse().ok()),
        upload_timestamp: h
            .get("x-bz-upload-timestamp")
            .and_then(|v| v.trim().parse().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn heads() {
        let h: &[(&str, &str)] = &[
            ("Content-Length", "10"),
            (
                "x-bz-content-sha1",
                "unverified:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
            ),
            ("x-bz-file-id", "id"),
            ("Content-Range", "bytes 5-14/100"),
        ];
        let d = parse_download_head(&h).expect("head");
        assert!(matches!(d.content_sha1, Sha1State::Unverified(_)));
        assert_eq!(d.content_range, Some((5, 14, 100)));
        let bad: &[(&str, &str)] = &[
            ("Content-Length", "10"),
            ("x-bz-file-id", "id"),
            ("Content-Range", "bytes 5-13/100"),
        ];
        assert_eq!(parse_download_head(&bad), Err(BadAnswer::Header));
        let no_id: &[(&str, &str)] = &[("Content-Length", "1")];
        assert_eq!(parse_download_head(&no_id), Err(BadAnswer::Header));
    }

    proptest! {
        #[test]
        fn range_never_panics(s in ".{0,40}") {
            let _ = parse_content_range(&s);
        }
    }
}
