//! `b2ctl file ...`, the official tool's file commands (`upload`, `download`, `info`, `hide`,
//! `unhide`, `url`, `copy`, `cancel`), and the short commands that share their arguments
//! (`upload`, `download`, `info`, `hide`, `unhide`), which print what they always printed.

use std::io::{self, Write};
use std::path::Path;

use b2_transport_std::client::{
    Client, ClientError, DownloadTarget, FileVersion, ParallelDownload, UploadOptions,
};
use clap::{Args, Subcommand};

use crate::output::{self, json_str};
use crate::uri::{self, B2Uri};
use crate::{bar, connect, Creds};

/// Which face a command shows: this tool's short commands print what they always did; the
/// `file` commands print what the official tool prints (JSON for a file version).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `upload`, `info`, `hide`, ...
    Short,
    /// `file upload`, `file info`, `file hide`, ...
    Official,
}

/// The official tool's file commands.
#[derive(Subcommand, Debug)]
pub enum FileCmd {
    /// Upload a file (or `-` for stdin); prints its download URLs and B2's JSON for it.
    Upload(UploadArgs),
    /// Download `b2://BUCKET/NAME` or `b2id://FILE_ID` (or BUCKET NAME) to a path or `-`.
    Download(DownloadArgs),
    /// B2's JSON for `b2://BUCKET/NAME` (its newest version) or `b2id://FILE_ID`.
    Info(InfoArgs),
    /// Hide `b2://BUCKET/NAME` (or BUCKET NAME); prints the hide marker's JSON.
    Hide(NameArgs),
    /// Delete the hide marker of `b2://BUCKET/NAME` (only if its newest version is one).
    Unhide(NameArgs),
    /// The download URL of `b2://BUCKET/NAME` or `b2id://FILE_ID` (works as is for public
    /// buckets).
    Url {
        /// `b2://BUCKET/NAME` or `b2id://FILE_ID`.
        target: String,
        #[command(flatten)]
        auth: super::settings::UrlAuthArgs,
    },
    /// Copy a file server side: SOURCE `b2://BUCKET/NAME` or `b2id://FILE_ID`, DEST
    /// `b2://BUCKET/NAME` (any bucket, any size: above the cutoff in parallel parts,
    /// resumable). Prints the new version's JSON.
    #[command(alias = "server-side-copy")]
    Copy(super::copy::CopyArgs),
    /// Make one file from several remote files or ranges, in order (b2sdk's concatenate);
    /// every source but the last must be at least 5 MB. Prints the new version's JSON.
    Concatenate(super::copy::ConcatArgs),
    /// Change a file version's retention or legal hold (the bucket needs file lock).
    /// Compliance can only be extended; shortening or removing governance needs
    /// --bypass-governance and the key's bypassGovernance capability.
    Update(super::protect::UpdateArgs),
    /// The parts B2 holds of an unfinished large file (`b2id://FILE_ID`): number, size,
    /// SHA-1 (the official tool's `file large parts`).
    #[command(alias = "list-parts")]
    Parts {
        /// `b2id://FILE_ID` of an unfinished large file.
        target: String,
        /// B2's field names, one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Cancel an unfinished large file (`b2id://FILE_ID`), or all of a bucket's
    /// (`b2://BUCKET`); their parts are deleted.
    Cancel {
        /// `b2id://FILE_ID` or `b2://BUCKET`.
        target: String,
    },
}

/// Arguments of `upload` and `file upload`.
#[derive(Args, Debug)]
pub struct UploadArgs {
    /// Bucket name.
    bucket: String,
    /// Local path or `-` (any path the system can name, UTF-8 or not).
    local: std::ffi::OsString,
    /// Name in the bucket.
    remote: String,
    /// MIME type (default: b2/x-auto).
    #[arg(long)]
    content_type: Option<String>,
    /// File info entry, KEY=VALUE (repeatable).
    #[arg(long = "info", value_name = "KEY=VALUE")]
    info: Vec<String>,
    /// Part size; sources longer than this go up as large files in parts of this size.
    #[arg(long)]
    part_size: Option<u64>,
    /// Parallel part uploads (1 to 64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    #[command(flatten)]
    protect: super::protect::WriteProtect,
}

/// Arguments of `download` and `file download`: `BUCKET NAME LOCAL` or `URI LOCAL`.
#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// `b2://BUCKET/NAME`, `b2id://FILE_ID`, or a bucket name (then NAME LOCAL follow).
    target: String,
    /// After a URI: the local path or `-`; after a bucket name: the name in the bucket.
    second: std::ffi::OsString,
    /// After a bucket name: the local path or `-` (any bytes the system allows).
    third: Option<std::ffi::OsString>,
    /// Inclusive byte range START-END.
    #[arg(long)]
    range: Option<String>,
    /// Flush the file to disk (fsync) before renaming it into place.
    #[arg(long)]
    fsync: bool,
    /// Parallel ranged downloads of a whole file of 200 MB or more to a path (1 to 64;
    /// 1: one stream).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    #[command(flatten)]
    source: super::protect::ReadProtect,
}

