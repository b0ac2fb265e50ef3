//! How a provider serves its handler: as it is, through a stack, or where knit
//! cannot follow it.
//!
//! Inline calls reach the handler and the server's own interceptor
//! (`XServer::with_interceptor`), nothing else. A server handed straight to
//! tonic's router is served [`Served::AsIs`]. Whatever a provider puts between
//! its listener and its `XServer` — a wrapping service (`InterceptedService`,
//! `ServiceBuilder`, `tonic_web::enable`), tower layers, a server-wide
//! `timeout` — would be skipped by an inline call, and with it possibly the
//! callee's authentication: when the router it ends in is served by the
//! provider's entry (where knit hands it the host's listener), calls run
//! [`Served::Stacked`], in process through that whole server (the `bridged`
//! tier over in-memory connections). Anything else stays RPC, with the reason.
//! Encoding options set on the server apart from where it is made skip
//! nothing inline, but knit registers for bridged calls the server as made:
//! those calls go through the whole server ([`Served::Encoded`]).

use ra_ap_syntax::ast::{self, HasArgList, HasAttrs, HasGenericArgs, HasGenericParams, HasName};
use ra_ap_syntax::{AstNode, NodeOrToken, SyntaxKind, SyntaxNode, TextRange, TextSize};

use crate::model::{FileId, Group, ServiceId, SourceFile};

mod by_hand;

/// How a provider serves one of its servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Served {
    /// Handed straight to tonic's router, or to a hand-written hyper loop's
    /// connections with its requests as they come: inline calls skip nothing.
    AsIs,
    /// Through what an inline call would skip (the reason says what), to a
    /// router its entry serves: calls run through the whole server in process.
    Stacked(String),
    /// Handed to the router as is, with encoding options set apart from
    /// where the server is made (the reason says where): inline calls skip
    /// nothing (they encode nothing); bridged calls, encoded, go through the
    /// whole server as [`Served::Stacked`] ones do (`Ok`), or stay RPC where
    /// those could not (`Err`, the reason).
    Encoded(Result<String, String>),
    /// Where knit cannot follow it, or where a call in process would not be
    /// what the network gives (TLS client identity): calls stay RPC.
    Rpc(String),
}

/// The provider a check is about: its name (how messages show it), the
/// syntax of the file that builds its server, and what was found on the way.
struct Provider<'a> {
    name: &'a str,
    file: SyntaxNode,
    /// The group and the file, to follow `Server` through re-exports and
    /// servers into helper functions.
    group: &'a Group,
    id: FileId,
    /// The code the provider's entry covers: a router served elsewhere keeps
    /// a listener knit does not manage.
    entry: &'a [(FileId, TextRange)],
    /// The first thing on the way an inline call would skip.
    stacked: std::cell::RefCell<Option<String>>,
    /// The server's construction (`XServer::new(h)`), as followed.
    made: std::cell::RefCell<Option<SyntaxNode>>,
    /// The first encoding option set on the server apart from its
    /// construction's own chain ([`with_options`] does not reach it).
    encoded: std::cell::RefCell<Option<String>>,
    /// Whether the router is served outside the entry (in a helper function).
    outside_entry: std::cell::Cell<bool>,
    /// Whether the routes are served by axum (`into_axum_router`), on a
    /// listener knit does not manage.
    by_axum: std::cell::Cell<bool>,
    /// How many helper functions were followed into.
    helpers: std::cell::Cell<u32>,
    /// Macro arguments parsed on their own (`tokio::try_join!(..)`) that the
    /// server is followed through: their tree, and where its ranges are in
    /// the file less where they are in the tree.
    trees: std::cell::RefCell<Vec<(SyntaxNode, TextSize)>>,
    /// Where the router is served: the start, in the file, of the name of
    /// each `serve` call it reaches.
    serves: std::cell::RefCell<Vec<TextSize>>,
    /// Where a hand-written hyper loop serves it (`serve_connection`), if one does.
    by_hand: std::cell::RefCell<Option<String>>,
}

impl<'a> Provider<'a> {
    fn new(
        name: &'a str,
        file: SyntaxNode,
        group: &'a Group,
        id: FileId,
        entry: &'a [(FileId, TextRange)],
    ) -> Self {
        Provider {
            name,
            file,
            group,
            id,
            entry,
            stacked: Default::default(),
            made: Default::default(),
            encoded: Default::default(),
            outside_entry: Default::default(),
            by_axum: Default::default(),
            helpers: Default::default(),
            trees: Default::default(),
            serves: Default::default(),
            by_hand: Default::default(),
        }
    }

    /// Notes something on the server's way that inline calls would skip.
    fn stack(&self, reason: String) {
        self.stacked.borrow_mut().get_or_insert(reason);
    }

