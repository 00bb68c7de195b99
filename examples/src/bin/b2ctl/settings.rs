//! `b2ctl` commands for bucket settings, notification rules, keys and sharing:
//! `bucket get|update|notification-rules`, `key create|get`, `file url`, `get-download-auth`.
//! JSON given on the command line is read with b2-core's own JSON reader (the same code that
//! reads B2's answers), so the field names are B2's.

use std::io::Write;

use b2_core::wire::json::{each_field, ArrayIter, Map, Value};
use b2_core::wire::lock::RetentionMode;
use b2_core::wire::notify::NotificationRule as WireRule;
use b2_core::wire::settings::{
    CorsRule as WireCors, LifecycleRule as WireLife, Replication as WireRep,
};
use b2_core::wire::Answer;
use b2_transport_std::client::{
    BucketSettings, BucketUpdate, Client, ClientError, CorsRule, DefaultEncryption,
    DefaultRetention, KeyOptions, LifecycleRule, NotificationRule, Overrides, Replication,
    ReplicationRule, RetentionUnit,
};
use clap::{Args, Subcommand};

/// `bucket` subcommands added here (flattened into `bucket`).
#[derive(Subcommand, Debug)]
pub enum BucketSettingsCmd {
    /// Show every setting of a bucket (type, info, CORS, lifecycle, replication, encryption).
    Get {
        /// Bucket name.
        name: String,
        /// Also `fileCount` and `totalSize` (every version and hide marker; lists the whole
        /// bucket, one class C call per 1,000 versions).
        #[arg(long)]
        show_size: bool,
        /// Print B2's JSON for the bucket.
        #[arg(long)]
        json: bool,
    },
    /// Change a bucket's settings; settings not given stay as they are.
    Update(Box<UpdateArgs>),
    /// A bucket's event notification rules.
    #[command(subcommand, name = "notification-rules")]
    NotificationRules(NotifyCmd),
}

/// Arguments of `bucket update`.
#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Bucket name.
    name: String,
    /// New type, as the official tool takes it: allPublic, allPrivate (or any type B2
    /// accepts).
    #[arg(conflicts_with = "bucket_type")]
    new_type: Option<String>,
    /// New type (the same as the positional TYPE).
    #[arg(long = "type")]
    bucket_type: Option<String>,
    /// New bucket info, a JSON object of strings (replaces the old).
    #[arg(long)]
    bucket_info: Option<String>,
    /// New CORS rules, a JSON list (B2's field names; `[]` clears them).
    #[arg(long)]
    cors_rules: Option<String>,
    /// A lifecycle rule, a JSON object (repeat for several; all rules are replaced).
    #[arg(long = "lifecycle-rule")]
    lifecycle_rules: Vec<String>,
    /// Remove every lifecycle rule.
    #[arg(long, conflicts_with = "lifecycle_rules")]
    no_lifecycle_rules: bool,
    /// Replication configuration, a JSON object with `asReplicationSource` and/or
    /// `asReplicationDestination` (B2's field names).
    #[arg(long)]
    replication: Option<String>,
    /// Default encryption: SSE-B2, or "default" to reset to B2's default (none is refused).
    #[arg(long)]
    default_server_side_encryption: Option<String>,
    /// Turn file lock (Object Lock) on (it cannot be turned off).
    #[arg(long)]
    file_lock_enabled: bool,
    /// Default retention mode for new files: governance, compliance, or none (needs file
    /// lock; with a mode, --default-retention-period too).
    #[arg(long, value_parser = ["governance", "compliance", "none"])]
    default_retention_mode: Option<String>,
    /// Default retention period, "N days" or "N years".
    #[arg(long, value_name = "PERIOD")]
    default_retention_period: Option<String>,
    /// Only if the bucket is still at this revision.
    #[arg(long)]
    if_revision_is: Option<u64>,
    /// Print B2's JSON for the bucket afterwards.
    #[arg(long)]
    json: bool,
}

