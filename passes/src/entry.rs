//! The `entry` pass: each service's `fn main` becomes an exported entry that a
//! host calls, so that one runtime can run every service of the group.
//!
//! `#[tokio::main] async fn main()` becomes `pub async fn knit_entry(knit_host:
//! &'static knit_runtime::ServiceHost)` (a `'static` reference: it can move into
//! spawned tasks any number of times) with the same body and return type; the package
//! gains a library target rooted at the same file. In the body, `.serve(addr)`
//! serves on the host's listener for the service (which the plan may turn off)
//! and stops on the host's shutdown signal, and each server the group calls in
//! process registers its handler with the host. A generated `knit_main.rs`
//! keeps the service's own binary: it runs the entry alone.

use ra_ap_syntax::ast::{self, HasArgList, HasAttrs, HasModuleItem, HasName, HasVisibility};
use ra_ap_syntax::{AstNode, SyntaxKind, SyntaxNode, TextRange, TextSize};

use crate::edit::{Level, NewFile, Output, code_range};
use crate::manifest::ManifestOp;
use crate::model::{FileId, Group, PackageId, ServiceId, Target, parent_dir, relative_path};
use crate::names::{Mention, Role, Usage};
use crate::namespace;
use crate::pass::PassId;
pub use crate::scope::{entry_ranges, in_entry, lifted_into_lib, main_fn};
use crate::scope::{entry_scope, shares_its_library};
use crate::sharing::Sharing;
use knit_codegen::mains;
use knit_codegen::names::RUNTIME_CRATE;
use knit_codegen::names::runtime::{CURRENT_HOST, SERVICE_HOST};

mod actix;
mod bin_items;
#[cfg(test)]
mod deep;
#[cfg(test)]
mod incoming;
#[cfg(test)]
mod several;
mod signals;

pub use crate::scope::runtime::RuntimeSettings;
use crate::scope::runtime::{self, Standalone, attr_settings, main_runtime, manual_runtime};
pub use signals::{OnSignal, on_signal};

const PASS: PassId = PassId::Entry;

pub use knit_codegen::names::ENTRY;

/// How rewritten code reaches its service's host.
#[derive(Clone, Copy)]
struct HostRef {
    /// An expression of type `&ServiceHost`, for method calls.
    expr: &'static str,
    /// The same, where a `&ServiceHost` argument is passed.
    by_ref: &'static str,
}

/// In a lifted `main`: its parameter.
const MAIN_HOST: HostRef = HostRef {
    expr: "knit_host",
    by_ref: "&knit_host",
};
/// In a library: the host of the running entry.
const LIB_HOST: HostRef = HostRef {
    expr: CURRENT_HOST,
    by_ref: CURRENT_HOST,
};

/// The `tokio::main` attribute of `f`; `None` when `f` has no runtime attribute.
fn runtime_attr(f: &ast::Fn) -> Result<Option<ast::Attr>, String> {
    for attr in f.attrs() {
        let Some(path) = attr.path() else { continue };
        let text = path.syntax().text().to_string().replace(' ', "");
        if text == "tokio::main" || crate::volo::entry::is_main_attr(&text) {
            return Ok(Some(attr));
        }
        if text.ends_with("::main") {
            return Err(format!(
                "`#[{text}]` mains are not supported yet: only `#[tokio::main]` or a tokio runtime built in `main`; leave this service out of the group (its calls to the merged services stay RPC)"
            ));
        }
    }
    Ok(None)
}

/// What `service`'s `main` asks of its tokio runtime (`#[tokio::main(..)]`'s
/// arguments, or the builder of a runtime built in `main`); `None` when it asks
/// nothing or its `main` is not one knit lifts.
pub fn runtime_settings(group: &Group, service: ServiceId) -> Option<RuntimeSettings> {
    let main = main_fn(group, service)?;
    let settings = match runtime_attr(&main).ok()? {
        Some(attr) => attr_settings(&attr),
        None => main_runtime(&main, None).ok()??.settings,
    };
    (settings != RuntimeSettings::default()).then_some(settings)
}

/// The `main` of the lifted entry's standalone binary: the service's
/// `#[tokio::main(..)]`, or a runtime with the settings it built.
fn standalone_runtime(attr: Option<&ast::Attr>, main: &ast::Fn) -> Standalone {
    match attr {
        Some(attr) => Standalone::Attr(attr.syntax().text().to_string()),
        None => main_runtime(main, None)
            .ok()
            .flatten()
            .map_or(Standalone::Attr("#[tokio::main]".into()), |m| {
                m.settings.standalone()
            }),
    }
}

/// Why a `main` is not lifted, when it has no runtime attribute and builds no runtime.
const NOT_LIFTED: &str = "`fn main` is neither `#[tokio::main] async fn main` nor builds a tokio runtime and calls `block_on` on it (in `main`, or in a function of its file that `main` calls): not supported yet; make `main` one of those, or leave this service out of the group (its calls to the merged services stay RPC)";

pub fn run(group: &Group, sharing: &Sharing) -> Output {
    let mut out = Output::default();
    for index in group.service_ids() {
        let role = group.role_of(index);
        if role != index {
            let service = &group.services[index];
            out.finding(PASS, Level::Note, Some((service.bin.root, 0.into())), format!(
                "service `{}` runs binary `{}` in another role than `{}`: the entry lifted once runs for each, with its own `args`",
                service.name, service.bin.name, group.services[role].name
            ));
            continue;
        }
        if let Some(message) = unliftable_sibling(group, index) {
            let root = group.services[index].bin.root;
            out.finding(PASS, Level::Error, Some((root, 0.into())), message);
            continue;
        }
        if let Err(message) = lift(group, sharing, index, &mut out) {
            let root = group.services[index].bin.root;
            let at = main_fn(group, index).map_or(0.into(), |f| f.syntax().text_range().start());
            out.finding(PASS, Level::Error, Some((root, at)), message);
        }
    }
    out
}

/// The earlier service of the group that runs another binary of `index`'s
/// package, if one does.
fn sibling_binary(group: &Group, index: ServiceId) -> Option<ServiceId> {
    let service = &group.services[index];
    let dir = &service.packages[0].dir;
    (0..index.0).map(ServiceId).find(|&other| {
        let other_service = &group.services[other];
        other_service.packages[0].dir == *dir && other_service.bin.root != service.bin.root
    })
}

/// Why `index` cannot be lifted beside another binary of its package that the
/// group runs: two binaries are lifted into the package's library, so a
/// package without one cannot hold both entries.
fn unliftable_sibling(group: &Group, index: ServiceId) -> Option<String> {
    let earlier = sibling_binary(group, index)?;
    if lifted_into_lib(group, index).is_some() {
        return None;
    }
    let (a, b) = (&group.services[earlier], &group.services[index]);
    Some(format!(
        "services `{}` and `{}` are two binaries (`{}`, `{}`) of {} and the package has no library: knit lifts each binary's `main` into its package's library, which holds one entry per binary; \
         give the package a library (`src/lib.rs`) with the code the binaries share, or move each binary into a package of its own",
        a.name, b.name, a.bin.name, b.bin.name, a.packages[0].dir
    ))
}

/// The path of `service`'s entry in its package's library crate: `knit_entry`,
/// or `knit_bin_<binary>::knit_entry` when several binaries of the package are
/// services of the group. A service in another role of a binary runs that
/// binary's entry.
pub fn entry_path(group: &Group, service: ServiceId) -> String {
    let service = group.role_of(service);
    if lifted_into_lib(group, service).is_some() && shares_its_library(group, service) {
        format!(
            "{}::{ENTRY}",
            bin_items::module_name(&group.services[service].bin.name)
        )
    } else {
        ENTRY.to_string()
    }
}

/// The doc comment the exported entry needs where its crate asks for docs
/// (`#![warn(missing_docs)]`, which a `-D warnings` turns into an error, or
/// `missing_docs` in the `[lints]` of its manifest or workspace) and `main`
/// has none; empty otherwise.
fn entry_doc(group: &Group, root: FileId, main: &ast::Fn) -> &'static str {
    let file = group.file(root);
    let package = &group.services[file.service].packages[file.package];
    let asks = file.text.contains("missing_docs")
        || group.file(package.manifest).text.contains("missing_docs")
        || package
            .workspace
            .as_ref()
            .is_some_and(|(text, _)| text.contains("missing_docs"));
    match asks && ast::HasDocComments::doc_comments(main).next().is_none() {
        true => "/// The service's entry: its `fn main`, lifted by knit.\n",
        false => "",
    }
}

