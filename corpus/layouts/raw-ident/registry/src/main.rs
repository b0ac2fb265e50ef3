//! The registry service: describes Rust's integer types.

use tonic::{transport::Server, Request, Response, Status};

use pb::types_server::{Types, TypesServer};
use pb::{DescribeRequest, TypeInfo};

pub mod pb {
    tonic::include_proto!("kinds.v1");
}

#[derive(Debug, Default)]
pub struct Integers;

#[tonic::async_trait]
impl Types for Integers {
    async fn describe(
        &self,
        request: Request<DescribeRequest>,
    ) -> Result<Response<TypeInfo>, Status> {
        let name = request.into_inner().name;
        let (signed, bits) = name.split_at(name.len().min(1));
        let bits: u32 = match bits.parse() {
            Ok(b @ (8 | 16 | 32 | 64 | 128)) if signed == "i" || signed == "u" => b,
            _ => return Err(Status::not_found(format!("no integer type `{name}`"))),
        };
        Ok(Response::new(TypeInfo {
            signed: signed == "i",
            name,
            bits,
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("REGISTRY_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:50121".to_string())
        .parse()?;
    println!("registry listening on {addr}");
    Server::builder()
        .add_service(TypesServer::new(Integers))
        .serve(addr)
        .await?;
    Ok(())
}
