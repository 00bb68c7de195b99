//! Unit tests of the operations.
//!
//! Each operation is tested state by state with scripted answers (`op::script`): a test
//! starts in the state it checks, feeds one canned answer or transport error per exchange and
//! checks the next step, the request rendered, the wait or the error. One file per operation:
//!
//! - `tests/authorize.rs`: `Authorize`.
//!
//! The large-file tests below still drive `LargeUpload` through the in-process fake B2 of
//! `testkit.rs`; they move to scripted answers with the large-file engine's rewrite.

mod authorize;

use std::string::String;
use std::vec::Vec;

use sha1::{Digest, Sha1};

use crate::driver::run;
use crate::error::{Error, ErrorCode};
use crate::op::{
    Authorize, Call, Download, FileParams, LargeUpload, List, Listing, Source, Target, UploadFile,
};
use crate::testkit::{session, FakeB2, Fault, VirtualClock};
use crate::wire::file::GetFileInfo;

/// A deterministic generated source of any size, read at memcpy speed.
struct Generated {
    size: u64,
    pattern: Vec<u8>,
}

impl Generated {
    fn new(size: u64) -> Self {
        // 4,093 is prime, so part boundaries never line up with the pattern.
        let pattern = (0..2 * 4093u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        Generated { size, pattern }
    }

    fn sha1(&mut self) -> [u8; 20] {
        let mut h = Sha1::new();
        let mut buf = std::vec![0u8; 1 << 16];
        let mut off = 0;
        while off < self.size {
            let n = self.read_at(off, &mut buf).expect("read");
            h.update(&buf[..n]);
            off += n as u64;
        }
        h.finalize().into()
    }
}

impl Source for Generated {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        let n = (self.size.saturating_sub(offset)).min(buf.len() as u64) as usize;
        let mut done = 0;
        while done < n {
            let at = ((offset + done as u64) % 4093) as usize;
            let take = (n - done).min(4093);
            buf[done..done + take].copy_from_slice(&self.pattern[at..at + take]);
            done += take;
        }
        Ok(n)
    }
}

/// A sink collecting downloaded bytes.
#[derive(Default)]
struct Sink(Vec<u8>);

impl embedded_io::ErrorType for Sink {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| std::format!("{b:02x}")).collect()
}

fn upload_small(
    fake: &mut FakeB2,
    clock: &mut VirtualClock,
    name: &str,
    data: &[u8],
) -> Result<String, Error> {
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut params = FileParams::new("bkt", name, data.len() as u64);
    params.info = &[("k", "v v+é")];
    params.src_last_modified_millis = Some(1234);
    let mut op = UploadFile::new(&mut s, &mut buf, params, data, None)?;
    run(&mut op, fake, clock)?;
    let f = op.file()?;
    assert_eq!(f.content_length, data.len() as u64);
    Ok(String::from(f.file_id.raw()))
}

#[test]
fn small_upload_happy_path() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let data = b"hello, b2";
    upload_small(&mut fake, &mut clock, "dir/a b+c é.txt", data).expect("upload");
    assert_eq!(fake.data("dir/a b+c é.txt"), Some(&data[..]));
    assert_eq!(
        fake.log,
        [
            "GET b2_authorize_account",
            "POST b2_get_upload_url",
            "POST b2_upload_file"
        ]
    );
    assert!(clock.waits.is_empty());
}

#[test]
fn empty_file_upload() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    upload_small(&mut fake, &mut clock, "empty", b"").expect("upload");
    assert_eq!(fake.data("empty"), Some(&b""[..]));
}

#[test]
fn upload_503_takes_a_new_url() {
    let mut fake = FakeB2::default();
    fake.fault(
        "b2_upload_file",
        Fault::Status(503, "service_unavailable", None),
    );
    let mut clock = VirtualClock::default();
    upload_small(&mut fake, &mut clock, "x", b"data").expect("upload");
    assert_eq!(fake.urls_issued, 2, "{:?}", fake.log);
    assert_eq!(fake.count("b2_upload_file"), 2);
    assert_eq!(fake.data("x"), Some(&b"data"[..]));
}

#[test]
fn five_failed_upload_urls_is_a_clear_error() {
    let mut fake = FakeB2::default();
    for _ in 0..5 {
        fake.fault("b2_upload_file", Fault::Status(500, "internal_error", None));
    }
    let mut clock = VirtualClock::default();
    let r = upload_small(&mut fake, &mut clock, "x", b"data");
    assert_eq!(r, Err(Error::UploadUrlsExhausted { tried: 5 }));
    assert_eq!(fake.urls_issued, 5);
    assert!(fake.data("x").is_none());
}

