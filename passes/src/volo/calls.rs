//! The pass `volo`: Volo client constructors of gRPC services the group serves.
//!
//! A constructor is a chain `XClientBuilder::new(..)..address(addr)..build()`
//! (a `let`, a field, a `static LazyLock`: wherever the chain is written), its
//! path followed through the crate's `use`s, aliases and re-exports
//! ([`super::names`]). Its gRPC service is `X` of the group's protos: the
//! package named by the path below volo-build's `proto_gen` module, or the only
//! package with a service `X`. Its provider is the service whose code builds
//! `XServer::new(..)` or `XServer::from_arc(..)` (named the same ways) and runs
//! its Volo server in `fn main`. The address
//! becomes `knit_runtime::volo::address("PROVIDER", addr)`: in the merged
//! binary, the provider's Unix socket; alone, `addr`. Anything else stays a real RPC, with
//! the reason in the report.

use ra_ap_syntax::ast::{self, HasArgList};
use ra_ap_syntax::{AstNode, TextRange, TextSize};

use crate::edit::{CallSite, Output, Tier};
use crate::model::{FileId, Group, ServiceId};
use crate::names::{Role, Usage};
use crate::pass::PassId;
use crate::sharing::{Decision, Sharing};

use std::collections::{BTreeMap, BTreeSet};

use knit_codegen::volo::VoloInline;

use super::inline::{self, Chain, Inline, Provider};
use super::names::{self, Names};
use super::servers::providers;
use knit_codegen::names::runtime::VOLO;

/// The pass's name in edits and findings.
pub const PASS: PassId = PassId::Volo;

/// Runs the pass over every Rust file of the group.
pub fn run(group: &Group, sharing: &Sharing) -> Output {
    let mut out = Output::default();
    let names = Names::of_volo_group(group);
    let (providers, not_inline) = inline::providers(group, &names);
    tonic_clients(group, sharing, &names, (&providers, &not_inline), &mut out);
    let found = chains(group, &names);
    let chains: Vec<Chain> = found.iter().map(|(_, _, c)| c.clone()).collect();
    let (plan, crate_not_inline) = inline::plan(group, &names, &providers, &chains);
    let mut crates: BTreeMap<FileId, Vec<VoloInline>> = BTreeMap::new();
    for provider in &providers {
        inline::provide(provider, &mut out);
        crates.entry(provider.krate).or_default().push(VoloInline {
            package: provider.package.clone(),
            service: provider.proto.clone(),
            module: provider.module.clone(),
            client: false,
            provider: true,
            tonic_stack: provider.tonic_stack.is_ok(),
        });
    }
    for ((krate, service), calls) in &plan {
        let provider = &providers[calls.provider];
        crates.entry(*krate).or_default().push(VoloInline {
            package: provider.package.clone(),
            service: provider.proto.clone(),
            module: calls.module.clone(),
            client: true,
            provider: false,
            tonic_stack: false,
        });
        inline::retype(group, &names, *krate, service, calls, &mut out);
    }
    inline::modules(group, crates, &mut out);
    // Who constructs a tonic server of each gRPC service.
    let mut tonic = BTreeMap::new();
    for m in &sharing.index.mentions {
        if m.named.role == Role::Server && matches!(m.usage, Usage::Call { .. }) {
            let grpc = full_name(&m.named.package, &m.named.service);
            tonic.insert(grpc, group.services[m.service].name.clone());
        }
    }
    let known = Known {
        names: &names,
        tonic,
        volo_to_tonic: &sharing.volo_to_tonic,
    };
    for (file, builder, chain) in &found {
        let calls = plan.get(&(chain.krate, builder.service.clone()));
        let calls = calls.map(|c| (c, &providers[c.provider]));
        let provider_not = not_inline.get(&full_name(
            builder.package.as_deref().unwrap_or_default(),
            &builder.service,
        ));
        let why = crate_not_inline
            .get(&(chain.krate, builder.service.clone()))
            .or(provider_not);
        convert(group, &known, *file, builder, calls, why, &mut out);
    }
    out
}

