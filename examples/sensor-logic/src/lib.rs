//! What the device does, written once for the host example (`sensor_stream`) and the
//! ESP32-C3 firmware: authorize with a bucket-restricted write-only key, stream a "NAS file"
//! from a re-readable source as a large file, then upload sensor readings cut into small
//! objects. Fixed buffers only; no std, no allocation. The transport and the clock come from
//! the caller (`b2-transport-esp` over `EspHttpConnection` on the device, over a TCP
//! connection on the host).
#![no_std]
#![forbid(unsafe_code)]
// No alloc: the engine's error is returned inline (see b2-core).
#![allow(clippy::result_large_err)]

use core::fmt::Write as _;
use core::mem::size_of;

use b2_core::driver::{run, Clock, RunStats, Transport};
use b2_core::op::{Authorize, FileParams, LargeUpload, Source, UploadFile, UploadUrl};
use b2_core::session::{Credentials, Session};
use b2_core::Error;

/// Most parts of the NAS file (its digests are kept in [`Buffers::digests`]).
pub const MAX_PARTS: usize = 32;
/// Size of the buffer the operations use for request heads and JSON answers.
pub const OP_BUFFER: usize = 2048;
/// Size of the transport's body buffer the caller should give `EspTransport`.
pub const BODY_BUFFER: usize = 1024;

/// What to do.
#[derive(Clone, Copy, Debug)]
pub struct Config<'a> {
    /// Application key id (a key restricted to one bucket, `writeFiles`).
    pub key_id: &'a str,
    /// Application key.
    pub key: &'a str,
    /// "production" or a URL.
    pub realm: &'a str,
    /// Size of the generated NAS file.
    pub nas_file_size: u64,
    /// Its name in the bucket.
    pub nas_file_name: &'a str,
    /// Part size (raised to the server's minimum).
    pub part_size: u64,
    /// Sensor objects to upload.
    pub objects: u32,
    /// Readings per object.
    pub readings_per_object: u32,
}

/// Caller-provided storage: the operations' buffer and the part digests.
pub struct Buffers {
    /// Request heads and JSON answers.
    pub op: [u8; OP_BUFFER],
    /// One 20-byte SHA-1 per part of the NAS file.
    pub digests: [[u8; 20]; MAX_PARTS],
}

impl Buffers {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Buffers {
            op: [0; OP_BUFFER],
            digests: [[0; 20]; MAX_PARTS],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// RAM the SDK uses for the large-file stream, in bytes (the connection's own buffers are
/// not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ram {
    /// `Session` (credentials, token, URLs).
    pub session: usize,
    /// `LargeUpload` state.
    pub large_upload: usize,
    /// `UploadFile` state (sensor objects; not alive at the same time as the large upload).
    pub upload_file: usize,
    /// The operations' buffer.
    pub op_buffer: usize,
    /// Part digests in use (20 bytes per part).
    pub digests: usize,
    /// The transport's state and body buffer, as given by the caller.
    pub transport: usize,
}

impl Ram {
    /// Everything alive while the large file streams.
    pub fn large_stream_total(&self) -> usize {
        self.session + self.large_upload + self.op_buffer + self.digests + self.transport
    }
}

/// What happened.
#[derive(Clone, Copy, Debug, Default)]
pub struct Report {
    /// Bytes of the NAS file uploaded.
    pub nas_bytes: u64,
    /// Its parts.
    pub nas_parts: u32,
    /// Sensor objects uploaded.
    pub objects: u32,
    /// Their bytes.
    pub object_bytes: u64,
    /// Exchanges, failures, waits.
    pub stats: RunStats,
    /// RAM used.
    pub ram: Ram,
}

/// The generated "NAS file": byte `i` is [`nas_byte`]`(i)`, re-readable at any offset.
pub struct NasFile {
    size: u64,
}

/// Content of the generated NAS file at `offset`.
pub fn nas_byte(offset: u64) -> u8 {
    let x = offset.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> 56) as u8 ^ (offset as u8)
}

