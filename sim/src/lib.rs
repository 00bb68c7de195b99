//! `b2-sim`: a local Backblaze B2 server (native API, v1 to v4) for tests, demos and
//! benchmarks.
//!
//! It speaks B2's HTTP API on a loopback port: accounts and application keys with
//! capabilities and bucket/name-prefix restrictions, buckets, uploads with SHA-1 checks in
//! all three forms, large files, file versions and hide markers, listings, downloads by id and
//! by name (with ranges), copies, download authorizations, expiring tokens and B2-shaped JSON
//! errors. Storage is in memory, or under a data directory where it survives a restart.
//! Faults (503s and 503 storms, expired tokens, 429s, dropped connections, truncated
//! downloads, lost answers, delays, caps exceeded) can be switched on, deterministically; a
//! test clock can be moved ahead ([`Sim::advance_clock`]); and every call is counted by
//! B2's transaction class, with bytes in and out, per key and per bucket ([`Sim::costs`]).
//!
//! ```
//! use std::time::Duration;
//!
//! let sim = b2_sim::Sim::builder()
//!     .min_part_size(5_000_000)
//!     .token_lifetime(Duration::from_secs(3600))
//!     .faults(b2_sim::Faults {
//!         seed: 42,
//!         upload_503_every: Some(3),
//!         ..Default::default()
//!     })
//!     .start()?;
//! let (key_id, key) = sim.master_key();
//! assert!(sim.url().starts_with("http://127.0.0.1:"));
//! assert!(!key_id.is_empty() && !key.is_empty());
//! // ... point a B2 client at sim.url() with (key_id, key) ...
//! sim.set_faults(b2_sim::Faults::default());
//! assert_eq!(sim.stats().uploads, 0);
//! assert_eq!(sim.file_bytes("some-bucket", "some/file"), None);
//! assert_eq!(sim.unfinished_large_files(), 0);
//! sim.stop();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Scenarios, the test clock and cost accounting from a test (any HTTP client works; this
//! one uses `ureq`):
//!
//! ```
//! use std::time::Duration;
//! use b2_sim::{Faults, Sim};
//! use base64::Engine;
//!
//! let sim = Sim::builder().token_lifetime(Duration::from_secs(3600)).start()?;
//! let agent: ureq::Agent = ureq::Agent::config_builder()
//!     .http_status_as_error(false)
//!     .build()
//!     .into();
//! let (id, key) = sim.master_key();
//! let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{key}"));
//! let mut auth = agent
//!     .get(format!("{}/b2api/v4/b2_authorize_account", sim.url()))
//!     .header("Authorization", format!("Basic {basic}"))
//!     .call()?;
//! let auth: serde_json::Value = serde_json::from_slice(&auth.body_mut().read_to_vec()?)?;
//! let token = auth["authorizationToken"].as_str().unwrap_or_default().to_string();
//! let list = |agent: &ureq::Agent| {
//!     agent
//!         .get(format!("{}/b2api/v4/b2_list_buckets?accountId={}", sim.url(), auth["accountId"]
//!             .as_str().unwrap_or_default()))
//!         .header("Authorization", &token)
//!         .call()
//! };
//!
//! // A "no tomes available" storm: the next request answers 503 with Retry-After.
//! sim.set_faults(Faults { storm_503: 1, retry_after_secs: 2, ..Default::default() });
//! let storm = list(&agent)?;
//! assert_eq!(storm.status(), 503);
//! assert_eq!(storm.headers()["retry-after"], "2");
//! assert_eq!(list(&agent)?.status(), 200);
//! assert_eq!(sim.stats().faults.service_unavailable, 1);
//!
//! // Two hours later the account token has expired.
//! sim.advance_clock(Duration::from_secs(2 * 3600));
//! assert_eq!(list(&agent)?.status(), 401);
//!
//! // What it would have cost on B2: authorize and one listing are class C.
//! let costs = sim.costs();
//! assert_eq!((costs.total.class_a, costs.total.class_b, costs.total.class_c), (0, 0, 2));
//! assert_eq!(costs.by_key[id].class_c, 2);
//! sim.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod api;
mod body;
pub mod costs;
mod db;
mod error;
mod faults;
mod filesdb;
mod journal;
mod lifecycle;
mod names;
mod replication;
mod server;
mod state;
mod store;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

pub use costs::{Costs, Tally};
pub use faults::Faults;

use faults::FaultState;
use server::{Config, Shared};
use state::{Action, Key, State, ALL_CAPABILITIES};
use store::Storage;

