//! The merged workspace's `Cargo.lock`, from the services' own lockfiles: each
//! service keeps the versions it was tested with wherever Cargo allows. Cargo
//! holds one version per semver-compatible range, so where services locked
//! different compatible versions the highest is kept, and the merge says so.

use std::collections::BTreeMap;

use knit_model::versions::{lowest, version_range};
use toml::Value;

use crate::cargolock::{CargoLock, LockedPackage};

/// A registry or git package the merged build keeps: the highest locked version
/// of its semver-compatible range.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Kept {
    pub package: LockedPackage,
    /// The services that locked a version of its range.
    pub services: Vec<String>,
    /// Every version locked in its range, lowest first, with the services that
    /// locked each.
    pub versions: Vec<(String, Vec<String>)>,
}

/// The services of `loaded` that have a lockfile: (service name, its text).
pub fn of_services(loaded: &crate::load::Loaded) -> Vec<(&str, &str)> {
    with_lockfiles(&loaded.group.services, &loaded.lockfiles)
}

/// The `services` that have a lockfile (each service's, by index, in
/// `lockfiles`): (service name, its text).
pub(crate) fn with_lockfiles<'a>(
    services: &'a [knit_model::Service],
    lockfiles: &'a [Option<String>],
) -> Vec<(&'a str, &'a str)> {
    services
        .iter()
        .zip(lockfiles)
        .filter_map(|(s, l)| Some((s.name.as_str(), l.as_deref()?)))
        .collect()
}

/// The packages the merged build keeps from `lockfiles` (service name,
/// `Cargo.lock` text), by name and version. Path packages (no `source`) are the
/// workspace's own: Cargo adds them.
pub(crate) fn kept(lockfiles: &[(&str, &str)]) -> Vec<Kept> {
    // (name, range, source) -> (services, version -> (services, package)).
    // Packages of two sources (a git fork beside the registry's) are two
    // packages to Cargo, of one name and version: both stay. A git source's
    // commit (after `#`) is not part of it: one repository's commits unify.
    type Range = (Vec<String>, BTreeMap<String, (Vec<String>, LockedPackage)>);
    let mut ranges: BTreeMap<(String, String, String), Range> = BTreeMap::new();
    for (service, text) in lockfiles {
        for package in CargoLock::lenient(text).sourced() {
            let range = version_range(&package.version).unwrap_or_else(|| package.version.clone());
            let source = package.source.as_deref().unwrap_or_default();
            let source = source.split('#').next().unwrap_or_default().to_string();
            let (services, versions) = ranges
                .entry((package.name.clone(), range, source))
                .or_default();
            let slot = versions
                .entry(package.version.clone())
                .or_insert_with(|| (Vec::new(), package.clone()));
            for who in [services, &mut slot.0] {
                if !who.iter().any(|s| s == service) {
                    who.push(service.to_string());
                }
            }
        }
    }
    let mut kept: Vec<Kept> = ranges
        .into_values()
        .map(|(services, versions)| {
            let mut versions: Vec<(String, (Vec<String>, LockedPackage))> =
                versions.into_iter().collect();
            versions.sort_by_key(|(v, _)| lowest(v));
            let package = versions
                .last()
                .expect("a range holds a version")
                .1
                .1
                .clone();
            Kept {
                package,
                services,
                versions: versions.into_iter().map(|(v, (s, _))| (v, s)).collect(),
            }
        })
        .collect();
    kept.sort_by(|a, b| {
        (a.package.name.as_str(), lowest(&a.package.version))
            .cmp(&(b.package.name.as_str(), lowest(&b.package.version)))
    });
    kept
}

