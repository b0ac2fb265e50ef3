//! Calls in process through a provider's whole tonic server: its tower layers,
//! its server-wide settings (`timeout`, `concurrency_limit_per_connection`,
//! `load_shed`) and every service of its router, as over the network.
//!
//! A provider whose server has more than its handler on the way (`.layer(..)`,
//! `.timeout(..)`, a wrapping service) registers its server with
//! [`ServiceHost::provide_stacked`]; the listener of the router that serves it
//! then also accepts connections made in memory by the group's callers:
//! HTTP/2 over a pipe, no socket. Connections queue by gRPC service; an entry
//! with several routers names the stacked services of each router's listener
//! ([`ServiceHost::incoming_serving`]), an entry with one router takes them
//! all with its listener ([`ServiceHost::incoming`]). Callers reach
//! them through the bridged transport ([`crate::transport::Bridge`]), which
//! finds the provider's [`LocalTransport`] in the registry.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;
use tonic::codegen::http;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::transport::LocalTransport;
use crate::ServiceHost;

/// How long a call waits for the provider's server to take its connection
/// (the server starts after it registered, or never serves on the host's
/// listener).
const ACCEPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Bytes an in-memory connection buffers each way.
const PIPE_CAPACITY: usize = 1 << 16;

/// The server ends of in-memory connections, queued for a provider's listener.
pub(crate) type Accept = mpsc::UnboundedReceiver<DuplexStream>;

/// The in-memory connections to one gRPC service's server: the knit service
/// that serves it, how callers reach its listener, and the receiving end
/// until a listener takes it.
struct Queue {
    owner: &'static str,
    sender: mpsc::UnboundedSender<DuplexStream>,
    accept: Option<Accept>,
}

impl Queue {
    fn new(owner: &'static str) -> Self {
        let (sender, accept) = mpsc::unbounded_channel();
        Self {
            owner,
            sender,
            accept: Some(accept),
        }
    }
}

/// The queues, by gRPC service.
fn pending() -> std::sync::MutexGuard<'static, HashMap<&'static str, Queue>> {
    static PENDING: OnceLock<Mutex<HashMap<&'static str, Queue>>> = OnceLock::new();
    let pending = PENDING.get_or_init(Default::default);
    pending.lock().unwrap_or_else(|e| e.into_inner())
}

/// The queues of in-memory connections that the next listener of the knit
/// service `owner` accepts: those of its stacked servers no listener took
/// yet (the listener of an entry that serves one router).
pub(crate) fn take_pending(owner: &str) -> Vec<Accept> {
    pending()
        .values_mut()
        .filter(|queue| queue.owner == owner)
        .filter_map(|queue| queue.accept.take())
        .collect()
}

/// The queues of in-memory connections to the gRPC services `grpc_services`,
/// which the router of the knit service `owner` that the listener serves
/// holds: made when no server registered yet, made anew when another
/// listener took one (the newest listener gets the calls).
pub(crate) fn take_serving(owner: &'static str, grpc_services: &[&'static str]) -> Vec<Accept> {
    let mut pending = pending();
    grpc_services
        .iter()
        .filter_map(|grpc| {
            let queue = pending.entry(grpc).or_insert_with(|| Queue::new(owner));
            if queue.accept.is_none() {
                *queue = Queue::new(owner);
            }
            queue.accept.take()
        })
        .collect()
}

impl ServiceHost {
    /// [`ServiceHost::provide_stacked`] for the server of the pair that a
    /// function of an API crate returns
    /// (`tonic_health::server::health_reporter()`: its reporter and its
    /// server). Returns the pair as it is.
    pub fn provide_stacked_paired<R, S>(
        &self,
        grpc_service: &'static str,
        (first, server): (R, S),
    ) -> (R, S) {
        (first, self.provide_stacked(grpc_service, server))
    }

    /// Registers `grpc_service`, which the server this entry is building
    /// serves, for in-process calls through that server's whole stack: the
    /// listener that serves its router accepts the group's in-memory
    /// connections too. That is the listener the entry names the service to
    /// ([`ServiceHost::incoming_serving`]), or else the next one it asks for
    /// ([`ServiceHost::incoming`]). Returns `server` as it is.
    pub fn provide_stacked<S>(&self, grpc_service: &'static str, server: S) -> S {
        {
            let mut pending = pending();
            let queue = pending
                .entry(grpc_service)
                .or_insert_with(|| Queue::new(self.name()));
            // A queue whose listener stopped is made anew for the next one.
            if queue.sender.is_closed() {
                *queue = Queue::new(self.name());
            }
        }
        let connector = tower::service_fn(move |_: http::Uri| {
            let (ours, theirs) = tokio::io::duplex(PIPE_CAPACITY);
            // The listener that serves the service now.
            let sender = pending().get(grpc_service).map(|q| q.sender.clone());
            let sent = sender
                .and_then(|sender| sender.send(theirs).ok())
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotConnected, "knit: the provider stopped")
                });
            #[cfg(not(feature = "tonic-011"))]
            let ours = hyper_util::rt::TokioIo::new(ours);
            std::future::ready(sent.map(|()| ours))
        });
        let channel = tonic::transport::Endpoint::from_static("http://knit.in-process")
            .connect_with_connector_lazy(connector);
        self.provide(
            grpc_service,
            Arc::new(LocalTransport::new(Answered(channel))),
        );
        server
    }
}

/// A channel to the provider's server whose connection failures answer the
/// call as a failed connection does over the network (`Unavailable`).
#[derive(Clone)]
struct Answered(tonic::transport::Channel);

impl tower::Service<http::Request<crate::transport::Body>> for Answered {
    type Response = http::Response<crate::transport::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The channel is readied in `call`, where its failure has an answer.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<crate::transport::Body>) -> Self::Future {
        let mut channel = self.0.clone();
        Box::pin(async move {
            let ready =
                tokio::time::timeout(ACCEPT_TIMEOUT, tower::ServiceExt::ready(&mut channel));
            let answer = match ready.await {
                Ok(Ok(channel)) => channel.call(request).await,
                Ok(Err(e)) => Err(e),
                Err(_) => {
                    let status = tonic::Status::unavailable(format!(
                        "knit: the provider's server did not accept an in-process connection within {ACCEPT_TIMEOUT:?}"
                    ));
                    return Ok(crate::transport::answer(status));
                }
            };
            // tonic 0.10 and 0.11 answer with hyper's body.
            #[cfg(feature = "tonic-011")]
            let answer = answer.map(|response| response.map(crate::transport::boxed));
            Ok(answer.unwrap_or_else(|e| {
                crate::transport::answer(tonic::Status::unavailable(format!(
                    "knit: in-process connection: {e}"
                )))
            }))
        })
    }
}

/// A connection tonic's `TcpIncoming` accepts (a `TcpStream`; hyper 0.14's
/// `AddrStream` on tonic 0.10 and 0.11).
type TcpConn = <tonic::transport::server::TcpIncoming as futures_util::TryStream>::Ok;

/// A connection a listener accepted: from the network, or in memory from a
/// service of this process.
pub enum Conn {
    Tcp(TcpConn),
    Local(DuplexStream),
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    /// A connection in memory has no addresses.
    fn connect_info(&self) -> TcpConnectInfo {
        match self {
            Conn::Tcp(stream) => stream.connect_info(),
            Conn::Local(_) => TcpConnectInfo {
                local_addr: None,
                remote_addr: None,
            },
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Local(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Local(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_flush(cx),
            Conn::Local(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Local(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
