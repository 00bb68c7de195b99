//! Encryption (SSE-B2, SSE-C), Object Lock and the custom upload timestamp on the wire:
//! upload headers, part headers, download and HEAD headers, and the two Object Lock calls
//! with their answers (scripted, one exchange at a time).

use std::format;

use crate::encoding::Base64Bytes;
use crate::error::{BadAnswer, Error};
use crate::http::Method;
use crate::op::script::answers::{self, API};
use crate::op::script::{Reply, Script};
use crate::op::{Call, Download, FileParams, Step, Target, UploadFile, UploadPart, UploadUrl};
use crate::wire::encryption::{CustomerKey, Encryption};
use crate::wire::lock::{
    LegalHold, Retention, RetentionMode, UpdateFileLegalHold, UpdateFileRetention,
};

const BUCKET: &str = "bkt";
const ID: &str = "4_f1";

fn key() -> CustomerKey {
    CustomerKey::new([0x42; 32])
}

fn b64(b: &[u8]) -> String {
    format!("{}", Base64Bytes(b))
}

use std::string::String;

#[test]
fn an_sse_c_upload_sends_the_key_its_md5_and_the_lock_headers() {
    let data = b"secret data";
    let k = key();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut params = FileParams::new(BUCKET, "x", data.len() as u64);
    params.encryption = Some(Encryption::SseC(&k));
    params.retention = Some(Retention {
        mode: RetentionMode::Governance,
        retain_until_ms: 1_900_000_000_000,
    });
    params.legal_hold = Some(LegalHold::On);
    params.custom_upload_timestamp = Some(1_600_000_000_000);
    let url = UploadUrl::new(BUCKET, &answers::upload_url_of(1), "up-1").expect("url");
    let mut op = UploadFile::new(&mut s, &mut buf, params, &data[..], Some(url)).expect("new");
    let mut script = Script::new([Reply::ok(answers::file(ID, "x", data))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(
        r.header("X-Bz-Server-Side-Encryption-Customer-Algorithm"),
        Some("AES256")
    );
    assert_eq!(
        r.header("X-Bz-Server-Side-Encryption-Customer-Key"),
        Some(b64(&[0x42; 32]).as_str())
    );
    assert_eq!(
        r.header("X-Bz-Server-Side-Encryption-Customer-Key-Md5"),
        Some(b64(&k.key_md5()).as_str())
    );
    assert_eq!(r.header("X-Bz-Server-Side-Encryption"), None);
    assert_eq!(r.header("X-Bz-File-Retention-Mode"), Some("governance"));
    assert_eq!(
        r.header("X-Bz-File-Retention-Retain-Until-Timestamp"),
        Some("1900000000000")
    );
    assert_eq!(r.header("X-Bz-File-Legal-Hold"), Some("on"));
    assert_eq!(
        r.header("X-Bz-Custom-Upload-Timestamp"),
        Some("1600000000000")
    );
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    script.finish();
}

#[test]
fn an_sse_b2_upload_says_aes256_and_a_plain_one_says_nothing() {
    for (enc, want) in [(Some(Encryption::SseB2), Some("AES256")), (None, None)] {
        let mut s = answers::authorized("tok-1");
        let mut buf = [0u8; 2048];
        let mut params = FileParams::new(BUCKET, "x", 1);
        params.encryption = enc;
        let url = UploadUrl::new(BUCKET, &answers::upload_url_of(1), "up-1").expect("url");
        let mut op = UploadFile::new(&mut s, &mut buf, params, &b"a"[..], Some(url)).expect("new");
        let mut script = Script::new([Reply::ok(answers::file(ID, "x", b"a"))]);
        assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
        let r = script.last();
        assert_eq!(r.header("X-Bz-Server-Side-Encryption"), want);
        assert!(r
            .headers
            .iter()
            .all(|(n, _)| !n.to_ascii_lowercase().contains("customer")));
        assert_eq!(r.header("X-Bz-File-Legal-Hold"), None);
    }
}

#[test]
fn an_sse_c_part_carries_the_key() {
    let k = key();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let data = [7u8; 10];
    let url = UploadUrl::new("4_large", &answers::upload_url_of(3), "up-3").expect("url");
    let mut op = UploadPart::new(&mut s, &mut buf, "4_large", 2, &data[..], 0, 10, Some(url))
        .expect("new")
        .with_customer_key(Some(&k));
    let mut script = Script::new([Reply::ok(serde_json::json!({
        "fileId": "4_large", "partNumber": 2, "contentLength": 10,
        "contentSha1": crate::op::script::hex(&crate::op::script::sha1(&data)),
    }))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.header("X-Bz-Part-Number"), Some("2"));
    assert_eq!(
        r.header("X-Bz-Server-Side-Encryption-Customer-Key-Md5"),
        Some(b64(&k.key_md5()).as_str())
    );
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
}

#[test]
fn downloads_and_heads_send_the_customer_key() {
    let k = key();
    for head in [false, true] {
        let mut s = answers::authorized("tok-1");
        let mut buf = [0u8; 1024];
        let mut sink = [0u8; 16];
        let mut op = Download::new(&mut s, &mut buf, Target::ById(ID), &mut sink[..])
            .expect("new")
            .customer_key(Some(&k));
        if head {
            op = op.head_only();
        }
        let mut script = Script::new([answers::download(ID, b"abc")]);
        assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
        let r = script.last();
        assert_eq!(r.method, if head { Method::Head } else { Method::Get });
        assert_eq!(
            r.header("X-Bz-Server-Side-Encryption-Customer-Key"),
            Some(b64(&[0x42; 32]).as_str())
        );
        assert_eq!(
            r.header("X-Bz-Server-Side-Encryption-Customer-Algorithm"),
            Some("AES256")
        );
    }
}

#[test]
fn update_retention_sends_bypass_and_reads_the_answer() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let call = UpdateFileRetention {
        file_name: "x",
        file_id: ID,
        retention: None,
        bypass_governance: true,
    };
    let mut op = Call::new(&mut s, &mut buf, call);
    let mut script = Script::new([Reply::ok(serde_json::json!({
        "fileId": ID, "fileName": "x",
        "fileRetention": {"mode": null, "retainUntilTimestamp": null},
    }))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.url, format!("{API}/b2api/v4/b2_update_file_retention"));
    assert_eq!(
        r.json(),
        serde_json::json!({"fileName": "x", "fileId": ID, "bypassGovernance": true,
            "fileRetention": {"mode": null, "retainUntilTimestamp": null}})
    );
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    let a = op.answer().expect("answer");
    assert_eq!(a.retention, None);
}

#[test]
fn update_legal_hold_and_a_refusal_is_typed() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let call = UpdateFileLegalHold {
        file_name: "x",
        file_id: ID,
        legal_hold: LegalHold::Off,
    };
    let mut op = Call::new(&mut s, &mut buf, call);
    let mut script = Script::new([Reply::ok(serde_json::json!({
        "fileId": ID, "fileName": "x", "legalHold": "sideways",
    }))]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.last().json(),
        serde_json::json!({"fileName": "x", "fileId": ID, "legalHold": "off"})
    );
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
    assert_eq!(op.answer().err(), Some(Error::BadAnswer(BadAnswer::Json)));
}

#[test]
fn delete_sends_bypass_governance() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let call = crate::wire::file::DeleteFileVersion {
        file_name: "x",
        file_id: ID,
        bypass_governance: true,
    };
    let mut op = Call::new(&mut s, &mut buf, call);
    let mut script = Script::new([Reply::ok(
        serde_json::json!({"fileId": ID, "fileName": "x"}),
    )]);
    assert_eq!(script.step(&mut op, 0), Ok(Step::Send));
    assert_eq!(
        script.last().json(),
        serde_json::json!({"fileName": "x", "fileId": ID, "bypassGovernance": true})
    );
    assert_eq!(script.step(&mut op, 0), Ok(Step::Done));
}

#[test]
fn encryption_or_lock_shrinks_the_header_budget_to_2048_bytes() {
    let k = key();
    let long = "v".repeat(1500);
    let info = [("a", long.as_str())];
    let name = ["n".repeat(200), "m".repeat(200), "o".repeat(200)].join("/");
    let mut params = FileParams::new(BUCKET, &name, 1);
    params.info = &info;
    assert_eq!(params.validate(false), Ok(()));
    params.encryption = Some(Encryption::SseC(&k));
    assert_eq!(
        params.validate(false),
        Err(crate::error::InvalidInput::HeadersTooLarge)
    );
    params.encryption = None;
    params.legal_hold = Some(LegalHold::Off);
    assert_eq!(
        params.validate(false),
        Err(crate::error::InvalidInput::HeadersTooLarge)
    );
}
