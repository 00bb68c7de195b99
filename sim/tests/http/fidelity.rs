//! Answers shaped exactly like B2's: SSE-B2 by default, file ids, `unauthorized` bodies,
//! wrapped fields by capability, and clear refusals of what b2-sim does not implement.

use serde_json::{json, Value};

use crate::common::*;

fn sse_b2() -> Value {
    json!({"algorithm": "AES256", "mode": "SSE-B2"})
}

/// A key of the master's account with these capabilities (and optional bucket).
fn key_with(s: &b2_sim::Sim, c: &Client, caps: &[&str], bucket: Option<&str>) -> Client {
    let mut args = json!({"accountId": c.account_id, "keyName": "k", "capabilities": caps});
    if let Some(b) = bucket {
        args["bucketIds"] = json!([b]);
    }
    let k = c.ok("b2_create_key", args);
    Client::with_key(
        s.url(),
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
        4,
    )
}

#[test]
fn sse_b2_is_the_default_everywhere() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("sse-default", "allPrivate");
    let bucket = c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": b}),
    );
    assert_eq!(
        bucket["buckets"][0]["defaultServerSideEncryption"],
        json!({"isClientAuthorizedToRead": true, "value": sse_b2()})
    );
    // Plain upload, and one asking for SSE-B2 explicitly: both SSE-B2.
    let f = c.upload(&b, "plain", b"abc");
    assert_eq!(f["serverSideEncryption"], sse_b2());
    let (url, tok) = c.upload_url(&b);
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "explicit"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", &sha1_hex(b"abc")),
            ("X-Bz-Server-Side-Encryption", "AES256"),
        ],
        b"abc",
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["serverSideEncryption"], sse_b2());
    let info = c.ok("b2_get_file_info", json!({"fileId": f["fileId"]}));
    assert_eq!(info["serverSideEncryption"], sse_b2());
    let names = c.ok("b2_list_file_names", json!({"bucketId": b}));
    for f in names["files"].as_array().unwrap() {
        assert_eq!(f["serverSideEncryption"], sse_b2());
    }
    // Large file: start, part, finish.
    let id = c.start_large(&b, "large");
    let (p1, p2) = (data(200, 1), data(10, 2));
    let part = c.upload_part(&id, 1, &p1);
    assert_eq!(part.json()["serverSideEncryption"], sse_b2());
    assert_eq!(c.upload_part(&id, 2, &p2).status, 200);
    let done = c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": [sha1_hex(&p1), sha1_hex(&p2)]}),
    );
    assert_eq!(done["serverSideEncryption"], sse_b2());
    // Copies.
    let copy = c.ok(
        "b2_copy_file",
        json!({"sourceFileId": f["fileId"], "fileName": "copy"}),
    );
    assert_eq!(copy["serverSideEncryption"], sse_b2());
    let copy = c.ok(
        "b2_copy_file",
        json!({"sourceFileId": f["fileId"], "fileName": "copy2",
               "destinationServerSideEncryption": {"mode": "SSE-B2", "algorithm": "AES256"}}),
    );
    assert_eq!(copy["serverSideEncryption"], sse_b2());
    // Downloads say so too.
    let d = c.get("/file/sse-default/plain", Some(&c.token), None);
    assert_eq!(d.header("x-bz-server-side-encryption"), Some("AES256"));
    // A hide marker holds no data: no serverSideEncryption, like an unencrypted file.
    let h = c.ok("b2_hide_file", json!({"bucketId": b, "fileName": "plain"}));
    assert!(h.get("serverSideEncryption").is_none(), "{h}");
}

