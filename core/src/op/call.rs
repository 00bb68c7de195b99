//! The shared life of one call on the account token: authorize when needed, send, classify
//! the outcome, back off, re-authorize on an expired token.
//!
//! [`CallState`] is embedded in every operation that makes JSON calls or downloads; the
//! operation renders its own request and reads the answer body, the state decides what
//! happens next.

use crate::error::{ApiError, BadAnswer, Error};
use crate::http::{parse_content_length, Headers, Method, Request, TransportError};
use crate::op::head::HeadWriter;
use crate::op::Abort;
use crate::retry::{classify, Backoff, CallKind, Outcome, RetryPolicy, Verdict};
use crate::session::Session;
use crate::wire::{self, Answer as _, ApiCall};

/// Writes a JSON call's body into a buffer (given the account id) and returns its length.
type BodyWriter<'a> = dyn Fn(&str, &mut [u8]) -> Result<usize, Error> + 'a;

/// Status, `Retry-After` and body of the answer being received.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AnswerState {
    /// HTTP status (0 until the head arrived).
    pub status: u16,
    /// `Retry-After` in seconds.
    pub retry_after: Option<u32>,
    /// Body bytes stored in the buffer.
    pub len: usize,
    /// Body bytes announced by `Content-Length`.
    pub content_length: Option<u64>,
    /// The answer carried a `Content-Length` that is not one number (garbage, a sign,
    /// beyond `u64`, several different values): a malformed answer.
    pub length_invalid: bool,
    /// Body bytes that arrived in all (stored or not).
    pub received: u64,
    /// The head arrived and `response_end` was called.
    pub complete: bool,
}

impl AnswerState {
    /// Records the answer head.
    pub fn head(&mut self, status: u16, headers: &dyn Headers) {
        let length = headers.get("Content-Length");
        let content_length = length.and_then(parse_content_length);
        *self = AnswerState {
            status,
            retry_after: headers
                .get("Retry-After")
                .and_then(|v| v.trim().parse::<u32>().ok()),
            content_length,
            length_invalid: length.is_some() && content_length.is_none(),
            ..AnswerState::default()
        };
    }

    /// Whether the status is a success.
    pub fn ok(&self) -> bool {
        crate::http::is_success(self.status)
    }

