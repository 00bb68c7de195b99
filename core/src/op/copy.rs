//! Server-side copies of any size: [`Copy`](struct@Copy) picks `b2_copy_file` for a copy up to a cutoff
//! (5 GB by default) and a large file assembled from `b2_copy_part` calls above it, through
//! the same coordinator as uploads ([`LargeFile::copy`]). Several sources make one new large
//! file (b2sdk's "concatenate").
//!
//! Metadata: with [`Metadata::Copy`], `b2_copy_file` keeps the source's content type and
//! info by itself, but a large copy must give them to `b2_start_large_file`
//! (B2's docs: the parts carry no metadata), so the caller passes the source's here (read
//! from `b2_get_file_info`, which it needs anyway for the source's size). With
//! [`Metadata::Replace`] the given content type and info are used either way (B2 refuses a
//! `REPLACE` without a content type; `b2/x-auto` lets it pick from the name).

use crate::error::{Error, InvalidInput};
use crate::http::{Headers, Request, TransportError};
use crate::op::call::{CallPoll, CallState};
use crate::op::json::jitter_seed;
use crate::op::large::remote::{self, copy_part_call, RemoteRange};
use crate::op::large::{JobKind, LargeFile, PartJob, Resume};
use crate::op::{Abort, Exchange, FileParams, Operation, Step};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::Session;
use crate::validate;
use crate::wire::{self, Answer as _};

/// Copies larger than this become large files unless the caller says otherwise (B2's limit
/// for `b2_copy_file`).
pub const DEFAULT_COPY_CUTOFF: u64 = validate::MAX_SMALL_FILE;

/// The new file's content type and info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metadata<'a> {
    /// Keep the source's (`metadataDirective: COPY`). The source's content type and info go
    /// to `b2_start_large_file` when the copy is large; a small copy does not send them.
    Copy {
        /// The source's content type.
        content_type: &'a str,
        /// The source's file info.
        info: &'a [(&'a str, &'a str)],
    },
    /// Use these (`metadataDirective: REPLACE`).
    Replace {
        /// Content type (`b2/x-auto`: B2 picks one from the name).
        content_type: &'a str,
        /// File info (≤ 10 entries).
        info: &'a [(&'a str, &'a str)],
    },
}

/// What to copy, and where.
#[derive(Clone, Copy, Debug)]
pub struct CopySpec<'a> {
    /// The byte ranges to copy, in order: one for a copy, several to concatenate. Every
    /// range but the last must be at least the minimum part size when there are several.
    pub sources: &'a [RemoteRange<'a>],
    /// The one source is its whole file: `b2_copy_file` is sent without a range (B2 then
    /// keeps the source's SHA-1, and an empty file can be copied).
    pub whole_file: bool,
    /// Bucket of the new file (any bucket of the same account).
    pub destination_bucket_id: &'a str,
    /// Name of the new file.
    pub file_name: &'a str,
    /// Content type and info.
    pub metadata: Metadata<'a>,
    /// SHA-1 of the whole new content when known (a whole small source's `contentSha1`):
    /// a large copy stores it as `large_file_sha1` so downloads can verify it. Leave it
    /// `None` when the info already holds a `large_file_sha1` (copied from the source).
    pub sha1: Option<[u8; 20]>,
}

impl<'a> CopySpec<'a> {
    /// Total bytes of the new file.
    pub fn len(&self) -> u64 {
        self.sources
            .iter()
            .fold(0u64, |n, s| n.saturating_add(s.len))
    }

    /// Whether the new file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this copy is made as a large file (`b2_copy_part`s) rather than with one
    /// `b2_copy_file`: always for several sources; for one, when it is longer than `cutoff`
    /// (at most 5 GB) and makes two parts at least at `part_size`.
    pub fn is_large(&self, cutoff: u64, part_size: u64, min_part_size: u64) -> bool {
        if self.sources.len() > 1 {
            return true;
        }
        let len = self.len();
        if len <= cutoff.min(validate::MAX_SMALL_FILE) {
            return false;
        }
        let part_size = part_size.max(min_part_size).max(1);
        len > validate::MAX_SMALL_FILE
            || remote::plan(self.sources, part_size, min_part_size).is_ok_and(|(_, n)| n >= 2)
    }

