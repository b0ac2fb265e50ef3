//! What knit asks git: the commit and state of a service's checkout, and exports
//! of a pinned revision (never a worktree: the user's repository is not touched).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

/// The version of a service's sources as git knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitState {
    pub commit: String,
    /// Whether the service's folder has changes not committed.
    pub dirty: bool,
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(stderr
            .lines()
            .last()
            .unwrap_or("git failed")
            .trim()
            .to_string())
    }
}

/// The top of the git checkout that holds `dir`, if any.
pub fn toplevel(dir: &Path) -> Option<PathBuf> {
    git(dir, &["rev-parse", "--show-toplevel"])
        .ok()
        .map(PathBuf::from)
}

/// The commit checked out at `dir` and whether `dir` has uncommitted changes.
pub fn state(dir: &Path) -> Option<GitState> {
    States::new(vec![dir.to_path_buf()]).state(dir)
}

/// The git states of the folders of a plan's services, asking git once per
/// repository (its commit, then one status limited to the folders in it): the
/// services of a monorepo cost two runs of git, not two each. Safe to share
/// between threads; the first folder asked about in a repository reads it.
pub struct States {
    /// Every folder that may be asked about, canonical.
    folders: Vec<PathBuf>,
    /// Each repository's state by its top folder, read once.
    repos: Mutex<HashMap<PathBuf, Arc<OnceLock<Option<Repo>>>>>,
}

/// What git says of one repository.
struct Repo {
    /// The top of its working tree, as git names it (canonical).
    top: PathBuf,
    commit: String,
    /// The folders (relative to the top) its status was limited to.
    asked: Vec<PathBuf>,
    /// The paths `git status` lists under those folders (relative to the top;
    /// an untracked folder is listed alone).
    changed: Vec<PathBuf>,
}

impl States {
    /// The states of `folders` (and of any other folder asked about later).
    pub fn new(folders: Vec<PathBuf>) -> Self {
        let folders = folders
            .into_iter()
            .filter_map(|f| f.canonicalize().ok())
            .collect();
        Self {
            folders,
            repos: Mutex::default(),
        }
    }

    /// The commit checked out at `dir` and whether `dir` has uncommitted changes,
    /// or `None` when `dir` is not in a git checkout (or git cannot say).
    pub fn state(&self, dir: &Path) -> Option<GitState> {
        let dir = dir.canonicalize().ok()?;
        // Folders are grouped by the nearest folder holding `.git`; what git
        // itself says (its top, the paths) decides the answer.
        let key = dir
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(&dir)
            .to_path_buf();
        let repo = self
            .repos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let repo = repo.get_or_init(|| self.read(&dir)).as_ref()?;
        let inside = dir.strip_prefix(&repo.top).ok()?;
        let dirty = if repo.asked.iter().any(|a| inside.starts_with(a)) {
            repo.changed
                .iter()
                .any(|p| p.starts_with(inside) || inside.starts_with(p))
        } else {
            // A folder the repository's status did not cover: a status of its own.
            !status(&repo.top, &[inside.to_path_buf()])?.is_empty()
        };
        Some(GitState {
            commit: repo.commit.clone(),
            dirty,
        })
    }

    /// The repository of `asked`, its status limited to the folders in it.
    fn read(&self, asked: &Path) -> Option<Repo> {
        let out = git(asked, &["rev-parse", "--show-toplevel", "HEAD"]).ok()?;
        let mut lines = out.lines();
        let top = Path::new(lines.next()?).canonicalize().ok()?;
        let commit = lines.next()?.to_string();
        let mut inside: Vec<PathBuf> = std::iter::once(asked)
            .chain(self.folders.iter().map(PathBuf::as_path))
            .filter_map(|f| f.strip_prefix(&top).ok())
            .map(Path::to_path_buf)
            .collect();
        inside.sort();
        inside.dedup();
        let changed = status(&top, &inside)?;
        Some(Repo {
            top,
            commit,
            asked: inside,
            changed,
        })
    }
}

/// The paths `git status` lists under the folders `inside` (relative to `top`,
/// the top of a working tree).
fn status(top: &Path, inside: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["--literal-pathspecs", "status", "--porcelain", "-z", "--"])
        .args(inside.iter().map(|rel| {
            if rel.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rel.as_path()
            }
        }))
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(changed_paths(&out.stdout))
}

/// The paths of `git status --porcelain -z`: each entry's, and a rename's or
/// copy's original path too.
fn changed_paths(status: &[u8]) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let path = |field: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(field));
    let mut paths = Vec::new();
    let mut fields = status.split(|b| *b == 0).filter(|f| !f.is_empty());
    while let Some(entry) = fields.next() {
        let (code, file) = entry.split_at(entry.len().min(3));
        paths.push(path(file));
        if code.iter().take(2).any(|c| matches!(c, b'R' | b'C')) {
            paths.extend(fields.next().map(path));
        }
    }
    paths
}

