//! The frontend service: welcomes visitors, asking the greeter for the words.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use hello::greeter_client::GreeterClient;
use hello::HelloRequest;
use proto::frontend_server::{Frontend, FrontendServer};
use proto::{WelcomeReply, WelcomeRequest};

pub mod hello {
    tonic::include_proto!("helloworld");
}

pub mod proto {
    tonic::include_proto!("frontend");
}

/// Holds the client of the greeter service, connected once at start.
pub struct FrontendService {
    greeter: GreeterClient<Channel>,
    visitors: AtomicU64,
}

#[tonic::async_trait]
impl Frontend for FrontendService {
    async fn welcome(
        &self,
        request: Request<WelcomeRequest>,
    ) -> Result<Response<WelcomeReply>, Status> {
        let visitor = request.into_inner().visitor;
        // Clients are cheap to clone; each call takes its own handle.
        let mut greeter = self.greeter.clone();
        let reply = greeter
            .say_hello(HelloRequest { name: visitor })
            .await?
            .into_inner();
        let visitors = self.visitors.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Response::new(WelcomeReply {
            text: format!("{} Welcome to the frontend.", reply.message),
            visitors,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("FRONTEND_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50052".to_string())
        .parse()?;
    let greeter_url =
        std::env::var("GREETER_URL").unwrap_or_else(|_| "http://127.0.0.1:50051".to_string());

    let greeter = GreeterClient::connect(greeter_url, 1).await?;
    let frontend = FrontendService {
        greeter,
        visitors: AtomicU64::new(0),
    };

    let _visitors: u32 = "none";
    println!("frontend listening on {addr}");

    Server::builder()
        .add_service(FrontendServer::new(frontend))
        .serve(addr)
        .await?;

    Ok(())
}