    /// Notes `call` (`router.serve(addr)`) as where the router is served.
    fn served_by(&self, call: &ast::MethodCallExpr) {
        let Some(name) = call.name_ref() else {
            return;
        };
        let start = name.syntax().text_range().start();
        let root = call.syntax().ancestors().last();
        let shift = match root {
            Some(root) if root == self.file => 0.into(),
            Some(root) => {
                let trees = self.trees.borrow();
                match trees.iter().find(|(tree, _)| *tree == root) {
                    Some((_, shift)) => *shift,
                    // Not found in the file: the entry is not told.
                    None => return,
                }
            }
            None => return,
        };
        let at = start + shift;
        let mut serves = self.serves.borrow_mut();
        if !serves.contains(&at) {
            serves.push(at);
        }
    }
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

/// How the server built by the call at `call` in file `id` (`XServer::new(h)`)
/// is served by `provider` (an index of `group`), whose entry covers `entry`.
pub fn serving(
    group: &Group,
    provider: ServiceId,
    id: FileId,
    call: TextRange,
    entry: &[(FileId, TextRange)],
) -> Served {
    followed(group, provider, id, call, entry).0
}

/// Where the server built at `call` (as for [`serving`]) is served when it
/// runs [`Served::Stacked`] and its entry serves several routers: the start,
/// in file `id`, of the name of each `serve` call its router reaches, whose
/// listener must take its in-memory calls. Empty otherwise: the one router's
/// listener takes them.
pub fn stacked_serves(
    group: &Group,
    provider: ServiceId,
    id: FileId,
    call: TextRange,
    entry: &[(FileId, TextRange)],
) -> Vec<TextSize> {
    match followed(group, provider, id, call, entry) {
        (Served::Stacked(_) | Served::Encoded(Ok(_)), serves) => serves,
        _ => Vec::new(),
    }
}

/// [`serving`], with [`stacked_serves`].
fn followed(
    group: &Group,
    provider: ServiceId,
    id: FileId,
    call: TextRange,
    entry: &[(FileId, TextRange)],
) -> (Served, Vec<TextSize>) {
    let name = group.services[provider].name.as_str();
    let file = group.file(id);
    let (Some((server, macro_shift)), Some(rust)) = (expr_at(file, call), file.rust.as_ref())
    else {
        return (
            Served::Rpc(format!(
                "`{name}` builds its server where knit cannot follow it"
            )),
            Vec::new(),
        );
    };
    let provider = Provider::new(name, rust.tree().syntax().clone(), group, id, entry);
    *provider.made.borrow_mut() = Some(server.syntax().clone());
    if let Some(root) = server.syntax().ancestors().last() {
        provider.trees.borrow_mut().push((root, macro_shift));
    }
    let served = match paired(&server) {
        Some((binding, ast::Pat::IdentPat(pat))) if pat.name().is_some() => {
            let name = pat.name().map(|n| n.text().to_string()).unwrap_or_default();
            match binding.syntax().parent() {
                Some(block) => {
                    let after = binding.syntax().text_range().end();
                    uses_of(&block, &name, after, Value::Server, &provider)
                }
                None => Err(format!(
                    "`{name}` serves its server where knit cannot follow it"
                )),
            }
        }
        Some(_) => Err(format!(
            "`{name}` keeps the server its API crate builds (`{}`) in a pattern knit cannot follow",
            excerpt(server.syntax())
        )),
        None => follow(server.syntax(), Value::Server, &provider),
    };
    if let Err(reason) = served {
        return (Served::Rpc(reason), Vec::new());
    }
    let stacked = provider.stacked.borrow_mut().take();
    let encoded = provider.encoded.borrow_mut().take();
    match (stacked, encoded) {
        (None, None) => (Served::AsIs, Vec::new()),
        (Some(reason), _) => through_whole_server(&provider, reason),
        (None, Some(reason)) => match through_whole_server(&provider, reason) {
            (Served::Stacked(reason), serves) => (Served::Encoded(Ok(reason)), serves),
            (Served::Rpc(reason), _) => (Served::Encoded(Err(reason)), Vec::new()),
            other => other,
        },
    }
}

/// How calls that must go through the provider's whole server for `reason`
/// reach it: [`Served::Stacked`] with the `serve` calls whose listeners take
/// them (see [`stacked_serves`]), or [`Served::Rpc`] where knit does not
/// manage that listener.
fn through_whole_server(provider: &Provider, reason: String) -> (Served, Vec<TextSize>) {
    let serves = provider.serves.take();
    // A hand-written hyper loop serves on a listener knit does not manage.
    if let Some(by_hand) = provider.by_hand.take() {
        return (
            Served::Rpc(format!(
                "{reason}, and serves it from a hand-written hyper loop (`{by_hand}`): calls cannot reach that stack in process"
            )),
            Vec::new(),
        );
    }
    if provider.by_axum.get() {
        return (
            Served::Rpc(format!(
                "{reason}, and serves its routes through axum (`into_axum_router`), on a listener knit does not manage: calls cannot reach that stack in process"
            )),
            Vec::new(),
        );
    }
    if provider.outside_entry.get() {
        return (
            Served::Rpc(format!(
                "{reason}, and serves it outside its entry, on a listener knit does not manage: calls cannot reach that stack in process"
            )),
            Vec::new(),
        );
    }
    // Counted only here: most servers are not stacked.
    match (routers(provider) > 1, serves.is_empty()) {
        (true, true) => (
            Served::Rpc(format!(
                "{reason}, and serves several routers in its entry: knit does not find the `serve` call of this one's, whose listener would reach its stack"
            )),
            Vec::new(),
        ),
        (true, false) => (Served::Stacked(reason), serves),
        (false, _) => (Served::Stacked(reason), Vec::new()),
    }
}

/// How many routers the provider's entry serves (`.serve(`,
/// `.serve_with_shutdown(`, and on incoming streams of its own): with more
/// than one, the entry names the stacked services of each router's listener
/// ([`stacked_serves`]).
fn routers(provider: &Provider) -> usize {
    const SERVES: [&str; 4] = [
        ".serve(",
        ".serve_with_shutdown(",
        ".serve_with_incoming(",
        ".serve_with_incoming_shutdown(",
    ];
    let group = provider.group;
    provider
        .entry
        .iter()
        .map(|(file, range)| {
            let source = group.file(*file);
            let text = &source.text[*range];
            let at: Vec<usize> = SERVES
                .iter()
                .flat_map(|serve| text.match_indices(serve).map(|(i, _)| i + 1))
                .collect();
            if at.is_empty() {
                return 0;
            }
            // A method of that name on what is not a tonic router (the
            // service's own `app.serve()`) serves no router.
            let Some(rust) = source.rust.as_ref() else {
                return at.len();
            };
            let tree = rust.tree();
            at.iter()
                .filter(|&&i| {
                    let offset = range.start() + TextSize::from(i as u32);
                    let call = tree
                        .syntax()
                        .token_at_offset(offset)
                        .right_biased()
                        .and_then(|t| t.parent_ancestors().find_map(ast::MethodCallExpr::cast));
                    call.is_none_or(|c| crate::router::serves_a_tonic_router(c.receiver()))
                })
                .count()
        })
        .sum()
}

/// tonic's serves of a router on an incoming stream the provider brings.
const OWN_INCOMING_SERVES: &[&str] = &["serve_with_incoming", "serve_with_incoming_shutdown"];

/// Types whose connections are plain streams, TCP or a Unix socket's, that
/// nothing authenticates on the way: tonic's `TcpIncoming` and tokio-stream's
/// `TcpListenerStream` and `UnixListenerStream` (of a `tokio::net` listener).
const PLAIN_INCOMING: &[&str] = &["TcpIncoming", "TcpListenerStream", "UnixListenerStream"];

/// Methods of tonic's `TcpIncoming` that set socket options, and those that
/// take the value out of a `Result`.
const INCOMING_OPTIONS: &[&str] = &[
    "with_nodelay",
    "with_keepalive",
    "with_keepalive_interval",
    "with_keepalive_retries",
    "unwrap",
    "expect",
];

/// Whether the serve `call` (`router.serve_with_incoming(theirs)`), in file
/// `id` of `provider` (an index of `group`), serves on a plain listener
/// of the service's own ([`plain_incoming`]): the entry then hands its
/// router the group's in-memory connections beside theirs.
pub fn serves_on_plain_incoming(
    group: &Group,
    provider: ServiceId,
    id: FileId,
    call: &ast::MethodCallExpr,
) -> bool {
    let Some(rust) = group.file(id).rust.as_ref() else {
        return false;
    };
    let name = group.services[provider].name.as_str();
    let provider = Provider::new(name, rust.tree().syntax().clone(), group, id, &[]);
    method_is(call, OWN_INCOMING_SERVES)
        && plain_incoming(call.arg_list().and_then(|a| a.args().next()), &provider).is_ok()
}

/// Ok when `theirs`, the incoming stream a router is served on, is made on a
/// plain listener: `TcpIncoming::bind(addr)` (socket options and `?`
/// kept), `TcpListenerStream::new(listener)`, `UnixListenerStream::new(uds)`, a function of the service's
/// code that returns one of those types ([`PLAIN_INCOMING`], alone or in a
/// `Result`), through `let`s, or a parameter or `let` of such a type. A
/// stream knit does not follow there (a TLS acceptor's) stays RPC: a call in
/// process would skip what it authenticates.
fn plain_incoming(theirs: Option<ast::Expr>, provider: &Provider) -> Result<(), String> {
    let unfollowed = |node: &SyntaxNode| {
        format!(
            "`{provider}` serves its router on connections of its own (`{}`) that knit does not follow to a plain listener (`TcpIncoming`, `TcpListenerStream`, `UnixListenerStream`): in-process calls would skip what may authenticate callers there (a TLS acceptor)",
            excerpt(node)
        )
    };
    let mut expr = theirs.ok_or_else(|| {
        format!("`{provider}` serves its router on connections knit cannot follow")
    })?;
    // Bounded: `let`s may refer to each other only backwards, but a walk of
    // many steps is not a listener knit can vouch for.
    for _ in 0..16 {
        expr = match &expr {
            ast::Expr::ParenExpr(paren) => paren.expr(),
            ast::Expr::TryExpr(tried) => tried.expr(),
            ast::Expr::MethodCallExpr(call) if method_is(call, INCOMING_OPTIONS) => call.receiver(),
            ast::Expr::CallExpr(call) => {
                let path = segments(call);
                if let [.., ty, _] = path.as_slice()
                    && PLAIN_INCOMING.contains(&ty.as_str())
                {
                    return Ok(());
                }
                let returns =
                    functions_called(call, provider).and_then(|found| match found.as_slice() {
                        [(_, function)] => function.ret_type().and_then(|r| r.ty()),
                        _ => None,
                    });
                return match returns {
                    Some(ty) if plain_type(&ty) => Ok(()),
                    _ => Err(unfollowed(call.syntax())),
                };
            }
            ast::Expr::PathExpr(path) => {
                let name = path.syntax().text().to_string();
                if let Some(ty) = param_type(path.syntax(), &name) {
                    return match plain_type(&ty) {
                        true => Ok(()),
                        false => Err(unfollowed(path.syntax())),
                    };
                }
                let binding = crate::locals::binding(path.syntax(), &name)
                    .filter(|b| !crate::locals::changed(b))
                    .ok_or_else(|| unfollowed(path.syntax()))?;
                if binding.ty().is_some_and(|ty| plain_type(&ty)) {
                    return Ok(());
                }
                binding.initializer()
            }
            other => return Err(unfollowed(other.syntax())),
        }
        .ok_or_else(|| unfollowed(expr.syntax()))?;
    }
    Err(unfollowed(expr.syntax()))
}

/// Whether `ty` is a plain incoming stream ([`PLAIN_INCOMING`]), alone
/// or as the value of a `Result` (`io::Result<TcpIncoming>`,
/// `Result<TcpIncoming, Error>`).
fn plain_type(ty: &ast::Type) -> bool {
    let ast::Type::PathType(path) = ty else {
        return false;
    };
    let Some(segment) = path.path().and_then(|p| p.segment()) else {
        return false;
    };
    let name = segment
        .name_ref()
        .map(|n| n.text().to_string())
        .unwrap_or_default();
    if PLAIN_INCOMING.contains(&name.as_str()) {
        return segment.generic_arg_list().is_none();
    }
    name == "Result"
        && segment
            .generic_arg_list()
            .and_then(|args| args.generic_args().next())
            .is_some_and(|arg| match arg {
                ast::GenericArg::TypeArg(arg) => arg.ty().is_some_and(|ty| plain_type(&ty)),
                _ => false,
            })
}

/// The declared type of the parameter `name` of the function around `node`,
/// when `name` is one of its parameters (and no `let` rebinds it).
fn param_type(node: &SyntaxNode, name: &str) -> Option<ast::Type> {
    let function = node.ancestors().find_map(ast::Fn::cast)?;
    let param = function.param_list()?.params().find(|p| {
        matches!(p.pat(), Some(ast::Pat::IdentPat(pat)) if pat.name().is_some_and(|n| n.text() == name))
    })?;
    let rebound = function
        .syntax()
        .descendants()
        .filter_map(ast::IdentPat::cast)
        .filter(|p| p.name().is_some_and(|n| n.text() == name))
        .count()
        > 1;
    (!rebound).then(|| param.ty()).flatten()
}

/// Methods that take a server type for its name only (`NamedService::NAME`):
/// `tonic_health`'s `HealthReporter::set_serving::<XServer<H>>()`.
const NAME_ONLY: &[&str] = &["set_serving", "set_not_serving"];

/// Whether the type at `range` of `file` names a server without making or
/// serving one: a generic argument of a method that uses the type's name only
/// ([`NAME_ONLY`]), a function's parameter or return type (the server
/// passed is followed from where it is made), or a `let`'s annotation (the
/// server is followed from its value).
pub fn type_only(file: &SourceFile, range: TextRange) -> bool {
    let Some(rust) = &file.rust else {
        return false;
    };
    let Some(node) = covering_node(&rust.tree(), range) else {
        return false;
    };
    let named = node
        .ancestors()
        .find_map(ast::GenericArgList::cast)
        .and_then(|args| args.syntax().parent())
        .and_then(ast::MethodCallExpr::cast)
        .is_some_and(|call| method_is(&call, NAME_ONLY));
    let signature = node
        .ancestors()
        .take_while(|n| !ast::Fn::can_cast(n.kind()))
        .any(|n| ast::ParamList::can_cast(n.kind()) || ast::RetType::can_cast(n.kind()));
    // A `let`'s type annotation (`let svc: XServer<H> = ..;`, `let (r, h):
    // (HealthReporter, HealthServer<_>) = ..;`).
    let annotation = node
        .ancestors()
        .find_map(ast::LetStmt::cast)
        .and_then(|binding| binding.ty())
        .is_some_and(|ty| ty.syntax().text_range().contains_range(range));
    named || signature || annotation
}

/// The `let` of the pair a function of an API crate returns with the server
/// it builds, and the pattern the server is bound to: `let (reporter,
/// health) = tonic_health::server::health_reporter();`.
///
/// A server construction that initializes a `let` of a pair can only be such
/// a function's (a generated `XServer` is no pair), by whatever name the file
/// calls it.
fn paired(call: &ast::Expr) -> Option<(ast::LetStmt, ast::Pat)> {
    let ast::Expr::CallExpr(made) = call else {
        return None;
    };
    let binding = made.syntax().parent().and_then(ast::LetStmt::cast)?;
    let Some(ast::Pat::TuplePat(pair)) = binding.pat() else {
        return None;
    };
    let mut fields = pair.fields();
    match (fields.next(), fields.next(), fields.next()) {
        (Some(_), Some(server), None) => Some((binding, server)),
        _ => None,
    }
}

/// Whether the call at `range` of `file` builds a server only to drop it:
/// `let (reporter, _) = tonic_health::server::health_reporter();` (or `..`,
/// or a name starting with `_`).
pub fn builds_no_server(file: &SourceFile, range: TextRange) -> bool {
    let dropped = |pat: &ast::Pat| match pat {
        ast::Pat::WildcardPat(_) | ast::Pat::RestPat(_) => true,
        ast::Pat::IdentPat(pat) => pat.name().is_some_and(|n| n.text().starts_with('_')),
        _ => false,
    };
    expr_at(file, range)
        .and_then(|(expr, _)| paired(&expr))
        .is_some_and(|(_, server)| dropped(&server))
}

/// The generated server's construction at `range` of `file` with the
/// encoding options applied to it there (`XServer::new(h)
/// .max_decoding_message_size(n)`): what a bridged caller's messages meet,
/// so what knit registers for them.
pub fn with_options(file: &SourceFile, range: TextRange) -> TextRange {
    let Some((expr, shift)) = expr_at(file, range) else {
        return range;
    };
    let mut node = expr.syntax().clone();
    while let Some(call) = node.parent().and_then(ast::MethodCallExpr::cast) {
        let option = method_is(&call, SERVER_OPTIONS) && !method_is(&call, &["clone"]);
        if !option || !call.receiver().is_some_and(|r| r.syntax() == &node) {
            break;
        }
        node = call.syntax().clone();
    }
    node.text_range() + shift
}

/// Whether the encoding option `call` is set in the server's construction's
/// own chain (`XServer::new(h).max_decoding_message_size(n)`), where
/// [`with_options`] takes it into what knit registers.
fn on_construction(call: &ast::MethodCallExpr, provider: &Provider) -> bool {
    let mut receiver = call.receiver();
    while let Some(ast::Expr::MethodCallExpr(inner)) = &receiver
        && method_is(inner, SERVER_OPTIONS)
        && !method_is(inner, &["clone"])
    {
        receiver = inner.receiver();
    }
    let made = provider.made.borrow();
    receiver.is_some_and(|r| made.as_ref() == Some(r.syntax()))
}

/// The expression at `range` of `file`, parsed from a macro's tokens when it
/// is inside a macro call (`tokio::join!(..)`).
fn expr_at(file: &SourceFile, range: TextRange) -> Option<(ast::Expr, TextSize)> {
    let tree = file.rust.as_ref()?.tree();
    if let Some(expr) = crate::channels::expr_at(&tree, range) {
        return Some((expr, 0.into()));
    }
    let tokens = covering_node(&tree, range)?
        .ancestors()
        .find_map(ast::MacroCall::cast)?
        .token_tree()?;
    let args = crate::names::MacroArgs::parse(&tokens)?;
    let local = range.checked_sub(args.shift)?;
    let syntax = args.tree.syntax().clone();
    let expr = syntax
        .descendants()
        .filter(|n| n.text_range() == local)
        .find_map(ast::Expr::cast)?;
    Some((expr, args.shift))
}

/// The smallest node of `tree` that covers `range`.
pub(crate) fn covering_node(tree: &ast::SourceFile, range: TextRange) -> Option<SyntaxNode> {
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
    /// A router already followed to where it is served (the routes a
    /// `RoutesBuilder` builds).
    Built,
    /// A hyper service that hands the server its requests as they come:
    /// `TowerToHyperService::new(server)`, or hyper's `service_fn` over a
    /// closure that calls it ([`called_by_hand`]).
    Hyper,
}

/// Methods of tonic's `Routes` that return the routes with one more service.
const ROUTES_METHODS: &[&str] = &["add_service", "add_optional_service", "clone"];

/// Ok when `value` (the expression `node`) reaches a `Server::builder()`
/// router as it is: passed through only methods that keep it what it is
/// ([`SERVER_OPTIONS`], [`ROUTES_METHODS`]), `Some(..)`, parentheses and `let`s.
fn follow(node: &SyntaxNode, value: Value, provider: &Provider) -> Result<(), String> {
    let kept = match value {
        Value::Server => SERVER_OPTIONS,
        Value::Routes | Value::Built => ROUTES_METHODS,
        Value::Hyper => &["clone"],
    };
    let mut node = node.clone();
    loop {
        let parent = node
            .parent()
            .ok_or_else(|| format!("`{provider}` serves its server where knit cannot follow it"))?;
        if let Some(call) = ast::MethodCallExpr::cast(parent.clone())
            && call.receiver().is_some_and(|r| r.syntax() == &node)
        {
            if method_is(&call, kept) {
                if value == Value::Server
                    && !method_is(&call, &["clone"])
                    && !on_construction(&call, provider)
                {
                    provider.encoded.borrow_mut().get_or_insert_with(|| {
                        format!(
                            "`{provider}` sets an encoding option on its server apart from where it builds it (`{}`), which bridged calls go through",
                            excerpt(call.syntax())
                        )
                    });
                }
                node = parent;
                continue;
            }
            if matches!(value, Value::Routes | Value::Built)
                && method_is(&call, &["into_axum_router"])
            {
                provider.by_axum.set(true);
                return axum_served(parent, provider, 0);
            }
            if value == Value::Server && method_is(&call, &["call"]) {
                return by_hand::called_by_hand(&call, provider);
            }
        }
        if ast::ParenExpr::can_cast(parent.kind()) || ast::AwaitExpr::can_cast(parent.kind()) {
            node = parent;
            continue;
        }
        // `async move { service_fn(..) }.await`: the block's value.
        if value == Value::Hyper
            && let Some(list) = ast::StmtList::cast(parent.clone())
            && list.tail_expr().is_some_and(|tail| tail.syntax() == &node)
            && let Some(block) = list.syntax().parent()
        {
            node = block;
            continue;
        }
        if let Some(tuple) = ast::TupleExpr::cast(parent.clone())
            && let Some(binding) = tuple.syntax().parent().and_then(ast::LetStmt::cast)
        {
            return in_tuple(&tuple, &binding, &node, value, provider);
        }
        if let Some(list) = ast::ArgList::cast(parent.clone()) {
            if let Some(some) = list.syntax().parent().and_then(ast::CallExpr::cast)
                && segments(&some).as_slice() == ["Some"]
            {
                node = some.syntax().clone();
                continue;
            }
            return handed_to(&list, &node, value, provider);
        }
        if let Some(binding) = ast::LetStmt::cast(parent.clone()) {
            return bound(&binding, value, provider);
        }
        if ast::ExprStmt::can_cast(parent.kind()) || ast::StmtList::can_cast(parent.kind()) {
            // A wrapper's result dropped: what it did with the server is unseen.
            return Err(format!(
                "`{provider}` hands its server to `{}`, which knit does not follow to tonic's router",
                called(&node)
            ));
        }
        return Err(format!(
            "`{provider}` passes its server on through `{}`, which knit does not follow to tonic's router: in-process calls could skip what it goes through",
            called(&parent)
        ));
    }
}

/// Methods of axum's `Router` that add routes, a fallback or state, or make
/// its service: a call to a gRPC service of the routes meets none of them.
const AXUM_KEPT: &[&str] = &[
    "fallback",
    "fallback_service",
    "into_make_service",
    "into_make_service_with_connect_info",
    "merge",
    "nest",
    "nest_service",
    "route",
    "route_service",
    "with_state",
];

/// Ok when the axum router `node` (tonic's routes, `into_axum_router()`) is
/// served by `axum::serve(listener, router)` with nothing a call to its gRPC
/// services meets on the way: through [`AXUM_KEPT`] methods, merged or
/// nested into another router (which is followed in turn), `let`s (every
/// use, `#[cfg]` ones included), block tails and `if` branches. A layer
/// (`.layer(..)`, `.route_layer(..)`, but one that only observes) would be
/// skipped by a call in process: the calls stay RPC. `depth` bounds the
/// `let`s followed.
fn axum_served(mut node: SyntaxNode, provider: &Provider, depth: u32) -> Result<(), String> {
    let unfollowed = |node: &SyntaxNode| {
        format!(
            "`{provider}` serves its routes through axum (`into_axum_router`), and hands that router on where knit does not follow it (`{}`)",
            excerpt(node)
        )
    };
    loop {
        let parent = node.parent().ok_or_else(|| unfollowed(&node))?;
        let branch = ast::IfExpr::cast(parent.clone()).is_some_and(|branches| {
            let of = |b: Option<ast::BlockExpr>| b.is_some_and(|b| b.syntax() == &node);
            of(branches.then_branch())
                || matches!(branches.else_branch(), Some(ast::ElseBranch::Block(b)) if b.syntax() == &node)
        });
        if ast::ParenExpr::can_cast(parent.kind()) || branch {
            node = parent;
            continue;
        }
        if let Some(list) = ast::StmtList::cast(parent.clone())
            && list.tail_expr().is_some_and(|tail| tail.syntax() == &node)
            && let Some(block) = list.syntax().parent()
        {
            node = block;
            continue;
        }
        if let Some(call) = ast::MethodCallExpr::cast(parent.clone())
            && call.receiver().is_some_and(|r| r.syntax() == &node)
        {
            if method_is(&call, AXUM_KEPT) || observes_only(&call) {
                node = parent;
                continue;
            }
            if method_is(&call, &["layer", "route_layer"]) {
                return Err(format!(
                    "`{provider}` serves its routes through axum (`into_axum_router`) and puts a layer on that router (`{}`): a call in process would skip it",
                    excerpt(&parent)
                ));
            }
            return Err(unfollowed(&parent));
        }
        if let Some(list) = ast::ArgList::cast(parent.clone()) {
            let owner = list.syntax().parent();
            // Merged or nested into another router: that router is served.
            if let Some(call) = owner.clone().and_then(ast::MethodCallExpr::cast)
                && method_is(&call, &["merge", "nest"])
            {
                node = call.syntax().clone();
                continue;
            }
            if let Some(call) = owner.clone().and_then(ast::CallExpr::cast)
                && segments(&call).as_slice() == ["axum", "serve"]
            {
                return Ok(());
            }
            return Err(unfollowed(owner.as_ref().unwrap_or(&parent)));
        }
        if let Some(binding) = ast::LetStmt::cast(parent.clone()) {
            let name = match binding.pat() {
                Some(ast::Pat::IdentPat(pat)) if !crate::locals::changed(&binding) => {
                    pat.name().map(|n| n.text().to_string())
                }
                _ => None,
            };
            let (Some(name), Some(block)) = (name, binding.syntax().parent()) else {
                return Err(unfollowed(&parent));
            };
            if depth > 8 {
                return Err(unfollowed(&parent));
            }
            let uses = uses_after(&binding, &block, &name);
            if uses.is_empty() {
                return Err(format!(
                    "`{provider}` keeps the axum router of its routes in `{name}`, and knit sees no use of it"
                ));
            }
            for path in uses {
                axum_served(path.syntax().clone(), provider, depth + 1)?;
            }
            return Ok(());
        }
        return Err(unfollowed(&parent));
    }
}

/// Ok when the call whose arguments are `list` adds `value` to tonic's
/// router: the server to `add_service` of a router chain or to `Routes`
/// (which are followed in turn), the routes to `add_routes`.
fn handed_to(
    list: &ast::ArgList,
    arg: &SyntaxNode,
    value: Value,
    provider: &Provider,
) -> Result<(), String> {
    let owner = list.syntax().parent();
    // Served by hyper itself, in a hand-written accept loop.
    if matches!(value, Value::Server | Value::Hyper)
        && let Some(served) = by_hand::served_by_hyper(list, arg, value, provider)
    {
        return served;
    }
    let adds = match value {
        Value::Server => &["add_service", "add_optional_service"][..],
        Value::Routes | Value::Built => &["add_routes"][..],
        Value::Hyper => &[][..],
    };
    if let Some(call) = owner.clone().and_then(ast::MethodCallExpr::cast)
        && method_is(&call, adds)
    {
        return match router_chain(call.receiver(), provider)? {
            Value::Server => served_on_a_socket(&call, provider),
            Value::Routes => follow(call.syntax(), Value::Routes, provider),
            Value::Built => Ok(()),
            Value::Hyper => Err(format!(
                "`{provider}` hands its server to a router as a hyper service, which knit does not follow"
            )),
        };
    }
    if let Some(call) = owner.clone().and_then(ast::CallExpr::cast)
        && value == Value::Server
        && segments(&call).ends_with(&["Routes".to_string(), "new".to_string()])
    {
        return follow(call.syntax(), Value::Routes, provider);
    }
    let Some(owner) = owner.filter(|_| value == Value::Server) else {
        return Err(format!(
            "`{provider}` hands its routes to `{}` rather than to tonic's router",
            list.syntax()
                .parent()
                .map(|o| called(&o))
                .unwrap_or_default()
        ));
    };
    // A function of the provider's own that takes the server (`serve(addr,
    // svc)`): its body is followed from the parameter.
    if let Some(call) = ast::CallExpr::cast(owner.clone())
        && let Some(followed) = into_helper(&call, list, arg, provider)
    {
        return followed;
    }
    // Something that wraps the server (`InterceptedService::new(svc, f)`,
    // `ServiceBuilder::new()..service(svc)`, `tonic_web::enable(svc)`) is
    // followed as the server it makes: calls then run through it.
    provider.stack(format!(
        "`{provider}` hands its server to `{}` on its way to being served",
        called(&owner)
    ));
    follow(&owner, Value::Server, provider)
}

/// Follows the server into the body of the function `call` calls, when the
/// provider's file defines it (`async fn serve(addr, svc: XServer<H>)`), from
/// the parameter the server is passed as (`arg` of `list`); `None` when it is
/// not such a call.
fn into_helper(
    call: &ast::CallExpr,
    list: &ast::ArgList,
    arg: &SyntaxNode,
    provider: &Provider,
) -> Option<Result<(), String>> {
    let [name]: [String; 1] = segments(call).try_into().ok()?;
    // Bounded: a function may call itself.
    if provider.helpers.replace(provider.helpers.get() + 1) > 8 {
        return None;
    }
    let function = provider
        .file
        .descendants()
        .filter_map(ast::Fn::cast)
        .find(|f| f.name().is_some_and(|n| n.text() == name.as_str()))?;
    let unfollowed =
        || format!("`{provider}` hands its server to `{name}(..)`, where knit cannot follow it");
    let index = list.args().position(|a| a.syntax() == arg)?;
    let param = function.param_list()?.params().nth(index);
    let Some(ast::Pat::IdentPat(pat)) = param.and_then(|p| p.pat()) else {
        return Some(Err(unfollowed()));
    };
    let (Some(param), Some(body)) = (pat.name(), function.body().and_then(|b| b.stmt_list()))
    else {
        return Some(Err(unfollowed()));
    };
    let in_entry = provider.entry.iter().any(|(file, range)| {
        *file == provider.id && range.contains_range(function.syntax().text_range())
    });
    if !in_entry {
        provider.outside_entry.set(true);
    }
    let start = body.syntax().text_range().start();
    Some(uses_of(
        body.syntax(),
        param.text(),
        start,
        Value::Server,
        provider,
    ))
}

/// Ok when the router `call` makes (`Server::builder()..add_service(..)`) is
/// served with `serve` or `serve_with_shutdown` after more services at most,
/// or on a plain listener (TCP or a Unix socket) of the provider's own (`serve_with_incoming`,
/// [`plain_incoming`]): not turned into a service knit cannot follow
/// (`into_service`, `into_router`), nor served on connections knit cannot
/// follow to a listener (where a TLS acceptor may authenticate callers).
fn served_on_a_socket(call: &ast::MethodCallExpr, provider: &Provider) -> Result<(), String> {
    router_served(call.syntax().clone(), provider)
}

/// Follows `item` of `tuple`, the value of the `let` `binding` of a tuple
/// pattern (`let (grpc, desk) = (grpc.clone(), desk.clone());`), as the
/// variable it binds there.
fn in_tuple(
    tuple: &ast::TupleExpr,
    binding: &ast::LetStmt,
    item: &SyntaxNode,
    value: Value,
    provider: &Provider,
) -> Result<(), String> {
    let unfollowed = || format!("`{provider}` keeps its server in a tuple knit cannot follow");
    let index = tuple
        .fields()
        .position(|f| f.syntax() == item)
        .ok_or_else(unfollowed)?;
    let Some(ast::Pat::TuplePat(pats)) = binding.pat() else {
        return Err(unfollowed());
    };
    // `..` shifts the places; `#[cfg]` may compile the `let` out.
    let rest = pats.fields().any(|p| matches!(p, ast::Pat::RestPat(_)));
    if rest || binding.attrs().next().is_some() || pats.fields().count() != tuple.fields().count() {
        return Err(unfollowed());
    }
    let Some(ast::Pat::IdentPat(pat)) = pats.fields().nth(index) else {
        return Err(unfollowed());
    };
    let (Some(name), Some(block)) = (pat.name(), binding.syntax().parent()) else {
        return Err(unfollowed());
    };
    let after = binding.syntax().text_range().end();
    uses_of(&block, name.text(), after, value, provider)
}

/// [`served_on_a_socket`] from the router expression `node`, through a `let`
/// that keeps the router (`let grpc = Server::builder()..add_service(..);
/// grpc.serve_with_shutdown(addr, signal).await`): every use of the variable
/// is served so.
fn router_served(mut node: SyntaxNode, provider: &Provider) -> Result<(), String> {
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
            provider.served_by(&next);
            return Ok(());
        }
        if method_is(&next, OWN_INCOMING_SERVES) {
            let theirs = next.arg_list().and_then(|args| args.args().next());
            plain_incoming(theirs, provider)?;
            provider.served_by(&next);
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
    if let Some(binding) = node.parent().and_then(ast::LetStmt::cast) {
        let name = match binding.pat() {
            Some(ast::Pat::IdentPat(pat)) if !crate::locals::changed(&binding) => {
                pat.name().map(|n| n.text().to_string())
            }
            _ => None,
        };
        if let (Some(name), Some(block)) = (name, binding.syntax().parent()) {
            let uses = uses_after(&binding, &block, &name);
            if uses.is_empty() {
                return Err(format!(
                    "`{provider}` keeps its router in `{name}`, and knit sees no use of it"
                ));
            }
            for path in uses {
                router_served(path.syntax().clone(), provider)?;
            }
            return Ok(());
        }
    }
    Err(format!(
        "`{provider}` serves its router where knit cannot follow it (`{}`)",
        excerpt(&node)
    ))
}

/// The uses of `name` in `block` after `binding` that may be the variable it
/// binds ([`may_refer_to`]).
fn uses_after(binding: &ast::LetStmt, block: &SyntaxNode, name: &str) -> Vec<ast::PathExpr> {
    let after = binding.syntax().text_range().end();
    block
        .descendants()
        .filter_map(ast::PathExpr::cast)
        .filter(|p| p.syntax().text_range().start() >= after)
        .filter(|p| p.syntax().text() == name)
        .filter(|p| may_refer_to(p.syntax(), name, binding))
        .collect()
}

/// Whether the use of `name` at `node` may be the variable `binding`
/// introduces: no `let` of `name` between them shadows it for sure (a `let`
/// under an attribute, `#[cfg(..)]`, may be compiled out, so the one before
/// it may still be the one used).
fn may_refer_to(node: &SyntaxNode, name: &str, binding: &ast::LetStmt) -> bool {
    let at = node.text_range().start();
    let since = binding.syntax().text_range().end();
    let mut shadowing: Vec<ast::LetStmt> = node
        .ancestors()
        .filter_map(ast::StmtList::cast)
        .flat_map(|list| list.statements())
        .filter_map(|s| match s {
            ast::Stmt::LetStmt(l) => Some(l),
            _ => None,
        })
        .filter(|l| {
            let range = l.syntax().text_range();
            range.start() >= since && range.end() <= at && crate::locals::binds(l, name)
        })
        .collect();
    shadowing.sort_by_key(|l| l.syntax().text_range().start());
    shadowing.iter().all(|l| l.attrs().next().is_some())
}

/// Layers that only observe requests (a tracing span, a log line), which
/// inline calls skip as they skip `trace_fn`'s span: `TraceLayer::new_for_grpc()`.
const OBSERVING_LAYERS: &[&str] = &["TraceLayer::new_for_grpc", "TraceLayer::new_for_http"];

/// Whether `call` is `.layer(..)` of a layer that only observes
/// ([`OBSERVING_LAYERS`], configured with nothing else).
fn observes_only(call: &ast::MethodCallExpr) -> bool {
    let layer = call
        .arg_list()
        .and_then(|args| args.args().next())
        .and_then(|arg| match arg {
            ast::Expr::CallExpr(made) => Some(segments(&made)),
            _ => None,
        });
    method_is(call, &["layer"])
        && layer.is_some_and(|path| {
            OBSERVING_LAYERS
                .iter()
                .any(|known| path.join("::").ends_with(known))
        })
}

/// What `receiver` (what `add_service` is called on) starts from: tonic's
/// server builder (`Server::builder()`, configured only with
/// [`ROUTER_OPTIONS`], inline or in a function that returns it: [`builder_fn`])
/// or `Routes::new(..)` (then the routes are followed).
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
                // A method of the service's own type that builds and returns
                // tonic's router (`GrpcServer::construct_server(&self) ->
                // Router<..>`): what it adds is not seen, so calls go through
                // the whole server it builds.
                if let Some((name, definitions)) = own_router_method(&call, provider) {
                    provider.stack(format!(
                        "`{provider}` builds its router in `.{name}()`, a method of its own"
                    ));
                    let called = format!(".{name}");
                    return returned_chain(&called, &definitions, provider).unwrap_or_else(|| {
                        Err(format!(
                            "`{provider}` builds the server it serves with in `.{name}()`, which knit cannot see into"
                        ))
                    });
                }
                // TLS that asks no identity of clients: in process there is
                // no connection to secure, and the handler sees nothing of it.
                let tls = method_is(&call, &["tls_config"]) && asks_no_client_identity(&call);
                if !method_is(&call, ROUTER_OPTIONS) && !observes_only(&call) && !tls {
                    let name = call
                        .name_ref()
                        .map(|n| n.text().to_string())
                        .unwrap_or_default();
                    provider.stack(match name.as_str() {
                        "tls_config" => {
                            return Err(format!(
                                "`{provider}` serves over TLS (`.tls_config(..)`): a call in process would present no client identity to it"
                            ));
                        }
                        "layer" => format!("`{provider}` adds tower layers to its server (`.layer(..)`)"),
                        "timeout" => format!("`{provider}` gives its server a timeout (`.timeout(..)`)"),
                        _ => format!("`{provider}` configures its server with `.{name}(..)`"),
                    });
                }
                expr = call.receiver();
            }
            ast::Expr::CallExpr(call) => {
                let path = segments(&call);
                // What a helper returns in `Ok(..)` (`async fn make() ->
                // Result<Server, E>`, called `make().await?`).
                if path == ["Ok"]
                    && let Some(mut args) = call.arg_list().map(|l| l.args())
                    && let (Some(value), None) = (args.next(), args.next())
                {
                    expr = Some(value);
                    continue;
                }
                return match tonic_type(provider, &path, call.syntax()) {
                    Some(("Server", "builder")) => Ok(Value::Server),
                    Some(("Routes", "new")) => Ok(Value::Routes),
                    _ => builder_fn(&call, provider).unwrap_or_else(|| {
                        Err(format!(
                            "`{provider}` builds the server it serves with in `{}(..)`, which knit cannot see into",
                            path.join("::")
                        ))
                    }),
                };
            }
            ast::Expr::ParenExpr(paren) => expr = paren.expr(),
            ast::Expr::TryExpr(tried) => expr = tried.expr(),
            ast::Expr::AwaitExpr(awaited) => expr = awaited.expr(),
            ast::Expr::IfExpr(branches) => return either_branch(&branches, provider),
            ast::Expr::PathExpr(path) => {
                let name = path.syntax().text().to_string();
                let binding = crate::locals::binding(path.syntax(), &name)
                    .filter(|b| !crate::locals::changed(b))
                    .ok_or_else(|| unfollowed(path.syntax()))?;
                let initializer = binding
                    .initializer()
                    .ok_or_else(|| unfollowed(path.syntax()))?;
                if let ast::Expr::CallExpr(made) = &initializer
                    && let Some(("RoutesBuilder", "default" | "new")) =
                        tonic_type(provider, &segments(made), made.syntax())
                {
                    built_routes(&binding, &name, provider)?;
                    return Ok(Value::Built);
                }
                expr = Some(initializer);
            }
            other => return Err(unfollowed(other.syntax())),
        }
    }
    Err(format!(
        "`{provider}` serves its server where knit cannot follow it"
    ))
}