    /// The new file's parameters for `b2_start_large_file`.
    pub fn params(&self) -> FileParams<'a> {
        let (content_type, info) = match self.metadata {
            Metadata::Copy { content_type, info } | Metadata::Replace { content_type, info } => {
                (content_type, info)
            }
        };
        let mut p = FileParams::new(self.destination_bucket_id, self.file_name, self.len());
        p.content_type = content_type;
        p.info = info;
        p.sha1 = self.sha1;
        p
    }

    /// The `b2_copy_file` call of a small copy.
    pub fn copy_file(&self) -> Result<wire::copy::CopyFile<'a>, Error> {
        let [src] = self.sources else {
            return Err(Error::Misuse("b2_copy_file copies one source"));
        };
        let mut c = wire::copy::CopyFile::new(src.file_id, self.file_name);
        c.destination_bucket_id = Some(self.destination_bucket_id);
        if !self.whole_file {
            let last = src
                .offset
                .checked_add(src.len)
                .and_then(|e| e.checked_sub(1))
                .ok_or(InvalidInput::Range)?;
            c.range = Some((src.offset, last));
        }
        if let Metadata::Replace { content_type, info } = self.metadata {
            c.metadata_directive = wire::copy::MetadataDirective::Replace;
            c.content_type = Some(content_type);
            c.file_info = Some(info);
        }
        Ok(c)
    }
}

enum Stage {
    /// One `b2_copy_file`.
    Small(CallState),
    /// The coordinator's calls, or choosing the next job.
    Coordinating,
    /// One `b2_copy_part`.
    Part(PartJob, CallState),
    /// Finished; `small`: the file is the copy-file answer in the buffer.
    Done { small: bool },
}

/// A copy of any size as one operation, one part after another (the std client runs the
/// same coordinator's copy jobs on N threads instead). After [`Step::Done`], [`Copy::file`]
/// is the new file.
///
/// Memory: the struct (a [`LargeFile`] and a call state), the caller's buffer (request and
/// JSON answers, 2 KiB is plenty) and, for a large copy, 20 bytes of caller storage per part.
pub struct Copy<'s, 'b, 'p, 'd> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    spec: CopySpec<'p>,
    lf: Option<LargeFile<'p, 'd>>,
    stage: Stage,
    /// Length of a small copy's answer in the buffer.
    small_len: usize,
    policy: RetryPolicy,
}

impl<'s, 'b, 'p, 'd> Copy<'s, 'b, 'p, 'd> {
    /// Plans the copy ([`CopySpec::is_large`] with `cutoff` and `part_size`); a large copy
    /// resumes as `resume` says (a checkpoint only: [`LargeFile::copy`]). `digests` needs one
    /// entry per part of a large copy. The session must be authorized (the minimum part
    /// size is the server's).
    pub fn new(
        session: &'s mut Session,
        buf: &'b mut [u8],
        spec: CopySpec<'p>,
        cutoff: u64,
        part_size: u64,
        digests: &'d mut [[u8; 20]],
        resume: Resume,
    ) -> Result<Self, Error> {
        validate::file_name(spec.file_name)?;
        let large = spec.is_large(cutoff, part_size, session.min_part_size);
        let (lf, stage) = if large {
            let lf = LargeFile::copy(
                session,
                spec.params(),
                spec.sources,
                part_size,
                digests,
                resume,
            )?;
            (Some(lf), Stage::Coordinating)
        } else {
            spec.copy_file()?;
            let st = CallState::new(CallKind::Json, session, jitter_seed(session));
            (None, Stage::Small(st))
        };
        Ok(Copy {
            session,
            buf,
            spec,
            lf,
            stage,
            small_len: 0,
            policy: RetryPolicy::default(),
        })
    }

    /// Replaces the retry policy (of every call).
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self.lf = self.lf.take().map(|lf| lf.with_policy(policy));
        self
    }

    /// The coordinator of a large copy (`None` for a small one).
    pub fn coordinator(&self) -> Option<&LargeFile<'p, 'd>> {
        self.lf.as_ref()
    }

    /// Writes a large copy's checkpoint (see [`LargeFile::write_checkpoint`]); a small copy
    /// has none (`Err(0)`).
    pub fn write_checkpoint(&self, out: &mut [u8]) -> Result<usize, usize> {
        self.lf
            .as_ref()
            .map_or(Err(0), |lf| lf.write_checkpoint(out))
    }

    /// The new file, after [`Step::Done`].
    pub fn file(&self) -> Result<wire::file::File<'_>, Error> {
        match (&self.stage, &self.lf) {
            (Stage::Done { small: true }, _) => {
                let body = self.buf.get(..self.small_len).unwrap_or(&[]);
                wire::file::File::parse(body).map_err(Error::BadAnswer)
            }
            (Stage::Done { small: false }, Some(lf)) => lf.file(self.buf),
            _ => Err(Error::Misuse("file before done")),
        }
    }

    fn start_job(&mut self, job: PartJob) -> Result<(), Error> {
        if !matches!(job.kind, JobKind::Copy { .. }) {
            return Err(Error::Misuse("an upload job in a copy"));
        }
        let st = CallState::new(CallKind::Json, self.session, jitter_seed(self.session));
        self.stage = Stage::Part(job, st);
        Ok(())
    }
}

