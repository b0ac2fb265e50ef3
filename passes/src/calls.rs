//! The `calls` pass: client constructors of services merged into the same binary
//! become in-process clients.
//!
//! For each decision of [`Sharing`]: an inline call site's client type mentions are
//! rewritten to the shared crate's in-process client (`X::connect(url)` keeps its
//! arguments; `XClient<Channel>` loses its transport parameter); calls on the
//! client stay as written. The modules of both services that include the shared
//! proto package re-export the shared crate, so one set of message types serves
//! both. Every other call site is reported with the reason it stays an RPC.

use std::collections::{BTreeMap, BTreeSet};

use knit_codegen::names::runtime::{BRIDGE, CHANNEL, REGISTRY};
use ra_ap_syntax::ast::{self, HasArgList, HasGenericArgs};
use ra_ap_syntax::{AstNode, TextRange, TextSize};

use crate::channels::{channel_of, expr_at, without_clones};
use crate::edit::Output;
use crate::model::{FileId, Group, PackageRef, relative_path};
use crate::names::{Mention, Role, Usage};
use crate::pass::PassId;
use crate::routes::ConnectKind;
use crate::sharing::{Decision, Sharing, call_site};

const PASS: PassId = PassId::Calls;

pub fn run(group: &Group, sharing: &Sharing) -> Output {
    let mut out = Output::default();
    // Shared crate name -> the services' packages whose sources name it.
    let mut dependents: BTreeMap<String, BTreeSet<PackageRef>> = BTreeMap::new();
    for m in sharing
        .index
        .mentions
        .iter()
        .filter(|m| m.named.role == Role::Client)
    {
        let decision = &sharing.calls[&(m.service, m.named.clone())];
        let shared = sharing.package(&m.named.package);
        if matches!(m.usage, Usage::Call { .. } | Usage::Other) {
            out.calls.push(call_site(group, m, decision, shared));
        }
        match decision {
            Decision::Bridged { .. } => {
                bridge(group, m, &mut out);
                continue;
            }
            // The client is kept as written: only where its channel is
            // connected changes (`route_channels`).
            Decision::Routed { .. } => continue,
            _ => {}
        }
        let (Decision::Inline { .. }, Some(shared)) = (decision, shared) else {
            continue;
        };
        if matches!(m.usage, Usage::Type | Usage::Call { .. }) {
            let users = dependents.entry(shared.package_name()).or_default();
            users.extend(group.file(m.file).package_ref(m.service));
        }
        let client = format!(
            "{}::{}Client",
            shared.inline_module(&m.named.service),
            crate::names::upper_camel(&m.named.service)
        );
        match &m.usage {
            // The alias is rewritten; paths through it then name the new client.
            Usage::Type if m.aliased => {}
            Usage::Type => out.edit(
                PASS,
                m.file,
                m.path,
                &client,
                "client type: in-process client",
            ),
            Usage::Call { method, call, .. } => {
                if !m.aliased {
                    out.edit(
                        PASS,
                        m.file,
                        m.path,
                        &client,
                        format!("`{method}`: in-process client"),
                    );
                }
                if let Some((end, timeout)) =
                    sharing
                        .channel_timeouts
                        .get(&(m.file, call.start(), call.end()))
                {
                    out.edit(
                        PASS,
                        m.file,
                        TextRange::empty(*end),
                        format!(".with_channel_timeout({timeout})"),
                        "the channel's timeout: kept in process",
                    );
                }
            }
            Usage::Import | Usage::Other => {}
        }
    }
    // The provider's registration (`entry`) names the shared crate too, in
    // whichever package builds its server (not always the one that includes
    // the proto package: a shared proto crate does).
    for m in sharing
        .index
        .mentions
        .iter()
        .filter(|m| m.named.role == Role::Server)
    {
        let Some(shared) = sharing.package(&m.named.package) else {
            continue;
        };
        if sharing.provider_of(&m.named) == Some(m.service) {
            let users = dependents.entry(shared.package_name()).or_default();
            users.extend(group.file(m.file).package_ref(m.service));
        }
    }
    let routed = route_channels(group, sharing, &mut out);
    dial_only_when_needed(group, sharing, &routed, &mut out);
    for shared in &sharing.packages {
        let mut packages = dependents
            .remove(&shared.package_name())
            .unwrap_or_default();
        for &user in &shared.users {
            for module in sharing.index.modules_of(user, &shared.package) {
                let reexport = match module.body {
                    true => format!(" {{ pub use {}::*; }}", shared.crate_name()),
                    false => format!("pub use {}::*;", shared.crate_name()),
                };
                let note = format!("proto package `{}`: shared types", shared.package);
                out.edit(PASS, module.file, module.include, reexport, note);
                packages.extend(group.file(module.file).package_ref(user));
            }
        }
        for PackageRef { service, package } in packages {
            let package = &group.services[service].packages[package];
            let path = relative_path(&package.dir, &shared.dir());
            let op = crate::manifest::ManifestOp::AddPathDependency {
                key: shared.package_name(),
                path,
            };
            out.manifest_ops.push((package.manifest, op));
        }
    }
    out
}

/// An eagerly connecting channel (`endpoint.connect().await`) that feeds only
/// clients this pass converts would still dial the callee at start-up, although
/// in the merged binary nothing uses it (and the callee's listener may be off).
/// Its `connect()` becomes `knit_runtime::registry::connect(endpoint, services)`,
/// which connects lazily when this process hosts every service the channel is
/// for, and as before otherwise. The channel is the constructor's argument
/// itself, or a `let` binding of the same function whose every use is such a
/// constructor's argument; any other use leaves it as it is.
fn dial_only_when_needed(
    group: &Group,
    sharing: &Sharing,
    routed: &BTreeSet<(FileId, u32, u32)>,
    out: &mut Output,
) {
    /// An eager `connect()` call: the services it is for, its converted uses,
    /// and all uses of the binding that holds it (1 when it is an argument).
    #[derive(Default)]
    struct Channel {
        services: BTreeSet<String>,
        converted: usize,
        uses: usize,
    }
    // Keyed by the `connect()` call's start and end.
    let mut channels: BTreeMap<(FileId, u32, u32), Channel> = BTreeMap::new();
    for m in &sharing.index.mentions {
        let Usage::Call { method, args, .. } = &m.usage else {
            continue;
        };
        let in_process = match sharing.calls.get(&(m.service, m.named.clone())) {
            Some(Decision::Inline { .. }) => sharing.package(&m.named.package).is_some(),
            Some(Decision::Bridged { .. }) => true,
            _ => false,
        };
        let constructor = ["new", "with_interceptor", "with_origin"].contains(&method.as_str());
        let (true, true, Some(first)) = (in_process, constructor, args.first()) else {
            continue;
        };
        if m.named.role != Role::Client {
            continue;
        }
        let tree = group.file(m.file).rust.as_ref().unwrap().tree();
        let Some(arg) = expr_at(&tree, *first) else {
            continue;
        };
        let Some((connect, uses)) = channel_of(without_clones(arg)) else {
            continue;
        };
        let range = connect.syntax().text_range();
        let key = (m.file, range.start().into(), range.end().into());
        let channel = channels.entry(key).or_default();
        let service = format!("{}.{}", m.named.package, m.named.service);
        channel
            .services
            .insert(service.trim_start_matches('.').to_string());
        channel.converted += 1;
        channel.uses = uses;
    }
    for ((file, start, end), channel) in channels {
        let range = TextRange::new(start.into(), end.into());
        if channel.converted != channel.uses || routed.contains(&(file, start, end)) {
            continue;
        }
        let tree = group.file(file).rust.as_ref().unwrap().tree();
        let Some(receiver) = expr_at(&tree, range).and_then(|c| match c {
            ast::Expr::MethodCallExpr(c) => c.receiver(),
            _ => None,
        }) else {
            continue;
        };
        let services: Vec<String> = channel.services.iter().map(|s| format!("{s:?}")).collect();
        let new = format!(
            "{REGISTRY}::connect({}, &[{}])",
            receiver.syntax(),
            services.join(", ")
        );
        let note = "channel: dials only if a service it is for runs in another process";
        out.edit(PASS, file, range, new, note);
        needs_runtime(group, file, out);
    }
}

