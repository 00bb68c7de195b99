//! End to end: parallel ranged downloads over real loopback sockets against `b2-sim`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use b2_sim::{Faults, Sim};
use b2_transport_std::client::{
    Client, DownloadTarget, ParallelDownload, Progress, RetryPolicy, UploadOptions,
};

fn sim_with(faults: Faults, dir: Option<&Path>) -> (Sim, Client) {
    let mut b = Sim::builder().min_part_size(100_000).faults(faults);
    if let Some(d) = dir {
        b = b.data_dir(d);
    }
    let sim = b.start().expect("sim");
    let (id, key) = sim.master_key();
    let client = Client::new(id, key, sim.url()).expect("client");
    (sim, client)
}

fn tmpdir(tag: &str) -> PathBuf {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(7);
    let d = std::env::temp_dir().join(format!(
        "b2-pdl-{tag}-{}-{:08x}",
        std::process::id(),
        h.finish() as u32
    ));
    std::fs::create_dir_all(&d).expect("tmp");
    d
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32) as u8
        })
        .collect()
}

/// Small ranges so that a file of a few hundred kB takes the parallel path.
fn small(threads: usize) -> ParallelDownload {
    ParallelDownload {
        threads,
        threshold: 100_000,
        chunk: 40_000,
    }
}

fn by_name(bucket: &str, name: &str) -> DownloadTarget {
    DownloadTarget::ByName {
        bucket: bucket.into(),
        name: name.into(),
    }
}

fn entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

struct Seen(AtomicU64, AtomicU64);

impl Progress for Seen {
    fn progress(&self, done: u64, total: Option<u64>) {
        self.0.fetch_max(done, Ordering::Relaxed);
        self.1.store(total.unwrap_or(0), Ordering::Relaxed);
    }
}

#[test]
fn large_whole_file_comes_in_parallel_ranges_verified() {
    let dir = tmpdir("ok");
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("pdl-bucket", false).expect("bucket");
    let bytes = data(1_000_003, 5);
    c.upload_reader(
        "pdl-bucket",
        &bytes[..],
        "big one",
        &UploadOptions::default(),
    )
    .expect("up");
    let out = dir.join("big.bin");
    let before = sim.stats().requests;
    let seen = Seen(AtomicU64::new(0), AtomicU64::new(0));
    let r = c
        .download_to_path_with(
            &by_name("pdl-bucket", "big one"),
            &out,
            None,
            Some(&seen),
            &small(4),
        )
        .expect("download");
    let requests = sim.stats().requests - before;
    assert_eq!(r.ranges, 26, "1,000,003 bytes in ranges of 40,000");
    // No HEAD: a GET of the whole file whose answer gives the size and SHA-1 and whose
    // stream is kept for the first range only, then one GET per other range.
    assert_eq!(requests, 26, "requests");
    assert!(r.verified, "checked against the whole file's SHA-1");
    assert_eq!(r.length, bytes.len() as u64);
    assert!(
        std::fs::read(&out).expect("read") == bytes,
        "bytes identical"
    );
    assert_eq!(seen.0.load(Ordering::Relaxed), bytes.len() as u64);
    assert_eq!(seen.1.load(Ordering::Relaxed), bytes.len() as u64);
    assert_eq!(entries(&dir), ["big.bin"], "no temporary file left");
    let _ = std::fs::remove_dir_all(dir);
}

