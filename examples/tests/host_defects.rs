//! End to end, one test per host defect named in issue 15 that had no test failing without
//! its fix: the `b2ctl` binary against `b2-sim` over loopback (or, for the server that never
//! answers, a plain listener that accepts connections and stays silent).

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{data, Env};

/// A default simulator; runs read no saved account unless a test gives one.
fn start(tag: &str) -> Env {
    let e = Env::new(tag);
    let none = e.dir.join("no-account.json");
    e.with_env("B2_ACCOUNT_INFO", none)
}

/// Waits for `child` at most `limit`; kills it and fails the test past that.
fn wait_at_most(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Lines of `child`'s stderr as they come, on a channel.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let err = child.stderr.take().expect("stderr piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Every b2ctl run re-authorized: after `account authorize`, commands run with no key in
/// the flags or the environment, and make no `b2_authorize_account` call (nor any other
/// class C call: a download by name needs no bucket lookup either).
#[test]
fn a_saved_account_is_used_without_authorizing_again() {
    let env = start("cache");
    env.ok(&["bucket", "create", "cache-bucket"]);
    let src = env.file("src.bin", &data(10_000));
    env.ok(&["upload", "cache-bucket", &src, "f.bin"]);
    let info = env.dir.join("account.json");
    let no_key = |args: &[&str], stdin: &str| -> Output {
        let run = env.b2ctl(args).no_key().env("B2_ACCOUNT_INFO", &info);
        let o = run.stdin(stdin).output();
        assert!(
            o.status.success(),
            "b2ctl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    let (id, key) = env.sim.master_key();
    no_key(&["account", "authorize", id], &format!("{key}\n"));
    let authorized = env.sim.costs().total.class_c;
    for out in ["a.bin", "b.bin"] {
        no_key(&["download", "cache-bucket", "f.bin", out], "");
        assert_eq!(
            std::fs::read(env.dir.join(out)).expect("downloaded"),
            data(10_000)
        );
    }
    assert_eq!(
        env.sim.costs().total.class_c,
        authorized,
        "a run from the saved account authorized again"
    );
}

/// Creates a character device at `path` with `mknod` (root only); false if it could not.
#[cfg(unix)]
fn mknod(path: &Path, major: u32, minor: u32) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Downloading to `/dev/full` as root replaced the device with a regular file (exit 0). A
/// device target is written to and never replaced: the null device takes the bytes (exit
/// 0), the full one makes the download fail (exit non-zero); both are still character
/// devices after, and no temporary file is left.
#[cfg(unix)]
#[test]
fn a_device_target_is_written_to_never_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let env = start("device");
    env.ok(&["bucket", "create", "dev-bucket"]);
    let src = env.file("src.bin", &data(50_000));
    env.ok(&["upload", "dev-bucket", &src, "f.bin"]);
    // As root, devices of our own in the test's folder (the same as /dev/null and /dev/full),
    // so that a regression replaces nothing of the system's. Otherwise the system's, which a
    // user who cannot create devices cannot replace either.
    let (null, full) = (env.dir.join("null"), env.dir.join("full"));
    let (null, full) = if mknod(&null, 1, 3) && mknod(&full, 1, 7) {
        (null, full)
    } else {
        let probe = Path::new("/dev").join(format!(".b2ctl-probe-{}", std::process::id()));
        let writable = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
            .is_ok();
        let _ = std::fs::remove_file(&probe);
        assert!(
            !writable,
            "/dev is writable but mknod failed: cannot test without risking /dev"
        );
        (PathBuf::from("/dev/null"), PathBuf::from("/dev/full"))
    };
    let is_char = |p: &Path| {
        std::fs::symlink_metadata(p)
            .expect("still there")
            .file_type()
            .is_char_device()
    };

    let o = env.run(&[
        OsStr::new("download"),
        OsStr::new("dev-bucket"),
        OsStr::new("f.bin"),
        null.as_os_str(),
    ]);
    assert!(
        o.status.success(),
        "to a null device: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(is_char(&null), "{} was replaced", null.display());

    let o = env.run(&[
        OsStr::new("download"),
        OsStr::new("dev-bucket"),
        OsStr::new("f.bin"),
        full.as_os_str(),
    ]);
    assert!(
        !o.status.success(),
        "a full device took 50,000 bytes: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(is_char(&full), "{} was replaced", full.display());
    assert_eq!(env.temps(), Vec::<PathBuf>::new());
}

/// Uploading a FIFO with no writer hung forever in silence: b2ctl says it waits for the
/// writer (before the open that blocks), then streams what the writer sends.
#[cfg(unix)]
#[test]
fn uploading_a_fifo_says_it_waits_for_its_writer_then_streams_it() {
    let env = start("fifo-src");
    env.ok(&["bucket", "create", "fifo-bucket"]);
    let fifo = env.dir.join("in.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let mut child = env
        .cmd(&[
            OsStr::new("upload"),
            OsStr::new("fifo-bucket"),
            fifo.as_os_str(),
            OsStr::new("from-fifo"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = stderr_lines(&mut child);
    // No writer yet: the upload must say what it waits for.
    let t0 = Instant::now();
    let mut said = Vec::new();
    let told = loop {
        match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(l) if l.contains("waits for its writer") => break true,
            Ok(l) => said.push(l),
            Err(mpsc::RecvTimeoutError::Timeout) if t0.elapsed() < Duration::from_secs(20) => {}
            Err(_) => break false,
        }
    };
    // The writer comes (also when the test is about to fail, so the child can finish).
    // In a thread: with no reader left (b2ctl gone), opening the FIFO would block.
    let bytes = data(70_000);
    let writer = {
        let (fifo, bytes) = (fifo.clone(), bytes.clone());
        std::thread::spawn(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(fifo)
                .and_then(|mut f| f.write_all(&bytes))
        })
    };
    let status = wait_at_most(&mut child, Duration::from_secs(60), "upload from a FIFO");
    said.extend(lines.try_iter());
    assert!(told, "no word about waiting for the writer: {said:?}");
    assert!(status.success(), "{said:?}");
    writer.join().expect("writer").expect("write fifo");
    assert_eq!(env.sim.file_bytes("fifo-bucket", "from-fifo"), Some(bytes));
}

/// Against a server that accepts and never answers, b2ctl was silent for 620 s: with
/// `--timeout 1` it gives up within seconds (its tries included) and says it timed out.
#[test]
fn a_server_that_never_answers_times_out_with_a_clear_message() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s); // accepted, never read from, never answered
        }
    });
    let env = start("silent");
    let mut child = env
        .cmd(&["--timeout", "1", "bucket", "list"])
        .env("B2_ENVIRONMENT", format!("http://{addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = stderr_lines(&mut child);
    let t0 = Instant::now();
    let status = wait_at_most(&mut child, Duration::from_secs(60), "b2ctl --timeout 1");
    let took = t0.elapsed();
    let err: Vec<String> = lines.iter().collect();
    let err = err.join("\n");
    assert!(!status.success(), "{err}");
    assert!(err.to_lowercase().contains("timed out"), "{err}");
    assert!(took < Duration::from_secs(45), "took {took:?}: {err}");
}

/// `--threads 10000` was accepted. Thread counts beyond 64 (and 0) are refused as usage
/// errors before any work: commands that would otherwise succeed store and write nothing.
#[test]
fn thread_counts_beyond_64_are_refused_before_any_work() {
    let env = start("threads");
    env.ok(&["bucket", "create", "thr-bucket"]);
    let src = env.file("src.bin", &data(1_000));
    env.ok(&["upload", "thr-bucket", &src, "have.bin"]);
    for n in ["0", "65", "10000"] {
        let runs: [(&[&str], &str); 2] = [
            (&["upload", "thr-bucket", &src, "new.bin"], "upload"),
            (
                &["download", "thr-bucket", "have.bin", "out.bin"],
                "download",
            ),
        ];
        for (args, what) in runs {
            let mut args = args.to_vec();
            args.extend(["--threads", n]);
            let o = env.run(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{what} --threads {n}: {err}");
            assert!(err.contains("64"), "{what} --threads {n}: {err}");
        }
        assert_eq!(env.sim.file_bytes("thr-bucket", "new.bin"), None);
        assert!(!env.dir.join("out.bin").exists());
    }
}

/// Non-UTF-8 local paths could not be uploaded: `b2ctl upload` takes any path the system
/// can name, with an explicit remote name.
#[cfg(unix)]
#[test]
fn a_non_utf8_local_path_is_uploaded_under_the_given_name() {
    use std::os::unix::ffi::OsStrExt;
    let env = start("non-utf8");
    env.ok(&["bucket", "create", "latin1-bucket"]);
    let path = env.dir.join(OsStr::from_bytes(b"caf\xe9 \xff.txt"));
    assert!(path.to_str().is_none());
    std::fs::write(&path, b"latin-1 name").expect("write");
    let o = env.run(&[
        OsStr::new("upload"),
        OsStr::new("latin1-bucket"),
        path.as_os_str(),
        OsStr::new("cafe.txt"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        env.sim.file_bytes("latin1-bucket", "cafe.txt").as_deref(),
        Some(&b"latin-1 name"[..])
    );
    // And back, to a non-UTF-8 path, by name and by URI.
    let back = env.dir.join(OsStr::from_bytes(b"retour \xe9.txt"));
    let o = env.run(&[
        OsStr::new("download"),
        OsStr::new("latin1-bucket"),
        OsStr::new("cafe.txt"),
        back.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&back).expect("read"), b"latin-1 name");
    let again = env.dir.join(OsStr::from_bytes(b"\xff again"));
    let o = env.run(&[
        OsStr::new("file"),
        OsStr::new("download"),
        OsStr::new("b2://latin1-bucket/cafe.txt"),
        again.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&again).expect("read"), b"latin-1 name");
}

/// A bucket-restricted key without `listBuckets` could only download by name: `ls`, `info`,
/// `upload`, `rm` failed on `b2_list_buckets`. Each runs here in a process of its own with
/// the key in the environment (authorized afresh, no bucket id saved from an earlier run),
/// so each must find its bucket without listing buckets.
#[test]
fn a_restricted_key_without_list_buckets_runs_each_command_on_its_own() {
    let env = start("restricted");
    env.ok(&["bucket", "create", "only-bucket"]);
    env.ok(&["bucket", "create", "other-bucket"]);
    let k = env.ok(&[
        "key",
        "create",
        "restricted",
        "--caps",
        "listFiles,readFiles,writeFiles,deleteFiles",
        "--bucket",
        "only-bucket",
    ]);
    let (rid, rkey) = k.trim().split_once(' ').expect("id and key");
    let restricted = |args: &[&str]| -> Output {
        env.b2ctl(args)
            .env("B2_APPLICATION_KEY_ID", rid)
            .env("B2_APPLICATION_KEY", rkey)
            .output()
    };
    // The key really cannot list buckets.
    assert!(!restricted(&["bucket", "list"]).status.success());
    // Set up with the master key, so that each command below is the first to need the bucket.
    let src = env.file("src.txt", b"restricted bytes");
    env.ok(&["upload", "only-bucket", &src, "by-master.txt"]);

    // Every command runs, and all that fail are named.
    let mut failed = Vec::new();
    let mut out = std::collections::BTreeMap::new();
    for args in [
        &["ls", "only-bucket"][..],
        &["info", "only-bucket", "by-master.txt"],
        &["upload", "only-bucket", &src, "by-key.txt"],
        &["rm", "only-bucket", "by-master.txt"],
    ] {
        let o = restricted(args);
        if !o.status.success() {
            failed.push(format!(
                "{}: {}",
                args[0],
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        out.insert(args[0], String::from_utf8_lossy(&o.stdout).into_owned());
    }
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(out["ls"].contains("by-master.txt"), "{}", out["ls"]);
    assert!(out["info"].contains("16"), "{}", out["info"]);
    assert_eq!(
        env.sim.file_bytes("only-bucket", "by-key.txt").as_deref(),
        Some(&b"restricted bytes"[..])
    );
    assert_eq!(env.sim.file_bytes("only-bucket", "by-master.txt"), None);
    // Another bucket stays out of reach.
    assert!(!restricted(&["ls", "other-bucket"]).status.success());
}
