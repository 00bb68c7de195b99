//! [`ClientBuilder`]: every setting of a [`Client`] given once, before it exists; the
//! client it builds does not change afterwards.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use b2_core::retry::RetryPolicy;

use super::{env_credentials, AccountInfo, Client, ClientError, Result};
use crate::transport::TransportConfig;

/// Most threads one upload or download runs: a larger request is capped to this.
pub const MAX_THREADS: usize = 64;

/// Where the builder takes the key from.
#[derive(Clone)]
enum Credentials {
    Env,
    Explicit { key_id: String, key: String },
    AccountFile(PathBuf),
    AccountInfo(Box<AccountInfo>),
}

/// What a client keeps from its builder besides credentials and transport.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) retry: RetryPolicy,
    pub(crate) threads: usize,
    pub(crate) sync_downloads: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retry: RetryPolicy::default(),
            threads: 4,
            sync_downloads: false,
        }
    }
}

/// Builds a [`Client`]: credentials (given, from the environment, or from the account info
/// file), realm, retry policy, timeouts, TLS roots, threads, `fsync` of downloads. Nothing
/// is sent until [`ClientBuilder::build`], which authorizes (unless the account info holds a
/// fresh token).
///
/// ```no_run
/// use std::time::Duration;
/// use b2_transport_std::client::Client;
///
/// let client = Client::builder()
///     .credentials("000key-id", "K000secret")
///     .realm("production")
///     .timeout(Duration::from_secs(30))
///     .threads(8)
///     .build()?;
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    credentials: Credentials,
    realm: Option<String>,
    transport: TransportConfig,
    settings: Settings,
    persist: Option<PathBuf>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let creds = match &self.credentials {
            Credentials::Env => "environment".to_owned(),
            Credentials::Explicit { key_id, .. } => format!("key id {key_id}"),
            Credentials::AccountFile(p) => format!("account file {}", p.display()),
            Credentials::AccountInfo(i) => format!("account info of key id {}", i.key_id),
        };
        f.debug_struct("ClientBuilder")
            .field("credentials", &creds)
            .field("realm", &self.realm)
            .field("transport", &self.transport)
            .field("threads", &self.settings.threads)
            .field("sync_downloads", &self.settings.sync_downloads)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credentials: Credentials::Env,
            realm: None,
            transport: TransportConfig::default(),
            settings: Settings::default(),
            persist: None,
        }
    }
}

impl Client {
    /// A builder with the defaults: credentials from the environment, realm from
    /// `B2_ENVIRONMENT` (else production), the integration checklist's retry policy,
    /// 20 s connect and 120 s I/O timeouts, the standard web roots, 4 threads.
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::builder().build()?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl ClientBuilder {
    /// Authorizes with this key id and key.
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().credentials("000key-id", "K000secret");
    /// ```
    pub fn credentials(mut self, key_id: impl Into<String>, key: impl Into<String>) -> Self {
        self.credentials = Credentials::Explicit {
            key_id: key_id.into(),
            key: key.into(),
        };
        self
    }

    /// Takes the key from `B2_APPLICATION_KEY_ID` and `B2_APPLICATION_KEY`, and the realm
    /// from `B2_ENVIRONMENT` unless [`ClientBuilder::realm`] sets one (the default).
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().credentials_from_env();
    /// ```
    pub fn credentials_from_env(mut self) -> Self {
        self.credentials = Credentials::Env;
        self
    }

    /// Starts from the account info file at `path` (see [`AccountInfo`]): no authorize call
    /// while its token is fresh, and the file is kept up to date (renewed tokens, buckets
    /// looked up). A missing file is [`ClientError::NotFound`].
    ///
    /// ```no_run
    /// use b2_transport_std::client::{AccountInfo, Client};
    ///
    /// let path = AccountInfo::default_path().expect("a home directory");
    /// let client = Client::builder().account_file(&path).build()?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn account_file(mut self, path: impl AsRef<Path>) -> Self {
        self.credentials = Credentials::AccountFile(path.as_ref().to_path_buf());
        self
    }

