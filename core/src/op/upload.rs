//! Uploads on upload URLs: the shared streaming engine, small files, and single parts.
//!
//! Bytes are read from a [`Source`] straight into the transport's buffer and hashed on the
//! way (`hex_digits_at_end`), so no upload is ever held in RAM. A failed upload drops its
//! URL, gets a new one and reads its range again, up to `max_upload_urls` URLs.

use sha1::{Digest, Sha1};

use crate::encoding::{percent_encode, sha1_hex};
use crate::error::{BadAnswer, Error, InvalidInput};
use crate::http::{Headers, Method, Request, TransportError};
use crate::op::call::{AnswerState, CallPoll, CallState};
use crate::op::head::HeadWriter;
use crate::op::json::jitter_seed;
use crate::op::{Abort, Exchange, Operation, Source, Step, UploadUrl};
use crate::retry::{classify, Backoff, CallKind, Outcome, RetryPolicy, Verdict};
use crate::session::Session;
use crate::validate;
use crate::wire::encryption::{CustomerKey, Encryption};
use crate::wire::lock::{LegalHold, Retention};
use crate::wire::{self, Answer as _};

/// What a new file is: name, type, info and size. Used by small and large uploads.
#[derive(Clone, Copy, Debug)]
pub struct FileParams<'a> {
    /// Bucket to upload into.
    pub bucket_id: &'a str,
    /// File name (validated before any I/O, percent-encoded on the wire).
    pub file_name: &'a str,
    /// Content type; `b2/x-auto` lets B2 pick from the extension.
    pub content_type: &'a str,
    /// File info entries (≤ 10 in all, with the ones below).
    pub info: &'a [(&'a str, &'a str)],
    /// Sent as `src_last_modified_millis` info when known.
    pub src_last_modified_millis: Option<u64>,
    /// SHA-1 of the whole content when known before the upload. Small files send it as
    /// `X-Bz-Content-Sha1` (otherwise `hex_digits_at_end` is used); large files store it as
    /// `large_file_sha1` info.
    pub sha1: Option<[u8; 20]>,
    /// Size in bytes.
    pub size: u64,
    /// Server-side encryption (`None`: the bucket's default, SSE-B2). With SSE-C every part
    /// of a large file carries the key too.
    pub encryption: Option<Encryption<'a>>,
    /// Object Lock retention (the bucket must have file lock enabled).
    pub retention: Option<Retention>,
    /// Object Lock legal hold.
    pub legal_hold: Option<LegalHold>,
    /// Upload timestamp to record instead of now, in milliseconds (B2 must have it enabled
    /// for the account; `X-Bz-Custom-Upload-Timestamp` / `customUploadTimestamp`).
    pub custom_upload_timestamp: Option<u64>,
}

impl<'a> FileParams<'a> {
    /// Parameters with content type `b2/x-auto`, no info and no SHA-1.
    pub fn new(bucket_id: &'a str, file_name: &'a str, size: u64) -> Self {
        FileParams {
            bucket_id,
            file_name,
            content_type: "b2/x-auto",
            info: &[],
            src_last_modified_millis: None,
            sha1: None,
            size,
            encryption: None,
            retention: None,
            legal_hold: None,
            custom_upload_timestamp: None,
        }
    }

