//! `LargeFile` (the coordinator) and `LargeUpload` (its sequential driver), with scripted
//! answers: start or resume, part jobs, lost answers, finish, checkpoints, streams.

use std::string::String;
use std::vec::Vec;

use serde_json::json;
use sha1::{Digest, Sha1};

use crate::driver::run;
use crate::error::{Error, InvalidInput};
use crate::http::TransportError;
use crate::op::large::{Checkpoint, JobKind, LargeFile, LargeUpload, Resume};
use crate::op::script::{answers, Reply, Script, VirtualClock};
use crate::op::{FileParams, Source, UploadPart};

const BUCKET: &str = "bkt";
const ID: &str = "4_zbkt_f200000000000001";

/// A deterministic source of `size` bytes that counts what was read.
struct Data {
    bytes: Vec<u8>,
    read: u64,
}

impl Data {
    fn new(size: usize) -> Self {
        let bytes = (0..size as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        Data { bytes, read: 0 }
    }

    fn part(&self, n: u32, part: usize) -> &[u8] {
        let start = (n as usize - 1) * part;
        &self.bytes[start..(start + part).min(self.bytes.len())]
    }
}

impl Source for Data {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        let mut s = &self.bytes[..];
        let n = s.read_at(offset, buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

fn sha1(d: &[u8]) -> [u8; 20] {
    Sha1::digest(d).into()
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| std::format!("{b:02x}")).collect()
}

/// Session with a 100-byte minimum part size, so parts stay small.
fn session() -> crate::session::Session {
    let mut s = answers::authorized("tok-1");
    s.min_part_size = 100;
    s
}

#[test]
fn start_parts_on_one_url_then_the_streamed_finish() {
    let mut data = Data::new(450);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 8];
    let mut params = FileParams::new(BUCKET, "big.bin", 450);
    let whole = sha1(&data.bytes);
    params.sha1 = Some(whole);
    params.src_last_modified_millis = Some(42);
    let parts: Vec<Vec<u8>> = (1..=5).map(|n| data.part(n, 100).to_vec()).collect();
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "big.bin")),
        Reply::ok(answers::part_url(ID, 1)),
    ]);
    for (i, p) in parts.iter().enumerate() {
        script.push(Reply::ok(answers::part(ID, i as u32 + 1, p)));
    }
    script.push(Reply::ok(answers::large_finished(
        ID,
        "big.bin",
        450,
        params.sha1,
    )));
    let mut op =
        LargeUpload::new(&mut s, &mut buf, params, 100, &mut data, &mut digests).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("upload");
    script.finish();
    let calls = script.calls();
    assert_eq!(calls[0], "POST b2_start_large_file");
    // The SDK's own info entries go with the start, once.
    let start = script.sent[0].json();
    assert_eq!(start["fileInfo"]["src_last_modified_millis"], "42");
    assert_eq!(start["fileInfo"]["large_file_sha1"], hex(&whole));
    assert_eq!(calls[1], "POST b2_get_upload_part_url");
    // Five parts on the one part URL, each with its number and SHA-1 after the body.
    for n in 1..=5u32 {
        let r = &script.sent[n as usize + 1];
        assert_eq!(r.url, "http://up.test/part/1");
        assert_eq!(r.header("X-Bz-Part-Number"), Some(&*std::format!("{n}")));
        assert_eq!(r.header("X-Bz-Content-Sha1"), Some("hex_digits_at_end"));
    }
    let finish = script.last().json();
    assert_eq!(finish["fileId"], ID);
    let want: Vec<String> = parts.iter().map(|p| hex(&sha1(p))).collect();
    assert_eq!(finish["partSha1Array"], json!(want));
    assert_eq!(op.file().expect("file").file_id, ID);
    assert_eq!(op.bytes_done(), 450);
}

