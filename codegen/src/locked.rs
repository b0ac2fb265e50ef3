//! The lockfile of the merged workspace as knit-codegen takes it: merged by
//! the driver from the services' own lockfiles, with the versions the
//! generated manifests pin.

use crate::TonicLine;

/// The merged `Cargo.lock`, and the versions generated manifests name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    /// The merged lockfile; `None` when no service has one.
    pub text: Option<String>,
    pub versions: LockedVersions,
}

/// The versions of the crates generated manifests name, each the one the
/// services locked in the group's tonic line's range (the range when none is).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockedVersions {
    pub line: TonicLine,
    pub tonic: String,
    pub prost: String,
    /// prost's well-known types (`google.protobuf.Timestamp`, ..), in step with prost.
    pub prost_types: String,
    pub tonic_prost: String,
    pub tonic_build: String,
    pub tonic_prost_build: String,
    /// hyper 0.14 and h2 0.3, which knit-runtime names itself on tonic 0.10
    /// and 0.11 (those tonics lock them).
    pub hyper_014: String,
    pub h2_03: String,
    /// The volo release the services locked, for a group with Volo services
    /// (their lockfiles hold volo-grpc): knit-runtime's `volo` module and
    /// feature are written for it.
    pub volo: Option<String>,
}

impl LockedVersions {
    /// The versions for tonic `line`; `locked(name, range)` answers with the
    /// highest version of crate `name` locked in the semver range `range`.
    pub fn of(line: TonicLine, locked: impl Fn(&str, &str) -> Option<String>) -> LockedVersions {
        let version = |name: &str, range: &str| locked(name, range).unwrap_or_else(|| range.into());
        LockedVersions {
            line,
            tonic: version("tonic", line.name()),
            prost: version("prost", line.prost()),
            prost_types: version("prost-types", line.prost()),
            tonic_prost: version("tonic-prost", line.name()),
            tonic_build: version("tonic-build", line.name()),
            tonic_prost_build: version("tonic-prost-build", line.name()),
            hyper_014: version("hyper", "0.14"),
            h2_03: version("h2", "0.3"),
            volo: None,
        }
    }
}
