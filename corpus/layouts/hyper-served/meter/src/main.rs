//! The meter service: the latest reading of each electricity meter. Like many
//! gateways it serves gRPC and HTTP on one port from an accept loop of its
//! own: each connection is served by hyper-util's HTTP/1 and HTTP/2 builder,
//! gRPC requests (`content-type: application/grpc`) go to its `meter.Meter`
//! server as they come, `GET /meters/ID` is answered in text. It stops
//! accepting on SIGINT or SIGTERM.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tonic::codegen::Service;
use tonic::{Code, Status};

use proto::meter_server::{Meter, MeterServer};
use proto::{ReadRequest, Reading};

pub mod proto {
    tonic::include_proto!("meter");
}

/// The latest reading of each meter, in kWh.
const READINGS: &[(&str, u64)] = &[("m-100", 4210), ("m-200", 980), ("m-slow", 77)];

/// The kWh of meter `id`.
async fn reading(id: &str) -> Result<u64, Status> {
    if id == "m-slow" {
        // Read through a slow field gateway.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    match READINGS.iter().find(|(meter, _)| *meter == id) {
        Some((_, kwh)) => Ok(*kwh),
        None if id.is_empty() => Err(Status::invalid_argument("a meter id is missing")),
        None => Err(Status::not_found(format!("no meter {id}"))),
    }
}

/// The readings, as a gRPC service.
pub struct Readings;

#[tonic::async_trait]
impl Meter for Readings {
    async fn read(
        &self,
        request: tonic::Request<ReadRequest>,
    ) -> Result<tonic::Response<Reading>, Status> {
        let meter_id = request.into_inner().meter_id;
        let kwh = reading(&meter_id).await?;
        Ok(tonic::Response::new(Reading { meter_id, kwh }))
    }
}

/// The body of every answer, HTTP or gRPC.
type Body = tonic::body::Body;

fn text(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::<Bytes>::from(text)));
    *response.status_mut() = status;
    response
}

/// One request of a connection: gRPC to the meter server, the rest to the
/// HTTP routes.
async fn route(
    request: Request<Incoming>,
    mut grpc: MeterServer<Readings>,
) -> Result<Response<Body>, Infallible> {
    let is_grpc = request
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if is_grpc {
        return grpc.call(request).await;
    }
    let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
    let answer = match (request.method(), path.as_slice()) {
        (&Method::GET, ["meters", id]) => match reading(id).await {
            Ok(kwh) => text(StatusCode::OK, format!("{id}: {kwh} kWh\n")),
            Err(status) if status.code() == Code::NotFound => {
                text(StatusCode::NOT_FOUND, format!("{}\n", status.message()))
            }
            Err(status) => text(StatusCode::BAD_REQUEST, format!("{}\n", status.message())),
        },
        _ => text(StatusCode::NOT_FOUND, "no such page\n".into()),
    };
    Ok(answer)
}

/// Resolves on Ctrl-C, or on SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("METER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50095".to_string())
        .parse()?;
    let grpc = MeterServer::new(Readings);

    let listener = TcpListener::bind(addr).await?;
    println!("meter listening on {addr}");
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => break,
        };
        let grpc = grpc.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| route(request, grpc.clone()));
            let builder = auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("meter: connection ended: {e}");
            }
        });
    }
    println!("meter: stopped");
    Ok(())
}
