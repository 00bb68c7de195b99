//! Authorization: `b2_authorize_account` and `b2_get_download_authorization`.

use super::json::{each_field, required, Text, TextIter, Value};
use super::{api_call, Answer, ApiCall, ArrayIter};
use crate::error::{BadAnswer, Error};

/// Name of the authorize call (a `GET` with `Authorization: Basic`, not a JSON call).
pub const AUTHORIZE: &str = "b2_authorize_account";

/// A bucket a key is restricted to (v4 `allowed.buckets`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowedBucket<'a> {
    /// Bucket id.
    pub id: Text<'a>,
    /// Bucket name (`null` when the bucket was deleted).
    pub name: Option<Text<'a>>,
}

impl<'a> Answer<'a> for AllowedBucket<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut id, mut name) = (None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "id" => id = Some(v.text()?),
                "name" => name = v.opt_text()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(AllowedBucket {
            id: required(id)?,
            name,
        })
    }
}

/// What a key may do (`apiInfo.storageApi.allowed`).
#[derive(Clone, Debug)]
pub struct AllowedAnswer<'a> {
    /// Buckets the key is restricted to; `None`: all buckets.
    pub buckets: Option<ArrayIter<'a, AllowedBucket<'a>>>,
    /// Capability names.
    pub capabilities: TextIter<'a>,
    /// Name prefix restriction.
    pub name_prefix: Option<Text<'a>>,
}

impl<'a> AllowedAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut a = AllowedAnswer {
            buckets: None,
            capabilities: TextIter::new(b"[]"),
            name_prefix: None,
        };
        each_field(body, |k, v| {
            match k.raw() {
                "buckets" => a.buckets = v.opt_array()?.map(ArrayIter::new),
                "capabilities" => a.capabilities = TextIter::new(v.opt_array()?.unwrap_or(b"[]")),
                "namePrefix" => a.name_prefix = v.opt_text()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(a)
    }

    /// Whether the key has capability `cap`.
    pub fn has(&self, cap: &str) -> bool {
        self.capabilities
            .clone()
            .any(|c| c.is_ok_and(|c| c.eq_str(cap)))
    }
}

/// The v4 authorize answer. The token is a secret: `Debug` hides it.
#[derive(Clone)]
pub struct AuthorizeAnswer<'a> {
    /// Account id (use it, not the key id, in calls that need one).
    pub account_id: Text<'a>,
    /// Account authorization token.
    pub authorization_token: Text<'a>,
    /// Base URL of JSON calls.
    pub api_url: Text<'a>,
    /// Base URL of downloads.
    pub download_url: Text<'a>,
    /// Recommended part size.
    pub recommended_part_size: u64,
    /// Smallest part size allowed (but for the last part).
    pub absolute_minimum_part_size: u64,
    /// What the key may do.
    pub allowed: AllowedAnswer<'a>,
}

impl core::fmt::Debug for AuthorizeAnswer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuthorizeAnswer")
            .field("account_id", &self.account_id)
            .field("authorization_token", &"<redacted>")
            .field("api_url", &self.api_url)
            .field("download_url", &self.download_url)
            .field("recommended_part_size", &self.recommended_part_size)
            .field(
                "absolute_minimum_part_size",
                &self.absolute_minimum_part_size,
            )
            .finish()
    }
}

impl<'a> Answer<'a> for AuthorizeAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut account, mut token, mut storage) = (None, None, None);
        each_field(body, |k, v: Value<'a>| {
            match k.raw() {
                "accountId" => account = Some(v.text()?),
                "authorizationToken" => token = Some(v.text()?),
                "apiInfo" => {
                    each_field(v.object()?, |k, v| {
                        if k.raw() == "storageApi" {
                            storage = Some(v.object()?);
                        }
                        Ok(())
                    })?;
                }
                _ => {}
            }
            Ok(())
        })?;
        let (mut api, mut download, mut rec, mut min, mut allowed) = (None, None, None, None, None);
        each_field(required(storage)?, |k, v| {
            match k.raw() {
                "apiUrl" => api = Some(v.text()?),
                "downloadUrl" => download = Some(v.text()?),
                "recommendedPartSize" => rec = v.opt_u64()?,
                "absoluteMinimumPartSize" => min = Some(v.u64()?),
                "allowed" => allowed = Some(AllowedAnswer::parse(v.object()?)?),
                _ => {}
            }
            Ok(())
        })?;
        let min = required(min)?;
        Ok(AuthorizeAnswer {
            account_id: required(account)?,
            authorization_token: required(token)?,
            api_url: required(api)?,
            download_url: required(download)?,
            recommended_part_size: rec.unwrap_or(min),
            absolute_minimum_part_size: min,
            // Documented as always present; without it nothing is known to be restricted.
            allowed: allowed.unwrap_or(AllowedAnswer {
                buckets: None,
                capabilities: TextIter::new(b"[]"),
                name_prefix: None,
            }),
        })
    }
}

