//! Fixture tests: a provider whose tonic server is built and served in a
//! function `main` reaches through others, in other files of its binary or
//! of its package's library (`scope/deep.rs`).

use expect_test::{Expect, expect};

use crate::fixture::{HELLO_PROTO, check};
use crate::pass::PassId;

/// The caller of every fixture: `frontend` calls `helloworld.Greeter`.
const FRONTEND: &str = "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n";

/// A `greeter` service of the files `files` (`//- /greeter/..` sections:
/// `src/main.rs` and the files it declares), called by `frontend`.
fn provider(files: &str) -> String {
    format!(
        "//- /greeter/Cargo.toml\n[package]\nname = \"greeter\"\nedition = \"2021\"\n//- /greeter/proto/helloworld.proto\n{HELLO_PROTO}{files}//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\nedition = \"2021\"\n//- /frontend/proto/helloworld.proto\n{HELLO_PROTO}//- /frontend/src/main.rs\n{FRONTEND}"
    )
}

/// `main` → `app::run(config)` (app.rs) → `Greeting::serve(..)`, an
/// associated function in grpc.rs that builds and serves the server.
const TWO_CALLS: &str = r#"//- /greeter/src/main.rs
mod app;
mod grpc;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = app::Config::from_env();
    app::run(config).await
}
//- /greeter/src/app.rs
use crate::grpc::Greeting;
pub struct Config { pub addr: std::net::SocketAddr }
pub async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    Greeting::serve(config.addr).await
}
//- /greeter/src/grpc.rs
use tonic::transport::Server;
use crate::hello_world::greeter_server::GreeterServer;
pub struct Greeting;
impl Greeting {
    pub(crate) async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
        Server::builder()
            .add_service(GreeterServer::new(MyGreeter).max_decoding_message_size(1 << 20))
            .serve(addr)
            .await?;
        Ok(())
    }
}
"#;

/// The files of the greeter's source folder `src/<prefix>..` after the
/// entry pass, and its findings.
fn rewritten(files: &str, prefix: &str, expected: Expect) {
    let out = check(PassId::Entry, &provider(files));
    expected.assert_eq(&out.render(&format!("greeter/src/{prefix}")));
}

/// The decision of the frontend's call, without its site.
fn decision(files: &str, expected: Expect) {
    let findings = check(PassId::Calls, &provider(files)).findings;
    let call = findings.iter().find(|f| f.starts_with("Call(")).unwrap();
    expected.assert_eq(call.split_once(": calls to ").unwrap().1);
}

#[test]
fn a_server_built_two_calls_from_main_in_other_files_is_registered() {
    rewritten(
        TWO_CALLS,
        "grpc",
        expect![[r#"
            //- /greeter/src/grpc.rs
            use tonic::transport::Server;
            use crate::hello_world::greeter_server::GreeterServer;
            pub struct Greeting;
            impl Greeting {
                pub(crate) async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
                    Server::builder()
                        .add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), MyGreeter)).max_decoding_message_size(1 << 20))
                        .serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown())
                        .await?;
                    Ok(())
                }
            }
        "#]],
    );
}

#[test]
fn a_server_with_a_layer_in_a_function_of_main_rs_is_stacked() {
    // `main` → `serve(addr)` in its own file, with a tower layer: calls run
    // through the whole server.
    let files = r#"//- /greeter/src/main.rs
use tonic::transport::Server;
use hello_world::greeter_server::GreeterServer;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() {
    serve("0.0.0.0:50051".parse().unwrap()).await;
}
async fn serve(addr: std::net::SocketAddr) {
    let sigterm = async { tokio::signal::ctrl_c().await.ok(); };
    let server = Server::builder()
        .layer(TraceLayer)
        .add_service(GreeterServer::new(MyGreeter));
    server.serve_with_shutdown(addr, sigterm).await.unwrap();
}
"#;
    rewritten(
        files,
        "main",
        expect![[r#"
            //- /greeter/src/main.rs
            use tonic::transport::Server;
            use hello_world::greeter_server::GreeterServer;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn knit_entry(#[allow(unused_variables)] knit_host: &'static knit_runtime::ServiceHost) {
                serve("0.0.0.0:50051".parse().unwrap()).await;
            }
            async fn serve(addr: std::net::SocketAddr) {
                let sigterm = async { tokio::signal::ctrl_c().await.ok(); };
                let server = Server::builder()
                    .layer(TraceLayer)
                    .add_service(knit_runtime::ServiceHost::current().provide_stacked("helloworld.Greeter", GreeterServer::new(MyGreeter)));
                server.serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown_with(sigterm)).await.unwrap();
            }
        "#]],
    );
}

#[test]
fn a_task_the_server_function_spawns_runs_in_the_services_scope() {
    let files = TWO_CALLS
        .replace(
            "        Server::builder()\n",
            "        let task = tokio::spawn(async move { Server::builder()\n",
        )
        .replace(
            "            .await?;\n        Ok(())",
            "            .await });\n        task.await??;\n        Ok(())",
        );
    rewritten(
        &files,
        "grpc",
        expect![[r#"
            //- /greeter/src/grpc.rs
            use tonic::transport::Server;
            use crate::hello_world::greeter_server::GreeterServer;
            pub struct Greeting;
            impl Greeting {
                pub(crate) async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
                    let task = tokio::spawn(knit_runtime::ServiceHost::current().scope(async move { Server::builder()
                        .add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), MyGreeter)).max_decoding_message_size(1 << 20))
                        .serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown())
                        .await }));
                    task.await??;
                    Ok(())
                }
            }
        "#]],
    );
}

