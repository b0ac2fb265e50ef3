//! The `globals` pass: what a process has one of — the logger, the global
//! allocator, the environment, signals, exit, default metric registries — once
//! several services share a process.
//!
//! - Logging: when several services initialise the same logger (`tracing_subscriber`
//!   `.init()`, `env_logger::init()`), each `init` becomes `try_init().ok()`: the
//!   first service to start sets it, the others keep it; the report says which.
//! - Environment: every variable each service reads is reported, and variables read
//!   by several services are flagged. A service with its own values in the plan
//!   (`[services.NAME.env]`) reads through `knit_runtime::env`, which answers with
//!   them first.
//! - Arguments: a service with its own `args` in the plan reads them through
//!   `knit_runtime::env::args` (`std::env::args`, clap's `parse`).
//! - `#[global_allocator]`: identical ones are kept once; different ones are an error.
//! - `process::exit`, signal handling, `env::set_var`, `.env` loading and default
//!   metric registries are reported.

use std::collections::BTreeMap;

use ra_ap_syntax::ast::{self, HasArgList, HasAttrs};
use ra_ap_syntax::{AstNode, AstToken, SyntaxKind, TextRange, TextSize};

use crate::edit::{Level, Output, code_range};
use crate::model::{FileId, Group, PackageId, ServiceId};
use crate::pass::PassId;
use crate::sharing::Sharing;
use knit_codegen::names::runtime::ENV;

mod args;
mod files;
mod logging;

const PASS: PassId = PassId::Globals;

pub fn run(group: &Group, _: &Sharing) -> Output {
    let mut out = Output::default();
    let calls = calls(group);
    logging::run(group, &calls, &mut out);
    environment(group, &calls, &mut out);
    args::run(group, &calls, &mut out);
    allocators(group, &mut out);
    process_wide(group, &calls, &mut out);
    metrics(group, &mut out);
    dotenv(group, &calls, &mut out);
    files::run(group, &mut out);
    out
}

/// Whether `text` contains any of `needles`.
fn mentions_any(text: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| text.contains(n))
}

/// A call of a path: (service, file, call, callee path without spaces).
type Call = (ServiceId, FileId, ast::CallExpr, String);

/// What the path of every call [`calls`] keeps contains, or its file's imports
/// do: `env` (`env::var`, `env_logger`, `dotenv`, `env::set_var`), `exit`,
/// `signal` (`ctrl_c`, `signal_hook`), `registry` (`default_registry`).
/// `::init`, `set_global_default`, `set_logger`, `set_boxed_logger`: logger
/// initialisations (see [`logging`]).
const CALL_NEEDLES: &[&str] = &[
    "env",
    "exit",
    "signal",
    "registry",
    "::init",
    "set_global_default",
    "set_logger",
    "set_boxed_logger",
];

/// The calls of every Rust file that may make one of the calls this pass
/// looks for (its text holds one of [`CALL_NEEDLES`]).
fn calls(group: &Group) -> Vec<Call> {
    let mut all = Vec::new();
    let files = group.rust_files();
    for (id, file, rust) in files.filter(|(_, f, _)| mentions_any(&f.text, CALL_NEEDLES)) {
        for call in rust
            .tree()
            .syntax()
            .descendants()
            .filter_map(ast::CallExpr::cast)
        {
            let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
                continue;
            };
            let text: String = callee
                .syntax()
                .text()
                .to_string()
                .split_whitespace()
                .collect();
            all.push((file.service, id, call, text));
        }
    }
    all
}

fn imports(group: &Group, file: FileId, path: &str) -> bool {
    group.file(file).text.contains(path)
}

const ENV_READS: &[(&str, &str)] = &[
    ("var", "std::env::var"),
    ("var_os", "std::env::var_os"),
    ("vars", "std::env::vars"),
];

/// The environment variables each service reads by name (`env::var("PORT")`).
pub fn env_reads(group: &Group) -> BTreeMap<ServiceId, std::collections::BTreeSet<String>> {
    let mut reads: BTreeMap<ServiceId, std::collections::BTreeSet<String>> = BTreeMap::new();
    for (service, id, call, path) in calls(group) {
        if let Some((_, name)) = env_read(group, id, &call, &path)
            && !name.starts_with('(')
        {
            reads.entry(service).or_default().insert(name);
        }
    }
    reads
}

