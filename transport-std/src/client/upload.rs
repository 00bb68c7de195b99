//! Uploads: small files in one request, larger ones as large files in parallel parts read
//! straight from the source by offset; resumable; streams of unknown length through a fixed
//! pool of part buffers.

use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use b2_core::op::{FileParams, Source, UploadFile, UploadPart, UploadUrl};
use b2_core::validate::{self, PartPlan};
use b2_core::wire::file::GetFileInfo;
use b2_core::wire::large::{FinishLargeFile, ListParts, StartLargeFile};

use super::ahead::{hash_range, CloseOnDrop, HashAhead};
use super::{text, Client, ClientError, FileVersion, Progress, Result};

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
    /// Parallel part uploads (default 4), each with its own upload URL.
    pub threads: usize,
    /// `src_last_modified_millis` (set from the file's mtime by [`Client::upload_path`]).
    pub src_last_modified_millis: Option<u64>,
    /// Whole-file SHA-1 when known up front (sent as `large_file_sha1` for large files).
    pub sha1: Option<[u8; 20]>,
    /// Progress listener.
    pub progress: Option<Arc<dyn Progress>>,
    /// Large files from a path: hash each part on a thread of its own, ahead of sending
    /// it, and send its SHA-1 in the header, so that hashing and sending overlap on two
    /// cores (the part is read twice). `None` (default): when `threads` is below the
    /// number of cores.
    pub hash_ahead: Option<bool>,
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
            hash_ahead: None,
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
            .field("hash_ahead", &self.hash_ahead)
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
    fn add(&self, n: u64) {
        let d = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(p) = &self.progress {
            p.progress(self.total.map_or(d, |t| d.min(t)), self.total);
        }
    }
}

/// A file read by offset (`pread`), so parallel parts never share a cursor; counted for
/// progress unless it only hashes ahead.
struct FileSource<'a> {
    file: &'a fs::File,
    counter: Option<&'a Counter>,
}

