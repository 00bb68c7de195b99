//! Lifecycle rules, run on the simulator's clock.
//!
//! B2 ("Lifecycle Rules") applies a bucket's rules to names starting with each rule's
//! `fileNamePrefix` (rules never overlap): `daysFromUploadingToHiding` hides a file that many
//! days after its newest version was uploaded; `daysFromHidingToDeleting` deletes a version
//! that many days after it became hidden (when a newer version or a hide marker arrived), and
//! then a hide marker left alone; `daysFromStartingToCancelingUnfinishedLargeFiles` cancels
//! an unfinished large file that many days after it was started. B2 runs the rules about once
//! a day; b2-sim runs them each time the test clock is moved (`POST /_sim/clock`,
//! [`crate::Sim::advance_clock`]), so a test advances N days and sees the result.
//! Checking rules as B2 does on create/update is [`check_rules`].

use serde_json::Value;

use crate::state::{Action, FileVersion, IndexKey, State};

/// One day, in milliseconds.
const DAY_MS: u64 = 86_400_000;

/// Most lifecycle rules a bucket may have.
pub(crate) const MAX_RULES: usize = 100;

#[derive(Debug, Clone)]
struct Rule {
    prefix: String,
    hide: Option<u64>,
    delete: Option<u64>,
    cancel: Option<u64>,
}

fn days(r: &Value, k: &str) -> Result<Option<u64>, String> {
    match r.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(0) => Err(format!("{k} cannot be 0")),
            Some(d) if d <= 100_000 => Ok(Some(d)),
            _ => Err(format!("{k} must be a positive number of days")),
        },
    }
}

fn parse(rules: &Value) -> Result<Vec<Rule>, String> {
    let list = rules.as_array().ok_or("lifecycleRules must be a list")?;
    if list.len() > MAX_RULES {
        return Err(format!(
            "a bucket may have at most {MAX_RULES} lifecycle rules"
        ));
    }
    let mut out: Vec<Rule> = Vec::new();
    for r in list {
        let prefix = r
            .get("fileNamePrefix")
            .and_then(Value::as_str)
            .ok_or("fileNamePrefix is required in each lifecycle rule")?
            .to_string();
        let rule = Rule {
            hide: days(r, "daysFromUploadingToHiding")?,
            delete: days(r, "daysFromHidingToDeleting")?,
            cancel: days(r, "daysFromStartingToCancelingUnfinishedLargeFiles")?,
            prefix,
        };
        if rule.hide.is_none() && rule.delete.is_none() && rule.cancel.is_none() {
            return Err(format!(
                "lifecycle rule for {:?} does nothing: set at least one of its day counts",
                rule.prefix
            ));
        }
        if let Some(o) = out
            .iter()
            .find(|o| o.prefix.starts_with(&rule.prefix) || rule.prefix.starts_with(&o.prefix))
        {
            return Err(format!(
                "lifecycle rules for {:?} and {:?} apply to the same files",
                o.prefix, rule.prefix
            ));
        }
        out.push(rule);
    }
    Ok(out)
}

/// Checks `lifecycleRules` as B2 does: a list of at most 100 rules, each with a
/// `fileNamePrefix` and at least one day count, none 0, no two rules overlapping.
pub(crate) fn check_rules(rules: &Value) -> Result<(), String> {
    parse(rules).map(drop)
}

/// What one pass decided for a bucket.
#[derive(Default)]
struct Plan {
    hide: Vec<FileVersion>,
    delete: Vec<String>,
}

/// Whether Object Lock keeps `f` at `now` (a legal hold, or a retention not yet over):
/// lifecycle rules never delete such a version.
fn locked(f: &FileVersion, now: u64) -> bool {
    f.protection.legal_hold == Some(true)
        || f.protection
            .retention
            .as_ref()
            .is_some_and(|(_, until)| *until > now)
}

