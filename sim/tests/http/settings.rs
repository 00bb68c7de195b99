//! Bucket settings (CORS, lifecycle, replication, notification rules), lifecycle rules run on
//! the test clock, replication between buckets, key capabilities and download authorization
//! overrides: each rule b2-sim enforces, with a test that fails if the rule is dropped.

use std::time::Duration;

use b2_sim::Sim;
use serde_json::{json, Value};

use crate::common::*;

const DAY: Duration = Duration::from_secs(86_400);

fn update(c: &Client, b: &str, extra: Value) -> Answer {
    let mut args = json!({"accountId": c.account_id, "bucketId": b});
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    c.call("b2_update_bucket", args)
}

fn versions(c: &Client, b: &str) -> Vec<(String, String)> {
    let v = c.ok(
        "b2_list_file_versions",
        json!({"bucketId": b, "maxFileCount": 1000}),
    );
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["fileName"].as_str().unwrap().to_string(),
                f["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn settings_are_stored_returned_and_checked() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("settings-all", "allPrivate");
    let cors = json!([{"corsRuleName": "webapp", "allowedOrigins": ["https://a.example"],
        "allowedOperations": ["b2_download_file_by_name"], "allowedHeaders": ["range"],
        "exposeHeaders": ["x-bz-file-id"], "maxAgeSeconds": 600}]);
    let life = json!([{"fileNamePrefix": "logs/", "daysFromUploadingToHiding": 7,
        "daysFromHidingToDeleting": 1, "daysFromStartingToCancelingUnfinishedLargeFiles": 2}]);
    let v = update(
        &c,
        &b,
        json!({"corsRules": cors, "lifecycleRules": life, "bucketInfo": {"owner": "ops"}, "ifRevisionIs": 1}),
    );
    assert_eq!(v.status, 200, "{}", String::from_utf8_lossy(&v.body));
    let got = &c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketName": "settings-all"}),
    )["buckets"][0];
    assert_eq!(got["corsRules"], cors);
    assert_eq!(got["lifecycleRules"], life);
    assert_eq!(got["bucketInfo"], json!({"owner": "ops"}));
    assert_eq!(got["revision"], 2);
    // ifRevisionIs: a stale revision is a 409 conflict and changes nothing.
    let stale = update(&c, &b, json!({"bucketInfo": {}, "ifRevisionIs": 1}));
    assert_eq!((stale.status, stale.code().as_str()), (409, "conflict"));
    // Lifecycle rules as B2 documents them.
    for bad in [
        json!([{"fileNamePrefix": "a/"}]),
        json!([{"fileNamePrefix": "a/", "daysFromHidingToDeleting": 0}]),
        json!([{"daysFromHidingToDeleting": 1}]),
        json!([{"fileNamePrefix": "photos/", "daysFromHidingToDeleting": 1},
               {"fileNamePrefix": "photos/kittens/", "daysFromUploadingToHiding": 1}]),
    ] {
        let a = update(&c, &b, json!({"lifecycleRules": bad}));
        assert_eq!((a.status, a.code().as_str()), (400, "bad_request"), "{bad}");
    }
    // CORS rules too.
    for bad in [
        json!([{"corsRuleName": "x", "allowedOrigins": ["*"], "allowedOperations": ["s3_get"], "maxAgeSeconds": 1}]),
        json!([{"corsRuleName": "webapp", "allowedOrigins": [], "allowedOperations": ["s3_get"], "maxAgeSeconds": 1}]),
        json!([{"corsRuleName": "webapp", "allowedOrigins": ["*"], "allowedOperations": ["s3_get"], "maxAgeSeconds": 86401}]),
    ] {
        let a = update(&c, &b, json!({"corsRules": bad}));
        assert_eq!(a.status, 400, "{bad}");
    }
    // Nothing refused changed the bucket.
    let again = &c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": b}),
    )["buckets"][0];
    assert_eq!(again["lifecycleRules"], life);
    assert_eq!(again["revision"], 2);
}

