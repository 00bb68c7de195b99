//! Server-side copies of any size, scheduled over core: core's `CopySpec` decides between
//! one `b2_copy_file` and a large file of `b2_copy_part`s (the cutoff, the part plan, the
//! metadata rules); a large copy runs core's coordinator (`LargeFile::copy`) with its copy
//! jobs on N threads, as uploads run theirs. This module resolves names to file ids, owns
//! the strings, runs jobs, and keeps the coordinator's checkpoint in a file so that a copy
//! interrupted (killed, failed) resumes where it stopped when run again.
//!
//! A small copy runs core's `op::Copy`, so a `b2_copy_file` whose answer is lost is looked
//! up before it is sent again (core's rule, "Each copy happens once" in `op::copy`): one
//! `b2_list_file_versions` before the copy (skipped with [`CopyOptions::new_name`]) and one
//! after a lost answer. A large copy's finish is checked by the coordinator.
//!
//! Encryption: [`CopyOptions::source_encryption`] is the SSE-C key of the sources (sent to
//! each source B2 reports as SSE-C, with its `b2_copy_file` or every `b2_copy_part` of it);
//! [`CopyOptions::destination_encryption`] is the new file's (core sends an SSE-C key with
//! every part too, and a checkpoint made with one key is not resumed with another: the
//! copy then starts a new large file).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use b2_core::op::copy::{
    copied_part_sha1, key_for_source, Copy, CopySpec, Destination, Metadata, DEFAULT_COPY_CUTOFF,
};
use b2_core::op::large::remote;
use b2_core::op::large::{
    copy_part_call, Checkpoint, LargeFile, PartJob, PartKeys, RemoteRange, Resume,
};
use b2_core::op::Call;
use b2_core::validate;
use b2_core::wire::encryption::CustomerKey;
use b2_core::wire::lock::{LegalHold, Retention};
use sha1::{Digest, Sha1};

use super::lock::{self, UploadLock};
use super::retention::Sse;
use super::{Client, ClientError, FileVersion, Progress, Result};

/// Buffer for the coordinator's JSON calls (list pages, start, finish answers).
const PHASE_BUF: usize = 256 * 1024;

/// The file a copy reads from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopySource {
    /// A file version by id (any bucket of the account).
    Id(String),
    /// The newest version of a name (hidden names are not found).
    Name {
        /// Bucket name.
        bucket: String,
        /// File name.
        name: String,
    },
}

/// New metadata for a copy (`metadataDirective: REPLACE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplaceMetadata {
    /// Content type (`b2/x-auto`: B2 picks one from the name).
    pub content_type: String,
    /// File info entries (≤ 10).
    pub info: Vec<(String, String)>,
}

/// How to copy.
#[derive(Clone)]
pub struct CopyOptions {
    /// Inclusive byte range of the source (default: all of it).
    pub range: Option<(u64, u64)>,
    /// New content type and info; `None` keeps the source's (for a concatenation:
    /// `b2/x-auto` and no info).
    pub replace: Option<ReplaceMetadata>,
    /// Copies longer than this are made of parts (default and most: 5 GB).
    pub cutoff: u64,
    /// Part size of a large copy (default: the server's recommended size).
    pub part_size: Option<u64>,
    /// Parallel `b2_copy_part` calls (default 4, at most 64).
    pub threads: usize,
    /// Keep a large copy's checkpoint on disk and resume from it (default true). Without,
    /// a failed large copy is cancelled.
    pub resume: bool,
    /// Where checkpoints (`copies/`) and locks (`locks/`) live (default: next to the
    /// upload locks, `$XDG_RUNTIME_DIR/b2-rust` else `~/.cache/b2-rust`).
    pub state_dir: Option<PathBuf>,
    /// The destination name has no version yet (default false): a small copy then skips
    /// the `b2_list_file_versions` it makes first to note the newest version, which is
    /// what tells a lost answer's copy from an older version. Said of a name that has an
    /// identical version, a lost answer may take that version for the copy.
    pub new_name: bool,
    /// Progress listener: bytes copied so far of the new file's size, after each part of a
    /// large copy (parts found done on resume count at the start) and once when a small
    /// copy is made (B2 copies it in one call).
    pub progress: Option<Arc<dyn Progress>>,
    /// The sources' encryption: [`Sse::C`] is the SSE-C key B2 needs to read an SSE-C
    /// source (403 without it); it goes to every source B2 reports as SSE-C (a copy's
    /// sources all share this one key). [`Sse::B2`] or `None`: no key is sent.
    pub source_encryption: Option<Sse>,
    /// The new file's encryption (`None`: the destination bucket's default, SSE-B2; never
    /// the source's). With [`Sse::C`] the new file needs that key to be read.
    pub destination_encryption: Option<Sse>,
    /// Object Lock retention of the new file (the bucket must have file lock enabled).
    pub retention: Option<Retention>,
    /// Object Lock legal hold of the new file.
    pub legal_hold: Option<LegalHold>,
}