impl Exchange for Copy<'_, '_, '_, '_> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        match &mut self.stage {
            Stage::Small(st) => {
                if st.authorizing() {
                    return st.authorize_request(self.session, self.buf);
                }
                let call = self.spec.copy_file().map_err(|_| Abort)?;
                st.json_request(self.session, &call, self.buf)
            }
            Stage::Part(job, st) => {
                if st.authorizing() {
                    return st.authorize_request(self.session, self.buf);
                }
                let lf = self.lf.as_ref().ok_or(Abort)?;
                let call = copy_part_call(self.spec.sources, lf.file_id(), job).ok_or(Abort)?;
                st.json_request(self.session, &call, self.buf)
            }
            _ => match &mut self.lf {
                Some(lf) => lf.request(self.session, self.buf),
                None => Err(Abort),
            },
        }
    }

    fn body(&mut self, out: &mut [u8]) -> Result<usize, Abort> {
        match &mut self.stage {
            Stage::Small(st) | Stage::Part(_, st) => Ok(st.body(self.buf, out)),
            _ => Ok(self.lf.as_mut().map_or(0, |lf| lf.body(self.buf, out))),
        }
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Small(st) | Stage::Part(_, st) => st.response(status, headers),
            _ => {
                if let Some(lf) = &mut self.lf {
                    lf.response(status, headers);
                }
            }
        }
        Ok(())
    }

    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Small(st) | Stage::Part(_, st) => st.response_body(chunk, self.buf),
            _ => match &mut self.lf {
                Some(lf) => lf.response_body(chunk, self.buf),
                None => Err(Abort),
            },
        }
    }

    fn response_end(&mut self) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Small(st) | Stage::Part(_, st) => {
                st.response_end(self.session, self.buf, &self.policy)
            }
            _ => match &mut self.lf {
                Some(lf) => lf.response_end(self.session, self.buf),
                None => Err(Abort),
            },
        }
    }
}

impl Operation for Copy<'_, '_, '_, '_> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        loop {
            match &mut self.stage {
                Stage::Small(st) => match st.poll(now_ms, &self.policy)? {
                    CallPoll::Send => return Ok(Step::Send),
                    CallPoll::Wait(t) => return Ok(Step::Wait { until_ms: t }),
                    CallPoll::Answered => {
                        self.small_len = st.answer.len;
                        self.stage = Stage::Done { small: true };
                    }
                },
                Stage::Coordinating => {
                    let lf = self
                        .lf
                        .as_mut()
                        .ok_or(Error::Misuse("a large copy without its coordinator"))?;
                    if let Some(step) = lf.poll(now_ms, self.buf)? {
                        return Ok(step);
                    }
                    if lf.is_finished() {
                        self.stage = Stage::Done { small: false };
                        continue;
                    }
                    if let Some(job) = lf.next_job() {
                        self.start_job(job)?;
                        continue;
                    }
                    lf.begin_finish()?;
                }
                Stage::Part(job, st) => match st.poll(now_ms, &self.policy)? {
                    CallPoll::Send => return Ok(Step::Send),
                    CallPoll::Wait(t) => return Ok(Step::Wait { until_ms: t }),
                    CallPoll::Answered => {
                        let body = self.buf.get(..st.answer.len).unwrap_or(&[]);
                        let digest = copied_part_sha1(body, job)?;
                        let n = job.number;
                        let lf = self
                            .lf
                            .as_mut()
                            .ok_or(Error::Misuse("a large copy without its coordinator"))?;
                        lf.part_done(n, digest)?;
                        self.stage = Stage::Coordinating;
                    }
                },
                Stage::Done { .. } => return Ok(Step::Done),
            }
        }
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        match &mut self.stage {
            Stage::Small(st) | Stage::Part(_, st) => st.transport_failed(error, &self.policy),
            _ => {
                if let Some(lf) = &mut self.lf {
                    lf.transport_failed(error);
                }
            }
        }
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

/// The SHA-1 of a part from B2's `b2_copy_part` answer, checked to be the part asked for
/// (its number and length): the finish's `partSha1Array` is made of these.
pub fn copied_part_sha1(answer: &[u8], job: &PartJob) -> Result<[u8; 20], Error> {
    let part = wire::large::Part::parse(answer).map_err(Error::BadAnswer)?;
    if part.part_number != job.number || part.content_length != job.len {
        return Err(Error::BadAnswer(crate::error::BadAnswer::Mismatch));
    }
    part.content_sha1
        .and_then(|t| crate::encoding::parse_sha1_hex(t.raw()))
        .ok_or(Error::BadAnswer(crate::error::BadAnswer::Json))
}
