//! The client's error: one enum a caller can match, mapped from the engine's errors in one
//! place ([`From<b2_core::Error>`](ClientError#impl-From<Error>-for-ClientError)).

use std::fmt;
use std::io;
use std::path::PathBuf;

use b2_core::error::{ApiError, ErrorCode};
use b2_core::http::TransportError;

/// Everything that can go wrong in the client. B2's answers and the engine's failures are
/// sorted into the variants a caller acts on (not found, unauthorized, cap exceeded,
/// conflict, invalid input, local I/O, transport, integrity); an answer that fits none of
/// them is [`ClientError::B2`] with B2's own status, code and message.
///
/// ```no_run
/// use b2_transport_std::client::{Client, ClientError};
///
/// let client = Client::from_env()?;
/// match client.bucket("my-bucket")?.info("maybe.txt") {
///     Ok(f) => println!("{} bytes", f.size),
///     Err(ClientError::NotFound(what)) => println!("no {what}"),
///     Err(ClientError::Unauthorized { capability: Some(cap), .. }) => {
///         println!("the key needs the {cap} capability")
///     }
///     Err(e) => return Err(e),
/// }
/// # Ok::<(), ClientError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// A bucket, file or version that does not exist (B2's 404 `not_found`,
    /// `no_such_file`, `file_not_present`, `bad_bucket_id`, or the client's own lookup):
    /// what was looked for, or B2's message.
    NotFound(String),
    /// The key may not do this (B2's 401 `unauthorized` or 403 `access_denied`, or a
    /// refused authorization). B2's message is usually empty; `capability` names the
    /// capability the call needs and the key lacks, when the client can tell (it knows the
    /// key's capabilities from the authorization). `None`: the key has the capabilities,
    /// so its bucket or name-prefix restriction refused the call, or the key itself was
    /// refused.
    Unauthorized {
        /// The missing capability (`listFiles`, `writeFiles`, ...), when known.
        capability: Option<String>,
        /// HTTP status of B2's answer (401, or 403 for `access_denied`).
        status: u16,
        /// B2's message (often empty).
        message: String,
    },
    /// A cap of the account was reached (403 `cap_exceeded`, `storage_cap_exceeded`,
    /// `transaction_cap_exceeded`, `download_cap_exceeded`): raise it in the B2 web UI.
    CapExceeded {
        /// B2's code, which says which cap.
        code: String,
        /// B2's message.
        message: String,
    },
    /// The call conflicts with what exists (409 `conflict`, `duplicate_bucket_name`,
    /// `cannot_delete_non_empty_bucket`, `already_hidden`).
    Conflict {
        /// B2's code.
        code: String,
        /// B2's message.
        message: String,
    },
    /// Input refused (by the client before any request, or a byte range B2 could not
    /// satisfy: [`b2_core::InvalidInput::Range`]).
    InvalidInput(b2_core::InvalidInput),
    /// Local I/O failed: reading the file to upload, writing the download, stdin, stdout.
    Io {
        /// The local path, when the call had one.
        path: Option<PathBuf>,
        /// What the OS said.
        source: io::Error,
    },
    /// The network failed and the retry policy ran out (or the failure is final, such as
    /// an untrusted certificate: [`TransportError::Tls`]).
    Transport(TransportError),
    /// Bytes do not match their SHA-1: nothing was kept under the target name.
    Integrity(Integrity),
    /// `delete` of one version refused: the newest version of this file (`bucket/name`) is a
    /// hide marker, and deleting it would unhide the file. Use `unhide` for that.
    Hidden(String),
    /// `unhide` refused: the newest version of this file (`bucket/name`) is not a hide
    /// marker, so there is nothing to unhide (and no data is deleted).
    NotHidden(String),
    /// A JSON answer larger than the client holds ([`super::MAX_JSON_ANSWER`]), by its
    /// `Content-Length` or by the bytes that arrived. Not retried.
    AnswerTooLarge {
        /// Bytes the answer needs (announced or seen so far; `usize::MAX` when beyond it).
        needed: usize,
        /// The limit, [`super::MAX_JSON_ANSWER`].
        limit: usize,
    },
    /// The client could not be set up: no credentials, unreadable TLS roots, a plain-http
    /// realm refused, a damaged account info file.
    Config(String),
    /// Any other error answer from B2, with its own status, code and message.
    B2 {
        /// HTTP status.
        status: u16,
        /// B2's code (empty when the answer had none).
        code: String,
        /// B2's message.
        message: String,
    },
    /// Any other failure of the protocol engine: a malformed answer, every upload URL
    /// failing, an operation misused.
    Core(Box<b2_core::Error>),
}

