//! `sim-bench`: the figures of `b2-sim` (see sim/README.md).
//!
//! 1. SHA-1 (`sha1` crate) hashing speed in memory.
//! 2. Ingest speed of one upload stream over loopback into `b2-sim` (SHA-1 verified).
//! 3. Peak RSS (VmHWM) of a `b2-sim --data-dir` process while a 2 GiB large file is uploaded.
//!
//! Run `cargo build --release -p b2-sim && target/release/sim-bench`. It starts the `b2-sim`
//! binary found next to its own executable. The client streams generated data from one
//! 16 MiB buffer; it never holds an upload in memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha1::{Digest, Sha1};

const MIB: u64 = 1 << 20;
const BUF: usize = 16 << 20;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Deterministic pseudo-random bytes.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

struct SimProc {
    child: Child,
    addr: String,
    key_id: String,
    key: String,
}

impl Drop for SimProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(extra: &[&str]) -> Res<SimProc> {
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .ok_or("no parent dir")?
        .join(format!("b2-sim{}", std::env::consts::EXE_SUFFIX));
    let mut child = Command::new(&bin)
        .args(["--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(out).lines();
    let key_line = lines.next().ok_or("no KEY line")??;
    let ready = lines.next().ok_or("no READY line")??;
    let mut k = key_line.split_whitespace().skip(1);
    let key_id = k.next().ok_or("bad KEY line")?.to_string();
    let key = k.next().ok_or("bad KEY line")?.to_string();
    let url = ready.strip_prefix("READY ").ok_or("bad READY line")?;
    let addr = url.trim_start_matches("http://").to_string();
    Ok(SimProc {
        child,
        addr,
        key_id,
        key,
    })
}

/// One HTTP/1.1 request on a fresh connection: head, then `body` writes; returns (status, body).
fn request(
    addr: &str,
    head: &str,
    body: &mut dyn FnMut(&mut TcpStream) -> std::io::Result<()>,
) -> Res<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.write_all(head.as_bytes())?;
    body(&mut s)?;
    s.flush()?;
    let mut r = BufReader::new(s);
    let mut status_line = String::new();
    r.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .ok_or("bad status line")?
        .parse()?;
    let mut len = 0usize;
    loop {
        let mut l = String::new();
        r.read_line(&mut l)?;
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse()?;
            }
        }
    }
    let mut buf = vec![0; len];
    r.read_exact(&mut buf)?;
    Ok((status, buf))
}

fn json_call(sim: &SimProc, token: &str, call: &str, args: &Value) -> Res<Value> {
    let body = args.to_string();
    let head = format!(
        "POST /b2api/v4/{call} HTTP/1.1\r\nHost: {}\r\nAuthorization: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        sim.addr,
        body.len()
    );
    let (status, out) = request(&sim.addr, &head, &mut |s| s.write_all(body.as_bytes()))?;
    if status != 200 {
        return Err(format!("{call}: {status} {}", String::from_utf8_lossy(&out)).into());
    }
    Ok(serde_json::from_slice(&out)?)
}

fn authorize(sim: &SimProc) -> Res<(String, String)> {
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", sim.key_id, sim.key));
    let head = format!(
        "GET /b2api/v4/b2_authorize_account HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n",
        sim.addr
    );
    let (status, out) = request(&sim.addr, &head, &mut |_| Ok(()))?;
    if status != 200 {
        return Err(format!("authorize: {status}").into());
    }
    let v: Value = serde_json::from_slice(&out)?;
    Ok((
        v["authorizationToken"]
            .as_str()
            .ok_or("no token")?
            .to_string(),
        v["accountId"].as_str().ok_or("no account")?.to_string(),
    ))
}

fn path_of(url: &str) -> Res<String> {
    let rest = url.strip_prefix("http://").ok_or("bad url")?;
    Ok(rest[rest.find('/').ok_or("bad url")?..].to_string())
}

/// Sends `len` bytes cycling through `buf`.
fn send_cycled(s: &mut TcpStream, buf: &[u8], len: u64) -> std::io::Result<()> {
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        s.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

fn sha1_cycled(buf: &[u8], len: u64) -> String {
    let mut h = Sha1::new();
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        h.update(&buf[..n]);
        left -= n as u64;
    }
    hex(&h.finalize())
}

fn bench_sha1(buf: &[u8], total: u64) -> f64 {
    let t = Instant::now();
    let h = sha1_cycled(buf, total);
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(h.len(), 40);
    total as f64 / secs
}

fn bench_ingest(sim: &SimProc, buf: &[u8], len: u64, runs: usize) -> Res<f64> {
    let (token, account) = authorize(sim)?;
    let bucket = json_call(
        sim,
        &token,
        "b2_create_bucket",
        &json!({"accountId": account, "bucketName": format!("bench-{}", std::process::id()), "bucketType": "allPrivate"}),
    )?;
    let bucket_id = bucket["bucketId"]
        .as_str()
        .ok_or("no bucket id")?
        .to_string();
    let sha = sha1_cycled(buf, len);
    let mut best = 0f64;
    for i in 0..runs {
        let up = json_call(
            sim,
            &token,
            "b2_get_upload_url",
            &json!({"bucketId": bucket_id}),
        )?;
        let path = path_of(up["uploadUrl"].as_str().ok_or("no url")?)?;
        let utoken = up["authorizationToken"].as_str().ok_or("no token")?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {utoken}\r\nX-Bz-File-Name: bench{i}.bin\r\nContent-Type: application/octet-stream\r\nX-Bz-Content-Sha1: {sha}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
            sim.addr
        );
        let t = Instant::now();
        let (status, out) = request(&sim.addr, &head, &mut |s| send_cycled(s, buf, len))?;
        let secs = t.elapsed().as_secs_f64();
        if status != 200 {
            return Err(format!("upload: {status} {}", String::from_utf8_lossy(&out)).into());
        }
        let v: Value = serde_json::from_slice(&out)?;
        json_call(
            sim,
            &token,
            "b2_delete_file_version",
            &json!({"fileName": v["fileName"], "fileId": v["fileId"]}),
        )?;
        best = best.max(len as f64 / secs);
    }
    Ok(best)
}

