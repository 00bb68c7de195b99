//! Bucket settings, notification rules, keys with expiry and several buckets, download
//! authorizations and share URLs: owned, typed views over core's wire types (core writes every
//! request and reads every answer; this file only converts).

use std::fmt;

use b2_core::wire::auth::GetDownloadAuthorization;
use b2_core::wire::key::{CreateKey, Key as WireKey, ListKeys};
use b2_core::wire::notify::{
    GetBucketNotificationRules, NotificationRule as WireRule, NotificationRuleSpec,
    NotificationRules, SetBucketNotificationRules,
};
pub use b2_core::wire::settings::DefaultEncryption;
use b2_core::wire::settings::{
    BucketSettings as WireSettings, CorsRuleSpec, GetBucketSettings, LifecycleRuleSpec,
    ReplicationRuleSpec, ReplicationSpec, UpdateBucketSettings,
};
use b2_core::wire::settings::{DefaultRetention, FileLockSettings};
use b2_core::wire::share::ContentOverrides;

use super::{text, Client, ClientError, NewKey, Result};

/// A lifecycle rule (B2 "Lifecycle Rules").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LifecycleRule {
    /// Names the rule applies to (`""`: all).
    pub file_name_prefix: String,
    /// Hide a file this many days after upload.
    pub days_from_uploading_to_hiding: Option<u32>,
    /// Delete a hidden version this many days after it was hidden.
    pub days_from_hiding_to_deleting: Option<u32>,
    /// Cancel an unfinished large file this many days after it started.
    pub days_from_starting_to_canceling_unfinished_large_files: Option<u32>,
}

/// A CORS rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsRule {
    /// Rule name.
    pub name: String,
    /// Origins.
    pub allowed_origins: Vec<String>,
    /// Operations (`b2_download_file_by_name`, `s3_get`, …).
    pub allowed_operations: Vec<String>,
    /// Headers a browser may send.
    pub allowed_headers: Vec<String>,
    /// Headers a browser may read.
    pub expose_headers: Vec<String>,
    /// Preflight cache time, seconds.
    pub max_age_seconds: u32,
}

/// A replication rule of a source bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicationRule {
    /// Rule name.
    pub name: String,
    /// Destination bucket id.
    pub destination_bucket_id: String,
    /// Names replicated.
    pub file_name_prefix: String,
    /// Replicate files already there too.
    pub include_existing_files: bool,
    /// Whether the rule runs.
    pub is_enabled: bool,
    /// Priority (higher wins).
    pub priority: u32,
}

/// A bucket's replication configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replication {
    /// As a source: the key B2 reads with.
    pub source_key_id: Option<String>,
    /// As a source: the rules.
    pub rules: Vec<ReplicationRule>,
    /// As a destination: source key id → destination key id.
    pub key_mapping: Option<Vec<(String, String)>>,
}

/// Every setting of a bucket, read back in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketSettings {
    /// Bucket id.
    pub id: String,
    /// Bucket name.
    pub name: String,
    /// Type (`allPublic`, `allPrivate`, `snapshot`, `shared`, … an open set).
    pub bucket_type: String,
    /// Revision (for `if_revision_is`).
    pub revision: u64,
    /// Bucket info.
    pub info: Vec<(String, String)>,
    /// CORS rules.
    pub cors_rules: Vec<CorsRule>,
    /// Lifecycle rules.
    pub lifecycle_rules: Vec<LifecycleRule>,
    /// Replication; `None` when there is none or the key may not read it
    /// (`replication_readable` says which).
    pub replication: Option<Replication>,
    /// Whether the key may read the replication configuration.
    pub replication_readable: bool,
    /// Default encryption mode (`SSE-B2`), when readable and set.
    pub default_encryption: Option<String>,
    /// Object Lock: whether file lock is on and the default retention; `None` when the key
    /// may not read it (`readBucketRetentions`).
    pub file_lock: Option<FileLockSettings>,
    /// Options (`s3`, …).
    pub options: Vec<String>,
    /// B2's JSON for the bucket (its own field names).
    pub json: String,
}