/// A read of the environment: the function (`var`, `var_os`, `vars`) and the
/// variable's name (`(computed)` when not a literal, `(all)` for `vars`).
fn env_read(
    group: &Group,
    id: FileId,
    call: &ast::CallExpr,
    path: &str,
) -> Option<(&'static str, String)> {
    let path = path.trim_start_matches("::");
    let (function, _) = ENV_READS.iter().find(|(short, full)| {
        path == *full || (path == format!("env::{short}") && imports(group, id, "std::env"))
    })?;
    let name = call
        .arg_list()
        .and_then(|l| l.args().next())
        .and_then(|a| {
            a.syntax()
                .descendants_with_tokens()
                .filter_map(|t| t.into_token())
                .find_map(ast::String::cast)
        })
        .and_then(|s| s.value().ok().map(|v| v.to_string()))
        .unwrap_or_else(|| {
            if *function == "vars" {
                "(all)".into()
            } else {
                "(computed)".into()
            }
        });
    Some((function, name))
}

/// Which service's values `knit_runtime::env` answers with for code of
/// `service` in `file`, when it has its own (an expression naming the
/// service), or `None` when the process's environment is its own. Code several
/// services run (the roles of one binary, a library two binaries share) names
/// the service running it (`knit_runtime::env::current_service()`).
fn own_env(group: &Group, service: ServiceId, file: FileId) -> Option<String> {
    let f = group.file(file);
    let runners: Vec<ServiceId> = group
        .services_by_id()
        .filter(|(i, s)| {
            s.bin.root == group.services[service].bin.root
                || *i == f.service
                || f.also.iter().any(|o| o.service == *i)
        })
        .map(|(i, _)| i)
        .collect();
    if runners.len() > 1 {
        let any = runners.iter().any(|&i| !group.services[i].env.is_empty());
        return any.then(|| format!("{ENV}::current_service()"));
    }
    let svc = &group.services[service];
    (!svc.env.is_empty()).then(|| format!("{:?}", svc.name))
}

fn environment(group: &Group, calls: &[Call], out: &mut Output) {
    let mut needs_runtime = std::collections::BTreeSet::new();
    // variable -> services that read it
    let mut readers: BTreeMap<String, Vec<ServiceId>> = BTreeMap::new();
    let mut per_service: BTreeMap<ServiceId, Vec<String>> = BTreeMap::new();
    for &(service, id, ref call, ref path) in calls {
        let Some((function, name)) = env_read(group, id, call, path) else {
            continue;
        };
        let args: Vec<ast::Expr> = call
            .arg_list()
            .map(|l| l.args().collect())
            .unwrap_or_default();
        let svc = &group.services[service];
        readers.entry(name.clone()).or_default().push(service);
        per_service.entry(service).or_default().push(name);
        let Some(reader) = own_env(group, service, id) else {
            continue;
        };
        let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
            continue;
        };
        needs_runtime.insert((service, group.file(id).package));
        let note = format!(
            "environment: `{}` reads its own values from the plan",
            svc.name
        );
        out.edit(
            PASS,
            id,
            callee.syntax().text_range(),
            format!("{ENV}::{function}"),
            &note,
        );
        let list = call.arg_list().unwrap();
        let inside = list.syntax().text_range().start() + TextSize::from(1);
        let sep = if args.is_empty() { "" } else { ", " };
        out.edit(
            PASS,
            id,
            TextRange::empty(inside),
            format!("{reader}{sep}"),
            &note,
        );
    }
    // The entry pass gives a service's first package the runtime; others need it too.
    for (service, package) in needs_runtime
        .into_iter()
        .filter(|(_, p)| *p != PackageId::OWN)
    {
        let package = &group.services[service].packages[package];
        let path = crate::model::relative_path(&package.dir, knit_codegen::names::RUNTIME_DIR);
        let op = crate::manifest::ManifestOp::AddPathDependency {
            key: knit_codegen::names::RUNTIME_PACKAGE.into(),
            path,
        };
        out.manifest_ops.push((package.manifest, op));
    }
    for (service, mut names) in per_service {
        names.sort();
        names.dedup();
        let root = group.services[service].bin.root;
        out.finding(
            PASS,
            Level::Note,
            Some((root, 0.into())),
            format!(
                "`{}` reads environment variables {}",
                group.services[service].name,
                names.join(", ")
            ),
        );
    }
    for (name, mut services) in readers {
        services.sort();
        services.dedup();
        let unset: Vec<&str> = services
            .iter()
            .filter(|&&s| !group.services[s].env.iter().any(|(k, _)| *k == name))
            .map(|&s| group.services[s].name.as_str())
            .collect();
        if services.len() > 1 && unset.len() > 1 && !name.starts_with('(') {
            out.finding(PASS, Level::Note, None, format!(
                "`{name}` is read by {}: in one process they see one value; give each its own with `[services.NAME.env]`",
                unset.join(", ")
            ));
        }
    }
}

