//! The machine's floor for downloading 1 GiB to a file: what one SHA-1 pass, one memory copy,
//! filling the page cache with a fresh file (buffered `pwrite`s into space reserved with
//! `fallocate`, the way a download writes) and writing the same bytes with `O_DIRECT` cost,
//! in wall seconds per GiB on one thread. Each case runs 3 times (after 3 s of rest, so that
//! memory freed by the previous file is handed back to a VM's host as it would be between
//! downloads); the median is printed.
//!
//! Run: `cargo run --release -p b2-bench --bin download-floor [DIR]` (DIR: where the test
//! file goes, default `.`; it is removed afterwards).
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

const SIZE: usize = 1 << 30;

/// A zeroed buffer of `len` bytes aligned for `O_DIRECT` (4096), inside a larger `Vec`.
struct Aligned {
    v: Vec<u8>,
    off: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Aligned {
        let v = vec![0u8; len + 4096];
        let off = v.as_ptr().align_offset(4096);
        Aligned { v, off, len }
    }

    fn bytes(&mut self) -> &mut [u8] {
        &mut self.v[self.off..self.off + self.len]
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn fill(b: &mut [u8]) {
    for (i, x) in b.iter_mut().enumerate() {
        *x = ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8;
    }
}

fn runs(mut f: impl FnMut() -> std::io::Result<()>) -> std::io::Result<f64> {
    let mut v = Vec::new();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(3));
        let t = Instant::now();
        f()?;
        v.push(t.elapsed().as_secs_f64());
    }
    Ok(median(v))
}

#[cfg(target_os = "linux")]
fn write_file(path: &Path, piece: usize, direct: bool) -> std::io::Result<()> {
    let _ = fs::remove_file(path);
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    if direct {
        o.custom_flags(rustix::fs::OFlags::DIRECT.bits() as i32);
    }
    let f: File = o.open(path)?;
    rustix::fs::fallocate(&f, rustix::fs::FallocateFlags::empty(), 0, SIZE as u64)?;
    let mut buf = Aligned::new(piece);
    fill(buf.bytes());
    let mut at = 0u64;
    while at < SIZE as u64 {
        f.write_all_at(buf.bytes(), at)?;
        at += piece as u64;
    }
    drop(f);
    fs::remove_file(path)
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("download-floor measures Linux page-cache and O_DIRECT writes: Linux only");
}

#[cfg(target_os = "linux")]
fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let path = Path::new(&dir).join(format!(".download-floor-{}", std::process::id()));
    let gib = SIZE as f64 / (1u64 << 30) as f64;

    let mut src = vec![0u8; 256 << 10];
    fill(&mut src);
    let sha = runs(|| {
        let mut h = Sha1::new();
        for _ in 0..SIZE / src.len() {
            h.update(&src);
        }
        std::hint::black_box(h.finalize());
        Ok(())
    })?;
    println!(
        "sha1, 256 KiB pieces (one core): {:.2} s per GiB",
        sha / gib
    );

    // From a source larger than the caches into a 256 KiB buffer, as bytes from a socket
    // buffer are copied into a block.
    let mut big = vec![0u8; 64 << 20];
    fill(&mut big);
    let mut dst = vec![0u8; 256 << 10];
    let copy = runs(|| {
        let n = dst.len();
        for i in 0..SIZE / n {
            let at = (i * n) % big.len();
            dst.copy_from_slice(std::hint::black_box(&big[at..at + n]));
            std::hint::black_box(&mut dst);
        }
        Ok(())
    })?;
    println!(
        "memcpy, 256 KiB pieces from 64 MiB: {:.2} s per GiB",
        copy / gib
    );

    for (piece, direct) in [(32 << 10, false), (256 << 10, false), (1 << 20, true)] {
        let w = runs(|| write_file(&path, piece, direct))?;
        let how = if direct { "O_DIRECT" } else { "page cache" };
        println!(
            "new file, {} KiB pwrites, {how}: {:.2} s per GiB",
            piece >> 10,
            w / gib
        );
    }
    Ok(())
}
