//! Saving the NAS file's large-file checkpoint across resets (issue 13, item 5).
//!
//! The job writes the core's checkpoint ([`b2_core::op::large::Checkpoint`]) after each part
//! to [`SlotStorage`]: two slots that are each replaced whole (a host file each through
//! semihosting on QEMU, a flash sector each on hardware). A save goes to the slot not
//! holding the newest record, so a reset in the middle of a save can only damage that
//! slot; the other still holds the previous checkpoint. Each record carries a sequence
//! number and a CRC-32 over all of it: on boot the valid record with the highest sequence
//! wins, a torn or empty slot is ignored.
//!
//! Record layout (little endian): sequence `u32`, length `u16`, the checkpoint's bytes,
//! CRC-32 (IEEE) of everything before: [`RECORD_OVERHEAD`] bytes besides the checkpoint.

/// Storage that survives a reset, seen as two slots that are each replaced whole.
pub trait SlotStorage {
    /// What the storage fails with.
    type Error: core::fmt::Debug;
    /// Reads slot `slot` (0 or 1) into `buf`; returns the bytes read (0 when empty or
    /// missing). Bytes beyond `buf` are not read.
    fn read_slot(&mut self, slot: u8, buf: &mut [u8]) -> Result<usize, Self::Error>;
    /// Replaces the contents of slot `slot` with `bytes`. A reset in the middle may leave
    /// this slot damaged, never the other one.
    fn write_slot(&mut self, slot: u8, bytes: &[u8]) -> Result<(), Self::Error>;
    /// Empties slot `slot`.
    fn erase_slot(&mut self, slot: u8) -> Result<(), Self::Error>;
}

/// Storage that keeps nothing (the job without resume).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStorage;

impl SlotStorage for NoStorage {
    type Error = core::convert::Infallible;
    fn read_slot(&mut self, _: u8, _: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(0)
    }
    fn write_slot(&mut self, _: u8, _: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }
    fn erase_slot(&mut self, _: u8) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Bytes of a record besides the checkpoint: sequence, length, CRC-32.
pub const RECORD_OVERHEAD: usize = 4 + 2 + 4;
const HEAD: usize = 6;

/// The two-slot scheme over a [`SlotStorage`]; see the module docs.
#[derive(Debug)]
pub struct CheckpointSlots<S: SlotStorage> {
    storage: S,
    /// Sequence number of the next record.
    next_seq: u32,
    /// Slot the next record goes to.
    next_slot: u8,
}

impl<S: SlotStorage> CheckpointSlots<S> {
    /// The scheme over `storage`; call [`CheckpointSlots::load`] first so that saves
    /// continue the sequence found there.
    pub fn new(storage: S) -> Self {
        CheckpointSlots {
            storage,
            next_seq: 1,
            next_slot: 0,
        }
    }

