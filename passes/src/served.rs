//! Whether a provider serves its handler as it is.
//!
//! In-process calls reach the handler and the server's own interceptor
//! (`XServer::with_interceptor`), nothing else: whatever a provider puts between
//! its listener and its `XServer` — a wrapping service (`InterceptedService`,
//! `ServiceBuilder`), tower layers, a server-wide `timeout` — would be skipped,
//! and with it possibly the callee's authentication. So knit converts calls
//! only to a server handed straight to tonic's router, and says why otherwise.

use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, NodeOrToken, SyntaxKind, SyntaxNode, TextRange};

use crate::model::SourceFile;

/// The provider a check is about: its name (how messages show it) and the
/// syntax of the file that builds its server.
struct Provider<'a> {
    name: &'a str,
    file: SyntaxNode,
}

impl std::fmt::Display for Provider<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

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
    "max_connection_age_grace",
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
    let root = file.rust.as_ref()?.tree().syntax().clone();
    let provider = Provider {
        name: provider,
        file: root,
    };
    served_as_is(&server, &provider).err()
}

/// Whether `range` of `file` is in test code: a `#[cfg(test)]` module or a
/// `#[test]`/`#[tokio::test]` function.
pub fn in_test_code(file: &SourceFile, range: TextRange) -> bool {
    use ra_ap_syntax::ast::HasAttrs;
    let Some(rust) = &file.rust else {
        return false;
    };
    let Some(node) = covering_node(&rust.tree(), range) else {
        return false;
    };
    node.ancestors()
        .filter_map(ast::AnyHasAttrs::cast)
        .flat_map(|item| item.attrs())
        .any(|attr| {
            let text: String = attr
                .syntax()
                .text()
                .to_string()
                .split_whitespace()
                .collect();
            text == "#[cfg(test)]" || text == "#[test]" || text.ends_with("::test]")
        })
}

/// The expression at `range` of `file`, parsed from a macro's tokens when it
/// is inside a macro call (`tokio::join!(..)`).
fn expr_at(file: &SourceFile, range: TextRange) -> Option<ast::Expr> {
    let tree = file.rust.as_ref()?.tree();
    if let Some(expr) = crate::channels::expr_at(&tree, range) {
        return Some(expr);
    }
    let tokens = covering_node(&tree, range)?
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

/// The smallest node of `tree` that covers `range`.
fn covering_node(tree: &ast::SourceFile, range: TextRange) -> Option<SyntaxNode> {
    match tree.syntax().covering_element(range) {
        NodeOrToken::Node(node) => Some(node),
        NodeOrToken::Token(token) => token.parent(),
    }
}

/// What knit follows up to tonic's router: the generated server, or the
/// `Routes` it was put in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    Server,
    Routes,
}

/// Methods of tonic's `Routes` that return the routes with one more service.
const ROUTES_METHODS: &[&str] = &["add_service", "add_optional_service", "clone"];

/// Ok when `server` reaches tonic's router as it is.
fn served_as_is(server: &ast::Expr, provider: &Provider) -> Result<(), String> {
    follow(server.syntax(), Value::Server, provider)
}

/// Ok when `value` (the expression `node`) reaches a `Server::builder()`
/// router as it is: passed through only methods that keep it what it is
/// ([`SERVER_OPTIONS`], [`ROUTES_METHODS`]), `Some(..)`, parentheses and `let`s.
fn follow(node: &SyntaxNode, value: Value, provider: &Provider) -> Result<(), String> {
    let kept = match value {
        Value::Server => SERVER_OPTIONS,
        Value::Routes => ROUTES_METHODS,
    };
    let mut node = node.clone();
    loop {
        let parent = node
            .parent()
            .ok_or_else(|| format!("`{provider}` serves its server where knit cannot follow it"))?;
        if let Some(call) = ast::MethodCallExpr::cast(parent.clone())
            && call.receiver().is_some_and(|r| r.syntax() == &node)
            && method_is(&call, kept)
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
                && segments(&some).as_slice() == ["Some"]
            {
                node = some.syntax().clone();
                continue;
            }
            return handed_to(&list, value, provider);
        }
        if let Some(binding) = ast::LetStmt::cast(parent.clone()) {
            return bound(&binding, value, provider);
        }
        return Err(format!(
            "`{provider}` passes its server on through `{}`, which knit does not follow to tonic's router: in-process calls could skip what it goes through",
            called(&parent)
        ));
    }
}

