//! What a sync reports: one event per action, skip or failure (to a [`SyncObserver`] as it
//! happens), progress, and the totals of a [`SyncReport`].

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A local file uploaded.
    Upload,
    /// A B2 file downloaded.
    Download,
    /// A B2 file copied to the other bucket or folder (server side).
    Copy,
    /// A B2 version or a local file deleted.
    Delete,
    /// A B2 file hidden.
    Hide,
    /// Left alone, with why (a symlink, a name B2 cannot hold, a newer destination...).
    Skip,
    /// A file that failed, with the error.
    Error,
}

impl EventKind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            EventKind::Upload => "upload",
            EventKind::Download => "download",
            EventKind::Copy => "copy",
            EventKind::Delete => "delete",
            EventKind::Hide => "hide",
            EventKind::Skip => "skip",
            EventKind::Error => "error",
        }
    }
}

/// One line of the report: an action done (or, in a dry run, that would be), a file
/// skipped, or a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncEvent {
    /// What happened.
    pub kind: EventKind,
    /// The file: its name relative to the sync folders, or a local path.
    pub name: String,
    /// Why, or which version, or the error.
    pub detail: String,
    /// Part of a dry run (nothing was done).
    pub dry_run: bool,
}

impl fmt::Display for SyncEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            write!(f, "(dry run) ")?;
        }
        write!(f, "{} {}", self.kind.word(), self.name)?;
        if !self.detail.is_empty() {
            match self.kind {
                EventKind::Skip | EventKind::Error => write!(f, ": {}", self.detail)?,
                _ => write!(f, " ({})", self.detail)?,
            }
        }
        Ok(())
    }
}

/// How far a sync got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Names compared so far.
    pub compared: u64,
    /// Actions queued so far.
    pub queued: u64,
    /// Actions finished (done or failed).
    pub finished: u64,
    /// Bytes uploaded, downloaded or copied.
    pub bytes: u64,
}

/// Told about every event as it happens, and about progress. Called from worker threads.
pub trait SyncObserver: Send + Sync {
    /// An action line, a skipped file or a failure.
    fn event(&self, event: &SyncEvent);
    /// Progress after each finished action (default: ignored).
    fn progress(&self, _progress: &SyncProgress) {}
}

/// Prints each event: actions to stdout, skips and errors to stderr.
#[derive(Clone, Copy, Debug, Default)]
pub struct PrintObserver;

impl SyncObserver for PrintObserver {
    fn event(&self, e: &SyncEvent) {
        match e.kind {
            EventKind::Skip | EventKind::Error => eprintln!("{e}"),
            _ => println!("{e}"),
        }
    }
}

/// How many warnings and errors a [`SyncReport`] keeps (all are counted, and every one goes
/// to the observer), so a report stays small whatever the tree.
pub const REPORT_KEEPS: usize = 100;

/// What a sync did: totals, list calls, the first warnings and errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Files uploaded.
    pub uploaded: u64,
    /// Files downloaded.
    pub downloaded: u64,
    /// Files copied server side.
    pub copied: u64,
    /// B2 versions or local files deleted.
    pub deleted: u64,
    /// B2 files hidden.
    pub hidden: u64,
    /// Files left alone, with a warning.
    pub skipped: u64,
    /// Files compared and found equal.
    pub unchanged: u64,
    /// Files that failed.
    pub errors: u64,
    /// Bytes uploaded, downloaded or copied.
    pub bytes: u64,
    /// File listing calls made (`b2_list_file_names` / `b2_list_file_versions` pages; class
    /// C transactions on B2).
    pub list_calls: u64,
    /// The first [`REPORT_KEEPS`] skips, as report lines.
    pub warnings: Vec<String>,
    /// The first [`REPORT_KEEPS`] failures, as report lines.
    pub failures: Vec<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

impl SyncReport {
    /// No file failed.
    pub fn is_success(&self) -> bool {
        self.errors == 0
    }

    fn note(&mut self, e: &SyncEvent, bytes: u64) {
        match e.kind {
            EventKind::Upload => self.uploaded += 1,
            EventKind::Download => self.downloaded += 1,
            EventKind::Copy => self.copied += 1,
            EventKind::Delete => self.deleted += 1,
            EventKind::Hide => self.hidden += 1,
            EventKind::Skip => {
                self.skipped += 1;
                if self.warnings.len() < REPORT_KEEPS {
                    self.warnings.push(e.to_string());
                }
            }
            EventKind::Error => {
                self.errors += 1;
                if self.failures.len() < REPORT_KEEPS {
                    self.failures.push(e.to_string());
                }
            }
        }
        self.bytes += bytes;
    }
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{} uploaded, {} downloaded, {} copied, {} deleted, {} hidden, {} unchanged, \
             {} skipped, {} failed; {} bytes; {} list calls",
            if self.dry_run { "(dry run) " } else { "" },
            self.uploaded,
            self.downloaded,
            self.copied,
            self.deleted,
            self.hidden,
            self.unchanged,
            self.skipped,
            self.errors,
            self.bytes,
            self.list_calls
        )
    }
}

/// Shared state of one run.
pub(crate) struct Run<'r> {
    pub report: Mutex<SyncReport>,
    pub progress: Mutex<SyncProgress>,
    pub observer: Option<&'r dyn SyncObserver>,
    pub stop: AtomicBool,
    pub stop_on_error: bool,
}

impl Run<'_> {
    pub(crate) fn emit(&self, e: SyncEvent, bytes: u64) {
        if e.kind == EventKind::Error && self.stop_on_error {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .note(&e, bytes);
        if let Some(o) = self.observer {
            o.event(&e);
        }
    }

    pub(crate) fn skip(&self, name: String, why: String) {
        self.emit(
            SyncEvent {
                kind: EventKind::Skip,
                name,
                detail: why,
                dry_run: false,
            },
            0,
        );
    }

    pub(crate) fn fail(&self, name: String, why: String) {
        self.emit(
            SyncEvent {
                kind: EventKind::Error,
                name,
                detail: why,
                dry_run: false,
            },
            0,
        );
    }

    pub(crate) fn advance(&self, f: impl FnOnce(&mut SyncProgress)) {
        // Told under the lock, so the observer sees the counts in order.
        let mut p = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut p);
        if let Some(o) = self.observer {
            o.progress(&p);
        }
    }
}
