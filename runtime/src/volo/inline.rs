//! Inline calls between Volo services of a merged binary: the caller's
//! request value reaches the provider's handler, no socket.
//!
//! The provider registers its handler's methods as boxed functions of its
//! messages ([`provide`]), one per method in a tuple; the registry keys them by
//! gRPC service and by their types (knit calls in process only between crates
//! that compile the same generated messages; a client of other definitions
//! would be answered `Internal`). A client knit generated calls them with
//! [`unary`], [`server_streaming`], [`client_streaming`] and
//! [`bidirectional`], which keep what Volo's client and server stacks
//! guarantee: the client's `rpc_timeout` (and a `Duration` in metainfo: the
//! shorter, answered `DeadlineExceeded` "timeout"), metainfo carried as Volo
//! carries it in headers (persistent and transient values forward, backward
//! values with an `Ok` answer), statuses as the handler returns them, and a
//! panic answered as Volo's client reports the stream its server resets
//! (`Cancelled`). A request stream is encoded in memory for the handler's
//! `RecvStream` ([`received`]).

// Volo's `Status` (over 128 bytes) is the error of every Volo API answered here.
#![allow(clippy::result_large_err)]

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use metainfo::{Backward, Forward, MetaInfo, METAINFO};
use volo_grpc::metadata::{KeyAndValueRef, MetadataKey, MetadataMap, MetadataValue};
use pilota::pb::Message;
use volo_grpc::codec::decode::Kind;
use volo_grpc::{BoxStream, Code};

pub use futures_util::future::Either;
pub use futures_util::Stream;
pub use volo_grpc::server::ServiceBuilder;
pub use volo_grpc::{IntoRequest, IntoStreamingRequest, RecvStream, Request, Response, Status};

use crate::registry::Target;

/// What a registered method answers.
pub type Reply<B> = BoxFuture<'static, Result<Response<B>, Status>>;
/// The messages of a server-streaming answer.
pub type Messages<B> = BoxStream<'static, Result<B, Status>>;
/// A method of a provider's handler, of any kind: its request (a message, or
/// a `RecvStream` of them) to its answer (a message, or [`Messages`]).
pub type Method<I, O> = Box<dyn Fn(Request<I>) -> Reply<O> + Send + Sync>;
/// A unary method of a provider's handler.
pub type Unary<A, B> = Method<A, B>;
/// A server-streaming method of a provider's handler.
pub type ServerStreaming<A, B> = Method<A, Messages<B>>;
/// A client-streaming method of a provider's handler.
pub type ClientStreaming<A, B> = Method<RecvStream<A>, B>;
/// A bidirectional-streaming method of a provider's handler.
pub type Bidirectional<A, B> = Method<RecvStream<A>, Messages<B>>;

/// How Volo's client reports the stream that a panicking handler's server
/// resets (measured over the network: hyper resets it, h2 reports the reset).
const PANIC: &str = "h2 protocol error: http2 error";

/// Registers `methods` of `server` (a tuple of [`Unary`] and
/// [`ServerStreaming`]) as the in-process handler of `grpc_service` when this
/// merged binary hosts it, and returns `server` for `XServer::from_arc`.
pub fn provide<S, H>(
    grpc_service: &'static str,
    server: Arc<S>,
    methods: impl FnOnce(&Arc<S>) -> H,
) -> Arc<S>
where
    H: Send + Sync + 'static,
{
    if crate::in_merged_host() && crate::registry::is_hosted(grpc_service) {
        crate::ServiceHost::current().provide(grpc_service, Arc::new(methods(&server)));
    }
    server
}

