//! The blocking `Transport` trait and the one driver loop that runs any operation over it.

use crate::error::Error;
use crate::http::{is_success, Headers, Request, TransportError};
use crate::op::{Abort, Exchange, Operation, Step};

/// Moves the bytes of one HTTP exchange. Implementations are thin adapters (ureq,
/// embedded-svc): they call the [`Exchange`] callbacks in order and never interpret B2
/// answers or status codes.
pub trait Transport {
    /// Runs one exchange: send `ex.request()` with the body from `ex.body()`, then hand the
    /// status, headers and body of the answer back. An error means no complete answer.
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError>;
}

/// The caller's clock: milliseconds since any fixed point, and a way to sleep.
pub trait Clock {
    /// Current time in milliseconds.
    fn now_ms(&mut self) -> u64;
    /// Blocks until `now_ms() >= until_ms`.
    fn sleep_until_ms(&mut self, until_ms: u64);
}

/// What a run of the driver did, for progress reports and soak statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RunStats {
    /// HTTP exchanges started.
    pub exchanges: u32,
    /// Exchanges the transport could not complete.
    pub transport_errors: u32,
    /// Answers whose status was not a success (each one retried, when the run succeeded).
    pub error_answers: u32,
    /// Waits (backoffs) taken.
    pub waits: u32,
    /// Milliseconds spent waiting.
    pub waited_ms: u64,
}

impl RunStats {
    /// Adds another run's figures to these.
    pub fn add(&mut self, other: &RunStats) {
        self.exchanges += other.exchanges;
        self.transport_errors += other.transport_errors;
        self.error_answers += other.error_answers;
        self.waits += other.waits;
        self.waited_ms += other.waited_ms;
    }
}

/// Runs `op` to completion: polls it, sends when it says `Send`, sleeps when it says `Wait`.
/// After `Ok`, read the result from the operation.
pub fn run<O, T, C>(op: &mut O, transport: &mut T, clock: &mut C) -> Result<RunStats, Error>
where
    O: Operation + ?Sized,
    T: Transport + ?Sized,
    C: Clock + ?Sized,
{
    let mut stats = RunStats::default();
    run_counted(op, transport, clock, &mut stats)?;
    Ok(stats)
}

/// As [`run`], adding what the run did to `stats` whether it succeeds or fails (the
/// retries and waits behind a final error count too).
pub fn run_counted<O, T, C>(
    op: &mut O,
    transport: &mut T,
    clock: &mut C,
    stats: &mut RunStats,
) -> Result<(), Error>
where
    O: Operation + ?Sized,
    T: Transport + ?Sized,
    C: Clock + ?Sized,
{
    loop {
        let now = clock.now_ms();
        match op.poll(now)? {
            Step::Send => {
                stats.exchanges += 1;
                let mut seen = Observed {
                    ex: op.as_exchange(),
                    error_answer: false,
                };
                let r = transport.exchange(&mut seen);
                stats.error_answers += u32::from(seen.error_answer);
                if let Err(e) = r {
                    #[cfg(feature = "log")]
                    log::debug!("b2: exchange failed: {e}");
                    stats.transport_errors += 1;
                    let now = clock.now_ms();
                    op.transport_failed(e, now);
                }
            }
            Step::Wait { until_ms } => {
                #[cfg(feature = "log")]
                log::debug!("b2: backing off {} ms", until_ms.saturating_sub(now));
                stats.waits += 1;
                stats.waited_ms += until_ms.saturating_sub(now);
                clock.sleep_until_ms(until_ms);
            }
            Step::Done => return Ok(()),
        }
    }
}

/// An exchange passed through unchanged, noting whether its answer was an error (the driver's
/// statistics judge the status here, so no transport has to).
struct Observed<'e> {
    ex: &'e mut dyn Exchange,
    error_answer: bool,
}

impl Exchange for Observed<'_> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        self.ex.request()
    }

    fn body(&mut self, buf: &mut [u8]) -> Result<usize, Abort> {
        self.ex.body(buf)
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        self.error_answer = !is_success(status);
        self.ex.response(status, headers)
    }

    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        self.ex.response_body(chunk)
    }

    fn response_end(&mut self) -> Result<(), Abort> {
        self.ex.response_end()
    }
}
