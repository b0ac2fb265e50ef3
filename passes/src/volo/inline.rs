//! Volo calls in process: which providers register their handlers, which
//! crates' clients call them inline, and the edits and generated module
//! (`knit_volo.rs`, [`knit_codegen::volo`]) that do it.
//!
//! A provider registers when its Volo server runs in `fn main` with no layer
//! (`Server::layer`, `layer_front`, `layer_tower`, `ServiceBuilder::layer`,
//! `layer_front`: an inline call would skip them), builds its `XServer` once, in its
//! binary's package, and every message of its methods is of its own
//! package. A crate's clients of that service call
//! inline when the crate compiles the same generated messages (the same
//! package, as both name it), every client it builds ends in `.build()`, it
//! never names volo-build's `XGenericClient`/`XOneShotClient` nor calls
//! `with_callopt`, and no other crate of the service names `XClient`: the
//! crate's `XClient` becomes knit's, which has the same methods (all four
//! kinds, in process).

use std::collections::BTreeMap;

use ra_ap_syntax::ast::{self, HasArgList};
use ra_ap_syntax::{AstNode, TextRange, TextSize};

use crate::edit::{NewFile, Output};
use crate::model::{FileId, Group, ServiceId};
use knit_codegen::ProtoService;
use knit_codegen::volo::{VoloInline, package_module, supported};

use super::calls::{PASS, full_name};
use super::names::{self, Names};

/// The name of the module knit adds to a crate that calls or serves inline.
pub const MODULE: &str = "knit_volo";

/// The methods that put a layer on a Volo server (`Server`'s) or on one of its
/// services (`ServiceBuilder`'s).
const SERVER_LAYERS: &[&str] = &["layer", "layer_front", "layer_tower"];

/// A `ServiceBuilder`'s compression settings, which the stack knit registers
/// for tonic clients would not have.
const COMPRESSIONS: &[&str] = &["send_compressions", "accept_compressions"];

/// A provider's Volo server whose handler is registered in process.
#[derive(Clone, Debug)]
pub struct Provider {
    pub service: ServiceId,
    /// `package.X`.
    pub grpc: String,
    pub package: String,
    pub proto: ProtoService,
    /// The file that builds `XServer::new(..)`, and that call.
    pub file: FileId,
    pub krate: FileId,
    /// `new` or `from_arc`, as written.
    method: TextRange,
    from_arc: bool,
    arg: TextRange,
    /// volo-build's module of the package, as the provider's crate names it.
    pub module: String,
    /// Where the generated messages are compiled (see [`home`]).
    pub home: String,
    /// Whether the group's tonic clients of the service reach its Volo stack
    /// in process (`knit_runtime::volo::inline::serve_tonic_clients`), or why not.
    pub tonic_stack: Result<(), String>,
}

/// The group's Volo providers that register their handlers in process, and
/// why each other gRPC service one service of the group serves with Volo does
/// not (by `package.X`).
pub fn providers(group: &Group, names: &Names) -> (Vec<Provider>, BTreeMap<String, String>) {
    let mut found = Vec::new();
    let mut not = BTreeMap::new();
    for proto in group.services.iter().flat_map(|s| &s.protos) {
        for service in &proto.services {
            let grpc = full_name(&proto.package, &service.name);
            if found.iter().any(|p: &Provider| p.grpc == grpc) || not.contains_key(&grpc) {
                continue;
            }
            let rust_name = knit_codegen::volo::upper_camel(&service.name);
            let [one] = super::servers::providers(group, names, &rust_name)[..] else {
                continue;
            };
            match provider(group, names, one, &proto.package, service) {
                Ok(p) => found.push(p),
                Err(reason) => {
                    not.insert(grpc, reason);
                }
            }
        }
    }
    (found, not)
}

/// (provider's name, `package.X`) of every provider that registers: what the
/// merged host declares.
pub fn declared(group: &Group) -> Vec<(String, String)> {
    let names = Names::of_volo_group(group);
    providers(group, &names)
        .0
        .into_iter()
        .map(|p| (group.services[p.service].name.clone(), p.grpc))
        .collect()
}

