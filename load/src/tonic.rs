//! Which tonic a service builds with. knit's runtime and the shared proto
//! crates it generates are written for the tonic release lines 0.10 to 0.14
//! (0.10 and 0.11 on hyper 0.14, the others on hyper 1) and built, in each
//! merged workspace, against the one
//! line of its group: the services of a group must share it, or the merged
//! binary would hold two tonics whose types do not meet.

use knit_model::versions::lowest;

/// The tonic release lines knit supports, for messages.
pub const SUPPORTED: &str = "0.10 to 0.14";

/// A tonic release line knit's runtime and generated crates build on.
pub use knit_codegen::TonicLine as Line;

/// The line of a version or requirement (`0.12.3`, `^0.13`), if supported.
fn line_of(version: &str) -> Option<Line> {
    match line(version)? {
        (0, 10) => Some(Line::V0_10),
        (0, 11) => Some(Line::V0_11),
        (0, 12) => Some(Line::V0_12),
        (0, 13) => Some(Line::V0_13),
        (0, 14) => Some(Line::V0_14),
        _ => None,
    }
}

/// The tonic a service uses: its version and where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uses {
    pub version: String,
    /// `Cargo.lock`, or `Cargo.toml` for a service without a lockfile.
    pub whence: &'static str,
}

/// The tonic line of one service: `Ok(None)` when it names no tonic (it then
/// builds with any line); `Err` with the tonic it uses when knit does not
/// support that.
pub fn of_service(
    lockfile: Option<&str>,
    manifests: &[&str],
) -> Result<Option<(Line, Uses)>, Uses> {
    let required: Vec<String> = manifests.iter().flat_map(|m| required(m)).collect();
    let (mut versions, whence) = match lockfile {
        Some(lock) => (locked(lock), "Cargo.lock"),
        None => (required.clone(), "Cargo.toml"),
    };
    // A lockfile shared with other packages (a monorepo), or a dependency on
    // another tonic: the service's own manifests say which one is its own.
    let own: Vec<(u64, u64)> = required.iter().filter_map(|r| line(r)).collect();
    if versions
        .iter()
        .any(|v| line(v).is_some_and(|l| own.contains(&l)))
    {
        versions.retain(|v| line(v).is_some_and(|l| own.contains(&l)));
    }
    // No manifest of the service names tonic: the lockfile's tonic is another
    // crate's dependency (an exporter, Volo's), which knit does not build
    // against; one knit supports may still be what the code uses.
    if required.is_empty() {
        versions.retain(|v| line_of(v).is_some());
    }
    let uses = |version: &String| Uses {
        version: version.clone(),
        whence,
    };
    if let Some(unsupported) = versions
        .iter()
        .filter(|v| line(v).is_some() && line_of(v).is_none())
        .min_by_key(|v| line(v))
    {
        return Err(uses(unsupported));
    }
    Ok(versions
        .iter()
        .filter_map(|v| Some((line_of(v)?, v)))
        .max_by_key(|(_, v)| lowest(v))
        .map(|(l, v)| (l, uses(v))))
}

/// The line of a group from each service's (name, line): the one line every
/// service that names tonic is on (0.14 when none does), or the first two
/// services, by index, whose lines differ.
pub fn of_group(services: &[Option<(Line, Uses)>]) -> Result<Line, (usize, usize)> {
    let mut known = services
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((i, s.as_ref()?.0)));
    let Some((first, line)) = known.next() else {
        return Ok(Line::default());
    };
    match known.find(|(_, l)| *l != line) {
        Some((other, _)) => Err((first, other)),
        None => Ok(line),
    }
}

