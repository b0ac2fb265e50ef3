//! What knit asks git: the commit and state of a service's checkout, and exports
//! of a pinned revision (never a worktree: the user's repository is not touched).

use std::path::{Path, PathBuf};
use std::process::Command;

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
    let commit = git(dir, &["rev-parse", "HEAD"]).ok()?;
    let status = git(dir, &["status", "--porcelain", "--", "."]).ok()?;
    Some(GitState {
        commit,
        dirty: !status.is_empty(),
    })
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
    let staging = base.join(format!(".{commit}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
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
        .arg(&staging)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive.stdout)
        .map_err(|e| e.to_string())?;
    if !tar.wait().map_err(|e| e.to_string())?.success() {
        return Err("tar failed to unpack the export".into());
    }
    match std::fs::rename(&staging, &dir) {
        Ok(()) => Ok(dir),
        // Another knit made the same export meanwhile.
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(dir)
        }
        Err(e) => Err(e.to_string()),
    }
}
