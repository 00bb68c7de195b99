//! Hashing local data before a large upload: the whole-file SHA-1 B2 keeps as
//! `large_file_sha1` and every part's SHA-1, in one read pass on two cores.

use std::fs;

use b2_core::op::Source;
use b2_core::validate::PartPlan;
use sha1::{Digest, Sha1};

use super::{ClientError, Result};

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// SHA-1 of `len` bytes of `src` from `offset`, read through `chunk`.
pub(crate) fn hash_range<S: Source>(
    src: &mut S,
    offset: u64,
    len: u64,
    chunk: &mut [u8],
) -> Result<[u8; 20]> {
    let mut h = Sha1::new();
    let mut done = 0;
    while done < len {
        let want = usize::try_from(len - done).map_or(chunk.len(), |r| r.min(chunk.len()));
        let buf = chunk.get_mut(..want).unwrap_or_default();
        let got = src
            .read_at(offset + done, buf)
            .map_err(|e| ClientError::from(b2_core::Error::Source(e)))?;
        if got == 0 {
            return Err(b2_core::Error::SourceTooShort {
                offset: offset + done,
            }
            .into());
        }
        h.update(buf.get(..got).unwrap_or_default());
        done += got as u64;
    }
    Ok(h.finalize().into())
}

/// The whole file's SHA-1 (when asked for) and every part's.
pub(crate) type FileDigests = (Option<[u8; 20]>, Vec<[u8; 20]>);

/// The SHA-1 of every part of `plan` and, when `whole`, of the whole file. With `whole`,
/// a second thread hashes the whole file while this one hashes the parts (both read the
/// same pages, so the disk is read once); the cost is two SHA-1 passes of CPU.
pub(crate) fn hash_file<S, F>(make_source: &F, plan: &PartPlan, whole: bool) -> Result<FileDigests>
where
    S: Source,
    F: Fn() -> S + Sync,
{
    std::thread::scope(|scope| {
        let whole = whole.then(|| {
            scope.spawn(|| {
                let mut chunk = vec![0u8; CHUNK];
                hash_range(&mut make_source(), 0, plan.size, &mut chunk)
            })
        });
        let mut chunk = vec![0u8; CHUNK];
        let mut src = make_source();
        let parts = (1..=plan.count)
            .map(|n| {
                let (offset, len) = plan.part_range(n);
                hash_range(&mut src, offset, len, &mut chunk)
            })
            .collect::<Result<Vec<_>>>();
        let whole = match whole {
            Some(h) => Some(
                h.join()
                    .map_err(|_| ClientError::Config("the hashing thread panicked".into()))??,
            ),
            None => None,
        };
        Ok((whole, parts?))
    })
}

/// A file read by offset (`pread`), so threads never share a cursor.
pub(crate) fn read_at(f: &fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(f, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(f, buf, offset)
    }
}