/// Arguments of `info` and `file info`: `BUCKET NAME` or one URI.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// `b2://BUCKET/NAME`, `b2id://FILE_ID`, or a bucket name (then NAME follows).
    target: String,
    /// After a bucket name: the name in the bucket.
    remote: Option<String>,
    /// B2's JSON (always, for `file info`).
    #[arg(long)]
    json: bool,
}

/// A file by name: `BUCKET NAME` or `b2://BUCKET/NAME`.
#[derive(Args, Debug)]
pub struct NameArgs {
    /// `b2://BUCKET/NAME`, or a bucket name (then NAME follows).
    target: String,
    /// After a bucket name: the name in the bucket.
    remote: Option<String>,
}

impl NameArgs {
    fn bucket_and_name(&self) -> (String, String) {
        match uri::file_target(&self.target, self.remote.as_deref()) {
            Ok(B2Uri::Name { bucket, path }) => (bucket, path),
            Ok(B2Uri::Id(_)) => output::usage("this command takes b2://BUCKET/NAME, not a file id"),
            Err(e) => output::usage(e),
        }
    }
}

/// Runs a `file` command.
pub fn run(creds: &Creds, cmd: FileCmd, out: &mut impl Write) -> Result<(), ClientError> {
    match cmd {
        FileCmd::Upload(a) => upload(creds, a, Style::Official, out),
        FileCmd::Download(a) => download(creds, a),
        FileCmd::Info(a) => info(creds, a, Style::Official, out),
        FileCmd::Hide(a) => hide(creds, a, Style::Official, out),
        FileCmd::Unhide(a) => unhide(creds, a, Style::Official, out),
        FileCmd::Url { target, auth } => {
            let target = uri::file_target(&target, None).unwrap_or_else(|e| output::usage(e));
            let client = connect(creds)?;
            let url = match (&target, auth.with_auth) {
                (B2Uri::Name { bucket, path }, true) => {
                    super::settings::share_url(&client, bucket, path, &auth)?
                }
                (B2Uri::Id(_), true) => output::usage(
                    "--with-auth needs b2://BUCKET/NAME: a download authorization covers names",
                ),
                (_, false) => url(&client, &target),
            };
            writeln!(out, "{url}")?;
            Ok(())
        }
        FileCmd::Update(a) => super::protect::update(&connect(creds)?, a, out),
        FileCmd::Copy(a) => super::copy::copy(&connect(creds)?, a, out),
        FileCmd::Concatenate(a) => super::copy::concatenate(&connect(creds)?, a, out),
        FileCmd::Parts { target, json } => parts(creds, &target, json, out),
        FileCmd::Cancel { target } => cancel(creds, &target, out),
    }
}

/// The download URL of a file: `{downloadUrl}/file/BUCKET/NAME` (name percent-encoded as
/// B2 expects) or `{downloadUrl}/b2api/v4/b2_download_file_by_id?fileId=ID`.
fn url(client: &Client, target: &B2Uri) -> String {
    let base = client.account_info().download_url;
    let base = base.trim_end_matches('/');
    match target {
        B2Uri::Name { bucket, path } => format!(
            "{base}/file/{}/{}",
            b2_core::encoding::percent_encode(bucket),
            b2_core::encoding::percent_encode(path)
        ),
        B2Uri::Id(id) => format!(
            "{base}/b2api/v4/b2_download_file_by_id?fileId={}",
            b2_core::encoding::percent_encode(id)
        ),
    }
}

