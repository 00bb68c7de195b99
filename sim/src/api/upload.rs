//! Upload URLs and the two streaming calls: `b2_upload_file` and `b2_upload_part`.
//!
//! The body is hashed and stored as it arrives (never held whole unless the store is memory),
//! with the SHA-1 checked in any of B2's three forms.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::{Request, Response};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use super::{bucket_for, file_for, file_json, new_file_id, part_json, req_str, Ctx};
use crate::body::SimBody;
use crate::error::{ApiError, ApiResult};
use crate::faults::UploadFault;
use crate::journal::Change;
use crate::names::{
    guess_content_type, is_sha1_hex, percent_decode, validate_file_name, validate_info,
};
use crate::server::{json_response, Counters, Outcome, Shared};
use crate::state::{Action, FileVersion, Key, Part, State, UploadToken};
use crate::store::{hex, Blob, BlobWriter, Segment};

/// Largest small file (and largest part).
pub(crate) const MAX_SMALL_FILE: u64 = 5_000_000_000;
/// Highest part number.
pub(crate) const MAX_PART_NUMBER: u32 = 10_000;
/// Error answers are sent after reading bodies up to this size (so clients see them).
const DRAIN_LIMIT: u64 = 8 << 20;

fn new_upload_token(
    ctx: &Ctx<'_>,
    st: &mut State,
    bucket_id: &str,
    large_file_id: Option<&str>,
) -> (String, String) {
    if st.upload_tokens.len() > 10_000 {
        let now = ctx.now;
        st.upload_tokens
            .retain(|_, t| t.expires_ms > now || t.in_use);
    }
    let token = format!("4_{}_{}_upld", ctx.key.account_id, ctx.sh.random_hex(40));
    let url_id = ctx.sh.random_hex(16);
    st.upload_tokens.insert(
        token.clone(),
        UploadToken {
            key_id: ctx.key.id.clone(),
            bucket_id: bucket_id.to_string(),
            large_file_id: large_file_id.map(str::to_string),
            url_id: url_id.clone(),
            expires_ms: ctx.now + ctx.sh.cfg.token_lifetime_ms,
            in_use: false,
        },
    );
    (token, url_id)
}

/// `b2_get_upload_url`.
pub(crate) fn get_upload_url(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let bucket_id = req_str(args, "bucketId")?.to_string();
    bucket_for(ctx, st, &bucket_id)?;
    let (token, url_id) = new_upload_token(ctx, st, &bucket_id, None);
    Ok(json!({
        "bucketId": bucket_id,
        "uploadUrl": format!("{}/b2api/v{}/b2_upload_file/{bucket_id}/{url_id}", ctx.sh.base_url, ctx.ver),
        "authorizationToken": token,
    }))
}

/// `b2_get_upload_part_url`.
pub(crate) fn get_upload_part_url(ctx: &Ctx<'_>, st: &mut State, args: &Value) -> ApiResult<Value> {
    ctx.key.require("writeFiles")?;
    let file_id = req_str(args, "fileId")?.to_string();
    let f = file_for(ctx, st, &file_id)?;
    if f.action != Action::Start {
        return Err(ApiError::bad_request(format!(
            "File {file_id} is not an unfinished large file"
        )));
    }
    let bucket_id = f.bucket_id.clone();
    let (token, url_id) = new_upload_token(ctx, st, &bucket_id, Some(&file_id));
    Ok(json!({
        "fileId": file_id,
        "uploadUrl": format!(
            "{}/b2api/v{}/b2_upload_part/{}/{url_id}",
            ctx.sh.base_url,
            ctx.ver,
            crate::names::percent_encode(&file_id)
        ),
        "authorizationToken": token,
    }))
}

/// Where an upload goes.
#[derive(Debug)]
pub(crate) enum Target {
    /// A new file in a bucket.
    File { bucket_id: String, url_id: String },
    /// A part of an unfinished large file.
    Part { file_id: String, url_id: String },
}

/// How the body's SHA-1 is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sha1Mode {
    /// 40 hex digits in the header.
    Hex(String),
    /// The last 40 bytes of the body are the hex digest.
    AtEnd,
    /// Not verified; stored as `unverified:<hex>`.
    DoNotVerify,
}

