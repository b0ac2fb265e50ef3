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

use ra_ap_syntax::ast::{self, HasArgList, HasGenericParams, HasLoopBody, HasName, HasTypeBounds};
use ra_ap_syntax::{AstNode, SyntaxNode, TextRange, TextSize};

use crate::channels::expr_at;
use crate::model::{FileId, Group, ServiceId};
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
    /// `Channel::balance_channel(n)` (`::<K>` too), whose endpoints are given
    /// later through the sender it returns with the channel.
    Balance,
    /// `Channel::balance_list(endpoints)`.
    BalanceList,
}

/// A place where a routed channel is connected: the `connect()` or
/// `connect_lazy()` call (receiver included), `XClient::connect(dst)`, or
/// the balance channel's `Channel::balance_channel(n)`/`balance_list(..)`.
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
pub fn connects_of(group: &Group, service: ServiceId, m: &Mention) -> Result<Vec<Connect>, String> {
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
    let follower = Follower {
        group,
        service,
        names: Default::default(),
    };
    follower.follow(m.file, arg, 0, &mut found)?;
    found.sort();
    found.dedup();
    Ok(found)
}

struct Follower<'g> {
    group: &'g Group,
    service: ServiceId,
    /// The names of each crate a caller was looked for in, by its root.
    names: std::cell::RefCell<std::collections::BTreeMap<FileId, crate::volo::names::Names>>,
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
                if qualifier.as_deref() == Some("Channel") && name == "balance_list" {
                    out.push(Connect::new(
                        file,
                        call.syntax().text_range(),
                        ConnectKind::BalanceList,
                    ));
                    return Ok(());
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
            // `loop { match endpoint.connect().await { Ok(c) => break c, .. } }`:
            // every value it breaks with.
            ast::Expr::LoopExpr(l) => {
                let values = break_values(l);
                if values.is_empty() {
                    return Err(cannot(&e));
                }
                for value in values {
                    self.follow(file, value, depth, out)?;
                }
                Ok(())
            }
            // `if c { a } else { b }`, `match x { .. }`: every branch.
            ast::Expr::IfExpr(_) | ast::Expr::MatchExpr(_) => {
                let branches = branches(&e).ok_or_else(|| cannot(&e))?;
                for branch in branches {
                    self.follow(file, branch, depth, out)?;
                }
                Ok(())
            }
            // `self.channel`: every value the crate's struct literals give it.
            ast::Expr::FieldExpr(field) => {
                let krate = self.group.file(file).rust.as_ref().map(|r| r.krate);
                let values = krate
                    .filter(|_| depth < DEPTH)
                    .and_then(|krate| crate::fields::values(self.group, krate, field))
                    .ok_or_else(|| {
                        format!(
                            "its channel comes from `{}`, a field knit cannot follow to every value it is given (struct literals of its crate, the field not `pub`, not assigned)",
                            short(&e)
                        )
                    })?;
                for (at, value) in values {
                    self.follow(at, value, depth + 1, out)?;
                }
                Ok(())
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

    /// Follows the variable `name` seen at `node`: the `let` that binds it
    /// (`let (channel, changes) = Channel::balance_channel(n);` too), or, for
    /// a parameter of the function around `node`, the arguments its callers
    /// give it; `None` when it is neither.
    fn follow_name(
        &self,
        file: FileId,
        node: &SyntaxNode,
        name: &str,
        depth: usize,
        out: &mut Vec<Connect>,
    ) -> Option<Result<(), String>> {
        let binding = crate::locals::shadowed_binding(node, name);
        // Bound by a `match` arm or an `if let` around `node`, after any
        // `let` of it: what the scrutinee holds.
        if let Some(scrutinee) = pattern_scrutinee(node, name, binding.as_ref()) {
            return Some(self.follow(file, scrutinee, depth, out));
        }
        if let Some(binding) = binding {
            if !crate::locals::changed(&binding) {
                let init = binding.initializer()?;
                return Some(self.follow(file, init, depth, out));
            }
            // `let mut x = None; .. x = Some(connection);` (a retry loop):
            // every value it is given.
            let again = format!("its channel `{name}` is assigned again after its `let`");
            let Some(assigned) = crate::locals::assigned(&binding) else {
                return Some(Err(again));
            };
            if depth >= DEPTH {
                return Some(Err(again));
            }
            let values = binding.initializer().into_iter().chain(assigned);
            let mut followed = false;
            for value in values.filter(|v| !is_none(v)) {
                if let Err(e) = self.follow(file, value, depth + 1, out) {
                    return Some(Err(e));
                }
                followed = true;
            }
            return Some(if followed { Ok(()) } else { Err(again) });
        }
        if let Some((binding, at)) = tuple_binding(node, name) {
            return Some(balanced(self.group, file, &binding, at, name, out));
        }
        let (function, index) = parameter(node, name)?;
        let why =
            format!("its channel is `{name}`, a parameter of the function that makes the client");
        if depth >= DEPTH {
            return Some(Err(why));
        }
        Some(
            self.follow_callers(file, &function, index, depth + 1, out)
                .map_err(|e| match e {
                    None => format!("{why}, called nowhere knit finds"),
                    Some(e) => e,
                }),
        )
    }

    /// Follows the argument at `index` of every call of `function` in the
    /// service's code, by path (`Type::f(x)`, `Self::f(x)`, `module::f(x)`,
    /// and for a method of a trait impl `Trait::f(x)`, `T::f(x)` of a type
    /// parameter bound by the trait, `<X as Trait>::f(x)`). The channel of a
    /// trait method's callers in generic code may be given to clients of
    /// several services (`T::new_from_channel(channel)` for every client type
    /// with the trait): the place where it is connected is then listed with
    /// all of them (`calls`' `route_channels`). `Err(None)` when there is no
    /// call.
    fn follow_callers(
        &self,
        file: FileId,
        function: &ast::Fn,
        index: usize,
        depth: usize,
        out: &mut Vec<Connect>,
    ) -> Result<(), Option<String>> {
        let name = function.name().ok_or(None)?.text().to_string();
        let index = index
            + usize::from(
                function
                    .param_list()
                    .is_some_and(|p| p.self_param().is_some()),
            );
        let owner = Owner::of(function);
        let mut called = false;
        for (i, source) in self.group.files.iter().enumerate() {
            // Tests make clients on channels of their own.
            let Some(rust) = self.ours(source).filter(|r| !r.test_only) else {
                continue;
            };
            if !source.text.contains(name.as_str()) {
                continue;
            }
            let at = FileId(i as u32);
            let tree = rust.tree();
            for call in tree.syntax().descendants().filter_map(ast::CallExpr::cast) {
                let Some(path) = called_path(&call) else {
                    continue;
                };
                if crate::compiled::not_compiled(self.group, at, call.syntax().text_range()) {
                    continue;
                }
                if path
                    .segment()
                    .and_then(|s| s.name_ref())
                    .is_none_or(|n| n.text() != name)
                    || !owner.is_called_by(self, at, &path, (file, function.syntax().text_range()))
                {
                    continue;
                }
                called = true;
                let arg = call
                    .arg_list()
                    .and_then(|a| a.args().nth(index))
                    .ok_or_else(|| {
                        Some(format!(
                            "`{}` is given no channel",
                            short(&ast::Expr::CallExpr(call.clone()))
                        ))
                    })?;
                self.follow(at, arg, depth, out).map_err(Some)?;
            }
        }
        match called {
            true => Ok(()),
            false => Err(None),
        }
    }

    /// The parse of `file` when the service reaches it: `None` for another
    /// service's file, or a file that is not Rust.
    fn ours<'f>(&self, file: &'f crate::model::SourceFile) -> Option<&'f crate::model::RustFile> {
        let ours =
            file.service == self.service || file.also.iter().any(|p| p.service == self.service);
        file.rust.as_ref().filter(|_| ours)
    }

    /// The last segment of what `path` stands for in `file`, the crate's
    /// `use`s and aliases followed (`Factory` for `Make` after `use
    /// crate::clients::Factory as Make;`).
    fn resolved_name(&self, file: FileId, path: &ast::Path) -> Option<String> {
        let rust = self.group.file(file).rust.as_ref()?;
        let written = crate::volo::names::segments(path)?;
        let module = crate::volo::names::scope_of(&rust.module, path.syntax());
        let names = self.names(rust.krate);
        names.resolve(rust.krate, &module, &written).pop()
    }

    /// The names of the crate rooted at `krate`, built once.
    fn names(&self, krate: FileId) -> std::cell::Ref<'_, crate::volo::names::Names> {
        self.names
            .borrow_mut()
            .entry(krate)
            .or_insert_with(|| crate::volo::names::Names::of_crate(self.group, krate));
        std::cell::Ref::map(self.names.borrow(), |n| &n[&krate])
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
            let Some(rust) = self.ours(file) else {
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

    /// The declared types of the fields named `name` of the structs of the
    /// service's code.
    fn field_types(&self, name: &str) -> Vec<String> {
        let mut types = Vec::new();
        for file in &self.group.files {
            let Some(rust) = self.ours(file) else {
                continue;
            };
            if !file.text.contains(name) {
                continue;
            }
            let tree = rust.tree();
            let fields = tree
                .syntax()
                .descendants()
                .filter_map(ast::RecordField::cast)
                .filter(|f| f.name().is_some_and(|n| n.text() == name));
            types.extend(fields.filter_map(|f| Some(f.ty()?.syntax().to_string())));
        }
        types
    }

    /// Whether `e` is a tonic `Endpoint` (without TLS): a chain of its
    /// builders on `Endpoint::new`/`from_shared`/`from_static`/`try_from`/
    /// `from_str` or `Channel::from_static`/`from_shared`/`builder`, a `let`
    /// of one (or annotated `: Endpoint`), a parameter of type `Endpoint`, a
    /// function of the service declared to return one, or a field that every
    /// struct of the service's code with a field of that name declares one
    /// (`args.logger_uri` of a clap `Args`).
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
                let binding = crate::locals::shadowed_binding(path.syntax(), &name);
                // `Ok(mut endpoint) => ..` of `match make_endpoint(url)`.
                if let Some((scope, scrutinee)) =
                    pattern_bound(path.syntax(), &name, binding.as_ref())
                {
                    let start = scope.text_range().start();
                    return self.is_endpoint(scrutinee, depth + 1)
                        && reassigned_as_endpoint(&scope, start, &name);
                }
                if let Some(binding) = binding {
                    if binding
                        .ty()
                        .is_some_and(|t| names_endpoint(&t.syntax().to_string()))
                    {
                        return true;
                    }
                    let Some(init) = binding.initializer() else {
                        return false;
                    };
                    let (Some(block), after) = (
                        binding.syntax().parent(),
                        binding.syntax().text_range().end(),
                    ) else {
                        return false;
                    };
                    return self.is_endpoint(init, depth + 1)
                        && reassigned_as_endpoint(&block, after, &name);
                }
                // A parameter, bound no other way in the function.
                let (function, _) = parameter(path.syntax(), &name).unzip();
                let bound_once = function.is_some_and(|f| {
                    f.syntax()
                        .descendants()
                        .filter_map(ast::IdentPat::cast)
                        .filter(|p| p.name().is_some_and(|n| n.text() == name))
                        .count()
                        == 1
                });
                bound_once
                    && parameter_of(path.syntax(), &name)
                        .and_then(|p| p.ty())
                        .is_some_and(|t| names_endpoint(&t.syntax().to_string()))
            }
            ast::Expr::FieldExpr(field) => {
                let Some(name) = field.name_ref() else {
                    return false;
                };
                // Declared `Endpoint` itself: not `Option<Endpoint>`,
                // `Arc<Endpoint>` or a type of the service's own.
                let types = self.field_types(name.text());
                let endpoint = |ty: &String| {
                    let ty: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
                    ty == "Endpoint" || ty.ends_with("::Endpoint")
                };
                !types.is_empty() && types.iter().all(endpoint)
            }
            _ => false,
        }
    }
}

