//! Where each merged service listens, as far as its code says: the environment
//! variables it reads that name an address or port (`GREETER_ADDR`, `PORT`),
//! and the default port written next to such a read
//! (`env::var("PORT").unwrap_or_else(|_| "50061".into())`) or, without one, in
//! a socket address literal of its `main` (`"[::1]:50051".parse()`).

use std::net::SocketAddr;

use ra_ap_syntax::{AstNode, AstToken, SyntaxKind, SyntaxNode, ast};

use crate::load::Loaded;

/// One service's listener.
#[derive(Debug)]
pub struct Listener {
    /// The service.
    pub service: knit_passes::model::ServiceId,
    /// The variables naming its address, sorted.
    pub variables: Vec<String>,
    /// The default port, when the code writes one.
    pub port: Option<u16>,
}

/// Words in a variable's name that make it a listener's address; a name with
/// one of [`CLIENT_WORDS`] is a client's target instead.
const ADDRESS_WORDS: &[&str] = &["ADDR", "PORT", "LISTEN", "BIND", "HOST"];
const CLIENT_WORDS: &[&str] = &["URL", "URI", "ENDPOINT", "UPSTREAM"];

/// The listener of every service of `loaded`, in service order.
pub fn of(loaded: &Loaded) -> Vec<Listener> {
    let group = &loaded.group;
    let reads = knit_passes::globals::env_reads(group);
    group
        .service_ids()
        .map(|service| {
            let own = |name: &str| {
                let service_name = group.services[service].name.to_uppercase();
                let others = group.services_by_id().any(|(i, s)| {
                    i != service && name.starts_with(&format!("{}_", s.name.to_uppercase()))
                });
                !others || name.starts_with(&format!("{service_name}_"))
            };
            let variables: Vec<String> = reads
                .get(&service)
                .into_iter()
                .flatten()
                .filter(|v| ADDRESS_WORDS.iter().any(|w| v.contains(w)))
                .filter(|v| !CLIENT_WORDS.iter().any(|w| v.contains(w)))
                .filter(|v| own(v))
                .cloned()
                .collect();
            // Files that spell a variable's name, in file order.
            let near_reads = group
                .rust_files()
                .filter(|(_, f, _)| f.service == service)
                .find_map(|(_, file, rust)| {
                    let tree = rust.tree().syntax().clone();
                    variables
                        .iter()
                        .filter(|v| file.text.contains(v.as_str()))
                        .find_map(|v| default_port(&tree, v))
                });
            let in_main = || {
                let root = group.file(group.services[service].bin.root);
                let tree = root.rust.as_ref()?.tree();
                literals(tree.syntax()).find_map(|l| address_port(&l))
            };
            Listener {
                service,
                variables,
                port: near_reads.or_else(in_main),
            }
        })
        .collect()
}

/// The port written in the statement that reads `variable` in `tree`.
fn default_port(tree: &SyntaxNode, variable: &str) -> Option<u16> {
    let read = literals(tree).find(|l| l.value().is_ok_and(|v| v == variable))?;
    let statement = read
        .syntax()
        .parent_ancestors()
        .find(|n| matches!(n.kind(), SyntaxKind::LET_STMT | SyntaxKind::EXPR_STMT))?;
    literals(&statement)
        .find_map(|l| address_port(&l).or_else(|| l.value().ok()?.parse().ok()))
        .or_else(|| {
            statement
                .descendants_with_tokens()
                .filter_map(|t| t.into_token())
                .filter(|t| t.kind() == SyntaxKind::INT_NUMBER)
                .find_map(|t| t.text().replace('_', "").parse().ok())
        })
}

/// The string literals under `node`.
fn literals(node: &SyntaxNode) -> impl Iterator<Item = ast::String> {
    node.descendants_with_tokens()
        .filter_map(|t| t.into_token())
        .filter_map(ast::String::cast)
}

/// The port of a socket address literal (`127.0.0.1:50051`, `[::1]:50051`).
fn address_port(literal: &ast::String) -> Option<u16> {
    let value = literal.value().ok()?;
    value.parse::<SocketAddr>().ok().map(|a| a.port())
}