#[test]
fn the_coordinator_hands_out_jobs_in_any_order_and_keeps_their_digests() {
    let s = session();
    let mut digests = [[0u8; 20]; 4];
    let params = FileParams::new(BUCKET, "j.bin", 350);
    let mut lf = LargeFile::new(&s, params, 100, &mut digests, Resume::No).expect("new");
    assert_eq!(lf.next_job(), None, "no jobs before the file is started");
    let mut script = Script::new([Reply::ok(answers::large_start(ID, "j.bin"))]);
    let mut s2 = session();
    let mut buf = [0u8; 1024];
    run(
        &mut lf.prepare(&mut s2, &mut buf),
        &mut script,
        &mut VirtualClock::default(),
    )
    .expect("start");
    let jobs: Vec<_> = core::iter::from_fn(|| lf.next_job()).collect();
    assert_eq!(jobs.len(), 4);
    assert_eq!((jobs[3].offset, jobs[3].len), (300, 50));
    assert!(jobs.iter().all(|j| j.kind == JobKind::Send { sha1: None }));
    // Done out of order; finishing early is refused.
    for n in [3, 1, 4] {
        lf.part_done(n, [n as u8; 20]).expect("done");
    }
    assert!(!lf.ready_to_finish());
    assert!(matches!(
        lf.finish(&mut s2, &mut buf),
        Err(Error::Misuse(_))
    ));
    assert!(matches!(lf.part_done(3, [0; 20]), Err(Error::Misuse(_))));
    lf.part_done(2, [2; 20]).expect("done");
    assert!(lf.ready_to_finish());
    let mut script = Script::new([Reply::ok(answers::large_finished(ID, "j.bin", 350, None))]);
    run(
        &mut lf.finish(&mut s2, &mut buf).expect("finish"),
        &mut script,
        &mut VirtualClock::default(),
    )
    .expect("finished");
    let want: Vec<String> = (1..=4u8).map(|n| hex(&[n; 20])).collect();
    assert_eq!(script.last().json()["partSha1Array"], json!(want));
}

#[test]
fn a_reset_mid_part_sends_that_part_again_on_a_new_url() {
    let mut data = Data::new(250);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 4];
    let params = FileParams::new(BUCKET, "r.bin", 250);
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "r.bin")),
        Reply::ok(answers::part_url(ID, 1)),
        Reply::ok(answers::part(ID, 1, data.part(1, 100))),
        Reply::reset_mid_body(30),
        Reply::ok(answers::part_url(ID, 2)),
        Reply::ok(answers::part(ID, 2, data.part(2, 100))),
        Reply::ok(answers::part(ID, 3, data.part(3, 100))),
        Reply::ok(answers::large_finished(ID, "r.bin", 250, None)),
    ]);
    let mut op =
        LargeUpload::new(&mut s, &mut buf, params, 100, &mut data, &mut digests).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("upload");
    script.finish();
    assert_eq!(script.sent[4].call(), "b2_get_upload_part_url");
    assert_eq!(script.sent[5].url, "http://up.test/part/2");
    assert_eq!(script.sent[5].header("X-Bz-Part-Number"), Some("2"));
    assert_eq!(op.resent_bytes(), 30);
}

#[test]
fn a_part_whose_answer_was_lost_is_looked_up_not_sent_again() {
    let mut data = Data::new(200);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 4];
    let params = FileParams::new(BUCKET, "l.bin", 200);
    let p1 = data.part(1, 100).to_vec();
    let p2 = data.part(2, 100).to_vec();
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "l.bin")),
        Reply::ok(answers::part_url(ID, 1)),
        Reply::lost_answer(),
        Reply::ok(answers::parts(&[answers::part(ID, 1, &p1)], None)),
        // The URL whose exchange failed is not reused.
        Reply::ok(answers::part_url(ID, 2)),
        // Part 2: answered 503 after its body, and B2 does not have it: a new URL.
        Reply::error(503, "service_unavailable"),
        Reply::ok(answers::parts(&[], None)),
        Reply::ok(answers::part_url(ID, 3)),
        Reply::ok(answers::part(ID, 2, &p2)),
        Reply::ok(answers::large_finished(ID, "l.bin", 200, None)),
    ]);
    let mut op =
        LargeUpload::new(&mut s, &mut buf, params, 100, &mut data, &mut digests).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("upload");
    script.finish();
    let lp = &script.sent[3];
    assert_eq!(lp.call(), "b2_list_parts");
    assert_eq!(lp.json()["startPartNumber"], 1);
    assert_eq!(lp.json()["maxPartCount"], 1);
    // Part 1 went out once; part 2 twice, on two new URLs.
    let sends = |n: &str| {
        script
            .sent
            .iter()
            .filter(|r| r.header("X-Bz-Part-Number") == Some(n))
            .count()
    };
    assert_eq!((sends("1"), sends("2")), (1, 2));
    assert_eq!(script.sent[4].call(), "b2_get_upload_part_url");
    assert_eq!(script.sent[8].url, "http://up.test/part/3");
}

