use serde_json::json;

use crate::common::*;

fn setup() -> (b2_sim::Sim, Client, String) {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("large-bucket", "allPrivate");
    (s, c, b)
}

#[test]
fn start_upload_finish_download() {
    let (s, c, b) = setup();
    let id = c.start_large(&b, "big/file.bin");
    assert_eq!(s.unfinished_large_files(), 1);
    let parts = [data(150, 1), data(120, 2), data(7, 3)];
    let mut shas = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let a = c.upload_part(&id, (i + 1) as u32, p);
        assert_eq!(a.status, 200, "{:?}", a.json());
        assert_eq!(a.json()["partNumber"], i + 1);
        assert_eq!(a.json()["contentSha1"], sha1_hex(p));
        shas.push(sha1_hex(p));
    }
    let lp = c.ok("b2_list_parts", json!({"fileId": id}));
    assert_eq!(lp["parts"].as_array().unwrap().len(), 3);
    assert!(lp["nextPartNumber"].is_null());
    let lp = c.ok("b2_list_parts", json!({"fileId": id, "maxPartCount": 2}));
    assert_eq!(lp["nextPartNumber"], 3);
    let lp = c.ok("b2_list_parts", json!({"fileId": id, "startPartNumber": 3}));
    assert_eq!(lp["parts"][0]["partNumber"], 3);

    // Not in list_file_names yet, but in versions as "start".
    let names = c.ok("b2_list_file_names", json!({"bucketId": b}));
    assert!(names["files"].as_array().unwrap().is_empty());
    let vers = c.ok("b2_list_file_versions", json!({"bucketId": b}));
    assert_eq!(vers["files"][0]["action"], "start");

    let f = c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas}),
    );
    assert_eq!(f["action"], "upload");
    assert_eq!(f["contentSha1"], "none");
    assert_eq!(f["contentLength"], 277);
    assert_eq!(s.unfinished_large_files(), 0);
    let all: Vec<u8> = parts.concat();
    assert_eq!(s.file_bytes("large-bucket", "big/file.bin").unwrap(), all);
    let d = c.get("/file/large-bucket/big/file.bin", Some(&c.token), None);
    assert_eq!(d.body, all);
    assert_eq!(d.header("x-bz-content-sha1"), Some("none"));
    let r = c.get(
        "/file/large-bucket/big/file.bin",
        Some(&c.token),
        Some("bytes=140-275"),
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, all[140..276].to_vec());
    // Finishing again fails: the file is finished.
    let a = c.call(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas}),
    );
    assert_eq!(a.status, 400);
    let info = c.ok("b2_get_file_info", json!({"fileId": id}));
    assert_eq!(info["action"], "upload");
}

#[test]
fn large_file_sha1_info_is_the_download_sha1() {
    let (_s, c, b) = setup();
    let parts = [data(100, 1), data(50, 2)];
    let whole = sha1_hex(&parts.concat());
    let v = c.ok(
        "b2_start_large_file",
        json!({"bucketId": b, "fileName": "x", "contentType": "b2/x-auto", "fileInfo": {"large_file_sha1": whole}}),
    );
    let id = v["fileId"].as_str().unwrap();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(c.upload_part(id, (i + 1) as u32, p).status, 200);
    }
    let shas: Vec<String> = parts.iter().map(|p| sha1_hex(p)).collect();
    c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas}),
    );
    let d = c.head("/file/large-bucket/x", Some(&c.token));
    assert_eq!(d.header("x-bz-content-sha1"), Some(whole.as_str()));
    assert_eq!(d.header("x-bz-info-large_file_sha1"), Some(whole.as_str()));
}

