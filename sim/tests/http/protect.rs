//! Encryption (SSE-C) and Object Lock as B2 enforces them, and the custom upload timestamp
//! switch: each test fails if its rule is dropped from b2-sim.

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use crate::common::*;

const DAY: u64 = 86_400_000;

/// The sim's clock, in milliseconds.
fn now(s: &b2_sim::Sim) -> u64 {
    s.advance_clock(std::time::Duration::ZERO)
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// (key, key MD5), base64.
fn sse_key(seed: u8) -> (String, String) {
    let k = [seed; 32];
    (b64(&k), b64(&Md5::digest(k)))
}

fn sse_headers(seed: u8) -> Vec<(String, String)> {
    let (k, m) = sse_key(seed);
    vec![
        (
            "X-Bz-Server-Side-Encryption-Customer-Algorithm".into(),
            "AES256".into(),
        ),
        ("X-Bz-Server-Side-Encryption-Customer-Key".into(), k),
        ("X-Bz-Server-Side-Encryption-Customer-Key-Md5".into(), m),
    ]
}

fn sse_json(seed: u8) -> Value {
    let (k, m) = sse_key(seed);
    json!({"mode": "SSE-C", "algorithm": "AES256", "customerKey": k, "customerKeyMd5": m})
}

/// Uploads with extra headers.
fn upload_h(c: &Client, b: &str, name: &str, body: &[u8], extra: &[(String, String)]) -> Answer {
    let (url, tok) = c.upload_url(b);
    let sha = sha1_hex(body);
    let mut h: Vec<(&str, &str)> = vec![
        ("X-Bz-File-Name", name),
        ("Content-Type", "a/b"),
        ("X-Bz-Content-Sha1", &sha),
    ];
    h.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c.upload_with(&url, &tok, &h, body)
}

fn get_h(c: &Client, path: &str, head: bool, extra: &[(String, String)]) -> Answer {
    let url = format!("{}{path}", c.url);
    let mut r = if head {
        c.agent.head(url)
    } else {
        c.agent.get(url)
    };
    r = r.header("Authorization", &c.token);
    for (k, v) in extra {
        r = r.header(k.as_str(), v.as_str());
    }
    answer(r.call())
}

fn denied(a: &Answer, what: &str) {
    if a.body.is_empty() {
        // HEAD: no body, the status says it.
        assert_eq!(a.status, 403, "{what}");
        return;
    }
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "access_denied"),
        "{what}: {}",
        String::from_utf8_lossy(&a.body)
    );
}

fn locked_bucket(c: &Client, name: &str) -> String {
    c.ok(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": name, "bucketType": "allPrivate", "fileLockEnabled": true}),
    )["bucketId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn retention(mode: &str, until: u64) -> Vec<(String, String)> {
    vec![
        ("X-Bz-File-Retention-Mode".into(), mode.into()),
        (
            "X-Bz-File-Retention-Retain-Until-Timestamp".into(),
            until.to_string(),
        ),
    ]
}

fn key_with(c: &Client, caps: &[&str]) -> Client {
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "k", "capabilities": caps}),
    );
    Client::with_key(
        &c.url,
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
        4,
    )
}

#[test]
fn sse_c_files_need_their_key_to_be_read() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("ssec-read", "allPrivate");
    let a = upload_h(&c, &b, "secret", b"hidden bytes", &sse_headers(1));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let (_, md5) = sse_key(1);
    let want = json!({"algorithm": "AES256", "customerKeyMd5": md5, "mode": "SSE-C"});
    assert_eq!(a.json()["serverSideEncryption"], want);
    let id = a.json()["fileId"].as_str().unwrap().to_string();
    assert_eq!(
        c.ok("b2_get_file_info", json!({"fileId": id}))["serverSideEncryption"],
        want
    );
    for path in [
        "/file/ssec-read/secret".to_string(),
        format!("/b2api/v4/b2_download_file_by_id?fileId={id}"),
    ] {
        for head in [false, true] {
            denied(&get_h(&c, &path, head, &[]), "no key");
            denied(&get_h(&c, &path, head, &sse_headers(2)), "wrong key");
            let ok = get_h(&c, &path, head, &sse_headers(1));
            assert_eq!(ok.status, 200);
            assert_eq!(
                ok.header("x-bz-server-side-encryption-customer-key-md5"),
                Some(md5.as_str())
            );
            // SSE-C, not SSE-B2: b2sdk reads this header as SSE-B2.
            assert_eq!(ok.header("x-bz-server-side-encryption"), None);
            if !head {
                assert_eq!(ok.body, b"hidden bytes");
            }
        }
    }
    // b2-sim keeps the MD5, never the key.
    let state = format!("{:?}", s.file_bytes("ssec-read", "secret"));
    assert!(!state.contains(&sse_key(1).0));
}