#[test]
fn a_lost_finish_answer_is_checked_with_file_info() {
    let mut data = Data::new(200);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 4];
    let params = FileParams::new(BUCKET, "f.bin", 200);
    let (p1, p2) = (data.part(1, 100).to_vec(), data.part(2, 100).to_vec());
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "f.bin")),
        Reply::ok(answers::part_url(ID, 1)),
        Reply::ok(answers::part(ID, 1, &p1)),
        Reply::ok(answers::part(ID, 2, &p2)),
        Reply::lost_answer(),
        Reply::ok(answers::large_finished(ID, "f.bin", 200, None)),
    ]);
    let mut op =
        LargeUpload::new(&mut s, &mut buf, params, 100, &mut data, &mut digests).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("upload");
    script.finish();
    assert_eq!(script.last().call(), "b2_get_file_info");
    assert_eq!(op.file().expect("file").content_length, 200);
}

#[test]
fn a_finish_refused_because_it_already_happened_is_checked_too() {
    let mut data = Data::new(200);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 4];
    let params = FileParams::new(BUCKET, "f.bin", 200);
    let (p1, p2) = (data.part(1, 100).to_vec(), data.part(2, 100).to_vec());
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "f.bin")),
        Reply::ok(answers::part_url(ID, 1)),
        Reply::ok(answers::part(ID, 1, &p1)),
        Reply::ok(answers::part(ID, 2, &p2)),
        Reply::error(400, "bad_request"),
        Reply::ok(answers::large_start(ID, "f.bin")),
    ]);
    let mut op =
        LargeUpload::new(&mut s, &mut buf, params, 100, &mut data, &mut digests).expect("new");
    // Still unfinished after a 400: the finish's own error is the result.
    let e = run(&mut op, &mut script, &mut VirtualClock::default()).expect_err("refused");
    script.finish();
    assert_eq!(e.api().map(|a| a.status), Some(400), "{e}");
    assert_eq!(script.last().call(), "b2_get_file_info");
}

/// The unfinished file a crashed upload of `data` (parts of 100 bytes) left, and a
/// checkpoint of it with parts 1 and 2 done.
fn checkpoint_after_two_parts(data: &Data, params: FileParams<'_>) -> Vec<u8> {
    let s = session();
    let mut digests = [[0u8; 20]; 8];
    let mut lf = LargeFile::new(&s, params, 100, &mut digests, Resume::No).expect("new");
    let mut s2 = session();
    let mut buf = [0u8; 1024];
    let mut script = Script::new([Reply::ok(answers::large_start(ID, "c.bin"))]);
    run(
        &mut lf.prepare(&mut s2, &mut buf),
        &mut script,
        &mut VirtualClock::default(),
    )
    .expect("start");
    for n in 1..=3 {
        let job = lf.next_job().expect("job");
        assert_eq!(job.number, n);
    }
    lf.part_done(1, sha1(data.part(1, 100))).expect("1");
    lf.part_done(2, sha1(data.part(2, 100))).expect("2");
    // Part 3 is still out when the device loses power.
    let mut out = std::vec![0u8; lf.checkpoint_len()];
    let n = lf.write_checkpoint(&mut out).expect("checkpoint");
    out.truncate(n);
    out
}

