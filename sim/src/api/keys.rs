//! Application keys: create, list, delete.

use serde_json::{json, Value};

use super::{check_account, opt_str, opt_u64, req_str, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::state::{Key, State, ALL_CAPABILITIES};

/// Longest key lifetime B2 accepts (1000 days).
pub(crate) const MAX_KEY_DURATION_SECS: u64 = 1000 * 86_400;

/// The only capabilities a bucket-restricted key may hold. B2's `b2_create_key` docs: "When
/// set, only these capabilities can be specified: listAllBucketNames, listBuckets, readBuckets,
/// readBucketEncryption, writeBucketEncryption, readBucketRetentions, writeBucketRetentions,
/// listFiles, readFiles, shareFiles, writeFiles, deleteFiles, readFileLegalHolds,
/// writeFileLegalHolds, readFileRetentions, writeFileRetentions, and bypassGovernance"; the
/// bucket-level capabilities added since (replications, notifications, lifecycle rules) are
/// allowed too. So
/// the account-level ones (`listKeys`, `writeKeys`, `deleteKeys`, `writeBuckets`,
/// `deleteBuckets`) are refused.
pub(crate) const BUCKET_KEY_CAPABILITIES: [&str; 23] = [
    "listAllBucketNames",
    "listBuckets",
    "readBuckets",
    "readBucketEncryption",
    "writeBucketEncryption",
    "readBucketRetentions",
    "writeBucketRetentions",
    "listFiles",
    "readFiles",
    "shareFiles",
    "writeFiles",
    "deleteFiles",
    "readFileLegalHolds",
    "writeFileLegalHolds",
    "readFileRetentions",
    "writeFileRetentions",
    "bypassGovernance",
    "readBucketReplications",
    "writeBucketReplications",
    "readBucketNotifications",
    "writeBucketNotifications",
    "readBucketLifecycleRules",
    "writeBucketLifecycleRules",
];

/// A key never creates a key with more rights than itself: every capability, bucket, name
/// prefix and expiry of the new key must be within the creator's. (B2's docs warn that
/// `writeKeys` effectively grants the whole account; b2-sim is deliberately stricter, so a
/// leaked restricted key cannot mint an unrestricted one.)
fn check_within_creator(
    creator: &Key,
    caps: &[String],
    bucket_ids: Option<&Vec<String>>,
    name_prefix: Option<&str>,
    expires_ms: Option<u64>,
) -> ApiResult<()> {
    if let Some(bad) = caps.iter().find(|c| !creator.capabilities.contains(c)) {
        return Err(ApiError::unauthorized(format!(
            "The key cannot grant {bad}, which it does not have"
        )));
    }
    if let Some(mine) = &creator.bucket_ids {
        if !bucket_ids.is_some_and(|ids| ids.iter().all(|i| mine.contains(i))) {
            return Err(ApiError::unauthorized(
                "A bucket-restricted key cannot create a key for other buckets or for all buckets",
            ));
        }
    }
    if let Some(mine) = &creator.name_prefix {
        if !name_prefix.is_some_and(|p| p.starts_with(mine.as_str())) {
            return Err(ApiError::unauthorized(format!(
                "A key restricted to names starting with {mine} cannot create a key without that prefix"
            )));
        }
    }
    if let Some(mine) = creator.expires_ms {
        if expires_ms.is_none_or(|e| e > mine) {
            return Err(ApiError::unauthorized(
                "A key cannot create a key that outlives it (give validDurationInSeconds)",
            ));
        }
    }
    Ok(())
}

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
    // B2's current `b2_create_key` docs: a name prefix "is applied to all buckets unless a
    // bucketId is included" (older docs required a bucket).
    let name_prefix = opt_str(args, "namePrefix")?.map(str::to_string);
    if bucket_ids.is_some() {
        if let Some(bad) = caps
            .iter()
            .find(|c| !BUCKET_KEY_CAPABILITIES.contains(&c.as_str()))
        {
            return Err(ApiError::bad_request(format!(
                "A key restricted to buckets cannot have the {bad} capability"
            )));
        }
    }
    let expires_ms = duration.map(|d| ctx.now + d * 1000);
    check_within_creator(
        ctx.key,
        &caps,
        bucket_ids.as_ref(),
        name_prefix.as_deref(),
        expires_ms,
    )?;
    let key = Key {
        id: format!("00{}{}", ctx.key.account_id, ctx.sh.random_hex(11)),
        secret: format!("K00{}", ctx.sh.random_hex(28)),
        account_id: ctx.key.account_id.clone(),
        name: name.to_string(),
        capabilities: caps,
        bucket_ids,
        name_prefix,
        expires_ms,
        master: false,
    };
    let mut out = key_json(&key, ctx.ver);
    out["applicationKey"] = json!(key.secret);
    st.insert_key(key).map_err(ApiError::storage)?;
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
    let max = usize::try_from(max).unwrap_or(10_000);
    let (found, next) = st
        .account_keys(&ctx.key.account_id, start, max, |k| {
            // Below v4, B2 lists only keys that are not Multi-Bucket Application Keys.
            !k.master && (ctx.ver >= 4 || !super::auth::is_multi_bucket(k))
        })
        .map_err(ApiError::storage)?;
    let keys: Vec<Value> = found.iter().map(|k| key_json(k, ctx.ver)).collect();
    Ok(json!({ "keys": keys, "nextApplicationKeyId": next }))
}