impl std::fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOptions")
            .field("range", &self.range)
            .field("replace", &self.replace)
            .field("cutoff", &self.cutoff)
            .field("part_size", &self.part_size)
            .field("threads", &self.threads)
            .field("resume", &self.resume)
            .field("state_dir", &self.state_dir)
            .field("new_name", &self.new_name)
            .field("progress", &self.progress.is_some())
            // `Sse`'s `Debug` never shows a key.
            .field("source_encryption", &self.source_encryption)
            .field("destination_encryption", &self.destination_encryption)
            .field("retention", &self.retention)
            .field("legal_hold", &self.legal_hold)
            .finish()
    }
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            range: None,
            replace: None,
            cutoff: DEFAULT_COPY_CUTOFF,
            part_size: None,
            threads: 4,
            resume: true,
            state_dir: None,
            new_name: false,
            progress: None,
            source_encryption: None,
            destination_encryption: None,
            retention: None,
            legal_hold: None,
        }
    }
}

/// One resolved source: its version and the range copied.
struct Resolved {
    version: FileVersion,
    offset: u64,
    len: u64,
}

/// Why a large copy stopped: before its file was ready (a stale checkpoint), or later.
enum Stopped {
    Prepare(ClientError),
    Later(ClientError),
}

impl Client {
    /// Copies a file (or a byte range of it) to `dest_name` in `dest_bucket`, server side:
    /// one `b2_copy_file` up to `opts.cutoff`, above it a large file whose parts are copied
    /// by `opts.threads` parallel `b2_copy_part` calls (so files over 5 GB can be copied).
    /// Metadata is kept unless `opts.replace` says otherwise; a large copy starts its file
    /// with the source's content type and info (B2 copies none for parts). Running the same
    /// large copy again after an interruption resumes it (`opts.resume`).
    pub fn copy_file(
        &self,
        source: &CopySource,
        dest_bucket: &str,
        dest_name: &str,
        opts: &CopyOptions,
    ) -> Result<FileVersion> {
        validate::file_name(dest_name)?;
        let r = self.resolve(source, opts.range)?;
        let whole = r.offset == 0 && r.len == r.version.size;
        self.copy_resolved(&[r], whole, dest_bucket, dest_name, opts)
    }

    /// b2sdk's "concatenate": one new large file from several remote ranges, in order
    /// (`None`: the whole file). Every range but the last must be at least the minimum part
    /// size (5 MB), or core refuses it before any call
    /// ([`b2_core::error::InvalidInput::CopySourceTooSmall`]). `opts.range` is ignored;
    /// metadata is `opts.replace`, else `b2/x-auto` and no info.
    pub fn concatenate(
        &self,
        sources: &[(CopySource, Option<(u64, u64)>)],
        dest_bucket: &str,
        dest_name: &str,
        opts: &CopyOptions,
    ) -> Result<FileVersion> {
        validate::file_name(dest_name)?;
        if sources.is_empty() {
            return Err(ClientError::Config("nothing to concatenate".into()));
        }
        let resolved = sources
            .iter()
            .map(|(s, range)| self.resolve(s, *range))
            .collect::<Result<Vec<_>>>()?;
        let mut opts = opts.clone();
        if opts.replace.is_none() {
            opts.replace = Some(ReplaceMetadata {
                content_type: "b2/x-auto".into(),
                info: Vec::new(),
            });
        }
        let whole = match resolved.as_slice() {
            [one] => one.offset == 0 && one.len == one.version.size,
            _ => false,
        };
        self.copy_resolved(&resolved, whole, dest_bucket, dest_name, &opts)
    }

