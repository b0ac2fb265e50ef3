//! The tally service: named counters. `main` only reads its configuration;
//! `app::App::serve` sets the service up and hands it to `grpc::Counters::run`,
//! which binds its listener (`net::listen`), builds the tonic server and
//! serves it on that listener.

mod app;
mod grpc;
mod net;

pub mod tally_api {
    tonic::include_proto!("tally");
}

/// The booth's API: a reset asks the booth what it clears.
pub mod booth_api {
    tonic::include_proto!("booth");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = app::Config::from_env()?;
    app::App::new(config).serve().await
}