fn lift(
    group: &Group,
    sharing: &Sharing,
    index: ServiceId,
    out: &mut Output,
) -> Result<(), String> {
    let service = &group.services[index];
    let package = &service.packages[0];
    let root = service.bin.root;
    let root_path = &group.file(root).path;
    let main = main_fn(group, index)
        .ok_or_else(|| format!("service `{}`: no `fn main` in {root_path}", service.name))?;
    let actix = actix::actix_attr(&main)?;
    if let Some(lib) = lifted_into_lib(group, index) {
        return lift_into_lib(group, sharing, index, lib, &main, actix.as_ref(), out);
    }
    let attr = match &actix {
        Some(actix) => Some(actix.attr.clone()),
        None => runtime_attr(&main)?,
    };
    let params = main
        .param_list()
        .ok_or("`fn main` without a parameter list")?;
    if params.params().next().is_some() || params.self_param().is_some() {
        return Err("`fn main` with parameters".into());
    }
    let body = main.body().ok_or("`fn main` without a body")?;

    // The signature: drop the runtime attribute, export the entry, take the host.
    match (&attr, main.async_token()) {
        (Some(attr), Some(async_kw)) => {
            let mut attr_range = attr.syntax().text_range();
            if let Some(ws) = attr
                .syntax()
                .next_sibling_or_token()
                .filter(|t| t.kind() == SyntaxKind::WHITESPACE)
            {
                attr_range = TextRange::new(attr_range.start(), ws.text_range().end());
            }
            out.edit(
                PASS,
                root,
                attr_range,
                "",
                "runtime attribute: the host owns the runtime",
            );
            let doc = entry_doc(group, root, &main);
            match main.visibility() {
                None => out.edit(
                    PASS,
                    root,
                    TextRange::empty(async_kw.text_range().start()),
                    format!("{doc}pub "),
                    "entry is exported",
                ),
                Some(visibility) if !doc.is_empty() => out.edit(
                    PASS,
                    root,
                    TextRange::empty(visibility.syntax().text_range().start()),
                    doc,
                    "entry is documented",
                ),
                Some(_) => {}
            }
            match &actix {
                Some(actix) => lift_actix(&main, &body, actix, &service.name, root, out)?,
                None => settings_note(
                    group,
                    index,
                    &attr_settings(attr),
                    root,
                    attr_range.start(),
                    out,
                ),
            }
        }
        (Some(attr), None) => {
            let text = attr.path().map(|p| p.syntax().text().to_string());
            return Err(format!(
                "`#[{}]` on a function that is not `async`",
                text.unwrap_or_default()
            ));
        }
        (None, _) => {
            let manual = main_runtime(&main, Some(MAIN_HOST.expr))?.ok_or(NOT_LIFTED)?;
            let fn_kw = main.fn_token().ok_or("`fn main` without `fn`")?;
            let doc = entry_doc(group, root, &main);
            let export = match main.visibility() {
                None => format!("{doc}pub async "),
                Some(visibility) => {
                    if !doc.is_empty() {
                        let at = TextRange::empty(visibility.syntax().text_range().start());
                        out.edit(PASS, root, at, doc, "entry is documented");
                    }
                    "async ".to_string()
                }
            };
            out.edit(
                PASS,
                root,
                TextRange::empty(fn_kw.text_range().start()),
                export,
                "entry is exported, async",
            );
            for (range, text) in &manual.edits {
                out.edit(
                    PASS,
                    root,
                    *range,
                    text.as_str(),
                    "runtime built in `main`: the host owns the runtime; `block_on(future)` becomes `future.await`",
                );
            }
            out.finding(PASS, Level::Note, Some((root, manual.block_on.start())), format!(
                "service `{}` built its own tokio runtime in `main`: merged, the host's runtime runs it; alone, a runtime with its settings",
                service.name
            ));
            settings_note(
                group,
                index,
                &manual.settings,
                root,
                manual.block_on.start(),
                out,
            );
        }
    }
    let name = main.name().unwrap();
    out.edit(
        PASS,
        root,
        name.syntax().text_range(),
        ENTRY,
        "`main` lifted to the service entry",
    );

    // The body (and a function it runs the service in): serve on the host's
    // listener, register handlers called in process.
    let pairing = pairing(group, sharing, index);
    let mut served = rewrite_serves(body.syntax(), root, MAIN_HOST, &pairing, out);
    if attr.is_none()
        && let Some(delegate) = runtime::delegate(&main).and_then(|f| f.body())
    {
        served |= rewrite_serves(delegate.syntax(), root, MAIN_HOST, &pairing, out);
    }
    // Functions of the binary `main` serves through reach the host as the
    // entry's task-local (`ServiceHost::current()`): they take no parameter.
    let deep = &sharing.deep[index];
    let mut through = Output::default();
    for (file, f) in deep.functions(group) {
        if let Some(body) = f.body() {
            served |= rewrite_serves(body.syntax(), file, LIB_HOST, &pairing, &mut through);
        }
    }
    if !served {
        out.finding(
            PASS,
            Level::Note,
            Some((root, main.syntax().text_range().start())),
            format!(
                "service `{}`: no `.serve(addr)` in `fn main`; its listener is not managed by knit",
                service.name
            ),
        );
    }
    let ranges = &deep.reached;
    let host = |m: &Mention| match in_entry(ranges, m) {
        true => LIB_HOST,
        false => MAIN_HOST,
    };
    register(group, sharing, index, &host, &mut through);
    // Futures spawned with such a function's call run in the service's scope.
    let mut spawned: Vec<(FileId, TextRange)> = Vec::new();
    for (file, future, in_main) in &deep.spawned {
        if spawned.contains(&(*file, *future)) {
            continue;
        }
        spawned.push((*file, *future));
        let host = if *in_main { MAIN_HOST } else { LIB_HOST };
        let note =
            "a task spawned with a function the service serves through runs in the service's scope";
        let open = format!("{}.scope(", host.expr);
        through.edit(PASS, *file, TextRange::empty(future.start()), open, note);
        through.edit(PASS, *file, TextRange::empty(future.end()), ")", note);
    }
    let scoped = scoped_spawns(group, &through.edits, &spawned);
    // When only those functions reach the host, `main` may not use its own.
    let param = match through.edits.iter().any(|e| e.text.contains(LIB_HOST.expr)) {
        false => format!("(knit_host: &'static {SERVICE_HOST})"),
        true => format!("(#[allow(unused_variables)] knit_host: &'static {SERVICE_HOST})"),
    };
    out.edit(
        PASS,
        root,
        params.syntax().text_range(),
        param,
        "entry takes its host",
    );
    through.edits.extend(scoped);
    dependency_manifests(group, sharing, index, &through.edits, out);
    out.extend(through);

    // The package: a library rooted at the lifted file, and the standalone binary.
    let lib_path = relative_path(&package.dir, root_path);
    let bin_file = format!(
        "{}/{}",
        parent_dir(root_path),
        knit_codegen::names::STANDALONE_MAIN
    );
    let bin_path = relative_path(&package.dir, &bin_file);
    let runtime = relative_path(&package.dir, knit_codegen::names::RUNTIME_DIR);
    let bin_name = standalone_bin_name(group, index, out);
    for op in [
        ManifestOp::NoAutobins,
        ManifestOp::SetLibPath { path: lib_path },
        ManifestOp::SetBin {
            was: service.bin.name.clone(),
            name: bin_name,
            path: bin_path,
        },
        ManifestOp::AddPathDependency {
            key: knit_codegen::names::RUNTIME_PACKAGE.into(),
            path: runtime,
        },
    ] {
        out.manifest_ops.push((package.manifest, op));
    }
    // With `autobins = false`, the package's other binaries are listed to keep building.
    for (name, path) in package
        .bins
        .iter()
        .filter(|(name, _)| *name != service.bin.name)
    {
        let op = ManifestOp::SetBin {
            was: name.clone(),
            name: name.clone(),
            path: path.clone(),
        };
        out.manifest_ops.push((package.manifest, op));
    }
    let runtime = match actix {
        // The entry starts its own `System`; the host only awaits it.
        Some(_) => Standalone::Knit,
        None => standalone_runtime(attr.as_ref(), &main),
    };
    let text = mains::standalone(&mains::Standalone {
        // A binary in several roles runs as whichever its arguments pick.
        service: match group.has_roles(index) {
            true => &service.bin.name,
            false => &service.name,
        },
        lib: &knit_codegen::names::crate_name(&namespace::merged_name(group, &package.dir)),
        runtime: &runtime,
        lifted_from: root_path,
    })?;
    out.new_files.push(NewFile {
        path: bin_file,
        text,
        pass: PASS,
    });
    out.finding(
        PASS,
        Level::Note,
        Some((root, main.syntax().text_range().start())),
        format!(
            "service `{}`: `fn main` lifted to `pub async fn {ENTRY}`; binary `{}` runs it alone",
            service.name, service.bin.name
        ),
    );
    Ok(())
}

/// The edits that make an actix `main` an entry (beyond its signature's name
/// and parameters): its body runs in actix's `System` on a thread of its own,
/// and each `HttpServer` it runs stops on the host's shutdown.
fn lift_actix(
    main: &ast::Fn,
    body: &ast::BlockExpr,
    actix: &actix::ActixMain,
    service: &str,
    root: FileId,
    out: &mut Output,
) -> Result<(), String> {
    let list = body.stmt_list().ok_or("`fn main` without a body")?;
    let (l_curly, r_curly) = list
        .l_curly_token()
        .zip(list.r_curly_token())
        .ok_or("`fn main` without braces")?;
    let ret = main.ret_type();
    match &ret {
        Some(ret) => out.edit(
            PASS,
            root,
            ret.syntax().text_range(),
            format!("-> {}", actix::ret()),
            "the outcome crosses from actix's thread",
        ),
        None => out.edit(
            PASS,
            root,
            TextRange::empty(l_curly.text_range().start()),
            format!("-> {} ", actix::ret()),
            "the outcome crosses from actix's thread",
        ),
    }
    let (open, close) = actix::wrap_body(&actix.system, ret.as_ref());
    let why = "actix's `System` runs on a thread of its own: the host's runtime cannot run it";
    out.edit(
        PASS,
        root,
        TextRange::empty(l_curly.text_range().end()),
        open,
        why,
    );
    out.edit(
        PASS,
        root,
        TextRange::empty(r_curly.text_range().start()),
        close,
        why,
    );
    let runs = actix::http_server_runs(body.syntax());
    for (receiver, call) in &runs {
        let why = "merged, the host owns the signals; the server stops on the host's shutdown";
        out.edit(
            PASS,
            root,
            TextRange::empty(receiver.start()),
            actix::RUN_OPEN,
            why,
        );
        out.edit(
            PASS,
            root,
            TextRange::new(receiver.end(), call.end()),
            actix::run_close(),
            why,
        );
    }
    let at = Some((root, main.syntax().text_range().start()));
    out.finding(PASS, Level::Note, at, format!(
        "service `{service}`: `{}` `main` runs in actix's `System` on a thread of its own; the host awaits it",
        actix.attr.syntax().text()
    ));
    if runs.is_empty() {
        out.finding(PASS, Level::Note, at, format!(
            "service `{service}`: no `HttpServer::new(..)..run()` chain in `fn main`: actix keeps its own signal handling and does not stop on the host's shutdown"
        ));
    }
    Ok(())
}

/// The `serve` calls of one service's entry, as [`rewrite_serve`] pairs
/// each with the in-memory calls its listener takes.
struct Pairing<'a> {
    group: &'a Group,
    /// The service, an index of `group`.
    index: ServiceId,
    /// The stacked gRPC services (`p.X`) whose in-memory calls the listener
    /// of each `serve` call of an entry that serves several routers takes, by
    /// the file and the start of the call's name (`serve`). Empty when the
    /// entry's one listener takes them all ([`crate::served::stacked_serves`]).
    stacked: std::collections::HashMap<(FileId, TextSize), Vec<String>>,
}

/// The [`Pairing`] of `index`'s entry: where each server it registers with
/// `provide_stacked` (see [`register`]) is served.
fn pairing<'a>(group: &'a Group, sharing: &Sharing, index: ServiceId) -> Pairing<'a> {
    let mut pairing = Pairing {
        group,
        index,
        stacked: Default::default(),
    };
    let entry = &sharing.entries[index];
    for m in &sharing.index.mentions {
        let Usage::Call { call, .. } = &m.usage else {
            continue;
        };
        if m.service != index
            || m.named.role != Role::Server
            || !in_entry(entry, m)
            || sharing.bridged_provider(&m.named) != Some(index)
            || !sharing.is_stacked(&m.named)
        {
            continue;
        }
        let full = format!("{}.{}", m.named.package, m.named.service);
        let full = full.trim_start_matches('.');
        for at in crate::served::stacked_serves(group, index, m.file, *call, entry) {
            let services = pairing.stacked.entry((m.file, at)).or_default();
            if !services.iter().any(|s| s == full) {
                services.push(full.to_string());
            }
        }
    }
    pairing
}

