//! Bucket settings, typed: CORS rules, lifecycle rules, replication (as source and as
//! destination), default encryption, and `b2_update_bucket` with `ifRevisionIs`; plus the full
//! read-back of a bucket answer ([`BucketSettings`]), every array walked lazily.
//!
//! Requests take caller slices of `*Spec` values (borrowed `&str`, nothing copied); answers
//! borrow the answer bytes. Unknown fields are ignored; bucket types, CORS operations and
//! replication statuses are open sets (kept as text).

use super::bucket::Bucket;
use super::json::{each_field, required, JsonWriter, Map, Text, TextIter, Value};
use super::{api_call, Answer, ApiCall, ArrayIter};
use crate::error::{BadAnswer, Error};

/// Most lifecycle rules a bucket may have (B2's "Lifecycle Rules" page).
pub const MAX_LIFECYCLE_RULES: usize = 100;
/// Most CORS rules a bucket may have (B2's "CORS Rules" page).
pub const MAX_CORS_RULES: usize = 100;

/// One lifecycle rule to send. B2 applies it to names starting with `file_name_prefix`; at
/// least one of the day counts must be set, and none may be 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifecycleRuleSpec<'a> {
    /// Names the rule applies to (`""`: every file).
    pub file_name_prefix: &'a str,
    /// Hide a file this many days after it was uploaded.
    pub days_from_uploading_to_hiding: Option<u32>,
    /// Delete a hidden version this many days after it was hidden.
    pub days_from_hiding_to_deleting: Option<u32>,
    /// Cancel an unfinished large file this many days after it was started.
    pub days_from_starting_to_canceling_unfinished_large_files: Option<u32>,
}

/// A lifecycle rule as B2 reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifecycleRule<'a> {
    /// Names the rule applies to.
    pub file_name_prefix: Text<'a>,
    /// `daysFromUploadingToHiding`.
    pub days_from_uploading_to_hiding: Option<u32>,
    /// `daysFromHidingToDeleting`.
    pub days_from_hiding_to_deleting: Option<u32>,
    /// `daysFromStartingToCancelingUnfinishedLargeFiles`.
    pub days_from_starting_to_canceling_unfinished_large_files: Option<u32>,
}

impl<'a> Answer<'a> for LifecycleRule<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut prefix, mut hide, mut delete, mut cancel) = (None, None, None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "fileNamePrefix" => prefix = Some(v.text()?),
                "daysFromUploadingToHiding" => hide = v.opt_u32()?,
                "daysFromHidingToDeleting" => delete = v.opt_u32()?,
                "daysFromStartingToCancelingUnfinishedLargeFiles" => cancel = v.opt_u32()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(LifecycleRule {
            file_name_prefix: required(prefix)?,
            days_from_uploading_to_hiding: hide,
            days_from_hiding_to_deleting: delete,
            days_from_starting_to_canceling_unfinished_large_files: cancel,
        })
    }
}

/// Why a set of lifecycle rules would be refused by B2 (checked before any I/O).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleProblem {
    /// More than [`MAX_LIFECYCLE_RULES`].
    TooMany,
    /// A rule with no day count set (it would do nothing).
    Empty(usize),
    /// A day count of 0.
    Zero(usize),
    /// Two rules that apply to the same files (one prefix starts with the other).
    Overlap(usize, usize),
}

/// Checks lifecycle rules as B2 does: at most 100, each with at least one day count, none 0,
/// and no two whose prefixes overlap.
pub fn check_lifecycle_rules(rules: &[LifecycleRuleSpec<'_>]) -> Result<(), LifecycleProblem> {
    if rules.len() > MAX_LIFECYCLE_RULES {
        return Err(LifecycleProblem::TooMany);
    }
    for (i, r) in rules.iter().enumerate() {
        let days = [
            r.days_from_uploading_to_hiding,
            r.days_from_hiding_to_deleting,
            r.days_from_starting_to_canceling_unfinished_large_files,
        ];
        if days.iter().all(Option::is_none) {
            return Err(LifecycleProblem::Empty(i));
        }
        if days.contains(&Some(0)) {
            return Err(LifecycleProblem::Zero(i));
        }
        for (j, o) in rules.iter().enumerate().skip(i + 1) {
            if r.file_name_prefix.starts_with(o.file_name_prefix)
                || o.file_name_prefix.starts_with(r.file_name_prefix)
            {
                return Err(LifecycleProblem::Overlap(i, j));
            }
        }
    }
    Ok(())
}

/// One CORS rule to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CorsRuleSpec<'a> {
    /// Rule name (6..=50 letters, digits, `-`; not starting with `b2-`).
    pub cors_rule_name: &'a str,
    /// Origins (`https://example.com`, `*`, …).
    pub allowed_origins: &'a [&'a str],
    /// Operations (`b2_download_file_by_name`, `s3_get`, …; an open set).
    pub allowed_operations: &'a [&'a str],
    /// Headers a browser may send.
    pub allowed_headers: &'a [&'a str],
    /// Headers a browser may read.
    pub expose_headers: &'a [&'a str],
    /// How long a browser may cache the preflight answer (0..=86,400).
    pub max_age_seconds: u32,
}

