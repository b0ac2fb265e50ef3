//! The service's set-up: its configuration and the counters it starts with.

use std::net::SocketAddr;

use crate::grpc::Counters;

/// What the service reads from its environment.
pub struct Config {
    pub addr: SocketAddr,
    /// The largest step one `Add` may take.
    pub max_step: i64,
}

impl Config {
    pub fn from_env() -> Result<Config, Box<dyn std::error::Error>> {
        let addr = std::env::var("TALLY_ADDR")
            .unwrap_or_else(|_| "127.0.0.1:50091".to_string())
            .parse()?;
        let max_step = match std::env::var("TALLY_MAX_STEP") {
            Ok(step) => step.parse()?,
            Err(_) => 100,
        };
        Ok(Config { addr, max_step })
    }
}

/// The service, set up from its configuration.
pub struct App {
    config: Config,
}

impl App {
    pub fn new(config: Config) -> App {
        App { config }
    }

    /// Sets the counters up and serves them, on a task of their own, until the
    /// server stops.
    pub async fn serve(self) -> Result<(), Box<dyn std::error::Error>> {
        let config = self.config;
        let counters = Counters::new(config.max_step);
        println!("tally listening on {}", config.addr);
        let server = tokio::spawn(Counters::run(counters, config.addr));
        server.await?.map_err(|e| e as Box<dyn std::error::Error>)?;
        Ok(())
    }
}
