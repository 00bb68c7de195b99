//! A synchronizer, in the spirit of b2sdk's `Synchronizer`: local folder → B2, B2 → local
//! folder, and B2 → B2 (server-side copies), with the official tool's compare modes,
//! newer-file and deletion policies, filters and name rules.
//!
//! Both sides are walked as streams sorted by B2 name and merged, so memory holds a
//! directory's entries on the current path and one page of a listing, never the tree: a
//! local directory is read when the walk reaches it and its entries sorted by the B2 name
//! they map to; a B2 folder is one pass of `b2_list_file_names` (1,000 names a page, one
//! class C transaction each), or of `b2_list_file_versions` when the deletion policy needs
//! old versions ([`DeletePolicy::needs_versions`]). The list calls made are counted in the
//! [`SyncReport`].
//!
//! Work runs on N threads fed through a bounded queue. A failure names its file and does
//! not stop the run unless [`SyncOptions::stop_on_error`] is set. Downloads give files
//! their modification time back (`src_last_modified_millis`, else the upload time), so a
//! sync in the other direction right after a restore transfers nothing.
//!
//! ```no_run
//! use std::sync::Arc;
//! use b2_transport_std::client::Client;
//! use b2_transport_std::sync::{DeletePolicy, Endpoint, PrintObserver, SyncOptions, Synchronizer};
//!
//! let client = Client::from_env()?;
//! let opts = SyncOptions { delete: DeletePolicy::Hide, threads: 8, ..SyncOptions::default() };
//! let report = Synchronizer::new(&client, opts)
//!     .observer(Arc::new(PrintObserver))
//!     .run(&Endpoint::parse("photos")?, &Endpoint::parse("b2://my-bucket/photos")?)?;
//! println!("{report}");
//! # Ok::<(), b2_transport_std::client::ClientError>(())
//! ```

mod jobs;
mod local;
pub mod names;
mod policy;
mod remote;
mod report;

pub use policy::{CompareMode, DeletePolicy, NewerPolicy};
pub use report::{
    EventKind, PrintObserver, SyncEvent, SyncObserver, SyncProgress, SyncReport, REPORT_KEEPS,
};

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use regex::Regex;

use crate::client::{Client, ClientError, FileVersion, ParallelDownload, Result, UploadOptions};
use jobs::{Dest, Job, Unit};
use local::{LocalWalk, Walked};
use policy::{b2_cleanup, compare, version_mtime, Cleanup, Meta, Verdict};
use remote::RemoteWalk;
use report::Run;

/// One side of a sync: a local folder or a folder (prefix) in a bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A local directory.
    Local(PathBuf),
    /// `b2://bucket/prefix`: the names below `prefix` (a `/` is added when missing).
    B2 {
        /// Bucket name.
        bucket: String,
        /// Folder in the bucket (may be empty).
        prefix: String,
    },
}