    /// The SSE-C key, when the file is SSE-C (parts must carry it).
    pub fn customer_key(&self) -> Option<&'a CustomerKey> {
        self.encryption.and_then(|e| e.customer_key())
    }

    /// Every file info entry the file carries: the caller's, then `src_last_modified_millis`
    /// when known and, for large files (`large`), `large_file_sha1` when the whole-file
    /// SHA-1 is known. The one place these extra entries are made; `scratch` holds their
    /// text.
    pub fn info_entries<'s>(&'s self, large: bool, scratch: &'s mut InfoScratch) -> InfoList<'s> {
        let mut out: InfoList<'s> = heapless::Vec::new();
        for kv in self.info {
            let _ = out.push(*kv);
        }
        scratch.millis.clear();
        let InfoScratch {
            millis,
            sha1_hex: hex,
        } = scratch;
        if let Some(ms) = self.src_last_modified_millis {
            let _ = core::fmt::write(millis, format_args!("{ms}"));
            let _ = out.push(("src_last_modified_millis", millis.as_str()));
        }
        if let (true, Some(d)) = (large, self.sha1) {
            *hex = sha1_hex(&d);
            let _ = out.push((
                "large_file_sha1",
                core::str::from_utf8(&hex[..]).unwrap_or(""),
            ));
        }
        out
    }

    /// What recognises this file in a listing: its name and every info entry it carries
    /// (with the SDK's, see [`FileParams::info_entries`]), in any order.
    pub(crate) fn identity(&self, large: bool) -> [u8; 20] {
        let mut scratch = InfoScratch::default();
        let entries = self.info_entries(large, &mut scratch);
        identity(
            self.file_name.chars().map(Ok),
            entries
                .iter()
                .map(|(k, v)| (k.chars().map(Ok), v.chars().map(Ok))),
        )
    }

    /// Checks name, type and info (with the extra entries the SDK adds: `large` adds
    /// `large_file_sha1` when the SHA-1 is known).
    pub fn validate(&self, large: bool) -> Result<(), InvalidInput> {
        validate::file_name(self.file_name)?;
        validate::content_type(self.content_type)?;
        if self.info.len() > validate::MAX_INFO_ENTRIES {
            return Err(InvalidInput::TooManyInfoEntries);
        }
        let mut scratch = InfoScratch::default();
        let entries = self.info_entries(large, &mut scratch);
        let protected =
            self.encryption.is_some() || self.retention.is_some() || self.legal_hold.is_some();
        let budget = if protected {
            validate::PROTECTED_HEADER_BUDGET
        } else {
            validate::HEADER_BUDGET
        };
        validate::file_info_within(self.file_name, entries.iter().copied(), budget)
    }
}

/// The info entries of a file: the caller's (at most 10) plus the SDK's.
pub type InfoList<'s> = heapless::Vec<(&'s str, &'s str), 12>;

/// Text storage for the info entries the SDK adds (see [`FileParams::info_entries`]).
pub struct InfoScratch {
    millis: heapless::String<20>,
    sha1_hex: [u8; 40],
}

impl Default for InfoScratch {
    fn default() -> Self {
        InfoScratch {
            millis: heapless::String::new(),
            sha1_hex: [b'0'; 40],
        }
    }
}

/// Versions listed to find the newest of a name after a lost answer (unfinished large files
/// of the name come first when they are newer).
const CHECK_VERSIONS: u32 = 5;

/// Which upload call an [`UploadState`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Job {
    /// `b2_upload_file` (URL from `b2_get_upload_url`).
    File,
    /// `b2_upload_part` (URL from `b2_get_upload_part_url`).
    Part(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NeedUrl,
    GetUrl,
    SendUpload,
    AwaitUpload,
    Backoff {
        delay_ms: u64,
    },
    Waiting {
        until_ms: u64,
    },
    /// The body went out whole but the answer was lost (or was a 5xx): ask B2 whether it
    /// stored the upload before sending it again (`b2_list_parts` for a part, the newest
    /// version of the name for a file).
    Check,
    Done,
    Failed,
}

/// The streaming upload engine: gets an upload URL when it has none, streams a byte range
/// of a source with its SHA-1, and rotates URLs on failure.
pub(crate) struct UploadState {
    job: Job,
    url: Option<UploadUrl>,
    url_call: CallState,
    phase: Phase,
    urls_tried: u8,
    answer: AnswerState,
    offset: u64,
    len: u64,
    sent: u64,
    given_sha1: Option<[u8; 20]>,
    hasher: Sha1,
    trailer: [u8; 40],
    trailer_pos: u8,
    digest: [u8; 20],
    backoff: Backoff,
    error: Option<Error>,
    /// Small files: SHA-1 of the name and info entries, to recognise the upload in a listing.
    identity: Option<[u8; 20]>,
    /// What to do if the check finds nothing stored: the verdict, its error, `Retry-After`.
    pending: Option<(Verdict, Error, Option<u32>)>,
    /// Bytes of the range sent by uploads that then failed (counted for statistics).
    pub resent_bytes: u64,
    /// Uploads found stored after their answer was lost (not sent again).
    pub found_after_loss: u8,
}

impl UploadState {
    /// Uploads `len` bytes of the source from `offset`, on `url` if given.
    pub fn new(
        job: Job,
        session: &Session,
        url: Option<UploadUrl>,
        offset: u64,
        len: u64,
        given_sha1: Option<[u8; 20]>,
    ) -> Self {
        let seed = jitter_seed(session) ^ offset as u32;
        UploadState {
            job,
            url,
            url_call: CallState::new(CallKind::Json, session, seed),
            phase: Phase::NeedUrl,
            urls_tried: 0,
            answer: AnswerState::default(),
            offset,
            len,
            sent: 0,
            given_sha1,
            hasher: Sha1::new(),
            trailer: [0; 40],
            trailer_pos: 0,
            digest: [0; 20],
            backoff: Backoff::new(seed.rotate_left(7)),
            error: None,
            identity: None,
            pending: None,
            resent_bytes: 0,
            found_after_loss: 0,
        }
    }

