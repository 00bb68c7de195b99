//! Keys and tokens you can trust: no escalation, B2's rules for bucket-restricted keys,
//! owner-only data files, timed-out idle and half-sent connections.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use b2_sim::Sim;
use serde_json::json;

use crate::common::*;

#[test]
fn bucket_restricted_keys_cannot_hold_account_capabilities() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("bucket-key-rules", "allPrivate");
    for cap in [
        "writeKeys",
        "listKeys",
        "deleteKeys",
        "writeBuckets",
        "deleteBuckets",
    ] {
        let a = c.call(
            "b2_create_key",
            json!({"accountId": c.account_id, "keyName": "k", "bucketIds": [b],
                   "capabilities": ["listFiles", cap]}),
        );
        assert_eq!((a.status, a.code().as_str()), (400, "bad_request"), "{cap}");
    }
    // The case: bucket + prefix + writeKeys is refused outright.
    let a = c.call(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "k", "bucketIds": [b], "namePrefix": "pub/",
               "capabilities": ["listFiles", "readFiles", "writeKeys"]}),
    );
    assert_eq!(a.status, 400);
    // Bucket-level capabilities are fine.
    c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "k", "bucketIds": [b],
               "capabilities": ["listAllBucketNames", "listBuckets", "readBuckets", "readBucketEncryption",
                                "listFiles", "readFiles", "shareFiles", "writeFiles", "deleteFiles",
                                "bypassGovernance", "readFileRetentions"]}),
    );
    // The old single-bucket field follows the same rule.
    let a = c.call(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "k", "bucketId": b, "capabilities": ["writeBuckets"]}),
    );
    assert_eq!(a.status, 400);
}

#[test]
fn a_key_cannot_create_a_stronger_key() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("escalation", "allPrivate");
    c.upload(&b, "priv/secret.txt", b"secret");
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "minter", "validDurationInSeconds": 3600,
               "capabilities": ["writeKeys", "listBuckets", "listFiles"]}),
    );
    let minter = Client::with_key(
        s.url(),
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
        4,
    );
    let create = |args: serde_json::Value| {
        let mut a = json!({"accountId": c.account_id, "keyName": "child"});
        for (k, v) in args.as_object().unwrap() {
            a[k] = v.clone();
        }
        minter.call("b2_create_key", a)
    };
    // More capabilities than it has.
    let a =
        create(json!({"capabilities": ["listFiles", "readFiles"], "validDurationInSeconds": 60}));
    assert_eq!(
        a.json(),
        json!({"status": 401, "code": "unauthorized", "message": ""}),
        "{:?}",
        a.header("x-b2-sim-detail")
    );
    // Outliving it: no expiry, or a later one.
    let a = create(json!({"capabilities": ["listFiles"]}));
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    let a = create(json!({"capabilities": ["listFiles"], "validDurationInSeconds": 7200}));
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    // Within its rights: fine, and narrower keys can be made.
    let a = create(
        json!({"capabilities": ["listFiles"], "validDurationInSeconds": 600,
                          "bucketIds": [b], "namePrefix": "pub/"}),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let child = Client::with_key(
        s.url(),
        a.json()["applicationKeyId"].as_str().unwrap(),
        a.json()["applicationKey"].as_str().unwrap(),
        4,
    );
    // The child cannot see outside pub/.
    let a = child.call(
        "b2_list_file_names",
        json!({"bucketId": b, "prefix": "priv/"}),
    );
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
}

#[cfg(unix)]
#[test]
fn data_dir_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("b2-sim-perm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = Sim::builder()
        .data_dir(&dir)
        .min_part_size(100)
        .start()
        .unwrap();
    let c = Client::new(&s);
    let b = c.create_bucket("perm-bucket", "allPrivate");
    c.upload(&b, "f", b"data");
    c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "k", "capabilities": ["listFiles"]}),
    );
    s.stop();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the data directory");
    assert_eq!(mode(&dir.join("blobs")), 0o700);
    let mut files = 0;
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
                files += 1;
            }
        }
    }
    assert!(files >= 2, "the database and at least one blob");
    // The database holds the key secrets: it is among the owner-only files checked above.
    assert!(dir.join("b2-sim.sqlite").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn quick_timeouts() -> Sim {
    Sim::builder()
        .min_part_size(100)
        .idle_timeout(Duration::from_millis(300))
        .body_timeout(Duration::from_millis(300))
        .start()
        .unwrap()
}

/// Reads until the server closes; returns what came and how long it took.
fn until_closed(mut s: TcpStream) -> (Vec<u8>, Duration) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let t = Instant::now();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    (got, t.elapsed())
}

