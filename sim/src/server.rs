//! The HTTP side: accept loop, routing, faults that apply to every request, answers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use crate::api;
use crate::body::SimBody;
use crate::db::Persistence;
use crate::error::{ApiError, ApiResult};
use crate::faults::FaultState;
use crate::journal::Change;
use crate::state::State;
use crate::store::Storage;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub min_part_size: u64,
    pub recommended_part_size: u64,
    pub token_lifetime_ms: u64,
    /// Longest wait for a request head, idle keep-alive time included.
    pub idle_timeout: std::time::Duration,
    /// Longest wait for the next bytes of a request body.
    pub body_timeout: std::time::Duration,
    /// Whether the account may set custom upload timestamps (off by default, as on B2).
    pub custom_upload_timestamps: bool,
}

/// Counters behind [`crate::Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub uploads: AtomicU64,
    pub bytes_ingested: AtomicU64,
    pub chunked_requests: AtomicU64,
    pub uploads_sha1_at_end: AtomicU64,
    pub service_unavailable: AtomicU64,
    pub expired_tokens: AtomicU64,
    pub too_many_requests: AtomicU64,
    pub resets: AtomicU64,
    pub cap_exceeded: AtomicU64,
    pub delayed: AtomicU64,
    pub lost_answers: AtomicU64,
    pub truncated_downloads: AtomicU64,
    pub body_timeouts: AtomicU64,
}

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Everything the request handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub cfg: Config,
    pub base_url: String,
    pub state: Mutex<State>,
    pub faults: Mutex<FaultState>,
    pub stats: Counters,
    pub storage: Storage,
    pub persistence: Persistence,
    /// Transactions and bytes, per key and per bucket.
    pub costs: crate::costs::Ledger,
    /// Milliseconds the test clock has been moved ahead of the real one.
    pub clock_offset_ms: AtomicU64,
    rng: Mutex<u64>,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Shared {
    pub fn new(
        cfg: Config,
        base_url: String,
        state: State,
        faults: FaultState,
        storage: Storage,
        persistence: Persistence,
    ) -> Self {
        let seed = now_ms() ^ (u64::from(std::process::id()) << 32) ^ (&cfg as *const _ as u64);
        Shared {
            cfg,
            base_url,
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            stats: Counters::default(),
            storage,
            persistence,
            costs: crate::costs::Ledger::default(),
            clock_offset_ms: AtomicU64::new(0),
            rng: Mutex::new(seed),
        }
    }

    /// The simulator's clock, in milliseconds since the Unix epoch: the real time plus
    /// however far the test clock was advanced (tokens, keys and uploads all use it).
    pub fn now_ms(&self) -> u64 {
        now_ms().saturating_add(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the test clock ahead and runs the buckets' lifecycle rules at the new time
    /// (see `lifecycle`); returns the new time.
    pub fn advance_clock(&self, ms: u64) -> u64 {
        let _ = self
            .clock_offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(o.saturating_add(ms))
            });
        let now = self.now_ms();
        let mut st = self.lock();
        st.begin();
        let (blobs, changed) = crate::lifecycle::apply(&mut st, now);
        if let Err(e) = st.commit() {
            eprintln!("b2-sim: lifecycle: {e}");
        }
        if changed > 0 {
            if let Err(e) = self.persist(&mut st) {
                eprintln!("b2-sim: lifecycle: {}", e.message);
            }
            self.collect_garbage(&st, blobs);
        }
        now
    }

    /// The state, even if a handler panicked while holding it.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fault settings and counters.
    pub fn faults(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `n` random lowercase hex digits (not cryptographic; it is a test server).
    pub fn random_hex(&self, n: usize) -> String {
        let mut g = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = String::with_capacity(n);
        while s.len() < n {
            *g = g.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *g;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            s.push_str(&format!("{z:016x}"));
        }
        s.truncate(n);
        s
    }

    /// The counters.
    pub fn stats(&self) -> crate::Stats {
        let c = &self.stats;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        crate::Stats {
            requests: g(&c.requests),
            uploads: g(&c.uploads),
            bytes_ingested: g(&c.bytes_ingested),
            chunked_requests: g(&c.chunked_requests),
            uploads_sha1_at_end: g(&c.uploads_sha1_at_end),
            body_timeouts: g(&c.body_timeouts),
            faults: crate::FaultStats {
                service_unavailable: g(&c.service_unavailable),
                expired_tokens: g(&c.expired_tokens),
                too_many_requests: g(&c.too_many_requests),
                resets: g(&c.resets),
                cap_exceeded: g(&c.cap_exceeded),
                delayed: g(&c.delayed),
                lost_answers: g(&c.lost_answers),
                truncated_downloads: g(&c.truncated_downloads),
            },
        }
    }

    /// The counters as JSON.
    pub fn stats_json(&self) -> Value {
        let s = self.stats();
        let f = &s.faults;
        serde_json::json!({
            "requests": s.requests,
            "uploads": s.uploads,
            "bytesIngested": s.bytes_ingested,
            "chunkedRequests": s.chunked_requests,
            "uploadsSha1AtEnd": s.uploads_sha1_at_end,
            "bodyTimeouts": s.body_timeouts,
            "faults": {
                "serviceUnavailable": f.service_unavailable,
                "expiredTokens": f.expired_tokens,
                "tooManyRequests": f.too_many_requests,
                "resets": f.resets,
                "capExceeded": f.cap_exceeded,
                "delayed": f.delayed,
                "lostAnswers": f.lost_answers,
                "truncatedDownloads": f.truncated_downloads,
            },
        })
    }

    /// Saves the whole state when running with a data directory.
    pub fn persist(&self, st: &mut State) -> ApiResult<()> {
        self.persistence
            .snapshot(st)
            .map_err(|e| ApiError::new(500, "internal_error", format!("saving state: {e}")))
    }

    /// Saves one upload when running with a data directory (a journal line).
    pub fn persist_change(&self, st: &mut State, change: &Change) -> ApiResult<()> {
        self.persistence
            .record(st, change)
            .map_err(|e| ApiError::new(500, "internal_error", format!("saving state: {e}")))
    }

    /// Counts a successful store; true (and counted as a lost answer) when its answer must
    /// be dropped (see [`crate::Faults::lose_answer_every`]).
    pub fn lose_answer(&self) -> bool {
        let lose = self.faults().on_store();
        if lose {
            Counters::bump(&self.stats.lost_answers);
        }
        lose
    }

    /// Deletes the blobs among `candidates` that nothing refers to any more.
    pub fn collect_garbage(&self, st: &State, candidates: Vec<u64>) {
        if candidates.is_empty() || !self.storage.on_disk() {
            return;
        }
        for id in candidates {
            if !st.blob_in_use(id) {
                self.storage.remove(id);
            }
        }
    }
}

/// What the router found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Authorize(u8),
    UploadFile {
        ver: u8,
        bucket_id: String,
        url_id: String,
    },
    UploadPart {
        ver: u8,
        file_id: String,
        url_id: String,
    },
    DownloadById(u8),
    DownloadByName {
        bucket: String,
        name: String,
    },
    Json {
        ver: u8,
        call: String,
    },
    /// `GET /_sim/stats`: the simulator's counters as JSON (not a B2 call).
    Stats,
    /// `GET /_sim/costs`: transactions by class and bytes, per key and bucket (not B2).
    Costs,
    /// `POST /_sim/clock?advanceSeconds=N` (or `GET /_sim/clock`): the test clock.
    Clock,
    NotFound,
}

