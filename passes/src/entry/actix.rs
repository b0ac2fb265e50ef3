//! `#[actix_web::main]` and `#[actix_rt::main]` mains: actix-web's `HttpServer`
//! runs on actix-rt's `System` (a current-thread tokio runtime with a
//! `LocalSet`), which cannot run inside the host's multi-thread runtime. The
//! entry runs the body on a thread of its own, in a `System` as the attribute
//! did (`knit_runtime::on_own_thread`), and resolves when it ends; the
//! `HttpServer` it runs leaves the signals to the host and stops on the host's
//! shutdown through its `ServerHandle`.

use ra_ap_syntax::ast::{self, HasArgList, HasAttrs};

use knit_codegen::names::runtime::{FAILED, IN_MERGED_HOST, ON_OWN_THREAD};
use ra_ap_syntax::{AstNode, SyntaxNode, TextRange};

/// The entry's return type: `on_own_thread` carries the outcome across threads
/// as the message `main`'s error would have printed.
pub(super) fn ret() -> String {
    format!("Result<(), {FAILED}>")
}

/// An actix runtime attribute on `main`.
pub(super) struct ActixMain {
    pub attr: ast::Attr,
    /// The `System` the attribute starts (`actix_web::rt::System`).
    pub system: String,
}

/// The actix runtime attribute of `f`, if it has one; `Err` for arguments knit
/// does not know.
pub(super) fn actix_attr(f: &ast::Fn) -> Result<Option<ActixMain>, String> {
    for attr in f.attrs() {
        let Some(path) = attr.path() else { continue };
        let text = path.syntax().text().to_string().replace(' ', "");
        let system = match text.as_str() {
            "actix_web::main" => "actix_web::rt::System",
            "actix_rt::main" => "actix_rt::System",
            "actix::main" => "actix::System",
            _ => continue,
        };
        let mut system = system.to_string();
        let whole = attr.syntax().text().to_string();
        if let Some((_, args)) = whole.split_once('(') {
            let inner = args
                .trim_end_matches(']')
                .trim_end()
                .trim_end_matches(')')
                .trim();
            match inner.split_once('=') {
                None if inner.is_empty() => {}
                Some((key, value)) if key.trim() == "system" => {
                    system = format!("{}::System", value.trim().trim_matches('"'));
                }
                _ => {
                    return Err(format!(
                        "`#[{text}({inner})]`: only `system = \"..\"` is understood; not supported yet"
                    ));
                }
            }
        }
        return Ok(Some(ActixMain { attr, system }));
    }
    Ok(None)
}

/// The text inserted after the body's `{` and before its `}`: the body runs in
/// a `System` on a thread of its own, typed as `main` returned, in the
/// service's scope (code it calls that serves or registers reaches its host
/// as `ServiceHost::current()` on that thread too).
pub(super) fn wrap_body(system: &str, ret: Option<&ast::RetType>) -> (String, String) {
    let ret = ret
        .and_then(|r| r.ty())
        .map_or("()".to_string(), |t| t.syntax().text().to_string());
    (
        format!(
            "\n    {ON_OWN_THREAD}(knit_host, move || -> {ret} {{ {system}::new().block_on(knit_host.scope(async move {{"
        ),
        "})) }).await\n".to_string(),
    )
}

/// The `.run()` calls on an `HttpServer::new(..)` chain under `body`:
/// (range of the receiver, range of the whole call).
pub(super) fn http_server_runs(body: &SyntaxNode) -> Vec<(TextRange, TextRange)> {
    body.descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .filter(|call| {
            call.name_ref().is_some_and(|n| n.text() == "run")
                && call.arg_list().is_some_and(|l| l.args().next().is_none())
        })
        .filter_map(|call| {
            let receiver = call.receiver()?;
            let builds = receiver
                .syntax()
                .descendants()
                .filter_map(ast::CallExpr::cast)
                .any(|c| {
                    c.expr().is_some_and(|e| {
                        let callee = e.syntax().text().to_string().replace(' ', "");
                        callee == "HttpServer::new" || callee.ends_with("::HttpServer::new")
                    })
                });
            builds.then(|| (receiver.syntax().text_range(), call.syntax().text_range()))
        })
        .collect()
}

/// What replaces `.run()` after the receiver: merged, the server leaves the
/// signals to the host; it stops gracefully when the host shuts down.
pub(super) const RUN_OPEN: &str = "{ let knit_server = ";
pub(super) fn run_close() -> String {
    format!(
        "; let knit_server = (if {IN_MERGED_HOST}() {{ knit_server.disable_signals() }} else {{ knit_server }}).run(); \
let knit_stop = knit_server.handle(); \
actix_web::rt::spawn(async move {{ knit_host.shutdown().await; knit_stop.stop(true).await; }}); \
knit_server }}"
    )
}