/// `b2_delete_key`.
pub(crate) fn delete(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("deleteKeys")?;
    let id = req_str(args, "applicationKeyId")?;
    match st.key(id).as_deref() {
        Some(k) if k.account_id == ctx.key.account_id && !k.master => {
            if ctx.ver < 4 && super::auth::is_multi_bucket(k) {
                return Err(super::auth::multi_bucket_refused(ctx.ver));
            }
        }
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
        .remove_key(id)
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::bad_request("Invalid applicationKeyId"))?;
    st.tokens.retain(|_, t| t.key_id != key.id);
    st.upload_tokens.retain(|_, t| t.key_id != key.id);
    Ok(key_json(&key, ctx.ver))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(caps: &[&str], buckets: Option<&[&str]>, prefix: Option<&str>, exp: Option<u64>) -> Key {
        Key {
            id: "k".into(),
            secret: "s".into(),
            account_id: "a".into(),
            name: "n".into(),
            capabilities: caps.iter().map(|c| c.to_string()).collect(),
            bucket_ids: buckets.map(|b| b.iter().map(|x| x.to_string()).collect()),
            name_prefix: prefix.map(str::to_string),
            expires_ms: exp,
            master: false,
        }
    }

    fn caps(c: &[&str]) -> Vec<String> {
        c.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_key_never_grants_more_than_it_has() {
        // Keys like this can no longer be created (bucket keys may not hold writeKeys), but a
        // data directory written by an older b2-sim may hold one: it still cannot escalate.
        let creator = key(
            &["writeKeys", "readFiles"],
            Some(&["b1"]),
            Some("pub/"),
            Some(1_000),
        );
        let b1 = vec!["b1".to_string()];
        let ok = check_within_creator(
            &creator,
            &caps(&["readFiles"]),
            Some(&b1),
            Some("pub/x"),
            Some(999),
        );
        assert!(ok.is_ok());
        let cases = [
            check_within_creator(
                &creator,
                &caps(&["deleteFiles"]),
                Some(&b1),
                Some("pub/"),
                Some(999),
            ),
            check_within_creator(
                &creator,
                &caps(&["readFiles"]),
                None,
                Some("pub/"),
                Some(999),
            ),
            check_within_creator(
                &creator,
                &caps(&["readFiles"]),
                Some(&vec!["b2".into()]),
                Some("pub/"),
                Some(999),
            ),
            check_within_creator(&creator, &caps(&["readFiles"]), Some(&b1), None, Some(999)),
            check_within_creator(
                &creator,
                &caps(&["readFiles"]),
                Some(&b1),
                Some("priv/"),
                Some(999),
            ),
            check_within_creator(
                &creator,
                &caps(&["readFiles"]),
                Some(&b1),
                Some("pub/"),
                None,
            ),
            check_within_creator(
                &creator,
                &caps(&["readFiles"]),
                Some(&b1),
                Some("pub/"),
                Some(1_001),
            ),
        ];
        for (i, c) in cases.iter().enumerate() {
            let e = c.as_ref().expect_err(&format!("case {i} must be refused"));
            assert_eq!((e.status, e.code), (401, "unauthorized"), "case {i}");
        }
        // An unrestricted, unexpiring key may hand out restrictions and expiries freely.
        let master = key(&["writeKeys", "readFiles"], None, None, None);
        assert!(check_within_creator(
            &master,
            &caps(&["readFiles"]),
            Some(&b1),
            Some("p/"),
            Some(5)
        )
        .is_ok());
        assert!(check_within_creator(&master, &caps(&["readFiles"]), None, None, None).is_ok());
    }
}
