//! Scenarios: core operations (`Authorize`, `Call`, `UploadFile`, `Download`, `List`) run
//! through the ureq transport over real loopback sockets against `b2-sim` started in this
//! process, with the simulator's faults (503s, resets mid-body, expired tokens, 429s); every
//! byte is checked on the simulator's side (`Sim::file_bytes`, `Sim::stats`).
//!
//! Time is virtual: the clock jumps instead of sleeping and records each wait, so backoffs
//! are checked without slowing the suite. The per-state unit tests of the same operations,
//! with scripted answers, are in `core/src/op/tests/`.

// `b2_core::Error` is kept inline (no alloc in core): the helpers return it as it is.
#![allow(clippy::result_large_err)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use b2_core::driver::{run, run_counted, Clock, RunStats};
use b2_core::embedded_io;
use b2_core::op::{
    Authorize, Call, Download, FileParams, List, Listing, Target, UploadFile, UploadUrl,
};
use b2_core::session::{Credentials, Session};
use b2_core::wire::bucket::CreateBucket;
use b2_core::wire::file::GetFileInfo;
use b2_core::{Error, ErrorCode};
use b2_sim::{Faults, Sim};
use b2_transport_std::UreqTransport;

const BUCKET: &str = "core-ops";

/// A clock that jumps instead of sleeping and records every wait (milliseconds).
#[derive(Default)]
struct JumpClock {
    now: u64,
    waits: Vec<u64>,
}

impl Clock for JumpClock {
    fn now_ms(&mut self) -> u64 {
        self.now
    }
    fn sleep_until_ms(&mut self, until_ms: u64) {
        self.waits.push(until_ms.saturating_sub(self.now));
        self.now = self.now.max(until_ms);
    }
}

/// A sink collecting downloaded bytes.
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

