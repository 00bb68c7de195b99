//! `b2-sim`: run the local B2 server from the command line.
//!
//! Prints `KEY <applicationKeyId> <applicationKey>` and `READY http://127.0.0.1:PORT` once it
//! listens, then serves until killed.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// mimalloc gives freed memory back to the system on its own (glibc's allocator keeps most
/// of what a long-running server frees), so the process shrinks after files are deleted.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How to point B2 clients at a running b2-sim (shown by `--help`).
const CLIENTS: &str = "\
b2-sim prints `KEY <keyId> <key>` and `READY <url>`; use them as below (URL is the READY url).

Pointing clients at it:
  official b2 tool:  B2_ENVIRONMENT=URL B2_APPLICATION_KEY_ID=<keyId> B2_APPLICATION_KEY=<key> b2 bucket list
  b2sdk (Python):    B2Api(InMemoryAccountInfo()).authorize_account(URL, keyId, key)
                     b2sdk's own test suite: B2_TEST_ENVIRONMENT=URL B2_TEST_APPLICATION_KEY_ID=<keyId>
                     B2_TEST_APPLICATION_KEY=<key> (a realm name or a URL)
  rclone:            rclone lsd :b2: --b2-account <keyId> --b2-key <key> --b2-endpoint URL
  restic / rustic:   their B2 backends have no endpoint setting (restic's talks to
                     api.backblazeb2.com; rustic uses OpenDAL's b2 service, which has none);
                     go through rclone: rclone serve restic :b2:BUCKET --b2-account <keyId>
                     --b2-key <key> --b2-endpoint URL, then restic -r rest:http://127.0.0.1:8080/
  this SDK (Rust):   b2_transport_std::client::Client::new(keyId, key, URL), or Client::from_env()
                     with the B2_* variables of the official tool; b2ctl --realm URL
  in-process tests:  b2_sim::Sim::builder().start() (see the b2_sim crate docs)

Admin endpoints (not B2 calls): GET /_sim/stats (counters), GET /_sim/costs (class A/B/C
transactions and bytes in/out per key and bucket; also printed on stderr at SIGINT/SIGTERM),
GET /_sim/clock, POST /_sim/clock?advanceSeconds=N (move the test clock ahead: tokens and
keys expire as if that time had passed).";

/// A local Backblaze B2 server (native API v1-v4) for tests, demos and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "b2-sim", version, about, after_help = CLIENTS)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep buckets, files and keys under this directory (survives restarts).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Smallest part of a large file but the last (absoluteMinimumPartSize).
    #[arg(long, default_value_t = 5_000_000)]
    min_part_size: u64,
    /// recommendedPartSize (default: 20 x min-part-size, at most 100,000,000).
    #[arg(long)]
    recommended_part_size: Option<u64>,
    /// Lifetime of account and upload tokens, in seconds.
    #[arg(long, default_value_t = 86_400)]
    token_lifetime: u64,
    /// Server threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Close a connection that waits longer than this for a request head (idle keep-alive
    /// or slow headers), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    idle_timeout: f64,
    /// Drop a connection whose request body stalls (no bytes) longer than this, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    body_timeout: f64,
    /// Let the account set custom upload timestamps (B2 enables this per account).
    #[arg(long)]
    custom_upload_timestamps: bool,
    /// Answer 503 to every Nth upload or part upload.
    #[arg(long, value_name = "N")]
    fail_uploads_every: Option<u32>,
    /// With --fail-uploads-every: fail after reading the body (default: before).
    #[arg(long)]
    fail_after_body: bool,
    /// Answer 401 expired_auth_token to every Nth JSON call (and expire that token).
    #[arg(long, value_name = "N")]
    expire_tokens_every: Option<u32>,
    /// Answer 429 too_many_requests to every Nth JSON call or download.
    #[arg(long, value_name = "N")]
    too_many_every: Option<u32>,
    /// Retry-After seconds on 429 and 503 answers.
    #[arg(long, value_name = "S", default_value_t = 1)]
    retry_after: u32,
    /// Drop the connection in the middle of every Nth upload body.
    #[arg(long, value_name = "N")]
    reset_uploads_every: Option<u32>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS")]
    delay_ms: Option<u64>,
    /// Answer every request with 403 cap exceeded.
    #[arg(long)]
    force_cap_exceeded: bool,
    /// Store every Nth upload, part, finished large file or copy, then close the
    /// connection without answering (an ambiguous outcome).
    #[arg(long, value_name = "N")]
    lose_answers_every: Option<u32>,
    /// Cut every Nth download halfway (full Content-Length announced, half the bytes sent).
    #[arg(long, value_name = "N")]
    truncate_downloads_every: Option<u32>,
    /// A "no tomes available" storm: the first N requests (not authorize) answer 503
    /// service_unavailable with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 0)]
    storm_503: u32,
    /// A slow link: each connection carries bodies at most this many bytes a second, each
    /// way (with --delay-ms as its latency).
    #[arg(long, value_name = "BYTES_PER_SEC")]
    bandwidth: Option<u64>,
    /// Seed for random fault choices.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
}

