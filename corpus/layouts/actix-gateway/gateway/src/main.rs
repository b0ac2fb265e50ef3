//! The gateway: an HTTP front (actix-web) over the catalog and stock services.
//! `GET /items/{sku}` asks both and answers in plain text; the same view is
//! served over gRPC (`gateway.Gateway/Item`) for internal callers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Response, Status};

use api::gateway_server::{Gateway, GatewayServer};
use api::{ItemRequest, ItemView};
use catalog::catalog_client::CatalogClient;
use catalog::DescribeRequest;
use stock::stock_client::StockClient;
use stock::CountRequest;

pub mod catalog {
    tonic::include_proto!("catalog");
}

pub mod stock {
    tonic::include_proto!("stock");
}

pub mod api {
    tonic::include_proto!("gateway");
}

/// The clients of the backends, connected once at start, and a lookup counter
/// shared by the HTTP workers and the gRPC side.
#[derive(Clone)]
struct Backends {
    catalog: CatalogClient<Channel>,
    stock: StockClient<Channel>,
    lookups: Arc<AtomicU64>,
}

impl Backends {
    /// Asks the catalog, then the stock service, about `sku`.
    async fn lookup(&self, sku: String) -> Result<ItemView, Status> {
        let description = self
            .catalog
            .clone()
            .describe(DescribeRequest { sku: sku.clone() })
            .await?
            .into_inner();
        let units = self
            .stock
            .clone()
            .count(CountRequest { sku: sku.clone() })
            .await?
            .into_inner()
            .units;
        Ok(ItemView {
            sku,
            name: description.name,
            price_cents: description.price_cents,
            units,
            lookups: self.lookups.fetch_add(1, Ordering::Relaxed) + 1,
        })
    }
}

/// `GET /items/{sku}`.
async fn item(backends: web::Data<Backends>, sku: web::Path<String>) -> HttpResponse {
    match backends.lookup(sku.into_inner()).await {
        Ok(view) => HttpResponse::Ok().body(format!(
            "{}: {}, {}.{:02} EUR, {} in stock (lookup {})\n",
            view.sku,
            view.name,
            view.price_cents / 100,
            view.price_cents % 100,
            view.units,
            view.lookups
        )),
        Err(status) if status.code() == Code::NotFound => {
            HttpResponse::NotFound().body(format!("{}\n", status.message()))
        }
        Err(status) => HttpResponse::BadGateway().body(format!("{status}\n")),
    }
}

struct GatewayService(Backends);

#[tonic::async_trait]
impl Gateway for GatewayService {
    async fn item(&self, request: Request<ItemRequest>) -> Result<Response<ItemView>, Status> {
        Ok(Response::new(self.0.lookup(request.into_inner().sku).await?))
    }
}

fn var(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let http_addr = var("HTTP_ADDR", "127.0.0.1:8080");
    let grpc_addr = var("GATEWAY_ADDR", "127.0.0.1:50070")
        .parse()
        .map_err(std::io::Error::other)?;
    let catalog = CatalogClient::connect(var("CATALOG_URL", "http://127.0.0.1:50071"))
        .await
        .map_err(std::io::Error::other)?;
    let stock = StockClient::connect(var("STOCK_URL", "http://127.0.0.1:50072"))
        .await
        .map_err(std::io::Error::other)?;
    let backends = Backends {
        catalog,
        stock,
        lookups: Arc::new(AtomicU64::new(0)),
    };

    // The gRPC side runs beside the HTTP server on actix's runtime.
    let grpc = Server::builder()
        .add_service(GatewayServer::new(GatewayService(backends.clone())))
        .serve(grpc_addr);
    actix_web::rt::spawn(async move {
        if let Err(e) = grpc.await {
            eprintln!("gateway: gRPC server failed: {e}");
        }
    });

    println!("gateway listening on http://{http_addr} and grpc://{grpc_addr}");
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(backends.clone()))
            .route("/items/{sku}", web::get().to(item))
    })
    .workers(2)
    .bind(http_addr)?
    .run()
    .await
}
