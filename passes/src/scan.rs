//! Finding the few nodes of some kinds in a whole file. A walk of the syntax
//! tree allocates a cursor for every node it visits; this walks the green tree
//! underneath, which allocates nothing, and builds syntax nodes only for what it
//! finds.

use std::collections::BTreeSet;

use ra_ap_syntax::{NodeOrToken, SyntaxKind, SyntaxNode, TextRange, TextSize};
use rowan::GreenNodeData;

/// The nodes of `root`'s subtree (`root` included) whose kind is one of `kinds`,
/// in preorder: what `root.descendants().filter(..)` gives, for less.
pub fn nodes_of_kinds(root: &SyntaxNode, kinds: &[SyntaxKind]) -> Vec<SyntaxNode> {
    nodes_and_paths_named(root, kinds, &BTreeSet::new()).0
}

/// One walk for the name resolver: the nodes of `kinds`, and the `PATH` nodes
/// whose last segment is a plain identifier in `names`, each in preorder.
pub fn nodes_and_paths_named(
    root: &SyntaxNode,
    kinds: &[SyntaxKind],
    names: &BTreeSet<String>,
) -> (Vec<SyntaxNode>, Vec<SyntaxNode>) {
    let kinds: Vec<rowan::SyntaxKind> = kinds.iter().map(|k| raw(*k)).collect();
    let mut walk = NamedWalk {
        kinds: &kinds,
        names,
        ancestors: Vec::new(),
        found: Vec::new(),
        paths: Vec::new(),
    };
    walk.node(root.green(), root.text_range().start());
    let materialise = |found: Vec<(TextRange, rowan::SyntaxKind)>| -> Vec<SyntaxNode> {
        found
            .into_iter()
            .filter_map(|(range, kind)| node_at(root, range, kind))
            .collect()
    };
    // Recorded as they end: in preorder, an outer path comes before the paths
    // it holds.
    let mut paths = walk.paths;
    paths.sort_by_key(|r| (r.start(), std::cmp::Reverse(r.end())));
    let path = raw(SyntaxKind::PATH);
    let paths = paths.into_iter().map(|r| (r, path)).collect();
    (materialise(walk.found), materialise(paths))
}

/// The identifiers of `root`'s subtree whose text is one of `names`, outside
/// nodes of kind `skip`: each with its range, in order.
pub fn idents_named<'n>(
    root: &SyntaxNode,
    names: &'n BTreeSet<String>,
    skip: SyntaxKind,
) -> Vec<(&'n str, TextRange)> {
    fn walk<'n>(
        node: &GreenNodeData,
        start: TextSize,
        names: &'n BTreeSet<String>,
        skip: rowan::SyntaxKind,
        found: &mut Vec<(&'n str, TextRange)>,
    ) {
        let mut at = start;
        for child in node.children() {
            match child {
                NodeOrToken::Node(child) => {
                    if child.kind() != skip {
                        walk(child, at, names, skip, found);
                    }
                    at += child.text_len();
                }
                NodeOrToken::Token(token) => {
                    if token.kind() == raw(SyntaxKind::IDENT)
                        && let Some(name) = names.get(token.text())
                    {
                        found.push((name, TextRange::at(at, token.text_len())));
                    }
                    at += token.text_len();
                }
            }
        }
    }
    let mut found = Vec::new();
    if root.kind() != skip && !names.is_empty() {
        walk(
            root.green(),
            root.text_range().start(),
            names,
            raw(skip),
            &mut found,
        );
    }
    found
}

fn raw(kind: SyntaxKind) -> rowan::SyntaxKind {
    rowan::SyntaxKind(u16::from(kind))
}

struct NamedWalk<'a> {
    kinds: &'a [rowan::SyntaxKind],
    names: &'a BTreeSet<String>,
    /// The nodes around the one visited: kind, start, and whether it is a path
    /// to record (its segment is one of the names).
    ancestors: Vec<(rowan::SyntaxKind, TextSize, bool)>,
    found: Vec<(TextRange, rowan::SyntaxKind)>,
    paths: Vec<TextRange>,
}

impl NamedWalk<'_> {
    fn node(&mut self, node: &GreenNodeData, start: TextSize) {
        if self.kinds.contains(&node.kind()) {
            self.found
                .push((TextRange::at(start, node.text_len()), node.kind()));
        }
        self.ancestors.push((node.kind(), start, false));
        let mut at = start;
        for child in node.children() {
            match child {
                NodeOrToken::Node(child) => {
                    self.node(child, at);
                    at += child.text_len();
                }
                NodeOrToken::Token(token) => {
                    if !self.names.is_empty()
                        && token.kind() == raw(SyntaxKind::IDENT)
                        && self.names.contains(token.text())
                    {
                        self.mark_path();
                    }
                    at += token.text_len();
                }
            }
        }
        if let Some((_, _, true)) = self.ancestors.pop() {
            self.paths.push(TextRange::at(start, node.text_len()));
        }
    }

    /// Marks the path whose segment is the identifier just visited, if it is one
    /// (`PATH > PATH_SEGMENT > NAME_REF > IDENT`), to be recorded when it ends.
    fn mark_path(&mut self) {
        if let [.., (path, _, wanted), (segment, _, _), (name_ref, _, _)] =
            self.ancestors.as_mut_slice()
            && *path == raw(SyntaxKind::PATH)
            && *segment == raw(SyntaxKind::PATH_SEGMENT)
            && *name_ref == raw(SyntaxKind::NAME_REF)
        {
            *wanted = true;
        }
    }
}

