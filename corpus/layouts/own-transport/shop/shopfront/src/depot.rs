//! shopfront's clients of the depot: stock through the telemetry wrapper on a
//! channel connected now (waiting for the depot to start), prices on a channel connected on first use, both
//! with the configured deadline.

use std::time::Duration;

use telemetry::{Config, Traced};
use tonic::transport::{Channel, Endpoint};

use crate::api::depot::prices_client::PricesClient;
use crate::api::depot::stock_client::StockClient;

/// The depot's stock through [`Traced`], and its prices.
#[derive(Clone)]
pub struct Depot {
    pub stock: StockClient<Traced<Channel>>,
    pub prices: PricesClient<Channel>,
}

/// Connects to the depot at `url`; every call ends after `cfg.timeout_ms`.
pub async fn connect(url: String, cfg: &Config) -> Result<Depot, tonic::transport::Error> {
    let endpoint =
        Endpoint::from_shared(url.clone())?.timeout(Duration::from_millis(cfg.timeout_ms));
    // The depot may still be starting: try again for a while.
    let mut tries = 0;
    let channel = loop {
        match endpoint.clone().connect().await {
            Ok(channel) => break channel,
            Err(e) if tries == 50 => return Err(e),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let stock = StockClient::new(Traced::new(channel));
    let later = Endpoint::from_shared(url)?.timeout(Duration::from_millis(cfg.timeout_ms));
    let prices = PricesClient::new(later.connect_lazy());
    Ok(Depot { stock, prices })
}
