//! Logger initialisations. A process has one `tracing` dispatcher and one `log`
//! logger, and each initialisation function panics when one is already set. When
//! two or more services initialise a logger, every initialisation becomes its
//! non-panicking form: the first service to start sets the logger, the others
//! keep it.
//!
//! | as written | becomes |
//! |---|---|
//! | `X.init()` on a `tracing_subscriber` or `env_logger` builder chain | `X.try_init().ok()` |
//! | `tracing_subscriber::fmt::init()`, `env_logger::init()`, `pretty_env_logger::init()` (and `init_*`) | `try_init..().ok()` |
//! | `set_global_default(s).expect(..)` (also `.unwrap()`, `?`; `log::set_logger`, `log::set_boxed_logger`) as a statement | `set_global_default(s).ok()` |
//!
//! `tracing_subscriber`'s `init` also sets the `log` logger (its `tracing-log`
//! bridge), so the two kinds are counted together.

use ra_ap_syntax::ast::{self, HasArgList};
use ra_ap_syntax::{AstNode, TextRange, TextSize};

use super::{Call, PASS};
use crate::edit::{Level, Output};
use crate::model::{FileId, Group, ServiceId};

const TRACING: &str = "the tracing subscriber";
const LOG: &str = "the `log` logger";

/// One logger initialisation.
struct Init {
    service: ServiceId,
    file: FileId,
    at: TextSize,
    /// [`TRACING`] or [`LOG`].
    kind: &'static str,
    /// The edits that make it return instead of panicking (none when it
    /// already handles its error); `None` when its shape is not one knit rewrites.
    edits: Option<Vec<(TextRange, String)>>,
}

/// Makes every logger initialisation of the group safe to run twice, when
/// several services initialise one; reports who wins.
pub(super) fn run(group: &Group, calls: &[Call], out: &mut Output) {
    let mut inits = builder_inits(group);
    inits.extend(calls.iter().filter_map(|call| call_init(group, call)));
    inits.sort_by_key(|i| (i.file, i.at));
    let mut services: Vec<ServiceId> = inits.iter().map(|i| i.service).collect();
    services.sort();
    services.dedup();
    if services.len() < 2 {
        return;
    }
    let first = services[0];
    let first_kind = |kind: &str| {
        inits
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.service)
            .min()
    };
    let first_name = &group.services[first].name;
    for init in &inits {
        let name = &group.services[init.service].name;
        let kind = init.kind;
        let message = if init.edits.is_none() {
            format!(
                "`{name}` initialises {kind} in a shape knit does not rewrite: merged, it fails (or panics) when another service set it first; \
                 use its `try_init` form or ignore its error"
            )
        } else if init.service == first {
            format!(
                "`{name}` initialises {kind}; it starts first, so its configuration is the merged binary's"
            )
        } else if first_kind(kind) == Some(init.service) {
            format!(
                "`{name}` initialises {kind}; `{first_name}` starts first and sets the process's logger \
                 (`tracing_subscriber`'s `init` sets the `log` logger too): this one runs as `try_init` and may be skipped"
            )
        } else {
            let winner = &group.services[first_kind(kind).unwrap_or(first)].name;
            format!(
                "`{name}` initialises {kind}; `{winner}` starts first and its configuration wins, this one is skipped"
            )
        };
        for (range, text) in init.edits.iter().flatten() {
            out.edit(
                PASS,
                init.file,
                *range,
                text.as_str(),
                "logger: the first service to start sets it",
            );
        }
        out.finding(PASS, Level::Note, Some((init.file, init.at)), message);
    }
}

