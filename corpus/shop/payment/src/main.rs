//! The payment service: charges cards. Another team runs it; it is not merged.
//!
//! It listens on `PAYMENT_ADDR`. Charges above $200.00 are declined.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use payment::payment_server::{Payment, PaymentServer};
use payment::{ChargeReply, ChargeRequest};

pub mod payment {
    tonic::include_proto!("payment");
}

/// The most one charge may take, in cents.
const LIMIT_CENTS: u64 = 20_000;

#[derive(Default)]
pub struct Till {
    receipts: AtomicU64,
}

#[tonic::async_trait]
impl Payment for Till {
    async fn charge(
        &self,
        request: Request<ChargeRequest>,
    ) -> Result<Response<ChargeReply>, Status> {
        let request_id = request.metadata().get("x-request-id").cloned();
        let ChargeRequest { user, amount_cents } = request.into_inner();
        if amount_cents == 0 {
            return Err(Status::invalid_argument("nothing to charge"));
        }
        if amount_cents > LIMIT_CENTS {
            return Err(Status::failed_precondition(format!(
                "card of {user} declined: over the limit"
            )));
        }
        let number = self.receipts.fetch_add(1, Ordering::SeqCst) + 1;
        let mut response = Response::new(ChargeReply {
            receipt: format!("rcpt-{number}"),
        });
        if let Some(id) = request_id {
            response.metadata_mut().insert("x-request-id", id);
        }
        Ok(response)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("PAYMENT_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50086".into())
        .parse()?;
    println!("payment listening on {addr}");
    Server::builder()
        .add_service(PaymentServer::new(Till::default()))
        .serve(addr)
        .await?;
    Ok(())
}
