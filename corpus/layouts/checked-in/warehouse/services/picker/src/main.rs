//! The picker service: picks an order's items after reserving them in stock.

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use pb::picker_server::{Picker, PickerServer};
use pb::stock_client::StockClient;
use pb::{PickReply, PickRequest, ReserveRequest};

mod pb {
    include!("../generated/inventory.v1.rs");
}

pub struct Floor {
    stock: StockClient<Channel>,
}

#[tonic::async_trait]
impl Picker for Floor {
    async fn pick(&self, request: Request<PickRequest>) -> Result<Response<PickReply>, Status> {
        let PickRequest {
            order,
            sku,
            quantity,
        } = request.into_inner();
        let left = self
            .stock
            .clone()
            .reserve(ReserveRequest {
                sku: sku.clone(),
                quantity,
            })
            .await?
            .into_inner()
            .left;
        Ok(Response::new(PickReply {
            note: format!("{order}: picked {quantity} x {sku}, {left} left"),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("PICKER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50082".to_string())
        .parse()?;
    let stock_url =
        std::env::var("STOCK_URL").unwrap_or_else(|_| "http://127.0.0.1:50081".to_string());
    let floor = Floor {
        stock: StockClient::connect(stock_url).await?,
    };
    println!("picker listening on {addr}");
    Server::builder()
        .add_service(PickerServer::new(floor))
        .serve(addr)
        .await?;
    Ok(())
}
