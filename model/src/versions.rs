//! Cargo's version rules, with the `semver` crate: which versions one build
//! holds once. Cargo unifies the versions of a crate within one
//! semver-compatible range (`1.x.y`, `0.14.x`, `0.0.3`) and keeps ranges apart.

pub use semver::Version;
use semver::{Op, VersionReq};

/// The semver-compatible range of a locked version (`1.4.2` -> `1`,
/// `0.14.3` -> `0.14`, `0.0.3` -> `0.0.3`); `None` for text that is no version.
pub fn version_range(version: &str) -> Option<String> {
    let v = Version::parse(version.trim()).ok()?;
    Some(range(v.major, Some(v.minor), Some(v.patch)).expect("a full version has one range"))
}

/// The one semver-compatible range every version matching the requirement
/// lies in (`"1.2"` -> `1`, `"=0.14.3"` -> `0.14`); `None` when the versions it
/// matches span several ranges (`"0"` is `>=0.0.0, <1.0.0`: `0.1.x`, `0.2.x`, ..
/// and every `0.0.z`), so that which one Cargo picks depends on the registry.
pub fn requirement_range(requirement: &str) -> Option<String> {
    let req = VersionReq::parse(requirement.trim()).ok()?;
    let [c] = req.comparators.as_slice() else {
        return None;
    };
    match c.op {
        Op::Caret | Op::Exact | Op::Wildcard => range(c.major, c.minor, c.patch),
        // `~0.0.3` is `>=0.0.3, <0.1.0`; `~1.2.3` stays in `1`.
        Op::Tilde if c.major == 0 && c.minor == Some(0) => None,
        Op::Tilde => range(c.major, c.minor, c.patch),
        _ => None,
    }
}

/// The range of versions `major.minor.patch`, each part given or any.
fn range(major: u64, minor: Option<u64>, patch: Option<u64>) -> Option<String> {
    match (major, minor, patch) {
        (0, None, _) | (0, Some(0), None) => None,
        (0, Some(0), Some(patch)) => Some(format!("0.0.{patch}")),
        (0, Some(minor), _) => Some(format!("0.{minor}")),
        (major, _, _) => Some(major.to_string()),
    }
}

/// The lowest version a version or requirement text names, for ordering
/// (`0.12` -> 0.12.0, `=0.13.1` -> 0.13.1); `None` for text that is neither.
pub fn lowest(text: &str) -> Option<Version> {
    if let Ok(v) = Version::parse(text.trim()) {
        return Some(v);
    }
    let req = VersionReq::parse(text.trim()).ok()?;
    let c = req.comparators.first()?;
    Some(Version::new(
        c.major,
        c.minor.unwrap_or(0),
        c.patch.unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_versions_fall_in_cargos_ranges() {
        let range = |v| version_range(v);
        assert_eq!(range("1.4.2").as_deref(), Some("1"));
        assert_eq!(range("1.4.2-rc.1").as_deref(), Some("1"));
        assert_eq!(range("0.14.3").as_deref(), Some("0.14"));
        assert_eq!(range("0.0.3").as_deref(), Some("0.0.3"));
        // A lockfile never holds `0`: it is no version.
        assert_eq!(range("0"), None);
    }

    #[test]
    fn requirements_name_a_range_only_when_cargo_could_pick_no_other() {
        let range = |r| requirement_range(r);
        assert_eq!(range("1").as_deref(), Some("1"));
        assert_eq!(range("1.2").as_deref(), Some("1"));
        assert_eq!(range("^0.14").as_deref(), Some("0.14"));
        assert_eq!(range("=0.14.3").as_deref(), Some("0.14"));
        assert_eq!(range("0.0.3").as_deref(), Some("0.0.3"));
        assert_eq!(range("~1.2.3").as_deref(), Some("1"));
        assert_eq!(range("~0.2.3").as_deref(), Some("0.2"));
        assert_eq!(range("0.3.*").as_deref(), Some("0.3"));
        // `0` is `^0`: `>=0.0.0, <1.0.0`, every 0.x; `0.0` is every 0.0.z.
        assert_eq!(range("0"), None);
        assert_eq!(range("=0"), None);
        assert_eq!(range("0.0"), None);
        assert_eq!(range("~0.0.3"), None);
        assert_eq!(range(">=1.2"), None);
        assert_eq!(range(">=1.2, <1.5"), None);
        assert_eq!(range("*"), None);
    }

    #[test]
    fn versions_and_requirements_order_by_their_lowest_version() {
        assert!(lowest("0.12") < lowest("0.12.3"));
        assert!(lowest("=0.13.1") > lowest("0.12.9"));
        assert!(lowest("1.0.0-alpha") < lowest("1.0.0"));
        assert_eq!(lowest("not a version"), None);
    }
}
