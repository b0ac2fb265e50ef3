//! auth's library: its generated code and the client helper other services
//! of the repository call auth with.

pub mod client;
pub mod proto;

/// The metadata key auth's server wants on every request: who is calling.
pub const CALLER_KEY: &str = "x-caller";
