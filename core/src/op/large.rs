//! Large files streamed in parts: start (or resume) → parts → finish, with bounded memory.
//!
//! Part digests are kept as 20-byte values in caller-provided storage (one per part); the
//! `partSha1Array` body of the finish call is produced in chunks from them, never whole.

use sha1::{Digest, Sha1};

use crate::encoding::sha1_hex;
use crate::error::{BadAnswer, Error, InvalidInput};
use crate::http::{Headers, Method, Request, TransportError};
use crate::op::call::{CallPoll, CallState};
use crate::op::head::HeadWriter;
use crate::op::json::jitter_seed;
use crate::op::upload::{FileParams, Job, UploadState};
use crate::op::{Abort, Exchange, Operation, Source, Step, UploadUrl};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::{fixed, Id, Session};
use crate::validate::{self, PartPlan};
use crate::wire::{self, Answer as _, ApiCall as _};

/// The finish call's body, `{"fileId":"…","partSha1Array":["…",…]}`, produced a chunk at a
/// time from 20-byte digests: any buffer size works and the whole body never exists in RAM.
pub(crate) struct FinishBody;

impl FinishBody {
    const HEAD: &'static str = "{\"fileId\":\"";
    const MID: &'static str = "\",\"partSha1Array\":[";
    const TAIL: &'static str = "]}";
    /// One entry: `"` + 40 hex + `"`, plus `,` before every entry but the first.
    const ENTRY: u64 = 42;

    /// Total body length.
    pub fn len(file_id: &str, parts: usize) -> u64 {
        let entries = parts as u64 * Self::ENTRY + (parts as u64).saturating_sub(1);
        (Self::HEAD.len() + file_id.len() + Self::MID.len() + Self::TAIL.len()) as u64 + entries
    }

    /// The body byte at `pos` (file ids are plain ASCII and need no JSON escaping).
    fn byte_at(file_id: &str, digests: &[[u8; 20]], pos: u64) -> Option<u8> {
        let mut p = pos as usize;
        for fixed_part in [Self::HEAD, file_id, Self::MID] {
            if p < fixed_part.len() {
                return fixed_part.as_bytes().get(p).copied();
            }
            p -= fixed_part.len();
        }
        let n = digests.len();
        let entries = n * Self::ENTRY as usize + n.saturating_sub(1);
        if p < entries {
            let i = p / (Self::ENTRY as usize + 1);
            let within = p % (Self::ENTRY as usize + 1);
            return Some(match within {
                0 | 41 => b'"',
                42 => b',',
                k => {
                    let d = digests.get(i)?;
                    let byte = d.get((k - 1) / 2)?;
                    let nib = if (k - 1) % 2 == 0 {
                        byte >> 4
                    } else {
                        byte & 15
                    };
                    b"0123456789abcdef".get(nib as usize).copied()?
                }
            });
        }
        Self::TAIL.as_bytes().get(p - entries).copied()
    }

    /// Fills `out` with body bytes from `pos`; returns how many.
    pub fn fill(file_id: &str, digests: &[[u8; 20]], pos: u64, out: &mut [u8]) -> usize {
        let total = Self::len(file_id, digests.len());
        let mut n = 0;
        for slot in out.iter_mut() {
            let at = pos + n as u64;
            if at >= total {
                break;
            }
            match Self::byte_at(file_id, digests, at) {
                Some(b) => *slot = b,
                None => break,
            }
            n += 1;
        }
        n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// `b2_start_large_file`.
    Start,
    /// `b2_list_parts` from this part number (resume).
    ListParts(u32),
    /// Upload (or check, when the server has it) part n.
    Part(u32),
    /// `b2_finish_large_file`.
    Finish,
    /// The finish answer was lost: `b2_get_file_info` tells whether it happened.
    CheckFinished,
    /// Finished; the file is in the buffer.
    Done,
}

/// Uploads a large file from a re-readable source, sequentially, one part at a time.
/// Device firmware uses it as is; the std client runs parts in parallel with
/// [`crate::op::UploadPart`] and uses this for the sequential path.
///
/// Memory: `size_of::<LargeUpload<S>>()` (about 1.5 KiB, see `core/README.md`) plus the
/// caller's buffer (request heads and JSON answers; 2 KiB is plenty, 4 KiB comfortable) and
/// 20 bytes of digest storage per part.
pub struct LargeUpload<'s, 'b, 'p, 'd, S: Source> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    source: S,
    params: FileParams<'p>,
    digests: &'d mut [[u8; 20]],
    plan: PartPlan,
    file_id: Id,
    stage: Stage,
    call: CallState,
    part: Option<UploadState>,
    url: Option<UploadUrl>,
    finish_pos: u64,
    done_bytes: u64,
    skipped_parts: u32,
    resent_bytes: u64,
    policy: RetryPolicy,
}