/// Parses `X-Bz-Content-Sha1`.
pub(crate) fn sha1_mode(headers: &HeaderMap) -> ApiResult<Sha1Mode> {
    let v = header(headers, "x-bz-content-sha1")
        .ok_or_else(|| ApiError::bad_request("Missing header: X-Bz-Content-Sha1"))?;
    match v {
        "hex_digits_at_end" => Ok(Sha1Mode::AtEnd),
        "do_not_verify" => Ok(Sha1Mode::DoNotVerify),
        h if is_sha1_hex(h) => Ok(Sha1Mode::Hex(h.to_ascii_lowercase())),
        _ => Err(ApiError::bad_request(format!(
            "X-Bz-Content-Sha1 is not 40 hex digits: {v}"
        ))),
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What an accepted upload will do once its body is in.
struct Plan {
    token: String,
    key: Key,
    bucket_id: String,
    content_len: u64,
    sha1: Sha1Mode,
    fault: UploadFault,
    kind: PlanKind,
    /// Encryption and Object Lock of a new file.
    protection: crate::state::Protection,
}

enum PlanKind {
    File {
        name: String,
        content_type: String,
        info: BTreeMap<String, String>,
        timestamp: Option<u64>,
    },
    Part {
        file_id: String,
        number: u32,
    },
}

/// Marks an upload token busy; frees it when dropped.
struct Busy {
    sh: Arc<Shared>,
    token: String,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut st = self.sh.lock();
        if let Some(t) = st.upload_tokens.get_mut(&self.token) {
            t.in_use = false;
        }
    }
}

fn content_length(headers: &HeaderMap) -> ApiResult<u64> {
    if headers.contains_key(TRANSFER_ENCODING) {
        return Err(ApiError::new(
            411,
            "length_required",
            "Chunked transfer encoding is not supported; send Content-Length",
        ));
    }
    let v = headers
        .get(CONTENT_LENGTH)
        .ok_or_else(|| ApiError::new(411, "length_required", "Missing header: Content-Length"))?;
    v.to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::bad_request("Bad Content-Length"))
}

fn file_headers(headers: &HeaderMap) -> ApiResult<PlanKind> {
    let raw = header(headers, "x-bz-file-name")
        .ok_or_else(|| ApiError::bad_request("Missing header: X-Bz-File-Name"))?;
    let name = percent_decode(raw).ok_or_else(|| {
        ApiError::bad_request("X-Bz-File-Name is not valid percent-encoded UTF-8")
    })?;
    validate_file_name(&name)?;
    let ct = header(headers, CONTENT_TYPE.as_str())
        .ok_or_else(|| ApiError::bad_request("Missing header: Content-Type"))?;
    let content_type = if ct == "b2/x-auto" {
        guess_content_type(&name).to_string()
    } else {
        ct.to_string()
    };
    let mut info = BTreeMap::new();
    for (k, v) in headers {
        if let Some(key) = k.as_str().strip_prefix("x-bz-info-") {
            let value = v.to_str().ok().and_then(percent_decode).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "X-Bz-Info-{key} is not valid percent-encoded UTF-8"
                ))
            })?;
            info.insert(key.to_string(), value);
        }
    }
    validate_info(&name, &info)?;
    let timestamp = match header(headers, "x-bz-custom-upload-timestamp") {
        Some(t) => Some(
            t.parse()
                .map_err(|_| ApiError::bad_request("Bad X-Bz-Custom-Upload-Timestamp"))?,
        ),
        None => None,
    };
    Ok(PlanKind::File {
        name,
        content_type,
        info,
        timestamp,
    })
}