#[test]
fn a_checkpoint_resumes_without_reading_or_sending_the_parts_b2_has() {
    let mut data = Data::new(420);
    let mut params = FileParams::new(BUCKET, "c.bin", 420);
    params.src_last_modified_millis = Some(7);
    let cp = checkpoint_after_two_parts(&data, params);
    let mut digests = [[0u8; 20]; 8];
    let head = Checkpoint::decode(&cp, &mut digests).expect("decode");
    assert_eq!(head.file_id, ID);
    assert_eq!(
        digests[2], [0; 20],
        "a part out with a worker is not recorded as done"
    );
    let parts: Vec<Vec<u8>> = (1..=5).map(|n| data.part(n, 100).to_vec()).collect();
    let mut script = Script::new([
        Reply::ok(answers::parts(
            &[
                answers::part(ID, 1, &parts[0]),
                answers::part(ID, 2, &parts[1]),
                // Part 3 did arrive, but the checkpoint does not vouch for it: sent again.
                answers::part(ID, 3, &parts[2]),
            ],
            None,
        )),
        Reply::ok(answers::part_url(ID, 1)),
        Reply::ok(answers::part(ID, 3, &parts[2])),
        Reply::ok(answers::part(ID, 4, &parts[3])),
        Reply::ok(answers::part(ID, 5, &parts[4])),
        Reply::ok(answers::large_finished(ID, "c.bin", 420, None)),
    ]);
    let mut s = session();
    let mut buf = [0u8; 4096];
    let mut op = LargeUpload::with_resume(
        &mut s,
        &mut buf,
        params,
        100,
        &mut data,
        &mut digests,
        Resume::Checkpoint(head),
    )
    .expect("resume");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("resumed");
    script.finish();
    assert_eq!(script.sent[0].call(), "b2_list_parts");
    assert_eq!(op.skipped_parts(), 2);
    let want: Vec<String> = parts.iter().map(|p| hex(&sha1(p))).collect();
    assert_eq!(script.last().json()["partSha1Array"], json!(want));
    drop(op);
    // Parts 1 and 2 were neither read nor sent: only parts 3 to 5 were read (once each).
    assert_eq!(data.read, 220);
}

#[test]
fn a_checkpoint_for_other_parameters_is_refused() {
    let data = Data::new(420);
    let params = FileParams::new(BUCKET, "c.bin", 420);
    let cp = checkpoint_after_two_parts(&data, params);
    let mut digests = [[0u8; 20]; 8];
    let head = Checkpoint::decode(&cp, &mut digests).expect("decode");
    let s = session();
    let mut other = params;
    other.content_type = "text/plain";
    let r = LargeFile::new(
        &s,
        other,
        100,
        &mut digests,
        Resume::Checkpoint(head.clone()),
    );
    assert!(matches!(r, Err(Error::Invalid(InvalidInput::Checkpoint))));
    let r = LargeFile::new(&s, params, 200, &mut digests, Resume::Checkpoint(head));
    assert!(matches!(r, Err(Error::Invalid(InvalidInput::Checkpoint))));
}

#[test]
fn a_checkpoint_of_a_file_finished_before_the_crash_is_found_finished() {
    let mut data = Data::new(420);
    let params = FileParams::new(BUCKET, "c.bin", 420);
    let cp = checkpoint_after_two_parts(&data, params);
    let mut digests = [[0u8; 20]; 8];
    let head = Checkpoint::decode(&cp, &mut digests).expect("decode");
    let mut script = Script::new([
        Reply::error(400, "bad_request"),
        Reply::ok(answers::large_finished(ID, "c.bin", 420, None)),
    ]);
    let mut s = session();
    let mut buf = [0u8; 4096];
    let mut op = LargeUpload::with_resume(
        &mut s,
        &mut buf,
        params,
        100,
        &mut data,
        &mut digests,
        Resume::Checkpoint(head),
    )
    .expect("resume");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("found finished");
    script.finish();
    assert_eq!(op.file().expect("file").content_length, 420);
}

