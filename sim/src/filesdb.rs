//! File versions, parts and blob reference counts kept in SQLite only (with `--data-dir`):
//! the working copy, not a copy of memory. Every lookup, listing and delete is an indexed
//! query, so memory does not grow with the number of files and a delete costs the same at
//! 1,000 and 100,000 files.
//!
//! Tables (besides those of [`crate::db`]): `files` (one row per version, with its bucket,
//! name, negated sequence number and whether it is an unfinished large file in indexed
//! columns), `parts`, and `blob_refs` (how many versions and parts use each blob). Each
//! change is one SQLite transaction (or a savepoint inside the transaction a JSON call
//! holds), committed before the call answers.
//!
//! Application keys are rows of the `keys` table (created by [`crate::db`]) with their
//! account in an indexed column: a key lookup is one query by id, `b2_list_keys` one
//! range query on `(account_id, id)`; no key is held in memory.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::state::{Action, FileVersion, IndexKey, Key, Part};
use crate::store::Segment;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, bucket_id TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL,
    json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parts (
    file_id TEXT NOT NULL, number INTEGER NOT NULL, json TEXT NOT NULL,
    PRIMARY KEY (file_id, number));
CREATE TABLE IF NOT EXISTS blob_refs (blob INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, json TEXT NOT NULL);
";

/// Columns and indexes added to `files` by this version (older databases get them once).
const UPGRADE: &str = "
ALTER TABLE files ADD COLUMN nseq INTEGER;
ALTER TABLE files ADD COLUMN start INTEGER NOT NULL DEFAULT 0;
UPDATE files SET nseq = -seq, start = (json LIKE '%\"action\":\"Start\"%');
";

const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS files_listing ON files (bucket_id, name, nseq);
CREATE INDEX IF NOT EXISTS files_unfinished ON files (bucket_id, start, name, nseq);
";

/// Rows read at a time by a listing.
const BATCH: usize = 256;

fn db_err(e: rusqlite::Error) -> io::Error {
    io::Error::other(format!("database: {e}"))
}

