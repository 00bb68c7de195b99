//! Downloads to any `Write` or to a path (through a temporary file renamed only after the
//! SHA-1 check passed).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use std::time::Duration;

use b2_core::embedded_io;
use b2_core::error::BadAnswer;
use b2_core::http::{Headers, Request, TransportError};
use b2_core::op::{Abort, Download, DownloadInfo, Exchange, Operation, Step, Target};
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
/// in parallel. A whole download (no range) to a regular file starts as one GET of the
/// whole file; when its answer shows at least `threshold` bytes (and more than one range),
/// that stream keeps only the first `chunk` bytes and the other ranges of that version
/// (by the file id the answer gave) come on `threads` threads, each its own core
/// [`Download`], written in place; the whole file's SHA-1 is still checked, hashed in order
/// from memory as ranges land. No HEAD request: ranges cost one transaction (class B on B2)
/// each, the first one included. Memory: the ranges in flight, `threads × chunk` (at least
/// 64 MiB, at most 256 MiB), plus a few 1 MiB blocks per thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParallelDownload {
    /// Threads (1: always one stream; at most 64 are used).
    pub threads: usize,
    /// Smallest file downloaded in ranges, in bytes.
    pub threshold: u64,
    /// Size of each range, in bytes (the last one may be shorter).
    pub chunk: u64,
}

impl Default for ParallelDownload {
    /// 4 threads, files of 200 MB or more, ranges of 16 MiB.
    fn default() -> Self {
        ParallelDownload {
            threads: 4,
            threshold: 200_000_000,
            chunk: 16 << 20,
        }
    }
}

impl ParallelDownload {
    /// One stream, always.
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
    /// download (no `range`) to a regular file starts with a GET of the whole file and,
    /// when its answer shows `par.threshold` bytes or more, downloads the other ranges of
    /// that version in parallel into the temporary file, hashing them in order as they land.
    /// Blocks of a download of 16 MiB or more are written with direct I/O where the file
    /// system allows it (skipping the page cache), the rest through the page cache.
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
        let r = self.download_to_file(target, &file, range, progress, par, key);
        let r = r.and_then(|r| {
            if self.sync_downloads {
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

/// Bytes of one block: what a stream fills and hands to the disk writer, and what the
/// whole-file hash of a parallel download takes at a time.
const BLOCK: usize = 1 << 20;
/// Alignment of buffers, offsets and lengths for direct I/O (`O_DIRECT`).
const ALIGN: usize = 4096;
/// Blocks a one-stream download keeps between the stream and the disk writer.
const SINGLE_BLOCKS: usize = 8;
/// The smallest window of a parallel download, in bytes past the in-order hash's position:
/// streams fill blocks only within it (and wait for the hash otherwise), so that every
/// block is hashed from memory and memory stays bounded. The window is `threads × chunk`
/// within [`HELD`, `MAX_HELD`].
const HELD: u64 = 64 << 20;
/// The largest window.
const MAX_HELD: u64 = 256 << 20;
/// Downloads of at least this many bytes write their aligned blocks with direct I/O.
const DIRECT_MIN: u64 = 16 << 20;
/// Blocks only the stream at the in-order hash's position may take.
const FOR_THE_HASH: usize = 2;
/// Disk space reserved ahead of a one-stream download's writes, in steps of this many bytes.
const RESERVE: u64 = 64 << 20;
/// Most range threads of one download (more are not used).
const MAX_THREADS: usize = 64;

/// Allocates `len` bytes of `file` from `at` (growing its size), where the system can;
/// a refusal only costs speed.
#[cfg(target_os = "linux")]
fn reserve(file: &fs::File, at: u64, len: u64) {
    let _ = rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), at, len);
}

#[cfg(not(target_os = "linux"))]
fn reserve(_: &fs::File, _: u64, _: u64) {}

/// A second descriptor of `file` for direct I/O, where the system and file system allow it.
#[cfg(target_os = "linux")]
fn open_direct(file: &fs::File) -> Option<fs::File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    // The descriptor's own magic link: the same inode whatever happens to the path.
    let flags = i32::try_from(rustix::fs::OFlags::DIRECT.bits()).ok()?;
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(flags)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_: &fs::File) -> Option<fs::File> {
    None
}

#[cfg(target_os = "linux")]
fn is_einval(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error())
}

