//! End to end: the async driver (`b2_core::driver_async`) and `b2-transport-esp`'s
//! `AsyncTransport` (embedded-io-async through embedded-nal-async, as embassy-net serves
//! them) against `b2-sim` over real loopback sockets, clean and with faults. The executor is
//! `embassy_futures::block_on`; the streams are `std::net::TcpStream`s behind the
//! embedded-io-async traits.

use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use b2_core::driver_async::{run, AsyncClock};
use b2_core::embedded_io;
use b2_core::http::TransportError;
use b2_core::op::{Authorize, Download, FileParams, LargeUpload, Source, Target, UploadFile};
use b2_core::session::{Credentials, Session};
use b2_sim::{Faults, Sim};
use b2_transport_esp::asynch::{AsyncTransport, NoDns};
use b2_transport_std::client::Client;
use embassy_futures::block_on;

const PART: u64 = 100_000;

struct Gen(u64);

fn byte(i: u64) -> u8 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 57) as u8 ^ i as u8
}

impl Source for Gen {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        let n = self.0.saturating_sub(offset).min(buf.len() as u64) as usize;
        for (i, b) in buf.iter_mut().take(n).enumerate() {
            *b = byte(offset + i as u64);
        }
        Ok(n)
    }
}

#[derive(Default)]
struct Sink(Vec<u8>);
impl embedded_io::ErrorType for Sink {
    type Error = embedded_io::ErrorKind;
}
impl embedded_io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[derive(Debug)]
struct IoErr(std::io::ErrorKind);
impl std::fmt::Display for IoErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl std::error::Error for IoErr {}
impl embedded_io_async::Error for IoErr {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0 {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                embedded_io::ErrorKind::TimedOut
            }
            std::io::ErrorKind::ConnectionRefused => embedded_io::ErrorKind::ConnectionRefused,
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

/// `embedded_nal_async::TcpConnect` over `std::net`, counting its connections.
#[derive(Default)]
struct StdTcp {
    connects: Cell<u32>,
}

/// One connection: a `TcpStream` behind the embedded-io-async traits.
struct StdConn(TcpStream);

impl embedded_io_async::ErrorType for StdConn {
    type Error = IoErr;
}
impl embedded_io_async::Read for StdConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoErr> {
        self.0.read(buf).map_err(|e| IoErr(e.kind()))
    }
}
impl embedded_io_async::Write for StdConn {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoErr> {
        self.0.write(buf).map_err(|e| IoErr(e.kind()))
    }
    async fn flush(&mut self) -> Result<(), IoErr> {
        self.0.flush().map_err(|e| IoErr(e.kind()))
    }
}

impl embedded_nal_async::TcpConnect for StdTcp {
    type Error = IoErr;
    type Connection<'a> = StdConn;
    async fn connect(&self, remote: SocketAddr) -> Result<StdConn, IoErr> {
        self.connects.set(self.connects.get() + 1);
        let s = TcpStream::connect_timeout(&remote, Duration::from_secs(5))
            .map_err(|e| IoErr(e.kind()))?;
        let t = Some(Duration::from_secs(10));
        s.set_read_timeout(t).map_err(|e| IoErr(e.kind()))?;
        s.set_write_timeout(t).map_err(|e| IoErr(e.kind()))?;
        let _ = s.set_nodelay(true);
        Ok(StdConn(s))
    }
}

