//! The gateway: the shop's public API. Each call goes to catalog, cart,
//! checkout or pricing (`Compare` to catalog and pricing), or (`Tip`) to
//! payment, which another team runs; the caller's `x-request-id` travels along
//! and comes back from the service that answered (`Ping` calls nothing and
//! answers it itself).
//!
//! It listens on `PORT` and finds the others at `CATALOG_URL`, `CART_URL`,
//! `CHECKOUT_URL`, `PRICING_URL` and `PAYMENT_URL`.

use std::time::Duration;

use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use cart::cart_client::CartClient;
use catalog::catalog_client::CatalogClient;
use checkout::checkout_client::CheckoutClient;
use gateway::gateway_server::{Gateway, GatewayServer};
use gateway::{
    AddToCartRequest, BrowseRequest, CartLine, CartView, CheckoutRequest, CompareRequest, Compared,
    Comparison, Listing, Order, PingRequest, Pong, Price, ProductInfo, ProductRequest,
    QuoteRequest, ShowCartRequest, TipReceipt, TipRequest,
};
use payment::payment_client::PaymentClient;
use pricing::pricing_client::PricingClient;

pub mod cart {
    tonic::include_proto!("cart");
}

pub mod catalog {
    tonic::include_proto!("catalog");
}

pub mod checkout {
    tonic::include_proto!("checkout");
}

pub mod gateway {
    tonic::include_proto!("gateway");
}

pub mod payment {
    tonic::include_proto!("payment");
}

pub mod pricing {
    tonic::include_proto!("pricing");
}

/// How long a product page (or a comparison, for each product) waits for catalog.
const PRODUCT_LIMIT: Duration = Duration::from_millis(300);

pub struct Front {
    catalog: CatalogClient<Channel>,
    cart: CartClient<Channel>,
    checkout: CheckoutClient<Channel>,
    /// Called with the caller's own credentials.
    pricing: PricingClient<Channel>,
    payment: PaymentClient<Channel>,
}

/// A request to a service behind the gateway, with the caller's `x-request-id`.
fn forward<T>(incoming: &MetadataMap, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(id) = incoming.get("x-request-id") {
        request.metadata_mut().insert("x-request-id", id.clone());
    }
    request
}

/// `message`, answered with the `x-request-id` the service behind sent back.
fn answer<T>(from: &MetadataMap, message: T) -> Response<T> {
    let mut response = Response::new(message);
    if let Some(id) = from.get("x-request-id") {
        response.metadata_mut().insert("x-request-id", id.clone());
    }
    response
}

/// A request to pricing for `quantity` of `sku`, with the caller's own
/// credentials, not the gateway's: pricing decides.
fn quote_request(
    incoming: &MetadataMap,
    sku: String,
    quantity: u32,
) -> Request<pricing::QuoteRequest> {
    let items = vec![pricing::Item { sku, quantity }];
    let mut quote = forward(
        incoming,
        pricing::QuoteRequest {
            items,
            coupon: String::new(),
        },
    );
    if let Some(token) = incoming.get("authorization") {
        quote.metadata_mut().insert("authorization", token.clone());
    }
    quote
}

fn product_info(p: catalog::Product) -> ProductInfo {
    ProductInfo {
        sku: p.sku,
        name: p.name,
        category: p.category,
    }
}

/// A product as catalog answers it, made here (the benchmark's baselines).
fn local_product(sku: String) -> ProductInfo {
    ProductInfo {
        sku,
        name: "Enamel mug".to_string(),
        category: "kitchen".to_string(),
    }
}

fn cart_view(reply: cart::CartReply) -> CartView {
    let lines = reply
        .lines
        .into_iter()
        .map(|l| CartLine {
            sku: l.sku,
            name: l.name,
            quantity: l.quantity,
        })
        .collect();
    CartView {
        lines,
        total: reply.total,
    }
}

