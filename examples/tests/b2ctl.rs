//! End to end: the `b2ctl` binary against `b2-sim` over loopback.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use b2_sim::{Faults, Sim};
use common::{data, json_array, json_field, temps, Env};

/// The simulator these tests run against: 100,000-byte parts, `faults`.
fn start(tag: &str, faults: Faults) -> Env {
    Env::start(tag, Sim::builder().min_part_size(100_000).faults(faults))
}

#[test]
fn every_command() {
    let e = start("all", Faults::default());
    e.ok(&["bucket", "create", "cli-bucket"]);
    assert!(e.ok(&["bucket", "list"]).contains("cli-bucket"));
    let small = e.file("small.txt", b"hello");
    let id = e.ok(&[
        "upload",
        "cli-bucket",
        &small,
        "docs/a b+c é.txt",
        "--info",
        "k=v",
        "--content-type",
        "text/plain",
    ]);
    let id = id.trim();
    assert!(!id.is_empty());
    let big = data(250_001);
    let bigp = e.file("big.bin", &big);
    e.ok(&[
        "upload",
        "cli-bucket",
        &bigp,
        "big.bin",
        "--part-size",
        "100000",
        "--threads",
        "2",
    ]);
    assert_eq!(e.sim.file_bytes("cli-bucket", "big.bin"), Some(big.clone()));
    // stdin
    let stdin_args = [
        "upload",
        "cli-bucket",
        "-",
        "stdin.bin",
        "--part-size",
        "100000",
    ];
    assert!(e
        .b2ctl(&stdin_args)
        .stdin(big.clone())
        .output()
        .status
        .success());
    assert_eq!(
        e.sim.file_bytes("cli-bucket", "stdin.bin"),
        Some(big.clone())
    );

    e.ok(&["download", "cli-bucket", "big.bin", "back.bin"]);
    assert_eq!(std::fs::read(e.dir.join("back.bin")).expect("read"), big);
    let out = e.run(&["download", "cli-bucket", "docs/a b+c é.txt", "-"]);
    assert_eq!(out.stdout, b"hello");
    let out = e.run(&["download", "cli-bucket", "big.bin", "-", "--range", "10-19"]);
    assert_eq!(out.stdout, big[10..20]);
    e.ok(&["download", "cli-bucket", "big.bin", "synced.bin", "--fsync"]);
    assert_eq!(std::fs::read(e.dir.join("synced.bin")).expect("read"), big);
    e.ok(&["download-id", id, "byid.txt"]);
    assert_eq!(
        std::fs::read(e.dir.join("byid.txt")).expect("read"),
        b"hello"
    );

    let ls = e.ok(&["ls", "cli-bucket"]);
    assert!(ls.contains("docs/") && ls.contains("big.bin"), "{ls}");
    let ls = e.ok(&["ls", "cli-bucket", "docs/", "--recursive", "--json"]);
    assert!(
        ls.contains("\"fileName\"") && ls.contains("a b+c é.txt"),
        "{ls}"
    );
    let info = e.ok(&["info", "cli-bucket", "docs/a b+c é.txt", "--json"]);
    assert!(
        info.contains("\"contentSha1\"") && info.contains("\"k\""),
        "{info}"
    );
    e.ok(&["copy", "cli-bucket", "big.bin", "big-copy.bin"]);
    assert_eq!(e.sim.file_bytes("cli-bucket", "big-copy.bin"), Some(big));
    e.ok(&["hide", "cli-bucket", "big-copy.bin"]);
    assert_eq!(e.sim.file_bytes("cli-bucket", "big-copy.bin"), None);
    assert!(e
        .ok(&["ls", "cli-bucket", "", "--recursive", "--versions"])
        .contains("hide"));
    e.ok(&["rm", "cli-bucket", "big-copy.bin", "--all-versions"]);
    assert!(!e
        .ok(&["ls", "cli-bucket", "", "--recursive", "--versions"])
        .contains("big-copy.bin"));
    assert_eq!(e.ok(&["unfinished", "cli-bucket"]).trim(), "");

    let key = e.ok(&[
        "key",
        "create",
        "cli-key",
        "--caps",
        "listFiles,readFiles",
        "--bucket",
        "cli-bucket",
        "--prefix",
        "docs/",
    ]);
    let key_id = key.split_whitespace().next().expect("id").to_owned();
    assert!(e.ok(&["key", "list"]).contains(&key_id));
    let listed = json_array(&e.ok(&["key", "list", "--json"]));
    let ours = listed
        .iter()
        .find(|k| json_field(k, "applicationKeyId") == key_id)
        .expect("the new key in key list --json");
    assert_eq!(json_field(ours, "keyName"), "cli-key");
    assert!(
        ours.contains(r#""capabilities":["listFiles","readFiles"]"#),
        "{ours}"
    );
    e.ok(&["key", "delete", &key_id]);
    assert!(!e.ok(&["key", "list"]).contains(&key_id));

    // Errors: one clear line, non-zero status.
    let bad = e.run(&["bucket", "delete", "cli-bucket"]);
    assert!(!bad.status.success());
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(msg.lines().count(), 1, "{msg}");
    let bad = e.run(&["upload", "cli-bucket", &small, "/leading-slash"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'/'"));
    // Local paths are named in the message.
    let bad = e.run(&["upload", "cli-bucket", "no-such-file", "x"]);
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && msg.contains("cannot read no-such-file"),
        "{msg}"
    );
    e.ok(&["upload", "cli-bucket", &small, "keep.txt"]);
    let bad = e.run(&["download", "cli-bucket", "keep.txt", "no-such-dir/out"]);
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && msg.contains("cannot write into no-such-dir"),
        "{msg}"
    );
    let bad = e.run(&["sync", "no-such-dir", "b2://cli-bucket"]);
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && msg.contains("cannot read no-such-dir"),
        "{msg}"
    );
    // An unknown capability is warned about and sent; b2-sim, like B2's docs, refuses it.
    let bad = e.run(&["key", "create", "k", "--caps", "listFiles,notacap"]);
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && msg.contains("warning: unknown capability \"notacap\""),
        "{msg}"
    );
    // A wrong key names the realm it was sent to.
    let wrong = e
        .cmd(&["bucket", "list"])
        .env("B2_APPLICATION_KEY", "K000wrong")
        .output()
        .expect("run");
    let msg = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !wrong.status.success()
            && msg.contains(&format!("authorizing at {}", e.sim.url()))
            && msg.contains("401"),
        "{msg}"
    );
    let none = Command::new(env!("CARGO_BIN_EXE_b2ctl"))
        .args(["bucket", "list"])
        .env_remove("B2_APPLICATION_KEY_ID")
        .env_remove("B2_APPLICATION_KEY")
        .output()
        .expect("run");
    assert!(
        !none.status.success()
            && String::from_utf8_lossy(&none.stderr).contains("B2_APPLICATION_KEY_ID")
    );
}

