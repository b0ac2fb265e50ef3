//! Runtimes a service builds for itself: a `fn main` that builds a tokio
//! runtime and calls `block_on`, and the settings a `main` asks of its runtime
//! (the builder's methods, or `#[tokio::main(..)]`'s arguments).

use ra_ap_syntax::ast::{self, HasArgList, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, SyntaxKind, SyntaxNode, TextRange};

use crate::edit::code_range;
use knit_codegen::names::runtime::SERVICE_HOST;

/// What a service's `main` asks of its tokio runtime.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeSettings {
    /// `current_thread` or `multi_thread`, when `main` says.
    pub flavor: Option<String>,
    /// `worker_threads(n)`: the expression as written, and its value when it is
    /// integer arithmetic on literals.
    pub worker_threads: Option<(String, Option<u64>)>,
    /// `thread_stack_size(n)`, as `worker_threads`.
    pub thread_stack_size: Option<(String, Option<u64>)>,
    /// Other builder calls (`enable_io()`, `thread_name("x")`), as written: the
    /// host's runtime enables every driver and keeps its own names.
    pub others: Vec<String>,
}

impl RuntimeSettings {
    /// The settings in words, for the report (`worker_threads(2), enable_io()`).
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(flavor) = &self.flavor {
            parts.push(flavor.clone());
        }
        if let Some((text, _)) = &self.worker_threads {
            parts.push(format!("worker_threads({text})"));
        }
        if let Some((text, _)) = &self.thread_stack_size {
            parts.push(format!("thread_stack_size({text})"));
        }
        parts.extend(self.others.iter().cloned());
        parts.join(", ")
    }

    /// The standalone binary's runtime: `#[tokio::main]` with the settings whose
    /// values are known, or a builder when a stack size must be kept.
    pub(crate) fn standalone(&self) -> Standalone {
        let workers = self.worker_threads.as_ref().and_then(|(_, v)| *v);
        let current = self.flavor.as_deref() == Some("current_thread");
        match self.thread_stack_size.as_ref().and_then(|(_, v)| *v) {
            Some(stack) => {
                let mut chain = if current {
                    "tokio::runtime::Builder::new_current_thread()".to_string()
                } else {
                    "tokio::runtime::Builder::new_multi_thread()".to_string()
                };
                if let (Some(n), false) = (workers, current) {
                    chain.push_str(&format!(".worker_threads({n})"));
                }
                chain.push_str(&format!(".thread_stack_size({stack}).enable_all()"));
                Standalone::Builder(chain)
            }
            None => {
                let mut args = Vec::new();
                if current {
                    args.push("flavor = \"current_thread\"".to_string());
                } else if let Some(n) = workers {
                    args.push(format!("flavor = \"multi_thread\", worker_threads = {n}"));
                }
                if args.is_empty() {
                    Standalone::Attr("#[tokio::main]".into())
                } else {
                    Standalone::Attr(format!("#[tokio::main({})]", args.join(", ")))
                }
            }
        }
    }
}

/// How the standalone binary starts its runtime.
pub(crate) use knit_codegen::mains::StandaloneRuntime as Standalone;

/// The settings of `#[tokio::main(flavor = "..", worker_threads = n)]`.
pub(crate) fn attr_settings(attr: &ast::Attr) -> RuntimeSettings {
    let mut settings = RuntimeSettings::default();
    let text = attr.syntax().text().to_string();
    let Some((_, args)) = text.split_once('(') else {
        return settings;
    };
    let args = args.trim_end_matches(']').trim_end().trim_end_matches(')');
    for pair in args.split(',') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "flavor" => settings.flavor = Some(value.trim_matches('"').to_string()),
            "worker_threads" => {
                settings.worker_threads = Some((value.to_string(), int(value)));
            }
            _ => settings.others.push(pair.trim().to_string()),
        }
    }
    settings
}

/// A `main` that builds its runtime: the edits that remove the runtime and
/// await the futures it ran, and the runtime's settings.
pub(crate) struct ManualRuntime {
    /// (range of the file, replacement).
    pub edits: Vec<(TextRange, String)>,
    pub settings: RuntimeSettings,
    /// The first `block_on` call.
    pub block_on: TextRange,
}

const BUILDS: &[&str] = &[
    "runtime::Builder",
    "Runtime::new",
    "Builder::new_multi_thread",
    "Builder::new_current_thread",
];

fn builds(text: &str) -> bool {
    BUILDS.iter().any(|b| text.contains(b))
}

