//! Upload URLs: `b2_get_upload_url` (small files) and `b2_get_upload_part_url` (parts).
//! The uploads themselves are not JSON calls; `op::upload` renders them.

use super::json::{each_field, required, Text};
use super::{api_call, Answer, ApiCall};
use crate::error::{BadAnswer, Error};

/// `b2_get_upload_url`.
#[derive(Clone, Copy, Debug)]
pub struct GetUploadUrl<'a> {
    /// Bucket to upload into.
    pub bucket_id: &'a str,
}
api_call!(
    GetUploadUrl,
    "b2_get_upload_url",
    UploadUrlAnswer,
    |s, _a, w| {
        w.str("bucketId", s.bucket_id);
    }
);

/// `b2_get_upload_part_url`.
#[derive(Clone, Copy, Debug)]
pub struct GetUploadPartUrl<'a> {
    /// The unfinished large file.
    pub file_id: &'a str,
}
api_call!(
    GetUploadPartUrl,
    "b2_get_upload_part_url",
    UploadUrlAnswer,
    |s, _a, w| {
        w.str("fileId", s.file_id);
    }
);

/// An upload URL and its token. The token is a secret: `Debug` hides it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UploadUrlAnswer<'a> {
    /// Bucket id (for `b2_get_upload_url`).
    pub bucket_id: Option<Text<'a>>,
    /// Large file id (for `b2_get_upload_part_url`).
    pub file_id: Option<Text<'a>>,
    /// Where to upload.
    pub upload_url: Text<'a>,
    /// The upload token.
    pub authorization_token: Text<'a>,
}

impl core::fmt::Debug for UploadUrlAnswer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UploadUrlAnswer")
            .field("bucket_id", &self.bucket_id)
            .field("file_id", &self.file_id)
            .field("upload_url", &self.upload_url)
            .field("authorization_token", &"<redacted>")
            .finish()
    }
}

impl<'a> Answer<'a> for UploadUrlAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut bucket, mut file, mut url, mut token) = (None, None, None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "bucketId" => bucket = v.opt_text()?,
                "fileId" => file = v.opt_text()?,
                "uploadUrl" => url = Some(v.text()?),
                "authorizationToken" => token = Some(v.text()?),
                _ => {}
            }
            Ok(())
        })?;
        Ok(UploadUrlAnswer {
            bucket_id: bucket,
            file_id: file,
            upload_url: required(url)?,
            authorization_token: required(token)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn parses_and_redacts() {
        let a = UploadUrlAnswer::parse(
            br#"{"bucketId":"b","uploadUrl":"http://127.0.0.1:1/up","authorizationToken":"tok-secret"}"#,
        )
        .expect("answer");
        assert_eq!(a.upload_url, "http://127.0.0.1:1/up");
        assert!(!format!("{a:?}").contains("tok-secret"));
        assert_eq!(
            UploadUrlAnswer::parse(br#"{"uploadUrl":"u"}"#),
            Err(BadAnswer::Json)
        );
    }
}
