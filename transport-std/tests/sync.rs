//! End to end: the synchronizer over real loopback sockets against `b2-sim`, in every
//! direction and with every policy.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use b2_sim::Sim;
use b2_transport_std::client::{Client, UploadOptions};
use b2_transport_std::sync::{
    CompareMode, DeletePolicy, Endpoint, EventKind, Filters, NewerPolicy, SyncEvent, SyncObserver,
    SyncOptions, SyncProgress, SyncReport, Synchronizer,
};

const DAY: Duration = Duration::from_secs(24 * 3600);

struct Env {
    sim: Sim,
    client: Client,
    dir: PathBuf,
}

impl Env {
    fn new(tag: &str) -> Env {
        let sim = Sim::builder().min_part_size(100_000).start().expect("sim");
        let (id, key) = sim.master_key();
        let client = Client::new(id, key, sim.url()).expect("client");
        let dir = std::env::temp_dir().join(format!("b2-sync-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp");
        client.create_bucket("sync-bucket", false).expect("bucket");
        Env { sim, client, dir }
    }

    /// Writes `rel` under `root` (directories made), with a modification time `age` ago.
    fn put(&self, root: &str, rel: &str, body: &[u8], age: Duration) -> PathBuf {
        let p = self.dir.join(root).join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, body).expect("write");
        set_age(&p, age);
        p
    }

    fn local(&self, root: &str) -> Endpoint {
        Endpoint::Local(self.dir.join(root))
    }

    fn sync(&self, src: &Endpoint, dst: &Endpoint, opts: SyncOptions) -> (SyncReport, Vec<String>) {
        let seen = Arc::new(Seen::default());
        let report = Synchronizer::new(&self.client, opts)
            .observer(seen.clone())
            .run(src, dst)
            .expect("sync");
        let lines = seen.lines.lock().expect("lines").clone();
        (report, lines)
    }

    /// Every version in the bucket: (name, action), newest first per name.
    fn versions(&self, bucket: &str) -> Vec<(String, String)> {
        self.client
            .ls(bucket, "", true, true)
            .expect("ls")
            .map(|f| {
                f.map(|f| (f.file_name, f.action.to_string()))
                    .expect("page")
            })
            .collect()
    }

    fn class_c(&self) -> u64 {
        self.sim.costs().total.class_c
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn set_age(p: &Path, age: Duration) {
    let t = SystemTime::now() - age;
    std::fs::File::options()
        .write(true)
        .open(p)
        .and_then(|f| f.set_modified(t))
        .expect("mtime");
}

fn mtime_ms(p: &Path) -> u128 {
    std::fs::metadata(p)
        .expect("meta")
        .modified()
        .expect("mtime")
        .duration_since(UNIX_EPOCH)
        .expect("epoch")
        .as_millis()
}

#[derive(Default)]
struct Seen {
    lines: Mutex<Vec<String>>,
    progress: Mutex<Vec<SyncProgress>>,
}

impl SyncObserver for Seen {
    fn event(&self, e: &SyncEvent) {
        self.lines.lock().expect("lines").push(e.to_string());
    }
    fn progress(&self, p: &SyncProgress) {
        self.progress.lock().expect("progress").push(*p);
    }
}

fn b2(prefix: &str) -> Endpoint {
    Endpoint::parse(&format!("b2://sync-bucket/{prefix}")).expect("endpoint")
}

fn count(lines: &[String], start: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(start)).count()
}

#[test]
fn sync_local_to_b2_uploads_what_differs_and_a_prefix_never_glues_names() {
    let e = Env::new("up");
    e.put("t", "a.txt", b"aaa", DAY);
    e.put("t", "sub/b.bin", &[7u8; 150_000], DAY);
    e.put("t", "sub/c", b"", DAY);
    e.put("t", "a0", b"zero", DAY);
    // `backups` without a trailing slash: names must be `backups/a.txt`, never `backupsa.txt`.
    let (r, lines) = e.sync(&e.local("t"), &b2("backups"), SyncOptions::default());
    assert_eq!((r.uploaded, r.errors), (4, 0), "{lines:?}");
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "backups/a.txt"),
        Some(b"aaa".to_vec())
    );
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "backups/sub/b.bin"),
        Some(vec![7u8; 150_000])
    );
    assert!(e
        .versions("sync-bucket")
        .iter()
        .all(|(n, _)| n.starts_with("backups/")));
    assert!(
        lines.contains(&"upload sub/b.bin (new)".to_string()),
        "{lines:?}"
    );
    assert_eq!(r.list_calls, 1);

    // Nothing changed: nothing sent, one list call (and only that on the simulator's bill).
    let c0 = e.class_c();
    let (r, lines) = e.sync(&e.local("t"), &b2("backups/"), SyncOptions::default());
    assert_eq!(
        (r.uploaded, r.unchanged, r.list_calls),
        (0, 4, 1),
        "{lines:?}"
    );
    assert_eq!(e.class_c() - c0, 1);

    // One file changes: only it goes.
    e.put("t", "a.txt", b"changed", Duration::ZERO);
    let (r, _) = e.sync(&e.local("t"), &b2("backups"), SyncOptions::default());
    assert_eq!((r.uploaded, r.unchanged), (1, 3));
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "backups/a.txt"),
        Some(b"changed".to_vec())
    );
}