/// The Volo server of `service` that `one` builds, if it can register its
/// handler; otherwise why not.
fn provider(
    group: &Group,
    names: &Names,
    one: ServiceId,
    package: &str,
    service: &ProtoService,
) -> Result<Provider, String> {
    let name = &group.services[one].name;
    let server = format!("{}Server", knit_codegen::volo::upper_camel(&service.name));
    let mut builds = Vec::new();
    for (file, source, rust) in group.rust_files() {
        if source.service != one || rust.test_only || !source.text.contains("volo") {
            continue;
        }
        let tree = rust.tree();
        for call in tree.syntax().descendants().filter_map(ast::CallExpr::cast) {
            let Some(ast::Expr::PathExpr(path)) = call.expr() else {
                continue;
            };
            let Some(path) = path.path() else { continue };
            let Some(segments) = names::segments(&path) else {
                continue;
            };
            let scope = names::scope_of(&rust.module, call.syntax());
            let resolved = names.resolve(rust.krate, &scope, &segments);
            let [module @ .., ty, method] = resolved.as_slice() else {
                continue;
            };
            if *ty != server || !(method == "new" || method == "from_arc") {
                continue;
            }
            let Some(segment) = path.segment().and_then(|s| s.name_ref()) else {
                continue;
            };
            let args: Vec<TextRange> = call
                .arg_list()
                .map(|l| l.args().map(|a| a.syntax().text_range()).collect())
                .unwrap_or_default();
            builds.push((
                file,
                rust.krate,
                segment.syntax().text_range(),
                method == "from_arc",
                args,
                module.to_vec(),
            ));
        }
    }
    let [(file, krate, method, from_arc, args, module)] = builds.as_slice() else {
        return Err(match builds.len() {
            0 => format!("`{name}` builds no `{server}` of its own code knit can see"),
            _ => format!("`{name}` builds `{server}` in more than one place"),
        });
    };
    let [arg] = args.as_slice() else {
        return Err(format!(
            "`{name}` builds `{server}` with no single argument"
        ));
    };
    let Some(module) = module_path(module, package) else {
        return Err(format!(
            "`{name}` names `{server}` by no path through volo-build's `proto_gen::{package}`"
        ));
    };
    let runs = crate::entry::main_fn(group, one).is_some_and(|main| {
        main.syntax()
            .descendants()
            .filter_map(ast::MethodCallExpr::cast)
            .any(|c| super::entry::is_volo_run(&c))
    });
    if !runs {
        return Err(format!("`{name}` runs its Volo server outside `fn main`"));
    }
    // The server's layers and `ServiceBuilder`'s (a client's are
    // `layer_outer*`/`layer_inner*`, the caller's business).
    let layer = |node: &ra_ap_syntax::SyntaxNode| {
        node.descendants()
            .filter_map(ast::MethodCallExpr::cast)
            .filter_map(|m| m.name_ref())
            .find(|n| SERVER_LAYERS.iter().any(|l| n.text() == *l))
            .map(|n| n.text().to_string())
    };
    let two_crates = group
        .file(*file)
        .rust
        .as_ref()
        .is_none_or(|r| !r.also_in.is_empty());
    if two_crates {
        return Err(format!(
            "`{name}` builds `{server}` in a file that two crates compile"
        ));
    }
    // A layer anywhere in the provider's own code (a helper may wrap the
    // service in another file): its server may have it.
    let mut tonic_stack = match group.tonic.on_hyper_014() {
        true => Err(format!(
            "the group builds with tonic {}, on hyper 0.14, where knit has no in-process path between tonic and Volo",
            group.tonic.name()
        )),
        false => Ok(()),
    };
    for (_, source, rust) in group.rust_files() {
        if source.service != one || rust.test_only {
            continue;
        }
        let tree = rust.tree();
        if let Some(layer) = layer(tree.syntax()) {
            return Err(format!(
                "`{name}` calls `{layer}` ({}): a layer of its Volo server would be skipped by a call in process",
                source.path
            ));
        }
        let compression = tree
            .syntax()
            .descendants()
            .filter_map(ast::MethodCallExpr::cast)
            .filter_map(|m| m.name_ref())
            .find(|n| COMPRESSIONS.iter().any(|c| n.text() == *c));
        if let (Some(setting), Ok(())) = (compression, &tonic_stack) {
            tonic_stack = Err(format!(
                "`{name}` calls `{}` ({}), a compression setting the stack knit registers for tonic clients would not have",
                setting.text(),
                source.path
            ));
        }
    }
    if !crate_of_binary(group, one, *krate) {
        return Err(format!(
            "`{name}` builds `{server}` outside its binary's crate (or its package's library)"
        ));
    }
    if !supported(package, service) {
        return Err(format!(
            "a message of `{}` is of another proto package",
            full_name(package, &service.name)
        ));
    }
    if service.methods.is_empty() {
        return Err("it has no method".to_string());
    }
    Ok(Provider {
        service: one,
        grpc: full_name(package, &service.name),
        package: package.to_string(),
        proto: service.clone(),
        file: *file,
        krate: *krate,
        method: *method,
        from_arc: *from_arc,
        arg: *arg,
        home: home(group, *file, &module).ok_or_else(|| {
            format!("`{name}` reaches volo-build's code through no path dependency knit can follow")
        })?,
        module,
        tonic_stack,
    })
}

