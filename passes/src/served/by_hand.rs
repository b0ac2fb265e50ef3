//! A tonic server that a hand-written hyper accept loop serves: `loop {
//! listener.accept() .. serve_connection(io, service) }`, with no tonic
//! `Server` at all. hyper's HTTP/2 adds nothing a handler sees (tonic's client
//! keeps a request's deadline over the network too), so calls run inline when
//! the loop hands the generated server its requests as they come and returns
//! its answers as they are: `TowerToHyperService::new(server)`, the server
//! itself (hyper 0.14), or a `service_fn` closure that routes gRPC requests
//! to `server.call(request)`. Anything the loop does to a gRPC request or its
//! answer (an extension, an auth check, a timeout, a layer, TLS) keeps the
//! calls RPC, with the reason.

use ra_ap_syntax::ast::{self, HasArgList, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode};

use super::{Provider, Value, excerpt, follow, method_is, segments};

/// hyper's methods that serve one connection with a service: hyper 0.14's
/// `Http`, hyper 1's `http2` builder, hyper-util's `auto::Builder`.
const HYPER_SERVES: &[&str] = &["serve_connection", "serve_connection_with_upgrades"];

/// How many requests and loops one server is followed through, at most.
const MOST_FOLLOWED: u32 = 16;

/// The outcome when `arg` of `list` (holding `value`: the server, or a hyper
/// service around it) is served by hyper or made into a hyper service; `None`
/// when `list` is the arguments of neither.
pub(super) fn served_by_hyper(
    list: &ast::ArgList,
    arg: &SyntaxNode,
    value: Value,
    provider: &Provider,
) -> Option<Result<(), String>> {
    let owner = list.syntax().parent()?;
    if let Some(call) = ast::MethodCallExpr::cast(owner.clone())
        && method_is(&call, HYPER_SERVES)
    {
        if !list.args().nth(1).is_some_and(|a| a.syntax() == arg) {
            return Some(Err(format!(
                "`{provider}` hands its server to `{}` as other than the service",
                excerpt(call.syntax())
            )));
        }
        return Some(serves_connection(&call, list, provider));
    }
    if value == Value::Hyper {
        return Some(Err(format!(
            "`{provider}` hands the hyper service of its server to `{}`, which knit does not follow to `serve_connection`",
            excerpt(&owner)
        )));
    }
    let call = ast::CallExpr::cast(owner)?;
    let path = segments(&call);
    (path.ends_with(&["TowerToHyperService".to_string(), "new".to_string()]))
        .then(|| follow(call.syntax(), Value::Hyper, provider))
}

/// Ok when `call` (`builder.serve_connection(io, service)`, `list` its
/// arguments) is hyper's, serves HTTP/2, and serves a connection accepted
/// from a plain listener: a TLS acceptor on the way may authenticate callers,
/// which a call in process would not be.
fn serves_connection(
    call: &ast::MethodCallExpr,
    list: &ast::ArgList,
    provider: &Provider,
) -> Result<(), String> {
    let name = call
        .name_ref()
        .map(|n| n.text().to_string())
        .unwrap_or_default();
    own_definition(provider, &name)?;
    let builder = call
        .receiver()
        .map(|r| r.syntax().to_string())
        .unwrap_or_default();
    if builder.contains("http1::") || builder.contains("http1_only") {
        return Err(format!(
            "`{provider}` serves its server over HTTP/1 only (`{}`), which gRPC clients cannot call",
            excerpt(call.syntax())
        ));
    }
    let io = list.args().next();
    if !io.as_ref().is_some_and(accepted_from_a_listener) {
        return Err(format!(
            "`{provider}` serves its server on connections knit does not follow to a plain listener (`{}`): an acceptor on the way (TLS) may authenticate callers",
            io.map(|io| excerpt(io.syntax())).unwrap_or_default()
        ));
    }
    provider.by_hand.borrow_mut().get_or_insert(name);
    Ok(())
}

