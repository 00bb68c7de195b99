//! The one error type of the SDK, with B2's status and code when the service answered.

use core::fmt;

use crate::http::TransportError;

/// Longest error message kept from an answer; longer ones are cut at a character boundary.
pub const MESSAGE_CAPACITY: usize = 160;
/// Longest unknown error code kept verbatim.
pub const CODE_CAPACITY: usize = 40;

macro_rules! codes {
    ($($variant:ident => $text:literal,)*) => {
        /// A B2 error code. Known codes are variants; the set is open, so an unknown code is
        /// kept verbatim in [`ErrorCode::Other`].
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum ErrorCode {
            $($variant,)*
            /// A code this SDK does not know yet (kept verbatim, cut at 40 bytes).
            Other(heapless::String<CODE_CAPACITY>),
            /// The answer had no code (HEAD, empty or non-JSON body): go by the status.
            None,
        }

        impl ErrorCode {
            /// Parses a code as B2 spells it.
            pub fn parse(code: &str) -> Self {
                match code {
                    $($text => ErrorCode::$variant,)*
                    other => {
                        let mut s = heapless::String::new();
                        for c in other.chars() {
                            if s.push(c).is_err() { break; }
                        }
                        ErrorCode::Other(s)
                    }
                }
            }

            /// The code as B2 spells it (`""` for [`ErrorCode::None`]).
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                    ErrorCode::Other(s) => s.as_str(),
                    ErrorCode::None => "",
                }
            }
        }
    };
}

codes! {
    BadRequest => "bad_request",
    BadJson => "bad_json",
    InvalidBucketId => "invalid_bucket_id",
    BadBucketId => "bad_bucket_id",
    InvalidFileId => "invalid_file_id",
    OutOfRange => "out_of_range",
    TooManyBuckets => "too_many_buckets",
    DuplicateBucketName => "duplicate_bucket_name",
    FileNotPresent => "file_not_present",
    NoSuchFile => "no_such_file",
    AlreadyHidden => "already_hidden",
    MissingPart => "missing_part",
    PartSha1Mismatch => "part_sha1_mismatch",
    CannotDeleteNonEmptyBucket => "cannot_delete_non_empty_bucket",
    SourceTooLarge => "source_too_large",
    AuthTokenLimit => "auth_token_limit",
    Unauthorized => "unauthorized",
    BadAuthToken => "bad_auth_token",
    ExpiredAuthToken => "expired_auth_token",
    MissingAuthToken => "missing_auth_token",
    Unsupported => "unsupported",
    CapExceeded => "cap_exceeded",
    StorageCapExceeded => "storage_cap_exceeded",
    TransactionCapExceeded => "transaction_cap_exceeded",
    DownloadCapExceeded => "download_cap_exceeded",
    AccessDenied => "access_denied",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    RequestTimeout => "request_timeout",
    Conflict => "conflict",
    RangeNotSatisfiable => "range_not_satisfiable",
    TooManyRequests => "too_many_requests",
    InternalError => "internal_error",
    ServiceUnavailable => "service_unavailable",
}

/// An error answer from B2: HTTP status, code and message.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status of the answer.
    pub status: u16,
    /// B2's error code.
    pub code: ErrorCode,
    /// B2's human message (possibly cut to [`MESSAGE_CAPACITY`] bytes).
    pub message: heapless::String<MESSAGE_CAPACITY>,
    /// `Retry-After` seconds, when the answer carried one.
    pub retry_after_secs: Option<u32>,
}

impl ApiError {
    /// An error with only a status (for answers with no JSON body).
    pub fn from_status(status: u16) -> Self {
        ApiError {
            status,
            code: ErrorCode::None,
            message: heapless::String::new(),
            retry_after_secs: None,
        }
    }

    /// Builds an error from its parts, cutting the message to capacity.
    pub fn new(status: u16, code: &str, message: &str) -> Self {
        let mut m = heapless::String::new();
        push_truncated(&mut m, message);
        ApiError {
            status,
            code: ErrorCode::parse(code),
            message: m,
            retry_after_secs: None,
        }
    }
}

