//! Test-only: an in-process fake B2 that speaks through the `Transport` trait (no sockets),
//! with scripted faults, and a virtual clock. It checks what a real server checks
//! (tokens, `Content-Length`, SHA-1s, part lists) so that tests cannot pass by accident.

use std::collections::{BTreeMap, VecDeque};
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use crate::driver::{Clock, Transport};
use crate::http::{Method, TransportError};
use crate::op::Exchange;

/// `Authorization: Basic` for key id `kid`, key `k3y-secret`.
pub const BASIC: &str = "Basic a2lkOmszeS1zZWNyZXQ=";

/// A fault to inject into the next exchange whose call name contains `on`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and code (and `Retry-After`) without doing the call.
    Status(u16, &'static str, Option<u32>),
    /// Break the connection halfway through the request body.
    ResetMidBody,
    /// Do the call, then lose the answer (connection dropped before the head).
    LoseAnswer,
    /// Expire the account token (a later call with it gets 401 `expired_auth_token`).
    ExpireToken,
    /// Send only the first half of the answer body, then end the exchange as if complete.
    TruncateAnswer,
}

#[derive(Clone, Debug)]
struct FileRec {
    id: String,
    name: String,
    bucket_id: String,
    action: &'static str,
    len: u64,
    sha1: String,
    info: Value,
    content_type: String,
    data: Option<Vec<u8>>,
    ts: u64,
}

/// The fake server.
pub struct FakeB2 {
    pub min_part_size: u64,
    pub faults: VecDeque<(&'static str, Fault)>,
    /// `"METHOD call"` per exchange, in order.
    pub log: Vec<String>,
    /// Upload URLs handed out.
    pub urls_issued: u32,
    /// Bytes of upload bodies received in full.
    pub upload_bytes: u64,
    /// Largest upload chunk the transport was handed (shows bounded buffering).
    pub max_chunk: usize,
    token: String,
    tokens_issued: u32,
    expired: Vec<String>,
    upload_tokens: BTreeMap<String, String>,
    files: Vec<FileRec>,
    parts: BTreeMap<(String, u32), (u64, String)>,
    next_id: u32,
    /// Keep the bytes of uploads up to this size (for download tests).
    pub keep_up_to: u64,
}

impl Default for FakeB2 {
    fn default() -> Self {
        FakeB2 {
            min_part_size: 100,
            faults: VecDeque::new(),
            log: Vec::new(),
            urls_issued: 0,
            upload_bytes: 0,
            max_chunk: 0,
            token: String::new(),
            tokens_issued: 0,
            expired: Vec::new(),
            upload_tokens: BTreeMap::new(),
            files: Vec::new(),
            parts: BTreeMap::new(),
            next_id: 0,
            keep_up_to: 1 << 20,
        }
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn json_reply(status: u16, v: Value) -> Reply {
    let body = v.to_string().into_bytes();
    Reply {
        status,
        headers: std::vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Length".into(), body.len().to_string()),
        ],
        body,
    }
}

fn err(status: u16, code: &str) -> Reply {
    json_reply(
        status,
        json!({"status": status, "code": code, "message": format!("fake: {code}")}),
    )
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let v = u8::from_str_radix(&s[i + 1..i + 3], 16).expect("escape");
            out.push(v);
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf8")
}

impl FileRec {
    fn json(&self) -> Value {
        json!({"accountId": "acct", "action": self.action, "bucketId": self.bucket_id,
            "contentLength": self.len, "contentSha1": self.sha1, "contentType": self.content_type,
            "fileId": self.id, "fileInfo": self.info, "fileName": self.name,
            "uploadTimestamp": self.ts, "serverSideEncryption": {"mode": null}})
    }
}

impl FakeB2 {
    /// Adds a fault for the next exchange whose call contains `on`.
    pub fn fault(&mut self, on: &'static str, f: Fault) -> &mut Self {
        self.faults.push_back((on, f));
        self
    }