/// Changes to a bucket's settings; `None` leaves a setting as it is, an empty list clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketUpdate {
    /// New type.
    pub bucket_type: Option<String>,
    /// New bucket info (replaces the old).
    pub info: Option<Vec<(String, String)>>,
    /// New CORS rules.
    pub cors_rules: Option<Vec<CorsRule>>,
    /// New lifecycle rules.
    pub lifecycle_rules: Option<Vec<LifecycleRule>>,
    /// New replication configuration.
    pub replication: Option<Replication>,
    /// New default encryption.
    pub default_encryption: Option<DefaultEncryption>,
    /// Turn file lock (Object Lock) on; it can never be turned off.
    pub file_lock_enabled: bool,
    /// New default retention for new files (needs file lock).
    pub default_retention: Option<DefaultRetention>,
    /// Only if the bucket is still at this revision.
    pub if_revision_is: Option<u64>,
}

/// An event notification rule (webhook). `Debug` hides the signing secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NotificationRule {
    /// Rule name.
    pub name: String,
    /// Event types (`b2:ObjectCreated:*`, …).
    pub event_types: Vec<String>,
    /// Whether it fires.
    pub is_enabled: bool,
    /// Whether B2 suspended it (read only).
    pub is_suspended: bool,
    /// Why it was suspended (read only).
    pub suspension_reason: Option<String>,
    /// Names watched.
    pub object_name_prefix: String,
    /// Webhook URL.
    pub url: String,
    /// HMAC-SHA256 signing secret.
    pub signing_secret: Option<String>,
    /// Extra headers sent with each delivery.
    pub custom_headers: Vec<(String, String)>,
}

impl fmt::Debug for NotificationRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationRule")
            .field("name", &self.name)
            .field("event_types", &self.event_types)
            .field("is_enabled", &self.is_enabled)
            .field("is_suspended", &self.is_suspended)
            .field("object_name_prefix", &self.object_name_prefix)
            .field("url", &self.url)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Options of a new key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyOptions {
    /// Lifetime in seconds (1..=86,400,000); `None`: no expiry.
    pub valid_duration_secs: Option<u32>,
    /// Restrict to these buckets (names).
    pub buckets: Vec<String>,
    /// Restrict to names with this prefix.
    pub name_prefix: Option<String>,
}

/// A key as B2 lists it (never the secret).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyDetails {
    /// Key id.
    pub id: String,
    /// Key name.
    pub name: String,
    /// Capabilities.
    pub capabilities: Vec<String>,
    /// Buckets it is restricted to (empty: all).
    pub bucket_ids: Vec<String>,
    /// Name prefix restriction.
    pub name_prefix: Option<String>,
    /// Expiry, ms since the epoch.
    pub expiration_timestamp: Option<u64>,
}

/// Response overrides for a shared download (`b2ContentDisposition` and co).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`.
    pub expires: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
}

impl Overrides {
    fn wire(&self) -> ContentOverrides<'_> {
        ContentOverrides {
            content_disposition: self.content_disposition.as_deref(),
            content_language: self.content_language.as_deref(),
            expires: self.expires.as_deref(),
            cache_control: self.cache_control.as_deref(),
            content_encoding: self.content_encoding.as_deref(),
            content_type: self.content_type.as_deref(),
        }
    }
}

/// A download authorization: downloads by name under `prefix` until it expires. `Debug`
/// hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadAuth {
    /// Bucket id.
    pub bucket_id: String,
    /// Names covered.
    pub prefix: String,
    /// The token (a secret).
    pub token: String,
}

impl fmt::Debug for DownloadAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadAuth")
            .field("bucket_id", &self.bucket_id)
            .field("prefix", &self.prefix)
            .field("token", &"<redacted>")
            .finish()
    }
}

fn texts<'a>(
    it: impl Iterator<Item = std::result::Result<b2_core::wire::Text<'a>, b2_core::error::BadAnswer>>,
) -> Result<Vec<String>> {
    it.map(|t| t.map(text).map_err(|e| b2_core::Error::BadAnswer(e).into()))
        .collect()
}

fn bad(e: b2_core::error::BadAnswer) -> ClientError {
    b2_core::Error::BadAnswer(e).into()
}

