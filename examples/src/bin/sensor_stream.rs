//! `sensor_stream`: the ESP32 firmware's logic (`b2-sensor-logic`) run on the host through
//! `b2-transport-esp` over a plain TCP `Connection`, against the bundled simulator: a
//! bucket-restricted write-only key streams a 64 MiB "NAS file" as a large file and a run of
//! sensor readings as small objects; then everything is checked and the SDK's RAM printed.
//!
//! Run: `cargo run --release -p b2-examples --bin sensor_stream [-- --size BYTES]`

use std::process::ExitCode;
use std::time::Instant;

use b2_sensor_logic::{
    nas_byte, object_content, object_name, run_device, Buffers, Config, BODY_BUFFER,
};
use b2_tests::host_conn::HostError;
use b2_tests::HostConnection;
use b2_transport_esp::EspTransport;
use b2_transport_std::client::Client;
use b2_transport_std::SystemClock;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sensor_stream: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut size: u64 = 64 << 20;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--size" => size = args.next().ok_or("--size needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let sim = b2_sim::Sim::builder().start()?;
    let (id, key) = sim.master_key();
    let admin = Client::new(id, key, sim.url())?;
    admin.create_bucket("sensor-bucket", false)?;
    let dev_key = admin.create_key(
        "sensor-device",
        &["writeFiles"],
        Some("sensor-bucket"),
        None,
    )?;
    println!(
        "simulator at {}; device key {} (writeFiles, bucket sensor-bucket only)",
        sim.url(),
        dev_key.id
    );

    let cfg = Config {
        key_id: &dev_key.id,
        key: &dev_key.key,
        realm: sim.url(),
        nas_file_size: size,
        nas_file_name: "nas/volume1/backup.img",
        part_size: 5_000_000,
        objects: 20,
        readings_per_object: 40,
    };
    let mut body = [0u8; BODY_BUFFER];
    let conns = HostConnection::default();
    let mut transport = EspTransport::new(|| Ok::<_, HostError>(conns.sibling()), &mut body);
    let transport_bytes = std::mem::size_of_val(&transport)
        - std::mem::size_of::<Option<HostConnection>>()
        + BODY_BUFFER;
    let mut bufs = Box::new(Buffers::new());
    let t = Instant::now();
    let report = run_device(
        &cfg,
        &mut transport,
        transport_bytes,
        &mut SystemClock::default(),
        &mut bufs,
    )
    .map_err(|e| format!("device job failed: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    drop(transport);

    // Check what arrived, byte for byte.
    let stored = sim
        .file_bytes("sensor-bucket", cfg.nas_file_name)
        .ok_or("NAS file missing")?;
    let intact = stored.len() as u64 == size
        && stored
            .iter()
            .enumerate()
            .all(|(i, &b)| b == nas_byte(i as u64));
    let mut objects_ok = 0;
    let mut content = heapless::String::<2048>::new();
    for n in 0..cfg.objects {
        object_content(n, cfg.readings_per_object, &mut content);
        if sim.file_bytes("sensor-bucket", &object_name(n)).as_deref() == Some(content.as_bytes()) {
            objects_ok += 1;
        }
    }
    let ram = report.ram;
    println!(
        "NAS file: {} bytes in {} parts, {:.2} s ({:.1} MB/s); {} sensor objects ({} bytes); {} exchanges, {} transport errors, chunked requests {}",
        report.nas_bytes,
        report.nas_parts,
        secs,
        report.nas_bytes as f64 / secs / 1e6,
        report.objects,
        report.object_bytes,
        report.stats.exchanges,
        report.stats.transport_errors,
        conns.chunked_requests()
    );
    println!("SDK RAM while streaming the large file (connection's own buffers excluded):");
    println!("  Session              {:>6} bytes", ram.session);
    println!("  LargeUpload          {:>6} bytes", ram.large_upload);
    println!("  operations buffer    {:>6} bytes", ram.op_buffer);
    println!(
        "  part digests         {:>6} bytes ({} parts x 20)",
        ram.digests, report.nas_parts
    );
    println!("  transport + body buf {:>6} bytes", ram.transport);
    println!(
        "  total                {:>6} bytes ({:.1} KiB; budget 12 KiB)",
        ram.large_stream_total(),
        ram.large_stream_total() as f64 / 1024.0
    );
    println!(
        "  (UploadFile for the sensor objects: {} bytes, not alive at the same time)",
        ram.upload_file
    );
    if !intact || objects_ok != cfg.objects || conns.chunked_requests() != 0 {
        return Err(format!(
            "verification failed: NAS file intact {intact}, objects {objects_ok}/{}, chunked {}",
            cfg.objects,
            conns.chunked_requests()
        )
        .into());
    }
    if ram.large_stream_total() > 12 * 1024 {
        return Err("RAM budget exceeded".into());
    }
    println!("verified: NAS file and all sensor objects intact");
    Ok(())
}
