//! Fault injection: deterministic, counter- and seed-driven.

use std::time::Duration;

/// Which faults the simulator injects. All off by default.
///
/// Counters count from the moment the faults are set: with `upload_503_every: Some(3)`
/// the 3rd, 6th, 9th… upload (file or part) fails. Random choices (only for the
/// `X-Bz-Test-Mode` header, which real B2 applies "sometimes") come from a generator seeded
/// with `seed`, so a run is repeatable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults {
    /// Seed for the random choices of `X-Bz-Test-Mode`.
    pub seed: u64,
    /// Every Nth upload or part upload answers 503 `service_unavailable`.
    pub upload_503_every: Option<u32>,
    /// With `upload_503_every`: fail after reading the whole body (else before reading it).
    pub upload_503_after_body: bool,
    /// Every Nth JSON call with an account token answers 401 `expired_auth_token`, and that
    /// token stays expired.
    pub expire_token_every: Option<u32>,
    /// Every Nth JSON call or download (not authorize, not uploads: B2 answers busy uploads
    /// with 503) answers 429 `too_many_requests`.
    pub too_many_requests_every: Option<u32>,
    /// `Retry-After` seconds sent with 429 and 503 answers.
    pub retry_after_secs: u32,
    /// Every Nth upload or part upload has its connection dropped in the middle of the body.
    pub reset_upload_every: Option<u32>,
    /// Fixed delay before every answer (a slow link's latency).
    pub delay: Option<Duration>,
    /// Every request answers 403 with a cap-exceeded code (like `force_cap_exceeded`).
    pub force_cap_exceeded: bool,
    /// Successful JSON answers announce this `Content-Length` instead of their body's
    /// length (the body is unchanged): a server lying about, or wrapping, a size.
    pub json_content_length_override: Option<u64>,
    /// An *ambiguous outcome*: every Nth call that stores something is carried out in full
    /// (the file, part or copy is stored, and saved under a data directory) and then the
    /// connection is closed without an answer, as when an answer is lost on the way back.
    ///
    /// The calls counted are exactly `b2_upload_file`, `b2_upload_part`,
    /// `b2_finish_large_file` and `b2_copy_file`, and only those that would answer 200:
    /// a request refused (4xx) or failed by another fault (503, reset, 429, expired token,
    /// cap exceeded) is not stored and not counted. `b2_copy_part` is not counted.
    pub lose_answer_every: Option<u32>,
    /// Every Nth download (GET of a file, by id or by name) announces its full length,
    /// sends the first half of the bytes and then cuts the connection.
    pub truncate_download_every: Option<u32>,
    /// A "no tomes available" storm: the next N requests of any kind but
    /// `b2_authorize_account` (JSON calls, uploads, downloads) answer 503
    /// `service_unavailable` with `Retry-After: retry_after_secs`.
    pub storm_503: u32,
    /// A slow link: every connection carries request and answer bodies at no more than this
    /// many bytes a second, each way (uploads are read, and downloads sent, at that pace).
    /// Latency is [`Faults::delay`], added before every answer.
    pub bandwidth_bytes_per_sec: Option<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            seed: 0,
            upload_503_every: None,
            upload_503_after_body: false,
            expire_token_every: None,
            too_many_requests_every: None,
            retry_after_secs: 1,
            reset_upload_every: None,
            delay: None,
            force_cap_exceeded: false,
            json_content_length_override: None,
            lose_answer_every: None,
            truncate_download_every: None,
            storm_503: 0,
            bandwidth_bytes_per_sec: None,
        }
    }
}

/// What to do to one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadFault {
    /// Nothing.
    None,
    /// 503 before reading the body.
    FailBefore,
    /// 503 after reading the body.
    FailAfter,
    /// Drop the connection after this many body bytes.
    Reset,
}

