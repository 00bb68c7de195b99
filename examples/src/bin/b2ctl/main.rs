//! `b2ctl`: a command-line tool for Backblaze B2 on the SDK's blocking client.
//!
//! Credentials come from `--key-id`/`--key` or `B2_APPLICATION_KEY_ID`/`B2_APPLICATION_KEY`,
//! else from the account info that `account authorize` saved (`$B2_ACCOUNT_INFO`, else
//! `$XDG_CONFIG_HOME/b2-rust/account.json`, else `~/.b2-rust/account.json`; mode 0600); the
//! realm from `--realm` or `B2_ENVIRONMENT` ("production" or a URL). `demo` runs on the
//! bundled simulator when no credentials are set.

mod demo;
mod sync;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use b2_transport_std::client::{
    AccountInfo, Client, ClientError, DownloadTarget, ParallelDownload, Progress, UploadOptions,
};
use clap::{Args, Parser, Subcommand};

/// Command-line tool for Backblaze B2.
#[derive(Parser, Debug)]
#[command(name = "b2ctl", version, about)]
struct Cli {
    #[command(flatten)]
    creds: Creds,
    #[command(subcommand)]
    cmd: Cmd,
}

/// Credentials (else from the environment, like the official tool).
#[derive(Args, Debug)]
struct Creds {
    /// Application key id (default: $B2_APPLICATION_KEY_ID).
    #[arg(long = "key-id", id = "auth_key_id", global = true)]
    auth_key_id: Option<String>,
    /// Application key (default: $B2_APPLICATION_KEY). Visible to other users in `ps`:
    /// prefer the environment, or `account authorize`, which reads it from stdin.
    #[arg(long = "key", id = "auth_key", global = true)]
    auth_key: Option<String>,
    /// "production" or a URL (default: $B2_ENVIRONMENT, else production).
    #[arg(long, global = true)]
    realm: Option<String>,
    /// Seconds to wait for a connection, and for any progress of a request or an answer,
    /// before a try counts as failed (default: 20 to connect, 120 otherwise).
    #[arg(long, global = true, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: Option<u64>,
    /// Accept a plain-http realm on a host that is not loopback (keys and data then cross
    /// the network in clear).
    #[arg(long, global = true)]
    allow_http: bool,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The main job: stream generated sensor data to B2 (or the bundled simulator) as a large
    /// file, list it, download it back and verify it.
    Demo {
        /// Bytes to generate.
        #[arg(long, default_value_t = 64 << 20)]
        size: u64,
        /// Bucket to use (required with real credentials).
        #[arg(long)]
        bucket: Option<String>,
    },
    /// The saved account info: authorize once, then other commands need no key.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Buckets.
    #[command(subcommand)]
    Bucket(BucketCmd),
    /// Upload a file (or `-` for stdin); prints the new file's id.
    Upload {
        /// Bucket name.
        bucket: String,
        /// Local path or `-`.
        local: String,
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
    },
    /// Download a file by name to a path (or `-` for stdout).
    Download {
        /// Bucket name.
        bucket: String,
        /// Name in the bucket.
        remote: String,
        /// Local path or `-`.
        local: String,
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
    },
    /// Download a file version by id.
    DownloadId {
        /// File id.
        file_id: String,
        /// Local path or `-`.
        local: String,
        /// Flush the file to disk (fsync) before renaming it into place.
        #[arg(long)]
        fsync: bool,
    },
    /// List files.
    Ls {
        /// Bucket name.
        bucket: String,
        /// Only names starting with this.
        prefix: Option<String>,
        /// Do not roll names up into folders.
        #[arg(long)]
        recursive: bool,
        /// Every version and hide marker.
        #[arg(long)]
        versions: bool,
        /// B2's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a file's metadata.
    Info {
        /// Bucket name.
        bucket: String,
        /// Name in the bucket.
        remote: String,
        /// B2's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Hide a file.
    Hide {
        /// Bucket name.
        bucket: String,
        /// Name in the bucket.
        remote: String,
    },
    /// Unhide a file: delete its newest version only if it is a hide marker.
    Unhide {
        /// Bucket name.
        bucket: String,
        /// Name in the bucket.
        remote: String,
    },
    /// Delete the latest version of a file (or all of them); refuses to delete a hide marker
    /// alone (that is `unhide`).
    Rm {
        /// Bucket name.
        bucket: String,
        /// Name in the bucket.
        remote: String,
        /// Delete every version and hide marker.
        #[arg(long)]
        all_versions: bool,
    },
    /// Copy a file inside a bucket (server side).
    Copy {
        /// Bucket name.
        bucket: String,
        /// Existing name.
        source: String,
        /// New name.
        dest: String,
    },
    /// List (or cancel) unfinished large files.
    Unfinished {
        /// Bucket name.
        bucket: String,
        /// Cancel them.
        #[arg(long)]
        cancel: bool,
    },
    /// Application keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Make DEST match SOURCE: each a local folder or b2://bucket/prefix (local to B2, B2
    /// to local, B2 to B2 by server-side copies), files in parallel; one line per action.
    Sync(sync::SyncArgs),
}

#[derive(Subcommand, Debug)]
enum AccountCmd {
    /// Authorize and save the account info (mode 0600). The key comes from --key,
    /// $B2_APPLICATION_KEY, or stdin (prompted for, not echoed, on a terminal).
    Authorize {
        /// Application key id (default: --key-id, $B2_APPLICATION_KEY_ID, or asked for).
        key_id: Option<String>,
    },
    /// Show the saved account info (never the key or the token).
    Get,
    /// Remove the saved account info.
    Clear,
}

#[derive(Subcommand, Debug)]
enum BucketCmd {
    /// List buckets.
    List,
    /// Create a bucket.
    Create {
        /// Name (6-63 letters, digits, '-').
        name: String,
        /// Public bucket (default: private).
        #[arg(long)]
        public: bool,
    },
    /// Delete an empty bucket.
    Delete {
        /// Name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum KeyCmd {
    /// List keys.
    List,
    /// Create a key; prints its id and secret.
    Create {
        /// Key name.
        name: String,
        /// Capabilities, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        caps: Vec<String>,
        /// Restrict to this bucket.
        #[arg(long)]
        bucket: Option<String>,
        /// Restrict to names with this prefix.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Delete a key.
    Delete {
        /// Key id.
        key_id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Ctrl-C or SIGTERM in the middle of a download: remove its temporary file, then stop
    // as the shell expects (128 + SIGINT).
    let _ = ctrlc::set_handler(|| {
        b2_transport_std::client::remove_temp_files();
        eprintln!("b2ctl: interrupted");
        std::process::exit(130);
    });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("b2ctl: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Key id, key and realm from the flags or the environment.
fn credentials(c: &Creds) -> Option<(String, String, String)> {
    let env = b2_transport_std::client::env_credentials();
    let id = c
        .auth_key_id
        .clone()
        .or_else(|| env.as_ref().map(|e| e.0.clone()))?;
    let key = c
        .auth_key
        .clone()
        .or_else(|| env.as_ref().map(|e| e.1.clone()))?;
    let realm = c
        .realm
        .clone()
        .or_else(|| {
            std::env::var("B2_ENVIRONMENT")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "production".into());
    Some((id, key, realm))
}

/// Transport settings from the flags.
fn transport_config(c: &Creds) -> b2_transport_std::TransportConfig {
    let mut cfg = b2_transport_std::TransportConfig {
        allow_http: c.allow_http,
        ..Default::default()
    };
    if let Some(t) = c.timeout {
        cfg.connect_timeout = std::time::Duration::from_secs(t);
        cfg.io_timeout = std::time::Duration::from_secs(t);
    }
    cfg
}

/// Where the account info lives.
fn account_path() -> Result<std::path::PathBuf, ClientError> {
    AccountInfo::default_path().ok_or_else(|| {
        ClientError::Config("no place for the account info: set B2_ACCOUNT_INFO or HOME".into())
    })
}

/// A client from the flags or the environment, else from the saved account info (kept up
/// to date: a renewed token and buckets looked up are written back).
fn connect(c: &Creds) -> Result<Client, ClientError> {
    let cfg = transport_config(c);
    let Some((id, key, realm)) = credentials(c) else {
        let path = account_path()?;
        return Client::from_account_file(&path, &cfg)?.ok_or_else(|| {
            ClientError::Config(format!(
                "no credentials: run `b2ctl account authorize`, or set B2_APPLICATION_KEY_ID \
                 and B2_APPLICATION_KEY (no account info at {})",
                path.display()
            ))
        });
    };
    authorize(&id, &key, &realm, &cfg)
}

fn authorize(
    id: &str,
    key: &str,
    realm: &str,
    cfg: &b2_transport_std::TransportConfig,
) -> Result<Client, ClientError> {
    Client::with_transport(id, key, realm, cfg).map_err(|e| match e {
        // Say where: a wrong realm or key is the usual cause.
        ClientError::Core(_) => ClientError::Config(format!("authorizing at {realm}: {e}")),
        e => e,
    })
}

/// `account authorize`: the key id from the argument, the flag, the environment or stdin;
/// the key from the flag, the environment or stdin (never echoed on a terminal).
fn account_authorize(c: &Creds, key_id: Option<String>) -> Result<String, ClientError> {
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    let id = match key_id
        .or_else(|| c.auth_key_id.clone())
        .or_else(|| env("B2_APPLICATION_KEY_ID"))
    {
        Some(id) => id,
        None => read_line("Application key id: ", false)?,
    };
    let key = match c.auth_key.clone().or_else(|| env("B2_APPLICATION_KEY")) {
        Some(k) => k,
        None => read_line("Application key: ", true)?,
    };
    let realm = c
        .realm
        .clone()
        .or_else(|| env("B2_ENVIRONMENT"))
        .unwrap_or_else(|| "production".into());
    let client = authorize(&id, &key, &realm, &transport_config(c))?;
    let path = account_path()?;
    client.persist_to(&path)?;
    Ok(format!(
        "authorized account {} with key {id} at {realm}; saved to {}",
        client.account_id(),
        path.display()
    ))
}

/// One line from stdin, with a prompt on stderr when stdin is a terminal (not echoed
/// when `secret`, through `stty`).
fn read_line(prompt: &str, secret: bool) -> Result<String, ClientError> {
    use std::io::IsTerminal;
    let tty = io::stdin().is_terminal();
    let stty = |arg: &str| {
        let _ = std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status();
    };
    if tty {
        eprint!("{prompt}");
        if secret {
            stty("-echo");
        }
    }
    let mut line = String::new();
    // One line of at most 4 KiB (a key is far shorter).
    let r = io::BufRead::read_line(&mut io::Read::take(io::stdin().lock(), 4096), &mut line);
    if tty && secret {
        stty("echo");
        eprintln!();
    }
    r?;
    let v = line.trim_end_matches(['\n', '\r']).to_owned();
    if v.is_empty() {
        return Err(ClientError::Config(format!(
            "no {} given",
            prompt.trim_end_matches(": ").to_lowercase()
        )));
    }
    Ok(v)
}

/// `account get`: what the saved account info says, never the key or the token.
fn account_get(out: &mut impl Write) -> Result<(), ClientError> {
    let path = account_path()?;
    let info = AccountInfo::load(&path)?.ok_or_else(|| {
        ClientError::Config(format!(
            "no account info at {}: run `b2ctl account authorize`",
            path.display()
        ))
    })?;
    let age = info.token_age().as_secs();
    let none = || "-".to_owned();
    writeln!(out, "file:            {}", path.display())?;
    writeln!(out, "account id:      {}", info.account_id)?;
    writeln!(out, "key id:          {}", info.key_id)?;
    writeln!(out, "realm:           {}", info.realm)?;
    writeln!(out, "api url:         {}", info.api_url)?;
    writeln!(out, "download url:    {}", info.download_url)?;
    writeln!(
        out,
        "allowed bucket:  {}",
        info.allowed_bucket_name.clone().unwrap_or_else(none)
    )?;
    writeln!(
        out,
        "allowed prefix:  {}",
        info.name_prefix.clone().unwrap_or_else(none)
    )?;
    writeln!(out, "capabilities:    {}", info.capabilities.join(","))?;
    writeln!(
        out,
        "token age:       {}h{:02}m{}",
        age / 3600,
        age / 60 % 60,
        if info.is_fresh() {
            ""
        } else {
            " (renewed on next use)"
        }
    )?;
    Ok(())
}

/// A progress bar on stderr (drawn only when stderr is a terminal).
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn progress(&self, done: u64, total: Option<u64>) {
        if let Some(t) = total {
            self.0.set_length(t);
        }
        self.0.set_position(done);
    }
}

fn bar(total: Option<u64>) -> Arc<Bar> {
    let pb =
        indicatif::ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bytes}/{total_bytes} {wide_bar} {bytes_per_sec} {eta}",
    ) {
        pb.set_style(style);
    }
    Arc::new(Bar(pb))
}

fn parse_range(r: &str) -> Result<(u64, u64), ClientError> {
    let bad = || ClientError::Config(format!("bad range {r:?}: expected START-END"));
    let (a, b) = r.split_once('-').ok_or_else(bad)?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if b < a {
        return Err(bad());
    }
    Ok((a, b))
}

fn run(cli: Cli) -> Result<(), ClientError> {
    let out = &mut io::stdout().lock();
    match cli.cmd {
        Cmd::Demo { size, bucket } => return demo::run(credentials(&cli.creds), size, bucket),
        Cmd::Account(AccountCmd::Authorize { key_id }) => {
            let said = account_authorize(&cli.creds, key_id)?;
            writeln!(out, "{said}")?;
        }
        Cmd::Account(AccountCmd::Get) => account_get(out)?,
        Cmd::Account(AccountCmd::Clear) => {
            let path = account_path()?;
            if AccountInfo::clear(&path)? {
                writeln!(out, "removed {}", path.display())?;
            } else {
                writeln!(out, "no account info at {}", path.display())?;
            }
        }
        Cmd::Bucket(BucketCmd::List) => {
            for b in connect(&cli.creds)?.list_buckets()? {
                writeln!(out, "{}  {:<11} {}", b.id, b.bucket_type, b.name)?;
            }
        }
        Cmd::Bucket(BucketCmd::Create { name, public }) => {
            let b = connect(&cli.creds)?.create_bucket(&name, public)?;
            writeln!(out, "{}", b.id)?;
        }
        Cmd::Bucket(BucketCmd::Delete { name }) => {
            connect(&cli.creds)?.delete_bucket(&name)?;
        }
        Cmd::Upload {
            bucket,
            local,
            remote,
            content_type,
            info,
            part_size,
            threads,
        } => {
            // The local side first: no network work for a file that is not there.
            let len = if local == "-" {
                None
            } else {
                let meta = std::fs::metadata(&local)
                    .map_err(|e| io::Error::new(e.kind(), format!("cannot read {local}: {e}")))?;
                Some(meta.len())
            };
            let client = connect(&cli.creds)?;
            let mut opts = UploadOptions {
                threads: usize::from(threads),
                ..UploadOptions::default()
            };
            if let Some(t) = content_type {
                opts.content_type = t;
            }
            for kv in info {
                let (k, v) = kv.split_once('=').ok_or_else(|| {
                    ClientError::Config(format!("bad --info {kv:?}: expected KEY=VALUE"))
                })?;
                opts.info.push((k.to_owned(), v.to_owned()));
            }
            if let Some(p) = part_size {
                opts.part_size = Some(p);
                opts.large_threshold = p;
            }
            let f = if local == "-" {
                opts.progress = Some(bar(None));
                client.upload_reader(&bucket, io::stdin().lock(), &remote, &opts)?
            } else {
                opts.progress = Some(bar(len));
                let path = Path::new(&local);
                if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
                    // Opening a FIFO blocks until something writes into it: say so.
                    eprintln!("b2ctl: {local} is not a regular file: reading it as a stream (a FIFO waits for its writer)");
                }
                client.upload_path(&bucket, path, &remote, &opts)?
            };
            writeln!(out, "{}", f.file_id)?;
        }
        Cmd::Download {
            bucket,
            remote,
            local,
            range,
            fsync,
            threads,
        } => {
            let client = connect(&cli.creds)?;
            client.set_sync_downloads(fsync);
            let range = range.as_deref().map(parse_range).transpose()?;
            let par = ParallelDownload {
                threads: usize::from(threads),
                ..ParallelDownload::default()
            };
            download(
                &client,
                &DownloadTarget::ByName {
                    bucket,
                    name: remote,
                },
                &local,
                range,
                &par,
            )?;
        }
        Cmd::DownloadId {
            file_id,
            local,
            fsync,
        } => {
            let client = connect(&cli.creds)?;
            client.set_sync_downloads(fsync);
            download(
                &client,
                &DownloadTarget::ById(file_id),
                &local,
                None,
                &ParallelDownload::default(),
            )?;
        }
        Cmd::Ls {
            bucket,
            prefix,
            recursive,
            versions,
            json,
        } => {
            let client = connect(&cli.creds)?;
            let iter = client.ls(
                &bucket,
                prefix.as_deref().unwrap_or(""),
                recursive,
                versions,
            )?;
            if json {
                write!(out, "[")?;
            }
            for (i, f) in iter.enumerate() {
                let f = f?;
                if json {
                    write!(out, "{}\n{}", if i > 0 { "," } else { "" }, f.json)?;
                } else if f.action == "folder" {
                    writeln!(out, "{:>14}  {:<6} {}", "", "folder", f.file_name)?;
                } else {
                    writeln!(
                        out,
                        "{:>14}  {:<6} {}  {}",
                        f.size, f.action, f.file_name, f.file_id
                    )?;
                }
            }
            if json {
                writeln!(out, "\n]")?;
            }
        }
        Cmd::Info {
            bucket,
            remote,
            json,
        } => {
            let f = connect(&cli.creds)?.file_info(&bucket, &remote)?;
            if json {
                writeln!(out, "{}", f.json)?;
            } else {
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
                for (k, v) in f.info {
                    writeln!(out, "info:        {k}={v}")?;
                }
            }
        }
        Cmd::Hide { bucket, remote } => {
            let f = connect(&cli.creds)?.hide(&bucket, &remote)?;
            writeln!(out, "{}", f.file_id)?;
        }
        Cmd::Unhide { bucket, remote } => {
            let f = connect(&cli.creds)?.unhide(&bucket, &remote)?;
            writeln!(out, "deleted hide marker {f}")?;
        }
        Cmd::Rm {
            bucket,
            remote,
            all_versions,
        } => {
            let n = connect(&cli.creds)?.delete(&bucket, &remote, all_versions)?;
            writeln!(out, "deleted {n} version(s)")?;
        }
        Cmd::Copy {
            bucket,
            source,
            dest,
        } => {
            let f = connect(&cli.creds)?.copy(&bucket, &source, &dest)?;
            writeln!(out, "{}", f.file_id)?;
        }
        Cmd::Unfinished { bucket, cancel } => {
            let client = connect(&cli.creds)?;
            let files: Vec<_> = client.unfinished(&bucket, "")?.collect::<Result<_, _>>()?;
            for f in files {
                if cancel {
                    client.cancel_large_file(&f.file_id)?;
                    writeln!(out, "cancelled {}  {}", f.file_id, f.file_name)?;
                } else {
                    writeln!(out, "{}  {}", f.file_id, f.file_name)?;
                }
            }
        }
        Cmd::Sync(args) => sync::run(&connect(&cli.creds)?, &args, out)?,
        Cmd::Key(KeyCmd::List) => {
            for k in connect(&cli.creds)?.list_keys()? {
                writeln!(out, "{}  {}  {}", k.id, k.name, k.capabilities.join(","))?;
            }
        }
        Cmd::Key(KeyCmd::Create {
            name,
            caps,
            bucket,
            prefix,
        }) => {
            let caps: Vec<&str> = caps.iter().map(String::as_str).collect();
            // Name the first unknown capability before any network work.
            if let Some(bad) = b2_core::validate::unknown_capability(&caps) {
                return Err(ClientError::Config(format!(
                    "unknown capability {bad:?}; B2's are: {}",
                    b2_core::validate::CAPABILITIES.join(",")
                )));
            }
            let k = connect(&cli.creds)?.create_key(
                &name,
                &caps,
                bucket.as_deref(),
                prefix.as_deref(),
            )?;
            writeln!(out, "{} {}", k.id, k.key)?;
        }
        Cmd::Key(KeyCmd::Delete { key_id }) => {
            connect(&cli.creds)?.delete_key(&key_id)?;
        }
    }
    Ok(())
}

fn download(
    client: &Client,
    target: &DownloadTarget,
    local: &str,
    range: Option<(u64, u64)>,
    par: &ParallelDownload,
) -> Result<(), ClientError> {
    let progress = bar(None);
    let r = if local == "-" {
        client.download_to_writer(target, io::stdout().lock(), range, Some(&*progress))?
    } else {
        client.download_to_path_with(target, Path::new(local), range, Some(&*progress), par)?
    };
    progress.0.finish_and_clear();
    // On stderr, so that a download to stdout stays clean.
    if r.verified {
        eprintln!("verified: SHA-1 {}", r.sha1.as_deref().unwrap_or(""));
    } else if range.is_some() {
        eprintln!("not verified: a range cannot be checked against the whole file's SHA-1");
    } else {
        eprintln!(
            "not verified: B2 has no SHA-1 for this file (a large file uploaded without \
             large_file_sha1)"
        );
    }
    Ok(())
}