#[tonic::async_trait]
impl Gateway for Front {
    async fn browse(&self, request: Request<BrowseRequest>) -> Result<Response<Listing>, Status> {
        let (incoming, _, BrowseRequest { category }) = request.into_parts();
        let list = forward(&incoming, catalog::ListRequest { category });
        let (metadata, mut stream, _) = self.catalog.clone().list(list).await?.into_parts();
        let mut products = Vec::new();
        while let Some(product) = stream.message().await? {
            products.push(product_info(product));
        }
        Ok(answer(&metadata, Listing { products }))
    }

    async fn product(
        &self,
        request: Request<ProductRequest>,
    ) -> Result<Response<ProductInfo>, Status> {
        let (incoming, _, ProductRequest { sku }) = request.into_parts();
        let mut get = forward(&incoming, catalog::GetRequest { sku });
        get.set_timeout(PRODUCT_LIMIT);
        let (metadata, product, _) = self.catalog.clone().get(get).await?.into_parts();
        Ok(answer(&metadata, product_info(product)))
    }

    async fn add_to_cart(
        &self,
        request: Request<AddToCartRequest>,
    ) -> Result<Response<CartView>, Status> {
        let (
            incoming,
            _,
            AddToCartRequest {
                user,
                sku,
                quantity,
            },
        ) = request.into_parts();
        let add = forward(
            &incoming,
            cart::AddItemRequest {
                user,
                sku,
                quantity,
            },
        );
        let (metadata, reply, _) = self.cart.clone().add_item(add).await?.into_parts();
        Ok(answer(&metadata, cart_view(reply)))
    }

    async fn show_cart(
        &self,
        request: Request<ShowCartRequest>,
    ) -> Result<Response<CartView>, Status> {
        let (incoming, _, ShowCartRequest { user }) = request.into_parts();
        let get = forward(&incoming, cart::GetCartRequest { user });
        let (metadata, reply, _) = self.cart.clone().get_cart(get).await?.into_parts();
        Ok(answer(&metadata, cart_view(reply)))
    }

    async fn checkout(&self, request: Request<CheckoutRequest>) -> Result<Response<Order>, Status> {
        let (incoming, _, CheckoutRequest { user, coupon }) = request.into_parts();
        let order = forward(&incoming, checkout::OrderRequest { user, coupon });
        let (metadata, o, _) = self.checkout.clone().place_order(order).await?.into_parts();
        let order = Order {
            order_id: o.order_id,
            receipt: o.receipt,
            total: o.total,
            items: o.items,
        };
        Ok(answer(&metadata, order))
    }

    async fn quote(&self, request: Request<QuoteRequest>) -> Result<Response<Price>, Status> {
        let (incoming, _, QuoteRequest { sku, quantity }) = request.into_parts();
        let quote = quote_request(&incoming, sku, quantity);
        let (metadata, price, _) = self.pricing.clone().quote(quote).await?.into_parts();
        Ok(answer(
            &metadata,
            Price {
                total_cents: price.total_cents,
            },
        ))
    }

    async fn compare(
        &self,
        request: Request<CompareRequest>,
    ) -> Result<Response<Comparison>, Status> {
        let (incoming, _, CompareRequest { skus }) = request.into_parts();
        if skus.is_empty() {
            return Err(Status::invalid_argument("nothing to compare"));
        }
        let mut products = Vec::with_capacity(skus.len());
        let mut last = MetadataMap::new();
        for sku in skus {
            let mut get = forward(&incoming, catalog::GetRequest { sku: sku.clone() });
            get.set_timeout(PRODUCT_LIMIT);
            let product = self.catalog.clone().get(get).await?.into_inner();
            let quote = quote_request(&incoming, sku, 1);
            let (metadata, price, _) = self.pricing.clone().quote(quote).await?.into_parts();
            last = metadata;
            products.push(Compared {
                product: Some(product_info(product)),
                unit_cents: price.total_cents,
            });
        }
        Ok(answer(&last, Comparison { products }))
    }

