//! A routed channel (`knit_runtime::channel`) against the same client over the
//! network, a real tonic server on a loopback listener: every call answers the
//! same, and calls to a service whose server this process registered never
//! reach the listener.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use knit_runtime::{channel, registry, ServiceHost};
use tonic::codegen::http;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};

mod common;
use common::Utf8;

/// The gRPC service name an [`Echo`] serves as.
trait Name: Clone + Send + Sync + 'static {
    const NAME: &'static str;
}

/// Registered as a server in this process.
#[derive(Clone)]
struct Hosted;
impl Name for Hosted {
    const NAME: &'static str = "test.Hosted";
}

/// Not hosted in this process: served by the listener only.
#[derive(Clone)]
struct Remote;
impl Name for Remote {
    const NAME: &'static str = "test.Remote";
}

/// Hosted in this process with a handler of its own, not a server.
#[derive(Clone)]
struct Inline;
impl Name for Inline {
    const NAME: &'static str = "test.Inline";
}

/// Hosted in this process, its server registered after the caller connected.
#[derive(Clone)]
struct Late;
impl Name for Late {
    const NAME: &'static str = "test.Late";
}

/// `Say` answers what the request names, with where it ran (`x-via`);
/// `Watch` streams.
#[derive(Clone)]
struct Echo<N>(PhantomData<N>);

impl<N: Name> tonic::server::NamedService for Echo<N> {
    const NAME: &'static str = N::NAME;
}

type Future<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Where a handler runs: a request from the network has a peer address.
fn via<T>(request: &Request<T>) -> &'static str {
    match request.remote_addr() {
        Some(_) => "network",
        None => "process",
    }
}

async fn say(request: Request<String>) -> Result<Response<String>, Status> {
    let via = via(&request);
    let answer = match request.get_ref().as_str() {
        "error" => {
            let mut metadata = tonic::metadata::MetadataMap::new();
            metadata.insert("x-reason", "stale".parse().unwrap());
            return Err(Status::with_metadata(Code::NotFound, "no such", metadata));
        }
        "slow" => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "late".to_string()
        }
        "panic" => panic!("handler broke"),
        "wrapped" => format!("{:?}", request.metadata().get("x-wrapper")),
        "agent" => format!("{:?}", request.metadata().get("user-agent")),
        other => other.to_string(),
    };
    let mut response = Response::new(answer);
    response
        .metadata_mut()
        .insert("x-via", via.parse().unwrap());
    Ok(response)
}

async fn watch(
    request: Request<String>,
) -> Result<Response<BoxStream<'static, Result<String, Status>>>, Status> {
    let script = request.into_inner();
    if script == "panic" {
        // Panics once "a" has gone out (tonic's server sends what is ready first).
        let broken = stream::iter(["a", "b"]).then(|m| async move {
            if m == "b" {
                tokio::time::sleep(Duration::from_millis(50)).await;
                panic!("stream broke");
            }
            Ok(m.to_string())
        });
        return Ok(Response::new(broken.boxed()));
    }
    Ok(Response::new(
        stream::iter([Ok(script.clone()), Ok(script), Err(Status::aborted("done"))]).boxed(),
    ))
}

impl<N: Name> tower::Service<http::Request<tonic::body::Body>> for Echo<N> {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Future<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(Utf8);
            Ok(if request.uri().path().ends_with("/Watch") {
                grpc.server_streaming(tower::service_fn(watch), request)
                    .await
            } else {
                grpc.unary(tower::service_fn(say), request).await
            })
        })
    }
}

/// Declares and registers this process's services, once for every test.
fn host() {
    static HOST: Once = Once::new();
    HOST.call_once(|| {
        registry::declare(Hosted::NAME, "hosted");
        registry::declare(Inline::NAME, "inline");
        ServiceHost::standalone("hosted").provide_server(Hosted::NAME, Echo::<Hosted>(PhantomData));
        ServiceHost::standalone("inline").provide(Inline::NAME, Arc::new(()));
    });
}

