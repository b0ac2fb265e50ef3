//! Finding the few nodes of some kinds in a whole file. A walk of the syntax
//! tree allocates a cursor for every node it visits; this walks the green tree
//! underneath, which allocates nothing, and builds syntax nodes only for what it
//! finds.

use ra_ap_syntax::{NodeOrToken, SyntaxKind, SyntaxNode, TextRange, TextSize};
use rowan::GreenNodeData;

/// The nodes of `root`'s subtree (`root` included) whose kind is one of `kinds`,
/// in preorder: what `root.descendants().filter(..)` gives, for less.
pub fn nodes_of_kinds(root: &SyntaxNode, kinds: &[SyntaxKind]) -> Vec<SyntaxNode> {
    let raw: Vec<rowan::SyntaxKind> = kinds
        .iter()
        .map(|k| rowan::SyntaxKind(u16::from(*k)))
        .collect();
    let mut found = Vec::new();
    walk(&root.green(), root.text_range().start(), &raw, &mut found);
    found
        .into_iter()
        .filter_map(|(range, kind)| node_at(root, range, kind))
        .collect()
}

fn walk(
    node: &GreenNodeData,
    start: TextSize,
    kinds: &[rowan::SyntaxKind],
    found: &mut Vec<(TextRange, rowan::SyntaxKind)>,
) {
    if kinds.contains(&node.kind()) {
        found.push((TextRange::at(start, node.text_len()), node.kind()));
    }
    let mut at = start;
    for child in node.children() {
        match child {
            NodeOrToken::Node(child) => {
                walk(child, at, kinds, found);
                at += child.text_len();
            }
            NodeOrToken::Token(token) => at += token.text_len(),
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
}
