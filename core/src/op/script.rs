//! Test-only: scripted answers for the per-state tests of the operations.
//!
//! This is **not** a B2 server. A [`Script`] is a [`Transport`] that replays, in order, a list
//! of canned outcomes a test wrote down ([`Reply`]: a status, headers and body, or a transport
//! error at a chosen point) and records every request the operation rendered ([`Sent`]).
//! Nothing in it knows what a B2 call means: whether an answer makes sense for a request is
//! the test's business, exactly like ureq-proto's per-state tests feed each state of a call
//! the bytes it should react to. [`answers`] holds canned B2 answer bodies (authorize, upload
//! URLs, file versions, parts, listings, downloads) to write those replies with.
//!
//! A test starts right in the state it checks (an authorized session from
//! [`answers::authorized`], an upload URL handed in, ...), feeds one reply per exchange with
//! [`Script::step`] (one turn of the driver: poll, and when the operation says `Send`, run
//! one exchange), and checks what came out: the next [`Step`] (a `Wait` and its time), the
//! request rendered ([`Script::last`], [`Script::calls`]), or the error.
//!
//! ```ignore
//! let mut session = answers::authorized("tok-1");
//! let mut buf = [0u8; 2048];
//! let mut op = Call::new(&mut session, &mut buf, GetFileInfo { file_id: "4_f1" });
//! let mut script = Script::new([
//!     Reply::error(503, "service_unavailable"),
//!     Reply::ok(answers::file("4_f1", "a.txt", b"abc")),
//! ]);
//! assert_eq!(script.step(&mut op, 0), Ok(Step::Send)); // sent, answered 503
//! assert_eq!(script.last().call(), "b2_get_file_info");
//! let Ok(Step::Wait { until_ms }) = script.step(&mut op, 0) else { panic!() };
//! assert!((1000..2000).contains(&until_ms));            // backoff with jitter
//! assert_eq!(script.step(&mut op, until_ms), Ok(Step::Send)); // sent again, answered 200
//! assert_eq!(script.step(&mut op, until_ms), Ok(Step::Done));
//! script.finish();                                      // every reply was used
//! ```
//!
//! To run an operation to its end instead, use [`crate::driver::run`] with the script as the
//! transport and a [`VirtualClock`] (which jumps instead of sleeping and records every wait).
//!
//! The script is a strict transport: it calls the [`Exchange`] callbacks in the contract's
//! order, pulls the request body in small chunks until `body` returns 0 and panics if the
//! operation's body is not exactly its `Content-Length` (a contract violation), and delivers
//! answer bodies in small chunks. A request arriving when no reply is left panics with the
//! request, so a test never passes by running out of script.

// Some helpers serve only some operations' tests (the large-file ones among them).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use sha1::{Digest, Sha1};

use crate::driver::{Clock, Transport};
use crate::error::Error;
use crate::http::{Method, TransportError};
use crate::op::{Exchange, Operation, Step};

pub(crate) mod answers;

/// How the answer of a [`Reply::Answer`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The whole body, then `response_end`.
    Complete,
    /// The first `n` body bytes, then `response_end` as if complete (the head still announces
    /// the whole length): a peer that closed early on a connection the transport took as done.
    Truncated(usize),
    /// The first `n` body bytes, then the connection drops: `TransportError::Receive`.
    Dropped(usize),
}

/// Where a [`Reply::Fail`] breaks the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailAt {
    /// After the request head, before any body byte (no connection, refused, TLS).
    Head,
    /// After this many request body bytes (a reset in the middle of an upload).
    Body(u64),
    /// After the whole request body, before any answer (the answer was lost).
    Answer,
}

/// One canned outcome of an exchange.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// An answer: status, headers (in order) and body.
    Answer {
        /// HTTP status.
        status: u16,
        /// Header name/value pairs.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
        /// How the body ends.
        end: End,
    },
    /// The transport fails with `error` at `at`.
    Fail {
        /// What the transport reports.
        error: TransportError,
        /// Where the exchange breaks.
        at: FailAt,
    },
}

impl Reply {
    /// An answer with this status, body and `Content-Length`.
    pub fn raw(status: u16, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        Reply::Answer {
            status,
            headers: std::vec![("Content-Length".into(), body.len().to_string())],
            body,
            end: End::Complete,
        }
    }

    /// A JSON answer with this status.
    pub fn json(status: u16, v: serde_json::Value) -> Self {
        Reply::raw(status, v.to_string().into_bytes()).header("Content-Type", "application/json")
    }

