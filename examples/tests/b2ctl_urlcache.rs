//! End to end: upload URLs kept in the account info between `b2ctl` runs, against `b2-sim`
//! over loopback.

mod common;

use std::ops::Deref;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use b2_sim::Faults;
use b2_transport_std::client::AccountInfo;
use common::Run;

/// The shared harness, with an account info in the test's folder authorized with the master
/// key and a bucket `url-bucket`.
struct Env {
    env: common::Env,
    info: PathBuf,
}

impl Deref for Env {
    type Target = common::Env;

    fn deref(&self) -> &common::Env {
        &self.env
    }
}

impl Env {
    fn new(tag: &str) -> Env {
        let env = common::Env::new(tag);
        let info = env.dir.join("conf").join("account.json");
        let env = Env { env, info };
        assert!(env
            .with_key(&["bucket", "create", "url-bucket"])
            .status
            .success());
        let (id, key) = env.sim.master_key();
        let o = env.cached(&["account", "authorize", id], &format!("{key}\n"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        env
    }

    /// `b2ctl` with the master key in the environment (no account info).
    fn with_key(&self, args: &[&str]) -> Output {
        let unused = self.dir.join("unused.json");
        self.b2ctl(args).env("B2_ACCOUNT_INFO", unused).output()
    }

    /// `b2ctl` with no key in the environment: the account info only.
    fn with_info(&self, args: &[&str]) -> Run {
        self.b2ctl(args).no_key().env("B2_ACCOUNT_INFO", &self.info)
    }

    /// As [`Env::with_info`], `stdin` fed in.
    fn cached(&self, args: &[&str], stdin: &str) -> Output {
        self.with_info(args).stdin(stdin).output()
    }

    /// As [`Env::with_info`], which must succeed: its stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.with_info(args).stdin("").ok()
    }

    /// Uploads `name` with the account info; returns (class A calls, successful uploads)
    /// the run made: with no upload URL in hand, `b2_get_upload_url` is one more class A
    /// call than the upload itself.
    fn upload(&self, name: &str) -> (u64, u64) {
        let local = self.dir.join(name);
        std::fs::write(&local, name.as_bytes()).expect("write");
        let (a0, u0) = (self.sim.costs().total.class_a, self.sim.stats().uploads);
        self.ok(&["upload", "url-bucket", &local.to_string_lossy(), name]);
        assert_eq!(
            self.sim.file_bytes("url-bucket", name).as_deref(),
            Some(name.as_bytes())
        );
        (
            self.sim.costs().total.class_a - a0,
            self.sim.stats().uploads - u0,
        )
    }

    fn saved(&self) -> AccountInfo {
        AccountInfo::load(&self.info).expect("load").expect("saved")
    }

    fn mode(&self) -> u32 {
        std::fs::metadata(&self.info)
            .expect("info")
            .permissions()
            .mode()
            & 0o777
    }
}

fn tokens(info: &AccountInfo) -> Vec<String> {
    info.upload_urls.iter().map(|u| u.token.clone()).collect()
}

#[test]
fn a_second_upload_run_reuses_the_stored_upload_url() {
    let env = Env::new("reuse");
    assert!(env.saved().upload_urls.is_empty());
    // First run: b2_get_upload_url + b2_upload_file.
    assert_eq!(env.upload("one.txt"), (2, 1));
    let saved = env.saved();
    assert_eq!(saved.upload_urls.len(), 1, "{saved:?}");
    let first = tokens(&saved);
    assert_eq!(env.mode(), 0o600);
    // Second run: the upload alone, on the stored URL, which is kept for the next run.
    assert_eq!(env.upload("two.txt"), (1, 1));
    assert_eq!(tokens(&env.saved()), first);
    assert_eq!(env.mode(), 0o600);
    // Neither `account get` nor its JSON shows the upload token (nor the URL's secret).
    for args in [&["account", "get"][..], &["account", "get", "--json"]] {
        let shown = env.ok(args);
        assert!(!shown.contains(&first[0]), "{shown}");
        assert!(!shown.contains(&saved.token), "{shown}");
    }
}

#[test]
fn a_stored_url_that_fails_is_replaced_and_not_written_back() {
    let env = Env::new("fail");
    assert_eq!(env.upload("one.txt"), (2, 1));
    let first = tokens(&env.saved());
    assert_eq!(first.len(), 1);
    // Every 2nd upload answers 503: the 1st is another client's, the 2nd the one on the
    // stored URL.
    env.sim.set_faults(Faults {
        upload_503_every: Some(2),
        ..Faults::default()
    });
    let other = env.dir.join("other.txt");
    std::fs::write(&other, b"other").expect("write");
    let o = env.with_key(&[
        "upload",
        "url-bucket",
        &other.to_string_lossy(),
        "other.txt",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The stored URL fails; core gets a new one (b2_get_upload_url) and the upload goes
    // through on it.
    assert_eq!(env.upload("two.txt"), (2, 1));
    assert_eq!(env.sim.stats().faults.service_unavailable, 1);
    let now = tokens(&env.saved());
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(
        !now.contains(&first[0]),
        "the URL that failed was written back"
    );
    assert_eq!(env.mode(), 0o600);
    env.sim.set_faults(Faults::default());
    assert_eq!(env.upload("three.txt"), (1, 1), "the replacement is reused");
}

#[test]
fn an_upload_url_past_24_hours_is_replaced() {
    let env = Env::new("expired");
    assert_eq!(env.upload("one.txt"), (2, 1));
    let first = tokens(&env.saved());
    // B2's clock passes 24 h (the account token expires too): the stored URL is refused
    // (401 expired), the client authorizes again and gets a new one.
    env.sim.advance_clock(Duration::from_secs(25 * 3600));
    assert_eq!(env.upload("two.txt"), (2, 1));
    let now = tokens(&env.saved());
    assert_eq!(now.len(), 1);
    assert_ne!(now, first, "the expired URL was written back");
    assert_eq!(env.upload("three.txt"), (1, 1));
}

#[test]
fn a_url_the_client_knows_to_be_too_old_is_not_used() {
    let env = Env::new("old");
    assert_eq!(env.upload("one.txt"), (2, 1));
    // The file says the URL was obtained 23 h ago: B2 (the simulator's clock) would still
    // take it, but core's rule keeps a margin, so a new one is asked for.
    let mut saved = env.saved();
    let first = tokens(&saved);
    saved.upload_urls[0].obtained_at_ms -= 23 * 3600 * 1000;
    saved.save(&env.info).expect("save");
    assert_eq!(env.upload("two.txt"), (2, 1));
    let now = tokens(&env.saved());
    assert_eq!(now.len(), 1);
    assert_ne!(now, first);
}

#[test]
fn a_damaged_upload_url_list_is_a_clear_error() {
    let env = Env::new("damaged");
    let text = std::fs::read_to_string(&env.info).expect("read");
    let bad = text.replacen(
        "\"uploadUrls\": []",
        "\"uploadUrls\": [{\"bucketId\": 7}]",
        1,
    );
    assert_ne!(bad, text, "{text}");
    write_600(&env.info, &bad);
    let o = env.cached(&["ls", "url-bucket"], "");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("uploadUrls"), "{err}");
}

fn write_600(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}
