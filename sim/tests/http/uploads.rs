use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;

use crate::common::*;

fn setup() -> (b2_sim::Sim, Client, String) {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("upload-bucket", "allPrivate");
    (s, c, b)
}

#[test]
fn sha1_in_three_forms() {
    let (s, c, b) = setup();
    let body = data(1000, 1);
    let sha = sha1_hex(&body);
    let (url, tok) = c.upload_url(&b);
    let h = |sha: &str| {
        vec![
            ("X-Bz-File-Name".to_string(), "f.bin".to_string()),
            (
                "Content-Type".to_string(),
                "application/octet-stream".to_string(),
            ),
            ("X-Bz-Content-Sha1".to_string(), sha.to_string()),
        ]
    };
    let send = |hdrs: Vec<(String, String)>, body: &[u8]| {
        let refs: Vec<(&str, &str)> = hdrs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        c.upload_with(&url, &tok, &refs, body)
    };
    let a = send(h(&sha), &body);
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["contentSha1"], sha);
    assert_eq!(a.json()["contentLength"], 1000);
    assert_eq!(a.json()["action"], "upload");
    let a = send(h(&sha.to_uppercase()), &body);
    assert_eq!(a.status, 200, "upper-case hex is fine");

    let a = send(h(&sha1_hex(b"other")), &body);
    assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));

    let mut at_end = body.clone();
    at_end.extend_from_slice(sha.as_bytes());
    let a = send(h("hex_digits_at_end"), &at_end);
    assert_eq!(a.status, 200, "{:?}", a.json());
    assert_eq!(a.json()["contentLength"], 1000);
    assert_eq!(a.json()["contentSha1"], sha);
    assert_eq!(s.file_bytes("upload-bucket", "f.bin").unwrap(), body);

    let mut bad_end = body.clone();
    bad_end.extend_from_slice(sha1_hex(b"x").as_bytes());
    assert_eq!(send(h("hex_digits_at_end"), &bad_end).status, 400);
    assert_eq!(send(h("hex_digits_at_end"), b"short").status, 400);

    let a = send(h("do_not_verify"), &body);
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["contentSha1"], format!("unverified:{sha}"));

    assert_eq!(send(h("xyz"), &body).status, 400);
    let mut no_sha = h(&sha);
    no_sha.pop();
    assert_eq!(send(no_sha, &body).status, 400);
    assert_eq!(s.stats().uploads, 4);
    // Of which one had its SHA-1 after the body (the failed ones do not count).
    assert_eq!(s.stats().uploads_sha1_at_end, 1);
}

#[test]
fn content_length_is_required() {
    let (_s, c, b) = setup();
    let (url, tok) = c.upload_url(&b);
    let body = b"chunked body".to_vec();
    let sha = sha1_hex(&body);
    let a = answer(
        c.agent
            .post(&url)
            .header("Authorization", &tok)
            .header("X-Bz-File-Name", "chunked")
            .header("Content-Type", "text/plain")
            .header("X-Bz-Content-Sha1", &sha)
            .send(ureq::SendBody::from_reader(&mut &body[..])),
    );
    assert_eq!((a.status, a.code().as_str()), (411, "length_required"));
}

#[test]
fn names_are_decoded_and_checked() {
    let (s, c, b) = setup();
    let (url, tok) = c.upload_url(&b);
    let sha = sha1_hex(b"x");
    let up = |name: &str| {
        c.upload_with(
            &url,
            &tok,
            &[
                ("X-Bz-File-Name", name),
                ("Content-Type", "text/plain"),
                ("X-Bz-Content-Sha1", &sha),
            ],
            b"x",
        )
    };
    let a = up("dir/a%20b%2Bc+d%C3%A9");
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["fileName"], "dir/a b+c dé");
    assert!(s.file_bytes("upload-bucket", "dir/a b+c dé").is_some());
    for bad in ["%zz", "a%01b", "a%7Fb", "%C3", ""] {
        let a = up(bad);
        assert_eq!(a.status, 400, "{bad:?}");
    }
    assert_eq!(up(&"n".repeat(1024)).status, 200);
    assert_eq!(up(&"n".repeat(1025)).status, 400);
    let a = c.upload_with(
        &url,
        &tok,
        &[("Content-Type", "text/plain"), ("X-Bz-Content-Sha1", &sha)],
        b"x",
    );
    assert_eq!(a.status, 400, "missing file name");
}