/// The URL of a tonic server of all three services on a loopback port.
async fn listener() -> String {
    host();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = stream::unfold(listener, |listener| async move {
        Some((listener.accept().await.map(|(s, _)| s), listener))
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(Echo::<Hosted>(PhantomData))
            .add_service(Echo::<Remote>(PhantomData))
            .add_service(Echo::<Inline>(PhantomData))
            .serve_with_incoming(incoming),
    );
    format!("http://{addr}")
}

/// A client as tonic generates it, for the service `N` over transport `T`.
struct EchoClient<T, N> {
    inner: tonic::client::Grpc<T>,
    name: PhantomData<N>,
}

impl<T, N> EchoClient<T, N>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<tonic::codegen::StdError> + Send,
    N: Name,
{
    fn new(inner: T) -> Self {
        Self {
            inner: tonic::client::Grpc::new(inner),
            name: PhantomData,
        }
    }

    fn path(method: &str) -> http::uri::PathAndQuery {
        format!("/{}/{method}", N::NAME).parse().unwrap()
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.inner
            .ready()
            .await
            .map_err(|e| Status::unknown(format!("Service was not ready: {}", e.into())))
    }

    async fn say(&mut self, script: &str) -> Result<Response<String>, Status> {
        self.ready().await?;
        let request = Request::new(script.to_string());
        self.inner.unary(request, Self::path("Say"), Utf8).await
    }

    async fn watch(&mut self, script: &str) -> Result<Vec<String>, Status> {
        self.ready().await?;
        let request = Request::new(script.to_string());
        let response = self
            .inner
            .server_streaming(request, Self::path("Watch"), Utf8)
            .await?;
        let mut messages = response.into_inner();
        let mut seen = Vec::new();
        loop {
            match messages.message().await {
                Ok(Some(message)) => seen.push(message),
                Ok(None) => break,
                Err(e) => {
                    seen.push(format!("{:?} {}", e.code(), e.message()));
                    break;
                }
            }
        }
        Ok(seen)
    }
}

/// What a caller sees of a unary answer, and where it ran.
fn seen(answer: Result<Response<String>, Status>) -> (String, Option<String>) {
    match answer {
        Ok(response) => {
            let via = response
                .metadata()
                .get("x-via")
                .map(|v| v.to_str().unwrap().to_string());
            (response.into_inner(), via)
        }
        Err(status) => {
            let reason = status.metadata().get("x-reason");
            (
                format!("{:?} {:?} {reason:?}", status.code(), status.message()),
                None,
            )
        }
    }
}

/// `script` said to `N` over `routed` and over `network`: the same answer, and
/// where each ran.
async fn both<N: Name>(routed: &Channel, network: &Channel, script: &str) -> [Option<String>; 2] {
    let (routed, via_routed) = seen(EchoClient::<_, N>::new(routed.clone()).say(script).await);
    let (network, via_network) = seen(EchoClient::<_, N>::new(network.clone()).say(script).await);
    assert_eq!(routed, network, "script {script:?}");
    [via_routed, via_network]
}

fn some(via: &str) -> Option<String> {
    Some(via.to_string())
}

/// A routed channel and a network channel from one endpoint.
async fn channels(endpoint: Endpoint, services: &[&'static str]) -> (Channel, Channel) {
    let routed = channel::connect(endpoint.clone(), services).await.unwrap();
    (routed, endpoint.connect().await.unwrap())
}

#[tokio::test]
async fn a_unary_call_runs_in_process_with_the_same_answers() {
    let endpoint = Endpoint::from_shared(listener().await).unwrap();
    let (routed, network) = channels(endpoint, &[Hosted::NAME]).await;
    let via = both::<Hosted>(&routed, &network, "hi").await;
    assert_eq!(via, [some("process"), some("network")]);
    both::<Hosted>(&routed, &network, "error").await;
}

#[tokio::test]
async fn a_server_stream_answers_the_same() {
    let endpoint = Endpoint::from_shared(listener().await).unwrap();
    let (routed, network) = channels(endpoint, &[Hosted::NAME]).await;
    let routed = EchoClient::<_, Hosted>::new(routed).watch("a").await;
    let network = EchoClient::<_, Hosted>::new(network).watch("a").await;
    assert_eq!(routed.unwrap(), ["a", "a", "Aborted done"]);
    assert_eq!(network.unwrap(), ["a", "a", "Aborted done"]);
}

#[tokio::test]
async fn a_stream_that_panics_ends_the_same() {
    let endpoint = Endpoint::from_shared(listener().await).unwrap();
    let (routed, network) = channels(endpoint, &[Hosted::NAME]).await;
    let routed = EchoClient::<_, Hosted>::new(routed).watch("panic").await;
    let network = EchoClient::<_, Hosted>::new(network).watch("panic").await;
    assert_eq!(routed.unwrap(), network.unwrap());
}

#[tokio::test]
async fn the_endpoints_timeout_ends_a_slow_call_the_same() {
    let endpoint = Endpoint::from_shared(listener().await)
        .unwrap()
        .timeout(Duration::from_millis(100));
    let (routed, network) = channels(endpoint, &[Hosted::NAME]).await;
    both::<Hosted>(&routed, &network, "slow").await;
    let (answer, _) = seen(EchoClient::<_, Hosted>::new(routed).say("slow").await);
    assert!(answer.starts_with("Cancelled"), "{answer}");
}

#[tokio::test]
async fn a_panicking_handler_fails_its_call_only() {
    let endpoint = Endpoint::from_shared(listener().await).unwrap();
    let (routed, network) = channels(endpoint, &[Hosted::NAME]).await;
    let mut client = EchoClient::<_, Hosted>::new(routed.clone());
    let panicked = client.say("panic").await.unwrap_err();
    let over_network = EchoClient::<_, Hosted>::new(network.clone())
        .say("panic")
        .await;
    let over_network = over_network.unwrap_err();
    assert_eq!(
        (panicked.code(), panicked.message()),
        (over_network.code(), over_network.message())
    );
    assert_eq!(client.say("after").await.unwrap().into_inner(), "after");
}

/// The caller's own tower wrapper around its channel: adds `x-wrapper`.
#[derive(Clone)]
struct Wrapper<S>(S);

impl<S, B> tower::Service<http::Request<B>> for Wrapper<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> S::Future {
        request
            .headers_mut()
            .insert("x-wrapper", http::HeaderValue::from_static("on"));
        self.0.call(request)
    }
}

#[tokio::test]
async fn a_clients_own_wrapper_runs_on_the_way_in_process() {
    let endpoint = Endpoint::from_shared(listener().await).unwrap();
    let (routed, network) = channels(endpoint, &[Hosted::NAME]).await;
    let ask = |channel: Channel| async move {
        seen(
            EchoClient::<_, Hosted>::new(Wrapper(channel))
                .say("wrapped")
                .await,
        )
    };
    let (routed, network) = (ask(routed).await, ask(network).await);
    assert_eq!(routed, (r#"Some("on")"#.to_string(), some("process")));
    assert_eq!(network, (r#"Some("on")"#.to_string(), some("network")));
}

#[tokio::test]
async fn other_services_go_to_the_network() {
    let endpoint = Endpoint::from_shared(listener().await)
        .unwrap()
        .user_agent("caller/1")
        .unwrap();
    // Not hosted, and hosted by a handler rather than a server; an empty list
    // routes too while this process hosts servers.
    let (routed, network) = channels(endpoint.clone(), &[Hosted::NAME, Remote::NAME]).await;
    let via = both::<Remote>(&routed, &network, "hi").await;
    assert_eq!(via, [some("network"), some("network")]);
    // The endpoint's user agent, once.
    both::<Remote>(&routed, &network, "agent").await;
    let via = both::<Inline>(&routed, &network, "hi").await;
    assert_eq!(via, [some("network"), some("network")]);
    let via = both::<Hosted>(&routed, &network, "hi").await;
    assert_eq!(via, [some("process"), some("network")]);
    let any = channel::connect_lazy(endpoint, &[]);
    let via = both::<Remote>(&any, &network, "hi").await;
    assert_eq!(via, [some("network"), some("network")]);
    let via = both::<Hosted>(&any, &network, "hi").await;
    assert_eq!(via, [some("process"), some("network")]);
}

#[tokio::test]
async fn a_channel_to_hosted_services_only_dials_nothing() {
    host();
    let nowhere = Endpoint::from_static("http://127.0.0.1:9");
    let routed = channel::connect(nowhere.clone(), &[Hosted::NAME])
        .await
        .unwrap();
    let answer = seen(EchoClient::<_, Hosted>::new(routed).say("hi").await);
    assert_eq!(answer, ("hi".to_string(), some("process")));
    let client = channel::client(
        "http://127.0.0.1:9",
        &[Hosted::NAME],
        EchoClient::<_, Hosted>::new,
    );
    let answer = seen(client.await.unwrap().say("hi").await);
    assert_eq!(answer, ("hi".to_string(), some("process")));
    let lazy = channel::connect_lazy(nowhere, &[Hosted::NAME, Remote::NAME]);
    let answer = seen(EchoClient::<_, Hosted>::new(lazy).say("hi").await);
    assert_eq!(answer, ("hi".to_string(), some("process")));
}

#[tokio::test]
async fn a_call_waits_for_its_provider_to_register() {
    registry::declare(Late::NAME, "late");
    let nowhere = Endpoint::from_static("http://127.0.0.1:9");
    let routed = channel::connect(nowhere, &[Late::NAME]).await.unwrap();
    let call = tokio::spawn(async move { EchoClient::<_, Late>::new(routed).say("hi").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!call.is_finished());
    ServiceHost::standalone("late").provide_server(Late::NAME, Echo::<Late>(PhantomData));
    let answer = seen(call.await.unwrap());
    assert_eq!(answer, ("hi".to_string(), some("process")));
}

#[tokio::test]
async fn a_channel_with_the_network_in_it_dials_as_before() {
    host();
    let nowhere = Endpoint::from_static("http://127.0.0.1:9");
    for services in [&[Remote::NAME][..], &[Hosted::NAME, Remote::NAME], &[]] {
        assert!(
            channel::connect(nowhere.clone(), services).await.is_err(),
            "{services:?}"
        );
    }
    let client = channel::client(
        "http://127.0.0.1:9",
        &[Remote::NAME],
        EchoClient::<_, Remote>::new,
    );
    assert!(client.await.is_err());
    // TLS is never taken in process: tonic without TLS refuses `https` as before.
    let tls = Endpoint::from_static("https://127.0.0.1:9");
    assert!(channel::connect(tls, &[Hosted::NAME]).await.is_err());
}

/// A routed balance channel and tonic's, each given `endpoints`.
async fn balanced(endpoints: &[Endpoint], services: &[&'static str]) -> (Channel, Channel) {
    use tonic::transport::channel::Change;
    let (routed, to_routed) = channel::balance_channel::<usize>(4, services);
    let (network, to_network) = Channel::balance_channel::<usize>(4);
    for (key, endpoint) in endpoints.iter().enumerate() {
        let insert = || Change::Insert(key, endpoint.clone());
        to_routed.send(insert()).await.unwrap();
        to_network.send(insert()).await.unwrap();
    }
    // The senders live as long as the channels' callers need them.
    std::mem::forget((to_routed, to_network));
    (routed, network)
}

#[tokio::test]
async fn a_balance_channel_runs_hosted_services_in_process() {
    let url = listener().await;
    let endpoints = [
        Endpoint::from_shared(url.clone()).unwrap(),
        Endpoint::from_shared(url)
            .unwrap()
            .user_agent("caller/1")
            .unwrap(),
    ];
    let (routed, network) = balanced(&endpoints, &[Hosted::NAME, Remote::NAME]).await;
    for _ in 0..2 {
        let via = both::<Hosted>(&routed, &network, "hi").await;
        assert_eq!(via, [some("process"), some("network")]);
        both::<Hosted>(&routed, &network, "error").await;
        let via = both::<Remote>(&routed, &network, "hi").await;
        assert_eq!(via, [some("network"), some("network")]);
    }
    let routed = EchoClient::<_, Hosted>::new(routed).watch("a").await;
    assert_eq!(routed.unwrap(), ["a", "a", "Aborted done"]);
}

#[tokio::test]
async fn a_balance_channels_endpoint_timeout_ends_a_slow_call_the_same() {
    let endpoint = Endpoint::from_shared(listener().await)
        .unwrap()
        .timeout(Duration::from_millis(100));
    let (routed, network) = balanced(&[endpoint], &[Hosted::NAME]).await;
    both::<Hosted>(&routed, &network, "slow").await;
    let (answer, _) = seen(EchoClient::<_, Hosted>::new(routed).say("slow").await);
    assert!(answer.starts_with("Cancelled"), "{answer}");
}

#[tokio::test]
async fn a_balance_channel_waits_for_an_endpoint_and_dials_nothing() {
    use tonic::transport::channel::Change;
    host();
    let (routed, changes) = channel::balance_channel::<&str>(1, &[Hosted::NAME]);
    let call = tokio::spawn(async move { EchoClient::<_, Hosted>::new(routed).say("hi").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!call.is_finished());
    let nowhere = Endpoint::from_static("http://127.0.0.1:9");
    changes
        .send(Change::Insert("a", nowhere.clone()))
        .await
        .unwrap();
    let answer = seen(call.await.unwrap());
    assert_eq!(answer, ("hi".to_string(), some("process")));
    let list = channel::balance_list([nowhere].into_iter(), &[Hosted::NAME]);
    let answer = seen(EchoClient::<_, Hosted>::new(list).say("hi").await);
    assert_eq!(answer, ("hi".to_string(), some("process")));
}

#[tokio::test]
async fn a_balance_channel_for_no_hosted_service_is_tonics() {
    let endpoint = Endpoint::from_shared(listener().await).unwrap();
    let (routed, network) = balanced(std::slice::from_ref(&endpoint), &[Remote::NAME]).await;
    let via = both::<Remote>(&routed, &network, "hi").await;
    assert_eq!(via, [some("network"), some("network")]);
    // Even a hosted service's calls: knit did not list it.
    let via = both::<Hosted>(&routed, &network, "hi").await;
    assert_eq!(via, [some("network"), some("network")]);
    // TLS is never taken in process: the call goes to tonic's channel.
    let tls = Endpoint::from_static("https://127.0.0.1:9");
    let (routed, network) = balanced(&[tls], &[Hosted::NAME]).await;
    let routed = EchoClient::<_, Hosted>::new(routed).say("hi").await;
    let network = EchoClient::<_, Hosted>::new(network).say("hi").await;
    assert_eq!(routed.unwrap_err().code(), network.unwrap_err().code());
}
