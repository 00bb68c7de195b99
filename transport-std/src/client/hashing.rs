//! Hashing local data before a large upload: the whole-file SHA-1 B2 keeps as
//! `large_file_sha1` and every part's SHA-1, in one read pass on two cores.

use std::fs;
use std::sync::{mpsc, Arc};

use b2_core::op::Source;
use b2_core::validate::PartPlan;
use sha1::{Digest, Sha1};

use super::{ClientError, Result};

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;
/// Chunks in flight between the reader and the whole-file hasher.
const BUFFERS: usize = 8;

/// SHA-1 of exactly `len` bytes of `src` from `offset` (core's `source::sha1_range`), read
/// through `chunk`; a source that ends first is `SourceTooShort`.
pub(crate) fn hash_range<S: Source>(
    src: &mut S,
    offset: u64,
    len: u64,
    chunk: &mut [u8],
) -> Result<[u8; 20]> {
    let (digest, got) = b2_core::op::source::sha1_range(src, offset, len, chunk)?;
    if got < len {
        return Err(b2_core::Error::SourceTooShort {
            offset: offset + got,
        }
        .into());
    }
    Ok(digest)
}

/// The whole file's SHA-1 (when asked for) and every part's.
pub(crate) type FileDigests = (Option<[u8; 20]>, Vec<[u8; 20]>);

/// The SHA-1 of every part of `plan` and, when `whole`, of the whole file, from one read of
/// the source. With `whole`, this thread reads each chunk and hashes it into its part while
/// a second thread hashes the same chunk into the whole file's SHA-1: two SHA-1 passes of
/// CPU on two cores, one read, about the wall time of one pass.
pub(crate) fn hash_file<S, F>(make_source: &F, plan: &PartPlan, whole: bool) -> Result<FileDigests>
where
    S: Source,
    F: Fn() -> S + Sync,
{
    let mut src = make_source();
    if !whole {
        let mut chunk = vec![0u8; CHUNK];
        let parts = (1..=plan.count)
            .map(|n| {
                let (offset, len) = plan.part_range(n);
                hash_range(&mut src, offset, len, &mut chunk)
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok((None, parts));
    }
    // Chunks go to the whole-file hasher and come back to be read into again.
    let (to_whole, whole_rx) = mpsc::sync_channel::<Arc<Vec<u8>>>(BUFFERS);
    let (back_tx, back_rx) = mpsc::channel::<Arc<Vec<u8>>>();
    std::thread::scope(|scope| {
        let hasher = scope.spawn(move || {
            let mut h = Sha1::new();
            for chunk in whole_rx {
                h.update(chunk.as_slice());
                let _ = back_tx.send(chunk);
            }
            <[u8; 20]>::from(h.finalize())
        });
        let mut made = 0;
        let mut parts = Vec::with_capacity(plan.count as usize);
        let r = (|| -> Result<()> {
            for n in 1..=plan.count {
                let (offset, len) = plan.part_range(n);
                let mut h = Sha1::new();
                let mut done = 0u64;
                while done < len {
                    let mut buf = if made < BUFFERS {
                        made += 1;
                        vec![0u8; CHUNK]
                    } else {
                        let back = back_rx.recv().map_err(|_| {
                            ClientError::Config("the hashing thread stopped".into())
                        })?;
                        Arc::try_unwrap(back).unwrap_or_else(|a| a.as_ref().clone())
                    };
                    let want = usize::try_from(len - done).map_or(CHUNK, |r| r.min(CHUNK));
                    buf.resize(want, 0);
                    let got = src
                        .read_at(offset + done, &mut buf)
                        .map_err(|e| ClientError::from(b2_core::Error::Source(e)))?;
                    if got == 0 {
                        return Err(b2_core::Error::SourceTooShort {
                            offset: offset + done,
                        }
                        .into());
                    }
                    buf.truncate(got);
                    h.update(&buf);
                    done += got as u64;
                    let _ = to_whole.send(Arc::new(buf));
                }
                parts.push(h.finalize().into());
            }
            Ok(())
        })();
        drop(to_whole);
        let whole = hasher
            .join()
            .map_err(|_| ClientError::Config("the hashing thread panicked".into()))?;
        r?;
        Ok((Some(whole), parts))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_gives_the_whole_and_every_part_sha1() {
        for (size, part) in [
            (0usize, 10u64),
            (5, 10),
            (3 * (1 << 20) + 7, 1 << 20),
            (2_500_000, 1_000_000),
        ] {
            let data: Vec<u8> = (0..size as u32).map(|i| (i * 7 + i / 251) as u8).collect();
            let plan = b2_core::validate::part_plan(size as u64, part, 1).expect("plan");
            let (whole, parts) = hash_file(&|| &data[..], &plan, true).expect("hash");
            assert_eq!(whole, Some(Sha1::digest(&data).into()), "{size}");
            let want: Vec<[u8; 20]> = (1..=plan.count)
                .map(|n| {
                    let (o, l) = plan.part_range(n);
                    Sha1::digest(&data[o as usize..(o + l) as usize]).into()
                })
                .collect();
            assert_eq!(parts, want, "{size}");
            let (none, parts2) = hash_file(&|| &data[..], &plan, false).expect("hash");
            assert_eq!((none, parts2), (None, want));
        }
    }

    #[test]
    fn a_source_shorter_than_its_plan_is_an_error() {
        let data = [1u8; 100];
        let plan = b2_core::validate::part_plan(300, 100, 1).expect("plan");
        assert!(hash_file(&|| &data[..], &plan, true).is_err());
        assert!(hash_file(&|| &data[..], &plan, false).is_err());
    }
}
