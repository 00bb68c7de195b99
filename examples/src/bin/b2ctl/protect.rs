//! Encryption and Object Lock in b2ctl, with the official `b2` tool's names:
//! `--destination-server-side-encryption SSE-B2|SSE-C` (key from `B2_DESTINATION_SSE_C_KEY_B64`),
//! `--source-server-side-encryption SSE-C` (key from `B2_SOURCE_SSE_C_KEY_B64`),
//! `--file-retention-mode`, `--retain-until`, `--legal-hold`, `--custom-upload-timestamp` on
//! uploads, and `file update` for a stored version.

use std::io::Write;

use b2_core::wire::encryption::CustomerKey;
use b2_core::wire::lock::{LegalHold, Retention, RetentionMode};
use b2_transport_std::client::{Client, ClientError, Sse, UploadOptions};
use clap::{Args, ValueEnum};

/// Environment variable holding the base64 SSE-C key of a file being written.
pub const DESTINATION_KEY_ENV: &str = "B2_DESTINATION_SSE_C_KEY_B64";
/// Environment variable holding the base64 SSE-C key of a file being read.
pub const SOURCE_KEY_ENV: &str = "B2_SOURCE_SSE_C_KEY_B64";

/// Encryption modes of a file being written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DestinationSse {
    /// B2 manages the key (B2's default).
    #[value(name = "SSE-B2")]
    SseB2,
    /// Your key, from $B2_DESTINATION_SSE_C_KEY_B64.
    #[value(name = "SSE-C")]
    SseC,
}

/// Encryption modes of a file being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourceSse {
    /// Your key, from $B2_SOURCE_SSE_C_KEY_B64.
    #[value(name = "SSE-C")]
    SseC,
}

/// The only algorithm B2 offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Algorithm {
    /// AES-256.
    #[default]
    #[value(name = "AES256")]
    Aes256,
}

/// Retention modes (`none` only for `file update`, to remove a governance retention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Can be shortened or removed with --bypass-governance and that capability.
    Governance,
    /// Can only be extended, by anyone; irreversible.
    Compliance,
    /// No retention (file update only).
    None,
}

/// Legal hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Hold {
    /// The file cannot be deleted.
    On,
    /// No hold.
    Off,
}

impl From<Hold> for LegalHold {
    fn from(h: Hold) -> Self {
        match h {
            Hold::On => LegalHold::On,
            Hold::Off => LegalHold::Off,
        }
    }
}

/// Encryption, Object Lock and timestamp of a file being written.
#[derive(Args, Debug, Default)]
pub struct WriteProtect {
    /// Encrypt with SSE-B2, or SSE-C with the key in $B2_DESTINATION_SSE_C_KEY_B64.
    #[arg(long, value_enum)]
    destination_server_side_encryption: Option<DestinationSse>,
    /// Encryption algorithm (only AES256).
    #[arg(long, value_enum, default_value = "AES256")]
    destination_server_side_encryption_algorithm: Algorithm,
    /// Object Lock retention mode (needs --retain-until).
    #[arg(long, value_enum, requires = "retain_until")]
    file_retention_mode: Option<Mode>,
    /// End of the retention, milliseconds since the epoch.
    #[arg(long, value_name = "TIMESTAMP", requires = "file_retention_mode")]
    retain_until: Option<u64>,
    /// Object Lock legal hold.
    #[arg(long, value_enum)]
    legal_hold: Option<Hold>,
    /// Upload time to record instead of now, milliseconds since the epoch (must be enabled
    /// for the account).
    #[arg(long, value_name = "TIMESTAMP")]
    custom_upload_timestamp: Option<u64>,
}

/// The SSE-C key in `var` (base64 of 32 bytes).
pub fn key_from_env(var: &str) -> Result<CustomerKey, ClientError> {
    let text = std::env::var(var)
        .map_err(|_| ClientError::Config(format!("SSE-C needs the key in ${var} (base64)")))?;
    CustomerKey::from_base64(&text).map_err(|e| ClientError::Config(format!("${var}: {e}")))
}

/// The destination encryption the flags ask for (an SSE-C key from
/// `B2_DESTINATION_SSE_C_KEY_B64`).
pub fn destination_sse(
    mode: Option<DestinationSse>,
    algorithm: Algorithm,
) -> Result<Option<Sse>, ClientError> {
    let Algorithm::Aes256 = algorithm;
    Ok(match mode {
        None => None,
        Some(DestinationSse::SseB2) => Some(Sse::B2),
        Some(DestinationSse::SseC) => Some(Sse::C(key_from_env(DESTINATION_KEY_ENV)?)),
    })
}

/// The retention `--file-retention-mode` and `--retain-until` ask for on a new file (`none`
/// only applies to `file update`).
pub fn retention(mode: Option<Mode>, until: Option<u64>) -> Result<Option<Retention>, ClientError> {
    Ok(match (mode, until) {
        (Some(Mode::None), _) => {
            return Err(ClientError::Config(
                "--file-retention-mode none only applies to `file update`".into(),
            ))
        }
        (Some(m), Some(until)) => Some(Retention {
            mode: if m == Mode::Compliance {
                RetentionMode::Compliance
            } else {
                RetentionMode::Governance
            },
            retain_until_ms: until,
        }),
        _ => None,
    })
}

