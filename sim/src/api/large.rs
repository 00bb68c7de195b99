//! Large files: start, finish, cancel, list parts, list unfinished, copy part.

use serde_json::{json, Value};

use super::{
    bucket_for, file_for, file_json, new_file_id, opt_info, opt_str, opt_u64, parse_range,
    part_json, req_str, Ctx,
};
use crate::error::{ApiError, ApiResult};
use crate::names::{guess_content_type, validate_file_name, validate_info};
use crate::state::{Action, FileVersion, Part, State};
use crate::store::{content_len, slice, Segment};

/// Most entries `b2_list_parts` returns at once.
pub(crate) const MAX_PART_COUNT: u64 = 1000;
/// Most entries `b2_list_unfinished_large_files` returns at once.
pub(crate) const MAX_UNFINISHED_COUNT: u64 = 100;

/// `b2_start_large_file`.
pub(crate) fn start(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let bucket_id = req_str(args, "bucketId")?.to_string();
    let name = req_str(args, "fileName")?.to_string();
    let ct = req_str(args, "contentType")?;
    let info = opt_info(args, "fileInfo")?.unwrap_or_default();
    let (protection, timestamp) = super::features::json_protection(
        ctx,
        bucket_for(ctx, st, &bucket_id)?,
        args,
        "serverSideEncryption",
    )?;
    validate_file_name(&name)?;
    validate_info(&name, &info)?;
    super::features::check_protected_budget(&protection, &name, &info)?;
    ctx.key.require_name(&name)?;
    let content_type = if ct == "b2/x-auto" {
        guess_content_type(&name).to_string()
    } else {
        ct.to_string()
    };
    let seq = st.next_seq();
    let f = FileVersion {
        id: new_file_id(&bucket_id, seq, true, ctx.now),
        bucket_id,
        account_id: ctx.key.account_id.clone(),
        name,
        action: Action::Start,
        content_type,
        sha1: "none".into(),
        length: 0,
        info,
        timestamp: timestamp.unwrap_or(ctx.now),
        seq,
        large: true,
        content: Vec::new(),
        protection,
        replication_status: None,
    };
    let out = file_json(&f, ctx.key);
    st.insert_file(f).map_err(ApiError::storage)?;
    Ok(out)
}

fn unfinished<'s>(
    ctx: &Ctx<'_>,
    st: &'s State,
    file_id: &str,
) -> ApiResult<crate::state::FileRef<'s>> {
    let f = file_for(ctx, st, file_id)?;
    if f.action != Action::Start {
        return Err(ApiError::bad_request(format!(
            "File {file_id} is not an unfinished large file"
        )));
    }
    Ok(f)
}

/// `b2_finish_large_file`.
pub(crate) fn finish(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let file_id = req_str(args, "fileId")?.to_string();
    let sha1s: Vec<String> = match args.get("partSha1Array") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_ascii_lowercase))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::new(400, "bad_json", "partSha1Array must hold strings"))?,
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "required field partSha1Array is missing",
            ))
        }
        Some(_) => {
            return Err(ApiError::new(
                400,
                "bad_json",
                "partSha1Array must be a list",
            ))
        }
    };
    unfinished(ctx, st, &file_id)?;
    let parts = st.parts_of(&file_id);
    if sha1s.is_empty() {
        return Err(ApiError::bad_request("partSha1Array is empty"));
    }
    for n in 1..=sha1s.len() {
        if !parts.contains_key(&u32::try_from(n).unwrap_or(u32::MAX)) {
            return Err(ApiError::new(
                400,
                "missing_part",
                format!("Part number {n} has not been uploaded"),
            ));
        }
    }
    if let Some(extra) = parts.keys().find(|n| **n as usize > sha1s.len()) {
        return Err(ApiError::bad_request(format!(
            "Part {extra} was uploaded but partSha1Array has only {} entries",
            sha1s.len()
        )));
    }
    for (i, (p, want)) in parts.values().zip(&sha1s).enumerate() {
        if p.sha1 != *want {
            return Err(ApiError::new(
                400,
                "part_sha1_mismatch",
                format!("Part number {} has SHA-1 {}, not {want}", i + 1, p.sha1),
            ));
        }
    }
    if parts.len() < 2 {
        return Err(ApiError::bad_request(
            "A large file must have at least 2 parts",
        ));
    }
    let min = ctx.sh.cfg.min_part_size;
    let last = parts.len();
    for (i, p) in parts.values().enumerate() {
        if i + 1 < last && p.length < min {
            return Err(ApiError::bad_request(format!(
                "Part number {} is {} bytes, smaller than the minimum part size {min}",
                i + 1,
                p.length
            )));
        }
    }
    let content: Vec<Segment> = parts.values().flat_map(|p| p.content.clone()).collect();
    let length = content_len(&content);
    let mut f = st
        .file(&file_id)
        .ok_or_else(|| ApiError::bad_request("file vanished"))?
        .into_owned();
    f.action = Action::Upload;
    f.length = length;
    f.content = content;
    f.sha1 = "none".into();
    crate::replication::on_new_version(st, &mut f);
    let out = file_json(&f, ctx.key);
    st.finish_large(f).map_err(ApiError::storage)?;
    Ok(out)
}

