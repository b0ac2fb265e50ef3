//! Where the channel a client constructor is given comes from: the argument
//! itself, or the `let` of the same function it names, and what its `Endpoint`
//! chain sets (an eager `connect()`, a per-request `timeout`).

use ra_ap_syntax::ast::{self, HasArgList, HasName};
use ra_ap_syntax::{AstNode, TextRange};

use crate::model::Group;
use crate::names::{Mention, Usage};

/// The expression of `tree` at exactly `range`.
pub fn expr_at(tree: &ast::SourceFile, range: TextRange) -> Option<ast::Expr> {
    let node = match tree.syntax().covering_element(range) {
        ra_ap_syntax::NodeOrToken::Node(node) => node,
        ra_ap_syntax::NodeOrToken::Token(token) => token.parent()?,
    };
    let mut same = node.ancestors().skip_while(|n| n.text_range() != range);
    same.find_map(ast::Expr::cast)
        .filter(|e| e.syntax().text_range() == range)
}

/// `e` without trailing `.clone()` calls.
pub fn without_clones(mut e: ast::Expr) -> ast::Expr {
    while let ast::Expr::MethodCallExpr(call) = &e {
        let no_args = call.arg_list().is_some_and(|a| a.args().next().is_none());
        match call.receiver() {
            Some(receiver) if no_args && call.name_ref().is_some_and(|n| n.text() == "clone") => {
                e = receiver
            }
            _ => break,
        }
    }
    e
}

/// The eager `.connect()` call of `e` (`X.connect().await`, with `?`s), with
/// the number of uses of the channel: `e` itself (1), or the `let` binding `e`
/// names in its function (the uses of that name after the binding).
pub fn channel_of(e: ast::Expr) -> Option<(ast::MethodCallExpr, usize)> {
    if let Some(connect) = eager_connect(&e) {
        return Some((connect, 1));
    }
    let (binding, body) = binding_of(&e)?;
    let connect = eager_connect(&binding.initializer()?)?;
    let ast::Expr::PathExpr(path) = &e else {
        return None;
    };
    let name = path.path()?.as_single_name_ref()?.text().to_string();
    let after = binding.syntax().text_range().end();
    let uses = body
        .syntax()
        .descendants()
        .filter_map(ast::PathExpr::cast)
        .filter(|p| p.syntax().text_range().start() >= after)
        .filter(|p| {
            p.path()
                .and_then(|p| p.as_single_name_ref())
                .is_some_and(|n| n.text() == name)
        })
        .count();
    Some((connect, uses))
}

/// The `let` of the function around `e` that binds the name `e` is, the last
/// one before `e`, and the function's body.
fn binding_of(e: &ast::Expr) -> Option<(ast::LetStmt, ast::BlockExpr)> {
    let ast::Expr::PathExpr(path) = e else {
        return None;
    };
    let name = path.path()?.as_single_name_ref()?.text().to_string();
    let body = e
        .syntax()
        .ancestors()
        .filter_map(ast::Fn::cast)
        .next()?
        .body()?;
    let binding = body
        .syntax()
        .descendants()
        .filter_map(ast::LetStmt::cast)
        .filter(|l| l.syntax().text_range().end() <= e.syntax().text_range().start())
        .filter(|l| matches!(l.pat(), Some(ast::Pat::IdentPat(p)) if p.name().is_some_and(|n| n.text() == name)))
        .last()?;
    Some((binding, body))
}

/// `X.connect()` when `e` is `X.connect().await`, possibly followed by `?`.
fn eager_connect(e: &ast::Expr) -> Option<ast::MethodCallExpr> {
    let mut e = e.clone();
    while let ast::Expr::TryExpr(t) = &e {
        e = t.expr()?;
    }
    let ast::Expr::AwaitExpr(awaited) = e else {
        return None;
    };
    let ast::Expr::MethodCallExpr(call) = awaited.expr()? else {
        return None;
    };
    let no_args = call.arg_list()?.args().next().is_none();
    (no_args && call.name_ref()?.text() == "connect").then_some(call)
}

