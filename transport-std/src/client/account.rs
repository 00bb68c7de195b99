//! Account info that persists: the authorization (account id, URLs, token, restrictions,
//! capabilities, part sizes), the application key it came from, bucket name → id, and the
//! small-file upload URLs left unused (`url_cache.rs`), kept in one file of mode 0600 so
//! that later runs need not authorize, look buckets up or ask for upload URLs again.
//!
//! The file is `$B2_ACCOUNT_INFO` when set, else `$XDG_CONFIG_HOME/b2-rust/account.json`
//! when `XDG_CONFIG_HOME` is set, else `~/.b2-rust/account.json` ([`AccountInfo::default_path`]).
//! It is always replaced whole: a temporary file of mode 0600 created exclusively in the same
//! directory, written, flushed to disk (`fsync`), then renamed over the final name, so a link
//! planted at that name is replaced, never followed. It is read only when it is a regular
//! file (a symbolic link there is refused).
//!
//! The application key is stored in it, as the official tool stores it in its account info
//! (also mode 0600): re-authorizing when the token expires needs it. `Debug` of
//! [`AccountInfo`] shows neither the key, the token nor an upload token.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use b2_core::http::{Headers, Request, TransportError};
use b2_core::op::{Abort, Authorize, Exchange, Operation, Step};
use b2_core::secret::Secret;
use b2_core::session::{fixed, Allowed, Credentials, Session};
use b2_core::wire::auth::AuthorizeAnswer;
use b2_core::wire::json::{fields, items, Value};

use super::builder::Settings;
use super::url_cache::{self, CachedUploadUrl};
use super::{
    json_str, now_ms, os_entropy, realm_is_safe, text, BucketInfo, BucketType, Client, ClientError,
    Result, FIRST_BUF,
};
use crate::transport::{TransportConfig, UreqTransport};

/// A token older than this is renewed before use (B2's tokens live at most 24 h).
pub const REAUTHORIZE_AFTER: Duration = Duration::from_secs(23 * 3600);

/// Largest account info file read (a real one is a few KiB).
const MAX_FILE: u64 = 1 << 20;

/// Largest authorize answer kept to read the capabilities from.
const MAX_AUTH_ANSWER: usize = 64 * 1024;

/// What an authorization gave, plus the key it was made with and the bucket ids looked up
/// since: everything a [`Client`] needs to start without authorizing.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// Realm URL authorization goes to.
    pub realm: String,
    /// Application key id.
    pub key_id: String,
    /// The application key (secret: never printed, `Debug` redacts it).
    pub key: String,
    /// Account id.
    pub account_id: String,
    /// Account authorization token (secret: `Debug` redacts it).
    pub token: String,
    /// API URL.
    pub api_url: String,
    /// Download URL.
    pub download_url: String,
    /// `recommendedPartSize`.
    pub recommended_part_size: u64,
    /// `absoluteMinimumPartSize`.
    pub min_part_size: u64,
    /// The bucket the key is restricted to (id), if any.
    pub allowed_bucket_id: Option<String>,
    /// That bucket's name.
    pub allowed_bucket_name: Option<String>,
    /// The file name prefix the key is restricted to, if any.
    pub name_prefix: Option<String>,
    /// The key's capabilities, as authorization listed them.
    pub capabilities: Vec<String>,
    /// When the token was obtained, ms since the Unix epoch.
    pub authorized_at_ms: u64,
    /// Bucket name → id, as looked up.
    pub buckets: BTreeMap<String, String>,
    /// Small-file upload URLs left unused, with their tokens (secrets: `Debug` shows only
    /// how many), taken before asking B2 for new ones (`url_cache.rs`).
    pub upload_urls: Vec<CachedUploadUrl>,
}

impl fmt::Debug for AccountInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountInfo")
            .field("realm", &self.realm)
            .field("key_id", &self.key_id)
            .field("key", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("token", &"<redacted>")
            .field("api_url", &self.api_url)
            .field("download_url", &self.download_url)
            .field("allowed_bucket_name", &self.allowed_bucket_name)
            .field("name_prefix", &self.name_prefix)
            .field("capabilities", &self.capabilities)
            .field("authorized_at_ms", &self.authorized_at_ms)
            .field("buckets", &self.buckets)
            .field("upload_urls", &self.upload_urls.len())
            .finish_non_exhaustive()
    }
}

