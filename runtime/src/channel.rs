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
//! the same endpoint. A balance channel (`Channel::balance_channel(n)`,
//! `Channel::balance_list(endpoints)`) is routed alike by [`balance_channel`]
//! and [`balance_list`], through a channel of each endpoint it is given.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[cfg(feature = "tonic-011")]
use h2_03 as h2;
#[cfg(not(feature = "tonic-011"))]
use http_body_util::BodyExt;
#[cfg(not(feature = "tonic-011"))]
use hyper::body::Incoming;
#[cfg(not(feature = "tonic-011"))]
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::codegen::http;
#[cfg(feature = "tonic-011")]
use tonic::codegen::Body as _;
use tonic::transport::{Channel, Endpoint, Error};
use tonic::Status;
use tower::ServiceExt;

#[cfg(not(feature = "tonic-012"))]
pub use balance::balance_channel;
pub use balance::balance_list;

use crate::registry;
use crate::transport::{answer, boxed, Body, LocalTransport};

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
    in_memory(endpoint, Router { network })
}

/// The answer a [`Route`] gives a request.
pub(crate) type Answer = Pin<Box<dyn Future<Output = http::Response<Body>> + Send>>;

/// What serves the requests of an in-memory connection.
pub(crate) trait Route: Clone + Send + Sync + 'static {
    /// Answers `request`.
    fn route(self, request: http::Request<Body>) -> Answer;
}

