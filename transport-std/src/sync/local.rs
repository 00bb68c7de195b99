//! The local side as a sorted stream: each directory is read when the walk reaches it, its
//! entries sorted by the B2 name they map to (a directory sorts as its name plus `/`, so
//! `a.txt` < `a/…` < `a0`), and walked with a stack. Memory holds the entries of the
//! directories on the current path, never the whole tree.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::names::local_component;
use super::Filters;

/// A local regular file, named relative to the sync root with `/` separators.
#[derive(Clone, Debug)]
pub(crate) struct LocalFile {
    pub rel: String,
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ms: u64,
}

/// What the walk finds next.
#[derive(Debug)]
pub(crate) enum Walked {
    /// A file to sync.
    File(LocalFile),
    /// Something left alone, with why (a symlink not followed, a name B2 cannot hold, a
    /// loop, a FIFO). `rel` is the relative name when it has one, so the destination's file
    /// of that name is left alone too.
    Skipped {
        path: PathBuf,
        rel: Option<String>,
        why: String,
    },
    /// A directory or file that could not be read; `rel` (with a trailing `/` for a
    /// directory) is left alone at the destination.
    Error {
        path: PathBuf,
        rel: String,
        why: String,
    },
}

struct Pending {
    /// Sort key: the relative name, plus `/` for a directory.
    key: String,
    path: PathBuf,
    dir: bool,
}

struct Frame {
    /// Entries still to visit, sorted descending (the next one is popped from the end).
    todo: Vec<Pending>,
    /// (device, inode) of this directory, for the loop check.
    id: (u64, u64),
}

/// The walk; an iterator of [`Walked`] in B2 name order.
pub(crate) struct LocalWalk<'f> {
    stack: Vec<Frame>,
    follow: bool,
    filters: &'f Filters,
    out: std::collections::VecDeque<Walked>,
}

