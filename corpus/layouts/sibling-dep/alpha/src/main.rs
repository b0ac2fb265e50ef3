//! alpha: quotes prices of a few symbols.

use tonic::{transport::Server, Request, Response, Status};

use shared_proto::v1::quotes_server::{Quotes, QuotesServer};
use shared_proto::v1::{Price, PriceRequest};

#[derive(Debug, Default)]
pub struct Board;

#[tonic::async_trait]
impl Quotes for Board {
    async fn get_price(&self, request: Request<PriceRequest>) -> Result<Response<Price>, Status> {
        let symbol = request.into_inner().symbol;
        if symbol.is_empty() || symbol.chars().any(|c| !c.is_ascii_uppercase()) {
            return Err(Status::invalid_argument(format!(
                "symbol `{symbol}`: use capital letters"
            )));
        }
        // A made-up but stable price: the letters' sum.
        let cents = symbol.bytes().map(u64::from).sum::<u64>() * 7;
        Ok(Response::new(Price { symbol, cents }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("ALPHA_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50091".to_string())
        .parse()?;
    println!("alpha listening on {addr}");
    Server::builder()
        .add_service(QuotesServer::new(Board))
        .serve(addr)
        .await?;
    Ok(())
}
