//! End to end over real loopback sockets against `b2-sim`: SSE-C uploads (small, large
//! from a path, large from a stream) read back with the right key and refused with a wrong
//! or missing one; Object Lock retention and legal hold blocking deletes; the governance
//! bypass working only with the capability; custom upload timestamps.

mod common;

use b2_core::op::UploadPart;
use b2_core::wire::encryption::{CustomerKey, Encryption, EncryptionMode};
use b2_core::wire::large::StartLargeFile;
use b2_core::wire::lock::{LegalHold, Retention, RetentionMode};
use b2_sim::Sim;
use b2_transport_std::client::{
    Client, ClientError, DownloadTarget, ParallelDownload, Sse, UploadOptions,
};
use common::{data, start};
use sha1::{Digest, Sha1};

const DAY: u64 = 86_400_000;

fn sim() -> (Sim, Client) {
    start(
        Sim::builder()
            .min_part_size(100_000)
            .custom_upload_timestamps(true),
    )
}

fn locked_bucket(c: &Client, name: &str) {
    c.create_bucket_with_file_lock(name, false)
        .expect("locked bucket");
}

fn status(e: &ClientError) -> Option<(u16, String)> {
    match e {
        // B2's 403 `access_denied` (its 401 is `unauthorized`): the client maps both here.
        ClientError::Unauthorized { status: 403, .. } => Some((403, "access_denied".to_owned())),
        ClientError::B2 { status, code, .. } => Some((*status, code.clone())),
        _ => None,
    }
}

