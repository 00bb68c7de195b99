//! The bucket handle ([`Bucket`], from [`Client::bucket`]) and its request builders, in
//! the style of OpenDAL: `bucket.upload(name).content_type(..).from_path(p)`,
//! `bucket.download(name).range(0..=99).to_path(p)`, `bucket.list(prefix).recursive()`.
//! The builders only gather options; the work is the client's (the upload and download
//! engines, core's listing cursor).

use std::io::{Read, Write};
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

use super::builder::MAX_THREADS;
use super::{
    BucketInfo, Client, ClientError, DownloadResult, DownloadTarget, FileIter, FileVersion,
    ParallelDownload, Progress, Result, UploadOptions,
};

/// One bucket of a [`Client`]: its files' uploads, downloads, listings, info, hide and
/// delete. Cheap (the bucket's name and id); made by [`Client::bucket`], which looked the
/// bucket up. The builders it hands out borrow the client, not the handle.
///
/// ```no_run
/// use b2_transport_std::client::Client;
///
/// let client = Client::from_env()?;
/// let bucket = client.bucket("my-bucket")?;
/// bucket.upload("notes/today.txt").content_type("text/plain").from_bytes("hello")?;
/// let text = bucket.download("notes/today.txt").to_vec()?;
/// bucket.hide("notes/today.txt")?;
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
#[derive(Clone)]
pub struct Bucket<'c> {
    client: &'c Client,
    /// Bucket id (read by the upload and listing code as `bucket.id`).
    pub(crate) id: String,
    info: BucketInfo,
}

impl std::fmt::Debug for Bucket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("name", &self.info.name)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<'c> Bucket<'c> {
    pub(crate) fn new(client: &'c Client, info: BucketInfo) -> Self {
        Bucket {
            client,
            id: info.id.clone(),
            info,
        }
    }

    /// The bucket's name.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// assert_eq!(client.bucket("my-bucket")?.name(), "my-bucket");
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The bucket's id.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// println!("{}", client.bucket("my-bucket")?.id());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The bucket as the client knows it (type and revision are known only when it was
    /// listed).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// println!("{}", client.bucket("my-bucket")?.bucket_info().bucket_type);
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn bucket_info(&self) -> &BucketInfo {
        &self.info
    }

