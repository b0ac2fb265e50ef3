//! An output folder as knit sees it: its entries, listed without following
//! symbolic links (a link to `/` or a loop must not be walked), and whether
//! knit can prove that the folder is its own.

use std::collections::BTreeMap;
use std::path::Path;

use crate::OUTPUT_MARKER;
use crate::lockfile::{Lock, hash_file};

/// Cargo's build output at the top of a workspace; marked with [`CACHE_TAG`].
pub const BUILD_DIR: &str = "target";
/// The file Cargo writes into every build output folder.
const CACHE_TAG: &str = "CACHEDIR.TAG";

/// What an entry of an output folder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A regular file: the only kind knit writes.
    File,
    /// A symbolic link (never followed), a socket, a FIFO, ..
    Other,
}

/// Every entry of `dir` but folders, by `/`-separated path relative to `dir`;
/// symbolic links are listed as they are (a link to a folder is not entered).
/// The build output folder at the top is left out.
pub fn entries(dir: &Path) -> std::io::Result<BTreeMap<String, Entry>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if rel != BUILD_DIR {
                    pending.push((entry.path(), rel));
                }
            } else if kind.is_file() {
                found.insert(rel, Entry::File);
            } else {
                found.insert(rel, Entry::Other);
            }
        }
    }
    Ok(found)
}

/// Proves that the existing, non-empty folder `dir` is an output knit wrote:
/// its `knit.lock` names every file it holds, each with the hash it has (but
/// `Cargo.lock`, which Cargo writes when it builds the workspace), and a
/// build output folder at its top is Cargo's. Returns the lock, or why the
/// folder is not knit's.
pub fn prove_ours(dir: &Path) -> Result<Lock, String> {
    let text = std::fs::read_to_string(dir.join(OUTPUT_MARKER))
        .map_err(|_| format!("exists and was not created by knit (no {OUTPUT_MARKER})"))?;
    let lock = Lock::parse(&text).map_err(|e| format!("{OUTPUT_MARKER} does not parse: {e}"))?;
    let build = dir.join(BUILD_DIR);
    if build.symlink_metadata().is_ok() && !build.join(CACHE_TAG).is_file() {
        return Err(format!(
            "holds `{BUILD_DIR}`, which is not Cargo's build output (no {CACHE_TAG})"
        ));
    }
    let found = entries(dir).map_err(|e| format!("cannot list it: {e}"))?;
    for (path, kind) in &found {
        // Cargo writes `Cargo.lock` when knit wrote none, and rewrites knit's.
        if path == OUTPUT_MARKER || (path == "Cargo.lock" && *kind == Entry::File) {
            continue;
        }
        let Some(recorded) = lock.outputs.get(path) else {
            return Err(format!("holds `{path}`, which knit did not write"));
        };
        if *kind != Entry::File {
            return Err(format!("`{path}` is not a file knit wrote"));
        }
        if hash_file(&dir.join(path)).ok().as_ref() != Some(recorded) {
            return Err(format!("`{path}` changed since knit wrote it"));
        }
    }
    Ok(lock)
}
