//! Where the channel a client constructor is given comes from: the argument
//! itself, or the `let` of the same function it names, and what its `Endpoint`
//! chain sets (an eager `connect()`, a per-request `timeout`).

use ra_ap_syntax::ast::{self, HasArgList, HasAttrs, HasName};
use ra_ap_syntax::{AstNode, TextRange, TextSize};

use crate::model::{FileId, Group, ServiceId};
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
    let ast::Expr::PathExpr(path) = &e else {
        return None;
    };
    let name = path.path()?.as_single_name_ref()?.text().to_string();
    let binding = crate::locals::binding(path.syntax(), &name)?;
    let connect = eager_connect(&binding.initializer()?)?;
    let after = binding.syntax().text_range().end();
    let uses = binding
        .syntax()
        .parent()?
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

/// Where the client made by `XClient::connect(..)` (mention `m`) is in hand:
/// the end of `XClient::connect(..).await?`, `.await.unwrap()` or
/// `.await.expect(..)`, where the client can be given its channel's timeout.
pub fn connected_end(group: &Group, m: &Mention) -> Option<TextSize> {
    let Usage::Call { call, .. } = &m.usage else {
        return None;
    };
    let tree = group.file(m.file).rust.as_ref()?.tree();
    let awaited = ast::AwaitExpr::cast(expr_at(&tree, *call)?.syntax().parent()?)?;
    let outer = awaited.syntax().parent()?;
    if let Some(tried) = ast::TryExpr::cast(outer.clone()) {
        return Some(tried.syntax().text_range().end());
    }
    let unwrapped = ast::MethodCallExpr::cast(outer)?;
    let receiver = unwrapped.receiver()?;
    let name = unwrapped.name_ref()?.text().to_string();
    (receiver.syntax() == awaited.syntax() && ["unwrap", "expect"].contains(&name.as_str()))
        .then(|| unwrapped.syntax().text_range().end())
}

/// The per-request timeout (`Endpoint::timeout(d)`) of the channel a client
/// is made on.
pub enum ChannelTimeout {
    /// The channel was followed to its `Endpoint` or `Channel` constructor:
    /// it has none; or `connect` is given a URL (a string), which has none.
    Unset,
    /// A constant (literals, consts and `Duration::from_*` of them), which the
    /// in-process client can be given too.
    Constant(ast::Expr),
    /// A value knit cannot write again elsewhere.
    Computed(ast::Expr),
    /// The channel (or the endpoint `connect` dials) comes from where knit
    /// cannot follow it (a parameter, a field, a helper function).
    Unknown,
    /// The client is given its channel inside a wrapper (the text of the
    /// call, e.g. `Timeout::new(..)`, `.service(..)`): the wrapper's
    /// behaviour (a tower timeout, a layer) is the client's own.
    Wrapped(String),
}

impl ChannelTimeout {
    /// What a channel that holds one of several values holds: the first
    /// that keeps the client's channel (a wrapper, a timeout; `Unknown`), or
    /// `Unset` when none has a timeout (or there are none).
    fn of_all(each: impl Iterator<Item = ChannelTimeout>) -> ChannelTimeout {
        for one in each {
            match one {
                ChannelTimeout::Unset => {}
                // A constant of one value among others: not the channel's.
                ChannelTimeout::Constant(d) => return ChannelTimeout::Computed(d),
                other => return other,
            }
        }
        ChannelTimeout::Unset
    }
}

/// The timeout of the channel the client constructor `m` (`XClient::new(channel)`,
/// `with_interceptor`, `with_origin`) is given, or of the endpoint
/// `XClient::connect(dst)` dials, followed through `let`s of the same function;
/// `None` for other mentions. A `dst` knit cannot tell is a URL (a string
/// literal, `format!`, `env::var`, `String::from`, a function of the file that
/// returns `String`, `&str` or `Uri`) is `Unknown`: it may be an `Endpoint`.
pub fn timeout(group: &Group, m: &Mention) -> Option<ChannelTimeout> {
    let Usage::Call { method, args, .. } = &m.usage else {
        return None;
    };
    // `connect` takes an `Endpoint` too, or a URL (which has no timeout).
    let dialled = method == "connect";
    if !dialled && !["new", "with_interceptor", "with_origin"].contains(&method.as_str()) {
        return None;
    }
    let rust = group.file(m.file).rust.as_ref()?;
    let tree = rust.tree();
    let Some(e) = args.first().and_then(|arg| expr_at(&tree, *arg)) else {
        return Some(ChannelTimeout::Unknown);
    };
    Some(timeout_of(group, rust.krate, e, dialled, 0))
}

