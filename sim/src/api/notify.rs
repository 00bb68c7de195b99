//! Event notification rules: `b2_set_bucket_notification_rules` and
//! `b2_get_bucket_notification_rules`, stored and checked as B2 documents them ("Event
//! Notifications Reference Guide"): at most 25 rules a bucket, unique names, known event type
//! families (`b2:ObjectCreated:*`, `b2:ObjectDeleted:*`, `b2:HideMarkerCreated:*`, …), webhook
//! targets on `https://` only, a signing secret of 32 alphanumeric characters. b2-sim does not
//! deliver webhooks: rules are stored and answered, never fired.

use serde_json::{json, Value};

use super::{bucket_for, req_str, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::state::State;

/// Most rules a bucket may have.
pub(crate) const MAX_RULES: usize = 25;

/// Event type families B2 documents; the last part (`*` or a kind) is open.
const FAMILIES: [&str; 4] = [
    "b2:ObjectCreated:",
    "b2:ObjectDeleted:",
    "b2:HideMarkerCreated:",
    "b2:MultipartUploadCreated:",
];

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg)
}

fn check_rule(r: &Value) -> ApiResult<Value> {
    let o = r
        .as_object()
        .ok_or_else(|| ApiError::new(400, "bad_json", "each rule must be an object"))?;
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("rule name is required"))?;
    if name.is_empty()
        || name.len() > 63
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad(format!(
            "rule name {name:?} must be 1 to 63 letters, digits, '-' or '_'"
        )));
    }
    let types = o
        .get("eventTypes")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad(format!("rule {name}: eventTypes must be a non-empty list")))?;
    for t in types {
        let t = t.as_str().unwrap_or("");
        let ok = FAMILIES.iter().any(|f| {
            t.strip_prefix(f)
                .is_some_and(|k| !k.is_empty() && !k.contains(':'))
        });
        if !ok {
            return Err(bad(format!("rule {name}: unknown event type {t:?}")));
        }
    }
    let enabled = o
        .get("isEnabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| bad(format!("rule {name}: isEnabled is required")))?;
    let prefix = match o.get("objectNamePrefix") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(bad(format!(
                "rule {name}: objectNamePrefix must be a string"
            )))
        }
    };
    let target = o
        .get("targetConfiguration")
        .and_then(Value::as_object)
        .ok_or_else(|| bad(format!("rule {name}: targetConfiguration is required")))?;
    if target.get("targetType").and_then(Value::as_str) != Some("webhook") {
        return Err(bad(format!("rule {name}: targetType must be webhook")));
    }
    let url = target.get("url").and_then(Value::as_str).unwrap_or("");
    if !url.starts_with("https://") || url.len() <= "https://".len() {
        return Err(bad(format!("rule {name}: the webhook url must use https")));
    }
    match target.get("hmacSha256SigningSecret") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.len() == 32 && s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
        }
        Some(_) => {
            return Err(bad(format!(
                "rule {name}: hmacSha256SigningSecret must be 32 alphanumeric characters"
            )))
        }
    }
    match target.get("customHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Array(h)) if h.len() <= 10 => {
            for x in h {
                let n = x["name"].as_str().unwrap_or("");
                if n.is_empty() || x["value"].as_str().is_none() {
                    return Err(bad(format!(
                        "rule {name}: custom headers need a name and value"
                    )));
                }
                if n.to_ascii_lowercase().starts_with("x-bz-") {
                    return Err(bad(format!(
                        "rule {name}: custom header {n} may not start with X-Bz-"
                    )));
                }
            }
        }
        Some(_) => {
            return Err(bad(format!(
                "rule {name}: customHeaders must be a list of at most 10"
            )))
        }
    }
    Ok(json!({
        "eventTypes": types,
        "isEnabled": enabled,
        "isSuspended": false,
        "name": name,
        "objectNamePrefix": prefix,
        "suspensionReason": "",
        "targetConfiguration": target,
    }))
}

fn answer(bucket_id: &str, rules: &Value) -> Value {
    json!({"bucketId": bucket_id, "eventNotificationRules": rules.as_array().cloned().unwrap_or_default()})
}

/// `b2_set_bucket_notification_rules`: replaces the bucket's rules.
pub(crate) fn set(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeBucketNotifications")?;
    let id = req_str(args, "bucketId")?.to_string();
    bucket_for(ctx, st, &id)?;
    let rules = args
        .get("eventNotificationRules")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::new(400, "bad_json", "eventNotificationRules must be a list"))?;
    if rules.len() > MAX_RULES {
        return Err(bad(format!(
            "a bucket may have at most {MAX_RULES} notification rules"
        )));
    }
    let mut checked: Vec<Value> = rules.iter().map(check_rule).collect::<ApiResult<_>>()?;
    let mut names = std::collections::HashSet::new();
    for r in &checked {
        if !names.insert(r["name"].as_str().unwrap_or("").to_string()) {
            return Err(bad(format!("duplicate rule name {}", r["name"])));
        }
    }
    // B2 answers (and lists) rules alphabetically by name.
    checked.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let b = st
        .buckets
        .get_mut(&id)
        .ok_or_else(|| ApiError::new(400, "bad_bucket_id", "Invalid bucketId"))?;
    b.notification_rules = Value::Array(checked);
    Ok(answer(&id, &b.notification_rules))
}

/// `b2_get_bucket_notification_rules`.
pub(crate) fn get(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("readBucketNotifications")?;
    let id = req_str(args, "bucketId")?.to_string();
    let b = bucket_for(ctx, st, &id)?;
    Ok(answer(&id, &b.notification_rules))
}
