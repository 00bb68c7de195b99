//! Any single JSON call as an operation, and authorization on its own.

use crate::error::Error;
use crate::http::{Headers, Request, TransportError};
use crate::op::call::CallState;
use crate::op::{Abort, Exchange, Operation, Step};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::Session;
use crate::wire::{Answer, ApiCall};

/// One JSON call (`b2_list_buckets`, `b2_hide_file`, `b2_copy_file`, ...) with the
/// checklist's retries and transparent re-authorization. After [`Step::Done`], read the
/// answer with [`Call::answer`]; it borrows the buffer.
///
/// Cost: the call struct, `size_of::<CallState>()` (about 80 bytes) and two references; the
/// buffer must hold the request body and head, then the answer.
pub struct Call<'s, 'b, A: ApiCall> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    call: A,
    state: CallState,
    policy: RetryPolicy,
}

impl<'s, 'b, A: ApiCall> Call<'s, 'b, A> {
    /// Prepares `call`; nothing is sent until polled.
    pub fn new(session: &'s mut Session, buf: &'b mut [u8], call: A) -> Self {
        let state = CallState::new(CallKind::Json, session, jitter_seed(session));
        Call {
            session,
            buf,
            call,
            state,
            policy: RetryPolicy::default(),
        }
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The parsed answer, after [`Step::Done`].
    pub fn answer(&self) -> Result<A::Answer<'_>, Error> {
        let body = self
            .buf
            .get(..self.state.answer.len)
            .ok_or(Error::Misuse("answer before done"))?;
        A::Answer::parse(body).map_err(Error::BadAnswer)
    }

    /// The raw JSON of the answer, after [`Step::Done`].
    pub fn answer_bytes(&self) -> &[u8] {
        self.buf.get(..self.state.answer.len).unwrap_or(&[])
    }
}

/// The jitter seed of a new operation: the caller's entropy ([`Session::set_entropy`]) mixed
/// with the key id and the number of authorizations, so two sessions with the same key but
/// different entropy back off differently.
pub(crate) fn jitter_seed(session: &Session) -> u32 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in session.credentials().key_id().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    h ^= u64::from(session.authorizations).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // SplitMix64's finalizer spreads every bit of the entropy over the seed.
    let mut z = h ^ session.entropy;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z ^ (z >> 32)) as u32
}

impl<A: ApiCall> Exchange for Call<'_, '_, A> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        if self.state.authorizing() {
            self.state.authorize_request(self.session, self.buf)
        } else {
            self.state.json_request(self.session, &self.call, self.buf)
        }
    }

    crate::op::call::call_state_exchange!(state);
}

impl<A: ApiCall> Operation for Call<'_, '_, A> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        Ok(self.state.poll(now_ms, &self.policy)?.into())
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.state.transport_failed(error, &self.policy);
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

/// Authorizes a session (`b2_authorize_account`) now, rather than on first use.
pub struct Authorize<'s, 'b> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    state: CallState,
    policy: RetryPolicy,
}

impl<'s, 'b> Authorize<'s, 'b> {
    /// Prepares authorization; `buf` must hold the authorize answer (1 KiB is plenty).
    pub fn new(session: &'s mut Session, buf: &'b mut [u8]) -> Self {
        session.invalidate();
        let state = CallState::new(CallKind::Json, session, jitter_seed(session));
        Authorize {
            session,
            buf,
            state,
            policy: RetryPolicy::default(),
        }
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
}

impl Exchange for Authorize<'_, '_> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        self.state.authorize_request(self.session, self.buf)
    }

    fn body(&mut self, _out: &mut [u8]) -> Result<usize, Abort> {
        Ok(0)
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        self.state.response(status, headers);
        Ok(())
    }

    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        self.state.response_body(chunk, self.buf)
    }

    fn response_end(&mut self) -> Result<(), Abort> {
        self.state
            .response_end(self.session, self.buf, &self.policy)
    }
}

impl Operation for Authorize<'_, '_> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        if self.session.is_authorized() && !self.state.authorizing() {
            return Ok(Step::Done);
        }
        Ok(self.state.poll(now_ms, &self.policy)?.into())
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.state.transport_failed(error, &self.policy);
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}
