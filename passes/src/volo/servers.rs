//! Which services of a group serve which gRPC services with a Volo server.
//!
//! A Volo server registers a generated `XServer::new(handler)` (or
//! `XServer::from_arc(..)`) with `Server::new().add_service(..)`. A service
//! serves `X` when a file of its own that names `volo` builds one (the type
//! named directly or through the crate's names); `X` is every proto service of
//! the group of that name (`package.X`).

use std::collections::BTreeSet;

use ra_ap_syntax::AstNode;
use ra_ap_syntax::ast;

use super::names::Names;
use crate::model::{Group, PerService, RustFile, ServiceId};

/// The services of the group whose own code builds a Volo `XServer` of
/// `service` (`X`), by index: `XServer::new(..)` or `XServer::from_arc(..)`,
/// the type named directly or through the crate's `use`s, aliases and
/// re-exports ([`Names`]).
pub fn providers(group: &Group, names: &Names, service: &str) -> Vec<ServiceId> {
    let server = format!("{service}Server");
    let spellings = names.spellings(&server);
    let mut found: Vec<ServiceId> = group
        .rust_files()
        .filter(|(id, _, _)| names.names_volo(*id))
        .filter(|(_, f, _)| spellings.iter().any(|s| f.text.contains(s.as_str())))
        .filter(|(_, _, rust)| builds(names, rust, &server))
        .map(|(_, f, _)| f.service)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Whether `rust` calls `server::new(..)` or `server::from_arc(..)`.
fn builds(names: &Names, rust: &RustFile, server: &str) -> bool {
    let tree = rust.tree();
    tree.syntax()
        .descendants()
        .filter_map(ast::CallExpr::cast)
        .any(|call| {
            let Some(ast::Expr::PathExpr(path)) = call.expr() else {
                return false;
            };
            let Some(segments) = path.path().as_ref().and_then(super::names::segments) else {
                return false;
            };
            let scope = super::names::scope_of(&rust.module, call.syntax());
            let resolved = names.resolve(rust.krate, &scope, &segments);
            matches!(resolved.as_slice(), [.., ty, method]
                if ty == server && (method == "new" || method == "from_arc"))
        })
}

/// For each service, the full names (`accounts.Accounts`) of the
/// gRPC services it serves with a Volo server.
pub fn served(group: &Group) -> PerService<BTreeSet<String>> {
    let mut serves = PerService::of(group, |_| BTreeSet::new());
    let protos = group.services.iter().flat_map(|s| &s.protos);
    let services: BTreeSet<(&str, &str)> = protos
        .flat_map(|p| {
            p.services
                .iter()
                .map(|s| (p.package.as_str(), s.name.as_str()))
        })
        .collect();
    let names = Names::of_volo_group(group);
    for (package, name) in services {
        for provider in providers(group, &names, name) {
            serves[provider].insert(super::calls::full_name(package, name));
        }
    }
    serves
}