    /// The source's newest version (or the version by id) and the range to copy.
    fn resolve(&self, source: &CopySource, range: Option<(u64, u64)>) -> Result<Resolved> {
        let version = match source {
            CopySource::Id(id) => self.file_info_by_id(id)?,
            CopySource::Name { bucket, name } => self.file_info(bucket, name)?,
        };
        if !b2_core::versions::has_data(version.action.to_core()) {
            return Err(ClientError::NotFound(format!(
                "{} is not a file that can be copied (it is a {})",
                version.file_name, version.action
            )));
        }
        let (offset, len) = match range {
            None => (0, version.size),
            Some((a, b)) if a <= b && b < version.size => (a, b - a + 1),
            Some(_) => return Err(b2_core::error::InvalidInput::Range.into()),
        };
        Ok(Resolved {
            version,
            offset,
            len,
        })
    }

    fn copy_resolved(
        &self,
        resolved: &[Resolved],
        whole: bool,
        dest_bucket: &str,
        dest_name: &str,
        opts: &CopyOptions,
    ) -> Result<FileVersion> {
        let dest = self.bucket(dest_bucket)?;
        let ranges: Vec<RemoteRange<'_>> = resolved
            .iter()
            .map(|r| RemoteRange {
                file_id: &r.version.file_id,
                offset: r.offset,
                len: r.len,
            })
            .collect();
        let first = &resolved
            .first()
            .ok_or_else(|| ClientError::Config("nothing to copy".into()))?
            .version;
        let (content_type, info): (&str, Vec<(&str, &str)>) = match &opts.replace {
            Some(m) => (
                &m.content_type,
                m.info
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            ),
            None => (
                first.content_type.as_deref().unwrap_or("b2/x-auto"),
                first
                    .info
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            ),
        };
        // The whole content's SHA-1 is known when one whole file is copied: carried as
        // `large_file_sha1` unless the info has it already (or has no room for it).
        let sha1 = match (whole, resolved.len()) {
            (true, 1) if !info.iter().any(|(k, _)| *k == "large_file_sha1") && info.len() < 10 => {
                first
                    .sha1()
                    .and_then(|h| b2_core::encoding::parse_sha1_hex(&h))
            }
            _ => None,
        };
        let metadata = match opts.replace {
            Some(_) => Metadata::Replace {
                content_type,
                info: &info,
            },
            None => Metadata::Copy {
                content_type,
                info: &info,
            },
        };
        // The sources' key goes to each source B2 reports as SSE-C (core's rule).
        let key = match &opts.source_encryption {
            Some(Sse::C(k)) => Some(k),
            _ => None,
        };
        let source_keys = resolved
            .iter()
            .map(|r| source_key(&r.version, key))
            .collect::<Result<Vec<_>>>()?;
        let mut spec = CopySpec::new(&ranges, &dest.id, dest_name, metadata);
        spec.whole_file = whole;
        spec.sha1 = sha1;
        spec.source_keys = &source_keys;
        spec.destination_encryption = opts.destination_encryption.as_ref().map(Sse::as_core);
        spec.retention = opts.retention;
        spec.legal_hold = opts.legal_hold;
        let s = self.session();
        let part_size = opts.part_size.unwrap_or(s.recommended_part_size);
        if !spec.is_large(opts.cutoff, part_size, s.min_part_size) {
            return self.copy_small(spec, part_size, opts);
        }
        let (_, count) = remote::plan(&ranges, part_size, s.min_part_size)?;
        let state = opts
            .state_dir
            .clone()
            .or_else(|| lock::default_dir().and_then(|d| d.parent().map(Path::to_path_buf)));
        let lock = match (&state, opts.resume) {
            (Some(dir), true) => {
                UploadLock::try_acquire(Some(&dir.join("locks")), &dest.id, dest_name)
            }
            _ => None,
        };
        let checkpoint = match (&state, &lock) {
            (Some(dir), Some(_)) => checkpoint_path(dir, &dest.id, dest_name, &ranges),
            _ => None,
        };
        let mut digests = vec![[0u8; 20]; count as usize];
        let resume = checkpoint
            .as_deref()
            .and_then(|p| fs::read(p).ok())
            .and_then(|bytes| Checkpoint::decode(&bytes, &mut digests).ok())
            .map_or(Resume::No, Resume::Checkpoint);
        let resumed = matches!(resume, Resume::Checkpoint(_));
        let r = match self.copy_large(
            &spec,
            part_size,
            &mut digests,
            resume,
            checkpoint.as_deref(),
            opts,
        ) {
            // The checkpoint's file is gone (cancelled, or of other parameters): start anew.
            Err(Stopped::Prepare(e)) if resumed && checkpoint_is_stale(&e) => {
                if let Some(p) = &checkpoint {
                    let _ = fs::remove_file(p);
                }
                self.copy_large(
                    &spec,
                    part_size,
                    &mut digests,
                    Resume::No,
                    checkpoint.as_deref(),
                    opts,
                )
            }
            r => r,
        };
        drop(lock);
        r.map_err(|e| match e {
            Stopped::Prepare(e) | Stopped::Later(e) => e,
        })
    }