#[test]
fn sync_restore_then_sync_back_uploads_nothing() {
    let e = Env::new("restore");
    e.put("t", "docs/x.txt", b"hello", 3 * DAY);
    e.put("t", "y.bin", &[1u8; 1000], DAY);
    e.sync(&e.local("t"), &b2("bk"), SyncOptions::default());
    // A file uploaded without src_last_modified_millis (from a stream): its upload time
    // stands for its modification time.
    e.client
        .upload_reader(
            "sync-bucket",
            &b"streamed"[..],
            "bk/s.txt",
            &UploadOptions::default(),
        )
        .expect("upload");

    let (r, lines) = e.sync(&b2("bk"), &e.local("restored"), SyncOptions::default());
    assert_eq!((r.downloaded, r.errors), (3, 0), "{lines:?}");
    let restored = e.dir.join("restored");
    assert_eq!(
        std::fs::read(restored.join("docs/x.txt")).expect("read"),
        b"hello"
    );
    assert_eq!(
        mtime_ms(&restored.join("docs/x.txt")),
        mtime_ms(&e.dir.join("t/docs/x.txt"))
    );

    let (r, lines) = e.sync(&e.local("restored"), &b2("bk"), SyncOptions::default());
    assert_eq!((r.uploaded, r.unchanged, r.errors), (0, 3, 0), "{lines:?}");
    // And the other way round too.
    let (r, _) = e.sync(&b2("bk"), &e.local("restored"), SyncOptions::default());
    assert_eq!((r.downloaded, r.unchanged, r.errors), (0, 3, 0));
}

#[test]
fn sync_b2_to_b2_copies_server_side() {
    let e = Env::new("copy");
    e.client.create_bucket("sync-other", false).expect("bucket");
    e.put("t", "a.txt", b"aaa", DAY);
    e.put("t", "d/b.txt", b"bbb", DAY);
    e.sync(&e.local("t"), &b2("src"), SyncOptions::default());
    e.client
        .upload_reader(
            "sync-bucket",
            &b"no mtime"[..],
            "src/s.txt",
            &UploadOptions::default(),
        )
        .expect("upload");
    let dst = Endpoint::parse("b2://sync-other/dst").expect("endpoint");
    let before = e.sim.stats().bytes_ingested;
    let (r, lines) = e.sync(&b2("src"), &dst, SyncOptions::default());
    assert_eq!((r.copied, r.errors), (3, 0), "{lines:?}");
    assert_eq!(e.sim.stats().bytes_ingested, before, "copies send no bytes");
    assert_eq!(
        e.sim.file_bytes("sync-other", "dst/d/b.txt"),
        Some(b"bbb".to_vec())
    );
    assert_eq!(
        e.sim.file_bytes("sync-other", "dst/s.txt"),
        Some(b"no mtime".to_vec())
    );
    // The copies carry their source's time: nothing to do next time, nothing "newer".
    let (r, lines) = e.sync(&b2("src"), &dst, SyncOptions::default());
    assert_eq!((r.copied, r.unchanged, r.errors), (0, 3, 0), "{lines:?}");
    assert_eq!(r.list_calls, 2);
}

