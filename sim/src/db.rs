//! Keeping the state on disk (`--data-dir`) in SQLite (`b2-sim.sqlite`, the `rusqlite` crate
//! with its bundled SQLite, so nothing is installed by hand).
//!
//! One row per key, bucket, file version (or unfinished large file, or hide marker), part,
//! account token and download token, each row's value the record as JSON; file versions
//! also carry their bucket, name and sequence number in indexed columns. Blobs (the bytes)
//! stay files under `blobs/`, written before their row commits.
//!
//! What is written when: an upload or a part (`record`) is one row written in its own
//! transaction before the upload is acknowledged; every other change (`snapshot`) writes, in
//! one transaction, the file versions the handlers marked changed ([`State::dirty`]) with their
//! parts, and the keys, buckets and tokens that differ from what the database holds (compared
//! with a cache of their last written JSON). So an upload, a delete or a hide costs the same
//! whatever is stored. The database runs in WAL mode with `synchronous=NORMAL`: a committed
//! row survives the process being killed at any point (not necessarily a power cut).
//!
//! A data directory written by an older b2-sim (`state.json` and journals) is imported on
//! first start and `state.json` renamed to `state.json.imported`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::filesdb::FilesDb;
use crate::journal::{legacy_load, Change};
use crate::state::{FileVersion, Part, State};

/// File name of the database inside the data directory.
pub(crate) const DB_FILE: &str = "b2-sim.sqlite";

/// Tables of small records, kept in sync by comparing with the last written JSON.
const SMALL_TABLES: [&str; 4] = ["keys", "buckets", "tokens", "download_tokens"];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS download_tokens (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, bucket_id TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL,
    json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_name ON files (bucket_id, name, seq);
CREATE TABLE IF NOT EXISTS parts (
    file_id TEXT NOT NULL, number INTEGER NOT NULL, json TEXT NOT NULL,
    PRIMARY KEY (file_id, number));
";

fn db_err(e: rusqlite::Error) -> io::Error {
    io::Error::other(format!("database: {e}"))
}

fn to_json<T: Serialize>(v: &T) -> io::Result<String> {
    serde_json::to_string(v).map_err(io::Error::other)
}

fn from_json<T: DeserializeOwned>(s: &str) -> io::Result<T> {
    serde_json::from_str(s).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The on-disk state of a simulator with a data directory (nothing without one).
#[derive(Debug)]
pub(crate) struct Persistence {
    dir: Option<PathBuf>,
    db: Mutex<Option<Db>>,
}

#[derive(Debug)]
struct Db {
    conn: Connection,
    /// Per small table: id -> the JSON last written.
    written: HashMap<&'static str, HashMap<String, String>>,
    /// The counters last written (`seq`, `primary_key`).
    meta_written: Option<(u64, String)>,
}

/// Opens (creating if needed, owner-only) the database under `dir`.
fn open(dir: &Path) -> io::Result<Connection> {
    crate::store::create_private_dir(dir)?;
    let path = dir.join(DB_FILE);
    // SQLite creates its -wal and -shm files with the database file's mode.
    drop(
        crate::store::private_options()
            .write(true)
            .create(true)
            .open(&path)?,
    );
    let conn = Connection::open(&path).map_err(db_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_err)?;
    conn.execute_batch(SCHEMA).map_err(db_err)?;
    Ok(conn)
}

fn put_file(conn: &Connection, f: &FileVersion) -> io::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO files (id, bucket_id, name, seq, json) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![f.id, f.bucket_id, f.name, f.seq as i64, to_json(f)?],
    )
    .map_err(db_err)?;
    Ok(())
}

fn put_part(conn: &Connection, file_id: &str, p: &Part) -> io::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO parts (file_id, number, json) VALUES (?1, ?2, ?3)",
        params![file_id, p.number, to_json(p)?],
    )
    .map_err(db_err)?;
    Ok(())
}

fn put_meta(conn: &Connection, k: &str, v: &str) -> io::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (k, v) VALUES (?1, ?2)",
        params![k, v],
    )
    .map_err(db_err)?;
    Ok(())
}

/// The small tables of a state, as id -> JSON.
fn small_rows(st: &State, table: &str) -> io::Result<HashMap<String, String>> {
    fn rows<V: Serialize>(
        m: impl IntoIterator<Item = (impl ToString, V)>,
    ) -> io::Result<HashMap<String, String>> {
        m.into_iter()
            .map(|(k, v)| Ok((k.to_string(), to_json(&v)?)))
            .collect()
    }
    match table {
        "keys" => rows(st.keys.iter()),
        "buckets" => rows(st.buckets.iter()),
        "tokens" => rows(st.tokens.iter()),
        "download_tokens" => rows(st.download_tokens.iter()),
        _ => Ok(HashMap::new()),
    }
}

