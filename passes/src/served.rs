//! Whether a provider serves its handler as it is.
//!
//! In-process calls reach the handler and the server's own interceptor
//! (`XServer::with_interceptor`), nothing else: whatever a provider puts between
//! its listener and its `XServer` — a wrapping service (`InterceptedService`,
//! `ServiceBuilder`), tower layers, a server-wide `timeout` — would be skipped,
//! and with it possibly the callee's authentication. So knit converts calls
//! only to a server handed straight to tonic's router, and says why otherwise.

use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, NodeOrToken, SyntaxNode, TextRange};

use crate::model::SourceFile;

/// Methods of a generated `XServer` that only shape encoding (nothing is
/// encoded in process), and `clone`.
const SERVER_OPTIONS: &[&str] = &[
    "accept_compressed",
    "send_compressed",
    "max_decoding_message_size",
    "max_encoding_message_size",
    "clone",
];

/// Methods of tonic's `Server` builder, `Router` and `Routes` that configure
/// the connections, add services or name a request's tracing span, not what a
/// request goes through.
const ROUTER_OPTIONS: &[&str] = &[
    "accept_http1",
    "add_optional_service",
    "add_routes",
    "add_service",
    "concurrency_limit_per_connection",
    "http2_adaptive_window",
    "http2_keepalive_interval",
    "http2_keepalive_timeout",
    "http2_max_header_list_size",
    "http2_max_local_error_reset_streams",
    "http2_max_pending_accept_reset_streams",
    "initial_connection_window_size",
    "initial_stream_window_size",
    "load_shed",
    "max_concurrent_streams",
    "max_connection_age",
    "max_frame_size",
    "tcp_keepalive",
    "tcp_keepalive_interval",
    "tcp_keepalive_retries",
    "tcp_nodelay",
    "trace_fn",
];

/// Why in-process calls would skip part of what serves the server built by the
/// call at `call` in `file` (`XServer::new(h)`), if they would. `provider`
/// names the service in the message.
pub fn skipped_stack(file: &SourceFile, call: TextRange, provider: &str) -> Option<String> {
    let Some(server) = expr_at(file, call) else {
        return Some(format!(
            "`{provider}` builds its server where knit cannot follow it"
        ));
    };
    served_as_is(&server, provider).err()
}

/// The expression at `range` of `file`, parsed from a macro's tokens when it
/// is inside a macro call (`tokio::join!(..)`).
fn expr_at(file: &SourceFile, range: TextRange) -> Option<ast::Expr> {
    let tree = file.rust.as_ref()?.parse.tree();
    let root = tree.syntax();
    let covering = match root.covering_element(range) {
        NodeOrToken::Node(node) => node,
        NodeOrToken::Token(token) => token.parent()?,
    };
    if let Some(expr) = covering
        .ancestors()
        .filter(|n| n.text_range() == range)
        .find_map(ast::Expr::cast)
    {
        return Some(expr);
    }
    let tokens = covering
        .ancestors()
        .find_map(ast::MacroCall::cast)?
        .token_tree()?;
    let args = crate::names::MacroArgs::parse(&tokens)?;
    let local = range.checked_sub(args.shift)?;
    let syntax = args.tree.syntax().clone();
    syntax
        .descendants()
        .filter(|n| n.text_range() == local)
        .find_map(ast::Expr::cast)
}

/// Ok when `server` reaches tonic's router as it is.
fn served_as_is(server: &ast::Expr, provider: &str) -> Result<(), String> {
    let mut node = server.syntax().clone();
    loop {
        let parent = node
            .parent()
            .ok_or_else(|| format!("`{provider}` serves its server where knit cannot follow it"))?;
        if let Some(call) = ast::MethodCallExpr::cast(parent.clone())
            && call.receiver().is_some_and(|r| r.syntax() == &node)
            && method_is(&call, SERVER_OPTIONS)
        {
            node = parent;
            continue;
        }
        if ast::ParenExpr::can_cast(parent.kind()) || ast::AwaitExpr::can_cast(parent.kind()) {
            node = parent;
            continue;
        }
        if let Some(list) = ast::ArgList::cast(parent.clone()) {
            if let Some(some) = list.syntax().parent().and_then(ast::CallExpr::cast)
                && callee(&some).as_deref() == Some("Some")
            {
                node = some.syntax().clone();
                continue;
            }
            return handed_to(&list, provider);
        }
        if let Some(binding) = ast::LetStmt::cast(parent.clone()) {
            return bound(&binding, provider);
        }
        return Err(format!(
            "`{provider}` does not hand its server straight to tonic's router (`{}`): in-process calls would skip what it goes through",
            excerpt(&parent)
        ));
    }
}

