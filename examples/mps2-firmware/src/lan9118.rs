//! A small polled driver for the SMSC LAN9118 Ethernet controller of the MPS2 boards (as
//! QEMU's `mps2-an386` models it at 0x4020_0000), implementing smoltcp's `phy::Device`.
//!
//! Frames move through the chip's FIFOs one 32-bit word at a time (little-endian byte
//! order); received frames end with a 4-byte FCS that is dropped here. No interrupts, no
//! DMA: `receive` pops one frame when the RX status FIFO has one, `transmit` writes the
//! TX command words and the frame.

use core::ptr::{read_volatile, write_volatile};

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Base address of the LAN9118 on MPS2 AN385/AN386.
pub const MPS2_LAN9118_BASE: usize = 0x4020_0000;

const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;

const MAC_CR_TXEN: u32 = 1 << 3;
const MAC_CR_RXEN: u32 = 1 << 2;
const MAC_CR_FDPX: u32 = 1 << 20;

const TX_CFG_TX_ON: u32 = 1 << 1;
/// Let the TX status FIFO overrun instead of stopping the transmitter.
const TX_CFG_TXSAO: u32 = 1 << 2;

const CSR_BUSY: u32 = 1 << 31;
const CSR_READ: u32 = 1 << 30;

/// RX status: error summary bit.
const RX_STS_ES: u32 = 1 << 15;

/// Largest Ethernet frame handled (without FCS).
pub const FRAME: usize = 1514;

/// Why the controller could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// `BYTE_TEST` did not read 0x87654321: no LAN9118 at this address.
    NotFound(u32),
    /// The soft reset never completed.
    ResetTimeout,
}

/// The controller and one receive and one transmit frame buffer.
pub struct Lan9118 {
    base: usize,
    rx: [u8; FRAME],
    tx: [u8; FRAME],
    mac: [u8; 6],
    /// Frames received and sent, and frames dropped (errors, oversize).
    pub counters: Counters,
}

/// Frame counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    /// Frames handed to smoltcp.
    pub rx: u32,
    /// Frames sent.
    pub tx: u32,
    /// Frames dropped on receive (error status or too large).
    pub rx_dropped: u32,
}

impl Lan9118 {
    /// Resets the controller at `base` and enables its transmitter and receiver.
    ///
    /// # Safety
    /// `base` must be the address of a LAN9118 register block that nothing else uses.
    pub unsafe fn new(base: usize) -> Result<Self, InitError> {
        let mut d = Lan9118 {
            base,
            rx: [0; FRAME],
            tx: [0; FRAME],
            mac: [0; 6],
            counters: Counters::default(),
        };
        let test = d.read(BYTE_TEST);
        if test != 0x8765_4321 {
            return Err(InitError::NotFound(test));
        }
        d.write(HW_CFG, 1); // SRST
        let mut spins = 0u32;
        while d.read(HW_CFG) & 1 != 0 {
            spins += 1;
            if spins > 1_000_000 {
                return Err(InitError::ResetTimeout);
            }
        }
        let lo = d.mac_read(MAC_ADDRL);
        let hi = d.mac_read(MAC_ADDRH);
        d.mac = [
            lo as u8,
            (lo >> 8) as u8,
            (lo >> 16) as u8,
            (lo >> 24) as u8,
            hi as u8,
            (hi >> 8) as u8,
        ];
        d.write(RX_CFG, 0);
        d.write(TX_CFG, TX_CFG_TX_ON | TX_CFG_TXSAO);
        // Exact address filter plus broadcast (ARP), full duplex.
        d.mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX);
        Ok(d)
    }

    /// The station address the board was given (QEMU: `-nic ...,mac=`).
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn read(&self, off: usize) -> u32 {
        // SAFETY: `off` is a register of the block `new` was given.
        unsafe { read_volatile((self.base + off) as *const u32) }
    }

    fn write(&self, off: usize, v: u32) {
        // SAFETY: as in `read`.
        unsafe { write_volatile((self.base + off) as *mut u32, v) }
    }

    fn mac_wait(&self) {
        let mut spins = 0u32;
        while self.read(MAC_CSR_CMD) & CSR_BUSY != 0 && spins < 100_000 {
            spins += 1;
        }
    }

    fn mac_read(&self, reg: u32) -> u32 {
        self.mac_wait();
        self.write(MAC_CSR_CMD, CSR_BUSY | CSR_READ | reg);
        self.mac_wait();
        self.read(MAC_CSR_DATA)
    }

    fn mac_write(&self, reg: u32, v: u32) {
        self.mac_wait();
        self.write(MAC_CSR_DATA, v);
        self.write(MAC_CSR_CMD, CSR_BUSY | reg);
        self.mac_wait();
    }

    /// Pops one received frame into the RX buffer; its length without FCS.
    fn pop_frame(&mut self) -> Option<usize> {
        loop {
            let inf = self.read(RX_FIFO_INF);
            if (inf >> 16) & 0xff == 0 {
                return None;
            }
            let status = self.read(RX_STATUS_FIFO);
            let len = ((status >> 16) & 0x3fff) as usize; // includes the 4-byte FCS
            let words = len.div_ceil(4);
            let keep = status & RX_STS_ES == 0 && (4..=FRAME + 4).contains(&len);
            let data_len = len.saturating_sub(4);
            for w in 0..words {
                let v = self.read(RX_DATA_FIFO).to_le_bytes();
                if keep {
                    for (i, b) in v.iter().enumerate() {
                        let at = w * 4 + i;
                        if at < data_len {
                            self.rx[at] = *b;
                        }
                    }
                }
            }
            if keep {
                self.counters.rx += 1;
                return Some(data_len);
            }
            self.counters.rx_dropped += 1;
        }
    }

    /// Sends `len` bytes of the TX buffer as one frame.
    fn send_frame(&mut self, len: usize) {
        let len = len.min(FRAME);
        send(self.base, &self.tx[..len]);
        self.counters.tx += 1;
    }
}

