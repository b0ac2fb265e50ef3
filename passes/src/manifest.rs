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
    /// Replaces what the package inherits with `workspace = true` (package
    /// fields, dependencies) by the values of `workspace`, the manifest of the
    /// service's workspace root; `root_to_package` is the path from the root's
    /// folder to the package's, to rebase the root's path dependencies.
    Inherit {
        workspace: String,
        package_to_root: String,
    },
    /// Points the path dependency `key` at the renamed package (`package = ..`);
    /// the key, and so the crate name in sources, stays.
    RenameDependency { key: String, package: String },
    /// Adds `key = { path = .. }` to `[dependencies]`.
    AddPathDependency { key: String, path: String },
    /// Removes the dev-dependency `key` (of every platform): it points at a
    /// package the merged workspace does not hold.
    DropDevDependency { key: String },
    /// Turns off binary auto-discovery, so only the `[[bin]]`s listed build.
    NoAutobins,
    /// `[lib] path = ..`.
    SetLibPath { path: String },
    /// `[lib] name = ..`, unless the manifest names the library already.
    KeepLibName { name: String },
    /// Points the `[[bin]]` named `was` at `path` and names it `name`, adding it
    /// when it is not listed.
    SetBin {
        was: String,
        name: String,
        path: String,
    },
}

impl std::fmt::Display for ManifestOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestOp::RenamePackage { to } => write!(f, "package renamed to `{to}`"),
            ManifestOp::Inherit { .. } => {
                write!(
                    f,
                    "`workspace = true` replaced by the workspace root's values"
                )
            }
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
            ManifestOp::DropDevDependency { key } => write!(
                f,
                "dev-dependency `{key}` dropped: it points outside what the services build"
            ),
            ManifestOp::NoAutobins => {
                write!(f, "`autobins = false`: only the listed binaries build")
            }
            ManifestOp::SetLibPath { path } => write!(f, "library target rooted at `{path}`"),
            ManifestOp::KeepLibName { name } => write!(f, "library keeps its crate name `{name}`"),
            ManifestOp::SetBin { was, name, path } if was == name => {
                write!(f, "binary `{name}` at `{path}`")
            }
            ManifestOp::SetBin { was, name, path } => {
                write!(f, "binary `{was}` is `{name}`, at `{path}`")
            }
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
        ManifestOp::Inherit {
            workspace,
            package_to_root,
        } => {
            let root: DocumentMut = workspace
                .parse()
                .map_err(|e| format!("workspace manifest: {e}"))?;
            inherit(doc, &root, package_to_root)?;
        }
        ManifestOp::RenameDependency { key, package } => {
            for table in dependency_tables(doc) {
                let Some(dep) = table.get_mut(key) else {
                    continue;
                };
                match dep {
                    Item::Value(toml_edit::Value::InlineTable(t)) => {
                        // The space before `}` stays the last thing in the table.
                        let suffix = t.iter_mut().last().and_then(|(_, last)| {
                            let suffix = last.decor().suffix().cloned();
                            last.decor_mut().set_suffix("");
                            suffix
                        });
                        let mut entry: toml_edit::Value = package.as_str().into();
                        if let Some(suffix) = suffix {
                            entry.decor_mut().set_suffix(suffix);
                        }
                        t.insert("package", entry);
                    }
                    Item::Table(t) => {
                        t["package"] = value(package.as_str());
                    }
                    _ => return Err(format!("dependency `{key}` is not a table")),
                }
            }
        }
        ManifestOp::DropDevDependency { key } => {
            for table in tables_of_kinds(doc, &["dev-dependencies"]) {
                table.remove(key);
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
        ManifestOp::SetBin { was, name, path } => {
            let bins = doc
                .entry("bin")
                .or_insert_with(|| Item::ArrayOfTables(Default::default()))
                .as_array_of_tables_mut()
                .ok_or("`bin` is not an array of tables")?;
            let listed = bins
                .iter_mut()
                .find(|b| b.get("name").and_then(|n| n.as_str()) == Some(was));
            match listed {
                Some(bin) => {
                    for (key, to) in [("name", name), ("path", path)] {
                        if bin.get(key).and_then(|v| v.as_str()) != Some(to) {
                            set_keeping_decor(&mut bin[key], to);
                        }
                    }
                }
                None => {
                    let mut bin = Table::new();
                    bin["name"] = value(name.as_str());
                    bin["path"] = value(path.as_str());
                    bins.push(bin);
                }
            }
        }
    }
    Ok(())
}