/// An unfinished file as `b2_list_unfinished_large_files` lists it.
fn unfinished(id: &str, name: &str, ts: u64, info: serde_json::Value) -> serde_json::Value {
    let mut f = answers::large_start(id, name);
    f["uploadTimestamp"] = json!(ts);
    f["fileInfo"] = info;
    f
}

#[test]
fn search_adopts_only_the_same_file_and_verifies_each_part_against_the_source() {
    let mut data = Data::new(300);
    let mut params = FileParams::new(BUCKET, "s.bin", 300);
    params.src_last_modified_millis = Some(99);
    let ours = json!({"src_last_modified_millis": "99"});
    let parts: Vec<Vec<u8>> = (1..=3).map(|n| data.part(n, 100).to_vec()).collect();
    let mut changed = parts[1].clone();
    changed[0] ^= 1;
    let mut script = Script::new([
        Reply::ok(json!({"files": [
            // Other info (another mtime): not this file. A newer one of ours: the candidate.
            unfinished("4_old", "s.bin", 10, ours.clone()),
            unfinished("4_other", "s.bin", 30, json!({"src_last_modified_millis": "98"})),
            unfinished(ID, "s.bin", 20, ours.clone()),
            unfinished("4_longer", "s.bin.bak", 40, ours),
        ], "nextFileId": null})),
        Reply::ok(answers::parts(
            &[
                answers::part(ID, 1, &parts[0]),
                // B2's part 2 holds other bytes than the source's now: sent again.
                answers::part(ID, 2, &changed),
            ],
            None,
        )),
        Reply::ok(answers::part_url(ID, 1)),
        Reply::ok(answers::part(ID, 2, &parts[1])),
        Reply::ok(answers::part(ID, 3, &parts[2])),
        Reply::ok(answers::large_finished(ID, "s.bin", 300, None)),
    ]);
    let mut s = session();
    let mut buf = [0u8; 8192];
    let mut digests = [[0u8; 20]; 4];
    let mut op = LargeUpload::with_resume(
        &mut s,
        &mut buf,
        params,
        100,
        &mut data,
        &mut digests,
        Resume::Search,
    )
    .expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("resumed");
    script.finish();
    let search = script.sent[0].json();
    assert_eq!(script.sent[0].call(), "b2_list_unfinished_large_files");
    assert_eq!(search["namePrefix"], "s.bin");
    assert_eq!(script.sent[1].json()["fileId"], ID);
    assert_eq!(op.skipped_parts(), 1);
    // Part 2 goes up with the SHA-1 the verification computed.
    let p2 = &script.sent[3];
    assert_eq!(p2.header("X-Bz-Part-Number"), Some("2"));
    assert_eq!(
        p2.header("X-Bz-Content-Sha1"),
        Some(&*hex(&sha1(&parts[1])))
    );
}

#[test]
fn search_with_other_type_or_a_part_that_does_not_fit_starts_a_new_file() {
    for (candidate, parts) in [
        // Same info, but the caller asked for another content type.
        (
            {
                let mut f = unfinished(ID, "t.bin", 1, json!({"src_last_modified_millis": "5"}));
                f["contentType"] = json!("image/png");
                f
            },
            None,
        ),
        // Same file, but B2's part 2 is 50 bytes: another part size.
        (
            {
                let mut f = unfinished(ID, "t.bin", 1, json!({"src_last_modified_millis": "5"}));
                f["contentType"] = json!("text/plain");
                f
            },
            Some(answers::parts(&[answers::part(ID, 2, &[0u8; 50])], None)),
        ),
    ] {
        let mut data = Data::new(200);
        let mut params = FileParams::new(BUCKET, "t.bin", 200);
        params.content_type = "text/plain";
        params.src_last_modified_millis = Some(5);
        let mut script =
            Script::new([Reply::ok(json!({"files": [candidate], "nextFileId": null}))]);
        if let Some(p) = parts {
            script.push(Reply::ok(p));
        }
        let new_id = "4_znew";
        script.push(Reply::ok(answers::large_start(new_id, "t.bin")));
        script.push(Reply::ok(answers::part_url(new_id, 1)));
        script.push(Reply::ok(answers::part(new_id, 1, data.part(1, 100))));
        script.push(Reply::ok(answers::part(new_id, 2, data.part(2, 100))));
        script.push(Reply::ok(answers::large_finished(
            new_id, "t.bin", 200, None,
        )));
        let mut s = session();
        let mut buf = [0u8; 8192];
        let mut digests = [[0u8; 20]; 4];
        let mut op = LargeUpload::with_resume(
            &mut s,
            &mut buf,
            params,
            100,
            &mut data,
            &mut digests,
            Resume::Search,
        )
        .expect("new");
        let r = run(&mut op, &mut script, &mut VirtualClock::default());
        r.unwrap_or_else(|e| panic!("{e}: {:?}", script.calls()));
        script.finish();
        assert!(script.calls().contains(&"POST b2_start_large_file".into()));
        assert_eq!(op.file_id(), new_id);
    }
}