/// `b2_get_download_authorization`: a token for downloading names with a prefix from a
/// private bucket.
#[derive(Clone, Copy, Debug, Default)]
pub struct GetDownloadAuthorization<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// Names the token may download.
    pub file_name_prefix: &'a str,
    /// Lifetime, 1..=604,800 seconds.
    pub valid_duration_in_seconds: u32,
    /// Response overrides the token pins: downloads with it must send the same values.
    pub overrides: crate::wire::share::ContentOverrides<'a>,
}
api_call!(
    GetDownloadAuthorization,
    "b2_get_download_authorization",
    DownloadAuthorization,
    |s, _a, w| {
        w.str("bucketId", s.bucket_id)
            .str("fileNamePrefix", s.file_name_prefix)
            .u64(
                "validDurationInSeconds",
                u64::from(s.valid_duration_in_seconds),
            );
        s.overrides.write_json(&mut w);
    }
);

/// Answer of `b2_get_download_authorization`. `Debug` hides the token.
#[derive(Clone, Copy)]
pub struct DownloadAuthorization<'a> {
    /// Bucket.
    pub bucket_id: Text<'a>,
    /// Prefix the token covers.
    pub file_name_prefix: Text<'a>,
    /// The token (send as `Authorization` or `?Authorization=`).
    pub authorization_token: Text<'a>,
}

impl core::fmt::Debug for DownloadAuthorization<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DownloadAuthorization")
            .field("bucket_id", &self.bucket_id)
            .field("file_name_prefix", &self.file_name_prefix)
            .field("authorization_token", &"<redacted>")
            .finish()
    }
}

impl<'a> Answer<'a> for DownloadAuthorization<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut b, mut p, mut t) = (None, None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "bucketId" => b = Some(v.text()?),
                "fileNamePrefix" => p = Some(v.text()?),
                "authorizationToken" => t = Some(v.text()?),
                _ => {}
            }
            Ok(())
        })?;
        Ok(DownloadAuthorization {
            bucket_id: required(b)?,
            file_name_prefix: required(p)?,
            authorization_token: required(t)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    pub(crate) const V4: &[u8] = br#"{"accountId":"acc1","authorizationToken":"4_tok-secret",
      "apiInfo":{"groupsApi":{},"storageApi":{"apiUrl":"http://127.0.0.1:9","downloadUrl":"http://127.0.0.1:9",
      "s3ApiUrl":"x","absoluteMinimumPartSize":5000000,"recommendedPartSize":100000000,"infoType":"storageApi",
      "allowed":{"buckets":[{"id":"b1","name":"bucket-one"}],"capabilities":["listBuckets","writeFiles"],"namePrefix":null}}},
      "applicationKeyExpirationTimestamp":null}"#;

    #[test]
    fn parses_v4() {
        let a = AuthorizeAnswer::parse(V4).expect("answer");
        assert_eq!(a.account_id, "acc1");
        assert_eq!(a.absolute_minimum_part_size, 5_000_000);
        assert!(a.allowed.has("writeFiles") && !a.allowed.has("deleteFiles"));
        let b: std::vec::Vec<_> = a.allowed.buckets.clone().into_iter().flatten().collect();
        assert_eq!(b.len(), 1);
        assert!(!format!("{a:?}").contains("tok-secret"));
    }

    #[test]
    fn v2_shape_is_not_v4() {
        let v2 = br#"{"accountId":"a","authorizationToken":"t","apiUrl":"u","downloadUrl":"d","minimumPartSize":1}"#;
        assert!(AuthorizeAnswer::parse(v2).is_err());
    }
}
