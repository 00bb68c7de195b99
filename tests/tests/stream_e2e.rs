//! End to end: `b2-transport-esp`'s `StreamTransport` (its own HTTP/1.1 over a byte stream,
//! as on the emulated Cortex-M over smoltcp) against `b2-sim` on loopback, through
//! `std::net::TcpStream`, clean and with faults.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use b2_core::driver::{run, Transport};
use b2_core::embedded_io;
use b2_core::http::TransportError;
use b2_core::op::{
    Authorize, Download, FileParams, LargeUpload, Operation, Source, Step, Target, UploadFile,
};
use b2_core::session::{Credentials, Session};
use b2_sim::{Faults, Sim};
use b2_transport_esp::{Connector, StreamTransport};
use b2_transport_std::client::Client;
use b2_transport_std::SystemClock;

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

/// The connector: one `TcpStream` at a time, with read and write timeouts.
#[derive(Default)]
struct Tcp {
    stream: Option<TcpStream>,
    connects: u32,
}

#[derive(Debug)]
struct IoErr(std::io::ErrorKind);
impl std::fmt::Display for IoErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl std::error::Error for IoErr {}
impl embedded_io::Error for IoErr {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0 {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                embedded_io::ErrorKind::TimedOut
            }
            _ => embedded_io::ErrorKind::Other,
        }
    }
}
impl embedded_io::ErrorType for Tcp {
    type Error = IoErr;
}
impl embedded_io::Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoErr> {
        let s = self
            .stream
            .as_mut()
            .ok_or(IoErr(std::io::ErrorKind::NotConnected))?;
        s.read(buf).map_err(|e| IoErr(e.kind()))
    }
}
impl embedded_io::Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoErr> {
        let s = self
            .stream
            .as_mut()
            .ok_or(IoErr(std::io::ErrorKind::NotConnected))?;
        s.write(buf).map_err(|e| IoErr(e.kind()))
    }
    fn flush(&mut self) -> Result<(), IoErr> {
        Ok(())
    }
}
impl Connector for Tcp {
    fn connect(&mut self, host: &str, port: u16, tls: bool) -> Result<(), TransportError> {
        if tls {
            return Err(TransportError::Unsupported);
        }
        self.stream = None;
        let s = TcpStream::connect((host, port)).map_err(|_| TransportError::Connect)?;
        let t = Some(Duration::from_secs(10));
        s.set_read_timeout(t).map_err(|_| TransportError::Connect)?;
        s.set_write_timeout(t)
            .map_err(|_| TransportError::Connect)?;
        let _ = s.set_nodelay(true);
        self.stream = Some(s);
        self.connects += 1;
        Ok(())
    }
    fn close(&mut self) {
        self.stream = None;
    }
}

/// A simulator with a bucket and a bucket-restricted device key; faults start after setup.
fn setup(faults: Faults) -> (Sim, String, (String, String)) {
    let sim = Sim::builder().min_part_size(PART).start().expect("sim");
    let (id, key) = sim.master_key();
    let admin = Client::new(id, key, sim.url()).expect("admin");
    let b = admin.create_bucket("stream-bucket", false).expect("bucket");
    let k = admin
        .create_key(
            "stream-device",
            &["writeFiles", "readFiles"],
            Some("stream-bucket"),
            None,
        )
        .expect("key");
    sim.set_faults(faults);
    (sim, b.id, (k.id, k.key))
}

/// Small uploads, a large file from a re-readable source, downloads verified by SHA-1.
fn job(sim: &Sim, bucket: &str, kid: &str, key: &str, t: &mut impl Transport) {
    let mut session = Session::new(Credentials::new(kid, key, sim.url()).expect("creds"));
    let mut clock = SystemClock::default();
    let mut buf = [0u8; 2048];
    run(&mut Authorize::new(&mut session, &mut buf), t, &mut clock).expect("authorize");
    for n in 0..5u32 {
        let data = format!("reading {n}: 21.{n} C\n").repeat(n as usize * 20 + 1);
        let name = format!("small/{n}.csv");
        let params = FileParams::new(bucket, &name, data.len() as u64);
        let mut op =
            UploadFile::new(&mut session, &mut buf, params, data.as_bytes(), None).expect("op");
        run(&mut op, t, &mut clock).expect("small upload");
        assert_eq!(
            sim.file_bytes("stream-bucket", &name),
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
    run(&mut up, t, &mut clock).expect("large upload");
    drop(up);
    let expected: Vec<u8> = (0..size).map(byte).collect();
    assert!(
        sim.file_bytes("stream-bucket", "large/stream.bin")
            .as_deref()
            == Some(&expected[..])
    );
    for name in ["small/4.csv", "large/stream.bin"] {
        let mut op = Download::new(
            &mut session,
            &mut buf,
            Target::ByName {
                bucket: "stream-bucket",
                name,
            },
            Sink::default(),
        )
        .expect("op");
        run(&mut op, t, &mut clock).expect("download");
        if name.starts_with("small") {
            assert!(op.info().verified, "small file verified by SHA-1");
        }
        assert_eq!(
            Some(op.into_sink().0),
            sim.file_bytes("stream-bucket", name)
        );
    }
}

#[test]
fn stream_transport_end_to_end() {
    let (sim, bucket, (kid, key)) = setup(Faults::default());
    let mut body = [0u8; 1024];
    let mut t = StreamTransport::new(Tcp::default(), &mut body);
    job(&sim, &bucket, &kid, &key, &mut t);
    let (exchanges, connects) = t.counts();
    assert!(
        connects * 4 < exchanges,
        "connections are kept alive: {connects} connects for {exchanges} exchanges"
    );
    assert_eq!(sim.stats().chunked_requests, 0, "never chunked");
    assert_eq!(sim.unfinished_large_files(), 0);
}

#[test]
fn stream_transport_under_faults() {
    let (sim, bucket, (kid, key)) = setup(Faults {
        seed: 5,
        upload_503_every: Some(3),
        expire_token_every: Some(5),
        too_many_requests_every: Some(7),
        retry_after_secs: 1,
        reset_upload_every: Some(4),
        ..Faults::default()
    });
    let mut body = [0u8; 1024];
    let mut t = StreamTransport::new(Tcp::default(), &mut body);
    job(&sim, &bucket, &kid, &key, &mut t);
    let f = sim.stats().faults;
    assert!(
        f.service_unavailable > 0
            && f.resets > 0
            && f.expired_tokens > 0
            && f.too_many_requests > 0,
        "{f:?}"
    );
    assert_eq!(sim.stats().chunked_requests, 0, "never chunked");
}

#[test]
fn stream_transport_reports_refused_connections() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut session = Session::new(
        Credentials::new("id", "key", &format!("http://127.0.0.1:{port}")).expect("creds"),
    );
    let mut body = [0u8; 1024];
    let mut t = StreamTransport::new(Tcp::default(), &mut body);
    let mut buf = [0u8; 1024];
    let mut op = Authorize::new(&mut session, &mut buf);
    assert_eq!(op.poll(0).expect("poll"), Step::Send);
    let e = t.exchange(op.as_exchange());
    assert_eq!(e, Err(TransportError::Connect));
}
