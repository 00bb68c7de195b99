use serde_json::json;

use crate::common::*;

#[test]
fn by_name_and_by_id_with_headers() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("dl-bucket", "allPrivate");
    let body = data(1000, 2);
    let sha = sha1_hex(&body);
    let (url, tok) = c.upload_url(&b);
    let up = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "dir/h%C3%A9llo%20w.txt"),
            ("Content-Type", "text/plain"),
            ("X-Bz-Content-Sha1", &sha),
            ("X-Bz-Info-note", "a%20b"),
            ("X-Bz-Info-b2-content-disposition", "attachment"),
            ("X-Bz-Info-b2-cache-control", "max-age=3"),
        ],
        &body,
    );
    assert_eq!(up.status, 200);
    let id = up.json()["fileId"].as_str().unwrap().to_string();
    let path = "/file/dl-bucket/dir/h%C3%A9llo%20w.txt";
    let d = c.get(path, Some(&c.token), None);
    assert_eq!(d.status, 200);
    assert_eq!(d.body, body);
    assert_eq!(d.header("content-length"), Some("1000"));
    assert_eq!(d.header("content-type"), Some("text/plain"));
    assert_eq!(d.header("x-bz-file-id"), Some(id.as_str()));
    assert_eq!(d.header("x-bz-file-name"), Some("dir/h%C3%A9llo%20w.txt"));
    assert_eq!(d.header("x-bz-content-sha1"), Some(sha.as_str()));
    assert_eq!(d.header("x-bz-info-note"), Some("a%20b"));
    assert_eq!(d.header("content-disposition"), Some("attachment"));
    assert_eq!(d.header("cache-control"), Some("max-age=3"));
    assert_eq!(d.header("accept-ranges"), Some("bytes"));
    assert!(d
        .header("x-bz-upload-timestamp")
        .unwrap()
        .parse::<u64>()
        .is_ok());

    let d = c.get(
        &format!("/b2api/v4/b2_download_file_by_id?fileId={id}"),
        Some(&c.token),
        None,
    );
    assert_eq!(d.status, 200);
    assert_eq!(d.body, body);
    let d = c.get(
        &format!("/b2api/v2/b2_download_file_by_id?fileId={id}"),
        Some(&c.token),
        None,
    );
    assert_eq!(d.status, 200, "older versions work too");

    let h = c.head(path, Some(&c.token));
    assert_eq!(h.status, 200);
    assert!(h.body.is_empty());
    assert_eq!(h.header("content-length"), Some("1000"));
    assert_eq!(h.header("x-bz-content-sha1"), Some(sha.as_str()));
    let h = c.head(
        &format!("/b2api/v4/b2_download_file_by_id?fileId={id}"),
        Some(&c.token),
    );
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-length"), Some("1000"));

    assert_eq!(
        c.get("/file/dl-bucket/nope", Some(&c.token), None).status,
        404
    );
    assert_eq!(
        c.get("/file/no-such-bucket/x", Some(&c.token), None).status,
        404
    );
    assert_eq!(c.head("/file/dl-bucket/nope", Some(&c.token)).status, 404);
    assert_eq!(
        c.get(
            "/b2api/v4/b2_download_file_by_id?fileId=nope",
            Some(&c.token),
            None
        )
        .status,
        404
    );
}

#[test]
fn ranges() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("range-bucket", "allPublic");
    let body = data(100, 4);
    c.upload(&b, "r", &body);
    let r = c.get("/file/range-bucket/r", None, Some("bytes=10-19"));
    assert_eq!(r.status, 206);
    assert_eq!(r.body, body[10..20].to_vec());
    assert_eq!(r.header("content-range"), Some("bytes 10-19/100"));
    assert_eq!(r.header("content-length"), Some("10"));
    let r = c.get("/file/range-bucket/r", None, Some("bytes=-5"));
    assert_eq!(r.body, body[95..].to_vec());
    let r = c.get("/file/range-bucket/r", None, Some("bytes=90-"));
    assert_eq!(r.body, body[90..].to_vec());
    let r = c.get("/file/range-bucket/r", None, Some("bytes=90-500"));
    assert_eq!((r.status, r.body.len()), (206, 10));
    let r = c.get("/file/range-bucket/r", None, Some("bytes=100-200"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (416, "range_not_satisfiable")
    );
    assert_eq!(r.header("content-range"), Some("bytes */100"));
    let r = c.get("/file/range-bucket/r", None, Some("bytes=50-10"));
    assert_eq!(r.status, 416);
}

