//! The fares service: what a tram trip costs, by the zones between two stops.
//! It stops gracefully on SIGINT or SIGTERM, finishing the calls in flight.

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use proto::fares_server::{Fares, FaresServer};
use proto::{Fare, QuoteRequest};

pub mod proto {
    tonic::include_proto!("fares");
}

/// The zone of each stop of the network.
const STOPS: &[(&str, u32)] = &[
    ("central", 1),
    ("harbour", 1),
    ("museum", 2),
    ("stadium", 2),
    ("airport", 3),
];

/// The price list: a base fare and a price per zone crossed.
pub struct Table {
    base_cents: i64,
    per_zone_cents: i64,
}

fn zone(stop: &str) -> Result<u32, Status> {
    match STOPS.iter().find(|(name, _)| *name == stop) {
        Some((_, zone)) => Ok(*zone),
        None if stop.is_empty() => Err(Status::invalid_argument("a stop is missing")),
        None => Err(Status::not_found(format!("no stop {stop}"))),
    }
}

#[tonic::async_trait]
impl Fares for Table {
    async fn quote(&self, request: Request<QuoteRequest>) -> Result<Response<Fare>, Status> {
        let trip = request.into_inner();
        let (from, to) = (zone(&trip.from)?, zone(&trip.to)?);
        let zones = from.abs_diff(to) + 1;
        Ok(Response::new(Fare {
            zones,
            cents: self.base_cents + self.per_zone_cents * i64::from(zones),
        }))
    }
}

/// Resolves on Ctrl-C, or on SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    println!("fares: shutting down");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("FARES_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50091".to_string())
        .parse()?;
    let table = Table {
        base_cents: 120,
        per_zone_cents: 80,
    };
    println!("fares listening on {addr}");
    Server::builder()
        .add_service(FaresServer::new(table))
        .serve_with_shutdown(addr, shutdown_signal())
        .await?;
    println!("fares: stopped");
    Ok(())
}
