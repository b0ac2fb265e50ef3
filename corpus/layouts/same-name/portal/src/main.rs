//! The portal service: lets users in through identity.auth.Session and
//! visitors through identity.guest.Session.

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use identity::{auth, guest};
use portal::portal_server::{Portal, PortalServer};
use portal::{EnterReply, EnterRequest};

pub mod identity {
    pub mod auth {
        tonic::include_proto!("identity.auth");
    }
    pub mod guest {
        tonic::include_proto!("identity.guest");
    }
}

pub mod portal {
    tonic::include_proto!("portal");
}

/// One client of each `Session` service, connected once at start.
pub struct Door {
    auth: auth::session_client::SessionClient<Channel>,
    guest: guest::session_client::SessionClient<Channel>,
}

#[tonic::async_trait]
impl Portal for Door {
    async fn enter(&self, request: Request<EnterRequest>) -> Result<Response<EnterReply>, Status> {
        let EnterRequest { user, password } = request.into_inner();
        let text = if password.is_empty() {
            let reply = self
                .guest
                .clone()
                .open(guest::OpenRequest { nickname: user })
                .await?
                .into_inner();
            format!("guest session {} for {} minutes", reply.token, reply.minutes)
        } else {
            let reply = self
                .auth
                .clone()
                .open(auth::OpenRequest { user, password })
                .await?
                .into_inner();
            format!("user session {}", reply.token)
        };
        Ok(Response::new(EnterReply { text }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("PORTAL_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50112".to_string())
        .parse()?;
    let identity_url =
        std::env::var("IDENTITY_URL").unwrap_or_else(|_| "http://127.0.0.1:50111".to_string());
    let door = Door {
        auth: auth::session_client::SessionClient::connect(identity_url.clone()).await?,
        guest: guest::session_client::SessionClient::connect(identity_url).await?,
    };
    println!("portal listening on {addr}");
    Server::builder()
        .add_service(PortalServer::new(door))
        .serve(addr)
        .await?;
    Ok(())
}
