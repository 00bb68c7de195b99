//! Server-side encryption as B2 applies it today, and clear refusals for what b2-sim does not
//! implement (SSE-C, Object Lock).
//!
//! B2 ("Use Server-Side Encryption with the B2 Native API") encrypts every new upload and
//! copy with SSE-B2/AES256 by default; a bucket's `defaultServerSideEncryption` may be set to
//! SSE-B2 or reset with `{"mode": null}` (both mean SSE-B2), and an explicit `none` is refused.
//! b2-sim stores bytes as they came (nothing is really encrypted) but answers exactly that.

use hyper::header::HeaderMap;
use serde_json::{json, Value};

use super::Ctx;
use crate::error::{ApiError, ApiResult};

/// The `serverSideEncryption` of every file version b2-sim stores.
pub(crate) fn sse_b2() -> Value {
    json!({"algorithm": "AES256", "mode": "SSE-B2"})
}

/// 400 `bad_request` naming a B2 feature b2-sim does not implement.
pub(crate) fn not_implemented(feature: &str) -> ApiError {
    ApiError::bad_request(format!(
        "b2-sim does not implement {feature}; this request would change what B2 stores, so it is refused rather than ignored"
    ))
}

fn mode_of(v: &Value, field: &str) -> ApiResult<Option<String>> {
    let Some(obj) = v.as_object() else {
        return Err(ApiError::new(
            400,
            "bad_json",
            format!("{field} must be an object"),
        ));
    };
    match obj.get("mode") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::new(
            400,
            "bad_json",
            format!("{field}.mode must be a string or null"),
        )),
    }
}

fn check_algorithm(v: &Value, field: &str) -> ApiResult<()> {
    match v.get("algorithm") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(a)) if a == "AES256" => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "{field}.algorithm must be AES256, not {other}"
        ))),
    }
}

fn none_refused(field: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{field} mode none is not accepted: B2 encrypts with SSE-B2 (AES256) by default; omit the setting to use the default"
    ))
}

/// Checks a bucket's `defaultServerSideEncryption` argument (create or update). Absent or
/// null: nothing changes (the default is SSE-B2). `{"mode": null}` resets to SSE-B2 and
/// `{"mode": "SSE-B2"}` sets it; both need `writeBucketEncryption`. `none` and SSE-C are
/// refused with 400.
pub(crate) fn check_bucket_default_sse(ctx: &Ctx<'_>, args: &Value) -> ApiResult<()> {
    const F: &str = "defaultServerSideEncryption";
    let Some(v) = args.get(F).filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let mode = mode_of(v, F)?;
    ctx.key.require("writeBucketEncryption")?;
    match mode.as_deref() {
        None => Ok(()),
        Some("SSE-B2") => check_algorithm(v, F),
        Some("none") => Err(none_refused(F)),
        Some("SSE-C") => Err(ApiError::bad_request(
            "SSE-C cannot be a bucket's default encryption",
        )),
        Some(other) => Err(ApiError::bad_request(format!("Unknown {F} mode: {other}"))),
    }
}

/// Checks a file write's encryption given in JSON (`serverSideEncryption` of
/// `b2_start_large_file`, `destinationServerSideEncryption` of the copies): absent, null or
/// SSE-B2/AES256 are accepted (the file is SSE-B2); `none` is refused; SSE-C is not
/// implemented.
pub(crate) fn check_write_sse(args: &Value, field: &str) -> ApiResult<()> {
    let Some(v) = args.get(field).filter(|v| !v.is_null()) else {
        return Ok(());
    };
    match mode_of(v, field)?.as_deref() {
        None => Ok(()),
        Some("SSE-B2") => check_algorithm(v, field),
        Some("none") => Err(none_refused(field)),
        Some("SSE-C") => Err(not_implemented("SSE-C (customer-provided encryption keys)")),
        Some(other) => Err(ApiError::bad_request(format!(
            "Unknown {field} mode: {other}"
        ))),
    }
}

/// Checks the source encryption of a copy (`sourceServerSideEncryption`): only SSE-C would
/// need it, and SSE-C is not implemented.
pub(crate) fn check_source_sse(args: &Value) -> ApiResult<()> {
    const F: &str = "sourceServerSideEncryption";
    let Some(v) = args.get(F).filter(|v| !v.is_null()) else {
        return Ok(());
    };
    match mode_of(v, F)?.as_deref() {
        None | Some("SSE-B2") => Ok(()),
        Some("SSE-C") => Err(not_implemented("SSE-C (customer-provided encryption keys)")),
        Some(other) => Err(ApiError::bad_request(format!("Unknown {F} mode: {other}"))),
    }
}

/// Refuses Object Lock settings on a file write (`fileRetention`, `legalHold`) in JSON.
pub(crate) fn check_no_file_lock_args(args: &Value) -> ApiResult<()> {
    for f in ["fileRetention", "legalHold"] {
        if args.get(f).is_some_and(|v| !v.is_null()) {
            return Err(not_implemented(&format!("Object Lock ({f} on a file)")));
        }
    }
    Ok(())
}

/// Refuses bucket settings b2-sim does not implement: `fileLockEnabled: true`,
/// `defaultRetention`. (Replication is implemented: see `replication`.)
pub(crate) fn check_bucket_unimplemented(args: &Value) -> ApiResult<()> {
    match args.get("fileLockEnabled") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => return Err(not_implemented("Object Lock (fileLockEnabled)")),
        Some(_) => {
            return Err(ApiError::new(
                400,
                "bad_json",
                "fileLockEnabled must be a boolean",
            ))
        }
    }
    if args.get("defaultRetention").is_some_and(|v| !v.is_null()) {
        return Err(not_implemented("Object Lock (defaultRetention)"));
    }
    Ok(())
}

/// Checks the encryption and Object Lock headers of an upload (file or part).
/// `X-Bz-Server-Side-Encryption: AES256` is SSE-B2 (the default anyway); any other value is
/// refused; SSE-C and Object Lock headers are not implemented.
pub(crate) fn check_upload_headers(headers: &HeaderMap) -> ApiResult<()> {
    if let Some(v) = headers.get("x-bz-server-side-encryption") {
        if v.as_bytes() != b"AES256" {
            return Err(ApiError::bad_request(format!(
                "X-Bz-Server-Side-Encryption must be AES256, not {}",
                String::from_utf8_lossy(v.as_bytes())
            )));
        }
    }
    check_no_sse_c_headers(headers)?;
    for h in [
        "x-bz-file-retention-mode",
        "x-bz-file-retention-retain-until-timestamp",
        "x-bz-file-legal-hold",
    ] {
        if headers.contains_key(h) {
            return Err(not_implemented(&format!("Object Lock ({h})")));
        }
    }
    Ok(())
}

/// Refuses SSE-C request headers (uploads, downloads).
pub(crate) fn check_no_sse_c_headers(headers: &HeaderMap) -> ApiResult<()> {
    if headers.keys().any(|k| {
        k.as_str()
            .starts_with("x-bz-server-side-encryption-customer-")
    }) {
        return Err(not_implemented("SSE-C (customer-provided encryption keys)"));
    }
    Ok(())
}

/// `b2_update_file_retention`, `b2_update_file_legal_hold`: not implemented.
pub(crate) fn file_lock_call(
    _ctx: &Ctx<'_>,
    _st: &mut crate::state::State,
    _args: &Value,
) -> ApiResult<Value> {
    Err(not_implemented(
        "Object Lock (b2_update_file_retention, b2_update_file_legal_hold)",
    ))
}
