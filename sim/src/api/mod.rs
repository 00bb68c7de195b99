//! The B2 calls, one module per family.

pub(crate) mod auth;
pub(crate) mod buckets;
pub(crate) mod download;
pub(crate) mod features;
pub(crate) mod files;
pub(crate) mod keys;
pub(crate) mod large;
pub(crate) mod notify;
pub(crate) mod upload;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::server::Shared;
use crate::state::{Action, FileVersion, Key, Part, State};

/// What a JSON call handler gets besides the state and its arguments.
pub(crate) struct Ctx<'a> {
    pub sh: &'a Arc<Shared>,
    pub key: &'a Key,
    pub ver: u8,
    pub now: u64,
}

/// A JSON call.
pub(crate) struct Handler {
    pub run: CallFn,
    /// True if the call changes what must survive a restart.
    pub mutating: bool,
}

/// A JSON call's function.
type CallFn = fn(&Ctx<'_>, &mut State, &Value) -> ApiResult<Value>;

/// The handler of a JSON call by name.
pub(crate) fn lookup(call: &str) -> Option<Handler> {
    let (run, mutating): (CallFn, bool) = match call {
        "b2_list_buckets" => (buckets::list, false),
        "b2_create_bucket" => (buckets::create, true),
        "b2_update_bucket" => (buckets::update, true),
        "b2_delete_bucket" => (buckets::delete, true),
        "b2_create_key" => (keys::create, true),
        "b2_list_keys" => (keys::list, false),
        "b2_delete_key" => (keys::delete, true),
        "b2_get_upload_url" => (upload::get_upload_url, false),
        "b2_get_upload_part_url" => (upload::get_upload_part_url, false),
        "b2_start_large_file" => (large::start, true),
        "b2_finish_large_file" => (large::finish, true),
        "b2_cancel_large_file" => (large::cancel, true),
        "b2_list_parts" => (large::list_parts, false),
        "b2_list_unfinished_large_files" => (large::list_unfinished, false),
        "b2_copy_part" => (large::copy_part, true),
        "b2_list_file_names" => (files::list_names, false),
        "b2_list_file_versions" => (files::list_versions, false),
        "b2_get_file_info" => (files::get_info, false),
        "b2_hide_file" => (files::hide, true),
        "b2_delete_file_version" => (files::delete_version, true),
        "b2_copy_file" => (files::copy, true),
        "b2_get_download_authorization" => (download::get_download_authorization, true),
        "b2_update_file_retention" => (features::update_retention, true),
        "b2_update_file_legal_hold" => (features::update_legal_hold, true),
        "b2_set_bucket_notification_rules" => (notify::set, true),
        "b2_get_bucket_notification_rules" => (notify::get, false),
        _ => return None,
    };
    Some(Handler { run, mutating })
}

/// A required string argument.
pub(crate) fn req_str<'v>(args: &'v Value, name: &str) -> ApiResult<&'v str> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(ApiError::bad_request(format!(
            "required field {name} is missing"
        ))),
        Some(_) => Err(ApiError::new(
            400,
            "bad_json",
            format!("field {name} must be a string"),
        )),
    }
}

/// An optional string argument.
pub(crate) fn opt_str<'v>(args: &'v Value, name: &str) -> ApiResult<Option<&'v str>> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(
            400,
            "bad_json",
            format!("field {name} must be a string"),
        )),
    }
}

/// An optional integer argument (a number or a numeric string).
pub(crate) fn opt_u64(args: &Value, name: &str) -> ApiResult<Option<u64>> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
            ApiError::bad_request(format!("field {name} must be a non-negative integer"))
        }),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("field {name} must be a non-negative integer"))
        }),
        Some(_) => Err(ApiError::new(
            400,
            "bad_json",
            format!("field {name} must be a number"),
        )),
    }
}

/// An optional `fileInfo`-like object of strings.
pub(crate) fn opt_info(
    args: &Value,
    name: &str,
) -> ApiResult<Option<std::collections::BTreeMap<String, String>>> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            let mut out = std::collections::BTreeMap::new();
            for (k, v) in m {
                let Value::String(s) = v else {
                    return Err(ApiError::new(
                        400,
                        "bad_json",
                        format!("{name} values must be strings"),
                    ));
                };
                out.insert(k.clone(), s.clone());
            }
            Ok(Some(out))
        }
        Some(_) => Err(ApiError::new(
            400,
            "bad_json",
            format!("field {name} must be an object"),
        )),
    }
}

/// Checks `accountId` (when given) against the key's account.
pub(crate) fn check_account(ctx: &Ctx<'_>, args: &Value, required: bool) -> ApiResult<()> {
    let id = if required {
        Some(req_str(args, "accountId")?)
    } else {
        opt_str(args, "accountId")?
    };
    match id {
        Some(id) if id != ctx.key.account_id => {
            Err(ApiError::unauthorized("accountId does not match the key"))
        }
        _ => Ok(()),
    }
}

