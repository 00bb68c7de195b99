//! End to end over real loopback sockets against `b2-sim`: bucket settings read back in full
//! and updated (CORS, lifecycle, replication, `ifRevisionIs`), notification rules, keys with
//! expiry, several buckets and a prefix, download authorizations and share URLs.

mod common;

use std::time::Duration;

use b2_sim::Sim;
use b2_transport_std::client::{
    BucketUpdate, Client, ClientError, CorsRule, KeyOptions, LifecycleRule, NotificationRule,
    Overrides, Replication, ReplicationRule, UploadOptions,
};

fn start() -> (Sim, Client) {
    common::start(Sim::builder())
}

fn put(c: &Client, bucket: &str, name: &str, body: &[u8]) -> String {
    c.upload_reader(bucket, body, name, &UploadOptions::default())
        .expect("upload")
        .json
}

/// The HTTP status behind a typed error (a conflict is B2's 409 here: `ifRevisionIs`).
fn api_status(e: &ClientError) -> Option<u16> {
    match e {
        ClientError::Unauthorized { status, .. } | ClientError::B2 { status, .. } => Some(*status),
        ClientError::Conflict { code, .. } if code == "conflict" => Some(409),
        _ => None,
    }
}

fn http_get(url: &str) -> (u16, Option<String>, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).call().expect("get");
    let disp = r
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r.body_mut().read_to_vec().unwrap_or_default();
    (r.status().as_u16(), disp, body)
}