#[test]
fn lifecycle_hides_deletes_and_cancels_on_the_clock() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("lifecycle-run", "allPrivate");
    let a = update(
        &c,
        &b,
        json!({"lifecycleRules": [
            {"fileNamePrefix": "hide/", "daysFromUploadingToHiding": 2},
            {"fileNamePrefix": "old/", "daysFromHidingToDeleting": 3},
            {"fileNamePrefix": "big/", "daysFromStartingToCancelingUnfinishedLargeFiles": 1},
        ]}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    c.upload(&b, "hide/a", b"a");
    c.upload(&b, "keep/a", b"k");
    c.upload(&b, "old/v", b"1");
    c.upload(&b, "old/v", b"2"); // version 1 is hidden from now on
    c.start_large(&b, "big/l");
    c.start_large(&b, "keep/l");

    // One day: only the large file rule has come due.
    // Account tokens live 24 hours: authorize again after each move of the clock.
    s.advance_clock(DAY + Duration::from_secs(1));
    let c = Client::new(&s);
    let unfinished = c.ok("b2_list_unfinished_large_files", json!({"bucketId": b}));
    let names: Vec<&str> = unfinished["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["keep/l"], "big/l canceled after 1 day");
    let v = versions(&c, &b);
    assert!(!v.contains(&("hide/a".into(), "hide".into())), "not yet");

    // Two days: hide/a is hidden (a hide marker is its newest version).
    s.advance_clock(DAY);
    let c = Client::new(&s);
    let names = c.ok("b2_list_file_names", json!({"bucketId": b}));
    let visible: Vec<&str> = names["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileName"].as_str().unwrap())
        .collect();
    assert_eq!(visible, ["keep/a", "old/v"]);
    let v = versions(&c, &b);
    assert_eq!(v.iter().filter(|(n, _)| n == "old/v").count(), 2);

    // Three days after old/v's first version was hidden, it is deleted; the newest stays.
    s.advance_clock(DAY + Duration::from_secs(1));
    let c = Client::new(&s);
    let v = versions(&c, &b);
    assert_eq!(
        v.iter().filter(|(n, _)| n == "old/v").count(),
        1,
        "hidden version deleted: {v:?}"
    );
    assert_eq!(s.file_bytes("lifecycle-run", "old/v").unwrap(), b"2");
    // Outside every prefix nothing happens.
    assert_eq!(s.file_bytes("lifecycle-run", "keep/a").unwrap(), b"k");
}

fn key(c: &Client, name: &str, caps: &[&str], buckets: &[&str]) -> String {
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": name, "capabilities": caps, "bucketIds": buckets}),
    );
    k["applicationKeyId"].as_str().unwrap().to_string()
}

