//! B2's error answers: `{"status": 400, "code": "bad_request", "message": "..."}`.

use super::json::each_field;
use crate::error::ApiError;

/// Parses an error answer. Whatever the body (empty for `HEAD`, HTML from a proxy, cut
/// short), the result is an [`ApiError`] with at least the HTTP status.
pub fn parse(status: u16, body: &[u8]) -> ApiError {
    let mut err = ApiError::from_status(status);
    let _ = each_field(body, |k, v| {
        match k.raw() {
            "code" => {
                if let Ok(t) = v.text() {
                    let mut code = heapless::String::<40>::new();
                    for c in t.chars().map_while(Result::ok) {
                        if code.push(c).is_err() {
                            break;
                        }
                    }
                    err.code = crate::error::ErrorCode::parse(&code);
                }
            }
            "message" => {
                if let Ok(t) = v.text() {
                    err.message.clear();
                    for c in t.chars().map_while(Result::ok) {
                        if err.message.push(c).is_err() {
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    });
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use proptest::prelude::*;

    #[test]
    fn parses_b2_errors() {
        let e = parse(
            401,
            br#"{"status":401,"code":"expired_auth_token","message":"Auth token \"x\" expired"}"#,
        );
        assert_eq!(e.code, ErrorCode::ExpiredAuthToken);
        assert_eq!(e.message.as_str(), "Auth token \"x\" expired");
        let e = parse(503, b"<html>busy</html>");
        assert_eq!((e.status, &e.code), (503, &ErrorCode::None));
        let e = parse(400, br#"{"code":"brand_new_code","message":""}"#);
        assert_eq!(e.code.as_str(), "brand_new_code");
    }

    proptest! {
        #[test]
        fn never_panics(status in any::<u16>(), b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let e = parse(status, &b);
            prop_assert_eq!(e.status, status);
        }
    }
}
