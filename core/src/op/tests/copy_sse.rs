//! Encryption and Object Lock settings of copies on the wire: the source's SSE-C key and the
//! destination's encryption on `b2_copy_file`, `b2_start_large_file` and every
//! `b2_copy_part`; a checkpoint resumed only with the destination key it was made with; the
//! lost-answer look-up recognising the copy by its encryption too.

use std::format;
use std::string::String;
use std::vec::Vec;

use serde_json::{json, Value};

use crate::driver::run;
use crate::encoding::Base64Bytes;
use crate::error::{Error, InvalidInput};
use crate::op::copy::{Copy, CopySpec, Metadata};
use crate::op::large::{Checkpoint, LargeFile, RemoteRange, Resume};
use crate::op::script::{answers, hex, sha1, Reply, Script, VirtualClock};
use crate::wire::encryption::{CustomerKey, Encryption};
use crate::wire::lock::{LegalHold, Retention, RetentionMode};

const SRC: &str = "4_zbkt_f100000000000001";
const SRC2: &str = "4_zbkt_f100000000000002";
const ID: &str = "4_zdst_f200000000000009";

fn session() -> crate::session::Session {
    let mut s = answers::authorized("tok-1");
    s.min_part_size = 100;
    s
}

fn bytes(a: u64, len: u64) -> Vec<u8> {
    (a..a + len).map(|i| (i * 7 + 3) as u8).collect()
}

fn b64(b: &[u8]) -> String {
    format!("{}", Base64Bytes(b))
}

/// The JSON B2 expects for an SSE-C key.
fn sse_c(k: &CustomerKey) -> Value {
    json!({"mode": "SSE-C", "algorithm": "AES256", "customerKey": b64(k.expose()),
           "customerKeyMd5": b64(&k.key_md5())})
}

const KEEP: Metadata<'static> = Metadata::Copy {
    content_type: "text/x-src",
    info: &[("k", "v")],
};

fn calls(script: &Script) -> Vec<String> {
    script.sent.iter().map(|r| r.call().into()).collect()
}

#[test]
fn a_small_copy_sends_the_source_key_the_destination_encryption_and_object_lock() {
    let src_key = CustomerKey::new([1; 32]);
    let r = [RemoteRange {
        file_id: SRC,
        offset: 0,
        len: 250,
    }];
    let keys = [Some(&src_key)];
    let mut sp = CopySpec::new(&r, "dst", "copy.bin", KEEP);
    sp.whole_file = true;
    sp.source_keys = &keys;
    sp.destination_encryption = Some(Encryption::SseB2);
    sp.retention = Some(Retention {
        mode: RetentionMode::Governance,
        retain_until_ms: 1_900_000_000_000,
    });
    sp.legal_hold = Some(LegalHold::On);
    let mut s = session();
    let mut buf = [0u8; 4096];
    let mut script = Script::new([
        Reply::ok(answers::no_files()),
        Reply::ok(answers::file(ID, "copy.bin", &bytes(0, 250))),
    ]);
    let mut op = Copy::new(&mut s, &mut buf, sp, 1000, 100, &mut [], Resume::No).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("copy");
    script.finish();
    let body = script.last().json();
    assert_eq!(script.last().call(), "b2_copy_file");
    assert_eq!(body["sourceServerSideEncryption"], sse_c(&src_key));
    assert_eq!(
        body["destinationServerSideEncryption"],
        json!({"mode": "SSE-B2", "algorithm": "AES256"})
    );
    assert_eq!(
        body["fileRetention"],
        json!({"mode": "governance", "retainUntilTimestamp": 1_900_000_000_000u64})
    );
    assert_eq!(body["legalHold"], "on");
    // Without settings, none of these fields is sent (no `none` mode, ever).
    let plain = CopySpec::new(&r, "dst", "copy.bin", KEEP);
    let c = plain.copy_file().expect("call");
    assert!(c.source_server_side_encryption.is_none());
    assert!(c.destination_server_side_encryption.is_none());
    assert!(c.file_retention.is_none() && c.legal_hold.is_none());
}

/// A concatenation of SRC (no key) and SRC2 (SSE-C) into an SSE-C large file: 200 bytes
/// each, parts of 100.
fn two_sources() -> [RemoteRange<'static>; 2] {
    [
        RemoteRange {
            file_id: SRC,
            offset: 0,
            len: 200,
        },
        RemoteRange {
            file_id: SRC2,
            offset: 0,
            len: 200,
        },
    ]
}