/// The runtime `body` builds and runs its futures on; `Ok(None)` when it builds
/// none, `Err` when it uses the runtime for more than `block_on`.
///
/// The runtime is a `let` whose initializer builds one (with the `let`s and
/// statements that configure it: `let mut b = Builder::new_multi_thread();
/// b.worker_threads(2);`), or a chain ending in `.block_on(..)`. Every
/// `RT.block_on(f)` becomes `f.await`.
pub(crate) fn manual_runtime(body: &ast::BlockExpr) -> Result<Option<ManualRuntime>, String> {
    // Names `block_on` is called on (`rt.block_on(..)`): bound to a runtime,
    // whatever builds it (`let rt = setup_runtime()?;`, a helper of the
    // repository's own).
    let block_on_receivers: Vec<String> = body
        .syntax()
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .filter(|c| c.name_ref().is_some_and(|n| n.text() == "block_on"))
        .filter_map(|c| match c.receiver()? {
            ast::Expr::PathExpr(p) => Some(p.syntax().text().to_string()),
            _ => None,
        })
        .collect();
    // Runtimes, and builders not built yet (whose configuring statements go too).
    let mut vars: Vec<String> = Vec::new();
    let mut builders: Vec<String> = Vec::new();
    let mut removed: Vec<SyntaxNode> = Vec::new();
    for stmt in body.statements() {
        let text = stmt.syntax().text().to_string();
        if text.contains("block_on") {
            continue;
        }
        let mentions = |text: &str| vars.iter().any(|v| mentions_name(text, v));
        match &stmt {
            ast::Stmt::LetStmt(l) => {
                let Some(init) = l.initializer() else {
                    continue;
                };
                let init = init.syntax().text().to_string();
                let runs = match l.pat() {
                    Some(ast::Pat::IdentPat(p)) => p
                        .name()
                        .is_some_and(|n| block_on_receivers.iter().any(|r| *r == n.text())),
                    _ => false,
                };
                if !builds(&init) && !mentions(&init) && !runs {
                    continue;
                }
                let Some(ast::Pat::IdentPat(pat)) = l.pat() else {
                    return Err(format!(
                        "the runtime is bound by `{}`: a tokio runtime built in `main` is lifted when it is bound to a name (`let rt = ..`)",
                        l.pat().map(|p| p.syntax().to_string()).unwrap_or_default()
                    ));
                };
                let name = pat.name().map(|n| n.text().to_string()).unwrap_or_default();
                if builds(&init) && !init.contains(".build()") && !init.contains("Runtime::new") {
                    builders.push(name.clone());
                }
                vars.push(name);
                removed.push(stmt.syntax().clone());
            }
            ast::Stmt::ExprStmt(_) if root_var(&text).is_some_and(|v| builders.contains(&v)) => {
                removed.push(stmt.syntax().clone());
            }
            _ => {}
        }
    }
    let mut edits = Vec::new();
    let mut first = None;
    let mut receivers: Vec<SyntaxNode> = Vec::new();
    for call in body
        .syntax()
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .filter(|c| c.name_ref().is_some_and(|n| n.text() == "block_on"))
    {
        let (Some(receiver), Some(future)) = (
            call.receiver(),
            call.arg_list().and_then(|a| a.args().next()),
        ) else {
            continue;
        };
        let text = receiver.syntax().text().to_string();
        // `b.enable_all().build()?.block_on(..)` on a builder `b` of `main`.
        let built_from_builder = root_var(&text).is_some_and(|r| builders.contains(&r));
        let ours = builds(&text) || vars.iter().any(|v| text.trim() == v) || built_from_builder;
        if !ours {
            continue;
        }
        let (range, future) = (call.syntax().text_range(), future.syntax().text_range());
        first.get_or_insert(range);
        edits.push((TextRange::new(range.start(), future.start()), String::new()));
        edits.push((TextRange::new(future.end(), range.end()), ".await".into()));
        receivers.push(receiver.syntax().clone());
    }
    let Some(block_on) = first else {
        return Ok(None);
    };
    // Any other use of the runtime would name what is removed.
    let inside = |node: &SyntaxNode, of: &[SyntaxNode]| {
        of.iter()
            .any(|o| o.text_range().contains_range(node.text_range()))
    };
    // A builder configured where knit does not remove it (`if let Some(n) = ..
    // { b.max_blocking_threads(n); }`) stays, with its statements: a builder
    // starts nothing until built.
    let kept: Vec<String> = builders
        .iter()
        .filter(|b| {
            body.syntax()
                .descendants()
                .filter_map(ast::NameRef::cast)
                .any(|n| {
                    n.text() == b.as_str()
                        && !inside(n.syntax(), &removed)
                        && !inside(n.syntax(), &receivers)
                })
        })
        .cloned()
        .collect();
    let mut settings = RuntimeSettings::default();
    for stmt in &removed {
        read_settings(stmt, &mut settings);
    }
    removed.retain(|stmt| {
        let text = stmt.to_string();
        !kept.iter().any(|b| {
            root_var(&text).as_ref() == Some(b)
                || ast::LetStmt::cast(stmt.clone())
                    .and_then(|l| match l.pat()? {
                        ast::Pat::IdentPat(p) => p.name(),
                        _ => None,
                    })
                    .is_some_and(|n| n.text() == b.as_str())
        })
    });
    for name in body.syntax().descendants().filter_map(ast::NameRef::cast) {
        let text = name.text().to_string();
        if kept.contains(&text) {
            continue;
        }
        if vars.contains(&text)
            && !inside(name.syntax(), &removed)
            && !inside(name.syntax(), &receivers)
        {
            return Err(format!(
                "the runtime `{text}` is used for more than `{text}.block_on(..)`: a tokio runtime built in `main` is lifted when `block_on` is all it does"
            ));
        }
    }
    for stmt in &removed {
        let mut range = code_range(stmt);
        if let Some(ws) = stmt
            .next_sibling_or_token()
            .filter(|t| t.kind() == SyntaxKind::WHITESPACE)
        {
            range = TextRange::new(range.start(), ws.text_range().end());
        }
        edits.push((range, String::new()));
    }
    for node in &receivers {
        read_settings(node, &mut settings);
    }
    Ok(Some(ManualRuntime {
        edits,
        settings,
        block_on,
    }))
}