/// The name of the method `call` calls when it is a method of the service's
/// own code (outside tests) that returns tonic's router: every method of that
/// name in the provider's service is declared to return `Router<..>` (not
/// `tonic::transport::Server`, and not a `ROUTER_OPTIONS` name tonic's own
/// router has).
fn own_router_method(
    call: &ast::MethodCallExpr,
    provider: &Provider,
) -> Option<(String, Vec<(FileId, ast::Fn)>)> {
    let name = call.name_ref()?.text().to_string();
    if method_is(call, ROUTER_OPTIONS) || method_is(call, SERVER_OPTIONS) {
        return None;
    }
    let group = provider.group;
    let services: Vec<_> = group
        .file(provider.id)
        .owners()
        .map(|o| o.service)
        .collect();
    let definitions: Vec<(FileId, ast::Fn)> = group
        .rust_files()
        .filter(|(_, file, rust)| {
            !rust.test_only
                && file.text.contains(&format!("fn {name}"))
                && file.owners().any(|o| services.contains(&o.service))
        })
        .flat_map(|(id, _, rust)| {
            rust.tree()
                .syntax()
                .descendants()
                .filter_map(ast::Fn::cast)
                .filter(|f| f.name().is_some_and(|n| n.text() == name.as_str()))
                .filter(|f| f.param_list().is_some_and(|p| p.self_param().is_some()))
                .map(|f| (id, f))
                .collect::<Vec<_>>()
        })
        .collect();
    let router = |f: &ast::Fn| {
        f.ret_type().and_then(|r| r.ty()).is_some_and(|ty| {
            let ty: String = ty
                .syntax()
                .to_string()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let base = ty.split('<').next().unwrap_or_default();
            base == "Router" || base.ends_with("::Router")
        })
    };
    (!definitions.is_empty() && definitions.iter().all(|(_, f)| router(f)))
        .then_some((name, definitions))
}

