//! The checkout service: turns a user's cart into a paid order. It reads the
//! cart, prices it with pricing (coupon included), charges the card through
//! payment and empties the cart.
//!
//! It listens on `PORT` and finds cart at `CART_URL`, pricing at `PRICING_URL`
//! (token `PRICING_TOKEN`) and payment at `PAYMENT_URL`.

use std::error::Error;
use std::sync::OnceLock;
use std::time::Duration;

use tonic::codegen::InterceptedService;
use tonic::metadata::{Ascii, MetadataMap, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use cart::cart_client::CartClient;
use cart::GetCartRequest;
use checkout::checkout_server::{Checkout, CheckoutServer};
use checkout::{OrderReply, OrderRequest};
use payment::payment_client::PaymentClient;
use payment::ChargeRequest;
use pricing::pricing_client::PricingClient;
use pricing::{Item, QuoteRequest};

pub mod cart {
    tonic::include_proto!("cart");
}

pub mod checkout {
    tonic::include_proto!("checkout");
}

pub mod payment {
    tonic::include_proto!("payment");
}

pub mod pricing {
    tonic::include_proto!("pricing");
}

/// How long an order waits for its price.
const QUOTE_LIMIT: Duration = Duration::from_millis(300);

/// payment's client, connected in `main`.
static PAYMENT: OnceLock<PaymentClient<Channel>> = OnceLock::new();

/// Adds pricing's bearer token to every request.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// pricing's client at `url`, sending `token` on every call.
async fn connect_pricing(
    url: String,
    token: &str,
) -> Result<PricingClient<InterceptedService<Channel, Bearer>>, Box<dyn Error>> {
    let channel = Endpoint::from_shared(url)?.connect().await?;
    Ok(PricingClient::with_interceptor(
        channel,
        Bearer(format!("Bearer {token}").parse()?),
    ))
}

pub struct Orders {
    cart: CartClient<Channel>,
    pricing: PricingClient<InterceptedService<Channel, Bearer>>,
}

/// A request to another service that carries the incoming `x-request-id`.
fn forward<T>(incoming: &MetadataMap, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(id) = incoming.get("x-request-id") {
        request.metadata_mut().insert("x-request-id", id.clone());
    }
    request
}

#[tonic::async_trait]
impl Checkout for Orders {
    async fn place_order(
        &self,
        request: Request<OrderRequest>,
    ) -> Result<Response<OrderReply>, Status> {
        let metadata = request.metadata().clone();
        let OrderRequest { user, coupon } = request.into_inner();
        if user.is_empty() {
            return Err(Status::invalid_argument("user must not be empty"));
        }
        let held = GetCartRequest { user: user.clone() };
        let lines = self
            .cart
            .clone()
            .get_cart(forward(&metadata, held))
            .await?
            .into_inner()
            .lines;
        if lines.is_empty() {
            return Err(Status::failed_precondition(format!(
                "the cart of {user} is empty"
            )));
        }
        let items = lines
            .iter()
            .map(|l| Item {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect();
        let mut quote = forward(&metadata, QuoteRequest { items, coupon });
        quote.set_timeout(QUOTE_LIMIT);
        let total_cents = self
            .pricing
            .clone()
            .quote(quote)
            .await?
            .into_inner()
            .total_cents;

        let mut payment = PAYMENT.get().expect("main connects payment").clone();
        let charge = ChargeRequest {
            user: user.clone(),
            amount_cents: total_cents,
        };
        let charged = payment.charge(forward(&metadata, charge)).await?;
        let paid_request_id = charged.metadata().get("x-request-id").cloned();
        let receipt = charged.into_inner().receipt;

        self.cart
            .clone()
            .clear(forward(&metadata, GetCartRequest { user: user.clone() }))
            .await?;
        let mut response = Response::new(OrderReply {
            order_id: common::order_id(&user, &receipt),
            receipt,
            total_cents,
            total: common::format_cents(total_cents),
            items: lines.iter().map(|l| l.quantity).sum(),
        });
        // The id as payment saw it: the request went all the way through.
        if let Some(id) = paid_request_id {
            response.metadata_mut().insert("x-request-id", id);
        }
        Ok(response)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "50084".into())
        .parse()?;
    let addr = ([127, 0, 0, 1], port).into();
    let env =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    let token = std::env::var("PRICING_TOKEN").map_err(|_| "PRICING_TOKEN is not set")?;
    let payment = PaymentClient::connect(env("PAYMENT_URL", "http://127.0.0.1:50086")).await?;
    PAYMENT
        .set(payment)
        .map_err(|_| "payment is connected twice")?;
    let orders = Orders {
        cart: CartClient::connect(env("CART_URL", "http://127.0.0.1:50083")).await?,
        pricing: connect_pricing(env("PRICING_URL", "http://127.0.0.1:50082"), &token).await?,
    };
    println!("checkout listening on {addr}");
    Server::builder()
        .add_service(CheckoutServer::new(orders))
        .serve(addr)
        .await?;
    Ok(())
}
