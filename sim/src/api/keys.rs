//! Application keys: create, list, delete.

use serde_json::{json, Value};

use super::{check_account, opt_str, opt_u64, req_str, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::state::{Key, State, ALL_CAPABILITIES};

/// Longest key lifetime B2 accepts (1000 days).
pub(crate) const MAX_KEY_DURATION_SECS: u64 = 1000 * 86_400;

/// The JSON B2 uses for a key (never the secret).
pub(crate) fn key_json(k: &Key, ver: u8) -> Value {
    let mut v = json!({
        "accountId": k.account_id,
        "applicationKeyId": k.id,
        "capabilities": k.capabilities,
        "expirationTimestamp": k.expires_ms,
        "keyName": k.name,
        "namePrefix": k.name_prefix,
        "options": ["s3"],
    });
    if ver >= 4 {
        v["bucketIds"] = json!(k.bucket_ids);
    } else {
        v["bucketId"] = json!(k.bucket_ids.as_ref().and_then(|b| b.first()));
    }
    v
}

/// `b2_create_key`.
pub(crate) fn create(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    check_account(ctx, args, true)?;
    ctx.key.require("writeKeys")?;
    let name = req_str(args, "keyName")?;
    if name.is_empty()
        || name.len() > 100
        || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    {
        return Err(ApiError::bad_request(
            "keyName must be 1 to 100 letters, digits or hyphens",
        ));
    }
    let caps: Vec<String> = match args.get("capabilities") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|c| c.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::new(400, "bad_json", "capabilities must be strings"))?,
        _ => {
            return Err(ApiError::bad_request(
                "capabilities must be a non-empty list",
            ))
        }
    };
    if let Some(bad) = caps
        .iter()
        .find(|c| !ALL_CAPABILITIES.contains(&c.as_str()))
    {
        return Err(ApiError::bad_request(format!("unknown capability: {bad}")));
    }
    let duration = opt_u64(args, "validDurationInSeconds")?;
    if let Some(d) = duration {
        if d == 0 || d > MAX_KEY_DURATION_SECS {
            return Err(ApiError::bad_request(
                "validDurationInSeconds must be between 1 and 86400000",
            ));
        }
    }
    let mut bucket_ids: Option<Vec<String>> = None;
    if let Some(id) = opt_str(args, "bucketId")? {
        bucket_ids = Some(vec![id.to_string()]);
    }
    match args.get("bucketIds") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            let ids = a
                .iter()
                .map(|c| c.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ApiError::new(400, "bad_json", "bucketIds must be strings"))?;
            if ids.is_empty() {
                return Err(ApiError::bad_request("bucketIds must not be empty"));
            }
            bucket_ids = Some(ids);
        }
        Some(_) => return Err(ApiError::new(400, "bad_json", "bucketIds must be a list")),
    }
    if let Some(ids) = &bucket_ids {
        for id in ids {
            if st
                .buckets
                .get(id)
                .is_none_or(|b| b.account_id != ctx.key.account_id)
            {
                return Err(ApiError::new(
                    400,
                    "bad_bucket_id",
                    format!("Invalid bucketId: {id}"),
                ));
            }
        }
    }
    let name_prefix = opt_str(args, "namePrefix")?.map(str::to_string);
    if name_prefix.is_some() && bucket_ids.is_none() {
        return Err(ApiError::bad_request(
            "namePrefix needs a bucket restriction",
        ));
    }
    // A restricted key may only hand out what it has.
    if let Some(mine) = &ctx.key.bucket_ids {
        let within = bucket_ids
            .as_ref()
            .is_some_and(|ids| ids.iter().all(|i| mine.contains(i)));
        if !within {
            return Err(ApiError::unauthorized(
                "A restricted key cannot create a key for other buckets",
            ));
        }
    }
    if let Some(bad) = caps.iter().find(|c| !ctx.key.capabilities.contains(c)) {
        return Err(ApiError::unauthorized(format!(
            "The key cannot grant {bad}, which it does not have"
        )));
    }
    let key = Key {
        id: format!("00{}{}", ctx.key.account_id, ctx.sh.random_hex(11)),
        secret: format!("K00{}", ctx.sh.random_hex(28)),
        account_id: ctx.key.account_id.clone(),
        name: name.to_string(),
        capabilities: caps,
        bucket_ids,
        name_prefix,
        expires_ms: duration.map(|d| ctx.now + d * 1000),
        master: false,
    };
    let mut out = key_json(&key, ctx.ver);
    out["applicationKey"] = json!(key.secret);
    st.keys.insert(key.id.clone(), key);
    Ok(out)
}

/// `b2_list_keys`.
pub(crate) fn list(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    check_account(ctx, args, true)?;
    ctx.key.require("listKeys")?;
    let max = opt_u64(args, "maxKeyCount")?.unwrap_or(100);
    if max == 0 || max > 10_000 {
        return Err(ApiError::bad_request("maxKeyCount must be 1 to 10000"));
    }
    let start = opt_str(args, "startApplicationKeyId")?.unwrap_or("");
    let mut it = st
        .keys
        .range(start.to_string()..)
        .map(|(_, k)| k)
        .filter(|k| k.account_id == ctx.key.account_id && !k.master);
    let mut keys = Vec::new();
    for k in it.by_ref() {
        keys.push(key_json(k, ctx.ver));
        if keys.len() as u64 == max {
            break;
        }
    }
    let next = it.next().map(|k| k.id.clone());
    Ok(json!({ "keys": keys, "nextApplicationKeyId": next }))
}

/// `b2_delete_key`.
pub(crate) fn delete(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("deleteKeys")?;
    let id = req_str(args, "applicationKeyId")?;
    match st.keys.get(id) {
        Some(k) if k.account_id == ctx.key.account_id && !k.master => {}
        Some(k) if k.account_id == ctx.key.account_id => {
            return Err(ApiError::bad_request("The master key cannot be deleted"))
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid applicationKeyId: {id}"
            )))
        }
    }
    let key = st
        .keys
        .remove(id)
        .ok_or_else(|| ApiError::bad_request("Invalid applicationKeyId"))?;
    st.tokens.retain(|_, t| t.key_id != key.id);
    st.upload_tokens.retain(|_, t| t.key_id != key.id);
    Ok(key_json(&key, ctx.ver))
}