#[test]
fn sync_compare_modes_and_threshold() {
    let e = Env::new("compare");
    let p = e.put("t", "f", b"1111", 2 * DAY);
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    // Same size, newer by half a second.
    let t0 = std::fs::metadata(&p)
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::write(&p, b"2222").expect("write");
    let t = t0 + Duration::from_millis(500);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .and_then(|f| f.set_modified(t))
        .expect("mtime");
    let mode = |compare, compare_threshold| SyncOptions {
        compare,
        compare_threshold,
        ..SyncOptions::default()
    };
    let (r, _) = e.sync(&e.local("t"), &b2(""), mode(CompareMode::Size, 0));
    assert_eq!(r.uploaded, 0, "same size");
    let (r, _) = e.sync(&e.local("t"), &b2(""), mode(CompareMode::None, 0));
    assert_eq!(r.uploaded, 0, "exists");
    let (r, _) = e.sync(&e.local("t"), &b2(""), mode(CompareMode::ModTime, 1000));
    assert_eq!(r.uploaded, 0, "within the threshold");
    let (r, _) = e.sync(&e.local("t"), &b2(""), mode(CompareMode::ModTime, 0));
    assert_eq!(r.uploaded, 1, "newer");
    assert_eq!(e.sim.file_bytes("sync-bucket", "f"), Some(b"2222".to_vec()));
    std::fs::write(&p, b"333").expect("write");
    set_age(&p, 3 * DAY);
    let (r, _) = e.sync(&e.local("t"), &b2(""), mode(CompareMode::Size, 0));
    assert_eq!(r.uploaded, 1, "size differs, although older");
}

#[test]
fn sync_newer_destination_fails_skips_or_is_replaced() {
    let e = Env::new("newer");
    let p = e.put("t", "f", b"new", DAY);
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    std::fs::write(&p, b"old!").expect("write");
    set_age(&p, 5 * DAY);
    let newer = |newer| SyncOptions {
        newer,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2(""), newer(NewerPolicy::Fail));
    assert_eq!((r.uploaded, r.errors), (0, 1));
    assert!(
        lines[0].starts_with("error f: destination is newer"),
        "{lines:?}"
    );
    let (r, lines) = e.sync(&e.local("t"), &b2(""), newer(NewerPolicy::Skip));
    assert_eq!((r.uploaded, r.skipped, r.errors), (0, 1, 0));
    assert_eq!(lines, ["skip f: destination is newer"]);
    assert_eq!(e.sim.file_bytes("sync-bucket", "f"), Some(b"new".to_vec()));
    let (r, _) = e.sync(&e.local("t"), &b2(""), newer(NewerPolicy::Replace));
    assert_eq!((r.uploaded, r.errors), (1, 0));
    assert_eq!(e.sim.file_bytes("sync-bucket", "f"), Some(b"old!".to_vec()));
}

#[test]
fn sync_delete_removes_every_version_of_what_the_source_lacks() {
    let e = Env::new("delete");
    let keep = e.put("t", "keep", b"1", 2 * DAY);
    let gone = e.put("t", "gone", b"1", 2 * DAY);
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    std::fs::write(&keep, b"22").expect("write");
    std::fs::write(&gone, b"22").expect("write");
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    assert_eq!(e.versions("sync-bucket").len(), 4);
    std::fs::remove_file(&gone).expect("rm");
    let opts = SyncOptions {
        delete: DeletePolicy::Delete,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2(""), opts.clone());
    // Both versions of `gone`, and the old version of `keep`.
    assert_eq!((r.deleted, r.errors), (3, 0), "{lines:?}");
    assert_eq!(
        e.versions("sync-bucket"),
        [("keep".to_string(), "upload".to_string())]
    );
    // A replaced file's old version goes once the new one is there.
    std::fs::write(&keep, b"333").expect("write");
    let (r, _) = e.sync(&e.local("t"), &b2(""), opts);
    assert_eq!((r.uploaded, r.deleted), (1, 1));
    assert_eq!(e.versions("sync-bucket").len(), 1);
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "keep"),
        Some(b"333".to_vec())
    );
}

