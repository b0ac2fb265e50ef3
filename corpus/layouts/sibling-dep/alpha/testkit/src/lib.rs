//! A fake Quotes server that answers one price for every symbol.

use std::net::SocketAddr;

use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use shared_proto::v1::quotes_server::{Quotes, QuotesServer};
use shared_proto::v1::{Price, PriceRequest};

struct Fixed(u64);

#[tonic::async_trait]
impl Quotes for Fixed {
    async fn get_price(&self, request: Request<PriceRequest>) -> Result<Response<Price>, Status> {
        Ok(Response::new(Price {
            symbol: request.into_inner().symbol,
            cents: self.0,
        }))
    }
}

/// Starts a fake alpha on a free loopback port (on the current tokio runtime);
/// its URL.
pub fn spawn_fixed_quotes(cents: u64) -> std::io::Result<String> {
    let incoming = TcpIncoming::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = incoming.local_addr()?;
    tokio::spawn(
        Server::builder()
            .add_service(QuotesServer::new(Fixed(cents)))
            .serve_with_incoming(incoming),
    );
    Ok(format!("http://{addr}"))
}