#[cfg(not(target_os = "linux"))]
fn is_einval(_: &io::Error) -> bool {
    false
}

/// A buffer of [`BLOCK`] bytes aligned for direct I/O, and how much of it is filled.
struct Block {
    v: Vec<u8>,
    start: usize,
    len: usize,
}

impl Block {
    fn new() -> Block {
        let v = vec![0u8; BLOCK + ALIGN];
        let start = v.as_ptr().align_offset(ALIGN).min(ALIGN);
        Block { v, start, len: 0 }
    }

    fn data(&self) -> &[u8] {
        self.v
            .get(self.start..self.start + self.len)
            .unwrap_or_default()
    }

    fn room(&mut self) -> &mut [u8] {
        self.v
            .get_mut(self.start + self.len..self.start + BLOCK)
            .unwrap_or_default()
    }
}

/// The temporary file, written with positioned writes: aligned blocks of a large download
/// through a direct-I/O descriptor (they skip the page cache: on the VM measured in
/// BENCHMARKS.md filling the page cache with a new file cost 1.6 s per GiB, direct writes
/// 0.5 s of mostly waiting), everything else (and everything, where direct I/O is refused)
/// through the page cache.
struct Disk<'f> {
    file: &'f fs::File,
    direct: Option<fs::File>,
    use_direct: AtomicBool,
}

impl<'f> Disk<'f> {
    fn new(file: &'f fs::File) -> Self {
        Disk {
            file,
            direct: open_direct(file),
            use_direct: AtomicBool::new(false),
        }
    }

    fn direct_for(&self, buf: &[u8], at: u64) -> Option<&fs::File> {
        let aligned = buf.as_ptr().align_offset(ALIGN) == 0
            && buf.len().is_multiple_of(ALIGN)
            && at.is_multiple_of(ALIGN as u64);
        if aligned && self.use_direct.load(Ordering::Relaxed) {
            self.direct.as_ref()
        } else {
            None
        }
    }

    /// Whether direct I/O failed for a reason the page cache does not have (the file
    /// system or device refuses it, or this alignment): then it is not tried again.
    fn refused(&self, e: &io::Error) -> bool {
        let refused = is_einval(e);
        if refused {
            self.use_direct.store(false, Ordering::Relaxed);
        }
        refused
    }

    fn write_at(&self, buf: &[u8], at: u64) -> io::Result<()> {
        if let Some(d) = self.direct_for(buf, at) {
            match d.write_all_at(buf, at) {
                Err(e) if self.refused(&e) => {}
                r => return r,
            }
        }
        self.file.write_all_at(buf, at)
    }
}

/// What the first answer said, once a download goes parallel.
#[derive(Clone, Debug)]
struct Meta {
    file_id: String,
    size: u64,
    sha1: Option<[u8; 20]>,
    src_last_modified_millis: Option<u64>,
    ranges: u64,
    chunk: u64,
}

/// Whether the first answer arrived, and what it decided.
enum Mode {
    Pending,
    Single,
    Parallel(Meta),
}

/// The part of [`Shared`] behind its lock.
struct State {
    mode: Mode,
    /// Blocks not in use, and how many exist (at most `cap`).
    free: Vec<Block>,
    allocated: usize,
    cap: usize,
    /// Bytes hashed in order so far (parallel).
    frontier: u64,
    /// Streams fill blocks only below `frontier + window` (parallel).
    window: u64,
    /// Written blocks waiting for the hash, by offset (parallel).
    held: BTreeMap<u64, Block>,
    /// Threads waiting in [`Shared::wait`].
    waiting: usize,
    /// Streams still running, and whether the disk writer ended.
    streams: usize,
    writer_done: bool,
}

/// What the streams, the disk writer and the hashing (calling) thread share.
struct Shared {
    failed: AtomicBool,
    error: Mutex<Option<ClientError>>,
    /// Bytes written to the file so far (for progress).
    landed: AtomicU64,
    /// Where the first stream stops (`u64::MAX`: at its end).
    first_stop: AtomicU64,
    /// The next range to hand out (range 0 is the first stream's).
    next: AtomicU64,
    state: Mutex<State>,
    changed: Condvar,
    /// The SSE-C key of the file, sent with every request, if any.
    key: Option<CustomerKey>,
}