#[test]
fn a_large_copy_starts_with_the_destination_encryption_and_keys_every_part() {
    let (k2, dest) = (CustomerKey::new([2; 32]), CustomerKey::new([3; 32]));
    let r = two_sources();
    let keys = [None, Some(&k2)];
    let mut sp = CopySpec::new(&r, "dst", "copy.bin", KEEP);
    sp.source_keys = &keys;
    sp.destination_encryption = Some(Encryption::SseC(&dest));
    sp.legal_hold = Some(LegalHold::Off);
    let mut s = session();
    let mut buf = [0u8; 4096];
    let mut digests = [[0u8; 20]; 4];
    let mut script = Script::new([Reply::ok(answers::large_start(ID, "copy.bin"))]);
    for n in 1..=4u32 {
        script.push(Reply::ok(answers::part(
            ID,
            n,
            &bytes(u64::from(n) * 100, 100),
        )));
    }
    script.push(Reply::ok(answers::large_finished(
        ID, "copy.bin", 400, None,
    )));
    let mut op = Copy::new(&mut s, &mut buf, sp, 0, 100, &mut digests, Resume::No).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("copy");
    script.finish();
    let start = script.sent[0].json();
    assert_eq!(script.sent[0].call(), "b2_start_large_file");
    assert_eq!(start["serverSideEncryption"], sse_c(&dest));
    assert_eq!(start["legalHold"], "off");
    for i in 1..=4 {
        let p = script.sent[i].json();
        assert_eq!(script.sent[i].call(), "b2_copy_part");
        assert_eq!(
            p["destinationServerSideEncryption"],
            sse_c(&dest),
            "part {i}: the large file's key"
        );
        if p["sourceFileId"] == SRC2 {
            assert_eq!(p["sourceServerSideEncryption"], sse_c(&k2), "part {i}");
        } else {
            assert!(
                p.get("sourceServerSideEncryption").is_none(),
                "part {i}: its source is not SSE-C"
            );
        }
    }
    let from_src2 = script.sent[1..5]
        .iter()
        .filter(|r| r.json()["sourceFileId"] == SRC2)
        .count();
    assert_eq!(from_src2, 2);
    // An SSE-B2 destination: the start says so, the parts carry no destination key.
    let mut sp = CopySpec::new(&r, "dst", "copy.bin", KEEP);
    sp.destination_encryption = Some(Encryption::SseB2);
    assert_eq!(sp.part_keys().destination, None);
    assert_eq!(sp.params().encryption, Some(Encryption::SseB2));
}

fn spec_with<'a>(r: &'a [RemoteRange<'a>], e: Option<Encryption<'a>>) -> CopySpec<'a> {
    let mut sp = CopySpec::new(r, "dst", "copy.bin", KEEP);
    sp.destination_encryption = e;
    sp
}

#[test]
fn a_checkpoint_is_resumed_only_with_the_destination_key_it_was_made_with() {
    let (k, other) = (CustomerKey::new([4; 32]), CustomerKey::new([5; 32]));
    let r = two_sources();
    let spec = |e| spec_with(&r, e);
    let s = session();
    let mut digests = [[0u8; 20]; 4];
    let cp = {
        let mut lf = LargeFile::copy(
            &s,
            spec(Some(Encryption::SseC(&k))).params(),
            &r,
            100,
            &mut digests,
            Resume::No,
        )
        .expect("copy");
        let mut s2 = session();
        let mut buf = [0u8; 1024];
        let mut script = Script::new([Reply::ok(answers::large_start(ID, "copy.bin"))]);
        run(
            &mut lf.prepare(&mut s2, &mut buf),
            &mut script,
            &mut VirtualClock::default(),
        )
        .expect("start");
        let _ = lf.next_job().expect("job");
        lf.part_done(1, sha1(&bytes(0, 100))).expect("part 1");
        let mut out = std::vec![0u8; lf.checkpoint_len()];
        let n = lf.write_checkpoint(&mut out).expect("checkpoint");
        out.truncate(n);
        out
    };
    let head = Checkpoint::decode(&cp, &mut digests).expect("decode");
    for (what, e) in [
        ("another key", Some(Encryption::SseC(&other))),
        ("no key", None),
        ("SSE-B2", Some(Encryption::SseB2)),
    ] {
        let mut d = digests;
        let mut s = session();
        let mut buf = [0u8; 1024];
        let r = Copy::new(
            &mut s,
            &mut buf,
            spec(e),
            0,
            100,
            &mut d,
            Resume::Checkpoint(head.clone()),
        );
        assert!(
            matches!(r, Err(Error::Invalid(InvalidInput::Checkpoint))),
            "{what}"
        );
    }
    // The same key resumes: B2's parts are listed, and the rest copied with that key.
    let mut s = session();
    let mut buf = [0u8; 4096];
    let mut op = Copy::new(
        &mut s,
        &mut buf,
        spec(Some(Encryption::SseC(&k))),
        0,
        100,
        &mut digests,
        Resume::Checkpoint(head),
    )
    .expect("the same key resumes");
    let mut script = Script::new([Reply::ok(answers::parts(
        &[answers::part(ID, 1, &bytes(0, 100))],
        None,
    ))]);
    for n in 2..=4u32 {
        script.push(Reply::ok(answers::part(
            ID,
            n,
            &bytes(u64::from(n) * 100, 100),
        )));
    }
    script.push(Reply::ok(answers::large_finished(
        ID, "copy.bin", 400, None,
    )));
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("resumed");
    script.finish();
    assert_eq!(script.sent[0].call(), "b2_list_parts");
    for r in &script.sent[1..4] {
        assert_eq!(r.json()["destinationServerSideEncryption"], sse_c(&k));
    }
}

