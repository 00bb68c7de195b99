//! `ls` and `rm` with the official tool's flags and semantics (`--long`, `--json`,
//! `--versions`, `--recursive`, `--dry-run`), and this tool's short forms kept as they were.
//!
//! With a `b2://BUCKET/PATH` the official tool's rules apply: a PATH naming a file means that
//! file; otherwise PATH is a folder (`PATH/`), listed one level deep unless `--recursive`;
//! without `--versions` only each file's newest visible version. With `BUCKET [PREFIX]`, `ls`
//! lists names starting with PREFIX as before.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use b2_transport_std::client::{Client, ClientError, FileVersion};
use clap::Args;

use crate::output::{self, JsonArray};
use crate::uri::{self, B2Uri};
use crate::{connect, Creds};

/// `ls`: list files (or buckets, with no argument).
#[derive(Args, Debug)]
pub struct LsArgs {
    /// `b2://BUCKET[/FOLDER/]` or `b2://BUCKET/FILE` (the official tool's form), or a bucket
    /// name (then PREFIX is a plain name prefix); none: list the buckets.
    target: Option<String>,
    /// With a bucket name: only names starting with this.
    prefix: Option<String>,
    /// Descend into folders (files only, no folder entries).
    #[arg(short = 'r', long)]
    recursive: bool,
    /// Every version and hide marker, newest first per name.
    #[arg(long)]
    versions: bool,
    /// The official tool's long lines: file id, action, date, time (UTC), size, name.
    #[arg(short = 'l', long, conflicts_with = "json")]
    long: bool,
    /// One JSON array of B2's file objects.
    #[arg(long)]
    json: bool,
}

/// `rm`: delete file versions.
#[derive(Args, Debug)]
pub struct RmArgs {
    /// `b2://BUCKET/PATH` (a file, or a folder's files) or `b2id://FILE_ID` (the official
    /// tool's form), or a bucket name followed by REMOTE.
    target: String,
    /// With a bucket name: the file name (or, with --recursive/--versions/--dry-run, the
    /// path as in `b2://BUCKET/REMOTE`).
    remote: Option<String>,
    /// Short form only (`rm BUCKET REMOTE`): delete every version of exactly REMOTE.
    #[arg(long)]
    all_versions: bool,
    /// Delete every version (and hide marker) of each file, not just the newest.
    #[arg(long)]
    versions: bool,
    /// Descend into sub-folders.
    #[arg(short = 'r', long)]
    recursive: bool,
    /// Print what would be deleted (as `ls --long` does) and delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Deletions at once (1 to 64).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// Stop at the first version that cannot be deleted.
    #[arg(long)]
    fail_fast: bool,
    /// Delete versions under governance retention too (the key needs bypassGovernance).
    #[arg(long)]
    bypass_governance: bool,
}

/// Deletes one version, asking B2 to bypass a governance retention when told to.
fn delete(client: &Client, f: &FileVersion, bypass_governance: bool) -> Result<(), ClientError> {
    if bypass_governance {
        client.delete_version_bypassing_governance(&f.file_name, &f.file_id)
    } else {
        client.delete_version(&f.file_name, &f.file_id)
    }
}

/// Lists what `b2://bucket/path` names, as the official tool does, calling `each` for every
/// entry (folders have action `folder`) until it returns `false`.
pub fn walk(
    client: &Client,
    bucket: &str,
    path: &str,
    versions: bool,
    recursive: bool,
    mut each: impl FnMut(FileVersion) -> Result<bool, ClientError>,
) -> Result<(), ClientError> {
    let b = client.bucket(bucket)?;
    if !path.is_empty() && !path.ends_with('/') {
        // A file by that name? Then it alone (its newest version only if that is visible).
        b2_core::validate::file_name(path)?;
        let mut found = false;
        for f in client.ls_id(b.id(), path, None, true) {
            let f = f?;
            if f.file_name != path {
                break;
            }
            let first = !found;
            found = true;
            if versions {
                if !each(f)? {
                    return Ok(());
                }
            } else {
                if first && f.action == "upload" {
                    each(f)?;
                }
                break;
            }
        }
        if found {
            return Ok(());
        }
    }
    let prefix = if path.is_empty() || path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    };
    b2_core::validate::name_prefix(&prefix)?;
    for f in client.ls_id(b.id(), &prefix, (!recursive).then_some("/"), versions) {
        if !each(f?)? {
            break;
        }
    }
    Ok(())
}

