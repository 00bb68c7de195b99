//! Upload URLs kept between runs: the small-file upload URLs (one bucket each) a client
//! still holds unused are stored in the account info file with the time they were obtained,
//! and a client started from that file takes them before asking B2 for new ones
//! (`b2_get_upload_url`).
//!
//! What decides is core's: [`upload_url_reusable`] (B2 keeps an upload URL valid for 24
//! hours, or until an upload to it fails; core hands one out for at most 23), and core's
//! pool, which gives a URL back only after a successful upload, so a cached URL that fails
//! is dropped and never written back. This module only stores, loads and bounds.
//!
//! Part upload URLs (`b2_get_upload_part_url`) are not stored: each belongs to one large
//! file, which a later run either finishes (one URL per thread saved, against the part
//! uploads themselves) or never touches again; keeping them would add entries that are
//! mostly dead.
//!
//! Two processes started from the same file may both take the same URL; B2 then rejects
//! one of the uploads as it rejects any busy URL, and core gets that upload a new URL.

use std::fmt;

use b2_core::op::{upload_url_reusable, UploadUrl};
use b2_core::wire::json::{fields, items, Value};

use super::{now_ms, realm_is_safe, text, Client, Result};

/// Most upload URLs stored for one bucket (a run uses one per upload thread; more are
/// rarely all idle at the end).
pub const MAX_URLS_PER_BUCKET: usize = 4;

/// Most buckets whose upload URLs are stored.
pub const MAX_URL_BUCKETS: usize = 8;

/// A small-file upload URL kept in the account info file.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedUploadUrl {
    /// The bucket it uploads to.
    pub bucket_id: String,
    /// The URL uploads are POSTed to.
    pub url: String,
    /// Its upload authorization token (secret: `Debug` redacts it).
    pub token: String,
    /// When `b2_get_upload_url` gave it (at the latest), ms since the Unix epoch.
    pub obtained_at_ms: u64,
}

impl fmt::Debug for CachedUploadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedUploadUrl")
            .field("bucket_id", &self.bucket_id)
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("obtained_at_ms", &self.obtained_at_ms)
            .finish()
    }
}

impl CachedUploadUrl {
    /// Core's form of it; `None` when a field does not fit core's bounds.
    fn to_core(&self) -> Option<UploadUrl> {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return None;
        }
        UploadUrl::new(&self.bucket_id, &self.url, &self.token).ok()
    }
}

