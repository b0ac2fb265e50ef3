//! Modules declared inside `cfg_if!` (the `cfg-if` crate's macro), which rustc
//! sees once the macro expands: `cfg_if! { if #[cfg(feature = "component")] {
//! pub mod rpc; } else { .. } }` declares `rpc` as `pub mod rpc;` would.

use ra_ap_syntax::ast;
use ra_ap_syntax::{AstNode, Edition, SyntaxKind, SyntaxNode, TextSize};

/// A `mod name;` of a `cfg_if!` branch: the module parsed from the branch's
/// tokens, where its text starts in the file (`shift` plus its range in its
/// own tree), and the inline modules around the macro, outermost first.
pub struct Declared {
    pub module: ast::Module,
    pub shift: TextSize,
    pub outer: Vec<ast::Module>,
}

impl Declared {
    /// The inline modules around the declaration, outermost first: those
    /// around the macro, then those of its branch.
    pub fn around(&self) -> Vec<ast::Module> {
        let mut inner: Vec<ast::Module> = self
            .module
            .syntax()
            .ancestors()
            .skip(1)
            .filter_map(ast::Module::cast)
            .collect();
        inner.reverse();
        self.outer.iter().cloned().chain(inner).collect()
    }
}

/// The file modules that the `cfg_if!` calls of `tree` declare in the
/// branches a build may take (see [`branches`]); several may declare one
/// name, of which the loader keeps the first whose file exists.
pub fn modules(tree: &SyntaxNode, edition: Edition) -> Vec<Declared> {
    let mut found = Vec::new();
    let calls = tree
        .descendants()
        .filter_map(ast::MacroCall::cast)
        .filter(is_cfg_if);
    for call in calls {
        let outer: Vec<ast::Module> = {
            let mut around: Vec<ast::Module> = call
                .syntax()
                .ancestors()
                .filter_map(ast::Module::cast)
                .collect();
            around.reverse();
            around
        };
        let Some(args) = call.token_tree() else {
            continue;
        };
        branches(
            args.syntax(),
            TextSize::from(0),
            edition,
            &outer,
            &mut found,
        );
    }
    found
}

/// The `mod name;` items of the branches of a `cfg_if!` a build may take,
/// from its arguments `args` (at `base` in the file), and of `cfg_if!`s nested
/// in them. Branches are tried in order, as the macro does: one whose
/// condition cannot hold for the Linux build knit merges for (`test`,
/// `windows`) is skipped, one whose condition holds (`unix`, no condition)
/// is the last taken, one knit cannot tell (`feature = ".."`) is taken and
/// the next tried too.
fn branches(
    args: &SyntaxNode,
    base: TextSize,
    edition: Edition,
    outer: &[ast::Module],
    found: &mut Vec<Declared>,
) {
    let mut condition: Option<String> = None;
    for branch in args
        .children()
        .filter(|c| c.kind() == SyntaxKind::TOKEN_TREE)
    {
        let text = branch.text().to_string();
        if let Some(attr) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            condition = Some(attr.trim().to_string());
            continue;
        }
        let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
            continue;
        };
        let holds = match condition.take() {
            None => Some(true),
            Some(attr) => attr
                .strip_prefix("cfg")
                .map(str::trim)
                .and_then(|p| p.strip_prefix('('))
                .and_then(|p| p.strip_suffix(')'))
                .and_then(holds),
        };
        if holds == Some(false) {
            continue;
        }
        let shift = base + branch.text_range().start() + TextSize::from(1);
        let parsed = ast::SourceFile::parse(inner, edition).tree();
        for module in parsed.syntax().descendants().filter_map(ast::Module::cast) {
            if module.item_list().is_none() {
                found.push(Declared {
                    module,
                    shift,
                    outer: outer.to_vec(),
                });
            }
        }
        let nested = parsed
            .syntax()
            .descendants()
            .filter_map(ast::MacroCall::cast)
            .filter(is_cfg_if);
        for call in nested {
            if let Some(args) = call.token_tree() {
                branches(args.syntax(), shift, edition, outer, found);
            }
        }
        if holds == Some(true) {
            return;
        }
    }
}