    /// For small files: what the file is (name and info), so a lost answer can be checked
    /// against the newest version of the name.
    pub fn for_file(mut self, params: &FileParams<'_>) -> Self {
        self.identity = Some(params.identity(false));
        self
    }

    /// Whether the exchange in flight is a JSON call (upload URL, or the lost-answer check).
    fn in_json_call(&self) -> bool {
        matches!(self.phase, Phase::GetUrl | Phase::Check)
    }

    /// Whether every body byte (and the SHA-1 trailer) went out.
    fn body_complete(&self) -> bool {
        self.sent == self.len && (self.given_sha1.is_some() || self.trailer_pos >= 40)
    }

    /// The SHA-1 of the uploaded range, once done.
    pub fn digest(&self) -> [u8; 20] {
        self.digest
    }

    /// Takes the upload URL back after success (to reuse or pool it).
    pub fn take_url(&mut self) -> Option<UploadUrl> {
        if self.phase == Phase::Done {
            self.url.take()
        } else {
            None
        }
    }

    /// Length of the success answer in the buffer.
    pub fn answer_len(&self) -> usize {
        self.answer.len
    }

    /// Upload URLs used so far (1 when the first one worked).
    pub fn urls_tried(&self) -> u8 {
        self.urls_tried
    }

    pub fn poll(
        &mut self,
        now_ms: u64,
        session: &Session,
        buf: &mut [u8],
        for_id: &str,
        policy: &RetryPolicy,
    ) -> Result<CallPoll, Error> {
        if let Some(e) = self.error.take() {
            self.phase = Phase::Failed;
            return Err(e);
        }
        loop {
            match self.phase {
                Phase::NeedUrl => {
                    if self.url.is_some() {
                        self.phase = Phase::SendUpload;
                    } else {
                        self.url_call.restart(session);
                        self.phase = Phase::GetUrl;
                    }
                }
                Phase::GetUrl => match self.url_call.poll(now_ms, policy)? {
                    CallPoll::Answered => {
                        let body = buf.get(..self.url_call.answer.len).unwrap_or(&[]);
                        let a =
                            wire::upload::UploadUrlAnswer::parse(body).map_err(Error::BadAnswer)?;
                        let url = UploadUrl::from_answer(for_id, &a)?;
                        self.url = Some(url);
                        self.phase = Phase::SendUpload;
                    }
                    other => return Ok(other),
                },
                Phase::Check => match self.url_call.poll(now_ms, policy) {
                    // A key that may not list (a write-only key lacks `listFiles`) cannot
                    // check: the upload is sent again, as before this check existed.
                    Err(Error::Api(e)) if e.status == 401 => {
                        let _ = e;
                        self.act_on_pending(policy)?;
                    }
                    Err(e) => return Err(e),
                    Ok(CallPoll::Answered) => {
                        if self.stored(buf)? {
                            self.found_after_loss = self.found_after_loss.saturating_add(1);
                            self.pending = None;
                            self.url = None;
                            self.phase = Phase::Done;
                        } else {
                            self.act_on_pending(policy)?;
                        }
                    }
                    Ok(other) => return Ok(other),
                },
                Phase::SendUpload => return Ok(CallPoll::Send),
                Phase::AwaitUpload => {
                    self.transport_failed(TransportError::Receive, policy);
                    if let Some(e) = self.error.take() {
                        self.phase = Phase::Failed;
                        return Err(e);
                    }
                }
                Phase::Backoff { delay_ms } => {
                    self.phase = Phase::Waiting {
                        until_ms: now_ms.saturating_add(delay_ms),
                    };
                }
                Phase::Waiting { until_ms } => {
                    if now_ms < until_ms {
                        return Ok(CallPoll::Wait(until_ms));
                    }
                    self.phase = Phase::NeedUrl;
                }
                Phase::Done => return Ok(CallPoll::Answered),
                Phase::Failed => return Err(Error::Misuse("poll after failure")),
            }
        }
    }