fn prepare(
    sh: &Arc<Shared>,
    target: &Target,
    headers: &HeaderMap,
    mode: Option<&str>,
) -> ApiResult<(Plan, Busy)> {
    let now = sh.now_ms();
    let token = crate::api::auth::auth_header(headers)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(401, "missing_auth_token", "Authorization header missing"))?
        .to_string();
    let mut st = sh.lock();
    let t = st
        .upload_tokens
        .get(&token)
        .ok_or_else(|| ApiError::bad_auth_token("Invalid upload authorization token"))?
        .clone();
    let (url_ok, target_ok) = match target {
        Target::File { bucket_id, url_id } => (
            *url_id == t.url_id,
            t.large_file_id.is_none() && *bucket_id == t.bucket_id,
        ),
        Target::Part { file_id, url_id } => (
            *url_id == t.url_id,
            t.large_file_id.as_deref() == Some(file_id.as_str()),
        ),
    };
    if !url_ok || !target_ok {
        return Err(ApiError::bad_auth_token(
            "The upload authorization token does not belong to this upload URL",
        ));
    }
    if t.expires_ms <= now {
        return Err(ApiError::expired_auth_token());
    }
    let key = st
        .key(&t.key_id)
        .filter(|k| k.expires_ms.is_none_or(|e| e > now))
        .ok_or_else(|| ApiError::bad_auth_token("The key of this token is gone"))?
        .into_owned();
    key.require("writeFiles")?;
    if t.in_use {
        return Err(ApiError::new(
            400,
            "auth_token_limit",
            "This upload URL is already in use by another upload",
        ));
    }
    let content_len = content_length(headers)?;
    let sha1 = sha1_mode(headers)?;
    let large = match target {
        Target::Part { file_id, .. } => st.file(file_id).map(|f| f.into_owned()),
        Target::File { .. } => None,
    };
    let (protection, _) = super::features::upload_protection(
        headers,
        &key,
        st.buckets.get(&t.bucket_id),
        large.as_ref(),
        sh.cfg.custom_upload_timestamps,
        now,
    )?;
    let extra = if sha1 == Sha1Mode::AtEnd { 40 } else { 0 };
    if sha1 == Sha1Mode::AtEnd && content_len < 40 {
        return Err(ApiError::bad_request(
            "Content-Length must include the 40 hex digits at the end",
        ));
    }
    if content_len > MAX_SMALL_FILE + extra {
        return Err(ApiError::bad_request(format!(
            "Content-Length is over the limit of {MAX_SMALL_FILE} bytes"
        )));
    }
    let kind = match target {
        Target::File { .. } => {
            let kind = file_headers(headers)?;
            if let PlanKind::File { name, info, .. } = &kind {
                key.require_name(name)?;
                super::features::check_protected_budget(&protection, name, info)?;
            }
            kind
        }
        Target::Part { file_id, .. } => {
            let number: u32 = header(headers, "x-bz-part-number")
                .ok_or_else(|| ApiError::bad_request("Missing header: X-Bz-Part-Number"))?
                .parse()
                .map_err(|_| ApiError::bad_request("X-Bz-Part-Number must be a number"))?;
            if !(1..=MAX_PART_NUMBER).contains(&number) {
                return Err(ApiError::bad_request(format!(
                    "Part number must be in range 1 - {MAX_PART_NUMBER}"
                )));
            }
            match st.file(file_id) {
                Some(f) if f.action == Action::Start => {}
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "File {file_id} is not an unfinished large file"
                    )))
                }
            }
            PlanKind::Part {
                file_id: file_id.clone(),
                number,
            }
        }
    };
    if !st.buckets.contains_key(&t.bucket_id) {
        return Err(ApiError::new(400, "bad_bucket_id", "The bucket is gone"));
    }
    let fault = {
        let mut f = sh.faults();
        let fault = f.on_upload();
        if fault == UploadFault::None && mode == Some("fail_some_uploads") && f.sometimes() {
            UploadFault::FailBefore
        } else {
            fault
        }
    };
    if let Some(t) = st.upload_tokens.get_mut(&token) {
        t.in_use = true;
    }
    drop(st);
    let busy = Busy {
        sh: Arc::clone(sh),
        token: token.clone(),
    };
    Ok((
        Plan {
            token,
            key,
            bucket_id: t.bucket_id,
            content_len,
            sha1,
            fault,
            kind,
            protection,
        },
        busy,
    ))
}

async fn drain(sh: &Shared, body: &mut Incoming, limit: u64) {
    let mut seen = 0u64;
    while let Ok(Some(Ok(frame))) = crate::server::next_frame(sh, body).await {
        if let Ok(d) = frame.into_data() {
            seen += d.len() as u64;
            if seen > limit {
                return;
            }
        }
    }
}

/// The body, stored and hashed.
struct Ingested {
    blob: Blob,
    sha1: String,
    trailer: Vec<u8>,
}

