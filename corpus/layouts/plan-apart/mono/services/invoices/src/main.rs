//! The invoices service: totals an invoice and charges it through billing.

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use billing::billing_client::BillingClient;
use billing::ChargeRequest;
use proto::invoices_server::{Invoices, InvoicesServer};
use proto::{Invoice, IssueRequest};

pub mod billing {
    tonic::include_proto!("billing.v1");
}

pub mod proto {
    tonic::include_proto!("invoices.v1");
}

pub struct Clerk {
    billing: BillingClient<Channel>,
}

#[tonic::async_trait]
impl Invoices for Clerk {
    async fn issue(&self, request: Request<IssueRequest>) -> Result<Response<Invoice>, Status> {
        let IssueRequest {
            customer,
            line_cents,
        } = request.into_inner();
        let total: u64 = line_cents.iter().sum();
        let mut billing = self.billing.clone();
        let charged = billing
            .charge(ChargeRequest {
                customer: customer.clone(),
                cents: total,
            })
            .await?
            .into_inner();
        Ok(Response::new(Invoice {
            text: format!(
                "invoice for {customer}: {} lines, {} (charge #{}, total {})",
                line_cents.len(),
                charged.amount,
                charged.charge,
                common::money(total)
            ),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("INVOICES_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50102".to_string())
        .parse()?;
    let billing_url =
        std::env::var("BILLING_URL").unwrap_or_else(|_| "http://127.0.0.1:50101".to_string());
    let clerk = Clerk {
        billing: BillingClient::connect(billing_url).await?,
    };
    println!("invoices listening on {addr}");
    Server::builder()
        .add_service(InvoicesServer::new(clerk))
        .serve(addr)
        .await?;
    Ok(())
}
