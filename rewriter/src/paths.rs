//! Paths as the file system resolves them, and paths relative to a folder.

use std::path::{Component, Path, PathBuf};

/// `path` absolute, with symbolic links resolved, also when it does not exist
/// yet: its deepest existing ancestor is canonicalized and the rest appended
/// (`..` taken lexically there, as nothing below exists to link elsewhere).
pub fn resolved(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    let mut base = loop {
        match existing.canonicalize() {
            Ok(base) => break base,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let (Some(parent), Some(last)) = (existing.parent(), existing.components().next_back())
        else {
            break PathBuf::from("/");
        };
        missing.push(last);
        existing = parent;
    };
    for component in missing.into_iter().rev() {
        match component {
            Component::ParentDir => {
                base.pop();
            }
            Component::Normal(name) => base.push(name),
            _ => {}
        }
    }
    Ok(base)
}

/// `to` relative to the folder `from`, both absolute and resolved: `../x/y`.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c);
    }
    rel
}

/// Whether one of the resolved paths `a` and `b` holds the other (or they are
/// the same).
pub fn overlap(a: &Path, b: &Path) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_and_descend() {
        let rel = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(rel("/a/b", "/a/b/c"), Path::new("c"));
        assert_eq!(rel("/a/b/out", "/a/sys"), Path::new("../../sys"));
        assert_eq!(rel("/a", "/a"), Path::new(""));
    }

    #[test]
    fn resolves_what_does_not_exist_yet() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(&real, real.join("link")).unwrap();
        assert_eq!(
            resolved(&real.join("link/new/../out")).unwrap(),
            real.join("out")
        );
    }
}