/// Whether `io` (`TokioIo::new(stream)`, `stream`) is a connection a
/// listener accepted as it is: bound by a `let` around it whose value calls
/// `.accept()` (`let (stream, _) = listener.accept().await?;`, in a
/// `select!` too) and nothing that takes it (`acceptor.accept(stream)`).
fn accepted_from_a_listener(io: &ast::Expr) -> bool {
    let stream = match io {
        ast::Expr::CallExpr(wrapped)
            if segments(wrapped).ends_with(&["TokioIo".to_string(), "new".to_string()]) =>
        {
            let mut args = wrapped.arg_list().into_iter().flat_map(|l| l.args());
            match (args.next(), args.next()) {
                (Some(stream), None) => stream,
                _ => return false,
            }
        }
        other => other.clone(),
    };
    let ast::Expr::PathExpr(stream) = stream else {
        return false;
    };
    let name = stream.syntax().text().to_string();
    let at = stream.syntax().text_range().start();
    let binding = stream
        .syntax()
        .ancestors()
        .filter_map(ast::StmtList::cast)
        .find_map(|list| {
            list.statements()
                .filter_map(|s| match s {
                    ast::Stmt::LetStmt(l) => Some(l),
                    _ => None,
                })
                .filter(|l| {
                    l.syntax().text_range().end() <= at && binds_anywhere(l.syntax(), &name)
                })
                .last()
        });
    let Some(value) = binding.and_then(|b| b.initializer()) else {
        return false;
    };
    let text = value.syntax().to_string();
    let accepts = text.matches(".accept(").count();
    accepts > 0 && accepts == text.matches(".accept()").count()
}

/// Ok unless the provider's file defines a function named `name` (a
/// `serve_connection` or `service_fn` of its own, which may do anything).
fn own_definition(provider: &Provider, name: &str) -> Result<(), String> {
    let defined = provider
        .file
        .descendants()
        .filter_map(ast::Fn::cast)
        .any(|f| f.name().is_some_and(|n| n.text() == name));
    match defined {
        true => Err(format!(
            "`{provider}` defines a `{name}` of its own, which knit does not follow"
        )),
        false => Ok(()),
    }
}

/// Ok when the server's own `call` (`grpc.call(request)`) is handed the
/// requests of a hand-written hyper loop as they come and its answer is
/// returned as it is ([`handed_requests`]).
pub(super) fn called_by_hand(
    call: &ast::MethodCallExpr,
    provider: &Provider,
) -> Result<(), String> {
    let mut args = call.arg_list().into_iter().flat_map(|l| l.args());
    let (Some(ast::Expr::PathExpr(request)), None) = (args.next(), args.next()) else {
        return Err(format!(
            "`{provider}` calls its server itself (`{}`), with a request knit does not follow to a connection",
            excerpt(call.syntax())
        ));
    };
    let name = request.syntax().text().to_string();
    handed_requests(call.syntax(), request.syntax(), &name, provider)
}

