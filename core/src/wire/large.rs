//! Large files: start, parts, finish, cancel, list parts, copy part.

use super::file::{File, FileRef};
use super::json::{each_field, required, Text};
use super::{api_call, Answer, ApiCall, ArrayIter};
use crate::error::{BadAnswer, Error};

/// `b2_start_large_file`.
#[derive(Clone, Copy, Debug)]
pub struct StartLargeFile<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// Name of the file-to-be.
    pub file_name: &'a str,
    /// MIME type (or `b2/x-auto`).
    pub content_type: &'a str,
    /// File info (≤ 10 entries; `large_file_sha1` when the whole SHA-1 is known).
    pub file_info: &'a [(&'a str, &'a str)],
    /// `serverSideEncryption` (`None`: the bucket's default).
    pub server_side_encryption: Option<super::encryption::Encryption<'a>>,
    /// `fileRetention` (Object Lock).
    pub file_retention: Option<super::lock::Retention>,
    /// `legalHold` (Object Lock).
    pub legal_hold: Option<super::lock::LegalHold>,
    /// `customUploadTimestamp`, milliseconds (must be enabled for the account).
    pub custom_upload_timestamp: Option<u64>,
}
api_call!(StartLargeFile, "b2_start_large_file", File, |s, _a, w| {
    w.str("bucketId", s.bucket_id)
        .str("fileName", s.file_name)
        .str("contentType", s.content_type)
        .opt_map("fileInfo", Some(s.file_info));
    if let Some(e) = &s.server_side_encryption {
        e.write_json(&mut w, "serverSideEncryption");
    }
    if let Some(r) = &s.file_retention {
        super::lock::Retention::write_json(Some(r), &mut w, "fileRetention");
    }
    w.opt_str("legalHold", s.legal_hold.map(|h| h.as_str()))
        .opt_u64("customUploadTimestamp", s.custom_upload_timestamp);
});

/// `b2_finish_large_file`. This writer holds the whole body; `op::large` streams it in
/// chunks instead, so that 10,000 parts never need 430 KB of RAM.
#[derive(Clone, Copy, Debug)]
pub struct FinishLargeFile<'a> {
    /// The large file.
    pub file_id: &'a str,
    /// SHA-1 of every part, in order.
    pub part_sha1s: &'a [[u8; 20]],
}

impl ApiCall for FinishLargeFile<'_> {
    const NAME: &'static str = "b2_finish_large_file";
    type Answer<'a> = File<'a>;
    fn write_body(&self, _account_id: &str, out: &mut [u8]) -> Result<usize, Error> {
        let needed = crate::op::large::FinishBody::len(self.file_id, self.part_sha1s.len());
        let needed =
            usize::try_from(needed).map_err(|_| Error::BufferTooSmall { needed: usize::MAX })?;
        if needed > out.len() {
            return Err(Error::BufferTooSmall { needed });
        }
        Ok(crate::op::large::FinishBody::fill(
            self.file_id,
            self.part_sha1s,
            0,
            out,
        ))
    }
}

/// `b2_cancel_large_file`.
#[derive(Clone, Copy, Debug)]
pub struct CancelLargeFile<'a> {
    /// The unfinished large file.
    pub file_id: &'a str,
}
api_call!(
    CancelLargeFile,
    "b2_cancel_large_file",
    FileRef,
    |s, _a, w| {
        w.str("fileId", s.file_id);
    }
);

/// `b2_list_parts`.
#[derive(Clone, Copy, Debug)]
pub struct ListParts<'a> {
    /// The unfinished large file.
    pub file_id: &'a str,
    /// First part number to list.
    pub start_part_number: Option<u32>,
    /// Page size (B2: 1..=1,000).
    pub max_part_count: Option<u32>,
}
api_call!(ListParts, "b2_list_parts", ListPartsAnswer, |s, _a, w| {
    w.str("fileId", s.file_id)
        .opt_u64("startPartNumber", s.start_part_number.map(u64::from))
        .opt_u64("maxPartCount", s.max_part_count.map(u64::from));
});

/// `b2_copy_part`: copies a range of an existing file into a part of a large file.
#[derive(Clone, Copy, Debug)]
pub struct CopyPart<'a> {
    /// File to copy from.
    pub source_file_id: &'a str,
    /// Unfinished large file to copy into.
    pub large_file_id: &'a str,
    /// Part number (1..=10,000).
    pub part_number: u32,
    /// Inclusive byte range of the source (`None`: the whole file).
    pub range: Option<(u64, u64)>,
    /// The source's SSE-C key, when the source is SSE-C.
    pub source_server_side_encryption: Option<&'a super::encryption::CustomerKey>,
    /// The large file's SSE-C key, when it was started with SSE-C.
    pub destination_server_side_encryption: Option<&'a super::encryption::CustomerKey>,
}

