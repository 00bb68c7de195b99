//! What the device does, written once for the host example (`sensor_stream`) and the
//! ESP32-C3 firmware: authorize with a bucket-restricted write-only key, stream a "NAS file"
//! from a re-readable source as a large file, then upload sensor readings cut into small
//! objects. Fixed buffers only; no std, no allocation. The transport and the clock come from
//! the caller (`b2-transport-esp` over `EspHttpConnection` on the device, over a TCP
//! connection on the host).
//!
//! [`run_device_resumable`] also saves the NAS file's large-file checkpoint after each part
//! to storage that survives a reset ([`checkpoint::SlotStorage`]) and, on the next boot,
//! continues that file instead of starting a new one.
#![no_std]
#![forbid(unsafe_code)]
// No alloc: the engine's error is returned inline (see b2-core).
#![allow(clippy::result_large_err)]

use core::fmt::Write as _;
use core::mem::size_of;

use b2_core::driver::{run, run_counted, Clock, RunStats, Transport};
use b2_core::http::{Headers, Request, TransportError};
use b2_core::op::large::Checkpoint;
use b2_core::op::{
    Abort, Authorize, Call, Exchange, FileParams, LargeUpload, Operation, Resume, Source, Step,
    UploadFile, UploadUrl,
};
use b2_core::session::{Credentials, Session};
use b2_core::wire::large::CancelLargeFile;
use b2_core::{Error, InvalidInput};

pub mod checkpoint;
use checkpoint::{CheckpointSlots, NoStorage, SlotStorage, RECORD_OVERHEAD};

/// Most parts of the NAS file (its digests are kept in [`Buffers::digests`]).
pub const MAX_PARTS: usize = 32;
/// Size of the buffer the operations use for request heads and JSON answers.
pub const OP_BUFFER: usize = 2048;
/// Size of the transport's body buffer the caller should give `EspTransport`.
pub const BODY_BUFFER: usize = 1024;
/// Room for one checkpoint record of the NAS file: the core's checkpoint (38 bytes, the
/// file id of up to 255 bytes, 20 bytes a part for [`MAX_PARTS`] parts) plus the slot
/// record's [`RECORD_OVERHEAD`].
pub const CHECKPOINT_BUFFER: usize = 38 + 255 + 20 * MAX_PARTS + RECORD_OVERHEAD;

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
    /// What the checkpoint did (all zero without resume).
    pub resume: ResumeReport,
}

/// The NAS file's checkpoint: what was found on boot and saved during the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResumeReport {
    /// A valid checkpoint for the same file parameters was found and the file continued.
    pub resumed: bool,
    /// A checkpoint was found but refused (damaged, or for other parameters): new file.
    pub refused: bool,
    /// The refused checkpoint was for other parameters and its unfinished large file was
    /// cancelled (`b2_cancel_large_file`, which needs only `writeFiles`).
    pub cancelled_stale: bool,
    /// Parts B2 had with the checkpoint's SHA-1, neither read nor sent again.
    pub parts_skipped: u32,
    /// Parts sent in this run.
    pub parts_sent: u32,
    /// Checkpoints saved (after the file started and after each part).
    pub saves: u32,
    /// Saves that failed (the upload goes on; a reset then resumes from an older one).
    pub save_errors: u32,
    /// Bytes of the last checkpoint (the core's encoding, without the slot record).
    pub checkpoint_bytes: usize,
    /// Bytes of the last slot record written.
    pub record_bytes: usize,
    /// Bytes of parts sent more than once within this run (retries of a failed part).
    pub resent_bytes: u64,
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
    job(
        cfg,
        transport,
        transport_bytes,
        clock,
        bufs,
        None::<(&mut CheckpointSlots<NoStorage>, &mut [u8])>,
    )
}

/// As [`run_device`], saving the NAS file's checkpoint after each part into `slots`
/// (`record` is the room to encode it in, [`CHECKPOINT_BUFFER`] bytes). On entry a valid
/// checkpoint for the same file parameters is continued with [`Resume::Checkpoint`]: the
/// parts B2 has with the checkpoint's SHA-1 are neither read nor sent again. A damaged
/// checkpoint is ignored and a new file started; one for other parameters too, after its
/// unfinished file is cancelled (best effort). After the
/// file is finished the checkpoint is cleared.
pub fn run_device_resumable<T: Transport, C: Clock, S: SlotStorage>(
    cfg: &Config<'_>,
    transport: &mut T,
    transport_bytes: usize,
    clock: &mut C,
    bufs: &mut Buffers,
    slots: &mut CheckpointSlots<S>,
    record: &mut [u8],
) -> Result<Report, Error> {
    job(
        cfg,
        transport,
        transport_bytes,
        clock,
        bufs,
        Some((slots, record)),
    )
}

