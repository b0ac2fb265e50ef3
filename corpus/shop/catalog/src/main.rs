//! The catalog service: the products the shop sells, by SKU and by category.
//!
//! It listens on `PORT`. Archived products (SKUs starting with `old-`) come
//! from cold storage and take two seconds.

use std::pin::Pin;
use std::time::Duration;

use tokio_stream::Stream;
use tonic::transport::Server;
use tonic::{Code, Request, Response, Status};

use catalog::catalog_server::{Catalog, CatalogServer};
use catalog::{GetRequest, ListRequest, Product};

pub mod catalog {
    tonic::include_proto!("catalog");
}

/// SKU, name, category.
const PRODUCTS: &[(&str, &str, &str)] = &[
    ("mug", "Enamel mug", "kitchen"),
    ("kettle", "Stovetop kettle", "kitchen"),
    ("teapot", "Cast-iron teapot", "kitchen"),
    ("lamp", "Desk lamp", "office"),
    ("pen", "Fountain pen", "office"),
    ("old-radio", "Valve radio", "archive"),
];

pub struct Shelves;

fn product((sku, name, category): &(&str, &str, &str)) -> Product {
    Product {
        sku: sku.to_string(),
        name: name.to_string(),
        category: category.to_string(),
    }
}

/// The request's `x-request-id`, answered back on `response`.
fn echo_request_id<T>(
    metadata: &tonic::metadata::MetadataMap,
    mut response: Response<T>,
) -> Response<T> {
    if let Some(id) = metadata.get("x-request-id") {
        response.metadata_mut().insert("x-request-id", id.clone());
    }
    response
}

#[tonic::async_trait]
impl Catalog for Shelves {
    type ListStream = Pin<Box<dyn Stream<Item = Result<Product, Status>> + Send>>;

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Product>, Status> {
        let sku = &request.get_ref().sku;
        if sku.is_empty() {
            return Err(Status::invalid_argument("sku must not be empty"));
        }
        if sku.starts_with("old-") {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let found = PRODUCTS.iter().find(|(s, _, _)| s == sku);
        match found {
            Some(p) => Ok(echo_request_id(
                request.metadata(),
                Response::new(product(p)),
            )),
            // The details name what was missing, for clients that read them.
            None => Err(Status::with_details(
                Code::NotFound,
                format!("no product `{sku}`"),
                format!("sku={sku}").into_bytes().into(),
            )),
        }
    }

    async fn list(
        &self,
        request: Request<ListRequest>,
    ) -> Result<Response<Self::ListStream>, Status> {
        let category = request.get_ref().category.clone();
        if category.is_empty() {
            return Err(Status::invalid_argument("category must not be empty"));
        }
        let products: Vec<Result<Product, Status>> = PRODUCTS
            .iter()
            .filter(|(_, _, c)| *c == category)
            .map(|p| Ok(product(p)))
            .collect();
        if products.is_empty() {
            return Err(Status::not_found(format!("no category `{category}`")));
        }
        let stream: Self::ListStream = Box::pin(tokio_stream::iter(products));
        Ok(echo_request_id(request.metadata(), Response::new(stream)))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "50081".into())
        .parse()?;
    let addr = ([127, 0, 0, 1], port).into();
    println!("catalog listening on {addr}");
    Server::builder()
        .add_service(CatalogServer::new(Shelves))
        .serve(addr)
        .await?;
    Ok(())
}
