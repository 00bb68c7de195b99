//! Each upload happens once: `b2-sim` stores an upload, a part or a finish and then drops the
//! connection without answering (`Faults::lose_answer_every`). The outcome is unknown to
//! the client, which asks B2 before sending again; every name ends with exactly one version.

mod common;

use std::io::Write;
use std::path::PathBuf;

use b2_sim::{Faults, Sim};
use b2_transport_std::client::{Client, UploadOptions};
use common::{data, start, versions};

const PART: u64 = 100_000;

fn sim_losing(every: u32) -> (Sim, Client) {
    start(Sim::builder().min_part_size(PART).faults(Faults {
        lose_answer_every: Some(every),
        ..Faults::default()
    }))
}

fn tmpfile(tag: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("b2-lost-{tag}-{}", std::process::id()));
    std::fs::File::create(&p)
        .and_then(|mut f| f.write_all(bytes))
        .expect("write");
    p
}

#[test]
fn small_files_whose_answers_are_lost_are_stored_once() {
    let (sim, c) = sim_losing(2);
    c.create_bucket("lost-small", false).expect("bucket");
    for i in 0..8u32 {
        let bytes = data(1000 + i as usize, i);
        let name = format!("f{i}");
        let f = c
            .upload_reader("lost-small", &bytes[..], &name, &UploadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(f.size, bytes.len() as u64);
        assert_eq!(sim.file_bytes("lost-small", &name), Some(bytes));
        assert_eq!(versions(&c, "lost-small", &name), 1, "{name}: one version");
    }
    assert!(sim.stats().faults.lost_answers >= 4, "{:?}", sim.stats());
}

#[test]
fn parts_and_finishes_whose_answers_are_lost_are_stored_once() {
    let (sim, c) = sim_losing(3);
    c.create_bucket("lost-large", false).expect("bucket");
    let bytes = data(7 * PART as usize + 123, 4);
    let path = tmpfile("large", &bytes);
    let o = UploadOptions {
        part_size: Some(PART),
        large_threshold: PART,
        threads: 2,
        lock_dir: Some(std::env::temp_dir().join(format!("b2-lost-locks-{}", std::process::id()))),
        ..UploadOptions::default()
    };
    for name in ["a.bin", "b.bin"] {
        c.upload_path("lost-large", &path, name, &o)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            sim.file_bytes("lost-large", name).as_deref(),
            Some(&bytes[..])
        );
        assert_eq!(versions(&c, "lost-large", name), 1, "{name}: one version");
    }
    // A stream too: its parts are in memory, and a lost answer is still looked up.
    c.upload_reader("lost-large", &bytes[..], "c.bin", &o)
        .expect("stream");
    assert_eq!(versions(&c, "lost-large", "c.bin"), 1);
    assert_eq!(sim.unfinished_large_files(), 0);
    let st = sim.stats();
    assert!(st.faults.lost_answers >= 8, "{st:?}");
    // Three files of 8 parts: 24 parts stored, none of them sent twice.
    assert_eq!(st.uploads, 24, "{st:?}");
    let _ = std::fs::remove_file(path);
}
