//! Scenarios people hit on real B2 (503 storms, truncated downloads) and cost accounting.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use b2_sim::{Faults, Tally};
use serde_json::json;

use crate::common::*;

#[test]
fn a_503_storm_answers_every_kind_of_request_then_ends() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("storm-bucket", "allPrivate");
    c.upload(&b, "f", b"hello");
    let (url, tok) = c.upload_url(&b);
    s.set_faults(Faults {
        storm_503: 3,
        retry_after_secs: 5,
        ..Default::default()
    });
    // Authorize is not part of the storm.
    let (id, key) = s.master_key();
    assert_eq!(authorize_raw(s.url(), id, key, 4).status, 200);
    let answers = [
        c.call("b2_list_buckets", json!({"accountId": c.account_id})),
        c.upload_with(
            &url,
            &tok,
            &[
                ("X-Bz-File-Name", "g"),
                ("Content-Type", "a/b"),
                ("X-Bz-Content-Sha1", "do_not_verify"),
            ],
            b"x",
        ),
        c.get("/file/storm-bucket/f", Some(&c.token), None),
    ];
    for a in &answers {
        assert_eq!((a.status, a.code().as_str()), (503, "service_unavailable"));
        assert_eq!(a.json()["message"], "no tomes available");
        assert_eq!(a.header("retry-after"), Some("5"));
    }
    assert_eq!(s.stats().faults.service_unavailable, 3);
    assert_eq!(
        c.get("/file/storm-bucket/f", Some(&c.token), None).body,
        b"hello"
    );
}

/// A raw GET: (head, body bytes read until the server closed the connection).
fn raw_get(url: &str, path: &str, token: &str) -> (String, Vec<u8>) {
    let addr = url.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(addr).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    let _ = tcp.read_to_end(&mut all);
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (
        String::from_utf8_lossy(&all[..split]).to_lowercase(),
        all[split..].to_vec(),
    )
}

#[test]
fn every_nth_download_is_cut_halfway() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("cut-bucket", "allPrivate");
    let body = data(100_000, 3);
    c.upload(&b, "f", &body);
    s.set_faults(Faults {
        truncate_download_every: Some(2),
        ..Default::default()
    });
    let (head, got) = raw_get(s.url(), "/file/cut-bucket/f", &c.token);
    assert!(head.contains("content-length: 100000"), "{head}");
    assert_eq!(got, body, "the 1st download is whole");
    let (head, got) = raw_get(s.url(), "/file/cut-bucket/f", &c.token);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-length: 100000"), "{head}");
    assert_eq!(got.len(), 50_000, "the 2nd is cut after half its bytes");
    assert_eq!(got, body[..50_000]);
    let (_, got) = raw_get(s.url(), "/file/cut-bucket/f", &c.token);
    assert_eq!(got, body, "the 3rd is whole again");
    assert_eq!(s.stats().faults.truncated_downloads, 1);
}

#[test]
fn costs_count_classes_and_bytes_per_key_and_bucket() {
    let s = sim();
    let c = Client::new(&s); // authorize: class C
    let key_id = s.master_key().0.to_string();
    let b = c.create_bucket("costly", "allPrivate"); // C
    let other = c.create_bucket("other-bucket", "allPrivate"); // C
    c.upload(&b, "f", &data(1000, 1)); // get_upload_url A, upload A, 1000 in
    c.upload(&other, "g", &data(10, 1)); // A, A, 10 in
    assert_eq!(c.get("/file/costly/f", Some(&c.token), None).status, 200); // B, 1000 out
    let ranged = c.get("/file/costly/f", Some(&c.token), Some("bytes=0-99"));
    assert_eq!(ranged.status, 206); // B, 100 out
    c.ok("b2_list_file_names", json!({"bucketId": b})); // C
    c.ok("b2_list_buckets", json!({"accountId": c.account_id})); // C, no bucket
                                                                 // Refused calls are not counted.
    assert_eq!(c.call("b2_list_file_names", json!({})).status, 400);
    let costs = s.costs();
    assert_eq!(
        costs.total,
        Tally {
            class_a: 4,
            class_b: 2,
            class_c: 5,
            bytes_in: 1010,
            bytes_out: 1100
        }
    );
    assert_eq!(costs.by_key[&key_id], costs.total);
    assert_eq!(
        costs.by_bucket[&b],
        Tally {
            class_a: 2,
            class_b: 2,
            class_c: 2, // created, listed
            bytes_in: 1000,
            bytes_out: 1100
        }
    );
    assert_eq!(costs.by_bucket[&other].bytes_in, 10);
    // The admin endpoint says the same.
    let v = c.get("/_sim/costs", None, None).json();
    assert_eq!(v["total"]["classC"], 5);
    assert_eq!(v["byBucket"][&b]["bytesOut"], 1100);
    assert_eq!(v["byKey"][&key_id]["classA"], 4);
}

