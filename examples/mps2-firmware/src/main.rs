//! The device job on an emulated Cortex-M4 (QEMU `mps2-an386`): smoltcp over the board's
//! LAN9118, `b2-transport-esp`'s HTTP/1.1 `StreamTransport`, and the same device logic as
//! the ESP32 firmware (`b2-sensor-logic`): authorize with a bucket-restricted key, stream a
//! generated NAS file as a large file, upload sensor readings as small objects; then
//! download one object back and check its SHA-1. Console and exit code via semihosting.
//!
//! Settings come from the host file `b2-device.cfg` (in QEMU's working directory), written
//! by `run.sh`: `key_id`, `key`, `realm`, `nas_size`, `part_size`, `objects`.
#![no_std]
#![no_main]
// No alloc: errors are returned inline, as in b2-core.
#![allow(clippy::result_large_err)]

mod clock;
mod lan9118;
mod net;
mod semi;
mod stack;

use core::fmt::Write as _;
use core::mem::{size_of, MaybeUninit};
use core::ptr::addr_of_mut;

use b2_core::driver::run;
use b2_core::op::{Authorize, Download, Target};
use b2_core::session::{Credentials, Session};
use b2_sensor_logic::checkpoint::{CheckpointSlots, RECORD_OVERHEAD};
use b2_sensor_logic::{
    nas_byte, object_content, object_name, run_device_resumable, Buffers, Config, BODY_BUFFER,
    CHECKPOINT_BUFFER, MAX_PARTS, OP_BUFFER,
};
use b2_transport_esp::StreamTransport;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use sha1::{Digest, Sha1};

use crate::lan9118::{Lan9118, MPS2_LAN9118_BASE};
use crate::net::{Net, NetStorage, TcpBuffers};

static mut NET_STORAGE: NetStorage = NetStorage::new();
static mut TCP_BUFFERS: TcpBuffers = TcpBuffers::new();
static mut NET: MaybeUninit<Net> = MaybeUninit::uninit();
static mut BUFS: Buffers = Buffers::new();
static mut BODY: [u8; BODY_BUFFER] = [0; BODY_BUFFER];
static mut SETTINGS: [u8; 512] = [0; 512];
static mut CHECKPOINT: [u8; CHECKPOINT_BUFFER] = [0; CHECKPOINT_BUFFER];