    /// Renders the next request: the URL call, or the upload itself (`extra` adds the
    /// job's own headers).
    pub fn request<'b>(
        &mut self,
        session: &Session,
        buf: &'b mut [u8],
        for_id: &str,
        file_name: &str,
        extra: impl FnOnce(&mut HeadWriter<'_>),
    ) -> Result<Request<'b>, Abort> {
        if self.phase == Phase::Check {
            if self.url_call.authorizing() {
                return self.url_call.authorize_request(session, buf);
            }
            return match self.job {
                Job::File => self.url_call.json_request(
                    session,
                    &wire::file::ListFileVersions {
                        bucket_id: for_id,
                        start_file_name: Some(file_name),
                        start_file_id: None,
                        max_file_count: Some(CHECK_VERSIONS),
                        prefix: Some(file_name),
                        delimiter: None,
                    },
                    buf,
                ),
                Job::Part(n) => self.url_call.json_request(
                    session,
                    &wire::large::ListParts {
                        file_id: for_id,
                        start_part_number: Some(n),
                        max_part_count: Some(1),
                    },
                    buf,
                ),
            };
        }
        if self.phase == Phase::GetUrl {
            if self.url_call.authorizing() {
                return self.url_call.authorize_request(session, buf);
            }
            return match self.job {
                Job::File => self.url_call.json_request(
                    session,
                    &wire::upload::GetUploadUrl { bucket_id: for_id },
                    buf,
                ),
                Job::Part(_) => self.url_call.json_request(
                    session,
                    &wire::upload::GetUploadPartUrl { file_id: for_id },
                    buf,
                ),
            };
        }
        self.phase = Phase::AwaitUpload;
        self.answer = AnswerState::default();
        self.urls_tried = self.urls_tried.saturating_add(1);
        self.resent_bytes += self.sent;
        self.sent = 0;
        self.trailer_pos = 0;
        self.hasher = Sha1::new();
        let Some(url) = self.url.as_ref() else {
            self.error = Some(Error::Misuse("upload without URL"));
            return Err(Abort);
        };
        let mut w = HeadWriter::new(buf, 0);
        w.url(format_args!("{}", url.url));
        w.header("Authorization", format_args!("{}", url.token.expose()));
        let body_len = match self.given_sha1 {
            Some(d) => {
                let hex = sha1_hex(&d);
                w.header(
                    "X-Bz-Content-Sha1",
                    format_args!("{}", core::str::from_utf8(&hex).unwrap_or("")),
                );
                self.len
            }
            None => {
                w.header("X-Bz-Content-Sha1", format_args!("hex_digits_at_end"));
                self.len + 40
            }
        };
        if let Job::Part(n) = self.job {
            w.header("X-Bz-Part-Number", format_args!("{n}"));
        }
        extra(&mut w);
        match w.finish(Method::Post, Some(body_len), session.test_mode) {
            Ok(r) => Ok(r),
            Err(e) => {
                self.error = Some(e);
                Err(Abort)
            }
        }
    }

    pub fn body<S: Source + ?Sized>(
        &mut self,
        buf: &[u8],
        source: &mut S,
        out: &mut [u8],
    ) -> Result<usize, Abort> {
        if self.in_json_call() {
            return Ok(self.url_call.body(buf, out));
        }
        if self.sent < self.len {
            let want = (self.len - self.sent).min(out.len() as u64) as usize;
            let dst = out.get_mut(..want).unwrap_or(&mut []);
            let at = self.offset + self.sent;
            let n = match source.read_at(at, dst) {
                Ok(0) => Err(Error::SourceTooShort { offset: at }),
                Ok(n) => Ok(n.min(want)),
                Err(k) => Err(Error::Source(k)),
            }
            .map_err(|e| {
                self.error = Some(e);
                Abort
            })?;
            if self.given_sha1.is_none() {
                self.hasher.update(dst.get(..n).unwrap_or(&[]));
            }
            self.sent += n as u64;
            if self.sent == self.len && self.given_sha1.is_none() {
                let d: [u8; 20] = core::mem::take(&mut self.hasher).finalize().into();
                self.digest = d;
                self.trailer = sha1_hex(&d);
            }
            return Ok(n);
        }
        if self.given_sha1.is_some() || self.trailer_pos >= 40 {
            return Ok(0);
        }
        if self.len == 0 && self.trailer_pos == 0 {
            // An empty body: the digest is the empty input's.
            let d: [u8; 20] = core::mem::take(&mut self.hasher).finalize().into();
            self.digest = d;
            self.trailer = sha1_hex(&d);
        }
        let rest = self.trailer.get(self.trailer_pos as usize..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        if let (Some(d), Some(s)) = (out.get_mut(..n), rest.get(..n)) {
            d.copy_from_slice(s);
        }
        self.trailer_pos += n as u8;
        Ok(n)
    }

    pub fn response(&mut self, status: u16, headers: &dyn Headers) {
        if self.in_json_call() {
            self.url_call.response(status, headers);
        } else {
            self.answer.head(status, headers);
        }
    }

    pub fn response_body(&mut self, chunk: &[u8], buf: &mut [u8]) -> Result<(), Abort> {
        if self.in_json_call() {
            return self.url_call.response_body(chunk, buf);
        }
        self.answer.store(chunk, buf).map_err(|e| {
            self.error = Some(e);
            Abort
        })
    }

    pub fn response_end(
        &mut self,
        session: &mut Session,
        buf: &[u8],
        policy: &RetryPolicy,
    ) -> Result<(), Abort> {
        if self.in_json_call() {
            return self.url_call.response_end(session, buf, policy);
        }
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
        if self.answer.ok() {
            if let Some(d) = self.given_sha1 {
                self.digest = d;
            }
            let body = buf.get(..self.answer.len).unwrap_or(&[]);
            match self.check_answer(body) {
                Ok(()) => self.phase = Phase::Done,
                Err(e) => {
                    self.error = Some(e);
                    return Err(Abort);
                }
            }
            return Ok(());
        }
        let err = self.answer.api_error(buf);
        let verdict = classify(
            CallKind::Upload,
            Outcome::Status {
                status: err.status,
                code: &err.code,
            },
        );
        let ra = err.retry_after_secs;
        if err.status >= 500 && self.body_complete() {
            // The server read the whole body, then failed: it may have stored it.
            if !self.check_before_resending(verdict, Error::Api(err.clone()), ra) {
                self.on_verdict(verdict, Error::Api(err), ra, policy);
            }
            return Ok(());
        }
        self.on_verdict(verdict, Error::Api(err), ra, policy);
        Ok(())
    }

    /// The check found nothing (or could not look): act on the verdict it held back.
    fn act_on_pending(&mut self, policy: &RetryPolicy) -> Result<(), Error> {
        if let Some((verdict, err, ra)) = self.pending.take() {
            self.phase = Phase::AwaitUpload;
            self.on_verdict(verdict, err, ra, policy);
            if let Some(e) = self.error.take() {
                self.phase = Phase::Failed;
                return Err(e);
            }
        }
        Ok(())
    }

    /// The outcome is unknown: ask B2 what it stored before acting on `verdict`. Returns
    /// `false` (nothing to check: act on the verdict now) for a file whose identity is unknown.
    fn check_before_resending(&mut self, verdict: Verdict, err: Error, ra: Option<u32>) -> bool {
        if self.job == Job::File && self.identity.is_none() {
            return false;
        }
        if let Some(d) = self.given_sha1 {
            self.digest = d;
        }
        self.pending = Some((verdict, err, ra));
        self.url_call.restart_next();
        self.phase = Phase::Check;
        true
    }

    /// Whether the check's answer shows this upload stored (for a file, the answer is then
    /// moved to the start of `buf`, where the caller reads the new version).
    fn stored(&mut self, buf: &mut [u8]) -> Result<bool, Error> {
        let body = buf.get(..self.url_call.answer.len).unwrap_or(&[]);
        let same_sha = |t: Option<crate::wire::Text<'_>>, digest: &[u8; 20]| {
            t.and_then(|t| {
                let raw = t.raw();
                crate::encoding::parse_sha1_hex(raw.strip_prefix("unverified:").unwrap_or(raw))
            }) == Some(*digest)
        };
        match self.job {
            Job::Part(n) => {
                let page = wire::large::ListPartsAnswer::parse(body).map_err(Error::BadAnswer)?;
                let mut parts = page.parts;
                match parts.next() {
                    Some(p) => {
                        let p = p.map_err(Error::BadAnswer)?;
                        Ok(p.part_number == n
                            && p.content_length == self.len
                            && same_sha(p.content_sha1, &self.digest))
                    }
                    None => Ok(false),
                }
            }
            Job::File => {
                let page = wire::file::ListFilesAnswer::parse(body).map_err(Error::BadAnswer)?;
                let mut found = None;
                // The newest version of the name (unfinished large files of the name are
                // listed among versions; they are not versions, so they are skipped).
                let mut newest = None;
                for f in page.files {
                    let f = f.map_err(Error::BadAnswer)?;
                    if f.action != wire::file::Action::Start {
                        newest = Some(f);
                        break;
                    }
                }
                if let Some(f) = newest {
                    let theirs = file_identity(&f);
                    if f.action == wire::file::Action::Upload
                        && f.content_length == self.len
                        && same_sha(f.content_sha1, &self.digest)
                        && Some(theirs) == self.identity
                    {
                        let start = f.raw.as_ptr() as usize - body.as_ptr() as usize;
                        found = Some((start, f.raw.len()));
                    }
                }
                let Some((start, len)) = found else {
                    return Ok(false);
                };
                buf.copy_within(start..start + len, 0);
                self.answer = AnswerState::default();
                self.answer.status = 200;
                self.answer.len = len;
                Ok(true)
            }
        }
    }

    /// Checks that the server stored what was sent (length and SHA-1).
    fn check_answer(&self, body: &[u8]) -> Result<(), Error> {
        let (len, sha) = match self.job {
            Job::File => {
                let f = wire::file::File::parse(body).map_err(Error::BadAnswer)?;
                (f.content_length, f.content_sha1)
            }
            Job::Part(n) => {
                let p = wire::large::Part::parse(body).map_err(Error::BadAnswer)?;
                if p.part_number != n {
                    return Err(Error::BadAnswer(BadAnswer::Mismatch));
                }
                (p.content_length, p.content_sha1)
            }
        };
        if len != self.len {
            return Err(Error::BadAnswer(BadAnswer::Mismatch));
        }
        if let Some(sha) = sha {
            let raw = sha.raw();
            let hex = raw.strip_prefix("unverified:").unwrap_or(raw);
            if let Some(d) = crate::encoding::parse_sha1_hex(hex) {
                if d != self.digest {
                    return Err(Error::UploadSha1Mismatch);
                }
            }
        }
        Ok(())
    }

    pub fn transport_failed(&mut self, e: TransportError, policy: &RetryPolicy) {
        if self.in_json_call() {
            self.url_call.transport_failed(e, policy);
            return;
        }
        if self.error.is_some() {
            return;
        }
        if self.phase == Phase::SendUpload {
            // Failed before the transport asked for the request: the URL still counts.
            self.urls_tried = self.urls_tried.saturating_add(1);
        }
        let verdict = classify(CallKind::Upload, Outcome::Transport(e));
        if self.phase == Phase::AwaitUpload
            && self.body_complete()
            && !matches!(e, TransportError::Aborted | TransportError::Connect)
            && verdict != Verdict::Final
        {
            // The body went out whole and the answer was lost: B2 may have stored it.
            if self.check_before_resending(verdict, Error::Transport(e), None) {
                return;
            }
        }
        self.on_verdict(verdict, Error::Transport(e), None, policy);
    }

    fn on_verdict(
        &mut self,
        verdict: Verdict,
        err: Error,
        retry_after: Option<u32>,
        policy: &RetryPolicy,
    ) {
        match verdict {
            Verdict::NewUploadUrl { wait } => {
                self.url = None; // dropped for good
                if self.urls_tried >= policy.max_upload_urls {
                    self.error = Some(Error::UploadUrlsExhausted {
                        tried: self.urls_tried,
                    });
                } else if wait {
                    let delay_ms = self.backoff.delay_ms(policy, retry_after);
                    self.phase = Phase::Backoff { delay_ms };
                } else {
                    self.phase = Phase::NeedUrl;
                }
            }
            _ => {
                self.url = None;
                self.error = Some(err);
            }
        }
    }
}