/// The Volo client constructor chains of the group's files.
fn chains(group: &Group, names: &Names) -> Vec<(FileId, Builder, Chain)> {
    let spellings = names.spellings("ClientBuilder");
    let mut found: Vec<(FileId, Builder, Chain)> = Vec::new();
    for (file, source, rust) in group.rust_files() {
        if !spellings.iter().any(|s| source.text.contains(s.as_str())) {
            continue;
        }
        let names_volo = source.text.contains("volo");
        let tree = rust.tree();
        for call in tree.syntax().descendants().filter_map(ast::CallExpr::cast) {
            let Some(builder) = Builder::of(&call, |path| {
                names.resolve(
                    rust.krate,
                    &names::scope_of(&rust.module, call.syntax()),
                    path,
                )
            }) else {
                continue;
            };
            // A `..ClientBuilder` of another library is no Volo client.
            let volo_crate = builder
                .first
                .as_deref()
                .is_some_and(|krate| inline::is_volo_crate(group, file, krate));
            if names_volo || builder.package.is_some() || volo_crate {
                let chain = Chain {
                    file,
                    krate: rust.krate,
                    caller: source.service,
                    service: builder.service.clone(),
                    modules: builder.modules.clone(),
                    whole: builder.whole,
                    methods: builder.methods.clone(),
                };
                found.push((file, builder, chain));
            }
        }
    }
    found
}

/// The gRPC services (`package.X`) that Volo client chains of each service
/// call and no Volo server of the group serves: those a tonic server of the
/// group may take in process (`Sharing` decides, as it registers providers).
pub fn tonic_served(group: &Group) -> BTreeSet<(ServiceId, String)> {
    let names = Names::of_volo_group(group);
    chains(group, &names)
        .into_iter()
        .filter(|(_, builder, _)| providers(group, &names, &builder.service).is_empty())
        .filter(|(file, builder, _)| not_to_tonic(group, *file, builder).is_none())
        .filter_map(|(file, builder, _)| {
            let [grpc] = &grpc_names(group, &builder.service, builder.package.as_deref())[..]
            else {
                return None;
            };
            Some((group.file(file).service, grpc.clone()))
        })
        .collect()
}

/// The generated builder type (`AccountsClientBuilder`) of the Volo client
/// constructor chain that starts at `offset` of `file`, its path followed
/// through the crate's names: how `knit init` names a Volo call site.
pub fn builder_at(group: &Group, names: &Names, file: FileId, offset: TextSize) -> Option<String> {
    let rust = group.file(file).rust.as_ref()?;
    let tree = rust.tree();
    let token = tree.syntax().token_at_offset(offset).right_biased()?;
    let call = token
        .parent_ancestors()
        .filter_map(ast::CallExpr::cast)
        .find(|c| c.syntax().text_range().start() == offset)?;
    let builder = Builder::of(&call, |path| {
        names.resolve(
            rust.krate,
            &names::scope_of(&rust.module, call.syntax()),
            path,
        )
    })?;
    Some(format!("{}ClientBuilder", builder.service))
}

/// A Volo client constructor chain.
struct Builder {
    /// `X` of `XClientBuilder`.
    service: String,
    /// The proto package the path names (`a.b` for `proto_gen::a::b::XClientBuilder`).
    package: Option<String>,
    /// Where the chain starts.
    at: TextRange,
    /// The argument of `.address(..)`.
    address: Option<TextRange>,
    /// Whether the chain ends in `.build()`.
    built: bool,
    /// volo-build's module the path names (the resolved path's modules), when
    /// it names one below `proto_gen`.
    modules: Option<Vec<String>>,
    /// The whole chain, when it ends in `.build()`.
    whole: Option<TextRange>,
    /// The end of the chain before `.build()`.
    before_build: Option<TextSize>,
    /// Every method after `new`, with its arguments.
    methods: Vec<(String, Vec<TextRange>)>,
    /// The first name of the resolved path (a crate's, or `crate`).
    first: Option<String>,
}

