//! File versions: list names and versions, get info, hide, delete a version, copy.

use serde_json::{json, Value};

use super::large::source_range;
use super::{
    bucket_for, check_account, file_for, file_json, new_file_id, opt_info, opt_str, opt_u64,
    req_str, Ctx,
};
use crate::error::{ApiError, ApiResult};
use crate::names::{guess_content_type, validate_file_name, validate_info};
use crate::state::{Action, FileVersion, IndexKey, State};
use crate::store::content_len;

/// Default `maxFileCount` of the list calls.
pub(crate) const DEFAULT_LIST_COUNT: u64 = 100;
/// Largest `maxFileCount` of the list calls.
pub(crate) const MAX_LIST_COUNT: u64 = 10_000;

/// One listing request.
struct Listing<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    start: IndexKey,
    max: usize,
    versions: bool,
}

/// The smallest string greater than every string starting with `s`.
fn successor(s: &str) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    while let Some(c) = chars.pop() {
        let mut n = c as u32 + 1;
        if (0xD800..0xE000).contains(&n) {
            n = 0xE000;
        }
        if let Some(nc) = char::from_u32(n) {
            chars.push(nc);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn folder_json(name: &str) -> Value {
    json!({
        "accountId": null,
        "action": "folder",
        "bucketId": null,
        "contentLength": 0,
        "contentMd5": null,
        "contentSha1": null,
        "contentType": null,
        "fileId": null,
        "fileInfo": {},
        "fileName": name,
        "uploadTimestamp": 0,
    })
}

/// Runs a listing: (entries, next name, next id).
fn run_listing(
    who: &crate::state::Key,
    st: &State,
    bucket_id: &str,
    l: &Listing<'_>,
) -> (Vec<Value>, Option<String>, Option<String>) {
    let mut out = Vec::new();
    let mut cursor = l.start.clone();
    let mut last_name: Option<String> = None;
    'outer: loop {
        for f in st.scan(bucket_id, cursor.clone(), false) {
            let (name, id) = (&f.name, &f.id);
            if !name.starts_with(l.prefix) {
                if name.as_str() > l.prefix {
                    break 'outer;
                }
                continue;
            }
            if !l.versions {
                if f.action == Action::Start || last_name.as_deref() == Some(name.as_str()) {
                    continue;
                }
                last_name = Some(name.clone());
                if f.action != Action::Upload {
                    continue;
                }
            }
            let folder = l.delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                name[l.prefix.len()..]
                    .find(d)
                    .map(|pos| &name[..l.prefix.len() + pos + d.len()])
            });
            if out.len() >= l.max {
                return match folder {
                    Some(fold) => (out, Some(fold.to_string()), None),
                    None => (out, Some(name.clone()), l.versions.then(|| id.clone())),
                };
            }
            match folder {
                Some(fold) => {
                    out.push(folder_json(fold));
                    match successor(fold) {
                        Some(s) => {
                            cursor = (s, 0, String::new());
                            continue 'outer;
                        }
                        None => break 'outer,
                    }
                }
                None => out.push(file_json(&f, who)),
            }
        }
        break;
    }
    (out, None, None)
}

fn listing_args<'a>(
    ctx: &Ctx<'_>,
    st: &State,
    args: &'a Value,
) -> ApiResult<(String, &'a str, Option<&'a str>, usize)> {
    ctx.key.require("listFiles")?;
    let bucket_id = req_str(args, "bucketId")?.to_string();
    bucket_for(ctx, st, &bucket_id)?;
    let prefix = opt_str(args, "prefix")?.unwrap_or("");
    if let Some(p) = &ctx.key.name_prefix {
        if !prefix.starts_with(p.as_str()) {
            return Err(ApiError::unauthorized(format!(
                "The key is restricted to names starting with {p}"
            )));
        }
    }
    let delimiter = opt_str(args, "delimiter")?;
    let max = opt_u64(args, "maxFileCount")?.unwrap_or(DEFAULT_LIST_COUNT);
    if max == 0 || max > MAX_LIST_COUNT {
        return Err(ApiError::bad_request(format!(
            "maxFileCount must be 1 to {MAX_LIST_COUNT}"
        )));
    }
    Ok((
        bucket_id,
        prefix,
        delimiter,
        usize::try_from(max).unwrap_or(100),
    ))
}

