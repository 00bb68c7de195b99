//! `bucket get`, `bucket update NAME TYPE` and `bucket list --json`: buckets as B2 returns
//! them (every field, settings included), raw, since the client's `Bucket` keeps only a few.

use std::io::Write;

use b2_core::wire::bucket::ListBuckets;
use b2_transport_std::client::{Client, ClientError};

use crate::connect;
use crate::output::{self, JsonArray, Raw};
use crate::Creds;

/// Each bucket object of a `b2_list_buckets` answer, as B2 wrote it (one bucket when `name`
/// is given; a key restricted to one bucket lists only that one).
fn raw_buckets(client: &Client, name: Option<&str>) -> Result<Vec<String>, ClientError> {
    let only = client.account_info().allowed_bucket_name;
    let call = ListBuckets {
        bucket_name: name.or(only.as_deref()),
        ..ListBuckets::default()
    };
    client.call(Raw(call), |r| {
        Ok(output::array_items(r.0, "buckets")?
            .into_iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect())
    })
}

/// The raw JSON of bucket `name` (not found: [`ClientError::NotFound`]).
fn raw_bucket(client: &Client, name: &str) -> Result<String, ClientError> {
    b2_core::validate::bucket_name(name)?;
    raw_buckets(client, Some(name))?
        .into_iter()
        .find(|b| {
            b2_core::wire::json::fields(b.as_bytes()).any(|f| {
                f.is_ok_and(|(k, v)| {
                    k.eq_str("bucketName")
                        && matches!(v, b2_core::wire::json::Value::Str(t) if t.eq_str(name))
                })
            })
        })
        .ok_or_else(|| ClientError::NotFound(format!("bucket {name}")))
}

fn show(out: &mut impl Write, raw: &str, json: bool) -> Result<(), ClientError> {
    if json {
        writeln!(out, "{raw}")?;
        Ok(())
    } else {
        output::write_fields(out, raw.as_bytes())
    }
}

/// `bucket list` (and `ls` with no argument): id, type, name per line, or a JSON array.
pub fn list(creds: &Creds, json: bool, out: &mut impl Write) -> Result<(), ClientError> {
    let client = connect(creds)?;
    if json {
        let mut arr = JsonArray::new();
        for b in raw_buckets(&client, None)? {
            arr.item(out, &b)?;
        }
        arr.end(out)?;
    } else {
        for b in client.list_buckets()? {
            writeln!(out, "{}  {:<11} {}", b.id, b.bucket_type, b.name)?;
        }
    }
    Ok(())
}

/// `bucket get NAME`: every field B2 returns for it (settings, rules, revision); with
/// `show_size`, also `fileCount` and `totalSize` as the official tool counts them (every
/// version and hide marker, listed page by page: one class C call per 1,000).
pub fn get(
    creds: &Creds,
    name: &str,
    show_size: bool,
    json: bool,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let client = connect(creds)?;
    let mut raw = raw_bucket(&client, name)?;
    if show_size {
        let id = client.bucket(name)?.id().to_owned();
        let (mut count, mut size) = (0u64, 0u64);
        for f in client.ls_id(&id, "", None, true) {
            count += 1;
            size = size.saturating_add(f?.size);
        }
        // The raw object ends with its closing brace: add the two fields before it.
        if let Some(body) = raw.trim_end().strip_suffix('}') {
            let sep = if body.trim_end().ends_with('{') {
                ""
            } else {
                ","
            };
            raw = format!("{body}{sep}\"fileCount\":{count},\"totalSize\":{size}}}");
        }
    }
    show(out, &raw, json)
}

/// `bucket update NAME TYPE`: changes the bucket's type, then shows it as `bucket get` does.
pub fn update(
    creds: &Creds,
    name: &str,
    bucket_type: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let client = connect(creds)?;
    client.update_bucket(name, bucket_type == "allPublic")?;
    show(out, &raw_bucket(&client, name)?, json)
}
