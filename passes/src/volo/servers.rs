//! Which services of a group serve which gRPC services with a Volo server.
//!
//! A Volo server registers a generated `XServer::new(handler)` (or
//! `XServer::from_arc(..)`) with `Server::new().add_service(..)`. A service
//! serves `X` when a file of its own that names `volo` builds one; `X` is every
//! proto service of the group of that name (`package.X`).

use std::collections::BTreeSet;

use crate::model::Group;

/// The services of the group whose own code builds a Volo `XServer` of
/// `service` (`X`), by index.
pub fn providers(group: &Group, service: &str) -> Vec<usize> {
    let new = format!("{service}Server::new(");
    let from_arc = format!("{service}Server::from_arc(");
    let mut found: Vec<usize> = group
        .rust_files()
        .filter(|(_, f, _)| {
            f.text.contains("volo") && (f.text.contains(&new) || f.text.contains(&from_arc))
        })
        .map(|(_, f, _)| f.service)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// For each service (by index), the full names (`accounts.Accounts`) of the
/// gRPC services it serves with a Volo server.
pub fn served(group: &Group) -> Vec<BTreeSet<String>> {
    let mut serves = vec![BTreeSet::new(); group.services.len()];
    let protos = group.services.iter().flat_map(|s| &s.protos);
    let services: BTreeSet<(&str, &str)> = protos
        .flat_map(|p| {
            p.services
                .iter()
                .map(|s| (p.package.as_str(), s.name.as_str()))
        })
        .collect();
    for (package, name) in services {
        for provider in providers(group, name) {
            serves[provider].insert(super::calls::full_name(package, name));
        }
    }
    serves
}
