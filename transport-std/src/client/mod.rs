//! A blocking B2 client for hosts, in the spirit of b2sdk's `B2Api`/`Bucket`: credentials
//! from arguments, the environment or the saved account info, buckets, keys, uploads from
//! paths and readers (large files in parallel parts, resumable), downloads to paths or
//! writers (large files in parallel ranges), lazy listings.
//!
//! Build a [`Client`] once with [`Client::builder`], take a [`Bucket`] handle with
//! [`Client::bucket`], and describe each request with its builder:
//!
//! ```no_run
//! use b2_transport_std::client::{Action, Client, ClientError};
//!
//! let client = Client::builder().credentials("000key-id", "K000secret").build()?;
//! let bucket = client.bucket("my-bucket")?;
//! bucket.upload("a.txt").content_type("text/plain").info("origin", "docs").from_bytes("hi")?;
//! for f in bucket.list("").recursive().versions() {
//!     let f = f?;
//!     if f.action == Action::Hide { println!("hidden: {}", f.file_name) }
//! }
//! match bucket.download("a.txt").range(0..=1).to_vec() {
//!     Ok(bytes) => assert_eq!(bytes, b"hi"),
//!     Err(ClientError::NotFound(what)) => println!("no {what}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok::<(), ClientError>(())
//! ```

mod account;
mod bucket;
mod builder;
mod copy;
mod download;
mod error;
mod hashing;
mod list;
mod lock;
mod model;
mod parts;
mod retention;
mod settings;
mod upload;
mod url_cache;

pub use account::{AccountInfo, REAUTHORIZE_AFTER};
pub use b2_core::wire::settings::{DefaultRetention, FileLockSettings, RetentionUnit};
pub use bucket::{Bucket, DownloadBuilder, ListBuilder, UploadBuilder};
pub use builder::{ClientBuilder, MAX_THREADS};
pub use copy::{CopyOptions, CopySource, ReplaceMetadata};
pub use download::{remove_temp_files, DownloadResult, DownloadTarget, ParallelDownload};
pub use error::{ClientError, Integrity};
pub use list::FileIter;
pub(crate) use model::text;
pub use model::{
    Action, BucketInfo, BucketType, Encryption, FileVersion, KeyInfo, NewKey, Retention,
    RetentionMode,
};
pub use parts::PartInfo;
pub use retention::{FileProtection, Sse};
pub use settings::{
    BucketSettings, BucketUpdate, CorsRule, DefaultEncryption, DownloadAuth, KeyDetails,
    KeyOptions, LifecycleRule, NotificationRule, Overrides, Replication, ReplicationRule,
};
pub use upload::UploadOptions;
pub use url_cache::{CachedUploadUrl, MAX_URLS_PER_BUCKET, MAX_URL_BUCKETS};

use std::fmt;
use std::sync::{Arc, Mutex};

use b2_core::driver::run_counted;
use b2_core::op::{Call, Operation, UploadUrlPool};
pub use b2_core::retry::RetryPolicy;
use b2_core::session::{Credentials, Session};
use b2_core::wire::bucket::{
    Bucket as WireBucket, CreateBucket, DeleteBucket, ListBuckets, UpdateBucket,
};
use b2_core::wire::file::{DeleteFileVersion, GetFileInfo, HideFile};
use b2_core::wire::key::{CreateKey, DeleteKey, Key as WireKey};
use b2_core::wire::large::CancelLargeFile;
use b2_core::wire::ApiCall;

use crate::transport::{SystemClock, TransportConfig, UreqTransport};
use builder::Settings;

/// Result of client calls.
pub type Result<T> = std::result::Result<T, ClientError>;

/// Told how far a long job got.
pub trait Progress: Send + Sync {
    /// `done` bytes of `total` (when known).
    fn progress(&self, done: u64, total: Option<u64>);
}