#[test]
fn without_an_identity_there_is_no_search() {
    let s = session();
    let mut digests = [[0u8; 20]; 4];
    let params = FileParams::new(BUCKET, "n.bin", 200);
    let mut lf = LargeFile::new(&s, params, 100, &mut digests, Resume::Search).expect("new");
    let mut script = Script::new([Reply::ok(answers::large_start(ID, "n.bin"))]);
    let mut s2 = session();
    let mut buf = [0u8; 1024];
    run(
        &mut lf.prepare(&mut s2, &mut buf),
        &mut script,
        &mut VirtualClock::default(),
    )
    .expect("start");
    assert_eq!(script.calls(), ["POST b2_start_large_file"]);
}

#[test]
fn a_stream_of_one_part_or_less_is_a_small_file() {
    for len in [0usize, 1, 100] {
        let mut data = Data::new(len);
        let mut s = session();
        let mut buf = [0u8; 2048];
        let mut digests = [[0u8; 20]; 4];
        let params = FileParams::new(BUCKET, "one", 0);
        let mut script = Script::new([
            Reply::ok(answers::upload_url(BUCKET, 1)),
            Reply::ok(answers::file(ID, "one", &data.bytes)),
        ]);
        let mut op = LargeUpload::stream(&mut s, &mut buf, params, 100, &mut data, &mut digests)
            .expect("new");
        run(&mut op, &mut script, &mut VirtualClock::default()).expect("small");
        script.finish();
        assert_eq!(script.last().content_length, Some(len as u64));
        assert_eq!(op.file().expect("file").content_length, len as u64);
    }
}

#[test]
fn a_stream_grows_its_plan_part_by_part() {
    for len in [200usize, 201, 299] {
        let mut data = Data::new(len);
        let parts: Vec<Vec<u8>> = (1..=len.div_ceil(100) as u32)
            .map(|n| data.part(n, 100).to_vec())
            .collect();
        let mut s = session();
        let mut buf = [0u8; 2048];
        let mut digests = [[0u8; 20]; 4];
        let params = FileParams::new(BUCKET, "st", 0);
        let mut script = Script::new([
            Reply::ok(answers::large_start(ID, "st")),
            Reply::ok(answers::part_url(ID, 1)),
        ]);
        for (i, p) in parts.iter().enumerate() {
            script.push(Reply::ok(answers::part(ID, i as u32 + 1, p)));
        }
        script.push(Reply::ok(answers::large_finished(
            ID, "st", len as u64, None,
        )));
        let mut op = LargeUpload::stream(&mut s, &mut buf, params, 100, &mut data, &mut digests)
            .expect("new");
        run(&mut op, &mut script, &mut VirtualClock::default()).expect("stream");
        script.finish();
        let lens: Vec<u64> = script
            .sent
            .iter()
            .filter(|r| r.header("X-Bz-Part-Number").is_some())
            .map(|r| r.content_length.unwrap_or(0))
            .collect();
        let want: Vec<u64> = parts.iter().map(|p| p.len() as u64).collect();
        assert_eq!(lens, want, "{len}: parts carry their SHA-1 in the header");
        assert_eq!(op.plan().size, len as u64);
    }
}

