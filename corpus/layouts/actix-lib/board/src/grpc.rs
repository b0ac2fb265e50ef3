//! The gRPC side: `board.v1.Board/Pin`, served beside the HTTP server.

use std::net::SocketAddr;

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use crate::proto::board::board_server::{Board, BoardServer};
use crate::proto::board::{PinRequest, Pinned};
use crate::Chores;

struct Service(Chores);

#[tonic::async_trait]
impl Board for Service {
    async fn pin(&self, request: Request<PinRequest>) -> Result<Response<Pinned>, Status> {
        let (id, _) = self.0.pin(request.into_inner().title).await?;
        // Read back through the chores service, as the HTTP page does.
        let line = self.0.show(id).await?;
        Ok(Response::new(Pinned { id, line }))
    }
}

/// Serves the gRPC side on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, chores: Chores) {
    let served = Server::builder()
        .add_service(BoardServer::new(Service(chores)))
        .serve(addr)
        .await;
    if let Err(e) = served {
        eprintln!("board: gRPC server failed: {e}");
    }
}
