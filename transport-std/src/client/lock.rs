//! One upload of a name at a time on this machine: while a large upload runs it holds an
//! advisory lock named after its bucket and file name. Another upload of the same name that
//! finds the lock held does not resume (it would adopt a file a live upload is writing)
//! and starts a large file of its own; one that gets the lock may resume an unfinished
//! file, whose writer has then ended (crashed, killed or failed).
//!
//! Locks live in a directory only the user can enter (`$XDG_RUNTIME_DIR/b2-rust/locks`,
//! else `~/.cache/b2-rust/locks`, created with mode 0700); a directory that is a link, or
//! that others can write, is not used, and then no upload resumes.

use std::fs;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

/// A held upload lock; released on drop (also when the process dies).
#[derive(Debug)]
pub(crate) struct UploadLock {
    _file: fs::File,
}

impl UploadLock {
    /// Takes the lock for `name` in bucket `bucket_id`, or `None` when another upload holds
    /// it (or no private lock directory is available).
    pub(crate) fn try_acquire(dir: Option<&Path>, bucket_id: &str, name: &str) -> Option<Self> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => default_dir()?,
        };
        private_dir(&dir)?;
        let mut h = Sha1::new();
        h.update(bucket_id.as_bytes());
        h.update([0]);
        h.update(name.as_bytes());
        let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!("{key}.lock"));
        if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return None;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .ok()?;
        file.try_lock().ok()?;
        Some(UploadLock { _file: file })
    }
}

/// The default lock directory (module docs).
pub(crate) fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("b2-rust").join("locks"))
}

/// Creates `dir` (mode 0700) if needed; `None` unless it is a real directory only this user
/// may write.
pub(crate) fn private_dir(dir: &Path) -> Option<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        if fs::symlink_metadata(dir).is_err() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .ok()?;
        }
        let m = fs::symlink_metadata(dir).ok()?;
        if !m.is_dir() || m.permissions().mode() & 0o022 != 0 {
            return None;
        }
        // Owned by whoever owns our own files: compare with a file we just made.
        let probe = dir.join(".owner");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&probe)
            .ok()?;
        (f.metadata().ok()?.uid() == m.uid()).then_some(())
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_drops() {
        let dir = std::env::temp_dir().join(format!("b2-lock-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let a = UploadLock::try_acquire(Some(&dir), "b1", "x/y.bin").expect("first");
        assert!(UploadLock::try_acquire(Some(&dir), "b1", "x/y.bin").is_none());
        assert!(UploadLock::try_acquire(Some(&dir), "b1", "other").is_some());
        drop(a);
        assert!(UploadLock::try_acquire(Some(&dir), "b1", "x/y.bin").is_some());
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("b2-lock-open-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(UploadLock::try_acquire(Some(&dir), "b1", "n").is_none());
        let _ = fs::remove_dir_all(&dir);
    }
}
