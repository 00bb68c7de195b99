//! `b2ctl sync SOURCE DEST`: the library's [`Synchronizer`], with the official tool's flag
//! names. Each side is a local folder or `b2://bucket/prefix`.

use std::io::Write;
use std::sync::{mpsc, Arc};

use b2_transport_std::client::{Client, ClientError};
use b2_transport_std::sync::{
    CompareMode, DeletePolicy, Endpoint, EventKind, Filters, NewerPolicy, SyncEvent, SyncObserver,
    SyncOptions, Synchronizer,
};
use clap::{Args, ValueEnum};

/// `--compare-versions`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Compare {
    /// Only files missing at the destination are transferred.
    None,
    /// By modification time (the default).
    #[value(name = "modTime")]
    ModTime,
    /// By size.
    Size,
}

/// Flags of `b2ctl sync`.
#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Source: a local folder or b2://bucket/prefix.
    pub source: String,
    /// Destination: a local folder or b2://bucket/prefix.
    pub dest: String,
    /// Files transferred at once (1 to 64).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,
    /// How files are compared.
    #[arg(long, value_enum, default_value = "modTime")]
    pub compare_versions: Compare,
    /// Differences up to this are equal: milliseconds for modTime, bytes for size.
    #[arg(long, default_value_t = 0)]
    pub compare_threshold: u64,
    /// Replace destination files that are newer than the source's.
    #[arg(long, conflicts_with = "skip_newer")]
    pub replace_newer: bool,
    /// Leave destination files that are newer than the source's (default: report each as
    /// an error).
    #[arg(long)]
    pub skip_newer: bool,
    /// Delete destination files the source lacks (on B2: all their versions, and the
    /// versions a transfer replaced).
    #[arg(long, conflicts_with = "keep_days")]
    pub delete: bool,
    /// Hide destination files the source lacks and delete versions superseded more than N
    /// days ago (B2 destination).
    #[arg(long, value_name = "N")]
    pub keep_days: Option<u32>,
    /// Hide (on B2) destination files the source lacks; versions are kept.
    #[arg(long, conflicts_with_all = ["delete", "keep_days"])]
    pub hide: bool,
    /// Leave out files whose relative name matches (from its start); repeatable.
    #[arg(long, value_name = "REGEX")]
    pub exclude_regex: Vec<String>,
    /// Take back files an --exclude-regex left out; repeatable.
    #[arg(long, value_name = "REGEX")]
    pub include_regex: Vec<String>,
    /// Leave out directories whose relative name matches; repeatable.
    #[arg(long, value_name = "REGEX")]
    pub exclude_dir_regex: Vec<String>,
    /// Leave alone source files modified after this time (seconds since the epoch).
    #[arg(long, value_name = "TIMESTAMP")]
    pub exclude_if_modified_after: Option<f64>,
    /// Leave alone source files modified before this time (seconds since the epoch).
    #[arg(long, value_name = "TIMESTAMP")]
    pub exclude_if_modified_before: Option<f64>,
    /// Print what would be done; do nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Follow symbolic links (loops are detected and skipped); by default they are
    /// reported and skipped.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Stop at the first file that fails (default: report it and go on; the exit status
    /// is non-zero either way).
    #[arg(long)]
    pub stop_on_error: bool,
    /// Sync from an empty local folder (refused by default: with --delete it would empty
    /// the destination).
    #[arg(long)]
    pub allow_empty_source: bool,
}

fn millis(secs: f64, flag: &str) -> Result<u64, ClientError> {
    if !secs.is_finite() || !(0.0..=1e13).contains(&secs) {
        return Err(ClientError::Config(format!(
            "{flag}: {secs} is not a time in seconds since the epoch"
        )));
    }
    Ok((secs * 1000.0) as u64)
}

impl SyncArgs {
    /// The library's options for these flags.
    pub fn options(&self) -> Result<SyncOptions, ClientError> {
        let regexes = |v: &[String]| {
            v.iter()
                .map(|r| Filters::regex(r))
                .collect::<Result<Vec<_>, _>>()
        };
        let filters = Filters {
            exclude: regexes(&self.exclude_regex)?,
            include: regexes(&self.include_regex)?,
            exclude_dirs: regexes(&self.exclude_dir_regex)?,
            exclude_modified_after: self
                .exclude_if_modified_after
                .map(|s| millis(s, "--exclude-if-modified-after"))
                .transpose()?,
            exclude_modified_before: self
                .exclude_if_modified_before
                .map(|s| millis(s, "--exclude-if-modified-before"))
                .transpose()?,
        };
        let mut opts = SyncOptions {
            compare: match self.compare_versions {
                Compare::None => CompareMode::None,
                Compare::ModTime => CompareMode::ModTime,
                Compare::Size => CompareMode::Size,
            },
            compare_threshold: self.compare_threshold,
            newer: if self.replace_newer {
                NewerPolicy::Replace
            } else if self.skip_newer {
                NewerPolicy::Skip
            } else {
                NewerPolicy::Fail
            },
            delete: match (self.delete, self.keep_days, self.hide) {
                (true, _, _) => DeletePolicy::Delete,
                (_, Some(n), _) => DeletePolicy::KeepDays(n),
                (_, _, true) => DeletePolicy::Hide,
                _ => DeletePolicy::None,
            },
            filters,
            dry_run: self.dry_run,
            follow_symlinks: self.follow_symlinks,
            threads: usize::from(self.threads),
            stop_on_error: self.stop_on_error,
            allow_empty_source: self.allow_empty_source,
            ..SyncOptions::default()
        };
        opts.upload.threads = 2;
        Ok(opts)
    }
}

/// Prints skips and errors to stderr at once; hands action lines to the thread that owns
/// stdout (`run`'s caller holds its lock).
struct Lines(mpsc::SyncSender<String>);

impl SyncObserver for Lines {
    fn event(&self, e: &SyncEvent) {
        match e.kind {
            EventKind::Skip | EventKind::Error => eprintln!("{e}"),
            _ => {
                let _ = self.0.send(e.to_string());
            }
        }
    }
}

/// Runs the sync: one line per action on `out`, skips and errors on stderr, totals last.
/// An error when any file failed (non-zero exit).
pub fn run(client: &Client, args: &SyncArgs, out: &mut dyn Write) -> Result<(), ClientError> {
    let opts = args.options()?;
    let source = Endpoint::parse(&args.source)?;
    let dest = Endpoint::parse(&args.dest)?;
    let (tx, rx) = mpsc::sync_channel::<String>(1024);
    let report = std::thread::scope(|s| {
        let sync = s.spawn(move || {
            Synchronizer::new(client, opts)
                .observer(Arc::new(Lines(tx)))
                .run(&source, &dest)
        });
        let mut written = Ok(());
        for line in rx {
            if written.is_ok() {
                written = writeln!(out, "{line}");
            }
        }
        let report = sync
            .join()
            .map_err(|_| ClientError::Config("the sync thread panicked".into()))?;
        written?;
        report
    })?;
    writeln!(out, "{report}")?;
    if report.is_success() {
        Ok(())
    } else {
        Err(ClientError::Config(format!(
            "{} file(s) failed (see the error lines above)",
            report.errors
        )))
    }
}
