//! Downloads to any `Write` or to a path (through a temporary file renamed only after the
//! SHA-1 check passed).

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use std::time::Duration;

use b2_core::embedded_io;
use b2_core::error::BadAnswer;
use b2_core::op::{Download, Target};
use b2_core::wire::encryption::CustomerKey;
use sha1::{Digest, Sha1};

use super::{Client, ClientError, Progress, Result};

/// What to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownloadTarget {
    /// A file version by id.
    ById(String),
    /// The latest version of a name.
    ByName {
        /// Bucket name.
        bucket: String,
        /// File name.
        name: String,
    },
}

/// What a download did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadResult {
    /// Version downloaded.
    pub file_id: String,
    /// Size of the whole file.
    pub file_size: u64,
    /// Bytes written.
    pub length: u64,
    /// The whole-file SHA-1 the server announced, hex.
    pub sha1: Option<String>,
    /// Whether the bytes were checked against it (whole downloads with a known SHA-1).
    pub verified: bool,
    /// The source's modification time B2 keeps (`src_last_modified_millis`), restored on
    /// the file by [`Client::download_to_path`].
    pub src_last_modified_millis: Option<u64>,
    /// Ranges downloaded in parallel (0: the file came as one stream).
    pub ranges: u64,
}

/// How [`Client::download_to_path_with`] splits a whole file into byte ranges downloaded
/// in parallel. A whole download (no range) to a regular file of at least `threshold` bytes
/// is fetched as ranges of `chunk` bytes by `threads` threads, each range its own core
/// [`Download`] of the same file version (by the id a first HEAD request answered), written
/// in place; the whole file's SHA-1 is still checked. The HEAD request is one more
/// transaction (class B on B2) for every whole download with more than one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParallelDownload {
    /// Threads (1: always one stream, and no HEAD request first; at most 64 are used).
    pub threads: usize,
    /// Smallest file downloaded in ranges, in bytes.
    pub threshold: u64,
    /// Size of each range, in bytes (the last one may be shorter).
    pub chunk: u64,
}

impl Default for ParallelDownload {
    /// 4 threads, files of 200 MB or more, ranges of 32 MiB.
    fn default() -> Self {
        ParallelDownload {
            threads: 4,
            threshold: 200_000_000,
            chunk: 32 << 20,
        }
    }
}

impl ParallelDownload {
    /// One stream, always (no HEAD request first).
    pub fn single() -> Self {
        ParallelDownload {
            threads: 1,
            ..Self::default()
        }
    }
}

struct IoSink<'p, W: Write> {
    w: W,
    done: u64,
    progress: Option<&'p dyn Progress>,
}

impl<W: Write> embedded_io::ErrorType for IoSink<'_, W> {
    type Error = embedded_io::ErrorKind;
}

impl<W: Write> embedded_io::Write for IoSink<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::result::Result<usize, Self::Error> {
        self.w
            .write_all(buf)
            .map_err(|_| embedded_io::ErrorKind::Other)?;
        self.done += buf.len() as u64;
        if let Some(p) = self.progress {
            p.progress(self.done, None);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::result::Result<(), Self::Error> {
        self.w.flush().map_err(|_| embedded_io::ErrorKind::Other)
    }
}

/// Blocks of this size go to the writer thread, [`BLOCKS`] of them in flight.
const BLOCK: usize = 256 << 10;
const BLOCKS: usize = 8;
/// The writer thread's write size. On Linux 6.18 (ext4, a Firecracker VM) writes of 32 KiB
/// filled the page cache 2–4× faster than writes of 256 KiB or 1 MiB, whose large folios
/// came from memory the host had to fault in again; rclone writes 32 KiB too.
const WRITE: usize = 32 << 10;

/// A `Write` that fills blocks and hands them to a writer thread, so that the disk write of
/// one block overlaps receiving and hashing the next. Empty blocks come back for reuse.
struct BlockWriter {
    full: mpsc::SyncSender<Vec<u8>>,
    empty: mpsc::Receiver<Vec<u8>>,
    cur: Vec<u8>,
}

/// Disk space reserved ahead of the writes, in steps of this many bytes.
const RESERVE: u64 = 64 << 20;

/// Allocates `len` bytes of `file` from `at` (growing its size), where the system can;
/// a refusal only costs speed.
#[cfg(target_os = "linux")]
fn reserve(file: &fs::File, at: u64, len: u64) {
    let _ = rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), at, len);
}

