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
