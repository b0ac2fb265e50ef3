//! Streaming calls in process: message values are handed over, never encoded.
//!
//! A caller expects a real [`tonic::Streaming`] (it calls `.message()` and
//! `.trailers()`, names the type), and so does the handler of a client-streaming
//! or bidirectional method. Both are built over a *handoff*: a body that, for each
//! message of its source stream, puts the value into a slot shared with the
//! stream's decoder and yields the 5-byte frame header of an empty gRPC message;
//! the decoder, given that empty message, takes the value from the slot. tonic
//! decodes one frame before it polls the body for the next, so values come out in
//! the order they went in. A response ends with the trailers tonic's server sends,
//! and `Streaming` reads them as it reads them from the network.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::stream::{Stream, StreamExt};
#[cfg(not(feature = "tonic-011"))]
use http_body::Frame;
#[cfg(not(feature = "tonic-011"))]
use tonic::codec::BufferSettings;
use tonic::codec::{DecodeBuf, Decoder, Streaming};
use tonic::codegen::http::{HeaderMap, HeaderName, HeaderValue};
use tonic::codegen::Bytes;
use tonic::{Request, Response, Status};

/// The gRPC frame header of an empty, uncompressed message.
const EMPTY_MESSAGE: &[u8] = &[0, 0, 0, 0, 0];

/// What tonic's client reports when the server's handler panics while its
/// response stream is polled (the server's task resets the stream).
pub const PANIC_MID_STREAM: &str = "h2 protocol error: error reading a body from connection";

/// Values on their way from a handoff body to its decoder, in order.
type Slot<T> = Arc<Mutex<VecDeque<T>>>;

/// The caller's stream of messages (client streaming, bidirectional) as the
/// `Streaming` the handler reads, with the caller's metadata and extensions.
pub fn requests<S>(request: Request<S>) -> Request<Streaming<S::Item>>
where
    S: Stream + Send + 'static,
    S::Item: Send + 'static,
{
    request.map(|messages| {
        let slot = Slot::default();
        let body = Handoff {
            source: messages.map(Ok::<_, Option<Status>>),
            slot: slot.clone(),
            trailers: false,
            ended: false,
        };
        Streaming::new_request(Take(slot), body, None, None)
    })
}

/// Runs a call that answers with a stream (server streaming, bidirectional): the
/// handler's future runs as [`crate::call::unary`] runs it (deadline, panics,
/// cancellation), and its stream reaches the caller as a `Streaming` that ends as
/// over the network: trailers with `grpc-status: 0`, or the stream's error
/// status, or, if polling the handler's stream panics, as the reset stream of the
/// panicking server's task. The caller's deadline does not bound the stream, as
/// tonic's server bounds only the handler's future. Dropping the `Streaming`
/// drops the handler's stream. `channel` is the timeout of the client's channel
/// (see [`crate::call::deadline`]).
pub async fn responses<Req, T, S, F>(
    request: Request<Req>,
    channel: Option<std::time::Duration>,
    handler: F,
) -> Result<Response<Streaming<T>>, Status>
where
    F: FnOnce(Request<Req>) -> crate::call::HandlerFuture<'static, S>,
    S: Stream<Item = Result<T, Status>> + Send + 'static,
    T: Send + Sync + 'static,
{
    let response = crate::call::unary(request, channel, handler).await?;
    let (metadata, messages, extensions) = response.into_parts();
    // `Err(None)`: polling the handler's stream panicked.
    let messages = AssertUnwindSafe(messages)
        .catch_unwind()
        .map(|outcome| match outcome {
            Ok(message) => message.map_err(Some),
            Err(_panic) => Err(None),
        });
    let messages = response_stream(messages).await?;
    Ok(Response::from_parts(metadata, messages, extensions))
}

/// The `Streaming` a caller reads from the messages of a response, which end
/// with trailers.
#[cfg(not(feature = "tonic-011"))]
fn response_stream<S, T>(source: S) -> std::future::Ready<Result<Streaming<T>, Status>>
where
    S: Stream<Item = Result<T, Option<Status>>> + Send + 'static,
    T: Send + 'static,
{
    let slot = Slot::default();
    let body = Handoff {
        source,
        slot: slot.clone(),
        trailers: true,
        ended: false,
    };
    let ok = tonic::codegen::http::StatusCode::OK;
    std::future::ready(Ok(Streaming::new_response(
        Take(slot),
        body,
        ok,
        None,
        None,
    )))
}

/// The `Streaming` a caller reads from the messages of a response (tonic 0.10
/// and 0.11, whose `Streaming::new_response` is private): made by tonic's
/// client from a body answered to it, so that it reads trailers as from the
/// network. The source is boxed before the future holds it, so that the future
/// is `Send` whatever closure made the source.
#[cfg(feature = "tonic-011")]
fn response_stream<S, T>(
    source: S,
) -> impl std::future::Future<Output = Result<Streaming<T>, Status>> + Send
where
    S: Stream<Item = Result<T, Option<Status>>> + Send + 'static,
    T: Send + Sync + 'static,
{
    let source: Pin<Box<dyn Stream<Item = Result<T, Option<Status>>> + Send>> = Box::pin(source);
    let slot = Slot::default();
    let mut body = Some(Handoff {
        source,
        slot: slot.clone(),
        trailers: true,
        ended: false,
    });
    // Answers the one request tonic's client sends with `body`.
    let answer = tower::service_fn(move |_: tonic::codegen::http::Request<_>| {
        let body = body.take();
        async move {
            let body = body
                .ok_or_else(|| Status::internal("knit: a handed-over stream is answered once"))?;
            Ok::<_, Status>(tonic::codegen::http::Response::new(body))
        }
    });
    async move {
        let mut client = tonic::client::Grpc::new(answer);
        client
            .ready()
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        let path = tonic::codegen::http::uri::PathAndQuery::from_static("/knit.Inline/Stream");
        let response = client
            .server_streaming(Request::new(()), path, Handed(Some(Take(slot))))
            .await?;
        Ok(response.into_inner())
    }
}

