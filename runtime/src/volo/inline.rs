//! Inline calls between Volo services of a merged binary: the caller's
//! request value reaches the provider's handler, no encoding, no socket.
//!
//! The provider registers its handler's unary and server-streaming methods as
//! boxed functions of its messages ([`provide`]); the registry keys them by
//! gRPC service and by their types, so a client built against other
//! definitions of the messages finds none and keeps the network. A client
//! knit generated calls them with [`unary`] and [`server_streaming`], which
//! keep what Volo's client and server stacks guarantee: the client's
//! `rpc_timeout` (and a `Duration` in metainfo: the shorter, answered
//! `DeadlineExceeded` "timeout"), metainfo carried as Volo carries it in
//! headers (persistent and transient values forward, backward values with an
//! `Ok` answer), statuses as the handler returns them, and a panic answered
//! as Volo's client reports the stream its server resets (`Cancelled`).

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, Stream};
use metainfo::{Backward, Forward, MetaInfo, METAINFO};
use volo_grpc::metadata::{KeyAndValueRef, MetadataKey, MetadataMap, MetadataValue};
use volo_grpc::{BoxStream, Code};

pub use volo_grpc::{IntoRequest, IntoStreamingRequest, Request, Response, Status};

use crate::registry::Target;

/// What a registered method answers.
pub type Reply<B> = BoxFuture<'static, Result<Response<B>, Status>>;
/// The messages of a server-streaming answer.
pub type Messages<B> = BoxStream<'static, Result<B, Status>>;
/// A unary method of a provider's handler.
pub type Unary<A, B> = Box<dyn Fn(Request<A>) -> Reply<B> + Send + Sync>;
/// A server-streaming method of a provider's handler.
pub type ServerStreaming<A, B> = Box<dyn Fn(Request<A>) -> Reply<Messages<B>> + Send + Sync>;

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
    within(timeout, async move {
        let method = pick(handlers(target).await?);
        answer(method(into_callee(request))).await
    })
    .await
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
    let response = within(timeout, async move {
        let method = pick(handlers(target).await?);
        answer(method(into_callee(request))).await
    })
    .await?;
    Ok(response.map(|messages| {
        Box::pin(Guarded {
            messages: Some(messages),
        }) as Messages<B>
    }))
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

/// Runs `call` as Volo's client `Timeout` layer does: bounded by the shorter of
/// `timeout` and a `Duration` in the caller's metainfo.
async fn within<T>(
    timeout: Option<Duration>,
    call: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    let carried = METAINFO
        .try_with(|mi| mi.borrow().get::<Duration>().cloned())
        .ok()
        .flatten();
    let timeout = match (timeout, carried) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
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
    let callee = RefCell::new(callee_metainfo());
    let (answer, backward) = METAINFO
        .scope(callee, async move {
            let answer = AssertUnwindSafe(reply).catch_unwind().await;
            let backward = METAINFO.with(|mi| backward_headers(&mi.borrow()));
            (answer, backward)
        })
        .await;
    let response = answer.map_err(|_| Status::new(Code::Cancelled, PANIC))??;
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
    let mut callee = MetaInfo::default();
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
/// headers (stopping at the first that is no header).
fn backward_headers(mi: &MetaInfo) -> MetadataMap {
    let mut headers = MetadataMap::new();
    for (key, value) in mi.get_all_backward_transients().into_iter().flatten() {
        let key = format!("{}{key}", metainfo::HTTP_PREFIX_BACKWARD);
        let (Ok(key), Ok(value)) = (MetadataKey::from_str(&key), value.parse()) else {
            break;
        };
        headers.insert(key, value);
    }
    headers
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
