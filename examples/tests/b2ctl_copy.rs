//! End to end: `b2ctl file copy` / `file concatenate` (and the old `copy` alias) against
//! `b2-sim` over loopback.

mod common;

use b2_sim::Sim;
use common::{data, Env};

/// A simulator with 100,000-byte parts; copy checkpoints and locks in the test's own folder.
fn start(tag: &str) -> Env {
    let e = Env::start(tag, Sim::builder().min_part_size(100_000));
    let dir = e.dir.clone();
    e.with_env("XDG_RUNTIME_DIR", dir)
}

/// `b2ctl ARGS`, which must succeed: its stdout, trimmed.
fn ok(e: &Env, args: &[&str]) -> String {
    e.ok(args).trim().to_owned()
}

#[test]
fn file_copy_by_id_and_name_across_buckets_ranges_metadata_and_concatenate() {
    let e = start("all");
    ok(&e, &["bucket", "create", "cp-src"]);
    ok(&e, &["bucket", "create", "cp-dst"]);
    let src = data(450_000);
    let path = e.dir.join("src.bin");
    std::fs::write(&path, &src).expect("write");
    let id = ok(
        &e,
        &[
            "upload",
            "cp-src",
            path.to_str().expect("utf8"),
            "src.bin",
            "--content-type",
            "text/x-src",
            "--info",
            "k=v",
        ],
    );
    // By id, into another bucket, large (cutoff 0, parts of 100 kB, 3 threads).
    let large = ok(
        &e,
        &[
            "file",
            "copy",
            &format!("b2id://{id}"),
            "b2://cp-dst/large.bin",
            "--cutoff",
            "0",
            "--part-size",
            "100000",
            "--threads",
            "3",
        ],
    );
    assert_eq!(e.sim.file_bytes("cp-dst", "large.bin"), Some(src.clone()));
    let info = ok(&e, &["info", "cp-dst", "large.bin", "--json"]);
    let large_id = large
        .split("\"fileId\":")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .expect("the new version's JSON names its fileId");
    assert!(info.contains(large_id), "{info}");
    assert!(info.contains("text/x-src"), "metadata kept: {info}");
    assert!(info.contains("large_file_sha1"), "{info}");
    // By name, a range, metadata replaced.
    ok(
        &e,
        &[
            "file",
            "copy",
            "b2://cp-src/src.bin",
            "b2://cp-dst/part.bin",
            "--range",
            "10-109",
            "--content-type",
            "text/x-new",
            "--info",
            "n=m",
        ],
    );
    assert_eq!(
        e.sim.file_bytes("cp-dst", "part.bin"),
        Some(src[10..110].to_vec())
    );
    let info = ok(&e, &["info", "cp-dst", "part.bin", "--json"]);
    assert!(
        info.contains("text/x-new") && info.contains("\"n\""),
        "{info}"
    );
    assert!(!info.contains("\"k\""), "{info}");
    // New metadata with the COPY directive is refused before any call.
    let err = e.fails(&[
        "file",
        "copy",
        "b2://cp-src/src.bin",
        "b2://cp-dst/x",
        "--metadata-directive",
        "copy",
        "--content-type",
        "a/b",
    ]);
    assert!(err.contains("--metadata-directive replace"), "{err}");
    assert!(e.sim.file_bytes("cp-dst", "x").is_none());
    // Concatenate: a range of the source, then the whole copy, then 5 bytes.
    ok(
        &e,
        &[
            "file",
            "concatenate",
            "b2://cp-dst/joined.bin",
            &format!("b2id://{id}#0-199999"),
            "b2://cp-dst/large.bin",
            "b2://cp-src/src.bin#5-9",
            "--part-size",
            "100000",
        ],
    );
    let mut want = src[..200_000].to_vec();
    want.extend_from_slice(&src);
    want.extend_from_slice(&src[5..10]);
    assert_eq!(e.sim.file_bytes("cp-dst", "joined.bin"), Some(want));
    // A short source in the middle is refused, typed, before anything is started.
    let err = e.fails(&[
        "file",
        "concatenate",
        "b2://cp-dst/bad.bin",
        "b2://cp-src/src.bin#5-9",
        "b2://cp-src/src.bin",
    ]);
    assert!(err.contains("minimum part size"), "{err}");
    assert_eq!(e.sim.unfinished_large_files(), 0);
    // Today's alias.
    ok(&e, &["copy", "cp-src", "src.bin", "alias.bin"]);
    assert_eq!(e.sim.file_bytes("cp-src", "alias.bin"), Some(src));
    // A bad location.
    let err = e.fails(&["file", "copy", "cp-src/src.bin", "b2://cp-dst/y"]);
    assert!(err.contains("b2://BUCKET/NAME"), "{err}");
}
