//! `b2ctl file copy`: server-side copies of any size (by id or name, across buckets, a byte
//! range, metadata kept or replaced; large copies in parallel parts, resumable) and
//! `b2ctl file concatenate`, with the official tool's encryption and Object Lock flags:
//! `--source-server-side-encryption SSE-C` (key from `B2_SOURCE_SSE_C_KEY_B64`),
//! `--destination-server-side-encryption SSE-B2|SSE-C` (key from
//! `B2_DESTINATION_SSE_C_KEY_B64`), `--destination-server-side-encryption-algorithm AES256`,
//! `--file-retention-mode`, `--retain-until`, `--legal-hold`.

use std::io::Write;

use b2_core::wire::lock::LegalHold;
use b2_transport_std::client::{
    Client, ClientError, CopyOptions, CopySource, ReplaceMetadata, Sse,
};
use clap::{Args, ValueEnum};

use super::protect::{Algorithm, DestinationSse, Hold, Mode, ReadProtect};

/// What a copy does with the content type and info.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Directive {
    /// Keep the source's.
    Copy,
    /// Use --content-type (default b2/x-auto) and --info.
    Replace,
}

/// Options shared by copy and concatenate.
#[derive(Args, Debug)]
pub struct CommonArgs {
    /// New content type (implies --metadata-directive replace).
    #[arg(long)]
    content_type: Option<String>,
    /// New file info entry, KEY=VALUE, repeatable (implies --metadata-directive replace).
    #[arg(long = "info", value_name = "KEY=VALUE")]
    info: Vec<String>,
    /// Keep the source's metadata (copy) or use the given one (replace). Default: replace
    /// when --content-type or --info is given, else copy.
    #[arg(long, value_enum)]
    metadata_directive: Option<Directive>,
    /// Parallel part copies of a large copy (1 to 64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// Part size of a large copy in bytes (default: the server's recommended size).
    #[arg(long)]
    part_size: Option<u64>,
    /// Copies longer than this many bytes are made of parts (default and most: 5 GB).
    #[arg(long)]
    cutoff: Option<u64>,
    /// The sources are SSE-C: read them with the key in $B2_SOURCE_SSE_C_KEY_B64.
    #[command(flatten)]
    source_sse: ReadProtect,
    /// Encrypt the new file with SSE-B2, or SSE-C with the key in
    /// $B2_DESTINATION_SSE_C_KEY_B64 (default: the bucket's, SSE-B2).
    #[arg(long, value_enum)]
    destination_server_side_encryption: Option<DestinationSse>,
    /// Encryption algorithm (only AES256).
    #[arg(long, value_enum, default_value = "AES256")]
    destination_server_side_encryption_algorithm: Algorithm,
    /// Object Lock retention mode of the new file (needs --retain-until).
    #[arg(long, value_enum, requires = "retain_until")]
    file_retention_mode: Option<Mode>,
    /// End of the new file's retention, milliseconds since the epoch.
    #[arg(long, value_name = "TIMESTAMP", requires = "file_retention_mode")]
    retain_until: Option<u64>,
    /// Object Lock legal hold of the new file.
    #[arg(long, value_enum)]
    legal_hold: Option<Hold>,
}

/// `b2ctl file copy`.
#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Source: b2id://FILE_ID or b2://BUCKET/NAME.
    source: String,
    /// Destination: b2://BUCKET/NAME.
    dest: String,
    /// Inclusive byte range of the source, START-END.
    #[arg(long)]
    range: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `b2ctl file concatenate`.
