//! `embedded_svc::http::client::Connection` over `std::net::TcpStream`, so that
//! `b2-transport-esp` runs for real against `b2-sim` on the host, exactly as it would over
//! `EspHttpConnection`. Plain HTTP/1.1 on loopback, one TCP connection per request
//! (`Connection: close`, no keep-alive); answers parsed with `httparse`.
//!
//! It behaves like ESP-IDF's client where a transport could go wrong:
//! - a request initiated without a `Content-Length` header sends its body chunked
//!   ([`HostConnection::chunked_requests`] counts those; `b2-sim` refuses chunked uploads);
//! - it has `EspHttpConnection`'s three phases (new, request, response) and panics, as
//!   `EspHttpConnection` does, when a call comes in the wrong phase: after a failed write or a
//!   failed `initiate_response` it stays in the request phase, where `initiate_request`
//!   panics. A transport must get it out of there (or replace it) before the next request.

use std::io::{self, BufRead, BufReader, Chain, Cursor, Read as _, Write as _};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use embedded_svc::http::client::Connection;
use embedded_svc::http::{Headers, Method, Status};
use embedded_svc::io::{ErrorKind, ErrorType, Read, Write};

/// An I/O error of the host connection.
#[derive(Debug)]
pub struct HostError(pub io::ErrorKind);

impl core::fmt::Display for HostError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "host connection: {:?}", self.0)
    }
}

impl std::error::Error for HostError {}

impl embedded_svc::io::Error for HostError {
    fn kind(&self) -> ErrorKind {
        match self.0 {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::TimedOut,
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset => ErrorKind::ConnectionReset,
            io::ErrorKind::ConnectionAborted => ErrorKind::ConnectionAborted,
            io::ErrorKind::NotConnected => ErrorKind::NotConnected,
            io::ErrorKind::BrokenPipe => ErrorKind::BrokenPipe,
            io::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
            io::ErrorKind::InvalidData => ErrorKind::InvalidData,
            io::ErrorKind::Unsupported => ErrorKind::Unsupported,
            _ => ErrorKind::Other,
        }
    }
}

fn err(e: io::Error) -> HostError {
    HostError(e.kind())
}

fn bad(what: &str) -> HostError {
    let _ = what;
    HostError(io::ErrorKind::InvalidData)
}

/// Status line and headers of the answer.
#[derive(Debug, Default)]
pub struct ResponseHead {
    status: u16,
    message: String,
    headers: Vec<(String, String)>,
}

impl Status for ResponseHead {
    fn status(&self) -> u16 {
        self.status
    }
    fn status_message(&self) -> Option<&str> {
        Some(&self.message)
    }
}

impl Headers for ResponseHead {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked { left: u64, done: bool },
    Close,
}

/// The answer body.
#[derive(Default)]
pub struct ResponseBody {
    reader: Option<BufReader<Chain<Cursor<Vec<u8>>, TcpStream>>>,
    framing: Option<Framing>,
}

impl ErrorType for ResponseBody {
    type Error = HostError;
}

impl Read for ResponseBody {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, HostError> {
        let (Some(r), Some(framing)) = (self.reader.as_mut(), self.framing.as_mut()) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        match framing {
            Framing::Length(0) => Ok(0),
            Framing::Length(left) => {
                let want = (*left).min(buf.len() as u64) as usize;
                let n = r.read(&mut buf[..want]).map_err(err)?;
                if n == 0 {
                    return Err(HostError(io::ErrorKind::UnexpectedEof));
                }
                *left -= n as u64;
                Ok(n)
            }
            Framing::Close => r.read(buf).map_err(err),
            Framing::Chunked { left, done } => {
                if *done {
                    return Ok(0);
                }
                if *left == 0 {
                    let mut line = String::new();
                    r.read_line(&mut line).map_err(err)?;
                    if line.trim().is_empty() {
                        // CRLF after the previous chunk.
                        line.clear();
                        r.read_line(&mut line).map_err(err)?;
                    }
                    let size = line.trim().split(';').next().unwrap_or("");
                    let size = u64::from_str_radix(size, 16).map_err(|_| bad("chunk size"))?;
                    if size == 0 {
                        *done = true;
                        let mut trailer = String::new();
                        while r.read_line(&mut trailer).map_err(err)? > 2 {
                            trailer.clear();
                        }
                        return Ok(0);
                    }
                    *left = size;
                }
                let want = (*left).min(buf.len() as u64) as usize;
                let n = r.read(&mut buf[..want]).map_err(err)?;
                if n == 0 {
                    return Err(HostError(io::ErrorKind::UnexpectedEof));
                }
                *left -= n as u64;
                Ok(n)
            }
        }
    }
}

