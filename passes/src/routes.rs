//! Where the channel of a client that keeps its own transport is connected.
//!
//! A client over a transport of its own (`XClient<Traced<Channel>>`), or on a
//! channel whose timeout knit cannot give an in-process client, keeps its type,
//! its wrappers and its `Endpoint` as written: only the place where that
//! endpoint is connected changes (`knit_runtime::channel::connect`), so that
//! the channel serves calls to the group's services in process. This module
//! follows a client constructor's channel to those places: through `let`s,
//! wrappers around the channel (`Traced::new(channel)`, `ServiceBuilder ..
//! .service(channel)`, a struct literal), and functions of the service that
//! return it (`telemetry::dial(&url, &cfg).await?`, in another crate too).

use ra_ap_syntax::ast::{self, HasArgList, HasName};
use ra_ap_syntax::{AstNode, SyntaxNode, TextRange};

use crate::channels::expr_at;
use crate::model::{FileId, Group};
use crate::names::{Mention, Usage};

/// How deep functions returning a channel are followed.
const DEPTH: usize = 4;

/// How a channel is connected where knit routes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConnectKind {
    /// `endpoint.connect()`, awaited by the caller's code.
    Eager,
    /// `endpoint.connect_lazy()`.
    Lazy,
    /// The generated `XClient::connect(dst)`, which connects its own channel.
    Client,
}

/// A place where a routed channel is connected: the `connect()` or
/// `connect_lazy()` call (receiver included), or `XClient::connect(dst)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Connect {
    pub file: FileId,
    /// Start and end of the call in the file.
    pub span: (u32, u32),
    pub kind: ConnectKind,
}

impl Connect {
    fn new(file: FileId, range: TextRange, kind: ConnectKind) -> Self {
        let span = (range.start().into(), range.end().into());
        Connect { file, span, kind }
    }

    /// The call's range in its file.
    pub fn range(&self) -> TextRange {
        TextRange::new(self.span.0.into(), self.span.1.into())
    }
}

/// Builder methods of tonic's `Endpoint` (and `Channel::builder`'s): a chain of
/// them is still an endpoint. `tls_config` is not one: TLS is never routed.
const ENDPOINT_BUILDERS: &[&str] = &[
    "buffer_size",
    "concurrency_limit",
    "connect_timeout",
    "executor",
    "http2_adaptive_window",
    "http2_keep_alive_interval",
    "http2_max_header_list_size",
    "initial_connection_window_size",
    "initial_stream_window_size",
    "keep_alive_timeout",
    "keep_alive_while_idle",
    "local_address",
    "origin",
    "rate_limit",
    "tcp_keepalive",
    "tcp_nodelay",
    "timeout",
    "user_agent",
];

/// Wrappers a channel passes through unchanged on its way to a client.
const PASSING: &[&str] = &[
    "clone", "unwrap", "expect", "map_err", "context", "into", "boxed",
];

/// The places where the channel of client constructor `m` of `service` is
/// connected, or why knit cannot find them.
pub fn connects_of(group: &Group, service: usize, m: &Mention) -> Result<Vec<Connect>, String> {
    let Usage::Call {
        method, call, args, ..
    } = &m.usage
    else {
        return Err("it is not a constructor".into());
    };
    if method == "connect" {
        return Ok(vec![Connect::new(m.file, *call, ConnectKind::Client)]);
    }
    let tree = group.file(m.file).rust.as_ref().ok_or("not Rust")?.tree();
    let arg = args
        .first()
        .and_then(|a| expr_at(&tree, *a))
        .ok_or_else(|| format!("`{method}` is given no channel knit can read"))?;
    let mut found = Vec::new();
    Follower { group, service }.follow(m.file, arg, 0, &mut found)?;
    found.sort();
    found.dedup();
    Ok(found)
}

struct Follower<'g> {
    group: &'g Group,
    service: usize,
}

