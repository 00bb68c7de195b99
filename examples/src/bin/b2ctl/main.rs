//! `b2ctl`: a command-line tool for Backblaze B2 on the SDK's blocking client.
//!
//! Credentials come from `--key-id`/`--key` or `B2_APPLICATION_KEY_ID`/`B2_APPLICATION_KEY`,
//! else from the account info that `account authorize` saved (`$B2_ACCOUNT_INFO`, else
//! `$XDG_CONFIG_HOME/b2-rust/account.json`, else `~/.b2-rust/account.json`; mode 0600); the
//! realm from `--realm` or `B2_ENVIRONMENT` ("production" or a URL). `demo` runs on the
//! bundled simulator when no credentials are set.

mod bucket_get;
mod copy;
mod demo;
mod file;
mod ls;
mod output;
mod protect;
mod settings;
mod sync;
mod uri;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use b2_transport_std::client::{
    AccountInfo, Client, ClientError, DownloadTarget, ParallelDownload, Progress,
};
use clap::{Args, Parser, Subcommand};

/// Command-line tool for Backblaze B2.
#[derive(Parser, Debug)]
#[command(name = "b2ctl", version, about, after_help = output::EXIT_HELP)]
struct Cli {
    #[command(flatten)]
    creds: Creds,
    /// No progress bars (drawn on stderr only when it is a terminal).
    #[arg(long, global = true)]
    no_progress: bool,
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
    Upload(file::UploadArgs),
    /// Download a file by name (BUCKET NAME, or b2://BUCKET/NAME; or b2id://FILE_ID) to a
    /// path (or `-` for stdout).
    Download(file::DownloadArgs),
    /// Download a file version by id.
    DownloadId {
        /// File id.
        file_id: String,
        /// Local path or `-`.
        local: std::ffi::OsString,
        /// Flush the file to disk (fsync) before renaming it into place.
        #[arg(long)]
        fsync: bool,
        #[command(flatten)]
        source: protect::ReadProtect,
    },
    /// List files (BUCKET [PREFIX], or b2://BUCKET[/PATH] as the official tool).
    ///
    /// `ls BUCKET [PREFIX]`: names starting with PREFIX. `ls b2://BUCKET[/PATH]`: as the
    /// official tool, the file PATH names, else the entries of folder PATH/. No argument:
    /// the buckets.
    Ls(ls::LsArgs),
    /// Show a file's metadata (BUCKET NAME, b2://BUCKET/NAME or b2id://FILE_ID).
    Info(file::InfoArgs),
    /// Hide a file (BUCKET NAME or b2://BUCKET/NAME).
    Hide(file::NameArgs),
    /// Unhide a file: delete its newest version only if it is a hide marker.
    Unhide(file::NameArgs),
    /// Delete file versions (BUCKET NAME, or b2://BUCKET/PATH as the official tool).
    ///
    /// `rm BUCKET NAME [--all-versions]`: the newest version of NAME (never a hide marker
    /// alone: that is `unhide`), or all of them. As the official tool, `rm b2://BUCKET/PATH
    /// [--versions] [--recursive] [--dry-run]`: PATH's newest visible version (or all its
    /// versions), or, when PATH is a folder, those of its files (of its sub-folders' too,
    /// with --recursive).
    Rm(ls::RmArgs),
    /// The official tool's file commands (upload, download, info, hide, unhide, url, copy,
    /// cancel).
    #[command(subcommand)]
    File(file::FileCmd),
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
        /// B2's JSON, one array.
        #[arg(long, conflicts_with = "cancel")]
        json: bool,
    },
    /// Application keys.
    #[command(subcommand)]
    Key(KeyCmd),
    #[command(flatten)]
    Settings(settings::TopCmd),
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
    Get {
        /// As JSON (B2's field names where it has them).
        #[arg(long)]
        json: bool,
    },
    /// Remove the saved account info.
    Clear,
}

#[derive(Subcommand, Debug)]
enum BucketCmd {
    /// List buckets.
    List {
        /// B2's JSON, one array.
        #[arg(long)]
        json: bool,
    },
    /// Create a bucket.
    Create {
        /// Name (6-63 letters, digits, '-').
        name: String,
        /// Public bucket (default: private).
        #[arg(long)]
        public: bool,
        /// Enable file lock (Object Lock), so files can get a retention or a legal hold;
        /// it cannot be turned off.
        #[arg(long)]
        file_lock_enabled: bool,
    },
    /// Delete an empty bucket.
    Delete {
        /// Name.
        name: String,
    },
    #[command(flatten)]
    Settings(settings::BucketSettingsCmd),
}

