//! The tower layer of auth's server: a request that does not name its caller
//! (`x-caller`) is refused with `Unauthenticated`.

use std::task::{Context, Poll};

use tonic::codegen::http::{Request, Response};
use tonic::codegen::BoxFuture;
use tonic::Status;
use tower::{Layer, Service};

#[derive(Clone)]
pub struct NamedCallerLayer;

impl<S> Layer<S> for NamedCallerLayer {
    type Service = NamedCaller<S>;

    fn layer(&self, inner: S) -> NamedCaller<S> {
        NamedCaller(inner)
    }
}

#[derive(Clone)]
pub struct NamedCaller<S>(S);

impl<S, B, R> Service<Request<B>> for NamedCaller<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if !request.headers().contains_key(auth::CALLER_KEY) {
            let response = Status::unauthenticated("name your caller").into_http::<R>();
            return Box::pin(async move { Ok(response) });
        }
        Box::pin(self.0.call(request))
    }
}
