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
use http_body::Frame;
use tonic::codec::{BufferSettings, DecodeBuf, Decoder, Streaming};
use tonic::codegen::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
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
    T: Send + 'static,
{
    let response = crate::call::unary(request, channel, handler).await?;
    Ok(response.map(|messages| {
        let slot = Slot::default();
        let body = Handoff {
            // `Err(None)`: polling the handler's stream panicked.
            source: AssertUnwindSafe(messages)
                .catch_unwind()
                .map(|outcome| match outcome {
                    Ok(message) => message.map_err(Some),
                    Err(_panic) => Err(None),
                }),
            slot: slot.clone(),
            trailers: true,
            ended: false,
        };
        Streaming::new_response(Take(slot), body, StatusCode::OK, None, None)
    }))
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