/// The timeout of the channel `e` (a client constructor's argument) holds,
/// or of the endpoint it is when `dialled`, followed through `let`s and the
/// fields of the crate `krate` (each value its struct literals give it),
/// `depth` fields deep.
fn timeout_of(
    group: &Group,
    krate: FileId,
    mut e: ast::Expr,
    dialled: bool,
    depth: u8,
) -> ChannelTimeout {
    loop {
        let next = match e {
            ast::Expr::Literal(_) if dialled => return ChannelTimeout::Unset,
            ast::Expr::MacroExpr(m) if dialled && string_macro(&m) => {
                return ChannelTimeout::Unset;
            }
            ast::Expr::RefExpr(r) => r.expr(),
            ast::Expr::TryExpr(t) => t.expr(),
            ast::Expr::AwaitExpr(a) => a.expr(),
            ast::Expr::ParenExpr(p) => p.expr(),
            ast::Expr::MethodCallExpr(call) => {
                let args: Vec<ast::Expr> = call
                    .arg_list()
                    .map(|a| a.args().collect())
                    .unwrap_or_default();
                let name = call.name_ref().map(|n| n.text().to_string());
                if name.as_deref() == Some("service") && !dialled {
                    // `ServiceBuilder::new().layer(..).service(channel)`.
                    return ChannelTimeout::Wrapped(".service(..)".into());
                }
                if let ([d], Some("timeout")) = (args.as_slice(), name.as_deref()) {
                    // The last `timeout` of the chain is the one that holds.
                    return if constant(d) {
                        ChannelTimeout::Constant(d.clone())
                    } else {
                        ChannelTimeout::Computed(d.clone())
                    };
                }
                call.receiver()
            }
            ast::Expr::PathExpr(path) => {
                let name = path.syntax().text().to_string();
                crate::locals::shadowed_binding(path.syntax(), &name)
                    .filter(|b| !crate::locals::changed(b))
                    .and_then(|b| b.initializer())
            }
            // `self.channel`: every value the crate's struct literals give
            // the field, each followed.
            ast::Expr::FieldExpr(field) if depth < 4 => {
                let Some(values) = crate::fields::values(group, krate, &field) else {
                    return ChannelTimeout::Unknown;
                };
                let each = values
                    .into_iter()
                    .map(|(_, value)| timeout_of(group, krate, value, dialled, depth + 1));
                return ChannelTimeout::of_all(each);
            }
            ast::Expr::CallExpr(call) => {
                let ty = callee(&call).and_then(|(qualifier, _)| qualifier);
                // `Timeout::new(channel, d)`, `ConcurrencyLimit::new(channel, n)`,
                // a tracing client's `TracingService::new(channel)`: a transport
                // wrapped around the channel.
                if let Some((Some(wrapper), function)) = callee(&call)
                    && function == "new"
                    && !dialled
                    && !["Endpoint", "Channel"].contains(&wrapper.as_str())
                    && call.arg_list().is_some_and(|a| a.args().count() >= 1)
                {
                    return ChannelTimeout::Wrapped(format!("{wrapper}::new(..)"));
                }
                // Endpoints given to `Channel::balance_list` may carry timeouts
                // of their own, one each: those clients keep their channel.
                let spread = call
                    .syntax()
                    .descendants()
                    .filter_map(ast::MethodCallExpr::cast)
                    .filter(|c| c.name_ref().is_some_and(|n| n.text() == "timeout"))
                    .find_map(|c| c.arg_list()?.args().next());
                let file = call
                    .syntax()
                    .ancestors()
                    .last()
                    .and_then(ast::SourceFile::cast);
                return match (ty.as_deref(), spread) {
                    (Some("Endpoint" | "Channel"), Some(timeout)) => {
                        ChannelTimeout::Computed(timeout)
                    }
                    (Some("Endpoint" | "Channel"), None) => ChannelTimeout::Unset,
                    _ if dialled && file.is_some_and(|f| returns_a_url(&f, &call)) => {
                        ChannelTimeout::Unset
                    }
                    _ => ChannelTimeout::Unknown,
                };
            }
            _ => None,
        };
        match next {
            Some(next) => e = next,
            None => return ChannelTimeout::Unknown,
        }
    }
}

