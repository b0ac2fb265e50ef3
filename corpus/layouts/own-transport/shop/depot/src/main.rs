//! The depot service: how many of an item it holds (`stockroom.v1.Stock`) and what
//! the item costs (`stockroom.v1.Prices`). Each answers after the delay the request
//! asks for, and an unknown item is `NotFound` with the item in the status's
//! metadata. Stock echoes who the request said was calling (`x-trace-origin`).

use std::time::Duration;

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::Server;
use tonic::{Code, Request, Response, Status};

use api::prices_server::{Prices, PricesServer};
use api::stock_server::{Stock, StockServer};
use api::{GetReply, GetRequest, QuoteReply, QuoteRequest};

pub mod api {
    tonic::include_proto!("stockroom.v1");
}

/// The metadata key a caller names itself with.
const ORIGIN: &str = "x-trace-origin";

/// The items the depot holds: name, count, price in cents.
const SHELVES: [(&str, u32, u64); 3] = [("kettle", 4, 2599), ("teapot", 12, 1850), ("cup", 60, 399)];

/// The shelf of `item`, or `NotFound` naming it in the metadata
/// (`x-depot-missing`).
fn shelf(item: &str) -> Result<(u32, u64), Status> {
    match SHELVES.iter().find(|(name, ..)| *name == item) {
        Some(&(_, count, cents)) => Ok((count, cents)),
        None => {
            let mut metadata = MetadataMap::new();
            if let Ok(value) = MetadataValue::try_from(item) {
                metadata.insert("x-depot-missing", value);
            }
            Err(Status::with_metadata(
                Code::NotFound,
                format!("the depot holds no {item:?}"),
                metadata,
            ))
        }
    }
}

/// Waits `delay_ms` milliseconds: the slow path a request asks for.
async fn pause(delay_ms: u32) {
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms.into())).await;
    }
}

/// Answers stock questions from [`SHELVES`].
struct Shelves;

#[tonic::async_trait]
impl Stock for Shelves {
    async fn get(&self, request: Request<GetRequest>) -> Result<Response<GetReply>, Status> {
        let traced_by = request
            .metadata()
            .get(ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let GetRequest { item, delay_ms } = request.into_inner();
        pause(delay_ms).await;
        let (count, _) = shelf(&item)?;
        Ok(Response::new(GetReply {
            item,
            count,
            traced_by,
        }))
    }
}

/// Answers price questions from [`SHELVES`].
struct PriceList;

#[tonic::async_trait]
impl Prices for PriceList {
    async fn quote(&self, request: Request<QuoteRequest>) -> Result<Response<QuoteReply>, Status> {
        let QuoteRequest { item, delay_ms } = request.into_inner();
        pause(delay_ms).await;
        let (_, cents) = shelf(&item)?;
        Ok(Response::new(QuoteReply { cents }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("DEPOT_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50091".to_string())
        .parse()?;
    println!("depot listening on {addr}");
    Server::builder()
        .add_service(StockServer::new(Shelves))
        .add_service(PricesServer::new(PriceList))
        .serve(addr)
        .await?;
    Ok(())
}
