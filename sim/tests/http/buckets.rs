use serde_json::json;

use crate::common::*;

#[test]
fn create_list_update_delete() {
    let s = sim();
    let c = Client::new(&s);
    let v = c.ok(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": "bucket-one", "bucketType": "allPrivate",
               "bucketInfo": {"color": "blue"}}),
    );
    let id = v["bucketId"].as_str().unwrap().to_string();
    assert_eq!(v["revision"], 1);
    assert_eq!(v["bucketInfo"]["color"], "blue");
    for k in [
        "accountId",
        "bucketType",
        "corsRules",
        "lifecycleRules",
        "options",
        "defaultServerSideEncryption",
        "fileLockConfiguration",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    c.create_bucket("bucket-two", "allPublic");
    let l = c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!(l["buckets"].as_array().unwrap().len(), 2);
    let l = c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketTypes": ["allPublic"]}),
    );
    assert_eq!(l["buckets"][0]["bucketName"], "bucket-two");
    let l = c.ok(
        "b2_list_buckets",
        json!({"accountId": c.account_id, "bucketName": "bucket-one"}),
    );
    assert_eq!(l["buckets"][0]["bucketId"], id);

    let u = c.ok(
        "b2_update_bucket",
        json!({"accountId": c.account_id, "bucketId": id, "bucketType": "allPublic", "ifRevisionIs": 1}),
    );
    assert_eq!(u["revision"], 2);
    assert_eq!(u["bucketType"], "allPublic");
    let a = c.call(
        "b2_update_bucket",
        json!({"accountId": c.account_id, "bucketId": id, "bucketType": "allPrivate", "ifRevisionIs": 1}),
    );
    assert_eq!((a.status, a.code().as_str()), (409, "conflict"));
    let a = c.call(
        "b2_update_bucket",
        json!({"accountId": c.account_id, "bucketId": id, "bucketType": "weird"}),
    );
    assert_eq!(a.status, 400);

    c.upload(&id, "f", b"data");
    let a = c.call(
        "b2_delete_bucket",
        json!({"accountId": c.account_id, "bucketId": id}),
    );
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "cannot_delete_non_empty_bucket")
    );
    let files = c.ok("b2_list_file_versions", json!({"bucketId": id}));
    let f = &files["files"][0];
    c.ok(
        "b2_delete_file_version",
        json!({"fileName": f["fileName"], "fileId": f["fileId"]}),
    );
    let d = c.ok(
        "b2_delete_bucket",
        json!({"accountId": c.account_id, "bucketId": id}),
    );
    assert_eq!(d["bucketName"], "bucket-one");
    let a = c.call(
        "b2_delete_bucket",
        json!({"accountId": c.account_id, "bucketId": id}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_bucket_id"));
    let l = c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    assert_eq!(l["buckets"].as_array().unwrap().len(), 1);
}

#[test]
fn names_types_and_uniqueness() {
    let s = sim();
    let c = Client::new(&s);
    for bad in [
        "short",
        "has_underscore",
        "b2-reserved",
        &"x".repeat(64),
        "spa ce-name",
    ] {
        let a = c.call(
            "b2_create_bucket",
            json!({"accountId": c.account_id, "bucketName": bad, "bucketType": "allPrivate"}),
        );
        assert_eq!(a.status, 400, "{bad}");
    }
    let a = c.call(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": "good-name", "bucketType": "snapshot"}),
    );
    assert_eq!(a.status, 400);
    c.create_bucket("good-name", "allPrivate");
    let a = c.call(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": "good-name", "bucketType": "allPrivate"}),
    );
    assert_eq!(
        (a.status, a.code().as_str()),
        (400, "duplicate_bucket_name")
    );
}

#[test]
fn too_many_buckets() {
    let s = sim();
    let c = Client::new(&s);
    for i in 0..100 {
        c.create_bucket(&format!("many-bucket-{i:03}"), "allPrivate");
    }
    let a = c.call(
        "b2_create_bucket",
        json!({"accountId": c.account_id, "bucketName": "one-too-many", "bucketType": "allPrivate"}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "too_many_buckets"));
}
