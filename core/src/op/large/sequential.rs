//! The sequential driver of a [`LargeFile`]: one part after another on one upload URL, the
//! way a device uploads. The host client runs the same coordinator on N threads.

use crate::error::Error;
use crate::http::{Headers, Request, TransportError};
use crate::op::call::CallPoll;
use crate::op::large::coordinator::{stream_fits_one_request, LargeFile, Resume};
use crate::op::large::job::{JobKind, PartJob};
use crate::op::upload::{file_headers, FileParams, Job, UploadState};
use crate::op::{Abort, Exchange, Operation, Source, Step, UploadUrl};
use crate::retry::RetryPolicy;
use crate::session::Session;
use crate::validate::PartPlan;
use crate::wire::{self, Answer as _};

enum Stage {
    /// The coordinator's calls, or choosing the next job.
    Coordinating,
    /// Sending one part.
    Part(u32, UploadState),
    /// A stream that fit one part goes up as a small file.
    Small(UploadState),
    /// Finished: the file is in the buffer (`answer_len` bytes).
    Done { answer_len: Option<usize> },
}

/// Uploads a large file from a re-readable source, one part at a time, through the
/// [`LargeFile`] coordinator (start or resume → parts → finish). Device firmware uses it as
/// is; the std client schedules the same coordinator's jobs on N threads.
///
/// Memory: `size_of::<LargeUpload<S>>()` (see `core/README.md`) plus the caller's buffer
/// (request heads and JSON answers; 2 KiB is plenty, 4 KiB comfortable) and 20 bytes of
/// digest storage per part.
pub struct LargeUpload<'s, 'b, 'p, 'd, S: Source> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    source: S,
    lf: LargeFile<'p, 'd>,
    stage: Stage,
    url: Option<UploadUrl>,
    /// Streams: the first part was measured (and the decision small/large made).
    stream_started: bool,
    resent_bytes: u64,
    policy: RetryPolicy,
}

impl<'s, 'b, 'p, 'd, S: Source> LargeUpload<'s, 'b, 'p, 'd, S> {
    /// A new large file of `params.size` bytes in parts of `part_size` (raised to the
    /// session's minimum, and so that there are at most 10,000 parts). The session must be
    /// authorized. `digests` needs one entry per part ([`crate::validate::part_plan`]).
    pub fn new(
        session: &'s mut Session,
        buf: &'b mut [u8],
        params: FileParams<'p>,
        part_size: u64,
        source: S,
        digests: &'d mut [[u8; 20]],
    ) -> Result<Self, Error> {
        Self::with_resume(session, buf, params, part_size, source, digests, Resume::No)
    }

    /// As [`LargeUpload::new`], continuing an earlier upload as the resume rule says
    /// (see [`crate::op::large::coordinator`]): from a checkpoint, or by searching B2's
    /// unfinished large files.
    pub fn with_resume(
        session: &'s mut Session,
        buf: &'b mut [u8],
        params: FileParams<'p>,
        part_size: u64,
        source: S,
        digests: &'d mut [[u8; 20]],
        resume: Resume,
    ) -> Result<Self, Error> {
        let lf = LargeFile::new(session, params, part_size, digests, resume)?;
        Ok(Self::over(session, buf, source, lf, true))
    }

    /// A stream whose length is learned only at its end (a spool on flash, an SD card):
    /// `source` is read until it returns 0. Each part is read twice (hashed to learn its
    /// length and SHA-1, then sent); a stream of one part or less goes up as a small file.
    pub fn stream(
        session: &'s mut Session,
        buf: &'b mut [u8],
        params: FileParams<'p>,
        part_size: u64,
        source: S,
        digests: &'d mut [[u8; 20]],
    ) -> Result<Self, Error> {
        let lf = LargeFile::stream(session, params, part_size, digests)?;
        Ok(Self::over(session, buf, source, lf, false))
    }

    fn over(
        session: &'s mut Session,
        buf: &'b mut [u8],
        source: S,
        lf: LargeFile<'p, 'd>,
        sized: bool,
    ) -> Self {
        LargeUpload {
            session,
            buf,
            source,
            lf,
            stage: Stage::Coordinating,
            url: None,
            stream_started: sized,
            resent_bytes: 0,
            policy: RetryPolicy::default(),
        }
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self.lf = self.lf.with_policy(policy);
        self
    }

