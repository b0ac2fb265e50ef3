//! The keeper: a node agent holding a key store. Workloads on the node reach
//! it over a Unix socket (`KEEPER_SOCKET`); the control plane asks it over TCP
//! (`KEEPER_ADDR`) how many keys it holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

pub mod keys {
    tonic::include_proto!("keys");
}

use keys::admin_server::{Admin, AdminServer};
use keys::keys_server::{Keys, KeysServer};
use keys::{AddRequest, CountReply, CountRequest, GetRequest, Key};

/// The store's name, set at build time by the repository's `.cargo/config.toml`.
const STORE: &str = env!("KEEPER_STORE");

/// How long a workload may keep a key's value: longer for keys written often.
fn cache_for(version: u64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: 10 * version.min(6) as i64,
        nanos: 0,
    }
}

/// Every key with its value and how many times it was written.
#[derive(Clone, Default)]
struct Store(Arc<Mutex<HashMap<String, (i64, u64)>>>);

fn checked(name: &str) -> Result<(), Status> {
    if name.is_empty() {
        return Err(Status::invalid_argument("a key needs a name"));
    }
    Ok(())
}

#[tonic::async_trait]
impl Keys for Store {
    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Key>, Status> {
        let name = request.into_inner().name;
        checked(&name)?;
        let store = self.0.lock().unwrap();
        let (value, version) = store
            .get(&name)
            .copied()
            .ok_or_else(|| Status::not_found(format!("no key `{name}` in {STORE}")))?;
        Ok(Response::new(Key {
            name,
            value,
            version,
            cache_for: Some(cache_for(version)),
        }))
    }

    async fn add(&self, request: Request<AddRequest>) -> Result<Response<Key>, Status> {
        let AddRequest { name, delta } = request.into_inner();
        checked(&name)?;
        let mut store = self.0.lock().unwrap();
        let (value, version) = store.get(&name).copied().unwrap_or((0, 0));
        if value + delta < 0 {
            return Err(Status::failed_precondition(format!(
                "`{name}` is {value}: cannot take {}",
                -delta
            )));
        }
        let now = (value + delta, version + 1);
        store.insert(name.clone(), now);
        Ok(Response::new(Key {
            name,
            value: now.0,
            version: now.1,
            cache_for: Some(cache_for(now.1)),
        }))
    }
}

#[tonic::async_trait]
impl Admin for Store {
    async fn count(&self, _: Request<CountRequest>) -> Result<Response<CountReply>, Status> {
        let keys = self.0.lock().unwrap().len() as u64;
        Ok(Response::new(CountReply { keys }))
    }
}

async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let socket = std::env::var("KEEPER_SOCKET").unwrap_or_else(|_| "/tmp/keeper.sock".into());
    let addr = std::env::var("KEEPER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50095".into())
        .parse()?;
    let store = Store::default();

    // A socket file left by an earlier run would make the bind fail.
    let _ = std::fs::remove_file(&socket);
    let uds = UnixListener::bind(&socket)?;
    let uds_stream = UnixListenerStream::new(uds);

    let local = Server::builder()
        .add_service(KeysServer::new(store.clone()))
        .serve_with_incoming_shutdown(uds_stream, stopped());
    let control = Server::builder()
        .add_service(AdminServer::new(store))
        .serve_with_shutdown(addr, stopped());
    tokio::try_join!(local, control)?;
    let _ = std::fs::remove_file(&socket);
    Ok(())
}
