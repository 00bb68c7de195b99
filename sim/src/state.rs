//! The simulated service's data: accounts, keys, buckets, file versions, parts, tokens.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::store::Segment;

/// Every capability a master key has.
pub(crate) const ALL_CAPABILITIES: [&str; 28] = [
    "listKeys",
    "writeKeys",
    "deleteKeys",
    "listAllBucketNames",
    "listBuckets",
    "readBuckets",
    "writeBuckets",
    "deleteBuckets",
    "readBucketRetentions",
    "writeBucketRetentions",
    "readBucketEncryption",
    "writeBucketEncryption",
    "listFiles",
    "readFiles",
    "shareFiles",
    "writeFiles",
    "deleteFiles",
    "readFileLegalHolds",
    "writeFileLegalHolds",
    "readFileRetentions",
    "writeFileRetentions",
    "bypassGovernance",
    "readBucketReplications",
    "writeBucketReplications",
    "readBucketNotifications",
    "writeBucketNotifications",
    "readBucketLifecycleRules",
    "writeBucketLifecycleRules",
];

/// An application key (the master key of an account is one too).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Key {
    pub id: String,
    pub secret: String,
    pub account_id: String,
    pub name: String,
    pub capabilities: Vec<String>,
    pub bucket_ids: Option<Vec<String>>,
    pub name_prefix: Option<String>,
    pub expires_ms: Option<u64>,
    pub master: bool,
}

impl Key {
    /// True if the key has `cap`.
    pub fn has(&self, cap: &str) -> bool {
        self.capabilities.iter().any(|c| c == cap)
    }

    /// 401 `unauthorized` unless the key has `cap`.
    pub fn require(&self, cap: &str) -> ApiResult<()> {
        if self.has(cap) {
            Ok(())
        } else {
            Err(ApiError::unauthorized(format!(
                "The key is missing the {cap} capability"
            )))
        }
    }

    /// True if the key may touch this bucket.
    pub fn allows_bucket(&self, bucket_id: &str) -> bool {
        self.bucket_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|b| b == bucket_id))
    }

    /// 401 `unauthorized` unless the key may touch this bucket.
    pub fn require_bucket(&self, bucket_id: &str) -> ApiResult<()> {
        if self.allows_bucket(bucket_id) {
            Ok(())
        } else {
            Err(ApiError::unauthorized(
                "The key is restricted to other buckets",
            ))
        }
    }

    /// 401 `unauthorized` unless `name` is inside the key's name prefix.
    pub fn require_name(&self, name: &str) -> ApiResult<()> {
        match &self.name_prefix {
            Some(p) if !name.starts_with(p.as_str()) => Err(ApiError::unauthorized(format!(
                "The key is restricted to names starting with {p}"
            ))),
            _ => Ok(()),
        }
    }
}

/// A bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Bucket {
    pub id: String,
    pub name: String,
    pub account_id: String,
    pub bucket_type: String,
    pub info: Value,
    pub cors_rules: Value,
    pub lifecycle_rules: Value,
    pub revision: u64,
    /// Object Lock settings (see `api::features`).
    #[serde(default)]
    pub file_lock: crate::api::features::FileLock,
    /// `replicationConfiguration` (`asReplicationSource`, `asReplicationDestination`), or
    /// null (see `replication`).
    #[serde(default)]
    pub replication: Value,
    /// `eventNotificationRules` (see `notify`), a JSON array.
    #[serde(default)]
    pub notification_rules: Value,
}

/// What a file version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Action {
    /// An uploaded (or finished large) file.
    Upload,
    /// A hide marker.
    Hide,
    /// A large file started and not yet finished.
    Start,
}

impl Action {
    /// B2's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Upload => "upload",
            Action::Hide => "hide",
            Action::Start => "start",
        }
    }
}

/// One file version (or hide marker, or unfinished large file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileVersion {
    pub id: String,
    pub bucket_id: String,
    pub account_id: String,
    pub name: String,
    pub action: Action,
    pub content_type: String,
    /// 40 hex, `none`, or `unverified:<hex>`.
    pub sha1: String,
    pub length: u64,
    pub info: BTreeMap<String, String>,
    pub timestamp: u64,
    pub seq: u64,
    pub large: bool,
    pub content: Vec<Segment>,
    /// Encryption and Object Lock.
    #[serde(default)]
    pub protection: Protection,
    /// B2's `replicationStatus`: `pending`, `completed`, `failed` on a source, `replica` on
    /// a copy made by replication; `None` outside replication (see `replication`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_status: Option<String>,
}