impl<'s, 'b, 'p, 'd, S: Source> LargeUpload<'s, 'b, 'p, 'd, S> {
    /// Prepares a new large file of `params.size` bytes in parts of `part_size` (raised to the
    /// session's minimum, and so that there are at most 10,000 parts). The session must be
    /// authorized already, so that the minimum is the server's. `digests` needs one
    /// entry per part ([`validate::part_plan`] tells how many).
    pub fn new(
        session: &'s mut Session,
        buf: &'b mut [u8],
        params: FileParams<'p>,
        part_size: u64,
        source: S,
        digests: &'d mut [[u8; 20]],
    ) -> Result<Self, Error> {
        params.validate(true)?;
        if !session.is_authorized() {
            // The part plan depends on the server's minimum part size.
            return Err(Error::Misuse(
                "authorize the session (op::Authorize) before planning a large upload",
            ));
        }
        let plan = validate::part_plan(params.size, part_size, session.min_part_size)?;
        if plan.count < 1 || params.size > validate::MAX_LARGE_FILE {
            return Err(InvalidInput::FileSize.into());
        }
        let count = plan.count as usize;
        let Some(d) = digests.get_mut(..count) else {
            return Err(Error::StorageTooSmall { needed: plan.count });
        };
        d.fill([0; 20]);
        let call = CallState::new(CallKind::Json, session, jitter_seed(session));
        Ok(LargeUpload {
            session,
            buf,
            source,
            params,
            digests,
            plan,
            file_id: Id::new(),
            stage: Stage::Start,
            call,
            part: None,
            url: None,
            finish_pos: 0,
            done_bytes: 0,
            skipped_parts: 0,
            resent_bytes: 0,
            policy: RetryPolicy::default(),
        })
    }

    /// Continues the unfinished large file `file_id` instead of starting a new one: lists its
    /// parts, checks each against the source by SHA-1 and size, and sends only the others.
    /// The part size must be the one the file was started with.
    pub fn resume(mut self, file_id: &str) -> Result<Self, Error> {
        self.file_id = fixed(file_id)?;
        self.stage = Stage::ListParts(1);
        Ok(self)
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The large file's id, once started.
    pub fn file_id(&self) -> &str {
        &self.file_id
    }

    /// The part plan (size and count).
    pub fn plan(&self) -> PartPlan {
        self.plan
    }

    /// Bytes of the file stored on the server so far (parts uploaded or found on resume).
    pub fn bytes_done(&self) -> u64 {
        self.done_bytes
    }

    /// Parts found on the server with the right SHA-1 and not sent again (resume).
    pub fn skipped_parts(&self) -> u32 {
        self.skipped_parts
    }

    /// Bytes sent more than once because an upload failed midway and was retried.
    pub fn resent_bytes(&self) -> u64 {
        self.resent_bytes
    }

    /// The finished file, after [`Step::Done`].
    pub fn file(&self) -> Result<wire::file::File<'_>, Error> {
        if self.stage != Stage::Done {
            return Err(Error::Misuse("file before done"));
        }
        let body = self.buf.get(..self.call.answer.len).unwrap_or(&[]);
        wire::file::File::parse(body).map_err(Error::BadAnswer)
    }