impl Builder {
    /// The constructor chain that `call` (`..XClientBuilder::new(..)`) starts,
    /// its path followed through the crate's names by `resolve`.
    fn of(call: &ast::CallExpr, resolve: impl Fn(&[String]) -> Vec<String>) -> Option<Builder> {
        let ast::Expr::PathExpr(path) = call.expr()? else {
            return None;
        };
        let segments = resolve(&names::segments(&path.path()?)?);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let [modules @ .., ty, "new"] = segments.as_slice() else {
            return None;
        };
        let service = ty.strip_suffix("ClientBuilder")?;
        if service.is_empty() {
            return None;
        }
        let package = modules
            .iter()
            .position(|m| *m == "proto_gen")
            .map(|i| modules[i + 1..].join("."))
            .filter(|p| !p.is_empty());
        let named = modules.contains(&"proto_gen") && package.is_some();
        let mut builder = Builder {
            service: service.to_string(),
            package,
            at: call.syntax().text_range(),
            address: None,
            built: false,
            modules: named.then(|| modules.iter().map(|m| m.to_string()).collect()),
            whole: None,
            before_build: None,
            methods: Vec::new(),
            first: modules.first().map(|m| m.to_string()),
        };
        let mut node = call.syntax().clone();
        while let Some(method) = node.parent().and_then(ast::MethodCallExpr::cast) {
            if method.receiver().map(|r| r.syntax().clone()) != Some(node.clone()) {
                break;
            }
            let args: Vec<TextRange> = method
                .arg_list()
                .map(|l| l.args().map(|a| a.syntax().text_range()).collect())
                .unwrap_or_default();
            let name = method.name_ref().map(|n| n.text().to_string());
            match (name.as_deref(), args.as_slice()) {
                (Some("address"), [addr]) => builder.address = Some(*addr),
                (Some("build"), []) => {
                    builder.built = true;
                    builder.whole = Some(method.syntax().text_range());
                    builder.before_build = Some(node.text_range().end());
                }
                _ => {}
            }
            builder.methods.push((name.unwrap_or_default(), args));
            node = method.syntax().clone();
        }
        Some(builder)
    }
}

/// What the pass knows of the group beside a chain: the crates' names, and
/// the gRPC services whose tonic server a service of the group builds, with
/// that service (a Volo client cannot dial those in process).
struct Known<'a> {
    names: &'a Names,
    tonic: BTreeMap<String, String>,
    /// What `Sharing` decided for Volo clients of tonic servers.
    volo_to_tonic: &'a BTreeMap<(ServiceId, String), Result<ServiceId, String>>,
}

/// The methods of a client's chain that an inline call keeps (or that do not
/// matter in process): anything else (layers, TLS, discovery) keeps Volo's
/// client.
const INLINE_METHODS: &[&str] = &[
    "address",
    "rpc_timeout",
    "build",
    "caller_name",
    "callee_name",
    "connect_timeout",
    "read_timeout",
    "write_timeout",
];

