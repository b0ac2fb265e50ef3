//! Which code of a library each binary reaches, when several binaries of one
//! package are services of the group: a server the library builds in a
//! function that only `users`'s binary calls is `users`'s, not `orders`'s.
//!
//! Reaching is by name: a function of the library is reached when a binary's
//! code, or a function it reaches, names it (a path or method call ending in
//! its name). Two functions of one name count as one, so a server is never
//! taken from a service that reaches it.

use std::collections::BTreeSet;

use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, NodeOrToken, SyntaxNode, TextRange};

use crate::model::{FileId, Group, ServiceId};

/// Every name `node` refers to by its last segment.
fn names_in(node: &SyntaxNode, into: &mut BTreeSet<String>) {
    into.extend(
        node.descendants()
            .filter_map(ast::NameRef::cast)
            .map(|n| n.text().to_string()),
    );
}

/// The functions of the library rooted at `lib` that the binary rooted at
/// `bin` reaches.
fn reached(group: &Group, bin: FileId, lib: FileId) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (_, _, rust) in group.rust_files().filter(|(_, _, r)| r.krate == bin) {
        names_in(rust.tree().syntax(), &mut named);
    }
    let fns: Vec<ast::Fn> = group
        .rust_files()
        .filter(|(_, _, r)| r.krate == lib)
        .flat_map(|(_, _, rust)| {
            rust.tree()
                .syntax()
                .descendants()
                .filter_map(ast::Fn::cast)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = reached.len();
        for f in &fns {
            let Some(name) = f.name().map(|n| n.text().to_string()) else {
                continue;
            };
            if named.contains(&name) && reached.insert(name) {
                names_in(f.syntax(), &mut named);
            }
        }
        if reached.len() == before {
            return reached;
        }
    }
}

/// Whether code at `at` in `file` counts as `service`'s: always, unless the
/// file is in the library that several binaries of `service`'s package share
/// and the function holding it is one that `service`'s binary does not reach.
pub(super) fn reaches(group: &Group, service: ServiceId, file: FileId, at: TextRange) -> bool {
    let Some(lib) = super::lifted_into_lib(group, service) else {
        return true;
    };
    let Some(rust) = group.file(file).rust.as_ref() else {
        return true;
    };
    if rust.krate != lib.root || !super::shares_its_library(group, service) {
        return true;
    }
    let tree = rust.tree();
    let node = match tree.syntax().covering_element(at) {
        NodeOrToken::Node(node) => node,
        NodeOrToken::Token(token) => match token.parent() {
            Some(node) => node,
            None => return true,
        },
    };
    let Some(name) = node
        .ancestors()
        .filter_map(ast::Fn::cast)
        .last()
        .and_then(|f| f.name())
    else {
        return true;
    };
    reached(group, group.services[service].bin.root, lib.root).contains(name.text())
}