/// Ok when the call whose arguments are `list` adds `value` to tonic's
/// router: the server to `add_service` of a router chain or to `Routes`
/// (which are followed in turn), the routes to `add_routes`.
fn handed_to(list: &ast::ArgList, value: Value, provider: &Provider) -> Result<(), String> {
    let owner = list.syntax().parent();
    let adds = match value {
        Value::Server => &["add_service", "add_optional_service"][..],
        Value::Routes => &["add_routes"][..],
    };
    if let Some(call) = owner.clone().and_then(ast::MethodCallExpr::cast)
        && method_is(&call, adds)
    {
        return match router_chain(call.receiver(), provider)? {
            Value::Server => served_on_a_socket(&call, provider),
            Value::Routes => follow(call.syntax(), Value::Routes, provider),
        };
    }
    if let Some(call) = owner.clone().and_then(ast::CallExpr::cast)
        && value == Value::Server
        && segments(&call).ends_with(&["Routes".to_string(), "new".to_string()])
    {
        return follow(call.syntax(), Value::Routes, provider);
    }
    let what = match owner {
        Some(owner) => called(&owner),
        None => String::new(),
    };
    Err(format!(
        "`{provider}` hands its server to `{what}` rather than to tonic's router: in-process calls would skip it"
    ))
}

/// Ok when the router `call` makes (`Server::builder()..add_service(..)`) is
/// served with `serve` or `serve_with_shutdown` after more services at most:
/// not turned into a service knit cannot follow (`into_service`, `into_router`)
/// or served on connections of the provider's own (`serve_with_incoming`,
/// where a TLS acceptor may authenticate callers).
fn served_on_a_socket(call: &ast::MethodCallExpr, provider: &Provider) -> Result<(), String> {
    let mut node = call.syntax().clone();
    while let Some(parent) = node.parent() {
        if ast::ParenExpr::can_cast(parent.kind()) {
            node = parent;
            continue;
        }
        let Some(next) = ast::MethodCallExpr::cast(parent.clone())
            .filter(|c| c.receiver().is_some_and(|r| r.syntax() == &node))
        else {
            break;
        };
        if method_is(&next, &["serve", "serve_with_shutdown"]) {
            return Ok(());
        }
        if !method_is(
            &next,
            &["add_service", "add_optional_service", "add_routes"],
        ) {
            return Err(format!(
                "`{provider}` serves its router through `{}`, which knit does not follow: in-process calls could skip what it goes through",
                called(&parent)
            ));
        }
        node = parent;
    }
    Err(format!(
        "`{provider}` serves its router where knit cannot follow it (`{}`)",
        excerpt(&node)
    ))
}

/// What `receiver` (what `add_service` is called on) starts from: tonic's
/// server builder (`Server::builder()`, configured only with
/// [`ROUTER_OPTIONS`]) or `Routes::new(..)` (then the routes are followed).
fn router_chain(receiver: Option<ast::Expr>, provider: &Provider) -> Result<Value, String> {
    let unfollowed = |node: &SyntaxNode| {
        format!(
            "`{provider}` builds the server it serves with where knit cannot follow it (`{}`)",
            excerpt(node)
        )
    };
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
                let path = segments(&call);
                return match tonic_type(&provider.file, &path) {
                    Some(("Server", "builder")) => Ok(Value::Server),
                    Some(("Routes", "new")) => Ok(Value::Routes),
                    _ => Err(format!(
                        "`{provider}` builds the server it serves with in `{}(..)`, which knit cannot see into",
                        path.join("::")
                    )),
                };
            }
            ast::Expr::ParenExpr(paren) => expr = paren.expr(),
            ast::Expr::TryExpr(tried) => expr = tried.expr(),
            ast::Expr::PathExpr(path) => {
                let name = path.syntax().text().to_string();
                let binding = crate::locals::binding(path.syntax(), &name)
                    .filter(|b| !crate::locals::changed(b))
                    .ok_or_else(|| unfollowed(path.syntax()))?;
                expr = Some(
                    binding
                        .initializer()
                        .ok_or_else(|| unfollowed(path.syntax()))?,
                );
            }
            other => return Err(unfollowed(other.syntax())),
        }
    }
    Err(format!(
        "`{provider}` serves its server where knit cannot follow it"
    ))
}