fn bad_file(path: &Path, why: &str) -> ClientError {
    ClientError::Config(format!("account info {}: {why}", path.display()))
}

impl AccountInfo {
    /// Where the account info lives: `$B2_ACCOUNT_INFO`, else
    /// `$XDG_CONFIG_HOME/b2-rust/account.json`, else `$HOME/.b2-rust/account.json`; `None`
    /// when none of these variables is set.
    pub fn default_path() -> Option<PathBuf> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if let Some(p) = var("B2_ACCOUNT_INFO") {
            return Some(PathBuf::from(p));
        }
        if let Some(x) = var("XDG_CONFIG_HOME").map(PathBuf::from) {
            if x.is_absolute() {
                return Some(x.join("b2-rust").join("account.json"));
            }
        }
        var("HOME").map(|h| PathBuf::from(h).join(".b2-rust").join("account.json"))
    }

    /// How long ago the token was obtained.
    pub fn token_age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.authorized_at_ms))
    }

    /// Whether the token is young enough to use without authorizing first
    /// (younger than [`REAUTHORIZE_AFTER`]).
    pub fn is_fresh(&self) -> bool {
        self.token_age() < REAUTHORIZE_AFTER && !self.token.is_empty()
    }

    /// Reads the account info at `path`; `Ok(None)` when there is no file. A symbolic link
    /// or anything else that is not a regular file there is refused, and so is a file that
    /// is not what [`AccountInfo::save`] writes.
    pub fn load(path: &Path) -> Result<Option<AccountInfo>> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if !meta.file_type().is_file() {
            return Err(bad_file(
                path,
                "not a regular file (a link is not followed)",
            ));
        }
        let file = std::fs::File::open(path)?;
        // The file opened must be the one examined (not swapped for a link in between).
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = file.metadata()?;
            if m.ino() != meta.ino() || m.dev() != meta.dev() || !m.is_file() {
                return Err(bad_file(path, "changed while being opened"));
            }
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE {
            return Err(bad_file(path, "larger than 1 MiB"));
        }
        Self::parse(&bytes)
            .map(Some)
            .map_err(|why| bad_file(path, &why))
    }

    fn parse(bytes: &[u8]) -> std::result::Result<AccountInfo, String> {
        let bytes = bytes.trim_ascii();
        let mut a = AccountInfo::default();
        let bad = |k: &str| format!("bad value for {k:?}");
        let s = |v: Value<'_>, k: &str| v.text().map(text).map_err(|_| bad(k));
        let opt = |v: Value<'_>, k: &str| v.opt_text().map(|t| t.map(text)).map_err(|_| bad(k));
        let mut version = None;
        for f in fields(bytes) {
            let (k, v) = f.map_err(|_| "not valid JSON".to_owned())?;
            let k = k.raw();
            match k {
                "version" => version = Some(v.u64().map_err(|_| bad(k))?),
                "realm" => a.realm = s(v, k)?,
                "applicationKeyId" => a.key_id = s(v, k)?,
                "applicationKey" => a.key = s(v, k)?,
                "accountId" => a.account_id = s(v, k)?,
                "authorizationToken" => a.token = s(v, k)?,
                "apiUrl" => a.api_url = s(v, k)?,
                "downloadUrl" => a.download_url = s(v, k)?,
                "recommendedPartSize" => a.recommended_part_size = v.u64().map_err(|_| bad(k))?,
                "absoluteMinimumPartSize" => a.min_part_size = v.u64().map_err(|_| bad(k))?,
                "allowedBucketId" => a.allowed_bucket_id = opt(v, k)?,
                "allowedBucketName" => a.allowed_bucket_name = opt(v, k)?,
                "namePrefix" => a.name_prefix = opt(v, k)?,
                "authorizedAtMillis" => a.authorized_at_ms = v.u64().map_err(|_| bad(k))?,
                "capabilities" => {
                    for c in items(v.array().map_err(|_| bad(k))?) {
                        let c = c.map_err(|_| bad(k))?;
                        a.capabilities.push(s(c, k)?);
                    }
                }
                "uploadUrls" => a.upload_urls = url_cache::parse(v)?,
                "buckets" => {
                    for e in fields(v.object().map_err(|_| bad(k))?) {
                        let (name, id) = e.map_err(|_| bad(k))?;
                        a.buckets.insert(text(name), s(id, k)?);
                    }
                }
                _ => {}
            }
        }
        if version != Some(1) {
            return Err("unknown format version (expected 1)".into());
        }
        if a.realm.is_empty() || a.key_id.is_empty() || a.key.is_empty() {
            return Err("no realm or key".into());
        }
        Ok(a)
    }

    /// The file's text (JSON).
    fn to_json(&self) -> String {
        let mut o = String::from("{\n  \"version\": 1");
        let str_field = |o: &mut String, k: &str, v: Option<&str>| {
            o.push_str(",\n  ");
            json_str(o, k);
            o.push_str(": ");
            match v {
                Some(v) => json_str(o, v),
                None => o.push_str("null"),
            }
        };
        str_field(&mut o, "realm", Some(&self.realm));
        str_field(&mut o, "applicationKeyId", Some(&self.key_id));
        str_field(&mut o, "applicationKey", Some(&self.key));
        str_field(&mut o, "accountId", Some(&self.account_id));
        str_field(&mut o, "authorizationToken", Some(&self.token));
        str_field(&mut o, "apiUrl", Some(&self.api_url));
        str_field(&mut o, "downloadUrl", Some(&self.download_url));
        str_field(&mut o, "allowedBucketId", self.allowed_bucket_id.as_deref());
        str_field(
            &mut o,
            "allowedBucketName",
            self.allowed_bucket_name.as_deref(),
        );
        str_field(&mut o, "namePrefix", self.name_prefix.as_deref());
        o.push_str(&format!(
            ",\n  \"recommendedPartSize\": {},\n  \"absoluteMinimumPartSize\": {},\n  \
             \"authorizedAtMillis\": {},\n  \"capabilities\": [",
            self.recommended_part_size, self.min_part_size, self.authorized_at_ms
        ));
        for (i, c) in self.capabilities.iter().enumerate() {
            if i > 0 {
                o.push_str(", ");
            }
            json_str(&mut o, c);
        }
        o.push_str("],\n  \"buckets\": {");
        for (i, (name, id)) in self.buckets.iter().enumerate() {
            o.push_str(if i > 0 { ", " } else { "" });
            json_str(&mut o, name);
            o.push_str(": ");
            json_str(&mut o, id);
        }
        o.push('}');
        url_cache::write(&mut o, &self.upload_urls);
        o.push_str("\n}\n");
        o
    }

    /// Writes the account info to `path`, replacing what is there: a temporary file of mode
    /// 0600 created exclusively next to it (its directory made with mode 0700 when missing),
    /// flushed to disk, then renamed into place. A link at `path` is replaced, not followed.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        let base = path
            .file_name()
            .ok_or_else(|| bad_file(path, "no file name"))?
            .to_string_lossy()
            .into_owned();
        let json = self.to_json();
        for _ in 0..8 {
            let tmp = dir.join(format!(".{base}.tmp-{:016x}", os_entropy()));
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = match opts.open(&tmp) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            };
            let r = f
                .write_all(json.as_bytes())
                .and_then(|_| f.sync_all())
                .and_then(|_| std::fs::rename(&tmp, path));
            if let Err(e) = r {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.into());
            }
            // The rename itself survives a power cut once the directory is flushed too.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            return Ok(());
        }
        Err(bad_file(path, "no free temporary name next to it"))
    }

    /// Removes the account info at `path`; `Ok(false)` when there was none. A link there is
    /// removed itself, its target left alone.
    pub fn clear(path: &Path) -> Result<bool> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The session these values describe (credentials, token, URLs, restrictions), checked
    /// as core checks an authorize answer.
    fn session(&self) -> Result<Session> {
        let creds = Credentials::new(&self.key_id, &self.key, &self.realm)?;
        let mut s = Session::new(creds);
        let url = |u: &str| -> Result<b2_core::session::Url> {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(ClientError::Config(format!(
                    "account info: {u:?} is not an http(s) URL"
                )));
            }
            Ok(fixed(u.trim_end_matches('/'))?)
        };
        s.api_url = url(&self.api_url)?;
        s.download_url = url(&self.download_url)?;
        s.account_id = fixed(&self.account_id)?;
        s.min_part_size = self.min_part_size.max(1);
        s.recommended_part_size = self.recommended_part_size.max(s.min_part_size);
        s.allowed = Allowed {
            bucket_id: self.allowed_bucket_id.as_deref().map(fixed).transpose()?,
            bucket_name: self.allowed_bucket_name.as_deref().map(fixed).transpose()?,
            name_prefix: self.name_prefix.as_deref().map(fixed).transpose()?,
        };
        if self.is_fresh() {
            s.token = Secret::new(&self.token)?;
        }
        Ok(s)
    }
}

