//! Paths to Volo's generated types as a crate's code spells them, followed to
//! the path they stand for: `use` trees (renames and groups, at module level and
//! in blocks), `type` aliases, and re-exports through the crate's own modules
//! (`mod clients { pub use volo_gen::proto_gen::accounts::AccountsClientBuilder
//! as Ledger; }` makes `clients::Ledger` that builder).
//!
//! What a path resolves to outside the crate (another crate's re-exports, as
//! `volo_gen`'s `pub use generated::*` of volo-build's code) is kept as
//! written: volo-build's modules are named by the path below `proto_gen`.

use std::collections::{BTreeMap, BTreeSet};

use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode};

use crate::model::{FileId, Group};

/// A module of a crate: the crate's root file and the path from the root.
type Module = (FileId, Vec<String>);

/// The local names of the group's crates and what they stand for.
#[derive(Debug, Default)]
pub struct Names {
    /// Per module, each name a `use` or a `type` alias binds there, with the
    /// path it stands for, as written (relative to that module).
    bindings: BTreeMap<Module, BTreeMap<String, Vec<String>>>,
    /// The modules of each crate (its files' and inline `mod` blocks).
    modules: BTreeSet<Module>,
    /// The files of those crates that name `volo`, the only ones where Volo
    /// code is looked for (found once: a search per service would read the
    /// whole group each time).
    volo_files: BTreeSet<FileId>,
}

/// How many bindings one path may be followed through (cycles in code that
/// does not compile end there).
const DEPTH: usize = 16;

impl Names {
    /// The bindings of every crate of the group.
    pub fn of(group: &Group) -> Names {
        Names::of_crates(group, |_| true)
    }

    /// The bindings of the crate rooted at `krate` alone.
    pub fn of_crate(group: &Group, krate: FileId) -> Names {
        Names::of_crates(group, |k| k == krate)
    }

    /// The bindings of the crates whose root `wanted` accepts.
    pub fn of_crates(group: &Group, wanted: impl Fn(FileId) -> bool) -> Names {
        let mut names = Names::default();
        for (file, source, rust) in group.rust_files() {
            let crates: Vec<(FileId, &[String])> = std::iter::once((rust.krate, &rust.module[..]))
                .chain(rust.also_in.iter().map(|(k, m)| (*k, &m[..])))
                .filter(|(krate, _)| wanted(*krate))
                .collect();
            if crates.is_empty() {
                continue;
            }
            if source.text.contains("volo") {
                names.volo_files.insert(file);
            }
            let tree = rust.tree();
            for (krate, module) in crates {
                names.add_file(krate, module, tree.syntax());
            }
        }
        names
    }

    /// Whether `file` names `volo` (see [`Names::of`]).
    pub fn names_volo(&self, file: FileId) -> bool {
        self.volo_files.contains(&file)
    }

    /// [`Names::of`] for a group with Volo code (a file that names `volo`);
    /// none for another group, which Volo's passes leave alone.
    pub fn of_volo_group(group: &Group) -> Names {
        if group.rust_files().any(|(_, f, _)| f.text.contains("volo")) {
            Names::of(group)
        } else {
            Names::default()
        }
    }

    /// The names a path to a type whose name ends in `suffix` may be spelled
    /// with: `suffix` itself, and every name bound, directly or through other
    /// bindings, to such a path. A file that contains none names no such type.
    pub fn spellings(&self, suffix: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::from([suffix.to_string()]);
        loop {
            let more: Vec<&String> = self
                .bindings
                .values()
                .flatten()
                .filter(|(name, target)| {
                    !found.contains(*name)
                        && target
                            .last()
                            .is_some_and(|t| t.ends_with(suffix) || found.contains(t))
                })
                .map(|(name, _)| name)
                .collect();
            if more.is_empty() {
                return found;
            }
            found.extend(more.into_iter().cloned());
        }
    }

    fn add_file(&mut self, krate: FileId, module: &[String], root: &SyntaxNode) {
        self.modules.insert((krate, module.to_vec()));
        for node in root.descendants() {
            if let Some(inline) = ast::Module::cast(node.clone()) {
                if inline.item_list().is_some() {
                    self.modules
                        .insert((krate, scope_of(module, inline.syntax())));
                }
            } else if let Some(item) = ast::Use::cast(node.clone()) {
                let scope = scope_of(module, item.syntax());
                if let Some(tree) = item.use_tree() {
                    let bound = self.bindings.entry((krate, scope)).or_default();
                    flatten(&tree, &[], bound);
                }
            } else if let Some(alias) = ast::TypeAlias::cast(node) {
                let target = match alias.ty() {
                    Some(ast::Type::PathType(ty)) => ty.path().and_then(|p| segments(&p)),
                    _ => None,
                };
                if let (Some(name), Some(target)) = (alias.name(), target) {
                    let scope = scope_of(module, alias.syntax());
                    let bound = self.bindings.entry((krate, scope)).or_default();
                    bound.insert(name.text().to_string(), target);
                }
            }
        }
    }