/// A file version's SSE-C key MD5 (never the key), retention and legal hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Protection {
    /// Base64 MD5 of the SSE-C key; `None`: SSE-B2.
    #[serde(default)]
    pub sse_c_key_md5: Option<String>,
    /// Retention mode (`governance`, `compliance`) and its end in milliseconds.
    #[serde(default)]
    pub retention: Option<(String, u64)>,
    /// Legal hold (`Some(true)`: on).
    #[serde(default)]
    pub legal_hold: Option<bool>,
}

/// One uploaded part of an unfinished large file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Part {
    pub number: u32,
    pub length: u64,
    pub sha1: String,
    pub timestamp: u64,
    pub content: Vec<Segment>,
}

/// An account authorization token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountToken {
    pub key_id: String,
    pub expires_ms: u64,
}

/// An upload URL's token (for a bucket, or for one large file's parts).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UploadToken {
    pub key_id: String,
    pub bucket_id: String,
    pub large_file_id: Option<String>,
    pub url_id: String,
    pub expires_ms: u64,
    #[serde(skip)]
    pub in_use: bool,
}

/// A token from `b2_get_download_authorization`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DownloadToken {
    pub bucket_id: String,
    pub prefix: String,
    pub expires_ms: u64,
    /// `b2Content*` values the token pins: downloads with it must send the same ones.
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
}

/// Position of a version in a bucket's listing: name, then newest first.
pub(crate) type IndexKey = (String, u64, String);

/// Everything the service knows.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct State {
    /// Id of the first account's master key (what the binary prints).
    pub primary_key: Option<String>,
    pub keys: BTreeMap<String, Key>,
    pub buckets: BTreeMap<String, Bucket>,
    pub files: HashMap<String, FileVersion>,
    pub parts: HashMap<String, BTreeMap<u32, Part>>,
    pub tokens: HashMap<String, AccountToken>,
    #[serde(skip)]
    pub upload_tokens: HashMap<String, UploadToken>,
    pub download_tokens: HashMap<String, DownloadToken>,
    pub seq: u64,
    /// New source versions waiting to be replicated (see `replication::drain`).
    #[serde(default)]
    pub replication_queue: Vec<String>,
    /// Generation of the journal that follows this snapshot (see `journal`).
    #[serde(default)]
    pub journal_gen: u64,
    #[serde(skip)]
    pub index: HashMap<String, BTreeSet<IndexKey>>,
    /// Ids of file versions (and their parts) changed since they were last saved; see `db`.
    #[serde(skip)]
    pub dirty: HashSet<String>,
    /// True when changes are saved (a data directory): only then is `dirty` kept.
    #[serde(skip)]
    pub track_dirty: bool,
    /// How many segments of file versions and parts refer to each blob, so a delete knows
    /// at once whether a blob is still used (no scan of every version).
    #[serde(skip)]
    pub blob_refs: HashMap<u64, u32>,
    /// With a data directory: the file versions, parts and blob counts live in the
    /// database only (`files`, `parts`, `index` and `blob_refs` above stay empty).
    #[serde(skip)]
    pub db: Option<crate::filesdb::FilesDb>,
}

/// A database failure where the caller has no error path (logged; the call goes on).
fn logged<T: Default>(r: std::io::Result<T>) -> T {
    r.unwrap_or_else(|e| {
        eprintln!("b2-sim: {e}");
        T::default()
    })
}

/// A file version from memory (borrowed) or from the database (owned).
pub(crate) type FileRef<'a> = Cow<'a, FileVersion>;

impl State {
    /// Next sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The listing position of a version.
    pub fn index_key(f: &FileVersion) -> IndexKey {
        (f.name.clone(), u64::MAX - f.seq, f.id.clone())
    }

    /// Marks a file version (and its parts) as changed, to be saved (see `db`).
    pub fn mark_dirty(&mut self, id: &str) {
        if self.track_dirty && self.db.is_none() {
            self.dirty.insert(id.to_string());
        }
    }

    fn add_refs(&mut self, content: &[Segment]) {
        for seg in content {
            *self.blob_refs.entry(seg.blob.id).or_default() += 1;
        }
    }