fn allocators(group: &Group, out: &mut Output) {
    let mut found: Vec<(ServiceId, FileId, ast::Static)> = Vec::new();
    let files = group.rust_files();
    // An allocator of test code (`#[cfg(test)] mod test_memory;`), or of a
    // binary no service runs, is not the merged binary's.
    let linked: Vec<FileId> = group
        .services
        .iter()
        .flat_map(|s| {
            let libs = s
                .packages
                .iter()
                .filter_map(|p| p.lib.as_ref().map(|l| l.root));
            std::iter::once(s.bin.root).chain(libs)
        })
        .collect();
    let files = files.filter(|(_, _, rust)| {
        !rust.test_only && rust.crates().any(|krate| linked.contains(&krate))
    });
    for (id, file, rust) in files.filter(|(_, f, _)| f.text.contains("global_allocator")) {
        for item in rust
            .tree()
            .syntax()
            .descendants()
            .filter_map(ast::Static::cast)
        {
            if item
                .attrs()
                .any(|a| a.simple_name().as_deref() == Some("global_allocator"))
                && !crate::compiled::not_compiled(group, id, item.syntax().text_range())
            {
                found.push((file.service, id, item));
            }
        }
    }
    if found.is_empty() {
        return;
    }
    let chosen = match &group.global_allocator {
        Some(name) => match found
            .iter()
            .find(|(s, _, _)| group.services[*s].name == *name)
        {
            Some(keep) => Some(keep),
            None => {
                out.finding(
                    PASS,
                    Level::Error,
                    None,
                    format!("the plan keeps the global allocator of `{name}`, which declares none"),
                );
                return;
            }
        },
        None => None,
    };
    let (keep_service, keep_file, keep) = chosen.unwrap_or(&found[0]);
    let body = |s: &ast::Static| {
        s.syntax()
            .text()
            .to_string()
            .split_whitespace()
            .collect::<String>()
    };
    let at = |file: FileId, item: &ast::Static| {
        let f = group.file(file);
        format!(
            "{}:{}",
            f.path,
            f.line_col(item.syntax().text_range().start()).0
        )
    };
    for (service, id, item) in &found {
        if service == keep_service {
            continue;
        }
        let (keeper, other) = (
            &group.services[*keep_service].name,
            &group.services[*service].name,
        );
        let message = if body(item) == body(keep) {
            format!("`{other}` declares the same global allocator as `{keeper}`: kept once")
        } else if chosen.is_some() {
            format!(
                "`{other}`'s global allocator ({}) is removed: the plan keeps `{keeper}`'s",
                at(*id, item)
            )
        } else {
            out.finding(PASS, Level::Error, Some((*id, item.syntax().text_range().start())), format!(
                "`{keeper}` ({}) and `{other}` ({}) declare different global allocators; one binary has one: \
                 pick one with `global_allocator = \"SERVICE\"` in the plan's `[group]`",
                at(*keep_file, keep), at(*id, item)
            ));
            continue;
        };
        let mut range = code_range(item.syntax());
        if let Some(ws) = item
            .syntax()
            .next_sibling_or_token()
            .filter(|t| t.kind() == SyntaxKind::WHITESPACE)
        {
            range = TextRange::new(range.start(), ws.text_range().end());
        }
        out.edit(PASS, *id, range, "", "global allocator: one per binary");
        out.finding(
            PASS,
            Level::Note,
            Some((*id, item.syntax().text_range().start())),
            message,
        );
    }
}

