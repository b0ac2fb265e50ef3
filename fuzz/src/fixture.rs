//! Several files in one text, as the `load` target's inputs and seeds spell
//! them: each after a line `//- PATH`. Paths are kept below the folder they
//! are written to (no `..`, no root, no empty parts), and a fixture's size is
//! bounded, so that a run stays small.

use std::path::Path;

/// At most this many files a fixture.
const MAX_FILES: usize = 24;
/// At most this many folders deep.
const MAX_DEPTH: usize = 8;

/// The files of `text`: (relative path, text). Lines before the first `//- `
/// are ignored; a file with a path knit's scratch folder cannot hold is
/// dropped.
pub fn files(text: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for chunk in text.split("//- ").skip(1) {
        let (path, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let path = path.trim();
        let parts: Vec<&str> = path.split('/').collect();
        let fine = !parts.is_empty()
            && parts.len() <= MAX_DEPTH
            && parts.iter().all(|p| {
                !p.is_empty()
                    && *p != "."
                    && *p != ".."
                    && p.len() <= 64
                    && !p.contains(['\\', '\0', ':'])
            });
        if fine && !files.iter().any(|(p, _)| p == path) && files.len() < MAX_FILES {
            files.push((path.to_string(), body.to_string()));
        }
    }
    files
}

/// Writes `files` below `dir`; a path that clashes with another's folder is
/// skipped.
pub fn write(dir: &Path, files: &[(String, String)]) {
    for (path, text) in files {
        let to = dir.join(path);
        if let Some(parent) = to.parent()
            && std::fs::create_dir_all(parent).is_err()
        {
            continue;
        }
        let _ = std::fs::write(&to, text);
    }
}