/// A CORS rule as B2 reports it.
#[derive(Clone, Debug)]
pub struct CorsRule<'a> {
    /// Rule name.
    pub cors_rule_name: Text<'a>,
    /// Origins.
    pub allowed_origins: TextIter<'a>,
    /// Operations.
    pub allowed_operations: TextIter<'a>,
    /// Headers a browser may send.
    pub allowed_headers: TextIter<'a>,
    /// Headers a browser may read.
    pub expose_headers: TextIter<'a>,
    /// Preflight cache time.
    pub max_age_seconds: u32,
}

impl<'a> Answer<'a> for CorsRule<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut r = CorsRule {
            cors_rule_name: Text::from_raw(""),
            allowed_origins: TextIter::new(b"[]"),
            allowed_operations: TextIter::new(b"[]"),
            allowed_headers: TextIter::new(b"[]"),
            expose_headers: TextIter::new(b"[]"),
            max_age_seconds: 0,
        };
        let mut name = None;
        each_field(body, |k, v| {
            let list = |v: Value<'a>| -> Result<TextIter<'a>, BadAnswer> {
                Ok(TextIter::new(v.opt_array()?.unwrap_or(b"[]")))
            };
            match k.raw() {
                "corsRuleName" => name = Some(v.text()?),
                "allowedOrigins" => r.allowed_origins = list(v)?,
                "allowedOperations" => r.allowed_operations = list(v)?,
                "allowedHeaders" => r.allowed_headers = list(v)?,
                "exposeHeaders" => r.expose_headers = list(v)?,
                "maxAgeSeconds" => r.max_age_seconds = v.opt_u32()?.unwrap_or(0),
                _ => {}
            }
            Ok(())
        })?;
        r.cors_rule_name = required(name)?;
        Ok(r)
    }
}

/// One replication rule of a source bucket, to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplicationRuleSpec<'a> {
    /// Rule name (1..=64 letters, digits, `-`).
    pub replication_rule_name: &'a str,
    /// Bucket the copies go to.
    pub destination_bucket_id: &'a str,
    /// Names replicated (`""`: all).
    pub file_name_prefix: &'a str,
    /// Also replicate files already in the bucket.
    pub include_existing_files: bool,
    /// Whether the rule runs.
    pub is_enabled: bool,
    /// Priority among rules (1..=2,147,483,647; higher wins).
    pub priority: u32,
}

/// A bucket's replication configuration, to send: as a source (rules and the key that
/// reads), as a destination (source key id → destination key id), or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplicationSpec<'a> {
    /// Source side: the key B2 reads with, and the rules.
    pub as_source: Option<(&'a str, &'a [ReplicationRuleSpec<'a>])>,
    /// Destination side: (source key id, destination key id) pairs.
    pub as_destination: Option<&'a [(&'a str, &'a str)]>,
}

/// A replication rule as B2 reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicationRule<'a> {
    /// Rule name.
    pub replication_rule_name: Text<'a>,
    /// Destination bucket.
    pub destination_bucket_id: Text<'a>,
    /// Names replicated.
    pub file_name_prefix: Text<'a>,
    /// Existing files too.
    pub include_existing_files: bool,
    /// Whether the rule runs.
    pub is_enabled: bool,
    /// Priority.
    pub priority: u32,
}

