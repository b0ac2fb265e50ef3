//! The tally's network set-up: the listener it binds itself, and the check
//! of the admin key that guards `tally.Admin`.

use std::net::SocketAddr;
use std::time::Duration;

use tonic::transport::server::TcpIncoming;
use tonic::{Request, Status};

/// Binds the gRPC listener on `addr` now, with the service's socket options:
/// the address takes connections from here on, before the server's task has
/// started (tonic's `serve(addr)` would bind only once its future runs, and
/// sets no keepalive on a listener it is handed).
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpIncoming> {
    Ok(TcpIncoming::bind(addr)?
        .with_nodelay(Some(true))
        .with_keepalive(Some(Duration::from_secs(60))))
}

/// Lets a request to `tally.Admin` through when its `x-tally-key` metadata
/// holds the admin key (`TALLY_ADMIN_KEY`, default `letmein`).
pub fn admin_key(request: Request<()>) -> Result<Request<()>, Status> {
    let key = std::env::var("TALLY_ADMIN_KEY").unwrap_or_else(|_| "letmein".to_string());
    match request.metadata().get("x-tally-key") {
        Some(given) if given.as_bytes() == key.as_bytes() => Ok(request),
        Some(_) => Err(Status::permission_denied("wrong admin key")),
        None => Err(Status::unauthenticated("tally.Admin needs x-tally-key")),
    }
}
