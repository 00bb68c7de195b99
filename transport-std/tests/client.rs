//! End to end: the blocking client over real loopback sockets against `b2-sim`.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use b2_sim::{Faults, Sim};
use b2_transport_std::client::{Client, ClientError, DownloadTarget, Progress, UploadOptions};
use common::{data, hex, start, tmpdir, walk};
use sha1::{Digest, Sha1};

fn sim_with(faults: Faults, dir: Option<&Path>) -> (Sim, Client) {
    let mut b = Sim::builder().min_part_size(100_000).faults(faults);
    if let Some(d) = dir {
        b = b.data_dir(d);
    }
    start(b)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .and_then(|mut f| f.write_all(bytes))
        .expect("write");
    p
}

fn opts(part: u64) -> UploadOptions {
    UploadOptions {
        part_size: Some(part),
        large_threshold: part,
        threads: 3,
        ..UploadOptions::default()
    }
}

#[derive(Default)]
struct Seen(AtomicU64);
impl Progress for Seen {
    fn progress(&self, done: u64, _total: Option<u64>) {
        self.0.fetch_max(done, Ordering::Relaxed);
    }
}

#[test]
fn buckets_and_keys() {
    let (_sim, c) = sim_with(Faults::default(), None);
    let b = c.create_bucket("bucket-one", false).expect("create");
    assert_eq!(b.bucket_type, "allPrivate");
    assert!(
        matches!(
            c.create_bucket("x", false),
            Err(ClientError::InvalidInput(b2_core::InvalidInput::BucketName))
        ),
        "bad name refused before I/O"
    );
    assert!(c
        .list_buckets()
        .expect("list")
        .iter()
        .any(|x| x.name == "bucket-one"));
    assert_eq!(
        c.update_bucket("bucket-one", true)
            .expect("update")
            .bucket_type,
        "allPublic"
    );
    let k = c
        .create_key(
            "reader-1",
            &["listFiles", "readFiles"],
            Some("bucket-one"),
            Some("logs/"),
        )
        .expect("key");
    assert!(!format!("{k:?}").contains(&k.key), "secret redacted");
    assert!(c.list_keys().expect("keys").iter().any(|x| x.id == k.id));
    c.delete_key(&k.id).expect("delete key");
    assert!(!c.list_keys().expect("keys").iter().any(|x| x.id == k.id));
    c.delete_bucket("bucket-one").expect("delete");
    assert!(matches!(
        c.bucket("bucket-one"),
        Err(ClientError::NotFound(_))
    ));
}

