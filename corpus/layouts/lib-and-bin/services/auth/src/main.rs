//! The auth service: tells who holds a session token. Its binary declares the
//! generated code again (`mod proto;`, the library's file) and serves behind a
//! tower layer that wants every caller named.

mod caller;
mod proto;

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use crate::proto::auth_server::{Auth, AuthServer};
use crate::proto::{CheckReply, CheckRequest};

/// The sessions auth knows.
struct Sessions;

#[tonic::async_trait]
impl Auth for Sessions {
    async fn check(&self, request: Request<CheckRequest>) -> Result<Response<CheckReply>, Status> {
        let user = match request.into_inner().token.as_str() {
            "t-ada" => "ada",
            "t-grace" => "grace",
            other => return Err(Status::not_found(format!("no session {other:?}"))),
        };
        Ok(Response::new(CheckReply {
            user: user.to_string(),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("AUTH_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50081".to_string())
        .parse()?;
    println!("auth listening on {addr}");
    serve(addr).await
}

/// Serves auth's API behind the layer that wants its callers named.
async fn serve(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let mut server = Server::builder().layer(caller::NamedCallerLayer);
    server
        .add_service(AuthServer::new(Sessions))
        .serve(addr)
        .await?;
    Ok(())
}
