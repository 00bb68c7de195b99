//! `Faults::lose_answer_every`: the call is carried out, then the connection closes with no
//! answer (an ambiguous outcome).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use b2_sim::{Faults, Sim};
use serde_json::json;

use crate::common::*;

fn lose_every(n: u32) -> Faults {
    Faults {
        lose_answer_every: Some(n),
        ..Default::default()
    }
}

/// Sends one raw HTTP/1.1 request and returns every byte the server sent back before
/// closing: empty when the answer was lost.
fn raw_exchange(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut s = TcpStream::connect(sim.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
        sim.addr(),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut got = Vec::new();
    // A reset or an orderly close both end the read; what counts is that nothing came.
    let _ = s.read_to_end(&mut got);
    got
}

fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap();
    &rest[rest.find('/').unwrap()..]
}

fn versions(c: &Client, b: &str, name: &str) -> Vec<serde_json::Value> {
    let v = c.ok(
        "b2_list_file_versions",
        json!({"bucketId": b, "prefix": name, "maxFileCount": 100}),
    );
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fileName"] == name)
        .cloned()
        .collect()
}

#[test]
fn upload_is_stored_and_its_answer_lost() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("lost-bucket", "allPrivate");
    s.set_faults(lose_every(1));
    let body = data(3000, 7);
    let (url, tok) = c.upload_url(&b);
    let sha = sha1_hex(&body);
    let got = raw_exchange(
        &s,
        "POST",
        path_of(&url),
        &[
            ("Authorization", &tok),
            ("X-Bz-File-Name", "ambiguous.bin"),
            ("Content-Type", "application/octet-stream"),
            ("X-Bz-Content-Sha1", &sha),
            ("X-Bz-Info-src_last_modified_millis", "1234"),
        ],
        &body,
    );
    assert!(
        got.is_empty(),
        "no answer at all, got {:?}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(s.stats().faults.lost_answers, 1);
    s.set_faults(Faults::default());
    // The data really was stored: one version, with its SHA-1, size and info.
    assert_eq!(s.file_bytes("lost-bucket", "ambiguous.bin").unwrap(), body);
    let vs = versions(&c, &b, "ambiguous.bin");
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0]["contentSha1"], sha.as_str());
    assert_eq!(vs[0]["contentLength"], 3000);
    assert_eq!(vs[0]["fileInfo"]["src_last_modified_millis"], "1234");
    // The upload URL is free again (the upload is over, as far as the server knows).
    let a = c.upload_with(
        &url,
        &tok,
        &[
            ("X-Bz-File-Name", "next"),
            ("Content-Type", "a/b"),
            ("X-Bz-Content-Sha1", &sha1_hex(b"n")),
        ],
        b"n",
    );
    assert_eq!(a.status, 200);
}

#[test]
fn counts_only_stores_that_succeed() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("lost-count", "allPrivate");
    s.set_faults(lose_every(2));
    let try_upload = |name: &str, body: &[u8], sha: &str| {
        let (url, tok) = c.upload_url(&b);
        c.agent
            .post(&url)
            .header("Authorization", &tok)
            .header("X-Bz-File-Name", name)
            .header("Content-Type", "a/b")
            .header("X-Bz-Content-Sha1", sha)
            .send(body)
            .map(|r| r.status().as_u16())
    };
    let body = b"hello";
    let sha = sha1_hex(body);
    // 1st store: answered.
    assert_eq!(try_upload("a", body, &sha).unwrap(), 200);
    // Refused (bad SHA-1): not stored, not counted.
    assert_eq!(try_upload("bad", body, &sha1_hex(b"x")).unwrap(), 400);
    // Listing calls are not counted either.
    c.ok("b2_list_file_names", json!({"bucketId": b}));
    // 2nd store: stored, no answer.
    assert!(
        try_upload("b", body, &sha).is_err(),
        "the answer must be lost"
    );
    // 3rd: answered again.
    assert_eq!(try_upload("c", body, &sha).unwrap(), 200);
    for name in ["a", "b", "c"] {
        assert_eq!(s.file_bytes("lost-count", name).unwrap(), body, "{name}");
    }
    assert_eq!(s.file_bytes("lost-count", "bad"), None);
    assert_eq!(s.stats().faults.lost_answers, 1);
}

