//! `Copy`: one `b2_copy_file` under the cutoff, a large file of `b2_copy_part`s above it
//! (the coordinator's copy jobs), concatenation, and resume from a checkpoint.

use std::string::String;
use std::vec::Vec;

use serde_json::json;

use crate::driver::run;
use crate::error::{BadAnswer, Error, InvalidInput};
use crate::op::copy::{Copy, CopySpec, Metadata};
use crate::op::large::{Checkpoint, JobKind, LargeFile, RemoteRange, Resume};
use crate::op::script::{answers, hex, sha1, Reply, Script, VirtualClock};
use crate::op::FileParams;

const SRC: &str = "4_zbkt_f100000000000001";
const SRC2: &str = "4_zbkt_f100000000000002";
const ID: &str = "4_zdst_f200000000000009";

/// Session with a 100-byte minimum part size.
fn session() -> crate::session::Session {
    let mut s = answers::authorized("tok-1");
    s.min_part_size = 100;
    s
}

/// Bytes `[a, a+len)` of a deterministic source file.
fn bytes(a: u64, len: u64) -> Vec<u8> {
    (a..a + len).map(|i| (i * 7 + 3) as u8).collect()
}

fn spec<'a>(sources: &'a [RemoteRange<'a>], metadata: Metadata<'a>) -> CopySpec<'a> {
    CopySpec {
        sources,
        whole_file: false,
        destination_bucket_id: "dst",
        file_name: "copy.bin",
        metadata,
        sha1: None,
    }
}

const KEEP: Metadata<'static> = Metadata::Copy {
    content_type: "text/x-src",
    info: &[("k", "v")],
};

#[test]
fn under_the_cutoff_one_copy_file_with_range_bucket_and_directive() {
    let r = [RemoteRange {
        file_id: SRC,
        offset: 10,
        len: 250,
    }];
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut script = Script::new([Reply::ok(answers::file(ID, "copy.bin", &bytes(10, 250)))]);
    let mut op = Copy::new(
        &mut s,
        &mut buf,
        spec(&r, KEEP),
        1000,
        100,
        &mut [],
        Resume::No,
    )
    .expect("new");
    assert!(op.coordinator().is_none());
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("copy");
    script.finish();
    assert_eq!(
        script.last().json(),
        json!({"sourceFileId": SRC, "fileName": "copy.bin", "destinationBucketId": "dst",
               "range": "bytes=10-259", "metadataDirective": "COPY"})
    );
    assert_eq!(op.file().expect("file").file_id, ID);
    drop(op);
    // REPLACE sends the content type and info; a whole file goes without a range.
    let mut sp = spec(
        &r,
        Metadata::Replace {
            content_type: "a/b",
            info: &[("n", "m")],
        },
    );
    sp.whole_file = true;
    let mut script = Script::new([Reply::ok(answers::file(ID, "copy.bin", b"x"))]);
    let mut op = Copy::new(&mut s, &mut buf, sp, 1000, 100, &mut [], Resume::No).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("copy");
    assert_eq!(
        script.last().json(),
        json!({"sourceFileId": SRC, "fileName": "copy.bin", "destinationBucketId": "dst",
               "metadataDirective": "REPLACE", "contentType": "a/b", "fileInfo": {"n": "m"}})
    );
}

#[test]
fn above_the_cutoff_copy_parts_through_the_coordinator_then_the_finish() {
    // 450 bytes from offset 50, parts of 100 at least: four parts of 112 or 113 bytes.
    let r = [RemoteRange {
        file_id: SRC,
        offset: 50,
        len: 450,
    }];
    let mut sp = spec(&r, KEEP);
    sp.sha1 = Some([0xab; 20]);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 4];
    let mut script = Script::new([Reply::ok(answers::large_start(ID, "copy.bin"))]);
    let mut want = Vec::new();
    let mut at = 50;
    for n in 1..=4u32 {
        let len = if n <= 2 { 113 } else { 112 };
        let d = bytes(at, len);
        script.push(Reply::ok(answers::part(ID, n, &d)));
        want.push((at, at + len - 1, hex(&sha1(&d))));
        at += len;
    }
    assert_eq!(at, 500);
    script.push(Reply::ok(answers::large_finished(
        ID, "copy.bin", 450, None,
    )));
    let mut op = Copy::new(&mut s, &mut buf, sp, 200, 100, &mut digests, Resume::No).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("copy");
    script.finish();
    let start = script.sent[0].json();
    assert_eq!(start["bucketId"], "dst");
    assert_eq!(start["contentType"], "text/x-src", "the source's metadata");
    assert_eq!(start["fileInfo"]["k"], "v");
    assert_eq!(start["fileInfo"]["large_file_sha1"], hex(&[0xab; 20]));
    for (i, (a, b, _)) in want.iter().enumerate() {
        let p = script.sent[i + 1].json();
        assert_eq!(script.sent[i + 1].call(), "b2_copy_part");
        assert_eq!(p["sourceFileId"], SRC);
        assert_eq!(p["largeFileId"], ID);
        assert_eq!(p["partNumber"], i + 1);
        assert_eq!(p["range"], std::format!("bytes={a}-{b}"));
    }
    let sums: Vec<String> = want.iter().map(|w| w.2.clone()).collect();
    assert_eq!(script.last().json()["partSha1Array"], json!(sums));
    assert_eq!(op.file().expect("file").file_id, ID);
}

