//! `b2ctl sync`: one-way upload of a folder, files in parallel, skipping files already there
//! with the same size and modification time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use b2_transport_std::client::{Client, ClientError, UploadOptions};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot read {}: {e}", dir.display()))
    })?;
    for e in entries {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

fn mtime_ms(p: &Path) -> Option<u64> {
    let m = std::fs::metadata(p).ok()?.modified().ok()?;
    Some(m.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64)
}

/// Uploads what differs; returns (uploaded, skipped).
pub fn run(
    client: &Client,
    dir: &Path,
    bucket: &str,
    prefix: &str,
    threads: usize,
) -> Result<(usize, usize), ClientError> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    // What is there already: name -> (size, src_last_modified_millis).
    let mut remote: HashMap<String, (u64, Option<String>)> = HashMap::new();
    for f in client.ls(bucket, prefix, true, false)? {
        let f = f?;
        let ms = f
            .info
            .iter()
            .find(|(k, _)| k == "src_last_modified_millis")
            .map(|(_, v)| v.clone());
        remote.insert(f.file_name, (f.size, ms));
    }
    let mut todo = Vec::new();
    let mut skipped = 0;
    for p in files {
        let rel = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        let name = format!("{prefix}{rel}");
        let size = std::fs::metadata(&p)?.len();
        let ms = mtime_ms(&p).map(|m| m.to_string());
        if remote.get(&name) == Some(&(size, ms)) {
            skipped += 1;
        } else {
            todo.push((p, name));
        }
    }
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<ClientError>> = Mutex::new(None);
    let opts = UploadOptions {
        threads: 2,
        ..UploadOptions::default()
    };
    std::thread::scope(|s| {
        for _ in 0..threads.min(todo.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((p, name)) = todo.get(i) else { break };
                if let Err(e) = client.upload_path(bucket, p, name, &opts) {
                    first_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(e);
                    break;
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok((todo.len(), skipped))
}
