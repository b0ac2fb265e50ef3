//! beta: values a holding at alpha's price.

use tonic::{transport::Server, Request, Response, Status};

use shared_proto::v1::portfolio_server::{Portfolio, PortfolioServer};
use shared_proto::v1::quotes_client::QuotesClient;
use shared_proto::v1::{PriceRequest, ValueReply, ValueRequest};

/// Connects to alpha for every valuation.
pub struct Valuer {
    alpha_url: String,
}

#[tonic::async_trait]
impl Portfolio for Valuer {
    async fn value(&self, request: Request<ValueRequest>) -> Result<Response<ValueReply>, Status> {
        let ValueRequest { symbol, shares } = request.into_inner();
        let mut quotes = QuotesClient::connect(self.alpha_url.clone())
            .await
            .map_err(|e| Status::unavailable(format!("alpha: {e}")))?;
        let price = quotes
            .get_price(PriceRequest { symbol })
            .await?
            .into_inner();
        let total = price.cents * shares;
        Ok(Response::new(ValueReply {
            text: format!(
                "{shares} x {} = {}.{:02}",
                price.symbol,
                total / 100,
                total % 100
            ),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("BETA_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50092".to_string())
        .parse()?;
    let alpha_url =
        std::env::var("ALPHA_URL").unwrap_or_else(|_| "http://127.0.0.1:50091".to_string());
    println!("beta listening on {addr}");
    Server::builder()
        .add_service(PortfolioServer::new(Valuer { alpha_url }))
        .serve(addr)
        .await?;
    Ok(())
}