impl Source for NasFile {
    fn read_at(
        &mut self,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, b2_core::op::source::ErrorKind> {
        let n = self.size.saturating_sub(offset).min(buf.len() as u64) as usize;
        for (i, b) in buf.iter_mut().take(n).enumerate() {
            *b = nas_byte(offset + i as u64);
        }
        Ok(n)
    }
}

/// Name of sensor object `n`.
pub fn object_name(n: u32) -> heapless::String<40> {
    let mut s = heapless::String::new();
    let _ = write!(s, "sensors/readings-{n:05}.csv");
    s
}

/// Content of sensor object `n`: `readings` CSV lines of a simulated temperature sensor.
pub fn object_content(n: u32, readings: u32, out: &mut heapless::String<2048>) {
    out.clear();
    for r in 0..readings {
        let t = n * readings + r;
        // A slow sawtooth with a little deterministic noise, in centi-degrees.
        let centi =
            2000 + (t % 600) as i32 - 300 + ((t.wrapping_mul(2_654_435_761) >> 28) as i32 - 8);
        if writeln!(
            out,
            "{},{}.{:02}",
            1_795_000_000 + u64::from(t) * 10,
            centi / 100,
            centi.rem_euclid(100)
        )
        .is_err()
        {
            break;
        }
    }
}

/// Runs the device job over `transport`. `transport_bytes` is what the caller's transport
/// occupies (its state and body buffer), for the RAM report.
pub fn run_device<T: Transport, C: Clock>(
    cfg: &Config<'_>,
    transport: &mut T,
    transport_bytes: usize,
    clock: &mut C,
    bufs: &mut Buffers,
) -> Result<Report, Error> {
    let mut report = Report::default();
    let mut session = Session::new(Credentials::new(cfg.key_id, cfg.key, cfg.realm)?);
    let st = run(
        &mut Authorize::new(&mut session, &mut bufs.op),
        transport,
        clock,
    )?;
    report.stats.add(&st);
    let bucket: b2_core::session::Id = session
        .allowed
        .bucket_id
        .clone()
        .ok_or(Error::Misuse("the key must be restricted to one bucket"))?;

    // (a) The NAS file, streamed part by part from its re-readable source.
    let params = FileParams::new(&bucket, cfg.nas_file_name, cfg.nas_file_size);
    let source = NasFile {
        size: cfg.nas_file_size,
    };
    let mut up = LargeUpload::new(
        &mut session,
        &mut bufs.op,
        params,
        cfg.part_size,
        source,
        &mut bufs.digests,
    )?;
    let parts = up.plan().count;
    let st = run(&mut up, transport, clock)?;
    report.stats.add(&st);
    report.nas_bytes = cfg.nas_file_size;
    report.nas_parts = parts;
    report.ram = Ram {
        session: size_of::<Session>(),
        large_upload: size_of::<LargeUpload<'_, '_, '_, '_, NasFile>>(),
        upload_file: size_of::<UploadFile<'_, '_, '_, &[u8]>>(),
        op_buffer: OP_BUFFER,
        digests: parts as usize * 20,
        transport: transport_bytes,
    };
    drop(up);

    // (b) Sensor readings cut into small objects, one upload URL reused throughout.
    let mut url: Option<UploadUrl> = None;
    let mut content = heapless::String::<2048>::new();
    for n in 0..cfg.objects {
        object_content(n, cfg.readings_per_object, &mut content);
        let name = object_name(n);
        let mut params = FileParams::new(&bucket, &name, content.len() as u64);
        params.content_type = "text/csv";
        let mut op = UploadFile::new(
            &mut session,
            &mut bufs.op,
            params,
            content.as_bytes(),
            url.take(),
        )?;
        let st = run(&mut op, transport, clock)?;
        report.stats.add(&st);
        url = op.take_upload_url();
        report.objects += 1;
        report.object_bytes += content.len() as u64;
    }
    Ok(report)
}