/// A version of `copy.bin` in a listing: the copy's bytes, type and info, and the given
/// `serverSideEncryption`.
fn listed(id: &str, sse: Value) -> Value {
    let data = bytes(0, 250);
    json!({"accountId": "acct", "action": "upload", "bucketId": "dst",
        "contentLength": data.len(), "contentSha1": hex(&sha1(&data)),
        "contentType": "text/x-src", "fileId": id, "fileInfo": {"k": "v"},
        "fileName": "copy.bin", "uploadTimestamp": 1_700_000_005_000u64,
        "serverSideEncryption": sse})
}

#[test]
fn after_a_lost_answer_the_copy_is_recognised_by_its_encryption_too() {
    let k = CustomerKey::new([6; 32]);
    let other = CustomerKey::new([7; 32]);
    let r = [RemoteRange {
        file_id: SRC,
        offset: 0,
        len: 250,
    }];
    let sse_c_listed = |k: &CustomerKey| json!({"mode": "SSE-C", "algorithm": "AES256", "customerKeyMd5": b64(&k.key_md5())});
    let b2 = json!({"mode": "SSE-B2", "algorithm": "AES256"});
    // (asked, listed, found): a newest version with the same bytes and metadata is the copy
    // only when its encryption is what was asked.
    let cases: [(Option<Encryption<'_>>, Value, bool); 6] = [
        (Some(Encryption::SseC(&k)), sse_c_listed(&k), true),
        (Some(Encryption::SseC(&k)), sse_c_listed(&other), false),
        (Some(Encryption::SseC(&k)), b2.clone(), false),
        (Some(Encryption::SseB2), b2.clone(), true),
        (Some(Encryption::SseB2), sse_c_listed(&k), false),
        (None, sse_c_listed(&k), false),
    ];
    for (asked, sse, found) in cases {
        let mut sp = CopySpec::new(&r, "dst", "copy.bin", KEEP);
        sp.whole_file = true;
        sp.destination_encryption = asked;
        let mut s = session();
        let mut buf = [0u8; 4096];
        let mut script = Script::new([
            Reply::ok(answers::no_files()),
            Reply::lost_answer(),
            Reply::ok(
                json!({"files": [listed(ID, sse.clone())], "nextFileName": null,
                             "nextFileId": null}),
            ),
        ]);
        if !found {
            script.push(Reply::ok(answers::file(ID, "copy.bin", &bytes(0, 250))));
        }
        let mut op = Copy::new(&mut s, &mut buf, sp, 1000, 100, &mut [], Resume::No).expect("new");
        run(&mut op, &mut script, &mut VirtualClock::default()).expect("copy");
        script.finish();
        let mut want = std::vec![
            "b2_list_file_versions",
            "b2_copy_file",
            "b2_list_file_versions"
        ];
        if !found {
            want.push("b2_copy_file");
        }
        assert_eq!(calls(&script), want, "asked {asked:?}, listed {sse}");
        assert_eq!(
            op.found_after_loss(),
            found,
            "asked {asked:?}, listed {sse}"
        );
    }
}
