//! Volo clients of a tonic server of the same process, in process (the
//! `bridged` tier): messages are encoded by Volo and decoded by tonic, as over
//! the network, with no socket and no HTTP/2.
//!
//! knit puts `.mk_load_balance(knit_runtime::volo::tonic_server("pkg.X"))`
//! into a Volo client chain (`..address(addr)..build()`, no inner layers) of a
//! gRPC service that a tonic server of the group serves. With an address, the
//! load balancer only passes calls on to the stack below it (the client's
//! `MetaService` and its transport); [`ToTonic`] takes that stack's place in a
//! merged binary that hosts the service: under Volo's own client `MetaService`
//! (metainfo into headers, backward values out of the answer's), the request
//! is made as Volo's transport makes it and handed to the provider's
//! registered tonic server (`ServiceHost::provide_server` or
//! `provide_stacked`: its interceptor, its layers), whose answer is read as
//! Volo's transport reads one. Everything above, the client's outer layers
//! and its `rpc_timeout`, is Volo's as before. In a service's own binary, or
//! when the process does not host the service, the stack below runs as before.

use std::marker::PhantomData;

use http_body_util::{BodyExt, StreamBody};
use tonic::codegen::http;
use tower::ServiceExt;
use volo::context::Context;
use volo::loadbalance::MkLbLayer;
use volo_grpc::codec::decode::Kind;
use volo_grpc::context::ClientContext;
use volo_grpc::message::{RecvEntryMessage, SendEntryMessage};
use volo_grpc::{Code, Request, Response, Status};

use crate::registry::Target;
use crate::transport::{boxed, DeadlineKept, LocalTransport};

/// The load balancer knit gives a Volo client of the tonic server of
/// `grpc_service` (`package.Service`).
pub fn tonic_server(grpc_service: &'static str) -> TonicServer {
    TonicServer { grpc_service }
}

/// What [`tonic_server`] returns: a Volo `MkLbLayer`, and its layer.
#[derive(Clone, Copy, Debug)]
pub struct TonicServer {
    grpc_service: &'static str,
}

impl MkLbLayer for TonicServer {
    type Layer = Self;

    fn make(self) -> Self {
        self
    }
}

impl<S> volo::Layer<S> for TonicServer {
    type Service = ViaTonic<S>;

    fn layer(self, below: S) -> ViaTonic<S> {
        match crate::in_merged_host() && crate::registry::is_hosted(self.grpc_service) {
            true => ViaTonic::InProcess(Target::new(self.grpc_service)),
            false => ViaTonic::Below(below),
        }
    }
}

/// A Volo client's calls: to the provider's tonic server in process, or on
/// through the client's stack below the load balancer.
#[derive(Clone, Debug)]
pub enum ViaTonic<S> {
    InProcess(Target<LocalTransport>),
    Below(S),
}

impl<S, T, U> volo::Service<ClientContext, Request<T>> for ViaTonic<S>
where
    S: volo::Service<ClientContext, Request<T>, Response = Response<U>, Error = Status>
        + Send
        + Sync
        + 'static,
    T: SendEntryMessage + Send + 'static,
    U: RecvEntryMessage + Send + 'static,
{
    type Response = Response<U>;
    type Error = Status;

    async fn call(&self, cx: &mut ClientContext, request: Request<T>) -> Result<Response<U>, Status> {
        match self {
            ViaTonic::Below(below) => below.call(cx, request).await,
            ViaTonic::InProcess(target) => {
                let to_tonic = ToTonic::<U> {
                    target: *target,
                    _answer: PhantomData,
                };
                volo_grpc::client::MetaService::new(to_tonic)
                    .call(cx, request)
                    .await
            }
        }
    }
}

/// Volo's transport, in process: the request made as Volo's `ClientTransport`
/// makes it (no compression: a client chain knit converts sets none), answered
/// by the provider's tonic server, the answer read as that transport reads it.
pub struct ToTonic<U> {
    target: Target<LocalTransport>,
    _answer: PhantomData<fn() -> U>,
}

impl<T, U> volo::Service<ClientContext, Request<T>> for ToTonic<U>
where
    T: SendEntryMessage + Send + 'static,
    U: RecvEntryMessage + Send + 'static,
{
    type Response = Response<U>;
    type Error = Status;

    async fn call(&self, cx: &mut ClientContext, request: Request<T>) -> Result<Response<U>, Status> {
        let (metadata, extensions, message) = request.into_parts();
        let path = cx.rpc_info().method().clone();
        let body = boxed(StreamBody::new(message.into_body(None)));
        let mut request = http::Request::builder()
            .version(http::Version::HTTP_2)
            .method(http::Method::POST)
            .uri(format!("http://in-process.knit{path}"))
            .extension(extensions)
            .body(body)
            .map_err(|e| Status::from_error(e.into()))?;
        *request.headers_mut() = metadata.into_headers();
        let headers = request.headers_mut();
        headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/grpc"),
        );
        // Volo's client times the call (`rpc_timeout`): over the network its
        // timer ends the call before the server's answer to `grpc-timeout`
        // arrives, and so here.
        request.extensions_mut().insert(DeadlineKept);
        let transport = match self.target.get(None).await {
            Ok((resolved, _)) => (*resolved.handler).clone(),
            Err(status) => {
                return Err(Status::new(Code::from(status.code() as i32), status.message()))
            }
        };
        let answer = transport.oneshot(request).await.unwrap_or_else(|e| match e {});
        if let Some(status) = Status::from_header_map(answer.headers()) {
            if status.code() != Code::Ok {
                return Err(status);
            }
        }
        let (parts, body) = answer.into_parts();
        // A status in the body (a stream's error) as the status it is: Volo's
        // `boxed` would take tonic's `Status` for an unknown error.
        let body = body.map_err(|s| Status::new(Code::from(s.code() as i32), s.message()));
        let body = U::from_body(
            Some(&path),
            volo_grpc::body::boxed(body),
            Kind::Response(parts.status),
            None,
        )?;
        Ok(Response::from_http(http::Response::from_parts(parts, body)))
    }
}