impl Persistence {
    /// Persistence under `dir`, or none. Nothing is opened before [`Persistence::load`].
    pub fn new(dir: Option<PathBuf>) -> Self {
        Persistence {
            dir,
            db: Mutex::new(None),
        }
    }

    /// True with a data directory.
    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// Opens the database and reads the state stored in it (or imports an older b2-sim's
    /// `state.json`); `None` without a data directory. File versions and parts are not
    /// read: they stay in the database ([`State::db`]), which every lookup and listing
    /// queries.
    pub fn load(&self) -> io::Result<Option<State>> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let conn = open(dir)?;
        let files = FilesDb::open(&dir.join(DB_FILE))?;
        let mut db = Db {
            conn,
            written: HashMap::new(),
            meta_written: None,
        };
        let stored: Option<String> = db
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'primary_key'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_err)?;
        let mut st = if stored.is_some() {
            read_state(&mut db)?
        } else if let Some(mut st) = legacy_load(dir)? {
            // Import: every file version and part goes into the database's tables.
            let mut seq = st.seq;
            for f in st.files.values() {
                seq = seq.max(f.seq);
                files.insert_file(f, seq)?;
            }
            for (id, parts) in &st.parts {
                for p in parts.values() {
                    files.put_part(id, p)?;
                }
            }
            st.seq = seq;
            st.files.clear();
            st.parts.clear();
            st.index.clear();
            st.blob_refs.clear();
            write_changes(&mut db, &mut st)?;
            let _ = std::fs::rename(dir.join("state.json"), dir.join("state.json.imported"));
            crate::journal::remove_journals(dir);
            st
        } else {
            State::default()
        };
        st.seq = st.seq.max(files.max_seq()?);
        // Keys live in the database only, like file versions: give the rows their indexed
        // account column and forget the copies just read (or imported).
        files.index_keys()?;
        st.keys.clear();
        db.written.remove("keys");
        st.track_dirty = true;
        st.db = Some(files);
        *self.db.lock().unwrap_or_else(|e| e.into_inner()) = Some(db);
        Ok(Some(st))
    }

    /// Writes every change since the last call (see the module docs), in one transaction.
    pub fn snapshot(&self, st: &mut State) -> io::Result<()> {
        let mut g = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let Some(db) = g.as_mut() else {
            return Ok(());
        };
        write_changes(db, st)
    }

    /// Records an upload or a part already made to `st`: one row, committed before return.
    pub fn record(&self, st: &mut State, change: &Change) -> io::Result<()> {
        let mut g = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let Some(db) = g.as_mut() else {
            return Ok(());
        };
        // With the file tables as the working copy the row is already committed.
        if st.db.is_some() {
            return Ok(());
        }
        let tx = db.conn.transaction().map_err(db_err)?;
        match change {
            Change::File(f) => {
                put_file(&tx, f)?;
                put_meta(&tx, "seq", &st.seq.to_string())?;
            }
            Change::Part { file_id, part } => put_part(&tx, file_id, part)?,
        }
        tx.commit().map_err(db_err)?;
        if let Change::File(f) = change {
            st.dirty.remove(&f.id);
        }
        Ok(())
    }
}

