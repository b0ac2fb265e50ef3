//! The gRPC side: the `tally.Tally` and `tally.Admin` handlers and the
//! server that serves them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::signal::unix::{signal, SignalKind};
use tonic::codegen::InterceptedService;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use crate::booth_api::booth_client::BoothClient;
use crate::booth_api::VotesRequest;
use crate::tally_api::admin_server::{Admin, AdminServer};
use crate::tally_api::tally_server::{Tally, TallyServer};
use crate::tally_api::{AddRequest, Count, GetRequest, ResetRequest};

/// The counters, by name; clones share them.
#[derive(Clone)]
pub struct Counters {
    values: Arc<Mutex<BTreeMap<String, i64>>>,
    max_step: i64,
}

impl Counters {
    pub fn new(max_step: i64) -> Counters {
        Counters {
            values: Arc::new(Mutex::new(BTreeMap::new())),
            max_step,
        }
    }

    /// Builds the tonic server for `counters` and serves it on `addr`, on a
    /// listener bound before the server's task starts, until SIGTERM.
    pub(crate) async fn run(
        counters: Counters,
        addr: SocketAddr,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let incoming = crate::net::listen(addr)?;
        let mut sigterm = signal(SignalKind::terminate())?;
        // Only keepers may reset: the key is checked before the handler.
        let admin = InterceptedService::new(
            AdminServer::new(Keepers(counters.clone())),
            crate::net::admin_key,
        );
        let server = Server::builder()
            .tcp_nodelay(true)
            .add_service(TallyServer::new(counters).max_decoding_message_size(64 * 1024))
            .add_service(admin);
        let serving = tokio::spawn(async move {
            let shutdown_signal = async {
                sigterm.recv().await;
            };
            server
                .serve_with_incoming_shutdown(incoming, shutdown_signal)
                .await
        });
        serving.await??;
        Ok(())
    }
}

/// The `tally.Admin` handler, over the same counters.
pub struct Keepers(Counters);

#[tonic::async_trait]
impl Admin for Keepers {
    /// Asks the booth (`BOOTH_URL`) what it counted for `counter`, then sets
    /// the counter back to zero.
    async fn reset(&self, request: Request<ResetRequest>) -> Result<Response<Count>, Status> {
        let counter = request.into_inner().counter;
        let url = std::env::var("BOOTH_URL").unwrap_or_else(|_| "http://127.0.0.1:50092".to_string());
        let mut booth = BoothClient::connect(url)
            .await
            .map_err(|e| Status::unavailable(format!("booth: {e}")))?;
        let counted = booth
            .votes(VotesRequest {
                candidate: counter.clone(),
            })
            .await?
            .into_inner();
        let mut values = self.0.values.lock().unwrap();
        match values.get_mut(&counter) {
            Some(value) => {
                *value = 0;
                Ok(Response::new(Count {
                    counter,
                    value: 0,
                    cleared: counted.votes,
                }))
            }
            None => Err(Status::not_found(format!("no counter named {counter:?}"))),
        }
    }
}

#[tonic::async_trait]
impl Tally for Counters {
    async fn add(&self, request: Request<AddRequest>) -> Result<Response<Count>, Status> {
        let AddRequest { counter, by } = request.into_inner();
        if counter.is_empty() {
            return Err(Status::invalid_argument("a counter needs a name"));
        }
        if by <= 0 || by > self.max_step {
            return Err(Status::out_of_range(format!(
                "a step of {by} is outside 1..={}",
                self.max_step
            )));
        }
        let mut values = self.values.lock().unwrap();
        let value = values.entry(counter.clone()).or_insert(0);
        *value += by;
        Ok(Response::new(Count {
            counter,
            value: *value,
            cleared: 0,
        }))
    }

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Count>, Status> {
        let counter = request.into_inner().counter;
        let values = self.values.lock().unwrap();
        match values.get(&counter) {
            Some(value) => Ok(Response::new(Count {
                counter,
                value: *value,
                cleared: 0,
            })),
            None => Err(Status::not_found(format!("no counter named {counter:?}"))),
        }
    }
}
