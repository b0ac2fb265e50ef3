//! The code a service's entry covers: its `main`, the functions of its binary
//! `main` serves through (`scope/deep.rs`), and the library its entry is
//! lifted into. The `entry` pass lifts it; the sharing decisions ask what a
//! provider's entry holds (its server, its channel settings).

mod deep;
mod reach;
pub(crate) mod runtime;

use ra_ap_syntax::ast::{self, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode, TextRange};

use crate::model::{FileId, Group, ServiceId, Target};
use crate::names::Mention;

pub use deep::{Deep, Unreached};
pub(crate) use deep::{deep, spawned_into};

/// The top-level `fn main` of `service`'s binary.
pub fn main_fn(group: &Group, service: ServiceId) -> Option<ast::Fn> {
    let root = group.file(group.services[service].bin.root).rust.as_ref()?;
    root.tree().items().find_map(|item| match item {
        ast::Item::Fn(f) if f.name().is_some_and(|n| n.text() == "main") => Some(f),
        _ => None,
    })
}

/// The library `service`'s entry is lifted into: the package's library, when
/// its binary is a separate crate (a thin `main` calling into the library).
pub fn lifted_into_lib(group: &Group, service: ServiceId) -> Option<&Target> {
    let service = &group.services[service];
    service.packages[0]
        .lib
        .as_ref()
        .filter(|lib| lib.root != service.bin.root)
}

/// The syntax the entry of `service` covers: the body of `fn main`, the
/// functions of its binary and of its path dependencies it serves through
/// (`deep`, the walk from `main`: [`deep`]), and when it is lifted into a
/// library, every file of that library.
pub(crate) fn entry_scope(
    group: &Group,
    service: ServiceId,
    deep: &Deep,
) -> Vec<(FileId, SyntaxNode)> {
    let root = group.services[service].bin.root;
    let main = main_fn(group, service);
    // A function of a synchronous `main`'s file that builds the runtime and
    // serves is the service's code as much as `main`'s body.
    let delegate = main
        .as_ref()
        .filter(|m| m.async_token().is_none())
        .and_then(runtime::delegate)
        .and_then(|f| f.body());
    let main = main
        .and_then(|f| f.body())
        .into_iter()
        .chain(delegate)
        .map(|body| (root, body.syntax().clone()));
    let mut scope: Vec<(FileId, SyntaxNode)> = match lifted_into_lib(group, service) {
        Some(lib) => group
            .rust_files()
            .filter(|(_, _, rust)| rust.krate == lib.root)
            .map(|(id, _, rust)| (id, rust.tree().syntax().clone()))
            .collect(),
        None => Vec::new(),
    };
    let reached = deep.functions(group).into_iter();
    scope.extend(reached.map(|(file, f)| (file, f.syntax().clone())));
    scope.extend(main);
    scope
}

/// The code `service`'s entry covers, (file, range) pairs (`deep`: the walk
/// from its `main`).
pub fn entry_ranges(group: &Group, service: ServiceId, deep: &Deep) -> Vec<(FileId, TextRange)> {
    entry_scope(group, service, deep)
        .iter()
        .map(|(file, node)| (*file, node.text_range()))
        .collect()
}

pub use reach::Reach;

impl Reach {
    /// Whether the code `mention` is in is `mention.service`'s: not when it is
    /// in a library that several binaries of the service's package share, in
    /// a function the service's binary does not reach.
    pub fn of(&self, group: &Group, mention: &Mention) -> bool {
        self.reaches(group, mention.service, mention.file, mention.path)
    }
}

/// Whether `mention` is in `entry` (see [`entry_ranges`]).
pub fn in_entry(entry: &[(FileId, TextRange)], mention: &Mention) -> bool {
    entry
        .iter()
        .any(|(file, range)| *file == mention.file && range.contains_range(mention.path))
}

/// Why the server `mention` names is not in `service`'s entry (`entry`
/// without it): the function it is built in, and where knit stopped on the
/// way from `main` to it (`unreached`, of [`entry_ranges`]).
pub fn outside_entry(
    group: &Group,
    service: ServiceId,
    mention: &Mention,
    unreached: &Unreached,
) -> String {
    let file = group.file(mention.file);
    let (line, _) = file.line_col(mention.path.start());
    let at = format!("{}:{line}", file.path);
    let function = file.rust.as_ref().and_then(|rust| {
        let tree = rust.tree();
        let token = tree.syntax().covering_element(mention.path);
        let node = match token {
            ra_ap_syntax::NodeOrToken::Node(node) => node,
            ra_ap_syntax::NodeOrToken::Token(token) => token.parent()?,
        };
        // The outermost function: items nested in one are its code.
        node.ancestors().filter_map(ast::Fn::cast).last()
    });
    let Some(function) = function else {
        return format!("at {at}, outside any function `fn main` reaches");
    };
    let name = function
        .name()
        .map(|n| n.text().to_string())
        .unwrap_or_default();
    // Another binary's `fn main` (the root of its crate), not a module's.
    let a_binarys = function
        .syntax()
        .parent()
        .is_some_and(|p| ast::SourceFile::can_cast(p.kind()))
        && file
            .rust
            .as_ref()
            .is_some_and(|rust| rust.krate == mention.file);
    if name == "main" && a_binarys {
        return format!("at {at}, in a `fn main` other than its binary's");
    }
    let own = &group.services[service];
    let krate = file.rust.as_ref().map(|rust| rust.krate);
    let lib = lifted_into_lib(group, service).map(|lib| lib.root);
    let package = &group.services[file.service].packages[file.package].name;
    let in_dependency = krate != Some(own.bin.root) && krate != lib;
    let where_ = match in_dependency {
        true => format!(
            "`{name}` of package `{package}`, a dependency of `{}`",
            own.name
        ),
        false => format!("`{name}`"),
    };
    match unreached.why_not(mention.file, function.syntax().text_range(), &name) {
        Some(why) => format!("at {at}, in {where_}: {why}"),
        None => format!(
            "at {at}, in {where_}, which knit does not reach from `fn main`: it follows calls of the functions of the binary and of the libraries it depends on by path, free or associated, by paths it resolves, and of their methods on receivers whose type it tells, made on the entry's task"
        ),
    }
}

/// Whether `index` is one of several binaries of one package that the group
/// runs as services: each binary's entry then lives in a module of the
/// library of its own (`knit_bin_<binary>`).
pub(crate) fn shares_its_library(group: &Group, index: ServiceId) -> bool {
    let service = &group.services[index];
    group.services.iter().any(|other| {
        other.packages[0].dir == service.packages[0].dir && other.bin.root != service.bin.root
    })
}