/// Converts `builder` in `file`: in process when its crate's clients of the
/// service call inline (`calls`), otherwise over the provider's Unix socket,
/// or says why it stays a real RPC.
fn convert(
    group: &Group,
    known: &Known,
    file: FileId,
    builder: &Builder,
    calls: Option<(&Inline, &Provider)>,
    provider_not_inline: Option<&String>,
    out: &mut Output,
) {
    let Some((_, provider)) = calls else {
        return socket(
            group,
            known,
            file,
            builder,
            provider_not_inline.cloned(),
            out,
        );
    };
    let client = format!(
        "crate::{}::{}::{}Client",
        inline::MODULE,
        knit_codegen::volo::package_module(&provider.package),
        builder.service
    );
    let note = "a Volo client of a service called in process is knit's";
    // The plan takes only crates whose chains all end in `.build()`.
    let Some(whole) = builder.whole else {
        return socket(group, known, file, builder, None, out);
    };
    let other = builder
        .methods
        .iter()
        .find(|(m, _)| !INLINE_METHODS.contains(&m.as_str()) && !m.starts_with("http2_"));
    let timeouts: Vec<&[TextRange]> = builder
        .methods
        .iter()
        .filter(|(m, _)| m == "rpc_timeout")
        .map(|(_, args)| args.as_slice())
        .collect();
    let reason = match (other, builder.address, timeouts.as_slice()) {
        (Some((m, _)), _, _) => Some(format!(
            "its chain calls `{m}`, which a call in process would skip"
        )),
        (None, None, _) => Some("its chain names no `.address(..)`".to_string()),
        (None, Some(_), [_, _, ..]) => {
            Some("its chain sets `rpc_timeout` more than once".to_string())
        }
        _ => None,
    };
    if let Some(reason) = reason {
        out.edit(
            PASS,
            file,
            TextRange::empty(whole.start()),
            format!("{client}::knit_remote("),
            note,
        );
        out.edit(PASS, file, TextRange::empty(whole.end()), ")", note);
        return socket(group, known, file, builder, Some(reason), out);
    }
    match timeouts.as_slice() {
        // Insertions only: other passes may edit inside the argument.
        [[timeout]] => {
            let open = format!("{{ let knit_rpc_timeout; {client}::knit_new(");
            out.edit(PASS, file, TextRange::empty(whole.start()), open, note);
            let at = TextRange::empty(timeout.start());
            out.edit(PASS, file, at, "{ knit_rpc_timeout = ", note);
            let at = TextRange::empty(timeout.end());
            out.edit(PASS, file, at, "; knit_rpc_timeout }", note);
            let at = TextRange::empty(whole.end());
            out.edit(PASS, file, at, ", knit_rpc_timeout) }", note);
        }
        _ => {
            let at = TextRange::empty(whole.start());
            out.edit(PASS, file, at, format!("{client}::knit_new("), note);
            out.edit(PASS, file, TextRange::empty(whole.end()), ", None)", note);
        }
    }
    let name = &group.services[provider.service].name;
    if let Some(address) = builder.address {
        let note = "a Volo client of a merged service dials its provider in process";
        out.edit(
            PASS,
            file,
            TextRange::empty(address.start()),
            format!("{VOLO}::address(\"{name}\", "),
            note,
        );
        out.edit(PASS, file, TextRange::empty(address.end()), ")", note);
    }
    let streams = provider.proto.methods.iter().any(|m| m.client_streaming);
    let rest = match streams {
        true => {
            "; a request stream's messages are encoded in memory for the handler's `RecvStream`, no socket"
        }
        false => "",
    };
    out.calls.push(CallSite {
        tier: Tier::Inline,
        at: (file, builder.at.start()),
        caller: group.file(file).service,
        callee: Some(provider.grpc.clone()),
        detail: format!(
            "Volo client of `{}` (served by `{name}`): calls reach the handler in process (knit's client: the client's `rpc_timeout`, metainfo, statuses and a panic as over Volo){rest}",
            provider.grpc
        ),
    });
}

