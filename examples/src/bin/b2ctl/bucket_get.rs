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

/// `fileCount` and `totalSize` of a bucket as the official tool's `--show-size` counts
/// them: every version and hide marker (one class C call per 1,000 versions).
pub fn size_of(client: &Client, name: &str) -> Result<(u64, u64), ClientError> {
    let id = client.bucket(name)?.id().to_owned();
    let (mut count, mut size) = (0u64, 0u64);
    for f in client.ls_id(&id, "", None, true) {
        count += 1;
        size = size.saturating_add(f?.size);
    }
    Ok((count, size))
}

/// A bucket's JSON object with `fileCount` and `totalSize` added before its closing brace.
pub fn with_size(raw: &str, count: u64, size: u64) -> String {
    match raw.trim_end().strip_suffix('}') {
        Some(body) => {
            let sep = if body.trim_end().ends_with('{') {
                ""
            } else {
                ","
            };
            format!("{body}{sep}\"fileCount\":{count},\"totalSize\":{size}}}")
        }
        None => raw.to_owned(),
    }
}