#[cfg(not(target_os = "linux"))]
fn reserve(_: &fs::File, _: u64, _: u64) {}

fn writer_gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the file writer stopped")
}

impl Write for BlockWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.cur.len());
        self.cur.extend_from_slice(buf.get(..n).unwrap_or_default());
        if self.cur.len() == BLOCK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.cur.is_empty() {
            return Ok(());
        }
        let next = self.empty.recv().map_err(|_| writer_gone())?;
        let full = std::mem::replace(&mut self.cur, next);
        self.full.send(full).map_err(|_| writer_gone())
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Client {
    /// Downloads `target` (or the inclusive byte `range` of it) into `w`. A whole download is
    /// checked against the server's SHA-1; on a mismatch the error comes after the bytes
    /// were written, so write to a path (or a buffer) when that matters.
    pub fn download_to_writer<W: Write>(
        &self,
        target: &DownloadTarget,
        w: W,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
    ) -> Result<DownloadResult> {
        self.download_to_writer_keyed(target, w, range, progress, None)
    }

    /// [`Client::download_to_writer`] sending an SSE-C key (see `client/retention.rs`).
    pub(crate) fn download_to_writer_keyed<W: Write>(
        &self,
        target: &DownloadTarget,
        w: W,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
        key: Option<&CustomerKey>,
    ) -> Result<DownloadResult> {
        let mut s = self.session();
        let mut buf = vec![0u8; 8192];
        let t = match target {
            DownloadTarget::ById(id) => Target::ById(id),
            DownloadTarget::ByName { bucket, name } => Target::ByName { bucket, name },
        };
        let sink = IoSink {
            w,
            done: 0,
            progress,
        };
        let mut op = Download::new(&mut s, &mut buf, t, sink)?
            .customer_key(key)
            .with_policy(self.retry_policy());
        if let Some((a, b)) = range {
            op = op.range(a, b)?;
        }
        let r = self.run(&mut op);
        let info = op.info().clone();
        let mut sink = op.into_sink();
        self.store_session(s);
        r?;
        sink.w.flush()?;
        Ok(DownloadResult {
            file_id: info.file_id.as_str().to_owned(),
            file_size: info.file_size,
            length: sink.done,
            sha1: info.sha1.map(|d| hex(&d)),
            verified: info.verified,
            src_last_modified_millis: info.src_last_modified_millis,
            ranges: 0,
        })
    }

    /// Downloads into `file` with the disk writes on a second thread ([`BLOCKS`] blocks of
    /// [`BLOCK`] bytes in flight); a write error wins over the download's own error.
    fn download_to_file(
        &self,
        target: &DownloadTarget,
        file: &fs::File,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
        key: Option<&CustomerKey>,
    ) -> Result<DownloadResult> {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(BLOCKS);
        let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BLOCKS);
        for _ in 1..BLOCKS {
            let _ = empty_tx.send(Vec::with_capacity(BLOCK));
        }
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || -> io::Result<()> {
                let mut f = file;
                let (mut at, mut reserved) = (0u64, 0u64);
                for mut block in full_rx {
                    let end = at + block.len() as u64;
                    if end > reserved {
                        reserved = end + RESERVE;
                        reserve(file, at, reserved - at);
                    }
                    for piece in block.chunks(WRITE) {
                        f.write_all(piece)?;
                    }
                    at = end;
                    block.clear();
                    let _ = empty_tx.send(block);
                }
                if reserved > at {
                    file.set_len(at)?; // give back what was reserved past the end
                }
                Ok(())
            });
            let w = BlockWriter {
                full: full_tx,
                empty: empty_rx,
                cur: Vec::with_capacity(BLOCK),
            };
            let r = self.download_to_writer_keyed(target, w, range, progress, key);
            match writer.join() {
                Ok(Ok(())) => r,
                Ok(Err(e)) => Err(e.into()),
                Err(_) => Err(ClientError::from(io::Error::other(
                    "the file writer panicked",
                ))),
            }
        })
    }

    /// Downloads to `path` through a temporary file in the same folder, renamed into place
    /// only after the whole download arrived and its SHA-1 matched; on any failure nothing
    /// is left behind. The temporary file has an unpredictable name and is created
    /// exclusively (an existing file or a planted link of that name is never opened), and is
    /// listed for [`remove_temp_files`] until it is renamed or removed. A `path` that exists
    /// and is not a regular file (a device, a FIFO) is written to directly and never
    /// replaced; a directory is refused. A whole file of 200 MB or more comes in ranges on
    /// 4 threads ([`ParallelDownload::default`]; choose with [`Client::download_to_path_with`]).
    pub fn download_to_path(
        &self,
        target: &DownloadTarget,
        path: &Path,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
    ) -> Result<DownloadResult> {
        self.download_to_path_with(target, path, range, progress, &ParallelDownload::default())
    }

    /// [`Client::download_to_path`] with the parallel ranges chosen by `par`: a whole
    /// download (no `range`) to a regular file first asks for the file's size with HEAD
    /// (unless `par.threads` is 1) and, from `par.threshold` bytes, downloads ranges of that
    /// version in parallel into the temporary file, hashing them in order as they land.
    pub fn download_to_path_with(
        &self,
        target: &DownloadTarget,
        path: &Path,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
        par: &ParallelDownload,
    ) -> Result<DownloadResult> {
        self.download_to_path_keyed(target, path, range, progress, par, None)
    }

    /// [`Client::download_to_path_with`] sending an SSE-C key (see `client/retention.rs`).
    pub(crate) fn download_to_path_keyed(
        &self,
        target: &DownloadTarget,
        path: &Path,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
        par: &ParallelDownload,
        key: Option<&CustomerKey>,
    ) -> Result<DownloadResult> {
        if let Ok(m) = fs::metadata(path) {
            if m.is_dir() {
                return Err(ClientError::Config(format!(
                    "{} is a directory",
                    path.display()
                )));
            }
            if !m.is_file() {
                let w = fs::OpenOptions::new().write(true).open(path).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot write to {}: {e}", path.display()))
                })?;
                return self.download_to_writer_keyed(target, w, range, progress, key);
            }
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = path
            .file_name()
            .ok_or_else(|| ClientError::Config(format!("not a file path: {}", path.display())))?;
        let (tmp, file) = create_temp(&dir, &base.to_string_lossy())?;
        let r = if range.is_none() && par.threads > 1 {
            self.download_parallel(target, &file, progress, par, key)
        } else {
            self.download_to_file(target, &file, range, progress, key)
        };
        let r = r.and_then(|r| {
            if self
                .sync_downloads
                .load(std::sync::atomic::Ordering::Relaxed)
            {
                file.sync_all()?;
            }
            // A whole file gets its source's modification time back, so that a sync right
            // after a restore finds nothing changed.
            if let (None, Some(ms)) = (range, r.src_last_modified_millis) {
                let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
                file.set_modified(t)?;
            }
            fs::rename(&tmp, path)?;
            Ok(r)
        });
        if r.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        forget_temp(&tmp);
        r
    }
}

