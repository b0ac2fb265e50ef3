//! The gateway service: greets the holder of a session token, asking auth who
//! it is, through auth's client helper or with auth's generated client.

use auth::client::AuthClient;
use auth::proto::auth_client::AuthClient as RawAuthClient;
use auth::proto::CheckRequest;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use proto::gateway_server::{Gateway, GatewayServer};
use proto::{WhoamiReply, WhoamiRequest};

pub mod proto {
    tonic::include_proto!("gateway");
}

/// Holds auth's client helper, connected once at start, and auth's address
/// for the generated client each request connects anew.
struct Greeter {
    auth: AuthClient,
    auth_url: String,
}

#[tonic::async_trait]
impl Gateway for Greeter {
    async fn whoami(&self, request: Request<WhoamiRequest>) -> Result<Response<WhoamiReply>, Status> {
        let WhoamiRequest { token, via_helper } = request.into_inner();
        let user = if via_helper {
            self.auth.clone().user_of(&token).await?
        } else {
            let mut raw: RawAuthClient<Channel> = RawAuthClient::connect(self.auth_url.clone())
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            raw.check(CheckRequest { token }).await?.into_inner().user
        };
        Ok(Response::new(WhoamiReply {
            greeting: format!("hello, {user}"),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("GATEWAY_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50082".to_string())
        .parse()?;
    let auth_url = std::env::var("AUTH_URL").unwrap_or_else(|_| "http://auth:50081".to_string());
    let auth = AuthClient::connect(auth_url.clone(), "gateway").await?;
    println!("gateway listening on {addr}");
    Server::builder()
        .add_service(GatewayServer::new(Greeter { auth, auth_url }))
        .serve(addr)
        .await?;
    Ok(())
}
