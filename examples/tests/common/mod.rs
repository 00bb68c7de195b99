//! The harness the end-to-end tests of `b2ctl` share: a `b2-sim` over loopback, a folder of
//! the test's own (removed on drop), `b2ctl` runs with the simulator's master key in the
//! environment, and small JSON and HTTP helpers.
//!
//! Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use b2_sim::{Sim, SimBuilder};

/// The simulator's master key id and key, as `b2ctl` reads them from the environment.
const KEY_VARS: [&str; 2] = ["B2_APPLICATION_KEY_ID", "B2_APPLICATION_KEY"];

/// One test's simulator and folder, and the environment every `b2ctl` run of it gets.
pub struct Env {
    /// The simulator `b2ctl` talks to (`B2_ENVIRONMENT` is its URL).
    pub sim: Sim,
    /// The test's own empty folder: every run's current directory, removed on drop.
    pub dir: PathBuf,
    /// Variables set (`Some`) or removed (`None`) for every run, after the key and URL.
    vars: Vec<(OsString, Option<OsString>)>,
}

impl Env {
    /// A default simulator and a new folder named after `tag`.
    pub fn new(tag: &str) -> Env {
        Env::start(tag, Sim::builder())
    }

    /// The simulator `sim` describes, started, and a new folder named after `tag` (and the
    /// process and a counter, so tests running at once never share one).
    pub fn start(tag: &str, sim: SimBuilder) -> Env {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("b2ctl-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tmp");
        let sim = sim.start().expect("sim");
        Env {
            sim,
            dir,
            vars: Vec::new(),
        }
    }

    /// Every run gets `key=value` in its environment.
    pub fn with_env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Env {
        self.vars
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Every run gets `key` removed from its environment.
    pub fn without_env(mut self, key: impl AsRef<OsStr>) -> Env {
        self.vars.push((key.as_ref().to_owned(), None));
        self
    }

    /// `b2ctl ARGS` with the master key and the simulator's URL in the environment, the
    /// test's variables, run in the test's folder.
    pub fn cmd<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let (id, key) = self.sim.master_key();
        let mut c = Command::new(env!("CARGO_BIN_EXE_b2ctl"));
        c.args(args)
            .env(KEY_VARS[0], id)
            .env(KEY_VARS[1], key)
            .env("B2_ENVIRONMENT", self.sim.url())
            .current_dir(&self.dir);
        for (k, v) in &self.vars {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    /// A run of `b2ctl ARGS` to adjust (environment, stdin) before it runs.
    pub fn b2ctl<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        Run {
            cmd: self.cmd(args),
            args: args.iter().map(|a| a.as_ref().to_owned()).collect(),
            stdin: None,
        }
    }

    /// Runs `b2ctl ARGS`: its exit status and output.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.b2ctl(args).output()
    }

    /// Runs `b2ctl ARGS`, which must succeed: its stdout.
    pub fn ok<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        self.b2ctl(args).ok()
    }

    /// Runs `b2ctl ARGS`, which must fail: its stderr.
    pub fn fails<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        self.b2ctl(args).fails()
    }

    /// Runs `b2ctl ARGS`: its exit code (`None` if a signal ended it).
    pub fn code<S: AsRef<OsStr>>(&self, args: &[S]) -> Option<i32> {
        self.b2ctl(args).code()
    }

    /// Writes `bytes` to `name` in the test's folder; returns its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        p.to_string_lossy().into_owned()
    }

    /// The path of `name` in the test's folder.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Temporary download files left in the test's folder.
    pub fn temps(&self) -> Vec<PathBuf> {
        temps(&self.dir)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `b2ctl` run being set up (see [`Env::b2ctl`]).
pub struct Run {
    cmd: Command,
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
}

impl Run {
    /// `key=value` in this run's environment.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.cmd.env(key, value);
        self
    }

    /// `key` removed from this run's environment.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Run {
        self.cmd.env_remove(key);
        self
    }

    /// No key in this run's environment (the account info or the flags must give it).
    pub fn no_key(self) -> Run {
        self.env_remove(KEY_VARS[0]).env_remove(KEY_VARS[1])
    }

    /// `bytes` fed to this run's stdin (otherwise stdin is closed).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(bytes.into());
        self
    }

    /// This run's current directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Run {
        self.cmd.current_dir(dir);
        self
    }

    /// The command, to spawn by hand.
    pub fn command(self) -> Command {
        self.cmd
    }

    /// Runs it: exit status, stdout and stderr.
    pub fn output(mut self) -> Output {
        let Some(bytes) = self.stdin.take() else {
            return self.cmd.output().expect("run b2ctl");
        };
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn b2ctl");
        let mut pipe = child.stdin.take().expect("stdin");
        let feeder = std::thread::spawn(move || {
            // The run may stop reading early; what it did with the rest is its answer.
            let _ = pipe.write_all(&bytes);
        });
        let out = child.wait_with_output().expect("b2ctl");
        feeder.join().expect("stdin feeder");
        out
    }

    /// Runs it, which must succeed: its stdout.
    pub fn ok(self) -> String {
        let args = self.args.clone();
        let o = self.output();
        assert!(
            o.status.success(),
            "b2ctl {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Runs it, which must fail: its stderr.
    pub fn fails(self) -> String {
        let args = self.args.clone();
        let o = self.output();
        assert!(!o.status.success(), "b2ctl {args:?} should fail");
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    /// Runs it: its exit code (`None` if a signal ended it).
    pub fn code(self) -> Option<i32> {
        self.output().status.code()
    }
}

/// `n` bytes of a fixed pattern.
pub fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7919) >> 3) as u8).collect()
}

/// Temporary download files (`.b2tmp-`) left in `dir`.
pub fn temps(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".b2tmp-"))
        .collect()
}

/// The value of string field `field` in a JSON text (first occurrence of `"field":"`).
pub fn json_field(json: &str, field: &str) -> String {
    let key = format!("\"{field}\":\"");
    let start = json
        .find(&key)
        .unwrap_or_else(|| panic!("no {field} in {json}"))
        + key.len();
    json[start..]
        .split('"')
        .next()
        .expect("closing quote")
        .to_owned()
}

/// The `"fileId"` of a version's JSON (compact or pretty).
pub fn file_id(json: &str) -> String {
    json.split("\"fileId\":")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .unwrap_or_else(|| panic!("no fileId in {json}"))
        .to_owned()
}

/// The items of a JSON array, checked with core's parser (each must be an object).
pub fn json_array(text: &str) -> Vec<String> {
    use b2_core::wire::json::{items, Value};
    items(text.trim().as_bytes())
        .map(|v| match v.expect("valid JSON array") {
            Value::Object(o) => String::from_utf8_lossy(o).into_owned(),
            other => panic!("not an object: {other:?}"),
        })
        .collect()
}

/// A plain HTTP GET over loopback: (status, head, body).
pub fn http_get(url: &str) -> (u16, String, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut s = TcpStream::connect(host).expect("connect");
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("read");
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head end");
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head, all[split + 4..].to_vec())
}
