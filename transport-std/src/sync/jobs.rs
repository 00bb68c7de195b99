//! The work a sync hands to its threads: uploads, downloads, copies, hides and deletions,
//! grouped per name so that what a transfer replaces is deleted only after it arrived.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use b2_core::wire::copy::{CopyFile, MetadataDirective};

use super::report::{EventKind, Run, SyncEvent};
use super::Synchronizer;
use crate::client::{Client, ClientError, DownloadTarget, FileVersion, Result};

/// A unit of work: jobs run in order, stopping at the first failure (so old versions are
/// deleted only after their replacement arrived).
pub(crate) type Unit = Vec<Job>;

#[derive(Debug)]
pub(crate) enum Job {
    Upload {
        rel: String,
        path: PathBuf,
        name: String,
        size: u64,
        mtime_ms: u64,
        why: &'static str,
    },
    Download {
        rel: String,
        version: FileVersion,
        path: PathBuf,
        mtime_ms: u64,
        why: &'static str,
    },
    Copy {
        rel: String,
        version: FileVersion,
        name: String,
        why: &'static str,
    },
    Hide {
        rel: String,
        name: String,
    },
    DeleteVersion {
        rel: String,
        name: String,
        file_id: String,
    },
    DeleteLocal {
        rel: String,
        path: PathBuf,
    },
}

impl Job {
    /// The event this job reports when done, and the bytes it moves.
    pub(crate) fn event(&self, dry_run: bool) -> (SyncEvent, u64) {
        let (kind, name, detail, bytes) = match self {
            Job::Upload { rel, size, why, .. } => (EventKind::Upload, rel, why.to_string(), *size),
            Job::Download {
                rel, version, why, ..
            } => (EventKind::Download, rel, why.to_string(), version.size),
            Job::Copy {
                rel, version, why, ..
            } => (EventKind::Copy, rel, why.to_string(), version.size),
            Job::Hide { rel, .. } => (EventKind::Hide, rel, String::new(), 0),
            Job::DeleteVersion { rel, file_id, .. } => {
                (EventKind::Delete, rel, format!("version {file_id}"), 0)
            }
            Job::DeleteLocal { rel, .. } => (EventKind::Delete, rel, "local file".into(), 0),
        };
        (
            SyncEvent {
                kind,
                name: name.clone(),
                detail,
                dry_run,
            },
            bytes,
        )
    }

    pub(crate) fn rel(&self) -> &str {
        match self {
            Job::Upload { rel, .. }
            | Job::Download { rel, .. }
            | Job::Copy { rel, .. }
            | Job::Hide { rel, .. }
            | Job::DeleteVersion { rel, .. }
            | Job::DeleteLocal { rel, .. } => rel,
        }
    }
}

/// The destination as the jobs need it.
pub(crate) enum Dest {
    Local(PathBuf),
    B2 {
        bucket: String,
        bucket_id: String,
        prefix: String,
    },
}

impl Synchronizer<'_> {
    pub(crate) fn execute(&self, unit: Unit, dest: &Dest, run: &Run<'_>) {
        for job in unit {
            if run.stop.load(Ordering::Relaxed) {
                return;
            }
            let r = self.do_job(&job, dest);
            run.advance(|p| p.finished += 1);
            match r {
                Ok(()) => {
                    let (e, bytes) = job.event(false);
                    run.advance(|p| p.bytes += bytes);
                    run.emit(e, bytes);
                }
                Err(e) => {
                    let what = job.event(false).0.kind.word();
                    run.fail(job.rel().to_owned(), format!("{what} failed: {e}"));
                    return; // later jobs of this name (deleting what it replaced) wait
                }
            }
        }
    }

    fn do_job(&self, job: &Job, dest: &Dest) -> Result<()> {
        let c = self.client;
        match (job, dest) {
            (
                Job::Upload {
                    path,
                    name,
                    mtime_ms,
                    ..
                },
                Dest::B2 { bucket, .. },
            ) => {
                let mut opts = self.opts.upload.clone();
                opts.src_last_modified_millis = Some(*mtime_ms);
                c.upload_path(bucket, path, name, &opts)?;
            }
            (
                Job::Download {
                    version,
                    path,
                    mtime_ms,
                    ..
                },
                _,
            ) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!("cannot create {}: {e}", parent.display()),
                        )
                    })?;
                }
                let target = DownloadTarget::ById(version.file_id.clone());
                let r = c.download_to_path_with(&target, path, None, None, &self.opts.download)?;
                if r.src_last_modified_millis.is_none() {
                    set_mtime(path, *mtime_ms)?;
                }
            }
            (Job::Copy { version, name, .. }, Dest::B2 { bucket_id, .. }) => {
                copy_version(c, version, name, bucket_id)?;
            }
            (Job::Hide { name, .. }, Dest::B2 { bucket, .. }) => {
                c.hide(bucket, name)?;
            }
            (Job::DeleteVersion { name, file_id, .. }, _) => c.delete_version(name, file_id)?,
            (Job::DeleteLocal { path, .. }, _) => std::fs::remove_file(path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot delete {}: {e}", path.display()))
            })?,
            _ => {
                return Err(ClientError::Config(
                    "internal: a job for the other kind of destination".into(),
                ))
            }
        }
        Ok(())
    }
}

/// Gives a downloaded regular file the modification time its B2 version stands for (the
/// upload time, when the version has no `src_last_modified_millis`).
fn set_mtime(path: &Path, ms: u64) -> Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))?;
    }
    Ok(())
}

/// Copies a version server side to `name` in the bucket `bucket_id`. A version without
/// `src_last_modified_millis` gets its upload time as one (metadata replaced, content type
/// and info kept), so the copy does not look newer than its source at the next sync.
fn copy_version(c: &Client, v: &FileVersion, name: &str, bucket_id: &str) -> Result<()> {
    let has_mtime = v.info.iter().any(|(k, _)| k == "src_last_modified_millis");
    let mut copy = CopyFile::new(&v.file_id, name);
    copy.destination_bucket_id = Some(bucket_id);
    let stamp = v.upload_timestamp.to_string();
    let mut info: Vec<(&str, &str)> = v
        .info
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if !has_mtime && info.len() < 10 {
        info.push(("src_last_modified_millis", stamp.as_str()));
        copy.metadata_directive = MetadataDirective::Replace;
        copy.content_type = Some(v.content_type.as_deref().unwrap_or("b2/x-auto"));
        copy.file_info = Some(&info);
    }
    c.call(copy, |_| Ok(()))
}