/// Rewrites every tonic `serve*` call under `node`, also those inside
/// `tokio::join!(..)` / `try_join!(..)` (whose tokens are parsed on their own);
/// `pairing` names the stacked services of each one's listener.
fn rewrite_serves(
    node: &SyntaxNode,
    file: FileId,
    host: HostRef,
    pairing: &Pairing<'_>,
    out: &mut Output,
) -> bool {
    let mut served = false;
    for call in node.descendants().filter_map(ast::MethodCallExpr::cast) {
        served |= rewrite_serve(&call, &|r| r, file, host, pairing, out);
    }
    for mac in node.descendants().filter_map(ast::MacroCall::cast) {
        let name = mac
            .path()
            .and_then(|p| p.segment())
            .map(|s| s.syntax().text().to_string());
        if !matches!(name.as_deref(), Some("join" | "try_join")) {
            continue;
        }
        let Some(tokens) = mac.token_tree() else {
            continue;
        };
        let text = tokens.syntax().text().to_string();
        const WRAP: &str = "fn f() ";
        let inner = &text[1..text.len() - 1];
        let parsed = ast::SourceFile::parse(
            &format!("{WRAP}{{{inner}}}"),
            ra_ap_syntax::Edition::CURRENT,
        );
        let base = tokens.syntax().text_range().start();
        let shift = |r: TextRange| r - TextSize::of(WRAP) + base;
        for call in parsed
            .tree()
            .syntax()
            .descendants()
            .filter_map(ast::MethodCallExpr::cast)
        {
            served |= rewrite_serve(&call, &shift, file, host, pairing, out);
        }
    }
    served
}

/// `node`'s text with every path that starts with the crate name `lib`
/// starting with `crate` instead (`api::serve`, not a variable `api`): code of
/// the binary, moved into the library.
/// With `bin_module`, code moved into that module of the library: paths that
/// start with `crate` (the binary) start with `crate::<bin_module>` instead.
fn in_library(node: &SyntaxNode, lib: &str, bin_module: Option<&str>) -> String {
    let base = node.text_range().start();
    let mut text = node.text().to_string();
    let mut firsts: Vec<(TextRange, String)> = node
        .descendants()
        .filter_map(ast::Path::cast)
        .filter(|p| p.qualifier().is_none())
        .filter_map(|p| {
            let segment = p.segment()?;
            // The crate's name starts a path (`api::serve`, `use api::{..}`,
            // `use api as lib`); alone it is a variable or a function.
            let first = p.syntax().parent().and_then(ast::Path::cast).is_some()
                || p.syntax()
                    .parent()
                    .and_then(ast::UseTree::cast)
                    .is_some_and(|t| {
                        t.use_tree_list().is_some()
                            || t.star_token().is_some()
                            || t.rename().is_some()
                    });
            if let Some(n) = segment.name_ref().filter(|n| first && n.text() == lib) {
                return Some((n.syntax().text_range() - base, "crate".to_string()));
            }
            let krate = segment.crate_token()?;
            // `pub(crate)` stays: the copy is visible in the library's crate.
            let visibility = p.syntax().ancestors().find_map(ast::Visibility::cast);
            let restricted_in = |v: &ast::Visibility| {
                v.syntax()
                    .children_with_tokens()
                    .any(|t| t.kind() == SyntaxKind::IN_KW)
            };
            if visibility.is_some_and(|v| !restricted_in(&v)) {
                return None;
            }
            Some((krate.text_range() - base, format!("crate::{}", bin_module?)))
        })
        .collect();
    firsts.sort_by_key(|(r, _)| std::cmp::Reverse(r.start()));
    for (r, with) in firsts {
        text.replace_range(std::ops::Range::<usize>::from(r), &with);
    }
    text
}

/// Lifts a thin `main` (one that calls into its package's library) into that
/// library: the binary stays as it is, and the library gains `knit_entry`,
/// which runs `main`'s body with the host as `ServiceHost::current()`. Servers
/// the library builds serve under that host.
#[allow(clippy::too_many_arguments)]
fn lift_into_lib(
    group: &Group,
    sharing: &Sharing,
    index: ServiceId,
    lib: &Target,
    main: &ast::Fn,
    actix: Option<&actix::ActixMain>,
    out: &mut Output,
) -> Result<(), String> {
    let service = &group.services[index];
    let package = &service.packages[0];
    let attr = match actix {
        // The entry's copy runs the body in actix's `System` (see below).
        Some(_) if main.async_token().is_some() => None,
        Some(actix) => {
            return Err(format!(
                "`{}` on a function that is not `async`",
                actix.attr.syntax().text()
            ));
        }
        None => runtime_attr(main)?,
    };
    match (attr, main.async_token()) {
        (_, Some(_)) if actix.is_some() => {}
        (Some(_), Some(_)) => {}
        (Some(_), None) => return Err("`#[tokio::main]` on a function that is not `async`".into()),
        (None, _) => {
            let body = main.body().ok_or("`fn main` without a body")?;
            let manual = match manual_runtime(&body)? {
                Some(manual) => manual,
                None => {
                    // Built in a function `main` calls: the entry's copy of
                    // `main` (async) awaits that function, made async too.
                    let manual = main_runtime(main, None)?.ok_or(NOT_LIFTED)?;
                    let fn_kw = main.fn_token().ok_or("`fn main` without `fn`")?;
                    let edits = std::iter::once((
                        TextRange::empty(fn_kw.text_range().start()),
                        "async ".to_string(),
                    ))
                    .chain(manual.edits.iter().cloned());
                    for (range, text) in edits {
                        out.entry_edits.push(crate::edit::Edit {
                            file: service.bin.root,
                            range,
                            text,
                            pass: PASS,
                            note: "runtime built in a function `main` calls: the host owns the runtime; that function is async, `block_on(future)` becomes `future.await`".into(),
                        });
                    }
                    manual
                }
            };
            out.finding(PASS, Level::Note, Some((service.bin.root, manual.block_on.start())), format!(
                "service `{}` builds its own tokio runtime in `main`: merged, the host's runtime runs the entry; the binary keeps its runtime",
                service.name
            ));
            settings_note(
                group,
                index,
                &manual.settings,
                service.bin.root,
                manual.block_on.start(),
                out,
            );
        }
    }
    let main_file = group.file(service.bin.root);
    let lib_file = group.file(lib.root);
    if let Some((file, at, message)) = bin_items::unliftable(group, service.bin.root) {
        out.finding(PASS, Level::Error, Some((file, at)), message);
        return Ok(());
    }
    for (file, range, text) in bin_items::relative_crate_paths(group, service.bin.root) {
        out.edit(
            PASS,
            file,
            range,
            text,
            "a `crate::` path of the binary's module, made relative: the library compiles the module too",
        );
    }
    // What `main` serves itself is rewritten in the entry's copy of it only.
    let mut lifted = Output::default();
    let mut served = false;
    let pairing = pairing(group, sharing, index);
    // A library that several binaries share is rewritten once, with the first.
    let lib_done = sibling_binary(group, index).is_some();
    let deep = &sharing.deep[index];
    for (file, node) in entry_scope(group, index, deep) {
        // Every method `rewrite_serves` rewrites is named `serve..`.
        let text = &group.file(file).text;
        if !(text.contains("serve") || text.contains(".run"))
            || (lib_done && file != service.bin.root)
        {
            continue;
        }
        served |= rewrite_serves(&node, file, LIB_HOST, &pairing, &mut lifted);
    }
    if !served {
        out.finding(PASS, Level::Note, Some((lib.root, 0.into())), format!(
            "service `{}`: no `.serve(addr)` in its library or its `main`; its listener is not managed by knit", service.name
        ));
    }
    register(group, sharing, index, &|_| LIB_HOST, &mut lifted);
    // An actix `main`: the entry's copy runs its body on a thread of its own,
    // in a `System`, as the binary's attribute does.
    if let Some(actix) = actix {
        let body = main.body().ok_or("`fn main` without a body")?;
        lift_actix(
            main,
            &body,
            actix,
            &service.name,
            service.bin.root,
            &mut lifted,
        )?;
    }
    // Tasks the library spawns with a call into code that serves run in the
    // service's scope.
    let edited: Vec<(FileId, TextRange)> = lifted
        .edits
        .iter()
        .filter(|e| e.text.contains(LIB_HOST.expr))
        .map(|e| (e.file, e.range))
        .collect();
    let mut spawned: Vec<(FileId, TextRange, bool)> =
        crate::scope::spawned_into(group, lib.root, &edited, Some((service.bin.root, main)))
            .into_iter()
            .map(|(file, future)| (file, future, file == service.bin.root))
            .collect();
    // And those `main` or a function of the binary spawns with a function it
    // serves through.
    for &spawn in &deep.spawned {
        if !spawned
            .iter()
            .any(|(f, r, _)| (*f, *r) == (spawn.0, spawn.1))
        {
            spawned.push(spawn);
        }
    }
    for (file, future, in_main) in &spawned {
        let note = "a task spawned with a call into code that serves runs in the service's scope";
        let host = if *in_main { MAIN_HOST } else { LIB_HOST };
        let open = format!("{}.scope(", host.expr);
        lifted.edit(PASS, *file, TextRange::empty(future.start()), open, note);
        lifted.edit(PASS, *file, TextRange::empty(future.end()), ")", note);
    }
    let spawned: Vec<(FileId, TextRange)> = spawned.iter().map(|(f, r, _)| (*f, *r)).collect();
    let scoped = scoped_spawns(group, &lifted.edits, &spawned);
    lifted.edits.extend(scoped);
    let (in_main, elsewhere) = lifted
        .edits
        .into_iter()
        .partition(|e| e.file == service.bin.root);
    lifted.edits = elsewhere;
    lifted.entry_edits = in_main;
    // Path dependencies whose functions it serves through gain what they name.
    dependency_manifests(group, sharing, index, &lifted.edits, out);
    out.extend(lifted);
    let runtime = relative_path(&package.dir, knit_codegen::names::RUNTIME_DIR);
    out.manifest_ops.push((
        package.manifest,
        ManifestOp::AddPathDependency {
            key: knit_codegen::names::RUNTIME_PACKAGE.into(),
            path: runtime,
        },
    ));
    // The binary keeps its name, which it would otherwise take from the renamed package.
    let bin = package
        .bins
        .iter()
        .find(|(name, _)| *name == service.bin.name);
    if let Some((was, path)) = bin {
        let name = standalone_bin_name(group, index, out);
        let op = ManifestOp::SetBin {
            was: was.clone(),
            name,
            path: path.clone(),
        };
        out.manifest_ops.push((package.manifest, op));
    }
    let tree = main_file.rust.as_ref().unwrap().tree();
    let with = if bin_items::own_items(&tree).is_empty() {
        String::new()
    } else {
        format!(
            " with the binary's own items and modules (in `{}`)",
            bin_items::module_name(&service.bin.name)
        )
    };
    out.finding(PASS, Level::Note, Some((lib.root, 0.into())), format!(
        "service `{}`: `fn main` in {} calls into its library; `{ENTRY}` lifted into {}{with}, the binary is unchanged",
        service.name, main_file.path, lib_file.path
    ));
    Ok(())
}