/// Whether `call` is `cfg_if!` (`cfg_if::cfg_if!`).
fn is_cfg_if(call: &ast::MacroCall) -> bool {
    call.path()
        .and_then(|p| p.segment()?.name_ref())
        .is_some_and(|n| n.text() == "cfg_if")
}

/// Whether the `cfg` predicate `predicate` holds in the Linux build knit
/// merges for; `None` when that depends on what knit does not tell
/// (features, `debug_assertions`, the architecture).
fn holds(predicate: &str) -> Option<bool> {
    let predicate = predicate.trim();
    let (name, args) = match predicate.split_once('(') {
        Some((name, rest)) => (name.trim(), rest.strip_suffix(')')?),
        None => (predicate, ""),
    };
    let each = || split_top(args).into_iter().map(holds);
    match name {
        "not" => holds(args).map(|h| !h),
        "all" => each()
            .try_fold(true, |all, h| Some(all && h?))
            .or_else(|| each().any(|h| h == Some(false)).then_some(false)),
        "any" => each()
            .try_fold(false, |any, h| Some(any || h?))
            .or_else(|| each().any(|h| h == Some(true)).then_some(true)),
        "test" | "windows" | "miri" | "doc" => Some(false),
        "unix" => Some(true),
        _ => match predicate.split_once('=') {
            Some((key, value)) => {
                let value = value.trim().trim_matches('"');
                match key.trim() {
                    "target_os" => Some(value == "linux"),
                    "target_family" => Some(value == "unix"),
                    _ => None,
                }
            }
            None => None,
        },
    }
}

/// The comma-separated parts of `args`, split outside parentheses.
fn split_top(args: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in args.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !args[start..].trim().is_empty() {
        parts.push(&args[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use ra_ap_syntax::ast::HasName;

    /// The modules the `cfg_if!` of `source` declares that knit loads.
    fn loaded(source: &str) -> Vec<String> {
        let tree = ast::SourceFile::parse(source, Edition::Edition2021).tree();
        modules(tree.syntax(), Edition::Edition2021)
            .iter()
            .map(|d| {
                let name = d.module.name().unwrap().text().to_string();
                let at = usize::from(d.module.syntax().text_range().start() + d.shift);
                assert!(
                    source[at..].starts_with("mod ")
                        || source[at..].starts_with('#')
                        || source[at..].starts_with("pub")
                );
                name
            })
            .collect()
    }

    #[test]
    fn branches_a_linux_build_may_take() {
        let source = "cfg_if::cfg_if! {\n    if #[cfg(test)] {\n        mod mock;\n    } else if #[cfg(windows)] {\n        mod win;\n    } else if #[cfg(feature = \"fast\")] {\n        mod fast;\n    } else if #[cfg(all(unix, not(target_os = \"macos\")))] {\n        mod linux;\n    } else {\n        mod other;\n    }\n}\n";
        assert_eq!(loaded(source), ["fast", "linux"]);
    }

    #[test]
    fn nested_and_inline() {
        let source = "pub mod net {\n    cfg_if::cfg_if! {\n        if #[cfg(feature = \"a\")] {\n            pub mod a;\n            cfg_if::cfg_if! { if #[cfg(unix)] { mod deep; } }\n        }\n    }\n}\n";
        let tree = ast::SourceFile::parse(source, Edition::Edition2021).tree();
        let found = modules(tree.syntax(), Edition::Edition2021);
        let names: Vec<(Vec<String>, String)> = found
            .iter()
            .map(|d| {
                let around = d
                    .around()
                    .iter()
                    .filter_map(|m| Some(m.name()?.text().to_string()))
                    .collect();
                (around, d.module.name().unwrap().text().to_string())
            })
            .collect();
        assert_eq!(
            names,
            [
                (vec!["net".to_string()], "a".to_string()),
                (vec!["net".to_string()], "deep".to_string())
            ]
        );
    }
}