/// Ok when the call whose arguments are `list` is a router's `add_service`
/// (on a chain knit can vouch for) or `Routes::new`.
fn handed_to(list: &ast::ArgList, provider: &str) -> Result<(), String> {
    let owner = list.syntax().parent();
    if let Some(call) = owner.clone().and_then(ast::MethodCallExpr::cast)
        && method_is(&call, &["add_service", "add_optional_service"])
    {
        return router_chain(call.receiver(), provider);
    }
    if let Some(call) = owner.clone().and_then(ast::CallExpr::cast)
        && callee(&call).is_some_and(|c| c.ends_with("Routes::new"))
    {
        return Ok(());
    }
    let what = match owner {
        Some(owner) => called(&owner),
        None => String::new(),
    };
    Err(format!(
        "`{provider}` hands its server to `{what}` rather than to tonic's router: in-process calls would skip it"
    ))
}

/// Ok when `receiver` (what `add_service` is called on) is tonic's server
/// builder or routes, configured only with [`ROUTER_OPTIONS`].
fn router_chain(receiver: Option<ast::Expr>, provider: &str) -> Result<(), String> {
    let mut expr = receiver;
    while let Some(current) = expr {
        match current {
            ast::Expr::MethodCallExpr(call) => {
                if !method_is(&call, ROUTER_OPTIONS) {
                    let name = call
                        .name_ref()
                        .map(|n| n.text().to_string())
                        .unwrap_or_default();
                    return Err(match name.as_str() {
                        "layer" => format!(
                            "`{provider}` adds tower layers to its server (`.layer(..)`): in-process calls would skip them"
                        ),
                        "timeout" => format!(
                            "`{provider}` gives its server a timeout (`.timeout(..)`), which in-process calls would not keep"
                        ),
                        _ => format!(
                            "`{provider}` configures its server with `.{name}(..)`, which knit does not know: in-process calls could skip it"
                        ),
                    });
                }
                expr = call.receiver();
            }
            ast::Expr::CallExpr(call) => {
                let path = callee(&call).unwrap_or_default();
                if path.ends_with("Server::builder")
                    || path.ends_with("Routes::new")
                    || path.ends_with("Routes::builder")
                    || path.ends_with("Routes::default")
                {
                    return Ok(());
                }
                return Err(format!(
                    "`{provider}` builds the server it serves with in `{path}(..)`, which knit cannot see into"
                ));
            }
            ast::Expr::ParenExpr(paren) => expr = paren.expr(),
            ast::Expr::PathExpr(path) => {
                expr = initializer(&path).ok_or_else(|| {
                    format!(
                        "`{provider}` builds the server it serves with where knit cannot follow it (`{}`)",
                        excerpt(path.syntax())
                    )
                })?;
            }
            other => {
                return Err(format!(
                    "`{provider}` builds the server it serves with where knit cannot follow it (`{}`)",
                    excerpt(other.syntax())
                ));
            }
        }
    }
    Err(format!(
        "`{provider}` serves its server where knit cannot follow it"
    ))
}

/// Ok when every use of the variable `binding` introduces is served as is.
fn bound(binding: &ast::LetStmt, provider: &str) -> Result<(), String> {
    let Some(ast::Pat::IdentPat(pat)) = binding.pat() else {
        return Err(format!(
            "`{provider}` binds its server to a pattern knit cannot follow"
        ));
    };
    let name = pat.name().map(|n| n.text().to_string()).unwrap_or_default();
    let Some(block) = binding.syntax().parent() else {
        return Ok(());
    };
    let after = binding.syntax().text_range().end();
    for path in block.descendants().filter_map(ast::PathExpr::cast) {
        let is_use = path.syntax().text_range().start() >= after
            && path
                .path()
                .is_some_and(|p| p.syntax().text() == name.as_str());
        if is_use {
            served_as_is(&ast::Expr::PathExpr(path), provider)?;
        }
    }
    Ok(())
}

/// The value of the local variable `path` names, from its `let` in an
/// enclosing block before it.
fn initializer(path: &ast::PathExpr) -> Option<Option<ast::Expr>> {
    let name = path.path()?.syntax().text().to_string();
    let at = path.syntax().text_range().start();
    let binding = path
        .syntax()
        .ancestors()
        .filter_map(ast::StmtList::cast)
        .flat_map(|list| list.statements())
        .filter_map(|s| match s {
            ast::Stmt::LetStmt(binding) => Some(binding),
            _ => None,
        })
        .filter(|b| b.syntax().text_range().end() <= at)
        .filter(|b| matches!(b.pat(), Some(ast::Pat::IdentPat(p)) if p.name().is_some_and(|n| n.text() == name.as_str())))
        .last()?;
    Some(binding.initializer())
}

