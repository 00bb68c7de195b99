//! Event notification rules: `b2_get_bucket_notification_rules` and
//! `b2_set_bucket_notification_rules` (the set call replaces every rule of the bucket; B2
//! allows at most 25). Event types are an open set (`b2:ObjectCreated:*`, …). The webhook
//! signing secret is hidden by `Debug`.

use super::json::{each_field, required, Text, TextIter, Value};
use super::{api_call, Answer, ApiCall, ArrayIter};
use crate::error::{BadAnswer, Error};

/// Most notification rules a bucket may have.
pub const MAX_NOTIFICATION_RULES: usize = 25;

/// One notification rule to send (webhook target).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationRuleSpec<'a> {
    /// Rule name (letters, digits, `-`; unique in the bucket).
    pub name: &'a str,
    /// Event types, e.g. `b2:ObjectCreated:*`.
    pub event_types: &'a [&'a str],
    /// Whether the rule fires.
    pub is_enabled: bool,
    /// Names the rule watches (`""`: all).
    pub object_name_prefix: &'a str,
    /// Webhook URL (B2 requires `https://`).
    pub url: &'a str,
    /// HMAC-SHA256 signing secret (32 alphanumeric characters), if any.
    pub hmac_sha256_signing_secret: Option<&'a str>,
    /// Extra headers sent with each delivery.
    pub custom_headers: &'a [(&'a str, &'a str)],
}

impl core::fmt::Debug for NotificationRuleSpec<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NotificationRuleSpec")
            .field("name", &self.name)
            .field("event_types", &self.event_types)
            .field("is_enabled", &self.is_enabled)
            .field("object_name_prefix", &self.object_name_prefix)
            .field("url", &self.url)
            .field(
                "hmac_sha256_signing_secret",
                &self.hmac_sha256_signing_secret.map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A notification rule as B2 reports it.
#[derive(Clone)]
pub struct NotificationRule<'a> {
    /// Rule name.
    pub name: Text<'a>,
    /// Event types.
    pub event_types: TextIter<'a>,
    /// Whether the rule fires.
    pub is_enabled: bool,
    /// Whether B2 suspended it (deliveries failing).
    pub is_suspended: bool,
    /// Why it was suspended.
    pub suspension_reason: Option<Text<'a>>,
    /// Names the rule watches.
    pub object_name_prefix: Text<'a>,
    /// `targetConfiguration.targetType` (`webhook`).
    pub target_type: Option<Text<'a>>,
    /// `targetConfiguration.url`.
    pub url: Option<Text<'a>>,
    /// `targetConfiguration.hmacSha256SigningSecret` (a secret).
    pub hmac_sha256_signing_secret: Option<Text<'a>>,
    /// `targetConfiguration.customHeaders`, raw (`[{"name","value"}]`).
    pub custom_headers: Option<&'a [u8]>,
}

impl core::fmt::Debug for NotificationRule<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NotificationRule")
            .field("name", &self.name)
            .field("event_types", &self.event_types)
            .field("is_enabled", &self.is_enabled)
            .field("is_suspended", &self.is_suspended)
            .field("object_name_prefix", &self.object_name_prefix)
            .field("url", &self.url)
            .field(
                "hmac_sha256_signing_secret",
                &self.hmac_sha256_signing_secret.map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn opt_bool(v: Value<'_>) -> Result<bool, BadAnswer> {
    match v {
        Value::Null => Ok(false),
        v => v.bool(),
    }
}

impl<'a> Answer<'a> for NotificationRule<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut r = NotificationRule {
            name: Text::from_raw(""),
            event_types: TextIter::new(b"[]"),
            is_enabled: false,
            is_suspended: false,
            suspension_reason: None,
            object_name_prefix: Text::from_raw(""),
            target_type: None,
            url: None,
            hmac_sha256_signing_secret: None,
            custom_headers: None,
        };
        let mut name = None;
        each_field(body, |k, v| {
            match k.raw() {
                "name" => name = Some(v.text()?),
                "eventTypes" => r.event_types = TextIter::new(v.opt_array()?.unwrap_or(b"[]")),
                "isEnabled" => r.is_enabled = opt_bool(v)?,
                "isSuspended" => r.is_suspended = opt_bool(v)?,
                "suspensionReason" => r.suspension_reason = v.opt_text()?,
                "objectNamePrefix" => {
                    r.object_name_prefix = v.opt_text()?.unwrap_or(Text::from_raw(""))
                }
                "targetConfiguration" => {
                    if let Some(t) = v.opt_object()? {
                        each_field(t, |k, v| {
                            match k.raw() {
                                "targetType" => r.target_type = v.opt_text()?,
                                "url" => r.url = v.opt_text()?,
                                "hmacSha256SigningSecret" => {
                                    r.hmac_sha256_signing_secret = v.opt_text()?
                                }
                                "customHeaders" => r.custom_headers = v.opt_array()?,
                                _ => {}
                            }
                            Ok(())
                        })?;
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        r.name = required(name)?;
        Ok(r)
    }
}

/// Answer of both notification calls: the bucket's rules.
#[derive(Clone, Debug)]
pub struct NotificationRules<'a> {
    /// Bucket.
    pub bucket_id: Text<'a>,
    /// The rules, by name.
    pub rules: ArrayIter<'a, NotificationRule<'a>>,
}

impl<'a> Answer<'a> for NotificationRules<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut bucket, mut rules) = (None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "bucketId" => bucket = Some(v.text()?),
                "eventNotificationRules" => rules = Some(ArrayIter::new(v.array()?)),
                _ => {}
            }
            Ok(())
        })?;
        Ok(NotificationRules {
            bucket_id: required(bucket)?,
            rules: required(rules)?,
        })
    }
}

