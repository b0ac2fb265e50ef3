//! CloudWeGo Volo gRPC services in a merged binary (feature `volo`).
//!
//! Volo's client has no in-process transport: `ClientBuilder::build()` always
//! makes its HTTP/2 client over a connector that dials an
//! [`Address`](volo::net::Address), TCP or a Unix socket. So calls between
//! Volo services of a merged binary go over a Unix socket of the process:
//!
//! - a Volo server's `run(addr)` becomes `run_with_shutdown(incoming(..),
//!   shutdown(..))`: [`incoming`] serves the service's own listener (unless the
//!   host turned it off) and, in a merged binary, the Unix socket of the
//!   service at [`socket_path`]; it stops on the host's shutdown;
//! - a Volo client's `.address(addr)` of a gRPC service another service of
//!   the group serves becomes `.address(address("SERVICE", addr))`: in a
//!   merged binary, [`address`] is that service's Unix socket.
//!
//! Both sides keep all of Volo: the client's layers, `rpc_timeout`, metainfo,
//! the server's layers, its status codes and its answer to a panic. Messages
//! are encoded and cross the kernel's socket buffers, never the network.
//!
//! Where neither side has layers, [`inline`] calls the provider's handler with
//! the caller's request value instead.

pub mod inline;
#[cfg(not(feature = "tonic-011"))]
mod served;
#[cfg(not(feature = "tonic-011"))]
mod to_tonic;

#[cfg(not(feature = "tonic-011"))]
pub use to_tonic::{tonic_server, TonicServer, ViaTonic};

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;

use tokio::net::UnixListener;
use tokio::sync::mpsc;
use volo::net::conn::{Conn, ConnInfo, ConnStream};
use volo::net::incoming::{Incoming, MakeIncoming};
use volo::net::Address;

use crate::listener::Listen;
use crate::ServiceHost;

/// The Unix socket on which the Volo server of `service` (its name in the
/// plan) serves the group's own clients in this process.
pub fn socket_path(service: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("knit-{}", std::process::id()))
        .join(format!("{service}.sock"))
}

/// Where a Volo client of a gRPC service that `provider` serves connects: in
/// a merged binary, the Unix socket of `provider`'s server; alone, `addr`, as
/// the service's own binary always did.
pub fn address(provider: &str, addr: impl Into<Address>) -> Address {
    if !crate::in_merged_host() {
        return addr.into();
    }
    match std::os::unix::net::SocketAddr::from_pathname(socket_path(provider)) {
        Ok(unix) => Address::from(unix),
        Err(_) => addr.into(),
    }
}

/// The connections of a Volo server lifted by knit: those of `listener` (the
/// service's own address or incoming stream) unless the host turned the
/// listener off, and, in a merged binary, those of the group's clients on the
/// service's Unix socket.
pub fn incoming<A: MakeIncoming>(host: &ServiceHost, listener: A) -> Listening<A> {
    Listening {
        service: host.name(),
        listener: (host.listen == Listen::On).then_some(listener),
    }
}

/// Resolves with `Ok(())` when the host shuts down: the signal of a Volo
/// `run_with_shutdown`.
pub fn shutdown(host: &ServiceHost) -> impl Future<Output = io::Result<()>> + Send + 'static {
    let down = host.shutdown();
    async move {
        down.await;
        Ok(())
    }
}

/// Resolves when the host shuts down or `signal` (the service's own) does,
/// with `signal`'s outcome in that case.
pub fn shutdown_with<F>(host: &ServiceHost, signal: F) -> impl Future<Output = io::Result<()>>
where
    F: Future<Output = io::Result<()>>,
{
    let down = host.shutdown();
    async move {
        tokio::select! {
            _ = down => Ok(()),
            result = signal => result,
        }
    }
}

/// What [`incoming`] returns: a Volo [`MakeIncoming`].
pub struct Listening<A> {
    service: &'static str,
    listener: Option<A>,
}

impl<A: MakeIncoming + Send> MakeIncoming for Listening<A> {
    type Incoming = Accepting<A::Incoming>;

    async fn make_incoming(self) -> io::Result<Self::Incoming> {
        let own = match self.listener {
            Some(listener) => match listener.make_incoming().await {
                Ok(own) => Some(own),
                Err(e) => {
                    eprintln!("knit: service `{}` cannot listen: {e}", self.service);
                    std::process::exit(1);
                }
            },
            None => None,
        };
        let (tx, local) = mpsc::unbounded_channel();
        let mut socket = None;
        if crate::in_merged_host() {
            let path = socket_path(self.service);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            // A socket left by an earlier process of the same id.
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path)?;
            tokio::spawn(forward(listener, tx.clone()));
            socket = Some(Socket(path));
        }
        Ok(Accepting {
            own,
            local,
            _open: tx,
            _socket: socket,
        })
    }
}

/// Hands the connections `listener` accepts to the server.
async fn forward(listener: UnixListener, tx: mpsc::UnboundedSender<Conn>) {
    loop {
        tokio::select! {
            _ = tx.closed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let conn = Conn {
                        stream: ConnStream::from(stream),
                        info: ConnInfo { peer_addr: None },
                    };
                    if tx.send(conn).is_err() {
                        return;
                    }
                }
                Err(e) => eprintln!("knit: in-process Volo connection failed: {e}"),
            },
        }
    }
}

/// A Unix socket file, removed when the server stops.
struct Socket(PathBuf);

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The accepted connections of a Volo server lifted by knit.
pub struct Accepting<I> {
    own: Option<I>,
    local: mpsc::UnboundedReceiver<Conn>,
    /// Keeps `local` open: a server with neither listener nor socket waits.
    _open: mpsc::UnboundedSender<Conn>,
    _socket: Option<Socket>,
}

impl<I> fmt::Debug for Accepting<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accepting")
            .field("listening", &self.own.is_some())
            .field("socket", &self._socket.as_ref().map(|s| &s.0))
            .finish()
    }
}

impl<I: Incoming> Incoming for Accepting<I> {
    async fn accept(&mut self) -> io::Result<Option<Conn>> {
        match &mut self.own {
            Some(own) => tokio::select! {
                conn = own.accept() => conn,
                Some(conn) = self.local.recv() => Ok(Some(conn)),
            },
            None => Ok(self.local.recv().await),
        }
    }
}

/// The channel of a tonic client of a gRPC service that the Volo server of
/// `provider` serves: in a merged binary, a channel whose calls reach that
/// server in process when it registered its stack ([`served`]: HTTP/2 over an
/// in-memory pipe, through Volo's server stack), over its Unix socket
/// otherwise (tonic and Volo both speak gRPC over HTTP/2); alone, `channel`.
pub fn tonic_channel(
    provider: &'static str,
    channel: tonic::transport::Channel,
) -> tonic::transport::Channel {
    if !crate::in_merged_host() {
        return channel;
    }
    let connect = tower::service_fn(move |_: tonic::codegen::http::Uri| async move {
        let stream = tokio::net::UnixStream::connect(socket_path(provider)).await?;
        Ok::<_, io::Error>(hyper_util::rt::TokioIo::new(stream))
    });
    let endpoint = tonic::transport::Endpoint::from_static("http://knit.volo");
    let socket = endpoint.connect_with_connector_lazy(connect);
    #[cfg(not(feature = "tonic-011"))]
    return crate::channel::in_memory(&endpoint, served::VoloRoute { socket });
    #[cfg(feature = "tonic-011")]
    return socket;
}