/// A generic function on the way (ibeji's `build_app_server_and_serve<S>(addr,
/// base_service: S)`) is followed as any other: what it serves does not
/// depend on its type parameters.
#[test]
fn a_generic_function_on_the_way_is_followed() {
    let files = TWO_CALLS
        .replace(
            "pub async fn run(config: Config)",
            "pub async fn run<C: Into<Config>>(config: C)",
        )
        .replace(
            "Greeting::serve(config.addr)",
            "Greeting::serve(config.into().addr)",
        );
    decision(
        &files,
        expect![
            "`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
        ],
    );
}

#[test]
fn a_function_named_elsewhere_too_stays_rpc() {
    let files = TWO_CALLS.replace(
        "pub struct Config",
        "pub fn again() { let _ = crate::grpc::Greeting::serve; }\npub struct Config",
    );
    decision(
        &files,
        expect![[r#"
            `helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/grpc.rs:7, in `serve`: `serve` is also named at greeter/src/app.rs:2, outside the calls knit follows from `main`: code reached that way would serve under no host"#]],
    );
}

/// A variable that has a method's name (`let serve = ..`) names no function:
/// a function of an `impl` is named by a path of several segments.
#[test]
fn a_variable_of_a_methods_name_is_no_naming() {
    let files = TWO_CALLS.replace(
        "pub struct Config",
        "pub fn later() { let serve = 1; let _ = serve + 1; }\npub struct Config",
    );
    decision(
        &files,
        expect![
            "`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
        ],
    );
}

/// A function of the binary (`app::run`) is named only in the binary: a
/// `run` of a library the binary depends on, called there, is another one.
#[test]
fn a_function_of_the_same_name_in_a_dependency_is_no_naming() {
    let files = TWO_CALLS.replace(
        "    app::run(config).await\n",
        "    util::tick();\n    app::run(config).await\n",
    ) + "//- /greeter/util/Cargo.toml\n[package]\nname = \"util\"\nedition = \"2021\"\n//- /greeter/util/src/lib.rs\npub fn tick() {}\npub fn later() { steps::run(); }\nmod steps { pub fn run() {} }\n";
    let manifest =
        "name = \"greeter\"\nedition = \"2021\"\n[dependencies]\nutil = { path = \"util\" }\n";
    let fixture =
        provider(&files).replacen("name = \"greeter\"\nedition = \"2021\"\n", manifest, 1);
    let findings = check(PassId::Calls, &fixture).findings;
    let call = findings.iter().find(|f| f.starts_with("Call(")).unwrap();
    expect!["`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"]
        .assert_eq(call.split_once(": calls to ").unwrap().1);
}

/// A naming under a `cfg` the service's build turns off (a mock for tests
/// and a feature no build of the service enables) is no naming: it counts
/// once the package's default features turn the feature on.
#[test]
fn a_function_named_in_code_a_feature_turns_off_is_followed() {
    let files = TWO_CALLS.replace(
        "pub struct Config",
        "#[cfg(any(test, feature = \"mock\"))]\npub fn again() { let _ = crate::grpc::Greeting::serve; }\npub struct Config",
    );
    let call = |features: &str| {
        let fixture = provider(&files).replacen(
            "name = \"greeter\"\nedition = \"2021\"\n",
            &format!("name = \"greeter\"\nedition = \"2021\"\n[features]\n{features}"),
            1,
        );
        let findings = check(PassId::Calls, &fixture).findings;
        let call = findings.iter().find(|f| f.starts_with("Call(")).cloned();
        call.unwrap()
            .split_once(": calls to ")
            .unwrap()
            .1
            .to_string()
    };
    expect!["`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"].assert_eq(&call("mock = []\n"));
    expect!["`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/grpc.rs:7, in `serve`: `serve` is also named at greeter/src/app.rs:3, outside the calls knit follows from `main`: code reached that way would serve under no host"].assert_eq(&call("default = [\"mock\"]\nmock = []\n"));
}

/// A module's own `fn main` (a subcommand's, `app::main(config)`) is
/// followed: `#[tokio::main]` on the binary's names a macro, not it.
#[test]
fn a_modules_main_that_main_calls_is_followed() {
    let files = TWO_CALLS
        .replace(
            "    app::run(config).await\n",
            "    app::main(config).await\n",
        )
        .replace(
            "pub async fn run(config: Config)",
            "pub async fn main(config: Config)",
        );
    decision(
        &files,
        expect![
            "`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
        ],
    );
    // Not called: the reason says where knit stopped, as for any function.
    let files = files
        .replace("    app::main(config).await\n", "    Ok(())\n")
        .replace("async fn serve(", "async fn main(");
    decision(
        &files,
        expect![
            "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/grpc.rs:7, in `main`, which knit does not reach from `fn main`: it follows calls of the functions of the binary and of the libraries it depends on by path, free or associated, by paths it resolves, and of their methods on receivers whose type it tells, made on the entry's task"
        ],
    );
}

#[test]
fn a_server_in_a_function_main_does_not_call_stays_rpc() {
    let files = TWO_CALLS.replace("    app::run(config).await\n", "    Ok(())\n");
    decision(
        &files,
        expect![
            "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/grpc.rs:7, in `serve`, which knit does not reach from `fn main`: it follows calls of the functions of the binary and of the libraries it depends on by path, free or associated, by paths it resolves, and of their methods on receivers whose type it tells, made on the entry's task"
        ],
    );
}

#[test]
fn a_library_run_by_main_serves_two_calls_down() {
    // main.rs → `greeter::run(addr)` (lib.rs) → `grpc::start(addr)` (grpc.rs):
    // the library is the entry's code as a whole.
    let files = r#"//- /greeter/src/main.rs
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::run("0.0.0.0:50051".parse()?).await
}
//- /greeter/src/lib.rs
mod grpc;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
pub async fn run(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    grpc::start(addr).await
}
//- /greeter/src/grpc.rs
use crate::hello_world::greeter_server::GreeterServer;
pub(crate) async fn start(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    tonic::transport::Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;
    Ok(())
}
"#;
    rewritten(
        files,
        "grpc",
        expect![[r#"
            //- /greeter/src/grpc.rs
            use crate::hello_world::greeter_server::GreeterServer;
            pub(crate) async fn start(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
                tonic::transport::Server::builder().add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), MyGreeter))).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await?;
                Ok(())
            }
        "#]],
    );
}

