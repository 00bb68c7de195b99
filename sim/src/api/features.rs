//! Server-side encryption and Object Lock as B2 applies them, and the custom upload
//! timestamp switch.
//!
//! Encryption ("Use Server-Side Encryption with the B2 Native API"): every new upload and
//! copy is SSE-B2/AES256 by default; a bucket's `defaultServerSideEncryption` may be set to
//! SSE-B2 or reset with `{"mode": null}` (both mean SSE-B2); an explicit `none` is refused.
//! SSE-C: the request carries the algorithm, the key (base64 of 32 bytes) and the key's MD5;
//! b2-sim checks that they agree and stores only the MD5 (never the key). Every download,
//! HEAD and copy of an SSE-C file must carry the same key, else 403 `access_denied` (the
//! answer b2sdk turns into its `SSECKeyError`). Bytes are stored as they came: nothing is
//! really encrypted.
//!
//! Object Lock (B2's "Object Lock" page, `b2_update_file_retention`): a bucket created (or
//! updated) with `fileLockEnabled: true` accepts retention and legal hold on uploads, large
//! files, copies and the two update calls. A file under retention cannot be deleted until
//! the retention ends; compliance can be extended but never shortened or removed by anyone;
//! governance can be shortened or removed only with the `bypassGovernance` capability and
//! flag; a legal hold blocks deletion until it is off. Refusals are 403 `access_denied`.

use base64::Engine as _;
use hyper::header::HeaderMap;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::state::{Bucket, FileVersion, Key, Protection};

/// The `serverSideEncryption` of SSE-B2 file versions.
pub(crate) fn sse_b2() -> Value {
    json!({"algorithm": "AES256", "mode": "SSE-B2"})
}

/// The `serverSideEncryption` of a file version.
pub(crate) fn sse_json(f: &FileVersion) -> Value {
    match &f.protection.sse_c_key_md5 {
        Some(md5) => json!({"algorithm": "AES256", "customerKeyMd5": md5, "mode": "SSE-C"}),
        None => sse_b2(),
    }
}

/// 403 `access_denied`, B2's answer to a locked file or a missing or wrong SSE-C key.
pub(crate) fn access_denied(why: impl Into<String>) -> ApiError {
    ApiError::new(403, "access_denied", why)
}

fn mode_of(v: &Value, field: &str) -> ApiResult<Option<String>> {
    let Some(obj) = v.as_object() else {
        return Err(ApiError::new(
            400,
            "bad_json",
            format!("{field} must be an object"),
        ));
    };
    match obj.get("mode") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::new(
            400,
            "bad_json",
            format!("{field}.mode must be a string or null"),
        )),
    }
}

fn check_algorithm(v: Option<&str>, field: &str) -> ApiResult<()> {
    match v {
        None | Some("AES256") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "{field} algorithm must be AES256, not {other}"
        ))),
    }
}

fn json_algorithm<'v>(v: &'v Value, field: &str) -> ApiResult<Option<&'v str>> {
    match v.get("algorithm") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(a)) => Ok(Some(a)),
        Some(_) => Err(ApiError::new(
            400,
            "bad_json",
            format!("{field}.algorithm must be a string"),
        )),
    }
}

fn none_refused(field: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{field} mode none is not accepted: B2 encrypts with SSE-B2 (AES256) by default; omit the setting to use the default"
    ))
}

/// Checks an SSE-C key and its MD5 (both base64) and gives the MD5 to store.
fn customer_key_md5(key: Option<&str>, md5: Option<&str>, what: &str) -> ApiResult<String> {
    let key = key.ok_or_else(|| ApiError::bad_request(format!("{what}: SSE-C needs the key")))?;
    let md5 =
        md5.ok_or_else(|| ApiError::bad_request(format!("{what}: SSE-C needs the key's MD5")))?;
    let engine = base64::engine::general_purpose::STANDARD;
    let raw = engine
        .decode(key.trim())
        .map_err(|_| ApiError::bad_request(format!("{what}: the SSE-C key is not base64")))?;
    if raw.len() != 32 {
        return Err(ApiError::bad_request(format!(
            "{what}: the SSE-C key must be 256 bits"
        )));
    }
    let want = engine.encode(Md5::digest(&raw));
    if md5.trim() != want {
        return Err(ApiError::bad_request(format!(
            "{what}: the SSE-C key MD5 does not match the key"
        )));
    }
    Ok(want)
}

