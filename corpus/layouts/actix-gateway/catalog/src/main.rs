//! The catalog service: names and prices of the shop's items, by SKU.

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use proto::catalog_server::{Catalog, CatalogServer};
use proto::{DescribeRequest, Description};

pub mod proto {
    tonic::include_proto!("catalog");
}

/// A fixed price list.
pub struct Shelf;

#[tonic::async_trait]
impl Catalog for Shelf {
    async fn describe(
        &self,
        request: Request<DescribeRequest>,
    ) -> Result<Response<Description>, Status> {
        let sku = request.into_inner().sku;
        let (name, price_cents) = match sku.as_str() {
            "tea-01" => ("Sencha, 100 g", 850),
            "mug-02" => ("Stoneware mug", 1400),
            "pot-03" => ("Cast-iron teapot", 4900),
            "" => return Err(Status::invalid_argument("empty SKU")),
            _ => return Err(Status::not_found(format!("no item {sku}"))),
        };
        Ok(Response::new(Description {
            name: name.into(),
            price_cents,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("CATALOG_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50071".to_string())
        .parse()?;
    println!("catalog listening on {addr}");
    Server::builder()
        .add_service(CatalogServer::new(Shelf))
        .serve(addr)
        .await?;
    Ok(())
}
