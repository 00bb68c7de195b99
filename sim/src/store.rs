//! Where file bytes live: in memory (shared `Bytes` blocks of 1 MiB, recycled through a
//! [`BlockPool`]) or in files under `data_dir/blobs`.
//!
//! Every upload or part becomes one immutable *blob*. Stored files are lists of *segments*
//! (a blob, an offset, a length), so finishing a large file or copying a range never copies
//! bytes.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// One upload's bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Blob {
    /// Unique id (the file name under `blobs/` on disk).
    pub id: u64,
    /// Length in bytes.
    pub len: u64,
    /// The bytes, when stored in memory.
    #[serde(skip)]
    pub mem: Option<Arc<Vec<Bytes>>>,
}

/// A range of a blob.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Segment {
    /// The blob.
    pub blob: Blob,
    /// First byte within the blob.
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
}

/// Total length of some content.
pub(crate) fn content_len(content: &[Segment]) -> u64 {
    content.iter().map(|s| s.len).sum()
}

/// The sub-range `start..start+len` of some content.
pub(crate) fn slice(content: &[Segment], start: u64, len: u64) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut pos = 0u64;
    let end = start + len;
    for s in content {
        let s_end = pos + s.len;
        if s_end > start && pos < end {
            let from = start.max(pos);
            let to = end.min(s_end);
            out.push(Segment {
                blob: s.blob.clone(),
                offset: s.offset + (from - pos),
                len: to - from,
            });
        }
        pos = s_end;
        if pos >= end {
            break;
        }
    }
    out
}

/// A piece of an answer body.
#[derive(Debug)]
pub(crate) enum Piece {
    /// Bytes already in memory.
    Mem(Bytes),
    /// A range of a file on disk.
    Disk {
        /// File path.
        path: PathBuf,
        /// Offset in the file.
        offset: u64,
        /// Bytes left.
        len: u64,
    },
}

/// Size of the blocks that in-memory blobs are stored in.
const BLOCK: usize = 1 << 20;
/// Most memory kept in the pool for reuse (blocks of deleted blobs beyond it are freed).
const POOL_KEEP: usize = 1 << 30;
/// How long the pool keeps blocks nobody takes: after this long without an upload taking a
/// block, every pooled block is freed.
pub(crate) const POOL_IDLE: Duration = Duration::from_secs(1);

/// Blocks of deleted in-memory blobs, kept for new uploads while uploads keep coming.
/// Reusing memory the process already has spares the kernel faulting in and zeroing fresh
/// pages, which on a small VM costs as much as hashing the same bytes. The pool only ever
/// holds blocks that stored data before, so it never grows past the largest amount stored
/// at once (and `POOL_KEEP`); and a trimmer thread ([`BlockPool::start_trimmer`]) frees it
/// once no upload has taken a block for [`POOL_IDLE`], so the memory of deleted data goes back
/// to the allocator (and from it, freed at the top of its heaps, to the system).
#[derive(Debug, Default)]
pub(crate) struct BlockPool {
    free: Mutex<Vec<BlockMem>>,
    /// Blocks taken since the trimmer last looked.
    takes: AtomicU64,
}

impl BlockPool {
    /// A block of [`BLOCK`] bytes (its contents are whatever it held before).
    fn take(&self) -> BlockMem {
        self.takes.fetch_add(1, Ordering::Relaxed);
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.pop().unwrap_or_else(BlockMem::new)
    }