/// Runs `ls`.
pub fn run_ls(creds: &Creds, a: LsArgs, out: &mut impl Write) -> Result<(), ClientError> {
    let Some(target) = a.target else {
        if a.long || a.recursive || a.versions {
            output::usage("--long, --recursive and --versions need a bucket");
        }
        return crate::bucket_get::list(creds, a.json, out);
    };
    let print = |out: &mut dyn Write, arr: &mut JsonArray, f: &FileVersion, legacy: bool| {
        if a.json {
            arr.item(out, &output::version_json(f))
        } else if a.long {
            writeln!(out, "{}", output::long_line(f))
        } else if !legacy {
            writeln!(out, "{}", f.file_name)
        } else if f.action == "folder" {
            writeln!(out, "{:>14}  {:<6} {}", "", "folder", f.file_name)
        } else {
            writeln!(
                out,
                "{:>14}  {:<6} {}  {}",
                f.size, f.action, f.file_name, f.file_id
            )
        }
    };
    let mut arr = JsonArray::new();
    if uri::is_uri(&target) {
        if let Some(p) = &a.prefix {
            output::usage(format!(
                "unexpected argument {p:?} after the URI {target:?}"
            ));
        }
        let (bucket, path) = match uri::parse(&target) {
            Ok(B2Uri::Name { bucket, path }) => (bucket, path),
            Ok(B2Uri::Id(_)) => output::usage("ls takes b2://BUCKET[/PATH], not a file id"),
            Err(e) => output::usage(e),
        };
        let client = connect(creds)?;
        walk(&client, &bucket, &path, a.versions, a.recursive, |f| {
            print(out, &mut arr, &f, false)?;
            Ok(true)
        })?;
    } else {
        let client = connect(creds)?;
        let iter = client.ls(
            &target,
            a.prefix.as_deref().unwrap_or(""),
            a.recursive,
            a.versions,
        )?;
        for f in iter {
            print(out, &mut arr, &f?, true)?;
        }
    }
    if a.json {
        arr.end(out)?;
    }
    Ok(())
}

/// Runs `rm`.
pub fn run_rm(creds: &Creds, a: RmArgs, out: &mut impl Write) -> Result<(), ClientError> {
    let official = a.versions || a.recursive || a.dry_run || a.bypass_governance;
    let target = if uri::is_uri(&a.target) {
        if let Some(r) = &a.remote {
            output::usage(format!(
                "unexpected argument {r:?} after the URI {:?}",
                a.target
            ));
        }
        uri::parse(&a.target).unwrap_or_else(|e| output::usage(e))
    } else {
        match a.remote {
            // The short form, as it always was: the newest version of exactly REMOTE (never
            // a hide marker alone), or all its versions.
            Some(remote) if !official => {
                let n = connect(creds)?.delete(&a.target, &remote, a.all_versions)?;
                writeln!(out, "deleted {n} version(s)")?;
                return Ok(());
            }
            Some(remote) => B2Uri::Name {
                bucket: a.target,
                path: remote,
            },
            None if official => B2Uri::Name {
                bucket: a.target,
                path: String::new(),
            },
            None => output::usage(
                "rm needs BUCKET REMOTE, b2://BUCKET/PATH or b2id://FILE_ID \
                 (a whole bucket or folder: add --recursive)",
            ),
        }
    };
    let versions = a.versions || a.all_versions;
    let client = connect(creds)?;
    if let B2Uri::Id(id) = &target {
        let f = client.file_info_by_id(id)?;
        if a.dry_run {
            writeln!(out, "{}", output::long_line(&f))?;
        } else {
            delete(&client, &f, a.bypass_governance)?;
            writeln!(out, "deleted 1 version(s)")?;
        }
        return Ok(());
    }
    let B2Uri::Name { bucket, path } = target else {
        return Ok(());
    };
    if a.dry_run {
        return walk(&client, &bucket, &path, versions, a.recursive, |f| {
            if f.action != "folder" {
                writeln!(out, "{}", output::long_line(&f))?;
            }
            Ok(true)
        });
    }
    let threads = usize::from(a.threads);
    let deleted = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let bar = crate::count_bar("deleted");
    let (tx, rx) = mpsc::sync_channel::<FileVersion>(threads * 2);
    let rx = Mutex::new(rx);
    let listed = std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok(f) = next else { break };
                match delete(&client, &f, a.bypass_governance) {
                    // Already gone: what was wanted.
                    Ok(()) => {}
                    Err(e) if output::exit_code(&e) == output::EXIT_NOT_FOUND => {}
                    Err(e) => {
                        bar.suspend(|| {
                            eprintln!(
                                "b2ctl: deleting {:?} ({}) failed: {e}",
                                f.file_name, f.file_id
                            )
                        });
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                }
                deleted.fetch_add(1, Ordering::Relaxed);
                bar.inc(1);
            });
        }
        let r = walk(&client, &bucket, &path, versions, a.recursive, |f| {
            if a.fail_fast && failed.load(Ordering::Relaxed) > 0 {
                return Ok(false);
            }
            if f.action != "folder" {
                // The workers only stop when this side closes the channel.
                if tx.send(f).is_err() {
                    return Ok(false);
                }
            }
            Ok(true)
        });
        drop(tx);
        r
    });
    bar.finish_and_clear();
    let (deleted, failed) = (deleted.into_inner(), failed.into_inner());
    writeln!(out, "deleted {deleted} version(s)")?;
    listed?;
    if failed > 0 {
        return Err(ClientError::Config(format!(
            "{failed} version(s) could not be deleted"
        )));
    }
    Ok(())
}