#[test]
fn a_library_server_spawned_beside_other_routers_is_counted_with_them() {
    // main.rs builds a runtime and blocks on `greeter::entrypoint()`, which
    // spawns `Worker::run(worker)` (server.rs): a layered server, served
    // with its own shutdown signal. The library serves another router too
    // (`compactor::serve`), which this binary never reaches.
    let files = r#"//- /greeter/src/main.rs
use greeter::entrypoint;
fn main() {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(entrypoint());
}
//- /greeter/src/lib.rs
mod compactor;
mod server;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
pub async fn entrypoint() {
    let worker = server::Worker::new();
    let task = tokio::spawn(async move { server::Worker::run(worker).await.ok() });
    task.await.ok();
}
//- /greeter/src/server.rs
use tonic::transport::Server;
use crate::hello_world::greeter_server::GreeterServer;
pub struct Worker;
impl Worker {
    pub fn new() -> Worker { Worker }
    pub(crate) async fn run(worker: Worker) -> Result<(), Box<dyn std::error::Error>> {
        let addr = "[::]:50051".parse().unwrap();
        let server = Server::builder()
            .layer(TraceLayer)
            .add_service(GreeterServer::new(worker).max_decoding_message_size(1 << 20));
        server.serve_with_shutdown(addr, async { sigterm().await }).await?;
        Ok(())
    }
}
//- /greeter/src/compactor.rs
pub async fn serve(addr: std::net::SocketAddr) {
    tonic::transport::Server::builder().add_service(CompactorServer::new(Compactor)).serve(addr).await.unwrap();
}
"#;
    decision(
        files,
        expect![
            "`helloworld.Greeter` run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
        ],
    );
    // The task spawned with `Worker::run`, whose serve knit rewrites, runs in
    // the service's scope.
    rewritten(
        files,
        "lib",
        expect![[r#"
            //- /greeter/src/lib.rs
            mod compactor;
            mod server;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn entrypoint() {
                let worker = server::Worker::new();
                let task = tokio::spawn(knit_runtime::ServiceHost::current().scope(async move { server::Worker::run(worker).await.ok() }));
                task.await.ok();
            }

            /// The entry of service `greeter`, lifted by knit from `fn main` in greeter/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                use crate::entrypoint;
                knit_host.scope(async move {
                entrypoint().await;
            }).await
            }
        "#]],
    );
    // Its listener is told it takes the calls to the layered server.
    rewritten(
        files,
        "server",
        expect![[r#"
            //- /greeter/src/server.rs
            use tonic::transport::Server;
            use crate::hello_world::greeter_server::GreeterServer;
            pub struct Worker;
            impl Worker {
                pub fn new() -> Worker { Worker }
                pub(crate) async fn run(worker: Worker) -> Result<(), Box<dyn std::error::Error>> {
                    let addr = "[::]:50051".parse().unwrap();
                    let server = Server::builder()
                        .layer(TraceLayer)
                        .add_service(knit_runtime::ServiceHost::current().provide_stacked("helloworld.Greeter", GreeterServer::new(worker).max_decoding_message_size(1 << 20)));
                    server.serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming_serving(addr, &["helloworld.Greeter"]), knit_runtime::ServiceHost::current().shutdown_with(async { sigterm().await })).await?;
                    Ok(())
                }
            }
        "#]],
    );
}

#[test]
fn a_server_built_in_a_dependency_is_registered() {
    // `grpc_kit::serve` (re-exported by the library's root) is a function of
    // a path dependency of the service: followed, its server registered, and
    // the dependency's manifest given the runtime and the proto crate.
    let files = r#"//- /greeter/src/main.rs
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() {
    grpc_kit::serve(addr()).await;
}
//- /greeter/grpc-kit/Cargo.toml
[package]
name = "grpc-kit"
edition = "2021"
//- /greeter/grpc-kit/src/lib.rs
mod server;
pub use server::serve;
pub mod pb {
    tonic::include_proto!("helloworld");
}
//- /greeter/grpc-kit/src/server.rs
pub async fn serve(addr: std::net::SocketAddr) {
    tonic::transport::Server::builder().add_service(crate::pb::greeter_server::GreeterServer::new(Svc)).serve(addr).await.unwrap();
}
"#;
    let manifest = "name = \"greeter\"\nedition = \"2021\"\n[dependencies]\ngrpc-kit = { path = \"grpc-kit\" }\n";
    let out = check(
        PassId::Entry,
        &provider(files).replacen("name = \"greeter\"\nedition = \"2021\"\n", manifest, 1),
    );
    expect![[r#"
        //- /greeter/grpc-kit/Cargo.toml
        [package]
        name = "grpc-kit"
        edition = "2021"

        [dependencies]
        knit-runtime = { path = "../../knit/runtime" }
        knit-proto-helloworld = { path = "../../knit/protos/helloworld" }
        //- /greeter/grpc-kit/src/server.rs
        pub async fn serve(addr: std::net::SocketAddr) {
            tonic::transport::Server::builder().add_service(crate::pb::greeter_server::GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), Svc))).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await.unwrap();
        }
    "#]].assert_eq(&out.render("greeter/grpc-kit/"));
}

#[test]
fn a_server_built_in_a_dependency_stays_rpc_naming_the_package() {
    // `grpc_kit::serve`, of the path dependency `grpc-kit`, is called
    // through a variable, which knit does not follow.
    let files = r#"//- /greeter/src/main.rs
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() {
    let serve = grpc_kit::serve;
    serve().await;
}
//- /greeter/grpc-kit/Cargo.toml
[package]
name = "grpc-kit"
edition = "2021"
//- /greeter/grpc-kit/src/lib.rs
pub mod pb {
    tonic::include_proto!("helloworld");
}
pub async fn serve() {
    tonic::transport::Server::builder().add_service(pb::greeter_server::GreeterServer::new(Svc)).serve(addr).await.unwrap();
}
"#;
    let manifest = "name = \"greeter\"\nedition = \"2021\"\n[dependencies]\ngrpc-kit = { path = \"grpc-kit\" }\n";
    let fixture = provider(files).replacen("name = \"greeter\"\nedition = \"2021\"\n", manifest, 1);
    let findings = check(PassId::Calls, &fixture).findings;
    let call = findings.iter().find(|f| f.starts_with("Call(")).unwrap();
    expect![
        "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/grpc-kit/src/lib.rs:5, in `serve` of package `grpc-kit`, a dependency of `greeter`, which knit does not reach from `fn main`: it follows calls of the functions of the binary and of the libraries it depends on by path, free or associated, by paths it resolves, and of their methods on receivers whose type it tells, made on the entry's task"
    ]
    .assert_eq(call.split_once(": calls to ").unwrap().1);
}

#[test]
fn a_runtime_built_in_main_blocks_on_the_function_that_serves() {
    let files = TWO_CALLS.replace(
        "#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n    let config = app::Config::from_env();\n    app::run(config).await\n}",
        "fn main() -> Result<(), Box<dyn std::error::Error>> {\n    let config = app::Config::from_env();\n    let rt = tokio::runtime::Runtime::new()?;\n    rt.block_on(app::run(config))\n}",
    );
    decision(
        &files,
        expect![
            "`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
        ],
    );
}

#[test]
fn a_function_main_spawns_runs_in_the_services_scope() {
    let files = TWO_CALLS.replace(
        "    app::run(config).await\n",
        "    tokio::spawn(app::run(config)).await??;\n    Ok(())\n",
    );
    rewritten(
        &files,
        "main",
        expect![[r#"
            //- /greeter/src/main.rs
            mod app;
            mod grpc;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn knit_entry(#[allow(unused_variables)] knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let config = app::Config::from_env();
                tokio::spawn(knit_host.scope(app::run(config))).await??;
                Ok(())
            }
        "#]],
    );
    // Spawned in an `async` block by a function `main` awaits.
    let block = TWO_CALLS.replace(
        "    Greeting::serve(config.addr).await\n",
        "    let task = tokio::spawn(async move { Greeting::serve(config.addr).await.unwrap() });\n    task.await?;\n    Ok(())\n",
    );
    rewritten(
        &block,
        "app",
        expect![[r#"
            //- /greeter/src/app.rs
            use crate::grpc::Greeting;
            pub struct Config { pub addr: std::net::SocketAddr }
            pub async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
                let task = tokio::spawn(knit_runtime::ServiceHost::current().scope(async move { Greeting::serve(config.addr).await.unwrap() }));
                task.await?;
                Ok(())
            }
        "#]],
    );
}

#[test]
fn a_future_polled_elsewhere_than_where_it_is_made_stays_rpc() {
    // The future `app::run` makes is kept, then spawned.
    let files = TWO_CALLS.replace(
        "    app::run(config).await\n",
        "    let serving = app::run(config);\n    tokio::spawn(serving).await??;\n    Ok(())\n",
    );
    decision(
        &files,
        expect![
            "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/grpc.rs:7, in `serve`: `main` reaches `serve` through `run`, where knit stops: `main` reaches `run` only through a future not awaited where the call makes it (at greeter/src/main.rs:9): knit follows futures awaited on the entry's task, or spawned as they are made, only"
        ],
    );
    // An `async` block kept, then spawned.
    let block = TWO_CALLS.replace(
        "    Greeting::serve(config.addr).await\n",
        "    let task = async move { Greeting::serve(config.addr).await };\n    tokio::spawn(task).await?\n",
    );
    decision(
        &block,
        expect![
            "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/grpc.rs:7, in `serve`: `main` reaches `serve` only inside an `async` block (at greeter/src/app.rs:4) not awaited where it is written: knit follows futures awaited on the entry's task, or spawned as they are made, only"
        ],
    );
    // A thread's closure.
    let thread = TWO_CALLS.replace(
        "    app::run(config).await\n",
        "    std::thread::spawn(move || tokio::runtime::Runtime::new().unwrap().block_on(app::run(config)).unwrap()).join().unwrap();\n    Ok(())\n",
    );
    decision(
        &thread,
        expect![
            "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/grpc.rs:7, in `serve`: `main` reaches `serve` through `run`, where knit stops: `main` reaches `run` only inside a closure (at greeter/src/main.rs:9), which knit does not follow"
        ],
    );
}

#[test]
fn a_library_server_rebound_and_served_in_a_spawned_task_is_stacked() {
    // The shape of the first test with one router: a layered server whose
    // router is bound again (`let server = server.add_service(..)` under a
    // `cfg`) and served with its own signal, in a task the library spawns.
    let files = r#"//- /greeter/src/main.rs
use greeter::entrypoint;
fn main() {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(entrypoint());
}
//- /greeter/src/lib.rs
mod server;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
pub async fn entrypoint() {
    let worker = server::Worker::new();
    let _ = tokio::spawn(async move { let _ = crate::server::Worker::run(worker).await; }).await;
}
//- /greeter/src/server.rs
use tonic::transport::Server;
use crate::hello_world::greeter_server::GreeterServer;
pub struct Worker;
impl Worker {
    pub fn new() -> Worker { Worker }
    pub(crate) async fn run(worker: Worker) -> Result<(), Box<dyn std::error::Error>> {
        let addr = "[::]:50051".parse().unwrap();
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        let server = Server::builder()
            .max_concurrent_streams(Some(10))
            .layer(TraceLayer)
            .add_service(health_service)
            .add_service(GreeterServer::new(worker.clone()).max_decoding_message_size(1 << 20));
        #[cfg(debug_assertions)]
        let server = server.add_service(DebugServer::new(worker.clone()));
        let server = server.serve_with_shutdown(addr, async { sigterm().await });
        tokio::spawn(async move { health_reporter.set_serving::<GreeterServer<Worker>>().await; });
        tokio::select! { _ = server => {} };
        Ok(())
    }
}
"#;
    decision(
        files,
        expect![
            "`helloworld.Greeter` run in process through `greeter`'s whole server, its layers and settings included (encoded, no socket): `greeter` adds tower layers to its server (`.layer(..)`)"
        ],
    );
}

/// `main` beside its library serves through a function of its binary: the
/// library's copy of that function (in `knit_bin_greeter`) is rewritten, the
/// binary is not.
#[test]
fn a_server_built_in_a_function_of_a_binary_beside_its_library_is_registered() {
    let files = r#"//- /greeter/src/main.rs
use tonic::transport::Server;
use greeter::hello_world::greeter_server::GreeterServer;
#[tokio::main]
async fn main() {
    serve("0.0.0.0:50051".parse().unwrap()).await;
}
async fn serve(addr: std::net::SocketAddr) {
    Server::builder()
        .add_service(GreeterServer::new(greeter::MyGreeter))
        .serve(addr)
        .await
        .unwrap();
}
//- /greeter/src/lib.rs
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
pub struct MyGreeter;
"#;
    let out = check(PassId::Entry, &provider(files));
    expect![[r#"
        //- /greeter/Cargo.toml
        [package]
        name = "greeter"
        edition = "2021"

        [dependencies]
        knit-runtime = { path = "../knit/runtime" }

        [[bin]]
        name = "greeter"
        path = "src/main.rs"
        //- /greeter/src/lib.rs
        pub mod hello_world {
            tonic::include_proto!("helloworld");
        }
        pub struct MyGreeter;

        /// The items and modules of binary `greeter` (greeter/src/main.rs), copied by knit with its `fn main`.
        #[doc(hidden)]
        #[allow(dead_code, unused_imports, unused_macros)]
        #[path = "."]
        pub mod knit_bin_greeter {
        use tonic::transport::Server;
        use crate::hello_world::greeter_server::GreeterServer;

        async fn serve(addr: std::net::SocketAddr) {
            Server::builder()
                .add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), crate::MyGreeter)))
                .serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown())
                .await
                .unwrap();
        }

        /// The entry of service `greeter`, lifted by knit from `fn main` in greeter/src/main.rs: the
        /// merged binary's host runs it; the service's own binary runs `main` as before.
        pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
            knit_host.scope(async move {
            serve("0.0.0.0:50051".parse().unwrap()).await;
        }).await
        }
        }
        pub use knit_bin_greeter::knit_entry;
    "#]].assert_eq(&out.render("greeter/"));
    let out = crate::fixture::check_all(&provider(files));
    expect!["Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"].assert_eq(&out.findings.join("\n"));
}

