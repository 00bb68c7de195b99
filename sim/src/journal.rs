//! The change an upload makes (a new file version, or a part), and loading the JSON state of
//! an older b2-sim (`state.json` plus `journal-<generation>.jsonl`, one JSON line per upload
//! since the snapshot; a torn last line ends the replay), which `db` imports once.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::state::{FileVersion, Part, State};

/// One journaled change.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Change {
    /// A new file version (a small upload).
    File(Box<FileVersion>),
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
    fn apply(self, st: &mut State) -> io::Result<()> {
        match self {
            Change::File(f) => {
                st.seq = st.seq.max(f.seq);
                st.insert_file(*f)
            }
            Change::Part { file_id, part } => st.put_part(&file_id, part).map(drop),
        }
    }
}

fn journal_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("journal-{generation}.jsonl"))
}

/// The state an older b2-sim stored under `dir` (`state.json` with its journal replayed),
/// if any.
pub(crate) fn legacy_load(dir: &Path) -> io::Result<Option<State>> {
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
            change.apply(&mut st)?;
        }
    }
    Ok(Some(st))
}

/// Deletes the journals of an older b2-sim (after their import).
pub(crate) fn remove_journals(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with("journal-") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}