    /// The coordinator (file id, plan, checkpoint).
    pub fn coordinator(&self) -> &LargeFile<'p, 'd> {
        &self.lf
    }

    /// Writes the checkpoint into `out` (see [`LargeFile::write_checkpoint`]); call it after
    /// each part (e.g. when [`LargeUpload::parts_done`] grows) to survive a reboot.
    pub fn write_checkpoint(&self, out: &mut [u8]) -> Result<usize, usize> {
        self.lf.write_checkpoint(out)
    }

    /// Parts done so far.
    pub fn parts_done(&self) -> u32 {
        self.lf.parts_done()
    }

    /// The large file's id, once started.
    pub fn file_id(&self) -> &str {
        self.lf.file_id()
    }

    /// The part plan (size and count).
    pub fn plan(&self) -> PartPlan {
        self.lf.plan()
    }

    /// Bytes of the file stored on the server so far (parts uploaded or found on resume).
    pub fn bytes_done(&self) -> u64 {
        self.lf.bytes_done()
    }

    /// Parts found on the server with the right SHA-1 and not sent again (resume).
    pub fn skipped_parts(&self) -> u32 {
        self.lf.parts_skipped()
    }

    /// Bytes sent more than once because an upload failed midway and was retried.
    pub fn resent_bytes(&self) -> u64 {
        self.resent_bytes
    }

    /// The finished file, after [`Step::Done`].
    pub fn file(&self) -> Result<wire::file::File<'_>, Error> {
        match self.stage {
            Stage::Done {
                answer_len: Some(n),
            } => {
                let body = self.buf.get(..n).unwrap_or(&[]);
                wire::file::File::parse(body).map_err(Error::BadAnswer)
            }
            Stage::Done { answer_len: None } => self.lf.file(self.buf),
            _ => Err(Error::Misuse("file before done")),
        }
    }

    /// SHA-1 and length of up to `max` bytes of the source from `offset` (the buffer is
    /// scratch space).
    fn hash_range(&mut self, offset: u64, max: u64) -> Result<([u8; 20], u64), Error> {
        crate::op::source::sha1_range(&mut self.source, offset, max, self.buf)
    }

    /// Starts sending `job`, or settles it without sending (a verified part).
    fn start_job(&mut self, job: PartJob) -> Result<(), Error> {
        let job = match job.kind {
            JobKind::Verify { .. } => {
                let (local, got) = self.hash_range(job.offset, job.len)?;
                if got < job.len {
                    return Err(Error::SourceTooShort {
                        offset: job.offset + got,
                    });
                }
                match self.lf.part_checked(job.number, local)? {
                    None => return Ok(()),
                    Some(send) => send,
                }
            }
            JobKind::Send { .. } => job,
            JobKind::Copy { .. } => return Err(Error::Misuse("a copy job in an upload")),
        };
        let sha1 = match job.kind {
            JobKind::Send { sha1 } => sha1,
            JobKind::Verify { .. } | JobKind::Copy { .. } => None,
        };
        let up = UploadState::new(
            Job::Part(job.number),
            self.session,
            self.url.take(),
            job.offset,
            job.len,
            sha1,
        );
        self.stage = Stage::Part(job.number, up);
        Ok(())
    }

    /// Streams: measures the next part and hands it to the coordinator (or ends the
    /// stream). Returns whether a part was started.
    fn next_stream_part(&mut self) -> Result<bool, Error> {
        let plan = self.lf.plan();
        if !self.lf.ready_to_push() {
            return Ok(false);
        }
        let offset = plan.size;
        let (digest, len) = self.hash_range(offset, plan.part_size)?;
        if len == 0 {
            self.lf.end_stream()?;
            return Ok(false);
        }
        let mut job = self.lf.push_part(len)?;
        job.kind = JobKind::Send { sha1: Some(digest) };
        self.start_job(job)?;
        Ok(true)
    }

    /// Streams, before anything is sent: one part or less goes up as a small file.
    fn start_stream(&mut self) -> Result<(), Error> {
        self.stream_started = true;
        let part = self.lf.plan().part_size;
        let (digest, len) = self.hash_range(0, part)?;
        let mut one = [0u8; 1];
        let more = len == part && self.source.read_at(len, &mut one).map_err(Error::Source)? > 0;
        if stream_fits_one_request(len, part, more) {
            let p = *self.lf.params();
            let up =
                UploadState::new(Job::File, self.session, None, 0, len, Some(digest)).for_file(&p);
            self.stage = Stage::Small(up);
        }
        Ok(())
    }
}