/// `bucket notification-rules`.
#[derive(Subcommand, Debug)]
pub enum NotifyCmd {
    /// Show the rules.
    Get {
        /// Bucket name.
        name: String,
    },
    /// Replace the rules with a JSON list (B2's field names; `[]` removes them all).
    Set {
        /// Bucket name.
        name: String,
        /// The rules, e.g. `[{"name":"r","eventTypes":["b2:ObjectCreated:*"],"isEnabled":true,
        /// "objectNamePrefix":"","targetConfiguration":{"targetType":"webhook","url":"https://..."}}]`.
        rules: String,
    },
}

/// `key` subcommands added here (flattened into `key`).
#[derive(Subcommand, Debug)]
pub enum KeySettingsCmd {
    /// Create a key; prints its id and secret. Capability names B2 added after this tool
    /// are sent with a warning, never refused here.
    Create(KeyCreate),
    /// Show one key: capabilities, buckets, prefix, expiry.
    Get {
        /// Key id.
        key_id: String,
    },
}

/// Arguments of `key create`.
#[derive(Args, Debug)]
pub struct KeyCreate {
    /// Key name.
    name: String,
    /// Capabilities, comma-separated (or --caps).
    caps_arg: Option<String>,
    /// Capabilities, comma-separated.
    #[arg(long, value_delimiter = ',', required_unless_present = "caps_arg")]
    caps: Vec<String>,
    /// Lifetime in seconds (1 to 86400000); default: no expiry.
    #[arg(long)]
    duration: Option<u32>,
    /// Restrict to this bucket (repeat for several).
    #[arg(long = "bucket")]
    buckets: Vec<String>,
    /// Restrict to names with this prefix.
    #[arg(long, alias = "prefix")]
    name_prefix: Option<String>,
}

/// Top-level commands added here.
#[derive(Subcommand, Debug)]
pub enum TopCmd {
    /// A download authorization token for names with a prefix in a private bucket.
    GetDownloadAuth {
        /// Bucket name.
        bucket: String,
        /// Names the token covers (default: all).
        #[arg(long, default_value = "")]
        prefix: String,
        /// Lifetime in seconds (1 to 604800).
        #[arg(long, default_value_t = 86_400)]
        duration: u32,
        #[command(flatten)]
        overrides: OverrideArgs,
    },
}

/// `file url`'s authorization options.
#[derive(Args, Debug)]
pub struct UrlAuthArgs {
    /// Include a download authorization for exactly this file (a share URL that downloads
    /// it from a private bucket without credentials until it expires; `b2://` only).
    #[arg(long)]
    pub with_auth: bool,
    /// Lifetime of the authorization in seconds (1 to 604800).
    #[arg(long, default_value_t = 86_400)]
    duration: u32,
    #[command(flatten)]
    overrides: OverrideArgs,
}

/// A share URL for `bucket/name`: the download URL with a download authorization for
/// exactly this file and the response overrides.
pub fn share_url(
    client: &Client,
    bucket: &str,
    name: &str,
    a: &UrlAuthArgs,
) -> Result<String, ClientError> {
    client.share_url(bucket, name, a.duration, &a.overrides.overrides())
}

/// Response overrides a download authorization pins and a share URL carries.
#[derive(Args, Debug)]
pub struct OverrideArgs {
    /// `Content-Disposition` of the answer (e.g. `attachment; filename="a.pdf"`).
    #[arg(long)]
    content_disposition: Option<String>,
    /// `Content-Language` of the answer.
    #[arg(long)]
    content_language: Option<String>,
    /// `Expires` of the answer.
    #[arg(long)]
    expires: Option<String>,
    /// `Cache-Control` of the answer.
    #[arg(long)]
    cache_control: Option<String>,
    /// `Content-Encoding` of the answer.
    #[arg(long)]
    content_encoding: Option<String>,
    /// `Content-Type` of the answer.
    #[arg(long)]
    content_type: Option<String>,
}