/// Ok when `name` at `at` is a request as hyper hands it over, and `call`
/// (the use of it) answers it as its closure or function answers: `name` a
/// parameter, neither `mut` nor bound again, of a closure given to hyper's
/// `service_fn` that a connection is served with, or of a function of the
/// provider's file to which every caller passes such a request; `call` that
/// closure's or function's answer ([`answered_as_is`]). A request the loop
/// changes first (`|mut req| { req.extensions_mut().insert(..); .. }`), or
/// checks, or an answer it changes, would be handed over otherwise in
/// process: the calls stay RPC.
fn handed_requests(
    call: &SyntaxNode,
    at: &SyntaxNode,
    name: &str,
    provider: &Provider,
) -> Result<(), String> {
    let unfollowed = || {
        format!(
            "`{provider}` hands its server a request (`{name}`) that knit does not follow to a hand-written hyper loop's connections"
        )
    };
    if provider.helpers.replace(provider.helpers.get() + 1) > MOST_FOLLOWED {
        return Err(unfollowed());
    }
    for scope in at.ancestors() {
        let closure = ast::ClosureExpr::cast(scope.clone());
        let function = ast::Fn::cast(scope.clone());
        let params = match (&closure, &function) {
            (Some(closure), _) => closure.param_list(),
            (_, Some(function)) => function.param_list(),
            _ => continue,
        };
        let params: Vec<ast::Param> = params.into_iter().flat_map(|p| p.params()).collect();
        let found = params.iter().enumerate().find_map(|(i, p)| match p.pat() {
            Some(ast::Pat::IdentPat(pat)) if pat.name().is_some_and(|n| n.text() == name) => {
                Some((i, pat))
            }
            _ => None,
        });
        let Some((index, pat)) = found else {
            // A function's body sees no names from around it.
            if function.is_some() {
                return Err(unfollowed());
            }
            continue;
        };
        if pat.mut_token().is_some() || pat.ref_token().is_some() {
            return Err(format!(
                "`{provider}` changes the requests its hand-written hyper loop hands its server (`{}`): a call in process would not",
                excerpt(pat.syntax())
            ));
        }
        // Bound again anywhere in it (`let`, `if let`, a `match` arm, `for`,
        // a closure's parameter): the request may not be the one given.
        let bindings = scope
            .descendants()
            .filter_map(ast::IdentPat::cast)
            .filter(|p| p.name().is_some_and(|n| n.text() == name))
            .count();
        if bindings > 1 {
            return Err(unfollowed());
        }
        answered_as_is(call, &scope, provider)?;
        if let Some(closure) = closure {
            let service_fn = closure
                .syntax()
                .parent()
                .and_then(ast::ArgList::cast)
                .and_then(|l| l.syntax().parent())
                .and_then(ast::CallExpr::cast)
                .filter(|c| segments(c).last().is_some_and(|s| s == "service_fn"));
            let Some(service_fn) = service_fn else {
                return Err(unfollowed());
            };
            own_definition(provider, "service_fn")?;
            return follow(service_fn.syntax(), Value::Hyper, provider);
        }
        let Some(function) = function.and_then(|f| f.name()) else {
            return Err(unfollowed());
        };
        let callers: Vec<ast::CallExpr> = provider
            .file
            .descendants()
            .filter_map(ast::CallExpr::cast)
            .filter(|c| segments(c).as_slice() == [function.text().to_string()])
            .collect();
        if callers.is_empty() {
            return Err(unfollowed());
        }
        for caller in callers {
            let given = caller.arg_list().and_then(|l| l.args().nth(index));
            let Some(ast::Expr::PathExpr(given)) = given else {
                return Err(unfollowed());
            };
            let given_name = given.syntax().text().to_string();
            handed_requests(caller.syntax(), given.syntax(), &given_name, provider)?;
        }
        return Ok(());
    }
    Err(unfollowed())
}

/// Whether a pattern under `node` binds `name`.
fn binds_anywhere(node: &SyntaxNode, name: &str) -> bool {
    node.descendants()
        .filter_map(ast::IdentPat::cast)
        .any(|p| p.name().is_some_and(|n| n.text() == name))
}