/// Whether every assignment of `name` in `scope` after `after` is a chain of
/// endpoint builders on `name` itself (`endpoint = endpoint.timeout(d);`) or
/// on what a function or method given `name` returns (`endpoint =
/// hook(endpoint)?;`, `endpoint = customize.configure(endpoint)?;`, an
/// override hook, through a `match` arm too: `Ok(e) => endpoint = e`), and
/// it is not borrowed mutably. The variable is an `Endpoint`, so whatever
/// the hook returns is one too; should it add TLS, an `https`
/// endpoint keeps tonic's channel at run time (`knit_runtime::channel`), and
/// tonic uses no TLS on any other.
fn reassigned_as_endpoint(scope: &SyntaxNode, after: TextSize, name: &str) -> bool {
    let mutably_borrowed = scope
        .descendants()
        .filter(|n| n.text_range().start() >= after)
        .filter_map(ast::RefExpr::cast)
        .any(|r| r.mut_token().is_some() && r.expr().is_some_and(|e| e.syntax().text() == name));
    // Assigned in a tuple or by `+=`: knit cannot say what it holds.
    let otherwise = scope
        .descendants()
        .filter(|n| n.text_range().start() >= after)
        .filter_map(ast::BinExpr::cast)
        .filter(|b| matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { .. })))
        .any(|b| {
            b.lhs().is_some_and(|l| {
                l.syntax().text() != name
                    && l.syntax()
                        .descendants()
                        .filter_map(ast::PathExpr::cast)
                        .any(|p| p.syntax().text() == name)
            }) || (b.lhs().is_some_and(|l| l.syntax().text() == name)
                && !matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { op: None })))
        });
    if mutably_borrowed || otherwise {
        return false;
    }
    let assignments = scope
        .descendants()
        .filter(|n| n.text_range().start() >= after)
        .filter_map(ast::BinExpr::cast)
        .filter(|b| matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { .. })))
        .filter(|b| b.lhs().is_some_and(|l| l.syntax().text() == name));
    for assignment in assignments {
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
                Some(ast::Expr::CallExpr(call)) if given(&call, name) => break,
                // `customize.configure_endpoint(endpoint)`: a hook's method.
                Some(ast::Expr::MethodCallExpr(call)) if given(&call, name) => break,
                // `Ok(e) => endpoint = e` of `match hook(endpoint)`.
                Some(ast::Expr::PathExpr(p))
                    if pattern_scrutinee(p.syntax(), &p.syntax().text().to_string(), None)
                        .is_some_and(|s| {
                            matches!(strip_try(s), ast::Expr::CallExpr(call) if given(&call, name))
                        }) =>
                {
                    break;
                }
                Some(other) => match strip_try(other.clone()) {
                    stripped if stripped.syntax() != other.syntax() => rhs = Some(stripped),
                    _ => return false,
                },
                None => return false,
            }
        }
    }
    true
}

