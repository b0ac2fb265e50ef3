//! Parsing a Rust source file: the tree `ast::SourceFile::parse` builds, and
//! the first error its lexer or parser reports.
//!
//! `Parse::errors` would also run rust-analyzer's validation, a second walk of
//! the whole tree for what rustc rejects after parsing (literal escapes, `let`
//! where no `let` may go, ..). Such code still parses into a sound tree, knit
//! copies it as it is, and the build reports it; the walk cost a fifth of a
//! merge's own time. So knit stops at lexer and parser errors only.

use ra_ap_syntax::{Edition, Parse, SyntaxTreeBuilder, TextSize, ast};

/// A lexer or parser error: where, and rust-analyzer's message.
pub struct SyntaxError {
    pub offset: TextSize,
    pub message: String,
}

/// `text` parsed as `ast::SourceFile::parse` parses it (the same tree), with the
/// first error, in the order `Parse::errors` lists them: the parser's, then the
/// lexer's.
pub fn source_file(text: &str, edition: Edition) -> (Parse<ast::SourceFile>, Option<SyntaxError>) {
    let lexed = ra_ap_parser::LexedStr::new(edition, text);
    let input = lexed.to_input(edition);
    let output = ra_ap_parser::TopEntryPoint::SourceFile.parse(&input);
    let mut builder = SyntaxTreeBuilder::default();
    let mut first = None;
    lexed.intersperse_trivia(&output, &mut |step| match step {
        ra_ap_parser::StrStep::Token { kind, text } => builder.token(kind, text),
        ra_ap_parser::StrStep::Enter { kind } => builder.start_node(kind),
        ra_ap_parser::StrStep::Exit => builder.finish_node(),
        ra_ap_parser::StrStep::Error { msg, pos } => {
            first.get_or_insert_with(|| SyntaxError {
                offset: TextSize::from(pos as u32),
                message: msg.to_string(),
            });
        }
    });
    let first = first.or_else(|| {
        let (token, message) = lexed.errors().next()?;
        Some(SyntaxError {
            offset: TextSize::from(lexed.text_range(token).start as u32),
            message: message.to_string(),
        })
    });
    let parse = builder
        .finish()
        .cast::<ast::SourceFile>()
        .expect("the parser's top entry builds a source file");
    (parse, first)
}

#[cfg(test)]
mod tests {
    use ra_ap_syntax::AstNode;

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
            let (parse, first) = source_file(text, Edition::Edition2021);
            let reference = ast::SourceFile::parse(text, Edition::Edition2021);
            assert_eq!(
                format!("{:#?}", parse.tree().syntax()),
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
}
