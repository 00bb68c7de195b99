//! The integration checklist as one pure classifier, plus the backoff schedule.
//!
//! [`classify`] turns the outcome of one exchange into a [`Verdict`]; operations count
//! attempts against a [`RetryPolicy`] and ask a [`Backoff`] how long to wait.

use crate::error::ErrorCode;
use crate::http::TransportError;

/// What kind of exchange failed: the checklist treats each differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CallKind {
    /// `b2_authorize_account`.
    Authorize,
    /// Any other JSON call on the API URL.
    Json,
    /// `b2_upload_file` or `b2_upload_part` on an upload URL.
    Upload,
    /// A download (GET or HEAD) on the download URL.
    Download,
}

/// How one exchange ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The transport failed (no answer, or a broken one).
    Transport(TransportError),
    /// The server answered with a non-success status.
    Status {
        /// HTTP status.
        status: u16,
        /// B2 error code from the body ([`ErrorCode::None`] if there was none).
        code: &'a ErrorCode,
    },
}

/// What to do after a failed exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Verdict {
    /// The account token is bad or expired: authorize again, then retry at once.
    Reauthorize,
    /// Drop this upload URL for good, get a new one and send again (`wait` says whether to
    /// back off first, as for 429).
    NewUploadUrl {
        /// Back off (honouring `Retry-After`) before getting the new URL.
        wait: bool,
    },
    /// Wait (honour `Retry-After`, else exponential backoff) and retry the same call.
    Retry,
    /// Give up: the failure is permanent.
    Final,
}

/// Classifies an outcome per Backblaze's integration checklist. Pure: same input, same
/// verdict.
pub fn classify(kind: CallKind, outcome: Outcome<'_>) -> Verdict {
    match outcome {
        Outcome::Transport(e) => match e {
            TransportError::Aborted | TransportError::Unsupported | TransportError::Tls => {
                Verdict::Final
            }
            _ if kind == CallKind::Upload => Verdict::NewUploadUrl { wait: false },
            _ => Verdict::Retry,
        },
        Outcome::Status { status, code } => {
            if status == 401 && *code == ErrorCode::Unauthorized {
                return Verdict::Final;
            }
            match kind {
                CallKind::Upload => match (status, code) {
                    (429, _) => Verdict::NewUploadUrl { wait: true },
                    (401 | 408, _) | (500..=599, _) => Verdict::NewUploadUrl { wait: false },
                    (400, ErrorCode::AuthTokenLimit) => Verdict::NewUploadUrl { wait: false },
                    _ => Verdict::Final,
                },
                CallKind::Authorize => match status {
                    408 | 429 | 500..=599 => Verdict::Retry,
                    _ => Verdict::Final,
                },
                CallKind::Json | CallKind::Download => match (status, code) {
                    (401, ErrorCode::BadAuthToken | ErrorCode::ExpiredAuthToken) => {
                        Verdict::Reauthorize
                    }
                    (408 | 429, _) | (500..=599, _) => Verdict::Retry,
                    _ => Verdict::Final,
                },
            }
        }
    }
}

/// Attempt caps and backoff bounds. The defaults are the official SDKs'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetryPolicy {
    /// Upload URLs tried for one small upload or one part before giving up (5).
    pub max_upload_urls: u8,
    /// Tries of one JSON call, the first included (5).
    pub max_json_tries: u8,
    /// Tries of one download, the first included (20).
    pub max_download_tries: u8,
    /// Re-authorizations allowed within one operation (3).
    pub max_reauthorizations: u8,
    /// First backoff delay in milliseconds (1,000).
    pub initial_backoff_ms: u32,
    /// Longest backoff delay in milliseconds (64,000).
    pub max_backoff_ms: u32,
    /// Largest random jitter added to a backoff delay, in milliseconds (1,000).
    pub max_jitter_ms: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_upload_urls: 5,
            max_json_tries: 5,
            max_download_tries: 20,
            max_reauthorizations: 3,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 64_000,
            max_jitter_ms: 1_000,
        }
    }
}

/// Exponential backoff with jitter: 1 s, 2 s, 4 s … 64 s (plus less than `max_jitter_ms`), and
/// back to 1 s after a `Retry-After`. Jitter comes from a seed the caller hands in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Backoff {
    next_ms: u32,
    rng: u32,
}

impl Backoff {
    /// A fresh schedule; `seed` is entropy for the jitter (any value; 0 is replaced).
    pub fn new(seed: u32) -> Self {
        Backoff {
            next_ms: 0,
            rng: if seed == 0 { 0x9E37_79B9 } else { seed },
        }
    }

