//! `b2_core::driver::Transport` over any blocking byte stream (`embedded-io` `Read` +
//! `Write`): a smoltcp TCP socket on bare metal, a TLS stream, or `std::net::TcpStream` in
//! tests. HTTP/1.1 through the shared codec ([`crate::http1`]); one connection kept alive
//! between exchanges to the same host, dropped after any error.

use b2_core::http::TransportError;
use b2_core::op::Exchange;
use embedded_io::{Error as _, ErrorKind, Read, Write};

use crate::http1::{parse_answer_head, BodyReader, RequestHead};

/// Longest `host:port` remembered for connection reuse (a longer one reconnects each time).
const MAX_AUTHORITY: usize = 96;

/// Smallest buffer the transport accepts: answer heads must fit in it.
pub const MIN_BUFFER: usize = 512;

/// What the stream transport needs from the network: one connection at a time, opened to a
/// host and port, read and written as a byte stream.
///
/// `connect` replaces any open connection. Read returning `Ok(0)` means the peer closed.
/// A read or write that waits too long should fail with [`ErrorKind::TimedOut`]. A TLS
/// connector that refuses the server's certificate returns [`TransportError::Tls`].
pub trait Connector: Read + Write {
    /// Opens a connection to `host:port` (wrapped in TLS when `tls`), closing any open one.
    /// A connector that cannot do TLS answers `tls` with [`TransportError::Unsupported`].
    fn connect(&mut self, host: &str, port: u16, tls: bool) -> Result<(), TransportError>;
    /// Closes the connection (an abortive close is fine); a no-op when none is open.
    fn close(&mut self);
}

impl<C: Connector + ?Sized> Connector for &mut C {
    fn connect(&mut self, host: &str, port: u16, tls: bool) -> Result<(), TransportError> {
        C::connect(self, host, port, tls)
    }
    fn close(&mut self) {
        C::close(self)
    }
}

/// The blocking HTTP/1.1 transport over a [`Connector`], moving every head and body through
/// one caller-sized buffer (at least [`MIN_BUFFER`] bytes; 1–2 KiB is right: the largest
/// answer head B2 sends, a download's, must fit).
///
/// RAM: the connector, the buffer, and about 110 bytes.
pub struct StreamTransport<'b, C> {
    conn: C,
    buf: &'b mut [u8],
    /// `(tls, authority)` of the open connection, if it may be reused.
    open: Option<(bool, heapless::String<MAX_AUTHORITY>)>,
    exchanges: u32,
    connects: u32,
}

impl<'b, C: Connector> StreamTransport<'b, C> {
    /// A transport over `conn` (nothing is opened until the first exchange).
    pub fn new(conn: C, buf: &'b mut [u8]) -> Self {
        StreamTransport {
            conn,
            buf,
            open: None,
            exchanges: 0,
            connects: 0,
        }
    }

    /// The connector.
    pub fn connector(&mut self) -> &mut C {
        &mut self.conn
    }

    /// The connector back.
    pub fn into_inner(self) -> C {
        self.conn
    }

    /// Exchanges started and connections opened so far (reuse = exchanges − connects).
    pub fn counts(&self) -> (u32, u32) {
        (self.exchanges, self.connects)
    }

    fn exchange_on(&mut self, ex: &mut dyn Exchange) -> Result<bool, TransportError> {
        let method;
        let has_body;
        {
            let req = ex.request().map_err(|_| TransportError::Aborted)?;
            let mut head = RequestHead::new(&req)?;
            let t = head.target();
            method = req.method;
            has_body = req.content_length.is_some_and(|n| n > 0);
            let reuse = self
                .open
                .as_ref()
                .is_some_and(|(tls, a)| *tls == t.tls && a.as_str() == t.authority);
            if !reuse {
                self.conn.close();
                self.open = None;
                self.connects += 1;
                self.conn.connect(t.host, t.port, t.tls)?;
                self.open = heapless::String::try_from(t.authority)
                    .ok()
                    .map(|a| (t.tls, a));
            }
            loop {
                let n = head.fill(self.buf);
                if n == 0 {
                    break;
                }
                write_all(&mut self.conn, &self.buf[..n])?;
            }
        }
        if has_body {
            loop {
                let n = ex.body(self.buf).map_err(|_| TransportError::Aborted)?;
                if n == 0 {
                    break;
                }
                let chunk = self.buf.get(..n).ok_or(TransportError::Aborted)?;
                write_all(&mut self.conn, chunk)?;
            }
        }
        self.conn
            .flush()
            .map_err(|e| map(e.kind(), TransportError::Send))?;

        // The answer head, read until it is complete (or does not fit: an error).
        let mut filled = 0;
        let head = loop {
            let n = self
                .conn
                .read(&mut self.buf[filled..])
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
            let n = self
                .conn
                .read(self.buf)
                .map_err(|e| map(e.kind(), TransportError::Receive))?;
            if n == 0 {
                body.eof()?;
                break;
            }
            filled = n;
            start = 0;
        }
        ex.response_end().map_err(|_| TransportError::Aborted)?;
        // Bytes past the answer belong to no request: do not reuse such a connection.
        Ok(head.keep_alive && start == filled)
    }
}

/// Writes all of `data`; a stream that accepts nothing is a broken connection.
fn write_all<W: Write>(w: &mut W, mut data: &[u8]) -> Result<(), TransportError> {
    while !data.is_empty() {
        match w.write(data) {
            Ok(0) => return Err(TransportError::Send),
            Ok(n) => data = data.get(n..).unwrap_or(&[]),
            Err(e) => return Err(map(e.kind(), TransportError::Send)),
        }
    }
    Ok(())
}

/// Maps a stream error to the core's transport errors; `stage` is what failed. A connect
/// that fails with [`ErrorKind::InvalidData`] is a TLS refusal of the server (permanent).
pub(crate) fn map(kind: ErrorKind, stage: TransportError) -> TransportError {
    match kind {
        ErrorKind::TimedOut => TransportError::Timeout,
        ErrorKind::InvalidData if stage == TransportError::Connect => TransportError::Tls,
        _ => stage,
    }
}

impl<C: Connector> b2_core::driver::Transport for StreamTransport<'_, C> {
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        if self.buf.len() < MIN_BUFFER {
            return Err(TransportError::Unsupported);
        }
        self.exchanges += 1;
        match self.exchange_on(ex) {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.conn.close();
                self.open = None;
                Ok(())
            }
            Err(e) => {
                self.conn.close();
                self.open = None;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_errors_map_to_retry_classes() {
        assert_eq!(
            map(ErrorKind::TimedOut, TransportError::Send),
            TransportError::Timeout
        );
        assert_eq!(
            map(ErrorKind::InvalidData, TransportError::Connect),
            TransportError::Tls
        );
        assert_eq!(
            map(ErrorKind::InvalidData, TransportError::Receive),
            TransportError::Receive
        );
        assert_eq!(
            map(ErrorKind::ConnectionReset, TransportError::Receive),
            TransportError::Receive
        );
    }
}