#[test]
fn sync_hide_keeps_versions_and_keep_days_ages_them_out() {
    let e = Env::new("hide");
    let f = e.put("t", "f", b"v1", 20 * DAY);
    let g = e.put("t", "g", b"g", 20 * DAY);
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    std::fs::write(&f, b"v2").expect("write");
    set_age(&f, 10 * DAY);
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    std::fs::write(&f, b"v3").expect("write");
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    std::fs::remove_file(&g).expect("rm");

    let hide = SyncOptions {
        delete: DeletePolicy::Hide,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2(""), hide.clone());
    assert_eq!((r.hidden, r.deleted), (1, 0), "{lines:?}");
    assert_eq!(e.sim.file_bytes("sync-bucket", "g"), None);
    assert!(e
        .versions("sync-bucket")
        .contains(&("g".into(), "upload".into())));
    // Hidden already: not hidden again.
    let (r, _) = e.sync(&e.local("t"), &b2(""), hide);
    assert_eq!(r.hidden, 0);

    // Keep 5 days: `f`'s 10-day-old version was current until just now and stays; the
    // 20-day-old one goes. `g` (hidden now, 20 days old) keeps its marker: the marker
    // itself is new.
    let keep = SyncOptions {
        delete: DeletePolicy::KeepDays(5),
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2(""), keep);
    assert_eq!((r.deleted, r.hidden, r.errors), (1, 0, 0), "{lines:?}");
    let f_versions = e
        .versions("sync-bucket")
        .into_iter()
        .filter(|(n, _)| n == "f")
        .count();
    assert_eq!(f_versions, 2);
    assert_eq!(e.sim.file_bytes("sync-bucket", "f"), Some(b"v3".to_vec()));
}

#[test]
fn sync_b2_to_local_delete_removes_local_files() {
    let e = Env::new("localdel");
    e.put("t", "a", b"a", DAY);
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    e.put("out", "extra", b"x", DAY);
    let (r, _) = e.sync(&b2(""), &e.local("out"), SyncOptions::default());
    assert_eq!((r.downloaded, r.deleted), (1, 0));
    assert!(e.dir.join("out/extra").exists());
    let opts = SyncOptions {
        delete: DeletePolicy::Delete,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&b2(""), &e.local("out"), opts);
    assert_eq!((r.deleted, r.errors), (1, 0), "{lines:?}");
    assert!(!e.dir.join("out/extra").exists());
    assert!(e.dir.join("out/a").exists());
    // An empty source folder is refused unless allowed (it would empty the destination).
    std::fs::create_dir_all(e.dir.join("empty")).expect("mkdir");
    let del = || SyncOptions {
        delete: DeletePolicy::Delete,
        ..SyncOptions::default()
    };
    let refused = Synchronizer::new(&e.client, del()).run(&e.local("empty"), &b2(""));
    assert!(refused.is_err_and(|e| e.to_string().contains("is empty")));
    assert_eq!(e.sim.file_bytes("sync-bucket", "a"), Some(b"a".to_vec()));
    let allowed = SyncOptions {
        allow_empty_source: true,
        ..del()
    };
    let (r, _) = e.sync(&e.local("empty"), &b2(""), allowed);
    assert_eq!(r.deleted, 1);
    // Hiding needs a B2 destination.
    let hide = SyncOptions {
        delete: DeletePolicy::Hide,
        ..SyncOptions::default()
    };
    assert!(Synchronizer::new(&e.client, hide)
        .run(&b2(""), &e.local("out"))
        .is_err());
}

#[test]
fn sync_filters_leave_files_alone_on_both_sides() {
    let e = Env::new("filters");
    e.put("t", "a.log", b"1", DAY);
    e.put("t", "keep.log", b"1", DAY);
    e.put("t", "b.txt", b"1", DAY);
    e.put("t", "cache/x", b"1", DAY);
    e.put("t", "old.txt", b"1", 30 * DAY);
    e.put("t", "fresh.txt", b"1", Duration::ZERO);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("now");
    let re = |s: &str| Filters::regex(s).expect("regex");
    let opts = SyncOptions {
        filters: Filters {
            exclude: vec![re(r".*\.log")],
            include: vec![re("keep")],
            exclude_dirs: vec![re("cache")],
            exclude_modified_after: Some((now - DAY / 2).as_millis() as u64),
            exclude_modified_before: Some((now - 10 * DAY).as_millis() as u64),
        },
        delete: DeletePolicy::Delete,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2(""), opts.clone());
    assert_eq!(r.uploaded, 2, "{lines:?}");
    let names: Vec<String> = e.versions("sync-bucket").into_iter().map(|v| v.0).collect();
    assert_eq!(names, ["b.txt", "keep.log"]);
    // Files excluded at the source and present at the destination are not deleted.
    e.client
        .upload_reader(
            "sync-bucket",
            &b"x"[..],
            "cache/y",
            &UploadOptions::default(),
        )
        .expect("upload");
    e.client
        .upload_reader("sync-bucket", &b"x"[..], "z.log", &UploadOptions::default())
        .expect("upload");
    e.client
        .upload_reader(
            "sync-bucket",
            &b"x"[..],
            "old.txt",
            &UploadOptions::default(),
        )
        .expect("upload");
    let (r, lines) = e.sync(&e.local("t"), &b2(""), opts);
    assert_eq!((r.uploaded, r.deleted, r.errors), (0, 0, 0), "{lines:?}");
}