    /// Moves to the next part that still has to be sent, checking parts the server already
    /// has against the source (this reads and hashes them).
    fn next_part(&mut self, from: u32) -> Result<(), Error> {
        let mut n = from;
        while n <= self.plan.count {
            let idx = (n - 1) as usize;
            let have = self.digests.get(idx).copied().unwrap_or([0; 20]);
            if have != [0; 20] && self.source_digest(n)? == have {
                self.skipped_parts += 1;
                self.done_bytes += self.plan.part_range(n).1;
                n += 1;
                continue;
            }
            let (offset, len) = self.plan.part_range(n);
            self.part = Some(UploadState::new(
                Job::Part(n),
                self.session,
                self.url.take(),
                offset,
                len,
                None,
            ));
            self.stage = Stage::Part(n);
            return Ok(());
        }
        self.part = None;
        self.stage = Stage::Finish;
        self.finish_pos = 0;
        self.call.restart(self.session);
        Ok(())
    }

    /// SHA-1 of part `n` as read from the source now (uses the buffer as scratch).
    fn source_digest(&mut self, n: u32) -> Result<[u8; 20], Error> {
        let (offset, len) = self.plan.part_range(n);
        let mut h = Sha1::new();
        let mut done = 0u64;
        while done < len {
            let want = (len - done).min(self.buf.len() as u64) as usize;
            let dst = self.buf.get_mut(..want).unwrap_or(&mut []);
            let got = self
                .source
                .read_at(offset + done, dst)
                .map_err(Error::Source)?;
            if got == 0 {
                return Err(Error::SourceTooShort {
                    offset: offset + done,
                });
            }
            h.update(dst.get(..got).unwrap_or(&[]));
            done += got as u64;
        }
        Ok(h.finalize().into())
    }

    /// Applies one page of `b2_list_parts`; returns the next start part number, if any.
    fn apply_parts_page(&mut self) -> Result<Option<u32>, Error> {
        let body = self.buf.get(..self.call.answer.len).unwrap_or(&[]);
        let page = wire::large::ListPartsAnswer::parse(body).map_err(Error::BadAnswer)?;
        for part in page.parts {
            let part = part.map_err(Error::BadAnswer)?;
            let n = part.part_number;
            if n < 1 || n > self.plan.count {
                continue;
            }
            let (_, len) = self.plan.part_range(n);
            let sha = part
                .content_sha1
                .and_then(|t| crate::encoding::parse_sha1_hex(t.raw()));
            if let (true, Some(d), Some(slot)) = (
                part.content_length == len,
                sha,
                self.digests.get_mut((n - 1) as usize),
            ) {
                *slot = d;
            }
        }
        Ok(page.next_part_number)
    }

    fn json_phase(&mut self, now_ms: u64) -> Result<Option<Step>, Error> {
        match self.call.poll(now_ms, &self.policy)? {
            CallPoll::Send => Ok(Some(Step::Send)),
            CallPoll::Wait(t) => Ok(Some(Step::Wait { until_ms: t })),
            CallPoll::Answered => Ok(None),
        }
    }
}

