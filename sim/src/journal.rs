//! Keeping the state on disk (`--data-dir`): a snapshot (`state.json`) plus a journal of the
//! uploads made since (`journal-<generation>.jsonl`, one JSON line per new file version or
//! part). An upload appends one line instead of rewriting the whole state, so it costs the
//! same whatever is stored; every other change writes a new snapshot, which starts a new
//! journal. The journal is folded into a snapshot once it is as large as the snapshot, so
//! loading stays proportional to what is stored.
//!
//! Crash safety: the snapshot is replaced atomically and names the generation of the
//! journal that follows it; journals of other generations are ignored (and deleted) on load,
//! so a snapshot written just before a crash is never followed by stale lines. A torn last
//! line ends the replay.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::state::{FileVersion, Part, State};
use crate::store::write_atomic;

/// One journaled change.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Change {
    /// A new file version (a small upload).
    File(FileVersion),
    /// A part of an unfinished large file (replacing a part with the same number).
    Part {
        /// The large file.
        file_id: String,
        /// The part.
        part: Part,
    },
}

impl Change {
    /// Applies the change to a state (on replay; handlers make it themselves).
    fn apply(self, st: &mut State) {
        match self {
            Change::File(f) => {
                st.seq = st.seq.max(f.seq);
                st.insert_file(f);
            }
            Change::Part { file_id, part } => {
                st.parts
                    .entry(file_id)
                    .or_default()
                    .insert(part.number, part);
            }
        }
    }
}

/// Snapshots smaller than this are not worth folding a journal into sooner.
const MIN_FOLD: u64 = 1 << 20;

/// The on-disk state of a simulator with a data directory (nothing without one).
#[derive(Debug)]
pub(crate) struct Persistence {
    dir: Option<PathBuf>,
    journal: Mutex<Journal>,
}

#[derive(Debug, Default)]
struct Journal {
    /// Open for appending (opened on the first change after a snapshot).
    file: Option<File>,
    /// Bytes in the journal.
    bytes: u64,
    /// Bytes in the last snapshot.
    snapshot_bytes: u64,
}

fn journal_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("journal-{generation}.jsonl"))
}

impl Persistence {
    /// True with a data directory.
    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// Persistence under `dir`, or none.
    pub fn new(dir: Option<PathBuf>) -> Self {
        Persistence {
            dir,
            journal: Mutex::default(),
        }
    }

    /// The state stored under the directory, if any: the snapshot with its journal
    /// replayed. The caller then writes a fresh snapshot (see [`Persistence::snapshot`]).
    pub fn load(&self) -> io::Result<Option<State>> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let path = dir.join("state.json");
        if !path.exists() {
            return Ok(None);
        }
        let bytes = fs::read(&path)?;
        let mut st: State = serde_json::from_slice(&bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if let Ok(f) = File::open(journal_path(dir, st.journal_gen)) {
            for line in BufReader::new(f).lines() {
                let Ok(change) = serde_json::from_str::<Change>(&line?) else {
                    break; // a torn last line: what follows it was never acknowledged
                };
                change.apply(&mut st);
            }
        }
        Ok(Some(st))
    }

    /// Writes the whole state as a new snapshot and starts a new, empty journal.
    pub fn snapshot(&self, st: &mut State) -> io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let mut j = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        let old = st.journal_gen;
        st.journal_gen = old + 1;
        let bytes = serde_json::to_vec(&*st).map_err(io::Error::other)?;
        if let Err(e) = write_atomic(&dir.join("state.json"), &bytes) {
            st.journal_gen = old;
            return Err(e);
        }
        *j = Journal {
            file: None,
            bytes: 0,
            snapshot_bytes: bytes.len() as u64,
        };
        // Earlier journals are folded into the snapshot (one may be left from a crash).
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with("journal-") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }

    /// Records a change already made to `st`: one journal line, or a new snapshot when the
    /// journal has grown as large as the last one.
    pub fn record(&self, st: &mut State, change: &Change) -> io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let fold = {
            let j = self.journal.lock().unwrap_or_else(|e| e.into_inner());
            j.bytes >= j.snapshot_bytes.max(MIN_FOLD)
        };
        if fold {
            return self.snapshot(st);
        }
        let mut line = serde_json::to_vec(change).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut j = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        if j.file.is_none() {
            let f = crate::store::private_options()
                .create(true)
                .append(true)
                .open(journal_path(dir, st.journal_gen))?;
            j.file = Some(f);
        }
        if let Some(f) = j.file.as_mut() {
            f.write_all(&line)?;
        }
        j.bytes += line.len() as u64;
        Ok(())
    }
}
