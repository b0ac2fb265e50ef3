//! The stock service: units on hand, by SKU.

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use proto::stock_server::{Stock, StockServer};
use proto::{CountReply, CountRequest};

pub mod proto {
    tonic::include_proto!("stock");
}

/// A fixed inventory: the mugs are sold out.
pub struct Warehouse;

#[tonic::async_trait]
impl Stock for Warehouse {
    async fn count(&self, request: Request<CountRequest>) -> Result<Response<CountReply>, Status> {
        let units = match request.into_inner().sku.as_str() {
            "tea-01" => 42,
            "pot-03" => 3,
            _ => 0,
        };
        Ok(Response::new(CountReply { units }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("STOCK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50072".to_string())
        .parse()?;
    println!("stock listening on {addr}");
    Server::builder()
        .add_service(StockServer::new(Warehouse))
        .serve(addr)
        .await?;
    Ok(())
}
