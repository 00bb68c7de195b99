//! `Call` (any JSON call), state by state: the request it renders and each retry class of
//! the integration checklist (503 backoff with jitter, 429 `Retry-After`, expired token →
//! re-authorization, `unauthorized` final, lost answers, answers that do not fit).

use std::string::ToString;

use crate::driver::run;
use crate::error::{Error, ErrorCode};
use crate::http::{Method, TransportError};
use crate::op::script::answers::{self, API, BASIC};
use crate::op::script::{Reply, Script, VirtualClock};
use crate::op::{Call, Step};
use crate::retry::RetryPolicy;
use crate::wire::file::GetFileInfo;

const ID: &str = "4_f1";

fn info() -> GetFileInfo<'static> {
    GetFileInfo { file_id: ID }
}

#[test]
fn renders_a_post_with_the_account_token_and_reads_the_answer() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([Reply::ok(answers::file(ID, "a.txt", b"abc"))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.url, std::format!("{API}/b2api/v4/b2_get_file_info"));
    assert_eq!(r.header("Authorization"), Some("tok-1"));
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.content_length, Some(r.body_len));
    assert_eq!(r.json(), serde_json::json!({ "fileId": ID }));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    let f = op.answer().expect("answer");
    assert_eq!((f.file_id.raw(), f.content_length), (ID, 3));
}

#[test]
fn an_unauthorized_session_authorizes_first() {
    let mut s = answers::session();
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([
        Reply::ok(answers::authorize("tok-1")),
        Reply::ok(answers::file(ID, "a.txt", b"abc")),
    ]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().header("Authorization"), Some(BASIC));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().header("Authorization"), Some("tok-1"));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    assert_eq!(
        script.calls(),
        ["GET b2_authorize_account", "POST b2_get_file_info"]
    );
}

#[test]
fn server_errors_back_off_exponentially_with_jitter() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new((0..4).map(|_| Reply::error(503, "service_unavailable")));
    script.push(Reply::ok(answers::file(ID, "a.txt", b"abc")));
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("the fifth try works");
    script.finish();
    assert_eq!(clock.waits.len(), 4);
    for (i, w) in clock.waits.iter().enumerate() {
        let base = 1000u64 << i;
        assert!((base..base + 1000).contains(w), "wait {i} = {w}");
    }
    assert!(
        clock.waits.iter().any(|w| w % 1000 != 0),
        "no jitter in {:?}",
        clock.waits
    );
}

#[test]
fn the_fifth_server_error_is_final() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new((0..5).map(|_| Reply::error(503, "service_unavailable")));
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("gives up");
    script.finish();
    assert_eq!(e.api().map(|a| a.status), Some(503));
    assert_eq!(clock.waits.len(), 4);
}

#[test]
fn the_policy_caps_the_tries() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let policy = RetryPolicy {
        max_json_tries: 2,
        ..RetryPolicy::default()
    };
    let mut op = Call::new(&mut s, &mut buf, info()).with_policy(policy);
    let mut script = Script::new((0..2).map(|_| Reply::error(500, "internal_error")));
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("gives up");
    script.finish();
    assert_eq!(e.api().map(|a| a.status), Some(500));
}

#[test]
fn too_many_requests_waits_exactly_retry_after() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([
        Reply::error(429, "too_many_requests").retry_after(3),
        Reply::ok(answers::file(ID, "a.txt", b"abc")),
    ]);
    assert_eq!(script.step(&mut op, 500), Ok(Step::Send));
    assert_eq!(script.step(&mut op, 500), Ok(Step::Wait { until_ms: 3500 }));
    assert_eq!(script.step(&mut op, 3500), Ok(Step::Send));
    assert_eq!(script.step(&mut op, 3500), Ok(Step::Done));
    script.finish();
}

#[test]
fn an_expired_token_reauthorizes_once_and_resends_at_once() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([
        Reply::error(401, "expired_auth_token"),
        Reply::ok(answers::authorize("tok-2")),
        Reply::ok(answers::file(ID, "a.txt", b"abc")),
    ]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().header("Authorization"), Some("tok-1"));
    // No wait: the next request is the authorization, then the call with the new token.
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().header("Authorization"), Some(BASIC));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.last().header("Authorization"), Some("tok-2"));
    assert_eq!(script.last().json(), serde_json::json!({ "fileId": ID }));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    assert_eq!(op.answer().expect("answer").content_length, 3);
    drop(op);
    assert_eq!((s.token.expose(), s.authorizations), ("tok-2", 2));
}

#[test]
fn a_bad_token_reauthorizes_too() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([
        Reply::error(401, "bad_auth_token"),
        Reply::ok(answers::authorize("tok-2")),
        Reply::ok(answers::file(ID, "a.txt", b"abc")),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("call");
    script.finish();
    assert!(clock.waits.is_empty());
}

#[test]
fn re_authorizations_are_capped() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    // Three re-authorizations are allowed; the fourth expiry is final.
    let mut script = Script::new([Reply::error(401, "expired_auth_token")]);
    for i in 2..5 {
        script.push(Reply::ok(answers::authorize(&std::format!("tok-{i}"))));
        script.push(Reply::error(401, "expired_auth_token"));
    }
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("final");
    script.finish();
    assert_eq!(e.api().map(|a| &a.code), Some(&ErrorCode::ExpiredAuthToken));
}

