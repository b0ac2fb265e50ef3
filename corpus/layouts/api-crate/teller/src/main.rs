//! The teller: posts deposits to the ledger, and only while the ledger's
//! process says the ledger serves, by gRPC's standard health check
//! (`grpc.health.v1.Health/Check`, with the client the `tonic-health` crate
//! holds). Both clients share one channel to the ledger.

use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

pub mod ledger {
    tonic::include_proto!("ledger");
}
pub mod teller {
    tonic::include_proto!("teller");
}

use ledger::ledger_client::LedgerClient;
use ledger::{Entry, FreezeRequest};
use teller::teller_server::{Teller, TellerServer};
use teller::{CloseRequest, DepositRequest, ProbeReply, ProbeRequest, Receipt};

struct Desk {
    ledger: LedgerClient<Channel>,
    health: HealthClient<Channel>,
}

impl Desk {
    /// The status the ledger's process gives `service`; its `NotFound` for a
    /// service it does not know passes through.
    async fn status(&self, service: &str) -> Result<ServingStatus, Status> {
        let mut health = self.health.clone();
        let request = HealthCheckRequest {
            service: service.into(),
        };
        Ok(health.check(request).await?.into_inner().status())
    }
}

#[tonic::async_trait]
impl Teller for Desk {
    async fn deposit(&self, request: Request<DepositRequest>) -> Result<Response<Receipt>, Status> {
        let DepositRequest { account, amount } = request.into_inner();
        if self.status("ledger.Ledger").await? != ServingStatus::Serving {
            return Err(Status::unavailable("the ledger is closed for posting"));
        }
        let entry = Entry {
            account: account.clone(),
            amount,
        };
        let balance = self.ledger.clone().post(entry).await?.into_inner();
        Ok(Response::new(Receipt {
            account,
            balance: balance.balance,
        }))
    }

    async fn close(&self, _: Request<CloseRequest>) -> Result<Response<Receipt>, Status> {
        self.ledger.clone().freeze(FreezeRequest {}).await?;
        Ok(Response::new(Receipt::default()))
    }

    async fn probe(&self, request: Request<ProbeRequest>) -> Result<Response<ProbeReply>, Status> {
        let status = self.status(&request.into_inner().service).await?;
        Ok(Response::new(ProbeReply {
            status: status.as_str_name().into(),
        }))
    }
}

async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("TELLER_ADDR").unwrap_or_else(|_| "127.0.0.1:50082".into());
    let ledger = std::env::var("LEDGER_URL").unwrap_or_else(|_| "http://ledger:50081".into());
    let channel = Endpoint::from_shared(ledger)?.connect_lazy();
    let desk = Desk {
        ledger: LedgerClient::new(channel.clone()),
        health: HealthClient::new(channel),
    };
    Server::builder()
        .add_service(TellerServer::new(desk))
        .serve_with_shutdown(addr.parse()?, stopped())
        .await?;
    Ok(())
}
