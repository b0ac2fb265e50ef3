//! The `namespace` pass: every package of the merged workspace gets a name unique
//! to its service, so that packages of the same name from different services
//! (`common`, `server`) live side by side.
//!
//! Scheme: package `P` of service `S` becomes `S-P` (its library crate `S_P`).
//! Path dependencies between a service's own packages keep their keys and gain
//! `package = "S-P"`, so the crate names its sources use do not change and no
//! source path needs rewriting; for the same reason a library keeps its crate
//! name (`[lib] name`), which its package's binaries use. A service's own `[workspace]` table is dropped:
//! its packages join the merged workspace.

use std::collections::BTreeMap;

use crate::edit::{Level, Output};
use crate::manifest::{ManifestOp, exact_pins, inherits_from_workspace};
use crate::model::Group;
use crate::pass::PassId;
use crate::sharing::Sharing;

const PASS: PassId = PassId::Namespace;

/// The merged workspace's name for package `package` of service `service`.
pub fn package_name(service: &str, package: &str) -> String {
    format!("{service}-{package}")
}

/// The merged name of the package at `dir` (see [`merged_names`]).
pub fn merged_name(group: &Group, dir: &str) -> String {
    merged_names(group).remove(dir).unwrap_or_default()
}

/// The merged name of every package, by its folder: `S-P`, or `shared-P` for a
/// package that several services of the group use (it is kept once).
pub fn merged_names(group: &Group) -> BTreeMap<&str, String> {
    let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for service in &group.services {
        for package in &service.packages {
            users.entry(&package.dir).or_default().push(&service.name);
        }
    }
    let mut names = BTreeMap::new();
    for service in &group.services {
        for package in &service.packages {
            let name = match users[package.dir.as_str()].as_slice() {
                [_] => package_name(&service.name, &package.name),
                _ => format!("shared-{}", package.name),
            };
            names.entry(package.dir.as_str()).or_insert(name);
        }
    }
    names
}

/// Exact version pins (`=x.y.z`) of one crate that two packages of the group
/// cannot both hold: Cargo builds one version per semver-compatible range.
fn conflicting_pins(group: &Group, out: &mut Output) {
    let mut pins: BTreeMap<String, Vec<(String, crate::model::FileId)>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for package in group.services.iter().flat_map(|s| &s.packages) {
        if !seen.insert(package.manifest) {
            continue;
        }
        for (name, version) in exact_pins(&group.file(package.manifest).text) {
            pins.entry(name)
                .or_default()
                .push((version, package.manifest));
        }
    }
    for (name, pinned) in pins {
        let Some((first, first_file)) = pinned.first() else {
            continue;
        };
        for (version, file) in &pinned[1..] {
            let range = crate::versions::version_range;
            if version != first && range(version).is_some() && range(version) == range(first) {
                out.finding(PASS, Level::Error, Some((*file, 0.into())), format!(
                    "`{name}` is pinned to ={version} here and to ={first} in {}: one build cannot hold both",
                    group.file(*first_file).path
                ));
            }
        }
    }
}

