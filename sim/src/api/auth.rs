//! `b2_authorize_account` and account-token checks.

use std::sync::Arc;

use base64::Engine;
use hyper::header::{HeaderMap, AUTHORIZATION};
use hyper::Response;
use serde_json::{json, Value};

use crate::body::SimBody;
use crate::error::{ApiError, ApiResult};
use crate::server::{json_response, Shared};
use crate::state::{AccountToken, Key, State};

/// Answers `b2_authorize_account` (GET or POST, `Authorization: Basic ...`).
pub(crate) fn authorize(
    sh: &Arc<Shared>,
    ver: u8,
    headers: &HeaderMap,
) -> ApiResult<Response<SimBody>> {
    let auth = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(401, "missing_auth_token", "Authorization header missing"))?;
    let b64 = auth
        .strip_prefix("Basic ")
        .or_else(|| auth.strip_prefix("basic "))
        .ok_or_else(|| ApiError::unauthorized("Authorization must be Basic"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::unauthorized("Authorization is not valid base64"))?;
    let (key_id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| ApiError::unauthorized("Authorization must be keyId:key"))?;
    let now = sh.now_ms();
    let mut st = sh.lock();
    let key = match st.key(key_id) {
        Some(k) if k.secret == secret => k.into_owned(),
        _ => {
            return Err(ApiError::unauthorized(
                "Invalid applicationKeyId or applicationKey",
            ))
        }
    };
    if key.expires_ms.is_some_and(|e| e <= now) {
        return Err(ApiError::unauthorized("The application key has expired"));
    }
    if ver < 4 && is_multi_bucket(&key) {
        return Err(multi_bucket_refused(ver));
    }
    st.tokens.retain(|_, t| t.expires_ms > now);
    let token = format!("4_{}_{}_acct", key.account_id, sh.random_hex(40));
    let expires_ms = now + sh.cfg.token_lifetime_ms;
    st.tokens.insert(
        token.clone(),
        AccountToken {
            key_id: key.id.clone(),
            expires_ms,
        },
    );
    let answer = authorize_answer(sh, &st, &key, &token, ver);
    sh.persist(&mut st)?;
    drop(st);
    sh.costs
        .charge("b2_authorize_account", Some(&key.id), None, 0, 0);
    Ok(json_response(&answer))
}

fn authorize_answer(sh: &Shared, st: &State, key: &Key, token: &str, ver: u8) -> Value {
    let url = &sh.base_url;
    let min = sh.cfg.min_part_size;
    let rec = sh.cfg.recommended_part_size;
    let bucket_name = |id: &String| st.buckets.get(id).map(|b| b.name.clone());
    let expiration = key.expires_ms;
    if ver >= 4 {
        let buckets = key.bucket_ids.as_ref().map(|ids| {
            ids.iter()
                .map(|id| json!({"id": id, "name": bucket_name(id)}))
                .collect::<Vec<_>>()
        });
        return json!({
            "accountId": key.account_id,
            "authorizationToken": token,
            "apiInfo": {
                "storageApi": {
                    "infoType": "storageApi",
                    "apiUrl": url,
                    "downloadUrl": url,
                    "s3ApiUrl": url,
                    "absoluteMinimumPartSize": min,
                    "recommendedPartSize": rec,
                    "allowed": {
                        "buckets": buckets,
                        "capabilities": key.capabilities,
                        "namePrefix": key.name_prefix,
                    },
                },
                "groupsApi": {"infoType": "groupsApi", "capabilities": [], "groupsApiUrl": url},
            },
            "applicationKeyExpirationTimestamp": expiration,
        });
    }
    let bucket_id = key.bucket_ids.as_ref().and_then(|ids| ids.first().cloned());
    let allowed = json!({
        "bucketId": bucket_id,
        "bucketName": bucket_id.as_ref().and_then(bucket_name),
        "capabilities": key.capabilities,
        "namePrefix": key.name_prefix,
    });
    if ver == 3 {
        return json!({
            "accountId": key.account_id,
            "authorizationToken": token,
            "apiInfo": {
                "storageApi": {
                    "infoType": "storageApi",
                    "apiUrl": url,
                    "downloadUrl": url,
                    "s3ApiUrl": url,
                    "absoluteMinimumPartSize": min,
                    "recommendedPartSize": rec,
                    "bucketId": bucket_id,
                    "bucketName": bucket_id.as_ref().and_then(bucket_name),
                    "capabilities": key.capabilities,
                    "namePrefix": key.name_prefix,
                    "allowed": allowed,
                },
                "groupsApi": {"infoType": "groupsApi", "capabilities": [], "groupsApiUrl": url},
            },
            "applicationKeyExpirationTimestamp": expiration,
        });
    }
    json!({
        "accountId": key.account_id,
        "authorizationToken": token,
        "apiUrl": url,
        "downloadUrl": url,
        "s3ApiUrl": url,
        "absoluteMinimumPartSize": min,
        "minimumPartSize": rec,
        "recommendedPartSize": rec,
        "allowed": allowed,
    })
}

/// True for a Multi-Bucket Application Key (restricted to more than one bucket).
pub(crate) fn is_multi_bucket(key: &Key) -> bool {
    key.bucket_ids.as_ref().is_some_and(|b| b.len() > 1)
}

/// B2's answer when a Multi-Bucket Application Key is used below v4 ("These keys can only be
/// used with a v4 b2_authorize_account"): 400 `bad_request`.
pub(crate) fn multi_bucket_refused(ver: u8) -> ApiError {
    ApiError::bad_request(format!(
        "Multi-Bucket Application Keys are not currently supported on API version number {ver}; use v4"
    ))
}

/// The raw `Authorization` header value.
pub(crate) fn auth_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// Resolves an account token to its key (`401` when missing, unknown or expired).
pub(crate) fn key_for_token(st: &State, token: &str, now: u64) -> ApiResult<Key> {
    let t = st
        .tokens
        .get(token)
        .ok_or_else(|| ApiError::bad_auth_token("Invalid authorization token"))?;
    if t.expires_ms <= now {
        return Err(ApiError::expired_auth_token());
    }
    let key = st
        .key(&t.key_id)
        .ok_or_else(|| ApiError::bad_auth_token("The key of this token was deleted"))?;
    if key.expires_ms.is_some_and(|e| e <= now) {
        return Err(ApiError::expired_auth_token());
    }
    Ok(key.into_owned())
}

/// The token and key of a JSON call.
pub(crate) fn account_key(st: &State, headers: &HeaderMap, now: u64) -> ApiResult<(String, Key)> {
    let token = auth_header(headers)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(401, "missing_auth_token", "Authorization header missing"))?;
    let key = key_for_token(st, token, now)?;
    Ok((token.to_string(), key))
}
