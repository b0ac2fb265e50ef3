//! The cart service: each user's cart, in memory. It checks items against
//! catalog and prices carts with pricing.
//!
//! It listens on `PORT`, finds catalog at `CATALOG_URL` (connected on first
//! use) and pricing at `PRICING_URL`, with the token `PRICING_TOKEN`.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::OnceCell;
use tonic::codegen::InterceptedService;
use tonic::metadata::{Ascii, MetadataMap, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use cart::cart_server::{Cart, CartServer};
use cart::{AddItemRequest, CartReply, GetCartRequest, Line};
use catalog::catalog_client::CatalogClient;
use catalog::GetRequest;
use pricing::pricing_client::PricingClient;
use pricing::{Item, QuoteRequest};

pub mod cart {
    tonic::include_proto!("cart");
}

pub mod catalog {
    tonic::include_proto!("catalog");
}

pub mod pricing {
    tonic::include_proto!("pricing");
}

/// catalog's client, shared by every request once connected.
static CATALOG: OnceCell<CatalogClient<Channel>> = OnceCell::const_new();

/// catalog's client; connects on first use.
async fn catalog() -> Result<CatalogClient<Channel>, Status> {
    CATALOG
        .get_or_try_init(|| async {
            let url =
                std::env::var("CATALOG_URL").unwrap_or_else(|_| "http://127.0.0.1:50081".into());
            CatalogClient::connect(url).await
        })
        .await
        .cloned()
        .map_err(|e| Status::unavailable(format!("catalog: {e}")))
}

/// Adds pricing's bearer token to every request.
#[derive(Clone)]
pub struct AddToken(MetadataValue<Ascii>);

impl Interceptor for AddToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub struct Carts {
    pricing: PricingClient<InterceptedService<Channel, AddToken>>,
    /// Each user's lines, in the order first added.
    held: Mutex<HashMap<String, Vec<Line>>>,
}

/// A request to another service that carries the incoming `x-request-id`.
fn forward<T>(incoming: &MetadataMap, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(id) = incoming.get("x-request-id") {
        request.metadata_mut().insert("x-request-id", id.clone());
    }
    request
}

/// `message`, answered with the incoming `x-request-id`.
fn answer<T>(incoming: &MetadataMap, message: T) -> Response<T> {
    let mut response = Response::new(message);
    if let Some(id) = incoming.get("x-request-id") {
        response.metadata_mut().insert("x-request-id", id.clone());
    }
    response
}

impl Carts {
    /// `lines` with their total from pricing, answered with the incoming `x-request-id`.
    async fn reply(
        &self,
        incoming: &MetadataMap,
        user: String,
        lines: Vec<Line>,
    ) -> Result<Response<CartReply>, Status> {
        let total_cents = if lines.is_empty() {
            0
        } else {
            let items = lines
                .iter()
                .map(|l| Item {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                })
                .collect();
            let quote = QuoteRequest {
                items,
                coupon: String::new(),
            };
            self.pricing
                .clone()
                .quote(forward(incoming, quote))
                .await?
                .into_inner()
                .total_cents
        };
        let total = common::format_cents(total_cents);
        Ok(answer(
            incoming,
            CartReply {
                user,
                lines,
                total_cents,
                total,
            },
        ))
    }
}

#[tonic::async_trait]
impl Cart for Carts {
    async fn add_item(
        &self,
        request: Request<AddItemRequest>,
    ) -> Result<Response<CartReply>, Status> {
        let metadata = request.metadata().clone();
        let AddItemRequest {
            user,
            sku,
            quantity,
        } = request.into_inner();
        if user.is_empty() {
            return Err(Status::invalid_argument("user must not be empty"));
        }
        if quantity == 0 || quantity > common::MAX_QUANTITY {
            return Err(Status::invalid_argument(format!(
                "quantity must be 1 to {}",
                common::MAX_QUANTITY
            )));
        }
        let product = catalog()
            .await?
            .get(forward(&metadata, GetRequest { sku: sku.clone() }))
            .await?
            .into_inner();
        let lines = {
            let mut held = self.held.lock().unwrap();
            let lines = held.entry(user.clone()).or_default();
            match lines.iter_mut().find(|l| l.sku == sku) {
                Some(line) if line.quantity + quantity > common::MAX_QUANTITY => {
                    return Err(Status::invalid_argument(format!(
                        "at most {} of `{sku}`",
                        common::MAX_QUANTITY
                    )));
                }
                Some(line) => line.quantity += quantity,
                None => lines.push(Line {
                    sku,
                    name: product.name,
                    quantity,
                }),
            }
            lines.clone()
        };
        self.reply(&metadata, user, lines).await
    }

    async fn get_cart(
        &self,
        request: Request<GetCartRequest>,
    ) -> Result<Response<CartReply>, Status> {
        let user = request.get_ref().user.clone();
        let lines = self
            .held
            .lock()
            .unwrap()
            .get(&user)
            .cloned()
            .unwrap_or_default();
        self.reply(request.metadata(), user, lines).await
    }

    async fn clear(&self, request: Request<GetCartRequest>) -> Result<Response<CartReply>, Status> {
        let user = request.get_ref().user.clone();
        let lines = self.held.lock().unwrap().remove(&user).unwrap_or_default();
        let total = common::format_cents(0);
        Ok(answer(
            request.metadata(),
            CartReply {
                user,
                lines,
                total_cents: 0,
                total,
            },
        ))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "50083".into())
        .parse()?;
    let addr = ([127, 0, 0, 1], port).into();
    let token = std::env::var("PRICING_TOKEN").map_err(|_| "PRICING_TOKEN is not set")?;
    let pricing_url =
        std::env::var("PRICING_URL").unwrap_or_else(|_| "http://127.0.0.1:50082".into());
    let channel = Endpoint::from_shared(pricing_url)?.connect_lazy();
    let carts = Carts {
        pricing: PricingClient::with_interceptor(
            channel,
            AddToken(format!("Bearer {token}").parse()?),
        ),
        held: Mutex::default(),
    };
    println!("cart listening on {addr}");
    Server::builder()
        .add_service(CartServer::new(carts))
        .serve(addr)
        .await?;
    Ok(())
}
