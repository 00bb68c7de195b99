//! The run's settings, read from a host file through semihosting (`SYS_OPEN`/`SYS_READ`).

use cortex_m_semihosting::{hprintln, syscall};

/// Reads the host file `name` (NUL-terminated) into `buf`; returns the bytes read.
pub fn read_file(name: &[u8], buf: &mut [u8]) -> Option<usize> {
    if name.last() != Some(&0) {
        return None;
    }
    // SAFETY: semihosting calls with valid pointers and lengths; QEMU is the debugger.
    unsafe {
        let fd = syscall!(OPEN, name.as_ptr(), 0usize, name.len() - 1) as isize;
        if fd < 0 {
            return None;
        }
        let left = syscall!(READ, fd as usize, buf.as_mut_ptr(), buf.len());
        syscall!(CLOSE, fd as usize);
        if left > buf.len() {
            return None;
        }
        Some(buf.len() - left)
    }
}

/// `name=value` lines.
pub struct Settings<'a>(pub &'a str);

impl<'a> Settings<'a> {
    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == name).then(|| v.trim())
        })
    }

    /// A number, or `default`.
    pub fn num(&self, name: &str, default: u64) -> u64 {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

/// The checkpoint's two slots as host files `b2-ckpt-0.bin` and `b2-ckpt-1.bin` in QEMU's
/// working directory. A save opens its slot's file with mode `wb` (truncated), writes the
/// record in one `SYS_WRITE` and closes it: a reset in the middle leaves that file empty or
/// short, which the record's CRC-32 refuses, and the other file untouched. Each save is
/// printed (`checkpoint: save N ...`), which `run.sh --kill-resume` watches.
pub struct SemiSlots {
    /// Saves so far in this boot.
    pub saves: u32,
}

const SLOT_NAMES: [&[u8]; 2] = [b"b2-ckpt-0.bin\0", b"b2-ckpt-1.bin\0"];

/// Semihosting `SYS_OPEN` modes.
const MODE_RB: usize = 1;
const MODE_WB: usize = 5;

fn open(slot: u8, mode: usize) -> Result<usize, ()> {
    let name = SLOT_NAMES.get(usize::from(slot)).ok_or(())?;
    // SAFETY: a NUL-terminated name and its length without the NUL; QEMU is the debugger.
    let fd = unsafe { syscall!(OPEN, name.as_ptr(), mode, name.len() - 1) } as isize;
    if fd < 0 {
        Err(())
    } else {
        Ok(fd as usize)
    }
}

impl b2_sensor_logic::checkpoint::SlotStorage for SemiSlots {
    type Error = ();

    fn read_slot(&mut self, slot: u8, buf: &mut [u8]) -> Result<usize, ()> {
        let Ok(fd) = open(slot, MODE_RB) else {
            return Ok(0); // no file yet: an empty slot
        };
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let left = unsafe {
            let left = syscall!(READ, fd, buf.as_mut_ptr(), buf.len());
            syscall!(CLOSE, fd);
            left
        };
        buf.len().checked_sub(left).ok_or(())
    }

    fn write_slot(&mut self, slot: u8, bytes: &[u8]) -> Result<(), ()> {
        let fd = open(slot, MODE_WB)?;
        // SAFETY: `bytes` is valid for `bytes.len()` bytes.
        let left = unsafe {
            let left = syscall!(WRITE, fd, bytes.as_ptr(), bytes.len());
            syscall!(CLOSE, fd);
            left
        };
        if left != 0 {
            return Err(());
        }
        self.saves += 1;
        hprintln!(
            "checkpoint: save {} to slot {}, {} bytes, {} parts done",
            self.saves,
            slot,
            bytes.len(),
            parts_in_record(bytes)
        );
        Ok(())
    }

    fn erase_slot(&mut self, slot: u8) -> Result<(), ()> {
        let fd = open(slot, MODE_WB)?;
        // SAFETY: closing the descriptor just opened.
        unsafe { syscall!(CLOSE, fd) };
        Ok(())
    }
}

/// Parts recorded as done in a slot record (for the console): the non-zero digests of the
/// core's checkpoint inside it (record head 6 bytes; checkpoint: magic 4, version 1,
/// fingerprint 8, id length 1, id, part size 8, size 8, count 4, digests, sum 4).
fn parts_in_record(rec: &[u8]) -> usize {
    let Some(&id_len) = rec.get(6 + 13) else {
        return 0;
    };
    let digests = 6 + 14 + usize::from(id_len) + 20;
    let end = rec.len().saturating_sub(8);
    rec.get(digests..end)
        .map(|d| d.chunks(20).filter(|c| c.iter().any(|&b| b != 0)).count())
        .unwrap_or(0)
}