/// SSE-C given in JSON (`{"mode": "SSE-C", "algorithm", "customerKey", "customerKeyMd5"}`).
fn json_customer_key_md5(v: &Value, field: &str) -> ApiResult<String> {
    check_algorithm(json_algorithm(v, field)?, field)?;
    customer_key_md5(
        v.get("customerKey").and_then(Value::as_str),
        v.get("customerKeyMd5").and_then(Value::as_str),
        field,
    )
}

/// Checks a bucket's `defaultServerSideEncryption` argument (create or update). Absent or
/// null: nothing changes (the default is SSE-B2). `{"mode": null}` resets to SSE-B2 and
/// `{"mode": "SSE-B2"}` sets it; both need `writeBucketEncryption`. `none` and SSE-C are
/// refused with 400.
pub(crate) fn check_bucket_default_sse(ctx: &Ctx<'_>, args: &Value) -> ApiResult<()> {
    const F: &str = "defaultServerSideEncryption";
    let Some(v) = args.get(F).filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let mode = mode_of(v, F)?;
    ctx.key.require("writeBucketEncryption")?;
    match mode.as_deref() {
        None => Ok(()),
        Some("SSE-B2") => check_algorithm(json_algorithm(v, F)?, F),
        Some("none") => Err(none_refused(F)),
        Some("SSE-C") => Err(ApiError::bad_request(
            "SSE-C cannot be a bucket's default encryption",
        )),
        Some(other) => Err(ApiError::bad_request(format!("Unknown {F} mode: {other}"))),
    }
}

/// Checks a file write's encryption given in JSON (`serverSideEncryption` of
/// `b2_start_large_file`, `destinationServerSideEncryption` of the copies): absent, null or
/// SSE-B2/AES256 make an SSE-B2 file (`Ok(None)`); SSE-C gives the key's MD5 to store;
/// `none` is refused.
pub(crate) fn check_write_sse(args: &Value, field: &str) -> ApiResult<Option<String>> {
    let Some(v) = args.get(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    match mode_of(v, field)?.as_deref() {
        None => Ok(None),
        Some("SSE-B2") => check_algorithm(json_algorithm(v, field)?, field).map(|()| None),
        Some("none") => Err(none_refused(field)),
        Some("SSE-C") => json_customer_key_md5(v, field).map(Some),
        Some(other) => Err(ApiError::bad_request(format!(
            "Unknown {field} mode: {other}"
        ))),
    }
}

/// Checks the source encryption of a copy (`sourceServerSideEncryption`) against the
/// source: an SSE-C source needs its key (403 `access_denied` without it or with another).
pub(crate) fn check_source_sse(args: &Value, src: &FileVersion) -> ApiResult<()> {
    const F: &str = "sourceServerSideEncryption";
    let given = match args.get(F).filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match mode_of(v, F)?.as_deref() {
            None | Some("SSE-B2") => None,
            Some("SSE-C") => Some(json_customer_key_md5(v, F)?),
            Some(other) => return Err(ApiError::bad_request(format!("Unknown {F} mode: {other}"))),
        },
    };
    check_key_matches(src, given.as_deref())
}

