//! The invoicing service: invoices for electricity, priced from the meter
//! service's readings. It gives the meter 100 ms a reading (the request's
//! deadline, sent as `grpc-timeout`) and stops gracefully on SIGINT or
//! SIGTERM.

use std::time::Duration;

use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use meter::meter_client::MeterClient;
use meter::ReadRequest;
use proto::billing_server::{Billing, BillingServer};
use proto::{Bill, InvoiceRequest};

pub mod meter {
    tonic::include_proto!("meter");
}

pub mod proto {
    tonic::include_proto!("billing");
}

/// Prices invoices with the meter client connected at start.
pub struct Desk {
    meter: MeterClient<Channel>,
}

#[tonic::async_trait]
impl Billing for Desk {
    async fn invoice(&self, request: Request<InvoiceRequest>) -> Result<Response<Bill>, Status> {
        let wanted = request.into_inner();
        if wanted.cents_per_kwh == 0 {
            return Err(Status::invalid_argument("a tariff is missing"));
        }
        let mut read = Request::new(ReadRequest {
            meter_id: wanted.meter_id,
        });
        read.set_timeout(Duration::from_millis(100));
        let reading = self.meter.clone().read(read).await?.into_inner();
        Ok(Response::new(Bill {
            total_cents: reading.kwh * wanted.cents_per_kwh,
            meter_id: reading.meter_id,
            kwh: reading.kwh,
        }))
    }
}

/// Resolves on Ctrl-C, or on SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("BILLING_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50096".to_string())
        .parse()?;
    let meter_url =
        std::env::var("METER_URL").unwrap_or_else(|_| "http://127.0.0.1:50095".to_string());
    let desk = Desk {
        meter: MeterClient::connect(meter_url).await?,
    };
    println!("invoicing listening on {addr}");
    Server::builder()
        .add_service(BillingServer::new(desk))
        .serve_with_shutdown(addr, shutdown_signal())
        .await?;
    println!("invoicing: stopped");
    Ok(())
}