/// Converts `builder` in `file` to dial its provider's Unix socket, or says
/// why it stays a real RPC; `not_inline` says why it is not called in process.
fn socket(
    group: &Group,
    known: &Known,
    file: FileId,
    builder: &Builder,
    not_inline: Option<String>,
    out: &mut Output,
) {
    let caller = group.file(file).service;
    let at = (file, builder.at.start());
    let finding = |tier: Tier, callee: Option<String>, detail: String| CallSite {
        tier,
        at,
        caller,
        callee,
        detail,
    };
    let defined = grpc_names(group, &builder.service, builder.package.as_deref());
    let grpc = match defined.as_slice() {
        [one] => one.clone(),
        [] => {
            return out.calls.push(finding(
                Tier::Rpc,
                None,
                format!(
                    "Volo client of `{}`: no proto of the group defines that service; stays a Volo RPC",
                    builder.service
                ),
            ));
        }
        many => {
            return out.calls.push(finding(
                Tier::Rpc,
                None,
                format!(
                    "Volo client of `{}`: several protos define it ({}); name it by its `proto_gen::PACKAGE::` path to convert it; stays a Volo RPC",
                    builder.service,
                    many.join(", ")
                ),
            ));
        }
    };
    let providers = providers(group, known.names, &builder.service);
    let provider = match providers.as_slice() {
        [one] => *one,
        [] => {
            let detail = match known.tonic.get(&grpc) {
                Some(tonic) => return to_tonic(group, known, file, builder, (&grpc, tonic), out),
                None => format!(
                    "Volo client of `{grpc}`: no service of the group serves it; stays a Volo RPC"
                ),
            };
            return out
                .calls
                .push(finding(Tier::Rpc, Some(grpc.clone()), detail));
        }
        _ => {
            return out.calls.push(finding(
                Tier::Rpc,
                Some(grpc.clone()),
                format!("Volo client of `{grpc}`: several services of the group serve it; stays a Volo RPC"),
            ));
        }
    };
    if !runs_in_main(group, provider) {
        return out.calls.push(finding(
            Tier::Rpc,
            Some(grpc.clone()),
            format!("Volo client of `{grpc}`: `{}` runs its Volo server outside `fn main`, where knit does not hand it to the host; stays a Volo RPC", group.services[provider].name),
        ));
    }
    let Some(address) = builder.address.filter(|_| builder.built) else {
        return out.calls.push(finding(
            Tier::Rpc,
            Some(grpc.clone()),
            format!("Volo client of `{grpc}`: no `.address(addr)` and `.build()` in the builder's chain (a discovery or a builder kept in a variable); stays a Volo RPC"),
        ));
    };
    let service = &group.services[caller];
    let bin_package = group.file(service.bin.root).package;
    if group.file(file).package != bin_package {
        return out.calls.push(finding(
            Tier::Rpc,
            Some(grpc.clone()),
            format!("Volo client of `{grpc}`: built outside the package of `{}`'s binary, which alone depends on knit-runtime; stays a Volo RPC", service.name),
        ));
    }
    let note = "a Volo client of a merged service dials its provider in process";
    out.edit(
        PASS,
        file,
        TextRange::empty(address.start()),
        format!("{VOLO}::address(\"{}\", ", group.services[provider].name),
        note,
    );
    out.edit(PASS, file, TextRange::empty(address.end()), ")", note);
    let why = match not_inline {
        Some(reason) => format!("not in process: {reason}"),
        None => "Volo's client has no in-process transport".to_string(),
    };
    out.calls.push(finding(
        Tier::Rpc,
        Some(grpc.clone()),
        format!(
            "Volo client of `{grpc}` (served by `{}`): through the client's whole Volo stack and the server's, still an RPC, over a Unix socket of the merged process instead of the network ({why})",
            group.services[provider].name
        ),
    ));
}

/// The methods of a Volo client chain whose calls knit cannot hand to a
/// tonic server in process: the layers and the load balancer below the one
/// knit puts in, TLS, and compression (knit's transport compresses nothing and
/// asks for nothing compressed).
const NOT_TO_TONIC: &[&str] = &[
    "layer_inner",
    "layer_inner_front",
    "mk_load_balance",
    "load_balance",
    "discover",
    "tls_config",
    "send_compressions",
    "accept_compressions",
];

/// Why the Volo client chain `builder` of `file` cannot call a tonic server
/// in process, if it cannot.
fn not_to_tonic(group: &Group, file: FileId, builder: &Builder) -> Option<String> {
    if group.tonic.on_hyper_014() {
        return Some(format!(
            "the group builds with tonic {}, on hyper 0.14, where knit has no in-process path between tonic and Volo",
            group.tonic.name()
        ));
    }
    if builder.before_build.is_none() || builder.address.is_none() {
        return Some("no `.address(addr)` and `.build()` in the builder's chain".to_string());
    }
    if let Some((method, _)) = builder
        .methods
        .iter()
        .find(|(m, _)| NOT_TO_TONIC.contains(&m.as_str()))
    {
        return Some(format!(
            "its chain calls `{method}`, which a call in process would skip"
        ));
    }
    let caller = group.file(file).service;
    let name = &group.services[caller].name;
    let bin_package = group.file(group.services[caller].bin.root).package;
    if group.file(file).package != bin_package {
        return Some(format!(
            "built outside the package of `{name}`'s binary, which alone depends on knit-runtime"
        ));
    }
    // A call option may name another address per call.
    let with_callopt = group
        .rust_files()
        .find(|(_, source, _)| source.service == caller && source.text.contains("with_callopt"));
    if let Some((_, source, _)) = with_callopt {
        return Some(format!(
            "`{name}` calls `with_callopt` ({}), whose options may send a call elsewhere",
            source.path
        ));
    }
    None
}