#[test]
fn file_info_and_auto_content_type() {
    let (_s, c, b) = setup();
    let (url, tok) = c.upload_url(&b);
    let sha = sha1_hex(b"x");
    let base = [
        ("X-Bz-File-Name", "doc.txt"),
        ("Content-Type", "b2/x-auto"),
        ("X-Bz-Content-Sha1", sha.as_str()),
    ];
    let mut h = base.to_vec();
    h.push(("X-Bz-Info-Color", "red%20blue"));
    h.push(("X-Bz-Info-src_last_modified_millis", "1700000000000"));
    h.push(("X-Bz-Info-b2-content-disposition", "attachment"));
    let a = c.upload_with(&url, &tok, &h, b"x");
    assert_eq!(a.status, 200, "{:?}", a.json());
    let v = a.json();
    assert_eq!(v["contentType"], "text/plain");
    assert_eq!(v["fileInfo"]["color"], "red blue");
    assert_eq!(v["fileInfo"]["src_last_modified_millis"], "1700000000000");
    assert_eq!(v["fileInfo"]["b2-content-disposition"], "attachment");

    let names: Vec<String> = (0..11).map(|i| format!("X-Bz-Info-k{i}")).collect();
    let mut h = base.to_vec();
    for n in &names {
        h.push((n.as_str(), "v"));
    }
    assert_eq!(c.upload_with(&url, &tok, &h, b"x").status, 400, "11 infos");
    h.pop();
    assert_eq!(c.upload_with(&url, &tok, &h, b"x").status, 200, "10 infos");

    let mut h = base.to_vec();
    h.push(("X-Bz-Info-b2-secret", "v"));
    assert_eq!(
        c.upload_with(&url, &tok, &h, b"x").status,
        400,
        "reserved b2-"
    );
    let big = "v".repeat(7000);
    let mut h = base.to_vec();
    h.push(("X-Bz-Info-big", big.as_str()));
    assert_eq!(
        c.upload_with(&url, &tok, &h, b"x").status,
        400,
        "7000 bytes"
    );
    let long = format!("X-Bz-Info-{}", "k".repeat(51));
    let mut h = base.to_vec();
    h.push((long.as_str(), "v"));
    assert_eq!(c.upload_with(&url, &tok, &h, b"x").status, 400, "long key");
}

#[test]
fn upload_tokens_are_checked() {
    let (_s, c, b) = setup();
    let (url, tok) = c.upload_url(&b);
    let sha = sha1_hex(b"x");
    let h = [
        ("X-Bz-File-Name", "f"),
        ("Content-Type", "text/plain"),
        ("X-Bz-Content-Sha1", sha.as_str()),
    ];
    let a = c.upload_with(&url, "wrong", &h, b"x");
    assert_eq!((a.status, a.code().as_str()), (401, "bad_auth_token"));
    let a = c.upload_with(&url, &c.token, &h, b"x");
    assert_eq!(a.status, 401, "an account token is not an upload token");
    let b2 = c.create_bucket("upload-bucket-2", "allPrivate");
    let (url2, _) = c.upload_url(&b2);
    let a = c.upload_with(&url2, &tok, &h, b"x");
    assert_eq!(a.status, 401, "token of another URL");
    assert_eq!(c.upload_with(&url, &tok, &h, b"x").status, 200);
    assert_eq!(
        c.upload_with(&url, &tok, &h, b"x").status,
        200,
        "reusable after success"
    );
    let empty = sha1_hex(b"");
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "empty"),
            ("Content-Type", "text/plain"),
            ("X-Bz-Content-Sha1", &empty),
        ],
        b"",
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["contentLength"], 0);
}

#[test]
fn upload_url_is_exclusive() {
    let (s, c, b) = setup();
    let (url, tok) = c.upload_url(&b);
    let body = data(100_000, 3);
    let sha = sha1_hex(&body);
    let path = url.trim_start_matches(s.url());
    let mut raw = TcpStream::connect(s.addr()).unwrap();
    write!(
        raw,
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {tok}\r\nX-Bz-File-Name: slow\r\nContent-Type: a/b\r\nX-Bz-Content-Sha1: {sha}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    raw.write_all(&body[..1000]).unwrap();
    raw.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "fast"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", &sha),
        ],
        &body,
    );
    assert_eq!((a.status, a.code().as_str()), (400, "auth_token_limit"));
    raw.write_all(&body[1000..]).unwrap();
    let mut resp = String::new();
    raw.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(s.file_bytes("upload-bucket", "slow").unwrap(), body);
    // Free again.
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "fast"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", &sha),
        ],
        &body,
    );
    assert_eq!(a.status, 200);
    let _ = json!({});
}

#[test]
fn big_upload_streams_through_pipeline() {
    let (s, c, b) = setup();
    let body = data(5_000_000, 9);
    let v = c.upload(&b, "big.bin", &body);
    assert_eq!(v["contentLength"], 5_000_000);
    assert_eq!(s.file_bytes("upload-bucket", "big.bin").unwrap(), body);
    assert!(s.stats().bytes_ingested >= 5_000_000);
}