fn metrics(group: &Group, out: &mut Output) {
    let mut names: BTreeMap<String, Vec<ServiceId>> = BTreeMap::new();
    let mut sites: BTreeMap<ServiceId, (FileId, TextSize, Vec<String>)> = BTreeMap::new();
    // Kept: `register_*!` macros of prometheus, in files that name it.
    let files = group.rust_files();
    for (id, file, rust) in files.filter(|(_, f, _)| f.text.contains("prometheus")) {
        for mac in rust
            .tree()
            .syntax()
            .descendants()
            .filter_map(ast::MacroCall::cast)
        {
            let Some(path) = mac.path() else { continue };
            let text: String = path
                .syntax()
                .text()
                .to_string()
                .split_whitespace()
                .collect();
            let macro_name = text.rsplit("::").next().unwrap_or_default();
            if !macro_name.starts_with("register_")
                || !(text.starts_with("prometheus::") || file.text.contains("prometheus"))
            {
                continue;
            }
            let Some(tokens) = mac.token_tree() else {
                continue;
            };
            let Some(metric) = tokens
                .syntax()
                .descendants_with_tokens()
                .filter_map(|t| t.into_token())
                .find_map(ast::String::cast)
                .and_then(|s| s.value().ok().map(|v| v.to_string()))
            else {
                continue;
            };
            names.entry(metric.clone()).or_default().push(file.service);
            let site = sites.entry(file.service).or_insert((
                id,
                mac.syntax().text_range().start(),
                Vec::new(),
            ));
            site.2.push(metric);
        }
    }
    if sites.len() < 2 {
        return;
    }
    for (service, (file, at, metrics)) in &sites {
        out.finding(PASS, Level::Note, Some((*file, *at)), format!(
            "`{}` registers metrics {} in prometheus' default registry, which the services of the merged binary share",
            group.services[*service].name,
            metrics.join(", ")
        ));
    }
    for (metric, mut services) in names {
        services.sort();
        services.dedup();
        if services.len() > 1 {
            let who: Vec<&str> = services
                .iter()
                .map(|&s| group.services[s].name.as_str())
                .collect();
            out.finding(PASS, Level::Note, None, format!(
                "metric `{metric}` is registered by {}: merged, the second registration fails (`AlreadyReg`)",
                who.join(", ")
            ));
        }
    }
}

/// `dotenv()` of a service with its own environment loads into that service's
/// values, not the process's (`knit_runtime::env::dotenv`).
fn dotenv(group: &Group, calls: &[Call], out: &mut Output) {
    for &(service, id, ref call, ref path) in calls {
        let svc = &group.services[service];
        let path = path.trim_start_matches("::");
        if !["dotenv::dotenv", "dotenvy::dotenv"].contains(&path) {
            continue;
        }
        let Some(reader) = own_env(group, service, id) else {
            continue;
        };
        let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
            continue;
        };
        let Some(list) = call.arg_list() else {
            continue;
        };
        let note = format!(
            "environment: `{}` loads `.env` into its own values",
            svc.name
        );
        out.edit(
            PASS,
            id,
            callee.syntax().text_range(),
            format!("{ENV}::dotenv"),
            &note,
        );
        let inside = list.syntax().text_range().start() + TextSize::from(1);
        out.edit(PASS, id, TextRange::empty(inside), reader, &note);
    }
}

