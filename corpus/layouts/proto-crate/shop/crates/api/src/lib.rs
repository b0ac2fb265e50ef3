//! The shop's gRPC API: messages, clients and servers of every service.

pub mod v1 {
    tonic::include_proto!("shop.v1");
}
