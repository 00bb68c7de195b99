//! # b2-transport-esp
//!
//! `b2_core::driver::Transport` over `embedded-svc`'s blocking HTTP client
//! [`Connection`], the trait `esp-idf-svc`'s
//! `EspHttpConnection` implements on ESP32 chips. `#![no_std]`, no allocation.
//!
//! The adapter is thin: it moves bytes. Request bodies go out with the fixed
//! `Content-Length` the core computed (never chunked, which B2 refuses), through one
//! caller-sized buffer; answers come back through the same buffer in chunks. Connection
//! errors map to [`TransportError`] so that the core's retry classes apply (a connection
//! lost in the middle of a part means a new upload URL). After a failed exchange the
//! connection is dropped and the next one starts on a fresh connection from the `connect`
//! function: an `EspHttpConnection` left in its request phase by a failed write panics if
//! it is reused.
//!
//! With ESP-IDF, `connect` is `|| EspHttpConnection::new(&config)` with the certificate
//! bundle in the configuration
//! (`crt_bundle_attach: Some(esp_idf_svc::sys::esp_crt_bundle_attach)`); on a host, anything
//! that makes another `Connection`:
//!
//! ```no_run
//! use b2_core::driver::{run, Clock};
//! use b2_core::op::Authorize;
//! use b2_core::session::{Credentials, Session};
//! use b2_transport_esp::EspTransport;
//! use embedded_svc::http::client::Connection;
//!
//! fn authorize<C: Connection>(
//!     connect: impl FnMut() -> Result<C, C::Error>,
//!     clock: &mut impl Clock,
//! ) -> Result<Session, b2_core::Error> {
//!     let mut session = Session::new(Credentials::new("key-id", "key", "production")?);
//!     let mut body = [0u8; 1024]; // what the transport moves bodies through
//!     let mut buf = [0u8; 2048]; // request heads and JSON answers
//!     let mut transport = EspTransport::new(connect, &mut body);
//!     run(&mut Authorize::new(&mut session, &mut buf), &mut transport, clock)?;
//!     Ok(session)
//! }
//! ```
//!
//! ## Stream transports (bare metal)
//!
//! [`StreamTransport`] speaks HTTP/1.1 itself over any blocking byte stream (a smoltcp TCP
//! socket, a TLS session, `std::net::TcpStream`) through a [`Connector`]; with the `async`
//! feature, [`asynch::AsyncTransport`] does the same over `embedded-io-async` streams made
//! by an `embedded-nal-async` `TcpConnect` (embassy-net), for [`b2_core::driver_async`].
//! Both share the sans-IO codec in [`http1`].
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(feature = "async")]
pub mod asynch;
pub mod http1;
pub mod stream;
pub use stream::{Connector, StreamTransport};

use b2_core::http::{Headers, Method, TransportError, MAX_HEADERS};
use b2_core::op::Exchange;
use embedded_svc::http::client::Connection;
use embedded_svc::io::{Error as _, ErrorKind, Read};

/// The transport: a connection, the function that makes a new one, and the one buffer
/// bodies pass through.
///
/// After any failed exchange the connection is dropped and the next exchange starts on a new
/// one from `connect`: a failed write or a failed `initiate_response` leaves an
/// `EspHttpConnection` in its request phase, where reusing it would panic.
///
/// RAM: the connection (not counted: its TLS buffers belong to ESP-IDF), `connect` (usually
/// a reference to the configuration) and the buffer (1–4 KiB is right; larger buffers mean
/// fewer, bigger writes).
pub struct EspTransport<'b, C, F> {
    conn: Option<C>,
    connect: F,
    buf: &'b mut [u8],
}

impl<'b, C, F, E> EspTransport<'b, C, F>
where
    C: Connection,
    F: FnMut() -> Result<C, E>,
    E: embedded_svc::io::Error,
{
    /// Drives exchanges over connections made by `connect` (called for the first exchange and
    /// after every failed one, once the old connection is dropped), moving bodies through
    /// `buf` (at least 64 bytes).
    pub fn new(connect: F, buf: &'b mut [u8]) -> Self {
        EspTransport {
            conn: None,
            connect,
            buf,
        }
    }

    /// Like [`EspTransport::new`], starting with `conn` (which must be in its initial phase).
    pub fn with_connection(conn: C, connect: F, buf: &'b mut [u8]) -> Self {
        EspTransport {
            conn: Some(conn),
            connect,
            buf,
        }
    }

    /// The current connection, if any, and the connect function.
    pub fn into_inner(self) -> (Option<C>, F) {
        (self.conn, self.connect)
    }

    /// The current connection: `None` before the first exchange and after a failed one.
    pub fn connection(&mut self) -> Option<&mut C> {
        self.conn.as_mut()
    }

    /// Makes a connection if there is none (or only one stuck in its request phase).
    fn ready(&mut self) -> Result<(), TransportError> {
        if self.conn.as_ref().is_some_and(|c| c.is_request_initiated()) {
            // Never reuse a connection stuck in its request phase.
            self.conn = None;
        }
        if self.conn.is_none() {
            let c = (self.connect)().map_err(|e| map(e.kind(), TransportError::Connect))?;
            self.conn = Some(c);
        }
        Ok(())
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

impl<C, F, E> b2_core::driver::Transport for EspTransport<'_, C, F>
where
    C: Connection,
    F: FnMut() -> Result<C, E>,
    E: embedded_svc::io::Error,
{
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        if self.buf.len() < 64 {
            return Err(TransportError::Unsupported);
        }
        let r = self.exchange_on(ex);
        if r.is_err() {
            // Whatever phase it is left in, start the next exchange on a new connection.
            self.conn = None;
        }
        r
    }
}

impl<C, F, E> EspTransport<'_, C, F>
where
    C: Connection,
    F: FnMut() -> Result<C, E>,
    E: embedded_svc::io::Error,
{
    fn exchange_on(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        let has_body;
        {
            // The request first: an operation counts its tries when it hands the request
            // out, so a connect failure before it would be retried without end.
            let r = ex.request().map_err(|_| TransportError::Aborted)?;
            self.ready()?;
            let Some(conn) = self.conn.as_mut() else {
                return Err(TransportError::Connect);
            };
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
            conn.initiate_request(method, r.url, &headers)
                .map_err(|e| map(e.kind(), TransportError::Connect))?;
        }
        let (Some(conn), buf) = (self.conn.as_mut(), &mut *self.buf) else {
            return Err(TransportError::Connect);
        };
        if has_body {
            loop {
                let n = ex.body(buf).map_err(|_| TransportError::Aborted)?;
                if n == 0 {
                    break;
                }
                let chunk = buf.get(..n).ok_or(TransportError::Aborted)?;
                conn.write_all(chunk)
                    .map_err(|e| map(e.kind(), TransportError::Send))?;
            }
            conn.flush()
                .map_err(|e| map(e.kind(), TransportError::Send))?;
        }
        conn.initiate_response()
            .map_err(|e| map(e.kind(), TransportError::Receive))?;
        let status = conn.status();
        let (headers, body) = conn.split();
        ex.response(status, &AnswerHeaders(headers))
            .map_err(|_| TransportError::Aborted)?;
        loop {
            let n = body
                .read(buf)
                .map_err(|e| map(e.kind(), TransportError::Receive))?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).ok_or(TransportError::Receive)?;
            ex.response_body(chunk)
                .map_err(|_| TransportError::Aborted)?;
        }
        ex.response_end().map_err(|_| TransportError::Aborted)
    }
}
