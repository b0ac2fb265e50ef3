//! The quote protos, shared by the alpha and beta repositories.

pub mod v1 {
    tonic::include_proto!("quote.v1");
}
