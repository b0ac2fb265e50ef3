//! Which tonic a service builds with: knit's runtime and the shared proto
//! crates it generates are written for one line of tonic releases, and a
//! service on an older one would put two tonics in the merged binary, whose
//! types do not meet.

/// The tonic release line knit's generated code is built on.
pub const SUPPORTED: &str = "0.14";

/// `(major, minor)` of [`SUPPORTED`].
const SUPPORTED_LINE: (u64, u64) = (0, 14);

/// The oldest tonic a service locks (its `Cargo.lock`) or, without a lockfile,
/// asks for (its manifests' `tonic` requirement), with where it was read, when
/// that is older than [`SUPPORTED`].
pub fn older_than_supported(
    lockfile: Option<&str>,
    manifests: &[&str],
) -> Option<(String, &'static str)> {
    let (versions, whence): (Vec<String>, &str) = match lockfile {
        Some(lock) => (locked(lock), "Cargo.lock"),
        None => (
            manifests.iter().flat_map(|m| required(m)).collect(),
            "Cargo.toml",
        ),
    };
    versions
        .into_iter()
        .filter_map(|v| Some((line(&v)?, v)))
        .filter(|(l, _)| *l < SUPPORTED_LINE)
        .min()
        .map(|(_, v)| (v, whence))
}

/// The versions of tonic a lockfile holds.
fn locked(lockfile: &str) -> Vec<String> {
    let Ok(lock) = lockfile.parse::<toml::Table>() else {
        return Vec::new();
    };
    let packages = lock.get("package").and_then(|p| p.as_array());
    packages
        .into_iter()
        .flatten()
        .filter(|p| p.get("name").and_then(|n| n.as_str()) == Some("tonic"))
        .filter_map(|p| p.get("version")?.as_str().map(str::to_string))
        .collect()
}

/// The `tonic` requirements of a manifest's dependency tables.
fn required(manifest: &str) -> Vec<String> {
    let Ok(doc) = manifest.parse::<toml::Table>() else {
        return Vec::new();
    };
    let tables = ["dependencies", "dev-dependencies", "build-dependencies"]
        .into_iter()
        .filter_map(|k| doc.get(k));
    let workspace = doc.get("workspace").and_then(|w| w.get("dependencies"));
    tables
        .chain(workspace)
        .filter_map(|t| t.get("tonic"))
        .filter_map(|spec| match spec {
            toml::Value::String(v) => Some(v.clone()),
            toml::Value::Table(t) => t.get("version")?.as_str().map(str::to_string),
            _ => None,
        })
        .collect()
}

/// `(major, minor)` of a version or a requirement (`0.12.3`, `^0.9`, `=0.11`).
fn line(version: &str) -> Option<(u64, u64)> {
    let v = version.trim().trim_start_matches(['^', '=', '~', '>', ' ']);
    let mut parts = v.split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.trim().parse().ok())?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_tonic_is_found_in_the_lockfile_or_the_manifests() {
        let lock = "version = 3\n[[package]]\nname = \"tonic\"\nversion = \"0.11.0\"\n\n[[package]]\nname = \"tonic\"\nversion = \"0.12.0\"\n";
        assert_eq!(
            older_than_supported(Some(lock), &[]),
            Some(("0.11.0".into(), "Cargo.lock"))
        );
        let current = "[[package]]\nname = \"tonic\"\nversion = \"0.14.6\"\n";
        assert_eq!(older_than_supported(Some(current), &[]), None);
        let manifest = "[package]\nname = \"a\"\n[dependencies]\ntonic = { version = \"0.9\", features = [\"tls\"] }\n";
        assert_eq!(
            older_than_supported(None, &[manifest]),
            Some(("0.9".into(), "Cargo.toml"))
        );
        assert_eq!(
            older_than_supported(None, &["[dependencies]\ntonic = \"0.14\"\n"]),
            None
        );
        assert_eq!(
            older_than_supported(None, &["[dependencies]\ntonic = \"1\"\n"]),
            None
        );
    }
}
