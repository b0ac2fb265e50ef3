//! rates: a Volo gRPC service on a runtime built by hand, stopped by Ctrl-C
//! (`run_with_shutdown`), with no layers: merged, teller calls it in process.
//! It reads the metainfo value `TRACE` and answers `DESK` backward; the
//! currency `SLOW` answers after 1.5 s and `BOOM` panics. Its streaming
//! methods quote several amounts (server, client and bidirectional streaming).
//! `RATES_ADDR` is where it listens.

use std::net::SocketAddr;
use std::time::Duration;

use metainfo::{Backward, Forward};

use volo_gen::proto_gen::rates::{LadderRequest, QuoteReply, QuoteRequest, Rates, RatesServer};
use volo_grpc::codegen::futures::{stream, StreamExt};
use volo_grpc::server::{Server, ServiceBuilder};
use volo_grpc::{BoxStream, RecvStream, Request, Response, Status};

/// Hundredths of a unit of each currency per euro.
const RATES: [(&str, i64); 3] = [("EUR", 100), ("USD", 108), ("JPY", 16_200)];

/// The amount `cents` euro cents make in `currency`.
fn rate(currency: &str, cents: i64) -> Result<i64, Status> {
    let Some((_, rate)) = RATES.iter().find(|(c, _)| *c == currency) else {
        return Err(Status::invalid_argument(format!(
            "unknown currency `{currency}`"
        )));
    };
    Ok(cents * rate / 100)
}

/// The quote of one request, a negative amount refused.
fn quoted(req: QuoteRequest) -> Result<QuoteReply, Status> {
    if req.cents < 0 {
        return Err(Status::invalid_argument(format!(
            "amount {} is negative",
            req.cents
        )));
    }
    Ok(QuoteReply {
        amount: rate(&req.currency, req.cents)?,
        currency: req.currency,
        trace: Default::default(),
    })
}

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
        Ok(Response::new(QuoteReply {
            amount: rate(&req.currency, req.cents)?,
            currency: req.currency,
            trace,
        }))
    }

    async fn ladder(
        &self,
        req: Request<LadderRequest>,
    ) -> Result<Response<BoxStream<'static, Result<QuoteReply, Status>>>, Status> {
        let req = req.into_inner();
        let currency = req.currency;
        let quotes = stream::iter(req.cents).map(move |cents| {
            quoted(QuoteRequest {
                currency: currency.clone(),
                cents,
            })
        });
        Ok(Response::new(Box::pin(quotes)))
    }

    async fn basket(
        &self,
        req: Request<RecvStream<QuoteRequest>>,
    ) -> Result<Response<QuoteReply>, Status> {
        let mut requests = req.into_inner();
        let mut basket = QuoteReply::default();
        while let Some(req) = requests.next().await {
            let quote = quoted(req?)?;
            basket.amount += quote.amount;
            basket.currency = quote.currency;
        }
        Ok(Response::new(basket))
    }

    async fn convert(
        &self,
        req: Request<RecvStream<QuoteRequest>>,
    ) -> Result<Response<BoxStream<'static, Result<QuoteReply, Status>>>, Status> {
        let quotes = req.into_inner().map(|req| quoted(req?));
        Ok(Response::new(Box::pin(quotes)))
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
