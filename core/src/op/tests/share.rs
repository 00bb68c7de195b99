//! Keys and sharing the way a device runs them: `Call` with caller buffers on the stack
//! (`b2_create_key` with expiry, buckets and prefix; `b2_get_download_authorization` with
//! pinned overrides), then the share URL written into a fixed buffer. No heap on that path.

use serde_json::json;

use crate::op::script::answers::{self, DOWNLOAD};
use crate::op::script::{Reply, Script};
use crate::op::{Call, Step};
use crate::wire::auth::GetDownloadAuthorization;
use crate::wire::key::CreateKey;
use crate::wire::share::{share_url, ContentOverrides};

#[test]
fn a_key_with_expiry_buckets_and_prefix() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let call = CreateKey {
        capabilities: &["readFiles", "readBucketLifecycleRules"],
        key_name: "dev-1",
        valid_duration_in_seconds: Some(3600),
        bucket_ids: Some(&["b1", "b2"]),
        name_prefix: Some("dev-1/"),
    };
    let mut op = Call::new(&mut s, &mut buf, call);
    let mut script = Script::new([Reply::ok(json!({
        "accountId": "acct", "applicationKeyId": "k1", "applicationKey": "K-secret",
        "capabilities": ["readFiles", "readBucketLifecycleRules"], "keyName": "dev-1",
        "bucketIds": ["b1", "b2"], "namePrefix": "dev-1/", "expirationTimestamp": 1_800_000_000_000u64,
        "options": ["s3"]}))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.last().json(),
        json!({"accountId": "acct", "capabilities": ["readFiles", "readBucketLifecycleRules"],
               "keyName": "dev-1", "validDurationInSeconds": 3600, "bucketIds": ["b1", "b2"],
               "namePrefix": "dev-1/"})
    );
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    let k = op.answer().expect("key");
    assert_eq!(k.expiration_timestamp, Some(1_800_000_000_000));
    assert_eq!(k.bucket_ids.clone().map(|i| i.count()), Some(2));
    assert!(!std::format!("{k:?}").contains("K-secret"));
}

#[test]
fn download_authorization_then_a_share_url() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let ov = ContentOverrides {
        content_disposition: Some("attachment; filename=\"log.csv\""),
        ..Default::default()
    };
    let call = GetDownloadAuthorization {
        bucket_id: "b1",
        file_name_prefix: "logs/day 1.csv",
        valid_duration_in_seconds: 600,
        overrides: ov,
    };
    let mut op = Call::new(&mut s, &mut buf, call);
    let mut script = Script::new([Reply::ok(json!({
        "bucketId": "b1", "fileNamePrefix": "logs/day 1.csv", "authorizationToken": "3_dl+tok"}))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.last().json(),
        json!({"bucketId": "b1", "fileNamePrefix": "logs/day 1.csv", "validDurationInSeconds": 600,
               "b2ContentDisposition": "attachment; filename=\"log.csv\""})
    );
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    let a = op.answer().expect("authorization");
    let token = a.authorization_token.as_str().expect("plain token");
    let mut url = [0u8; 256];
    let n = share_url(
        &mut url,
        DOWNLOAD,
        "my-bucket",
        "logs/day 1.csv",
        token,
        &ov,
    )
    .expect("url");
    assert_eq!(
        core::str::from_utf8(&url[..n]),
        Ok("http://dl.test/file/my-bucket/logs/day%201.csv?Authorization=3_dl%2Btok&b2ContentDisposition=attachment%3B%20filename%3D%22log.csv%22")
    );
}