/// The blocking client, built once ([`Client::builder`]) and not changed afterwards. Share
/// it between threads with `Arc` or scoped threads; each call clones the session (about
/// 1.7 KiB) so calls run in parallel. Work on one bucket goes through its handle,
/// [`Client::bucket`].
///
/// ```no_run
/// use b2_transport_std::client::Client;
///
/// let client = Client::builder().credentials_from_env().threads(8).build()?;
/// let bucket = client.bucket("my-bucket")?;
/// bucket.upload("hello.txt").content_type("text/plain").from_bytes(b"hello")?;
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
pub struct Client {
    session: Mutex<Session>,
    transport: UreqTransport,
    /// Upload URLs that worked, for reuse (core's pool: taken exclusively, given back only
    /// after a success).
    upload_urls: Mutex<UploadUrlPool<32>>,
    stats: Mutex<b2_core::driver::RunStats>,
    /// Bucket name → bucket, as looked up (b2sdk caches the same way).
    buckets: Mutex<std::collections::HashMap<String, BucketInfo>>,
    /// `fsync` downloaded files before renaming them into place.
    sync_downloads: bool,
    /// Retry caps and backoff of every operation.
    retry: RetryPolicy,
    /// Threads of an upload or download that does not choose.
    threads: usize,
    /// Capabilities, token time and the account info file (`account.rs`).
    account: Mutex<account::AccountState>,
}

/// Totals of a [`Client`]'s work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP exchanges.
    pub exchanges: u64,
    /// Exchanges that failed: not completed by the transport, or answered with a status the
    /// core does not count as a success (as the core's driver counted them).
    pub failed_exchanges: u64,
    /// Backoff waits.
    pub waits: u64,
    /// Milliseconds spent in backoff waits.
    pub waited_ms: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

/// Initial answer buffer; grown when an answer needs more.
const FIRST_BUF: usize = 16 * 1024;

/// Largest JSON answer the client holds: 16 MiB. The biggest answers it asks for are list
/// pages of 1,000 file versions; even with B2's longest names (1,024 bytes) and fullest file
/// info (7,000 header bytes) such a page stays under 9 MB. A larger answer (or an absurd
/// `Content-Length`) is [`ClientError::AnswerTooLarge`], never an allocation of that size.
pub const MAX_JSON_ANSWER: usize = 16 * 1024 * 1024;

/// The buffer for the next try of a call whose answer needed `needed` bytes in a buffer of
/// `size`: at least double (so the tries end quickly even when no size was announced), at
/// most [`MAX_JSON_ANSWER`]; an error when the answer cannot fit that.
fn next_answer_buffer(size: usize, needed: usize) -> Result<usize> {
    let next = needed.max(size.saturating_mul(2)).min(MAX_JSON_ANSWER);
    if needed > MAX_JSON_ANSWER || next <= size {
        return Err(ClientError::AnswerTooLarge {
            needed,
            limit: MAX_JSON_ANSWER,
        });
    }
    Ok(next)
}

