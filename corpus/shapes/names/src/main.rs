//! The names service: greets whoever it is asked to, naming the caller that
//! its client's interceptor named.
//!
//! It listens on `NAMES_ADDR` and accepts gzip-compressed requests.

use std::time::Duration;

use tonic::codec::CompressionEncoding;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use pb::names_server::{Names, NamesServer};
use pb::{GreetReply, GreetRequest};

pub mod pb {
    tonic::include_proto!("names.v1");
}

#[derive(Default)]
struct Greeter;

#[tonic::async_trait]
impl Names for Greeter {
    async fn greet(&self, request: Request<GreetRequest>) -> Result<Response<GreetReply>, Status> {
        let caller = match request.metadata().get("x-caller").and_then(|v| v.to_str().ok()) {
            Some(caller) => format!(" (for {caller})"),
            None => String::new(),
        };
        let name = request.into_inner().name;
        match name.as_str() {
            "" => return Err(Status::invalid_argument("name must not be empty")),
            // A slow answer: callers with a deadline give up first.
            "slow" => tokio::time::sleep(Duration::from_millis(500)).await,
            _ => {}
        }
        Ok(Response::new(GreetReply { message: format!("hello {name}{caller}") }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("NAMES_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50081".into())
        .parse()?;
    println!("names listening on {addr}");
    Server::builder()
        .tcp_nodelay(true)
        .add_service(
            NamesServer::new(Greeter)
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip),
        )
        .serve(addr)
        .await?;
    Ok(())
}