/// The function `call` calls by path: the last segment of its qualifier
/// (`Duration` of `std::time::Duration::from_secs`), and its name.
fn callee(call: &ast::CallExpr) -> Option<(Option<String>, String)> {
    let ast::Expr::PathExpr(callee) = call.expr()? else {
        return None;
    };
    let path = callee.path()?;
    let name = path.segment()?.name_ref()?.text().to_string();
    let qualifier = path
        .qualifier()
        .and_then(|q| q.segment()?.name_ref())
        .map(|n| n.text().to_string());
    Some((qualifier, name))
}

/// Whether `m` is `format!`, `concat!` or `env!`: a string.
fn string_macro(m: &ast::MacroExpr) -> bool {
    let name = m.macro_call().and_then(|c| c.path()?.segment()?.name_ref());
    name.is_some_and(|n| ["format", "concat", "env"].iter().any(|m| n.text() == *m))
}

/// Whether `call` returns a URL rather than an `Endpoint`: `env::var(..)`,
/// `String::from(..)`, or a function of the file declared to return `String`,
/// `&str` or `Uri`.
fn returns_a_url(tree: &ast::SourceFile, call: &ast::CallExpr) -> bool {
    let Some((qualifier, name)) = callee(call) else {
        return false;
    };
    match (qualifier.as_deref(), name.as_str()) {
        (Some("env"), "var") | (Some("String"), "from") => true,
        (None, name) => tree
            .syntax()
            .descendants()
            .filter_map(ast::Fn::cast)
            .any(|f| {
                let returns = f
                    .ret_type()
                    .and_then(|r| r.ty())
                    .map(|t| t.syntax().to_string());
                f.name().is_some_and(|n| n.text() == name)
                    && returns.is_some_and(|t| {
                        ["String", "&str", "&'static str", "Uri", "http::Uri"].contains(&t.as_str())
                    })
            }),
        _ => false,
    }
}

/// Where a file of `service` may set a channel's timeout: a `.timeout(d)`
/// call on anything but tonic's server builder (`Server::builder()`), if one does.
pub fn sets_timeout(group: &Group, service: ServiceId) -> Option<(FileId, TextSize)> {
    let files = group
        .rust_files()
        .filter(|(_, file, _)| file.service == service && file.text.contains(".timeout("));
    for (id, _, rust) in files {
        if let Some(at) = channel_timeout_in(rust.tree().syntax()) {
            return Some((id, at));
        }
    }
    None
}

/// The files `service` owns (shared ones too) that call `.timeout(`: where
/// [`sets_timeout_near`] looks for helpers.
pub fn timeout_files(group: &Group, service: ServiceId) -> Vec<FileId> {
    group
        .rust_files()
        .filter(|(_, file, _)| {
            file.owners().any(|o| o.service == service) && file.text.contains(".timeout(")
        })
        .map(|(id, _, _)| id)
        .collect()
}

/// Where the code that makes the channel of client constructor `m` may set a
/// channel's timeout: the function `m` is in, or a function of `files` (its
/// service's [`timeout_files`]) that one calls (`create_endpoint(url)?`).
pub fn sets_timeout_near(
    group: &Group,
    m: &Mention,
    files: &[FileId],
) -> Option<(FileId, TextSize)> {
    // No file of the service spells `.timeout(`: neither `m`'s nor a helper's.
    if files.is_empty() {
        return None;
    }
    let tree = group.file(m.file).rust.as_ref()?.tree();
    let node = match tree.syntax().covering_element(m.path) {
        ra_ap_syntax::NodeOrToken::Node(node) => node,
        ra_ap_syntax::NodeOrToken::Token(token) => token.parent()?,
    };
    let function = node.ancestors().find_map(ast::Fn::cast)?;
    if let Some(at) = channel_timeout_in(function.syntax()) {
        return Some((m.file, at));
    }
    let called: std::collections::BTreeSet<String> = function
        .syntax()
        .descendants()
        .filter_map(ast::CallExpr::cast)
        .filter_map(|call| callee(&call).map(|(_, name)| name))
        .collect();
    for &id in files {
        let Some(rust) = group.file(id).rust.as_ref() else {
            continue;
        };
        let tree = rust.tree();
        let helpers = tree.syntax().descendants().filter_map(ast::Fn::cast);
        for helper in helpers.filter(|f| f.name().is_some_and(|n| called.contains(n.text()))) {
            if let Some(at) = channel_timeout_in(helper.syntax()) {
                return Some((id, at));
            }
        }
    }
    None
}

