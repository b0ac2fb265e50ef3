//! Volo support in a merged workspace: knit-runtime's `volo` feature
//! (`knit_runtime::volo`, docs/passes/volo.md).

/// The optional dependency in knit-runtime's manifest.
const DEPENDENCY: &str = "volo = { version = \"0.12\", optional = true }\n";
/// The feature in knit-runtime's manifest, with its comment.
const FEATURE: &str = "# Volo gRPC servers and clients (`knit_runtime::volo`); knit turns it on in the\n# manifest it writes for a group with Volo services.\nvolo = [\"dep:volo\"]\n";

/// knit-runtime's `volo` module (at [`MODULE_PATH`] in the runtime), written
/// only for a group with Volo services.
pub(crate) const MODULE_PATH: &str = "src/volo.rs";
const MODULE: &str = include_str!("../../runtime/src/volo.rs");
/// Its declaration in knit-runtime's `lib.rs`, with its line of the crate's docs.
const DECLARATION: &str = "#[cfg(feature = \"volo\")]\npub mod volo;\n";
const DOC_LINE: &str =
    "//! - `volo` (feature `volo`): CloudWeGo Volo gRPC servers and clients in a merged binary.\n";

/// Fits the runtime `files` knit writes under `dir` to the group whose merged
/// `lockfile` is given: when the services locked volo-grpc, the `volo` module
/// and feature (on by default) at the version of volo they locked; otherwise
/// neither, so that a group without Volo resolves no Volo crate.
pub fn runtime(files: &mut Vec<(String, String)>, dir: &str, version: Option<String>) {
    for (path, text) in files.iter_mut() {
        let Some(name) = path.strip_prefix(dir) else {
            continue;
        };
        match (name, &version) {
            ("/Cargo.toml", Some(version)) => {
                let dependency = format!("volo = {{ version = \"{version}\", optional = true }}\n");
                let feature = format!("default = [\"volo\"]\n{FEATURE}");
                *text = text
                    .replace(DEPENDENCY, &dependency)
                    .replace(FEATURE, &feature);
            }
            ("/Cargo.toml", None) => *text = text.replace(DEPENDENCY, "").replace(FEATURE, ""),
            ("/src/lib.rs", None) => *text = text.replace(DECLARATION, "").replace(DOC_LINE, ""),
            _ => {}
        }
    }
    if version.is_some() {
        files.push((format!("{dir}/{MODULE_PATH}"), MODULE.to_string()));
    }
}

/// The highest version of the crate `volo` in the merged `lockfile`, when it
/// also holds `volo-grpc`: the group has Volo services.
pub fn locked_volo_of(lockfile: Option<&str>) -> Option<String> {
    lockfile.and_then(locked_volo)
}

fn locked_volo(lockfile: &str) -> Option<String> {
    version_of(lockfile, "volo-grpc")?;
    version_of(lockfile, "volo")
}

/// The highest version of crate `name` in `lockfile`.
fn version_of(lockfile: &str, name: &str) -> Option<String> {
    let lock = crate::cargolock::CargoLock::lenient(lockfile);
    let highest = lock
        .versions_of(name)
        .max_by_key(|v| knit_passes::versions::lowest(v));
    highest.map(String::from)
}

/// Why knit refuses to merge, when it rewrote Volo code (`edits` name
/// `knit_runtime::volo`): a service locks a Volo release other than 0.12, the
/// one `knit_runtime::volo` is written against, or no lockfile holds
/// volo-grpc (the runtime's `volo` module would not be written).
pub fn unsupported<'a>(
    locks: &[(&str, &str)],
    mut edits: impl Iterator<Item = &'a str>,
) -> Option<String> {
    if !edits.any(|text| text.contains("knit_runtime::volo::")) {
        return None;
    }
    let other = locks.iter().find_map(|(service, lock)| {
        let version = version_of(lock, "volo")?;
        (!version.starts_with("0.12.")).then(|| {
            format!(
                "service `{service}` locks volo {version}: knit merges Volo 0.12 services only (docs/passes/volo.md); update it to 0.12, or leave its Volo services out of the group"
            )
        })
    });
    // knit-runtime's `volo` module is written for a group whose lockfiles hold volo-grpc.
    let locked = locks.iter().any(|(_, lock)| locked_volo(lock).is_some());
    other.or_else(|| {
        (!locked).then(|| {
            "knit rewrote Volo code, but no service's Cargo.lock holds volo-grpc: knit reads Volo's version from the lockfiles; run `cargo generate-lockfile` in the Volo services' workspaces".to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = include_str!("../../runtime/Cargo.toml");
    const LIB: &str = include_str!("../../runtime/src/lib.rs");

    #[test]
    fn the_volo_module_and_feature_are_written_only_for_groups_that_lock_volo() {
        let runtime = || {
            vec![
                ("rt/Cargo.toml".to_string(), MANIFEST.to_string()),
                ("rt/src/lib.rs".to_string(), LIB.to_string()),
            ]
        };
        let lock = "version = 4\n[[package]]\nname = \"volo\"\nversion = \"0.12.3\"\n\n[[package]]\nname = \"volo-grpc\"\nversion = \"0.12.2\"\n";
        let mut with = runtime();
        super::runtime(&mut with, "rt", locked_volo_of(Some(lock)));
        assert!(
            with[0]
                .1
                .contains("volo = { version = \"0.12.3\", optional = true }\n")
        );
        assert!(with[0].1.contains("default = [\"volo\"]\n"));
        assert!(with[1].1.contains(DECLARATION));
        assert_eq!(with[2].0, "rt/src/volo.rs");
        for lockfile in [Some("version = 4\n"), None] {
            let mut without = runtime();
            super::runtime(&mut without, "rt", locked_volo_of(lockfile));
            assert_eq!(without.len(), 2);
            assert!(!without[0].1.contains("volo"), "{}", without[0].1);
            assert!(!without[1].1.contains("volo"), "{}", without[1].1);
        }
    }

    #[test]
    fn other_volo_releases_are_refused_once_volo_code_was_rewritten() {
        let old = "version = 4\n[[package]]\nname = \"volo\"\nversion = \"0.10.1\"\n";
        let new = "version = 4\n[[package]]\nname = \"volo\"\nversion = \"0.12.3\"\n";
        let edit = ["knit_runtime::volo::address(\"a\", "];
        assert_eq!(
            unsupported(&[("a", old)], edit.into_iter()).as_deref(),
            Some(
                "service `a` locks volo 0.10.1: knit merges Volo 0.12 services only (docs/passes/volo.md); update it to 0.12, or leave its Volo services out of the group"
            )
        );
        let new = format!("{new}\n[[package]]\nname = \"volo-grpc\"\nversion = \"0.12.2\"\n");
        assert_eq!(unsupported(&[("a", &new)], edit.into_iter()), None);
        assert!(
            unsupported(&[], edit.into_iter())
                .is_some_and(|r| r.contains("cargo generate-lockfile"))
        );
        assert_eq!(unsupported(&[("a", old)], ["x"].into_iter()), None);
    }
}