impl<S: Source> Exchange for LargeUpload<'_, '_, '_, '_, S> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        if let (Stage::Part(_), Some(part)) = (self.stage, self.part.as_mut()) {
            return part.request(self.session, self.buf, &self.file_id, |_| {});
        }
        if self.call.authorizing() {
            return self.call.authorize_request(self.session, self.buf);
        }
        let p = &self.params;
        match self.stage {
            Stage::Start => {
                let mut millis = heapless::String::<20>::new();
                let hex = p.sha1.map(|d| sha1_hex(&d)).unwrap_or([b'0'; 40]);
                let mut info: heapless::Vec<(&str, &str), 12> = heapless::Vec::new();
                for kv in p.info {
                    let _ = info.push(*kv);
                }
                if let Some(ms) = p.src_last_modified_millis {
                    let _ = core::fmt::write(&mut millis, format_args!("{ms}"));
                    let _ = info.push(("src_last_modified_millis", millis.as_str()));
                }
                if p.sha1.is_some() {
                    let _ =
                        info.push(("large_file_sha1", core::str::from_utf8(&hex).unwrap_or("")));
                }
                let call = wire::large::StartLargeFile {
                    bucket_id: p.bucket_id,
                    file_name: p.file_name,
                    content_type: p.content_type,
                    file_info: &info,
                };
                self.call.json_request(self.session, &call, self.buf)
            }
            Stage::ListParts(from) => {
                let call = wire::large::ListParts {
                    file_id: &self.file_id,
                    start_part_number: Some(from),
                    max_part_count: Some(list_parts_page(self.buf.len())),
                };
                self.call.json_request(self.session, &call, self.buf)
            }
            Stage::Finish => {
                self.finish_pos = 0;
                let len = FinishBody::len(&self.file_id, self.plan.count as usize);
                let mut w = HeadWriter::new(self.buf, 0);
                w.url(format_args!(
                    "{}/b2api/{}/{}",
                    self.session.api_url,
                    crate::API_VERSION,
                    wire::large::FinishLargeFile::NAME
                ));
                w.header(
                    "Authorization",
                    format_args!("{}", self.session.token.expose()),
                );
                w.header("Content-Type", format_args!("application/json"));
                let r = w.finish(Method::Post, Some(len), self.session.test_mode);
                self.call.custom_request(r)
            }
            Stage::CheckFinished => {
                let call = wire::file::GetFileInfo {
                    file_id: &self.file_id,
                };
                self.call.json_request(self.session, &call, self.buf)
            }
            Stage::Part(_) | Stage::Done => Err(Abort),
        }
    }

    fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
        if let (Stage::Part(_), Some(part)) = (self.stage, self.part.as_mut()) {
            return part.body(self.buf, &mut self.source, out);
        }
        if self.stage == Stage::Finish && !self.call.authorizing() {
            let count = self.plan.count as usize;
            let digests = self.digests.get(..count).unwrap_or(&[]);
            let n = FinishBody::fill(&self.file_id, digests, self.finish_pos, out);
            self.finish_pos += n as u64;
            return Ok(n);
        }
        Ok(self.call.body(self.buf, out))
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        match (self.stage, self.part.as_mut()) {
            (Stage::Part(_), Some(part)) => part.response(status, headers),
            _ => self.call.response(status, headers),
        }
        Ok(())
    }

    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        match (self.stage, self.part.as_mut()) {
            (Stage::Part(_), Some(part)) => part.response_body(chunk, self.buf),
            _ => self.call.response_body(chunk, self.buf),
        }
    }

    fn response_end(&mut self) -> Result<(), Abort> {
        match (self.stage, self.part.as_mut()) {
            (Stage::Part(_), Some(part)) => part.response_end(self.session, self.buf, &self.policy),
            _ => self.call.response_end(self.session, self.buf, &self.policy),
        }
    }
}

/// Parts per `b2_list_parts` page that fit a buffer (each part is about 250 bytes of JSON).
fn list_parts_page(buf_len: usize) -> u32 {
    ((buf_len / 320) as u32).clamp(1, 1000)
}

