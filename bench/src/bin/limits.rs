//! The physical limits of this machine for the benchmark table: how fast the `sha1` crate
//! hashes in memory (one core) and how fast one TCP stream copies over loopback.
//!
//! Run: `cargo run --release -p b2-bench --bin limits`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use sha1::{Digest, Sha1};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() -> std::io::Result<()> {
    let size: usize = 1 << 30;
    let buf: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();

    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut h = Sha1::new();
        for _ in 0..size / buf.len() {
            h.update(&buf);
        }
        std::hint::black_box(h.finalize());
        runs.push(size as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    let sha = median(runs);

    let mut runs = Vec::new();
    for _ in 0..5 {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let addr = l.local_addr()?;
        let reader = std::thread::spawn(move || -> std::io::Result<u64> {
            let (mut s, _) = l.accept()?;
            let mut b = vec![0u8; 1 << 20];
            let mut n = 0u64;
            loop {
                let k = s.read(&mut b)?;
                if k == 0 {
                    return Ok(n);
                }
                n += k as u64;
            }
        });
        let t = Instant::now();
        let mut s = TcpStream::connect(addr)?;
        for _ in 0..size / buf.len() {
            s.write_all(&buf)?;
        }
        drop(s);
        let n = reader
            .join()
            .map_err(|_| std::io::Error::other("reader panicked"))??;
        runs.push(n as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    let copy = median(runs);
    println!("sha1 in memory (sha1 crate, one core): {sha:.0} MB/s");
    println!("loopback TCP copy (one stream, 1 MiB writes): {copy:.0} MB/s");
    Ok(())
}