    /// One `b2_copy_file` through core's `Copy` (the lost-answer look-up included).
    fn copy_small(
        &self,
        spec: CopySpec<'_>,
        part_size: u64,
        opts: &CopyOptions,
    ) -> Result<FileVersion> {
        let mut s = self.session();
        let mut buf = vec![0u8; PHASE_BUF];
        let destination = if opts.new_name {
            Destination::New
        } else {
            Destination::Look
        };
        let r = Copy::new(
            &mut s,
            &mut buf,
            spec,
            opts.cutoff,
            part_size,
            &mut [],
            Resume::No,
        )
        .map_err(ClientError::from)
        .and_then(|op| {
            let mut op = op
                .with_policy(self.retry_policy())
                .with_destination(destination);
            self.run(&mut op)?;
            Ok(FileVersion::from_wire(&op.file()?))
        });
        self.store_session(s);
        if let (Ok(v), Some(p)) = (&r, &opts.progress) {
            p.progress(v.size, Some(v.size));
        }
        r
    }

    /// Runs core's coordinator for a large copy: prepare (start, or resume from the
    /// checkpoint), copy jobs on N threads (the checkpoint written after each part), finish.
    fn copy_large(
        &self,
        spec: &CopySpec<'_>,
        part_size: u64,
        digests: &mut [[u8; 20]],
        resume: Resume,
        checkpoint: Option<&Path>,
        opts: &CopyOptions,
    ) -> std::result::Result<FileVersion, Stopped> {
        let mut s = self.session();
        let policy = self.retry_policy();
        let built = match &resume {
            // A checkpoint of other parameters is not used.
            Resume::Checkpoint(_) => {
                let probe = LargeFile::copy(
                    &s,
                    spec.params(),
                    spec.sources,
                    part_size,
                    digests,
                    resume.clone(),
                );
                match probe {
                    Ok(_) => resume,
                    Err(b2_core::Error::Invalid(b2_core::error::InvalidInput::Checkpoint)) => {
                        Resume::No
                    }
                    Err(e) => return Err(Stopped::Prepare(e.into())),
                }
            }
            _ => resume,
        };
        let mut lf = LargeFile::copy(&s, spec.params(), spec.sources, part_size, digests, built)
            .map_err(|e| Stopped::Prepare(e.into()))?
            .with_policy(policy);
        let mut buf = vec![0u8; PHASE_BUF];
        let r = self.run(&mut lf.prepare(&mut s, &mut buf));
        self.store_session(s.clone());
        r.map_err(Stopped::Prepare)?;
        save_checkpoint(&lf, checkpoint);
        let total = spec.len();
        // Parts finish in any order on N threads: the figure reported never goes back.
        let reported = AtomicU64::new(0);
        let report = |done: u64| {
            if let Some(p) = &opts.progress {
                let done = done.min(total);
                let most = reported.fetch_max(done, Ordering::Relaxed).max(done);
                p.progress(most, Some(total));
            }
        };
        report(lf.bytes_done());
        if !lf.is_finished() {
            let threads = opts
                .threads
                .clamp(1, b2_core::op::large::coordinator::MAX_IN_FLIGHT);
            let r = self
                .copy_jobs(&mut lf, spec, threads, checkpoint, &report)
                .and_then(|()| {
                    let r = self.run(&mut lf.finish(&mut s, &mut buf)?);
                    self.store_session(s.clone());
                    r.map(|_| ())
                });
            if let Err(e) = r {
                if checkpoint.is_none() {
                    // Nothing will resume it: remove its parts rather than leave them billed.
                    let _ = self.run(&mut lf.cancel(&mut s, &mut buf));
                    self.store_session(s);
                }
                return Err(Stopped::Later(e));
            }
        }
        if let Some(p) = checkpoint {
            let _ = fs::remove_file(p);
        }
        report(total);
        let p = spec.params();
        match lf.file(&buf) {
            Ok(f) => Ok(FileVersion::from_wire(&f)),
            Err(_) if lf.is_finished() => Ok(FileVersion::finished_unread(
                lf.file_id(),
                p.file_name,
                p.size,
                p.content_type,
                p.sha1,
            )),
            Err(e) => Err(Stopped::Later(e.into())),
        }
    }