/// 20 MiB and a tail that is not a multiple of 4 KiB: past the size where aligned blocks
/// are written with direct I/O (the tail through the page cache), in ranges and as one
/// stream.
#[test]
fn large_download_with_direct_writes_and_an_unaligned_tail_is_intact() {
    let dir = tmpdir("direct");
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("pdl-bucket", false).expect("bucket");
    let bytes = data((20 << 20) + 12_345, 11);
    let src = dir.join("src.bin");
    std::fs::write(&src, &bytes).expect("write");
    // From a path: a large file gets its whole-file SHA-1 (large_file_sha1) to check.
    c.upload_path("pdl-bucket", &src, "big", &UploadOptions::default())
        .expect("up");
    std::fs::remove_file(&src).expect("rm");
    let out = dir.join("big.bin");
    let par = ParallelDownload {
        threads: 3,
        threshold: 1 << 20,
        chunk: 4 << 20,
    };
    let before = sim.stats().requests;
    let r = c
        .download_to_path_with(&by_name("pdl-bucket", "big"), &out, None, None, &par)
        .expect("download");
    assert_eq!(r.ranges, 6, "20 MiB + 12,345 bytes in ranges of 4 MiB");
    assert_eq!(
        sim.stats().requests - before,
        6,
        "one GET per range, no HEAD"
    );
    assert!(r.verified);
    assert!(
        std::fs::read(&out).expect("read") == bytes,
        "parallel: intact"
    );
    let r = c
        .download_to_path_with(
            &by_name("pdl-bucket", "big"),
            &out,
            None,
            None,
            &ParallelDownload::single(),
        )
        .expect("download");
    assert_eq!((r.ranges, r.verified), (0, true));
    assert!(
        std::fs::read(&out).expect("read") == bytes,
        "one stream: intact"
    );
    assert_eq!(entries(&dir), ["big.bin"], "no temporary file left");
    let _ = std::fs::remove_dir_all(dir);
}

