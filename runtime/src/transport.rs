//! A tonic client transport that hands requests to a server of the same process:
//! messages are encoded, but no socket or HTTP/2 connection is involved. knit uses
//! it for callers whose generated types differ from their callee's (the `bridged`
//! tier).

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
/// tonic's request and response body.
#[cfg(not(feature = "tonic-012"))]
pub(crate) use tonic::body::Body;
#[cfg(feature = "tonic-011")]
pub(crate) use tonic::body::BoxBody as Body;
#[cfg(all(feature = "tonic-012", not(feature = "tonic-011")))]
pub(crate) use tonic::body::{boxed, BoxBody as Body};
use tonic::codegen::{http, Body as HttpBody};
use tonic::Status;
use tower::util::BoxCloneSyncService;
use tower::Service;

type Request = http::Request<Body>;
type Response = http::Response<Body>;

/// A request extension: the caller's client times the call itself and ends it
/// when its deadline passes (Volo's), so the server side leaves the request's
/// `grpc-timeout` to it, as over the network, where the client's timer ends
/// the call before the server's answer arrives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeadlineKept;

/// The server side of an in-process call, behind tonic's client.
#[derive(Clone)]
pub struct LocalTransport(BoxCloneSyncService<Request, Response, Infallible>);

impl std::fmt::Debug for LocalTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalTransport")
    }
}

impl LocalTransport {
    /// Wraps a generated server (`XServer<T>`, or one with its interceptor).
    pub fn new<S, B>(server: S) -> Self
    where
        S: Service<Request, Response = http::Response<B>, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: HttpBody<Data = tonic::codegen::Bytes> + Send + 'static,
        B::Error: Into<tonic::codegen::StdError>,
    {
        let server = tower::ServiceExt::map_response(server, |response: http::Response<B>| {
            response.map(|body| boxed(Guarded { body, ended: false }))
        });
        Self(BoxCloneSyncService::new(server))
    }
}

/// The bridged side of a provider's registration: the registry knows handlers,
/// this module how a server becomes one.
impl crate::ServiceHost {
    /// [`ServiceHost::provide_server`](crate::ServiceHost::provide_server) for
    /// the server of the pair that a function of an API crate returns
    /// (`tonic_health::server::health_reporter()`: its reporter and its
    /// server). Returns the pair as it is.
    pub fn provide_server_paired<R, S, B>(
        &self,
        grpc_service: &'static str,
        (first, server): (R, S),
    ) -> (R, S)
    where
        S: tower::Service<
                tonic::codegen::http::Request<Body>,
                Response = tonic::codegen::http::Response<B>,
                Error = std::convert::Infallible,
            > + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
        B::Error: Into<tonic::codegen::StdError>,
    {
        (first, self.provide_server(grpc_service, server))
    }

    /// Registers `server` (a generated `XServer`, with its interceptor or not) as
    /// `grpc_service` for callers of the group that compile other definitions of
    /// its proto package: their requests are decoded by this server's own stack,
    /// in process (the `bridged` tier). Returns `server` for the listener.
    pub fn provide_server<S, B>(&self, grpc_service: &'static str, server: S) -> S
    where
        S: tower::Service<
                tonic::codegen::http::Request<Body>,
                Response = tonic::codegen::http::Response<B>,
                Error = std::convert::Infallible,
            > + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
        B::Error: Into<tonic::codegen::StdError>,
    {
        let transport = LocalTransport::new(server.clone());
        self.provide(grpc_service, std::sync::Arc::new(transport));
        server
    }
}

/// `body` as tonic's request and response body (tonic 0.12: `tonic::body::boxed`).
#[cfg(not(feature = "tonic-012"))]
pub(crate) fn boxed<B>(body: B) -> Body
where
    B: HttpBody<Data = tonic::codegen::Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    Body::new(body)
}

/// `body` as tonic's request and response body (tonic 0.10 and 0.11, whose
/// `boxed` is private).
#[cfg(feature = "tonic-011")]
pub(crate) fn boxed<B>(body: B) -> Body
where
    B: HttpBody<Data = tonic::codegen::Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    body.map_err(|e| Status::from_error(e.into()))
        .boxed_unsync()
}

/// `status` as the answer of tonic's server: its status in the headers.
pub(crate) fn answer(status: Status) -> http::Response<Body> {
    #[cfg(not(feature = "tonic-011"))]
    return status.into_http();
    #[cfg(feature = "tonic-011")]
    return status.to_http();
}

/// `poll` run so that a panic ends the body as the server's panicking task
/// resets its stream: `ended` set, and the error tonic's client reads then.
fn guard<T>(ended: &mut bool, poll: impl FnOnce() -> T) -> Result<T, tonic::codegen::StdError> {
    std::panic::catch_unwind(AssertUnwindSafe(poll)).map_err(|_| {
        *ended = true;
        Box::new(Status::cancelled(crate::stream::PANIC_MID_STREAM)) as tonic::codegen::StdError
    })
}

pin_project_lite::pin_project! {
    /// A response body whose panics (the handler's stream, polled by the
    /// caller's task) end it as over the network: tonic's client reads the
    /// error of a stream that the server's panicking task reset.
    struct Guarded<B> {
        #[pin]
        body: B,
        ended: bool,
    }
}