/// `b2_cancel_large_file`.
pub(crate) fn cancel(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let file_id = req_str(args, "fileId")?.to_string();
    unfinished(ctx, st, &file_id)?;
    let blobs: Vec<u64> = st
        .parts_of(&file_id)
        .values()
        .flat_map(|p| p.content.iter().map(|s| s.blob.id))
        .collect();
    let f = st
        .remove_file(&file_id)
        .ok_or_else(|| ApiError::bad_request("file vanished"))?;
    ctx.sh.collect_garbage(st, blobs);
    Ok(json!({
        "fileId": f.id,
        "accountId": f.account_id,
        "bucketId": f.bucket_id,
        "fileName": f.name,
    }))
}

/// `b2_list_parts`.
pub(crate) fn list_parts(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let file_id = req_str(args, "fileId")?.to_string();
    let start = opt_u64(args, "startPartNumber")?.unwrap_or(1);
    let max = opt_u64(args, "maxPartCount")?.unwrap_or(100);
    if max == 0 || max > MAX_PART_COUNT {
        return Err(ApiError::bad_request(format!(
            "maxPartCount must be 1 to {MAX_PART_COUNT}"
        )));
    }
    if !(1..=u64::from(super::upload::MAX_PART_NUMBER)).contains(&start) {
        return Err(ApiError::bad_request("startPartNumber must be 1 to 10000"));
    }
    unfinished(ctx, st, &file_id)?;
    let parts = st.parts_of(&file_id);
    let start = u32::try_from(start).unwrap_or(1);
    let mut it = parts.range(start..);
    let mut out = Vec::new();
    for (_, p) in it.by_ref() {
        out.push(part_json(&file_id, p));
        if out.len() as u64 == max {
            break;
        }
    }
    let next = it.next().map(|(n, _)| *n);
    Ok(json!({ "parts": out, "nextPartNumber": next }))
}

/// `b2_list_unfinished_large_files`.
pub(crate) fn list_unfinished(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("listFiles")?;
    let bucket_id = req_str(args, "bucketId")?.to_string();
    bucket_for(ctx, st, &bucket_id)?;
    let prefix = opt_str(args, "namePrefix")?.unwrap_or("").to_string();
    if let Some(p) = &ctx.key.name_prefix {
        if !prefix.starts_with(p.as_str()) {
            return Err(ApiError::unauthorized(format!(
                "The key is restricted to names starting with {p}"
            )));
        }
    }
    let max = opt_u64(args, "maxFileCount")?.unwrap_or(100);
    if max == 0 || max > MAX_UNFINISHED_COUNT {
        return Err(ApiError::bad_request(format!(
            "maxFileCount must be 1 to {MAX_UNFINISHED_COUNT}"
        )));
    }
    let start_key = match opt_str(args, "startFileId")? {
        Some(id) => match st.file(id) {
            Some(f) if f.bucket_id == bucket_id => State::index_key(&f),
            _ => return Err(ApiError::bad_request(format!("Invalid startFileId: {id}"))),
        },
        None => (prefix.clone(), 0, String::new()),
    };
    let mut files = Vec::new();
    let mut next = None;
    for f in st.scan(&bucket_id, start_key, true) {
        if !f.name.starts_with(&prefix) {
            if f.name.as_str() > prefix.as_str() {
                break;
            }
            continue;
        }
        if f.action != Action::Start {
            continue;
        }
        if files.len() as u64 == max {
            next = Some(f.id.clone());
            break;
        }
        files.push(file_json(&f, ctx.key));
    }
    Ok(json!({ "files": files, "nextFileId": next }))
}

