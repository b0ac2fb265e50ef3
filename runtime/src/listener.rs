//! A service's listener inside a merged binary.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tonic::transport::server::TcpIncoming;

use crate::stack::Conn;

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
