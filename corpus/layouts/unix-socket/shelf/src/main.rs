//! The shelf: a workload that keeps its stock levels in the node's key store,
//! which it reaches over the keeper's Unix socket (`KEYS_SOCKET`).

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Server, Uri};
use tonic::{Request, Response, Status};
use tower::service_fn;

pub mod keys {
    tonic::include_proto!("keys");
}
pub mod shelf {
    tonic::include_proto!("shelf");
}

use keys::keys_client::KeysClient;
use keys::{AddRequest, GetRequest};
use shelf::shelf_server::{Shelf, ShelfServer};
use shelf::{Level, StockRequest};

struct Counter {
    keys: KeysClient<Channel>,
}

#[tonic::async_trait]
impl Shelf for Counter {
    async fn stock(&self, request: Request<StockRequest>) -> Result<Response<Level>, Status> {
        let StockRequest { item, add } = request.into_inner();
        let mut keys = self.keys.clone();
        let name = format!("stock/{item}");
        // keeper refuses to take more than there is (FailedPrecondition), and
        // knows no item never stocked (NotFound): both pass through.
        let key = if add == 0 {
            keys.get(GetRequest { name }).await?.into_inner()
        } else {
            keys.add(AddRequest { name, delta: add }).await?.into_inner()
        };
        Ok(Response::new(Level {
            item,
            count: key.value,
            changes: key.version,
            fresh_for: key.cache_for.map_or(0, |d| d.seconds),
        }))
    }
}

/// A channel to the keeper's Unix socket: the URI only names the authority
/// HTTP/2 needs; every connection is made on the socket.
fn keeper_channel(socket: String) -> Result<Channel, tonic::transport::Error> {
    let endpoint = Endpoint::try_from("http://keeper.local")?;
    Ok(endpoint.connect_with_connector_lazy(service_fn(move |_: Uri| {
        let socket = socket.clone();
        async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
    })))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let socket = std::env::var("KEYS_SOCKET").unwrap_or_else(|_| "/tmp/keeper.sock".into());
    let addr = std::env::var("SHELF_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50096".into())
        .parse()?;
    let counter = Counter {
        keys: KeysClient::new(keeper_channel(socket)?),
    };
    Server::builder()
        .add_service(ShelfServer::new(counter))
        .serve(addr)
        .await?;
    Ok(())
}
