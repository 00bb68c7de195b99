//! Upload URLs and their tokens, taken exclusively and pooled only after success.

use core::fmt;

use crate::error::InvalidInput;
use crate::secret::Secret;
use crate::session::{fixed, Id, Url, TOKEN_CAPACITY};

/// An upload URL with its token, for one bucket (`b2_get_upload_url`) or one large file
/// (`b2_get_upload_part_url`). Serves one upload at a time. About 580 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct UploadUrl {
    /// The bucket id or large-file id the URL was issued for.
    pub for_id: Id,
    /// The URL uploads are POSTed to.
    pub url: Url,
    /// The upload authorization token.
    pub token: Secret<TOKEN_CAPACITY>,
}

impl UploadUrl {
    /// Stores an upload URL answer.
    pub fn new(for_id: &str, url: &str, token: &str) -> Result<Self, InvalidInput> {
        Ok(UploadUrl {
            for_id: fixed(for_id)?,
            url: fixed(url).map_err(|_| InvalidInput::Url)?,
            token: Secret::new(token)?,
        })
    }
}

impl UploadUrl {
    /// The pair from a `b2_get_upload_url` / `b2_get_upload_part_url` answer.
    pub fn from_answer(
        for_id: &str,
        a: &crate::wire::upload::UploadUrlAnswer<'_>,
    ) -> Result<Self, crate::Error> {
        use crate::error::{BadAnswer, Error};
        use crate::session::{fixed_text, TOKEN_CAPACITY};
        let token: heapless::String<TOKEN_CAPACITY> = fixed_text(a.authorization_token)?;
        Ok(UploadUrl {
            for_id: fixed(for_id).map_err(|_| Error::BadAnswer(BadAnswer::TooLong))?,
            url: fixed_text(a.upload_url)?,
            token: Secret::new(&token).map_err(|_| Error::BadAnswer(BadAnswer::TooLong))?,
        })
    }
}

impl fmt::Debug for UploadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadUrl")
            .field("for_id", &self.for_id)
            .field("url", &self.url)
            .field("token", &self.token)
            .finish()
    }
}

/// How long B2 keeps an upload URL and its token valid after `b2_get_upload_url` or
/// `b2_get_upload_part_url` answered: 24 hours ("or until the endpoint rejects an upload").
pub const UPLOAD_URL_LIFETIME_MS: u64 = 24 * 3600 * 1000;

/// An upload URL older than this is not handed out again: an hour short of
/// [`UPLOAD_URL_LIFETIME_MS`], so that an upload taken just before the limit is not cut off
/// by it (the same margin as an account token's).
pub const UPLOAD_URL_REUSE_MS: u64 = 23 * 3600 * 1000;

/// Whether an upload URL obtained at `obtained_ms` may still be used at `now_ms` (both on
/// the caller's clock). One from the future (a clock set back, a tampered cache) may not.
pub fn upload_url_reusable(obtained_ms: u64, now_ms: u64) -> bool {
    obtained_ms <= now_ms && now_ms - obtained_ms < UPLOAD_URL_REUSE_MS
}

/// A bounded pool of upload URLs, each with the time it was obtained.
/// [`take`](Self::take) hands a URL out exclusively, never one past
/// [`UPLOAD_URL_REUSE_MS`]; only an upload that succeeded gives it back with
/// [`give_back`](Self::give_back); a failed one drops it for good. The std client wraps
/// one in a mutex and shares it between threads.
#[derive(Debug, Default)]
pub struct UploadUrlPool<const N: usize> {
    urls: heapless::Vec<(UploadUrl, u64), N>,
}

impl<const N: usize> UploadUrlPool<N> {
    /// An empty pool.
    pub const fn new() -> Self {
        UploadUrlPool {
            urls: heapless::Vec::new(),
        }
    }

    /// Takes a URL issued for `for_id` (bucket or large file id) that is still usable at
    /// `now_ms`, with the time it was obtained. URLs too old to use (for any id) are
    /// dropped on the way.
    pub fn take(&mut self, for_id: &str, now_ms: u64) -> Option<(UploadUrl, u64)> {
        self.urls.retain(|(_, at)| upload_url_reusable(*at, now_ms));
        let i = self.urls.iter().position(|(u, _)| u.for_id == for_id)?;
        Some(self.urls.swap_remove(i))
    }

    /// Returns a URL after a successful upload, with the time it was obtained; when the
    /// pool is full the URL is dropped.
    pub fn give_back(&mut self, url: UploadUrl, obtained_ms: u64) {
        let _ = self.urls.push((url, obtained_ms));
    }

    /// Drops every URL issued for `for_id` (e.g. a finished or cancelled large file).
    pub fn forget(&mut self, for_id: &str) {
        self.urls.retain(|(u, _)| u.for_id != for_id);
    }

    /// The idle URLs with the times they were obtained (e.g. to store them).
    pub fn iter(&self) -> impl Iterator<Item = (&UploadUrl, u64)> {
        self.urls.iter().map(|(u, at)| (u, *at))
    }

    /// Idle URLs in the pool.
    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// Whether the pool has no idle URL.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_take_and_bounded_return() {
        let mut p: UploadUrlPool<2> = UploadUrlPool::new();
        assert!(p.take("b1", 0).is_none());
        p.give_back(UploadUrl::new("b1", "http://u/1", "t1").unwrap(), 0);
        p.give_back(UploadUrl::new("b2", "http://u/2", "t2").unwrap(), 0);
        p.give_back(UploadUrl::new("b1", "http://u/3", "t3").unwrap(), 0); // full: dropped
        assert_eq!(p.len(), 2);
        let (u, at) = p.take("b1", 5).unwrap();
        assert_eq!((u.url.as_str(), at), ("http://u/1", 0));
        assert!(p.take("b1", 5).is_none(), "taken exclusively");
        p.forget("b2");
        assert!(p.is_empty());
    }

    #[test]
    fn a_url_past_its_reuse_time_is_never_handed_out() {
        let hour = 3600 * 1000;
        assert!(upload_url_reusable(0, 0));
        assert!(upload_url_reusable(0, 23 * hour - 1));
        assert!(!upload_url_reusable(0, 23 * hour));
        assert!(!upload_url_reusable(0, UPLOAD_URL_LIFETIME_MS));
        assert!(!upload_url_reusable(10, 9), "obtained in the future");
        assert!(!upload_url_reusable(u64::MAX, 0));
        let mut p: UploadUrlPool<4> = UploadUrlPool::new();
        p.give_back(UploadUrl::new("b1", "http://u/old", "t").unwrap(), 0);
        p.give_back(
            UploadUrl::new("b1", "http://u/new", "t").unwrap(),
            20 * hour,
        );
        let (u, _) = p.take("b1", 24 * hour).unwrap();
        assert_eq!(u.url, "http://u/new");
        assert!(p.is_empty(), "the stale one was dropped");
    }
}