/// From an entry lifted into its library, `main` is followed into the
/// service's path dependencies too.
#[test]
fn a_server_built_in_a_dependency_of_a_lifted_entry_is_registered() {
    let files = r#"//- /greeter/src/main.rs
#[tokio::main]
async fn main() {
    grpc_kit::serve(greeter::addr()).await;
}
//- /greeter/src/lib.rs
pub fn addr() -> std::net::SocketAddr { "0.0.0.0:50051".parse().unwrap() }
//- /greeter/grpc-kit/Cargo.toml
[package]
name = "grpc-kit"
edition = "2021"
//- /greeter/grpc-kit/src/lib.rs
pub mod pb {
    tonic::include_proto!("helloworld");
}
pub struct Svc;
pub async fn serve(addr: std::net::SocketAddr) {
    tonic::transport::Server::builder().add_service(pb::greeter_server::GreeterServer::new(Svc)).serve(addr).await.unwrap();
}
"#;
    let manifest = "name = \"greeter\"\nedition = \"2021\"\n[dependencies]\ngrpc-kit = { path = \"grpc-kit\" }\n";
    let fixture = provider(files).replacen("name = \"greeter\"\nedition = \"2021\"\n", manifest, 1);
    let out = crate::fixture::check_all(&fixture);
    expect![[r#"
        //- /greeter/grpc-kit/Cargo.toml
        [package]
        name = "greeter-grpc-kit"
        edition = "2021"

        [lib]
        name = "grpc_kit"

        [dependencies]
        knit-runtime = { path = "../../knit/runtime" }
        knit-proto-helloworld = { path = "../../knit/protos/helloworld" }
        //- /greeter/grpc-kit/src/lib.rs
        pub mod pb {
            pub use knit_proto_helloworld::*;
        }
        pub struct Svc;
        pub async fn serve(addr: std::net::SocketAddr) {
            tonic::transport::Server::builder().add_service(pb::greeter_server::GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), Svc))).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await.unwrap();
        }
        Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
    "#]].assert_eq(&out.render("greeter/grpc-kit/"));
}

