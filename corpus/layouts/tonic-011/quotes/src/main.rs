//! The quotes service: prices of listed symbols (one, a stream of them, or the
//! total of a stream of symbols), and the desk's audit trail.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio_stream::{Stream, StreamExt};
use tonic::transport::Server;
use tonic::{Request, Response, Status, Streaming};

use audit::audit_server::{Audit, AuditServer};
use audit::{Entry, Receipt};
use quotes::quotes_server::{Quotes, QuotesServer};
use quotes::{PriceReply, PriceRequest, TallyReply, WatchRequest};

pub mod quotes {
    tonic::include_proto!("quotes.v1");
}

pub mod audit {
    tonic::include_proto!("audit.v1");
}

/// The listed symbols and their prices in cents.
const LISTED: &[(&str, i64)] = &[("ACME", 1250), ("INITECH", 420), ("GLOBEX", 9900)];

fn price_of(symbol: &str) -> Result<i64, Status> {
    LISTED
        .iter()
        .find(|(listed, _)| *listed == symbol)
        .map(|(_, cents)| *cents)
        .ok_or_else(|| Status::not_found(format!("symbol `{symbol}` is not listed")))
}

#[derive(Default)]
pub struct QuotesService {
    served: Arc<AtomicU64>,
}

impl QuotesService {
    fn reply(&self, symbol: String) -> Result<PriceReply, Status> {
        let cents = price_of(&symbol)?;
        let served = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(PriceReply {
            symbol,
            cents,
            served,
        })
    }
}

type PriceStream = Pin<Box<dyn Stream<Item = Result<PriceReply, Status>> + Send>>;

#[tonic::async_trait]
impl Quotes for QuotesService {
    async fn price(&self, request: Request<PriceRequest>) -> Result<Response<PriceReply>, Status> {
        let symbol = request.into_inner().symbol;
        if symbol.is_empty() {
            return Err(Status::invalid_argument("no symbol"));
        }
        Ok(Response::new(self.reply(symbol)?))
    }

    type WatchStream = PriceStream;

    async fn watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let symbols = request.into_inner().symbols;
        if symbols.is_empty() {
            return Err(Status::invalid_argument("no symbols to watch"));
        }
        // Priced up front; the stream stops at the first unlisted symbol.
        let mut replies = Vec::new();
        for symbol in symbols {
            let reply = self.reply(symbol);
            let failed = reply.is_err();
            replies.push(reply);
            if failed {
                break;
            }
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(replies))))
    }

    async fn tally(
        &self,
        request: Request<Streaming<PriceRequest>>,
    ) -> Result<Response<TallyReply>, Status> {
        let mut symbols = request.into_inner();
        let mut reply = TallyReply::default();
        while let Some(request) = symbols.next().await {
            reply.total_cents += price_of(&request?.symbol)?;
            reply.counted += 1;
        }
        if reply.counted == 0 {
            return Err(Status::invalid_argument("nothing to tally"));
        }
        Ok(Response::new(reply))
    }
}

#[derive(Default)]
pub struct AuditService {
    seq: AtomicU64,
}

#[tonic::async_trait]
impl Audit for AuditService {
    async fn record(&self, request: Request<Entry>) -> Result<Response<Receipt>, Status> {
        let entry = request.into_inner();
        if entry.quantity == 0 {
            return Err(Status::invalid_argument("an order of nothing"));
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let note = if entry.note.is_empty() {
            "-".to_string()
        } else {
            entry.note
        };
        Ok(Response::new(Receipt {
            seq,
            line: format!(
                "#{seq} {} x{} @{} ({note})",
                entry.symbol, entry.quantity, entry.cents
            ),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("QUOTES_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50061".to_string())
        .parse()?;

    println!("quotes listening on {addr}");

    Server::builder()
        .add_service(QuotesServer::new(QuotesService::default()))
        .add_service(AuditServer::new(AuditService::default()))
        .serve(addr)
        .await?;

    Ok(())
}