#[test]
fn unauthorized_is_final() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([Reply::error(401, "unauthorized")]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let e = script.step(&mut op, 0).expect_err("final");
    script.finish();
    assert_eq!(e.api().map(|a| &a.code), Some(&ErrorCode::Unauthorized));
    drop(op);
    assert_eq!(s.authorizations, 1, "no re-authorization");
}

#[test]
fn bad_credentials_stop_the_call_before_it_is_sent() {
    let mut s = answers::session();
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([Reply::error(401, "unauthorized")]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("bad key");
    script.finish();
    assert_eq!(e.api().map(|a| a.status), Some(401));
    assert_eq!(script.calls(), ["GET b2_authorize_account"]);
}

#[test]
fn not_found_is_final_with_its_code_and_message() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([Reply::error(404, "not_found")]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("final");
    script.finish();
    let api = e.api().expect("API error");
    assert_eq!((api.status, &api.code), (404, &ErrorCode::NotFound));
    assert_eq!(api.message.as_str(), "scripted not_found");
}

#[test]
fn a_lost_answer_is_retried_after_a_backoff() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([
        Reply::lost_answer(),
        Reply::ok(answers::file(ID, "a.txt", b"abc")),
    ]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let Ok(Step::Wait { until_ms }) = script.step(&mut op, 0) else {
        panic!("expected a backoff");
    };
    assert!((1000..2000).contains(&until_ms));
    assert_eq!(script.step(&mut op, until_ms), Ok(Step::Send));
    // The same body again.
    assert_eq!(script.sent[0].body, script.sent[1].body);
    assert_eq!(script.step(&mut op, until_ms), Ok(Step::Done));
    script.finish();
}

#[test]
fn a_truncated_answer_is_a_broken_connection() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([
        Reply::ok(answers::file(ID, "a.txt", b"abc")).truncated(20),
        Reply::ok(answers::file(ID, "a.txt", b"abc")).dropped_after(20),
        Reply::ok(answers::file(ID, "a.txt", b"abc")),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut op, &mut script, &mut clock).expect("third answer is whole");
    script.finish();
    assert_eq!(clock.waits.len(), 2);
    assert_eq!(op.answer().expect("answer").content_length, 3);
}

#[test]
fn a_tls_refusal_is_final() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, info());
    let mut script = Script::new([Reply::fail(TransportError::Tls)]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.step(&mut op, 0),
        Err(Error::Transport(TransportError::Tls))
    );
    script.finish();
}

#[test]
fn an_answer_larger_than_the_buffer_says_how_much_is_needed() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 256];
    let mut op = Call::new(&mut s, &mut buf, info());
    let body = answers::file(ID, "a.txt", b"abc").to_string();
    assert!(body.len() > 256);
    let mut script = Script::new([Reply::ok(answers::file(ID, "a.txt", b"abc"))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.step(&mut op, 0),
        Err(Error::BufferTooSmall { needed: body.len() })
    );
    script.finish();
}

#[test]
fn a_long_error_answer_is_cut_not_refused() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 256];
    let mut op = Call::new(&mut s, &mut buf, info());
    let long = "x".repeat(2000);
    let mut script = Script::new([Reply::json(
        400,
        serde_json::json!({"status": 400, "code": "bad_request", "message": long}),
    )]);
    let mut clock = VirtualClock::default();
    let e = run(&mut op, &mut script, &mut clock).expect_err("final");
    script.finish();
    assert_eq!(e.api().map(|a| a.status), Some(400));
}

/// A transport that fails before it even asks for the request (it cannot connect).
struct Unreachable(u32);

impl crate::driver::Transport for Unreachable {
    fn exchange(
        &mut self,
        _ex: &mut dyn crate::op::Exchange,
    ) -> Result<(), crate::http::TransportError> {
        self.0 += 1;
        assert!(self.0 < 100, "retried without end");
        Err(crate::http::TransportError::Connect)
    }
}

#[test]
fn a_transport_failing_before_the_request_is_still_counted() {
    use crate::op::{Authorize, FileParams, UploadFile, UploadUrl};
    // A JSON call on an authorized session: five tries, then the error.
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: "4_f" });
    let mut t = Unreachable(0);
    let e = run(&mut op, &mut t, &mut VirtualClock::default()).expect_err("unreachable");
    assert_eq!(e, Error::Transport(crate::http::TransportError::Connect));
    assert_eq!(t.0, 5);
    // Authorization, the same.
    let mut s = answers::session();
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut t = Unreachable(0);
    run(&mut op, &mut t, &mut VirtualClock::default()).expect_err("unreachable");
    assert_eq!(t.0, 5);
    // An upload with a URL in hand: five URLs, then exhausted (their replacements come
    // from b2_get_upload_url, which fails the same way and ends it first).
    let mut s = answers::authorized("tok-1");
    let url = UploadUrl::new("bkt", "http://up.test/1", "up-1").expect("url");
    let mut op = UploadFile::new(
        &mut s,
        &mut buf,
        FileParams::new("bkt", "x", 1),
        &b"x"[..],
        Some(url),
    )
    .expect("new");
    let mut t = Unreachable(0);
    run(&mut op, &mut t, &mut VirtualClock::default()).expect_err("unreachable");
    assert!(t.0 <= 10, "{}", t.0);
}
