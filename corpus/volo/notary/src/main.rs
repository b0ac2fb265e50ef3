//! notary: a tonic service that seals teller's deposits. Its interceptor
//! refuses calls without the bearer token; it reads the trace that Volo
//! callers carry as metainfo (the header `rpc-persist-trace`). 666 cents
//! panic. `NOTARY_ADDR` is where it listens.

pub mod notary {
    tonic::include_proto!("notary");
}

use std::sync::atomic::{AtomicU64, Ordering};

use notary::notary_server::{Notary, NotaryServer};
use notary::{SealReply, SealRequest};
use tonic::transport::Server;
use tonic::{Request, Response, Status};

/// The token teller sends.
const TOKEN: &str = "Bearer teller-secret";

#[derive(Default)]
struct Desk {
    sealed: AtomicU64,
}

#[tonic::async_trait]
impl Notary for Desk {
    async fn seal(&self, req: Request<SealRequest>) -> Result<Response<SealReply>, Status> {
        let trace = req
            .metadata()
            .get("rpc-persist-trace")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_string();
        let req = req.into_inner();
        assert_ne!(req.cents, 666, "notary: a forged amount");
        if req.cents <= 0 {
            return Err(Status::invalid_argument(format!(
                "nothing to seal for `{}`",
                req.account
            )));
        }
        let number = self.sealed.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Response::new(SealReply {
            seal: format!(
                "seal #{number}: {} {} (trace {trace})",
                req.account, req.cents
            ),
        }))
    }
}

/// Refuses a call without the token.
fn check_token(req: Request<()>) -> Result<Request<()>, Status> {
    match req.metadata().get("authorization") {
        Some(token) if token == TOKEN => Ok(req),
        _ => Err(Status::unauthenticated("notary: no token")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("NOTARY_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50084".into())
        .parse()?;
    Server::builder()
        .add_service(NotaryServer::with_interceptor(Desk::default(), check_token))
        .serve(addr)
        .await?;
    Ok(())
}
