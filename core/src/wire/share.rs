//! Sharing one private file: the response overrides (`b2Content*`) a download authorization
//! may pin, and the share URL `{downloadUrl}/file/{bucket}/{name}?Authorization=…&b2Content…=…`
//! written into a caller buffer with core's percent-encoding (no allocation).

use core::fmt::Write;

use crate::encoding::percent_encode;
use crate::error::Error;
use crate::wire::json::JsonWriter;

/// Response-header overrides of a by-name download (`b2ContentDisposition` → the answer's
/// `Content-Disposition`, and so on). A download authorization created with some of them
/// works only for downloads that send the same values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContentOverrides<'a> {
    /// `b2ContentDisposition` (RFC 6266, e.g. `attachment; filename="a.pdf"`).
    pub content_disposition: Option<&'a str>,
    /// `b2ContentLanguage`.
    pub content_language: Option<&'a str>,
    /// `b2Expires`.
    pub expires: Option<&'a str>,
    /// `b2CacheControl`.
    pub cache_control: Option<&'a str>,
    /// `b2ContentEncoding`.
    pub content_encoding: Option<&'a str>,
    /// `b2ContentType`.
    pub content_type: Option<&'a str>,
}

impl<'a> ContentOverrides<'a> {
    /// The overrides that are set, as (B2 parameter name, value), in B2's order.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &'a str)> {
        [
            ("b2ContentDisposition", self.content_disposition),
            ("b2ContentLanguage", self.content_language),
            ("b2Expires", self.expires),
            ("b2CacheControl", self.cache_control),
            ("b2ContentEncoding", self.content_encoding),
            ("b2ContentType", self.content_type),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }

    /// Writes the overrides as JSON fields (for `b2_get_download_authorization`).
    pub fn write_json(&self, w: &mut JsonWriter<'_>) {
        for (k, v) in self.pairs() {
            w.str(k, v);
        }
    }

    /// Checks the values: no control characters (they would end a header).
    pub fn check(&self) -> Result<(), crate::InvalidInput> {
        if self
            .pairs()
            .any(|(_, v)| v.bytes().any(|b| b < 0x20 || b == 0x7f))
        {
            return Err(crate::InvalidInput::InfoValue);
        }
        Ok(())
    }
}

struct Out<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + s.len()) {
            dst.copy_from_slice(s.as_bytes());
        }
        self.len += s.len();
        Ok(())
    }
}

/// One file's share URL: `{download_url}/file/{bucket}/{encoded name}` with the download
/// authorization `token` as `?Authorization=` and the `overrides` as `b2Content*`
/// parameters, every value percent-encoded. Written into `out`; its length, or
/// [`Error::BufferTooSmall`] with the size needed. The token is a secret: whoever holds the
/// URL can download the file until the token expires.
pub fn share_url(
    out: &mut [u8],
    download_url: &str,
    bucket_name: &str,
    file_name: &str,
    token: &str,
    overrides: &ContentOverrides<'_>,
) -> Result<usize, Error> {
    crate::validate::file_name(file_name)?;
    crate::validate::bucket_name(bucket_name)?;
    overrides.check()?;
    let mut o = Out { buf: out, len: 0 };
    let base = download_url.trim_end_matches('/');
    // Writing into `Out` never fails; lengths past the buffer are counted.
    let _ = write!(
        o,
        "{base}/file/{bucket_name}/{}?Authorization={}",
        percent_encode(file_name),
        percent_encode(token)
    );
    for (k, v) in overrides.pairs() {
        let _ = write!(o, "&{k}={}", percent_encode(v));
    }
    if o.len > o.buf.len() {
        Err(Error::BufferTooSmall { needed: o.len })
    } else {
        Ok(o.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn url_with_overrides() {
        let mut buf = [0u8; 256];
        let ov = ContentOverrides {
            content_disposition: Some("attachment; filename=\"a b.pdf\""),
            cache_control: Some("max-age=60"),
            ..Default::default()
        };
        let n = share_url(
            &mut buf,
            "https://f000.backblazeb2.com/",
            "my-bucket",
            "dir/a b+c.pdf",
            "3_tok=/x",
            &ov,
        )
        .expect("fits");
        assert_eq!(
            core::str::from_utf8(&buf[..n]),
            Ok("https://f000.backblazeb2.com/file/my-bucket/dir/a%20b%2Bc.pdf?Authorization=3_tok%3D/x&b2ContentDisposition=attachment%3B%20filename%3D%22a%20b.pdf%22&b2CacheControl=max-age%3D60")
        );
        let mut small = [0u8; 10];
        assert_eq!(
            share_url(
                &mut small,
                "http://h",
                "my-bucket",
                "f",
                "t",
                &ContentOverrides::default()
            ),
            Err(Error::BufferTooSmall { needed: 41 })
        );
        let bad = ContentOverrides {
            expires: Some("a\nb"),
            ..Default::default()
        };
        assert!(share_url(&mut buf, "http://h", "my-bucket", "f", "t", &bad).is_err());
    }

    proptest! {
        #[test]
        fn url_decodes_back(name in "[a-z0-9 +%&=?/é]{1,30}", disp in "\\PC{0,20}") {
            prop_assume!(crate::validate::file_name(&name).is_ok());
            let ov = ContentOverrides { content_disposition: Some(&disp), ..Default::default() };
            let mut buf = [0u8; 1024];
            if let Ok(n) = share_url(&mut buf, "http://h", "my-bucket", &name, "tok", &ov) {
                let url = core::str::from_utf8(&buf[..n]).map_err(|_| TestCaseError::fail("utf8"))?;
                let (path, query) = url.split_once('?').ok_or(TestCaseError::fail("query"))?;
                let enc = path.strip_prefix("http://h/file/my-bucket/").ok_or(TestCaseError::fail("path"))?;
                let mut out = [0u8; 512];
                prop_assert_eq!(crate::encoding::percent_decode(enc, &mut out), Ok(name.as_str()));
                let v = query.split('&').find_map(|p| p.strip_prefix("b2ContentDisposition="));
                if !disp.is_empty() || v.is_some() {
                    let v = v.ok_or(TestCaseError::fail("param"))?;
                    prop_assert_eq!(crate::encoding::percent_decode(v, &mut out), Ok(disp.as_str()));
                }
                prop_assert_eq!(query.matches('&').count(), 1);
            }
        }
    }
}