/// The runtime `main` builds: in its body ([`manual_runtime`]), or in a
/// function of its file it calls ([`delegated_runtime`], passed `host`).
pub(crate) fn main_runtime(
    main: &ast::Fn,
    host: Option<&str>,
) -> Result<Option<ManualRuntime>, String> {
    if let Some(manual) = main
        .body()
        .map(|b| manual_runtime(&b))
        .transpose()?
        .flatten()
    {
        return Ok(Some(manual));
    }
    delegated_runtime(main, host)
}

/// A `main` that builds no runtime itself but calls a function of its file
/// that does (`fn main() { if let Err(e) = run() { .. } }` with `fn run() {
/// let rt = ..; rt.block_on(serve()) }`): that function, the service's code
/// as much as `main`'s body is.
pub(crate) fn delegate(main: &ast::Fn) -> Option<ast::Fn> {
    let body = main.body()?;
    if manual_runtime(&body).ok().flatten().is_some() {
        return None;
    }
    let file = main.syntax().ancestors().find_map(ast::SourceFile::cast)?;
    let called = calls_of_local_fns(&body);
    file.items()
        .filter_map(|item| match item {
            ast::Item::Fn(f) => Some(f),
            _ => None,
        })
        .find(|f| {
            let name = f.name().map(|n| n.text().to_string());
            f.async_token().is_none()
                && name.as_deref().is_some_and(|n| n != "main")
                && called.iter().any(|(n, _)| Some(n) == name.as_ref())
                && f.body()
                    .is_some_and(|b| manual_runtime(&b).ok().flatten().is_some())
        })
}

/// The calls in `body` of a function by a plain name (`run(..)`), with that name.
fn calls_of_local_fns(body: &ast::BlockExpr) -> Vec<(String, ast::CallExpr)> {
    body.syntax()
        .descendants()
        .filter_map(ast::CallExpr::cast)
        .filter_map(|call| {
            let ast::Expr::PathExpr(p) = call.expr()? else {
                return None;
            };
            let path = p.path()?;
            if path.qualifier().is_some() {
                return None;
            }
            let name = path.segment()?.name_ref()?.text().to_string();
            Some((name, call))
        })
        .collect()
}

