//! A service's listener inside a merged binary.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::net::TcpStream;
use tonic::transport::server::TcpIncoming;

/// Whether a service keeps its own listener in the merged binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listen {
    On,
    Off,
}

/// The accepted connections of one service: its bound listener, or nothing.
///
/// A failure to bind ends the process with an error naming the service, as the
/// original `main` would have when `serve(addr)` failed.
pub struct Incoming(Option<TcpIncoming>);

impl Incoming {
    pub(crate) fn new(service: &str, addr: SocketAddr, listen: Listen) -> Self {
        if listen == Listen::Off {
            return Self(None);
        }
        #[cfg(not(feature = "tonic-012"))]
        let bound = TcpIncoming::bind(addr).map(|incoming| incoming.with_nodelay(Some(true)));
        #[cfg(feature = "tonic-012")]
        let bound = TcpIncoming::new(addr, true, None);
        match bound {
            Ok(incoming) => Self(Some(incoming)),
            Err(e) => {
                eprintln!("knit: service `{service}` cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        }
    }
}

impl Stream for Incoming {
    type Item = Result<TcpStream, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.0 {
            Some(incoming) => Pin::new(incoming).poll_next(cx),
            None => Poll::Pending,
        }
    }
}