/// `upload` / `file upload`.
pub fn upload(
    creds: &Creds,
    a: UploadArgs,
    style: Style,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let UploadArgs {
        bucket,
        local,
        remote,
        content_type,
        info,
        part_size,
        threads,
        protect,
    } = a;
    // The local side first: no network work for a file that is not there.
    let len = if local == "-" {
        None
    } else {
        let meta = std::fs::metadata(&local).map_err(|e| {
            let shown = Path::new(&local).display();
            io::Error::new(e.kind(), format!("cannot read {shown}: {e}"))
        })?;
        Some(meta.len())
    };
    let mut opts = UploadOptions {
        threads: usize::from(threads),
        ..UploadOptions::default()
    };
    if let Some(t) = content_type {
        opts.content_type = t;
    }
    for kv in info {
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| output::usage(format!("bad --info {kv:?}: expected KEY=VALUE")));
        opts.info.push((k.to_owned(), v.to_owned()));
    }
    if let Some(p) = part_size {
        opts.part_size = Some(p);
        opts.large_threshold = p;
    }
    protect.apply(&mut opts)?;
    let client = connect(creds)?;
    let progress = bar(len);
    opts.progress = Some(progress.clone());
    let f = if local == "-" {
        client.upload_reader(&bucket, io::stdin().lock(), &remote, &opts)?
    } else {
        let path = Path::new(&local);
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            // Opening a FIFO blocks until something writes into it: say so.
            eprintln!(
                "b2ctl: {} is not a regular file: reading it as a stream (a FIFO waits for its writer)",
                path.display()
            );
        }
        client.upload_path(&bucket, path, &remote, &opts)?
    };
    progress.0.finish_and_clear();
    match style {
        Style::Short => writeln!(out, "{}", f.file_id)?,
        Style::Official => {
            let by_name = B2Uri::Name {
                bucket,
                path: f.file_name.clone(),
            };
            writeln!(out, "URL by file name: {}", url(&client, &by_name))?;
            writeln!(
                out,
                "URL by fileId: {}",
                url(&client, &B2Uri::Id(f.file_id.clone()))
            )?;
            writeln!(out, "{}", output::version_json(&f))?;
        }
    }
    Ok(())
}

/// `download` / `file download`.
pub fn download(creds: &Creds, a: DownloadArgs) -> Result<(), ClientError> {
    let (target, local) = if uri::is_uri(&a.target) {
        if let Some(extra) = &a.third {
            output::usage(format!(
                "unexpected argument {extra:?}: after a URI comes only LOCAL"
            ));
        }
        let target = match uri::file_target(&a.target, None) {
            Ok(B2Uri::Name { bucket, path }) => DownloadTarget::ByName { bucket, name: path },
            Ok(B2Uri::Id(id)) => DownloadTarget::ById(id),
            Err(e) => output::usage(e),
        };
        (target, a.second)
    } else {
        let Some(local) = a.third else {
            output::usage("expected BUCKET NAME LOCAL, or b2://BUCKET/NAME LOCAL");
        };
        let Ok(name) = a.second.into_string() else {
            output::usage("the name in the bucket must be UTF-8 (B2 names are)");
        };
        (
            DownloadTarget::ByName {
                bucket: a.target,
                name,
            },
            local,
        )
    };
    let range = a
        .range
        .as_deref()
        .map(crate::parse_range)
        .transpose()
        .unwrap_or_else(|e| output::usage(e));
    let key = a.source.key()?;
    let client = crate::connect_with(creds, a.fsync)?;
    let par = ParallelDownload {
        threads: usize::from(a.threads),
        ..ParallelDownload::default()
    };
    crate::download(&client, &target, &local, range, &par, key.as_ref())
}

