//! The teller service: opens vault boxes for customers, sending the vault its
//! token only for authorized customers, checks that the vault is serving (its
//! `grpc.health.v1.Health`), and reports how many requests the vault's layers
//! have counted.

use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use proto::teller_server::{Teller, TellerServer};
use proto::{OpenReply, OpenRequest};
use vault_api::stats_client::StatsClient;
use vault_api::vault_client::VaultClient;
use vault_api::{GetRequest, SeenRequest};

pub mod vault_api {
    tonic::include_proto!("vault");
}

pub mod proto {
    tonic::include_proto!("teller");
}

/// The token the vault's auth layer expects.
const TOKEN: &str = "Bearer open-sesame";

/// Holds the vault's client, connected once at start, a channel to the vault
/// for its health checks, and its address, for the stats client each request
/// connects anew.
pub struct TellerService {
    vault: VaultClient<Channel>,
    health: Channel,
    vault_url: String,
}

#[tonic::async_trait]
impl Teller for TellerService {
    async fn open(&self, request: Request<OpenRequest>) -> Result<Response<OpenReply>, Status> {
        let OpenRequest { name, authorized } = request.into_inner();
        let mut get = Request::new(GetRequest { name });
        if authorized {
            get.metadata_mut()
                .insert("authorization", MetadataValue::from_static(TOKEN));
        }
        let mut vault = self.vault.clone();
        let contents = vault.get(get).await?.into_inner().contents;
        let mut health = HealthClient::new(self.health.clone());
        let check = HealthCheckRequest {
            service: "vault.Vault".into(),
        };
        let serving = health.check(check).await?.into_inner().status;
        if serving != ServingStatus::Serving as i32 {
            return Err(Status::unavailable("the vault is not serving"));
        }
        let mut stats = StatsClient::connect(self.vault_url.clone())
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let vault_requests = stats.seen(SeenRequest {}).await?.into_inner().requests;
        Ok(Response::new(OpenReply {
            contents,
            vault_requests,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("TELLER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50072".to_string())
        .parse()?;
    let vault_url =
        std::env::var("VAULT_URL").unwrap_or_else(|_| "http://vault:50071".to_string());

    let vault = VaultClient::connect(vault_url.clone()).await?;
    // tonic-health's generated client has no `connect`: it takes a channel.
    let health = Endpoint::from_shared(vault_url.clone())?.connect_lazy();
    let teller = TellerService {
        vault,
        health,
        vault_url,
    };

    println!("teller listening on {addr}");

    Server::builder()
        .add_service(TellerServer::new(teller))
        .serve(addr)
        .await?;

    Ok(())
}
