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
//!
//! Encryption (B2's `b2_copy_file` and `b2_copy_part` docs): an SSE-C source is read only
//! with its key ([`CopySpec::source_keys`]: `sourceServerSideEncryption` on the copy and on
//! every part of that source; B2 answers 403 without it). The new file is encrypted as
//! [`CopySpec::destination_encryption`] says, never as the source was: leave it `None` for
//! the bucket's default (SSE-B2). A large copy starts its file with that setting and, for
//! SSE-C, sends the same key with every `b2_copy_part` (B2 refuses a part without the key
//! the file was started with), and a checkpoint resumes only with that key (its
//! fingerprint holds the key's MD5). The source's metadata comes from `b2_get_file_info`,
//! which needs no key. Retention and legal hold of the new file go with `b2_copy_file` or
//! `b2_start_large_file`.
//!
//! ## Each copy happens once
//! A `b2_copy_file` whose answer is lost (the connection broke or timed out after the request
//! went out, a `200` cut short) or that failed with a 5xx may have been stored. Sent again,
//! it would leave a second version of the name, so before sending it again the copy asks B2,
//! the way a small upload does (`op::upload`):
//! - Before the first send, one `b2_list_file_versions` (`startFileName` and `prefix` the
//!   name, `maxFileCount` 5, fewer when the buffer is small: one class C call, like the
//!   copy itself) notes the newest version of the destination name (unfinished large files
//!   listed among versions are skipped; a hide marker is a version). [`Destination::New`]
//!   skips this call when the caller knows the name has no version.
//! - After an unknown outcome, the same listing is made again (another class C call). The
//!   newest version of the name is this copy when all of these hold: it is an upload (not a
//!   hide marker); it is not the version noted before and not older than it; its length is
//!   the copy's ([`CopySpec::len`]: the range's, or the source's); its SHA-1
//!   (`contentSha1`, else `large_file_sha1`) is [`CopySpec::sha1`] when that is known and B2
//!   lists one; its content type is the expected one (unless `b2/x-auto`); its name and
//!   file info are exactly the expected ones; and its `serverSideEncryption` is what was
//!   asked ([`CopySpec::destination_encryption`]: SSE-C with the same key MD5, SSE-B2, or
//!   for the bucket's default anything but SSE-C). The expected content type and info are those
//!   of [`Metadata`]: with [`Metadata::Copy`] they must be the source's (the std client
//!   passes what `b2_get_file_info` said), or a stored copy is not recognised and is sent
//!   again.
//! - Found: the listed version is the new file ([`Copy::file`], [`Copy::found_after_loss`]);
//!   nothing is sent again. Not found: the copy is sent again by the usual retry rules (the
//!   backoff has already been waited), or, when those gave up, their error stands.
//! - A key that may not list (a write-only key lacks `listFiles`: B2 answers 401 to the
//!   first listing or the check), or a first listing that shows no version of the name but
//!   more entries of it to come (only newer unfinished large files listed), cannot tell: a
//!   lost answer is then sent again, as before this check existed, and may leave a second
//!   version.
//! - A caller that said [`Destination::New`] for a name that has a version identical to the
//!   copy (same length, SHA-1, type and info) may have that version taken for the copy after
//!   a lost answer: one version fewer, never one more.
//!
//! A large copy needs no such look-up: its parts are numbered (a part copied again replaces
//! itself) and its finish names the large file's id, so the coordinator's lost-finish check
//! (`b2_get_file_info`, then B2 refusing a second finish) is what makes it happen once (see
//! [`crate::op::large::coordinator`]). A lost `b2_start_large_file` answer can leave an
//! unfinished large file behind (not a version), as with uploads.

use crate::error::{BadAnswer, Error, InvalidInput};
use crate::http::{Headers, Request, TransportError};
use crate::op::call::{CallPoll, CallState};
use crate::op::json::jitter_seed;
use crate::op::large::remote::{self, copy_part_call, PartKeys, RemoteRange};
use crate::op::large::{JobKind, LargeFile, PartJob, Resume};
use crate::op::upload::file_identity;
use crate::op::{Abort, Exchange, FileParams, Operation, Step};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::{fixed_text, Id, Session};
use crate::validate;
use crate::wire::encryption::{CustomerKey, Encryption, EncryptionMode};
use crate::wire::lock::{LegalHold, Retention};
use crate::wire::{self, Answer as _};

