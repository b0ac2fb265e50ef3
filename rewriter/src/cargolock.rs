//! Whether a merged workspace's `Cargo.lock` is still the one knit wrote, as
//! Cargo keeps it. Building the workspace rewrites the file: Cargo adds the
//! workspace's own packages and what knit's crates need, and drops what
//! nothing uses, but keeps every version knit locked. A registry package knit
//! locked that now has another version, source or checksum is an edit.

use std::collections::{BTreeMap, BTreeSet};

use toml::{Table, Value};

/// A registry package of a lockfile: (version, source, checksum), by name.
type Registry = BTreeMap<String, BTreeSet<(String, String, String)>>;

fn registry(text: &str) -> Option<Registry> {
    let lock: Table = text.parse().ok()?;
    let mut found = Registry::new();
    let packages = lock.get("package").and_then(Value::as_array);
    for entry in packages.into_iter().flatten() {
        let field = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
        let Some(source) = field("source") else {
            continue;
        };
        let version = (
            field("version")?,
            source,
            field("checksum").unwrap_or_default(),
        );
        found.entry(field("name")?).or_default().insert(version);
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
}