    /// Stores a chunk. A success answer that does not fit the buffer fails with the size it
    /// needs, as soon as its `Content-Length` says so (before storing anything) or when a
    /// chunk overflows; `needed` saturates at `usize::MAX`, so an absurd announced size is a
    /// plain [`Error::BufferTooSmall`], never a wrapped number. A success answer with a
    /// malformed `Content-Length`, or with more bytes than it announced, is
    /// [`BadAnswer::Header`]. An error answer is cut (only its beginning matters).
    pub fn store(&mut self, chunk: &[u8], buf: &mut [u8]) -> Result<(), Error> {
        self.received = self.received.saturating_add(chunk.len() as u64);
        if self.ok() {
            if self.length_invalid {
                return Err(Error::BadAnswer(BadAnswer::Header));
            }
            if let Some(cl) = self.content_length {
                if self.received > cl {
                    return Err(Error::BadAnswer(BadAnswer::Header));
                }
                if cl > buf.len() as u64 {
                    let needed = usize::try_from(cl).unwrap_or(usize::MAX);
                    return Err(Error::BufferTooSmall { needed });
                }
            }
        }
        let room = buf.len().saturating_sub(self.len);
        if chunk.len() > room && self.ok() {
            let needed = self.len.saturating_add(chunk.len());
            return Err(Error::BufferTooSmall { needed });
        }
        let n = chunk.len().min(room);
        if let (Some(dst), Some(src)) = (buf.get_mut(self.len..self.len + n), chunk.get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        Ok(())
    }

    /// Marks the end of the body; fails if fewer bytes than announced arrived
    /// ([`BadAnswer::Truncated`]: the connection broke) or if a success answer's
    /// `Content-Length` is malformed ([`BadAnswer::Header`]: final).
    pub fn end(&mut self) -> Result<(), Error> {
        self.complete = true;
        if self.ok() && self.length_invalid {
            return Err(Error::BadAnswer(BadAnswer::Header));
        }
        match self.content_length {
            Some(cl) if self.received < cl => Err(Error::BadAnswer(BadAnswer::Truncated)),
            _ => Ok(()),
        }
    }

    /// Ends the body: `Ok(true)` when complete, `Ok(false)` when fewer bytes than announced
    /// arrived (a broken connection, to retry), `Err` for a malformed answer (final).
    pub fn end_or_broken(&mut self) -> Result<bool, Error> {
        match self.end() {
            Ok(()) => Ok(true),
            Err(Error::BadAnswer(BadAnswer::Truncated)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The error this (non-success) answer carries.
    pub fn api_error(&self, buf: &[u8]) -> ApiError {
        let body = buf.get(..self.len).unwrap_or(&[]);
        let mut e = wire::error_body::parse(self.status, body);
        e.retry_after_secs = self.retry_after;
        e
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Ready to send the authorize request.
    SendAuth,
    /// Ready to send the call.
    SendCall,
    /// Authorize request handed to the transport.
    AwaitAuth,
    /// Call handed to the transport.
    AwaitCall,
    /// Must wait `delay_ms` (relative), then go to `then`.
    Backoff { delay_ms: u64, auth: bool },
    /// Waiting until an absolute time.
    Waiting { until_ms: u64, auth: bool },
    /// The call succeeded; its answer is in the buffer.
    Answered,
    /// The call failed for good; the error was handed out.
    Failed,
}

/// What the embedding operation should do after [`CallState::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallPoll {
    /// Send: render the authorize request if [`CallState::authorizing`], else the call.
    Send,
    /// Sleep until this time.
    Wait(u64),
    /// The call succeeded: the answer is in the buffer (`answer.len` bytes).
    Answered,
}

impl From<CallPoll> for crate::op::Step {
    fn from(p: CallPoll) -> Self {
        match p {
            CallPoll::Send => crate::op::Step::Send,
            CallPoll::Wait(t) => crate::op::Step::Wait { until_ms: t },
            CallPoll::Answered => crate::op::Step::Done,
        }
    }
}

/// Implements the answer half of [`crate::op::Exchange`] for an operation whose JSON call
/// lives in a `CallState` field: the body from the buffer, the answer into the buffer.
macro_rules! call_state_exchange {
    ($state:ident) => {
        fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
            Ok(self.$state.body(self.buf, out))
        }

        fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
            self.$state.response(status, headers);
            Ok(())
        }

        fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
            self.$state.response_body(chunk, self.buf)
        }

        fn response_end(&mut self) -> Result<(), Abort> {
            self.$state
                .response_end(self.session, self.buf, &self.policy)
        }
    };
}
pub(crate) use call_state_exchange;

/// Retry, backoff and re-authorization state of one call on the account token.
#[derive(Clone, Debug)]
pub(crate) struct CallState {
    kind: CallKind,
    phase: Phase,
    /// The answer being received (for the call or for authorize).
    pub answer: AnswerState,
    tries: u8,
    auth_tries: u8,
    reauths: u8,
    backoff: Backoff,
    error: Option<Error>,
    body_len: usize,
    body_pos: usize,
}

impl CallState {
    /// A call of `kind` (`Json` or `Download`) about to start; authorizes first if the
    /// session has no token.
    pub fn new(kind: CallKind, session: &Session, seed: u32) -> Self {
        CallState {
            kind,
            phase: if session.is_authorized() {
                Phase::SendCall
            } else {
                Phase::SendAuth
            },
            answer: AnswerState::default(),
            tries: 0,
            auth_tries: 0,
            reauths: 0,
            backoff: Backoff::new(seed),
            error: None,
            body_len: 0,
            body_pos: 0,
        }
    }

    /// Starts the same kind of call again (e.g. the next page), keeping the jitter state.
    pub fn restart(&mut self, session: &Session) {
        let backoff = self.backoff;
        *self = CallState::new(self.kind, session, 0);
        self.backoff = backoff;
    }

    /// Starts the next call of an operation right after an answered (or failed) one: the
    /// session is authorized, tries start again, the jitter state is kept.
    pub fn restart_next(&mut self) {
        self.phase = Phase::SendCall;
        self.tries = 0;
        self.auth_tries = 0;
        self.reauths = 0;
        self.error = None;
        self.answer = AnswerState::default();
        self.body_len = 0;
        self.body_pos = 0;
    }