    /// The client this handle belongs to.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let b = client.bucket("my-bucket")?;
    /// println!("{:?}", b.client().stats());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn client(&self) -> &'c Client {
        self.client
    }

    fn place(&self) -> Place<'c> {
        Place {
            client: self.client,
            bucket: self.info.name.clone(),
        }
    }

    /// An upload of `name` to configure, then send with [`UploadBuilder::from_path`],
    /// [`UploadBuilder::from_reader`] or [`UploadBuilder::from_bytes`].
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client
    ///     .bucket("my-bucket")?
    ///     .upload("nas/backup.tar")
    ///     .content_type("application/x-tar")
    ///     .info("origin", "nas")
    ///     .from_path("backup.tar")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn upload(&self, name: impl Into<String>) -> UploadBuilder<'c> {
        UploadBuilder {
            place: self.place(),
            name: name.into(),
            opts: UploadOptions {
                threads: self.client.threads(),
                ..UploadOptions::default()
            },
        }
    }

    /// A download of the latest version of `name` to configure, then run with
    /// [`DownloadBuilder::to_path`], [`DownloadBuilder::to_writer`] or
    /// [`DownloadBuilder::to_vec`]. A name that does not exist (or is hidden) is
    /// [`ClientError::NotFound`].
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let head = client.bucket("my-bucket")?.download("big.bin").range(0..=99).to_vec()?;
    /// assert_eq!(head.len(), 100);
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn download(&self, name: impl Into<String>) -> DownloadBuilder<'c> {
        let name = name.into();
        self.download_of(DownloadTarget::ByName {
            bucket: self.info.name.clone(),
            name,
        })
    }

    /// A download of one version, by its id.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let b = client.bucket("my-bucket")?;
    /// let v = b.info("a.txt")?;
    /// b.download_by_id(&v.file_id).to_path("a.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn download_by_id(&self, file_id: impl Into<String>) -> DownloadBuilder<'c> {
        self.download_of(DownloadTarget::ById(file_id.into()))
    }

    fn download_of(&self, target: DownloadTarget) -> DownloadBuilder<'c> {
        DownloadBuilder {
            place: self.place(),
            target,
            range: Ok(None),
            par: ParallelDownload {
                threads: self.client.threads(),
                ..ParallelDownload::default()
            },
            progress: None,
        }
    }

    /// A listing of the names under `prefix` to configure, then iterate (lazily, page by
    /// page). By default names roll up into folders at `/` and only the latest version of
    /// each name is listed.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// for f in client.bucket("my-bucket")?.list("photos/").recursive().versions() {
    ///     let f = f?;
    ///     println!("{} {} {}", f.action, f.file_name, f.file_id);
    /// }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn list(&self, prefix: impl Into<String>) -> ListBuilder<'c> {
        ListBuilder {
            client: self.client,
            bucket_id: self.id.clone(),
            prefix: prefix.into(),
            delimiter: Some("/".into()),
            versions: false,
        }
    }

    /// Unfinished large files under `prefix` (started, neither finished nor cancelled).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// for f in client.bucket("my-bucket")?.unfinished("") {
    ///     println!("{} {}", f?.file_name, "unfinished");
    /// }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn unfinished(&self, prefix: &str) -> FileIter<'c> {
        FileIter::unfinished(self.client, &self.id, prefix)
    }

    /// The latest version of `name` (a hidden name is [`ClientError::NotFound`]).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let f = client.bucket("my-bucket")?.info("a.txt")?;
    /// println!("{} bytes, sha1 {:?}", f.size, f.sha1());
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn info(&self, name: &str) -> Result<FileVersion> {
        self.client
            .latest(&self.id, name)?
            .ok_or_else(|| ClientError::NotFound(format!("{}/{name}", self.info.name)))
    }

    /// Whether `name` has a visible latest version.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// if !client.bucket("my-bucket")?.exists("a.txt")? { println!("gone"); }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.client.latest(&self.id, name)?.is_some())
    }

    /// Hides `name` (a hide marker becomes its newest version): downloads by name stop
    /// finding it, its versions stay. Hiding a hidden name is [`ClientError::Conflict`].
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let marker = client.bucket("my-bucket")?.hide("a.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn hide(&self, name: &str) -> Result<FileVersion> {
        self.client.hide(&self.info.name, name)
    }

    /// Unhides `name`: deletes its newest version only if it is a hide marker
    /// ([`ClientError::NotHidden`] otherwise); returns the marker's id.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("my-bucket")?.unhide("a.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn unhide(&self, name: &str) -> Result<String> {
        self.client.unhide(&self.info.name, name)
    }

    /// Deletes the newest version of `name` (the one before it becomes the latest). Refused
    /// with [`ClientError::Hidden`] when that version is a hide marker (deleting it would
    /// unhide the file); a name with no versions is [`ClientError::NotFound`].
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("my-bucket")?.delete("a.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn delete(&self, name: &str) -> Result<()> {
        self.client.delete(&self.info.name, name, false).map(|_| ())
    }

    /// Deletes every version of `name`, hide markers too; returns how many.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let n = client.bucket("my-bucket")?.delete_all_versions("a.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn delete_all_versions(&self, name: &str) -> Result<usize> {
        self.client.delete(&self.info.name, name, true)
    }

    /// Deletes one version of `name` by its id (one that does not exist is
    /// [`ClientError::NotFound`]).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let b = client.bucket("my-bucket")?;
    /// let v = b.info("a.txt")?;
    /// b.delete_version("a.txt", &v.file_id)?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn delete_version(&self, name: &str, file_id: &str) -> Result<()> {
        self.client.delete_version(name, file_id)
    }

    /// Copies the latest version of `source` to `dest` in this bucket, server side.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("my-bucket")?.copy("a.txt", "b.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn copy(&self, source: &str, dest: &str) -> Result<FileVersion> {
        self.client.copy(&self.info.name, source, dest)
    }
}

/// A client and a bucket name, owned by a builder.
#[derive(Clone)]
struct Place<'c> {
    client: &'c Client,
    bucket: String,
}

/// An upload being configured ([`Bucket::upload`]). Files up to the large-file threshold
/// (200 MB) go up in one request; larger ones in parallel parts, resumable.
///
/// ```no_run
/// # let client = b2_transport_std::client::Client::from_env()?;
/// let f = client
///     .bucket("my-bucket")?
///     .upload("logs/today.log")
///     .content_type("text/plain")
///     .part_size(100_000_000)
///     .threads(8)
///     .from_reader(std::io::stdin())?;
/// println!("{}", f.file_id);
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
#[must_use = "an upload is sent only by from_path, from_reader or from_bytes"]
pub struct UploadBuilder<'c> {
    place: Place<'c>,
    name: String,
    opts: UploadOptions,
}

