//! The stock service's binary: configured the twelve-factor way, it listens on
//! `PORT` and logs through `tracing` with the subscriber's defaults.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let port: u16 = std::env::var("PORT").unwrap_or_else(|_| "50061".into()).parse()?;
    stock::serve(([127, 0, 0, 1], port).into()).await
}