/// The name of `index`'s own binary in the merged workspace: its name, kept
/// although its package is renamed, unless another service of the group has a
/// binary of that name (two would write one file): then both are prefixed with
/// their service's name.
fn standalone_bin_name(group: &Group, index: ServiceId, out: &mut Output) -> String {
    let service = &group.services[index];
    let dir = &service.packages[0].dir;
    let collides = group.services_by_id().any(|(i, other)| {
        i != index
            && other
                .packages
                .iter()
                .filter(|p| p.dir != *dir)
                .any(|p| p.bins.iter().any(|(n, _)| *n == service.bin.name))
    });
    if !collides {
        return service.bin.name.clone();
    }
    let bin_name = format!("{}-{}", service.name, service.bin.name);
    out.finding(PASS, Level::Note, Some((service.packages[0].manifest, 0.into())), format!(
        "binary `{}` of service `{}` is `{bin_name}`: another service of the group has a binary of that name",
        service.bin.name, service.name
    ));
    bin_name
}

/// The entries lifted into libraries (see [`lift_into_lib`]), made once every
/// pass has run: each is `main`'s body with `out`'s edits of it, so that what
/// the other passes changed in `main` holds in the library's copy too.
pub fn lib_entries(group: &Group, out: &Output) -> Output {
    let mut entries = Output::default();
    // Libraries that gained `extern crate self as ..;` (once per library).
    let mut named_self: Vec<FileId> = Vec::new();
    for index in group.service_ids() {
        let Some(lib) = lifted_into_lib(group, index) else {
            continue;
        };
        if group.role_of(index) != index {
            continue;
        }
        let shared = shares_its_library(group, index);
        let service = &group.services[index];
        let main_file = group.file(service.bin.root);
        let edits: Vec<&crate::edit::Edit> = out
            .edits
            .iter()
            .chain(&out.entry_edits)
            .filter(|e| e.file == service.bin.root)
            .collect();
        let Ok(text) = crate::edit::apply(&main_file.text, &edits) else {
            continue;
        };
        let tree = ast::SourceFile::parse(&text, main_file.rust.as_ref().unwrap().edition).tree();
        let Some(main) = tree.items().find_map(|item| match item {
            ast::Item::Fn(f) if f.name().is_some_and(|n| n.text() == "main") => Some(f),
            _ => None,
        }) else {
            continue;
        };
        let Some(body) = main.body() else { continue };
        let Some(body) = awaited(&main, body) else {
            continue;
        };
        let own = bin_items::own_items(&tree);
        // A binary built only with some features (`required-features`) may
        // use library items under them: its copy is compiled with them only,
        // so the library still builds without them for its other targets.
        let gate = features_gate(&service.bin_features);
        let lib_tree = group.file(lib.root).rust.as_ref().map(|r| r.tree());
        let clashes =
            lib_tree.is_some_and(|lib_tree| bin_items::needs_own_module(&tree, &main, &lib_tree));
        let module = (shared || gate.is_some() || clashes || !own.is_empty())
            .then(|| bin_items::module_name(&service.bin.name));
        let bin_module = module.as_deref();
        let indent = if module.is_some() { "" } else { "    " };
        let uses: String = tree
            .items()
            .filter(|item| matches!(item, ast::Item::Use(_)))
            .map(|item| {
                let node = item.syntax();
                let comments = usize::from(code_range(node).start() - node.text_range().start());
                format!(
                    "{indent}{}\n",
                    &in_library(node, &lib.name, bin_module)[comments..]
                )
            })
            .collect();
        let ret = main
            .ret_type()
            .map(|r| format!(" {}", in_library(r.syntax(), &lib.name, bin_module)))
            .unwrap_or_default();
        let body = in_library(body.syntax(), &lib.name, bin_module);
        let doc = format!(
            "/// The entry of service `{name}`, lifted by knit from `fn main` in {path}: the\n\
             /// merged binary's host runs it; the service's own binary runs `main` as before.\n\
             pub async fn {ENTRY}(knit_host: &'static {SERVICE_HOST}){ret} {{\n",
            name = service.name,
            path = main_file.path,
        );
        let entry = match &module {
            None => format!("\n{doc}{uses}    knit_host.scope(async move {body}).await\n}}\n"),
            Some(module) => {
                let items: String = own
                    .iter()
                    .map(|item| in_library(item.syntax(), &lib.name, bin_module))
                    .map(|text| format!("{}\n\n", text.trim_start_matches('\n')))
                    .collect();
                let self_crate = if bin_items::modules_name_the_library(
                    group,
                    service.bin.root,
                    &lib.name,
                ) && !group.file(lib.root).text.contains("extern crate self")
                    && !named_self.contains(&lib.root)
                {
                    named_self.push(lib.root);
                    format!(
                        "\n/// The binary's modules, compiled here too, name this library `{lib}`.\nextern crate self as {lib};\n",
                        lib = lib.name
                    )
                } else {
                    String::new()
                };
                let gate = gate.as_deref().unwrap_or_default();
                format!(
                    "\n/// The items and modules of binary `{bin}` ({path}), copied by knit with its `fn main`.\n\
                     {gate}#[doc(hidden)]\n\
                     #[allow(dead_code, unused_imports, unused_macros)]\n\
                     #[path = \"{dir}\"]\n\
                     pub mod {module} {{\n\
                     {uses}\n{items}{doc}    knit_host.scope(async move {body}).await\n}}\n}}\n\
                     {reexport}{self_crate}",
                    reexport = if shared {
                        String::new()
                    } else {
                        format!("{gate}pub use {module}::{ENTRY};\n")
                    },
                    bin = service.bin.name,
                    path = main_file.path,
                    dir = bin_items::module_path(group, service.bin.root, lib),
                )
            }
        };
        let end = TextRange::empty(TextSize::of(group.file(lib.root).text.as_str()));
        entries.edit(
            PASS,
            lib.root,
            end,
            entry,
            "the service entry, lifted from `main`",
        );
    }
    entries
}

/// The `#[cfg(..)]` line (with its newline) that compiles code only with all
/// of `features` on; `None` for none.
fn features_gate(features: &[String]) -> Option<String> {
    let each: Vec<String> = features
        .iter()
        .map(|f| format!("feature = {f:?}"))
        .collect();
    match each.as_slice() {
        [] => None,
        [one] => Some(format!("#[cfg({one})]\n")),
        all => Some(format!("#[cfg(all({}))]\n", all.join(", "))),
    }
}

/// Tasks the lifted code spawns that use the host it runs under (a server
/// served, or a handler registered, in `tokio::spawn(async { .. })`): their
/// future runs in that host's scope (`ServiceHost::current().scope(..)`,
/// taken where the task is spawned), as a spawned task does not inherit it;
/// but those `already` runs so.
fn scoped_spawns(
    group: &Group,
    edits: &[crate::edit::Edit],
    already: &[(FileId, TextRange)],
) -> Vec<crate::edit::Edit> {
    let mut wrapped: Vec<(FileId, TextRange)> = Vec::new();
    for edit in edits.iter().filter(|e| e.text.contains(LIB_HOST.expr)) {
        let Some(rust) = group.file(edit.file).rust.as_ref() else {
            continue;
        };
        let tree = rust.tree();
        let node = match tree.syntax().covering_element(edit.range) {
            ra_ap_syntax::NodeOrToken::Node(node) => node,
            ra_ap_syntax::NodeOrToken::Token(token) => match token.parent() {
                Some(node) => node,
                None => continue,
            },
        };
        // The outermost spawn around the edit: its task is the one spawned
        // from the entry's scope.
        let spawned = node
            .ancestors()
            .filter_map(ast::ArgList::cast)
            .filter(|args| {
                let callee = args
                    .syntax()
                    .parent()
                    .and_then(|call| match ast::Expr::cast(call)? {
                        ast::Expr::CallExpr(c) => {
                            let ast::Expr::PathExpr(p) = c.expr()? else {
                                return None;
                            };
                            Some(p.path()?.segment()?.name_ref()?.text().to_string())
                        }
                        ast::Expr::MethodCallExpr(m) => Some(m.name_ref()?.text().to_string()),
                        _ => None,
                    });
                matches!(callee.as_deref(), Some("spawn" | "spawn_local"))
            })
            .filter_map(|args| args.args().next())
            .last();
        if let Some(task) = spawned {
            let range = task.syntax().text_range();
            if !wrapped.contains(&(edit.file, range)) && !already.contains(&(edit.file, range)) {
                wrapped.push((edit.file, range));
            }
        }
    }
    wrapped
        .into_iter()
        .flat_map(|(file, range)| {
            let note = "a task spawned with the host's serve or registrations in it runs in the service's scope";
            [
                crate::edit::Edit {
                    file,
                    range: TextRange::empty(range.start()),
                    text: format!("{}.scope(", LIB_HOST.expr),
                    pass: PASS,
                    note: note.into(),
                },
                crate::edit::Edit {
                    file,
                    range: TextRange::empty(range.end()),
                    text: ")".into(),
                    pass: PASS,
                    note: note.into(),
                },
            ]
        })
        .collect()
}

/// `body` of `main` as an async entry's: with the runtime it builds removed and
/// its `block_on(f)` calls as `f.await` when `main` is not `async`.
fn awaited(main: &ast::Fn, body: ast::BlockExpr) -> Option<ast::BlockExpr> {
    if main.async_token().is_some() {
        return Some(body);
    }
    let mut edits = manual_runtime(&body).ok()??.edits;
    let base = body.syntax().text_range().start();
    let mut text = body.syntax().text().to_string();
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start()));
    for (range, replacement) in edits {
        text.replace_range(std::ops::Range::<usize>::from(range - base), &replacement);
    }
    let file = ast::SourceFile::parse(&format!("fn f() {text}"), ra_ap_syntax::Edition::CURRENT);
    file.tree()
        .syntax()
        .descendants()
        .find_map(ast::Fn::cast)?
        .body()
}

