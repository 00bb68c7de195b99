//! Stack painting: fill the free stack below the current stack pointer with a pattern, and
//! later find the lowest word that no longer holds it (the high-water mark).

use core::ptr::{addr_of, read_volatile, write_volatile};

const PAINT: u32 = 0xC5AC_CE55;
/// Left unpainted just below the stack pointer (the painting function's own frame).
const MARGIN: usize = 64;

extern "C" {
    static __sheap: u32;
    static __sdata: u32;
    static __ebss: u32;
}

/// A painted region: from the end of the static RAM up to just below a stack pointer.
#[derive(Clone, Copy)]
pub struct Painted {
    bottom: usize,
    top: usize,
}

fn bottom() -> usize {
    // SAFETY: a linker symbol's address, never dereferenced.
    (addr_of!(__sheap) as usize + 3) & !3
}

/// Bytes of `.data` + `.bss` (+ `.uninit`), from the linker's symbols.
pub fn static_ram() -> usize {
    // SAFETY: linker symbols' addresses only.
    addr_of!(__ebss) as usize - addr_of!(__sdata) as usize
}

/// Paints the stack below the caller's stack pointer; the caller's depth is the baseline.
#[inline(always)]
pub fn paint_below_sp() -> Painted {
    let sp = cortex_m::register::msp::read() as usize;
    let top = (sp - MARGIN) & !3;
    let bottom = bottom();
    let mut a = bottom;
    while a < top {
        // SAFETY: free stack between the statics and the current frame.
        unsafe { write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
    Painted { bottom, top: sp }
}

impl Painted {
    /// Deepest stack use below the baseline since painting, in bytes.
    pub fn used(&self) -> usize {
        let mut a = self.bottom;
        while a < self.top {
            // SAFETY: inside the painted region.
            if unsafe { read_volatile(a as *const u32) } != PAINT {
                break;
            }
            a += 4;
        }
        self.top.saturating_sub(a)
    }
}