/// Writes the marked file versions (with their parts), the small tables that changed and the
/// counters, in one transaction; clears the marks.
fn write_changes(db: &mut Db, st: &mut State) -> io::Result<()> {
    let mut new_written = Vec::new();
    let tx = db.conn.transaction().map_err(db_err)?;
    // Nothing changed (most calls with the file tables in the database): no commit at all.
    let mut wrote = !st.dirty.is_empty();
    for id in &st.dirty {
        tx.execute("DELETE FROM parts WHERE file_id = ?1", params![id])
            .map_err(db_err)?;
        match st.files.get(id) {
            Some(f) => {
                put_file(&tx, f)?;
                if let Some(parts) = st.parts.get(id) {
                    for p in parts.values() {
                        put_part(&tx, id, p)?;
                    }
                }
            }
            None => {
                tx.execute("DELETE FROM files WHERE id = ?1", params![id])
                    .map_err(db_err)?;
            }
        }
    }
    for table in SMALL_TABLES {
        if table == "keys" && st.db.is_some() {
            // Written by `FilesDb` as they change, in the call's transaction.
            continue;
        }
        let now = small_rows(st, table)?;
        let before = db.written.get(table);
        for (id, json) in &now {
            if before.and_then(|b| b.get(id)) != Some(json) {
                wrote = true;
                tx.execute(
                    &format!("INSERT OR REPLACE INTO {table} (id, json) VALUES (?1, ?2)"),
                    params![id, json],
                )
                .map_err(db_err)?;
            }
        }
        if let Some(before) = before {
            for id in before.keys().filter(|id| !now.contains_key(*id)) {
                wrote = true;
                tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), params![id])
                    .map_err(db_err)?;
            }
        }
        new_written.push((table, now));
    }
    let meta = (st.seq, st.primary_key.clone().unwrap_or_default());
    if db.meta_written.as_ref() != Some(&meta) {
        wrote = true;
        put_meta(&tx, "seq", &meta.0.to_string())?;
        put_meta(&tx, "primary_key", &meta.1)?;
    }
    if wrote {
        tx.commit().map_err(db_err)?;
    }
    st.dirty.clear();
    db.written.extend(new_written);
    db.meta_written = Some(meta);
    Ok(())
}

fn read_table<T: DeserializeOwned>(conn: &Connection, table: &str) -> io::Result<Vec<(String, T)>> {
    let mut q = conn
        .prepare(&format!("SELECT id, json FROM {table}"))
        .map_err(db_err)?;
    let rows = q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row.map_err(db_err)?;
        out.push((id, from_json(&json)?));
    }
    Ok(out)
}