/// Copies larger than this become large files unless the caller says otherwise (B2's limit
/// for `b2_copy_file`).
pub const DEFAULT_COPY_CUTOFF: u64 = validate::MAX_SMALL_FILE;

/// The new file's content type and info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metadata<'a> {
    /// Keep the source's (`metadataDirective: COPY`). The source's content type and info go
    /// to `b2_start_large_file` when the copy is large; a small copy does not send them, but
    /// recognises itself by them after a lost answer (module docs), so they must be the
    /// source's.
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
    /// The SSE-C key of each source, by its index in `sources` (`None`, or a slice shorter
    /// than the sources: that source is not SSE-C). B2 refuses to read an SSE-C source
    /// without its key (403); it goes with `b2_copy_file` and every `b2_copy_part` of that
    /// source. Reading the source's metadata (`b2_get_file_info`) needs no key.
    pub source_keys: &'a [Option<&'a CustomerKey>],
    /// Encryption of the new file (`None`: the destination bucket's default, SSE-B2; never
    /// the source's). Sent with `b2_copy_file` or `b2_start_large_file`; an SSE-C key also
    /// goes with every `b2_copy_part` and is part of a large copy's checkpoint fingerprint.
    pub destination_encryption: Option<Encryption<'a>>,
    /// Object Lock retention of the new file (the destination bucket must have file lock).
    pub retention: Option<Retention>,
    /// Object Lock legal hold of the new file.
    pub legal_hold: Option<LegalHold>,
}

impl<'a> CopySpec<'a> {
    /// A copy of `sources` to `file_name` in `destination_bucket_id`: not a whole file, no
    /// known SHA-1, no keys, the bucket's default encryption, no Object Lock settings.
    pub fn new(
        sources: &'a [RemoteRange<'a>],
        destination_bucket_id: &'a str,
        file_name: &'a str,
        metadata: Metadata<'a>,
    ) -> Self {
        CopySpec {
            sources,
            whole_file: false,
            destination_bucket_id,
            file_name,
            metadata,
            sha1: None,
            source_keys: &[],
            destination_encryption: None,
            retention: None,
            legal_hold: None,
        }
    }

    /// The SSE-C keys of every `b2_copy_part` of this copy.
    pub fn part_keys(&self) -> PartKeys<'a> {
        PartKeys {
            sources: self.source_keys,
            destination: self.destination_encryption.and_then(|e| e.customer_key()),
        }
    }

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
        p.encryption = self.destination_encryption;
        p.retention = self.retention;
        p.legal_hold = self.legal_hold;
        p
    }

    /// The `b2_copy_file` call of a small copy.
    pub fn copy_file(&self) -> Result<wire::copy::CopyFile<'a>, Error> {
        let [src] = self.sources else {
            return Err(Error::Misuse("b2_copy_file copies one source"));
        };
        let mut c = wire::copy::CopyFile::new(src.file_id, self.file_name);
        c.destination_bucket_id = Some(self.destination_bucket_id);
        c.source_server_side_encryption = self.source_keys.first().copied().flatten();
        c.destination_server_side_encryption = self.destination_encryption;
        c.file_retention = self.retention;
        c.legal_hold = self.legal_hold;
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

/// The key to send for a source, given what B2 reports of it (`b2_get_file_info` or a
/// listing) and the caller's SSE-C key: B2 wants `sourceServerSideEncryption` only for an
/// SSE-C source, so a source B2 reports as not SSE-C gets none; one whose answer names no
/// encryption gets the key (B2 then says whether it was right).
pub fn key_for_source<'k>(
    source: &wire::file::File<'_>,
    key: Option<&'k CustomerKey>,
) -> Option<&'k CustomerKey> {
    match source.encryption() {
        Some(e) if e.mode != EncryptionMode::SseC => None,
        _ => key,
    }
}