#[test]
fn finish_checks_parts() {
    let (_s, c, b) = setup();
    let id = c.start_large(&b, "checked");
    let (p1, p2, p3) = (data(200, 1), data(50, 2), data(200, 3));
    assert_eq!(c.upload_part(&id, 1, &p1).status, 200);
    assert_eq!(c.upload_part(&id, 3, &p3).status, 200);
    let shas = |v: &[&[u8]]| v.iter().map(|p| sha1_hex(p)).collect::<Vec<_>>();
    let a = c.call(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas(&[&p1, &p2, &p3])}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "missing_part"));
    assert_eq!(c.upload_part(&id, 2, &p2).status, 200);
    let a = c.call(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas(&[&p1, &p3, &p2])}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "part_sha1_mismatch"));
    let a = c.call(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas(&[&p1, &p2])}),
    );
    assert_eq!(a.status, 400, "part 3 exists but is not listed");
    let a = c.call(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas(&[&p1, &p2, &p3])}),
    );
    assert_eq!(a.status, 400, "part 2 is below the minimum size");
    // Re-sending a part replaces it.
    let p2b = data(150, 9);
    assert_eq!(c.upload_part(&id, 2, &p2b).status, 200);
    c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas(&[&p1, &p2b, &p3])}),
    );

    let id = c.start_large(&b, "single");
    assert_eq!(c.upload_part(&id, 1, &p1).status, 200);
    let a = c.call(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": shas(&[&p1])}),
    );
    assert_eq!(a.status, 400, "a large file needs two parts");
    let a = c.call(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": []}),
    );
    assert_eq!(a.status, 400);
}

#[test]
fn part_numbers_and_tokens() {
    let (_s, c, b) = setup();
    let id = c.start_large(&b, "numbers");
    assert_eq!(c.upload_part(&id, 0, b"x").status, 400);
    assert_eq!(c.upload_part(&id, 10_001, b"x").status, 400);
    assert_eq!(c.upload_part(&id, 10_000, b"x").status, 200);
    // hex_digits_at_end for parts.
    let (url, tok) = c.part_url(&id);
    let p = data(300, 4);
    let mut body = p.clone();
    body.extend_from_slice(sha1_hex(&p).as_bytes());
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-Part-Number", "1"),
            ("X-Bz-Content-Sha1", "hex_digits_at_end"),
        ],
        &body,
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["contentLength"], 300);
    // A part URL belongs to its file.
    let other = c.start_large(&b, "other");
    let (url2, _) = c.part_url(&other);
    let a = c.upload_with(
        &url2,
        &tok,
        &[
            ("X-Bz-Part-Number", "1"),
            ("X-Bz-Content-Sha1", &sha1_hex(&p)),
        ],
        &p,
    );
    assert_eq!(a.status, 401);
    // Upload URLs of small files are not part URLs.
    let a = c.call("b2_get_upload_part_url", json!({"fileId": "nope"}));
    assert_eq!(a.status, 400);
}

#[test]
fn cancel_and_list_unfinished() {
    let (s, c, b) = setup();
    let a = c.start_large(&b, "u/a");
    let bb = c.start_large(&b, "u/b");
    let _z = c.start_large(&b, "z");
    assert_eq!(c.upload_part(&a, 1, &data(200, 1)).status, 200);
    let l = c.ok("b2_list_unfinished_large_files", json!({"bucketId": b}));
    assert_eq!(l["files"].as_array().unwrap().len(), 3);
    let l = c.ok(
        "b2_list_unfinished_large_files",
        json!({"bucketId": b, "namePrefix": "u/", "maxFileCount": 1}),
    );
    assert_eq!(l["files"].as_array().unwrap().len(), 1);
    assert_eq!(l["files"][0]["fileName"], "u/a");
    assert_eq!(l["nextFileId"], bb);
    let l = c.ok(
        "b2_list_unfinished_large_files",
        json!({"bucketId": b, "namePrefix": "u/", "startFileId": bb}),
    );
    assert_eq!(l["files"].as_array().unwrap().len(), 1);
    assert!(l["nextFileId"].is_null());
    let a2 = c.call(
        "b2_list_unfinished_large_files",
        json!({"bucketId": b, "maxFileCount": 101}),
    );
    assert_eq!(a2.status, 400);

    let v = c.ok("b2_cancel_large_file", json!({"fileId": a}));
    assert_eq!(v["fileName"], "u/a");
    assert_eq!(s.unfinished_large_files(), 2);
    let r = c.call("b2_cancel_large_file", json!({"fileId": a}));
    assert_eq!(r.status, 400);
    let r = c.call("b2_list_parts", json!({"fileId": a}));
    assert_eq!(r.status, 400);
}