/// The identity of a file version B2 listed: see [`FileParams::identity`].
pub(crate) fn file_identity(f: &wire::file::File<'_>) -> [u8; 20] {
    identity(
        f.file_name.chars(),
        f.file_info.entries().map(|(k, v)| (k.chars(), v.chars())),
    )
}

/// SHA-1 of a file's name and info entries, whatever the order of the entries: what
/// recognises a small upload after its answer was lost, or an unfinished large file to
/// resume, in a listing.
fn identity<N, K, V>(mut name: N, entries: impl Iterator<Item = (K, V)>) -> [u8; 20]
where
    N: Iterator<Item = Result<char, BadAnswer>>,
    K: Iterator<Item = Result<char, BadAnswer>>,
    V: Iterator<Item = Result<char, BadAnswer>>,
{
    // The hashing is done by `Identity`, compiled once; only this loop is per iterator type.
    let mut id = Identity::default();
    for (mut k, mut v) in entries {
        id.entry(&mut k, &mut v);
    }
    id.finish(&mut name)
}

/// Characters of a name, key or value (an unreadable escape hashes as U+FFFD).
type Chars<'a> = dyn Iterator<Item = Result<char, BadAnswer>> + 'a;

/// The running state of [`identity`]: the XOR of the entries' digests and their count.
#[derive(Default)]
struct Identity {
    acc: [u8; 20],
    count: u32,
}