/// The bytes `range` (a `bytes=a-b` string, or all) of a readable source file.
pub(crate) fn source_range(
    ctx: &Ctx<'_>,
    st: &State,
    source_id: &str,
    range: Option<&str>,
    dest_bucket: &str,
) -> ApiResult<(FileVersion, Vec<Segment>, bool)> {
    let src = file_for(ctx, st, source_id)?.into_owned();
    if src.action != Action::Upload {
        return Err(ApiError::bad_request(format!(
            "File {source_id} cannot be copied (it is a {})",
            src.action.as_str()
        )));
    }
    if src.bucket_id != dest_bucket {
        ctx.key.require("readFiles")?;
    }
    match range {
        None => Ok((src.clone(), src.content.clone(), true)),
        Some(r) => match parse_range(r, src.length) {
            Ok(Some((a, b))) => {
                let whole = a == 0 && b + 1 == src.length;
                let seg = slice(&src.content, a, b - a + 1);
                Ok((src, seg, whole))
            }
            Ok(None) | Err(()) => Err(ApiError::bad_request(format!(
                "Invalid range {r} for a file of {} bytes",
                src.length
            ))),
        },
    }
}

/// `b2_copy_part`.
pub(crate) fn copy_part(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let source_id = req_str(args, "sourceFileId")?.to_string();
    let large_id = req_str(args, "largeFileId")?.to_string();
    let number = opt_u64(args, "partNumber")?
        .ok_or_else(|| ApiError::bad_request("required field partNumber is missing"))?;
    if !(1..=u64::from(super::upload::MAX_PART_NUMBER)).contains(&number) {
        return Err(ApiError::bad_request(
            "Part number must be in range 1 - 10000",
        ));
    }
    let number = u32::try_from(number).unwrap_or(1);
    let range = opt_str(args, "range")?;
    let dest_md5 = super::features::check_write_sse(args, "destinationServerSideEncryption")?;
    let large = unfinished(ctx, st, &large_id)?;
    if large.protection.sse_c_key_md5 != dest_md5 {
        return Err(ApiError::bad_request(
            "destinationServerSideEncryption must be the SSE-C key the large file was started with",
        ));
    }
    let dest_bucket = large.bucket_id.clone();
    drop(large);
    let (src, content, _) = source_range(ctx, st, &source_id, range, &dest_bucket)?;
    super::features::check_source_sse(args, &src)?;
    let length = content_len(&content);
    if length > super::upload::MAX_SMALL_FILE {
        return Err(ApiError::new(
            400,
            "source_too_large",
            "A part may be at most 5 GB",
        ));
    }
    let sha1 = ctx
        .sh
        .storage
        .sha1_hex(&content)
        .map_err(|e| ApiError::new(500, "internal_error", format!("reading source: {e}")))?;
    let p = Part {
        number,
        length,
        sha1,
        timestamp: ctx.now,
        content,
    };
    let out = part_json(&large_id, &p);
    st.mark_dirty(&large_id);
    let old = st.put_part(&large_id, p).map_err(ApiError::storage)?;
    if let Some(old) = old {
        let ids = old.content.iter().map(|s| s.blob.id).collect();
        ctx.sh.collect_garbage(st, ids);
    }
    Ok(out)
}