/// What an `if` whose branches each make the builder (`if let Some(id) = tls
/// { Server::builder().tls_config(..)? } else { Server::builder() }`) starts
/// from: every branch a block of one expression, each followed as
/// [`router_chain`] follows a receiver, and all to the same start.
fn either_branch(branches: &ast::IfExpr, provider: &Provider) -> Result<Value, String> {
    let unfollowed = || {
        format!(
            "`{provider}` builds the server it serves with where knit cannot follow it (`{}`)",
            excerpt(branches.syntax())
        )
    };
    let mut tails = Vec::new();
    let mut next = Some(branches.clone());
    while let Some(branch) = next.take() {
        tails.push(branch.then_branch());
        match branch.else_branch() {
            Some(ast::ElseBranch::Block(block)) => tails.push(Some(block)),
            Some(ast::ElseBranch::IfExpr(more)) => next = Some(more),
            None => return Err(unfollowed()),
        }
    }
    let mut start = None;
    for block in tails {
        let list = block.and_then(|b| b.stmt_list()).ok_or_else(unfollowed)?;
        if list.statements().next().is_some() {
            return Err(unfollowed());
        }
        let value = router_chain(Some(list.tail_expr().ok_or_else(unfollowed)?), provider)?;
        if start.is_some_and(|s| s != value) {
            return Err(unfollowed());
        }
        start = Some(value);
    }
    start.ok_or_else(unfollowed)
}

/// Methods of tonic's `ServerTlsConfig` that leave clients unasked for a
/// certificate.
const TLS_WITHOUT_CLIENT_IDENTITY: &[&str] =
    &["identity", "ignore_client_order", "timeout", "use_key_log"];

/// Whether the `.tls_config(..)` call `call` is given a `ServerTlsConfig`
/// made where it is written with no client certificate authority
/// (`ServerTlsConfig::new().identity(id)`): its server asks no identity of
/// its clients.
fn asks_no_client_identity(call: &ast::MethodCallExpr) -> bool {
    let mut expr = call.arg_list().and_then(|args| args.args().next());
    while let Some(current) = expr {
        expr = match current {
            ast::Expr::MethodCallExpr(option) => {
                if !method_is(&option, TLS_WITHOUT_CLIENT_IDENTITY) {
                    return false;
                }
                option.receiver()
            }
            ast::Expr::CallExpr(made) => {
                let path = segments(&made);
                return path.ends_with(&["ServerTlsConfig".to_string(), "new".to_string()])
                    || path == ["ServerTlsConfig", "default"];
            }
            ast::Expr::ParenExpr(paren) => paren.expr(),
            _ => return false,
        };
    }
    false
}

/// What the function of the service's own code that `call` calls
/// (`create_grpc_server(&config)`, in the provider's crate or a path
/// dependency's) returns, as [`router_chain`] follows it there: its settings
/// and layers count as if written inline, the stack's reason naming the
/// function. A function with type parameters, several definitions (under
/// `#[cfg]`), `#[cfg]` in its body or more than one returned value is not
/// followed; `None` when `call` calls no function of the service's code.
fn builder_fn(call: &ast::CallExpr, provider: &Provider) -> Option<Result<Value, String>> {
    let called = segments(call).join("::");
    let definitions = functions_called(call, provider)?;
    returned_chain(&called, &definitions, provider)
}

/// Follows the chain the one function of `definitions` (called `called`)
/// returns, as [`router_chain`] follows a receiver, its settings and layers
/// counted as written where it is called; refused (with the reason) for a
/// generic function, several definitions, a body that varies with `#[cfg]`
/// or several returned values.
fn returned_chain(
    called: &str,
    definitions: &[(FileId, ast::Fn)],
    provider: &Provider,
) -> Option<Result<Value, String>> {
    // Bounded: a function may call itself.
    if provider.helpers.replace(provider.helpers.get() + 1) > 8 {
        return None;
    }
    let refused = |why: String| {
        Some(Err(format!(
            "`{provider}` builds the server it serves with in `{called}(..)`, {why}"
        )))
    };
    let [(file, function)] = definitions else {
        return refused(format!(
            "which is defined {} times (under `#[cfg(..)]`): knit does not tell which one is built",
            definitions.len()
        ));
    };
    if let Some(params) = function.generic_param_list()
        && params.type_or_const_params().next().is_some()
    {
        return refused(format!(
            "which is generic (`{params}`): knit follows only functions without type parameters"
        ));
    }
    let body = function.body()?;
    let varies = body
        .syntax()
        .descendants()
        .filter_map(ast::Attr::cast)
        .any(|a| {
            matches!(
                a.meta(),
                Some(ast::Meta::CfgMeta(_) | ast::Meta::CfgAttrMeta(_))
            )
        });
    if varies {
        return refused(
            "whose body varies with `#[cfg(..)]`: knit does not tell which code is built".into(),
        );
    }
    let mut returned: Vec<Option<ast::Expr>> = body
        .syntax()
        .descendants()
        .filter(|n| {
            !n.ancestors()
                .take_while(|a| a != body.syntax())
                .any(|a| ast::ClosureExpr::can_cast(a.kind()) || ast::Fn::can_cast(a.kind()))
        })
        .filter_map(ast::ReturnExpr::cast)
        .map(|r| r.expr())
        .collect();
    returned.extend(body.stmt_list().and_then(|l| l.tail_expr()).map(Some));
    let [Some(value)] = <[_; 1]>::try_from(returned).unwrap_or_default() else {
        return refused(
            "which returns in several places (or none): knit follows only a function with one returned value".into(),
        );
    };
    let root = function.syntax().ancestors().last()?;
    let inner = Provider::new(provider.name, root, provider.group, *file, provider.entry);
    inner.helpers.set(provider.helpers.get());
    let chain = router_chain(Some(value), &inner).map_err(|e| format!("{e} (in `{called}(..)`)"));
    provider.helpers.set(inner.helpers.get());
    if let Some(reason) = inner.stacked.take() {
        provider.stack(format!("{reason} in `{called}(..)`"));
    }
    Some(chain)
}

