//! The gRPC side: the `tally.Tally` handler and the server that serves it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use crate::tally_api::tally_server::{Tally, TallyServer};
use crate::tally_api::{AddRequest, Count, GetRequest};

/// The counters, by name.
pub struct Counters {
    values: Mutex<BTreeMap<String, i64>>,
    max_step: i64,
}

impl Counters {
    pub fn new(max_step: i64) -> Counters {
        Counters {
            values: Mutex::new(BTreeMap::new()),
            max_step,
        }
    }

    /// Builds the tonic server for `counters` and serves it on `addr`.
    pub(crate) async fn run(
        counters: Counters,
        addr: SocketAddr,
    ) -> Result<(), tonic::transport::Error> {
        let server = Server::builder()
            .tcp_nodelay(true)
            .add_service(TallyServer::new(counters).max_decoding_message_size(64 * 1024));
        server.serve(addr).await
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
        }))
    }

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Count>, Status> {
        let counter = request.into_inner().counter;
        let values = self.values.lock().unwrap();
        match values.get(&counter) {
            Some(value) => Ok(Response::new(Count {
                counter,
                value: *value,
            })),
            None => Err(Status::not_found(format!("no counter named {counter:?}"))),
        }
    }
}
