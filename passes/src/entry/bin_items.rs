//! A `main` beside its library whose binary root has items of its own (`struct
//! Args`, helper functions, `mod handlers;`, `#[path = ".."] mod codec;`): the
//! library gains a hidden module, `knit_bin_<binary>`, holding those items, the
//! binary's modules and the lifted entry, which the library re-exports. The
//! module's `#[path]` is the binary root's folder: its `mod x;` declarations,
//! copied as they are, name the binary's files, found as the binary finds them.

use std::collections::BTreeSet;

use ra_ap_syntax::ast::{self, HasAttrs, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, SyntaxKind, SyntaxNode, SyntaxToken, TextRange, TextSize};

use crate::model::{FileId, Group, Target, parent_dir, relative_path};

/// The module of the library that holds the items of binary `bin`.
pub(super) fn module_name(bin: &str) -> String {
    knit_codegen::names::bin_module(bin)
}

fn under_cfg_test(item: &ast::Item) -> bool {
    item.attrs()
        .any(|a| a.syntax().to_string().replace(' ', "") == "#[cfg(test)]")
}

/// The items of the binary's root that the library's copy needs besides
/// `main` and `use` items: everything else but what is under `#[cfg(test)]`.
pub(super) fn own_items(tree: &ast::SourceFile) -> Vec<ast::Item> {
    tree.items()
        .filter(|item| !under_cfg_test(item))
        .filter(|item| match item {
            ast::Item::Fn(f) => f.name().is_none_or(|n| n.text() != "main"),
            ast::Item::Use(_) => false,
            _ => true,
        })
        .collect()
}

/// `crate` in `node` other than in `pub(crate)`, `extern crate` and items under
/// `#[cfg(test)]`: where the copy cannot say the same as the binary.
fn crate_keywords(node: &SyntaxNode) -> impl Iterator<Item = SyntaxToken> {
    node.descendants_with_tokens()
        .filter_map(|t| t.into_token())
        .filter(|t| t.kind() == SyntaxKind::CRATE_KW)
        .filter(|t| {
            !t.parent().is_some_and(|p| {
                matches!(p.kind(), SyntaxKind::VISIBILITY | SyntaxKind::EXTERN_CRATE)
            }) && !t
                .parent_ancestors()
                .filter_map(ast::Item::cast)
                .any(|item| under_cfg_test(&item))
        })
}

fn crate_keyword(node: &SyntaxNode) -> Option<TextSize> {
    crate_keywords(node).next().map(|t| t.text_range().start())
}

/// Why the binary's own items cannot be copied into the library:
/// (file, offset, reason).
pub(super) fn unliftable(group: &Group, root: FileId) -> Option<(FileId, TextSize, String)> {
    let root_file = group.file(root);
    let tree = root_file.rust.as_ref()?.tree();
    for item in own_items(&tree) {
        // Token trees (macro bodies and calls) are copied as they are.
        let in_tokens = item
            .syntax()
            .descendants()
            .filter(|n| n.kind() == SyntaxKind::TOKEN_TREE)
            .find_map(|n| crate_keyword(&n));
        if let Some(at) = in_tokens {
            return Some((
                root,
                at,
                format!(
                    "a macro in the binary {} names `crate`: knit copies the binary's items into the library, where `crate` is the library; write the path without `crate`, or move the item into the library",
                    root_file.path
                ),
            ));
        }
    }
    None
}

/// `crate::` paths in the files of the binary `root`'s modules, made relative
/// (`super::` once per level below the binary's root): the library compiles
/// those files too, in its module for the binary, where `crate` is the library
/// and `super` chains name the same items as in the binary. (file, the `crate`
/// keyword, its replacement)
pub(super) fn relative_crate_paths(
    group: &Group,
    root: FileId,
) -> Vec<(FileId, TextRange, String)> {
    let mut edits = Vec::new();
    for (id, _, rust) in group.rust_files() {
        if rust.krate != root || id == root {
            continue;
        }
        let tree = rust.tree();
        for token in crate_keywords(tree.syntax()) {
            let followed_by_path = std::iter::successors(token.next_token(), |t| t.next_token())
                .find(|t| !t.kind().is_trivia())
                .is_some_and(|t| t.kind() == SyntaxKind::COLON2);
            if !followed_by_path {
                continue;
            }
            let inline = token
                .parent_ancestors()
                .filter(|n| n.kind() == SyntaxKind::MODULE)
                .count();
            let depth = rust.module.len() + inline;
            edits.push((id, token.text_range(), vec!["super"; depth].join("::")));
        }
    }
    edits
}

