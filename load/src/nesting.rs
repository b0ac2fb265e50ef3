//! How deep a file may nest. rust-analyzer's parser descends one call per
//! level of nesting, and so do the walks of the passes over a syntax tree: a
//! file nested deep enough would overflow any stack. knit measures the nesting
//! before it parses, the tree's depth as it builds the tree, and refuses a
//! file that goes deeper than the stacks of [`crate::workers`] hold.

use ra_ap_parser::{LexedStr, SyntaxKind};

/// The deepest nesting knit parses: open brackets, plus the operators and
/// keywords in a row that open a level of their own (`- - - x`, `& & & T`,
/// `return return x`). Real code stays far below it.
pub const MAX_NESTING: usize = 1024;

/// The deepest syntax tree knit keeps (a chain of method calls nests one
/// level a call, without brackets around it).
pub const MAX_DEPTH: usize = 8192;

/// The byte offset (in the lexed text) of the first token that nests deeper
/// than [`MAX_NESTING`], if any.
pub fn too_deep(lexed: &LexedStr<'_>) -> Option<usize> {
    let (mut brackets, mut run) = (0usize, 0usize);
    for i in 0..lexed.len() {
        let kind = lexed.kind(i);
        match kind {
            SyntaxKind::L_PAREN | SyntaxKind::L_BRACK | SyntaxKind::L_CURLY => {
                brackets += 1;
                run = 0;
            }
            SyntaxKind::R_PAREN | SyntaxKind::R_BRACK | SyntaxKind::R_CURLY => {
                brackets = brackets.saturating_sub(1);
                run = 0;
            }
            _ if kind.is_trivia() => {}
            SyntaxKind::IDENT
            | SyntaxKind::LIFETIME_IDENT
            | SyntaxKind::SEMICOLON
            | SyntaxKind::COMMA => run = 0,
            _ if kind.is_literal() => run = 0,
            _ => run += 1,
        }
        if brackets + run > MAX_NESTING {
            return Some(lexed.text_range(i).start);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use ra_ap_parser::Edition;

    use super::*;

    fn deepest(text: &str) -> Option<usize> {
        too_deep(&LexedStr::new(Edition::Edition2021, text))
    }

    #[test]
    fn finds_the_level_that_goes_too_deep() {
        let fine = format!("fn f() {{ {}1{} }}", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(deepest(&fine), None);
        let parens = format!("fn f() {{ {}1{} }}", "(".repeat(1100), ")".repeat(1100));
        assert_eq!(deepest(&parens), Some(9 + 1023));
        let negated = format!("fn f() {{ {}1 }}", "- ".repeat(1100));
        assert_eq!(deepest(&negated), Some(9 + 2 * 1023));
        // Long but flat: statements, calls in a chain, items.
        let flat = "fn f() { let x = a.b().c(); }\n".repeat(2000);
        assert_eq!(deepest(&flat), None);
    }
}
