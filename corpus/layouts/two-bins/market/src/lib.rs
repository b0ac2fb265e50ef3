//! The market's shared library: the generated code of both services, the
//! buyers' directory and what both binaries read from their environment.

pub mod pb {
    pub mod users {
        tonic::include_proto!("users");
    }
    pub mod orders {
        tonic::include_proto!("orders");
    }
}

pub mod directory;

/// The address a service listens on: `var`, else `fallback`.
pub fn listen_addr(var: &str, fallback: &str) -> Result<std::net::SocketAddr, std::net::AddrParseError> {
    std::env::var(var).unwrap_or_else(|_| fallback.to_string()).parse()
}

/// Where orders finds the users service: `USERS_URL`, else the default. Only
/// the orders binary needs it, so it is compiled with its feature.
#[cfg(feature = "build-binary")]
pub fn users_url() -> String {
    std::env::var("USERS_URL").unwrap_or_else(|_| "http://127.0.0.1:50081".into())
}
