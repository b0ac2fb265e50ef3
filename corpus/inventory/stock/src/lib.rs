//! The stock service: how many units of each item the warehouse holds.

use std::collections::HashMap;

use tonic::{transport::Server, Request, Response, Status};

use inventory::stock_server::{Stock, StockServer};
use inventory::{CountReply, CountRequest, LevelsRequest};

pub mod inventory {
    tonic::include_proto!("inventory");
}

/// The caller that `authorize` let in.
#[derive(Clone)]
struct Caller(String);

/// Lets in only callers that name themselves in `x-caller`.
fn authorize(mut request: Request<()>) -> Result<Request<()>, Status> {
    let caller = match request.metadata().get("x-caller").and_then(|v| v.to_str().ok()) {
        Some(caller) if !caller.is_empty() => caller.to_string(),
        _ => return Err(Status::unauthenticated("x-caller is required")),
    };
    request.extensions_mut().insert(Caller(caller));
    Ok(request)
}

/// Who `authorize` let in, as replies name it: every method checks that the
/// interceptor ran, over the network and in process alike.
fn checked_by<T>(request: &Request<T>) -> Result<String, Status> {
    match request.extensions().get::<Caller>() {
        Some(Caller(caller)) => Ok(format!("auth:{caller}")),
        None => Err(Status::internal("the interceptor did not run")),
    }
}

/// A fixed catalogue of units per SKU.
pub struct Warehouse {
    units: HashMap<String, u32>,
}

#[tonic::async_trait]
impl Stock for Warehouse {
    type LevelsStream = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<CountReply, Status>> + Send>>;

    type FollowStream = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<CountReply, Status>> + Send>>;

    async fn tally(&self, request: Request<tonic::Streaming<CountRequest>>) -> Result<Response<CountReply>, Status> {
        let checked_by = checked_by(&request)?;
        let mut items = request.into_inner();
        let mut units = 0;
        while let Some(item) = items.message().await? {
            units += self.units.get(&item.sku).copied().unwrap_or(0);
        }
        Ok(Response::new(CountReply { sku: "*".into(), units, checked_by }))
    }

    async fn follow(&self, request: Request<tonic::Streaming<CountRequest>>) -> Result<Response<Self::FollowStream>, Status> {
        use tokio_stream::StreamExt;
        let checked_by = checked_by(&request)?;
        let units = self.units.clone();
        let replies = request.into_inner().map(move |item| {
            let sku = item?.sku;
            let units = units.get(&sku).copied().unwrap_or(0);
            Ok(CountReply { sku, units, checked_by: checked_by.clone() })
        });
        Ok(Response::new(Box::pin(replies)))
    }

    async fn levels(&self, request: Request<LevelsRequest>) -> Result<Response<Self::LevelsStream>, Status> {
        let checked_by = checked_by(&request)?;
        let skus = request.into_inner().skus;
        // A slow lookup: callers with a deadline give up before the stream starts.
        if skus.iter().any(|sku| sku == "slow") {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        let units = self.units.clone();
        let replies = tokio_stream::StreamExt::map(tokio_stream::iter(skus), move |sku| match units.get(&sku) {
            Some(&units) => Ok(CountReply { sku, units, checked_by: checked_by.clone() }),
            // A bug: the stream panics when it reaches this item.
            None if sku == "bug" => panic!("stock levels failed for {sku}"),
            None => Err(Status::not_found(format!("no item {sku}"))),
        });
        Ok(Response::new(Box::pin(replies)))
    }

    async fn count(&self, request: Request<CountRequest>) -> Result<Response<CountReply>, Status> {
        let checked_by = checked_by(&request)?;
        let sku = request.into_inner().sku;
        tracing::info!(%sku, "count");
        match sku.as_str() {
            // A slow lookup: callers with a deadline give up first.
            "slow" => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            // A bug: the handler panics.
            "bug" => panic!("stock lookup failed for {sku}"),
            _ => {}
        }
        match self.units.get(&sku) {
            Some(&units) => Ok(Response::new(CountReply { sku, units, checked_by })),
            None => Err(Status::not_found(format!("no item {sku}"))),
        }
    }
}

/// Serves the warehouse on `addr` until the server stops.
pub async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let units = [("apple", 12), ("pear", 0), ("plum", 7)];
    let warehouse = Warehouse {
        units: units.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    };
    tracing::info!(%addr, "stock listening");
    Server::builder()
        .add_service(StockServer::with_interceptor(warehouse, authorize))
        .serve(addr)
        .await?;
    Ok(())
}
