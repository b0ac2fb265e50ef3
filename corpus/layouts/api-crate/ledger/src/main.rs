//! The ledger: account balances. Beside its API it serves gRPC's standard
//! health service, whose generated code comes from the `tonic-health` crate
//! (no proto of the ledger's own): `Freeze` turns the ledger `NOT_SERVING`
//! there, and callers stop posting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tonic::transport::Server;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};

pub mod ledger {
    tonic::include_proto!("ledger");
}

use ledger::ledger_server::{Ledger, LedgerServer};
use ledger::{Balance, Entry, FreezeRequest, Frozen};

struct Books {
    balances: Arc<Mutex<HashMap<String, i64>>>,
    health: HealthReporter,
}

#[tonic::async_trait]
impl Ledger for Books {
    async fn post(&self, request: Request<Entry>) -> Result<Response<Balance>, Status> {
        let Entry { account, amount } = request.into_inner();
        if amount == 0 {
            return Err(Status::invalid_argument("an entry moves some money"));
        }
        let mut balances = self.balances.lock().unwrap();
        let balance = balances.entry(account.clone()).or_default();
        *balance += amount;
        Ok(Response::new(Balance {
            account,
            balance: *balance,
        }))
    }

    async fn freeze(&self, _: Request<FreezeRequest>) -> Result<Response<Frozen>, Status> {
        self.health.set_not_serving::<LedgerServer<Books>>().await;
        Ok(Response::new(Frozen { frozen: true }))
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
    let addr = std::env::var("LEDGER_ADDR").unwrap_or_else(|_| "127.0.0.1:50081".into());
    let health = HealthReporter::new();
    health.set_serving::<LedgerServer<Books>>().await;
    let books = Books {
        balances: Arc::default(),
        health: health.clone(),
    };
    Server::builder()
        .add_service(HealthServer::new(HealthService::from_health_reporter(health)))
        .add_service(LedgerServer::new(books))
        .serve_with_shutdown(addr.parse()?, stopped())
        .await?;
    Ok(())
}
