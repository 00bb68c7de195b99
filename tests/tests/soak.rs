//! Chaos soak: hundreds of files of mixed sizes (from local files, readers and streams of
//! unknown length) through `b2-transport-std` with several threads while `b2-sim` injects
//! every fault it has at once; then every file is downloaded and compared byte for byte.
//! Scale it with `SOAK_FILES` (default 300); `bench/soak.sh` runs a longer one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use b2_core::driver::run;
use b2_core::op::{Authorize, FileParams, LargeUpload, UploadFile};
use b2_core::session::{Credentials, Session};
use b2_sim::{Faults, Sim};
use b2_tests::host_conn::HostError;
use b2_tests::HostConnection;
use b2_transport_esp::EspTransport;
use b2_transport_std::client::{Client, DownloadTarget, UploadOptions};
use b2_transport_std::SystemClock;

const PART: u64 = 100_000;

/// Deterministic content of file `i` with `len` bytes.
fn content(i: usize, len: usize) -> Vec<u8> {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sizes cycling through the interesting cases.
fn size_of_file(i: usize) -> usize {
    let p = PART as usize;
    match i % 10 {
        0 => 0,
        1 => 1,
        2 => 100 + i,
        3 => 4096,
        4 => 20_000 + i * 7,
        5 => p - 1,
        6 => p,
        7 => p + 1,
        8 => 2 * p + i,
        _ => 4 * p + 13,
    }
}

fn every_fault(seed: u64) -> Faults {
    Faults {
        seed,
        upload_503_every: Some(7),
        upload_503_after_body: seed % 2 == 1,
        expire_token_every: Some(23),
        too_many_requests_every: Some(41),
        retry_after_secs: 1,
        reset_upload_every: Some(11),
        delay: Some(Duration::from_millis(1)),
        lose_answer_every: Some(23),
        ..Faults::default()
    }
}

/// The retry policy for this soak's fault density. About one upload in four fails here (a
/// 503 every 7th, a reset every 11th, a lost answer every 23rd, which a write-only key
/// cannot look up), far above real B2's rate, so five failed upload URLs in a row, the
/// checklist's default, happen by chance about once in a dozen runs: eight here.
fn dense() -> b2_core::retry::RetryPolicy {
    b2_core::retry::RetryPolicy {
        max_upload_urls: 8,
        ..b2_core::retry::RetryPolicy::default()
    }
}

/// Uploads files `range` through `b2-transport-esp` over the host connection.
fn esp_uploads(
    url: &str,
    key: &(String, String),
    bucket_id: &str,
    range: std::ops::Range<usize>,
) -> Result<(), String> {
    let mut session =
        Session::new(Credentials::new(&key.0, &key.1, url).map_err(|e| e.to_string())?);
    let mut body = [0u8; 1024];
    let conns = HostConnection::new(Duration::from_secs(10));
    let mut t = EspTransport::new(|| Ok::<_, HostError>(conns.sibling()), &mut body);
    let mut clock = SystemClock::default();
    let mut buf = [0u8; 2048];
    run(
        &mut Authorize::new(&mut session, &mut buf),
        &mut t,
        &mut clock,
    )
    .map_err(|e| e.to_string())?;
    for i in range {
        let data = content(i, size_of_file(i));
        let name = format!("soak/{i:05}-{}.bin", data.len());
        let params = FileParams::new(bucket_id, &name, data.len() as u64);
        let r = if data.len() as u64 > PART {
            let mut digests = [[0u8; 20]; 8];
            let mut op = LargeUpload::new(
                &mut session,
                &mut buf,
                params,
                PART,
                &data[..],
                &mut digests,
            )
            .map_err(|e| e.to_string())?
            .with_policy(dense());
            run(&mut op, &mut t, &mut clock).map(drop)
        } else {
            let mut op = UploadFile::new(&mut session, &mut buf, params, &data[..], None)
                .map_err(|e| e.to_string())?
                .with_policy(dense());
            run(&mut op, &mut t, &mut clock).map(drop)
        };
        r.map_err(|e| format!("esp {name}: {e}"))?;
    }
    drop(t);
    if conns.chunked_requests() != 0 {
        return Err("the ESP transport sent a chunked request".into());
    }
    Ok(())
}

#[test]
fn chaos_soak_loses_nothing() {
    let std_files: usize = std::env::var("SOAK_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let esp_files = std_files / 10;
    let files = std_files + esp_files;
    let threads = 4;
    let t0 = Instant::now();
    let sim = Sim::builder()
        .min_part_size(PART)
        .faults(every_fault(1))
        .start()
        .expect("sim");
    let (id, key) = sim.master_key();
    let client = Client::builder()
        .credentials(id, key)
        .realm(sim.url())
        .retry_policy(dense())
        .build()
        .expect("client");
    let bucket = client.create_bucket("soak-bucket", false).expect("bucket");
    let device_key = client
        .create_key("soak-device", &["writeFiles"], Some("soak-bucket"), None)
        .expect("key");
    let device_key = (device_key.id, device_key.key);

    let local = std::env::temp_dir().join(format!("b2-soak-{}", std::process::id()));
    std::fs::create_dir_all(&local).expect("local dir");
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    let opts = UploadOptions {
        part_size: Some(PART),
        large_threshold: PART,
        threads: 2,
        ..UploadOptions::default()
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            if let Err(e) = esp_uploads(sim.url(), &device_key, &bucket.id, std_files..files) {
                errors.lock().expect("lock").push(e);
            }
        });
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= std_files {
                    break;
                }
                let data = content(i, size_of_file(i));
                let name = format!("soak/{i:05}-{}.bin", data.len());
                // A third each: from a local file (parts read by offset, hashed first), from a
                // reader of known bytes, as a stream of unknown length.
                let r = match i % 3 {
                    0 => {
                        let path = local.join(format!("{i}.bin"));
                        let o = opts.clone();
                        std::fs::write(&path, &data)
                            .map_err(b2_transport_std::client::ClientError::from)
                            .and_then(|()| client.upload_path("soak-bucket", &path, &name, &o))
                            .inspect(|_| {
                                let _ = std::fs::remove_file(&path);
                            })
                    }
                    1 => client.upload_reader("soak-bucket", &data[..], &name, &opts),
                    _ => client.upload_reader(
                        "soak-bucket",
                        std::io::Cursor::new(&data),
                        &name,
                        &opts,
                    ),
                };
                if let Err(e) = r {
                    errors.lock().expect("lock").push(format!("{name}: {e}"));
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&local);
    let upload_stats = sim.stats();
    let client_stats = client.stats();
    // Read everything back (faults still on), byte for byte.
    let mut lost = 0;
    let mut corrupted = 0;
    let mut bytes = 0u64;
    for i in 0..files {
        let data = content(i, size_of_file(i));
        let name = format!("soak/{i:05}-{}.bin", data.len());
        let mut got = Vec::new();
        match client.download_to_writer(
            &DownloadTarget::ByName {
                bucket: "soak-bucket".into(),
                name: name.clone(),
            },
            &mut got,
            None,
            None,
        ) {
            Ok(_) if got == data => bytes += data.len() as u64,
            Ok(_) => corrupted += 1,
            Err(e) => {
                lost += 1;
                errors
                    .lock()
                    .expect("lock")
                    .push(format!("download {name}: {e}"));
            }
        }
    }
    let unfinished = sim.unfinished_large_files();
    // Each upload happened once: no name has two versions. The device uploads use a
    // write-only key, which may not list, so a lost answer there is sent again (counted).
    let mut versions = std::collections::HashMap::<String, usize>::new();
    for v in client
        .ls("soak-bucket", "soak/", true, true)
        .expect("list versions")
    {
        let v = v.expect("version");
        if v.action == "upload" {
            *versions.entry(v.file_name).or_default() += 1;
        }
    }
    let twice = |esp: bool| {
        (0..files)
            .filter(|&i| (i >= std_files) == esp)
            .filter(|&i| {
                let name = format!("soak/{i:05}-{}.bin", size_of_file(i));
                versions.get(&name).copied().unwrap_or(0) > 1
            })
            .count()
    };
    let (duplicated, device_duplicated) = (twice(false), twice(true));
    let f = &upload_stats.faults;
    println!(
        "soak: {files} files ({std_files} through b2-transport-std, {esp_files} through b2-transport-esp), {bytes} bytes, {:.1} s; faults injected: {} x 503, {} resets, {} expired tokens, {} x 429, {} delayed answers, {} answers lost after storing; \
         client exchanges {} of which {} failed and were retried ({} backoff waits, {} ms); lost {lost}, corrupted {corrupted}, unfinished large files {unfinished}, \
         stored twice {duplicated} (device key, cannot list: {device_duplicated})",
        t0.elapsed().as_secs_f64(),
        f.service_unavailable,
        f.resets,
        f.expired_tokens,
        f.too_many_requests,
        f.delayed,
        f.lost_answers,
        client_stats.exchanges,
        client_stats.failed_exchanges,
        client_stats.waits,
        client_stats.waited_ms,
    );
    let errors = errors.into_inner().expect("lock");
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!((lost, corrupted, unfinished, duplicated), (0, 0, 0, 0));
    assert!(
        f.service_unavailable > 0
            && f.resets > 0
            && f.expired_tokens > 0
            && f.too_many_requests > 0,
        "{f:?}"
    );
    assert!(client_stats.failed_exchanges > 0);
}
