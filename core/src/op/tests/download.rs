//! `Download`, state by state: the request by name or id, the SHA-1 check at the end, a
//! broken answer resumed with `Range`, and what a resumed or ranged answer must say.

use std::vec::Vec;

use crate::driver::run;
use crate::error::{BadAnswer, Error, ErrorCode};
use crate::http::Method;
use crate::op::script::answers::{self, DOWNLOAD};
use crate::op::script::{hex, sha1, Reply, Script, VirtualClock};
use crate::op::{Download, Step, Target};

const ID: &str = "4_f1";

/// A sink collecting the downloaded bytes.
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

fn data() -> Vec<u8> {
    (0..5000u32).map(|i| (i * 7) as u8).collect()
}

const BY_NAME: Target<'static> = Target::ByName {
    bucket: "bkt",
    name: "d/x y.bin",
};

#[test]
fn by_name_renders_a_get_and_verifies_the_sha1() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([answers::download(ID, &data)]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.url, std::format!("{DOWNLOAD}/file/bkt/d/x%20y.bin"));
    assert_eq!(r.header("Authorization"), Some("tok-1"));
    assert_eq!(r.header("Range"), None);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    let info = op.info().clone();
    assert_eq!(info.file_id.as_str(), ID);
    assert_eq!((info.length, info.file_size), (5000, 5000));
    assert_eq!(info.sha1, Some(sha1(&data)));
    assert!(info.verified);
    assert_eq!(op.into_sink().0, data);
}

#[test]
fn by_id_renders_the_file_id_in_the_query() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, Target::ById(ID), Sink::default()).expect("new");
    let mut script = Script::new([answers::download(ID, b"abc")]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    script.finish();
    assert_eq!(
        script.last().url,
        std::format!("{DOWNLOAD}/b2api/v4/b2_download_file_by_id?fileId=4_f1")
    );
    assert_eq!(op.into_sink().0, b"abc");
}

#[test]
fn a_wrong_sha1_is_an_error() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let evil =
        answers::download(ID, b"evil data").header("x-bz-content-sha1", &hex(&sha1(b"good data")));
    let mut script = Script::new([evil]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.step(&mut op, 0), Err(Error::Sha1Mismatch));
    script.finish();
}

#[test]
fn a_dropped_answer_resumes_with_a_range_and_still_verifies() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([
        answers::download(ID, &data).dropped_after(2100),
        answers::download_range(ID, &data, 2100, 4999),
    ]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(op.bytes_written(), 2100);
    let Ok(Step::Wait { until_ms }) = script.step(&mut op, 0) else {
        panic!("expected a backoff");
    };
    assert_eq!(script.step(&mut op, until_ms), Ok(Step::Send));
    assert_eq!(script.last().header("Range"), Some("bytes=2100-"));
    assert_eq!(script.step(&mut op, until_ms), Ok(Step::Done));
    script.finish();
    assert!(op.info().verified);
    assert_eq!(op.into_sink().0, data, "nothing written twice");
}

