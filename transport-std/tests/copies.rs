//! Copies of any size end to end against `b2-sim` over real sockets: one `b2_copy_file`
//! under the cutoff, parallel `b2_copy_part`s through core's coordinator above it, across
//! buckets, by id or by name, with a range, with metadata kept or replaced; concatenation;
//! resume after an interruption; and the same under the simulator's faults.

mod common;

use b2_sim::{Faults, Sim};
use b2_transport_std::client::{
    Client, ClientError, CopyOptions, CopySource, ReplaceMetadata, RetryPolicy, UploadOptions,
};

const MB: u64 = 1_000_000;

fn sim_with(min_part: u64, faults: Faults) -> (Sim, Client) {
    start(Sim::builder().min_part_size(min_part).faults(faults))
}

/// `n` bytes of test data (see [`common::data`]).
fn data(n: u64, seed: u32) -> Vec<u8> {
    common::data(n as usize, seed)
}

/// Uploads `bytes` as `name` with a content type and one info entry; returns its id.
fn upload(c: &Client, bucket: &str, name: &str, bytes: &[u8]) -> String {
    let opts = UploadOptions {
        content_type: "text/x-src".into(),
        info: vec![("k".into(), "v".into())],
        ..UploadOptions::default()
    };
    c.upload_reader(bucket, bytes, name, &opts)
        .expect("upload")
        .file_id
}

fn opts(state: &std::path::Path) -> CopyOptions {
    CopyOptions {
        state_dir: Some(state.to_path_buf()),
        ..CopyOptions::default()
    }
}