/// Bodies at least this long are hashed and stored on another thread while the connection's
/// task keeps reading the socket (a two-stage pipeline: a single stream then uses both cores).
const PIPELINE_MIN: u64 = 1 << 20;
/// Chunks in flight between the reader and the hashing thread (each ≤ 1 MiB).
const PIPELINE_DEPTH: usize = 4;

/// Hashes and stores chunks of content.
struct Sink {
    hasher: Sha1,
    writer: Writer,
    /// Chunks arrive in blocks of their own (copied out of the connection's buffers by the
    /// reader), so the blob may keep them as they are.
    shared: bool,
}

impl Sink {
    fn take(&mut self, chunk: Bytes) -> std::io::Result<()> {
        self.hasher.update(&chunk);
        match &mut self.writer {
            Writer::Direct(w) if self.shared => w.write_shared(chunk),
            Writer::Direct(w) => w.write(&chunk),
            Writer::Threaded { tx, .. } => tx
                .send(chunk)
                .map_err(|_| std::io::Error::other("the writer thread stopped")),
        }
    }

    /// The finished writer (after the writer thread, if any, is done).
    fn into_writer(self) -> std::io::Result<(BlobWriter, String)> {
        let sha1 = hex(&self.hasher.finalize());
        match self.writer {
            Writer::Direct(w) => Ok((w, sha1)),
            Writer::Threaded { tx, thread } => {
                drop(tx);
                let w = thread
                    .join()
                    .map_err(|_| std::io::Error::other("the writer thread panicked"))??;
                Ok((w, sha1))
            }
        }
    }
}

/// Where a sink's bytes go: straight into the blob, or (for files on disk, whose page-cache
/// copy costs about as much as hashing) to a third thread.
enum Writer {
    Direct(BlobWriter),
    Threaded {
        tx: std::sync::mpsc::SyncSender<Bytes>,
        thread: std::thread::JoinHandle<std::io::Result<BlobWriter>>,
    },
}

impl Writer {
    fn threaded(mut w: BlobWriter) -> std::io::Result<Writer> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(PIPELINE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("b2-sim-writer".into())
            .spawn(move || {
                while let Ok(chunk) = rx.recv() {
                    w.write(&chunk)?;
                }
                Ok(w)
            })?;
        Ok(Writer::Threaded { tx, thread })
    }
}

async fn ingest(
    sh: &Shared,
    body: &mut Incoming,
    content_len: u64,
    mode: &Sha1Mode,
    reset_after: Option<u64>,
) -> Result<Ingested, Outcome> {
    let data_len = if *mode == Sha1Mode::AtEnd {
        content_len - 40
    } else {
        content_len
    };
    let storage_err = |e: std::io::Error| {
        Outcome::Api(ApiError::new(
            500,
            "internal_error",
            format!("storage: {e}"),
        ))
    };
    let writer = sh.storage.writer(data_len).map_err(storage_err)?;
    let writer = if data_len >= PIPELINE_MIN && sh.storage.on_disk() {
        Writer::threaded(writer).map_err(storage_err)?
    } else {
        Writer::Direct(writer)
    };
    let pipe = data_len >= PIPELINE_MIN;
    // In memory, a piped body is copied into pool blocks here, so the hashing thread only
    // hashes and the connection's read buffers are free again at once.
    let mut filler = (pipe && !sh.storage.on_disk()).then(|| sh.storage.filler(data_len));
    let mut sink = Sink {
        hasher: Sha1::new(),
        writer,
        shared: filler.is_some(),
    };
    // Either feed the sink here, or through a channel to a blocking thread.
    let mut feed = if pipe {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(PIPELINE_DEPTH);
        let worker = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = rx.blocking_recv() {
                sink.take(chunk)?;
            }
            sink.into_writer()
        });
        Feed::Pipe(tx, worker)
    } else {
        Feed::Inline(sink)
    };
    let mut trailer = Vec::new();
    let mut pos = 0u64;
    'frames: while let Some(frame) = crate::server::next_frame(sh, body).await? {
        let Ok(frame) = frame else {
            // The client went away or sent a broken body.
            return Err(Outcome::Abort);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let n = data.len() as u64;
        if let Some(r) = reset_after {
            if pos + n >= r {
                Counters::bump(&sh.stats.resets);
                return Err(Outcome::Abort);
            }
        }
        let take = data_len.saturating_sub(pos).min(n);
        let take = usize::try_from(take).unwrap_or(data.len());
        let (content, tail): (Bytes, Bytes) = if take == data.len() {
            (data, Bytes::new())
        } else {
            let mut d = data;
            let t = d.split_off(take);
            (d, t)
        };
        if !content.is_empty() {
            match &mut feed {
                Feed::Pipe(tx, _) => {
                    let mut blocks = Vec::new();
                    match &mut filler {
                        Some(f) => f.fill(&content, &mut |b| blocks.push(b)),
                        None => blocks.push(content),
                    }
                    for b in blocks {
                        if tx.send(b).await.is_err() {
                            break 'frames; // the worker failed; its error comes below
                        }
                    }
                }
                // Stored bytes are always copied out of the chunk (into pool blocks
                // or a buffer of the body's size), so a stored file never pins a
                // connection read buffer.
                Feed::Inline(sink) => sink.take(content).map_err(storage_err)?,
            }
        }
        trailer.extend_from_slice(&tail);
        pos += n;
        sh.stats
            .bytes_ingested
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
    let (writer, sha1) = match feed {
        Feed::Inline(sink) => sink.into_writer().map_err(storage_err)?,
        Feed::Pipe(tx, worker) => {
            if let Some(tail) = filler.as_mut().and_then(|f| f.finish()) {
                // A failed send means the worker stopped; its error comes below.
                let _ = tx.send(tail).await;
            }
            drop(tx);
            worker
                .await
                .map_err(|e| storage_err(std::io::Error::other(e.to_string())))?
                .map_err(storage_err)?
        }
    };
    if pos != content_len || writer.len() != data_len {
        return Err(Outcome::Abort);
    }
    let blob = writer.finish().map_err(storage_err)?;
    Ok(Ingested {
        blob,
        sha1,
        trailer,
    })
}