/// Ok when every use of the variable `binding` introduces (holding `value`)
/// is served as is, uses in macro arguments included; a variable knit sees no
/// use of, or one assigned again, is not.
fn bound(binding: &ast::LetStmt, value: Value, provider: &Provider) -> Result<(), String> {
    let name = match binding.pat() {
        Some(ast::Pat::IdentPat(pat)) if !crate::locals::changed(binding) => {
            pat.name().map(|n| n.text().to_string()).unwrap_or_default()
        }
        _ => {
            return Err(format!(
                "`{provider}` keeps its server in a variable knit cannot follow"
            ));
        }
    };
    let Some(block) = binding.syntax().parent() else {
        return Err(format!(
            "`{provider}` serves its server where knit cannot follow it"
        ));
    };
    let after = binding.syntax().text_range().end();
    let mut uses = 0;
    let tokens = block
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| t.kind() == SyntaxKind::IDENT && t.text() == name)
        .filter(|t| t.text_range().start() >= after);
    for token in tokens {
        let in_macro = token.parent_ancestors().find_map(ast::MacroCall::cast);
        let path = match in_macro {
            Some(mac) => {
                let args = mac
                    .token_tree()
                    .and_then(|tokens| crate::names::MacroArgs::parse(&tokens))
                    .ok_or_else(|| {
                        format!("`{provider}` uses its server in a macro knit cannot read")
                    })?;
                let range = token.text_range().checked_sub(args.shift);
                let tree = args.tree.syntax().clone();
                range.and_then(|range| {
                    tree.descendants()
                        .filter(|n| n.text_range() == range)
                        .find_map(ast::PathExpr::cast)
                })
            }
            None => token
                .parent_ancestors()
                .nth(3)
                .and_then(ast::PathExpr::cast),
        };
        // Not a path to the variable: a field, a method or a new binding of that name.
        let Some(path) = path.filter(|p| p.syntax().text() == name.as_str()) else {
            continue;
        };
        uses += 1;
        follow(path.syntax(), value, provider)?;
    }
    if uses == 0 {
        return Err(format!(
            "`{provider}` keeps its server in `{name}`, and knit sees no use of it"
        ));
    }
    Ok(())
}

fn method_is(call: &ast::MethodCallExpr, names: &[&str]) -> bool {
    call.name_ref().is_some_and(|n| names.contains(&n.text()))
}