fn to_json<T: serde::Serialize>(v: &T) -> io::Result<String> {
    serde_json::to_string(v).map_err(io::Error::other)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> io::Result<T> {
    serde_json::from_str(s).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The database's file tables.
#[derive(Debug)]
pub(crate) struct FilesDb {
    conn: Connection,
}

/// Logs a database failure that a caller without an error path has to ignore.
fn warn(e: &io::Error) {
    eprintln!("b2-sim: {e}");
}

impl FilesDb {
    /// Opens the file tables of the database at `path` (already created by [`crate::db`]).
    pub fn open(path: &Path) -> io::Result<Self> {
        let conn = Connection::open(path).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(db_err)?;
        conn.execute_batch(SCHEMA).map_err(db_err)?;
        let has_nseq: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('files') WHERE name = 'nseq'")
            .and_then(|mut q| q.exists([]))
            .map_err(db_err)?;
        if !has_nseq {
            conn.execute_batch(&format!("BEGIN; {UPGRADE} COMMIT;"))
                .map_err(db_err)?;
        }
        conn.execute_batch(INDEXES).map_err(db_err)?;
        let has_account: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('keys') WHERE name = 'account_id'")
            .and_then(|mut q| q.exists([]))
            .map_err(db_err)?;
        if !has_account {
            conn.execute_batch("ALTER TABLE keys ADD COLUMN account_id TEXT")
                .map_err(db_err)?;
        }
        conn.execute_batch("CREATE INDEX IF NOT EXISTS keys_by_account ON keys (account_id, id)")
            .map_err(db_err)?;
        let db = FilesDb { conn };
        let counted: Option<String> = db
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'blob_refs'", [], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        if counted.is_none() {
            db.recount_blobs()?;
        }
        Ok(db)
    }

    /// Counts every blob's users from scratch (once, for a database from before the
    /// `blob_refs` table).
    fn recount_blobs(&self) -> io::Result<()> {
        let mut counts: BTreeMap<u64, i64> = BTreeMap::new();
        for sql in ["SELECT json FROM files", "SELECT json FROM parts"] {
            let mut q = self.conn.prepare(sql).map_err(db_err)?;
            let rows = q.query_map([], |r| r.get::<_, String>(0)).map_err(db_err)?;
            for row in rows {
                let v: serde_json::Value = from_json(&row.map_err(db_err)?)?;
                let content: Vec<Segment> =
                    serde_json::from_value(v["content"].clone()).unwrap_or_default();
                for s in content {
                    *counts.entry(s.blob.id).or_default() += 1;
                }
            }
        }
        self.savepoint(|c| {
            c.execute("DELETE FROM blob_refs", []).map_err(db_err)?;
            for (blob, n) in &counts {
                c.execute(
                    "INSERT INTO blob_refs (blob, n) VALUES (?1, ?2)",
                    params![*blob as i64, n],
                )
                .map_err(db_err)?;
            }
            c.execute(
                "INSERT OR REPLACE INTO meta (k, v) VALUES ('blob_refs', '1')",
                [],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    /// Runs `f` in a savepoint (its own transaction when none is open): all or nothing.
    fn savepoint<T>(&self, f: impl FnOnce(&Connection) -> io::Result<T>) -> io::Result<T> {
        self.conn
            .execute_batch("SAVEPOINT change")
            .map_err(db_err)?;
        match f(&self.conn) {
            Ok(v) => {
                self.conn.execute_batch("RELEASE change").map_err(db_err)?;
                Ok(v)
            }
            Err(e) => {
                let _ = self
                    .conn
                    .execute_batch("ROLLBACK TO change; RELEASE change");
                Err(e)
            }
        }
    }

    /// Fills the indexed `account_id` column of keys written without it (by an older b2-sim,
    /// or imported from a `state.json`).
    pub fn index_keys(&self) -> io::Result<()> {
        let rows: Vec<(String, String)> = {
            let mut q = self
                .conn
                .prepare("SELECT id, json FROM keys WHERE account_id IS NULL")
                .map_err(db_err)?;
            let rows = q
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)?
        };
        if rows.is_empty() {
            return Ok(());
        }
        self.savepoint(|c| {
            for (id, json) in &rows {
                let k: Key = from_json(json)?;
                c.execute(
                    "UPDATE keys SET account_id = ?1 WHERE id = ?2",
                    params![k.account_id, id],
                )
                .map_err(db_err)?;
            }
            Ok(())
        })
    }

    /// An application key by id.
    pub fn key(&self, id: &str) -> io::Result<Option<Key>> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM keys WHERE id = ?1")
            .and_then(|mut q| q.query_row(params![id], |r| r.get(0)).optional())
            .map_err(db_err)?;
        json.map(|j| from_json(&j)).transpose()
    }

    /// Adds or replaces an application key.
    pub fn put_key(&self, k: &Key) -> io::Result<()> {
        let json = to_json(k)?;
        self.savepoint(|c| {
            c.prepare_cached(
                "INSERT OR REPLACE INTO keys (id, account_id, json) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut q| q.execute(params![k.id, k.account_id, json]))
            .map_err(db_err)?;
            Ok(())
        })
    }

    /// Removes an application key; returns it.
    pub fn remove_key(&self, id: &str) -> io::Result<Option<Key>> {
        self.savepoint(|c| {
            let json: Option<String> = c
                .prepare_cached("SELECT json FROM keys WHERE id = ?1")
                .and_then(|mut q| q.query_row(params![id], |r| r.get(0)).optional())
                .map_err(db_err)?;
            let Some(json) = json else {
                return Ok(None);
            };
            c.prepare_cached("DELETE FROM keys WHERE id = ?1")
                .and_then(|mut q| q.execute(params![id]))
                .map_err(db_err)?;
            Ok(Some(from_json(&json)?))
        })
    }

    /// Up to `limit` keys of `account_id` with ids from `start` on (after it, unless
    /// `inclusive`), by id: a range of the `(account_id, id)` index.
    pub fn account_keys(
        &self,
        account_id: &str,
        start: &str,
        inclusive: bool,
        limit: usize,
    ) -> io::Result<Vec<Key>> {
        let mut q = self
            .conn
            .prepare_cached(if inclusive {
                "SELECT json FROM keys WHERE account_id = ?1 AND id >= ?2 ORDER BY id LIMIT ?3"
            } else {
                "SELECT json FROM keys WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            })
            .map_err(db_err)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = q
            .query_map(params![account_id, start, limit], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(from_json(&row.map_err(db_err)?)?);
        }
        Ok(out)
    }

    /// Opens a transaction that the changes of one JSON call join ([`FilesDb::commit`]).
    pub fn begin(&self) {
        if self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("BEGIN").map_err(db_err) {
                warn(&e);
            }
        }
    }

    /// Commits the transaction of [`FilesDb::begin`], if one is open.
    pub fn commit(&self) -> io::Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT").map_err(db_err)?;
        }
        Ok(())
    }

    fn refs(c: &Connection, content: &[Segment], delta: i64) -> io::Result<()> {
        for s in content {
            let blob = s.blob.id as i64;
            c.prepare_cached(
                "INSERT INTO blob_refs (blob, n) VALUES (?1, ?2)
                 ON CONFLICT (blob) DO UPDATE SET n = n + ?2",
            )
            .and_then(|mut q| q.execute(params![blob, delta]))
            .map_err(db_err)?;
            if delta < 0 {
                // By key: the row of this blob only (never a scan of the table).
                c.prepare_cached("DELETE FROM blob_refs WHERE blob = ?1 AND n <= 0")
                    .and_then(|mut q| q.execute(params![blob]))
                    .map_err(db_err)?;
            }
        }
        Ok(())
    }

    fn put_file(c: &Connection, f: &FileVersion) -> io::Result<()> {
        let json = to_json(f)?;
        c.prepare_cached(
            "INSERT OR REPLACE INTO files (id, bucket_id, name, seq, nseq, start, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut q| {
            q.execute(params![
                f.id,
                f.bucket_id,
                f.name,
                f.seq as i64,
                -(f.seq as i64),
                f.action == Action::Start,
                json
            ])
        })
        .map_err(db_err)?;
        Ok(())
    }

    /// Rewrites a file version's row (same content, so no blob counts change).
    pub fn update_file(&self, f: &FileVersion) -> io::Result<()> {
        self.savepoint(|c| Self::put_file(c, f))
    }

    /// Adds a file version (and notes the sequence number, so ids are never reused).
    pub fn insert_file(&self, f: &FileVersion, seq: u64) -> io::Result<()> {
        self.savepoint(|c| {
            Self::put_file(c, f)?;
            Self::refs(c, &f.content, 1)?;
            c.prepare_cached("INSERT OR REPLACE INTO meta (k, v) VALUES ('seq', ?1)")
                .and_then(|mut q| q.execute(params![seq.to_string()]))
                .map_err(db_err)?;
            Ok(())
        })
    }

    /// A file version by id.
    pub fn file(&self, id: &str) -> io::Result<Option<FileVersion>> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM files WHERE id = ?1")
            .and_then(|mut q| q.query_row(params![id], |r| r.get(0)).optional())
            .map_err(db_err)?;
        json.map(|j| from_json(&j)).transpose()
    }

    /// The newest version (upload or hide marker, not an unfinished large file) of a name.
    pub fn latest(&self, bucket_id: &str, name: &str) -> io::Result<Option<FileVersion>> {
        let json: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT json FROM files WHERE bucket_id = ?1 AND name = ?2 AND start = 0
                 ORDER BY nseq LIMIT 1",
            )
            .and_then(|mut q| {
                q.query_row(params![bucket_id, name], |r| r.get(0))
                    .optional()
            })
            .map_err(db_err)?;
        json.map(|j| from_json(&j)).transpose()
    }

    /// Removes a file version and its parts; returns it.
    pub fn remove_file(&self, id: &str) -> io::Result<Option<FileVersion>> {
        let Some(f) = self.file(id)? else {
            return Ok(None);
        };
        let parts = self.parts(id)?;
        self.savepoint(|c| {
            c.prepare_cached("DELETE FROM files WHERE id = ?1")
                .and_then(|mut q| q.execute(params![id]))
                .map_err(db_err)?;
            c.prepare_cached("DELETE FROM parts WHERE file_id = ?1")
                .and_then(|mut q| q.execute(params![id]))
                .map_err(db_err)?;
            Self::refs(c, &f.content, -1)?;
            for p in parts.values() {
                Self::refs(c, &p.content, -1)?;
            }
            Ok(())
        })?;
        Ok(Some(f))
    }

    /// The parts of an unfinished large file.
    pub fn parts(&self, file_id: &str) -> io::Result<BTreeMap<u32, Part>> {
        let mut q = self
            .conn
            .prepare_cached("SELECT json FROM parts WHERE file_id = ?1 ORDER BY number")
            .map_err(db_err)?;
        let rows = q
            .query_map(params![file_id], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        let mut out = BTreeMap::new();
        for row in rows {
            let p: Part = from_json(&row.map_err(db_err)?)?;
            out.insert(p.number, p);
        }
        Ok(out)
    }

    /// Stores a part; returns the one it replaces.
    pub fn put_part(&self, file_id: &str, p: &Part) -> io::Result<Option<Part>> {
        let old: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM parts WHERE file_id = ?1 AND number = ?2")
            .and_then(|mut q| {
                q.query_row(params![file_id, p.number], |r| r.get(0))
                    .optional()
            })
            .map_err(db_err)?;
        let old: Option<Part> = old.map(|j| from_json(&j)).transpose()?;
        self.savepoint(|c| {
            c.execute(
                "INSERT OR REPLACE INTO parts (file_id, number, json) VALUES (?1, ?2, ?3)",
                params![file_id, p.number, to_json(p)?],
            )
            .map_err(db_err)?;
            Self::refs(c, &p.content, 1)?;
            if let Some(old) = &old {
                Self::refs(c, &old.content, -1)?;
            }
            Ok(())
        })?;
        Ok(old)
    }

    /// Replaces an unfinished large file by its finished version, whose content is its
    /// parts' (so no blob changes users); the parts go.
    pub fn finish_large(&self, f: &FileVersion) -> io::Result<()> {
        self.savepoint(|c| {
            c.execute("DELETE FROM parts WHERE file_id = ?1", params![f.id])
                .map_err(db_err)?;
            Self::put_file(c, f)
        })
    }

    /// True if any version or part uses the blob.
    pub fn blob_in_use(&self, blob: u64) -> io::Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM blob_refs WHERE blob = ?1 AND n > 0")
            .and_then(|mut q| q.exists(params![blob as i64]))
            .map_err(db_err)
    }

    /// Every blob in use (read once at start, to delete blob files nothing uses).
    pub fn referenced_blobs(&self) -> io::Result<HashSet<u64>> {
        let mut q = self
            .conn
            .prepare("SELECT blob FROM blob_refs WHERE n > 0")
            .map_err(db_err)?;
        let rows = q.query_map([], |r| r.get::<_, i64>(0)).map_err(db_err)?;
        let mut out = HashSet::new();
        for r in rows {
            out.insert(r.map_err(db_err)? as u64);
        }
        Ok(out)
    }

    /// The highest sequence number stored.
    pub fn max_seq(&self) -> io::Result<u64> {
        let a: Option<i64> = self
            .conn
            .query_row("SELECT MAX(seq) FROM files", [], |r| r.get(0))
            .map_err(db_err)?;
        let b: Option<String> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'seq'", [], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        let b = b.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        Ok((a.unwrap_or(0).max(0) as u64).max(b))
    }

    /// True if the bucket holds any version or unfinished large file.
    pub fn bucket_has_files(&self, bucket_id: &str) -> io::Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM files WHERE bucket_id = ?1 LIMIT 1")
            .and_then(|mut q| q.exists(params![bucket_id]))
            .map_err(db_err)
    }

    /// How many large files are unfinished.
    pub fn unfinished_count(&self) -> io::Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM files WHERE start = 1", [], |r| {
                r.get(0)
            })
            .map_err(db_err)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Up to [`BATCH`] versions of a bucket from `from` on, in listing order (name, then
    /// newest first); only unfinished large files with `unfinished`.
    fn batch(
        &self,
        bucket_id: &str,
        from: &IndexKey,
        inclusive: bool,
        unfinished: bool,
    ) -> io::Result<Vec<FileVersion>> {
        // IndexKey's middle is u64::MAX - seq; the table orders by -seq: the same order.
        let nseq = -(i64::try_from(u64::MAX - from.1).unwrap_or(i64::MAX));
        let nseq = if from.1 == 0 { i64::MIN } else { nseq };
        let cmp = if inclusive { ">=" } else { ">" };
        let sql = if unfinished {
            format!(
                "SELECT json FROM files WHERE bucket_id = ?1 AND start = 1
                 AND (name, nseq) {cmp} (?2, ?3) ORDER BY name, nseq LIMIT ?4"
            )
        } else {
            format!(
                "SELECT json FROM files WHERE bucket_id = ?1
                 AND (name, nseq) {cmp} (?2, ?3) ORDER BY name, nseq LIMIT ?4"
            )
        };
        let mut q = self.conn.prepare_cached(&sql).map_err(db_err)?;
        let rows = q
            .query_map(params![bucket_id, from.0, nseq, BATCH as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(BATCH);
        for row in rows {
            out.push(from_json(&row.map_err(db_err)?)?);
        }
        Ok(out)
    }

    /// The versions of a bucket from `from` on, in listing order, read a batch at a time.
    pub fn scan<'a>(&'a self, bucket_id: &str, from: IndexKey, unfinished: bool) -> DbScan<'a> {
        DbScan {
            db: self,
            bucket_id: bucket_id.to_string(),
            next_from: from,
            inclusive: true,
            buf: VecDeque::new(),
            done: false,
            unfinished,
        }
    }
}

