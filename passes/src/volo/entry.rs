//! Volo's side of the `entry` pass: its `main` attribute and its servers'
//! `run` calls.

use ra_ap_syntax::ast::{self, HasArgList};
use ra_ap_syntax::{AstNode, TextRange};

use crate::edit::Output;
use crate::model::FileId;
use knit_codegen::names::runtime::VOLO;

/// Whether `attr` (a path, spaces removed) is Volo's `main` attribute: a
/// re-export of `tokio::main`, lifted as that one is.
pub fn is_main_attr(attr: &str) -> bool {
    attr == "volo::main"
}

/// Rewrites a Volo server's `run(addr)` or `run_with_shutdown(addr, signal)`
/// so that the host owns the listener and the shutdown, and the group reaches
/// the server in process (`knit_runtime::volo`). `host` is an expression of
/// type `&ServiceHost`; `shift` maps ranges of `call`'s tree to the file.
/// Returns whether `call` was such a call: a `run*` method whose receiver
/// chain starts at `Server::new()` in a file that names `volo`.
pub fn rewrite_run(
    call: &ast::MethodCallExpr,
    shift: &dyn Fn(TextRange) -> TextRange,
    file: FileId,
    host: &str,
    pass: crate::pass::PassId,
    out: &mut Output,
) -> bool {
    let Some(name) = call.name_ref() else {
        return false;
    };
    let args: Vec<TextRange> = call
        .arg_list()
        .map(|l| l.args().map(|a| shift(a.syntax().text_range())).collect())
        .unwrap_or_default();
    if !is_volo_run(call) {
        return false;
    }
    let signal = args.get(1).copied();
    let addr = args[0];
    let note = "serve a Volo server under the host's control";
    out.edit(
        pass,
        file,
        shift(name.syntax().text_range()),
        "run_with_shutdown",
        note,
    );
    out.edit(
        pass,
        file,
        TextRange::empty(addr.start()),
        format!("{VOLO}::incoming({host}, "),
        note,
    );
    out.edit(pass, file, TextRange::empty(addr.end()), ")", note);
    match signal {
        Some(signal) => {
            out.edit(
                pass,
                file,
                TextRange::empty(signal.start()),
                format!("{VOLO}::shutdown_with({host}, "),
                note,
            );
            out.edit(pass, file, TextRange::empty(signal.end()), ")", note);
        }
        None => out.edit(
            pass,
            file,
            TextRange::empty(addr.end()),
            format!(", {VOLO}::shutdown({host})"),
            note,
        ),
    }
    true
}

/// Whether `call` is a Volo server's `run(addr)` or `run_with_shutdown(addr,
/// signal)`: its receiver is a chain that starts at `Server::new()`, in a file
/// that names `volo`.
pub fn is_volo_run(call: &ast::MethodCallExpr) -> bool {
    let args = call.arg_list().map_or(0, |l| l.args().count());
    let method = call.name_ref().map(|n| n.text().to_string());
    matches!(
        (method.as_deref(), args),
        (Some("run"), 1) | (Some("run_with_shutdown"), 2)
    ) && is_volo_server(call)
}

/// Whether `call`'s receiver is a chain that starts at `Server::new()` (any
/// path ending so) in a file that names `volo`.
fn is_volo_server(call: &ast::MethodCallExpr) -> bool {
    let root = call.syntax().ancestors().last();
    if !root.is_some_and(|r| r.text().to_string().contains("volo")) {
        return false;
    }
    let mut receiver = call.receiver();
    while let Some(expr) = receiver {
        match expr {
            ast::Expr::MethodCallExpr(m) => receiver = m.receiver(),
            ast::Expr::CallExpr(c) => {
                let Some(ast::Expr::PathExpr(p)) = c.expr() else {
                    return false;
                };
                let text = p.syntax().text().to_string().replace(' ', "");
                return text == "Server::new" || text.ends_with("::Server::new");
            }
            ast::Expr::ParenExpr(p) => receiver = p.expr(),
            _ => return false,
        }
    }
    false
}