impl Identity {
    fn feed(h: &mut Sha1, chars: &mut Chars<'_>) {
        let mut b = [0u8; 4];
        for c in chars {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            h.update(c.encode_utf8(&mut b).as_bytes());
        }
        h.update([0xff]);
    }

    fn entry(&mut self, k: &mut Chars<'_>, v: &mut Chars<'_>) {
        let mut h = Sha1::new();
        Self::feed(&mut h, k);
        Self::feed(&mut h, v);
        let d: [u8; 20] = h.finalize().into();
        for (a, b) in self.acc.iter_mut().zip(d) {
            *a ^= b;
        }
        self.count += 1;
    }

    fn finish(self, name: &mut Chars<'_>) -> [u8; 20] {
        let mut h = Sha1::new();
        Self::feed(&mut h, name);
        h.update(self.acc);
        h.update(self.count.to_le_bytes());
        h.finalize().into()
    }
}

/// Writes the headers of `b2_upload_file` that describe the file.
pub(crate) fn file_headers(w: &mut HeadWriter<'_>, p: &FileParams<'_>) {
    w.header(
        "X-Bz-File-Name",
        format_args!("{}", percent_encode(p.file_name)),
    );
    w.header("Content-Type", format_args!("{}", p.content_type));
    let mut scratch = InfoScratch::default();
    for (k, v) in p.info_entries(false, &mut scratch) {
        w.header_fmt(
            format_args!("X-Bz-Info-{k}"),
            format_args!("{}", percent_encode(v)),
        );
    }
    if let Some(e) = &p.encryption {
        e.upload_headers(w);
    }
    if let Some(r) = &p.retention {
        r.headers(w);
    }
    if let Some(h) = &p.legal_hold {
        h.header(w);
    }
    if let Some(t) = p.custom_upload_timestamp {
        w.header("X-Bz-Custom-Upload-Timestamp", format_args!("{t}"));
    }
}

