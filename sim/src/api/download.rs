//! Downloads by id and by name (GET and HEAD, ranges), and download authorizations.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{
    HeaderName, HeaderValue, ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::{bucket_for, opt_str, opt_u64, parse_range, req_str, Ctx};
use crate::body::SimBody;
use crate::error::{ApiError, ApiResult};
use crate::names::{percent_encode, B2_INFO_KEYS};
use crate::server::{query_pairs, Shared};
use crate::state::{Action, DownloadToken, FileVersion, State};
use crate::store::slice;

/// The `b2Content*` query parameters of a by-name download and the answer headers they set.
const OVERRIDES: [(&str, &str); 6] = [
    ("b2ContentDisposition", "content-disposition"),
    ("b2ContentLanguage", "content-language"),
    ("b2Expires", "expires"),
    ("b2CacheControl", "cache-control"),
    ("b2ContentEncoding", "content-encoding"),
    ("b2ContentType", "content-type"),
];

/// Longest download authorization (one week).
pub(crate) const MAX_DOWNLOAD_AUTH_SECS: u64 = 604_800;

/// `b2_get_download_authorization`.
pub(crate) fn get_download_authorization(
    ctx: &Ctx<'_>,
    st: &mut State,
    args: &Value,
) -> ApiResult<Value> {
    ctx.key.require("shareFiles")?;
    let bucket_id = req_str(args, "bucketId")?.to_string();
    let prefix = req_str(args, "fileNamePrefix")?.to_string();
    let secs = opt_u64(args, "validDurationInSeconds")?
        .ok_or_else(|| ApiError::bad_request("required field validDurationInSeconds is missing"))?;
    if !(1..=MAX_DOWNLOAD_AUTH_SECS).contains(&secs) {
        return Err(ApiError::bad_request(format!(
            "validDurationInSeconds must be 1 to {MAX_DOWNLOAD_AUTH_SECS}"
        )));
    }
    bucket_for(ctx, st, &bucket_id)?;
    if let Some(p) = &ctx.key.name_prefix {
        if !prefix.starts_with(p.as_str()) {
            return Err(ApiError::unauthorized(format!(
                "The key is restricted to names starting with {p}"
            )));
        }
    }
    let mut overrides = std::collections::BTreeMap::new();
    for k in OVERRIDES.iter().map(|(k, _)| *k) {
        if let Some(v) = opt_str(args, k)? {
            if v.is_empty() || v.bytes().any(|b| b < 0x20 || b == 0x7f) {
                return Err(ApiError::bad_request(format!(
                    "{k} is not a valid header value"
                )));
            }
            overrides.insert(k.to_string(), v.to_string());
        }
    }
    let now = ctx.now;
    st.download_tokens.retain(|_, t| t.expires_ms > now);
    let token = format!("3_{}_{}_dnld", ctx.key.account_id, ctx.sh.random_hex(40));
    st.download_tokens.insert(
        token.clone(),
        DownloadToken {
            bucket_id: bucket_id.clone(),
            prefix: prefix.clone(),
            expires_ms: now + secs * 1000,
            overrides,
        },
    );
    Ok(json!({
        "bucketId": bucket_id,
        "fileNamePrefix": prefix,
        "authorizationToken": token,
    }))
}

/// The token of a download: the `Authorization` header or `?Authorization=`.
fn download_token(req: &Request<Incoming>, query: &[(String, String)]) -> Option<String> {
    crate::api::auth::auth_header(req.headers())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| {
            query
                .iter()
                .find(|(k, _)| k == "Authorization")
                .map(|(_, v)| v.clone())
        })
}

/// Checks an account token for reading `f`.
fn check_account_read(st: &State, token: &str, f: &FileVersion, now: u64) -> ApiResult<()> {
    let key = crate::api::auth::key_for_token(st, token, now)?;
    if key.account_id != f.account_id {
        return Err(ApiError::unauthorized(
            "The token belongs to another account",
        ));
    }
    key.require("readFiles")?;
    key.require_bucket(&f.bucket_id)?;
    key.require_name(&f.name)
}

/// `GET|HEAD /b2api/vN/b2_download_file_by_id?fileId=...`.
pub(crate) fn by_id(sh: &Arc<Shared>, req: &Request<Incoming>) -> ApiResult<Response<SimBody>> {
    let query = query_pairs(req.uri().query());
    let file_id = query
        .iter()
        .find(|(k, _)| k == "fileId")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| ApiError::bad_request("required parameter fileId is missing"))?;
    let now = sh.now_ms();
    let st = sh.lock();
    let f = st
        .file(&file_id)
        .filter(|f| f.action == Action::Upload)
        .ok_or_else(|| ApiError::not_found(format!("File not present: {file_id}")))?;
    let public = st
        .buckets
        .get(&f.bucket_id)
        .is_some_and(|b| b.bucket_type == "allPublic");
    let mut key_id = None;
    if !public {
        let token = download_token(req, &query)
            .ok_or_else(|| ApiError::unauthorized("This bucket is private; send a token"))?;
        check_account_read(&st, &token, &f, now)?;
        key_id = st.tokens.get(&token).map(|t| t.key_id.clone());
    }
    super::features::check_read_sse(req.headers(), &f)?;
    let f = f.into_owned();
    drop(st);
    answer(sh, req, &f, &query, "b2_download_file_by_id", key_id)
}

