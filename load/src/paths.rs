//! Paths: as the file system resolves them, relative to a folder, joined and
//! normalised lexically, and written with `/` (the paths of the output and of
//! the diff).

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

/// `path` with `.` and `..` folded without the file system, as Cargo does; a
/// `..` that climbs above a relative path's start stays.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// `a/b` of two `/`-separated paths, where either may be empty.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

/// `path` written with `/` between its components.
pub fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
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
    fn joins_and_normalises_lexically() {
        let normal = |p: &str| normalize(Path::new(p));
        assert_eq!(normal("/a/b/../c/./d"), Path::new("/a/c/d"));
        assert_eq!(normal("/.."), Path::new("/"));
        assert_eq!(normal("plans/../svc"), Path::new("svc"));
        assert_eq!(normal("../svc/./x"), Path::new("../svc/x"));
        assert_eq!(normal("a/../../b"), Path::new("../b"));
        assert_eq!(join("", "b"), "b");
        assert_eq!(join("a", ""), "a");
        assert_eq!(join("a", "b/c"), "a/b/c");
        assert_eq!(slash(Path::new("a/b/c.rs")), "a/b/c.rs");
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
