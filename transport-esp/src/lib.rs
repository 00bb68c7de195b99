//! # b2-transport-esp
//!
//! `b2_core::driver::Transport` over `embedded-svc`'s blocking HTTP client
//! [`Connection`](embedded_svc::http::client::Connection), the trait `esp-idf-svc`'s
//! `EspHttpConnection` implements on ESP32 chips. `#![no_std]`, no allocation.
//!
//! The adapter is thin: it moves bytes. Request bodies go out with the fixed
//! `Content-Length` the core computed (never chunked, which B2 refuses), through one
//! caller-sized buffer; answers come back through the same buffer in chunks. Connection
//! errors map to [`TransportError`] so that the core's retry classes apply (a connection
//! lost in the middle of a part means a new upload URL).
//!
//! With ESP-IDF, `conn` is an `EspHttpConnection` created with the certificate bundle
//! (`crt_bundle_attach: Some(esp_idf_svc::sys::esp_crt_bundle_attach)`); on a host, any
//! other `Connection`:
//!
//! ```no_run
//! use b2_core::driver::{run, Clock};
//! use b2_core::op::Authorize;
//! use b2_core::session::{Credentials, Session};
//! use b2_transport_esp::EspTransport;
//! use embedded_svc::http::client::Connection;
//!
//! fn authorize<C: Connection>(conn: C, clock: &mut impl Clock) -> Result<Session, b2_core::Error> {
//!     let mut session = Session::new(Credentials::new("key-id", "key", "production")?);
//!     let mut body = [0u8; 1024]; // what the transport moves bodies through
//!     let mut buf = [0u8; 2048]; // request heads and JSON answers
//!     let mut transport = EspTransport::new(conn, &mut body);
//!     run(&mut Authorize::new(&mut session, &mut buf), &mut transport, clock)?;
//!     Ok(session)
//! }
//! ```
#![no_std]
#![forbid(unsafe_code)]

use b2_core::http::{Headers, Method, TransportError, MAX_HEADERS};
use b2_core::op::Exchange;
use embedded_svc::http::client::Connection;
use embedded_svc::io::{Error as _, ErrorKind, Read};

/// The transport: a connection and the one buffer bodies pass through.
///
/// RAM: the connection (not counted: its TLS buffers belong to ESP-IDF) plus a reference and
/// the buffer (1–4 KiB is right; larger buffers mean fewer, bigger writes).
pub struct EspTransport<'b, C> {
    conn: C,
    buf: &'b mut [u8],
}

impl<'b, C: Connection> EspTransport<'b, C> {
    /// Drives exchanges over `conn`, moving bodies through `buf` (at least 64 bytes).
    pub fn new(conn: C, buf: &'b mut [u8]) -> Self {
        EspTransport { conn, buf }
    }

    /// The connection back.
    pub fn into_inner(self) -> C {
        self.conn
    }

    /// The connection.
    pub fn connection(&mut self) -> &mut C {
        &mut self.conn
    }
}

/// Maps a connection error to the core's transport errors; `stage` is what failed.
fn map(kind: ErrorKind, stage: TransportError) -> TransportError {
    match kind {
        ErrorKind::TimedOut => TransportError::Timeout,
        ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable | ErrorKind::NotConnected
            if stage == TransportError::Connect =>
        {
            TransportError::Connect
        }
        ErrorKind::Unsupported | ErrorKind::InvalidInput => TransportError::Unsupported,
        _ => stage,
    }
}

/// The connection's answer headers as the core reads them.
struct AnswerHeaders<'h, H>(&'h H);

impl<H: embedded_svc::http::Headers> Headers for AnswerHeaders<'_, H> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.header(name)
    }
}

impl<C: Connection> b2_core::driver::Transport for EspTransport<'_, C> {
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        if self.buf.len() < 64 {
            return Err(TransportError::Unsupported);
        }
        let has_body;
        {
            let r = ex.request().map_err(|_| TransportError::Aborted)?;
            let method = match r.method {
                Method::Get => embedded_svc::http::Method::Get,
                Method::Head => embedded_svc::http::Method::Head,
                Method::Post => embedded_svc::http::Method::Post,
            };
            let mut headers: heapless::Vec<(&str, &str), { MAX_HEADERS + 1 }> =
                heapless::Vec::new();
            let mut saw_length = false;
            for &(k, v) in r.headers.iter() {
                saw_length |= k.eq_ignore_ascii_case("content-length");
                headers
                    .push((k, v))
                    .map_err(|_| TransportError::Unsupported)?;
            }
            has_body = r.content_length.is_some();
            // A POST always carries its length: without it ESP-IDF would send chunked.
            if r.method == Method::Post && !saw_length {
                if r.content_length.unwrap_or(0) != 0 {
                    return Err(TransportError::Unsupported);
                }
                headers
                    .push(("Content-Length", "0"))
                    .map_err(|_| TransportError::Unsupported)?;
            }
            self.conn
                .initiate_request(method, r.url, &headers)
                .map_err(|e| map(e.kind(), TransportError::Connect))?;
        }
        if has_body {
            loop {
                let n = ex.body(self.buf).map_err(|_| TransportError::Aborted)?;
                if n == 0 {
                    break;
                }
                let chunk = self.buf.get(..n).ok_or(TransportError::Aborted)?;
                self.conn
                    .write_all(chunk)
                    .map_err(|e| map(e.kind(), TransportError::Send))?;
            }
            self.conn
                .flush()
                .map_err(|e| map(e.kind(), TransportError::Send))?;
        }
        self.conn
            .initiate_response()
            .map_err(|e| map(e.kind(), TransportError::Receive))?;
        let status = self.conn.status();
        let (headers, body) = self.conn.split();
        ex.response(status, &AnswerHeaders(headers))
            .map_err(|_| TransportError::Aborted)?;
        loop {
            let n = body
                .read(self.buf)
                .map_err(|e| map(e.kind(), TransportError::Receive))?;
            if n == 0 {
                break;
            }
            let chunk = self.buf.get(..n).ok_or(TransportError::Receive)?;
            ex.response_body(chunk)
                .map_err(|_| TransportError::Aborted)?;
        }
        ex.response_end().map_err(|_| TransportError::Aborted)
    }
}