/// The first `.timeout(d)` under `node` on anything but tonic's server
/// builder or an HTTP client's builder ([`not_a_channel`]).
fn channel_timeout_in(node: &ra_ap_syntax::SyntaxNode) -> Option<TextSize> {
    for call in node.descendants().filter_map(ast::MethodCallExpr::cast) {
        let one_argument = call.arg_list().is_some_and(|a| a.args().count() == 1);
        if !one_argument || call.name_ref().is_none_or(|n| n.text() != "timeout") {
            continue;
        }
        if !chain_root(call.receiver())
            .as_deref()
            .is_some_and(not_a_channel)
        {
            return Some(call.syntax().text_range().start());
        }
    }
    None
}

/// The path of the call a builder chain starts at (`Client::builder` in
/// `Client::builder().user_agent(..)?`), through the `let`s of a local it
/// starts at instead (`let request = Client::new().request(..); request` is
/// `Client::new`): the last `let` of that name before it, without attributes.
fn chain_root(mut e: Option<ast::Expr>) -> Option<String> {
    // Bounded: a `let` refers only to those before it.
    for _ in 0..8 {
        e = match e? {
            ast::Expr::MethodCallExpr(inner) => inner.receiver(),
            ast::Expr::TryExpr(t) => t.expr(),
            ast::Expr::AwaitExpr(a) => a.expr(),
            ast::Expr::ParenExpr(p) => p.expr(),
            ast::Expr::CallExpr(root) => {
                return match root.expr()? {
                    ast::Expr::PathExpr(callee) => {
                        callee.path().map(|p| p.syntax().text().to_string())
                    }
                    _ => None,
                };
            }
            ast::Expr::PathExpr(local) => {
                let path = local.path()?;
                let name = path.as_single_name_ref()?.text().to_string();
                let (_, binding) = crate::locals::last_let_where(local.syntax(), |b| {
                    crate::locals::binds(b, &name)
                })?;
                if binding.attrs().next().is_some() {
                    return None;
                }
                binding.initializer()
            }
            _ => return None,
        };
    }
    None
}