/// Whether `krate` is a crate of `service`'s binary package that knit's
/// output compiles as it is: the binary's root when the package has no
/// library (its `main` is lifted in place), or the library.
fn crate_of_binary(group: &Group, service: ServiceId, krate: FileId) -> bool {
    let service = &group.services[service];
    let bin_package = group.file(service.bin.root).package;
    let package = &service.packages[bin_package.0];
    match &package.lib {
        Some(lib) => lib.root == krate,
        None => service.bin.root == krate,
    }
}

/// volo-build's module of `package` from a resolved path's modules
/// (`volo_gen::proto_gen::rates`): `::volo_gen::proto_gen::rates` for another
/// crate's, `crate::..` for the crate's own; none when the path does not name
/// the package below `proto_gen`.
fn module_path(modules: &[String], package: &str) -> Option<String> {
    let at = modules.iter().position(|m| m == "proto_gen")?;
    if modules[at + 1..].join(".") != package || package.is_empty() {
        return None;
    }
    let text = modules.join("::");
    match modules.first()?.as_str() {
        "crate" => Some(text),
        "self" | "super" => None,
        _ => Some(format!("::{text}")),
    }
}

/// Where a crate's `module` (from [`module_path`]) is compiled: the folder of
/// the package that the path's first name depends on (its path dependency),
/// or the crate's own root file. Two crates whose homes are equal compile the
/// same message types.
fn home(group: &Group, file: FileId, module: &str) -> Option<String> {
    let source = group.file(file);
    let service = &group.services[source.service];
    let package = &service.packages[source.package.0];
    let first = module.trim_start_matches("::").split("::").next()?;
    if first == "crate" {
        let krate = source.rust.as_ref()?.krate;
        return Some(group.file(krate).path.clone());
    }
    let dep = package
        .local_deps
        .iter()
        .find(|d| d.key.replace('-', "_") == first)?;
    let dir = service.packages.iter().find(|p| p.name == dep.package)?;
    Some(dir.dir.clone())
}

/// Whether `krate`, named in `file`, is a path dependency of its package whose
/// build script runs volo-build (a `volo-gen` crate, whatever its name).
pub fn is_volo_crate(group: &Group, file: FileId, krate: &str) -> bool {
    let source = group.file(file);
    let service = &group.services[source.service];
    let package = &service.packages[source.package.0];
    let Some(dep) = package
        .local_deps
        .iter()
        .find(|d| d.key.replace('-', "_") == krate)
    else {
        return false;
    };
    service
        .packages
        .iter()
        .filter(|p| p.name == dep.package)
        .any(|p| {
            p.build_script
                .as_deref()
                .is_some_and(|s| s.contains("volo_build"))
        })
}