/// A connection that is never a raw one (`raw_connection` is not supported).
pub struct NoRaw;

impl ErrorType for NoRaw {
    type Error = HostError;
}

impl Read for NoRaw {
    fn read(&mut self, _buf: &mut [u8]) -> Result<usize, HostError> {
        Err(HostError(io::ErrorKind::Unsupported))
    }
}

impl Write for NoRaw {
    fn write(&mut self, _buf: &[u8]) -> Result<usize, HostError> {
        Err(HostError(io::ErrorKind::Unsupported))
    }

    fn flush(&mut self) -> Result<(), HostError> {
        Err(HostError(io::ErrorKind::Unsupported))
    }
}

/// Counters shared by a connection and its [`HostConnection::sibling`]s.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU32,
    chunked_requests: AtomicU32,
    connections: AtomicU32,
}

/// `EspHttpConnection`'s phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    New,
    Request,
    Response,
}

/// The host connection; see the module docs.
pub struct HostConnection {
    timeout: Duration,
    phase: Phase,
    stream: Option<TcpStream>,
    chunked: bool,
    head_request: bool,
    head: ResponseHead,
    body: ResponseBody,
    counters: Arc<Counters>,
}

impl Default for HostConnection {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

impl HostConnection {
    /// A connection with this read/write timeout.
    pub fn new(timeout: Duration) -> Self {
        let counters = Arc::new(Counters::default());
        counters.connections.fetch_add(1, Ordering::Relaxed);
        HostConnection {
            timeout,
            phase: Phase::New,
            stream: None,
            chunked: false,
            head_request: false,
            head: ResponseHead::default(),
            body: ResponseBody::default(),
            counters,
        }
    }

    /// A fresh connection (new phase) with the same settings, counting into the same
    /// counters: what a transport's reconnect hook returns.
    pub fn sibling(&self) -> Self {
        self.counters.connections.fetch_add(1, Ordering::Relaxed);
        HostConnection {
            timeout: self.timeout,
            phase: Phase::New,
            stream: None,
            chunked: false,
            head_request: false,
            head: ResponseHead::default(),
            body: ResponseBody::default(),
            counters: Arc::clone(&self.counters),
        }
    }

    /// Requests sent by this connection and its siblings.
    pub fn requests(&self) -> u32 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// Requests whose body went out chunked (must stay 0 with `b2-transport-esp`).
    pub fn chunked_requests(&self) -> u32 {
        self.counters.chunked_requests.load(Ordering::Relaxed)
    }

    /// Connections made: this one and its siblings.
    pub fn connections(&self) -> u32 {
        self.counters.connections.load(Ordering::Relaxed)
    }

    fn assert_phase(&self, ok: &[Phase], what: &str) {
        if !ok.contains(&self.phase) {
            // What EspHttpConnection does too.
            panic!("connection is not in {what} phase");
        }
    }
}

impl ErrorType for HostConnection {
    type Error = HostError;
}

impl Status for HostConnection {
    fn status(&self) -> u16 {
        self.assert_phase(&[Phase::Response], "response");
        self.head.status
    }
    fn status_message(&self) -> Option<&str> {
        self.assert_phase(&[Phase::Response], "response");
        self.head.status_message()
    }
}

impl Headers for HostConnection {
    fn header(&self, name: &str) -> Option<&str> {
        self.assert_phase(&[Phase::Response], "response");
        self.head.header(name)
    }
}

impl Read for HostConnection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, HostError> {
        self.assert_phase(&[Phase::Response], "response");
        self.body.read(buf)
    }
}

impl Write for HostConnection {
    fn write(&mut self, buf: &[u8]) -> Result<usize, HostError> {
        self.assert_phase(&[Phase::Request], "request");
        let s = self
            .stream
            .as_mut()
            .ok_or(HostError(io::ErrorKind::NotConnected))?;
        if buf.is_empty() {
            return Ok(0);
        }
        if self.chunked {
            write!(s, "{:x}\r\n", buf.len()).map_err(err)?;
            s.write_all(buf).map_err(err)?;
            s.write_all(b"\r\n").map_err(err)?;
        } else {
            s.write_all(buf).map_err(err)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), HostError> {
        self.assert_phase(&[Phase::Request], "request");
        match self.stream.as_mut() {
            Some(s) => s.flush().map_err(err),
            None => Ok(()),
        }
    }
}

/// Splits `http://host:port/path` into (`host:port`, `/path`).
fn split_url(uri: &str) -> Result<(&str, &str), HostError> {
    let rest = uri
        .strip_prefix("http://")
        .ok_or(HostError(io::ErrorKind::Unsupported))?;
    Ok(match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    })
}

