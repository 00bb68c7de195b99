//! Encryption and Object Lock on the host client: the owned encryption setting of
//! [`super::UploadOptions`], downloads with an SSE-C key, `b2_update_file_retention`,
//! `b2_update_file_legal_hold`, a delete that bypasses governance, and a typed read of a
//! file version's protection. Every B2 rule lives in core; this only schedules calls.

use std::io::Write;
use std::path::Path;

use b2_core::wire::encryption::{CustomerKey, Encryption, EncryptionMode};
use b2_core::wire::file::{DeleteFileVersion, GetFileInfo};
use b2_core::wire::lock::{LegalHold, Retention, UpdateFileLegalHold, UpdateFileRetention};

use super::{text, Client, DownloadResult, DownloadTarget, ParallelDownload, Progress, Result};

/// Server-side encryption of a file this client writes (owned; the key never prints).
/// There is no "none": leave [`super::UploadOptions::encryption`] empty for the bucket's
/// default (SSE-B2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sse {
    /// SSE-B2 (B2 manages the key).
    B2,
    /// SSE-C with this key: needed again for every download, HEAD and copy.
    C(CustomerKey),
}

impl Sse {
    /// SSE-C from the key's base64 text (as `B2_DESTINATION_SSE_C_KEY_B64` holds it).
    pub fn customer_key_base64(text: &str) -> Result<Self> {
        Ok(Sse::C(CustomerKey::from_base64(text)?))
    }

    /// Core's borrowed form.
    pub fn as_core(&self) -> Encryption<'_> {
        match self {
            Sse::B2 => Encryption::SseB2,
            Sse::C(k) => Encryption::SseC(k),
        }
    }
}

/// What protects a file version, as B2 reports it to this key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProtection {
    /// Encryption mode (`None` when B2 did not say).
    pub encryption: Option<EncryptionMode>,
    /// Base64 MD5 of the SSE-C key, for SSE-C.
    pub customer_key_md5: Option<String>,
    /// Retention in force (`None`: none, or this key may not read it).
    pub retention: Option<Retention>,
    /// Legal hold (`None`: never set, or this key may not read it).
    pub legal_hold: Option<LegalHold>,
    /// Whether this key may read the retention.
    pub retention_readable: bool,
}

impl Client {
    /// Sets, extends, shortens or (`None`) removes the retention of one version. Shortening
    /// or removing governance needs `bypass_governance` and the key's `bypassGovernance`
    /// capability; compliance can only be extended (B2 answers 403 otherwise). Returns the
    /// retention now in force.
    pub fn update_file_retention(
        &self,
        file_name: &str,
        file_id: &str,
        retention: Option<Retention>,
        bypass_governance: bool,
    ) -> Result<Option<Retention>> {
        self.call(
            UpdateFileRetention {
                file_name,
                file_id,
                retention,
                bypass_governance,
            },
            |a| Ok(a.retention),
        )
    }

    /// Turns the legal hold of one version on or off; returns the hold now in force.
    pub fn update_file_legal_hold(
        &self,
        file_name: &str,
        file_id: &str,
        legal_hold: LegalHold,
    ) -> Result<Option<LegalHold>> {
        self.call(
            UpdateFileLegalHold {
                file_name,
                file_id,
                legal_hold,
            },
            |a| Ok(a.legal_hold),
        )
    }

    /// Deletes one version, bypassing governance retention (needs the `bypassGovernance`
    /// capability; compliance and legal holds still refuse).
    pub fn delete_version_bypassing_governance(&self, name: &str, file_id: &str) -> Result<()> {
        self.call(
            DeleteFileVersion {
                file_name: name,
                file_id,
                bypass_governance: true,
            },
            |_| Ok(()),
        )
    }

    /// The encryption, retention and legal hold of a version (`b2_get_file_info`).
    pub fn file_protection(&self, file_id: &str) -> Result<FileProtection> {
        self.call(GetFileInfo { file_id }, |f| {
            let enc = f.encryption();
            Ok(FileProtection {
                encryption: enc.map(|e| e.mode),
                customer_key_md5: enc.and_then(|e| e.customer_key_md5).map(text),
                retention: f.retention().map_err(b2_core::Error::BadAnswer)?,
                legal_hold: f.legal_hold_state().map_err(b2_core::Error::BadAnswer)?,
                retention_readable: f
                    .file_retention
                    .is_some_and(|w| w.is_client_authorized_to_read),
            })
        })
    }

    /// [`Client::download_to_writer`] for an SSE-C file: sends its key.
    pub fn download_to_writer_with_key<W: Write>(
        &self,
        target: &DownloadTarget,
        w: W,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
        key: &CustomerKey,
    ) -> Result<DownloadResult> {
        self.download_to_writer_keyed(target, w, range, progress, Some(key))
    }

    /// [`Client::download_to_path_with`] for an SSE-C file: sends its key with the HEAD and
    /// every range.
    pub fn download_to_path_with_key(
        &self,
        target: &DownloadTarget,
        path: &Path,
        range: Option<(u64, u64)>,
        progress: Option<&dyn Progress>,
        par: &ParallelDownload,
        key: &CustomerKey,
    ) -> Result<DownloadResult> {
        self.download_to_path_keyed(target, path, range, progress, par, Some(key))
    }
}