#[test]
fn replication_copies_new_uploads_with_statuses() {
    let s = sim();
    let c = Client::new(&s);
    let src = c.create_bucket("repl-source", "allPrivate");
    let dst = c.create_bucket("repl-destination", "allPrivate");
    let src_key = key(&c, "rplsrc", &["readFiles", "listFiles"], &[&src]);
    let dst_key = key(&c, "rpldst", &["writeFiles", "deleteFiles"], &[&dst]);
    let a = update(
        &c,
        &dst,
        json!({"replicationConfiguration": {"asReplicationDestination": {
            "sourceToDestinationKeyMapping": {src_key.clone(): dst_key}}}}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let rule = json!({"destinationBucketId": dst, "fileNamePrefix": "docs/", "includeExistingFiles": false,
        "isEnabled": true, "priority": 1, "replicationRuleName": "to-dst"});
    let a = update(
        &c,
        &src,
        json!({"replicationConfiguration": {"asReplicationSource": {
            "replicationRules": [rule], "sourceApplicationKeyId": src_key}}}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(
        a.json()["replicationConfiguration"]["value"]["asReplicationSource"]["replicationRules"][0]
            ["replicationRuleName"],
        "to-dst"
    );

    let up = c.upload(&src, "docs/a.txt", b"replicate me");
    assert_eq!(up["replicationStatus"], "pending");
    let info = c.ok("b2_get_file_info", json!({"fileId": up["fileId"]}));
    assert_eq!(info["replicationStatus"], "completed");
    assert_eq!(
        s.file_bytes("repl-destination", "docs/a.txt").unwrap(),
        b"replicate me"
    );
    let replica = &c.ok("b2_list_file_names", json!({"bucketId": dst}))["files"][0];
    assert_eq!(replica["replicationStatus"], "replica");
    assert_eq!(replica["contentSha1"], up["contentSha1"]);
    // Outside the rule's prefix: no replication, no status.
    let other = c.upload(&src, "tmp/b", b"no");
    assert_eq!(other["replicationStatus"], Value::Null);
    c.ok("b2_get_file_info", json!({"fileId": other["fileId"]}));
    assert!(s.file_bytes("repl-destination", "tmp/b").is_none());
    // A destination that no longer accepts the source key: failed, nothing copied.
    let a = update(
        &c,
        &dst,
        json!({"replicationConfiguration": {"asReplicationDestination": {"sourceToDestinationKeyMapping": {}}}}),
    );
    assert_eq!(a.status, 200);
    let up = c.upload(&src, "docs/c", b"c");
    assert_eq!(up["replicationStatus"], "pending");
    let info = c.ok("b2_get_file_info", json!({"fileId": up["fileId"]}));
    assert_eq!(info["replicationStatus"], "failed");
    assert!(s.file_bytes("repl-destination", "docs/c").is_none());
}

#[test]
fn replication_configuration_is_checked() {
    let s = sim();
    let c = Client::new(&s);
    let src = c.create_bucket("repl-check-src", "allPrivate");
    let dst = c.create_bucket("repl-check-dst", "allPrivate");
    let k = key(&c, "rplsrc", &["readFiles"], &[&src]);
    let rule = |dest: &str, name: &str, prio: u64| {
        json!({"replicationConfiguration": {"asReplicationSource": {"sourceApplicationKeyId": k,
            "replicationRules": [{"destinationBucketId": dest, "fileNamePrefix": "", "includeExistingFiles": false,
            "isEnabled": true, "priority": prio, "replicationRuleName": name}]}}})
    };
    for (what, bad) in [
        ("unknown destination", rule("nope", "r", 1)),
        ("itself", rule(&src, "r", 1)),
        ("rule name", rule(&dst, "bad name!", 1)),
        ("priority", rule(&dst, "r", 0)),
        (
            "unknown key",
            json!({"replicationConfiguration": {"asReplicationSource": {"sourceApplicationKeyId": "nokey",
                "replicationRules": []}}}),
        ),
        (
            "destination key",
            json!({"replicationConfiguration": {"asReplicationDestination": {"sourceToDestinationKeyMapping": {"x": "nokey"}}}}),
        ),
    ] {
        let a = update(&c, &src, bad);
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "bad_request"),
            "{what}"
        );
    }
    // writeBucketReplications is needed; readBucketReplications to see the value.
    let weak_id = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "weak", "capabilities": ["writeBuckets", "listBuckets"]}),
    );
    let weak = Client::with_key(
        s.url(),
        weak_id["applicationKeyId"].as_str().unwrap(),
        weak_id["applicationKey"].as_str().unwrap(),
        4,
    );
    let a = update(&weak, &src, rule(&dst, "r", 1));
    assert_eq!(a.status, 401);
    let ok = update(&c, &src, rule(&dst, "r", 1));
    assert_eq!(ok.status, 200);
    let seen = &weak.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": src}),
    )["buckets"][0]["replicationConfiguration"];
    assert_eq!(
        seen,
        &json!({"isClientAuthorizedToRead": false, "value": null})
    );
}

