//! Calls in process through a provider's whole tonic server
//! (`knit_runtime::stack`): its tower layers and settings act on them as on
//! calls over the network.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use knit_runtime::registry;
use knit_runtime::transport::Bridge;
use knit_runtime::ServiceHost;
use tonic::codegen::http;
use tonic::transport::Endpoint;
use tonic::{Code, Request, Status};

mod common;
use common::Utf8;

type Future<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// `test.Echo/Say`, answering what it is sent.
#[derive(Clone)]
struct Echo;

impl tonic::server::NamedService for Echo {
    const NAME: &'static str = "test.Echo";
}

impl tower::Service<http::Request<tonic::body::Body>> for Echo {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Future<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let say = tower::service_fn(|request: Request<String>| async move {
            Ok::<_, Status>(tonic::Response::new(request.into_inner()))
        });
        Box::pin(async move { Ok(tonic::server::Grpc::new(Utf8).unary(say, request).await) })
    }
}

/// `test.Loud/Say`, answering what it is sent in capitals.
#[derive(Clone)]
struct Loud;

impl tonic::server::NamedService for Loud {
    const NAME: &'static str = "test.Loud";
}

impl tower::Service<http::Request<tonic::body::Body>> for Loud {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Future<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let say = tower::service_fn(|request: Request<String>| async move {
            Ok::<_, Status>(tonic::Response::new(request.into_inner().to_uppercase()))
        });
        Box::pin(async move { Ok(tonic::server::Grpc::new(Utf8).unary(say, request).await) })
    }
}

/// Counts requests and refuses those without an `authorization` header.
#[derive(Clone)]
struct Guard(Arc<AtomicU64>);

impl<S> tower::Layer<S> for Guard {
    type Service = Guarded<S>;
    fn layer(&self, inner: S) -> Guarded<S> {
        Guarded(inner, self.0.clone())
    }
}

#[derive(Clone)]
struct Guarded<S>(S, Arc<AtomicU64>);

impl<S> tower::Service<http::Request<tonic::body::Body>> for Guarded<S>
where
    S: tower::Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
    >,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Future<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        self.1.fetch_add(1, Ordering::Relaxed);
        if !request.headers().contains_key("authorization") {
            let refused = Status::unauthenticated("no token").into_http();
            return Box::pin(async move { Ok(refused) });
        }
        Box::pin(self.0.call(request))
    }
}

async fn say(bridge: Bridge, token: bool) -> Result<String, Status> {
    say_to(bridge, "/test.Echo/Say", token).await
}

async fn say_to(bridge: Bridge, path: &'static str, token: bool) -> Result<String, Status> {
    let mut grpc = tonic::client::Grpc::new(bridge);
    grpc.ready()
        .await
        .map_err(|e| Status::unknown(e.to_string()))?;
    let mut request = Request::new("hi".to_string());
    if token {
        request
            .metadata_mut()
            .insert("authorization", "Bearer t".parse().unwrap());
    }
    let path = http::uri::PathAndQuery::from_static(path);
    Ok(grpc.unary(request, path, Utf8).await?.into_inner())
}

