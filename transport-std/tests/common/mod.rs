//! What the client's end-to-end tests share: a `b2-sim` over loopback with a client on its
//! master key, a fresh folder per test, test data and small checks.
//!
//! Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use b2_sim::{Sim, SimBuilder};
use b2_transport_std::client::Client;
use sha1::{Digest, Sha1};

/// A client on `sim`'s master key, with default settings.
pub fn master(sim: &Sim) -> Client {
    let (id, key) = sim.master_key();
    Client::new(id, key, sim.url()).expect("client")
}

/// The simulator `sim` describes, started, and a client on its master key.
pub fn start(sim: SimBuilder) -> (Sim, Client) {
    let sim = sim.start().expect("sim");
    let client = master(&sim);
    (sim, client)
}

/// A new empty folder named after `tag` (and the process and a counter, so tests running at
/// once never share one).
pub fn tmpdir(tag: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("b2-test-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp");
    d
}

/// `n` bytes of a pattern that `seed` varies.
pub fn data(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).rotate_left(seed)) as u8)
        .collect()
}

/// Lower-case hex of `d`.
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-1 of `d` in lower-case hex.
pub fn sha1_hex(d: &[u8]) -> String {
    hex(&Sha1::digest(d))
}

/// Every file under `d`, at any depth (none if `d` cannot be read).
pub fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// How many finished versions of `name` `bucket` holds (uploads and hide markers; an
/// unfinished large file does not count).
pub fn versions(c: &Client, bucket: &str, name: &str) -> usize {
    c.ls(bucket, name, true, true)
        .expect("ls")
        .filter(|v| {
            v.as_ref()
                .is_ok_and(|v| v.file_name == name && v.action != "start")
        })
        .count()
}
