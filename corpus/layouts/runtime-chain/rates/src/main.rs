//! The rates service's binary: logs with `tracing`'s defaults and builds its
//! runtime in one chain, with the larger thread stacks its rate tables need.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let addr = std::env::var("RATES_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50071".to_string())
        .parse()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(4 * 1024 * 1024)
        .enable_all()
        .build()?
        .block_on(rates::serve(addr))
}