/// A Volo client chain, as the pass found it.
#[derive(Clone, Debug)]
pub struct Chain {
    pub file: FileId,
    pub krate: FileId,
    pub caller: ServiceId,
    /// `X`.
    pub service: String,
    /// volo-build's module the builder's path names (see [`module_path`]),
    /// when it names one.
    pub modules: Option<Vec<String>>,
    /// From its start to the end of `.build()`, when it ends so.
    pub whole: Option<TextRange>,
    /// Every method after `new`, with its arguments.
    pub methods: Vec<(String, Vec<TextRange>)>,
}

/// What a crate's clients of one provider's service do.
#[derive(Clone, Debug)]
pub struct Inline {
    pub provider: usize,
    /// volo-build's module, as the crate names it.
    pub module: String,
    /// The same, as the crate's paths resolve (`volo_gen`, `proto_gen`, ..).
    pub modules: Vec<String>,
}

/// Per (crate, `X`): how its clients of `X` call inline.
pub type Plan = BTreeMap<(FileId, String), Inline>;
/// Per (crate, `X`): why its clients of a registered `X` do not call inline.
pub type NotInline = BTreeMap<(FileId, String), String>;

/// The crates whose clients of a provider's service call inline, and why the
/// others do not.
pub fn plan(
    group: &Group,
    names: &Names,
    providers: &[Provider],
    chains: &[Chain],
) -> (Plan, NotInline) {
    let mut plan = BTreeMap::new();
    let mut not = BTreeMap::new();
    let mut keys: Vec<(FileId, &str)> = chains
        .iter()
        .map(|c| (c.krate, c.service.as_str()))
        .collect();
    keys.sort();
    keys.dedup();
    for (krate, service) in keys {
        let of = |c: &&Chain| c.krate == krate && c.service == service;
        let mine: Vec<&Chain> = chains.iter().filter(of).collect();
        match planned(group, names, providers, &mine, krate, service) {
            Ok(Some(inline)) => {
                plan.insert((krate, service.to_string()), inline);
            }
            Ok(None) => {}
            Err(reason) => {
                not.insert((krate, service.to_string()), reason);
            }
        }
    }
    (plan, not)
}

/// Whether the chains `mine` of `X` (`service`) in crate `krate` call inline:
/// none when no provider registers `X`.
fn planned(
    group: &Group,
    names: &Names,
    providers: &[Provider],
    mine: &[&Chain],
    krate: FileId,
    service: &str,
) -> Result<Option<Inline>, String> {
    let Some(first) = mine.first() else {
        return Ok(None);
    };
    let Some(modules) = &first.modules else {
        return Ok(None);
    };
    let Some(at) = modules.iter().position(|m| m == "proto_gen") else {
        return Ok(None);
    };
    let package = modules[at + 1..].join(".");
    let Some(index) = providers.iter().position(|p| {
        p.package == package && knit_codegen::volo::upper_camel(&p.proto.name) == service
    }) else {
        return Ok(None);
    };
    let provider = &providers[index];
    let name = &group.services[provider.service].name;
    if mine.iter().any(|c| c.modules.as_ref() != Some(modules)) {
        return Err(format!(
            "its crate names `{service}ClientBuilder` by paths knit cannot all follow to `proto_gen::{package}`"
        ));
    }
    if mine.iter().any(|c| c.whole.is_none()) {
        return Err(format!(
            "a client of it in its crate does not end in `.build()` (knit's client replaces volo-build's `{service}Client` in the whole crate)"
        ));
    }
    let module = module_path(modules, &package).ok_or_else(|| {
        "its crate names volo-build's code by a path knit cannot write (`self::`, `super::`)"
            .to_string()
    })?;
    if home(group, first.file, &module).as_deref() != Some(provider.home.as_str()) {
        return Err(format!(
            "its crate compiles other definitions of the messages than `{name}`'s (another volo-build crate)"
        ));
    }
    if !crate_of_binary(group, first.caller, krate) {
        return Err(
            "it is built outside its binary's crate (or its package's library)".to_string(),
        );
    }
    clean_crate(group, names, first.caller, krate, modules, service)?;
    Ok(Some(Inline {
        provider: index,
        module,
        modules: modules.clone(),
    }))
}

