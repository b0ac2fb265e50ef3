//! Feature unification: Cargo builds each registry crate once per
//! semver-compatible range for the whole merged workspace, with the union of the
//! features every dependent asks for. A feature one service enables therefore
//! turns on code in the other services' copy too. This finds, before building,
//! every crate that two services ask for with different features (from their
//! manifests: dependency declarations, `workspace = true` inheritance, and the
//! `dep/feature` entries of the packages' default features) and lists it in the
//! report. Features that dependencies enable on their own dependencies are not
//! seen: that needs Cargo's resolver.

use std::collections::{BTreeMap, BTreeSet};

use toml_edit::{DocumentMut, Item, TableLike};

use crate::edit::{Level, Output};
use crate::model::Group;
use crate::pass::PassId;
use crate::versions::requirement_range;

const PASS: PassId = PassId::Namespace;

/// What one service asks of one registry crate.
#[derive(Clone, Debug, Default, PartialEq)]
struct Asked {
    features: BTreeSet<String>,
    /// Whether the crate's default features are on.
    default: bool,
}

/// One dependency declaration: (crate, semver range, or the requirement when
/// it spans several) and what it asks.
type Request = ((String, String), Asked);

/// The normal dependency tables of `doc` (top-level and per target), by key.
fn normal_dependencies(doc: &DocumentMut) -> Vec<(&str, &Item)> {
    let mut tables: Vec<&dyn TableLike> = doc
        .get("dependencies")
        .and_then(Item::as_table_like)
        .into_iter()
        .collect();
    let targets = doc.get("target").and_then(Item::as_table_like);
    for (_, target) in targets.into_iter().flat_map(|t| t.iter()) {
        tables.extend(target.get("dependencies").and_then(Item::as_table_like));
    }
    tables.into_iter().flat_map(|t| t.iter()).collect()
}

fn strings(item: Option<&Item>) -> impl Iterator<Item = String> + '_ {
    item.and_then(Item::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
}

/// The registry crates the manifest `text` depends on, with what it asks of
/// each; `workspace` is the text of its workspace root, for inherited entries.
fn requests(text: &str, workspace: Option<&str>) -> Vec<Request> {
    let Ok(doc) = text.parse::<DocumentMut>() else {
        return Vec::new();
    };
    let root = workspace.and_then(|w| w.parse::<DocumentMut>().ok());
    let inherited = |key: &str| {
        root.as_ref()?
            .get("workspace")?
            .get("dependencies")?
            .get(key)
            .cloned()
    };
    // key -> (crate, range, asked)
    let mut by_key: BTreeMap<String, Request> = BTreeMap::new();
    for (key, item) in normal_dependencies(&doc) {
        let from_root = (item.get("workspace").and_then(Item::as_bool) == Some(true))
            .then(|| inherited(key))
            .flatten();
        let decl = from_root.as_ref().unwrap_or(item);
        if decl.get("path").is_some() || decl.get("git").is_some() {
            continue;
        }
        let version = decl.as_str().or_else(|| decl.get("version")?.as_str());
        let Some(version) = version else { continue };
        let name = decl.get("package").and_then(Item::as_str).unwrap_or(key);
        let mut features: BTreeSet<String> = strings(decl.get("features")).collect();
        features.extend(strings(item.get("features")));
        let default = decl.get("default-features").and_then(Item::as_bool) != Some(false);
        let asked = Asked { features, default };
        // A requirement that spans several ranges is its own.
        let range = requirement_range(version).unwrap_or_else(|| version.trim().to_string());
        by_key.insert(key.to_string(), ((name.to_string(), range), asked));
    }
    // The package's default features may enable features of its dependencies.
    let own = doc.get("features").and_then(Item::as_table_like);
    let mut active: Vec<String> = vec!["default".into()];
    let mut seen = BTreeSet::new();
    while let Some(feature) = active.pop() {
        if !seen.insert(feature.clone()) {
            continue;
        }
        for entry in strings(own.and_then(|f| f.get(&feature))) {
            match entry.split_once('/') {
                Some((dep, enabled)) => {
                    if let Some((_, asked)) = by_key.get_mut(dep.trim_end_matches('?')) {
                        asked.features.insert(enabled.to_string());
                    }
                }
                None if !entry.starts_with("dep:") => active.push(entry),
                None => {}
            }
        }
    }
    by_key.into_values().collect()
}