#[test]
fn a_truncated_answer_resumes_too() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([
        answers::download(ID, &data).truncated(1400),
        answers::download_range(ID, &data, 1400, 4999),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    script.finish();
    assert_eq!(script.last().header("Range"), Some("bytes=1400-"));
    assert_eq!(op.into_sink().0, data);
}

#[test]
fn a_resumed_answer_of_another_file_is_refused() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([
        answers::download(ID, &data).dropped_after(700),
        answers::download_range("4_f2", &data, 700, 4999),
    ]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("another file");
    script.finish();
    assert_eq!(e, Error::BadAnswer(BadAnswer::Mismatch));
}

#[test]
fn a_resumed_answer_from_the_wrong_offset_is_refused() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([
        answers::download(ID, &data).dropped_after(700),
        answers::download_range(ID, &data, 0, 4999),
    ]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("wrong offset");
    assert_eq!(e, Error::BadAnswer(BadAnswer::Mismatch));
}

#[test]
fn a_body_longer_than_announced_is_refused() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let long = answers::download(ID, b"abcdef").header("Content-Length", "3");
    let mut script = Script::new([long]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("too long");
    assert_eq!(e, Error::BadAnswer(BadAnswer::Mismatch));
}

#[test]
fn a_range_is_rendered_and_not_verified() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut op = op.range(10, 19).expect("range");
    let mut script = Script::new([answers::download_range(ID, &data, 10, 19)]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    script.finish();
    assert_eq!(script.last().header("Range"), Some("bytes=10-19"));
    assert_eq!((op.info().length, op.info().file_size), (10, 5000));
    assert!(!op.info().verified);
    assert_eq!(op.into_sink().0, &data[10..20]);
}

#[test]
fn a_range_answered_without_content_range_is_refused() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut op = op.range(10, 19).expect("range");
    let mut script = Script::new([answers::download(ID, &data)]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("no Content-Range");
    assert_eq!(e, Error::BadAnswer(BadAnswer::Header));
}

#[test]
fn a_large_file_is_verified_by_its_large_file_sha1() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let large = answers::download(ID, &data)
        .header("x-bz-content-sha1", "none")
        .header("x-bz-info-large_file_sha1", &hex(&sha1(&data)));
    let mut script = Script::new([large]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    assert!(op.info().verified);

    // The same with a corrupted body.
    let mut s = answers::authorized("tok-1");
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut bad = data.clone();
    bad[4000] ^= 1;
    let large = answers::download(ID, &bad)
        .header("x-bz-content-sha1", "none")
        .header("x-bz-info-large_file_sha1", &hex(&sha1(&data)));
    let mut script = Script::new([large]);
    let e = run(&mut op, &mut script, &mut clock).expect_err("corrupted");
    assert_eq!(e, Error::Sha1Mismatch);
}

#[test]
fn without_any_sha1_the_download_is_not_verified() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script =
        Script::new([answers::download(ID, b"abc").header("x-bz-content-sha1", "none")]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    assert_eq!(op.info().sha1, None);
    assert!(!op.info().verified);
}

#[test]
fn head_only_reads_the_metadata() {
    let data = data();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut op = op.head_only();
    // A HEAD answer announces the file's length and has no body.
    let head = match answers::download(ID, &data) {
        Reply::Answer {
            status,
            headers,
            end,
            ..
        } => Reply::Answer {
            status,
            headers,
            body: Vec::new(),
            end,
        },
        other => other,
    };
    let mut script = Script::new([head]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("head");
    assert_eq!(script.last().method, Method::Head);
    assert_eq!(op.info().length, 5000);
    assert!(op.into_sink().0.is_empty());
}

#[test]
fn not_found_is_final_and_busy_is_retried() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([Reply::error(404, "not_found")]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("final");
    assert_eq!(e.api().map(|a| &a.code), Some(&ErrorCode::NotFound));

    let mut s = answers::authorized("tok-1");
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([
        Reply::error(429, "too_many_requests").retry_after(2),
        Reply::error(503, "service_unavailable"),
        answers::download(ID, b"abc"),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    script.finish();
    assert_eq!(clock.waits[0], 2000);
    assert!((1000..2000).contains(&clock.waits[1]), "{:?}", clock.waits);
    assert_eq!(op.into_sink().0, b"abc");
}

#[test]
fn an_expired_token_reauthorizes_and_downloads_with_the_new_one() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut script = Script::new([
        Reply::error(401, "expired_auth_token"),
        Reply::ok(answers::authorize("tok-2")),
        answers::download(ID, b"abc"),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    script.finish();
    assert_eq!(script.last().header("Authorization"), Some("tok-2"));
}

#[test]
fn a_download_authorization_replaces_the_account_token() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let op = Download::new(&mut s, &mut buf, BY_NAME, Sink::default()).expect("new");
    let mut op = op.authorization("dl-tok");
    let mut script = Script::new([answers::download(ID, b"abc")]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("download");
    assert_eq!(script.last().header("Authorization"), Some("dl-tok"));
}