/// The caller's timer: real time (the executor has nothing else to run meanwhile).
struct StdClock(Instant);
impl AsyncClock for StdClock {
    fn now_ms(&mut self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    async fn sleep_until_ms(&mut self, until_ms: u64) {
        let now = self.now_ms();
        if until_ms > now {
            std::thread::sleep(Duration::from_millis(until_ms - now));
        }
    }
}

fn setup(faults: Faults) -> (Sim, String, (String, String)) {
    let sim = Sim::builder().min_part_size(PART).start().expect("sim");
    let (id, key) = sim.master_key();
    let admin = Client::new(id, key, sim.url()).expect("admin");
    let b = admin.create_bucket("async-bucket", false).expect("bucket");
    let k = admin
        .create_key(
            "async-device",
            &["writeFiles", "readFiles"],
            Some("async-bucket"),
            None,
        )
        .expect("key");
    sim.set_faults(faults);
    (sim, b.id, (k.id, k.key))
}

/// Small uploads, a large file from a re-readable source, downloads verified by SHA-1, all
/// through the async driver; returns (exchanges, connections).
fn job(sim: &Sim, bucket: &str, kid: &str, key: &str) -> (u32, u32) {
    let tcp = StdTcp::default();
    let mut body = [0u8; 1024];
    let mut t = AsyncTransport::new(&tcp, NoDns, &mut body);
    let mut clock = StdClock(Instant::now());
    let mut session = Session::new(Credentials::new(kid, key, sim.url()).expect("creds"));
    let mut buf = [0u8; 2048];
    block_on(async {
        run(
            &mut Authorize::new(&mut session, &mut buf),
            &mut t,
            &mut clock,
        )
        .await
        .expect("authorize");
        for n in 0..5u32 {
            let data = format!("reading {n}: 21.{n} C\n").repeat(n as usize * 20 + 1);
            let name = format!("small/{n}.csv");
            let params = FileParams::new(bucket, &name, data.len() as u64);
            let mut op =
                UploadFile::new(&mut session, &mut buf, params, data.as_bytes(), None).expect("op");
            run(&mut op, &mut t, &mut clock)
                .await
                .expect("small upload");
            assert_eq!(
                sim.file_bytes("async-bucket", &name),
                Some(data.into_bytes())
            );
        }
        let size = 6 * PART + 777;
        let mut digests = [[0u8; 20]; 8];
        let params = FileParams::new(bucket, "large/stream.bin", size);
        let mut up = LargeUpload::new(
            &mut session,
            &mut buf,
            params,
            PART,
            Gen(size),
            &mut digests,
        )
        .expect("op");
        run(&mut up, &mut t, &mut clock)
            .await
            .expect("large upload");
        drop(up);
        let expected: Vec<u8> = (0..size).map(byte).collect();
        assert!(
            sim.file_bytes("async-bucket", "large/stream.bin")
                .as_deref()
                == Some(&expected[..])
        );
        for name in ["small/4.csv", "large/stream.bin"] {
            let mut op = Download::new(
                &mut session,
                &mut buf,
                Target::ByName {
                    bucket: "async-bucket",
                    name,
                },
                Sink::default(),
            )
            .expect("op");
            run(&mut op, &mut t, &mut clock).await.expect("download");
            if name.starts_with("small") {
                assert!(op.info().verified, "small file verified by SHA-1");
            }
            assert_eq!(Some(op.into_sink().0), sim.file_bytes("async-bucket", name));
        }
    });
    let (exchanges, _) = t.counts();
    (exchanges, tcp.connects.get())
}

#[test]
fn async_transport_end_to_end() {
    let (sim, bucket, (kid, key)) = setup(Faults::default());
    let (exchanges, connects) = job(&sim, &bucket, &kid, &key);
    assert!(
        connects * 4 < exchanges,
        "connections are kept alive: {connects} connects for {exchanges} exchanges"
    );
    assert_eq!(sim.stats().chunked_requests, 0, "never chunked");
    assert_eq!(sim.unfinished_large_files(), 0);
}

#[test]
fn async_transport_under_faults() {
    let (sim, bucket, (kid, key)) = setup(Faults {
        seed: 9,
        upload_503_every: Some(3),
        expire_token_every: Some(5),
        too_many_requests_every: Some(7),
        retry_after_secs: 1,
        reset_upload_every: Some(4),
        ..Faults::default()
    });
    job(&sim, &bucket, &kid, &key);
    let f = sim.stats().faults;
    assert!(
        f.service_unavailable > 0
            && f.resets > 0
            && f.expired_tokens > 0
            && f.too_many_requests > 0,
        "{f:?}"
    );
    assert_eq!(sim.stats().chunked_requests, 0, "never chunked");
    assert_eq!(sim.unfinished_large_files(), 0);
}

#[test]
fn async_transport_refuses_https_without_a_tls_connector_and_reports_refusals() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    struct Virtual(u64);
    impl AsyncClock for Virtual {
        fn now_ms(&mut self) -> u64 {
            self.0
        }
        async fn sleep_until_ms(&mut self, until: u64) {
            self.0 = until;
        }
    }
    let tcp = StdTcp::default();
    let mut body = [0u8; 1024];
    let mut t = AsyncTransport::new(&tcp, NoDns, &mut body);
    let mut buf = [0u8; 1024];
    // Nobody listens: connect failures, retried, then reported.
    let mut session = Session::new(
        Credentials::new("id", "key", &format!("http://127.0.0.1:{port}")).expect("creds"),
    );
    let e = block_on(run(
        &mut Authorize::new(&mut session, &mut buf),
        &mut t,
        &mut Virtual(0),
    ))
    .expect_err("nobody listens");
    assert_eq!(e, b2_core::Error::Transport(TransportError::Connect));
    assert!(tcp.connects.get() > 1, "retried");
    // https through a plain TCP connector: refused, nothing sent in clear.
    let before = tcp.connects.get();
    let mut session = Session::new(
        Credentials::new("id", "key", &format!("https://127.0.0.1:{port}")).expect("creds"),
    );
    let e = block_on(run(
        &mut Authorize::new(&mut session, &mut buf),
        &mut t,
        &mut Virtual(0),
    ))
    .expect_err("no TLS");
    assert_eq!(e, b2_core::Error::Transport(TransportError::Unsupported));
    assert_eq!(tcp.connects.get(), before, "no connection for https");
}
