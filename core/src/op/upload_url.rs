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

/// A bounded pool of upload URLs. [`take`](Self::take) hands a URL out exclusively; only
/// an upload that succeeded gives it back with [`give_back`](Self::give_back); a failed one
/// drops it for good. The std client wraps one in a mutex and shares it between threads.
#[derive(Debug, Default)]
pub struct UploadUrlPool<const N: usize> {
    urls: heapless::Vec<UploadUrl, N>,
}

impl<const N: usize> UploadUrlPool<N> {
    /// An empty pool.
    pub const fn new() -> Self {
        UploadUrlPool {
            urls: heapless::Vec::new(),
        }
    }

    /// Takes a URL issued for `for_id` (bucket or large file id), if one is idle.
    pub fn take(&mut self, for_id: &str) -> Option<UploadUrl> {
        let i = self.urls.iter().position(|u| u.for_id == for_id)?;
        Some(self.urls.swap_remove(i))
    }

    /// Returns a URL after a successful upload; when the pool is full the URL is dropped.
    pub fn give_back(&mut self, url: UploadUrl) {
        let _ = self.urls.push(url);
    }

    /// Drops every URL issued for `for_id` (e.g. a finished or cancelled large file).
    pub fn forget(&mut self, for_id: &str) {
        self.urls.retain(|u| u.for_id != for_id);
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
        assert!(p.take("b1").is_none());
        p.give_back(UploadUrl::new("b1", "http://u/1", "t1").unwrap());
        p.give_back(UploadUrl::new("b2", "http://u/2", "t2").unwrap());
        p.give_back(UploadUrl::new("b1", "http://u/3", "t3").unwrap()); // full: dropped
        assert_eq!(p.len(), 2);
        let u = p.take("b1").unwrap();
        assert_eq!(u.url, "http://u/1");
        assert!(p.take("b1").is_none(), "taken exclusively");
        p.forget("b2");
        assert!(p.is_empty());
    }
}