/// `main` → `App::new(config)?.run()` → `self.serve()`: methods on a
/// receiver whose type knit tells (a constructor of the crate that returns
/// `Self`, through `?`; `self` in the type's impl).
const METHODS: &str = r#"//- /greeter/src/main.rs
mod app;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = app::Config::from_env();
    let app = app::App::new(config)?;
    app.run().await
}
//- /greeter/src/app.rs
use tonic::transport::Server;
use crate::hello_world::greeter_server::GreeterServer;
pub struct Config { pub addr: std::net::SocketAddr }
pub struct App { addr: std::net::SocketAddr }
impl App {
    pub fn new(config: Config) -> Result<Self, Box<dyn std::error::Error>> {
        Ok(App { addr: config.addr })
    }
    pub async fn run(&self) -> Result<(), Box<dyn std::error::Error>> {
        self.serve().await
    }
    async fn serve(&self) -> Result<(), Box<dyn std::error::Error>> {
        Server::builder()
            .add_service(GreeterServer::new(MyGreeter))
            .serve(self.addr)
            .await?;
        Ok(())
    }
}
"#;

#[test]
fn a_server_built_in_methods_main_calls_is_registered() {
    rewritten(
        METHODS,
        "app",
        expect![[r#"
            //- /greeter/src/app.rs
            use tonic::transport::Server;
            use crate::hello_world::greeter_server::GreeterServer;
            pub struct Config { pub addr: std::net::SocketAddr }
            pub struct App { addr: std::net::SocketAddr }
            impl App {
                pub fn new(config: Config) -> Result<Self, Box<dyn std::error::Error>> {
                    Ok(App { addr: config.addr })
                }
                pub async fn run(&self) -> Result<(), Box<dyn std::error::Error>> {
                    self.serve().await
                }
                async fn serve(&self) -> Result<(), Box<dyn std::error::Error>> {
                    Server::builder()
                        .add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), MyGreeter)))
                        .serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(self.addr), knit_runtime::ServiceHost::current().shutdown())
                        .await?;
                    Ok(())
                }
            }
        "#]],
    );
    // A struct literal tells the type too.
    let literal = METHODS.replace(
        "let app = app::App::new(config)?;",
        "let app = app::App { addr: config.addr };",
    );
    let findings = check(PassId::Calls, &provider(&literal)).findings;
    expect!["Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"].assert_eq(&findings.join("\n"));
}