/// Ranges of 4 KiB, one of them refused now and then: far more finished blocks wait for
/// the in-order hash than the download keeps blocks for; the range at the hash's position
/// still gets one (no stall).
#[test]
fn tiny_ranges_outnumbering_the_blocks_do_not_stall() {
    let dir = tmpdir("tiny");
    // Now and then a range is refused (429) before its first byte and retried after a
    // backoff, while the other threads finish many ranges past it.
    let faults = Faults {
        too_many_requests_every: Some(40),
        retry_after_secs: 1,
        ..Faults::default()
    };
    let (_sim, c) = sim_with(faults, None);
    c.create_bucket("pdl-bucket", false).expect("bucket");
    let bytes = data(1_000_003, 12);
    c.upload_reader("pdl-bucket", &bytes[..], "tiny", &UploadOptions::default())
        .expect("up");
    let out = dir.join("tiny.bin");
    let (tx, rx) = std::sync::mpsc::channel();
    let c = std::sync::Arc::new(c);
    let (c2, out2) = (c.clone(), out.clone());
    std::thread::spawn(move || {
        let par = ParallelDownload {
            threads: 8,
            threshold: 1,
            chunk: 4096,
        };
        let r = c2.download_to_path_with(&by_name("pdl-bucket", "tiny"), &out2, None, None, &par);
        let _ = tx.send(r);
    });
    let r = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the download finished")
        .expect("download");
    assert_eq!(r.ranges, 245);
    assert!(r.verified);
    assert!(std::fs::read(&out).expect("read") == bytes);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn below_the_threshold_or_one_thread_is_one_stream() {
    let dir = tmpdir("one");
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("pdl-bucket", false).expect("bucket");
    let bytes = data(99_999, 6);
    c.upload_reader("pdl-bucket", &bytes[..], "small", &UploadOptions::default())
        .expect("up");
    let out = dir.join("small.bin");
    let before = sim.stats().requests;
    let r = c
        .download_to_path_with(&by_name("pdl-bucket", "small"), &out, None, None, &small(4))
        .expect("download");
    assert_eq!(r.ranges, 0);
    assert!(r.verified);
    assert_eq!(sim.stats().requests - before, 1, "one GET, no HEAD");
    assert!(std::fs::read(&out).expect("read") == bytes);
    let before = sim.stats().requests;
    let r = c
        .download_to_path_with(&by_name("pdl-bucket", "small"), &out, None, None, &small(1))
        .expect("download");
    assert_eq!((r.ranges, r.verified), (0, true));
    assert_eq!(sim.stats().requests - before, 1, "one thread: no HEAD");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn large_file_sha1_is_checked_and_mtime_restored() {
    let dir = tmpdir("large");
    let (_sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("pdl-bucket", false).expect("bucket");
    let bytes = data(450_000, 7);
    let src = dir.join("src.bin");
    std::fs::write(&src, &bytes).expect("write");
    let opts = UploadOptions {
        large_threshold: 200_000,
        part_size: Some(100_000),
        src_last_modified_millis: Some(1_600_000_000_123),
        ..UploadOptions::default()
    };
    c.upload_path("pdl-bucket", &src, "parts", &opts)
        .expect("up");
    let out = dir.join("out.bin");
    let r = c
        .download_to_path_with(&by_name("pdl-bucket", "parts"), &out, None, None, &small(3))
        .expect("download");
    assert_eq!(r.ranges, 12);
    assert!(r.verified, "against large_file_sha1");
    assert!(std::fs::read(&out).expect("read") == bytes);
    let m = std::fs::metadata(&out)
        .expect("meta")
        .modified()
        .expect("mtime");
    assert_eq!(
        m.duration_since(std::time::UNIX_EPOCH).expect("epoch"),
        Duration::from_millis(1_600_000_000_123)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ranges_survive_truncations_429s_and_delay() {
    let dir = tmpdir("faults");
    let faults = Faults {
        truncate_download_every: Some(3),
        too_many_requests_every: Some(5),
        retry_after_secs: 0,
        delay: Some(Duration::from_millis(3)),
        ..Faults::default()
    };
    let (sim, c) = sim_with(faults, None);
    c.create_bucket("pdl-bucket", false).expect("bucket");
    let bytes = data(777_777, 8);
    c.upload_reader(
        "pdl-bucket",
        &bytes[..],
        "faulty",
        &UploadOptions::default(),
    )
    .expect("up");
    let out = dir.join("faulty.bin");
    let r = c
        .download_to_path_with(
            &by_name("pdl-bucket", "faulty"),
            &out,
            None,
            None,
            &small(4),
        )
        .expect("download");
    assert_eq!(r.ranges, 20);
    assert!(r.verified);
    assert!(
        std::fs::read(&out).expect("read") == bytes,
        "every byte intact"
    );
    let f = sim.stats().faults;
    assert!(f.truncated_downloads > 0, "{f:?}");
    assert!(f.too_many_requests > 0, "{f:?}");
    assert_eq!(entries(&dir), ["faulty.bin"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn corrupted_blob_is_a_sha1_mismatch_and_leaves_nothing() {
    let dir = tmpdir("rot");
    let store = dir.join("store");
    let (_sim, c) = sim_with(Faults::default(), Some(&store));
    c.create_bucket("rot-bucket", false).expect("bucket");
    let bytes = data(300_000, 9);
    c.upload_reader(
        "rot-bucket",
        &bytes[..],
        "rotten",
        &UploadOptions::default(),
    )
    .expect("up");
    let mut flipped = 0;
    for e in walk(&store) {
        if std::fs::read(&e).ok().as_deref() == Some(bytes.as_slice()) {
            let mut b = bytes.clone();
            b[250_001] ^= 0x40;
            std::fs::write(&e, b).expect("corrupt");
            flipped += 1;
        }
    }
    assert_eq!(flipped, 1, "found the stored blob");
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).expect("dir");
    let r = c.download_to_path_with(
        &by_name("rot-bucket", "rotten"),
        &out_dir.join("rotten.bin"),
        None,
        None,
        &small(4),
    );
    assert!(
        matches!(
            r,
            Err(b2_transport_std::client::ClientError::Integrity(
                b2_transport_std::client::Integrity::Download
            ))
        ),
        "{r:?}"
    );
    assert!(entries(&out_dir).is_empty(), "no file, no temp file");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_range_that_fails_for_good_fails_the_download() {
    let dir = tmpdir("fail");
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("pdl-bucket", false).expect("bucket");
    let bytes = data(400_000, 10);
    c.upload_reader("pdl-bucket", &bytes[..], "gone", &UploadOptions::default())
        .expect("up");
    // Every download request from now on is cut short; the ranges' retries give up.
    let c = c.with_retry_policy(RetryPolicy {
        max_download_tries: 3,
        initial_backoff_ms: 10,
        max_backoff_ms: 20,
        max_jitter_ms: 5,
        ..RetryPolicy::default()
    });
    sim.set_faults(Faults {
        truncate_download_every: Some(1),
        ..Faults::default()
    });
    let out = dir.join("gone.bin");
    let r = c.download_to_path_with(&by_name("pdl-bucket", "gone"), &out, None, None, &small(4));
    assert!(
        matches!(
            r,
            Err(b2_transport_std::client::ClientError::Core(_)
                | b2_transport_std::client::ClientError::Transport(_))
        ),
        "{r:?}"
    );
    assert!(
        sim.stats().faults.truncated_downloads >= 3,
        "a range gave up"
    );
    assert!(entries(&dir).is_empty(), "nothing left behind");
    let _ = std::fs::remove_dir_all(dir);
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
