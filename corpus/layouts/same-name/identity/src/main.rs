//! The identity service: opens sessions for users (identity.auth.Session) and
//! for visitors (identity.guest.Session).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tonic::{transport::Server, Request, Response, Status};

use identity::{auth, guest};

pub mod identity {
    pub mod auth {
        tonic::include_proto!("identity.auth");
    }
    pub mod guest {
        tonic::include_proto!("identity.guest");
    }
}

/// Numbers every session, of either kind.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

pub struct UserSessions(Arc<Counter>);

#[tonic::async_trait]
impl auth::session_server::Session for UserSessions {
    async fn open(
        &self,
        request: Request<auth::OpenRequest>,
    ) -> Result<Response<auth::OpenReply>, Status> {
        let auth::OpenRequest { user, password } = request.into_inner();
        if (user.as_str(), password.as_str()) != ("ada", "lovelace") {
            return Err(Status::unauthenticated(format!("wrong password for {user}")));
        }
        Ok(Response::new(auth::OpenReply {
            token: format!("user-{user}-{}", self.0.next()),
        }))
    }
}

pub struct GuestSessions(Arc<Counter>);

#[tonic::async_trait]
impl guest::session_server::Session for GuestSessions {
    async fn open(
        &self,
        request: Request<guest::OpenRequest>,
    ) -> Result<Response<guest::OpenReply>, Status> {
        let nickname = request.into_inner().nickname;
        if nickname.is_empty() {
            return Err(Status::invalid_argument("a guest needs a nickname"));
        }
        Ok(Response::new(guest::OpenReply {
            token: format!("guest-{nickname}-{}", self.0.next()),
            minutes: 15,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("IDENTITY_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50111".to_string())
        .parse()?;
    let counter = Arc::new(Counter::default());
    println!("identity listening on {addr}");
    Server::builder()
        .add_service(auth::session_server::SessionServer::new(UserSessions(
            counter.clone(),
        )))
        .add_service(guest::session_server::SessionServer::new(GuestSessions(
            counter,
        )))
        .serve(addr)
        .await?;
    Ok(())
}