/// The newest version of a name, or a version by id.
fn lookup(client: &Client, target: &B2Uri) -> Result<FileVersion, ClientError> {
    match target {
        B2Uri::Name { bucket, path } => client.file_info(bucket, path),
        B2Uri::Id(id) => client.file_info_by_id(id),
    }
}

/// `info` / `file info`.
pub fn info(
    creds: &Creds,
    a: InfoArgs,
    style: Style,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let target =
        uri::file_target(&a.target, a.remote.as_deref()).unwrap_or_else(|e| output::usage(e));
    let f = lookup(&connect(creds)?, &target)?;
    if a.json || style == Style::Official {
        writeln!(out, "{}", output::version_json(&f))?;
        return Ok(());
    }
    writeln!(out, "fileName:    {}", f.file_name)?;
    writeln!(out, "fileId:      {}", f.file_id)?;
    writeln!(out, "size:        {}", f.size)?;
    writeln!(
        out,
        "contentType: {}",
        f.content_type.clone().unwrap_or_default()
    )?;
    writeln!(
        out,
        "sha1:        {}",
        f.sha1().unwrap_or_else(|| "none".into())
    )?;
    writeln!(out, "uploaded:    {} ms", f.upload_timestamp)?;
    for (k, v) in &f.info {
        writeln!(out, "info:        {k}={v}")?;
    }
    protection_lines(out, &f.json)?;
    Ok(())
}

/// `info`'s encryption, retention and legal hold lines, read from B2's JSON for the version
/// (a line only for what B2 reported; "(not readable)" when this key may not read it).
fn protection_lines(out: &mut impl Write, json: &str) -> io::Result<()> {
    use b2_core::wire::encryption::EncryptionMode;
    use b2_core::wire::file::File;
    use b2_core::wire::Answer as _;
    let Ok(f) = File::parse(json.as_bytes()) else {
        return Ok(());
    };
    if let Some(e) = f.encryption() {
        let mode = match e.mode {
            EncryptionMode::None => "none",
            EncryptionMode::SseB2 => "SSE-B2",
            EncryptionMode::SseC => "SSE-C",
            EncryptionMode::Other => "other",
        };
        match e.customer_key_md5 {
            Some(md5) => writeln!(out, "encryption:  {mode} (key MD5 {})", md5.raw())?,
            None => writeln!(out, "encryption:  {mode}")?,
        }
    }
    match (f.file_retention, f.retention()) {
        (Some(w), _) if !w.is_client_authorized_to_read => {
            writeln!(out, "retention:   (not readable)")?
        }
        (Some(_), Ok(Some(r))) => writeln!(
            out,
            "retention:   {} until {} ms",
            r.mode.as_str(),
            r.retain_until_ms
        )?,
        (Some(_), Ok(None)) => writeln!(out, "retention:   none")?,
        _ => {}
    }
    match (f.legal_hold, f.legal_hold_state()) {
        (Some(w), _) if !w.is_client_authorized_to_read => {
            writeln!(out, "legal hold:  (not readable)")?
        }
        (Some(_), Ok(Some(h))) => writeln!(out, "legal hold:  {}", h.as_str())?,
        (Some(_), Ok(None)) => writeln!(out, "legal hold:  none")?,
        _ => {}
    }
    Ok(())
}

/// `hide` / `file hide`.
pub fn hide(
    creds: &Creds,
    a: NameArgs,
    style: Style,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let (bucket, name) = a.bucket_and_name();
    let f = connect(creds)?.hide(&bucket, &name)?;
    match style {
        Style::Short => writeln!(out, "{}", f.file_id)?,
        Style::Official => writeln!(out, "{}", output::version_json(&f))?,
    }
    Ok(())
}

/// `unhide` / `file unhide`.
pub fn unhide(
    creds: &Creds,
    a: NameArgs,
    style: Style,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let (bucket, name) = a.bucket_and_name();
    let id = connect(creds)?.unhide(&bucket, &name)?;
    match style {
        Style::Short => writeln!(out, "deleted hide marker {id}")?,
        Style::Official => writeln!(
            out,
            "{{\"action\":\"delete\",\"fileId\":{},\"fileName\":{}}}",
            json_str(&id),
            json_str(&name)
        )?,
    }
    Ok(())
}