fn settings(s: &WireSettings<'_>) -> Result<BucketSettings> {
    let b = &s.bucket;
    let mut cors_rules = Vec::new();
    for r in s.cors_rules.clone() {
        let r = r.map_err(bad)?;
        cors_rules.push(CorsRule {
            name: text(r.cors_rule_name),
            allowed_origins: texts(r.allowed_origins)?,
            allowed_operations: texts(r.allowed_operations)?,
            allowed_headers: texts(r.allowed_headers)?,
            expose_headers: texts(r.expose_headers)?,
            max_age_seconds: r.max_age_seconds,
        });
    }
    let mut lifecycle_rules = Vec::new();
    for r in s.lifecycle_rules.clone() {
        let r = r.map_err(bad)?;
        lifecycle_rules.push(LifecycleRule {
            file_name_prefix: text(r.file_name_prefix),
            days_from_uploading_to_hiding: r.days_from_uploading_to_hiding,
            days_from_hiding_to_deleting: r.days_from_hiding_to_deleting,
            days_from_starting_to_canceling_unfinished_large_files: r
                .days_from_starting_to_canceling_unfinished_large_files,
        });
    }
    let replication = match s.replication().map_err(bad)? {
        None => None,
        Some(r) => {
            let mut rules = Vec::new();
            for x in r.rules {
                let x = x.map_err(bad)?;
                rules.push(ReplicationRule {
                    name: text(x.replication_rule_name),
                    destination_bucket_id: text(x.destination_bucket_id),
                    file_name_prefix: text(x.file_name_prefix),
                    include_existing_files: x.include_existing_files,
                    is_enabled: x.is_enabled,
                    priority: x.priority,
                });
            }
            let key_mapping = r
                .key_mapping
                .map(|m| m.entries().map(|(k, v)| (text(k), text(v))).collect());
            let empty = r.source_application_key_id.is_none() && key_mapping.is_none();
            (!empty).then(|| Replication {
                source_key_id: r.source_application_key_id.map(text),
                rules,
                key_mapping,
            })
        }
    };
    Ok(BucketSettings {
        id: text(b.bucket_id),
        name: text(b.bucket_name),
        bucket_type: text(b.bucket_type),
        revision: b.revision,
        info: b
            .bucket_info
            .entries()
            .map(|(k, v)| (text(k), text(v)))
            .collect(),
        cors_rules,
        lifecycle_rules,
        replication,
        replication_readable: b
            .replication_configuration
            .is_some_and(|w| w.is_client_authorized_to_read),
        default_encryption: s.default_encryption_mode().map(text),
        file_lock: s.file_lock().map_err(bad)?,
        options: texts(s.options.clone())?,
        json: String::from_utf8_lossy(s.raw).into_owned(),
    })
}

fn key_details(k: &WireKey<'_>) -> Result<KeyDetails> {
    let mut bucket_ids = match k.bucket_ids.clone() {
        Some(ids) => texts(ids)?,
        None => Vec::new(),
    };
    if let Some(id) = k.bucket_id {
        if bucket_ids.is_empty() {
            bucket_ids.push(text(id));
        }
    }
    Ok(KeyDetails {
        id: text(k.application_key_id),
        name: text(k.key_name),
        capabilities: texts(k.capabilities.clone())?,
        bucket_ids,
        name_prefix: k.name_prefix.map(text),
        expiration_timestamp: k.expiration_timestamp,
    })
}

fn notification_rule(r: &WireRule<'_>) -> Result<NotificationRule> {
    let mut custom_headers = Vec::new();
    if let Some(raw) = r.custom_headers {
        for h in b2_core::wire::json::items(raw) {
            let obj = h
                .and_then(b2_core::wire::json::Value::object)
                .map_err(bad)?;
            let (mut n, mut v) = (String::new(), String::new());
            b2_core::wire::json::each_field(obj, |k, val| {
                match k.raw() {
                    "name" => n = text(val.text()?),
                    "value" => v = text(val.text()?),
                    _ => {}
                }
                Ok(())
            })
            .map_err(bad)?;
            custom_headers.push((n, v));
        }
    }
    Ok(NotificationRule {
        name: text(r.name),
        event_types: texts(r.event_types.clone())?,
        is_enabled: r.is_enabled,
        is_suspended: r.is_suspended,
        suspension_reason: r.suspension_reason.map(text).filter(|s| !s.is_empty()),
        object_name_prefix: text(r.object_name_prefix),
        url: r.url.map(text).unwrap_or_default(),
        signing_secret: r.hmac_sha256_signing_secret.map(text),
        custom_headers,
    })
}

