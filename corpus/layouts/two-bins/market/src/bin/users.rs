//! The users service: serves the market's directory of buyers.

use market::directory::Directory;
use market::pb::users::users_server::UsersServer;
use tonic::transport::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = market::listen_addr("USERS_ADDR", "127.0.0.1:50081")?;
    Server::builder()
        .add_service(UsersServer::new(Directory::default()))
        .serve(addr)
        .await?;
    Ok(())
}
