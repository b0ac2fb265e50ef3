//! The board: an HTTP page of the household's chores (actix-web) over the
//! chores service, and the same over gRPC for internal callers. The binary
//! only starts what this library builds.

pub mod app;
pub mod grpc;

pub mod proto {
    pub mod chores {
        tonic::include_proto!("chores.v1");
    }
    pub mod board {
        tonic::include_proto!("board.v1");
    }
}

use proto::chores::chores_client::ChoresClient;
use proto::chores::{AddChore, GetChore};
use tonic::transport::Channel;
use tonic::Status;

/// The board's client of the chores service, shared by the HTTP workers and
/// the gRPC side.
#[derive(Clone)]
pub struct Chores(ChoresClient<Channel>);

impl Chores {
    /// Connects to the chores service at `url`.
    pub async fn connect(url: String) -> Result<Self, tonic::transport::Error> {
        Ok(Self(ChoresClient::connect(url).await?))
    }

    /// Adds a chore; its line on the board.
    pub async fn pin(&self, title: String) -> Result<(u64, String), Status> {
        let chore = self.0.clone().add(AddChore { title }).await?.into_inner();
        Ok((chore.id, line(chore.id, &chore.title)))
    }

    /// The line of chore `id`.
    pub async fn show(&self, id: u64) -> Result<String, Status> {
        let chore = self.0.clone().get(GetChore { id }).await?.into_inner();
        Ok(line(chore.id, &chore.title))
    }
}

fn line(id: u64, title: &str) -> String {
    format!("#{id} {title}")
}

/// An environment variable, or `default`.
pub fn var(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}
