//! Uploads, scheduled over core's operations: small files in one request (`UploadFile`),
//! large files through core's coordinator (`LargeFile`: start or resume, part jobs, finish)
//! with its part jobs on N threads, each thread with its own upload URL from one pool.
//! This module decides nothing about B2: it reads local data, hashes it, and runs jobs.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use b2_core::op::large::stream_fits_one_request;
use b2_core::op::{
    FileParams, JobKind, LargeFile, PartJob, Resume, Source, UploadFile, UploadPart,
};
use b2_core::retry::RetryPolicy;
use b2_core::validate;
use b2_core::wire::encryption::CustomerKey;
use b2_core::wire::lock::{LegalHold, Retention};

use super::hashing::{hash_file, hash_range, read_at};
use super::lock::UploadLock;
use super::{Client, ClientError, FileVersion, Progress, Result};

/// Upload URLs tried for one part of a stream, and tries (and re-authorizations) of each
/// of its JSON calls, before giving up. A stream cannot be read again, so it gets the data budget of the official SDKs
/// (20) instead of 5: a busy service (503s, 429s, expired tokens at once) must not lose it.
const STREAM_TRIES: u8 = 20;

/// Buffer for the coordinator's JSON calls (list pages, start, finish answers).
const PHASE_BUF: usize = 256 * 1024;

/// How to upload.
#[derive(Clone)]
pub struct UploadOptions {
    /// MIME type; `b2/x-auto` lets B2 pick from the extension.
    pub content_type: String,
    /// File info entries (≤ 10 with the ones the SDK adds).
    pub info: Vec<(String, String)>,
    /// Part size for large files (default: the server's recommended size).
    pub part_size: Option<u64>,
    /// Sources longer than this go up as large files (default 200 MB).
    pub large_threshold: u64,
    /// Parallel part uploads (default 4, at most 64), each with its own upload URL.
    pub threads: usize,
    /// `src_last_modified_millis` (set from the file's mtime by [`Client::upload_path`]).
    pub src_last_modified_millis: Option<u64>,
    /// Whole-file SHA-1 when known up front (sent as `large_file_sha1` for large files).
    /// [`Client::upload_path`] computes it when it is not given.
    pub sha1: Option<[u8; 20]>,
    /// Progress listener.
    pub progress: Option<Arc<dyn Progress>>,
    /// Large files from a path: continue an unfinished upload of the same file (core's
    /// resume rule) when no other upload of that name runs on this machine (default true).
    pub resume: bool,
    /// Where upload locks live (default: `$XDG_RUNTIME_DIR/b2-rust/locks`, else
    /// `~/.cache/b2-rust/locks`).
    pub lock_dir: Option<PathBuf>,
    /// Server-side encryption (`None`: the bucket's default, SSE-B2). With SSE-C the key
    /// goes with the file and every part, and is needed again to read the file.
    pub encryption: Option<super::retention::Sse>,
    /// Object Lock retention (the bucket must have file lock enabled).
    pub retention: Option<Retention>,
    /// Object Lock legal hold.
    pub legal_hold: Option<LegalHold>,
    /// Upload timestamp to record instead of now, in milliseconds (must be enabled for
    /// the account).
    pub custom_upload_timestamp: Option<u64>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            content_type: "b2/x-auto".into(),
            info: Vec::new(),
            part_size: None,
            large_threshold: 200_000_000,
            threads: 4,
            src_last_modified_millis: None,
            sha1: None,
            progress: None,
            resume: true,
            lock_dir: None,
            encryption: None,
            retention: None,
            legal_hold: None,
            custom_upload_timestamp: None,
        }
    }
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("content_type", &self.content_type)
            .field("info", &self.info)
            .field("part_size", &self.part_size)
            .field("large_threshold", &self.large_threshold)
            .field("threads", &self.threads)
            .field("resume", &self.resume)
            .field("encryption", &self.encryption)
            .field("retention", &self.retention)
            .field("legal_hold", &self.legal_hold)
            .finish_non_exhaustive()
    }
}

/// Counts bytes read for progress (re-sent bytes count again; the total is capped).
struct Counter {
    done: AtomicU64,
    total: Option<u64>,
    progress: Option<Arc<dyn Progress>>,
}