/// The JSON B2 uses for a file version, as `key` may see it: `fileRetention` and
/// `legalHold` carry their value only for keys with `readFileRetentions` /
/// `readFileLegalHolds` (else `isClientAuthorizedToRead: false` and a null value).
pub(crate) fn file_json(f: &FileVersion, key: &Key) -> Value {
    let (length, sha1) = match f.action {
        Action::Start => (0, "none".to_string()),
        _ => (f.length, f.sha1.clone()),
    };
    let retention = features::retention_json(f, key);
    let legal_hold = features::legal_hold_json(f, key);
    let mut v = json!({
        "accountId": f.account_id,
        "action": f.action.as_str(),
        "bucketId": f.bucket_id,
        "contentLength": length,
        "contentMd5": null,
        "contentSha1": sha1,
        "contentType": f.content_type,
        "fileId": f.id,
        "fileInfo": f.info,
        "fileName": f.name,
        "uploadTimestamp": f.timestamp,
        "fileRetention": retention,
        "legalHold": legal_hold,
        "replicationStatus": f.replication_status,
    });
    // Uploads, copies and large files are SSE-B2 (B2's default); a hide marker holds no
    // data and, like an unencrypted file on B2, has no serverSideEncryption.
    if f.action != Action::Hide {
        v["serverSideEncryption"] = features::sse_json(f);
    }
    v
}

/// The JSON B2 uses for a part.
pub(crate) fn part_json(file_id: &str, p: &Part) -> Value {
    json!({
        "fileId": file_id,
        "partNumber": p.number,
        "contentLength": p.length,
        "contentSha1": p.sha1,
        "contentMd5": null,
        "uploadTimestamp": p.timestamp,
        "serverSideEncryption": features::sse_b2(),
    })
}

/// A bucket by id, if the key may see it (400 `bad_bucket_id` when unknown).
pub(crate) fn bucket_for<'s>(
    ctx: &Ctx<'_>,
    st: &'s State,
    bucket_id: &str,
) -> ApiResult<&'s crate::state::Bucket> {
    ctx.key.require_bucket(bucket_id)?;
    match st.buckets.get(bucket_id) {
        Some(b) if b.account_id == ctx.key.account_id => Ok(b),
        _ => Err(ApiError::new(
            400,
            "bad_bucket_id",
            format!("Invalid bucketId: {bucket_id}"),
        )),
    }
}

/// A file version by id, if the key may see it.
pub(crate) fn file_for<'s>(
    ctx: &Ctx<'_>,
    st: &'s State,
    file_id: &str,
) -> ApiResult<crate::state::FileRef<'s>> {
    let f = st
        .file(file_id)
        .filter(|f| f.account_id == ctx.key.account_id)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid fileId: {file_id}")))?;
    ctx.key.require_bucket(&f.bucket_id)?;
    ctx.key.require_name(&f.name)?;
    Ok(f)
}

/// A new file id in a bucket, in B2's 83-character form
/// `4_z<bucket id>_f<type><15 hex>_d<yyyymmdd>_m<hhmmss>_c<dc>_v<vault>_t<nnnn>`: type 1
/// for a small file (or hide marker), 2 for a large file; the 15 hex digits are the
/// version's sequence number, so ids are unique; date and time are `now_ms` in UTC.
pub(crate) fn new_file_id(bucket_id: &str, seq: u64, large: bool, now_ms: u64) -> String {
    let kind = if large { 2 } else { 1 };
    let secs = now_ms / 1000;
    let (y, mo, d) = civil_from_days(secs / 86_400);
    let t = secs % 86_400;
    let (h, mi, s) = (t / 3600, t / 60 % 60, t % 60);
    format!(
        "4_z{bucket_id}_f{kind}{:015x}_d{y:04}{mo:02}{d:02}_m{h:02}{mi:02}{s:02}_c000_v0001000_t{:04}",
        seq & 0xfff_ffff_ffff_ffff,
        seq % 10_000
    )
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Parses `bytes=a-b` into (first, last), inclusive, against a length.
/// `Ok(None)` means no (usable) range: send everything.
pub(crate) fn parse_range(spec: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(r) = spec.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if r.contains(',') {
        return Ok(None);
    }
    let (a, b) = r.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let (first, last) = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || len == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let first: u64 = a.parse().map_err(|_| ())?;
        let last: u64 = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1))
        };
        if !b.is_empty() && b.parse::<u64>().map_err(|_| ())? < first {
            return Err(());
        }
        (first, last)
    };
    if first >= len || last < first {
        return Err(());
    }
    Ok(Some((first, last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_have_b2s_form() {
        let bucket = "1a2b3c4d5e6f7a8b9c0d1e2f";
        // 2026-12-01 15:04:05 UTC
        let id = new_file_id(bucket, 0x1f, false, 1_796_137_445_000);
        assert_eq!(id.len(), 83, "{id}");
        assert_eq!(
            id,
            "4_z1a2b3c4d5e6f7a8b9c0d1e2f_f100000000000001f_d20261201_m150405_c000_v0001000_t0031"
        );
        let large = new_file_id(bucket, 7, true, 0);
        assert_eq!(large.len(), 83);
        assert!(
            large.contains("_f2000000000000007_d19700101_m000000_"),
            "{large}"
        );
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=5-2", 100), Err(()));
        assert_eq!(parse_range("bytes=0-0", 0), Err(()));
        assert_eq!(parse_range("bytes=0-1,3-4", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
        assert_eq!(parse_range("bytes=x-1", 100), Err(()));
    }
}
