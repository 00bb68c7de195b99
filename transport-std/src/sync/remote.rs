//! A B2 folder as a sorted stream: one pass of `b2_list_file_names` (or of
//! `b2_list_file_versions` when a policy needs old versions), pages of 1,000 (one class C
//! transaction each, B2's billing unit), fetched as the merge reaches them, versions of one
//! name grouped. Every page is counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use b2_core::op::{Cursor, List, Listing};

use crate::client::{Client, FileVersion, Result};

/// Buffer for one page (1,000 names of up to ~700 bytes of JSON each fit; core asks for a
/// smaller page when one does not).
const PAGE_BUF: usize = 1 << 20;

/// One name in the folder: its versions, newest first (one with the names listing).
#[derive(Clone, Debug)]
pub(crate) struct RemoteFile {
    /// The name below the folder's prefix.
    pub rel: String,
    /// Versions (uploads and hide markers), newest first.
    pub versions: Vec<FileVersion>,
}

impl RemoteFile {
    /// The visible file: the newest version, when it is an upload.
    pub fn visible(&self) -> Option<&FileVersion> {
        self.versions
            .first()
            .filter(|v| b2_core::versions::visible(Some(v.action.to_core())))
    }
}

/// The stream.
pub(crate) struct RemoteWalk<'c> {
    client: &'c Client,
    bucket_id: String,
    prefix: String,
    versions: bool,
    cursor: Cursor,
    buf: Vec<u8>,
    page: VecDeque<FileVersion>,
    /// The name being grouped.
    current: Option<RemoteFile>,
    done: bool,
    calls: &'c AtomicU64,
}

impl<'c> RemoteWalk<'c> {
    /// Lists `prefix` (already ending with `/`, or empty) of a bucket; pages are counted
    /// in `calls`.
    pub fn new(
        client: &'c Client,
        bucket_id: &str,
        prefix: &str,
        versions: bool,
        calls: &'c AtomicU64,
    ) -> Self {
        RemoteWalk {
            client,
            bucket_id: bucket_id.to_owned(),
            prefix: prefix.to_owned(),
            versions,
            cursor: Cursor::default(),
            buf: Vec::new(),
            page: VecDeque::new(),
            current: None,
            done: false,
            calls,
        }
    }

    fn fetch(&mut self) -> Result<()> {
        let prefix = (!self.prefix.is_empty()).then_some(self.prefix.as_str());
        let bucket_id = self.bucket_id.as_str();
        let listing = if self.versions {
            Listing::FileVersions {
                bucket_id,
                prefix,
                delimiter: None,
            }
        } else {
            Listing::FileNames {
                bucket_id,
                prefix,
                delimiter: None,
            }
        };
        if self.buf.is_empty() {
            self.buf = vec![0u8; PAGE_BUF];
        }
        let mut s = self.client.session();
        let mut op = List::resume(&mut s, &mut self.buf, listing, &self.cursor)
            .with_policy(self.client.retry_policy());
        let r = self.client.run(&mut op);
        self.calls.fetch_add(1, Ordering::Relaxed);
        let out = r.and_then(|_| {
            for f in op.files()?.files {
                let f = f.map_err(b2_core::Error::BadAnswer)?;
                self.page.push_back(FileVersion::from_wire(&f));
            }
            op.next_page()?;
            self.cursor = op.cursor();
            Ok(())
        });
        drop(op);
        self.client.store_session(s);
        out
    }

    /// The next version of the listing, fetching a page when needed.
    fn next_version(&mut self) -> Result<Option<FileVersion>> {
        loop {
            if let Some(v) = self.page.pop_front() {
                return Ok(Some(v));
            }
            if self.cursor.finished() {
                return Ok(None);
            }
            self.fetch()?;
        }
    }
}

impl Iterator for RemoteWalk<'_> {
    type Item = Result<RemoteFile>;

    fn next(&mut self) -> Option<Result<RemoteFile>> {
        if self.done {
            return None;
        }
        loop {
            let v = match self.next_version() {
                Ok(v) => v,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            let Some(v) = v else {
                self.done = true;
                return self.current.take().map(Ok);
            };
            // Unfinished large files are not versions yet; folders do not occur without a
            // delimiter, but are not files either.
            if !b2_core::versions::is_version(v.action.to_core()) {
                continue;
            }
            let Some(rel) = v.file_name.strip_prefix(&self.prefix) else {
                continue;
            };
            let rel = rel.to_owned();
            match &mut self.current {
                Some(cur) if cur.rel == rel => cur.versions.push(v),
                _ => {
                    let next = RemoteFile {
                        rel,
                        versions: vec![v],
                    };
                    if let Some(done) = self.current.replace(next) {
                        return Some(Ok(done));
                    }
                }
            }
        }
    }
}