/// What a small copy knows of its destination name before it sends `b2_copy_file`, so that
/// a lost answer can be told from an older version (module docs, "Each copy happens once").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Destination {
    /// Look first: one `b2_list_file_versions` notes the newest version of the name.
    #[default]
    Look,
    /// The name has no version (the caller just checked, or the name is unique): no look-up.
    New,
}

/// Most versions listed to find the newest of a name (unfinished large files of the name
/// are listed among them, newest first, and skipped); one per 800 bytes of the buffer.
const LIST_VERSIONS: u32 = 5;

/// The destination name's newest version before the copy was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Prior {
    /// Not looked up (a large copy).
    Unknown,
    /// No version, or this one (id and upload timestamp).
    Noted(Option<(Id, u64)>),
    /// The listing could not tell (a key that may not list): a lost answer is sent again.
    CannotCheck,
}

// No boxing without an allocator: the copy's call is held beside the check's while it runs
// (about one `CallState` more than the other stages, in the operation's own struct).
#[allow(clippy::large_enum_variant)]
enum Stage {
    /// The look-up of the destination's newest version before the first `b2_copy_file`.
    Look(CallState),
    /// One `b2_copy_file`.
    Small(CallState),
    /// The copy's outcome is unknown: the newest version of the name tells whether B2 stored
    /// it. `copy` is the copy's call, held until then; `failed` its error when its retries
    /// are over (else it is sent again when the copy is not found).
    Check {
        call: CallState,
        copy: CallState,
        failed: Option<Error>,
    },
    /// The coordinator's calls, or choosing the next job.
    Coordinating,
    /// One `b2_copy_part`.
    Part(PartJob, CallState),
    /// Finished; `small`: the file is the copy-file answer in the buffer.
    Done { small: bool },
    /// Failed for good (the error was handed out).
    Failed,
}