impl<'a> Answer<'a> for ReplicationRule<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut name, mut dest, mut prefix) = (None, None, None);
        let (mut existing, mut enabled, mut priority) = (false, false, 0);
        each_field(body, |k, v| {
            match k.raw() {
                "replicationRuleName" => name = Some(v.text()?),
                "destinationBucketId" => dest = Some(v.text()?),
                "fileNamePrefix" => prefix = v.opt_text()?,
                "includeExistingFiles" => existing = opt_bool(v)?.unwrap_or(false),
                "isEnabled" => enabled = opt_bool(v)?.unwrap_or(false),
                "priority" => priority = v.opt_u32()?.unwrap_or(0),
                _ => {}
            }
            Ok(())
        })?;
        Ok(ReplicationRule {
            replication_rule_name: required(name)?,
            destination_bucket_id: required(dest)?,
            file_name_prefix: prefix.unwrap_or(Text::from_raw("")),
            include_existing_files: existing,
            is_enabled: enabled,
            priority,
        })
    }
}

fn opt_bool(v: Value<'_>) -> Result<Option<bool>, BadAnswer> {
    match v {
        Value::Null => Ok(None),
        v => v.bool().map(Some),
    }
}

/// A bucket's replication configuration as B2 reports it (the `value` of the wrapped
/// `replicationConfiguration`).
#[derive(Clone, Debug)]
pub struct Replication<'a> {
    /// `asReplicationSource.sourceApplicationKeyId`.
    pub source_application_key_id: Option<Text<'a>>,
    /// `asReplicationSource.replicationRules` (empty when not a source).
    pub rules: ArrayIter<'a, ReplicationRule<'a>>,
    /// `asReplicationDestination.sourceToDestinationKeyMapping` (`None` when not a
    /// destination).
    pub key_mapping: Option<Map<'a>>,
}

impl<'a> Answer<'a> for Replication<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut r = Replication {
            source_application_key_id: None,
            rules: ArrayIter::empty(),
            key_mapping: None,
        };
        each_field(body, |k, v| {
            match k.raw() {
                "asReplicationSource" => {
                    if let Some(src) = v.opt_object()? {
                        each_field(src, |k, v| {
                            match k.raw() {
                                "sourceApplicationKeyId" => {
                                    r.source_application_key_id = v.opt_text()?
                                }
                                "replicationRules" => {
                                    r.rules = ArrayIter::new(v.opt_array()?.unwrap_or(b"[]"))
                                }
                                _ => {}
                            }
                            Ok(())
                        })?;
                    }
                }
                "asReplicationDestination" => {
                    if let Some(dst) = v.opt_object()? {
                        r.key_mapping = Some(Map::empty());
                        each_field(dst, |k, v| {
                            if k.raw() == "sourceToDestinationKeyMapping" {
                                r.key_mapping = v.opt_object()?.map(Map::new);
                            }
                            Ok(())
                        })?;
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(r)
    }
}

/// Every setting of a bucket, read back from a bucket answer (`b2_list_buckets`,
/// `b2_update_bucket`, `b2_create_bucket`): the [`Bucket`] fields plus CORS rules, lifecycle
/// rules, replication and options. Costs nothing beyond the answer bytes: arrays are walked
/// when iterated.
#[derive(Clone, Debug)]
pub struct BucketSettings<'a> {
    /// Id, name, type, info, revision and the wrapped fields.
    pub bucket: Bucket<'a>,
    /// `corsRules`.
    pub cors_rules: ArrayIter<'a, CorsRule<'a>>,
    /// `lifecycleRules`.
    pub lifecycle_rules: ArrayIter<'a, LifecycleRule<'a>>,
    /// `options` (e.g. `s3`).
    pub options: TextIter<'a>,
    /// The bucket's JSON as B2 sent it (its own field names), for tools that print it.
    pub raw: &'a [u8],
}

impl<'a> BucketSettings<'a> {
    /// The replication configuration: `None` when the bucket has none or the key may not
    /// read it (see [`Bucket::replication_configuration`]); a malformed one is an error.
    pub fn replication(&self) -> Result<Option<Replication<'a>>, BadAnswer> {
        match self
            .bucket
            .replication_configuration
            .and_then(|w| w.object())
        {
            Some(o) => Replication::parse(o).map(Some),
            None => Ok(None),
        }
    }

    /// The bucket's Object Lock settings, when this key may read them
    /// (`readBucketRetentions`): whether file lock is on, and the default retention.
    pub fn file_lock(&self) -> Result<Option<FileLockSettings>, BadAnswer> {
        let Some(o) = self.bucket.file_lock_configuration.and_then(|w| w.object()) else {
            return Ok(None);
        };
        let mut enabled = false;
        let mut default_retention = DefaultRetention::None;
        each_field(o, |k, v| {
            match k.raw() {
                "isFileLockEnabled" => enabled = !matches!(v, Value::Null) && v.bool()?,
                "defaultRetention" => {
                    if let Some(r) = v.opt_object()? {
                        default_retention = parse_default_retention(r)?;
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(Some(FileLockSettings {
            enabled,
            default_retention,
        }))
    }

    /// The default encryption mode (`SSE-B2`, `SSE-C`…), when readable and set.
    pub fn default_encryption_mode(&self) -> Option<Text<'a>> {
        let o = self
            .bucket
            .default_server_side_encryption
            .and_then(|w| w.object())?;
        let mut mode = None;
        each_field(o, |k, v| {
            if k.raw() == "mode" {
                mode = v.opt_text()?;
            }
            Ok(())
        })
        .ok()?;
        mode
    }
}

impl<'a> Answer<'a> for BucketSettings<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let bucket = Bucket::parse(body)?;
        let (mut cors, mut life, mut options) = (None, None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "corsRules" => cors = v.opt_array()?,
                "lifecycleRules" => life = v.opt_array()?,
                "options" => options = v.opt_array()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(BucketSettings {
            bucket,
            cors_rules: ArrayIter::new(cors.unwrap_or(b"[]")),
            lifecycle_rules: ArrayIter::new(life.unwrap_or(b"[]")),
            options: TextIter::new(options.unwrap_or(b"[]")),
            raw: body,
        })
    }
}

/// `b2_list_buckets` for one bucket by name, answered with every setting.
#[derive(Clone, Copy, Debug)]
pub struct GetBucketSettings<'a> {
    /// The bucket's name.
    pub bucket_name: &'a str,
}
api_call!(
    GetBucketSettings,
    "b2_list_buckets",
    ListBucketSettingsAnswer,
    |s, acct, w| {
        w.str("accountId", acct).str("bucketName", s.bucket_name);
    }
);

/// Answer of [`GetBucketSettings`]: the buckets with all their settings.
#[derive(Clone, Debug)]
pub struct ListBucketSettingsAnswer<'a> {
    /// The buckets (one, or none when the name is unknown).
    pub buckets: ArrayIter<'a, BucketSettings<'a>>,
}

impl<'a> Answer<'a> for ListBucketSettingsAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut buckets = None;
        each_field(body, |k, v| {
            if k.raw() == "buckets" {
                buckets = Some(ArrayIter::new(v.array()?));
            }
            Ok(())
        })?;
        Ok(ListBucketSettingsAnswer {
            buckets: required(buckets)?,
        })
    }
}