#[test]
fn expired_token_reauthorizes_once_then_carries_on() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut s = session();
    let mut buf = [0u8; 2048];
    let id = fake.put("bkt", "f", b"abc");
    {
        let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: &id });
        run(&mut op, &mut fake, &mut clock).expect("first call");
    }
    fake.fault("b2_get_file_info", Fault::ExpireToken);
    let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: &id });
    run(&mut op, &mut fake, &mut clock).expect("call after expiry");
    assert_eq!(op.answer().expect("file").content_length, 3);
    assert_eq!(fake.count("b2_authorize_account"), 2);
    assert_eq!(fake.count("b2_get_file_info"), 3, "{:?}", fake.log);
    assert!(clock.waits.is_empty());
}

#[test]
fn too_many_requests_honours_retry_after() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut s = session();
    let mut buf = [0u8; 2048];
    let id = fake.put("bkt", "f", b"abc");
    fake.fault(
        "b2_get_file_info",
        Fault::Status(429, "too_many_requests", Some(3)),
    );
    let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: &id });
    let stats = run(&mut op, &mut fake, &mut clock).expect("call");
    assert_eq!(clock.waits, [3000]);
    assert_eq!(stats.waited_ms, 3000);
    assert_eq!(fake.count("b2_get_file_info"), 2);
}

#[test]
fn server_errors_back_off_exponentially_with_jitter() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut s = session();
    let mut buf = [0u8; 2048];
    let id = fake.put("bkt", "f", b"abc");
    for _ in 0..4 {
        fake.fault(
            "b2_get_file_info",
            Fault::Status(503, "service_unavailable", None),
        );
    }
    let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: &id });
    run(&mut op, &mut fake, &mut clock).expect("fifth try works");
    assert_eq!(clock.waits.len(), 4);
    for (i, w) in clock.waits.iter().enumerate() {
        let base = 1000u64 << i;
        assert!((base..base + 1000).contains(w), "wait {i} = {w}");
    }
    // A fifth failure would have been final (5 tries).
    for _ in 0..5 {
        fake.fault(
            "b2_get_file_info",
            Fault::Status(503, "service_unavailable", None),
        );
    }
    let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: &id });
    let e = run(&mut op, &mut fake, &mut clock).expect_err("gives up");
    assert_eq!(e.api().map(|a| a.status), Some(503));
}

#[test]
fn unauthorized_is_final() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut s = session();
    let mut buf = [0u8; 2048];
    fake.fault("b2_get_file_info", Fault::Status(401, "unauthorized", None));
    let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: "x" });
    let e = run(&mut op, &mut fake, &mut clock).expect_err("final");
    assert_eq!(e.api().map(|a| &a.code), Some(&ErrorCode::Unauthorized));
    assert_eq!(fake.count("b2_get_file_info"), 1);
    assert_eq!(fake.count("b2_authorize_account"), 1);
    assert!(clock.waits.is_empty());
}

#[test]
fn bad_credentials_fail_authorize() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let c = crate::session::Credentials::new("kid", "wrong", "http://realm.fake").expect("creds");
    let mut s = crate::session::Session::new(c);
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: "x" });
    let e = run(&mut op, &mut fake, &mut clock).expect_err("bad key");
    assert_eq!(e.api().map(|a| a.status), Some(401));
    assert_eq!(fake.log, ["GET b2_authorize_account"]);
}

fn authorized(fake: &mut FakeB2, clock: &mut VirtualClock) -> crate::session::Session {
    let mut s = session();
    let mut buf = [0u8; 1024];
    run(&mut Authorize::new(&mut s, &mut buf), fake, clock).expect("authorize");
    s
}

fn large(
    fake: &mut FakeB2,
    clock: &mut VirtualClock,
    src: &mut Generated,
    part: u64,
    resume: Option<&str>,
) -> Result<(String, u32), Error> {
    let mut s = authorized(fake, clock);
    let mut buf = [0u8; 4096];
    let mut digests = [[0u8; 20]; 64];
    let mut params = FileParams::new("bkt", "big.bin", src.size);
    params.sha1 = Some(src.sha1());
    let mut op = LargeUpload::new(&mut s, &mut buf, params, part, &mut *src, &mut digests)?;
    if let Some(id) = resume {
        op = op.resume(id)?;
    }
    let r = run(&mut op, fake, clock);
    let id = String::from(op.file_id());
    r.map_err(|e| {
        std::println!("large upload failed on {id}: {e}");
        e
    })?;
    Ok((id, op.skipped_parts()))
}