/// Appends as much of `s` as fits, cutting at a character boundary.
pub(crate) fn push_truncated<const N: usize>(out: &mut heapless::String<N>, s: &str) {
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B2 answered {}", self.status)?;
        if self.code != ErrorCode::None {
            write!(f, " {}", self.code.as_str())?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// Input refused before any I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InvalidInput {
    /// File name empty or longer than 1,024 UTF-8 bytes.
    FileNameLength,
    /// File name contains a control character (< 0x20) or DEL.
    FileNameControlChar,
    /// File name starts or ends with `/`, or contains `//`.
    FileNameSlash,
    /// A `/`-separated segment of the file name is longer than 250 bytes.
    FileNameSegmentTooLong,
    /// Bucket name not 6..=63 characters of letters, digits and `-`, or starts with `b2-`.
    BucketName,
    /// More than 10 file info entries.
    TooManyInfoEntries,
    /// An info key is empty, longer than 50 bytes, or has characters other than letters,
    /// digits and `-_.`.
    InfoKey,
    /// An info key starts with `b2-` but is not one of the allowed ones.
    ReservedInfoKey,
    /// An info value contains a control character.
    InfoValue,
    /// File name and info together exceed the 7,000-byte header budget.
    HeadersTooLarge,
    /// Part size below the minimum or above 5 GB.
    PartSize,
    /// More than 10,000 parts, or a part number outside 1..=10,000.
    PartCount,
    /// A file too large for the requested kind of upload (small files ≤ 5 GB, large ≤ 10 TB).
    FileSize,
    /// A SHA-1 given by the caller is not 40 hex digits.
    Sha1,
    /// Content type empty, too long or with control characters.
    ContentType,
    /// A range whose end is before its start, or outside the file.
    Range,
    /// A URL that is not `http://` or `https://`, or too long for its storage.
    Url,
    /// A key id, key or other credential that is empty or too long.
    Credentials,
    /// A value that does not fit its fixed-capacity storage.
    TooLong,
    /// Key capabilities list empty or a capability name malformed.
    Capabilities,
    /// A duration outside what B2 accepts.
    Duration,
    /// Checkpoint bytes that are damaged, of another version, or for another file or plan.
    Checkpoint,
    /// A remote source of a large copy that is empty, or (except the last) shorter than the
    /// minimum part size: B2 needs every part but the last to be at least that long.
    CopySourceTooSmall,
    /// An SSE-C key that is not 32 bytes (44 characters of base64).
    EncryptionKey,
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidInput::FileNameLength => "file name must be 1 to 1024 UTF-8 bytes",
            InvalidInput::FileNameControlChar => "file name contains a control character or DEL",
            InvalidInput::FileNameSlash => "file name starts or ends with '/' or contains '//'",
            InvalidInput::FileNameSegmentTooLong => "a file name segment is longer than 250 bytes",
            InvalidInput::BucketName => {
                "bucket name must be 6 to 63 letters, digits or '-', not starting with 'b2-'"
            }
            InvalidInput::TooManyInfoEntries => "more than 10 file info entries",
            InvalidInput::InfoKey => "file info key must be 1 to 50 letters, digits or '-_.'",
            InvalidInput::ReservedInfoKey => "file info keys starting with 'b2-' are reserved",
            InvalidInput::InfoValue => "file info value contains a control character",
            InvalidInput::HeadersTooLarge => {
                "file name and info exceed 7000 header bytes (2048 with encryption or Object Lock)"
            }
            InvalidInput::PartSize => "part size outside the allowed range",
            InvalidInput::PartCount => "part count or number outside 1..=10000",
            InvalidInput::FileSize => "file size outside the allowed range",
            InvalidInput::Sha1 => "SHA-1 must be 40 hex digits",
            InvalidInput::ContentType => "invalid content type",
            InvalidInput::Range => "invalid byte range",
            InvalidInput::Url => "URL must start with http:// or https:// and fit its storage",
            InvalidInput::Credentials => "application key id or key is empty or too long",
            InvalidInput::TooLong => "value too long for its storage",
            InvalidInput::Capabilities => "empty key capabilities or a malformed capability name",
            InvalidInput::Duration => "duration outside the allowed range",
            InvalidInput::Checkpoint => "checkpoint damaged or for another file or part plan",
            InvalidInput::CopySourceTooSmall => {
                "a copy source is empty, or shorter than the minimum part size but not the last"
            }
            InvalidInput::EncryptionKey => "SSE-C key must be 32 bytes (44 characters of base64)",
        })
    }
}

/// How an answer from the server was malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BadAnswer {
    /// The JSON did not parse or lacked a required field.
    Json,
    /// A header needed by the operation was missing or invalid.
    Header,
    /// The answer ended before `Content-Length` bytes arrived.
    Truncated,
    /// The answer contradicts the request (wrong part number, size, SHA-1, file id...).
    Mismatch,
    /// A string in the answer is too long for the SDK's fixed-capacity storage.
    TooLong,
}