    /// Hands a block back (dropped when the pool is full).
    fn give(&self, block: BlockMem) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < POOL_KEEP / BLOCK {
            free.push(block);
        }
    }

    /// One look of the trimmer: when no block was taken since the last look, frees the
    /// pooled blocks. Returns the blocks freed.
    fn trim_if_idle(&self) -> usize {
        if self.takes.swap(0, Ordering::Relaxed) != 0 {
            return 0;
        }
        let blocks = std::mem::take(&mut *self.free.lock().unwrap_or_else(|e| e.into_inner()));
        let n = blocks.len();
        drop(blocks);
        n
    }

    /// Starts the thread that trims `pool` every `idle` (it ends with the pool).
    pub fn start_trimmer(pool: &Arc<BlockPool>, idle: Duration) {
        let weak = Arc::downgrade(pool);
        let _ = std::thread::Builder::new()
            .name("b2-sim-pool-trim".into())
            .spawn(move || loop {
                std::thread::sleep(idle);
                match weak.upgrade() {
                    Some(pool) => {
                        pool.trim_if_idle();
                    }
                    None => return,
                }
            });
    }

    /// Blocks waiting for reuse.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The memory of one block: an anonymous mapping of its own, so freeing it gives the pages
/// back to the system at once (a heap allocation of this size would stay with the
/// allocator), or heap memory if the system refuses a mapping.
#[derive(Debug)]
enum BlockMem {
    Map(memmap2::MmapMut),
    Heap(Box<[u8]>),
}

impl BlockMem {
    fn new() -> Self {
        // Populated at once: one call faults in the whole block, far cheaper than a fault
        // per page as the upload's bytes are copied in.
        match memmap2::MmapOptions::new().len(BLOCK).populate().map_anon() {
            Ok(m) => BlockMem::Map(m),
            Err(_) => BlockMem::Heap(vec![0u8; BLOCK].into_boxed_slice()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            BlockMem::Map(m) => m,
            BlockMem::Heap(h) => h,
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            BlockMem::Map(m) => m,
            BlockMem::Heap(h) => h,
        }
    }
}

/// A filled block shared as `Bytes`; returns to its pool when the last reference drops.
struct PooledBlock {
    data: Option<BlockMem>,
    len: usize,
    pool: Arc<BlockPool>,
}

impl AsRef<[u8]> for PooledBlock {
    fn as_ref(&self) -> &[u8] {
        self.data.as_ref().map_or(&[], |d| &d.bytes()[..self.len])
    }
}

impl Drop for PooledBlock {
    fn drop(&mut self) {
        if let Some(d) = self.data.take() {
            self.pool.give(d);
        }
    }
}

/// Blob storage.
#[derive(Debug)]
pub(crate) struct Storage {
    dir: Option<PathBuf>,
    next_id: AtomicU64,
    pool: Arc<BlockPool>,
}

impl Storage {
    /// In memory (`dir` None; pooled blocks freed after [`POOL_IDLE`] without uploads) or
    /// under `dir/blobs`.
    pub fn new(dir: Option<PathBuf>) -> io::Result<Self> {
        let idle = dir.is_none().then_some(POOL_IDLE);
        Self::with_trimmer(dir, idle)
    }

    /// Like [`Storage::new`], with the pool trimmed every `idle` (never with `None`).
    pub fn with_trimmer(dir: Option<PathBuf>, idle: Option<Duration>) -> io::Result<Self> {
        if let Some(d) = &dir {
            create_private_dir(&d.join("blobs"))?;
        }
        let pool = Arc::default();
        if let Some(idle) = idle {
            BlockPool::start_trimmer(&pool, idle);
        }
        Ok(Storage {
            dir,
            next_id: AtomicU64::new(1),
            pool,
        })
    }

    /// True when blobs are files.
    pub fn on_disk(&self) -> bool {
        self.dir.is_some()
    }

    /// Make new ids start above `max_used`.
    pub fn reserve_ids(&self, max_used: u64) {
        self.next_id.fetch_max(max_used + 1, Ordering::SeqCst);
    }

