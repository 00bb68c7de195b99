//! Where upload bytes come from: sources that can re-read any byte range.

pub use embedded_io::ErrorKind;

/// A re-readable source of upload bytes: a failed part is sent again by reading its range
/// again, so no part is ever held in RAM. Files (`pread`), flash, memory and generated data
/// all fit. Sources that cannot re-read (stdin, a live sensor) are buffered by the caller.
pub trait Source {
    /// Reads up to `buf.len()` bytes starting at `offset`; returns how many were read
    /// (0 only past the end of the data).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, ErrorKind>;
}

/// SHA-1 and length of up to `max` bytes of `source` from `offset`, read through `scratch`
/// (any size). Fewer than `max` bytes only at the end of the source. A device computes a
/// whole file's SHA-1 this way before a large upload (`FileParams::sha1`, kept by B2 as
/// `large_file_sha1`, so every download of the file is verified).
pub fn sha1_range<S: Source + ?Sized>(
    source: &mut S,
    offset: u64,
    max: u64,
    scratch: &mut [u8],
) -> Result<([u8; 20], u64), crate::Error> {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    let mut done = 0u64;
    while done < max {
        let want = (max - done).min(scratch.len() as u64) as usize;
        let dst = scratch.get_mut(..want).unwrap_or(&mut []);
        let got = source
            .read_at(offset + done, dst)
            .map_err(crate::Error::Source)?;
        if got == 0 {
            break;
        }
        h.update(dst.get(..got.min(want)).unwrap_or(&[]));
        done += got.min(want) as u64;
    }
    Ok((h.finalize().into(), done))
}

impl Source for &[u8] {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let start = usize::try_from(offset).map_err(|_| ErrorKind::InvalidInput)?;
        let src = self.get(start..).unwrap_or(&[]);
        let n = src.len().min(buf.len());
        if let (Some(d), Some(s)) = (buf.get_mut(..n), src.get(..n)) {
            d.copy_from_slice(s);
        }
        Ok(n)
    }
}

impl<S: Source + ?Sized> Source for &mut S {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        (**self).read_at(offset, buf)
    }
}