impl Counter {
    fn new(total: Option<u64>, progress: Option<Arc<dyn Progress>>) -> Self {
        Counter {
            done: AtomicU64::new(0),
            total,
            progress,
        }
    }

    fn add(&self, n: u64) {
        let d = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(p) = &self.progress {
            p.progress(self.total.map_or(d, |t| d.min(t)), self.total);
        }
    }
}

/// A file read by offset (`pread`), so parallel parts never share a cursor; counted for
/// progress unless it only hashes.
struct FileSource<'a> {
    file: &'a fs::File,
    counter: Option<&'a Counter>,
}

impl Source for FileSource<'_> {
    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut [u8],
    ) -> std::result::Result<usize, b2_core::op::source::ErrorKind> {
        let n =
            read_at(self.file, buf, offset).map_err(|_| b2_core::op::source::ErrorKind::Other)?;
        if let Some(c) = self.counter {
            c.add(n as u64);
        }
        Ok(n)
    }
}

/// Bytes in memory (a part of a stream), counted for progress.
struct MemSource<'a> {
    data: &'a [u8],
    counter: &'a Counter,
}

impl Source for MemSource<'_> {
    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut [u8],
    ) -> std::result::Result<usize, b2_core::op::source::ErrorKind> {
        let mut d = self.data;
        let n = d.read_at(offset, buf)?;
        self.counter.add(n as u64);
        Ok(n)
    }
}

/// The owned strings behind a [`FileParams`].
struct Described {
    info: Vec<(String, String)>,
}

impl Described {
    fn new(opts: &UploadOptions) -> Self {
        Described {
            info: opts.info.clone(),
        }
    }

    fn params<'a>(
        &'a self,
        pairs: &'a mut Vec<(&'a str, &'a str)>,
        bucket_id: &'a str,
        remote: &'a str,
        size: u64,
        opts: &'a UploadOptions,
    ) -> FileParams<'a> {
        pairs.extend(self.info.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut p = FileParams::new(bucket_id, remote, size);
        p.content_type = &opts.content_type;
        p.info = pairs;
        p.src_last_modified_millis = opts.src_last_modified_millis;
        p.sha1 = opts.sha1;
        p.encryption = opts.encryption.as_ref().map(super::retention::Sse::as_core);
        p.retention = opts.retention;
        p.legal_hold = opts.legal_hold;
        p.custom_upload_timestamp = opts.custom_upload_timestamp;
        p
    }
}