    /// Starts from account info already read (see [`Client::from_account_info`]).
    ///
    /// ```no_run
    /// use std::path::Path;
    /// use b2_transport_std::client::{AccountInfo, Client};
    ///
    /// if let Some(info) = AccountInfo::load(Path::new("account.json"))? {
    ///     let client = Client::builder().account_info(info).build()?;
    /// }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn account_info(mut self, info: AccountInfo) -> Self {
        self.credentials = Credentials::AccountInfo(Box::new(info));
        self
    }

    /// Keeps the client's account info in the file at `path` (mode 0600), written when the
    /// client is built and whenever it authorizes anew or looks a bucket up.
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().persist_to("/tmp/b2-account.json");
    /// ```
    pub fn persist_to(mut self, path: impl AsRef<Path>) -> Self {
        self.persist = Some(path.as_ref().to_path_buf());
        self
    }

    /// `"production"` or the URL of another realm (a local `b2-sim`: `http://127.0.0.1:PORT`).
    /// Applies to keys given or from the environment; account info keeps its own realm.
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().realm("http://127.0.0.1:8080");
    /// ```
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Retry caps and backoff of every operation (default: the integration checklist's).
    ///
    /// ```no_run
    /// use b2_transport_std::client::{Client, RetryPolicy};
    ///
    /// let b = Client::builder().retry_policy(RetryPolicy { max_json_tries: 3, ..RetryPolicy::default() });
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }

    /// Connect timeout (default 20 s).
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().connect_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.transport.connect_timeout = t;
        self
    }

    /// Longest wait for any read or write progress on a connection (default 120 s).
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().io_timeout(std::time::Duration::from_secs(60));
    /// ```
    pub fn io_timeout(mut self, t: Duration) -> Self {
        self.transport.io_timeout = t;
        self
    }

    /// Both the connect and the I/O timeout.
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().timeout(std::time::Duration::from_secs(30));
    /// ```
    pub fn timeout(self, t: Duration) -> Self {
        self.connect_timeout(t).io_timeout(t)
    }

    /// Trusts only the CA certificates in this PEM text instead of the standard web roots
    /// (a private endpoint, a test server).
    ///
    /// ```no_run
    /// let pem = std::fs::read("ca.pem")?;
    /// let b = b2_transport_std::client::Client::builder().root_certificates_pem(pem);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.transport.root_certs_pem = Some(pem.into());
        self
    }

    /// Accepts a plain-`http://` realm off loopback (default false: keys and data would
    /// cross the network in clear).
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().allow_http(true);
    /// ```
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.transport.allow_http = allow;
        self
    }

    /// All transport settings at once (timeouts, TLS roots, `allow_http`).
    ///
    /// ```no_run
    /// use b2_transport_std::{client::Client, TransportConfig};
    ///
    /// let b = Client::builder().transport_config(TransportConfig::default());
    /// ```
    pub fn transport_config(mut self, cfg: TransportConfig) -> Self {
        self.transport = cfg;
        self
    }

    /// Threads an upload or download of a large file uses unless it says otherwise (default
    /// 4; 0 counts as 1, more than [`MAX_THREADS`] as that).
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().threads(8);
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.settings.threads = n.clamp(1, MAX_THREADS);
        self
    }

    /// Flushes each downloaded file to disk (`fsync`) before renaming it into place, so a
    /// completed download also survives a power cut (default off, like the official tool
    /// and rclone: a download is renamed into place only once complete and verified).
    ///
    /// ```no_run
    /// let b = b2_transport_std::client::Client::builder().sync_downloads(true);
    /// ```
    pub fn sync_downloads(mut self, on: bool) -> Self {
        self.settings.sync_downloads = on;
        self
    }

    /// Builds the client: authorizes (or takes a fresh token from the account info).
    /// Missing credentials, a plain-http realm off loopback and unreadable TLS roots are
    /// [`ClientError::Config`]; a refused key is [`ClientError::Unauthorized`].
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::builder().build()?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn build(self) -> Result<Client> {
        let ClientBuilder {
            credentials,
            realm,
            transport,
            settings,
            persist,
        } = self;
        let client = match credentials {
            Credentials::Env => {
                let (id, key) = env_credentials().ok_or_else(|| {
                    ClientError::Config("set B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY".into())
                })?;
                let realm = realm
                    .or_else(|| std::env::var("B2_ENVIRONMENT").ok())
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "production".into());
                Client::connect(&id, &key, &realm, &transport, settings)?
            }
            Credentials::Explicit { key_id, key } => {
                let realm = realm.unwrap_or_else(|| "production".into());
                Client::connect(&key_id, &key, &realm, &transport, settings)?
            }
            Credentials::AccountFile(path) => {
                let info = AccountInfo::load(&path)?.ok_or_else(|| {
                    ClientError::NotFound(format!("account info at {}", path.display()))
                })?;
                let client = Client::resume(&info, &transport, settings)?;
                client.persist_to(persist.as_deref().unwrap_or(&path))?;
                return Ok(client);
            }
            Credentials::AccountInfo(info) => Client::resume(&info, &transport, settings)?,
        };
        if let Some(p) = persist {
            client.persist_to(&p)?;
        }
        Ok(client)
    }
}