fn notification_rules(a: NotificationRules<'_>) -> Result<Vec<NotificationRule>> {
    a.rules
        .map(|r| notification_rule(&r.map_err(bad)?))
        .collect()
}

impl Client {
    /// Creates a private (or public) bucket with file lock (Object Lock) enabled, so that
    /// files in it can be given a retention or a legal hold. File lock cannot be turned off.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// client.create_bucket_with_file_lock("my-vault", false)?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn create_bucket_with_file_lock(
        &self,
        name: &str,
        public: bool,
    ) -> Result<super::BucketInfo> {
        b2_core::validate::bucket_name(name)?;
        let bucket_type = if public { "allPublic" } else { "allPrivate" };
        self.call(
            b2_core::wire::bucket::CreateBucket {
                bucket_name: name,
                bucket_type,
                file_lock_enabled: true,
                ..Default::default()
            },
            |b| Ok(super::bucket_model(&b)),
        )
        .map_err(|e| self.explain(e, &["writeBuckets", "writeBucketRetentions"]))
    }
}

impl Client {
    /// Every setting of the bucket named `name` (one `b2_list_buckets`, never cached).
    pub fn bucket_settings(&self, name: &str) -> Result<BucketSettings> {
        b2_core::validate::bucket_name(name)?;
        let found: Vec<BucketSettings> = self
            .call(GetBucketSettings { bucket_name: name }, |a| {
                a.buckets.map(|b| settings(&b.map_err(bad)?)).collect()
            })?;
        found
            .into_iter()
            .find(|b| b.name == name)
            .ok_or_else(|| ClientError::NotFound(format!("bucket {name}")))
    }

