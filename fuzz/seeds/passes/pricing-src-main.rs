//! The pricing service: prices items and applies coupons.
//!
//! It listens on `PORT` and lets in only requests that carry
//! `authorization: Bearer $PRICING_TOKEN`. Coupon `LEGACY` is looked up in an
//! old system that takes two seconds.

use std::time::Duration;

use tonic::metadata::MetadataValue;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use pricing::pricing_server::{Pricing, PricingServer};
use pricing::{QuoteReply, QuoteRequest};

pub mod pricing {
    tonic::include_proto!("pricing");
}

/// SKU and price in cents.
const PRICES: &[(&str, u64)] = &[
    ("mug", 1250),
    ("kettle", 3400),
    ("teapot", 5600),
    ("lamp", 4599),
    ("pen", 899),
    ("old-radio", 12000),
];

/// Coupon and percent off.
const COUPONS: &[(&str, u64)] = &[("WELCOME10", 10), ("LEGACY", 5)];

pub struct PriceList;

#[tonic::async_trait]
impl Pricing for PriceList {
    async fn quote(&self, request: Request<QuoteRequest>) -> Result<Response<QuoteReply>, Status> {
        let request_id = request.metadata().get("x-request-id").cloned();
        let QuoteRequest { items, coupon } = request.into_inner();
        let mut subtotal_cents = 0;
        for item in &items {
            let price = PRICES
                .iter()
                .find(|(sku, _)| *sku == item.sku)
                .map(|(_, cents)| *cents)
                .ok_or_else(|| Status::not_found(format!("no price for `{}`", item.sku)))?;
            subtotal_cents += price * u64::from(item.quantity);
        }
        let percent = match coupon.as_str() {
            "" => 0,
            code => {
                if code == "LEGACY" {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                COUPONS
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map(|(_, percent)| *percent)
                    .ok_or_else(|| Status::invalid_argument(format!("unknown coupon `{code}`")))?
            }
        };
        let discount_cents = subtotal_cents * percent / 100;
        let mut response = Response::new(QuoteReply {
            subtotal_cents,
            discount_cents,
            total_cents: subtotal_cents - discount_cents,
        });
        if let Some(id) = request_id {
            response.metadata_mut().insert("x-request-id", id);
        }
        Ok(response)
    }
}

/// Rejects requests without the expected bearer token.
fn check_token(
    request: Request<()>,
    expected: &MetadataValue<tonic::metadata::Ascii>,
) -> Result<Request<()>, Status> {
    match request.metadata().get("authorization") {
        Some(token) if token == expected => Ok(request),
        Some(_) => Err(Status::unauthenticated("invalid token")),
        None => Err(Status::unauthenticated("missing authorization")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "50082".into())
        .parse()?;
    let addr = ([127, 0, 0, 1], port).into();
    let token = std::env::var("PRICING_TOKEN").map_err(|_| "PRICING_TOKEN is not set")?;
    let expected: MetadataValue<_> = format!("Bearer {token}").parse()?;
    println!("pricing listening on {addr}");
    Server::builder()
        .add_service(PricingServer::with_interceptor(PriceList, move |request| {
            check_token(request, &expected)
        }))
        .serve(addr)
        .await?;
    Ok(())
}