/// The per-request timeout (`Endpoint::timeout(d)`) of the channel a client
/// constructor `m` (`XClient::new(channel)`, `with_interceptor`, `with_origin`)
/// is given, when knit can follow the channel to its endpoint: `Ok(d)` when
/// `d` is a constant (literals, consts and `Duration::from_*` of them), which
/// the in-process client can be given too; `Err(d)` otherwise. `None` when no
/// timeout is seen.
pub fn timeout(group: &Group, m: &Mention) -> Option<Result<ast::Expr, ast::Expr>> {
    let Usage::Call { method, args, .. } = &m.usage else {
        return None;
    };
    if !["new", "with_interceptor", "with_origin"].contains(&method.as_str()) {
        return None;
    }
    let tree = group.file(m.file).rust.as_ref()?.parse.tree();
    let channel = without_clones(expr_at(&tree, *args.first()?)?);
    let mut e = match binding_of(&channel) {
        Some((binding, _)) => binding.initializer()?,
        None => channel,
    };
    loop {
        e = match e {
            ast::Expr::TryExpr(t) => t.expr()?,
            ast::Expr::AwaitExpr(a) => a.expr()?,
            ast::Expr::ParenExpr(p) => p.expr()?,
            ast::Expr::MethodCallExpr(call) => {
                let args: Vec<ast::Expr> = call.arg_list()?.args().collect();
                if let ([d], Some("timeout")) = (
                    args.as_slice(),
                    call.name_ref()
                        .as_ref()
                        .map(|n| n.text().to_string())
                        .as_deref(),
                ) {
                    // The last `timeout` of the chain is the one that holds.
                    return Some(if constant(d) {
                        Ok(d.clone())
                    } else {
                        Err(d.clone())
                    });
                }
                call.receiver()?
            }
            _ => return None,
        };
    }
}

/// Whether `e` is a constant knit may write again elsewhere in the function:
/// literals, consts (`UPPER_CASE` paths), arithmetic on them and
/// `Duration::from_*` / `Duration::new` of them.
fn constant(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Literal(_) => true,
        ast::Expr::ParenExpr(p) => p.expr().is_some_and(|e| constant(&e)),
        ast::Expr::PrefixExpr(p) => p.expr().is_some_and(|e| constant(&e)),
        ast::Expr::BinExpr(b) => {
            b.lhs().is_some_and(|e| constant(&e)) && b.rhs().is_some_and(|e| constant(&e))
        }
        ast::Expr::PathExpr(p) => p
            .path()
            .and_then(|p| p.segment()?.name_ref())
            .is_some_and(|n| {
                let name = n.text();
                name.chars().any(|c| c.is_ascii_uppercase())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            }),
        ast::Expr::CallExpr(call) => {
            let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
                return false;
            };
            let Some(path) = callee.path() else {
                return false;
            };
            let function = path
                .segment()
                .and_then(|s| s.name_ref())
                .map(|n| n.text().to_string());
            let ty = path
                .qualifier()
                .and_then(|q| q.segment()?.name_ref())
                .map(|n| n.text().to_string());
            let duration = ty.as_deref() == Some("Duration")
                && function.is_some_and(|f| f.starts_with("from_") || f == "new");
            duration
                && call
                    .arg_list()
                    .is_some_and(|a| a.args().all(|e| constant(&e)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::fixture::{check, with_frontend};

    /// `frontend`'s main, making a client on `channel` (an expression).
    fn frontend(channel: &str) -> String {
        with_frontend(&format!(
            "use std::time::Duration;\nuse tonic::transport::Endpoint;\nuse hello::greeter_client::GreeterClient;\nmod hello {{ tonic::include_proto!(\"helloworld\"); }}\nconst TIMEOUT: Duration = Duration::from_millis(250);\n#[tokio::main]\nasync fn main() {{\n    let client = GreeterClient::new({channel});\n}}\n"
        ))
    }

    #[test]
    fn a_constant_channel_timeout_is_given_to_the_in_process_client() {
        let out = check(&frontend(
            "Endpoint::from_static(\"http://g\").timeout(Duration::from_secs(1)).timeout(TIMEOUT).connect_lazy()",
        ));
        expect![[r#"
            //- /frontend/src/main.rs
            use std::time::Duration;
            use tonic::transport::Endpoint;
            mod hello { pub use knit_proto_helloworld::*; }
            const TIMEOUT: Duration = Duration::from_millis(250);
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                let client = knit_proto_helloworld::greeter_inline::GreeterClient::new(Endpoint::from_static("http://g").timeout(Duration::from_secs(1)).timeout(TIMEOUT).connect_lazy()).with_channel_timeout(TIMEOUT);
            }
            Call(Inline) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]]
        .assert_eq(&out.render("frontend/src/main.rs"));
    }

    #[test]
    fn a_channel_timeout_knit_cannot_copy_keeps_the_call_rpc() {
        let out = check(&frontend(
            "Endpoint::from_static(\"http://g\").timeout(settings().timeout).connect_lazy()",
        ));
        expect!["Call(Rpc) frontend/src/main.rs:8: calls to `helloworld.Greeter` stay RPC: the channel `GreeterClient::new` is given has a timeout knit cannot give the in-process client (`.timeout(settings().timeout)`: only constants are copied)"]
            .assert_eq(&out.findings.join("\n"));
    }
}