/// Whether some module file of the binary `root` names the library `lib` by its
/// crate name (the library's copy needs `extern crate self as lib;`).
pub(super) fn modules_name_the_library(group: &Group, root: FileId, lib: &str) -> bool {
    group.rust_files().any(|(id, _, rust)| {
        id != root
            && rust.krate == root
            && rust
                .tree()
                .syntax()
                .descendants()
                .filter_map(ast::Path::cast)
                .filter(|p| p.qualifier().is_none())
                .filter_map(|p| p.segment()?.name_ref())
                .any(|n| n.text() == lib)
    })
}

/// The `#[path]` of the library's module for the binary `root`: the binary
/// root's folder, from the library root's.
pub(super) fn module_path(group: &Group, root: FileId, lib: &Target) -> String {
    relative_path(
        parent_dir(&group.file(lib.root).path),
        parent_dir(&group.file(root).path),
    )
}

/// Whether `main` of the binary root `tree`, copied into the library whose
/// root is `lib_root`, needs a module of its own there
/// even without items of its own: its return type names what its `use`s
/// import (those go inside the entry's body, which the signature does not
/// see: `use std::process::ExitCode;` and `-> ExitCode`), or its code names
/// by a first segment that its `use`s do not bind (a dependency, `config`,
/// renamed from `astria-config`) something the library's root defines or
/// imports too (`mod config;`), which would shadow it there: in a module of
/// its own, names resolve as in the binary.
pub(super) fn needs_own_module(
    tree: &ast::SourceFile,
    main: &ast::Fn,
    lib_root: &ast::SourceFile,
) -> bool {
    let uses: Vec<ast::Use> = tree
        .items()
        .filter_map(|item| match item {
            ast::Item::Use(u) => Some(u),
            _ => None,
        })
        .collect();
    let imported: BTreeSet<String> = uses.iter().flat_map(bound_names).collect();
    let ret_names = main
        .ret_type()
        .into_iter()
        .flat_map(|r| r.syntax().descendants_with_tokens().collect::<Vec<_>>())
        .filter_map(|t| t.into_token())
        .filter(|t| t.kind() == SyntaxKind::IDENT)
        .any(|t| imported.contains(t.text()));
    if ret_names {
        return true;
    }
    let defined: BTreeSet<String> = lib_root
        .items()
        .flat_map(|item| match item {
            ast::Item::Use(u) => bound_names(&u),
            other => ast::AnyHasName::cast(other.syntax().clone())
                .and_then(|n| n.name())
                .map(|n| vec![n.text().to_string()])
                .unwrap_or_default(),
        })
        .collect();
    main.syntax()
        .descendants()
        .filter_map(ast::Path::cast)
        .filter(|p| p.qualifier().is_none())
        .filter_map(|p| first_segment(&p))
        .any(|first| defined.contains(&first) && !imported.contains(&first))
}

/// The first segment of `path`, as written.
fn first_segment(path: &ast::Path) -> Option<String> {
    let mut first = path.clone();
    while let Some(q) = first.qualifier() {
        first = q;
    }
    Some(first.segment()?.name_ref()?.text().to_string())
}

/// The names a `use` item binds (each leaf's rename or last segment; not
/// globs or `self` imports' modules).
fn bound_names(item: &ast::Use) -> Vec<String> {
    let Some(tree) = item.use_tree() else {
        return Vec::new();
    };
    tree.syntax()
        .descendants()
        .filter_map(ast::UseTree::cast)
        .filter(|t| t.use_tree_list().is_none() && t.star_token().is_none())
        .filter_map(|t| match t.rename() {
            Some(rename) => rename.name().map(|n| n.text().to_string()),
            None => t
                .path()?
                .segment()?
                .name_ref()
                .map(|n| n.text().to_string()),
        })
        .filter(|name| name != "self" && name != "_")
        .collect()
}