    /// Whether the exchange in flight (or about to be sent) is the authorize request.
    pub fn authorizing(&self) -> bool {
        matches!(self.phase, Phase::SendAuth | Phase::AwaitAuth)
    }

    /// Whether the answer being received is the call's success answer (so its body is the
    /// operation's to consume, e.g. a download to stream to a sink).
    pub fn receiving_success(&self) -> bool {
        self.phase == Phase::AwaitCall && self.answer.ok()
    }

    /// Records a failure found by the operation (bad answer, sink error...) as final.
    pub fn fail(&mut self, e: Error) {
        self.error = Some(e);
        self.phase = Phase::Failed;
    }

    /// Decides the next step.
    pub fn poll(&mut self, now_ms: u64, policy: &RetryPolicy) -> Result<CallPoll, Error> {
        if let Some(e) = self.error.take() {
            self.phase = Phase::Failed;
            return Err(e);
        }
        loop {
            match self.phase {
                Phase::SendAuth | Phase::SendCall => return Ok(CallPoll::Send),
                Phase::AwaitAuth | Phase::AwaitCall => {
                    // The transport returned without completing the answer.
                    self.transport_failed(TransportError::Receive, policy);
                    if let Some(e) = self.error.take() {
                        self.phase = Phase::Failed;
                        return Err(e);
                    }
                }
                Phase::Backoff { delay_ms, auth } => {
                    self.phase = Phase::Waiting {
                        until_ms: now_ms.saturating_add(delay_ms),
                        auth,
                    };
                }
                Phase::Waiting { until_ms, auth } => {
                    if now_ms < until_ms {
                        return Ok(CallPoll::Wait(until_ms));
                    }
                    self.phase = if auth {
                        Phase::SendAuth
                    } else {
                        Phase::SendCall
                    };
                }
                Phase::Answered => return Ok(CallPoll::Answered),
                Phase::Failed => return Err(Error::Misuse("poll after failure")),
            }
        }
    }