/// A copy of any size as one operation, one part after another (the std client runs the
/// same coordinator's copy jobs on N threads instead). A small copy first notes the
/// destination's newest version and looks itself up after a lost answer (module docs,
/// [`Copy::with_destination`]). After [`Step::Done`], [`Copy::file`] is the new file.
///
/// Memory: the struct (a [`LargeFile`] and two call states), the caller's buffer (request
/// and JSON answers; a small copy's look-up lists one version of the name per 800 bytes, up
/// to five: 4 KiB lists five of typical names and info) and, for a large copy, 20 bytes of
/// caller storage per part.
pub struct Copy<'s, 'b, 'p, 'd> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    spec: CopySpec<'p>,
    lf: Option<LargeFile<'p, 'd>>,
    stage: Stage,
    /// Length of a small copy's answer in the buffer.
    small_len: usize,
    policy: RetryPolicy,
    /// The destination's newest version before the copy (small copies).
    prior: Prior,
    /// A `b2_copy_file` is out (rendered, its outcome not yet known).
    copy_out: bool,
    /// The last `b2_copy_file` may have been stored though it did not answer `200`.
    unknown_outcome: bool,
    /// The copy was found stored after its answer was lost.
    found: bool,
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
            (None, Stage::Look(st))
        };
        Ok(Copy {
            session,
            buf,
            spec,
            lf,
            stage,
            small_len: 0,
            policy: RetryPolicy::default(),
            prior: Prior::Unknown,
            copy_out: false,
            unknown_outcome: false,
            found: false,
        })
    }

    /// Says what is known of the destination name before a small copy (default
    /// [`Destination::Look`]); call it before the first poll. A large copy ignores it.
    pub fn with_destination(mut self, d: Destination) -> Self {
        if let (Destination::New, Stage::Look(st)) = (d, &self.stage) {
            self.stage = Stage::Small(st.clone());
            self.prior = Prior::Noted(None);
        }
        self
    }

    /// Whether a small copy whose answer was lost was found stored (and not sent again).
    pub fn found_after_loss(&self) -> bool {
        self.found
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

    /// The listing of the destination name's newest versions (the look-up and the check).
    fn list_versions(&self) -> wire::file::ListFileVersions<'p> {
        wire::file::ListFileVersions {
            bucket_id: self.spec.destination_bucket_id,
            start_file_name: Some(self.spec.file_name),
            start_file_id: None,
            max_file_count: Some(((self.buf.len() / 800) as u32).clamp(1, LIST_VERSIONS)),
            prefix: Some(self.spec.file_name),
            delimiter: None,
        }
    }

    /// Checks a `b2_copy_file` answer: the new file holds as many bytes as were copied, and
    /// B2's SHA-1 (when it lists one) is the expected one (when known).
    fn check_answer(&self, body: &[u8]) -> Result<(), Error> {
        let f = wire::file::File::parse(body).map_err(Error::BadAnswer)?;
        if f.content_length != self.spec.len() || !self.same_sha1(&f) {
            return Err(Error::BadAnswer(BadAnswer::Mismatch));
        }
        Ok(())
    }

    /// Whether a listed version is encrypted as this copy asked: SSE-C with the destination
    /// key (by its MD5), SSE-B2, or (the bucket's default) anything but SSE-C. A version
    /// whose answer names no encryption passes unless SSE-C was asked.
    fn same_encryption(&self, f: &wire::file::File<'_>) -> bool {
        let listed = f.encryption();
        match self.spec.destination_encryption {
            Some(Encryption::SseC(k)) => listed.is_some_and(|e| e.matches(k)),
            Some(Encryption::SseB2) => listed.is_none_or(|e| e.mode == EncryptionMode::SseB2),
            None => listed.is_none_or(|e| e.mode != EncryptionMode::SseC),
        }
    }

    fn same_sha1(&self, f: &wire::file::File<'_>) -> bool {
        match (self.spec.sha1, f.sha1()) {
            (Some(want), Some(got)) => want == got,
            _ => true,
        }
    }

    /// Whether the small copy can be looked up after a lost answer.
    fn can_check(&self) -> bool {
        matches!(self.prior, Prior::Noted(_))
    }

    /// The newest version of the name on a listing page: `Ok(None)` when the page shows no
    /// version of it, `Err(())` when it cannot tell (only unfinished large files of the name,
    /// and more of it to come).
    fn newest<'a>(
        &self,
        page: wire::file::ListFilesAnswer<'a>,
    ) -> Result<Result<Option<wire::file::File<'a>>, ()>, Error> {
        let name = self.spec.file_name;
        for f in page.files {
            let f = f.map_err(Error::BadAnswer)?;
            if !f.file_name.eq_str(name) {
                return Ok(Ok(None));
            }
            if f.action != wire::file::Action::Start {
                return Ok(Ok(Some(f)));
            }
        }
        Ok(match page.next_file_name {
            Some(n) if n.eq_str(name) => Err(()),
            _ => Ok(None),
        })
    }

    /// Notes the destination's newest version from the look-up's answer.
    fn note_prior(&mut self, len: usize) -> Result<(), Error> {
        let body = self.buf.get(..len).unwrap_or(&[]);
        let page = wire::file::ListFilesAnswer::parse(body).map_err(Error::BadAnswer)?;
        self.prior = match self.newest(page)? {
            Ok(Some(f)) => Prior::Noted(Some((fixed_text(f.file_id)?, f.upload_timestamp))),
            Ok(None) => Prior::Noted(None),
            Err(()) => Prior::CannotCheck,
        };
        Ok(())
    }

    /// Whether the check's answer shows this copy stored (the rule of the module docs); if
    /// so the version is moved to the start of the buffer, where [`Copy::file`] reads it.
    fn stored(&mut self, len: usize) -> Result<bool, Error> {
        let body = self.buf.get(..len).unwrap_or(&[]);
        let page = wire::file::ListFilesAnswer::parse(body).map_err(Error::BadAnswer)?;
        let Ok(Some(f)) = self.newest(page)? else {
            return Ok(false);
        };
        let newer = match &self.prior {
            Prior::Noted(None) => true,
            Prior::Noted(Some((id, at))) => f.file_id != id.as_str() && f.upload_timestamp >= *at,
            _ => false,
        };
        let content_type = self.spec.params().content_type;
        let ours = newer
            && f.action == wire::file::Action::Upload
            && f.content_length == self.spec.len()
            && self.same_sha1(&f)
            && (content_type == "b2/x-auto"
                || f.content_type.is_some_and(|t| t.eq_str(content_type)))
            && file_identity(&f) == self.spec.params().identity(false)
            && self.same_encryption(&f);
        if !ours {
            return Ok(false);
        }
        let start = f.raw.as_ptr() as usize - body.as_ptr() as usize;
        let n = f.raw.len();
        self.buf.copy_within(start..start + n, 0);
        self.small_len = n;
        Ok(true)
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
        let list = self.list_versions();
        match &mut self.stage {
            Stage::Look(st) | Stage::Check { call: st, .. } => {
                if st.authorizing() {
                    return st.authorize_request(self.session, self.buf);
                }
                st.json_request(self.session, &list, self.buf)
            }
            Stage::Small(st) => {
                if st.authorizing() {
                    return st.authorize_request(self.session, self.buf);
                }
                let call = self.spec.copy_file().map_err(|_| Abort)?;
                self.copy_out = true;
                self.unknown_outcome = false;
                st.json_request(self.session, &call, self.buf)
            }
            Stage::Part(job, st) => {
                if st.authorizing() {
                    return st.authorize_request(self.session, self.buf);
                }
                let lf = self.lf.as_ref().ok_or(Abort)?;
                let call =
                    copy_part_call(self.spec.sources, self.spec.part_keys(), lf.file_id(), job)
                        .ok_or(Abort)?;
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
            Stage::Look(st)
            | Stage::Small(st)
            | Stage::Check { call: st, .. }
            | Stage::Part(_, st) => Ok(st.body(self.buf, out)),
            _ => Ok(self.lf.as_mut().map_or(0, |lf| lf.body(self.buf, out))),
        }
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Look(st)
            | Stage::Small(st)
            | Stage::Check { call: st, .. }
            | Stage::Part(_, st) => st.response(status, headers),
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
            Stage::Look(st)
            | Stage::Small(st)
            | Stage::Check { call: st, .. }
            | Stage::Part(_, st) => st.response_body(chunk, self.buf),
            _ => match &mut self.lf {
                Some(lf) => lf.response_body(chunk, self.buf),
                None => Err(Abort),
            },
        }
    }

    fn response_end(&mut self) -> Result<(), Abort> {
        match &mut self.stage {
            Stage::Small(st) => {
                let r = st.response_end(self.session, self.buf, &self.policy);
                if core::mem::take(&mut self.copy_out) {
                    // A 5xx after B2 read the request, or a 200 cut short: it may be stored.
                    let a = &st.answer;
                    let cut = a.ok() && a.content_length.is_some_and(|n| a.received < n);
                    self.unknown_outcome = a.status >= 500 || cut;
                }
                r
            }
            Stage::Look(st) | Stage::Check { call: st, .. } | Stage::Part(_, st) => {
                st.response_end(self.session, self.buf, &self.policy)
            }
            _ => match &mut self.lf {
                Some(lf) => lf.response_end(self.session, self.buf),
                None => Err(Abort),
            },
        }
    }
}

