//! Server-side copies: `b2_copy_file` (`b2_copy_part` is in [`super::large`]).

use super::file::File;
use super::ApiCall;
use crate::error::{Error, InvalidInput};

/// What a copy does with the source's content type and info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MetadataDirective {
    /// Keep the source's (the default).
    Copy,
    /// Use the given content type and info.
    Replace,
}

/// Renders `bytes=a-b` for a copy range.
pub(crate) fn range_text(range: Option<(u64, u64)>) -> Result<Option<heapless::String<48>>, Error> {
    let Some((a, b)) = range else { return Ok(None) };
    if b < a {
        return Err(InvalidInput::Range.into());
    }
    let mut s = heapless::String::new();
    core::fmt::write(&mut s, format_args!("bytes={a}-{b}"))
        .map_err(|_| Error::from(InvalidInput::Range))?;
    Ok(Some(s))
}

/// `b2_copy_file`: copies a file (or a range of it) to a new name, possibly in another bucket.
#[derive(Clone, Copy, Debug)]
pub struct CopyFile<'a> {
    /// File to copy.
    pub source_file_id: &'a str,
    /// New name.
    pub file_name: &'a str,
    /// Bucket to copy into (default: the source's).
    pub destination_bucket_id: Option<&'a str>,
    /// Inclusive byte range of the source.
    pub range: Option<(u64, u64)>,
    /// Keep or replace metadata.
    pub metadata_directive: MetadataDirective,
    /// Content type, with [`MetadataDirective::Replace`].
    pub content_type: Option<&'a str>,
    /// File info, with [`MetadataDirective::Replace`].
    pub file_info: Option<&'a [(&'a str, &'a str)]>,
    /// Encryption of the new file (`None`: the bucket's default, SSE-B2).
    pub destination_server_side_encryption: Option<super::encryption::Encryption<'a>>,
    /// The source's SSE-C key, when the source is SSE-C (B2 refuses the copy without it).
    pub source_server_side_encryption: Option<&'a super::encryption::CustomerKey>,
    /// Object Lock retention of the new file.
    pub file_retention: Option<super::lock::Retention>,
    /// Object Lock legal hold of the new file.
    pub legal_hold: Option<super::lock::LegalHold>,
}

impl<'a> CopyFile<'a> {
    /// Copies `source_file_id` to `file_name` in the same bucket, metadata kept.
    pub fn new(source_file_id: &'a str, file_name: &'a str) -> Self {
        CopyFile {
            source_file_id,
            file_name,
            destination_bucket_id: None,
            range: None,
            metadata_directive: MetadataDirective::Copy,
            content_type: None,
            file_info: None,
            destination_server_side_encryption: None,
            source_server_side_encryption: None,
            file_retention: None,
            legal_hold: None,
        }
    }
}

impl ApiCall for CopyFile<'_> {
    const NAME: &'static str = "b2_copy_file";
    type Answer<'a> = File<'a>;
    fn write_body(&self, _account_id: &str, out: &mut [u8]) -> Result<usize, Error> {
        let range = range_text(self.range)?;
        let mut w = super::json::JsonWriter::new(out);
        w.str("sourceFileId", self.source_file_id)
            .str("fileName", self.file_name)
            .opt_str("destinationBucketId", self.destination_bucket_id)
            .opt_str("range", range.as_deref());
        match self.metadata_directive {
            MetadataDirective::Copy => {
                w.str("metadataDirective", "COPY");
            }
            MetadataDirective::Replace => {
                w.str("metadataDirective", "REPLACE")
                    .str("contentType", self.content_type.unwrap_or("b2/x-auto"))
                    .opt_map("fileInfo", Some(self.file_info.unwrap_or(&[])));
            }
        }
        if let Some(e) = &self.destination_server_side_encryption {
            e.write_json(&mut w, "destinationServerSideEncryption");
        }
        if let Some(k) = self.source_server_side_encryption {
            super::encryption::Encryption::SseC(k).write_json(&mut w, "sourceServerSideEncryption");
        }
        if let Some(r) = &self.file_retention {
            super::lock::Retention::write_json(Some(r), &mut w, "fileRetention");
        }
        w.opt_str("legalHold", self.legal_hold.map(|h| h.as_str()));
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_bodies() {
        let mut buf = [0u8; 256];
        let n = CopyFile::new("s", "d")
            .write_body("a", &mut buf)
            .expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"sourceFileId":"s","fileName":"d","metadataDirective":"COPY"}"#
        );
        let mut c = CopyFile::new("s", "d");
        c.range = Some((5, 1));
        assert_eq!(
            c.write_body("a", &mut buf),
            Err(Error::Invalid(InvalidInput::Range))
        );
        c.range = Some((1, 5));
        c.metadata_directive = MetadataDirective::Replace;
        c.content_type = Some("text/plain");
        let n = c.write_body("a", &mut buf).expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"sourceFileId":"s","fileName":"d","range":"bytes=1-5","metadataDirective":"REPLACE","contentType":"text/plain","fileInfo":{}}"#
        );
    }
}