#[test]
fn large_upload_happy_path_and_finish_body() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut src = Generated::new(1050);
    large(&mut fake, &mut clock, &mut src, 200, None).expect("large");
    let (len, _, action) = fake.file("big.bin").expect("file");
    assert_eq!((len, action), (1050, "upload"));
    assert_eq!(fake.count("b2_upload_part"), 6, "{:?}", fake.log);
    // One part URL reused for every part.
    assert_eq!(fake.count("b2_get_upload_part_url"), 1);
    assert_eq!(fake.count("b2_finish_large_file"), 1);
}

#[test]
fn part_with_sha1_given_ahead() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut s = authorized(&mut fake, &mut clock);
    let mut buf = [0u8; 2048];
    let start = crate::wire::large::StartLargeFile {
        bucket_id: "bkt",
        file_name: "parts.bin",
        content_type: "b2/x-auto",
        file_info: &[],
    };
    let mut op = Call::new(&mut s, &mut buf, start);
    run(&mut op, &mut fake, &mut clock).expect("start");
    let id = String::from(op.answer().expect("answer").file_id.raw());
    let data = std::vec![7u8; 300];
    let digest: [u8; 20] = Sha1::digest(&data).into();
    let mut part = crate::op::UploadPart::new(&mut s, &mut buf, &id, 1, &data[..], 0, 300, None)
        .expect("part")
        .with_sha1(Some(digest));
    run(&mut part, &mut fake, &mut clock).expect("part with its SHA-1 in the header");
    assert_eq!(part.sha1(), digest);
    // A digest that does not match the bytes is refused, not stored.
    let mut wrong = digest;
    wrong[0] ^= 1;
    let mut part = crate::op::UploadPart::new(&mut s, &mut buf, &id, 2, &data[..], 0, 300, None)
        .expect("part")
        .with_sha1(Some(wrong));
    let e = run(&mut part, &mut fake, &mut clock).expect_err("wrong SHA-1");
    assert_eq!(e.api().map(|a| a.status), Some(400), "{e}");
}

#[test]
fn reset_mid_part_resends_that_part_on_a_new_url() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut src = Generated::new(1000);
    fake.fault("b2_upload_part", Fault::ResetMidBody);
    large(&mut fake, &mut clock, &mut src, 250, None).expect("large");
    assert_eq!(fake.count("b2_upload_part"), 5);
    assert_eq!(fake.count("b2_get_upload_part_url"), 2);
    assert_eq!(fake.file("big.bin").map(|f| f.0), Some(1000));
}

#[test]
fn lost_finish_answer_is_checked_with_file_info() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut src = Generated::new(500);
    fake.fault("b2_finish_large_file", Fault::LoseAnswer);
    large(&mut fake, &mut clock, &mut src, 100, None).expect("large");
    assert_eq!(fake.count("b2_finish_large_file"), 1, "{:?}", fake.log);
    assert_eq!(fake.count("b2_get_file_info"), 1);
    assert_eq!(fake.file("big.bin").map(|f| f.2), Some("upload"));
}

#[test]
fn resume_skips_parts_already_there() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut src = Generated::new(1000);
    // Parts 1 and 2 arrive, then part 3 fails on five URLs: the upload stops.
    let mut seen = 0;
    let first = {
        // Let two parts through, then fail part 3 five times.
        let mut s = authorized(&mut fake, &mut clock);
        let mut buf = [0u8; 4096];
        let mut digests = [[0u8; 20]; 16];
        let params = FileParams::new("bkt", "big.bin", 1000);
        let mut op =
            LargeUpload::new(&mut s, &mut buf, params, 250, &mut src, &mut digests).expect("new");
        loop {
            match crate::op::Operation::poll(&mut op, clock.now).expect("poll") {
                crate::op::Step::Send => {
                    if fake.count("b2_upload_part") == 2 && seen == 0 {
                        seen = 1;
                        for _ in 0..5 {
                            fake.fault(
                                "b2_upload_part",
                                Fault::Status(503, "service_unavailable", None),
                            );
                        }
                    }
                    if let Err(e) = crate::driver::Transport::exchange(
                        &mut fake,
                        crate::op::Operation::as_exchange(&mut op),
                    ) {
                        crate::op::Operation::transport_failed(&mut op, e, clock.now);
                    }
                    if fake.count("b2_upload_part") >= 7 {
                        match crate::op::Operation::poll(&mut op, clock.now) {
                            Err(Error::UploadUrlsExhausted { tried: 5 }) => break,
                            other => panic!("expected exhausted URLs, got {other:?}"),
                        }
                    }
                }
                crate::op::Step::Wait { until_ms } => clock.now = until_ms,
                crate::op::Step::Done => panic!("should not finish"),
            }
        }
        String::from(op.file_id())
    };
    assert_eq!(fake.file("big.bin").map(|f| f.2), Some("start"));
    let parts_before = fake.upload_bytes;
    assert_eq!(parts_before, 500);
    let (id, skipped) = large(&mut fake, &mut clock, &mut src, 250, Some(&first)).expect("resume");
    assert_eq!(id, first);
    assert_eq!(skipped, 2);
    assert_eq!(fake.upload_bytes, 1000, "only parts 3 and 4 sent again");
    assert_eq!(fake.count("b2_list_parts"), 1);
    assert_eq!(
        fake.file("big.bin").map(|f| (f.0, f.2)),
        Some((1000, "upload"))
    );
}

