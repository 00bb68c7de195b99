//! The large-file coordinator: one B2 large file being built, whoever sends its parts.
//!
//! [`LargeFile`] starts or resumes the file ([`LargeFile::prepare`]), plans its parts and hands
//! out part jobs ([`LargeFile::next_job`]) to any number of workers, takes each part's SHA-1
//! back in any order ([`LargeFile::part_done`]), and finishes the file with the streamed
//! `partSha1Array` ([`LargeFile::finish`]), checking a lost finish answer with
//! `b2_get_file_info`. It never sends a part itself: a device runs the jobs one after another
//! ([`crate::op::LargeUpload`]), a host runs them on N threads, each with its own upload URL.
//!
//! Its state is a checkpoint ([`LargeFile::write_checkpoint`]): the file id, the part plan and each
//! stored part's SHA-1, kept in caller storage (20 bytes a part).
//!
//! ## The resume rule (the same for every caller)
//! - [`Resume::Checkpoint`]: the file id and digests come from a checkpoint written by an
//!   earlier run for the same parameters (the fingerprint is checked). `b2_list_parts` says
//!   what B2 has; a part whose SHA-1 equals the checkpoint's is done (the checkpoint vouches
//!   for the source), any other part is sent again. A file finished before the crash (its
//!   finish answer lost) is found with `b2_get_file_info`.
//! - [`Resume::Search`]: `b2_list_unfinished_large_files` finds the newest unfinished file of
//!   the same name whose file info (the caller's entries plus `src_last_modified_millis` and
//!   `large_file_sha1`) is exactly the same, and whose content type is the same when the
//!   caller gave one (not `b2/x-auto`), and that was started with the caller's SSE-C key (by
//!   its MD5) or, for a caller without one, without SSE-C; its parts must all fit the part
//!   plan. Each part B2
//!   has becomes a [`JobKind::Verify`] job: the worker hashes the source's range and the part
//!   is skipped only when the SHA-1s match. A search only happens when the parameters carry
//!   an identity (`src_last_modified_millis` or the whole-file SHA-1); otherwise a new file
//!   is started.
//! - [`Resume::No`]: always a new file.
//! - A copy ([`LargeFile::copy`]: parts are `b2_copy_part`s of remote ranges) resumes from a
//!   checkpoint by the same rule, its digests being the SHA-1s of B2's copy-part answers;
//!   a search is not made for it (there is no local source to verify a found part against),
//!   so [`Resume::Search`] starts a new file.
//!
//! Telling a live upload from a crashed one is the caller's part (it knows its processes):
//! the std client holds a lock per bucket and name while it uploads, and searches only when
//! it got the lock.

use crate::encoding::parse_sha1_hex;
use crate::error::{BadAnswer, Error, InvalidInput};
use crate::http::{Headers, Method, Request, TransportError};
use crate::op::call::{CallPoll, CallState};
use crate::op::head::HeadWriter;
use crate::op::json::jitter_seed;
use crate::op::large::checkpoint::{fingerprint, Checkpoint, CheckpointHead, NOT_DONE};
use crate::op::large::job::{JobKind, PartJob};
use crate::op::large::remote::{self, RemoteRange};
use crate::op::large::FinishBody;
use crate::op::upload::{file_identity, FileParams, InfoScratch};
use crate::op::{Abort, Exchange, Operation, Step};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::{fixed_text, Id, Session};
use crate::validate::{self, PartPlan};
use crate::wire::{self, Answer as _, ApiCall as _};

/// Most part jobs out at once (workers of one large file).
pub const MAX_IN_FLIGHT: usize = 64;

/// Most pages of `b2_list_unfinished_large_files` read while searching (10,000 files).
const MAX_SEARCH_PAGES: u32 = 100;

/// How [`LargeFile::prepare`] finds the file to write to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Always start a new large file.
    No,
    /// Search the unfinished large files for one this upload may continue (module docs).
    Search,
    /// Continue the file of a checkpoint (decoded into the digest storage already).
    Checkpoint(CheckpointHead),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Stage {
    /// `b2_list_unfinished_large_files`, from `start` (`None`: first page).
    Search {
        start: Option<Id>,
        best: Option<(Id, u64)>,
        pages: u32,
    },
    /// `b2_list_parts` from part `from`; `expect` is the next part number not yet seen.
    ListParts {
        from: u32,
        expect: u32,
        checkpoint: bool,
    },
    /// `b2_start_large_file`.
    Start,
    /// Parts are being handed out.
    Parts,
    /// `b2_finish_large_file`; `pos` is the body position.
    Finish { pos: u64 },
    /// A finish (or the whole upload, for a checkpoint) may have happened with its answer
    /// lost: `b2_get_file_info` tells. `then_finish`: finish when it did not; else fail
    /// with `failed` (the error that led here).
    CheckFinished {
        then_finish: bool,
        failed: Option<Error>,
    },
    /// `b2_cancel_large_file`.
    Cancel,
    /// Finished; the file is in the buffer.
    Done,
    /// Cancelled.
    Cancelled,
}