impl Follower<'_> {
    /// Adds to `out` where the channel `e` (in `file`) is connected.
    fn follow(
        &self,
        file: FileId,
        e: ast::Expr,
        depth: usize,
        out: &mut Vec<Connect>,
    ) -> Result<(), String> {
        let e = strip(e);
        let cannot = |e: &ast::Expr| {
            format!(
                "its channel comes from `{}`, which knit does not follow",
                short(e)
            )
        };
        match &e {
            ast::Expr::MethodCallExpr(call) => {
                let name = call.name_ref().map(|n| n.text().to_string());
                let args: Vec<ast::Expr> = call
                    .arg_list()
                    .map(|a| a.args().collect())
                    .unwrap_or_default();
                match (name.as_deref(), args.as_slice()) {
                    (Some(kind @ ("connect" | "connect_lazy")), []) => {
                        let receiver = call.receiver().ok_or_else(|| cannot(&e))?;
                        if !self.is_endpoint(receiver, 0) {
                            return Err(format!(
                                "its channel is connected at `{}`, on what knit cannot tell is a tonic `Endpoint` (or one with TLS, which is never routed)",
                                short(&e)
                            ));
                        }
                        let kind = match kind {
                            "connect" => ConnectKind::Eager,
                            _ => ConnectKind::Lazy,
                        };
                        out.push(Connect::new(file, call.syntax().text_range(), kind));
                        Ok(())
                    }
                    // `ServiceBuilder::new().layer(..).service(channel)`.
                    (Some("service"), [inner]) => self.follow(file, inner.clone(), depth, out),
                    _ => Err(cannot(&e)),
                }
            }
            ast::Expr::PathExpr(path) => {
                let name = path
                    .path()
                    .and_then(|p| p.as_single_name_ref())
                    .map(|n| n.text().to_string())
                    .ok_or_else(|| cannot(&e))?;
                self.follow_name(file, path.syntax(), &name, depth, out)
                    .unwrap_or_else(|| Err(cannot(&e)))
            }
            ast::Expr::CallExpr(call) => {
                let args: Vec<ast::Expr> = call
                    .arg_list()
                    .map(|a| a.args().collect())
                    .unwrap_or_default();
                let Some((qualifier, name)) = callee(call) else {
                    return Err(cannot(&e));
                };
                let passes = matches!(
                    (qualifier.as_deref(), name.as_str()),
                    (None, "Ok" | "Some") | (Some("Box" | "Arc" | "Rc"), "new")
                );
                if passes {
                    let inner = args.first().cloned().ok_or_else(|| cannot(&e))?;
                    return self.follow(file, inner, depth, out);
                }
                if qualifier.as_deref() == Some("Channel") {
                    return Err(format!(
                        "its channel is made by `Channel::{name}`, which knit does not route"
                    ));
                }
                // A function of the service that returns the channel.
                let mut returned = Err(cannot(&e));
                if depth < DEPTH
                    && let Some((at, function)) = self.function(qualifier.as_deref(), &name)
                {
                    let mut inner = Vec::new();
                    returned = self
                        .follow_returns(at, &function, depth + 1, &mut inner)
                        .map(|()| inner);
                }
                match returned {
                    Ok(found) => {
                        out.extend(found);
                        Ok(())
                    }
                    // A wrapper around the channel (`Traced::new(channel)`,
                    // `Timeout::new(channel, d)`): its first argument.
                    Err(why) => match args.first() {
                        Some(inner) => self.follow(file, inner.clone(), depth, out),
                        None => Err(why),
                    },
                }
            }
            ast::Expr::RecordExpr(record) => {
                // `Traced { inner: channel, .. }`: the fields that hold it.
                let fields = record
                    .record_expr_field_list()
                    .into_iter()
                    .flat_map(|l| l.fields());
                let mut why = None;
                let before = out.len();
                for field in fields {
                    let followed = match (field.expr(), field.name_ref()) {
                        (Some(value), _) => self.follow(file, value, depth, out),
                        // `Traced { inner }`: the variable `inner`.
                        (None, Some(name)) => self
                            .follow_name(file, field.syntax(), name.text().as_ref(), depth, out)
                            .unwrap_or_else(|| {
                                Err(format!("its channel `{name}` is not a `let` knit follows"))
                            }),
                        (None, None) => continue,
                    };
                    if let Err(e) = followed {
                        why.get_or_insert(e);
                    }
                }
                match (out.len() > before, why) {
                    (true, _) => Ok(()),
                    (false, Some(why)) => Err(why),
                    (false, None) => Err(cannot(&e)),
                }
            }
            _ => Err(cannot(&e)),
        }
    }

    /// Follows the variable `name` seen at `node`: the `let` that binds it;
    /// `None` when it is no `let` or parameter of the function.
    fn follow_name(
        &self,
        file: FileId,
        node: &SyntaxNode,
        name: &str,
        depth: usize,
        out: &mut Vec<Connect>,
    ) -> Option<Result<(), String>> {
        if let Some(binding) = crate::locals::shadowed_binding(node, name) {
            if crate::locals::changed(&binding) {
                return Some(Err(format!(
                    "its channel `{name}` is assigned again after its `let`"
                )));
            }
            let init = binding.initializer()?;
            return Some(self.follow(file, init, depth, out));
        }
        parameter(node, name).map(|_| {
            Err(format!(
                "its channel is `{name}`, a parameter of the function that makes the client"
            ))
        })
    }

    /// Follows every value `function` (of file `at`) returns.
    fn follow_returns(
        &self,
        at: FileId,
        function: &ast::Fn,
        depth: usize,
        out: &mut Vec<Connect>,
    ) -> Result<(), String> {
        let body = function.body().ok_or("a function without a body")?;
        let mut returned: Vec<ast::Expr> = body.tail_expr().into_iter().collect();
        returned.extend(
            body.syntax()
                .descendants()
                .filter(|n| inside_function(n, function.syntax()))
                .filter_map(ast::ReturnExpr::cast)
                .filter_map(|r| r.expr()),
        );
        if returned.is_empty() {
            return Err("a function that returns no value knit can read".into());
        }
        for value in returned {
            // `return Err(..)`: no channel there.
            if let ast::Expr::CallExpr(call) = strip(value.clone())
                && callee(&call).is_some_and(|(q, n)| q.is_none() && n == "Err")
            {
                continue;
            }
            self.follow(at, value, depth, out)?;
        }
        Ok(())
    }

    /// The one function of the service's code named `name` (an associated
    /// function of a type named `qualifier`, or a free function of a module or
    /// crate of that name, or of any module when there is no qualifier).
    fn function(&self, qualifier: Option<&str>, name: &str) -> Option<(FileId, ast::Fn)> {
        let mut found = Vec::new();
        for (i, file) in self.group.files.iter().enumerate() {
            let ours =
                file.service == self.service || file.also.iter().any(|p| p.service == self.service);
            let Some(rust) = file.rust.as_ref().filter(|_| ours) else {
                continue;
            };
            if !file.text.contains(&format!("fn {name}")) {
                continue;
            }
            let tree = rust.tree();
            for function in tree.syntax().descendants().filter_map(ast::Fn::cast) {
                if function.name().is_none_or(|n| n.text() != name) {
                    continue;
                }
                let owner = function
                    .syntax()
                    .ancestors()
                    .find_map(ast::Impl::cast)
                    .and_then(|i| i.self_ty())
                    .map(|t| t.syntax().to_string());
                let matches = match (qualifier, owner.as_deref()) {
                    (None, None) => true,
                    (Some(q), Some(owner)) => owner == q || q == "Self",
                    (Some(q), None) => {
                        // `module::f`: the file's module, or its crate.
                        let module = rust.module.last().map(String::as_str);
                        let krate = self.group.services[file.service].packages[file.package]
                            .name
                            .replace('-', "_");
                        module == Some(q) || (rust.module.is_empty() && krate == q)
                    }
                    (None, Some(_)) => false,
                };
                if matches {
                    found.push((FileId(i as u32), function));
                }
            }
        }
        match found.len() {
            1 => found.pop(),
            _ => None,
        }
    }

    /// Whether `e` is a tonic `Endpoint` (without TLS): a chain of its
    /// builders on `Endpoint::new`/`from_shared`/`from_static`/`try_from`/
    /// `from_str` or `Channel::from_static`/`from_shared`/`builder`, a `let`
    /// of one (or annotated `: Endpoint`), a parameter of type `Endpoint`, or a
    /// function of the service declared to return one.
    fn is_endpoint(&self, e: ast::Expr, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        match strip_try(e) {
            ast::Expr::MethodCallExpr(call) => {
                let builder = call
                    .name_ref()
                    .is_some_and(|n| ENDPOINT_BUILDERS.contains(&n.text()));
                builder
                    && call
                        .receiver()
                        .is_some_and(|r| self.is_endpoint(r, depth + 1))
            }
            ast::Expr::CallExpr(call) => match callee(&call) {
                Some((Some(q), name)) if q == "Endpoint" => matches!(
                    name.as_str(),
                    "new" | "from_shared" | "from_static" | "try_from" | "from_str"
                ),
                Some((Some(q), name)) if q == "Channel" => {
                    matches!(name.as_str(), "from_static" | "from_shared" | "builder")
                }
                Some((qualifier, name)) => self
                    .function(qualifier.as_deref(), &name)
                    .and_then(|(_, f)| f.ret_type()?.ty())
                    .is_some_and(|t| names_endpoint(&t.syntax().to_string())),
                None => false,
            },
            ast::Expr::PathExpr(path) => {
                let Some(name) = path
                    .path()
                    .and_then(|p| p.as_single_name_ref())
                    .map(|n| n.text().to_string())
                else {
                    return false;
                };
                if let Some(binding) = crate::locals::binding(path.syntax(), &name) {
                    if binding
                        .ty()
                        .is_some_and(|t| names_endpoint(&t.syntax().to_string()))
                    {
                        return true;
                    }
                    let Some(init) = binding.initializer() else {
                        return false;
                    };
                    return self.is_endpoint(init, depth + 1)
                        && reassigned_as_endpoint(&binding, &name);
                }
                parameter(path.syntax(), &name)
                    .and_then(|p| p.ty())
                    .is_some_and(|t| names_endpoint(&t.syntax().to_string()))
            }
            _ => false,
        }
    }
}