/// `file parts`.
fn parts(creds: &Creds, target: &str, json: bool, out: &mut impl Write) -> Result<(), ClientError> {
    let Ok(B2Uri::Id(id)) = uri::parse(target) else {
        output::usage("file parts takes b2id://FILE_ID of an unfinished large file");
    };
    let parts = connect(creds)?.list_parts(&id)?;
    let mut arr = output::JsonArray::new();
    for p in parts {
        let sha1 = p.sha1.unwrap_or_default();
        if json {
            let item = format!(
                "{{\"partNumber\":{},\"contentLength\":{},\"contentSha1\":{},\"uploadTimestamp\":{}}}",
                p.number,
                p.size,
                json_str(&sha1),
                p.upload_timestamp
            );
            arr.item(out, &item)?;
        } else {
            writeln!(out, "{:>5} {:>12} {sha1}", p.number, p.size)?;
        }
    }
    if json {
        arr.end(out)?;
    }
    Ok(())
}

/// `file cancel`.
fn cancel(creds: &Creds, target: &str, out: &mut impl Write) -> Result<(), ClientError> {
    let target = uri::parse(target).unwrap_or_else(|e| output::usage(e));
    let client = connect(creds)?;
    match target {
        B2Uri::Id(id) => {
            client.cancel_large_file(&id)?;
            writeln!(out, "{id} canceled")?;
        }
        B2Uri::Name { bucket, path } => {
            if !path.is_empty() {
                output::usage("file cancel takes b2id://FILE_ID or b2://BUCKET (all of them)");
            }
            let files: Vec<_> = client.unfinished(&bucket, "")?.collect::<Result<_, _>>()?;
            for f in files {
                client.cancel_large_file(&f.file_id)?;
                writeln!(out, "{} canceled", f.file_id)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::protection_lines;

    fn lines(json: &str) -> String {
        let mut out = Vec::new();
        protection_lines(&mut out, json).expect("write");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn info_shows_encryption_retention_and_hold_as_b2_reports_them() {
        let locked = r#"{"action":"upload","contentLength":1,"fileId":"i","fileName":"n",
            "fileRetention":{"isClientAuthorizedToRead":true,"value":{"mode":"governance","retainUntilTimestamp":1900000000000}},
            "legalHold":{"isClientAuthorizedToRead":true,"value":"on"},
            "serverSideEncryption":{"algorithm":"AES256","customerKeyMd5":"EpCzOl/OQuzoGkQGyVK00g==","mode":"SSE-C"},
            "uploadTimestamp":1}"#;
        assert_eq!(
            lines(locked),
            "encryption:  SSE-C (key MD5 EpCzOl/OQuzoGkQGyVK00g==)\n\
             retention:   governance until 1900000000000 ms\n\
             legal hold:  on\n"
        );
        let hidden = r#"{"action":"upload","contentLength":1,"fileId":"i","fileName":"n",
            "fileRetention":{"isClientAuthorizedToRead":false,"value":null},
            "legalHold":{"isClientAuthorizedToRead":false,"value":null},
            "serverSideEncryption":{"algorithm":"AES256","mode":"SSE-B2"},"uploadTimestamp":1}"#;
        assert_eq!(
            lines(hidden),
            "encryption:  SSE-B2\nretention:   (not readable)\nlegal hold:  (not readable)\n"
        );
        let plain = r#"{"action":"upload","contentLength":1,"fileId":"i","fileName":"n",
            "fileRetention":{"isClientAuthorizedToRead":true,"value":{"mode":null,"retainUntilTimestamp":null}},
            "legalHold":{"isClientAuthorizedToRead":true,"value":null},"uploadTimestamp":1}"#;
        assert_eq!(lines(plain), "retention:   none\nlegal hold:  none\n");
        // An answer without these fields (or not JSON) prints nothing.
        assert_eq!(lines(r#"{"fileId":"i","fileName":"n"}"#), "");
        assert_eq!(lines(""), "");
    }
}