/// The channels of clients that keep their own (`Decision::Routed`): where
/// each is connected, `endpoint.connect()` becomes
/// `knit_runtime::channel::connect(endpoint, services)` (`connect_lazy`,
/// `Channel::balance_channel(n)` and `Channel::balance_list(list)` alike, and
/// `XClient::connect(dst)` becomes `knit_runtime::channel::client(dst,
/// services, XClient::new)`), with the gRPC services knit routes through it:
/// every service whose calls knit routes there, when one place is reached
/// from clients of several (generic code, `T::new_from_channel(channel)`).
/// Listing a service more is harmless: the channel dispatches each request by
/// its path, and sends any service this process does not serve to the
/// network.
/// The channel then serves calls to services of this process through their
/// servers, in process, and the others over the network as before. Returns
/// the calls rewritten (file, start, end).
fn route_channels(
    group: &Group,
    sharing: &Sharing,
    out: &mut Output,
) -> BTreeSet<(FileId, u32, u32)> {
    let mut sites: BTreeMap<(FileId, u32, u32), (ConnectKind, BTreeSet<String>)> = BTreeMap::new();
    for ((_, named), decision) in &sharing.calls {
        let Decision::Routed { connects, .. } = decision else {
            continue;
        };
        let service = format!("{}.{}", named.package, named.service);
        for c in connects {
            let site = sites
                .entry((c.file, c.span.0, c.span.1))
                .or_insert_with(|| (c.kind, BTreeSet::new()));
            site.1.insert(service.trim_start_matches('.').to_string());
        }
    }
    for (&(file, start, end), (kind, services)) in &sites {
        let range = TextRange::new(start.into(), end.into());
        let tree = group.file(file).rust.as_ref().unwrap().tree();
        let services: Vec<String> = services.iter().map(|s| format!("{s:?}")).collect();
        let services = services.join(", ");
        let new = match (kind, expr_at(&tree, range)) {
            (ConnectKind::Eager | ConnectKind::Lazy, Some(ast::Expr::MethodCallExpr(call))) => {
                let Some(receiver) = call.receiver() else {
                    continue;
                };
                let function = match kind {
                    ConnectKind::Eager => "connect",
                    _ => "connect_lazy",
                };
                // `Endpoint::connect` borrows its endpoint: one held in a
                // field (`args.uri.connect()`) is cloned, not moved out.
                let clone = match &receiver {
                    ast::Expr::FieldExpr(_) => ".clone()",
                    _ => "",
                };
                format!(
                    "{CHANNEL}::{function}({}{clone}, &[{services}])",
                    receiver.syntax()
                )
            }
            // `Channel::balance_channel::<K>(n)` -> `..::balance_channel::<K>(n, &[..])`.
            (ConnectKind::Balance | ConnectKind::BalanceList, Some(ast::Expr::CallExpr(call))) => {
                let (Some(ast::Expr::PathExpr(path)), Some(args)) = (call.expr(), call.arg_list())
                else {
                    continue;
                };
                let Some(segment) = path.path().and_then(|p| p.segment()) else {
                    continue;
                };
                let function = match kind {
                    ConnectKind::Balance => "balance_channel",
                    _ => "balance_list",
                };
                let turbofish = segment
                    .generic_arg_list()
                    .map(|g| g.syntax().to_string())
                    .unwrap_or_default();
                let args: Vec<String> = args.args().map(|a| a.syntax().to_string()).collect();
                format!(
                    "{CHANNEL}::{function}{turbofish}({}, &[{services}])",
                    args.join(", ")
                )
            }
            (ConnectKind::Client, Some(ast::Expr::CallExpr(call))) => {
                let (Some(ast::Expr::PathExpr(path)), Some(args)) = (call.expr(), call.arg_list())
                else {
                    continue;
                };
                let Some(client) = path.path().and_then(|p| p.qualifier()) else {
                    continue;
                };
                let args: Vec<String> = args.args().map(|a| a.syntax().to_string()).collect();
                format!(
                    "{CHANNEL}::client({}, &[{services}], {client}::new)",
                    args.join(", ")
                )
            }
            _ => continue,
        };
        let note =
            "channel: calls to services of this process run through their servers in process";
        out.edit(PASS, file, range, new, note);
        needs_runtime(group, file, out);
    }
    sites.keys().copied().collect()
}

/// Makes the package of `file` depend on knit's runtime.
fn needs_runtime(group: &Group, file: FileId, out: &mut Output) {
    let source = group.file(file);
    let package = &group.services[source.service].packages[source.package];
    let op = crate::manifest::ManifestOp::AddPathDependency {
        key: knit_codegen::names::RUNTIME_PACKAGE.into(),
        path: relative_path(&package.dir, knit_codegen::names::RUNTIME_DIR),
    };
    out.manifest_ops.push((package.manifest, op));
}

