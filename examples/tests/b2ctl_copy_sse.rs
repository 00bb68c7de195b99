//! End to end: `b2ctl file copy` / `file concatenate` with the official tool's encryption
//! and Object Lock flags (`--source-server-side-encryption SSE-C`,
//! `--destination-server-side-encryption SSE-B2|SSE-C`, keys from
//! `B2_SOURCE_SSE_C_KEY_B64` / `B2_DESTINATION_SSE_C_KEY_B64`, `--legal-hold`) against
//! `b2-sim` over loopback.

mod common;

use b2_sim::Sim;
use b2_transport_std::client::Client;
use common::{data, file_id, Env, Run};

/// Two SSE-C keys, base64 of 32 bytes.
const KEY_A: &str = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
const KEY_B: &str = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";

/// A simulator with 100,000-byte parts; copy checkpoints and locks in the test's own folder,
/// and no SSE-C key in the environment unless a run gives one.
fn start(tag: &str) -> Env {
    let e = Env::start(tag, Sim::builder().min_part_size(100_000));
    let dir = e.dir.clone();
    e.with_env("XDG_RUNTIME_DIR", dir)
        .without_env("B2_SOURCE_SSE_C_KEY_B64")
        .without_env("B2_DESTINATION_SSE_C_KEY_B64")
}

/// `b2ctl ARGS` with the given SSE-C keys in the environment (source, destination).
fn run(e: &Env, args: &[&str], src_key: Option<&str>, dst_key: Option<&str>) -> Run {
    let mut run = e.b2ctl(args);
    if let Some(k) = src_key {
        run = run.env("B2_SOURCE_SSE_C_KEY_B64", k);
    }
    if let Some(k) = dst_key {
        run = run.env("B2_DESTINATION_SSE_C_KEY_B64", k);
    }
    run
}

/// As [`run`], which must succeed: its stdout, trimmed.
fn ok(e: &Env, args: &[&str], src_key: Option<&str>, dst_key: Option<&str>) -> String {
    run(e, args, src_key, dst_key).ok().trim().to_owned()
}

/// As [`run`], which must fail: its stderr.
fn fails(e: &Env, args: &[&str], src_key: Option<&str>, dst_key: Option<&str>) -> String {
    run(e, args, src_key, dst_key).fails()
}

/// The encryption mode of a version as `b2ctl file info` shows B2's JSON.
fn mode(e: &Env, id: &str) -> String {
    let info = ok(e, &["file", "info", &format!("b2id://{id}")], None, None);
    let sse = info
        .split("\"serverSideEncryption\":")
        .nth(1)
        .unwrap_or_else(|| panic!("no serverSideEncryption in {info}"));
    sse.split("\"mode\":")
        .nth(1)
        .and_then(|r| {
            r.trim_start()
                .split(['"', ',', '}'])
                .find(|s| !s.is_empty())
        })
        .unwrap_or("?")
        .to_owned()
}