pin_project_lite::pin_project! {
    /// A body that hands each message of `source` to the decoder through `slot`.
    struct Handoff<S, T> {
        #[pin]
        source: S,
        slot: Slot<T>,
        // Whether the body ends with trailers, as a server's response does.
        trailers: bool,
        ended: bool,
    }
}

#[cfg(not(feature = "tonic-011"))]
impl<S, T> http_body::Body for Handoff<S, T>
where
    S: Stream<Item = Result<T, Option<Status>>>,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        let status = match std::task::ready!(this.source.poll_next(cx)) {
            Some(Ok(message)) => {
                lock(this.slot).push_back(message);
                let header = Bytes::from_static(EMPTY_MESSAGE);
                return Poll::Ready(Some(Ok(Frame::data(header))));
            }
            Some(Err(Some(status))) => status,
            // The panicking server's task resets the stream: tonic's client
            // reads an error from the body.
            Some(Err(None)) => {
                *this.ended = true;
                return Poll::Ready(Some(Err(Status::cancelled(PANIC_MID_STREAM))));
            }
            // A request ends without trailers, as tonic's client sends it.
            None if !*this.trailers => {
                *this.ended = true;
                return Poll::Ready(None);
            }
            None => {
                *this.ended = true;
                return Poll::Ready(Some(Ok(Frame::trailers(ok_trailers()))));
            }
        };
        *this.ended = true;
        // The trailers of tonic's server (`EncodeBody`): the status as headers.
        let mut trailers = HeaderMap::new();
        Poll::Ready(Some(
            status
                .add_header(&mut trailers)
                .map(|()| Frame::trailers(trailers)),
        ))
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}

/// http-body 0.4's `Body` (tonic 0.10 and 0.11): messages as data, then the
/// trailers of tonic's server.
#[cfg(feature = "tonic-011")]
impl<S, T> tonic::codegen::Body for Handoff<S, T>
where
    S: Stream<Item = Result<T, Option<Status>>>,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_data(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Status>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        let next = std::task::ready!(this.source.poll_next(cx));
        if let Some(Ok(message)) = next {
            lock(this.slot).push_back(message);
            return Poll::Ready(Some(Ok(Bytes::from_static(EMPTY_MESSAGE))));
        }
        *this.ended = true;
        let status = match next {
            // The stream's status, read by `Streaming` as it reads the status
            // in trailers: the caller's next message is that error.
            Some(Err(Some(status))) => status,
            Some(Err(None)) => Status::cancelled(PANIC_MID_STREAM),
            _ => return Poll::Ready(None),
        };
        // An error ends the stream: no `grpc-status: 0` after it.
        *this.trailers = false;
        Poll::Ready(Some(Err(status)))
    }

    fn poll_trailers(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Result<Option<HeaderMap>, Status>> {
        // Reached when the data ended well: a response ends with `grpc-status: 0`.
        let trailers = std::mem::take(self.project().trailers);
        Poll::Ready(Ok(trailers.then(ok_trailers)))
    }

    fn is_end_stream(&self) -> bool {
        self.ended && !self.trailers
    }
}

/// The codec of a handed-over response stream: the one request carries no
/// message, and each (empty) message of the answer stands for the next value.
#[cfg(feature = "tonic-011")]
struct Handed<T>(Option<Take<T>>);

#[cfg(feature = "tonic-011")]
impl<T: Send + 'static> tonic::codec::Codec for Handed<T> {
    type Encode = ();
    type Decode = T;
    type Encoder = Nothing;
    type Decoder = Take<T>;

    fn encoder(&mut self) -> Nothing {
        Nothing
    }

    fn decoder(&mut self) -> Take<T> {
        self.0.take().unwrap_or_else(|| Take(Slot::default()))
    }
}

/// The encoder of a request with no message.
#[cfg(feature = "tonic-011")]
struct Nothing;

#[cfg(feature = "tonic-011")]
impl tonic::codec::Encoder for Nothing {
    type Item = ();
    type Error = Status;

    fn encode(&mut self, _: (), _: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
        Ok(())
    }
}

/// The trailers of tonic's server for a stream that ends well: what
/// `Status::ok("").add_header` writes (`grpc-status: 0`), made directly.
fn ok_trailers() -> HeaderMap {
    const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
    let mut trailers = HeaderMap::with_capacity(1);
    trailers.insert(GRPC_STATUS, HeaderValue::from_static("0"));
    trailers
}

/// The decoder of a handoff: each (empty) message stands for the next value.
struct Take<T>(Slot<T>);

impl<T> Decoder for Take<T> {
    type Item = T;
    type Error = Status;

    fn decode(&mut self, _empty: &mut DecodeBuf<'_>) -> Result<Option<T>, Status> {
        Ok(lock(&self.0).pop_front())
    }

    /// Room for one frame header: nothing larger is ever buffered.
    #[cfg(not(feature = "tonic-011"))]
    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(EMPTY_MESSAGE.len(), EMPTY_MESSAGE.len())
    }
}

fn lock<T>(slot: &Slot<T>) -> std::sync::MutexGuard<'_, VecDeque<T>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_trailers_are_tonics() {
        let mut tonics = HeaderMap::new();
        Status::ok("").add_header(&mut tonics).unwrap();
        assert_eq!(ok_trailers(), tonics);
    }
}