/// `main` parses its options with clap's derive and runs a method of them:
/// `parse` returns `Self`, whichever way it is named.
#[test]
fn a_method_on_options_clap_parsed_is_followed() {
    for parse in ["app::App::parse()", "<app::App as clap::Parser>::parse()"] {
        let files = METHODS
            .replace("let config = app::Config::from_env();\n", "")
            .replace("app::App::new(config)?", parse)
            .replace(
                "pub struct App {",
                "#[derive(clap::Parser)]\npub struct App {",
            );
        assert!(files.contains(parse));
        let findings = check(PassId::Calls, &provider(&files)).findings;
        expect!["Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"].assert_eq(&findings.join("\n"));
    }
}

#[test]
fn a_method_on_a_receiver_of_unknown_type_is_not_followed() {
    // `app::make(config)` returns `impl Serve`: which `run` it calls is the
    // trait's, which knit does not tell.
    let files = METHODS
        .replace("let app = app::App::new(config)?;", "let app = app::make(config);")
        .replace(
            "pub struct App {",
            "pub fn make(config: Config) -> impl Serve { App { addr: config.addr } }\npub trait Serve {}\npub struct App {",
        );
    decision(
        &files,
        expect![
            "`helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/app.rs:16, in `serve`, which knit does not reach from `fn main`: it follows calls of the functions of the binary and of the libraries it depends on by path, free or associated, by paths it resolves, and of their methods on receivers whose type it tells, made on the entry's task"
        ],
    );
}