/// A bucket's default encryption, to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultEncryption {
    /// SSE-B2 with AES256 (`{"mode": "SSE-B2", "algorithm": "AES256"}`).
    SseB2,
    /// Back to B2's default (`{"mode": null}`, which is SSE-B2 today). `none` is never sent:
    /// B2 refuses it.
    Reset,
}

/// A bucket's default retention for new files (Object Lock; the bucket needs file lock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DefaultRetention {
    /// New files get this mode for `duration` `unit`s from their upload.
    Set {
        /// Governance or compliance.
        mode: super::lock::RetentionMode,
        /// How many units.
        duration: u32,
        /// Days or years.
        unit: RetentionUnit,
    },
    /// No default retention (`{"mode": null}`).
    None,
}

/// The unit of a default retention period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetentionUnit {
    /// Days.
    Days,
    /// Years.
    Years,
}

impl RetentionUnit {
    /// B2's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionUnit::Days => "days",
            RetentionUnit::Years => "years",
        }
    }
}

/// A bucket's Object Lock settings as B2 reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLockSettings {
    /// `isFileLockEnabled`.
    pub enabled: bool,
    /// `defaultRetention` (`None` when its mode is null).
    pub default_retention: DefaultRetention,
}

/// Reads `{"mode": …, "period": {"duration": N, "unit": "days"|"years"}}`.
fn parse_default_retention(o: &[u8]) -> Result<DefaultRetention, BadAnswer> {
    let (mut mode, mut duration, mut unit) = (None, None, None);
    each_field(o, |k, v| {
        match k.raw() {
            "mode" => {
                mode = match v.opt_text()? {
                    None => None,
                    Some(t) if t.eq_str("governance") => {
                        Some(super::lock::RetentionMode::Governance)
                    }
                    Some(t) if t.eq_str("compliance") => {
                        Some(super::lock::RetentionMode::Compliance)
                    }
                    Some(_) => return Err(BadAnswer::Json),
                }
            }
            "period" => {
                if let Some(p) = v.opt_object()? {
                    each_field(p, |k, v| {
                        match k.raw() {
                            "duration" => duration = v.opt_u32()?,
                            "unit" => {
                                unit = match v.opt_text()? {
                                    None => None,
                                    Some(t) if t.eq_str("days") => Some(RetentionUnit::Days),
                                    Some(t) if t.eq_str("years") => Some(RetentionUnit::Years),
                                    Some(_) => return Err(BadAnswer::Json),
                                }
                            }
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
    Ok(match (mode, duration, unit) {
        (None, _, _) => DefaultRetention::None,
        (Some(mode), Some(duration), Some(unit)) => DefaultRetention::Set {
            mode,
            duration,
            unit,
        },
        _ => return Err(BadAnswer::Json),
    })
}

/// Writes `defaultRetention`.
fn write_default_retention(w: &mut JsonWriter<'_>, r: DefaultRetention) {
    w.object("defaultRetention");
    match r {
        DefaultRetention::Set {
            mode,
            duration,
            unit,
        } => {
            w.str("mode", mode.as_str())
                .object("period")
                .u64("duration", u64::from(duration))
                .str("unit", unit.as_str())
                .end_object();
        }
        DefaultRetention::None => {
            w.null("mode");
        }
    }
    w.end_object();
}

/// `b2_update_bucket` with typed settings. Fields left `None` are not sent (unchanged); a
/// `Some(&[])` list clears that setting.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpdateBucketSettings<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// New type (`allPublic`, `allPrivate`, or any type B2 adds).
    pub bucket_type: Option<&'a str>,
    /// New bucket info (replaces the old).
    pub bucket_info: Option<&'a [(&'a str, &'a str)]>,
    /// New CORS rules.
    pub cors_rules: Option<&'a [CorsRuleSpec<'a>]>,
    /// New lifecycle rules.
    pub lifecycle_rules: Option<&'a [LifecycleRuleSpec<'a>]>,
    /// New replication configuration.
    pub replication: Option<ReplicationSpec<'a>>,
    /// New default encryption.
    pub default_encryption: Option<DefaultEncryption>,
    /// Turn file lock (Object Lock) on; it can never be turned off again.
    pub file_lock_enabled: bool,
    /// New default retention (needs file lock).
    pub default_retention: Option<DefaultRetention>,
    /// Only if the bucket is still at this revision (else B2 answers 409 `conflict`).
    pub if_revision_is: Option<u64>,
}

fn write_strs(w: &mut JsonWriter<'_>, k: &str, v: &[&str]) {
    w.strs(k, v.iter().copied());
}

/// Writes `lifecycleRules` (shared with bucket creation).
pub fn write_lifecycle_rules(w: &mut JsonWriter<'_>, rules: &[LifecycleRuleSpec<'_>]) {
    w.array("lifecycleRules");
    for r in rules {
        w.item_object()
            .str("fileNamePrefix", r.file_name_prefix)
            .opt_u64(
                "daysFromUploadingToHiding",
                r.days_from_uploading_to_hiding.map(u64::from),
            )
            .opt_u64(
                "daysFromHidingToDeleting",
                r.days_from_hiding_to_deleting.map(u64::from),
            )
            .opt_u64(
                "daysFromStartingToCancelingUnfinishedLargeFiles",
                r.days_from_starting_to_canceling_unfinished_large_files
                    .map(u64::from),
            )
            .end_object();
    }
    w.end_array();
}

/// Writes `corsRules`.
pub fn write_cors_rules(w: &mut JsonWriter<'_>, rules: &[CorsRuleSpec<'_>]) {
    w.array("corsRules");
    for r in rules {
        w.item_object().str("corsRuleName", r.cors_rule_name);
        write_strs(w, "allowedOrigins", r.allowed_origins);
        write_strs(w, "allowedOperations", r.allowed_operations);
        if !r.allowed_headers.is_empty() {
            write_strs(w, "allowedHeaders", r.allowed_headers);
        }
        if !r.expose_headers.is_empty() {
            write_strs(w, "exposeHeaders", r.expose_headers);
        }
        w.u64("maxAgeSeconds", u64::from(r.max_age_seconds))
            .end_object();
    }
    w.end_array();
}

/// Writes `replicationConfiguration`.
pub fn write_replication(w: &mut JsonWriter<'_>, r: &ReplicationSpec<'_>) {
    w.object("replicationConfiguration");
    if let Some((key, rules)) = r.as_source {
        w.object("asReplicationSource").array("replicationRules");
        for rule in rules {
            w.item_object()
                .str("destinationBucketId", rule.destination_bucket_id)
                .str("fileNamePrefix", rule.file_name_prefix)
                .bool("includeExistingFiles", rule.include_existing_files)
                .bool("isEnabled", rule.is_enabled)
                .u64("priority", u64::from(rule.priority))
                .str("replicationRuleName", rule.replication_rule_name)
                .end_object();
        }
        w.end_array()
            .str("sourceApplicationKeyId", key)
            .end_object();
    }
    if let Some(map) = r.as_destination {
        w.object("asReplicationDestination")
            .opt_map("sourceToDestinationKeyMapping", Some(map))
            .end_object();
    }
    w.end_object();
}

api_call!(
    UpdateBucketSettings,
    "b2_update_bucket",
    BucketSettings,
    |s, acct, w| {
        w.str("accountId", acct)
            .str("bucketId", s.bucket_id)
            .opt_str("bucketType", s.bucket_type)
            .opt_map("bucketInfo", s.bucket_info);
        if let Some(c) = s.cors_rules {
            write_cors_rules(&mut w, c);
        }
        if let Some(l) = s.lifecycle_rules {
            write_lifecycle_rules(&mut w, l);
        }
        if let Some(r) = &s.replication {
            write_replication(&mut w, r);
        }
        match s.default_encryption {
            Some(DefaultEncryption::SseB2) => {
                w.object("defaultServerSideEncryption")
                    .str("mode", "SSE-B2")
                    .str("algorithm", "AES256")
                    .end_object();
            }
            Some(DefaultEncryption::Reset) => {
                w.object("defaultServerSideEncryption")
                    .null("mode")
                    .end_object();
            }
            None => {}
        }
        if s.file_lock_enabled {
            w.bool("fileLockEnabled", true);
        }
        if let Some(r) = s.default_retention {
            write_default_retention(&mut w, r);
        }
        w.opt_u64("ifRevisionIs", s.if_revision_is);
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    const FULL: &[u8] = br#"{"accountId":"a","bucketId":"b1","bucketName":"my-bucket","bucketType":"allPrivate",
      "bucketInfo":{"k":"v"},"corsRules":[{"corsRuleName":"web","allowedOrigins":["https://x"],
      "allowedOperations":["b2_download_file_by_name","s3_get"],"allowedHeaders":null,"exposeHeaders":["x-bz-file-id"],"maxAgeSeconds":60}],
      "lifecycleRules":[{"fileNamePrefix":"logs/","daysFromUploadingToHiding":7,"daysFromHidingToDeleting":1,
      "daysFromStartingToCancelingUnfinishedLargeFiles":null}],"options":["s3"],"revision":4,
      "defaultServerSideEncryption":{"isClientAuthorizedToRead":true,"value":{"algorithm":"AES256","mode":"SSE-B2"}},
      "replicationConfiguration":{"isClientAuthorizedToRead":true,"value":{"asReplicationSource":{
        "replicationRules":[{"destinationBucketId":"b2","fileNamePrefix":"","includeExistingFiles":false,
        "isEnabled":true,"priority":1,"replicationRuleName":"r1"}],"sourceApplicationKeyId":"k1"},
        "asReplicationDestination":{"sourceToDestinationKeyMapping":{"k0":"k2"}}}}}"#;

    #[test]
    fn full_read_back() {
        let s = BucketSettings::parse(FULL).expect("parse");
        assert_eq!(s.bucket.revision, 4);
        let cors: Vec<_> = s.cors_rules.clone().map(|r| r.expect("cors")).collect();
        assert_eq!(cors.len(), 1);
        assert_eq!(cors[0].allowed_operations.clone().count(), 2);
        assert_eq!(cors[0].allowed_headers.clone().count(), 0);
        assert_eq!(cors[0].max_age_seconds, 60);
        let life: Vec<_> = s
            .lifecycle_rules
            .clone()
            .map(|r| r.expect("rule"))
            .collect();
        assert_eq!(life[0].days_from_uploading_to_hiding, Some(7));
        assert_eq!(
            life[0].days_from_starting_to_canceling_unfinished_large_files,
            None
        );
        let rep = s.replication().expect("ok").expect("some");
        assert_eq!(rep.source_application_key_id.map(|t| t.raw()), Some("k1"));
        let rules: Vec<_> = rep.rules.map(|r| r.expect("rule")).collect();
        assert_eq!(rules[0].destination_bucket_id, "b2");
        assert!(rules[0].is_enabled);
        assert_eq!(
            rep.key_mapping.and_then(|m| m.get("k0")).map(|t| t.raw()),
            Some("k2")
        );
        assert_eq!(s.default_encryption_mode().map(|t| t.raw()), Some("SSE-B2"));
        let list =
            ListBucketSettingsAnswer::parse(&[b"{\"buckets\":[".as_slice(), FULL, b"]}"].concat())
                .map(|a| a.buckets.count());
        assert_eq!(list, Ok(1));
    }

    #[test]
    fn unreadable_replication_is_none() {
        let body = br#"{"bucketId":"b","bucketName":"n","bucketType":"shared","replicationConfiguration":{"isClientAuthorizedToRead":false,"value":null}}"#;
        let s = BucketSettings::parse(body).expect("parse");
        assert!(s.replication().expect("ok").is_none());
        assert_eq!(s.bucket.bucket_type, "shared");
        assert_eq!(s.cors_rules.count(), 0);
    }

    #[test]
    fn update_body() {
        let rules = [LifecycleRuleSpec {
            file_name_prefix: "logs/",
            days_from_hiding_to_deleting: Some(1),
            days_from_starting_to_canceling_unfinished_large_files: Some(3),
            ..Default::default()
        }];
        let cors = [CorsRuleSpec {
            cors_rule_name: "webapp",
            allowed_origins: &["*"],
            allowed_operations: &["b2_download_file_by_name"],
            max_age_seconds: 10,
            ..Default::default()
        }];
        let rep = [ReplicationRuleSpec {
            replication_rule_name: "r1",
            destination_bucket_id: "d",
            is_enabled: true,
            priority: 1,
            ..Default::default()
        }];
        let mut buf = [0u8; 1024];
        let n = UpdateBucketSettings {
            bucket_id: "b",
            lifecycle_rules: Some(&rules),
            cors_rules: Some(&cors),
            replication: Some(ReplicationSpec {
                as_source: Some(("k", &rep)),
                as_destination: None,
            }),
            default_encryption: Some(DefaultEncryption::Reset),
            if_revision_is: Some(3),
            ..Default::default()
        }
        .write_body("acc", &mut buf)
        .expect("body");
        let body = core::str::from_utf8(&buf[..n]).expect("utf8");
        assert_eq!(
            body,
            concat!(
                r#"{"accountId":"acc","bucketId":"b","corsRules":[{"corsRuleName":"webapp","allowedOrigins":["*"],"#,
                r#""allowedOperations":["b2_download_file_by_name"],"maxAgeSeconds":10}],"#,
                r#""lifecycleRules":[{"fileNamePrefix":"logs/","daysFromHidingToDeleting":1,"#,
                r#""daysFromStartingToCancelingUnfinishedLargeFiles":3}],"#,
                r#""replicationConfiguration":{"asReplicationSource":{"replicationRules":[{"destinationBucketId":"d","#,
                r#""fileNamePrefix":"","includeExistingFiles":false,"isEnabled":true,"priority":1,"replicationRuleName":"r1"}],"#,
                r#""sourceApplicationKeyId":"k"}},"defaultServerSideEncryption":{"mode":null},"ifRevisionIs":3}"#
            )
        );
    }

    #[test]
    fn file_lock_and_default_retention_go_out_and_come_back() {
        let mut buf = [0u8; 512];
        let n = UpdateBucketSettings {
            bucket_id: "b",
            file_lock_enabled: true,
            default_retention: Some(DefaultRetention::Set {
                mode: super::super::lock::RetentionMode::Governance,
                duration: 7,
                unit: RetentionUnit::Days,
            }),
            ..Default::default()
        }
        .write_body("acc", &mut buf)
        .expect("body");
        assert_eq!(
            core::str::from_utf8(&buf[..n]).expect("utf8"),
            r#"{"accountId":"acc","bucketId":"b","fileLockEnabled":true,"defaultRetention":{"mode":"governance","period":{"duration":7,"unit":"days"}}}"#
        );
        let n = UpdateBucketSettings {
            bucket_id: "b",
            default_retention: Some(DefaultRetention::None),
            ..Default::default()
        }
        .write_body("acc", &mut buf)
        .expect("body");
        assert_eq!(
            core::str::from_utf8(&buf[..n]).expect("utf8"),
            r#"{"accountId":"acc","bucketId":"b","defaultRetention":{"mode":null}}"#
        );
        let answer = br#"{"accountId":"a","bucketId":"b","bucketName":"n","bucketType":"allPrivate","bucketInfo":{},"revision":2,
            "fileLockConfiguration":{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":"compliance","period":{"duration":2,"unit":"years"}},"isFileLockEnabled":true}}}"#;
        let s = BucketSettings::parse(answer).expect("parse");
        assert_eq!(
            s.file_lock(),
            Ok(Some(FileLockSettings {
                enabled: true,
                default_retention: DefaultRetention::Set {
                    mode: super::super::lock::RetentionMode::Compliance,
                    duration: 2,
                    unit: RetentionUnit::Years,
                },
            }))
        );
        let hidden = br#"{"accountId":"a","bucketId":"b","bucketName":"n","bucketType":"allPrivate","bucketInfo":{},"revision":2,
            "fileLockConfiguration":{"isClientAuthorizedToRead":false,"value":null}}"#;
        assert_eq!(
            BucketSettings::parse(hidden).expect("parse").file_lock(),
            Ok(None)
        );
        let bad = br#"{"accountId":"a","bucketId":"b","bucketName":"n","bucketType":"allPrivate","bucketInfo":{},"revision":2,
            "fileLockConfiguration":{"isClientAuthorizedToRead":true,"value":{"defaultRetention":{"mode":"forever","period":null},"isFileLockEnabled":true}}}"#;
        assert!(BucketSettings::parse(bad)
            .expect("parse")
            .file_lock()
            .is_err());
    }

    #[test]
    fn lifecycle_checks() {
        let r = |p, h, d, c| LifecycleRuleSpec {
            file_name_prefix: p,
            days_from_uploading_to_hiding: h,
            days_from_hiding_to_deleting: d,
            days_from_starting_to_canceling_unfinished_large_files: c,
        };
        assert_eq!(
            check_lifecycle_rules(&[r("a/", Some(1), None, None)]),
            Ok(())
        );
        assert_eq!(
            check_lifecycle_rules(&[r("a/", None, None, None)]),
            Err(LifecycleProblem::Empty(0))
        );
        assert_eq!(
            check_lifecycle_rules(&[r("a/", Some(0), None, None)]),
            Err(LifecycleProblem::Zero(0))
        );
        assert_eq!(
            check_lifecycle_rules(&[
                r("photos/", Some(1), None, None),
                r("photos/kittens/", None, Some(2), None)
            ]),
            Err(LifecycleProblem::Overlap(0, 1))
        );
    }

    proptest! {
        #[test]
        fn written_rules_read_back(prefix in "\\PC{0,20}", h in proptest::option::of(1u32..10_000),
                                   d in proptest::option::of(1u32..10_000), c in proptest::option::of(1u32..10_000)) {
            let rules = [LifecycleRuleSpec {
                file_name_prefix: &prefix,
                days_from_uploading_to_hiding: h,
                days_from_hiding_to_deleting: d,
                days_from_starting_to_canceling_unfinished_large_files: c,
            }];
            let mut buf = [0u8; 512];
            let mut w = JsonWriter::new(&mut buf);
            write_lifecycle_rules(&mut w, &rules);
            let n = w.finish().map_err(|_| TestCaseError::fail("fits"))?;
            let mut seen = 0;
            each_field(&buf[..n], |_, v| {
                for r in ArrayIter::<LifecycleRule<'_>>::new(v.array()?) {
                    let r = r?;
                    seen += 1;
                    assert!(r.file_name_prefix.eq_str(&prefix));
                    assert_eq!(r.days_from_uploading_to_hiding, h);
                    assert_eq!(r.days_from_hiding_to_deleting, d);
                    assert_eq!(r.days_from_starting_to_canceling_unfinished_large_files, c);
                }
                Ok(())
            }).map_err(|_| TestCaseError::fail("parse"))?;
            prop_assert_eq!(seen, 1);
        }

        #[test]
        fn settings_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..1200) {
            let _ = BucketSettings::parse(&b).map(|s| (s.cors_rules.count(), s.lifecycle_rules.count()));
            let damaged = &FULL[..cut.min(FULL.len())];
            if let Ok(s) = BucketSettings::parse(damaged) {
                let _ = s.replication().map(|r| r.map(|r| r.rules.count()));
                for c in s.cors_rules.flatten() {
                    let _ = c.allowed_origins.count();
                }
            }
        }
    }
}
