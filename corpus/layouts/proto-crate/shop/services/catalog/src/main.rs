//! The catalog service: answers `shop.v1.Catalog/Lookup` from a fixed list.

use tonic::{Request, Response, Status};

use api::v1::catalog_server::Catalog;
use api::v1::{LookupRequest, Product};

#[derive(Debug, Default)]
pub struct Shelf;

#[tonic::async_trait]
impl Catalog for Shelf {
    async fn lookup(&self, request: Request<LookupRequest>) -> Result<Response<Product>, Status> {
        let sku = request.into_inner().sku;
        let (title, price_cents) = match sku.as_str() {
            "kettle" => ("Stove-top kettle", 3450),
            "teapot" => ("Brown Betty teapot", 2200),
            _ => return Err(Status::not_found(format!("no product `{sku}`"))),
        };
        Ok(Response::new(Product {
            sku,
            title: title.to_string(),
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
    api::serve_catalog(Shelf, addr).await?;
    Ok(())
}