#[test]
fn private_buckets_and_download_authorization() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("private-dl", "allPrivate");
    let f = c.upload(&b, "docs/a", b"secret");
    c.upload(&b, "other/b", b"other");
    let id = f["fileId"].as_str().unwrap();
    assert_eq!(c.get("/file/private-dl/docs/a", None, None).status, 401);
    assert_eq!(
        c.get(
            &format!("/b2api/v4/b2_download_file_by_id?fileId={id}"),
            None,
            None
        )
        .status,
        401
    );
    let d = c.get(
        &format!("/file/private-dl/docs/a?Authorization={}", c.token),
        None,
        None,
    );
    assert_eq!((d.status, d.body.as_slice()), (200, &b"secret"[..]));

    let da = c.ok(
        "b2_get_download_authorization",
        json!({"bucketId": b, "fileNamePrefix": "docs/", "validDurationInSeconds": 60}),
    );
    let t = da["authorizationToken"].as_str().unwrap();
    assert_eq!(c.get("/file/private-dl/docs/a", Some(t), None).status, 200);
    assert_eq!(
        c.get(
            &format!("/file/private-dl/docs/a?Authorization={t}"),
            None,
            None
        )
        .status,
        200
    );
    assert_eq!(c.get("/file/private-dl/other/b", Some(t), None).status, 401);
    assert_eq!(
        c.get(
            &format!("/b2api/v4/b2_download_file_by_id?fileId={id}"),
            Some(t),
            None
        )
        .status,
        401,
        "download authorizations work by name only"
    );
    for bad in [0, 604_801] {
        let a = c.call(
            "b2_get_download_authorization",
            json!({"bucketId": b, "fileNamePrefix": "", "validDurationInSeconds": bad}),
        );
        assert_eq!(a.status, 400);
    }
    // A key without readFiles cannot download.
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "lister", "capabilities": ["listFiles"]}),
    );
    let l = Client::with_key(
        s.url(),
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
        4,
    );
    assert_eq!(
        c.get("/file/private-dl/docs/a", Some(&l.token), None)
            .status,
        401
    );
    // Public buckets need nothing.
    let pb = c.create_bucket("public-dl", "allPublic");
    c.upload(&pb, "p", b"pub");
    assert_eq!(c.get("/file/public-dl/p", None, None).body, b"pub");
}

#[test]
fn hidden_and_old_versions() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("hidden-dl", "allPublic");
    let v1 = c.upload(&b, "h", b"old");
    c.ok("b2_hide_file", json!({"bucketId": b, "fileName": "h"}));
    assert_eq!(c.get("/file/hidden-dl/h", None, None).status, 404);
    let id = v1["fileId"].as_str().unwrap();
    let d = c.get(
        &format!("/b2api/v4/b2_download_file_by_id?fileId={id}"),
        None,
        None,
    );
    assert_eq!(d.body, b"old");
    // query overrides: B2 needs an authorization token with them, even in a public bucket
    c.upload(&b, "q", b"q");
    let d = c.get("/file/hidden-dl/q?b2ContentDisposition=inline", None, None);
    assert_eq!(d.status, 401);
    let d = c.get(
        "/file/hidden-dl/q?b2ContentDisposition=inline",
        Some(&c.token),
        None,
    );
    assert_eq!(d.header("content-disposition"), Some("inline"));
}

#[test]
fn plus_and_space_in_paths() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("plus-bucket", "allPublic");
    let (url, tok) = c.upload_url(&b);
    let sha = sha1_hex(b"p");
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "a%2Bb c"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", &sha),
        ],
        b"p",
    );
    assert_eq!(a.json()["fileName"], "a+b c");
    assert_eq!(c.get("/file/plus-bucket/a%2Bb%20c", None, None).status, 200);
    assert_eq!(
        c.get("/file/plus-bucket/a%2Bb+c", None, None).status,
        200,
        "+ is a space"
    );
    assert_eq!(
        c.get("/file/plus-bucket/a+b%20c", None, None).status,
        404,
        "+ is not a plus"
    );
    let d = c.get("/file/plus-bucket/a%2Bb%20c", None, None);
    assert_eq!(d.header("x-bz-file-name"), Some("a%2Bb%20c"));
}