#[test]
fn a_copy_part_answer_for_another_part_is_refused() {
    let r = [RemoteRange {
        file_id: SRC,
        offset: 0,
        len: 200,
    }];
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 2];
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "copy.bin")),
        Reply::ok(answers::part(ID, 1, &bytes(0, 99))),
    ]);
    let mut op = Copy::new(
        &mut s,
        &mut buf,
        spec(&r, KEEP),
        0,
        100,
        &mut digests,
        Resume::No,
    )
    .expect("new");
    let e = run(&mut op, &mut script, &mut VirtualClock::default());
    assert_eq!(e.err(), Some(Error::BadAnswer(BadAnswer::Mismatch)));
}

#[test]
fn a_503_on_a_copy_part_is_retried_and_a_lost_answer_sent_again() {
    let r = [RemoteRange {
        file_id: SRC,
        offset: 0,
        len: 200,
    }];
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 2];
    let (p1, p2) = (bytes(0, 100), bytes(100, 100));
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "copy.bin")),
        Reply::error(503, "service_unavailable"),
        Reply::ok(answers::part(ID, 1, &p1)),
        Reply::lost_answer(),
        Reply::ok(answers::part(ID, 2, &p2)),
        Reply::ok(answers::large_finished(ID, "copy.bin", 200, None)),
    ]);
    let mut op = Copy::new(
        &mut s,
        &mut buf,
        spec(&r, KEEP),
        0,
        100,
        &mut digests,
        Resume::No,
    )
    .expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("copy");
    script.finish();
    assert_eq!(
        script.last().json()["partSha1Array"],
        json!([hex(&sha1(&p1)), hex(&sha1(&p2))])
    );
}

#[test]
fn concatenation_cuts_each_source_and_refuses_a_short_one_but_the_last() {
    let ok = [
        RemoteRange {
            file_id: SRC,
            offset: 0,
            len: 150,
        },
        RemoteRange {
            file_id: SRC2,
            offset: 5,
            len: 30,
        },
    ];
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 2];
    let (a, b) = (bytes(0, 150), bytes(5, 30));
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "copy.bin")),
        Reply::ok(answers::part(ID, 1, &a)),
        Reply::ok(answers::part(ID, 2, &b)),
        Reply::ok(answers::large_finished(ID, "copy.bin", 180, None)),
    ]);
    // Several sources are a large file whatever the cutoff.
    let mut op = Copy::new(
        &mut s,
        &mut buf,
        spec(&ok, KEEP),
        u64::MAX,
        100,
        &mut digests,
        Resume::No,
    )
    .expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("concatenate");
    script.finish();
    assert_eq!(script.sent[1].json()["range"], "bytes=0-149");
    assert_eq!(script.sent[2].json()["sourceFileId"], SRC2);
    assert_eq!(script.sent[2].json()["range"], "bytes=5-34");
    drop(op);
    let short_first = [ok[1], ok[0]];
    let mut digests = [[0u8; 20]; 4];
    let r = Copy::new(
        &mut s,
        &mut buf,
        spec(&short_first, KEEP),
        0,
        100,
        &mut digests,
        Resume::No,
    );
    assert_eq!(r.err(), Some(InvalidInput::CopySourceTooSmall.into()));
    // Too little storage for the digests says how much is needed.
    let r = Copy::new(
        &mut s,
        &mut buf,
        spec(&ok, KEEP),
        0,
        100,
        &mut [],
        Resume::No,
    );
    assert_eq!(r.err(), Some(Error::StorageTooSmall { needed: 2 }));
}