#[derive(Subcommand, Debug)]
enum KeyCmd {
    /// List keys.
    List {
        /// One JSON array (B2's field names).
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Settings(settings::KeySettingsCmd),
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
    if cli.no_progress {
        NO_PROGRESS.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("b2ctl: {e}");
            ExitCode::from(output::exit_code(&e))
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
    connect_with(c, false)
}

/// [`connect`], with `fsync` of downloads set.
fn connect_with(c: &Creds, fsync: bool) -> Result<Client, ClientError> {
    let builder = Client::builder()
        .transport_config(transport_config(c))
        .sync_downloads(fsync);
    let Some((id, key, realm)) = credentials(c) else {
        let path = account_path()?;
        return builder.account_file(&path).build().map_err(|e| match e {
            ClientError::NotFound(_) => ClientError::Config(format!(
                "no credentials: run `b2ctl account authorize`, or set B2_APPLICATION_KEY_ID \
                 and B2_APPLICATION_KEY (no account info at {})",
                path.display()
            )),
            e => e,
        });
    };
    authorize(builder, &id, &key, &realm)
}

fn authorize(
    builder: b2_transport_std::client::ClientBuilder,
    id: &str,
    key: &str,
    realm: &str,
) -> Result<Client, ClientError> {
    builder
        .credentials(id, key)
        .realm(realm)
        .build()
        .map_err(|e| match e {
            // Say where: a wrong realm or key is the usual cause.
            ClientError::Config(_) | ClientError::Io { .. } | ClientError::NotFound(_) => e,
            e => ClientError::Config(format!("authorizing at {realm}: {e}")),
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
    let builder = Client::builder().transport_config(transport_config(c));
    let client = authorize(builder, &id, &key, &realm)?;
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
fn account_get(out: &mut impl Write, json: bool) -> Result<(), ClientError> {
    let path = account_path()?;
    let info = AccountInfo::load(&path)?.ok_or_else(|| {
        ClientError::Config(format!(
            "no account info at {}: run `b2ctl account authorize`",
            path.display()
        ))
    })?;
    let age = info.token_age().as_secs();
    if json {
        use output::json_str;
        let opt = |v: &Option<String>| v.as_deref().map(json_str).unwrap_or("null".into());
        let caps: Vec<String> = info.capabilities.iter().map(|c| json_str(c)).collect();
        writeln!(
            out,
            "{{\"accountFilePath\":{},\"accountId\":{},\"applicationKeyId\":{},\"realm\":{},\
             \"apiUrl\":{},\"downloadUrl\":{},\"allowed\":{{\"bucketId\":{},\"bucketName\":{},\
             \"capabilities\":[{}],\"namePrefix\":{}}},\"tokenAgeSeconds\":{age},\"tokenFresh\":{}}}",
            json_str(&path.display().to_string()),
            json_str(&info.account_id),
            json_str(&info.key_id),
            json_str(&info.realm),
            json_str(&info.api_url),
            json_str(&info.download_url),
            opt(&info.allowed_bucket_id),
            opt(&info.allowed_bucket_name),
            caps.join(","),
            opt(&info.name_prefix),
            info.is_fresh()
        )?;
        return Ok(());
    }
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

/// Set by `--no-progress`.
static NO_PROGRESS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Where progress bars go: stderr when it is a terminal and `--no-progress` was not given,
/// else nowhere.
fn progress_target() -> indicatif::ProgressDrawTarget {
    use std::io::IsTerminal;
    if NO_PROGRESS.load(std::sync::atomic::Ordering::Relaxed) || !io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::hidden()
    } else {
        indicatif::ProgressDrawTarget::stderr()
    }
}

/// A byte progress bar (see [`progress_target`]).
fn bar(total: Option<u64>) -> Arc<Bar> {
    let pb = indicatif::ProgressBar::with_draw_target(total, progress_target());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bytes}/{total_bytes} {wide_bar} {bytes_per_sec} {eta}",
    ) {
        pb.set_style(style);
    }
    Arc::new(Bar(pb))
}

/// A counting progress bar, `N LABEL` (see [`progress_target`]).
fn count_bar(label: &'static str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::with_draw_target(None, progress_target());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{pos} {msg} {per_sec}") {
        pb.set_style(style);
    }
    pb.set_message(label);
    pb
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
        Cmd::Account(AccountCmd::Get { json }) => account_get(out, json)?,
        Cmd::Account(AccountCmd::Clear) => {
            let path = account_path()?;
            if AccountInfo::clear(&path)? {
                writeln!(out, "removed {}", path.display())?;
            } else {
                writeln!(out, "no account info at {}", path.display())?;
            }
        }
        Cmd::Bucket(BucketCmd::List { json }) => bucket_get::list(&cli.creds, json, out)?,
        Cmd::Bucket(BucketCmd::Create {
            name,
            public,
            file_lock_enabled,
        }) => {
            let client = connect(&cli.creds)?;
            let b = if file_lock_enabled {
                client.create_bucket_with_file_lock(&name, public)?
            } else {
                client.create_bucket(&name, public)?
            };
            writeln!(out, "{}", b.id)?;
        }
        Cmd::Bucket(BucketCmd::Delete { name }) => {
            connect(&cli.creds)?.delete_bucket(&name)?;
        }
        Cmd::Upload(a) => file::upload(&cli.creds, a, file::Style::Short, out)?,
        Cmd::Download(a) => file::download(&cli.creds, a)?,
        Cmd::DownloadId {
            file_id,
            local,
            fsync,
            source,
        } => {
            let key = source.key()?;
            let client = connect_with(&cli.creds, fsync)?;
            download(
                &client,
                &DownloadTarget::ById(file_id),
                &local,
                None,
                &ParallelDownload::default(),
                key.as_ref(),
            )?;
        }
        Cmd::Ls(a) => ls::run_ls(&cli.creds, a, out)?,
        Cmd::Info(a) => file::info(&cli.creds, a, file::Style::Short, out)?,
        Cmd::Hide(a) => file::hide(&cli.creds, a, file::Style::Short, out)?,
        Cmd::Unhide(a) => file::unhide(&cli.creds, a, file::Style::Short, out)?,
        Cmd::Rm(a) => ls::run_rm(&cli.creds, a, out)?,
        Cmd::File(c) => file::run(&cli.creds, c, out)?,
        Cmd::Copy {
            bucket,
            source,
            dest,
        } => {
            let f = connect(&cli.creds)?.copy(&bucket, &source, &dest)?;
            writeln!(out, "{}", f.file_id)?;
        }
        Cmd::Unfinished {
            bucket,
            cancel,
            json,
        } => {
            let client = connect(&cli.creds)?;
            let files: Vec<_> = client.unfinished(&bucket, "")?.collect::<Result<_, _>>()?;
            let mut arr = output::JsonArray::new();
            for f in files {
                if json {
                    arr.item(out, &output::version_json(&f))?;
                } else if cancel {
                    client.cancel_large_file(&f.file_id)?;
                    writeln!(out, "cancelled {}  {}", f.file_id, f.file_name)?;
                } else {
                    writeln!(out, "{}  {}", f.file_id, f.file_name)?;
                }
            }
            if json {
                arr.end(out)?;
            }
        }
        Cmd::Sync(args) => sync::run(&connect(&cli.creds)?, &args, out)?,
        Cmd::Key(KeyCmd::List { json }) => {
            let mut arr = output::JsonArray::new();
            for k in connect(&cli.creds)?.list_keys()? {
                if json {
                    let caps: Vec<String> =
                        k.capabilities.iter().map(|c| output::json_str(c)).collect();
                    arr.item(
                        out,
                        &format!(
                            "{{\"applicationKeyId\":{},\"keyName\":{},\"capabilities\":[{}]}}",
                            output::json_str(&k.id),
                            output::json_str(&k.name),
                            caps.join(",")
                        ),
                    )?;
                } else {
                    writeln!(out, "{}  {}  {}", k.id, k.name, k.capabilities.join(","))?;
                }
            }
            if json {
                arr.end(out)?;
            }
        }
        Cmd::Key(KeyCmd::Settings(c)) => settings::run_key(&connect(&cli.creds)?, c, out)?,
        Cmd::Bucket(BucketCmd::Settings(c)) => settings::run_bucket(&connect(&cli.creds)?, c, out)?,
        Cmd::Settings(c) => settings::run_top(&connect(&cli.creds)?, c, out)?,
        Cmd::Key(KeyCmd::Delete { key_id }) => {
            connect(&cli.creds)?.delete_key(&key_id)?;
        }
    }
    Ok(())
}

fn download(
    client: &Client,
    target: &DownloadTarget,
    local: &std::ffi::OsStr,
    range: Option<(u64, u64)>,
    par: &ParallelDownload,
    key: Option<&b2_core::wire::encryption::CustomerKey>,
) -> Result<(), ClientError> {
    let progress = bar(None);
    let p = Some(&*progress as &dyn Progress);
    // `-` is stdout; any other argument, UTF-8 or not, is a path.
    let to_stdout = local == "-";
    let path = Path::new(local);
    let r = match (to_stdout, key) {
        (true, None) => client.download_to_writer(target, io::stdout().lock(), range, p)?,
        (true, Some(k)) => {
            client.download_to_writer_with_key(target, io::stdout().lock(), range, p, k)?
        }
        (false, None) => client.download_to_path_with(target, path, range, p, par)?,
        (false, Some(k)) => client.download_to_path_with_key(target, path, range, p, par, k)?,
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
