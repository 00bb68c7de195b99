//! Server-side encryption settings (SSE-B2, SSE-C) and how B2 wants them: headers on
//! uploads, parts, downloads and HEAD; JSON on `b2_start_large_file` and the copies.
//!
//! B2 ("Use Server-Side Encryption with the B2 Native API") encrypts new files with SSE-B2
//! by default and refuses an explicit `none`, so no setting here can say `none`: leave the
//! setting out for the bucket's default. An SSE-C key is a secret: `Debug` and `defmt` never
//! show it, only its MD5 (which B2 itself reports in file answers).

use core::fmt;

use md5::{Digest, Md5};

use crate::encoding::{base64_decode_exact, Base64Bytes};
use crate::error::InvalidInput;
use crate::op::head::HeadWriter;
use crate::wire::json::{each_field, JsonWriter, Text};

/// The only algorithm B2 offers.
pub const ALGORITHM: &str = "AES256";

/// A customer-provided AES-256 key (SSE-C) and its MD5. The key never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomerKey {
    key: [u8; 32],
    md5: [u8; 16],
}

impl CustomerKey {
    /// A key; its MD5 is computed here (RustCrypto `md-5`, about 1 KiB of code on a device).
    pub fn new(key: [u8; 32]) -> Self {
        let md5: [u8; 16] = Md5::digest(key).into();
        CustomerKey { key, md5 }
    }

    /// A key with the MD5 the caller computed (B2 refuses the request if it does not match).
    pub fn with_md5(key: [u8; 32], md5: [u8; 16]) -> Self {
        CustomerKey { key, md5 }
    }

    /// A key from its base64 text (44 characters, as the official tool's
    /// `B2_DESTINATION_SSE_C_KEY_B64` holds it).
    pub fn from_base64(text: &str) -> Result<Self, InvalidInput> {
        base64_decode_exact::<32>(text.trim())
            .map(CustomerKey::new)
            .ok_or(InvalidInput::EncryptionKey)
    }

    /// The key's MD5 (not secret: B2 shows it in file answers).
    pub fn key_md5(&self) -> [u8; 16] {
        self.md5
    }

    /// The key, for the wire only.
    pub fn expose(&self) -> &[u8; 32] {
        &self.key
    }

    /// The three SSE-C request headers.
    pub(crate) fn headers(&self, w: &mut HeadWriter<'_>) {
        w.header(
            "X-Bz-Server-Side-Encryption-Customer-Algorithm",
            format_args!("{ALGORITHM}"),
        );
        w.header(
            "X-Bz-Server-Side-Encryption-Customer-Key",
            format_args!("{}", Base64Bytes(&self.key)),
        );
        w.header(
            "X-Bz-Server-Side-Encryption-Customer-Key-Md5",
            format_args!("{}", Base64Bytes(&self.md5)),
        );
    }
}

impl fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CustomerKey {{ key: <redacted>, key_md5: {} }}",
            Base64Bytes(&self.md5)
        )
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for CustomerKey {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "CustomerKey {{ key: <redacted> }}")
    }
}

/// How B2 encrypts a file this SDK writes (or reads, for SSE-C). There is no `None`: leave
/// the setting out (`Option::None`) for the bucket's default, which is SSE-B2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Encryption<'k> {
    /// SSE-B2: B2 manages the key (AES256).
    SseB2,
    /// SSE-C: the caller's key, needed again for every download, HEAD and copy.
    SseC(&'k CustomerKey),
}

impl<'k> Encryption<'k> {
    /// B2's name of the mode.
    pub fn mode(&self) -> &'static str {
        match self {
            Encryption::SseB2 => "SSE-B2",
            Encryption::SseC(_) => "SSE-C",
        }
    }

    /// The customer key, for SSE-C.
    pub fn customer_key(&self) -> Option<&'k CustomerKey> {
        match self {
            Encryption::SseB2 => None,
            Encryption::SseC(k) => Some(k),
        }
    }

    /// Headers of `b2_upload_file`: `X-Bz-Server-Side-Encryption: AES256` for SSE-B2, the
    /// three customer headers for SSE-C.
    pub(crate) fn upload_headers(&self, w: &mut HeadWriter<'_>) {
        match self {
            Encryption::SseB2 => {
                w.header("X-Bz-Server-Side-Encryption", format_args!("{ALGORITHM}"))
            }
            Encryption::SseC(k) => k.headers(w),
        }
    }

    /// Writes `"field": {"mode", "algorithm"[, "customerKey", "customerKeyMd5"]}`.
    pub(crate) fn write_json(&self, w: &mut JsonWriter<'_>, field: &str) {
        let mut s: heapless::String<192> = heapless::String::new();
        let _ = match self {
            Encryption::SseB2 => core::fmt::write(
                &mut s,
                format_args!(r#"{{"mode":"SSE-B2","algorithm":"{ALGORITHM}"}}"#),
            ),
            Encryption::SseC(k) => core::fmt::write(
                &mut s,
                format_args!(
                    r#"{{"mode":"SSE-C","algorithm":"{ALGORITHM}","customerKey":"{}","customerKeyMd5":"{}"}}"#,
                    Base64Bytes(&k.key),
                    Base64Bytes(&k.md5)
                ),
            ),
        };
        w.opt_raw(field, Some(s.as_str()));
        s.clear();
    }
}