/// Merges `lockfiles` (service name, `Cargo.lock` text). Returns the merged
/// lockfile and one note per crate whose versions had to unify (`links`
/// clashes are the business of [`crate::links`]).
pub fn merge(lockfiles: &[(&str, &str)]) -> (String, Vec<String>) {
    let kept = kept(lockfiles);
    let mut notes = Vec::new();
    // name version -> name version kept, for the references of other entries.
    let mut replaced: BTreeMap<String, String> = BTreeMap::new();
    for k in kept.iter().filter(|k| k.versions.len() > 1) {
        let (name, highest) = (&k.package.name, &k.package.version);
        let who: Vec<String> = k
            .versions
            .iter()
            .map(|(v, s)| format!("{} locked {v}", s.join(", ")))
            .collect();
        notes.push(format!("crate `{name}`: {}; the merged build uses {highest} (Cargo unifies semver-compatible versions)", who.join("; ")));
        for (version, _) in k.versions.iter().filter(|(v, _)| v != highest) {
            replaced.insert(format!("{name} {version}"), format!("{name} {highest}"));
        }
    }
    let mut out = String::from(
        "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\n# knit merged it from the services' lockfiles.\nversion = 4\n",
    );
    for k in kept {
        let mut entry = k.package.entry;
        if let Some(Value::Array(deps)) = entry.get_mut("dependencies") {
            for dep in deps.iter_mut() {
                let Some(text) = dep.as_str() else { continue };
                let key: String = text.split(' ').take(2).collect::<Vec<_>>().join(" ");
                if let Some(now) = replaced.get(&key) {
                    *dep = Value::String(now.clone());
                }
            }
        }
        out.push_str("\n[[package]]\n");
        for key in ["name", "version", "source", "checksum"] {
            if let Some(value) = entry.get(key) {
                out.push_str(&format!("{key} = {value}\n"));
            }
        }
        if let Some(Value::Array(deps)) = entry.get("dependencies") {
            out.push_str("dependencies = [\n");
            for dep in deps {
                out.push_str(&format!(" {dep},\n"));
            }
            out.push_str("]\n");
        }
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Table;

    fn lock(packages: &[(&str, &str, &[&str])]) -> String {
        let mut text = String::from("version = 4\n");
        for (name, version, deps) in packages {
            let source = if name.starts_with("svc") {
                String::new()
            } else {
                "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n".into()
            };
            let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
            text.push_str(&format!("\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n{source}dependencies = [{}]\n", deps.join(", ")));
        }
        text
    }

    /// A git fork of a registry crate, at the same version, in one lockfile:
    /// two packages to Cargo, both kept.
    #[test]
    fn one_version_from_two_sources_stays_two_packages() {
        let git = "git+https://github.com/Zondax/ledger-rs?rev=20e2a20#20e2a2076d799d449ff6f07eb82c1e5c5c6c3c74";
        let registry = "registry+https://github.com/rust-lang/crates.io-index";
        let text = format!(
            "version = 4\n\n[[package]]\nname = \"svc\"\nversion = \"0.1.0\"\ndependencies = [\"ledger-transport 0.10.0 ({registry})\", \"ledger-transport 0.10.0 ({git})\"]\n\n\
             [[package]]\nname = \"ledger-transport\"\nversion = \"0.10.0\"\nsource = \"{registry}\"\n\n\
             [[package]]\nname = \"ledger-transport\"\nversion = \"0.10.0\"\nsource = \"{git}\"\n"
        );
        let (merged, notes) = merge(&[("svc", &text)]);
        assert!(notes.is_empty(), "{notes:?}");
        let sources: Vec<&str> = merged
            .lines()
            .filter(|l| l.starts_with("source = "))
            .collect();
        assert_eq!(
            sources,
            [
                format!("source = \"{git}\""),
                format!("source = \"{registry}\"")
            ]
        );
    }

    #[test]
    fn compatible_versions_unify_incompatible_stay_apart() {
        let a = lock(&[
            ("svc-a", "0.1.0", &["tokio", "rand 0.8.5"]),
            ("tokio", "1.40.0", &[]),
            ("rand", "0.8.5", &[]),
            ("mio", "1.0.0", &[]),
        ]);
        let b = lock(&[
            ("svc-b", "0.1.0", &["tokio", "rand 0.9.1"]),
            ("tokio", "1.45.1", &["mio"]),
            ("rand", "0.9.1", &[]),
            ("openssl-sys", "0.9.1", &[]),
        ]);
        let c = lock(&[
            ("svc-c", "0.1.0", &["openssl-sys"]),
            ("openssl-sys", "0.10.0", &[]),
        ]);
        let (merged, notes) = merge(&[("a", &a), ("b", &b), ("c", &c)]);
        assert_eq!(
            notes,
            [
                "crate `tokio`: a locked 1.40.0; b locked 1.45.1; the merged build uses 1.45.1 (Cargo unifies semver-compatible versions)",
            ]
        );
        let lock: Table = merged.parse().unwrap();
        let packages: Vec<String> = lock["package"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{} {}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            packages,
            [
                "mio 1.0.0",
                "openssl-sys 0.9.1",
                "openssl-sys 0.10.0",
                "rand 0.8.5",
                "rand 0.9.1",
                "tokio 1.45.1"
            ]
        );
    }

    #[test]
    fn references_to_a_replaced_version_follow_it() {
        let a = lock(&[
            ("hyper", "1.0.0", &["bytes 1.5.0"]),
            ("bytes", "1.5.0", &[]),
        ]);
        let b = lock(&[("bytes", "1.9.0", &[])]);
        let (merged, _) = merge(&[("a", &a), ("b", &b)]);
        assert!(
            merged.contains("dependencies = [\n \"bytes 1.9.0\",\n]"),
            "{merged}"
        );
    }
}
