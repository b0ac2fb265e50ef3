//! Writing the merged workspace: all of it or nothing, never over a folder
//! knit cannot prove its own, and never into an input.
//!
//! A missing output folder is written as a staging folder beside it, which
//! then takes its place; an output knit wrote before is moved aside the same
//! way and deleted after. An empty folder (a mount point, a folder made for
//! knit) is written into, one file at a time, each renamed into place, and
//! `knit.lock` last. Staging and old copies have one name per output
//! (`.DIR.knit-tmp`, `.DIR.knit-old`), guarded by a lock on `.DIR.knit-lock`:
//! a run removes what a run that died left there.

use std::fs::{File, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::OUTPUT_MARKER;
use crate::error::{Diagnostic, Result, shown};
use crate::load::Loaded;
use crate::lockfile::Lock;
use crate::merge::Content;
use crate::outdir::{BUILD_DIR, prove_ours};
use crate::paths::{overlap, resolved};

/// Refuses an output folder `out` (`resolved_out`: [`crate::paths::resolved`])
/// that is, holds, or lies inside an input of `loaded`: the folder the plan
/// names for a service, or a package folder knit reads.
pub fn refuse_overlap(out: &Path, resolved_out: &Path, loaded: &Loaded) -> Result<()> {
    let services = loaded.group.services.iter().zip(&loaded.sources);
    for (spec, (service, source)) in loaded.plan.services.iter().zip(services) {
        let mut inputs = vec![spec.path.clone()];
        // A pinned service's packages are read from an export of its revision.
        if source.rev.is_none() {
            inputs.extend(service.packages.iter().map(|p| {
                let rel = p.dir.strip_prefix(&source.out_root).unwrap_or(&p.dir);
                source.read_root.join(rel.trim_start_matches('/'))
            }));
        }
        for input in inputs {
            let Ok(input) = resolved(&input) else {
                continue;
            };
            if !overlap(resolved_out, &input) {
                continue;
            }
            let relation = if input == resolved_out {
                "is"
            } else if resolved_out.starts_with(&input) {
                "is inside"
            } else {
                "holds"
            };
            return Err(Diagnostic::in_file(
                out,
                format!(
                    "the output folder {relation} the folder of service `{}` ({}): knit never writes into its inputs",
                    spec.name,
                    shown(&input)
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// What is at the output's place before knit writes it.
enum Before {
    Missing,
    Empty,
    /// An output knit wrote, proved by its lock.
    Ours(Lock),
}

/// Writes `files` as the folder `out`, atomically (see the module's docs).
/// An existing `out` is written only when it is empty or knit can prove it
/// wrote it ([`prove_ours`]); otherwise it is left as it is.
pub fn write(out: &Path, files: &[(String, Content)]) -> Result<()> {
    let fail = |message: String| Diagnostic::in_file(out, message);
    if !files.iter().any(|(p, _)| p == OUTPUT_MARKER) {
        return Err(fail(format!("internal: output without {OUTPUT_MARKER}")).into());
    }
    let before = match std::fs::read_dir(out).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Before::Empty,
        Ok(false) => Before::Ours(
            prove_ours(out).map_err(|e| fail(format!("{e}: refusing to write over it")))?,
        ),
        Err(e) if e.kind() == ErrorKind::NotFound => Before::Missing,
        Err(e) => return Err(fail(format!("cannot read the output folder: {e}")).into()),
    };
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
    let siblings = Siblings::claim(&parent, &name).map_err(fail)?;
    match before {
        Before::Missing => {
            staged(&siblings.tmp, files).map_err(|e| fail(format!("cannot write: {e}")))?;
            std::fs::rename(&siblings.tmp, out).map_err(|e| {
                let _ = std::fs::remove_dir_all(&siblings.tmp);
                fail(format!("cannot move the new output in place: {e}"))
            })?;
        }
        Before::Empty => in_place(out, files).map_err(|e| fail(format!("cannot write: {e}")))?,
        Before::Ours(lock) => replace(out, files, &lock, &siblings).map_err(fail)?,
    }
    Ok(())
}

/// Replaces the output `out` that knit wrote (with `lock`) by `files`.
fn replace(
    out: &Path,
    files: &[(String, Content)],
    lock: &Lock,
    siblings: &Siblings,
) -> Result<(), String> {
    staged(&siblings.tmp, files).map_err(|e| format!("cannot write: {e}"))?;
    if let Err(e) = std::fs::rename(out, &siblings.old) {
        let _ = std::fs::remove_dir_all(&siblings.tmp);
        // A mount point cannot be moved: its files are replaced where they are.
        if matches!(
            e.kind(),
            ErrorKind::ResourceBusy | ErrorKind::CrossesDevices
        ) {
            clear(out, lock).map_err(|e| format!("cannot remove the previous output: {e}"))?;
            return in_place(out, files).map_err(|e| format!("cannot write: {e}"));
        }
        return Err(format!("cannot move the previous output aside: {e}"));
    }
    if let Err(e) = std::fs::rename(&siblings.tmp, out) {
        let _ = std::fs::remove_dir_all(&siblings.tmp);
        return Err(match std::fs::rename(&siblings.old, out) {
            Ok(()) => format!("cannot move the new output in place: {e}"),
            Err(_) => format!(
                "cannot move the new output in place: {e}; the previous output is in {}",
                shown(&siblings.old)
            ),
        });
    }
    let _ = std::fs::remove_dir_all(&siblings.old);
    Ok(())
}

/// The staging and old copies of one output, claimed by this run.
struct Siblings {
    tmp: PathBuf,
    old: PathBuf,
    /// Held (locked) until the run ends; the OS lets go of a dead run's lock.
    _lock: File,
}

impl Siblings {
    /// Locks the output `name` in `parent` for this run, and removes what a run
    /// that died left beside it.
    fn claim(parent: &Path, name: &str) -> Result<Siblings, String> {
        let path = parent.join(format!(".{name}.knit-lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", shown(&path)))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err("another knit is writing this output folder".into());
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", shown(&path)));
            }
        }
        let siblings = Siblings {
            tmp: parent.join(format!(".{name}.knit-tmp")),
            old: parent.join(format!(".{name}.knit-old")),
            _lock: lock,
        };
        for stale in [&siblings.tmp, &siblings.old] {
            match std::fs::remove_dir_all(stale) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(format!("cannot remove {}: {e}", shown(stale)));
                }
                _ => {}
            }
        }
        remove_dead_pid_copies(parent, name);
        Ok(siblings)
    }
}

/// Removes `.NAME.knit-tmp-PID` and `.NAME.knit-old-PID`, as knit named its
/// copies before, when no process PID runs (known from `/proc`, where there is one).
fn remove_dead_pid_copies(parent: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        let pid = [".knit-tmp-", ".knit-old-"].iter().find_map(|kind| {
            file_name
                .strip_prefix(&format!(".{name}{kind}"))
                .filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        });
        if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes `files` into the new folder `root`; removes it on failure.
fn staged(root: &Path, files: &[(String, Content)]) -> std::io::Result<()> {
    let written = std::fs::create_dir(root).and_then(|()| {
        files
            .par_iter()
            .try_for_each(|(path, content)| write_file(&root.join(path), content))
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(root);
    }
    written
}

/// Writes `files` into the existing empty folder `out`, each file renamed into
/// place from a temporary name beside it, `knit.lock` last. On failure the
/// files and folders it wrote are removed.
fn in_place(out: &Path, files: &[(String, Content)]) -> std::io::Result<()> {
    let (marker, rest): (Vec<_>, Vec<_>) = files.iter().partition(|(p, _)| p == OUTPUT_MARKER);
    let written = rest
        .par_iter()
        .try_for_each(|(path, content)| atomic(&out.join(path), content));
    let written = written.and_then(|()| {
        marker
            .iter()
            .try_for_each(|(path, content)| atomic(&out.join(path), content))
    });
    if written.is_err() {
        remove_written(out, files.iter().map(|(p, _)| p.as_str()));
    }
    written
}

/// Removes the files of the output `out` that `lock` lists, Cargo's build
/// output and the folders left empty; `knit.lock` last, so that what a failure
/// leaves is still provably knit's.
fn clear(out: &Path, lock: &Lock) -> std::io::Result<()> {
    for path in lock.outputs.keys() {
        match std::fs::remove_file(out.join(path)) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    match std::fs::remove_dir_all(out.join(BUILD_DIR)) {
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    remove_written(out, lock.outputs.keys().map(String::as_str));
    std::fs::remove_file(out.join(OUTPUT_MARKER))
}

/// Removes the files `paths` of `out` and then the folders that hold them,
/// deepest first, where they are empty.
fn remove_written<'a>(out: &Path, paths: impl Iterator<Item = &'a str>) {
    let mut folders = std::collections::BTreeSet::new();
    for path in paths {
        let _ = std::fs::remove_file(out.join(path));
        let mut folder = Path::new(path);
        while let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) {
            folders.insert(parent.to_path_buf());
            folder = parent;
        }
    }
    let mut folders: Vec<PathBuf> = folders.into_iter().collect();
    folders.sort_by_key(|f| std::cmp::Reverse(f.components().count()));
    for folder in folders {
        let _ = std::fs::remove_dir(out.join(folder));
    }
}

/// Writes `content` at `target` through a temporary file beside it.
fn atomic(target: &Path, content: &Content) -> std::io::Result<()> {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let tmp = target.with_file_name(format!(".{name}.knit-tmp"));
    let written = write_file(&tmp, content).and_then(|()| std::fs::rename(&tmp, target));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_file(target: &Path, content: &Content) -> std::io::Result<()> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match content {
        Content::Text(text) => std::fs::write(target, text),
        Content::Copy(from) => std::fs::copy(from, target).map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(version: &str) -> Vec<(String, Content)> {
        let mut files = vec![
            ("a/b.rs".to_string(), Content::Text(format!("b {version}"))),
            ("c.txt".to_string(), Content::Text(format!("c {version}"))),
        ];
        let outputs = files
            .iter()
            .map(|(p, c)| match c {
                Content::Text(t) => (p.clone(), crate::lockfile::hash(t.as_bytes())),
                Content::Copy(_) => unreachable!(),
            })
            .collect();
        let lock = Lock {
            version: crate::lockfile::VERSION,
            knit: "0".into(),
            plan: "knit.toml".into(),
            plan_hash: String::new(),
            services: Vec::new(),
            outputs,
        };
        files.push((OUTPUT_MARKER.to_string(), Content::Text(lock.render())));
        files
    }

    /// A previous output that cannot be moved (a mount point) is cleared and
    /// written in place, with what `knit.lock` proves knit's.
    #[test]
    fn an_output_that_cannot_move_is_replaced_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        write(&out, &output("1")).unwrap();
        let lock = prove_ours(&out).unwrap();
        clear(&out, &lock).unwrap();
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "emptied");
        in_place(&out, &output("2")).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a/b.rs")).unwrap(), "b 2");
        assert!(prove_ours(&out).is_ok());
    }
}
