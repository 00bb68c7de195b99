use serde_json::{json, Value};

use crate::common::*;

fn names(v: &Value) -> Vec<String> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileName"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn names_versions_hide_delete() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("list-bucket", "allPrivate");
    let v1 = c.upload(&b, "a", b"one");
    let v2 = c.upload(&b, "a", b"two");
    c.upload(&b, "b", b"bee");
    let l = c.ok("b2_list_file_names", json!({"bucketId": b}));
    assert_eq!(names(&l), ["a", "b"]);
    assert_eq!(l["files"][0]["fileId"], v2["fileId"]);
    let l = c.ok("b2_list_file_versions", json!({"bucketId": b}));
    assert_eq!(names(&l), ["a", "a", "b"]);
    assert_eq!(l["files"][0]["fileId"], v2["fileId"], "newest first");
    assert_eq!(l["files"][1]["fileId"], v1["fileId"]);

    let h = c.ok("b2_hide_file", json!({"bucketId": b, "fileName": "a"}));
    assert_eq!(h["action"], "hide");
    let a = c.call("b2_hide_file", json!({"bucketId": b, "fileName": "a"}));
    assert_eq!((a.status, a.code().as_str()), (400, "already_hidden"));
    let a = c.call("b2_hide_file", json!({"bucketId": b, "fileName": "zzz"}));
    assert_eq!((a.status, a.code().as_str()), (400, "no_such_file"));
    let l = c.ok("b2_list_file_names", json!({"bucketId": b}));
    assert_eq!(names(&l), ["b"]);
    assert_eq!(s.file_bytes("list-bucket", "a"), None);
    let l = c.ok("b2_list_file_versions", json!({"bucketId": b}));
    assert_eq!(l["files"][0]["action"], "hide");
    assert_eq!(l["files"].as_array().unwrap().len(), 4);

    // Deleting the hide marker brings back v2.
    let a = c.call(
        "b2_delete_file_version",
        json!({"fileName": "wrong", "fileId": h["fileId"]}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "file_not_present"));
    c.ok(
        "b2_delete_file_version",
        json!({"fileName": "a", "fileId": h["fileId"]}),
    );
    assert_eq!(s.file_bytes("list-bucket", "a").unwrap(), b"two");
    c.ok(
        "b2_delete_file_version",
        json!({"fileName": "a", "fileId": v2["fileId"]}),
    );
    assert_eq!(s.file_bytes("list-bucket", "a").unwrap(), b"one");
    let a = c.call(
        "b2_delete_file_version",
        json!({"fileName": "a", "fileId": v2["fileId"]}),
    );
    assert_eq!(a.status, 400);

    let info = c.ok("b2_get_file_info", json!({"fileId": v1["fileId"]}));
    assert_eq!(info["fileName"], "a");
    assert_eq!(info["contentSha1"], sha1_hex(b"one"));
    let a = c.call("b2_get_file_info", json!({"fileId": "nope"}));
    assert_eq!(a.status, 400);
}

#[test]
fn prefix_delimiter_and_pages() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("tree-bucket", "allPrivate");
    for n in ["a.txt", "dir/x", "dir/y", "dir/sub/z", "dir2/q", "e"] {
        c.upload(&b, n, n.as_bytes());
    }
    let l = c.ok(
        "b2_list_file_names",
        json!({"bucketId": b, "delimiter": "/"}),
    );
    assert_eq!(names(&l), ["a.txt", "dir/", "dir2/", "e"]);
    assert_eq!(l["files"][1]["action"], "folder");
    let l = c.ok(
        "b2_list_file_names",
        json!({"bucketId": b, "delimiter": "/", "prefix": "dir/"}),
    );
    assert_eq!(names(&l), ["dir/sub/", "dir/x", "dir/y"]);
    let l = c.ok(
        "b2_list_file_names",
        json!({"bucketId": b, "prefix": "dir/"}),
    );
    assert_eq!(names(&l), ["dir/sub/z", "dir/x", "dir/y"]);
    let l = c.ok(
        "b2_list_file_versions",
        json!({"bucketId": b, "delimiter": "/"}),
    );
    assert_eq!(names(&l), ["a.txt", "dir/", "dir2/", "e"]);

    // Pages of 2, with and without the delimiter.
    for delim in [None, Some("/")] {
        let mut all = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut args = json!({"bucketId": b, "maxFileCount": 2});
            if let Some(d) = delim {
                args["delimiter"] = json!(d);
            }
            if let Some(st) = &start {
                args["startFileName"] = json!(st);
            }
            let l = c.ok("b2_list_file_names", args);
            let page = names(&l);
            assert!(page.len() <= 2);
            all.extend(page);
            match l["nextFileName"].as_str() {
                Some(n) => start = Some(n.to_string()),
                None => break,
            }
        }
        let whole = {
            let mut args = json!({"bucketId": b});
            if let Some(d) = delim {
                args["delimiter"] = json!(d);
            }
            names(&c.ok("b2_list_file_names", args))
        };
        assert_eq!(all, whole, "delimiter {delim:?}");
    }
}

#[test]
fn version_pages_with_start_file_id() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("version-pages", "allPrivate");
    for i in 0..3 {
        c.upload(&b, "same", format!("v{i}").as_bytes());
    }
    c.upload(&b, "tail", b"t");
    let whole = c.ok("b2_list_file_versions", json!({"bucketId": b}));
    let ids: Vec<Value> = whole["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileId"].clone())
        .collect();
    let mut got = Vec::new();
    let mut args = json!({"bucketId": b, "maxFileCount": 1});
    loop {
        let l = c.ok("b2_list_file_versions", args.clone());
        got.extend(
            l["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["fileId"].clone()),
        );
        if l["nextFileName"].is_null() {
            break;
        }
        args["startFileName"] = l["nextFileName"].clone();
        args["startFileId"] = l["nextFileId"].clone();
    }
    assert_eq!(got, ids);
}