/// What the client keeps about its account beyond the session.
#[derive(Debug, Default)]
pub(crate) struct AccountState {
    /// Capabilities from the last authorize answer this client read.
    pub(crate) capabilities: Vec<String>,
    /// When the session's token was obtained (ms since the epoch; 0: not yet).
    pub(crate) authorized_at_ms: u64,
    /// Where to write the account info back (refreshed tokens, buckets looked up).
    pub(crate) file: Option<PathBuf>,
    /// Upload URLs were given back since the file was last written.
    pub(crate) urls_changed: bool,
}

/// Runs core's `Authorize` and keeps the body of its successful answer, to read what the
/// session does not hold (the capabilities).
struct Capture<'s, 'b> {
    inner: Authorize<'s, 'b>,
    status: u16,
    body: Vec<u8>,
    answer: Option<Vec<u8>>,
}

impl Exchange for Capture<'_, '_> {
    fn request(&mut self) -> std::result::Result<Request<'_>, Abort> {
        self.inner.request()
    }

    fn body(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Abort> {
        self.inner.body(buf)
    }

    fn response(&mut self, status: u16, headers: &dyn Headers) -> std::result::Result<(), Abort> {
        self.status = status;
        self.body.clear();
        self.inner.response(status, headers)
    }

    fn response_body(&mut self, chunk: &[u8]) -> std::result::Result<(), Abort> {
        if self.status == 200 && self.body.len() + chunk.len() <= MAX_AUTH_ANSWER {
            self.body.extend_from_slice(chunk);
        }
        self.inner.response_body(chunk)
    }

    fn response_end(&mut self) -> std::result::Result<(), Abort> {
        self.inner.response_end()?;
        if self.status == 200 {
            self.answer = Some(std::mem::take(&mut self.body));
        }
        Ok(())
    }
}

