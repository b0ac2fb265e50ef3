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
use ra_ap_syntax::{AstNode, SyntaxKind, TextRange, TextSize};

use crate::edit::{Level, NewFile, Output, code_range};
use crate::manifest::ManifestOp;
use crate::model::{FileId, Group, parent_dir, relative_path};
use crate::names::{Mention, Role, Usage};
use crate::namespace;
use crate::sharing::Sharing;

const PASS: &str = "entry";

/// The name of the lifted entry.
pub const ENTRY: &str = "knit_entry";

/// The top-level `fn main` of `service`'s binary.
pub fn main_fn(group: &Group, service: usize) -> Option<ast::Fn> {
    let root = group.file(group.services[service].bin.root).rust.as_ref()?;
    root.parse.tree().items().find_map(|item| match item {
        ast::Item::Fn(f) if f.name().is_some_and(|n| n.text() == "main") => Some(f),
        _ => None,
    })
}

/// Whether `mention` is inside the body of `service`'s `fn main`.
pub fn in_main(group: &Group, service: usize, mention: &Mention) -> bool {
    mention.file == group.services[service].bin.root
        && main_fn(group, service)
            .and_then(|f| f.body())
            .is_some_and(|body| body.syntax().text_range().contains_range(mention.path))
}

/// Whether `service`'s `fn main` adds tower layers to a server builder: calls
/// in process would not pass through them.
pub fn server_layers(group: &Group, service: usize) -> bool {
    let Some(body) = main_fn(group, service).and_then(|f| f.body()) else {
        return false;
    };
    body.syntax()
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .any(|call| call.name_ref().is_some_and(|n| n.text() == "layer"))
}

/// The `tokio::main` attribute of `f`; `None` when `f` has no runtime attribute.
fn runtime_attr(f: &ast::Fn) -> Result<Option<ast::Attr>, String> {
    for attr in f.attrs() {
        let Some(path) = attr.path() else { continue };
        let text = path.syntax().text().to_string().replace(' ', "");
        if text == "tokio::main" {
            return Ok(Some(attr));
        }
        if text.ends_with("::main") {
            return Err(format!(
                "`#[{text}]` mains are not supported yet: only `#[tokio::main]` or a tokio runtime built in `main`"
            ));
        }
    }
    Ok(None)
}

/// A `main` that builds its runtime by hand: the `let` that builds it (if
/// apart) and the `block_on(future)` call that runs the service.
struct ManualRuntime {
    builder: Option<ast::LetStmt>,
    block_on: ast::MethodCallExpr,
    future: ast::Expr,
}

fn manual_runtime(body: &ast::BlockExpr) -> Option<ManualRuntime> {
    let block_on = body
        .syntax()
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .find(|c| c.name_ref().is_some_and(|n| n.text() == "block_on"))?;
    let future = block_on.arg_list()?.args().next()?;
    let builds = |text: &str| {
        [
            "runtime::Builder",
            "Runtime::new",
            "Builder::new_multi_thread",
            "Builder::new_current_thread",
        ]
        .iter()
        .any(|b| text.contains(b))
    };
    let receiver = block_on.receiver()?.syntax().text().to_string();
    let builder = if builds(&receiver) {
        None
    } else {
        let stmt = body.statements().find_map(|s| match s {
            ast::Stmt::LetStmt(l)
                if l.initializer()
                    .is_some_and(|i| builds(&i.syntax().text().to_string())) =>
            {
                Some(l)
            }
            _ => None,
        })?;
        Some(stmt)
    };
    Some(ManualRuntime {
        builder,
        block_on,
        future,
    })
}

pub fn run(group: &Group, sharing: &Sharing) -> Output {
    let mut out = Output::default();
    for index in 0..group.services.len() {
        if let Err(message) = lift(group, sharing, index, &mut out) {
            let root = group.services[index].bin.root;
            let at = main_fn(group, index).map_or(0.into(), |f| f.syntax().text_range().start());
            out.finding(PASS, Level::Error, Some((root, at)), message);
        }
    }
    out
}

