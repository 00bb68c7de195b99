use std::time::Duration;

use serde_json::json;

use crate::common::*;

#[test]
fn authorize_shapes_per_version() {
    let s = sim();
    let (id, key) = s.master_key();
    let v4 = authorize_raw(s.url(), id, key, 4).json();
    let st = &v4["apiInfo"]["storageApi"];
    assert_eq!(v4["accountId"], id);
    assert_eq!(st["apiUrl"], s.url());
    assert_eq!(st["downloadUrl"], s.url());
    assert_eq!(st["absoluteMinimumPartSize"], 100);
    assert!(st["recommendedPartSize"].as_u64().unwrap() >= 100);
    assert!(st["allowed"]["buckets"].is_null());
    assert!(st["allowed"]["capabilities"]
        .as_array()
        .unwrap()
        .contains(&json!("writeFiles")));
    let v3 = authorize_raw(s.url(), id, key, 3).json();
    assert!(v3["apiInfo"]["storageApi"]["allowed"]
        .as_object()
        .unwrap()
        .contains_key("bucketId"));
    for ver in [1, 2] {
        let v = authorize_raw(s.url(), id, key, ver).json();
        assert_eq!(v["apiUrl"], s.url());
        assert_eq!(v["downloadUrl"], s.url());
        assert_eq!(v["absoluteMinimumPartSize"], 100);
        assert!(v["minimumPartSize"].is_u64());
        assert!(v["recommendedPartSize"].is_u64());
        assert!(v["allowed"]["capabilities"].is_array());
        assert!(v["authorizationToken"].is_string());
    }
    // POST works too (b2sdk posts).
    let a = answer(
        agent()
            .post(format!("{}/b2api/v4/b2_authorize_account", s.url()))
            .header("Authorization", basic(id, key))
            .send(&b""[..]),
    );
    assert_eq!(a.status, 200);
}

#[test]
fn bad_credentials_and_tokens() {
    let s = sim();
    let (id, _) = s.master_key();
    let a = authorize_raw(s.url(), id, "wrong", 4);
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    let a = answer(
        agent()
            .get(format!("{}/b2api/v4/b2_authorize_account", s.url()))
            .call(),
    );
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["status"], 401);
    let mut c = Client::new(&s);
    c.token = "nonsense".into();
    let a = c.call("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!((a.status, a.code().as_str()), (401, "bad_auth_token"));
    c.token = String::new();
    let a = c.call("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!((a.status, a.code().as_str()), (401, "missing_auth_token"));
}

#[test]
fn tokens_expire() {
    let s = b2_sim::Sim::builder()
        .token_lifetime(Duration::from_millis(300))
        .start()
        .unwrap();
    let c = Client::new(&s);
    c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    std::thread::sleep(Duration::from_millis(400));
    let a = c.call("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!((a.status, a.code().as_str()), (401, "expired_auth_token"));
    let c = Client::new(&s);
    c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
}

#[test]
fn bad_json_and_unknown_calls() {
    let s = sim();
    let c = Client::new(&s);
    let a = answer(
        c.agent
            .post(format!("{}/b2api/v4/b2_list_buckets", s.url()))
            .header("Authorization", &c.token)
            .send(&b"{not json"[..]),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_json"));
    let a = c.call("b2_no_such_call", json!({}));
    assert_eq!(a.status, 404);
    let a = c.call("b2_list_buckets", json!({}));
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    let a = c.call("b2_list_buckets", json!({"accountId": "someoneelse"}));
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    // GET with query parameters works like POST.
    let a = c.get(
        &format!("/b2api/v4/b2_list_buckets?accountId={}", c.account_id),
        Some(&c.token),
        None,
    );
    assert_eq!(a.status, 200);
}

#[test]
fn keys_create_list_delete_and_capabilities() {
    let s = sim();
    let c = Client::new(&s);
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "reader", "capabilities": ["listBuckets"]}),
    );
    let kid = k["applicationKeyId"].as_str().unwrap();
    let secret = k["applicationKey"].as_str().unwrap();
    assert!(k["bucketIds"].is_null());
    let reader = Client::with_key(s.url(), kid, secret, 4);
    reader.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    let a = reader.call(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": "not-allowed", "bucketType": "allPrivate"}),
    );
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));

    let list = c.ok("b2_list_keys", json!({"accountId": c.account_id}));
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["keyName"], "reader");
    assert!(keys[0].get("applicationKey").is_none());

    c.ok("b2_delete_key", json!({"applicationKeyId": kid}));
    let a = reader.call("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!((a.status, a.code().as_str()), (401, "bad_auth_token"));
    assert_eq!(authorize_raw(s.url(), kid, secret, 4).status, 401);
    let a = c.call("b2_delete_key", json!({"applicationKeyId": kid}));
    assert_eq!(a.status, 400);
}