/// The coordinator of one large file; see the module docs. Cost: about 1.5 KiB plus
/// 20 bytes of caller storage per part.
pub struct LargeFile<'p, 'd> {
    params: FileParams<'p>,
    /// Where the parts come from when they are copied from files in B2 (empty: sent by
    /// the caller from its source).
    remote: &'p [RemoteRange<'p>],
    part_size: u64,
    /// Total size; `None` while a stream's length is unknown.
    size: Option<u64>,
    /// Parts planned, or pushed so far for a stream.
    count: u32,
    digests: &'d mut [[u8; 20]],
    file_id: Id,
    stage: Stage,
    call: CallState,
    policy: RetryPolicy,
    /// Next part number to hand out.
    next: u32,
    in_flight: heapless::Vec<u32, MAX_IN_FLIGHT>,
    done: u32,
    /// Whether non-zero digests of parts not yet handed out are known to match the source.
    digests_verified: bool,
    skipped: u32,
    bytes_done: u64,
    /// A stream's last part was shorter than a part: nothing may follow.
    stream_closed: bool,
    /// Finish calls whose answer was lost.
    finish_tries: u8,
    /// Finished, but the record could not be read (a key without `readFiles` after a lost
    /// finish answer): the error reading it gave.
    unread_record: Option<Error>,
}

impl<'p, 'd> LargeFile<'p, 'd> {
    /// A large file of `params.size` bytes in parts of `part_size` (raised to the session's
    /// minimum, and so that there are at most 10,000 parts; at least two parts, as B2 needs).
    /// `digests` needs one entry per part ([`validate::part_plan`] tells how many). The
    /// session must be authorized, so that the minimum part size is the server's.
    pub fn new(
        session: &Session,
        params: FileParams<'p>,
        part_size: u64,
        digests: &'d mut [[u8; 20]],
        resume: Resume,
    ) -> Result<Self, Error> {
        params.validate(true)?;
        Self::need_authorized(session)?;
        let plan = validate::part_plan(params.size, part_size, session.min_part_size)?;
        if plan.count < 2 || params.size > validate::MAX_LARGE_FILE {
            return Err(InvalidInput::FileSize.into());
        }
        let checkpoint = match &resume {
            Resume::Checkpoint(head) => Some(head.clone()),
            _ => None,
        };
        let mut lf = Self::blank(session, params, plan.part_size, digests, resume)?;
        lf.size = Some(params.size);
        lf.count = plan.count;
        lf.adopt(checkpoint)?;
        Ok(lf)
    }

