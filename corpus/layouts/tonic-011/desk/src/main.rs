//! The desk service: takes orders and prices baskets with the quotes service's
//! prices (a basket's total tallied by quotes from a stream of its symbols), and
//! records each order in its audit trail.

use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use audit::audit_client::AuditClient;
use desk::desk_server::{Desk, DeskServer};
use desk::{BasketReply, BasketRequest, OrderReply, OrderRequest};
use quotes::quotes_client::QuotesClient;
use quotes::{PriceRequest, WatchRequest};

pub mod quotes {
    tonic::include_proto!("quotes.v1");
}

pub mod audit {
    tonic::include_proto!("audit.v1");
}

pub mod desk {
    tonic::include_proto!("desk.v1");
}

pub struct DeskService {
    quotes: QuotesClient<Channel>,
    audit: AuditClient<Channel>,
}

#[tonic::async_trait]
impl Desk for DeskService {
    async fn order(&self, request: Request<OrderRequest>) -> Result<Response<OrderReply>, Status> {
        let order = request.into_inner();
        let mut quotes = self.quotes.clone();
        let price = quotes
            .price(PriceRequest {
                symbol: order.symbol.clone(),
            })
            .await?
            .into_inner();
        let total_cents = price.cents * i64::from(order.quantity);
        let receipt = self
            .audit
            .clone()
            .record(audit::Entry {
                symbol: order.symbol,
                cents: total_cents,
                quantity: order.quantity,
            })
            .await?
            .into_inner();
        Ok(Response::new(OrderReply {
            total_cents,
            receipt: receipt.seq,
            audit_line: receipt.line,
            quotes_served: price.served,
        }))
    }

    async fn basket(
        &self,
        request: Request<BasketRequest>,
    ) -> Result<Response<BasketReply>, Status> {
        let symbols = request.into_inner().symbols;
        let mut stream = self
            .quotes
            .clone()
            .watch(WatchRequest { symbols })
            .await?
            .into_inner();
        let mut reply = BasketReply::default();
        while let Some(price) = stream.message().await? {
            reply.total_cents += price.cents;
            reply.priced.push(format!("{}={}", price.symbol, price.cents));
        }
        Ok(Response::new(reply))
    }

    async fn tally(
        &self,
        request: Request<BasketRequest>,
    ) -> Result<Response<BasketReply>, Status> {
        let symbols = request.into_inner().symbols;
        let requests = symbols.into_iter().map(|symbol| PriceRequest { symbol });
        let tally = self
            .quotes
            .clone()
            .tally(tokio_stream::iter(requests))
            .await?
            .into_inner();
        Ok(Response::new(BasketReply {
            total_cents: tally.total_cents,
            priced: vec![format!("{} symbol(s)", tally.counted)],
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("DESK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50062".to_string())
        .parse()?;
    let quotes_url =
        std::env::var("QUOTES_URL").unwrap_or_else(|_| "http://127.0.0.1:50061".to_string());

    let quotes = QuotesClient::connect(quotes_url.clone()).await?;
    // The audit trail lives in the quotes service too, on its own channel.
    let channel = Endpoint::from_shared(quotes_url)?.connect().await?;
    let audit = AuditClient::new(channel);
    let desk = DeskService { quotes, audit };

    println!("desk listening on {addr}");

    Server::builder()
        .add_service(DeskServer::new(desk))
        .serve(addr)
        .await?;

    Ok(())
}