#[test]
fn uploads_downloads_and_names() {
    let dir = tmpdir("names");
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("names-bucket", false).expect("bucket");
    let part = 100_000u64;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("dir/with space.txt", data(1000, 1)),
        ("plus+and%percent", data(10, 2)),
        ("unicode/é😀ü.bin", data(5000, 3)),
        ("exactly-threshold", data(part as usize, 4)),
        ("one-byte-over", data(part as usize + 1, 5)),
        ("multi-part", data(3 * part as usize + 17, 6)),
        // more than one of the downloader's 256 KiB write blocks, not a multiple of them
        ("several-blocks", data((5 << 20) / 2 + 3, 7)),
    ];
    for (name, bytes) in &cases {
        let p = write_file(&dir, "src.bin", bytes);
        let seen = Arc::new(Seen::default());
        let mut o = opts(part);
        o.progress = Some(seen.clone());
        let f = c.upload_path("names-bucket", &p, name, &o).expect(name);
        assert_eq!(f.size, bytes.len() as u64, "{name}");
        assert_eq!(
            sim.file_bytes("names-bucket", name).as_deref(),
            Some(bytes.as_slice()),
            "{name}"
        );
        assert_eq!(
            seen.0.load(Ordering::Relaxed),
            bytes.len() as u64,
            "{name} progress"
        );
        let is_large = bytes.len() as u64 > part;
        assert_eq!(
            f.content_sha1.as_deref() == Some("none"),
            is_large,
            "{name}: {:?}",
            f.content_sha1
        );
        // by name to a path, by id to a writer
        let out = dir.join("out.bin");
        let r = c
            .download_to_path(
                &DownloadTarget::ByName {
                    bucket: "names-bucket".into(),
                    name: (*name).into(),
                },
                &out,
                None,
                None,
            )
            .expect("download");
        assert_eq!(std::fs::read(&out).expect("read"), *bytes, "{name}");
        // Large files from a path carry large_file_sha1: every download is verified.
        assert!(r.verified, "{name}: not verified");
        let mut w = Vec::new();
        c.download_to_writer(&DownloadTarget::ById(f.file_id.clone()), &mut w, None, None)
            .expect("by id");
        assert_eq!(w, *bytes);
        let info = c.file_info("names-bucket", name).expect("info");
        assert_eq!(info.file_id, f.file_id);
        assert!(
            info.info
                .iter()
                .any(|(k, _)| k == "src_last_modified_millis"),
            "{name}: mtime kept"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("b2tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    // a range
    let mut w = Vec::new();
    c.download_to_writer(
        &DownloadTarget::ByName {
            bucket: "names-bucket".into(),
            name: "multi-part".into(),
        },
        &mut w,
        Some((10, 99_999 + 50)),
        None,
    )
    .expect("range");
    assert_eq!(w, cases[6].1[10..100_050]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn streams_of_unknown_length() {
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("stream-bucket", false).expect("bucket");
    for len in [0usize, 99_999, 100_000, 100_001, 450_000] {
        let bytes = data(len, 9);
        let name = format!("stream-{len}");
        let f = c
            .upload_reader(
                "stream-bucket",
                std::io::Cursor::new(&bytes),
                &name,
                &opts(100_000),
            )
            .unwrap_or_else(|e| panic!("stream {len}: {e:?}"));
        assert_eq!(f.size, len as u64);
        assert_eq!(
            sim.file_bytes("stream-bucket", &name),
            Some(bytes),
            "{name}"
        );
    }
}

#[test]
fn listing_hide_delete_copy_unfinished() {
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("list-bucket", false).expect("bucket");
    for n in ["a/1", "a/2", "a/b/3", "c"] {
        c.upload_reader("list-bucket", &b"x"[..], n, &UploadOptions::default())
            .expect("up");
    }
    c.upload_reader("list-bucket", &b"y"[..], "c", &UploadOptions::default())
        .expect("second version");
    let names = |v: Vec<_>| -> Vec<String> {
        v.into_iter()
            .map(|f: b2_transport_std::client::FileVersion| f.file_name)
            .collect()
    };
    let top: Vec<_> = c
        .ls("list-bucket", "", false, false)
        .expect("ls")
        .collect::<Result<_, _>>()
        .expect("page");
    assert_eq!(names(top), ["a/", "c"]);
    let rec: Vec<_> = c
        .ls("list-bucket", "a/", true, false)
        .expect("ls")
        .collect::<Result<_, _>>()
        .expect("page");
    assert_eq!(names(rec), ["a/1", "a/2", "a/b/3"]);
    let vers: Vec<_> = c
        .ls("list-bucket", "c", true, true)
        .expect("ls")
        .collect::<Result<_, _>>()
        .expect("page");
    assert_eq!(vers.len(), 2);
    let copy = c.copy("list-bucket", "c", "c-copy").expect("copy");
    assert_eq!(sim.file_bytes("list-bucket", "c-copy"), Some(b"y".to_vec()));
    assert_eq!(copy.size, 1);
    c.hide("list-bucket", "a/1").expect("hide");
    assert_eq!(sim.file_bytes("list-bucket", "a/1"), None);
    assert!(matches!(
        c.file_info("list-bucket", "a/1"),
        Err(ClientError::NotFound(_))
    ));
    assert_eq!(c.delete("list-bucket", "c", false).expect("rm latest"), 1);
    assert_eq!(sim.file_bytes("list-bucket", "c"), Some(b"x".to_vec()));
    assert_eq!(c.delete("list-bucket", "c", true).expect("rm all"), 1);
    assert_eq!(sim.file_bytes("list-bucket", "c"), None);
    // An unfinished large file, then cancelled.
    let s = c.session();
    let id = c
        .call(
            b2_core::wire::large::StartLargeFile {
                bucket_id: c.bucket("list-bucket").expect("b").id(),
                file_name: "half",
                content_type: "b2/x-auto",
                file_info: &[],
                server_side_encryption: None,
                file_retention: None,
                legal_hold: None,
                custom_upload_timestamp: None,
            },
            |f| Ok(f.file_id.raw().to_owned()),
        )
        .expect("start");
    drop(s);
    let un: Vec<_> = c
        .unfinished("list-bucket", "")
        .expect("unfinished")
        .collect::<Result<_, _>>()
        .expect("page");
    assert_eq!(un.len(), 1);
    c.cancel_large_file(&id).expect("cancel");
    assert_eq!(sim.unfinished_large_files(), 0);
}

#[test]
fn corrupted_download_leaves_nothing_behind() {
    let dir = tmpdir("corrupt");
    let store = dir.join("store");
    let (_sim, c) = sim_with(Faults::default(), Some(&store));
    c.create_bucket("rot-bucket", false).expect("bucket");
    let bytes = data(20_000, 3);
    c.upload_reader(
        "rot-bucket",
        &bytes[..],
        "rotten",
        &UploadOptions::default(),
    )
    .expect("up");
    // Bit rot in the server's store.
    let mut flipped = 0;
    for e in walk(&store) {
        if std::fs::read(&e).ok().as_deref() == Some(bytes.as_slice()) {
            let mut b = bytes.clone();
            b[1234] ^= 0x40;
            std::fs::write(&e, b).expect("corrupt");
            flipped += 1;
        }
    }
    assert_eq!(flipped, 1, "found the stored blob");
    let out = dir.join("out").join("rotten.bin");
    std::fs::create_dir_all(out.parent().expect("parent")).expect("dir");
    let r = c.download_to_path(
        &DownloadTarget::ByName {
            bucket: "rot-bucket".into(),
            name: "rotten".into(),
        },
        &out,
        None,
        None,
    );
    assert!(
        matches!(
            r,
            Err(ClientError::Integrity(
                b2_transport_std::client::Integrity::Download
            ))
        ),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_dir(out.parent().expect("parent"))
            .expect("ls")
            .count(),
        0,
        "no file, no temp file"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn faults_everything_arrives_intact() {
    let dir = tmpdir("faults");
    let faults = Faults {
        seed: 7,
        upload_503_every: Some(4),
        expire_token_every: Some(9),
        too_many_requests_every: Some(11),
        retry_after_secs: 1,
        reset_upload_every: Some(5),
        ..Faults::default()
    };
    let (sim, c) = sim_with(faults, None);
    c.create_bucket("fault-bucket", false).expect("bucket");
    for (i, len) in [10usize, 150_000, 420_000].iter().enumerate() {
        let bytes = data(*len, i as u32);
        let p = write_file(&dir, "f.bin", &bytes);
        let name = format!("f{i}");
        c.upload_path("fault-bucket", &p, &name, &opts(100_000))
            .expect("upload under faults");
        assert_eq!(
            sim.file_bytes("fault-bucket", &name),
            Some(bytes.clone()),
            "{name}"
        );
        let mut w = Vec::new();
        c.download_to_writer(
            &DownloadTarget::ByName {
                bucket: "fault-bucket".into(),
                name,
            },
            &mut w,
            None,
            None,
        )
        .expect("download under faults");
        assert_eq!(w, bytes);
    }
    let st = sim.stats();
    assert!(
        st.faults.service_unavailable > 0 && st.faults.resets > 0 && st.faults.expired_tokens > 0,
        "{st:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn large_files_from_a_path_carry_every_sha1() {
    let dir = tmpdir("ahead");
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("ahead-bucket", false).expect("bucket");
    let bytes = data(5 * 100_000 + 7, 9);
    let whole = hex(&Sha1::digest(&bytes));
    let p = write_file(&dir, "big.bin", &bytes);
    for threads in [1, 3] {
        let before = sim.stats().uploads_sha1_at_end;
        let seen = Arc::new(Seen::default());
        let o = UploadOptions {
            threads,
            progress: Some(seen.clone()),
            ..opts(100_000)
        };
        let name = format!("big-{threads}");
        let f = c
            .upload_path("ahead-bucket", &p, &name, &o)
            .expect("upload");
        assert_eq!(
            sim.file_bytes("ahead-bucket", &name).as_deref(),
            Some(bytes.as_slice())
        );
        // The whole-file SHA-1 is kept as large_file_sha1, and downloads verify it.
        assert_eq!(f.sha1().as_deref(), Some(whole.as_str()), "{f:?}");
        // Six parts, each with its SHA-1 in the header (hashed before sending).
        assert_eq!(sim.stats().uploads_sha1_at_end - before, 0, "{name}");
        // Progress reaches the total.
        assert_eq!(seen.0.load(Ordering::Relaxed), bytes.len() as u64);
    }
    // Under faults every part still arrives intact, each retry with the same digest.
    let faults = Faults {
        seed: 3,
        upload_503_every: Some(3),
        reset_upload_every: Some(4),
        ..Faults::default()
    };
    sim.set_faults(faults);
    let o = UploadOptions {
        threads: 2,
        ..opts(100_000)
    };
    c.upload_path("ahead-bucket", &p, "big-faults", &o)
        .expect("upload under faults");
    assert_eq!(
        sim.file_bytes("ahead-bucket", "big-faults").as_deref(),
        Some(bytes.as_slice())
    );
    let st = sim.stats();
    assert!(
        st.faults.service_unavailable > 0 && st.faults.resets > 0,
        "{st:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn server_gone_is_a_connect_error_within_the_retry_policy() {
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("gone-bucket", false).expect("bucket");
    let c = c.with_retry_policy(b2_transport_std::client::RetryPolicy {
        max_json_tries: 3,
        initial_backoff_ms: 20,
        max_jitter_ms: 0,
        ..c.retry_policy()
    });
    sim.stop();
    let t0 = std::time::Instant::now();
    let e = c.list_buckets().expect_err("nobody listens");
    let waited = t0.elapsed();
    assert!(
        matches!(
            &e,
            ClientError::Transport(b2_core::http::TransportError::Connect)
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("could not connect"), "{e}");
    // Three tries (not the default five), with waits of 20 and 40 ms (not 1 s and 2 s).
    assert_eq!(c.stats().failed_exchanges, 3, "{:?}", c.stats());
    assert_eq!(c.stats().waits, 2, "{:?}", c.stats());
    assert!(waited < std::time::Duration::from_secs(1), "{waited:?}");
}

#[test]
fn a_file_that_fits_one_part_goes_up_in_one_request() {
    let dir = tmpdir("onepart");
    let (sim, c) = sim_with(Faults::default(), None);
    c.create_bucket("onepart-bucket", false).expect("bucket");
    // Threshold and part size far below the server's minimum part size (100,000 here): a
    // 5,000-byte file cannot be two parts, so it is one small upload, not an error.
    let bytes = data(5000, 4);
    let p = write_file(&dir, "small.bin", &bytes);
    let o = UploadOptions {
        part_size: Some(1),
        large_threshold: 1,
        ..UploadOptions::default()
    };
    let f = c
        .upload_path("onepart-bucket", &p, "small.bin", &o)
        .expect("upload");
    assert_ne!(
        f.content_sha1.as_deref(),
        Some("none"),
        "a small file has its SHA-1"
    );
    assert_eq!(sim.file_bytes("onepart-bucket", "small.bin"), Some(bytes));
    // Past the minimum it is a large file in parts of the minimum size.
    let bytes = data(250_000, 5);
    let p = write_file(&dir, "big.bin", &bytes);
    let f = c
        .upload_path("onepart-bucket", &p, "big.bin", &o)
        .expect("upload");
    assert_eq!(f.content_sha1.as_deref(), Some("none"), "a large file");
    assert_eq!(sim.file_bytes("onepart-bucket", "big.bin"), Some(bytes));
    let _ = std::fs::remove_dir_all(dir);
}
