//! Volo support in a merged workspace: knit-runtime's `volo` feature
//! (`knit_runtime::volo`, docs/passes/volo.md).

/// The optional dependency in knit-runtime's manifest.
const DEPENDENCY: &str = "volo = { version = \"0.12\", optional = true }\n";
/// The feature in knit-runtime's manifest, with its comment.
const FEATURE: &str = "# Volo gRPC servers and clients (`knit_runtime::volo`); knit turns it on in the\n# manifest it writes for a group with Volo services.\nvolo = [\"dep:volo\"]\n";

/// knit-runtime's `manifest` for a group whose merged `lockfile` is given:
/// with the `volo` feature on, at the version of volo the services locked,
/// when they locked volo-grpc; without the optional dependency otherwise, so
/// that a group without Volo resolves no Volo crate.
pub fn runtime_manifest(manifest: String, lockfile: Option<&str>) -> String {
    match lockfile.and_then(locked_volo) {
        Some(version) => manifest
            .replace(
                DEPENDENCY,
                &format!("volo = {{ version = \"{version}\", optional = true }}\n"),
            )
            .replace(FEATURE, &format!("default = [\"volo\"]\n{FEATURE}")),
        None => manifest.replace(DEPENDENCY, "").replace(FEATURE, ""),
    }
}

/// The highest version of the crate `volo` in `lockfile`, when the lockfile
/// also holds `volo-grpc`.
fn locked_volo(lockfile: &str) -> Option<String> {
    let lock: toml::Table = lockfile.parse().ok()?;
    let packages = lock.get("package")?.as_array()?;
    let version_of = |name: &str| {
        packages
            .iter()
            .filter(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
            .filter_map(|p| p.get("version")?.as_str())
            .max_by_key(|v| {
                v.split('.')
                    .map(|n| n.parse::<u64>().unwrap_or(0))
                    .collect::<Vec<_>>()
            })
            .map(String::from)
    };
    version_of("volo-grpc")?;
    version_of("volo")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = include_str!("../../runtime/Cargo.toml");

    #[test]
    fn the_volo_feature_is_on_only_for_groups_that_lock_volo() {
        let lock = "version = 4\n[[package]]\nname = \"volo\"\nversion = \"0.12.3\"\n\n[[package]]\nname = \"volo-grpc\"\nversion = \"0.12.2\"\n";
        let with = runtime_manifest(MANIFEST.into(), Some(lock));
        assert!(with.contains("volo = { version = \"0.12.3\", optional = true }\n"));
        assert!(with.contains("default = [\"volo\"]\n"));
        let without = runtime_manifest(MANIFEST.into(), Some("version = 4\n"));
        assert!(!without.contains("volo"), "{without}");
        assert!(!runtime_manifest(MANIFEST.into(), None).contains("volo"));
    }
}