/// Counters of what the simulator has done since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests received.
    pub requests: u64,
    /// Successful uploads (files and parts).
    pub uploads: u64,
    /// Upload body bytes received (including failed uploads).
    pub bytes_ingested: u64,
    /// Requests that arrived with `Transfer-Encoding` (chunked) instead of `Content-Length`.
    pub chunked_requests: u64,
    /// Successful uploads (files and parts) whose SHA-1 came after the body
    /// (`hex_digits_at_end`) rather than in the `X-Bz-Content-Sha1` header.
    pub uploads_sha1_at_end: u64,
    /// Connections dropped because a request body stalled longer than the body timeout.
    pub body_timeouts: u64,
    /// Faults injected, by kind.
    pub faults: FaultStats,
}

/// Injected faults, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// 503 answers (failed uploads and 503 storms).
    pub service_unavailable: u64,
    /// 401 `expired_auth_token` answers.
    pub expired_tokens: u64,
    /// 429 answers.
    pub too_many_requests: u64,
    /// Connections dropped mid-body.
    pub resets: u64,
    /// 403 cap-exceeded answers.
    pub cap_exceeded: u64,
    /// Answers delayed.
    pub delayed: u64,
    /// Stores carried out whose answer was then dropped (`lose_answer_every`).
    pub lost_answers: u64,
    /// Downloads cut halfway ([`Faults::truncate_download_every`]).
    pub truncated_downloads: u64,
}

/// Settings for a [`Sim`]; make one with [`Sim::builder`].
#[derive(Debug, Clone)]
pub struct SimBuilder {
    port: u16,
    min_part_size: u64,
    recommended_part_size: Option<u64>,
    data_dir: Option<PathBuf>,
    token_lifetime: Duration,
    faults: Faults,
    threads: usize,
    idle_timeout: Duration,
    body_timeout: Duration,
    custom_upload_timestamps: bool,
}

impl Default for SimBuilder {
    fn default() -> Self {
        SimBuilder {
            port: 0,
            min_part_size: 5_000_000,
            recommended_part_size: None,
            data_dir: None,
            token_lifetime: Duration::from_secs(24 * 3600),
            faults: Faults::default(),
            threads: 2,
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            custom_upload_timestamps: false,
        }
    }
}

impl SimBuilder {
    /// Port on 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Smallest part (but the last) of a large file (`absoluteMinimumPartSize`);
    /// default 5,000,000.
    pub fn min_part_size(mut self, bytes: u64) -> Self {
        self.min_part_size = bytes.max(1);
        self
    }

    /// `recommendedPartSize` in the authorize answer; default 20 × the minimum, at most
    /// 100,000,000 (and never below the minimum).
    pub fn recommended_part_size(mut self, bytes: u64) -> Self {
        self.recommended_part_size = Some(bytes);
        self
    }

    /// Keep everything under this directory (created if missing), so it survives a restart.
    /// File data goes to disk as it arrives. Default: in memory.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// How long account and upload tokens live (default 24 h).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Faults to inject from the start.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Lets the account set custom upload timestamps (`X-Bz-Custom-Upload-Timestamp`,
    /// `customUploadTimestamp`). Off by default: B2 enables it per account on request and
    /// refuses the setting otherwise.
    pub fn custom_upload_timestamps(mut self, on: bool) -> Self {
        self.custom_upload_timestamps = on;
        self
    }

    /// Server threads (default 2).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// How long a connection may wait for a request head (default 30 s): an idle
    /// keep-alive connection, or a client that sends its headers too slowly, is closed after
    /// it. At least 1 ms.
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = t.max(Duration::from_millis(1));
        self
    }

    /// How long a request body may stall, with no bytes arriving (default 30 s): after it the
    /// connection is dropped without an answer (counted in [`Stats::body_timeouts`]) and a
    /// half-sent upload is not stored. At least 1 ms.
    pub fn body_timeout(mut self, t: Duration) -> Self {
        self.body_timeout = t.max(Duration::from_millis(1));
        self
    }

    /// Binds the port, loads the data directory (if any) and starts serving.
    pub fn start(self) -> io::Result<Sim> {
        let storage = Storage::new(self.data_dir.clone())?;
        let persistence = db::Persistence::new(self.data_dir.clone());
        let mut state = match persistence.load()? {
            Some(mut st) => {
                // Fold the journal into a fresh snapshot, so it never grows after a torn line.
                persistence.snapshot(&mut st)?;
                let used = st.referenced_blobs()?;
                storage.reserve_ids(used.iter().copied().max().unwrap_or(0));
                storage.remove_unreferenced(&used);
                st
            }
            _ => State {
                track_dirty: persistence.enabled(),
                ..State::default()
            },
        };
        let listener = TcpListener::bind(("127.0.0.1", self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let recommended = self
            .recommended_part_size
            .unwrap_or_else(|| self.min_part_size.saturating_mul(20).min(100_000_000))
            .max(self.min_part_size);
        let cfg = Config {
            min_part_size: self.min_part_size,
            recommended_part_size: recommended,
            token_lifetime_ms: u64::try_from(self.token_lifetime.as_millis()).unwrap_or(u64::MAX),
            idle_timeout: self.idle_timeout,
            body_timeout: self.body_timeout,
            custom_upload_timestamps: self.custom_upload_timestamps,
        };
        let new_primary = state.primary_key.is_none();
        if new_primary {
            state.primary_key = Some(String::new());
        }
        let shared = Arc::new(Shared::new(
            cfg,
            url.clone(),
            state,
            FaultState::new(self.faults),
            storage,
            persistence,
        ));
        if new_primary {
            let (id, _) = new_account(&shared);
            let mut st = shared.lock();
            st.primary_key = Some(id);
            shared
                .persist(&mut st)
                .map_err(|e| io::Error::other(e.message.clone()))?;
        }
        let master = {
            let st = shared.lock();
            let id = st.primary_key.clone().unwrap_or_default();
            let secret = st.key(&id).map(|k| k.secret.clone()).unwrap_or_default();
            (id, secret)
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.threads)
            .thread_name("b2-sim")
            .enable_io()
            .enable_time()
            .build()?;
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        rt.spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Sim {
            shared,
            runtime: Some(rt),
            addr,
            url,
            master,
        })
    }
}