    fn path(&self, id: u64) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join("blobs").join(format!("{id:016x}")))
    }

    /// Starts writing a new blob.
    pub fn writer(&self, size_hint: u64) -> io::Result<BlobWriter> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let sink = match self.path(id) {
            Some(p) => Sink::Disk(create_private(&p)?, p),
            None => Sink::Mem(MemSink {
                done: Vec::with_capacity(
                    usize::try_from(size_hint / BLOCK as u64 + 1)
                        .unwrap_or(16)
                        .min(65536),
                ),
                filler: self.filler(size_hint),
            }),
        };
        Ok(BlobWriter {
            id,
            len: 0,
            sink: Some(sink),
        })
    }

    /// A filler for a body of `size_hint` bytes: bodies under half a block get a buffer of
    /// their own size, larger ones pool blocks.
    pub fn filler(&self, size_hint: u64) -> BlockFiller {
        BlockFiller {
            cur: match usize::try_from(size_hint) {
                Ok(n) if n > 0 && n < BLOCK / 2 => Cur::Small(Vec::with_capacity(n)),
                _ => Cur::Empty,
            },
            pool: self.pool.clone(),
        }
    }

    /// Deletes a blob's file (memory blobs go when their last user drops them).
    pub fn remove(&self, id: u64) {
        if let Some(p) = self.path(id) {
            let _ = fs::remove_file(p);
        }
    }

    /// Deletes files under `blobs/` whose id is not in `keep`.
    pub fn remove_unreferenced(&self, keep: &std::collections::HashSet<u64>) {
        let Some(d) = &self.dir else { return };
        let Ok(rd) = fs::read_dir(d.join("blobs")) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let id = name.to_str().and_then(|n| u64::from_str_radix(n, 16).ok());
            match id {
                Some(id) if keep.contains(&id) => {}
                _ => {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }

    /// The pieces to send for some content.
    pub fn pieces(&self, content: &[Segment]) -> VecDeque<Piece> {
        let mut out = VecDeque::new();
        for s in content {
            if s.len == 0 {
                continue;
            }
            if let Some(chunks) = &s.blob.mem {
                let mut pos = 0u64;
                let end = s.offset + s.len;
                for c in chunks.iter() {
                    let c_end = pos + c.len() as u64;
                    if c_end > s.offset && pos < end {
                        let from = usize::try_from(s.offset.max(pos) - pos).unwrap_or(0);
                        let to = usize::try_from(end.min(c_end) - pos).unwrap_or(0);
                        out.push_back(Piece::Mem(c.slice(from..to)));
                    }
                    pos = c_end;
                    if pos >= end {
                        break;
                    }
                }
            } else if let Some(path) = self.path(s.blob.id) {
                out.push_back(Piece::Disk {
                    path,
                    offset: s.offset,
                    len: s.len,
                });
            }
        }
        out
    }

    /// Calls `f` with the content's bytes, in order, a chunk at a time.
    pub fn for_each_chunk(&self, content: &[Segment], mut f: impl FnMut(&[u8])) -> io::Result<()> {
        let mut pieces = self.pieces(content);
        let mut reader = PieceReader::default();
        while let Some(b) = reader.next_chunk(&mut pieces)? {
            f(&b);
        }
        Ok(())
    }

    /// All of some content's bytes.
    pub fn read_all(&self, content: &[Segment]) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(content_len(content)).unwrap_or(0));
        self.for_each_chunk(content, |b| out.extend_from_slice(b))?;
        Ok(out)
    }

    /// Hex SHA-1 of some content.
    pub fn sha1_hex(&self, content: &[Segment]) -> io::Result<String> {
        let mut h = Sha1::new();
        self.for_each_chunk(content, |b| h.update(b))?;
        Ok(hex(&h.finalize()))
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// Reads pieces a chunk (≤ 1 MiB) at a time.
#[derive(Debug, Default)]
pub(crate) struct PieceReader {
    open: Option<(PathBuf, File)>,
}

/// Largest chunk read from disk at once.
const DISK_CHUNK: u64 = 1 << 20;

impl PieceReader {
    /// The next chunk, or None at the end.
    pub fn next_chunk(&mut self, pieces: &mut VecDeque<Piece>) -> io::Result<Option<Bytes>> {
        loop {
            let Some(front) = pieces.front_mut() else {
                return Ok(None);
            };
            match front {
                Piece::Mem(_) => {
                    if let Some(Piece::Mem(b)) = pieces.pop_front() {
                        return Ok(Some(b));
                    }
                }
                Piece::Disk { path, offset, len } => {
                    if *len == 0 {
                        pieces.pop_front();
                        continue;
                    }
                    let same = matches!(&self.open, Some((p, _)) if p == path);
                    if !same {
                        self.open = Some((path.clone(), File::open(&*path)?));
                    }
                    let Some((_, file)) = self.open.as_mut() else {
                        return Err(io::Error::other("no file"));
                    };
                    file.seek(SeekFrom::Start(*offset))?;
                    let n = usize::try_from((*len).min(DISK_CHUNK)).unwrap_or(1 << 20);
                    let mut buf = vec![0u8; n];
                    file.read_exact(&mut buf)?;
                    *offset += n as u64;
                    *len -= n as u64;
                    if *len == 0 {
                        pieces.pop_front();
                    }
                    return Ok(Some(Bytes::from(buf)));
                }
            }
        }
    }
}

enum Sink {
    Mem(MemSink),
    Disk(File, PathBuf),
}

/// What a [`BlockFiller`] is filling.
enum Cur {
    /// Nothing yet: the next byte takes a pool block.
    Empty,
    /// A small body's own buffer (it grows as needed).
    Small(Vec<u8>),
    /// A pool block and how much of it is filled.
    Block(BlockMem, usize),
}

/// Copies bytes into pool blocks and hands each out as `Bytes` once full.
pub(crate) struct BlockFiller {
    cur: Cur,
    pool: Arc<BlockPool>,
}

impl BlockFiller {
    /// Copies `data` in; `out` gets every block that fills up.
    pub fn fill(&mut self, mut data: &[u8], out: &mut impl FnMut(Bytes)) {
        while !data.is_empty() {
            match &mut self.cur {
                Cur::Empty => self.cur = Cur::Block(self.pool.take(), 0),
                Cur::Small(v) => {
                    v.extend_from_slice(data);
                    return;
                }
                Cur::Block(mem, len) => {
                    let n = (BLOCK - *len).min(data.len());
                    let (now, rest) = data.split_at(n);
                    mem.bytes_mut()[*len..*len + n].copy_from_slice(now);
                    *len += n;
                    data = rest;
                    if *len == BLOCK {
                        out(self.seal());
                    }
                }
            }
        }
    }

    /// True when nothing is waiting in the current block.
    fn is_empty(&self) -> bool {
        match &self.cur {
            Cur::Empty => true,
            Cur::Small(v) => v.is_empty(),
            Cur::Block(_, len) => *len == 0,
        }
    }

    /// The current block as `Bytes` (it goes back to the pool when they drop).
    fn seal(&mut self) -> Bytes {
        match std::mem::replace(&mut self.cur, Cur::Empty) {
            Cur::Block(mem, len) => Bytes::from_owner(PooledBlock {
                data: Some(mem),
                len,
                pool: self.pool.clone(),
            }),
            Cur::Small(v) => Bytes::from(v),
            Cur::Empty => Bytes::new(),
        }
    }

    /// The bytes not handed out yet (a short tail is copied out and its block kept).
    pub fn finish(&mut self) -> Option<Bytes> {
        if self.is_empty() {
            return None;
        }
        match &self.cur {
            Cur::Block(mem, len) if *len < BLOCK / 2 => {
                let tail = Bytes::copy_from_slice(&mem.bytes()[..*len]);
                if let Cur::Block(mem, _) = std::mem::replace(&mut self.cur, Cur::Empty) {
                    self.pool.give(mem);
                }
                Some(tail)
            }
            _ => Some(self.seal()),
        }
    }
}

impl Drop for BlockFiller {
    fn drop(&mut self) {
        if let Cur::Block(mem, _) = std::mem::replace(&mut self.cur, Cur::Empty) {
            self.pool.give(mem);
        }
    }
}

/// An in-memory blob being written: finished blocks, then the one being filled.
struct MemSink {
    done: Vec<Bytes>,
    filler: BlockFiller,
}

impl MemSink {
    fn write(&mut self, data: &[u8]) {
        let done = &mut self.done;
        self.filler.fill(data, &mut |b| done.push(b));
    }

    fn finish(mut self) -> Vec<Bytes> {
        if let Some(tail) = self.filler.finish() {
            self.done.push(tail);
        }
        std::mem::take(&mut self.done)
    }
}

/// Writes one blob; deletes it when dropped unfinished.
pub(crate) struct BlobWriter {
    id: u64,
    len: u64,
    sink: Option<Sink>,
}

impl BlobWriter {
    /// Appends bytes.
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.len += chunk.len() as u64;
        match &mut self.sink {
            Some(Sink::Mem(m)) => m.write(chunk),
            Some(Sink::Disk(f, _)) => f.write_all(chunk)?,
            None => {}
        }
        Ok(())
    }

    /// Appends bytes that are already in a block of their own (from a [`BlockFiller`], or
    /// any chunk the caller does not mind the blob keeping): stored without a copy.
    pub fn write_shared(&mut self, chunk: Bytes) -> io::Result<()> {
        match &mut self.sink {
            Some(Sink::Mem(m)) if m.filler.is_empty() => {
                self.len += chunk.len() as u64;
                m.done.push(chunk);
                Ok(())
            }
            _ => self.write(&chunk),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Closes the blob and hands it over.
    pub fn finish(mut self) -> io::Result<Blob> {
        let mem = match self.sink.take() {
            Some(Sink::Mem(m)) => Some(Arc::new(m.finish())),
            Some(Sink::Disk(f, _)) => {
                drop(f);
                None
            }
            None => None,
        };
        Ok(Blob {
            id: self.id,
            len: self.len,
            mem,
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if let Some(Sink::Disk(f, p)) = self.sink.take() {
            drop(f);
            let _ = fs::remove_file(p);
        }
    }
}

/// Creates (or truncates) a file only its owner may read or write (0600 on Unix): the data
/// directory holds application keys, tokens and file contents.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// Options that create files with mode 0600 on Unix.
pub(crate) fn private_options() -> fs::OpenOptions {
    let mut o = fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Creates `dir` and its missing parents, the new ones owner-only (0700 on Unix).
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem_content(parts: &[&[u8]]) -> Vec<Segment> {
        let st = Storage::new(None).expect("mem");
        let mut out = Vec::new();
        for p in parts {
            let mut w = st.writer(0).expect("w");
            for c in p.chunks(3) {
                w.write(c).expect("write");
            }
            let b = w.finish().expect("finish");
            out.push(Segment {
                len: b.len,
                blob: b,
                offset: 0,
            });
        }
        out
    }

    #[test]
    fn slices_across_segments() {
        let st = Storage::new(None).expect("mem");
        let c = mem_content(&[b"hello ", b"big ", b"world"]);
        assert_eq!(content_len(&c), 15);
        assert_eq!(st.read_all(&c).expect("read"), b"hello big world");
        let s = slice(&c, 4, 7);
        assert_eq!(st.read_all(&s).expect("read"), b"o big w");
        let s2 = slice(&s, 2, 3);
        assert_eq!(st.read_all(&s2).expect("read"), b"big");
        assert_eq!(
            st.sha1_hex(&mem_content(&[b"abc"])).expect("sha"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn memory_blocks_are_reused_after_delete() {
        let st = Storage::with_trimmer(None, None).expect("mem");
        let data: Vec<u8> = (0..BLOCK * 2 + BLOCK / 4 + 7).map(|i| i as u8).collect();
        let write = |chunks: usize| {
            let mut w = st.writer(data.len() as u64).expect("w");
            for c in data.chunks(data.len() / chunks + 1) {
                w.write(c).expect("write");
            }
            w.finish().expect("finish")
        };
        let b = write(7);
        let seg = |b: &Blob| Segment {
            len: b.len,
            blob: b.clone(),
            offset: 0,
        };
        assert_eq!(st.read_all(&[seg(&b)]).expect("read"), data);
        // Two full blocks and an exact copy of the short tail, whose block went back.
        assert_eq!(b.mem.as_ref().map(|m| m.len()), Some(3));
        assert_eq!(st.pool.len(), 1);
        // A download still holding a piece keeps that block alive.
        let held = st.pieces(&[seg(&b)]).pop_front();
        drop(b);
        assert_eq!(st.pool.len(), 2);
        drop(held);
        assert_eq!(st.pool.len(), 3);
        // The next upload takes its blocks from the pool, and reads back its own bytes.
        let b2 = write(3);
        assert_eq!(st.pool.len(), 1);
        assert_eq!(st.read_all(&[seg(&b2)]).expect("read"), data);
        // An unfinished upload hands its blocks back too (one from the pool, two new).
        let mut w = st.writer(data.len() as u64).expect("w");
        w.write(&data).expect("write");
        assert_eq!(st.pool.len(), 0);
        drop(w);
        assert_eq!(st.pool.len(), 3);
        // Small bodies never take a block.
        let mut w = st.writer(10).expect("w");
        w.write(b"0123456789").expect("write");
        let small = w.finish().expect("finish");
        assert_eq!(st.pool.len(), 3);
        assert_eq!(st.read_all(&[seg(&small)]).expect("read"), b"0123456789");
    }

    #[test]
    fn an_idle_pool_is_freed_a_busy_one_kept() {
        let st = Storage::with_trimmer(None, None).expect("mem");
        let data = vec![7u8; 3 * BLOCK];
        let mut w = st.writer(data.len() as u64).expect("w");
        w.write(&data).expect("write");
        drop(w.finish().expect("finish"));
        assert_eq!(st.pool.len(), 3);
        // Blocks were taken since the last look: kept.
        assert_eq!(st.pool.trim_if_idle(), 0);
        assert_eq!(st.pool.len(), 3);
        // Nothing taken since: freed.
        assert_eq!(st.pool.trim_if_idle(), 3);
        assert_eq!(st.pool.len(), 0);
        // The thread does the same on its own, and ends with the pool.
        let st = Storage::with_trimmer(None, Some(Duration::from_millis(20))).expect("mem");
        let mut w = st.writer(data.len() as u64).expect("w");
        w.write(&data).expect("write");
        drop(w.finish().expect("finish"));
        let t = std::time::Instant::now();
        while st.pool.len() > 0 && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(st.pool.len(), 0);
    }

    #[test]
    fn disk_blobs() {
        let dir = std::env::temp_dir().join(format!("b2sim-store-{}", std::process::id()));
        let st = Storage::new(Some(dir.clone())).expect("disk");
        let mut w = st.writer(0).expect("w");
        w.write(b"0123456789").expect("write");
        let b = w.finish().expect("finish");
        let c = vec![Segment {
            len: 10,
            blob: b.clone(),
            offset: 0,
        }];
        assert_eq!(st.read_all(&slice(&c, 3, 4)).expect("read"), b"3456");
        // An unfinished writer leaves nothing behind.
        let w2 = st.writer(0).expect("w2");
        let id2 = w2.id;
        drop(w2);
        assert!(!dir.join("blobs").join(format!("{id2:016x}")).exists());
        st.remove(b.id);
        assert!(st.read_all(&c).is_err());
        let _ = fs::remove_dir_all(dir);
    }
}
