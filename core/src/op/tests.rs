//! Unit tests of the operations.
//!
//! Each operation is tested state by state with scripted answers (`op::script`): a test
//! starts in the state it checks, feeds one canned answer or transport error per exchange and
//! checks the next step, the request rendered, the wait or the error. One file per operation:
//!
//! - `tests/authorize.rs`: `Authorize`;
//! - `tests/call.rs`: `Call` and the retry classes of a JSON call;
//! - `tests/upload_file.rs`: `UploadFile` (small files on upload URLs);
//! - `tests/download.rs`: `Download`;
//! - `tests/list.rs`: `List`.
//!
//! Scenario tests of the same operations against `b2-sim` over real sockets are in the
//! workspace's `tests/tests/core_ops.rs`.
//!
//! The large-file tests below still drive `LargeUpload` through the in-process fake B2 of
//! `testkit.rs`; they move to scripted answers with the large-file engine's rewrite.

mod authorize;
mod call;
mod download;
mod list;
mod upload_file;

use std::string::String;
use std::vec::Vec;

use sha1::{Digest, Sha1};

use crate::driver::run;
use crate::error::Error;
use crate::op::{Authorize, Call, FileParams, LargeUpload, Source};
use crate::testkit::{session, FakeB2, Fault, VirtualClock};

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
    checkpoint: Option<&[u8]>,
) -> Result<(String, u32), Error> {
    let mut s = authorized(fake, clock);
    let mut buf = [0u8; 4096];
    let mut digests = [[0u8; 20]; 64];
    let mut params = FileParams::new("bkt", "big.bin", src.size);
    params.sha1 = Some(src.sha1());
    let resume = match checkpoint {
        Some(bytes) => crate::op::Resume::Checkpoint(crate::op::large::Checkpoint::decode(
            bytes,
            &mut digests,
        )?),
        None => crate::op::Resume::No,
    };
    let mut op = LargeUpload::with_resume(
        &mut s,
        &mut buf,
        params,
        part,
        &mut *src,
        &mut digests,
        resume,
    )?;
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
        let mut params = FileParams::new("bkt", "big.bin", 1000);
        params.sha1 = Some(src.sha1());
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
        let mut cp = std::vec![0u8; op.coordinator().checkpoint_len()];
        let n = op.write_checkpoint(&mut cp).expect("checkpoint");
        cp.truncate(n);
        (String::from(op.file_id()), cp)
    };
    let (first, checkpoint) = first;
    assert_eq!(fake.file("big.bin").map(|f| f.2), Some("start"));
    let parts_before = fake.upload_bytes;
    assert_eq!(parts_before, 500);
    let (id, skipped) =
        large(&mut fake, &mut clock, &mut src, 250, Some(&checkpoint)).expect("resume");
    assert_eq!(id, first);
    assert_eq!(skipped, 2);
    assert_eq!(fake.upload_bytes, 1000, "only parts 3 and 4 sent again");
    assert_eq!(fake.count("b2_list_parts"), 1);
    assert_eq!(
        fake.file("big.bin").map(|f| (f.0, f.2)),
        Some((1000, "upload"))
    );
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