#[test]
fn key_validation() {
    let s = sim();
    let c = Client::new(&s);
    let base = |name: &str, caps: serde_json::Value| json!({"accountId": c.account_id, "keyName": name, "capabilities": caps});
    assert_eq!(
        c.call("b2_create_key", base("bad name!", json!(["listFiles"])))
            .status,
        400
    );
    assert_eq!(
        c.call("b2_create_key", base("ok", json!(["flyToMoon"])))
            .status,
        400
    );
    assert_eq!(c.call("b2_create_key", base("ok", json!([]))).status, 400);
    // A name prefix without a bucket covers every bucket (B2's current docs; see settings.rs).
    let mut v = base("ok", json!(["listFiles"]));
    v["namePrefix"] = json!("a/");
    assert_eq!(c.call("b2_create_key", v).status, 200);
    let mut v = base("ok", json!(["listFiles"]));
    v["bucketIds"] = json!(["nope"]);
    assert_eq!(c.call("b2_create_key", v).status, 400);
    let mut v = base("ok", json!(["listFiles"]));
    v["validDurationInSeconds"] = json!(0);
    assert_eq!(c.call("b2_create_key", v).status, 400);
}

#[test]
fn key_expires() {
    let s = sim();
    let c = Client::new(&s);
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "brief", "capabilities": ["listBuckets"], "validDurationInSeconds": 1}),
    );
    assert!(k["expirationTimestamp"].as_u64().is_some());
    let (kid, secret) = (
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
    );
    assert_eq!(authorize_raw(s.url(), kid, secret, 4).status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(authorize_raw(s.url(), kid, secret, 4).status, 401);
}

