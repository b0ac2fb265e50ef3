//! Command-line arguments: a merged process has one command line, so a service
//! the plan gives its own `args` (one binary in several roles, each chosen by
//! its arguments) reads them from `knit_runtime::env` instead:
//!
//! | as written | becomes |
//! |---|---|
//! | `std::env::args()`, `env::args()` (with `std::env` imported) | `knit_runtime::env::args()` |
//! | `std::env::args_os()`, `env::args_os()` | `knit_runtime::env::args_os()` |
//! | clap's `Cli::parse()`, `Cli::try_parse()` | `Cli::parse_from(knit_runtime::env::args_os())`, `Cli::try_parse_from(..)` |
//! | clap's `command.get_matches()`, `.try_get_matches()` | `.get_matches_from(knit_runtime::env::args_os())`, .. |
//!
//! `knit_runtime::env::args` answers with the running service's arguments in the
//! merged binary and with the process's when the service runs alone, so the code
//! the roles of one binary share is rewritten once, for all of them.

use std::collections::BTreeSet;

use ra_ap_syntax::ast::{self, HasArgList};
use ra_ap_syntax::{AstNode, TextRange, TextSize};

use super::{Call, PASS, imports};
use crate::edit::{Level, Output};
use crate::model::{FileId, Group};
use knit_codegen::names::runtime::ENV;

/// The reads of the process's arguments, as `std::env` paths.
const ARG_READS: &[(&str, &str)] = &[("args", "std::env::args"), ("args_os", "std::env::args_os")];

/// clap's functions that read the process's arguments, and their forms that
/// take the arguments: associated functions of a `Parser` and methods of a
/// `Command`.
const CLAP_PARSERS: &[(&str, &str)] = &[("parse", "parse_from"), ("try_parse", "try_parse_from")];
const CLAP_MATCHES: &[(&str, &str)] = &[
    ("get_matches", "get_matches_from"),
    ("try_get_matches", "try_get_matches_from"),
];

/// Whether a service that reaches `file` has its own arguments in the plan.
fn has_own_args(group: &Group, file: FileId) -> bool {
    let f = group.file(file);
    std::iter::once(f.service)
        .chain(f.also.iter().map(|o| o.service))
        .any(|s| group.services[s].args.is_some())
}

/// Rewrites every read of the process's arguments in the code of services with
/// their own `args`.
pub(super) fn run(group: &Group, calls: &[Call], out: &mut Output) {
    let mut touched: BTreeSet<FileId> = BTreeSet::new();
    for (_, id, call, path) in calls {
        if !has_own_args(group, *id) {
            continue;
        }
        let path = path.trim_start_matches("::");
        let read = ARG_READS.iter().find(|(short, full)| {
            path == *full || (path == format!("env::{short}") && imports(group, *id, "std::env"))
        });
        let Some((function, _)) = read else { continue };
        let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
            continue;
        };
        out.edit(
            PASS,
            *id,
            callee.syntax().text_range(),
            format!("{ENV}::{function}"),
            "arguments: the service reads its own, from the plan",
        );
        touched.insert(*id);
    }
    for (id, file, rust) in group.rust_files() {
        if !file.text.contains("clap") || !has_own_args(group, id) {
            continue;
        }
        let tree = rust.tree();
        for node in tree.syntax().descendants() {
            if let Some(call) = ast::CallExpr::cast(node.clone()) {
                touched.extend(parser_call(id, &call, out));
            } else if let Some(call) = ast::MethodCallExpr::cast(node) {
                touched.extend(matches_call(id, &call, out));
            }
        }
    }
    for id in touched {
        let file = group.file(id);
        let package = &group.services[file.service].packages[file.package];
        let path = crate::model::relative_path(&package.dir, knit_codegen::names::RUNTIME_DIR);
        let op = crate::manifest::ManifestOp::AddPathDependency {
            key: knit_codegen::names::RUNTIME_PACKAGE.into(),
            path,
        };
        out.manifest_ops.push((package.manifest, op));
        let roles: Vec<&str> = std::iter::once(file.service)
            .chain(file.also.iter().map(|o| o.service))
            .filter(|&s| group.services[s].args.is_some())
            .map(|s| group.services[s].name.as_str())
            .collect();
        out.finding(
            PASS,
            Level::Note,
            Some((id, 0.into())),
            format!(
                "{} reads its command line: merged, {} each read the `args` the plan gives them",
                file.path,
                roles.join(", ")
            ),
        );
    }
}

/// `Cli::parse()` (a clap `Parser`, no arguments) -> `Cli::parse_from(..)`.
fn parser_call(file: FileId, call: &ast::CallExpr, out: &mut Output) -> Option<FileId> {
    let ast::Expr::PathExpr(callee) = call.expr()? else {
        return None;
    };
    let path = callee.path()?;
    path.qualifier()?;
    let name = path.segment()?.name_ref()?;
    let (_, with) = CLAP_PARSERS.iter().find(|(n, _)| name.text() == *n)?;
    let list = call.arg_list()?;
    if list.args().next().is_some() {
        return None;
    }
    rewrite(file, name.syntax().text_range(), with, &list, out);
    Some(file)
}

/// `command.get_matches()` -> `command.get_matches_from(..)`.
fn matches_call(file: FileId, call: &ast::MethodCallExpr, out: &mut Output) -> Option<FileId> {
    let name = call.name_ref()?;
    let (_, with) = CLAP_MATCHES.iter().find(|(n, _)| name.text() == *n)?;
    let list = call.arg_list()?;
    if list.args().next().is_some() {
        return None;
    }
    rewrite(file, name.syntax().text_range(), with, &list, out);
    Some(file)
}

fn rewrite(file: FileId, name: TextRange, with: &str, list: &ast::ArgList, out: &mut Output) {
    let note = "arguments: clap parses the service's own, from the plan";
    out.edit(PASS, file, name, with, note);
    let inside = list.syntax().text_range().start() + TextSize::from(1);
    out.edit(
        PASS,
        file,
        TextRange::empty(inside),
        format!("{ENV}::args_os()"),
        note,
    );
}
