//! The stock service: reserves items while there are enough of them.

use std::collections::HashMap;
use std::sync::Mutex;

use tonic::{transport::Server, Request, Response, Status};

use proto::pb::stock_server::{Stock, StockServer};
use proto::pb::{ReserveReply, ReserveRequest};

pub struct Counts {
    on_hand: Mutex<HashMap<String, u32>>,
}

#[tonic::async_trait]
impl Stock for Counts {
    async fn reserve(
        &self,
        request: Request<ReserveRequest>,
    ) -> Result<Response<ReserveReply>, Status> {
        let ReserveRequest { sku, quantity } = request.into_inner();
        let mut on_hand = self.on_hand.lock().unwrap();
        let Some(count) = on_hand.get_mut(&sku) else {
            return Err(Status::not_found(format!("no sku `{sku}`")));
        };
        if *count < quantity {
            return Err(Status::failed_precondition(format!(
                "only {count} of `{sku}` left"
            )));
        }
        *count -= quantity;
        Ok(Response::new(ReserveReply { left: *count }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("STOCK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50081".to_string())
        .parse()?;
    let counts = Counts {
        on_hand: Mutex::new(HashMap::from([("bolt".to_string(), 10)])),
    };
    println!("stock listening on {addr}");
    Server::builder()
        .add_service(StockServer::new(counts))
        .serve(addr)
        .await?;
    Ok(())
}
