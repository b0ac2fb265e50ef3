//! shopfront's pools of depot clients, one client per depot node: each client
//! runs over a balance channel the node's endpoints are inserted into (one per
//! connection), wrapped in the telemetry crate's [`TraceLayer`]. The pool is
//! generic over the client: a client type says how it is made from such a
//! channel ([`FromChannel`]).

use std::collections::HashMap;
use std::time::Duration;

use telemetry::{Config, TraceLayer, Traced};
use tokio::sync::mpsc::Sender;
use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint};
use tower::ServiceBuilder;

use crate::api::depot::prices_client::PricesClient;
use crate::api::depot::stock_client::StockClient;

/// A client made on a node's traced balance channel.
pub trait FromChannel: Clone {
    /// The client over `channel`.
    fn from_channel(channel: Traced<Channel>) -> Self;
}

impl FromChannel for StockClient<Traced<Channel>> {
    fn from_channel(channel: Traced<Channel>) -> Self {
        StockClient::new(channel)
    }
}

impl FromChannel for PricesClient<Traced<Channel>> {
    fn from_channel(channel: Traced<Channel>) -> Self {
        PricesClient::new(channel)
    }
}

/// The clients of each node, and where to send the node's endpoint changes.
pub struct Pool<C> {
    clients: HashMap<String, C>,
    changes: HashMap<String, Sender<Change<String, Endpoint>>>,
    /// How many connections each node gets (endpoints inserted).
    per_node: usize,
}

impl<C> Pool<C>
where
    C: FromChannel,
{
    /// An empty pool whose nodes get `per_node` connections each.
    pub fn new(per_node: usize) -> Self {
        Pool {
            clients: HashMap::new(),
            changes: HashMap::new(),
            per_node,
        }
    }

    /// Adds `node`, reached at `url` with `cfg`'s deadline: its client is
    /// made now, its endpoints inserted after.
    pub async fn add(&mut self, node: &str, url: &str, cfg: &Config) {
        let endpoint = match Endpoint::from_shared(url.to_string()) {
            Ok(endpoint) => endpoint.timeout(Duration::from_millis(cfg.timeout_ms)),
            Err(e) => {
                eprintln!("shopfront: no endpoint for {node} at {url}: {e}");
                return;
            }
        };
        let changes = match self.changes.get(node) {
            Some(changes) => changes.clone(),
            None => {
                let (channel, changes) = Channel::balance_channel::<String>(self.per_node);
                let channel = ServiceBuilder::new().layer(TraceLayer).service(channel);
                let client = C::from_channel(channel);
                self.clients.insert(node.to_string(), client);
                self.changes.insert(node.to_string(), changes.clone());
                changes
            }
        };
        for i in 0..self.per_node {
            let key = format!("{node}-{i}");
            if changes
                .send(Change::Insert(key, endpoint.clone()))
                .await
                .is_err()
            {
                eprintln!("shopfront: the channel of {node} is gone");
            }
        }
    }

    /// The client of `node`.
    pub fn client(&self, node: &str) -> Option<C> {
        self.clients.get(node).cloned()
    }
}