    fn drop_refs(&mut self, content: &[Segment]) {
        for seg in content {
            if let Some(n) = self.blob_refs.get_mut(&seg.blob.id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.blob_refs.remove(&seg.blob.id);
                }
            }
        }
    }

    /// True if any file version or part still refers to the blob.
    pub fn blob_in_use(&self, id: u64) -> bool {
        match &self.db {
            // On a database error the blob is kept (never delete what may be used).
            Some(db) => db.blob_in_use(id).unwrap_or(true),
            None => self.blob_refs.contains_key(&id),
        }
    }

    /// A file version by id.
    pub fn file(&self, id: &str) -> Option<FileRef<'_>> {
        match &self.db {
            Some(db) => logged(db.file(id)).map(Cow::Owned),
            None => self.files.get(id).map(Cow::Borrowed),
        }
    }

    /// An application key by id (from the database with a data directory).
    pub fn key(&self, id: &str) -> Option<Cow<'_, Key>> {
        match &self.db {
            Some(db) => logged(db.key(id)).map(Cow::Owned),
            None => self.keys.get(id).map(Cow::Borrowed),
        }
    }

    /// Adds an application key (committed with the call's other changes).
    pub fn insert_key(&mut self, k: Key) -> std::io::Result<()> {
        match &self.db {
            Some(db) => db.put_key(&k),
            None => {
                self.keys.insert(k.id.clone(), k);
                Ok(())
            }
        }
    }

    /// Removes an application key; returns it.
    pub fn remove_key(&mut self, id: &str) -> std::io::Result<Option<Key>> {
        match &self.db {
            Some(db) => db.remove_key(id),
            None => Ok(self.keys.remove(id)),
        }
    }

    /// The keys of `account_id` with ids from `start` on, in id order, that `keep` accepts:
    /// up to `max` of them, and the id of the next one (if any). With a data directory, read
    /// from the database 256 at a time through the `(account_id, id)` index.
    pub fn account_keys(
        &self,
        account_id: &str,
        start: &str,
        max: usize,
        keep: impl Fn(&Key) -> bool,
    ) -> std::io::Result<(Vec<Key>, Option<String>)> {
        let mut out = Vec::new();
        match &self.db {
            None => {
                let mut it = self
                    .keys
                    .range(start.to_string()..)
                    .map(|(_, k)| k)
                    .filter(|k| k.account_id == account_id && keep(k));
                for k in it.by_ref() {
                    if out.len() == max {
                        return Ok((out, Some(k.id.clone())));
                    }
                    out.push(k.clone());
                }
            }
            Some(db) => {
                let (mut from, mut inclusive) = (start.to_string(), true);
                loop {
                    let batch = db.account_keys(account_id, &from, inclusive, 256)?;
                    let last = batch.len() < 256;
                    let Some(k) = batch.last() else { break };
                    // The next batch starts just after this one's last id.
                    (from, inclusive) = (k.id.clone(), false);
                    for k in batch {
                        if !keep(&k) {
                            continue;
                        }
                        if out.len() == max {
                            return Ok((out, Some(k.id)));
                        }
                        out.push(k);
                    }
                    if last {
                        break;
                    }
                }
            }
        }
        Ok((out, None))
    }

    /// The parts of an unfinished large file (empty if none).
    pub fn parts_of(&self, file_id: &str) -> BTreeMap<u32, Part> {
        match &self.db {
            Some(db) => logged(db.parts(file_id)),
            None => self.parts.get(file_id).cloned().unwrap_or_default(),
        }
    }

    /// Replaces an unfinished large file by its finished version `f` (its content being
    /// the parts', no blob changes users); the parts go.
    pub fn finish_large(&mut self, mut f: FileVersion) -> std::io::Result<()> {
        crate::replication::on_new_version(self, &mut f);
        if let Some(db) = &self.db {
            return db.finish_large(&f);
        }
        self.parts.remove(&f.id);
        self.mark_dirty(&f.id);
        self.files.insert(f.id.clone(), f);
        Ok(())
    }

    /// The versions of a bucket from `from` on, in listing order (name, then newest
    /// first); only unfinished large files with `unfinished`.
    pub fn scan<'a>(
        &'a self,
        bucket_id: &str,
        from: IndexKey,
        unfinished: bool,
    ) -> Box<dyn Iterator<Item = FileRef<'a>> + 'a> {
        if let Some(db) = &self.db {
            return Box::new(db.scan(bucket_id, from, unfinished));
        }
        let Some(ix) = self.index.get(bucket_id) else {
            return Box::new(std::iter::empty());
        };
        Box::new(
            ix.range(from..)
                .filter_map(|(_, _, id)| self.files.get(id))
                .filter(move |f| !unfinished || f.action == Action::Start)
                .map(Cow::Borrowed),
        )
    }

    /// Forgets a deleted bucket's (empty) listing index.
    pub fn forget_bucket(&mut self, bucket_id: &str) {
        self.index.remove(bucket_id);
    }

    /// How many large files are unfinished.
    pub fn unfinished_count(&self) -> usize {
        match &self.db {
            Some(db) => logged(db.unfinished_count()),
            None => self
                .files
                .values()
                .filter(|f| f.action == Action::Start)
                .count(),
        }
    }

    /// Opens the transaction one JSON call's changes join (data directory only).
    pub fn begin(&self) {
        if let Some(db) = &self.db {
            db.begin();
        }
    }

    /// Commits what [`State::begin`] opened.
    pub fn commit(&self) -> std::io::Result<()> {
        match &self.db {
            Some(db) => db.commit(),
            None => Ok(()),
        }
    }

    /// Stores part `part.number` of unfinished large file `file_id`; returns the part it
    /// replaces, if any.
    pub fn put_part(&mut self, file_id: &str, part: Part) -> std::io::Result<Option<Part>> {
        if let Some(db) = &self.db {
            return db.put_part(file_id, &part);
        }
        self.add_refs(&part.content);
        let old = self
            .parts
            .entry(file_id.to_string())
            .or_default()
            .insert(part.number, part);
        if let Some(old) = &old {
            self.drop_refs(&old.content);
        }
        Ok(old)
    }

    /// Adds a file version (with a data directory: one committed row, or part of the
    /// open transaction).
    pub fn insert_file(&mut self, mut f: FileVersion) -> std::io::Result<()> {
        crate::replication::on_new_version(self, &mut f);
        if let Some(db) = &self.db {
            return db.insert_file(&f, self.seq);
        }
        self.add_refs(&f.content);
        self.index
            .entry(f.bucket_id.clone())
            .or_default()
            .insert(Self::index_key(&f));
        self.mark_dirty(&f.id);
        self.files.insert(f.id.clone(), f);
        Ok(())
    }

    /// Replaces the metadata (retention, legal hold) of a stored file version; its content
    /// and listing position stay.
    pub fn update_file(&mut self, f: FileVersion) -> std::io::Result<()> {
        if let Some(db) = &self.db {
            return db.update_file(&f);
        }
        self.mark_dirty(&f.id);
        if let Some(old) = self.files.get_mut(&f.id) {
            *old = f;
        }
        Ok(())
    }

    /// Sets a version's `replicationStatus` in place (memory or database).
    pub fn set_replication_status(&mut self, id: &str, status: &str) -> std::io::Result<()> {
        if let Some(db) = &self.db {
            if let Some(mut f) = db.file(id)? {
                f.replication_status = Some(status.to_string());
                db.update_file(&f)?;
            }
            return Ok(());
        }
        if let Some(f) = self.files.get_mut(id) {
            f.replication_status = Some(status.to_string());
        }
        self.mark_dirty(id);
        Ok(())
    }

    /// Removes a file version (and its parts, if unfinished).
    pub fn remove_file(&mut self, id: &str) -> Option<FileVersion> {
        if let Some(db) = &self.db {
            return logged(db.remove_file(id));
        }
        let f = self.files.remove(id)?;
        self.mark_dirty(&f.id);
        if let Some(ix) = self.index.get_mut(&f.bucket_id) {
            ix.remove(&Self::index_key(&f));
        }
        self.drop_refs(&f.content);
        if let Some(parts) = self.parts.remove(id) {
            for p in parts.values() {
                self.drop_refs(&p.content);
            }
        }
        // Maps never shrink on their own: give back the room of deleted entries once most
        // of it is unused (halving at a quarter keeps this amortized constant per delete).
        shrink(&mut self.files);
        shrink(&mut self.blob_refs);
        shrink(&mut self.parts);
        Some(f)
    }

    /// Rebuilds the listing index and the blob reference counts (tests: they must equal
    /// the counts kept as versions come and go).
    #[cfg(test)]
    pub fn rebuild_index(&mut self) {
        let mut refs: HashMap<u64, u32> = HashMap::new();
        let segments = self.files.values().flat_map(|f| f.content.iter()).chain(
            self.parts
                .values()
                .flat_map(|ps| ps.values().flat_map(|p| p.content.iter())),
        );
        for seg in segments {
            *refs.entry(seg.blob.id).or_default() += 1;
        }
        self.blob_refs = refs;
        self.index.clear();
        let keys: Vec<(String, IndexKey)> = self
            .files
            .values()
            .map(|f| (f.bucket_id.clone(), Self::index_key(f)))
            .collect();
        for (b, k) in keys {
            self.index.entry(b).or_default().insert(k);
        }
    }

    /// Ids of every blob still in use.
    pub fn referenced_blobs(&self) -> std::io::Result<HashSet<u64>> {
        if let Some(db) = &self.db {
            return db.referenced_blobs();
        }
        let mut set = HashSet::new();
        for f in self.files.values() {
            set.extend(f.content.iter().map(|s| s.blob.id));
        }
        for parts in self.parts.values() {
            for p in parts.values() {
                set.extend(p.content.iter().map(|s| s.blob.id));
            }
        }
        Ok(set)
    }

    /// The most recent version (upload or hide) of a name in a bucket.
    pub fn latest(&self, bucket_id: &str, name: &str) -> Option<FileRef<'_>> {
        if let Some(db) = &self.db {
            return logged(db.latest(bucket_id, name)).map(Cow::Owned);
        }
        self.scan(bucket_id, (name.to_string(), 0, String::new()), false)
            .take_while(|f| f.name == name)
            .find(|f| f.action != Action::Start)
    }

    /// The bucket with this name.
    pub fn bucket_by_name(&self, name: &str) -> Option<&Bucket> {
        self.buckets.values().find(|b| b.name == name)
    }

    /// True if the bucket holds any version or unfinished large file.
    pub fn bucket_has_files(&self, bucket_id: &str) -> bool {
        match &self.db {
            // On a database error the bucket counts as not empty (it is not deleted).
            Some(db) => db.bucket_has_files(bucket_id).unwrap_or(true),
            None => self.index.get(bucket_id).is_some_and(|ix| !ix.is_empty()),
        }
    }
}