/// Registers `stack` (`ServiceBuilder::new(XServer::from_arc(server)).build()`,
/// the service Volo's server routes to) as what the group's tonic clients of
/// `grpc_service` reach in process when this merged binary hosts it
/// (`super::served`); before [`provide`], which wakes the waiting callers.
/// On tonic 0.10 and 0.11 (hyper 0.14) nothing: those clients use the socket.
pub fn serve_tonic_clients<V>(grpc_service: &'static str, stack: V)
where
    V: volo::Service<
            volo_grpc::context::ServerContext,
            Request<volo_grpc::body::BoxBody>,
            Response = Response<volo_grpc::body::BoxBody>,
            Error = Status,
        > + volo_grpc::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
{
    if crate::in_merged_host() && crate::registry::is_hosted(grpc_service) {
        #[cfg(not(feature = "tonic-011"))]
        super::served::register(grpc_service, stack);
        #[cfg(feature = "tonic-011")]
        let _ = stack;
    }
}

/// An inline client's way to its provider: its registered methods (`H`) when
/// this merged binary hosts `grpc_service`, none in a service's own binary or
/// for a service the process does not host (the client then keeps Volo's).
pub fn target<H: Send + Sync + 'static>(grpc_service: &'static str) -> Option<Target<H>> {
    (crate::in_merged_host() && crate::registry::is_hosted(grpc_service))
        .then(|| Target::new(grpc_service))
}