#[test]
fn max_file_count_limits() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("count-bucket", "allPrivate");
    for i in 0..105 {
        c.upload(&b, &format!("f{i:03}"), b"x");
    }
    let l = c.ok("b2_list_file_names", json!({"bucketId": b}));
    assert_eq!(l["files"].as_array().unwrap().len(), 100, "default 100");
    assert_eq!(l["nextFileName"], "f100");
    let l = c.ok(
        "b2_list_file_names",
        json!({"bucketId": b, "maxFileCount": 10000}),
    );
    assert_eq!(l["files"].as_array().unwrap().len(), 105);
    for bad in [0, 10001] {
        let a = c.call(
            "b2_list_file_names",
            json!({"bucketId": b, "maxFileCount": bad}),
        );
        assert_eq!(a.status, 400);
        let a = c.call(
            "b2_list_file_versions",
            json!({"bucketId": b, "maxFileCount": bad}),
        );
        assert_eq!(a.status, 400);
    }
    let a = c.call("b2_list_file_names", json!({"bucketId": "nope"}));
    assert_eq!((a.status, a.code().as_str()), (400, "bad_bucket_id"));
}

#[test]
fn copy_file_directives_and_ranges() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("copy-bucket", "allPrivate");
    let b2 = c.create_bucket("copy-dest", "allPrivate");
    let src = data(1000, 5);
    let (url, tok) = c.upload_url(&b);
    let sha = sha1_hex(&src);
    let up = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "src"),
            ("Content-Type", "text/x-src"),
            ("X-Bz-Content-Sha1", &sha),
            ("X-Bz-Info-k", "v"),
        ],
        &src,
    );
    let sid = up.json()["fileId"].clone();
    let v = c.ok(
        "b2_copy_file",
        json!({"sourceFileId": sid, "fileName": "copy1"}),
    );
    assert_eq!(v["contentType"], "text/x-src");
    assert_eq!(v["fileInfo"]["k"], "v");
    assert_eq!(v["contentSha1"], sha);
    assert_eq!(s.file_bytes("copy-bucket", "copy1").unwrap(), src);
    let v = c.ok(
        "b2_copy_file",
        json!({"sourceFileId": sid, "fileName": "copy2", "range": "bytes=10-19",
               "metadataDirective": "REPLACE", "contentType": "a/b", "fileInfo": {"n": "m"},
               "destinationBucketId": b2}),
    );
    assert_eq!(v["contentType"], "a/b");
    assert_eq!(v["fileInfo"], json!({"n": "m"}));
    assert_eq!(v["contentLength"], 10);
    assert_eq!(v["contentSha1"], sha1_hex(&src[10..20]));
    assert_eq!(v["bucketId"], b2);
    assert_eq!(
        s.file_bytes("copy-dest", "copy2").unwrap(),
        src[10..20].to_vec()
    );
    let a = c.call(
        "b2_copy_file",
        json!({"sourceFileId": sid, "fileName": "x", "metadataDirective": "COPY", "contentType": "a/b"}),
    );
    assert_eq!(a.status, 400);
    let a = c.call(
        "b2_copy_file",
        json!({"sourceFileId": sid, "fileName": "x", "metadataDirective": "REPLACE"}),
    );
    assert_eq!(a.status, 400);
    let a = c.call(
        "b2_copy_file",
        json!({"sourceFileId": sid, "fileName": "x", "range": "bytes=5000-6000"}),
    );
    assert_eq!(a.status, 400);
    let a = c.call(
        "b2_copy_file",
        json!({"sourceFileId": "nope", "fileName": "x"}),
    );
    assert_eq!(a.status, 400);
}

/// `/b2api/v1` listings also give each entry's length as `size` (B2's v1 field, which
/// rclone's B2 backend reads); v2 and later give only `contentLength`.
#[test]
fn v1_listings_carry_size() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("size-bucket", "allPrivate");
    c.upload(&b, "dir/a", b"three");
    c.upload(&b, "b", b"four!");
    c.ok("b2_hide_file", json!({"bucketId": b, "fileName": "b"}));
    let (id, key) = s.master_key();
    let v1 = Client::with_key(s.url(), id, key, 1);
    for call in ["b2_list_file_names", "b2_list_file_versions"] {
        let l = v1.ok(call, json!({"bucketId": b}));
        for f in l["files"].as_array().unwrap() {
            assert_eq!(f["size"], f["contentLength"], "{call}: {f}");
        }
        let a = &l["files"].as_array().unwrap().last().unwrap();
        assert_eq!(
            (a["fileName"].as_str(), a["size"].as_u64()),
            (Some("dir/a"), Some(5))
        );
        let l = v1.ok(call, json!({"bucketId": b, "delimiter": "/"}));
        let dir = l["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["action"] == "folder");
        assert_eq!(dir.unwrap()["size"], 0, "{call}: folders too");
        for ver in [2, 3, 4] {
            let c = Client::with_key(s.url(), id, key, ver);
            let l = c.ok(call, json!({"bucketId": b}));
            assert!(l["files"][0].get("size").is_none(), "v{ver} {call}");
            assert!(l["files"][0]["contentLength"].is_u64(), "v{ver} {call}");
        }
    }
}
