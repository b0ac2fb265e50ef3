//! The vault service: answers `vault.Vault/Get` behind an auth layer, and
//! `vault.Stats/Seen` with what its request-counting layer has seen. Its
//! server also carries tonic's health service, a server-wide timeout, and
//! HTTP/1 for gRPC-web-style callers.

mod layers;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tonic::{transport::Server, Request, Response, Status};

use vault_api::stats_server::{Stats, StatsServer};
use vault_api::vault_server::{Vault, VaultServer};
use vault_api::{GetReply, GetRequest, SeenReply, SeenRequest};

pub mod vault_api {
    tonic::include_proto!("vault");
}

/// The boxes and their contents.
pub struct Boxes(BTreeMap<&'static str, &'static str>);

#[tonic::async_trait]
impl Vault for Boxes {
    async fn get(&self, request: Request<GetRequest>) -> Result<Response<GetReply>, Status> {
        let name = request.into_inner().name;
        let contents = self
            .0
            .get(name.as_str())
            .ok_or_else(|| Status::not_found(format!("no box named {name:?}")))?;
        Ok(Response::new(GetReply {
            contents: contents.to_string(),
        }))
    }
}

/// Reports the count of [`layers::CountLayer`].
pub struct Counter(Arc<AtomicU64>);

#[tonic::async_trait]
impl Stats for Counter {
    async fn seen(&self, _: Request<SeenRequest>) -> Result<Response<SeenReply>, Status> {
        Ok(Response::new(SeenReply {
            requests: self.0.load(Ordering::Relaxed),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: std::net::SocketAddr = std::env::var("VAULT_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50071".to_string())
        .parse()?;
    let boxes = Boxes(BTreeMap::from([("gold", "12 bars"), ("deeds", "a castle")]));
    let seen = Arc::new(AtomicU64::new(0));

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<VaultServer<Boxes>>().await;

    println!("vault listening on {addr}");

    Server::builder()
        .accept_http1(true)
        .timeout(Duration::from_secs(10))
        .layer(layers::CountLayer(seen.clone()))
        .layer(layers::AuthLayer)
        .add_service(health)
        .add_service(VaultServer::new(boxes))
        .add_service(StatsServer::new(Counter(seen)))
        .serve(addr)
        .await?;

    Ok(())
}