/// Calls the unary method `pick` finds among the methods of `target` with
/// `request`, as Volo's client calls it with `rpc_timeout` `timeout`.
pub async fn unary<H, A, B>(
    target: Target<H>,
    timeout: Option<Duration>,
    pick: impl FnOnce(&'static H) -> &'static Unary<A, B>,
    request: Request<A>,
) -> Result<Response<B>, Status>
where
    H: Send + Sync + 'static,
    A: 'static,
    B: 'static,
{
    let request = into_callee(request);
    // The common case first: the provider resolved, no deadline.
    let timeout = shorter(timeout);
    if let (Some(resolved), None) = (target.cached(), timeout) {
        return answer(pick(&resolved.handler)(request)).await;
    }
    call(target, timeout, pick, request).await
}

/// Calls the server-streaming method `pick` finds, as [`unary`] does; the
/// answer's messages end after the first error, and a panic while the handler
/// makes one ends them with the status of a reset stream.
pub async fn server_streaming<H, A, B>(
    target: Target<H>,
    timeout: Option<Duration>,
    pick: impl FnOnce(&'static H) -> &'static ServerStreaming<A, B>,
    request: Request<A>,
) -> Result<Response<Messages<B>>, Status>
where
    H: Send + Sync + 'static,
    A: 'static,
    B: Send + 'static,
{
    let request = into_callee(request);
    call(target, shorter(timeout), pick, request)
        .await
        .map(guarded)
}

/// Calls the client-streaming method `pick` finds, as [`unary`] does, with
/// the caller's messages as the handler's `RecvStream` reads them
/// ([`received`]).
pub async fn client_streaming<H, A, B, S>(
    target: Target<H>,
    timeout: Option<Duration>,
    pick: impl FnOnce(&'static H) -> &'static ClientStreaming<A, B>,
    request: Request<S>,
) -> Result<Response<B>, Status>
where
    H: Send + Sync + 'static,
    A: Message + Default + Send + 'static,
    B: 'static,
    S: Stream<Item = A> + Send + 'static,
{
    call(target, shorter(timeout), pick, received(request)).await
}

/// Calls the bidirectional-streaming method `pick` finds, as
/// [`client_streaming`] sends and [`server_streaming`] answers.
pub async fn bidirectional<H, A, B, S>(
    target: Target<H>,
    timeout: Option<Duration>,
    pick: impl FnOnce(&'static H) -> &'static Bidirectional<A, B>,
    request: Request<S>,
) -> Result<Response<Messages<B>>, Status>
where
    H: Send + Sync + 'static,
    A: Message + Default + Send + 'static,
    B: Send + 'static,
    S: Stream<Item = A> + Send + 'static,
{
    call(target, shorter(timeout), pick, received(request))
        .await
        .map(guarded)
}

/// Calls the method `pick` finds with `request`, within `timeout` (the wait
/// for the provider included).
async fn call<H, I, O>(
    target: Target<H>,
    timeout: Option<Duration>,
    pick: impl FnOnce(&'static H) -> &'static Method<I, O>,
    request: Request<I>,
) -> Result<Response<O>, Status>
where
    H: Send + Sync + 'static,
    I: 'static,
    O: 'static,
{
    Box::pin(within(timeout, async move {
        let method = pick(handlers(target).await?);
        answer(method(request)).await
    }))
    .await
}

/// An answer's messages, [`Guarded`].
fn guarded<B: Send + 'static>(response: Response<Messages<B>>) -> Response<Messages<B>> {
    response.map(|messages| {
        Box::pin(Guarded {
            messages: Some(messages),
        }) as Messages<B>
    })
}

/// The caller's request stream as the handler receives it: a `RecvStream`,
/// the one type Volo's handlers take, which reads an HTTP body. Each message
/// is encoded once, in memory, by Volo's encoder, as it is sent, and read back
/// by Volo's decoder; no socket.
fn received<A, S>(request: Request<S>) -> Request<RecvStream<A>>
where
    A: Message + Default + Send + 'static,
    S: Stream<Item = A> + Send + 'static,
{
    use futures_util::StreamExt;
    let (metadata, _, messages) = request.into_parts();
    let frames = volo_grpc::codec::encode::encode(messages.map(Ok), None);
    let body = volo_grpc::body::boxed(volo_grpc::body::Body::new(frames));
    let messages = RecvStream::new(body, Kind::Request, None);
    Request::from_parts(metadata, Default::default(), messages)
}

/// The registered methods of `target`, waiting (bounded) for its provider.
async fn handlers<H: Send + Sync + 'static>(target: Target<H>) -> Result<&'static H, Status> {
    match target.get(None).await {
        Ok((resolved, _)) => Ok(&*resolved.handler),
        Err(status) => Err(Status::new(
            Code::from(status.code() as i32),
            status.message(),
        )),
    }
}

/// The deadline of a call as Volo's client `Timeout` layer takes it: the
/// shorter of the client's `rpc_timeout` and a `Duration` in the caller's
/// metainfo.
fn shorter(timeout: Option<Duration>) -> Option<Duration> {
    let carried = METAINFO
        .try_with(|mi| mi.borrow().get::<Duration>().cloned())
        .ok()
        .flatten();
    match (timeout, carried) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Runs `call` bounded by `timeout`, answered as Volo's client answers an
/// expired one.
async fn within<T>(
    timeout: Option<Duration>,
    call: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    match timeout {
        Some(t) => tokio::time::timeout(t, call)
            .await
            .unwrap_or_else(|_| Err(Status::deadline_exceeded("timeout"))),
        None => call.await,
    }
}

/// The request as the provider's handler sees it: the caller's metadata, no
/// extensions (none cross the network).
fn into_callee<A>(request: Request<A>) -> Request<A> {
    let (metadata, _, message) = request.into_parts();
    Request::from_parts(metadata, Default::default(), message)
}

/// Awaits `reply` in a metainfo scope of the callee's, made from the caller's
/// as Volo's server makes it from the headers Volo's client sends; a panic is
/// answered as the reset stream is; an `Ok` answer brings the callee's
/// backward values to the caller's metainfo.
async fn answer<T>(reply: Reply<T>) -> Result<Response<T>, Status> {
    // Boxed: the scope holds a `MetaInfo` (over 500 bytes), which the futures
    // around it would otherwise copy.
    let (answer, backward) = Box::pin(METAINFO.scope(
        RefCell::new(callee_metainfo()),
        async move {
            let answer = AssertUnwindSafe(reply).catch_unwind().await;
            let backward = METAINFO.with(|mi| backward_headers(&mi.borrow()));
            (answer, backward)
        },
    ))
    .await;
    // No extensions cross the network.
    let (metadata, _, message) = answer
        .map_err(|_| Status::new(Code::Cancelled, PANIC))??
        .into_parts();
    let response = Response::from_parts(metadata, Default::default(), message);
    let Some(backward) = backward else {
        return Ok(response);
    };
    let _ = METAINFO.try_with(|mi| {
        let mut mi = mi.borrow_mut();
        for pair in backward.iter() {
            if let KeyAndValueRef::Ascii(key, value) = pair {
                if let Ok(value) = value.to_str() {
                    mi.strip_http_prefix_and_set_backward_downstream(key.as_str(), value.to_owned());
                }
            }
        }
    });
    Ok(response)
}

/// The callee's metainfo: the caller's persistent and transient values put in
/// headers as Volo's client `MetaService` does (stopping at the first that is
/// no header), read back as Volo's server `MetaService` does.
fn callee_metainfo() -> MetaInfo {
    let mut callee = MetaInfo::default();
    let carried = METAINFO.try_with(|mi| {
        let mi = mi.borrow();
        mi.get_all_persistents().is_some() || mi.get_all_transients().is_some()
    });
    if carried != Ok(true) {
        return callee;
    }
    let mut headers = MetadataMap::new();
    let _ = METAINFO.try_with(|mi| {
        let mi = mi.borrow();
        let persistents = mi.get_all_persistents().into_iter().flatten();
        let persistents = persistents.map(|kv| (metainfo::HTTP_PREFIX_PERSISTENT, kv));
        let transients = mi.get_all_transients().into_iter().flatten();
        let transients = transients.map(|kv| (metainfo::HTTP_PREFIX_TRANSIENT, kv));
        for (prefix, (key, value)) in persistents.chain(transients) {
            let Ok(key) = MetadataKey::from_str(&format!("{prefix}{key}")) else {
                return;
            };
            let Ok(value) = value.parse::<MetadataValue<_>>() else {
                return;
            };
            headers.insert(key, value);
        }
    });
    for pair in headers.iter() {
        let KeyAndValueRef::Ascii(key, value) = pair else {
            continue;
        };
        let (key, Ok(value)) = (key.as_str(), value.to_str()) else {
            break;
        };
        if key.starts_with(metainfo::HTTP_PREFIX_PERSISTENT) {
            callee.strip_http_prefix_and_set_persistent(key, value.to_owned());
        } else if key.starts_with(metainfo::HTTP_PREFIX_TRANSIENT) {
            callee.strip_http_prefix_and_set_upstream(key, value.to_owned());
        }
    }
    callee
}

/// The callee's backward values as Volo's server puts them in the answer's
/// headers (stopping at the first that is no header); none without any.
fn backward_headers(mi: &MetaInfo) -> Option<MetadataMap> {
    let backward = mi.get_all_backward_transients()?;
    let mut headers = MetadataMap::new();
    for (key, value) in backward {
        let key = format!("{}{key}", metainfo::HTTP_PREFIX_BACKWARD);
        let (Ok(key), Ok(value)) = (MetadataKey::from_str(&key), value.parse()) else {
            break;
        };
        headers.insert(key, value);
    }
    Some(headers)
}

/// A handler's answer stream, ended after its first error, and with the
/// status of a reset stream if making a message panics.
struct Guarded<B> {
    messages: Option<Messages<B>>,
}

impl<B> Stream for Guarded<B> {
    type Item = Result<B, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(messages) = self.messages.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| messages.as_mut().poll_next(cx)));
        let item = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(item)) => item,
            Err(_) => Some(Err(Status::new(Code::Cancelled, PANIC))),
        };
        if !matches!(item, Some(Ok(_))) {
            self.messages = None;
        }
        Poll::Ready(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    /// Runs `f` in a metainfo scope of the caller's, as a Volo handler runs.
    async fn as_caller<F: Future>(f: F) -> F::Output {
        METAINFO.scope(RefCell::new(MetaInfo::default()), f).await
    }

    #[tokio::test]
    async fn metainfo_crosses_as_volo_carries_it_in_headers() {
        as_caller(async {
            METAINFO.with(|mi| {
                let mut mi = mi.borrow_mut();
                mi.set_persistent("TRACE", "t-1");
                mi.set_transient("HOP", "one");
            });
            let reply: Reply<(String, String)> = Box::pin(async {
                let seen = METAINFO.with(|mi| {
                    let mut mi = mi.borrow_mut();
                    mi.set_backward_transient("DESK", "d-7");
                    let trace = mi.get_persistent("TRACE").unwrap_or_default();
                    let hop = mi.get_upstream("HOP").unwrap_or_default();
                    (trace.to_string(), hop.to_string())
                });
                Ok(Response::new(seen))
            });
            let seen = answer(reply).await.unwrap().into_inner();
            assert_eq!(seen, ("t-1".to_string(), "one".to_string()));
            let desk = METAINFO.with(|mi| mi.borrow().get_backward_downstream("DESK"));
            assert_eq!(desk.as_deref(), Some("d-7"));
        })
        .await;
    }

    #[tokio::test]
    async fn an_error_answer_brings_no_backward_values() {
        as_caller(async {
            let reply: Reply<()> = Box::pin(async {
                METAINFO.with(|mi| mi.borrow_mut().set_backward_transient("DESK", "d-7"));
                Err(Status::not_found("no desk"))
            });
            let status = answer(reply).await.unwrap_err();
            assert_eq!((status.code(), status.message()), (Code::NotFound, "no desk"));
            let desk = METAINFO.with(|mi| mi.borrow().get_backward_downstream("DESK"));
            assert_eq!(desk, None);
        })
        .await;
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_as_a_reset_stream() {
        let reply: Reply<()> = Box::pin(async { panic!("the handler fails") });
        let status = answer(reply).await.unwrap_err();
        assert_eq!((status.code(), status.message()), (Code::Cancelled, PANIC));
    }

    #[tokio::test]
    async fn a_deadline_in_metainfo_bounds_the_call() {
        as_caller(async {
            METAINFO.with(|mi| mi.borrow_mut().insert(Duration::from_millis(10)));
            let timeout = shorter(Some(Duration::from_secs(5)));
            assert_eq!(timeout, Some(Duration::from_millis(10)));
            let slow = async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(())
            };
            let status = within(timeout, slow).await.unwrap_err();
            assert_eq!((status.code(), status.message()), (Code::DeadlineExceeded, "timeout"));
        })
        .await;
    }

    /// Registers a client-streaming and a bidirectional handler that sum
    /// (running totals) their `u32` messages, and calls both in process.
    #[tokio::test]
    async fn a_request_stream_reaches_the_handler_as_its_recv_stream() {
        type Methods = (ClientStreaming<u32, u32>, Bidirectional<u32, u32>);
        const SERVICE: &str = "test.Sum";
        crate::registry::declare(SERVICE, "sum");
        let sum: ClientStreaming<u32, u32> = Box::new(|request| {
            Box::pin(async move {
                let mut total = 0;
                let mut messages = request.into_inner();
                while let Some(n) = messages.next().await {
                    total += n?;
                }
                Ok(Response::new(total))
            })
        });
        let running: Bidirectional<u32, u32> = Box::new(|request| {
            Box::pin(async move {
                let totals = request.into_inner().scan(0, |total, n| {
                    *total += n.unwrap_or_default();
                    futures_util::future::ready(Some(Ok(*total)))
                });
                Ok(Response::new(Box::pin(totals) as Messages<u32>))
            })
        });
        crate::ServiceHost::standalone("sum").provide(SERVICE, Arc::new((sum, running)));
        let target = Target::<Methods>::new(SERVICE);

        let numbers = || Request::new(futures_util::stream::iter([1u32, 2, 3]));
        let total = client_streaming(target, None, |m| &m.0, numbers()).await;
        assert_eq!(total.unwrap().into_inner(), 6);
        let running = bidirectional(target, None, |m| &m.1, numbers()).await;
        let running: Vec<u32> = running
            .unwrap()
            .into_inner()
            .map(|t| t.unwrap())
            .collect()
            .await;
        assert_eq!(running, vec![1, 3, 6]);
    }

    #[tokio::test]
    async fn streamed_messages_end_after_an_error_or_a_panic() {
        let messages: Messages<u32> = Box::pin(futures_util::stream::iter([
            Ok(1),
            Err(Status::invalid_argument("bad")),
            Ok(3),
        ]));
        let got: Vec<_> = Guarded {
            messages: Some(messages),
        }
        .map(|m| m.map_err(|s| s.code()))
        .collect()
        .await;
        assert_eq!(got, vec![Ok(1), Err(Code::InvalidArgument)]);

        let panicking: Messages<u32> = Box::pin(futures_util::stream::iter([1, 2]).map(|n| {
            assert!(n < 2, "no second message");
            Ok(n)
        }));
        let got: Vec<_> = Guarded {
            messages: Some(panicking),
        }
        .map(|m| m.map_err(|s| (s.code(), s.message().to_string())))
        .collect()
        .await;
        assert_eq!(
            got,
            vec![Ok(1), Err((Code::Cancelled, PANIC.to_string()))]
        );
    }
}
