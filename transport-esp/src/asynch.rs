//! [`b2_core::driver_async::AsyncTransport`] over `embedded-io-async` streams made by an
//! `embedded-nal-async` [`TcpConnect`] (embassy-net's `TcpClient` implements it), speaking
//! HTTP/1.1 through the same codec as the blocking [`StreamTransport`](crate::StreamTransport).
//! With embassy-net (compiled for real in `examples/esp32c3-embassy`, and over host sockets in
//! `tests/tests/async_e2e.rs`):
//!
//! ```text
//! let state = TcpClientState::<1, 4096, 4096>::new();
//! let client = TcpClient::new(stack, &state);
//! let mut body = [0u8; 1024];
//! let mut transport = AsyncTransport::new(&client, DnsSocket::new(stack), &mut body);
//! b2_core::driver_async::run(&mut op, &mut transport, &mut clock).await?;
//! ```
//!
//! Plain `http://` only, unless the `TcpConnect` wraps its connections in TLS itself
//! ([`AsyncTransport::tls_by_connector`]); such a connector reports a server whose
//! certificate it refuses as a connect error of kind `InvalidData` (mapped to the core's
//! permanent `TransportError::Tls`). `examples/esp32c3-embassy` has one (embedded-tls). The connector's sockets should have a timeout
//! (embassy-net: `TcpSocket::set_timeout`): this transport owns no timer.

use core::net::{IpAddr, SocketAddr};

use b2_core::http::TransportError;
use b2_core::op::Exchange;
use embedded_io_async::{Error as _, Read, Write};
use embedded_nal_async::{AddrType, Dns, TcpConnect};

use crate::http1::{parse_answer_head, BodyReader, RequestHead};
use crate::stream::{map, MIN_BUFFER};

/// Longest `host:port` remembered for connection reuse.
const MAX_AUTHORITY: usize = 96;

/// A resolver for transports that only ever see IP literals in URLs (b2-sim, tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDns;

impl Dns for NoDns {
    type Error = TransportError;
    async fn get_host_by_name(&self, _: &str, _: AddrType) -> Result<IpAddr, TransportError> {
        Err(TransportError::Connect)
    }
    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, TransportError> {
        Err(TransportError::Unsupported)
    }
}

/// The async HTTP/1.1 transport: connections from `tcp`, names resolved by `dns`, every head
/// and body moved through one caller-sized buffer (at least
/// [`MIN_BUFFER`] bytes). One connection is kept alive between
/// exchanges to the same host and dropped (closed) after any error.
///
/// RAM: the buffer, the open connection (the stack's socket), and about 120 bytes.
pub struct AsyncTransport<'a, 'b, T: TcpConnect + 'a, D> {
    tcp: &'a T,
    dns: D,
    conn: Option<T::Connection<'a>>,
    open: Option<(bool, heapless::String<MAX_AUTHORITY>)>,
    buf: &'b mut [u8],
    tls_by_connector: bool,
    exchanges: u32,
    connects: u32,
}

