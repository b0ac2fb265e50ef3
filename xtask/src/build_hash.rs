//! The corpus builds in one target folder (`target/e2e`), where Cargo tells
//! path packages apart by name, version and path relative to their workspace
//! root (with their features and dependencies; a build script's output folder
//! by its build-dependencies only). Two packages alike in all of these share
//! build-script output folders and artifacts: one system then builds against
//! another's generated code. knit's merged workspaces keep the packages'
//! versions under new names (`SERVICE-PACKAGE`) at paths of their own, so the
//! corpus keeps each name and version pair to one package.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::root;

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

#[test]
fn no_two_corpus_packages_share_a_name_and_version() {
    let mut found = Vec::new();
    manifests(&root().join("corpus"), &mut found);
    let mut seen: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    for manifest in found {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let table: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let Some(package) = table.get("package").and_then(|p| p.as_table()) else {
            continue;
        };
        let text = |key: &str| package.get(key).and_then(|v| v.as_str()).map(String::from);
        let key = (text("name").unwrap(), text("version").unwrap_or_default());
        if let Some(first) = seen.insert(key.clone(), manifest.clone()) {
            panic!(
                "{} and {} are both `{} {}`: in target/e2e they may share Cargo's build hash; \
                 give one of them another version",
                first.display(),
                manifest.display(),
                key.0,
                key.1,
            );
        }
    }
}
