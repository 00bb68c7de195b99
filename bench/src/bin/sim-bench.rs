//! `sim-bench`: the figures of `b2-sim` (see sim/README.md).
//!
//! 1. SHA-1 (`sha1` crate) hashing speed in memory.
//! 2. Ingest speed of one upload stream over loopback into `b2-sim` (SHA-1 verified).
//! 3. Peak RSS (VmHWM) of a `b2-sim --data-dir` process while a 2 GiB large file is uploaded.
//! 4. Many small files (`SIM_BENCH_FILES`, default 100,000 of 1 KiB), in memory and with
//!    `--data-dir`: upload, list and delete throughput, RSS, and the cost of one delete with
//!    1,000 files in the bucket and with all of them (`SIM_BENCH_ONLY=small` runs only this).
//!
//! Run `cargo build --release -p b2-sim -p b2-bench && target/release/sim-bench`. It starts
//! the `b2-sim` binary found next to its own executable and talks to it with `ureq`. The
//! client streams generated data from one 16 MiB buffer; it never holds an upload in memory.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};
use sha1::{Digest, Sha1};

const MIB: u64 = 1 << 20;
const BUF: usize = 16 << 20;
/// Uploads per ingest case: the first is shown apart, the median is taken over the others.
const RUNS: usize = 6;

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
    url: String,
    agent: ureq::Agent,
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
    let url = ready
        .strip_prefix("READY ")
        .ok_or("bad READY line")?
        .to_string();
    Ok(SimProc {
        child,
        url,
        agent: agent(),
        key_id,
        key,
    })
}

/// The HTTP client: status codes are answers, not errors.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .output_buffer_size(4 << 20)
        .build()
        .into()
}

/// One request; `body` (of `len` bytes, sent with that `Content-Length`) for a POST.
/// Returns (status, body).
fn request(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(u64, &mut dyn Read)>,
) -> Res<(u16, Vec<u8>)> {
    let mut resp = match body {
        None => {
            let mut b = agent.get(url);
            for &(k, v) in headers {
                b = b.header(k, v);
            }
            b.call()?
        }
        Some((len, reader)) => {
            let mut b = agent.post(url).header("Content-Length", len.to_string());
            for &(k, v) in headers {
                b = b.header(k, v);
            }
            b.send(ureq::SendBody::from_reader(reader))?
        }
    };
    let status = resp.status().as_u16();
    let out = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()?;
    Ok((status, out))
}

/// `len` bytes cycling through `buf`, hashed on the way when `hash` is set and then
/// followed by the 40 hex digits of the SHA-1 (`hex_digits_at_end`).
struct Cycled<'a> {
    buf: &'a [u8],
    pos: u64,
    len: u64,
    hash: Option<Sha1>,
    tail: Vec<u8>,
    digest: Option<String>,
}

impl<'a> Cycled<'a> {
    fn new(buf: &'a [u8], len: u64, digits_at_end: bool) -> Self {
        Cycled {
            buf,
            pos: 0,
            len,
            hash: digits_at_end.then(Sha1::new),
            tail: Vec::new(),
            digest: None,
        }
    }
}

impl Read for Cycled<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos < self.len {
            let off = usize::try_from(self.pos % self.buf.len() as u64).unwrap_or(0);
            let left = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
            let n = out.len().min(self.buf.len() - off).min(left);
            out[..n].copy_from_slice(&self.buf[off..off + n]);
            if let Some(h) = &mut self.hash {
                h.update(&out[..n]);
            }
            self.pos += n as u64;
            if self.pos == self.len {
                if let Some(h) = self.hash.take() {
                    let d = hex(&h.finalize());
                    self.tail = d.clone().into_bytes();
                    self.digest = Some(d);
                }
            }
            return Ok(n);
        }
        let n = out.len().min(self.tail.len());
        out[..n].copy_from_slice(&self.tail[..n]);
        self.tail.drain(..n);
        Ok(n)
    }
}