/// Writes the headers of `b2_upload_part` that come from the file: the SSE-C key, when the
/// large file is SSE-C (B2 needs it on every part).
pub(crate) fn part_headers(w: &mut HeadWriter<'_>, key: Option<&CustomerKey>) {
    if let Some(k) = key {
        k.headers(w);
    }
}

/// Uploads a small file (≤ 5 GB) in one request: gets an upload URL unless one is given,
/// then streams the source with its SHA-1. After [`Step::Done`], [`UploadFile::file`] is the
/// new file version and [`UploadFile::take_upload_url`] gives the URL back for reuse.
///
/// Cost: about 1.2 KiB of state plus the caller's buffer (request head, then the answer:
/// 1–2 KiB is enough for typical names and info).
pub struct UploadFile<'s, 'b, 'p, S: Source> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    source: S,
    params: FileParams<'p>,
    up: UploadState,
    policy: RetryPolicy,
}

impl<'s, 'b, 'p, S: Source> UploadFile<'s, 'b, 'p, S> {
    /// Validates the parameters and prepares the upload; `url` is an idle upload URL for
    /// the bucket, if the caller has one.
    pub fn new(
        session: &'s mut Session,
        buf: &'b mut [u8],
        params: FileParams<'p>,
        source: S,
        url: Option<UploadUrl>,
    ) -> Result<Self, Error> {
        params.validate(false)?;
        if params.size > validate::MAX_SMALL_FILE {
            return Err(InvalidInput::FileSize.into());
        }
        let url = url.filter(|u| u.for_id == params.bucket_id);
        let up = UploadState::new(Job::File, session, url, 0, params.size, params.sha1)
            .for_file(&params);
        Ok(UploadFile {
            session,
            buf,
            source,
            params,
            up,
            policy: RetryPolicy::default(),
        })
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The new file version, after [`Step::Done`].
    pub fn file(&self) -> Result<wire::file::File<'_>, Error> {
        let body = self.buf.get(..self.up.answer_len()).unwrap_or(&[]);
        wire::file::File::parse(body).map_err(Error::BadAnswer)
    }

    /// SHA-1 of the uploaded content, after [`Step::Done`].
    pub fn sha1(&self) -> [u8; 20] {
        self.up.digest()
    }