impl Shared {
    fn new(streams: usize, key: Option<CustomerKey>) -> Self {
        Shared {
            key,
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            landed: AtomicU64::new(0),
            first_stop: AtomicU64::new(u64::MAX),
            next: AtomicU64::new(1),
            state: Mutex::new(State {
                mode: Mode::Pending,
                free: Vec::new(),
                allocated: 0,
                cap: SINGLE_BLOCKS,
                frontier: 0,
                window: u64::MAX,
                held: BTreeMap::new(),
                streams,
                writer_done: false,
                waiting: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a change (or 100 ms, for progress reports), counted so that a change
    /// nobody waits for wakes nobody.
    fn wait<'g>(
        &self,
        mut g: std::sync::MutexGuard<'g, State>,
    ) -> std::sync::MutexGuard<'g, State> {
        g.waiting += 1;
        let mut g = self
            .changed
            .wait_timeout(g, Duration::from_millis(100))
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
        g.waiting -= 1;
        g
    }

    /// Wakes the waiters, if any (call with the lock held).
    fn notify(&self, st: &State) {
        if st.waiting > 0 {
            self.changed.notify_all();
        }
    }

    fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Records the first error (before raising the flag, so that whoever sees the flag
    /// finds the error that caused it) and stops everyone.
    fn fail(&self, e: ClientError) {
        let mut first = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(e);
        }
        drop(first);
        self.failed.store(true, Ordering::Release);
        let _g = self.lock();
        self.changed.notify_all();
    }

    fn take_error(&self) -> Option<ClientError> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// A block to fill from offset `at`, once `at` is within the window: a free one, or a
    /// new one while fewer than `cap` exist, else the next one freed. The last
    /// [`FOR_THE_HASH`] blocks go only to the stream at the hash's position: the blocks
    /// waiting for the hash (small ones, with small ranges, can be many) wait for it, so
    /// it must never wait for them. `None` after a failure.
    fn take_block(&self, at: u64) -> Option<Block> {
        let mut st = self.lock();
        loop {
            if self.failed() {
                return None;
            }
            let in_use = st.allocated - st.free.len();
            let limit = if at <= st.frontier {
                st.cap
            } else {
                st.cap.saturating_sub(FOR_THE_HASH)
            };
            if at < st.frontier.saturating_add(st.window) && in_use < limit {
                if let Some(b) = st.free.pop() {
                    return Some(b);
                }
                st.allocated += 1;
                drop(st);
                return Some(Block::new());
            }
            st = self.wait(st);
        }
    }

    fn give_back(&self, mut b: Block) {
        b.len = 0;
        let mut st = self.lock();
        st.free.push(b);
        self.notify(&st);
    }

    /// A written block at `at`, for the in-order hash.
    fn offer(&self, at: u64, b: Block) {
        let mut st = self.lock();
        st.held.insert(at, b);
        if at == st.frontier {
            self.notify(&st);
        }
    }

    fn parallel(&self) -> bool {
        matches!(self.lock().mode, Mode::Parallel(_))
    }

    /// Waits for the first answer's decision; `None` after a failure.
    fn meta(&self) -> Option<Option<Meta>> {
        let mut st = self.lock();
        loop {
            if self.failed() {
                return None;
            }
            match &st.mode {
                Mode::Pending => st = self.wait(st),
                Mode::Single => return Some(None),
                Mode::Parallel(m) => return Some(Some(m.clone())),
            }
        }
    }
}

/// Counts a stream out when it ends, even by a panic.
struct Alive<'a>(&'a Shared);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.streams = st.streams.saturating_sub(1);
        self.0.notify(&st);
    }
}

/// A stream's sink: fills blocks and hands each full one (and the last) to the disk writer
/// with its offset. The first stream stops where [`Shared::first_stop`] says.
struct StreamSink<'s> {
    shared: &'s Shared,
    tx: mpsc::Sender<(u64, Block)>,
    /// File offset of the next byte.
    at: u64,
    block: Option<Block>,
    first: bool,
    /// The first stream reached its stop on purpose.
    stopped: bool,
}