fn json_call(sim: &SimProc, token: &str, call: &str, args: &Value) -> Res<Value> {
    let body = args.to_string();
    let url = format!("{}/b2api/v4/{call}", sim.url);
    let (status, out) = request(
        &sim.agent,
        &url,
        &[
            ("Authorization", token),
            ("Content-Type", "application/json"),
        ],
        Some((body.len() as u64, &mut body.as_bytes())),
    )?;
    if status != 200 {
        return Err(format!("{call}: {status} {}", String::from_utf8_lossy(&out)).into());
    }
    Ok(serde_json::from_slice(&out)?)
}

fn authorize(sim: &SimProc) -> Res<(String, String)> {
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", sim.key_id, sim.key));
    let url = format!("{}/b2api/v4/b2_authorize_account", sim.url);
    let auth = format!("Basic {basic}");
    let (status, out) = request(&sim.agent, &url, &[("Authorization", &auth)], None)?;
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

/// Uploads `len` bytes `runs` times (each file deleted after) and returns each run's speed.
fn bench_ingest(sim: &SimProc, buf: &[u8], len: u64, runs: usize) -> Res<Vec<f64>> {
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
    let mut speeds = Vec::new();
    for i in 0..runs {
        let up = json_call(
            sim,
            &token,
            "b2_get_upload_url",
            &json!({"bucketId": bucket_id}),
        )?;
        let url = up["uploadUrl"].as_str().ok_or("no url")?;
        let utoken = up["authorizationToken"].as_str().ok_or("no token")?;
        let name = format!("bench{i}.bin");
        let headers = [
            ("Authorization", utoken),
            ("X-Bz-File-Name", name.as_str()),
            ("Content-Type", "application/octet-stream"),
            ("X-Bz-Content-Sha1", sha.as_str()),
        ];
        let t = Instant::now();
        let mut body = Cycled::new(buf, len, false);
        let (status, out) = request(&sim.agent, url, &headers, Some((len, &mut body)))?;
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
        speeds.push(len as f64 / secs);
    }
    Ok(speeds)
}

/// A `/proc/PID/status` figure in bytes (`VmHWM`, `VmRSS`).
fn proc_status(pid: u32, field: &str) -> Res<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = s
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
        .ok_or("no such field")?;
    let kb: u64 = line.split_whitespace().nth(1).ok_or("bad line")?.parse()?;
    Ok(kb * 1024)
}

fn vm_hwm(pid: u32) -> Res<u64> {
    proc_status(pid, "VmHWM")
}

fn vm_rss(pid: u32) -> Res<u64> {
    proc_status(pid, "VmRSS")
}

/// Figures of the many-small-files case.
struct Small {
    files: usize,
    upload_per_s: f64,
    list_per_s: f64,
    delete_per_s: f64,
    delete_us_at_1k: f64,
    delete_us_at_all: f64,
    rss_full: u64,
    rss_after: u64,
}

