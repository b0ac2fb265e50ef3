//! The tower layers vault's server runs every request through: a request
//! counter and a token check, as production servers carry metrics and auth.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::codegen::http::{Request, Response};
use tonic::codegen::BoxFuture;
use tonic::Status;
use tower::{Layer, Service};

/// The token vault's callers must send (`authorization: Bearer ..`).
pub const TOKEN: &str = "Bearer open-sesame";

/// Counts the requests the server receives, before anything else sees them.
#[derive(Clone)]
pub struct CountLayer(pub Arc<AtomicU64>);

impl<S> Layer<S> for CountLayer {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            seen: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    seen: Arc<AtomicU64>,
}

impl<S, B> Service<Request<B>> for Counted<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> S::Future {
        self.seen.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}

/// Rejects `vault.Vault` requests without the token (`Unauthenticated`);
/// the health and stats services are open.
#[derive(Clone)]
pub struct AuthLayer;

impl<S> Layer<S> for AuthLayer {
    type Service = Authorized<S>;

    fn layer(&self, inner: S) -> Authorized<S> {
        Authorized(inner)
    }
}

#[derive(Clone)]
pub struct Authorized<S>(S);

impl<S, B, R> Service<Request<B>> for Authorized<S>
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
        let guarded = request.uri().path().starts_with("/vault.Vault/");
        let token = request.headers().get("authorization");
        if guarded && token.is_none_or(|t| t.as_bytes() != TOKEN.as_bytes()) {
            let status = Status::unauthenticated("the vault wants its token");
            let response = status.into_http::<R>();
            return Box::pin(async move { Ok(response) });
        }
        Box::pin(self.0.call(request))
    }
}