/// Maps a raw (still encoded) path to a route.
pub(crate) fn route(path: &str) -> Route {
    if path == "/_sim/stats" {
        return Route::Stats;
    }
    if path == "/_sim/costs" {
        return Route::Costs;
    }
    if path == "/_sim/clock" {
        return Route::Clock;
    }
    if let Some(rest) = path.strip_prefix("/file/") {
        let Some((bucket, name)) = rest.split_once('/') else {
            return Route::NotFound;
        };
        // B2 decodes names in paths like header values: `+` is a space, `%2B` a plus.
        let Some(name) = crate::names::percent_decode(name) else {
            return Route::NotFound;
        };
        return Route::DownloadByName {
            bucket: bucket.to_string(),
            name,
        };
    }
    let Some(rest) = path.strip_prefix("/b2api/v") else {
        return Route::NotFound;
    };
    let mut it = rest.splitn(4, '/');
    let ver = match it.next().and_then(|v| v.parse::<u8>().ok()) {
        Some(v @ 1..=4) => v,
        _ => return Route::NotFound,
    };
    let call = it.next().unwrap_or_default();
    let a = it.next();
    let b = it.next();
    match (call, a, b) {
        ("b2_authorize_account", None, None) => Route::Authorize(ver),
        ("b2_download_file_by_id", None, None) => Route::DownloadById(ver),
        ("b2_upload_file", Some(bucket), Some(url)) => Route::UploadFile {
            ver,
            bucket_id: bucket.to_string(),
            url_id: url.to_string(),
        },
        ("b2_upload_part", Some(file), Some(url)) => Route::UploadPart {
            ver,
            file_id: crate::names::percent_decode_path(file).unwrap_or_default(),
            url_id: url.to_string(),
        },
        (c, None, None) if c.starts_with("b2_") => Route::Json {
            ver,
            call: c.to_string(),
        },
        _ => Route::NotFound,
    }
}

