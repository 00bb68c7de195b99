//! Buckets: create, list, update, delete.

use serde_json::{json, Value};

use super::{bucket_for, check_account, opt_str, opt_u64, req_str, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::names::validate_bucket_name;
use crate::state::{Bucket, Key, State};

/// Most buckets per account.
pub(crate) const MAX_BUCKETS: usize = 100;

/// The JSON B2 uses for a bucket, as `key` may see it: `defaultServerSideEncryption`,
/// `fileLockConfiguration` and `replicationConfiguration` are wrapped in
/// `{isClientAuthorizedToRead, value}` and carry their value only for keys with
/// `readBucketEncryption`, `readBucketRetentions` and `readBucketReplications`.
pub(crate) fn bucket_json(b: &Bucket, key: &Key) -> Value {
    // Every bucket's effective default is SSE-B2 (B2's default since 2026; see features).
    let sse = if key.has("readBucketEncryption") {
        json!({"isClientAuthorizedToRead": true, "value": super::features::sse_b2()})
    } else {
        json!({"isClientAuthorizedToRead": false})
    };
    let lock = super::features::bucket_lock_json(b, key);
    let replication = if key.has("readBucketReplications") {
        let value = if b.replication.is_null() {
            json!({"asReplicationSource": null, "asReplicationDestination": null})
        } else {
            b.replication.clone()
        };
        json!({"isClientAuthorizedToRead": true, "value": value})
    } else {
        json!({"isClientAuthorizedToRead": false, "value": null})
    };
    json!({
        "accountId": b.account_id,
        "bucketId": b.id,
        "bucketName": b.name,
        "bucketType": b.bucket_type,
        "bucketInfo": b.info,
        "corsRules": b.cors_rules,
        "lifecycleRules": b.lifecycle_rules,
        "options": ["s3"],
        "revision": b.revision,
        "defaultServerSideEncryption": sse,
        "fileLockConfiguration": lock,
        "replicationConfiguration": replication,
    })
}

fn check_type(t: &str) -> ApiResult<()> {
    if t == "allPublic" || t == "allPrivate" {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("Invalid bucketType: {t}")))
    }
}

fn json_field(args: &Value, name: &str, default: Value) -> ApiResult<Value> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) if v.is_object() == default.is_object() && v.is_array() == default.is_array() => {
            Ok(v.clone())
        }
        Some(_) => Err(ApiError::new(400, "bad_json", format!("bad {name}"))),
    }
}

fn check_bucket_info(info: &Value) -> ApiResult<()> {
    if let Some(m) = info.as_object() {
        if m.len() > 10 {
            return Err(ApiError::bad_request("bucketInfo has more than 10 entries"));
        }
        if m.values().any(|v| !v.is_string()) {
            return Err(ApiError::new(
                400,
                "bad_json",
                "bucketInfo values must be strings",
            ));
        }
    }
    Ok(())
}

/// Checks `corsRules` as B2's "CORS Rules" page documents them: at most 100 rules, each
/// with a unique `corsRuleName` (6..=50 letters, digits, `-`, not starting with `b2-`),
/// non-empty `allowedOrigins` and `allowedOperations` lists, optional header lists, and
/// `maxAgeSeconds` 0..=86,400.
fn check_cors(rules: &Value) -> ApiResult<()> {
    let bad = |m: String| ApiError::bad_request(m);
    let list = rules
        .as_array()
        .ok_or_else(|| ApiError::new(400, "bad_json", "corsRules must be a list"))?;
    if list.len() > 100 {
        return Err(bad("a bucket may have at most 100 CORS rules".into()));
    }
    let mut names = std::collections::HashSet::new();
    for r in list {
        let name = r["corsRuleName"].as_str().unwrap_or("");
        if !(6..=50).contains(&name.len())
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            || name.to_ascii_lowercase().starts_with("b2-")
        {
            return Err(bad(format!("bad corsRuleName {name:?}")));
        }
        if !names.insert(name) {
            return Err(bad(format!("duplicate corsRuleName {name}")));
        }
        for k in ["allowedOrigins", "allowedOperations"] {
            let ok = r[k]
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
            if !ok {
                return Err(bad(format!(
                    "{name}: {k} must be a non-empty list of strings"
                )));
            }
        }
        for k in ["allowedHeaders", "exposeHeaders"] {
            if !(r[k].is_null()
                || r[k]
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)))
            {
                return Err(bad(format!("{name}: {k} must be a list of strings")));
            }
        }
        if r["maxAgeSeconds"].as_u64().is_none_or(|m| m > 86_400) {
            return Err(bad(format!("{name}: maxAgeSeconds must be 0 to 86400")));
        }
    }
    Ok(())
}