/// The versions of tonic a lockfile holds.
fn locked(lockfile: &str) -> Vec<String> {
    let lock = crate::cargolock::CargoLock::lenient(lockfile);
    lock.versions_of("tonic").map(String::from).collect()
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

/// `(major, minor)` of a version or of the lowest a requirement allows
/// (`0.12.3`, `^0.9`, `=0.11`).
fn line(version: &str) -> Option<(u64, u64)> {
    lowest(version).map(|v| (v.major, v.minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(versions: &[&str]) -> String {
        let mut text = String::from("version = 3\n");
        for v in versions {
            text.push_str(&format!(
                "[[package]]\nname = \"tonic\"\nversion = \"{v}\"\n\n"
            ));
        }
        text
    }

    fn found(lockfile: Option<&str>, manifests: &[&str]) -> String {
        match of_service(lockfile, manifests) {
            Ok(Some((line, uses))) => {
                format!("{} ({} in {})", line.name(), uses.version, uses.whence)
            }
            Ok(None) => "none".into(),
            Err(uses) => format!("unsupported: {} in {}", uses.version, uses.whence),
        }
    }

    #[test]
    fn each_supported_line_is_read_from_the_lockfile() {
        assert_eq!(
            found(Some(&lock(&["0.12.3"])), &[]),
            "0.12 (0.12.3 in Cargo.lock)"
        );
        assert_eq!(
            found(Some(&lock(&["0.13.1"])), &[]),
            "0.13 (0.13.1 in Cargo.lock)"
        );
        assert_eq!(
            found(Some(&lock(&["0.14.6"])), &[]),
            "0.14 (0.14.6 in Cargo.lock)"
        );
        assert_eq!(
            found(Some(&lock(&["0.10.2"])), &[]),
            "0.10 (0.10.2 in Cargo.lock)"
        );
        assert_eq!(
            found(Some(&lock(&["0.11.0"])), &[]),
            "0.11 (0.11.0 in Cargo.lock)"
        );
        assert_eq!(found(Some("version = 3\n"), &[]), "none");
    }

    #[test]
    fn older_or_newer_tonics_are_unsupported() {
        let own = "[dependencies]\ntonic = \"0.9\"\n";
        assert_eq!(
            found(Some(&lock(&["0.9.2", "0.12.0"])), &[own]),
            "unsupported: 0.9.2 in Cargo.lock"
        );
        let manifest = "[package]\nname = \"a\"\n[dependencies]\ntonic = { version = \"0.9\", features = [\"tls\"] }\n";
        assert_eq!(found(None, &[manifest]), "unsupported: 0.9 in Cargo.toml");
        assert_eq!(
            found(None, &["[dependencies]\ntonic = \"1\"\n"]),
            "unsupported: 1 in Cargo.toml"
        );
    }

    /// A service whose manifests name no tonic (a Volo service, say) whose
    /// lockfile holds an old tonic through another crate (an exporter).
    #[test]
    fn a_tonic_no_manifest_names_is_another_crates() {
        let volo = "[dependencies]\nvolo-grpc = \"0.12\"\n";
        assert_eq!(found(Some(&lock(&["0.9.2"])), &[volo]), "none");
        assert_eq!(
            found(Some(&lock(&["0.9.2", "0.12.0"])), &[volo]),
            "0.12 (0.12.0 in Cargo.lock)"
        );
    }

    #[test]
    fn without_a_lockfile_the_manifests_requirement_counts() {
        assert_eq!(
            found(None, &["[workspace.dependencies]\ntonic = \"0.13\"\n"]),
            "0.13 (0.13 in Cargo.toml)"
        );
        assert_eq!(
            found(None, &["[dependencies]\ntonic = \"=0.12.1\"\n"]),
            "0.12 (=0.12.1 in Cargo.toml)"
        );
    }

    #[test]
    fn the_services_own_requirement_picks_among_locked_tonics() {
        // A dependency on an older tonic does not refuse a service on 0.13.
        let both = lock(&["0.10.2", "0.13.1"]);
        let own = "[dependencies]\ntonic = \"0.13\"\n";
        assert_eq!(found(Some(&both), &[own]), "0.13 (0.13.1 in Cargo.lock)");
        // A monorepo's lockfile with two lines: the service's own.
        let mono = lock(&["0.12.3", "0.14.2"]);
        let own = "[dependencies]\ntonic = \"0.12\"\n";
        assert_eq!(found(Some(&mono), &[own]), "0.12 (0.12.3 in Cargo.lock)");
        // No requirement to go by: the newest.
        assert_eq!(found(Some(&mono), &[]), "0.14 (0.14.2 in Cargo.lock)");
    }

    #[test]
    fn a_group_shares_one_line() {
        let on = |line: Line| {
            Some((
                line,
                Uses {
                    version: line.name().into(),
                    whence: "Cargo.lock",
                },
            ))
        };
        assert_eq!(of_group(&[None, None]), Ok(Line::V0_14));
        assert_eq!(
            of_group(&[None, on(Line::V0_12), on(Line::V0_12)]),
            Ok(Line::V0_12)
        );
        assert_eq!(
            of_group(&[on(Line::V0_13), None, on(Line::V0_13), on(Line::V0_14)]),
            Err((0, 3))
        );
    }
}
