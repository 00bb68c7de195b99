//! The async driver: runs the same [`Operation`]s as [`crate::driver::run`] over an async
//! transport and the caller's async timer (embassy-net and `embassy-time` on a device).
//!
//! No executor, no allocation: [`run`] is an `async fn` whose future the caller polls on
//! whatever executor it has. The operations do not change: their [`Exchange`] callbacks are
//! synchronous (they only move bytes between the transport's buffer and the operation's
//! state), so an async transport awaits its socket between callbacks. One set of operations
//! serves both drivers, so a job behaves the same whichever one runs it.
//!
//! The traits use `async fn`, so their futures carry no `Send` bound: they are meant for
//! single-threaded executors such as embassy's.

use crate::driver::RunStats;
use crate::error::Error;
use crate::http::TransportError;
use crate::op::{Exchange, Operation, Step};

/// Moves the bytes of one HTTP exchange, asynchronously. Same contract as
/// [`crate::driver::Transport`]: call the [`Exchange`] callbacks in order, never interpret
/// B2 answers or status codes; an error means no complete answer.
#[allow(async_fn_in_trait)]
pub trait AsyncTransport {
    /// Runs one exchange: send `ex.request()` with the body from `ex.body()`, then hand the
    /// status, headers and body of the answer back.
    async fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError>;
}

impl<T: AsyncTransport + ?Sized> AsyncTransport for &mut T {
    async fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        T::exchange(self, ex).await
    }
}

/// The caller's clock and timer: milliseconds since any fixed point, and an async sleep
/// (for instance `embassy_time::Timer::at`).
#[allow(async_fn_in_trait)]
pub trait AsyncClock {
    /// Current time in milliseconds.
    fn now_ms(&mut self) -> u64;
    /// Completes once `now_ms() >= until_ms`.
    async fn sleep_until_ms(&mut self, until_ms: u64);
}

impl<C: AsyncClock + ?Sized> AsyncClock for &mut C {
    fn now_ms(&mut self) -> u64 {
        C::now_ms(self)
    }
    async fn sleep_until_ms(&mut self, until_ms: u64) {
        C::sleep_until_ms(self, until_ms).await
    }
}

/// Runs `op` to completion: polls it, awaits an exchange when it says `Send`, awaits the
/// timer when it says `Wait`. After `Ok`, read the result from the operation.
pub async fn run<O, T, C>(op: &mut O, transport: &mut T, clock: &mut C) -> Result<RunStats, Error>
where
    O: Operation + ?Sized,
    T: AsyncTransport + ?Sized,
    C: AsyncClock + ?Sized,
{
    let mut stats = RunStats::default();
    run_counted(op, transport, clock, &mut stats).await?;
    Ok(stats)
}

/// As [`run`], adding what the run did to `stats` whether it succeeds or fails.
pub async fn run_counted<O, T, C>(
    op: &mut O,
    transport: &mut T,
    clock: &mut C,
    stats: &mut RunStats,
) -> Result<(), Error>
where
    O: Operation + ?Sized,
    T: AsyncTransport + ?Sized,
    C: AsyncClock + ?Sized,
{
    loop {
        let now = clock.now_ms();
        match op.poll(now)? {
            Step::Send => {
                stats.exchanges += 1;
                if let Err(e) = transport.exchange(op.as_exchange()).await {
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
                clock.sleep_until_ms(until_ms).await;
            }
            Step::Done => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{Clock, Transport};
    use crate::op::Authorize;
    use crate::session::{Credentials, Session};
    use core::future::Future;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    /// Polls a future that never waits on anything outside itself.
    fn block_on<F: Future>(f: F) -> F::Output {
        let mut cx = Context::from_waker(Waker::noop());
        let mut f = pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    /// A network where nothing answers: every exchange takes the request head (as every
    /// transport does first), then fails with `error`.
    struct Down(TransportError, u32);
    impl Transport for Down {
        fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
            self.1 += 1;
            ex.request().map_err(|_| TransportError::Aborted)?;
            Err(self.0)
        }
    }
    impl AsyncTransport for Down {
        async fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
            self.1 += 1;
            ex.request().map_err(|_| TransportError::Aborted)?;
            Err(self.0)
        }
    }

    /// Virtual time: sleeping jumps to the wake-up time and records it.
    #[derive(Default)]
    struct Virtual(u64, std::vec::Vec<u64>);
    impl Clock for Virtual {
        fn now_ms(&mut self) -> u64 {
            self.0
        }
        fn sleep_until_ms(&mut self, until: u64) {
            assert!(
                self.1.len() < 1000,
                "endless backoff: {:?}",
                &self.1[self.1.len().saturating_sub(5)..]
            );
            self.1.push(until);
            self.0 = self.0.max(until);
        }
    }
    impl AsyncClock for Virtual {
        fn now_ms(&mut self) -> u64 {
            self.0
        }
        async fn sleep_until_ms(&mut self, until: u64) {
            assert!(
                self.1.len() < 1000,
                "endless backoff: {:?}",
                &self.1[self.1.len().saturating_sub(5)..]
            );
            self.1.push(until);
            self.0 = self.0.max(until);
        }
    }

    /// The async and the blocking driver run the same operation to the same end, with the
    /// same exchanges, waits and wake-up times.
    #[test]
    fn both_drivers_run_an_operation_alike() {
        for e in [
            TransportError::Connect,
            TransportError::Receive,
            TransportError::Timeout,
        ] {
            let mut buf = [0u8; 1024];
            let mut s1 = Session::new(Credentials::new("id", "key", "http://b2.invalid").unwrap());
            let mut t1 = Down(e, 0);
            let mut c1 = Virtual::default();
            let mut st1 = RunStats::default();
            let r1 = crate::driver::run_counted(
                &mut Authorize::new(&mut s1, &mut buf),
                &mut t1,
                &mut c1,
                &mut st1,
            );

            let mut s2 = Session::new(Credentials::new("id", "key", "http://b2.invalid").unwrap());
            let mut t2 = Down(e, 0);
            let mut c2 = Virtual::default();
            let mut st2 = RunStats::default();
            let r2 = block_on(run_counted(
                &mut Authorize::new(&mut s2, &mut buf),
                &mut t2,
                &mut c2,
                &mut st2,
            ));
            assert_eq!(r1, r2, "{e:?}");
            assert!(r2.is_err(), "nothing answers: the operation gives up");
            assert_eq!(st1, st2);
            assert_eq!(t1.1, t2.1);
            assert!(st2.waits > 0 && st2.transport_errors == t2.1, "{st2:?}");
            assert_eq!(c1.1, c2.1, "same wake-up times");
        }
    }
}