/// Ok when `call` (the server's `call(request)`, or a route function's call)
/// is the answer of `scope`, the closure or function whose parameter the
/// request is, as it is: returned or its body's value (through `.await`,
/// blocks, `async` blocks and `return`), only under `if`s that test for a
/// gRPC request (`application/grpc`), after statements that only bind values
/// or log. A check that answers some gRPC requests itself (an auth gate), a
/// change to the answer (`.map(..)`, `?`) or a timeout around the call would
/// not be in process.
fn answered_as_is(
    call: &SyntaxNode,
    scope: &SyntaxNode,
    provider: &Provider,
) -> Result<(), String> {
    let changed = |node: &SyntaxNode| {
        Err(format!(
            "`{provider}` does more in its hand-written hyper loop than hand its server gRPC requests and return its answers (`{}`): a call in process would not",
            excerpt(node)
        ))
    };
    // The answer's way out: each step keeps it as it is. Past a `return`,
    // it leaves the innermost function, closure or `async` block at once.
    let mut node = call.clone();
    let mut returned = false;
    while &node != scope {
        let Some(parent) = node.parent() else {
            return changed(call);
        };
        let kind = parent.kind();
        let kept = if let Some(list) = ast::StmtList::cast(parent.clone()) {
            // Statements before the way out only bind values or log.
            let before = node.text_range().start();
            let earlier = list
                .statements()
                .take_while(|s| s.syntax().text_range().end() <= before);
            for statement in earlier {
                if !only_binds_or_logs(&statement) {
                    return changed(statement.syntax());
                }
            }
            returned || list.tail_expr().is_some_and(|tail| tail.syntax() == &node)
        } else if let Some(branches) = ast::IfExpr::cast(parent.clone()) {
            branches.then_branch().is_some_and(|b| b.syntax() == &node)
                && branches
                    .condition()
                    .is_some_and(|c| tests_for_grpc(&c, scope))
        } else if let Some(block) = ast::BlockExpr::cast(parent.clone()) {
            // An `async` block's `return` ends the block, whose value goes on.
            if block.async_token().is_some() {
                returned = false;
            }
            true
        } else if ast::ReturnExpr::can_cast(kind) {
            returned = true;
            true
        } else {
            // A statement's value goes on only past a `return` (its list
            // says).
            ast::AwaitExpr::can_cast(kind)
                || ast::ParenExpr::can_cast(kind)
                || ast::ExprStmt::can_cast(kind)
                || &parent == scope
        };
        if !kept {
            return changed(&parent);
        }
        node = parent;
    }
    Ok(())
}

/// Whether the `if` condition `condition` tests for a gRPC request: it names
/// `application/grpc`, itself or through a variable bound in `scope`.
fn tests_for_grpc(condition: &ast::Expr, scope: &SyntaxNode) -> bool {
    const GRPC: &str = "application/grpc";
    let text = condition.syntax().to_string();
    if text.contains(GRPC) {
        return true;
    }
    let name = text.trim();
    scope.descendants().filter_map(ast::LetStmt::cast).any(|l| {
        let binds = matches!(l.pat(), Some(ast::Pat::IdentPat(p)) if p.name().is_some_and(|n| n.text() == name));
        binds && l.initializer().is_some_and(|v| v.syntax().to_string().contains(GRPC))
    })
}

/// Whether `statement` only binds a value (no `return`, `?` or `.await` in
/// it) or logs (`info!(..)`, `println!(..)`, ..).
fn only_binds_or_logs(statement: &ast::Stmt) -> bool {
    const LOGS: &[&str] = &[
        "trace", "debug", "info", "warn", "error", "println", "eprintln", "print", "eprint",
    ];
    match statement {
        ast::Stmt::LetStmt(binding) => !binding.syntax().descendants().any(|n| {
            ast::ReturnExpr::can_cast(n.kind())
                || ast::TryExpr::can_cast(n.kind())
                || ast::AwaitExpr::can_cast(n.kind())
                || ast::LetElse::can_cast(n.kind())
        }),
        ast::Stmt::ExprStmt(expr) => {
            let Some(ast::Expr::MacroExpr(mac)) = expr.expr() else {
                return false;
            };
            let name = mac
                .macro_call()
                .and_then(|m| m.path())
                .and_then(|p| p.segment())
                .and_then(|s| s.name_ref())
                .map(|n| n.text().to_string());
            name.is_some_and(|n| LOGS.contains(&n.as_str()))
        }
        ast::Stmt::Item(_) => true,
    }
}
