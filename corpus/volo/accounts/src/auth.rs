//! A server layer that refuses calls without the bearer token.

use std::sync::Arc;

use volo_grpc::{Request, Status};

/// Wraps a service in [`Auth`].
#[derive(Clone)]
pub struct AuthLayer {
    expected: Arc<str>,
}

impl AuthLayer {
    pub fn new(token: &str) -> Self {
        AuthLayer {
            expected: format!("Bearer {token}").into(),
        }
    }
}

impl<S> volo::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(self, inner: S) -> Auth<S> {
        Auth {
            inner,
            expected: self.expected,
        }
    }
}

/// Answers `Unauthenticated` unless `authorization` holds the token.
#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    expected: Arc<str>,
}

impl<Cx, T, S> volo::Service<Cx, Request<T>> for Auth<S>
where
    S: volo::Service<Cx, Request<T>, Error = Status> + Send + Sync,
    Cx: Send,
    T: Send,
{
    type Response = S::Response;
    type Error = Status;

    async fn call(&self, cx: &mut Cx, req: Request<T>) -> Result<S::Response, Status> {
        let given = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        match given {
            Some(token) if token == &*self.expected => self.inner.call(cx, req).await,
            Some(_) => Err(Status::unauthenticated("bad token")),
            None => Err(Status::unauthenticated("no token")),
        }
    }
}
