//! A client layer that sends the bearer token with every call.

use std::sync::Arc;

use volo_grpc::metadata::{Ascii, MetadataValue};
use volo_grpc::{Request, Status};

/// Wraps a client service in [`Bearer`].
#[derive(Clone)]
pub struct BearerLayer {
    value: Arc<str>,
}

impl BearerLayer {
    pub fn new(token: &str) -> Self {
        BearerLayer {
            value: format!("Bearer {token}").into(),
        }
    }
}

impl<S> volo::Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(self, inner: S) -> Bearer<S> {
        Bearer {
            inner,
            value: self.value,
        }
    }
}

/// Sets `authorization` on the request.
#[derive(Clone)]
pub struct Bearer<S> {
    inner: S,
    value: Arc<str>,
}

impl<Cx, T, S> volo::Service<Cx, Request<T>> for Bearer<S>
where
    S: volo::Service<Cx, Request<T>, Error = Status> + Send + Sync,
    Cx: Send,
    T: Send,
{
    type Response = S::Response;
    type Error = Status;

    async fn call(&self, cx: &mut Cx, mut req: Request<T>) -> Result<S::Response, Status> {
        let value: MetadataValue<Ascii> = self
            .value
            .parse()
            .map_err(|_| Status::internal("the token is not a header value"))?;
        req.metadata_mut().insert("authorization", value);
        self.inner.call(cx, req).await
    }
}
