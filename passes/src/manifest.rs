//! Operations on Cargo manifests, applied with `toml_edit` so that comments,
//! order and formatting of everything else are kept.

use toml_edit::{DocumentMut, InlineTable, Item, Table, value};

/// One change to a `Cargo.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManifestOp {
    /// `package.name = to`.
    RenamePackage { to: String },
    /// Drops the `[workspace]` table: the package joins the merged workspace.
    LeaveWorkspace,
    /// Points the path dependency `key` at the renamed package (`package = ..`);
    /// the key, and so the crate name in sources, stays.
    RenameDependency { key: String, package: String },
    /// Adds `key = { path = .. }` to `[dependencies]`.
    AddPathDependency { key: String, path: String },
    /// Turns off binary auto-discovery, so only the `[[bin]]`s listed build.
    NoAutobins,
    /// `[lib] path = ..`.
    SetLibPath { path: String },
    /// `[lib] name = ..`, unless the manifest names the library already.
    KeepLibName { name: String },
    /// Adds a `[[bin]]`.
    AddBin { name: String, path: String },
}

impl std::fmt::Display for ManifestOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestOp::RenamePackage { to } => write!(f, "package renamed to `{to}`"),
            ManifestOp::LeaveWorkspace => write!(
                f,
                "`[workspace]` dropped: the package joins the merged workspace"
            ),
            ManifestOp::RenameDependency { key, package } => {
                write!(f, "dependency `{key}` is package `{package}`")
            }
            ManifestOp::AddPathDependency { key, path } => {
                write!(f, "dependency `{key}` added (path `{path}`)")
            }
            ManifestOp::NoAutobins => {
                write!(f, "`autobins = false`: only the listed binaries build")
            }
            ManifestOp::SetLibPath { path } => write!(f, "library target rooted at `{path}`"),
            ManifestOp::KeepLibName { name } => write!(f, "library keeps its crate name `{name}`"),
            ManifestOp::AddBin { name, path } => write!(f, "binary `{name}` at `{path}`"),
        }
    }
}

/// Applies `ops` to the manifest `text`.
pub fn apply(text: &str, ops: &[&ManifestOp]) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("not a valid manifest: {e}"))?;
    for op in ops {
        apply_one(&mut doc, op)?;
    }
    Ok(doc.to_string())
}

fn apply_one(doc: &mut DocumentMut, op: &ManifestOp) -> Result<(), String> {
    match op {
        ManifestOp::RenamePackage { to } => {
            set_keeping_decor(&mut package(doc)?["name"], to);
        }
        ManifestOp::LeaveWorkspace => {
            doc.remove("workspace");
        }
        ManifestOp::RenameDependency { key, package } => {
            for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
                let Some(dep) = doc.get_mut(table).and_then(|t| t.get_mut(key)) else {
                    continue;
                };
                match dep {
                    Item::Value(toml_edit::Value::InlineTable(t)) => {
                        t.insert("package", package.as_str().into());
                    }
                    Item::Table(t) => {
                        t["package"] = value(package.as_str());
                    }
                    _ => return Err(format!("dependency `{key}` is not a table")),
                }
            }
        }
        ManifestOp::AddPathDependency { key, path } => {
            let deps = doc
                .entry("dependencies")
                .or_insert_with(|| Item::Table(Table::new()))
                .as_table_like_mut()
                .ok_or("`dependencies` is not a table")?;
            let mut spec = InlineTable::new();
            spec.insert("path", path.as_str().into());
            deps.insert(key, Item::Value(spec.into()));
        }
        ManifestOp::NoAutobins => {
            package(doc)?["autobins"] = value(false);
        }
        ManifestOp::KeepLibName { name } => {
            let lib = doc
                .entry("lib")
                .or_insert_with(|| Item::Table(Table::new()));
            if lib.get("name").is_none() {
                lib["name"] = value(name.as_str());
            }
        }
        ManifestOp::SetLibPath { path } => {
            let lib = doc
                .entry("lib")
                .or_insert_with(|| Item::Table(Table::new()));
            lib["path"] = value(path.as_str());
        }
        ManifestOp::AddBin { name, path } => {
            let mut bin = Table::new();
            bin["name"] = value(name.as_str());
            bin["path"] = value(path.as_str());
            let bins = doc
                .entry("bin")
                .or_insert_with(|| Item::ArrayOfTables(Default::default()));
            bins.as_array_of_tables_mut()
                .ok_or("`bin` is not an array of tables")?
                .push(bin);
        }
    }
    Ok(())
}

/// Sets a string value, keeping the comments and spacing around the old one.
fn set_keeping_decor(item: &mut Item, to: &str) {
    let mut new = toml_edit::Value::from(to);
    if let Some(old) = item.as_value() {
        *new.decor_mut() = old.decor().clone();
    }
    *item = Item::Value(new);
}

fn package(doc: &mut DocumentMut) -> Result<&mut Item, String> {
    doc.get_mut("package")
        .ok_or_else(|| "no [package] table".to_string())
}

/// Reads `[workspace.dependencies]` keys of a manifest, if any: knit does not yet
/// resolve inherited dependencies.
pub fn workspace_dependencies(text: &str) -> Vec<String> {
    let Ok(doc) = text.parse::<DocumentMut>() else {
        return Vec::new();
    };
    doc.get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[package]
name = "greeter" # the service
version = "0.1.0"

# Its own repository.
[workspace]

[dependencies]
tonic = "0.14"
common = { path = "../common" } # shared helpers
"#;

    fn run(ops: &[ManifestOp]) -> String {
        apply(MANIFEST, &ops.iter().collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn rename_keeps_comments_and_order() {
        let out = run(&[
            ManifestOp::RenamePackage {
                to: "greeter-greeter".into(),
            },
            ManifestOp::LeaveWorkspace,
            ManifestOp::RenameDependency {
                key: "common".into(),
                package: "greeter-common".into(),
            },
        ]);
        assert_eq!(
            out,
            r#"[package]
name = "greeter-greeter" # the service
version = "0.1.0"

[dependencies]
tonic = "0.14"
common = { path = "../common" , package = "greeter-common" } # shared helpers
"#
        );
    }

    #[test]
    fn lifting_adds_lib_bin_and_dependency() {
        let out = run(&[
            ManifestOp::NoAutobins,
            ManifestOp::SetLibPath {
                path: "src/main.rs".into(),
            },
            ManifestOp::AddBin {
                name: "greeter".into(),
                path: "src/knit_main.rs".into(),
            },
            ManifestOp::AddPathDependency {
                key: "knit-runtime".into(),
                path: "../knit/runtime".into(),
            },
        ]);
        assert!(out.contains("autobins = false\n"), "{out}");
        assert!(out.ends_with(
            "knit-runtime = { path = \"../knit/runtime\" }\n\n[lib]\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"greeter\"\npath = \"src/knit_main.rs\"\n"
        ), "{out}");
    }
}