#[test]
fn replication_of_existing_files_when_asked() {
    let s = sim();
    let c = Client::new(&s);
    let src = c.create_bucket("repl-exist-src", "allPrivate");
    let dst = c.create_bucket("repl-exist-dst", "allPrivate");
    c.upload(&src, "before", b"was here");
    let sk = key(&c, "rplsrc", &["readFiles"], &[&src]);
    let dk = key(&c, "rpldst", &["writeFiles"], &[&dst]);
    update(
        &c,
        &dst,
        json!({"replicationConfiguration": {"asReplicationDestination": {"sourceToDestinationKeyMapping": {sk.clone(): dk}}}}),
    );
    let a = update(
        &c,
        &src,
        json!({"replicationConfiguration": {"asReplicationSource": {"sourceApplicationKeyId": sk,
            "replicationRules": [{"destinationBucketId": dst, "fileNamePrefix": "", "includeExistingFiles": true,
            "isEnabled": true, "priority": 5, "replicationRuleName": "all"}]}}}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!(
        s.file_bytes("repl-exist-dst", "before").unwrap(),
        b"was here"
    );
}

#[test]
fn notification_rules_are_stored_and_checked() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("notify-rules", "allPrivate");
    let rule = |name: &str| {
        json!({"eventTypes": ["b2:ObjectCreated:*", "b2:HideMarkerCreated:Hide"], "isEnabled": true,
            "name": name, "objectNamePrefix": "in/",
            "targetConfiguration": {"targetType": "webhook", "url": "https://hooks.example/x",
                "hmacSha256SigningSecret": "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0",
                "customHeaders": [{"name": "X-Mine", "value": "1"}]}})
    };
    let set = c.ok(
        "b2_set_bucket_notification_rules",
        json!({"bucketId": b, "eventNotificationRules": [rule("zeta"), rule("alpha")]}),
    );
    let rules = set["eventNotificationRules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["name"], "alpha", "sorted by name");
    assert_eq!(rules[0]["isSuspended"], false);
    let got = c.ok("b2_get_bucket_notification_rules", json!({"bucketId": b}));
    assert_eq!(got, set);
    let mut too_many = Vec::new();
    for i in 0..26 {
        too_many.push(rule(&format!("r{i}")));
    }
    let mut http = rule("plain");
    http["targetConfiguration"]["url"] = json!("http://hooks.example/x");
    let mut secret = rule("secret");
    secret["targetConfiguration"]["hmacSha256SigningSecret"] = json!("short");
    let mut event = rule("event");
    event["eventTypes"] = json!(["b2:ObjectRead:*"]);
    let mut header = rule("header");
    header["targetConfiguration"]["customHeaders"] = json!([{"name": "X-Bz-Thing", "value": "1"}]);
    for (what, bad) in [
        ("26 rules", json!(too_many)),
        ("http url", json!([http])),
        ("secret", json!([secret])),
        ("event type", json!([event])),
        ("header", json!([header])),
        ("duplicate", json!([rule("same"), rule("same")])),
    ] {
        let a = c.call(
            "b2_set_bucket_notification_rules",
            json!({"bucketId": b, "eventNotificationRules": bad}),
        );
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "bad_request"),
            "{what}"
        );
    }
    assert_eq!(
        c.ok("b2_get_bucket_notification_rules", json!({"bucketId": b})),
        set
    );
    // Capabilities: reading and writing rules are separate.
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "reader", "capabilities": ["readBucketNotifications"]}),
    );
    let r = Client::with_key(
        s.url(),
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
        4,
    );
    assert_eq!(
        r.call("b2_get_bucket_notification_rules", json!({"bucketId": b}))
            .status,
        200
    );
    assert_eq!(
        r.call(
            "b2_set_bucket_notification_rules",
            json!({"bucketId": b, "eventNotificationRules": []})
        )
        .status,
        401
    );
    // An empty list clears the rules.
    let cleared = c.ok(
        "b2_set_bucket_notification_rules",
        json!({"bucketId": b, "eventNotificationRules": []}),
    );
    assert_eq!(cleared["eventNotificationRules"], json!([]));
}

#[test]
fn key_capabilities_documented_and_unknown() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("caps-bucket", "allPrivate");
    // Every capability B2 documents, lifecycle rules included, on a bucket key too.
    c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "life", "bucketIds": [b],
               "capabilities": ["readBucketLifecycleRules", "writeBucketLifecycleRules",
                                "readBucketNotifications", "writeBucketNotifications"]}),
    );
    // B2's docs list the valid values; a name outside them is refused.
    let a = c.call(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "typo", "capabilities": ["readFilez"]}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
}

#[test]
fn download_authorization_pins_its_overrides() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("share-pinned", "allPrivate");
    c.upload(&b, "docs/report.pdf", b"pdf");
    let da = c.ok(
        "b2_get_download_authorization",
        json!({"bucketId": b, "fileNamePrefix": "docs/", "validDurationInSeconds": 60,
               "b2ContentDisposition": "attachment; filename=\"r.pdf\""}),
    );
    let t = da["authorizationToken"].as_str().unwrap();
    // Without the pinned value: refused.
    assert_eq!(
        c.get("/file/share-pinned/docs/report.pdf", Some(t), None)
            .status,
        401
    );
    // A different value: refused.
    assert_eq!(
        c.get(
            "/file/share-pinned/docs/report.pdf?b2ContentDisposition=inline",
            Some(t),
            None
        )
        .status,
        401
    );
    // The same value: the answer carries it.
    let d = c.get(
        &format!(
            "/file/share-pinned/docs/report.pdf?Authorization={t}&b2ContentDisposition=attachment%3B%20filename%3D%22r.pdf%22&b2CacheControl=max-age%3D5"
        ),
        None,
        None,
    );
    assert_eq!(d.status, 200, "{}", String::from_utf8_lossy(&d.body));
    assert_eq!(
        d.header("content-disposition"),
        Some("attachment; filename=\"r.pdf\"")
    );
    assert_eq!(d.header("cache-control"), Some("max-age=5"));
    // Expiry on the clock.
    s.advance_clock(Duration::from_secs(61));
    let d = c.get(
        "/file/share-pinned/docs/report.pdf?b2ContentDisposition=attachment%3B%20filename%3D%22r.pdf%22",
        Some(t),
        None,
    );
    assert_eq!(d.status, 401);
}