/// How a request ends when it does not end in an answer.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Answer with this error.
    Api(ApiError),
    /// Drop the connection without answering.
    Abort,
}

impl From<ApiError> for Outcome {
    fn from(e: ApiError) -> Self {
        Outcome::Api(e)
    }
}

/// Returned to hyper to make it drop the connection.
#[derive(Debug)]
pub(crate) struct AbortConnection;

impl std::fmt::Display for AbortConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for AbortConnection {}

/// The value of `X-Bz-Test-Mode`, if any.
pub(crate) fn test_mode(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-bz-test-mode").and_then(|v| v.to_str().ok())
}

/// An answer with a JSON body.
pub(crate) fn json_response(v: &Value) -> Response<SimBody> {
    let mut r = Response::new(SimBody::full(v.to_string()));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// The answer for an error.
pub(crate) fn error_response(e: &ApiError, head: bool) -> Response<SimBody> {
    let body = if head {
        SimBody::Empty
    } else {
        SimBody::full(e.body())
    };
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(s) = e.retry_after {
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
    }
    if e.close {
        r.headers_mut()
            .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(v) = e
        .detail
        .as_deref()
        .and_then(|d| HeaderValue::from_str(d).ok())
    {
        r.headers_mut().insert("x-b2-sim-detail", v);
    }
    r
}

/// Serves one request.
pub(crate) async fn handle(
    sh: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<SimBody>, AbortConnection> {
    Counters::bump(&sh.stats.requests);
    if req.headers().contains_key(hyper::header::TRANSFER_ENCODING) {
        Counters::bump(&sh.stats.chunked_requests);
    }
    let delay = sh.faults().faults.delay;
    if let Some(d) = delay {
        Counters::bump(&sh.stats.delayed);
        tokio::time::sleep(d).await;
    }
    let head = req.method() == Method::HEAD;
    match dispatch(&sh, req).await {
        Ok(r) => Ok(r),
        Err(Outcome::Api(e)) => Ok(error_response(&e, head)),
        Err(Outcome::Abort) => Err(AbortConnection),
    }
}

/// True if the request carries a body (which an early answer leaves unread).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(hyper::header::TRANSFER_ENCODING)
        || headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// An error answered before the request body was read: the connection cannot carry another
/// request, so the answer says `Connection: close` (else a client may reuse it and find it
/// closed).
pub(crate) fn before_body(mut e: ApiError, headers: &HeaderMap) -> Outcome {
    e.close = has_body(headers);
    Outcome::Api(e)
}

async fn dispatch(sh: &Arc<Shared>, req: Request<Incoming>) -> Result<Response<SimBody>, Outcome> {
    let route = route(req.uri().path());
    // New uploads in replication source buckets are copied before the next request is served.
    {
        let mut st = sh.lock();
        if !st.replication_queue.is_empty() && crate::replication::drain(&mut st, sh.now_ms()) > 0 {
            if let Err(e) = sh.persist(&mut st) {
                eprintln!("b2-sim: replication: {}", e.message);
            }
        }
    }
    if route == Route::NotFound {
        let e = ApiError::not_found(format!("no such path: {}", req.uri().path()));
        return Err(before_body(e, req.headers()));
    }
    if route == Route::Stats {
        return Ok(json_response(&sh.stats_json()));
    }
    if route == Route::Costs {
        return Ok(json_response(&sh.costs.snapshot().to_json()));
    }
    if route == Route::Clock {
        return clock(sh, &req).map_err(|e| before_body(e, req.headers()));
    }
    if let Route::Authorize(ver) = route {
        return api::auth::authorize(sh, ver, req.headers())
            .map_err(|e| before_body(e, req.headers()));
    }
    // Faults common to every call but authorize.
    let mode = test_mode(req.headers()).map(str::to_string);
    {
        let mut f = sh.faults();
        if f.faults.force_cap_exceeded || mode.as_deref() == Some("force_cap_exceeded") {
            Counters::bump(&sh.stats.cap_exceeded);
            let code = match route {
                Route::UploadFile { .. } | Route::UploadPart { .. } => "storage_cap_exceeded",
                Route::DownloadById(_) | Route::DownloadByName { .. } => "download_cap_exceeded",
                _ => "transaction_cap_exceeded",
            };
            let e = ApiError::new(403, code, "Cap exceeded (forced by test mode)");
            return Err(before_body(e, req.headers()));
        }
        if f.in_storm() {
            Counters::bump(&sh.stats.service_unavailable);
            let mut e = ApiError::new(503, "service_unavailable", "no tomes available");
            e.retry_after = Some(f.faults.retry_after_secs);
            return Err(before_body(e, req.headers()));
        }
        let upload = matches!(route, Route::UploadFile { .. } | Route::UploadPart { .. });
        // B2 signals a busy upload pod with 503, not 429 (and clients do not retry uploads
        // on 429), so 429s go to JSON calls and downloads only.
        if !upload && f.on_request() {
            Counters::bump(&sh.stats.too_many_requests);
            let mut e = ApiError::new(429, "too_many_requests", "Too many requests (injected)");
            e.retry_after = Some(f.faults.retry_after_secs);
            return Err(before_body(e, req.headers()));
        }
    }
    match route {
        Route::UploadFile {
            ver,
            bucket_id,
            url_id,
        } => {
            api::upload::upload(
                sh,
                ver,
                api::upload::Target::File { bucket_id, url_id },
                req,
                mode.as_deref(),
            )
            .await
        }
        Route::UploadPart {
            ver,
            file_id,
            url_id,
        } => {
            api::upload::upload(
                sh,
                ver,
                api::upload::Target::Part { file_id, url_id },
                req,
                mode.as_deref(),
            )
            .await
        }
        Route::DownloadById(_) => Ok(api::download::by_id(sh, &req)?),
        Route::DownloadByName { bucket, name } => {
            Ok(api::download::by_name(sh, &req, &bucket, &name)?)
        }
        Route::Json { ver, call } => json_call(sh, ver, &call, req, mode.as_deref()).await,
        Route::Authorize(_) | Route::Stats | Route::Costs | Route::Clock | Route::NotFound => {
            Err(ApiError::not_found("no such path").into())
        }
    }
}

/// `/_sim/clock`: GET answers the clock; POST with `advanceSeconds=N` (query) moves it
/// ahead by N seconds (never back) and answers the new time.
fn clock(sh: &Shared, req: &Request<Incoming>) -> ApiResult<Response<SimBody>> {
    if req.method() == Method::POST {
        let secs = query_pairs(req.uri().query())
            .into_iter()
            .find(|(k, _)| k == "advanceSeconds")
            .ok_or_else(|| ApiError::bad_request("advanceSeconds is missing"))?
            .1;
        let secs: u64 = secs.parse().map_err(|_| {
            ApiError::bad_request("advanceSeconds must be a non-negative whole number")
        })?;
        sh.advance_clock(secs.saturating_mul(1000));
    }
    Ok(json_response(&serde_json::json!({
        "nowMillis": sh.now_ms(),
        "advancedMillis": sh.clock_offset_ms.load(Ordering::Relaxed),
    })))
}

/// Largest JSON request body accepted (larger: 400 and the connection is closed).
pub(crate) const MAX_JSON_BODY: usize = 4 << 20;

/// The next frame of a request body, or `Err(Outcome::Abort)` (the connection is dropped)
/// when none arrives within the body timeout: a client that stops sending half-way does not
/// hold a connection, an upload URL and a task for ever.
pub(crate) async fn next_frame(
    sh: &Shared,
    body: &mut Incoming,
) -> Result<Option<Result<hyper::body::Frame<bytes::Bytes>, hyper::Error>>, Outcome> {
    match tokio::time::timeout(sh.cfg.body_timeout, body.frame()).await {
        Ok(f) => {
            // A slow link: take the time these bytes need at the link's rate before reading
            // more (the client is held back by TCP's flow control).
            let rate = sh
                .faults()
                .faults
                .bandwidth_bytes_per_sec
                .filter(|r| *r > 0);
            if let (Some(rate), Some(Ok(frame))) = (rate, &f) {
                if let Some(d) = frame.data_ref() {
                    let secs = (d.len() as f64 / rate as f64).min(3600.0);
                    tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await;
                }
            }
            Ok(f)
        }
        Err(_) => {
            Counters::bump(&sh.stats.body_timeouts);
            Err(Outcome::Abort)
        }
    }
}

/// Reads a whole (small) body.
pub(crate) async fn read_small_body(
    sh: &Shared,
    body: Incoming,
    max: usize,
) -> Result<Vec<u8>, Outcome> {
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = next_frame(sh, &mut body).await? {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("reading body: {e}")))?;
        if let Ok(d) = frame.into_data() {
            out.extend_from_slice(&d);
            if out.len() > max {
                let mut e = ApiError::bad_request(format!(
                    "request body too large (JSON bodies are at most {max} bytes)"
                ));
                e.close = true;
                return Err(e.into());
            }
        }
    }
    Ok(out)
}

/// Query parameters, decoded.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                crate::names::percent_decode(k).unwrap_or_default(),
                crate::names::percent_decode(v).unwrap_or_default(),
            )
        })
        .collect()
}