/// Reads everything into a state (and the small tables into the write cache).
fn read_state(db: &mut Db) -> io::Result<State> {
    let conn = &db.conn;
    let mut st = State::default();
    let meta: HashMap<String, String> = {
        let mut q = conn.prepare("SELECT k, v FROM meta").map_err(db_err)?;
        let rows = q
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)?
    };
    st.primary_key = meta.get("primary_key").cloned().filter(|k| !k.is_empty());
    st.seq = meta.get("seq").and_then(|s| s.parse().ok()).unwrap_or(0);
    // Keys are not read: they stay in the database (`FilesDb`), queried by id and account.
    st.buckets = read_table(conn, "buckets")?.into_iter().collect();
    st.tokens = read_table(conn, "tokens")?.into_iter().collect();
    st.download_tokens = read_table(conn, "download_tokens")?.into_iter().collect();
    for table in SMALL_TABLES {
        let rows = small_rows(&st, table)?;
        db.written.insert(table, rows);
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Action, Key};

    fn file(id: &str, seq: u64) -> FileVersion {
        FileVersion {
            id: id.into(),
            bucket_id: "b".into(),
            account_id: "a".into(),
            name: format!("n{seq}"),
            action: Action::Upload,
            content_type: "a/b".into(),
            sha1: "none".into(),
            length: 0,
            info: Default::default(),
            timestamp: 1,
            seq,
            large: false,
            content: Vec::new(),
            protection: Default::default(),
            replication_status: None,
        }
    }

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("b2-sim-db-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// The ids of a bucket's versions, in listing order.
    fn ids(st: &State) -> Vec<String> {
        st.scan("b", (String::new(), 0, String::new()), false)
            .map(|f| f.id.clone())
            .collect()
    }

    fn key(id: &str, account: &str, master: bool) -> Key {
        Key {
            id: id.into(),
            secret: "s".into(),
            account_id: account.into(),
            name: "n".into(),
            capabilities: vec!["listFiles".into()],
            bucket_ids: None,
            name_prefix: None,
            expires_ms: None,
            master,
        }
    }

    /// Keys in the database answer lookups and account listings (in pages crossing the
    /// 256-row batches) exactly as in memory, survive a restart and are never loaded.
    #[test]
    fn keys_live_in_the_database_and_list_like_memory() {
        let dir = temp("keys");
        let p = Persistence::new(Some(dir.clone()));
        let mut db_st = p.load().expect("load").expect("a state");
        let mut mem = State::default();
        for i in 0..700 {
            let (id, account) = (format!("k{i:04}"), if i % 3 == 0 { "b" } else { "a" });
            for st in [&mut db_st, &mut mem] {
                st.insert_key(key(&id, account, i == 1)).expect("insert");
            }
        }
        for st in [&mut db_st, &mut mem] {
            assert_eq!(
                st.remove_key("k0002").expect("remove").map(|k| k.id),
                Some("k0002".into())
            );
            assert!(st.remove_key("k0002").expect("remove").is_none());
        }
        p.snapshot(&mut db_st).expect("snapshot");
        drop(db_st);
        drop(p);
        let p = Persistence::new(Some(dir.clone()));
        let db_st = p.load().expect("load").expect("stored");
        assert!(db_st.keys.is_empty());
        // Every page of account a, skipping its master key and every tenth key.
        let keep = |k: &Key| !k.master && !k.id.ends_with('0');
        for st in [&db_st, &mem] {
            let mut all = Vec::new();
            let mut start = String::new();
            loop {
                let (page, next) = st.account_keys("a", &start, 97, keep).expect("list");
                assert!(page.len() <= 97);
                all.extend(page.into_iter().map(|k| k.id));
                match next {
                    Some(n) => start = n,
                    None => break,
                }
            }
            let want: Vec<String> = (0..700)
                .filter(|i| i % 3 != 0 && *i != 1 && *i != 2 && i % 10 != 0)
                .map(|i| format!("k{i:04}"))
                .collect();
            assert_eq!(all, want);
            let (page, next) = st.account_keys("b", "k0300", 5, |_| true).expect("list");
            let ids: Vec<&str> = page.iter().map(|k| k.id.as_str()).collect();
            assert_eq!(ids, ["k0300", "k0303", "k0306", "k0309", "k0312"]);
            assert_eq!(next.as_deref(), Some("k0315"));
            assert_eq!(
                st.key("k0004").map(|k| k.account_id.clone()).as_deref(),
                Some("a")
            );
            assert!(st.key("k0002").is_none());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_live_in_the_database_and_load_back() {
        let dir = temp("rows");
        let p = Persistence::new(Some(dir.clone()));
        let mut st = p.load().expect("load").expect("a state");
        assert!(st.db.is_some() && st.primary_key.is_none());
        st.primary_key = Some("k1".into());
        st.insert_key(key("k1", "a", true)).expect("key");
        st.seq = 2;
        st.insert_file(file("f1", 1)).expect("insert");
        st.insert_file(file("f2", 2)).expect("insert");
        p.snapshot(&mut st).expect("snapshot");
        // Nothing of the files is held in memory.
        assert!(st.files.is_empty() && st.index.is_empty() && st.blob_refs.is_empty());
        assert_eq!(ids(&st), ["f1", "f2"]);
        st.seq = 3;
        st.insert_file(file("f3", 3)).expect("insert");
        assert!(st.remove_file("f1").is_some());
        assert!(st.file("f1").is_none());
        assert_eq!(st.file("f3").map(|f| f.seq), Some(3));
        p.snapshot(&mut st).expect("snapshot");
        drop(st);
        drop(p);

        let p = Persistence::new(Some(dir.clone()));
        let back = p.load().expect("load").expect("stored");
        assert_eq!(ids(&back), ["f2", "f3"]);
        assert_eq!(back.seq, 3);
        assert_eq!(back.primary_key.as_deref(), Some("k1"));
        // The key is in the database, not in memory.
        assert!(back.keys.is_empty());
        assert_eq!(
            back.key("k1").map(|k| k.account_id.clone()).as_deref(),
            Some("a")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_older_state_json_is_imported_once() {
        let dir = temp("legacy");
        std::fs::create_dir_all(&dir).expect("dir");
        let mut old = State {
            primary_key: Some("k1".into()),
            journal_gen: 4,
            ..State::default()
        };
        old.insert_file(file("f1", 1)).expect("insert");
        std::fs::write(
            dir.join("state.json"),
            serde_json::to_vec(&old).expect("json"),
        )
        .expect("write");
        // A journal line after the snapshot, and a torn one.
        let line = serde_json::to_string(&Change::File(Box::new(file("f2", 2)))).expect("json");
        std::fs::write(
            dir.join("journal-4.jsonl"),
            format!("{line}\n{{\"File\":{{\"id\""),
        )
        .expect("write");
        let p = Persistence::new(Some(dir.clone()));
        let st = p.load().expect("load").expect("imported");
        assert_eq!(ids(&st), ["f1", "f2"]);
        assert!(!dir.join("state.json").exists());
        assert!(dir.join("state.json.imported").exists());
        assert!(!dir.join("journal-4.jsonl").exists());
        drop(p);
        let p = Persistence::new(Some(dir.clone()));
        let st = p.load().expect("load").expect("from the database");
        assert_eq!(ids(&st), ["f1", "f2"]);
        assert_eq!(st.seq, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
