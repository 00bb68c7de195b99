//! `Authorize`, state by state: the request it renders, what a good answer does to the
//! session, and each retry class of `b2_authorize_account`.

use std::string::ToString;

use crate::error::{BadAnswer, Error, ErrorCode};
use crate::http::{Method, TransportError};
use crate::op::script::answers::{self, API, BASIC, DOWNLOAD, MIN_PART, REALM};
use crate::op::script::{Reply, Script};
use crate::op::{Authorize, Step};

#[test]
fn renders_a_get_with_basic_credentials_and_fills_the_session() {
    let mut s = answers::session();
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut script = Script::new([Reply::ok(answers::authorize("tok-1"))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.url, std::format!("{REALM}/b2api/v4/b2_authorize_account"));
    assert_eq!(r.header("Authorization"), Some(BASIC));
    assert_eq!(r.header("User-Agent"), Some(crate::USER_AGENT));
    assert_eq!((r.content_length, r.body_len), (None, 0));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    assert!(s.is_authorized());
    assert_eq!(s.token.expose(), "tok-1");
    assert_eq!(
        (s.api_url.as_str(), s.download_url.as_str()),
        (API, DOWNLOAD)
    );
    assert_eq!(s.account_id.as_str(), "acct");
    assert_eq!(
        (s.min_part_size, s.recommended_part_size),
        (MIN_PART, 2 * MIN_PART)
    );
    assert_eq!(s.authorizations, 1);
}

#[test]
fn authorizing_again_replaces_the_token() {
    let mut s = answers::authorized("old");
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut script = Script::new([Reply::ok(answers::authorize("new"))]);
    // Not `Done` at once: a fresh authorization is sent even with a token in hand.
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
    assert_eq!((s.token.expose(), s.authorizations), ("new", 2));
}

#[test]
fn bad_credentials_are_final() {
    let mut s = answers::session();
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut script = Script::new([Reply::error(401, "unauthorized")]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let e = script.step(&mut op, 0).expect_err("final");
    let api = e.api().expect("an API error");
    assert_eq!((api.status, &api.code), (401, &ErrorCode::Unauthorized));
    script.finish();
    assert!(!s.is_authorized());
}

#[test]
fn a_server_error_backs_off_then_authorizes() {
    let mut s = answers::session();
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut script = Script::new([
        Reply::error(503, "service_unavailable"),
        Reply::ok(answers::authorize("tok-1")),
    ]);
    assert_eq!(script.step(&mut op, 10), Ok(Step::Send));
    let Ok(Step::Wait { until_ms }) = script.step(&mut op, 10) else {
        panic!("expected a backoff");
    };
    assert!((1010..2010).contains(&until_ms), "first backoff {until_ms}");
    // Polled early, it keeps waiting for the same time.
    assert_eq!(script.step(&mut op, 500), Ok(Step::Wait { until_ms }));
    assert_eq!(script.step(&mut op, until_ms), Ok(Step::Send));
    assert_eq!(script.step(&mut op, until_ms), Ok(Step::Done));
    script.finish();
    assert_eq!(script.calls(), ["GET b2_authorize_account"; 2]);
}

#[test]
fn a_refused_connection_is_retried_and_tls_refusal_is_not() {
    let mut s = answers::session();
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut script = Script::new([
        Reply::fail(TransportError::Connect),
        Reply::fail(TransportError::Tls),
    ]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let Ok(Step::Wait { until_ms }) = script.step(&mut op, 0) else {
        panic!("expected a backoff");
    };
    assert_eq!(script.step(&mut op, until_ms), Ok(Step::Send));
    assert_eq!(
        script.step(&mut op, until_ms),
        Err(Error::Transport(TransportError::Tls))
    );
    script.finish();
}

#[test]
fn gives_up_after_five_tries() {
    let mut s = answers::session();
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut script = Script::new((0..5).map(|_| Reply::error(500, "internal_error")));
    let mut clock = crate::op::script::VirtualClock::default();
    let e = crate::driver::run(&mut op, &mut script, &mut clock).expect_err("gives up");
    assert_eq!(e.api().map(|a| a.status), Some(500));
    assert_eq!(script.sent.len(), 5);
    assert_eq!(clock.waits.len(), 4);
}

#[test]
fn an_answer_with_a_non_http_api_url_is_refused() {
    let mut s = answers::session();
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut s, &mut buf);
    let mut bad = answers::authorize("tok-1");
    bad["apiInfo"]["storageApi"]["apiUrl"] = "ftp://api.test".into();
    let mut script = Script::new([Reply::ok(bad)]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.step(&mut op, 0),
        Err(Error::BadAnswer(BadAnswer::Mismatch))
    );
    script.finish();
    assert!(!s.is_authorized());
}

#[test]
fn an_answer_larger_than_the_buffer_says_how_much_is_needed() {
    let mut s = answers::session();
    let mut buf = [0u8; 200];
    let mut op = Authorize::new(&mut s, &mut buf);
    let body = answers::authorize("tok-1").to_string();
    let mut script = Script::new([Reply::ok(answers::authorize("tok-1"))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.step(&mut op, 0),
        Err(Error::BufferTooSmall { needed: body.len() })
    );
}