impl std::fmt::Debug for UploadBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadBuilder")
            .field("bucket", &self.place.bucket)
            .field("name", &self.name)
            .field("opts", &self.opts)
            .finish()
    }
}

impl UploadBuilder<'_> {
    /// MIME type (default `b2/x-auto`: B2 picks one from the name's extension).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.upload("a.json").content_type("application/json").from_bytes("{}")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.opts.content_type = content_type.into();
        self
    }

    /// Adds a file info entry (at most 10 with the ones the SDK adds, such as
    /// `src_last_modified_millis` and `large_file_sha1`).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.upload("a.txt").info("author", "me").from_bytes("a")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn info(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.opts.info.push((key.into(), value.into()));
        self
    }

    /// Part size of a large file (default: the size B2 recommends).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.upload("big").part_size(100_000_000).from_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.opts.part_size = Some(bytes);
        self
    }

    /// Size from which a file goes up as a large file (default 200 MB).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.upload("mid").large_threshold(50_000_000).from_path("mid")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn large_threshold(mut self, bytes: u64) -> Self {
        self.opts.large_threshold = bytes;
        self
    }

    /// Parts sent at once (default: the client's [`Client::threads`]; 0 counts as 1, more
    /// than [`MAX_THREADS`] as that).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.upload("big").threads(8).from_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.opts.threads = n.clamp(1, MAX_THREADS);
        self
    }

    /// The source's modification time to record (`src_last_modified_millis`), ms since the
    /// epoch (default from a path: its modification time).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.upload("a.txt").modified_millis(1_700_000_000_000).from_bytes("a")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn modified_millis(mut self, ms: u64) -> Self {
        self.opts.src_last_modified_millis = Some(ms);
        self
    }

    /// The whole file's SHA-1 when known already (saves the hashing pass before a large
    /// upload from a path).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let digest = [0u8; 20]; // the file's SHA-1, computed before
    /// client.bucket("b")?.upload("big").sha1(digest).from_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn sha1(mut self, digest: [u8; 20]) -> Self {
        self.opts.sha1 = Some(digest);
        self
    }

    /// Told the bytes sent so far.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// use b2_transport_std::client::Progress;
    /// struct Print;
    /// impl Progress for Print {
    ///     fn progress(&self, done: u64, total: Option<u64>) { eprintln!("{done}/{total:?}") }
    /// }
    /// client.bucket("b")?.upload("big").progress(std::sync::Arc::new(Print)).from_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn progress(mut self, listener: Arc<dyn Progress>) -> Self {
        self.opts.progress = Some(listener);
        self
    }

    /// Whether an interrupted upload of the same file is continued (default true).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.upload("big").resume(false).from_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn resume(mut self, on: bool) -> Self {
        self.opts.resume = on;
        self
    }

    fn done(&self, r: Result<FileVersion>, path: Option<&Path>) -> Result<FileVersion> {
        r.map_err(|e| {
            let e = self.place.client.explain(e, &["writeFiles"]);
            match path {
                Some(p) => e.at_path(p),
                None => e,
            }
        })
    }

    /// Uploads the file at `path` (read by offset, never whole in memory; a FIFO or device
    /// is read as a stream). Its modification time is recorded unless one was given. A
    /// local failure is [`ClientError::Io`] with the path.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("my-bucket")?.upload("a.txt").from_path("a.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn from_path(self, path: impl AsRef<Path>) -> Result<FileVersion> {
        let path = path.as_ref();
        refuse_directory(path)?;
        let r = self
            .place
            .client
            .upload_path(&self.place.bucket, path, &self.name, &self.opts);
        self.done(r, Some(path))
    }

    /// Uploads what `reader` yields, of any length (parts cut into `threads` buffers of the
    /// part size; a failed stream cancels its large file).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let file = std::fs::File::open("a.txt")?;
    /// client.bucket("my-bucket")?.upload("a.txt").from_reader(file)?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn from_reader(self, reader: impl Read) -> Result<FileVersion> {
        let r = self
            .place
            .client
            .upload_reader(&self.place.bucket, reader, &self.name, &self.opts);
        self.done(r, None)
    }

    /// Uploads bytes in memory.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("my-bucket")?.upload("hello.txt").from_bytes(b"hello")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn from_bytes(self, bytes: impl AsRef<[u8]>) -> Result<FileVersion> {
        self.from_reader(bytes.as_ref())
    }
}

