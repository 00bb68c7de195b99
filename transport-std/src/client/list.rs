//! Lazy listings: pages are fetched as the iterator reaches them.

use std::collections::VecDeque;

use b2_core::wire::file::{ListFileNames, ListFileVersions, ListUnfinishedLargeFiles};

use super::{text, Client, ClientError, FileVersion, Result};

/// Which listing a [`FileIter`] walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Names,
    Versions,
    Unfinished,
}

/// Iterator over file versions, fetching pages of up to 1,000 lazily.
pub struct FileIter<'c> {
    client: &'c Client,
    kind: Kind,
    bucket_id: String,
    prefix: String,
    delimiter: Option<String>,
    next_name: Option<String>,
    next_id: Option<String>,
    page: VecDeque<FileVersion>,
    done: bool,
    failed: bool,
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

    pub(crate) fn unfinished_id(&self, bucket_id: &str, prefix: &str) -> FileIter<'_> {
        FileIter::new(self, Kind::Unfinished, bucket_id, prefix, None)
    }
}

impl<'c> FileIter<'c> {
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
            next_name: None,
            next_id: None,
            page: VecDeque::new(),
            done: false,
            failed: false,
        }
    }

    fn fetch(&mut self) -> Result<()> {
        let prefix = (!self.prefix.is_empty()).then_some(self.prefix.as_str());
        let collect = |a: b2_core::wire::file::ListFilesAnswer<'_>| -> Result<(Vec<FileVersion>, Option<String>, Option<String>)> {
            let files = a
                .files
                .map(|f| f.map(|f| FileVersion::from_wire(&f)).map_err(|e| ClientError::from(b2_core::Error::BadAnswer(e))))
                .collect::<Result<Vec<_>>>()?;
            Ok((files, a.next_file_name.map(text), a.next_file_id.map(text)))
        };
        let (files, name, id) = match self.kind {
            Kind::Names => self.client.call(
                ListFileNames {
                    bucket_id: &self.bucket_id,
                    start_file_name: self.next_name.as_deref(),
                    max_file_count: Some(1000),
                    prefix,
                    delimiter: self.delimiter.as_deref(),
                },
                collect,
            )?,
            Kind::Versions => self.client.call(
                ListFileVersions {
                    bucket_id: &self.bucket_id,
                    start_file_name: self.next_name.as_deref(),
                    start_file_id: self.next_id.as_deref(),
                    max_file_count: Some(1000),
                    prefix,
                    delimiter: self.delimiter.as_deref(),
                },
                collect,
            )?,
            Kind::Unfinished => self.client.call(
                ListUnfinishedLargeFiles {
                    bucket_id: &self.bucket_id,
                    name_prefix: prefix,
                    start_file_id: self.next_id.as_deref(),
                    max_file_count: Some(100),
                },
                collect,
            )?,
        };
        self.page.extend(files);
        self.done = match self.kind {
            Kind::Unfinished => id.is_none(),
            _ => name.is_none(),
        };
        self.next_name = name;
        self.next_id = id;
        Ok(())
    }
}

impl Iterator for FileIter<'_> {
    type Item = Result<FileVersion>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(f) = self.page.pop_front() {
                return Some(Ok(f));
            }
            if self.done || self.failed {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}
