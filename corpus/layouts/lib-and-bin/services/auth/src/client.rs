//! The client helper of auth's library: connects once and names its caller on
//! every request, as auth's server wants.

use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::proto::auth_client::AuthClient as Generated;
use crate::proto::CheckRequest;

/// A connection to auth, on behalf of one caller.
#[derive(Clone)]
pub struct AuthClient {
    inner: Generated<Channel>,
    caller: &'static str,
}

impl AuthClient {
    /// Connects to auth at `url`, calling as `caller`.
    pub async fn connect(url: String, caller: &'static str) -> Result<Self, tonic::transport::Error> {
        let inner = Generated::connect(url).await?;
        Ok(Self { inner, caller })
    }

    /// The user holding `token`.
    pub async fn user_of(&mut self, token: &str) -> Result<String, Status> {
        let mut request = Request::new(CheckRequest {
            token: token.to_string(),
        });
        request
            .metadata_mut()
            .insert(crate::CALLER_KEY, MetadataValue::from_static(self.caller));
        Ok(self.inner.check(request).await?.into_inner().user)
    }
}