#[test]
fn a_method_of_another_type_is_no_naming_of_it() {
    // `Probe::serve`, called on a value knit tells is a `Probe`, does not
    // name `App::serve`; a typed `let` tells the type too.
    let files = METHODS
        .replace(
            "let app = app::App::new(config)?;",
            "let probe = app::Probe;\n    probe.serve();\n    let app: app::App = app::App::new(config)?;",
        )
        .replace(
            "pub struct App {",
            "pub struct Probe;\nimpl Probe { pub fn serve(&self) {} }\npub struct App {",
        );
    let findings = check(PassId::Calls, &provider(&files)).findings;
    expect!["Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"].assert_eq(&findings.join("\n"));
}

/// `main` runs its gRPC and HTTP servers side by side in `try_join!`: the
/// macro polls both futures on the entry's task, so `grpc` is followed.
#[test]
fn a_server_built_in_a_function_joined_in_main_is_registered() {
    let files = r#"//- /greeter/src/main.rs
use tonic::transport::Server;
use hello_world::greeter_server::GreeterServer;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tokio::try_join!(grpc("0.0.0.0:50051".parse()?), http())?;
    Ok(())
}
async fn grpc(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    Server::builder().add_service(GreeterServer::new(MyGreeter)).serve(addr).await?;
    Ok(())
}
async fn http() -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}
"#;
    rewritten(
        files,
        "main",
        expect![[r#"
        //- /greeter/src/main.rs
        use tonic::transport::Server;
        use hello_world::greeter_server::GreeterServer;
        pub mod hello_world {
            tonic::include_proto!("helloworld");
        }
        pub async fn knit_entry(#[allow(unused_variables)] knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
            tokio::try_join!(grpc("0.0.0.0:50051".parse()?), http())?;
            Ok(())
        }
        async fn grpc(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
            Server::builder().add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(knit_runtime::ServiceHost::current(), MyGreeter))).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr), knit_runtime::ServiceHost::current().shutdown()).await?;
            Ok(())
        }
        async fn http() -> Result<(), Box<dyn std::error::Error>> {
            Ok(())
        }
    "#]],
    );
}

/// A method of a value a constructor returns in a `Result`, unwrapped
/// (`Worker::from_config(config).expect(..)`), called in a spawned task, is
/// followed: the server it builds is the entry's.
#[test]
fn a_method_of_an_unwrapped_constructors_value_is_followed() {
    let files = TWO_CALLS
        .replace(
            "    app::run(config).await\n",
            "    let worker = app::Worker::from_config(config).expect(\"worker\");\n    tokio::spawn(async move {\n        if let Err(e) = worker.start_async().await {\n            eprintln!(\"{e}\");\n        }\n    });\n    Ok(())\n",
        )
        .replace(
            "pub async fn run(config: Config)",
            "pub struct Worker { config: Config }\nimpl Worker {\n    pub fn from_config(config: Config) -> Result<Self, String> { Ok(Worker { config }) }\n    pub async fn start_async(self) -> Result<(), Box<dyn std::error::Error>> { Greeting::serve(self.config.addr).await }\n}\npub async fn run(config: Config)",
        );
    let files = files.replace("    Greeting::serve(config.addr).await\n", "    Ok(())\n");
    decision(
        &files,
        expect![
            "`helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"
        ],
    );
}