/// Converts `builder` in `file`, a Volo client of `grpc`, which the tonic
/// server of the group's service `tonic` serves: its chain gets knit's load balancer
/// (`.mk_load_balance(knit_runtime::volo::tonic_server("pkg.X"))` before
/// `.build()`), which hands its calls to the provider's tonic server in
/// process; or says why it stays a real RPC.
fn to_tonic(
    group: &Group,
    known: &Known,
    file: FileId,
    builder: &Builder,
    (grpc, tonic): (&str, &str),
    out: &mut Output,
) {
    let caller = group.file(file).service;
    let finding = |tier: Tier, detail: String| CallSite {
        tier,
        at: (file, builder.at.start()),
        caller,
        callee: Some(grpc.to_string()),
        detail,
    };
    let network = format!("stays a Volo RPC over the network: keep `{tonic}`'s listener on");
    if let Some(reason) = not_to_tonic(group, file, builder) {
        return out.calls.push(finding(
            Tier::Rpc,
            format!(
                "Volo client of `{grpc}`, served by `{tonic}`'s tonic server: {reason}; {network}"
            ),
        ));
    }
    let provider = match known.volo_to_tonic.get(&(caller, grpc.to_string())) {
        Some(Ok(provider)) => *provider,
        Some(Err(reason)) => {
            return out.calls.push(finding(Tier::Rpc, format!("Volo client of `{grpc}`, served by `{tonic}`'s tonic server: {reason}; {network}")));
        }
        None => {
            return out.calls.push(finding(
                Tier::Rpc,
                format!("Volo client of `{grpc}`, served by `{tonic}`'s tonic server, which knit finds no registration of; {network}"),
            ));
        }
    };
    let Some(before_build) = builder.before_build else {
        return out.calls.push(finding(Tier::Rpc, format!("Volo client of `{grpc}`, served by `{tonic}`'s tonic server: no `.build()` in the builder's chain; {network}")));
    };
    out.edit(
        PASS,
        file,
        TextRange::empty(before_build),
        format!(".mk_load_balance({VOLO}::tonic_server(\"{grpc}\"))"),
        "a Volo client of a tonic server of the group calls it in process",
    );
    let name = &group.services[provider].name;
    out.calls.push(finding(Tier::Bridged, format!("Volo client of `{grpc}`, served by `{name}`'s tonic server: in process, through Volo's client (its outer layers, `rpc_timeout`, metainfo) and the server `{name}` registers for bridged calls; messages encoded by Volo, decoded by tonic, no socket")));
}