    /// Upload URLs used (1 when the first worked).
    pub fn urls_tried(&self) -> u8 {
        self.up.urls_tried()
    }

    /// The upload URL, after success, to reuse for the next upload.
    pub fn take_upload_url(&mut self) -> Option<UploadUrl> {
        self.up.take_url()
    }
}

impl<S: Source> Exchange for UploadFile<'_, '_, '_, S> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        let p = &self.params;
        self.up
            .request(self.session, self.buf, p.bucket_id, p.file_name, |w| {
                file_headers(w, p)
            })
    }
    fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
        self.up.body(self.buf, &mut self.source, out)
    }
    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        self.up.response(status, headers);
        Ok(())
    }
    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        self.up.response_body(chunk, self.buf)
    }
    fn response_end(&mut self) -> Result<(), Abort> {
        self.up.response_end(self.session, self.buf, &self.policy)
    }
}

impl<S: Source> Operation for UploadFile<'_, '_, '_, S> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        let p = self.params.bucket_id;
        Ok(self
            .up
            .poll(now_ms, self.session, self.buf, p, &self.policy)?
            .into())
    }
    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.up.transport_failed(error, &self.policy);
    }
    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

/// Uploads one part of a large file from a byte range of a source (re-read on retry).
/// Threads uploading parts in parallel each run one of these with their own upload URL.
/// After [`Step::Done`], [`UploadPart::sha1`] is the part's digest for the finish call.
pub struct UploadPart<'s, 'b, 'f, S: Source> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    source: S,
    file_id: &'f str,
    customer_key: Option<&'f CustomerKey>,
    up: UploadState,
    policy: RetryPolicy,
}

impl<'s, 'b, 'f, S: Source> UploadPart<'s, 'b, 'f, S> {
    /// Part `number` (1..=10,000) of large file `file_id`: `len` bytes of `source` from
    /// `offset`. `url` is an idle part URL for this file, if the caller has one.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        session: &'s mut Session,
        buf: &'b mut [u8],
        file_id: &'f str,
        number: u32,
        source: S,
        offset: u64,
        len: u64,
        url: Option<UploadUrl>,
    ) -> Result<Self, Error> {
        validate::part_number(number)?;
        if len > validate::MAX_PART_SIZE {
            return Err(InvalidInput::PartSize.into());
        }
        let url = url.filter(|u| u.for_id == file_id);
        let up = UploadState::new(Job::Part(number), session, url, offset, len, None);
        Ok(UploadPart {
            session,
            buf,
            source,
            file_id,
            customer_key: None,
            up,
            policy: RetryPolicy::default(),
        })
    }

    /// Sends the SSE-C key with the part (required when the large file was started with
    /// SSE-C; see [`FileParams::customer_key`]).
    pub fn with_customer_key(mut self, key: Option<&'f CustomerKey>) -> Self {
        self.customer_key = key;
        self
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sends `sha1` in the `X-Bz-Content-Sha1` header instead of hashing the bytes while
    /// they stream (`hex_digits_at_end`): for callers that hashed the part ahead, on another
    /// core. B2 refuses the part if the bytes do not match it.
    pub fn with_sha1(mut self, sha1: Option<[u8; 20]>) -> Self {
        self.up.given_sha1 = sha1;
        self
    }

    /// The part's SHA-1, after [`Step::Done`].
    pub fn sha1(&self) -> [u8; 20] {
        self.up.digest()
    }

    /// Upload URLs used (1 when the first worked).
    pub fn urls_tried(&self) -> u8 {
        self.up.urls_tried()
    }

    /// The part URL, after success, to reuse for the next part.
    pub fn take_upload_url(&mut self) -> Option<UploadUrl> {
        self.up.take_url()
    }
}

impl<S: Source> Exchange for UploadPart<'_, '_, '_, S> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        let key = self.customer_key;
        self.up
            .request(self.session, self.buf, self.file_id, "", |w| {
                part_headers(w, key)
            })
    }
    fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
        self.up.body(self.buf, &mut self.source, out)
    }
    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        self.up.response(status, headers);
        Ok(())
    }
    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        self.up.response_body(chunk, self.buf)
    }
    fn response_end(&mut self) -> Result<(), Abort> {
        self.up.response_end(self.session, self.buf, &self.policy)
    }
}

impl<S: Source> Operation for UploadPart<'_, '_, '_, S> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        Ok(self
            .up
            .poll(now_ms, self.session, self.buf, self.file_id, &self.policy)?
            .into())
    }
    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.up.transport_failed(error, &self.policy);
    }
    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}
