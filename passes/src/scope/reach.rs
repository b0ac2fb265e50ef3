//! Which code of a library each binary reaches, when several binaries of one
//! package are services of the group: a server the library builds in a
//! function that only `users`'s binary calls is `users`'s, not `orders`'s.
//!
//! Reaching is by name, and errs wide: a function of the library is reached
//! when a binary's code, or a function it reaches, names it (a path or method
//! call ending in its name, names in macro arguments included), in code its
//! build compiles (not `#[cfg(test)]`). A method or associated function of an
//! inherent `impl` of `T` is reached by `T::f` (`Self::f` in an `impl` of `T`,
//! a `type` alias or `use .. as` rename of `T`), or by `.f()` when the code the
//! binary reaches names `T` (a value of it is made, taken from a function that
//! names it, or held in a field of a type it names); never by a free function's
//! bare name (`f(args)`) nor another type's path (`Arc::new`):
//! `progress.run()` in one binary does not reach `Grpc::run`, nor
//! `Client::new_unix(..)` `Client::new`. A method of a trait `impl` for `T` is
//! reached once `T` is named (a dependency may call it: a gRPC handler, `Drop`),
//! a trait's own method by `Tr::f` or `.f()` beside a mention of `Tr`.
//! Functions of one name, type and trait count as one, so a server is never
//! taken from a service that reaches it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use ra_ap_syntax::ast::{self, HasAttrs, HasName};
use ra_ap_syntax::{AstNode, NodeOrToken, SyntaxKind, SyntaxNode, TextRange, WalkEvent};

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
        if node.kind() == SyntaxKind::TOKEN_TREE {
            names_in_tokens(&node, into);
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
            .and_then(|q| q.segment());
        for qualifier in qualifier.iter().flat_map(qualifiers) {
            into.paths.insert((name.clone(), qualifier));
        }
        into.any.insert(name);
    }
}

/// The names a path's segment before the last stands for: its name, the type
/// `Self` is in an `impl`, or both the type and the trait of `<T as Tr>`.
fn qualifiers(segment: &ast::PathSegment) -> Vec<String> {
    match segment.name_ref() {
        Some(n) if n.text() == "Self" => self_type(segment.syntax()).into_iter().collect(),
        Some(n) => vec![n.text().to_string()],
        None => [
            segment.type_anchor().and_then(|a| a.ty()),
            segment
                .type_anchor()
                .and_then(|a| a.path_type())
                .map(ast::Type::PathType),
        ]
        .into_iter()
        .filter_map(last_segment)
        .collect(),
    }
}

