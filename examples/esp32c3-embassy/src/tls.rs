//! TLS 1.3 connections for `b2-transport-esp`'s `AsyncTransport`: an
//! `embedded-nal-async` `TcpConnect` + `Dns` that opens an embassy-net TCP socket and runs
//! `embedded-tls` over it, verifying the server's certificate chain up to one pinned CA
//! (`rustpki`) and its host name.
//!
//! `TcpConnect::connect` is only given an address, so the name to verify comes from this
//! connector's own resolver: it remembers which name each address was resolved from. A URL
//! naming an IP literal has no name to verify and is refused.
//!
//! One connection at a time (the transport closes the old one before it connects again):
//! the TCP and TLS record buffers are this connector's, lent to the open connection.

use core::cell::{Cell, RefCell, UnsafeCell};
use core::net::{IpAddr, SocketAddr};

use embassy_net::dns::DnsSocket;
use embassy_net::tcp::TcpSocket;
use embassy_net::Stack;
use embedded_io::ErrorKind;
use embedded_nal_async::{AddrType, Dns, TcpConnect};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, CryptoRng, NoClock, TlsConfig, TlsConnection,
    TlsContext, TlsError, TlsVerifier,
};
use rand_core::RngCore;

/// TLS records from the server can be this large (16 KiB of data + overhead).
const TLS_READ: usize = 16_640;
/// Records this client writes (each upload chunk goes out in records of this size).
const TLS_WRITE: usize = 4096;
const TCP_RX: usize = 4096;
const TCP_TX: usize = 4096;
/// Largest server certificate kept for the signature check.
const CERT_SIZE: usize = 4096;

/// The buffers a connection borrows.
pub struct Buffers {
    tcp_rx: [u8; TCP_RX],
    tcp_tx: [u8; TCP_TX],
    tls_read: [u8; TLS_READ],
    tls_write: [u8; TLS_WRITE],
}

impl Buffers {
    /// Zeroed buffers (for a `static`).
    pub const fn new() -> Self {
        Buffers {
            tcp_rx: [0; TCP_RX],
            tcp_tx: [0; TCP_TX],
            tls_read: [0; TLS_READ],
            tls_write: [0; TLS_WRITE],
        }
    }
}

/// The hardware RNG (true random while the radio runs) as TLS's random source.
pub struct HwRng(pub esp_hal::rng::Rng);

impl RngCore for HwRng {
    fn next_u32(&mut self) -> u32 {
        self.0.random()
    }
    fn next_u64(&mut self) -> u64 {
        (u64::from(self.0.random()) << 32) | u64::from(self.0.random())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(4) {
            let r = self.0.random().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for HwRng {}

/// Random source and certificate verifier for one handshake.
struct Provider<'c> {
    rng: HwRng,
    verifier: CertVerifier<'c, Aes128GcmSha256, NoClock, CERT_SIZE>,
}

impl CryptoProvider for Provider<'_> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// Names resolved lately, so a connection to an address knows which name to verify.
const NAMES: usize = 4;

/// The connector: embassy-net sockets, embedded-tls sessions, one pinned CA.
pub struct TlsConnector {
    stack: Stack<'static>,
    ca: &'static [u8],
    busy: Cell<bool>,
    bufs: &'static UnsafeCell<Buffers>,
    names: RefCell<heapless::Vec<(IpAddr, heapless::String<64>), NAMES>>,
}

impl TlsConnector {
    /// A connector over `stack` trusting `ca` (DER) as the root of the servers' chains.
    pub fn new(
        stack: Stack<'static>,
        ca: &'static [u8],
        bufs: &'static UnsafeCell<Buffers>,
    ) -> Self {
        TlsConnector {
            stack,
            ca,
            busy: Cell::new(false),
            bufs,
            names: RefCell::new(heapless::Vec::new()),
        }
    }
}

impl Dns for TlsConnector {
    type Error = TlsError;

    async fn get_host_by_name(&self, host: &str, t: AddrType) -> Result<IpAddr, TlsError> {
        let ip = DnsSocket::new(self.stack)
            .get_host_by_name(host, t)
            .await
            .map_err(|_| TlsError::Io(ErrorKind::NotFound))?;
        let name = heapless::String::try_from(host).map_err(|_| TlsError::InsufficientSpace)?;
        let mut names = self.names.borrow_mut();
        names.retain(|(a, _)| *a != ip);
        if names.is_full() {
            names.remove(0);
        }
        let _ = names.push((ip, name));
        Ok(ip)
    }

    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, TlsError> {
        Err(TlsError::Unimplemented)
    }
}

/// An open TLS session; gives the buffers back when dropped.
pub struct TlsConn<'a> {
    tls: TlsConnection<'a, TcpSocket<'a>, Aes128GcmSha256>,
    busy: &'a Cell<bool>,
}

impl Drop for TlsConn<'_> {
    fn drop(&mut self) {
        self.busy.set(false);
    }
}

