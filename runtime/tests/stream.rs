//! Streaming calls in process (`knit_runtime::stream`) against the same handlers
//! behind a real tonic server on loopback: the caller sees the same messages,
//! statuses and trailers, and the messages are the handler's own values.

use std::cell::RefCell;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use knit_runtime::{call, stream as handoff};
use tonic::codegen::http;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, IntoStreamingRequest, Request, Response, Status, Streaming};

mod common;
use common::Utf8;

/// A unary call as knit's generated client makes it: the handler called on the
/// request under its deadline, its future boxed as tonic's handler traits box it.
fn unary<T, R, F, Fut>(request: Request<T>, handler: F) -> call::Unary<'static, R>
where
    R: 'static,
    F: FnOnce(Request<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Response<R>, Status>> + Send + 'static,
{
    call::unary(request, None, |request| Box::pin(handler(request)))
}

type Replies = BoxStream<'static, Result<String, Status>>;

tokio::task_local! {
    /// The heap address of each message a handler sent or received, when the
    /// handler runs in the test's task (in process): a message handed over
    /// arrives at the same address.
    static ADDRESSES: RefCell<Vec<usize>>;
}

fn sent(message: &str) {
    let _ = ADDRESSES.try_with(|a| a.borrow_mut().push(message.as_ptr() as usize));
}

/// `call`'s output, and the addresses its handler recorded.
async fn recording<F: std::future::Future>(call: F) -> (F::Output, Vec<usize>) {
    ADDRESSES
        .scope(RefCell::default(), async {
            let output = call.await;
            (output, ADDRESSES.with(|a| a.take()))
        })
        .await
}

/// A status with everything a status carries.
fn rich_status() -> Status {
    let mut metadata = tonic::metadata::MetadataMap::new();
    metadata.insert("x-reason", "stale".parse().unwrap());
    metadata.insert_bin("x-trace-bin", MetadataValue::from_bytes(b"\x00\x01"));
    Status::with_details_and_metadata(
        Code::FailedPrecondition,
        "item 2: löst",
        bytes::Bytes::from_static(b"\x08\x02details"),
        metadata,
    )
}

/// Server streaming: what the request names.
async fn watch(request: Request<String>) -> Result<Response<Replies>, Status> {
    let script = request.into_inner();
    let messages: Replies = match script.as_str() {
        "ok" => stream::iter(["a", "b"].map(|m| Ok(m.to_string()))).boxed(),
        "error" => stream::iter([Ok("a".to_string()), Err(rich_status())]).boxed(),
        // Panics once "a" has gone out (tonic's server sends what is ready first).
        "panic" => stream::iter(["a", "b"])
            .then(|m| async move {
                if m == "b" {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    panic!("stream broke");
                }
                Ok(m.to_string())
            })
            .boxed(),
        "panic early" => panic!("handler broke"),
        "refuse" => return Err(Status::not_found("no feed")),
        "slow" => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            stream::empty().boxed()
        }
        "slow stream" => stream::once(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok("late".to_string())
        })
        .boxed(),
        "address" => stream::iter(["a", "b"])
            .map(|m| {
                let message = m.repeat(3);
                sent(&message);
                Ok(message)
            })
            .boxed(),
        other => panic!("no script {other}"),
    };
    let mut response = Response::new(messages);
    response
        .metadata_mut()
        .insert("x-served-by", "feed".parse().unwrap());
    Ok(response)
}

/// Client streaming: the messages joined, and their addresses recorded.
async fn join(request: Request<Streaming<String>>) -> Result<Response<String>, Status> {
    let mut messages = request.into_inner();
    let mut joined = Vec::new();
    while let Some(message) = messages.message().await? {
        sent(&message);
        joined.push(message);
    }
    Ok(Response::new(joined.join("+")))
}

/// Bidirectional: each message back as it came.
async fn echo(request: Request<Streaming<String>>) -> Result<Response<Replies>, Status> {
    Ok(Response::new(request.into_inner().boxed()))
}

/// `test.Feed` served by tonic's server: `Watch`, `Join`, `Echo`.
#[derive(Clone)]
struct Feed;

impl tonic::server::NamedService for Feed {
    const NAME: &'static str = "test.Feed";
}

