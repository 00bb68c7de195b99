//! End to end: `b2ctl file copy` / `file concatenate` (and the old `copy` alias) against
//! `b2-sim` over loopback.

use std::path::PathBuf;
use std::process::{Command, Output};

use b2_sim::Sim;

struct Env {
    sim: Sim,
    dir: PathBuf,
}

impl Env {
    fn new(tag: &str) -> Env {
        let dir = std::env::temp_dir().join(format!("b2ctl-copy-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp");
        let sim = Sim::builder().min_part_size(100_000).start().expect("sim");
        Env { sim, dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        let (id, key) = self.sim.master_key();
        Command::new(env!("CARGO_BIN_EXE_b2ctl"))
            .args(args)
            .env("B2_APPLICATION_KEY_ID", id)
            .env("B2_APPLICATION_KEY", key)
            .env("B2_ENVIRONMENT", self.sim.url())
            // Copy checkpoints and locks in the test's own directory.
            .env("XDG_RUNTIME_DIR", &self.dir)
            .current_dir(&self.dir)
            .output()
            .expect("run b2ctl")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "b2ctl {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(!o.status.success(), "b2ctl {args:?} should fail");
        String::from_utf8_lossy(&o.stderr).into_owned()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7919) >> 3) as u8).collect()
}

#[test]
fn file_copy_by_id_and_name_across_buckets_ranges_metadata_and_concatenate() {
    let e = Env::new("all");
    e.ok(&["bucket", "create", "cp-src"]);
    e.ok(&["bucket", "create", "cp-dst"]);
    let src = data(450_000);
    let path = e.dir.join("src.bin");
    std::fs::write(&path, &src).expect("write");
    let id = e.ok(&[
        "upload",
        "cp-src",
        path.to_str().expect("utf8"),
        "src.bin",
        "--content-type",
        "text/x-src",
        "--info",
        "k=v",
    ]);
    // By id, into another bucket, large (cutoff 0, parts of 100 kB, 3 threads).
    let large = e.ok(&[
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
    ]);
    assert_eq!(e.sim.file_bytes("cp-dst", "large.bin"), Some(src.clone()));
    let info = e.ok(&["info", "cp-dst", "large.bin", "--json"]);
    let large_id = large
        .split("\"fileId\":")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .expect("the new version's JSON names its fileId");
    assert!(info.contains(large_id), "{info}");
    assert!(info.contains("text/x-src"), "metadata kept: {info}");
    assert!(info.contains("large_file_sha1"), "{info}");
    // By name, a range, metadata replaced.
    e.ok(&[
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
    ]);
    assert_eq!(
        e.sim.file_bytes("cp-dst", "part.bin"),
        Some(src[10..110].to_vec())
    );
    let info = e.ok(&["info", "cp-dst", "part.bin", "--json"]);
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
    e.ok(&[
        "file",
        "concatenate",
        "b2://cp-dst/joined.bin",
        &format!("b2id://{id}#0-199999"),
        "b2://cp-dst/large.bin",
        "b2://cp-src/src.bin#5-9",
        "--part-size",
        "100000",
    ]);
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
    e.ok(&["copy", "cp-src", "src.bin", "alias.bin"]);
    assert_eq!(e.sim.file_bytes("cp-src", "alias.bin"), Some(src));
    // A bad location.
    let err = e.fails(&["file", "copy", "cp-src/src.bin", "b2://cp-dst/y"]);
    assert!(err.contains("b2://BUCKET/NAME"), "{err}");
}
