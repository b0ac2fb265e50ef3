//! Local variables as knit follows them: the `let` a name refers to, and
//! whether the variable changes after it (then knit cannot say what it holds).
//! Both answer "cannot say" (`None`, `true`) rather than guess: a name bound
//! otherwise too in the function (a parameter, a match arm, a closure's
//! parameter, a tuple pattern), a `let` under an attribute (`#[cfg(..)]`), or
//! a nested function between the use and the `let`.

use ra_ap_syntax::ast::{self, HasAttrs, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode};

/// The `let` that binds `name` where `node` is: the last one before `node` in
/// the innermost enclosing block that has one, when it is the only way `name`
/// is bound in the function around `node`.
pub fn binding(node: &SyntaxNode, name: &str) -> Option<ast::LetStmt> {
    let (function, found) = last_let(node, name)?;
    let patterns = function
        .descendants()
        .filter_map(ast::IdentPat::cast)
        .filter(|p| p.name().is_some_and(|n| n.text() == name))
        .count();
    (patterns == 1 && !attributed(&function, name)).then_some(found)
}

/// Like [`binding`], where `name` may be bound by several `let`s in a row
/// (`let client = Traced::new(channel); let client = XClient::new(client);`):
/// the last `let` before `node`, when no other pattern binds `name` between
/// it and `node` and no `let` of `name` carries an attribute.
pub fn shadowed_binding(node: &SyntaxNode, name: &str) -> Option<ast::LetStmt> {
    let at = node.text_range().start();
    let (function, found) = last_let(node, name)?;
    let after = found.syntax().text_range().end();
    let between = function
        .descendants()
        .filter_map(ast::IdentPat::cast)
        .filter(|p| p.name().is_some_and(|n| n.text() == name))
        .any(|p| {
            let start = p.syntax().text_range().start();
            // The pattern of a `let` whose initializer holds `node` binds
            // after it.
            let holds_node = p
                .syntax()
                .ancestors()
                .find_map(ast::LetStmt::cast)
                .is_some_and(|l| l.syntax().text_range().contains(at));
            start >= after && start < at && !holds_node
        });
    (!between && !attributed(&function, name)).then_some(found)
}

/// The function around `node` (closures in it capture its variables; a nested
/// function sees none of them), and the last `let` of `name` before `node` in
/// the innermost enclosing block of it that has one.
fn last_let(node: &SyntaxNode, name: &str) -> Option<(SyntaxNode, ast::LetStmt)> {
    last_let_where(node, |b| binds(b, name))
}

/// The function around `node`, and the last `let` before `node` that `wanted`
/// accepts, in the innermost enclosing block of it that has one.
pub(crate) fn last_let_where(
    node: &SyntaxNode,
    wanted: impl Fn(&ast::LetStmt) -> bool,
) -> Option<(SyntaxNode, ast::LetStmt)> {
    let at = node.text_range().start();
    let function = node.ancestors().find(|n| ast::Fn::can_cast(n.kind()))?;
    let found = node
        .ancestors()
        .take_while(|n| n != &function)
        .filter_map(ast::StmtList::cast)
        .find_map(|list| {
            list.statements()
                .filter_map(|s| match s {
                    ast::Stmt::LetStmt(binding) => Some(binding),
                    _ => None,
                })
                .filter(|b| b.syntax().text_range().end() <= at)
                .filter(|b| wanted(b))
                .last()
        })?;
    Some((function, found))
}

/// Whether a `let` of `name` in `function` carries an attribute (`#[cfg(..)]`).
fn attributed(function: &SyntaxNode, name: &str) -> bool {
    function
        .descendants()
        .filter_map(ast::LetStmt::cast)
        .any(|b| binds(&b, name) && b.attrs().next().is_some())
}

/// Whether `binding` binds the single name `name`.
pub fn binds(binding: &ast::LetStmt, name: &str) -> bool {
    matches!(binding.pat(), Some(ast::Pat::IdentPat(p)) if p.name().is_some_and(|n| n.text() == name))
}

/// The values the variable `binding` introduces is given again in its block
/// after the `let` (`x = Some(connection)`), when it changes only that way:
/// `None` when it is also assigned another way (`+=`, in a tuple) or
/// borrowed mutably.
pub fn assigned(binding: &ast::LetStmt) -> Option<Vec<ast::Expr>> {
    let Some(ast::Pat::IdentPat(pat)) = binding.pat() else {
        return None;
    };
    let name = pat.name()?.text().to_string();
    let block = binding.syntax().parent()?;
    let after = binding.syntax().text_range().end();
    let names = |e: &ast::Expr| {
        e.syntax()
            .descendants()
            .filter_map(ast::PathExpr::cast)
            .any(|p| p.syntax().text() == name.as_str())
    };
    let mut values = Vec::new();
    for n in block
        .descendants()
        .filter(|n| n.text_range().start() >= after)
    {
        if let Some(assign) = ast::BinExpr::cast(n.clone())
            && matches!(assign.op_kind(), Some(ast::BinaryOp::Assignment { .. }))
            && assign.lhs().is_some_and(|l| names(&l))
        {
            let plain = matches!(
                assign.op_kind(),
                Some(ast::BinaryOp::Assignment { op: None })
            ) && matches!(assign.lhs(), Some(ast::Expr::PathExpr(p)) if p.syntax().text() == name.as_str());
            if !plain {
                return None;
            }
            values.push(assign.rhs()?);
        } else if let Some(borrow) = ast::RefExpr::cast(n)
            && borrow.mut_token().is_some()
            && borrow.expr().is_some_and(|e| names(&e))
        {
            return None;
        }
    }
    Some(values)
}

/// Whether the variable `binding` introduces is assigned again (alone or in a
/// tuple) or borrowed mutably in its block after the `let`.
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
    let names = |e: Option<ast::Expr>| {
        e.is_some_and(|e| {
            e.syntax()
                .descendants()
                .filter_map(ast::PathExpr::cast)
                .any(|p| p.path().is_some_and(|p| p.syntax().text() == name.as_str()))
        })
    };
    block
        .descendants()
        .filter(|n| n.text_range().start() >= after)
        .any(|n| {
            if let Some(assign) = ast::BinExpr::cast(n.clone())
                && matches!(assign.op_kind(), Some(ast::BinaryOp::Assignment { .. }))
            {
                return names(assign.lhs());
            }
            if let Some(borrow) = ast::RefExpr::cast(n) {
                return borrow.mut_token().is_some() && names(borrow.expr());
            }
            false
        })
}