    /// A large file assembled in B2 from byte ranges of files already there (`b2_copy_part`):
    /// one large copy, or b2sdk's "concatenate" of several ranges. Each source becomes one
    /// or more parts ([`super::remote`] tells how); every source but the last must be at
    /// least the minimum part size ([`InvalidInput::CopySourceTooSmall`]), and the plan
    /// needs two parts at least ([`InvalidInput::FileSize`]: copy one part with
    /// `b2_copy_file`). `params.size` is ignored (the sum of the ranges is the size).
    /// Parts are [`JobKind::Copy`] jobs, done in any order by any number of workers.
    ///
    /// Resume: only from a checkpoint ([`Resume::Checkpoint`], the same rule as uploads:
    /// `b2_list_parts`, and a part is done when B2's SHA-1 equals the checkpoint's, which
    /// came from B2's copy-part answers). A search ([`Resume::Search`]) would find parts
    /// that cannot be checked against a local source, so it starts a new file instead.
    pub fn copy(
        session: &Session,
        params: FileParams<'p>,
        sources: &'p [RemoteRange<'p>],
        part_size: u64,
        digests: &'d mut [[u8; 20]],
        resume: Resume,
    ) -> Result<Self, Error> {
        Self::need_authorized(session)?;
        let part_size = part_size.max(session.min_part_size).max(1);
        if part_size > validate::MAX_PART_SIZE {
            return Err(InvalidInput::PartSize.into());
        }
        let (size, count) = remote::plan(sources, part_size, session.min_part_size)?;
        let mut params = params;
        params.size = size;
        params.validate(true)?;
        if count < 2 || size > validate::MAX_LARGE_FILE {
            return Err(InvalidInput::FileSize.into());
        }
        let resume = match resume {
            Resume::Search => Resume::No,
            r => r,
        };
        let checkpoint = match &resume {
            Resume::Checkpoint(head) => Some(head.clone()),
            _ => None,
        };
        let mut lf = Self::blank(session, params, part_size, digests, resume)?;
        lf.remote = sources;
        lf.size = Some(size);
        lf.count = count;
        lf.adopt(checkpoint)?;
        Ok(lf)
    }

    /// Applies a checkpoint (checked against this file's fingerprint and plan), or marks
    /// every part not done.
    fn adopt(&mut self, checkpoint: Option<CheckpointHead>) -> Result<(), Error> {
        let count = self.count;
        let fp = fingerprint(&self.params, self.remote, self.size, self.part_size);
        let slots = self
            .digests
            .get_mut(..count as usize)
            .ok_or(Error::StorageTooSmall { needed: count })?;
        match checkpoint {
            Some(head) => {
                if head.fingerprint != fp || head.count != count || head.size != self.size {
                    return Err(InvalidInput::Checkpoint.into());
                }
                self.file_id = head.file_id;
                self.stage = Stage::ListParts {
                    from: 1,
                    expect: 1,
                    checkpoint: true,
                };
            }
            None => slots.fill(NOT_DONE),
        }
        Ok(())
    }

    /// A large file from a stream whose length is learned only at its end: parts are added
    /// with [`LargeFile::push_part`] as data arrives, all `part_size` bytes but the last.
    /// A stream is never resumed (nothing identifies it). Check first with
    /// [`stream_fits_one_request`] that it needs more than one part.
    pub fn stream(
        session: &Session,
        params: FileParams<'p>,
        part_size: u64,
        digests: &'d mut [[u8; 20]],
    ) -> Result<Self, Error> {
        params.validate(true)?;
        Self::need_authorized(session)?;
        if part_size < session.min_part_size || part_size > validate::MAX_PART_SIZE {
            return Err(InvalidInput::PartSize.into());
        }
        Self::blank(session, params, part_size, digests, Resume::No)
    }

    fn need_authorized(session: &Session) -> Result<(), Error> {
        if session.is_authorized() {
            Ok(())
        } else {
            Err(Error::Misuse(
                "authorize the session (op::Authorize) before planning a large file",
            ))
        }
    }

    fn blank(
        session: &Session,
        params: FileParams<'p>,
        part_size: u64,
        digests: &'d mut [[u8; 20]],
        resume: Resume,
    ) -> Result<Self, Error> {
        let resume = match resume {
            Resume::Search
                if params.src_last_modified_millis.is_none() && params.sha1.is_none() =>
            {
                Resume::No
            }
            r => r,
        };
        let stage = match resume {
            Resume::Search => Stage::Search {
                start: None,
                best: None,
                pages: 0,
            },
            _ => Stage::Start,
        };
        Ok(LargeFile {
            params,
            remote: &[],
            part_size,
            size: None,
            count: 0,
            digests,
            file_id: Id::new(),
            digests_verified: matches!(resume, Resume::Checkpoint(_)),
            stage,
            call: CallState::new(CallKind::Json, session, jitter_seed(session)),
            policy: RetryPolicy::default(),
            next: 1,
            in_flight: heapless::Vec::new(),
            done: 0,
            skipped: 0,
            bytes_done: 0,
            stream_closed: false,
            finish_tries: 0,
            unread_record: None,
        })
    }

    /// Replaces the retry policy of the coordinator's own calls.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The large file's id, once started or found.
    pub fn file_id(&self) -> &str {
        &self.file_id
    }

    /// The file's parameters.
    pub fn params(&self) -> &FileParams<'p> {
        &self.params
    }

    /// The part plan (for a stream: the parts pushed so far).
    pub fn plan(&self) -> PartPlan {
        PartPlan {
            part_size: self.part_size,
            count: self.count,
            size: self.size.unwrap_or(self.bytes_pushed()),
        }
    }

    fn bytes_pushed(&self) -> u64 {
        let (offset, len) = self.range(self.count);
        offset + len
    }

    /// Parts done (sent, or found stored and verified).
    pub fn parts_done(&self) -> u32 {
        self.done
    }

    /// Parts found stored on resume and not sent again.
    pub fn parts_skipped(&self) -> u32 {
        self.skipped
    }

    /// Bytes of the file stored on the server so far.
    pub fn bytes_done(&self) -> u64 {
        self.bytes_done
    }

    /// Whether the file is finished (or was found finished).
    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// The file's checkpoint head; encode it with [`LargeFile::write_checkpoint`].
    pub fn checkpoint_head(&self) -> CheckpointHead {
        CheckpointHead {
            fingerprint: fingerprint(&self.params, self.remote, self.size, self.part_size),
            file_id: self.file_id.clone(),
            part_size: self.part_size,
            size: self.size,
            count: self.count,
        }
    }

    /// Bytes [`LargeFile::write_checkpoint`] needs now.
    pub fn checkpoint_len(&self) -> usize {
        Checkpoint::encoded_len(&self.file_id, self.count)
    }

    /// Writes the checkpoint (file id, plan, the digests of the parts done) into `out`;
    /// returns its length, or the bytes needed when `out` is too small. Parts out with
    /// workers or not yet verified are recorded as not done.
    pub fn write_checkpoint(&self, out: &mut [u8]) -> Result<usize, usize> {
        let head = self.checkpoint_head();
        Checkpoint::encode_with(
            &head,
            |n| {
                if self.is_done(n) {
                    self.digests.get(n as usize - 1).copied()
                } else {
                    Some(NOT_DONE)
                }
            },
            out,
        )
    }

    fn is_done(&self, n: u32) -> bool {
        let known = self
            .digests
            .get((n - 1) as usize)
            .is_some_and(|d| *d != NOT_DONE);
        known && (n < self.next || self.digests_verified) && !self.in_flight.contains(&n)
    }

    fn range(&self, n: u32) -> (u64, u64) {
        if n == 0 {
            return (0, 0);
        }
        if !self.remote.is_empty() {
            return remote::locate(self.remote, self.part_size, n)
                .map_or((0, 0), |p| (p.offset, p.len));
        }
        let offset = u64::from(n - 1) * self.part_size;
        match self.size {
            Some(size) => (offset, self.part_size.min(size.saturating_sub(offset))),
            // For a stream only the last pushed part may be short; its length is kept as
            // the total once the stream ends. Until then every pushed part is full.
            None => (offset, self.part_size),
        }
    }

    /// The start or resume step as an operation: after [`Step::Done`], hand out jobs.
    pub fn prepare<'c, 's, 'b>(
        &'c mut self,
        session: &'s mut Session,
        buf: &'b mut [u8],
    ) -> Phase<'c, 'p, 'd, 's, 'b> {
        self.call.restart(session);
        Phase {
            lf: self,
            session,
            buf,
        }
    }

    /// The next part to work on, or `None` when every part is out or done (or
    /// [`MAX_IN_FLIGHT`] are out). Parts found stored and verified by a checkpoint are
    /// skipped here.
    pub fn next_job(&mut self) -> Option<PartJob> {
        if !matches!(self.stage, Stage::Parts) || self.in_flight.is_full() {
            return None;
        }
        while self.next <= self.count {
            let n = self.next;
            self.next += 1;
            let (offset, len) = self.range(n);
            let have = self
                .digests
                .get((n - 1) as usize)
                .copied()
                .unwrap_or(NOT_DONE);
            let copy = match self.remote.is_empty() {
                true => None,
                false => remote::locate(self.remote, self.part_size, n),
            };
            let kind = if let (Some(p), false) = (copy, have != NOT_DONE && self.digests_verified) {
                // A copied part is sent again unless a checkpoint vouches for it: there is no
                // local source to check it against.
                JobKind::Copy {
                    source: p.source,
                    source_offset: p.source_offset,
                }
            } else if have == NOT_DONE {
                JobKind::Send { sha1: None }
            } else if self.digests_verified {
                self.done += 1;
                self.skipped += 1;
                self.bytes_done += len;
                continue;
            } else {
                JobKind::Verify { stored: have }
            };
            let _ = self.in_flight.push(n);
            return Some(PartJob {
                number: n,
                offset,
                len,
                kind,
            });
        }
        None
    }

    /// Whether a stream may take another part ([`LargeFile::push_part`]).
    pub fn ready_to_push(&self) -> bool {
        matches!(self.stage, Stage::Parts) && self.size.is_none()
    }

    /// Adds the next part of a stream, `len` bytes (all parts `part_size` but the last),
    /// and hands it out as a job.
    pub fn push_part(&mut self, len: u64) -> Result<PartJob, Error> {
        if self.size.is_some() || !matches!(self.stage, Stage::Parts) {
            return Err(Error::Misuse(
                "push_part on a file of known size or not started",
            ));
        }
        if len == 0 || len > self.part_size || self.stream_closed {
            return Err(InvalidInput::PartSize.into());
        }
        let n = self.count + 1;
        if n > validate::MAX_PARTS {
            return Err(InvalidInput::PartCount.into());
        }
        let slot = self
            .digests
            .get_mut((n - 1) as usize)
            .ok_or(Error::StorageTooSmall { needed: n })?;
        *slot = NOT_DONE;
        if self.in_flight.push(n).is_err() {
            return Err(Error::Misuse("more than MAX_IN_FLIGHT parts out"));
        }
        let offset = u64::from(n - 1) * self.part_size;
        self.count = n;
        self.next = n + 1;
        if len < self.part_size {
            self.stream_closed = true;
            self.size = Some(offset + len);
        }
        Ok(PartJob {
            number: n,
            offset,
            len,
            kind: JobKind::Send { sha1: None },
        })
    }

    /// The stream ended: its length is now known. Fails if it has fewer than two parts
    /// (send such a stream in one request: [`stream_fits_one_request`]).
    pub fn end_stream(&mut self) -> Result<(), Error> {
        if self.count < 2 {
            return Err(InvalidInput::FileSize.into());
        }
        if self.size.is_none() {
            self.size = Some(u64::from(self.count) * self.part_size);
        }
        self.stream_closed = true;
        Ok(())
    }

    /// A worker hashed the source's range of a [`JobKind::Verify`] job: `None` when it
    /// matches what B2 has (the part is done), else the job to send it.
    pub fn part_checked(&mut self, n: u32, local: [u8; 20]) -> Result<Option<PartJob>, Error> {
        if !self.in_flight.contains(&n) {
            return Err(Error::Misuse("part_checked for a part not out"));
        }
        let (offset, len) = self.range(n);
        let slot = self
            .digests
            .get_mut((n - 1) as usize)
            .ok_or(Error::Misuse("part outside the plan"))?;
        if *slot == local {
            self.in_flight.retain(|&k| k != n);
            self.done += 1;
            self.skipped += 1;
            self.bytes_done += len;
            return Ok(None);
        }
        *slot = NOT_DONE;
        Ok(Some(PartJob {
            number: n,
            offset,
            len,
            kind: JobKind::Send { sha1: Some(local) },
        }))
    }

    /// A worker stored part `n` with this SHA-1.
    pub fn part_done(&mut self, n: u32, sha1: [u8; 20]) -> Result<(), Error> {
        if !self.in_flight.contains(&n) {
            return Err(Error::Misuse("part_done for a part not out"));
        }
        let (_, len) = self.range(n);
        let slot = self
            .digests
            .get_mut((n - 1) as usize)
            .ok_or(Error::Misuse("part outside the plan"))?;
        *slot = sha1;
        self.in_flight.retain(|&k| k != n);
        self.done += 1;
        self.bytes_done += len;
        Ok(())
    }

    /// Whether every part is done and the file can be finished.
    pub fn ready_to_finish(&self) -> bool {
        matches!(self.stage, Stage::Parts)
            && self.size.is_some()
            && self.in_flight.is_empty()
            && self.next > self.count
            && self.done == self.count
            && self.count >= 2
    }

    /// `b2_finish_large_file` as an operation (the lost-answer check included). After
    /// [`Step::Done`], [`LargeFile::file`] reads the finished file from `buf`.
    pub fn finish<'c, 's, 'b>(
        &'c mut self,
        session: &'s mut Session,
        buf: &'b mut [u8],
    ) -> Result<Phase<'c, 'p, 'd, 's, 'b>, Error> {
        if !matches!(self.stage, Stage::Done) {
            self.begin_finish()?;
        }
        Ok(Phase {
            lf: self,
            session,
            buf,
        })
    }

    pub(crate) fn begin_finish(&mut self) -> Result<(), Error> {
        if !self.ready_to_finish() {
            return Err(Error::Misuse("finish before every part is done"));
        }
        self.stage = Stage::Finish { pos: 0 };
        self.call.restart_next();
        Ok(())
    }

    /// `b2_cancel_large_file` as an operation: deletes the parts stored so far (for a
    /// failed upload that can never be resumed, such as a stream).
    pub fn cancel<'c, 's, 'b>(
        &'c mut self,
        session: &'s mut Session,
        buf: &'b mut [u8],
    ) -> Phase<'c, 'p, 'd, 's, 'b> {
        self.stage = if self.file_id.is_empty() {
            Stage::Cancelled
        } else {
            Stage::Cancel
        };
        self.call.restart(session);
        Phase {
            lf: self,
            session,
            buf,
        }
    }

    /// The finished file, after the finish phase is done; `buf` is the phase's buffer.
    /// A finish whose answer was lost, confirmed by B2 refusing a second one, when the key
    /// may not read the file back, leaves the file finished but its record unread: this is
    /// then the error reading it gave ([`LargeFile::is_finished`] is true).
    pub fn file<'b>(&self, buf: &'b [u8]) -> Result<wire::file::File<'b>, Error> {
        if !matches!(self.stage, Stage::Done) {
            return Err(Error::Misuse("file before done"));
        }
        if let Some(e) = &self.unread_record {
            return Err(e.clone());
        }
        let body = buf.get(..self.call.answer.len).unwrap_or(&[]);
        wire::file::File::parse(body).map_err(Error::BadAnswer)
    }

    // ---- the coordinator's own JSON calls, shared by `Phase` and `LargeUpload` ----

    /// Whether a JSON call of the coordinator is pending (else jobs, or done).
    pub(crate) fn in_call(&self) -> bool {
        !matches!(self.stage, Stage::Parts | Stage::Done | Stage::Cancelled)
    }

    pub(crate) fn request<'b>(
        &mut self,
        session: &Session,
        buf: &'b mut [u8],
    ) -> Result<Request<'b>, Abort> {
        if self.call.authorizing() {
            return self.call.authorize_request(session, buf);
        }
        let p = self.params;
        match &mut self.stage {
            Stage::Search { start, .. } => {
                let page = (buf.len() / 800).clamp(1, 100) as u32;
                let start = start.clone();
                let call = wire::file::ListUnfinishedLargeFiles {
                    bucket_id: p.bucket_id,
                    name_prefix: Some(p.file_name),
                    start_file_id: start.as_deref(),
                    max_file_count: Some(page),
                };
                self.call.json_request(session, &call, buf)
            }
            Stage::ListParts { from, .. } => {
                let call = wire::large::ListParts {
                    file_id: &self.file_id,
                    start_part_number: Some(*from),
                    max_part_count: Some(((buf.len() / 320) as u32).clamp(1, 1000)),
                };
                self.call.json_request(session, &call, buf)
            }
            Stage::Start => {
                let mut scratch = InfoScratch::default();
                let info = p.info_entries(true, &mut scratch);
                let call = wire::large::StartLargeFile {
                    bucket_id: p.bucket_id,
                    file_name: p.file_name,
                    content_type: p.content_type,
                    file_info: &info,
                    server_side_encryption: p.encryption,
                    file_retention: p.retention,
                    legal_hold: p.legal_hold,
                    custom_upload_timestamp: p.custom_upload_timestamp,
                };
                self.call.json_request(session, &call, buf)
            }
            Stage::Finish { pos } => {
                *pos = 0;
                let len = FinishBody::len(&self.file_id, self.count as usize);
                let mut w = HeadWriter::new(buf, 0);
                w.url(format_args!(
                    "{}/b2api/{}/{}",
                    session.api_url,
                    crate::API_VERSION,
                    wire::large::FinishLargeFile::NAME
                ));
                w.header("Authorization", format_args!("{}", session.token.expose()));
                w.header("Content-Type", format_args!("application/json"));
                let r = w.finish(Method::Post, Some(len), session.test_mode);
                self.call.custom_request(r)
            }
            Stage::CheckFinished { .. } => {
                let call = wire::file::GetFileInfo {
                    file_id: &self.file_id,
                };
                self.call.json_request(session, &call, buf)
            }
            Stage::Cancel => {
                let call = wire::large::CancelLargeFile {
                    file_id: &self.file_id,
                };
                self.call.json_request(session, &call, buf)
            }
            Stage::Parts | Stage::Done | Stage::Cancelled => Err(Abort),
        }
    }

    pub(crate) fn body(&mut self, buf: &[u8], out: &mut [u8]) -> usize {
        if let (Stage::Finish { pos }, false) = (&mut self.stage, self.call.authorizing()) {
            let digests = self.digests.get(..self.count as usize).unwrap_or(&[]);
            let n = FinishBody::fill(&self.file_id, digests, *pos, out);
            *pos += n as u64;
            return n;
        }
        self.call.body(buf, out)
    }

    pub(crate) fn response(&mut self, status: u16, headers: &dyn Headers) {
        self.call.response(status, headers);
    }

    pub(crate) fn response_body(&mut self, chunk: &[u8], buf: &mut [u8]) -> Result<(), Abort> {
        self.call.response_body(chunk, buf)
    }

    pub(crate) fn response_end(&mut self, session: &mut Session, buf: &[u8]) -> Result<(), Abort> {
        self.call.response_end(session, buf, &self.policy)
    }

    pub(crate) fn transport_failed(&mut self, error: TransportError) {
        if matches!(self.stage, Stage::Finish { .. })
            && !self.call.authorizing()
            && error != TransportError::Aborted
        {
            // The finish may have happened with its answer lost: ask before finishing again
            // (at most as many times as a JSON call is tried).
            self.finish_tries = self.finish_tries.saturating_add(1);
            let again = self.finish_tries < self.policy.max_json_tries;
            self.stage = Stage::CheckFinished {
                then_finish: again,
                failed: (!again).then_some(Error::Transport(error)),
            };
            self.call.restart_next();
            return;
        }
        self.call.transport_failed(error, &self.policy);
    }

    /// Runs the coordinator's calls: `Ok(None)` when the current JSON stage is over (parts
    /// to hand out, finished or cancelled).
    pub(crate) fn poll(&mut self, now_ms: u64, buf: &[u8]) -> Result<Option<Step>, Error> {
        loop {
            if !self.in_call() {
                return Ok(None);
            }
            match self.call.poll(now_ms, &self.policy) {
                Ok(CallPoll::Send) => return Ok(Some(Step::Send)),
                Ok(CallPoll::Wait(t)) => return Ok(Some(Step::Wait { until_ms: t })),
                Ok(CallPoll::Answered) => {}
                // 400 to a checkpoint's list_parts: not an unfinished file any more (finished
                // before a crash, or gone). 400 to a finish: B2 answers that when the file is
                // already finished (an earlier finish whose answer was lost). Either way
                // b2_get_file_info tells; if it is not finished, this error stands.
                Err(Error::Api(e))
                    if e.status == 400
                        && matches!(
                            self.stage,
                            Stage::ListParts {
                                checkpoint: true,
                                ..
                            } | Stage::Finish { .. }
                        ) =>
                {
                    self.stage = Stage::CheckFinished {
                        then_finish: false,
                        failed: Some(Error::Api(e)),
                    };
                    self.call.restart_next();
                    continue;
                }
                // A key that may not list (a write-only key lacks `listFiles`): no search,
                // a new file.
                Err(Error::Api(e))
                    if e.status == 401 && matches!(self.stage, Stage::Search { .. }) =>
                {
                    let _ = e;
                    self.stage = Stage::Start;
                    self.call.restart_next();
                    continue;
                }
                // A key that may not read file info cannot check a lost finish: finish
                // again (B2 answers 400 if it did happen, and that error stands).
                Err(Error::Api(e))
                    if e.status == 401 && matches!(self.stage, Stage::CheckFinished { .. }) =>
                {
                    match core::mem::replace(&mut self.stage, Stage::Start) {
                        Stage::CheckFinished {
                            then_finish: true, ..
                        } => {
                            self.stage = Stage::Finish { pos: 0 };
                            self.call.restart_next();
                            continue;
                        }
                        // An earlier finish's answer was lost and the same finish is now
                        // refused with 400: B2 refuses a second finish of a finished file,
                        // and this key may not read it back to be sure. The file is finished;
                        // only its record cannot be read.
                        Stage::CheckFinished {
                            failed: Some(Error::Api(f)),
                            ..
                        } if f.status == 400 && self.finish_tries > 0 => {
                            self.done = self.count;
                            self.next = self.count + 1;
                            self.bytes_done = self.size.unwrap_or(0);
                            self.unread_record = Some(Error::Api(e));
                            self.stage = Stage::Done;
                            return Ok(None);
                        }
                        Stage::CheckFinished { failed, .. } => {
                            return Err(failed.unwrap_or(Error::Api(e)));
                        }
                        _ => return Err(Error::Api(e)),
                    }
                }
                Err(e) => return Err(e),
            }
            let body = buf.get(..self.call.answer.len).unwrap_or(&[]);
            self.answered(body)?;
            if self.in_call() {
                self.call.restart_next();
            }
        }
    }

    fn answered(&mut self, body: &[u8]) -> Result<(), Error> {
        match self.stage.clone() {
            Stage::Search { start, best, pages } => {
                let page = wire::file::ListFilesAnswer::parse(body).map_err(Error::BadAnswer)?;
                let mut best = best;
                for f in page.files {
                    let f = f.map_err(Error::BadAnswer)?;
                    if self.matches(&f) && best.as_ref().is_none_or(|b| f.upload_timestamp > b.1) {
                        best = Some((fixed_text(f.file_id)?, f.upload_timestamp));
                    }
                }
                let next: Option<Id> = page.next_file_id.map(fixed_text).transpose()?;
                let more = next.is_some() && next != start && pages + 1 < MAX_SEARCH_PAGES;
                if more {
                    self.stage = Stage::Search {
                        start: next,
                        best,
                        pages: pages + 1,
                    };
                } else if let Some((id, _)) = best {
                    self.file_id = id;
                    self.stage = Stage::ListParts {
                        from: 1,
                        expect: 1,
                        checkpoint: false,
                    };
                } else {
                    self.stage = Stage::Start;
                }
            }
            Stage::ListParts {
                expect, checkpoint, ..
            } => {
                let page = wire::large::ListPartsAnswer::parse(body).map_err(Error::BadAnswer)?;
                let mut expect = expect;
                let mut fits = true;
                for part in page.parts {
                    let part = part.map_err(Error::BadAnswer)?;
                    let n = part.part_number;
                    if n < expect || n > self.count || part.content_length != self.range(n).1 {
                        fits = false;
                        break;
                    }
                    let sha = part.content_sha1.and_then(|t| parse_sha1_hex(t.raw()));
                    for k in expect..n {
                        self.clear(k);
                    }
                    match (checkpoint, sha, self.digests.get_mut((n - 1) as usize)) {
                        (true, Some(d), Some(slot)) if *slot == d => {}
                        (false, Some(d), Some(slot)) => *slot = d,
                        (_, _, Some(slot)) => *slot = NOT_DONE,
                        (_, _, None) => fits = false,
                    }
                    expect = n + 1;
                }
                if !fits {
                    if checkpoint {
                        return Err(InvalidInput::Checkpoint.into());
                    }
                    // Not this file after all: start a new one.
                    for k in 1..=self.count {
                        self.clear(k);
                    }
                    self.file_id = Id::new();
                    self.stage = Stage::Start;
                    return Ok(());
                }
                match page.next_part_number {
                    Some(next) if next >= expect && next <= self.count => {
                        self.stage = Stage::ListParts {
                            from: next,
                            expect,
                            checkpoint,
                        };
                    }
                    _ => {
                        for k in expect..=self.count {
                            self.clear(k);
                        }
                        self.stage = Stage::Parts;
                    }
                }
            }
            Stage::Start => {
                let f = wire::file::File::parse(body).map_err(Error::BadAnswer)?;
                self.file_id = fixed_text(f.file_id)?;
                self.stage = Stage::Parts;
            }
            Stage::Finish { .. } => {
                let f = wire::file::File::parse(body).map_err(Error::BadAnswer)?;
                if f.file_id != self.file_id.as_str() {
                    return Err(Error::BadAnswer(BadAnswer::Mismatch));
                }
                self.stage = Stage::Done;
            }
            Stage::CheckFinished {
                then_finish,
                failed,
            } => {
                let f = wire::file::File::parse(body).map_err(Error::BadAnswer)?;
                if f.file_id != self.file_id.as_str() {
                    return Err(Error::BadAnswer(BadAnswer::Mismatch));
                }
                match f.action {
                    wire::file::Action::Upload => {
                        self.done = self.count;
                        self.next = self.count + 1;
                        self.bytes_done = self.size.unwrap_or(0);
                        self.stage = Stage::Done;
                    }
                    wire::file::Action::Start if then_finish => {
                        self.stage = Stage::Finish { pos: 0 };
                    }
                    _ => return Err(failed.unwrap_or(Error::BadAnswer(BadAnswer::Mismatch))),
                }
            }
            Stage::Cancel => self.stage = Stage::Cancelled,
            Stage::Parts | Stage::Done | Stage::Cancelled => {}
        }
        Ok(())
    }

    fn clear(&mut self, n: u32) {
        if let Some(slot) = self.digests.get_mut((n.max(1) - 1) as usize) {
            *slot = NOT_DONE;
        }
    }

    /// Whether an unfinished file is this upload's (the resume rule, module docs).
    fn matches(&self, f: &wire::file::File<'_>) -> bool {
        let p = &self.params;
        let same_type = p.content_type == "b2/x-auto"
            || f.content_type.is_some_and(|t| t.eq_str(p.content_type));
        // An SSE-C file is resumed only with its own key (its parts need it); a file
        // started without SSE-C only by an upload without it.
        let same_key = match (p.customer_key(), f.encryption()) {
            (Some(k), Some(e)) => e.matches(k),
            (Some(_), None) => false,
            (None, e) => e.is_none_or(|e| e.mode != wire::encryption::EncryptionMode::SseC),
        };
        same_type && same_key && file_identity(f) == p.identity(true)
    }
}