    /// Hands the coordinator's copy jobs to `threads` workers until none is left.
    fn copy_jobs(
        &self,
        lf: &mut LargeFile<'_, '_>,
        spec: &CopySpec<'_>,
        threads: usize,
        checkpoint: Option<&Path>,
        report: &(dyn Fn(u64) + Sync),
    ) -> Result<()> {
        let file_id = lf.file_id().to_owned();
        let policy = self.retry_policy();
        self.part_workers(lf, threads, &|lf, s, buf, job| {
            let digest = self.copy_one_part(s, buf, spec, &file_id, &job, policy)?;
            let done = {
                let mut lf = super::upload::lock(lf);
                lf.part_done(job.number, digest)?;
                save_checkpoint(&lf, checkpoint);
                lf.bytes_done()
            };
            report(done);
            Ok(())
        })
    }

    /// One `b2_copy_part` (with the checklist's retries); the SHA-1 from B2's answer.
    fn copy_one_part(
        &self,
        s: &mut b2_core::session::Session,
        buf: &mut [u8],
        spec: &CopySpec<'_>,
        file_id: &str,
        job: &PartJob,
        policy: b2_core::retry::RetryPolicy,
    ) -> Result<[u8; 20]> {
        let keys: PartKeys<'_> = spec.part_keys();
        let call = copy_part_call(spec.sources, keys, file_id, job)
            .ok_or(b2_core::Error::Misuse("an upload job in a copy"))?;
        let mut op = Call::new(s, buf, call).with_policy(policy);
        self.run(&mut op)?;
        Ok(copied_part_sha1(op.answer_bytes(), job)?)
    }
}

/// The SSE-C key to send for a resolved source (core's [`key_for_source`] on the version B2
/// reported).
fn source_key<'k>(
    v: &FileVersion,
    key: Option<&'k CustomerKey>,
) -> Result<Option<&'k CustomerKey>> {
    if key.is_none() || v.json.is_empty() {
        return Ok(key);
    }
    use b2_core::wire::Answer as _;
    let f =
        b2_core::wire::file::File::parse(v.json.as_bytes()).map_err(b2_core::Error::BadAnswer)?;
    Ok(key_for_source(&f, key))
}

/// Whether a resume from a checkpoint failed because B2 no longer has that unfinished file
/// (cancelled, or finished by someone else; B2 answers 400 or 404) or its parts do not fit
/// the plan: the checkpoint is then of no use. Other failures (network, a busy service,
/// a missing capability) keep it for the next run.
fn checkpoint_is_stale(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::B2 {
            status: 400 | 404,
            ..
        } | ClientError::NotFound(_)
            | ClientError::InvalidInput(b2_core::error::InvalidInput::Checkpoint)
    )
}

/// Where the checkpoint of a copy into `name` of `bucket_id` from `ranges` lives: one file
/// per destination and sources, in a directory only this user may write.
fn checkpoint_path(
    state: &Path,
    bucket_id: &str,
    name: &str,
    ranges: &[RemoteRange<'_>],
) -> Option<PathBuf> {
    let dir = state.join("copies");
    lock::private_dir(&dir)?;
    let mut h = Sha1::new();
    h.update(bucket_id.as_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    for r in ranges {
        h.update([0]);
        h.update(r.file_id.as_bytes());
        h.update(r.offset.to_le_bytes());
        h.update(r.len.to_le_bytes());
    }
    let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Some(dir.join(format!("{key}.ckpt")))
}

/// Writes the coordinator's checkpoint (to a temporary file renamed into place, so a
/// crash leaves the old one or the new one). A failure to write only costs a resume.
fn save_checkpoint(lf: &LargeFile<'_, '_>, path: Option<&Path>) {
    let Some(path) = path else { return };
    let mut out = vec![0u8; lf.checkpoint_len()];
    let Ok(n) = lf.write_checkpoint(&mut out) else {
        return;
    };
    let tmp = path.with_extension("ckpt.tmp");
    if fs::write(&tmp, &out[..n]).is_ok() {
        let _ = fs::rename(&tmp, path);
    }
}