/// A positive number of seconds (NaN, negative or absurd values are clamped).
fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.clamp(0.001, 1e9)).unwrap_or(Duration::from_secs(30))
}

fn main() {
    let a = Args::parse();
    let faults = b2_sim::Faults {
        seed: a.seed,
        upload_503_every: a.fail_uploads_every,
        upload_503_after_body: a.fail_after_body,
        expire_token_every: a.expire_tokens_every,
        too_many_requests_every: a.too_many_every,
        retry_after_secs: a.retry_after,
        reset_upload_every: a.reset_uploads_every,
        delay: a.delay_ms.map(Duration::from_millis),
        force_cap_exceeded: a.force_cap_exceeded,
        lose_answer_every: a.lose_answers_every,
        truncate_download_every: a.truncate_downloads_every,
        storm_503: a.storm_503,
        bandwidth_bytes_per_sec: a.bandwidth,
        ..Default::default()
    };
    let mut b = b2_sim::Sim::builder()
        .port(a.port)
        .min_part_size(a.min_part_size)
        .token_lifetime(Duration::from_secs(a.token_lifetime))
        .threads(a.threads)
        .idle_timeout(secs(a.idle_timeout))
        .body_timeout(secs(a.body_timeout))
        .custom_upload_timestamps(a.custom_upload_timestamps)
        .faults(faults);
    if let Some(r) = a.recommended_part_size {
        b = b.recommended_part_size(r);
    }
    if let Some(d) = a.data_dir {
        b = b.data_dir(d);
    }
    let sim = match b.start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("b2-sim: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let signals = Signals::install();
    let (id, key) = sim.master_key();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "KEY {id} {key}");
    let _ = writeln!(out, "READY {}", sim.url());
    let _ = out.flush();
    drop(out);
    signals.wait();
    // What the run would have cost on B2, on stderr (stdout keeps its two lines).
    eprint!("{}", sim.costs().report());
    sim.stop();
}

/// SIGINT and SIGTERM caught from its creation on (so a signal sent right after READY is
/// never lost to the default action, which would skip the costs report).
struct Signals {
    rt: Option<tokio::runtime::Runtime>,
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .ok();
        #[cfg(unix)]
        let streams = rt.as_ref().and_then(|rt| {
            use tokio::signal::unix::{signal, SignalKind};
            let _guard = rt.enter();
            match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(t), Ok(i)) => Some((t, i)),
                _ => None,
            }
        });
        Signals {
            rt,
            #[cfg(unix)]
            streams,
        }
    }

    /// Blocks until SIGINT or SIGTERM (Ctrl-C only where there are no Unix signals).
    fn wait(self) {
        let Some(rt) = self.rt else {
            loop {
                std::thread::park();
            }
        };
        #[cfg(unix)]
        if let Some((mut term, mut int)) = self.streams {
            rt.block_on(std::future::poll_fn(|cx| {
                if term.poll_recv(cx).is_ready() || int.poll_recv(cx).is_ready() {
                    std::task::Poll::Ready(())
                } else {
                    std::task::Poll::Pending
                }
            }));
            return;
        }
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    }
}