/// Whether `call` is given the variable `name` itself (or its clone).
fn given(call: &impl HasArgList, name: &str) -> bool {
    call.arg_list().is_some_and(|list| {
        list.args().any(|a| {
            let a = match a {
                ast::Expr::MethodCallExpr(c)
                    if c.name_ref().is_some_and(|n| n.text() == "clone") =>
                {
                    c.receiver()
                }
                a => Some(a),
            };
            matches!(a, Some(ast::Expr::PathExpr(p)) if p.syntax().text() == name)
        })
    })
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

/// The values the branches of `if`/`match` `e` may yield: each block's tail,
/// each arm's expression; `None` for an `if` without `else`, or a branch
/// without a value knit reads. A branch that yields an error (`Err(..)`) or
/// leaves (`return`, `break`, `continue`) holds no channel and is skipped.
fn branches(e: &ast::Expr) -> Option<Vec<ast::Expr>> {
    let mut values = Vec::new();
    match e {
        ast::Expr::IfExpr(if_expr) => {
            let mut at = if_expr.clone();
            loop {
                values.push(ast::Expr::BlockExpr(at.then_branch()?));
                match at.else_branch()? {
                    ast::ElseBranch::Block(block) => {
                        values.push(ast::Expr::BlockExpr(block));
                        break;
                    }
                    ast::ElseBranch::IfExpr(next) => at = next,
                }
            }
        }
        ast::Expr::MatchExpr(m) => {
            for arm in m.match_arm_list()?.arms() {
                values.push(arm.expr()?);
            }
        }
        _ => return None,
    }
    values.retain(|v| match strip(v.clone()) {
        ast::Expr::CallExpr(call) => !callee(&call).is_some_and(|(q, n)| q.is_none() && n == "Err"),
        ast::Expr::BlockExpr(block) => !block
            .stmt_list()
            .and_then(|l| l.statements().last())
            .is_some_and(|s| match s {
                ast::Stmt::ExprStmt(s) => s.expr().is_some_and(|e| leaves(&e)),
                _ => false,
            }),
        other => !leaves(&other),
    });
    (!values.is_empty()).then_some(values)
}

/// Whether `e` is `None`: a value that holds no channel.
fn is_none(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::PathExpr(p) if p.syntax().text() == "None")
}