/// In `/b2api/v1`, the entries of `b2_list_file_names` and `b2_list_file_versions` also carry
/// their length as `size` (B2's v1 listing field, which rclone's B2 backend reads); later
/// versions have only `contentLength`.
fn v1_sizes(ctx: &Ctx<'_>, files: &mut [Value]) {
    if ctx.ver != 1 {
        return;
    }
    for f in files {
        let length = f["contentLength"].clone();
        f["size"] = length;
    }
}

/// `b2_list_file_names`.
pub(crate) fn list_names(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    let (bucket_id, prefix, delimiter, max) = listing_args(ctx, st, args)?;
    let start_name = opt_str(args, "startFileName")?.unwrap_or("");
    let start = start_name.max(prefix).to_string();
    let l = Listing {
        prefix,
        delimiter,
        start: (start, 0, String::new()),
        max,
        versions: false,
    };
    let (mut files, next, _) = run_listing(ctx.key, st, &bucket_id, &l);
    v1_sizes(ctx, &mut files);
    Ok(json!({ "files": files, "nextFileName": next }))
}

/// `b2_list_file_versions`.
pub(crate) fn list_versions(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    let (bucket_id, prefix, delimiter, max) = listing_args(ctx, st, args)?;
    let start_name = opt_str(args, "startFileName")?.unwrap_or("");
    let start_id = opt_str(args, "startFileId")?;
    if start_id.is_some() && start_name.is_empty() {
        return Err(ApiError::bad_request("startFileId needs startFileName"));
    }
    let start = match start_id.and_then(|id| st.file(id)) {
        Some(f) if f.name == start_name && f.bucket_id == bucket_id => State::index_key(&f),
        _ => (start_name.max(prefix).to_string(), 0, String::new()),
    };
    let l = Listing {
        prefix,
        delimiter,
        start,
        max,
        versions: true,
    };
    let (mut files, next_name, next_id) = run_listing(ctx.key, st, &bucket_id, &l);
    v1_sizes(ctx, &mut files);
    Ok(json!({ "files": files, "nextFileName": next_name, "nextFileId": next_id }))
}

/// `b2_get_file_info`.
pub(crate) fn get_info(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("readFiles")?;
    let id = req_str(args, "fileId")?;
    let f = file_for(ctx, st, id)?;
    Ok(file_json(&f, ctx.key))
}

/// `b2_hide_file`.
pub(crate) fn hide(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let bucket_id = req_str(args, "bucketId")?.to_string();
    let name = req_str(args, "fileName")?.to_string();
    bucket_for(ctx, st, &bucket_id)?;
    validate_file_name(&name)?;
    ctx.key.require_name(&name)?;
    match st.latest(&bucket_id, &name) {
        None => {
            return Err(ApiError::new(
                400,
                "no_such_file",
                format!("No file named {name}"),
            ))
        }
        Some(f) if f.action == Action::Hide => {
            return Err(ApiError::new(
                400,
                "already_hidden",
                format!("File {name} is already hidden"),
            ))
        }
        Some(_) => {}
    }
    let seq = st.next_seq();
    let f = FileVersion {
        id: new_file_id(&bucket_id, seq, false, ctx.now),
        bucket_id,
        account_id: ctx.key.account_id.clone(),
        name,
        action: Action::Hide,
        content_type: "application/x-bz-hide-marker".into(),
        sha1: "none".into(),
        length: 0,
        info: Default::default(),
        timestamp: ctx.now,
        seq,
        large: false,
        content: Vec::new(),
        protection: Default::default(),
        replication_status: None,
    };
    let out = file_json(&f, ctx.key);
    st.insert_file(f).map_err(ApiError::storage)?;
    Ok(out)
}

