//! Running a handler in process with the guarantees the RPC gave the caller.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::service::Interceptor;
use tonic::{Request, Response, Status};

/// What tonic's client reports when the server's handler panicked.
pub const PANIC_MESSAGE: &str = "h2 protocol error: http2 error";

/// What tonic answers a call whose deadline passed (`Cancelled`, not
/// `DeadlineExceeded`).
pub fn expired() -> Status {
    Status::cancelled("Timeout expired")
}

/// A handler's future for one unary call, boxed as the handler trait (tonic's
/// `async_trait`) returns it.
pub type HandlerFuture<'a, Res> =
    Pin<Box<dyn Future<Output = Result<Response<Res>, Status>> + Send + 'a>>;

/// Runs one unary call: `handler` is called straight on `request` (with its
/// metadata and extensions); the caller's deadline ([`deadline`] of the request
/// and `channel`, the timeout of the client's channel) is enforced as tonic's
/// server enforces it; a panic in the handler becomes an error status for this
/// call only, the status tonic's client reports when a server's handler panics.
///
/// A call without a deadline carries nothing but the handler's future: the
/// caller's future stays as small and simple as the handler's own, which is
/// what keeps an inline call close to a direct one. A deadline moves the
/// handler's future into a box of its own with the deadline (and, once the
/// handler waits, its timer).
#[inline]
pub fn unary<'a, T, Res: 'a>(
    request: Request<T>,
    channel: Option<Duration>,
    handler: impl FnOnce(Request<T>) -> HandlerFuture<'a, Res>,
) -> Unary<'a, Res> {
    // A deadline past what a clock can count never comes.
    let at = deadline(&request, channel).and_then(|t| tokio::time::Instant::now().checked_add(t));
    let call = handler(request);
    Unary {
        call: match at {
            None => call,
            Some(at) => bounded(call, at),
        },
    }
}

/// The future of [`unary`]: the handler's future (boxed with its deadline by
/// [`bounded`] when there is one), each poll under `catch_unwind`.
pub struct Unary<'a, Res> {
    call: HandlerFuture<'a, Res>,
}

impl<Res> Future for Unary<'_, Res> {
    type Output = Result<Response<Res>, Status>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The handler's answer is written where it is returned from, rather than
        // moved through `catch_unwind`'s own result.
        let mut polled = Poll::Pending;
        let call = self.call.as_mut();
        if std::panic::catch_unwind(AssertUnwindSafe(|| polled = call.poll(cx))).is_err() {
            // Over the network, tonic's server drops the connection's stream when
            // a handler panics and the caller sees the reset: answer the same. The
            // panic itself was reported by the panic hook, as in the split service.
            return Poll::Ready(Err(Status::cancelled(PANIC_MESSAGE)));
        }
        polled
    }
}

/// The handler's future bounded by a deadline at `at`. Out of line: a call
/// without a deadline does not carry this code.
#[inline(never)]
fn bounded<'a, Res: 'a>(
    call: HandlerFuture<'a, Res>,
    at: tokio::time::Instant,
) -> HandlerFuture<'a, Res> {
    Box::pin(Bounded {
        call,
        at,
        timer: None,
    })
}

/// A handler's future with the caller's deadline: the point in time, and, once
/// the handler has waited, the timer that wakes the call then.
struct Bounded<'a, Res> {
    call: HandlerFuture<'a, Res>,
    at: tokio::time::Instant,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<Res> Future for Bounded<'_, Res> {
    type Output = Result<Response<Res>, Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(answer) = self.call.as_mut().poll(cx) {
            return Poll::Ready(answer);
        }
        let at = self.at;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        // tonic's server answers an expired `grpc-timeout` with `Cancelled`.
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(expired())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// An interceptor shared between a server's listener and in-process calls, or
/// kept by an in-process client.
#[derive(Clone)]
pub struct SharedInterceptor(Arc<Mutex<dyn Interceptor + Send>>);

impl SharedInterceptor {
    pub fn new(interceptor: impl Interceptor + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(interceptor)))
    }

    /// Runs the interceptor on a request's head, through this handle (no clone).
    fn run(&self, request: Request<()>) -> Result<Request<()>, Status> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .call(request)
    }
}

impl std::fmt::Debug for SharedInterceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedInterceptor")
    }
}

impl Interceptor for SharedInterceptor {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.run(request)
    }
}

/// Runs `interceptor` on the metadata and extensions of `request`, as tonic's
/// `InterceptedService` does, keeping the message.
#[inline]
pub fn intercept<T>(
    request: Request<T>,
    interceptor: Option<&SharedInterceptor>,
) -> Result<Request<T>, Status> {
    let Some(interceptor) = interceptor else {
        return Ok(request);
    };
    let (metadata, extensions, message) = request.into_parts();
    let head = interceptor.run(Request::from_parts(metadata, extensions, ()))?;
    let (metadata, extensions, ()) = head.into_parts();
    Ok(Request::from_parts(metadata, extensions, message))
}

/// Runs the server's `interceptor` as [`intercept`] does, and as tonic's server
/// runs it: a panic in it fails this call only, with the status a client sees
/// when the server's task for the call panics.
pub fn intercept_as_server<T>(
    request: Request<T>,
    interceptor: Option<&SharedInterceptor>,
) -> Result<Request<T>, Status> {
    if interceptor.is_none() {
        return Ok(request);
    }
    std::panic::catch_unwind(AssertUnwindSafe(|| intercept(request, interceptor)))
        .unwrap_or_else(|_| Err(Status::cancelled(PANIC_MESSAGE)))
}

/// The deadline of a call, as tonic's channel applies it: the sooner of the
/// request's own (`Request::set_timeout`, `grpc-timeout`, read as tonic's server
/// reads it) and `channel`, the timeout of the channel the client was made with
/// (`Endpoint::timeout`).
#[inline]
pub fn deadline<T>(request: &Request<T>, channel: Option<Duration>) -> Option<Duration> {
    if request.metadata().is_empty() {
        return channel;
    }
    let own = grpc_timeout(request.metadata()).and_then(parse_timeout);
    match (own, channel) {
        (Some(own), Some(channel)) => Some(own.min(channel)),
        (own, channel) => own.or(channel),
    }
}

/// The request's `grpc-timeout` header, if it is text.
#[cfg(not(feature = "tonic-012"))]
#[inline]
fn grpc_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<&str> {
    // A header name made once: looking a `&str` up parses it every call.
    const GRPC_TIMEOUT: tonic::codegen::http::HeaderName =
        tonic::codegen::http::HeaderName::from_static("grpc-timeout");
    let headers: &tonic::codegen::http::HeaderMap = metadata.as_ref();
    // A request's few headers are compared in turn, cheaper than hashing the name.
    let value = if headers.len() <= 4 {
        headers
            .iter()
            .find_map(|(name, value)| (*name == GRPC_TIMEOUT).then_some(value))
    } else {
        headers.get(&GRPC_TIMEOUT)
    };
    value?.to_str().ok()
}

/// The request's `grpc-timeout` header, if it is text (tonic 0.12's metadata
/// does not lend its headers).
#[cfg(feature = "tonic-012")]
fn grpc_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<&str> {
    metadata.get("grpc-timeout")?.to_str().ok()
}

/// A `grpc-timeout` value (`100m`, `5S`) as a duration; none, as tonic's server
/// reads it, when it is malformed or has more than the 8 digits gRPC allows.
pub(crate) fn parse_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}
