//! The booth service: casts votes and reports them, counting on the tally
//! service (clients of its two gRPC services on one channel, connected on
//! first use). Its gRPC API is served through axum, beside an HTTP health
//! check.

use tonic::service::RoutesBuilder;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

use proto::booth_server::{Booth, BoothServer};
use proto::{RecountRequest, VoteReply, VoteRequest, VotesRequest};
use tally::admin_client::AdminClient;
use tally::tally_client::TallyClient;
use tally::{AddRequest, GetRequest, ResetRequest};

pub mod tally {
    tonic::include_proto!("tally");
}

pub mod proto {
    tonic::include_proto!("booth");
}

/// Holds the clients of the tally service.
pub struct BoothService {
    tally: TallyClient<Channel>,
    admin: AdminClient<Channel>,
}

fn reply(candidate: String, votes: i64) -> VoteReply {
    let text = format!("{candidate} has {votes} vote{}", if votes == 1 { "" } else { "s" });
    VoteReply {
        candidate,
        votes,
        text,
    }
}

#[tonic::async_trait]
impl Booth for BoothService {
    async fn vote(&self, request: Request<VoteRequest>) -> Result<Response<VoteReply>, Status> {
        let candidate = request.into_inner().candidate;
        let count = self
            .tally
            .clone()
            .add(AddRequest {
                counter: candidate,
                by: 1,
            })
            .await?
            .into_inner();
        Ok(Response::new(reply(count.counter, count.value)))
    }

    async fn votes(&self, request: Request<VotesRequest>) -> Result<Response<VoteReply>, Status> {
        let candidate = request.into_inner().candidate;
        let count = self
            .tally
            .clone()
            .get(GetRequest { counter: candidate })
            .await?
            .into_inner();
        Ok(Response::new(reply(count.counter, count.value)))
    }

    async fn recount(
        &self,
        request: Request<RecountRequest>,
    ) -> Result<Response<VoteReply>, Status> {
        let RecountRequest { candidate, key } = request.into_inner();
        let mut reset = Request::new(ResetRequest { counter: candidate });
        if !key.is_empty() {
            let key = key
                .parse()
                .map_err(|_| Status::invalid_argument("the key is not a metadata value"))?;
            reset.metadata_mut().insert("x-tally-key", key);
        }
        let count = self.admin.clone().reset(reset).await?.into_inner();
        let mut answer = reply(count.counter, count.value);
        answer.text = format!("{} ({} cleared)", answer.text, count.cleared);
        Ok(Response::new(answer))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: std::net::SocketAddr = std::env::var("BOOTH_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50092".to_string())
        .parse()?;
    let tally_url =
        std::env::var("TALLY_URL").unwrap_or_else(|_| "http://127.0.0.1:50091".to_string());

    // One channel for both clients, connected on first use: the booth may
    // start before the tally (which asks the booth back on a reset).
    let channel = Endpoint::from_shared(tally_url)?.connect_lazy();
    let tally = TallyClient::new(channel.clone());
    let admin = AdminClient::new(channel);
    println!("booth listening on {addr}");

    // The gRPC API and a plain HTTP health check, on one axum router.
    let mut grpc = RoutesBuilder::default();
    grpc.add_service(BoothServer::new(BoothService { tally, admin }));
    let app = grpc
        .routes()
        .into_axum_router()
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