#[test]
fn a_key_whose_md5_does_not_match_is_refused() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("ssec-md5", "allPrivate");
    let mut h = sse_headers(1);
    h[2].1 = sse_key(2).1;
    let a = upload_h(&c, &b, "x", b"x", &h);
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    assert_eq!(s.file_bytes("ssec-md5", "x"), None);
}

#[test]
fn copies_of_sse_c_files_need_the_source_key() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("ssec-copy", "allPrivate");
    let src = upload_h(&c, &b, "src", b"abc", &sse_headers(3)).json();
    let copy = |extra: Value| {
        let mut args = json!({"sourceFileId": src["fileId"], "fileName": "dst"});
        for (k, v) in extra.as_object().unwrap() {
            args[k] = v.clone();
        }
        c.call("b2_copy_file", args)
    };
    denied(&copy(json!({})), "copy without key");
    denied(
        &copy(json!({"sourceServerSideEncryption": sse_json(4)})),
        "copy with another key",
    );
    let a = copy(json!({"sourceServerSideEncryption": sse_json(3),
                        "destinationServerSideEncryption": sse_json(5)}));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(
        a.json()["serverSideEncryption"]["customerKeyMd5"],
        sse_key(5).1
    );
}

#[test]
fn parts_of_an_sse_c_large_file_carry_its_key() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("ssec-large", "allPrivate");
    let f = c.ok(
        "b2_start_large_file",
        json!({"bucketId": b, "fileName": "big", "contentType": "a/b", "serverSideEncryption": sse_json(6)}),
    );
    assert_eq!(f["serverSideEncryption"]["mode"], "SSE-C");
    let id = f["fileId"].as_str().unwrap();
    let (url, tok) = c.part_url(id);
    let body = data(100, 1);
    let sha = sha1_hex(&body);
    let part = |extra: &[(String, String)]| {
        let mut h: Vec<(&str, &str)> = vec![("X-Bz-Part-Number", "1"), ("X-Bz-Content-Sha1", &sha)];
        h.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c.upload_with(&url, &tok, &h, &body)
    };
    assert_eq!(part(&[]).status, 400);
    assert_eq!(part(&sse_headers(7)).status, 400);
    assert_eq!(part(&sse_headers(6)).status, 200);
}

#[test]
fn copy_parts_carry_the_source_key_and_the_large_file_key() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("ssec-copy-part", "allPrivate");
    let src = upload_h(&c, &b, "src", b"abcdef", &sse_headers(3)).json();
    let f = c.ok(
        "b2_start_large_file",
        json!({"bucketId": b, "fileName": "big", "contentType": "a/b", "serverSideEncryption": sse_json(6)}),
    );
    let id = f["fileId"].as_str().unwrap();
    let part = |extra: Value| {
        let mut args = json!({"sourceFileId": src["fileId"], "largeFileId": id, "partNumber": 1});
        for (k, v) in extra.as_object().unwrap() {
            args[k] = v.clone();
        }
        c.call("b2_copy_part", args)
    };
    // The large file's key is needed on every part (400 without it or with another)...
    let a = part(json!({"sourceServerSideEncryption": sse_json(3)}));
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
    let a = part(json!({"sourceServerSideEncryption": sse_json(3),
                        "destinationServerSideEncryption": sse_json(7)}));
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
    // ...and the SSE-C source's key to read it (403 without it or with another).
    denied(
        &part(json!({"destinationServerSideEncryption": sse_json(6)})),
        "copy part without the source key",
    );
    denied(
        &part(json!({"sourceServerSideEncryption": sse_json(4),
                     "destinationServerSideEncryption": sse_json(6)})),
        "copy part with another source key",
    );
    let a = part(json!({"sourceServerSideEncryption": sse_json(3),
                        "destinationServerSideEncryption": sse_json(6)}));
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["contentLength"], 6);
}

#[test]
fn retention_and_legal_hold_need_a_locked_bucket() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("not-locked", "allPrivate");
    let a = upload_h(&c, &b, "x", b"x", &retention("governance", u64::MAX / 2));
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    let a = upload_h(
        &c,
        &b,
        "x",
        b"x",
        &[("X-Bz-File-Legal-Hold".into(), "on".into())],
    );
    assert_eq!(a.status, 400);
    let lb = locked_bucket(&c, "is-locked");
    let bucket = c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": lb}),
    );
    assert_eq!(
        bucket["buckets"][0]["fileLockConfiguration"]["value"]["isFileLockEnabled"],
        true
    );
    // Turning file lock off again is refused.
    let a = c.call(
        "b2_update_bucket",
        json!({"accountId": c.account_id, "bucketId": lb, "fileLockEnabled": false}),
    );
    assert_eq!(a.status, 400);
}

