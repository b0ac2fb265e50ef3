//! Whether a service's own process stops by itself on SIGTERM: the merged
//! host waits for such a service when it shuts down, and not for one whose
//! code handles no signal, which one SIGTERM would have killed
//! ([`OnSignal`]; knit-runtime's host acts on it).
//!
//! A service stops by itself when its binary's or its library's code listens
//! for SIGTERM ([`SHUTDOWN_WORDS`]: tokio's `SignalKind`, the `signal-hook` and
//! `ctrlc` crates) or serves through a graceful serve that knit connects to
//! the host's shutdown (tonic's `serve_with_shutdown`, Volo's
//! `run_with_shutdown`), or its `main` runs actix (whose `HttpServer` handles
//! SIGTERM itself). `tokio::signal::ctrl_c` alone does not count (it is SIGINT:
//! split, SIGTERM kills that process), nor does a graceful shutdown started by
//! it (axum's `with_graceful_shutdown`, hyper-util's `GracefulShutdown`), nor a
//! tonic `.serve(addr)` alone.

use ra_ap_syntax::{AstNode, SyntaxKind};

use crate::model::{Group, ServiceId};
use crate::scope::{lifted_into_lib, main_fn};
pub use knit_codegen::mains::OnSignal;

/// Names in a service's code that mean it stops by itself on SIGTERM in a
/// merged process: the SIGTERM listeners of tokio, `signal-hook` and `ctrlc`,
/// and the graceful serves of tonic and Volo, which knit connects to the
/// host's shutdown.
const SHUTDOWN_WORDS: &[&str] = &[
    "SignalKind",
    "signal_hook",
    "signal_hook_tokio",
    "ctrlc",
    "serve_with_shutdown",
    "serve_with_incoming_shutdown",
    "run_with_shutdown",
];

/// How `service`'s own process ends on SIGTERM, judged from the code of its
/// binary and of its package's library.
pub fn on_signal(group: &Group, service: ServiceId) -> OnSignal {
    let index = group.role_of(service);
    let bin = group.services[index].bin.root;
    let actix = main_fn(group, index)
        .and_then(|main| super::actix::actix_attr(&main).ok().flatten())
        .is_some();
    let lib = lifted_into_lib(group, index).map(|lib| lib.root);
    let handles = group
        .rust_files()
        .filter(|(_, _, rust)| rust.krate == bin || Some(rust.krate) == lib)
        .any(|(_, file, rust)| {
            SHUTDOWN_WORDS.iter().any(|word| file.text.contains(word))
                && rust
                    .tree()
                    .syntax()
                    .descendants_with_tokens()
                    .filter_map(|t| t.into_token())
                    .filter(|t| t.kind() == SyntaxKind::IDENT)
                    .any(|t| SHUTDOWN_WORDS.contains(&t.text()))
        });
    match actix || handles {
        true => OnSignal::Stops,
        false => OnSignal::Dies,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::fixture::group;

    /// Each service of `fixture` and how it ends on SIGTERM.
    fn check(fixture: &str, expected: Expect) {
        let g = group(fixture);
        let actual: String = g
            .services_by_id()
            .map(|(i, s)| format!("{}: {:?}\n", s.name, on_signal(&g, i)))
            .collect();
        expected.assert_eq(&actual);
    }

    #[test]
    fn a_hand_written_accept_loop_handles_no_signal() {
        check(
            r#"
//- /kiosk/Cargo.toml
[package]
name = "kiosk"
edition = "2021"
//- /kiosk/src/main.rs
use hyper_util::rt::TokioIo;
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(route))
                .await;
        });
    }
}
//- /fares/Cargo.toml
[package]
name = "fares"
edition = "2021"
//- /fares/src/main.rs
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic::transport::Server::builder()
        .add_service(FaresServer::new(Table))
        .serve("127.0.0.1:50051".parse()?)
        .await?;
    Ok(())
}
"#,
            expect![[r#"
                kiosk: Dies
                fares: Dies
            "#]],
        );
    }

    #[test]
    fn sigterm_listeners_and_connected_serves_stop_by_themselves_ctrl_c_does_not() {
        check(
            r#"
//- /fares/Cargo.toml
[package]
name = "fares"
edition = "2021"
//- /fares/src/main.rs
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic::transport::Server::builder()
        .add_service(FaresServer::new(Table))
        .serve_with_shutdown(addr, async { tokio::signal::ctrl_c().await.ok(); })
        .await?;
    Ok(())
}
//- /axum/Cargo.toml
[package]
name = "axum"
edition = "2021"
//- /axum/src/main.rs
mod stop;
#[tokio::main]
async fn main() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app()).with_graceful_shutdown(stop::shutdown_signal()).await.unwrap();
}
//- /axum/src/stop.rs
pub async fn shutdown_signal() {
    tokio::signal::ctrl_c().await.unwrap();
}
//- /unix/Cargo.toml
[package]
name = "unix"
edition = "2021"
//- /unix/src/main.rs
use tokio::signal::unix::{signal, SignalKind};
#[tokio::main]
async fn main() {
    let mut term = signal(SignalKind::terminate()).unwrap();
    tokio::select! {
        _ = accept_loop() => {}
        _ = term.recv() => {}
    }
}
//- /web/Cargo.toml
[package]
name = "web"
edition = "2021"
//- /web/src/main.rs
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| App::new()).bind("0.0.0.0:8080")?.run().await
}
"#,
            expect![[r#"
                fares: Stops
                axum: Dies
                unix: Stops
                web: Stops
            "#]],
        );
    }

    #[test]
    fn a_thin_main_stops_by_its_librarys_signal_handling() {
        check(
            r#"
//- /stock/Cargo.toml
[package]
name = "stock"
edition = "2021"
//- /stock/src/lib.rs
pub async fn serve(addr: std::net::SocketAddr) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(StockServer::new(Shelf))
        .serve_with_shutdown(addr, wait())
        .await
}
async fn wait() {
    let _ = tokio::signal::ctrl_c().await;
}
//- /stock/src/main.rs
#[tokio::main]
async fn main() {
    stock::serve("127.0.0.1:1".parse().unwrap()).await.unwrap();
}
//- /plain/Cargo.toml
[package]
name = "plain"
edition = "2021"
//- /plain/src/main.rs
// Only a comment says ctrl_c, and a string: "SignalKind".
#[tokio::main]
async fn main() {
    let ctrl = "SignalKind";
    run(ctrl).await;
}
"#,
            expect![[r#"
                stock: Stops
                plain: Dies
            "#]],
        );
    }
}