impl Connection for HostConnection {
    type Headers = ResponseHead;
    type Read = ResponseBody;
    type RawConnectionError = HostError;
    type RawConnection = NoRaw;

    fn initiate_request<'a>(
        &'a mut self,
        method: Method,
        uri: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<(), HostError> {
        // On failure the phase stays what it was, as with EspHttpConnection.
        self.assert_phase(&[Phase::New, Phase::Response], "initial");
        self.stream = None;
        self.head = ResponseHead::default();
        self.body = ResponseBody::default();
        let (host, path) = split_url(uri)?;
        let stream = TcpStream::connect(host).map_err(err)?;
        stream.set_read_timeout(Some(self.timeout)).map_err(err)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(err)?;
        stream.set_nodelay(true).map_err(err)?;
        let name = match method {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            _ => return Err(HostError(io::ErrorKind::Unsupported)),
        };
        self.head_request = matches!(method, Method::Head);
        let has_length = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        self.chunked = matches!(method, Method::Post | Method::Put) && !has_length;
        let mut head = format!("{name} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (k, v) in headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        if self.chunked {
            head.push_str("Transfer-Encoding: chunked\r\n");
        }
        head.push_str("\r\n");
        let mut s = stream;
        s.write_all(head.as_bytes()).map_err(err)?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        if self.chunked {
            self.counters
                .chunked_requests
                .fetch_add(1, Ordering::Relaxed);
        }
        self.stream = Some(s);
        self.phase = Phase::Request;
        Ok(())
    }

    fn is_request_initiated(&self) -> bool {
        self.phase == Phase::Request
    }

    fn initiate_response(&mut self) -> Result<(), HostError> {
        // On failure the connection stays in the request phase, as EspHttpConnection does.
        self.assert_phase(&[Phase::Request], "request");
        let mut s = self
            .stream
            .take()
            .ok_or(HostError(io::ErrorKind::NotConnected))?;
        if self.chunked {
            s.write_all(b"0\r\n\r\n").map_err(err)?;
        }
        s.flush().map_err(err)?;
        // Read the head.
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        let (head_len, status, message, headers) = loop {
            let n = s.read(&mut chunk).map_err(err)?;
            if n == 0 {
                return Err(HostError(io::ErrorKind::UnexpectedEof));
            }
            buf.extend_from_slice(&chunk[..n]);
            let mut hs = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut hs);
            match resp.parse(&buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let headers = resp
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect::<Vec<_>>();
                    break (
                        len,
                        resp.code.unwrap_or(0),
                        resp.reason.unwrap_or("").to_owned(),
                        headers,
                    );
                }
                Ok(httparse::Status::Partial) if buf.len() < 64 * 1024 => continue,
                _ => return Err(bad("response head")),
            }
        };
        self.head = ResponseHead {
            status,
            message,
            headers,
        };
        let framing = if self.head_request
            || status == 204
            || status == 304
            || (100..200).contains(&status)
        {
            Framing::Length(0)
        } else if self
            .head
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            Framing::Chunked {
                left: 0,
                done: false,
            }
        } else if let Some(len) = self.head.header("content-length") {
            Framing::Length(len.trim().parse().map_err(|_| bad("content-length"))?)
        } else {
            Framing::Close
        };
        let leftover = buf.split_off(head_len);
        self.body = ResponseBody {
            reader: Some(BufReader::new(Cursor::new(leftover).chain(s))),
            framing: Some(framing),
        };
        self.phase = Phase::Response;
        Ok(())
    }

    fn is_response_initiated(&self) -> bool {
        self.phase == Phase::Response
    }

    fn split(&mut self) -> (&ResponseHead, &mut ResponseBody) {
        self.assert_phase(&[Phase::Response], "response");
        (&self.head, &mut self.body)
    }

    fn raw_connection(&mut self) -> Result<&mut NoRaw, HostError> {
        Err(HostError(io::ErrorKind::Unsupported))
    }
}
