//! tonic clients of a Volo server of the same process, in process (the
//! `bridged` tier): messages are encoded by tonic and decoded by Volo, as over
//! the network, but cross an in-memory pipe, no socket.
//!
//! A provider that registers its handler ([`inline::provide`](super::inline::provide))
//! registers its Volo service here too, as the stack Volo's `Server::run`
//! serves for a server without layers: volo-grpc's `MetaService` (metainfo
//! from the headers, backward values into the answer's) over a `Router` of the
//! service (its codec, its statuses). A tonic client's channel from
//! [`tonic_channel`](super::tonic_channel) is HTTP/2 over an in-memory pipe
//! whose requests for such a service go to that stack; any other request (a
//! provider with layers, which registers nothing) goes over the provider's
//! Unix socket. Nothing is caught on the way: a panicking handler ends the
//! in-memory connection's stream task, and hyper resets the stream as Volo's
//! server's hyper does over the network.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use http_body_util::BodyExt;
use tonic::codegen::http;
use tonic::transport::Channel;
use volo_grpc::body::BoxBody;
use volo_grpc::context::ServerContext;
use volo_grpc::server::{MetaService, NamedService, Router};
use volo_grpc::tracing::DefaultProvider;
use volo_grpc::{Request, Response, Status};

use crate::channel::{forward, service_of, Answer, Route};
use crate::registry;
use crate::transport::{answer, boxed, Body};

/// What Volo's `Server::run` serves for a server without layers.
type Stack = MetaService<Router, DefaultProvider>;

/// The Volo stacks registered, by gRPC service.
fn stacks() -> &'static Mutex<HashMap<&'static str, Stack>> {
    static STACKS: OnceLock<Mutex<HashMap<&'static str, Stack>>> = OnceLock::new();
    STACKS.get_or_init(Default::default)
}

/// Registers `service` (the provider's `ServiceBuilder::new(XServer).build()`)
/// as `grpc_service`'s Volo stack for tonic clients of this process.
pub(super) fn register<V>(grpc_service: &'static str, service: V)
where
    V: volo::Service<ServerContext, Request<BoxBody>, Response = Response<BoxBody>, Error = Status>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
{
    let stack = MetaService::new(Router::new().add_service(service), DefaultProvider);
    stacks().lock().unwrap().insert(grpc_service, stack);
}

/// The server end of the in-memory connections of a tonic client's channel to
/// Volo servers of this process.
#[derive(Clone)]
pub(super) struct VoloRoute {
    /// The channel over the provider's Unix socket, for services registered
    /// with no stack.
    pub(super) socket: Channel,
}

impl Route for VoloRoute {
    /// Answers `request` by the Volo stack of its service (`/pkg.Service/Method`)
    /// once its provider registers it, otherwise over the Unix socket.
    fn route(self, request: http::Request<Body>) -> Answer {
        Box::pin(async move {
            let service = service_of(&request);
            if registry::is_hosted(service) {
                // Waits (bounded) for the provider to register.
                if let Err(status) = registry::registered(service).await {
                    return answer(status);
                }
                let stack = stacks().lock().unwrap().get(service).cloned();
                if let Some(mut stack) = stack {
                    let request = request.map(|body| {
                        body.map_err(|s| Status::new((s.code() as i32).into(), s.message()))
                            .boxed_unsync()
                    });
                    let response = tower::Service::call(&mut stack, request)
                        .await
                        .unwrap_or_else(Status::to_http);
                    return response.map(boxed);
                }
            }
            forward(&self.socket, request).await
        })
    }
}