/// `endpoint`'s channel (its settings: timeout, limits, origin, user agent)
/// whose connections are HTTP/2 over in-memory pipes, each served by `route`.
#[cfg(not(feature = "tonic-011"))]
pub(crate) fn in_memory(endpoint: &Endpoint, route: impl Route) -> Channel {
    let connector = tower::service_fn(move |_: http::Uri| {
        let (ours, theirs) = tokio::io::duplex(PIPE_CAPACITY);
        let route = route.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |r: http::Request<Incoming>| {
                let answer = route.clone().route(r.map(boxed));
                async move { Ok::<_, Infallible>(answer.await) }
            });
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

/// `endpoint`'s channel whose connections are HTTP/2 over in-memory pipes,
/// each served by `route` (tonic 0.10 and 0.11: hyper 0.14).
#[cfg(feature = "tonic-011")]
pub(crate) fn in_memory(endpoint: &Endpoint, route: impl Route) -> Channel {
    let connector = tower::service_fn(move |_: http::Uri| {
        let (ours, theirs) = tokio::io::duplex(PIPE_CAPACITY);
        let route = route.clone();
        tokio::spawn(async move {
            let service =
                hyper_014::service::service_fn(move |r: http::Request<hyper_014::Body>| {
                    let answer = route.clone().route(r.map(boxed));
                    async move { Ok::<_, Infallible>(answer.await) }
                });
            // Ends when the channel drops the connection.
            let _ = hyper_014::server::conn::Http::new()
                .http2_only(true)
                .http2_max_concurrent_streams(None)
                .serve_connection(theirs, service)
                .await;
        });
        std::future::ready(Ok::<_, Infallible>(ours))
    });
    endpoint.connect_with_connector_lazy(connector)
}

/// The server end of a routed channel's connections.
#[derive(Clone)]
struct Router {
    network: Channel,
}

impl Route for Router {
    /// Answers `request` by the server of its service (`/pkg.Service/Method`)
    /// when this process serves it, otherwise over the network.
    fn route(self, request: http::Request<Body>) -> Answer {
        Box::pin(async move {
            let service = service_of(&request);
            if registry::is_hosted(service) {
                // Waits (bounded) for the provider to register.
                let (handler, _) = match registry::registered(service).await {
                    Ok(registered) => registered,
                    Err(status) => return answer(status),
                };
                if let Some(transport) = handler.downcast_ref::<Arc<LocalTransport>>() {
                    let answer = (**transport).clone().oneshot(request).await;
                    let answer = answer.unwrap_or_else(|e| match e {});
                    return answer.map(|body| boxed(body.map_err(reset)));
                }
                // Served inline (a handler, no server): its network listener answers.
            }
            forward(&self.network, request).await
        })
    }
}

/// The gRPC service `request` calls: `pkg.Service` of `/pkg.Service/Method`.
pub(crate) fn service_of<B>(request: &http::Request<B>) -> &str {
    request.uri().path().split('/').nth(1).unwrap_or_default()
}

/// `request`'s answer by `channel`, which adds its own user agent to the one
/// the in-memory channel added: the server is to see one.
pub(crate) async fn forward(channel: &Channel, mut request: http::Request<Body>) -> http::Response<Body> {
    request.headers_mut().remove(http::header::USER_AGENT);
    match channel.clone().oneshot(request).await {
        Ok(response) => response.map(boxed),
        Err(e) => answer(Status::from_error(e.into())),
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

/// Balance channels routed: the channel is served in memory, and each
/// endpoint given to it gets a routed channel of its own, with its settings.
/// On tonic 0.12, whose balance channel takes tower 0.4's `Change`, only
/// [`balance_list`].
mod balance {
    #[cfg(not(feature = "tonic-012"))]
    use std::collections::HashMap;
    #[cfg(not(feature = "tonic-012"))]
    use std::hash::Hash;

    #[cfg(not(feature = "tonic-012"))]
    use tokio::sync::mpsc;
    use tokio::sync::watch;
    #[cfg(not(feature = "tonic-012"))]
    use tonic::transport::channel::Change;

    use super::*;

    /// The origin of the in-memory connection of a routed balance channel. Its
    /// requests are sent on by the channel of an endpoint, which sets that
    /// endpoint's origin.
    const IN_MEMORY: &str = "http://in-process.knit";

    /// As `Channel::balance_channel::<K>(capacity)`, for clients of
    /// `grpc_services`: the channel and the sender of endpoint changes. When
    /// this process serves any of those services, the channel is served in
    /// memory, and its requests for them go in process: each through a routed
    /// channel made from one of the endpoints inserted so far (in turn), so
    /// that the endpoint's timeout, limits, origin and user agent hold for
    /// them as over the network; `https` endpoints are never taken in process.
    /// Until an endpoint is inserted, such a request waits, as tonic's balance
    /// does. Every change also goes to tonic's own balance channel, which
    /// takes every other request over the network as before (and dials
    /// nothing until one comes).
    ///
    /// The in-memory connection itself is made with tonic's defaults (no
    /// timeout, no limits, tonic's user agent, removed on the way on): the
    /// settings that apply are those of the endpoints inserted.
    #[cfg(not(feature = "tonic-012"))]
    pub fn balance_channel<K>(
        capacity: usize,
        grpc_services: &[&'static str],
    ) -> (Channel, mpsc::Sender<Change<K, Endpoint>>)
    where
        K: Hash + Eq + Send + Clone + 'static,
    {
        let (network, to_network) = Channel::balance_channel::<K>(capacity);
        if !hosts_any(grpc_services) {
            return (network, to_network);
        }
        let (changes, mut received) = mpsc::channel::<Change<K, Endpoint>>(capacity);
        let (publish, endpoints) = watch::channel(Vec::new());
        let balancer = Balancer::new(network.clone(), endpoints);
        tokio::spawn(async move {
            let mut routes: Vec<(K, Option<Channel>)> = Vec::new();
            let mut keys = HashMap::new();
            while let Some(change) = received.recv().await {
                match &change {
                    Change::Insert(key, endpoint) => {
                        let route = route_of(endpoint, &network);
                        match keys.get(key) {
                            Some(&at) => routes[at] = (key.clone(), route),
                            None => {
                                keys.insert(key.clone(), routes.len());
                                routes.push((key.clone(), route));
                            }
                        }
                    }
                    Change::Remove(key) => {
                        if let Some(at) = keys.remove(key) {
                            routes.remove(at);
                            for (i, (key, _)) in routes.iter().enumerate().skip(at) {
                                keys.insert(key.clone(), i);
                            }
                        }
                    }
                }
                publish.send_replace(routes.iter().map(|(_, r)| r.clone()).collect());
                // tonic's balance channel dropped: nothing goes to the network.
                let _ = to_network.send(change).await;
            }
        });
        (balancer.channel(), changes)
    }

    /// As `Channel::balance_list(list)`, for clients of `grpc_services`: as
    /// [`balance_channel`] (on every tonic line), every endpoint of `list`
    /// given at once.
    pub fn balance_list(
        list: impl Iterator<Item = Endpoint>,
        grpc_services: &[&'static str],
    ) -> Channel {
        let list: Vec<Endpoint> = list.collect();
        let network = Channel::balance_list(list.clone().into_iter());
        if !hosts_any(grpc_services) {
            return network;
        }
        let routes = list.iter().map(|endpoint| route_of(endpoint, &network));
        let (_, endpoints) = watch::channel(routes.collect());
        Balancer::new(network, endpoints).channel()
    }

    /// Whether this process hosts any of `grpc_services` (any service at
    /// all, for an empty list).
    fn hosts_any(grpc_services: &[&'static str]) -> bool {
        match grpc_services {
            [] => registry::any_may_provide::<LocalTransport>(),
            services => services.iter().any(|s| registry::is_hosted(s)),
        }
    }

    /// The routed channel of `endpoint` a balance channel sends hosted
    /// services' requests through; `None` for `https`, never in process.
    fn route_of(endpoint: &Endpoint, network: &Channel) -> Option<Channel> {
        (endpoint.uri().scheme_str() == Some("http")).then(|| routed(endpoint, network.clone()))
    }

    /// The server end of a routed balance channel's in-memory connections.
    #[derive(Clone)]
    struct Balancer {
        /// tonic's balance channel of the same endpoints.
        network: Channel,
        /// A routed channel of each endpoint inserted (`None`: `https`).
        endpoints: watch::Receiver<Vec<Option<Channel>>>,
        /// The turn of the endpoints.
        next: Arc<AtomicUsize>,
    }

    impl Balancer {
        fn new(network: Channel, endpoints: watch::Receiver<Vec<Option<Channel>>>) -> Self {
            let next = Arc::new(AtomicUsize::new(0));
            Balancer {
                network,
                endpoints,
                next,
            }
        }

        /// The balance channel: served in memory by this balancer.
        fn channel(self) -> Channel {
            in_memory(&Endpoint::from_static(IN_MEMORY), self)
        }
    }

    impl Route for Balancer {
        fn route(self, request: http::Request<Body>) -> Answer {
            Box::pin(async move {
                if !registry::is_hosted(service_of(&request)) {
                    return forward(&self.network, request).await;
                }
                let mut endpoints = self.endpoints.clone();
                let picked = match endpoints.wait_for(|e| !e.is_empty()).await {
                    Ok(endpoints) => {
                        let turn = self.next.fetch_add(1, Ordering::Relaxed);
                        endpoints[turn % endpoints.len()].clone()
                    }
                    // No endpoint will come: tonic's channel answers as it does.
                    Err(_) => None,
                };
                forward(picked.as_ref().unwrap_or(&self.network), request).await
            })
        }
    }
}