/// A received frame, lent to smoltcp.
pub struct RxToken<'a>(&'a [u8]);

/// Room for one frame to send.
pub struct TxToken<'a>(&'a mut Lan9118);

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(FRAME);
        let r = f(&mut self.0.tx[..len]);
        self.0.send_frame(len);
        r
    }
}

/// The receive half of a token pair borrows the RX buffer, the transmit half the rest.
pub struct Split<'a> {
    rx: &'a [u8],
    dev: TxHalf<'a>,
}

/// The device minus its RX buffer (what a reply needs).
pub struct TxHalf<'a> {
    base: usize,
    tx: &'a mut [u8; FRAME],
    counters: &'a mut Counters,
}

/// Transmit token used alongside a received frame.
pub struct PairTxToken<'a>(TxHalf<'a>);

impl phy::TxToken for PairTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(FRAME);
        let half = self.0;
        let r = f(&mut half.tx[..len]);
        send(half.base, &half.tx[..len]);
        half.counters.tx += 1;
        r
    }
}

/// Writes one frame into the TX data FIFO of the controller at `base` (first and last
/// segment in one buffer), after draining the informational TX statuses.
fn send(base: usize, frame: &[u8]) {
    // SAFETY (both closures): registers of the block the driver owns (see `Lan9118::new`).
    let read = |off: usize| unsafe { read_volatile((base + off) as *const u32) };
    let write = |off: usize, v: u32| unsafe { write_volatile((base + off) as *mut u32, v) };
    while (read(TX_FIFO_INF) >> 16) & 0xff != 0 {
        let _ = read(TX_STATUS_FIFO);
    }
    let len = frame.len() as u32;
    write(TX_DATA_FIFO, (1 << 13) | (1 << 12) | len); // command A: first + last, size
    write(TX_DATA_FIFO, (len << 16) | len); // command B: tag, packet length
    let mut words = frame.chunks_exact(4);
    for w in &mut words {
        write(TX_DATA_FIFO, u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 4];
        w[..rest.len()].copy_from_slice(rest);
        write(TX_DATA_FIFO, u32::from_le_bytes(w));
    }
}

impl<'a> Split<'a> {
    fn new(d: &'a mut Lan9118, len: usize) -> Self {
        let Lan9118 {
            base,
            rx,
            tx,
            counters,
            ..
        } = d;
        Split {
            rx: &rx[..len],
            dev: TxHalf {
                base: *base,
                tx,
                counters,
            },
        }
    }
}

impl phy::Device for Lan9118 {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = PairOrSingle<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_>, PairOrSingle<'_>)> {
        let len = self.pop_frame()?;
        let s = Split::new(self, len);
        Some((RxToken(s.rx), PairOrSingle::Pair(PairTxToken(s.dev))))
    }

    fn transmit(&mut self, _: Instant) -> Option<PairOrSingle<'_>> {
        Some(PairOrSingle::Single(TxToken(self)))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = FRAME;
        caps.max_burst_size = Some(1);
        caps
    }
}

/// The transmit token, either alone or beside a received frame.
pub enum PairOrSingle<'a> {
    /// Alongside a received frame.
    Pair(PairTxToken<'a>),
    /// On its own.
    Single(TxToken<'a>),
}

impl phy::TxToken for PairOrSingle<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        match self {
            PairOrSingle::Pair(t) => t.consume(len, f),
            PairOrSingle::Single(t) => t.consume(len, f),
        }
    }
}
