//! The payments server: charges accounts and writes receipts.

use tonic::{transport::Server, Request, Response, Status};

use pb::payments_server::{Payments, PaymentsServer};
use pb::{ChargeReply, ChargeRequest};

pub mod pb {
    tonic::include_proto!("payments");
}

#[derive(Default)]
pub struct Cashier;

#[tonic::async_trait]
impl Payments for Cashier {
    async fn charge(&self, request: Request<ChargeRequest>) -> Result<Response<ChargeReply>, Status> {
        let ChargeRequest { account, cents, currency } = request.into_inner();
        if cents == 0 {
            return Err(Status::invalid_argument("nothing to charge"));
        }
        // Callers that predate `currency` pay in euros.
        let currency = if currency.is_empty() { "EUR".to_string() } else { currency };
        Ok(Response::new(ChargeReply { receipt: common::receipt(&account, cents), currency }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("PAYMENTS_ADDR").unwrap_or_else(|_| "127.0.0.1:50071".into()).parse()?;
    Server::builder()
        .add_service(PaymentsServer::new(Cashier))
        .serve(addr)
        .await?;
    Ok(())
}