#[test]
fn settings_statuses_and_lifecycle_with_a_data_dir() {
    let dir = std::env::temp_dir().join(format!("b2-sim-settings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let start = || Sim::builder().data_dir(&dir).start().expect("sim");
    let s = start();
    let c = Client::new(&s);
    let src = c.create_bucket("dd-repl-src", "allPrivate");
    let dst = c.create_bucket("dd-repl-dst", "allPrivate");
    let sk = key(&c, "rplsrc", &["readFiles"], &[&src]);
    let dk = key(&c, "rpldst", &["writeFiles"], &[&dst]);
    let mapping =
        json!({"asReplicationDestination": {"sourceToDestinationKeyMapping": {sk.clone(): dk}}});
    assert_eq!(
        update(&c, &dst, json!({"replicationConfiguration": mapping})).status,
        200
    );
    let a = update(
        &c,
        &src,
        json!({"replicationConfiguration": {"asReplicationSource": {"sourceApplicationKeyId": sk,
            "replicationRules": [{"destinationBucketId": dst, "fileNamePrefix": "", "includeExistingFiles": false,
            "isEnabled": true, "priority": 1, "replicationRuleName": "all"}]}},
            "lifecycleRules": [{"fileNamePrefix": "tmp/", "daysFromUploadingToHiding": 1}]}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let rules = json!([{"eventTypes": ["b2:ObjectCreated:*"], "isEnabled": true, "name": "r",
        "objectNamePrefix": "", "targetConfiguration": {"targetType": "webhook", "url": "https://h.example/"}}]);
    c.ok(
        "b2_set_bucket_notification_rules",
        json!({"bucketId": src, "eventNotificationRules": rules}),
    );
    let up = c.upload(&src, "tmp/a", b"kept on disk");
    assert_eq!(up["replicationStatus"], "pending");
    let info = c.ok("b2_get_file_info", json!({"fileId": up["fileId"]}));
    assert_eq!(info["replicationStatus"], "completed");
    // Lifecycle over the database: the file is hidden a day later.
    s.advance_clock(DAY + Duration::from_secs(1));
    let c = Client::new(&s);
    let v = versions(&c, &src);
    assert_eq!(v[0], ("tmp/a".to_string(), "hide".to_string()), "{v:?}");
    s.stop();

    let s = start();
    let c = Client::new(&s);
    let info = c.ok("b2_get_file_info", json!({"fileId": up["fileId"]}));
    assert_eq!(info["replicationStatus"], "completed");
    let replica = &c.ok("b2_list_file_names", json!({"bucketId": dst}))["files"][0];
    assert_eq!(replica["replicationStatus"], "replica");
    let b = &c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketId": src}),
    )["buckets"][0];
    assert_eq!(
        b["replicationConfiguration"]["value"]["asReplicationSource"]["replicationRules"][0]
            ["replicationRuleName"],
        "all"
    );
    assert_eq!(b["lifecycleRules"][0]["fileNamePrefix"], "tmp/");
    let got = c.ok("b2_get_bucket_notification_rules", json!({"bucketId": src}));
    assert_eq!(got["eventNotificationRules"][0]["name"], "r");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_name_prefix_without_buckets_covers_every_bucket() {
    let s = sim();
    let c = Client::new(&s);
    let b1 = c.create_bucket("prefix-all-one", "allPrivate");
    let b2 = c.create_bucket("prefix-all-two", "allPrivate");
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "pub-only", "namePrefix": "pub/",
               "capabilities": ["listBuckets", "listFiles", "writeFiles"]}),
    );
    assert_eq!(k["bucketIds"], Value::Null);
    let p = Client::with_key(
        s.url(),
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
        4,
    );
    for b in [&b1, &b2] {
        p.upload(b, "pub/a", b"ok");
        let (url, tok) = p.upload_url(b);
        let a = p.upload_with(
            &url,
            &tok,
            &[
                ("X-Bz-File-Name", "priv/a"),
                ("Content-Type", "a/b"),
                ("X-Bz-Content-Sha1", &sha1_hex(b"no")),
            ],
            b"no",
        );
        assert_eq!(a.status, 401, "outside the prefix in {b}");
    }
}

#[test]
fn tokens_of_an_expired_key_stop_working_on_the_clock() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("expiring-key", "allPrivate");
    c.upload(&b, "f", b"x");
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "brief", "validDurationInSeconds": 60,
               "capabilities": ["listBuckets", "listFiles", "readFiles"]}),
    );
    let (kid, secret) = (
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
    );
    let kc = Client::with_key(s.url(), kid, secret, 4);
    assert_eq!(
        kc.call("b2_list_file_names", json!({"bucketId": b})).status,
        200
    );
    assert_eq!(
        kc.get("/file/expiring-key/f", Some(&kc.token), None).status,
        200
    );
    s.advance_clock(Duration::from_secs(61));
    // The account token (valid 24 h on its own) dies with its key, for calls and downloads.
    let a = kc.call("b2_list_file_names", json!({"bucketId": b}));
    assert_eq!((a.status, a.code().as_str()), (401, "expired_auth_token"));
    assert_eq!(
        kc.get("/file/expiring-key/f", Some(&kc.token), None).status,
        401
    );
    assert_eq!(authorize_raw(s.url(), kid, secret, 4).status, 401);
}

