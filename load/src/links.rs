//! Native libraries that Cargo cannot hold twice: a package with `links = "x"`
//! claims native library `x` for the whole build, so two different packages (or
//! two versions of one, kept apart because they are semver-incompatible) with
//! the same `links` key cannot be built into one binary. Found before building,
//! from the services' lockfiles and the `links` keys of the locked packages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::lockmerge::{Kept, kept};

/// Where the `links` key of a registry package is read from.
pub trait LinksOf {
    /// `Some(None)`: the package links nothing; `None`: unknown.
    fn links(&self, name: &str, version: &str) -> Option<Option<String>>;
}

/// Cargo's extracted registry sources (`$CARGO_HOME/registry/src/*/NAME-VERSION`),
/// where every package a service has built is unpacked with its manifest.
pub struct CargoHome {
    sources: Vec<PathBuf>,
}

impl CargoHome {
    /// `$CARGO_HOME`, or `~/.cargo`.
    pub fn from_env() -> CargoHome {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
        CargoHome::at(home.as_deref())
    }

    pub fn at(home: Option<&Path>) -> CargoHome {
        let sources = home
            .and_then(|h| std::fs::read_dir(h.join("registry/src")).ok())
            .into_iter()
            .flatten()
            .filter_map(|e| Some(e.ok()?.path()))
            .collect();
        CargoHome { sources }
    }
}

impl LinksOf for CargoHome {
    fn links(&self, name: &str, version: &str) -> Option<Option<String>> {
        let text = self.sources.iter().find_map(|dir| {
            std::fs::read_to_string(dir.join(format!("{name}-{version}/Cargo.toml"))).ok()
        })?;
        let manifest: Table = text.parse().ok()?;
        let links = manifest
            .get("package")
            .and_then(|p| p.get("links"))
            .and_then(Value::as_str);
        Some(links.map(str::to_string))
    }
}

/// The `links` keys of the packages a merged build keeps, read from the
/// registry while loading, so that the merge itself reads no file.
#[derive(Clone, Debug, Default)]
pub struct LinksKeys(BTreeMap<(String, String), Option<String>>);

impl LinksKeys {
    /// Asks `registry` for the `links` key of every package that
    /// [`crate::lockmerge`] keeps from `lockfiles`.
    pub fn read(lockfiles: &[(&str, &str)], registry: &dyn LinksOf) -> LinksKeys {
        let mut keys = BTreeMap::new();
        for k in kept(lockfiles) {
            let (name, version) = (k.package.name, k.package.version);
            if let Some(links) = registry.links(&name, &version) {
                keys.insert((name, version), links);
            }
        }
        LinksKeys(keys)
    }
}

impl LinksOf for LinksKeys {
    fn links(&self, name: &str, version: &str) -> Option<Option<String>> {
        self.0
            .get(&(name.to_string(), version.to_string()))
            .cloned()
    }
}

/// What the check found: clashes stop the merge; notes go to the report.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    pub clashes: Vec<String>,
    pub notes: Vec<String>,
}