fn denied(r: Result<impl std::fmt::Debug, ClientError>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(
        status(&e),
        Some((403, "access_denied".to_string())),
        "{what}: {e}"
    );
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

#[test]
fn sse_c_round_trips_and_needs_its_key() {
    let (_sim, c) = sim();
    c.create_bucket("sse-c-e2e", false).expect("bucket");
    let key = CustomerKey::new([9; 32]);
    let other = CustomerKey::new([10; 32]);
    let opts = UploadOptions {
        encryption: Some(Sse::C(key.clone())),
        part_size: Some(100_000),
        large_threshold: 150_000,
        ..Default::default()
    };
    let dir = std::env::temp_dir().join(format!("b2-sse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let small = data(1000, 1);
    let large = data(350_000, 2);
    let large_path = dir.join("large.bin");
    std::fs::write(&large_path, &large).expect("write");
    let uploads = [
        (
            "small",
            c.upload_reader("sse-c-e2e", &small[..], "small", &opts)
                .expect("small"),
            &small,
        ),
        (
            "large-path",
            c.upload_path("sse-c-e2e", &large_path, "large-path", &opts)
                .expect("large from path"),
            &large,
        ),
        (
            "large-stream",
            c.upload_reader("sse-c-e2e", &large[..], "large-stream", &opts)
                .expect("large from stream"),
            &large,
        ),
    ];
    for (name, f, want) in uploads {
        let p = c.file_protection(&f.file_id).expect("protection");
        assert_eq!(p.encryption, Some(EncryptionMode::SseC), "{name}");
        let target = DownloadTarget::ById(f.file_id.clone());
        let mut got = Vec::new();
        c.download_to_writer_with_key(&target, &mut got, None, None, &key)
            .expect("right key");
        assert_eq!(&got, want, "{name}");
        denied(
            c.download_to_writer_with_key(&target, Vec::new(), None, None, &other),
            "wrong key",
        );
        denied(
            c.download_to_writer(&target, Vec::new(), None, None),
            "no key",
        );
        // To a path, in parallel ranges (the first GET and every range): the key goes with every request.
        let out = dir.join(format!("{name}.out"));
        let par = ParallelDownload {
            threads: 3,
            threshold: 1,
            chunk: 64 * 1024,
        };
        c.download_to_path_with_key(&target, &out, None, None, &par, &key)
            .expect("path");
        assert_eq!(&std::fs::read(&out).expect("read"), want, "{name}");
        assert!(c
            .download_to_path_with(&target, &out, None, None, &par)
            .is_err());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn governance_blocks_delete_and_bypass_needs_the_capability() {
    let (_sim, c) = sim();
    locked_bucket(&c, "gov-e2e");
    let opts = UploadOptions {
        retention: Some(Retention {
            mode: RetentionMode::Governance,
            retain_until_ms: now_ms() + DAY,
        }),
        ..Default::default()
    };
    let f = c
        .upload_reader("gov-e2e", &b"keep me"[..], "kept", &opts)
        .expect("upload");
    let p = c.file_protection(&f.file_id).expect("protection");
    assert_eq!(p.retention.map(|r| r.mode), Some(RetentionMode::Governance));
    denied(c.delete_version("kept", &f.file_id), "plain delete");
    let k = c
        .create_key(
            "nobypass",
            &["deleteFiles", "readFiles", "listFiles", "listBuckets"],
            None,
            None,
        )
        .expect("key");
    let weak = Client::new(&k.id, &k.key, _sim.url()).expect("weak client");
    denied(
        weak.delete_version_bypassing_governance("kept", &f.file_id),
        "bypass without the capability",
    );
    c.delete_version_bypassing_governance("kept", &f.file_id)
        .expect("bypass with the capability");
}

#[test]
fn compliance_only_extends_and_legal_hold_blocks_until_off() {
    let (_sim, c) = sim();
    locked_bucket(&c, "comp-e2e");
    let until = now_ms() + DAY;
    let opts = UploadOptions {
        retention: Some(Retention {
            mode: RetentionMode::Compliance,
            retain_until_ms: until,
        }),
        legal_hold: Some(LegalHold::On),
        ..Default::default()
    };
    let f = c
        .upload_reader("comp-e2e", &b"evidence"[..], "ev", &opts)
        .expect("upload");
    let p = c.file_protection(&f.file_id).expect("protection");
    assert_eq!(p.legal_hold, Some(LegalHold::On));
    denied(
        c.update_file_retention("ev", &f.file_id, None, true),
        "remove compliance",
    );
    let longer = Retention {
        mode: RetentionMode::Compliance,
        retain_until_ms: until + DAY,
    };
    assert_eq!(
        c.update_file_retention("ev", &f.file_id, Some(longer), false)
            .expect("extend"),
        Some(longer)
    );
    // A legal hold on a file without retention.
    let g = c
        .upload_reader(
            "comp-e2e",
            &b"held"[..],
            "held",
            &UploadOptions {
                legal_hold: Some(LegalHold::On),
                ..Default::default()
            },
        )
        .expect("upload");
    denied(
        c.delete_version("held", &g.file_id),
        "delete under legal hold",
    );
    assert_eq!(
        c.update_file_legal_hold("held", &g.file_id, LegalHold::Off)
            .expect("off"),
        Some(LegalHold::Off)
    );
    c.delete_version("held", &g.file_id)
        .expect("delete after hold off");
}

#[test]
fn custom_upload_timestamps_small_and_large() {
    let (_sim, c) = sim();
    c.create_bucket("ts-e2e-bucket", false).expect("bucket");
    let opts = UploadOptions {
        custom_upload_timestamp: Some(1_500_000_000_000),
        part_size: Some(100_000),
        large_threshold: 150_000,
        ..Default::default()
    };
    let f = c
        .upload_reader("ts-e2e-bucket", &b"old"[..], "old", &opts)
        .expect("small");
    assert_eq!(f.upload_timestamp, 1_500_000_000_000);
    let big = data(250_000, 3);
    let f = c
        .upload_reader("ts-e2e-bucket", &big[..], "old-large", &opts)
        .expect("large");
    assert_eq!(f.upload_timestamp, 1_500_000_000_000);
}

#[test]
fn options_never_print_the_key() {
    let key = CustomerKey::new([0x33; 32]);
    let opts = UploadOptions {
        encryption: Some(Sse::C(key)),
        ..Default::default()
    };
    let text = format!("{opts:?}");
    // base64 of 32 bytes of 0x33.
    assert!(
        !text.contains("MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzM="),
        "{text}"
    );
    assert!(text.contains("<redacted>"), "{text}");
}

/// What an SSE-C upload killed after its first part leaves: an unfinished large file with
/// the info the SDK gives a file from a path.
fn crashed_sse_c(
    c: &Client,
    bucket_id: &str,
    name: &str,
    mtime: u64,
    bytes: &[u8],
    key: &CustomerKey,
) -> String {
    let ms = mtime.to_string();
    let sha: String = Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let info = [
        ("src_last_modified_millis", ms.as_str()),
        ("large_file_sha1", sha.as_str()),
    ];
    let id = c
        .call(
            StartLargeFile {
                bucket_id,
                file_name: name,
                content_type: "b2/x-auto",
                file_info: &info,
                server_side_encryption: Some(Encryption::SseC(key)),
                file_retention: None,
                legal_hold: None,
                custom_upload_timestamp: None,
            },
            |f| Ok(f.file_id.raw().to_owned()),
        )
        .expect("start");
    let mut s = c.session();
    let mut buf = vec![0u8; 16 * 1024];
    let mut op = UploadPart::new(&mut s, &mut buf, &id, 1, bytes, 0, 100_000, None)
        .expect("part")
        .with_customer_key(Some(key));
    c.run(&mut op).expect("part sent");
    id
}

#[test]
fn an_sse_c_upload_resumes_only_with_its_own_key() {
    let (sim, c) = sim();
    let b = c.create_bucket("resume-sse-c", false).expect("bucket");
    let dir = std::env::temp_dir().join(format!("b2-sse-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bytes = data(300_000, 4);
    let path = dir.join("r.bin");
    std::fs::write(&path, &bytes).expect("write");
    let mtime = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime")
        .duration_since(std::time::UNIX_EPOCH)
        .expect("epoch")
        .as_millis() as u64;
    let a = CustomerKey::new([1; 32]);
    let other = CustomerKey::new([2; 32]);
    let opts = |k: Option<&CustomerKey>| UploadOptions {
        part_size: Some(100_000),
        large_threshold: 100_000,
        lock_dir: Some(dir.clone()),
        encryption: k.map(|k| Sse::C(k.clone())),
        ..Default::default()
    };
    let crashed = crashed_sse_c(&c, &b.id, "r.bin", mtime, &bytes, &a);
    let f = c
        .upload_path("resume-sse-c", &path, "r.bin", &opts(Some(&other)))
        .expect("other key");
    assert_ne!(f.file_id, crashed, "another key: a new file");
    let f = c
        .upload_path("resume-sse-c", &path, "r.bin", &opts(None))
        .expect("no key");
    assert_ne!(f.file_id, crashed, "no key: a new file");
    let f = c
        .upload_path("resume-sse-c", &path, "r.bin", &opts(Some(&a)))
        .expect("same key");
    assert_eq!(f.file_id, crashed, "the same key: resumed");
    assert_eq!(sim.file_bytes("resume-sse-c", "r.bin"), Some(bytes));
    let _ = std::fs::remove_dir_all(dir);
}

/// The upload paths with encryption and Object Lock under the simulator's faults (503s,
/// resets, expired tokens, 429s and answers lost after storing): each file lands once, with
/// its SSE-C key's MD5, its retention and its legal hold, and reads back with the key.
#[test]
fn sse_c_and_object_lock_uploads_under_faults_land_once_with_their_settings() {
    let (sim, c) = sim();
    c.create_bucket_with_file_lock("fault-vault", false)
        .expect("file-lock bucket");
    let key = CustomerKey::new([7; 32]);
    let until = now_ms() + DAY;
    let retention = Retention {
        mode: RetentionMode::Governance,
        retain_until_ms: until,
    };
    let opts = UploadOptions {
        encryption: Some(Sse::C(key.clone())),
        retention: Some(retention),
        legal_hold: Some(LegalHold::On),
        part_size: Some(100_000),
        large_threshold: 150_000,
        ..Default::default()
    };
    sim.set_faults(b2_sim::Faults {
        upload_503_every: Some(4),
        reset_upload_every: Some(7),
        expire_token_every: Some(9),
        too_many_requests_every: Some(11),
        retry_after_secs: 0,
        lose_answer_every: Some(5),
        ..Default::default()
    });
    let dir = common::tmpdir("sse-faults");
    let mut sent = Vec::new();
    for i in 0..6u8 {
        let body = data(if i % 3 == 2 { 420_000 } else { 3_000 }, u32::from(i));
        let name = format!("f{i}");
        let f = if i % 2 == 0 {
            c.upload_reader("fault-vault", &body[..], &name, &opts)
        } else {
            let p = dir.join(&name);
            std::fs::write(&p, &body).expect("write");
            c.upload_path("fault-vault", &p, &name, &opts)
        }
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        // A large file from a stream has no whole-file SHA-1 (it is known only at the end).
        let verifiable = i % 2 == 1 || body.len() < 150_000;
        sent.push((name, f.file_id, body, verifiable));
    }
    let stats = sim.stats();
    sim.set_faults(b2_sim::Faults::default());
    assert!(
        stats.faults.service_unavailable > 0
            && stats.faults.resets > 0
            && stats.faults.expired_tokens > 0
            && stats.faults.lost_answers > 0,
        "every kind of fault fired: {:?}",
        stats.faults
    );
    // The key's MD5 as B2 keeps it: the same on every file (and the downloads below, which
    // b2-sim refuses without the matching key, prove it is this key's).
    let mut md5: Option<String> = None;
    for (name, id, body, verifiable) in sent {
        assert_eq!(common::versions(&c, "fault-vault", &name), 1, "{name} once");
        let p = c.file_protection(&id).expect("protection");
        assert_eq!(p.encryption, Some(EncryptionMode::SseC), "{name}");
        assert!(p.customer_key_md5.is_some(), "{name}");
        if md5.is_none() {
            md5.clone_from(&p.customer_key_md5);
        }
        assert_eq!(p.customer_key_md5, md5, "{name}");
        assert_eq!(p.retention, Some(retention), "{name}");
        assert_eq!(p.legal_hold, Some(LegalHold::On), "{name}");
        let mut got = Vec::new();
        let r = c
            .download_to_writer_with_key(&DownloadTarget::ById(id), &mut got, None, None, &key)
            .expect("download with the key");
        assert_eq!(got, body, "{name}");
        assert_eq!(r.verified, verifiable, "{name}: SHA-1 checked");
    }
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