/// A download being configured ([`Bucket::download`], [`Bucket::download_by_id`]). A whole
/// download is checked against the file's SHA-1; to a path, it is written to a temporary
/// file renamed into place only then, and a file of 200 MB or more comes in parallel
/// ranges.
///
/// ```no_run
/// # let client = b2_transport_std::client::Client::from_env()?;
/// let r = client.bucket("my-bucket")?.download("big.bin").threads(8).to_path("big.bin")?;
/// assert!(r.verified);
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
#[must_use = "a download runs only by to_path, to_writer or to_vec"]
pub struct DownloadBuilder<'c> {
    place: Place<'c>,
    target: DownloadTarget,
    range: Result<Option<(u64, u64)>>,
    par: ParallelDownload,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for DownloadBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadBuilder")
            .field("target", &self.target)
            .field("range", &self.range)
            .field("par", &self.par)
            .finish_non_exhaustive()
    }
}

/// An inclusive byte range from any range of `u64` (`None`: the whole file).
fn inclusive(r: &impl RangeBounds<u64>) -> Result<Option<(u64, u64)>> {
    let bad = || ClientError::InvalidInput(b2_core::InvalidInput::Range);
    let start = match r.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.checked_add(1).ok_or_else(bad)?,
        Bound::Unbounded => 0,
    };
    let end = match r.end_bound() {
        Bound::Included(&e) => e,
        Bound::Excluded(&e) => e.checked_sub(1).ok_or_else(bad)?,
        // To the end: a last byte past the file's end means the end (RFC 9110).
        Bound::Unbounded if start == 0 => return Ok(None),
        Bound::Unbounded => u64::MAX,
    };
    if end < start {
        return Err(bad());
    }
    Ok(Some((start, end)))
}

impl DownloadBuilder<'_> {
    /// Downloads only these bytes (`0..=99`, `100..200`, `1000..`). A range is not checked
    /// against the whole file's SHA-1 (B2 gives none for a part). An empty or reversed range
    /// is [`ClientError::InvalidInput`] when the download runs.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let tail = client.bucket("b")?.download("a.bin").range(1000..).to_vec()?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn range(mut self, range: impl RangeBounds<u64>) -> Self {
        self.range = inclusive(&range);
        self
    }

    /// Threads for the ranges of a large whole file downloaded to a path (default: the
    /// client's [`Client::threads`]; 1: one stream; at most [`MAX_THREADS`]).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.download("big").threads(8).to_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.par.threads = n.clamp(1, MAX_THREADS);
        self
    }

    /// Smallest file downloaded in parallel ranges (default 200 MB).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.download("big").parallel_threshold(50_000_000).to_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn parallel_threshold(mut self, bytes: u64) -> Self {
        self.par.threshold = bytes;
        self
    }

    /// Size of each parallel range (default 32 MiB; 0 counts as 1 MiB).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("b")?.download("big").chunk_size(64 << 20).to_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.par.chunk = if bytes == 0 { 1 << 20 } else { bytes };
        self
    }

    /// Told the bytes received so far.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// use b2_transport_std::client::Progress;
    /// struct Print;
    /// impl Progress for Print {
    ///     fn progress(&self, done: u64, total: Option<u64>) { eprintln!("{done}/{total:?}") }
    /// }
    /// client.bucket("b")?.download("big").progress(std::sync::Arc::new(Print)).to_path("big")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn progress(mut self, listener: Arc<dyn Progress>) -> Self {
        self.progress = Some(listener);
        self
    }

    fn done(&self, r: Result<DownloadResult>, path: Option<&Path>) -> Result<DownloadResult> {
        r.map_err(|e| {
            let e = self
                .place
                .client
                .explain(e, &["readFiles"])
                .not_found_as(|| match &self.target {
                    DownloadTarget::ByName { bucket, name } => format!("{bucket}/{name}"),
                    DownloadTarget::ById(id) => format!("file version {id}"),
                });
            match path {
                Some(p) => e.at_path(p),
                None => e,
            }
        })
    }

    /// Downloads to `path`: through a temporary file renamed into place only after the
    /// whole file arrived and its SHA-1 matched (nothing left behind on failure), with the
    /// source's modification time restored. A local failure is [`ClientError::Io`] with the
    /// path; a SHA-1 mismatch is [`ClientError::Integrity`].
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("my-bucket")?.download("a.txt").to_path("restored/a.txt")?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn to_path(self, path: impl AsRef<Path>) -> Result<DownloadResult> {
        let path = path.as_ref();
        refuse_directory(path)?;
        let range = self.range.as_ref().map_err(|_| bad_range())?;
        let r = self.place.client.download_to_path_with(
            &self.target,
            path,
            *range,
            self.progress.as_deref(),
            &self.par,
        );
        self.done(r, Some(path))
    }

    /// Downloads into `writer`, one stream. A whole download is checked against the SHA-1
    /// after the bytes were written: write to a path or [`DownloadBuilder::to_vec`] when a
    /// mismatch must leave nothing behind.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// client.bucket("my-bucket")?.download("a.txt").to_writer(std::io::stdout().lock())?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn to_writer(self, writer: impl Write) -> Result<DownloadResult> {
        let range = self.range.as_ref().map_err(|_| bad_range())?;
        let r = self.place.client.download_to_writer(
            &self.target,
            writer,
            *range,
            self.progress.as_deref(),
        );
        self.done(r, None)
    }

    /// Downloads into memory (for small files: the whole answer is held), checked
    /// against the SHA-1 before it is returned.
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let bytes = client.bucket("my-bucket")?.download("a.txt").to_vec()?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn to_vec(self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.to_writer(&mut out)?;
        Ok(out)
    }
}