#[test]
fn bucket_and_prefix_restrictions() {
    let s = sim();
    let c = Client::new(&s);
    let b1 = c.create_bucket("restricted-one", "allPrivate");
    let b2 = c.create_bucket("restricted-two", "allPrivate");
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "one", "bucketIds": [b1],
               "namePrefix": "pre/",
               "capabilities": ["listBuckets", "listFiles", "readFiles", "writeFiles", "deleteFiles"]}),
    );
    assert_eq!(k["bucketIds"], json!([b1]));
    let (kid, secret) = (
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
    );
    let r = Client::with_key(s.url(), kid, secret, 4);
    let allowed = &r.auth["apiInfo"]["storageApi"]["allowed"];
    assert_eq!(allowed["buckets"][0]["id"], b1);
    assert_eq!(allowed["buckets"][0]["name"], "restricted-one");
    assert_eq!(allowed["namePrefix"], "pre/");
    // v3 shape of the same key.
    let r3 = Client::with_key(s.url(), kid, secret, 3);
    assert_eq!(r3.auth["apiInfo"]["storageApi"]["allowed"]["bucketId"], b1);
    assert_eq!(
        r3.auth["apiInfo"]["storageApi"]["allowed"]["bucketName"],
        "restricted-one"
    );
    // v3 key listing shows bucketId.
    let c3 = Client::with_key(s.url(), s.master_key().0, s.master_key().1, 3);
    let keys = c3.ok("b2_list_keys", json!({"accountId": c.account_id}));
    assert_eq!(keys["keys"][0]["bucketId"], b1);

    let a = r.call("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    let l = r.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketName": "restricted-one"}),
    );
    assert_eq!(l["buckets"].as_array().unwrap().len(), 1);
    let a = r.call("b2_get_upload_url", json!({"bucketId": b2}));
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));

    let (url, tok) = r.upload_url(&b1);
    let body = b"x";
    let sha = sha1_hex(body);
    let hdrs = |name: &'static str| {
        vec![
            ("X-Bz-File-Name", name),
            ("Content-Type", "text/plain"),
            (
                "X-Bz-Content-Sha1",
                Box::leak(sha.clone().into_boxed_str()) as &str,
            ),
        ]
    };
    let a = r.upload_with(&url, &tok, &hdrs("other"), body);
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    let a = r.upload_with(&url, &tok, &hdrs("pre/ok"), body);
    assert_eq!(a.status, 200);
    let a = r.call("b2_list_file_names", json!({"bucketId": b1}));
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    let l = r.ok(
        "b2_list_file_names",
        json!({"bucketId": b1, "prefix": "pre/"}),
    );
    assert_eq!(l["files"].as_array().unwrap().len(), 1);

    // A key for two buckets cannot use v3.
    let k2 = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "two", "bucketIds": [b1, b2], "capabilities": ["listFiles"]}),
    );
    let a = authorize_raw(
        s.url(),
        k2["applicationKeyId"].as_str().unwrap(),
        k2["applicationKey"].as_str().unwrap(),
        3,
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    assert!(a.json()["message"]
        .as_str()
        .unwrap()
        .contains("version number 3"));
    // Below v4, b2_list_keys leaves it out and b2_delete_key refuses it.
    let k2_id = k2["applicationKeyId"].as_str().unwrap();
    let listed = |v: &serde_json::Value| {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["applicationKeyId"] == k2_id)
    };
    assert!(!listed(
        &c3.ok("b2_list_keys", json!({"accountId": c.account_id}))
    ));
    assert!(listed(
        &c.ok("b2_list_keys", json!({"accountId": c.account_id}))
    ));
    let a = c3.call("b2_delete_key", json!({"applicationKeyId": k2_id}));
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
    c.ok("b2_delete_key", json!({"applicationKeyId": k2_id}));
}

#[test]
fn accounts_are_separate() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("first-account-bucket", "allPrivate");
    let (id2, key2) = s.create_account();
    let other = Client::with_key(s.url(), &id2, &key2, 4);
    assert_ne!(other.account_id, c.account_id);
    let a = other.call("b2_get_upload_url", json!({"bucketId": b}));
    assert_eq!(a.status, 400);
    let l = other.ok("b2_list_buckets", json!({"accountId": other.account_id}));
    assert!(l["buckets"].as_array().unwrap().is_empty());
    let a = other.call(
        "b2_create_bucket",
        json!({"accountId": other.account_id, "bucketName": "first-account-bucket", "bucketType": "allPrivate"}),
    );
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "duplicate_bucket_name")
    );
}

#[test]
fn older_api_versions_serve_every_call() {
    let s = sim();
    let (id, key) = s.master_key();
    for ver in [1u8, 2, 3] {
        let c = Client::with_key(s.url(), id, key, ver);
        let name = format!("old-version-{ver}");
        let b = c.create_bucket(&name, "allPrivate");
        let f = c.upload(&b, "x", b"old");
        assert!(c.upload_url(&b).0.contains(&format!("/b2api/v{ver}/")));
        let l = c.ok("b2_list_file_names", json!({"bucketId": b}));
        assert_eq!(l["files"][0]["fileId"], f["fileId"]);
        let k = c.ok(
            "b2_create_key",
            json!({"accountId": c.account_id, "keyName": "k", "capabilities": ["listFiles"], "bucketId": b}),
        );
        assert_eq!(k["bucketId"], b);
        assert!(k.get("bucketIds").is_none());
    }
}

#[test]
fn stats_endpoint() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("stats-bucket", "allPrivate");
    c.upload(&b, "x", b"12345");
    let a = c.get("/_sim/stats", None, None);
    assert_eq!(a.status, 200);
    let v = a.json();
    assert_eq!(v["uploads"], 1);
    assert_eq!(v["bytesIngested"], 5);
    assert_eq!(v["faults"]["resets"], 0);
    let st = s.stats();
    assert_eq!(st.uploads, 1);
    assert!(st.requests >= 4);
}