/// Checks the packages the merged build would hold for `links` keys claimed twice.
/// `lockfiles` pairs each service with the text of its `Cargo.lock`.
pub fn check(lockfiles: &[(&str, &str)], registry: &dyn LinksOf) -> Found {
    let mut found = Found::default();
    let mut by_key: BTreeMap<String, Vec<&Kept>> = BTreeMap::new();
    let mut unknown_sys: BTreeMap<&str, Vec<&Kept>> = BTreeMap::new();
    let packages = kept(lockfiles);
    for package in &packages {
        match registry.links(&package.package.name, &package.package.version) {
            Some(Some(key)) => by_key.entry(key).or_default().push(package),
            Some(None) => {}
            None if package.package.name.ends_with("-sys") => unknown_sys
                .entry(&package.package.name)
                .or_default()
                .push(package),
            None => {}
        }
    }
    let describe = |k: &Kept| {
        let p = &k.package;
        format!("`{} {}` ({})", p.name, p.version, k.services.join(", "))
    };
    for (key, claimants) in by_key.iter().filter(|(_, c)| c.len() > 1) {
        let who: Vec<String> = claimants.iter().map(|p| describe(p)).collect();
        found.clashes.push(format!(
            "{} all link the native library `{key}` (`links = \"{key}\"`): Cargo builds one package per `links` key, so these services cannot share one binary; lock one version of it in every service",
            who.join(" and ")
        ));
    }
    // Cargo locks no two packages of one `links` key: versions one service
    // locked together (`windows-sys` 0.48 and 0.61 in one lockfile) link
    // different libraries, or none.
    let together = |versions: &[&Kept]| {
        let first = versions.first().map(|k| &k.services);
        first
            .into_iter()
            .flatten()
            .any(|service| versions.iter().all(|k| k.services.contains(service)))
    };
    for versions in unknown_sys.values().filter(|v| v.len() > 1 && !together(v)) {
        let who: Vec<String> = versions.iter().map(|p| describe(p)).collect();
        found.notes.push(format!(
            "{}: two versions of a `-sys` crate usually link the same native library, which Cargo refuses; its sources are not in Cargo's registry cache, so knit could not read its `links` key",
            who.join(" and ")
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry of known `links` keys; every other package links nothing,
    /// except those listed as unknown.
    struct Known(&'static [(&'static str, &'static str, Option<&'static str>)]);

    impl LinksOf for Known {
        fn links(&self, name: &str, version: &str) -> Option<Option<String>> {
            self.0
                .iter()
                .find(|(n, v, _)| *n == name && *v == version)
                .map(|(_, _, links)| links.map(str::to_string))
                .or(Some(None).filter(|_| !name.ends_with("-sys")))
        }
    }

    fn lock(packages: &[(&str, &str)]) -> String {
        let mut text = String::from("version = 4\n");
        for (name, version) in packages {
            text.push_str(&format!("\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"));
        }
        text
    }

    #[test]
    fn one_links_key_claimed_by_two_packages_is_a_clash() {
        let registry = Known(&[
            ("libsqlite3-sys", "0.26.0", Some("sqlite3")),
            ("libsqlite3-sys", "0.30.1", Some("sqlite3")),
            ("libsqlite3-sys", "0.30.0", Some("sqlite3")),
            ("openssl-sys", "0.9.100", Some("openssl")),
            ("openssl-sys", "0.9.104", Some("openssl")),
        ]);
        let a = lock(&[("libsqlite3-sys", "0.26.0"), ("openssl-sys", "0.9.100")]);
        let b = lock(&[("libsqlite3-sys", "0.30.1"), ("openssl-sys", "0.9.104")]);
        // Two versions one service locked together link no one library
        // (Cargo would not have locked them): no note.
        let c = lock(&[
            ("libsqlite3-sys", "0.30.0"),
            ("zlib-sys", "1.0.0"),
            ("windows-sys", "0.48.0"),
            ("windows-sys", "0.61.1"),
        ]);
        let d = lock(&[("zlib-sys", "2.0.0")]);
        let found = check(&[("a", &a), ("b", &b), ("c", &c), ("d", &d)], &registry);
        assert_eq!(
            found,
            Found {
                // openssl-sys 0.9.100 and 0.9.104 unify into one package: no clash.
                clashes: vec!["`libsqlite3-sys 0.26.0` (a) and `libsqlite3-sys 0.30.1` (b, c) all link the native library `sqlite3` (`links = \"sqlite3\"`): Cargo builds one package per `links` key, so these services cannot share one binary; lock one version of it in every service".into()],
                notes: vec!["`zlib-sys 1.0.0` (c) and `zlib-sys 2.0.0` (d): two versions of a `-sys` crate usually link the same native library, which Cargo refuses; its sources are not in Cargo's registry cache, so knit could not read its `links` key".into()],
            }
        );
    }

    #[test]
    fn links_keys_are_read_from_cargos_registry_sources() {
        let home = tempfile::tempdir().unwrap();
        let package = home
            .path()
            .join("registry/src/index.crates.io-1949cf8c6b5b557f/libz-sys-1.1.20");
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(
            package.join("Cargo.toml"),
            "[package]\nname = \"libz-sys\"\nversion = \"1.1.20\"\nlinks = \"z\"\n",
        )
        .unwrap();
        let registry = CargoHome::at(Some(home.path()));
        assert_eq!(registry.links("libz-sys", "1.1.20"), Some(Some("z".into())));
        assert_eq!(registry.links("libz-sys", "1.1.21"), None);
    }
}