/// B2 bills a listing that returns more than 1,000 names as one transaction per 1,000
/// ("as if you had made requests in a loop asking for 1000 at a time").
#[test]
fn a_listing_of_more_than_1000_names_costs_one_class_c_per_1000() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("many-names", "allPrivate");
    let (url, token) = c.upload_url(&b);
    let body = b"x";
    let sha = sha1_hex(body);
    for i in 0..1001 {
        let name = format!("n{i:05}");
        let a = c.upload_with(
            &url,
            &token,
            &[
                ("X-Bz-File-Name", &name),
                ("Content-Type", "a/b"),
                ("X-Bz-Content-Sha1", &sha),
            ],
            body,
        );
        assert_eq!(a.status, 200);
    }
    let class_c = || s.costs().by_bucket[&b].class_c;
    let before = class_c();
    let all = c.ok(
        "b2_list_file_names",
        json!({"bucketId": b, "maxFileCount": 10000}),
    );
    assert_eq!(all["files"].as_array().map(Vec::len), Some(1001));
    assert_eq!(class_c() - before, 2, "1,001 names: two transactions");
    let before = class_c();
    c.ok(
        "b2_list_file_names",
        json!({"bucketId": b, "maxFileCount": 1000}),
    );
    assert_eq!(class_c() - before, 1, "1,000 names: one");
    let before = class_c();
    c.ok(
        "b2_list_file_versions",
        json!({"bucketId": b, "maxFileCount": 5000}),
    );
    assert_eq!(class_c() - before, 2, "versions are billed the same way");
    let before = class_c();
    c.ok(
        "b2_list_file_names",
        json!({"bucketId": b, "prefix": "none/"}),
    );
    assert_eq!(class_c() - before, 1, "an empty page is still a call");
}

#[test]
fn the_binary_prints_costs_when_stopped() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_b2-sim"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let key_line = lines.next().unwrap().unwrap();
    let url = lines.next().unwrap().unwrap();
    let url = url.strip_prefix("READY ").unwrap();
    let mut k = key_line.split_whitespace().skip(1);
    let (id, key) = (k.next().unwrap(), k.next().unwrap());
    assert_eq!(authorize_raw(url, id, key, 4).status, 200);
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("costs total: class A 0, class B 0, class C 1, bytes in 0, bytes out 0"),
        "{err}"
    );
    assert!(err.contains(&format!("key {id}: class A 0, class B 0, class C 1")));
}

#[test]
fn the_test_clock_expires_tokens_and_keys() {
    let s = b2_sim::Sim::builder()
        .token_lifetime(std::time::Duration::from_secs(3600))
        .start()
        .unwrap();
    let c = Client::new(&s);
    let b = c.create_bucket("clock-bucket", "allPrivate");
    let key = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "short", "capabilities": ["listBuckets"],
               "validDurationInSeconds": 7200}),
    );
    let (url, tok) = c.upload_url(&b);
    let args = json!({"accountId": c.account_id});
    assert_eq!(c.call("b2_list_buckets", args.clone()).status, 200);
    // 59 minutes on: still valid.
    s.advance_clock(std::time::Duration::from_secs(59 * 60));
    assert_eq!(c.call("b2_list_buckets", args.clone()).status, 200);
    // Over the hour (through the admin endpoint): the account and upload tokens expired.
    let now = c
        .agent
        .post(format!("{}/_sim/clock?advanceSeconds=120", s.url()))
        .send(&[] as &[u8]);
    let v = answer(now).json();
    assert_eq!(v["advancedMillis"], 61 * 60 * 1000);
    let a = c.call("b2_list_buckets", args.clone());
    assert_eq!((a.status, a.code().as_str()), (401, "expired_auth_token"));
    let up = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "late"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", "do_not_verify"),
        ],
        b"x",
    );
    assert_eq!((up.status, up.code().as_str()), (401, "expired_auth_token"));
    // A new token works; the 2-hour key too, until the clock passes its expiry.
    let (id, secret) = (
        key["applicationKeyId"].as_str().unwrap(),
        key["applicationKey"].as_str().unwrap(),
    );
    assert_eq!(authorize_raw(s.url(), id, secret, 4).status, 200);
    s.advance_clock(std::time::Duration::from_secs(3600));
    assert_eq!(authorize_raw(s.url(), id, secret, 4).status, 401);
    let bad = c
        .agent
        .post(format!("{}/_sim/clock?advanceSeconds=-5", s.url()))
        .send(&[] as &[u8]);
    assert_eq!(answer(bad).status, 400);
}

#[test]
fn help_shows_how_to_point_clients_at_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_b2-sim"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "B2_ENVIRONMENT=URL",
        "B2_TEST_ENVIRONMENT=URL",
        "--b2-endpoint URL",
        "restic",
        "rustic",
        "Client::new(keyId, key, URL)",
        "/_sim/costs",
        "/_sim/clock?advanceSeconds=N",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn a_slow_link_paces_uploads_and_downloads() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("slow-bucket", "allPrivate");
    let body = data(100_000, 9);
    s.set_faults(Faults {
        bandwidth_bytes_per_sec: Some(400_000),
        delay: Some(std::time::Duration::from_millis(100)),
        ..Default::default()
    });
    // 100 kB at 400 kB/s: at least 0.25 s each way (less a slice's worth of slack), plus
    // the 100 ms latency of each answer.
    let t = std::time::Instant::now();
    c.upload(&b, "f", &body);
    let up = t.elapsed();
    let t = std::time::Instant::now();
    let got = c.get("/file/slow-bucket/f", Some(&c.token), None);
    let down = t.elapsed();
    assert_eq!(got.body, body);
    assert!(up.as_millis() >= 300, "upload took {up:?}");
    assert!(down.as_millis() >= 300, "download took {down:?}");
    assert!(up.as_secs() < 10 && down.as_secs() < 10);
    // Without the slow link the same download is fast.
    s.set_faults(Faults::default());
    let t = std::time::Instant::now();
    assert_eq!(
        c.get("/file/slow-bucket/f", Some(&c.token), None).body,
        body
    );
    assert!(t.elapsed().as_millis() < 200, "{:?}", t.elapsed());
}
