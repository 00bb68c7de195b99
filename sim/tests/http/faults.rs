use std::time::{Duration, Instant};

use b2_sim::{Faults, Sim};
use serde_json::json;

use crate::common::*;

fn setup(f: Faults) -> (Sim, Client, String) {
    let s = sim();
    let c = Client::new(&s);
    let b = c.create_bucket("fault-bucket", "allPrivate");
    s.set_faults(f);
    (s, c, b)
}

fn try_upload(c: &Client, b: &str, name: &str, body: &[u8]) -> Result<Answer, ()> {
    let (url, tok) = c.upload_url(b);
    let sha = sha1_hex(body);
    let r = c
        .agent
        .post(&url)
        .header("Authorization", &tok)
        .header("X-Bz-File-Name", name)
        .header("Content-Type", "a/b")
        .header("X-Bz-Content-Sha1", &sha)
        .send(body);
    match r {
        Ok(_) => Ok(answer(r)),
        Err(_) => Err(()),
    }
}

#[test]
fn every_nth_upload_fails_with_503() {
    for after_body in [false, true] {
        let (s, c, b) = setup(Faults {
            upload_503_every: Some(2),
            upload_503_after_body: after_body,
            retry_after_secs: 7,
            ..Default::default()
        });
        let body = data(1000, 1);
        assert_eq!(try_upload(&c, &b, "a", &body).unwrap().status, 200);
        let a = try_upload(&c, &b, "b", &body).unwrap();
        assert_eq!((a.status, a.code().as_str()), (503, "service_unavailable"));
        assert_eq!(a.header("retry-after"), Some("7"));
        assert_eq!(try_upload(&c, &b, "c", &body).unwrap().status, 200);
        assert_eq!(s.stats().faults.service_unavailable, 1);
        assert_eq!(s.file_bytes("fault-bucket", "b"), None);
        // Parts count as uploads.
        let id = c.start_large(&b, "large");
        assert_eq!(c.upload_part(&id, 1, &data(200, 1)).status, 503);
        assert_eq!(c.upload_part(&id, 1, &data(200, 1)).status, 200);
    }
}

#[test]
fn every_nth_call_expires_the_token() {
    let (s, c, _b) = setup(Faults {
        expire_token_every: Some(3),
        ..Default::default()
    });
    let args = json!({"accountId": c.account_id});
    assert_eq!(c.call("b2_list_buckets", args.clone()).status, 200);
    assert_eq!(c.call("b2_list_buckets", args.clone()).status, 200);
    let a = c.call("b2_list_buckets", args.clone());
    assert_eq!((a.status, a.code().as_str()), (401, "expired_auth_token"));
    let a = c.call("b2_list_buckets", args.clone());
    assert_eq!(a.code(), "expired_auth_token", "the token stays expired");
    let c2 = Client::new(&s);
    assert_eq!(c2.call("b2_list_buckets", args).status, 200);
    assert_eq!(s.stats().faults.expired_tokens, 1);
}

#[test]
fn every_nth_request_gets_429() {
    let (s, c, _b) = setup(Faults {
        too_many_requests_every: Some(2),
        retry_after_secs: 3,
        ..Default::default()
    });
    let args = json!({"accountId": c.account_id});
    assert_eq!(c.call("b2_list_buckets", args.clone()).status, 200);
    let a = c.call("b2_list_buckets", args.clone());
    assert_eq!((a.status, a.code().as_str()), (429, "too_many_requests"));
    assert_eq!(a.header("retry-after"), Some("3"));
    assert_eq!(c.call("b2_list_buckets", args).status, 200);
    assert_eq!(s.stats().faults.too_many_requests, 1);
}

#[test]
fn reset_mid_body() {
    let (s, c, b) = setup(Faults {
        reset_upload_every: Some(1),
        ..Default::default()
    });
    let body = data(4_000_000, 3);
    assert!(
        try_upload(&c, &b, "r", &body).is_err(),
        "connection must drop"
    );
    assert_eq!(s.stats().faults.resets, 1);
    assert_eq!(s.file_bytes("fault-bucket", "r"), None);
    s.set_faults(Faults::default());
    assert_eq!(try_upload(&c, &b, "r", &body).unwrap().status, 200);
    assert_eq!(s.file_bytes("fault-bucket", "r").unwrap(), body);
}

#[test]
fn fixed_delay() {
    let (s, c, _b) = setup(Faults {
        delay: Some(Duration::from_millis(150)),
        ..Default::default()
    });
    let t = Instant::now();
    c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert!(s.stats().faults.delayed >= 1);
}

#[test]
fn test_mode_header() {
    let (s, c, b) = setup(Faults {
        seed: 11,
        ..Default::default()
    });
    let a = answer(
        c.agent
            .post(format!("{}/b2api/v4/b2_list_buckets", s.url()))
            .header("Authorization", &c.token)
            .header("X-Bz-Test-Mode", "force_cap_exceeded")
            .send(json!({"accountId": c.account_id}).to_string().as_bytes()),
    );
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "transaction_cap_exceeded")
    );

    let run = |seed: u64| {
        let s = sim();
        let c = Client::new(&s);
        let b = c.create_bucket("mode-bucket", "allPrivate");
        s.set_faults(Faults {
            seed,
            ..Default::default()
        });
        let (url, tok) = c.upload_url(&b);
        let sha = sha1_hex(b"x");
        (0..30)
            .map(|i| {
                answer(
                    c.agent
                        .post(&url)
                        .header("Authorization", &tok)
                        .header("X-Bz-File-Name", format!("f{i}"))
                        .header("Content-Type", "a/b")
                        .header("X-Bz-Content-Sha1", &sha)
                        .header("X-Bz-Test-Mode", "fail_some_uploads")
                        .send(&b"x"[..]),
                )
                .status
            })
            .collect::<Vec<u16>>()
    };
    let first = run(5);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
    assert_eq!(first, run(5), "same seed, same faults");

    let mut expired = 0;
    for _ in 0..30 {
        let c2 = Client::new(&s);
        let a = answer(
            c2.agent
                .post(format!("{}/b2api/v4/b2_list_buckets", s.url()))
                .header("Authorization", &c2.token)
                .header("X-Bz-Test-Mode", "expire_some_account_authorization_tokens")
                .send(json!({"accountId": c2.account_id}).to_string().as_bytes()),
        );
        if a.code() == "expired_auth_token" {
            expired += 1;
        }
    }
    assert!(expired > 0 && expired < 30);
    s.set_faults(Faults {
        force_cap_exceeded: true,
        ..Default::default()
    });
    let (url, tok) = {
        s.set_faults(Faults::default());
        let u = c.upload_url(&b);
        s.set_faults(Faults {
            force_cap_exceeded: true,
            ..Default::default()
        });
        u
    };
    let a = c.upload_with(&url, &tok, &[("X-Bz-File-Name", "x")], b"x");
    assert_eq!((a.status, a.code().as_str()), (403, "storage_cap_exceeded"));
    let a = c.get("/file/fault-bucket/x", Some(&c.token), None);
    assert_eq!(
        (a.status, a.code().as_str()),
        (403, "download_cap_exceeded")
    );
}
