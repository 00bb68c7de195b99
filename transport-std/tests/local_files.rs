//! Local files handled safely: a download never replaces a target that is not a regular
//! file (it writes into a FIFO, refuses a directory), its temporary file has a name no one
//! can plant a link at, and a plain-http realm off loopback is refused before any I/O.

mod common;

use b2_sim::Sim;
use b2_transport_std::client::{Client, ClientError, DownloadTarget, UploadOptions};
use common::{start, tmpdir};

fn setup(bytes: &[u8]) -> (Sim, Client, DownloadTarget) {
    let (sim, c) = start(Sim::builder());
    c.create_bucket("local-bucket", false).expect("bucket");
    c.upload_reader("local-bucket", bytes, "f.bin", &UploadOptions::default())
        .expect("up");
    let t = DownloadTarget::ByName {
        bucket: "local-bucket".into(),
        name: "f.bin".into(),
    };
    (sim, c, t)
}

#[cfg(unix)]
#[test]
fn a_fifo_target_is_written_to_not_replaced() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let (_sim, c, t) = setup(&bytes);
    let dir = tmpdir("fifo");
    let fifo = dir.join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut v = Vec::new();
            std::fs::File::open(fifo)
                .and_then(|mut f| f.read_to_end(&mut v))
                .expect("read fifo");
            v
        })
    };
    let r = c.download_to_path(&t, &fifo, None, None).expect("download");
    assert!(r.verified);
    // Looked at before joining the reader: had the FIFO been replaced, the reader would
    // wait for a writer forever.
    let m = std::fs::symlink_metadata(&fifo).expect("still there");
    assert!(m.file_type().is_fifo(), "the FIFO was replaced");
    assert_eq!(reader.join().expect("reader"), bytes);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_directory_target_is_refused() {
    let (_sim, c, t) = setup(b"abc");
    let dir = tmpdir("dir");
    let e = c
        .download_to_path(&t, &dir, None, None)
        .expect_err("a directory");
    assert!(matches!(e, ClientError::Config(_)), "{e:?}");
    assert!(dir.is_dir());
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn temporary_names_are_unpredictable_and_never_follow_a_link() {
    let (_sim, c, t) = setup(b"payload");
    let dir = tmpdir("links");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"keep me").expect("victim");
    // The name the SDK used to use (DIR/.NAME.b2tmp-PID), planted as a link to another file.
    let planted = dir.join(format!(".out.bin.b2tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).expect("plant");
    let out = dir.join("out.bin");
    c.download_to_path(&t, &out, None, None).expect("download");
    assert_eq!(std::fs::read(&out).expect("out"), b"payload");
    assert_eq!(std::fs::read(&victim).expect("victim"), b"keep me");
    // Nothing else left behind but the planted link itself.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".b2tmp-") && !planted.ends_with(n))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_plain_http_realm_off_loopback_is_refused_before_any_io() {
    for realm in ["http://192.0.2.1:9", "http://b2.example.invalid"] {
        let e = Client::new("id", "key", realm).expect_err("refused");
        assert!(
            matches!(&e, ClientError::Config(m) if m.contains("plain-http")),
            "{e:?}"
        );
    }
    // Loopback (a local simulator) is allowed: the unit tests of `realm_is_safe` show it, and
    // every other test here runs against `http://127.0.0.1:PORT`.
}

#[cfg(unix)]
#[test]
fn a_fifo_source_is_read_as_a_stream() {
    use std::io::Write;
    let (sim, c, _) = setup(b"x");
    let dir = tmpdir("fifo-src");
    let fifo = dir.join("in");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    let writer = {
        let (fifo, bytes) = (fifo.clone(), bytes.clone());
        std::thread::spawn(move || {
            // The writer comes late: the upload waits for it.
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::fs::OpenOptions::new()
                .write(true)
                .open(fifo)
                .and_then(|mut f| f.write_all(&bytes))
                .expect("write fifo");
        })
    };
    let f = c
        .upload_path(
            "local-bucket",
            &fifo,
            "from-fifo",
            &UploadOptions::default(),
        )
        .expect("upload from a FIFO");
    writer.join().expect("writer");
    assert_eq!(f.size, bytes.len() as u64);
    assert_eq!(sim.file_bytes("local-bucket", "from-fifo"), Some(bytes));
    // A directory is refused, not opened.
    let e = c
        .upload_path("local-bucket", &dir, "dir", &UploadOptions::default())
        .expect_err("a directory");
    assert!(matches!(e, ClientError::Config(_)), "{e:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A local path that is not UTF-8 (a Latin-1 name) is uploaded under the name given.
#[cfg(unix)]
#[test]
fn a_non_utf8_local_path_is_uploaded() {
    use std::os::unix::ffi::OsStrExt;
    let (sim, c, _) = setup(b"x");
    let dir = tmpdir("non-utf8");
    let path = dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.bin"));
    assert!(path.to_str().is_none());
    let bytes: Vec<u8> = (0..30_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &bytes).expect("write");
    let f = c
        .upload_path("local-bucket", &path, "cafe.bin", &UploadOptions::default())
        .expect("upload from a non-UTF-8 path");
    assert_eq!(f.size, bytes.len() as u64);
    assert_eq!(sim.file_bytes("local-bucket", "cafe.bin"), Some(bytes));
    let _ = std::fs::remove_dir_all(dir);
}

/// Saved account info naming a plain-http realm or API URL off loopback is refused before
/// any I/O, unless allowed by name; the opt-in then uses it (no authorize call: the token is
/// young).
#[test]
fn a_plain_http_url_off_loopback_in_saved_account_info_is_refused() {
    use b2_transport_std::TransportConfig;
    let (_sim, c, _) = setup(b"x");
    let dir = tmpdir("http-info");
    let good = c.account_info();
    for (field, url) in [
        ("realm", "http://192.0.2.1:9"),
        ("api", "http://b2.example.invalid"),
        ("download", "http://10.0.0.1"),
    ] {
        let mut info = good.clone();
        match field {
            "realm" => info.realm = url.into(),
            "api" => info.api_url = url.into(),
            _ => info.download_url = url.into(),
        }
        let path = dir.join(format!("{field}.json"));
        info.save(&path).expect("save");
        let e = Client::from_account_file(&path, &TransportConfig::default()).expect_err("refused");
        assert!(
            matches!(&e, ClientError::Config(m) if m.contains("plain-http") && m.contains(url)),
            "{field}: {e:?}"
        );
        let allowed = TransportConfig {
            allow_http: true,
            ..TransportConfig::default()
        };
        let c2 = Client::from_account_file(&path, &allowed)
            .expect("allowed by name")
            .expect("present");
        assert_eq!(c2.stats().exchanges, 0, "{field}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
