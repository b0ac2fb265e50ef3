//! The `namespace` pass: every package of the merged workspace gets a name unique
//! to its service, so that packages of the same name from different services
//! (`common`, `server`) live side by side.
//!
//! Scheme: package `P` of service `S` becomes `S-P` (its library crate `S_P`).
//! Path dependencies between a service's own packages keep their keys and gain
//! `package = "S-P"`, so the crate names its sources use do not change and no
//! source path needs rewriting. A service's own `[workspace]` table is dropped:
//! its packages join the merged workspace.

use std::collections::BTreeMap;

use crate::edit::{Level, Output};
use crate::manifest::{ManifestOp, workspace_dependencies};
use crate::model::Group;
use crate::sharing::Sharing;

const PASS: &str = "namespace";

/// The merged workspace's name for package `package` of service `service`.
pub fn package_name(service: &str, package: &str) -> String {
    format!("{service}-{package}")
}

/// The library crate name of [`package_name`].
pub fn crate_name(service: &str, package: &str) -> String {
    package_name(service, package).replace('-', "_")
}

pub fn run(group: &Group, _: &Sharing) -> Output {
    let mut out = Output::default();
    let mut taken: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for service in &group.services {
        for package in &service.packages {
            let renamed = package_name(&service.name, &package.name);
            if let Some((other_service, other_package)) = taken.insert(renamed.clone(), (&service.name, &package.name)) {
                out.finding(PASS, Level::Error, Some((package.manifest, 0.into())), format!(
                    "package `{}` of service `{}` and package `{other_package}` of service `{other_service}` would both be named `{renamed}`",
                    package.name, service.name
                ));
            }
            let manifest = group.file(package.manifest);
            if !workspace_dependencies(&manifest.text).is_empty() {
                out.finding(PASS, Level::Error, Some((package.manifest, 0.into())),
                    "`[workspace.dependencies]` is not supported yet: inherited dependencies are not resolved");
            }
            out.manifest_ops.push((package.manifest, ManifestOp::RenamePackage { to: renamed.clone() }));
            out.manifest_ops.push((package.manifest, ManifestOp::LeaveWorkspace));
            for dep in &package.local_deps {
                let op = ManifestOp::RenameDependency {
                    key: dep.key.clone(),
                    package: package_name(&service.name, &dep.package),
                };
                out.manifest_ops.push((package.manifest, op));
            }
            out.finding(PASS, Level::Note, Some((package.manifest, 0.into())), format!(
                "package `{}` of service `{}` is `{renamed}` in the merged workspace",
                package.name, service.name
            ));
        }
    }
    out
}
