//! B2's rules about a name's versions, for tools that keep a destination like a source
//! (sync, backup): which listing entries are versions, which version is the visible file,
//! and which versions a deletion policy hides or deletes. Pure functions, no I/O, no
//! allocation: the caller lists (`op::List`) and carries out the answer.

use crate::wire::file::Action;

/// Whether a listing entry is a version of its name: an upload or a hide marker. An
/// unfinished large file (`start`) is not one yet, and a `folder` is not a file.
pub fn is_version(a: Action) -> bool {
    matches!(a, Action::Upload | Action::Hide)
}

/// Whether an entry has data that can be downloaded or copied (an upload).
pub fn has_data(a: Action) -> bool {
    a == Action::Upload
}

/// Whether a name whose newest version is `newest` shows as a file (its newest version is
/// an upload, not a hide marker).
pub fn visible(newest: Option<Action>) -> bool {
    newest.is_some_and(has_data)
}

/// What happens at the destination to names the source does not have, and to old versions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DeletePolicy {
    /// Nothing is deleted or hidden.
    #[default]
    None,
    /// Names missing from the source are deleted (every version), and so are the versions
    /// a transfer replaced (the official tool's `--delete`). Needs the versions listing.
    Delete,
    /// Names missing from the source are hidden (versions stay). Names listing only.
    Hide,
    /// Names missing from the source are hidden; versions are deleted once they have been
    /// superseded for longer than this many days (the official tool's `--keep-days`).
    /// Needs the versions listing.
    KeepDays(u32),
}

impl DeletePolicy {
    /// Whether the destination's old versions must be listed (`b2_list_file_versions`
    /// instead of `b2_list_file_names`).
    pub fn needs_versions(self) -> bool {
        matches!(self, DeletePolicy::Delete | DeletePolicy::KeepDays(_))
    }
}

/// One version as the policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// Upload or hide marker.
    pub action: Action,
    /// Its time: the source's modification time when recorded, else the upload time (ms).
    pub time_ms: u64,
}

/// One thing the policy asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Cleanup {
    /// Hide the name.
    Hide,
    /// Delete this version (its index in the versions, newest first).
    Delete(usize),
}

const DAY_MS: u64 = 24 * 3600 * 1000;

/// The hides and deletions `policy` asks for, given a name's `versions` (newest first),
/// whether the source has the name, and whether it is being transferred now; `each` gets
/// them in order, a hide before deletions.
pub fn cleanup(
    policy: DeletePolicy,
    versions: &[Version],
    source_has: bool,
    transferred: bool,
    now_ms: u64,
    mut each: impl FnMut(Cleanup),
) {
    let newest_visible = visible(versions.first().map(|v| v.action));
    match policy {
        DeletePolicy::None => {}
        DeletePolicy::Hide => {
            if !source_has && newest_visible {
                each(Cleanup::Hide);
            }
        }
        DeletePolicy::Delete => {
            for i in 0..versions.len() {
                let keep = i == 0 && source_has && !transferred;
                if !keep {
                    each(Cleanup::Delete(i));
                }
            }
        }
        DeletePolicy::KeepDays(days) => {
            let keep_ms = u64::from(days) * DAY_MS;
            if !source_has && newest_visible {
                each(Cleanup::Hide);
            }
            // b2sdk's `make_b2_keep_days_actions`: once a version is older than the limit,
            // every version after it (older ones) is deleted; a hide marker older than the
            // limit is deleted itself, with everything after it.
            let mut deleting = false;
            for (i, v) in versions.iter().enumerate() {
                let age = now_ms.saturating_sub(v.time_ms);
                if v.action == Action::Hide && age > keep_ms {
                    deleting = true;
                }
                if deleting {
                    each(Cleanup::Delete(i));
                }
                if age > keep_ms {
                    deleting = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        p: DeletePolicy,
        v: &[Version],
        has: bool,
        sent: bool,
        now: u64,
    ) -> heapless::Vec<Cleanup, 8> {
        let mut out = heapless::Vec::new();
        cleanup(p, v, has, sent, now, |c| {
            let _ = out.push(c);
        });
        out
    }

    fn v(action: Action, time_ms: u64) -> Version {
        Version { action, time_ms }
    }

    #[test]
    fn entries_that_are_versions_and_the_visible_file() {
        assert!(is_version(Action::Upload) && is_version(Action::Hide));
        assert!(!is_version(Action::Start) && !is_version(Action::Folder));
        assert!(visible(Some(Action::Upload)));
        assert!(!visible(Some(Action::Hide)) && !visible(None));
        assert!(has_data(Action::Upload) && !has_data(Action::Hide));
    }

    #[test]
    fn hide_delete_and_keep_days() {
        let now = 100 * DAY_MS;
        let vs = [v(Action::Upload, now), v(Action::Upload, now - 10 * DAY_MS)];
        assert_eq!(
            run(DeletePolicy::Hide, &vs, false, false, now),
            [Cleanup::Hide]
        );
        assert!(run(DeletePolicy::Hide, &vs, true, false, now).is_empty());
        let hidden = [v(Action::Hide, now), v(Action::Upload, now)];
        assert!(run(DeletePolicy::Hide, &hidden, false, false, now).is_empty());
        assert_eq!(
            run(DeletePolicy::Delete, &vs, true, false, now),
            [Cleanup::Delete(1)]
        );
        assert_eq!(
            run(DeletePolicy::Delete, &vs, true, true, now),
            [Cleanup::Delete(0), Cleanup::Delete(1)]
        );
        let aged = [
            v(Action::Upload, now),
            v(Action::Upload, now - 10 * DAY_MS),
            v(Action::Upload, now - 20 * DAY_MS),
        ];
        assert_eq!(
            run(DeletePolicy::KeepDays(5), &aged, true, false, now),
            [Cleanup::Delete(2)]
        );
        let old_hide = [
            v(Action::Hide, now - 6 * DAY_MS),
            v(Action::Upload, now - 7 * DAY_MS),
        ];
        assert_eq!(
            run(DeletePolicy::KeepDays(5), &old_hide, false, false, now),
            [Cleanup::Delete(0), Cleanup::Delete(1)]
        );
    }
}