/// The outermost node of kind `kind` that spans exactly `range`.
fn node_at(root: &SyntaxNode, range: TextRange, kind: rowan::SyntaxKind) -> Option<SyntaxNode> {
    let covering = match root.covering_element(range) {
        NodeOrToken::Node(node) => node,
        NodeOrToken::Token(token) => token.parent()?,
    };
    covering
        .ancestors()
        .take_while(|n| n.text_range() == range)
        .filter(|n| n.green().kind() == kind)
        .last()
}

#[cfg(test)]
mod tests {
    use ra_ap_syntax::{AstNode, Edition, SourceFile};

    use super::*;

    /// The same nodes as a walk of the syntax tree, in the same order, for every
    /// kind of a file with nesting, empty nodes and macros.
    #[test]
    fn finds_what_a_walk_of_the_syntax_tree_finds() {
        let text = r#"
mod a;
mod b { mod c; fn f() { mod d { use x::Y; } m!(k); } }
#[path = "e.rs"] mod e;
fn g() -> Option<A<B>> { let v = vec![1]; h(|| {}); struct S; }
"#;
        let file = SourceFile::parse(text, Edition::Edition2021).tree();
        let root = file.syntax();
        let kinds: std::collections::BTreeSet<SyntaxKind> =
            root.descendants().map(|n| n.kind()).collect();
        for kind in kinds {
            let expected: Vec<SyntaxNode> =
                root.descendants().filter(|n| n.kind() == kind).collect();
            assert_eq!(nodes_of_kinds(root, &[kind]), expected, "{kind:?}");
        }
        let both: Vec<SyntaxNode> = root
            .descendants()
            .filter(|n| matches!(n.kind(), SyntaxKind::MODULE | SyntaxKind::MACRO_CALL))
            .collect();
        assert_eq!(
            nodes_of_kinds(root, &[SyntaxKind::MODULE, SyntaxKind::MACRO_CALL]),
            both
        );
    }

    /// The paths whose last segment names `X`, as a filter of a walk of the
    /// syntax tree finds them, with the blocks found in the same walk.
    #[test]
    fn finds_the_paths_named() {
        let text = r#"
use a::X;
use b::{X as Y, c::X};
fn f(x: X<X<u8>>) -> m::X { X::new(X); let v: Vec<a::X::Z> = X::X::g(); { use q::X; } }
struct S { x: Option<X>, y: r#X, z: XX }
"#;
        let file = SourceFile::parse(text, Edition::Edition2021).tree();
        let root = file.syntax();
        let names: BTreeSet<String> = ["X".to_string()].into();
        let expected: Vec<SyntaxNode> = root
            .descendants()
            .filter_map(ra_ap_syntax::ast::Path::cast)
            .filter(|p| {
                p.segment()
                    .and_then(|s| s.name_ref())
                    .is_some_and(|n| n.text() == "X")
            })
            .map(|p| p.syntax().clone())
            .collect();
        let (blocks, paths) = nodes_and_paths_named(root, &[SyntaxKind::STMT_LIST], &names);
        assert_eq!(paths, expected);
        assert_eq!(paths.len(), 13);
        let lists: Vec<SyntaxNode> = root
            .descendants()
            .filter(|n| n.kind() == SyntaxKind::STMT_LIST)
            .collect();
        assert_eq!(blocks, lists);
    }

    /// The identifiers named, outside `use` items, as a walk of the tokens finds
    /// them: in code, in macro calls' tokens and in nested items.
    #[test]
    fn finds_the_identifiers_named_outside_skipped_nodes() {
        let text = r#"
use a::{X, Y};
fn f(x: X) -> Y { m!(X, Z); mod i { use X as W; fn g() -> X {} } XX }
"#;
        let file = SourceFile::parse(text, Edition::Edition2021).tree();
        let root = file.syntax();
        let names: BTreeSet<String> = ["X".to_string(), "Y".to_string()].into();
        let expected: Vec<(String, TextRange)> = root
            .descendants_with_tokens()
            .filter_map(|t| t.into_token())
            .filter(|t| t.kind() == SyntaxKind::IDENT && names.contains(t.text()))
            .filter(|t| !t.parent_ancestors().any(|a| a.kind() == SyntaxKind::USE))
            .map(|t| (t.text().to_string(), t.text_range()))
            .collect();
        let found: Vec<(String, TextRange)> = idents_named(root, &names, SyntaxKind::USE)
            .into_iter()
            .map(|(n, r)| (n.to_string(), r))
            .collect();
        assert_eq!(found, expected);
        assert_eq!(found.len(), 4);
    }
}