#[test]
fn a_stream_refuses_parts_past_its_end_or_storage() {
    let s = session();
    let mut digests = [[0u8; 20]; 2];
    let params = FileParams::new(BUCKET, "st", 0);
    let mut lf = LargeFile::stream(&s, params, 100, &mut digests).expect("new");
    let mut script = Script::new([Reply::ok(answers::large_start(ID, "st"))]);
    let mut s2 = session();
    let mut buf = [0u8; 1024];
    run(
        &mut lf.prepare(&mut s2, &mut buf),
        &mut script,
        &mut VirtualClock::default(),
    )
    .expect("start");
    assert!(lf.push_part(101).is_err(), "longer than a part");
    lf.push_part(100).expect("1");
    lf.push_part(100).expect("2");
    assert_eq!(
        lf.push_part(100),
        Err(Error::StorageTooSmall { needed: 3 }),
        "digest storage is the limit"
    );
    let s = session();
    let mut digests = [[0u8; 20]; 4];
    let mut lf = LargeFile::stream(&s, params, 100, &mut digests).expect("new");
    let mut script = Script::new([Reply::ok(answers::large_start(ID, "st"))]);
    run(
        &mut lf.prepare(&mut s2, &mut buf),
        &mut script,
        &mut VirtualClock::default(),
    )
    .expect("start");
    lf.push_part(100).expect("1");
    lf.push_part(40).expect("short last part");
    assert!(lf.push_part(10).is_err(), "nothing after a short part");
}

#[test]
fn a_part_given_its_sha1_ahead_sends_it_in_the_header() {
    let mut s = session();
    let mut buf = [0u8; 2048];
    let data = [7u8; 300];
    let d = sha1(&data);
    let mut part = UploadPart::new(&mut s, &mut buf, ID, 1, &data[..], 0, 300, None)
        .expect("part")
        .with_sha1(Some(d));
    let mut script = Script::new([
        Reply::ok(answers::part_url(ID, 1)),
        Reply::ok(answers::part(ID, 1, &data)),
    ]);
    run(&mut part, &mut script, &mut VirtualClock::default()).expect("part");
    script.finish();
    assert_eq!(script.last().header("X-Bz-Content-Sha1"), Some(&*hex(&d)));
    assert_eq!(script.last().content_length, Some(300));
    assert_eq!(part.sha1(), d);
    // B2 refusing a digest that does not match the bytes is final, not retried.
    let mut wrong = d;
    wrong[0] ^= 1;
    let mut part = UploadPart::new(&mut s, &mut buf, ID, 2, &data[..], 0, 300, None)
        .expect("part")
        .with_sha1(Some(wrong));
    let mut script = Script::new([
        Reply::ok(answers::part_url(ID, 1)),
        Reply::error(400, "bad_request"),
    ]);
    let e = run(&mut part, &mut script, &mut VirtualClock::default()).expect_err("wrong");
    script.finish();
    assert_eq!(e.api().map(|a| a.status), Some(400), "{e}");
}

#[test]
fn a_refused_connection_on_a_part_is_not_an_unknown_outcome() {
    let mut s = session();
    let mut buf = [0u8; 2048];
    let data = [1u8; 100];
    let mut part = UploadPart::new(&mut s, &mut buf, ID, 1, &data[..], 0, 100, None).expect("p");
    let mut script = Script::new([
        Reply::ok(answers::part_url(ID, 1)),
        Reply::fail(TransportError::Connect),
        Reply::ok(answers::part_url(ID, 2)),
        Reply::ok(answers::part(ID, 1, &data)),
    ]);
    run(&mut part, &mut script, &mut VirtualClock::default()).expect("part");
    script.finish();
    assert!(!script.calls().iter().any(|c| c.contains("list_parts")));
}