    async fn tip(&self, request: Request<TipRequest>) -> Result<Response<TipReceipt>, Status> {
        let (incoming, _, TipRequest { user, amount_cents }) = request.into_parts();
        let charge = forward(&incoming, payment::ChargeRequest { user, amount_cents });
        let (metadata, reply, _) = self.payment.clone().charge(charge).await?.into_parts();
        let receipt = TipReceipt {
            receipt: reply.receipt,
        };
        Ok(answer(&metadata, receipt))
    }

    async fn ping(&self, request: Request<PingRequest>) -> Result<Response<Pong>, Status> {
        let (incoming, _, PingRequest { text }) = request.into_parts();
        Ok(answer(&incoming, Pong { text }))
    }

    // The benchmark's baselines: answers of the same shape as the real ones,
    // made here without calling anyone.

    async fn local_product(
        &self,
        request: Request<ProductRequest>,
    ) -> Result<Response<ProductInfo>, Status> {
        let (incoming, _, ProductRequest { sku }) = request.into_parts();
        Ok(answer(&incoming, local_product(sku)))
    }

    async fn local_browse(
        &self,
        request: Request<BrowseRequest>,
    ) -> Result<Response<Listing>, Status> {
        let (incoming, _, BrowseRequest { category: _ }) = request.into_parts();
        let products = ["mug", "kettle", "teapot"].map(|sku| local_product(sku.to_string()));
        Ok(answer(
            &incoming,
            Listing {
                products: products.into(),
            },
        ))
    }

    async fn local_quote(&self, request: Request<QuoteRequest>) -> Result<Response<Price>, Status> {
        let (incoming, _, QuoteRequest { sku: _, quantity }) = request.into_parts();
        let total_cents = 1250 * u64::from(quantity);
        Ok(answer(&incoming, Price { total_cents }))
    }

    async fn local_cart(
        &self,
        request: Request<AddToCartRequest>,
    ) -> Result<Response<CartView>, Status> {
        let (
            incoming,
            _,
            AddToCartRequest {
                user: _,
                sku,
                quantity,
            },
        ) = request.into_parts();
        let line = CartLine {
            name: local_product(sku.clone()).name,
            sku,
            quantity: quantity.max(1),
        };
        let total = "$12.50".to_string();
        Ok(answer(
            &incoming,
            CartView {
                lines: vec![line],
                total,
            },
        ))
    }

    async fn local_compare(
        &self,
        request: Request<CompareRequest>,
    ) -> Result<Response<Comparison>, Status> {
        let (incoming, _, CompareRequest { skus }) = request.into_parts();
        let products = skus
            .into_iter()
            .map(|sku| Compared {
                product: Some(local_product(sku)),
                unit_cents: 1250,
            })
            .collect();
        Ok(answer(&incoming, Comparison { products }))
    }

    async fn local_checkout(
        &self,
        request: Request<CheckoutRequest>,
    ) -> Result<Response<Order>, Status> {
        let (incoming, _, CheckoutRequest { user, coupon: _ }) = request.into_parts();
        let order = Order {
            order_id: format!("order-{user}-1"),
            receipt: format!("receipt-{user}-1"),
            total: "$11.25".to_string(),
            items: 1,
        };
        Ok(answer(&incoming, order))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "50080".into())
        .parse()?;
    let addr = ([127, 0, 0, 1], port).into();
    let url =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    let lazy = |name: &str, default: &str| {
        Endpoint::from_shared(url(name, default)).map(|e| e.connect_lazy())
    };
    let front = Front {
        catalog: CatalogClient::new(lazy("CATALOG_URL", "http://127.0.0.1:50081")?),
        cart: CartClient::new(lazy("CART_URL", "http://127.0.0.1:50083")?),
        checkout: CheckoutClient::connect(url("CHECKOUT_URL", "http://127.0.0.1:50084")).await?,
        pricing: PricingClient::new(lazy("PRICING_URL", "http://127.0.0.1:50082")?),
        payment: PaymentClient::new(lazy("PAYMENT_URL", "http://127.0.0.1:50086")?),
    };
    println!("gateway listening on {addr}");
    Server::builder()
        .add_service(GatewayServer::new(front))
        .serve(addr)
        .await?;
    Ok(())
}