/// A listing read from the database a batch at a time.
pub(crate) struct DbScan<'a> {
    db: &'a FilesDb,
    bucket_id: String,
    next_from: IndexKey,
    inclusive: bool,
    buf: VecDeque<FileVersion>,
    done: bool,
    unfinished: bool,
}

impl<'a> Iterator for DbScan<'a> {
    type Item = Cow<'a, FileVersion>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() && !self.done {
            match self.db.batch(
                &self.bucket_id,
                &self.next_from,
                self.inclusive,
                self.unfinished,
            ) {
                Ok(rows) => {
                    self.done = rows.len() < BATCH;
                    if let Some(last) = rows.last() {
                        self.next_from = crate::state::State::index_key(last);
                        self.inclusive = false;
                    }
                    self.buf.extend(rows);
                }
                Err(e) => {
                    warn(&e);
                    self.done = true;
                }
            }
        }
        self.buf.pop_front().map(Cow::Owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blob;

    fn version(id: &str, seq: u64, action: Action, blob: u64) -> FileVersion {
        FileVersion {
            id: id.into(),
            bucket_id: "b".into(),
            account_id: "a".into(),
            name: format!("n{}", seq % 2),
            action,
            content_type: "a/b".into(),
            sha1: "none".into(),
            length: 10,
            info: Default::default(),
            timestamp: 1,
            seq,
            large: false,
            content: vec![Segment {
                blob: Blob {
                    id: blob,
                    len: 10,
                    mem: None,
                },
                offset: 0,
                len: 10,
            }],
            protection: Default::default(),
            replication_status: None,
        }
    }

    #[test]
    fn a_database_of_the_previous_layout_is_upgraded_once() {
        let dir = std::env::temp_dir().join(format!("b2-sim-upgrade-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("old.sqlite");
        {
            // The layout before the indexed columns and blob counts.
            let c = Connection::open(&path).expect("open");
            c.execute_batch(
                "CREATE TABLE files (id TEXT PRIMARY KEY, bucket_id TEXT NOT NULL,
                   name TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL);
                 CREATE INDEX files_by_name ON files (bucket_id, name, seq);
                 CREATE TABLE parts (file_id TEXT NOT NULL, number INTEGER NOT NULL,
                   json TEXT NOT NULL, PRIMARY KEY (file_id, number));",
            )
            .expect("schema");
            for f in [
                version("up1", 1, Action::Upload, 7),
                version("up2", 2, Action::Upload, 7),
                version("big", 3, Action::Start, 0),
            ] {
                c.execute(
                    "INSERT INTO files (id, bucket_id, name, seq, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![f.id, f.bucket_id, f.name, f.seq as i64, to_json(&f).expect("json")],
                )
                .expect("insert");
            }
        }
        let db = FilesDb::open(&path).expect("upgrade");
        assert_eq!(db.unfinished_count().expect("count"), 1);
        assert_eq!(db.max_seq().expect("seq"), 3);
        // Blob 7 has two users, blob 0 (the unfinished file's empty stand-in) one.
        assert!(db.blob_in_use(7).expect("refs"));
        db.remove_file("up1").expect("remove");
        assert!(db.blob_in_use(7).expect("refs"), "up2 still uses it");
        db.remove_file("up2").expect("remove");
        assert!(!db.blob_in_use(7).expect("refs"));
        // Listing order: name, then newest first; unfinished only on request.
        let all: Vec<String> = db
            .scan("b", (String::new(), 0, String::new()), false)
            .map(|f| f.id.clone())
            .collect();
        assert_eq!(all, ["big"]);
        drop(db);
        // Opening again changes nothing.
        let db = FilesDb::open(&path).expect("again");
        assert_eq!(db.unfinished_count().expect("count"), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn listings_page_through_batches_in_order() {
        let dir = std::env::temp_dir().join(format!("b2-sim-batches-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let db = FilesDb::open(&dir.join("db.sqlite")).expect("open");
        // 700 versions of two names (n0, n1): more than two batches.
        for seq in 1..=700u64 {
            let action = if seq % 7 == 0 {
                Action::Start
            } else {
                Action::Upload
            };
            db.insert_file(&version(&format!("f{seq:04}"), seq, action, seq), seq)
                .expect("insert");
        }
        let got: Vec<u64> = db
            .scan("b", (String::new(), 0, String::new()), false)
            .map(|f| f.seq)
            .collect();
        let mut want: Vec<u64> = (1..=700).filter(|s| s % 2 == 0).rev().collect();
        want.extend((1..=700).filter(|s| s % 2 == 1).rev());
        assert_eq!(got, want);
        // From the middle of a name's versions, and unfinished only.
        let from = crate::state::State::index_key(&version("f0500", 500, Action::Upload, 1));
        let tail: Vec<u64> = db.scan("b", from, false).take(3).map(|f| f.seq).collect();
        assert_eq!(tail, [500, 498, 496]);
        let starts = db
            .scan("b", (String::new(), 0, String::new()), true)
            .count();
        assert_eq!(starts, 100);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