/// Halves a map's room once it is under a quarter used.
fn shrink<K: std::hash::Hash + Eq, V>(m: &mut HashMap<K, V>) {
    if m.capacity() > 64 && m.len() * 4 < m.capacity() {
        m.shrink_to(m.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blob;

    fn seg(blob: u64) -> Segment {
        Segment {
            blob: Blob {
                id: blob,
                len: 10,
                mem: None,
            },
            offset: 0,
            len: 10,
        }
    }

    fn version(id: &str, seq: u64, blobs: &[u64]) -> FileVersion {
        FileVersion {
            id: id.into(),
            bucket_id: "b".into(),
            account_id: "a".into(),
            name: "n".into(),
            action: Action::Upload,
            content_type: "a/b".into(),
            sha1: "none".into(),
            length: 10,
            info: Default::default(),
            timestamp: 0,
            seq,
            large: false,
            content: blobs.iter().map(|b| seg(*b)).collect(),
            protection: Default::default(),
            replication_status: None,
        }
    }

    fn part(n: u32, blob: u64) -> Part {
        Part {
            number: n,
            length: 10,
            sha1: "x".into(),
            timestamp: 0,
            content: vec![seg(blob)],
        }
    }

    #[test]
    fn blob_references_are_counted_not_scanned() {
        let mut st = State::default();
        st.insert_file(version("f1", 1, &[1])).expect("insert");
        st.insert_file(version("copy", 2, &[1])).expect("insert"); // a copy shares the blob
        st.remove_file("f1");
        assert!(st.blob_in_use(1), "the copy still uses it");
        st.remove_file("copy");
        assert!(!st.blob_in_use(1));
        // Parts: a replaced part's blob is free, an unfinished file's parts go with it.
        st.insert_file(version("large", 3, &[])).expect("insert");
        assert!(st.put_part("large", part(1, 7)).expect("part").is_none());
        assert!(st.put_part("large", part(1, 8)).expect("part").is_some());
        assert!(!st.blob_in_use(7) && st.blob_in_use(8));
        st.remove_file("large");
        assert!(!st.blob_in_use(8));
        // Rebuilding after a load counts the same.
        st.insert_file(version("a", 4, &[2, 3])).expect("insert");
        st.insert_file(version("b", 5, &[3])).expect("insert");
        let before = st.blob_refs.clone();
        st.rebuild_index();
        assert_eq!(st.blob_refs, before);
        assert_eq!(st.blob_refs.get(&3), Some(&2));
    }
}