fn lift(group: &Group, sharing: &Sharing, index: usize, out: &mut Output) -> Result<(), String> {
    let service = &group.services[index];
    let package = &service.packages[0];
    let root = service.bin.root;
    let root_path = &group.file(root).path;
    let main = main_fn(group, index)
        .ok_or_else(|| format!("service `{}`: no `fn main` in {root_path}", service.name))?;
    if package.has_lib {
        return Err(format!(
            "package `{}` has a library target besides its binary: lifting `main` there is not supported yet",
            package.name
        ));
    }
    let attr = runtime_attr(&main)?;
    let params = main
        .param_list()
        .ok_or("`fn main` without a parameter list")?;
    if params.params().next().is_some() || params.self_param().is_some() {
        return Err("`fn main` with parameters".into());
    }
    let body = main.body().ok_or("`fn main` without a body")?;

    // The signature: drop the runtime attribute, export the entry, take the host.
    let standalone_attr = match (&attr, main.async_token()) {
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
            if main.visibility().is_none() {
                out.edit(
                    PASS,
                    root,
                    TextRange::empty(async_kw.text_range().start()),
                    "pub ",
                    "entry is exported",
                );
            }
            attr.syntax().text().to_string()
        }
        (Some(_), None) => return Err("`#[tokio::main]` on a function that is not `async`".into()),
        (None, _) => {
            let manual = manual_runtime(&body).ok_or(
                "`fn main` is neither `#[tokio::main] async fn main` nor builds a tokio runtime and calls `block_on`: not supported yet",
            )?;
            let fn_kw = main.fn_token().ok_or("`fn main` without `fn`")?;
            let export = if main.visibility().is_none() {
                "pub async "
            } else {
                "async "
            };
            out.edit(
                PASS,
                root,
                TextRange::empty(fn_kw.text_range().start()),
                export,
                "entry is exported, async",
            );
            if let Some(builder) = &manual.builder {
                let mut range = code_range(builder.syntax());
                if let Some(ws) = builder
                    .syntax()
                    .next_sibling_or_token()
                    .filter(|t| t.kind() == SyntaxKind::WHITESPACE)
                {
                    range = TextRange::new(range.start(), ws.text_range().end());
                }
                out.edit(
                    PASS,
                    root,
                    range,
                    "",
                    "runtime built in `main`: the host owns the runtime",
                );
            }
            let (call, future) = (
                manual.block_on.syntax().text_range(),
                manual.future.syntax().text_range(),
            );
            let note = "`block_on(future)` becomes `future.await`";
            out.edit(
                PASS,
                root,
                TextRange::new(call.start(), future.start()),
                "",
                note,
            );
            out.edit(
                PASS,
                root,
                TextRange::new(future.end(), call.end()),
                ".await",
                note,
            );
            out.finding(PASS, Level::Note, Some((root, call.start())), format!(
                "service `{}` built its own tokio runtime in `main`: merged, the host's runtime runs it; alone, `#[tokio::main]`",
                service.name
            ));
            "#[tokio::main]".to_string()
        }
    };
    let name = main.name().unwrap();
    out.edit(
        PASS,
        root,
        name.syntax().text_range(),
        ENTRY,
        "`main` lifted to the service entry",
    );
    out.edit(
        PASS,
        root,
        params.syntax().text_range(),
        "(knit_host: &'static knit_runtime::ServiceHost)",
        "entry takes its host",
    );

    // The body: serve on the host's listener, register handlers called in process.
    let mut served = false;
    for call in body
        .syntax()
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
    {
        served |= rewrite_serve(&call, &|r| r, root, out);
    }
    // Servers run side by side in `tokio::join!(..)` / `try_join!(..)`: their
    // tokens are parsed as expressions of their own.
    for mac in body.syntax().descendants().filter_map(ast::MacroCall::cast) {
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
        let parsed = ast::SourceFile::parse(
            &format!("{WRAP}{{{}}}", &text[1..text.len() - 1]),
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
            served |= rewrite_serve(&call, &shift, root, out);
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
    for m in &sharing.index.mentions {
        if m.service != index
            || m.named.role != Role::Server
            || sharing.provider_of(&m.named) != Some(index)
        {
            continue;
        }
        let Usage::Call {
            method,
            method_range,
            args,
            ..
        } = &m.usage
        else {
            continue;
        };
        if !in_main(group, index, m) {
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
                let provide = format!("{inline}::provide(&knit_host, ");
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
                    "&knit_host, ",
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

    // The package: a library rooted at the lifted file, and the standalone binary.
    let lib_path = relative_path(&package.dir, root_path);
    let bin_file = format!("{}/knit_main.rs", parent_dir(root_path));
    let bin_path = relative_path(&package.dir, &bin_file);
    let runtime = relative_path(&package.dir, "knit/runtime");
    for op in [
        ManifestOp::NoAutobins,
        ManifestOp::SetLibPath { path: lib_path },
        ManifestOp::AddBin {
            name: service.bin.name.clone(),
            path: bin_path,
        },
        ManifestOp::AddPathDependency {
            key: "knit-runtime".into(),
            path: runtime,
        },
    ] {
        out.manifest_ops.push((package.manifest, op));
    }
    out.new_files.push(NewFile {
        path: bin_file,
        text: standalone_main(
            &service.name,
            &namespace::crate_name(&service.name, &package.name),
            &standalone_attr,
            root_path,
        ),
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

/// Rewrites a tonic `serve*` call so that the host owns the listener (unless
/// the service brings its own incoming stream) and the shutdown signal.
///
/// `shift` maps ranges of `call`'s tree to the file (calls inside a macro's
/// tokens are parsed on their own).
fn rewrite_serve(
    call: &ast::MethodCallExpr,
    shift: &dyn Fn(TextRange) -> TextRange,
    root: FileId,
    out: &mut Output,
) -> bool {
    let Some(name) = call.name_ref() else {
        return false;
    };
    let args: Vec<TextRange> = call
        .arg_list()
        .map(|l| l.args().map(|a| shift(a.syntax().text_range())).collect())
        .unwrap_or_default();
    let method = name.text().to_string();
    let (listener, signal) = match (method.as_str(), args.as_slice()) {
        ("serve", [addr]) => (Some(*addr), None),
        ("serve_with_shutdown", [addr, signal]) => (Some(*addr), Some(*signal)),
        ("serve_with_incoming", [_]) => (None, None),
        ("serve_with_incoming_shutdown", [_, signal]) => (None, Some(*signal)),
        _ => return false,
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
    if let Some(addr) = listener {
        edit(
            TextRange::empty(addr.start()),
            "knit_host.incoming(",
            "serve on the host's listener",
        );
        edit(
            TextRange::empty(addr.end()),
            ")",
            "serve on the host's listener",
        );
    }
    match signal {
        Some(signal) => {
            edit(
                TextRange::empty(signal.start()),
                "knit_host.shutdown_with(",
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
                ", knit_host.shutdown()",
                "stop on the host's shutdown",
            );
        }
    }
    if listener.is_none() {
        let at = Some((root, shift(call.syntax().text_range()).start()));
        out.finding(
            PASS,
            Level::Note,
            at,
            "serves its own incoming stream: the plan's `listen = false` cannot turn it off",
        );
    }
    true
}

fn standalone_main(service: &str, lib: &str, attr: &str, lifted_from: &str) -> String {
    format!(
        "//! The standalone binary of service `{service}`: runs the entry knit lifted from\n\
         //! `fn main` in {lifted_from}, alone, with its own listener. Generated by knit.\n\
         \n\
         {attr}\n\
         async fn main() -> std::process::ExitCode {{\n    \
             let host = knit_runtime::ServiceHost::standalone(\"{service}\");\n    \
             knit_runtime::exit({lib}::{ENTRY}(host).await)\n\
         }}\n"
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::fixture::{GREETER, check};

    fn service(main_rs: &str) -> String {
        format!("//- /svc/Cargo.toml\n[package]\nname = \"svc\"\n//- /svc/src/main.rs\n{main_rs}")
    }

    #[test]
    fn lifts_tokio_main_and_keeps_the_binary() {
        let out = check(&service(
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
        ));
        expect![[r#"
            //- /svc/Cargo.toml
            [package]
            name = "svc-svc"
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

    #[test]
    fn registers_handlers_the_group_calls() {
        let out = check(&crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        ));
        expect![[r#"
            //- /greeter/src/main.rs
            use hello_world::greeter_server::{Greeter, GreeterServer};
            pub mod hello_world {
                pub use knit_proto_helloworld::*;
            }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                Server::builder().add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(&knit_host, MyGreeter))).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;
                Ok(())
            }
            Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&out.render("greeter/src/main.rs"));
        let _ = GREETER;
    }

    #[test]
    fn refuses_what_it_cannot_lift() {
        let no_main = check(&service("fn run() {}\n"));
        let actix = check(&service("#[actix_web::main]\nasync fn main() {}\n"));
        let sync = check(&service("fn main() {}\n"));
        let with_lib = check(&format!(
            "{}//- /svc/src/lib.rs\npub fn x() {{}}\n",
            service("#[tokio::main]\nasync fn main() {}\n")
        ));
        let all = [no_main, actix, sync, with_lib]
            .map(|c| c.findings.join("\n"))
            .join("\n");
        expect![[r#"
            Error svc/src/main.rs:1: service `svc`: no `fn main` in svc/src/main.rs
            Error svc/src/main.rs:1: `#[actix_web::main]` mains are not supported yet: only `#[tokio::main]` or a tokio runtime built in `main`
            Error svc/src/main.rs:1: `fn main` is neither `#[tokio::main] async fn main` nor builds a tokio runtime and calls `block_on`: not supported yet
            Error svc/src/main.rs:1: package `svc` has a library target besides its binary: lifting `main` there is not supported yet"#]].assert_eq(&all);
    }

    #[test]
    fn every_serve_shape_gets_the_hosts_shutdown() {
        let out = check(&service(
            r#"#[tokio::main]
async fn main() {
    a.serve_with_shutdown(addr, async { ctrl_c().await.ok(); }).await;
    b.serve_with_incoming(listener).await;
    c.serve_with_incoming_shutdown(listener, signal).await;
}
"#,
        ));
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
    fn servers_side_by_side_in_join() {
        let out = check(&service(
            r#"#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let grpc = Server::builder().add_service(svc).serve(grpc_addr);
    tokio::try_join!(grpc, axum::serve(listener, app))?;
    tokio::join!(Server::builder().add_service(other).serve(addr), http);
    tokio::spawn(async move { Server::builder().serve(addr2).await });
    Ok(())
}
"#,
        ));
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
        let out = check(&service(
            r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two workers are enough.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        Server::builder().add_service(svc).serve(addr).await?;
        Ok(())
    })
}
"#,
        ));
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

            #[tokio::main]
            async fn main() -> std::process::ExitCode {
                let host = knit_runtime::ServiceHost::standalone("svc");
                knit_runtime::exit(svc_svc::knit_entry(host).await)
            }
        "#]].assert_eq(&out.render("svc/src/"));
        let inline = check(&service(
            "fn main() {
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}
",
        ));
        expect![[r#"
            //- /svc/src/main.rs
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                run().await;
            }
        "#]]
        .assert_eq(&inline.render("svc/src/main.rs"));
    }
}
