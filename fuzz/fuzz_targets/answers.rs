//! Every JSON answer parser of b2-core, walked to the end (lazy lists included).
#![no_main]

use b2_core::wire::{
    auth, bucket, encryption, error_body, file, key, large, lock, notify, settings, upload, Answer,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|b: &[u8]| {
    if let Ok(a) = auth::AuthorizeAnswer::parse(b) {
        let _ = a.allowed.capabilities.count();
        let _ = a.allowed.buckets.map(|x| x.count());
    }
    let _ = auth::DownloadAuthorization::parse(b);
    if let Ok(a) = bucket::ListBucketsAnswer::parse(b) {
        for x in a.buckets.flatten() {
            let _ = x.bucket_info.entries().count();
            for w in [
                x.default_server_side_encryption,
                x.file_lock_configuration,
                x.replication_configuration,
            ]
            .into_iter()
            .flatten()
            {
                let _ = (w.object(), w.text());
            }
        }
    }
    if let Ok(f) = file::File::parse(b) {
        let _ = f.sha1();
        for w in [f.file_retention, f.legal_hold].into_iter().flatten() {
            let _ = (w.object(), w.text());
        }
        let mut out = [0u8; 64];
        let _ = f.file_name.unescape(&mut out);
        let _ = f.file_info.entries().count();
        let _ = (f.retention(), f.legal_hold_state(), f.encryption());
    }
    let _ = lock::RetentionAnswer::parse(b);
    let _ = lock::LegalHoldAnswer::parse(b);
    let _ = lock::Retention::parse(b);
    let _ = encryption::FileEncryption::parse(b);
    let _ = file::FileRef::parse(b);
    if let Ok(a) = file::ListFilesAnswer::parse(b) {
        let _ = a.files.count();
    }
    if let Ok(a) = large::ListPartsAnswer::parse(b) {
        let _ = a.parts.count();
    }
    let _ = large::Part::parse(b);
    if let Ok(a) = key::ListKeysAnswer::parse(b) {
        for k in a.keys.flatten() {
            let _ = k.capabilities.count();
        }
    }
    let _ = upload::UploadUrlAnswer::parse(b);
    let _ = error_body::parse(400, b);
    // Bucket settings read back in full: every CORS, lifecycle and replication rule walked.
    if let Ok(a) = settings::ListBucketSettingsAnswer::parse(b) {
        for s in a.buckets.flatten() {
            for c in s.cors_rules.clone().flatten() {
                let _ = (c.allowed_origins.count(), c.allowed_operations.count());
            }
            let _ = s.lifecycle_rules.clone().count();
            let _ = s.default_encryption_mode();
            if let Ok(Some(r)) = s.replication() {
                let _ = r.rules.count();
                let _ = r.key_mapping.map(|m| m.entries().count());
            }
        }
    }
    if let Ok(n) = notify::NotificationRules::parse(b) {
        for r in n.rules.flatten() {
            let _ = r.event_types.count();
        }
    }
    if let Ok(k) = key::Key::parse(b) {
        let _ = (k.expiration_timestamp, k.bucket_ids.map(|i| i.count()));
    }
});