/// The names in a macro's arguments, which are tokens: an identifier after
/// a dot is a method's (`.f(`), after `A::` a path's last segment.
fn names_in_tokens(tree: &SyntaxNode, into: &mut Names) {
    let idents: Vec<_> = tree
        .descendants_with_tokens()
        .filter_map(|t| t.into_token())
        .filter(|t| !t.kind().is_trivia())
        .collect();
    for (i, token) in idents.iter().enumerate() {
        if token.kind() != SyntaxKind::IDENT {
            continue;
        }
        let name = token.text().to_string();
        if i > 0 && idents[i - 1].kind() == SyntaxKind::DOT {
            into.methods.insert(name.clone());
        }
        // `A::f`: the colons are one token or two in a token tree.
        let kinds = |back: usize| i.checked_sub(back).map(|j| idents[j].kind());
        let qualifier = match (kinds(1), kinds(2)) {
            (Some(SyntaxKind::COLON2), _) => i.checked_sub(2),
            (Some(SyntaxKind::COLON), Some(SyntaxKind::COLON)) => i.checked_sub(3),
            _ => None,
        }
        .map(|j| &idents[j])
        .filter(|q| q.kind() == SyntaxKind::IDENT);
        if let Some(qualifier) = qualifier {
            into.paths
                .insert((name.clone(), qualifier.text().to_string()));
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

/// A function by its name and, for a function of an `impl` or a trait, the
/// `impl`'s type (the trait's name for a trait's own) and trait by their last
/// segments (the type empty when it is not a path: `&T`, `[T]`).
type Function = (String, Option<(String, Option<String>)>);

/// What `f` is known by: its name, and its `impl`'s (or trait's) names.
fn function(f: &ast::Fn) -> Option<Function> {
    let name = f.name()?.text().to_string();
    let Some(item) = f
        .syntax()
        .parent()
        .filter(|p| ast::AssocItemList::can_cast(p.kind()))
        .and_then(|list| list.parent())
    else {
        return Some((name, None));
    };
    let owner = match (ast::Impl::cast(item.clone()), ast::Trait::cast(item)) {
        (Some(i), _) => (
            last_segment(i.self_ty()).unwrap_or_default(),
            last_segment(i.trait_()),
        ),
        (None, Some(t)) => {
            let name = t.name().map(|n| n.text().to_string()).unwrap_or_default();
            (name.clone(), Some(name))
        }
        (None, None) => return None,
    };
    Some((name, Some(owner)))
}

/// The names a type of the library is also known by in the binary and the
/// library: `type Server = Grpc;` and `use market::Grpc as G;` make `Server`
/// and `G` names of `Grpc`.
fn aliases(group: &Group, crates: &[FileId]) -> BTreeMap<String, String> {
    let mut aliases = BTreeMap::new();
    for (_, _, rust) in group
        .rust_files()
        .filter(|(_, _, r)| crates.contains(&r.krate))
    {
        for node in rust.tree().syntax().descendants() {
            if let Some(alias) = ast::TypeAlias::cast(node.clone())
                && let (Some(name), Some(ty)) = (alias.name(), last_segment(alias.ty()))
            {
                aliases.insert(name.text().to_string(), ty);
            }
            if let Some(tree) = ast::UseTree::cast(node)
                && let Some(rename) = tree.rename().and_then(|r| r.name())
                && let Some(original) = tree.path().and_then(|p| p.segment()?.name_ref())
            {
                aliases.insert(rename.text().to_string(), original.text().to_string());
            }
        }
    }
    aliases
}

/// Whether `named` names `f` (see the module's documentation); `also` maps an
/// alias to the type it names.
fn names(named: &Names, also: &BTreeMap<String, String>, (name, owner): &Function) -> bool {
    let Some((ty, of_trait)) = owner else {
        return named.any.contains(name);
    };
    let is = |n: &String, t: &String| n == t || also.get(n) == Some(t);
    let mentioned = |t: &String| {
        t.is_empty()
            || named.any.contains(t)
            || also
                .iter()
                .any(|(alias, of)| of == t && named.any.contains(alias))
    };
    let by_path = |t: &String| {
        named
            .paths
            .range((name.clone(), String::new())..)
            .take_while(|(f, _)| f == name)
            .any(|(_, q)| is(q, t))
    };
    let inherent = of_trait.is_none();
    let trait_impl = of_trait.as_ref().is_some_and(|t| t != ty);
    by_path(ty)
        || of_trait.as_ref().is_some_and(by_path)
        || (named.methods.contains(name) && mentioned(ty) && (inherent || !trait_impl))
        || (trait_impl && mentioned(ty))
}

/// The functions of the library rooted at `lib` that the binary rooted at
/// `bin` reaches.
fn reached(group: &Group, bin: FileId, lib: FileId) -> BTreeSet<Function> {
    let mut named = Names::default();
    for (file, _, rust) in group.rust_files().filter(|(_, _, r)| r.krate == bin) {
        names_in(group, file, rust.tree().syntax(), &mut named);
    }
    let also = aliases(group, &[bin, lib]);
    let mut fns: Vec<(FileId, ast::Fn, Function)> = Vec::new();
    // The library's types, whose fields name the types a value of one holds.
    let mut types: Vec<(FileId, String, SyntaxNode)> = Vec::new();
    for (file, _, rust) in group.rust_files().filter(|(_, _, r)| r.krate == lib) {
        for node in rust.tree().syntax().descendants() {
            if let Some(f) = ast::Fn::cast(node.clone()) {
                if let Some(known) = function(&f) {
                    fns.push((file, f, known));
                }
            } else if let Some(adt) = ast::Adt::cast(node.clone())
                && let Some(name) = adt.name()
            {
                types.push((file, name.text().to_string(), node));
            }
        }
    }
    let mut reached: BTreeSet<Function> = BTreeSet::new();
    let mut held: BTreeSet<usize> = BTreeSet::new();
    loop {
        let before = reached.len() + held.len();
        for (i, (file, name, node)) in types.iter().enumerate() {
            if named.any.contains(name) && held.insert(i) {
                names_in(group, *file, node, &mut named);
            }
        }
        for (file, f, known) in &fns {
            if !reached.contains(known) && names(&named, &also, known) {
                reached.insert(known.clone());
                names_in(group, *file, f.syntax(), &mut named);
            }
        }
        if reached.len() + held.len() == before {
            return reached;
        }
    }
}

/// What each binary reaches of the library it shares, walked once per
/// (binary, library) for all the questions a merge asks.
#[derive(Default)]
pub struct Reach {
    walked: RefCell<HashMap<(FileId, FileId), Rc<Reached>>>,
}

/// The functions of a library a binary reaches.
type Reached = BTreeSet<Function>;

impl Reach {
    /// Whether code at `at` in `file` counts as `service`'s: always, unless
    /// the file is in the library that several binaries of `service`'s
    /// package share and the function holding it is one that `service`'s
    /// binary does not reach.
    pub(super) fn reaches(
        &self,
        group: &Group,
        service: ServiceId,
        file: FileId,
        at: TextRange,
    ) -> bool {
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
        let bin = group.services[service].bin.root;
        let walked = self
            .walked
            .borrow_mut()
            .entry((bin, lib.root))
            .or_insert_with(|| Rc::new(reached(group, bin, lib.root)))
            .clone();
        walked.contains(&known)
    }
}
