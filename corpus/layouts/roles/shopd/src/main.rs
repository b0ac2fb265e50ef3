//! `shopd`: the shop's one binary. Its first argument picks the role it plays:
//! `shopd catalog` serves the prices, `shopd cart` keeps the baskets and asks
//! the catalog for prices.

use std::collections::BTreeMap;
use std::sync::Mutex;

use clap::{Parser, Subcommand};
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use shop::cart_server::{Cart, CartServer};
use shop::catalog_client::CatalogClient;
use shop::catalog_server::{Catalog, CatalogServer};
use shop::{AddRequest, Basket, PriceReply, PriceRequest};

pub mod shop {
    tonic::include_proto!("shop");
}

#[derive(Parser)]
#[command(name = "shopd", about = "The shop's services")]
struct Cli {
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Serve the catalog's prices.
    Catalog {
        /// The variable holding the listen address.
        #[arg(long, default_value = "CATALOG_ADDR")]
        addr_var: String,
    },
    /// Serve the baskets, priced by the catalog at `CATALOG_URL`.
    Cart {
        #[arg(long, default_value = "CART_ADDR")]
        addr_var: String,
    },
}

const PRICES: &[(&str, u64)] = &[("tea", 450), ("scone", 275), ("jam", 390)];

#[derive(Default)]
struct Shelf;

#[tonic::async_trait]
impl Catalog for Shelf {
    async fn price(&self, request: Request<PriceRequest>) -> Result<Response<PriceReply>, Status> {
        let sku = request.into_inner().sku;
        let cents = PRICES
            .iter()
            .find(|(name, _)| *name == sku)
            .map(|(_, cents)| *cents)
            .ok_or_else(|| Status::not_found(format!("no item `{sku}`")))?;
        Ok(Response::new(PriceReply { sku, cents }))
    }
}

struct Baskets {
    catalog: CatalogClient<Channel>,
    /// Per shopper: items and total.
    open: Mutex<BTreeMap<String, (u32, u64)>>,
}

#[tonic::async_trait]
impl Cart for Baskets {
    async fn add(&self, request: Request<AddRequest>) -> Result<Response<Basket>, Status> {
        let add = request.into_inner();
        if add.quantity == 0 {
            return Err(Status::invalid_argument("add at least one"));
        }
        let price = self
            .catalog
            .clone()
            .price(PriceRequest { sku: add.sku })
            .await?
            .into_inner();
        let mut open = self.open.lock().unwrap();
        let basket = open.entry(add.shopper.clone()).or_default();
        basket.0 += add.quantity;
        basket.1 += price.cents * u64::from(add.quantity);
        Ok(Response::new(Basket {
            shopper: add.shopper,
            items: basket.0,
            total_cents: basket.1,
        }))
    }
}

fn address(var: &str, fallback: &str) -> Result<std::net::SocketAddr, std::net::AddrParseError> {
    std::env::var(var).unwrap_or_else(|_| fallback.to_string()).parse()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    match cli.role {
        Role::Catalog { addr_var } => {
            let addr = address(&addr_var, "127.0.0.1:50091")?;
            Server::builder()
                .add_service(CatalogServer::new(Shelf))
                .serve(addr)
                .await?;
        }
        Role::Cart { addr_var } => {
            let addr = address(&addr_var, "127.0.0.1:50092")?;
            let url = std::env::var("CATALOG_URL").unwrap_or_else(|_| "http://127.0.0.1:50091".into());
            let baskets = Baskets {
                catalog: CatalogClient::connect(url).await?,
                open: Mutex::new(BTreeMap::new()),
            };
            Server::builder()
                .add_service(CartServer::new(baskets))
                .serve(addr)
                .await?;
        }
    }
    Ok(())
}