/// The free functions of the service's code outside tests that `call` (in
/// the provider's file) calls, found as [`crate::scope`]'s walk finds them: the path
/// resolved through the crate's `use`s and re-exports, into the library of
/// the provider's package or of a path dependency (through its re-exports in
/// turn); several under `#[cfg]`. `None` when it names none.
fn functions_called(call: &ast::CallExpr, provider: &Provider) -> Option<Vec<(FileId, ast::Fn)>> {
    use crate::volo::names::{Names, scope_of};
    let group = provider.group;
    let ast::Expr::PathExpr(callee) = call.expr()? else {
        return None;
    };
    let written = crate::volo::names::segments(&callee.path()?)?;
    let rust = group.file(provider.id).rust.as_ref()?;
    let mut krate = rust.krate;
    let mut module = scope_of(&rust.module, call.syntax());
    let mut path = written;
    // Each step leaves one crate for another (a path dependency's re-export).
    let absolute = (0..4).find_map(|_| {
        let resolved = Names::of_crate(group, krate).resolve(krate, &module, &path);
        let (first, rest) = resolved.split_first()?;
        if first == "crate" {
            return Some(Some(rest.to_vec()));
        }
        match externs(group, krate)
            .into_iter()
            .find(|(name, _)| name == first)
        {
            Some((_, lib)) => {
                (krate, module, path) = (lib, Vec::new(), rest.to_vec());
                None
            }
            None => Some(Some([module.as_slice(), &resolved].concat())),
        }
    })??;
    let (name, parent) = absolute.split_last()?;
    let found: Vec<(FileId, ast::Fn)> = group
        .rust_files()
        .filter(|(_, _, rust)| !rust.test_only)
        .filter_map(|(id, _, rust)| Some((id, rust.module_in(krate)?.to_vec(), rust.tree())))
        .flat_map(|(id, in_module, tree)| {
            tree.syntax()
                .descendants()
                .filter_map(ast::Fn::cast)
                .filter(|f| {
                    f.name().is_some_and(|n| n.text() == name.as_str())
                        && f.syntax().parent().is_some_and(|p| {
                            ast::SourceFile::can_cast(p.kind()) || ast::ItemList::can_cast(p.kind())
                        })
                        && scope_of(&in_module, f.syntax()) == parent
                })
                .map(move |f| (id, f))
                .collect::<Vec<_>>()
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

/// The crates that code of the crate rooted at `krate` names by a crate
/// name: its package's library (from a binary) and its path dependencies'.
fn externs(group: &Group, krate: FileId) -> Vec<(String, FileId)> {
    let source = group.file(krate);
    let packages = &group.services[source.service].packages;
    let package = &packages[source.package];
    let own = package
        .lib
        .as_ref()
        .filter(|lib| lib.root != krate)
        .map(|lib| (lib.name.replace('-', "_"), lib.root));
    let deps = package.local_deps.iter().filter_map(|dep| {
        let lib = packages
            .iter()
            .find(|p| p.name == dep.package)?
            .lib
            .as_ref()?;
        Some((dep.key.replace('-', "_"), lib.root))
    });
    own.into_iter().chain(deps).collect()
}

/// Ok when the routes that tonic's `RoutesBuilder` in `name` (bound by
/// `binding`) builds are served as is: its uses add services
/// (`b.add_service(..)`) or take its routes (`b.routes()`), which are followed.
fn built_routes(binding: &ast::LetStmt, name: &str, provider: &Provider) -> Result<(), String> {
    let block = binding
        .syntax()
        .parent()
        .ok_or_else(|| format!("`{provider}` builds its routes where knit cannot follow them"))?;
    let after = binding.syntax().text_range().end();
    let mut taken = false;
    let uses = block
        .descendants()
        .filter_map(ast::PathExpr::cast)
        .filter(|p| p.syntax().text_range().start() >= after && p.syntax().text() == name);
    for path in uses {
        let call = path
            .syntax()
            .parent()
            .and_then(ast::MethodCallExpr::cast)
            .filter(|c| c.receiver().is_some_and(|r| r.syntax() == path.syntax()));
        match call {
            Some(call) if method_is(&call, &["add_service", "add_optional_service"]) => {}
            Some(call) if method_is(&call, &["routes"]) => {
                follow(call.syntax(), Value::Routes, provider)?;
                taken = true;
            }
            _ => {
                return Err(format!(
                    "`{provider}` uses its `RoutesBuilder` `{name}` in a way knit does not follow (`{}`)",
                    excerpt(path.syntax().parent().as_ref().unwrap_or(path.syntax()))
                ));
            }
        }
    }
    if !taken {
        return Err(format!(
            "`{provider}` keeps its routes in `{name}`, and knit sees no `.routes()` of it"
        ));
    }
    Ok(())
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
    uses_of(
        &block,
        &name,
        binding.syntax().text_range().end(),
        value,
        provider,
    )
}

/// Ok when every use of the variable `name` in `block` after `after` (holding
/// `value`) is served as is, uses in macro arguments included; a variable
/// knit sees no use of is not.
fn uses_of(
    block: &SyntaxNode,
    name: &str,
    after: ra_ap_syntax::TextSize,
    value: Value,
    provider: &Provider,
) -> Result<(), String> {
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
                provider.trees.borrow_mut().push((tree.clone(), args.shift));
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
        let Some(path) = path.filter(|p| p.syntax().text() == name) else {
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

/// The type and function of tonic's that a call of `path` at `at` in the
/// provider's file calls: `tonic::transport::Server::builder`, or
/// `Server::builder` where a module or block around `at`, or the file,
/// imports tonic's `Server`, by name, through a glob, or through a
/// module of its crate that re-exports it (`Routes` likewise, from
/// `tonic::service`).
fn tonic_type<'a>(
    provider: &Provider,
    path: &'a [String],
    at: &SyntaxNode,
) -> Option<(&'a str, &'a str)> {
    let [.., ty, function] = path else {
        return None;
    };
    let module = match ty.as_str() {
        "Server" => "transport",
        "Routes" | "RoutesBuilder" => "service",
        _ => return None,
    };
    let qualified = path.len() >= 3 && path[path.len() - 3] == module;
    let imported = path.len() == 2 && {
        let wanted = ["tonic", module, ty.as_str()];
        let rust = provider.group.file(provider.id).rust.as_ref()?;
        // The `use` items of the blocks and inline modules around the call
        // (`mod server { use tonic::transport::Server; .. }`), then the file's.
        let scopes = at
            .ancestors()
            .filter(|n| ast::ItemList::can_cast(n.kind()) || ast::StmtList::can_cast(n.kind()));
        scopes
            .chain(std::iter::once(provider.file.clone()))
            .any(|scope| {
                reexports(
                    provider.group,
                    (rust.krate, &rust.module),
                    &scope,
                    &wanted,
                    0,
                )
            })
    };
    (qualified || imported).then_some((ty.as_str(), function.as_str()))
}

/// Whether the module-level `use` items of `file` (module `module` of the
/// crate rooted at `krate`) bring `wanted`'s last segment into scope as
/// `wanted`: imported from there, or from a module of the same crate that
/// re-exports it in turn (`pub use tonic::transport::Server;` in `auth.rs`,
/// `use auth::*;` in `main.rs`). `depth` bounds the chain.
fn reexports(
    group: &Group,
    (krate, module): (FileId, &[String]),
    file: &SyntaxNode,
    wanted: &[&str],
    depth: u32,
) -> bool {
    let uses = file
        .children()
        .filter_map(ast::Use::cast)
        .filter_map(|u| u.use_tree());
    let name = wanted[wanted.len() - 1];
    for tree in uses {
        if imports(&tree, &mut Vec::new(), wanted) {
            return true;
        }
        if depth >= 4 {
            continue;
        }
        // The modules of the crate this `use` imports the name from.
        let mut from = Vec::new();
        sources_of(&tree, &mut Vec::new(), name, &mut from);
        for source in from {
            let Some(target) = in_crate(group, krate, module, &source) else {
                continue;
            };
            let files = group
                .rust_files()
                .filter(|(_, _, rust)| rust.module_in(krate) == Some(target.as_slice()));
            for (_, _, rust) in files {
                let tree = rust.tree().syntax().clone();
                if reexports(group, (krate, &target), &tree, wanted, depth + 1) {
                    return true;
                }
            }
        }
    }
    false
}

/// The paths of the modules `tree` (under `prefix`) imports `name` from, by
/// name (`use m::Server`) or through a glob (`use m::*`).
fn sources_of(
    tree: &ast::UseTree,
    prefix: &mut Vec<String>,
    name: &str,
    out: &mut Vec<Vec<String>>,
) {
    let depth = prefix.len();
    if let Some(path) = tree.path() {
        prefix.extend(path.segments().filter_map(|s| match s.kind()? {
            ast::PathSegmentKind::Name(n) => Some(n.text().to_string()),
            ast::PathSegmentKind::CrateKw => Some("crate".into()),
            ast::PathSegmentKind::SelfKw => Some("self".into()),
            ast::PathSegmentKind::SuperKw => Some("super".into()),
            _ => None,
        }));
    }
    if let Some(list) = tree.use_tree_list() {
        for sub in list.use_trees() {
            sources_of(&sub, prefix, name, out);
        }
    } else if tree.star_token().is_some() {
        out.push(prefix.clone());
    } else if tree.rename().is_none() && prefix.last().is_some_and(|last| last == name) {
        out.push(prefix[..prefix.len() - 1].to_vec());
    }
    prefix.truncate(depth);
}

/// The module of the crate rooted at `krate` that `path`, written in module
/// `module`, names (`crate::a`, `self::a`, `super::a`, or a child `a`).
fn in_crate(
    group: &Group,
    krate: FileId,
    module: &[String],
    path: &[String],
) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut target = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => module.split_last()?.1.to_vec(),
        child => [module, &[child.to_string()]].concat(),
    };
    for segment in rest {
        if segment == "super" {
            target.pop()?;
        } else {
            target.push(segment.clone());
        }
    }
    let exists = group
        .rust_files()
        .any(|(_, _, rust)| rust.module_in(krate) == Some(target.as_slice()));
    exists.then_some(target)
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
    match text.char_indices().nth(72) {
        Some((end, _)) => format!("{}..", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::pass::PassId;

    /// The fixture where `greeter` serves with `serving` (the statements of
    /// its `main`, which has `MyGreeter` and `addr`) and `frontend` calls it.
    fn serving(serving: &str) -> String {
        crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        )
        .replace(
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            serving,
        )
    }

    /// The decision for `frontend`'s calls in `fixture`.
    fn decision_of(fixture: &str, expected: Expect) {
        let findings = crate::fixture::check(PassId::Calls, fixture).findings;
        let calls = findings.iter().find(|f| f.starts_with("Call(")).unwrap();
        let decision = calls
            .split_once(": calls to `helloworld.Greeter` ")
            .unwrap()
            .1;
        expected.assert_eq(decision);
    }

    /// The decision for `frontend`'s calls when `greeter` serves with `serving`.
    fn decision(serving: &str, expected: Expect) {
        decision_of(&self::serving(serving), expected);
    }

    /// How `GREETER` serves.
    const SERVES: &str =
        "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;";

    const INLINE: &str = "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)";

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
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr.into()).await?;",
        ] {
            let fixture = self::serving(serving);
            let findings = crate::fixture::check(PassId::Calls, &fixture).findings;
            assert!(
                findings.iter().any(|f| f.ends_with(INLINE)),
                "{serving}: {findings:#?}"
            );
        }
    }

    /// tonic_health's reporter names the server type for its name only;
    /// health and reflection services beside the server are other services.
    #[test]
    fn health_and_reflection_services_beside_the_server_run_in_process() {
        decision(
            "let (mut reporter, health) = tonic_health::server::health_reporter();\n    reporter.set_serving::<GreeterServer<MyGreeter>>().await;\n    let reflection = tonic_reflection::server::Builder::configure().register_encoded_file_descriptor_set(DESCRIPTORS).build_v1()?;\n    Server::builder().add_service(health).add_service(reflection).add_service(GreeterServer::new(MyGreeter)).add_optional_service(admin).serve(addr.into()).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision(
            "let (reporter, health) = tonic_health::server::health_reporter();\n    reporter.set_not_serving::<GreeterServer<MyGreeter>>().await;\n    Server::builder().add_service(GreeterServer::new(MyGreeter)).add_service(health).serve(addr).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
    }

    /// A `let` that names the server's type makes no server of its own: the
    /// one its value makes is followed.
    #[test]
    fn a_lets_type_annotation_is_no_server_of_its_own() {
        decision(
            "let svc: GreeterServer<MyGreeter> = GreeterServer::new(MyGreeter);\n    Server::builder().add_service(svc).serve(addr).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
    }

    /// Layers elsewhere in `main` (another server's, a client's stack) are not
    /// what the gRPC server's requests go through; on its own chain they are.
    #[test]
    fn only_layers_on_the_servers_own_chain_count() {
        decision(
            "let metrics = axum::Router::new().route(\"/metrics\", get(metrics)).layer(TraceLayer::new_for_http());\n    let upstream = ServiceBuilder::new().layer(TimeoutLayer::new(LIMIT)).service(http_client());\n    tokio::try_join!(axum::serve(admin, metrics), Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr))?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision(
            "let metrics = axum::Router::new().route(\"/metrics\", get(metrics)).layer(TraceLayer::new_for_http());\n    Server::builder().layer(auth()).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
    }

    #[test]
    fn a_layered_server_registers_its_whole_stack() {
        let fixture = self::serving(
            "Server::builder().timeout(Duration::from_secs(1)).layer(auth()).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
        );
        let out = crate::fixture::check(PassId::Entry, &fixture);
        let main = out.files.iter().find(|(p, _)| p == "greeter/src/lib.rs");
        let main = main.map(|(_, text)| text.as_str()).unwrap_or_default();
        expect![""].assert_eq(
            main.lines()
                .find(|l| l.contains("provide_stacked"))
                .map(|l| format!("\n{}", l.trim_start()))
                .unwrap_or_default()
                .as_str(),
        );
        let out = crate::fixture::check(PassId::Calls, &fixture);
        let client = out.files.iter().find(|(p, _)| p == "frontend/src/main.rs");
        assert!(
            client.is_some_and(|(_, t)| t.contains(
                "knit_runtime::transport::Bridge::connect(\"helloworld.Greeter\", \"http://a\", GreeterClient::new)"
            )),
            "{client:?}"
        );
    }

    /// A layer that only traces is skipped inline, as `trace_fn`'s span is.
    #[test]
    fn a_tracing_layer_keeps_calls_inline() {
        decision(
            "Server::builder().layer(tower_http::trace::TraceLayer::new_for_grpc()).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision(
            "Server::builder().layer(TraceLayer::new_for_grpc().on_request(audit)).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
    }

    #[test]
    fn a_wrapped_server_runs_through_its_stack() {
        decision(
            "Server::builder().add_service(InterceptedService::new(GreeterServer::new(MyGreeter), check_auth)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` hands its server to `InterceptedService::new(..)` on its way to being served"
            ],
        );
        decision(
            "let svc = ServiceBuilder::new().map_request(stamp).service(GreeterServer::new(MyGreeter));\n    Server::builder().add_service(svc).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` hands its server to `.service(..)` on its way to being served"
            ],
        );
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    Server::builder().add_service(authorized(svc)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` hands its server to `authorized(..)` on its way to being served"
            ],
        );
        // tonic_web, as a layer or around the server.
        decision(
            "Server::builder().accept_http1(true).layer(GrpcWebLayer::new()).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
        decision(
            "Server::builder().accept_http1(true).add_service(tonic_web::enable(GreeterServer::new(MyGreeter))).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` hands its server to `tonic_web::enable(..)` on its way to being served"
            ],
        );
    }

    #[test]
    fn a_router_kept_in_a_variable_is_followed_to_where_it_is_served() {
        // Bound after its services, served with a shutdown signal.
        decision(
            "let grpc = Server::builder()\n        .accept_http1(true)\n        .add_service(GreeterServer::new(MyGreeter));\n    grpc.serve_with_shutdown(addr, signal()).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        // Turned into something else later: knit cannot follow it.
        decision(
            "let grpc = Server::builder().add_service(GreeterServer::new(MyGreeter));\n    let svc = grpc.into_service();",
            expect![
                "stay RPC: `greeter` serves its router through `.into_service(..)`, which knit does not follow: in-process calls could skip what it goes through"
            ],
        );
    }

    #[test]
    fn a_wrapped_server_is_seen_through_variables_macros_and_routes() {
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    tokio::try_join!(Server::builder().layer(auth()).add_service(svc).serve(addr), other())?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    tokio::try_join!(Server::builder().add_service(InterceptedService::new(svc, check)).serve(addr), other())?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` hands its server to `InterceptedService::new(..)` on its way to being served"
            ],
        );
        decision(
            "let app = Routes::new(GreeterServer::new(MyGreeter)).into_axum_router().route_layer(auth);\n    axum::serve(listener, app).await?;",
            expect![
                "stay RPC: `greeter` serves its routes through axum (`into_axum_router`) and puts a layer on that router (`Routes::new(GreeterServer::new(MyGreeter)).into_axum_router().route_laye..`): a call in process would skip it"
            ],
        );
        decision(
            "let svc = GreeterServer::new(MyGreeter);\n    serve(addr).await?;",
            expect!["stay RPC: `greeter` keeps its server in `svc`, and knit sees no use of it"],
        );
    }

    /// tonic's `RoutesBuilder`, filled by `&mut` calls and served as routes.
    #[test]
    fn routes_built_with_a_routes_builder() {
        decision(
            "let mut builder = tonic::service::RoutesBuilder::default();\n    builder.add_service(GreeterServer::new(MyGreeter));\n    builder.add_service(health);\n    Server::builder().add_routes(builder.routes()).serve(addr).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision(
            "let mut builder = tonic::service::RoutesBuilder::default();\n    builder.add_service(GreeterServer::new(MyGreeter));\n    let app = builder.routes().into_axum_router();\n    axum::serve(listener, app).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
    }

    /// tonic's routes turned into an axum router (`into_axum_router()`),
    /// merged with other routes and served by `axum::serve`.
    #[test]
    fn routes_served_by_axum() {
        // A fallback, merges, `#[cfg]` lets, `if` branches and a tracing layer:
        // nothing a call to the gRPC service meets.
        decision(
            "let mut tonic_builder = RoutesBuilder::default();\n    tonic_builder.add_service(GreeterServer::new(MyGreeter).max_decoding_message_size(1 << 20));\n    let tonic = tonic_builder.routes().into_axum_router();\n    let tonic = tonic.fallback(not_found);\n    #[cfg(feature = \"rest\")]\n    let app = if config.no_rest {\n        tonic.merge(disabled()).merge(health()).into_make_service_with_connect_info::<SocketAddr>()\n    } else {\n        rest().merge(tonic).merge(health()).layer(TraceLayer::new_for_http()).into_make_service_with_connect_info::<SocketAddr>()\n    };\n    #[cfg(not(feature = \"rest\"))]\n    let app = tonic.merge(health()).into_make_service();\n    let listener = tokio::net::TcpListener::bind(addr).await?;\n    axum::serve(listener, app).await?;\n    Ok(())\n}\nuse tonic::service::RoutesBuilder;\nasync fn unused() {",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        // A layer on the axum router, after the routes are merged into it.
        decision(
            "let tonic = tonic::service::Routes::new(GreeterServer::new(MyGreeter)).into_axum_router();\n    let app = rest().merge(tonic).layer(auth());\n    axum::serve(listener, app).await?;",
            expect![
                "stay RPC: `greeter` serves its routes through axum (`into_axum_router`) and puts a layer on that router (`rest().merge(tonic).layer(auth())`): a call in process would skip it"
            ],
        );
        // A wrapped server inside the routes: no listener of knit's reaches it.
        decision(
            "let tonic = tonic::service::Routes::new(InterceptedService::new(GreeterServer::new(MyGreeter), check)).into_axum_router();\n    axum::serve(listener, tonic).await?;",
            expect![
                "stay RPC: `greeter` hands its server to `InterceptedService::new(..)` on its way to being served, and serves its routes through axum (`into_axum_router`), on a listener knit does not manage: calls cannot reach that stack in process"
            ],
        );
        // Handed to a function knit does not follow.
        decision(
            "let tonic = tonic::service::Routes::new(GreeterServer::new(MyGreeter)).into_axum_router();\n    serve_http(listener, tonic).await?;",
            expect![
                "stay RPC: `greeter` serves its routes through axum (`into_axum_router`), and hands that router on where knit does not follow it (`serve_http(listener, tonic)`)"
            ],
        );
    }

    /// A router built and served in a function of the provider's own, given
    /// the server by `main`.
    #[test]
    fn a_server_is_followed_into_a_helper_that_serves_it() {
        let helper = "\n    Ok(())\n}\nasync fn serve(addr: SocketAddr, svc: GreeterServer<MyGreeter>) -> Result<(), tonic::transport::Error> {\n    Server::builder().add_service(svc).serve(addr).await\n}\nasync fn unused() {";
        decision(
            &format!("serve(addr, GreeterServer::new(MyGreeter)).await?;{helper}"),
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        // Its layers: the helper is the entry's code (`main` awaits it), so
        // calls go through them.
        let layered = helper.replace("builder()", "builder().layer(auth())");
        decision(
            &format!("serve(addr, GreeterServer::new(MyGreeter)).await?;{layered}"),
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
        // In a future kept and polled elsewhere, the helper's listener is
        // not the host's.
        decision(
            &format!(
                "let serving = serve(addr, GreeterServer::new(MyGreeter));\n    tokio::spawn(serving).await??;{layered}"
            ),
            expect![
                "stay RPC: `greeter` adds tower layers to its server (`.layer(..)`), and serves it outside its entry, on a listener knit does not manage: calls cannot reach that stack in process"
            ],
        );
        decision(
            "serve(addr, GreeterServer::new(MyGreeter)).await?;\n    Ok(())\n}\nasync fn serve(addr: SocketAddr, svc: GreeterServer<MyGreeter>) {\n    spawn_elsewhere(svc);\n}\nasync fn unused() {",
            expect![
                "stay RPC: `greeter` hands its server to `spawn_elsewhere(..)`, which knit does not follow to tonic's router"
            ],
        );
    }

    /// `Server` reached through a module of the crate that re-exports it.
    #[test]
    fn a_server_builder_reexported_by_a_module_is_tonics() {
        let fixture = self::serving(
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
        );
        let glob = fixture.replace("use tonic::transport::Server;\n", "mod net;\nuse net::*;\n")
            + "//- /greeter/src/net.rs\npub use tonic::transport::Server;\n";
        decision_of(
            &glob,
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        // Imported in the block around the call (or an inline module's).
        let in_block = fixture
            .replacen("use tonic::transport::Server;\n", "", 1)
            .replacen(
                "Server::builder()",
                "use tonic::transport::Server;\n    Server::builder()",
                1,
            );
        assert!(in_block.contains("    use tonic::transport::Server;\n    Server::builder()"));
        decision_of(
            &in_block,
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        let nested = fixture.replace(
            "use tonic::transport::Server;\n",
            "mod net;\nuse crate::net::{self, Server as _Unused};\nuse net::grpc::Server;\n",
        ) + "//- /greeter/src/net.rs\npub mod grpc;\n//- /greeter/src/net/grpc.rs\npub use tonic::transport::*;\n";
        decision_of(
            &nested,
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        let other = fixture.replace("use tonic::transport::Server;\n", "mod net;\nuse net::*;\n")
            + "//- /greeter/src/net.rs\npub use platform::Server;\n";
        decision_of(
            &other,
            expect![
                "stay RPC: `greeter` builds the server it serves with in `Server::builder(..)`, which knit cannot see into"
            ],
        );
    }

    /// The server type comes from a proto crate of the provider's
    /// repository (a path dependency that compiles the protos).
    #[test]
    fn a_server_type_from_a_shared_proto_crate() {
        let provider = "\n//- /greeter/Cargo.toml\n[package]\nname = \"greeter\"\nedition = \"2021\"\n[dependencies]\napi = { path = \"api\" }\n//- /greeter/src/main.rs\nuse api::hello::greeter_server::{Greeter, GreeterServer};\nuse tonic::transport::Server;\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n    SERVING\n    Ok(())\n}\n//- /greeter/api/Cargo.toml\n[package]\nname = \"api\"\nedition = \"2021\"\n//- /greeter/api/proto/helloworld.proto\npackage helloworld;\nservice Greeter {\n  rpc SayHello (HelloRequest) returns (HelloReply);\n}\n//- /greeter/api/src/lib.rs\npub mod hello {\n    tonic::include_proto!(\"helloworld\");\n}\n";
        let fixture = |serving: &str| {
            let greeter = provider.replace("SERVING", serving);
            self::serving(SERVES).replace(crate::fixture::GREETER, &greeter)
        };
        decision_of(
            &fixture(
                "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            ),
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision_of(
            &fixture(
                "Server::builder().layer(auth()).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            ),
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
    }

    #[test]
    fn a_router_on_a_plain_listener_of_the_providers_own_runs_in_process() {
        for serving in [
            // Bound eagerly, socket options set, served later in a task.
            "let incoming = TcpIncoming::bind(addr)?.with_nodelay(Some(true)).with_keepalive(None);\n    let router = Server::builder().add_service(GreeterServer::new(MyGreeter));\n    tokio::spawn(async move { router.serve_with_incoming_shutdown(incoming, stop()).await });",
            "let listener = tokio::net::TcpListener::bind(addr).await?;\n    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)).await?;",
            "let incoming: tonic::transport::server::TcpIncoming = listen(addr);\n    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(incoming).await?;",
            // A Unix socket (tonic's own example, a sidecar's local API).
            "let uds = tokio::net::UnixListener::bind(path)?;\n    let uds_stream = UnixListenerStream::new(uds);\n    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(uds_stream).await?;",
        ] {
            decision(
                serving,
                expect![[
                    r#"run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"#
                ]],
            );
        }
        decision(
            "let incoming = net::listen(addr).expect(\"bind\");\n    Server::builder().timeout(LIMIT).add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(incoming).await?;\n    Ok(())\n}\nmod net {\n    pub fn listen(addr: SocketAddr) -> std::io::Result<tonic::transport::server::TcpIncoming> {\n        tonic::transport::server::TcpIncoming::bind(addr)\n    }\n}\nasync fn unused() {",
            expect![[
                r#"run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` gives its server a timeout (`.timeout(..)`)"#
            ]],
        );
    }

    #[test]
    fn a_router_served_on_connections_of_the_providers_own_stays_rpc() {
        decision(
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(tls_incoming).await?;",
            expect![
                "stay RPC: `greeter` serves its router on connections of its own (`tls_incoming`) that knit does not follow to a plain listener (`TcpIncoming`, `TcpListenerStream`, `UnixListenerStream`): in-process calls would skip what may authenticate callers there (a TLS acceptor)"
            ],
        );
        decision(
            "let incoming = tls::accept(TcpIncoming::bind(addr)?, acceptor);\n    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(incoming).await?;\n    Ok(())\n}\nmod tls {\n    pub fn accept(plain: TcpIncoming, acceptor: Acceptor) -> TlsIncoming<TcpIncoming> {\n        todo!()\n    }\n}\nasync fn unused() {",
            expect![
                "stay RPC: `greeter` serves its router on connections of its own (`tls::accept(TcpIncoming::bind(addr)?, acceptor)`) that knit does not follow to a plain listener (`TcpIncoming`, `TcpListenerStream`, `UnixListenerStream`): in-process calls would skip what may authenticate callers there (a TLS acceptor)"
            ],
        );
        decision(
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve_with_incoming(self.incoming).await?;",
            expect![
                "stay RPC: `greeter` serves its router on connections of its own (`self.incoming`) that knit does not follow to a plain listener (`TcpIncoming`, `TcpListenerStream`, `UnixListenerStream`): in-process calls would skip what may authenticate callers there (a TLS acceptor)"
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
            "Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n    Ok(())\n}\n#[cfg(test)]\nmod tests {\n    fn server() { let s = InterceptedService::new(super::GreeterServer::new(super::MyGreeter), check); }\n}\nfn after() -> Result<(), Box<dyn std::error::Error>> {",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
    }

    #[test]
    fn a_server_over_tls_stays_rpc() {
        decision(
            "Server::builder().tls_config(tls)?.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` serves over TLS (`.tls_config(..)`): a call in process would present no client identity to it"
            ],
        );
    }

    #[test]
    fn tls_that_asks_no_client_identity_is_no_obstacle() {
        // As tari's node: TLS when it has an identity, plain otherwise.
        decision(
            "let mut builder = if let Some(identity) = tls {\n        Server::builder().tls_config(ServerTlsConfig::new().identity(identity))?\n    } else {\n        Server::builder()\n    };\n    builder.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision(
            "Server::builder().tls_config(ServerTlsConfig::new().identity(id).client_ca_root(ca))?.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` serves over TLS (`.tls_config(..)`): a call in process would present no client identity to it"
            ],
        );
        // Each branch is followed: settings in one run through the stack; a
        // branch that does more than make the builder, or one knit cannot
        // follow, keeps the calls RPC.
        decision(
            "let b = if slow { Server::builder().timeout(d) } else { Server::builder() };\n    b.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` gives its server a timeout (`.timeout(..)`)"
            ],
        );
        decision(
            "let b = if slow { log(); Server::builder() } else { Server::builder() };\n    b.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with where knit cannot follow it (`if slow { log(); Server::builder() } else { Server::builder() }`)"
            ],
        );
        decision(
            "let b = if slow { Server::builder() } else { Routes::new(x) };\n    b.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with in `Routes::new(..)`, which knit cannot see into"
            ],
        );
    }

    #[test]
    fn server_settings_run_through_the_stack() {
        decision(
            "Server::builder().timeout(Duration::from_secs(1)).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` gives its server a timeout (`.timeout(..)`)"
            ],
        );
        decision(
            "let builder = Server::builder().layer(auth_layer());\n    builder.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
        decision(
            "Server::builder().with_auth(keys).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` configures its server with `.with_auth(..)`"
            ],
        );
    }

    /// With several routers, the entry names the stacked services of each
    /// router's listener: a layered server's calls reach its own router.
    #[test]
    fn a_stack_beside_another_router_is_paired_with_its_listener() {
        let serving = "tokio::try_join!(Server::builder().layer(auth()).add_service(GreeterServer::new(MyGreeter)).serve(addr), Server::builder().add_service(admin).serve(admin_addr))?;";
        decision(
            serving,
            expect![[
                r#"run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"#
            ]],
        );
        let out = crate::fixture::check(PassId::Entry, &self::serving(serving));
        let serves: Vec<&str> = out
            .files
            .iter()
            .flat_map(|(_, text)| text.lines())
            .filter(|l| l.contains("try_join!"))
            .collect();
        expect![[r#"
            [
                "    tokio::try_join!(Server::builder().layer(auth()).add_service(knit_host.provide_stacked(\"helloworld.Greeter\", GreeterServer::new(MyGreeter))).serve_with_incoming_shutdown(knit_host.incoming_serving(addr, &[\"helloworld.Greeter\"]), knit_host.shutdown()), Server::builder().add_service(admin).serve_with_incoming_shutdown(knit_host.incoming_serving(admin_addr, &[]), knit_host.shutdown()))?;",
            ]
        "#]]
        .assert_debug_eq(&serves);
    }

    /// A stacked server kept in a variable and served in a macro's
    /// arguments: the entry finds the `serve` call there.
    #[test]
    fn a_stack_served_in_a_macro_beside_another_router_is_paired_with_its_listener() {
        let serving = "let svc = GreeterServer::new(MyGreeter);\n    tokio::try_join!(Server::builder().add_service(admin).serve(admin_addr), Server::builder().timeout(d).add_service(svc).serve(addr))?;";
        let out = crate::fixture::check(PassId::Entry, &self::serving(serving));
        decision(
            serving,
            expect![[
                r#"run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` gives its server a timeout (`.timeout(..)`)"#
            ]],
        );
        let serves: Vec<&str> = out
            .files
            .iter()
            .flat_map(|(_, text)| text.lines())
            .filter(|l| l.contains("try_join!"))
            .collect();
        expect![[r#"
            [
                "    tokio::try_join!(Server::builder().add_service(admin).serve_with_incoming_shutdown(knit_host.incoming_serving(admin_addr, &[]), knit_host.shutdown()), Server::builder().timeout(d).add_service(svc).serve_with_incoming_shutdown(knit_host.incoming_serving(addr, &[\"helloworld.Greeter\"]), knit_host.shutdown()))?;",
            ]
        "#]]
        .assert_debug_eq(&serves);
    }

    /// A router built by a method of the service's own type (ibeji's
    /// `GrpcServer::construct_server(&self) -> Router<..>`, its modules
    /// unseen): calls go through the whole server it builds, its body followed
    /// as a helper function's. A method of that name declared to return
    /// anything else is not taken for one.
    #[test]
    fn a_router_built_by_a_method_of_its_own_runs_through_the_whole_server() {
        let serving = |ret: &str| {
            format!(
                "let server = grpc::GrpcServer::new();\n    let builder = server.construct_server().add_service(GreeterServer::new(MyGreeter));\n    builder.serve(addr).await?;\n    Ok(())\n}}\nmod grpc {{\n    use tonic::transport::server::Router;\n    pub struct GrpcServer;\n    impl GrpcServer {{\n        pub fn new() -> Self {{ GrpcServer }}\n        pub fn construct_server(&self) -> {ret} {{\n            tonic::transport::Server::builder().layer(auth()).add_routes(routes())\n        }}\n    }}\n}}\nasync fn unused() {{"
            )
        };
        decision(
            &serving("Router<Stack<Auth, Identity>>"),
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` builds its router in `.construct_server()`, a method of its own"
            ],
        );
        // Its body is followed as a helper function's: TLS that asks clients
        // for a certificate keeps the calls RPC.
        decision(
            &serving("Router").replace(
                "tonic::transport::Server::builder().layer(auth())",
                "tonic::transport::Server::builder().tls_config(tonic::transport::ServerTlsConfig::new().identity(id()).client_ca_root(ca())).unwrap()",
            ),
            expect!["stay RPC: `greeter` serves over TLS (`.tls_config(..)`): a call in process would present no client identity to it (in `.construct_server(..)`)"],
        );
        decision(
            &serving("Routes"),
            expect![
                "stay RPC: `greeter` builds the server it serves with in `grpc::GrpcServer::new(..)`, which knit cannot see into"
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
            "server().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            expect![
                "stay RPC: `greeter` builds the server it serves with in `server(..)`, which knit cannot see into"
            ],
        );
    }

    /// The server builder made by a function of the provider's code: what
    /// it returns counts as if written inline.
    #[test]
    fn a_server_builder_from_a_function_is_followed() {
        decision(
            "make_server(&config).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n    Ok(())\n}\nfn make_server(config: &Config) -> Server {\n    let builder = Server::builder().tcp_nodelay(true);\n    builder.http2_keepalive_interval(Some(config.keepalive))\n}\nasync fn unused() {",
            expect![
                "run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
            ],
        );
        decision(
            "let server = net::make_server(&config).layer(auth());\n    server.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n    Ok(())\n}\nmod net {\n    pub fn make_server(config: &Config) -> tonic::transport::Server {\n        return tonic::transport::Server::builder().timeout(config.timeout);\n    }\n}\nasync fn unused() {",
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
            ],
        );
    }

    /// An `async` builder function that returns its builder in `Ok(..)`,
    /// called `make_server(..).await?`, is followed: a layer there makes the
    /// calls run through the stack, TLS from configuration keeps them RPC.
    #[test]
    fn an_async_server_builder_returning_a_result_is_followed() {
        let helper = |chain: &str| {
            format!(
                "make_server(&config).await?.add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n    Ok(())\n}}\nasync fn make_server(config: &Config) -> Result<Server, Box<dyn std::error::Error>> {{\n    Ok(Server::builder(){chain})\n}}\nasync fn unused() {{"
            )
        };
        decision(
            &helper(".layer(auth())"),
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`) in `make_server(..)`"
            ],
        );
        decision(
            &helper(".tls_config(load_tls(config).await?)?"),
            expect![
                "stay RPC: `greeter` serves over TLS (`.tls_config(..)`): a call in process would present no client identity to it (in `make_server(..)`)"
            ],
        );
    }

    /// The builder function in a path dependency, re-exported by its
    /// library: a `.timeout(..)` there makes the calls run through the stack.
    #[test]
    fn a_server_builder_from_a_path_dependency_runs_through_its_stack() {
        let provider = "\n//- /greeter/Cargo.toml\n[package]\nname = \"greeter\"\nedition = \"2021\"\n[dependencies]\ncore = { path = \"core\", package = \"greeter-core\" }\n//- /greeter/src/main.rs\nuse hello_world::greeter_server::{Greeter, GreeterServer};\nuse core::create_grpc_server;\npub mod hello_world {\n    tonic::include_proto!(\"helloworld\");\n}\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n    SERVING\n    Ok(())\n}\n//- /greeter/proto/helloworld.proto\npackage helloworld;\nservice Greeter {\n  rpc SayHello (HelloRequest) returns (HelloReply);\n}\n//- /greeter/core/Cargo.toml\n[package]\nname = \"greeter-core\"\nedition = \"2021\"\n//- /greeter/core/src/lib.rs\npub mod utils;\npub use utils::create_grpc_server;\n//- /greeter/core/src/utils.rs\nuse std::time::Duration;\nuse tonic::transport::Server;\npub fn create_grpc_server(config: &GrpcConfig) -> Server {\n    Server::builder()\n        .timeout(Duration::from_secs(config.timeout))\n        .tcp_nodelay(true)\n        .http2_keepalive_interval(Some(Duration::from_secs(config.keepalive)))\n}\n";
        let fixture = |serving: &str| {
            let greeter = provider.replace("SERVING", serving);
            self::serving(SERVES).replace(crate::fixture::GREETER, &greeter)
        };
        decision_of(
            &fixture(
                "let server = create_grpc_server(&config).add_service(GreeterServer::new(MyGreeter)).serve(addr);\n    server.await?;",
            ),
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` gives its server a timeout (`.timeout(..)`) in `create_grpc_server(..)`"
            ],
        );
        decision_of(
            &fixture(
                "core::utils::create_grpc_server(&config).add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;",
            ),
            expect![
                "run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` gives its server a timeout (`.timeout(..)`) in `core::utils::create_grpc_server(..)`"
            ],
        );
    }

    /// A builder function knit does not tell the result of stays RPC, with
    /// the function and why.
    #[test]
    fn a_server_builder_from_a_varying_function_stays_rpc() {
        let helper = |function: &str| {
            format!(
                "make_server().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;\n    Ok(())\n}}\n{function}\nasync fn unused() {{"
            )
        };
        decision(
            &helper(
                "fn make_server<L>() -> Server<L> {\n    Server::builder().layer(L::default())\n}",
            ),
            expect![
                "stay RPC: `greeter` builds the server it serves with in `make_server(..)`, which is generic (`<L>`): knit follows only functions without type parameters"
            ],
        );
        decision(
            &helper(
                "#[cfg(feature = \"tls\")]\nfn make_server() -> Server {\n    Server::builder().tls_config(tls()).unwrap()\n}\n#[cfg(not(feature = \"tls\"))]\nfn make_server() -> Server {\n    Server::builder()\n}",
            ),
            expect![
                "stay RPC: `greeter` builds the server it serves with in `make_server(..)`, which is defined 2 times (under `#[cfg(..)]`): knit does not tell which one is built"
            ],
        );
        decision(
            &helper(
                "fn make_server() -> Server {\n    let builder = Server::builder();\n    #[cfg(feature = \"slow\")]\n    let builder = builder.timeout(LIMIT);\n    builder\n}",
            ),
            expect![
                "stay RPC: `greeter` builds the server it serves with in `make_server(..)`, whose body varies with `#[cfg(..)]`: knit does not tell which code is built"
            ],
        );
        decision(
            &helper(
                "fn make_server() -> Server {\n    if slow() {\n        return Server::builder().timeout(LIMIT);\n    }\n    Server::builder()\n}",
            ),
            expect![
                "stay RPC: `greeter` builds the server it serves with in `make_server(..)`, which returns in several places (or none): knit follows only a function with one returned value"
            ],
        );
        decision(
            &helper("fn make_server() -> Server {\n    SERVER.get().unwrap().clone()\n}"),
            expect![
                "stay RPC: `greeter` builds the server it serves with where knit cannot follow it (`SERVER`) (in `make_server(..)`)"
            ],
        );
    }

    /// A tonic server that a hand-written hyper accept loop serves
    /// (`serve_connection`), as gateways serve gRPC beside their HTTP routes.
    mod by_hand {
        use expect_test::expect;

        use super::{INLINE, serving};
        use crate::pass::PassId;

        /// The accept loop around `serve`, statements that serve `stream`
        /// with `svc` (a clone of the server).
        fn accept_loop(serve: &str) -> String {
            serving(&format!(
                "let svc = GreeterServer::new(MyGreeter);\n    let listener = tokio::net::TcpListener::bind(addr).await?;\n    loop {{\n        let (stream, _) = listener.accept().await?;\n        let svc = svc.clone();\n        tokio::spawn(async move {{\n            {serve}\n        }});\n    }}"
            ))
        }

        /// [`accept_loop`] serving `service_fn(closure)`.
        fn closure_loop(closure: &str) -> String {
            accept_loop(&format!(
                "let service = service_fn({closure});\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;"
            ))
        }

        /// The greeter's loop routing each request with `route` (a function
        /// of its file, given the request and the server).
        fn route_loop(route: &str) -> String {
            let serving = serving(
                "let grpc = GreeterServer::new(MyGreeter);\n    let listener = tokio::net::TcpListener::bind(addr).await?;\n    loop {\n        let (stream, _) = listener.accept().await?;\n        let (grpc, desk) = (grpc.clone(), desk.clone());\n        tokio::spawn(async move {\n            let service = service_fn(move |request| route(request, grpc.clone()));\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;\n        });\n    }",
            );
            serving.replacen("#[tokio::main]", &format!("{route}\n#[tokio::main]"), 1)
        }

        /// A route that hands gRPC requests on unchanged, and answers the rest.
        const ROUTE: &str = "async fn route(request: Request<Incoming>, mut grpc: GreeterServer<MyGreeter>) -> Result<Response<Body>, Infallible> {\n    let is_grpc = request.headers().get(\"content-type\").is_some_and(|v| v.as_bytes().starts_with(b\"application/grpc\"));\n    if is_grpc {\n        return grpc.call(request).await;\n    }\n    Ok(not_found())\n}";

        /// The decision for `frontend`'s calls in `fixture`.
        fn decided(fixture: &str) -> String {
            let findings = crate::fixture::check(PassId::Calls, fixture).findings;
            findings
                .iter()
                .find_map(|f| f.split_once(": calls to `helloworld.Greeter` "))
                .map(|(_, decision)| decision.to_string())
                .unwrap_or_else(|| format!("no decision: {findings:#?}"))
        }

        /// hyper adds nothing a handler sees (a request's deadline is kept
        /// by tonic's client over the network too): calls run inline.
        #[test]
        fn a_server_hyper_serves_as_it_is_runs_inline() {
            for serve in [
                "let _ = http2::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc)).await;",
                "let hyper_svc = hyper_util::service::TowerToHyperService::new(svc);\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection_with_upgrades(TokioIo::new(stream), hyper_svc).await;",
                "let _ = Http::new().http2_only(true).serve_connection(stream, svc).await;",
            ] {
                assert_eq!(decided(&accept_loop(serve)), INLINE, "{serve}");
            }
        }

        #[test]
        fn a_closure_that_hands_requests_on_runs_inline() {
            for closure in [
                "move |req| { let mut svc = svc.clone(); async move { svc.call(req).await } }",
                "move |req| { tracing::debug!(\"request\"); svc.clone().call(req) }",
            ] {
                assert_eq!(decided(&closure_loop(closure)), INLINE, "{closure}");
            }
            // The service made in an `async` block and awaited.
            let fixture = accept_loop(
                "let service = async move { service_fn(move |req| { let mut svc = svc.clone(); async move { svc.call(req).await } }) }.await;\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;",
            );
            assert_eq!(decided(&fixture), INLINE);
        }

        /// The loop's service routes gRPC requests to the server through a
        /// function of the service's, untouched, and the rest to HTTP.
        #[test]
        fn a_route_that_hands_grpc_requests_on_unchanged_runs_inline() {
            let fixture = route_loop(ROUTE);
            assert_eq!(decided(&fixture), INLINE);
            let registered = crate::fixture::check(PassId::Entry, &fixture);
            let registration = registered.files.iter().find_map(|(path, text)| {
                let line = text.lines().find(|l| l.contains("::provide("))?;
                Some(format!("{path}: {}", line.trim_start()))
            });
            expect!["greeter/src/main.rs: let grpc = GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(&knit_host, MyGreeter));"]
            .assert_eq(&registration.unwrap_or_default());
        }

        /// What a loop does to a gRPC request or its answer, a call in
        /// process would not: each shape keeps the calls RPC, saying why.
        #[test]
        fn a_loop_that_does_more_than_hand_requests_on_keeps_the_calls_rpc() {
            let changes = "changes the requests its hand-written hyper loop hands its server";
            let more =
                "does more in its hand-written hyper loop than hand its server gRPC requests";
            let unfollowed = "that knit does not follow to a hand-written hyper loop's connections";
            let cases = [
                // neon's storage broker: the peer's address in an extension.
                (
                    "move |mut req| { req.extensions_mut().insert(RemoteAddr(addr)); let mut svc = svc.clone(); async move { svc.call(req).await } }",
                    changes,
                ),
                (
                    "move |req| { let mut svc = svc.clone(); async move { if req.headers().get(\"authorization\").is_none() { return Ok(unauthorized()); } svc.call(req).await } }",
                    more,
                ),
                (
                    "move |req| { let mut svc = svc.clone(); async move { svc.call(req).await.map(|r| r.map(boxed)) } }",
                    more,
                ),
                (
                    "move |req| { let mut svc = svc.clone(); async move { let answer = svc.call(req).await?; Ok(answer) } }",
                    more,
                ),
                (
                    "move |req| tokio::time::timeout(LIMIT, svc.clone().call(req))",
                    more,
                ),
                (
                    "move |req| { let mut svc = svc.clone(); async move { svc.call(req).await; not_found() } }",
                    more,
                ),
                (
                    "move |req| { let mut svc = svc.clone(); async move { return svc.call(req).await; }; ready(not_found()) }",
                    more,
                ),
                (
                    "move |req| { let Ok(req) = rewrite(req) else { return bad(); }; svc.clone().call(req) }",
                    unfollowed,
                ),
                (
                    "move |req| { if let Ok(req) = rewrite(req) { svc.clone().call(req) } else { bad() } }",
                    unfollowed,
                ),
                (
                    "move |req| { match rewrite(req) { req => svc.clone().call(req) } }",
                    unfollowed,
                ),
                (
                    "move |req| { let svc = svc.clone(); move |(req, _): (Request<Incoming>, u8)| svc.call(req) }",
                    unfollowed,
                ),
            ];
            for (closure, reason) in cases {
                let decision = decided(&closure_loop(closure));
                assert!(
                    decision.starts_with("stay RPC") && decision.contains(reason),
                    "{closure}: {decision}"
                );
            }
        }

        #[test]
        fn a_route_that_changes_or_gates_requests_keeps_the_calls_rpc() {
            let cases = [
                (ROUTE.replace("(request: Request", "(mut request: Request"), "(`mut request`)"),
                (
                    ROUTE.replace("    if is_grpc {", "    if !authorized(&request) {\n        return Ok(denied());\n    }\n    if is_grpc {"),
                    "does more in its hand-written hyper loop",
                ),
                (ROUTE.replace("if is_grpc {", "if is_slow {"), "does more in its hand-written hyper loop"),
                // A function that calls itself is followed a bounded number of times.
                (
                    "async fn route(request: Request<Incoming>, grpc: GreeterServer<MyGreeter>) -> Result<Response<Body>, Infallible> {\n    if false { return route(request, grpc).await; }\n    grpc.call(request).await\n}".to_string(),
                    "stay RPC",
                ),
            ];
            for (route, reason) in cases {
                let decision = decided(&route_loop(&route));
                assert!(
                    decision.starts_with("stay RPC") && decision.contains(reason),
                    "{route}: {decision}"
                );
            }
        }

        /// What serves the connection must be hyper's, over HTTP/2, on a
        /// connection a plain listener accepted.
        #[test]
        fn a_connection_knit_cannot_follow_keeps_the_calls_rpc() {
            let cases = [
                (
                    "let stream = acceptor.accept(stream).await?;\n            let _ = http2::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc)).await;",
                    "serves its server on connections knit does not follow to a plain listener",
                ),
                (
                    "let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc)).await;",
                    "over HTTP/1 only",
                ),
                (
                    "let _ = http2::Builder::new(TokioExecutor::new()).serve_connection(TowerToHyperService::new(svc), TokioIo::new(stream)).await;",
                    "as other than the service",
                ),
                (
                    "let service = ServiceBuilder::new().layer(auth()).service(svc);\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).await;",
                    "hands its server to `.service(..)` on its way to being served, and serves it from a hand-written hyper loop (`serve_connection`): calls cannot reach that stack in process",
                ),
                (
                    "let f = move |req| svc.clone().call(req);\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service_fn(f)).await;",
                    "that knit does not follow to a hand-written hyper loop's connections",
                ),
                (
                    "let service = TowerToHyperService::new(svc);\n            proxy(service).await;",
                    "hands the hyper service of its server to `proxy(service)`",
                ),
                (
                    "let service = wrap(move |req| svc.clone().call(req));\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;",
                    "that knit does not follow to a hand-written hyper loop's connections",
                ),
            ];
            for (serve, reason) in cases {
                let decision = decided(&accept_loop(serve));
                assert!(
                    decision.starts_with("stay RPC") && decision.contains(reason),
                    "{serve}: {decision}"
                );
            }
        }

        /// A `serve_connection` or `service_fn` of the service's own may do
        /// anything.
        #[test]
        fn functions_of_the_services_own_by_hypers_names_keep_the_calls_rpc() {
            for (own, serve) in [
                (
                    "fn service_fn<F>(f: F) -> Gate<F> { Gate::new(f) }",
                    "let service = service_fn(move |req| svc.clone().call(req));\n            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;",
                ),
                (
                    "impl Gate { async fn serve_connection<I, S>(&self, io: I, svc: S) { auth(svc).serve(io).await } }",
                    "let _ = Gate.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc)).await;",
                ),
            ] {
                let fixture = accept_loop(serve).replacen(
                    "#[tokio::main]",
                    &format!("{own}\n#[tokio::main]"),
                    1,
                );
                let decision = decided(&fixture);
                assert!(
                    decision.starts_with("stay RPC")
                        && decision.contains("of its own, which knit does not follow"),
                    "{own}: {decision}"
                );
            }
        }
    }
}