#[test]
fn file_copy_and_concatenate_with_the_official_encryption_and_lock_flags() {
    let e = start("all");
    ok(&e, &["bucket", "create", "sse-src"], None, None);
    ok(&e, &["bucket", "create", "sse-dst"], None, None);
    let src = data(250_000);
    std::fs::write(e.dir.join("src.bin"), &src).expect("write");
    // An SSE-C source (key A).
    ok(
        &e,
        &[
            "upload",
            "sse-src",
            &e.path("src.bin"),
            "src.bin",
            "--destination-server-side-encryption",
            "SSE-C",
        ],
        None,
        Some(KEY_A),
    );
    // Without the source key B2 refuses the copy (403), small and large alike.
    for cutoff in ["5000000000", "0"] {
        let err = fails(
            &e,
            &[
                "file",
                "copy",
                "b2://sse-src/src.bin",
                "b2://sse-dst/nokey.bin",
                "--cutoff",
                cutoff,
                "--part-size",
                "100000",
            ],
            None,
            None,
        );
        assert!(
            err.contains("403") || err.contains("access_denied"),
            "{err}"
        );
    }
    assert!(e.sim.file_bytes("sse-dst", "nokey.bin").is_none());
    // The large attempt left its unfinished file and checkpoint: run again with the key,
    // it resumes and finishes.
    assert_eq!(e.sim.unfinished_large_files(), 1);
    ok(
        &e,
        &[
            "file",
            "copy",
            "b2://sse-src/src.bin",
            "b2://sse-dst/nokey.bin",
            "--cutoff",
            "0",
            "--part-size",
            "100000",
            "--source-server-side-encryption",
            "SSE-C",
        ],
        Some(KEY_A),
        None,
    );
    assert_eq!(e.sim.file_bytes("sse-dst", "nokey.bin"), Some(src.clone()));
    assert_eq!(e.sim.unfinished_large_files(), 0);
    // SSE-C needs its key in the environment: refused before any call.
    let err = fails(
        &e,
        &[
            "file",
            "copy",
            "b2://sse-src/src.bin",
            "b2://sse-dst/x.bin",
            "--source-server-side-encryption",
            "SSE-C",
        ],
        None,
        None,
    );
    assert!(err.contains("B2_SOURCE_SSE_C_KEY_B64"), "{err}");
    // SSE-C (key A) -> SSE-B2, small then large (cutoff 0).
    for (name, cutoff) in [("b2-small.bin", "5000000000"), ("b2-large.bin", "0")] {
        let out = ok(
            &e,
            &[
                "file",
                "copy",
                "b2://sse-src/src.bin",
                &format!("b2://sse-dst/{name}"),
                "--source-server-side-encryption",
                "SSE-C",
                "--destination-server-side-encryption",
                "SSE-B2",
                "--destination-server-side-encryption-algorithm",
                "AES256",
                "--cutoff",
                cutoff,
                "--part-size",
                "100000",
            ],
            Some(KEY_A),
            None,
        );
        assert_eq!(mode(&e, &file_id(&out)), "SSE-B2", "{name}");
        assert_eq!(
            e.sim.file_bytes("sse-dst", name),
            Some(src.clone()),
            "{name}"
        );
        // Downloads with no key.
        ok(
            &e,
            &["download", &format!("b2://sse-dst/{name}"), &e.path(name)],
            None,
            None,
        );
        assert_eq!(
            std::fs::read(e.dir.join(name)).expect("read"),
            src,
            "{name}"
        );
    }
    // SSE-C (key A) -> SSE-C (key B), large: readable with key B only.
    let out = ok(
        &e,
        &[
            "file",
            "copy",
            "b2://sse-src/src.bin",
            "b2://sse-dst/c.bin",
            "--source-server-side-encryption",
            "SSE-C",
            "--destination-server-side-encryption",
            "SSE-C",
            "--cutoff",
            "0",
            "--part-size",
            "100000",
        ],
        Some(KEY_A),
        Some(KEY_B),
    );
    assert_eq!(mode(&e, &file_id(&out)), "SSE-C");
    for (what, key) in [("no key", None), ("the source's key", Some(KEY_A))] {
        let args = [
            "download",
            "b2://sse-dst/c.bin",
            &e.path("c.out"),
            "--source-server-side-encryption",
            "SSE-C",
        ];
        let args: &[&str] = if key.is_some() { &args } else { &args[..3] };
        let err = fails(&e, args, key, None);
        assert!(
            err.contains("403") || err.contains("access_denied"),
            "{what}: {err}"
        );
    }
    ok(
        &e,
        &[
            "download",
            "b2://sse-dst/c.bin",
            &e.path("c.out"),
            "--source-server-side-encryption",
            "SSE-C",
        ],
        Some(KEY_B),
        None,
    );
    assert_eq!(std::fs::read(e.dir.join("c.out")).expect("read"), src);
    // Concatenate an SSE-B2 file and the SSE-C source (key A) into an SSE-C file (key B):
    // the source key goes only to the SSE-C source's parts.
    let out = ok(
        &e,
        &[
            "file",
            "concatenate",
            "b2://sse-dst/joined.bin",
            "b2://sse-dst/b2-small.bin",
            "b2://sse-src/src.bin#0-99999",
            "--part-size",
            "100000",
            "--source-server-side-encryption",
            "SSE-C",
            "--destination-server-side-encryption",
            "SSE-C",
        ],
        Some(KEY_A),
        Some(KEY_B),
    );
    assert_eq!(mode(&e, &file_id(&out)), "SSE-C");
    let mut want = src.clone();
    want.extend_from_slice(&src[..100_000]);
    assert_eq!(e.sim.file_bytes("sse-dst", "joined.bin"), Some(want));
    assert_eq!(e.sim.unfinished_large_files(), 0);
}

#[test]
fn file_copy_sets_retention_and_legal_hold_on_the_new_file() {
    let e = start("lock");
    ok(
        &e,
        &["bucket", "create", "lock-dst", "--file-lock-enabled"],
        None,
        None,
    );
    let (id, key) = e.sim.master_key();
    let c = Client::new(id, key, e.sim.url()).expect("client");
    ok(&e, &["bucket", "create", "plain-src"], None, None);
    let src = data(250_000);
    std::fs::write(e.dir.join("src.bin"), &src).expect("write");
    ok(
        &e,
        &["upload", "plain-src", &e.path("src.bin"), "src.bin"],
        None,
        None,
    );
    // The hold is sent: a bucket without file lock refuses it.
    let err = fails(
        &e,
        &[
            "file",
            "copy",
            "b2://plain-src/src.bin",
            "b2://plain-src/held.bin",
            "--legal-hold",
            "on",
        ],
        None,
        None,
    );
    assert!(err.contains("File lock is not enabled"), "{err}");
    let until = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis()
        + 86_400_000)
        .to_string();
    for (name, cutoff) in [("small.bin", "5000000000"), ("large.bin", "0")] {
        let out = ok(
            &e,
            &[
                "file",
                "copy",
                "b2://plain-src/src.bin",
                &format!("b2://lock-dst/{name}"),
                "--file-retention-mode",
                "governance",
                "--retain-until",
                &until,
                "--legal-hold",
                "on",
                "--cutoff",
                cutoff,
                "--part-size",
                "100000",
            ],
            None,
            None,
        );
        let id = file_id(&out);
        let p = c.file_protection(&id).expect("protection");
        assert_eq!(
            p.retention
                .map(|r| (r.mode.as_str(), r.retain_until_ms.to_string())),
            Some(("governance", until.clone())),
            "{name}"
        );
        assert_eq!(p.legal_hold.map(|h| h.as_str()), Some("on"), "{name}");
        assert!(c.delete_version(name, &id).is_err(), "{name}: locked");
    }
}