/// Uploads `files` files of `size` bytes into one bucket, lists them all, deletes them all.
/// The cost of one delete is timed (over 500 deletes) with 1,000 files in the bucket and with
/// all of them.
fn bench_small(sim: &SimProc, files: usize, size: usize) -> Res<Small> {
    const SAMPLE: usize = 500;
    let (token, account) = authorize(sim)?;
    let bucket = json_call(
        sim,
        &token,
        "b2_create_bucket",
        &json!({"accountId": account, "bucketName": "bench-small", "bucketType": "allPrivate"}),
    )?;
    let bucket_id = bucket["bucketId"].as_str().ok_or("no bucket")?.to_string();
    let up = json_call(
        sim,
        &token,
        "b2_get_upload_url",
        &json!({"bucketId": bucket_id}),
    )?;
    let url = up["uploadUrl"].as_str().ok_or("no url")?.to_string();
    let utoken = up["authorizationToken"]
        .as_str()
        .ok_or("no token")?
        .to_string();
    let body = pattern(size, 7);
    let sha = hex(&Sha1::digest(&body));
    let mut ids: Vec<(String, String)> = Vec::with_capacity(files);
    let upload = |i: usize| -> Res<(String, String)> {
        let name = format!("d{:03}/f{i:07}.txt", i % 100);
        let headers = [
            ("Authorization", utoken.as_str()),
            ("X-Bz-File-Name", name.as_str()),
            ("Content-Type", "text/plain"),
            ("X-Bz-Content-Sha1", sha.as_str()),
        ];
        let (status, out) = request(
            &sim.agent,
            &url,
            &headers,
            Some((size as u64, &mut body.as_slice())),
        )?;
        if status != 200 {
            return Err(format!("upload: {status} {}", String::from_utf8_lossy(&out)).into());
        }
        let v: Value = serde_json::from_slice(&out)?;
        let id = v["fileId"].as_str().ok_or("no id")?.to_string();
        Ok((name, id))
    };
    let delete = |(name, id): &(String, String)| -> Res<()> {
        json_call(
            sim,
            &token,
            "b2_delete_file_version",
            &json!({"fileName": name, "fileId": id}),
        )?;
        Ok(())
    };
    let mut upload_secs = 0.0;
    // 1,000 + SAMPLE files, SAMPLE of them deleted (timed): the cost at 1,000 files.
    let t = Instant::now();
    for i in 0..1000 + SAMPLE {
        ids.push(upload(i)?);
    }
    upload_secs += t.elapsed().as_secs_f64();
    let t = Instant::now();
    for f in ids.drain(1000..) {
        delete(&f)?;
    }
    let delete_us_at_1k = t.elapsed().as_secs_f64() * 1e6 / SAMPLE as f64;
    let t = Instant::now();
    for i in 1000 + SAMPLE..files + SAMPLE {
        ids.push(upload(i)?);
    }
    upload_secs += t.elapsed().as_secs_f64();
    let rss_full = vm_rss(sim.child.id())?;
    // List every name, 10,000 a page.
    let t = Instant::now();
    let mut listed = 0usize;
    let mut start: Option<String> = None;
    loop {
        let mut args = json!({"bucketId": bucket_id, "maxFileCount": 10000});
        if let Some(s) = &start {
            args["startFileName"] = json!(s);
        }
        let page = json_call(sim, &token, "b2_list_file_names", &args)?;
        listed += page["files"].as_array().map_or(0, Vec::len);
        match page["nextFileName"].as_str() {
            Some(n) => start = Some(n.to_string()),
            None => break,
        }
    }
    let list_secs = t.elapsed().as_secs_f64();
    if listed != ids.len() {
        return Err(format!("listed {listed} of {} files", ids.len()).into());
    }
    // SAMPLE deletes with every file there, then the rest.
    let t = Instant::now();
    for f in ids.drain(ids.len() - SAMPLE..) {
        delete(&f)?;
    }
    let sample_secs = t.elapsed().as_secs_f64();
    let delete_us_at_all = sample_secs * 1e6 / SAMPLE as f64;
    let t = Instant::now();
    for f in &ids {
        delete(f)?;
    }
    let delete_secs = t.elapsed().as_secs_f64() + sample_secs;
    // Give the server a moment to hand freed memory back.
    std::thread::sleep(std::time::Duration::from_secs(3));
    Ok(Small {
        files,
        upload_per_s: (files + SAMPLE) as f64 / upload_secs,
        list_per_s: listed as f64 / list_secs,
        delete_per_s: files as f64 / delete_secs,
        delete_us_at_1k,
        delete_us_at_all,
        rss_full,
        rss_after: vm_rss(sim.child.id())?,
    })
}

