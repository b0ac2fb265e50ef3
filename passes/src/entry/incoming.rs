//! Fixture tests: a provider that serves its router on a listener its own
//! code binds (`serve_with_incoming(theirs)`): merged, the group's in-memory
//! connections arrive beside theirs (`ServiceHost::incoming_beside`); and one
//! that serves its tonic routes through axum (`into_axum_router`).

use expect_test::{Expect, expect};

use crate::fixture::{HELLO_PROTO, check};
use crate::pass::PassId;

/// The caller of every fixture: `frontend` calls `helloworld.Greeter`.
const FRONTEND: &str = "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n";

/// A `greeter` service of the files `files` (`//- /greeter/..` sections
/// after its manifest's `[package]`), called by `frontend`.
fn provider(files: &str) -> String {
    format!(
        "//- /greeter/Cargo.toml\n[package]\nname = \"greeter\"\nedition = \"2021\"\n{files}//- /greeter/proto/helloworld.proto\n{HELLO_PROTO}//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\nedition = \"2021\"\n//- /frontend/proto/helloworld.proto\n{HELLO_PROTO}//- /frontend/src/main.rs\n{FRONTEND}"
    )
}

/// The files of the greeter's source folder `src/<prefix>..` after the
/// passes, and the call sites and notes.
fn rewritten(files: &str, prefix: &str, expected: Expect) {
    let out = check(PassId::Entry, &provider(files));
    expected.assert_eq(&out.render(&format!("greeter/src/{prefix}")));
}

/// A library whose function binds the listener with a helper of a path
/// dependency (socket options set), then serves a server with a timeout on
/// it in a task of its own, with its own shutdown signal; beside it, the
/// library serves another router on an address.
const EXECUTOR: &str = r#"[dependencies]
base = { path = "base", package = "greeter-base" }
//- /greeter/src/main.rs
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::start("0.0.0.0:50051".parse()?, "0.0.0.0:50052".parse()?).await
}
//- /greeter/src/lib.rs
mod server;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
pub async fn start(addr: std::net::SocketAddr, flight: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let notify = Notify::new();
    let handle = server::start_server(addr, &notify).await?;
    tonic::transport::Server::builder().add_service(flight_service()).serve_with_shutdown(flight, notify.wait()).await?;
    handle.await??;
    Ok(())
}
//- /greeter/src/server.rs
use base::utils::{create_grpc_server, create_grpc_server_incoming};
use crate::hello_world::greeter_server::GreeterServer;
pub async fn start_server(addr: std::net::SocketAddr, notify: &Notify) -> Result<JoinHandle<Result<(), Error>>, Error> {
    let config = GrpcConfig::default();
    let server = {
        // Bound before the task starts: peers may dial it at once.
        let incoming = create_grpc_server_incoming(addr, &config)?;
        let server = GreeterServer::new(MyGreeter).max_encoding_message_size(1 << 20);
        let mut shutdown = notify.subscribe();
        tokio::spawn(async move {
            let shutdown_signal = shutdown.recv();
            let grpc_server_future = create_grpc_server(&config)
                .add_service(server)
                .serve_with_incoming_shutdown(incoming, shutdown_signal);
            grpc_server_future.await.map_err(Error::from)
        })
    };
    Ok(server)
}
//- /greeter/base/Cargo.toml
[package]
name = "greeter-base"
edition = "2021"
//- /greeter/base/src/lib.rs
pub mod utils;
//- /greeter/base/src/utils.rs
use std::time::Duration;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
pub fn create_grpc_server(config: &GrpcConfig) -> Server {
    Server::builder()
        .timeout(Duration::from_secs(config.timeout))
        .tcp_nodelay(true)
}
pub fn create_grpc_server_incoming(addr: std::net::SocketAddr, config: &GrpcConfig) -> Result<TcpIncoming, Error> {
    Ok(TcpIncoming::bind(addr)?
        .with_nodelay(Some(true))
        .with_keepalive(Some(Duration::from_secs(config.keepalive))))
}
"#;