/// Whether a stream whose first `first_len` bytes were read (`more`: whether anything
/// follows) goes up in one request: B2's large files need two parts at least, so a stream
/// of one part or less is a small file.
pub fn stream_fits_one_request(first_len: u64, part_size: u64, more: bool) -> bool {
    !more && first_len <= part_size.max(1)
}

/// One JSON phase of a [`LargeFile`] (prepare, finish or cancel) as an [`Operation`].
pub struct Phase<'c, 'p, 'd, 's, 'b> {
    lf: &'c mut LargeFile<'p, 'd>,
    session: &'s mut Session,
    buf: &'b mut [u8],
}

impl Phase<'_, '_, '_, '_, '_> {
    /// The finished file, after a finish phase is done.
    pub fn file(&self) -> Result<wire::file::File<'_>, Error> {
        self.lf.file(self.buf)
    }
}

impl Exchange for Phase<'_, '_, '_, '_, '_> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        self.lf.request(self.session, self.buf)
    }
    fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
        Ok(self.lf.body(self.buf, out))
    }
    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        self.lf.response(status, headers);
        Ok(())
    }
    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        self.lf.response_body(chunk, self.buf)
    }
    fn response_end(&mut self) -> Result<(), Abort> {
        self.lf.response_end(self.session, self.buf)
    }
}

impl Operation for Phase<'_, '_, '_, '_, '_> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        Ok(self.lf.poll(now_ms, self.buf)?.unwrap_or(Step::Done))
    }
    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.lf.transport_failed(error);
    }
    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}