    /// The storage.
    pub fn storage(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Reads both slots and moves the newest valid checkpoint to the start of `buf`;
    /// returns its length, or `None` when no slot holds a valid record (or one too large
    /// for `buf`). Storage errors count as an empty slot.
    pub fn load(&mut self, buf: &mut [u8]) -> Option<usize> {
        let mut best: Option<(u8, u32)> = None;
        for slot in 0..2u8 {
            if let Some((seq, _)) = self.read_record(slot, buf) {
                if best.is_none_or(|(_, s)| seq > s) {
                    best = Some((slot, seq));
                }
            }
        }
        let (slot, seq) = best?;
        self.next_seq = seq.wrapping_add(1);
        self.next_slot = 1 - slot;
        let (_, len) = self.read_record(slot, buf)?;
        buf.copy_within(HEAD..HEAD + len, 0);
        Some(len)
    }

    fn read_record(&mut self, slot: u8, buf: &mut [u8]) -> Option<(u32, usize)> {
        let n = self.storage.read_slot(slot, buf).ok()?;
        let rec = buf.get(..n)?;
        let seq = u32::from_le_bytes(rec.get(..4)?.try_into().ok()?);
        let len = usize::from(u16::from_le_bytes(rec.get(4..6)?.try_into().ok()?));
        let end = HEAD.checked_add(len)?;
        let sum = u32::from_le_bytes(rec.get(end..end + 4)?.try_into().ok()?);
        (crc32(rec.get(..end)?) == sum).then_some((seq, len))
    }

    /// Saves a checkpoint that `fill` encodes into the slice it is given (returning its
    /// length, or `Err(needed)` when it does not fit), using `buf` as the record's room.
    /// Returns the record's length.
    pub fn save(
        &mut self,
        buf: &mut [u8],
        fill: impl FnOnce(&mut [u8]) -> Result<usize, usize>,
    ) -> Result<usize, SaveError<S::Error>> {
        let room = buf
            .len()
            .saturating_sub(RECORD_OVERHEAD)
            .min(usize::from(u16::MAX));
        let body = buf
            .get_mut(HEAD..HEAD + room)
            .ok_or(SaveError::TooLarge(RECORD_OVERHEAD))?;
        let len = fill(body).map_err(|n| SaveError::TooLarge(n + RECORD_OVERHEAD))?;
        if len > room {
            return Err(SaveError::TooLarge(len + RECORD_OVERHEAD));
        }
        buf[..4].copy_from_slice(&self.next_seq.to_le_bytes());
        buf[4..HEAD].copy_from_slice(&(len as u16).to_le_bytes());
        let end = HEAD + len;
        let sum = crc32(&buf[..end]);
        buf[end..end + 4].copy_from_slice(&sum.to_le_bytes());
        self.storage
            .write_slot(self.next_slot, &buf[..end + 4])
            .map_err(SaveError::Storage)?;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.next_slot = 1 - self.next_slot;
        Ok(end + 4)
    }

    /// Forgets any checkpoint (both slots).
    pub fn clear(&mut self) -> Result<(), S::Error> {
        self.storage.erase_slot(0)?;
        self.storage.erase_slot(1)?;
        self.next_slot = 0;
        Ok(())
    }
}

/// Why a checkpoint was not saved.
#[derive(Debug, PartialEq, Eq)]
pub enum SaveError<E> {
    /// The record needs this many bytes of room.
    TooLarge(usize),
    /// The storage failed.
    Storage(E),
}

/// CRC-32 (IEEE 802.3), computed bitwise by the `crc` crate: no table in flash or RAM.
pub fn crc32(bytes: &[u8]) -> u32 {
    const CRC: crc::Crc<u32, crc::NoTable> =
        crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);
    CRC.checksum(bytes)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[derive(Default)]
    struct Mem {
        slots: [Vec<u8>; 2],
        writes: u32,
    }

    impl SlotStorage for &mut Mem {
        type Error = ();
        fn read_slot(&mut self, slot: u8, buf: &mut [u8]) -> Result<usize, ()> {
            let s = &self.slots[usize::from(slot)];
            let n = s.len().min(buf.len());
            buf[..n].copy_from_slice(&s[..n]);
            Ok(n)
        }
        fn write_slot(&mut self, slot: u8, bytes: &[u8]) -> Result<(), ()> {
            self.writes += 1;
            self.slots[usize::from(slot)] = bytes.to_vec();
            Ok(())
        }
        fn erase_slot(&mut self, slot: u8) -> Result<(), ()> {
            self.slots[usize::from(slot)].clear();
            Ok(())
        }
    }

