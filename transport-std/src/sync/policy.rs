//! What to do with one name, given what the source and the destination hold: pure
//! decisions, unit-tested without a network (the official tool's rules: b2sdk's
//! `sync/policy.py`).

use b2_core::versions::Version;

use crate::client::FileVersion;

/// How a source file and the destination's file of the same name are compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompareMode {
    /// By modification time (the default): a source newer by more than the threshold (ms)
    /// is transferred; a destination newer by more than it follows [`NewerPolicy`].
    #[default]
    ModTime,
    /// By size: transferred when the sizes differ by more than the threshold (bytes).
    Size,
    /// Not compared: only files missing at the destination are transferred.
    None,
}

/// What to do when the destination's file is newer than the source's ([`CompareMode::ModTime`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NewerPolicy {
    /// Report the file as an error and leave it (the official tool's default).
    #[default]
    Fail,
    /// Leave the destination's file and report it skipped.
    Skip,
    /// Replace it with the older source file.
    Replace,
}

/// What happens at the destination to files the source does not have, and (on B2) to old
/// versions: core's rule ([`b2_core::versions`]).
pub use b2_core::versions::DeletePolicy;

/// The size and modification time of one side's file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub size: u64,
    pub mtime_ms: u64,
}

/// The comparison's outcome for a file present on the source side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Transfer, for this reason.
    Transfer(&'static str),
    /// Equal enough: nothing to do.
    Same,
    /// Leave it, for this reason (reported as skipped).
    Skip(&'static str),
    /// Leave it and count an error (newer destination with [`NewerPolicy::Fail`]).
    Fail(String),
}

/// Compares a source file with the destination's (None: missing there).
pub(crate) fn compare(
    src: Meta,
    dst: Option<Meta>,
    mode: CompareMode,
    threshold: u64,
    newer: NewerPolicy,
) -> Verdict {
    let Some(dst) = dst else {
        return Verdict::Transfer("new");
    };
    match mode {
        CompareMode::None => Verdict::Same,
        CompareMode::Size => {
            if src.size.abs_diff(dst.size) > threshold {
                Verdict::Transfer("size differs")
            } else {
                Verdict::Same
            }
        }
        CompareMode::ModTime => {
            if src.mtime_ms > dst.mtime_ms.saturating_add(threshold) {
                Verdict::Transfer("source is newer")
            } else if dst.mtime_ms > src.mtime_ms.saturating_add(threshold) {
                match newer {
                    NewerPolicy::Skip => Verdict::Skip("destination is newer"),
                    NewerPolicy::Replace => Verdict::Transfer("destination is newer, replaced"),
                    NewerPolicy::Fail => Verdict::Fail(format!(
                        "destination is newer ({} ms > {} ms); use --skip-newer or \
                         --replace-newer",
                        dst.mtime_ms, src.mtime_ms
                    )),
                }
            } else {
                Verdict::Same
            }
        }
    }
}

/// A version's modification time as the official tool reads it: `src_last_modified_millis`
/// when present and valid, else the upload time.
pub(crate) fn version_mtime(v: &FileVersion) -> u64 {
    v.info
        .iter()
        .find(|(k, _)| k == "src_last_modified_millis")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(v.upload_timestamp)
}

/// What to do with B2 versions of one name after the comparison: core's rule.
pub(crate) use b2_core::versions::Cleanup;

/// The hides and deletions `policy` asks for on a B2 destination, given its versions of a
/// name (newest first), whether the source has the name, and whether it is being
/// transferred (core's [`b2_core::versions::cleanup`]). Hides come before deletions.
pub(crate) fn b2_cleanup(
    policy: DeletePolicy,
    versions: &[FileVersion],
    source_has: bool,
    transferred: bool,
    now_ms: u64,
) -> Vec<Cleanup> {
    let seen: Vec<Version> = versions
        .iter()
        .map(|v| Version {
            action: v.action.to_core(),
            time_ms: version_mtime(v),
        })
        .collect();
    let mut out = Vec::new();
    b2_core::versions::cleanup(policy, &seen, source_has, transferred, now_ms, |c| {
        out.push(c)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: u64 = 24 * 3600 * 1000;

    fn m(size: u64, mtime_ms: u64) -> Meta {
        Meta { size, mtime_ms }
    }

    #[test]
    fn modtime_with_threshold_and_newer_policies() {
        let c = |s, d, th, p| compare(m(1, s), Some(m(1, d)), CompareMode::ModTime, th, p);
        assert_eq!(
            c(2000, 1000, 0, NewerPolicy::Fail),
            Verdict::Transfer("source is newer")
        );
        assert_eq!(c(2000, 1000, 1000, NewerPolicy::Fail), Verdict::Same);
        assert_eq!(c(1000, 1000, 0, NewerPolicy::Fail), Verdict::Same);
        assert_eq!(
            c(1000, 2000, 0, NewerPolicy::Skip),
            Verdict::Skip("destination is newer")
        );
        assert!(matches!(
            c(1000, 2000, 0, NewerPolicy::Replace),
            Verdict::Transfer(_)
        ));
        assert!(matches!(
            c(1000, 2000, 0, NewerPolicy::Fail),
            Verdict::Fail(_)
        ));
        assert_eq!(c(1000, 1500, 500, NewerPolicy::Fail), Verdict::Same);
    }

    #[test]
    fn size_and_none_modes() {
        let s = |a, b| {
            compare(
                m(a, 1),
                Some(m(b, 9)),
                CompareMode::Size,
                0,
                NewerPolicy::Fail,
            )
        };
        assert_eq!(s(5, 5), Verdict::Same);
        assert_eq!(s(5, 6), Verdict::Transfer("size differs"));
        let n = compare(
            m(5, 9),
            Some(m(6, 1)),
            CompareMode::None,
            0,
            NewerPolicy::Fail,
        );
        assert_eq!(n, Verdict::Same);
        let missing = compare(m(5, 9), None, CompareMode::None, 0, NewerPolicy::Fail);
        assert_eq!(missing, Verdict::Transfer("new"));
    }

    fn v(action: &str, mtime: u64) -> FileVersion {
        let mut f = FileVersion::finished_unread("id", "n", 1, "x", None);
        f.action = crate::client::Action::parse(action);
        f.info = vec![("src_last_modified_millis".into(), mtime.to_string())];
        f
    }

    #[test]
    fn delete_and_hide_policies() {
        let vs = [v("upload", 3), v("upload", 2), v("upload", 1)];
        let del = |has, tr| b2_cleanup(DeletePolicy::Delete, &vs, has, tr, 10);
        assert_eq!(
            del(true, false),
            vec![Cleanup::Delete(1), Cleanup::Delete(2)]
        );
        assert_eq!(del(true, true).len(), 3);
        assert_eq!(del(false, false).len(), 3);
        assert_eq!(
            b2_cleanup(DeletePolicy::Hide, &vs, false, false, 10),
            vec![Cleanup::Hide]
        );
        assert!(b2_cleanup(DeletePolicy::Hide, &vs, true, false, 10).is_empty());
        let hidden = [v("hide", 3), v("upload", 2)];
        assert!(b2_cleanup(DeletePolicy::Hide, &hidden, false, false, 10).is_empty());
        assert!(b2_cleanup(DeletePolicy::None, &vs, false, false, 10).is_empty());
    }

    #[test]
    fn keep_days_keeps_the_version_that_was_current_within_the_window() {
        let now = 100 * DAY_MS;
        // Newest (now), one 10 days old, one 20 days old; keep 5 days: the 10-day-old one
        // was current until recently and stays, the 20-day-old one goes.
        let vs = [
            v("upload", now),
            v("upload", now - 10 * DAY_MS),
            v("upload", now - 20 * DAY_MS),
        ];
        assert_eq!(
            b2_cleanup(DeletePolicy::KeepDays(5), &vs, true, false, now),
            vec![Cleanup::Delete(2)]
        );
        assert!(b2_cleanup(DeletePolicy::KeepDays(30), &vs, true, false, now).is_empty());
        // Gone from the source: hidden, old versions aged out the same way.
        let out = b2_cleanup(DeletePolicy::KeepDays(5), &vs, false, false, now);
        assert_eq!(out, vec![Cleanup::Hide, Cleanup::Delete(2)]);
        // A hide marker older than the limit goes with everything before it.
        let hid = [v("hide", now - 6 * DAY_MS), v("upload", now - 7 * DAY_MS)];
        assert_eq!(
            b2_cleanup(DeletePolicy::KeepDays(5), &hid, false, false, now),
            vec![Cleanup::Delete(0), Cleanup::Delete(1)]
        );
    }
}