impl<'a, 'b, T: TcpConnect + 'a, D: Dns> AsyncTransport<'a, 'b, T, D> {
    /// A transport making its connections with `tcp`, resolving host names with `dns`.
    pub fn new(tcp: &'a T, dns: D, buf: &'b mut [u8]) -> Self {
        AsyncTransport {
            tcp,
            dns,
            conn: None,
            open: None,
            buf,
            tls_by_connector: false,
            exchanges: 0,
            connects: 0,
        }
    }

    /// Says that `tcp`'s connections are TLS sessions (it verifies the server itself), so
    /// `https://` URLs go through it (and `http://` ones are refused). Without this,
    /// `https://` is refused as [`TransportError::Unsupported`] rather than sent in clear.
    pub fn tls_by_connector(mut self) -> Self {
        self.tls_by_connector = true;
        self
    }

    /// Exchanges started and connections opened so far.
    pub fn counts(&self) -> (u32, u32) {
        (self.exchanges, self.connects)
    }

    async fn exchange_on(&mut self, ex: &mut dyn Exchange) -> Result<bool, TransportError> {
        let method;
        let has_body;
        {
            let req = ex.request().map_err(|_| TransportError::Aborted)?;
            let mut head = RequestHead::new(&req)?;
            let t = head.target();
            if t.tls != self.tls_by_connector {
                return Err(TransportError::Unsupported);
            }
            method = req.method;
            has_body = req.content_length.is_some_and(|n| n > 0);
            let reuse = self.conn.is_some()
                && self
                    .open
                    .as_ref()
                    .is_some_and(|(tls, a)| *tls == t.tls && a.as_str() == t.authority);
            if !reuse {
                self.conn = None;
                self.open = None;
                let ip = match t.host.parse::<IpAddr>() {
                    Ok(ip) => ip,
                    Err(_) => self
                        .dns
                        .get_host_by_name(t.host, AddrType::Either)
                        .await
                        .map_err(|_| TransportError::Connect)?,
                };
                self.connects += 1;
                let c = self
                    .tcp
                    .connect(SocketAddr::new(ip, t.port))
                    .await
                    .map_err(|e| map(e.kind(), TransportError::Connect))?;
                self.conn = Some(c);
                self.open = heapless::String::try_from(t.authority)
                    .ok()
                    .map(|a| (t.tls, a));
            }
            let conn = self.conn.as_mut().ok_or(TransportError::Connect)?;
            loop {
                let n = head.fill(self.buf);
                if n == 0 {
                    break;
                }
                write_all(conn, &self.buf[..n]).await?;
            }
        }
        let conn = self.conn.as_mut().ok_or(TransportError::Connect)?;
        if has_body {
            loop {
                let n = ex.body(self.buf).map_err(|_| TransportError::Aborted)?;
                if n == 0 {
                    break;
                }
                let chunk = self.buf.get(..n).ok_or(TransportError::Aborted)?;
                write_all(conn, chunk).await?;
            }
        }
        conn.flush()
            .await
            .map_err(|e| map(e.kind(), TransportError::Send))?;

        let mut filled = 0;
        let head = loop {
            let n = conn
                .read(&mut self.buf[filled..])
                .await
                .map_err(|e| map(e.kind(), TransportError::Receive))?;
            if n == 0 {
                return Err(TransportError::Receive);
            }
            filled += n;
            if let Some(h) = parse_answer_head(self.buf, &mut filled, method, ex)? {
                break h;
            }
        };
        let mut body = BodyReader::new(head.framing);
        let mut start = head.head_len;
        loop {
            if start < filled {
                let used = body.feed(&self.buf[start..filled], &mut |d| {
                    ex.response_body(d).map_err(|_| TransportError::Aborted)
                })?;
                start += used;
            }
            if body.is_done() {
                break;
            }
            let n = conn
                .read(self.buf)
                .await
                .map_err(|e| map(e.kind(), TransportError::Receive))?;
            if n == 0 {
                body.eof()?;
                break;
            }
            filled = n;
            start = 0;
        }
        ex.response_end().map_err(|_| TransportError::Aborted)?;
        Ok(head.keep_alive && start == filled)
    }
}

/// Writes all of `data`; a stream that accepts nothing is a broken connection.
async fn write_all<W: Write>(w: &mut W, mut data: &[u8]) -> Result<(), TransportError> {
    while !data.is_empty() {
        match w.write(data).await {
            Ok(0) => return Err(TransportError::Send),
            Ok(n) => data = data.get(n..).unwrap_or(&[]),
            Err(e) => return Err(map(e.kind(), TransportError::Send)),
        }
    }
    Ok(())
}

impl<'a, T: TcpConnect + 'a, D: Dns> b2_core::driver_async::AsyncTransport
    for AsyncTransport<'a, '_, T, D>
{
    async fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        if self.buf.len() < MIN_BUFFER {
            return Err(TransportError::Unsupported);
        }
        self.exchanges += 1;
        match self.exchange_on(ex).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.conn = None;
                self.open = None;
                Ok(())
            }
            Err(e) => {
                self.conn = None;
                self.open = None;
                Err(e)
            }
        }
    }
}
