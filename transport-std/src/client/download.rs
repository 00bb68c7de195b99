//! Downloads to any `Write` or to a path (through a temporary file renamed only after the
//! SHA-1 check passed).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};

use b2_core::embedded_io;
use b2_core::op::{Download, Target};

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
        let mut op = Download::new(&mut s, &mut buf, t, sink)?.with_policy(self.retry_policy());
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
            let r = self.download_to_writer(target, w, range, progress);
            match writer.join() {
                Ok(Ok(())) => r,
                Ok(Err(e)) => Err(e.into()),
                Err(_) => Err(ClientError::Io(io::Error::other(
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
    /// replaced; a directory is refused.
    pub fn download_to_path(
        &self,
        target: &DownloadTarget,
        path: &Path,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
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
                return self.download_to_writer(target, w, range, progress);
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
        let r = self.download_to_file(target, &file, range, progress);
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
