//! The clock service: answers `clock.v1.Clock/Local`.

use tonic::transport::Server;

use clock::pb::clock_server::ClockServer;
use clock::Zones;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("CLOCK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50131".to_string())
        .parse()?;
    println!("clock listening on {addr}");
    Server::builder()
        .add_service(ClockServer::new(Zones))
        .serve(addr)
        .await?;
    Ok(())
}