    fn save(slots: &mut CheckpointSlots<&mut Mem>, data: &[u8]) {
        let mut buf = [0u8; 64];
        slots
            .save(&mut buf, |out| {
                out.get_mut(..data.len())
                    .ok_or(data.len())?
                    .copy_from_slice(data);
                Ok(data.len())
            })
            .expect("save");
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn the_newest_record_wins_and_saves_alternate_slots() {
        let mut mem = Mem::default();
        let mut slots = CheckpointSlots::new(&mut mem);
        save(&mut slots, b"first");
        save(&mut slots, b"second");
        save(&mut slots, b"third");
        let mut buf = [0u8; 64];
        let mut again = CheckpointSlots::new(slots.storage);
        let n = again.load(&mut buf).expect("a record");
        assert_eq!(&buf[..n], b"third");
        // The next save replaces the older slot ("second"), never "third".
        save(&mut again, b"fourth");
        let n = again.load(&mut buf).expect("a record");
        assert_eq!(&buf[..n], b"fourth");
        assert!(again
            .storage
            .slots
            .iter()
            .any(|s| s.windows(5).any(|w| w == b"third")));
    }

    #[test]
    fn a_torn_save_leaves_the_previous_checkpoint() {
        let mut mem = Mem::default();
        let mut slots = CheckpointSlots::new(&mut mem);
        save(&mut slots, b"part one done");
        save(&mut slots, b"part two done");
        let mem = slots.storage;
        // The reset hit while the third record was written over slot 0: cut it short,
        // and also try a slot with its bytes damaged.
        let newest = mem.slots[1].clone();
        mem.slots[0] = newest[..newest.len() - 3].to_vec();
        let mut slots = CheckpointSlots::new(&mut *mem);
        let mut buf = [0u8; 64];
        let n = slots.load(&mut buf).expect("the other slot");
        assert_eq!(&buf[..n], b"part two done");
        let mem = slots.storage;
        mem.slots[1][7] ^= 1;
        let mut slots = CheckpointSlots::new(&mut *mem);
        assert_eq!(slots.load(&mut buf), None, "no valid record left");
    }

    #[test]
    fn clear_forgets_and_too_small_room_is_refused() {
        let mut mem = Mem::default();
        let mut slots = CheckpointSlots::new(&mut mem);
        save(&mut slots, b"x");
        slots.clear().expect("clear");
        let mut buf = [0u8; 64];
        assert_eq!(slots.load(&mut buf), None);
        let mut small = [0u8; 12];
        let r = slots.save(&mut small, |_| Err(40));
        assert_eq!(r, Err(SaveError::TooLarge(40 + RECORD_OVERHEAD)));
        assert_eq!(
            slots.storage.writes, 1,
            "nothing written for a refused save"
        );
    }
}

/// The two slots on NOR flash (`embedded-storage`): slot `n` is the `slot_len` bytes at
/// `base + n * slot_len`, each a whole number of erase sectors. A save erases its slot's
/// sectors and programs the record (padded with `0xFF` to the write size); erased flash
/// reads as a record whose length runs past the slot, which is refused like a torn one.
#[cfg(feature = "embedded-storage")]
#[derive(Debug)]
pub struct NorFlashSlots<F> {
    flash: F,
    base: u32,
    slot_len: u32,
}

/// Why a [`NorFlashSlots`] is refused.
#[cfg(feature = "embedded-storage")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashLayoutError {
    /// `base` or `slot_len` is not a multiple of the erase size, or `slot_len` is 0.
    Unaligned,
    /// The two slots do not fit in the flash.
    TooLarge,
    /// The flash's write size is above [`MAX_WRITE_SIZE`].
    WriteSize,
}

/// Largest flash write size [`NorFlashSlots`] supports (it programs from a 64-byte chunk).
#[cfg(feature = "embedded-storage")]
pub const MAX_WRITE_SIZE: usize = 64;

#[cfg(feature = "embedded-storage")]
impl<F: embedded_storage::nor_flash::NorFlash> NorFlashSlots<F> {
    /// Two slots of `slot_len` bytes from `base` (at least [`crate::CHECKPOINT_BUFFER`]
    /// rounded up to the erase size, for the device job).
    pub fn new(flash: F, base: u32, slot_len: u32) -> Result<Self, FlashLayoutError> {
        if F::WRITE_SIZE > MAX_WRITE_SIZE {
            return Err(FlashLayoutError::WriteSize);
        }
        let erase = F::ERASE_SIZE as u32;
        if slot_len == 0 || !base.is_multiple_of(erase) || !slot_len.is_multiple_of(erase) {
            return Err(FlashLayoutError::Unaligned);
        }
        let end = slot_len
            .checked_mul(2)
            .and_then(|n| n.checked_add(base))
            .ok_or(FlashLayoutError::TooLarge)?;
        if end as usize > flash.capacity() {
            return Err(FlashLayoutError::TooLarge);
        }
        Ok(NorFlashSlots {
            flash,
            base,
            slot_len,
        })
    }

    /// The flash back.
    pub fn into_inner(self) -> F {
        self.flash
    }

    fn start(&self, slot: u8) -> u32 {
        self.base + u32::from(slot.min(1)) * self.slot_len
    }
}

#[cfg(feature = "embedded-storage")]
impl<F: embedded_storage::nor_flash::NorFlash> SlotStorage for NorFlashSlots<F> {
    type Error = F::Error;

    fn read_slot(&mut self, slot: u8, buf: &mut [u8]) -> Result<usize, F::Error> {
        let n = buf.len().min(self.slot_len as usize);
        let n = n - n % F::READ_SIZE.max(1);
        let start = self.start(slot);
        let into = buf.get_mut(..n).unwrap_or(&mut []);
        self.flash.read(start, into)?;
        Ok(n)
    }