#[test]
fn governance_blocks_deletion_unless_bypassed_with_the_capability() {
    let s = sim();
    let c = Client::new(&s);
    let b = locked_bucket(&c, "gov-bucket");
    let until = now(&s) + DAY;
    let f = upload_h(&c, &b, "g", b"g", &retention("governance", until)).json();
    assert_eq!(
        f["fileRetention"],
        json!({"isClientAuthorizedToRead": true, "value": {"mode": "governance", "retainUntilTimestamp": until}})
    );
    let del = |c: &Client, bypass: bool| {
        c.call(
            "b2_delete_file_version",
            json!({"fileId": f["fileId"], "fileName": "g", "bypassGovernance": bypass}),
        )
    };
    denied(&del(&c, false), "delete without bypass");
    let weak = key_with(&c, &["deleteFiles", "readFiles", "listFiles"]);
    denied(&del(&weak, true), "bypass without the capability");
    assert_eq!(del(&c, true).status, 200);
}

#[test]
fn compliance_is_never_shortened_or_removed() {
    let s = sim();
    let c = Client::new(&s);
    let b = locked_bucket(&c, "comp-bucket");
    let until = now(&s) + DAY;
    let f = upload_h(&c, &b, "c", b"c", &retention("compliance", until)).json();
    let update = |mode: Value, until: Value, bypass: bool| {
        c.call(
            "b2_update_file_retention",
            json!({"fileId": f["fileId"], "fileName": "c", "bypassGovernance": bypass,
                   "fileRetention": {"mode": mode, "retainUntilTimestamp": until}}),
        )
    };
    denied(
        &update(json!("compliance"), json!(until - 1000), true),
        "shorten",
    );
    denied(&update(Value::Null, Value::Null, true), "remove");
    denied(
        &update(json!("governance"), json!(until + DAY), true),
        "weaken",
    );
    let a = update(json!("compliance"), json!(until + DAY), false);
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(
        a.json()["fileRetention"],
        json!({"mode": "compliance", "retainUntilTimestamp": until + DAY})
    );
    denied(
        &c.call(
            "b2_delete_file_version",
            json!({"fileId": f["fileId"], "fileName": "c", "bypassGovernance": true}),
        ),
        "delete under compliance",
    );
    // Once the retention has ended, the file can go.
    s.advance_clock(std::time::Duration::from_millis(3 * DAY));
    let c = Client::new(&s);
    assert_eq!(
        c.call(
            "b2_delete_file_version",
            json!({"fileId": f["fileId"], "fileName": "c"}),
        )
        .status,
        200
    );
}

#[test]
fn governance_is_shortened_only_with_bypass() {
    let s = sim();
    let c = Client::new(&s);
    let b = locked_bucket(&c, "gov-short");
    let until = now(&s) + DAY;
    let f = upload_h(&c, &b, "g", b"g", &retention("governance", until)).json();
    let update = |bypass: bool| {
        c.call(
            "b2_update_file_retention",
            json!({"fileId": f["fileId"], "fileName": "g", "bypassGovernance": bypass,
                   "fileRetention": {"mode": null, "retainUntilTimestamp": null}}),
        )
    };
    denied(&update(false), "remove without bypass");
    assert_eq!(update(true).status, 200);
    // Nothing protects it now.
    assert_eq!(
        c.call(
            "b2_delete_file_version",
            json!({"fileId": f["fileId"], "fileName": "g"})
        )
        .status,
        200
    );
}

#[test]
fn a_legal_hold_blocks_deletion_until_off() {
    let s = sim();
    let c = Client::new(&s);
    let b = locked_bucket(&c, "hold-bucket");
    let f = c.upload(&b, "h", b"h");
    let hold = |on: &str| {
        c.ok(
            "b2_update_file_legal_hold",
            json!({"fileId": f["fileId"], "fileName": "h", "legalHold": on}),
        )
    };
    assert_eq!(hold("on")["legalHold"], "on");
    let del = || {
        c.call(
            "b2_delete_file_version",
            json!({"fileId": f["fileId"], "fileName": "h", "bypassGovernance": true}),
        )
    };
    denied(&del(), "delete under legal hold");
    let info = c.ok("b2_get_file_info", json!({"fileId": f["fileId"]}));
    assert_eq!(
        info["legalHold"],
        json!({"isClientAuthorizedToRead": true, "value": "on"})
    );
    hold("off");
    assert_eq!(del().status, 200);
}

