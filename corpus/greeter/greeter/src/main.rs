//! The greeter service: answers `helloworld.Greeter/SayHello`.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::{transport::Server, Request, Response, Status};

use hello_world::greeter_server::{Greeter, GreeterServer};
use hello_world::{HelloReply, HelloRequest};

pub mod hello_world {
    tonic::include_proto!("helloworld");
}

/// Greets by name and counts the greetings it has given.
#[derive(Debug, Default)]
pub struct MyGreeter {
    greeted: AtomicU64,
}

#[tonic::async_trait]
impl Greeter for MyGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let name = request.into_inner().name;
        if name.is_empty() {
            return Err(Status::invalid_argument("name must not be empty"));
        }
        let n = self.greeted.fetch_add(1, Ordering::Relaxed) + 1;
        let reply = HelloReply {
            message: format!("Hello {name}! (greeting #{n})"),
        };
        Ok(Response::new(reply))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("GREETER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50051".to_string())
        .parse()?;
    let greeter = MyGreeter::default();

    println!("greeter listening on {addr}");

    Server::builder()
        .add_service(GreeterServer::new(greeter))
        .serve(addr)
        .await?;

    Ok(())
}