/// Deterministic bytes of file `i`.
fn content(i: u64, len: usize) -> Vec<u8> {
    let mut x = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// One host: an authorized session on a simulator with a bucket, the ureq transport and a
/// jumping clock. The faults are switched on after the setup, so their counters start at
/// the scenario.
struct Host {
    sim: Sim,
    session: Session,
    bucket_id: String,
    t: UreqTransport,
    clock: JumpClock,
    buf: Vec<u8>,
    /// What the scenario's runs did (exchanges, transport errors, waits).
    stats: RunStats,
}

impl Host {
    fn new(faults: Faults) -> Host {
        let sim = Sim::start().expect("sim");
        let (id, key) = sim.master_key();
        let mut session = Session::new(Credentials::new(id, key, sim.url()).expect("creds"));
        let mut t = UreqTransport::default();
        let mut clock = JumpClock::default();
        let mut buf = vec![0u8; 2048];
        let create = CreateBucket {
            bucket_name: BUCKET,
            bucket_type: "allPrivate",
            ..CreateBucket::default()
        };
        let mut op = Call::new(&mut session, &mut buf, create);
        run(&mut op, &mut t, &mut clock).expect("create bucket");
        let bucket_id = op.answer().expect("bucket").bucket_id.raw().to_owned();
        drop(op);
        sim.set_faults(faults);
        Host {
            sim,
            session,
            bucket_id,
            t,
            clock,
            buf,
            stats: RunStats::default(),
        }
    }

    /// Uploads `data` as `name` (on `url` if given); returns the URL back and the run's
    /// figures.
    fn upload(
        &mut self,
        name: &str,
        data: &[u8],
        url: Option<UploadUrl>,
    ) -> Result<(Option<UploadUrl>, RunStats, u8), Error> {
        let mut params = FileParams::new(&self.bucket_id, name, data.len() as u64);
        params.info = &[("author", "core ops é+")];
        params.src_last_modified_millis = Some(1_700_000_000_123);
        let mut op = UploadFile::new(&mut self.session, &mut self.buf, params, data, url)?;
        let mut stats = RunStats::default();
        let r = run_counted(&mut op, &mut self.t, &mut self.clock, &mut stats);
        self.stats.add(&stats);
        r?;
        let f = op.file()?;
        assert_eq!(f.content_length, data.len() as u64);
        assert_eq!(f.file_name.raw(), name);
        assert_eq!(f.sha1(), Some(op.sha1()));
        let tried = op.urls_tried();
        Ok((op.take_upload_url(), stats, tried))
    }

    /// Downloads `target` whole; returns the bytes and whether they were SHA-1 verified.
    fn download(&mut self, target: Target<'_>) -> Result<(Vec<u8>, bool), Error> {
        let mut op = Download::new(&mut self.session, &mut self.buf, target, Sink::default())?;
        run_counted(&mut op, &mut self.t, &mut self.clock, &mut self.stats)?;
        let verified = op.info().verified;
        Ok((op.into_sink().0, verified))
    }

    fn stored(&self, name: &str) -> Option<Vec<u8>> {
        self.sim.file_bytes(BUCKET, name)
    }
}

#[test]
fn authorize_fills_the_session_and_a_wrong_key_is_final() {
    let sim = Sim::start().expect("sim");
    let (id, key) = sim.master_key();
    let mut t = UreqTransport::default();
    let mut clock = JumpClock::default();
    let mut buf = [0u8; 2048];

    let mut s = Session::new(Credentials::new(id, key, sim.url()).expect("creds"));
    run(&mut Authorize::new(&mut s, &mut buf), &mut t, &mut clock).expect("authorize");
    assert!(s.is_authorized());
    assert_eq!(
        (s.api_url.as_str(), s.download_url.as_str()),
        (sim.url(), sim.url())
    );
    assert_eq!(s.min_part_size, 5_000_000);
    assert_eq!(s.authorizations, 1);

    let before = sim.stats().requests;
    let mut s = Session::new(Credentials::new(id, "K00wrong", sim.url()).expect("creds"));
    let e =
        run(&mut Authorize::new(&mut s, &mut buf), &mut t, &mut clock).expect_err("a wrong key");
    assert_eq!(e.api().map(|a| a.status), Some(401));
    assert_eq!(sim.stats().requests - before, 1, "never retried");
    assert!(clock.waits.is_empty());
}

#[test]
fn small_uploads_arrive_byte_for_byte_on_one_url() {
    let mut h = Host::new(Faults::default());
    let before = h.sim.stats();
    let sizes = [0usize, 1, 100, 4096, 65_537, 300_000];
    let mut url = None;
    for (i, len) in sizes.iter().enumerate() {
        let data = content(i as u64, *len);
        let name = format!("small/{i} é+ x {len}.bin");
        let (back, _, tried) = h.upload(&name, &data, url.take()).expect("upload");
        assert_eq!(tried, 1);
        url = back;
        assert_eq!(h.stored(&name), Some(data), "{name}");
    }
    let st = h.sim.stats();
    assert_eq!(st.uploads - before.uploads, sizes.len() as u64);
    assert_eq!(st.uploads_sha1_at_end - before.uploads_sha1_at_end, 6);
    // One b2_get_upload_url, then every upload on the same URL.
    assert_eq!(st.requests - before.requests, 1 + sizes.len() as u64);
    assert_eq!(
        st.bytes_ingested - before.bytes_ingested,
        sizes.iter().map(|n| *n as u64 + 40).sum::<u64>()
    );
}

#[test]
fn a_503_on_upload_moves_to_a_new_url() {
    // The 503 comes after the whole body, so the connection stays usable. (Answered before
    // the body, the connection may be closed after the answer and the next request meet it
    // closed: one more transport error, retried; the storm scenario below has those.)
    let mut h = Host::new(Faults {
        upload_503_every: Some(2),
        upload_503_after_body: true,
        ..Faults::default()
    });
    let mut url = None;
    let mut tries = Vec::new();
    for i in 0..3u64 {
        let data = content(i, 10_000);
        let name = format!("f{i}");
        let (back, _, tried) = h.upload(&name, &data, url.take()).expect("upload");
        url = back;
        tries.push(tried);
        assert_eq!(h.stored(&name), Some(data));
    }
    // Uploads 2 and 4 were refused: the 2nd file needed a second URL, then the 3rd did.
    assert_eq!(tries, [1, 2, 2]);
    assert_eq!(h.sim.stats().faults.service_unavailable, 2);
    assert!(h.clock.waits.is_empty(), "a new URL needs no wait");
}

#[test]
fn five_failed_upload_urls_is_a_clear_error() {
    let mut h = Host::new(Faults {
        upload_503_every: Some(1),
        upload_503_after_body: true,
        ..Faults::default()
    });
    let e = h
        .upload("never", &content(1, 1000), None)
        .expect_err("every upload refused");
    assert_eq!(e, Error::UploadUrlsExhausted { tried: 5 });
    assert_eq!(h.sim.stats().faults.service_unavailable, 5);
    assert_eq!(h.stored("never"), None);
}

#[test]
fn a_reset_mid_body_sends_the_file_again() {
    let mut h = Host::new(Faults {
        reset_upload_every: Some(2),
        ..Faults::default()
    });
    let a = content(1, 200_000);
    let b = content(2, 300_000);
    let (url, _, _) = h.upload("a", &a, None).expect("a");
    let (_, stats, tried) = h.upload("b", &b, url).expect("b");
    assert_eq!(tried, 2);
    assert_eq!(stats.transport_errors, 1);
    assert_eq!(h.stored("a"), Some(a));
    assert_eq!(h.stored("b"), Some(b));
    let st = h.sim.stats();
    assert_eq!(st.faults.resets, 1);
    assert_eq!(st.uploads, 2);
}

#[test]
fn expired_tokens_reauthorize_and_every_call_carries_on() {
    let mut h = Host::new(Faults {
        expire_token_every: Some(2),
        ..Faults::default()
    });
    let auths = h.session.authorizations;
    let mut ids = Vec::new();
    for i in 0..4u64 {
        let data = content(i, 1000 + i as usize);
        let name = format!("t{i}");
        // Without a URL in hand each upload makes a JSON call (b2_get_upload_url).
        h.upload(&name, &data, None).expect("upload");
        assert_eq!(h.stored(&name), Some(data));
        let mut op = Call::new(
            &mut h.session,
            &mut h.buf,
            b2_core::wire::file::ListFileNames {
                bucket_id: &h.bucket_id,
                start_file_name: Some(&name),
                max_file_count: Some(1),
                prefix: None,
                delimiter: None,
            },
        );
        run(&mut op, &mut h.t, &mut h.clock).expect("list");
        let id = op
            .answer()
            .expect("page")
            .files
            .next()
            .expect("one file")
            .expect("file")
            .file_id
            .raw()
            .to_owned();
        ids.push(id);
    }
    for id in &ids {
        let mut op = Call::new(&mut h.session, &mut h.buf, GetFileInfo { file_id: id });
        run(&mut op, &mut h.t, &mut h.clock).expect("file info");
        assert_eq!(op.answer().expect("file").file_id.raw(), id);
    }
    let expired = h.sim.stats().faults.expired_tokens;
    assert!(expired >= 4, "{expired}");
    assert_eq!(u64::from(h.session.authorizations - auths), expired);
    assert!(h.clock.waits.is_empty(), "re-authorizing needs no wait");
}

#[test]
fn unauthorized_is_final() {
    let mut h = Host::new(Faults::default());
    // A key that may only list buckets: reading file info is `unauthorized`.
    let mut create = Call::new(
        &mut h.session,
        &mut h.buf,
        b2_core::wire::key::CreateKey {
            key_name: "list-only",
            capabilities: &["listBuckets"],
            valid_duration_in_seconds: None,
            bucket_ids: None,
            name_prefix: None,
        },
    );
    run(&mut create, &mut h.t, &mut h.clock).expect("create key");
    let k = create.answer().expect("key");
    let (kid, kkey) = (
        k.application_key_id.raw().to_owned(),
        k.application_key.expect("secret").raw().to_owned(),
    );
    drop(create);
    let mut s = Session::new(Credentials::new(&kid, &kkey, h.sim.url()).expect("creds"));
    let before = h.sim.stats().requests;
    let mut op = Call::new(&mut s, &mut h.buf, GetFileInfo { file_id: "4_zzz" });
    let e = run(&mut op, &mut h.t, &mut h.clock).expect_err("final");
    assert_eq!(e.api().map(|a| &a.code), Some(&ErrorCode::Unauthorized));
    // Authorize, then the call once.
    assert_eq!(h.sim.stats().requests - before, 2);
    assert_eq!(s.authorizations, 1);
}

#[test]
fn too_many_requests_waits_exactly_retry_after() {
    let mut h = Host::new(Faults {
        too_many_requests_every: Some(2),
        retry_after_secs: 3,
        ..Faults::default()
    });
    let data = content(9, 5000);
    h.upload("r", &data, None).expect("upload");
    for _ in 0..3 {
        let mut op = Call::new(
            &mut h.session,
            &mut h.buf,
            b2_core::wire::file::ListFileNames {
                bucket_id: &h.bucket_id,
                start_file_name: None,
                max_file_count: Some(10),
                prefix: None,
                delimiter: None,
            },
        );
        run_counted(&mut op, &mut h.t, &mut h.clock, &mut h.stats).expect("list");
    }
    let (got, verified) = h
        .download(Target::ByName {
            bucket: BUCKET,
            name: "r",
        })
        .expect("download");
    assert!(verified);
    assert_eq!(got, data);
    let n = h.sim.stats().faults.too_many_requests;
    assert!(n >= 4, "{n}");
    // Each 429 waited exactly `Retry-After` (a backoff is never a whole 3 s: 1 s + jitter
    // < 2 s, 2 s + jitter < 3 s, then ≥ 4 s). The simulator answers 429 before reading the
    // request body, so the connection may be closed under a pooled connection; a request
    // that meets it closed is a transport error, retried after a backoff (seen about once in
    // 20 runs): those are the only other waits.
    let exact = h.clock.waits.iter().filter(|w| **w == 3000).count();
    assert_eq!(exact as u64, n, "{:?}", h.clock.waits);
    assert_eq!(
        h.clock.waits.len() - exact,
        h.stats.transport_errors as usize,
        "{:?}",
        h.clock.waits
    );
}

#[test]
fn downloads_by_name_and_id_are_verified() {
    let mut h = Host::new(Faults::default());
    let data = content(3, 123_457);
    h.upload("dir/x y é.bin", &data, None).expect("upload");
    let (got, verified) = h
        .download(Target::ByName {
            bucket: BUCKET,
            name: "dir/x y é.bin",
        })
        .expect("by name");
    assert!(verified);
    assert_eq!(Some(got), h.stored("dir/x y é.bin"));

    let mut op = Call::new(
        &mut h.session,
        &mut h.buf,
        b2_core::wire::file::ListFileNames {
            bucket_id: &h.bucket_id,
            start_file_name: None,
            max_file_count: Some(1),
            prefix: None,
            delimiter: None,
        },
    );
    run(&mut op, &mut h.t, &mut h.clock).expect("list");
    let id = op
        .answer()
        .expect("page")
        .files
        .next()
        .expect("one")
        .expect("file")
        .file_id
        .raw()
        .to_owned();
    drop(op);
    let (got, verified) = h.download(Target::ById(&id)).expect("by id");
    assert!(verified);
    assert_eq!(got, data);

    // A range: the bytes asked for, not verifiable.
    let mut op = Download::new(
        &mut h.session,
        &mut h.buf,
        Target::ById(&id),
        Sink::default(),
    )
    .expect("op")
    .range(1000, 1999)
    .expect("range");
    run(&mut op, &mut h.t, &mut h.clock).expect("range");
    assert!(!op.info().verified);
    assert_eq!(op.info().file_size, data.len() as u64);
    assert_eq!(op.into_sink().0, &data[1000..2000]);
}

/// A TCP proxy in front of the simulator that can drop one connection after a number of
/// answer bytes: a download cut by the network, for real.
struct CutProxy {
    url: String,
    /// Answer bytes to let through on the next connection before dropping it (0: none).
    cut_next: Arc<AtomicU64>,
    connections: Arc<AtomicUsize>,
}

impl CutProxy {
    fn start(upstream: std::net::SocketAddr) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let cut_next = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (cut, conns) = (Arc::clone(&cut_next), Arc::clone(&connections));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let limit = cut.swap(0, Ordering::SeqCst);
                let (mut c_in, mut s_out) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_in, &mut s_out);
                    let _ = s_out.shutdown(Shutdown::Write);
                });
                std::thread::spawn(move || pipe_answers(server, client, limit));
            }
        });
        CutProxy {
            url,
            cut_next,
            connections,
        }
    }
}

