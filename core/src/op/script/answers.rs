//! Canned B2 answers for scripted tests: bodies in B2's documented v4 shapes and the
//! sessions that go with them. Plain data; the test decides which answer follows which
//! request.
//!
//! The realm, API and download URLs are [`REALM`], [`API`] and [`DOWNLOAD`]; upload URL
//! number `n` is `http://up.test/upload/n` with token `up-n` (parts: `/part/n`, `part-n`).

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::{json, Value};

use super::{hex, sha1, Reply};
use crate::session::{Credentials, Session};
use crate::wire::Answer as _;

/// Realm the canned sessions authorize against.
pub(crate) const REALM: &str = "http://realm.test";
/// `apiUrl` of [`authorize`].
pub(crate) const API: &str = "http://api.test";
/// `downloadUrl` of [`authorize`].
pub(crate) const DOWNLOAD: &str = "http://dl.test";
/// `Authorization: Basic` of key id `kid`, key `k3y-secret`.
pub(crate) const BASIC: &str = "Basic a2lkOmszeS1zZWNyZXQ=";
/// `absoluteMinimumPartSize` of [`authorize`].
pub(crate) const MIN_PART: u64 = 100;

/// A session for key `kid` / `k3y-secret` on [`REALM`], not authorized yet.
pub(crate) fn session() -> Session {
    Session::new(Credentials::new("kid", "k3y-secret", REALM).expect("credentials"))
}

/// A session already authorized with account token `token` (as after [`authorize`]).
pub(crate) fn authorized(token: &str) -> Session {
    let mut s = session();
    let body = authorize(token).to_string();
    let a = crate::wire::auth::AuthorizeAnswer::parse(body.as_bytes()).expect("authorize");
    s.apply_authorization(&a).expect("apply");
    s.authorizations = 1;
    s
}

/// The `b2_authorize_account` (v4) answer giving account token `token`.
pub(crate) fn authorize(token: &str) -> Value {
    json!({"accountId": "acct", "authorizationToken": token,
        "apiInfo": {"storageApi": {"apiUrl": API, "downloadUrl": DOWNLOAD, "s3ApiUrl": "http://s3.test",
            "absoluteMinimumPartSize": MIN_PART, "recommendedPartSize": 2 * MIN_PART,
            "infoType": "storageApi",
            "allowed": {"buckets": null, "capabilities": ["writeFiles", "readFiles", "listFiles"],
                "namePrefix": null}}},
        "applicationKeyExpirationTimestamp": null})
}

/// URL of upload URL number `n` (`b2_get_upload_url`).
pub(crate) fn upload_url_of(n: u32) -> String {
    format!("http://up.test/upload/{n}")
}

/// The `b2_get_upload_url` answer number `n` for `bucket_id`.
pub(crate) fn upload_url(bucket_id: &str, n: u32) -> Value {
    json!({"bucketId": bucket_id, "uploadUrl": upload_url_of(n), "authorizationToken": format!("up-{n}")})
}

/// The `b2_get_upload_part_url` answer number `n` for large file `file_id`.
pub(crate) fn part_url(file_id: &str, n: u32) -> Value {
    json!({"fileId": file_id, "uploadUrl": format!("http://up.test/part/{n}"),
        "authorizationToken": format!("part-{n}")})
}

/// A file version (`b2_upload_file`, `b2_get_file_info`, ...) holding `data`.
pub(crate) fn file(id: &str, name: &str, data: &[u8]) -> Value {
    json!({"accountId": "acct", "action": "upload", "bucketId": "bkt",
        "contentLength": data.len(), "contentSha1": hex(&sha1(data)), "contentMd5": null,
        "contentType": "application/octet-stream", "fileId": id, "fileInfo": {},
        "fileName": name, "uploadTimestamp": 1_700_000_000_000u64,
        "serverSideEncryption": {"mode": null}})
}

/// An unfinished large file (`b2_start_large_file`).
pub(crate) fn large_start(id: &str, name: &str) -> Value {
    json!({"accountId": "acct", "action": "start", "bucketId": "bkt", "contentLength": 0,
        "contentSha1": "none", "contentType": "b2/x-auto", "fileId": id, "fileInfo": {},
        "fileName": name, "uploadTimestamp": 1_700_000_000_000u64})
}

/// A finished large file of `len` bytes (`b2_finish_large_file`, or `b2_get_file_info` after
/// a lost finish): `contentSha1` is `none`, the whole file's SHA-1 (if any) is in
/// `large_file_sha1`.
pub(crate) fn large_finished(id: &str, name: &str, len: u64, sha1: Option<[u8; 20]>) -> Value {
    let info = match sha1 {
        Some(d) => json!({ "large_file_sha1": hex(&d) }),
        None => json!({}),
    };
    json!({"accountId": "acct", "action": "upload", "bucketId": "bkt", "contentLength": len,
        "contentSha1": "none", "contentType": "application/octet-stream", "fileId": id,
        "fileInfo": info, "fileName": name, "uploadTimestamp": 1_700_000_000_000u64})
}

/// An empty page of a file listing (the lost-answer check found nothing).
pub(crate) fn no_files() -> Value {
    json!({"files": [], "nextFileName": null, "nextFileId": null})
}

/// A page of `b2_list_parts` with the given parts.
pub(crate) fn parts(parts: &[Value], next: Option<u32>) -> Value {
    json!({"parts": parts, "nextPartNumber": next})
}

/// A stored part (`b2_upload_part`) holding `data`.
pub(crate) fn part(file_id: &str, n: u32, data: &[u8]) -> Value {
    json!({"fileId": file_id, "partNumber": n, "contentLength": data.len(),
        "contentSha1": hex(&sha1(data)), "uploadTimestamp": 1_700_000_000_000u64})
}

/// A page of `b2_list_file_names`: one version of each name, then `nextFileName`.
pub(crate) fn file_names(names: &[&str], next: Option<&str>) -> Value {
    let files: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| file(&format!("4_f{i}"), n, b"x"))
        .collect();
    json!({"files": files, "nextFileName": next})
}

/// A `200` download of the whole of `data` as file `file_id` (SHA-1 in `x-bz-content-sha1`).
pub(crate) fn download(file_id: &str, data: &[u8]) -> Reply {
    download_answer(200, file_id, data, data)
}

/// A `206` answer to `Range: bytes=start-end` of file `file_id` holding `data`: the range's
/// bytes, `Content-Range`, and the whole file's SHA-1 (as B2 sends it).
pub(crate) fn download_range(file_id: &str, data: &[u8], start: usize, end: usize) -> Reply {
    download_answer(206, file_id, data, &data[start..=end]).header(
        "Content-Range",
        &format!("bytes {start}-{end}/{}", data.len()),
    )
}

fn download_answer(status: u16, file_id: &str, whole: &[u8], body: &[u8]) -> Reply {
    Reply::raw(status, body)
        .header("Content-Type", "application/octet-stream")
        .header("x-bz-file-id", file_id)
        .header("x-bz-file-name", "file")
        .header("x-bz-content-sha1", &hex(&sha1(whole)))
        .header("x-bz-upload-timestamp", "1700000000000")
}