/// How an upload's bytes reach its sink.
enum Feed {
    /// Hashed and stored by the connection's task (small bodies).
    Inline(Sink),
    /// Sent to a blocking thread that hashes and stores, and answers with the result.
    Pipe(
        tokio::sync::mpsc::Sender<Bytes>,
        tokio::task::JoinHandle<std::io::Result<(BlobWriter, String)>>,
    ),
}

/// Serves `b2_upload_file` and `b2_upload_part`.
pub(crate) async fn upload(
    sh: &Arc<Shared>,
    _ver: u8,
    target: Target,
    req: Request<Incoming>,
    mode: Option<&str>,
) -> Result<Response<SimBody>, Outcome> {
    let (parts, mut body) = req.into_parts();
    let (plan, busy) = match prepare(sh, &target, &parts.headers, mode) {
        Ok(p) => p,
        Err(e) => {
            // Read a small (or chunked) body first so the client gets to see the answer.
            let small = content_length(&parts.headers).map_or(true, |n| n <= DRAIN_LIMIT);
            let mut e = e;
            if small {
                drain(sh, &mut body, DRAIN_LIMIT).await;
            } else {
                e.close = true;
            }
            return Err(e.into());
        }
    };
    let unavailable = |sh: &Shared| {
        Counters::bump(&sh.stats.service_unavailable);
        let mut e =
            ApiError::service_unavailable("Service unavailable (injected); get a new upload URL");
        e.retry_after = Some(sh.faults().faults.retry_after_secs);
        Outcome::Api(e)
    };
    let reset_after = match plan.fault {
        UploadFault::FailBefore => {
            // The body is never read, so the connection cannot serve another request: say
            // so (`Connection: close`), or a client may send its next request on it and
            // find it closed.
            let mut e = unavailable(sh);
            if let Outcome::Api(e) = &mut e {
                e.close = true;
            }
            return Err(e);
        }
        UploadFault::Reset => Some((plan.content_len / 2).max(1)),
        _ => None,
    };
    let got = ingest(sh, &mut body, plan.content_len, &plan.sha1, reset_after).await?;
    if plan.fault == UploadFault::FailAfter {
        sh.storage.remove(got.blob.id);
        return Err(unavailable(sh));
    }
    let stored_sha1 = match &plan.sha1 {
        Sha1Mode::Hex(h) if *h != got.sha1 => None,
        Sha1Mode::AtEnd
            if !std::str::from_utf8(&got.trailer)
                .is_ok_and(|t| t.eq_ignore_ascii_case(&got.sha1)) =>
        {
            None
        }
        Sha1Mode::DoNotVerify if matches!(plan.kind, PlanKind::File { .. }) => {
            Some(format!("unverified:{}", got.sha1))
        }
        _ => Some(got.sha1.clone()),
    };
    let Some(stored_sha1) = stored_sha1 else {
        sh.storage.remove(got.blob.id);
        return Err(ApiError::bad_request("Sha1 did not match data received").into());
    };
    let out = commit(sh, &plan, got.blob, stored_sha1);
    drop(busy);
    let _ = &plan.token;
    let out = out?;
    if sh.lose_answer() {
        return Err(Outcome::Abort);
    }
    Ok(json_response(&out))
}