impl OverrideArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            content_disposition: self.content_disposition.clone(),
            content_language: self.content_language.clone(),
            expires: self.expires.clone(),
            cache_control: self.cache_control.clone(),
            content_encoding: self.content_encoding.clone(),
            content_type: self.content_type.clone(),
        }
    }
}

fn bad_json(what: &str) -> ClientError {
    ClientError::Config(format!("{what}: not valid JSON in B2's shape"))
}

fn owned(t: b2_core::wire::Text<'_>) -> String {
    let mut buf = vec![0u8; t.decoded_len().unwrap_or(0)];
    t.unescape(&mut buf)
        .map(str::to_owned)
        .unwrap_or_else(|_| t.raw().to_owned())
}

fn strings(it: b2_core::wire::TextIter<'_>, what: &str) -> Result<Vec<String>, ClientError> {
    it.map(|t| t.map(owned).map_err(|_| bad_json(what)))
        .collect()
}

/// Hands the value of a top-level JSON document (`{…}` or `[…]`) to `f`, read with core's
/// reader (the document is wrapped as `{"v": …}` so the reader checks all of it).
fn with_top<R>(
    doc: &str,
    what: &str,
    f: impl FnOnce(Value<'_>) -> Result<R, ClientError>,
) -> Result<R, ClientError> {
    let wrapped = format!("{{\"v\":{doc}}}");
    let mut out = None;
    each_field(wrapped.as_bytes(), |k, v| {
        if k.raw() == "v" {
            out = Some(v);
        }
        Ok(())
    })
    .map_err(|_| bad_json(what))?;
    f(out.ok_or_else(|| bad_json(what))?)
}

fn parse_info(doc: &str) -> Result<Vec<(String, String)>, ClientError> {
    with_top(doc, "--bucket-info", |v| {
        let o = v.object().map_err(|_| bad_json("--bucket-info"))?;
        Ok(Map::new(o)
            .entries()
            .map(|(k, v)| (owned(k), owned(v)))
            .collect())
    })
}

fn parse_cors(doc: &str) -> Result<Vec<CorsRule>, ClientError> {
    with_top(doc, "--cors-rules", |v| {
        let a = v.array().map_err(|_| bad_json("--cors-rules"))?;
        ArrayIter::<WireCors<'_>>::new(a)
            .map(|r| {
                let r = r.map_err(|_| bad_json("--cors-rules"))?;
                Ok(CorsRule {
                    name: owned(r.cors_rule_name),
                    allowed_origins: strings(r.allowed_origins, "allowedOrigins")?,
                    allowed_operations: strings(r.allowed_operations, "allowedOperations")?,
                    allowed_headers: strings(r.allowed_headers, "allowedHeaders")?,
                    expose_headers: strings(r.expose_headers, "exposeHeaders")?,
                    max_age_seconds: r.max_age_seconds,
                })
            })
            .collect()
    })
}

fn parse_lifecycle(doc: &str) -> Result<LifecycleRule, ClientError> {
    with_top(doc, "--lifecycle-rule", |v| {
        let o = v.object().map_err(|_| bad_json("--lifecycle-rule"))?;
        let r = WireLife::parse(o).map_err(|_| bad_json("--lifecycle-rule"))?;
        Ok(LifecycleRule {
            file_name_prefix: owned(r.file_name_prefix),
            days_from_uploading_to_hiding: r.days_from_uploading_to_hiding,
            days_from_hiding_to_deleting: r.days_from_hiding_to_deleting,
            days_from_starting_to_canceling_unfinished_large_files: r
                .days_from_starting_to_canceling_unfinished_large_files,
        })
    })
}

fn parse_replication(doc: &str) -> Result<Replication, ClientError> {
    with_top(doc, "--replication", |v| {
        let o = v.object().map_err(|_| bad_json("--replication"))?;
        let r = WireRep::parse(o).map_err(|_| bad_json("--replication"))?;
        let rules = r
            .rules
            .map(|x| {
                let x = x.map_err(|_| bad_json("replicationRules"))?;
                Ok(ReplicationRule {
                    name: owned(x.replication_rule_name),
                    destination_bucket_id: owned(x.destination_bucket_id),
                    file_name_prefix: owned(x.file_name_prefix),
                    include_existing_files: x.include_existing_files,
                    is_enabled: x.is_enabled,
                    priority: x.priority,
                })
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        Ok(Replication {
            source_key_id: r.source_application_key_id.map(owned),
            rules,
            key_mapping: r
                .key_mapping
                .map(|m| m.entries().map(|(k, v)| (owned(k), owned(v))).collect()),
        })
    })
}

fn parse_rules(doc: &str) -> Result<Vec<NotificationRule>, ClientError> {
    with_top(doc, "rules", |v| {
        let a = v.array().map_err(|_| bad_json("rules"))?;
        ArrayIter::<WireRule<'_>>::new(a)
            .map(|r| {
                let r = r.map_err(|_| bad_json("rules"))?;
                let mut custom_headers = Vec::new();
                if let Some(raw) = r.custom_headers {
                    for h in b2_core::wire::json::items(raw) {
                        let o = h
                            .and_then(Value::object)
                            .map_err(|_| bad_json("customHeaders"))?;
                        let m = Map::new(o);
                        if let (Some(n), Some(v)) = (m.get("name"), m.get("value")) {
                            custom_headers.push((owned(n), owned(v)));
                        }
                    }
                }
                Ok(NotificationRule {
                    name: owned(r.name),
                    event_types: strings(r.event_types, "eventTypes")?,
                    is_enabled: r.is_enabled,
                    object_name_prefix: owned(r.object_name_prefix),
                    url: r.url.map(owned).unwrap_or_default(),
                    signing_secret: r.hmac_sha256_signing_secret.map(owned),
                    custom_headers,
                    ..Default::default()
                })
            })
            .collect()
    })
}

/// `--default-retention-mode` and `--default-retention-period` ("N days|years").
fn default_retention(
    mode: Option<&str>,
    period: Option<&str>,
) -> Result<Option<DefaultRetention>, ClientError> {
    let bad = |m: String| ClientError::Config(m);
    let mode = match (mode, period) {
        (None, None) => return Ok(None),
        (Some("none"), None) => return Ok(Some(DefaultRetention::None)),
        (Some("none"), Some(_)) => {
            return Err(bad(
                "--default-retention-mode none takes no --default-retention-period".into(),
            ))
        }
        (None, Some(_)) | (Some(_), None) => {
            return Err(bad(
                "--default-retention-mode and --default-retention-period go together".into(),
            ))
        }
        (Some("compliance"), Some(_)) => RetentionMode::Compliance,
        (Some(_), Some(_)) => RetentionMode::Governance,
    };
    let p = period.unwrap_or_default();
    let (n, unit) = p.trim().split_once(char::is_whitespace).ok_or_else(|| {
        bad(format!(
            "--default-retention-period {p:?}: expected \"N days\" or \"N years\""
        ))
    })?;
    let duration: u32 = n.parse().ok().filter(|d| *d > 0).ok_or_else(|| {
        bad(format!(
            "--default-retention-period {p:?}: N must be a positive number"
        ))
    })?;
    let unit = match unit.trim() {
        "day" | "days" => RetentionUnit::Days,
        "year" | "years" => RetentionUnit::Years,
        u => {
            return Err(bad(format!(
                "--default-retention-period: unit {u:?} is not days or years"
            )))
        }
    };
    Ok(Some(DefaultRetention::Set {
        mode,
        duration,
        unit,
    }))
}

fn print_bucket(out: &mut dyn Write, b: &BucketSettings, json: bool) -> Result<(), ClientError> {
    if json {
        writeln!(out, "{}", b.json)?;
        return Ok(());
    }
    writeln!(out, "id:          {}", b.id)?;
    writeln!(out, "name:        {}", b.name)?;
    writeln!(out, "type:        {}", b.bucket_type)?;
    writeln!(out, "revision:    {}", b.revision)?;
    for (k, v) in &b.info {
        writeln!(out, "info:        {k}={v}")?;
    }
    writeln!(
        out,
        "encryption:  {}",
        b.default_encryption.as_deref().unwrap_or("(not readable)")
    )?;
    match &b.file_lock {
        None => writeln!(out, "file lock:   (not readable)")?,
        Some(l) if !l.enabled => writeln!(out, "file lock:   off")?,
        Some(l) => match l.default_retention {
            DefaultRetention::None => writeln!(out, "file lock:   on, no default retention")?,
            DefaultRetention::Set {
                mode,
                duration,
                unit,
            } => writeln!(
                out,
                "file lock:   on, default {} {duration} {}",
                mode.as_str(),
                unit.as_str()
            )?,
        },
    }
    for r in &b.cors_rules {
        writeln!(
            out,
            "cors:        {} origins={} operations={} max-age={}s",
            r.name,
            r.allowed_origins.join(","),
            r.allowed_operations.join(","),
            r.max_age_seconds
        )?;
    }
    let days = |d: Option<u32>| d.map_or("-".to_string(), |d| d.to_string());
    for r in &b.lifecycle_rules {
        writeln!(
            out,
            "lifecycle:   prefix={:?} hide-after={} delete-hidden-after={} cancel-unfinished-after={}",
            r.file_name_prefix,
            days(r.days_from_uploading_to_hiding),
            days(r.days_from_hiding_to_deleting),
            days(r.days_from_starting_to_canceling_unfinished_large_files)
        )?;
    }
    match &b.replication {
        Some(r) => {
            for x in &r.rules {
                writeln!(
                    out,
                    "replication: rule {} -> {} prefix={:?} enabled={} priority={}",
                    x.name, x.destination_bucket_id, x.file_name_prefix, x.is_enabled, x.priority
                )?;
            }
            for (s, d) in r.key_mapping.iter().flatten() {
                writeln!(out, "replication: accepts source key {s} as {d}")?;
            }
        }
        None if !b.replication_readable => writeln!(out, "replication: (not readable)")?,
        None => {}
    }
    Ok(())
}

/// Runs a `bucket` subcommand of this module.
pub fn run_bucket(
    client: &Client,
    cmd: BucketSettingsCmd,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    match cmd {
        BucketSettingsCmd::Get {
            name,
            show_size,
            json,
        } => {
            let mut b = client.bucket_settings(&name)?;
            if !show_size {
                return print_bucket(out, &b, json);
            }
            let (count, size) = super::bucket_get::size_of(client, &name)?;
            b.json = super::bucket_get::with_size(&b.json, count, size);
            print_bucket(out, &b, json)?;
            if !json {
                writeln!(out, "fileCount:   {count}")?;
                writeln!(out, "totalSize:   {size}")?;
            }
            Ok(())
        }
        BucketSettingsCmd::Update(a) => {
            let lifecycle_rules = if a.no_lifecycle_rules {
                Some(Vec::new())
            } else if a.lifecycle_rules.is_empty() {
                None
            } else {
                Some(
                    a.lifecycle_rules
                        .iter()
                        .map(|r| parse_lifecycle(r))
                        .collect::<Result<_, _>>()?,
                )
            };
            let default_encryption = match a.default_server_side_encryption.as_deref() {
                None => None,
                Some(m) if m.eq_ignore_ascii_case("SSE-B2") => Some(DefaultEncryption::SseB2),
                Some("default") => Some(DefaultEncryption::Reset),
                Some(other) => {
                    return Err(ClientError::Config(format!(
                        "--default-server-side-encryption {other:?}: use SSE-B2 or default (B2 refuses none)"
                    )))
                }
            };
            let u = BucketUpdate {
                bucket_type: a.new_type.or(a.bucket_type),
                info: a.bucket_info.as_deref().map(parse_info).transpose()?,
                cors_rules: a.cors_rules.as_deref().map(parse_cors).transpose()?,
                lifecycle_rules,
                replication: a
                    .replication
                    .as_deref()
                    .map(parse_replication)
                    .transpose()?,
                default_encryption,
                file_lock_enabled: a.file_lock_enabled,
                default_retention: default_retention(
                    a.default_retention_mode.as_deref(),
                    a.default_retention_period.as_deref(),
                )?,
                if_revision_is: a.if_revision_is,
            };
            let b = client.update_bucket_settings(&a.name, &u)?;
            print_bucket(out, &b, a.json)
        }
        BucketSettingsCmd::NotificationRules(NotifyCmd::Get { name }) => {
            print_rules(out, &client.notification_rules(&name)?)
        }
        BucketSettingsCmd::NotificationRules(NotifyCmd::Set { name, rules }) => {
            let rules = parse_rules(&rules)?;
            print_rules(out, &client.set_notification_rules(&name, &rules)?)
        }
    }
}

fn print_rules(out: &mut dyn Write, rules: &[NotificationRule]) -> Result<(), ClientError> {
    for r in rules {
        writeln!(
            out,
            "{}  {}  prefix={:?}  {}  {}{}",
            r.name,
            if r.is_enabled { "enabled" } else { "disabled" },
            r.object_name_prefix,
            r.event_types.join(","),
            r.url,
            if r.is_suspended { "  (suspended)" } else { "" }
        )?;
    }
    Ok(())
}

/// Runs a `key` subcommand of this module.
pub fn run_key(
    client: &Client,
    cmd: KeySettingsCmd,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    match cmd {
        KeySettingsCmd::Create(k) => {
            let mut caps: Vec<String> = k.caps;
            if let Some(c) = &k.caps_arg {
                caps.extend(c.split(',').map(str::to_owned));
            }
            caps.retain(|c| !c.is_empty());
            let caps: Vec<&str> = caps.iter().map(String::as_str).collect();
            for c in &caps {
                if b2_core::validate::unknown_capability(&[c]).is_some() {
                    eprintln!(
                        "warning: unknown capability {c:?} (not among those this tool knows); \
                         sending it, B2 decides"
                    );
                }
            }
            let nk = client.create_key_with(
                &k.name,
                &caps,
                &KeyOptions {
                    valid_duration_secs: k.duration,
                    buckets: k.buckets,
                    name_prefix: k.name_prefix,
                },
            )?;
            writeln!(out, "{} {}", nk.id, nk.key)?;
        }
        KeySettingsCmd::Get { key_id } => {
            let k = client.get_key(&key_id)?;
            writeln!(out, "id:           {}", k.id)?;
            writeln!(out, "name:         {}", k.name)?;
            writeln!(out, "capabilities: {}", k.capabilities.join(","))?;
            if !k.bucket_ids.is_empty() {
                writeln!(out, "buckets:      {}", k.bucket_ids.join(","))?;
            }
            if let Some(p) = &k.name_prefix {
                writeln!(out, "name prefix:  {p}")?;
            }
            if let Some(t) = k.expiration_timestamp {
                writeln!(out, "expires:      {t} (ms since the epoch)")?;
            }
        }
    }
    Ok(())
}

/// Runs a top-level command of this module.
pub fn run_top(client: &Client, cmd: TopCmd, out: &mut dyn Write) -> Result<(), ClientError> {
    match cmd {
        TopCmd::GetDownloadAuth {
            bucket,
            prefix,
            duration,
            overrides,
        } => {
            let a = client.download_authorization(
                &bucket,
                &prefix,
                duration,
                &overrides.overrides(),
            )?;
            writeln!(out, "{}", a.token)?;
        }
    }
    Ok(())
}