impl Endpoint {
    /// `b2://bucket[/prefix]` is a B2 folder; anything else a local path.
    pub fn parse(s: &str) -> Result<Endpoint> {
        let Some(rest) = s.strip_prefix("b2://") else {
            return Ok(Endpoint::Local(PathBuf::from(s)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        b2_core::validate::bucket_name(bucket)
            .map_err(|e| ClientError::Config(format!("bad bucket in {s:?}: {e}")))?;
        b2_core::validate::name_prefix(prefix)?;
        Ok(Endpoint::B2 {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Local(p) => write!(f, "{}", p.display()),
            Endpoint::B2 { bucket, prefix } => write!(f, "b2://{bucket}/{prefix}"),
        }
    }
}

/// Which files take part: regexes matched from the start of the name relative to the
/// sync folder (as the official tool's `re.match`), and modification-time limits.
/// Names a filter leaves out are left alone on both sides (never deleted).
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// Files whose relative name matches one of these are left out...
    pub exclude: Vec<Regex>,
    /// ...unless it also matches one of these.
    pub include: Vec<Regex>,
    /// Directories (relative name, no trailing `/`) left out with everything below.
    pub exclude_dirs: Vec<Regex>,
    /// Source files modified after this time (ms since the epoch) are left alone.
    pub exclude_modified_after: Option<u64>,
    /// Source files modified before this time (ms since the epoch) are left alone.
    pub exclude_modified_before: Option<u64>,
}

fn matches_from_start(set: &[Regex], s: &str) -> bool {
    // The leftmost match starts at 0 whenever any match does.
    set.iter()
        .any(|r| r.find(s).is_some_and(|m| m.start() == 0))
}

impl Filters {
    /// Compiles a regex for these filters, with the pattern named in the error.
    pub fn regex(pattern: &str) -> Result<Regex> {
        Regex::new(pattern).map_err(|e| ClientError::Config(format!("bad regex {pattern:?}: {e}")))
    }

    pub(crate) fn excludes_name(&self, rel: &str) -> bool {
        matches_from_start(&self.exclude, rel) && !matches_from_start(&self.include, rel)
    }

    pub(crate) fn excludes_dir(&self, rel_dir: &str) -> bool {
        matches_from_start(&self.exclude_dirs, rel_dir)
    }

    /// A B2 name: its directories and the name itself.
    fn excludes_remote(&self, rel: &str) -> bool {
        if !self.exclude_dirs.is_empty() {
            let mut at = 0;
            while let Some(i) = rel[at..].find('/') {
                if self.excludes_dir(&rel[..at + i]) {
                    return true;
                }
                at += i + 1;
            }
        }
        self.excludes_name(rel)
    }

    fn excludes_mtime(&self, ms: u64) -> bool {
        self.exclude_modified_after.is_some_and(|t| ms > t)
            || self.exclude_modified_before.is_some_and(|t| ms < t)
    }
}

/// How to sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// How files are compared (default: modification time).
    pub compare: CompareMode,
    /// Differences up to this are equal: milliseconds ([`CompareMode::ModTime`]) or bytes
    /// ([`CompareMode::Size`]). Default 0.
    pub compare_threshold: u64,
    /// When the destination is newer (default: fail that file).
    pub newer: NewerPolicy,
    /// What happens to files the source lacks and to old versions (default: nothing).
    pub delete: DeletePolicy,
    /// Which files take part.
    pub filters: Filters,
    /// Report what would be done, do nothing.
    pub dry_run: bool,
    /// Follow symbolic links (default: no; they are reported as skipped). When following,
    /// a link back to a directory on the current path is reported and not entered.
    pub follow_symlinks: bool,
    /// Files transferred at once (1 to 64; default 8).
    pub threads: usize,
    /// Stop at the first failed file (default: report it and go on).
    pub stop_on_error: bool,
    /// Sync from an empty local folder (default: refused, as the official tool does, since
    /// with a deletion policy it would empty the destination).
    pub allow_empty_source: bool,
    /// Options of each upload (the modification time is set from the walk).
    pub upload: UploadOptions,
    /// How each download is split into ranges.
    pub download: ParallelDownload,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            compare: CompareMode::ModTime,
            compare_threshold: 0,
            newer: NewerPolicy::Fail,
            delete: DeletePolicy::None,
            filters: Filters::default(),
            dry_run: false,
            follow_symlinks: false,
            threads: 8,
            stop_on_error: false,
            allow_empty_source: false,
            upload: UploadOptions {
                threads: 2,
                ..UploadOptions::default()
            },
            download: ParallelDownload::default(),
        }
    }
}

/// Runs syncs with one client and one set of options.
pub struct Synchronizer<'c> {
    client: &'c Client,
    opts: SyncOptions,
    observer: Option<Arc<dyn SyncObserver>>,
}

impl fmt::Debug for Synchronizer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Synchronizer")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

/// One side's next name, normalized for the merge.
struct Item {
    rel: String,
    /// The visible file's size and time (None: only hidden versions).
    meta: Option<Meta>,
    at: At,
}

enum At {
    Local(PathBuf),
    B2(Vec<FileVersion>),
}