/// A mention of a bridged client: the caller keeps its own generated client
/// and types, over `knit_runtime::transport::Bridge` instead of a `Channel`.
fn bridge(group: &Group, m: &Mention, out: &mut Output) {
    let full = format!("{}.{}", m.named.package, m.named.service);
    let full = full.trim_start_matches('.');
    match &m.usage {
        // `XClient<Channel>` -> `XClient<Bridge>`, `Channel` inside other
        // transports (`InterceptedService<Channel, F>`) too.
        Usage::Type => {
            // The type parsed on its own: it may sit in a macro's arguments.
            const BEFORE: &str = "type T = ";
            let text = format!("{BEFORE}{};", &group.file(m.file).text[m.path]);
            let ty = ast::SourceFile::parse(&text, ra_ap_syntax::Edition::CURRENT).tree();
            let shift = m.path.start() - TextSize::of(BEFORE);
            let channels = ty
                .syntax()
                .descendants()
                .filter_map(ast::PathType::cast)
                .filter_map(|t| t.path())
                .filter(|p| {
                    p.segment()
                        .and_then(|s| s.name_ref())
                        .is_some_and(|n| n.text() == "Channel")
                });
            for channel in channels {
                let range = channel.syntax().text_range() + shift;
                let note = "client transport: bridged in process";
                out.edit(PASS, m.file, range, BRIDGE, note);
            }
        }
        // `XClient::connect(dst)` -> `Bridge::connect("p.X", dst, XClient::new)`
        Usage::Call {
            method,
            method_range,
            args,
            ..
        } if method == "connect" => {
            let [dst] = args.as_slice() else { return };
            let client = &group.file(m.file).text[m.path];
            let note = "`connect`: bridged in process";
            let callee = TextRange::new(m.path.start(), method_range.end());
            out.edit(PASS, m.file, callee, format!("{BRIDGE}::connect"), note);
            out.edit(
                PASS,
                m.file,
                TextRange::empty(dst.start()),
                format!("{full:?}, "),
                note,
            );
            out.edit(
                PASS,
                m.file,
                TextRange::empty(dst.end()),
                format!(", {client}::new"),
                note,
            );
        }
        // `XClient::new(channel, ..)` -> `XClient::new(Bridge::new("p.X", channel), ..)`
        Usage::Call { method, args, .. } => {
            let Some(channel) = args.first() else { return };
            let note = format!("`{method}`: bridged in process");
            let open = format!("{BRIDGE}::new({full:?}, ");
            out.edit(PASS, m.file, TextRange::empty(channel.start()), open, &note);
            out.edit(PASS, m.file, TextRange::empty(channel.end()), ")", &note);
        }
        Usage::Import | Usage::Other => return,
    }
    needs_runtime(group, m.file, out);
}

#[cfg(test)]
mod routed;
#[cfg(test)]
mod shapes;

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::fixture::{GREETER, HELLO_PROTO, check, with_frontend};
    use crate::pass::PassId;

    const CONNECT_FIELD: &str = r#"use tonic::transport::{Channel, Server};
