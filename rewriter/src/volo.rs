//! Volo in a merged workspace, as the driver sees it: the Volo release the
//! services locked (knit-codegen writes knit-runtime's `volo` module and feature
//! for it), and the releases knit refuses (docs/passes/volo.md).

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
    let volo = format!("{}::", knit_codegen::names::runtime::VOLO);
    if !edits.any(|text| text.contains(&volo)) {
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