/// `b2_get_bucket_notification_rules`.
#[derive(Clone, Copy, Debug)]
pub struct GetBucketNotificationRules<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
}
api_call!(
    GetBucketNotificationRules,
    "b2_get_bucket_notification_rules",
    NotificationRules,
    |s, _a, w| {
        w.str("bucketId", s.bucket_id);
    }
);

/// `b2_set_bucket_notification_rules`: replaces every rule of the bucket with `rules`.
#[derive(Clone, Copy, Debug)]
pub struct SetBucketNotificationRules<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// The new rules (empty: none).
    pub rules: &'a [NotificationRuleSpec<'a>],
}
api_call!(
    SetBucketNotificationRules,
    "b2_set_bucket_notification_rules",
    NotificationRules,
    |s, _a, w| {
        w.str("bucketId", s.bucket_id)
            .array("eventNotificationRules");
        for r in s.rules {
            w.item_object()
                .strs("eventTypes", r.event_types.iter().copied())
                .bool("isEnabled", r.is_enabled)
                .str("name", r.name)
                .str("objectNamePrefix", r.object_name_prefix)
                .object("targetConfiguration")
                .str("targetType", "webhook")
                .str("url", r.url)
                .opt_str("hmacSha256SigningSecret", r.hmac_sha256_signing_secret);
            if !r.custom_headers.is_empty() {
                w.array("customHeaders");
                for (n, v) in r.custom_headers {
                    w.item_object().str("name", n).str("value", v).end_object();
                }
                w.end_array();
            }
            w.end_object().end_object();
        }
        w.end_array();
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn set_body_and_answer() {
        let rules = [NotificationRuleSpec {
            name: "r1",
            event_types: &["b2:ObjectCreated:*"],
            is_enabled: true,
            url: "https://example.com/hook",
            hmac_sha256_signing_secret: Some("MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0"),
            custom_headers: &[("X-A", "b")],
            ..Default::default()
        }];
        assert!(!format!("{:?}", rules[0]).contains("MTIz"));
        let mut buf = [0u8; 512];
        let n = SetBucketNotificationRules {
            bucket_id: "b",
            rules: &rules,
        }
        .write_body("acc", &mut buf)
        .expect("body");
        let body = &buf[..n];
        assert_eq!(
            core::str::from_utf8(body),
            Ok(concat!(
                r#"{"bucketId":"b","eventNotificationRules":[{"eventTypes":["b2:ObjectCreated:*"],"isEnabled":true,"#,
                r#""name":"r1","objectNamePrefix":"","targetConfiguration":{"targetType":"webhook","url":"https://example.com/hook","#,
                r#""hmacSha256SigningSecret":"MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0","customHeaders":[{"name":"X-A","value":"b"}]}}]}"#
            ))
        );
        // The sent body reads back as an answer.
        let a = NotificationRules::parse(body).expect("answer");
        let got: std::vec::Vec<_> = a.rules.map(|r| r.expect("rule")).collect();
        assert_eq!(got[0].name, "r1");
        assert!(got[0].is_enabled && !got[0].is_suspended);
        assert_eq!(
            got[0].url.map(|u| u.raw()),
            Some("https://example.com/hook")
        );
        assert!(!format!("{:?}", got[0]).contains("MTIz"));
    }
}