impl Client {
    /// Authorizes with a key id and key; `realm` is `"production"` or a URL. The same as
    /// `Client::builder().credentials(key_id, key).realm(realm).build()`.
    ///
    /// ```no_run
    /// use b2_transport_std::client::Client;
    ///
    /// let client = Client::new("000key-id", "K000secret", "production")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn new(key_id: &str, key: &str, realm: &str) -> Result<Self> {
        Client::builder()
            .credentials(key_id, key)
            .realm(realm)
            .build()
    }

    /// As [`Client::new`], with transport settings (timeouts, extra CA roots); the same as
    /// the builder with [`ClientBuilder::transport_config`].
    ///
    /// ```no_run
    /// use b2_transport_std::{client::Client, TransportConfig};
    ///
    /// let client = Client::with_transport("000key-id", "K000secret", "production", &TransportConfig::default())?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn with_transport(
        key_id: &str,
        key: &str,
        realm: &str,
        cfg: &TransportConfig,
    ) -> Result<Self> {
        Client::builder()
            .credentials(key_id, key)
            .realm(realm)
            .transport_config(cfg.clone())
            .build()
    }

    /// A client authorized with this key (the builder's end for keys).
    pub(crate) fn connect(
        key_id: &str,
        key: &str,
        realm: &str,
        cfg: &TransportConfig,
        settings: Settings,
    ) -> Result<Self> {
        let creds = Credentials::new(key_id, key, realm)?;
        if !cfg.allow_http && !realm_is_safe(creds.realm()) {
            return Err(ClientError::Config(format!(
                "refusing the plain-http realm {}: keys and data would cross the network in \
                 clear; use https, a loopback address, or allow it by name \
                 (ClientBuilder::allow_http, b2ctl --allow-http)",
                creds.realm()
            )));
        }
        let transport = UreqTransport::new(cfg).map_err(|e| ClientError::Config(e.to_string()))?;
        let mut session = Session::new(creds);
        session.set_entropy(os_entropy());
        let client = Client::assemble(session, transport, settings);
        client.authorize()?;
        Ok(client)
    }

    /// A client around a session, not authorized here.
    pub(crate) fn assemble(
        session: Session,
        transport: UreqTransport,
        settings: Settings,
    ) -> Client {
        Client {
            session: Mutex::new(session),
            transport,
            upload_urls: Mutex::new(UploadUrlPool::new()),
            stats: Mutex::new(Default::default()),
            buckets: Mutex::new(Default::default()),
            sync_downloads: settings.sync_downloads,
            retry: settings.retry,
            threads: settings.threads,
            account: Mutex::new(Default::default()),
        }
    }

    /// Credentials from `B2_APPLICATION_KEY_ID` / `B2_APPLICATION_KEY`, realm from
    /// `B2_ENVIRONMENT` (default "production"), as the official tool reads them; the same
    /// as `Client::builder().build()`.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn from_env() -> Result<Self> {
        Client::builder().credentials_from_env().build()
    }

    /// Authorizes again now (and writes the account info back, when the client keeps one:
    /// [`Client::persist_to`]).
    pub fn authorize(&self) -> Result<()> {
        self.authorize_now()
    }

    /// A second client with the same authorization, connections, settings and bucket cache,
    /// whose operations follow `policy` (this client keeps its own). No request is sent.
    ///
    /// ```no_run
    /// use b2_transport_std::client::{Client, RetryPolicy};
    ///
    /// let client = Client::from_env()?;
    /// let patient = client.with_retry_policy(RetryPolicy { max_json_tries: 10, ..client.retry_policy() });
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Client {
        let settings = Settings {
            retry: policy,
            threads: self.threads,
            sync_downloads: self.sync_downloads,
        };
        let c = Client::assemble(self.session(), self.transport.clone(), settings);
        *c.buckets.lock().unwrap_or_else(|p| p.into_inner()) = self
            .buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        {
            let mine = self.account_state();
            let mut theirs = c.account_state();
            theirs.capabilities = mine.capabilities.clone();
            theirs.authorized_at_ms = mine.authorized_at_ms;
            theirs.file = mine.file.clone();
        }
        c
    }

    /// Threads an upload or download uses unless it chooses ([`ClientBuilder::threads`]).
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::builder().threads(8).build()?;
    /// assert_eq!(client.threads(), 8);
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The capabilities of the key, as the authorization listed them (empty when not known).
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// if !client.capabilities().iter().any(|c| c == "writeFiles") { println!("read-only key"); }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn capabilities(&self) -> Vec<String> {
        self.account_state().capabilities.clone()
    }

    /// `e`, naming the first of `needs` the key lacks when it is an `Unauthorized` that
    /// names none.
    pub(crate) fn explain(&self, e: ClientError, needs: &[&str]) -> ClientError {
        match e {
            e @ ClientError::Unauthorized {
                capability: None, ..
            } => {
                let has = self.account_state().capabilities.clone();
                e.needing(needs, &has)
            }
            e => e,
        }
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// A copy of the session (for operations run outside the client), with fresh entropy
    /// from the OS for its backoff jitter, so no two operations (of this client or of
    /// another one with the same key) retry in lockstep.
    pub fn session(&self) -> Session {
        let mut s = self
            .session
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        s.set_entropy(os_entropy());
        s
    }

    /// Keeps a session that re-authorized so other calls use its token.
    /// When the operation authorized anew (an expired token renewed inside it), the time
    /// is noted and the account info written back (a failure to write it is not the
    /// operation's failure: the next run authorizes again).
    pub(crate) fn store_session(&self, s: Session) {
        let reauthorized = {
            let mut shared = self.session.lock().unwrap_or_else(|p| p.into_inner());
            let renewed = s.authorizations > shared.authorizations;
            if renewed || shared.token.expose() != s.token.expose() {
                *shared = s;
            }
            renewed
        };
        if reauthorized {
            self.account_state().authorized_at_ms = now_ms();
            let _ = self.write_back();
        }
    }

    /// The pool of idle upload URLs.
    pub(crate) fn upload_urls(&self) -> std::sync::MutexGuard<'_, UploadUrlPool<32>> {
        self.upload_urls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A transport sharing the client's connection pool.
    pub fn transport(&self) -> UreqTransport {
        self.transport.clone()
    }

    /// Runs an operation to completion.
    pub fn run<O: Operation + ?Sized>(&self, op: &mut O) -> Result<b2_core::driver::RunStats> {
        let mut t = self.transport.clone();
        let mut st = b2_core::driver::RunStats::default();
        let r = run_counted(op, &mut t, &mut SystemClock::default(), &mut st);
        self.stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(&st);
        r?;
        Ok(st)
    }

    /// What this client did so far: exchanges, failed exchanges (each one retried, for the
    /// jobs that succeeded), waits.
    pub fn stats(&self) -> ClientStats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = self.transport.counters();
        let runs = *self.stats.lock().unwrap_or_else(|p| p.into_inner());
        ClientStats {
            exchanges: c.exchanges.load(Relaxed),
            failed_exchanges: u64::from(runs.transport_errors) + u64::from(runs.error_answers),
            waits: u64::from(runs.waits),
            waited_ms: runs.waited_ms,
        }
    }

    /// Runs a JSON call, growing the buffer when the answer needs more (at most to
    /// [`MAX_JSON_ANSWER`]), and hands the parsed answer to `f`. An answer announcing more
    /// than that limit is [`ClientError::AnswerTooLarge`] after one exchange: the announced
    /// size never decides an allocation, and the call is not sent again.
    pub fn call<A, R>(&self, call: A, f: impl FnOnce(A::Answer<'_>) -> Result<R>) -> Result<R>
    where
        A: ApiCall + Copy,
    {
        let mut size = FIRST_BUF;
        loop {
            let mut buf = vec![0u8; size];
            let mut s = self.session();
            let mut op = Call::new(&mut s, &mut buf, call).with_policy(self.retry_policy());
            let r = self.run(&mut op);
            match r {
                Err(ClientError::Core(e))
                    if matches!(*e, b2_core::Error::BufferTooSmall { .. }) =>
                {
                    drop(op);
                    self.store_session(s);
                    let b2_core::Error::BufferTooSmall { needed } = *e else {
                        return Err(ClientError::Core(e));
                    };
                    size = next_answer_buffer(size, needed)?;
                    continue;
                }
                Err(e) => {
                    drop(op);
                    self.store_session(s);
                    return Err(e);
                }
                Ok(_) => {}
            }
            let out = {
                let answer = op.answer()?;
                f(answer)
            };
            drop(op);
            self.store_session(s);
            return out;
        }
    }

    /// The account id.
    pub fn account_id(&self) -> String {
        self.session().account_id.as_str().to_owned()
    }

    /// All buckets the key may list (or the one it is restricted to).
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// for b in client.list_buckets()? {
    ///     println!("{} {}", b.name, b.bucket_type);
    /// }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn list_buckets(&self) -> Result<Vec<BucketInfo>> {
        let s = self.session();
        let only = s.allowed.bucket_name.as_deref().map(str::to_owned);
        self.call(
            ListBuckets {
                bucket_name: only.as_deref(),
                ..ListBuckets::default()
            },
            |a| {
                a.buckets
                    .map(|b| Ok(bucket_model(&b.map_err(b2_core::Error::BadAnswer)?)))
                    .collect()
            },
        )
        .map_err(|e| self.explain(e, &["listBuckets"]))
    }

    /// The handle of the bucket named `name`, for its files: uploads, downloads, listings,
    /// info, hide, delete. Looks the bucket up once (then cached; never for the bucket a
    /// restricted key names); a bucket that does not exist is [`ClientError::NotFound`].
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// let photos = client.bucket("my-photos")?;
    /// for f in photos.list("2024/").recursive() {
    ///     println!("{}", f?.file_name);
    /// }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn bucket(&self, name: &str) -> Result<Bucket<'_>> {
        Ok(Bucket::new(self, self.bucket_info(name)?))
    }

    /// The bucket named `name` as B2 describes it (looked up once, then cached; a bucket
    /// the client took from the authorization or the account info without listing it has
    /// [`BucketType::Unknown`]).
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// println!("{}", client.bucket_info("my-bucket")?.id);
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn bucket_info(&self, name: &str) -> Result<BucketInfo> {
        b2_core::validate::bucket_name(name)?;
        if let Some(b) = self
            .buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
        {
            return Ok(b.clone());
        }
        // A key restricted to this bucket was told its id by authorization; it may lack
        // `listBuckets`, so do not ask.
        let s = self.session();
        if let (Some(id), Some(n)) = (&s.allowed.bucket_id, &s.allowed.bucket_name) {
            if n.as_str() == name {
                return Ok(BucketInfo {
                    id: id.to_string(),
                    name: name.to_owned(),
                    bucket_type: BucketType::Unknown,
                    revision: 0,
                });
            }
        }
        let found: Vec<BucketInfo> = self
            .call(
                ListBuckets {
                    bucket_name: Some(name),
                    ..ListBuckets::default()
                },
                |a| {
                    a.buckets
                        .map(|b| Ok(bucket_model(&b.map_err(b2_core::Error::BadAnswer)?)))
                        .collect()
                },
            )
            .map_err(|e| self.explain(e, &["listBuckets"]))?;
        let b = found
            .into_iter()
            .find(|b| b.name == name)
            .ok_or_else(|| ClientError::NotFound(format!("bucket {name}")))?;
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), b.clone());
        if self.account_state().file.is_some() {
            let _ = self.write_back();
        }
        Ok(b)
    }

    /// Drops `name` from the bucket cache (and from the account info file, if kept).
    fn forget_bucket(&self, name: &str) {
        let had = self
            .buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name)
            .is_some();
        if had && self.account_state().file.is_some() {
            let _ = self.write_back();
        }
    }

    /// Creates a bucket, public or private. A name taken (by anyone) is
    /// [`ClientError::Conflict`].
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// let b = client.create_bucket("my-new-bucket", false)?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn create_bucket(&self, name: &str, public: bool) -> Result<BucketInfo> {
        b2_core::validate::bucket_name(name)?;
        let bucket_type = if public { "allPublic" } else { "allPrivate" };
        self.call(
            CreateBucket {
                bucket_name: name,
                bucket_type,
                ..CreateBucket::default()
            },
            |b| Ok(bucket_model(&b)),
        )
        .map_err(|e| self.explain(e, &["writeBuckets"]))
    }

    /// Changes a bucket's type.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// client.update_bucket("my-bucket", true)?; // now public
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn update_bucket(&self, name: &str, public: bool) -> Result<BucketInfo> {
        let b = self.bucket_info(name)?;
        self.forget_bucket(name);
        let bucket_type = if public { "allPublic" } else { "allPrivate" };
        self.call(
            UpdateBucket {
                bucket_id: &b.id,
                bucket_type: Some(bucket_type),
                ..UpdateBucket::default()
            },
            |b| Ok(bucket_model(&b)),
        )
        .map_err(|e| self.explain(e, &["writeBuckets"]))
    }

    /// Deletes an (empty) bucket; one with files is [`ClientError::Conflict`].
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// client.delete_bucket("my-old-bucket")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn delete_bucket(&self, name: &str) -> Result<BucketInfo> {
        let b = self.bucket_info(name)?;
        self.forget_bucket(name);
        self.call(DeleteBucket { bucket_id: &b.id }, |b| Ok(bucket_model(&b)))
            .map_err(|e| self.explain(e, &["deleteBuckets"]))
    }

    /// Creates a key with these capabilities, optionally restricted to a bucket and prefix.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// let k = client.create_key("backup", &["listFiles", "writeFiles"], Some("my-bucket"), Some("nas/"))?;
    /// println!("{}", k.id); // k.key is shown only now
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn create_key(
        &self,
        name: &str,
        caps: &[&str],
        bucket: Option<&str>,
        prefix: Option<&str>,
    ) -> Result<NewKey> {
        b2_core::validate::key_name(name)?;
        b2_core::validate::capabilities(caps)?;
        let id = bucket
            .map(|b| self.bucket_info(b))
            .transpose()?
            .map(|b| b.id);
        let ids: Vec<&str> = id.iter().map(String::as_str).collect();
        self.call(
            CreateKey {
                capabilities: caps,
                key_name: name,
                bucket_ids: id.as_ref().map(|_| ids.as_slice()),
                name_prefix: prefix,
                ..CreateKey::default()
            },
            |k| {
                Ok(NewKey {
                    id: text(k.application_key_id),
                    key: k.application_key.map(text).unwrap_or_default(),
                })
            },
        )
        .map_err(|e| self.explain(e, &["writeKeys"]))
    }

    /// All keys of the account, page by page through core's listing cursor.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// for k in client.list_keys()? {
    ///     println!("{} {}", k.id, k.name);
    /// }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        let mut out = Vec::new();
        let mut cursor = b2_core::op::Cursor::default();
        let mut buf = vec![0u8; FIRST_BUF * 16];
        while !cursor.finished() {
            let mut s = self.session();
            let mut op =
                b2_core::op::List::resume(&mut s, &mut buf, b2_core::op::Listing::Keys, &cursor)
                    .with_policy(self.retry_policy());
            let r = self.run(&mut op).and_then(|_| {
                for k in op.keys()?.keys {
                    out.push(key_info(&k.map_err(b2_core::Error::BadAnswer)?));
                }
                op.next_page()?;
                cursor = op.cursor();
                Ok(())
            });
            drop(op);
            self.store_session(s);
            r.map_err(|e| self.explain(e, &["listKeys"]))?;
        }
        Ok(out)
    }

    /// Deletes a key.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// client.delete_key("000key-id")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn delete_key(&self, id: &str) -> Result<KeyInfo> {
        self.call(
            DeleteKey {
                application_key_id: id,
            },
            |k| Ok(key_info(&k)),
        )
        .map_err(|e| self.explain(e, &["deleteKeys"]))
    }

    /// A file version by id.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.file_info_by_id("4_z...")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn file_info_by_id(&self, file_id: &str) -> Result<FileVersion> {
        self.call(GetFileInfo { file_id }, |f| Ok(FileVersion::from_wire(&f)))
            .map_err(|e| self.explain(e, &["readFiles"]))
    }

    /// The latest version of `name` in `bucket` (hidden files are not found); the same as
    /// `client.bucket(bucket)?.info(name)`.
    pub fn file_info(&self, bucket: &str, name: &str) -> Result<FileVersion> {
        let b = self.bucket_info(bucket)?;
        self.latest(&b.id, name)?
            .ok_or_else(|| ClientError::NotFound(format!("{bucket}/{name}")))
    }

    pub(crate) fn latest(&self, bucket_id: &str, name: &str) -> Result<Option<FileVersion>> {
        b2_core::validate::file_name(name)?;
        let found = self
            .call(
                b2_core::wire::file::ListFileNames {
                    bucket_id,
                    start_file_name: Some(name),
                    max_file_count: Some(1),
                    prefix: Some(name),
                    delimiter: None,
                },
                |a| {
                    for f in a.files {
                        let f = f.map_err(b2_core::Error::BadAnswer)?;
                        if f.file_name.eq_str(name) {
                            return Ok(Some(FileVersion::from_wire(&f)));
                        }
                    }
                    Ok(None)
                },
            )
            .map_err(|e| self.explain(e, &["listFiles"]))?;
        match found {
            // The listing has no fileInfo for some servers' answers; ask for the full record.
            Some(f) => Ok(Some(self.file_info_by_id(&f.file_id)?)),
            None => Ok(None),
        }
    }

    /// Hides `name`: downloads by name stop finding it; versions stay; the same as
    /// `client.bucket(bucket)?.hide(name)`.
    pub fn hide(&self, bucket: &str, name: &str) -> Result<FileVersion> {
        b2_core::validate::file_name(name)?;
        let b = self.bucket_info(bucket)?;
        self.call(
            HideFile {
                bucket_id: &b.id,
                file_name: name,
            },
            |f| Ok(FileVersion::from_wire(&f)),
        )
        .map_err(|e| self.explain(e, &["writeFiles"]))
    }

    /// Deletes one version; one that does not exist is [`ClientError::NotFound`].
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// client.delete_version("old.txt", "4_z...")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn delete_version(&self, name: &str, file_id: &str) -> Result<()> {
        self.call(
            DeleteFileVersion {
                file_name: name,
                file_id,
                bypass_governance: false,
            },
            |_| Ok(()),
        )
        .map_err(|e| self.explain(e, &["deleteFiles"]))
    }

    /// Every version of exactly `name` in the bucket, newest first (hide markers included,
    /// unfinished large files left out: they are not versions yet).
    fn versions_of(&self, bucket_id: &str, name: &str) -> Result<Vec<FileVersion>> {
        b2_core::validate::file_name(name)?;
        self.ls_id(bucket_id, name, None, true)
            .take_while(|f| f.as_ref().map(|f| f.file_name == name).unwrap_or(true))
            .filter(|f| {
                f.as_ref()
                    .map(|f| b2_core::versions::is_version(f.action.to_core()))
                    .unwrap_or(true)
            })
            .collect()
    }

    /// Deletes the newest version of `name`, or all its versions (hide markers too); the
    /// same as `client.bucket(bucket)?.delete(name)` / `.delete_all_versions(name)`.
    ///
    /// Deleting only the newest version never unhides: when that version is a hide marker,
    /// this refuses with [`ClientError::Hidden`] and deletes nothing (use
    /// [`Client::unhide`] to remove the marker, or `all_versions`).
    pub fn delete(&self, bucket: &str, name: &str, all_versions: bool) -> Result<usize> {
        let b = self.bucket_info(bucket)?;
        if all_versions {
            let versions = self.versions_of(&b.id, name)?;
            if versions.is_empty() {
                return Err(ClientError::NotFound(format!("{bucket}/{name}")));
            }
            for v in &versions {
                self.delete_version(&v.file_name, &v.file_id)?;
            }
            return Ok(versions.len());
        }
        // The newest version only: core's rule (never a hide marker alone).
        let mut s = self.session();
        let mut buf = vec![0u8; FIRST_BUF];
        let mut op = b2_core::op::Unhide::delete_newest(&mut s, &mut buf, &b.id, name)?
            .with_policy(self.retry_policy());
        let r = self.run(&mut op);
        let outcome = op.deleted_newest();
        drop(op);
        self.store_session(s);
        r.map_err(|e| self.explain(e, &["listFiles", "deleteFiles"]))?;
        match outcome {
            Some(b2_core::op::DeletedNewest::Deleted) => Ok(1),
            Some(b2_core::op::DeletedNewest::Hidden) => {
                Err(ClientError::Hidden(format!("{bucket}/{name}")))
            }
            _ => Err(ClientError::NotFound(format!("{bucket}/{name}"))),
        }
    }

    /// Unhides `name` through core's `Unhide`: deletes its newest version if, and only if, it
    /// is a hide marker (B2 has no call of its own for this), so the version before it
    /// becomes visible again; returns the deleted hide marker's id. A name whose newest
    /// version is not a hide marker is
    /// [`ClientError::NotHidden`], and nothing is deleted.
    pub fn unhide(&self, bucket: &str, name: &str) -> Result<String> {
        let b = self.bucket_info(bucket)?;
        let mut s = self.session();
        let mut buf = vec![0u8; FIRST_BUF];
        let mut op = b2_core::op::Unhide::new(&mut s, &mut buf, &b.id, name)?
            .with_policy(self.retry_policy());
        let r = self.run(&mut op);
        let outcome = op.outcome();
        let marker = op.hide_marker_id().to_owned();
        drop(op);
        self.store_session(s);
        r.map_err(|e| self.explain(e, &["listFiles", "deleteFiles"]))?;
        match outcome {
            Some(b2_core::op::Unhidden::Unhidden) => Ok(marker),
            Some(b2_core::op::Unhidden::NotHidden) => {
                Err(ClientError::NotHidden(format!("{bucket}/{name}")))
            }
            _ => Err(ClientError::NotFound(format!("{bucket}/{name}"))),
        }
    }

    /// Copies `source` to `dest` inside `bucket` (server side).
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// client.copy("my-bucket", "a.txt", "b.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn copy(&self, bucket: &str, source: &str, dest: &str) -> Result<FileVersion> {
        // Through the engine of every copy: any size, and a lost answer is looked up rather
        // than sent again (never a second version).
        let source = CopySource::Name {
            bucket: bucket.to_owned(),
            name: source.to_owned(),
        };
        self.copy_file(&source, bucket, dest, &CopyOptions::default())
    }

    /// Cancels an unfinished large file (its parts are deleted).
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// client.cancel_large_file("4_z...")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn cancel_large_file(&self, file_id: &str) -> Result<()> {
        self.call(CancelLargeFile { file_id }, |_| Ok(()))
            .map_err(|e| self.explain(e, &["writeFiles"]))
    }
}