/// The commit `rev` names in the repository at `top`.
pub fn resolve(top: &Path, rev: &str) -> Result<String, String> {
    git(
        top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| format!("revision `{rev}` is not a commit of {}", top.display()))
}

/// A folder holding the tree of `commit` of the repository at `top`: an export
/// under the system's temporary folder, made once per commit and reused.
pub fn export(top: &Path, commit: &str) -> Result<PathBuf, String> {
    let base = std::env::temp_dir().join("knit-exports");
    let dir = base.join(commit);
    if dir.is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&base).map_err(|e| e.to_string())?;
    // Services load on threads of their own: two of them pinned to the same
    // commit export it at once, each into a staging folder of its own.
    static EXPORTS: AtomicUsize = AtomicUsize::new(0);
    let n = EXPORTS.fetch_add(1, Ordering::Relaxed);
    let staging = base.join(format!(".{commit}.{}.{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    if let Err(e) = unpack(top, commit, &staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    match std::fs::rename(&staging, &dir) {
        Ok(()) => Ok(dir),
        // Another knit made the same export meanwhile.
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(dir)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e.to_string())
        }
    }
}

/// Unpacks the tree of `commit` (of the repository at `top`) into `into`.
fn unpack(top: &Path, commit: &str, into: &Path) -> Result<(), String> {
    let archive = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["archive", "--format=tar", commit])
        .output()
        .map_err(|e| format!("cannot run git archive: {e}"))?;
    if !archive.status.success() {
        return Err(format!("git archive {commit} failed"));
    }
    let mut tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(into)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive.stdout)
        .map_err(|e| e.to_string())?;
    if !tar.wait().map_err(|e| e.to_string())?.success() {
        return Err("tar failed to unpack the export".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_paths_with_renames_and_untracked_folders() {
        let status = b" M a/src/main.rs\0R  b/new.rs\0b/old.rs\0?? c/\0?? d e.rs\0";
        let paths: Vec<PathBuf> = ["a/src/main.rs", "b/new.rs", "b/old.rs", "c/", "d e.rs"]
            .into_iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(changed_paths(status), paths);
        assert!(changed_paths(b"").is_empty());
    }

    /// Makes `top` a git repository with its files committed.
    fn commit_all(top: &Path) {
        for args in [
            &["init", "-q"][..],
            &["add", "-A"],
            &["commit", "-qm", "files"],
        ] {
            let ok = Command::new("git")
                .args([
                    "-c",
                    "user.name=knit",
                    "-c",
                    "user.email=knit@example.invalid",
                ])
                .args(args)
                .current_dir(top)
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        }
    }

    /// A folder asked about after its repository was read, and not among the
    /// folders given, still gets its own status.
    #[test]
    fn folders_not_given_get_a_status_of_their_own() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path();
        for dir in ["a", "b", "c"] {
            std::fs::create_dir(top.join(dir)).unwrap();
            std::fs::write(top.join(dir).join("f.rs"), "").unwrap();
        }
        commit_all(top);
        std::fs::write(top.join("c/f.rs"), "changed").unwrap();
        let states = States::new(vec![top.join("a"), top.join("b")]);
        let dirty = |dir: &str| states.state(&top.join(dir)).map(|s| s.dirty);
        assert_eq!(dirty("a"), Some(false));
        assert_eq!(dirty("c"), Some(true));
        assert_eq!(dirty("b"), Some(false));
        assert_eq!(dirty(""), Some(true));
    }

    /// An export that fails leaves no staging folder behind.
    #[test]
    fn failed_export_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f.rs"), "").unwrap();
        commit_all(tmp.path());
        let missing = "0123456789abcdef0123456789abcdef01234567";
        assert!(export(tmp.path(), missing).is_err());
        let base = std::env::temp_dir().join("knit-exports");
        let left = std::fs::read_dir(&base)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().contains(missing))
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(left, 0);
    }

    /// Threads exporting one commit at once all get the export, whole.
    #[test]
    fn concurrent_exports_of_one_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path();
        std::fs::create_dir(top.join("src")).unwrap();
        for i in 0..50 {
            std::fs::write(top.join(format!("src/f{i}.rs")), format!("// {i}\n")).unwrap();
        }
        commit_all(top);
        let commit = super::git(top, &["rev-parse", "HEAD"]).unwrap();
        let exports: Vec<Result<PathBuf, String>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..4).map(|_| s.spawn(|| export(top, &commit))).collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for export in exports {
            let dir = export.unwrap();
            assert_eq!(std::fs::read_dir(dir.join("src")).unwrap().count(), 50);
        }
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join("knit-exports").join(&commit));
    }
}
