//! What a transport needs to send a request and hand back an answer.
//!
//! Every string in a [`Request`] lives in the operation's caller-provided buffer, so a request
//! costs no allocation. Transports copy what they need and then stream the body.

use core::fmt;

/// Most headers any request carries (authorization, name, type, length, SHA-1, 10 infos,
/// `src_last_modified_millis`, part number, range, user agent, test mode, ...).
pub const MAX_HEADERS: usize = 28;

/// HTTP method of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method {
    /// `GET`: downloads and authorize.
    Get,
    /// `HEAD`: download metadata only.
    Head,
    /// `POST`: JSON calls and uploads.
    Post,
}

impl Method {
    /// The method as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
        }
    }
}

/// A request head ready to go on the wire.
///
/// `headers` already contains `Content-Length` when `content_length` is `Some`; a transport
/// must send exactly that many body bytes (obtained from [`crate::op::Exchange::body`]) and
/// never use chunked transfer encoding, which B2 refuses.
pub struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The absolute URL (scheme, host, path, query).
    pub url: &'a str,
    /// Header name/value pairs, in order.
    pub headers: heapless::Vec<(&'a str, &'a str), MAX_HEADERS>,
    /// Body length, when the request has a body.
    pub content_length: Option<u64>,
}

impl Request<'_> {
    /// The value of a header of this request (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Header names whose values are secrets and are never printed.
pub fn is_secret_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization")
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct H<'r, 'a>(&'r [(&'a str, &'a str)]);
        impl fmt::Debug for H<'_, '_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut m = f.debug_map();
                for (n, v) in self.0 {
                    if is_secret_header(n) {
                        m.entry(n, &"<redacted>");
                    } else {
                        m.entry(n, v);
                    }
                }
                m.finish()
            }
        }
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &redact_url(self.url))
            .field("headers", &H(&self.headers))
            .field("content_length", &self.content_length)
            .finish()
    }
}

/// Displays a URL with any `Authorization=` query value redacted.
pub fn redact_url(url: &str) -> RedactedUrl<'_> {
    RedactedUrl(url)
}

/// A URL printed with its `Authorization` query parameter hidden.
pub struct RedactedUrl<'a>(&'a str);

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.find("Authorization=") {
            None => f.write_str(self.0),
            Some(i) => {
                let start = i + "Authorization=".len();
                let rest = &self.0[start..];
                let end = rest.find('&').map(|e| start + e).unwrap_or(self.0.len());
                f.write_str(&self.0[..start])?;
                f.write_str("<redacted>")?;
                f.write_str(&self.0[end..])
            }
        }
    }
}

/// Whether an answer's status is a success (2xx). Statistics use it; what a failure means
/// (retry, new upload URL, re-authorize, final) is [`crate::retry::classify`]'s to say.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Parses a `Content-Length` value as RFC 9110 §8.6 defines it: `1*DIGIT` (no sign, no
/// inner space), or a comma-separated list of the same number (repeated header lines
/// folded into one). `None` for anything else, including a number beyond `u64`.
pub fn parse_content_length(value: &str) -> Option<u64> {
    let mut out = None;
    for element in value.split(',') {
        let e = element.trim_matches(|c| c == ' ' || c == '\t');
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = e.parse::<u64>().ok()?;
        if out.is_some_and(|prev| prev != n) {
            return None;
        }
        out = Some(n);
    }
    out
}

/// Response headers as a transport exposes them.
pub trait Headers {
    /// The value of the named header (case-insensitive), if present and valid text. A header
    /// sent on several lines may be given as one comma-separated value; an HTTP layer that
    /// gives only one line must itself refuse differing `Content-Length` lines.
    fn get(&self, name: &str) -> Option<&str>;
}

/// Headers given as a slice of pairs (handy for tests and simple transports).
impl Headers for &[(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Why a transport could not complete an exchange. Mapped to retry classes by
/// [`crate::retry::classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransportError {
    /// Could not connect (DNS, refused, TLS handshake).
    Connect,
    /// The connection broke or timed out while the request was being sent.
    Send,
    /// The connection broke or timed out while the answer was being read.
    Receive,
    /// No answer in time.
    Timeout,
    /// The exchange was stopped because the operation refused a callback (see the
    /// operation's own error).
    Aborted,
    /// The request cannot be expressed by this transport (bad URL, header too long, ...).
    Unsupported,
    /// TLS refused the server (untrusted or invalid certificate): permanent, not retried.
    Tls,
}

/// So that a host can use `?` into `Box<dyn std::error::Error>`.
impl core::error::Error for TransportError {}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportError::Connect => "could not connect",
            TransportError::Send => "connection lost while sending",
            TransportError::Receive => "connection lost while receiving",
            TransportError::Timeout => "timed out",
            TransportError::Aborted => "exchange aborted by the operation",
            TransportError::Unsupported => "request not supported by the transport",
            TransportError::Tls => "TLS refused the server's certificate",
        })
    }
}