impl Copy<'_, '_, '_, '_> {
    /// The copy call's outcome is unknown and it is about to be sent again (`failed: None`)
    /// or has failed for good: look the copy up first.
    fn begin_check(&mut self, copy: CallState, failed: Option<Error>) {
        let call = CallState::new(CallKind::Json, self.session, jitter_seed(self.session));
        self.stage = Stage::Check { call, copy, failed };
    }

    /// The check did not find the copy: send it again, or hand out its error.
    fn after_check(&mut self, copy: CallState, failed: Option<Error>) -> Result<(), Error> {
        self.unknown_outcome = false;
        match failed {
            Some(e) => {
                self.stage = Stage::Failed;
                Err(e)
            }
            None => {
                self.stage = Stage::Small(copy);
                Ok(())
            }
        }
    }
}

impl Operation for Copy<'_, '_, '_, '_> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        loop {
            let can_check = self.can_check();
            match &mut self.stage {
                Stage::Look(st) => match st.poll(now_ms, &self.policy) {
                    Ok(CallPoll::Send) => return Ok(Step::Send),
                    Ok(CallPoll::Wait(t)) => return Ok(Step::Wait { until_ms: t }),
                    Ok(CallPoll::Answered) => {
                        let len = st.answer.len;
                        let mut next = st.clone();
                        next.restart_next();
                        self.note_prior(len)?;
                        self.stage = Stage::Small(next);
                    }
                    // A key that may not list (a write-only key lacks `listFiles`): copy
                    // without the look-up; a lost answer is then sent again.
                    Err(Error::Api(e)) if e.status == 401 => {
                        let _ = e;
                        let mut next = st.clone();
                        next.restart_next();
                        self.prior = Prior::CannotCheck;
                        self.stage = Stage::Small(next);
                    }
                    Err(e) => {
                        self.stage = Stage::Failed;
                        return Err(e);
                    }
                },
                Stage::Small(st) => match st.poll(now_ms, &self.policy) {
                    Ok(CallPoll::Send) if self.unknown_outcome && !st.authorizing() => {
                        if !can_check {
                            self.unknown_outcome = false;
                            return Ok(Step::Send);
                        }
                        let copy = st.clone();
                        self.begin_check(copy, None);
                    }
                    Ok(CallPoll::Send) => return Ok(Step::Send),
                    Ok(CallPoll::Wait(t)) => return Ok(Step::Wait { until_ms: t }),
                    Ok(CallPoll::Answered) => {
                        let len = st.answer.len;
                        self.small_len = len;
                        let body = self.buf.get(..len).unwrap_or(&[]);
                        if let Err(e) = self.check_answer(body) {
                            self.stage = Stage::Failed;
                            return Err(e);
                        }
                        self.stage = Stage::Done { small: true };
                    }
                    Err(e) if self.unknown_outcome && can_check => {
                        let copy = st.clone();
                        self.begin_check(copy, Some(e));
                    }
                    Err(e) => {
                        self.stage = Stage::Failed;
                        return Err(e);
                    }
                },
                Stage::Check { call, .. } => match call.poll(now_ms, &self.policy) {
                    Ok(CallPoll::Send) => return Ok(Step::Send),
                    Ok(CallPoll::Wait(t)) => return Ok(Step::Wait { until_ms: t }),
                    Ok(CallPoll::Answered) => {
                        let len = call.answer.len;
                        let Stage::Check { copy, failed, .. } =
                            core::mem::replace(&mut self.stage, Stage::Failed)
                        else {
                            return Err(Error::Misuse("copy check"));
                        };
                        if self.stored(len)? {
                            self.found = true;
                            self.unknown_outcome = false;
                            self.stage = Stage::Done { small: true };
                        } else {
                            self.after_check(copy, failed)?;
                        }
                    }
                    // A key that may not list cannot check: send again (module docs).
                    Err(Error::Api(e)) if e.status == 401 => {
                        let _ = e;
                        self.prior = Prior::CannotCheck;
                        let Stage::Check { copy, failed, .. } =
                            core::mem::replace(&mut self.stage, Stage::Failed)
                        else {
                            return Err(Error::Misuse("copy check"));
                        };
                        self.after_check(copy, failed)?;
                    }
                    Err(e) => {
                        self.stage = Stage::Failed;
                        return Err(e);
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
                Stage::Failed => return Err(Error::Misuse("poll after failure")),
            }
        }
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        match &mut self.stage {
            Stage::Small(st) => {
                if core::mem::take(&mut self.copy_out) {
                    // The request went out (or part of it): B2 may have stored the copy.
                    self.unknown_outcome = !matches!(
                        error,
                        TransportError::Connect
                            | TransportError::Aborted
                            | TransportError::Unsupported
                            | TransportError::Tls
                    );
                }
                st.transport_failed(error, &self.policy)
            }
            Stage::Look(st) | Stage::Check { call: st, .. } | Stage::Part(_, st) => {
                st.transport_failed(error, &self.policy)
            }
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