    /// The delay before the next retry, in milliseconds. `retry_after_secs` from the answer
    /// wins when present (exactly that long, and the schedule restarts at the first step).
    pub fn delay_ms(&mut self, policy: &RetryPolicy, retry_after_secs: Option<u32>) -> u64 {
        if let Some(s) = retry_after_secs {
            self.next_ms = 0;
            return u64::from(s) * 1000;
        }
        let base = if self.next_ms == 0 {
            policy.initial_backoff_ms
        } else {
            self.next_ms
        };
        self.next_ms = base.saturating_mul(2).min(policy.max_backoff_ms);
        let jitter = if policy.max_jitter_ms == 0 {
            0
        } else {
            self.next_random() % policy.max_jitter_ms
        };
        u64::from(base.min(policy.max_backoff_ms)) + u64::from(jitter)
    }

    fn next_random(&mut self) -> u32 {
        // xorshift32
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(status: u16, code: &ErrorCode) -> Outcome<'_> {
        Outcome::Status { status, code }
    }

    #[test]
    fn checklist_verdicts() {
        use CallKind::*;
        let none = ErrorCode::None;
        for kind in [Authorize, Json, Upload, Download] {
            assert_eq!(
                classify(kind, Outcome::Transport(TransportError::Tls)),
                Verdict::Final,
                "an untrusted certificate is never retried"
            );
        }
        assert_eq!(
            classify(Upload, st(503, &none)),
            Verdict::NewUploadUrl { wait: false }
        );
        assert_eq!(
            classify(Upload, st(400, &ErrorCode::AuthTokenLimit)),
            Verdict::NewUploadUrl { wait: false }
        );
        assert_eq!(
            classify(Upload, st(401, &ErrorCode::ExpiredAuthToken)),
            Verdict::NewUploadUrl { wait: false }
        );
        assert_eq!(
            classify(Upload, st(429, &none)),
            Verdict::NewUploadUrl { wait: true }
        );
        assert_eq!(
            classify(Upload, Outcome::Transport(TransportError::Send)),
            Verdict::NewUploadUrl { wait: false }
        );
        assert_eq!(
            classify(Upload, st(400, &ErrorCode::BadRequest)),
            Verdict::Final
        );
        for k in [Upload, Json, Download, Authorize] {
            assert_eq!(
                classify(k, st(401, &ErrorCode::Unauthorized)),
                Verdict::Final
            );
            assert_eq!(
                classify(k, Outcome::Transport(TransportError::Aborted)),
                Verdict::Final
            );
        }
        assert_eq!(
            classify(Json, st(401, &ErrorCode::ExpiredAuthToken)),
            Verdict::Reauthorize
        );
        assert_eq!(
            classify(Json, st(401, &ErrorCode::BadAuthToken)),
            Verdict::Reauthorize
        );
        assert_eq!(classify(Json, st(429, &none)), Verdict::Retry);
        assert_eq!(classify(Json, st(500, &none)), Verdict::Retry);
        assert_eq!(classify(Json, st(503, &none)), Verdict::Retry);
        assert_eq!(
            classify(Json, st(404, &ErrorCode::NotFound)),
            Verdict::Final
        );
        assert_eq!(classify(Download, st(503, &none)), Verdict::Retry);
        assert_eq!(
            classify(Download, Outcome::Transport(TransportError::Receive)),
            Verdict::Retry
        );
        assert_eq!(
            classify(Authorize, st(401, &ErrorCode::BadAuthToken)),
            Verdict::Final
        );
        assert_eq!(classify(Authorize, st(503, &none)), Verdict::Retry);
    }

    #[test]
    fn backoff_doubles_to_64s_with_bounded_jitter_and_honours_retry_after() {
        let p = RetryPolicy::default();
        let mut b = Backoff::new(42);
        let mut bases = [0u64; 9];
        for slot in bases.iter_mut() {
            let d = b.delay_ms(&p, None);
            *slot = d / 1000 * 1000;
            assert!(d >= *slot && d <= *slot + 1000);
        }
        assert_eq!(
            &bases[..8],
            &[1000, 2000, 4000, 8000, 16000, 32000, 64000, 64000]
        );
        assert_eq!(b.delay_ms(&p, Some(3)), 3000);
        let d = b.delay_ms(&p, None);
        assert!(
            (1000..=2000).contains(&d),
            "restarts at 1 s after Retry-After: {d}"
        );
    }
}