#[test]
fn bucket_settings_round_trip() {
    let (_sim, c) = start();
    c.create_bucket("settings-e2e", false).expect("bucket");
    let before = c.bucket_settings("settings-e2e").expect("read");
    assert_eq!(before.bucket_type, "allPrivate");
    assert!(before.cors_rules.is_empty() && before.lifecycle_rules.is_empty());
    let life = vec![LifecycleRule {
        file_name_prefix: "logs/".into(),
        days_from_hiding_to_deleting: Some(7),
        days_from_starting_to_canceling_unfinished_large_files: Some(2),
        ..Default::default()
    }];
    let cors = vec![CorsRule {
        name: "webapp".into(),
        allowed_origins: vec!["https://app.example".into()],
        allowed_operations: vec!["b2_download_file_by_name".into()],
        expose_headers: vec!["x-bz-file-id".into()],
        max_age_seconds: 300,
        ..Default::default()
    }];
    let after = c
        .update_bucket_settings(
            "settings-e2e",
            &BucketUpdate {
                bucket_type: Some("allPublic".into()),
                info: Some(vec![("team".into(), "ops".into())]),
                cors_rules: Some(cors.clone()),
                lifecycle_rules: Some(life.clone()),
                if_revision_is: Some(before.revision),
                ..Default::default()
            },
        )
        .expect("update");
    assert_eq!(after.revision, before.revision + 1);
    let read = c.bucket_settings("settings-e2e").expect("read");
    assert_eq!(read, after);
    assert_eq!(read.bucket_type, "allPublic");
    assert_eq!(read.lifecycle_rules, life);
    assert_eq!(read.cors_rules, cors);
    assert_eq!(read.info, vec![("team".to_string(), "ops".to_string())]);
    assert_eq!(read.default_encryption.as_deref(), Some("SSE-B2"));
    assert!(read.json.contains("\"lifecycleRules\""));
    // A stale revision: B2's 409 conflict, nothing changed.
    let e = c
        .update_bucket_settings(
            "settings-e2e",
            &BucketUpdate {
                info: Some(Vec::new()),
                if_revision_is: Some(before.revision),
                ..Default::default()
            },
        )
        .expect_err("stale");
    assert_eq!(api_status(&e), Some(409), "{e}");
    // Lifecycle rules B2 would refuse are refused before any request.
    let e = c
        .update_bucket_settings(
            "settings-e2e",
            &BucketUpdate {
                lifecycle_rules: Some(vec![LifecycleRule {
                    file_name_prefix: "x/".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            },
        )
        .expect_err("empty rule");
    assert!(matches!(e, ClientError::Config(_)), "{e}");
    assert_eq!(
        c.bucket_settings("settings-e2e").expect("read").revision,
        after.revision
    );
}

#[test]
fn lifecycle_and_replication_through_the_client() {
    let (sim, c) = start();
    c.create_bucket("repl-e2e-src", false).expect("src");
    c.create_bucket("repl-e2e-dst", false).expect("dst");
    let src_key = c
        .create_key_with(
            "rplsrc",
            &["readFiles"],
            &KeyOptions {
                buckets: vec!["repl-e2e-src".into()],
                ..Default::default()
            },
        )
        .expect("src key");
    let dst_key = c
        .create_key_with(
            "rpldst",
            &["writeFiles"],
            &KeyOptions {
                buckets: vec!["repl-e2e-dst".into()],
                ..Default::default()
            },
        )
        .expect("dst key");
    let dst = c
        .update_bucket_settings(
            "repl-e2e-dst",
            &BucketUpdate {
                replication: Some(Replication {
                    key_mapping: Some(vec![(src_key.id.clone(), dst_key.id.clone())]),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .expect("destination");
    let src = c
        .update_bucket_settings(
            "repl-e2e-src",
            &BucketUpdate {
                replication: Some(Replication {
                    source_key_id: Some(src_key.id.clone()),
                    rules: vec![ReplicationRule {
                        name: "to-dst".into(),
                        destination_bucket_id: dst.id.clone(),
                        is_enabled: true,
                        priority: 1,
                        ..Default::default()
                    }],
                    key_mapping: None,
                }),
                lifecycle_rules: Some(vec![LifecycleRule {
                    file_name_prefix: "".into(),
                    days_from_uploading_to_hiding: Some(1),
                    ..Default::default()
                }]),
                ..Default::default()
            },
        )
        .expect("source");
    let rep = src.replication.expect("replication read back");
    assert_eq!(rep.rules[0].destination_bucket_id, dst.id);
    assert_eq!(rep.source_key_id.as_deref(), Some(src_key.id.as_str()));
    let json = put(&c, "repl-e2e-src", "a.txt", b"copied");
    assert!(json.contains("\"replicationStatus\":\"pending\""), "{json}");
    let src_file = c.file_info("repl-e2e-src", "a.txt").expect("info");
    assert!(
        src_file
            .json
            .contains("\"replicationStatus\":\"completed\""),
        "{}",
        src_file.json
    );
    let replica = c.file_info("repl-e2e-dst", "a.txt").expect("replica");
    assert!(replica.json.contains("\"replicationStatus\":\"replica\""));
    assert_eq!(replica.content_sha1, src_file.content_sha1);
    // The lifecycle rule hides the source file a day later (on the simulator's clock).
    sim.advance_clock(Duration::from_secs(86_401));
    let (id, key) = sim.master_key();
    let c = Client::new(id, key, sim.url()).expect("client");
    let latest = c.file_info("repl-e2e-src", "a.txt");
    assert!(
        matches!(latest, Err(ClientError::NotFound(_))) || latest.is_ok_and(|f| f.action == "hide"),
        "hidden after a day"
    );
    assert!(sim.file_bytes("repl-e2e-src", "a.txt").is_none());
    assert_eq!(
        sim.file_bytes("repl-e2e-dst", "a.txt").as_deref(),
        Some(&b"copied"[..])
    );
}

#[test]
fn notification_rules_round_trip() {
    let (_sim, c) = start();
    c.create_bucket("notify-e2e", false).expect("bucket");
    let rule = NotificationRule {
        name: "uploads".into(),
        event_types: vec!["b2:ObjectCreated:*".into()],
        is_enabled: true,
        object_name_prefix: "in/".into(),
        url: "https://hooks.example/b2".into(),
        signing_secret: Some("MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0".into()),
        custom_headers: vec![("X-Team".into(), "ops".into())],
        ..Default::default()
    };
    let set = c
        .set_notification_rules("notify-e2e", std::slice::from_ref(&rule))
        .expect("set");
    assert_eq!(set, vec![rule.clone()]);
    assert_eq!(c.notification_rules("notify-e2e").expect("get"), set);
    let bad = NotificationRule {
        url: "http://insecure.example".into(),
        ..rule
    };
    let e = c
        .set_notification_rules("notify-e2e", &[bad])
        .expect_err("http");
    assert_eq!(api_status(&e), Some(400));
    assert!(c
        .set_notification_rules("notify-e2e", &[])
        .expect("clear")
        .is_empty());
}

#[test]
fn keys_with_expiry_buckets_and_prefix() {
    let (sim, c) = start();
    c.create_bucket("keys-e2e-one", false).expect("one");
    c.create_bucket("keys-e2e-two", false).expect("two");
    let k = c
        .create_key_with(
            "two-buckets",
            &["listBuckets", "listFiles", "readFiles", "bypassGovernance"],
            &KeyOptions {
                valid_duration_secs: Some(3600),
                buckets: vec!["keys-e2e-one".into(), "keys-e2e-two".into()],
                name_prefix: Some("pub/".into()),
            },
        )
        .expect("key");
    let d = c.get_key(&k.id).expect("get");
    assert_eq!(d.name, "two-buckets");
    assert_eq!(d.bucket_ids.len(), 2);
    assert_eq!(d.name_prefix.as_deref(), Some("pub/"));
    assert!(d.capabilities.contains(&"bypassGovernance".to_string()));
    assert!(d.expiration_timestamp.is_some());
    assert!(matches!(c.get_key("nope"), Err(ClientError::NotFound(_))));
    // The key works, then expires on the simulator's clock.
    let kc = Client::new(&k.id, &k.key, sim.url()).expect("client");
    kc.authorize().expect("authorize");
    sim.advance_clock(Duration::from_secs(3601));
    let expired = Client::new(&k.id, &k.key, sim.url()).and_then(|kc| kc.authorize());
    let e = expired.expect_err("expired key cannot authorize");
    assert_eq!(api_status(&e), Some(401), "{e}");
    // A capability name this SDK does not know is sent, and B2 (here b2-sim) decides.
    let (id, key) = sim.master_key();
    let c = Client::new(id, key, sim.url()).expect("client");
    let e = c
        .create_key_with("future", &["readFutureThings"], &KeyOptions::default())
        .expect_err("refused by the server");
    assert_eq!(api_status(&e), Some(400), "{e}");
}

#[test]
fn share_urls_download_one_file_until_expiry() {
    let (sim, c) = start();
    c.create_bucket("share-e2e", false).expect("bucket");
    put(&c, "share-e2e", "docs/report 1+1.pdf", b"pdf bytes");
    put(&c, "share-e2e", "docs/other.pdf", b"other");
    let ov = Overrides {
        content_disposition: Some("attachment; filename=\"report.pdf\"".into()),
        ..Default::default()
    };
    let url = c
        .share_url("share-e2e", "docs/report 1+1.pdf", 60, &ov)
        .expect("url");
    assert!(url.contains("b2ContentDisposition="), "{url}");
    let (status, disp, body) = http_get(&url);
    assert_eq!(status, 200);
    assert_eq!(body, b"pdf bytes");
    assert_eq!(disp.as_deref(), Some("attachment; filename=\"report.pdf\""));
    // The token covers that one name only.
    let other = url.replace("report%201%2B1.pdf", "other.pdf");
    assert_eq!(http_get(&other).0, 401);
    // Without the pinned override, refused.
    let bare = url.split("&b2ContentDisposition").next().unwrap_or("");
    assert_eq!(http_get(bare).0, 401);
    // A prefix authorization without overrides covers the folder.
    let auth = c
        .download_authorization("share-e2e", "docs/", 60, &Overrides::default())
        .expect("auth");
    assert!(!format!("{auth:?}").contains(&auth.token));
    let by_prefix = format!(
        "{}/file/share-e2e/docs/other.pdf?Authorization={}",
        sim.url(),
        auth.token
    );
    assert_eq!(http_get(&by_prefix).2, b"other");
    sim.advance_clock(Duration::from_secs(61));
    assert_eq!(http_get(&url).0, 401, "expired");
    assert!(matches!(
        c.share_url("share-e2e", "x", 0, &ov),
        Err(ClientError::Config(_))
    ));
}