#[test]
fn rm_never_unhides_and_unhide_removes_only_a_hide_marker() {
    let e = start("unhide", Faults::default());
    e.ok(&["bucket", "create", "unhide-cli"]);
    let p = e.file("u.txt", b"keep me");
    e.ok(&["upload", "unhide-cli", &p, "u.txt"]);
    e.ok(&["hide", "unhide-cli", "u.txt"]);
    let rm = e.run(&["rm", "unhide-cli", "u.txt"]);
    assert!(!rm.status.success());
    let err = String::from_utf8_lossy(&rm.stderr);
    assert!(err.contains("unhide"), "{err}");
    assert_eq!(e.sim.file_bytes("unhide-cli", "u.txt"), None);
    assert!(e
        .ok(&["unhide", "unhide-cli", "u.txt"])
        .contains("deleted hide marker"));
    assert_eq!(
        e.sim.file_bytes("unhide-cli", "u.txt").as_deref(),
        Some(&b"keep me"[..])
    );
    let again = e.run(&["unhide", "unhide-cli", "u.txt"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not hidden"));
    assert_eq!(
        e.sim.file_bytes("unhide-cli", "u.txt").as_deref(),
        Some(&b"keep me"[..])
    );
}

#[test]
fn corrupted_download_exits_non_zero_and_leaves_no_file() {
    let store = std::env::temp_dir().join(format!("b2ctl-test-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    let mut e = start("rot", Faults::default());
    e.sim = Sim::builder()
        .data_dir(&store)
        .start()
        .expect("sim on disk");
    e.ok(&["bucket", "create", "rot-bucket-cli"]);
    let bytes = data(30_000);
    let p = e.file("src.bin", &bytes);
    e.ok(&["upload", "rot-bucket-cli", &p, "rotten.bin"]);
    std::fs::remove_file(&p).expect("rm");
    // Bit rot in the server's store.
    let mut flipped = 0;
    for f in walk(&store) {
        if std::fs::read(&f).ok().as_deref() == Some(bytes.as_slice()) {
            let mut b = bytes.clone();
            b[77] ^= 1;
            std::fs::write(&f, b).expect("corrupt");
            flipped += 1;
        }
    }
    assert_eq!(flipped, 1);
    let bad = e.run(&["download", "rot-bucket-cli", "rotten.bin", "out.bin"]);
    assert!(!bad.status.success());
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(msg.contains("SHA-1") || msg.contains("sha1"), "{msg}");
    assert_eq!(
        std::fs::read_dir(&e.dir).expect("ls").count(),
        0,
        "no file and no temp file left"
    );
    let _ = std::fs::remove_dir_all(&store);
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn killed_upload_resumes_without_resending_parts() {
    let e = start(
        "resume",
        Faults {
            delay: Some(Duration::from_millis(150)),
            ..Faults::default()
        },
    );
    e.ok(&["bucket", "create", "resume-bucket"]);
    let big = data(1_000_000);
    let p = e.file("big.bin", &big);
    let args = [
        "upload",
        "resume-bucket",
        p.as_str(),
        "big.bin",
        "--part-size",
        "100000",
        "--threads",
        "2",
    ];
    let mut child = e
        .cmd(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    while e.sim.stats().uploads < 4 && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill");
    let _ = child.wait();
    let before = e.sim.stats();
    assert!(
        before.uploads >= 4 && before.uploads < 10,
        "killed mid-way: {before:?}"
    );
    assert_eq!(e.sim.unfinished_large_files(), 1);
    e.sim.set_faults(Faults::default());
    e.ok(&args);
    let after = e.sim.stats();
    assert_eq!(e.sim.file_bytes("resume-bucket", "big.bin"), Some(big));
    assert_eq!(e.sim.unfinished_large_files(), 0);
    let resent = after.uploads - before.uploads;
    assert!(
        resent <= 10 - before.uploads + 2,
        "parts already there were not sent again: {resent} uploads after {} before",
        before.uploads
    );
    assert!(resent < 10, "{resent}");
}

#[test]
fn sync_uploads_what_differs() {
    let e = start("sync", Faults::default());
    e.ok(&["bucket", "create", "sync-bucket"]);
    let src = e.dir.join("tree");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    for (n, body) in [
        ("a.txt", &b"aaa"[..]),
        ("sub/b.bin", &data(150_000)[..]),
        ("sub/c", &b""[..]),
    ] {
        std::fs::write(src.join(n), body).expect("write");
    }
    // The issue's loop: followed before, 205 uploads and exit 0.
    std::os::unix::fs::symlink("..", src.join("sub/loop")).expect("symlink");
    let s = src.to_string_lossy().into_owned();
    let o = e.run(&["sync", &s, "b2://sync-bucket/backup"]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{err}");
    assert!(out.contains("upload sub/b.bin (new)"), "{out}");
    assert!(
        out.contains("3 uploaded, 0 downloaded, 0 copied, 0 deleted, 0 hidden, 0 unchanged, 1 skipped, 0 failed"),
        "{out}"
    );
    assert!(
        err.contains("sub/loop: symbolic link, not followed"),
        "{err}"
    );
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "backup/sub/b.bin"),
        Some(data(150_000))
    );
    std::fs::write(src.join("a.txt"), b"changed").expect("write");
    assert!(e
        .ok(&["sync", &s, "b2://sync-bucket/backup/", "--follow-symlinks"])
        .contains(
            "1 uploaded, 0 downloaded, 0 copied, 0 deleted, 0 hidden, 2 unchanged, 1 skipped"
        ));
    assert_eq!(
        e.sim.file_bytes("sync-bucket", "backup/a.txt"),
        Some(b"changed".to_vec())
    );
    // Restore, then sync back: nothing to upload.
    let restored = e.dir.join("restored").to_string_lossy().into_owned();
    assert!(e
        .ok(&["sync", "b2://sync-bucket/backup", &restored])
        .contains("0 uploaded, 3 downloaded"));
    assert!(e
        .ok(&["sync", &restored, "b2://sync-bucket/backup"])
        .contains("0 uploaded, 0 downloaded, 0 copied, 0 deleted, 0 hidden, 3 unchanged"));
    // Dry run of a deletion: reported, not done.
    std::fs::remove_file(src.join("a.txt")).expect("rm");
    let out = e.ok(&[
        "sync",
        &s,
        "b2://sync-bucket/backup",
        "--delete",
        "--dry-run",
    ]);
    assert!(out.contains("(dry run) delete a.txt (version "), "{out}");
    assert!(e.sim.file_bytes("sync-bucket", "backup/a.txt").is_some());
    // A newer destination is an error by default: exit status non-zero.
    std::fs::write(src.join("sub/c"), b"").expect("write");
    let old = std::time::SystemTime::now() - Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(src.join("sub/c"))
        .and_then(|f| f.set_modified(old))
        .expect("mtime");
    let o = e.run(&["sync", &s, "b2://sync-bucket/backup"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("error sub/c: destination is newer"), "{err}");
    assert!(e
        .ok(&["sync", &s, "b2://sync-bucket/backup", "--skip-newer"])
        .contains("2 skipped, 0 failed")); // the newer file, and the symlink
}

#[test]
fn demo_runs_on_the_bundled_simulator() {
    let out = Command::new(env!("CARGO_BIN_EXE_b2ctl"))
        .args(["demo", "--size", "12000000"])
        .env_remove("B2_APPLICATION_KEY_ID")
        .env_remove("B2_APPLICATION_KEY")
        .output()
        .expect("demo");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("verify:   OK: 12000000 bytes"), "{text}");
}

#[test]
fn absurd_thread_counts_are_refused() {
    let env = start("threads", Faults::default());
    let f = env.file("t.bin", b"x");
    for n in ["0", "10000"] {
        let o = env.run(&["upload", "any-bucket", &f, "t.bin", "--threads", n]);
        assert!(!o.status.success(), "--threads {n} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("1..=64") || err.contains("64"), "{err}");
    }
}

#[test]
fn a_plain_http_realm_elsewhere_than_loopback_is_refused_unless_allowed() {
    let env = start("http", Faults::default());
    let mut c = env.cmd(&["bucket", "list"]);
    c.env("B2_ENVIRONMENT", "http://192.0.2.1:9");
    let o = c.output().expect("run");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("refusing the plain-http realm"), "{err}");
    // Opting in by name gets as far as connecting (nothing listens there: a timeout).
    let mut c = env.cmd(&["bucket", "list", "--allow-http", "--timeout", "1"]);
    c.env("B2_ENVIRONMENT", "http://192.0.2.1:9");
    let o = c.output().expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("refusing"), "{err}");
}

#[cfg(unix)]
#[test]
fn sigterm_or_ctrl_c_during_a_download_leaves_no_temporary_file() {
    let env = start("sigterm", Faults::default());
    env.ok(&["bucket", "create", "sig-bucket"]);
    let f = env.file("src.bin", &data(300_000));
    env.ok(&["upload", "sig-bucket", &f, "big.bin"]);
    // Every answer now takes 2 s: the download sits with its temporary file open.
    env.sim.set_faults(Faults {
        delay: Some(Duration::from_secs(2)),
        ..Faults::default()
    });
    for signal in ["-TERM", "-INT"] {
        let mut child = env
            .cmd(&["download", "sig-bucket", "big.bin", "out.bin"])
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t0 = Instant::now();
        while temps(&env.dir).is_empty() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "no temporary file appeared"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let ok = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(130), "{signal}");
        assert_eq!(temps(&env.dir), Vec::<PathBuf>::new(), "{signal}");
        assert!(!env.dir.join("out.bin").exists());
    }
}

/// `b2ctl` with no key in the environment, the account info at `info`, `stdin` fed in.
fn cached(env: &Env, info: &Path, args: &[&str], stdin: &str) -> Output {
    let run = env.b2ctl(args).no_key().env("B2_ACCOUNT_INFO", info);
    run.stdin(stdin).output()
}

fn cached_ok(env: &Env, info: &Path, args: &[&str], stdin: &str) -> String {
    let run = env.b2ctl(args).no_key().env("B2_ACCOUNT_INFO", info);
    run.stdin(stdin).ok()
}

#[test]
fn account_authorize_get_clear_and_a_restricted_key_from_the_cache() {
    use std::os::unix::fs::PermissionsExt;
    let env = start("account", Faults::default());
    let info = env.dir.join("conf").join("account.json");
    env.ok(&["bucket", "create", "acct-bucket"]);
    env.ok(&["bucket", "create", "acct-other"]);

    // The master key: id on the command line, key on stdin (never in the arguments).
    let (id, key) = env.sim.master_key();
    let said = cached_ok(
        &env,
        &info,
        &["account", "authorize", id],
        &format!("{key}\n"),
    );
    assert!(said.contains("authorized account"), "{said}");
    let mode = std::fs::metadata(&info).expect("info").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let saved = b2_transport_std::client::AccountInfo::load(&info)
        .expect("load")
        .expect("saved");
    let got = cached_ok(&env, &info, &["account", "get"], "");
    assert!(got.contains(id) && got.contains(&saved.account_id), "{got}");
    assert!(got.contains("listBuckets"), "{got}");
    assert!(!got.contains(key) && !got.contains(&saved.token), "{got}");
    let j = cached_ok(&env, &info, &["account", "get", "--json"], "");
    assert_eq!(json_field(&j, "accountId"), saved.account_id);
    assert_eq!(json_field(&j, "applicationKeyId"), id);
    assert!(j.contains("\"listBuckets\""), "{j}");
    assert!(!j.contains(key) && !j.contains(&saved.token), "{j}");
    assert!(
        b2_core::wire::json::fields(j.trim().as_bytes()).all(|f| f.is_ok()),
        "{j}"
    );
    // Other commands use it.
    let up = env.file("up.txt", b"cached upload");
    cached_ok(&env, &info, &["upload", "acct-bucket", &up, "up.txt"], "");
    assert_eq!(
        env.sim.file_bytes("acct-bucket", "up.txt").as_deref(),
        Some(&b"cached upload"[..])
    );

    // A key restricted to one bucket, without listBuckets: every command it may run works.
    let k = env.ok(&[
        "key",
        "create",
        "restricted",
        "--caps",
        "listFiles,readFiles,writeFiles,deleteFiles",
        "--bucket",
        "acct-bucket",
    ]);
    let (rid, rkey) = k.trim().split_once(' ').expect("id and key");
    cached_ok(
        &env,
        &info,
        &["account", "authorize", rid],
        &format!("{rkey}\n"),
    );
    let got = cached_ok(&env, &info, &["account", "get"], "");
    assert!(got.contains("allowed bucket:  acct-bucket"), "{got}");
    assert!(!got.contains(rkey), "{got}");
    let src = env.file("r.txt", b"restricted bytes");
    cached_ok(&env, &info, &["upload", "acct-bucket", &src, "r.txt"], "");
    let ls = cached_ok(&env, &info, &["ls", "acct-bucket"], "");
    assert!(ls.contains("r.txt") && ls.contains("up.txt"), "{ls}");
    let meta = cached_ok(&env, &info, &["info", "acct-bucket", "r.txt"], "");
    assert!(meta.contains("16"), "{meta}");
    cached_ok(
        &env,
        &info,
        &["download", "acct-bucket", "r.txt", "back.txt"],
        "",
    );
    assert_eq!(
        std::fs::read(env.dir.join("back.txt")).expect("back"),
        b"restricted bytes"
    );
    cached_ok(&env, &info, &["rm", "acct-bucket", "r.txt"], "");
    assert_eq!(env.sim.file_bytes("acct-bucket", "r.txt"), None);
    assert!(!cached(&env, &info, &["ls", "acct-other"], "")
        .status
        .success());

    // Cleared: no credentials any more, and a clear message.
    let cleared = cached_ok(&env, &info, &["account", "clear"], "");
    assert!(cleared.contains("removed"), "{cleared}");
    assert!(!info.exists());
    let o = cached(&env, &info, &["ls", "acct-bucket"], "");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("account authorize"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn download_threads_are_bounded() {
    let env = start("dl-threads", Faults::default());
    for n in ["0", "65", "10000"] {
        let o = env.run(&["download", "any-bucket", "x", "out.bin", "--threads", n]);
        assert!(!o.status.success(), "download --threads {n} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("1..=64") || err.contains("64"), "{err}");
    }
}

/// GET `url` (plain http on loopback): status and body.
fn http_get(url: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = common::http_get(url);
    (status, body)
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn file_commands_take_uris_and_print_b2_json() {
    let e = start("file", Faults::default());
    e.ok(&["bucket", "create", "file-bucket"]);
    e.ok(&["bucket", "create", "file-other"]);
    let src = e.file("a.txt", b"file bytes");
    let up = e.ok(&[
        "file",
        "upload",
        "file-bucket",
        &src,
        "docs/a b.txt",
        "--info",
        "k=v",
    ]);
    let up_lines = lines(&up);
    let by_name = up_lines[0]
        .strip_prefix("URL by file name: ")
        .unwrap_or_else(|| panic!("{up}"));
    assert!(
        by_name.ends_with("/file/file-bucket/docs/a%20b.txt"),
        "{up}"
    );
    assert!(up_lines[1].starts_with("URL by fileId: "), "{up}");
    let id = json_field(&up, "fileId");
    assert!(up_lines[1].ends_with(&format!("fileId={id}")), "{up}");
    assert_eq!(json_field(&up, "fileName"), "docs/a b.txt");

    // info by name and by id, short and official forms.
    let by_uri = e.ok(&["file", "info", "b2://file-bucket/docs/a b.txt"]);
    assert_eq!(json_field(&by_uri, "fileId"), id);
    assert!(by_uri.contains("\"k\":\"v\""), "{by_uri}");
    let by_id = e.ok(&["file", "info", &format!("b2id://{id}")]);
    assert_eq!(json_field(&by_id, "fileName"), "docs/a b.txt");
    let short = e.ok(&["info", "b2://file-bucket/docs/a b.txt"]);
    assert!(short.contains("fileName:    docs/a b.txt"), "{short}");
    let short = e.ok(&["info", &format!("b2id://{id}"), "--json"]);
    assert_eq!(json_field(&short, "fileId"), id);

    // download by URI (name and id), through the file command and the short one.
    e.ok(&[
        "file",
        "download",
        "b2://file-bucket/docs/a b.txt",
        "d1.txt",
    ]);
    assert_eq!(
        std::fs::read(e.dir.join("d1.txt")).expect("d1"),
        b"file bytes"
    );
    let o = e.run(&["file", "download", &format!("b2id://{id}"), "-"]);
    assert!(o.status.success());
    assert_eq!(o.stdout, b"file bytes");
    e.ok(&["download", "b2://file-bucket/docs/a b.txt", "d2.txt"]);
    assert_eq!(
        std::fs::read(e.dir.join("d2.txt")).expect("d2"),
        b"file bytes"
    );

    // url: the download URL works once the bucket is public.
    let url = e.ok(&["file", "url", "b2://file-bucket/docs/a b.txt"]);
    assert_eq!(url.trim(), by_name);
    let url_id = e.ok(&["file", "url", &format!("b2id://{id}")]);
    assert!(url_id.trim().ends_with(&format!("fileId={id}")), "{url_id}");
    assert_ne!(http_get(url.trim()).0, 200, "private bucket");
    e.ok(&["bucket", "update", "file-bucket", "allPublic"]);
    assert_eq!(http_get(url.trim()), (200, b"file bytes".to_vec()));
    assert_eq!(http_get(url_id.trim()), (200, b"file bytes".to_vec()));

    // hide and unhide by URI.
    let hid = e.ok(&["file", "hide", "b2://file-bucket/docs/a b.txt"]);
    assert_eq!(json_field(&hid, "action"), "hide");
    assert_eq!(e.sim.file_bytes("file-bucket", "docs/a b.txt"), None);
    let unhid = e.ok(&["file", "unhide", "b2://file-bucket/docs/a b.txt"]);
    assert_eq!(json_field(&unhid, "fileId"), json_field(&hid, "fileId"));
    assert_eq!(
        e.sim.file_bytes("file-bucket", "docs/a b.txt").as_deref(),
        Some(&b"file bytes"[..])
    );
    e.ok(&["hide", "b2://file-bucket/docs/a b.txt"]);
    assert!(e
        .ok(&["unhide", "file-bucket", "docs/a b.txt"])
        .contains("deleted hide marker"));

    // copy across buckets, by name and by id (official name too).
    let c = e.ok(&[
        "file",
        "copy",
        "b2://file-bucket/docs/a b.txt",
        "b2://file-other/copied.txt",
    ]);
    assert_eq!(json_field(&c, "fileName"), "copied.txt");
    assert_eq!(
        e.sim.file_bytes("file-other", "copied.txt").as_deref(),
        Some(&b"file bytes"[..])
    );
    e.ok(&[
        "file",
        "server-side-copy",
        &format!("b2id://{id}"),
        "b2://file-bucket/copy2.txt",
    ]);
    assert_eq!(
        e.sim.file_bytes("file-bucket", "copy2.txt").as_deref(),
        Some(&b"file bytes"[..])
    );

    // cancel unfinished large files: one by id, then the rest of the bucket.
    let (kid, key) = e.sim.master_key();
    let client = b2_transport_std::client::Client::new(kid, key, e.sim.url()).expect("client");
    let bucket_id = client
        .bucket("file-bucket")
        .expect("bucket")
        .id()
        .to_owned();
    let start = |name: &str| {
        client
            .call(
                b2_core::wire::large::StartLargeFile {
                    bucket_id: &bucket_id,
                    file_name: name,
                    content_type: "b2/x-auto",
                    file_info: &[],
                    server_side_encryption: None,
                    file_retention: None,
                    legal_hold: None,
                    custom_upload_timestamp: None,
                },
                |f| Ok(f.file_id.raw().to_owned()),
            )
            .expect("start")
    };
    let (u1, u2, u3) = (start("u1"), start("u2"), start("u3"));
    let unfinished = json_array(&e.ok(&["unfinished", "file-bucket", "--json"]));
    assert_eq!(unfinished.len(), 3, "{unfinished:?}");
    assert_eq!(
        e.ok(&["file", "cancel", &format!("b2id://{u2}")]).trim(),
        format!("{u2} canceled")
    );
    assert_eq!(e.sim.unfinished_large_files(), 2);
    let all = e.ok(&["file", "cancel", "b2://file-bucket"]);
    assert!(
        all.contains(&format!("{u1} canceled")) && all.contains(&format!("{u3} canceled")),
        "{all}"
    );
    assert_eq!(e.sim.unfinished_large_files(), 0);
    assert_eq!(e.ok(&["unfinished", "file-bucket", "--json"]).trim(), "[]");
}

/// Uploads `body` as `name` into `bucket`; returns the new version's id.
fn put(e: &Env, bucket: &str, name: &str, body: &[u8]) -> String {
    let p = e.file("put.tmp", body);
    e.ok(&["upload", bucket, &p, name]).trim().to_owned()
}

#[test]
fn ls_long_json_versions_recursive_as_the_official_tool() {
    let e = start("ls", Faults::default());
    e.ok(&["bucket", "create", "ls-bucket"]);
    put(&e, "ls-bucket", "a/1.txt", b"1");
    put(&e, "ls-bucket", "a/2.txt", b"22");
    put(&e, "ls-bucket", "a/sub/3.txt", b"333");
    put(&e, "ls-bucket", "top.txt", b"old");
    let top = put(&e, "ls-bucket", "top.txt", b"newer");
    e.ok(&["hide", "ls-bucket", "a/2.txt"]);

    assert_eq!(lines(&e.ok(&["ls", "b2://ls-bucket"])), ["a/", "top.txt"]);
    assert_eq!(lines(&e.ok(&["ls", "b2://ls-bucket/"])), ["a/", "top.txt"]);
    // A folder without its slash; hidden files are not listed.
    assert_eq!(
        lines(&e.ok(&["ls", "b2://ls-bucket/a"])),
        ["a/1.txt", "a/sub/"]
    );
    assert_eq!(
        lines(&e.ok(&["ls", "-r", "b2://ls-bucket/a/"])),
        ["a/1.txt", "a/sub/3.txt"]
    );
    assert_eq!(
        lines(&e.ok(&["ls", "--recursive", "--versions", "b2://ls-bucket"])),
        [
            "a/1.txt",
            "a/2.txt",
            "a/2.txt",
            "a/sub/3.txt",
            "top.txt",
            "top.txt"
        ]
    );
    // A path naming a file is that file.
    assert_eq!(lines(&e.ok(&["ls", "b2://ls-bucket/top.txt"])), ["top.txt"]);
    assert_eq!(
        lines(&e.ok(&["ls", "--versions", "b2://ls-bucket/top.txt"])).len(),
        2
    );

    // --long: id, action, date, time, size, name in the official tool's columns.
    let long = e.ok(&["ls", "--long", "b2://ls-bucket/top.txt"]);
    let line = long.lines().next().expect("a line");
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(f.len(), 6, "{line}");
    assert_eq!(
        (f[0], f[1], f[4], f[5]),
        (top.as_str(), "upload", "5", "top.txt")
    );
    let (date, time) = (f[2].as_bytes(), f[3].as_bytes());
    assert!(
        date.len() == 10 && date[4] == b'-' && date[7] == b'-',
        "{line}"
    );
    assert!(
        time.len() == 8 && time[2] == b':' && time[5] == b':',
        "{line}"
    );
    assert!(line.starts_with(&format!("{top:>83}  upload  ")), "{line}");
    // Date and time are the upload timestamp's, in UTC (as GNU date prints them).
    let info = e.ok(&["info", "ls-bucket", "top.txt", "--json"]);
    let key = "\"uploadTimestamp\":";
    let at = info.find(key).expect("uploadTimestamp") + key.len();
    let ms: u64 = info[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|d| d.parse().ok())
        .expect("ms");
    let gnu = Command::new("date")
        .args(["-u", "-d", &format!("@{}", ms / 1000), "+%Y-%m-%d %H:%M:%S"])
        .output()
        .expect("date");
    assert_eq!(
        String::from_utf8_lossy(&gnu.stdout).trim(),
        format!("{} {}", f[2], f[3])
    );
    let long = e.ok(&["ls", "-l", "b2://ls-bucket"]);
    let folder = long.lines().next().expect("folder line");
    assert_eq!(
        folder.split_whitespace().collect::<Vec<_>>(),
        ["-", "-", "-", "-", "0", "a/"],
        "{long}"
    );

    // --json: one JSON array of B2's objects, camelCase.
    let j = json_array(&e.ok(&["ls", "--json", "-r", "b2://ls-bucket/a"]));
    assert_eq!(j.len(), 2);
    assert_eq!(json_field(&j[1], "fileName"), "a/sub/3.txt");
    assert!(j[1].contains("\"contentLength\":3"), "{}", j[1]);
    let j = json_array(&e.ok(&["ls", "--json", "--versions", "b2://ls-bucket/a/2.txt"]));
    assert_eq!(
        j.iter()
            .map(|o| json_field(o, "action"))
            .collect::<Vec<_>>(),
        ["hide", "upload"]
    );
    assert!(json_array(&e.ok(&["ls", "--json", "b2://ls-bucket/nothing/"])).is_empty());

    // The short form is as it was: a plain prefix, size action name id.
    let short = e.ok(&["ls", "ls-bucket", "a/", "--recursive"]);
    let first: Vec<&str> = short
        .lines()
        .next()
        .expect("line")
        .split_whitespace()
        .collect();
    assert_eq!(first[..3], ["1", "upload", "a/1.txt"], "{short}");
    assert_eq!(lines(&e.ok(&["ls", "ls-bucket", "to"])).len(), 1);
    let long = e.ok(&["ls", "ls-bucket", "top", "--long"]);
    assert!(long.contains(&top) && long.contains("top.txt"), "{long}");

    // No argument: the buckets.
    assert!(e.ok(&["ls"]).contains("ls-bucket"));
    let buckets = json_array(&e.ok(&["ls", "--json"]));
    assert_eq!(json_field(&buckets[0], "bucketName"), "ls-bucket");
    // --long with --json is a usage error.
    let o = e.run(&["ls", "--long", "--json", "b2://ls-bucket"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn rm_recursive_versions_dry_run_as_the_official_tool() {
    let e = start("rm", Faults::default());
    e.ok(&["bucket", "create", "rm-bucket"]);
    let old1 = put(&e, "rm-bucket", "d/1", b"old one");
    let new1 = put(&e, "rm-bucket", "d/1", b"new one");
    let two = put(&e, "rm-bucket", "d/2", b"two");
    let three = put(&e, "rm-bucket", "d/sub/3", b"three");
    put(&e, "rm-bucket", "keep.txt", b"keep");
    put(&e, "rm-bucket", "d2", b"not in d/");

    // Dry run: what would go, in ls --long lines; nothing deleted.
    let dry = e.ok(&["rm", "--dry-run", "--recursive", "b2://rm-bucket/d"]);
    let ids: Vec<&str> = dry
        .lines()
        .map(|l| l.split_whitespace().next().expect("id"))
        .collect();
    assert_eq!(ids, [new1.as_str(), two.as_str(), three.as_str()], "{dry}");
    let dry = e.ok(&["rm", "--dry-run", "--versions", "-r", "b2://rm-bucket/d/"]);
    assert_eq!(dry.lines().count(), 4, "{dry}");
    assert!(dry.contains(&old1), "{dry}");
    // The short form with a new flag means the same path.
    let dry = e.ok(&["rm", "rm-bucket", "d", "--dry-run", "--recursive"]);
    assert_eq!(dry.lines().count(), 3, "{dry}");
    assert_eq!(
        e.sim.file_bytes("rm-bucket", "d/1").as_deref(),
        Some(&b"new one"[..])
    );

    // Without --recursive: the folder's own files; without --versions: the newest only,
    // so the older version of d/1 shows again.
    let out = e.ok(&["rm", "b2://rm-bucket/d"]);
    assert_eq!(out.trim(), "deleted 2 version(s)");
    assert_eq!(
        e.sim.file_bytes("rm-bucket", "d/1").as_deref(),
        Some(&b"old one"[..])
    );
    assert_eq!(e.sim.file_bytes("rm-bucket", "d/2"), None);
    assert!(e.sim.file_bytes("rm-bucket", "d/sub/3").is_some());
    assert!(e.sim.file_bytes("rm-bucket", "d2").is_some());

    // --versions --recursive: every version under d/, nothing else.
    e.ok(&["hide", "rm-bucket", "d/sub/3"]);
    let out = e.ok(&[
        "rm",
        "--versions",
        "--recursive",
        "b2://rm-bucket/d/",
        "--threads",
        "3",
    ]);
    assert_eq!(out.trim(), "deleted 3 version(s)");
    assert_eq!(
        e.ok(&["ls", "-r", "--versions", "b2://rm-bucket/d/"])
            .trim(),
        ""
    );
    assert!(e.sim.file_bytes("rm-bucket", "keep.txt").is_some());
    assert!(e.sim.file_bytes("rm-bucket", "d2").is_some());

    // A path naming a file; a version by id.
    assert_eq!(
        e.ok(&["rm", "b2://rm-bucket/d2"]).trim(),
        "deleted 1 version(s)"
    );
    assert_eq!(e.sim.file_bytes("rm-bucket", "d2"), None);
    let k = json_field(
        &e.ok(&["file", "info", "b2://rm-bucket/keep.txt"]),
        "fileId",
    );
    let dry = e.ok(&["rm", "--dry-run", &format!("b2id://{k}")]);
    assert!(dry.contains(&k) && dry.contains("keep.txt"), "{dry}");
    assert!(e.sim.file_bytes("rm-bucket", "keep.txt").is_some());
    e.ok(&["rm", &format!("b2id://{k}")]);
    assert_eq!(e.sim.file_bytes("rm-bucket", "keep.txt"), None);
    // Nothing there: nothing to do.
    assert_eq!(
        e.ok(&["rm", "-r", "b2://rm-bucket/none/"]).trim(),
        "deleted 0 version(s)"
    );
    // Neither a name nor --recursive: a usage error.
    assert_eq!(e.run(&["rm", "rm-bucket"]).status.code(), Some(2));
}

#[test]
fn bucket_get_and_update_show_every_field() {
    let e = start("bucket", Faults::default());
    e.ok(&["bucket", "create", "get-bucket"]);
    let text = e.ok(&["bucket", "get", "get-bucket"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("name:") && l.ends_with(" get-bucket")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("type:") && l.ends_with(" allPrivate")),
        "{text}"
    );
    assert!(text.contains("revision:"), "{text}");
    let json = e.ok(&["bucket", "get", "get-bucket", "--json"]);
    assert_eq!(json_field(&json, "bucketName"), "get-bucket");
    assert!(
        json.contains("\"bucketId\"") && json.contains("\"revision\""),
        "{json}"
    );
    let updated = e.ok(&["bucket", "update", "get-bucket", "allPublic", "--json"]);
    assert_eq!(json_field(&updated, "bucketType"), "allPublic");
    assert_eq!(
        json_field(
            &e.ok(&["bucket", "get", "get-bucket", "--json"]),
            "bucketType"
        ),
        "allPublic"
    );
    assert!(e.ok(&["bucket", "list"]).contains("allPublic"));
    let list = json_array(&e.ok(&["bucket", "list", "--json"]));
    assert_eq!(list.len(), 1);
    assert_eq!(json_field(&list[0], "bucketType"), "allPublic");
    e.ok(&["bucket", "update", "get-bucket", "allPrivate"]);
    assert!(e
        .ok(&["bucket", "get", "get-bucket"])
        .contains("allPrivate"));

    // --show-size: every version and hide marker, as the official tool counts them.
    put(&e, "get-bucket", "s/a", b"12345");
    put(&e, "get-bucket", "s/a", b"123");
    put(&e, "get-bucket", "b", b"1234567");
    e.ok(&["hide", "get-bucket", "b"]);
    let sized = e.ok(&["bucket", "get", "get-bucket", "--show-size", "--json"]);
    assert!(
        sized.contains("\"fileCount\":4,\"totalSize\":15}"),
        "{sized}"
    );
    assert!(
        b2_core::wire::json::fields(sized.trim().as_bytes()).all(|f| f.is_ok()),
        "{sized}"
    );
    let text = e.ok(&["bucket", "get", "get-bucket", "--show-size"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("totalSize:") && l.ends_with(" 15")),
        "{text}"
    );
    assert!(!e.ok(&["bucket", "get", "get-bucket"]).contains("fileCount"));
    let o = e.run(&["bucket", "get", "no-such-bucket"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Bucket types are an open set: an unknown one goes to B2, which refuses it.
    let o = e.run(&["bucket", "update", "get-bucket", "snapshotty"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(e
        .ok(&["bucket", "get", "get-bucket"])
        .contains("allPrivate"));
}

#[test]
fn exit_codes_tell_usage_not_found_and_failure_apart() {
    let e = start("exit", Faults::default());
    e.ok(&["bucket", "create", "exit-bucket"]);
    put(&e, "exit-bucket", "x.txt", b"x");
    let help = e.ok(&["--help"]);
    assert!(
        help.contains("Exit status") && help.contains("not found"),
        "{help}"
    );
    let code = |args: &[&str]| e.code(args);
    // Usage: unknown flags, bad URIs, missing arguments, bad ranges.
    assert_eq!(code(&["ls", "--no-such-flag"]), Some(2));
    assert_eq!(code(&["info", "b2://"]), Some(2));
    assert_eq!(code(&["file", "info", "b2://exit-bucket/"]), Some(2));
    assert_eq!(code(&["file", "info", "exit-bucket"]), Some(2));
    assert_eq!(code(&["download", "exit-bucket", "x.txt"]), Some(2));
    assert_eq!(
        code(&["download", "b2://exit-bucket/x.txt", "o", "extra"]),
        Some(2)
    );
    assert_eq!(
        code(&["download", "exit-bucket", "x.txt", "-", "--range", "9-1"]),
        Some(2)
    );
    assert_eq!(
        code(&["upload", "exit-bucket", "x", "/lead"]),
        Some(1),
        "no such local file"
    );
    // Not found.
    assert_eq!(code(&["info", "exit-bucket", "nope.txt"]), Some(3));
    assert_eq!(
        code(&["file", "info", "b2://exit-bucket/nope.txt"]),
        Some(3)
    );
    assert_eq!(
        code(&["download", "exit-bucket", "nope.txt", "o.bin"]),
        Some(3)
    );
    // B2's own message reaches the user (a download used to say only "not found: ").
    let said = e.fails(&["download", "exit-bucket", "nope.txt", "o.bin"]);
    assert!(said.contains("File not present: nope.txt"), "{said}");
    assert_eq!(code(&["ls", "b2://no-such-bucket"]), Some(3));
    assert_eq!(code(&["rm", "exit-bucket", "nope.txt"]), Some(3));
    // Other failures.
    assert_eq!(code(&["bucket", "delete", "exit-bucket"]), Some(1));
}

#[test]
fn progress_bars_only_on_a_terminal_and_never_with_no_progress() {
    let e = start("progress", Faults::default());
    e.ok(&["bucket", "create", "progress-bucket"]);
    let big = e.file("p.bin", &data(300_000));
    // stderr is a pipe here: no bar drawn.
    let o = e.run(&["upload", "progress-bucket", &big, "p.bin"]);
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = e.run(&["download", "progress-bucket", "p.bin", "back.bin"]);
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);
    // On a terminal (util-linux `script` gives one) a bar is drawn, unless --no-progress.
    let on_tty = |extra: &str| {
        let cmd = format!(
            "{} upload progress-bucket {big} p.bin --part-size 100000 {extra} > /dev/null",
            env!("CARGO_BIN_EXE_b2ctl")
        );
        let (id, key) = e.sim.master_key();
        let o = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("B2_APPLICATION_KEY_ID", id)
            .env("B2_APPLICATION_KEY", key)
            .env("B2_ENVIRONMENT", e.sim.url())
            .env("TERM", "xterm")
            .current_dir(&e.dir)
            .output()
            .expect("script(1) runs b2ctl on a pseudo-terminal");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let drawn = on_tty("");
    assert!(drawn.contains("292.97 KiB"), "{drawn:?}");
    let quiet = on_tty("--no-progress");
    assert!(!quiet.contains("KiB"), "{quiet:?}");
}

#[test]
fn the_key_may_still_come_from_the_command_line() {
    let e = start("keyflag", Faults::default());
    let (id, key) = e.sim.master_key();
    let o = e
        .cmd(&[
            "--key-id",
            id,
            "--key",
            key,
            "bucket",
            "create",
            "flag-bucket",
        ])
        .env_remove("B2_APPLICATION_KEY_ID")
        .env_remove("B2_APPLICATION_KEY")
        .env("B2_ACCOUNT_INFO", e.dir.join("none.json"))
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(e.ok(&["bucket", "list"]).contains("flag-bucket"));
}

#[test]
fn rm_reports_every_version_it_cannot_delete_and_fails() {
    let e = start("rmfail", Faults::default());
    e.ok(&["bucket", "create", "rmfail-bucket"]);
    let (kid, key) = e.sim.master_key();
    let client = b2_transport_std::client::Client::new(kid, key, e.sim.url()).expect("client");
    for i in 0..30 {
        client
            .upload_reader(
                "rmfail-bucket",
                &b"x"[..],
                &format!("f/{i:02}"),
                &b2_transport_std::client::UploadOptions::default(),
            )
            .expect("upload");
    }
    // A key that may list but not delete.
    let k = e.ok(&[
        "key",
        "create",
        "no-delete",
        "--caps",
        "listBuckets,listFiles,readFiles",
    ]);
    let (rid, rkey) = k.trim().split_once(' ').expect("id and key");
    let run = |args: &[&str]| {
        e.cmd(args)
            .env("B2_APPLICATION_KEY_ID", rid)
            .env("B2_APPLICATION_KEY", rkey)
            .output()
            .expect("run")
    };
    let o = run(&["rm", "-r", "b2://rmfail-bucket/f/", "--threads", "4"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("failed")).count(),
        30,
        "{err}"
    );
    assert!(err.contains("\"f/17\""), "{err}");
    assert!(err.contains("30 version(s) could not be deleted"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "deleted 0 version(s)"
    );
    // --fail-fast stops listing at the first failure (what was queued still runs).
    let o = run(&[
        "rm",
        "-r",
        "b2://rmfail-bucket/f/",
        "--threads",
        "1",
        "--fail-fast",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let failed = err.lines().filter(|l| l.contains("failed")).count();
    assert!((1..10).contains(&failed), "{err}");
    assert!(e.sim.file_bytes("rmfail-bucket", "f/00").is_some());
}