impl<S: Source> Exchange for LargeUpload<'_, '_, '_, '_, S> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        let file_id = self.lf.file_id();
        match &mut self.stage {
            Stage::Part(_, up) => {
                let key = self.lf.params().customer_key();
                up.request(self.session, self.buf, file_id, "", |w| {
                    crate::op::upload::part_headers(w, key)
                })
            }
            Stage::Small(up) => {
                let p = *self.lf.params();
                up.request(self.session, self.buf, p.bucket_id, p.file_name, |w| {
                    file_headers(w, &p)
                })
            }
            _ => self.lf.request(self.session, self.buf),
        }
    }

    fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
        match &mut self.stage {
            Stage::Part(_, up) | Stage::Small(up) => up.body(self.buf, &mut self.source, out),
            _ => Ok(self.lf.body(self.buf, out)),
        }
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Part(_, up) | Stage::Small(up) => up.response(status, headers),
            _ => self.lf.response(status, headers),
        }
        Ok(())
    }

    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Part(_, up) | Stage::Small(up) => up.response_body(chunk, self.buf),
            _ => self.lf.response_body(chunk, self.buf),
        }
    }

    fn response_end(&mut self) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Part(_, up) | Stage::Small(up) => {
                up.response_end(self.session, self.buf, &self.policy)
            }
            _ => self.lf.response_end(self.session, self.buf),
        }
    }
}

impl<S: Source> Operation for LargeUpload<'_, '_, '_, '_, S> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        loop {
            match &mut self.stage {
                Stage::Coordinating => {
                    if !self.stream_started {
                        self.start_stream()?;
                        continue;
                    }
                    if let Some(step) = self.lf.poll(now_ms, self.buf)? {
                        return Ok(step);
                    }
                    if self.lf.is_finished() {
                        self.stage = Stage::Done { answer_len: None };
                        continue;
                    }
                    if let Some(job) = self.lf.next_job() {
                        self.start_job(job)?;
                        continue;
                    }
                    if self.next_stream_part()? {
                        continue;
                    }
                    self.lf.begin_finish()?;
                }
                Stage::Part(n, up) => {
                    let file_id = self.lf.file_id();
                    match up.poll(now_ms, self.session, self.buf, file_id, &self.policy)? {
                        CallPoll::Send => return Ok(Step::Send),
                        CallPoll::Wait(t) => return Ok(Step::Wait { until_ms: t }),
                        CallPoll::Answered => {
                            let (n, digest) = (*n, up.digest());
                            self.resent_bytes += up.resent_bytes;
                            self.url = up.take_url();
                            self.lf.part_done(n, digest)?;
                            self.stage = Stage::Coordinating;
                        }
                    }
                }
                Stage::Small(up) => {
                    let bucket = self.lf.params().bucket_id;
                    match up.poll(now_ms, self.session, self.buf, bucket, &self.policy)? {
                        CallPoll::Send => return Ok(Step::Send),
                        CallPoll::Wait(t) => return Ok(Step::Wait { until_ms: t }),
                        CallPoll::Answered => {
                            self.resent_bytes += up.resent_bytes;
                            self.stage = Stage::Done {
                                answer_len: Some(up.answer_len()),
                            };
                        }
                    }
                }
                Stage::Done { .. } => return Ok(Step::Done),
            }
        }
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        match &mut self.stage {
            Stage::Part(_, up) | Stage::Small(up) => up.transport_failed(error, &self.policy),
            _ => self.lf.transport_failed(error),
        }
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}