/// The full names (`pkg.X`) of the group's proto services named `service`, in
/// `package` when the path names one.
fn grpc_names(group: &Group, service: &str, package: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = group
        .services
        .iter()
        .flat_map(|s| &s.protos)
        .filter(|p| package.is_none_or(|want| p.package == want))
        .flat_map(|p| {
            p.services
                .iter()
                .filter(|s| s.name == service)
                .map(|s| full_name(&p.package, &s.name))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `package.Service`, as call findings name a gRPC service.
pub(crate) fn full_name(package: &str, service: &str) -> String {
    if package.is_empty() {
        service.to_string()
    } else {
        format!("{package}.{service}")
    }
}

/// Whether `service`'s `fn main` runs a Volo server (`Server::new()..run*`),
/// which the `entry` pass hands to the host.
fn runs_in_main(group: &Group, service: ServiceId) -> bool {
    crate::entry::main_fn(group, service).is_some_and(|main| {
        main.syntax()
            .descendants()
            .filter_map(ast::MethodCallExpr::cast)
            .any(|call| super::entry::is_volo_run(&call))
    })
}

/// Converts the tonic clients `XClient::new(channel)` of gRPC services that no
/// tonic server of the group serves and a Volo server does: the channel
/// becomes `knit_runtime::volo::tonic_channel("PROVIDER", channel)`, in
/// process (`bridged`) to a provider that registers (`registering`, and why
/// each other does not), over its Unix socket otherwise. The channel must be
/// built in the argument (`..connect_lazy()`, `..connect().await`) without
/// settings knit's channel would drop (`timeout`, limits).
fn tonic_clients(
    group: &Group,
    sharing: &Sharing,
    names: &Names,
    registering: (&[inline::Provider], &BTreeMap<String, String>),
    out: &mut Output,
) {
    for m in &sharing.index.mentions {
        let Usage::Call { method, args, .. } = &m.usage else {
            continue;
        };
        if m.named.role != Role::Client || method != "new" || args.len() != 1 {
            continue;
        }
        let not_served = matches!(
            sharing.calls.get(&(m.service, m.named.clone())),
            Some(Decision::Rpc(_))
        );
        if !not_served {
            continue;
        }
        let grpc = full_name(&m.named.package, &m.named.service);
        if grpc_names(group, &m.named.service, Some(&m.named.package)).is_empty() {
            continue;
        }
        let [provider] = providers(group, names, &m.named.service)[..] else {
            continue;
        };
        let at = (m.file, m.path.start());
        let text = &group.file(m.file).text;
        let arg = &text[args[0]];
        let finding = |tier: Tier, detail: String| CallSite {
            tier,
            at,
            caller: m.service,
            callee: Some(grpc.clone()),
            detail,
        };
        let name = &group.services[provider].name;
        let settings = [
            "timeout",
            "limit",
            "keep_alive",
            "tls_config",
            "origin",
            "user_agent",
        ];
        if !runs_in_main(group, provider) {
            out.calls.push(finding(Tier::Rpc, format!("tonic client of `{grpc}`, served by `{name}`'s Volo server: `{name}` runs it outside `fn main`, where knit does not hand it to the host; stays RPC")));
        } else if !(arg.contains("connect_lazy()") || arg.contains("connect()")) {
            out.calls.push(finding(Tier::Rpc, format!("tonic client of `{grpc}`, served by `{name}`'s Volo server: its channel is built outside the call, where knit cannot see its settings; stays RPC")));
        } else if let Some(setting) = settings.iter().find(|s| arg.contains(*s)) {
            out.calls.push(finding(Tier::Rpc, format!("tonic client of `{grpc}`, served by `{name}`'s Volo server: its channel sets `{setting}`, which knit's channel to a Volo server would drop; stays RPC")));
        } else {
            let note = "a tonic client of a Volo service of the group dials it in process";
            out.edit(
                PASS,
                m.file,
                TextRange::empty(args[0].start()),
                format!("{VOLO}::tonic_channel(\"{name}\", "),
                note,
            );
            out.edit(PASS, m.file, TextRange::empty(args[0].end()), ")", note);
            let (providers, not_inline) = registering;
            let stack = providers
                .iter()
                .find(|p| p.grpc == grpc)
                .map(|p| &p.tonic_stack);
            if let Some(Ok(())) = stack {
                out.calls.push(finding(Tier::Bridged, format!("tonic client of `{grpc}`, served by `{name}`'s Volo server: in process, through tonic's client and the stack Volo's server runs (metainfo, router, codec) over HTTP/2 on an in-memory pipe, no socket; messages encoded by tonic, decoded by Volo")));
            } else {
                let why = match stack {
                    Some(Err(reason)) => Some(reason),
                    _ => not_inline.get(&grpc),
                };
                let why = why.map_or(String::new(), |r| format!("; not in process: {r}"));
                out.calls.push(finding(Tier::Rpc, format!("tonic client of `{grpc}`, served by `{name}`'s Volo server: still an RPC, over a Unix socket of the merged process, through tonic's client and Volo's whole server (both speak gRPC over HTTP/2){why}")));
            }
        }
    }
}