/// `.init()` at the end of a builder chain: `tracing_subscriber::fmt()..`,
/// `registry().with(..)`, `FmtSubscriber::builder()..`, `env_logger::Builder::..`,
/// or a variable in a file that imports `SubscriberInitExt`.
fn builder_inits(group: &Group) -> Vec<Init> {
    let mut found = Vec::new();
    let files = group.rust_files().filter(|(_, f, _)| {
        super::mentions_any(
            &f.text,
            &["tracing_subscriber", "env_logger", "SubscriberInitExt"],
        )
    });
    for (id, file, rust) in files {
        for call in rust
            .tree()
            .syntax()
            .descendants()
            .filter_map(ast::MethodCallExpr::cast)
        {
            let Some(name) = call.name_ref().filter(|n| n.text() == "init") else {
                continue;
            };
            if call.arg_list().is_some_and(|a| a.args().next().is_some()) {
                continue;
            }
            let chained = matches!(call.receiver(), Some(ast::Expr::MethodCallExpr(_)));
            let mut root = call.receiver();
            while let Some(ast::Expr::MethodCallExpr(inner)) = &root {
                root = inner.receiver();
            }
            let root = squeeze(&root.map(|r| r.syntax().to_string()).unwrap_or_default());
            let uses = |krate: &str| file.text.contains(krate);
            let kind = if root.starts_with("tracing_subscriber::")
                || ([
                    "fmt()",
                    "registry()",
                    "FmtSubscriber::builder()",
                    "Registry::default()",
                ]
                .contains(&root.as_str())
                    && uses("tracing_subscriber"))
                || (!chained
                    && is_ident(&root)
                    && (uses("SubscriberInitExt") || uses("tracing_subscriber::prelude")))
            {
                TRACING
            } else if root.starts_with("env_logger::")
                || root.starts_with("pretty_env_logger::")
                || (root.starts_with("Builder::") && uses("env_logger"))
            {
                LOG
            } else {
                continue;
            };
            found.push(Init {
                service: file.service,
                file: id,
                at: name.syntax().text_range().start(),
                kind,
                edits: Some(vec![
                    (name.syntax().text_range(), "try_init".into()),
                    (
                        TextRange::empty(call.syntax().text_range().end()),
                        ".ok()".into(),
                    ),
                ]),
            });
        }
    }
    found
}

/// A free function that initialises a logger: `init`-like functions, which have
/// a `try_` form, or `set_*` functions returning a `Result` the caller unwraps.
fn call_init(group: &Group, (service, file, call, path): &Call) -> Option<Init> {
    let path = path.trim_start_matches("::");
    let uses = |krate: &str| group.file(*file).text.contains(krate);
    let (prefix, function) = path.rsplit_once("::").unwrap_or(("", path));
    let init_fn = function == "init" || function.starts_with("init_");
    let kind = match prefix {
        "tracing_subscriber::fmt" if init_fn => TRACING,
        "fmt" if init_fn && uses("tracing_subscriber") => TRACING,
        "env_logger" | "pretty_env_logger" if init_fn => LOG,
        _ if function == "set_global_default" && uses("tracing") => TRACING,
        _ if ["set_logger", "set_boxed_logger"].contains(&function) && uses("log") => LOG,
        _ => return None,
    };
    let ast::Expr::PathExpr(callee) = call.expr()? else {
        return None;
    };
    let segment = callee.path()?.segment()?;
    let edits = if init_fn {
        Some(vec![
            (segment.syntax().text_range(), format!("try_{function}")),
            (
                TextRange::empty(call.syntax().text_range().end()),
                ".ok()".into(),
            ),
        ])
    } else {
        unwrapped_result(call)
    };
    Some(Init {
        service: *service,
        file: *file,
        at: call.syntax().text_range().start(),
        kind,
        edits,
    })
}

/// For a call returning `Result<(), E>`: the edits that ignore its error where
/// it is unwrapped in a statement (`call.expect(..);`, `call.unwrap();`,
/// `call?;`, also through `.map(..)` or `.map_err(..)`) so that it reads
/// `call.ok();`; no edits when the caller handles the error itself; `None` when
/// it is unwrapped where its value is used.
fn unwrapped_result(call: &ast::CallExpr) -> Option<Vec<(TextRange, String)>> {
    let mut expr = call.syntax().clone();
    loop {
        let Some(parent) = expr.parent() else {
            return Some(Vec::new());
        };
        if let Some(method) = ast::MethodCallExpr::cast(parent.clone()) {
            let name = method.name_ref()?;
            match name.text().to_string().as_str() {
                "map" | "map_err" | "inspect_err" => expr = parent,
                "expect" | "unwrap" => {
                    statement(method.syntax())?;
                    let range = TextRange::new(
                        name.syntax().text_range().start(),
                        method.syntax().text_range().end(),
                    );
                    return Some(vec![(range, "ok()".into())]);
                }
                _ => return Some(Vec::new()),
            }
        } else if let Some(try_expr) = ast::TryExpr::cast(parent.clone()) {
            statement(try_expr.syntax())?;
            let mark = try_expr.question_mark_token()?;
            return Some(vec![(mark.text_range(), ".ok()".into())]);
        } else {
            return Some(Vec::new());
        }
    }
}

/// `Some` when `node` is an expression statement ending in `;` (its value unused).
fn statement(node: &ra_ap_syntax::SyntaxNode) -> Option<()> {
    let stmt = ast::ExprStmt::cast(node.parent()?)?;
    stmt.semicolon_token().map(|_| ())
}

/// `text` without whitespace.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect()
}

fn is_ident(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || c == '_')
}
