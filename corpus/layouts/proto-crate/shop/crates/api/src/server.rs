//! Serving: every team of the shop serves its service through here.

use std::net::SocketAddr;

use tonic::transport::Server;

use crate::v1::catalog_server::{Catalog, CatalogServer};

/// Serves `catalog` on `addr`.
pub async fn serve_catalog(
    catalog: impl Catalog,
    addr: SocketAddr,
) -> Result<(), tonic::transport::Error> {
    Server::builder()
        .add_service(CatalogServer::new(catalog))
        .serve(addr)
        .await
}