/// 403 `access_denied` unless the SSE-C key given (by its MD5) is the file's.
fn check_key_matches(f: &FileVersion, given_md5: Option<&str>) -> ApiResult<()> {
    match (&f.protection.sse_c_key_md5, given_md5) {
        (None, _) => Ok(()),
        (Some(want), Some(got)) if want == got => Ok(()),
        (Some(_), None) => Err(access_denied(
            "This file is encrypted with SSE-C: send its key to read or copy it",
        )),
        (Some(_), Some(_)) => Err(access_denied(
            "The SSE-C key does not match the key this file was encrypted with",
        )),
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// SSE-C request headers: `Ok(None)` without any, the key's MD5 when they are whole and
/// agree.
fn sse_c_headers(headers: &HeaderMap) -> ApiResult<Option<String>> {
    const P: &str = "x-bz-server-side-encryption-customer-";
    if !headers.keys().any(|k| k.as_str().starts_with(P)) {
        return Ok(None);
    }
    let algorithm =
        header(headers, "x-bz-server-side-encryption-customer-algorithm").ok_or_else(|| {
            ApiError::bad_request("X-Bz-Server-Side-Encryption-Customer-Algorithm is missing")
        })?;
    check_algorithm(
        Some(algorithm),
        "X-Bz-Server-Side-Encryption-Customer-Algorithm",
    )?;
    customer_key_md5(
        header(headers, "x-bz-server-side-encryption-customer-key"),
        header(headers, "x-bz-server-side-encryption-customer-key-md5"),
        "X-Bz-Server-Side-Encryption-Customer-Key",
    )
    .map(Some)
}

/// A download or HEAD of `f`: an SSE-C file needs its key in the request headers.
pub(crate) fn check_read_sse(headers: &HeaderMap, f: &FileVersion) -> ApiResult<()> {
    let given = sse_c_headers(headers)?;
    check_key_matches(f, given.as_deref())
}

/// The encryption headers of a download answer.
pub(crate) fn sse_answer_headers(f: &FileVersion) -> Vec<(&'static str, String)> {
    match &f.protection.sse_c_key_md5 {
        Some(md5) => vec![
            (
                "x-bz-server-side-encryption-customer-algorithm",
                "AES256".to_string(),
            ),
            ("x-bz-server-side-encryption-customer-key-md5", md5.clone()),
        ],
        None => vec![("x-bz-server-side-encryption", "AES256".to_string())],
    }
}

/// A bucket's Object Lock settings.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileLock {
    /// `fileLockEnabled`: once on, never off.
    pub enabled: bool,
    /// `defaultRetention` as given (`{"mode", "period": {"duration", "unit"}}`), if any.
    pub default_retention: Option<Value>,
}

/// Checks a bucket's `defaultRetention` argument.
fn check_default_retention(v: &Value) -> ApiResult<Option<Value>> {
    let mode = mode_of(v, "defaultRetention")?;
    let Some(mode) = mode else { return Ok(None) };
    if mode != "governance" && mode != "compliance" {
        return Err(ApiError::bad_request(format!(
            "defaultRetention mode must be governance or compliance, not {mode}"
        )));
    }
    let period = v
        .get("period")
        .filter(|p| !p.is_null())
        .ok_or_else(|| ApiError::bad_request("defaultRetention with a mode needs a period"))?;
    let duration = period.get("duration").and_then(Value::as_u64).unwrap_or(0);
    let unit = period.get("unit").and_then(Value::as_str).unwrap_or("");
    if duration == 0 || !(unit == "days" || unit == "years") {
        return Err(ApiError::bad_request(
            "defaultRetention period must be a positive duration in days or years",
        ));
    }
    Ok(Some(
        json!({"mode": mode, "period": {"duration": duration, "unit": unit}}),
    ))
}

/// The Object Lock settings of a new bucket (`fileLockEnabled`, `defaultRetention`).
/// `defaultRetention` needs file lock and the `writeBucketRetentions` capability.
pub(crate) fn new_bucket_file_lock(ctx: &Ctx<'_>, args: &Value) -> ApiResult<FileLock> {
    let enabled = match args.get("fileLockEnabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::new(
                400,
                "bad_json",
                "fileLockEnabled must be a boolean",
            ))
        }
    };
    let mut lock = FileLock {
        enabled,
        default_retention: None,
    };
    update_bucket_file_lock(ctx, &mut lock, args)?;
    Ok(lock)
}

/// Applies `fileLockEnabled` and `defaultRetention` of `b2_update_bucket` (file lock can
/// be turned on, never off).
pub(crate) fn update_bucket_file_lock(
    ctx: &Ctx<'_>,
    lock: &mut FileLock,
    args: &Value,
) -> ApiResult<()> {
    match args.get("fileLockEnabled") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(true)) => lock.enabled = true,
        Some(Value::Bool(false)) if lock.enabled => {
            return Err(ApiError::bad_request(
                "File lock cannot be disabled once enabled",
            ))
        }
        Some(Value::Bool(false)) => {}
        Some(_) => {
            return Err(ApiError::new(
                400,
                "bad_json",
                "fileLockEnabled must be a boolean",
            ))
        }
    }
    if let Some(v) = args.get("defaultRetention").filter(|v| !v.is_null()) {
        ctx.key.require("writeBucketRetentions")?;
        if !lock.enabled {
            return Err(ApiError::bad_request(
                "defaultRetention needs a bucket with file lock enabled",
            ));
        }
        lock.default_retention = check_default_retention(v)?;
    }
    Ok(())
}

/// A bucket's `fileLockConfiguration`, wrapped, as `key` may read it.
pub(crate) fn bucket_lock_json(b: &Bucket, key: &Key) -> Value {
    if !key.has("readBucketRetentions") {
        return json!({"isClientAuthorizedToRead": false, "value": null});
    }
    let default = b
        .file_lock
        .default_retention
        .clone()
        .unwrap_or_else(|| json!({"mode": null, "period": null}));
    json!({
        "isClientAuthorizedToRead": true,
        "value": {"defaultRetention": default, "isFileLockEnabled": b.file_lock.enabled},
    })
}

