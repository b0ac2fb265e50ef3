//! The orders service: takes an order after looking the buyer up in users.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use orders::orders_server::{Orders, OrdersServer};
use orders::{PlaceOrderReply, PlaceOrderRequest};
use users::users_client::UsersClient;
use users::GetUserRequest;

pub mod orders {
    tonic::include_proto!("orders.v1");
}

pub mod users {
    tonic::include_proto!("users.v1");
}

pub struct OrderDesk {
    users: UsersClient<Channel>,
    placed: AtomicU64,
}

#[tonic::async_trait]
impl Orders for OrderDesk {
    async fn place_order(
        &self,
        request: Request<PlaceOrderRequest>,
    ) -> Result<Response<PlaceOrderReply>, Status> {
        let request = request.into_inner();
        let mut users = self.users.clone();
        let user = users
            .get_user(GetUserRequest {
                id: request.user_id,
            })
            .await?
            .into_inner();
        let order = self.placed.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Response::new(PlaceOrderReply {
            order,
            summary: format!("order #{order}: {} for {}", request.item, user.name),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("ORDERS_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50062".to_string())
        .parse()?;
    let users_url =
        std::env::var("USERS_URL").unwrap_or_else(|_| "http://127.0.0.1:50061".to_string());
    let users = UsersClient::connect(users_url).await?;
    let desk = OrderDesk {
        users,
        placed: AtomicU64::new(0),
    };
    println!("orders listening on {addr}");
    Server::builder()
        .add_service(OrdersServer::new(desk))
        .serve(addr)
        .await?;
    Ok(())
}