impl Client {
    /// Uploads a local file: one request up to the threshold, else a large file whose parts
    /// go up in parallel, read by offset (never the whole file in memory). Before a large
    /// upload the file is read once to compute its SHA-1 (kept as `large_file_sha1`, so
    /// downloads verify it) and every part's SHA-1 (sent in each part's header). Uploading
    /// the same file again after an interruption resumes the unfinished large file (core's
    /// resume rule), sending only the parts B2 lacks. A path that is not a regular file (a
    /// FIFO, a device) is read as a stream, as [`Client::upload_reader`] does; opening a FIFO
    /// waits for its writer.
    pub fn upload_path(
        &self,
        bucket: &str,
        local: &Path,
        remote: &str,
        opts: &UploadOptions,
    ) -> Result<FileVersion> {
        validate::file_name(remote)?;
        let cannot = |e: std::io::Error| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", local.display()))
        };
        // Looked at before opening: opening a FIFO waits for its writer.
        let meta = fs::metadata(local).map_err(cannot)?;
        if meta.is_dir() {
            return Err(ClientError::Config(format!(
                "{} is a directory",
                local.display()
            )));
        }
        if !meta.is_file() {
            // A FIFO, a character device, a socket: read as a stream of unknown length
            // (opening a FIFO waits until something writes into it).
            let reader = fs::File::open(local).map_err(cannot)?;
            return self.upload_reader(bucket, reader, remote, opts);
        }
        let file = fs::File::open(local).map_err(cannot)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(ClientError::Config(format!(
                "{} changed while being opened",
                local.display()
            )));
        }
        let b = self.bucket(bucket)?;
        let size = meta.len();
        let mut opts = opts.clone();
        if opts.src_last_modified_millis.is_none() {
            opts.src_last_modified_millis = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as u64);
        }
        let counter = Counter::new(Some(size), opts.progress.clone());
        let source = || FileSource {
            file: &file,
            counter: Some(&counter),
        };
        // A large file needs two parts at least: a file that fits in one part goes up in
        // one request whatever the threshold.
        let s = self.session();
        let part_size = opts.part_size.unwrap_or(s.recommended_part_size);
        let plan = validate::part_plan(size, part_size, s.min_part_size);
        let one_part = plan.is_ok_and(|p| p.count < 2);
        if size <= validate::MAX_SMALL_FILE && (size <= opts.large_threshold || one_part) {
            return self.upload_small(&b.id, remote, size, source(), &opts);
        }
        let plan = plan?;
        let quiet = || FileSource {
            file: &file,
            counter: None,
        };
        let (whole, parts) = hash_file(&quiet, &plan, opts.sha1.is_none())?;
        if opts.sha1.is_none() {
            opts.sha1 = whole;
        }
        let lock = UploadLock::try_acquire(opts.lock_dir.as_deref(), &b.id, remote);
        let resume = if opts.resume && lock.is_some() {
            Resume::Search
        } else {
            Resume::No
        };
        let r = self.upload_large(&b.id, remote, size, &source, Some(&parts), &opts, resume);
        drop(lock);
        r
    }

    /// Uploads from any reader, of known or unknown length (stdin). A stream of one part
    /// or less goes up in one request; a longer one as a large file whose parts are cut
    /// into a fixed pool of `threads` buffers of the part size, so memory stays at about
    /// `threads × part size` whatever the stream's length. A stream cannot be
    /// read again: a failed stream upload cancels its large file (nothing left billed).
    pub fn upload_reader<R: Read>(
        &self,
        bucket: &str,
        mut reader: R,
        remote: &str,
        opts: &UploadOptions,
    ) -> Result<FileVersion> {
        validate::file_name(remote)?;
        let b = self.bucket(bucket)?;
        let s = self.session();
        let part_size = opts
            .part_size
            .unwrap_or(s.recommended_part_size)
            .max(s.min_part_size)
            .min(validate::MAX_PART_SIZE);
        let counter = Counter::new(None, opts.progress.clone());
        let part_len = usize::try_from(part_size).unwrap_or(usize::MAX);
        let mut first = Vec::new();
        (&mut reader).take(part_size).read_to_end(&mut first)?;
        let mut probe = [0u8; 1];
        let more = read_full_into(&mut reader, &mut probe)? == 1;
        if stream_fits_one_request(first.len() as u64, part_size, more) {
            let src = MemSource {
                data: &first,
                counter: &counter,
            };
            return self.upload_small(&b.id, remote, first.len() as u64, src, opts);
        }
        let stream = Stream {
            first,
            carry: Some(probe[0]),
            reader,
            part_len,
        };
        self.upload_stream(&b.id, remote, part_size, stream, &counter, opts)
    }

    fn upload_small<S: Source>(
        &self,
        bucket_id: &str,
        remote: &str,
        size: u64,
        source: S,
        opts: &UploadOptions,
    ) -> Result<FileVersion> {
        let d = Described::new(opts);
        let mut pairs = Vec::new();
        let params = d.params(&mut pairs, bucket_id, remote, size, opts);
        let started = super::now_ms();
        let taken = self.take_upload_url(bucket_id);
        let url = taken.as_ref().map(|(u, _)| u.clone());
        let mut s = self.session();
        let mut buf = vec![0u8; 16 * 1024];
        let mut op = UploadFile::new(&mut s, &mut buf, params, source, url)?
            .with_policy(self.retry_policy());
        let r = self.run(&mut op);
        let out = r.and_then(|_| Ok(FileVersion::from_wire(&op.file()?)));
        // Only a success gives a URL back: one that failed (core dropped it and may have
        // got another) is never pooled, so never stored either.
        if out.is_ok() {
            if let Some(u) = op.take_upload_url() {
                self.return_upload_url(taken, u, started);
            }
        }
        drop(op);
        self.store_session(s);
        out
    }

    /// Runs core's coordinator for a large file of known size: prepare (start or resume),
    /// part jobs on N threads, finish. `pre` holds every part's SHA-1 when known.
    #[allow(clippy::too_many_arguments)]
    fn upload_large<S: Source>(
        &self,
        bucket_id: &str,
        remote: &str,
        size: u64,
        make_source: &(dyn Fn() -> S + Sync),
        pre: Option<&[[u8; 20]]>,
        opts: &UploadOptions,
        resume: Resume,
    ) -> Result<FileVersion> {
        let d = Described::new(opts);
        let mut pairs = Vec::new();
        let params = d.params(&mut pairs, bucket_id, remote, size, opts);
        let mut s = self.session();
        let part_size = opts.part_size.unwrap_or(s.recommended_part_size);
        let plan = validate::part_plan(size, part_size, s.min_part_size)?;
        let mut digests = vec![[0u8; 20]; plan.count as usize];
        let policy = self.retry_policy();
        let mut lf =
            LargeFile::new(&s, params, part_size, &mut digests, resume)?.with_policy(policy);
        let mut buf = vec![0u8; PHASE_BUF];
        let r = self.run(&mut lf.prepare(&mut s, &mut buf));
        self.store_session(s.clone());
        r?;
        let threads = opts
            .threads
            .clamp(1, b2_core::op::large::coordinator::MAX_IN_FLIGHT);
        self.run_jobs(&mut lf, make_source, pre, threads, policy)?;
        let r = self.run(&mut lf.finish(&mut s, &mut buf)?);
        self.store_session(s);
        r?;
        self.upload_urls().forget(lf.file_id());
        finished(&lf, &buf, remote, size, opts)
    }

    /// Hands the coordinator's part jobs to `threads` workers until none is left.
    fn run_jobs<S: Source>(
        &self,
        lf: &mut LargeFile<'_, '_>,
        make_source: &(dyn Fn() -> S + Sync),
        pre: Option<&[[u8; 20]]>,
        threads: usize,
        policy: RetryPolicy,
    ) -> Result<()> {
        let file_id = lf.file_id().to_owned();
        self.part_workers(lf, threads, &|lf, s, buf, job| {
            self.settle_job(lf, s, buf, &file_id, job, make_source, pre, policy)
        })
    }

    /// The scheduling every large file shares (uploads and copies): `threads` workers, each
    /// with its own session and buffer, take the coordinator's next job and hand it to
    /// `work` until none is left or one failed; the first error wins.
    #[allow(clippy::type_complexity)]
    pub(crate) fn part_workers(
        &self,
        lf: &mut LargeFile<'_, '_>,
        threads: usize,
        work: &(dyn Fn(
            &Mutex<&mut LargeFile<'_, '_>>,
            &mut b2_core::session::Session,
            &mut [u8],
            PartJob,
        ) -> Result<()>
              + Sync),
    ) -> Result<()> {
        let count = lf.plan().count as usize;
        let lf = Mutex::new(lf);
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<ClientError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..threads.min(count) {
                scope.spawn(|| {
                    let mut s = self.session();
                    let mut buf = vec![0u8; 16 * 1024];
                    while !failed.load(Ordering::Relaxed) {
                        let job = lock(&lf).next_job();
                        let Some(job) = job else { break };
                        if let Err(e) = work(&lf, &mut s, &mut buf, job) {
                            failed.store(true, Ordering::Relaxed);
                            lock(&first_error).get_or_insert(e);
                        }
                    }
                    self.store_session(s);
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Does one job: verifies a part B2 has against the local bytes, sends what must be
    /// sent, and reports the part's SHA-1 to the coordinator.
    #[allow(clippy::too_many_arguments)]
    fn settle_job<S: Source>(
        &self,
        lf: &Mutex<&mut LargeFile<'_, '_>>,
        s: &mut b2_core::session::Session,
        buf: &mut [u8],
        file_id: &str,
        job: PartJob,
        make_source: &(dyn Fn() -> S + Sync),
        pre: Option<&[[u8; 20]]>,
        policy: RetryPolicy,
    ) -> Result<()> {
        let known = pre.and_then(|p| p.get(job.number as usize - 1).copied());
        let job = match job.kind {
            JobKind::Verify { .. } => {
                let local = match known {
                    Some(d) => d,
                    None => {
                        let mut chunk = vec![0u8; 1 << 20];
                        hash_range(&mut make_source(), job.offset, job.len, &mut chunk)?
                    }
                };
                match lock(lf).part_checked(job.number, local)? {
                    None => return Ok(()),
                    Some(send) => send,
                }
            }
            JobKind::Send { .. } => job,
            JobKind::Copy { .. } => {
                return Err(b2_core::Error::Misuse("a copy job in an upload").into())
            }
        };
        let sha1 = match job.kind {
            JobKind::Send { sha1 } => sha1.or(known),
            JobKind::Verify { .. } | JobKind::Copy { .. } => known,
        };
        let key = lock(lf).params().customer_key().cloned();
        let digest = self.send_part(
            s,
            buf,
            file_id,
            job,
            make_source(),
            sha1,
            key.as_ref(),
            policy,
        )?;
        lock(lf).part_done(job.number, digest)?;
        Ok(())
    }

    /// Sends one part on an upload URL from the pool; returns its SHA-1.
    #[allow(clippy::too_many_arguments)]
    fn send_part<S: Source>(
        &self,
        s: &mut b2_core::session::Session,
        buf: &mut [u8],
        file_id: &str,
        job: PartJob,
        source: S,
        sha1: Option<[u8; 20]>,
        key: Option<&CustomerKey>,
        policy: RetryPolicy,
    ) -> Result<[u8; 20]> {
        let started = super::now_ms();
        let taken = self.take_upload_url(file_id);
        let url = taken.as_ref().map(|(u, _)| u.clone());
        let mut op = UploadPart::new(
            s, buf, file_id, job.number, source, job.offset, job.len, url,
        )?
        .with_sha1(sha1)
        .with_customer_key(key)
        .with_policy(policy);
        self.run(&mut op)?;
        if let Some(u) = op.take_upload_url() {
            self.return_upload_url(taken, u, started);
        }
        Ok(op.sha1())
    }

    /// A stream of unknown length through core's coordinator: this thread cuts parts into
    /// buffers and pushes them to the coordinator; workers send them. On failure the large
    /// file is cancelled.
    fn upload_stream<R: Read>(
        &self,
        bucket_id: &str,
        remote: &str,
        part_size: u64,
        stream: Stream<R>,
        counter: &Counter,
        opts: &UploadOptions,
    ) -> Result<FileVersion> {
        let d = Described::new(opts);
        let mut pairs = Vec::new();
        let params = d.params(&mut pairs, bucket_id, remote, 0, opts);
        let mut s = self.session();
        let mut digests = vec![[0u8; 20]; validate::MAX_PARTS as usize];
        let mut policy = self.retry_policy();
        policy.max_upload_urls = policy.max_upload_urls.max(STREAM_TRIES);
        policy.max_json_tries = policy.max_json_tries.max(STREAM_TRIES);
        policy.max_reauthorizations = policy.max_reauthorizations.max(STREAM_TRIES);
        let mut lf = LargeFile::stream(&s, params, part_size, &mut digests)?.with_policy(policy);
        let mut buf = vec![0u8; PHASE_BUF];
        let r = self.run(&mut lf.prepare(&mut s, &mut buf));
        self.store_session(s.clone());
        r?;
        let threads = opts
            .threads
            .clamp(1, b2_core::op::large::coordinator::MAX_IN_FLIGHT);
        let r = self
            .stream_parts(&mut lf, stream, threads, counter, policy)
            .and_then(|()| {
                let r = self.run(&mut lf.finish(&mut s, &mut buf)?);
                r.map(|_| ())
            });
        if let Err(e) = r {
            // Nothing can resume a stream: remove its parts rather than leave them billed.
            let _ = self.run(&mut lf.cancel(&mut s, &mut buf));
            self.store_session(s);
            return Err(e);
        }
        self.store_session(s);
        self.upload_urls().forget(lf.file_id());
        let size = lf.plan().size;
        finished(&lf, &buf, remote, size, opts)
    }

    fn stream_parts<R: Read>(
        &self,
        lf: &mut LargeFile<'_, '_>,
        mut stream: Stream<R>,
        threads: usize,
        counter: &Counter,
        policy: RetryPolicy,
    ) -> Result<()> {
        let file_id = lf.file_id().to_owned();
        let key = lf.params().customer_key().cloned();
        let lf = Mutex::new(lf);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let (work_tx, work_rx) = mpsc::sync_channel::<(PartJob, Vec<u8>)>(threads);
        let work_rx = Mutex::new(work_rx);
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<ClientError>> = Mutex::new(None);
        let produced = std::thread::scope(|scope| -> Result<()> {
            for _ in 0..threads {
                let free_tx = free_tx.clone();
                scope.spawn(|| {
                    let free_tx = free_tx;
                    let mut s = self.session();
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let got = lock(&work_rx).recv();
                        let Ok((job, data)) = got else { break };
                        if !failed.load(Ordering::Relaxed) {
                            let src = MemSource {
                                data: &data,
                                counter,
                            };
                            // The buffer holds the part alone: read it from offset 0.
                            let at_zero = PartJob { offset: 0, ..job };
                            let r = self
                                .send_part(
                                    &mut s,
                                    &mut buf,
                                    &file_id,
                                    at_zero,
                                    src,
                                    None,
                                    key.as_ref(),
                                    policy,
                                )
                                .and_then(|d| Ok(lock(&lf).part_done(job.number, d)?));
                            if let Err(e) = r {
                                failed.store(true, Ordering::Relaxed);
                                lock(&first_error).get_or_insert(e);
                            }
                        }
                        let _ = free_tx.send(data);
                    }
                    self.store_session(s);
                });
            }
            drop(free_tx);
            // At most `threads` part buffers exist (the first read is one of them): memory
            // stays at threads x part size, whatever the stream's length.
            let mut spare = threads.saturating_sub(1);
            let mut next = Some(std::mem::take(&mut stream.first));
            while !failed.load(Ordering::Relaxed) {
                let part = match next.take() {
                    Some(first) => first,
                    None => {
                        let mut b = if spare > 0 {
                            spare -= 1;
                            Vec::with_capacity(stream.part_len)
                        } else {
                            match free_rx.recv() {
                                Ok(b) => b,
                                Err(_) => break,
                            }
                        };
                        stream.fill(&mut b)?;
                        b
                    }
                };
                if part.is_empty() {
                    lock(&lf).end_stream()?;
                    break;
                }
                let full = part.len() == stream.part_len;
                let job = lock(&lf).push_part(part.len() as u64)?;
                if work_tx.send((job, part)).is_err() {
                    break;
                }
                if !full {
                    break;
                }
            }
            drop(work_tx);
            Ok(())
        });
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        produced
    }
}

/// The finished large file's version; for a key that may not read it back after a lost
/// finish answer (core confirmed the finish), what the upload knows of it.
fn finished(
    lf: &LargeFile<'_, '_>,
    buf: &[u8],
    remote: &str,
    size: u64,
    opts: &UploadOptions,
) -> Result<FileVersion> {
    match lf.file(buf) {
        Ok(f) => Ok(FileVersion::from_wire(&f)),
        Err(_) if lf.is_finished() => Ok(FileVersion::finished_unread(
            lf.file_id(),
            remote,
            size,
            &opts.content_type,
            opts.sha1,
        )),
        Err(e) => Err(e.into()),
    }
}

/// A stream being cut into parts: the first part already read, a byte read past it, the
/// rest of the reader.
struct Stream<R> {
    first: Vec<u8>,
    carry: Option<u8>,
    reader: R,
    part_len: usize,
}

impl<R: Read> Stream<R> {
    /// Fills `part` with the next part's bytes (fewer only at the end of the stream).
    fn fill(&mut self, part: &mut Vec<u8>) -> Result<()> {
        part.clear();
        if let Some(b) = self.carry.take() {
            part.push(b);
        }
        let start = part.len();
        part.resize(self.part_len, 0);
        let got = read_full_into(&mut self.reader, &mut part[start..])?;
        part.truncate(start + got);
        Ok(())
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fills `buf` as far as the stream goes; returns the bytes read.
fn read_full_into<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}