/// What went wrong. Every variant says whether a retry could help via [`Error::retryable`].
#[derive(Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // see the note on `result_large_err` in lib.rs
pub enum Error {
    /// B2 answered with an error that is final or whose retries ran out.
    Api(ApiError),
    /// Input refused before any I/O.
    Invalid(InvalidInput),
    /// The caller's buffer is too small for this request or answer.
    BufferTooSmall {
        /// Bytes the buffer needs.
        needed: usize,
    },
    /// The transport failed and retries ran out (or the failure is final).
    Transport(TransportError),
    /// The server's answer was malformed.
    BadAnswer(BadAnswer),
    /// Downloaded bytes do not match the SHA-1 the server announced.
    Sha1Mismatch,
    /// The server accepted an upload whose SHA-1 differs from what was sent.
    UploadSha1Mismatch,
    /// The caller's source failed to produce bytes (or ended early).
    Source(embedded_io::ErrorKind),
    /// The caller's sink refused bytes.
    Sink(embedded_io::ErrorKind),
    /// The caller's source ended before the size it was announced with.
    SourceTooShort {
        /// Offset at which the source returned no more bytes.
        offset: u64,
    },
    /// Every upload URL tried for one upload or part failed.
    UploadUrlsExhausted {
        /// How many upload URLs were tried.
        tried: u8,
    },
    /// Caller-provided storage (e.g. for part digests) is too small.
    StorageTooSmall {
        /// Entries the storage needs.
        needed: u32,
    },
    /// The operation was used out of order (a bug in the caller or driver).
    Misuse(&'static str),
}

impl Error {
    /// Whether repeating the whole operation later could succeed (server busy, network,
    /// exhausted retries). Input, buffer, integrity and authorization errors are final.
    pub fn retryable(&self) -> bool {
        match self {
            Error::Api(e) => {
                matches!(e.status, 408 | 429 | 500..=599)
                    || matches!(e.code, ErrorCode::AuthTokenLimit)
            }
            Error::Transport(t) => !matches!(t, TransportError::Unsupported),
            Error::UploadUrlsExhausted { .. } => true,
            _ => false,
        }
    }

    /// The B2 error, when the service answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Error::Invalid(e)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

impl From<BadAnswer> for Error {
    fn from(e: BadAnswer) -> Self {
        Error::BadAnswer(e)
    }
}

/// So that a host can use `?` into `Box<dyn std::error::Error>` (and `anyhow`, …).
impl core::error::Error for Error {}

/// See [`Error`]'s.
impl core::error::Error for InvalidInput {}

/// See [`Error`]'s.
impl core::error::Error for ApiError {}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => fmt::Display::fmt(e, f),
            Error::Invalid(e) => write!(f, "invalid input: {e}"),
            Error::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            Error::Transport(e) => write!(f, "transport: {e}"),
            Error::BadAnswer(e) => write!(f, "malformed answer from server: {e:?}"),
            Error::Sha1Mismatch => f.write_str("downloaded data does not match its SHA-1"),
            Error::UploadSha1Mismatch => {
                f.write_str("server stored a SHA-1 different from the one sent")
            }
            Error::Source(k) => write!(f, "source failed: {k:?}"),
            Error::Sink(k) => write!(f, "sink failed: {k:?}"),
            Error::SourceTooShort { offset } => {
                write!(
                    f,
                    "source ended at byte {offset}, before its announced size"
                )
            }
            Error::UploadUrlsExhausted { tried } => {
                write!(f, "upload failed on {tried} upload URLs in a row")
            }
            Error::StorageTooSmall { needed } => {
                write!(f, "caller storage too small: {needed} entries needed")
            }
            Error::Misuse(what) => write!(f, "operation misused: {what}"),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Error::Api(e) => defmt::write!(f, "B2 answered {} {}", e.status, e.code.as_str()),
            Error::Invalid(e) => defmt::write!(f, "invalid input: {}", e),
            Error::BufferTooSmall { needed } => defmt::write!(f, "buffer too small: {}", needed),
            Error::Transport(e) => defmt::write!(f, "transport: {}", e),
            Error::BadAnswer(e) => defmt::write!(f, "bad answer: {}", e),
            Error::Sha1Mismatch => defmt::write!(f, "sha1 mismatch"),
            Error::UploadSha1Mismatch => defmt::write!(f, "upload sha1 mismatch"),
            Error::Source(_) => defmt::write!(f, "source failed"),
            Error::Sink(_) => defmt::write!(f, "sink failed"),
            Error::SourceTooShort { offset } => defmt::write!(f, "source ended at {}", offset),
            Error::UploadUrlsExhausted { tried } => {
                defmt::write!(f, "upload urls exhausted {}", tried)
            }
            Error::StorageTooSmall { needed } => defmt::write!(f, "storage too small {}", needed),
            Error::Misuse(w) => defmt::write!(f, "misuse: {}", w),
        }
    }
}