    /// A `200` JSON answer.
    pub fn ok(v: serde_json::Value) -> Self {
        Reply::json(200, v)
    }

    /// A B2 error answer: `{"status", "code", "message"}`.
    pub fn error(status: u16, code: &str) -> Self {
        Reply::json(
            status,
            serde_json::json!({"status": status, "code": code, "message": format!("scripted {code}")}),
        )
    }

    /// The transport fails before sending any body byte.
    pub fn fail(error: TransportError) -> Self {
        Reply::Fail {
            error,
            at: FailAt::Head,
        }
    }

    /// The connection drops after `bytes` bytes of the request body (`Send`).
    pub fn reset_mid_body(bytes: u64) -> Self {
        Reply::Fail {
            error: TransportError::Send,
            at: FailAt::Body(bytes),
        }
    }

    /// The whole request goes out, the answer never comes (`Receive`).
    pub fn lost_answer() -> Self {
        Reply::Fail {
            error: TransportError::Receive,
            at: FailAt::Answer,
        }
    }

    /// Sets a header (replacing one of the same name, case-insensitive).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Answer { headers, .. } = &mut self {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// Removes a header.
    pub fn without_header(mut self, name: &str) -> Self {
        if let Reply::Answer { headers, .. } = &mut self {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        self
    }

    /// Adds `Retry-After: secs`.
    pub fn retry_after(self, secs: u32) -> Self {
        self.header("Retry-After", &secs.to_string())
    }

    /// Delivers only the first `n` body bytes, then ends the answer as if complete.
    pub fn truncated(self, n: usize) -> Self {
        self.ending(End::Truncated(n))
    }

    /// Delivers only the first `n` body bytes, then drops the connection.
    pub fn dropped_after(self, n: usize) -> Self {
        self.ending(End::Dropped(n))
    }

    fn ending(mut self, e: End) -> Self {
        if let Reply::Answer { end, .. } = &mut self {
            *end = e;
        }
        self
    }
}

/// A request the operation rendered, as the script received it.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The announced body length.
    pub content_length: Option<u64>,
    /// Body bytes pulled from the operation (all of them, also past `Script::keep_body`).
    pub body_len: u64,
    /// SHA-1 of every body byte pulled.
    pub body_sha1: [u8; 20],
    /// The first `Script::keep_body` bytes of the body.
    pub body: Vec<u8>,
}

impl Sent {
    /// A request header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The B2 call: the last path segment of the URL without the query
    /// (`b2_get_file_info`, or a file name for a download by name).
    pub fn call(&self) -> &str {
        let path = self.url.split('?').next().unwrap_or("");
        path.rsplit('/').next().unwrap_or("")
    }

    /// The body parsed as JSON (panics if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("request body of {} is not JSON: {e}", self.url))
    }

    /// `"METHOD call"`, the short form [`Script::calls`] lists.
    pub fn short(&self) -> String {
        format!("{} {}", self.method.as_str(), self.call())
    }
}

/// Replays canned replies as a [`Transport`] and records the requests; see the module docs.
pub(crate) struct Script {
    replies: VecDeque<Reply>,
    /// Every request rendered, in order.
    pub sent: Vec<Sent>,
    /// Request body bytes kept per [`Sent`] (default 1 MiB; the rest is only hashed).
    pub keep_body: usize,
    /// Size of the chunks the body is pulled in (default 1,000; raise it to stream large
    /// parts fast).
    pub body_chunk: usize,
    /// Size of the answer chunks handed to the operation (default 700).
    pub answer_chunk: usize,
}

