//! End to end: the idiomatic client (builder, bucket handle, upload/download/list builders,
//! typed models) and every `ClientError` variant produced by its real condition, over real
//! loopback sockets against `b2-sim`.

mod common;

use std::time::Duration;

use b2_core::http::TransportError;
use b2_core::InvalidInput;
use b2_sim::{Faults, Sim};
use b2_transport_std::client::{
    Action, BucketType, Client, ClientError, Encryption, Integrity, Retention, RetryPolicy,
};
use common::{tmpdir, walk};

const BUCKET: &str = "api-bucket";

/// A quick policy for tests that expect failures.
fn quick() -> RetryPolicy {
    RetryPolicy {
        max_json_tries: 2,
        max_download_tries: 2,
        initial_backoff_ms: 1,
        max_backoff_ms: 2,
        max_jitter_ms: 1,
        ..RetryPolicy::default()
    }
}

fn client(sim: &Sim) -> Client {
    let (id, key) = sim.master_key();
    Client::builder()
        .credentials(id, key)
        .realm(sim.url())
        .retry_policy(quick())
        .build()
        .expect("client")
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn the_builder_yields_a_client_with_its_settings() {
    let sim = Sim::start().expect("sim");
    let (id, key) = sim.master_key();
    let dir = tmpdir("builder");
    let account = dir.join("account.json");
    let c = Client::builder()
        .credentials(id, key)
        .realm(sim.url())
        .threads(100_000) // capped
        .retry_policy(quick())
        .timeout(Duration::from_secs(5))
        .persist_to(&account)
        .build()
        .expect("client");
    assert_eq!(c.threads(), 64);
    assert_eq!(c.retry_policy(), quick());
    assert!(c.capabilities().iter().any(|c| c == "writeFiles"));
    assert!(account.is_file(), "persisted");
    c.create_bucket(BUCKET, false).expect("bucket");
    // A second client from the account file: no authorize call (the file's token is fresh).
    let before = sim.stats().requests;
    let c2 = Client::builder()
        .account_file(&account)
        .threads(0) // counts as 1
        .build()
        .expect("from file");
    assert_eq!(sim.stats().requests, before, "no request to build it");
    assert_eq!(c2.threads(), 1);
    assert_eq!(c2.bucket(BUCKET).expect("bucket").name(), BUCKET);
    // A client derived with another policy shares the authorization: no request either.
    let before = sim.stats().requests;
    assert_eq!(c2.retry_policy(), RetryPolicy::default());
    let c3 = c2.with_retry_policy(quick());
    assert_eq!(sim.stats().requests, before);
    assert_eq!(c3.retry_policy(), quick());
    assert_eq!(
        c2.retry_policy(),
        RetryPolicy::default(),
        "the first keeps its own"
    );
    assert_eq!(c3.threads(), 1, "and the rest of its settings");
    assert_eq!(c3.account_id(), c.account_id());
    // A missing account file.
    let e = Client::builder()
        .account_file(dir.join("none.json"))
        .build()
        .expect_err("no file");
    assert!(matches!(e, ClientError::NotFound(_)), "{e:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn plain_http_off_loopback_needs_allow_http_and_timeouts_apply() {
    // TEST-NET-1: nothing answers; the connect timeout ends the try.
    let refused = Client::builder()
        .credentials("id", "key")
        .realm("http://192.0.2.1:9")
        .build()
        .expect_err("refused");
    assert!(
        matches!(&refused, ClientError::Config(m) if m.contains("plain-http")),
        "{refused:?}"
    );
    let t0 = std::time::Instant::now();
    let e = Client::builder()
        .credentials("id", "key")
        .realm("http://192.0.2.1:9")
        .allow_http(true)
        .connect_timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy {
            max_json_tries: 1,
            ..quick()
        })
        .build()
        .expect_err("nobody there");
    assert!(
        matches!(
            e,
            ClientError::Transport(TransportError::Connect | TransportError::Timeout)
        ),
        "{e:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

#[test]
fn the_bucket_handle_uploads_downloads_lists_and_removes() {
    let sim = Sim::builder().min_part_size(100_000).start().expect("sim");
    let c = client(&sim);
    c.create_bucket(BUCKET, false).expect("bucket");
    c.create_bucket("api-public", true).expect("public");
    let types: Vec<(String, BucketType)> = c
        .list_buckets()
        .expect("buckets")
        .into_iter()
        .map(|b| (b.name, b.bucket_type))
        .collect();
    assert!(
        types.contains(&(BUCKET.into(), BucketType::AllPrivate)),
        "{types:?}"
    );
    assert!(
        types.contains(&("api-public".into(), BucketType::AllPublic)),
        "{types:?}"
    );

    let b = c.bucket(BUCKET).expect("handle");
    assert_eq!(b.name(), BUCKET);
    assert_eq!(b.bucket_info().bucket_type, BucketType::AllPrivate);

    // Bytes, with content type, info and a modification time.
    let up = b
        .upload("dir/a.txt")
        .content_type("text/plain")
        .info("origin", "api-test")
        .modified_millis(1_700_000_000_123)
        .from_bytes("hello, handle")
        .expect("from_bytes");
    assert_eq!(up.action, Action::Upload);
    let info = b.info("dir/a.txt").expect("info");
    assert_eq!(info.file_id, up.file_id);
    assert_eq!(info.content_type.as_deref(), Some("text/plain"));
    assert_eq!(info.info_value("origin"), Some("api-test"));
    assert_eq!(info.src_last_modified_millis(), Some(1_700_000_000_123));
    assert_eq!(info.large_file_sha1(), None, "a small file has none");
    assert!(matches!(
        info.encryption(),
        None | Some(Encryption::None) | Some(Encryption::SseB2 { .. })
    ));
    assert!(matches!(
        info.retention(),
        Retention::Unknown | Retention::None
    ));

    // A path, as a large file of several parts on 3 threads.
    let dir = tmpdir("handle");
    let big = data(350_000, 7);
    let src = dir.join("big.bin");
    std::fs::write(&src, &big).expect("write");
    let up = b
        .upload("dir/sub/big.bin")
        .part_size(100_000)
        .large_threshold(100_000)
        .threads(3)
        .from_path(&src)
        .expect("from_path");
    let info = b.info("dir/sub/big.bin").expect("info");
    assert_eq!(info.size, 350_000);
    use sha1::{Digest, Sha1};
    let want: String = Sha1::digest(&big)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    assert_eq!(info.large_file_sha1().as_deref(), Some(want.as_str()));
    assert!(
        info.src_last_modified_millis().is_some(),
        "from the file's mtime"
    );
    // A reader.
    b.upload("dir/c.txt")
        .from_reader(&b"third"[..])
        .expect("from_reader");

    // Downloads: whole, ranges, to a path (in parallel ranges), to a writer, by id.
    assert_eq!(
        b.download("dir/a.txt").to_vec().expect("vec"),
        b"hello, handle"
    );
    assert_eq!(
        b.download("dir/a.txt").range(0..=4).to_vec().expect("r"),
        b"hello"
    );
    assert_eq!(
        b.download("dir/a.txt").range(7..).to_vec().expect("r"),
        b"handle"
    );
    assert_eq!(
        b.download("dir/a.txt").range(..5).to_vec().expect("r"),
        b"hello"
    );
    let out = dir.join("big.out");
    let r = b
        .download("dir/sub/big.bin")
        .threads(4)
        .parallel_threshold(100_000)
        .chunk_size(64 * 1024)
        .to_path(&out)
        .expect("to_path");
    assert!(r.verified);
    assert!(r.ranges > 1, "in parallel ranges: {}", r.ranges);
    assert_eq!(std::fs::read(&out).expect("read"), big);
    let mut w = Vec::new();
    let r = b
        .download_by_id(&up.file_id)
        .to_writer(&mut w)
        .expect("by id");
    assert!(r.verified);
    assert_eq!(w, big);

    // Listings: folders by default, recursive, another delimiter, versions.
    let rows = |l: b2_transport_std::client::ListBuilder<'_>| -> Vec<(Action, String)> {
        l.into_iter()
            .map(|f| f.expect("row"))
            .map(|f| (f.action, f.file_name))
            .collect()
    };
    assert_eq!(
        rows(b.list("dir/")),
        [
            (Action::Upload, "dir/a.txt".to_owned()),
            (Action::Upload, "dir/c.txt".to_owned()),
            (Action::Folder, "dir/sub/".to_owned()),
        ]
    );
    assert_eq!(
        rows(b.list("dir/").recursive())
            .into_iter()
            .map(|(_, n)| n)
            .collect::<Vec<_>>(),
        ["dir/a.txt", "dir/c.txt", "dir/sub/big.bin"]
    );
    assert_eq!(
        rows(b.list("").delimiter("."))
            .into_iter()
            .map(|(_, n)| n)
            .collect::<Vec<_>>(),
        ["dir/a.", "dir/c.", "dir/sub/big."]
    );

    // Hide, list the versions, unhide, delete one version, delete all.
    let marker = b.hide("dir/a.txt").expect("hide");
    assert_eq!(marker.action, Action::Hide);
    assert!(!b.exists("dir/a.txt").expect("exists"));
    assert_eq!(
        rows(b.list("dir/a").recursive().versions())
            .into_iter()
            .map(|(a, _)| a)
            .collect::<Vec<_>>(),
        [Action::Hide, Action::Upload]
    );
    assert_eq!(b.unhide("dir/a.txt").expect("unhide"), marker.file_id);
    assert!(b.exists("dir/a.txt").expect("exists"));
    b.upload("dir/a.txt").from_bytes("v2").expect("v2");
    b.delete("dir/a.txt").expect("delete newest");
    assert_eq!(
        b.download("dir/a.txt").to_vec().expect("v1 back"),
        b"hello, handle"
    );
    let v1 = b.info("dir/a.txt").expect("info");
    b.delete_version("dir/a.txt", &v1.file_id)
        .expect("delete v1");
    assert!(!b.exists("dir/a.txt").expect("gone"));
    b.copy("dir/c.txt", "dir/d.txt").expect("copy");
    b.hide("dir/c.txt").expect("hide c");
    assert_eq!(b.delete_all_versions("dir/c.txt").expect("all"), 2);
    assert_eq!(
        sim.file_bytes(BUCKET, "dir/d.txt").as_deref(),
        Some(&b"third"[..])
    );
    assert_eq!(b.unfinished("").count(), 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn not_found_from_every_kind_of_lookup() {
    let sim = Sim::start().expect("sim");
    let c = client(&sim);
    c.create_bucket(BUCKET, false).expect("bucket");
    let e = c.bucket("no-such-bucket").expect_err("no bucket");
    assert!(
        matches!(&e, ClientError::NotFound(w) if w.contains("no-such-bucket")),
        "{e:?}"
    );
    let b = c.bucket(BUCKET).expect("handle");
    let e = b.info("missing.txt").expect_err("no file");
    assert!(
        matches!(&e, ClientError::NotFound(w) if w == "api-bucket/missing.txt"),
        "{e:?}"
    );
    // B2's own 404 on a download by name, said as the name.
    let e = b.download("missing.txt").to_vec().expect_err("404");
    assert!(
        matches!(&e, ClientError::NotFound(w) if w == "api-bucket/missing.txt"),
        "{e:?}"
    );
    // B2's 400 file_not_present for a version that does not exist.
    b.upload("here.txt").from_bytes("x").expect("up");
    let e = b
        .delete_version("here.txt", "4_zdoes-not-exist")
        .expect_err("no version");
    assert!(matches!(e, ClientError::NotFound(_)), "{e:?}");
    let e = b.delete("missing.txt").expect_err("nothing to delete");
    assert!(matches!(e, ClientError::NotFound(_)), "{e:?}");
}

#[test]
fn unauthorized_names_the_missing_capability() {
    let sim = Sim::start().expect("sim");
    let m = client(&sim);
    m.create_bucket(BUCKET, false).expect("bucket");
    m.bucket(BUCKET)
        .expect("h")
        .upload("p/a.txt")
        .from_bytes("a")
        .expect("up");
    let key = |name: &str, caps: &[&str], prefix: Option<&str>| {
        let k = m.create_key(name, caps, Some(BUCKET), prefix).expect("key");
        Client::builder()
            .credentials(k.id, k.key)
            .realm(sim.url())
            .retry_policy(quick())
            .build()
            .expect("restricted client")
    };
    let missing = |e: &ClientError| match e {
        ClientError::Unauthorized { capability, .. } => capability.clone(),
        other => panic!("not unauthorized: {other:?}"),
    };

    // Read-only key: cannot upload or delete.
    let ro = key("read-only", &["listFiles", "readFiles"], None);
    let b = ro.bucket(BUCKET).expect("handle without listBuckets");
    assert_eq!(b.download("p/a.txt").to_vec().expect("may read"), b"a");
    let e = b
        .upload("p/b.txt")
        .from_bytes("b")
        .expect_err("no writeFiles");
    assert_eq!(missing(&e).as_deref(), Some("writeFiles"), "{e}");
    assert!(e.to_string().contains("writeFiles"), "{e}");
    let e = b.delete("p/a.txt").expect_err("no deleteFiles");
    assert_eq!(missing(&e).as_deref(), Some("deleteFiles"), "{e}");
    let e = ro.list_buckets().expect_err("no listBuckets");
    assert_eq!(missing(&e).as_deref(), Some("listBuckets"), "{e}");

    // Write-only key: cannot list or read.
    let wo = key("write-only", &["writeFiles"], None);
    let b = wo.bucket(BUCKET).expect("handle");
    b.upload("p/w.txt").from_bytes("w").expect("may write");
    let e = b
        .list("p/")
        .into_iter()
        .next()
        .expect("one row")
        .expect_err("no listFiles");
    assert_eq!(missing(&e).as_deref(), Some("listFiles"), "{e}");
    let e = b.download("p/a.txt").to_vec().expect_err("no readFiles");
    assert_eq!(missing(&e).as_deref(), Some("readFiles"), "{e}");

    // A key with the capability but a name prefix: refused without a capability to name.
    let pre = key(
        "prefixed",
        &["listFiles", "readFiles", "writeFiles"],
        Some("p/"),
    );
    let e = pre
        .bucket(BUCKET)
        .expect("h")
        .upload("q/outside.txt")
        .from_bytes("q")
        .expect_err("outside the prefix");
    assert_eq!(missing(&e), None, "{e}");
}

#[test]
fn cap_exceeded_conflict_and_the_b2_catch_all() {
    let sim = Sim::start().expect("sim");
    let c = client(&sim);
    c.create_bucket(BUCKET, false).expect("bucket");
    // Conflict: the name is taken; the bucket is not empty; the file is already hidden.
    let e = c.create_bucket(BUCKET, false).expect_err("taken");
    assert!(
        matches!(&e, ClientError::Conflict { code, .. } if code == "duplicate_bucket_name"),
        "{e:?}"
    );
    let b = c.bucket(BUCKET).expect("h");
    b.upload("x.txt").from_bytes("x").expect("up");
    let e = c.delete_bucket(BUCKET).expect_err("not empty");
    assert!(
        matches!(&e, ClientError::Conflict { code, .. } if code == "cannot_delete_non_empty_bucket"),
        "{e:?}"
    );
    // (the bucket was dropped from the cache: look it up again)
    let b = c.bucket(BUCKET).expect("h");
    b.hide("x.txt").expect("hide");
    let e = b.hide("x.txt").expect_err("hidden already");
    assert!(
        matches!(&e, ClientError::Conflict { code, .. } if code == "already_hidden"),
        "{e:?}"
    );
    // The catch-all keeps B2's status, code and message.
    let (master_id, _) = sim.master_key();
    let e = c.delete_key(master_id).expect_err("master key");
    assert!(
        matches!(&e, ClientError::B2 { status: 400, code, message } if code == "bad_request" && message.contains("master")),
        "{e:?}"
    );
    // Cap exceeded: on uploads (storage) and downloads.
    sim.set_faults(Faults {
        force_cap_exceeded: true,
        ..Faults::default()
    });
    let e = b.upload("y.txt").from_bytes("y").expect_err("cap");
    assert!(
        matches!(&e, ClientError::CapExceeded { code, .. } if code.ends_with("cap_exceeded")),
        "{e:?}"
    );
    let e = b.download("x.txt").to_vec().expect_err("cap");
    assert!(matches!(e, ClientError::CapExceeded { .. }), "{e:?}");
}

#[test]
fn invalid_input_io_transport_and_integrity() {
    let dir = tmpdir("errors");
    let store = dir.join("store");
    let sim = Sim::builder().data_dir(&store).start().expect("sim");
    let c = client(&sim);
    c.create_bucket(BUCKET, false).expect("bucket");
    let b = c.bucket(BUCKET).expect("h");
    // Invalid input: refused before any request.
    let before = sim.stats().requests;
    let e = b.upload("bad//name").from_bytes("x").expect_err("bad name");
    assert!(
        matches!(e, ClientError::InvalidInput(InvalidInput::FileNameSlash)),
        "{e:?}"
    );
    #[allow(clippy::reversed_empty_ranges)]
    let e = b.download("x").range(9..3).to_vec().expect_err("reversed");
    assert!(
        matches!(e, ClientError::InvalidInput(InvalidInput::Range)),
        "{e:?}"
    );
    let e = c.bucket("b2-reserved").expect_err("bad bucket name");
    assert!(
        matches!(e, ClientError::InvalidInput(InvalidInput::BucketName)),
        "{e:?}"
    );
    let first = b
        .list("bad\u{7}")
        .into_iter()
        .next()
        .expect("one row")
        .expect_err("bad prefix");
    assert!(
        matches!(
            first,
            ClientError::InvalidInput(InvalidInput::FileNameControlChar)
        ),
        "{first:?}"
    );
    assert_eq!(sim.stats().requests, before, "nothing was sent");
    // A range past the end: B2's 416 is invalid input too.
    let bytes = data(20_000, 3);
    b.upload("rotten").from_bytes(&bytes).expect("up");
    let e = b
        .download("rotten")
        .range(50_000..=50_010)
        .to_vec()
        .expect_err("416");
    assert!(
        matches!(e, ClientError::InvalidInput(InvalidInput::Range)),
        "{e:?}"
    );

    // I/O, with the path.
    let missing = dir.join("no-such-file");
    let e = b.upload("m").from_path(&missing).expect_err("no source");
    match &e {
        ClientError::Io { path, source } => {
            assert_eq!(path.as_deref(), Some(missing.as_path()));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("no-such-file"), "{e}");
    let e = b.upload("d").from_path(&dir).expect_err("a directory");
    assert!(
        matches!(&e, ClientError::Io { path: Some(p), source } if p == &dir && source.kind() == std::io::ErrorKind::IsADirectory),
        "{e:?}"
    );
    let e = b.download("rotten").to_path(&dir).expect_err("a directory");
    assert!(
        matches!(&e, ClientError::Io { path: Some(p), source } if p == &dir && source.kind() == std::io::ErrorKind::IsADirectory),
        "{e:?}"
    );
    let target = dir.join("no-dir").join("out.bin");
    let e = b
        .download("rotten")
        .to_path(&target)
        .expect_err("no directory");
    assert!(
        matches!(&e, ClientError::Io { path: Some(p), .. } if p == &target),
        "{e:?}"
    );

    // Integrity: bit rot in the server's store.
    let mut flipped = 0;
    for f in walk(&store) {
        if std::fs::read(&f).ok().as_deref() == Some(bytes.as_slice()) {
            let mut rotten = bytes.clone();
            rotten[777] ^= 0x10;
            std::fs::write(&f, rotten).expect("rot");
            flipped += 1;
        }
    }
    assert_eq!(flipped, 1, "found the stored blob");
    let out = dir.join("rotten.bin");
    let e = b.download("rotten").to_path(&out).expect_err("rotten");
    assert!(
        matches!(e, ClientError::Integrity(Integrity::Download)),
        "{e:?}"
    );
    assert!(!out.exists());
    let e = b.download("rotten").to_vec().expect_err("rotten");
    assert!(
        matches!(e, ClientError::Integrity(Integrity::Download)),
        "{e:?}"
    );

    // Transport: the server is gone.
    sim.stop();
    let e = b.info("rotten").expect_err("gone");
    assert!(
        matches!(e, ClientError::Transport(TransportError::Connect)),
        "{e:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