    fn write_slot(&mut self, slot: u8, bytes: &[u8]) -> Result<(), F::Error> {
        let start = self.start(slot);
        self.flash.erase(start, start + self.slot_len)?;
        // Program in chunks padded to the write size (`0xFF` leaves erased bits as they are).
        let ws = F::WRITE_SIZE.max(1);
        let mut chunk = [0xFFu8; MAX_WRITE_SIZE];
        let step = (chunk.len() / ws).max(1) * ws;
        let bytes = bytes.get(..self.slot_len as usize).unwrap_or(bytes);
        for (i, part) in bytes.chunks(step).enumerate() {
            let padded = part.len().div_ceil(ws) * ws;
            let Some(dst) = chunk.get_mut(..padded) else {
                break; // unreachable: `new` refuses a write size above the chunk
            };
            dst.fill(0xFF);
            dst[..part.len()].copy_from_slice(part);
            self.flash.write(start + (i * step) as u32, dst)?;
        }
        Ok(())
    }

    fn erase_slot(&mut self, slot: u8) -> Result<(), F::Error> {
        let start = self.start(slot);
        self.flash.erase(start, start + self.slot_len)
    }
}

#[cfg(all(test, feature = "embedded-storage"))]
mod flash_tests {
    use super::*;
    use embedded_storage::nor_flash::{
        ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
    };

    /// NOR flash in RAM with its rules: erase sets a sector to 0xFF, programming can only
    /// clear bits, offsets and lengths must be aligned.
    struct RamFlash {
        mem: [u8; 4096],
    }

    #[derive(Debug)]
    struct Misaligned;
    impl NorFlashError for Misaligned {
        fn kind(&self) -> NorFlashErrorKind {
            NorFlashErrorKind::NotAligned
        }
    }
    impl ErrorType for RamFlash {
        type Error = Misaligned;
    }
    impl ReadNorFlash for RamFlash {
        const READ_SIZE: usize = 1;
        fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Misaligned> {
            let o = offset as usize;
            bytes.copy_from_slice(self.mem.get(o..o + bytes.len()).ok_or(Misaligned)?);
            Ok(())
        }
        fn capacity(&self) -> usize {
            self.mem.len()
        }
    }
    impl NorFlash for RamFlash {
        const WRITE_SIZE: usize = 4;
        const ERASE_SIZE: usize = 1024;
        fn erase(&mut self, from: u32, to: u32) -> Result<(), Misaligned> {
            if !from.is_multiple_of(1024) || !to.is_multiple_of(1024) {
                return Err(Misaligned);
            }
            self.mem
                .get_mut(from as usize..to as usize)
                .ok_or(Misaligned)?
                .fill(0xFF);
            Ok(())
        }
        fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Misaligned> {
            if !offset.is_multiple_of(4) || !bytes.len().is_multiple_of(4) {
                return Err(Misaligned);
            }
            let o = offset as usize;
            let dst = self.mem.get_mut(o..o + bytes.len()).ok_or(Misaligned)?;
            for (d, s) in dst.iter_mut().zip(bytes) {
                *d &= *s;
            }
            Ok(())
        }
    }

    #[test]
    fn slots_on_nor_flash_keep_the_newest_record_and_refuse_erased_sectors() {
        let flash = RamFlash { mem: [0; 4096] };
        assert_eq!(
            NorFlashSlots::new(RamFlash { mem: [0; 4096] }, 512, 1024).err(),
            Some(FlashLayoutError::Unaligned)
        );
        assert_eq!(
            NorFlashSlots::new(RamFlash { mem: [0; 4096] }, 2048, 2048).err(),
            Some(FlashLayoutError::TooLarge)
        );
        let mut slots =
            CheckpointSlots::new(NorFlashSlots::new(flash, 1024, 1024).expect("layout"));
        let mut buf = [0u8; 1024];
        // Never-written flash (zeros here) and erased flash both hold no record.
        assert_eq!(slots.load(&mut buf), None);
        slots.clear().expect("erase");
        assert_eq!(slots.load(&mut buf), None);
        for text in [&b"one part done"[..], b"two parts done!", b"three parts"] {
            let mut room = [0u8; 128];
            slots
                .save(&mut room, |out| {
                    out[..text.len()].copy_from_slice(text);
                    Ok(text.len())
                })
                .expect("save");
        }
        let n = slots.load(&mut buf).expect("record");
        assert_eq!(&buf[..n], b"three parts");
        slots.clear().expect("clear");
        assert_eq!(slots.load(&mut buf), None);
    }
}