fn commit(sh: &Arc<Shared>, plan: &Plan, blob: Blob, sha1: String) -> ApiResult<Value> {
    let now = sh.now_ms();
    let blob_id = blob.id;
    let len = blob.len;
    let content = vec![Segment {
        blob,
        offset: 0,
        len,
    }];
    let journal = sh.persistence.enabled();
    let mut st = sh.lock();
    // The answer, the journal line, and blobs that nothing refers to any more.
    let result: ApiResult<(Value, Option<Change>, Vec<u64>)> = match &plan.kind {
        PlanKind::File {
            name,
            content_type,
            info,
            timestamp,
        } => {
            if !st.buckets.contains_key(&plan.bucket_id) {
                Err(ApiError::new(400, "bad_bucket_id", "The bucket is gone"))
            } else {
                let seq = st.next_seq();
                let mut f = FileVersion {
                    id: new_file_id(&plan.bucket_id, seq, false, now),
                    bucket_id: plan.bucket_id.clone(),
                    account_id: plan.key.account_id.clone(),
                    name: name.clone(),
                    action: Action::Upload,
                    content_type: content_type.clone(),
                    sha1,
                    length: len,
                    info: info.clone(),
                    timestamp: timestamp.unwrap_or(now),
                    seq,
                    large: false,
                    content,
                    protection: plan.protection.clone(),
                    replication_status: None,
                };
                crate::replication::on_new_version(&mut st, &mut f);
                let out = file_json(&f, &plan.key);
                let change = journal.then(|| Change::File(Box::new(f.clone())));
                st.insert_file(f).map_err(ApiError::storage)?;
                Ok((out, change, Vec::new()))
            }
        }
        PlanKind::Part { file_id, number } => {
            if !st.file(file_id).is_some_and(|f| f.action == Action::Start) {
                Err(ApiError::bad_request(format!(
                    "File {file_id} is not an unfinished large file"
                )))
            } else {
                let p = Part {
                    number: *number,
                    length: len,
                    sha1,
                    timestamp: now,
                    content,
                };
                let out = part_json(file_id, &p);
                let change = journal.then(|| Change::Part {
                    file_id: file_id.clone(),
                    part: p.clone(),
                });
                let old = st.put_part(file_id, p).map_err(ApiError::storage)?;
                let replaced = old
                    .map(|old| old.content.iter().map(|s| s.blob.id).collect())
                    .unwrap_or_default();
                Ok((out, change, replaced))
            }
        }
    };
    match result {
        Ok((out, change, replaced)) => {
            if let Some(change) = &change {
                sh.persist_change(&mut st, change)?;
            }
            // Only once the new part is saved may the part it replaced go.
            sh.collect_garbage(&st, replaced);
            drop(st);
            let call = match plan.kind {
                PlanKind::File { .. } => "b2_upload_file",
                PlanKind::Part { .. } => "b2_upload_part",
            };
            sh.costs
                .charge(call, Some(&plan.key.id), Some(&plan.bucket_id), len, 0);
            Counters::bump(&sh.stats.uploads);
            if plan.sha1 == Sha1Mode::AtEnd {
                Counters::bump(&sh.stats.uploads_sha1_at_end);
            }
            Ok(out)
        }
        Err(e) => {
            drop(st);
            sh.storage.remove(blob_id);
            Err(e)
        }
    }
}