fn new_account(sh: &Arc<Shared>) -> (String, String) {
    let account_id = sh.random_hex(12);
    let secret = format!("K00{}", sh.random_hex(28));
    let key = Key {
        id: account_id.clone(),
        secret: secret.clone(),
        account_id: account_id.clone(),
        name: "master".into(),
        capabilities: ALL_CAPABILITIES.iter().map(|c| c.to_string()).collect(),
        bucket_ids: None,
        name_prefix: None,
        expires_ms: None,
        master: true,
    };
    let mut st = sh.lock();
    if let Err(e) = st.insert_key(key) {
        eprintln!("b2-sim: saving a new account's key: {e}");
    }
    let _ = sh.persist(&mut st);
    (account_id, secret)
}

/// Largest request head (request line and headers) hyper buffers; a larger head is refused
/// (431) and the connection closed.
pub(crate) const MAX_HEAD_BYTES: usize = 1 << 20;

async fn accept_loop(listener: tokio::net::TcpListener, sh: Arc<Shared>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let sh = Arc::clone(&sh);
        let idle = sh.cfg.idle_timeout;
        tokio::spawn(async move {
            let svc = service_fn(move |req| server::handle(Arc::clone(&sh), req));
            let _ = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(idle)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// A running simulator. Stops when dropped.
#[derive(Debug)]
pub struct Sim {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    url: String,
    master: (String, String),
}

impl Sim {
    /// Settings with their defaults: any free port, in memory, 5,000,000-byte parts, no faults.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// Starts a simulator with default settings.
    pub fn start() -> io::Result<Sim> {
        SimBuilder::default().start()
    }

    /// The base URL, `http://127.0.0.1:PORT` (the realm, API and download URL at once).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// (applicationKeyId, applicationKey) of the first account's master key.
    pub fn master_key(&self) -> (&str, &str) {
        (&self.master.0, &self.master.1)
    }

    /// Creates another account; returns its master key (applicationKeyId, applicationKey).
    pub fn create_account(&self) -> (String, String) {
        new_account(&self.shared)
    }

    /// Replaces the faults (and restarts their counters).
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults() = FaultState::new(faults);
    }

    /// Counters since start.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// What the calls so far would cost on B2: transactions by class and bytes in and out,
    /// in total, per key and per bucket (also `GET /_sim/costs`).
    pub fn costs(&self) -> Costs {
        self.shared.costs.snapshot()
    }

    /// Moves the simulator's clock ahead by `by` (never back), as `POST
    /// /_sim/clock?advanceSeconds=N` does: account and upload tokens, download
    /// authorizations and application keys then expire as if that time had passed, and new
    /// uploads carry the later time. Returns the simulator's time now, in milliseconds since
    /// the Unix epoch.
    pub fn advance_clock(&self, by: Duration) -> u64 {
        self.shared
            .advance_clock(u64::try_from(by.as_millis()).unwrap_or(u64::MAX))
    }

    /// The stored bytes of the latest version of a file (None if missing or hidden).
    /// Reads the whole file into memory.
    pub fn file_bytes(&self, bucket_name: &str, file_name: &str) -> Option<Vec<u8>> {
        let content = {
            let st = self.shared.lock();
            let b = st.bucket_by_name(bucket_name)?;
            let f = st.latest(&b.id, file_name)?;
            if f.action != Action::Upload {
                return None;
            }
            f.content.clone()
        };
        self.shared.storage.read_all(&content).ok()
    }

    /// How many large files are started and neither finished nor cancelled.
    pub fn unfinished_large_files(&self) -> usize {
        self.shared.lock().unfinished_count()
    }

    /// Stops serving and closes every connection. Also happens on drop.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown();
    }
}