/// A sink writing a range's bytes in place, at its offset in the file.
struct AtSink<'f> {
    file: &'f fs::File,
    at: u64,
    shared: &'f Shared,
}

impl embedded_io::ErrorType for AtSink<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Write for AtSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::result::Result<usize, Self::Error> {
        if self.shared.failed.load(Ordering::Relaxed) {
            // Another range failed for good: stop this one too.
            return Err(embedded_io::ErrorKind::Interrupted);
        }
        self.file
            .write_all_at(buf, self.at)
            .map_err(|_| embedded_io::ErrorKind::Other)?;
        self.at += buf.len() as u64;
        self.shared
            .landed
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::result::Result<(), Self::Error> {
        Ok(())
    }
}

/// What the range threads and the hashing thread share.
struct Shared {
    /// The next range to hand out.
    next: AtomicU64,
    /// Bytes written so far (for progress).
    landed: AtomicU64,
    /// A range failed for good.
    failed: AtomicBool,
    /// Range threads still running.
    alive: AtomicUsize,
    /// The first error.
    error: Mutex<Option<ClientError>>,
    /// Ranges finished.
    done: Mutex<Finished>,
    changed: Condvar,
    /// The SSE-C key of the file, if any.
    key: Option<CustomerKey>,
}

/// Finished ranges: all those below `prefix`, and the ones past it that finished early.
struct Finished {
    prefix: u64,
    early: BTreeSet<u64>,
}

impl Shared {
    fn fail(&self, e: ClientError) {
        self.failed.store(true, Ordering::Relaxed);
        let mut first = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(e);
        }
        drop(first);
        self.changed.notify_all();
    }

    fn finished(&self, k: u64) {
        let mut d = self.done.lock().unwrap_or_else(|p| p.into_inner());
        d.early.insert(k);
        let d = &mut *d;
        while d.early.remove(&d.prefix) {
            d.prefix += 1;
        }
        self.changed.notify_all();
    }
}

