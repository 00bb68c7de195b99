//! `b2_core::driver::Transport` over `ureq` 3: one agent (connection reuse), rustls with the
//! standard web roots, plain `http://` only when a URL says so (loopback tests), request
//! bodies streamed with an explicit `Content-Length` (never chunked), every status and
//! header handed to the core unjudged, answer bodies read through one fixed 256 KiB chunk
//! whatever the answer announces. It moves bytes and maps I/O failures to
//! [`TransportError`] kinds, nothing else: no status class, retry or B2 code is decided here.

use std::io::{self, Read};
use std::time::Duration;

use b2_core::driver::{Clock, Transport};
use b2_core::http::{Headers, Method, TransportError};
use b2_core::op::Exchange;
use ureq::http::HeaderMap;

/// Timeouts and TLS roots of a [`UreqTransport`].
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// Connect timeout (default 20 s).
    pub connect_timeout: Duration,
    /// Longest wait for any single read or write progress (default 120 s).
    pub io_timeout: Duration,
    /// Extra trusted CA certificates (PEM); when set, they are the only roots trusted.
    pub root_certs_pem: Option<Vec<u8>>,
    /// Accept a plain `http://` realm on a host that is not loopback (default false: keys
    /// and data would cross the network in clear).
    pub allow_http: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(20),
            io_timeout: Duration::from_secs(120),
            root_certs_pem: None,
            allow_http: false,
        }
    }
}

/// The ureq transport. Cheap to clone: clones share the agent's connection pool.
#[derive(Clone, Debug)]
pub struct UreqTransport {
    agent: ureq::Agent,
    counters: std::sync::Arc<Counters>,
}

/// Exchanges seen by a transport and its clones (for soak and progress reports).
#[derive(Debug, Default)]
pub struct Counters {
    /// Exchanges started.
    pub exchanges: std::sync::atomic::AtomicU64,
    /// Exchanges the transport could not complete (no answer, or an answer cut short). What
    /// an answer's status means is the core's to judge, not counted here.
    pub failed: std::sync::atomic::AtomicU64,
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new(&TransportConfig::default()).unwrap_or_else(|_| UreqTransport {
            agent: ureq::Agent::new_with_defaults(),
            counters: Default::default(),
        })
    }
}

/// Why a transport could not be built.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "transport configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl UreqTransport {
    /// A transport with these timeouts and roots.
    pub fn new(cfg: &TransportConfig) -> Result<Self, ConfigError> {
        let mut tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
        if let Some(pem) = &cfg.root_certs_pem {
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(ConfigError("no certificate in the PEM data".into()));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_recv_response(Some(cfg.io_timeout))
            .timeout_recv_body(Some(cfg.io_timeout))
            .timeout_send_body(Some(cfg.io_timeout))
            .max_redirects(0)
            .user_agent(ureq::config::AutoHeaderValue::None)
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            // Larger socket reads than ureq's 128 KiB: fewer system calls and wake-ups per
            // downloaded GiB (0.89-0.93 s of client CPU against 0.95-1.01 s with the
            // defaults, 1 GiB in 4 ranges); at most this much per pooled connection.
            .input_buffer_size(512 * 1024)
            .tls_config(tls.build())
            .build();
        Ok(UreqTransport {
            agent: ureq::Agent::new_with_config(config),
            counters: Default::default(),
        })
    }

    /// Counters shared by this transport and its clones.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

/// `std::io::Read` over the exchange's body callback; remembers an abort and whether the
/// whole body was handed out (after which a failure is on the receiving side).
struct BodyReader<'e> {
    ex: &'e mut dyn Exchange,
    aborted: bool,
    sent: bool,
    total: u64,
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.ex.body(buf).map_err(|_| {
            self.aborted = true;
            io::Error::other("aborted by the operation")
        })?;
        if n == 0 && !buf.is_empty() {
            self.sent = true;
        }
        self.total += n as u64;
        Ok(n)
    }
}

struct MapHeaders<'h>(&'h HeaderMap);

impl Headers for MapHeaders<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Whether an I/O error carries a TLS refusal (certificate or protocol alert).
fn is_tls(e: &io::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|i| i as _);
    while let Some(s) = src {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        src = s.source();
    }
    false
}

/// Whether an I/O error means no connection was made (refused, no route).
fn is_connect(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | AddrNotAvailable | HostUnreachable | NetworkUnreachable
    )
}

fn classify(e: &ureq::Error, sending: bool) -> TransportError {
    match e {
        ureq::Error::Io(io) if is_tls(io) => TransportError::Tls,
        ureq::Error::Io(io) if is_connect(io) => TransportError::Connect,
        ureq::Error::Timeout(_) => TransportError::Timeout,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportError::Connect,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => TransportError::Tls,
        ureq::Error::BadUri(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::RequireHttpsOnly(_)
        | ureq::Error::Http(_) => TransportError::Unsupported,
        // The answer head was malformed (bad or conflicting `Content-Length`, bad status
        // line, head too large): the exchange broke on the receiving side.
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => TransportError::Receive,
        _ if sending => TransportError::Send,
        _ => TransportError::Receive,
    }
}

impl Transport for UreqTransport {
    fn exchange(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.exchanges.fetch_add(1, Relaxed);
        let r = self.exchange_inner(ex);
        if r.is_err() {
            self.counters.failed.fetch_add(1, Relaxed);
        }
        r
    }
}

impl UreqTransport {
    fn exchange_inner(&mut self, ex: &mut dyn Exchange) -> Result<(), TransportError> {
        let (method, url, headers, length) = {
            let r = ex.request().map_err(|_| TransportError::Aborted)?;
            let h: Vec<(String, String)> = r
                .headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            (r.method, r.url.to_owned(), h, r.content_length)
        };
        let result = match method {
            Method::Get | Method::Head => {
                let mut b = if method == Method::Get {
                    self.agent.get(&url)
                } else {
                    self.agent.head(&url)
                };
                for (k, v) in &headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.call().map_err(|e| classify(&e, true))
            }
            Method::Post => {
                let mut b = self.agent.post(&url);
                for (k, v) in &headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                let len = length.unwrap_or(0);
                // An explicit Content-Length makes ureq send a sized body, never chunked.
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                {
                    b = b.header("Content-Length", len.to_string());
                }
                let mut reader = BodyReader {
                    ex,
                    aborted: false,
                    sent: false,
                    total: 0,
                };
                let r = b.send(ureq::SendBody::from_reader(&mut reader));
                if reader.aborted {
                    return Err(TransportError::Aborted);
                }
                // Once the whole body went out, a failure lost the answer, not the request.
                let body_sent = reader.sent || reader.total >= len;
                r.map_err(|e| classify(&e, !body_sent))
            }
        };
        let mut resp = result?;
        let status = resp.status().as_u16();
        ex.response(status, &MapHeaders(resp.headers()))
            .map_err(|_| TransportError::Aborted)?;
        let mut body = resp.body_mut().with_config().limit(u64::MAX).reader();
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            match body.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => ex
                    .response_body(chunk.get(..n).unwrap_or(&[]))
                    .map_err(|_| TransportError::Aborted)?,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(TransportError::Timeout)
                }
                Err(_) => return Err(TransportError::Receive),
            }
        }
        ex.response_end().map_err(|_| TransportError::Aborted)
    }
}

/// The system clock for [`b2_core::driver::run`]: monotonic milliseconds, real sleeps.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    start: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: std::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now_ms(&mut self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn sleep_until_ms(&mut self, until_ms: u64) {
        let now = self.now_ms();
        if until_ms > now {
            std::thread::sleep(Duration::from_millis(until_ms - now));
        }
    }
}