#[tokio::test]
async fn a_stacked_call_goes_through_the_servers_layers_and_needs_no_listener() {
    registry::declare("test.Echo", "echo");
    let seen = Arc::new(AtomicU64::new(0));
    let host = ServiceHost::standalone("echo");
    let server = host.provide_stacked("test.Echo", Echo);
    // The service's listener, as its entry asks the host for it.
    let incoming = host.incoming("127.0.0.1:0".parse().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(Guard(seen.clone()))
            .add_service(server)
            .serve_with_incoming(incoming),
    );
    // The caller's channel points nowhere: the call never leaves the process.
    let nowhere = Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    let bridge = Bridge::new("test.Echo", nowhere);
    assert_eq!(say(bridge.clone(), true).await.unwrap(), "hi");
    let refused = say(bridge.clone(), false).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(refused.message(), "no token");
    assert_eq!(say(bridge, true).await.unwrap(), "hi");
    assert_eq!(seen.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn each_router_of_an_entry_takes_the_calls_to_the_stacked_services_it_serves() {
    registry::declare("test.Echo.Layered", "two-routers");
    registry::declare("test.Loud", "two-routers");
    let seen = Arc::new(AtomicU64::new(0));
    let host = ServiceHost::standalone("two-routers");
    // `test.Echo.Layered` is the `test.Echo` server of this entry (the
    // registry's name of it is the caller's only).
    // The plain router's listener is asked for before any server registers:
    // it takes the calls to `test.Loud` only, not the layered router's.
    let plain = host.incoming_serving("127.0.0.1:0".parse().unwrap(), &["test.Loud"]);
    let layered_server = host.provide_stacked("test.Echo.Layered", Echo);
    let layered = host.incoming_serving("127.0.0.1:0".parse().unwrap(), &["test.Echo.Layered"]);
    let loud = host.provide_stacked("test.Loud", Loud);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(loud)
            .serve_with_incoming(plain),
    );
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(Guard(seen.clone()))
            .add_service(layered_server)
            .serve_with_incoming(layered),
    );
    let nowhere = || Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    let echo = Bridge::new("test.Echo.Layered", nowhere());
    let loud = Bridge::new("test.Loud", nowhere());
    assert_eq!(
        say_to(loud.clone(), "/test.Loud/Say", false).await.unwrap(),
        "HI"
    );
    assert_eq!(seen.load(Ordering::Relaxed), 0);
    let refused = say_to(echo.clone(), "/test.Echo/Say", false)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(say_to(echo, "/test.Echo/Say", true).await.unwrap(), "hi");
    assert_eq!(say_to(loud, "/test.Loud/Say", false).await.unwrap(), "HI");
    assert_eq!(seen.load(Ordering::Relaxed), 2);
}

/// A listener the service binds itself, as its code does before serving
/// (`TcpIncoming::bind(addr)?.with_nodelay(..)`), and its address.
fn their_listener() -> (tonic::transport::server::TcpIncoming, std::net::SocketAddr) {
    let theirs = tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap())
        .unwrap()
        .with_nodelay(Some(true));
    let addr = theirs.local_addr().unwrap();
    (theirs, addr)
}

#[tokio::test]
async fn a_router_on_the_services_own_listener_takes_calls_in_memory_too() {
    registry::declare("test.Echo.Own", "own");
    let seen = Arc::new(AtomicU64::new(0));
    let host = ServiceHost::standalone("own");
    let server = host.provide_stacked("test.Echo.Own", Echo);
    let (theirs, addr) = their_listener();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(Guard(seen.clone()))
            .add_service(server)
            .serve_with_incoming(host.incoming_beside(theirs)),
    );
    // In memory: the caller's channel points nowhere.
    let nowhere = Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    let bridge = Bridge::new("test.Echo.Own", nowhere);
    assert_eq!(say(bridge.clone(), true).await.unwrap(), "hi");
    let refused = say(bridge, false).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    // Over the network, on their listener, through the same layers.
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = Request::new("over the wire".to_string());
    request
        .metadata_mut()
        .insert("authorization", "Bearer t".parse().unwrap());
    let path = http::uri::PathAndQuery::from_static("/test.Echo/Say");
    let answer = grpc.unary(request, path, Utf8).await.unwrap();
    assert_eq!(answer.into_inner(), "over the wire");
    assert_eq!(seen.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn each_router_on_a_listener_of_its_own_takes_the_calls_to_its_stacked_services() {
    registry::declare("test.Echo.OwnLayered", "own-routers");
    registry::declare("test.Loud.Own", "own-routers");
    let host = ServiceHost::standalone("own-routers");
    let (plain_theirs, _) = their_listener();
    let (layered_theirs, _) = their_listener();
    // The plain router's stream is made before any server registers: it
    // takes the calls to `test.Loud.Own` only.
    let plain = host.incoming_beside_serving(plain_theirs, &["test.Loud.Own"]);
    let seen = Arc::new(AtomicU64::new(0));
    let layered_server = host.provide_stacked("test.Echo.OwnLayered", Echo);
    let layered = host.incoming_beside_serving(layered_theirs, &["test.Echo.OwnLayered"]);
    let loud = host.provide_stacked("test.Loud.Own", Loud);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(loud)
            .serve_with_incoming(plain),
    );
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(Guard(seen.clone()))
            .add_service(layered_server)
            .serve_with_incoming(layered),
    );
    let nowhere = || Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    let echo = Bridge::new("test.Echo.OwnLayered", nowhere());
    let loud = Bridge::new("test.Loud.Own", nowhere());
    assert_eq!(say_to(loud, "/test.Loud/Say", false).await.unwrap(), "HI");
    assert_eq!(seen.load(Ordering::Relaxed), 0);
    assert_eq!(say_to(echo, "/test.Echo/Say", true).await.unwrap(), "hi");
    assert_eq!(seen.load(Ordering::Relaxed), 1);
}