impl Operation for Capture<'_, '_> {
    fn poll(&mut self, now_ms: u64) -> std::result::Result<Step, b2_core::Error> {
        self.inner.poll(now_ms)
    }

    fn transport_failed(&mut self, error: TransportError, now_ms: u64) {
        self.inner.transport_failed(error, now_ms);
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

/// The capabilities in an authorize answer (empty when it cannot be read).
fn capabilities(answer: &[u8]) -> Vec<String> {
    use b2_core::wire::Answer;
    AuthorizeAnswer::parse(answer)
        .map(|a| {
            a.allowed
                .capabilities
                .filter_map(|c| c.ok().map(text))
                .collect()
        })
        .unwrap_or_default()
}

impl Client {
    /// Authorizes now (through core's `Authorize`), keeping the capabilities and the time,
    /// and writes the account info back when the client has a file.
    pub(crate) fn authorize_now(&self) -> Result<()> {
        let mut s = self.session();
        let mut buf = vec![0u8; FIRST_BUF];
        let mut op = Capture {
            inner: Authorize::new(&mut s, &mut buf).with_policy(self.retry_policy()),
            status: 0,
            body: Vec::new(),
            answer: None,
        };
        self.run(&mut op)?;
        let caps = op.answer.as_deref().map(capabilities).unwrap_or_default();
        drop(op);
        {
            let mut a = self.account_state();
            a.capabilities = caps;
            a.authorized_at_ms = now_ms();
        }
        self.store_session(s);
        self.write_back()
    }

    pub(crate) fn account_state(&self) -> std::sync::MutexGuard<'_, AccountState> {
        self.account.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A client from stored account info, with no authorize call while its token is younger
    /// than [`REAUTHORIZE_AFTER`] (an older one is renewed first). Buckets it names are not
    /// looked up again. Refused like [`Client::with_transport`] for a plain-http realm or API
    /// URL off loopback unless `cfg.allow_http`.
    pub fn from_account_info(info: &AccountInfo, cfg: &TransportConfig) -> Result<Client> {
        Client::resume(info, cfg, Settings::default())
    }

    /// [`Client::from_account_info`] with the builder's settings.
    pub(crate) fn resume(
        info: &AccountInfo,
        cfg: &TransportConfig,
        settings: Settings,
    ) -> Result<Client> {
        let mut session = info.session()?;
        for u in [
            session.credentials().realm(),
            &session.api_url,
            &session.download_url,
        ] {
            if !cfg.allow_http && !realm_is_safe(u) {
                return Err(ClientError::Config(format!(
                    "refusing the plain-http URL {u} from the account info (allow it by \
                     name: TransportConfig::allow_http, b2ctl --allow-http)"
                )));
            }
        }
        session.set_entropy(os_entropy());
        let transport = UreqTransport::new(cfg).map_err(|e| ClientError::Config(e.to_string()))?;
        let client = Client::assemble(session, transport, settings);
        {
            let mut a = client.account_state();
            a.capabilities = info.capabilities.clone();
            a.authorized_at_ms = info.authorized_at_ms;
        }
        {
            let mut b = client.buckets.lock().unwrap_or_else(|p| p.into_inner());
            for (name, id) in &info.buckets {
                b.insert(
                    name.clone(),
                    BucketInfo {
                        id: id.clone(),
                        name: name.clone(),
                        bucket_type: BucketType::Unknown,
                        revision: 0,
                    },
                );
            }
        }
        client.seed_upload_urls(&info.upload_urls, cfg.allow_http);
        if !info.is_fresh() {
            client.authorize_now()?;
        }
        Ok(client)
    }

    /// As [`Client::from_account_info`] for the file at `path`, which the client then keeps
    /// up to date (a renewed token, buckets looked up). `Ok(None)` when there is no file.
    pub fn from_account_file(path: &Path, cfg: &TransportConfig) -> Result<Option<Client>> {
        let Some(info) = AccountInfo::load(path)? else {
            return Ok(None);
        };
        let client = Client::from_account_info(&info, cfg)?;
        client.persist_to(path)?;
        Ok(Some(client))
    }

    /// Keeps this client's account info in the file at `path` from now on: written now, and
    /// again whenever the client authorizes anew or looks a bucket up.
    pub fn persist_to(&self, path: &Path) -> Result<()> {
        self.account_state().file = Some(path.to_path_buf());
        self.write_back()
    }

    /// What this client would store: its authorization, key and the buckets it looked up.
    pub fn account_info(&self) -> AccountInfo {
        let s = self.session();
        let (capabilities, authorized_at_ms) = {
            let a = self.account_state();
            (a.capabilities.clone(), a.authorized_at_ms)
        };
        let buckets: BTreeMap<String, String> = self
            .buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|b| (b.name.clone(), b.id.clone()))
            .collect();
        let mut ids: Vec<&str> = buckets.values().map(String::as_str).collect();
        ids.extend(s.allowed.bucket_id.as_deref());
        let upload_urls = self.cached_upload_urls(&ids);
        let c = s.credentials();
        AccountInfo {
            realm: c.realm().to_owned(),
            key_id: c.key_id().to_owned(),
            key: c.key().expose().to_owned(),
            account_id: s.account_id.to_string(),
            token: s.token.expose().to_owned(),
            api_url: s.api_url.to_string(),
            download_url: s.download_url.to_string(),
            recommended_part_size: s.recommended_part_size,
            min_part_size: s.min_part_size,
            allowed_bucket_id: s.allowed.bucket_id.as_deref().map(str::to_owned),
            allowed_bucket_name: s.allowed.bucket_name.as_deref().map(str::to_owned),
            name_prefix: s.allowed.name_prefix.as_deref().map(str::to_owned),
            capabilities,
            authorized_at_ms,
            buckets,
            upload_urls,
        }
    }

    /// Writes the account info to the client's file, if it has one.
    pub(crate) fn write_back(&self) -> Result<()> {
        let file = {
            let mut a = self.account_state();
            a.urls_changed = false;
            a.file.clone()
        };
        match file {
            Some(p) => self.account_info().save(&p),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_text_reads_back_and_bad_files_are_clear_errors() {
        let mut a = AccountInfo {
            realm: "http://127.0.0.1:1".into(),
            key_id: "kid".into(),
            key: "K\"\\/\n\u{1}é".into(),
            account_id: "acc".into(),
            token: "tok".into(),
            api_url: "http://127.0.0.1:1".into(),
            download_url: "http://127.0.0.1:2".into(),
            recommended_part_size: 100,
            min_part_size: 5,
            allowed_bucket_id: Some("bid".into()),
            allowed_bucket_name: None,
            name_prefix: Some("p/ü".into()),
            capabilities: vec!["listFiles".into(), "readFiles".into()],
            authorized_at_ms: 42,
            buckets: BTreeMap::new(),
            upload_urls: vec![CachedUploadUrl {
                bucket_id: "id1".into(),
                url: "https://pod.example/up".into(),
                token: "uptok".into(),
                obtained_at_ms: 7,
            }],
        };
        a.buckets.insert("b-1".into(), "id1".into());
        a.buckets.insert("b-2".into(), "id2".into());
        assert_eq!(AccountInfo::parse(a.to_json().as_bytes()), Ok(a.clone()));
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"version\": 2, \"realm\": \"x\"}",
            b"{\"version\": 1}",
            b"{\"version\": 1, \"capabilities\": 3}",
            b"\xff\xfe",
        ] {
            assert!(AccountInfo::parse(bad).is_err(), "{bad:?}");
        }
        let shown = format!("{a:?}");
        assert!(
            !shown.contains("tok\"") && !shown.contains("K\\\"") && !shown.contains("uptok"),
            "{shown}"
        );
    }

    fn sample() -> AccountInfo {
        AccountInfo {
            realm: "https://api.example".into(),
            key_id: "kid".into(),
            key: "key".into(),
            token: "tok".into(),
            ..AccountInfo::default()
        }
    }

    fn bounded(a: &AccountInfo) -> bool {
        let mut ids: Vec<&str> = a.upload_urls.iter().map(|u| u.bucket_id.as_str()).collect();
        ids.sort_unstable();
        let per = ids.chunk_by(|x, y| x == y).map(<[&str]>::len).max();
        ids.dedup();
        ids.len() <= url_cache::MAX_URL_BUCKETS
            && per.unwrap_or(0) <= url_cache::MAX_URLS_PER_BUCKET
    }

    proptest::proptest! {
        /// The loader reads untrusted bytes: anything is a value or a clear error, never a
        /// panic, and what it keeps stays within the bounds.
        #[test]
        fn any_bytes_load_or_fail_cleanly(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            if let Ok(a) = AccountInfo::parse(&bytes) {
                proptest::prop_assert!(bounded(&a));
            }
        }

        /// A file written with any upload URLs (any count, any text) reads back as the
        /// bounded list, or (for values core refuses) as a clear error; damaged copies of it
        /// (a byte changed, the text cut) never panic.
        #[test]
        fn stored_upload_urls_read_back_bounded(
            urls in proptest::collection::vec(
                (0u8..20, "[a-z0-9]{0,12}", "(https?://)?[ -~]{0,40}", "[ -~\\u{80}-\\u{10ffff}]{0,30}", proptest::num::u64::ANY),
                0..60,
            ),
            cut in proptest::num::usize::ANY,
            flip in proptest::num::usize::ANY,
            byte in proptest::num::u8::ANY,
        ) {
            let mut a = sample();
            a.upload_urls = urls
                .into_iter()
                .map(|(b, id, url, token, at)| CachedUploadUrl {
                    bucket_id: format!("b{b}{id}"),
                    url,
                    token,
                    obtained_at_ms: at,
                })
                .collect();
            let text = a.to_json();
            match AccountInfo::parse(text.as_bytes()) {
                Ok(back) => {
                    proptest::prop_assert!(bounded(&back));
                    for u in &back.upload_urls {
                        proptest::prop_assert!(a.upload_urls.contains(u));
                    }
                }
                Err(e) => proptest::prop_assert!(e.contains("uploadUrls"), "{}", e),
            }
            let mut damaged = text.into_bytes();
            if !damaged.is_empty() {
                let i = flip % damaged.len();
                damaged[i] = byte;
                damaged.truncate(cut % (damaged.len() + 1));
            }
            if let Ok(back) = AccountInfo::parse(&damaged) {
                proptest::prop_assert!(bounded(&back));
            }
        }
    }
}