/// Registers, for in-process calls, the handlers of `service`'s servers that
/// the group calls, each through the host `host` gives where it is built.
fn register(
    group: &Group,
    sharing: &Sharing,
    index: ServiceId,
    host: &dyn Fn(&Mention) -> HostRef,
    out: &mut Output,
) {
    let service = &group.services[index];
    for m in &sharing.index.mentions {
        if m.service != index || m.named.role != Role::Server {
            continue;
        }
        let host = host(m);
        let Usage::Call {
            method,
            method_range,
            args,
            call,
        } = &m.usage
        else {
            continue;
        };
        if !in_entry(&sharing.entries[index], m)
            || crate::served::builds_no_server(group.file(m.file), *call)
        {
            continue;
        }
        let full = format!("{}.{}", m.named.package, m.named.service);
        let full = full.trim_start_matches('.');
        if sharing.bridged_provider(&m.named) == Some(index) {
            // `XServer::new(h)` -> `knit_host.provide_server("p.X", XServer::new(h))`
            // (`provide_stacked` when calls go through the whole server).
            let note = format!("register `{full}` for bridged in-process calls");
            let provide = match sharing.is_stacked(&m.named) {
                true => "provide_stacked",
                false => "provide_server",
            };
            // The pair `tonic_health::server::health_reporter()` returns.
            let paired = if crate::names::builds_a_server(method) {
                "_paired"
            } else {
                ""
            };
            let provide = format!("{provide}{paired}");
            let open = format!("{}.{provide}({full:?}, ", host.expr);
            // The server as its encoding options leave it: bridged calls are
            // encoded.
            let server = crate::served::with_options(group.file(m.file), *call);
            out.edit(PASS, m.file, TextRange::empty(server.start()), open, &note);
            out.edit(PASS, m.file, TextRange::empty(server.end()), ")", &note);
            out.finding(PASS, Level::Note, Some((m.file, m.path.start())), format!(
                "`{}` serves `{full}` in process to bridged callers of the group, through the same server as its listener",
                service.name
            ));
            continue;
        }
        if sharing.provider_of(&m.named) != Some(index) {
            continue;
        }
        let shared = sharing.package(&m.named.package).unwrap();
        let inline = shared.inline_module(&m.named.service);
        let note = format!(
            "register `{}.{}` for in-process calls",
            m.named.package, m.named.service
        );
        match (method.as_str(), args.as_slice()) {
            // `XServer::new(h)` -> `XServer::from_arc(x_inline::provide(&knit_host, h))`
            ("new", [arg]) => {
                let provide = format!("{inline}::provide({}, ", host.by_ref);
                out.edit(PASS, m.file, *method_range, "from_arc", &note);
                out.edit(PASS, m.file, TextRange::empty(arg.start()), provide, &note);
                out.edit(PASS, m.file, TextRange::empty(arg.end()), ")", &note);
            }
            // `XServer::with_interceptor(h, f)` -> `x_inline::with_interceptor(&knit_host, h, f)`
            ("with_interceptor", [arg, _]) => {
                let callee = TextRange::new(m.path.start(), method_range.end());
                out.edit(
                    PASS,
                    m.file,
                    callee,
                    format!("{inline}::with_interceptor"),
                    &note,
                );
                out.edit(
                    PASS,
                    m.file,
                    TextRange::empty(arg.start()),
                    format!("{}, ", host.by_ref),
                    &note,
                );
            }
            _ => continue,
        }
        out.finding(PASS, Level::Note, Some((m.file, m.path.start())), format!(
            "`{}` serves `{}.{}` in process to the group, through the same handler as its listener",
            service.name, m.named.package, m.named.service
        ));
    }
}

/// Adds to the manifest of each library of a path dependency that `edits`
/// (in functions `main` reaches there) make reach the host or register a
/// server in process the dependencies those edits name: the runtime, and the
/// proto crates of the inline registrations.
fn dependency_manifests(
    group: &Group,
    sharing: &Sharing,
    index: ServiceId,
    edits: &[crate::edit::Edit],
    out: &mut Output,
) {
    let service = &group.services[index];
    let mut added: Vec<(FileId, String)> = Vec::new();
    for edit in edits {
        let Some(p) = group
            .file(edit.file)
            .package_in(index)
            .filter(|p| *p != PackageId::OWN)
        else {
            continue;
        };
        let package = &service.packages[p];
        let mut wanted = Vec::new();
        if edit.text.contains(RUNTIME_CRATE) {
            let runtime = relative_path(&package.dir, knit_codegen::names::RUNTIME_DIR);
            wanted.push((knit_codegen::names::RUNTIME_PACKAGE.to_string(), runtime));
        }
        for shared in &sharing.packages {
            if edit.text.contains(&format!("{}::", shared.crate_name())) {
                wanted.push((
                    shared.package_name(),
                    relative_path(&package.dir, &shared.dir()),
                ));
            }
        }
        for (key, path) in wanted {
            if added.contains(&(package.manifest, key.clone())) {
                continue;
            }
            added.push((package.manifest, key.clone()));
            out.manifest_ops.push((
                package.manifest,
                ManifestOp::AddPathDependency { key, path },
            ));
        }
    }
}

/// Rewrites a tonic `serve*` call so that the host owns the listener (unless
/// the service brings its own incoming stream) and the shutdown signal.
///
/// `shift` maps ranges of `call`'s tree to the file (calls inside a macro's
/// tokens are parsed on their own). With a `pairing`, the listener is asked
/// for with the stacked services the call's router serves
/// (`incoming_serving(addr, &["p.X"])`, none for a router without one).
fn rewrite_serve(
    call: &ast::MethodCallExpr,
    shift: &dyn Fn(TextRange) -> TextRange,
    root: FileId,
    host: HostRef,
    pairing: &Pairing<'_>,
    out: &mut Output,
) -> bool {
    let Some(name) = call.name_ref() else {
        return false;
    };
    // A test's server (`#[cfg(test)] mod tests`) is not the service's.
    if crate::compiled::not_compiled(pairing.group, root, shift(call.syntax().text_range())) {
        return false;
    }
    let args: Vec<TextRange> = call
        .arg_list()
        .map(|l| l.args().map(|a| shift(a.syntax().text_range())).collect())
        .unwrap_or_default();
    let method = name.text().to_string();
    let (listener, signal) = match (method.as_str(), args.as_slice()) {
        ("serve", [addr]) => (Listener::Addr(*addr), None),
        ("serve_with_shutdown", [addr, signal]) => (Listener::Addr(*addr), Some(*signal)),
        ("serve_with_incoming", [theirs]) => (Listener::Theirs(*theirs), None),
        ("serve_with_incoming_shutdown", [theirs, signal]) => {
            (Listener::Theirs(*theirs), Some(*signal))
        }
        _ => return crate::volo::entry::rewrite_run(call, shift, root, host.expr, PASS, out),
    };
    if !crate::router::serves_a_tonic_router(call.receiver()) {
        return false;
    }
    // Their own listener, when it is a plain one (TCP or a Unix socket): the group's in-memory
    // connections arrive beside theirs.
    let listener = match listener {
        Listener::Theirs(theirs)
            if crate::served::serves_on_plain_incoming(
                pairing.group,
                pairing.index,
                root,
                call,
            ) =>
        {
            Listener::Beside(theirs)
        }
        other => other,
    };
    let mut edit =
        |range: TextRange, text: &str, note: &str| out.edit(PASS, root, range, text, note);
    if method != "serve_with_incoming_shutdown" {
        edit(
            shift(name.syntax().text_range()),
            "serve_with_incoming_shutdown",
            "serve under the host's control",
        );
    }
    let (incoming, why) = match listener {
        Listener::Addr(addr) => (Some((addr, "incoming")), "serve on the host's listener"),
        Listener::Beside(theirs) => (
            Some((theirs, "incoming_beside")),
            "serve the group's in-process calls beside the service's own listener",
        ),
        Listener::Theirs(_) => (None, ""),
    };
    if let Some((arg, function)) = incoming {
        let (open, close) = match pairing.stacked.is_empty() {
            true => (format!("{}.{function}(", host.expr), ")".to_string()),
            false => {
                let at = (root, shift(name.syntax().text_range()).start());
                let stacked = pairing
                    .stacked
                    .get(&at)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let stacked: Vec<String> = stacked.iter().map(|s| format!("{s:?}")).collect();
                (
                    format!("{}.{function}_serving(", host.expr),
                    format!(", &[{}])", stacked.join(", ")),
                )
            }
        };
        edit(TextRange::empty(arg.start()), &open, why);
        edit(TextRange::empty(arg.end()), &close, why);
    }
    match signal {
        Some(signal) => {
            edit(
                TextRange::empty(signal.start()),
                &format!("{}.shutdown_with(", host.expr),
                "stop on the host's shutdown too",
            );
            edit(
                TextRange::empty(signal.end()),
                ")",
                "stop on the host's shutdown too",
            );
        }
        None => {
            let last = args.last().unwrap();
            edit(
                TextRange::empty(last.end()),
                &format!(", {}.shutdown()", host.expr),
                "stop on the host's shutdown",
            );
        }
    }
    let at = Some((root, shift(call.syntax().text_range()).start()));
    match listener {
        Listener::Addr(_) => {}
        Listener::Beside(_) => out.finding(
            PASS,
            Level::Note,
            at,
            "serves on a TCP listener of its own, bound by its code with its socket options: merged, the group's in-process calls arrive beside its connections, and the plan's `listen = false` closes it unserved",
        ),
        Listener::Theirs(_) => out.finding(
            PASS,
            Level::Note,
            at,
            "serves its own incoming stream: the plan's `listen = false` cannot turn it off",
        ),
    }
    true
}

/// Where a `serve` call's connections come from.
#[derive(Clone, Copy)]
enum Listener {
    /// An address the host listens on for it (`serve(addr)`).
    Addr(TextRange),
    /// An incoming stream of the service's own knit does not follow to a
    /// plain listener: served as it is.
    Theirs(TextRange),
    /// A plain TCP listener of the service's own: the host's in-memory
    /// connections are served beside it.
    Beside(TextRange),
}