/// `GET|HEAD /file/BUCKET/NAME`.
pub(crate) fn by_name(
    sh: &Arc<Shared>,
    req: &Request<Incoming>,
    bucket_name: &str,
    name: &str,
) -> ApiResult<Response<SimBody>> {
    let query = query_pairs(req.uri().query());
    let now = sh.now_ms();
    let st = sh.lock();
    let bucket = st
        .bucket_by_name(bucket_name)
        .ok_or_else(|| ApiError::not_found(format!("Bucket not found: {bucket_name}")))?;
    let f = st
        .latest(&bucket.id, name)
        .filter(|f| f.action == Action::Upload)
        .ok_or_else(|| ApiError::not_found(format!("File not present: {name}")))?;
    let mut key_id = None;
    let overriding = query
        .iter()
        .any(|(k, _)| OVERRIDES.iter().any(|(o, _)| o == k));
    if overriding && download_token(req, &query).is_none() {
        return Err(ApiError::unauthorized(
            "b2Content* overrides need an authorization token",
        ));
    }
    if bucket.bucket_type != "allPublic" {
        let token = download_token(req, &query)
            .ok_or_else(|| ApiError::unauthorized("This bucket is private; send a token"))?;
        if let Some(d) = st.download_tokens.get(&token) {
            if d.expires_ms <= now {
                return Err(ApiError::expired_auth_token());
            }
            if d.bucket_id != bucket.id || !name.starts_with(d.prefix.as_str()) {
                return Err(ApiError::unauthorized(
                    "The download authorization does not cover this file",
                ));
            }
            // B2: "download requests using the returned authorization must include the same
            // value" for each b2Content* the authorization was created with.
            if let Some((k, _)) = d
                .overrides
                .iter()
                .find(|(k, v)| !query.iter().any(|(qk, qv)| qk == *k && qv == *v))
            {
                return Err(ApiError::unauthorized(format!(
                    "This download authorization requires the same {k} it was created with"
                )));
            }
        } else {
            check_account_read(&st, &token, &f, now)?;
            key_id = st.tokens.get(&token).map(|t| t.key_id.clone());
        }
    }
    super::features::check_read_sse(req.headers(), &f)?;
    let f = f.into_owned();
    drop(st);
    answer(sh, req, &f, &query, "b2_download_file_by_name", key_id)
}

fn set(resp: &mut Response<SimBody>, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        resp.headers_mut().insert(n, v);
    }
}

fn answer(
    sh: &Arc<Shared>,
    req: &Request<Incoming>,
    f: &FileVersion,
    query: &[(String, String)],
    call: &str,
    key_id: Option<String>,
) -> ApiResult<Response<SimBody>> {
    let len = f.length;
    let range = match req.headers().get(RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(spec) => match parse_range(spec, len) {
            Ok(r) => r,
            Err(()) => {
                let mut e = crate::server::error_response(
                    &ApiError::new(
                        416,
                        "range_not_satisfiable",
                        format!("The range {spec} is outside a file of {len} bytes"),
                    ),
                    req.method() == Method::HEAD,
                );
                set(&mut e, "content-range", &format!("bytes */{len}"));
                return Ok(e);
            }
        },
    };
    let (status, first, count) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        None => (StatusCode::OK, 0, len),
    };
    let head = req.method() == Method::HEAD;
    let truncate = !head && count > 0 && sh.faults().on_download();
    let sent = match (head, truncate) {
        (true, _) => 0,
        (false, true) => count / 2,
        (false, false) => count,
    };
    let body = if head {
        SimBody::Empty
    } else {
        if truncate {
            crate::server::Counters::bump(&sh.stats.truncated_downloads);
        }
        // A truncated answer still announces `count` bytes: the body ends early and the
        // connection is cut.
        let content = slice(&f.content, first, sent);
        let rate = sh.faults().faults.bandwidth_bytes_per_sec;
        SimBody::stream(sh.storage.pieces(&content), count).throttled(rate)
    };
    sh.costs
        .charge(call, key_id.as_deref(), Some(&f.bucket_id), 0, sent);
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(count));
    resp.headers_mut()
        .insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if range.is_some() {
        set(
            &mut resp,
            CONTENT_RANGE.as_str(),
            &format!("bytes {first}-{}/{len}", first + count - 1),
        );
    }
    let ct = query
        .iter()
        .find(|(k, _)| k == "b2ContentType")
        .map_or(f.content_type.as_str(), |(_, v)| v.as_str());
    if HeaderValue::from_str(ct).is_ok() {
        set(&mut resp, CONTENT_TYPE.as_str(), ct);
    } else {
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
    }
    set(&mut resp, "x-bz-file-id", &f.id);
    set(&mut resp, "x-bz-file-name", &percent_encode(&f.name));
    let sha1 = if f.large {
        f.info
            .get("large_file_sha1")
            .cloned()
            .unwrap_or_else(|| "none".into())
    } else {
        f.sha1.clone()
    };
    set(&mut resp, "x-bz-content-sha1", &sha1);
    set(&mut resp, "x-bz-upload-timestamp", &f.timestamp.to_string());
    // SSE-B2 files: `X-Bz-Server-Side-Encryption: AES256`; SSE-C files: the customer
    // algorithm and key MD5 only (b2sdk reads the first header as SSE-B2).
    for (name, value) in super::features::sse_answer_headers(f) {
        set(&mut resp, name, &value);
    }
    for (k, v) in &f.info {
        let lower = k.to_ascii_lowercase();
        if let Some((_, header)) = B2_INFO_KEYS.iter().find(|(n, _)| *n == lower) {
            set(&mut resp, header, v);
        } else {
            set(&mut resp, &format!("x-bz-info-{k}"), &percent_encode(v));
        }
    }
    for (param, header) in OVERRIDES.iter().filter(|(p, _)| *p != "b2ContentType") {
        if let Some((_, v)) = query.iter().find(|(k, _)| k == param) {
            set(&mut resp, header, v);
        }
    }
    Ok(resp)
}