/// The segments of the path a call calls (`Routes`, `new`), without generic
/// arguments; empty when it calls something else.
fn segments(call: &ast::CallExpr) -> Vec<String> {
    let Some(ast::Expr::PathExpr(path)) = call.expr() else {
        return Vec::new();
    };
    path.path()
        .map(|p| {
            p.segments()
                .filter_map(|s| s.name_ref().map(|n| n.text().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The type and function of tonic's that a call of `path` in `file` calls:
/// `tonic::transport::Server::builder`, or `Server::builder` in a file that
/// imports tonic's `Server` (`Routes` likewise, from `tonic::service`).
fn tonic_type<'a>(file: &SyntaxNode, path: &'a [String]) -> Option<(&'a str, &'a str)> {
    let [.., ty, function] = path else {
        return None;
    };
    let module = match ty.as_str() {
        "Server" => "transport",
        "Routes" => "service",
        _ => return None,
    };
    let qualified = path.len() >= 3 && path[path.len() - 3] == module;
    let imported = path.len() == 2
        && file
            .descendants()
            .filter_map(ast::Use::cast)
            .filter_map(|u| u.use_tree())
            .any(|tree| imports(&tree, &mut Vec::new(), &["tonic", module, ty.as_str()]));
    (qualified || imported).then_some((ty.as_str(), function.as_str()))
}

/// Whether the use tree `tree` (under `prefix`) brings `wanted` into scope by
/// its own name: `use tonic::transport::Server`, `use tonic::{transport::Server,
/// ..}`, `use tonic::transport::*`.
fn imports(tree: &ast::UseTree, prefix: &mut Vec<String>, wanted: &[&str]) -> bool {
    let depth = prefix.len();
    if let Some(path) = tree.path() {
        prefix.extend(
            path.segments()
                .filter_map(|s| s.name_ref().map(|n| n.text().to_string())),
        );
    }
    let found = if let Some(list) = tree.use_tree_list() {
        list.use_trees().any(|sub| imports(&sub, prefix, wanted))
    } else if tree.star_token().is_some() {
        prefix.as_slice() == &wanted[..wanted.len() - 1]
    } else {
        tree.rename().is_none() && prefix.as_slice() == wanted
    };
    prefix.truncate(depth);
    found
}

/// What the call `node` calls, for a message: `.service(..)`, `Wrap::new(..)`.
fn called(node: &SyntaxNode) -> String {
    if let Some(call) = ast::MethodCallExpr::cast(node.clone())
        && let Some(name) = call.name_ref()
    {
        return format!(".{}(..)", name.text());
    }
    if let Some(call) = ast::CallExpr::cast(node.clone())
        && !segments(&call).is_empty()
    {
        return format!("{}(..)", segments(&call).join("::"));
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
            "let svc = GreeterServer::new(MyGreeter);\n    tokio::try_join!(Server::builder().add_service(svc).serve(addr), other())?;",
            "let routes = Routes::new(GreeterServer::new(MyGreeter)).add_service(OtherServer::new(Other));\n    Server::builder().add_routes(routes).serve(addr).await?;",
        ] {
            decision(
                serving,
                expect![
                    "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
                ],
            );
        }
    }

    /// Layers elsewhere in `main` (another server's, a client's stack) are not
    /// what the gRPC server's requests go through; on its own chain they are.
    #[test]
    fn only_layers_on_the_servers_own_chain_keep_calls_rpc() {
        decision(
            "let metrics = axum::Router::new().route(\"/metrics\", get(metrics)).layer(TraceLayer::new_for_http());\n    let upstream = ServiceBuilder::new().layer(TimeoutLayer::new(LIMIT)).service(http_client());\n    tokio::try_join!(axum::serve(admin, metrics), Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr))?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision(
            "let metrics = axum::Router::new().route(\"/metrics\", get(metrics)).layer(TraceLayer::new_for_http());\n    Server::builder().layer(auth()).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` adds tower layers to its server (`.layer(..)`): in-process calls would skip them"
            ],
        );
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
    fn a_wrapped_server_is_seen_through_variables_macros_and_routes() {
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    tokio::try_join!(Server::builder().layer(auth()).add_service(svc).serve(addr), other())?;",
            expect![
                "stay RPC: `greeter` adds tower layers to its server (`.layer(..)`): in-process calls would skip them"
            ],
        );
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    tokio::try_join!(Server::builder().add_service(InterceptedService::new(svc, check)).serve(addr), other())?;",
            expect![
                "stay RPC: `greeter` hands its server to `InterceptedService::new(..)` rather than to tonic's router: in-process calls would skip it"
            ],
        );
        decision(
            "let app = Routes::new(GreeterServer::new(MyGreeter)).into_axum_router().route_layer(auth);\n    axum::serve(listener, app).await?;",
            expect![
                "stay RPC: `greeter` passes its server on through `.into_axum_router(..)`, which knit does not follow to tonic's router: in-process calls could skip what it goes through"
            ],
        );
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    serve(addr).await?;",
            expect!["stay RPC: `greeter` keeps its server in `svc`, and knit sees no use of it"],
        );
    }

    #[test]
    fn a_router_served_on_connections_of_the_providers_own_stays_rpc() {
        decision(
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(tls_incoming).await?;",
            expect![
                "stay RPC: `greeter` serves its router through `.serve_with_incoming(..)`, which knit does not follow: in-process calls could skip what it goes through"
            ],
        );
        decision(
            "let app = Server::builder().add_service(GreeterServer::new(MyGreeter)).into_service();\n    serve_with_auth(app).await?;",
            expect![
                "stay RPC: `greeter` serves its router through `.into_service(..)`, which knit does not follow: in-process calls could skip what it goes through"
            ],
        );
        decision(
            "platform::Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with in `platform::Server::builder(..)`, which knit cannot see into"
            ],
        );
    }

    #[test]
    fn servers_in_test_code_do_not_count() {
        decision(
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n}\n#[cfg(test)]\nmod tests {\n    fn server() { let s = InterceptedService::new(super::GreeterServer::new(super::MyGreeter), check); }",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
    }

    #[test]
    fn a_router_knit_cannot_vouch_for_stays_rpc() {
        decision(
            "GrpcServer::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with in `GrpcServer::builder(..)`, which knit cannot see into"
            ],
        );
        decision(
            "let b = Server::builder();\n    {\n        let b = b.timeout(d);\n        b.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n    }",
            expect![
                "stay RPC: `greeter` builds the server it serves with where knit cannot follow it (`b`)"
            ],
        );
        // A name bound otherwise too (here a match arm) is not followed.
        decision(
            "let builder = Server::builder();\n    match builder.tls_config(tls) {\n        Ok(mut builder) => builder.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?,\n        Err(e) => return Err(e.into()),\n    }",
            expect![
                "stay RPC: `greeter` builds the server it serves with where knit cannot follow it (`builder`)"
            ],
        );
        decision(
            "#[cfg(feature = \"tls\")]\n    let b = Server::builder().tls_config(tls)?;\n    #[cfg(not(feature = \"tls\"))]\n    let b = Server::builder();\n    b.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with where knit cannot follow it (`b`)"
            ],
        );
        decision(
            "let mut b = Server::builder();\n    if slow { b = b.timeout(d); }\n    b.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with where knit cannot follow it (`b`)"
            ],
        );
        decision(
            "Server::builder().tls_config(tls)?.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` configures its server with `.tls_config(..)`, which knit does not know: in-process calls could skip it"
            ],
        );
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