#[test]
fn a_layered_server_on_a_listener_bound_by_a_helper_takes_calls_beside_it() {
    rewritten(
        EXECUTOR,
        "lib",
        expect![[r#"
            //- /greeter/src/lib.rs
            mod server;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn start(addr: std::net::SocketAddr, flight: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
                let notify = Notify::new();
                let handle = server::start_server(addr, &notify).await?;
                tonic::transport::Server::builder().add_service(flight_service()).serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming_serving(flight, &[]), knit_runtime::ServiceHost::current().shutdown_with(notify.wait())).await?;
                handle.await??;
                Ok(())
            }

            /// The entry of service `greeter`, lifted by knit from `fn main` in greeter/src/main.rs: the
            /// merged binary's host runs it; the service's own binary runs `main` as before.
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                knit_host.scope(async move {
                crate::start("0.0.0.0:50051".parse()?, "0.0.0.0:50052".parse()?).await
            }).await
            }
        "#]],
    );
    rewritten(
        EXECUTOR,
        "server",
        expect![[r#"
            //- /greeter/src/server.rs
            use base::utils::{create_grpc_server, create_grpc_server_incoming};
            use crate::hello_world::greeter_server::GreeterServer;
            pub async fn start_server(addr: std::net::SocketAddr, notify: &Notify) -> Result<JoinHandle<Result<(), Error>>, Error> {
                let config = GrpcConfig::default();
                let server = {
                    // Bound before the task starts: peers may dial it at once.
                    let incoming = create_grpc_server_incoming(addr, &config)?;
                    let server = knit_runtime::ServiceHost::current().provide_stacked("helloworld.Greeter", GreeterServer::new(MyGreeter).max_encoding_message_size(1 << 20));
                    let mut shutdown = notify.subscribe();
                    tokio::spawn(knit_runtime::ServiceHost::current().scope(async move {
                        let shutdown_signal = shutdown.recv();
                        let grpc_server_future = create_grpc_server(&config)
                            .add_service(server)
                            .serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming_beside_serving(incoming, &["helloworld.Greeter"]), knit_runtime::ServiceHost::current().shutdown_with(shutdown_signal));
                        grpc_server_future.await.map_err(Error::from)
                    }))
                };
                Ok(server)
            }
        "#]],
    );
}

#[test]
fn a_server_on_a_listener_stream_of_mains_own_runs_inline() {
    let files = r#"//- /greeter/src/main.rs
use tonic::transport::Server;
use hello_world::greeter_server::GreeterServer;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:50051").await?;
    tokio::spawn(
        Server::builder()
            .add_service(GreeterServer::new(MyGreeter))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    std::future::pending::<()>().await;
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
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let listener = tokio::net::TcpListener::bind("0.0.0.0:50051").await?;
                tokio::spawn(
                    Server::builder()
                        .add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(&knit_host, MyGreeter)))
                        .serve_with_incoming_shutdown(knit_host.incoming_beside(tokio_stream::wrappers::TcpListenerStream::new(listener)), knit_host.shutdown()),
                );
                std::future::pending::<()>().await;
                Ok(())
            }
        "#]],
    );
}

#[test]
fn a_server_on_connections_knit_does_not_follow_to_a_listener_stays_rpc() {
    let files = r#"//- /greeter/src/main.rs
use tonic::transport::Server;
use hello_world::greeter_server::GreeterServer;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let incoming = tls::accepting(tokio::net::TcpListener::bind("0.0.0.0:50051").await?);
    Server::builder()
        .add_service(GreeterServer::new(MyGreeter))
        .serve_with_incoming(incoming)
        .await?;
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
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let incoming = tls::accepting(tokio::net::TcpListener::bind("0.0.0.0:50051").await?);
                Server::builder()
                    .add_service(GreeterServer::new(MyGreeter))
                    .serve_with_incoming_shutdown(incoming, knit_host.shutdown())
                    .await?;
                Ok(())
            }
        "#]],
    );
}

#[test]
fn a_server_in_routes_served_through_axum_runs_inline() {
    // tonic's routes, built with a `RoutesBuilder`, become an axum router that
    // is merged with other routes and served by `axum::serve`.
    let files = r#"//- /greeter/src/main.rs
use tonic::service::RoutesBuilder;
use hello_world::greeter_server::GreeterServer;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tonic_builder = RoutesBuilder::default();
    tonic_builder.add_service(GreeterServer::new(MyGreeter).max_decoding_message_size(1 << 20));
    let tonic = tonic_builder.routes().into_axum_router();
    let tonic = tonic.fallback(|| async { "not found" });
    let app = rest().merge(tonic).merge(health()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:50051").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
"#;
    rewritten(
        files,
        "main",
        expect![[r#"
            //- /greeter/src/main.rs
            use tonic::service::RoutesBuilder;
            use hello_world::greeter_server::GreeterServer;
            pub mod hello_world {
                tonic::include_proto!("helloworld");
            }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let mut tonic_builder = RoutesBuilder::default();
                tonic_builder.add_service(GreeterServer::from_arc(knit_proto_helloworld::greeter_inline::provide(&knit_host, MyGreeter)).max_decoding_message_size(1 << 20));
                let tonic = tonic_builder.routes().into_axum_router();
                let tonic = tonic.fallback(|| async { "not found" });
                let app = rest().merge(tonic).merge(health()).into_make_service_with_connect_info::<std::net::SocketAddr>();
                let listener = tokio::net::TcpListener::bind("0.0.0.0:50051").await?;
                axum::serve(listener, app).await?;
                Ok(())
            }
        "#]],
    );
}