fn method_is(call: &ast::MethodCallExpr, names: &[&str]) -> bool {
    call.name_ref().is_some_and(|n| names.contains(&n.text()))
}

/// The path a call calls (`Routes::new`), without spaces or generic arguments.
fn callee(call: &ast::CallExpr) -> Option<String> {
    let ast::Expr::PathExpr(path) = call.expr()? else {
        return None;
    };
    let segments: Vec<String> = path
        .path()?
        .segments()
        .filter_map(|s| s.name_ref().map(|n| n.text().to_string()))
        .collect();
    Some(segments.join("::"))
}

/// What the call `node` calls, for a message: `.service(..)`, `Wrap::new(..)`.
fn called(node: &SyntaxNode) -> String {
    if let Some(call) = ast::MethodCallExpr::cast(node.clone())
        && let Some(name) = call.name_ref()
    {
        return format!(".{}(..)", name.text());
    }
    if let Some(path) = ast::CallExpr::cast(node.clone()).and_then(|c| callee(&c)) {
        return format!("{path}(..)");
    }
    excerpt(node)
}

/// The start of `node`'s text, on one line, for a message.
fn excerpt(node: &SyntaxNode) -> String {
    let text: String = node
        .text()
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match text.char_indices().nth(48) {
        Some((end, _)) => format!("{}..", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    /// The decision for `frontend`'s calls when `greeter` serves with `serving`
    /// (the statements of its `main`, which has `MyGreeter` and `addr`).
    fn decision(serving: &str, expected: Expect) {
        let fixture = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        )
        .replace(
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            serving,
        );
        let findings = crate::fixture::check(&fixture).findings;
        let calls = findings.iter().find(|f| f.starts_with("Call(")).unwrap();
        let decision = calls
            .split_once(": calls to `helloworld.Greeter` ")
            .unwrap()
            .1;
        expected.assert_eq(decision);
    }

    #[test]
    fn a_server_handed_to_the_router_runs_in_process() {
        for serving in [
            "Server::builder().tcp_nodelay(true).trace_fn(span).add_service(GreeterServer::new(MyGreeter).max_decoding_message_size(1 << 20)).serve(addr).await?;",
            "let svc = GreeterServer::new(MyGreeter);\n    Server::builder().add_service(svc).serve(addr).await?;",
            "let mut builder = Server::builder();\n    builder.add_optional_service(Some(GreeterServer::new(MyGreeter))).serve(addr).await?;",
            "let routes = Routes::new(GreeterServer::new(MyGreeter));\n    Server::builder().add_routes(routes).serve(addr).await?;",
            "tokio::try_join!(Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr), other())?;",
        ] {
            decision(
                serving,
                expect![
                    "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
                ],
            );
        }
    }

    #[test]
    fn a_wrapped_server_stays_rpc() {
        decision(
            "Server::builder().add_service(InterceptedService::new(GreeterServer::new(MyGreeter), check_auth)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` hands its server to `InterceptedService::new(..)` rather than to tonic's router: in-process calls would skip it"
            ],
        );
        decision(
            "let svc = ServiceBuilder::new().map_request(stamp).service(GreeterServer::new(MyGreeter));\n    Server::builder().add_service(svc).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` hands its server to `.service(..)` rather than to tonic's router: in-process calls would skip it"
            ],
        );
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    Server::builder().add_service(authorized(svc)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` hands its server to `authorized(..)` rather than to tonic's router: in-process calls would skip it"
            ],
        );
    }

    #[test]
    fn a_router_knit_cannot_vouch_for_stays_rpc() {
        decision(
            "server().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with in `server(..)`, which knit cannot see into"
            ],
        );
        decision(
            "Server::builder().timeout(Duration::from_secs(1)).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` gives its server a timeout (`.timeout(..)`), which in-process calls would not keep"
            ],
        );
        decision(
            "let builder = Server::builder().layer(auth_layer());\n    builder.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` adds tower layers to its server (`.layer(..)`): in-process calls would skip them"
            ],
        );
        decision(
            "Server::builder().with_auth(keys).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` configures its server with `.with_auth(..)`, which knit does not know: in-process calls could skip it"
            ],
        );
    }
}