    /// Renders the authorize request (when [`Self::authorizing`]) and marks it sent.
    pub fn authorize_request<'b>(
        &mut self,
        session: &Session,
        buf: &'b mut [u8],
    ) -> Result<Request<'b>, Abort> {
        self.phase = Phase::AwaitAuth;
        self.answer = AnswerState::default();
        self.body_len = 0;
        self.body_pos = 0;
        let creds = session.credentials();
        let mut w = HeadWriter::new(buf, 0);
        w.url(format_args!(
            "{}/b2api/{}/{}",
            creds.realm(),
            crate::API_VERSION,
            wire::auth::AUTHORIZE
        ));
        w.header(
            "Authorization",
            format_args!(
                "Basic {}",
                crate::encoding::base64_pair(creds.key_id(), creds.key().expose())
            ),
        );
        let r = w.finish(Method::Get, None, session.test_mode);
        self.done_rendering(r)
    }

    /// Renders a JSON call (body first, then the head, in `buf`) and marks it sent.
    pub fn json_request<'b, A: ApiCall>(
        &mut self,
        session: &Session,
        call: &A,
        buf: &'b mut [u8],
    ) -> Result<Request<'b>, Abort> {
        self.json_request_with(
            session,
            A::NAME,
            &|account_id: &str, out: &mut [u8]| call.write_body(account_id, out),
            buf,
        )
    }

    /// [`CallState::json_request`] without the call's type: only the body writer differs
    /// between calls, so the rendering is compiled once (a device links every call it makes).
    #[inline(never)]
    fn json_request_with<'b>(
        &mut self,
        session: &Session,
        name: &str,
        write_body: &BodyWriter<'_>,
        buf: &'b mut [u8],
    ) -> Result<Request<'b>, Abort> {
        self.begin_call();
        let len = match write_body(&session.account_id, buf) {
            Ok(n) => n,
            Err(e) => return self.done_rendering(Err(e)),
        };
        self.body_len = len;
        let mut w = HeadWriter::new(buf, len);
        w.url(format_args!(
            "{}/b2api/{}/{}",
            session.api_url,
            crate::API_VERSION,
            name
        ));
        w.header("Authorization", format_args!("{}", session.token.expose()));
        w.header("Content-Type", format_args!("application/json"));
        let r = w.finish(Method::Post, Some(len as u64), session.test_mode);
        self.done_rendering(r)
    }

    /// Marks the call as sent when the operation renders a non-JSON request itself
    /// (downloads); `r` is its rendering result.
    pub fn custom_request<'b>(
        &mut self,
        r: Result<Request<'b>, Error>,
    ) -> Result<Request<'b>, Abort> {
        self.begin_call();
        self.done_rendering(r)
    }

    fn begin_call(&mut self) {
        self.phase = Phase::AwaitCall;
        self.tries = self.tries.saturating_add(1);
        self.answer = AnswerState::default();
        self.body_len = 0;
        self.body_pos = 0;
    }

    fn done_rendering<'b>(&mut self, r: Result<Request<'b>, Error>) -> Result<Request<'b>, Abort> {
        r.map_err(|e| {
            self.error = Some(e);
            Abort
        })
    }

    /// Serves the JSON body rendered at the start of `buf`.
    pub fn body(&mut self, buf: &[u8], out: &mut [u8]) -> usize {
        let src = buf.get(self.body_pos..self.body_len).unwrap_or(&[]);
        let n = src.len().min(out.len());
        if let (Some(d), Some(s)) = (out.get_mut(..n), src.get(..n)) {
            d.copy_from_slice(s);
        }
        self.body_pos += n;
        n
    }

    /// Records the answer head.
    pub fn response(&mut self, status: u16, headers: &dyn Headers) {
        self.answer.head(status, headers);
    }

    /// Stores an answer chunk in `buf` (not for a success answer the operation streams).
    pub fn response_body(&mut self, chunk: &[u8], buf: &mut [u8]) -> Result<(), Abort> {
        self.answer.store(chunk, buf).map_err(|e| {
            self.error = Some(e);
            Abort
        })
    }

    /// The answer is complete: applies an authorize answer to the session, or classifies a
    /// failed call.
    pub fn response_end(
        &mut self,
        session: &mut Session,
        buf: &[u8],
        policy: &RetryPolicy,
    ) -> Result<(), Abort> {
        match self.answer.end_or_broken() {
            Ok(true) => {}
            Ok(false) => {
                self.transport_failed(TransportError::Receive, policy);
                return Ok(());
            }
            Err(e) => {
                self.error = Some(e);
                return Err(Abort);
            }
        }
        let auth = self.phase == Phase::AwaitAuth;
        if self.answer.ok() {
            if auth {
                let body = buf.get(..self.answer.len).unwrap_or(&[]);
                match wire::auth::AuthorizeAnswer::parse(body)
                    .map_err(Error::BadAnswer)
                    .and_then(|a| session.apply_authorization(&a))
                {
                    Ok(()) => {
                        session.authorizations += 1;
                        self.phase = Phase::SendCall;
                    }
                    Err(e) => {
                        self.error = Some(e);
                        return Err(Abort);
                    }
                }
            } else {
                self.phase = Phase::Answered;
            }
            return Ok(());
        }
        let err = self.answer.api_error(buf);
        let kind = if auth { CallKind::Authorize } else { self.kind };
        let verdict = classify(
            kind,
            Outcome::Status {
                status: err.status,
                code: &err.code,
            },
        );
        self.apply_verdict(verdict, Error::Api(err), session, policy);
        Ok(())
    }

    /// The transport failed during the exchange.
    pub fn transport_failed(&mut self, e: TransportError, policy: &RetryPolicy) {
        if self.error.is_some() {
            return; // the operation aborted; its own error stands
        }
        let auth = matches!(self.phase, Phase::AwaitAuth | Phase::SendAuth);
        if self.phase == Phase::SendCall {
            // The transport failed before it asked for the request: the try still counts,
            // or a transport that cannot connect would be retried without end.
            self.tries = self.tries.saturating_add(1);
        }
        let kind = if auth { CallKind::Authorize } else { self.kind };
        let verdict = classify(kind, Outcome::Transport(e));
        // The session is not needed for transport failures (never a re-authorization).
        match verdict {
            Verdict::Retry => self.retry(Error::Transport(e), auth, None, policy),
            _ => self.error = Some(Error::Transport(e)),
        }
    }

    fn apply_verdict(
        &mut self,
        verdict: Verdict,
        err: Error,
        session: &mut Session,
        policy: &RetryPolicy,
    ) {
        let auth = self.phase == Phase::AwaitAuth;
        match verdict {
            Verdict::Reauthorize if self.reauths < policy.max_reauthorizations => {
                self.reauths += 1;
                session.invalidate();
                self.phase = Phase::SendAuth;
            }
            Verdict::Retry | Verdict::NewUploadUrl { .. } => {
                let ra = err.api().and_then(|e| e.retry_after_secs);
                self.retry(err, auth, ra, policy)
            }
            _ => self.error = Some(err),
        }
    }

    fn retry(&mut self, err: Error, auth: bool, retry_after: Option<u32>, policy: &RetryPolicy) {
        let (tries, cap) = if auth {
            self.auth_tries = self.auth_tries.saturating_add(1);
            (self.auth_tries, policy.max_json_tries)
        } else {
            let cap = match self.kind {
                CallKind::Download => policy.max_download_tries,
                _ => policy.max_json_tries,
            };
            (self.tries, cap)
        };
        if tries >= cap {
            self.error = Some(err);
            return;
        }
        let delay_ms = self.backoff.delay_ms(policy, retry_after);
        self.phase = Phase::Backoff { delay_ms, auth };
    }
}