    /// Changes the settings of the bucket named `name`; answers the bucket as it now is.
    /// Lifecycle rules are checked first (B2's rules: at most 100, each doing something, no
    /// day count of 0, no two overlapping). With `if_revision_is`, B2 refuses (409
    /// `conflict`) when someone changed the bucket meanwhile.
    pub fn update_bucket_settings(&self, name: &str, u: &BucketUpdate) -> Result<BucketSettings> {
        let id = self.bucket_settings_id(name)?;
        let info: Option<Vec<(&str, &str)>> = u
            .info
            .as_ref()
            .map(|i| i.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect());
        let life: Option<Vec<LifecycleRuleSpec<'_>>> = u.lifecycle_rules.as_ref().map(|l| {
            l.iter()
                .map(|r| LifecycleRuleSpec {
                    file_name_prefix: &r.file_name_prefix,
                    days_from_uploading_to_hiding: r.days_from_uploading_to_hiding,
                    days_from_hiding_to_deleting: r.days_from_hiding_to_deleting,
                    days_from_starting_to_canceling_unfinished_large_files: r
                        .days_from_starting_to_canceling_unfinished_large_files,
                })
                .collect()
        });
        if let Some(l) = &life {
            b2_core::wire::settings::check_lifecycle_rules(l).map_err(|p| {
                ClientError::Config(format!("lifecycle rules B2 would refuse: {p:?}"))
            })?;
        }
        let cors_strs: Option<Vec<[Vec<&str>; 4]>> = u.cors_rules.as_ref().map(|c| {
            c.iter()
                .map(|r| {
                    [
                        r.allowed_origins.iter().map(String::as_str).collect(),
                        r.allowed_operations.iter().map(String::as_str).collect(),
                        r.allowed_headers.iter().map(String::as_str).collect(),
                        r.expose_headers.iter().map(String::as_str).collect(),
                    ]
                })
                .collect()
        });
        let cors: Option<Vec<CorsRuleSpec<'_>>> = u.cors_rules.as_ref().map(|c| {
            c.iter()
                .zip(cors_strs.iter().flatten())
                .map(|(r, s)| CorsRuleSpec {
                    cors_rule_name: &r.name,
                    allowed_origins: &s[0],
                    allowed_operations: &s[1],
                    allowed_headers: &s[2],
                    expose_headers: &s[3],
                    max_age_seconds: r.max_age_seconds,
                })
                .collect()
        });
        let rep_rules: Option<Vec<ReplicationRuleSpec<'_>>> = u.replication.as_ref().map(|r| {
            r.rules
                .iter()
                .map(|x| ReplicationRuleSpec {
                    replication_rule_name: &x.name,
                    destination_bucket_id: &x.destination_bucket_id,
                    file_name_prefix: &x.file_name_prefix,
                    include_existing_files: x.include_existing_files,
                    is_enabled: x.is_enabled,
                    priority: x.priority,
                })
                .collect()
        });
        let rep_map: Option<Vec<(&str, &str)>> = u.replication.as_ref().and_then(|r| {
            r.key_mapping
                .as_ref()
                .map(|m| m.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect())
        });
        let replication = u.replication.as_ref().map(|r| ReplicationSpec {
            as_source: r
                .source_key_id
                .as_deref()
                .map(|k| (k, rep_rules.as_deref().unwrap_or(&[]))),
            as_destination: rep_map.as_deref(),
        });
        let out = self.call(
            UpdateBucketSettings {
                bucket_id: &id,
                bucket_type: u.bucket_type.as_deref(),
                bucket_info: info.as_deref(),
                cors_rules: cors.as_deref(),
                lifecycle_rules: life.as_deref(),
                replication,
                default_encryption: u.default_encryption,
                file_lock_enabled: u.file_lock_enabled,
                default_retention: u.default_retention,
                if_revision_is: u.if_revision_is,
            },
            |s| settings(&s),
        );
        if u.bucket_type.is_some() {
            self.forget_cached_bucket(name);
        }
        out
    }

    fn bucket_settings_id(&self, name: &str) -> Result<String> {
        Ok(self.bucket(name)?.id)
    }

    fn forget_cached_bucket(&self, name: &str) {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    /// The event notification rules of the bucket named `name`.
    pub fn notification_rules(&self, name: &str) -> Result<Vec<NotificationRule>> {
        let id = self.bucket_settings_id(name)?;
        self.call(
            GetBucketNotificationRules { bucket_id: &id },
            notification_rules,
        )
    }

    /// Replaces the event notification rules of the bucket named `name` (empty: none);
    /// answers them as B2 stored them. At most 25.
    pub fn set_notification_rules(
        &self,
        name: &str,
        rules: &[NotificationRule],
    ) -> Result<Vec<NotificationRule>> {
        if rules.len() > b2_core::wire::notify::MAX_NOTIFICATION_RULES {
            return Err(ClientError::Config(format!(
                "B2 allows at most {} notification rules a bucket",
                b2_core::wire::notify::MAX_NOTIFICATION_RULES
            )));
        }
        let id = self.bucket_settings_id(name)?;
        let types: Vec<Vec<&str>> = rules
            .iter()
            .map(|r| r.event_types.iter().map(String::as_str).collect())
            .collect();
        let headers: Vec<Vec<(&str, &str)>> = rules
            .iter()
            .map(|r| {
                r.custom_headers
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect()
            })
            .collect();
        let specs: Vec<NotificationRuleSpec<'_>> = rules
            .iter()
            .zip(types.iter().zip(headers.iter()))
            .map(|(r, (t, h))| NotificationRuleSpec {
                name: &r.name,
                event_types: t,
                is_enabled: r.is_enabled,
                object_name_prefix: &r.object_name_prefix,
                url: &r.url,
                hmac_sha256_signing_secret: r.signing_secret.as_deref(),
                custom_headers: h,
            })
            .collect();
        self.call(
            SetBucketNotificationRules {
                bucket_id: &id,
                rules: &specs,
            },
            notification_rules,
        )
    }

    /// Creates a key with expiry, several buckets (by name) and a name prefix. Capability
    /// names are an open set: names this SDK does not know are sent as given (B2 decides).
    pub fn create_key_with(&self, name: &str, caps: &[&str], o: &KeyOptions) -> Result<NewKey> {
        b2_core::validate::key_name(name)?;
        b2_core::validate::capabilities(caps)?;
        if let Some(d) = o.valid_duration_secs {
            if d == 0 || d > b2_core::validate::MAX_KEY_SECS {
                return Err(ClientError::Config(format!(
                    "a key's lifetime is 1 to {} seconds",
                    b2_core::validate::MAX_KEY_SECS
                )));
            }
        }
        if let Some(p) = &o.name_prefix {
            b2_core::validate::name_prefix(p)?;
        }
        let ids: Vec<String> = o
            .buckets
            .iter()
            .map(|b| self.bucket(b).map(|b| b.id))
            .collect::<Result<_>>()?;
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.call(
            CreateKey {
                capabilities: caps,
                key_name: name,
                valid_duration_in_seconds: o.valid_duration_secs,
                bucket_ids: (!id_refs.is_empty()).then_some(id_refs.as_slice()),
                name_prefix: o.name_prefix.as_deref(),
            },
            |k| {
                Ok(NewKey {
                    id: text(k.application_key_id),
                    key: k.application_key.map(text).unwrap_or_default(),
                })
            },
        )
    }

    /// One key by id, with its restrictions and expiry (B2 has no single-key call: the
    /// listing is paged from that id).
    pub fn get_key(&self, id: &str) -> Result<KeyDetails> {
        let found: Option<KeyDetails> = self.call(
            ListKeys {
                max_key_count: Some(1),
                start_application_key_id: Some(id),
            },
            |a| {
                for k in a.keys {
                    let k = k.map_err(bad)?;
                    if k.application_key_id.eq_str(id) {
                        return key_details(&k).map(Some);
                    }
                }
                Ok(None)
            },
        )?;
        found.ok_or_else(|| ClientError::NotFound(format!("key {id}")))
    }

    /// A download authorization for names under `prefix` in the bucket named `bucket`, valid
    /// `secs` seconds (1..=604,800). With overrides, downloads using it must send the same
    /// values (the share URL does).
    pub fn download_authorization(
        &self,
        bucket: &str,
        prefix: &str,
        secs: u32,
        overrides: &Overrides,
    ) -> Result<DownloadAuth> {
        if !(1..=b2_core::validate::MAX_DOWNLOAD_AUTH_SECS).contains(&secs) {
            return Err(ClientError::Config(format!(
                "a download authorization lasts 1 to {} seconds",
                b2_core::validate::MAX_DOWNLOAD_AUTH_SECS
            )));
        }
        b2_core::validate::name_prefix(prefix)?;
        let ov = overrides.wire();
        ov.check()?;
        let b = self.bucket(bucket)?;
        self.call(
            GetDownloadAuthorization {
                bucket_id: &b.id,
                file_name_prefix: prefix,
                valid_duration_in_seconds: secs,
                overrides: ov,
            },
            |a| {
                Ok(DownloadAuth {
                    bucket_id: text(a.bucket_id),
                    prefix: text(a.file_name_prefix),
                    token: text(a.authorization_token),
                })
            },
        )
    }

    /// A URL that downloads one file of a private bucket for `secs` seconds without
    /// credentials: a download authorization whose prefix is that name (with the overrides
    /// pinned) in `?Authorization=`, the overrides as `b2Content*` parameters. B2 matches by
    /// prefix, so the token also covers longer names that start with this one
    /// (`a.pdf.bak`). The URL carries a secret: whoever has it can download until it expires.
    pub fn share_url(
        &self,
        bucket: &str,
        name: &str,
        secs: u32,
        overrides: &Overrides,
    ) -> Result<String> {
        b2_core::validate::file_name(name)?;
        let auth = self.download_authorization(bucket, name, secs, overrides)?;
        let download_url = self.session().download_url.as_str().to_owned();
        let ov = overrides.wire();
        let mut buf = vec![0u8; 256];
        loop {
            match b2_core::wire::share::share_url(
                &mut buf,
                &download_url,
                bucket,
                name,
                &auth.token,
                &ov,
            ) {
                Ok(n) => {
                    buf.truncate(n);
                    return String::from_utf8(buf)
                        .map_err(|_| ClientError::Config("share URL is not UTF-8".into()));
                }
                Err(b2_core::Error::BufferTooSmall { needed }) if needed > buf.len() => {
                    buf.resize(needed, 0);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let a = DownloadAuth {
            bucket_id: "b".into(),
            prefix: "p".into(),
            token: "tok-secret".into(),
        };
        assert!(!format!("{a:?}").contains("tok-secret"));
        let r = NotificationRule {
            signing_secret: Some("sign-secret".into()),
            ..Default::default()
        };
        assert!(!format!("{r:?}").contains("sign-secret"));
    }
}
