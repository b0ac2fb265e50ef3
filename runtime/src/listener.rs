//! A service's listener inside a merged binary: the host's ([`Incoming`]), or
//! one the service bound itself ([`Beside`]: TCP or a Unix socket), with the
//! in-memory connections of the group's callers.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

use crate::stack::Conn;
use crate::ServiceHost;

/// Whether a service keeps its own listener in the merged binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listen {
    On,
    Off,
}

/// The accepted connections of one router of a service: its bound listener,
/// or nothing; and the in-memory connections of the group's callers to the
/// servers of the router registered for them ([`crate::stack`]).
///
/// A failure to bind ends the process with an error naming the service, as the
/// original `main` would have when `serve(addr)` failed.
pub struct Incoming(Option<TcpIncoming>, Vec<crate::stack::Accept>);

impl Incoming {
    /// The listener on `addr` of `service`, which also accepts the in-memory
    /// connections queued in `local`.
    pub(crate) fn new(
        service: &str,
        addr: SocketAddr,
        listen: Listen,
        local: Vec<crate::stack::Accept>,
    ) -> Self {
        if listen == Listen::Off {
            return Self(None, local);
        }
        #[cfg(not(feature = "tonic-012"))]
        let bound = TcpIncoming::bind(addr).map(|incoming| incoming.with_nodelay(Some(true)));
        #[cfg(feature = "tonic-012")]
        let bound = TcpIncoming::new(addr, true, None);
        match bound {
            Ok(incoming) => Self(Some(incoming), local),
            Err(e) => {
                eprintln!("knit: service `{service}` cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        }
    }
}

impl Stream for Incoming {
    type Item = Result<Conn, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        for local in &mut self.1 {
            if let Poll::Ready(Some(conn)) = local.poll_recv(cx) {
                return Poll::Ready(Some(Ok(Conn::Local(conn))));
            }
        }
        match &mut self.0 {
            Some(incoming) => Pin::new(incoming)
                .poll_next(cx)
                .map(|next| next.map(|conn| conn.map(Conn::Tcp))),
            None => Poll::Pending,
        }
    }
}

/// The connections of a router served on an incoming stream of the service's
/// own (a listener it bound itself, `serve_with_incoming(theirs)`): theirs as
/// they come, and the in-memory connections of the group's callers to the
/// stacked servers of the router ([`crate::stack`]). With the service's
/// listener turned off, theirs is dropped unpolled (its socket closes): only
/// the calls from inside the group arrive.
pub struct Beside<S> {
    theirs: Option<Pin<Box<S>>>,
    local: Vec<crate::stack::Accept>,
}

impl<S, IO, E> Stream for Beside<S>
where
    S: Stream<Item = Result<IO, E>>,
{
    type Item = Result<OwnConn<IO>, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        for local in &mut this.local {
            if let Poll::Ready(Some(conn)) = local.poll_recv(cx) {
                return Poll::Ready(Some(Ok(OwnConn::Local(conn))));
            }
        }
        match &mut this.theirs {
            // Their stream ending ends the server, as it did alone.
            Some(theirs) => theirs
                .as_mut()
                .poll_next(cx)
                .map(|next| next.map(|conn| conn.map(OwnConn::Theirs))),
            None => Poll::Pending,
        }
    }
}

/// A connection of a [`Beside`] stream: one the service's own incoming
/// stream accepted, or one made in memory by a service of this process.
pub enum OwnConn<IO> {
    Theirs(IO),
    Local(DuplexStream),
}

impl<IO> Connected for OwnConn<IO>
where
    IO: Connected,
    IO::ConnectInfo: LocalInfo,
{
    type ConnectInfo = IO::ConnectInfo;

    /// Theirs as their connection tells it; one in memory has no addresses.
    fn connect_info(&self) -> IO::ConnectInfo {
        match self {
            OwnConn::Theirs(io) => io.connect_info(),
            OwnConn::Local(_) => LocalInfo::in_memory(),
        }
    }
}

/// What tonic tells a handler of a connection made in memory, in the type
/// the service's own connections tell it in: TCP's (`TcpListenerStream`,
/// `TcpIncoming`) or a Unix socket's (`UnixListenerStream`), with no address.
pub trait LocalInfo {
    fn in_memory() -> Self;
}

impl LocalInfo for TcpConnectInfo {
    fn in_memory() -> Self {
        TcpConnectInfo {
            local_addr: None,
            remote_addr: None,
        }
    }
}

#[cfg(unix)]
impl LocalInfo for tonic::transport::server::UdsConnectInfo {
    fn in_memory() -> Self {
        tonic::transport::server::UdsConnectInfo {
            peer_addr: None,
            peer_cred: None,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for OwnConn<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            OwnConn::Theirs(io) => Pin::new(io).poll_read(cx, buf),
            OwnConn::Local(pipe) => Pin::new(pipe).poll_read(cx, buf),
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for OwnConn<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            OwnConn::Theirs(io) => Pin::new(io).poll_write(cx, buf),
            OwnConn::Local(pipe) => Pin::new(pipe).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            OwnConn::Theirs(io) => Pin::new(io).poll_flush(cx),
            OwnConn::Local(pipe) => Pin::new(pipe).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            OwnConn::Theirs(io) => Pin::new(io).poll_shutdown(cx),
            OwnConn::Local(pipe) => Pin::new(pipe).poll_shutdown(cx),
        }
    }
}

impl ServiceHost {
    /// The connections of a router the service serves on an incoming stream
    /// of its own (`theirs`, bound by its code with its socket options):
    /// theirs, and the in-memory connections of the group's callers to the
    /// stacked servers this service registered, as [`ServiceHost::incoming`]
    /// gives them beside the host's listener. With the listener turned off,
    /// `theirs` is dropped unpolled.
    pub fn incoming_beside<S>(&self, theirs: S) -> Beside<S> {
        let local = crate::stack::take_pending(self.name());
        self.beside(theirs, local)
    }

    /// [`ServiceHost::incoming_beside`] for a router that serves the stacked
    /// gRPC services `stacked` (none for a router without one), as
    /// [`ServiceHost::incoming_serving`]: an entry with several routers names
    /// each one's.
    pub fn incoming_beside_serving<S>(&self, theirs: S, stacked: &[&'static str]) -> Beside<S> {
        let local = crate::stack::take_serving(self.name(), stacked);
        self.beside(theirs, local)
    }

    fn beside<S>(&self, theirs: S, local: Vec<crate::stack::Accept>) -> Beside<S> {
        let theirs = (self.listen == Listen::On).then(|| Box::pin(theirs));
        Beside { theirs, local }
    }
}