impl ApiCall for CopyPart<'_> {
    const NAME: &'static str = "b2_copy_part";
    type Answer<'a> = Part<'a>;
    fn write_body(&self, _account_id: &str, out: &mut [u8]) -> Result<usize, Error> {
        let range = super::copy::range_text(self.range)?;
        let mut w = super::json::JsonWriter::new(out);
        w.str("sourceFileId", self.source_file_id)
            .str("largeFileId", self.large_file_id)
            .u64("partNumber", u64::from(self.part_number))
            .opt_str("range", range.as_deref());
        if let Some(k) = self.source_server_side_encryption {
            super::encryption::Encryption::SseC(k).write_json(&mut w, "sourceServerSideEncryption");
        }
        if let Some(k) = self.destination_server_side_encryption {
            super::encryption::Encryption::SseC(k)
                .write_json(&mut w, "destinationServerSideEncryption");
        }
        w.finish()
    }
}

/// One uploaded part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part<'a> {
    /// The large file.
    pub file_id: Option<Text<'a>>,
    /// Part number.
    pub part_number: u32,
    /// Size in bytes.
    pub content_length: u64,
    /// 40 hex digits.
    pub content_sha1: Option<Text<'a>>,
    /// Milliseconds since the epoch.
    pub upload_timestamp: u64,
}

impl<'a> Answer<'a> for Part<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut p = Part {
            file_id: None,
            part_number: 0,
            content_length: 0,
            content_sha1: None,
            upload_timestamp: 0,
        };
        let (mut number, mut len) = (None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "fileId" => p.file_id = v.opt_text()?,
                "partNumber" => number = Some(v.u32()?),
                "contentLength" => len = Some(v.u64()?),
                "contentSha1" => p.content_sha1 = v.opt_text()?,
                "uploadTimestamp" => p.upload_timestamp = v.opt_u64()?.unwrap_or(0),
                _ => {}
            }
            Ok(())
        })?;
        p.part_number = required(number)?;
        p.content_length = required(len)?;
        Ok(p)
    }
}

/// One page of `b2_list_parts`.
#[derive(Clone, Debug)]
pub struct ListPartsAnswer<'a> {
    /// The parts, parsed as reached.
    pub parts: ArrayIter<'a, Part<'a>>,
    /// Where the next page starts.
    pub next_part_number: Option<u32>,
}

impl<'a> Answer<'a> for ListPartsAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut parts, mut next) = (None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "parts" => parts = Some(ArrayIter::new(v.array()?)),
                "nextPartNumber" => next = v.opt_u32()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(ListPartsAnswer {
            parts: required(parts)?,
            next_part_number: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_page() {
        let a = ListPartsAnswer::parse(
            br#"{"parts":[{"fileId":"f","partNumber":1,"contentLength":5000000,"contentSha1":"00","uploadTimestamp":1}],"nextPartNumber":2}"#,
        )
        .expect("page");
        assert_eq!(a.next_part_number, Some(2));
        let p: std::vec::Vec<_> = a.parts.collect();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].map(|p| p.part_number), Ok(1));
    }

    #[test]
    fn start_body_and_copy_part_range() {
        let mut buf = [0u8; 256];
        let n = StartLargeFile {
            bucket_id: "b",
            file_name: "n",
            content_type: "b2/x-auto",
            file_info: &[("k", "v")],
            server_side_encryption: None,
            file_retention: None,
            legal_hold: None,
            custom_upload_timestamp: None,
        }
        .write_body("a", &mut buf)
        .expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"bucketId":"b","fileName":"n","contentType":"b2/x-auto","fileInfo":{"k":"v"}}"#
        );
        let n = StartLargeFile {
            bucket_id: "b",
            file_name: "n",
            content_type: "t",
            file_info: &[],
            server_side_encryption: Some(super::super::encryption::Encryption::SseB2),
            file_retention: Some(super::super::lock::Retention {
                mode: super::super::lock::RetentionMode::Compliance,
                retain_until_ms: 9,
            }),
            legal_hold: Some(super::super::lock::LegalHold::On),
            custom_upload_timestamp: Some(7),
        }
        .write_body("a", &mut buf)
        .expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"bucketId":"b","fileName":"n","contentType":"t","fileInfo":{},"serverSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},"fileRetention":{"mode":"compliance","retainUntilTimestamp":9},"legalHold":"on","customUploadTimestamp":7}"#
        );
        let n = CopyPart {
            source_file_id: "s",
            large_file_id: "l",
            part_number: 2,
            range: Some((0, 99)),
            source_server_side_encryption: None,
            destination_server_side_encryption: None,
        }
        .write_body("a", &mut buf)
        .expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"sourceFileId":"s","largeFileId":"l","partNumber":2,"range":"bytes=0-99"}"#
        );
        let d = [[0xabu8; 20]; 2];
        let n = FinishLargeFile {
            file_id: "f",
            part_sha1s: &d,
        }
        .write_body("a", &mut buf)
        .expect("body");
        let body = core::str::from_utf8(&buf[..n]).expect("utf8");
        assert!(
            body.starts_with(r#"{"fileId":"f","partSha1Array":[""#),
            "{body}"
        );
    }
}