#[test]
fn part_finish_and_copy_are_done_and_their_answers_lost() {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("lost-large", "allPrivate");
    let id = c.start_large(&b, "big");
    let (p1, p2) = (data(300, 1), data(50, 2));
    assert_eq!(c.upload_part(&id, 1, &p1).status, 200);
    s.set_faults(lose_every(1));

    // A part: stored, no answer.
    let (url, tok) = c.part_url(&id);
    let sha2 = sha1_hex(&p2);
    let got = raw_exchange(
        &s,
        "POST",
        path_of(&url),
        &[
            ("Authorization", &tok),
            ("X-Bz-Part-Number", "2"),
            ("X-Bz-Content-Sha1", &sha2),
        ],
        &p2,
    );
    assert!(got.is_empty(), "part: no answer");
    s.set_faults(Faults::default());
    let parts = c.ok("b2_list_parts", json!({"fileId": id}));
    let parts = parts["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1]["contentSha1"], sha2.as_str());
    assert_eq!(parts[1]["contentLength"], 50);

    // Finish: the file is finished, no answer.
    s.set_faults(lose_every(1));
    let finish = json!({"fileId": id, "partSha1Array": [sha1_hex(&p1), sha2]}).to_string();
    let got = raw_exchange(
        &s,
        "POST",
        "/b2api/v4/b2_finish_large_file",
        &[
            ("Authorization", &c.token),
            ("Content-Type", "application/json"),
        ],
        finish.as_bytes(),
    );
    assert!(got.is_empty(), "finish: no answer");
    s.set_faults(Faults::default());
    let info = c.ok("b2_get_file_info", json!({"fileId": id}));
    assert_eq!(info["action"], "upload");
    assert_eq!(info["contentLength"], 350);
    assert_eq!(s.unfinished_large_files(), 0);
    let whole = [p1.clone(), p2.clone()].concat();
    assert_eq!(s.file_bytes("lost-large", "big").unwrap(), whole);

    // A copy: the new file exists, no answer.
    s.set_faults(lose_every(1));
    let copy = json!({"sourceFileId": id, "fileName": "big-copy"}).to_string();
    let got = raw_exchange(
        &s,
        "POST",
        "/b2api/v4/b2_copy_file",
        &[
            ("Authorization", &c.token),
            ("Content-Type", "application/json"),
        ],
        copy.as_bytes(),
    );
    assert!(got.is_empty(), "copy: no answer");
    s.set_faults(Faults::default());
    assert_eq!(s.file_bytes("lost-large", "big-copy").unwrap(), whole);
    assert_eq!(versions(&c, &b, "big-copy").len(), 1);
    assert_eq!(s.stats().faults.lost_answers, 3);
}

#[test]
fn lost_answer_upload_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("b2-sim-lost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = Sim::builder()
        .data_dir(&dir)
        .faults(lose_every(1))
        .start()
        .unwrap();
    let (kid, key) = (s.master_key().0.to_string(), s.master_key().1.to_string());
    let c = Client::new(&s);
    let b = c.create_bucket("lost-kept", "allPrivate");
    let body = data(2000, 9);
    let (url, tok) = c.upload_url(&b);
    let sha = sha1_hex(&body);
    let r = c
        .agent
        .post(&url)
        .header("Authorization", &tok)
        .header("X-Bz-File-Name", "kept")
        .header("Content-Type", "a/b")
        .header("X-Bz-Content-Sha1", &sha)
        .send(&body[..]);
    assert!(r.is_err(), "the answer must be lost");
    s.stop();
    let s = Sim::builder().data_dir(&dir).start().unwrap();
    assert_eq!(s.master_key(), (kid.as_str(), key.as_str()));
    assert_eq!(s.file_bytes("lost-kept", "kept").unwrap(), body);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