/// Notes the runtime settings of `index`'s `main`, which the merged host
/// applies as the report's notes say.
fn settings_note(
    group: &Group,
    index: ServiceId,
    settings: &RuntimeSettings,
    file: FileId,
    at: TextSize,
    out: &mut Output,
) {
    if *settings == RuntimeSettings::default() {
        return;
    }
    out.finding(PASS, Level::Note, Some((file, at)), format!(
        "service `{}` asks its runtime for {}: the merged runtime takes the group's largest `thread_stack_size`, and its largest `worker_threads` when every service sets one and the plan does not; it enables every driver",
        group.services[index].name,
        settings.describe()
    ));
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::fixture::{GREETER, check};
    use crate::pass::PassId;

    fn service(main_rs: &str) -> String {
        format!(
            "//- /svc/Cargo.toml\n[package]\nname = \"svc\"\nedition = \"2021\"\n//- /svc/src/main.rs\n{main_rs}"
        )
    }

    #[test]
    fn lifts_tokio_main_and_keeps_the_binary() {
        let out = check(
            PassId::Entry,
            &service(
                r#"/// Runs the service.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    // The address comes from the environment.
    let addr = addr()?;
    Server::builder()
        .add_service(SvcServer::new(Svc))
        .serve(/* the address */ addr)
        .await?;
    Ok(())
}
"#,
            ),
        );
        expect![[r#"
            //- /svc/Cargo.toml
            [package]
            name = "svc"
            edition = "2021"
            autobins = false

            [lib]
            path = "src/main.rs"

            [[bin]]
            name = "svc"
            path = "src/knit_main.rs"

            [dependencies]
            knit-runtime = { path = "../knit/runtime" }
            //- /svc/src/main.rs
            /// Runs the service.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> anyhow::Result<()> {
                // The address comes from the environment.
                let addr = addr()?;
                Server::builder()
                    .add_service(SvcServer::new(Svc))
                    .serve_with_incoming_shutdown(/* the address */ knit_host.incoming(addr), knit_host.shutdown())
                    .await?;
                Ok(())
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            #[tokio::main(flavor = "current_thread")]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
        "#]].assert_eq(&out.render("svc/"));
    }

    /// A crate that asks for docs on public items (`#![warn(missing_docs)]`,
    /// an error under `-D warnings`) gets one on the entry knit exports.
    #[test]
    fn the_entry_is_documented_where_its_crate_asks_for_docs() {
        let out = check(
            PassId::Entry,
            &service(
                "//! The svc service.\n#![warn(missing_docs)]\n#[tokio::main]\nasync fn main() {\n    Server::builder().add_service(SvcServer::new(Svc)).serve(addr).await.unwrap();\n}\n",
            ),
        );
        expect![[r#"
            //- /svc/src/main.rs
            //! The svc service.
            #![warn(missing_docs)]
            /// The service's entry: its `fn main`, lifted by knit.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                Server::builder().add_service(SvcServer::new(Svc)).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await.unwrap();
            }
        "#]]
        .assert_eq(&out.render("svc/src/main.rs"));
        let out = check(
            PassId::Entry,
            &service(
                "#![deny(missing_docs)]\nfn main() {\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    rt.block_on(serve());\n}\n",
            ),
        );
        expect![[r#"
            //- /svc/src/main.rs
            #![deny(missing_docs)]
            /// The service's entry: its `fn main`, lifted by knit.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                serve().await;
            }
        "#]]
        .assert_eq(&out.render("svc/src/main.rs"));
        // The manifest's lints ask too.
        let out = check(
            PassId::Entry,
            "//- /svc/Cargo.toml\n[package]\nname = \"svc\"\nedition = \"2021\"\n[lints.rust]\nmissing_docs = \"deny\"\n//- /svc/src/main.rs\n#[tokio::main]\nasync fn main() {}\n",
        );
        expect![[r#"
            //- /svc/src/main.rs
            /// The service's entry: its `fn main`, lifted by knit.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {}
        "#]]
        .assert_eq(&out.render("svc/src/main.rs"));
    }

    #[test]
    fn registers_handlers_the_group_calls() {
        let out = check(
            PassId::Entry,
            &crate::fixture::with_frontend(
                "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
            ),
        );
        expect![[r#"
            //- /greeter/src/main.rs
            use hello_world::greeter_server::{Greeter, GreeterServer};
            use tonic::transport::Server;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                Server::builder().add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(&knit_host, MyGreeter))).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;
                Ok(())
            }
        "#]].assert_eq(&out.render("greeter/src/main.rs"));
        let _ = GREETER;
    }

    #[test]
    fn refuses_what_it_cannot_lift() {
        let no_main = check(PassId::Entry, &service("fn run() {}\n"));
        let actix = check(
            PassId::Entry,
            &service("#[actix_web::main(workers = 2)]\nasync fn main() {}\n"),
        );
        let sync = check(PassId::Entry, &service("fn main() {}\n"));
        let with_lib = check(
            PassId::Entry,
            &format!(
                "{}//- /svc/src/lib.rs\npub fn x() {{}}\n",
                service("#[tokio::main]\nasync fn main() {}\n")
            ),
        );
        let all = [no_main, actix, sync, with_lib]
            .map(|c| c.findings.join("\n"))
            .join("\n");
        expect![[r#"
            Error svc/src/main.rs:1: service `svc`: no `fn main` in svc/src/main.rs
            Error svc/src/main.rs:1: `#[actix_web::main(workers = 2)]`: only `system = ".."` is understood; not supported yet
            Error svc/src/main.rs:1: `fn main` is neither `#[tokio::main] async fn main` nor builds a tokio runtime and calls `block_on` on it (in `main`, or in a function of its file that `main` calls): not supported yet; make `main` one of those, or leave this service out of the group (its calls to the merged services stay RPC)
        "#]].assert_eq(&all);
    }

    #[test]
    fn lifts_an_actix_main_onto_a_thread_of_its_own() {
        let out = check(
            PassId::Entry,
            &service(
                r#"#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let client = CatalogClient::connect(url()).await.map_err(std::io::Error::other)?;
    actix_web::rt::spawn(Server::builder().add_service(ApiServer::new(Api)).serve(grpc));
    HttpServer::new(move || App::new().app_data(web::Data::new(client.clone())).route("/", web::get().to(index)))
        .bind(addr)?
        .run()
        .await
}
"#,
            ),
        );
        let rt = check(
            PassId::Entry,
            &service("#[actix_rt::main]\nasync fn main() {\n    run().await;\n}\n"),
        );
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), knit_runtime::Failed> {
                knit_runtime::on_own_thread(knit_host, move || -> std::io::Result<()> { actix_web::rt::System::new().block_on(knit_host.scope(async move {
                let client = CatalogClient::connect(url()).await.map_err(std::io::Error::other)?;
                actix_web::rt::spawn(Server::builder().add_service(ApiServer::new(Api)).serve_with_incoming_shutdown(knit_host.incoming(grpc), knit_host.shutdown()));
                { let knit_server = HttpServer::new(move || App::new().app_data(web::Data::new(client.clone())).route("/", web::get().to(index)))
                    .bind(addr)?; let knit_server = (if knit_runtime::in_merged_host() { knit_server.disable_signals() } else { knit_server }).run(); let knit_stop = knit_server.handle(); actix_web::rt::spawn(async move { knit_host.shutdown().await; knit_stop.stop(true).await; }); knit_server }
                    .await
            })) }).await
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(knit_runtime::block_on(svc_svc::knit_entry(host)))
            }
        "#]].assert_eq(&out.render("svc/src/"));
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), knit_runtime::Failed> {
                knit_runtime::on_own_thread(knit_host, move || -> () { actix_rt::System::new().block_on(knit_host.scope(async move {
                run().await;
            })) }).await
            }

        "#]].assert_eq(&format!("{}\n{}", rt.render("svc/src/main.rs"), out.findings.join("\n")));
    }

    #[test]
    fn every_serve_shape_gets_the_hosts_shutdown() {
        let out = check(
            PassId::Entry,
            &service(
                r#"#[tokio::main]
async fn main() {
    a.serve_with_shutdown(addr, async { ctrl_c().await.ok(); }).await;
    b.serve_with_incoming(listener).await;
    c.serve_with_incoming_shutdown(listener, signal).await;
}
"#,
            ),
        );
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                a.serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown_with(async { ctrl_c().await.ok(); })).await;
                b.serve_with_incoming_shutdown(listener, knit_host.shutdown()).await;
                c.serve_with_incoming_shutdown(listener, knit_host.shutdown_with(signal)).await;
            }
        "#]].assert_eq(&out.render("svc/src/main.rs"));
    }

    #[test]
    fn another_servers_serve_is_left_alone() {
        // hyper 0.14's server beside tonic's (tari's merge-mining proxy).
        let out = check(
            PassId::Entry,
            &service(
                r#"#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    hyper::Server::bind(&http_addr).serve(make_svc).await?;
    match Server::try_bind(&listen_addr) {
        Ok(builder) => builder.serve(service).await?,
        Err(e) => return Err(e.into()),
    }
    let router = Server::builder().add_service(svc);
    let grpc = if tls { router.clone() } else { router };
    grpc.serve(grpc_addr).await?;
    Ok(())
}
"#,
            ),
        );
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                hyper::Server::bind(&http_addr).serve(make_svc).await?;
                match Server::try_bind(&listen_addr) {
                    Ok(builder) => builder.serve(service).await?,
                    Err(e) => return Err(e.into()),
                }
                let router = Server::builder().add_service(svc);
                let grpc = if tls { router.clone() } else { router };
                grpc.serve_with_incoming_shutdown(knit_host.incoming(grpc_addr), knit_host.shutdown()).await?;
                Ok(())
            }
        "#]].assert_eq(&out.render("svc/src/main.rs"));
    }

    #[test]
    fn servers_side_by_side_in_join() {
        let out = check(
            PassId::Entry,
            &service(
                r#"#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let grpc = Server::builder().add_service(svc).serve(grpc_addr);
    tokio::try_join!(grpc, axum::serve(listener, app))?;
    tokio::join!(Server::builder().add_service(other).serve(addr), http);
    tokio::spawn(async move { Server::builder().serve(addr2).await });
    Ok(())
}
"#,
            ),
        );
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let grpc = Server::builder().add_service(svc).serve_with_incoming_shutdown(knit_host.incoming(grpc_addr), knit_host.shutdown());
                tokio::try_join!(grpc, axum::serve(listener, app))?;
                tokio::join!(Server::builder().add_service(other).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()), http);
                tokio::spawn(async move { Server::builder().serve_with_incoming_shutdown(knit_host.incoming(addr2), knit_host.shutdown()).await });
                Ok(())
            }
        "#]].assert_eq(&out.render("svc/src/main.rs"));
    }

    #[test]
    fn lifts_a_runtime_built_by_hand() {
        let out = check(
            PassId::Entry,
            &service(
                r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two workers are enough.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        Server::builder().add_service(svc).serve(addr).await?;
        Ok(())
    })
}
"#,
            ),
        );
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                // Two workers are enough.
                async {
                    Server::builder().add_service(svc).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;
                    Ok(())
                }.await
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
        "#]].assert_eq(&out.render("svc/src/"));
        let inline = check(
            PassId::Entry,
            &service(
                "fn main() {
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}
",
            ),
        );
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                run().await;
            }
        "#]]
        .assert_eq(&inline.render("svc/src/main.rs"));
    }

    #[test]
    fn lifts_a_runtime_built_in_a_function_main_calls() {
        // `main` reports errors; `main_inner` builds the runtime with a helper
        // of the repository's own and runs the service on it.
        let main = r#"fn main() {
    if let Err(err) = main_inner() {
        eprintln!("{err:?}");
        std::process::exit(1);
    }
}

