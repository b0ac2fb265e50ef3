//! Which code of a library each binary reaches, when several binaries of one
//! package are services of the group: a server the library builds in a
//! function that only `users`'s binary calls is `users`'s, not `orders`'s.
//!
//! Reaching is by name: a function of the library is reached when a binary's
//! code, or a function it reaches, names it (a path or method call ending in
//! its name), in code its build compiles (not `#[cfg(test)]`). A method or
//! associated function of an `impl` of `T` (for a trait `Tr`) is reached by
//! `T::f`, `Self::f` in an `impl` of `T`, `Tr::f`, or by `.f()` in code that
//! also names `T` (a value of it is made, or taken from a function that names
//! it), never by a free function's bare name (`f(args)`) nor another type's
//! path (`Arc::new`): `progress.run()` in one binary does not reach
//! `Grpc::run`, nor `Client::new_unix(..)` `Client::new`. Functions of one name,
//! type and trait count as one, so a server is never taken from a service that
//! reaches it.

use std::collections::BTreeSet;

use ra_ap_syntax::ast::{self, HasAttrs, HasName};
use ra_ap_syntax::{AstNode, NodeOrToken, SyntaxNode, TextRange, WalkEvent};

use crate::model::{FileId, Group, ServiceId};

/// The names some code refers to, by their last segment.
#[derive(Default)]
struct Names {
    /// Every name, however it is used.
    any: BTreeSet<String>,
    /// Names of method calls (`x.run()`).
    methods: BTreeSet<String>,
    /// Paths of several segments, as (last segment, the one before):
    /// `Server::run` is `("run", "Server")`.
    paths: BTreeSet<(String, String)>,
}

/// Adds every name `node` (of `file`) refers to, outside code the build
/// leaves out (a `#[cfg(test)] mod tests` of a binary reaches nothing).
fn names_in(group: &Group, file: FileId, node: &SyntaxNode, into: &mut Names) {
    let mut walk = node.preorder();
    while let Some(event) = walk.next() {
        let WalkEvent::Enter(node) = event else {
            continue;
        };
        let has_attrs =
            ast::AnyHasAttrs::cast(node.clone()).is_some_and(|n| n.attrs().next().is_some());
        if has_attrs && crate::compiled::not_compiled(group, file, node.text_range()) {
            walk.skip_subtree();
            continue;
        }
        let Some(n) = ast::NameRef::cast(node) else {
            continue;
        };
        let name = n.text().to_string();
        let parent = n.syntax().parent();
        if parent
            .as_ref()
            .is_some_and(|p| ast::MethodCallExpr::can_cast(p.kind()))
        {
            into.methods.insert(name.clone());
        }
        let qualifier = parent
            .and_then(|p| p.parent())
            .and_then(ast::Path::cast)
            .and_then(|path| path.qualifier())
            .and_then(|q| q.segment())
            .map(|q| match q.name_ref() {
                Some(n) if n.text() != "Self" => n.text().to_string(),
                _ => self_type(n.syntax()).unwrap_or_else(|| q.syntax().text().to_string()),
            });
        if let Some(qualifier) = qualifier {
            into.paths.insert((name.clone(), qualifier));
        }
        into.any.insert(name);
    }
}

/// The last segment of a path type (`Server` of `grpc::Server<T>`).
fn last_segment(ty: Option<ast::Type>) -> Option<String> {
    let ast::Type::PathType(p) = ty? else {
        return None;
    };
    Some(p.path()?.segment()?.name_ref()?.text().to_string())
}

/// The last segment of the type of the `impl` around `node`, which `Self`
/// stands for there.
fn self_type(node: &SyntaxNode) -> Option<String> {
    last_segment(node.ancestors().find_map(ast::Impl::cast)?.self_ty())
}

/// A function by its name and, for a function of an `impl`, the `impl`'s
/// type and trait by their last segments (the type empty when it is not a
/// path: `&T`, `[T]`).
type Function = (String, Option<(String, Option<String>)>);

/// What `f` is known by: its name, and its `impl`'s type and trait.
fn function(f: &ast::Fn) -> Option<Function> {
    let name = f.name()?.text().to_string();
    let owner = f
        .syntax()
        .parent()
        .filter(|p| ast::AssocItemList::can_cast(p.kind()))
        .and_then(|list| list.parent())
        .and_then(ast::Impl::cast)
        .map(|i| {
            let ty = last_segment(i.self_ty()).unwrap_or_default();
            (ty, last_segment(i.trait_()))
        });
    Some((name, owner))
}

/// Whether `named` names `f`: a free function by any mention of its name; a
/// function of an `impl` of `T` (for `Tr`) by a path `T::f` (`Self::f` in an
/// `impl` of `T`) or `Tr::f`, or by a method call `.f()` beside a mention of
/// `T`. `Arc::new(..)` reaches no `new` of the library.
fn names(named: &Names, (name, owner): &Function) -> bool {
    let Some((ty, of_trait)) = owner else {
        return named.any.contains(name);
    };
    named.paths.contains(&(name.clone(), ty.clone()))
        || of_trait
            .as_ref()
            .is_some_and(|t| named.paths.contains(&(name.clone(), t.clone())))
        || (named.methods.contains(name) && (ty.is_empty() || named.any.contains(ty)))
}

/// The functions of the library rooted at `lib` that the binary rooted at
/// `bin` reaches.
fn reached(group: &Group, bin: FileId, lib: FileId) -> BTreeSet<Function> {
    let mut named = Names::default();
    for (file, _, rust) in group.rust_files().filter(|(_, _, r)| r.krate == bin) {
        names_in(group, file, rust.tree().syntax(), &mut named);
    }
    let fns: Vec<(FileId, ast::Fn)> = group
        .rust_files()
        .filter(|(_, _, r)| r.krate == lib)
        .flat_map(|(file, _, rust)| {
            rust.tree()
                .syntax()
                .descendants()
                .filter_map(ast::Fn::cast)
                .map(|f| (file, f))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut reached: BTreeSet<Function> = BTreeSet::new();
    loop {
        let before = reached.len();
        for (file, f) in &fns {
            let Some(known) = function(f) else {
                continue;
            };
            if names(&named, &known) && reached.insert(known) {
                names_in(group, *file, f.syntax(), &mut named);
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
    let Some(enclosing) = node.ancestors().filter_map(ast::Fn::cast).last() else {
        return true;
    };
    let Some(known) = function(&enclosing) else {
        return true;
    };
    let r = reached(group, group.services[service].bin.root, lib.root);
    if std::env::var("KNIT_DBG").is_ok() {
        eprintln!(
            "DBG {} {:?} -> {}",
            group.services[service].name,
            known,
            r.contains(&known)
        );
    }
    r.contains(&known)
}