#[test]
fn a_copy_resumes_from_its_checkpoint_and_copies_only_what_b2_lacks() {
    let r = [RemoteRange {
        file_id: SRC,
        offset: 0,
        len: 400,
    }];
    let sp = spec(&r, KEEP);
    let parts: Vec<Vec<u8>> = (0..4).map(|i| bytes(i * 100, 100)).collect();
    // The first run: parts 1 and 2 copied, part 3 out when it stops.
    let cp = {
        let s = session();
        let mut digests = [[0u8; 20]; 4];
        let mut lf =
            LargeFile::copy(&s, sp.params(), &r, 100, &mut digests, Resume::Search).expect("copy");
        let mut s2 = session();
        let mut buf = [0u8; 1024];
        let mut script = Script::new([Reply::ok(answers::large_start(ID, "copy.bin"))]);
        run(
            &mut lf.prepare(&mut s2, &mut buf),
            &mut script,
            &mut VirtualClock::default(),
        )
        .expect("start: a copy never searches");
        assert_eq!(script.sent[0].call(), "b2_start_large_file");
        for n in 1..=3u32 {
            let job = lf.next_job().expect("job");
            assert_eq!(
                job.kind,
                JobKind::Copy {
                    source: 0,
                    source_offset: u64::from(n - 1) * 100
                }
            );
        }
        lf.part_done(1, sha1(&parts[0])).expect("1");
        lf.part_done(2, sha1(&parts[1])).expect("2");
        let mut out = std::vec![0u8; lf.checkpoint_len()];
        let n = lf.write_checkpoint(&mut out).expect("checkpoint");
        out.truncate(n);
        out
    };
    let mut digests = [[0u8; 20]; 4];
    let head = Checkpoint::decode(&cp, &mut digests).expect("decode");
    // A checkpoint of another copy (other source range) is refused.
    let other = [RemoteRange { len: 401, ..r[0] }];
    let mut d2 = digests;
    let s = session();
    assert!(matches!(
        LargeFile::copy(
            &s,
            spec(&other, KEEP).params(),
            &other,
            100,
            &mut d2,
            Resume::Checkpoint(head.clone())
        ),
        Err(Error::Invalid(InvalidInput::Checkpoint))
    ));
    let mut script = Script::new([
        Reply::ok(answers::parts(
            &[
                answers::part(ID, 1, &parts[0]),
                // Part 2 is there with other bytes (not what the checkpoint says): again.
                answers::part(ID, 2, &parts[3]),
                answers::part(ID, 3, &parts[2]),
            ],
            None,
        )),
        Reply::ok(answers::part(ID, 2, &parts[1])),
        Reply::ok(answers::part(ID, 3, &parts[2])),
        Reply::ok(answers::part(ID, 4, &parts[3])),
        Reply::ok(answers::large_finished(ID, "copy.bin", 400, None)),
    ]);
    let mut s = session();
    let mut buf = [0u8; 4096];
    let mut op = Copy::new(
        &mut s,
        &mut buf,
        sp,
        0,
        100,
        &mut digests,
        Resume::Checkpoint(head),
    )
    .expect("resume");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("resumed");
    script.finish();
    assert_eq!(script.sent[0].call(), "b2_list_parts");
    let copied: Vec<u64> = script.sent[1..4]
        .iter()
        .map(|r| r.json()["partNumber"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(copied, [2, 3, 4]);
    let want: Vec<String> = parts.iter().map(|p| hex(&sha1(p))).collect();
    assert_eq!(script.last().json()["partSha1Array"], json!(want));
    assert_eq!(op.coordinator().map(|c| c.parts_skipped()), Some(1));
}

#[test]
fn the_cutoff_and_the_part_plan_decide_small_or_large() {
    let one = |len| {
        [RemoteRange {
            file_id: SRC,
            offset: 0,
            len,
        }]
    };
    let r = one(150);
    let sp = spec(&r, KEEP);
    assert!(!sp.is_large(200, 100, 100), "under the cutoff");
    assert!(
        !sp.is_large(100, 100, 100),
        "over it, but one part: b2_copy_file"
    );
    let r = one(200);
    assert!(spec(&r, KEEP).is_large(100, 100, 100));
    assert!(
        !spec(&r, KEEP).is_large(u64::MAX, 100, 100),
        "cutoff capped at 5 GB"
    );
    let r = one(6_000_000_000);
    assert!(spec(&r, KEEP).is_large(u64::MAX, 100, 100), "over 5 GB");
    let p = FileParams::new("dst", "copy.bin", 0);
    assert_eq!(spec(&r, KEEP).params().size, 6_000_000_000);
    assert_eq!(p.size, 0);
}
