//! The stock service: how many units of each item the warehouse holds.
//!
//! Configured the twelve-factor way: it listens on `PORT` and logs through
//! `tracing` with the subscriber's defaults.

use std::collections::HashMap;

use tonic::{transport::Server, Request, Response, Status};

use inventory::stock_server::{Stock, StockServer};
use inventory::{CountReply, CountRequest};

pub mod inventory {
    tonic::include_proto!("inventory");
}

/// A fixed catalogue of units per SKU.
pub struct Warehouse {
    units: HashMap<String, u32>,
}

#[tonic::async_trait]
impl Stock for Warehouse {
    async fn count(&self, request: Request<CountRequest>) -> Result<Response<CountReply>, Status> {
        let sku = request.into_inner().sku;
        tracing::info!(%sku, "count");
        match self.units.get(&sku) {
            Some(&units) => Ok(Response::new(CountReply { sku, units })),
            None => Err(Status::not_found(format!("no item {sku}"))),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let port: u16 = std::env::var("PORT").unwrap_or_else(|_| "50061".into()).parse()?;
    let addr = ([127, 0, 0, 1], port).into();
    let units = [("apple", 12), ("pear", 0), ("plum", 7)];
    let warehouse = Warehouse {
        units: units.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    };
    tracing::info!(%addr, "stock listening");
    Server::builder()
        .add_service(StockServer::new(warehouse))
        .serve(addr)
        .await?;
    Ok(())
}