fn job<T: Transport, C: Clock, S: SlotStorage>(
    cfg: &Config<'_>,
    transport: &mut T,
    transport_bytes: usize,
    clock: &mut C,
    bufs: &mut Buffers,
    mut store: Option<(&mut CheckpointSlots<S>, &mut [u8])>,
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

    // (a) The NAS file, streamed part by part from its re-readable source. It is read once
    // first for its SHA-1, which B2 keeps as `large_file_sha1`: every download of the file
    // is then verified end to end.
    let mut source = NasFile {
        size: cfg.nas_file_size,
    };
    let (whole, _) =
        b2_core::op::source::sha1_range(&mut source, 0, cfg.nas_file_size, &mut bufs.op)?;
    let mut params = FileParams::new(&bucket, cfg.nas_file_name, cfg.nas_file_size);
    params.sha1 = Some(whole);
    let mut resume = Resume::No;
    if let Some((slots, record)) = store.as_mut() {
        if let Some(n) = slots.load(record) {
            let decoded = record
                .get(..n)
                .ok_or(InvalidInput::Checkpoint)
                .and_then(|b| Checkpoint::decode(b, &mut bufs.digests));
            match decoded {
                // Is it for these parameters? (The coordinator checks the fingerprint.)
                Ok(head)
                    if b2_core::op::LargeFile::new(
                        &session,
                        params,
                        cfg.part_size,
                        &mut bufs.digests,
                        Resume::Checkpoint(head.clone()),
                    )
                    .is_ok() =>
                {
                    resume = Resume::Checkpoint(head);
                    report.resume.resumed = true;
                }
                // For other parameters (the settings changed): that file can never be
                // finished by this job, so cancel it rather than leave its parts stored.
                // Best effort: it may be gone already.
                Ok(head) => {
                    report.resume.refused = true;
                    let mut cancel = Call::new(
                        &mut session,
                        &mut bufs.op,
                        CancelLargeFile {
                            file_id: &head.file_id,
                        },
                    );
                    let mut st = RunStats::default();
                    report.resume.cancelled_stale =
                        run_counted(&mut cancel, transport, clock, &mut st).is_ok();
                    report.stats.add(&st);
                }
                Err(_) => report.resume.refused = true,
            }
        }
    }
    let mut up = LargeUpload::with_resume(
        &mut session,
        &mut bufs.op,
        params,
        cfg.part_size,
        source,
        &mut bufs.digests,
        resume,
    )?;
    let parts = up.plan().count;
    let st = match store {
        Some((slots, record)) => {
            let mut op = Saving {
                up: &mut up,
                slots,
                record,
                saved: None,
                report: &mut report.resume,
            };
            let st = run(&mut op, transport, clock)?;
            // Finished: nothing left to resume. A failure to clear is only reported; the
            // next boot finds the file finished.
            if op.slots.clear().is_err() {
                op.report.save_errors += 1;
            }
            st
        }
        None => run(&mut up, transport, clock)?,
    };
    report.stats.add(&st);
    report.resume.parts_skipped = up.skipped_parts();
    report.resume.parts_sent = parts.saturating_sub(up.skipped_parts());
    report.resume.resent_bytes = up.resent_bytes();
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

/// The large upload, saving its checkpoint whenever the file has started or a part is done
/// (checked after each poll, so before the next part is sent).
struct Saving<'a, 's, 'b, 'p, 'd, 'k, S: SlotStorage> {
    up: &'a mut LargeUpload<'s, 'b, 'p, 'd, NasFile>,
    slots: &'k mut CheckpointSlots<S>,
    record: &'k mut [u8],
    /// Parts done at the last save (`None`: nothing saved yet).
    saved: Option<u32>,
    report: &'k mut ResumeReport,
}

impl<S: SlotStorage> Saving<'_, '_, '_, '_, '_, '_, S> {
    fn save_if_progressed(&mut self) {
        let done = self.up.parts_done();
        if self.up.file_id().is_empty() || self.saved.is_some_and(|s| s >= done) {
            return;
        }
        let up = &*self.up;
        let mut len = 0;
        let r = self.slots.save(self.record, |out| {
            let n = up.write_checkpoint(out)?;
            len = n;
            Ok(n)
        });
        match r {
            Ok(n) => {
                self.report.saves += 1;
                self.report.checkpoint_bytes = len;
                self.report.record_bytes = n;
            }
            Err(_) => self.report.save_errors += 1,
        }
        self.saved = Some(done);
    }
}

impl<S: SlotStorage> Exchange for Saving<'_, '_, '_, '_, '_, '_, S> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        self.up.request()
    }
    fn body(&mut self, buf: &mut [u8]) -> Result<usize, Abort> {
        self.up.body(buf)
    }
    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
        self.up.response(status, headers)
    }
    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort> {
        self.up.response_body(chunk)
    }
    fn response_end(&mut self) -> Result<(), Abort> {
        self.up.response_end()
    }
}

impl<S: SlotStorage> Operation for Saving<'_, '_, '_, '_, '_, '_, S> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        let step = self.up.poll(now_ms)?;
        if step != Step::Done {
            self.save_if_progressed();
        }
        Ok(step)
    }
    fn transport_failed(&mut self, error: TransportError, now_ms: u64) {
        self.up.transport_failed(error, now_ms);
    }
    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}
