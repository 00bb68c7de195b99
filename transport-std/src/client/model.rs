//! What the client hands back: buckets, file versions, keys, with B2's open sets (actions,
//! bucket types, encryption and retention modes) as open enums.

use std::fmt;

use b2_core::wire::file::File;
use b2_core::wire::json::{fields, Value, Wrapped};
use b2_core::wire::Text;

/// Decodes JSON text to an owned string.
pub(crate) fn text(t: Text<'_>) -> String {
    t.chars().filter_map(|c| c.ok()).collect()
}

/// Lowercase hex of a digest.
fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

macro_rules! open_enum {
    (
        $(#[$doc:meta])*
        $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this SDK does not know yet, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Reads the value as B2 spells it (an unknown one is kept in `Other`).
            ///
            #[doc = concat!("```\nuse b2_transport_std::client::", stringify!($name), ";\n\nlet v = ", stringify!($name), "::parse(\"someNewValue\");\nassert_eq!(v, ", stringify!($name), "::Other(\"someNewValue\".into()));\n```")]
            pub fn parse(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }

            /// The value as B2 spells it.
            ///
            #[doc = concat!("```\nuse b2_transport_std::client::", stringify!($name), ";\n\nassert_eq!(", stringify!($name), "::parse(\"x-y\").as_str(), \"x-y\");\n```")]
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

open_enum! {
    /// What a file version is (`action` in B2's answers). Compares with B2's spelling.
    ///
    /// ```
    /// use b2_transport_std::client::Action;
    ///
    /// assert_eq!(Action::parse("hide"), Action::Hide);
    /// assert_eq!(Action::Hide, "hide");
    /// assert_eq!(Action::parse("copy"), Action::Other("copy".into()));
    /// ```
    Action {
        /// A finished upload (a version with data).
        Upload => "upload",
        /// A large file started and not finished.
        Start => "start",
        /// A hide marker.
        Hide => "hide",
        /// A "folder" in a listing with a delimiter (not a version).
        Folder => "folder",
    }
}

impl Action {
    /// Core's view of it, for core's rules ([`b2_core::versions`]).
    pub(crate) fn to_core(&self) -> b2_core::wire::file::Action {
        use b2_core::wire::file::Action as A;
        match self {
            Action::Upload => A::Upload,
            Action::Start => A::Start,
            Action::Hide => A::Hide,
            Action::Folder => A::Folder,
            Action::Other(_) => A::Other,
        }
    }
}

open_enum! {
    /// Who may read a bucket (`bucketType`). Compares with B2's spelling.
    ///
    /// ```
    /// use b2_transport_std::client::BucketType;
    ///
    /// assert_eq!(BucketType::parse("allPrivate"), BucketType::AllPrivate);
    /// assert_eq!(format!("{:<11}|", BucketType::AllPublic), "allPublic  |");
    /// ```
    BucketType {
        /// Anyone may download its files.
        AllPublic => "allPublic",
        /// Downloads need an authorization.
        AllPrivate => "allPrivate",
        /// A bucket of snapshots (made in the web UI).
        Snapshot => "snapshot",
        /// Shared through B2's sharing features.
        Shared => "shared",
        /// Restricted.
        Restricted => "restricted",
        /// Not known to this client: a bucket it took from the authorization or the
        /// account info without listing it.
        Unknown => "",
    }
}

open_enum! {
    /// An Object Lock retention mode.
    ///
    /// ```
    /// use b2_transport_std::client::RetentionMode;
    ///
    /// assert_eq!(RetentionMode::parse("compliance"), RetentionMode::Compliance);
    /// ```
    RetentionMode {
        /// Deletable before the date only with `bypassGovernance` and that capability.
        Governance => "governance",
        /// Not deletable before the date by anyone.
        Compliance => "compliance",
    }
}

/// A bucket, as B2 describes it.
///
/// ```no_run
/// use b2_transport_std::client::{BucketType, Client};
///
/// let client = Client::from_env()?;
/// for b in client.list_buckets()? {
///     println!("{} {} {}", b.id, b.bucket_type, b.name);
///     assert!(b.bucket_type != BucketType::Unknown);
/// }
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketInfo {
    /// Bucket id.
    pub id: String,
    /// Bucket name.
    pub name: String,
    /// Who may read it ([`BucketType::Unknown`] when the client never listed it).
    pub bucket_type: BucketType,
    /// Revision (0 when the client never listed it).
    pub revision: u64,
}

/// Server-side encryption of a file version (`serverSideEncryption`).
///
/// ```
/// use b2_transport_std::client::Encryption;
///
/// let e = Encryption::SseB2 { algorithm: "AES256".into() };
/// assert!(e.is_encrypted());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encryption {
    /// Not encrypted at rest by B2 (`mode` null).
    None,
    /// Encrypted with keys B2 manages (`SSE-B2`).
    SseB2 {
        /// The algorithm (`AES256`).
        algorithm: String,
    },
    /// Encrypted with a key the customer sends (`SSE-C`).
    SseC {
        /// The algorithm (`AES256`).
        algorithm: String,
    },
    /// A mode this SDK does not know yet, kept verbatim.
    Other {
        /// The mode.
        mode: String,
        /// The algorithm, when given.
        algorithm: String,
    },
}

impl Encryption {
    /// Whether B2 encrypts the version at rest.
    ///
    /// ```
    /// assert!(!b2_transport_std::client::Encryption::None.is_encrypted());
    /// ```
    pub fn is_encrypted(&self) -> bool {
        !matches!(self, Encryption::None)
    }
}

/// Object Lock retention of a file version (`fileRetention`).
///
/// ```
/// use b2_transport_std::client::{Retention, RetentionMode};
///
/// let r = Retention::Until { mode: RetentionMode::Governance, retain_until_ms: 1_900_000_000_000 };
/// assert!(matches!(r, Retention::Until { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retention {
    /// B2 did not say (no Object Lock information in the answer).
    Unknown,
    /// The key may not read it (it lacks `readFileRetentions`).
    Unreadable,
    /// No retention.
    None,
    /// Kept until a time.
    Until {
        /// The mode.
        mode: RetentionMode,
        /// Until when, ms since the epoch.
        retain_until_ms: u64,
    },
}

/// A file version (or folder, or hide marker, or unfinished large file).
///
/// ```no_run
/// use b2_transport_std::client::{Action, Client};
///
/// let client = Client::from_env()?;
/// let f = client.bucket("my-bucket")?.info("photos/cat.jpg")?;
/// assert_eq!(f.action, Action::Upload);
/// println!("{} bytes, modified {:?}, sha1 {:?}", f.size, f.src_last_modified_millis(), f.sha1());
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileVersion {
    /// Version id (empty for folders).
    pub file_id: String,
    /// Name.
    pub file_name: String,
    /// What the version is.
    pub action: Action,
    /// Size in bytes.
    pub size: u64,
    /// `contentSha1` as B2 gave it.
    pub content_sha1: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// Upload time, ms since the epoch.
    pub upload_timestamp: u64,
    /// File info entries.
    pub info: Vec<(String, String)>,
    /// B2's JSON for the version (its own field names).
    pub json: String,
    /// The whole-file SHA-1, as core reads it from the version (see [`FileVersion::sha1`]).
    pub(crate) whole_sha1: Option<[u8; 20]>,
}

impl FileVersion {
    pub(crate) fn from_wire(f: &File<'_>) -> Self {
        use b2_core::wire::file::Action as A;
        let action = match f.action {
            A::Upload => Action::Upload,
            A::Start => Action::Start,
            A::Hide => Action::Hide,
            A::Folder => Action::Folder,
            // Core keeps no text for an unknown action: read it from the raw object.
            A::Other => Action::parse(&raw_field_text(f.raw, "action").unwrap_or_default()),
        };
        FileVersion {
            file_id: text(f.file_id),
            file_name: text(f.file_name),
            action,
            size: f.content_length,
            content_sha1: f.content_sha1.map(text),
            content_type: f.content_type.map(text),
            upload_timestamp: f.upload_timestamp,
            info: f
                .file_info
                .entries()
                .map(|(k, v)| (text(k), text(v)))
                .collect(),
            json: String::from_utf8_lossy(f.raw).into_owned(),
            whole_sha1: f.sha1(),
        }
    }

    /// A large file known to be finished whose record the key may not read (no
    /// `readFiles`, after a lost finish answer): what the upload knows of it. `json` is
    /// empty and `upload_timestamp` 0.
    pub(crate) fn finished_unread(
        file_id: &str,
        name: &str,
        size: u64,
        content_type: &str,
        sha1: Option<[u8; 20]>,
    ) -> Self {
        FileVersion {
            file_id: file_id.to_owned(),
            file_name: name.to_owned(),
            action: Action::Upload,
            size,
            content_sha1: Some("none".into()),
            content_type: Some(content_type.to_owned()),
            upload_timestamp: 0,
            info: Vec::new(),
            json: String::new(),
            whole_sha1: sha1,
        }
    }

    /// The whole-file SHA-1 B2 knows, hex (`contentSha1`, else `large_file_sha1`; core's
    /// `File::sha1` decides).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("b")?.info("a.txt")?;
    /// println!("{:?}", f.sha1());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn sha1(&self) -> Option<String> {
        self.whole_sha1.map(|d| hex(&d))
    }

    /// The file info entry `key`, if set.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("b")?.info("a.txt")?;
    /// println!("{:?}", f.info_value("author"));
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn info_value(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The source's modification time the uploader recorded (`src_last_modified_millis`),
    /// ms since the epoch; `None` when absent or not a number.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("b")?.info("a.txt")?;
    /// if let Some(ms) = f.src_last_modified_millis() { println!("modified at {ms} ms"); }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn src_last_modified_millis(&self) -> Option<u64> {
        self.info_value("src_last_modified_millis")?.parse().ok()
    }

    /// The whole-file SHA-1 a large file was uploaded with (`large_file_sha1`), lowercase
    /// hex; `None` when absent or not 40 hex digits.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("b")?.info("a.txt")?;
    /// println!("{:?}", f.large_file_sha1());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn large_file_sha1(&self) -> Option<String> {
        b2_core::encoding::parse_sha1_hex(self.info_value("large_file_sha1")?).map(|d| hex(&d))
    }

    /// The version's server-side encryption; `None` when B2 did not say.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("b")?.info("a.txt")?;
    /// println!("{:?}", f.encryption());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn encryption(&self) -> Option<Encryption> {
        let f = self.wire()?;
        let obj = f.server_side_encryption?;
        let (mut mode, mut algorithm) = (None, String::new());
        for field in fields(obj) {
            let Ok((k, v)) = field else { return None };
            match (k.raw(), v) {
                ("mode", Value::Str(t)) => mode = Some(text(t)),
                ("algorithm", Value::Str(t)) => algorithm = text(t),
                _ => {}
            }
        }
        Some(match mode.as_deref() {
            None => Encryption::None,
            Some("SSE-B2") => Encryption::SseB2 { algorithm },
            Some("SSE-C") => Encryption::SseC { algorithm },
            Some(m) => Encryption::Other {
                mode: m.to_owned(),
                algorithm,
            },
        })
    }

    /// The version's Object Lock retention.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("b")?.info("a.txt")?;
    /// println!("{:?}", f.retention());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn retention(&self) -> Retention {
        let Some(f) = self.wire() else {
            return Retention::Unknown;
        };
        let Some(w) = f.file_retention else {
            return Retention::Unknown;
        };
        if !w.is_client_authorized_to_read {
            return Retention::Unreadable;
        }
        let Some(obj) = w.object() else {
            return Retention::None;
        };
        let (mut mode, mut until) = (None, None);
        for field in fields(obj) {
            let Ok((k, v)) = field else {
                return Retention::Unknown;
            };
            match (k.raw(), v) {
                ("mode", Value::Str(t)) => mode = Some(RetentionMode::parse(&text(t))),
                ("retainUntilTimestamp", v @ Value::Num(_)) => until = v.u64().ok(),
                _ => {}
            }
        }
        match (mode, until) {
            (Some(mode), Some(retain_until_ms)) => Retention::Until {
                mode,
                retain_until_ms,
            },
            _ => Retention::None,
        }
    }

    /// The version's legal hold: `Some(true)` on, `Some(false)` off, `None` when B2 did
    /// not say or the key may not read it.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("b")?.info("a.txt")?;
    /// println!("{:?}", f.legal_hold());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn legal_hold(&self) -> Option<bool> {
        let w: Wrapped<'_> = self.wire()?.legal_hold?;
        match w.text()?.raw() {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        }
    }

    /// The version's JSON read again by core (for the fields kept only there).
    fn wire(&self) -> Option<File<'_>> {
        use b2_core::wire::Answer;
        File::parse(self.json.as_bytes()).ok()
    }
}