/// Whether the crate `krate` of `caller` (and its other crates) use
/// volo-build's client of `X` only in ways knit's client answers, and knit
/// sees every use; otherwise which: `with_callopt`,
/// `XGenericClient`/`XOneShotClient`, `XClient` or `XClientBuilder` in a
/// macro's arguments (not parsed, so not rewritten), `XClient` in another
/// crate of the service, a file of `krate` that another crate compiles too.
fn clean_crate(
    group: &Group,
    names: &Names,
    caller: ServiceId,
    krate: FileId,
    modules: &[String],
    service: &str,
) -> Result<(), String> {
    let generic = [
        format!("{service}GenericClient"),
        format!("{service}OneShotClient"),
        format!("Mk{service}GenericClient"),
    ];
    let client = format!("{service}Client");
    let builder = format!("{service}ClientBuilder");
    for (_, source, rust) in group.rust_files() {
        // A file of a package the caller shares with other services counts.
        let callers = source.service == caller || source.also.iter().any(|p| p.service == caller);
        if !callers {
            continue;
        }
        let ours = rust.krate == krate;
        if ours && source.text.contains("with_callopt") {
            return Err(format!(
                "its crate calls `with_callopt` ({}), which knit's client has not",
                source.path
            ));
        }
        let named = |name: &String| source.text.contains(name.as_str());
        if !named(&client) && !generic.iter().any(named) {
            continue;
        }
        if ours && !rust.also_in.is_empty() {
            return Err(format!(
                "{} names `{client}` and is compiled by another crate too",
                source.path
            ));
        }
        let tree = rust.tree();
        // Every `XClient` of the crate outside `use`s and macros must be a path
        // knit follows to volo-build's (not through a glob import, say).
        if ours {
            let followed = client_paths(names, rust, modules)
                .iter()
                .filter(|(resolved, _)| resolved.last() == Some(&client))
                .count();
            let written = tree
                .syntax()
                .descendants_with_tokens()
                .filter_map(|e| e.into_token())
                .filter(|t| t.kind() == ra_ap_syntax::SyntaxKind::IDENT && t.text() == client)
                .filter(|t| {
                    !t.parent_ancestors().any(|a| {
                        ast::UseTree::can_cast(a.kind()) || ast::TokenTree::can_cast(a.kind())
                    })
                })
                .count();
            if written > followed {
                return Err(format!(
                    "{} names `{client}` where knit cannot follow it to volo-build's (a glob import, another type of that name)",
                    source.path
                ));
            }
        }
        let idents = tree
            .syntax()
            .descendants_with_tokens()
            .filter_map(|e| e.into_token())
            .filter(|t| t.kind() == ra_ap_syntax::SyntaxKind::IDENT);
        for token in idents {
            let text = token.text();
            let in_macro = token
                .parent_ancestors()
                .any(|a| ast::TokenTree::can_cast(a.kind()));
            let named_in_macro = ours && in_macro && (text == client || text == builder);
            if named_in_macro {
                return Err(format!(
                    "{} names `{text}` in a macro's arguments, which knit does not rewrite",
                    source.path
                ));
            }
            if (!ours && text == client) || generic.iter().any(|g| g == text) {
                return Err(format!(
                    "{} names `{text}`, which knit's client would not be",
                    source.path
                ));
            }
        }
    }
    Ok(())
}

/// The paths of `rust` that resolve into `modules` (volo-build's module of a
/// package), with their resolution, outermost paths only.
fn client_paths(
    names: &Names,
    rust: &crate::model::RustFile,
    modules: &[String],
) -> Vec<(Vec<String>, ast::Path)> {
    let tree = rust.tree();
    tree.syntax()
        .descendants()
        .filter_map(ast::Path::cast)
        .filter(|p| p.syntax().parent().and_then(ast::Path::cast).is_none())
        .filter(|p| {
            p.syntax()
                .ancestors()
                .all(|a| !ast::UseTree::can_cast(a.kind()))
        })
        .filter_map(|p| {
            let segments = names::segments(&p)?;
            let scope = names::scope_of(&rust.module, p.syntax());
            let resolved = names.resolve(rust.krate, &scope, &segments);
            (resolved.len() == modules.len() + 1 && resolved.starts_with(modules))
                .then_some((resolved, p))
        })
        .collect()
}