impl WriteProtect {
    /// Puts these settings into upload options.
    pub fn apply(&self, opts: &mut UploadOptions) -> Result<(), ClientError> {
        opts.encryption = destination_sse(
            self.destination_server_side_encryption,
            self.destination_server_side_encryption_algorithm,
        )?;
        opts.retention = retention(self.file_retention_mode, self.retain_until)?;
        opts.legal_hold = self.legal_hold.map(LegalHold::from);
        opts.custom_upload_timestamp = self.custom_upload_timestamp;
        Ok(())
    }
}

/// Encryption of a file being read.
#[derive(Args, Debug, Default)]
pub struct ReadProtect {
    /// The file is SSE-C: send the key in $B2_SOURCE_SSE_C_KEY_B64.
    #[arg(long, value_enum)]
    source_server_side_encryption: Option<SourceSse>,
    /// Encryption algorithm (only AES256).
    #[arg(long, value_enum, default_value = "AES256")]
    source_server_side_encryption_algorithm: Algorithm,
}

impl ReadProtect {
    /// The SSE-C key to send, if the file is SSE-C.
    pub fn key(&self) -> Result<Option<CustomerKey>, ClientError> {
        let Algorithm::Aes256 = self.source_server_side_encryption_algorithm;
        match self.source_server_side_encryption {
            None => Ok(None),
            Some(SourceSse::SseC) => key_from_env(SOURCE_KEY_ENV).map(Some),
        }
    }
}

/// `b2ctl file update`.
#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// `b2://BUCKET/NAME` (the newest version) or `b2id://FILE_ID`.
    uri: String,
    /// New retention mode (`none` removes a governance retention).
    #[arg(long, value_enum)]
    file_retention_mode: Option<Mode>,
    /// End of the retention, milliseconds since the epoch.
    #[arg(long, value_name = "TIMESTAMP")]
    retain_until: Option<u64>,
    /// Legal hold on or off.
    #[arg(long, value_enum)]
    legal_hold: Option<Hold>,
    /// Allow shortening or removing a governance retention.
    #[arg(long)]
    bypass_governance: bool,
}

/// `file update`: retention and legal hold of one file version.
pub fn update(client: &Client, a: UpdateArgs, out: &mut dyn Write) -> Result<(), ClientError> {
    let UpdateArgs {
        uri,
        file_retention_mode,
        retain_until,
        legal_hold,
        bypass_governance,
    } = a;
    {
        {
            let f = if let Some(id) = uri.strip_prefix("b2id://") {
                client.file_info_by_id(id)?
            } else if let Some((bucket, name)) =
                uri.strip_prefix("b2://").and_then(|r| r.split_once('/'))
            {
                client.file_info(bucket, name)?
            } else {
                return Err(ClientError::Config(format!(
                    "{uri:?}: expected b2://BUCKET/NAME or b2id://FILE_ID"
                )));
            };
            if file_retention_mode.is_none() && legal_hold.is_none() {
                return Err(ClientError::Config(
                    "nothing to update: give --file-retention-mode and/or --legal-hold".into(),
                ));
            }
            if let Some(mode) = file_retention_mode {
                let retention = match (mode, retain_until) {
                    (Mode::None, _) => None,
                    (_, None) => {
                        return Err(ClientError::Config(
                            "--file-retention-mode governance|compliance needs --retain-until"
                                .into(),
                        ))
                    }
                    (m, Some(until)) => Some(Retention {
                        mode: if m == Mode::Compliance {
                            RetentionMode::Compliance
                        } else {
                            RetentionMode::Governance
                        },
                        retain_until_ms: until,
                    }),
                };
                let now = client.update_file_retention(
                    &f.file_name,
                    &f.file_id,
                    retention,
                    bypass_governance,
                )?;
                match now {
                    Some(r) => writeln!(
                        out,
                        "retention: {} until {}",
                        r.mode.as_str(),
                        r.retain_until_ms
                    )?,
                    None => writeln!(out, "retention: none")?,
                }
            }
            if let Some(h) = legal_hold {
                let now = client.update_file_legal_hold(&f.file_name, &f.file_id, h.into())?;
                writeln!(
                    out,
                    "legal hold: {}",
                    now.map(LegalHold::as_str).unwrap_or("none")
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct T {
        #[command(flatten)]
        w: WriteProtect,
    }

    #[test]
    fn official_flag_names_parse() {
        let t = T::try_parse_from([
            "t",
            "--destination-server-side-encryption",
            "SSE-B2",
            "--file-retention-mode",
            "governance",
            "--retain-until",
            "1900000000000",
            "--legal-hold",
            "on",
            "--custom-upload-timestamp",
            "5",
        ])
        .expect("parse");
        let mut o = UploadOptions::default();
        t.w.apply(&mut o).expect("apply");
        assert_eq!(o.encryption, Some(Sse::B2));
        assert_eq!(
            o.retention.map(|r| r.retain_until_ms),
            Some(1_900_000_000_000)
        );
        assert_eq!(o.legal_hold, Some(LegalHold::On));
        assert_eq!(o.custom_upload_timestamp, Some(5));
        assert!(T::try_parse_from(["t", "--file-retention-mode", "governance"]).is_err());
    }
}
