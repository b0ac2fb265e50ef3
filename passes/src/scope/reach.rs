//! Which code of a library each binary reaches, when several binaries of one
//! package are services of the group: a server the library builds in a
//! function that only `users`'s binary calls is `users`'s, not `orders`'s.
//!
//! Reaching is by name: a function of the library is reached when a binary's
//! code, or a function it reaches, names it (a path or method call ending in
//! its name); a method or associated function (in an `impl`) only by a method
//! call or a path of several segments (`Type::start`, `Self::run`), which a
//! free function's bare name (`run(args)`) is not. Two functions of one name and
//! kind count as one, so a server is never taken from a service that reaches it.

use std::collections::BTreeSet;

use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, NodeOrToken, SyntaxNode, TextRange};

use crate::model::{FileId, Group, ServiceId};

/// A name, and whether it may name a function of an `impl`: a method call's,
/// or the last segment of a path of several segments.
type Named = (String, bool);

/// Every name `node` refers to by its last segment.
fn names_in(node: &SyntaxNode, into: &mut BTreeSet<Named>) {
    into.extend(node.descendants().filter_map(ast::NameRef::cast).map(|n| {
        let parent = n.syntax().parent();
        let method = parent
            .as_ref()
            .is_some_and(|p| ast::MethodCallExpr::can_cast(p.kind()));
        let qualified = parent
            .and_then(|p| p.parent())
            .and_then(ast::Path::cast)
            .is_some_and(|path| path.qualifier().is_some());
        (n.text().to_string(), method || qualified)
    }));
}

/// Whether `f` is a function of an `impl` (a method or associated function).
fn in_impl(f: &ast::Fn) -> bool {
    f.syntax()
        .parent()
        .is_some_and(|p| ast::AssocItemList::can_cast(p.kind()))
}

/// Whether `named` names a function called `name` (of an `impl` or not).
fn names(named: &BTreeSet<Named>, name: &str, of_impl: bool) -> bool {
    named.contains(&(name.to_string(), true))
        || (!of_impl && named.contains(&(name.to_string(), false)))
}

/// The functions of the library rooted at `lib` that the binary rooted at
/// `bin` reaches.
fn reached(group: &Group, bin: FileId, lib: FileId) -> BTreeSet<Named> {
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
    let mut reached: BTreeSet<Named> = BTreeSet::new();
    loop {
        let before = reached.len();
        for f in &fns {
            let Some(name) = f.name().map(|n| n.text().to_string()) else {
                continue;
            };
            let of_impl = in_impl(f);
            if names(&named, &name, of_impl) && reached.insert((name, of_impl)) {
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
    let Some(function) = node.ancestors().filter_map(ast::Fn::cast).last() else {
        return true;
    };
    let Some(name) = function.name() else {
        return true;
    };
    let reached = reached(group, group.services[service].bin.root, lib.root);
    reached.contains(&(name.text().to_string(), in_impl(&function)))
}