#[test]
fn one_gib_through_a_4_kib_buffer_with_bounded_state() {
    /// Generated bytes at memcpy speed: a 4,093-byte pattern (prime, so parts never align).
    struct Pattern(Vec<u8>);
    impl Source for Pattern {
        fn read_at(
            &mut self,
            offset: u64,
            buf: &mut [u8],
        ) -> Result<usize, embedded_io::ErrorKind> {
            // `self.0` holds the pattern twice: any 4,093-byte window is one slice.
            let size = 1u64 << 30;
            let n = (size.saturating_sub(offset) as usize)
                .min(buf.len())
                .min(4093);
            let at = (offset % 4093) as usize;
            buf[..n].copy_from_slice(&self.0[at..at + n]);
            Ok(n)
        }
    }
    assert!(core::mem::size_of::<LargeUpload<'_, '_, '_, '_, Pattern>>() <= 8 * 1024);
    let pattern: Vec<u8> = (0..2 * 4093u32)
        .map(|i| (i % 4093 * 31 % 251) as u8)
        .collect();
    let size = 1u64 << 30;
    let part = 100_000_000u64;
    let count = size.div_ceil(part) as u32;
    let mut digests = std::vec![[0u8; 20]; count as usize];
    // The script needs each part's SHA-1 for its answers: hash the parts once here.
    let mut src = Pattern(pattern.clone());
    let mut chunk = std::vec![0u8; 1 << 20];
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "gib")),
        Reply::ok(answers::part_url(ID, 1)),
    ]);
    for n in 1..=count {
        let offset = u64::from(n - 1) * part;
        let len = part.min(size - offset);
        let mut h = Sha1::new();
        let mut done = 0;
        while done < len {
            let k = src
                .read_at(
                    offset + done,
                    &mut chunk[..(len - done).min(1 << 20) as usize],
                )
                .unwrap();
            h.update(&chunk[..k]);
            done += k as u64;
        }
        let d: [u8; 20] = h.finalize().into();
        script.push(Reply::ok(
            json!({"fileId": ID, "partNumber": n, "contentLength": len,
            "contentSha1": hex(&d), "uploadTimestamp": 1}),
        ));
    }
    script.push(Reply::ok(answers::large_finished(ID, "gib", size, None)));
    script.body_chunk = 4096;
    script.keep_body = 0;
    let mut s = session();
    let mut buf = [0u8; 4096];
    let params = FileParams::new(BUCKET, "gib", size);
    let mut op = LargeUpload::new(
        &mut s,
        &mut buf,
        params,
        part,
        Pattern(pattern),
        &mut digests,
    )
    .expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("1 GiB");
    script.finish();
    let body: u64 = script.sent.iter().map(|r| r.body_len).sum();
    assert!(body > size, "every byte went through the transport");
}

#[test]
fn a_lost_finish_with_a_key_that_cannot_read_is_confirmed_by_the_refused_second_finish() {
    let mut data = Data::new(200);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut digests = [[0u8; 20]; 4];
    let params = FileParams::new(BUCKET, "w.bin", 200);
    let (p1, p2) = (data.part(1, 100).to_vec(), data.part(2, 100).to_vec());
    let mut script = Script::new([
        Reply::ok(answers::large_start(ID, "w.bin")),
        Reply::ok(answers::part_url(ID, 1)),
        Reply::ok(answers::part(ID, 1, &p1)),
        Reply::ok(answers::part(ID, 2, &p2)),
        // The finish happens, its answer is lost; a write-only key may not read the file.
        Reply::lost_answer(),
        Reply::error(401, "unauthorized"),
        // Finishing again is refused: the file is finished already.
        Reply::error(400, "bad_request"),
        Reply::error(401, "unauthorized"),
    ]);
    let mut op =
        LargeUpload::new(&mut s, &mut buf, params, 100, &mut data, &mut digests).expect("new");
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("finished");
    script.finish();
    assert!(op.coordinator().is_finished());
    assert_eq!(op.bytes_done(), 200);
    // Its record could not be read: the error says why.
    assert_eq!(
        op.file().map(|_| ()).unwrap_err().api().map(|a| a.status),
        Some(401)
    );
}
