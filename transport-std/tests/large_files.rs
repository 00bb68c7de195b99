//! Large files end to end against `b2-sim`: the host client and a device's sequential driver
//! run the same coordinator and resume the same unfinished file alike; a live upload is
//! never adopted; a file started with other settings is not resumed; the whole-file SHA-1
//! travels with the file and is checked on download; streams survive a fault storm and
//! leave nothing unfinished when they fail.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use b2_core::op::{FileParams, LargeUpload, Resume, UploadPart};
use b2_core::wire::large::StartLargeFile;
use b2_sim::{Faults, Sim};
use b2_transport_std::client::{
    Client, ClientError, DownloadTarget, Progress, RetryPolicy, UploadOptions,
};
use common::{data, hex, start, tmpdir, walk};
use sha1::{Digest, Sha1};

const PART: u64 = 100_000;

fn sim_with(faults: Faults) -> (Sim, Client) {
    start(Sim::builder().min_part_size(PART).faults(faults))
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, u64) {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .and_then(|mut f| f.write_all(bytes))
        .expect("write");
    let ms = std::fs::metadata(&p)
        .and_then(|m| m.modified())
        .expect("mtime")
        .duration_since(std::time::UNIX_EPOCH)
        .expect("epoch")
        .as_millis() as u64;
    (p, ms)
}

fn opts(lock_dir: &Path) -> UploadOptions {
    UploadOptions {
        part_size: Some(PART),
        large_threshold: PART,
        threads: 3,
        lock_dir: Some(lock_dir.to_path_buf()),
        ..UploadOptions::default()
    }
}

/// What an upload killed after `sent` parts leaves on B2: an unfinished large file with the
/// info the SDK gives a file from a path, and its first parts.
fn crashed_upload(
    c: &Client,
    bucket_id: &str,
    name: &str,
    content_type: &str,
    mtime_ms: u64,
    bytes: &[u8],
    sent: u32,
) -> String {
    let ms = mtime_ms.to_string();
    let sha = hex(&Sha1::digest(bytes));
    let info = [
        ("src_last_modified_millis", ms.as_str()),
        ("large_file_sha1", sha.as_str()),
    ];
    let id = c
        .call(
            StartLargeFile {
                bucket_id,
                file_name: name,
                content_type,
                file_info: &info,
                server_side_encryption: None,
                file_retention: None,
                legal_hold: None,
                custom_upload_timestamp: None,
            },
            |f| Ok(f.file_id.raw().to_owned()),
        )
        .expect("start");
    for n in 1..=sent {
        let offset = u64::from(n - 1) * PART;
        let mut s = c.session();
        let mut buf = vec![0u8; 16 * 1024];
        let mut op =
            UploadPart::new(&mut s, &mut buf, &id, n, bytes, offset, PART, None).expect("part");
        c.run(&mut op).expect("part sent");
    }
    id
}

