//! A `main` beside its library whose binary root has items of its own (`struct
//! Args`, helper functions, `mod handlers;`, `#[path = ".."] mod codec;`): the
//! library gains a hidden module, `knit_bin_<binary>`, holding those items, the
//! binary's modules (the same files, through `#[path]`) and the lifted entry,
//! which the library re-exports.

use ra_ap_syntax::ast::{self, AstToken, HasAttrs, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, SyntaxKind, SyntaxNode, TextRange, TextSize};

use crate::model::{FileId, Group, Target, parent_dir, relative_path};

/// The module of the library that holds the items of binary `bin`.
pub(super) fn module_name(bin: &str) -> String {
    let name: String = bin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("knit_bin_{name}")
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

/// `path` with `.` and `..` segments resolved.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// The `#[path = ".."]` attribute of `module`, with its value.
fn path_attr(module: &ast::Module) -> Option<(ast::Attr, String)> {
    module
        .attrs()
        .filter(|a| a.simple_name().as_deref() == Some("path"))
        .find_map(|a| {
            let value = a
                .syntax()
                .descendants_with_tokens()
                .filter_map(|t| t.into_token())
                .find_map(ast::String::cast)?
                .value()
                .ok()?
                .to_string();
            Some((a, value))
        })
}

/// The file of `mod x;` at the top of the binary's root `root`: the group's file
/// of the binary crate, and whether it owns its folder (a root, a `mod.rs`, or
/// a file named by `#[path]`: its own `mod y;` are found beside it).
fn module_file(group: &Group, root: FileId, module: &ast::Module) -> Option<(FileId, bool)> {
    let dir = parent_dir(&group.file(root).path);
    let name = module.name()?.text().to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
    let candidates: Vec<(String, bool)> = match path_attr(module) {
        Some((_, p)) => vec![(normalize(&format!("{dir}/{p}")), true)],
        None => vec![
            (normalize(&format!("{dir}/{name}.rs")), false),
            (normalize(&format!("{dir}/{name}/mod.rs")), true),
        ],
    };
    candidates.into_iter().find_map(|(path, owns)| {
        group
            .rust_files()
            .find(|(_, f, rust)| f.path == path && rust.krate == root)
            .map(|(id, _, _)| (id, owns))
    })
}

/// `crate` in `node` other than in `pub(crate)`, `extern crate` and items under
/// `#[cfg(test)]`: where the copy cannot say the same as the binary.
fn crate_keyword(node: &SyntaxNode) -> Option<TextSize> {
    node.descendants_with_tokens()
        .filter_map(|t| t.into_token())
        .filter(|t| t.kind() == SyntaxKind::CRATE_KW)
        .find(|t| {
            !t.parent().is_some_and(|p| {
                matches!(p.kind(), SyntaxKind::VISIBILITY | SyntaxKind::EXTERN_CRATE)
            }) && !t
                .parent_ancestors()
                .filter_map(ast::Item::cast)
                .any(|item| under_cfg_test(&item))
        })
        .map(|t| t.text_range().start())
}

/// Why the binary's own items and modules cannot be copied into the library:
/// (file, offset, reason).
pub(super) fn unliftable(group: &Group, root: FileId) -> Option<(FileId, TextSize, String)> {
    let root_file = group.file(root);
    let tree = root_file.rust.as_ref()?.tree();
    for item in own_items(&tree) {
        let at = item.syntax().text_range().start();
        match &item {
            ast::Item::Module(m) if m.item_list().is_none() => {
                let name = m.name().map(|n| n.text().to_string()).unwrap_or_default();
                let Some((file, owns)) = module_file(group, root, m) else {
                    if m.attrs()
                        .any(|a| a.syntax().text().to_string().starts_with("#[cfg"))
                    {
                        continue;
                    }
                    return Some((
                        root,
                        at,
                        format!(
                            "the binary {}'s module `{name}` has no file knit read (a build script writes it?): knit cannot copy it into the library with `main`",
                            root_file.path
                        ),
                    ));
                };
                let module_tree = group.file(file).rust.as_ref()?.tree();
                if !owns
                    && module_tree
                        .syntax()
                        .descendants()
                        .filter_map(ast::Module::cast)
                        .any(|m| m.item_list().is_none())
                {
                    return Some((
                        file,
                        0.into(),
                        format!(
                            "module `{name}` of the binary {} declares modules in files of its own: knit copies it into the library with `#[path]`, where they would be looked for elsewhere; \
                         make it a `{name}/mod.rs`, or move the module into the library",
                            root_file.path
                        ),
                    ));
                }
            }
            ast::Item::Module(m)
                if m.syntax()
                    .descendants()
                    .filter_map(ast::Module::cast)
                    .any(|m| m.item_list().is_none()) =>
            {
                return Some((
                    root,
                    at,
                    format!(
                        "an inline module of the binary {} declares a module in a file: knit cannot copy it into the library with `main` yet; move the module into the library",
                        root_file.path
                    ),
                ));
            }
            _ => {}
        }
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
    // The files of the binary's modules are compiled by the binary and the library both.
    for (id, file, rust) in group.rust_files() {
        if rust.krate != root || id == root {
            continue;
        }
        if let Some(at) = crate_keyword(rust.tree().syntax()) {
            return Some((
                id,
                at,
                format!(
                    "{} is a module of the binary {} and names `crate`: knit lifts `main` beside a library into the library with the binary's modules, where the same file is compiled again and `crate` is the library; \
                 write `super::` paths instead, or move the module into the library",
                    file.path, root_file.path
                ),
            ));
        }
    }
    None
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

/// `mod x;` of the binary `root`, for the library's module `module` (in the
/// library's root `lib`): `#[path]` to the same file.
pub(super) fn module_decl(
    group: &Group,
    root: FileId,
    lib: &Target,
    module: &str,
    item: &ast::Module,
) -> String {
    let base = item.syntax().text_range().start();
    let mut text = item.syntax().text().to_string();
    let file = module_file(group, root, item).map(|(id, _)| group.file(id).path.clone());
    let file = file.unwrap_or_else(|| {
        // A module left out by `cfg` on this platform: where the binary finds it.
        let dir = parent_dir(&group.file(root).path);
        let name = item
            .name()
            .map(|n| n.text().to_string())
            .unwrap_or_default();
        let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
        match path_attr(item) {
            Some((_, p)) => normalize(&format!("{dir}/{p}")),
            None => format!("{dir}/{name}.rs"),
        }
    });
    if let Some((attr, _)) = path_attr(item) {
        let range: TextRange = attr.syntax().text_range() - base;
        let mut end = usize::from(range.end());
        end += text[end..].len() - text[end..].trim_start().len();
        text.replace_range(usize::from(range.start())..end, "");
    }
    // An inline module of a library root looks for `#[path]` files in its folder.
    let from = format!("{}/{module}", parent_dir(&group.file(lib.root).path));
    let from = from.trim_start_matches('/');
    format!("#[path = \"{}\"]\n{text}", relative_path(from, &file))
}