impl<S: Source> Operation for LargeUpload<'_, '_, '_, '_, S> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        loop {
            match self.stage {
                Stage::Start => {
                    if let Some(step) = self.json_phase(now_ms)? {
                        return Ok(step);
                    }
                    let body = self.buf.get(..self.call.answer.len).unwrap_or(&[]);
                    let f = wire::file::File::parse(body).map_err(Error::BadAnswer)?;
                    self.file_id = crate::session::fixed_text(f.file_id)?;
                    self.next_part(1)?;
                }
                Stage::ListParts(_) => {
                    match self.call.poll(now_ms, &self.policy) {
                        Ok(CallPoll::Send) => return Ok(Step::Send),
                        Ok(CallPoll::Wait(t)) => return Ok(Step::Wait { until_ms: t }),
                        Ok(CallPoll::Answered) => {}
                        Err(Error::BufferTooSmall { .. })
                            if list_parts_page(self.buf.len()) > 1 =>
                        {
                            return Err(Error::BufferTooSmall { needed: 4096 });
                        }
                        Err(e) => return Err(e),
                    }
                    match self.apply_parts_page()? {
                        Some(next) if next > 0 && next <= self.plan.count => {
                            self.stage = Stage::ListParts(next);
                            self.call.restart(self.session);
                        }
                        _ => self.next_part(1)?,
                    }
                }
                Stage::Part(n) => {
                    let Some(part) = self.part.as_mut() else {
                        return Err(Error::Misuse("part state missing"));
                    };
                    let r = part.poll(now_ms, self.session, self.buf, &self.file_id, &self.policy);
                    match r? {
                        CallPoll::Send => return Ok(Step::Send),
                        CallPoll::Wait(t) => return Ok(Step::Wait { until_ms: t }),
                        CallPoll::Answered => {
                            if let Some(slot) = self.digests.get_mut((n - 1) as usize) {
                                *slot = part.digest();
                            }
                            self.resent_bytes += part.resent_bytes;
                            self.url = part.take_url();
                            self.done_bytes += self.plan.part_range(n).1;
                            self.next_part(n + 1)?;
                        }
                    }
                }
                Stage::Finish | Stage::CheckFinished => {
                    if let Some(step) = self.json_phase(now_ms)? {
                        return Ok(step);
                    }
                    let body = self.buf.get(..self.call.answer.len).unwrap_or(&[]);
                    let f = wire::file::File::parse(body).map_err(Error::BadAnswer)?;
                    if f.file_id != self.file_id.as_str() {
                        return Err(Error::BadAnswer(BadAnswer::Mismatch));
                    }
                    if self.stage == Stage::CheckFinished && f.action != wire::file::Action::Upload
                    {
                        // Not finished after all: finish again.
                        self.stage = Stage::Finish;
                        self.call.restart(self.session);
                        continue;
                    }
                    self.stage = Stage::Done;
                }
                Stage::Done => return Ok(Step::Done),
            }
        }
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        match (self.stage, self.part.as_mut()) {
            (Stage::Part(_), Some(part)) => part.transport_failed(error, &self.policy),
            (Stage::Finish, _) if !self.call.authorizing() && error != TransportError::Aborted => {
                // The finish may have happened with its answer lost: ask before finishing again.
                self.stage = Stage::CheckFinished;
                self.call.restart(self.session);
            }
            _ => self.call.transport_failed(error, &self.policy),
        }
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::FinishBody;
    use std::string::String;

    #[test]
    fn finish_body_streams_in_any_chunk_size() {
        let digests = [[0xab; 20], [0x01; 20], [0xff; 20]];
        let total = FinishBody::len("4_zid", digests.len()) as usize;
        for chunk in [1usize, 7, 64, 4096] {
            let mut out = String::new();
            let mut pos = 0u64;
            let mut buf = std::vec![0u8; chunk];
            loop {
                let n = FinishBody::fill("4_zid", &digests, pos, &mut buf);
                if n == 0 {
                    break;
                }
                out.push_str(core::str::from_utf8(&buf[..n]).unwrap());
                pos += n as u64;
            }
            assert_eq!(out.len(), total);
            assert_eq!(
                out,
                std::format!(
                    "{{\"fileId\":\"4_zid\",\"partSha1Array\":[\"{}\",\"{}\",\"{}\"]}}",
                    "ab".repeat(20),
                    "01".repeat(20),
                    "ff".repeat(20)
                )
            );
        }
    }
}
