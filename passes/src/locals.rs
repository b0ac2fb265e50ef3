//! Local variables as knit follows them: the `let` a name refers to, and
//! whether the variable changes after it (then knit cannot say what it holds).

use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode};

/// The `let` that binds `name` where `node` is: the last one before `node` in
/// the innermost enclosing block that has one.
pub fn binding(node: &SyntaxNode, name: &str) -> Option<ast::LetStmt> {
    let at = node.text_range().start();
    node.ancestors()
        .filter_map(ast::StmtList::cast)
        .find_map(|list| {
            list.statements()
                .filter_map(|s| match s {
                    ast::Stmt::LetStmt(binding) => Some(binding),
                    _ => None,
                })
                .filter(|b| b.syntax().text_range().end() <= at)
                .filter(|b| binds(b, name))
                .last()
        })
}

/// Whether `binding` binds the single name `name`.
pub fn binds(binding: &ast::LetStmt, name: &str) -> bool {
    matches!(binding.pat(), Some(ast::Pat::IdentPat(p)) if p.name().is_some_and(|n| n.text() == name))
}

/// Whether the variable `binding` introduces is assigned again or borrowed
/// mutably in its block after the `let`.
pub fn changed(binding: &ast::LetStmt) -> bool {
    let Some(ast::Pat::IdentPat(pat)) = binding.pat() else {
        return true;
    };
    let Some(name) = pat.name().map(|n| n.text().to_string()) else {
        return true;
    };
    let Some(block) = binding.syntax().parent() else {
        return true;
    };
    let after = binding.syntax().text_range().end();
    let is_name = |e: Option<ast::Expr>| matches!(e, Some(ast::Expr::PathExpr(p)) if p.path().is_some_and(|p| p.syntax().text() == name.as_str()));
    block
        .descendants()
        .filter(|n| n.text_range().start() >= after)
        .any(|n| {
            if let Some(assign) = ast::BinExpr::cast(n.clone())
                && matches!(assign.op_kind(), Some(ast::BinaryOp::Assignment { .. }))
            {
                return is_name(assign.lhs());
            }
            if let Some(borrow) = ast::RefExpr::cast(n) {
                return borrow.mut_token().is_some() && is_name(borrow.expr());
            }
            false
        })
}
