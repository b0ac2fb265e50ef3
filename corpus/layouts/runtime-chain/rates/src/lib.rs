//! The rates service: converts amounts between the shop's currencies.

use tonic::{transport::Server, Request, Response, Status};

use proto::rates_server::{Rates, RatesServer};
use proto::{ConvertReply, ConvertRequest};

pub mod proto {
    tonic::include_proto!("rates");
}

/// Units of each currency per euro, in thousandths.
const PER_EURO: &[(&str, u64)] = &[("EUR", 1000), ("USD", 1080), ("GBP", 850), ("JPY", 162_000)];

fn per_euro(currency: &str) -> Result<u64, Status> {
    PER_EURO
        .iter()
        .find(|(code, _)| *code == currency)
        .map(|(_, rate)| *rate)
        .ok_or_else(|| Status::not_found(format!("no rate for `{currency}`")))
}

/// Fixed rates, as the table holds them.
#[derive(Default)]
pub struct Table;

#[tonic::async_trait]
impl Rates for Table {
    async fn convert(&self, request: Request<ConvertRequest>) -> Result<Response<ConvertReply>, Status> {
        let request = request.into_inner();
        let (from, to) = (per_euro(&request.from)?, per_euro(&request.to)?);
        let cents = request.cents * to / from;
        tracing::info!(from = %request.from, to = %request.to, cents, "converted");
        Ok(Response::new(ConvertReply {
            cents,
            rate: format!("{}/{}={}", request.from, request.to, to as f64 / from as f64),
        }))
    }
}

/// Serves the rate table on `addr` until the server stops.
pub async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(%addr, "rates listening");
    // The server runs in a task of its own, as in services that do other work
    // beside it; `serve` waits for that task.
    let server = tokio::spawn(async move {
        Server::builder()
            .add_service(RatesServer::new(Table))
            .serve(addr)
            .await
    });
    server.await??;
    Ok(())
}