/// A directory at `path` is [`ClientError::Io`] with `IsADirectory` (the engines say it
/// as a configuration error; a caller matching on the path gets it here).
fn refuse_directory(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(ClientError::Io {
            path: Some(path.to_path_buf()),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        }),
        _ => Ok(()),
    }
}

fn bad_range() -> ClientError {
    ClientError::InvalidInput(b2_core::InvalidInput::Range)
}

/// A listing being configured ([`Bucket::list`]); iterate it (or call
/// [`ListBuilder::iter`]) to walk the names, page by page as the iteration reaches them
/// (each page is one list call, a class C transaction on B2).
///
/// ```no_run
/// # let client = b2_transport_std::client::Client::from_env()?;
/// let bucket = client.bucket("my-bucket")?;
/// let names: Vec<String> = bucket
///     .list("logs/")
///     .recursive()
///     .iter()
///     .map(|f| f.map(|f| f.file_name))
///     .collect::<Result<_, _>>()?;
/// # Ok::<(), b2_transport_std::client::ClientError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a listing runs only when iterated"]
pub struct ListBuilder<'c> {
    client: &'c Client,
    bucket_id: String,
    prefix: String,
    delimiter: Option<String>,
    versions: bool,
}

impl<'c> ListBuilder<'c> {
    /// Every name under the prefix, at any depth (no folders).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let all = client.bucket("b")?.list("").recursive().iter().count();
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn recursive(mut self) -> Self {
        self.delimiter = None;
        self
    }

    /// Names roll up into folders at `delimiter` (default `/`; folder rows have
    /// [`super::Action::Folder`]).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// for f in client.bucket("b")?.list("2024-").delimiter("-") { println!("{}", f?.file_name) }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Every version and hide marker, newest first per name (default: the latest version
    /// of each visible name).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// for f in client.bucket("b")?.list("a.txt").recursive().versions() { println!("{}", f?.file_id) }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn versions(mut self) -> Self {
        self.versions = true;
        self
    }

    /// The listing's iterator (the same as iterating the builder).
    ///
    /// ```no_run
    /// # let client = b2_transport_std::client::Client::from_env()?;
    /// let mut it = client.bucket("b")?.list("").iter();
    /// let first = it.next().transpose()?;
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn iter(self) -> FileIter<'c> {
        if let Err(e) = b2_core::validate::name_prefix(&self.prefix) {
            return FileIter::failed(self.client, e.into());
        }
        self.client.ls_id(
            &self.bucket_id,
            &self.prefix,
            self.delimiter.as_deref(),
            self.versions,
        )
    }
}

impl<'c> IntoIterator for ListBuilder<'c> {
    type Item = Result<FileVersion>;
    type IntoIter = FileIter<'c>;

    fn into_iter(self) -> FileIter<'c> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::inclusive;

    #[test]
    fn ranges_become_inclusive_byte_ranges() {
        assert_eq!(inclusive(&(0..=99)).ok(), Some(Some((0, 99))));
        assert_eq!(inclusive(&(0..100)).ok(), Some(Some((0, 99))));
        assert_eq!(inclusive(&(10..)).ok(), Some(Some((10, u64::MAX))));
        assert_eq!(inclusive(&(..)).ok(), Some(None));
        assert_eq!(inclusive(&(..=5)).ok(), Some(Some((0, 5))));
        assert!(inclusive(&(5..5)).is_err());
        assert!(inclusive(&(0..0)).is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 9..=3;
        assert!(inclusive(&reversed).is_err());
    }
}
