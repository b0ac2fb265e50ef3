//! Parsing a Rust source file: the green tree rust-analyzer's parser builds,
//! and the first error its lexer or parser reports.
//!
//! `Parse::errors` would also run rust-analyzer's validation, a second walk of
//! the whole tree for what rustc rejects after parsing (literal escapes, `let`
//! where no `let` may go, ..). Such code still parses into a sound tree, knit
//! copies it as it is, and the build reports it; the walk cost a fifth of a
//! merge's own time. So knit stops at lexer and parser errors only.
//!
//! The trees of the files a thread parses share one node cache: a token or a
//! small node that many files spell (`self`, `;`, `Ok(x)`) is kept once. A tree
//! is the same as with a cache of its own; the loader keeps 40% less memory
//! and parses about a fifth faster. Since rowan compares nodes by green node
//! and offset, nodes of two files can compare equal: passes key what they keep
//! by file and range, never by node across files.

use std::cell::RefCell;

use ra_ap_syntax::{Edition, GreenNode, SyntaxKind, TextSize};
use rowan::{GreenNodeBuilder, NodeCache};

use crate::nesting;

/// A lexer or parser error: where, and rust-analyzer's message.
pub struct SyntaxError {
    pub offset: TextSize,
    pub message: String,
}

/// The byte order mark rustc accepts at the start of a file.
const BOM: &str = "\u{feff}";

thread_local! {
    /// The node cache of the trees this thread builds.
    static NODES: RefCell<NodeCache> = RefCell::default();
}

/// `text` parsed as `ast::SourceFile::parse` parses it (the same tree), with the
/// first error, in the order `Parse::errors` lists them: the parser's, then the
/// lexer's. A byte order mark at the start (which rustc skips) is kept as the
/// tree's first token, whitespace, so that the tree spells the text byte for
/// byte.
///
/// The parser and the passes descend one call per level of nesting: a file
/// nested deeper than [`nesting::MAX_NESTING`] is not parsed, and one whose
/// tree is deeper than [`nesting::MAX_DEPTH`] is not kept. Either gives an
/// empty tree and an error that names where the file goes too deep. Call it
/// on a thread of [`crate::workers`], whose stack holds those depths.
pub fn source_file(text: &str, edition: Edition) -> (GreenNode, Option<SyntaxError>) {
    let mut bom = text.strip_prefix(BOM).map(|_| BOM);
    let shift = bom.map_or(0, str::len);
    let text = &text[shift..];
    let lexed = ra_ap_parser::LexedStr::new(edition, text);
    if let Some(offset) = nesting::too_deep(&lexed) {
        return too_deep(
            shift + offset,
            nesting::MAX_NESTING,
            "brackets, or operators in a row",
        );
    }
    let input = lexed.to_input(edition);
    let output = ra_ap_parser::TopEntryPoint::SourceFile.parse(&input);
    let mut first = None;
    // The tree's depth, where the text is, and where the tree first grows too deep.
    let (mut depth, mut at, mut deepest) = (0, shift, None);
    let green = NODES.with_borrow_mut(|nodes| {
        let mut builder = GreenNodeBuilder::with_cache(nodes);
        lexed.intersperse_trivia(&output, &mut |step| match step {
            ra_ap_parser::StrStep::Token { kind, text } => {
                at += text.len();
                builder.token(rowan::SyntaxKind(kind.into()), text)
            }
            ra_ap_parser::StrStep::Enter { kind } => {
                depth += 1;
                if depth > nesting::MAX_DEPTH {
                    deepest.get_or_insert(at);
                }
                builder.start_node(rowan::SyntaxKind(kind.into()));
                if let Some(bom) = bom.take() {
                    builder.token(rowan::SyntaxKind(SyntaxKind::WHITESPACE.into()), bom);
                }
            }
            ra_ap_parser::StrStep::Exit => {
                depth -= 1;
                builder.finish_node()
            }
            ra_ap_parser::StrStep::Error { msg, pos } => {
                first.get_or_insert_with(|| SyntaxError {
                    offset: TextSize::from((shift + pos) as u32),
                    message: msg.to_string(),
                });
            }
        });
        builder.finish()
    });
    if let Some(offset) = deepest {
        return too_deep(offset, nesting::MAX_DEPTH, "syntax tree levels");
    }
    let first = first.or_else(|| {
        let (token, message) = lexed.errors().next()?;
        Some(SyntaxError {
            offset: TextSize::from((shift + lexed.text_range(token).start) as u32),
            message: message.to_string(),
        })
    });
    (green, first)
}

/// An empty tree, and the error of a file that nests more than `limit` levels
/// (`of` what) at byte `offset`.
fn too_deep(offset: usize, limit: usize, of: &str) -> (GreenNode, Option<SyntaxError>) {
    let empty = GreenNode::new(rowan::SyntaxKind(SyntaxKind::SOURCE_FILE.into()), []);
    let error = SyntaxError {
        offset: TextSize::from(offset as u32),
        message: format!(
            "nested more than {limit} levels deep ({of}): knit does not read code this deep"
        ),
    };
    (empty, Some(error))
}

#[cfg(test)]
mod tests {
    use ra_ap_syntax::{AstNode, SyntaxNode, ast};

    use super::*;

    /// The same tree as rust-analyzer's own parse, and the same first error where
    /// the lexer or the parser finds one.
    #[test]
    fn parses_as_rust_analyzer_does() {
        let cases = [
            "fn main() { let x = 1; }\n",
            "mod a; /* c */ use b::{c, d as e};\n#[cfg(x)] struct S<T>(T);\n",
            "fn f() { let x = ; }\n",
            "fn f() { g(1, }\n",
            "fn f() { let s = \"unterminated; }\n",
            "fn f() { 'a' 'bc' }\n",
        ];
        for text in cases {
            let (green, first) = source_file(text, Edition::Edition2021);
            let reference = ast::SourceFile::parse(text, Edition::Edition2021);
            assert_eq!(
                format!("{:#?}", SyntaxNode::new_root(green)),
                format!("{:#?}", reference.tree().syntax()),
                "{text}"
            );
            let expected = reference
                .errors()
                .first()
                .map(|e| (e.range().start(), e.to_string()));
            assert_eq!(first.map(|e| (e.offset, e.message)), expected, "{text}");
        }
    }

    /// A byte order mark is kept as the first token; errors count its bytes.
    #[test]
    fn keeps_a_byte_order_mark() {
        let (green, first) = source_file("\u{feff}fn main() {}\n", Edition::Edition2021);
        assert!(first.is_none());
        let tree = SyntaxNode::new_root(green);
        assert_eq!(tree.text().to_string(), "\u{feff}fn main() {}\n");
        let (_, first) = source_file("\u{feff}fn main() { = }\n", Edition::Edition2021);
        assert_eq!(first.map(|e| e.offset), Some(TextSize::from(15)));
    }
}
