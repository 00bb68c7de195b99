//! Cost accounting: B2's transaction classes and bytes in and out, per key and per bucket.
//!
//! Classes follow B2's pricing page ("Pricing Organized by API Calls"): class A (free)
//! are the calls that store or delete, class B the downloads and `b2_get_file_info`,
//! class C the listings, copies, bucket and key changes and `b2_authorize_account`. Only
//! calls answered 200 are counted.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

/// B2's transaction class of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Free: uploads, deletes, hides, large-file steps, upload URLs.
    A,
    /// Downloads and `b2_get_file_info`.
    B,
    /// Listings, copies, buckets, keys, `b2_authorize_account`.
    C,
}

/// The class of a B2 call by name (None for calls B2's pricing page does not list).
pub fn class_of(call: &str) -> Option<Class> {
    Some(match call {
        "b2_cancel_large_file"
        | "b2_delete_bucket"
        | "b2_delete_file_version"
        | "b2_delete_key"
        | "b2_finish_large_file"
        | "b2_get_upload_part_url"
        | "b2_get_upload_url"
        | "b2_hide_file"
        | "b2_start_large_file"
        | "b2_update_file_legal_hold"
        | "b2_update_file_retention"
        | "b2_upload_file"
        | "b2_upload_part" => Class::A,
        "b2_download_file_by_id" | "b2_download_file_by_name" | "b2_get_file_info" => Class::B,
        "b2_authorize_account"
        | "b2_copy_file"
        | "b2_copy_part"
        | "b2_create_bucket"
        | "b2_create_key"
        | "b2_get_download_authorization"
        | "b2_list_buckets"
        | "b2_list_file_names"
        | "b2_list_file_versions"
        | "b2_list_keys"
        | "b2_list_parts"
        | "b2_list_unfinished_large_files"
        | "b2_update_bucket"
        | "b2_get_bucket_notification_rules"
        | "b2_set_bucket_notification_rules" => Class::C,
        _ => return None,
    })
}

/// Counts for one key or one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Class A transactions (free on B2).
    pub class_a: u64,
    /// Class B transactions.
    pub class_b: u64,
    /// Class C transactions.
    pub class_c: u64,
    /// Bytes uploaded (file and part bodies).
    pub bytes_in: u64,
    /// Bytes downloaded (file bodies sent).
    pub bytes_out: u64,
}

impl Tally {
    fn add(&mut self, class: Option<Class>, n: u64, bytes_in: u64, bytes_out: u64) {
        match class {
            Some(Class::A) => self.class_a += n,
            Some(Class::B) => self.class_b += n,
            Some(Class::C) => self.class_c += n,
            None => {}
        }
        self.bytes_in += bytes_in;
        self.bytes_out += bytes_out;
    }

    fn json(&self) -> Value {
        json!({
            "classA": self.class_a,
            "classB": self.class_b,
            "classC": self.class_c,
            "bytesIn": self.bytes_in,
            "bytesOut": self.bytes_out,
        })
    }
}

/// What a run would have cost on B2: totals, per application key id and per bucket id.
/// Calls with no key (downloads from public buckets or with a download authorization)
/// count under the key `-`; calls on no bucket (keys, `b2_list_buckets`, authorize) under
/// no bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Costs {
    /// Every call counted.
    pub total: Tally,
    /// Per application key id.
    pub by_key: BTreeMap<String, Tally>,
    /// Per bucket id.
    pub by_bucket: BTreeMap<String, Tally>,
}

impl Costs {
    /// As JSON (`GET /_sim/costs`).
    pub fn to_json(&self) -> Value {
        let map = |m: &BTreeMap<String, Tally>| -> Value {
            Value::Object(m.iter().map(|(k, t)| (k.clone(), t.json())).collect())
        };
        json!({
            "total": self.total.json(),
            "byKey": map(&self.by_key),
            "byBucket": map(&self.by_bucket),
        })
    }