/// Builders whose `.timeout(d)` is no gRPC channel's: tonic's server, and the
/// HTTP clients services use beside gRPC (`reqwest::Client::builder()`, a
/// request of `Client::new()`).
fn not_a_channel(root: &str) -> bool {
    const BUILDERS: [&str; 6] = [
        "Server::builder",
        "Client::builder",
        "Client::new",
        "ClientBuilder::new",
        "ClientBuilder::default",
        "AgentBuilder::new",
    ];
    BUILDERS.iter().any(|b| root.ends_with(b)) || root.starts_with("reqwest::")
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
            let Some((ty, function)) = callee(call) else {
                return false;
            };
            let duration = ty.as_deref() == Some("Duration")
                && (function.starts_with("from_") || function == "new");
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
    use crate::pass::PassId;

    /// `frontend`'s main, making a client on `channel` (an expression).
    fn frontend(channel: &str) -> String {
        with_frontend(&format!(
            "use std::time::Duration;\nuse tonic::transport::Endpoint;\nuse hello::greeter_client::GreeterClient;\nmod hello {{ tonic::include_proto!(\"helloworld\"); }}\nconst TIMEOUT: Duration = Duration::from_millis(250);\n#[tokio::main]\nasync fn main() {{\n    let client = GreeterClient::new({channel});\n}}\n"
        ))
    }

    #[test]
    fn a_constant_channel_timeout_is_given_to_the_in_process_client() {
        let out = check(
            PassId::Calls,
            &frontend(
                "Endpoint::from_static(\"http://g\").timeout(Duration::from_secs(1)).timeout(TIMEOUT).connect_lazy()",
            ),
        );
        expect![[r#"
            //- /frontend/src/main.rs
            use std::time::Duration;
            use tonic::transport::Endpoint;
            mod hello { pub use knit_proto_helloworld::*; }
            const TIMEOUT: Duration = Duration::from_millis(250);
            #[tokio::main]
            async fn main() {
                let client = knit_proto_helloworld::greeter_inline::GreeterClient::new(Endpoint::from_static("http://g").timeout(Duration::from_secs(1)).timeout(TIMEOUT).connect_lazy()).with_channel_timeout(TIMEOUT);
            }
            Call(Inline) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]]
        .assert_eq(&out.render("frontend/src/main.rs"));
    }

    #[test]
    fn a_channel_knit_cannot_follow_keeps_the_call_rpc_when_the_service_sets_timeouts() {
        let made = frontend("make()").replace(
            "#[tokio::main]",
            "fn make() -> tonic::transport::Channel {\n    Endpoint::from_static(\"http://g\").timeout(TIMEOUT).connect_lazy()\n}\n#[tokio::main]",
        );
        expect!["Call(Bridged) frontend/src/main.rs:11: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:7: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:7, which an in-process client would not keep"]
            .assert_eq(&check(PassId::Calls, &made).findings.join("\n"));
        let untimed = made.replace(".timeout(TIMEOUT)", "");
        expect!["Call(Inline) frontend/src/main.rs:11: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
            .assert_eq(&check(PassId::Calls, &untimed).findings.join("\n"));
        // An HTTP client's timeout is not the channel's.
        let http = untimed.replace(
            "#[tokio::main]",
            "fn http() -> reqwest::Client {\n    reqwest::Client::builder().timeout(TIMEOUT).build().unwrap()\n}\n#[tokio::main]",
        );
        expect!["Call(Inline) frontend/src/main.rs:14: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
            .assert_eq(&check(PassId::Calls, &http).findings.join("\n"));
        // Nor an HTTP request's, given its timeout through a `let` (under a
        // `#[cfg]` too).
        let request = untimed.replace(
            "#[tokio::main]",
            "async fn fetch(url: String) -> reqwest::Result<reqwest::Response> {\n    let request = Client::new().request(Method::GET, url).body(Vec::new());\n    #[cfg(not(web))]\n    let request = request.timeout(TIMEOUT);\n    request.send().await\n}\n#[tokio::main]",
        );
        expect!["Call(Inline) frontend/src/main.rs:17: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
            .assert_eq(&check(PassId::Calls, &request).findings.join("\n"));
        // A local that holds an endpoint is a channel's.
        let endpoint = untimed.replace(
            "    Endpoint::from_static(\"http://g\").connect_lazy()",
            "    let endpoint = Endpoint::from_static(\"http://g\");\n    let endpoint = endpoint.timeout(TIMEOUT);\n    endpoint.connect_lazy()",
        );
        expect!["Call(Bridged) frontend/src/main.rs:13: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:9: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:8, which an in-process client would not keep"]
            .assert_eq(&check(PassId::Calls, &endpoint).findings.join("\n"));
    }

    /// A channel knit cannot follow: the timeout cited is the one the code
    /// that makes it sets (a helper the function calls), not another.
    #[test]
    fn the_timeout_cited_is_where_the_clients_channel_is_made() {
        let fixture = frontend("channel").replace(
            "    let client",
            "    let mut endpoint = endpoint(\"http://g\");\n    if slow() { endpoint = endpoint.tcp_nodelay(true); }\n    let channel = endpoint.connect().await.unwrap();\n    let client",
        ).replace(
            "#[tokio::main]",
            "fn pool() -> Pool {\n    Pool::builder().timeout(TIMEOUT).build()\n}\nfn endpoint(url: &'static str) -> Endpoint {\n    Endpoint::from_static(url).timeout(TIMEOUT)\n}\n#[tokio::main]",
        );
        expect!["Call(Bridged) frontend/src/main.rs:17: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:16: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:10, which an in-process client would not keep"]
            .assert_eq(&check(PassId::Calls, &fixture).findings.join("\n"));
    }

    /// Clients dialling an address from a config file, connected anew for
    /// each request, convert by the client's type.
    #[test]
    fn a_client_connected_per_request_to_a_configured_address_converts() {
        let fixture = with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\nstruct Config { greeter_url: String }\nstruct Front { config: Config }\nimpl Front {\n    async fn welcome(&self) -> String {\n        let mut client = GreeterClient::connect(self.config.greeter_url.clone()).await.unwrap();\n        String::new()\n    }\n}\n#[tokio::main]\nasync fn main() {\n    let config: Config = toml::from_str(&std::fs::read_to_string(\"front.toml\").unwrap()).unwrap();\n}\n",
        );
        expect!["Call(Inline) frontend/src/main.rs:7: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
            .assert_eq(&check(PassId::Calls, &fixture).findings.join("\n"));
    }

    /// A wrapper around the client's own channel is the reason cited, not a
    /// timeout set elsewhere in the service.
    #[test]
    fn a_channel_wrapped_in_a_tower_timeout_is_the_reason() {
        let wrapped = frontend("timed").replace(
            "    let client",
            "    let channel = Endpoint::from_static(\"http://g\").connect_lazy();\n    let timed = tower::timeout::Timeout::new(channel, TIMEOUT);\n    let client",
        ).replace(
            "#[tokio::main]",
            "fn retries() -> Retry {\n    Retry::builder().timeout(TIMEOUT).build()\n}\n#[tokio::main]",
        );
        expect!["Call(Bridged) frontend/src/main.rs:13: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:11: `GreeterClient::new` is given its channel inside `Timeout::new(..)`, a transport of the client's own"]
            .assert_eq(&check(PassId::Calls, &wrapped).findings.join("\n"));
        let layered = frontend(
            "ServiceBuilder::new().layer(TimeoutLayer::new(TIMEOUT)).service(channel)",
        )
        .replace(
            "    let client",
            "    let channel = Endpoint::from_static(\"http://g\").connect_lazy();\n    let client",
        );
        expect!["Call(Bridged) frontend/src/main.rs:9: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: `GreeterClient::new` runs over a transport of its own (tower layers)"]
            .assert_eq(&check(PassId::Calls, &layered).findings.join("\n"));
        let bound = frontend("svc").replace(
            "    let client",
            "    let channel = Endpoint::from_static(\"http://g\").connect_lazy();\n    let svc = ServiceBuilder::new().layer(TimeoutLayer::new(TIMEOUT)).service(channel);\n    let client",
        );
        expect!["Call(Bridged) frontend/src/main.rs:10: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: `GreeterClient::new` is given its channel inside `.service(..)`, a transport of the client's own"]
            .assert_eq(&check(PassId::Calls, &bound).findings.join("\n"));
        // A tracing client of the repository's own around the channel.
        let traced = frontend("traced").replace(
            "    let client",
            "    let channel = Endpoint::from_static(\"http://g\").connect().await.unwrap();\n    let traced = TracingServiceClient::new(channel);\n    let client",
        );
        expect!["Call(Bridged) frontend/src/main.rs:10: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: `GreeterClient::new` is given its channel inside `TracingServiceClient::new(..)`, a transport of the client's own"]
            .assert_eq(&check(PassId::Calls, &traced).findings.join("\n"));
        // The same behind a shadowed name knit does not follow: the client's
        // type says it.
        let shadowed = frontend("client").replace(
            "    let client = GreeterClient",
            "    let client = TracingServiceClient::new(channel());\n    let client: GreeterClient<TracingServiceClient<Channel>> = GreeterClient",
        );
        expect!["Call(Rpc) frontend/src/main.rs:9: calls to `helloworld.Greeter` stay RPC: `GreeterClient<TracingServiceClient<Channel>>` runs over `TracingServiceClient<Channel>`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:9 is connected: its channel comes from `channel()`, which knit does not follow"]
            .assert_eq(&check(PassId::Calls, &shadowed).findings.join("\n"));
    }

    #[test]
    fn timeouts_in_balanced_endpoints_reassigned_channels_and_dialled_endpoints_route_the_calls() {
        let cases = [
            "Channel::balance_list([\"http://g\"].into_iter().map(|u| Endpoint::from_static(u).timeout(TIMEOUT)))",
            "{ let mut e = Endpoint::from_static(\"http://g\"); e = e.timeout(TIMEOUT); e.connect_lazy() }",
        ];
        let found: Vec<String> = cases
            .iter()
            .map(|channel| {
                check(
                    PassId::Calls,
                    &frontend(channel).replace(
                        "use tonic::transport::Endpoint;",
                        "use tonic::transport::{Channel, Endpoint};",
                    ),
                )
                .findings
                .join("\n")
            })
            .collect();
        expect![[r#"
            [
                "Call(Bridged) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: the channel `GreeterClient::new` is given has a timeout an in-process client could not be given (`.timeout(TIMEOUT)`)",
                "Call(Bridged) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:8, which an in-process client would not keep",
            ]
        "#]].assert_debug_eq(&found);
        let dialled = |connect: &str| {
            let made = frontend("x").replace("GreeterClient::new(x)", connect);
            check(PassId::Calls, &made).findings.join("\n")
        };
        expect!["Call(Bridged) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: `GreeterClient::connect` dials an endpoint with a timeout (`.timeout(TIMEOUT)`) and its client is not taken at once (`.await?`, `.await.unwrap()`, `.await.expect(..)`), where an in-process client would be given it"].assert_eq(&dialled(
            "{ let connecting = GreeterClient::connect(Endpoint::from_static(\"http://g\").timeout(TIMEOUT)); connecting.await.unwrap() }",
        ));
        expect!["Call(Bridged) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: `GreeterClient::connect` dials an endpoint with a timeout an in-process client could not be given (`.timeout(settings().timeout)`)"].assert_eq(&dialled(
            "GreeterClient::connect(Endpoint::from_static(\"http://g\").timeout(settings().timeout)).await.unwrap()",
        ));
    }

    /// `XClient::connect(dst)` of a `dst` knit cannot follow may dial an
    /// endpoint with a timeout: the calls stay RPC when the service sets one
    /// anywhere; URLs (strings) have none.
    #[test]
    fn connect_of_what_knit_cannot_follow_stays_rpc_when_the_service_sets_timeouts() {
        let helpers = "fn endpoint() -> Endpoint {\n    Endpoint::from_static(\"http://g\").timeout(TIMEOUT)\n}\nfn address() -> String {\n    \"http://g\".into()\n}\n#[tokio::main]";
        let dialled = |connect: &str| {
            let made = frontend("x")
                .replace("GreeterClient::new(x)", connect)
                .replace("#[tokio::main]", helpers);
            let findings = check(PassId::Calls, &made).findings;
            let calls: Vec<String> = findings
                .into_iter()
                .filter(|f| f.starts_with("Call"))
                .collect();
            calls.join("\n")
        };
        expect!["Call(Bridged) frontend/src/main.rs:14: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:14: `GreeterClient::connect` dials what may be an endpoint made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:7, which an in-process client would not keep"]
            .assert_eq(&dialled("GreeterClient::connect(endpoint()).await.unwrap()"));
        let urls = [
            "GreeterClient::connect(address()).await.unwrap()",
            "GreeterClient::connect(\"http://g\").await.unwrap()",
            "GreeterClient::connect(format!(\"http://{}\", \"g\")).await.unwrap()",
            "GreeterClient::connect(std::env::var(\"G\").unwrap_or_else(|_| \"http://g\".to_string())).await.unwrap()",
            "{ let url = address(); GreeterClient::connect(url.clone()).await.unwrap() }",
        ];
        for connect in urls {
            expect!["Call(Inline) frontend/src/main.rs:14: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
                .assert_eq(&dialled(connect));
        }
    }

    /// `XClient::connect(endpoint)`: the client is given the endpoint's constant
    /// timeout where it is in hand.
    #[test]
    fn a_dialled_endpoints_constant_timeout_is_given_to_the_connected_client() {
        for taken in [".await?", ".await.unwrap()", ".await.expect(\"greeter\")"] {
            let made = frontend("x").replace(
                "GreeterClient::new(x)",
                &format!("GreeterClient::connect(Endpoint::from_static(\"http://g\").timeout(TIMEOUT)){taken}"),
            );
            let out = check(PassId::Calls, &made);
            let line = out
                .render("frontend/src/main.rs")
                .lines()
                .find(|l| l.contains("let client"))
                .unwrap()
                .trim()
                .to_string();
            assert_eq!(
                line,
                format!(
                    "let client = knit_proto_helloworld::greeter_inline::GreeterClient::connect(Endpoint::from_static(\"http://g\").timeout(TIMEOUT)){taken}.with_channel_timeout(TIMEOUT);"
                ),
            );
            expect!["Call(Inline) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
                .assert_eq(&out.findings.join("\n"));
        }
    }

    #[test]
    fn a_channel_timeout_knit_cannot_copy_keeps_the_call_rpc() {
        let out = check(
            PassId::Calls,
            &frontend(
                "Endpoint::from_static(\"http://g\").timeout(settings().timeout).connect_lazy()",
            ),
        );
        expect!["Call(Bridged) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: the channel `GreeterClient::new` is given has a timeout an in-process client could not be given (`.timeout(settings().timeout)`)"]
            .assert_eq(&out.findings.join("\n"));
    }
}