/// The values `l` breaks with: its `break value`s, those of loops nested in
/// it by its label only, none of closures or functions in it.
fn break_values(l: &ast::LoopExpr) -> Vec<ast::Expr> {
    let label = l
        .label()
        .and_then(|l| l.lifetime())
        .map(|l| l.syntax().text().to_string());
    let mut values = Vec::new();
    let mut todo: Vec<(SyntaxNode, bool)> = l
        .loop_body()
        .map(|b| (b.syntax().clone(), false))
        .into_iter()
        .collect();
    while let Some((node, nested)) = todo.pop() {
        if let Some(b) = ast::BreakExpr::cast(node.clone()) {
            let target = b.lifetime().map(|l| l.syntax().text().to_string());
            let ours = match (&target, nested) {
                (Some(t), _) => Some(t) == label.as_ref(),
                (None, nested) => !nested,
            };
            if ours && let Some(value) = b.expr() {
                values.push(value);
            }
        }
        if ast::ClosureExpr::can_cast(node.kind()) || ast::Fn::can_cast(node.kind()) {
            continue;
        }
        let inner = nested
            || ast::LoopExpr::can_cast(node.kind())
            || ast::WhileExpr::can_cast(node.kind())
            || ast::ForExpr::can_cast(node.kind());
        todo.extend(node.children().map(|c| (c, inner)));
    }
    values
}