#[cfg(test)]
mod tests {
    //! Each answer-size state reached with scripted answers (no server): the size the buffer
    //! needs, malformed lengths, and how many exchanges each costs.
    use super::*;
    use crate::driver::{run, Clock, Transport};
    use crate::op::{Call, Exchange};
    use crate::secret::Secret;
    use crate::session::{fixed, Credentials};
    use crate::wire::file::GetFileInfo;
    use std::vec::Vec;

    /// One scripted answer: status, headers, body chunks.
    type Answer<'a> = (u16, &'a [(&'a str, &'a str)], &'a [&'a [u8]]);

    /// Plays answers in order and counts exchanges; past the script it fails to connect.
    struct Script<'a> {
        answers: &'a [Answer<'a>],
        exchanges: usize,
    }

    impl Transport for Script<'_> {
        fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
            let aborted = |_| TransportError::Aborted;
            ex.request().map_err(aborted)?;
            let mut out = [0u8; 256];
            while ex.body(&mut out).map_err(aborted)? > 0 {}
            let Some((status, headers, chunks)) = self.answers.get(self.exchanges) else {
                return Err(TransportError::Connect);
            };
            self.exchanges += 1;
            ex.response(*status, headers).map_err(aborted)?;
            for c in chunks.iter() {
                ex.response_body(c).map_err(aborted)?;
            }
            ex.response_end().map_err(aborted)
        }
    }

    /// Virtual time: sleeping moves the clock.
    #[derive(Default)]
    struct VirtualClock(u64);

    impl Clock for VirtualClock {
        fn now_ms(&mut self) -> u64 {
            self.0
        }
        fn sleep_until_ms(&mut self, until_ms: u64) {
            self.0 = self.0.max(until_ms);
        }
    }

    fn session() -> Session {
        let creds = Credentials::new("id", "key", "http://127.0.0.1:1").expect("creds");
        let mut s = Session::new(creds);
        s.token = Secret::new("4_token").expect("token");
        s.api_url = fixed("http://127.0.0.1:1").expect("url");
        s
    }

    const FILE: &[u8] = br#"{"accountId":"a","action":"upload","bucketId":"b","contentLength":1,"contentSha1":"356a192b7913b04c54574d18c28d46e6395428ab","contentType":"text/plain","fileId":"f1","fileInfo":{},"fileName":"n","uploadTimestamp":1}"#;

    /// Runs `b2_get_file_info` through a `size`-byte buffer against the script; the result
    /// and the number of exchanges it took.
    fn get_file_info(size: usize, answers: &[Answer<'_>]) -> (Result<Vec<u8>, Error>, usize) {
        let mut s = session();
        let mut buf = std::vec![0u8; size];
        let mut t = Script {
            answers,
            exchanges: 0,
        };
        let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: "f1" });
        let r = run(&mut op, &mut t, &mut VirtualClock::default());
        (r.map(|_| op.answer_bytes().to_vec()), t.exchanges)
    }

    #[test]
    fn content_length_values() {
        assert_eq!(parse_content_length("0"), Some(0));
        assert_eq!(parse_content_length(" 42\t"), Some(42));
        assert_eq!(parse_content_length("042, 42"), Some(42));
        assert_eq!(parse_content_length("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "-1",
            "+5",
            "1 2",
            "abc",
            "0x10",
            "5, 6",
            "5,",
            "18446744073709551616",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_content_length(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_answer_that_fits_is_stored() {
        let (r, n) = get_file_info(4096, &[(200, &[("Content-Length", "215")], &[FILE])]);
        assert_eq!(FILE.len(), 215);
        assert_eq!(r.expect("answer"), FILE);
        assert_eq!(n, 1);
    }

    #[test]
    fn absurd_content_lengths_are_buffer_too_small_without_a_retry() {
        for (cl, needed) in [
            (
                "100000000000000",
                usize::try_from(100_000_000_000_000u64).unwrap_or(usize::MAX),
            ),
            ("18446744073709551615", usize::MAX),
            ("4097", 4097),
        ] {
            let headers = [("Content-Length", cl)];
            let (r, n) = get_file_info(4096, &[(200, &headers, &[FILE])]);
            assert_eq!(r, Err(Error::BufferTooSmall { needed }), "{cl}");
            assert_eq!(n, 1, "{cl}: one exchange, no retry");
        }
    }

    #[test]
    fn a_larger_answer_is_refused_before_anything_is_stored() {
        // The announced size decides, even when the first chunk would fit.
        let (r, _) = get_file_info(4096, &[(200, &[("Content-Length", "5000")], &[b"{"])]);
        assert_eq!(r, Err(Error::BufferTooSmall { needed: 5000 }));
    }

    #[test]
    fn an_unannounced_answer_overflowing_the_buffer_says_what_it_saw() {
        let (r, n) = get_file_info(150, &[(200, &[], &[&FILE[..100], &FILE[100..]])]);
        assert_eq!(r, Err(Error::BufferTooSmall { needed: 215 }));
        assert_eq!(n, 1);
    }

    #[test]
    fn malformed_content_lengths_are_a_final_bad_header() {
        for cl in [
            "-1",
            "garbage",
            "215, 216",
            "+215",
            "",
            "99999999999999999999999",
        ] {
            let headers = [("Content-Length", cl)];
            let (r, n) = get_file_info(4096, &[(200, &headers, &[FILE])]);
            assert_eq!(r, Err(Error::BadAnswer(BadAnswer::Header)), "{cl:?}");
            assert_eq!(n, 1, "{cl:?}: not retried");
            // Also with an empty body (no chunk ever arrives).
            let (r, n) = get_file_info(4096, &[(200, &headers, &[])]);
            assert_eq!(r, Err(Error::BadAnswer(BadAnswer::Header)), "{cl:?}");
            assert_eq!(n, 1);
        }
    }

    #[test]
    fn more_bytes_than_announced_is_a_bad_header() {
        let (r, _) = get_file_info(4096, &[(200, &[("Content-Length", "10")], &[FILE])]);
        assert_eq!(r, Err(Error::BadAnswer(BadAnswer::Header)));
    }

    #[test]
    fn a_truncated_answer_is_a_broken_connection_and_retried() {
        let (r, n) = get_file_info(
            4096,
            &[
                (200, &[("Content-Length", "215")], &[&FILE[..50]]),
                (200, &[("Content-Length", "215")], &[FILE]),
            ],
        );
        assert_eq!(r.expect("second try"), FILE);
        assert_eq!(n, 2);
    }

    #[test]
    fn an_error_answer_larger_than_the_buffer_is_cut_not_refused() {
        let mut body =
            std::vec::Vec::from(&br#"{"status":400,"code":"bad_request","message":""#[..]);
        body.resize(body.len() + 3000, b'x');
        body.extend_from_slice(b"\"}");
        let cl = std::format!("{}", body.len());
        let (r, n) = get_file_info(1024, &[(400, &[("Content-Length", &cl)], &[&body])]);
        let e = r.expect_err("final");
        assert_eq!(e.api().map(|a| a.status), Some(400));
        assert_eq!(n, 1);
    }

    /// The backoff waits of a call answered 503 (no `Retry-After`) three times, then 200.
    fn waits_with_entropy(entropy: u64) -> Vec<u64> {
        let mut s = session();
        s.set_entropy(entropy);
        let busy: Answer<'_> = (
            503,
            &[],
            &[br#"{"status":503,"code":"service_unavailable","message":""}"#],
        );
        let script = [busy, busy, busy, (200, &[], &[FILE])];
        let mut t = Script {
            answers: &script,
            exchanges: 0,
        };
        let mut buf = std::vec![0u8; 4096];
        let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: "f1" });
        let mut waits = Vec::new();
        let mut now = 0;
        loop {
            match crate::op::Operation::poll(&mut op, now).expect("poll") {
                crate::op::Step::Send => {
                    if let Err(e) = t.exchange(&mut op) {
                        crate::op::Operation::transport_failed(&mut op, e, now);
                    }
                }
                crate::op::Step::Wait { until_ms } => {
                    waits.push(until_ms - now);
                    now = until_ms;
                }
                crate::op::Step::Done => return waits,
            }
        }
    }

    #[test]
    fn the_driver_counts_error_answers_and_transport_errors() {
        let busy: Answer<'_> = (
            503,
            &[],
            &[br#"{"status":503,"code":"service_unavailable","message":""}"#],
        );
        let cut: Answer<'_> = (200, &[("Content-Length", "215")], &[b"{"]);
        let script = [busy, cut, busy, (200, &[], &[FILE])];
        let mut t = Script {
            answers: &script,
            exchanges: 0,
        };
        let mut s = session();
        let mut buf = std::vec![0u8; 4096];
        let mut op = Call::new(&mut s, &mut buf, GetFileInfo { file_id: "f1" });
        let st = run(&mut op, &mut t, &mut VirtualClock::default()).expect("fourth try");
        assert_eq!(
            (
                st.exchanges,
                st.error_answers,
                st.transport_errors,
                st.waits
            ),
            (4, 2, 0, 3),
            "{st:?}"
        );
    }

    #[test]
    fn jitter_comes_from_the_callers_entropy() {
        let a = waits_with_entropy(0x0123_4567_89AB_CDEF);
        let b = waits_with_entropy(0xFEDC_BA98_7654_3210);
        assert_eq!(a.len(), 3);
        assert_ne!(a, b, "same key, different entropy: different delays");
        // Same entropy, same delays (nothing else is random).
        assert_eq!(a, waits_with_entropy(0x0123_4567_89AB_CDEF));
        // Each wait is the exponential step plus at most 1 s of jitter.
        for (w, step) in a.iter().zip([1_000, 2_000, 4_000]) {
            assert!((step..step + 1_000).contains(w), "{w} for step {step}");
        }
        // Many entropies spread over the jitter range.
        let firsts: std::collections::BTreeSet<u64> = (0..64u64)
            .map(|e| waits_with_entropy(e.wrapping_mul(0x9E37_79B9_7F4A_7C15))[0])
            .collect();
        assert!(
            firsts.len() > 50,
            "{} distinct first delays of 64",
            firsts.len()
        );
    }

    proptest::proptest! {
        #[test]
        fn any_content_length_value_is_parsed_without_panic(v in ".{0,40}") {
            let got = parse_content_length(&v);
            if let Some(n) = got {
                let digits: std::string::String = v.chars().filter(char::is_ascii_digit).collect();
                proptest::prop_assert!(!digits.is_empty());
                proptest::prop_assert!(v.split(',').all(|e| e.trim_matches([' ', '\t']).parse::<u64>() == Ok(n)));
            }
        }

        #[test]
        fn any_number_round_trips(n: u64) {
            proptest::prop_assert_eq!(parse_content_length(&std::format!("{n}")), Some(n));
        }
    }
}
