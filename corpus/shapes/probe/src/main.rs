//! The probe service: answers `Run` by asking names to greet someone through the
//! client shape the request names. Each shape is one way real callers build and
//! keep a tonic client; merged, every one of them calls names in process.
//!
//! It listens on `PROBE_ADDR` and finds names at `NAMES_URL`.

use std::str::FromStr;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use tokio::sync::Mutex;
use tonic::codec::CompressionEncoding;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use pb::v1::names_client::NamesClient as Directory;
use pb::v1::GreetRequest;
use probe::probe_server::{Probe, ProbeServer};
use probe::{RunReply, RunRequest};

/// names' package, versioned, generated into `OUT_DIR` and included by path.
pub mod pb {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/names.v1.rs"));
    }
}

pub mod probe {
    tonic::include_proto!("probe");
}

/// The clients this service uses, under the names the rest of it knows.
mod api {
    pub use crate::pb::v1::names_client::NamesClient;
}

/// A client of names, behind an alias.
type Names = api::NamesClient<Channel>;

/// A request hook, as a function pointer.
type Hook = fn(Request<()>) -> Result<Request<()>, Status>;

/// Every call through the `timed` channel ends within this (`Endpoint::timeout`).
const CALL_TIMEOUT: Duration = Duration::from_millis(200);

fn names_url() -> String {
    std::env::var("NAMES_URL").unwrap_or_else(|_| "http://127.0.0.1:50081".into())
}

/// Names this service to names.
fn name_caller(mut request: Request<()>) -> Result<Request<()>, Status> {
    request.metadata_mut().insert("x-caller", "probe".parse().unwrap());
    Ok(request)
}

/// Made on first use (std).
static LAZY: LazyLock<Names> =
    LazyLock::new(|| Names::new(Channel::from_shared(names_url()).expect("NAMES_URL").connect_lazy()));

/// Made on first use (once_cell).
static CELL: once_cell::sync::Lazy<Directory<Channel>> =
    once_cell::sync::Lazy::new(|| Directory::new(Endpoint::from_shared(names_url()).expect("NAMES_URL").connect_lazy()));

/// Set once by `main`.
static SET: OnceLock<Directory<Channel>> = OnceLock::new();

/// A client made by a helper, on every call that needs one.
async fn make_client() -> Result<Directory<Channel>, tonic::transport::Error> {
    Directory::connect(names_url()).await
}

/// A client named through a glob import.
async fn globbed() -> Result<pb::v1::names_client::NamesClient<Channel>, tonic::transport::Error> {
    use pb::v1::names_client::*;
    NamesClient::connect(format!("{}/", names_url().trim_end_matches('/'))).await
}

/// The clients kept for the life of the service.
struct Clients {
    /// `connect(String)`.
    connected: Directory<Channel>,
    /// An endpoint parsed from a string, with builder calls, connected eagerly:
    /// every call ends within `CALL_TIMEOUT`.
    timed: Names,
    /// `connect(Endpoint)` of an endpoint with a timeout: every call ends within
    /// `CALL_TIMEOUT`.
    dialled: Names,
    /// A load-balanced channel.
    balanced: Names,
    /// `with_origin`.
    origin: Names,
    /// `with_interceptor`: the hook names this service.
    hooked: pb::v1::names_client::NamesClient<InterceptedService<Channel, Hook>>,
    /// Compression and size limits on the client.
    compressed: Names,
    /// Perhaps configured.
    optional: Option<Names>,
    /// Shared behind a lock.
    locked: Arc<Mutex<Names>>,
}

struct Prober {
    clients: Clients,
}

impl Prober {
    async fn greet(&self, shape: &str, request: GreetRequest) -> Result<Response<pb::v1::GreetReply>, Status> {
        let request = Request::new(request);
        match shape {
            "connected" => self.clients.connected.clone().greet(request).await,
            "timed" => self.clients.timed.clone().greet(request).await,
            "dialled" => self.clients.dialled.clone().greet(request).await,
            "balanced" => self.clients.balanced.clone().greet(request).await,
            "origin" => self.clients.origin.clone().greet(request).await,
            "hooked" => self.clients.hooked.clone().greet(request).await,
            "compressed" => self.clients.compressed.clone().greet(request).await,
            "optional" => match self.clients.optional.clone() {
                Some(mut client) => client.greet(request).await,
                None => Err(Status::failed_precondition("no optional client")),
            },
            "locked" => self.clients.locked.lock().await.greet(request).await,
            "lazy" => LAZY.clone().greet(request).await,
            "cell" => CELL.clone().greet(request).await,
            "set" => SET.get().expect("set by main").clone().greet(request).await,
            "helper" => {
                let mut client = make_client().await.map_err(|e| Status::unavailable(e.to_string()))?;
                client.greet(request).await
            }
            "globbed" => {
                let mut client = globbed().await.map_err(|e| Status::unavailable(e.to_string()))?;
                client.greet(request).await
            }
            "aliased" => {
                let mut client = Names::connect(names_url()).await.map_err(|e| Status::unavailable(e.to_string()))?;
                client.greet(request).await
            }
            other => Err(Status::invalid_argument(format!("unknown shape `{other}`"))),
        }
    }
}

#[tonic::async_trait]
impl Probe for Prober {
    async fn run(&self, request: Request<RunRequest>) -> Result<Response<RunReply>, Status> {
        let RunRequest { shape, name } = request.into_inner();
        let reply = self.greet(&shape, GreetRequest { name }).await?.into_inner();
        Ok(Response::new(RunReply { message: format!("{} via {shape}", reply.message) }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("PROBE_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50082".into())
        .parse()?;
    let url = names_url();
    let channel = Channel::from_shared(url.clone())?.connect_lazy();
    let timed = Endpoint::from_str(&url)?
        .timeout(CALL_TIMEOUT)
        .connect_timeout(Duration::from_secs(1))
        .tcp_nodelay(true)
        .connect()
        .await?;
    let clients = Clients {
        connected: Directory::connect(url.clone()).await?,
        timed: Names::new(timed),
        dialled: Names::connect(Endpoint::from_str(&url)?.timeout(CALL_TIMEOUT)).await?,
        balanced: Names::new(Channel::balance_list(std::iter::once(Endpoint::from_shared(url.clone())?))),
        origin: Names::with_origin(channel.clone(), "http://names.internal".parse()?),
        hooked: Directory::with_interceptor(channel.clone(), name_caller as Hook),
        compressed: Names::new(channel.clone())
            .send_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(1 << 20)
            .max_encoding_message_size(1 << 20),
        optional: std::env::var_os("NAMES_OPTIONAL").map(|_| Names::new(channel.clone())),
        locked: Arc::new(Mutex::new(Names::new(channel))),
    };
    SET.set(Directory::connect(url).await?).expect("set once");
    println!("probe listening on {addr}");
    Server::builder()
        .add_service(ProbeServer::new(Prober { clients }))
        .serve(addr)
        .await?;
    Ok(())
}
