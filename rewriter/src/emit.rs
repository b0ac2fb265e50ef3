//! Writing the merged workspace: all of it or nothing, and never over a folder
//! knit did not create.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::OUTPUT_MARKER;
use crate::error::{Diagnostic, Result};
use crate::merge::Content;

/// Writes `files` as the folder `out`, atomically: they are written to a
/// temporary folder beside `out`, which then takes its place. An existing `out`
/// is replaced only when knit created it (it holds [`OUTPUT_MARKER`]), or when
/// it is empty.
pub fn write(out: &Path, files: &[(String, Content)]) -> Result<()> {
    let fail = |message: String| Diagnostic::in_file(out, message);
    let existing = match std::fs::read_dir(out) {
        Ok(mut entries) => Some(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(format!("cannot read the output folder: {e}")).into()),
    };
    let ours = out.join(OUTPUT_MARKER).is_file();
    if existing == Some(false) && !ours {
        return Err(fail(format!(
            "exists and was not created by knit (no {OUTPUT_MARKER}): refusing to write over it"
        ))
        .into());
    }
    if !files.iter().any(|(p, _)| p == OUTPUT_MARKER) {
        return Err(fail(format!("internal: output without {OUTPUT_MARKER}")).into());
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| fail(format!("cannot create its parent folder: {e}")))?;
    let name = out
        .file_name()
        .ok_or_else(|| fail("not a folder name".into()))?
        .to_string_lossy()
        .to_string();
    let staging = parent.join(format!(".{name}.knit-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let written = write_all(&staging, files);
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(fail(format!("cannot write: {e}")).into());
    }
    let old = parent.join(format!(".{name}.knit-old-{}", std::process::id()));
    if existing.is_some() {
        std::fs::rename(out, &old)
            .map_err(|e| fail(format!("cannot move the previous output aside: {e}")))?;
    }
    if let Err(e) = std::fs::rename(&staging, out) {
        if existing.is_some() {
            let _ = std::fs::rename(&old, out);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(fail(format!("cannot move the new output in place: {e}")).into());
    }
    if existing.is_some() {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}

fn write_all(root: &Path, files: &[(String, Content)]) -> std::io::Result<()> {
    std::fs::create_dir_all(root)?;
    files.par_iter().try_for_each(|(path, content)| {
        let target = root.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match content {
            Content::Text(text) => std::fs::write(&target, text),
            Content::Copy(from) => std::fs::copy(from, &target).map(|_| ()),
        }
    })
}