/// Parses a retention mode.
fn retention_mode(s: &str) -> ApiResult<String> {
    match s {
        "governance" | "compliance" => Ok(s.to_string()),
        other => Err(ApiError::bad_request(format!(
            "File retention mode must be governance or compliance, not {other}"
        ))),
    }
}

/// The retention of a new file: the one asked for, else the bucket's default (from now).
fn with_default(b: &Bucket, asked: Option<(String, u64)>, now: u64) -> Option<(String, u64)> {
    asked.or_else(|| {
        let d = b.file_lock.default_retention.as_ref()?;
        let mode = d.get("mode")?.as_str()?.to_string();
        let n = d.pointer("/period/duration")?.as_u64()?;
        let day = 86_400_000u64;
        let ms = match d.pointer("/period/unit")?.as_str()? {
            "years" => n.saturating_mul(365 * day),
            _ => n.saturating_mul(day),
        };
        Some((mode, now.saturating_add(ms)))
    })
}

/// Checks Object Lock settings of a new file against its bucket and the key: they need a
/// bucket with file lock enabled and the `writeFileRetentions` / `writeFileLegalHolds`
/// capabilities; a retention must end in the future.
fn check_new_lock(
    ctx_key: &Key,
    b: &Bucket,
    retention: &Option<(String, u64)>,
    legal_hold: Option<bool>,
    now: u64,
) -> ApiResult<()> {
    if (retention.is_some() || legal_hold.is_some()) && !b.file_lock.enabled {
        return Err(ApiError::bad_request(
            "File lock is not enabled on this bucket",
        ));
    }
    if let Some((_, until)) = retention {
        ctx_key.require("writeFileRetentions")?;
        if *until <= now {
            return Err(ApiError::bad_request(
                "The retention must end in the future",
            ));
        }
    }
    if legal_hold.is_some() {
        ctx_key.require("writeFileLegalHolds")?;
    }
    Ok(())
}

fn legal_hold_word(s: &str) -> ApiResult<bool> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(ApiError::bad_request(format!(
            "Legal hold must be on or off, not {other}"
        ))),
    }
}

/// The custom upload timestamp of a write, if allowed (the account setting
/// [`crate::SimBuilder::custom_upload_timestamps`] is off by default, as on B2).
fn custom_timestamp(ctx_allowed: bool, t: Option<u64>) -> ApiResult<Option<u64>> {
    match t {
        Some(_) if !ctx_allowed => Err(ApiError::bad_request(
            "Custom upload timestamps are not enabled for this account",
        )),
        t => Ok(t),
    }
}

/// What an upload's headers ask for: encryption, Object Lock, custom upload timestamp.
/// `bucket` is the bucket of the upload; for a part, `large` is the unfinished large file,
/// whose SSE-C key the part must carry.
pub(crate) fn upload_protection(
    headers: &HeaderMap,
    key: &Key,
    bucket: Option<&Bucket>,
    large: Option<&FileVersion>,
    custom_timestamps: bool,
    now: u64,
) -> ApiResult<(Protection, Option<u64>)> {
    if let Some(v) = headers.get("x-bz-server-side-encryption") {
        if v.as_bytes() != b"AES256" {
            return Err(ApiError::bad_request(format!(
                "X-Bz-Server-Side-Encryption must be AES256, not {}",
                String::from_utf8_lossy(v.as_bytes())
            )));
        }
    }
    let md5 = sse_c_headers(headers)?;
    if let Some(large) = large {
        if large.protection.sse_c_key_md5 != md5 {
            return Err(ApiError::bad_request(
                "The SSE-C key of a part must be the key the large file was started with",
            ));
        }
        return Ok((Protection::default(), None));
    }
    let mode = header(headers, "x-bz-file-retention-mode");
    let until = header(headers, "x-bz-file-retention-retain-until-timestamp");
    let asked = match (mode, until) {
        (None, None) => None,
        (Some(m), Some(u)) => Some((
            retention_mode(m)?,
            u.parse().map_err(|_| {
                ApiError::bad_request("Bad X-Bz-File-Retention-Retain-Until-Timestamp")
            })?,
        )),
        _ => return Err(ApiError::bad_request(
            "X-Bz-File-Retention-Mode and X-Bz-File-Retention-Retain-Until-Timestamp go together",
        )),
    };
    let legal_hold = header(headers, "x-bz-file-legal-hold")
        .map(legal_hold_word)
        .transpose()?;
    let timestamp = header(headers, "x-bz-custom-upload-timestamp")
        .map(|t| {
            t.parse::<u64>()
                .map_err(|_| ApiError::bad_request("Bad X-Bz-Custom-Upload-Timestamp"))
        })
        .transpose()?;
    let timestamp = custom_timestamp(custom_timestamps, timestamp)?;
    let Some(b) = bucket else {
        return Ok((Protection::default(), timestamp));
    };
    check_new_lock(key, b, &asked, legal_hold, now)?;
    Ok((
        Protection {
            sse_c_key_md5: md5,
            retention: with_default(b, asked, now),
            legal_hold,
        },
        timestamp,
    ))
}