impl StreamSink<'_> {
    /// Sends the block being filled to the writer.
    fn commit(&mut self) -> std::result::Result<(), embedded_io::ErrorKind> {
        if let Some(b) = self.block.take() {
            if b.len == 0 {
                self.shared.give_back(b);
            } else {
                let at = self.at - b.len as u64;
                if self.shared.parallel() {
                    // To the in-order hash, which hands it to the writer.
                    self.shared.offer(at, b);
                } else {
                    self.tx
                        .send((at, b))
                        .map_err(|_| embedded_io::ErrorKind::BrokenPipe)?;
                }
            }
        }
        Ok(())
    }
}

impl embedded_io::ErrorType for StreamSink<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Write for StreamSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::result::Result<usize, Self::Error> {
        if self.shared.failed() {
            // Another stream or the writer failed for good: stop this one too.
            return Err(embedded_io::ErrorKind::Interrupted);
        }
        let all = buf.len();
        let mut rest = buf;
        let mut cut = false;
        if self.first {
            let stop = self.shared.first_stop.load(Ordering::Acquire);
            let keep = stop.saturating_sub(self.at);
            if keep < rest.len() as u64 {
                rest = rest.get(..keep as usize).unwrap_or_default();
                cut = true;
            }
        }
        while !rest.is_empty() {
            let b = match &mut self.block {
                Some(b) => b,
                None => self.block.insert(
                    self.shared
                        .take_block(self.at)
                        .ok_or(embedded_io::ErrorKind::Interrupted)?,
                ),
            };
            let room = b.room();
            let n = room.len().min(rest.len());
            let (now, later) = rest.split_at(n);
            room.get_mut(..n).unwrap_or_default().copy_from_slice(now);
            b.len += n;
            let full = b.len == BLOCK;
            rest = later;
            self.at += n as u64;
            if full {
                self.commit()?;
            }
        }
        if cut {
            // The first stream's share is done: the ranges bring the rest.
            self.commit()?;
            self.stopped = true;
            return Err(embedded_io::ErrorKind::Other);
        }
        Ok(all)
    }

    fn flush(&mut self) -> std::result::Result<(), Self::Error> {
        self.commit()
    }
}

/// Runs a core [`Download`], telling `on_head` what the first success answer said before
/// its body is read.
struct Watch<'o, 's, 'b, 'a, W: embedded_io::Write, F: FnMut(&DownloadInfo)> {
    op: &'o mut Download<'s, 'b, 'a, W>,
    on_head: F,
    seen: bool,
}

impl<W: embedded_io::Write, F: FnMut(&DownloadInfo)> Exchange for Watch<'_, '_, '_, '_, W, F> {
    fn request(&mut self) -> std::result::Result<Request<'_>, Abort> {
        self.op.request()
    }

    fn body(&mut self, out: &mut [u8]) -> std::result::Result<usize, Abort> {
        self.op.body(out)
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> std::result::Result<(), Abort> {
        self.op.response(status, headers)?;
        if !self.seen && (200..300).contains(&status) && !self.op.info().file_id.as_str().is_empty()
        {
            self.seen = true;
            (self.on_head)(self.op.info());
        }
        Ok(())
    }

    fn response_body(&mut self, chunk: &[u8]) -> std::result::Result<(), Abort> {
        self.op.response_body(chunk)
    }

    fn response_end(&mut self) -> std::result::Result<(), Abort> {
        self.op.response_end()
    }
}

impl<W: embedded_io::Write, F: FnMut(&DownloadInfo)> Operation for Watch<'_, '_, '_, '_, W, F> {
    fn poll(&mut self, now_ms: u64) -> std::result::Result<Step, b2_core::Error> {
        self.op.poll(now_ms)
    }