fn print_small(what: &str, s: &Small) {
    println!(
        "{} small files ({what}): upload {:.0} files/s, list {:.0} names/s, delete {:.0} files/s; \
         one delete {:.0} us at 1,000 files, {:.0} us at {}; RSS {:.1} MiB full, {:.1} MiB after deleting all",
        s.files,
        s.upload_per_s,
        s.list_per_s,
        s.delete_per_s,
        s.delete_us_at_1k,
        s.delete_us_at_all,
        s.files,
        s.rss_full as f64 / MIB as f64,
        s.rss_after as f64 / MIB as f64,
    );
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
        let url = up["uploadUrl"].as_str().ok_or("no url")?.to_string();
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
            let number = n.to_string();
            let headers = [
                ("Authorization", utoken.as_str()),
                ("X-Bz-Part-Number", number.as_str()),
                ("X-Bz-Content-Sha1", "hex_digits_at_end"),
            ];
            let mut body = Cycled::new(buf, len, true);
            let (status, out) = request(&sim.agent, &url, &headers, Some((len + 40, &mut body)))
                .map_err(|e| format!("part {n}: {e}"))?;
            if status != 200 {
                return Err(format!("part {n}: {status} {}", String::from_utf8_lossy(&out)).into());
            }
            let digest = body.digest.ok_or("no digest")?;
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

    let report = |what: &str, speeds: &[f64]| {
        let list: Vec<String> = speeds.iter().map(|v| format!("{:.0}", v / 1e6)).collect();
        let mut sorted = speeds[1..].to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        println!(
            "upload ingest ({what}): median {:7.1} MB/s = {:.0} % of sha1  (runs after the first: {} MB/s)",
            median / 1e6,
            100.0 * median / sha,
            list[1..].join(", ")
        );
        println!(
            "    first run (memory not yet reused by the allocator / page cache): {} MB/s = {:.0} % of sha1",
            list[0],
            100.0 * speeds[0] / sha
        );
    };
    let sim = start_sim(&[])?;
    let speeds = bench_ingest(&sim, &buf, ingest_len, RUNS)?;
    let rss_busy = vm_rss(sim.child.id())?;
    // The trimmer frees pooled blocks after 1 s without uploads.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let rss_idle = vm_rss(sim.child.id())?;
    drop(sim);
    report("in memory", &speeds);
    println!(
        "    RSS right after the last delete {:.1} MiB, 3 s later {:.1} MiB (deleted data given back)",
        rss_busy as f64 / MIB as f64,
        rss_idle as f64 / MIB as f64
    );

    if std::env::var("SIM_BENCH_ONLY").is_ok_and(|v| v == "memory") {
        return Ok(());
    }
    if std::env::var("SIM_BENCH_ONLY").is_ok_and(|v| v == "small") {
        return run_small();
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("b2-sim-bench-ingest-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().to_string();
    let sim = start_sim(&["--data-dir", &dir_s])?;
    let speeds = bench_ingest(&sim, &buf, ingest_len, RUNS)?;
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
    report("--data-dir", &speeds);

    let (hwm, rate) = bench_rss(&buf, 2048 * MIB, 100_000_000)?;
    println!(
        "2 GiB large file, --data-dir: peak RSS (VmHWM) {:.1} MiB  ({:.1} MB/s, 100 MB parts)",
        hwm as f64 / MIB as f64,
        rate / 1e6
    );
    run_small()
}

/// The many-small-files case, in memory and with `--data-dir` (`SIM_BENCH_FILES`, default
/// 100,000 files of 1 KiB).
fn run_small() -> Res<()> {
    let files: usize = std::env::var("SIM_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
        .max(1000);
    let sim = start_sim(&[])?;
    let s = bench_small(&sim, files, 1024)?;
    drop(sim);
    print_small("in memory", &s);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("b2-sim-bench-small-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().to_string();
    let sim = start_sim(&["--data-dir", &dir_s])?;
    let s = bench_small(&sim, files, 1024);
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
    print_small("--data-dir", &s?);
    Ok(())
}