    /// Stored bytes of the latest upload named `name`, if kept.
    pub fn data(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .rev()
            .find(|f| f.name == name && f.action == "upload")?
            .data
            .as_deref()
    }

    /// The finished (or started) file with this name.
    pub fn file(&self, name: &str) -> Option<(u64, String, &'static str)> {
        let f = self.files.iter().rev().find(|f| f.name == name)?;
        Some((f.len, f.sha1.clone(), f.action))
    }

    /// Replaces the stored bytes of `id`, keeping its recorded SHA-1 (a corrupted store).
    pub fn corrupt(&mut self, id: &str, data: &[u8]) {
        if let Some(f) = self.files.iter_mut().find(|f| f.id == id) {
            f.data = Some(data.to_vec());
        }
    }

    /// Number of exchanges whose log line contains `s`.
    pub fn count(&self, s: &str) -> usize {
        self.log.iter().filter(|l| l.contains(s)).count()
    }

    /// Adds a file directly (for listing and download tests).
    pub fn put(&mut self, bucket_id: &str, name: &str, data: &[u8]) -> String {
        self.next_id += 1;
        let id = format!("4_f{}", self.next_id);
        self.files.push(FileRec {
            id: id.clone(),
            name: name.into(),
            bucket_id: bucket_id.into(),
            action: "upload",
            len: data.len() as u64,
            sha1: hex(&Sha1::digest(data)),
            info: json!({}),
            content_type: "application/octet-stream".into(),
            data: Some(data.to_vec()),
            ts: 1_700_000_000_000 + u64::from(self.next_id),
        });
        id
    }

    fn call_name(url: &str) -> String {
        if let Some(rest) = url.split("/b2api/v4/").nth(1) {
            return rest.split('?').next().unwrap_or("").to_string();
        }
        if url.contains("/upload/") {
            return "b2_upload_file".into();
        }
        if url.contains("/part/") {
            return "b2_upload_part".into();
        }
        if url.contains("/file/") {
            return "download_by_name".into();
        }
        "unknown".into()
    }

    fn check_token(&self, auth: Option<&str>) -> Option<Reply> {
        match auth {
            None => Some(err(401, "missing_auth_token")),
            Some(t) if self.expired.iter().any(|e| e == t) => Some(err(401, "expired_auth_token")),
            Some(t) if t != self.token => Some(err(401, "bad_auth_token")),
            _ => None,
        }
    }