/// Counts a range thread out when it ends, even by a panic.
struct Alive<'a>(&'a Shared);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::Release);
        self.0.changed.notify_all();
    }
}

/// Most range threads of one download (more are not used).
const MAX_THREADS: usize = 64;

/// Bytes the hashing thread reads back at a time.
const HASH_READ: usize = 1 << 20;

impl Client {
    /// A whole download into `file`: HEAD first; below `par.threshold` one stream of that
    /// version, else its ranges on `par.threads` threads, hashed in order as they land.
    fn download_parallel(
        &self,
        target: &DownloadTarget,
        file: &fs::File,
        progress: Option<&dyn Progress>,
        par: &ParallelDownload,
        key: Option<&CustomerKey>,
    ) -> Result<DownloadResult> {
        let info = {
            let mut s = self.session();
            let mut buf = vec![0u8; 8192];
            let t = match target {
                DownloadTarget::ById(id) => Target::ById(id),
                DownloadTarget::ByName { bucket, name } => Target::ByName { bucket, name },
            };
            let sink = IoSink {
                w: io::sink(),
                done: 0,
                progress: None,
            };
            let mut op = Download::new(&mut s, &mut buf, t, sink)?
                .head_only()
                .customer_key(key)
                .with_policy(self.retry_policy());
            let r = self.run(&mut op);
            let info = op.info().clone();
            drop(op);
            self.store_session(s);
            r?;
            info
        };
        let id = DownloadTarget::ById(info.file_id.as_str().to_owned());
        let size = info.file_size;
        let chunk = par.chunk.max(1);
        if size == 0 || size < par.threshold {
            return self.download_to_file(&id, file, None, progress, key);
        }
        let ranges = size.div_ceil(chunk);
        let threads = par
            .threads
            .min(MAX_THREADS)
            .min(usize::try_from(ranges).unwrap_or(usize::MAX));
        reserve(file, 0, size);
        let shared = Shared {
            next: AtomicU64::new(0),
            landed: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            alive: AtomicUsize::new(threads),
            error: Mutex::new(None),
            done: Mutex::new(Finished {
                prefix: 0,
                early: BTreeSet::new(),
            }),
            changed: Condvar::new(),
            key: key.cloned(),
        };
        let file_id = info.file_id.as_str();
        let digest = std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let _alive = Alive(&shared);
                    self.range_worker(file_id, file, size, chunk, ranges, &shared);
                });
            }
            let r = self.hash_as_landing(
                file,
                size,
                chunk,
                ranges,
                info.sha1.is_some(),
                &shared,
                progress,
            );
            r.unwrap_or_else(|e| {
                shared.fail(e);
                None
            })
        });
        if let Some(e) = shared
            .error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(e);
        }
        let verified = match (info.sha1, digest) {
            (Some(want), Some(got)) if want == got => true,
            (Some(_), _) => return Err(b2_core::Error::Sha1Mismatch.into()),
            (None, _) => false,
        };
        Ok(DownloadResult {
            file_id: file_id.to_owned(),
            file_size: size,
            length: size,
            sha1: info.sha1.map(|d| hex(&d)),
            verified,
            src_last_modified_millis: info.src_last_modified_millis,
            ranges,
        })
    }

    /// Takes ranges from the queue and downloads each into place, until none is left or
    /// one failed.
    fn range_worker(
        &self,
        file_id: &str,
        file: &fs::File,
        size: u64,
        chunk: u64,
        ranges: u64,
        shared: &Shared,
    ) {
        let mut s = self.session();
        let mut buf = vec![0u8; 8192];
        while !shared.failed.load(Ordering::Relaxed) {
            let k = shared.next.fetch_add(1, Ordering::Relaxed);
            if k >= ranges {
                break;
            }
            let a = k * chunk;
            let b = a.saturating_add(chunk).min(size) - 1;
            let r = self.fetch_range(&mut s, &mut buf, file_id, file, size, (a, b), shared);
            match r {
                Ok(()) => shared.finished(k),
                Err(e) => {
                    shared.fail(e);
                    break;
                }
            }
        }
        self.store_session(s);
    }

    /// Downloads bytes `a..=b` of version `file_id` into place in `file`.
    #[allow(clippy::too_many_arguments)]
    fn fetch_range(
        &self,
        s: &mut b2_core::session::Session,
        buf: &mut [u8],
        file_id: &str,
        file: &fs::File,
        size: u64,
        (a, b): (u64, u64),
        shared: &Shared,
    ) -> Result<()> {
        let sink = AtSink {
            file,
            at: a,
            shared,
        };
        let mut op = Download::new(s, buf, Target::ById(file_id), sink)?
            .customer_key(shared.key.as_ref())
            .range(a, b)?
            .with_policy(self.retry_policy());
        self.run(&mut op)?;
        let i = op.info();
        if i.file_id.as_str() != file_id || i.file_size != size || op.bytes_written() != b - a + 1 {
            return Err(b2_core::Error::BadAnswer(BadAnswer::Mismatch).into());
        }
        Ok(())
    }

    /// Reports progress as bytes land and, when `hash`, reads the file back in order as
    /// its ranges finish (from the page cache, while later ranges still arrive) and hashes
    /// it. Returns the digest once every range finished, `None` without `hash` or after a
    /// failure.
    #[allow(clippy::too_many_arguments)]
    fn hash_as_landing(
        &self,
        file: &fs::File,
        size: u64,
        chunk: u64,
        ranges: u64,
        hash: bool,
        shared: &Shared,
        progress: Option<&dyn Progress>,
    ) -> Result<Option<[u8; 20]>> {
        let mut hasher = Sha1::new();
        let mut buf = if hash {
            vec![0u8; HASH_READ]
        } else {
            Vec::new()
        };
        let mut hashed = 0u64;
        loop {
            let (prefix, stopped) = {
                let mut d = shared.done.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    let stopped = shared.failed.load(Ordering::Relaxed)
                        || shared.alive.load(Ordering::Acquire) == 0;
                    if stopped || d.prefix.saturating_mul(chunk).min(size) > hashed {
                        break (d.prefix, stopped);
                    }
                    d = shared
                        .changed
                        .wait_timeout(d, Duration::from_millis(100))
                        .map(|(d, _)| d)
                        .unwrap_or_else(|p| p.into_inner().0);
                    if let Some(p) = progress {
                        p.progress(shared.landed.load(Ordering::Relaxed), Some(size));
                    }
                }
            };
            if let Some(p) = progress {
                p.progress(shared.landed.load(Ordering::Relaxed), Some(size));
            }
            if shared.failed.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let ready = prefix.saturating_mul(chunk).min(size);
            if hash {
                while hashed < ready {
                    let n = usize::try_from(ready - hashed).map_or(buf.len(), |r| r.min(buf.len()));
                    let piece = buf.get_mut(..n).unwrap_or_default();
                    file.read_exact_at(piece, hashed)?;
                    hasher.update(&*piece);
                    hashed += n as u64;
                }
            } else {
                hashed = ready;
            }
            if prefix >= ranges {
                return Ok(hash.then(|| hasher.finalize().into()));
            }
            if stopped && prefix < ranges {
                // Every thread ended, yet ranges are missing (a thread panicked).
                return Err(ClientError::from(io::Error::other(
                    "a download thread stopped before its range was done",
                )));
            }
        }
    }
}