/// The settings `b2_create_bucket` and `b2_update_bucket` share: CORS rules, lifecycle rules
/// and replication, each checked as B2 documents it. Replication needs
/// `writeBucketReplications`; a rule with `includeExistingFiles` queues what is there.
fn check_settings(
    ctx: &Ctx<'_>,
    st: &State,
    bucket_id: Option<&str>,
    args: &Value,
) -> ApiResult<Option<Value>> {
    if let Some(c) = args.get("corsRules").filter(|v| !v.is_null()) {
        check_cors(c)?;
    }
    if let Some(l) = args.get("lifecycleRules").filter(|v| !v.is_null()) {
        crate::lifecycle::check_rules(l).map_err(ApiError::bad_request)?;
    }
    match args
        .get("replicationConfiguration")
        .filter(|v| !v.is_null())
    {
        None => Ok(None),
        Some(r) => {
            ctx.key.require("writeBucketReplications")?;
            crate::replication::check_config(st, &ctx.key.account_id, bucket_id, r)
                .map(Some)
                .map_err(ApiError::bad_request)
        }
    }
}

/// Queues existing files for the rules with `includeExistingFiles: true`.
fn queue_existing(st: &mut State, bucket_id: &str) {
    let rules = st
        .buckets
        .get(bucket_id)
        .and_then(|b| {
            b.replication["asReplicationSource"]["replicationRules"]
                .as_array()
                .cloned()
        })
        .unwrap_or_default();
    for r in rules {
        if r["includeExistingFiles"].as_bool() == Some(true)
            && r["isEnabled"].as_bool() == Some(true)
        {
            let prefix = r["fileNamePrefix"].as_str().unwrap_or("").to_string();
            crate::replication::queue_existing(st, bucket_id, &prefix);
        }
    }
}

/// `b2_create_bucket`.
pub(crate) fn create(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    check_account(ctx, args, true)?;
    ctx.key.require("writeBuckets")?;
    if ctx.key.bucket_ids.is_some() {
        return Err(ApiError::unauthorized(
            "A key restricted to buckets cannot create buckets",
        ));
    }
    let name = req_str(args, "bucketName")?;
    let bucket_type = req_str(args, "bucketType")?;
    validate_bucket_name(name)?;
    check_type(bucket_type)?;
    super::features::check_bucket_default_sse(ctx, args)?;
    let info = json_field(args, "bucketInfo", json!({}))?;
    check_bucket_info(&info)?;
    let cors_rules = json_field(args, "corsRules", json!([]))?;
    let lifecycle_rules = json_field(args, "lifecycleRules", json!([]))?;
    let replication = check_settings(ctx, st, None, args)?.unwrap_or(Value::Null);
    if st.bucket_by_name(name).is_some() {
        return Err(ApiError::new(
            400,
            "duplicate_bucket_name",
            format!("Bucket name is already in use: {name}"),
        ));
    }
    let count = st
        .buckets
        .values()
        .filter(|b| b.account_id == ctx.key.account_id)
        .count();
    if count >= MAX_BUCKETS {
        return Err(ApiError::new(
            400,
            "too_many_buckets",
            format!("Accounts may have at most {MAX_BUCKETS} buckets"),
        ));
    }
    let b = Bucket {
        id: ctx.sh.random_hex(24),
        name: name.to_string(),
        account_id: ctx.key.account_id.clone(),
        bucket_type: bucket_type.to_string(),
        info,
        cors_rules,
        lifecycle_rules,
        revision: 1,
        file_lock: super::features::new_bucket_file_lock(ctx, args)?,
        replication,
        notification_rules: json!([]),
    };
    let out = bucket_json(&b, ctx.key);
    st.buckets.insert(b.id.clone(), b);
    Ok(out)
}

