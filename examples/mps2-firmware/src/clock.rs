//! Milliseconds since boot from SysTick (1 kHz interrupt), and the core's `Clock`.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;

/// The MPS2 boards clock the Cortex-M at 25 MHz.
const CPU_HZ: u32 = 25_000_000;

static TICKS: AtomicU32 = AtomicU32::new(0);

/// Starts SysTick at 1 kHz.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CPU_HZ / 1000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Milliseconds since `start`.
pub fn now_ms() -> u64 {
    u64::from(TICKS.load(Ordering::Relaxed))
}

/// The caller's clock the B2 driver needs.
pub struct SysClock;

impl b2_core::driver::Clock for SysClock {
    fn now_ms(&mut self) -> u64 {
        now_ms()
    }
    fn sleep_until_ms(&mut self, until_ms: u64) {
        while now_ms() < until_ms {
            cortex_m::asm::wfi();
        }
    }
}