/// What `name` at `node` is taken from when a pattern around `node` binds it
/// (closer than `binding`, its `let`, if any): the scrutinee of a `match`
/// whose arm binds it (`Ok(channel) => ..`), or the value of an `if let`/
/// `while let` whose body holds `node`. Only a pattern that is the name, or
/// `Some(name)`/`Ok(name)`, which hold the value the scrutinee does.
fn pattern_scrutinee(
    node: &SyntaxNode,
    name: &str,
    binding: Option<&ast::LetStmt>,
) -> Option<ast::Expr> {
    pattern_bound(node, name, binding).map(|(_, scrutinee)| scrutinee)
}

/// [`pattern_scrutinee`], with the code the pattern's name is bound in (the
/// arm's expression, the `if let`'s body).
fn pattern_bound(
    node: &SyntaxNode,
    name: &str,
    binding: Option<&ast::LetStmt>,
) -> Option<(SyntaxNode, ast::Expr)> {
    let holds = |pat: Option<ast::Pat>| match pat {
        Some(ast::Pat::IdentPat(p)) => p.name().is_some_and(|n| n.text() == name),
        Some(ast::Pat::TupleStructPat(t)) => {
            let wraps = t
                .path()
                .and_then(|p| p.segment())
                .and_then(|s| s.name_ref())
                .is_some_and(|n| n.text() == "Some" || n.text() == "Ok");
            let fields: Vec<ast::Pat> = t.fields().collect();
            wraps
                && matches!(fields.as_slice(), [ast::Pat::IdentPat(p)] if p.name().is_some_and(|n| n.text() == name))
        }
        _ => false,
    };
    let closer = |scope: &SyntaxNode| {
        binding.is_none_or(|b| !scope.text_range().contains_range(b.syntax().text_range()))
    };
    for ancestor in node.ancestors() {
        if ast::Fn::can_cast(ancestor.kind()) || ast::ClosureExpr::can_cast(ancestor.kind()) {
            return None;
        }
        if let Some(arm) = ast::MatchArm::cast(ancestor.clone()) {
            let body = arm
                .expr()
                .filter(|e| e.syntax().text_range().contains_range(node.text_range()));
            if let Some(body) = body
                && holds(arm.pat())
                && closer(&ancestor)
            {
                let list = arm.syntax().parent()?;
                let scrutinee = ast::MatchExpr::cast(list.parent()?)?.expr()?;
                return Some((body.syntax().clone(), scrutinee));
            }
        }
        let (condition, body) = if let Some(i) = ast::IfExpr::cast(ancestor.clone()) {
            (i.condition(), i.then_branch())
        } else if let Some(w) = ast::WhileExpr::cast(ancestor.clone()) {
            (w.condition(), w.loop_body())
        } else {
            (None, None)
        };
        if let (Some(ast::Expr::LetExpr(condition)), Some(body)) = (condition, body)
            && body.syntax().text_range().contains_range(node.text_range())
            && holds(condition.pat())
            && closer(&ancestor)
        {
            return Some((body.syntax().clone(), condition.expr()?));
        }
    }
    None
}