/// `b2_delete_file_version`.
pub(crate) fn delete_version(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("deleteFiles")?;
    let name = req_str(args, "fileName")?;
    let id = req_str(args, "fileId")?;
    let f = st
        .file(id)
        .filter(|f| f.account_id == ctx.key.account_id)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "file_not_present",
                format!("File not present: {name} {id}"),
            )
        })?;
    if f.name != name {
        return Err(ApiError::new(
            400,
            "file_not_present",
            format!("File not present: {name} {id}"),
        ));
    }
    ctx.key.require_bucket(&f.bucket_id)?;
    ctx.key.require_name(&f.name)?;
    super::features::check_delete(ctx, &f, args)?;
    let mut blobs: Vec<u64> = f.content.iter().map(|s| s.blob.id).collect();
    drop(f);
    blobs.extend(
        st.parts_of(id)
            .values()
            .flat_map(|p| p.content.iter().map(|s| s.blob.id)),
    );
    let f = st
        .remove_file(id)
        .ok_or_else(|| ApiError::bad_request("file vanished"))?;
    ctx.sh.collect_garbage(st, blobs);
    Ok(json!({ "fileId": f.id, "fileName": f.name }))
}

/// `b2_copy_file`.
pub(crate) fn copy(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    check_account(ctx, args, false)?;
    let source_id = req_str(args, "sourceFileId")?.to_string();
    let name = req_str(args, "fileName")?.to_string();
    let range = opt_str(args, "range")?;
    let directive = opt_str(args, "metadataDirective")?.unwrap_or("COPY");
    let content_type = opt_str(args, "contentType")?;
    let info = opt_info(args, "fileInfo")?;
    validate_file_name(&name)?;
    ctx.key.require_name(&name)?;
    let src_bucket = st
        .file(&source_id)
        .map(|f| f.bucket_id.clone())
        .ok_or_else(|| ApiError::bad_request(format!("Invalid sourceFileId: {source_id}")))?;
    let dest_bucket = opt_str(args, "destinationBucketId")?
        .map(str::to_string)
        .unwrap_or(src_bucket);
    let (protection, timestamp) = super::features::json_protection(
        ctx,
        bucket_for(ctx, st, &dest_bucket)?,
        args,
        "destinationServerSideEncryption",
    )?;
    let (src, content, whole) = source_range(ctx, st, &source_id, range, &dest_bucket)?;
    super::features::check_source_sse(args, &src)?;
    let (content_type, info) = match directive {
        "COPY" => {
            if content_type.is_some() || info.is_some() {
                return Err(ApiError::bad_request(
                    "contentType and fileInfo must not be set with metadataDirective COPY",
                ));
            }
            (src.content_type.clone(), src.info.clone())
        }
        "REPLACE" => {
            let ct = content_type.ok_or_else(|| {
                ApiError::bad_request("contentType is required with metadataDirective REPLACE")
            })?;
            let ct = if ct == "b2/x-auto" {
                guess_content_type(&name).to_string()
            } else {
                ct.to_string()
            };
            (ct, info.unwrap_or_default())
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "metadataDirective must be COPY or REPLACE, not {other}"
            )))
        }
    };
    validate_info(&name, &info)?;
    super::features::check_protected_budget(&protection, &name, &info)?;
    let length = content_len(&content);
    if length > super::upload::MAX_SMALL_FILE {
        return Err(ApiError::new(
            400,
            "source_too_large",
            "Copies over 5 GB must use b2_copy_part",
        ));
    }
    let sha1 = if whole && src.sha1 != "none" {
        src.sha1.clone()
    } else {
        ctx.sh
            .storage
            .sha1_hex(&content)
            .map_err(|e| ApiError::new(500, "internal_error", format!("reading source: {e}")))?
    };
    let seq = st.next_seq();
    let mut f = FileVersion {
        id: new_file_id(&dest_bucket, seq, false, ctx.now),
        bucket_id: dest_bucket,
        account_id: ctx.key.account_id.clone(),
        name,
        action: Action::Upload,
        content_type,
        sha1,
        length,
        info,
        timestamp: timestamp.unwrap_or(ctx.now),
        seq,
        large: false,
        content,
        protection,
        replication_status: None,
    };
    crate::replication::on_new_version(st, &mut f);
    let out = file_json(&f, ctx.key);
    st.insert_file(f).map_err(ApiError::storage)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors() {
        assert_eq!(successor("a/").as_deref(), Some("a0"));
        assert_eq!(successor("").as_deref(), None);
        assert_eq!(successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
    }
}
