//! The users service: answers `users.v1.Users/GetUser` from a fixed table.

use tonic::{transport::Server, Request, Response, Status};

use pb::users_server::{Users, UsersServer};
use pb::{GetUserRequest, User};

pub mod pb {
    tonic::include_proto!("users.v1");
}

#[derive(Debug, Default)]
pub struct UserDirectory;

#[tonic::async_trait]
impl Users for UserDirectory {
    async fn get_user(&self, request: Request<GetUserRequest>) -> Result<Response<User>, Status> {
        let id = request.into_inner().id;
        let name = match id {
            1 => "Ada",
            2 => "Grace",
            _ => return Err(Status::not_found(format!("no user {id}"))),
        };
        Ok(Response::new(User {
            id,
            name: name.to_string(),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("USERS_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50061".to_string())
        .parse()?;
    println!("users listening on {addr}");
    // The router is built first and served below, with a shutdown future that
    // never fires: users runs until its process is stopped.
    let grpc = Server::builder().add_service(UsersServer::new(UserDirectory));
    grpc.serve_with_shutdown(addr, std::future::pending::<()>())
        .await?;
    Ok(())
}