#[test]
fn host_and_device_resume_the_same_unfinished_file_alike() {
    let dir = tmpdir("same");
    let (sim, c) = sim_with(Faults::default());
    let b = c.create_bucket("same-bucket", false).expect("bucket");
    let bytes = data(4 * PART as usize + 5_000, 3);
    let (path, mtime) = write_file(&dir, "nas.bin", &bytes);
    let whole = Sha1::digest(&bytes);

    // The device: core's sequential driver, searching B2 for the file to continue.
    let crashed = crashed_upload(&c, &b.id, "nas.bin", "b2/x-auto", mtime, &bytes, 2);
    let before = sim.stats().uploads;
    let mut s = c.session();
    let mut buf = vec![0u8; 8 * 1024];
    let mut digests = [[0u8; 20]; 8];
    let mut params = FileParams::new(&b.id, "nas.bin", bytes.len() as u64);
    params.sha1 = Some(whole.into());
    params.src_last_modified_millis = Some(mtime);
    let mut op = LargeUpload::with_resume(
        &mut s,
        &mut buf,
        params,
        PART,
        &bytes[..],
        &mut digests,
        Resume::Search,
    )
    .expect("device upload");
    c.run(&mut op).expect("device resumed");
    let device = (
        op.file_id().to_owned(),
        op.skipped_parts(),
        sim.stats().uploads - before,
    );
    drop(op);
    assert_eq!(
        device,
        (crashed, 2, 3),
        "continued the crashed file, sent 3 parts"
    );

    // The host: the std client, from the path, on 3 threads.
    let crashed = crashed_upload(&c, &b.id, "nas.bin", "b2/x-auto", mtime, &bytes, 2);
    let before = sim.stats().uploads;
    let f = c
        .upload_path("same-bucket", &path, "nas.bin", &opts(&dir))
        .expect("host resumed");
    let host = (f.file_id.clone(), 2, sim.stats().uploads - before);
    assert_eq!(host, (crashed, 2, 3), "the same result as the device");
    assert_eq!(f.sha1().as_deref(), Some(hex(&whole).as_str()));
    assert_eq!(sim.file_bytes("same-bucket", "nas.bin"), Some(bytes));
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_upload_started_with_other_settings_is_not_resumed() {
    let dir = tmpdir("other");
    let (sim, c) = sim_with(Faults::default());
    let b = c.create_bucket("other-bucket", false).expect("bucket");
    let bytes = data(3 * PART as usize, 5);
    let (path, mtime) = write_file(&dir, "a.bin", &bytes);
    let crashed = crashed_upload(&c, &b.id, "a.bin", "text/plain", mtime, &bytes, 1);
    let o = UploadOptions {
        content_type: "image/png".into(),
        ..opts(&dir)
    };
    let f = c
        .upload_path("other-bucket", &path, "a.bin", &o)
        .expect("up");
    assert_ne!(f.file_id, crashed, "another content type: a new file");
    assert_eq!(f.content_type.as_deref(), Some("image/png"));
    // Another modification time (the file changed): a new file too.
    let crashed = crashed_upload(&c, &b.id, "a.bin", "b2/x-auto", mtime + 1, &bytes, 1);
    let f = c
        .upload_path("other-bucket", &path, "a.bin", &opts(&dir))
        .expect("up");
    assert_ne!(f.file_id, crashed);
    // Extra info given now but not then: a new file.
    let crashed = crashed_upload(&c, &b.id, "a.bin", "b2/x-auto", mtime, &bytes, 1);
    let o = UploadOptions {
        info: vec![("color".into(), "blue".into())],
        ..opts(&dir)
    };
    let f = c
        .upload_path("other-bucket", &path, "a.bin", &o)
        .expect("up");
    assert_ne!(f.file_id, crashed);
    assert_eq!(sim.file_bytes("other-bucket", "a.bin"), Some(bytes));
    let _ = std::fs::remove_dir_all(dir);
}

/// Blocks the first upload that reports progress until told to go on.
struct Gate {
    reached: Mutex<Option<mpsc::Sender<()>>>,
    go: Mutex<mpsc::Receiver<()>>,
}

impl Progress for Gate {
    fn progress(&self, done: u64, _total: Option<u64>) {
        if done >= PART {
            if let Some(tx) = self.reached.lock().expect("lock").take() {
                let _ = tx.send(());
                let _ = self.go.lock().expect("lock").recv();
            }
        }
    }
}

#[test]
fn a_live_upload_is_never_adopted() {
    let dir = tmpdir("live");
    let (sim, c) = sim_with(Faults::default());
    c.create_bucket("live-bucket", false).expect("bucket");
    let c = Arc::new(c);
    let bytes = data(4 * PART as usize, 7);
    let (path, _) = write_file(&dir, "same.bin", &bytes);
    let (reached_tx, reached_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        reached: Mutex::new(Some(reached_tx)),
        go: Mutex::new(go_rx),
    });
    let first = {
        let (c, path, dir) = (c.clone(), path.clone(), dir.clone());
        let o = UploadOptions {
            progress: Some(gate),
            threads: 1,
            ..opts(&dir)
        };
        std::thread::spawn(move || c.upload_path("live-bucket", &path, "same.bin", &o))
    };
    // The first upload has started its large file and is in the middle of a part.
    reached_rx.recv().expect("first upload running");
    assert_eq!(sim.unfinished_large_files(), 1);
    let second = c
        .upload_path("live-bucket", &path, "same.bin", &opts(&dir))
        .expect("second upload, on a file of its own");
    go_tx.send(()).expect("go");
    let first = first
        .join()
        .expect("thread")
        .expect("first upload undisturbed");
    assert_ne!(first.file_id, second.file_id);
    assert_eq!(sim.unfinished_large_files(), 0);
    let versions = c
        .ls("live-bucket", "same.bin", true, true)
        .expect("ls")
        .filter(|v| v.as_ref().is_ok_and(|v| v.file_name == "same.bin"))
        .count();
    assert_eq!(versions, 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_large_download_is_verified_and_corruption_refused() {
    let dir = tmpdir("rot");
    let store = dir.join("store");
    let sim = Sim::builder()
        .min_part_size(PART)
        .data_dir(&store)
        .start()
        .expect("sim");
    let (id, key) = sim.master_key();
    let c = Client::new(id, key, sim.url()).expect("client");
    c.create_bucket("rot-bucket", false).expect("bucket");
    let bytes = data(3 * PART as usize + 17, 9);
    let (path, mtime) = write_file(&dir, "big.bin", &bytes);
    let f = c
        .upload_path("rot-bucket", &path, "big.bin", &opts(&dir))
        .expect("up");
    assert_eq!(f.content_sha1.as_deref(), Some("none"), "a large file");
    let target = DownloadTarget::ByName {
        bucket: "rot-bucket".into(),
        name: "big.bin".into(),
    };
    let out = dir.join("out").join("big.bin");
    std::fs::create_dir_all(out.parent().expect("parent")).expect("dir");
    let r = c.download_to_path(&target, &out, None, None).expect("down");
    assert!(r.verified, "checked against large_file_sha1");
    assert_eq!(std::fs::read(&out).expect("read"), bytes);
    // The download to a path brings the modification time back.
    let got = std::fs::metadata(&out)
        .and_then(|m| m.modified())
        .expect("mtime")
        .duration_since(std::time::UNIX_EPOCH)
        .expect("epoch")
        .as_millis() as u64;
    assert_eq!(got, mtime);
    // Bit rot in one stored part: the download is refused and leaves nothing behind.
    let part2 = &bytes[PART as usize..2 * PART as usize];
    let mut flipped = 0;
    for e in walk(&store) {
        if std::fs::read(&e).ok().as_deref() == Some(part2) {
            let mut b = part2.to_vec();
            b[77] ^= 0x20;
            std::fs::write(&e, b).expect("corrupt");
            flipped += 1;
        }
    }
    assert_eq!(flipped, 1, "found the stored part");
    std::fs::remove_file(&out).expect("rm");
    let r = c.download_to_path(&target, &out, None, None);
    assert!(
        matches!(
            r,
            Err(ClientError::Integrity(
                b2_transport_std::client::Integrity::Download
            ))
        ),
        "{r:?}"
    );
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_stream_survives_the_storm_twenty_times_out_of_twenty() {
    let storm = Faults {
        seed: 5,
        upload_503_every: Some(3),
        reset_upload_every: Some(5),
        expire_token_every: Some(4),
        too_many_requests_every: Some(9),
        retry_after_secs: 0,
        ..Faults::default()
    };
    let (sim, c) = sim_with(storm.clone());
    c.create_bucket("storm-bucket", false).expect("bucket");
    let c = c.with_retry_policy(RetryPolicy {
        initial_backoff_ms: 5,
        max_backoff_ms: 50,
        max_jitter_ms: 5,
        ..c.retry_policy()
    });
    let bytes = data(1_000_000, 11);
    for run in 0..20 {
        let mut s = storm.clone();
        s.seed = run;
        sim.set_faults(s);
        let name = format!("stdin-{run}");
        let o = UploadOptions {
            part_size: Some(PART),
            threads: 4,
            ..UploadOptions::default()
        };
        c.upload_reader("storm-bucket", &bytes[..], &name, &o)
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        assert_eq!(
            sim.file_bytes("storm-bucket", &name).as_deref(),
            Some(&bytes[..])
        );
    }
    let st = sim.stats();
    assert!(
        st.faults.service_unavailable > 0
            && st.faults.resets > 0
            && st.faults.expired_tokens > 0
            && st.faults.too_many_requests > 0,
        "{st:?}"
    );
    assert_eq!(sim.unfinished_large_files(), 0);
}

/// A reader that fails after `ok` bytes.
struct Broken {
    left: usize,
}

impl Read for Broken {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("disk gone"));
        }
        let n = buf.len().min(self.left);
        buf[..n].fill(7);
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_failed_stream_cancels_its_large_file() {
    let (sim, c) = sim_with(Faults::default());
    c.create_bucket("broken-bucket", false).expect("bucket");
    let o = UploadOptions {
        part_size: Some(PART),
        threads: 2,
        ..UploadOptions::default()
    };
    let e = c
        .upload_reader("broken-bucket", Broken { left: 350_000 }, "half", &o)
        .expect_err("the reader failed");
    assert!(matches!(e, ClientError::Io { .. }), "{e:?}");
    assert_eq!(sim.unfinished_large_files(), 0, "cancelled, nothing billed");
    assert_eq!(sim.file_bytes("broken-bucket", "half"), None);
}