    fn handle(
        &mut self,
        method: Method,
        url: &str,
        call: &str,
        hdr: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        body_sha: Option<([u8; 20], u64)>,
    ) -> Reply {
        if call == "b2_authorize_account" {
            if hdr("Authorization").as_deref() != Some(BASIC) {
                return err(401, "unauthorized");
            }
            self.tokens_issued += 1;
            self.token = format!("tok-{}", self.tokens_issued);
            return json_reply(
                200,
                json!({"accountId": "acct", "authorizationToken": self.token,
                "apiInfo": {"storageApi": {"apiUrl": "http://api.fake", "downloadUrl": "http://dl.fake",
                "absoluteMinimumPartSize": self.min_part_size, "recommendedPartSize": self.min_part_size * 2,
                "s3ApiUrl": "http://s3.fake", "allowed": {"buckets": null, "capabilities": ["writeFiles"], "namePrefix": null}}},
                "applicationKeyExpirationTimestamp": null}),
            );
        }
        if call == "b2_upload_file" || call == "b2_upload_part" {
            let tok = self.upload_tokens.get(url).cloned();
            if tok.is_none() || hdr("Authorization") != tok {
                return err(401, "bad_auth_token");
            }
            let Some((sha, len)) = body_sha else {
                return err(400, "bad_request");
            };
            let declared = hdr("X-Bz-Content-Sha1").unwrap_or_default();
            let trailer = if declared == "hex_digits_at_end" {
                String::from_utf8_lossy(&body[body.len().saturating_sub(40)..]).to_string()
            } else {
                declared
            };
            if trailer != hex(&sha) {
                return err(400, "bad_request");
            }
            self.upload_bytes += len;
            self.next_id += 1;
            if call == "b2_upload_part" {
                let file_id = url.rsplit('/').next().unwrap_or("").to_string();
                let n: u32 = hdr("X-Bz-Part-Number")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                self.parts.insert((file_id.clone(), n), (len, hex(&sha)));
                return json_reply(
                    200,
                    json!({"fileId": file_id, "partNumber": n, "contentLength": len,
                    "contentSha1": hex(&sha), "uploadTimestamp": 1}),
                );
            }
            let name = decode(&hdr("X-Bz-File-Name").unwrap_or_default());
            let mut info = serde_json::Map::new();
            for key in ["src_last_modified_millis", "k"] {
                if let Some(v) = hdr(&format!("X-Bz-Info-{key}")) {
                    info.insert(key.into(), Value::String(decode(&v)));
                }
            }
            let rec = FileRec {
                id: format!("4_f{}", self.next_id),
                name,
                bucket_id: url.rsplit('/').next().unwrap_or("").into(),
                action: "upload",
                len,
                sha1: hex(&sha),
                info: Value::Object(info),
                content_type: hdr("Content-Type").unwrap_or_default(),
                data: (len <= self.keep_up_to).then(|| body[..len as usize].to_vec()),
                ts: 1_700_000_000_000 + u64::from(self.next_id),
            };
            let reply = json_reply(200, rec.json());
            self.files.push(rec);
            return reply;
        }
        if call.starts_with("download") || call == "b2_download_file_by_id" {
            if let Some(r) = self.check_token(hdr("Authorization").as_deref()) {
                return r;
            }
            let f = if call == "b2_download_file_by_id" {
                let id = url.split("fileId=").nth(1).unwrap_or("");
                self.files.iter().find(|f| f.id == id)
            } else {
                let path = url.split("/file/").nth(1).unwrap_or("");
                let (_bucket, name) = path.split_once('/').unwrap_or(("", ""));
                let name = decode(name);
                self.files.iter().rev().find(|f| f.name == name)
            };
            let Some(f) = f else {
                return err(404, "not_found");
            };
            let data = f.data.clone().unwrap_or_default();
            let mut headers = std::vec![
                ("x-bz-file-id".to_string(), f.id.clone()),
                ("x-bz-file-name".to_string(), f.name.clone()),
                ("x-bz-content-sha1".to_string(), f.sha1.clone()),
                ("x-bz-upload-timestamp".to_string(), f.ts.to_string()),
            ];
            let (status, body) = match hdr("Range") {
                Some(r) => {
                    let r = r.trim_start_matches("bytes=");
                    let (a, b) = r.split_once('-').unwrap_or(("0", "0"));
                    let a: usize = a.parse().unwrap_or(0);
                    let b: usize = b
                        .parse::<usize>()
                        .unwrap_or(data.len())
                        .min(data.len().saturating_sub(1));
                    if a >= data.len() {
                        return err(416, "range_not_satisfiable");
                    }
                    headers.push((
                        "Content-Range".into(),
                        format!("bytes {a}-{b}/{}", data.len()),
                    ));
                    (206, data[a..=b].to_vec())
                }
                None => (200, data),
            };
            headers.push(("Content-Length".into(), body.len().to_string()));
            let body = if method == Method::Head {
                Vec::new()
            } else {
                body
            };
            return Reply {
                status,
                headers,
                body,
            };
        }
        // JSON calls on the API URL.
        if let Some(r) = self.check_token(hdr("Authorization").as_deref()) {
            return r;
        }
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return err(400, "bad_json");
        };
        let s = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        match call {
            "b2_get_upload_url" | "b2_get_upload_part_url" => {
                self.urls_issued += 1;
                let (kind, id) = if call == "b2_get_upload_url" {
                    ("upload", s("bucketId"))
                } else {
                    ("part", s("fileId"))
                };
                let url = format!("http://up.fake/{kind}/{}/{id}", self.urls_issued);
                let tok = format!("up-{}", self.urls_issued);
                self.upload_tokens.insert(url.clone(), tok.clone());
                json_reply(
                    200,
                    json!({"bucketId": s("bucketId"), "fileId": s("fileId"), "uploadUrl": url, "authorizationToken": tok}),
                )
            }
            "b2_start_large_file" => {
                self.next_id += 1;
                let rec = FileRec {
                    id: format!("4_L{}", self.next_id),
                    name: s("fileName"),
                    bucket_id: s("bucketId"),
                    action: "start",
                    len: 0,
                    sha1: "none".into(),
                    info: req.get("fileInfo").cloned().unwrap_or(json!({})),
                    content_type: s("contentType"),
                    data: None,
                    ts: 1,
                };
                let r = json_reply(200, rec.json());
                self.files.push(rec);
                r
            }
            "b2_finish_large_file" => {
                let id = s("fileId");
                let shas: Vec<String> = req["partSha1Array"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut total = 0;
                for (i, sha) in shas.iter().enumerate() {
                    match self.parts.get(&(id.clone(), i as u32 + 1)) {
                        Some((len, have)) if have == sha => {
                            if i + 1 < shas.len() && *len < self.min_part_size {
                                return err(400, "bad_request");
                            }
                            total += len;
                        }
                        Some(_) => return err(400, "part_sha1_mismatch"),
                        None => return err(400, "missing_part"),
                    }
                }
                let Some(f) = self
                    .files
                    .iter_mut()
                    .find(|f| f.id == id && f.action == "start")
                else {
                    return err(400, "bad_request");
                };
                f.action = "upload";
                f.len = total;
                json_reply(200, f.json())
            }
            "b2_cancel_large_file" => {
                let id = s("fileId");
                self.files.retain(|f| !(f.id == id && f.action == "start"));
                json_reply(
                    200,
                    json!({"fileId": id, "accountId": "acct", "bucketId": "b", "fileName": "x"}),
                )
            }
            "b2_get_file_info" => match self.files.iter().find(|f| f.id == s("fileId")) {
                Some(f) => json_reply(200, f.json()),
                None => err(404, "not_found"),
            },
            "b2_list_parts" => {
                let id = s("fileId");
                let start = req
                    .get("startPartNumber")
                    .and_then(Value::as_u64)
                    .unwrap_or(1) as u32;
                let max = req
                    .get("maxPartCount")
                    .and_then(Value::as_u64)
                    .unwrap_or(100) as usize;
                let mut parts: Vec<Value> = Vec::new();
                let mut next = None;
                for ((fid, n), (len, sha)) in &self.parts {
                    if *fid != id || *n < start {
                        continue;
                    }
                    if parts.len() == max {
                        next = Some(*n);
                        break;
                    }
                    parts.push(json!({"fileId": fid, "partNumber": n, "contentLength": len, "contentSha1": sha, "uploadTimestamp": 1}));
                }
                json_reply(200, json!({"parts": parts, "nextPartNumber": next}))
            }
            "b2_list_file_names" => {
                let start = s("startFileName");
                let max = req
                    .get("maxFileCount")
                    .and_then(Value::as_u64)
                    .unwrap_or(100) as usize;
                let mut names: Vec<&FileRec> = self
                    .files
                    .iter()
                    .filter(|f| {
                        f.action == "upload" && f.bucket_id == s("bucketId") && f.name >= start
                    })
                    .collect();
                names.sort_by(|a, b| a.name.cmp(&b.name));
                names.dedup_by(|a, b| a.name == b.name);
                let next = names.get(max).map(|f| f.name.clone());
                let files: Vec<Value> = names.iter().take(max).map(|f| f.json()).collect();
                json_reply(200, json!({"files": files, "nextFileName": next}))
            }
            _ => err(400, "bad_request"),
        }
    }
}

impl Transport for FakeB2 {
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        let (method, url, headers, content_length) = {
            let r = ex.request().map_err(|_| TransportError::Aborted)?;
            let h: Vec<(String, String)> = r
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            (r.method, r.url.to_string(), h, r.content_length)
        };
        let call = Self::call_name(&url);
        self.log.push(format!("{} {call}", method.as_str()));
        let hdr = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if hdr("User-Agent").is_none() {
            return Err(TransportError::Unsupported);
        }
        let fault = self
            .faults
            .iter()
            .position(|(on, _)| call.contains(on))
            .and_then(|i| self.faults.remove(i))
            .map(|(_, f)| f);
        if let Some(Fault::ExpireToken) = fault {
            self.expired.push(self.token.clone());
        }
        // Read the body, hashing upload content (all but a trailing 40-hex SHA-1).
        let is_upload = call == "b2_upload_file" || call == "b2_upload_part";
        let trailer = hdr("X-Bz-Content-Sha1").as_deref() == Some("hex_digits_at_end");
        let total = content_length.unwrap_or(0);
        let content = if trailer {
            total.saturating_sub(40)
        } else {
            total
        };
        let mut hasher = Sha1::new();
        let mut kept: Vec<u8> = Vec::new();
        let mut got: u64 = 0;
        let mut chunk = [0u8; 8192];
        loop {
            if matches!(fault, Some(Fault::ResetMidBody)) && got >= total / 2 {
                return Err(TransportError::Send);
            }
            let n = ex.body(&mut chunk).map_err(|_| TransportError::Aborted)?;
            if n == 0 {
                break;
            }
            self.max_chunk = self.max_chunk.max(n);
            let piece = &chunk[..n];
            if is_upload {
                let hash_end = content.saturating_sub(got).min(n as u64) as usize;
                hasher.update(&piece[..hash_end]);
            }
            kept.extend_from_slice(piece);
            if is_upload && total > self.keep_up_to + 40 && kept.len() > 40 {
                // Big uploads: keep only what may be the SHA-1 trailer.
                let cut = kept.len() - 40;
                kept.drain(..cut);
            }
            got += n as u64;
        }
        if got != total {
            // Content-Length must match the body exactly.
            return Err(TransportError::Send);
        }
        let reply = match fault {
            Some(Fault::Status(status, code, retry_after)) => {
                let mut r = err(status, code);
                if let Some(s) = retry_after {
                    r.headers.push(("Retry-After".into(), s.to_string()));
                }
                r
            }
            _ => {
                let sha = is_upload.then(|| (hasher.finalize().into(), content));
                self.handle(method, &url, &call, &hdr, &kept, sha)
            }
        };
        if matches!(fault, Some(Fault::LoseAnswer)) {
            return Err(TransportError::Receive);
        }
        let h: Vec<(&str, &str)> = reply
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let hs: &[(&str, &str)] = &h;
        ex.response(reply.status, &hs)
            .map_err(|_| TransportError::Aborted)?;
        let cut = if matches!(fault, Some(Fault::TruncateAnswer)) {
            reply.body.len() / 2
        } else {
            reply.body.len()
        };
        for c in reply.body[..cut].chunks(700) {
            ex.response_body(c).map_err(|_| TransportError::Aborted)?;
        }
        ex.response_end().map_err(|_| TransportError::Aborted)
    }
}

/// A clock that jumps instead of sleeping, and remembers every wait.
#[derive(Default)]
pub struct VirtualClock {
    pub now: u64,
    pub waits: Vec<u64>,
}

impl Clock for VirtualClock {
    fn now_ms(&mut self) -> u64 {
        self.now
    }
    fn sleep_until_ms(&mut self, until_ms: u64) {
        self.waits.push(until_ms.saturating_sub(self.now));
        self.now = self.now.max(until_ms);
    }
}

/// A session for key `kid` / `k3y-secret` against the fake realm.
pub fn session() -> crate::session::Session {
    let c =
        crate::session::Credentials::new("kid", "k3y-secret", "http://realm.fake").expect("creds");
    crate::session::Session::new(c)
}
