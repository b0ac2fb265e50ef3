//! The corpus builds in one target folder (`target/e2e`), where Cargo tells
//! path packages apart by name, version and path relative to their workspace
//! root (with their features and dependencies). Two packages alike in all
//! three can share build-script output folders and artifacts: one system then
//! builds against another's generated code. Every corpus package keeps its
//! triple to itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::root;

/// A package's name, version, and folder relative to its workspace root.
type Key = (String, String, PathBuf);

/// Every `Cargo.toml` under `dir` outside target folders.
fn manifests(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && entry.file_name() != "target" {
            manifests(&path, found);
        } else if entry.file_name() == "Cargo.toml" {
            found.push(path);
        }
    }
}

fn read(manifest: &Path) -> toml::Table {
    let text = std::fs::read_to_string(manifest).unwrap();
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()))
}

/// The folder of the nearest manifest at or above `package` (up to `corpus`)
/// that declares a workspace; `package` itself when none does.
fn workspace_root(package: &Path, corpus: &Path) -> PathBuf {
    let mut folder = package;
    while folder.starts_with(corpus) {
        let manifest = folder.join("Cargo.toml");
        if manifest.is_file() && read(&manifest).contains_key("workspace") {
            return folder.to_path_buf();
        }
        let Some(parent) = folder.parent() else { break };
        folder = parent;
    }
    package.to_path_buf()
}

#[test]
fn no_two_corpus_packages_share_a_build_hash() {
    let corpus = root().join("corpus");
    let mut found = Vec::new();
    manifests(&corpus, &mut found);
    let mut seen: BTreeMap<Key, PathBuf> = BTreeMap::new();
    for manifest in found {
        let table = read(&manifest);
        let Some(package) = table.get("package").and_then(|p| p.as_table()) else {
            continue;
        };
        let text = |key: &str| package.get(key).and_then(|v| v.as_str()).map(String::from);
        let folder = manifest.parent().unwrap();
        let relative = folder
            .strip_prefix(workspace_root(folder, &corpus))
            .unwrap()
            .to_path_buf();
        let key = (
            text("name").unwrap(),
            text("version").unwrap_or_default(),
            relative,
        );
        if let Some(first) = seen.insert(key.clone(), manifest.clone()) {
            panic!(
                "{} and {} are both `{} {}` at `{}` in their workspaces: Cargo gives them one \
                 build hash in target/e2e; give one of them another name or version",
                first.display(),
                manifest.display(),
                key.0,
                key.1,
                key.2.display()
            );
        }
    }
}