/// One side of the merge.
enum Side<'a> {
    Local(LocalWalk<'a>),
    /// Boxed: its cursor keeps up to 1,024 bytes of the next name.
    B2(Box<RemoteWalk<'a>>),
}

/// What the merge sees next from a side.
enum Step {
    Item(Item),
    Skipped {
        name: String,
        rel: Option<String>,
        why: String,
    },
    Failed {
        name: String,
        rel: String,
        why: String,
    },
}

impl Side<'_> {
    fn step(&mut self, filters: &Filters) -> Result<Option<Step>> {
        match self {
            Side::Local(w) => Ok(w.next().map(|w| match w {
                Walked::File(f) => Step::Item(Item {
                    rel: f.rel,
                    meta: Some(Meta {
                        size: f.size,
                        mtime_ms: f.mtime_ms,
                    }),
                    at: At::Local(f.path),
                }),
                Walked::Skipped { path, rel, why } => Step::Skipped {
                    name: path.display().to_string(),
                    rel,
                    why,
                },
                Walked::Error { path, rel, why } => Step::Failed {
                    name: path.display().to_string(),
                    rel,
                    why,
                },
            })),
            Side::B2(w) => loop {
                let Some(f) = w.next().transpose()? else {
                    return Ok(None);
                };
                if filters.excludes_remote(&f.rel) {
                    continue;
                }
                let meta = f.visible().map(|v| Meta {
                    size: v.size,
                    mtime_ms: version_mtime(v),
                });
                return Ok(Some(Step::Item(Item {
                    rel: f.rel,
                    meta,
                    at: At::B2(f.versions),
                })));
            },
        }
    }
}

impl<'c> Synchronizer<'c> {
    /// A synchronizer on `client` with `opts`.
    pub fn new(client: &'c Client, opts: SyncOptions) -> Self {
        Synchronizer {
            client,
            opts,
            observer: None,
        }
    }