#[entry]
fn main() -> ! {
    let boot = stack::paint_below_sp();
    let code = match job(boot) {
        Ok(()) => {
            hprintln!("RESULT: ok");
            debug::EXIT_SUCCESS
        }
        Err(msg) => {
            hprintln!("RESULT: FAILED: {}", msg.as_str());
            debug::EXIT_FAILURE
        }
    };
    debug::exit(code);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("RESULT: FAILED: panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

type Msg = heapless::String<200>;

fn msg(args: core::fmt::Arguments<'_>) -> Msg {
    let mut s = Msg::new();
    let _ = s.write_fmt(args);
    s
}

/// A download sink that only hashes and counts.
struct ShaSink {
    hasher: Sha1,
    bytes: u64,
}

impl embedded_io::ErrorType for ShaSink {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Write for ShaSink {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn hex(d: &[u8; 20]) -> heapless::String<40> {
    let mut s = heapless::String::new();
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn job(boot: stack::Painted) -> Result<(), Msg> {
    let mut cp = cortex_m::Peripherals::take().ok_or_else(|| msg(format_args!("peripherals")))?;
    cp.SCB.enable_icache();
    clock::start(cp.SYST);

    // SAFETY: each static is borrowed once, here, for the rest of the run.
    let (settings_buf, net_storage, tcp_buffers, net_slot, bufs, body, record) = unsafe {
        (
            &mut *addr_of_mut!(SETTINGS),
            &mut *addr_of_mut!(NET_STORAGE),
            &mut *addr_of_mut!(TCP_BUFFERS),
            &mut *addr_of_mut!(NET),
            &mut *addr_of_mut!(BUFS),
            &mut *addr_of_mut!(BODY),
            &mut *addr_of_mut!(CHECKPOINT),
        )
    };
    let n = semi::read_file(b"b2-device.cfg\0", settings_buf).ok_or_else(|| {
        msg(format_args!(
            "cannot read b2-device.cfg through semihosting"
        ))
    })?;
    let text = core::str::from_utf8(&settings_buf[..n])
        .map_err(|_| msg(format_args!("b2-device.cfg is not UTF-8")))?;
    let set = semi::Settings(text);
    let need = |k: &str| {
        set.get(k)
            .ok_or_else(|| msg(format_args!("b2-device.cfg lacks {k}")))
    };
    let cfg = Config {
        key_id: need("key_id")?,
        key: need("key")?,
        realm: need("realm")?,
        nas_file_size: set.num("nas_size", 16 << 20),
        nas_file_name: "nas/volume1/backup.img",
        part_size: set.num("part_size", 5_000_000),
        objects: set.num("objects", 20) as u32,
        readings_per_object: 40,
    };

    // SAFETY: the LAN9118 of mps2-an386 lives at this address and only this driver uses it.
    let dev = unsafe { Lan9118::new(MPS2_LAN9118_BASE) }
        .map_err(|e| msg(format_args!("LAN9118: {e:?}")))?;
    let net: &'static mut Net = net_slot.write(Net::new(dev, net_storage, tcp_buffers));
    let mac = net.dev.mac();
    hprintln!(
        "mps2-an386: LAN9118 up, MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, IP {}, b2-sim via {}:80",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], net::OWN_IP, net::GATEWAY_FWD
    );

    // The whole NAS file's SHA-1, for the host to compare with what b2-sim stored.
    let t0 = clock::now_ms();
    let mut h = Sha1::new();
    let mut off = 0u64;
    let mut chunk = [0u8; 512];
    while off < cfg.nas_file_size {
        let n = (cfg.nas_file_size - off).min(chunk.len() as u64) as usize;
        for (i, b) in chunk[..n].iter_mut().enumerate() {
            *b = nas_byte(off + i as u64);
        }
        h.update(&chunk[..n]);
        off += n as u64;
    }
    let nas_sha1: [u8; 20] = h.finalize().into();
    hprintln!(
        "NAS file: {} bytes, sha1 {} (hashed on the device in {} ms)",
        cfg.nas_file_size,
        hex(&nas_sha1).as_str(),
        clock::now_ms() - t0
    );
    let boot_stack = boot.used();

    // The job, with the stack painted below its call.
    let mut transport = StreamTransport::new(&mut *net, &mut body[..]);
    let transport_state = size_of::<StreamTransport<'_, &mut Net>>();
    // The NAS file's checkpoint survives a reset in two host files (semi::SemiSlots).
    let mut slots = CheckpointSlots::new(semi::SemiSlots { saves: 0 });
    let painted = stack::paint_below_sp();
    let t1 = clock::now_ms();
    let report = run_device_resumable(
        &cfg,
        &mut transport,
        transport_state + BODY_BUFFER,
        &mut clock::SysClock,
        bufs,
        &mut slots,
        &mut record[..],
    )
    .map_err(|e| msg(format_args!("device job: {e}")))?;
    let job_ms = clock::now_ms() - t1;
    let job_stack = painted.used();
    let (exchanges, connects) = transport.counts();
    hprintln!(
        "uploaded: NAS file {} bytes in {} parts in {} ms ({} KB/s); {} sensor objects ({} bytes); {} exchanges ({} transport errors, {} waits, {} connections)",
        report.nas_bytes,
        report.nas_parts,
        job_ms,
        report.nas_bytes / job_ms.max(1),
        report.objects,
        report.object_bytes,
        report.stats.exchanges,
        report.stats.transport_errors,
        report.stats.waits,
        connects
    );
    let _ = exchanges;
    let rs = report.resume;
    hprintln!(
        "resume: {}; parts skipped (B2 had them, checkpoint vouched) {}, parts sent {}, bytes resent within this boot {}; checkpoint saved {} times ({} failed), {} bytes ({} bytes a slot record, 2 slots), cleared after the finish",
        if rs.resumed {
            "continued the checkpoint's file"
        } else if rs.cancelled_stale {
            "checkpoint for other parameters: its file cancelled, new file"
        } else if rs.refused {
            "checkpoint refused (damaged, or its file not cancelled), new file"
        } else {
            "no checkpoint, new file"
        },
        rs.parts_skipped,
        rs.parts_sent,
        rs.resent_bytes,
        rs.saves,
        rs.save_errors,
        rs.checkpoint_bytes,
        rs.record_bytes
    );

    // Download one sensor object back and check its SHA-1 against what was generated.
    let painted_dl = stack::paint_below_sp();
    let last = cfg.objects.saturating_sub(1);
    let (got, got_bytes, verified) = download_object(&cfg, &mut transport, &mut bufs.op, last)?;
    let dl_stack = painted_dl.used();
    let mut content = heapless::String::<2048>::new();
    object_content(last, cfg.readings_per_object, &mut content);
    let want: [u8; 20] = Sha1::digest(content.as_bytes()).into();
    hprintln!(
        "downloaded {}: {} bytes, sha1 {} (expected {}), core verified it: {}",
        object_name(last).as_str(),
        got_bytes,
        hex(&got).as_str(),
        hex(&want).as_str(),
        verified
    );
    if got != want || got_bytes != content.len() as u64 || !verified {
        return Err(msg(format_args!("SHA-1 mismatch on the downloaded object")));
    }

    // The network alone, from the same depth: connect and close.
    drop(transport);
    let painted_net = stack::paint_below_sp();
    let _ = b2_transport_esp::Connector::connect(&mut *net, "b2-sim", 80, false);
    b2_transport_esp::Connector::close(&mut *net);
    let net_stack = painted_net.used();

    let ram = report.ram;
    let sdk_static = OP_BUFFER + MAX_PARTS * 20 + BODY_BUFFER + CHECKPOINT_BUFFER;
    let sdk_stack = job_stack.max(dl_stack);
    let sdk_total = sdk_static + transport_state + sdk_stack;
    let net_static = size_of::<NetStorage>() + size_of::<TcpBuffers>() + size_of::<Net>();
    hprintln!(
        "RAM on thumbv7em (bytes), NAS file {} bytes:",
        cfg.nas_file_size
    );
    let row = |who: &str, what: &str, n: usize| hprintln!("  {:<4} {:<68} {:>6}", who, what, n);
    row(
        "SDK",
        "operations buffer (request heads, JSON answers; .bss)",
        OP_BUFFER,
    );
    row("SDK", "part digests, 32 parts x 20 (.bss)", MAX_PARTS * 20);
    row("SDK", "transport body buffer (.bss)", BODY_BUFFER);
    row(
        "SDK",
        "checkpoint record buffer, room for 32 parts + 255-byte id (.bss)",
        CHECKPOINT_BUFFER,
    );
    row("SDK", "StreamTransport state", transport_state);
    row(
        "SDK",
        "stack high-water below the job's call (deepest of job, download)",
        sdk_stack,
    );
    row("", "  its locals include Session", ram.session);
    row("", "  and LargeUpload", ram.large_upload);
    row(
        "",
        "  and the network frames under the transport; connect+close alone",
        net_stack,
    );
    row("SDK", "TOTAL (budget 16384)", sdk_total);
    row(
        "NET",
        "LAN9118 driver (2 frame buffers) + smoltcp Interface (.bss)",
        size_of::<Net>(),
    );
    row(
        "NET",
        "smoltcp TCP buffers, 4 KiB rx + 16 KiB tx (.bss)",
        size_of::<TcpBuffers>(),
    );
    row(
        "NET",
        "smoltcp socket set storage (.data)",
        size_of::<NetStorage>(),
    );
    row("NET", "TOTAL static", net_static);
    row(
        "IMG",
        ".data + .bss of the whole image (linker symbols)",
        stack::static_ram(),
    );
    row(
        "IMG",
        "stack before the job: settings, driver + smoltcp set-up, NAS hash",
        boot_stack,
    );
    hprintln!(
        "checkpoint cost: RAM {} bytes (.bss record buffer; the slot logic is in the stack figure), storage 2 x {} bytes for this file ({} + {} record bytes; at most 2 x {})",
        CHECKPOINT_BUFFER,
        rs.record_bytes,
        rs.checkpoint_bytes,
        RECORD_OVERHEAD,
        CHECKPOINT_BUFFER
    );
    hprintln!(
        "SUMMARY nas_bytes={} parts={} sdk_ram={} sdk_stack={} job_ms={} transport_errors={} waits={} resumed={} parts_skipped={} parts_sent={} checkpoint_bytes={} record_bytes={} checkpoint_saves={}",
        report.nas_bytes,
        report.nas_parts,
        sdk_total,
        sdk_stack,
        job_ms,
        report.stats.transport_errors,
        report.stats.waits,
        rs.resumed,
        rs.parts_skipped,
        rs.parts_sent,
        rs.checkpoint_bytes,
        rs.record_bytes,
        rs.saves
    );
    if sdk_total > 16 * 1024 {
        return Err(msg(format_args!(
            "SDK RAM {sdk_total} bytes is over the 16 KiB budget"
        )));
    }
    let _ = exchanges;
    Ok(())
}

/// Authorizes again and downloads sensor object `n` by name into a hashing sink.
fn download_object(
    cfg: &Config<'_>,
    transport: &mut StreamTransport<'_, &mut Net>,
    buf: &mut [u8],
    n: u32,
) -> Result<([u8; 20], u64, bool), Msg> {
    let mut session = Session::new(
        Credentials::new(cfg.key_id, cfg.key, cfg.realm)
            .map_err(|e| msg(format_args!("credentials: {e}")))?,
    );
    run(
        &mut Authorize::new(&mut session, buf),
        transport,
        &mut clock::SysClock,
    )
    .map_err(|e| msg(format_args!("authorize: {e}")))?;
    let bucket = session
        .allowed
        .bucket_name
        .clone()
        .ok_or_else(|| msg(format_args!("the key is not restricted to one bucket")))?;
    let name = object_name(n);
    let sink = ShaSink {
        hasher: Sha1::new(),
        bytes: 0,
    };
    let mut op = Download::new(
        &mut session,
        buf,
        Target::ByName {
            bucket: &bucket,
            name: &name,
        },
        sink,
    )
    .map_err(|e| msg(format_args!("download: {e}")))?;
    run(&mut op, transport, &mut clock::SysClock)
        .map_err(|e| msg(format_args!("download: {e}")))?;
    let verified = op.info().verified;
    let sink = op.into_sink();
    Ok((sink.hasher.finalize().into(), sink.bytes, verified))
}