/// Copies answers from `server` to `client`; with `limit > 0`, drops both after that many
/// bytes.
fn pipe_answers(mut server: TcpStream, mut client: TcpStream, limit: u64) {
    let mut passed = 0u64;
    let mut chunk = [0u8; 8192];
    loop {
        let room = if limit > 0 {
            (limit - passed).min(chunk.len() as u64) as usize
        } else {
            chunk.len()
        };
        if room == 0 {
            break;
        }
        match server.read(&mut chunk[..room]) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if client.write_all(&chunk[..n]).is_err() {
                    break;
                }
                passed += n as u64;
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

#[test]
fn a_download_cut_by_the_network_resumes_with_a_range_and_is_verified() {
    let mut h = Host::new(Faults::default());
    let data = content(4, 400_000);
    h.upload("cut.bin", &data, None).expect("upload");
    let proxy = CutProxy::start(h.sim.addr());
    // Downloads go through the proxy; the first connection drops after ~100 kB.
    h.session.download_url = proxy.url.as_str().try_into().expect("url");
    proxy.cut_next.store(100_000, Ordering::SeqCst);
    let before = h.sim.stats().requests;
    let mut op = Download::new(
        &mut h.session,
        &mut h.buf,
        Target::ByName {
            bucket: BUCKET,
            name: "cut.bin",
        },
        Sink::default(),
    )
    .expect("op");
    let stats = run(&mut op, &mut h.t, &mut h.clock).expect("download");
    assert_eq!(stats.exchanges, 2);
    assert_eq!(stats.transport_errors, 1);
    assert!(op.info().verified);
    assert_eq!(op.into_sink().0, data, "every byte once, in order");
    assert_eq!(h.sim.stats().requests - before, 2);
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 2);
}

#[test]
fn a_corrupted_download_is_refused() {
    let mut h = Host::new(Faults::default());
    let data = content(5, 50_000);
    h.upload("bad.bin", &data, None).expect("upload");
    // Rewrite one byte of the answer on its way: a proxy that flips the last byte.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let upstream = h.sim.addr();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let Ok(mut server) = TcpStream::connect(upstream) else {
                continue;
            };
            let (Ok(mut c_in), Ok(mut s_out)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
            });
            std::thread::spawn(move || {
                let mut all = Vec::new();
                let mut chunk = [0u8; 8192];
                // The answer is one head plus 50,000 bytes; flip the last one.
                while let Ok(n) = server.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    all.extend_from_slice(&chunk[..n]);
                    if let Some(end) = all.windows(4).position(|w| w == b"\r\n\r\n") {
                        if all.len() >= end + 4 + 50_000 {
                            break;
                        }
                    }
                }
                if let Some(last) = all.last_mut() {
                    *last ^= 0x40;
                }
                let _ = client.write_all(&all);
                let _ = client.shutdown(Shutdown::Both);
            });
        }
    });
    h.session.download_url = url.as_str().try_into().expect("url");
    let e = h
        .download(Target::ByName {
            bucket: BUCKET,
            name: "bad.bin",
        })
        .expect_err("corrupted");
    assert_eq!(e, Error::Sha1Mismatch);
}