#[cfg(unix)]
fn read_at(f: &fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
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

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parts already on the server: number → (length, SHA-1).
type ServerParts = BTreeMap<u32, (u64, Option<[u8; 20]>)>;

/// What a worker does with one part.
#[derive(Clone, Copy, Debug)]
enum PartJob {
    /// Send it.
    Send(u32),
    /// The server has a part with this SHA-1: check the local bytes, send only if different.
    Check(u32, [u8; 20]),
}

impl Client {
    /// Uploads a local file: one request up to the threshold, else a large file in parallel
    /// parts read by offset (never the whole file in memory). Re-uploading the same file
    /// (name, size, mtime) after an interruption resumes the unfinished large file, sending
    /// only the parts whose SHA-1 differs from the local data.
    pub fn upload_path(
        &self,
        bucket: &str,
        local: &Path,
        remote: &str,
        opts: &UploadOptions,
    ) -> Result<FileVersion> {
        validate::file_name(remote)?;
        let b = self.bucket(bucket)?;
        let file = fs::File::open(local).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", local.display()))
        })?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(ClientError::Config(format!(
                "not a file: {}",
                local.display()
            )));
        }
        let size = meta.len();
        let mut opts = opts.clone();
        if opts.src_last_modified_millis.is_none() {
            opts.src_last_modified_millis = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as u64);
        }
        let counter = Counter {
            done: AtomicU64::new(0),
            total: Some(size),
            progress: opts.progress.clone(),
        };
        // A large file needs two parts at least: a file that fits in one part (as
        // `upload_large` would plan them) goes up in one request whatever the threshold.
        let one_part = {
            let s = self.session();
            let part = opts.part_size.unwrap_or(s.recommended_part_size);
            validate::part_plan(size, part, s.min_part_size).is_ok_and(|p| p.count < 2)
        };
        if size <= validate::MAX_SMALL_FILE && (size <= opts.large_threshold || one_part) {
            return self.upload_small(
                &b.id,
                remote,
                size,
                FileSource {
                    file: &file,
                    counter: Some(&counter),
                },
                &opts,
            );
        }
        let make = || FileSource {
            file: &file,
            counter: Some(&counter),
        };
        let quiet = || FileSource {
            file: &file,
            counter: None,
        };
        self.upload_large(&b.id, remote, size, &make, Some(&quiet), &opts, true)
    }

    /// Uploads from any reader, of known or unknown length (stdin). Parts are read into a
    /// fixed pool of `threads` buffers of the part size, so memory stays at
    /// `threads × part size` whatever the stream's length.
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
        let counter = Counter {
            done: AtomicU64::new(0),
            total: None,
            progress: opts.progress.clone(),
        };
        let first_len = part_size.max(opts.large_threshold.min(validate::MAX_SMALL_FILE));
        let first = read_full(
            &mut reader,
            usize::try_from(first_len).unwrap_or(usize::MAX),
        )?;
        let mut probe = [0u8; 1];
        let more = read_full_into(&mut reader, &mut probe)? == 1;
        if !more {
            let src = MemSource {
                data: &first,
                counter: &counter,
            };
            return self.upload_small(&b.id, remote, first.len() as u64, src, opts);
        }
        self.upload_stream(
            &b.id, remote, part_size, first, probe[0], reader, &counter, opts,
        )
    }

    fn upload_small<S: Source>(
        &self,
        bucket_id: &str,
        remote: &str,
        size: u64,
        source: S,
        opts: &UploadOptions,
    ) -> Result<FileVersion> {
        let info: Vec<(&str, &str)> = opts
            .info
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut params = FileParams::new(bucket_id, remote, size);
        params.content_type = &opts.content_type;
        params.info = &info;
        params.src_last_modified_millis = opts.src_last_modified_millis;
        params.sha1 = opts.sha1;
        let url = self.take_idle_url(bucket_id);
        let mut s = self.session();
        let mut buf = vec![0u8; 16 * 1024];
        let mut op = UploadFile::new(&mut s, &mut buf, params, source, url)?
            .with_policy(self.retry_policy());
        let r = self.run(&mut op);
        let out = r.and_then(|_| Ok(FileVersion::from_wire(&op.file()?)));
        if out.is_ok() {
            if let Some(u) = op.take_upload_url() {
                self.give_idle_url(u);
            }
        }
        drop(op);
        self.store_session(s);
        out
    }

    fn take_idle_url(&self, for_id: &str) -> Option<UploadUrl> {
        let mut pool = self.idle_urls.lock().unwrap_or_else(|p| p.into_inner());
        let i = pool.iter().position(|u| u.for_id.as_str() == for_id)?;
        Some(pool.swap_remove(i))
    }

    fn give_idle_url(&self, u: UploadUrl) {
        let mut pool = self.idle_urls.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 16 {
            pool.push(u);
        }
    }

    fn start_large(&self, bucket_id: &str, remote: &str, opts: &UploadOptions) -> Result<String> {
        let mut info: Vec<(String, String)> = opts.info.clone();
        if let Some(ms) = opts.src_last_modified_millis {
            info.push(("src_last_modified_millis".into(), ms.to_string()));
        }
        if let Some(d) = opts.sha1 {
            info.push(("large_file_sha1".into(), hex(&d)));
        }
        let pairs: Vec<(&str, &str)> = info.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        validate::file_info(remote, pairs.iter().copied())?;
        validate::content_type(&opts.content_type)?;
        self.call(
            StartLargeFile {
                bucket_id,
                file_name: remote,
                content_type: &opts.content_type,
                file_info: &pairs,
            },
            |f| Ok(text(f.file_id)),
        )
    }

    /// Parts already on the server: number → (length, SHA-1).
    fn server_parts(&self, file_id: &str) -> Result<ServerParts> {
        let mut out = BTreeMap::new();
        let mut start = Some(1);
        while let Some(from) = start {
            start = self.call(
                ListParts {
                    file_id,
                    start_part_number: Some(from),
                    max_part_count: Some(1000),
                },
                |a| {
                    for p in a.parts {
                        let p = p.map_err(b2_core::Error::BadAnswer)?;
                        let sha = p
                            .content_sha1
                            .and_then(|t| b2_core::encoding::parse_sha1_hex(t.raw()));
                        out.insert(p.part_number, (p.content_length, sha));
                    }
                    Ok(a.next_part_number)
                },
            )?;
        }
        Ok(out)
    }

    /// An unfinished large file of the same name and mtime whose parts fit `plan`.
    fn resumable(
        &self,
        bucket_id: &str,
        remote: &str,
        plan: &PartPlan,
        opts: &UploadOptions,
    ) -> Result<Option<(String, ServerParts)>> {
        let want_ms = opts.src_last_modified_millis.map(|m| m.to_string());
        let mut candidates = Vec::new();
        for f in self.unfinished_id(bucket_id, remote) {
            let f = f?;
            let ms = f
                .info
                .iter()
                .find(|(k, _)| k == "src_last_modified_millis")
                .map(|(_, v)| v.clone());
            if f.file_name == remote && ms == want_ms && want_ms.is_some() {
                candidates.push(f);
            }
        }
        candidates.sort_by_key(|f| std::cmp::Reverse(f.upload_timestamp));
        for c in candidates {
            let parts = self.server_parts(&c.file_id)?;
            let fits = parts
                .iter()
                .all(|(&n, &(len, _))| n <= plan.count && plan.part_range(n).1 == len);
            if fits {
                return Ok(Some((c.file_id, parts)));
            }
        }
        Ok(None)
    }

    /// `hash_source` reads the same bytes as `make_source` without counting them for
    /// progress; with it, parts may be hashed ahead (see [`UploadOptions::hash_ahead`]).
    #[allow(clippy::too_many_arguments)]
    fn upload_large<S: Source>(
        &self,
        bucket_id: &str,
        remote: &str,
        size: u64,
        make_source: &(dyn Fn() -> S + Sync),
        hash_source: Option<&(dyn Fn() -> S + Sync)>,
        opts: &UploadOptions,
        resume: bool,
    ) -> Result<FileVersion> {
        let s = self.session();
        let part_size = opts.part_size.unwrap_or(s.recommended_part_size);
        let plan = validate::part_plan(size, part_size, s.min_part_size)?;
        if size > validate::MAX_LARGE_FILE || plan.count < 2 {
            return Err(b2_core::InvalidInput::FileSize.into());
        }
        let found = if resume {
            self.resumable(bucket_id, remote, &plan, opts)?
        } else {
            None
        };
        let (file_id, have) = match found {
            Some(f) => f,
            None => (self.start_large(bucket_id, remote, opts)?, BTreeMap::new()),
        };
        let jobs: VecDeque<PartJob> = (1..=plan.count)
            .map(|n| match have.get(&n) {
                Some((_, Some(sha))) => PartJob::Check(n, *sha),
                _ => PartJob::Send(n),
            })
            .collect();
        let threads = opts.threads.max(1);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hash_source = hash_source.filter(|_| opts.hash_ahead.unwrap_or(threads < cores));
        let digests = self.run_parts(&file_id, &plan, jobs, make_source, hash_source, threads)?;
        self.finish_large(&file_id, &digests)
    }

    fn run_parts<S: Source>(
        &self,
        file_id: &str,
        plan: &PartPlan,
        jobs: VecDeque<PartJob>,
        make_source: &(dyn Fn() -> S + Sync),
        hash_source: Option<&(dyn Fn() -> S + Sync)>,
        threads: usize,
    ) -> Result<Vec<[u8; 20]>> {
        // With a hashing source: the digests it computes ahead, in the order parts are sent.
        let ahead = hash_source.map(|src| {
            let to_send: Vec<u32> = jobs
                .iter()
                .filter_map(|j| match j {
                    PartJob::Send(n) => Some(*n),
                    PartJob::Check(..) => None,
                })
                .collect();
            (HashAhead::new(plan.count), src, to_send)
        });
        let queue = Mutex::new(jobs);
        let digests = Mutex::new(vec![[0u8; 20]; plan.count as usize]);
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<ClientError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            if let Some((ahead, hash_source, to_send)) = &ahead {
                let failed = &failed;
                scope.spawn(move || {
                    // Waiting senders fall back to hashing as they send if this stops early.
                    let _close = CloseOnDrop(ahead);
                    let mut src = hash_source();
                    let mut chunk = vec![0u8; 1 << 20];
                    for (k, &n) in to_send.iter().enumerate() {
                        // At most one part ahead of each sender, plus one.
                        if !ahead.room(k, threads + 1, failed) {
                            break;
                        }
                        let (offset, len) = plan.part_range(n);
                        let d = hash_range(&mut src, offset, len, &mut chunk).ok();
                        ahead.set(n, d);
                    }
                });
            }
            for _ in 0..threads.min(plan.count as usize) {
                scope.spawn(|| {
                    let mut s = self.session();
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut url: Option<UploadUrl> = None;
                    while !failed.load(Ordering::Relaxed) {
                        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                        let Some(job) = job else { break };
                        let r = self.one_part(
                            &mut s,
                            &mut buf,
                            &mut url,
                            file_id,
                            plan,
                            job,
                            make_source,
                            ahead.as_ref().map(|(a, _, _)| a),
                        );
                        match r {
                            Ok((n, d)) => {
                                if let Some(slot) = digests
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .get_mut(n as usize - 1)
                                {
                                    *slot = d;
                                }
                            }
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                first_error
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .get_or_insert(e);
                            }
                        }
                    }
                    self.store_session(s);
                });
            }
        });
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        Ok(digests.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    #[allow(clippy::too_many_arguments)]
    fn one_part<S: Source>(
        &self,
        s: &mut b2_core::session::Session,
        buf: &mut [u8],
        url: &mut Option<UploadUrl>,
        file_id: &str,
        plan: &PartPlan,
        job: PartJob,
        make_source: &(dyn Fn() -> S + Sync),
        ahead: Option<&HashAhead>,
    ) -> Result<(u32, [u8; 20])> {
        let (n, sha1) = match job {
            PartJob::Send(n) => (n, ahead.and_then(|a| a.wait(n))),
            PartJob::Check(n, sha) => {
                let (offset, len) = plan.part_range(n);
                let mut chunk = vec![0u8; 1 << 20];
                let d = hash_range(&mut make_source(), offset, len, &mut chunk)?;
                if d == sha {
                    return Ok((n, d));
                }
                // Different bytes: send them, with the digest just computed.
                (n, Some(d))
            }
        };
        let (offset, len) = plan.part_range(n);
        let mut op = UploadPart::new(s, buf, file_id, n, make_source(), offset, len, url.take())?
            .with_sha1(sha1)
            .with_policy(self.retry_policy());
        self.run(&mut op)?;
        *url = op.take_upload_url();
        Ok((n, op.sha1()))
    }

    fn finish_large(&self, file_id: &str, digests: &[[u8; 20]]) -> Result<FileVersion> {
        let r = self.call(
            FinishLargeFile {
                file_id,
                part_sha1s: digests,
            },
            |f| Ok(FileVersion::from_wire(&f)),
        );
        match r {
            Ok(f) => Ok(f),
            // The finish may have happened with its answer lost: ask.
            Err(e) => {
                match self.call(GetFileInfo { file_id }, |f| Ok(FileVersion::from_wire(&f))) {
                    Ok(f) if f.action == "upload" => Ok(f),
                    _ => Err(e),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn upload_stream<R: Read>(
        &self,
        bucket_id: &str,
        remote: &str,
        part_size: u64,
        first: Vec<u8>,
        next_byte: u8,
        mut reader: R,
        counter: &Counter,
        opts: &UploadOptions,
    ) -> Result<FileVersion> {
        let threads = opts.threads.max(1);
        let file_id = self.start_large(bucket_id, remote, opts)?;
        let part_len = usize::try_from(part_size).unwrap_or(usize::MAX);
        // The first read may be longer than a part (threshold > part size): cut it.
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let (work_tx, work_rx) = mpsc::sync_channel::<(u32, Vec<u8>)>(threads);
        let work_rx = Mutex::new(work_rx);
        let digests: Mutex<BTreeMap<u32, [u8; 20]>> = Mutex::new(BTreeMap::new());
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<ClientError>> = Mutex::new(None);
        let mut produced = 0u32;
        std::thread::scope(|scope| -> Result<()> {
            for _ in 0..threads {
                let free_tx = free_tx.clone();
                scope.spawn(|| {
                    let free_tx = free_tx;
                    let mut s = self.session();
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut url: Option<UploadUrl> = None;
                    loop {
                        let job = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok((n, data)) = job else { break };
                        if failed.load(Ordering::Relaxed) {
                            continue;
                        }
                        let src = MemSource {
                            data: &data,
                            counter,
                        };
                        let r = UploadPart::new(
                            &mut s,
                            &mut buf,
                            &file_id,
                            n,
                            src,
                            0,
                            data.len() as u64,
                            url.take(),
                        )
                        .map(|op| op.with_policy(self.retry_policy()))
                        .map_err(ClientError::from)
                        .and_then(|mut op| {
                            self.run(&mut op)?;
                            url = op.take_upload_url();
                            Ok(op.sha1())
                        });
                        match r {
                            Ok(d) => {
                                digests
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .insert(n, d);
                            }
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                first_error
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .get_or_insert(e);
                            }
                        }
                        let _ = free_tx.send(data);
                    }
                    self.store_session(s);
                });
            }
            drop(free_tx);
            // Producer: cut the stream into parts; at most `threads` part buffers exist
            // besides the first read.
            let mut pending: VecDeque<u8> = VecDeque::new();
            let mut first = first;
            let mut carry = Some(next_byte);
            let mut allocated = 0usize;
            let mut eof = false;
            let mut first_pos = 0usize;
            while !eof && !failed.load(Ordering::Relaxed) {
                let mut part = if allocated < threads {
                    allocated += 1;
                    Vec::with_capacity(part_len)
                } else {
                    match free_rx.recv() {
                        Ok(mut b) => {
                            b.clear();
                            b
                        }
                        Err(_) => break,
                    }
                };
                // Take from the first read, then the carried byte, then the reader.
                if first_pos < first.len() {
                    let take = (first.len() - first_pos).min(part_len);
                    part.extend_from_slice(&first[first_pos..first_pos + take]);
                    first_pos += take;
                    if first_pos == first.len() {
                        first = Vec::new();
                        first_pos = 0;
                    }
                }
                while part.len() < part_len {
                    if let Some(b) = carry.take() {
                        part.push(b);
                        continue;
                    }
                    if let Some(b) = pending.pop_front() {
                        part.push(b);
                        continue;
                    }
                    let room = part_len - part.len();
                    let start = part.len();
                    part.resize(part_len, 0);
                    let got = read_full_into(&mut reader, &mut part[start..start + room])?;
                    part.truncate(start + got);
                    if got < room {
                        eof = true;
                        break;
                    }
                }
                if part.is_empty() {
                    break;
                }
                produced += 1;
                if produced > validate::MAX_PARTS {
                    return Err(b2_core::InvalidInput::PartCount.into());
                }
                if work_tx.send((produced, part)).is_err() {
                    break;
                }
                if !eof && first.is_empty() && carry.is_none() {
                    // Peek one byte so a stream ending exactly on a part boundary stops here.
                    let mut one = [0u8; 1];
                    if read_full_into(&mut reader, &mut one)? == 0 {
                        eof = true;
                    } else {
                        carry = Some(one[0]);
                    }
                }
            }
            drop(work_tx);
            Ok(())
        })?;
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let digests = digests.into_inner().unwrap_or_else(|p| p.into_inner());
        let list: Vec<[u8; 20]> = (1..=produced)
            .filter_map(|n| digests.get(&n).copied())
            .collect();
        if list.len() != produced as usize {
            return Err(ClientError::Config("a part went missing".into()));
        }
        self.finish_large(&file_id, &list)
    }
}

/// Reads until `limit` bytes or the end of the stream.
fn read_full<R: Read>(r: &mut R, limit: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    r.take(limit as u64).read_to_end(&mut v)?;
    Ok(v)
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
