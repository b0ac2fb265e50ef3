//! A real tonic [`Channel`] whose calls to the gRPC services of this process run
//! in process. The caller's client, its tower wrappers and its [`Endpoint`]
//! (timeout, concurrency limit, origin, user agent, ..) stay as they are: only
//! where the endpoint connects changes. knit puts [`connect`], [`connect_lazy`]
//! and [`client`] where a service connects an endpoint (`E.connect()`,
//! `E.connect_lazy()`, `XClient::connect(dst)`), with the gRPC services the
//! channel is for (none when knit cannot tell).
//!
//! The channel's connection is HTTP/2 over a `tokio::io::duplex` pipe, served in
//! this process: a request for a service whose provider registered its server
//! (`ServiceHost::provide_server`, `ServiceHost::provide_stacked`) goes to that
//! server ([`LocalTransport`]); any other goes over the network, on a channel of
//! the same endpoint.

use std::convert::Infallible;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::codegen::http;
use tonic::transport::{Channel, Endpoint, Error};
use tonic::Status;
use tower::ServiceExt;

use crate::registry;
use crate::transport::{boxed, Body, LocalTransport};

/// Bytes an in-memory connection buffers each way.
const PIPE_CAPACITY: usize = 1 << 16;

/// As `endpoint.connect().await`, for clients of `grpc_services`: when this
/// process serves them, a channel that calls their servers in process. Nothing
/// is dialled when it serves every one of them; otherwise the network is
/// dialled now, as before, for the calls that go there.
pub async fn connect(endpoint: Endpoint, grpc_services: &[&'static str]) -> Result<Channel, Error> {
    match reach(&endpoint, grpc_services) {
        Reach::Network => endpoint.connect().await,
        Reach::InProcess => Ok(routed(&endpoint, endpoint.connect_lazy())),
        Reach::Both => {
            let network = endpoint.connect().await?;
            Ok(routed(&endpoint, network))
        }
    }
}

/// As `endpoint.connect_lazy()`, for clients of `grpc_services`: when this
/// process serves any of them, a channel that calls their servers in process.
pub fn connect_lazy(endpoint: Endpoint, grpc_services: &[&'static str]) -> Channel {
    match reach(&endpoint, grpc_services) {
        Reach::Network => endpoint.connect_lazy(),
        Reach::InProcess | Reach::Both => routed(&endpoint, endpoint.connect_lazy()),
    }
}

/// As the generated `XClient::connect(dst)` of a client of `grpc_services`,
/// with `new` the client's constructor (`XClient::new`): the client over
/// [`connect`]'s channel.
pub async fn client<C, D>(
    dst: D,
    grpc_services: &[&'static str],
    new: impl FnOnce(Channel) -> C,
) -> Result<C, Error>
where
    D: TryInto<Endpoint>,
    D::Error: Into<tonic::codegen::StdError>,
{
    let endpoint = Endpoint::new(dst)?;
    Ok(new(connect(endpoint, grpc_services).await?))
}

/// Where a channel's calls may go.
enum Reach {
    /// Nothing for it in process (or TLS, never taken in process): the channel as before.
    Network,
    /// Every service it is for is hosted here.
    InProcess,
    /// Some of its services, or possibly some (an empty list), are hosted here.
    Both,
}

fn reach(endpoint: &Endpoint, grpc_services: &[&'static str]) -> Reach {
    if endpoint.uri().scheme_str() != Some("http") {
        return Reach::Network;
    }
    if grpc_services.is_empty() {
        return match registry::any_may_provide::<LocalTransport>() {
            true => Reach::Both,
            false => Reach::Network,
        };
    }
    let hosted = grpc_services
        .iter()
        .filter(|service| registry::is_hosted(service))
        .count();
    match hosted {
        0 => Reach::Network,
        n if n == grpc_services.len() => Reach::InProcess,
        _ => Reach::Both,
    }
}

/// `endpoint`'s channel whose connections are served by a [`Router`] in this
/// process, forwarding to `network` what is not served here.
fn routed(endpoint: &Endpoint, network: Channel) -> Channel {
    let router = Router { network };
    let connector = tower::service_fn(move |_: http::Uri| {
        let (ours, theirs) = tokio::io::duplex(PIPE_CAPACITY);
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |r| router.clone().route(r));
            // Ends when the channel drops the connection.
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .max_concurrent_streams(None)
                .serve_connection(TokioIo::new(theirs), service)
                .await;
        });
        std::future::ready(Ok::<_, Infallible>(TokioIo::new(ours)))
    });
    endpoint.connect_with_connector_lazy(connector)
}

/// The server end of a routed channel's connections.
#[derive(Clone)]
struct Router {
    network: Channel,
}

impl Router {
    /// Answers `request` by the server of its service (`/pkg.Service/Method`)
    /// when this process serves it, otherwise over the network.
    async fn route(
        self,
        request: http::Request<Incoming>,
    ) -> Result<http::Response<Body>, Infallible> {
        let mut request = request.map(boxed);
        let service = request.uri().path().split('/').nth(1).unwrap_or_default();
        if registry::is_hosted(service) {
            // Waits (bounded) for the provider to register.
            let (handler, _) = match registry::registered(service).await {
                Ok(registered) => registered,
                Err(status) => return Ok(status.into_http()),
            };
            if let Some(transport) = handler.downcast_ref::<std::sync::Arc<LocalTransport>>() {
                let answer = (**transport).clone().oneshot(request).await;
                let answer = answer.unwrap_or_else(|e| match e {});
                return Ok(answer.map(|body| boxed(body.map_err(reset))));
            }
            // Served inline (a handler, no server): its network listener answers.
        }
        // The network channel adds its user agent to the one the routed
        // channel added: the server is to see it once.
        request.headers_mut().remove(http::header::USER_AGENT);
        Ok(match self.network.oneshot(request).await {
            Ok(response) => response.map(boxed),
            Err(e) => Status::from_error(e.into()).into_http(),
        })
    }
}

/// The error of a server's body in process as the network shows it: its
/// stream reset, with the h2 reason the error carries, or `CANCEL` (a server's
/// task that panicked drops its stream).
fn reset(status: Status) -> Status {
    let mut chain =
        std::iter::successors(Some(&status as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        });
    if chain.any(|e| e.is::<h2::Error>()) {
        return status;
    }
    Status::from_error(Box::new(h2::Error::from(h2::Reason::CANCEL)))
}
