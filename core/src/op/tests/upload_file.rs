//! `UploadFile` (a small file on an upload URL), state by state: the upload URL call, the
//! upload request and its streamed body, and the upload retry classes (a new URL after 503,
//! a reset or an expired upload token; a wait after 429; five failed URLs → a clear error).

use std::format;

use crate::driver::run;
use crate::error::{BadAnswer, Error};
use crate::http::{Method, TransportError};
use crate::op::script::answers::{self, API};
use crate::op::script::{hex, sha1, Reply, Script, VirtualClock};
use crate::op::{FileParams, Step, UploadFile, UploadUrl};

const BUCKET: &str = "bkt";
const ID: &str = "4_f1";

/// The upload URL number `n` as a caller would hand it in.
fn url(n: u32) -> UploadUrl {
    UploadUrl::new(BUCKET, &answers::upload_url_of(n), &format!("up-{n}")).expect("url")
}

/// Body of an upload with the SHA-1 at the end (`hex_digits_at_end`).
fn with_trailer(data: &[u8]) -> std::vec::Vec<u8> {
    let mut b = data.to_vec();
    b.extend_from_slice(hex(&sha1(data)).as_bytes());
    b
}

#[test]
fn without_a_url_it_gets_one_then_streams_the_file_with_its_sha1_at_the_end() {
    let data = b"hello, b2";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut params = FileParams::new(BUCKET, "dir/a b+c é.txt", data.len() as u64);
    params.info = &[("k", "v v+é")];
    params.src_last_modified_millis = Some(1234);
    params.content_type = "text/plain";
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], None).expect("new");
    let mut script = Script::new([
        Reply::ok(answers::upload_url(BUCKET, 1)),
        Reply::ok(answers::file(ID, "dir/a b+c é.txt", data)),
    ]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.url, format!("{API}/b2api/v4/b2_get_upload_url"));
    assert_eq!(r.header("Authorization"), Some("tok-1"));
    assert_eq!(r.json(), serde_json::json!({ "bucketId": BUCKET }));

    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.url, answers::upload_url_of(1));
    assert_eq!(r.header("Authorization"), Some("up-1"));
    assert_eq!(
        r.header("X-Bz-File-Name"),
        Some("dir/a%20b%2Bc%20%C3%A9.txt")
    );
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    assert_eq!(r.header("X-Bz-Info-src_last_modified_millis"), Some("1234"));
    assert_eq!(r.header("X-Bz-Info-k"), Some("v%20v%2B%C3%A9"));
    assert_eq!(r.header("X-Bz-Content-Sha1"), Some("hex_digits_at_end"));
    assert_eq!(r.content_length, Some(data.len() as u64 + 40));
    assert_eq!(r.body, with_trailer(data));

    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    assert_eq!(op.sha1(), sha1(data));
    assert_eq!(op.urls_tried(), 1);
    assert_eq!(op.file().expect("file").file_id.raw(), ID);
    // The URL worked: it is handed back for the next upload.
    assert_eq!(op.take_upload_url(), Some(url(1)));
}

#[test]
fn with_a_url_in_hand_the_upload_is_the_first_request() {
    let data = b"data";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(7))).expect("new");
    let mut script = Script::new([Reply::ok(answers::file(ID, "x", data))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().url, answers::upload_url_of(7));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
}

#[test]
fn a_url_for_another_bucket_is_not_used() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new("other", "x", 4);
    let mut op =
        UploadFile::new(&mut s, &mut buf, params, &b"data"[..], Some(url(7))).expect("new");
    let mut script = Script::new([Reply::ok(answers::upload_url("other", 1))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().call(), "b2_get_upload_url");
}