/// The edits of a crate's clients of `X` that call inline: every path naming
/// `XClient` becomes knit's (the `imports` pass drops the imports this leaves
/// unused).
pub fn retype(
    group: &Group,
    names: &Names,
    krate: FileId,
    service: &str,
    inline: &Inline,
    out: &mut Output,
) {
    let client = format!("{service}Client");
    let modules = &inline.modules;
    let knit = format!(
        "crate::{MODULE}::{}::{client}",
        package_module(&package_of(modules))
    );
    let note =
        "volo-build's client of a service called in process becomes knit's, with its methods";
    for (file, source, rust) in group.rust_files() {
        if rust.krate != krate || !source.text.contains(&client) {
            continue;
        }
        for (resolved, path) in client_paths(names, rust, modules) {
            if resolved.last() == Some(&client) {
                out.edit(PASS, file, path.syntax().text_range(), knit.clone(), note);
            }
        }
    }
}

fn package_of(modules: &[String]) -> String {
    let at = modules
        .iter()
        .position(|m| m == "proto_gen")
        .unwrap_or(modules.len());
    modules.get(at + 1..).unwrap_or_default().join(".")
}

/// The edits of `provider`: `XServer::new(h)` becomes
/// `XServer::from_arc(crate::knit_volo::P::provide_x(Arc::new(h)))`.
pub fn provide(provider: &Provider, out: &mut Output) {
    let note = "a Volo provider registers its handler for calls in process";
    let function = format!(
        "crate::{MODULE}::{}::{}(",
        package_module(&provider.package),
        knit_codegen::volo::provide_fn(&provider.proto.name)
    );
    let (open, close) = match provider.from_arc {
        true => (function, ")".to_string()),
        false => (
            format!("{function}::std::sync::Arc::new("),
            "))".to_string(),
        ),
    };
    if !provider.from_arc {
        out.edit(PASS, provider.file, provider.method, "from_arc", note);
    }
    out.edit(
        PASS,
        provider.file,
        TextRange::empty(provider.arg.start()),
        open,
        note,
    );
    out.edit(
        PASS,
        provider.file,
        TextRange::empty(provider.arg.end()),
        close,
        note,
    );
}

/// Adds `knit_volo.rs` to every crate that calls or serves inline, declared at
/// the crate's root.
pub fn modules(group: &Group, crates: BTreeMap<FileId, Vec<VoloInline>>, out: &mut Output) {
    for (krate, mut services) in crates {
        services.sort_by(|a, b| (&a.package, &a.service.name).cmp(&(&b.package, &b.service.name)));
        let mut merged: Vec<VoloInline> = Vec::new();
        for s in services {
            match merged
                .iter_mut()
                .find(|m| m.package == s.package && m.service.name == s.service.name)
            {
                Some(m) => {
                    m.client |= s.client;
                    m.provider |= s.provider;
                    m.tonic_stack |= s.tonic_stack;
                }
                None => merged.push(s),
            }
        }
        let root = group.file(krate);
        let dir = root.path.rsplit_once('/').map_or("", |(d, _)| d);
        let path = match dir {
            "" => format!("{MODULE}.rs"),
            d => format!("{d}/{MODULE}.rs"),
        };
        out.new_files.push(NewFile {
            path,
            text: knit_codegen::volo::file(&merged),
            pass: PASS,
        });
        let end = TextSize::of(root.text.as_str());
        let newline = if root.text.ends_with('\n') || root.text.is_empty() {
            ""
        } else {
            "\n"
        };
        out.edit(
            PASS,
            krate,
            TextRange::empty(end),
            format!("{newline}\n#[allow(dead_code, unused_imports)]\nmod {MODULE};\n"),
            "Volo calls in process: knit's module",
        );
    }
}