#[test]
fn over_the_cutoff_a_copy_is_made_of_parallel_copy_parts_across_buckets() {
    let (sim, c) = sim_with(5 * MB, Faults::default());
    c.create_bucket("copy-src", false).expect("bucket");
    c.create_bucket("copy-dst", false).expect("bucket");
    let src = data(10 * MB + 123, 1);
    let id = upload(&c, "copy-src", "big.bin", &src);
    let state = tmpdir("parts");
    let o = CopyOptions {
        cutoff: 6 * MB,
        part_size: Some(5 * MB),
        threads: 3,
        ..opts(&state)
    };
    let before = c.stats().exchanges;
    let v = c
        .copy_file(&CopySource::Id(id), "copy-dst", "big-copy.bin", &o)
        .expect("copy");
    // get_file_info, start, two copy parts, finish (the bucket lookup is one more).
    let spent = c.stats().exchanges - before;
    assert!((5..=6).contains(&spent), "{spent} exchanges");
    assert_eq!(
        sim.file_bytes("copy-dst", "big-copy.bin"),
        Some(src.clone())
    );
    assert_eq!(v.size, src.len() as u64);
    assert_eq!(v.content_sha1.as_deref(), Some("none"), "a large file");
    // The source's metadata went to the large file's start, and its SHA-1 with it.
    assert_eq!(v.content_type.as_deref(), Some("text/x-src"));
    assert!(v.info.contains(&("k".into(), "v".into())), "{:?}", v.info);
    assert_eq!(v.sha1(), Some(sha1_hex(&src)));
    assert_eq!(sim.unfinished_large_files(), 0);
    // Nothing left behind in the checkpoint directory.
    let left = std::fs::read_dir(state.join("copies"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "ckpt"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(left, 0);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn ranges_and_metadata_replace_small_and_large_by_name() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("range-src", false).expect("bucket");
    c.create_bucket("range-dst", false).expect("bucket");
    let src = data(MB, 2);
    upload(&c, "range-src", "src.bin", &src);
    let by_name = CopySource::Name {
        bucket: "range-src".into(),
        name: "src.bin".into(),
    };
    let state = tmpdir("range");
    let replace = ReplaceMetadata {
        content_type: "text/x-new".into(),
        info: vec![("n".into(), "m".into())],
    };
    // Small: one b2_copy_file with the range, the metadata replaced.
    let o = CopyOptions {
        range: Some((10, 50_009)),
        replace: Some(replace.clone()),
        ..opts(&state)
    };
    let v = c
        .copy_file(&by_name, "range-dst", "small", &o)
        .expect("small copy");
    assert_eq!(
        sim.file_bytes("range-dst", "small"),
        Some(src[10..50_010].to_vec())
    );
    assert_eq!(v.content_sha1, Some(sha1_hex(&src[10..50_010])));
    assert_eq!(v.content_type.as_deref(), Some("text/x-new"));
    assert_eq!(v.info, vec![("n".to_string(), "m".to_string())]);
    // Small, metadata kept: the source's.
    let o = CopyOptions {
        range: Some((0, 99)),
        ..opts(&state)
    };
    let v = c
        .copy_file(&by_name, "range-dst", "kept", &o)
        .expect("copy");
    assert_eq!(v.content_type.as_deref(), Some("text/x-src"));
    assert_eq!(v.info, vec![("k".to_string(), "v".to_string())]);
    // Large: the range in parts, the metadata replaced at the start; no whole-file SHA-1
    // for a range.
    let o = CopyOptions {
        range: Some((1, 350_000)),
        replace: Some(replace),
        cutoff: 0,
        part_size: Some(100_000),
        ..opts(&state)
    };
    let v = c
        .copy_file(&by_name, "range-dst", "large", &o)
        .expect("large copy");
    assert_eq!(
        sim.file_bytes("range-dst", "large"),
        Some(src[1..350_001].to_vec())
    );
    assert_eq!(v.content_sha1.as_deref(), Some("none"));
    assert_eq!(v.content_type.as_deref(), Some("text/x-new"));
    assert_eq!(v.info, vec![("n".to_string(), "m".to_string())]);
    // A range past the end is refused before any copy.
    let o = CopyOptions {
        range: Some((0, MB)),
        ..opts(&state)
    };
    let e = c
        .copy_file(&by_name, "range-dst", "bad", &o)
        .expect_err("range");
    assert!(
        matches!(
            &e,
            ClientError::InvalidInput(b2_core::error::InvalidInput::Range)
        ),
        "{e}"
    );
    assert!(sim.file_bytes("range-dst", "bad").is_none());
    // A source that does not exist.
    let e = c
        .copy_file(
            &CopySource::Id("4_znope".into()),
            "range-dst",
            "x",
            &opts(&state),
        )
        .expect_err("missing");
    assert!(
        matches!(
            e,
            ClientError::B2 { status: 400, .. } | ClientError::NotFound(_)
        ),
        "{e}"
    );
    // Today's same-bucket alias still works.
    let v = c.copy("range-src", "src.bin", "alias").expect("alias");
    assert_eq!(v.size, MB);
    assert_eq!(sim.file_bytes("range-src", "alias"), Some(src));
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn concatenate_joins_remote_ranges_and_refuses_a_short_one_in_the_middle() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("cat-bucket", false).expect("bucket");
    let a = data(300_000, 3);
    let b = data(150_000, 4);
    let ia = upload(&c, "cat-bucket", "a", &a);
    upload(&c, "cat-bucket", "b", &b);
    let state = tmpdir("cat");
    let by_name = CopySource::Name {
        bucket: "cat-bucket".into(),
        name: "b".into(),
    };
    let sources = [
        (CopySource::Id(ia.clone()), Some((50_000, 249_999))),
        (by_name.clone(), None),
        (CopySource::Id(ia.clone()), Some((0, 9))),
    ];
    let o = CopyOptions {
        part_size: Some(100_000),
        ..opts(&state)
    };
    let v = c
        .concatenate(&sources, "cat-bucket", "joined", &o)
        .expect("concatenate");
    let mut want = a[50_000..250_000].to_vec();
    want.extend_from_slice(&b);
    want.extend_from_slice(&a[..10]);
    assert_eq!(sim.file_bytes("cat-bucket", "joined"), Some(want.clone()));
    assert_eq!(v.size, want.len() as u64);
    // A concatenation's metadata is b2/x-auto and no info unless replaced.
    assert_ne!(v.content_type.as_deref(), Some("text/x-src"));
    assert!(v.info.is_empty(), "{:?}", v.info);
    // A short range that is not the last: refused by core before any call.
    let before = c.stats().exchanges;
    let short = [
        (CopySource::Id(ia.clone()), Some((0, 9))),
        (CopySource::Id(ia), None),
    ];
    let e = c
        .concatenate(&short, "cat-bucket", "bad", &o)
        .expect_err("short");
    assert!(
        matches!(
            &e,
            ClientError::InvalidInput(b2_core::error::InvalidInput::CopySourceTooSmall)
        ),
        "{e}"
    );
    // Only the two sources were looked up: nothing was started.
    assert_eq!(c.stats().exchanges - before, 2);
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn an_interrupted_large_copy_resumes_from_its_checkpoint() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("resume-bucket", false).expect("bucket");
    let src = data(MB, 5);
    let id = upload(&c, "resume-bucket", "src", &src);
    let state = tmpdir("resume");
    let o = CopyOptions {
        cutoff: 0,
        part_size: Some(100_000),
        threads: 1,
        ..opts(&state)
    };
    // The interruption: one try per call, and the 6th call from now answers 429 — the
    // source's info (1), the start (2), parts 1 to 3 (3-5), part 4 (6) fails.
    let c = c.with_retry_policy(RetryPolicy {
        max_json_tries: 1,
        ..RetryPolicy::default()
    });
    sim.set_faults(Faults {
        too_many_requests_every: Some(6),
        retry_after_secs: 0,
        ..Faults::default()
    });
    let e = c
        .copy_file(&CopySource::Id(id.clone()), "resume-bucket", "copy", &o)
        .expect_err("interrupted");
    assert!(
        e.to_string().contains("too_many_requests") || e.to_string().contains("429"),
        "{e}"
    );
    assert_eq!(sim.unfinished_large_files(), 1, "kept for the resume");
    sim.set_faults(Faults::default());
    let c = c.with_retry_policy(RetryPolicy::default());
    let before = c.stats().exchanges;
    let v = c
        .copy_file(&CopySource::Id(id), "resume-bucket", "copy", &o)
        .expect("resumed");
    // The source's info, list_parts, the 7 parts B2 lacks, finish: parts 1-3 not again.
    assert_eq!(c.stats().exchanges - before, 10);
    assert_eq!(
        sim.unfinished_large_files(),
        0,
        "the same large file was finished"
    );
    assert_eq!(sim.file_bytes("resume-bucket", "copy"), Some(src.clone()));
    assert_eq!(v.sha1(), Some(sha1_hex(&src)));
    // Without a checkpoint (resume off), a failed large copy is cancelled, not left.
    let c = c.with_retry_policy(RetryPolicy {
        max_json_tries: 1,
        ..RetryPolicy::default()
    });
    sim.set_faults(Faults {
        too_many_requests_every: Some(6),
        retry_after_secs: 0,
        ..Faults::default()
    });
    let no_resume = CopyOptions { resume: false, ..o };
    let src_id = c.file_info("resume-bucket", "src").expect("src").file_id;
    c.copy_file(
        &CopySource::Id(src_id),
        "resume-bucket",
        "copy2",
        &no_resume,
    )
    .expect_err("interrupted");
    sim.set_faults(Faults::default());
    assert_eq!(sim.unfinished_large_files(), 0, "cancelled");
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn copies_survive_429s_expired_tokens_503_storms_and_lost_answers() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("fault-src", false).expect("bucket");
    c.create_bucket("fault-dst", false).expect("bucket");
    let src = data(900_001, 6);
    let id = upload(&c, "fault-src", "src", &src);
    let state = tmpdir("faults");
    sim.set_faults(Faults {
        too_many_requests_every: Some(7),
        expire_token_every: Some(11),
        lose_answer_every: Some(2),
        storm_503: 2,
        retry_after_secs: 0,
        ..Faults::default()
    });
    let o = CopyOptions {
        cutoff: 0,
        part_size: Some(100_000),
        threads: 4,
        ..opts(&state)
    };
    let v = c
        .copy_file(&CopySource::Id(id.clone()), "fault-dst", "large", &o)
        .expect("large copy under faults");
    assert_eq!(sim.file_bytes("fault-dst", "large"), Some(src.clone()));
    assert_eq!(v.size, src.len() as u64);
    let small = CopyOptions {
        range: Some((7, 70_006)),
        ..opts(&state)
    };
    c.copy_file(&CopySource::Id(id), "fault-dst", "small", &small)
        .expect("small copy under faults");
    assert_eq!(
        sim.file_bytes("fault-dst", "small"),
        Some(src[7..70_007].to_vec())
    );
    let f = sim.stats().faults;
    assert!(f.too_many_requests > 0 && f.expired_tokens > 0, "{f:?}");
    assert!(f.lost_answers > 0 && f.service_unavailable > 0, "{f:?}");
    sim.set_faults(Faults::default());
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn a_checkpoint_whose_large_file_was_cancelled_starts_a_new_copy() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("stale-bucket", false).expect("bucket");
    let src = data(500_000, 7);
    let id = upload(&c, "stale-bucket", "src", &src);
    let state = tmpdir("stale");
    let o = CopyOptions {
        cutoff: 0,
        part_size: Some(100_000),
        threads: 1,
        ..opts(&state)
    };
    let c = c.with_retry_policy(RetryPolicy {
        max_json_tries: 1,
        ..RetryPolicy::default()
    });
    sim.set_faults(Faults {
        too_many_requests_every: Some(4),
        retry_after_secs: 0,
        ..Faults::default()
    });
    c.copy_file(&CopySource::Id(id.clone()), "stale-bucket", "copy", &o)
        .expect_err("interrupted");
    sim.set_faults(Faults::default());
    let c = c.with_retry_policy(RetryPolicy::default());
    let unfinished: Vec<_> = c
        .unfinished("stale-bucket", "")
        .expect("list")
        .collect::<Result<_, _>>()
        .expect("unfinished");
    assert_eq!(unfinished.len(), 1);
    c.cancel_large_file(&unfinished[0].file_id).expect("cancel");
    let v = c
        .copy_file(&CopySource::Id(id), "stale-bucket", "copy", &o)
        .expect("a new copy");
    assert_ne!(v.file_id, unfinished[0].file_id);
    assert_eq!(sim.file_bytes("stale-bucket", "copy"), Some(src));
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(&state);
}

/// Versions of `name` in `bucket` (unfinished large files are not versions).
#[test]
fn small_copies_whose_answers_are_lost_leave_one_version_each() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("once-src", false).expect("bucket");
    c.create_bucket("once-dst", false).expect("bucket");
    let src = data(300_000, 8);
    let id = upload(&c, "once-src", "src", &src);
    let source = CopySource::Id(id);
    let state = tmpdir("once");
    // Every second copy B2 stores loses its answer: the copy is in B2, the client only sees
    // the connection drop.
    sim.set_faults(Faults {
        lose_answer_every: Some(2),
        ..Faults::default()
    });
    let replace = ReplaceMetadata {
        content_type: "text/x-new".into(),
        info: vec![("n".into(), "m".into())],
    };
    let cases: Vec<(&str, CopyOptions, Vec<u8>)> = vec![
        ("whole", opts(&state), src.clone()),
        (
            "range",
            CopyOptions {
                range: Some((5, 1_004)),
                ..opts(&state)
            },
            src[5..1_005].to_vec(),
        ),
        (
            "replaced",
            CopyOptions {
                range: Some((0, 99)),
                replace: Some(replace.clone()),
                ..opts(&state)
            },
            src[..100].to_vec(),
        ),
        (
            "said-new",
            CopyOptions {
                new_name: true,
                ..opts(&state)
            },
            src.clone(),
        ),
    ];
    for (name, o, want) in &cases {
        // Twice each, so that both the first copy of a name and a second one onto a name
        // whose newest version is identical lose an answer.
        for round in 1..=2 {
            let o = CopyOptions {
                new_name: o.new_name && round == 1,
                ..o.clone()
            };
            let v = c
                .copy_file(&source, "once-dst", name, &o)
                .unwrap_or_else(|e| panic!("{name} #{round}: {e}"));
            assert_eq!(v.size, want.len() as u64, "{name}");
            assert_eq!(sim.file_bytes("once-dst", name).as_ref(), Some(want));
            assert_eq!(
                versions(&c, "once-dst", name),
                round,
                "{name} #{round}: one version per copy"
            );
        }
    }
    let f = sim.stats().faults;
    assert!(f.lost_answers >= 4, "{f:?}");
    sim.set_faults(Faults::default());
    let _ = std::fs::remove_dir_all(&state);
}

/// Records every progress report.
#[derive(Default)]
struct Reports(std::sync::Mutex<Vec<(u64, Option<u64>)>>);

impl b2_transport_std::client::Progress for Reports {
    fn progress(&self, done: u64, total: Option<u64>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((done, total));
    }
}

#[test]
fn copies_report_progress_part_by_part() {
    let (_sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("progress", false).expect("bucket");
    let src = data(450_000, 9);
    let id = upload(&c, "progress", "src", &src);
    let state = tmpdir("progress");
    let reports = std::sync::Arc::new(Reports::default());
    let o = CopyOptions {
        cutoff: 0,
        part_size: Some(100_000),
        threads: 3,
        progress: Some(reports.clone()),
        ..opts(&state)
    };
    c.copy_file(&CopySource::Id(id.clone()), "progress", "large", &o)
        .expect("large copy");
    let total = src.len() as u64;
    let got = std::mem::take(&mut *reports.0.lock().expect("reports"));
    // Once after the start (nothing yet), once per part (4), once when finished.
    assert_eq!(got.len(), 6, "{got:?}");
    assert!(got.iter().all(|(_, t)| *t == Some(total)), "{got:?}");
    assert!(
        got.windows(2).all(|w| w[0].0 <= w[1].0),
        "never back: {got:?}"
    );
    assert_eq!(got.first().map(|r| r.0), Some(0));
    assert_eq!(got.last().map(|r| r.0), Some(total));
    // A small copy is one call: one report, all of it.
    let o = CopyOptions {
        range: Some((0, 999)),
        progress: Some(reports.clone()),
        ..opts(&state)
    };
    c.copy_file(&CopySource::Id(id), "progress", "small", &o)
        .expect("small copy");
    let got = std::mem::take(&mut *reports.0.lock().expect("reports"));
    assert_eq!(got, vec![(1_000, Some(1_000))]);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn a_key_that_may_not_list_still_copies_under_lost_answers_by_sending_again() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("nolist", false).expect("bucket");
    let src = data(2_000, 10);
    let id = upload(&c, "nolist", "src", &src);
    let key = c
        .create_key(
            "copy-no-list",
            &["listBuckets", "readFiles", "writeFiles"],
            None,
            None,
        )
        .expect("key");
    let w = Client::new(&key.id, &key.key, sim.url()).expect("client");
    let state = tmpdir("nolist");
    sim.set_faults(Faults {
        lose_answer_every: Some(2),
        ..Faults::default()
    });
    // The first copy is answered; the second is stored with its answer lost. This key
    // cannot look (B2 answers 401 to the listing), so it sends that copy again: the one
    // case that leaves a second version (core's rule, `op::copy`).
    for round in 1..=2 {
        let v = w
            .copy_file(&CopySource::Id(id.clone()), "nolist", "copy", &opts(&state))
            .unwrap_or_else(|e| panic!("#{round}: {e}"));
        assert_eq!(v.size, src.len() as u64);
    }
    sim.set_faults(Faults::default());
    assert_eq!(sim.file_bytes("nolist", "copy"), Some(src));
    assert_eq!(sim.stats().faults.lost_answers, 1);
    assert_eq!(
        versions(&c, "nolist", "copy"),
        3,
        "2 copies, one sent twice"
    );
    let _ = std::fs::remove_dir_all(&state);
}

// ---- Encryption and Object Lock on copies ----

use b2_core::wire::encryption::{CustomerKey, EncryptionMode};
use b2_core::wire::lock::{LegalHold, Retention, RetentionMode};
use b2_transport_std::client::{DownloadTarget, Sse};
use common::{sha1_hex, start, tmpdir, versions};

/// B2's status and code of a failed call (its 403 `access_denied` is the client's typed
/// `Unauthorized`).
fn status(e: &ClientError) -> Option<u16> {
    match e {
        ClientError::Unauthorized { status, .. } | ClientError::B2 { status, .. } => Some(*status),
        _ => None,
    }
}

/// Uploads `bytes` as `name`, encrypted as `sse` says; returns its id.
fn upload_sse(c: &Client, bucket: &str, name: &str, bytes: &[u8], sse: Option<Sse>) -> String {
    let opts = UploadOptions {
        content_type: "text/x-src".into(),
        info: vec![("k".into(), "v".into())],
        encryption: sse,
        ..UploadOptions::default()
    };
    c.upload_reader(bucket, bytes, name, &opts)
        .expect("upload")
        .file_id
}

/// Small (the default cutoff) and large (cutoff 0: parts of 100 KB) copy options.
fn both_sizes(state: &std::path::Path) -> [(&'static str, CopyOptions); 2] {
    [
        ("small", opts(state)),
        (
            "large",
            CopyOptions {
                cutoff: 0,
                part_size: Some(100_000),
                threads: 2,
                ..opts(state)
            },
        ),
    ]
}

fn download_with(c: &Client, id: &str, key: Option<&CustomerKey>) -> Result<Vec<u8>, ClientError> {
    let target = DownloadTarget::ById(id.to_owned());
    let mut got = Vec::new();
    match key {
        Some(k) => c.download_to_writer_with_key(&target, &mut got, None, None, k),
        None => c.download_to_writer(&target, &mut got, None, None),
    }
    .map(|_| got)
}

#[test]
fn an_sse_c_source_copies_to_an_sse_b2_file_small_and_large_with_its_key() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("ssec-src", false).expect("bucket");
    c.create_bucket("sseb2-dst", false).expect("bucket");
    let key = CustomerKey::new([21; 32]);
    let src = data(350_000, 11);
    let id = upload_sse(&c, "ssec-src", "src", &src, Some(Sse::C(key.clone())));
    let state = tmpdir("ssec-to-b2");
    for (size, o) in both_sizes(&state) {
        let o = CopyOptions {
            source_encryption: Some(Sse::C(key.clone())),
            destination_encryption: Some(Sse::B2),
            ..o
        };
        let name = format!("copy-{size}");
        let v = c
            .copy_file(&CopySource::Id(id.clone()), "sseb2-dst", &name, &o)
            .unwrap_or_else(|e| panic!("{size}: {e}"));
        assert_eq!(v.size, src.len() as u64, "{size}");
        assert_eq!(
            sim.file_bytes("sseb2-dst", &name),
            Some(src.clone()),
            "{size}"
        );
        let p = c.file_protection(&v.file_id).expect("protection");
        assert_eq!(p.encryption, Some(EncryptionMode::SseB2), "{size}");
        assert_eq!(p.customer_key_md5, None, "{size}");
        // SSE-B2 needs no key to read: the copy downloads without one.
        assert_eq!(
            download_with(&c, &v.file_id, None).expect("download"),
            src,
            "{size}"
        );
        // Metadata kept (read with b2_get_file_info, which needs no key).
        assert_eq!(v.content_type.as_deref(), Some("text/x-src"), "{size}");
        assert!(v.info.contains(&("k".into(), "v".into())), "{size}");
    }
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn an_sse_b2_source_copies_to_an_sse_c_file_readable_only_with_its_key() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("sse-to-c", false).expect("bucket");
    let key = CustomerKey::new([22; 32]);
    let other = CustomerKey::new([23; 32]);
    let src = data(250_000, 12);
    let id = upload_sse(&c, "sse-to-c", "src", &src, Some(Sse::B2));
    let state = tmpdir("b2-to-ssec");
    for (size, o) in both_sizes(&state) {
        let o = CopyOptions {
            destination_encryption: Some(Sse::C(key.clone())),
            ..o
        };
        let name = format!("copy-{size}");
        let v = c
            .copy_file(&CopySource::Id(id.clone()), "sse-to-c", &name, &o)
            .unwrap_or_else(|e| panic!("{size}: {e}"));
        let p = c.file_protection(&v.file_id).expect("protection");
        assert_eq!(p.encryption, Some(EncryptionMode::SseC), "{size}");
        assert_eq!(
            p.customer_key_md5,
            Some(format!(
                "{}",
                b2_core::encoding::Base64Bytes(&key.key_md5())
            )),
            "{size}"
        );
        assert_eq!(
            download_with(&c, &v.file_id, Some(&key)).expect("with the key"),
            src,
            "{size}"
        );
        for (what, k) in [("no key", None), ("another key", Some(&other))] {
            let e = download_with(&c, &v.file_id, k).expect_err(what);
            assert_eq!(status(&e), Some(403), "{size}, {what}: {e}");
        }
        // Copying the SSE-C copy on needs its key as the source's.
        let again = CopyOptions {
            source_encryption: Some(Sse::C(key.clone())),
            ..opts(&state)
        };
        let w = c
            .copy_file(
                &CopySource::Id(v.file_id.clone()),
                "sse-to-c",
                &format!("again-{size}"),
                &again,
            )
            .unwrap_or_else(|e| panic!("{size} again: {e}"));
        assert_eq!(download_with(&c, &w.file_id, None).expect("plain"), src);
    }
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn without_the_source_key_a_copy_of_an_sse_c_file_is_the_typed_403() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("ssec-nokey", false).expect("bucket");
    let key = CustomerKey::new([24; 32]);
    let src = data(250_000, 13);
    let id = upload_sse(&c, "ssec-nokey", "src", &src, Some(Sse::C(key)));
    let state = tmpdir("ssec-nokey");
    for (size, o) in both_sizes(&state) {
        for (what, source) in [
            ("no key", None),
            ("another key", Some(Sse::C(CustomerKey::new([25; 32])))),
        ] {
            let o = CopyOptions {
                source_encryption: source,
                resume: false,
                ..o.clone()
            };
            let name = format!("copy-{size}");
            let e = c
                .copy_file(&CopySource::Id(id.clone()), "ssec-nokey", &name, &o)
                .expect_err(what);
            assert!(
                matches!(e, ClientError::Unauthorized { status: 403, .. }),
                "{size}, {what}: {e:?}"
            );
            assert_eq!(sim.file_bytes("ssec-nokey", &name), None, "{size}, {what}");
        }
    }
    // The large attempts were cancelled (nothing resumes them without a checkpoint).
    assert_eq!(sim.unfinished_large_files(), 0);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn a_copy_carries_retention_and_legal_hold_to_its_new_file() {
    let (_sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("lock-src", false).expect("bucket");
    c.create_bucket_with_file_lock("lock-dst", false)
        .expect("locked bucket");
    let src = data(250_000, 14);
    let id = upload(&c, "lock-src", "src", &src);
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
        + 86_400_000;
    let state = tmpdir("lock");
    for (size, o) in both_sizes(&state) {
        let o = CopyOptions {
            retention: Some(Retention {
                mode: RetentionMode::Governance,
                retain_until_ms: until,
            }),
            legal_hold: Some(LegalHold::On),
            ..o
        };
        let name = format!("kept-{size}");
        let v = c
            .copy_file(&CopySource::Id(id.clone()), "lock-dst", &name, &o)
            .unwrap_or_else(|e| panic!("{size}: {e}"));
        let p = c.file_protection(&v.file_id).expect("protection");
        assert_eq!(
            p.retention,
            Some(Retention {
                mode: RetentionMode::Governance,
                retain_until_ms: until
            }),
            "{size}"
        );
        assert_eq!(p.legal_hold, Some(LegalHold::On), "{size}");
        let e = c.delete_version(&name, &v.file_id).expect_err("locked");
        assert_eq!(status(&e), Some(403), "{size}: {e}");
    }
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn a_large_sse_c_copy_resumes_only_with_the_destination_key_it_started_with() {
    let (sim, c) = sim_with(100_000, Faults::default());
    c.create_bucket("ssec-resume", false).expect("bucket");
    let (src_key, a, b) = (
        CustomerKey::new([26; 32]),
        CustomerKey::new([27; 32]),
        CustomerKey::new([28; 32]),
    );
    // 250 kB at parts of 100 kB: two parts of 125 kB (a copy cuts near-equal parts).
    let src = data(250_000, 15);
    let id = upload_sse(
        &c,
        "ssec-resume",
        "src",
        &src,
        Some(Sse::C(src_key.clone())),
    );
    let state = tmpdir("ssec-resume");
    let large = |source: Option<&CustomerKey>, dest: &CustomerKey| CopyOptions {
        cutoff: 0,
        part_size: Some(100_000),
        source_encryption: source.map(|k| Sse::C(k.clone())),
        destination_encryption: Some(Sse::C(dest.clone())),
        ..opts(&state)
    };
    let copy = |name: &str, o: &CopyOptions| {
        c.copy_file(&CopySource::Id(id.clone()), "ssec-resume", name, o)
    };
    // Stopped by B2 (no source key) after the start: the unfinished file and its
    // checkpoint stay. Run again with the source key and the same destination key: it
    // resumes that file, and nothing is left behind.
    let e = copy("same", &large(None, &a)).expect_err("no source key");
    assert_eq!(status(&e), Some(403), "{e}");
    assert_eq!(sim.unfinished_large_files(), 1);
    let v = copy("same", &large(Some(&src_key), &a)).expect("resumed");
    assert_eq!(
        sim.unfinished_large_files(),
        0,
        "the checkpoint's file was finished"
    );
    assert_eq!(download_with(&c, &v.file_id, Some(&a)).expect("key A"), src);
    // The same, but run again with another destination key: the checkpoint (made with key
    // A) is not used; a new file is made with key B, and A's unfinished file stays.
    let e = copy("other", &large(None, &a)).expect_err("no source key");
    assert_eq!(status(&e), Some(403), "{e}");
    let v = copy("other", &large(Some(&src_key), &b)).expect("a new file");
    assert_eq!(
        sim.unfinished_large_files(),
        1,
        "A's file was not resumed with key B"
    );
    assert_eq!(download_with(&c, &v.file_id, Some(&b)).expect("key B"), src);
    let e = download_with(&c, &v.file_id, Some(&a)).expect_err("key A");
    assert_eq!(status(&e), Some(403), "{e}");
    let _ = std::fs::remove_dir_all(&state);
}
