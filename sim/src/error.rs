//! B2-shaped errors: `{"status": N, "code": "...", "message": "..."}`.

use std::fmt;

/// One failed API call, as B2 would answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// B2 error code, e.g. `bad_request`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// `Retry-After` seconds (429 and 503 answers).
    pub retry_after: Option<u32>,
    /// Why, when B2's own message says nothing (its 401 `unauthorized` has an empty
    /// message): sent in the `X-B2-Sim-Detail` header, never in the body.
    pub detail: Option<String>,
    /// Answer with `Connection: close` (the request body was not read).
    pub close: bool,
}

/// Result of one API step.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// 500 `internal_error` for a failure of the data directory's database or files.
    pub fn storage(e: std::io::Error) -> Self {
        ApiError::new(500, "internal_error", format!("storage: {e}"))
    }

    /// Any status and code.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            detail: None,
            close: false,
        }
    }
    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }
    /// 401 `unauthorized`: the key may not do this (permanent). The body is B2's:
    /// `{"status": 401, "code": "unauthorized", "message": ""}` (the official SDK adds the
    /// key's restrictions to it); `why` goes only to the `X-B2-Sim-Detail` header.
    pub fn unauthorized(why: impl Into<String>) -> Self {
        let mut e = Self::new(401, "unauthorized", "");
        e.detail = Some(why.into());
        e
    }
    /// 401 `bad_auth_token`.
    pub fn bad_auth_token(message: impl Into<String>) -> Self {
        Self::new(401, "bad_auth_token", message)
    }
    /// 401 `expired_auth_token`.
    pub fn expired_auth_token() -> Self {
        Self::new(401, "expired_auth_token", "Authorization token has expired")
    }
    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }
    /// 503 `service_unavailable`.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "service_unavailable", message)
    }
    /// The JSON body B2 sends with this error.
    pub fn body(&self) -> String {
        serde_json::json!({"status": self.status, "code": self.code, "message": self.message})
            .to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_b2_shaped() {
        let e = ApiError::bad_request("nope");
        let v: serde_json::Value = serde_json::from_str(&e.body()).expect("json");
        assert_eq!(v["status"], 400);
        assert_eq!(v["code"], "bad_request");
        assert_eq!(v["message"], "nope");
    }

    #[test]
    fn unauthorized_is_b2s_empty_message() {
        let e = ApiError::unauthorized("missing writeFiles");
        assert_eq!(
            e.body(),
            r#"{"code":"unauthorized","message":"","status":401}"#
        );
        assert_eq!(e.detail.as_deref(), Some("missing writeFiles"));
    }
}
