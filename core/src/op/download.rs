//! Downloads by name or id, whole or a range, streamed to a sink and verified by SHA-1.
//!
//! If the connection drops mid-body, the download continues where it stopped with a
//! `Range` request (same file id required) and keeps hashing, so nothing written to the
//! sink is ever written twice. A whole download is checked against `x-bz-content-sha1` or,
//! for large files, `x-bz-info-large_file_sha1`; a mismatch or a short body is an error.

use embedded_io::Write;
use sha1::{Digest, Sha1};

use crate::encoding::percent_encode;
use crate::error::{BadAnswer, Error, InvalidInput};
use crate::http::{Headers, Method, Request, TransportError};
use crate::op::call::{CallPoll, CallState};
use crate::op::head::HeadWriter;
use crate::op::json::jitter_seed;
use crate::op::{Abort, Exchange, Operation, Step};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::{fixed, Id, Session};
use crate::validate;
use crate::wire::download::{parse_download_head, Sha1State};
use crate::wire::encryption::CustomerKey;

/// Which file to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// `b2_download_file_by_id`.
    ById(&'a str),
    /// `/file/{bucket}/{name}`: the latest version of a name.
    ByName {
        /// Bucket name.
        bucket: &'a str,
        /// File name (percent-encoded on the wire).
        name: &'a str,
    },
}

/// What the server said about the file, kept from the first answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DownloadInfo {
    /// The file version's id.
    pub file_id: Id,
    /// Size of the whole file.
    pub file_size: u64,
    /// Bytes of this download (the range's length for a range).
    pub length: u64,
    /// The whole-file SHA-1 the server announced, if any.
    pub sha1: Option<[u8; 20]>,
    /// Whether the bytes were checked against `sha1` (whole downloads only).
    pub verified: bool,
    /// Upload timestamp in milliseconds.
    pub upload_timestamp: u64,
    /// The source's modification time (`src_last_modified_millis` info), when known.
    pub src_last_modified_millis: Option<u64>,
}

/// Downloads a file to any [`embedded_io::Write`] sink. With `head_only`, sends HEAD and
/// only fills [`Download::info`].
///
/// Cost: about 400 bytes of state plus the caller's buffer (request head and error answers:
/// 1 KiB plus the encoded name's length). Body bytes go straight from the transport to the
/// sink.
pub struct Download<'s, 'b, 'a, W: Write> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    target: Target<'a>,
    range: Option<(u64, u64)>,
    head_only: bool,
    auth: Option<&'a str>,
    customer_key: Option<&'a CustomerKey>,
    sink: W,
    state: CallState,
    hasher: Sha1,
    received: u64,
    expected_this_answer: u64,
    info: DownloadInfo,
    have_info: bool,
    policy: RetryPolicy,
}

impl<'s, 'b, 'a, W: Write> Download<'s, 'b, 'a, W> {
    /// Prepares a download of `target` into `sink`.
    pub fn new(
        session: &'s mut Session,
        buf: &'b mut [u8],
        target: Target<'a>,
        sink: W,
    ) -> Result<Self, Error> {
        match target {
            Target::ById("") => return Err(InvalidInput::TooLong.into()),
            Target::ByName { bucket, name } => {
                validate::file_name(name)?;
                if bucket.is_empty() {
                    return Err(InvalidInput::BucketName.into());
                }
            }
            _ => {}
        }
        let state = CallState::new(CallKind::Download, session, jitter_seed(session));
        Ok(Download {
            session,
            buf,
            target,
            range: None,
            head_only: false,
            auth: None,
            customer_key: None,
            sink,
            state,
            hasher: Sha1::new(),
            received: 0,
            expected_this_answer: 0,
            info: DownloadInfo::default(),
            have_info: false,
            policy: RetryPolicy::default(),
        })
    }

    /// Downloads only bytes `start..=end` (inclusive, as HTTP ranges are). Not verifiable by
    /// SHA-1.
    pub fn range(mut self, start: u64, end: u64) -> Result<Self, Error> {
        if end < start {
            return Err(InvalidInput::Range.into());
        }
        self.range = Some((start, end));
        Ok(self)
    }

    /// Sends HEAD: metadata only, nothing written to the sink.
    pub fn head_only(mut self) -> Self {
        self.head_only = true;
        self
    }

    /// Uses a download-authorization token (from `b2_get_download_authorization`) instead of
    /// the account token.
    pub fn authorization(mut self, token: &'a str) -> Self {
        self.auth = Some(token);
        self
    }

