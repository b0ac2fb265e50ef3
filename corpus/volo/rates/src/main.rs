//! rates: a Volo gRPC service on a runtime built by hand, stopped by Ctrl-C
//! (`run_with_shutdown`), with no layers: merged, teller calls it in process.
//! It reads the metainfo value `TRACE` and answers `DESK` backward; the
//! currency `SLOW` answers after 1.5 s and `BOOM` panics. `RATES_ADDR` is where
//! it listens.

use std::net::SocketAddr;
use std::time::Duration;

use metainfo::{Backward, Forward};

use volo_gen::proto_gen::rates::{QuoteReply, QuoteRequest, Rates, RatesServer};
use volo_grpc::server::{Server, ServiceBuilder};
use volo_grpc::{Request, Response, Status};

/// Hundredths of a unit of each currency per euro.
const RATES: [(&str, i64); 3] = [("EUR", 100), ("USD", 108), ("JPY", 16_200)];

struct Desk;

impl Rates for Desk {
    async fn quote(&self, req: Request<QuoteRequest>) -> Result<Response<QuoteReply>, Status> {
        let req = req.into_inner();
        match req.currency.as_str() {
            "SLOW" => tokio::time::sleep(Duration::from_millis(1500)).await,
            "BOOM" => panic!("rates: no desk quotes BOOM"),
            _ => {}
        }
        let trace = volo::METAINFO
            .with(|mi| {
                let mut mi = mi.borrow_mut();
                mi.set_backward_transient("DESK", "desk-7");
                mi.get_persistent("TRACE")
            })
            .unwrap_or_default();
        let Some((_, rate)) = RATES.iter().find(|(c, _)| *c == req.currency.as_str()) else {
            return Err(Status::invalid_argument(format!(
                "unknown currency `{}`",
                req.currency
            )));
        };
        Ok(Response::new(QuoteReply {
            currency: req.currency,
            amount: req.cents * rate / 100,
            trace,
        }))
    }
}

fn main() -> Result<(), volo_grpc::BoxError> {
    let addr: SocketAddr = std::env::var("RATES_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50082".into())
        .parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        Server::new()
            .add_service(ServiceBuilder::new(RatesServer::new(Desk)).build())
            .run_with_shutdown(volo::net::Address::from(addr), async {
                tokio::signal::ctrl_c().await
            })
            .await
    })
}