/// What a JSON file write (`b2_start_large_file`, `b2_copy_file`) asks for: `sse_field`
/// names its encryption field; `fileRetention`, `legalHold` and (`b2_start_large_file`)
/// `customUploadTimestamp`.
pub(crate) fn json_protection(
    ctx: &Ctx<'_>,
    b: &Bucket,
    args: &Value,
    sse_field: &str,
) -> ApiResult<(Protection, Option<u64>)> {
    let md5 = check_write_sse(args, sse_field)?;
    let asked = match args.get("fileRetention").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match mode_of(v, "fileRetention")? {
            None => None,
            Some(m) => Some((
                retention_mode(&m)?,
                v.get("retainUntilTimestamp")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| {
                        ApiError::bad_request("fileRetention needs retainUntilTimestamp")
                    })?,
            )),
        },
    };
    let legal_hold = match args.get("legalHold") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(legal_hold_word(s)?),
        Some(_) => return Err(ApiError::new(400, "bad_json", "legalHold must be a string")),
    };
    let timestamp = super::opt_u64(args, "customUploadTimestamp")?;
    let timestamp = custom_timestamp(ctx.sh.cfg.custom_upload_timestamps, timestamp)?;
    check_new_lock(ctx.key, b, &asked, legal_hold, ctx.now)?;
    Ok((
        Protection {
            sse_c_key_md5: md5,
            retention: with_default(b, asked, ctx.now),
            legal_hold,
        },
        timestamp,
    ))
}

/// The wrapped `fileRetention` of a file answer, as `key` may read it.
pub(crate) fn retention_json(f: &FileVersion, key: &Key) -> Value {
    if !key.has("readFileRetentions") {
        return json!({"isClientAuthorizedToRead": false, "value": null});
    }
    let value = match &f.protection.retention {
        Some((mode, until)) => json!({"mode": mode, "retainUntilTimestamp": until}),
        None => json!({"mode": null, "retainUntilTimestamp": null}),
    };
    json!({"isClientAuthorizedToRead": true, "value": value})
}

/// The wrapped `legalHold` of a file answer, as `key` may read it.
pub(crate) fn legal_hold_json(f: &FileVersion, key: &Key) -> Value {
    if !key.has("readFileLegalHolds") {
        return json!({"isClientAuthorizedToRead": false, "value": null});
    }
    let value = match f.protection.legal_hold {
        Some(true) => json!("on"),
        Some(false) => json!("off"),
        None => Value::Null,
    };
    json!({"isClientAuthorizedToRead": true, "value": value})
}

/// Whether `key` asked for and may bypass governance.
fn may_bypass(key: &Key, args: &Value) -> ApiResult<bool> {
    let asked = match args.get("bypassGovernance") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::new(
                400,
                "bad_json",
                "bypassGovernance must be a boolean",
            ))
        }
    };
    Ok(asked && key.has("bypassGovernance"))
}

/// `b2_delete_file_version` of `f`: refused (403 `access_denied`) under a legal hold, under
/// compliance retention, and under governance retention unless bypassed.
pub(crate) fn check_delete(ctx: &Ctx<'_>, f: &FileVersion, args: &Value) -> ApiResult<()> {
    let bypass = may_bypass(ctx.key, args)?;
    if f.protection.legal_hold == Some(true) {
        return Err(access_denied("The file is under a legal hold"));
    }
    match &f.protection.retention {
        Some((mode, until)) if *until > ctx.now => {
            if mode == "compliance" {
                Err(access_denied(
                    "The file is under compliance retention and cannot be deleted",
                ))
            } else if bypass {
                Ok(())
            } else {
                Err(access_denied(
                    "The file is under governance retention: deleting it needs bypassGovernance and that capability",
                ))
            }
        }
        _ => Ok(()),
    }
}