    /// Sends the SSE-C key the file was uploaded with (B2 refuses to serve an SSE-C file,
    /// body or HEAD, without it).
    pub fn customer_key(mut self, key: Option<&'a CustomerKey>) -> Self {
        self.customer_key = key;
        self
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// What the server said about the file (complete after [`Step::Done`]).
    pub fn info(&self) -> &DownloadInfo {
        &self.info
    }

    /// Body bytes written to the sink so far.
    pub fn bytes_written(&self) -> u64 {
        self.received
    }

    /// The sink back, after the download.
    pub fn into_sink(self) -> W {
        self.sink
    }

    /// Takes in the head of a success answer.
    fn success_head(&mut self, headers: &dyn Headers) -> Result<(), Error> {
        let h = parse_download_head(headers).map_err(Error::BadAnswer)?;
        let length = h.content_length;
        if self.have_info {
            // A resumed answer must be the same file, from where we stopped.
            if h.file_id != self.info.file_id.as_str() {
                return Err(Error::BadAnswer(BadAnswer::Mismatch));
            }
            let want = self.range.map(|r| r.0).unwrap_or(0) + self.received;
            if h.content_range.map(|r| r.0) != Some(want) {
                return Err(Error::BadAnswer(BadAnswer::Mismatch));
            }
        } else {
            self.info.file_id =
                fixed(h.file_id).map_err(|_| Error::BadAnswer(BadAnswer::TooLong))?;
            self.info.length = length;
            self.info.file_size = h.content_range.map(|r| r.2).unwrap_or(length);
            self.info.upload_timestamp = h.upload_timestamp.unwrap_or(0);
            self.info.src_last_modified_millis = h.src_last_modified_millis;
            self.info.sha1 = match h.content_sha1 {
                Sha1State::Known(d) | Sha1State::Unverified(d) => Some(d),
                Sha1State::None => h.large_file_sha1,
            };
            if self.range.is_some() && h.content_range.is_none() {
                return Err(Error::BadAnswer(BadAnswer::Header));
            }
            self.have_info = true;
        }
        self.expected_this_answer = length;
        Ok(())
    }
}

/// Renders a download request: by id or name, with a `Range` resuming after `received`
/// bytes (of the caller's range, if any).
#[allow(clippy::too_many_arguments)]
fn render<'b>(
    s: &Session,
    buf: &'b mut [u8],
    target: Target<'_>,
    range: Option<(u64, u64)>,
    received: u64,
    auth: Option<&str>,
    head_only: bool,
    key: Option<&CustomerKey>,
) -> Result<Request<'b>, Error> {
    let mut w = HeadWriter::new(buf, 0);
    match target {
        Target::ById(id) => w.url(format_args!(
            "{}/b2api/{}/b2_download_file_by_id?fileId={}",
            s.download_url,
            crate::API_VERSION,
            percent_encode(id)
        )),
        Target::ByName { bucket, name } => w.url(format_args!(
            "{}/file/{}/{}",
            s.download_url,
            percent_encode(bucket),
            percent_encode(name)
        )),
    }
    let token = auth.unwrap_or(s.token.expose());
    w.header("Authorization", format_args!("{token}"));
    match (range, received) {
        (Some((a, b)), r) => w.header("Range", format_args!("bytes={}-{b}", a + r)),
        (None, r) if r > 0 => w.header("Range", format_args!("bytes={r}-")),
        _ => {}
    }
    if let Some(k) = key {
        k.headers(&mut w);
    }
    let method = if head_only { Method::Head } else { Method::Get };
    w.finish(method, None, s.test_mode)
}

impl<W: Write> Exchange for Download<'_, '_, '_, W> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        if self.state.authorizing() {
            return self.state.authorize_request(self.session, self.buf);
        }
        let r = render(
            self.session,
            self.buf,
            self.target,
            self.range,
            self.received,
            self.auth,
            self.head_only,
            self.customer_key,
        );
        self.state.custom_request(r)
    }

    fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
        Ok(self.state.body(self.buf, out))
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        self.state.response(status, headers);
        if self.state.receiving_success() {
            if let Err(e) = self.success_head(headers) {
                self.state.fail(e);
                return Err(Abort);
            }
        }
        Ok(())
    }

    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        if !self.state.receiving_success() {
            return self.state.response_body(chunk, self.buf);
        }
        if self.head_only {
            return Ok(());
        }
        self.state.answer.received += chunk.len() as u64;
        if self.received + chunk.len() as u64 > self.info.length {
            self.state.fail(Error::BadAnswer(BadAnswer::Mismatch));
            return Err(Abort);
        }
        if let Err(e) = self.sink.write_all(chunk) {
            self.state.fail(Error::Sink(embedded_io::Error::kind(&e)));
            return Err(Abort);
        }
        // Only a whole file can be checked against its SHA-1: a range is not hashed.
        if self.range.is_none() {
            self.hasher.update(chunk);
        }
        self.received += chunk.len() as u64;
        Ok(())
    }

    fn response_end(&mut self) -> Result<(), Abort> {
        if self.head_only {
            // HEAD: Content-Length describes the file, not this (empty) body.
            self.state.answer.content_length = None;
            self.state.answer.length_invalid = false;
        }
        self.state
            .response_end(self.session, self.buf, &self.policy)
    }
}

impl<W: Write> Operation for Download<'_, '_, '_, W> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        match self.state.poll(now_ms, &self.policy)? {
            CallPoll::Send => Ok(Step::Send),
            CallPoll::Wait(t) => Ok(Step::Wait { until_ms: t }),
            CallPoll::Answered => {
                if self.head_only {
                    return Ok(Step::Done);
                }
                if self.received != self.info.length {
                    return Err(Error::BadAnswer(BadAnswer::Truncated));
                }
                self.sink
                    .flush()
                    .map_err(|e| Error::Sink(embedded_io::Error::kind(&e)))?;
                if self.range.is_none() {
                    if let Some(want) = self.info.sha1 {
                        let got: [u8; 20] = core::mem::take(&mut self.hasher).finalize().into();
                        if got != want {
                            return Err(Error::Sha1Mismatch);
                        }
                        self.info.verified = true;
                    }
                }
                Ok(Step::Done)
            }
        }
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.state.transport_failed(error, &self.policy);
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}
