//! Buckets: list, create, update, delete.

use super::json::{each_field, required, Map, Text, Wrapped};
use super::{api_call, Answer, ApiCall, ArrayIter};
use crate::error::{BadAnswer, Error};

/// A bucket as B2 describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket<'a> {
    /// Owning account.
    pub account_id: Option<Text<'a>>,
    /// Bucket id.
    pub bucket_id: Text<'a>,
    /// Bucket name.
    pub bucket_name: Text<'a>,
    /// `allPublic`, `allPrivate`, `snapshot`, …
    pub bucket_type: Text<'a>,
    /// `bucketInfo` map.
    pub bucket_info: Map<'a>,
    /// Revision, for `ifRevisionIs`.
    pub revision: u64,
    /// `defaultServerSideEncryption`, wrapped: value `{"algorithm", "mode"}`.
    pub default_server_side_encryption: Option<Wrapped<'a>>,
    /// `fileLockConfiguration` (Object Lock), wrapped: value
    /// `{"defaultRetention", "isFileLockEnabled"}`.
    pub file_lock_configuration: Option<Wrapped<'a>>,
    /// `replicationConfiguration`, wrapped.
    pub replication_configuration: Option<Wrapped<'a>>,
}

impl<'a> Answer<'a> for Bucket<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut acct, mut id, mut name, mut ty, mut info, mut rev) =
            (None, None, None, None, None, 0);
        let (mut sse, mut lock, mut replication) = (None, None, None);
        each_field(body, |k, v| {
            match k.raw() {
                // Informational and wrapped: a shape this SDK does not know reads as `None`.
                "defaultServerSideEncryption" => sse = Wrapped::parse(v).ok().flatten(),
                "fileLockConfiguration" => lock = Wrapped::parse(v).ok().flatten(),
                "replicationConfiguration" => replication = Wrapped::parse(v).ok().flatten(),
                "accountId" => acct = v.opt_text()?,
                "bucketId" => id = Some(v.text()?),
                "bucketName" => name = Some(v.text()?),
                "bucketType" => ty = Some(v.text()?),
                "bucketInfo" => info = v.opt_object()?.map(Map::new),
                "revision" => rev = v.opt_u64()?.unwrap_or(0),
                _ => {}
            }
            Ok(())
        })?;
        Ok(Bucket {
            account_id: acct,
            bucket_id: required(id)?,
            bucket_name: required(name)?,
            bucket_type: required(ty)?,
            bucket_info: info.unwrap_or(Map::empty()),
            revision: rev,
            default_server_side_encryption: sse,
            file_lock_configuration: lock,
            replication_configuration: replication,
        })
    }
}

/// `b2_list_buckets` (all buckets, or one by id or name).
#[derive(Clone, Copy, Debug, Default)]
pub struct ListBuckets<'a> {
    /// Only this bucket.
    pub bucket_id: Option<&'a str>,
    /// Only this bucket (needed for keys restricted to one bucket).
    pub bucket_name: Option<&'a str>,
    /// Only these types (e.g. `["allPrivate"]`).
    pub bucket_types: Option<&'a [&'a str]>,
}
api_call!(
    ListBuckets,
    "b2_list_buckets",
    ListBucketsAnswer,
    |s, acct, w| {
        w.str("accountId", acct)
            .opt_str("bucketId", s.bucket_id)
            .opt_str("bucketName", s.bucket_name);
        if let Some(t) = s.bucket_types {
            w.strs("bucketTypes", t.iter().copied());
        }
    }
);

/// Answer of `b2_list_buckets`.
#[derive(Clone, Debug)]
pub struct ListBucketsAnswer<'a> {
    /// The buckets, parsed as reached.
    pub buckets: ArrayIter<'a, Bucket<'a>>,
}

impl<'a> Answer<'a> for ListBucketsAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut buckets = None;
        each_field(body, |k, v| {
            if k.raw() == "buckets" {
                buckets = Some(ArrayIter::new(v.array()?));
            }
            Ok(())
        })?;
        Ok(ListBucketsAnswer {
            buckets: required(buckets)?,
        })
    }
}

/// `b2_create_bucket`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CreateBucket<'a> {
    /// Globally unique name (6..=63 letters, digits, `-`).
    pub bucket_name: &'a str,
    /// `allPublic` or `allPrivate`.
    pub bucket_type: &'a str,
    /// Bucket info entries.
    pub bucket_info: Option<&'a [(&'a str, &'a str)]>,
    /// CORS rules as raw JSON.
    pub cors_rules: Option<&'a str>,
    /// Lifecycle rules as raw JSON.
    pub lifecycle_rules: Option<&'a str>,
    /// Create it with file lock (Object Lock) enabled; it cannot be turned off later.
    pub file_lock_enabled: bool,
}
api_call!(CreateBucket, "b2_create_bucket", Bucket, |s, acct, w| {
    w.str("accountId", acct)
        .str("bucketName", s.bucket_name)
        .str("bucketType", s.bucket_type)
        .opt_map("bucketInfo", s.bucket_info)
        .opt_raw("corsRules", s.cors_rules)
        .opt_raw("lifecycleRules", s.lifecycle_rules);
    if s.file_lock_enabled {
        w.bool("fileLockEnabled", true);
    }
});

/// `b2_update_bucket`.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpdateBucket<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// New type.
    pub bucket_type: Option<&'a str>,
    /// New bucket info (replaces the old).
    pub bucket_info: Option<&'a [(&'a str, &'a str)]>,
    /// New CORS rules, raw JSON.
    pub cors_rules: Option<&'a str>,
    /// New lifecycle rules, raw JSON.
    pub lifecycle_rules: Option<&'a str>,
    /// Only if the bucket is still at this revision.
    pub if_revision_is: Option<u64>,
}
api_call!(UpdateBucket, "b2_update_bucket", Bucket, |s, acct, w| {
    w.str("accountId", acct)
        .str("bucketId", s.bucket_id)
        .opt_str("bucketType", s.bucket_type)
        .opt_map("bucketInfo", s.bucket_info)
        .opt_raw("corsRules", s.cors_rules)
        .opt_raw("lifecycleRules", s.lifecycle_rules)
        .opt_u64("ifRevisionIs", s.if_revision_is);
});

/// `b2_delete_bucket` (the bucket must be empty).
#[derive(Clone, Copy, Debug)]
pub struct DeleteBucket<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
}
api_call!(DeleteBucket, "b2_delete_bucket", Bucket, |s, acct, w| {
    w.str("accountId", acct).str("bucketId", s.bucket_id);
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_create() {
        let a = ListBucketsAnswer::parse(
            br#"{"buckets":[{"accountId":"a","bucketId":"i","bucketName":"n-n-n-n","bucketType":"allPrivate","bucketInfo":{},"corsRules":[],"lifecycleRules":[],"revision":3,"options":["s3"]}]}"#,
        )
        .expect("list");
        let b: std::vec::Vec<_> = a.buckets.collect();
        assert_eq!(b[0].map(|b| b.revision), Ok(3));
        let mut buf = [0u8; 128];
        let n = CreateBucket {
            bucket_name: "abcdef",
            bucket_type: "allPublic",
            ..Default::default()
        }
        .write_body("acc", &mut buf)
        .expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"accountId":"acc","bucketName":"abcdef","bucketType":"allPublic"}"#
        );
    }
}
