//! The shop's gRPC API: messages, clients and servers of every service, and
//! how the shop serves them.

pub mod v1 {
    tonic::include_proto!("shop.v1");
}

mod server;

pub use server::serve_catalog;