#[test]
fn bucket_default_resets_and_none_is_refused() {
    let s = sim();
    let c = Client::new(&s);
    let create = |name: &str, sse: Value| {
        c.call(
            "b2_create_bucket",
            json!({"accountId": c.account_id, "bucketName": name, "bucketType": "allPrivate",
                   "defaultServerSideEncryption": sse}),
        )
    };
    let a = create(
        "sse-explicit",
        json!({"mode": "SSE-B2", "algorithm": "AES256"}),
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["defaultServerSideEncryption"]["value"], sse_b2());
    let b = a.json()["bucketId"].as_str().unwrap().to_string();
    let a = create("sse-none-create", json!({"mode": "none"}));
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    assert!(a.json()["message"].as_str().unwrap().contains("SSE-B2"));
    let a = create(
        "sse-c-default",
        json!({"mode": "SSE-C", "algorithm": "AES256"}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));

    let update = |sse: Value| {
        c.call(
            "b2_update_bucket",
            json!({"accountId": c.account_id, "bucketId": b, "defaultServerSideEncryption": sse}),
        )
    };
    // {"mode": null} resets to the default, which is SSE-B2: encryption stays on.
    let a = update(json!({"mode": null}));
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["defaultServerSideEncryption"]["value"], sse_b2());
    let a = update(json!({"mode": "none"}));
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    assert_eq!(c.upload(&b, "f", b"x")["serverSideEncryption"], sse_b2());

    // Setting it explicitly needs writeBucketEncryption; the automatic default does not.
    let k = key_with(&s, &c, &["writeBuckets", "listBuckets"], None);
    let a = k.call(
        "b2_update_bucket",
        json!({"accountId": c.account_id, "bucketId": b, "defaultServerSideEncryption": {"mode": null}}),
    );
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    let a = k.call(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": "sse-auto-ok", "bucketType": "allPrivate"}),
    );
    assert_eq!(a.status, 200);

    // Files: none refused on every write.
    let (url, tok) = c.upload_url(&b);
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "n"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", &sha1_hex(b"x")),
            ("X-Bz-Server-Side-Encryption", "none"),
        ],
        b"x",
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    let a = c.call(
        "b2_start_large_file",
        json!({"bucketId": b, "fileName": "l", "contentType": "a/b",
               "serverSideEncryption": {"mode": "none"}}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    let f = c.upload(&b, "src", b"y");
    let a = c.call(
        "b2_copy_file",
        json!({"sourceFileId": f["fileId"], "fileName": "c",
               "destinationServerSideEncryption": {"mode": "none"}}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
}

/// `4_z<bucket id>_f<type><15 hex>_d<yyyymmdd>_m<hhmmss>_c<dc>_v<vault>_t<nnnn>`.
fn check_id_shape(id: &str, bucket_id: &str, kind: char) {
    assert_eq!(id.len(), 83, "{id}");
    let rest = id
        .strip_prefix(&format!("4_z{bucket_id}_f"))
        .unwrap_or_else(|| panic!("{id}"));
    let parts: Vec<&str> = rest.split('_').collect();
    assert_eq!(parts.len(), 6, "{id}");
    assert!(parts[0].starts_with(kind), "type digit {kind}: {id}");
    assert_eq!(parts[0].len(), 16);
    assert!(parts[0].bytes().all(|b| b.is_ascii_hexdigit()));
    let digits = |p: &str, tag: char, n: usize| {
        assert!(p.starts_with(tag), "{id}");
        assert_eq!(p.len(), n + 1, "{id}");
        assert!(p[1..].bytes().all(|b| b.is_ascii_digit()), "{id}");
    };
    digits(parts[1], 'd', 8);
    digits(parts[2], 'm', 6);
    digits(parts[3], 'c', 3);
    digits(parts[4], 'v', 7);
    digits(parts[5], 't', 4);
    let year: u32 = parts[1][1..5].parse().unwrap();
    assert!((2025..2100).contains(&year), "{id}");
}

#[test]
fn file_ids_look_like_b2s() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("id-format", "allPrivate");
    let small = c.upload(&b, "small", b"abc");
    check_id_shape(small["fileId"].as_str().unwrap(), &b, '1');
    let large = c.start_large(&b, "large");
    check_id_shape(&large, &b, '2');
    let copy = c.ok(
        "b2_copy_file",
        json!({"sourceFileId": small["fileId"], "fileName": "copy"}),
    );
    check_id_shape(copy["fileId"].as_str().unwrap(), &b, '1');
    let ids: std::collections::HashSet<String> = (0..20)
        .map(|i| {
            c.upload(&b, &format!("n{i}"), b"x")["fileId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 20, "ids are unique");
    // Downloads by id and parts URLs take the long ids.
    let d = c.get(
        &format!(
            "/b2api/v4/b2_download_file_by_id?fileId={}",
            small["fileId"].as_str().unwrap()
        ),
        Some(&c.token),
        None,
    );
    assert_eq!(d.body, b"abc");
    assert_eq!(c.upload_part(&large, 1, &data(200, 1)).status, 200);
}

#[test]
fn missing_capability_answers_b2s_body() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("no-caps", "allPrivate");
    let k = key_with(&s, &c, &["listFiles"], None);
    for (call, args) in [
        ("b2_list_buckets", json!({"accountId": c.account_id})),
        ("b2_get_upload_url", json!({"bucketId": b})),
        (
            "b2_create_key",
            json!({"accountId": c.account_id, "keyName": "x", "capabilities": ["listFiles"]}),
        ),
    ] {
        let a = k.call(call, args);
        assert_eq!(a.status, 401, "{call}");
        assert_eq!(
            a.json(),
            json!({"status": 401, "code": "unauthorized", "message": ""}),
            "{call}"
        );
        assert!(
            a.header("x-b2-sim-detail").is_some(),
            "{call}: the reason is in a header"
        );
    }
}

#[test]
fn wrapped_fields_follow_capabilities() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("wrapped", "allPrivate");
    let f = c.upload(&b, "f", b"x");
    // The master key reads everything.
    assert_eq!(f["fileRetention"]["isClientAuthorizedToRead"], true);
    assert_eq!(
        f["fileRetention"]["value"],
        json!({"mode": null, "retainUntilTimestamp": null})
    );
    assert_eq!(
        f["legalHold"],
        json!({"isClientAuthorizedToRead": true, "value": null})
    );
    let bk = &c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": b}),
    )["buckets"][0];
    assert_eq!(
        bk["fileLockConfiguration"]["isClientAuthorizedToRead"],
        true
    );
    assert_eq!(
        bk["fileLockConfiguration"]["value"]["isFileLockEnabled"],
        false
    );
    assert_eq!(
        bk["replicationConfiguration"]["isClientAuthorizedToRead"],
        true
    );

    // A key without the read capabilities sees them hidden.
    let k = key_with(&s, &c, &["listBuckets", "listFiles", "readFiles"], None);
    let info = k.ok("b2_get_file_info", json!({"fileId": f["fileId"]}));
    assert_eq!(
        info["fileRetention"],
        json!({"isClientAuthorizedToRead": false, "value": null})
    );
    assert_eq!(
        info["legalHold"],
        json!({"isClientAuthorizedToRead": false, "value": null})
    );
    let bk = &k.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": b}),
    )["buckets"][0];
    assert_eq!(
        bk["defaultServerSideEncryption"],
        json!({"isClientAuthorizedToRead": false})
    );
    assert_eq!(
        bk["fileLockConfiguration"],
        json!({"isClientAuthorizedToRead": false, "value": null})
    );
    assert_eq!(
        bk["replicationConfiguration"],
        json!({"isClientAuthorizedToRead": false, "value": null})
    );
    // With them, shown.
    let k = key_with(
        &s,
        &c,
        &[
            "listBuckets",
            "listFiles",
            "readBucketEncryption",
            "readFileRetentions",
            "readFileLegalHolds",
        ],
        None,
    );
    let names = k.ok("b2_list_file_names", json!({"bucketId": b}));
    assert_eq!(
        names["files"][0]["fileRetention"]["isClientAuthorizedToRead"],
        true
    );
    assert_eq!(
        names["files"][0]["legalHold"]["isClientAuthorizedToRead"],
        true
    );
    let bk = &k.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": b}),
    )["buckets"][0];
    assert_eq!(bk["defaultServerSideEncryption"]["value"], sse_b2());
}