/// The tables of dependencies in `doc`: top-level and per target.
fn dependency_tables(doc: &mut DocumentMut) -> Vec<&mut dyn toml_edit::TableLike> {
    tables_of_kinds(
        doc,
        &["dependencies", "dev-dependencies", "build-dependencies"],
    )
}

/// The dependency tables of `kinds`, of every platform.
fn tables_of_kinds<'d>(
    doc: &'d mut DocumentMut,
    kinds: &[&str],
) -> Vec<&'d mut dyn toml_edit::TableLike> {
    let mut tables: Vec<&mut dyn toml_edit::TableLike> = Vec::new();
    for (key, item) in doc.as_table_mut().iter_mut() {
        if kinds.contains(&key.get()) {
            tables.extend(item.as_table_like_mut());
        } else if key.get() == "target" {
            let Some(targets) = item.as_table_like_mut() else {
                continue;
            };
            for (_, target) in targets.iter_mut() {
                let Some(target) = target.as_table_like_mut() else {
                    continue;
                };
                for (kind, deps) in target.iter_mut() {
                    if kinds.contains(&kind.get()) {
                        tables.extend(deps.as_table_like_mut());
                    }
                }
            }
        }
    }
    tables
}

fn inherits(item: &Item) -> bool {
    item.get("workspace").and_then(|w| w.as_bool()) == Some(true)
}

fn inherit(doc: &mut DocumentMut, root: &DocumentMut, package_to_root: &str) -> Result<(), String> {
    let workspace = root
        .get("workspace")
        .ok_or("the workspace root has no [workspace]")?;
    if let Some(package) = doc.get_mut("package").and_then(|p| p.as_table_like_mut()) {
        for (key, item) in package.iter_mut() {
            if !inherits(item) {
                continue;
            }
            let value = workspace
                .get("package")
                .and_then(|p| p.get(key.get()))
                .and_then(|v| v.as_value())
                .ok_or_else(|| {
                    format!(
                        "`package.{}` is inherited but the workspace does not set it",
                        key.get()
                    )
                })?;
            *item = Item::Value(value.clone());
        }
    }
    // `[lints] workspace = true`: the root's `[workspace.lints]`, whole.
    if doc.get("lints").is_some_and(inherits) {
        let lints = workspace
            .get("lints")
            .and_then(|l| l.as_table_like())
            .ok_or("`lints` is inherited but the workspace does not set `[workspace.lints]`")?;
        let mut own = Table::new();
        for (tool, rules) in lints.iter() {
            let mut table = Table::new();
            for (lint, level) in rules.as_table_like().into_iter().flat_map(|r| r.iter()) {
                table.insert(lint, level.clone());
            }
            own.insert(tool, Item::Table(table));
        }
        own.set_implicit(true);
        doc["lints"] = Item::Table(own);
    }
    let shared = workspace
        .get("dependencies")
        .and_then(|d| d.as_table_like());
    for table in dependency_tables(doc) {
        for (key, item) in table.iter_mut() {
            if !inherits(item) {
                continue;
            }
            let name = key.get().to_string();
            let base = shared.and_then(|d| d.get(&name)).ok_or_else(|| {
                format!("dependency `{name}` is inherited but `[workspace.dependencies]` lacks it")
            })?;
            let mut spec = InlineTable::new();
            match base {
                Item::Value(toml_edit::Value::String(version)) => {
                    spec.insert("version", version.value().as_str().into());
                }
                other => {
                    for (k, v) in other
                        .as_table_like()
                        .ok_or("unreadable workspace dependency")?
                        .iter()
                    {
                        let Some(v) = v.as_value() else { continue };
                        let v = match (k, v.as_str()) {
                            ("path", Some(path)) => {
                                toml_edit::Value::from(rebase(package_to_root, path))
                            }
                            _ => v.clone(),
                        };
                        spec.insert(k, v);
                    }
                }
            }
            // The member's own keys: extra features, optional, default-features.
            for (k, v) in item.as_table_like().into_iter().flat_map(|t| t.iter()) {
                let Some(v) = v.as_value() else { continue };
                match k {
                    "workspace" => {}
                    "features" => {
                        let mut features = spec
                            .get("features")
                            .and_then(|f| f.as_array())
                            .cloned()
                            .unwrap_or_default();
                        for f in v.as_array().into_iter().flatten() {
                            if !features.iter().any(|x| x.as_str() == f.as_str()) {
                                features.push(f.clone());
                            }
                        }
                        features.fmt();
                        spec.insert("features", features.into());
                    }
                    _ => {
                        spec.insert(k, v.clone());
                    }
                }
            }
            spec.fmt();
            let decor = item.as_value().map(|v| v.decor().clone());
            let mut value = toml_edit::Value::InlineTable(spec);
            if let Some(decor) = decor {
                *value.decor_mut() = decor;
            }
            *item = Item::Value(value);
        }
    }
    Ok(())
}