#[test]
fn a_sha1_known_ahead_goes_in_the_header() {
    let data = b"known";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut params = FileParams::new(BUCKET, "x", 5);
    params.sha1 = Some(sha1(data));
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    let mut script = Script::new([Reply::ok(answers::file(ID, "x", data))]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("upload");
    script.finish();
    let r = script.last();
    assert_eq!(
        r.header("X-Bz-Content-Sha1"),
        Some(hex(&sha1(data)).as_str())
    );
    assert_eq!((r.content_length, &r.body[..]), (Some(5), &data[..]));
}

#[test]
fn an_empty_file_sends_only_the_empty_sha1() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "empty", 0);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &b""[..], Some(url(1))).expect("new");
    let mut script = Script::new([Reply::ok(answers::file(ID, "empty", b""))]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("upload");
    script.finish();
    let r = script.last();
    assert_eq!(r.content_length, Some(40));
    assert_eq!(r.body, b"da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

#[test]
fn a_503_drops_the_url_and_gets_a_new_one_without_waiting() {
    let data = b"data";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    let mut script = Script::new([
        Reply::error(503, "service_unavailable"),
        Reply::ok(answers::no_files()),
        Reply::ok(answers::upload_url(BUCKET, 2)),
        Reply::ok(answers::file(ID, "x", data)),
    ]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    // The body went out whole before the 503: first ask whether B2 stored it anyway.
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().call(), "b2_list_file_versions");
    assert_eq!(script.last().json()["startFileName"], "x");
    assert_eq!(script.last().json()["maxFileCount"], 5);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().call(), "b2_get_upload_url");
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().url, answers::upload_url_of(2));
    assert_eq!(script.last().header("Authorization"), Some("up-2"));
    assert_eq!(script.last().body, with_trailer(data));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    assert_eq!(op.urls_tried(), 2);
    // The failed URL is never handed back; the one that worked is.
    assert_eq!(op.take_upload_url(), Some(url(2)));
}

#[test]
fn a_reset_mid_body_sends_the_whole_file_again_on_a_new_url() {
    let data: std::vec::Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", data.len() as u64);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    let mut script = Script::new([
        Reply::reset_mid_body(2500),
        Reply::ok(answers::upload_url(BUCKET, 2)),
        Reply::ok(answers::file(ID, "x", &data)),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("upload");
    script.finish();
    assert_eq!(script.sent[0].body_len, 2500);
    assert_eq!(script.sent[2].body, with_trailer(&data));
    assert!(clock.waits.is_empty());
}

#[test]
fn an_expired_upload_token_gets_a_new_url() {
    let data = b"data";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    let mut script = Script::new([
        Reply::error(401, "expired_auth_token"),
        Reply::ok(answers::upload_url(BUCKET, 2)),
        Reply::ok(answers::file(ID, "x", data)),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("upload");
    script.finish();
    // The account token was fine: no re-authorization.
    assert_eq!(
        script.calls(),
        ["POST 1", "POST b2_get_upload_url", "POST 2"]
    );
}

#[test]
fn a_429_waits_retry_after_before_a_new_url() {
    let data = b"data";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    let mut script = Script::new([
        Reply::error(429, "too_many_requests").retry_after(2),
        Reply::ok(answers::upload_url(BUCKET, 2)),
        Reply::ok(answers::file(ID, "x", data)),
    ]);
    assert_eq!(script.step(&mut op, 100), Ok(Step::Send));
    assert_eq!(script.step(&mut op, 100), Ok(Step::Wait { until_ms: 2100 }));
    assert_eq!(script.step(&mut op, 2100), Ok(Step::Send));
    assert_eq!(script.last().call(), "b2_get_upload_url");
    let mut clock = VirtualClock {
        now: 2100,
        ..VirtualClock::default()
    };
    run(&mut op, &mut script, &mut clock).expect("upload");
    script.finish();
}

#[test]
fn five_failed_urls_is_a_clear_error() {
    let data = b"data";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], None).expect("new");
    let mut script = Script::new([]);
    for n in 1..=5 {
        script.push(Reply::ok(answers::upload_url(BUCKET, n)));
        script.push(Reply::error(500, "internal_error"));
        // Each 500 came after the whole body: B2 is asked, and has nothing.
        script.push(Reply::ok(answers::no_files()));
    }
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("exhausted");
    script.finish();
    assert_eq!(e, Error::UploadUrlsExhausted { tried: 5 });
    let urls: std::vec::Vec<&str> = script
        .sent
        .iter()
        .filter(|r| r.url.starts_with("http://up.test/"))
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(urls.len(), 5);
    assert!(
        (1..5).all(|i| urls[i] != urls[i - 1]),
        "each try on a new URL: {urls:?}"
    );
    assert_eq!(op.take_upload_url(), None);
}

#[test]
fn a_bad_request_is_final() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op =
        UploadFile::new(&mut s, &mut buf, params, &b"data"[..], Some(url(1))).expect("new");
    let mut script = Script::new([Reply::error(400, "bad_request")]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("final");
    script.finish();
    assert_eq!(e.api().map(|a| a.status), Some(400));
}

#[test]
fn an_answer_with_another_sha1_or_length_is_refused() {
    let data = b"data";
    for (answer, want) in [
        (answers::file(ID, "x", b"dat4"), Error::UploadSha1Mismatch),
        (
            answers::file(ID, "x", b"data!"),
            Error::BadAnswer(BadAnswer::Mismatch),
        ),
    ] {
        let mut s = answers::authorized("tok-1");
        let mut buf = [0u8; 2048];
        let params = FileParams::new(BUCKET, "x", 4);
        let mut op =
            UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
        let mut script = Script::new([Reply::ok(answer)]);
        assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
        assert_eq!(script.step(&mut op, 0), Err(want));
        script.finish();
    }
}