#[test]
fn copy_part_with_range() {
    let (s, c, b) = setup();
    let src = data(1000, 7);
    let f = c.upload(&b, "source", &src);
    let sid = f["fileId"].as_str().unwrap();
    let id = c.start_large(&b, "assembled");
    let p1 = c.ok(
        "b2_copy_part",
        json!({"sourceFileId": sid, "largeFileId": id, "partNumber": 1, "range": "bytes=0-499"}),
    );
    assert_eq!(p1["contentLength"], 500);
    assert_eq!(p1["contentSha1"], sha1_hex(&src[..500]));
    let p2 = c.ok(
        "b2_copy_part",
        json!({"sourceFileId": sid, "largeFileId": id, "partNumber": 2}),
    );
    let a = c.call(
        "b2_copy_part",
        json!({"sourceFileId": sid, "largeFileId": id, "partNumber": 3, "range": "bytes=2000-3000"}),
    );
    assert_eq!(a.status, 400);
    c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": [p1["contentSha1"], p2["contentSha1"]]}),
    );
    let mut want = src[..500].to_vec();
    want.extend_from_slice(&src);
    assert_eq!(s.file_bytes("large-bucket", "assembled").unwrap(), want);
}

/// B2 copies only within one account: a destination bucket, a source file or a large file
/// of another account is refused, for `b2_copy_file` and `b2_copy_part` alike; a missing
/// source is refused too, and nothing is stored.
#[test]
fn copies_stay_inside_one_account() {
    let (s, c, b) = setup();
    let src = c.upload(&b, "source", &data(300, 9));
    let sid = src["fileId"].as_str().unwrap().to_string();
    let (id2, key2) = s.create_account();
    let other = Client::with_key(s.url(), &id2, &key2, 4);
    let ob = other.create_bucket("other-account-bucket", "allPrivate");
    let osrc = other.upload(&ob, "theirs", &data(300, 4));
    // Into a bucket of another account.
    let a = c.call(
        "b2_copy_file",
        json!({"sourceFileId": sid, "fileName": "x", "destinationBucketId": ob}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "bad_bucket_id"));
    // From a file of another account, into one's own bucket.
    let a = other.call(
        "b2_copy_file",
        json!({"sourceFileId": sid, "fileName": "x", "destinationBucketId": ob}),
    );
    assert_eq!(a.status, 400);
    let lid = c.start_large(&b, "assembled");
    let a = c.call(
        "b2_copy_part",
        json!({"sourceFileId": osrc["fileId"], "largeFileId": lid, "partNumber": 1}),
    );
    assert_eq!(a.status, 400, "a source of another account");
    let a = other.call(
        "b2_copy_part",
        json!({"sourceFileId": osrc["fileId"], "largeFileId": lid, "partNumber": 1}),
    );
    assert_eq!(a.status, 400, "a large file of another account");
    let a = c.call(
        "b2_copy_part",
        json!({"sourceFileId": "4_zmissing", "largeFileId": lid, "partNumber": 1}),
    );
    assert_eq!(a.status, 400, "a missing source");
    let a = c.call(
        "b2_copy_part",
        json!({"sourceFileId": sid, "largeFileId": lid, "partNumber": 1, "range": "bytes=300-400"}),
    );
    assert_eq!(a.status, 400, "a range starting past the source's end");
    let parts = c.ok("b2_list_parts", json!({"fileId": lid}));
    assert_eq!(parts["parts"].as_array().map(Vec::len), Some(0));
    assert!(s.file_bytes("other-account-bucket", "x").is_none());
    assert!(s.file_bytes("large-bucket", "x").is_none());
}