/// Which bytes did not match their SHA-1.
///
/// ```
/// use b2_transport_std::client::{ClientError, Integrity};
///
/// let e = ClientError::from(b2_core::Error::Sha1Mismatch);
/// assert!(matches!(e, ClientError::Integrity(Integrity::Download)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Integrity {
    /// Downloaded bytes do not match the SHA-1 B2 announced (`x-bz-content-sha1` or
    /// `large_file_sha1`).
    Download,
    /// B2 stored a SHA-1 other than the one sent with the upload.
    Upload,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NotFound(what) => write!(f, "not found: {what}"),
            ClientError::Unauthorized {
                capability: Some(cap),
                status,
                ..
            } => write!(
                f,
                "unauthorized ({status}): the application key lacks the {cap} capability"
            ),
            ClientError::Unauthorized {
                capability: None,
                status,
                message,
            } if message.is_empty() => write!(
                f,
                "unauthorized ({status}): the application key may not do this (its bucket \
                 or name prefix restriction, or the key itself, was refused)"
            ),
            ClientError::Unauthorized {
                status, message, ..
            } => write!(f, "unauthorized ({status}): {message}"),
            ClientError::CapExceeded { code, message } => {
                write!(f, "a cap of the account was reached ({code}): {message}")
            }
            ClientError::Conflict { code, message } => write!(f, "conflict ({code}): {message}"),
            ClientError::InvalidInput(e) => write!(f, "invalid input: {e}"),
            ClientError::Io {
                path: Some(p),
                source,
            } => write!(f, "{}: {source}", p.display()),
            ClientError::Io { path: None, source } => write!(f, "{source}"),
            ClientError::Transport(t) => write!(f, "transport: {t}"),
            ClientError::Integrity(Integrity::Download) => {
                f.write_str("downloaded data does not match its SHA-1")
            }
            ClientError::Integrity(Integrity::Upload) => {
                f.write_str("B2 stored a SHA-1 different from the one sent")
            }
            ClientError::Hidden(file) => write!(
                f,
                "{file} is hidden (its newest version is a hide marker): deleting that \
                 version would unhide it; use `unhide` to do so, or delete all versions"
            ),
            ClientError::NotHidden(file) => write!(
                f,
                "{file} is not hidden (its newest version is not a hide marker): `unhide` \
                 deletes only a hide marker"
            ),
            ClientError::AnswerTooLarge { needed, limit } => write!(
                f,
                "the server's answer needs {needed} bytes, more than the {limit} this client holds"
            ),
            ClientError::Config(why) => write!(f, "{why}"),
            ClientError::B2 {
                status,
                code,
                message,
            } => {
                write!(f, "B2 answered {status}")?;
                if !code.is_empty() {
                    write!(f, " {code}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            ClientError::Core(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// B2's code and message as owned strings.
fn parts(e: &ApiError) -> (String, String) {
    (e.code.as_str().to_owned(), e.message.as_str().to_owned())
}

/// The std I/O kind closest to an `embedded_io` kind.
fn io_kind(k: b2_core::embedded_io::ErrorKind) -> io::ErrorKind {
    use b2_core::embedded_io::ErrorKind as K;
    match k {
        K::NotFound => io::ErrorKind::NotFound,
        K::PermissionDenied => io::ErrorKind::PermissionDenied,
        K::Interrupted => io::ErrorKind::Interrupted,
        K::TimedOut => io::ErrorKind::TimedOut,
        K::InvalidData => io::ErrorKind::InvalidData,
        K::InvalidInput => io::ErrorKind::InvalidInput,
        K::Unsupported => io::ErrorKind::Unsupported,
        K::OutOfMemory => io::ErrorKind::OutOfMemory,
        K::WriteZero => io::ErrorKind::WriteZero,
        _ => io::ErrorKind::Other,
    }
}

/// The one place where the engine's errors become the client's.
impl From<b2_core::Error> for ClientError {
    fn from(e: b2_core::Error) -> Self {
        use b2_core::Error as E;
        match e {
            E::Api(a) => {
                let (code, message) = parts(&a);
                match (&a.code, a.status) {
                    (
                        ErrorCode::NotFound
                        | ErrorCode::NoSuchFile
                        | ErrorCode::FileNotPresent
                        | ErrorCode::BadBucketId,
                        _,
                    )
                    | (_, 404) => {
                        ClientError::NotFound(if message.is_empty() { code } else { message })
                    }
                    (ErrorCode::Unauthorized | ErrorCode::AccessDenied, _) => {
                        ClientError::Unauthorized {
                            capability: None,
                            status: a.status,
                            message,
                        }
                    }
                    (
                        ErrorCode::CapExceeded
                        | ErrorCode::StorageCapExceeded
                        | ErrorCode::TransactionCapExceeded
                        | ErrorCode::DownloadCapExceeded,
                        _,
                    ) => ClientError::CapExceeded { code, message },
                    (
                        ErrorCode::Conflict
                        | ErrorCode::DuplicateBucketName
                        | ErrorCode::CannotDeleteNonEmptyBucket
                        | ErrorCode::AlreadyHidden,
                        _,
                    )
                    | (_, 409) => ClientError::Conflict { code, message },
                    (ErrorCode::RangeNotSatisfiable, _) | (_, 416) => {
                        ClientError::InvalidInput(b2_core::InvalidInput::Range)
                    }
                    _ => ClientError::B2 {
                        status: a.status,
                        code,
                        message,
                    },
                }
            }
            E::Invalid(i) => ClientError::InvalidInput(i),
            E::Transport(t) => ClientError::Transport(t),
            E::Sha1Mismatch => ClientError::Integrity(Integrity::Download),
            E::UploadSha1Mismatch => ClientError::Integrity(Integrity::Upload),
            E::Source(k) => ClientError::from(io::Error::new(
                io_kind(k),
                "reading the data to upload failed",
            )),
            E::Sink(k) => ClientError::from(io::Error::new(
                io_kind(k),
                "writing the downloaded data failed",
            )),
            E::SourceTooShort { offset } => ClientError::from(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the data to upload ended at byte {offset}, before its announced size"),
            )),
            other => ClientError::Core(Box::new(other)),
        }
    }
}

impl From<b2_core::InvalidInput> for ClientError {
    fn from(e: b2_core::InvalidInput) -> Self {
        ClientError::InvalidInput(e)
    }
}

impl From<io::Error> for ClientError {
    fn from(source: io::Error) -> Self {
        ClientError::Io { path: None, source }
    }
}

impl ClientError {
    /// The engine's error, for the failures no other variant describes
    /// ([`ClientError::Core`]).
    ///
    /// ```
    /// use b2_transport_std::client::ClientError;
    ///
    /// let e = ClientError::from(b2_core::Error::Misuse("twice"));
    /// assert_eq!(e.core(), Some(&b2_core::Error::Misuse("twice")));
    /// ```
    pub fn core(&self) -> Option<&b2_core::Error> {
        match self {
            ClientError::Core(e) => Some(e),
            _ => None,
        }
    }

    /// An I/O error without a path gets `path`.
    pub(crate) fn at_path(self, path: &std::path::Path) -> Self {
        match self {
            ClientError::Io { path: None, source } => ClientError::Io {
                path: Some(path.to_path_buf()),
                source,
            },
            e => e,
        }
    }

    /// An `Unauthorized` without a capability names the first of `needs` that the key's
    /// capabilities `has` lack (none when `has` is empty: not known).
    pub(crate) fn needing(self, needs: &[&str], has: &[String]) -> Self {
        match self {
            ClientError::Unauthorized {
                capability: None,
                status,
                message,
            } if !has.is_empty() => ClientError::Unauthorized {
                capability: needs
                    .iter()
                    .find(|n| !has.iter().any(|c| c == *n))
                    .map(|c| (*c).to_owned()),
                status,
                message,
            },
            e => e,
        }
    }

    /// A `NotFound` from B2 (its message) said as `what` instead.
    pub(crate) fn not_found_as(self, what: impl FnOnce() -> String) -> Self {
        match self {
            ClientError::NotFound(_) => ClientError::NotFound(what()),
            e => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> ClientError {
        ClientError::from(b2_core::Error::Api(ApiError::new(status, code, "m")))
    }

    #[test]
    fn b2_answers_land_in_the_variant_a_caller_acts_on() {
        assert!(matches!(api(404, "not_found"), ClientError::NotFound(_)));
        assert!(matches!(
            api(400, "file_not_present"),
            ClientError::NotFound(_)
        ));
        assert!(matches!(
            api(401, "unauthorized"),
            ClientError::Unauthorized {
                capability: None,
                ..
            }
        ));
        assert!(matches!(
            api(403, "transaction_cap_exceeded"),
            ClientError::CapExceeded { .. }
        ));
        assert!(matches!(
            api(400, "duplicate_bucket_name"),
            ClientError::Conflict { .. }
        ));
        assert!(matches!(
            api(416, "range_not_satisfiable"),
            ClientError::InvalidInput(b2_core::InvalidInput::Range)
        ));
        assert!(matches!(
            api(400, "bad_request"),
            ClientError::B2 { status: 400, ref code, .. } if code == "bad_request"
        ));
        assert!(matches!(
            ClientError::from(b2_core::Error::Source(
                b2_core::embedded_io::ErrorKind::PermissionDenied
            )),
            ClientError::Io { path: None, ref source } if source.kind() == io::ErrorKind::PermissionDenied
        ));
    }

    #[test]
    fn the_missing_capability_is_the_first_the_key_lacks() {
        let has = vec!["listFiles".to_owned(), "readFiles".to_owned()];
        let e = api(401, "unauthorized").needing(&["listFiles", "writeFiles"], &has);
        assert!(
            matches!(&e, ClientError::Unauthorized { capability: Some(c), .. } if c == "writeFiles"),
            "{e:?}"
        );
        assert!(e.to_string().contains("writeFiles"), "{e}");
        let e = api(401, "unauthorized").needing(&["listFiles"], &has);
        assert!(matches!(
            e,
            ClientError::Unauthorized {
                capability: None,
                ..
            }
        ));
        let e = api(401, "unauthorized").needing(&["listFiles"], &[]);
        assert!(matches!(
            e,
            ClientError::Unauthorized {
                capability: None,
                ..
            }
        ));
    }
}