/// The text of a top-level string field of a raw JSON object.
fn raw_field_text(obj: &[u8], name: &str) -> Option<String> {
    fields(obj).find_map(|f| match f {
        Ok((k, Value::Str(t))) if k.raw() == name => Some(text(t)),
        _ => None,
    })
}

/// A key as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key id.
    pub id: String,
    /// Key name.
    pub name: String,
    /// Capabilities.
    pub capabilities: Vec<String>,
}

/// A new key: its secret is shown once. `Debug` hides it.
///
/// ```
/// use b2_transport_std::client::NewKey;
///
/// let k = NewKey { id: "id".into(), key: "secret".into() };
/// assert!(!format!("{k:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct NewKey {
    /// Key id.
    pub id: String,
    /// The secret application key.
    pub key: String,
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKey")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use b2_core::wire::Answer;

    fn version(json: &str) -> FileVersion {
        FileVersion::from_wire(&File::parse(json.as_bytes()).expect("parses"))
    }

    #[test]
    fn typed_accessors_read_what_b2_sent() {
        let f = version(
            r#"{"accountId":"a","action":"upload","bucketId":"b","contentLength":5,
            "contentSha1":"none","contentType":"text/plain","fileId":"4_z1",
            "fileInfo":{"src_last_modified_millis":"1700000000123",
                        "large_file_sha1":"A9993E364706816ABA3E25717850C26C9CD0D89D"},
            "fileName":"x","uploadTimestamp":9,
            "serverSideEncryption":{"algorithm":"AES256","mode":"SSE-B2"},
            "fileRetention":{"isClientAuthorizedToRead":true,
                             "value":{"mode":"governance","retainUntilTimestamp":1900000000000}},
            "legalHold":{"isClientAuthorizedToRead":true,"value":"on"}}"#,
        );
        assert_eq!(f.action, Action::Upload);
        assert_eq!(f.src_last_modified_millis(), Some(1_700_000_000_123));
        assert_eq!(
            f.large_file_sha1().as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            f.encryption(),
            Some(Encryption::SseB2 {
                algorithm: "AES256".into()
            })
        );
        assert_eq!(
            f.retention(),
            Retention::Until {
                mode: RetentionMode::Governance,
                retain_until_ms: 1_900_000_000_000
            }
        );
        assert_eq!(f.legal_hold(), Some(true));
    }

    #[test]
    fn absent_null_unreadable_and_unknown_values_are_told_apart() {
        let f = version(
            r#"{"action":"copy","contentLength":0,"fileId":"i","fileInfo":{
            "src_last_modified_millis":"soon","large_file_sha1":"xyz"},"fileName":"y",
            "uploadTimestamp":1,"serverSideEncryption":{"mode":null},
            "fileRetention":{"isClientAuthorizedToRead":false,"value":null}}"#,
        );
        assert_eq!(f.action, Action::Other("copy".into()));
        assert_eq!(f.action, "copy");
        assert_eq!(f.src_last_modified_millis(), None);
        assert_eq!(f.large_file_sha1(), None);
        assert_eq!(f.encryption(), Some(Encryption::None));
        assert_eq!(f.retention(), Retention::Unreadable);
        assert_eq!(f.legal_hold(), None);
        let g = version(
            r#"{"action":"hide","fileId":"i","fileName":"y","uploadTimestamp":1,
            "fileRetention":{"isClientAuthorizedToRead":true,"value":{"mode":null,"retainUntilTimestamp":null}}}"#,
        );
        assert_eq!(g.action, Action::Hide);
        assert_eq!(g.encryption(), None);
        assert_eq!(g.retention(), Retention::None);
        assert_eq!(
            version(r#"{"fileId":"i","fileName":"y"}"#).retention(),
            Retention::Unknown
        );
    }
}