use hello::greeter_client::GreeterClient;
pub mod hello {
    // The greeter's API.
    tonic::include_proto!("helloworld");
}
struct Frontend { greeter: GreeterClient<Channel> }
#[tokio::main]
async fn main() {
    #[cfg(debug_assertions)]
    let url = format!("http://{}", "localhost:50051");
    let greeter = GreeterClient::connect(url).await.unwrap(); // keep me
}
"#;

    const SAME_NAME_ELSEWHERE: &str = r#"use other::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let c = GreeterClient::connect("http://elsewhere").await.unwrap();
}
"#;

    /// rust-analyzer resolves the client names of these fixtures as knit does.
    #[test]
    fn oracle_agrees_on_resolution_fixtures() {
        crate::names::oracle::assert_agrees([
            ("connect_field", with_frontend(CONNECT_FIELD)),
            ("same_name_elsewhere", with_frontend(SAME_NAME_ELSEWHERE)),
        ]);
    }

    /// Checks the caller's rewritten main and the call findings.
    fn check_caller(main_rs: &str, expect: Expect) {
        expect.assert_eq(
            &check(PassId::Calls, &with_frontend(main_rs)).render("frontend/src/main.rs"),
        );
    }

    #[test]
    fn connect_field_and_proto_module_convert() {
        check_caller(
            CONNECT_FIELD,
            expect![[r#"
                //- /frontend/src/main.rs
                use tonic::transport::Server;
                pub mod hello {
                    // The greeter's API.
                    pub use knit_proto_helloworld::*;
                }
                struct Frontend { greeter: knit_proto_helloworld::greeter_inline::GreeterClient }
                #[tokio::main]
                async fn main() {
                    #[cfg(debug_assertions)]
                    let url = format!("http://{}", "localhost:50051");
                    let greeter = knit_proto_helloworld::greeter_inline::GreeterClient::connect(url).await.unwrap(); // keep me
                }
                Call(Inline) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            "#]],
        );
    }

    #[test]
    fn a_client_field_in_pin_project_converts() {
        check_caller(
            r#"use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
pin_project_lite::pin_project! {
    struct Stream {
        client: GreeterClient<tonic::transport::Channel>,
        #[pin]
        next: Option<u8>,
    }
}
#[tokio::main]
async fn main() {
    let client = GreeterClient::connect("http://a").await.unwrap();
    let _ = Stream { client, next: None };
}
"#,
            expect![[r#"
                //- /frontend/src/main.rs
                mod hello { pub use knit_proto_helloworld::*; }
                pin_project_lite::pin_project! {
                    struct Stream {
                        client: knit_proto_helloworld::greeter_inline::GreeterClient,
                        #[pin]
                        next: Option<u8>,
                    }
                }
                #[tokio::main]
                async fn main() {
                    let client = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await.unwrap();
                    let _ = Stream { client, next: None };
                }
                Call(Inline) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            "#]],
        );
    }

    #[test]
    fn aliases_and_full_paths_resolve() {
        check_caller(
            r#"use hello::greeter_client::GreeterClient as Greeter;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = Greeter::connect("http://a").await.unwrap();
    let b = crate::hello::greeter_client::GreeterClient::connect("http://b").await.unwrap();
}
"#,
            expect![[r#"
                //- /frontend/src/main.rs
                mod hello { pub use knit_proto_helloworld::*; }
                #[tokio::main]
                async fn main() {
                    let a = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await.unwrap();
                    let b = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://b").await.unwrap();
                }
                Call(Inline) frontend/src/main.rs:5: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
                Call(Inline) frontend/src/main.rs:6: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            "#]],
        );
    }

    /// A `type` alias inside a function or an `impl` hides the calls made
    /// through it (its name is not followed), so none of the caller's calls is
    /// converted.
    #[test]
    fn an_alias_inside_a_function_or_an_impl_keeps_the_calls_rpc() {
        let associated = crate::fixture::check(
            PassId::Calls,
            &crate::fixture::with_frontend(
                "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\ntrait Api { type Client; }\nstruct Shop;\nimpl Api for Shop { type Client = GreeterClient<tonic::transport::Channel>; }\n#[tokio::main]\nasync fn main() {\n    let b = GreeterClient::connect(\"http://b\").await.unwrap();\n}\n",
            ),
        );
        expect!["Call(Bridged) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:8: `GreeterClient` is given a `type` alias inside a function or an `impl`, which knit does not rewrite"]
            .assert_eq(&associated.findings.join("\n"));
        check_caller(
            r#"use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    type G = GreeterClient<tonic::transport::Channel>;
    let a = G::connect("http://a").await.unwrap();
    let b = GreeterClient::connect("http://b").await.unwrap();
}
"#,
            expect![[r#"
                //- /frontend/src/main.rs
                use hello::greeter_client::GreeterClient;
                mod hello { tonic::include_proto!("helloworld"); }
                #[tokio::main]
                async fn main() {
                    type G = GreeterClient<tonic::transport::Channel>;
                    let a = G::connect("http://a").await.unwrap();
                    let b = knit_runtime::channel::client("http://b", &["helloworld.Greeter"], GreeterClient::new).await.unwrap();
                }
                Call(Bridged) frontend/src/main.rs:7: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:7: `GreeterClient` is given a `type` alias inside a function or an `impl`, which knit does not rewrite
            "#]],
        );
    }

    #[test]
    fn same_name_from_another_crate_is_untouched() {
        check_caller(SAME_NAME_ELSEWHERE, expect![""]);
    }

    /// prost names a service `HTTP`'s types `HttpClient` and `HttpServer`.
    #[test]
    fn a_service_named_in_capitals_converts() {
        let proto = "package relay;\nservice HTTP {\n  rpc Handle (Req) returns (Resp);\n}\n";
        let fixture = format!(
            "//- /worker/Cargo.toml\n[package]\nname = \"worker\"\nedition = \"2021\"\n//- /worker/proto/relay.proto\n{proto}//- /worker/src/main.rs\n\
             use tonic::transport::Server;\nmod pb {{ tonic::include_proto!(\"relay\"); }}\n#[tokio::main]\nasync fn main() {{\n    \
             Server::builder().add_service(pb::http_server::HttpServer::new(Relay)).serve(addr).await.unwrap();\n}}\n\
             //- /executor/Cargo.toml\n[package]\nname = \"executor\"\nedition = \"2021\"\n//- /executor/proto/relay.proto\n{proto}//- /executor/src/main.rs\n\
             mod pb {{ tonic::include_proto!(\"relay\"); }}\n#[tokio::main]\nasync fn main() {{\n    \
             let c = pb::http_client::HttpClient::connect(\"http://w\").await.unwrap();\n}}\n"
        );
        expect![[r#"
            //- /executor/src/main.rs
            mod pb { pub use knit_proto_relay::*; }
            #[tokio::main]
            async fn main() {
                let c = knit_proto_relay::http_inline::HttpClient::connect("http://w").await.unwrap();
            }
            Call(Inline) executor/src/main.rs:4: calls to `relay.HTTP` run in process on `worker`'s handler (knit_proto_relay::http_inline::HttpClient)
        "#]].assert_eq(&check(PassId::Calls, &fixture).render("executor/src/main.rs"));
    }

    /// Generated code checked in is replaced whole by the shared crate's
    /// re-export; the imports inside it go with it (no overlapping edits).
    #[test]
    fn checked_in_generated_code_is_replaced_whole() {
        let generated = "// This file is @generated by prost-build.\n/// Generated client implementations.\npub mod greeter_client {\n    use tonic::codegen::http::Uri;\n    pub struct GreeterClient<T> { inner: T }\n    impl<T> GreeterClient<T> { pub fn with_origin(inner: T, origin: Uri) -> Self { Self { inner } } }\n}\n";
        let fixture = format!(
            "{GREETER}//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\nedition = \"2021\"\n//- /frontend/proto/helloworld.proto\n{HELLO_PROTO}\
             //- /frontend/src/pb/helloworld.rs\n{generated}//- /frontend/src/main.rs\n\
             mod pb {{ pub mod helloworld; }}\n#[tokio::main]\nasync fn main() {{\n    \
             let c = pb::helloworld::greeter_client::GreeterClient::connect(\"http://g\").await.unwrap();\n}}\n"
        );
        expect![[r#"
            //- /frontend/src/main.rs
            mod pb { pub mod helloworld; }
            #[tokio::main]
            async fn main() {
                let c = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://g").await.unwrap();
            }
            //- /frontend/src/pb/helloworld.rs
            pub use knit_proto_helloworld::*;
            Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&check(PassId::Calls, &fixture).render("frontend/src/"));
    }

    #[test]
    fn custom_transport_keeps_every_site_rpc() {
        check_caller(
            r#"use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = GreeterClient::connect("http://a").await.unwrap();
    let b = GreeterClient::new(channel);
    let c = GreeterClient::new(ServiceBuilder::new().layer(auth).service(channel));
}
"#,
            expect![[r#"
                Call(Rpc) frontend/src/main.rs:5: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` runs over a transport of its own (tower layers), and knit cannot tell where the channel of the client made at frontend/src/main.rs:6 is connected: its channel comes from `channel`, which knit does not follow
                Call(Rpc) frontend/src/main.rs:6: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` runs over a transport of its own (tower layers), and knit cannot tell where the channel of the client made at frontend/src/main.rs:6 is connected: its channel comes from `channel`, which knit does not follow
                Call(Rpc) frontend/src/main.rs:7: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` runs over a transport of its own (tower layers), and knit cannot tell where the channel of the client made at frontend/src/main.rs:6 is connected: its channel comes from `channel`, which knit does not follow
            "#]],
        );
    }

    #[test]
    fn callee_outside_the_group_stays_rpc() {
        let fixture = r#"
//- /frontend/Cargo.toml
[package]
name = "frontend"
edition = "2021"
//- /frontend/proto/helloworld.proto
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
}
//- /frontend/src/main.rs
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = GreeterClient::connect("http://a").await.unwrap();
}
"#;
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:5: calls to `helloworld.Greeter` stay RPC: `helloworld.Greeter` is not served by a service of the merge group
        "#]].assert_eq(&check(PassId::Calls, fixture).render("frontend/src/main.rs"));
    }

    #[test]
    fn a_call_to_the_callers_own_server_says_so() {
        let fixture = r#"
//- /frontend/Cargo.toml
[package]
name = "frontend"
edition = "2021"
//- /frontend/proto/helloworld.proto
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
}
//- /frontend/src/main.rs
use hello::greeter_client::GreeterClient;
use hello::greeter_server::GreeterServer;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = GreeterClient::connect("http://a").await.unwrap();
    tonic::transport::Server::builder().add_service(GreeterServer::new(G)).serve(addr).await;
}
"#;
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:6: calls to `helloworld.Greeter` stay RPC: no other service of the merge group serves `helloworld.Greeter` (the calling service `frontend` reaches its server's code)
        "#]].assert_eq(&check(PassId::Calls, fixture).render("frontend/src/main.rs"));
    }

    #[test]
    fn different_definitions_are_bridged_or_refused() {
        let main = "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\nstruct S { g: GreeterClient<tonic::transport::Channel> }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n";
        let proto = "//- /frontend/proto/helloworld.proto\npackage helloworld;";
        let older = crate::fixture::with_frontend(main).replacen(
            proto,
            &format!("{proto}\nmessage Extra {{}}"),
            1,
        );
        // The provider's server, as the entry pass registers it; the caller's
        // client, as the calls pass converts it.
        let served = check(PassId::Entry, &older);
        let out = check(PassId::Calls, &older);
        expect![[r#"
            //- /greeter/src/main.rs
            use hello_world::greeter_server::{Greeter, GreeterServer};
            use tonic::transport::Server;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                Server::builder().add_service(knit_host.provide_server("helloworld.Greeter", GreeterServer::new(MyGreeter))).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;
                Ok(())
            }
            //- /frontend/src/main.rs
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }
            struct S { g: GreeterClient<knit_runtime::transport::Bridge> }
            #[tokio::main]
            async fn main() { knit_runtime::transport::Bridge::connect("helloworld.Greeter", "http://a", GreeterClient::new).await; }
            Call(Bridged) frontend/src/main.rs:5: calls to `helloworld.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` and `greeter` compile different definitions of `helloworld`
        "#]].assert_eq(&format!("{}{}", served.render("greeter/src/main.rs"), out.render("frontend/src/main.rs")));
        let renamed = crate::fixture::with_frontend(main).replacen(
            "rpc SayHello (HelloRequest)",
            "rpc SayHi (HelloRequest)",
            2,
        );
        let renamed = renamed.replacen("rpc SayHi", "rpc SayHello", 1);
        expect!["Call(Rpc) frontend/src/main.rs:5: calls to `helloworld.Greeter` stay RPC: `frontend` and `greeter` compile different definitions of `helloworld`, and no bridge: `frontend` calls `helloworld.Greeter/SayHi`, which `greeter`'s definitions lack"].assert_eq(&check(PassId::Calls, &renamed).findings.join("\n"));
    }

    #[test]
    fn callee_interceptor_runs_in_process() {
        let fixture = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        )
        .replace("GreeterServer::new(MyGreeter)", "GreeterServer::with_interceptor(MyGreeter, check_auth)");
        expect![[r#"
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }
            #[tokio::main]
            async fn main() { knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await; }
            Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&check(PassId::Calls, &fixture).render("frontend/src/main.rs"));
        expect![[r#"
            //- /greeter/src/main.rs
            use hello_world::greeter_server::Greeter;
            use tonic::transport::Server;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                Server::builder().add_service(knit_proto_helloworld::greeter_inline::with_interceptor(&knit_host, MyGreeter, check_auth)).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;
                Ok(())
            }
        "#]].assert_eq(&check(PassId::Entry, &fixture).render("greeter/src/main.rs"));
    }

    #[test]
    fn callee_with_tower_layers_stays_rpc() {
        let fixture = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        )
        .replace("Server::builder()", "Server::builder().layer(AuthLayer::new())");
        expect!["Call(Bridged) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"].assert_eq(&check(PassId::Calls, &fixture).findings.join("\n"));
    }

    #[test]
    fn custom_codegen_is_bridged() {
        let custom = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        ) + "//- /greeter/build.rs\nfn main() { tonic_prost_build::configure().type_attribute(\".\", \"#[derive(serde::Serialize)]\").compile_protos(&[\"proto/helloworld.proto\"], &[\"proto\"]).unwrap(); }\n";
        expect!["Call(Bridged) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `greeter`'s build script customises the generated code (`type_attribute`)"].assert_eq(&check(PassId::Calls, &custom).findings.join("\n"));
    }

    /// The group of `fixture`, where every service depends on the API crate
    /// `krate` (`package`) that defines `services`, (proto package, service).
    fn with_api_crate(
        fixture: &str,
        krate: &str,
        package: &str,
        services: &[(&str, &str)],
    ) -> crate::model::Group {
        let mut group = crate::fixture::group(fixture);
        for service in &mut group.services {
            service.external_apis.push(crate::model::ExternalApi {
                krate: krate.into(),
                package: package.into(),
                services: services
                    .iter()
                    .map(|(p, s)| (p.to_string(), s.to_string()))
                    .collect(),
                read: true,
            });
        }
        group
    }

    /// Both services take the generated code from an API crate outside the
    /// group (a registry dependency, read from Cargo's cache): the client is
    /// kept, its channel bridged through the provider's server, which is
    /// registered for it; a service no one serves stays RPC.
    #[test]
    fn clients_of_an_api_crate_are_bridged() {
        let fixture = r#"
//- /greeter/Cargo.toml
[package]
name = "greeter"
edition = "2021"
//- /greeter/src/main.rs
use acme_api::hello::v1::greeter_server::{Greeter, GreeterServer};
use tonic::transport::Server;
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;
    Ok(())
}
//- /frontend/Cargo.toml
[package]
name = "frontend"
edition = "2021"
//- /frontend/src/main.rs
use acme_api::hello::v1::greeter_client::GreeterClient;
use acme_api::billing::v1 as billing;
mod api {
    pub use acme_api::greeting::*;
}
#[tokio::main]
async fn main() {
    let greeter = GreeterClient::connect("http://greeter:50051").await.unwrap();
    let invoices = billing::invoice_client::InvoiceClient::connect("http://b").await.unwrap();
    let again = api::greeter_client::GreeterClient::new(channel);
}
"#;
        let services = [("billing.v1", "Invoice"), ("hello.v1", "Greeter")];
        let with_api = || with_api_crate(fixture, "acme_api", "acme-api 1.2.0", &services);
        let checked = crate::fixture::check_group(PassId::Calls, with_api());
        expect![[r#"
            Call(Bridged) frontend/src/main.rs:8: calls to `hello.v1.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` takes the generated code of `hello.v1` from `acme-api 1.2.0`, a dependency knit does not edit
            Call(Rpc) frontend/src/main.rs:9: calls to `billing.v1.Invoice` stay RPC: `billing.v1.Invoice` is not served by a service of the merge group
            Call(Bridged) frontend/src/main.rs:10: calls to `hello.v1.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` takes the generated code of `hello.v1` from `acme-api 1.2.0`, a dependency knit does not edit"#]]
        .assert_eq(&checked.findings.join("\n"));
        expect![[r#"
            //- /frontend/src/main.rs
            use acme_api::hello::v1::greeter_client::GreeterClient;
            use acme_api::billing::v1 as billing;
            mod api {
                pub use acme_api::greeting::*;
            }
            #[tokio::main]
            async fn main() {
                let greeter = knit_runtime::transport::Bridge::connect("hello.v1.Greeter", "http://greeter:50051", GreeterClient::new).await.unwrap();
                let invoices = billing::invoice_client::InvoiceClient::connect("http://b").await.unwrap();
                let again = api::greeter_client::GreeterClient::new(knit_runtime::transport::Bridge::new("hello.v1.Greeter", channel));
            }
            Call(Bridged) frontend/src/main.rs:8: calls to `hello.v1.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` takes the generated code of `hello.v1` from `acme-api 1.2.0`, a dependency knit does not edit
            Call(Rpc) frontend/src/main.rs:9: calls to `billing.v1.Invoice` stay RPC: `billing.v1.Invoice` is not served by a service of the merge group
            Call(Bridged) frontend/src/main.rs:10: calls to `hello.v1.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` takes the generated code of `hello.v1` from `acme-api 1.2.0`, a dependency knit does not edit
        "#]]
        .assert_eq(&checked.render("frontend/src/main.rs"));
        let entry = crate::fixture::check_group(PassId::Entry, with_api());
        expect![[r#"
            //- /greeter/src/main.rs
            use acme_api::hello::v1::greeter_server::{Greeter, GreeterServer};
            use tonic::transport::Server;
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                Server::builder().add_service(knit_host.provide_server("hello.v1.Greeter", GreeterServer::new(MyGreeter))).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;
                Ok(())
            }
        "#]].assert_eq(&entry.render("greeter/src/main.rs"));
    }

    /// Whether a call goes through an API crate is the path's: a caller with
    /// its own copy of the proto that names the crate's client is bridged,
    /// not given knit's shared crate (whose types the crate's are not).
    #[test]
    fn an_api_crates_client_beside_an_own_proto_is_bridged() {
        let main = "use acme_api::helloworld::greeter_client::GreeterClient;\n\
                    #[tokio::main]\nasync fn main() {\n    GreeterClient::connect(\"http://a\").await;\n}\n";
        let mut group = crate::fixture::group(&crate::fixture::with_frontend(main));
        group.services[1]
            .external_apis
            .push(crate::model::ExternalApi {
                krate: "acme_api".into(),
                package: "acme-api 1.2.0".into(),
                services: vec![("helloworld".into(), "Greeter".into())],
                read: true,
            });
        expect!["Call(Bridged) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` takes the generated code of `helloworld` from `acme-api 1.2.0`, a dependency knit does not edit"]
            .assert_eq(&crate::fixture::check_group(PassId::Calls, group).findings.join("\n"));
    }

    /// Two packages of an API crate define a service of one name: the path
    /// tells which (`v1alpha`, not `v1`), or no package is taken.
    #[test]
    fn an_api_crates_package_is_the_one_its_path_spells() {
        let main = "#[tokio::main]\nasync fn main() {\n    \
                    tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient::new(ch);\n}\n";
        let mut group = crate::fixture::group(&crate::fixture::with_frontend(main));
        group.services[1]
            .external_apis
            .push(crate::model::ExternalApi {
                krate: "tonic_reflection".into(),
                package: "tonic-reflection 0.14.2".into(),
                services: vec![
                    ("grpc.reflection.v1".into(), "ServerReflection".into()),
                    ("grpc.reflection.v1alpha".into(), "ServerReflection".into()),
                ],
                read: true,
            });
        expect!["Call(Rpc) frontend/src/main.rs:3: calls to `grpc.reflection.v1alpha.ServerReflection` stay RPC: `grpc.reflection.v1alpha.ServerReflection` is not served by a service of the merge group"]
            .assert_eq(&crate::fixture::check_group(PassId::Calls, group).findings.join("\n"));
    }

    /// A second service that builds the server in a way knit does not follow
    /// as a call (`.map(GreeterServer::new)`) still serves it: the caller's
    /// calls are not given to the first.
    #[test]
    fn a_second_server_built_through_map_still_counts() {
        let twin = "//- /twin/Cargo.toml\n[package]\nname = \"twin\"\nedition = \"2021\"\n\
                    //- /twin/proto/helloworld.proto\n{HELLO}\
                    //- /twin/src/main.rs\nuse hello::greeter_server::GreeterServer;\n\
                    mod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() {\n    \
                    Server::builder().add_service(Some(Mirror).map(GreeterServer::new).unwrap()).serve(addr).await;\n}\n"
            .replace("{HELLO}", crate::fixture::HELLO_PROTO);
        let main = "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n\
                    #[tokio::main]\nasync fn main() {\n    GreeterClient::connect(\"http://a\").await;\n}\n";
        let fixture = crate::fixture::with_frontend(main) + &twin;
        expect!["Call(Rpc) frontend/src/main.rs:5: calls to `helloworld.Greeter` stay RPC: `helloworld.Greeter` is served by several services of the group: greeter, twin"]
            .assert_eq(&check(PassId::Calls, &fixture).findings.join("\n"));
    }

    /// The health server `tonic_health::server::health_reporter()` builds,
    /// the second of the pair it returns, is followed to the router: the
    /// caller's health checks run bridged through it.
    #[test]
    fn a_server_its_crate_builds_is_followed_from_the_pair() {
        expect!["run in process through `greeter`'s server stack, bridged (each side encodes with its own generated types): `frontend` takes the generated code of `grpc.health.v1` from `tonic-health 0.14.9`, a dependency knit does not edit"]
            .assert_eq(&health_decision(
                "",
                "    let (reporter, health) = tonic_health::server::health_reporter();\n    Server::builder().add_service(health).serve(addr).await?;",
            ));
    }

    /// A call of `health_reporter()` knit does not resolve (a macro builds
    /// its path) names the function in the reason, with the way out.
    #[test]
    fn a_server_its_crate_builds_by_a_path_knit_cannot_resolve_is_named_in_the_reason() {
        expect!["stay RPC: `greeter` builds the `grpc.health.v1.Health` server with its crate's `health_reporter()` (greeter/src/main.rs:2:53) by a path knit does not resolve to that function; called as `tonic_health::server::health_reporter()`, or imported by that name, it would be registered for calls in process"]
            .assert_eq(&health_decision(
                "macro_rules! health { () => { tonic_health::server::health_reporter() } }",
                "    let (reporter, health) = health!();\n    Server::builder().add_service(health).serve(addr).await?;",
            ));
    }

    /// The pair's server is registered where it is built, the pair kept;
    /// a pair whose server is dropped builds none (the server made from its
    /// reporter is the one served).
    #[test]
    fn the_pairs_server_is_registered_and_a_dropped_one_is_no_server() {
        let registered = |greeter: &str| {
            let group = health_group("use tonic_health::server::health_reporter;", greeter);
            let out = crate::fixture::check_group(PassId::Entry, group);
            let main = out.files.iter().find(|(p, _)| p == "greeter/src/main.rs");
            let main = main.map(|(_, text)| text.as_str()).unwrap_or_default();
            main.lines()
                .filter(|l| l.contains("knit_host.provide"))
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n")
        };
        expect![[r#"let (mut reporter, health) = knit_host.provide_server_paired("grpc.health.v1.Health", health_reporter());"#]]
            .assert_eq(&registered("    let (mut reporter, health) = health_reporter();\n    Server::builder().add_service(health).serve(addr).await?;"));
        expect![[r#"Server::builder().add_service(knit_host.provide_server("grpc.health.v1.Health", HealthServer::new(HealthService::from_health_reporter(reporter)))).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;"#]]
            .assert_eq(&registered("    use tonic_health::pb::health_server::HealthServer;\n    let (reporter, _) = health_reporter();\n    Server::builder().add_service(HealthServer::new(HealthService::from_health_reporter(reporter))).serve(addr).await?;"));
    }

    /// The group where the greeter's file has `items` and its `main` runs
    /// `body`, and the frontend checks its health with tonic-health's client.
    fn health_group(items: &str, body: &str) -> crate::model::Group {
        let fixture = format!(
            "//- /greeter/Cargo.toml\n[package]\nname = \"greeter\"\nedition = \"2021\"\n//- /greeter/src/main.rs\nuse tonic::transport::Server;\n{items}\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {{\n{body}\n    Ok(())\n}}\n//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\nedition = \"2021\"\n//- /frontend/src/main.rs\nuse tonic_health::pb::health_client::HealthClient;\n#[tokio::main]\nasync fn main() {{\n    let health = HealthClient::new(channel);\n}}\n"
        );
        let health = [("grpc.health.v1", "Health")];
        with_api_crate(&fixture, "tonic_health", "tonic-health 0.14.9", &health)
    }

    /// The frontend's decision on `grpc.health.v1.Health` in [`health_group`].
    fn health_decision(items: &str, body: &str) -> String {
        let findings =
            crate::fixture::check_group(PassId::Calls, health_group(items, body)).findings;
        findings
            .iter()
            .find_map(|f| f.split_once("calls to `grpc.health.v1.Health` "))
            .map(|(_, decision)| decision.to_string())
            .unwrap_or_else(|| format!("{findings:#?}"))
    }

    /// How services write `health_reporter()` around its pair.
    #[test]
    fn the_shapes_of_health_reporter_calls() {
        let bridged = "run in process through `greeter`'s server stack, bridged";
        let cases = [
            // Imported under another name.
            (
                "use tonic_health::server::health_reporter as make_health;",
                "    let (reporter, health) = make_health();\n    Server::builder().add_service(health).serve(addr).await?;",
                bridged,
            ),
            // A variable named like the function, as tonic's examples name the reporter.
            (
                "use tonic_health::server::{health_reporter, HealthReporter};\nasync fn twiddle(health_reporter: HealthReporter) { health_reporter.set_not_serving::<X>().await; }",
                "    let (mut health_reporter, health) = health_reporter();\n    health_reporter.set_serving::<X>().await;\n    Server::builder().add_service(health).serve(addr).await?;",
                bridged,
            ),
            // The server dropped (`..`, `_name`), the one made from the reporter served.
            (
                "use tonic_health::pb::health_server::HealthServer;\nuse tonic_health::server::{health_reporter, HealthService};",
                "    let (reporter, ..) = health_reporter();\n    Server::builder().add_service(HealthServer::new(HealthService::from_health_reporter(reporter))).serve(addr).await?;",
                bridged,
            ),
            (
                "use tonic_health::pb::health_server::HealthServer;\nuse tonic_health::server::{health_reporter, HealthService};",
                "    let (reporter, _unused) = health_reporter();\n    Server::builder().add_service(HealthServer::new(HealthService::from_health_reporter(reporter))).serve(addr).await?;",
                bridged,
            ),
            // Two pairs, two reporters: which one a check is for is not known.
            (
                "use tonic_health::server::health_reporter;",
                "    let (a, health) = health_reporter();\n    let (b, other) = health_reporter();\n    tokio::try_join!(Server::builder().add_service(health).serve(addr), Server::builder().add_service(other).serve(admin))?;",
                "stay RPC: `greeter` builds `grpc.health.v1.Health` servers in several places (greeter/src/main.rs:5, greeter/src/main.rs:6), each with a reporter of its own",
            ),
            // A function of the greeter's own by that name is not the crate's.
            (
                "fn health_reporter() -> (u8, Svc) { (0, Svc) }",
                "    let (reporter, health) = health_reporter();\n    Server::builder().add_service(health).serve(addr).await?;",
                "stay RPC: `grpc.health.v1.Health` is not served by a service of the merge group",
            ),
        ];
        for (items, body, expected) in cases {
            let decision = health_decision(items, body);
            assert!(
                decision.starts_with(expected),
                "{items}\n{body}\n{decision}"
            );
        }
    }

    /// A caller that serves the service it calls (an executor fetching from
    /// its peers) beside another provider: which one it calls is not known.
    #[test]
    fn a_caller_serving_what_it_calls_stays_rpc() {
        let main = "use hello::greeter_client::GreeterClient;\nuse hello::greeter_server::GreeterServer;\n\
                    mod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() {\n    \
                    let peer = GreeterClient::connect(\"http://peer\").await;\n    \
                    Server::builder().add_service(GreeterServer::new(Mirror)).serve(addr).await;\n}\n";
        let fixture = crate::fixture::with_frontend(main);
        expect!["Call(Rpc) frontend/src/main.rs:6: calls to `helloworld.Greeter` stay RPC: `frontend` serves `helloworld.Greeter` itself, as `greeter` does: knit cannot tell whether its calls are for its own peers or for `greeter`"]
            .assert_eq(&check(PassId::Calls, &fixture).findings.join("\n"));
    }

    /// A client-helper crate that two callers reach (one package, kept once):
    /// its call sites are each caller's, with each caller's decision (a client
    /// knit cannot attribute too).
    #[test]
    fn a_shared_client_helper_is_a_call_site_of_each_caller() {
        let helper = format!(
            "//- /frontend/greeter-client/Cargo.toml\n[package]\nname = \"greeter-client\"\nedition = \"2021\"\n\
             //- /frontend/greeter-client/proto/helloworld.proto\n{HELLO_PROTO}\
             //- /frontend/greeter-client/src/lib.rs\n\
             pub mod pb {{ tonic::include_proto!(\"helloworld\"); }}\n\
             pub async fn connect(url: String) -> pb::greeter_client::GreeterClient<tonic::transport::Channel> {{\n    \
             pb::greeter_client::GreeterClient::connect(url).await.unwrap()\n}}\n\
             pub async fn billing() {{ billing::v1::invoice_client::InvoiceClient::connect(\"http://b\").await; }}\n"
        );
        let caller = |name: &str, path: &str| {
            format!(
                "//- /{name}/Cargo.toml\n[package]\nname = \"{name}\"\nedition = \"2021\"\n[dependencies]\ngreeter-client = {{ path = \"{path}\" }}\n\
                 //- /{name}/src/main.rs\n#[tokio::main]\nasync fn main() {{\n    let g = greeter_client::connect(\"http://g\".into()).await;\n}}\n"
            )
        };
        let fixture = format!(
            "{GREETER}{}{helper}{}",
            caller("frontend", "greeter-client"),
            caller("admin", "../frontend/greeter-client")
        );
        let group = crate::fixture::group(&fixture);
        expect![[r#"
            Call(Inline) frontend/greeter-client/src/lib.rs:3 by frontend: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/greeter-client/src/lib.rs:3 by admin: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Unresolved) frontend/greeter-client/src/lib.rs:5 by frontend: `billing::v1::invoice_client::InvoiceClient::connect`: knit cannot tell which gRPC service `InvoiceClient` calls (its generated code is in `billing`, a crate outside the group's packages, which knit does not read); the call stays RPC
            Call(Unresolved) frontend/greeter-client/src/lib.rs:5 by admin: `billing::v1::invoice_client::InvoiceClient::connect`: knit cannot tell which gRPC service `InvoiceClient` calls (its generated code is in `billing`, a crate outside the group's packages, which knit does not read); the call stays RPC"#]]
        .assert_eq(&crate::fixture::check_all_group(group).findings.join("\n"));
    }

    /// A client helper the provider shares with its caller, whose channel
    /// keeps a transport of its own: the connect is routed for the caller, and
    /// routes by service, so the provider's own calls through it run in
    /// process too, through its own server (not RPC as its own calls are).
    #[test]
    fn a_providers_own_calls_through_a_shared_routed_connect_run_in_process() {
        let helper = format!(
            "//- /greeter/client/Cargo.toml\n[package]\nname = \"greeter-client\"\nedition = \"2021\"\n\
             //- /greeter/client/proto/helloworld.proto\n{HELLO_PROTO}\
             //- /greeter/client/src/lib.rs\n\
             pub mod pb {{ tonic::include_proto!(\"helloworld\"); }}\n\
             pub async fn connect(url: String) -> pb::greeter_client::GreeterClient<tower::timeout::Timeout<tonic::transport::Channel>> {{\n    \
             let channel = tonic::transport::Endpoint::from_shared(url).unwrap().connect().await.unwrap();\n    \
             pb::greeter_client::GreeterClient::new(tower::timeout::Timeout::new(channel, std::time::Duration::from_secs(1)))\n}}\n"
        );
        let greeter = GREETER
            .replace(
                "edition = \"2021\"\n//- /greeter/proto",
                "edition = \"2021\"\n[dependencies]\ngreeter-client = { path = \"client\" }\n//- /greeter/proto",
            )
            .replace(
                "    Ok(())\n}",
                "    let me = greeter_client::connect(\"http://g\".into()).await;\n    Ok(())\n}",
            );
        let frontend = "//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\nedition = \"2021\"\n[dependencies]\ngreeter-client = { path = \"../greeter/client\" }\n\
             //- /frontend/src/main.rs\n#[tokio::main]\nasync fn main() {\n    let g = greeter_client::connect(\"http://g\".into()).await;\n}\n";
        let group = crate::fixture::group(&format!("{greeter}{helper}{frontend}"));
        let out = crate::fixture::check_all_group(group);
        expect![[r#"
            Call(Bridged) greeter/client/src/lib.rs:4 by greeter: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at greeter/client/src/lib.rs:3: `greeter` calls a service it serves itself, on channels connected where `frontend`'s are, in code both compile
            Call(Bridged) greeter/client/src/lib.rs:4 by frontend: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at greeter/client/src/lib.rs:3: `GreeterClient<tower::timeout::Timeout<tonic::transport::Channel>>` runs over `tower::timeout::Timeout<tonic::transport::Channel>`, a transport of the client's own"#]]
        .assert_eq(&out.findings.join("\n"));
    }

    /// A wrapper named like the client it wraps (the generated one imported
    /// under another name), made in a macro whose arguments are not
    /// expressions (`select! { biased; .. }`): a type of the crate's own, not
    /// a use of the client; only a name knit cannot resolve there keeps the
    /// calls RPC.
    #[test]
    fn a_wrapper_named_like_its_client_in_an_unparsed_macro_is_the_crates_own() {
        let main = |made: &str| {
            with_frontend(&format!(
                "mod api {{ tonic::include_proto!(\"helloworld\"); }}\n\
                 mod client {{\n    use super::api::greeter_client::GreeterClient as Inner;\n    pub struct GreeterClient {{ inner: Inner<tonic::transport::Channel> }}\n    \
                 impl GreeterClient {{\n        pub fn new(url: &'static str) -> Self {{\n            let channel = tonic::transport::Endpoint::from_static(url).connect_lazy();\n            Self {{ inner: Inner::new(channel) }}\n        }}\n    }}\n}}\n\
                 {made}\n\
                 #[tokio::main]\nasync fn main() {{\n    let mut client = GreeterClient::new(\"http://g\");\n    loop {{\n        tokio::select! {{\n            biased;\n            _ = tick() => {{ client = GreeterClient::new(\"http://g\"); }}\n        }}\n    }}\n}}\n"
            ))
        };
        let found: Vec<String> = [
            "use client::GreeterClient;",
            "use api::greeter_client::GreeterClient;",
        ]
        .iter()
        .map(|made| check(PassId::Calls, &main(made)).findings.join("\n"))
        .collect();
        expect![[r#"
            [
                "Call(Inline) frontend/src/main.rs:8: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)",
                "Call(Rpc) frontend/src/main.rs:8: calls to `helloworld.Greeter` stay RPC: a use of `GreeterClient` that knit does not convert yet\nCall(Rpc) frontend/src/main.rs:15: calls to `helloworld.Greeter` stay RPC: a use of `GreeterClient` that knit does not convert yet\nCall(Rpc) frontend/src/main.rs:19: calls to `helloworld.Greeter` stay RPC: a use of `GreeterClient` that knit does not convert yet",
            ]
        "#]]
        .assert_debug_eq(&found);
    }

    /// What keeps a call RPC is about the client's own channel: an HTTP
    /// client's timeout elsewhere in the service is not cited, the tower
    /// wrapper around the channel is, written through an import or a `let`.
    #[test]
    fn a_tower_timeout_around_the_channel_is_cited_not_an_http_clients() {
        let main = |make: &str| {
            with_frontend(&format!(
                "use std::time::Duration;\nuse tonic::transport::Endpoint;\nuse tower::timeout::Timeout;\nuse hello::greeter_client::GreeterClient;\n\
                 mod hello {{ tonic::include_proto!(\"helloworld\"); }}\n\
                 fn http() -> reqwest::Client {{\n    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap()\n}}\n\
                 #[tokio::main]\nasync fn main() {{\n    let channel = Endpoint::from_static(\"http://g\").connect_lazy();\n{make}}}\n"
            ))
        };
        let found: Vec<String> = [
            "    let client = GreeterClient::new(Timeout::new(channel, Duration::from_secs(1)));\n",
            "    let timed = Timeout::new(channel, Duration::from_secs(1));\n    let client = GreeterClient::new(timed);\n",
            "    let client = GreeterClient::new(channel);\n",
        ]
        .iter()
        .map(|make| check(PassId::Calls, &main(make)).findings.join("\n"))
        .collect();
        expect![[r#"
            [
                "Call(Bridged) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:11: `GreeterClient::new` is given its channel inside `Timeout::new(..)`, a transport of the client's own",
                "Call(Bridged) frontend/src/main.rs:13: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:11: `GreeterClient::new` is given its channel inside `Timeout::new(..)`, a transport of the client's own",
                "Call(Inline) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)",
            ]
        "#]]
        .assert_debug_eq(&found);
    }
}
