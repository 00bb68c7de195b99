//! The shared life of one call on the account token: authorize when needed, send, classify
//! the outcome, back off, re-authorize on an expired token.
//!
//! [`CallState`] is embedded in every operation that makes JSON calls or downloads; the
//! operation renders its own request and reads the answer body, the state decides what
//! happens next.

use crate::error::{ApiError, BadAnswer, Error};
use crate::http::{Headers, Method, Request, TransportError};
use crate::op::head::HeadWriter;
use crate::op::Abort;
use crate::retry::{classify, Backoff, CallKind, Outcome, RetryPolicy, Verdict};
use crate::session::Session;
use crate::wire::{self, Answer as _, ApiCall};

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
    /// Body bytes that arrived in all (stored or not).
    pub received: u64,
    /// The head arrived and `response_end` was called.
    pub complete: bool,
}

impl AnswerState {
    /// Records the answer head.
    pub fn head(&mut self, status: u16, headers: &dyn Headers) {
        *self = AnswerState {
            status,
            retry_after: headers
                .get("Retry-After")
                .and_then(|v| v.trim().parse::<u32>().ok()),
            content_length: headers
                .get("Content-Length")
                .and_then(|v| v.trim().parse::<u64>().ok()),
            ..AnswerState::default()
        };
    }

    /// Whether the status is a success.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Stores a chunk. A success answer that does not fit fails with the size it needs; an
    /// error answer is cut (only its beginning matters).
    pub fn store(&mut self, chunk: &[u8], buf: &mut [u8]) -> Result<(), Error> {
        self.received += chunk.len() as u64;
        let room = buf.len().saturating_sub(self.len);
        if chunk.len() > room && self.ok() {
            let needed = self
                .content_length
                .map(|c| c as usize)
                .unwrap_or(self.len + chunk.len())
                .max(self.len + chunk.len());
            return Err(Error::BufferTooSmall { needed });
        }
        let n = chunk.len().min(room);
        if let (Some(dst), Some(src)) = (buf.get_mut(self.len..self.len + n), chunk.get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        Ok(())
    }

    /// Marks the end of the body; fails if fewer bytes than announced arrived.
    pub fn end(&mut self) -> Result<(), Error> {
        self.complete = true;
        match self.content_length {
            Some(cl) if self.received < cl => Err(Error::BadAnswer(BadAnswer::Truncated)),
            _ => Ok(()),
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
        self.begin_call();
        let len = match call.write_body(&session.account_id, buf) {
            Ok(n) => n,
            Err(e) => return self.done_rendering(Err(e)),
        };
        self.body_len = len;
        let mut w = HeadWriter::new(buf, len);
        w.url(format_args!(
            "{}/b2api/{}/{}",
            session.api_url,
            crate::API_VERSION,
            A::NAME
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
        if let Err(e) = self.answer.end() {
            // A truncated answer is a broken connection.
            let _ = e;
            self.transport_failed(TransportError::Receive, policy);
            return Ok(());
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
        let auth = self.phase == Phase::AwaitAuth;
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
