//! End to end: account info that persists (mode 0600, links never followed, secrets never
//! shown, no authorize call from a fresh cache, expired tokens renewed and written back),
//! and a bucket-restricted key without `listBuckets` doing all its capabilities allow, over
//! real loopback sockets against `b2-sim`.

mod common;

use std::path::Path;
use std::time::Duration;

use b2_sim::Sim;
use b2_transport_std::client::{AccountInfo, Client, DownloadTarget, UploadOptions};
use b2_transport_std::TransportConfig;
use common::{master, tmpdir};

const BUCKET: &str = "account-bucket";

fn cfg() -> TransportConfig {
    TransportConfig::default()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_second_client_from_the_file_does_not_authorize() {
    let sim = Sim::start().expect("sim");
    let dir = tmpdir("second");
    let path = dir.join("sub").join("account.json");
    let c = master(&sim);
    c.create_bucket(BUCKET, false).expect("bucket");
    c.persist_to(&path).expect("persist");
    c.bucket(BUCKET).expect("bucket lookup"); // written back with the bucket id
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
    }
    let info = AccountInfo::load(&path).expect("load").expect("present");
    assert!(info.buckets.contains_key(BUCKET), "{info:?}");
    assert!(
        info.capabilities.iter().any(|c| c == "listBuckets"),
        "{info:?}"
    );
    assert_eq!(info, c.account_info());

    let c2 = Client::from_account_file(&path, &cfg())
        .expect("from file")
        .expect("present");
    assert_eq!(c2.stats().exchanges, 0, "no authorize call");
    c2.upload_reader(BUCKET, &b"hello"[..], "a.txt", &UploadOptions::default())
        .expect("upload");
    let names: Vec<String> = c2
        .ls(BUCKET, "", true, false)
        .expect("ls")
        .map(|f| f.expect("row").file_name)
        .collect();
    assert_eq!(names, ["a.txt"]);
    // get_upload_url, upload, list: no authorize and no bucket lookup.
    assert_eq!(c2.stats().exchanges, 3);

    // A missing file is no client; clear removes it once.
    assert!(AccountInfo::clear(&path).expect("clear"));
    assert!(!AccountInfo::clear(&path).expect("clear again"));
    assert!(Client::from_account_file(&path, &cfg())
        .expect("none")
        .is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_link_at_the_file_name_is_never_followed() {
    let sim = Sim::start().expect("sim");
    let dir = tmpdir("link");
    let path = dir.join("account.json");
    let victim = dir.join("victim");
    std::fs::write(&victim, b"victim").expect("victim");
    std::os::unix::fs::symlink(&victim, &path).expect("link");
    // Reading through it is refused.
    assert!(AccountInfo::load(&path).is_err());
    // Writing replaces the link with a file of its own.
    let c = master(&sim);
    c.persist_to(&path).expect("persist");
    assert_eq!(std::fs::read(&victim).expect("victim"), b"victim");
    assert!(std::fs::symlink_metadata(&path)
        .expect("meta")
        .file_type()
        .is_file());
    assert_eq!(mode(&path), 0o600);
    // No temporary file is left next to it.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn debug_never_shows_the_key_or_the_token() {
    let sim = Sim::start().expect("sim");
    let c = master(&sim);
    let info = c.account_info();
    let (_, key) = sim.master_key();
    assert_eq!(info.key, key);
    assert!(!info.token.is_empty());
    for shown in [format!("{info:?}"), format!("{c:?}")] {
        assert!(!shown.contains(key), "{shown}");
        assert!(!shown.contains(&info.token), "{shown}");
    }
}

#[test]
fn an_expired_token_is_renewed_and_written_back() {
    let sim = Sim::start().expect("sim");
    let dir = tmpdir("expired");
    let path = dir.join("account.json");
    let c = master(&sim);
    c.create_bucket(BUCKET, false).expect("bucket");
    c.bucket(BUCKET).expect("lookup"); // kept in the file: no later write for it
    c.persist_to(&path).expect("persist");
    let first = AccountInfo::load(&path).expect("load").expect("present");
    assert!(first.buckets.contains_key(BUCKET));

    // The server says the token expired (its clock moved a day on): the operation renews it
    // inside, and the file gets the new token.
    sim.advance_clock(Duration::from_secs(25 * 3600));
    let c2 = Client::from_account_file(&path, &cfg())
        .expect("from file")
        .expect("present");
    assert_eq!(c2.stats().exchanges, 0);
    assert_eq!(c2.ls(BUCKET, "", true, false).expect("ls").count(), 0);
    assert_eq!(c2.stats().exchanges, 3, "list, authorize, list again");
    let second = AccountInfo::load(&path).expect("load").expect("present");
    assert_ne!(second.token, first.token, "renewed token written back");
    assert_eq!(second.token, c2.account_info().token);
    assert!(second.authorized_at_ms >= first.authorized_at_ms);

    // A token the file says is 24 h old is renewed before any use.
    let mut old = second.clone();
    old.authorized_at_ms -= 24 * 3600 * 1000;
    old.save(&path).expect("save");
    let c3 = Client::from_account_file(&path, &cfg())
        .expect("from file")
        .expect("present");
    assert_eq!(c3.stats().exchanges, 1, "one authorize call");
    let third = AccountInfo::load(&path).expect("load").expect("present");
    assert_ne!(third.token, second.token);
    assert!(third.token_age() < Duration::from_secs(60));
    assert!(third.capabilities.iter().any(|c| c == "writeFiles"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bucket_restricted_key_without_list_buckets_does_what_it_may() {
    let sim = Sim::start().expect("sim");
    let dir = tmpdir("restricted");
    let m = master(&sim);
    m.create_bucket(BUCKET, false).expect("bucket");
    m.create_bucket("other-bucket", false).expect("other");
    let caps = ["listFiles", "readFiles", "writeFiles", "deleteFiles"];
    let k = m
        .create_key("restricted", &caps, Some(BUCKET), None)
        .expect("key");
    let c = Client::new(&k.id, &k.key, sim.url()).expect("restricted client");
    // The key really cannot list buckets.
    assert!(c.list_buckets().is_err());
    let info = c.account_info();
    assert_eq!(info.allowed_bucket_name.as_deref(), Some(BUCKET));
    assert!(!info.capabilities.iter().any(|c| c == "listBuckets"));

    let path = dir.join("account.json");
    c.persist_to(&path).expect("persist");
    let c = Client::from_account_file(&path, &cfg())
        .expect("from file")
        .expect("present");
    c.upload_reader(BUCKET, &b"data"[..], "r.txt", &UploadOptions::default())
        .expect("upload");
    let names: Vec<String> = c
        .ls(BUCKET, "", true, false)
        .expect("ls")
        .map(|f| f.expect("row").file_name)
        .collect();
    assert_eq!(names, ["r.txt"]);
    let f = c.file_info(BUCKET, "r.txt").expect("info");
    assert_eq!(f.size, 4);
    let mut out = Vec::new();
    c.download_to_writer(
        &DownloadTarget::ByName {
            bucket: BUCKET.into(),
            name: "r.txt".into(),
        },
        &mut out,
        None,
        None,
    )
    .expect("download");
    assert_eq!(out, b"data");
    assert_eq!(c.delete(BUCKET, "r.txt", true).expect("rm"), 1);
    assert_eq!(sim.file_bytes(BUCKET, "r.txt"), None);
    // Another bucket stays out of reach.
    assert!(c.ls("other-bucket", "", true, false).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
