//! Modules declared inside `cfg_if!` (the `cfg-if` crate's macro), which rustc
//! sees once the macro expands: `cfg_if! { if #[cfg(feature = "component")] {
//! pub mod rpc; } else { .. } }` declares `rpc` as `pub mod rpc;` would.

use ra_ap_syntax::ast::{self, HasModuleItem, HasName};
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

/// The file modules that the `cfg_if!` calls of `tree` declare, the first
/// branch's first where several branches declare one name (rustc keeps one).
pub fn modules(tree: &SyntaxNode, edition: Edition) -> Vec<Declared> {
    let mut found = Vec::new();
    let calls = tree
        .descendants()
        .filter_map(ast::MacroCall::cast)
        .filter(|call| {
            call.path()
                .and_then(|p| p.segment()?.name_ref())
                .is_some_and(|n| n.text() == "cfg_if")
        });
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
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|d| {
        let path: Vec<String> = d
            .around()
            .iter()
            .chain(std::iter::once(&d.module))
            .filter_map(|m| Some(m.name()?.text().to_string()))
            .collect();
        seen.insert(path)
    });
    found
}

/// The `mod name;` items of each brace-delimited branch of a `cfg_if!`'s
/// arguments `args` (at `base` in the file), and of `cfg_if!`s nested in them.
fn branches(
    args: &SyntaxNode,
    base: TextSize,
    edition: Edition,
    outer: &[ast::Module],
    found: &mut Vec<Declared>,
) {
    for branch in args
        .children()
        .filter(|c| c.kind() == SyntaxKind::TOKEN_TREE)
    {
        let text = branch.text().to_string();
        let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
            continue;
        };
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
        for item in parsed.items() {
            if let ast::Item::MacroCall(call) = item
                && call
                    .path()
                    .and_then(|p| p.segment()?.name_ref())
                    .is_some_and(|n| n.text() == "cfg_if")
                && let Some(args) = call.token_tree()
            {
                branches(args.syntax(), shift, edition, outer, found);
            }
        }
    }
}
