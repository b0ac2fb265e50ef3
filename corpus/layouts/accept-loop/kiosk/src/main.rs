//! The ticket kiosk: an HTTP gateway on hyper 1 that sells tram tickets,
//! asking the fares service for each price. Its `main` accepts connections in
//! a loop of its own and serves each with hyper-util's HTTP/1 and HTTP/2
//! builder: `GET /tickets/FROM/TO` answers in text, and gRPC requests
//! (`content-type: application/grpc`) go to its `kiosk.Kiosk` service. Like
//! many such gateways it handles no signal: SIGTERM ends the process.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tonic::codegen::Service;
use tonic::transport::Channel;
use tonic::{Code, Status};

use fares::fares_client::FaresClient;
use fares::QuoteRequest;
use proto::kiosk_server::{Kiosk, KioskServer};
use proto::{Ticket, TicketRequest};

pub mod fares {
    tonic::include_proto!("fares");
}

pub mod proto {
    tonic::include_proto!("kiosk");
}

/// Sells tickets: the fares client, connected once at start, and a counter
/// of the tickets issued.
#[derive(Clone)]
pub struct Desk {
    fares: FaresClient<Channel>,
    issued: Arc<AtomicU64>,
}

impl Desk {
    /// A ticket for `passengers` from `from` to `to`.
    async fn sell(&self, from: &str, to: &str, passengers: u32) -> Result<Ticket, Status> {
        if passengers == 0 {
            return Err(Status::invalid_argument(
                "a ticket is for at least one passenger",
            ));
        }
        let mut fares = self.fares.clone();
        let fare = fares
            .quote(QuoteRequest {
                from: from.to_string(),
                to: to.to_string(),
            })
            .await?
            .into_inner();
        let total_cents = fare.cents * i64::from(passengers);
        let number = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Ticket {
            text: format!(
                "{from} -> {to}: {} zone(s), {passengers} passenger(s), {}.{:02} EUR",
                fare.zones,
                total_cents / 100,
                total_cents % 100
            ),
            total_cents,
            number,
        })
    }
}

#[tonic::async_trait]
impl Kiosk for Desk {
    async fn issue(
        &self,
        request: tonic::Request<TicketRequest>,
    ) -> Result<tonic::Response<Ticket>, Status> {
        let wanted = request.into_inner();
        let ticket = self
            .sell(&wanted.from, &wanted.to, wanted.passengers)
            .await?;
        Ok(tonic::Response::new(ticket))
    }
}

/// The body of every answer, HTTP or gRPC.
type Body = tonic::body::Body;

fn text(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::<Bytes>::from(text)));
    *response.status_mut() = status;
    response
}

/// One request of a connection: gRPC to the kiosk's gRPC service, the rest to
/// its HTTP routes.
async fn route(
    request: Request<Incoming>,
    mut grpc: KioskServer<Desk>,
    desk: Desk,
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
        (&Method::GET, ["tickets", from, to]) => match desk.sell(from, to, 1).await {
            Ok(ticket) => text(
                StatusCode::OK,
                format!("ticket {}: {}\n", ticket.number, ticket.text),
            ),
            Err(status) => {
                let code = match status.code() {
                    Code::NotFound => StatusCode::NOT_FOUND,
                    Code::InvalidArgument => StatusCode::BAD_REQUEST,
                    _ => StatusCode::BAD_GATEWAY,
                };
                text(code, format!("{}\n", status.message()))
            }
        },
        _ => text(StatusCode::NOT_FOUND, "no such page\n".into()),
    };
    Ok(answer)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("KIOSK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8090".to_string())
        .parse()?;
    let fares_url =
        std::env::var("FARES_URL").unwrap_or_else(|_| "http://127.0.0.1:50091".to_string());

    let desk = Desk {
        fares: FaresClient::connect(fares_url).await?,
        issued: Arc::new(AtomicU64::new(0)),
    };
    let grpc = KioskServer::new(desk.clone());

    let listener = TcpListener::bind(addr).await?;
    println!("kiosk listening on {addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let (grpc, desk) = (grpc.clone(), desk.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| route(request, grpc.clone(), desk.clone()));
            let builder = auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("kiosk: connection ended: {e}");
            }
        });
    }
}