#[test]
fn listing_pages_through_a_small_buffer_under_429s() {
    let mut h = Host::new(Faults::default());
    let mut names: Vec<String> = (0..30)
        .map(|i| format!("dir/{i:02}-{}", "n".repeat(200)))
        .collect();
    let mut url = None;
    for (i, n) in names.iter().enumerate() {
        let (back, _, _) = h
            .upload(n, &content(i as u64, 10), url.take())
            .expect("upload");
        url = back;
    }
    names.sort();
    h.sim.set_faults(Faults {
        too_many_requests_every: Some(3),
        ..Faults::default()
    });
    let mut list = List::new(
        &mut h.session,
        &mut h.buf,
        Listing::FileNames {
            bucket_id: &h.bucket_id,
            prefix: Some("dir/"),
            delimiter: None,
        },
    )
    .with_page_size(50);
    let mut seen = Vec::new();
    loop {
        run(&mut list, &mut h.t, &mut h.clock).expect("page");
        for f in list.files().expect("files").files {
            seen.push(f.expect("file").file_name.raw().to_owned());
        }
        if !list.next_page().expect("next") {
            break;
        }
    }
    assert_eq!(seen, names);
    assert!(list.page_size() < 50, "the page shrank to fit 2 KiB");
    assert!(list.pages() > 1);
    assert!(h.sim.stats().faults.too_many_requests > 0);
}