async fn json_call(
    sh: &Arc<Shared>,
    ver: u8,
    call: &str,
    req: Request<Incoming>,
    mode: Option<&str>,
) -> Result<Response<SimBody>, Outcome> {
    let Some(handler) = api::lookup(call) else {
        let e = ApiError::not_found(format!("unknown call {call}"));
        return Err(before_body(e, req.headers()));
    };
    let (parts, body) = req.into_parts();
    let args: Value = if parts.method == Method::GET {
        let mut m = serde_json::Map::new();
        for (k, v) in query_pairs(parts.uri.query()) {
            let val = serde_json::from_str::<Value>(&v)
                .ok()
                .filter(|x| x.is_number() || x.is_boolean() || x.is_array() || x.is_object())
                .unwrap_or(Value::String(v));
            m.insert(k, val);
        }
        Value::Object(m)
    } else if parts.method == Method::POST {
        let bytes = read_small_body(sh, body, MAX_JSON_BODY).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::new(400, "bad_json", format!("bad JSON: {e}")))?
        }
    } else {
        return Err(ApiError::new(405, "method_not_allowed", "use GET or POST").into());
    };
    if !args.is_object() {
        return Err(ApiError::new(400, "bad_json", "the body must be a JSON object").into());
    }
    let now = sh.now_ms();
    let mut st = sh.lock();
    let (token, key) = api::auth::account_key(&st, &parts.headers, now)?;
    let expire = {
        let mut f = sh.faults();
        let every = f.on_json_call();
        every || (mode == Some("expire_some_account_authorization_tokens") && f.sometimes())
    };
    if expire {
        if let Some(t) = st.tokens.get_mut(&token) {
            t.expires_ms = 0;
        }
        Counters::bump(&sh.stats.expired_tokens);
        return Err(ApiError::expired_auth_token().into());
    }
    let ctx = api::Ctx {
        sh,
        key: &key,
        ver,
        now,
    };
    // With a data directory, the file rows a call changes are committed together.
    if handler.mutating {
        st.begin();
    }
    let out = (handler.run)(&ctx, &mut st, &args);
    if handler.mutating {
        st.commit().map_err(ApiError::storage)?;
    }
    let out = out?;
    if handler.mutating {
        sh.persist(&mut st)?;
    }
    drop(st);
    let bucket = args
        .get("bucketId")
        .and_then(Value::as_str)
        .or_else(|| out.get("bucketId").and_then(Value::as_str))
        .or_else(|| {
            ["fileId", "sourceFileId", "largeFileId"]
                .iter()
                .find_map(|k| args.get(*k).and_then(Value::as_str))
                .and_then(crate::costs::bucket_of_file_id)
        });
    let n = crate::costs::transactions(call, &out);
    sh.costs.charge_n(call, Some(&key.id), bucket, n, 0, 0);
    if matches!(call, "b2_finish_large_file" | "b2_copy_file") && sh.lose_answer() {
        return Err(Outcome::Abort);
    }
    let mut r = json_response(&out);
    if let Some(n) = sh.faults().faults.json_content_length_override {
        *r.body_mut() = SimBody::Unsized(Some(out.to_string().into()));
        r.headers_mut()
            .insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/b2api/v4/b2_authorize_account"), Route::Authorize(4));
        assert_eq!(
            route("/b2api/v2/b2_list_buckets"),
            Route::Json {
                ver: 2,
                call: "b2_list_buckets".into()
            }
        );
        assert_eq!(route("/b2api/v5/b2_list_buckets"), Route::NotFound);
        assert_eq!(
            route("/file/bkt/a%20b/c+d%2B"),
            Route::DownloadByName {
                bucket: "bkt".into(),
                name: "a b/c d+".into()
            }
        );
        assert_eq!(
            route("/b2api/v4/b2_upload_file/B/U"),
            Route::UploadFile {
                ver: 4,
                bucket_id: "B".into(),
                url_id: "U".into()
            }
        );
        assert_eq!(route("/nothing"), Route::NotFound);
    }

    #[test]
    fn queries() {
        assert_eq!(
            query_pairs(Some("fileId=a%2Bb&x=1+2")),
            vec![("fileId".into(), "a+b".into()), ("x".into(), "1 2".into())]
        );
    }
}