#[test]
fn idle_and_slow_connections_are_closed() {
    let s = quick_timeouts();
    // Nothing sent at all.
    let conn = TcpStream::connect(s.addr()).unwrap();
    let (_, took) = until_closed(conn);
    assert!(
        took < Duration::from_secs(5),
        "idle connection closed after {took:?}"
    );
    // Half a request head.
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.write_all(b"POST /b2api/v4/b2_list_buckets HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (_, took) = until_closed(conn);
    assert!(
        took < Duration::from_secs(5),
        "slow head closed after {took:?}"
    );
    // An idle keep-alive connection after a complete exchange.
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.write_all(b"GET /_sim/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (got, took) = until_closed(conn);
    assert!(got.starts_with(b"HTTP/1.1 200"), "answered first");
    assert!(
        took < Duration::from_secs(5),
        "kept-alive idle closed after {took:?}"
    );
}

#[test]
fn a_half_sent_upload_is_dropped_and_not_stored() {
    let s = quick_timeouts();
    let c = Client::new(&s);
    let b = c.create_bucket("half-sent", "allPrivate");
    let (url, tok) = c.upload_url(&b);
    let path = &url[url.find("/b2api").unwrap()..];
    let body = data(1000, 5);
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {tok}\r\nX-Bz-File-Name: half\r\n\
         Content-Type: a/b\r\nX-Bz-Content-Sha1: {}\r\nContent-Length: 1000\r\n\r\n",
        sha1_hex(&body)
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&body[..400]).unwrap();
    let (got, took) = until_closed(conn);
    assert!(
        got.is_empty(),
        "no answer: {}",
        String::from_utf8_lossy(&got)
    );
    assert!(took < Duration::from_secs(5), "dropped after {took:?}");
    assert_eq!(s.stats().body_timeouts, 1);
    assert_eq!(s.file_bytes("half-sent", "half"), None);
    // The upload URL is free again. (A fresh client: the idle timeout has closed the pooled
    // connection of the first one while the body timed out, and reusing it races the close.)
    let c = Client::new(&s);
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "half"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", &sha1_hex(&body)),
        ],
        &body,
    );
    assert_eq!(a.status, 200);
    // A stalled JSON body is dropped the same way.
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.write_all(
        format!(
            "POST /b2api/v4/b2_list_buckets HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: 100\r\n\r\n{{\"acc",
            c.token
        )
        .as_bytes(),
    )
    .unwrap();
    let (got, _) = until_closed(conn);
    assert!(got.is_empty());
    assert_eq!(s.stats().body_timeouts, 2);
}

#[test]
fn oversized_json_bodies_are_refused() {
    let s = sim();
    let c = Client::new(&s);
    let big = format!(
        "{{\"accountId\": \"{}\", \"pad\": \"{}\"}}",
        c.account_id,
        "x".repeat(5 << 20)
    );
    let r = c
        .agent
        .post(format!("{}/b2api/v4/b2_list_buckets", s.url()))
        .header("Authorization", &c.token)
        .send(big.as_bytes());
    // Either the 400 arrives, or the server closed while the client was still sending.
    if let Ok(r) = r {
        let a = answer(Ok(r));
        assert_eq!((a.status, a.code().as_str()), (400, "bad_request"));
        assert!(a.json()["message"].as_str().unwrap().contains("too large"));
    }
    // The server is fine afterwards.
    c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
}

#[test]
fn uploads_over_5_gb_are_refused_before_any_byte() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("too-big", "allPrivate");
    let (url, tok) = c.upload_url(&b);
    let path = &url[url.find("/b2api").unwrap()..];
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {tok}\r\nX-Bz-File-Name: big\r\n\
         Content-Type: a/b\r\nX-Bz-Content-Sha1: do_not_verify\r\nContent-Length: 5000000001\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).unwrap();
    let (got, _) = until_closed(conn);
    let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 400"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    assert!(text.contains("5000000000"), "{text}");
}