impl embedded_io_async::ErrorType for TlsConn<'_> {
    type Error = TlsError;
}

impl embedded_io_async::Read for TlsConn<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        match self.tls.read(buf).await {
            // The server closed the session: the end of the stream.
            Err(TlsError::ConnectionClosed) => Ok(0),
            r => r,
        }
    }
}

impl embedded_io_async::Write for TlsConn<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        self.tls.write(buf).await
    }
    async fn flush(&mut self) -> Result<(), TlsError> {
        self.tls.flush().await
    }
}

impl TcpConnect for TlsConnector {
    type Error = TlsError;
    type Connection<'a>
        = TlsConn<'a>
    where
        Self: 'a;

    async fn connect<'a>(&'a self, remote: SocketAddr) -> Result<TlsConn<'a>, TlsError> {
        if self.ca.is_empty() {
            // Built without B2_CA_DER: nothing to verify against, so no TLS at all.
            return Err(TlsError::Io(ErrorKind::InvalidData));
        }
        let name = self
            .names
            .borrow()
            .iter()
            .find(|(a, _)| *a == remote.ip())
            .map(|(_, n)| n.clone())
            .ok_or(TlsError::Io(ErrorKind::InvalidInput))?;
        if self.busy.replace(true) {
            return Err(TlsError::Io(ErrorKind::AddrInUse));
        }
        // SAFETY: `busy` hands the buffers to one connection at a time; the connection
        // gives them back (clears `busy`) when it is dropped, and they live for 'static.
        let bufs = unsafe { &mut *self.bufs.get() };
        let busy = &self.busy;
        let fail = |e: TlsError| {
            busy.set(false);
            e
        };
        let mut sock = TcpSocket::new(self.stack, &mut bufs.tcp_rx, &mut bufs.tcp_tx);
        sock.set_timeout(Some(embassy_time::Duration::from_secs(30)));
        let ip = match remote.ip() {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => return Err(fail(TlsError::Io(ErrorKind::Unsupported))),
        };
        sock.connect((ip, remote.port()))
            .await
            .map_err(|_| fail(TlsError::Io(ErrorKind::ConnectionRefused)))?;
        let mut tls = TlsConnection::new(sock, &mut bufs.tls_read, &mut bufs.tls_write);
        let config = TlsConfig::new().with_server_name(&name);
        let provider = Provider {
            rng: HwRng(esp_hal::rng::Rng::new()),
            verifier: CertVerifier::new(Certificate::X509(self.ca)),
        };
        tls.open(TlsContext::new(&config, provider))
            .await
            .map_err(|e| {
                busy.set(false);
                match e {
                    // The server's chain or name did not verify: permanent (Tls), never retried.
                    TlsError::InvalidCertificate
                    | TlsError::InvalidCertificateEntry
                    | TlsError::InvalidSignature => TlsError::Io(ErrorKind::InvalidData),
                    other => other,
                }
            })?;
        Ok(TlsConn { tls, busy })
    }
}