/// The mode of a file's `serverSideEncryption` in an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncryptionMode {
    /// Not encrypted (`{"mode": null}` or `"none"`: files from before B2's default).
    None,
    /// SSE-B2.
    SseB2,
    /// SSE-C.
    SseC,
    /// A mode this SDK does not know.
    Other,
}

/// A file's `serverSideEncryption` as B2 reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileEncryption<'a> {
    /// The mode.
    pub mode: EncryptionMode,
    /// `AES256` when encrypted.
    pub algorithm: Option<Text<'a>>,
    /// Base64 MD5 of the SSE-C key, when B2 shows it.
    pub customer_key_md5: Option<Text<'a>>,
}

impl<'a> FileEncryption<'a> {
    /// Reads `{"mode", "algorithm", "customerKeyMd5"}`; `None` when it is not an object of
    /// that shape.
    pub fn parse(object: &'a [u8]) -> Option<Self> {
        let mut out = FileEncryption {
            mode: EncryptionMode::None,
            algorithm: None,
            customer_key_md5: None,
        };
        each_field(object, |k, v| {
            match k.raw() {
                "mode" => {
                    out.mode = match v.opt_text()?.map(|t| t.raw()) {
                        None | Some("none") => EncryptionMode::None,
                        Some("SSE-B2") => EncryptionMode::SseB2,
                        Some("SSE-C") => EncryptionMode::SseC,
                        Some(_) => EncryptionMode::Other,
                    }
                }
                "algorithm" => out.algorithm = v.opt_text()?,
                "customerKeyMd5" => out.customer_key_md5 = v.opt_text()?,
                _ => {}
            }
            Ok(())
        })
        .ok()?;
        Some(out)
    }

    /// Whether this is SSE-C with `key` (by its MD5).
    pub fn matches(&self, key: &CustomerKey) -> bool {
        self.mode == EncryptionMode::SseC
            && self.customer_key_md5.is_some_and(|t| {
                base64_decode_exact::<16>(t.raw()).is_some_and(|d| d == key.key_md5())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;
    use std::format;

    fn key() -> CustomerKey {
        CustomerKey::new([7u8; 32])
    }

    #[test]
    fn md5_is_rfc1321() {
        // MD5 of 32 zero bytes.
        let k = CustomerKey::new([0u8; 32]);
        assert_eq!(
            k.key_md5(),
            [
                0x70, 0xbc, 0x8f, 0x4b, 0x72, 0xa8, 0x69, 0x21, 0x46, 0x8b, 0xf8, 0xe8, 0x44, 0x1d,
                0xce, 0x51
            ]
        );
    }

    #[test]
    fn key_never_prints() {
        let k = key();
        let text = format!("{:?} {:?}", k, Encryption::SseC(&k));
        let b64 = format!("{}", Base64Bytes(k.expose()));
        assert!(!text.contains(&b64), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn from_base64() {
        let b64 = format!("{}", Base64Bytes(&[7u8; 32]));
        assert_eq!(CustomerKey::from_base64(&b64), Ok(key()));
        assert_eq!(
            CustomerKey::from_base64("short"),
            Err(InvalidInput::EncryptionKey)
        );
    }

    #[test]
    fn headers_and_json() {
        let k = key();
        let mut buf = [0u8; 512];
        let mut w = HeadWriter::new(&mut buf, 0);
        w.url(format_args!("http://h/u"));
        Encryption::SseC(&k).upload_headers(&mut w);
        let r = w.finish(Method::Post, Some(0), None).expect("head");
        assert_eq!(
            r.header("x-bz-server-side-encryption-customer-algorithm"),
            Some("AES256")
        );
        let md5 = format!("{}", Base64Bytes(&k.key_md5()));
        assert_eq!(
            r.header("x-bz-server-side-encryption-customer-key-md5"),
            Some(md5.as_str())
        );
        let mut out = [0u8; 256];
        let mut j = JsonWriter::new(&mut out);
        Encryption::SseB2.write_json(&mut j, "serverSideEncryption");
        let n = j.finish().expect("json");
        assert_eq!(
            &out[..n],
            br#"{"serverSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"}}"#
        );
    }

    #[test]
    fn parses_file_encryption() {
        let k = key();
        let md5 = format!("{}", Base64Bytes(&k.key_md5()));
        let body = format!(r#"{{"algorithm":"AES256","customerKeyMd5":"{md5}","mode":"SSE-C"}}"#);
        let e = FileEncryption::parse(body.as_bytes()).expect("sse");
        assert_eq!(e.mode, EncryptionMode::SseC);
        assert!(e.matches(&k));
        assert!(!e.matches(&CustomerKey::new([8; 32])));
        assert_eq!(
            FileEncryption::parse(br#"{"mode":null}"#).map(|e| e.mode),
            Some(EncryptionMode::None)
        );
        assert_eq!(FileEncryption::parse(b"[1]"), None);
    }
}