/// Whether every later assignment of `name` (bound by `binding`) is a chain
/// of endpoint builders on `name` itself: `endpoint = endpoint.timeout(d);`.
fn reassigned_as_endpoint(binding: &ast::LetStmt, name: &str) -> bool {
    if !crate::locals::changed(binding) {
        return true;
    }
    let Some(block) = binding.syntax().parent() else {
        return false;
    };
    let after = binding.syntax().text_range().end();
    let assignments = block
        .descendants()
        .filter(|n| n.text_range().start() >= after)
        .filter_map(ast::BinExpr::cast)
        .filter(|b| matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { .. })))
        .filter(|b| b.lhs().is_some_and(|l| l.syntax().text() == name));
    let mut any = false;
    for assignment in assignments {
        any = true;
        let mut rhs = assignment.rhs();
        loop {
            match rhs {
                Some(ast::Expr::MethodCallExpr(call))
                    if call
                        .name_ref()
                        .is_some_and(|n| ENDPOINT_BUILDERS.contains(&n.text())) =>
                {
                    rhs = call.receiver();
                }
                Some(ast::Expr::PathExpr(p)) if p.syntax().text() == name => break,
                _ => return false,
            }
        }
    }
    // Changed only by a mutable borrow, or in a way knit does not see.
    any
}

