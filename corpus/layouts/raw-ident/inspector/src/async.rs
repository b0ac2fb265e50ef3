//! inspector's request handlers.

use tonic::{Request, Response, Status};

use crate::pb::inspector_server::Inspector;
use crate::pb::{InspectReply, InspectRequest, TypeInfo};
use crate::r#type::Registry;

pub struct Handlers {
    registry: Registry,
    /// How a type's description becomes the reply's text.
    render: fn(&TypeInfo) -> String,
}

impl Handlers {
    pub fn new(registry: Registry, render: fn(&TypeInfo) -> String) -> Handlers {
        Handlers { registry, render }
    }
}

#[tonic::async_trait]
impl Inspector for Handlers {
    async fn inspect(
        &self,
        request: Request<InspectRequest>,
    ) -> Result<Response<InspectReply>, Status> {
        let info = self.registry.describe(request.into_inner().name).await?;
        Ok(Response::new(InspectReply {
            text: (self.render)(&info),
        }))
    }
}
