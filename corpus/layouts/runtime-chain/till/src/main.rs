//! The till service: rings up baskets priced in euros, in the customer's
//! currency, asking the rates service for the conversion. Its `main` builds the
//! runtime by hand and runs everything in one `block_on`.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use rates::rates_client::RatesClient;
use rates::ConvertRequest;
use till::till_server::{Till, TillServer};
use till::{TotalReply, TotalRequest};

pub mod rates {
    tonic::include_proto!("rates");
}

pub mod till {
    tonic::include_proto!("till");
}

struct Counter {
    rates: RatesClient<Channel>,
    receipts: AtomicU64,
}

#[tonic::async_trait]
impl Till for Counter {
    async fn total(&self, request: Request<TotalRequest>) -> Result<Response<TotalReply>, Status> {
        let request = request.into_inner();
        if request.prices.is_empty() {
            return Err(Status::invalid_argument("an empty basket"));
        }
        let euro_cents: u64 = request.prices.iter().sum();
        let converted = self
            .rates
            .clone()
            .convert(ConvertRequest {
                from: "EUR".into(),
                to: request.currency.clone(),
                cents: euro_cents,
            })
            .await?
            .into_inner();
        let receipts = self.receipts.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(receipts, "rung up");
        Ok(Response::new(TotalReply {
            cents: converted.cents,
            currency: request.currency,
            rate: converted.rate,
            receipts,
        }))
    }
}

fn main() {
    if let Err(err) = run() {
        eprintln!("till: {err}");
        std::process::exit(1);
    }
}

/// Sets up logging and till's runtime, and serves on it.
fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let rt = runtime()?;
    rt.block_on(async {
        let addr = std::env::var("TILL_ADDR")
            .unwrap_or_else(|_| "127.0.0.1:50072".to_string())
            .parse()?;
        let url = std::env::var("RATES_URL").unwrap_or_else(|_| "http://127.0.0.1:50071".to_string());
        let counter = Counter {
            rates: RatesClient::connect(url).await?,
            receipts: AtomicU64::new(0),
        };
        tracing::info!(%addr, "till listening");
        Server::builder()
            .add_service(TillServer::new(counter))
            .serve(addr)
            .await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// till's runtime, built where its settings are kept.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
}