fn locked_file(ctx: &Ctx<'_>, st: &crate::state::State, args: &Value) -> ApiResult<FileVersion> {
    let name = super::req_str(args, "fileName")?;
    let id = super::req_str(args, "fileId")?;
    let f = super::file_for(ctx, st, id)?.into_owned();
    if f.name != name || f.action != crate::state::Action::Upload {
        return Err(ApiError::bad_request(format!("Invalid fileId: {id}")));
    }
    let locked = st
        .buckets
        .get(&f.bucket_id)
        .is_some_and(|b| b.file_lock.enabled);
    if !locked {
        return Err(ApiError::bad_request(
            "File lock is not enabled on this file's bucket",
        ));
    }
    Ok(f)
}

/// `b2_update_file_retention`.
pub(crate) fn update_retention(
    ctx: &Ctx<'_>,
    st: &mut crate::state::State,
    args: &Value,
) -> ApiResult<Value> {
    ctx.key.require("writeFileRetentions")?;
    let mut f = locked_file(ctx, st, args)?;
    let v = args
        .get("fileRetention")
        .filter(|v| !v.is_null())
        .ok_or_else(|| ApiError::bad_request("required field fileRetention is missing"))?;
    let new = match mode_of(v, "fileRetention")? {
        None => None,
        Some(m) => {
            let until = v
                .get("retainUntilTimestamp")
                .and_then(Value::as_u64)
                .ok_or_else(|| ApiError::bad_request("fileRetention needs retainUntilTimestamp"))?;
            if until <= ctx.now {
                return Err(ApiError::bad_request(
                    "The retention must end in the future",
                ));
            }
            Some((retention_mode(&m)?, until))
        }
    };
    let bypass = may_bypass(ctx.key, args)?;
    if let Some((mode, until)) = f.protection.retention.clone().filter(|(_, u)| *u > ctx.now) {
        let shortened = match &new {
            None => true,
            Some((_, new_until)) => *new_until < until,
        };
        let weakened = mode == "compliance" && new.as_ref().is_none_or(|(m, _)| m != "compliance");
        if mode == "compliance" && (shortened || weakened) {
            return Err(access_denied(
                "Compliance retention can be extended but never shortened or removed",
            ));
        }
        if mode == "governance" && shortened && !bypass {
            return Err(access_denied(
                "Shortening or removing governance retention needs bypassGovernance and that capability",
            ));
        }
    }
    let value = match &new {
        Some((mode, until)) => json!({"mode": mode, "retainUntilTimestamp": until}),
        None => json!({"mode": null, "retainUntilTimestamp": null}),
    };
    f.protection.retention = new;
    let answer = json!({"fileId": f.id, "fileName": f.name, "fileRetention": value});
    st.update_file(f).map_err(ApiError::storage)?;
    Ok(answer)
}

/// `b2_update_file_legal_hold`.
pub(crate) fn update_legal_hold(
    ctx: &Ctx<'_>,
    st: &mut crate::state::State,
    args: &Value,
) -> ApiResult<Value> {
    ctx.key.require("writeFileLegalHolds")?;
    let mut f = locked_file(ctx, st, args)?;
    let hold = legal_hold_word(super::req_str(args, "legalHold")?)?;
    f.protection.legal_hold = Some(hold);
    let answer = json!({
        "fileId": f.id,
        "fileName": f.name,
        "legalHold": if hold { "on" } else { "off" },
    });
    st.update_file(f).map_err(ApiError::storage)?;
    Ok(answer)
}

/// Name and info of a file with encryption or Object Lock settings must fit 2,048 bytes
/// (B2: the 7,000-byte limit "is reduced to 2,048 bytes"), counted as `names::validate_info`
/// counts them.
pub(crate) fn check_protected_budget(
    p: &Protection,
    name: &str,
    info: &std::collections::BTreeMap<String, String>,
) -> ApiResult<()> {
    const LIMIT: usize = 2_048;
    if *p == Protection::default() {
        return Ok(());
    }
    let total = name.len() + info.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    if total > LIMIT {
        return Err(ApiError::bad_request(format!(
            "File name and file info are {total} bytes; with encryption or Object Lock the limit is {LIMIT}"
        )));
    }
    Ok(())
}