#[test]
fn with_the_listener_off_their_listener_is_closed_and_calls_arrive_in_memory() {
    let code = knit_runtime::Host::new()
        .provides("sealed", "test.Echo.Sealed")
        .service("sealed", false, |host: &'static ServiceHost| async move {
            let server = host.provide_stacked("test.Echo.Sealed", Echo);
            let (theirs, addr) = their_listener();
            let incoming = host.incoming_beside(theirs);
            // Turned off: their socket is closed, nothing answers there.
            assert!(tokio::net::TcpStream::connect(addr).await.is_err());
            let (stop, mut stopping) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                // A signal that borrows a local, as services write theirs.
                let signal = async {
                    let _ = stopping.wait_for(|stop| *stop).await;
                };
                tonic::transport::Server::builder()
                    .add_service(server)
                    .serve_with_incoming_shutdown(incoming, host.shutdown_with(signal))
                    .await
            });
            let nowhere = Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
            let bridge = Bridge::new("test.Echo.Sealed", nowhere);
            let said = say(bridge, false).await.map(|_| ());
            stop.send_replace(true);
            said
        })
        .run();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
}

/// A router served on a Unix socket the service binds itself (tonic's
/// `UnixListenerStream`, here its equivalent): calls from the group arrive in
/// memory beside the socket's, each telling the router's layers tonic's
/// `UdsConnectInfo` (with no peer for one made in memory).
#[cfg(unix)]
#[tokio::test]
async fn a_router_on_the_services_own_unix_socket_takes_calls_in_memory_too() {
    use tonic::transport::server::UdsConnectInfo;

    registry::declare("test.Echo.Uds", "uds");
    let host = ServiceHost::standalone("uds");
    let server = host.provide_stacked("test.Echo.Uds", Echo);
    let path = std::env::temp_dir().join(format!("knit-runtime-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let uds = tokio::net::UnixListener::bind(&path).unwrap();
    let theirs = futures_util::stream::unfold(uds, |uds| async move {
        Some((uds.accept().await.map(|(stream, _)| stream), uds))
    });
    // Per request: whether it tells a Unix socket's peer (None: no UdsConnectInfo).
    let peers: Arc<std::sync::Mutex<Vec<Option<bool>>>> = Default::default();
    let seen = peers.clone();
    let record =
        tower::util::MapRequestLayer::new(move |request: http::Request<tonic::body::Body>| {
            let info = request.extensions().get::<UdsConnectInfo>();
            seen.lock()
                .unwrap()
                .push(info.map(|i| i.peer_addr.is_some()));
            request
        });
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(record)
            .add_service(server)
            .serve_with_incoming(host.incoming_beside(theirs)),
    );
    let nowhere = Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    assert_eq!(
        say(Bridge::new("test.Echo.Uds", nowhere), false)
            .await
            .unwrap(),
        "hi"
    );
    // Over the socket, as a workload beside the merged binary dials it.
    let dial = path.clone();
    let channel = Endpoint::from_static("http://uds.local")
        .connect_with_connector(tower::service_fn(move |_: http::Uri| {
            let dial = dial.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(dial).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path_and_query = http::uri::PathAndQuery::from_static("/test.Echo/Say");
    let answer = grpc
        .unary(
            Request::new("over the socket".to_string()),
            path_and_query,
            Utf8,
        )
        .await
        .unwrap();
    assert_eq!(answer.into_inner(), "over the socket");
    assert_eq!(*peers.lock().unwrap(), [Some(false), Some(true)]);
    let _ = std::fs::remove_file(&path);
}
