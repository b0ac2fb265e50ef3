//! The billing service: charges customers, numbering the charges.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::{transport::Server, Request, Response, Status};

use pb::billing_server::{Billing, BillingServer};
use pb::{ChargeReply, ChargeRequest};

pub mod pb {
    tonic::include_proto!("billing.v1");
}

#[derive(Debug, Default)]
pub struct Till {
    charges: AtomicU64,
}

#[tonic::async_trait]
impl Billing for Till {
    async fn charge(
        &self,
        request: Request<ChargeRequest>,
    ) -> Result<Response<ChargeReply>, Status> {
        let ChargeRequest { customer, cents } = request.into_inner();
        if cents == 0 {
            return Err(Status::invalid_argument(format!(
                "nothing to charge {customer}"
            )));
        }
        let charge = self.charges.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Response::new(ChargeReply {
            charge,
            amount: common::money(cents),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("BILLING_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50101".to_string())
        .parse()?;
    println!("billing listening on {addr}");
    Server::builder()
        .add_service(BillingServer::new(Till::default()))
        .serve(addr)
        .await?;
    Ok(())
}