/// The runtime of [`delegate`]'s function, made async: its runtime goes as in
/// `main`, and `main` awaits its calls. With `host`, the function also takes
/// `main`'s host parameter (`knit_host`), for the serves and registrations
/// the entry rewrites in it. `Err` when knit cannot make it async.
fn delegated_runtime(main: &ast::Fn, host: Option<&str>) -> Result<Option<ManualRuntime>, String> {
    let (Some(f), Some(body)) = (delegate(main), main.body()) else {
        return Ok(None);
    };
    let Some(inner) = f.body().map(|b| manual_runtime(&b)).transpose()?.flatten() else {
        return Ok(None);
    };
    let name = f.name().map(|n| n.text().to_string()).unwrap_or_default();
    if f.unsafe_token().is_some() || f.const_token().is_some() || f.abi().is_some() {
        return Err(format!(
            "`fn main` runs its service through `{name}`, which builds a tokio runtime: knit makes `{name}` async, which it cannot be as written (`unsafe`, `const` or `extern`)"
        ));
    }
    // Named elsewhere too, it would hand those callers a future.
    let file = main.syntax().ancestors().find_map(ast::SourceFile::cast);
    let elsewhere = file
        .iter()
        .flat_map(|f| f.syntax().descendants())
        .filter_map(ast::NameRef::cast)
        .any(|n| {
            n.text() == name.as_str()
                && !body
                    .syntax()
                    .text_range()
                    .contains_range(n.syntax().text_range())
        });
    if elsewhere {
        return Err(format!(
            "`fn main` runs its service through `{name}`, which builds a tokio runtime, and `{name}` is named outside `main` too: knit makes it async, which those uses would not expect; call it from `main` only"
        ));
    }
    let fn_kw = f.fn_token().ok_or("a function without `fn`")?;
    let mut edits = vec![(
        TextRange::empty(fn_kw.text_range().start()),
        "async ".to_string(),
    )];
    edits.extend(inner.edits);
    if let (Some(host), Some(params)) = (host, f.param_list()) {
        let close = params
            .r_paren_token()
            .ok_or("a parameter list without `)`")?;
        let comma = if params.params().next().is_some() || params.self_param().is_some() {
            ", "
        } else {
            ""
        };
        edits.push((
            TextRange::empty(close.text_range().start()),
            format!("{comma}{host}: &'static {SERVICE_HOST}"),
        ));
    }
    for (_, call) in calls_of_local_fns(&body)
        .into_iter()
        .filter(|(n, _)| *n == name)
    {
        if let (Some(host), Some(args)) = (host, call.arg_list()) {
            let close = args.r_paren_token().ok_or("a call without `)`")?;
            let comma = if args.args().next().is_some() {
                ", "
            } else {
                ""
            };
            edits.push((
                TextRange::empty(close.text_range().start()),
                format!("{comma}{host}"),
            ));
        }
        edits.push((
            TextRange::empty(call.syntax().text_range().end()),
            ".await".into(),
        ));
    }
    Ok(Some(ManualRuntime {
        edits,
        settings: inner.settings,
        block_on: inner.block_on,
    }))
}

/// Whether `text` names `name` as a whole word.
fn mentions_name(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        !text[..at].ends_with(word) && !text[at + name.len()..].starts_with(word)
    })
}

