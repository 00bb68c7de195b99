//! End to end: the `b2ctl` binary against `b2-sim` over loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use b2_sim::{Faults, Sim};

struct Env {
    sim: Sim,
    dir: PathBuf,
}

impl Env {
    fn new(tag: &str, faults: Faults) -> Env {
        let dir = std::env::temp_dir().join(format!("b2ctl-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp");
        let sim = Sim::builder()
            .min_part_size(100_000)
            .faults(faults)
            .start()
            .expect("sim");
        Env { sim, dir }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let (id, key) = self.sim.master_key();
        let mut c = Command::new(env!("CARGO_BIN_EXE_b2ctl"));
        c.args(args)
            .env("B2_APPLICATION_KEY_ID", id)
            .env("B2_APPLICATION_KEY", key)
            .env("B2_ENVIRONMENT", self.sim.url())
            .current_dir(&self.dir);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run b2ctl")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "b2ctl {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7919) >> 3) as u8).collect()
}

#[test]
fn every_command() {
    let e = Env::new("all", Faults::default());
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
    let mut child = e
        .cmd(&[
            "upload",
            "cli-bucket",
            "-",
            "stdin.bin",
            "--part-size",
            "100000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&big).expect("pipe");
    }
    assert!(child.wait_with_output().expect("wait").status.success());
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
    let bad = e.run(&["key", "create", "k", "--caps", "listFiles,notacap"]);
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && msg.contains("unknown capability \"notacap\""),
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
    let e = Env::new("unhide", Faults::default());
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
    let mut e = Env::new("rot", Faults::default());
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
    let e = Env::new(
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
    let e = Env::new("sync", Faults::default());
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
    // The loop: followed before, 205 uploads and exit 0.
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
    let env = Env::new("threads", Faults::default());
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
    let env = Env::new("http", Faults::default());
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

/// Temporary download files left in `dir`.
fn temps(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".b2tmp-"))
        .collect()
}

#[cfg(unix)]
#[test]
fn sigterm_or_ctrl_c_during_a_download_leaves_no_temporary_file() {
    let env = Env::new("sigterm", Faults::default());
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
    use std::io::Write;
    let mut c = env.cmd(args);
    c.env_remove("B2_APPLICATION_KEY_ID")
        .env_remove("B2_APPLICATION_KEY")
        .env("B2_ACCOUNT_INFO", info)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn b2ctl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("feed stdin");
    child.wait_with_output().expect("b2ctl")
}

fn cached_ok(env: &Env, info: &Path, args: &[&str], stdin: &str) -> String {
    let o = cached(env, info, args, stdin);
    assert!(
        o.status.success(),
        "b2ctl {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn account_authorize_get_clear_and_a_restricted_key_from_the_cache() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new("account", Faults::default());
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
    let env = Env::new("dl-threads", Faults::default());
    for n in ["0", "65", "10000"] {
        let o = env.run(&["download", "any-bucket", "x", "out.bin", "--threads", n]);
        assert!(!o.status.success(), "download --threads {n} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("1..=64") || err.contains("64"), "{err}");
    }
}