impl tower::Service<http::Request<tonic::body::Body>> for Feed {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(Utf8);
            Ok(match request.uri().path() {
                "/test.Feed/Watch" => {
                    grpc.server_streaming(tower::service_fn(watch), request)
                        .await
                }
                "/test.Feed/Join" => {
                    grpc.client_streaming(tower::service_fn(join), request)
                        .await
                }
                _ => grpc.streaming(tower::service_fn(echo), request).await,
            })
        })
    }
}

/// A channel to `Feed` served on a loopback port.
async fn serve() -> Channel {
    Channel::from_shared(feed().await)
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// The URL of `Feed` served on a loopback port.
async fn feed() -> String {
    serve_on_loopback(Feed).await
}

/// The URL of `service` served by tonic's server on a loopback port.
async fn serve_on_loopback<S, B>(service: S) -> String
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<B>,
            Error = Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = stream::unfold(listener, |listener| async move {
        Some((listener.accept().await.map(|(s, _)| s), listener))
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    format!("http://{addr}")
}

async fn client(channel: &Channel) -> tonic::client::Grpc<Channel> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    grpc
}

fn path(method: &str) -> http::uri::PathAndQuery {
    format!("/test.Feed/{method}").parse().unwrap()
}

/// `Watch` over the network and in process.
async fn watch_both(
    channel: &Channel,
    script: &str,
    timeout: Option<Duration>,
) -> [Result<Response<Streaming<String>>, Status>; 2] {
    let request = || {
        let mut request = Request::new(script.to_string());
        if let Some(timeout) = timeout {
            request.set_timeout(timeout);
        }
        request
    };
    let network = client(channel)
        .await
        .server_streaming(request(), path("Watch"), Utf8)
        .await;
    let local = handoff::responses(request(), None, |r| Box::pin(watch(r))).await;
    [network, local]
}

/// What a caller can observe of a status; transport headers left out.
fn status(status: &Status) -> String {
    let mut metadata: Vec<String> = status
        .metadata()
        .clone()
        .into_headers()
        .iter()
        .filter(|(k, _)| !["content-type", "date"].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    metadata.sort();
    format!(
        "{:?} {:?} details={:?} metadata={metadata:?}",
        status.code(),
        status.message(),
        status.details()
    )
}

/// Everything a caller reads from a streaming answer: the response's own
/// metadata, each message or error, then the trailers.
async fn observe(answer: Result<Response<Streaming<String>>, Status>) -> String {
    let mut response = match answer {
        Ok(response) => response,
        Err(e) => return format!("call failed: {}", status(&e)),
    };
    let mut seen = vec![format!(
        "x-served-by={:?}",
        response.metadata().get("x-served-by")
    )];
    let messages = response.get_mut();
    loop {
        match messages.message().await {
            Ok(Some(m)) => seen.push(m),
            Ok(None) => break,
            Err(e) => {
                seen.push(format!("error: {}", status(&e)));
                break;
            }
        }
    }
    seen.push(format!(
        "trailers: {:?}",
        messages.trailers().await.map_err(|e| status(&e))
    ));
    seen.join("\n")
}

async fn same_as_network(script: &str, timeout: Option<Duration>) -> String {
    let channel = serve().await;
    let [network, local] = watch_both(&channel, script, timeout).await;
    let (network, local) = (observe(network).await, observe(local).await);
    assert_eq!(local, network, "script {script:?}");
    // Bridged: tonic's client over the server's own stack, in process.
    let mut request = Request::new(script.to_string());
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    let bridged = tonic::client::Grpc::new(knit_runtime::transport::LocalTransport::new(Feed))
        .server_streaming(request, path("Watch"), Utf8)
        .await;
    assert_eq!(
        observe(bridged).await,
        network,
        "script {script:?}, bridged"
    );
    local
}

#[tokio::test]
async fn a_stream_ends_with_the_trailers_of_tonics_server() {
    let seen = same_as_network("ok", None).await;
    assert!(seen.starts_with("x-served-by=Some(\"feed\")\na\nb\ntrailers: Ok(Some("));
    assert!(seen.contains("\"grpc-status\": \"0\""), "{seen}");
}

#[tokio::test]
async fn an_error_mid_stream_arrives_as_over_the_network() {
    let seen = same_as_network("error", None).await;
    assert!(
        seen.contains("error: FailedPrecondition \"item 2: löst\""),
        "{seen}"
    );
    assert!(seen.contains(r#"x-reason=\"stale\""#), "{seen}");
}

#[tokio::test]
async fn an_error_before_the_stream_fails_the_call() {
    let seen = same_as_network("refuse", None).await;
    assert!(
        seen.starts_with("call failed: NotFound \"no feed\""),
        "{seen}"
    );
}

#[tokio::test]
async fn a_panic_fails_the_call_or_ends_the_stream_as_over_the_network() {
    same_as_network("panic early", None).await;
    let seen = same_as_network("panic", None).await;
    assert!(seen.contains("\na\nerror: "), "{seen}");
}

#[tokio::test]
async fn the_deadline_bounds_the_handlers_future_not_its_stream() {
    let seen = same_as_network("slow", Some(Duration::from_millis(50))).await;
    assert!(
        seen.starts_with("call failed: Cancelled \"Timeout expired\""),
        "{seen}"
    );
    let seen = same_as_network("slow stream", Some(Duration::from_millis(50))).await;
    assert!(seen.contains("\nlate\n"), "{seen}");
}

#[tokio::test]
async fn a_channel_timeout_answers_as_tonics_channel_does() {
    let timeout = Duration::from_millis(50);
    let timed = Channel::from_shared(feed().await)
        .unwrap()
        .timeout(timeout)
        .connect()
        .await
        .unwrap();
    // The channel's timeout alone, then under a later deadline of the request's own.
    for own in [None, Some(Duration::from_secs(10))] {
        let request = || {
            let mut request = Request::new("slow".to_string());
            if let Some(own) = own {
                request.set_timeout(own);
            }
            request
        };
        let network = client(&timed)
            .await
            .server_streaming(request(), path("Watch"), Utf8)
            .await;
        let local = handoff::responses(request(), Some(timeout), |r| Box::pin(watch(r))).await;
        let [network, local] = [network, local].map(|r| status(&r.map(|_| ()).unwrap_err()));
        assert!(
            network.starts_with("Cancelled \"Timeout expired\""),
            "{network}"
        );
        assert_eq!(network, local);
    }
}

#[tokio::test]
async fn messages_are_the_handlers_own_values() {
    let (received, addresses) = recording(async {
        let request = Request::new("address".to_string());
        let mut replies = handoff::responses(request, None, |r| Box::pin(watch(r)))
            .await
            .unwrap()
            .into_inner();
        let mut received = Vec::new();
        while let Some(message) = replies.message().await.unwrap() {
            received.push(message.as_ptr() as usize);
        }
        received
    })
    .await;
    assert_eq!(received.len(), 2);
    assert_eq!(received, addresses);
}

#[tokio::test]
async fn dropping_the_stream_drops_the_handlers_stream() {
    struct Endless(Arc<AtomicBool>);
    impl Stream for Endless {
        type Item = Result<String, Status>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(Some(Ok("more".into())))
        }
    }
    impl Drop for Endless {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let handler_stream = Endless(dropped.clone());
    let mut replies = handoff::responses(Request::new(()), None, |_| {
        Box::pin(async move { Ok(Response::new(handler_stream)) })
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(replies.message().await.unwrap().as_deref(), Some("more"));
    assert!(!dropped.load(Ordering::SeqCst));
    drop(replies);
    assert!(
        dropped.load(Ordering::SeqCst),
        "the handler's stream was dropped"
    );
}

#[tokio::test]
async fn client_streaming_hands_the_callers_values_over_in_order() {
    let channel = serve().await;
    let words = || ["one", "two", "three"].map(String::from);
    let network = client(&channel)
        .await
        .client_streaming(
            stream::iter(words()).into_streaming_request(),
            path("Join"),
            Utf8,
        )
        .await
        .unwrap();
    let words = words();
    let addresses: Vec<usize> = words.iter().map(|w| w.as_ptr() as usize).collect();
    let mut request = stream::iter(words).into_streaming_request();
    request
        .metadata_mut()
        .insert("x-caller", "shelf".parse().unwrap());
    let (local, received) = recording(unary(handoff::requests(request), |r| async move {
        assert_eq!(r.metadata().get("x-caller").unwrap(), "shelf");
        join(r).await
    }))
    .await;
    let local = local.unwrap();
    assert_eq!(local.get_ref(), network.get_ref());
    assert_eq!(local.get_ref(), "one+two+three");
    assert_eq!(received, addresses);
}

#[tokio::test]
async fn a_client_stream_that_never_ends_meets_the_deadline() {
    let channel = serve().await;
    let request = || {
        let mut request = stream::pending::<String>().into_streaming_request();
        request.set_timeout(Duration::from_millis(50));
        request
    };
    let network = client(&channel)
        .await
        .client_streaming(request(), path("Join"), Utf8)
        .await
        .unwrap_err();
    let local = unary(handoff::requests(request()), join).await.unwrap_err();
    assert_eq!(status(&local), status(&network));
    assert_eq!(local.code(), Code::Cancelled);
}

#[tokio::test]
async fn bidirectional_messages_come_back_as_they_went() {
    let channel = serve().await;
    let words = || ["a", "b", "c"].map(String::from);
    let network = client(&channel)
        .await
        .streaming(
            stream::iter(words()).into_streaming_request(),
            path("Echo"),
            Utf8,
        )
        .await;
    let words = words();
    let addresses: Vec<usize> = words.iter().map(|w| w.as_ptr() as usize).collect();
    let mut local = handoff::responses(
        handoff::requests(stream::iter(words).into_streaming_request()),
        None,
        |r| Box::pin(echo(r)),
    )
    .await
    .unwrap()
    .into_inner();
    let mut back = Vec::new();
    while let Some(message) = local.message().await.unwrap() {
        back.push(message.as_ptr() as usize);
    }
    assert_eq!(back, addresses);
    let network: Vec<String> = network
        .unwrap()
        .into_inner()
        .map(|m| m.unwrap())
        .collect()
        .await;
    assert_eq!(network, ["a", "b", "c"]);
    assert!(local.trailers().await.unwrap().is_some());
}

#[tokio::test]
async fn a_panic_fails_that_call_only() {
    let seen = observe(
        handoff::responses(Request::new("panic".to_string()), None, |r| {
            Box::pin(watch(r))
        })
        .await,
    )
    .await;
    assert!(seen.contains("\na\nerror: "), "{seen}");
    let again = observe(
        handoff::responses(Request::new("ok".to_string()), None, |r| Box::pin(watch(r))).await,
    )
    .await;
    assert!(again.contains("\na\nb\n"), "{again}");
}

#[tokio::test]
async fn a_panic_in_the_servers_interceptor_fails_that_call_as_over_the_network() {
    fn broken(_: Request<()>) -> Result<Request<()>, Status> {
        panic!("interceptor broke")
    }
    let server = tonic::service::interceptor::InterceptedService::new(Feed, broken);
    let url = serve_on_loopback(server.clone()).await;
    let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
    let request = || Request::new("ok".to_string());
    let network = client(&channel)
        .await
        .server_streaming(request(), path("Watch"), Utf8)
        .await
        .map(|_| ())
        .unwrap_err();
    // Inline: the server's interceptor as knit's generated client runs it.
    let interceptor = call::SharedInterceptor::new(broken);
    let inline = call::intercept_as_server(request(), Some(&interceptor)).unwrap_err();
    // Bridged: tonic's client over the server's own stack, in process.
    let transport = knit_runtime::transport::LocalTransport::new(server);
    let mut bridged = tonic::client::Grpc::new(transport);
    let bridged = bridged
        .server_streaming(request(), path("Watch"), Utf8)
        .await
        .map(|_| ())
        .unwrap_err();
    let [network, inline, bridged] = [network, inline, bridged].map(|s| status(&s));
    assert!(
        network.starts_with("Cancelled \"h2 protocol error: http2 error\""),
        "{network}"
    );
    assert_eq!(network, inline);
    assert_eq!(network, bridged);
    // The interceptor is poisoned by the panic, not dead: the next call runs it again.
    let again = call::intercept_as_server(request(), Some(&interceptor)).unwrap_err();
    assert_eq!(status(&again), network);
}