/// Adds a note for every registry crate that services of `group` ask for with
/// different features or default features.
pub fn check(group: &Group, out: &mut Output) {
    // (crate, range) -> service -> what it asks, over all its packages
    let mut asked: BTreeMap<(String, String), BTreeMap<&str, Asked>> = BTreeMap::new();
    for service in &group.services {
        for package in &service.packages {
            let workspace = package.workspace.as_ref().map(|(text, _)| text.as_str());
            for (krate, wants) in requests(&group.file(package.manifest).text, workspace) {
                let slot = asked
                    .entry(krate)
                    .or_default()
                    .entry(&service.name)
                    .or_default();
                slot.features.extend(wants.features);
                slot.default |= wants.default;
            }
        }
    }
    for ((krate, range), services) in asked.iter().filter(|(_, s)| s.len() > 1) {
        let all: BTreeSet<&String> = services.values().flat_map(|a| &a.features).collect();
        let default = services.values().any(|a| a.default);
        for (service, wants) in services {
            let mut gained: Vec<String> = all
                .iter()
                .filter(|f| !wants.features.contains(**f))
                .map(|f| format!("`{f}`"))
                .collect();
            if default && !wants.default {
                gained.insert(0, "its default features".into());
            }
            if gained.is_empty() {
                continue;
            }
            let from: Vec<String> = services
                .iter()
                .filter(|(s, a)| *s != service && **a != *wants)
                .map(|(s, _)| format!("`{s}`"))
                .collect();
            out.finding(
                PASS,
                Level::Note,
                None,
                format!(
                    "feature unification: `{krate}` {range} is built once for the merged binary, so service `{service}` gets {} as well, enabled by {}; code behind those features changes in `{service}`'s build",
                    gained.join(", "),
                    from.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::edit::Output;
    use crate::fixture::group;

    #[test]
    fn features_one_service_enables_are_listed_for_the_others() {
        let group = group(
            r#"
//- /a/Cargo.toml
[package]
name = "a"
edition = "2021"
[features]
default = ["fast"]
fast = ["dep:simd", "serde?/std"]
[dependencies]
tokio = { version = "1.40", features = ["macros", "rt-multi-thread"] }
serde = { version = "1", default-features = false, features = ["derive"] }
rand = "0.8"
[target.'cfg(unix)'.dependencies]
nix = { version = "0.29", features = ["signal"] }
//- /a/src/main.rs
#[tokio::main]
async fn main() {}
//- /b/Cargo.toml
[package]
name = "b"
edition = "2021"
[dependencies]
tokio = { version = "^1.45", features = ["macros", "rt-multi-thread", "net"] }
serde = { version = "1.0.200", features = ["derive", "std"] }
rand = "0.9"
nix = "0.29"
common = { path = "common" }
//- /b/src/main.rs
#[tokio::main]
async fn main() {}
//- /b/common/Cargo.toml
[package]
name = "common"
edition = "2021"
//- /b/common/src/lib.rs
"#,
        );
        let mut out = Output::default();
        super::check(&group, &mut out);
        let notes: Vec<&String> = out.findings.iter().map(|f| &f.message).collect();
        expect![[r#"
            [
                "feature unification: `nix` 0.29 is built once for the merged binary, so service `b` gets `signal` as well, enabled by `a`; code behind those features changes in `b`'s build",
                "feature unification: `serde` 1 is built once for the merged binary, so service `a` gets its default features as well, enabled by `b`; code behind those features changes in `a`'s build",
                "feature unification: `tokio` 1 is built once for the merged binary, so service `a` gets `net` as well, enabled by `b`; code behind those features changes in `a`'s build",
            ]
        "#]]
        .assert_debug_eq(&notes);
    }

    #[test]
    fn inherited_dependencies_take_the_workspace_declaration() {
        let root = "[workspace.dependencies]\ntokio = { version = \"1.45\", default-features = false, features = [\"rt\"] }\n";
        let member = "[package]\nname = \"m\"\nedition = \"2021\"\n[dependencies]\ntokio = { workspace = true, features = [\"net\"] }\n";
        expect![[r#"
            [
                (
                    (
                        "tokio",
                        "1",
                    ),
                    Asked {
                        features: {
                            "net",
                            "rt",
                        },
                        default: false,
                    },
                ),
            ]
        "#]]
        .assert_debug_eq(&super::requests(member, Some(root)));
    }
}
