//! The orders service: takes orders, asking the users service whether the
//! buyer exists and may still order.

use std::sync::atomic::{AtomicU64, Ordering};

use market::pb::orders::orders_server::{Orders, OrdersServer};
use market::pb::orders::{PlaceRequest, Receipt};
use market::pb::users::users_client::UsersClient;
use market::pb::users::LookupRequest;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

struct Desk {
    users: UsersClient<Channel>,
    placed: AtomicU64,
}

#[tonic::async_trait]
impl Orders for Desk {
    async fn place(&self, request: Request<PlaceRequest>) -> Result<Response<Receipt>, Status> {
        let order = request.into_inner();
        if order.quantity == 0 {
            return Err(Status::invalid_argument("an order of nothing"));
        }
        let buyer = self
            .users
            .clone()
            .lookup(LookupRequest { id: order.buyer })
            .await?
            .into_inner();
        if buyer.allowance == 0 {
            return Err(Status::resource_exhausted(format!(
                "{} has no orders left today",
                buyer.name
            )));
        }
        let number = self.placed.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Response::new(Receipt {
            buyer: buyer.name,
            item: order.item,
            quantity: order.quantity,
            number,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = market::listen_addr("ORDERS_ADDR", "127.0.0.1:50082")?;
    let url = market::users_url();
    let desk = Desk {
        users: UsersClient::connect(url).await?,
        placed: AtomicU64::new(0),
    };
    Server::builder()
        .add_service(OrdersServer::new(desk))
        .serve(addr)
        .await?;
    Ok(())
}
