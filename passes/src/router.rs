//! Whether an expression is a tonic router (`Server::builder()..add_service(..)`),
//! whose `serve*` knit rewrites and whose `serve` is tonic's, not a function
//! of the service's.

use ra_ap_syntax::ast::{self, HasArgList, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode};

/// Methods that put a gRPC service on a tonic router (`Server`, `Router`).
const ADDS_SERVICES: &[&str] = &["add_service", "add_optional_service", "add_routes"];

/// Whether `receiver`, what a `serve*` method is called on, is a tonic router:
/// its chain adds a service ([`ADDS_SERVICES`]) or starts at
/// `Server::builder()`, through parentheses, `?`, `.await`, `if` branches and
/// the `let`s of variables. Another server's `serve` (hyper 0.14's
/// `Server::bind(&addr).serve(make_svc)`, `Server::try_bind(..)`) is not one.
/// A variable whose `let` knit cannot see (in a macro's tokens) is taken as
/// one.
pub(crate) fn serves_a_tonic_router(receiver: Option<ast::Expr>) -> bool {
    let mut expr = receiver;
    let mut depth = 0;
    while let Some(current) = expr {
        depth += 1;
        if depth > 64 {
            return false;
        }
        expr = match current {
            ast::Expr::MethodCallExpr(call) => {
                let adds = call
                    .name_ref()
                    .is_some_and(|n| ADDS_SERVICES.iter().any(|m| n.text() == *m));
                if adds {
                    return true;
                }
                call.receiver()
            }
            ast::Expr::CallExpr(made) => {
                let path = match made.expr() {
                    Some(ast::Expr::PathExpr(p)) => p.path().map(|p| p.syntax().to_string()),
                    _ => None,
                };
                let no_args = made.arg_list().is_some_and(|a| a.args().next().is_none());
                return no_args && path.is_some_and(|p| p.ends_with("Server::builder"));
            }
            ast::Expr::ParenExpr(paren) => paren.expr(),
            ast::Expr::TryExpr(tried) => tried.expr(),
            ast::Expr::AwaitExpr(awaited) => awaited.expr(),
            ast::Expr::IfExpr(branches) => {
                let tails = [
                    branches.then_branch(),
                    match branches.else_branch() {
                        Some(ast::ElseBranch::Block(block)) => Some(block),
                        _ => None,
                    },
                ];
                return tails.into_iter().flatten().any(|block| {
                    serves_a_tonic_router(block.stmt_list().and_then(|l| l.tail_expr()))
                });
            }
            ast::Expr::PathExpr(path) => {
                let name = path.syntax().text().to_string();
                match crate::locals::binding(path.syntax(), &name) {
                    Some(binding) => binding.initializer(),
                    None => match matched(path.syntax(), &name) {
                        Some(scrutinee) => Some(scrutinee),
                        None => return true,
                    },
                }
            }
            _ => return false,
        };
    }
    false
}

/// What the variable `name` used at `node` is bound to by a `match` arm or an
/// `if let` around it (`match Server::try_bind(&a) { Ok(builder) => .. }`):
/// the expression matched.
fn matched(node: &SyntaxNode, name: &str) -> Option<ast::Expr> {
    let binds = |pat: Option<ast::Pat>| {
        pat.is_some_and(|p| {
            p.syntax()
                .descendants()
                .filter_map(ast::IdentPat::cast)
                .any(|i| i.name().is_some_and(|n| n.text() == name))
        })
    };
    node.ancestors().find_map(|a| {
        if let Some(arm) = ast::MatchArm::cast(a.clone())
            && binds(arm.pat())
        {
            return arm
                .syntax()
                .ancestors()
                .find_map(ast::MatchExpr::cast)?
                .expr();
        }
        if let Some(branches) = ast::IfExpr::cast(a)
            && let Some(ast::Expr::LetExpr(condition)) = branches.condition()
            && binds(condition.pat())
        {
            return condition.expr();
        }
        None
    })
}