#[test]
fn a_source_shorter_than_its_size_stops_the_upload() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 10);
    let mut op =
        UploadFile::new(&mut s, &mut buf, params, &b"data"[..], Some(url(1))).expect("new");
    // The transport is told to stop (the reply is never reached).
    let mut script = Script::new([Reply::error(500, "never sent")]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.step(&mut op, 0),
        Err(Error::SourceTooShort { offset: 4 })
    );
}

#[test]
fn bad_names_and_sizes_are_refused_before_any_request() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "bad\u{7f}name", 4);
    assert!(UploadFile::new(&mut s, &mut buf, params, &b"data"[..], None).is_err());
    let params = FileParams::new(BUCKET, "big", 5_000_000_001);
    assert!(UploadFile::new(&mut s, &mut buf, params, &b""[..], None).is_err());
}

#[test]
fn a_refused_connection_moves_to_a_new_url() {
    let data = b"data";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    let mut script = Script::new([
        Reply::fail(TransportError::Connect),
        Reply::ok(answers::upload_url(BUCKET, 2)),
        Reply::ok(answers::file(ID, "x", data)),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("upload");
    script.finish();
    assert_eq!(script.sent[0].body_len, 0);
    assert_eq!(script.last().url, answers::upload_url_of(2));
}

#[test]
fn a_lost_answer_finds_the_upload_stored_and_does_not_send_it_again() {
    let data = b"stored once";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut params = FileParams::new(BUCKET, "dir/x.bin", data.len() as u64);
    params.src_last_modified_millis = Some(1234);
    let info = [("color", "blue")];
    params.info = &info;
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    let mut stored = answers::file(ID, "dir/x.bin", data);
    // B2 lists the info in its own order.
    stored["fileInfo"] = serde_json::json!({"src_last_modified_millis": "1234", "color": "blue"});
    // A newer unfinished large file of the name is listed first: not a version, skipped.
    let mut unfinished = answers::large_start("4_start", "dir/x.bin");
    unfinished["uploadTimestamp"] = serde_json::json!(1_800_000_000_000u64);
    let mut script = Script::new([
        Reply::lost_answer(),
        Reply::ok(serde_json::json!({"files": [unfinished, stored], "nextFileName": null})),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("found stored");
    script.finish();
    assert_eq!(script.calls(), ["POST 1", "POST b2_list_file_versions"]);
    let f = op.file().expect("the stored version is the result");
    assert_eq!(f.file_id, ID);
    // A URL whose exchange failed is not handed back.
    assert_eq!(op.take_upload_url(), None);
}

#[test]
fn a_lost_answer_with_another_newest_version_sends_again() {
    let data = b"mine";
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let params = FileParams::new(BUCKET, "x", 4);
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url(1))).expect("new");
    // The newest version of "x" has other bytes, or other info: not this upload.
    let other = answers::file("4_other", "x", b"else");
    let mut same_bytes_other_info = answers::file("4_other2", "x", data);
    same_bytes_other_info["fileInfo"] = serde_json::json!({"k": "v"});
    for newest in [other, same_bytes_other_info] {
        let mut s2 = answers::authorized("tok-1");
        let mut buf2 = [0u8; 2048];
        let mut op2 =
            UploadFile::new(&mut s2, &mut buf2, params, &data[..], Some(url(1))).expect("new");
        let mut script = Script::new([
            Reply::lost_answer(),
            Reply::ok(serde_json::json!({"files": [newest], "nextFileName": null})),
            Reply::ok(answers::upload_url(BUCKET, 2)),
            Reply::ok(answers::file(ID, "x", data)),
        ]);
        run(&mut op2, &mut script, &mut VirtualClock::default()).expect("sent again");
        script.finish();
        assert_eq!(
            script.calls(),
            [
                "POST 1",
                "POST b2_list_file_versions",
                "POST b2_get_upload_url",
                "POST 2"
            ]
        );
    }
    // A reset in the middle of the body is not ambiguous: no check, straight to a new URL.
    let mut script = Script::new([
        Reply::reset_mid_body(2),
        Reply::ok(answers::upload_url(BUCKET, 2)),
        Reply::ok(answers::file(ID, "x", data)),
    ]);
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("sent again");
    script.finish();
    assert_eq!(
        script.calls(),
        ["POST 1", "POST b2_get_upload_url", "POST 2"]
    );
}
