//! The chores service: a household's chores, numbered as they are added.

use std::sync::Mutex;

use tonic::transport::Server;
use tonic::{Request, Response, Status};

use proto::chores_server::{Chores, ChoresServer};
use proto::{AddChore, Chore, GetChore};

pub mod proto {
    tonic::include_proto!("chores.v1");
}

#[derive(Default)]
pub struct List(Mutex<Vec<String>>);

#[tonic::async_trait]
impl Chores for List {
    async fn add(&self, request: Request<AddChore>) -> Result<Response<Chore>, Status> {
        let title = request.into_inner().title;
        if title.trim().is_empty() {
            return Err(Status::invalid_argument("a chore needs a title"));
        }
        let mut list = self.0.lock().unwrap();
        list.push(title.clone());
        Ok(Response::new(Chore {
            id: list.len() as u64,
            title,
        }))
    }

    async fn get(&self, request: Request<GetChore>) -> Result<Response<Chore>, Status> {
        let id = request.into_inner().id;
        let list = self.0.lock().unwrap();
        let title = (id as usize)
            .checked_sub(1)
            .and_then(|i| list.get(i))
            .ok_or_else(|| Status::not_found(format!("no chore {id}")))?;
        Ok(Response::new(Chore {
            id,
            title: title.clone(),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("CHORES_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50081".to_string())
        .parse()?;
    println!("chores listening on {addr}");
    Server::builder()
        .add_service(ChoresServer::new(List::default()))
        .serve(addr)
        .await?;
    Ok(())
}