/// Temporary files of downloads in progress, for [`remove_temp_files`].
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes the temporary files of the downloads in progress. Call it from a signal
/// handler's thread (b2ctl does on Ctrl-C and SIGTERM) before exiting, so that an
/// interrupted download leaves nothing behind.
pub fn remove_temp_files() {
    let mut list = TEMP_FILES.lock().unwrap_or_else(|p| p.into_inner());
    for p in list.drain(..) {
        let _ = fs::remove_file(p);
    }
}

fn forget_temp(p: &Path) {
    let mut list = TEMP_FILES.lock().unwrap_or_else(|p| p.into_inner());
    list.retain(|q| q != p);
}

/// Creates `DIR/.BASE.b2tmp-RANDOM` exclusively (`O_CREAT | O_EXCL`: an existing file or a
/// link of that name is an error, never followed) and lists it for [`remove_temp_files`].
fn create_temp(dir: &Path, base: &str) -> Result<(PathBuf, fs::File)> {
    use std::hash::{BuildHasher, Hasher};
    let mut last = None;
    for _ in 0..16 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let tmp = dir.join(format!(".{base}.b2tmp-{:016x}", h.finish()));
        let mut list = TEMP_FILES.lock().unwrap_or_else(|p| p.into_inner());
        match fs::OpenOptions::new()
            .read(true) // the parallel download hashes what it wrote
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => {
                list.push(tmp.clone());
                return Ok((tmp, f));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot write into {}: {e}", dir.display()),
                )
                .into())
            }
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::other("no free temporary name"))
        .into())
}
