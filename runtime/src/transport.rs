//! A tonic client transport that hands requests to a server of the same process:
//! messages are encoded, but no socket or HTTP/2 connection is involved. knit uses
//! it for services with streaming methods (the `in-process` tier).

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tonic::body::Body;
use tonic::codegen::{http, Body as HttpBody};
use tonic::Status;
use tower::util::BoxCloneSyncService;
use tower::Service;

type Request = http::Request<Body>;
type Response = http::Response<Body>;

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
            response.map(Body::new)
        });
        Self(BoxCloneSyncService::new(server))
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
            .and_then(|v| v.to_str().ok())
            .and_then(crate::call::parse_timeout);
        let call = AssertUnwindSafe(self.0.call(request)).catch_unwind();
        Box::pin(async move {
            let outcome = match timeout {
                Some(timeout) => match tokio::time::timeout(timeout, call).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Ok(Status::cancelled("Timeout expired").into_http()),
                },
                None => call.await,
            };
            match outcome {
                Ok(answer) => answer,
                Err(_) => Ok(Status::cancelled(crate::call::PANIC_MESSAGE).into_http()),
            }
        })
    }
}