#[test]
fn small_uploads_survive_every_fault_at_once() {
    let mut h = Host::new(Faults {
        seed: 12,
        upload_503_every: Some(3),
        reset_upload_every: Some(5),
        expire_token_every: Some(4),
        too_many_requests_every: Some(9),
        retry_after_secs: 1,
        ..Faults::default()
    });
    let mut url = None;
    let mut expected = Vec::new();
    for i in 0..40u64 {
        let data = content(100 + i, (i as usize * 7919) % 150_000);
        let name = format!("storm/{i:02}");
        // Every fourth upload starts without a URL (a JSON call that may meet a fault).
        let given = if i % 4 == 0 { None } else { url.take() };
        let (back, _, _) = h.upload(&name, &data, given).expect("upload");
        url = back;
        expected.push((name, data));
    }
    for (name, data) in &expected {
        let (got, verified) = h
            .download(Target::ByName {
                bucket: BUCKET,
                name,
            })
            .expect("download");
        assert!(verified);
        assert_eq!(&got, data, "{name}");
        assert_eq!(h.stored(name).as_ref(), Some(data), "{name}");
    }
    let f = h.sim.stats().faults;
    assert!(
        f.service_unavailable > 0
            && f.resets > 0
            && f.expired_tokens > 0
            && f.too_many_requests > 0,
        "{f:?}"
    );
}