impl Script {
    /// A script replaying `replies` in order.
    pub fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        Script {
            replies: replies.into_iter().collect(),
            sent: Vec::new(),
            keep_body: 1 << 20,
            body_chunk: 1000,
            answer_chunk: 700,
        }
    }

    /// Adds a reply at the end.
    pub fn push(&mut self, r: Reply) -> &mut Self {
        self.replies.push_back(r);
        self
    }

    /// Replies not used yet.
    pub fn remaining(&self) -> usize {
        self.replies.len()
    }

    /// Panics unless every reply was used.
    #[track_caller]
    pub fn finish(&self) {
        assert!(
            self.replies.is_empty(),
            "{} scripted replies left unused; requests were {:?}",
            self.replies.len(),
            self.calls()
        );
    }

    /// The last request rendered.
    #[track_caller]
    pub fn last(&self) -> &Sent {
        self.sent.last().expect("no request was sent")
    }

    /// `"METHOD call"` for every request, in order.
    pub fn calls(&self) -> Vec<String> {
        self.sent.iter().map(Sent::short).collect()
    }

    /// One turn of the driver: polls `op` at `now_ms`; on `Send`, runs one exchange with the
    /// next reply (reporting a transport error to the operation at `now_ms`). Returns what
    /// the poll said.
    pub fn step<O: Operation + ?Sized>(&mut self, op: &mut O, now_ms: u64) -> Result<Step, Error> {
        let step = op.poll(now_ms)?;
        if step == Step::Send {
            if let Err(e) = self.exchange(op.as_exchange()) {
                op.transport_failed(e, now_ms);
            }
        }
        Ok(step)
    }

    /// Pulls the request body as a transport would, recording it; stops early after
    /// `stop_after` bytes.
    fn pull_body(
        &mut self,
        ex: &mut dyn Exchange,
        sent: &mut Sent,
        stop_after: Option<u64>,
    ) -> Result<(), TransportError> {
        let mut hasher = Sha1::new();
        let mut chunk = std::vec![0u8; self.body_chunk.max(1)];
        let announced = sent.content_length.unwrap_or(0);
        loop {
            let room = match stop_after {
                Some(s) if sent.body_len >= s => {
                    sent.body_sha1 = hasher.finalize().into();
                    return Ok(());
                }
                Some(s) => (s - sent.body_len).min(chunk.len() as u64) as usize,
                None => chunk.len(),
            };
            let n = ex
                .body(&mut chunk[..room])
                .map_err(|_| TransportError::Aborted)?;
            if n == 0 {
                break;
            }
            assert!(n <= room, "body() claimed more bytes than the buffer");
            let piece = &chunk[..n];
            hasher.update(piece);
            let keep = self.keep_body.saturating_sub(sent.body.len()).min(n);
            sent.body.extend_from_slice(&piece[..keep]);
            sent.body_len += n as u64;
            assert!(
                sent.body_len <= announced,
                "{}: body longer than its Content-Length {announced}",
                sent.url
            );
        }
        assert_eq!(
            sent.body_len, announced,
            "{}: body shorter than its Content-Length",
            sent.url
        );
        sent.body_sha1 = hasher.finalize().into();
        Ok(())
    }
}

impl Transport for Script {
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        let mut sent = {
            let r = ex.request().map_err(|_| TransportError::Aborted)?;
            Sent {
                method: r.method,
                url: r.url.to_string(),
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                content_length: r.content_length,
                body_len: 0,
                body_sha1: [0; 20],
                body: Vec::new(),
            }
        };
        let Some(reply) = self.replies.pop_front() else {
            panic!(
                "unexpected request {} {} (no scripted reply left; before it: {:?})",
                sent.method.as_str(),
                crate::http::redact_url(&sent.url),
                self.calls()
            );
        };
        let stop_after = match reply {
            Reply::Fail {
                at: FailAt::Head, ..
            } => Some(0),
            Reply::Fail {
                at: FailAt::Body(n),
                ..
            } => Some(n),
            _ => None,
        };
        let pulled = self.pull_body(ex, &mut sent, stop_after);
        self.sent.push(sent);
        pulled?;
        let (status, headers, body, end) = match reply {
            Reply::Fail { error, .. } => return Err(error),
            Reply::Answer {
                status,
                headers,
                body,
                end,
            } => (status, headers, body, end),
        };
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let hs: &[(&str, &str)] = &pairs;
        ex.response(status, &hs)
            .map_err(|_| TransportError::Aborted)?;
        let cut = match end {
            End::Complete => body.len(),
            End::Truncated(n) | End::Dropped(n) => n.min(body.len()),
        };
        for c in body[..cut].chunks(self.answer_chunk.max(1)) {
            ex.response_body(c).map_err(|_| TransportError::Aborted)?;
        }
        if let End::Dropped(_) = end {
            return Err(TransportError::Receive);
        }
        ex.response_end().map_err(|_| TransportError::Aborted)
    }
}

/// A clock that jumps instead of sleeping, and records every wait (in milliseconds).
#[derive(Debug, Default)]
pub(crate) struct VirtualClock {
    /// Current time.
    pub now: u64,
    /// Every wait asked for, relative to the time it was asked.
    pub waits: Vec<u64>,
}

impl Clock for VirtualClock {
    fn now_ms(&mut self) -> u64 {
        self.now
    }
    fn sleep_until_ms(&mut self, until_ms: u64) {
        self.waits.push(until_ms.saturating_sub(self.now));
        self.now = self.now.max(until_ms);
    }
}

/// Lower-case hex of bytes (SHA-1s in answers and headers).
pub(crate) fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-1 of `data`.
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}