    /// What `path` (segments, generic arguments left out), written in `module`
    /// of crate `krate`, stands for: a path from the crate's root (`crate::..`)
    /// or outside the crate (`volo_gen::..`), the bindings followed.
    pub fn resolve(&self, krate: FileId, module: &[String], path: &[String]) -> Vec<String> {
        self.resolve_in(krate, module, path.to_vec(), 0)
    }

    fn resolve_in(
        &self,
        krate: FileId,
        module: &[String],
        path: Vec<String>,
        depth: usize,
    ) -> Vec<String> {
        let Some((first, rest)) = path.split_first() else {
            return path;
        };
        if depth > DEPTH {
            return path;
        }
        let joined = |base: &[String], rest: &[String]| [base, rest].concat();
        match first.as_str() {
            "crate" => self.below_root(krate, rest.to_vec(), depth),
            "self" => self.below_root(krate, joined(module, rest), depth),
            "super" => {
                let mut base = module.to_vec();
                let mut rest = rest;
                base.pop();
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                self.below_root(krate, joined(&base, rest), depth)
            }
            name => {
                let bound = self.bindings.get(&(krate, module.to_vec()));
                if let Some(target) = bound.and_then(|b| b.get(name)) {
                    return self.resolve_in(krate, module, joined(target, rest), depth + 1);
                }
                let child = joined(module, std::slice::from_ref(first));
                if self.modules.contains(&(krate, child)) {
                    return self.below_root(krate, joined(module, &path), depth);
                }
                path
            }
        }
    }

    /// `path`, from the root of crate `krate`, with the first prefix that a
    /// module binds (a `use`, a re-export) replaced by what it stands for.
    fn below_root(&self, krate: FileId, path: Vec<String>, depth: usize) -> Vec<String> {
        for i in 0..path.len() {
            let (module, name) = (&path[..i], &path[i]);
            let bound = self.bindings.get(&(krate, module.to_vec()));
            if let Some(target) = bound.and_then(|b| b.get(name)) {
                let target = [target.as_slice(), &path[i + 1..]].concat();
                return self.resolve_in(krate, module, target, depth + 1);
            }
        }
        [vec!["crate".to_string()], path].concat()
    }
}

/// The module path of `node` in a file whose module is `module`: the inline
/// `mod` blocks around it appended.
pub fn scope_of(module: &[String], node: &SyntaxNode) -> Vec<String> {
    let mut inner: Vec<String> = node
        .ancestors()
        .skip(1)
        .filter_map(ast::Module::cast)
        .filter_map(|m| m.name().map(|n| n.text().to_string()))
        .collect();
    inner.reverse();
    [module, &inner].concat()
}

/// The names a `use` tree binds, with the paths they stand for, below `prefix`.
/// Globs bind no name of their own and are not followed.
fn flatten(tree: &ast::UseTree, prefix: &[String], out: &mut BTreeMap<String, Vec<String>>) {
    let own = tree.path().and_then(|p| segments(&p)).unwrap_or_default();
    let mut path = [prefix, &own].concat();
    if let Some(list) = tree.use_tree_list() {
        for child in list.use_trees() {
            flatten(&child, &path, out);
        }
        return;
    }
    if tree.star_token().is_some() {
        return;
    }
    // `use a::b::{self}` binds `b`.
    if path.last().is_some_and(|s| s == "self") {
        path.pop();
    }
    let local = match tree.rename() {
        Some(rename) => match rename.name() {
            Some(name) => name.text().to_string(),
            None => return, // `as _`
        },
        None => match path.last() {
            Some(last) => last.clone(),
            None => return,
        },
    };
    out.insert(local, path);
}

/// The segments of `path`, generic arguments left out.
pub fn segments(path: &ast::Path) -> Option<Vec<String>> {
    path.segments()
        .map(|s| match s.kind()? {
            ast::PathSegmentKind::Name(n) => Some(n.text().to_string()),
            ast::PathSegmentKind::CrateKw => Some("crate".into()),
            ast::PathSegmentKind::SelfKw => Some("self".into()),
            ast::PathSegmentKind::SuperKw => Some("super".into()),
            _ => None,
        })
        .collect()
}