fn main_inner() -> Result<(), Box<dyn std::error::Error>> {
    let config = load()?;
    let runtime = setup_runtime()?;
    runtime.block_on(async {
        Server::builder().add_service(greeter()).serve(config.addr).await
    })?;
    Ok(())
}
"#;
        let out = check(PassId::Entry, &service(main));
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                if let Err(err) = main_inner(knit_host).await {
                    eprintln!("{err:?}");
                    std::process::exit(1);
                }
            }

            async fn main_inner(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let config = load()?;
                async {
                    Server::builder().add_service(greeter()).serve_with_incoming_shutdown(knit_host.incoming(config.addr), knit_host.shutdown()).await
                }.await?;
                Ok(())
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            #[tokio::main]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
        "#]].assert_eq(&out.render("svc/src/"));
        // Beside a library: the binary keeps its `main`; the library's copy
        // of it and of `main_inner` is async.
        let beside = format!(
            "//- /svc/Cargo.toml\n[package]\nname = \"svc\"\nedition = \"2021\"\n//- /svc/src/lib.rs\npub async fn serve(c: Config) -> Result<(), Error> {{ Ok(()) }}\n//- /svc/src/main.rs\nuse svc::serve;\n{main}"
        );
        let out = check(PassId::Entry, &beside);
        expect![[r#"
            //- /svc/src/lib.rs
            pub async fn serve(c: Config) -> Result<(), Error> { Ok(()) }

            /// The items and modules of binary `svc` (svc/src/main.rs), copied by knit with its `fn main`.
            #[doc(hidden)]
            #[allow(dead_code, unused_imports, unused_macros)]
            #[path = "."]
            pub mod knit_bin_svc {
            use crate::serve;

            async fn main_inner() -> Result<(), Box<dyn std::error::Error>> {
                let config = load()?;
                async {
                    Server::builder().add_service(greeter()).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(config.addr), knit_runtime::ServiceHost::current().shutdown()).await
                }.await?;
                Ok(())
            }

            /// The entry of service `svc`, lifted by knit from `fn main` in svc/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                knit_host.scope(async move {
                if let Err(err) = main_inner().await {
                    eprintln!("{err:?}");
                    std::process::exit(1);
                }
            }).await
            }
            }
            pub use knit_bin_svc::knit_entry;
        "#]].assert_eq(&out.render("svc/src/lib.rs"));
        // Called from elsewhere too: refused, with the way out.
        let twice = format!("{main}fn again() {{ main_inner().unwrap() }}\n");
        let out = check(PassId::Entry, &service(&twice));
        expect!["Error svc/src/main.rs:1: `fn main` runs its service through `main_inner`, which builds a tokio runtime, and `main_inner` is named outside `main` too: knit makes it async, which those uses would not expect; call it from `main` only"].assert_eq(&out.findings.join("\n"));
    }

    #[test]
    fn lifts_runtime_chains() {
        let shapes = [
            "fn main() -> Result<(), Box<dyn std::error::Error>> {\n    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())\n}\n",
            "fn main() {\n    tokio::runtime::Builder::new_current_thread()\n        .enable_io()\n        .enable_time()\n        .build()\n        .unwrap()\n        .block_on(async {\n            serve().await.unwrap();\n        });\n}\n",
            "use tokio::runtime::Runtime;\nfn main() -> std::io::Result<()> {\n    let rt = Runtime::new()?;\n    rt.block_on(serve())\n}\n",
            "fn main() {\n    let mut builder = tokio::runtime::Builder::new_multi_thread();\n    builder.worker_threads(4).thread_stack_size(32 * 1024 * 1024);\n    let runtime = builder.enable_all().build().expect(\"runtime\");\n    runtime.block_on(serve()).unwrap();\n}\n",
            "fn main() {\n    let rt = tokio::runtime::Runtime::new().unwrap();\n    rt.spawn(metrics());\n    rt.block_on(serve());\n}\n",
        ];
        let shown: Vec<String> = shapes
            .iter()
            .map(|main| {
                let out = check(PassId::Entry, &service(main));
                let mut shown = out.render("svc/src/");
                shown.retain(|c| c != '\r');
                shown
            })
            .collect();
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                run().await
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            #[tokio::main]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
            ----
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                async {
                        serve().await.unwrap();
                    }.await;
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            #[tokio::main(flavor = "current_thread")]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
            ----
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> std::io::Result<()> {
                serve().await
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            #[tokio::main]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
            ----
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                serve().await.unwrap();
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            fn main() -> std::process::ExitCode {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .thread_stack_size(33554432)
                    .enable_all()
                    .build()
                    .expect("the service's tokio runtime");
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(runtime.block_on(svc_svc::knit_entry(host)))
            }
            ----
            Error svc/src/main.rs:1: the runtime `rt` is used for more than `rt.block_on(..)`: a tokio runtime built in `main` is lifted when `block_on` is all it does
        "#]].assert_eq(&shown.join("----\n"));
    }

    #[test]
    fn a_server_served_in_a_spawned_task_runs_in_the_services_scope() {
        // The library serves in a task of its own: the task takes the host's
        // scope where it is spawned.
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
#[tokio::main]
async fn main() {
    api::start("127.0.0.1:50051".parse().unwrap()).await.unwrap();
}
//- /api/src/lib.rs
pub async fn start(addr: std::net::SocketAddr) -> Result<(), tokio::task::JoinError> {
    let server = tokio::spawn(async move {
        Server::builder().add_service(ApiServer::new(Api)).serve(addr).await
    });
    server.await.map(|_| ())
}
"#,
        );
        expect![[r#"
            //- /api/src/lib.rs
            pub async fn start(addr: std::net::SocketAddr) -> Result<(), tokio::task::JoinError> {
                let server = tokio::spawn(knit_runtime::ServiceHost::current().scope(async move {
                    Server::builder().add_service(ApiServer::new(Api)).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await
                }));
                server.await.map(|_| ())
            }

            /// The entry of service `api`, lifted by knit from `fn main` in api/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                knit_host.scope(async move {
                crate::start("127.0.0.1:50051".parse().unwrap()).await.unwrap();
            }).await
            }
        "#]].assert_eq(&out.render("api/src/lib.rs"));
    }

    #[test]
    fn lifts_a_runtime_chain_beside_its_library() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
use api::serve;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = "127.0.0.1:50051".parse()?;
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(32 * 1024 * 1024)
        .enable_all()
        .build()?
        .block_on(serve(addr))
}
//- /api/src/lib.rs
pub async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    Server::builder().add_service(ApiServer::new(Api)).serve(addr).await?;
    Ok(())
}
"#,
        );
        expect![[r#"
            //- /api/Cargo.toml
            [package]
            name = "api"
            edition = "2021"

            [dependencies]
            knit-runtime = { path = "../knit/runtime" }

            [[bin]]
            name = "api"
            path = "src/main.rs"
            //- /api/src/lib.rs
            pub async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
                Server::builder().add_service(ApiServer::new(Api)).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await?;
                Ok(())
            }

            /// The entry of service `api`, lifted by knit from `fn main` in api/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                use crate::serve;
                knit_host.scope(async move {
                let addr = "127.0.0.1:50051".parse()?;
                serve(addr).await
            }).await
            }
        "#]].assert_eq(&out.render("api/"));
    }

    /// A `main` beside its library that serves itself: the lifted entry, not
    /// the binary, registers the handler and hands its listener to the host.
    #[test]
    fn lifts_a_main_that_serves_beside_its_library() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
use api::Api;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = "127.0.0.1:50051".parse()?;
    Server::builder().add_service(ApiServer::new(Api)).serve(addr).await?;
    Ok(())
}
//- /api/src/lib.rs
pub struct Api;
"#,
        );
        expect![[r#"
            //- /api/Cargo.toml
            [package]
            name = "api"
            edition = "2021"

            [dependencies]
            knit-runtime = { path = "../knit/runtime" }

            [[bin]]
            name = "api"
            path = "src/main.rs"
            //- /api/src/lib.rs
            pub struct Api;

            /// The entry of service `api`, lifted by knit from `fn main` in api/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                use crate::Api;
                knit_host.scope(async move {
                let addr = "127.0.0.1:50051".parse()?;
                Server::builder().add_service(ApiServer::new(Api)).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await?;
                Ok(())
            }).await
            }
        "#]].assert_eq(&out.render("api/"));
    }

    /// A `main` whose return type its `use`s import, and whose code names a
    /// dependency (`config`, renamed) that the library's root shadows with a
    /// module of that name: its copy goes into a module of its own, where
    /// both mean what they mean in the binary.
    #[test]
    fn lifts_into_a_module_where_the_librarys_names_would_differ() {
        let out = check(
            PassId::Entry,
            r#"
//- /relayer/Cargo.toml
[package]
name = "relayer"
edition = "2021"
[dependencies]
config = { package = "astria-config", version = "1" }
//- /relayer/src/main.rs
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cfg = config::get().unwrap();
    relayer::run(cfg).await;
    ExitCode::SUCCESS
}
//- /relayer/src/lib.rs
pub mod config;
pub async fn run(cfg: config::Config) {
    Server::builder().add_service(ApiServer::new(Api)).serve(cfg.addr).await.unwrap();
}
//- /relayer/src/config.rs
pub struct Config { pub addr: std::net::SocketAddr }
"#,
        );
        expect![[r#"
            //- /relayer/src/lib.rs
            pub mod config;
            pub async fn run(cfg: config::Config) {
                Server::builder().add_service(ApiServer::new(Api)).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(cfg.addr), knit_runtime::ServiceHost::current().shutdown()).await.unwrap();
            }

            /// The items and modules of binary `relayer` (relayer/src/main.rs), copied by knit with its `fn main`.
            #[doc(hidden)]
            #[allow(dead_code, unused_imports, unused_macros)]
            #[path = "."]
            pub mod knit_bin_relayer {
            use std::process::ExitCode;

            /// The entry of service `relayer`, lifted by knit from `fn main` in relayer/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> ExitCode {
                knit_host.scope(async move {
                let cfg = config::get().unwrap();
                crate::run(cfg).await;
                ExitCode::SUCCESS
            }).await
            }
            }
            pub use knit_bin_relayer::knit_entry;
        "#]].assert_eq(&out.render("relayer/src/lib.rs"));
    }

    /// A binary built only with a feature (`required-features`) that uses a
    /// library item under it: the entry lifted into the library is compiled
    /// with that feature only, so the library builds without it as before.
    #[test]
    fn lifts_a_feature_gated_binary_under_its_features() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"

[features]
build-binary = []

[[bin]]
name = "api"
path = "src/main.rs"
required-features = ["build-binary"]
//- /api/src/main.rs
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Server::builder().add_service(ApiServer::new(api::Api)).serve(api::addr()).await?;
    Ok(())
}
//- /api/src/lib.rs
pub struct Api;
#[cfg(feature = "build-binary")]
pub fn addr() -> std::net::SocketAddr { "127.0.0.1:50051".parse().unwrap() }
"#,
        );
        expect![[r#"
            //- /api/src/lib.rs
            pub struct Api;
            #[cfg(feature = "build-binary")]
            pub fn addr() -> std::net::SocketAddr { "127.0.0.1:50051".parse().unwrap() }

            /// The items and modules of binary `api` (api/src/main.rs), copied by knit with its `fn main`.
            #[cfg(feature = "build-binary")]
            #[doc(hidden)]
            #[allow(dead_code, unused_imports, unused_macros)]
            #[path = "."]
            pub mod knit_bin_api {

            /// The entry of service `api`, lifted by knit from `fn main` in api/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                knit_host.scope(async move {
                Server::builder().add_service(ApiServer::new(crate::Api)).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(crate::addr()), knit_runtime::ServiceHost::current().shutdown()).await?;
                Ok(())
            }).await
            }
            }
            #[cfg(feature = "build-binary")]
            pub use knit_bin_api::knit_entry;
        "#]].assert_eq(&out.render("api/src/lib.rs"));
    }

    #[test]
    fn lifts_tokio_main_flavors() {
        let out = check(
            PassId::Entry,
            &service(
                "#[tokio::main(flavor = \"multi_thread\", worker_threads = 4)]\nasync fn main() {\n    serve().await;\n}\n",
            ),
        );
        let mut shown = out.render("svc/src/");
        shown.push_str(&out.findings.join("\n"));
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                serve().await;
            }
            //- /svc/src/knit_main.rs (new)
            //! The standalone binary of service `svc`: runs the entry knit lifted from
            //! `fn main` in svc/src/main.rs, alone, with its own listener. Generated by knit.

            #[tokio::main(flavor = "multi_thread", worker_threads = 4)]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
        "#]]
        .assert_eq(&shown);
    }

    /// A `main` beside its library whose binary has items and modules of its
    /// own: the library gains them in a hidden module with the entry.
    #[test]
    fn lifts_a_main_beside_its_library_with_binary_items() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