/// Whether type text `ty` is tonic's `Endpoint`, alone or as the value of a
/// `Result`/`Option`.
fn names_endpoint(ty: &str) -> bool {
    let ty: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    ["Endpoint", "transport::Endpoint"]
        .iter()
        .any(|e| ty.ends_with(e) || ty.contains(&format!("{e},")) || ty.contains(&format!("{e}>")))
        && !ty.contains("Endpoints")
}

/// `e` without `?`, `.await`, parentheses, `&`, blocks' tails and passing
/// method calls (`.clone()`, `.unwrap()`, `.map_err(..)`, ..).
fn strip(mut e: ast::Expr) -> ast::Expr {
    loop {
        let next = match &e {
            ast::Expr::TryExpr(t) => t.expr(),
            ast::Expr::AwaitExpr(a) => a.expr(),
            ast::Expr::ParenExpr(p) => p.expr(),
            ast::Expr::RefExpr(r) => r.expr(),
            ast::Expr::BlockExpr(b) if b.async_token().is_none() => {
                b.stmt_list().and_then(|l| l.tail_expr())
            }
            ast::Expr::MethodCallExpr(call)
                if call.name_ref().is_some_and(|n| PASSING.contains(&n.text())) =>
            {
                call.receiver()
            }
            _ => None,
        };
        match next {
            Some(next) => e = next,
            None => return e,
        }
    }
}

/// `e` without `?` and parentheses.
fn strip_try(mut e: ast::Expr) -> ast::Expr {
    loop {
        let next = match &e {
            ast::Expr::TryExpr(t) => t.expr(),
            ast::Expr::ParenExpr(p) => p.expr(),
            _ => None,
        };
        match next {
            Some(next) => e = next,
            None => return e,
        }
    }
}

/// The function `call` calls by path: the last segment of its qualifier
/// (`telemetry` of `telemetry::dial`, `Self`), and its name.
fn callee(call: &ast::CallExpr) -> Option<(Option<String>, String)> {
    let ast::Expr::PathExpr(callee) = call.expr()? else {
        return None;
    };
    let path = callee.path()?;
    let segment = path.segment()?;
    let name = segment.name_ref()?.text().to_string();
    let qualifier = path.qualifier().and_then(|q| q.segment()).map(|s| {
        s.name_ref()
            .map(|n| n.text().to_string())
            .unwrap_or_else(|| s.syntax().to_string())
    });
    Some((qualifier, name))
}

/// The parameter `name` of the function around `node`.
fn parameter(node: &SyntaxNode, name: &str) -> Option<ast::Param> {
    let function = node.ancestors().find_map(ast::Fn::cast)?;
    function.param_list()?.params().find(|p| {
        matches!(p.pat(), Some(ast::Pat::IdentPat(i)) if i.name().is_some_and(|n| n.text() == name))
    })
}

/// Whether `node` belongs to `function` itself, not to a closure or a
/// function nested in it.
fn inside_function(node: &SyntaxNode, function: &SyntaxNode) -> bool {
    node.ancestors()
        .skip(1)
        .find(|a| ast::Fn::can_cast(a.kind()) || ast::ClosureExpr::can_cast(a.kind()))
        .is_some_and(|a| &a == function)
}

/// Text of `e`, shortened for a reason.
fn short(e: &ast::Expr) -> String {
    let text = e.syntax().to_string();
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push_str("..");
    }
    short
}