/// `b2_list_buckets`.
pub(crate) fn list(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    check_account(ctx, args, true)?;
    ctx.key.require("listBuckets")?;
    let want_id = opt_str(args, "bucketId")?;
    let want_name = opt_str(args, "bucketName")?;
    let types: Option<Vec<String>> = match args.get("bucketTypes") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        ),
        Some(_) => return Err(ApiError::new(400, "bad_json", "bucketTypes must be a list")),
    };
    if let Some(allowed) = &ctx.key.bucket_ids {
        let named_ok = match (want_id, want_name) {
            (Some(id), _) => allowed.iter().any(|a| a == id),
            (None, Some(n)) => st
                .bucket_by_name(n)
                .is_some_and(|b| allowed.contains(&b.id)),
            (None, None) => false,
        };
        if !named_ok {
            return Err(ApiError::unauthorized(
                "A key restricted to buckets must name an allowed bucket",
            ));
        }
    }
    let buckets: Vec<Value> = st
        .buckets
        .values()
        .filter(|b| b.account_id == ctx.key.account_id)
        .filter(|b| ctx.key.allows_bucket(&b.id))
        .filter(|b| want_id.is_none_or(|id| b.id == id))
        .filter(|b| want_name.is_none_or(|n| b.name == n))
        .filter(|b| {
            types
                .as_ref()
                .is_none_or(|t| t.iter().any(|t| t == "all" || *t == b.bucket_type))
        })
        .map(|b| bucket_json(b, ctx.key))
        .collect();
    Ok(json!({ "buckets": buckets }))
}

/// `b2_update_bucket`.
pub(crate) fn update(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    check_account(ctx, args, false)?;
    ctx.key.require("writeBuckets")?;
    let id = req_str(args, "bucketId")?.to_string();
    bucket_for(ctx, st, &id)?;
    let new_type = opt_str(args, "bucketType")?;
    if let Some(t) = new_type {
        check_type(t)?;
    }
    super::features::check_bucket_default_sse(ctx, args)?;
    let info = args.get("bucketInfo").filter(|v| !v.is_null());
    if let Some(i) = info {
        if !i.is_object() {
            return Err(ApiError::new(
                400,
                "bad_json",
                "bucketInfo must be an object",
            ));
        }
        check_bucket_info(i)?;
    }
    let replication = check_settings(ctx, st, Some(&id), args)?;
    let cors = args.get("corsRules").filter(|v| !v.is_null());
    let life = args.get("lifecycleRules").filter(|v| !v.is_null());
    let if_rev = opt_u64(args, "ifRevisionIs")?;
    let b = st
        .buckets
        .get_mut(&id)
        .ok_or_else(|| ApiError::new(400, "bad_bucket_id", "Invalid bucketId"))?;
    if let Some(r) = if_rev {
        if r != b.revision {
            return Err(ApiError::new(
                409,
                "conflict",
                format!("ifRevisionIs is {r} but the revision is {}", b.revision),
            ));
        }
    }
    if let Some(t) = new_type {
        b.bucket_type = t.to_string();
    }
    if let Some(i) = info {
        b.info = i.clone();
    }
    if let Some(c) = cors {
        b.cors_rules = c.clone();
    }
    if let Some(l) = life {
        b.lifecycle_rules = l.clone();
    }
    super::features::update_bucket_file_lock(ctx, &mut b.file_lock, args)?;
    let replicating = replication.is_some();
    if let Some(r) = replication {
        b.replication = r;
    }
    b.revision += 1;
    let out = bucket_json(b, ctx.key);
    if replicating {
        queue_existing(st, &id);
    }
    Ok(out)
}

/// `b2_delete_bucket`.
pub(crate) fn delete(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    check_account(ctx, args, true)?;
    ctx.key.require("deleteBuckets")?;
    let id = req_str(args, "bucketId")?.to_string();
    bucket_for(ctx, st, &id)?;
    if st.bucket_has_files(&id) {
        return Err(ApiError::new(
            400,
            "cannot_delete_non_empty_bucket",
            "Cannot delete a bucket that still has files",
        ));
    }
    let b = st
        .buckets
        .remove(&id)
        .ok_or_else(|| ApiError::new(400, "bad_bucket_id", "Invalid bucketId"))?;
    st.forget_bucket(&id);
    st.upload_tokens.retain(|_, t| t.bucket_id != id);
    st.download_tokens.retain(|_, t| t.bucket_id != id);
    Ok(bucket_json(&b, ctx.key))
}
