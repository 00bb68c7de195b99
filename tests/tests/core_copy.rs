//! Scenarios: core's `Copy` (one `b2_copy_file`, or copy parts through the coordinator one
//! after another, as a device runs it) through the ureq transport over real loopback
//! sockets against `b2-sim`: a large copy under faults, a ranged small copy with new
//! metadata, and a large copy interrupted, then resumed from its checkpoint. Time is
//! virtual (the clock jumps).

// `b2_core::Error` is kept inline (no alloc in core): the helpers return it as it is.
#![allow(clippy::result_large_err)]

use b2_core::driver::{run, Clock};
use b2_core::op::copy::{Copy, CopySpec, Metadata};
use b2_core::op::large::{remote, Checkpoint, RemoteRange, Resume};
use b2_core::op::{Authorize, Call, FileParams, UploadFile};
use b2_core::retry::RetryPolicy;
use b2_core::session::{Credentials, Session};
use b2_core::wire::bucket::CreateBucket;
use b2_core::Error;
use b2_sim::{Faults, Sim};
use b2_transport_std::UreqTransport;

const PART: u64 = 100_000;

#[derive(Default)]
struct JumpClock {
    now: u64,
}

impl Clock for JumpClock {
    fn now_ms(&mut self) -> u64 {
        self.now
    }
    fn sleep_until_ms(&mut self, until_ms: u64) {
        self.now = self.now.max(until_ms);
    }
}

struct Host {
    sim: Sim,
    session: Session,
    bucket_id: String,
    t: UreqTransport,
    clock: JumpClock,
    buf: Vec<u8>,
}

fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = (seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

impl Host {
    fn new() -> Host {
        let sim = Sim::builder().min_part_size(PART).start().expect("sim");
        let (id, key) = sim.master_key();
        let mut session = Session::new(Credentials::new(id, key, sim.url()).expect("creds"));
        let mut t = UreqTransport::default();
        let mut clock = JumpClock::default();
        let mut buf = vec![0u8; 4096];
        run(
            &mut Authorize::new(&mut session, &mut buf),
            &mut t,
            &mut clock,
        )
        .expect("authorize");
        let create = CreateBucket {
            bucket_name: "core-copy",
            bucket_type: "allPrivate",
            ..CreateBucket::default()
        };
        let mut op = Call::new(&mut session, &mut buf, create);
        run(&mut op, &mut t, &mut clock).expect("create bucket");
        let bucket_id = op.answer().expect("bucket").bucket_id.raw().to_owned();
        drop(op);
        Host {
            sim,
            session,
            bucket_id,
            t,
            clock,
            buf,
        }
    }

    /// Uploads `data` as `name`; returns its file id.
    fn upload(&mut self, name: &str, data: &[u8]) -> String {
        let mut params = FileParams::new(&self.bucket_id, name, data.len() as u64);
        params.content_type = "text/x-src";
        params.info = &[("k", "v")];
        let mut op =
            UploadFile::new(&mut self.session, &mut self.buf, params, data, None).expect("new");
        run(&mut op, &mut self.t, &mut self.clock).expect("upload");
        let id = op.file().expect("file").file_id.raw().to_owned();
        id
    }

    /// Runs a copy of `sources` to `name`; returns the new file's id, or the error and the
    /// checkpoint of a large copy that stopped.
    #[allow(clippy::too_many_arguments)]
    fn copy(
        &mut self,
        sources: &[RemoteRange<'_>],
        name: &str,
        metadata: Metadata<'_>,
        cutoff: u64,
        resume: Resume,
        digests: &mut [[u8; 20]],
        policy: RetryPolicy,
    ) -> Result<String, (Error, Vec<u8>)> {
        let spec = CopySpec::new(sources, &self.bucket_id, name, metadata);
        let mut op = Copy::new(
            &mut self.session,
            &mut self.buf,
            spec,
            cutoff,
            PART,
            digests,
            resume,
        )
        .map_err(|e| (e, Vec::new()))?
        .with_policy(policy);
        match run(&mut op, &mut self.t, &mut self.clock) {
            Ok(_) => Ok(op.file().expect("file").file_id.raw().to_owned()),
            Err(e) => {
                let mut cp = vec![0u8; 64 * 1024];
                let n = op.write_checkpoint(&mut cp).unwrap_or(0);
                cp.truncate(n);
                Err((e, cp))
            }
        }
    }
}

const KEEP: Metadata<'static> = Metadata::Copy {
    content_type: "text/x-src",
    info: &[("k", "v")],
};

#[test]
fn a_large_copy_under_faults_and_a_ranged_small_copy_with_new_metadata() {
    let mut h = Host::new();
    let src = bytes(650_000, 1);
    let id = h.upload("src", &src);
    h.sim.set_faults(Faults {
        too_many_requests_every: Some(4),
        expire_token_every: Some(7),
        storm_503: 1,
        retry_after_secs: 1,
        ..Faults::default()
    });
    let whole = [RemoteRange {
        file_id: &id,
        offset: 0,
        len: src.len() as u64,
    }];
    let (_, count) = remote::plan(&whole, PART, PART).expect("plan");
    assert_eq!(count, 6);
    let mut digests = vec![[0u8; 20]; count as usize];
    h.copy(
        &whole,
        "large",
        KEEP,
        0,
        Resume::No,
        &mut digests,
        RetryPolicy::default(),
    )
    .map_err(|(e, _)| e)
    .expect("large copy");
    assert_eq!(h.sim.file_bytes("core-copy", "large"), Some(src.clone()));
    let f = h.sim.stats().faults;
    assert!(f.too_many_requests > 0 && f.expired_tokens > 0, "{f:?}");
    h.sim.set_faults(Faults::default());
    let part = [RemoteRange {
        file_id: &id,
        offset: 123,
        len: 1000,
    }];
    let new = Metadata::Replace {
        content_type: "text/x-new",
        info: &[("n", "m")],
    };
    let small_id = h
        .copy(
            &part,
            "small",
            new,
            u64::MAX,
            Resume::No,
            &mut [],
            RetryPolicy::default(),
        )
        .map_err(|(e, _)| e)
        .expect("small copy");
    assert_eq!(
        h.sim.file_bytes("core-copy", "small"),
        Some(src[123..1123].to_vec())
    );
    let mut op = Call::new(
        &mut h.session,
        &mut h.buf,
        b2_core::wire::file::GetFileInfo { file_id: &small_id },
    );
    run(&mut op, &mut h.t, &mut h.clock).expect("info");
    let f = op.answer().expect("file");
    assert_eq!(f.content_type.map(|t| t.raw()), Some("text/x-new"));
    assert_eq!(f.content_length, 1000);
    assert_eq!(f.file_info.get("n").map(|t| t.raw()), Some("m"));
}

#[test]
fn an_interrupted_large_copy_resumes_from_its_checkpoint_over_the_network() {
    let mut h = Host::new();
    let src = bytes(800_000, 2);
    let id = h.upload("src", &src);
    let whole = [RemoteRange {
        file_id: &id,
        offset: 0,
        len: src.len() as u64,
    }];
    let mut digests = vec![[0u8; 20]; 8];
    // One try per call; the 5th call from now (start, parts 1 to 3, part 4) answers 429.
    h.sim.set_faults(Faults {
        too_many_requests_every: Some(5),
        retry_after_secs: 0,
        ..Faults::default()
    });
    let once = RetryPolicy {
        max_json_tries: 1,
        ..RetryPolicy::default()
    };
    let (e, cp) = h
        .copy(&whole, "copy", KEEP, 0, Resume::No, &mut digests, once)
        .expect_err("interrupted");
    assert!(matches!(e, Error::Api(ref a) if a.status == 429), "{e:?}");
    h.sim.set_faults(Faults::default());
    assert_eq!(h.sim.unfinished_large_files(), 1);
    let mut digests = vec![[0u8; 20]; 8];
    let head = Checkpoint::decode(&cp, &mut digests).expect("checkpoint");
    let done = digests.iter().filter(|d| **d != [0u8; 20]).count();
    assert_eq!(done, 3, "parts 1 to 3 recorded");
    let before = h.sim.stats().requests;
    h.copy(
        &whole,
        "copy",
        KEEP,
        0,
        Resume::Checkpoint(head),
        &mut digests,
        RetryPolicy::default(),
    )
    .map_err(|(e, _)| e)
    .expect("resumed");
    // list_parts, the 5 parts B2 lacks, finish.
    assert_eq!(h.sim.stats().requests - before, 7);
    assert_eq!(h.sim.unfinished_large_files(), 0);
    assert_eq!(h.sim.file_bytes("core-copy", "copy"), Some(src));
}
