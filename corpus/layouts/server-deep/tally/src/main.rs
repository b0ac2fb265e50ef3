//! The tally service: named counters. `main` only reads its configuration;
//! `app::serve` sets the service up and hands it to `grpc::Counters::run`,
//! which builds and serves the tonic server.

mod app;
mod grpc;

pub mod tally_api {
    tonic::include_proto!("tally");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = app::Config::from_env()?;
    app::serve(config).await
}