#[test]
fn sync_dry_run_reports_and_does_nothing() {
    let e = Env::new("dry");
    e.put("t", "a", b"a", DAY);
    e.put("t", "b", b"b", DAY);
    let opts = SyncOptions {
        dry_run: true,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2("p"), opts);
    assert_eq!(r.uploaded, 2);
    assert!(r.dry_run);
    assert_eq!(
        lines,
        ["(dry run) upload a (new)", "(dry run) upload b (new)"]
    );
    assert!(e.versions("sync-bucket").is_empty());
    assert_eq!(e.sim.stats().uploads, 0);
}

#[test]
fn sync_symlink_loops_are_not_followed_by_default_and_do_not_loop_when_followed() {
    let e = Env::new("loop");
    e.put("t", "sub/f", b"f", DAY);
    e.put("outside", "target.txt", b"linked", DAY);
    std::os::unix::fs::symlink("..", e.dir.join("t/sub/loop")).expect("symlink");
    std::os::unix::fs::symlink(e.dir.join("outside/target.txt"), e.dir.join("t/link.txt"))
        .expect("symlink");
    let (r, lines) = e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    assert_eq!((r.uploaded, r.skipped, r.errors), (1, 2, 0), "{lines:?}");
    assert_eq!(count(&lines, "skip "), 2);
    assert!(lines
        .iter()
        .any(|l| l.contains("sub/loop") && l.contains("not followed")));

    let follow = SyncOptions {
        follow_symlinks: true,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2(""), follow);
    // The file link is followed; the directory link back to an ancestor is reported.
    assert_eq!((r.uploaded, r.skipped, r.errors), (1, 1, 0), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("loop")), "{lines:?}");
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "link.txt"),
        Some(b"linked".to_vec())
    );
    assert_eq!(e.versions("sync-bucket").len(), 2);

    // A link to a directory, followed once; not followed with --delete, what is below its
    // name at the destination is left alone, not deleted.
    e.put("elsewhere", "inner.txt", b"in", DAY);
    std::os::unix::fs::symlink(e.dir.join("elsewhere"), e.dir.join("t/dirlink")).expect("symlink");
    let follow = SyncOptions {
        follow_symlinks: true,
        ..SyncOptions::default()
    };
    let (r, _) = e.sync(&e.local("t"), &b2(""), follow);
    assert_eq!(r.uploaded, 1);
    assert!(e
        .sim
        .file_bytes("sync-bucket", "dirlink/inner.txt")
        .is_some());
    let delete = SyncOptions {
        delete: DeletePolicy::Delete,
        ..SyncOptions::default()
    };
    let (r, lines) = e.sync(&e.local("t"), &b2(""), delete);
    assert_eq!(r.deleted, 0, "{lines:?}");
    assert!(e
        .sim
        .file_bytes("sync-bucket", "dirlink/inner.txt")
        .is_some());
}

