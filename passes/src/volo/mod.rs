//! CloudWeGo Volo gRPC services (volo-grpc, volo-build's generated code).
//!
//! Volo's client has no in-process transport: `XClientBuilder::..build()`
//! always makes an HTTP/2 client that dials an address (TCP or a Unix socket).
//! So knit keeps both Volo stacks whole and moves the connection off the
//! network: in the merged binary, a Volo server also serves the group on Unix
//! sockets of the process, and a Volo client of a merged service dials that
//! socket (`knit_runtime::volo`). See docs/passes/volo.md.
//!
//! - [`entry`]: `#[volo::main]` mains; `Server::..run(addr)` and
//!   `run_with_shutdown(addr, signal)` handed to the host (called by the
//!   `entry` pass).
//! - [`calls`]: the pass `volo`: client constructors
//!   `XClientBuilder::new(..)..address(addr)..build()` of a gRPC service the
//!   group serves.
//! - [`inline`]: Volo calls in process where neither side has layers: the
//!   providers that register, the crates whose clients become knit's.
//! - [`servers`]: which services serve which gRPC services with a Volo server.
//! - [`names`]: paths to Volo's generated types followed through a crate's
//!   `use`s, aliases and re-exports.

pub mod calls;
pub mod entry;
pub mod inline;
pub mod names;
pub mod servers;

pub use calls::run;

#[cfg(test)]
mod tests;