/// `b` for a statement `b.method(..)..;`.
fn root_var(text: &str) -> Option<String> {
    let (head, _) = text.split_once('.')?;
    let head = head.trim();
    (!head.is_empty() && head.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then(|| head.to_string())
}

/// Adds the builder calls under `node` to `settings`.
fn read_settings(node: &SyntaxNode, settings: &mut RuntimeSettings) {
    let mut calls: Vec<ast::MethodCallExpr> = node
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .collect();
    // In a chain, the call made first ends first.
    calls.sort_by_key(|c| c.syntax().text_range().end());
    for path in node.descendants().filter_map(ast::PathSegment::cast) {
        match path.syntax().text().to_string().as_str() {
            "new_current_thread" => settings.flavor = Some("current_thread".into()),
            "new_multi_thread" => settings.flavor = Some("multi_thread".into()),
            _ => {}
        }
    }
    for call in calls {
        let Some(name) = call.name_ref().map(|n| n.text().to_string()) else {
            continue;
        };
        let args = call
            .arg_list()
            .map(|a| a.syntax().text().to_string())
            .unwrap_or_default();
        let arg = || {
            let inner = args.trim_start_matches('(').trim_end_matches(')').trim();
            let value = call.arg_list().and_then(|a| a.args().next()).and_then(eval);
            (inner.to_string(), value)
        };
        match name.as_str() {
            "worker_threads" => settings.worker_threads = arg().into(),
            "thread_stack_size" => settings.thread_stack_size = arg().into(),
            "build" | "enable_all" | "unwrap" | "expect" | "block_on" => {}
            _ => settings.others.push(format!("{name}{args}")),
        }
    }
}

/// The value of integer arithmetic on literals (`32 * 1024 * 1024`, `1 << 20`).
fn eval(expr: ast::Expr) -> Option<u64> {
    match expr {
        ast::Expr::Literal(l) => int(&l.syntax().text().to_string()),
        ast::Expr::ParenExpr(p) => eval(p.expr()?),
        ast::Expr::BinExpr(b) => {
            let (l, r) = (eval(b.lhs()?)?, eval(b.rhs()?)?);
            match b.op_token()?.text() {
                "*" => l.checked_mul(r),
                "+" => l.checked_add(r),
                "-" => l.checked_sub(r),
                "<<" => l.checked_shl(u32::try_from(r).ok()?),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An integer literal's value (`1_024`, `4usize`, `0x10`).
fn int(text: &str) -> Option<u64> {
    let text: String = text.chars().filter(|c| *c != '_').collect();
    let (radix, digits) = match text.get(..2) {
        Some("0x") => (16, &text[2..]),
        Some("0o") => (8, &text[2..]),
        Some("0b") => (2, &text[2..]),
        _ => (10, text.as_str()),
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    u64::from_str_radix(&digits[..end], radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(main: &str) -> (RuntimeSettings, String) {
        let file = ast::SourceFile::parse(main, ra_ap_syntax::Edition::CURRENT).tree();
        let f = file.syntax().descendants().find_map(ast::Fn::cast).unwrap();
        match manual_runtime(&f.body().unwrap()) {
            Ok(Some(m)) => (m.settings, String::new()),
            Ok(None) => (RuntimeSettings::default(), "none".into()),
            Err(e) => (RuntimeSettings::default(), e),
        }
    }

    #[test]
    fn reads_builder_settings() {
        let (s, _) = settings(
            "fn main() { tokio::runtime::Builder::new_multi_thread().worker_threads(4).thread_stack_size(32 * 1024 * 1024).enable_io().enable_time().build().unwrap().block_on(run()) }",
        );
        assert_eq!(s.worker_threads, Some(("4".into(), Some(4))));
        assert_eq!(
            s.thread_stack_size,
            Some(("32 * 1024 * 1024".into(), Some(32 << 20)))
        );
        assert_eq!(s.flavor.as_deref(), Some("multi_thread"));
        assert_eq!(s.others, ["enable_io()", "enable_time()"]);
        let (s, _) = settings(
            "fn main() { let mut b = Builder::new_current_thread(); b.thread_stack_size(STACK); let rt = b.enable_all().build()?; rt.block_on(run()) }",
        );
        assert_eq!(s.thread_stack_size, Some(("STACK".into(), None)));
        assert_eq!(s.flavor.as_deref(), Some("current_thread"));
    }

    #[test]
    fn a_builder_configured_conditionally_stays_and_block_on_is_awaited() {
        let main = "fn main() {\n    let opts = Opts::parse();\n    let mut rt = if opts.one { tokio::runtime::Builder::new_current_thread() } else { tokio::runtime::Builder::new_multi_thread() };\n    if let Some(n) = opts.blocking { rt.max_blocking_threads(n); }\n    rt.enable_all().build().expect(\"runtime\").block_on(run(opts))\n}";
        let file = ast::SourceFile::parse(main, ra_ap_syntax::Edition::CURRENT).tree();
        let f = file.syntax().descendants().find_map(ast::Fn::cast).unwrap();
        let m = manual_runtime(&f.body().unwrap()).unwrap().unwrap();
        let mut text = main.to_string();
        let mut edits = m.edits.clone();
        edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start()));
        for (range, with) in edits {
            text.replace_range(std::ops::Range::<usize>::from(range), &with);
        }
        assert_eq!(
            text,
            "fn main() {\n    let opts = Opts::parse();\n    let mut rt = if opts.one { tokio::runtime::Builder::new_current_thread() } else { tokio::runtime::Builder::new_multi_thread() };\n    if let Some(n) = opts.blocking { rt.max_blocking_threads(n); }\n    run(opts).await\n}"
        );
    }

    #[test]
    fn refuses_a_runtime_used_for_more() {
        let (_, e) = settings(
            "fn main() { let rt = Runtime::new().unwrap(); rt.spawn(x()); rt.block_on(run()) }",
        );
        assert!(e.contains("the runtime `rt` is used for more"), "{e}");
        let (_, none) = settings("fn main() { run() }");
        assert_eq!(none, "none");
    }
}
