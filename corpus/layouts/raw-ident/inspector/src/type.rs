//! The type registry as inspector sees it: a client of `kinds.v1.Types`.

use tonic::transport::Channel;
use tonic::Status;

use crate::pb::types_client::TypesClient;
use crate::pb::{DescribeRequest, TypeInfo};

/// A connected client of the registry.
#[derive(Clone)]
pub struct Registry {
    types: TypesClient<Channel>,
}

impl Registry {
    pub async fn connect(url: String) -> Result<Registry, tonic::transport::Error> {
        let types = TypesClient::connect(url).await?;
        Ok(Registry { types })
    }

    /// What the registry knows about the type `name`.
    pub async fn describe(&self, name: String) -> Result<TypeInfo, Status> {
        let mut types = self.types.clone();
        let info = types.describe(DescribeRequest { name }).await?.into_inner();
        Ok(info)
    }
}