fn ms(m: &fs::Metadata) -> u64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl<'f> LocalWalk<'f> {
    /// A walk of `root`; a root that does not exist is an empty tree when `missing_ok`.
    pub fn new(
        root: PathBuf,
        follow: bool,
        filters: &'f Filters,
        missing_ok: bool,
    ) -> std::io::Result<Self> {
        let mut w = LocalWalk {
            stack: Vec::new(),
            follow,
            filters,
            out: Default::default(),
        };
        let meta = match fs::metadata(&root) {
            Ok(m) => m,
            Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => return Ok(w),
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("cannot read {}: {e}", root.display()),
                ))
            }
        };
        if !meta.is_dir() {
            return Err(std::io::Error::other(format!(
                "{} is not a directory",
                root.display()
            )));
        }
        let todo = w.read_dir(&root, "").map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", root.display()))
        })?;
        w.stack.push(Frame {
            todo,
            id: (meta.dev(), meta.ino()),
        });
        Ok(w)
    }

    /// Reads one directory into sorted pending entries; what is skipped goes to `out`.
    fn read_dir(&mut self, dir: &std::path::Path, rel: &str) -> std::io::Result<Vec<Pending>> {
        let mut todo = Vec::new();
        for e in fs::read_dir(dir)? {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    self.out.push_back(Walked::Error {
                        path: dir.to_path_buf(),
                        rel: rel.to_owned(),
                        why: format!("cannot read an entry: {err}"),
                    });
                    continue;
                }
            };
            let path = e.path();
            let name = e.file_name();
            let name = match local_component(&name) {
                Ok(n) => n.to_owned(),
                Err(why) => {
                    self.out.push_back(Walked::Skipped {
                        path,
                        rel: None,
                        why,
                    });
                    continue;
                }
            };
            let key = format!("{rel}{name}");
            let ft = match e.file_type() {
                Ok(t) => t,
                Err(err) => {
                    self.out.push_back(Walked::Error {
                        path,
                        rel: key,
                        why: err.to_string(),
                    });
                    continue;
                }
            };
            let is_dir = if ft.is_symlink() {
                if !self.follow {
                    self.out.push_back(Walked::Skipped {
                        path,
                        rel: Some(key),
                        why: "symbolic link, not followed (--follow-symlinks)".into(),
                    });
                    continue;
                }
                match fs::metadata(&path) {
                    Ok(m) => m.is_dir(),
                    Err(err) => {
                        self.out.push_back(Walked::Skipped {
                            path,
                            rel: Some(key),
                            why: format!("symbolic link to nothing readable: {err}"),
                        });
                        continue;
                    }
                }
            } else {
                ft.is_dir()
            };
            if is_dir {
                if self.filters.excludes_dir(&key) {
                    continue;
                }
                todo.push(Pending {
                    key: key + "/",
                    path,
                    dir: true,
                });
            } else {
                if self.filters.excludes_name(&key) {
                    continue;
                }
                todo.push(Pending {
                    key,
                    path,
                    dir: false,
                });
            }
        }
        todo.sort_unstable_by(|a, b| b.key.cmp(&a.key));
        Ok(todo)
    }

    fn enter(&mut self, p: Pending) {
        let meta = match fs::metadata(&p.path) {
            Ok(m) => m,
            Err(e) => {
                self.out.push_back(Walked::Error {
                    path: p.path,
                    rel: p.key,
                    why: e.to_string(),
                });
                return;
            }
        };
        let id = (meta.dev(), meta.ino());
        if self.stack.iter().any(|f| f.id == id) {
            self.out.push_back(Walked::Skipped {
                path: p.path,
                rel: Some(p.key),
                why: "symbolic link loop: it leads back to a directory being walked".into(),
            });
            return;
        }
        match self.read_dir(&p.path, &p.key) {
            Ok(todo) => self.stack.push(Frame { todo, id }),
            Err(e) => self.out.push_back(Walked::Error {
                path: p.path,
                rel: p.key,
                why: format!("cannot read the directory: {e}"),
            }),
        }
    }

    fn file(&mut self, p: Pending) -> Walked {
        match fs::metadata(&p.path) {
            Ok(m) if m.is_file() => Walked::File(LocalFile {
                rel: p.key,
                path: p.path,
                size: m.len(),
                mtime_ms: ms(&m),
            }),
            Ok(_) => Walked::Skipped {
                path: p.path,
                rel: Some(p.key),
                why: "not a regular file (FIFO, socket or device)".into(),
            },
            Err(e) => Walked::Error {
                path: p.path,
                rel: p.key,
                why: e.to_string(),
            },
        }
    }
}

impl Iterator for LocalWalk<'_> {
    type Item = Walked;

    fn next(&mut self) -> Option<Walked> {
        loop {
            if let Some(w) = self.out.pop_front() {
                return Some(w);
            }
            let frame = self.stack.last_mut()?;
            let Some(p) = frame.todo.pop() else {
                self.stack.pop();
                continue;
            };
            if p.dir {
                self.enter(p);
            } else {
                return Some(self.file(p));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_walk_yields_names_in_b2_order() {
        let root = std::env::temp_dir().join(format!("b2-walk-order-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for f in ["a0", "a.txt", "a-b", "a/b", "a/a/z", "b", "A"] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, f).expect("write");
        }
        let filters = Filters::default();
        let walk = LocalWalk::new(root.clone(), false, &filters, false).expect("walk");
        let names: Vec<String> = walk
            .map(|w| match w {
                Walked::File(f) => f.rel,
                other => panic!("{other:?}"),
            })
            .collect();
        // B2 sorts by UTF-8 bytes: '-' < '.' < '/' < '0', and 'A' < 'a'; a directory's
        // files come where `name/` sorts.
        assert_eq!(names, ["A", "a-b", "a.txt", "a/a/z", "a/b", "a0", "b"]);
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let _ = fs::remove_dir_all(&root);
    }
}
