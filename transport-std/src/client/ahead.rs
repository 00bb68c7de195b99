//! Hashing parts ahead: one thread computes each part's SHA-1 just before a sender needs
//! it, so that on a machine with a spare core hashing and sending overlap (see
//! [`super::UploadOptions::hash_ahead`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use b2_core::op::Source;
use sha1::{Digest, Sha1};

use super::{ClientError, Result};

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

/// A part's digest from the hashing thread.
#[derive(Clone, Copy)]
enum Slot {
    /// Not hashed yet.
    Pending,
    /// Hashed.
    Ready([u8; 20]),
    /// Not hashed ahead (read error, or the hashing thread stopped): hash while sending.
    Skip,
}

/// Part digests computed ahead, in part order, by one hashing thread; senders wait for
/// the digest of the part they are about to send. The hashing thread stays at most a few
/// parts ahead of the senders, so the bytes it reads are still in the page cache when they
/// are sent (a cold file is read from disk once).
pub(crate) struct HashAhead {
    inner: Mutex<Ahead>,
    changed: Condvar,
}

struct Ahead {
    slots: Vec<Slot>,
    /// Parts senders have asked for so far.
    asked: usize,
}

impl HashAhead {
    pub(crate) fn new(parts: u32) -> Self {
        HashAhead {
            inner: Mutex::new(Ahead {
                slots: vec![Slot::Pending; parts as usize],
                asked: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ahead> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks the hashing thread until the `k`-th part to hash is at most `lead` parts
    /// ahead of the senders; false when `stop` is set (the upload failed).
    pub(crate) fn room(&self, k: usize, lead: usize, stop: &AtomicBool) -> bool {
        let mut a = self.lock();
        while k >= a.asked + lead {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let timeout = std::time::Duration::from_millis(50);
            a = match self.changed.wait_timeout(a, timeout) {
                Ok((a, _)) => a,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    pub(crate) fn set(&self, n: u32, digest: Option<[u8; 20]>) {
        let mut a = self.lock();
        if let Some(s) = a.slots.get_mut(n as usize - 1) {
            *s = digest.map_or(Slot::Skip, Slot::Ready);
        }
        self.changed.notify_all();
    }

    /// Part `n`'s digest, once hashed; `None` to hash while sending.
    pub(crate) fn wait(&self, n: u32) -> Option<[u8; 20]> {
        let mut a = self.lock();
        a.asked += 1;
        self.changed.notify_all();
        loop {
            match a.slots.get(n as usize - 1) {
                Some(Slot::Pending) => {}
                Some(Slot::Ready(d)) => return Some(*d),
                Some(Slot::Skip) | None => return None,
            }
            a = self.changed.wait(a).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// No more digests: every part still pending is hashed while it is sent.
    pub(crate) fn close(&self) {
        let mut a = self.lock();
        for s in a.slots.iter_mut() {
            if matches!(s, Slot::Pending) {
                *s = Slot::Skip;
            }
        }
        self.changed.notify_all();
    }
}

/// Closes a [`HashAhead`] when the hashing thread ends, however it ends.
pub(crate) struct CloseOnDrop<'a>(pub(crate) &'a HashAhead);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    fn hashed(a: &HashAhead) -> usize {
        a.lock()
            .slots
            .iter()
            .filter(|s| matches!(s, Slot::Ready(_)))
            .count()
    }

    /// Waits until `n` parts are hashed, then checks that no more follow.
    fn settles_at(a: &HashAhead, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while hashed(a) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(hashed(a), n);
    }

    #[test]
    fn hashing_ahead_stays_close_to_the_senders() {
        let a = HashAhead::new(6);
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _close = CloseOnDrop(&a);
                for k in 0..6 {
                    if !a.room(k, 2, &stop) {
                        break;
                    }
                    a.set(k as u32 + 1, Some([k as u8; 20]));
                }
            });
            // No sender yet: two parts ahead, no more.
            settles_at(&a, 2);
            assert_eq!(a.wait(1), Some([0; 20]));
            settles_at(&a, 3);
            for n in 2..=6u32 {
                assert_eq!(a.wait(n), Some([n as u8 - 1; 20]));
            }
        });
        // A failed upload releases a hashing thread that waits for room.
        let a = HashAhead::new(3);
        stop.store(true, Ordering::Relaxed);
        assert!(!a.room(2, 1, &stop));
        // And a closed one releases the senders.
        a.close();
        assert_eq!(a.wait(1), None);
    }
}