#[test]
fn sync_names_b2_cannot_hold_are_reported_and_never_merged() {
    let e = Env::new("names");
    let t = e.dir.join("t");
    std::fs::create_dir_all(t.join("a")).expect("mkdir");
    // Two non-UTF-8 names a lossy conversion would make one (`x\u{FFFD}`).
    for raw in [&b"x\xff"[..], &b"x\xfe"[..]] {
        let p = t.join(std::ffi::OsStr::from_bytes(raw));
        std::fs::write(&p, raw).expect("write");
    }
    // A backslash is not a separator: `a\b.txt` must not become `a/b.txt`.
    std::fs::write(t.join("a\\b.txt"), b"backslash").expect("write");
    std::fs::write(t.join("a/b.txt"), b"real").expect("write");
    let (r, lines) = e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    assert_eq!((r.uploaded, r.skipped, r.errors), (1, 3, 0), "{lines:?}");
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "a/b.txt"),
        Some(b"real".to_vec())
    );
    assert_eq!(e.versions("sync-bucket").len(), 1);
    assert_eq!(count(&lines, "skip "), 3);
    assert!(lines.iter().any(|l| l.contains("UTF-8")));
    assert!(lines
        .iter()
        .any(|l| l.contains("a\\b.txt") && l.contains('\\')));

    // B2 names that cannot be local paths are reported when restoring.
    e.client
        .upload_reader("sync-bucket", &b"x"[..], "w\\x", &UploadOptions::default())
        .expect("upload");
    let (r, lines) = e.sync(&b2(""), &e.local("out"), SyncOptions::default());
    assert_eq!((r.downloaded, r.skipped), (1, 1), "{lines:?}");
    assert!(!e.dir.join("out/w\\x").exists());
}

#[test]
fn sync_one_bad_file_does_not_abort_the_run_unless_asked() {
    let e = Env::new("bad");
    for n in ["a", "b", "c", "d"] {
        e.put("t", n, n.as_bytes(), DAY);
    }
    e.sync(&e.local("t"), &b2(""), SyncOptions::default());
    // Locally `b` is a non-empty directory: downloading the file `b` there fails.
    e.put("out", "b/inside", b"x", DAY);
    let (r, lines) = e.sync(&b2(""), &e.local("out"), SyncOptions::default());
    assert_eq!((r.downloaded, r.errors), (3, 1), "{lines:?}");
    assert!(!r.is_success());
    assert!(
        r.failures[0].starts_with("error b: download failed"),
        "{:?}",
        r.failures
    );
    assert_eq!(std::fs::read(e.dir.join("out/d")).expect("read"), b"d");

    let _ = std::fs::remove_dir_all(e.dir.join("out2"));
    e.put("out2", "a/inside", b"x", DAY);
    let stop = SyncOptions {
        stop_on_error: true,
        threads: 1,
        ..SyncOptions::default()
    };
    let (r, _) = e.sync(&b2(""), &e.local("out2"), stop);
    assert_eq!(r.errors, 1);
    assert!(r.downloaded < 3, "stopped early: {}", r.downloaded);
}

#[test]
fn sync_lists_each_side_once_in_pages_of_a_thousand() {
    let e = Env::new("pages");
    for i in 0..1001 {
        e.put("t", &format!("d{}/f{i:04}", i % 7), b"x", DAY);
    }
    let opts = || SyncOptions {
        threads: 16,
        upload: UploadOptions {
            threads: 1,
            ..UploadOptions::default()
        },
        ..SyncOptions::default()
    };
    let seen = Arc::new(Seen::default());
    let r = Synchronizer::new(&e.client, opts())
        .observer(seen.clone())
        .run(&e.local("t"), &b2("many"))
        .expect("sync");
    assert_eq!((r.uploaded, r.list_calls), (1001, 1));
    let last = seen.progress.lock().expect("progress").last().copied();
    assert_eq!(last.map(|p| (p.compared, p.finished)), Some((1001, 1001)));
    let c0 = e.class_c();
    let (r, _) = e.sync(&e.local("t"), &b2("many"), opts());
    assert_eq!((r.uploaded, r.unchanged, r.list_calls), (0, 1001, 2));
    assert_eq!(e.class_c() - c0, 2);
    // With versions needed (--delete), one pass of the versions listing instead.
    let c0 = e.class_c();
    let del = SyncOptions {
        delete: DeletePolicy::Delete,
        ..opts()
    };
    let (r, _) = e.sync(&e.local("t"), &b2("many"), del);
    assert_eq!((r.deleted, r.list_calls), (0, 2));
    assert_eq!(e.class_c() - c0, 2);
    assert!(r.to_string().contains("1001 unchanged"), "{r}");
    let _ = EventKind::Upload;
}
