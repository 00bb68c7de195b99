//! Lazy listings: each page is one run of core's listing cursor (`op::List`), fetched as
//! the iterator reaches it; the cursor is kept between pages.

use std::collections::VecDeque;

use b2_core::op::{Cursor, List, Listing};

use super::{Client, ClientError, FileVersion, Result};

/// Buffer for one page: core's cursor sizes pages to it (up to B2's 1,000 names) and asks
/// for a smaller page when one does not fit.
const PAGE_BUF: usize = 1 << 20;

/// Which listing a [`FileIter`] walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Names,
    Versions,
    Unfinished,
}

/// Iterator over file versions, fetching pages lazily through core's listing cursor.
pub struct FileIter<'c> {
    client: &'c Client,
    kind: Kind,
    bucket_id: String,
    prefix: String,
    delimiter: Option<String>,
    cursor: Cursor,
    buf: Vec<u8>,
    page: VecDeque<FileVersion>,
    failed: bool,
    /// An error to yield first (input refused before any call).
    pending: Option<ClientError>,
}

impl Client {
    /// Lists `bucket` under `prefix`. With `recursive == false`, names roll up into
    /// "folders" at `/` (folder entries have action `folder`). With `versions`, every
    /// version and hide marker, newest first per name.
    pub fn ls(
        &self,
        bucket: &str,
        prefix: &str,
        recursive: bool,
        versions: bool,
    ) -> Result<FileIter<'_>> {
        b2_core::validate::name_prefix(prefix)?;
        let b = self.bucket(bucket)?;
        Ok(self.ls_id(&b.id, prefix, (!recursive).then_some("/"), versions))
    }

    /// As [`Client::ls`], by bucket id and with any delimiter.
    pub fn ls_id(
        &self,
        bucket_id: &str,
        prefix: &str,
        delimiter: Option<&str>,
        versions: bool,
    ) -> FileIter<'_> {
        FileIter::new(
            self,
            if versions {
                Kind::Versions
            } else {
                Kind::Names
            },
            bucket_id,
            prefix,
            delimiter,
        )
    }

    /// Unfinished large files in `bucket` under `prefix`.
    pub fn unfinished(&self, bucket: &str, prefix: &str) -> Result<FileIter<'_>> {
        let b = self.bucket(bucket)?;
        Ok(FileIter::new(self, Kind::Unfinished, &b.id, prefix, None))
    }
}

impl<'c> FileIter<'c> {
    /// Unfinished large files of the bucket `bucket_id` under `prefix`.
    pub(crate) fn unfinished(client: &'c Client, bucket_id: &str, prefix: &str) -> Self {
        FileIter::new(client, Kind::Unfinished, bucket_id, prefix, None)
    }

    /// An iterator that yields `e` and ends.
    pub(crate) fn failed(client: &'c Client, e: ClientError) -> Self {
        let mut it = FileIter::new(client, Kind::Names, "", "", None);
        it.pending = Some(e);
        it
    }

    fn new(
        client: &'c Client,
        kind: Kind,
        bucket_id: &str,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Self {
        FileIter {
            client,
            kind,
            bucket_id: bucket_id.to_owned(),
            prefix: prefix.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            cursor: Cursor::default(),
            buf: Vec::new(),
            page: VecDeque::new(),
            failed: false,
            pending: None,
        }
    }

    fn fetch(&mut self) -> Result<()> {
        let prefix = (!self.prefix.is_empty()).then_some(self.prefix.as_str());
        let bucket_id = self.bucket_id.as_str();
        let delimiter = self.delimiter.as_deref();
        let listing = match self.kind {
            Kind::Names => Listing::FileNames {
                bucket_id,
                prefix,
                delimiter,
            },
            Kind::Versions => Listing::FileVersions {
                bucket_id,
                prefix,
                delimiter,
            },
            Kind::Unfinished => Listing::UnfinishedLargeFiles {
                bucket_id,
                name_prefix: prefix,
            },
        };
        if self.buf.is_empty() {
            self.buf = vec![0u8; PAGE_BUF];
        }
        let mut s = self.client.session();
        let mut op = List::resume(&mut s, &mut self.buf, listing, &self.cursor)
            .with_policy(self.client.retry_policy());
        let r = self.client.run(&mut op);
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
        out.map_err(|e| self.client.explain(e, &["listFiles"]))
    }
}

impl Iterator for FileIter<'_> {
    type Item = Result<FileVersion>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            self.failed = true;
            return Some(Err(e));
        }
        loop {
            if let Some(f) = self.page.pop_front() {
                return Some(Ok(f));
            }
            if self.cursor.finished() || self.failed {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}