fn plan_name(rule: &Rule, versions: &[FileVersion], now: u64, plan: &mut Plan) {
    let Some(newest) = versions.first() else {
        return;
    };
    if let Some(d) = rule.hide {
        if newest.action == Action::Upload && newest.timestamp + d * DAY_MS <= now {
            plan.hide.push(newest.clone());
        }
    }
    if let Some(d) = rule.delete {
        // Version i became hidden when version i-1 (newer) arrived.
        let mut all_older_gone = true;
        for pair in versions.windows(2) {
            if pair[0].timestamp + d * DAY_MS <= now && !locked(&pair[1], now) {
                plan.delete.push(pair[1].id.clone());
            } else {
                all_older_gone = false;
            }
        }
        if newest.action == Action::Hide && all_older_gone && newest.timestamp + d * DAY_MS <= now {
            plan.delete.push(newest.id.clone());
        }
    }
}

/// Runs every bucket's lifecycle rules at time `now`; returns the blobs that may have become
/// unused (for the caller to collect) and how many versions were hidden, deleted or canceled.
pub(crate) fn apply(st: &mut State, now: u64) -> (Vec<u64>, usize) {
    let buckets: Vec<(String, String, Vec<Rule>)> = st
        .buckets
        .values()
        .filter_map(|b| {
            let rules = parse(&b.lifecycle_rules).ok()?;
            (!rules.is_empty()).then(|| (b.id.clone(), b.account_id.clone(), rules))
        })
        .collect();
    let mut blobs = Vec::new();
    let mut changed = 0;
    for (bucket_id, account_id, rules) in buckets {
        let mut plan = Plan::default();
        let mut cancel = Vec::new();
        for rule in &rules {
            let start: IndexKey = (rule.prefix.clone(), 0, String::new());
            let mut group: Vec<FileVersion> = Vec::new();
            for f in st.scan(&bucket_id, start, false) {
                if !f.name.starts_with(&rule.prefix) {
                    break;
                }
                if f.action == Action::Start {
                    if rule.cancel.is_some_and(|d| f.timestamp + d * DAY_MS <= now) {
                        cancel.push(f.id.clone());
                    }
                    continue;
                }
                if group.first().is_some_and(|g| g.name != f.name) {
                    plan_name(rule, &group, now, &mut plan);
                    group.clear();
                }
                group.push(f.into_owned());
            }
            plan_name(rule, &group, now, &mut plan);
        }
        for newest in plan.hide {
            let seq = st.next_seq();
            let marker = FileVersion {
                id: crate::api::new_file_id(&bucket_id, seq, false, now),
                bucket_id: bucket_id.clone(),
                account_id: account_id.clone(),
                name: newest.name.clone(),
                action: Action::Hide,
                content_type: "application/x-bz-hide-marker".into(),
                sha1: "none".into(),
                length: 0,
                info: Default::default(),
                timestamp: now,
                seq,
                large: false,
                content: Vec::new(),
                protection: Default::default(),
                replication_status: None,
            };
            if st.insert_file(marker).is_ok() {
                changed += 1;
            }
        }
        for id in plan.delete.into_iter().chain(cancel) {
            let parts: Vec<u64> = st
                .parts_of(&id)
                .values()
                .flat_map(|p| p.content.iter().map(|s| s.blob.id))
                .collect();
            if let Some(f) = st.remove_file(&id) {
                blobs.extend(f.content.iter().map(|s| s.blob.id));
                blobs.extend(parts);
                changed += 1;
            }
        }
    }
    (blobs, changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_are_checked_like_b2() {
        assert!(
            check_rules(&json!([{"fileNamePrefix": "a/", "daysFromHidingToDeleting": 1}])).is_ok()
        );
        assert!(check_rules(&json!([{"fileNamePrefix": "a/"}])).is_err());
        assert!(
            check_rules(&json!([{"fileNamePrefix": "a/", "daysFromUploadingToHiding": 0}]))
                .is_err()
        );
        assert!(check_rules(&json!([{"daysFromUploadingToHiding": 1}])).is_err());
        assert!(check_rules(&json!([
            {"fileNamePrefix": "photos/", "daysFromUploadingToHiding": 1},
            {"fileNamePrefix": "photos/kittens/", "daysFromHidingToDeleting": 1}
        ]))
        .is_err());
        assert!(check_rules(&json!({"fileNamePrefix": "a"})).is_err());
    }
}
