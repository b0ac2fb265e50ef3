//! The shelf service: prints shelf labels, asking stock how many units are left.
//!
//! It listens on `PORT` too, and finds stock at `STOCK_URL`.

use tonic::codegen::InterceptedService;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use inventory::stock_client::StockClient;
use inventory::{CountRequest, LevelsRequest};
use shelf::shelf_server::{Shelf, ShelfServer};
use shelf::{DescribeReply, DescribeRequest, StocktakeRequest};

pub mod inventory {
    tonic::include_proto!("inventory");
}

pub mod shelf {
    tonic::include_proto!("shelf");
}

pub struct Labels {
    stock: StockClient<InterceptedService<Channel, fn(Request<()>) -> Result<Request<()>, Status>>>,
}

/// Names this service to stock's interceptor.
fn name_caller(mut request: Request<()>) -> Result<Request<()>, Status> {
    request.metadata_mut().insert("x-caller", "shelf".parse().unwrap());
    Ok(request)
}

#[tonic::async_trait]
impl Shelf for Labels {
    async fn describe(&self, request: Request<DescribeRequest>) -> Result<Response<DescribeReply>, Status> {
        let sku = request.into_inner().sku;
        // Stock answers within the channel's timeout (200 ms) or not at all.
        let count = Request::new(CountRequest { sku: sku.clone() });
        let count = self.stock.clone().count(count).await?.into_inner();
        let label = match count.units {
            0 => format!("{sku}: sold out ({})", count.checked_by),
            n => format!("{sku}: {n} left ({})", count.checked_by),
        };
        tracing::info!(%label, "describe");
        Ok(Response::new(DescribeReply { label }))
    }

    async fn stocktake(&self, request: Request<StocktakeRequest>) -> Result<Response<DescribeReply>, Status> {
        let skus = request.into_inner().skus;
        // The total through a client-streaming call, the levels through a server-streaming one.
        let items: Vec<CountRequest> = skus.iter().map(|sku| CountRequest { sku: sku.clone() }).collect();
        let total = self.stock.clone().tally(tokio_stream::iter(items)).await?.into_inner().units;
        // Stock starts streaming the levels within 200 ms or not at all.
        let mut levels = Request::new(LevelsRequest { skus });
        levels.set_timeout(std::time::Duration::from_millis(200));
        let mut levels = self.stock.clone().levels(levels).await?.into_inner();
        let mut parts = Vec::new();
        while let Some(level) = levels.message().await? {
            parts.push(format!("{}={}", level.sku, level.units));
        }
        Ok(Response::new(DescribeReply { label: format!("{} (total {total})", parts.join(", ")) }))
    }

    async fn recount(&self, request: Request<StocktakeRequest>) -> Result<Response<DescribeReply>, Status> {
        // Each item goes out on one stream while its count comes back on the other.
        let items: Vec<CountRequest> =
            request.into_inner().skus.into_iter().map(|sku| CountRequest { sku }).collect();
        let mut counts = self.stock.clone().follow(tokio_stream::iter(items)).await?.into_inner();
        let mut parts = Vec::new();
        while let Some(count) = counts.message().await? {
            parts.push(format!("{}={}", count.sku, count.units));
        }
        Ok(Response::new(DescribeReply { label: format!("recounted {}", parts.join(", ")) }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let port: u16 = std::env::var("PORT").unwrap_or_else(|_| "50062".into()).parse()?;
    let addr = ([127, 0, 0, 1], port).into();
    let stock_url = std::env::var("STOCK_URL").unwrap_or_else(|_| "http://127.0.0.1:50061".into());
    // Every call to stock gets 200 ms (`Endpoint::timeout`, a per-request timeout).
    let channel = Endpoint::from_shared(stock_url)?
        .timeout(std::time::Duration::from_millis(200))
        .connect_lazy();
    let labels = Labels {
        stock: StockClient::with_interceptor(channel, name_caller as fn(_) -> _),
    };
    tracing::info!(%addr, "shelf listening");
    Server::builder()
        .add_service(ShelfServer::new(labels))
        .serve(addr)
        .await?;
    Ok(())
}