pub fn run(group: &Group, _: &Sharing) -> Output {
    let mut out = Output::default();
    conflicting_pins(group, &mut out);
    crate::features::check(group, &mut out);
    let names = merged_names(group);
    let mut taken: BTreeMap<&str, &str> = BTreeMap::new();
    let mut done = std::collections::BTreeSet::new();
    for service in &group.services {
        for package in &service.packages {
            if !done.insert(package.dir.as_str()) {
                continue;
            }
            let renamed = &names[package.dir.as_str()];
            if let Some(other) = taken.insert(renamed, &package.dir) {
                out.finding(
                    PASS,
                    Level::Error,
                    Some((package.manifest, 0.into())),
                    format!(
                        "packages at `{}` and `{other}` would both be named `{renamed}`",
                        package.dir
                    ),
                );
            }
            for key in &package.dropped_dev_deps {
                let op = ManifestOp::DropDevDependency { key: key.clone() };
                out.manifest_ops.push((package.manifest, op));
            }
            let manifest = group.file(package.manifest);
            // What the package inherits from its workspace root is written out:
            // in the merged workspace, that root is gone.
            if inherits_from_workspace(&manifest.text) {
                match &package.workspace {
                    Some((root, root_dir)) => {
                        let package_to_root = crate::model::relative_path(&package.dir, root_dir);
                        let op = ManifestOp::Inherit {
                            workspace: root.clone(),
                            package_to_root,
                        };
                        out.manifest_ops.push((package.manifest, op));
                    }
                    None => out.finding(
                        PASS,
                        Level::Error,
                        Some((package.manifest, 0.into())),
                        "inherits with `workspace = true`, but its workspace root was not found",
                    ),
                }
            }
            let rename = ManifestOp::RenamePackage {
                to: renamed.clone(),
            };
            out.manifest_ops.push((package.manifest, rename));
            out.manifest_ops
                .push((package.manifest, ManifestOp::LeaveWorkspace));
            // A library keeps its crate name, which its binaries and dependents use.
            if let Some(lib) = &package.lib {
                let op = ManifestOp::KeepLibName {
                    name: lib.name.clone(),
                };
                out.manifest_ops.push((package.manifest, op));
            }
            for dep in &package.local_deps {
                let Some(target) = service.packages.iter().find(|p| p.name == dep.package) else {
                    continue;
                };
                let op = ManifestOp::RenameDependency {
                    key: dep.key.clone(),
                    package: names[target.dir.as_str()].clone(),
                };
                out.manifest_ops.push((package.manifest, op));
            }
            let shared = renamed.starts_with("shared-")
                && !package_name(&service.name, &package.name).starts_with("shared-");
            let message = if shared {
                format!(
                    "package `{}` is used by several services: kept once, as `{renamed}`",
                    package.name
                )
            } else {
                format!(
                    "package `{}` of service `{}` is `{renamed}` in the merged workspace",
                    package.name, service.name
                )
            };
            out.finding(
                PASS,
                Level::Note,
                Some((package.manifest, 0.into())),
                message,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::fixture::check;
    use crate::pass::PassId;

    #[test]
    fn packages_get_service_names_and_local_deps_follow() {
        let out = check(
            PassId::Namespace,
            r#"
//- /api/Cargo.toml
[package]
name = "server" # the API server
version = "0.1.0"
edition = "2021"

# A repository of its own.
[workspace]
members = ["common"]

[dependencies]
common = { path = "common" }
shared = { path = "shared", package = "common-utils" }
//- /api/src/main.rs
#[tokio::main]
async fn main() {}
//- /api/common/Cargo.toml
[package]
name = "common"
edition = "2021"
//- /api/shared/Cargo.toml
[package]
name = "common-utils"
edition = "2021"
"#,
        );
        expect![[r#"
            //- /api/Cargo.toml
            [package]
            name = "api-server" # the API server
            version = "0.1.0"
            edition = "2021"

            [dependencies]
            common = { path = "common", package = "api-common" }
            shared = { path = "shared", package = "api-common-utils" }
            //- /api/common/Cargo.toml
            [package]
            name = "api-common"
            edition = "2021"
            //- /api/shared/Cargo.toml
            [package]
            name = "api-common-utils"
            edition = "2021"
        "#]]
        .assert_eq(&out.render("api/"));
    }

    #[test]
    fn paths_naming_a_renamed_package_stay_valid_untouched() {
        // Only the package is renamed; the dependency key, which is the crate
        // name every path below uses, stays. So no path is rewritten, and the
        // sources are byte for byte the same (the pass emits no source edit).
        let sources = r#"//! Uses [`common::Config`] and [`::common::log!`].
extern crate common as shared_common;
use common::{self, Config as Cfg};
use ::common::prelude::*;

macro_rules! traced_call {
    ($e:expr) => { common::trace(stringify!($e), || $e) };
}

#[common::traced]
fn handler() -> common::Result<()> {
    common::log!("x");
    let c: common::Config = <common::Config as Default>::default();
    traced_call!(shared_common::ping());
    Ok(())
}
"#;
        let out = check(
            PassId::Namespace,
            &format!(
                "//- /api/Cargo.toml\n[package]\nname = \"server\"\nedition = \"2021\"\n[dependencies]\ncommon = {{ path = \"common\" }}\n\
             //- /api/src/main.rs\nmod handler;\n#[tokio::main]\nasync fn main() {{}}\n\
             //- /api/src/handler.rs\n{sources}\
             //- /api/common/Cargo.toml\n[package]\nname = \"common\"\nedition = \"2021\"\n//- /api/common/src/lib.rs\npub fn trace() {{}}\n"
            ),
        );
        let touched: Vec<&str> = out.files.iter().map(|(path, _)| path.as_str()).collect();
        expect![[r#"
            [
                "api/Cargo.toml",
                "api/common/Cargo.toml",
            ]
        "#]]
        .assert_debug_eq(&touched);
    }

    #[test]
    fn colliding_names_are_an_error() {
        let out = check(
            PassId::Namespace,
            "//- /a/Cargo.toml\n[package]\nname = \"b-c\"\nedition = \"2021\"\n//- /a/src/main.rs\n#[tokio::main]\nasync fn main() {}\n\
             //- /a-b/Cargo.toml\n[package]\nname = \"c\"\nedition = \"2021\"\n//- /a-b/src/main.rs\n#[tokio::main]\nasync fn main() {}\n",
        );
        expect!["Error a-b/Cargo.toml:1: packages at `a-b` and `a` would both be named `a-b-c`"]
            .assert_eq(&out.findings.join("\n"));
    }

    #[test]
    fn exact_pins_that_cannot_both_hold_are_an_error() {
        let out = check(
            PassId::Namespace,
            "//- /a/Cargo.toml\n[package]\nname = \"a\"\nedition = \"2021\"\n[dependencies]\nprost = \"=0.14.1\"\n//- /a/src/main.rs\n#[tokio::main]\nasync fn main() {}\n\
             //- /b/Cargo.toml\n[package]\nname = \"b\"\nedition = \"2021\"\n[dependencies]\nprost = { version = \"=0.14.3\" }\n//- /b/src/main.rs\n#[tokio::main]\nasync fn main() {}\n",
        );
        expect!["Error b/Cargo.toml:1: `prost` is pinned to =0.14.3 here and to =0.14.1 in a/Cargo.toml: one build cannot hold both"].assert_eq(&out.findings.join("\n"));
    }
}