/// `path` of the workspace root, as seen from the package (`package_to_root`
/// leads from the package's folder to the root's).
fn rebase(package_to_root: &str, path: &str) -> String {
    let joined = if package_to_root == "." {
        path.to_string()
    } else {
        format!("{package_to_root}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "." | "" => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
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

/// The dependencies of the manifest `text` pinned to one version (`=1.2.3`):
/// (crate, version).
pub fn exact_pins(text: &str) -> Vec<(String, String)> {
    let Ok(mut doc) = text.parse::<DocumentMut>() else {
        return Vec::new();
    };
    let mut pins = Vec::new();
    for table in dependency_tables(&mut doc) {
        for (key, item) in table.iter() {
            let version = match item.as_str() {
                Some(v) => Some(v),
                None => item.get("version").and_then(|v| v.as_str()),
            };
            let Some(pinned) = version.and_then(|v| v.trim().strip_prefix('=')) else {
                continue;
            };
            let name = item.get("package").and_then(|p| p.as_str()).unwrap_or(key);
            pins.push((name.to_string(), pinned.trim().to_string()));
        }
    }
    pins
}

/// Whether the manifest `text` inherits anything with `workspace = true`.
pub fn inherits_from_workspace(text: &str) -> bool {
    let Ok(mut doc) = text.parse::<DocumentMut>() else {
        return false;
    };
    let fields = doc
        .get("package")
        .and_then(|p| p.as_table_like())
        .is_some_and(|p| p.iter().any(|(_, v)| inherits(v)));
    fields
        || doc.get("lints").is_some_and(inherits)
        || dependency_tables(&mut doc)
            .iter()
            .any(|t| t.iter().any(|(_, v)| inherits(v)))
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
    fn every_table_naming_a_renamed_dependency_follows_it() {
        let manifest = r#"[package]
name = "server"

[features]
default = ["common/serde", "dep:common", "common?/fast"]

[dependencies.common]
path = "../common"

[target.'cfg(unix)'.dependencies]
common = { path = "../common", optional = true }

[dev-dependencies]
common = { path = "../common", features = ["testing"] }

[build-dependencies]
common = { path = "../common" }
"#;
        let op = ManifestOp::RenameDependency {
            key: "common".into(),
            package: "api-common".into(),
        };
        // The key stays: features (`common/serde`, `dep:common`) and sources name it.
        expect_test::expect![[r#"
            [package]
            name = "server"

            [features]
            default = ["common/serde", "dep:common", "common?/fast"]

            [dependencies.common]
            path = "../common"
            package = "api-common"

            [target.'cfg(unix)'.dependencies]
            common = { path = "../common", optional = true, package = "api-common" }

            [dev-dependencies]
            common = { path = "../common", features = ["testing"], package = "api-common" }

            [build-dependencies]
            common = { path = "../common", package = "api-common" }
        "#]]
        .assert_eq(&apply(manifest, &[&op]).unwrap());
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
common = { path = "../common", package = "greeter-common" } # shared helpers
"#
        );
    }

    #[test]
    fn inherited_fields_and_dependencies_take_the_roots_values() {
        let root = r#"[workspace]
members = ["services/api", "libs/common"]

[workspace.package]
version = "1.2.0"
edition = "2021"

[workspace.dependencies]
tokio = { version = "1", features = ["macros"] }
serde = "1"
common = { path = "libs/common" }

[workspace.lints.rust]
unsafe_code = "forbid"
unexpected_cfgs = { level = "warn", check-cfg = ['cfg(web)'] }

[workspace.lints.clippy]
large_futures = "warn"
"#;
        let member = r#"[package]
name = "api"
version.workspace = true
edition = { workspace = true }

[dependencies]
tokio = { workspace = true, features = ["rt-multi-thread"] } # the runtime
serde.workspace = true
common = { workspace = true, optional = true }

[lints]
workspace = true
"#;
        let op = ManifestOp::Inherit {
            workspace: root.into(),
            package_to_root: "../..".into(),
        };
        let out = apply(member, &[&op]).unwrap();
        assert_eq!(
            out,
            r#"[package]
name = "api"
version = "1.2.0"
edition = "2021"

[dependencies]
tokio = { version = "1", features = ["macros", "rt-multi-thread"] } # the runtime
serde = { version = "1" }
common = { path = "../../libs/common", optional = true }

[lints.rust]
unsafe_code = "forbid"
unexpected_cfgs = { level = "warn", check-cfg = ['cfg(web)'] }

[lints.clippy]
large_futures = "warn"
"#
        );
    }

    #[test]
    fn a_listed_binary_can_be_renamed() {
        let manifest = "[[bin]]\nname = \"server\"\npath = \"src/main.rs\"\n";
        let op = ManifestOp::SetBin {
            was: "server".into(),
            name: "api-server".into(),
            path: "src/knit_main.rs".into(),
        };
        assert_eq!(
            apply(manifest, &[&op]).unwrap(),
            "[[bin]]\nname = \"api-server\"\npath = \"src/knit_main.rs\"\n"
        );
    }

    #[test]
    fn listed_binaries_are_repointed_not_duplicated() {
        let manifest = "[package]\nname = \"svc\"\n\n[[bin]]\nname = \"svc\" # the server\npath = \"src/main.rs\"\n";
        let ops = [
            ManifestOp::SetBin {
                was: "svc".into(),
                name: "svc".into(),
                path: "src/knit_main.rs".into(),
            },
            ManifestOp::SetBin {
                was: "migrate".into(),
                name: "migrate".into(),
                path: "src/bin/migrate.rs".into(),
            },
        ];
        let out = apply(manifest, &ops.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(
            out,
            "[package]\nname = \"svc\"\n\n[[bin]]\nname = \"svc\" # the server\npath = \"src/knit_main.rs\"\n\n[[bin]]\nname = \"migrate\"\npath = \"src/bin/migrate.rs\"\n"
        );
    }

    #[test]
    fn lifting_adds_lib_bin_and_dependency() {
        let out = run(&[
            ManifestOp::NoAutobins,
            ManifestOp::SetLibPath {
                path: "src/main.rs".into(),
            },
            ManifestOp::SetBin {
                was: "greeter".into(),
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
