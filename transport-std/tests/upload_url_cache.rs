//! End to end: upload URLs kept in the account info file between clients, over real
//! loopback sockets against `b2-sim`: only small-file URLs of known buckets are stored (no
//! part URL), within the bounds, and a client started from the file uploads without
//! `b2_get_upload_url`.

mod common;

use b2_sim::Sim;
use b2_transport_std::client::{AccountInfo, Client, UploadOptions, MAX_URLS_PER_BUCKET};
use b2_transport_std::TransportConfig;
use common::tmpdir;

const BUCKET: &str = "url-cache-bucket";

#[test]
fn only_idle_small_file_urls_are_stored_and_reused() {
    let sim = Sim::builder().min_part_size(100_000).start().expect("sim");
    let dir = tmpdir("store");
    let path = dir.join("account.json");
    let (id, key) = sim.master_key();
    let c = Client::new(id, key, sim.url()).expect("client");
    assert!(!c.save_account_info().expect("no file"), "no file kept yet");
    let bucket_id = c.create_bucket(BUCKET, false).expect("bucket").id;
    c.persist_to(&path).expect("persist");

    // Small files on 6 threads at once: up to 6 URLs idle afterwards, 4 stored.
    std::thread::scope(|s| {
        for t in 0..6 {
            let c = &c;
            s.spawn(move || {
                for i in 0..3 {
                    c.bucket(BUCKET)
                        .expect("bucket")
                        .upload(format!("small-{t}-{i}"))
                        .from_bytes(format!("bytes {t} {i}"))
                        .expect("upload");
                }
            });
        }
    });
    // A large file: its part URLs stay out of the file.
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![7u8; 350_000]).expect("write");
    let opts = UploadOptions {
        large_threshold: 1,
        part_size: Some(100_000),
        threads: 2,
        ..UploadOptions::default()
    };
    let f = c
        .upload_path(BUCKET, &big, "big.bin", &opts)
        .expect("large upload");
    assert!(c.save_account_info().expect("save"));
    let info = AccountInfo::load(&path).expect("load").expect("saved");
    assert!(
        (1..=MAX_URLS_PER_BUCKET).contains(&info.upload_urls.len()),
        "{info:?}"
    );
    for u in &info.upload_urls {
        assert_eq!(u.bucket_id, bucket_id);
        assert_ne!(u.bucket_id, f.file_id);
        assert!(u.url.contains(&bucket_id), "{}", u.url);
    }
    drop(c);

    // A client from the file: a small upload is one class A call (no b2_get_upload_url),
    // and no authorization or bucket listing (class C) either.
    let before = sim.costs().total;
    let c2 = Client::from_account_file(&path, &TransportConfig::default())
        .expect("from file")
        .expect("file present");
    c2.bucket(BUCKET)
        .expect("bucket")
        .upload("again")
        .from_bytes("again")
        .expect("upload");
    drop(c2);
    let after = sim.costs().total;
    assert_eq!(after.class_a - before.class_a, 1, "{before:?} {after:?}");
    assert_eq!(after.class_c - before.class_c, 0, "{before:?} {after:?}");
    // Dropped with its URLs changed: written back, the one it used among them.
    let again = AccountInfo::load(&path).expect("load").expect("saved");
    assert_eq!(again.upload_urls.len(), info.upload_urls.len());
    let _ = std::fs::remove_dir_all(&dir);
}
