//! The depot: says on which shelf a parcel waits.

use tonic::{transport::Server, Request, Response, Status};

use api::depot_server::{Depot, DepotServer};
use api::{LocateRequest, Parcel};

mod api {
    tonic::include_proto!("depot.v1");
}

struct Shelves;

#[tonic::async_trait]
impl Depot for Shelves {
    async fn locate(&self, request: Request<LocateRequest>) -> Result<Response<Parcel>, Status> {
        let code = request.into_inner().code;
        let (shelf, grams) = match code.as_str() {
            "PX-100" => ("A3", 450),
            "PX-200" => ("C1", 12_000),
            "" => return Err(Status::invalid_argument("a tracking code is needed")),
            _ => return Err(Status::not_found(format!("no parcel {code}"))),
        };
        Ok(Response::new(Parcel {
            code,
            shelf: shelf.into(),
            grams,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("DEPOT_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50081".into())
        .parse()?;
    println!("depot listening on {addr}");
    Server::builder()
        .add_service(DepotServer::new(Shelves))
        .serve(addr)
        .await?;
    Ok(())
}