#[test]
fn large_files_and_copies_are_replicated_too() {
    let s = Sim::builder().min_part_size(100).start().expect("sim");
    let c = Client::new(&s);
    let src = c.create_bucket("repl-large-src", "allPrivate");
    let dst = c.create_bucket("repl-large-dst", "allPrivate");
    let sk = key(&c, "rplsrc", &["readFiles"], &[&src]);
    let dk = key(&c, "rpldst", &["writeFiles"], &[&dst]);
    update(
        &c,
        &dst,
        json!({"replicationConfiguration": {"asReplicationDestination": {"sourceToDestinationKeyMapping": {sk.clone(): dk}}}}),
    );
    let a = update(
        &c,
        &src,
        json!({"replicationConfiguration": {"asReplicationSource": {"sourceApplicationKeyId": sk,
            "replicationRules": [{"destinationBucketId": dst, "fileNamePrefix": "", "includeExistingFiles": false,
            "isEnabled": true, "priority": 1, "replicationRuleName": "all"}]}}}),
    );
    assert_eq!(a.status, 200);
    let id = c.start_large(&src, "big");
    let (p1, p2) = (data(150, 1), data(20, 2));
    assert_eq!(c.upload_part(&id, 1, &p1).status, 200);
    assert_eq!(c.upload_part(&id, 2, &p2).status, 200);
    let done = c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": [sha1_hex(&p1), sha1_hex(&p2)]}),
    );
    assert_eq!(done["replicationStatus"], "pending");
    let copy = c.ok(
        "b2_copy_file",
        json!({"sourceFileId": id, "fileName": "big-copy"}),
    );
    assert_eq!(copy["replicationStatus"], "pending");
    c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    let mut whole = p1.clone();
    whole.extend_from_slice(&p2);
    assert_eq!(
        s.file_bytes("repl-large-dst", "big").as_deref(),
        Some(&whole[..])
    );
    assert_eq!(
        s.file_bytes("repl-large-dst", "big-copy").as_deref(),
        Some(&whole[..])
    );
    let replicas = c.ok("b2_list_file_names", json!({"bucketId": dst}));
    for f in replicas["files"].as_array().unwrap() {
        assert_eq!(f["replicationStatus"], "replica");
    }
    let big = &replicas["files"][0];
    assert_eq!(big["fileName"], "big");
    assert_eq!(
        big["contentSha1"], "none",
        "a large file stays a large file"
    );
    assert!(big["fileId"].as_str().unwrap().contains("_f2"));
    // Hide markers are not replicated.
    c.ok("b2_hide_file", json!({"bucketId": src, "fileName": "big"}));
    c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    assert!(s.file_bytes("repl-large-dst", "big").is_some());
}