fn vm_hwm(pid: u32) -> Res<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM")?;
    let kb: u64 = line.split_whitespace().nth(1).ok_or("bad VmHWM")?.parse()?;
    Ok(kb * 1024)
}

fn bench_rss(buf: &[u8], total: u64, part: u64) -> Res<(u64, f64)> {
    let dir = std::env::temp_dir().join(format!("b2-sim-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_s = dir.to_string_lossy().to_string();
    let sim = start_sim(&["--data-dir", &dir_s])?;
    let result = (|| -> Res<(u64, f64)> {
        let (token, account) = authorize(&sim)?;
        let bucket = json_call(
            &sim,
            &token,
            "b2_create_bucket",
            &json!({"accountId": account, "bucketName": "bench-rss", "bucketType": "allPrivate"}),
        )?;
        let bucket_id = bucket["bucketId"].as_str().ok_or("no bucket")?;
        let start = json_call(
            &sim,
            &token,
            "b2_start_large_file",
            &json!({"bucketId": bucket_id, "fileName": "two-gib.bin", "contentType": "application/octet-stream"}),
        )?;
        let file_id = start["fileId"].as_str().ok_or("no file id")?;
        let up = json_call(
            &sim,
            &token,
            "b2_get_upload_part_url",
            &json!({"fileId": file_id}),
        )?;
        let path = path_of(up["uploadUrl"].as_str().ok_or("no url")?)?;
        let utoken = up["authorizationToken"]
            .as_str()
            .ok_or("no token")?
            .to_string();
        let mut sha1s = Vec::new();
        let mut sent = 0u64;
        let mut n = 1;
        let t = Instant::now();
        while sent < total {
            let len = part.min(total - sent);
            // hex_digits_at_end: hash while sending, digest last.
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {utoken}\r\nX-Bz-Part-Number: {n}\r\nX-Bz-Content-Sha1: hex_digits_at_end\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                sim.addr,
                len + 40
            );
            let mut digest = String::new();
            let (status, out) = request(&sim.addr, &head, &mut |s: &mut TcpStream| {
                let mut h = Sha1::new();
                let mut left = len;
                while left > 0 {
                    let k = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
                    h.update(&buf[..k]);
                    s.write_all(&buf[..k])?;
                    left -= k as u64;
                }
                digest = hex(&h.clone().finalize());
                s.write_all(digest.as_bytes())
            })
            .map_err(|e| format!("part {n}: {e}"))?;
            if status != 200 {
                return Err(format!("part {n}: {status} {}", String::from_utf8_lossy(&out)).into());
            }
            sha1s.push(digest);
            sent += len;
            n += 1;
        }
        json_call(
            &sim,
            &token,
            "b2_finish_large_file",
            &json!({"fileId": file_id, "partSha1Array": sha1s}),
        )?;
        let secs = t.elapsed().as_secs_f64();
        Ok((vm_hwm(sim.child.id())?, total as f64 / secs))
    })();
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn main() {
    if let Err(e) = run() {
        eprintln!("sim-bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let gib: u64 = std::env::var("SIM_BENCH_INGEST_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let ingest_len = gib * MIB;
    let buf = pattern(BUF, 0x5eed);
    println!(
        "b2-sim bench (cpus: {})",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    if std::env::var("SIM_BENCH_ONLY").is_ok_and(|v| v == "rss") {
        let (hwm, rate) = bench_rss(&buf, 2048 * MIB, 100_000_000)?;
        println!(
            "rss {:.1} MiB {:.1} MB/s",
            hwm as f64 / MIB as f64,
            rate / 1e6
        );
        return Ok(());
    }
    // Warm-up, then the best of three.
    bench_sha1(&buf, 256 * MIB);
    let sha = (0..3)
        .map(|_| bench_sha1(&buf, ingest_len))
        .fold(0f64, f64::max);
    println!("sha1 in memory:            {:8.1} MB/s", sha / 1e6);

    let sim = start_sim(&[])?;
    let ingest = bench_ingest(&sim, &buf, ingest_len, 3)?;
    drop(sim);
    println!(
        "upload ingest (memory):    {:8.1} MB/s  ({:.0} % of sha1; {} MiB body, best of 3)",
        ingest / 1e6,
        100.0 * ingest / sha,
        gib
    );

    if std::env::var("SIM_BENCH_ONLY").is_ok_and(|v| v == "memory") {
        return Ok(());
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("b2-sim-bench-ingest-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().to_string();
    let sim = start_sim(&["--data-dir", &dir_s])?;
    let ingest_disk = bench_ingest(&sim, &buf, ingest_len, 3)?;
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "upload ingest (data dir):  {:8.1} MB/s  ({:.0} % of sha1; {})",
        ingest_disk / 1e6,
        100.0 * ingest_disk / sha,
        std::env::temp_dir().display()
    );

    let (hwm, rate) = bench_rss(&buf, 2048 * MIB, 100_000_000)?;
    println!(
        "2 GiB large file, --data-dir: peak RSS (VmHWM) {:.1} MiB  ({:.1} MB/s, 100 MB parts)",
        hwm as f64 / MIB as f64,
        rate / 1e6
    );
    let _ = Duration::ZERO;
    Ok(())
}