/// Keeps `url` unless its bucket already has [`MAX_URLS_PER_BUCKET`] or it would be the
/// [`MAX_URL_BUCKETS`]+1st bucket.
fn push_bounded(out: &mut Vec<CachedUploadUrl>, url: CachedUploadUrl) {
    let same = out.iter().filter(|u| u.bucket_id == url.bucket_id).count();
    if same >= MAX_URLS_PER_BUCKET {
        return;
    }
    if same == 0 {
        let mut ids: Vec<&str> = out.iter().map(|u| u.bucket_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() >= MAX_URL_BUCKETS {
            return;
        }
    }
    out.push(url);
}

/// Reads the `uploadUrls` array of an account info file. A malformed entry (not an object,
/// a field of the wrong type, a value core's bounds refuse) is an error, as any other damage
/// to the file is; entries past the bounds are ignored, and so are unknown fields.
pub(crate) fn parse(v: Value<'_>) -> std::result::Result<Vec<CachedUploadUrl>, String> {
    let bad = || "bad value for \"uploadUrls\"".to_owned();
    let mut out = Vec::new();
    for item in items(v.array().map_err(|_| bad())?) {
        let item = item.map_err(|_| bad())?;
        let mut u = CachedUploadUrl {
            bucket_id: String::new(),
            url: String::new(),
            token: String::new(),
            obtained_at_ms: 0,
        };
        let mut have = 0u8;
        for f in fields(item.object().map_err(|_| bad())?) {
            let (k, v) = f.map_err(|_| bad())?;
            let s = || v.text().map(text).map_err(|_| bad());
            match k.raw() {
                "bucketId" => (u.bucket_id, have) = (s()?, have | 1),
                "uploadUrl" => (u.url, have) = (s()?, have | 2),
                "authorizationToken" => (u.token, have) = (s()?, have | 4),
                "obtainedAtMillis" => {
                    (u.obtained_at_ms, have) = (v.u64().map_err(|_| bad())?, have | 8)
                }
                _ => {}
            }
        }
        if have != 15 || u.to_core().is_none() {
            return Err(bad());
        }
        push_bounded(&mut out, u);
    }
    Ok(out)
}

/// Appends `urls` to the file's JSON text as its `uploadUrls` field.
pub(crate) fn write(o: &mut String, urls: &[CachedUploadUrl]) {
    o.push_str(",\n  \"uploadUrls\": [");
    for (i, u) in urls.iter().enumerate() {
        o.push_str(if i > 0 { ",\n    " } else { "\n    " });
        o.push_str("{\"bucketId\": ");
        super::json_str(o, &u.bucket_id);
        o.push_str(", \"uploadUrl\": ");
        super::json_str(o, &u.url);
        o.push_str(", \"authorizationToken\": ");
        super::json_str(o, &u.token);
        o.push_str(&format!(", \"obtainedAtMillis\": {}}}", u.obtained_at_ms));
    }
    o.push_str(if urls.is_empty() { "]" } else { "\n  ]" });
}

impl Client {
    /// An idle upload URL for `for_id` (bucket or large file id) from the pool, with the
    /// time it was obtained; core's pool drops those too old to use.
    pub(crate) fn take_upload_url(&self, for_id: &str) -> Option<(UploadUrl, u64)> {
        self.upload_urls().take(for_id, now_ms())
    }

    /// Gives `used` back to the pool after a successful upload that started at
    /// `started_ms` with `taken`: when core kept the URL it was given, its time stays;
    /// a URL core obtained during the upload gets the upload's start time (it is at
    /// least that old). Noted as a change to store.
    pub(crate) fn return_upload_url(
        &self,
        taken: Option<(UploadUrl, u64)>,
        used: UploadUrl,
        started_ms: u64,
    ) {
        let obtained = match taken {
            Some((t, at)) if t == used => at,
            _ => started_ms,
        };
        self.upload_urls().give_back(used, obtained);
        self.account_state().urls_changed = true;
    }

    /// The small-file upload URLs to store: idle ones for buckets this client knows (so
    /// no part URL), still usable now, within [`MAX_URLS_PER_BUCKET`] and
    /// [`MAX_URL_BUCKETS`].
    pub(crate) fn cached_upload_urls(&self, bucket_ids: &[&str]) -> Vec<CachedUploadUrl> {
        let now = now_ms();
        let mut out = Vec::new();
        for (u, at) in self.upload_urls().iter() {
            if !bucket_ids.iter().any(|b| u.for_id == *b) || !upload_url_reusable(at, now) {
                continue;
            }
            push_bounded(
                &mut out,
                CachedUploadUrl {
                    bucket_id: u.for_id.to_string(),
                    url: u.url.to_string(),
                    token: u.token.expose().to_owned(),
                    obtained_at_ms: at,
                },
            );
        }
        out
    }

    /// Puts stored upload URLs into the pool: those still usable now, and (unless
    /// `allow_http`) only https ones or plain http to a loopback address, as for the realm.
    pub(crate) fn seed_upload_urls(&self, urls: &[CachedUploadUrl], allow_http: bool) {
        let now = now_ms();
        let mut pool = self.upload_urls();
        for u in urls {
            if !upload_url_reusable(u.obtained_at_ms, now) || !(allow_http || realm_is_safe(&u.url))
            {
                continue;
            }
            if let Some(c) = u.to_core() {
                pool.give_back(c, u.obtained_at_ms);
            }
        }
    }

    /// Writes the account info file now if this client keeps one ([`Client::persist_to`]),
    /// with the upload URLs it holds unused; `Ok(false)` when it keeps none. A client that
    /// keeps a file also does this when dropped, if its upload URLs changed since the last
    /// write.
    pub fn save_account_info(&self) -> Result<bool> {
        if self.account_state().file.is_none() {
            return Ok(false);
        }
        self.write_back()?;
        Ok(true)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let changed = {
            let a = self.account_state();
            a.file.is_some() && a.urls_changed
        };
        if changed {
            // Best effort: a file that cannot be written costs the next run one
            // `b2_get_upload_url`, nothing more.
            let _ = self.write_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(bucket: &str, n: u64) -> CachedUploadUrl {
        CachedUploadUrl {
            bucket_id: bucket.into(),
            url: format!("https://pod-{n}.example/b2api/v3/b2_upload_file/{bucket}/c1"),
            token: format!("sEcReT{n}"),
            obtained_at_ms: n,
        }
    }

    #[test]
    fn stored_urls_read_back_bounded_and_redacted() {
        let mut all = Vec::new();
        for b in 0..MAX_URL_BUCKETS + 3 {
            for n in 0..MAX_URLS_PER_BUCKET as u64 + 2 {
                all.push(url(&format!("bucket{b}"), n));
            }
        }
        let mut text = String::from("{\"x\": 1");
        write(&mut text, &all);
        text.push('}');
        let mut read = None;
        for f in fields(text.as_bytes()) {
            let (k, v) = f.expect("json");
            if k.raw() == "uploadUrls" {
                read = Some(parse(v).expect("parse"));
            }
        }
        let read = read.expect("uploadUrls");
        assert_eq!(read.len(), MAX_URL_BUCKETS * MAX_URLS_PER_BUCKET);
        let mut bounded = Vec::new();
        for u in all {
            push_bounded(&mut bounded, u);
        }
        assert_eq!(read, bounded);
        let shown = format!("{read:?}");
        assert!(!shown.contains("sEcReT"), "{shown}");
    }

    /// A client with no network behind it (nothing is sent), knowing bucket `bkt`.
    fn offline() -> Client {
        use crate::transport::{TransportConfig, UreqTransport};
        let creds =
            b2_core::session::Credentials::new("kid", "key", "http://127.0.0.1:1").expect("creds");
        let transport = UreqTransport::new(&TransportConfig::default()).expect("transport");
        let c = Client::assemble(
            b2_core::session::Session::new(creds),
            transport,
            super::super::builder::Settings::default(),
        );
        c.buckets.lock().expect("buckets").insert(
            "b".into(),
            super::super::BucketInfo {
                id: "bkt".into(),
                name: "b".into(),
                bucket_type: super::super::BucketType::Unknown,
                revision: 0,
            },
        );
        c
    }

    #[test]
    fn only_fresh_urls_of_known_buckets_are_stored_within_bounds() {
        let c = offline();
        let now = now_ms();
        let hour = 3600 * 1000;
        let core = |id: &str, n: u64| {
            UploadUrl::new(id, &format!("https://pod-{n}.example/up"), "t").expect("url")
        };
        // A part URL (large file id), a URL too old, then more fresh ones than kept.
        c.return_upload_url(None, core("4_zfile", 0), now);
        c.return_upload_url(None, core("bkt", 1), now - 23 * hour);
        for n in 2..9 {
            c.return_upload_url(None, core("bkt", n), now);
        }
        let a = c.account_info();
        assert_eq!(a.upload_urls.len(), MAX_URLS_PER_BUCKET, "{a:?}");
        assert!(a.upload_urls.iter().all(|u| u.bucket_id == "bkt"), "{a:?}");
        assert!(
            a.upload_urls.iter().all(|u| u.obtained_at_ms == now),
            "{a:?}"
        );
        // A URL given back that is the one taken keeps its time; another gets the start.
        let taken = c.take_upload_url("bkt").expect("one idle");
        let kept = taken.0.clone();
        c.return_upload_url(Some(taken), kept.clone(), now + 5);
        let fresh = core("bkt", 99);
        c.return_upload_url(Some((core("bkt", 98), 1)), fresh.clone(), now + 5);
        let pool: Vec<(UploadUrl, u64)> = c
            .upload_urls()
            .iter()
            .map(|(u, at)| (u.clone(), at))
            .collect();
        assert!(pool.contains(&(kept, now)));
        assert!(pool.contains(&(fresh, now + 5)));
        assert!(!pool
            .iter()
            .any(|(u, _)| u.url == "https://pod-98.example/up"));
    }
}