    /// Tells `observer` about every event and progress.
    pub fn observer(mut self, observer: Arc<dyn SyncObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Makes `dest` match `source` as the options say. Errors of single files are in the
    /// report (and told to the observer); the `Err` cases are the ones that stop the run:
    /// bad options, a source that cannot be read, a listing that failed after retries.
    pub fn run(&self, source: &Endpoint, dest: &Endpoint) -> Result<SyncReport> {
        let o = &self.opts;
        if !(1..=64).contains(&o.threads) {
            return Err(ClientError::Config(format!(
                "threads must be 1 to 64, not {}",
                o.threads
            )));
        }
        if let Endpoint::Local(_) = dest {
            if matches!(o.delete, DeletePolicy::Hide | DeletePolicy::KeepDays(_)) {
                return Err(ClientError::Config(
                    "hiding and keeping old versions need a B2 destination (use delete for a \
                     local one)"
                        .into(),
                ));
            }
        }
        if let Endpoint::Local(p) = source {
            let empty = std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_none());
            if empty && !o.allow_empty_source {
                return Err(ClientError::Config(format!(
                    "the source folder {} is empty (a sync from it with a deletion policy would \
                     empty the destination); allow it with allow_empty_source \
                     (b2ctl --allow-empty-source)",
                    p.display()
                )));
            }
        }
        let list_calls = AtomicU64::new(0);
        let (mut src, dst_side, dest_info) = match (source, dest) {
            (Endpoint::Local(_), Endpoint::Local(_)) => {
                return Err(ClientError::Config(
                    "one side of a sync must be b2://bucket/prefix".into(),
                ))
            }
            _ => {
                let src = self.side(source, false, false, &list_calls)?;
                let dst = self.side(dest, true, o.delete.needs_versions(), &list_calls)?;
                let info = match dest {
                    Endpoint::Local(p) => Dest::Local(p.clone()),
                    Endpoint::B2 { bucket, prefix } => Dest::B2 {
                        bucket: bucket.clone(),
                        bucket_id: self.client.bucket(bucket)?.id,
                        prefix: names::folder_prefix(prefix),
                    },
                };
                (src, dst, info)
            }
        };
        let mut dst = dst_side;
        let run = Run {
            report: Mutex::new(SyncReport {
                dry_run: o.dry_run,
                ..SyncReport::default()
            }),
            progress: Mutex::new(SyncProgress::default()),
            observer: self.observer.as_deref(),
            stop: AtomicBool::new(false),
            stop_on_error: o.stop_on_error,
        };
        let (tx, rx) = mpsc::sync_channel::<Unit>(o.threads * 2);
        let rx = Mutex::new(rx);
        let merged = std::thread::scope(|scope| {
            for _ in 0..o.threads {
                let (rx, run, dest_info) = (&rx, &run, &dest_info);
                scope.spawn(move || loop {
                    let unit = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(u) => u,
                        Err(_) => break,
                    };
                    if run.stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let name = unit.first().map(|j| j.rel().to_owned()).unwrap_or_default();
                    // A panic (in an observer, say) fails its file, never the queue: the
                    // merge would wait forever on workers that are gone.
                    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.execute(unit, dest_info, run)
                    }));
                    if done.is_err() {
                        run.fail(name, "panicked while syncing this file".into());
                    }
                });
            }
            let r = self.merge(&mut src, &mut dst, &dest_info, &run, &tx);
            if r.is_err() {
                run.stop.store(true, Ordering::Relaxed);
            }
            drop(tx);
            r
        });
        let mut report = run.report.into_inner().unwrap_or_else(|p| p.into_inner());
        report.list_calls = list_calls.load(Ordering::Relaxed);
        merged?;
        Ok(report)
    }

    fn side<'s>(
        &'s self,
        e: &Endpoint,
        is_dest: bool,
        versions: bool,
        calls: &'s AtomicU64,
    ) -> Result<Side<'s>> {
        Ok(match e {
            Endpoint::Local(p) => Side::Local(LocalWalk::new(
                p.clone(),
                self.opts.follow_symlinks,
                &self.opts.filters,
                is_dest,
            )?),
            Endpoint::B2 { bucket, prefix } => {
                let b = self.client.bucket(bucket)?;
                let prefix = names::folder_prefix(prefix);
                let walk = RemoteWalk::new(self.client, &b.id, &prefix, versions, calls);
                Side::B2(Box::new(walk))
            }
        })
    }

    /// The next item of a side, reporting skips and failures on the way (and remembering
    /// their names, so that they are left alone on the other side too), and refusing a
    /// name out of order (never merged with another).
    fn next_item(
        &self,
        side: &mut Side<'_>,
        last: &mut Option<String>,
        protected: &mut BTreeSet<String>,
        run: &Run<'_>,
    ) -> Result<Option<Item>> {
        loop {
            let Some(step) = side.step(&self.opts.filters)? else {
                return Ok(None);
            };
            match step {
                Step::Item(item) => {
                    if last.as_ref().is_some_and(|l| *l >= item.rel) {
                        run.fail(
                            item.rel.clone(),
                            "listed out of order (after a name that sorts later); left alone"
                                .into(),
                        );
                        continue;
                    }
                    *last = Some(item.rel.clone());
                    return Ok(Some(item));
                }
                Step::Skipped { name, rel, why } => {
                    if let Some(rel) = rel {
                        // A link not followed may stand for a directory: what the
                        // destination has below its name is left alone too.
                        protected.insert(format!("{rel}/"));
                        protected.insert(rel);
                    }
                    run.skip(name, why);
                }
                Step::Failed { name, rel, why } => {
                    protected.insert(rel);
                    run.fail(name, why);
                }
            }
        }
    }

    fn merge(
        &self,
        src: &mut Side<'_>,
        dst: &mut Side<'_>,
        dest: &Dest,
        run: &Run<'_>,
        tx: &mpsc::SyncSender<Unit>,
    ) -> Result<()> {
        let mut protected = BTreeSet::new();
        let (mut src_last, mut dst_last) = (None, None);
        let mut s = self.next_item(src, &mut src_last, &mut protected, run)?;
        let mut d = self.next_item(dst, &mut dst_last, &mut protected, run)?;
        let now = crate::client::now_ms();
        loop {
            if run.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let (a, b) = match (s.take(), d.take()) {
                (None, None) => return Ok(()),
                (Some(a), Some(b)) if a.rel == b.rel => (Some(a), Some(b)),
                (Some(a), b) if b.as_ref().is_none_or(|b| a.rel < b.rel) => {
                    d = b;
                    (Some(a), None)
                }
                (a, b) => {
                    s = a;
                    (None, b)
                }
            };
            let took_src = a.is_some();
            let took_dst = b.is_some();
            let unit = self.plan(a, b, dest, &protected, run, now);
            run.advance(|p| p.compared += 1);
            if !unit.is_empty() {
                if self.opts.dry_run {
                    for j in &unit {
                        let (e, bytes) = j.event(true);
                        run.emit(e, bytes);
                    }
                } else {
                    run.advance(|p| p.queued += unit.len() as u64);
                    if tx.send(unit).is_err() {
                        return Ok(());
                    }
                }
            }
            if took_src {
                s = self.next_item(src, &mut src_last, &mut protected, run)?;
            }
            if took_dst {
                d = self.next_item(dst, &mut dst_last, &mut protected, run)?;
            }
        }
    }

    fn is_protected(protected: &BTreeSet<String>, rel: &str) -> bool {
        if protected.contains(rel) {
            return true;
        }
        // A directory that could not be read (or was not followed) protects what is below.
        let mut at = 0;
        while let Some(i) = rel[at..].find('/') {
            if protected.contains(&rel[..=at + i]) {
                return true;
            }
            at += i + 1;
        }
        false
    }

    /// What to do with one name.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        src: Option<Item>,
        dst: Option<Item>,
        dest: &Dest,
        protected: &BTreeSet<String>,
        run: &Run<'_>,
        now: u64,
    ) -> Unit {
        let o = &self.opts;
        let mut unit = Unit::new();
        let Some(rel) = src.as_ref().or(dst.as_ref()).map(|i| i.rel.clone()) else {
            return unit;
        };
        if Self::is_protected(protected, &rel) {
            run.skip(
                rel,
                "left alone: its counterpart was skipped or could not be read".into(),
            );
            return unit;
        }
        let src_meta = src.as_ref().and_then(|i| i.meta);
        if let Some(m) = src_meta {
            if o.filters.excludes_mtime(m.mtime_ms) {
                return unit;
            }
        }
        let dst_meta = dst.as_ref().and_then(|i| i.meta);
        let mut transferred = false;
        if let (Some(src), Some(m)) = (&src, src_meta) {
            match compare(m, dst_meta, o.compare, o.compare_threshold, o.newer) {
                Verdict::Same => {
                    run.report
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .unchanged += 1
                }
                Verdict::Skip(why) => run.skip(rel.clone(), why.into()),
                Verdict::Fail(why) => run.fail(rel.clone(), why),
                Verdict::Transfer(why) => match self.transfer(src, m, why, dest) {
                    Ok(job) => {
                        unit.push(job);
                        transferred = true;
                    }
                    Err(e) => run.skip(rel.clone(), e),
                },
            }
        }
        let source_has = src_meta.is_some();
        match (dest, dst) {
            (
                Dest::B2 { prefix, .. },
                Some(Item {
                    at: At::B2(versions),
                    ..
                }),
            ) => {
                for c in b2_cleanup(o.delete, &versions, source_has, transferred, now) {
                    let name = format!("{prefix}{rel}");
                    match c {
                        Cleanup::Hide => unit.push(Job::Hide {
                            rel: rel.clone(),
                            name,
                        }),
                        Cleanup::Delete(i) => {
                            if let Some(v) = versions.get(i) {
                                unit.push(Job::DeleteVersion {
                                    rel: rel.clone(),
                                    name: v.file_name.clone(),
                                    file_id: v.file_id.clone(),
                                });
                            }
                        }
                    }
                }
            }
            (
                Dest::Local(_),
                Some(Item {
                    at: At::Local(path),
                    meta: Some(_),
                    ..
                }),
            ) if !source_has && o.delete == DeletePolicy::Delete => {
                unit.push(Job::DeleteLocal { rel, path });
            }
            _ => {}
        }
        unit
    }

    /// The job that brings a source file to the destination, or why it cannot.
    fn transfer(
        &self,
        src: &Item,
        m: Meta,
        why: &'static str,
        dest: &Dest,
    ) -> std::result::Result<Job, String> {
        let rel = src.rel.clone();
        match (&src.at, dest) {
            (At::Local(path), Dest::B2 { prefix, .. }) => {
                let name = format!("{prefix}{rel}");
                names::check_b2_name(&name)?;
                Ok(Job::Upload {
                    rel,
                    path: path.clone(),
                    name,
                    size: m.size,
                    mtime_ms: m.mtime_ms,
                    why,
                })
            }
            (At::B2(versions), Dest::Local(root)) => {
                let path = names::local_path(root, &rel)?;
                let version = versions.first().cloned().ok_or("no version")?;
                Ok(Job::Download {
                    rel,
                    version,
                    path,
                    mtime_ms: m.mtime_ms,
                    why,
                })
            }
            (At::B2(versions), Dest::B2 { prefix, .. }) => {
                let name = format!("{prefix}{rel}");
                names::check_b2_name(&name)?;
                let version = versions.first().cloned().ok_or("no version")?;
                Ok(Job::Copy {
                    rel,
                    version,
                    name,
                    why,
                })
            }
            (At::Local(_), Dest::Local(_)) => {
                Err("local to local is not a sync this tool does".into())
            }
        }
    }
}