fn process_wide(group: &Group, calls: &[Call], out: &mut Output) {
    for &(service, id, ref call, ref path) in calls {
        let name = &group.services[service].name;
        let path = path.trim_start_matches("::");
        let message = if path.ends_with("process::exit") {
            format!(
                "`{name}` calls `process::exit`: it ends the whole merged process, every service with it"
            )
        } else if path.ends_with("signal::ctrl_c")
            || path.starts_with("signal_hook")
            || path.ends_with("unix::signal")
        {
            format!(
                "`{name}` handles signals itself; the merged host also shuts every service down on SIGINT/SIGTERM"
            )
        } else if path.ends_with("env::set_var") || path.ends_with("env::remove_var") {
            format!("`{name}` changes an environment variable of the whole process")
        } else if path.starts_with("dotenv") && group.services[service].env.is_empty() {
            format!(
                "`{name}` loads a `.env` file into the process: every service of the merged binary sees it"
            )
        } else if path.ends_with("default_registry") {
            format!(
                "`{name}` registers metrics in prometheus' default registry, shared by every service of the process"
            )
        } else {
            continue;
        };
        out.finding(
            PASS,
            Level::Note,
            Some((id, call.syntax().text_range().start())),
            message,
        );
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::fixture::{check, check_group, group};
    use crate::pass::PassId;

    const TWO: &str = r#"
//- /a/Cargo.toml
[package]
name = "a"
edition = "2021"
//- /a/src/main.rs
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_target(false).init();
    let port = std::env::var("PORT").unwrap();
    let level = std::env::var_os("RUST_LOG");
}
//- /b/Cargo.toml
[package]
name = "b"
edition = "2021"
//- /b/src/main.rs
use std::env;
use tracing_subscriber::fmt;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[tokio::main]
async fn main() {
    fmt().init();
    env_logger::init();
    let port: u16 = env::var("PORT").unwrap().parse().unwrap();
    std::process::exit(0);
}
"#;

    /// `TWO` with `a` on the system allocator and `b` on mimalloc.
    fn different_allocators() -> String {
        TWO.replacen(
            "mimalloc::MiMalloc = mimalloc::MiMalloc",
            "std::alloc::System = std::alloc::System",
            1,
        )
    }

    #[test]
    fn two_services_share_one_process() {
        let out = check(PassId::Globals, TWO);
        let mut shown = out.render("b/src/main.rs");
        shown.push_str(&out.render("a/src/main.rs"));
        expect![[r#"
            //- /b/src/main.rs
            use std::env;
            use tracing_subscriber::fmt;
            #[tokio::main]
            async fn main() {
                fmt().try_init().ok();
                env_logger::try_init().ok();
                let port: u16 = env::var("PORT").unwrap().parse().unwrap();
                std::process::exit(0);
            }
            Note a/src/main.rs:5: `a` initialises the tracing subscriber; it starts first, so its configuration is the merged binary's
            Note b/src/main.rs:7: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:8: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note a/src/main.rs:1: `a` reads environment variables PORT, RUST_LOG
            Note b/src/main.rs:1: `b` reads environment variables PORT
            Note : `PORT` is read by a, b: in one process they see one value; give each its own with `[services.NAME.env]`
            Note b/src/main.rs:3: `b` declares the same global allocator as `a`: kept once
            Note b/src/main.rs:10: `b` calls `process::exit`: it ends the whole merged process, every service with it
            //- /a/src/main.rs
            #[global_allocator]
            static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
            #[tokio::main]
            async fn main() {
                tracing_subscriber::fmt().with_target(false).try_init().ok();
                let port = std::env::var("PORT").unwrap();
                let level = std::env::var_os("RUST_LOG");
            }
            Note a/src/main.rs:5: `a` initialises the tracing subscriber; it starts first, so its configuration is the merged binary's
            Note b/src/main.rs:7: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:8: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note a/src/main.rs:1: `a` reads environment variables PORT, RUST_LOG
            Note b/src/main.rs:1: `b` reads environment variables PORT
            Note : `PORT` is read by a, b: in one process they see one value; give each its own with `[services.NAME.env]`
            Note b/src/main.rs:3: `b` declares the same global allocator as `a`: kept once
            Note b/src/main.rs:10: `b` calls `process::exit`: it ends the whole merged process, every service with it
        "#]].assert_eq(&shown);
    }

    #[test]
    fn every_logger_initialisation_form_runs_once() {
        let out = check(
            PassId::Globals,
            r#"
//- /a/Cargo.toml
[package]
name = "a"
edition = "2021"
//- /a/src/main.rs
#[tokio::main]
async fn main() {
    tracing_subscriber::fmt::init();
}
//- /b/Cargo.toml
[package]
name = "b"
edition = "2021"
//- /b/src/main.rs
use tracing_subscriber::prelude::*;
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    tracing_subscriber::registry().with(fmt::layer()).with(EnvFilter::from_default_env()).init();
    let subscriber = FmtSubscriber::builder().finish();
    subscriber.init();
    tracing::subscriber::set_global_default(subscriber).expect("setting the default subscriber");
    tracing::subscriber::set_global_default(other)?;
    env_logger::Builder::from_default_env().format_timestamp(None).init();
    env_logger::init_from_env(env);
    pretty_env_logger::init_timed();
    log::set_logger(&LOGGER).map(|()| log::set_max_level(LevelFilter::Info)).unwrap();
    log::set_boxed_logger(Box::new(Logger)).ok();
    Ok(())
}
fn setup() {
    tracing::subscriber::set_global_default(s).expect("tail")
}
"#,
        );
        let mut shown = out.render("a/src/main.rs");
        shown.push_str(&out.render("b/src/main.rs"));
        let shown: String = shown
            .lines()
            .filter(|l| !l.contains("environment"))
            .map(|l| format!("{l}\n"))
            .collect();
        expect![[r#"
            //- /a/src/main.rs
            #[tokio::main]
            async fn main() {
                tracing_subscriber::fmt::try_init().ok();
            }
            Note a/src/main.rs:3: `a` initialises the tracing subscriber; it starts first, so its configuration is the merged binary's
            Note b/src/main.rs:4: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:5: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:7: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:8: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:9: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:10: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:11: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:12: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:13: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:14: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:18: `b` initialises the tracing subscriber in a shape knit does not rewrite: merged, it fails (or panics) when another service set it first; use its `try_init` form or ignore its error
            //- /b/src/main.rs
            use tracing_subscriber::prelude::*;
            #[tokio::main]
            async fn main() -> Result<(), Box<dyn std::error::Error>> {
                tracing_subscriber::fmt().with_target(false).try_init().ok();
                tracing_subscriber::registry().with(fmt::layer()).with(EnvFilter::from_default_env()).try_init().ok();
                let subscriber = FmtSubscriber::builder().finish();
                subscriber.try_init().ok();
                tracing::subscriber::set_global_default(subscriber).ok();
                tracing::subscriber::set_global_default(other).ok();
                env_logger::Builder::from_default_env().format_timestamp(None).try_init().ok();
                env_logger::try_init_from_env(env).ok();
                pretty_env_logger::try_init_timed().ok();
                log::set_logger(&LOGGER).map(|()| log::set_max_level(LevelFilter::Info)).ok();
                log::set_boxed_logger(Box::new(Logger)).ok();
                Ok(())
            }
            fn setup() {
                tracing::subscriber::set_global_default(s).expect("tail")
            }
            Note a/src/main.rs:3: `a` initialises the tracing subscriber; it starts first, so its configuration is the merged binary's
            Note b/src/main.rs:4: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:5: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:7: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:8: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:9: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:10: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:11: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:12: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:13: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:14: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note b/src/main.rs:18: `b` initialises the tracing subscriber in a shape knit does not rewrite: merged, it fails (or panics) when another service set it first; use its `try_init` form or ignore its error
        "#]].assert_eq(&shown);
    }

    #[test]
    fn plan_env_gives_a_service_its_own_values() {
        let mut g = group(TWO);
        g.services[1].env = vec![("PORT".into(), "${B_PORT}".into())];
        let out = check_group(PassId::Globals, g);
        expect![[r#"
            //- /b/src/main.rs
            use tracing_subscriber::fmt;
            #[tokio::main]
            async fn main() {
                fmt().try_init().ok();
                env_logger::try_init().ok();
                let port: u16 = knit_runtime::env::var("b", "PORT").unwrap().parse().unwrap();
                std::process::exit(0);
            }
            Note a/src/main.rs:5: `a` initialises the tracing subscriber; it starts first, so its configuration is the merged binary's
            Note b/src/main.rs:7: `b` initialises the tracing subscriber; `a` starts first and its configuration wins, this one is skipped
            Note b/src/main.rs:8: `b` initialises the `log` logger; `a` starts first and sets the process's logger (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped
            Note a/src/main.rs:1: `a` reads environment variables PORT, RUST_LOG
            Note b/src/main.rs:1: `b` reads environment variables PORT
            Note b/src/main.rs:3: `b` declares the same global allocator as `a`: kept once
            Note b/src/main.rs:10: `b` calls `process::exit`: it ends the whole merged process, every service with it
        "#]].assert_eq(&out.render("b/src/main.rs"));
    }

    #[test]
    fn the_plan_picks_an_allocator() {
        let mut g = group(&different_allocators());
        g.global_allocator = Some("b".into());
        let out = check_group(PassId::Globals, g);
        let allocator: Vec<&String> = out
            .findings
            .iter()
            .filter(|f| f.contains("allocator"))
            .collect();
        expect![[r#"
            [
                "Note a/src/main.rs:1: `a`'s global allocator (a/src/main.rs:1) is removed: the plan keeps `b`'s",
            ]
        "#]].assert_debug_eq(&allocator);
        assert!(
            !out.files
                .iter()
                .any(|(p, t)| p == "b/src/main.rs" && !t.contains("#[global_allocator]"))
        );
    }

    #[test]
    fn files_read_relative_to_the_working_directory_are_reported() {
        let fixture = TWO.replacen(
            "    let level = std::env::var_os(\"RUST_LOG\");",
            "    let level = std::env::var_os(\"RUST_LOG\");\n    let config = std::fs::read_to_string(\"config/a.toml\").unwrap();\n    let seeds = tokio::fs::read_dir(Path::new(\"./seeds\")).await;\n    let abs = File::open(\"/etc/a.conf\");\n    let dynamic = fs::read(format!(\"{dir}/x\"));",
            1,
        );
        let out = check(PassId::Globals, &fixture);
        let files: Vec<&String> = out
            .findings
            .iter()
            .filter(|f| f.contains("working directory"))
            .collect();
        expect![[r#"
            [
                "Note a/src/main.rs:8: `a` reads files by paths relative to its working directory: `config/a.toml` (a/src/main.rs:8), `./seeds` (a/src/main.rs:9); merged, every service shares one working directory: they resolve where the merged binary is started; the plan's `cwd` chooses that folder (docs/plan.md)",
            ]
        "#]].assert_debug_eq(&files);
    }

    #[test]
    fn an_allocator_of_test_code_is_not_the_binarys() {
        // `a`'s allocator is in a module compiled for tests only.
        let fixture = different_allocators().replacen(
            "#[global_allocator]\nstatic GLOBAL: std::alloc::System = std::alloc::System;\n",
            "#[cfg(test)]\nmod memory;\n",
            1,
        ) + "//- /a/src/memory.rs\n#[global_allocator]\nstatic TRACKED: std::alloc::System = std::alloc::System;\n";
        let out = check(PassId::Globals, &fixture);
        let allocator: Vec<&String> = out
            .findings
            .iter()
            .filter(|f| f.contains("allocator"))
            .collect();
        expect![[r#"
            []
        "#]]
        .assert_debug_eq(&allocator);
    }

    #[test]
    fn different_allocators_are_an_error() {
        let out = check(PassId::Globals, &different_allocators());
        let errors: Vec<&String> = out
            .findings
            .iter()
            .filter(|f| f.starts_with("Error"))
            .collect();
        expect![[r#"
            [
                "Error b/src/main.rs:3: `a` (a/src/main.rs:1) and `b` (b/src/main.rs:3) declare different global allocators; one binary has one: pick one with `global_allocator = \"SERVICE\"` in the plan's `[group]`",
            ]
        "#]].assert_debug_eq(&errors);
    }

    #[test]
    fn shared_metric_names_and_dotenv() {
        let fixture = r#"
//- /a/Cargo.toml
[package]
name = "a"
edition = "2021"
//- /a/src/main.rs
static REQUESTS: LazyLock<IntCounter> = LazyLock::new(|| prometheus::register_int_counter!("requests_total", "Requests.").unwrap());
#[tokio::main]
async fn main() { dotenvy::dotenv().ok(); }
//- /b/Cargo.toml
[package]
name = "b"
edition = "2021"
//- /b/src/main.rs
use prometheus::register_int_counter;
static REQUESTS: LazyLock<IntCounter> = LazyLock::new(|| register_int_counter!("requests_total", "Requests.").unwrap());
static ERRORS: LazyLock<IntCounter> = LazyLock::new(|| register_int_counter!(opts!("errors_total", "Errors.")).unwrap());
#[tokio::main]
async fn main() { dotenvy::dotenv().ok(); }
"#;
        let mut g = group(fixture);
        g.services[0].env = vec![("PORT".into(), "1".into())];
        let out = check_group(PassId::Globals, g);
        expect![[r#"
            //- /a/src/main.rs
            static REQUESTS: LazyLock<IntCounter> = LazyLock::new(|| prometheus::register_int_counter!("requests_total", "Requests.").unwrap());
            #[tokio::main]
            async fn main() { knit_runtime::env::dotenv("a").ok(); }
            Note b/src/main.rs:5: `b` loads a `.env` file into the process: every service of the merged binary sees it
            Note a/src/main.rs:1: `a` registers metrics requests_total in prometheus' default registry, which the services of the merged binary share
            Note b/src/main.rs:2: `b` registers metrics requests_total, errors_total in prometheus' default registry, which the services of the merged binary share
            Note : metric `requests_total` is registered by a, b: merged, the second registration fails (`AlreadyReg`)
        "#]].assert_eq(&out.render("a/src/main.rs"));
    }
}