#[cfg(not(feature = "tonic-011"))]
impl<B> HttpBody for Guarded<B>
where
    B: HttpBody<Data = tonic::codegen::Bytes>,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Data = tonic::codegen::Bytes;
    type Error = tonic::codegen::StdError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        let body = this.body;
        match guard(this.ended, || body.poll_frame(cx)) {
            Ok(polled) => polled.map(|frame| frame.map(|f| f.map_err(Into::into))),
            Err(reset) => Poll::Ready(Some(Err(reset))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// http-body 0.4's `Body` (tonic 0.10 and 0.11): data, then trailers.
#[cfg(feature = "tonic-011")]
impl<B> HttpBody for Guarded<B>
where
    B: HttpBody<Data = tonic::codegen::Bytes>,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Data = tonic::codegen::Bytes;
    type Error = tonic::codegen::StdError;

    fn poll_data(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Self::Data, Self::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        let body = this.body;
        match guard(this.ended, || body.poll_data(cx)) {
            Ok(polled) => polled.map(|data| data.map(|d| d.map_err(Into::into))),
            Err(reset) => Poll::Ready(Some(Err(reset))),
        }
    }

    fn poll_trailers(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<http::HeaderMap>, Self::Error>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(Ok(None));
        }
        let body = this.body;
        match guard(this.ended, || body.poll_trailers(cx)) {
            Ok(polled) => polled.map(|trailers| trailers.map_err(Into::into)),
            Err(reset) => Poll::Ready(Err(reset)),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }
}

impl Service<Request> for LocalTransport {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    /// As tonic's server would: the caller's `grpc-timeout` bounds the call
    /// (`Cancelled` "Timeout expired"), and a panicking handler fails the call as
    /// the reset stream does over the network.
    fn call(&mut self, request: Request) -> Self::Future {
        let timeout = request
            .headers()
            .get("grpc-timeout")
            .filter(|_| request.extensions().get::<DeadlineKept>().is_none())
            .and_then(|v| v.to_str().ok())
            .and_then(crate::call::parse_timeout);
        // The server's interceptor runs in `call` itself, its handler in the future.
        let server = &mut self.0;
        let Ok(call) = std::panic::catch_unwind(AssertUnwindSafe(|| server.call(request))) else {
            let status = Status::cancelled(crate::call::PANIC_MESSAGE);
            return Box::pin(std::future::ready(Ok(answer(status))));
        };
        let call = AssertUnwindSafe(call).catch_unwind();
        Box::pin(async move {
            let outcome = match timeout {
                Some(timeout) => match tokio::time::timeout(timeout, call).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Ok(answer(crate::call::expired())),
                },
                None => call.await,
            };
            match outcome {
                Ok(answer) => answer,
                Err(_) => Ok(answer(Status::cancelled(crate::call::PANIC_MESSAGE))),
            }
        })
    }
}

/// The transport of a caller's own tonic client (`XClient<Bridge>`) whose proto
/// definitions differ from its callee's (the `bridged` tier): the caller's
/// messages are encoded with its own types and decoded by the callee's server
/// in this process through [`LocalTransport`]; when no service of this process
/// provides the callee (the caller's own binary), the channel as before.
#[derive(Clone, Debug)]
pub struct Bridge(Route);

#[derive(Clone, Debug)]
enum Route {
    InProcess(crate::registry::Target<LocalTransport>),
    Network(tonic::transport::Channel),
}

impl Bridge {
    /// Over `channel`, or in process when this process hosts `grpc_service`.
    pub fn new(grpc_service: &'static str, channel: tonic::transport::Channel) -> Self {
        if crate::registry::is_hosted(grpc_service) {
            Bridge(Route::InProcess(crate::registry::Target::new(grpc_service)))
        } else {
            Bridge(Route::Network(channel))
        }
    }

    /// Like the generated `XClient::connect(dst)`, with `new` the client's
    /// constructor (`XClient::new`): nothing is dialled when this process hosts
    /// `grpc_service`.
    pub async fn connect<C, D>(
        grpc_service: &'static str,
        dst: D,
        new: impl FnOnce(Bridge) -> C,
    ) -> Result<C, tonic::transport::Error>
    where
        D: TryInto<tonic::transport::Endpoint>,
        D::Error: Into<tonic::codegen::StdError>,
    {
        let route = if crate::registry::is_hosted(grpc_service) {
            Route::InProcess(crate::registry::Target::new(grpc_service))
        } else {
            Route::Network(tonic::transport::Endpoint::new(dst)?.connect().await?)
        };
        Ok(new(Bridge(route)))
    }
}

impl Service<Request> for Bridge {
    type Response = Response;
    type Error = tonic::codegen::StdError;
    type Future = BoxFuture<'static, Result<Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match &mut self.0 {
            Route::InProcess(_) => Poll::Ready(Ok(())),
            Route::Network(channel) => channel.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match &mut self.0 {
            Route::InProcess(target) => {
                let target = *target;
                // A request's own deadline counts from when the server has it,
                // as over the network: not during the wait for the provider.
                Box::pin(async move {
                    let mut transport = match target.get(None).await {
                        Ok((resolved, _)) => (*resolved.handler).clone(),
                        Err(status) => return Ok(answer(status)),
                    };
                    Ok(transport.call(request).await.unwrap_or_else(|e| match e {}))
                })
            }
            Route::Network(channel) => {
                let call = channel.call(request);
                Box::pin(async move { Ok(call.await?.map(boxed)) })
            }
        }
    }
}
