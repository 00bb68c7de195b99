//! Names: a local path component to a piece of a B2 name and back, by the official tool's
//! rules (b2sdk's `validate_b2_file_name` and `validate_b2_file_name_as_path`).
//!
//! - A local name must be valid UTF-8 (B2 names are UTF-8; the official tool says "file name
//!   must be valid Unicode, check locale") and must not contain `\` ("file names must not
//!   contain '\'"). Such a file is reported and skipped: it is never mapped to a lossy name
//!   that another file could also map to.
//! - The whole B2 name (prefix + relative name) must pass core's file-name check.
//! - A B2 name becomes a local path only when it has no `\`, no empty, `.` or `..` segment
//!   and does not start with `/` (no path may leave the destination folder).
//! - A prefix without a trailing `/` gets one: `backups` + `a.txt` is `backups/a.txt`, as
//!   the official tool's `B2Folder` does.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The listing prefix for a folder in a bucket: empty, or ending with exactly one `/`.
pub fn folder_prefix(prefix: &str) -> String {
    let p = prefix.trim_end_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// One local path component as a piece of a B2 name, or why it cannot be one.
pub fn local_component(name: &OsStr) -> Result<&str, String> {
    let Some(s) = name.to_str() else {
        return Err("the name is not valid UTF-8, and B2 names are UTF-8".into());
    };
    if s.contains('\\') {
        return Err(
            "the name contains '\\', which B2 names must not (as the official tool \
                    refuses it)"
                .into(),
        );
    }
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("the name contains a control character, which B2 names must not".into());
    }
    Ok(s)
}

/// Checks a whole B2 name made from a relative name; the reason when it is not one.
pub fn check_b2_name(name: &str) -> Result<(), String> {
    b2_core::validate::file_name(name).map_err(|e| format!("not a valid B2 name: {e}"))
}

/// The local path under `root` for a relative B2 name, or why it cannot be one.
pub fn local_path(root: &Path, rel: &str) -> Result<PathBuf, String> {
    if rel.is_empty() {
        return Err("the name is empty below the prefix".into());
    }
    if rel.contains('\\') {
        return Err("the name contains '\\', which is not written to local files".into());
    }
    if rel.starts_with('/') {
        return Err("the name is an absolute path".into());
    }
    let mut path = root.to_path_buf();
    for seg in rel.split('/') {
        match seg {
            "" => return Err("the name has an empty segment ('//')".into()),
            "." | ".." => {
                return Err(format!("the name has a relative segment ({seg:?})"));
            }
            s => path.push(s),
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn prefixes_get_one_slash() {
        assert_eq!(folder_prefix(""), "");
        assert_eq!(folder_prefix("/"), "");
        assert_eq!(folder_prefix("backups"), "backups/");
        assert_eq!(folder_prefix("backups/"), "backups/");
        assert_eq!(folder_prefix("a/b//"), "a/b/");
    }

    #[test]
    fn local_names_that_cannot_be_b2_names_are_refused() {
        assert_eq!(local_component(OsStr::new("a b.txt")), Ok("a b.txt"));
        assert!(local_component(OsStr::from_bytes(b"caf\xe9")).is_err());
        assert!(local_component(OsStr::new("a\\b")).is_err());
        assert!(local_component(OsStr::new("a\u{7f}")).is_err());
        assert!(check_b2_name("x/a").is_ok());
        assert!(check_b2_name(&"x".repeat(1100)).is_err());
    }

    #[test]
    fn b2_names_never_leave_the_folder() {
        let root = Path::new("/r");
        assert_eq!(local_path(root, "a/b.txt"), Ok(PathBuf::from("/r/a/b.txt")));
        for bad in [
            "",
            "/etc/passwd",
            "a/../../x",
            "..",
            ".",
            "a//b",
            "a\\b",
            "./a",
        ] {
            assert!(local_path(root, bad).is_err(), "{bad}");
        }
    }
}