//! The binary.
use api::serve;

#[path = "wire/codec.rs"]
pub(crate) mod codec;

/// Command-line arguments.
struct Args { port: u16 }

impl Args {
    fn port(&self) -> u16 { crate::codec::port(self.port) }
}

#[cfg(test)]
mod tests {}

#[tokio::main]
async fn main() {
    serve(Args { port: 1 }.port()).await
}
//- /api/src/wire/codec.rs
pub fn port(p: u16) -> u16 { api::BASE + p }
#[cfg(test)]
mod tests { use crate::Args; }
//- /api/src/lib.rs
pub const BASE: u16 = 50000;
pub async fn serve(port: u16) {}
"#,
        );
        let mut shown = out.render("api/src/lib.rs");
        shown.push_str(&out.findings.join("\n"));
        expect![[r#"
            //- /api/src/lib.rs
            pub const BASE: u16 = 50000;
            pub async fn serve(port: u16) {}

            /// The items and modules of binary `api` (api/src/main.rs), copied by knit with its `fn main`.
            #[doc(hidden)]
            #[allow(dead_code, unused_imports, unused_macros)]
            #[path = "."]
            pub mod knit_bin_api {
            use crate::serve;

            #[path = "wire/codec.rs"]
            pub(crate) mod codec;

            /// Command-line arguments.
            struct Args { port: u16 }

            impl Args {
                fn port(&self) -> u16 { crate::knit_bin_api::codec::port(self.port) }
            }

            /// The entry of service `api`, lifted by knit from `fn main` in api/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                knit_host.scope(async move {
                serve(Args { port: 1 }.port()).await
            }).await
            }
            }
            pub use knit_bin_api::knit_entry;

            /// The binary's modules, compiled here too, name this library `api`.
            extern crate self as api;
        "#]].assert_eq(&shown);
    }

    #[test]
    fn makes_crate_paths_of_binary_modules_relative() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
use api::serve;

#[path = "wire/codec.rs"]
mod codec;

const BASE: u16 = 50051;

#[tokio::main]
async fn main() {
    serve(codec::PORT).await
}
//- /api/src/wire/codec.rs
use crate::BASE as START;
pub(crate) const PORT: u16 = crate::BASE + inner::OFFSET;
mod inner { pub const OFFSET: u16 = crate::BASE - super::START; }
#[cfg(test)]
mod tests { use crate::BASE; }
//- /api/src/lib.rs
pub async fn serve(port: u16) {}
"#,
        );
        expect![[r#"
            //- /api/src/wire/codec.rs
            use super::BASE as START;
            pub(crate) const PORT: u16 = super::BASE + inner::OFFSET;
            mod inner { pub const OFFSET: u16 = super::super::BASE - super::START; }
            #[cfg(test)]
            mod tests { use crate::BASE; }
        "#]]
        .assert_eq(&out.render("api/src/wire/codec.rs"));
    }

    #[test]
    fn refuses_binary_macros_that_name_crate() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
use crate::api_port as port;

fn api_port() -> u16 { 1 }
macro_rules! port { () => { $crate::api_port() } }

#[tokio::main]
async fn main() {
    api::serve(port!()).await
}
//- /api/src/lib.rs
pub async fn serve(port: u16) {}
"#,
        );
        expect!["Error api/src/main.rs:4: a macro in the binary api/src/main.rs names `crate`: knit copies the binary's items into the library, where `crate` is the library; write the path without `crate`, or move the item into the library"].assert_eq(&out.findings.join("\n"));
    }

    /// A variable named like the library crate is no path to it.
    #[test]
    fn a_variable_named_like_the_library_stays() {
        let out = check(
            PassId::Entry,
            r#"
//- /svc/Cargo.toml
[package]
name = "svc"
edition = "2021"
//- /svc/src/main.rs
use svc::{Api, serve};
use svc as service;

#[tokio::main]
async fn main() -> Result<(), svc::Error> {
    let svc = svc::ApiServer::new(Api::default());
    serve(svc, service::config()?).await
}
//- /svc/src/lib.rs
pub type Error = Box<dyn std::error::Error>;
"#,
        );
        expect![[r#"
            //- /svc/src/lib.rs
            pub type Error = Box<dyn std::error::Error>;

            /// The entry of service `svc`, lifted by knit from `fn main` in svc/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), crate::Error> {
                use crate::{Api, serve};
                use crate as service;
                knit_host.scope(async move {
                let svc = crate::ApiServer::new(Api::default());
                serve(svc, service::config()?).await
            }).await
            }
        "#]]
        .assert_eq(&out.render("svc/src/lib.rs"));
    }

    /// An actix gateway whose `main` sits beside its package's library (the
    /// handlers and the gRPC clients live there): the library's copy of `main`
    /// runs in actix's `System` on a thread of its own; the binary is unchanged.
    #[test]
    fn lifts_an_actix_main_beside_its_library() {
        let out = check(
            PassId::Entry,
            r#"
//- /gateway/Cargo.toml
[package]
name = "gateway"
edition = "2021"
//- /gateway/src/main.rs
use gateway::{clients, routes, serve_grpc};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let clients = clients().await;
    actix_web::rt::spawn(serve_grpc(clients.clone()));
    HttpServer::new(move || App::new().app_data(web::Data::new(clients.clone())).configure(routes))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await
}
//- /gateway/src/lib.rs
pub async fn clients() -> Clients { Clients::connect().await }
pub fn routes(cfg: &mut ServiceConfig) {}
pub async fn serve_grpc(clients: Clients) {
    Server::builder().add_service(ApiServer::new(Api(clients))).serve(ADDR).await.unwrap();
}
"#,
        );
        expect![[r#"
            //- /gateway/Cargo.toml
            [package]
            name = "gateway"
            edition = "2021"

            [dependencies]
            knit-runtime = { path = "../knit/runtime" }

            [[bin]]
            name = "gateway"
            path = "src/main.rs"
            //- /gateway/src/lib.rs
            pub async fn clients() -> Clients { Clients::connect().await }
            pub fn routes(cfg: &mut ServiceConfig) {}
            pub async fn serve_grpc(clients: Clients) {
                Server::builder().add_service(ApiServer::new(Api(clients))).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(ADDR), knit_runtime::ServiceHost::current().shutdown()).await.unwrap();
            }

            /// The entry of service `gateway`, lifted by knit from `fn main` in gateway/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), knit_runtime::Failed> {
                use crate::{clients, routes, serve_grpc};
                knit_host.scope(async move {
                knit_runtime::on_own_thread(knit_host, move || -> std::io::Result<()> { actix_web::rt::System::new().block_on(knit_host.scope(async move {
                let clients = clients().await;
                actix_web::rt::spawn(knit_host.scope(serve_grpc(clients.clone())));
                { let knit_server = HttpServer::new(move || App::new().app_data(web::Data::new(clients.clone())).configure(routes))
                    .bind(("0.0.0.0", 8080))?; let knit_server = (if knit_runtime::in_merged_host() { knit_server.disable_signals() } else { knit_server }).run(); let knit_stop = knit_server.handle(); actix_web::rt::spawn(async move { knit_host.shutdown().await; knit_stop.stop(true).await; }); knit_server }
                    .await
            })) }).await
            }).await
            }
        "#]].assert_eq(&out.render("gateway/"));
    }

    #[test]
    fn lifts_a_thin_main_into_its_library() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
// The binary only starts the library.
use api::{config, serve};

#[tokio::main]
async fn main() -> Result<(), api::Error> {
    serve(config()?).await
}
//- /api/src/lib.rs
pub type Error = Box<dyn std::error::Error>;
pub fn config() -> Result<std::net::SocketAddr, Error> { Ok("127.0.0.1:1".parse()?) }
pub async fn serve(addr: std::net::SocketAddr) -> Result<(), Error> {
    Server::builder().add_service(ApiServer::new(Api)).serve(addr).await?;
    Ok(())
}
"#,
        );
        expect![[r#"
            //- /api/Cargo.toml
            [package]
            name = "api"
            edition = "2021"

            [dependencies]
            knit-runtime = { path = "../knit/runtime" }

            [[bin]]
            name = "api"
            path = "src/main.rs"
            //- /api/src/lib.rs
            pub type Error = Box<dyn std::error::Error>;
            pub fn config() -> Result<std::net::SocketAddr, Error> { Ok("127.0.0.1:1".parse()?) }
            pub async fn serve(addr: std::net::SocketAddr) -> Result<(), Error> {
                Server::builder().add_service(ApiServer::new(Api)).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await?;
                Ok(())
            }

            /// The entry of service `api`, lifted by knit from `fn main` in api/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), crate::Error> {
                use crate::{config, serve};
                knit_host.scope(async move {
                serve(config()?).await
            }).await
            }
        "#]].assert_eq(&out.render("api/"));
    }

    /// A test's server in the library (`#[cfg(test)] mod tests`) is not the
    /// service's: left as it is.
    #[test]
    fn a_test_server_in_the_library_is_left_alone() {
        let out = check(
            PassId::Entry,
            r#"
//- /api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /api/src/main.rs
#[tokio::main]
async fn main() {
    api::serve("127.0.0.1:1".parse().unwrap()).await
}
//- /api/src/lib.rs
pub async fn serve(addr: std::net::SocketAddr) {
    Server::builder().add_service(ApiServer::new(Api)).serve(addr).await.unwrap();
}
#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn answers() {
        tokio::spawn(Server::builder().add_service(HealthServer::new(Fake)).serve(addr()));
    }
}
"#,
        );
        let lib = out.render("api/src/lib.rs");
        assert!(lib.contains("tokio::spawn(Server::builder().add_service(HealthServer::new(Fake)).serve(addr()));"), "{lib}");
        assert!(
            lib.contains(
                ".serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr)"
            ),
            "{lib}"
        );
    }
}