#[test]
fn lock_fields_are_wrapped_by_capability() {
    let s = sim();
    let c = Client::new(&s);
    let b = locked_bucket(&c, "wrap-bucket");
    let until = now(&s) + DAY;
    let mut h = retention("governance", until);
    h.push(("X-Bz-File-Legal-Hold".into(), "on".into()));
    let f = upload_h(&c, &b, "w", b"w", &h).json();
    let reader = key_with(&c, &["readFiles", "listFiles"]);
    let info = reader.ok("b2_get_file_info", json!({"fileId": f["fileId"]}));
    assert_eq!(
        info["fileRetention"],
        json!({"isClientAuthorizedToRead": false, "value": null})
    );
    assert_eq!(
        info["legalHold"],
        json!({"isClientAuthorizedToRead": false, "value": null})
    );
    let full = key_with(
        &c,
        &[
            "readFiles",
            "listFiles",
            "readFileRetentions",
            "readFileLegalHolds",
        ],
    );
    let info = full.ok("b2_get_file_info", json!({"fileId": f["fileId"]}));
    assert_eq!(info["fileRetention"]["value"]["mode"], "governance");
    assert_eq!(info["legalHold"]["value"], "on");
}

#[test]
fn a_bucket_default_retention_applies_to_new_files() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.ok(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": "default-ret", "bucketType": "allPrivate",
               "fileLockEnabled": true,
               "defaultRetention": {"mode": "governance", "period": {"duration": 2, "unit": "days"}}}),
    )["bucketId"]
        .as_str()
        .unwrap()
        .to_string();
    let f = c.upload(&b, "d", b"d");
    let until = f["fileRetention"]["value"]["retainUntilTimestamp"]
        .as_u64()
        .unwrap();
    assert!(until >= now(&s) + DAY, "{until}");
    denied(
        &c.call(
            "b2_delete_file_version",
            json!({"fileId": f["fileId"], "fileName": "d"}),
        ),
        "default retention",
    );
}

#[test]
fn custom_upload_timestamps_need_the_account_switch() {
    let off = sim();
    let c = Client::new(&off);
    let b = c.create_bucket("tstamp-off", "allPrivate");
    let ts = [(
        "X-Bz-Custom-Upload-Timestamp".to_string(),
        "1500000000000".to_string(),
    )];
    assert_eq!(upload_h(&c, &b, "t", b"t", &ts).status, 400);
    let a = c.call(
        "b2_start_large_file",
        json!({"bucketId": b, "fileName": "l", "contentType": "a/b", "customUploadTimestamp": 1_500_000_000_000u64}),
    );
    assert_eq!(a.status, 400);

    let on = b2_sim::Sim::builder()
        .min_part_size(100)
        .custom_upload_timestamps(true)
        .start()
        .unwrap();
    let c = Client::new(&on);
    let b = c.create_bucket("tstamp-on", "allPrivate");
    let a = upload_h(&c, &b, "t", b"t", &ts);
    assert_eq!(a.json()["uploadTimestamp"], 1_500_000_000_000u64);
    let l = c.ok(
        "b2_start_large_file",
        json!({"bucketId": b, "fileName": "l", "contentType": "a/b", "customUploadTimestamp": 1_400_000_000_000u64}),
    );
    assert_eq!(l["uploadTimestamp"], 1_400_000_000_000u64);
}

#[test]
fn encryption_or_lock_limits_name_and_info_to_2048_bytes() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("budget-bkt", "allPrivate");
    let long = "v".repeat(2100);
    let info = [("X-Bz-Info-k".to_string(), long)];
    assert_eq!(upload_h(&c, &b, "plain", b"x", &info).status, 200);
    let mut h = sse_headers(1);
    h.extend(info.iter().cloned());
    let a = upload_h(&c, &b, "enc", b"x", &h);
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    let a = c.call(
        "b2_start_large_file",
        json!({"bucketId": b, "fileName": "l", "contentType": "a/b",
               "fileInfo": {"k": "v".repeat(2100)}, "serverSideEncryption": sse_json(1)}),
    );
    assert_eq!(a.status, 400);
}

#[test]
fn a_legal_hold_given_off_at_upload_reads_back_off() {
    // As b2sdk's own simulator keeps it: "off" given is "off", not given is null.
    let s = sim();
    let c = Client::new(&s);
    let b = locked_bucket(&c, "off-bucket");
    let off = upload_h(
        &c,
        &b,
        "off",
        b"o",
        &[("X-Bz-File-Legal-Hold".into(), "off".into())],
    );
    assert_eq!(off.status, 200, "{}", String::from_utf8_lossy(&off.body));
    assert_eq!(off.json()["legalHold"]["value"], "off");
    let none = upload_h(&c, &b, "none", b"n", &[]).json();
    let info = c.ok("b2_get_file_info", json!({"fileId": none["fileId"]}));
    assert_eq!(info["legalHold"]["value"], Value::Null);
}
