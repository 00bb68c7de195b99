//! Application keys: create, list, delete.

use super::json::{each_field, required, Text, TextIter};
use super::{api_call, Answer, ApiCall, ArrayIter};
use crate::error::{BadAnswer, Error};

/// `b2_create_key`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CreateKey<'a> {
    /// Capability names (see [`crate::validate::CAPABILITIES`]).
    pub capabilities: &'a [&'a str],
    /// Key name (letters, digits, `-`; up to 100).
    pub key_name: &'a str,
    /// Lifetime in seconds (1..=86,400,000); `None`: no expiry.
    pub valid_duration_in_seconds: Option<u32>,
    /// Restrict to these buckets (v4 allows several).
    pub bucket_ids: Option<&'a [&'a str]>,
    /// Restrict to names with this prefix (in every bucket, or in `bucket_ids` when given).
    pub name_prefix: Option<&'a str>,
}
api_call!(CreateKey, "b2_create_key", Key, |s, acct, w| {
    w.str("accountId", acct)
        .strs("capabilities", s.capabilities.iter().copied())
        .str("keyName", s.key_name)
        .opt_u64(
            "validDurationInSeconds",
            s.valid_duration_in_seconds.map(u64::from),
        );
    if let Some(ids) = s.bucket_ids {
        w.strs("bucketIds", ids.iter().copied());
    }
    w.opt_str("namePrefix", s.name_prefix);
});

/// `b2_list_keys`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListKeys<'a> {
    /// Page size (B2: up to 10,000; default 100).
    pub max_key_count: Option<u32>,
    /// Start at this key id (from `nextApplicationKeyId`).
    pub start_application_key_id: Option<&'a str>,
}
api_call!(ListKeys, "b2_list_keys", ListKeysAnswer, |s, acct, w| {
    w.str("accountId", acct)
        .opt_u64("maxKeyCount", s.max_key_count.map(u64::from))
        .opt_str("startApplicationKeyId", s.start_application_key_id);
});

/// `b2_delete_key`.
#[derive(Clone, Copy, Debug)]
pub struct DeleteKey<'a> {
    /// Key to delete.
    pub application_key_id: &'a str,
}
api_call!(DeleteKey, "b2_delete_key", Key, |s, _a, w| {
    w.str("applicationKeyId", s.application_key_id);
});

/// An application key. The secret part (only in `b2_create_key` answers) is hidden by `Debug`.
#[derive(Clone)]
pub struct Key<'a> {
    /// Key name.
    pub key_name: Text<'a>,
    /// Key id.
    pub application_key_id: Text<'a>,
    /// The secret key, shown once on creation.
    pub application_key: Option<Text<'a>>,
    /// Capability names.
    pub capabilities: TextIter<'a>,
    /// Account.
    pub account_id: Option<Text<'a>>,
    /// Expiry, milliseconds since the epoch.
    pub expiration_timestamp: Option<u64>,
    /// Buckets the key is restricted to (v4 `bucketIds`, or v3 `bucketId`).
    pub bucket_ids: Option<TextIter<'a>>,
    /// Single bucket restriction (older answers).
    pub bucket_id: Option<Text<'a>>,
    /// Name prefix restriction.
    pub name_prefix: Option<Text<'a>>,
}

impl core::fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Key")
            .field("key_name", &self.key_name)
            .field("application_key_id", &self.application_key_id)
            .field(
                "application_key",
                &self.application_key.map(|_| "<redacted>"),
            )
            .field("capabilities", &self.capabilities)
            .field("bucket_ids", &self.bucket_ids)
            .field("name_prefix", &self.name_prefix)
            .finish()
    }
}

impl<'a> Answer<'a> for Key<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut k = Key {
            key_name: Text::from_raw(""),
            application_key_id: Text::from_raw(""),
            application_key: None,
            capabilities: TextIter::new(b"[]"),
            account_id: None,
            expiration_timestamp: None,
            bucket_ids: None,
            bucket_id: None,
            name_prefix: None,
        };
        let (mut name, mut id) = (None, None);
        each_field(body, |key, v| {
            match key.raw() {
                "keyName" => name = Some(v.text()?),
                "applicationKeyId" => id = Some(v.text()?),
                "applicationKey" => k.application_key = v.opt_text()?,
                "capabilities" => k.capabilities = TextIter::new(v.opt_array()?.unwrap_or(b"[]")),
                "accountId" => k.account_id = v.opt_text()?,
                "expirationTimestamp" => k.expiration_timestamp = v.opt_u64()?,
                "bucketIds" => k.bucket_ids = v.opt_array()?.map(TextIter::new),
                "bucketId" => k.bucket_id = v.opt_text()?,
                "namePrefix" => k.name_prefix = v.opt_text()?,
                _ => {}
            }
            Ok(())
        })?;
        k.key_name = required(name)?;
        k.application_key_id = required(id)?;
        Ok(k)
    }
}

/// One page of `b2_list_keys`.
#[derive(Clone, Debug)]
pub struct ListKeysAnswer<'a> {
    /// The keys, parsed as reached.
    pub keys: ArrayIter<'a, Key<'a>>,
    /// Where the next page starts.
    pub next_application_key_id: Option<Text<'a>>,
}

impl<'a> Answer<'a> for ListKeysAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut keys, mut next) = (None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "keys" => keys = Some(ArrayIter::new(v.array()?)),
                "nextApplicationKeyId" => next = v.opt_text()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(ListKeysAnswer {
            keys: required(keys)?,
            next_application_key_id: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn key_round_trip() {
        let mut buf = [0u8; 256];
        let n = CreateKey {
            capabilities: &["listFiles", "readFiles"],
            key_name: "k1",
            bucket_ids: Some(&["b"]),
            ..Default::default()
        }
        .write_body("acc", &mut buf)
        .expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"accountId":"acc","capabilities":["listFiles","readFiles"],"keyName":"k1","bucketIds":["b"]}"#
        );
        let k = Key::parse(br#"{"keyName":"k1","applicationKeyId":"id","applicationKey":"K-secret","capabilities":["listFiles"],"bucketIds":null,"options":["s3"]}"#)
            .expect("key");
        assert!(!format!("{k:?}").contains("K-secret"));
        assert_eq!(k.capabilities.count(), 1);
    }
}
