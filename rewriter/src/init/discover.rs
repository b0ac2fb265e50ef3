//! Finding the binaries that may be gRPC services (tonic or Volo) under a set
//! of folders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Result};
use crate::workspace::{self, Member, Workspace};

/// A binary that may be a service: its package depends on tonic or volo-grpc,
/// directly or through a path dependency (a `volo-gen` crate of the workspace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The package's folder, resolved.
    pub dir: PathBuf,
    pub package: String,
    pub bin: String,
    /// The binary's crate root.
    pub root: PathBuf,
    /// Whether the package has other binaries (the plan then names this one).
    pub one_of_several: bool,
}

/// Folders a scan never enters: build output, dependencies, VCS data.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "vendor"];

/// Every candidate under `roots`, in path order. Symbolic links are not
/// followed; hidden folders and build output are skipped.
pub fn candidates(roots: &[PathBuf]) -> Result<Vec<Candidate>> {
    let mut manifests = Vec::new();
    for root in roots {
        let resolved = root
            .canonicalize()
            .map_err(|e| Diagnostic::in_file(root, format!("cannot read: {e}")))?;
        if !resolved.is_dir() {
            return Err(Diagnostic::in_file(root, "not a folder").into());
        }
        walk(&resolved, &mut manifests);
    }
    manifests.sort();
    manifests.dedup();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut workspaces: Vec<Workspace> = Vec::new();
    for manifest in manifests {
        if seen.contains(&manifest) {
            continue;
        }
        // A manifest Cargo cannot read (a template, a fixture) holds no service.
        let Ok(workspace) = workspace::read(&manifest) else {
            continue;
        };
        seen.extend(workspace.members.iter().map(|m| m.manifest.clone()));
        seen.insert(manifest);
        if !workspaces.iter().any(|w| w.root == workspace.root) {
            workspaces.push(workspace);
        }
    }
    let mut found = Vec::new();
    for workspace in &workspaces {
        for member in &workspace.members {
            let bins: Vec<_> = member.bins().collect();
            if bins.is_empty() || !uses_grpc(member, workspace) {
                continue;
            }
            for bin in &bins {
                found.push(Candidate {
                    dir: member.dir().to_path_buf(),
                    package: member.name.clone(),
                    bin: bin.name.clone(),
                    root: bin.root.clone(),
                    one_of_several: bins.len() > 1,
                });
            }
        }
    }
    found.sort_by(|a, b| (&a.dir, &a.bin).cmp(&(&b.dir, &b.bin)));
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, manifests: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_ref()) {
                walk(&entry.path(), manifests);
            }
        } else if kind.is_file() && name == "Cargo.toml" {
            manifests.push(entry.path());
        }
    }
}

/// Whether `member`, or a package it reaches by path, depends on tonic or
/// volo-grpc.
fn uses_grpc(member: &Member, workspace: &Workspace) -> bool {
    let mut queue = vec![member.manifest.clone()];
    let mut visited = BTreeSet::new();
    while let Some(manifest) = queue.pop() {
        if !visited.insert(manifest.clone()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if names_grpc(&text) {
            return true;
        }
        let dir = manifest.parent().unwrap_or(Path::new("."));
        let deps = workspace
            .members
            .iter()
            .find(|m| m.manifest == manifest)
            .map(|m| m.path_deps.clone())
            .unwrap_or_else(|| path_deps_of(&text));
        for dep in deps.iter().filter(|d| !d.dev_only) {
            let path = if dep.path.is_absolute() {
                dep.path.clone()
            } else {
                dir.join(&dep.path)
            };
            queue.push(path.join("Cargo.toml"));
        }
    }
    false
}

/// The path dependencies of a manifest outside the workspace being scanned.
fn path_deps_of(text: &str) -> Vec<workspace::PathDep> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    dependency_tables(&doc)
        .flat_map(|(table, dev_only)| {
            table.iter().filter_map(move |(key, spec)| {
                let path = spec.get("path")?.as_str()?;
                Some(workspace::PathDep {
                    key: key.clone(),
                    package: key.clone(),
                    path: PathBuf::from(path),
                    dev_only,
                })
            })
        })
        .collect()
}

/// The gRPC frameworks whose services knit merges, as their packages are named.
const GRPC_PACKAGES: &[&str] = &["tonic", "volo-grpc"];

/// Whether a manifest's dependencies name tonic or volo-grpc (by key, or
/// renamed with `package = ".."`).
fn names_grpc(text: &str) -> bool {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return false;
    };
    let is_grpc = |(key, spec): (&String, &toml::Value)| {
        let package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(key);
        GRPC_PACKAGES.contains(&package)
    };
    dependency_tables(&doc).any(|(table, dev_only)| !dev_only && table.iter().any(is_grpc))
}

/// The dependency tables of a manifest (also per target), each with whether it
/// holds dev-dependencies only.
fn dependency_tables(doc: &toml::Table) -> impl Iterator<Item = (&toml::Table, bool)> {
    let own = std::iter::once(doc);
    let targets = doc
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values().filter_map(|v| v.as_table()));
    own.chain(targets).flat_map(|t| {
        [
            ("dependencies", false),
            ("build-dependencies", true),
            ("dev-dependencies", true),
        ]
        .into_iter()
        .filter_map(move |(key, dev_only)| Some((t.get(key)?.as_table()?, dev_only)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tonic_is_found_by_key_and_by_rename() {
        assert!(names_grpc("[dependencies]\ntonic = \"0.14\"\n"));
        assert!(names_grpc(
            "[dependencies]\ngrpc = { package = \"tonic\", version = \"0.14\" }\n"
        ));
        assert!(names_grpc(
            "[target.'cfg(unix)'.dependencies]\ntonic = { workspace = true }\n"
        ));
        assert!(!names_grpc("[dev-dependencies]\ntonic = \"0.14\"\n"));
        assert!(!names_grpc(
            "[build-dependencies]\ntonic-build = \"0.14\"\n"
        ));
        assert!(!names_grpc("not toml ["));
    }

    #[test]
    fn volo_grpc_is_found_and_volo_alone_is_not() {
        assert!(names_grpc("[dependencies]\nvolo-grpc = \"0.12\"\n"));
        assert!(names_grpc(
            "[dependencies]\nvolo-grpc = { workspace = true }\n"
        ));
        assert!(names_grpc(
            "[dependencies]\ngrpc = { package = \"volo-grpc\", version = \"0.12\" }\n"
        ));
        // volo-thrift services: knit merges Volo's gRPC side only.
        assert!(!names_grpc(
            "[dependencies]\nvolo = \"0.12\"\nvolo-thrift = \"0.12\"\n"
        ));
        assert!(!names_grpc("[build-dependencies]\nvolo-build = \"0.12\"\n"));
    }
}
