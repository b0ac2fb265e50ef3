//! `Cargo.lock`, read in one place: the services' lockfiles (their tonic, the
//! merged lockfile, `links` keys) and the merged workspace's. Also whether an
//! output's `Cargo.lock` is still the one knit wrote, as Cargo keeps it:
//! building the workspace rewrites the file (Cargo adds the workspace's own
//! packages and what knit's crates need, and drops what nothing uses) but
//! keeps every version knit locked. A registry package knit locked that now has
//! another version, source or checksum is an edit.

use std::collections::{BTreeMap, BTreeSet};

use toml::{Table, Value};

/// One `[[package]]` of a lockfile.
#[derive(Clone, Debug, PartialEq)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    /// Where it comes from (`registry+https://..`); `None` for a path package
    /// of the workspace.
    pub source: Option<String>,
    pub checksum: Option<String>,
    /// The entry as written, for a lockfile made from it.
    pub entry: Table,
}

/// A parsed `Cargo.lock`: its packages, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CargoLock {
    pub packages: Vec<LockedPackage>,
}

impl CargoLock {
    /// Reads a lockfile's text. Entries without a name or version are skipped.
    pub fn parse(text: &str) -> Result<CargoLock, toml::de::Error> {
        let lock: Table = text.parse()?;
        let entries = lock.get("package").and_then(Value::as_array);
        let packages = entries
            .into_iter()
            .flatten()
            .filter_map(Value::as_table)
            .filter_map(|entry| {
                let field = |key: &str| entry.get(key).and_then(Value::as_str).map(String::from);
                Some(LockedPackage {
                    name: field("name")?,
                    version: field("version")?,
                    source: field("source"),
                    checksum: field("checksum"),
                    entry: entry.clone(),
                })
            })
            .collect();
        Ok(CargoLock { packages })
    }

    /// The lockfile `text`, or an empty one when it is not valid TOML (loading
    /// refused those of the services).
    pub fn lenient(text: &str) -> CargoLock {
        CargoLock::parse(text).unwrap_or_default()
    }

    /// The packages from a registry or git (not the workspace's own).
    pub fn sourced(&self) -> impl Iterator<Item = &LockedPackage> {
        self.packages.iter().filter(|p| p.source.is_some())
    }

    /// The versions of crate `name` the lockfile holds.
    pub fn versions_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.packages
            .iter()
            .filter(move |p| p.name == name)
            .map(|p| p.version.as_str())
    }

    /// The highest version of crate `name` locked in the semver range `range`
    /// (`0.13`).
    pub fn highest_in<'a>(&'a self, name: &'a str, range: &str) -> Option<&'a str> {
        self.versions_of(name)
            .filter(|v| knit_model::versions::version_range(v).as_deref() == Some(range))
            .max_by_key(|v| knit_model::versions::lowest(v))
    }
}

/// A registry package of a lockfile: (version, source, checksum), by name.
type Registry = BTreeMap<String, BTreeSet<(String, String, String)>>;

fn registry(text: &str) -> Option<Registry> {
    let lock = CargoLock::parse(text).ok()?;
    let mut found = Registry::new();
    for p in lock.sourced() {
        let version = (
            p.version.clone(),
            p.source.clone().unwrap_or_default(),
            p.checksum.clone().unwrap_or_default(),
        );
        found.entry(p.name.clone()).or_default().insert(version);
    }
    Some(found)
}

/// Whether `current` keeps every registry package of `written`, the lockfile
/// knit wrote, as knit locked it.
pub fn keeps(current: &str, written: &str) -> bool {
    let (Some(current), Some(written)) = (registry(current), registry(written)) else {
        return false;
    };
    current.iter().all(|(name, versions)| {
        written
            .get(name)
            .is_none_or(|locked| versions.is_subset(locked))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRITTEN: &str = r#"version = 4
[[package]]
name = "bytes"
version = "1.5.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "aa"
"#;

    #[test]
    fn cargo_may_add_and_drop_but_not_change() {
        let added = format!(
            "{WRITTEN}[[package]]\nname = \"merged\"\nversion = \"0.1.0\"\n[[package]]\nname = \"pin-utils\"\nversion = \"0.1.0\"\nsource = \"registry+x\"\n"
        );
        assert!(keeps(&added, WRITTEN));
        assert!(keeps("version = 4\n", WRITTEN));
        assert!(!keeps(&WRITTEN.replace("1.5.0", "1.6.0"), WRITTEN));
        assert!(!keeps(&WRITTEN.replace("\"aa\"", "\"ab\""), WRITTEN));
        assert!(!keeps("not toml [", WRITTEN));
    }

    #[test]
    fn reads_packages_and_the_highest_of_a_range() {
        let lock = CargoLock::parse(&format!(
            "{WRITTEN}[[package]]\nname = \"bytes\"\nversion = \"1.9.0\"\nsource = \"registry+x\"\n[[package]]\nname = \"bytes\"\nversion = \"0.4.12\"\nsource = \"registry+x\"\n[[package]]\nname = \"svc\"\nversion = \"0.1.0\"\n"
        ))
        .unwrap();
        assert_eq!(lock.packages.len(), 4);
        assert_eq!(lock.sourced().count(), 3);
        assert_eq!(lock.highest_in("bytes", "1"), Some("1.9.0"));
        assert_eq!(lock.highest_in("bytes", "0.4"), Some("0.4.12"));
        assert_eq!(lock.highest_in("bytes", "2"), None);
    }
}
