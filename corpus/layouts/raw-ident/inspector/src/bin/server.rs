//! The inspector service's binary.

#[path = "../shared/codec.rs"]
mod codec;

use tonic::transport::Server;

use inspector::pb::inspector_server::InspectorServer;
use inspector::r#async::Handlers;
use inspector::r#type::Registry;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("INSPECTOR_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50122".to_string())
        .parse()?;
    let registry_url =
        std::env::var("REGISTRY_URL").unwrap_or_else(|_| "http://127.0.0.1:50121".to_string());
    let registry = Registry::connect(registry_url).await?;
    println!("inspector listening on {addr}");
    Server::builder()
        .add_service(InspectorServer::new(Handlers::new(registry, codec::render)))
        .serve(addr)
        .await?;
    Ok(())
}
