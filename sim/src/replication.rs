//! Replication between b2-sim's buckets, as B2's "Cloud Replication" describes it.
//!
//! A bucket's `replicationConfiguration.asReplicationSource` names the key B2 reads with
//! (`sourceApplicationKeyId`) and rules (destination bucket, name prefix, enabled, priority);
//! the destination bucket's `asReplicationDestination.sourceToDestinationKeyMapping` maps that
//! source key to a key of the destination's account that B2 writes with. Each new upload
//! (small file, finished large file, copy) in a source bucket that an enabled rule covers gets
//! `replicationStatus: "pending"` in its answer; it is replicated before the next request is
//! served (so a test sees `pending` in the upload answer, then `completed`), and the copy in
//! the destination bucket has `replicationStatus: "replica"`. When the keys are missing,
//! expired, lack `readFiles`/`writeFiles` or do not cover the buckets, or the destination does
//! not accept the source key, the source version is marked `failed` and nothing is copied.
//! Replicas are never replicated again. Hide markers and deletions are not replicated (B2
//! replicates new file versions only). The queue of pending versions lives in memory: with a
//! data directory, versions pending at a restart stay `pending`.

use serde_json::Value;

use crate::api::new_file_id;
use crate::state::{Action, FileVersion, Key, State};

/// The enabled rules of `bucket_id` that cover `name`: (destination bucket id, priority).
fn matching_rules(st: &State, bucket_id: &str, name: &str) -> Vec<(String, u64)> {
    let Some(b) = st.buckets.get(bucket_id) else {
        return Vec::new();
    };
    let rules = b.replication["asReplicationSource"]["replicationRules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out: Vec<(String, u64)> = rules
        .iter()
        .filter(|r| r["isEnabled"].as_bool() == Some(true))
        .filter(|r| name.starts_with(r["fileNamePrefix"].as_str().unwrap_or("")))
        .filter_map(|r| {
            Some((
                r["destinationBucketId"].as_str()?.to_string(),
                r["priority"].as_u64().unwrap_or(0),
            ))
        })
        .collect();
    // Highest priority first; one copy per destination.
    out.sort_by_key(|r| std::cmp::Reverse(r.1));
    let mut seen = std::collections::HashSet::new();
    out.retain(|(d, _)| seen.insert(d.clone()));
    out
}

/// Called for each new file version before it is stored and answered: a new upload that an
/// enabled rule of its bucket covers becomes `pending` and joins the queue. Idempotent (a
/// version with a status already, e.g. a replica, is left alone).
pub(crate) fn on_new_version(st: &mut State, f: &mut FileVersion) {
    if f.action != Action::Upload || f.replication_status.is_some() {
        return;
    }
    if matching_rules(st, &f.bucket_id, &f.name).is_empty() {
        return;
    }
    f.replication_status = Some("pending".to_string());
    st.replication_queue.push(f.id.clone());
}

/// Queues the existing newest uploads of `bucket_id` under `prefix` (a rule created with
/// `includeExistingFiles: true`).
pub(crate) fn queue_existing(st: &mut State, bucket_id: &str, prefix: &str) {
    let mut ids = Vec::new();
    let mut last_name: Option<String> = None;
    for f in st.scan(bucket_id, (prefix.to_string(), 0, String::new()), false) {
        if !f.name.starts_with(prefix) {
            break;
        }
        if last_name.as_deref() == Some(f.name.as_str()) {
            continue;
        }
        last_name = Some(f.name.clone());
        if f.action == Action::Upload && f.replication_status.is_none() {
            ids.push(f.id.clone());
        }
    }
    for id in ids {
        if st.set_replication_status(&id, "pending").is_ok() {
            st.replication_queue.push(id);
        }
    }
}

fn key_ok(k: Option<&Key>, cap: &str, bucket_id: &str, name: &str, now: u64) -> bool {
    k.is_some_and(|k| {
        k.has(cap)
            && k.allows_bucket(bucket_id)
            && k.name_prefix.as_deref().is_none_or(|p| name.starts_with(p))
            && k.expires_ms.is_none_or(|e| e > now)
    })
}

/// Copies one version to one destination; `false` when the configuration or the keys do not
/// allow it.
fn replicate_one(st: &mut State, f: &FileVersion, dest_id: &str, now: u64) -> bool {
    let Some(src_bucket) = st.buckets.get(&f.bucket_id) else {
        return false;
    };
    let Some(src_key_id) = src_bucket.replication["asReplicationSource"]["sourceApplicationKeyId"]
        .as_str()
        .map(str::to_string)
    else {
        return false;
    };
    let Some(dest) = st.buckets.get(dest_id) else {
        return false;
    };
    let dest_account = dest.account_id.clone();
    let Some(dst_key_id) = dest.replication["asReplicationDestination"]
        ["sourceToDestinationKeyMapping"][src_key_id.as_str()]
    .as_str()
    .map(str::to_string) else {
        return false;
    };
    let src_key = st.key(&src_key_id).map(|k| k.into_owned());
    let dst_key = st.key(&dst_key_id).map(|k| k.into_owned());
    if !key_ok(src_key.as_ref(), "readFiles", &f.bucket_id, &f.name, now)
        || !key_ok(dst_key.as_ref(), "writeFiles", dest_id, &f.name, now)
        || dst_key.is_some_and(|k| k.account_id != dest_account)
    {
        return false;
    }
    let seq = st.next_seq();
    let replica = FileVersion {
        id: new_file_id(dest_id, seq, f.large, now),
        bucket_id: dest_id.to_string(),
        account_id: dest_account,
        name: f.name.clone(),
        action: Action::Upload,
        content_type: f.content_type.clone(),
        sha1: f.sha1.clone(),
        length: f.length,
        info: f.info.clone(),
        timestamp: f.timestamp,
        seq,
        large: f.large,
        content: f.content.clone(),
        protection: f.protection.clone(),
        replication_status: Some("replica".to_string()),
    };
    st.insert_file(replica).is_ok()
}

/// Replicates every queued version (called before each request is served). Returns how many
/// versions were handled.
pub(crate) fn drain(st: &mut State, now: u64) -> usize {
    if st.replication_queue.is_empty() {
        return 0;
    }
    let queue = std::mem::take(&mut st.replication_queue);
    let n = queue.len();
    st.begin();
    for id in queue {
        let Some(f) = st.file(&id).map(|f| f.into_owned()) else {
            continue; // deleted meanwhile
        };
        if f.replication_status.as_deref() != Some("pending") {
            continue;
        }
        let dests = matching_rules(st, &f.bucket_id, &f.name);
        let ok = !dests.is_empty() && dests.iter().all(|(d, _)| replicate_one(st, &f, d, now));
        let status = if ok { "completed" } else { "failed" };
        if let Err(e) = st.set_replication_status(&id, status) {
            eprintln!("b2-sim: replication status of {id}: {e}");
        }
    }
    if let Err(e) = st.commit() {
        eprintln!("b2-sim: replication: {e}");
    }
    n
}

/// Checks a `replicationConfiguration` argument of `b2_create_bucket`/`b2_update_bucket` as
/// B2 documents it, against the account's keys and buckets. Returns the value to store (null
/// when both sides are absent).
pub(crate) fn check_config(
    st: &State,
    account_id: &str,
    bucket_id: Option<&str>,
    v: &Value,
) -> Result<Value, String> {
    let Some(obj) = v.as_object() else {
        return Err("replicationConfiguration must be an object".into());
    };
    let src = obj.get("asReplicationSource").filter(|v| !v.is_null());
    let dst = obj.get("asReplicationDestination").filter(|v| !v.is_null());
    if let Some(src) = src {
        let key = src["sourceApplicationKeyId"]
            .as_str()
            .ok_or("asReplicationSource.sourceApplicationKeyId is required")?;
        if st.key(key).is_none_or(|k| k.account_id != account_id) {
            return Err(format!(
                "sourceApplicationKeyId {key} is not a key of this account"
            ));
        }
        let rules = src["replicationRules"]
            .as_array()
            .ok_or("asReplicationSource.replicationRules must be a list")?;
        if rules.is_empty() {
            return Err("asReplicationSource needs at least one replication rule".into());
        }
        let mut names = std::collections::HashSet::new();
        for r in rules {
            let name = r["replicationRuleName"]
                .as_str()
                .ok_or("replicationRuleName is required")?;
            if name.is_empty()
                || name.len() > 64
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(format!(
                    "replicationRuleName {name:?} must be 1 to 64 letters, digits or hyphens"
                ));
            }
            if !names.insert(name) {
                return Err(format!("duplicate replicationRuleName {name}"));
            }
            let dest = r["destinationBucketId"]
                .as_str()
                .ok_or("destinationBucketId is required")?;
            if Some(dest) == bucket_id {
                return Err("a bucket cannot replicate to itself".into());
            }
            if !st.buckets.contains_key(dest) {
                return Err(format!("destinationBucketId {dest} does not exist"));
            }
            match r["priority"].as_u64() {
                Some(p) if (1..=2_147_483_647).contains(&p) => {}
                _ => return Err("priority must be 1 to 2147483647".into()),
            }
            for b in ["isEnabled", "includeExistingFiles"] {
                if !r[b].is_boolean() {
                    return Err(format!("{b} must be a boolean"));
                }
            }
            if !(r["fileNamePrefix"].is_string() || r["fileNamePrefix"].is_null()) {
                return Err("fileNamePrefix must be a string".into());
            }
        }
    }
    if let Some(dst) = dst {
        let map = dst["sourceToDestinationKeyMapping"]
            .as_object()
            .ok_or("asReplicationDestination.sourceToDestinationKeyMapping must be an object")?;
        for d in map.values() {
            let d = d.as_str().ok_or("key mapping values must be key ids")?;
            if st.key(d).is_none_or(|k| k.account_id != account_id) {
                return Err(format!("destination key {d} is not a key of this account"));
            }
        }
    }
    if src.is_none() && dst.is_none() {
        return Ok(Value::Null);
    }
    let mut out = serde_json::Map::new();
    out.insert(
        "asReplicationSource".into(),
        src.cloned().unwrap_or(Value::Null),
    );
    out.insert(
        "asReplicationDestination".into(),
        dst.cloned().unwrap_or(Value::Null),
    );
    Ok(Value::Object(out))
}
