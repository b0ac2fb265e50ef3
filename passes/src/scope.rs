//! The code a service's entry covers: its `main`, and the library its entry
//! is lifted into. The `entry` pass lifts it; the sharing decisions ask what a
//! provider's entry holds (its server, its channel settings).

mod reach;
pub(crate) mod runtime;

use ra_ap_syntax::ast::{self, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode, TextRange};

use crate::model::{FileId, Group, Target};
use crate::names::Mention;

/// The top-level `fn main` of `service`'s binary.
pub fn main_fn(group: &Group, service: usize) -> Option<ast::Fn> {
    let root = group.file(group.services[service].bin.root).rust.as_ref()?;
    root.tree().items().find_map(|item| match item {
        ast::Item::Fn(f) if f.name().is_some_and(|n| n.text() == "main") => Some(f),
        _ => None,
    })
}

/// The library `service`'s entry is lifted into: the package's library, when
/// its binary is a separate crate (a thin `main` calling into the library).
pub fn lifted_into_lib(group: &Group, service: usize) -> Option<&Target> {
    let service = &group.services[service];
    service.packages[0]
        .lib
        .as_ref()
        .filter(|lib| lib.root != service.bin.root)
}

/// The syntax the entry of `service` covers: the body of `fn main`, and when
/// it is lifted into a library, every file of that library too.
pub(crate) fn entry_scope(group: &Group, service: usize) -> Vec<(FileId, SyntaxNode)> {
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
    scope.extend(main);
    scope
}

/// The code `service`'s entry covers: (file, range) pairs.
pub fn entry_ranges(group: &Group, service: usize) -> Vec<(FileId, TextRange)> {
    let scope = entry_scope(group, service);
    scope
        .iter()
        .map(|(file, node)| (*file, node.text_range()))
        .collect()
}

/// Whether the server `mention` names is `mention.service`'s: not when it is
/// built in a library that several binaries of the service's package share, in
/// a function the service's binary does not reach.
pub fn serves(group: &Group, mention: &Mention) -> bool {
    reach::reaches(group, mention.service, mention.file, mention.path)
}

/// Whether `mention` is in `entry` (see [`entry_ranges`]).
pub fn in_entry(entry: &[(FileId, TextRange)], mention: &Mention) -> bool {
    entry
        .iter()
        .any(|(file, range)| *file == mention.file && range.contains_range(mention.path))
}

/// Whether `index` is one of several binaries of one package that the group
/// runs as services: each binary's entry then lives in a module of the
/// library of its own (`knit_bin_<binary>`).
pub(crate) fn shares_its_library(group: &Group, index: usize) -> bool {
    let service = &group.services[index];
    group.services.iter().any(|other| {
        other.packages[0].dir == service.packages[0].dir && other.bin.root != service.bin.root
    })
}