/// Faults plus the counters that drive them.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub faults: Faults,
    requests: u64,
    uploads: u64,
    json_calls: u64,
    stores: u64,
    downloads: u64,
    storm_left: u32,
    rng: u64,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        let rng = faults.seed ^ 0x9E37_79B9_7F4A_7C15;
        let storm_left = faults.storm_503;
        FaultState {
            faults,
            requests: 0,
            uploads: 0,
            json_calls: 0,
            stores: 0,
            downloads: 0,
            storm_left,
            rng,
        }
    }

    fn next_random(&mut self) -> u64 {
        // SplitMix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// One chance in three, from the seeded generator.
    pub fn sometimes(&mut self) -> bool {
        self.next_random().is_multiple_of(3)
    }

    /// Counts a JSON call or download; true if it must answer 429.
    pub fn on_request(&mut self) -> bool {
        self.requests += 1;
        hit(self.faults.too_many_requests_every, self.requests)
    }

    /// Counts a JSON call with an account token; true if its token must expire now.
    pub fn on_json_call(&mut self) -> bool {
        self.json_calls += 1;
        hit(self.faults.expire_token_every, self.json_calls)
    }

    /// Counts a successful store (see [`Faults::lose_answer_every`]); true if its answer
    /// must be lost.
    pub fn on_store(&mut self) -> bool {
        self.stores += 1;
        hit(self.faults.lose_answer_every, self.stores)
    }

    /// Counts a download with a body; true if it must be cut halfway.
    pub fn on_download(&mut self) -> bool {
        self.downloads += 1;
        hit(self.faults.truncate_download_every, self.downloads)
    }

    /// True while a 503 storm lasts (each call uses up one of its requests).
    pub fn in_storm(&mut self) -> bool {
        if self.storm_left > 0 {
            self.storm_left -= 1;
            true
        } else {
            false
        }
    }

    /// Counts an upload (file or part) and says what to do to it.
    pub fn on_upload(&mut self) -> UploadFault {
        self.uploads += 1;
        if hit(self.faults.reset_upload_every, self.uploads) {
            UploadFault::Reset
        } else if hit(self.faults.upload_503_every, self.uploads) {
            if self.faults.upload_503_after_body {
                UploadFault::FailAfter
            } else {
                UploadFault::FailBefore
            }
        } else {
            UploadFault::None
        }
    }
}

fn hit(every: Option<u32>, count: u64) -> bool {
    match every {
        Some(n) if n > 0 => count.is_multiple_of(u64::from(n)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth() {
        let mut s = FaultState::new(Faults {
            upload_503_every: Some(3),
            reset_upload_every: Some(5),
            ..Default::default()
        });
        let got: Vec<UploadFault> = (0..6).map(|_| s.on_upload()).collect();
        assert_eq!(
            got,
            vec![
                UploadFault::None,
                UploadFault::None,
                UploadFault::FailBefore,
                UploadFault::None,
                UploadFault::Reset,
                UploadFault::FailBefore
            ]
        );
    }

    #[test]
    fn lost_answers_every_nth_store() {
        let mut s = FaultState::new(Faults {
            lose_answer_every: Some(2),
            ..Default::default()
        });
        let got: Vec<bool> = (0..5).map(|_| s.on_store()).collect();
        assert_eq!(got, vec![false, true, false, true, false]);
    }

    #[test]
    fn off_by_default() {
        let mut s = FaultState::new(Faults::default());
        for _ in 0..100 {
            assert!(!s.on_request());
            assert!(!s.on_json_call());
            assert_eq!(s.on_upload(), UploadFault::None);
            assert!(!s.on_store());
        }
    }

    #[test]
    fn seeded_is_repeatable() {
        let mut a = FaultState::new(Faults {
            seed: 7,
            ..Default::default()
        });
        let mut b = FaultState::new(Faults {
            seed: 7,
            ..Default::default()
        });
        let xa: Vec<bool> = (0..50).map(|_| a.sometimes()).collect();
        let xb: Vec<bool> = (0..50).map(|_| b.sometimes()).collect();
        assert_eq!(xa, xb);
        assert!(xa.iter().any(|x| *x) && xa.iter().any(|x| !*x));
    }
}