/// Whether `e` leaves instead of yielding a value: `return`, `break`,
/// `continue`.
fn leaves(e: &ast::Expr) -> bool {
    matches!(
        e,
        ast::Expr::ReturnExpr(_) | ast::Expr::BreakExpr(_) | ast::Expr::ContinueExpr(_)
    )
}

/// Methods that take the value out of a `Result`/`Option` (or copy it)
/// and keep its type.
const UNWRAPPING: &[&str] = &["clone", "unwrap", "expect", "map_err", "context"];

/// `e` without `?`, parentheses and [`UNWRAPPING`] calls:
/// `make_endpoint(url).map_err(Error::from)?` is what `make_endpoint`
/// returns.
fn strip_try(mut e: ast::Expr) -> ast::Expr {
    loop {
        let next = match &e {
            ast::Expr::TryExpr(t) => t.expr(),
            ast::Expr::ParenExpr(p) => p.expr(),
            ast::Expr::MethodCallExpr(call)
                if call
                    .name_ref()
                    .is_some_and(|n| UNWRAPPING.contains(&n.text())) =>
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

/// The function around `node` and the index of its parameter `name` (`self`
/// not counted).
fn parameter(node: &SyntaxNode, name: &str) -> Option<(ast::Fn, usize)> {
    let function = node.ancestors().find_map(ast::Fn::cast)?;
    let index = function.param_list()?.params().position(|p| {
        matches!(p.pat(), Some(ast::Pat::IdentPat(i)) if i.name().is_some_and(|n| n.text() == name))
    })?;
    Some((function, index))
}

/// The parameter `name` of the function around `node`.
fn parameter_of(node: &SyntaxNode, name: &str) -> Option<ast::Param> {
    let (function, index) = parameter(node, name)?;
    function.param_list()?.params().nth(index)
}

/// The last `let` before `node`, in the function around it, whose tuple
/// pattern binds `name` (`let (channel, changes) = ..;`), with the place of
/// `name` in the tuple; `None` when another pattern binds `name` after it, or
/// it is assigned again.
fn tuple_binding(node: &SyntaxNode, name: &str) -> Option<(ast::LetStmt, usize)> {
    let at = node.text_range().start();
    let place = |binding: &ast::LetStmt| {
        match binding.pat()? {
        ast::Pat::TuplePat(tuple) => tuple.fields().position(|field| {
            matches!(field, ast::Pat::IdentPat(i) if i.name().is_some_and(|n| n.text() == name))
        }),
        _ => None,
    }
    };
    let (function, binding) = crate::locals::last_let_where(node, |b| place(b).is_some())?;
    let index = place(&binding)?;
    let after = binding.syntax().text_range().end();
    let between = |n: &SyntaxNode| {
        let start = n.text_range().start();
        start >= after && start < at
    };
    let rebound = function
        .descendants()
        .filter_map(ast::IdentPat::cast)
        .filter(|p| p.name().is_some_and(|n| n.text() == name))
        // The pattern of a `let` whose initializer holds `node` binds after it.
        .filter(|p| {
            !p.syntax()
                .ancestors()
                .find_map(ast::LetStmt::cast)
                .is_some_and(|l| l.syntax().text_range().contains(at))
        })
        .any(|p| between(p.syntax()));
    let assigned = function
        .descendants()
        .filter_map(ast::BinExpr::cast)
        .filter(|b| matches!(b.op_kind(), Some(ast::BinaryOp::Assignment { .. })))
        .any(|b| between(b.syntax()) && b.lhs().is_some_and(|l| l.syntax().text() == name));
    (!rebound && !assigned).then_some((binding, index))
}

/// The channel `name`, at `index` of the tuple `binding` binds: the first of
/// `Channel::balance_channel(n)`'s pair.
/// On tonic 0.12 its sender takes tower 0.4's `Change`, which knit's runtime
/// does not name: not routed there.
fn balanced(
    group: &Group,
    file: FileId,
    binding: &ast::LetStmt,
    index: usize,
    name: &str,
    out: &mut Vec<Connect>,
) -> Result<(), String> {
    let init = binding.initializer().map(strip);
    if let Some(ast::Expr::CallExpr(call)) = &init
        && index == 0
        && callee(call)
            .is_some_and(|(q, n)| q.as_deref() == Some("Channel") && n == "balance_channel")
    {
        if on_tonic_012(group, file) {
            return Err(
                "its channel is made by `Channel::balance_channel` on tonic 0.12, which knit routes on tonic 0.13 and later only".into(),
            );
        }
        out.push(Connect::new(
            file,
            call.syntax().text_range(),
            ConnectKind::Balance,
        ));
        return Ok(());
    }
    let from = init.map(|i| short(&i)).unwrap_or_default();
    Err(format!(
        "its channel `{name}` is bound in a tuple from `{from}`, which knit does not follow"
    ))
}

/// Whether the package of `file` asks for tonic 0.12 (or older): in its
/// manifest, or its workspace root's for `tonic.workspace = true`.
fn on_tonic_012(group: &Group, file: FileId) -> bool {
    use toml_edit::{DocumentMut, Item};
    let source = group.file(file);
    let package = &group.services[source.service].packages[source.package];
    let Ok(doc) = group.file(package.manifest).text.parse::<DocumentMut>() else {
        return false;
    };
    let Some(tonic) = doc.get("dependencies").and_then(|d| d.get("tonic")) else {
        return false;
    };
    let root = package
        .workspace
        .as_ref()
        .and_then(|(text, _)| text.parse::<DocumentMut>().ok());
    let inherited = root
        .as_ref()
        .and_then(|r| r.get("workspace")?.get("dependencies")?.get("tonic"));
    let declared: &Item = match tonic.get("workspace").and_then(Item::as_bool) {
        Some(true) => match inherited {
            Some(item) => item,
            None => return false,
        },
        _ => tonic,
    };
    let version = declared
        .as_str()
        .or_else(|| declared.get("version")?.as_str());
    version
        .and_then(crate::versions::lowest)
        .is_some_and(|v| v.major == 0 && v.minor <= 12)
}

/// Whose calls of a function are calls of it: by the path they are made by.
enum Owner {
    /// A free function: `f(x)`, `module::f(x)`.
    Free,
    /// An associated function of type `ty` (its name), without a trait.
    Inherent { ty: String },
    /// A method of trait `name`'s impl for type `ty`.
    Trait { name: String, ty: String },
}

impl Owner {
    fn of(function: &ast::Fn) -> Owner {
        let Some(imp) = function.syntax().ancestors().find_map(ast::Impl::cast) else {
            return Owner::Free;
        };
        let last = |ty: Option<ast::Type>| match ty {
            Some(ast::Type::PathType(p)) => p
                .path()
                .and_then(|p| p.segment()?.name_ref())
                .map(|n| n.text().to_string())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let ty = last(imp.self_ty());
        match imp.trait_() {
            Some(name) => Owner::Trait {
                name: last(Some(name)),
                ty,
            },
            None => Owner::Inherent { ty },
        }
    }

    /// Whether `path` (a call's, in file `at`) calls `function` of this owner:
    /// its qualifier, resolved through the file's `use`s, names the type, the
    /// trait, `Self` in an impl of the type or trait, or a type parameter the
    /// trait bounds.
    /// `function` is the function's file and range.
    fn is_called_by(
        &self,
        follower: &Follower,
        at: FileId,
        path: &ast::Path,
        function: (FileId, TextRange),
    ) -> bool {
        let qualifier = path.qualifier();
        match (self, qualifier) {
            // The one free function of the service by that name (in the
            // module the qualifier names).
            (Owner::Free, q) => {
                let name = path.segment().and_then(|s| s.name_ref());
                let name = name.map(|n| n.text().to_string()).unwrap_or_default();
                let q = q
                    .and_then(|q| q.segment()?.name_ref())
                    .map(|n| n.text().to_string());
                follower
                    .function(q.as_deref(), &name)
                    .is_some_and(|(file, f)| (file, f.syntax().text_range()) == function)
            }
            (_, None) => false,
            (Owner::Inherent { ty }, Some(q)) => named(follower, at, &q, ty, None),
            (Owner::Trait { name, ty }, Some(q)) => {
                // `<X as Trait>::f`.
                if let Some(ast::PathSegmentKind::Type { trait_ref, .. }) =
                    q.segment().and_then(|s| s.kind())
                {
                    return trait_ref
                        .and_then(|t| t.path())
                        .and_then(|p| follower.resolved_name(at, &p))
                        .is_some_and(|t| &t == name);
                }
                named(follower, at, &q, ty, Some(name))
                    || named(follower, at, &q, name, Some(name))
                    || bounded_by(follower, at, &q, name)
            }
        }
    }
}

/// Whether qualifier `q` (in file `at`) names the type `ty`: by its name,
/// `use`s followed, or `Self` inside an impl of `ty` (of trait `name` when
/// given, or inside that trait).
fn named(follower: &Follower, at: FileId, q: &ast::Path, ty: &str, name: Option<&str>) -> bool {
    if q.syntax().text() == "Self" {
        let Some(imp) = q.syntax().ancestors().find_map(ast::Impl::cast) else {
            return name.is_some_and(|name| {
                q.syntax()
                    .ancestors()
                    .find_map(ast::Trait::cast)
                    .and_then(|t| t.name())
                    .is_some_and(|n| n.text() == name)
            });
        };
        let self_ty = imp
            .self_ty()
            .map(|t| t.syntax().to_string())
            .unwrap_or_default();
        return self_ty
            .split('<')
            .next()
            .and_then(|s| s.rsplit("::").next())
            == Some(ty);
    }
    follower.resolved_name(at, q).is_some_and(|n| n == ty)
}

/// Whether `q` (in file `at`) is a type parameter of the items around it
/// that trait `name` bounds (`T: Trait`, `where T: Trait + Send`).
fn bounded_by(follower: &Follower, at: FileId, q: &ast::Path, name: &str) -> bool {
    let Some(param) = q.as_single_name_ref().map(|n| n.text().to_string()) else {
        return false;
    };
    let names_trait = |bounds: Option<ast::TypeBoundList>| {
        bounds.into_iter().flat_map(|b| b.bounds()).any(|bound| {
            bound
                .ty()
                .and_then(|t| match t {
                    ast::Type::PathType(p) => p.path(),
                    _ => None,
                })
                .and_then(|p| follower.resolved_name(at, &p))
                .is_some_and(|t| t == name)
        })
    };
    q.syntax().ancestors().any(|item| {
        let (generics, clause) = if let Some(f) = ast::Fn::cast(item.clone()) {
            (f.generic_param_list(), f.where_clause())
        } else if let Some(i) = ast::Impl::cast(item.clone()) {
            (i.generic_param_list(), i.where_clause())
        } else {
            return false;
        };
        let declared = generics
            .into_iter()
            .flat_map(|g| g.type_or_const_params())
            .any(|p| {
                matches!(p, ast::TypeOrConstParam::Type(t)
                if t.name().is_some_and(|n| n.text() == param) && names_trait(t.type_bound_list()))
            });
        declared
            || clause.into_iter().flat_map(|w| w.predicates()).any(|p| {
                p.ty().is_some_and(|t| t.syntax().text() == param.as_str())
                    && names_trait(p.type_bound_list())
            })
    })
}

/// The path a call is made by (`T::new_from_channel` of
/// `T::new_from_channel(channel)`).
fn called_path(call: &ast::CallExpr) -> Option<ast::Path> {
    match call.expr()? {
        ast::Expr::PathExpr(p) => p.path(),
        _ => None,
    }
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
