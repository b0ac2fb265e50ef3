//! The accounts server: opens accounts and charges the opening fee.

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use accounts::accounts_server::{Accounts, AccountsServer};
use accounts::{OpenReply, OpenRequest};
use payments::payments_client::PaymentsClient;
use payments::ChargeRequest;

pub mod accounts {
    tonic::include_proto!("accounts");
}

pub mod payments {
    tonic::include_proto!("payments");
}

/// The opening fee, in cents.
const FEE: u64 = 500;

/// How long opening an account waits for the fee to be charged.
const CHARGE_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Desk {
    payments: PaymentsClient<Channel>,
}

#[tonic::async_trait]
impl Accounts for Desk {
    async fn open(&self, request: Request<OpenRequest>) -> Result<Response<OpenReply>, Status> {
        let owner = request.into_inner().owner;
        if owner.trim().is_empty() {
            return Err(Status::invalid_argument("owner is required"));
        }
        let account = common::account_number(&owner);
        let charge = ChargeRequest { account: account.clone(), cents: FEE };
        let mut payments = self.payments.clone();
        let receipt = tokio::time::timeout(CHARGE_LIMIT, payments.charge(charge))
            .await
            .map_err(|_| Status::deadline_exceeded("payments did not answer in time"))??
            .into_inner()
            .receipt;
        Ok(Response::new(OpenReply { account, receipt }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("ACCOUNTS_ADDR").unwrap_or_else(|_| "127.0.0.1:50072".into()).parse()?;
    let payments_url = std::env::var("PAYMENTS_URL").unwrap_or_else(|_| "http://127.0.0.1:50071".into());
    let desk = Desk { payments: PaymentsClient::connect(payments_url).await? };
    Server::builder()
        .add_service(AccountsServer::new(desk))
        .serve(addr)
        .await?;
    Ok(())
}
