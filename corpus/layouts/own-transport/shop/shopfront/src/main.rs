//! The shopfront service: answers what an item costs and how many are left,
//! asking the depot. Its calls go through the telemetry crate's wrapper
//! (`x-trace-origin`) and end after the configured deadline
//! (`DEPOT_TIMEOUT_MS`).

mod depot;
mod pool;

use telemetry::{Config, Traced};
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use api::depot::prices_client::PricesClient;
use api::depot::stock_client::StockClient;
use api::depot::{GetRequest, QuoteRequest};
use api::shop::shopfront_server::{Shopfront, ShopfrontServer};
use api::shop::{LookReply, LookRequest};

pub mod api {
    pub mod depot {
        tonic::include_proto!("stockroom.v1");
    }
    pub mod shop {
        tonic::include_proto!("shopfront.v1");
    }
}

/// The depot's clients: the two of [`depot::connect`], a stock client on
/// the channel the telemetry crate dials, for recounts, and the pools' (for
/// tallies).
struct Front {
    depot: depot::Depot,
    recount: StockClient<Traced<Channel>>,
    stock_pool: pool::Pool<StockClient<Traced<Channel>>>,
    price_pool: pool::Pool<PricesClient<Traced<Channel>>>,
}

/// The depot node the pools know.
const NODE: &str = "depot";

impl Front {
    /// The stock of `item` on `stock`, in a reply without a price.
    async fn count(
        mut stock: StockClient<Traced<Channel>>,
        item: String,
        delay_ms: u32,
    ) -> Result<LookReply, Status> {
        let got = stock.get(GetRequest { item, delay_ms }).await?.into_inner();
        Ok(LookReply {
            item: got.item,
            count: got.count,
            traced_by: got.traced_by,
            cents: 0,
        })
    }
}

#[tonic::async_trait]
impl Shopfront for Front {
    async fn look(&self, request: Request<LookRequest>) -> Result<Response<LookReply>, Status> {
        let LookRequest {
            item,
            stock_delay_ms,
            price_delay_ms,
        } = request.into_inner();
        let mut reply = Self::count(self.depot.stock.clone(), item.clone(), stock_delay_ms).await?;
        let quote = QuoteRequest {
            item,
            delay_ms: price_delay_ms,
        };
        let mut prices = self.depot.prices.clone();
        reply.cents = prices.quote(quote).await?.into_inner().cents;
        Ok(Response::new(reply))
    }

    async fn recount(&self, request: Request<LookRequest>) -> Result<Response<LookReply>, Status> {
        let LookRequest {
            item,
            stock_delay_ms,
            ..
        } = request.into_inner();
        let reply = Self::count(self.recount.clone(), item, stock_delay_ms).await?;
        Ok(Response::new(reply))
    }

    async fn tally(&self, request: Request<LookRequest>) -> Result<Response<LookReply>, Status> {
        let LookRequest {
            item,
            stock_delay_ms,
            price_delay_ms,
        } = request.into_inner();
        let unknown = || Status::unavailable(format!("no client of {NODE}"));
        let stock = self.stock_pool.client(NODE).ok_or_else(unknown)?;
        let mut reply = Self::count(stock, item.clone(), stock_delay_ms).await?;
        let mut prices = self.price_pool.client(NODE).ok_or_else(unknown)?;
        let quote = QuoteRequest {
            item,
            delay_ms: price_delay_ms,
        };
        reply.cents = prices.quote(quote).await?.into_inner().cents;
        Ok(Response::new(reply))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("SHOPFRONT_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50092".to_string())
        .parse()?;
    let depot_url =
        std::env::var("DEPOT_URL").unwrap_or_else(|_| "http://depot:50091".to_string());
    let cfg = Config {
        timeout_ms: std::env::var("DEPOT_TIMEOUT_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(2000),
    };

    let depot = depot::connect(depot_url.clone(), &cfg).await?;
    let channel = telemetry::dial(depot_url.clone(), &cfg).await?;
    let recount = StockClient::new(Traced::new(channel));
    let mut stock_pool = pool::Pool::new(2);
    stock_pool.add(NODE, &depot_url, &cfg).await;
    let mut price_pool = pool::Pool::new(2);
    price_pool.add(NODE, &depot_url, &cfg).await;

    println!("shopfront listening on {addr}");
    Server::builder()
        .add_service(ShopfrontServer::new(Front {
            depot,
            recount,
            stock_pool,
            price_pool,
        }))
        .serve(addr)
        .await?;
    Ok(())
}
