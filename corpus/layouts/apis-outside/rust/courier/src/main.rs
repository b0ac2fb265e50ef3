//! The courier: books a van for a parcel, small or large by its weight at
//! the depot.

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use courier::courier_server::{Courier, CourierServer};
use courier::{BookRequest, Booking};
use depot::depot_client::DepotClient;
use depot::LocateRequest;

mod courier {
    tonic::include_proto!("courier.v1");
}

mod depot {
    tonic::include_proto!("depot.v1");
}

struct Dispatch {
    depot: DepotClient<Channel>,
}

#[tonic::async_trait]
impl Courier for Dispatch {
    async fn book(&self, request: Request<BookRequest>) -> Result<Response<Booking>, Status> {
        let code = request.into_inner().code;
        let parcel = self
            .depot
            .clone()
            .locate(LocateRequest { code: code.clone() })
            .await?
            .into_inner();
        let van = if parcel.grams > 5_000 { "large" } else { "small" };
        Ok(Response::new(Booking {
            code,
            van: van.into(),
            note: format!("collect from shelf {}", parcel.shelf),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("COURIER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50082".into())
        .parse()?;
    let depot_url =
        std::env::var("DEPOT_URL").unwrap_or_else(|_| "http://127.0.0.1:50081".into());
    let depot = DepotClient::connect(depot_url).await?;
    println!("courier listening on {addr}");
    Server::builder()
        .add_service(CourierServer::new(Dispatch { depot }))
        .serve(addr)
        .await?;
    Ok(())
}
