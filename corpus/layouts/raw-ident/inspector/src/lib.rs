//! inspector's library: the registry's client (`r#type`) and the handlers (`r#async`).

pub mod pb {
    tonic::include_proto!("kinds.v1");
}

pub mod r#async;
pub mod r#type;