#[derive(Args, Debug)]
pub struct ConcatArgs {
    /// Destination: b2://BUCKET/NAME.
    dest: String,
    /// Sources in order: b2id://FILE_ID or b2://BUCKET/NAME, each optionally followed by
    /// `#START-END` for a range.
    #[arg(required = true, num_args = 1..)]
    sources: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `file copy`: prints the new version's JSON.
pub fn copy(client: &Client, a: CopyArgs, out: &mut impl Write) -> Result<(), ClientError> {
    let source = parse_source(&a.source)?;
    let (bucket, name) = parse_dest(&a.dest)?;
    let mut opts = options(&a.common)?;
    opts.range = a.range.as_deref().map(super::parse_range).transpose()?;
    let f = client.copy_file(&source, &bucket, &name, &opts)?;
    writeln!(out, "{}", super::output::version_json(&f))?;
    Ok(())
}

/// `file concatenate`: prints the new version's JSON.
pub fn concatenate(
    client: &Client,
    a: ConcatArgs,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let (bucket, name) = parse_dest(&a.dest)?;
    let sources = a
        .sources
        .iter()
        .map(|s| match s.rsplit_once('#') {
            Some((src, range)) => Ok((parse_source(src)?, Some(super::parse_range(range)?))),
            None => Ok((parse_source(s)?, None)),
        })
        .collect::<Result<Vec<_>, ClientError>>()?;
    let opts = options(&a.common)?;
    let f = client.concatenate(&sources, &bucket, &name, &opts)?;
    writeln!(out, "{}", super::output::version_json(&f))?;
    Ok(())
}

/// The copy options from the flags; refuses new metadata with `--metadata-directive copy`
/// (B2 refuses a COPY with a content type or info).
fn options(a: &CommonArgs) -> Result<CopyOptions, ClientError> {
    let given = a.content_type.is_some() || !a.info.is_empty();
    let replace = match a.metadata_directive {
        Some(Directive::Copy) if given => {
            return Err(ClientError::Config(
                "--content-type and --info need --metadata-directive replace".into(),
            ))
        }
        Some(Directive::Copy) => false,
        Some(Directive::Replace) => true,
        None => given,
    };
    let mut opts = CopyOptions {
        threads: usize::from(a.threads),
        part_size: a.part_size,
        ..CopyOptions::default()
    };
    if let Some(c) = a.cutoff {
        opts.cutoff = c;
    }
    opts.source_encryption = a.source_sse.key()?.map(Sse::C);
    opts.destination_encryption = super::protect::destination_sse(
        a.destination_server_side_encryption,
        a.destination_server_side_encryption_algorithm,
    )?;
    opts.retention = super::protect::retention(a.file_retention_mode, a.retain_until)?;
    opts.legal_hold = a.legal_hold.map(LegalHold::from);
    if replace {
        let mut info = Vec::new();
        for kv in &a.info {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                ClientError::Config(format!("bad --info {kv:?}: expected KEY=VALUE"))
            })?;
            info.push((k.to_owned(), v.to_owned()));
        }
        opts.replace = Some(ReplaceMetadata {
            content_type: a.content_type.clone().unwrap_or_else(|| "b2/x-auto".into()),
            info,
        });
    }
    Ok(opts)
}

/// `b2id://FILE_ID` or `b2://BUCKET/NAME`.
fn parse_source(s: &str) -> Result<CopySource, ClientError> {
    if let Some(id) = s.strip_prefix("b2id://") {
        if id.is_empty() {
            return Err(ClientError::Config(format!("bad source {s:?}: no file id")));
        }
        return Ok(CopySource::Id(id.to_owned()));
    }
    let (bucket, name) = parse_dest(s)?;
    Ok(CopySource::Name { bucket, name })
}

/// `b2://BUCKET/NAME`.
fn parse_dest(s: &str) -> Result<(String, String), ClientError> {
    let bad = || ClientError::Config(format!("bad location {s:?}: expected b2://BUCKET/NAME"));
    let rest = s.strip_prefix("b2://").ok_or_else(bad)?;
    let (bucket, name) = rest.split_once('/').ok_or_else(bad)?;
    if bucket.is_empty() || name.is_empty() {
        return Err(bad());
    }
    Ok((bucket.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use b2_core::wire::lock::{Retention, RetentionMode};
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct T {
        #[command(flatten)]
        c: CommonArgs,
    }

    #[test]
    fn official_encryption_and_lock_flags_parse() {
        let t = T::try_parse_from([
            "t",
            "--destination-server-side-encryption",
            "SSE-B2",
            "--destination-server-side-encryption-algorithm",
            "AES256",
            "--file-retention-mode",
            "compliance",
            "--retain-until",
            "1900000000000",
            "--legal-hold",
            "off",
        ])
        .expect("parse");
        let o = options(&t.c).expect("options");
        assert_eq!(o.destination_encryption, Some(Sse::B2));
        assert_eq!(o.source_encryption, None);
        assert_eq!(
            o.retention,
            Some(Retention {
                mode: RetentionMode::Compliance,
                retain_until_ms: 1_900_000_000_000
            })
        );
        assert_eq!(o.legal_hold, Some(LegalHold::Off));
        for bad in [
            &["t", "--destination-server-side-encryption", "none"][..],
            &[
                "t",
                "--destination-server-side-encryption-algorithm",
                "AES128",
            ],
            &["t", "--source-server-side-encryption", "SSE-B2"],
            &["t", "--retain-until", "5"],
        ] {
            assert!(T::try_parse_from(bad).is_err(), "{bad:?}");
        }
        let t = T::try_parse_from(["t", "--file-retention-mode", "none", "--retain-until", "1"])
            .expect("parse");
        assert!(options(&t.c).is_err(), "none is for file update only");
    }

    #[test]
    fn locations() {
        assert_eq!(
            parse_source("b2id://4_zabc").ok(),
            Some(CopySource::Id("4_zabc".into()))
        );
        assert_eq!(
            parse_source("b2://bkt/a/b c").ok(),
            Some(CopySource::Name {
                bucket: "bkt".into(),
                name: "a/b c".into()
            })
        );
        for bad in [
            "b2id://",
            "b2://bkt",
            "b2://bkt/",
            "b2:///x",
            "s3://bkt/x",
            "bkt/x",
        ] {
            assert!(parse_source(bad).is_err(), "{bad}");
        }
    }
}
