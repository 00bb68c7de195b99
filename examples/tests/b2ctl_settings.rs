//! End to end: `b2ctl`'s bucket settings, notification rules, key and sharing commands
//! against `b2-sim` over loopback.

mod common;

use common::{http_get, Env};

#[test]
fn bucket_settings_commands() {
    let e = Env::new("settings");
    e.ok(&["bucket", "create", "cli-settings"]);
    let got = e.ok(&["bucket", "get", "cli-settings"]);
    assert!(got.contains("type:        allPrivate"), "{got}");
    assert!(got.contains("revision:    1"), "{got}");
    let out = e.ok(&[
        "bucket",
        "update",
        "cli-settings",
        "--type",
        "allPublic",
        "--bucket-info",
        r#"{"team":"ops"}"#,
        "--cors-rules",
        r#"[{"corsRuleName":"webapp","allowedOrigins":["*"],"allowedOperations":["b2_download_file_by_name"],"maxAgeSeconds":60}]"#,
        "--lifecycle-rule",
        r#"{"fileNamePrefix":"logs/","daysFromHidingToDeleting":7}"#,
        "--lifecycle-rule",
        r#"{"fileNamePrefix":"tmp/","daysFromStartingToCancelingUnfinishedLargeFiles":1}"#,
        "--if-revision-is",
        "1",
    ]);
    assert!(out.contains("revision:    2"), "{out}");
    let got = e.ok(&["bucket", "get", "cli-settings"]);
    for want in [
        "type:        allPublic",
        "info:        team=ops",
        "cors:        webapp",
        "lifecycle:   prefix=\"logs/\" hide-after=- delete-hidden-after=7",
        "prefix=\"tmp/\" hide-after=- delete-hidden-after=- cancel-unfinished-after=1",
        "encryption:  SSE-B2",
    ] {
        assert!(got.contains(want), "{want}: {got}");
    }
    let json = e.ok(&["bucket", "get", "cli-settings", "--json"]);
    assert!(json.trim_start().starts_with('{') && json.contains("\"lifecycleRules\""));
    // A stale revision fails, one clear line.
    let bad = e.run(&[
        "bucket",
        "update",
        "cli-settings",
        "--bucket-info",
        "{}",
        "--if-revision-is",
        "1",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("conflict"));
    // JSON that is not JSON is named.
    let bad = e.run(&["bucket", "update", "cli-settings", "--cors-rules", "[{"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--cors-rules"));
    assert!(!bad.status.success());

    // Notification rules.
    let rules = r#"[{"name":"uploads","eventTypes":["b2:ObjectCreated:*"],"isEnabled":true,"objectNamePrefix":"in/","targetConfiguration":{"targetType":"webhook","url":"https://hooks.example/b2"}}]"#;
    let set = e.ok(&["bucket", "notification-rules", "set", "cli-settings", rules]);
    assert!(set.contains("uploads  enabled"), "{set}");
    let got = e.ok(&["bucket", "notification-rules", "get", "cli-settings"]);
    assert_eq!(got, set);
    e.ok(&["bucket", "notification-rules", "set", "cli-settings", "[]"]);
    assert_eq!(
        e.ok(&["bucket", "notification-rules", "get", "cli-settings"]),
        ""
    );

    // Replication between two buckets, then the new upload's copy.
    e.ok(&["bucket", "create", "cli-settings-dst"]);
    let dst_id = e.ok(&["bucket", "get", "cli-settings-dst"]);
    let dst_id = dst_id
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .expect("id")
        .trim()
        .to_owned();
    let src_key = e.ok(&[
        "key",
        "create",
        "rplsrc",
        "readFiles",
        "--bucket",
        "cli-settings",
    ]);
    let src_key = src_key.split_whitespace().next().expect("id").to_owned();
    let dst_key = e.ok(&[
        "key",
        "create",
        "rpldst",
        "writeFiles",
        "--bucket",
        "cli-settings-dst",
    ]);
    let dst_key = dst_key.split_whitespace().next().expect("id").to_owned();
    e.ok(&[
        "bucket",
        "update",
        "cli-settings-dst",
        "--replication",
        &format!(
            r#"{{"asReplicationDestination":{{"sourceToDestinationKeyMapping":{{"{src_key}":"{dst_key}"}}}}}}"#
        ),
    ]);
    let out = e.ok(&[
        "bucket",
        "update",
        "cli-settings",
        "--replication",
        &format!(
            r#"{{"asReplicationSource":{{"sourceApplicationKeyId":"{src_key}","replicationRules":[{{"replicationRuleName":"to-dst","destinationBucketId":"{dst_id}","fileNamePrefix":"","includeExistingFiles":false,"isEnabled":true,"priority":1}}]}}}}"#
        ),
    ]);
    assert!(
        out.contains(&format!("replication: rule to-dst -> {dst_id}")),
        "{out}"
    );
}

#[test]
fn key_and_sharing_commands() {
    let e = Env::new("settings");
    e.ok(&["bucket", "create", "cli-share-one"]);
    e.ok(&["bucket", "create", "cli-share-two"]);
    // An unknown capability: a warning, then B2's (here b2-sim's) answer decides.
    let o = e.run(&["key", "create", "k", "listFiles,readFutureThings"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: unknown capability \"readFutureThings\""),
        "{err}"
    );
    assert!(!o.status.success(), "b2-sim refuses undocumented names");
    let k = e.ok(&[
        "key",
        "create",
        "two",
        "listFiles,readFiles,bypassGovernance",
        "--duration",
        "3600",
        "--bucket",
        "cli-share-one",
        "--bucket",
        "cli-share-two",
        "--name-prefix",
        "pub/",
    ]);
    let id = k.split_whitespace().next().expect("id");
    let got = e.ok(&["key", "get", id]);
    assert!(got.contains("name prefix:  pub/"), "{got}");
    assert!(got.contains("bypassGovernance"), "{got}");
    assert_eq!(
        got.lines()
            .find(|l| l.starts_with("buckets:"))
            .map(|l| l.matches(',').count()),
        Some(1),
        "{got}"
    );
    assert!(got.contains("expires:"), "{got}");

    // Sharing one private file.
    let dir = std::env::temp_dir().join(format!("b2ctl-share-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("r.pdf");
    std::fs::write(&f, b"report").expect("write");
    e.ok(&[
        "upload",
        "cli-share-one",
        &f.to_string_lossy(),
        "docs/r 1.pdf",
    ]);
    let plain = e.ok(&["file", "url", "b2://cli-share-one/docs/r 1.pdf"]);
    assert!(
        plain.trim().ends_with("/file/cli-share-one/docs/r%201.pdf"),
        "{plain}"
    );
    assert_eq!(http_get(plain.trim()).0, 401, "private without a token");
    let url = e.ok(&[
        "file",
        "url",
        "b2://cli-share-one/docs/r 1.pdf",
        "--with-auth",
        "--duration",
        "60",
        "--content-disposition",
        "attachment; filename=\"r.pdf\"",
    ]);
    let (status, head, body) = http_get(url.trim());
    assert_eq!((status, body.as_slice()), (200, &b"report"[..]), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-disposition: attachment; filename=\"r.pdf\""),
        "{head}"
    );
    let token = e.ok(&[
        "get-download-auth",
        "cli-share-one",
        "--prefix",
        "docs/",
        "--duration",
        "60",
    ]);
    let base = plain.trim();
    let (status, _, body) = http_get(&format!("{base}?Authorization={}", token.trim()));
    assert_eq!((status, body.as_slice()), (200, &b"report"[..]));
    let bad = e.run(&["file", "url", "cli-share-one/x"]);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("b2://BUCKET"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_lock_bucket_with_a_default_retention() {
    let e = Env::new("settings");
    e.ok(&["bucket", "create", "cli-vault", "--file-lock-enabled"]);
    e.ok(&["bucket", "create", "cli-plain"]);
    assert!(e
        .ok(&["bucket", "get", "cli-vault"])
        .contains("file lock:   on, no default retention"));
    assert!(e
        .ok(&["bucket", "get", "cli-plain"])
        .contains("file lock:   off"));
    e.ok(&[
        "bucket",
        "update",
        "cli-vault",
        "--default-retention-mode",
        "governance",
        "--default-retention-period",
        "7 days",
    ]);
    assert!(e
        .ok(&["bucket", "get", "cli-vault"])
        .contains("file lock:   on, default governance 7 days"));
    // New files get the default retention: deleting one is refused.
    let dir = std::env::temp_dir().join(format!("b2ctl-vault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let f = dir.join("a.txt");
    std::fs::write(&f, b"kept").expect("write");
    e.ok(&["upload", "cli-vault", f.to_str().expect("utf8"), "a.txt"]);
    let info = e.ok(&["info", "cli-vault", "a.txt", "--json"]);
    assert!(info.contains("\"governance\""), "{info}");
    assert!(!e.run(&["rm", "cli-vault", "a.txt"]).status.success());
    // A bucket without file lock refuses a default retention; a bad period is refused
    // before any call.
    assert!(!e
        .run(&[
            "bucket",
            "update",
            "cli-plain",
            "--default-retention-mode",
            "compliance",
            "--default-retention-period",
            "1 years",
        ])
        .status
        .success());
    let bad = e.run(&[
        "bucket",
        "update",
        "cli-vault",
        "--default-retention-mode",
        "governance",
        "--default-retention-period",
        "7 weeks",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not days or years"));
    e.ok(&[
        "bucket",
        "update",
        "cli-vault",
        "--default-retention-mode",
        "none",
    ]);
    assert!(e
        .ok(&["bucket", "get", "cli-vault"])
        .contains("file lock:   on, no default retention"));
    let _ = std::fs::remove_dir_all(&dir);
}
