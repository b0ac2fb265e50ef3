//! The storefront service: renders a product page from the catalog's answer.

use tonic::{transport::Server, Request, Response, Status};

use api::v1::catalog_client::CatalogClient;
use api::v1::storefront_server::{Storefront, StorefrontServer};
use api::v1::{LookupRequest, ProductPage, ShowProductRequest};

/// Connects to the catalog for every page it renders.
pub struct Front {
    catalog_url: String,
}

#[tonic::async_trait]
impl Storefront for Front {
    async fn show_product(
        &self,
        request: Request<ShowProductRequest>,
    ) -> Result<Response<ProductPage>, Status> {
        let sku = request.into_inner().sku;
        let mut catalog = CatalogClient::connect(self.catalog_url.clone())
            .await
            .map_err(|e| Status::unavailable(format!("catalog: {e}")))?;
        let product = catalog
            .lookup(LookupRequest { sku })
            .await?
            .into_inner();
        Ok(Response::new(ProductPage {
            text: format!(
                "{} ({}): {}.{:02}",
                product.title,
                product.sku,
                product.price_cents / 100,
                product.price_cents % 100
            ),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("STOREFRONT_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50072".to_string())
        .parse()?;
    let catalog_url =
        std::env::var("CATALOG_URL").unwrap_or_else(|_| "http://127.0.0.1:50071".to_string());
    println!("storefront listening on {addr}");
    Server::builder()
        .add_service(StorefrontServer::new(Front { catalog_url }))
        .serve(addr)
        .await?;
    Ok(())
}