    /// Human-readable lines (what the binary prints at exit).
    pub fn report(&self) -> String {
        let line = |what: &str, t: &Tally| {
            format!(
                "{what}: class A {}, class B {}, class C {}, bytes in {}, bytes out {}\n",
                t.class_a, t.class_b, t.class_c, t.bytes_in, t.bytes_out
            )
        };
        let mut s = line("costs total", &self.total);
        for (k, t) in &self.by_key {
            s += &line(&format!("  key {k}"), t);
        }
        for (b, t) in &self.by_bucket {
            s += &line(&format!("  bucket {b}"), t);
        }
        s
    }
}

/// The running counts.
#[derive(Debug, Default)]
pub(crate) struct Ledger(Mutex<Costs>);

impl Ledger {
    /// Counts one call answered 200.
    pub fn charge(
        &self,
        call: &str,
        key_id: Option<&str>,
        bucket_id: Option<&str>,
        bytes_in: u64,
        bytes_out: u64,
    ) {
        self.charge_n(call, key_id, bucket_id, 1, bytes_in, bytes_out);
    }

    /// Counts a call answered 200 as `n` transactions of its class.
    pub fn charge_n(
        &self,
        call: &str,
        key_id: Option<&str>,
        bucket_id: Option<&str>,
        n: u64,
        bytes_in: u64,
        bytes_out: u64,
    ) {
        let class = class_of(call);
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        c.total.add(class, n, bytes_in, bytes_out);
        c.by_key
            .entry(key_id.unwrap_or("-").to_string())
            .or_default()
            .add(class, n, bytes_in, bytes_out);
        if let Some(b) = bucket_id {
            c.by_bucket
                .entry(b.to_string())
                .or_default()
                .add(class, n, bytes_in, bytes_out);
        }
    }
}

/// How many transactions B2 bills a listing answer as: "if you set maxFileCount to more
/// than 1000 and more than 1000 are returned, the call will be billed as multiple
/// transactions, as if you had made requests in a loop asking for 1000 at a time"
/// (`b2_list_file_names`, `b2_list_file_versions`; `b2_list_keys` likewise for keys).
pub(crate) fn transactions(call: &str, answer: &Value) -> u64 {
    let field = match call {
        "b2_list_file_names" | "b2_list_file_versions" => "files",
        "b2_list_keys" => "keys",
        _ => return 1,
    };
    let n = answer
        .get(field)
        .and_then(Value::as_array)
        .map_or(0, |a| a.len() as u64);
    n.div_ceil(1000).max(1)
}

impl Ledger {
    /// A copy of the counts.
    pub fn snapshot(&self) -> Costs {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The bucket id inside a B2 file id (`4_z<bucket id>_f…`), if it has that form.
pub(crate) fn bucket_of_file_id(file_id: &str) -> Option<&str> {
    let rest = file_id.strip_prefix("4_z")?;
    let end = rest.find("_f")?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_tallies() {
        assert_eq!(class_of("b2_upload_part"), Some(Class::A));
        assert_eq!(class_of("b2_get_file_info"), Some(Class::B));
        assert_eq!(class_of("b2_list_file_names"), Some(Class::C));
        assert_eq!(class_of("b2_nothing"), None);
        let l = Ledger::default();
        l.charge("b2_upload_file", Some("k1"), Some("b1"), 10, 0);
        l.charge("b2_download_file_by_id", None, Some("b1"), 0, 7);
        l.charge("b2_list_buckets", Some("k1"), None, 0, 0);
        let c = l.snapshot();
        assert_eq!(
            c.total,
            Tally {
                class_a: 1,
                class_b: 1,
                class_c: 1,
                bytes_in: 10,
                bytes_out: 7
            }
        );
        assert_eq!(c.by_key["k1"].class_c, 1);
        assert_eq!(c.by_key["-"].bytes_out, 7);
        assert_eq!(c.by_bucket["b1"].class_a, 1);
        assert_eq!(c.by_bucket.len(), 1);
        assert_eq!(bucket_of_file_id("4_zabc_f1000_d2026"), Some("abc"));
        assert_eq!(bucket_of_file_id("nonsense"), None);
    }
}
