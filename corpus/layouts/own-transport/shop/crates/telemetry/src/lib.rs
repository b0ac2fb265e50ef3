//! What the repository's services share to call each other: a tower wrapper
//! that names the caller on every request ([`Traced`], and [`TraceLayer`] that
//! puts it on a service) and a helper that dials a channel with the configured
//! timeout ([`dial`]).

use std::task::{Context, Poll};
use std::time::Duration;

use tonic::codegen::http::{HeaderValue, Request};
use tonic::transport::{Channel, Endpoint, Error};
use tower::{Layer, Service};

/// The metadata key naming the caller of a request.
pub const ORIGIN_KEY: &str = "x-trace-origin";

/// The caller [`Traced`] names: the shop's front.
pub const ORIGIN: &str = "shopfront";

/// How the services reach each other.
#[derive(Clone, Debug)]
pub struct Config {
    /// The deadline of every call on a channel, in milliseconds.
    pub timeout_ms: u64,
}

/// A channel to `url` whose calls end after `cfg.timeout_ms`, connected now,
/// or on first use when `TELEMETRY_LAZY_DIAL` is set.
pub async fn dial(url: String, cfg: &Config) -> Result<Channel, Error> {
    let mut endpoint = endpoint(url, cfg)?;
    endpoint = customize(endpoint);
    if std::env::var_os("TELEMETRY_LAZY_DIAL").is_some() {
        Ok(endpoint.connect_lazy())
    } else {
        endpoint.connect().await
    }
}

/// The endpoint of `url` with the configured deadline.
fn endpoint(url: String, cfg: &Config) -> Result<Endpoint, Error> {
    Ok(Endpoint::from_shared(url)?.timeout(Duration::from_millis(cfg.timeout_ms)))
}

/// What every dialled endpoint gets besides the configuration.
fn customize(endpoint: Endpoint) -> Endpoint {
    endpoint.tcp_nodelay(true)
}

/// A transport that adds `x-trace-origin: shopfront` to each request it
/// passes on to `S`.
#[derive(Clone, Debug)]
pub struct Traced<S> {
    inner: S,
}

impl<S> Traced<S> {
    /// Names the caller on every request sent through `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, B> Service<Request<B>> for Traced<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        request
            .headers_mut()
            .insert(ORIGIN_KEY, HeaderValue::from_static(ORIGIN));
        self.inner.call(request)
    }
}

/// Wraps a service in [`Traced`] (`ServiceBuilder::new().layer(TraceLayer)`).
#[derive(Clone, Copy, Debug)]
pub struct TraceLayer;

impl<S> Layer<S> for TraceLayer {
    type Service = Traced<S>;

    fn layer(&self, inner: S) -> Traced<S> {
        Traced::new(inner)
    }
}
