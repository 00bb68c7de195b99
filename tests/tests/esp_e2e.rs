//! End to end: `b2-transport-esp` over the host `Connection`, against `b2-sim` on loopback,
//! exactly as it runs over `EspHttpConnection` on a device.

use std::time::Duration;

use b2_core::driver::{run, Clock};
use b2_core::embedded_io;
use b2_core::op::{
    Authorize, Download, FileParams, LargeUpload, List, Listing, Source, Target, UploadFile,
};
use b2_core::session::{Credentials, Session};
use b2_sim::{Faults, Sim};
use b2_tests::host_conn::HostError;
use b2_tests::HostConnection;
use b2_transport_esp::EspTransport;
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

/// A simulator with a bucket; returns it, the bucket id and a restricted device key.
fn setup(faults: Faults) -> (Sim, String, (String, String)) {
    let sim = Sim::builder()
        .min_part_size(PART)
        .faults(Faults::default())
        .start()
        .expect("sim");
    let (id, key) = sim.master_key();
    let admin = Client::new(id, key, sim.url()).expect("admin");
    let b = admin.create_bucket("esp-bucket", false).expect("bucket");
    let k = admin
        .create_key(
            "esp-device",
            &["writeFiles", "readFiles", "listFiles"],
            Some("esp-bucket"),
            None,
        )
        .expect("key");
    sim.set_faults(faults);
    (sim, b.id, (k.id, k.key))
}

fn scenario(faults: Faults) -> b2_sim::Stats {
    let (sim, bucket, (kid, key)) = setup(faults);
    let mut session = Session::new(Credentials::new(&kid, &key, sim.url()).expect("creds"));
    let mut body = [0u8; 1024];
    let conns = HostConnection::new(Duration::from_secs(10));
    let mut t = EspTransport::new(|| Ok::<_, HostError>(conns.sibling()), &mut body);
    let mut clock = SystemClock::default();
    let mut buf = [0u8; 2048];
    run(
        &mut Authorize::new(&mut session, &mut buf),
        &mut t,
        &mut clock,
    )
    .expect("authorize");
    assert_eq!(session.allowed.bucket_id.as_deref(), Some(bucket.as_str()));

    // Small uploads.
    for n in 0..6u32 {
        let data = format!("reading {n}: 21.{n} C\n").repeat(n as usize * 10);
        let name = format!("small/{n}.txt");
        let params = FileParams::new(&bucket, &name, data.len() as u64);
        let mut op =
            UploadFile::new(&mut session, &mut buf, params, data.as_bytes(), None).expect("op");
        run(&mut op, &mut t, &mut clock).expect("small upload");
        assert_eq!(sim.file_bytes("esp-bucket", &name), Some(data.into_bytes()));
    }

    // A large file streamed from a re-readable source.
    let size = 7 * PART + 4321;
    let mut digests = [[0u8; 20]; 16];
    let params = FileParams::new(&bucket, "large/stream.bin", size);
    let mut up = LargeUpload::new(
        &mut session,
        &mut buf,
        params,
        PART,
        Gen(size),
        &mut digests,
    )
    .expect("op");
    run(&mut up, &mut t, &mut clock).expect("large upload");
    drop(up);
    let expected: Vec<u8> = (0..size).map(byte).collect();
    assert_eq!(
        sim.file_bytes("esp-bucket", "large/stream.bin").as_deref(),
        Some(expected.as_slice())
    );

    // Download it back through the ESP transport, SHA-1 verified for a small file.
    let mut op = Download::new(
        &mut session,
        &mut buf,
        Target::ByName {
            bucket: "esp-bucket",
            name: "small/5.txt",
        },
        Sink::default(),
    )
    .expect("op");
    run(&mut op, &mut t, &mut clock).expect("download");
    assert!(op.info().verified);
    assert_eq!(
        Some(op.into_sink().0),
        sim.file_bytes("esp-bucket", "small/5.txt")
    );
    let mut op = Download::new(
        &mut session,
        &mut buf,
        Target::ByName {
            bucket: "esp-bucket",
            name: "large/stream.bin",
        },
        Sink::default(),
    )
    .expect("op");
    run(&mut op, &mut t, &mut clock).expect("download large");
    assert_eq!(op.into_sink().0, expected);

    // Listing, page by page through the 2 KiB buffer.
    let mut list = List::new(
        &mut session,
        &mut buf,
        Listing::FileNames {
            bucket_id: &bucket,
            prefix: None,
            delimiter: None,
        },
    );
    let mut names = Vec::new();
    loop {
        run(&mut list, &mut t, &mut clock).expect("page");
        for f in list.files().expect("files").files {
            names.push(f.expect("file").file_name.raw().to_owned());
        }
        if !list.next_page().expect("next") {
            break;
        }
    }
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(list.pages() > 1, "several pages through a small buffer");
    drop(t);
    assert_eq!(conns.chunked_requests(), 0, "never chunked (client side)");
    assert_eq!(
        sim.stats().chunked_requests,
        0,
        "never chunked (server side)"
    );
    assert_eq!(sim.unfinished_large_files(), 0);
    sim.stats()
}

#[test]
fn esp_transport_end_to_end() {
    scenario(Faults::default());
}

#[test]
fn esp_transport_under_faults() {
    let st = scenario(Faults {
        seed: 3,
        upload_503_every: Some(3),
        expire_token_every: Some(5),
        too_many_requests_every: Some(7),
        retry_after_secs: 1,
        reset_upload_every: Some(4),
        ..Faults::default()
    });
    let f = st.faults;
    assert!(
        f.service_unavailable > 0
            && f.resets > 0
            && f.expired_tokens > 0
            && f.too_many_requests > 0,
        "{f:?}"
    );
}

#[test]
fn esp_transport_maps_connection_failures() {
    // Nothing listens on this port: a connect failure, retried, then reported.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut session = Session::new(
        Credentials::new("id", "key", &format!("http://127.0.0.1:{port}")).expect("creds"),
    );
    let mut body = [0u8; 256];
    let conns = HostConnection::new(Duration::from_secs(2));
    let mut t = EspTransport::new(|| Ok::<_, HostError>(conns.sibling()), &mut body);
    let mut buf = [0u8; 1024];
    struct Fast(u64);
    impl Clock for Fast {
        fn now_ms(&mut self) -> u64 {
            self.0
        }
        fn sleep_until_ms(&mut self, until: u64) {
            self.0 = until;
        }
    }
    let e = run(
        &mut Authorize::new(&mut session, &mut buf),
        &mut t,
        &mut Fast(0),
    )
    .expect_err("nobody listens");
    assert_eq!(
        e,
        b2_core::Error::Transport(b2_core::http::TransportError::Connect)
    );
    drop(t);
    assert_eq!(conns.requests(), 0);
}