#[test]
fn download_verifies_sha1_and_resumes_after_truncation() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    fake.put("bkt", "d/x y.bin", &data);
    fake.fault("download_by_name", Fault::TruncateAnswer);
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut op = Download::new(
        &mut s,
        &mut buf,
        Target::ByName {
            bucket: "bkt",
            name: "d/x y.bin",
        },
        Sink::default(),
    )
    .expect("new");
    run(&mut op, &mut fake, &mut clock).expect("download");
    assert_eq!(
        op.info().sha1.map(|d| hex(&d)),
        Some(hex(&Sha1::digest(&data)))
    );
    assert_eq!(op.into_sink().0, data);
    assert_eq!(fake.count("download_by_name"), 2);
}

#[test]
fn download_with_wrong_sha1_is_an_error() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let id = fake.put("bkt", "x", b"good data");
    // Same id, different bytes: the stored SHA-1 no longer matches.
    fake.put("bkt", "y", b"other");
    fake.corrupt(&id, b"evil data");
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut op = Download::new(&mut s, &mut buf, Target::ById(&id), Sink::default()).expect("new");
    let e = run(&mut op, &mut fake, &mut clock).expect_err("mismatch");
    assert_eq!(e, Error::Sha1Mismatch);
}

#[test]
fn listing_pages_through_a_small_buffer() {
    let mut fake = FakeB2::default();
    let mut clock = VirtualClock::default();
    let mut names: Vec<String> = (0..30)
        .map(|i| std::format!("dir/{i:02}-{}", "n".repeat(200)))
        .collect();
    for n in &names {
        fake.put("bkt", n, b"x");
    }
    names.sort();
    let mut s = session();
    let mut buf = [0u8; 2048];
    let mut list = List::new(
        &mut s,
        &mut buf,
        Listing::FileNames {
            bucket_id: "bkt",
            prefix: None,
            delimiter: None,
        },
    )
    .with_page_size(50);
    let mut seen = Vec::new();
    loop {
        run(&mut list, &mut fake, &mut clock).expect("page");
        for f in list.files().expect("files").files {
            seen.push(String::from(f.expect("file").file_name.raw()));
        }
        if !list.next_page().expect("next") {
            break;
        }
    }
    assert_eq!(seen, names);
    assert!(list.page_size() < 50);
}

/// The budget of issue 2: a 1 GiB source streamed as a large file with ≤ 8 KiB of core
/// state and one 4 KiB buffer; every byte hashed by the fake server and checked.
#[test]
fn one_gib_large_upload_with_bounded_memory() {
    let mut fake = FakeB2::default();
    fake.min_part_size = 5_000_000;
    let mut clock = VirtualClock::default();
    let size = 1u64 << 30;
    let mut src = Generated::new(size);
    let (_, skipped) = large(&mut fake, &mut clock, &mut src, 64 << 20, None).expect("1 GiB");
    assert_eq!(skipped, 0);
    assert_eq!(fake.upload_bytes, size);
    assert_eq!(
        fake.file("big.bin").map(|f| (f.0, f.2)),
        Some((size, "upload"))
    );
    assert_eq!(fake.count("b2_upload_part"), 16);
    let state = core::mem::size_of::<LargeUpload<'_, '_, '_, '_, &mut Generated>>();
    assert!(state <= 8 * 1024, "LargeUpload is {state} bytes");
}