    fn transport_failed(&mut self, error: TransportError, now_ms: u64) {
        self.op.transport_failed(error, now_ms);
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

/// What the first stream ended with.
struct First {
    info: DownloadInfo,
    written: u64,
}

impl Client {
    /// Downloads `target` (or its `range`) into `file`. The first request is a GET of the
    /// whole file (or the range): no HEAD first. Its answer tells the size; a whole file
    /// of at least `par.threshold` bytes (and more than one range) then goes parallel: the
    /// first stream keeps only its first `par.chunk` bytes and stops, the other ranges of
    /// that version come on `par.threads` threads, and this thread hashes the file in order
    /// from memory as blocks land (streams wait when they are a window ahead of it, so that
    /// nothing is read back). Otherwise the first
    /// stream is the whole download, checked by core as it arrives. Either way the streams
    /// fill blocks a disk-writer thread writes in place; a write error wins over the
    /// download's own error.
    fn download_to_file(
        &self,
        target: &DownloadTarget,
        file: &fs::File,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
        par: &ParallelDownload,
        key: Option<&CustomerKey>,
    ) -> Result<DownloadResult> {
        let threads = if range.is_none() {
            par.threads.clamp(1, MAX_THREADS)
        } else {
            1
        };
        let disk = Disk::new(file);
        let shared = Shared::new(threads, key.cloned());
        let (tx, rx) = mpsc::channel::<(u64, Block)>();
        let first = std::thread::scope(|scope| {
            let writer = scope.spawn(|| self.disk_writer(&disk, &shared, rx));
            let first = {
                let tx = tx.clone();
                let (shared, disk) = (&shared, &disk);
                scope.spawn(move || {
                    let _alive = Alive(shared);
                    self.first_stream(target, file, disk, range, par, shared, tx)
                })
            };
            for _ in 1..threads {
                let tx = tx.clone();
                let shared = &shared;
                scope.spawn(move || {
                    let _alive = Alive(shared);
                    self.range_worker(shared, tx);
                });
            }
            let digest = match self.watch_and_hash(&shared, tx, progress) {
                Ok(d) => d,
                Err(e) => {
                    shared.fail(e);
                    None
                }
            };
            let first = first.join().ok().flatten();
            if writer.join().is_err() {
                shared.fail(ClientError::from(io::Error::other(
                    "the file writer panicked",
                )));
            }
            first.map(|f| (f, digest))
        });
        if let Some(e) = shared.take_error() {
            return Err(e);
        }
        let Some((first, digest)) = first else {
            return Err(ClientError::from(io::Error::other(
                "a download thread stopped before its range was done",
            )));
        };
        let st = shared.lock();
        let r = match &st.mode {
            Mode::Parallel(m) => {
                let verified = match (m.sha1, digest) {
                    (Some(want), Some(got)) if want == got => true,
                    (Some(_), _) => return Err(b2_core::Error::Sha1Mismatch.into()),
                    (None, _) => false,
                };
                DownloadResult {
                    file_id: m.file_id.clone(),
                    file_size: m.size,
                    length: m.size,
                    sha1: m.sha1.map(|d| hex(&d)),
                    verified,
                    src_last_modified_millis: m.src_last_modified_millis,
                    ranges: m.ranges,
                }
            }
            _ => DownloadResult {
                file_id: first.info.file_id.as_str().to_owned(),
                file_size: first.info.file_size,
                length: first.written,
                sha1: first.info.sha1.map(|d| hex(&d)),
                verified: first.info.verified,
                src_last_modified_millis: first.info.src_last_modified_millis,
                ranges: 0,
            },
        };
        Ok(r)
    }

    /// Writes the blocks the streams (or, in a parallel download, the in-order hash) send,
    /// in place. A one-stream download's space is reserved ahead and trimmed to what
    /// arrived.
    fn disk_writer(&self, disk: &Disk<'_>, shared: &Shared, rx: mpsc::Receiver<(u64, Block)>) {
        let (mut end, mut reserved) = (0u64, 0u64);
        let mut parallel = None;
        for (at, b) in rx {
            if shared.failed() {
                shared.give_back(b);
                continue;
            }
            let par = *parallel.get_or_insert_with(|| shared.parallel());
            let to = at + b.len as u64;
            if !par && to > reserved {
                reserved = to + RESERVE;
                reserve(disk.file, at, reserved - at);
            }
            if let Err(e) = disk.write_at(b.data(), at) {
                shared.fail(e.into());
                shared.give_back(b);
                continue;
            }
            end = end.max(to);
            shared.landed.fetch_add(b.len as u64, Ordering::Relaxed);
            shared.give_back(b);
        }
        if reserved > end && !shared.failed() {
            // Give back what was reserved past the end.
            if let Err(e) = disk.file.set_len(end) {
                shared.fail(e.into());
            }
        }
        let mut st = shared.lock();
        st.writer_done = true;
        shared.notify(&st);
    }

    /// The first request: the whole file (or the range). When its answer makes the
    /// download parallel, only the first range is kept.
    #[allow(clippy::too_many_arguments)]
    fn first_stream(
        &self,
        target: &DownloadTarget,
        file: &fs::File,
        disk: &Disk<'_>,
        range: Option<(u64, u64)>,
        par: &ParallelDownload,
        shared: &Shared,
        tx: mpsc::Sender<(u64, Block)>,
    ) -> Option<First> {
        let mut s = self.session();
        let mut buf = vec![0u8; 8192];
        let t = match target {
            DownloadTarget::ById(id) => Target::ById(id),
            DownloadTarget::ByName { bucket, name } => Target::ByName { bucket, name },
        };
        let sink = StreamSink {
            shared,
            tx,
            at: 0,
            block: None,
            first: true,
            stopped: false,
        };
        let op = match Download::new(&mut s, &mut buf, t, sink) {
            Ok(op) => op.customer_key(shared.key.as_ref()),
            Err(e) => {
                shared.fail(e.into());
                return None;
            }
        };
        let op = match range {
            None => op,
            Some((a, b)) => match op.range(a, b) {
                Ok(op) => op,
                Err(e) => {
                    shared.fail(e.into());
                    return None;
                }
            },
        };
        let mut op = op.with_policy(self.retry_policy());
        let chunk = par.chunk.max(1);
        let threads = par.threads.clamp(1, MAX_THREADS);
        let on_head = |info: &DownloadInfo| {
            let size = info.file_size;
            let ranges = size.div_ceil(chunk);
            let parallel = range.is_none() && threads > 1 && size >= par.threshold && ranges > 1;
            if info.length >= DIRECT_MIN {
                disk.use_direct.store(true, Ordering::Relaxed);
            }
            let mut st = shared.lock();
            if parallel {
                reserve(file, 0, size);
                shared.first_stop.store(chunk, Ordering::Release);
                st.window = (threads as u64).saturating_mul(chunk).clamp(HELD, MAX_HELD);
                // Every block of the window, one being filled by each stream, and the
                // ones on their way to the disk.
                st.cap = usize::try_from(st.window / BLOCK as u64).unwrap_or(256) + 3 * threads + 2;
                st.mode = Mode::Parallel(Meta {
                    file_id: info.file_id.as_str().to_owned(),
                    size,
                    sha1: info.sha1,
                    src_last_modified_millis: info.src_last_modified_millis,
                    ranges,
                    chunk,
                });
            } else {
                st.mode = Mode::Single;
            }
            shared.notify(&st);
        };
        let mut w = Watch {
            op: &mut op,
            on_head,
            seen: false,
        };
        let r = self.run(&mut w);
        let info = op.info().clone();
        let written = op.bytes_written();
        let mut sink = op.into_sink();
        self.store_session(s);
        let stopped = sink.stopped;
        let flushed = sink.commit();
        match r {
            Ok(_) | Err(_) if stopped => {}
            Ok(_) => {}
            Err(e) => {
                shared.fail(e);
                return None;
            }
        }
        if flushed.is_err() {
            shared.fail(ClientError::from(io::Error::other(
                "the file writer stopped",
            )));
            return None;
        }
        if let Mode::Pending = shared.lock().mode {
            // Nothing was decided (no answer came): the streams waiting must not wait on.
            shared.fail(ClientError::from(io::Error::other(
                "no answer to the download",
            )));
        }
        Some(First { info, written })
    }

    /// Waits for the first answer; in a parallel download takes ranges from the queue and
    /// downloads each into place, until none is left or one failed.
    fn range_worker(&self, shared: &Shared, tx: mpsc::Sender<(u64, Block)>) {
        let Some(Some(meta)) = shared.meta() else {
            return;
        };
        let mut s = self.session();
        let mut buf = vec![0u8; 8192];
        while !shared.failed() {
            let k = shared.next.fetch_add(1, Ordering::Relaxed);
            if k >= meta.ranges {
                break;
            }
            let a = k * meta.chunk;
            let b = a.saturating_add(meta.chunk).min(meta.size) - 1;
            if let Err(e) = self.fetch_range(&mut s, &mut buf, &meta, (a, b), shared, &tx) {
                shared.fail(e);
                break;
            }
        }
        self.store_session(s);
    }

    /// Downloads bytes `a..=b` of the version `meta` describes into place.
    fn fetch_range(
        &self,
        s: &mut b2_core::session::Session,
        buf: &mut [u8],
        meta: &Meta,
        (a, b): (u64, u64),
        shared: &Shared,
        tx: &mpsc::Sender<(u64, Block)>,
    ) -> Result<()> {
        let sink = StreamSink {
            shared,
            tx: tx.clone(),
            at: a,
            block: None,
            first: false,
            stopped: false,
        };
        let mut op = Download::new(s, buf, Target::ById(&meta.file_id), sink)?
            .customer_key(shared.key.as_ref())
            .range(a, b)?
            .with_policy(self.retry_policy());
        self.run(&mut op)?;
        let i = op.info();
        let bad = i.file_id.as_str() != meta.file_id
            || i.file_size != meta.size
            || op.bytes_written() != b - a + 1;
        let mut sink = op.into_sink();
        if bad {
            return Err(b2_core::Error::BadAnswer(BadAnswer::Mismatch).into());
        }
        sink.commit()
            .map_err(|_| ClientError::from(io::Error::other("the file writer stopped")))
    }

    /// Reports progress until every stream and the writer ended; in a parallel download
    /// also hashes the file in order as its blocks land, from memory, and hands each block
    /// to the disk writer after. Returns the digest of a parallel download with a SHA-1 to
    /// check, else `None`.
    fn watch_and_hash(
        &self,
        shared: &Shared,
        tx: mpsc::Sender<(u64, Block)>,
        progress: Option<&dyn Progress>,
    ) -> Result<Option<[u8; 20]>> {
        let report = |total: Option<u64>| {
            if let Some(p) = progress {
                p.progress(shared.landed.load(Ordering::Relaxed), total);
            }
        };
        let meta = match shared.meta() {
            Some(Some(m)) => m,
            _ => {
                // One stream (or a failure): wait for the end, reporting progress.
                drop(tx);
                let mut st = shared.lock();
                while !(st.streams == 0 && st.writer_done) {
                    st = shared.wait(st);
                    report(None);
                }
                drop(st);
                report(None);
                return Ok(None);
            }
        };
        let hash = meta.sha1.is_some();
        let mut hasher = Sha1::new();
        loop {
            // The block at the hash's position, or `None` when the whole file is hashed.
            let next = {
                let mut st = shared.lock();
                loop {
                    if shared.failed() {
                        return Ok(None);
                    }
                    let f = st.frontier;
                    if f >= meta.size {
                        break None;
                    }
                    if let Some(b) = st.held.remove(&f) {
                        break Some((f, b));
                    }
                    if st.streams == 0 && st.writer_done {
                        // Every thread ended, yet bytes are missing (a thread panicked).
                        return Err(ClientError::from(io::Error::other(
                            "a download thread stopped before its range was done",
                        )));
                    }
                    st = shared.wait(st);
                    report(Some(meta.size));
                }
            };
            let Some((at, b)) = next else {
                break;
            };
            if hash {
                hasher.update(b.data());
            }
            let n = b.len as u64;
            tx.send((at, b))
                .map_err(|_| io::Error::other("the file writer stopped"))?;
            let mut st = shared.lock();
            st.frontier += n;
            shared.notify(&st);
            drop(st);
            report(Some(meta.size));
        }
        // The writer and the streams end on their own once every range is written.
        drop(tx);
        let mut st = shared.lock();
        while !(st.streams == 0 && st.writer_done) {
            st = shared.wait(st);
        }
        drop(st);
        report(Some(meta.size));
        Ok(hash.then(|| hasher.finalize().into()))
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