impl Client {
    /// Shares this client between threads.
    pub fn shared(self) -> Arc<Client> {
        Arc::new(self)
    }
}

pub(crate) fn bucket_model(b: &WireBucket<'_>) -> BucketInfo {
    BucketInfo {
        id: text(b.bucket_id),
        name: text(b.bucket_name),
        bucket_type: BucketType::parse(&text(b.bucket_type)),
        revision: b.revision,
    }
}

fn key_info(k: &WireKey<'_>) -> KeyInfo {
    KeyInfo {
        id: text(k.application_key_id),
        name: text(k.key_name),
        capabilities: k
            .capabilities
            .clone()
            .filter_map(|c| c.ok().map(text))
            .collect(),
    }
}

/// 64 bits of entropy from the OS, through std's `RandomState` (its keys come from the OS's
/// random source once per thread and are stepped for every new state).
fn os_entropy() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6232_2d65_6e74_726f);
    h.finish()
}

/// Whether a realm URL may be used without opting in: `https://`, or `http://` to a
/// loopback host (`localhost`, `127.x.x.x`, `[::1]`), as for a local simulator.
fn realm_is_safe(realm: &str) -> bool {
    let Some(rest) = realm.strip_prefix("http://") else {
        return true; // https (Credentials accepts nothing else)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `B2_APPLICATION_KEY_ID` and `B2_APPLICATION_KEY`, when both are set and not empty.
pub fn env_credentials() -> Option<(String, String)> {
    let id = std::env::var("B2_APPLICATION_KEY_ID")
        .ok()
        .filter(|s| !s.is_empty())?;
    let key = std::env::var("B2_APPLICATION_KEY")
        .ok()
        .filter(|s| !s.is_empty())?;
    Some((id, key))
}

/// Milliseconds since the Unix epoch now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Appends `s` as a JSON string.
pub(crate) fn json_str(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
}

#[cfg(test)]
mod tests {
    use super::realm_is_safe;

    #[test]
    fn plain_http_is_safe_only_on_loopback() {
        for ok in [
            "https://api.backblazeb2.com",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:1",
            "http://LOCALHOST",
            "http://[::1]:9000/x",
        ] {
            assert!(realm_is_safe(ok), "{ok}");
        }
        for bad in [
            "http://192.0.2.1",
            "http://example.com",
            "http://127.0.0.1.example.com",
            "http://localhost.evil",
            "http://[::2]:1",
            "http://10.0.0.1:80",
        ] {
            assert!(!realm_is_safe(bad), "{bad}");
        }
    }
}
