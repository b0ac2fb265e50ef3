//! Fixture tests, one per generated shape: the input is a proto package (the
//! services of a `.proto`, `provided by` a service of the group) or a group's
//! host, the output the generated files, or the named items of one.

use expect_test::{Expect, expect};
use syn::{ImplItem, Item};

use crate::mains::{Standalone, StandaloneRuntime, standalone};
use crate::*;

/// The proto crate of `fixture`: `package p;` and `service S { rpc M (A)
/// returns (stream B); }` as in a `.proto`, each service provided by the
/// service of the group its `// provided by NAME` comment names.
fn proto(fixture: &str) -> ProtoCrate {
    let words: Vec<String> = fixture
        .replace(['(', ')', '{', '}', ';'], " $& ")
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut package = String::new();
    let mut provided: Vec<(ProtoService, String)> = Vec::new();
    let mut provider = String::new();
    let mut i = 0;
    while i < words.len() {
        match words[i].as_str() {
            "package" => package = words[i + 1].clone(),
            "service" => provided.push((
                ProtoService {
                    name: words[i + 1].clone(),
                    methods: Vec::new(),
                },
                std::mem::take(&mut provider),
            )),
            "provided" if words[i + 1] == "by" => provider = words[i + 2].clone(),
            "rpc" => {
                let message = |at: &mut usize| {
                    let stream = words[*at + 1] == "stream";
                    *at += 1 + usize::from(stream);
                    let name = &words[*at];
                    (stream, format!(".{package}.{name}"))
                };
                let name = words[i + 1].clone();
                let mut at = i + 2;
                let (client_streaming, input) = message(&mut at);
                at += 3; // `)`, `returns`, `(`
                let (server_streaming, output) = message(&mut at);
                provided.last_mut().unwrap().0.methods.push(ProtoMethod {
                    name,
                    input,
                    output,
                    client_streaming,
                    server_streaming,
                });
            }
            _ => {}
        }
        i += 1;
    }
    ProtoCrate {
        name: names::proto_package(&package),
        files: vec![(format!("{package}.proto"), "syntax = \"proto3\";\n".into())],
        package,
        provided,
    }
}

/// A group of one proto package and the services of its comments.
fn group(fixture: &str) -> Input {
    let proto = proto(fixture);
    let mut services: Vec<String> = proto.provided.iter().map(|(_, p)| p.clone()).collect();
    services.dedup();
    Input {
        members: services.clone(),
        host: Host {
            group: "demo".into(),
            plan: "knit.toml".into(),
            services: services.iter().map(|name| service(name)).collect(),
            ..Host::default()
        },
        protos: vec![proto],
        ..Input::default()
    }
}

fn service(name: &str) -> HostService {
    HostService {
        name: name.into(),
        listen: true,
        bin: name.into(),
        package_dir: name.into(),
        package: format!("{name}-{name}"),
        entry: names::ENTRY.into(),
        ..HostService::default()
    }
}

/// Every generated file of `input` whose path starts with `under` but
/// knit-runtime's sources, then the notes.
fn check(input: &Input, under: &str, expect: Expect) {
    let support = support(input);
    let mut out = String::new();
    for (path, text) in &support.files {
        let runtime_source = path.starts_with(names::RUNTIME_DIR) && !path.ends_with(".toml");
        if path.starts_with(under) && !runtime_source {
            out.push_str(&format!("//- /{path}\n{text}"));
        }
    }
    for note in &support.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    expect.assert_eq(&out);
}

/// The items `names` of the proto crate's library: `name` for an item of a
/// module, `Type::name` for a function of an inherent `impl Type`.
fn check_items(fixture: &str, names: &[&str], expect: Expect) {
    let proto = proto(fixture);
    let dir = names::proto_dir(&proto.package);
    let files = protos::files(
        &proto,
        &locked::LockedVersions::of(TonicLine::V0_14, |_, _| None),
    );
    let lib = &files
        .iter()
        .find(|(p, _)| *p == format!("{dir}/src/lib.rs"))
        .unwrap()
        .1;
    let file = syn::parse_file(lib).unwrap();
    let mut items = Vec::new();
    for name in names {
        let before = items.len();
        find(&file.items, name, &mut items);
        assert!(items.len() > before, "no item `{name}` in\n{lib}");
    }
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items,
    };
    expect.assert_eq(&prettyplease::unparse(&file));
}

fn find(items: &[Item], name: &str, out: &mut Vec<Item>) {
    for item in items {
        match (item, name.split_once("::")) {
            (Item::Mod(m), _) => {
                if let Some((_, items)) = &m.content {
                    find(items, name, out);
                }
            }
            (Item::Impl(i), Some((owner, member))) if i.trait_.is_none() => {
                let syn::Type::Path(ty) = &*i.self_ty else {
                    continue;
                };
                if !ty.path.is_ident(owner) {
                    continue;
                }
                let mut picked = i.clone();
                picked
                    .items
                    .retain(|f| matches!(f, ImplItem::Fn(f) if f.sig.ident == member));
                if !picked.items.is_empty() {
                    out.push(Item::Impl(picked));
                }
            }
            (item, None) if ident(item).is_some_and(|i| i == name) => out.push(item.clone()),
            _ => {}
        }
    }
}

fn ident(item: &Item) -> Option<&syn::Ident> {
    match item {
        Item::Const(i) => Some(&i.ident),
        Item::Enum(i) => Some(&i.ident),
        Item::Fn(i) => Some(&i.sig.ident),
        Item::Struct(i) => Some(&i.ident),
        Item::Trait(i) => Some(&i.ident),
        Item::Type(i) => Some(&i.ident),
        _ => None,
    }
}

const GREETER: &str = r#"
    package helloworld;
    // provided by greeter
    service Greeter {
        rpc SayHello (HelloRequest) returns (HelloReply);
    }
"#;

#[test]
fn unary() {
    check(
        &group(GREETER),
        "knit/protos/helloworld/src",
        expect![[r#"
            //- /knit/protos/helloworld/src/lib.rs
            //! Proto package `helloworld`, compiled once for the services of the group, with knit's
            //! in-process clients. Generated by knit.

            tonic::include_proto!("helloworld");
            /// In-process access to `helloworld.Greeter`, served by service `greeter` of the group.
            pub mod greeter_inline {
                use std::sync::Arc;
                use knit_runtime::call::{self, SharedInterceptor};
                use tonic::service::Interceptor;
                use tonic::transport::Channel;
                use super::greeter_client::GreeterClient as NetworkClient;
                use super::greeter_server::{Greeter as Handler, GreeterServer};
                /// The gRPC service name.
                pub const SERVICE: &str = "helloworld.Greeter";
                /// Registers `handler` for in-process calls; the listener serves the same handler.
                pub fn provide<T: Handler>(host: &knit_runtime::ServiceHost, handler: T) -> Arc<T> {
                    let handler = Arc::new(handler);
                    host.provide::<dyn Handler>(SERVICE, handler.clone());
                    handler
                }
                /// `GreeterServer::with_interceptor`: in-process calls pass through `interceptor`
                /// as the listener's do.
                pub fn with_interceptor<T, F>(
                    host: &knit_runtime::ServiceHost,
                    handler: T,
                    interceptor: F,
                ) -> tonic::service::interceptor::InterceptedService<
                    GreeterServer<T>,
                    SharedInterceptor,
                >
                where
                    T: Handler,
                    F: Interceptor + Send + 'static,
                {
                    let handler = Arc::new(handler);
                    let interceptor = SharedInterceptor::new(interceptor);
                    host.provide_intercepted::<
                            dyn Handler,
                        >(SERVICE, handler.clone(), Some(interceptor.clone()));
                    tonic::service::interceptor::InterceptedService::new(
                        GreeterServer::from_arc(handler),
                        interceptor,
                    )
                }
                /// A client of `helloworld.Greeter` with the API of tonic's `GreeterClient`: it calls the
                /// handler in process when a service of this binary provides it, the network
                /// otherwise (a service's own binary, run alone).
                #[derive(Clone, Debug)]
                pub struct GreeterClient {
                    route: Route,
                    interceptor: Option<SharedInterceptor>,
                    /// The timeout of the channel the client was made with, in process.
                    timeout: Option<std::time::Duration>,
                }
                #[derive(Clone, Debug)]
                enum Route {
                    InProcess(knit_runtime::registry::Target<dyn Handler>),
                    /// Boxed: a client in process stays small to clone and to move.
                    Network(Box<NetworkClient<Channel>>),
                }
                impl GreeterClient {
                    fn route(network: impl FnOnce() -> NetworkClient<Channel>) -> Route {
                        if knit_runtime::registry::is_hosted(SERVICE) {
                            Route::InProcess(knit_runtime::registry::Target::new(SERVICE))
                        } else {
                            Route::Network(Box::new(network()))
                        }
                    }
                    /// Like tonic's `connect`; in process, nothing is dialled.
                    pub async fn connect<D>(dst: D) -> Result<Self, tonic::transport::Error>
                    where
                        D: TryInto<tonic::transport::Endpoint>,
                        D::Error: Into<tonic::codegen::StdError>,
                    {
                        let route = if knit_runtime::registry::is_hosted(SERVICE) {
                            Route::InProcess(knit_runtime::registry::Target::new(SERVICE))
                        } else {
                            Route::Network(Box::new(NetworkClient::connect(dst).await?))
                        };
                        Ok(Self {
                            route,
                            interceptor: None,
                            timeout: None,
                        })
                    }
                    /// Like tonic's `new`; in process, the channel is not used.
                    pub fn new(channel: Channel) -> Self {
                        Self {
                            route: Self::route(|| NetworkClient::new(channel)),
                            interceptor: None,
                            timeout: None,
                        }
                    }
                    /// Like tonic's `with_origin`; in process, the channel is not used.
                    pub fn with_origin(channel: Channel, origin: tonic::codegen::http::Uri) -> Self {
                        Self {
                            route: Self::route(|| NetworkClient::with_origin(channel, origin)),
                            interceptor: None,
                            timeout: None,
                        }
                    }
                    /// Like tonic's `with_interceptor`: `interceptor` runs on every call, in
                    /// process too.
                    pub fn with_interceptor<F>(channel: Channel, interceptor: F) -> Self
                    where
                        F: Interceptor + Send + 'static,
                    {
                        let route = Self::route(|| NetworkClient::new(channel));
                        Self {
                            route,
                            interceptor: Some(SharedInterceptor::new(interceptor)),
                            timeout: None,
                        }
                    }
                    /// The timeout of the channel the client is made with (`Endpoint::timeout`),
                    /// written in by knit: calls in process keep it as tonic's channel does (the
                    /// sooner of it and the request's own deadline); over the network the
                    /// channel applies it.
                    pub fn with_channel_timeout(mut self, timeout: std::time::Duration) -> Self {
                        self.timeout = Some(timeout);
                        self
                    }
                    /// Applies to calls over the network; in process nothing is compressed.
                    pub fn send_compressed(
                        mut self,
                        encoding: tonic::codec::CompressionEncoding,
                    ) -> Self {
                        self.route = self.map_network(|c| c.send_compressed(encoding));
                        self
                    }
                    /// Applies to calls over the network; in process nothing is compressed.
                    pub fn accept_compressed(
                        mut self,
                        encoding: tonic::codec::CompressionEncoding,
                    ) -> Self {
                        self.route = self.map_network(|c| c.accept_compressed(encoding));
                        self
                    }
                    /// Applies to calls over the network; in process no message is decoded.
                    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
                        self.route = self.map_network(|c| c.max_decoding_message_size(limit));
                        self
                    }
                    /// Applies to calls over the network; in process no message is encoded.
                    pub fn max_encoding_message_size(mut self, limit: usize) -> Self {
                        self.route = self.map_network(|c| c.max_encoding_message_size(limit));
                        self
                    }
                    fn map_network(
                        &self,
                        f: impl FnOnce(NetworkClient<Channel>) -> NetworkClient<Channel>,
                    ) -> Route {
                        match &self.route {
                            Route::InProcess(target) => Route::InProcess(target.clone()),
                            Route::Network(client) => Route::Network(Box::new(f((**client).clone()))),
                        }
                    }
                    /// `SayHello`: in process, the request (metadata and extensions too) passes
                    /// the client's and the server's interceptors and reaches the handler as it
                    /// is; the caller's deadline holds and a panic becomes an error status.
                    pub async fn say_hello(
                        &mut self,
                        request: impl tonic::IntoRequest<super::HelloRequest>,
                    ) -> Result<tonic::Response<super::HelloReply>, tonic::Status> {
                        let target = match &mut self.route {
                            Route::Network(client) => {
                                let request = call::intercept(
                                    request.into_request(),
                                    self.interceptor.as_ref(),
                                )?;
                                return Box::pin(client.say_hello(request)).await;
                            }
                            Route::InProcess(target) => target,
                        };
                        let Some(service) = target.cached() else {
                            let mut client = self.clone();
                            return Box::pin(async move {
                                    if let Route::InProcess(target) = &client.route {
                                        client.timeout = target.get(client.timeout).await?.1;
                                    }
                                    client.say_hello(request).await
                                })
                                .await;
                        };
                        let mut request = request.into_request();
                        if self.interceptor.is_some() {
                            request = call::intercept(request, self.interceptor.as_ref())?;
                        }
                        if service.interceptor.is_some() {
                            request = call::intercept_as_server(
                                request,
                                service.interceptor.as_ref(),
                            )?;
                        }
                        call::unary(
                                request,
                                self.timeout,
                                |request| service.handler.say_hello(request),
                            )
                            .await
                    }
                }
            }
        "#]],
    );
}

const STOCK: &str = r#"
    package inventory;
    // provided by stock
    service Stock {
        rpc Count (CountRequest) returns (CountReply);
        rpc Levels (LevelsRequest) returns (stream Level);
    }
"#;

#[test]
fn server_streaming() {
    check_items(
        STOCK,
        &[
            "Method",
            "ResponseStream",
            "method",
            "UnaryMethods",
            "Served",
            "Served::new",
            "StockClient::levels",
            "StockClient::count",
        ],
        expect![[r#"
            /// A method of the handler, callable in process: `O` is the response, or,
            /// for a server-streaming or bidirectional method, a `ResponseStream<O>`.
            type Method<I, O> = Box<
                dyn Fn(
                    tonic::Request<I>,
                ) -> std::pin::Pin<
                        Box<
                            dyn std::future::Future<
                                Output = Result<tonic::Response<O>, tonic::Status>,
                            > + Send,
                        >,
                    > + Send + Sync,
            >;
            /// The stream of a server-streaming or bidirectional method, boxed.
            type ResponseStream<O> = tonic::codegen::BoxStream<O>;
            /// `handler`'s method `call` as a [`Method`].
            fn method<T: Handler, I: 'static, O: 'static>(
                handler: &Arc<T>,
                call: fn(
                    Arc<T>,
                    tonic::Request<I>,
                ) -> std::pin::Pin<
                    Box<
                        dyn std::future::Future<
                            Output = Result<tonic::Response<O>, tonic::Status>,
                        > + Send,
                    >,
                >,
            ) -> Method<I, O> {
                let handler = handler.clone();
                Box::new(move |request| call(handler.clone(), request))
            }
            /// The handler's unary methods, callable on a trait object (the handler
            /// trait, with its stream types, cannot be one).
            trait UnaryMethods: Send + Sync + 'static {
                fn count(
                    &self,
                    request: tonic::Request<super::CountRequest>,
                ) -> std::pin::Pin<
                    Box<
                        dyn std::future::Future<
                            Output = Result<tonic::Response<super::CountReply>, tonic::Status>,
                        > + Send + '_,
                    >,
                >;
            }
            /// What the provider registers: its handler's methods.
            pub struct Served {
                levels: Method<super::LevelsRequest, ResponseStream<super::Level>>,
                unary_: Arc<dyn UnaryMethods>,
            }
            impl Served {
                fn new<T: Handler>(handler: &Arc<T>) -> Self {
                    Self {
                        levels: method(
                            handler,
                            |h, r| Box::pin(async move {
                                Ok(
                                    h
                                        .levels(r)
                                        .await?
                                        .map(|s| Box::pin(s) as ResponseStream<super::Level>),
                                )
                            }),
                        ),
                        unary_: handler.clone(),
                    }
                }
            }
            impl StockClient {
                /// `Levels`: in process, the request (metadata and extensions too) passes
                /// the client's and the server's interceptors and reaches the handler; each
                /// message is handed over as it is, never encoded. The caller's deadline
                /// bounds the handler's future, a panic becomes an error status, and
                /// streams end as over the network (`knit_runtime::stream`).
                pub async fn levels(
                    &mut self,
                    request: impl tonic::IntoRequest<super::LevelsRequest>,
                ) -> Result<tonic::Response<tonic::codec::Streaming<super::Level>>, tonic::Status> {
                    match &mut self.route {
                        Route::Network(client) => {
                            let request = call::intercept(
                                request.into_request(),
                                self.interceptor.as_ref(),
                            )?;
                            client.levels(request).await
                        }
                        Route::InProcess(target) => {
                            let (service, timeout) = target.get(self.timeout).await?;
                            let request = call::intercept(
                                request.into_request(),
                                self.interceptor.as_ref(),
                            )?;
                            let request = call::intercept_as_server(
                                request,
                                service.interceptor.as_ref(),
                            )?;
                            knit_runtime::stream::responses(
                                    request,
                                    timeout,
                                    |request| (service.handler.levels)(request),
                                )
                                .await
                        }
                    }
                }
            }
            impl StockClient {
                /// `Count`: in process, the request (metadata and extensions too) passes
                /// the client's and the server's interceptors and reaches the handler as it
                /// is; the caller's deadline holds and a panic becomes an error status.
                pub async fn count(
                    &mut self,
                    request: impl tonic::IntoRequest<super::CountRequest>,
                ) -> Result<tonic::Response<super::CountReply>, tonic::Status> {
                    let target = match &mut self.route {
                        Route::Network(client) => {
                            let request = call::intercept(
                                request.into_request(),
                                self.interceptor.as_ref(),
                            )?;
                            return Box::pin(client.count(request)).await;
                        }
                        Route::InProcess(target) => target,
                    };
                    let Some(service) = target.cached() else {
                        let mut client = self.clone();
                        return Box::pin(async move {
                                if let Route::InProcess(target) = &client.route {
                                    client.timeout = target.get(client.timeout).await?.1;
                                }
                                client.count(request).await
                            })
                            .await;
                    };
                    let mut request = request.into_request();
                    if self.interceptor.is_some() {
                        request = call::intercept(request, self.interceptor.as_ref())?;
                    }
                    if service.interceptor.is_some() {
                        request = call::intercept_as_server(request, service.interceptor.as_ref())?;
                    }
                    call::unary(
                            request,
                            self.timeout,
                            |request| service.handler.unary_.count(request),
                        )
                        .await
                }
            }
        "#]],
    );
}

#[test]
fn client_streaming() {
    check_items(
        r#"
            package ledger;
            // provided by accounts
            service Ledger { rpc Record (stream Entry) returns (Summary); }
        "#,
        &["Served", "Served::new", "LedgerClient::record"],
        expect![[r#"
            /// What the provider registers: its handler's methods.
            pub struct Served {
                record: Method<tonic::Streaming<super::Entry>, super::Summary>,
            }
            impl Served {
                fn new<T: Handler>(handler: &Arc<T>) -> Self {
                    Self {
                        record: method(handler, |h, r| Box::pin(async move { h.record(r).await })),
                    }
                }
            }
            impl LedgerClient {
                /// `Record`: in process, the request (metadata and extensions too) passes
                /// the client's and the server's interceptors and reaches the handler; each
                /// message is handed over as it is, never encoded. The caller's deadline
                /// bounds the handler's future, a panic becomes an error status, and
                /// streams end as over the network (`knit_runtime::stream`).
                pub async fn record(
                    &mut self,
                    request: impl tonic::IntoStreamingRequest<Message = super::Entry>,
                ) -> Result<tonic::Response<super::Summary>, tonic::Status> {
                    match &mut self.route {
                        Route::Network(client) => {
                            let request = call::intercept(
                                request.into_streaming_request(),
                                self.interceptor.as_ref(),
                            )?;
                            client.record(request).await
                        }
                        Route::InProcess(target) => {
                            let (service, timeout) = target.get(self.timeout).await?;
                            let request = call::intercept(
                                request.into_streaming_request(),
                                self.interceptor.as_ref(),
                            )?;
                            let request = call::intercept_as_server(
                                request,
                                service.interceptor.as_ref(),
                            )?;
                            call::unary(
                                    request,
                                    timeout,
                                    |request| (service
                                        .handler
                                        .record)(knit_runtime::stream::requests(request)),
                                )
                                .await
                        }
                    }
                }
            }
        "#]],
    );
}

#[test]
fn bidirectional_streaming() {
    check_items(
        r#"
            package chat;
            // provided by room
            service Room { rpc Talk (stream Line) returns (stream Line); }
        "#,
        &["Served", "Served::new", "RoomClient::talk"],
        expect![[r#"
            /// What the provider registers: its handler's methods.
            pub struct Served {
                talk: Method<tonic::Streaming<super::Line>, ResponseStream<super::Line>>,
            }
            impl Served {
                fn new<T: Handler>(handler: &Arc<T>) -> Self {
                    Self {
                        talk: method(
                            handler,
                            |h, r| Box::pin(async move {
                                Ok(
                                    h
                                        .talk(r)
                                        .await?
                                        .map(|s| Box::pin(s) as ResponseStream<super::Line>),
                                )
                            }),
                        ),
                    }
                }
            }
            impl RoomClient {
                /// `Talk`: in process, the request (metadata and extensions too) passes
                /// the client's and the server's interceptors and reaches the handler; each
                /// message is handed over as it is, never encoded. The caller's deadline
                /// bounds the handler's future, a panic becomes an error status, and
                /// streams end as over the network (`knit_runtime::stream`).
                pub async fn talk(
                    &mut self,
                    request: impl tonic::IntoStreamingRequest<Message = super::Line>,
                ) -> Result<tonic::Response<tonic::codec::Streaming<super::Line>>, tonic::Status> {
                    match &mut self.route {
                        Route::Network(client) => {
                            let request = call::intercept(
                                request.into_streaming_request(),
                                self.interceptor.as_ref(),
                            )?;
                            client.talk(request).await
                        }
                        Route::InProcess(target) => {
                            let (service, timeout) = target.get(self.timeout).await?;
                            let request = call::intercept(
                                request.into_streaming_request(),
                                self.interceptor.as_ref(),
                            )?;
                            let request = call::intercept_as_server(
                                request,
                                service.interceptor.as_ref(),
                            )?;
                            knit_runtime::stream::responses(
                                    knit_runtime::stream::requests(request),
                                    timeout,
                                    |request| (service.handler.talk)(request),
                                )
                                .await
                        }
                    }
                }
            }
        "#]],
    );
}

#[test]
fn interceptors_on_the_caller_side() {
    // The client's interceptor runs on every call: in process before the
    // server's, over the network before tonic's client.
    check_items(
        GREETER,
        &["GreeterClient::with_interceptor"],
        expect![[r#"
            impl GreeterClient {
                /// Like tonic's `with_interceptor`: `interceptor` runs on every call, in
                /// process too.
                pub fn with_interceptor<F>(channel: Channel, interceptor: F) -> Self
                where
                    F: Interceptor + Send + 'static,
                {
                    let route = Self::route(|| NetworkClient::new(channel));
                    Self {
                        route,
                        interceptor: Some(SharedInterceptor::new(interceptor)),
                        timeout: None,
                    }
                }
            }
        "#]],
    );
}

#[test]
fn interceptors_on_the_provider_side() {
    // A provider that serves `XServer::with_interceptor(h, f)` registers `f`
    // with its handler: calls in process pass it too.
    check_items(
        GREETER,
        &["provide", "with_interceptor"],
        expect![[r#"
        /// Registers `handler` for in-process calls; the listener serves the same handler.
        pub fn provide<T: Handler>(host: &knit_runtime::ServiceHost, handler: T) -> Arc<T> {
            let handler = Arc::new(handler);
            host.provide::<dyn Handler>(SERVICE, handler.clone());
            handler
        }
        /// `GreeterServer::with_interceptor`: in-process calls pass through `interceptor`
        /// as the listener's do.
        pub fn with_interceptor<T, F>(
            host: &knit_runtime::ServiceHost,
            handler: T,
            interceptor: F,
        ) -> tonic::service::interceptor::InterceptedService<GreeterServer<T>, SharedInterceptor>
        where
            T: Handler,
            F: Interceptor + Send + 'static,
        {
            let handler = Arc::new(handler);
            let interceptor = SharedInterceptor::new(interceptor);
            host.provide_intercepted::<
                    dyn Handler,
                >(SERVICE, handler.clone(), Some(interceptor.clone()));
            tonic::service::interceptor::InterceptedService::new(
                GreeterServer::from_arc(handler),
                interceptor,
            )
        }
    "#]],
    );
    check_items(
        STOCK,
        &["provide", "with_interceptor"],
        expect![[r#"
        /// Registers `handler` for in-process calls; the listener serves the same handler.
        pub fn provide<T: Handler>(host: &knit_runtime::ServiceHost, handler: T) -> Arc<T> {
            let handler = Arc::new(handler);
            host.provide(SERVICE, Arc::new(Served::new(&handler)));
            handler
        }
        /// `StockServer::with_interceptor`: in-process calls pass through `interceptor`
        /// as the listener's do.
        pub fn with_interceptor<T, F>(
            host: &knit_runtime::ServiceHost,
            handler: T,
            interceptor: F,
        ) -> tonic::service::interceptor::InterceptedService<StockServer<T>, SharedInterceptor>
        where
            T: Handler,
            F: Interceptor + Send + 'static,
        {
            let handler = Arc::new(handler);
            let interceptor = SharedInterceptor::new(interceptor);
            host.provide_intercepted(
                SERVICE,
                Arc::new(Served::new(&handler)),
                Some(interceptor.clone()),
            );
            tonic::service::interceptor::InterceptedService::new(
                StockServer::from_arc(handler),
                interceptor,
            )
        }
    "#]],
    );
}

#[test]
fn deadlines() {
    // The channel's timeout, written in by the `calls` pass, bounds calls in
    // process with the request's own deadline (`call::unary`, `stream::responses`).
    check_items(
        GREETER,
        &["GreeterClient", "GreeterClient::with_channel_timeout"],
        expect![[r#"
            /// A client of `helloworld.Greeter` with the API of tonic's `GreeterClient`: it calls the
            /// handler in process when a service of this binary provides it, the network
            /// otherwise (a service's own binary, run alone).
            #[derive(Clone, Debug)]
            pub struct GreeterClient {
                route: Route,
                interceptor: Option<SharedInterceptor>,
                /// The timeout of the channel the client was made with, in process.
                timeout: Option<std::time::Duration>,
            }
            impl GreeterClient {
                /// The timeout of the channel the client is made with (`Endpoint::timeout`),
                /// written in by knit: calls in process keep it as tonic's channel does (the
                /// sooner of it and the request's own deadline); over the network the
                /// channel applies it.
                pub fn with_channel_timeout(mut self, timeout: std::time::Duration) -> Self {
                    self.timeout = Some(timeout);
                    self
                }
            }
        "#]],
    );
}

#[test]
fn bridged() {
    // A bridged gRPC service has no in-process module: the host registers its
    // provider, and callers reach its whole server over in-memory connections.
    let mut input = group(
        r#"
            package payments;
            service Payments { rpc Pay (PayRequest) returns (PayReply); }
        "#,
    );
    input.protos[0].provided.clear();
    input.host.services = vec![service("accounts"), service("payments")];
    input.members = vec!["accounts".into(), "payments".into()];
    input.host.bridged = vec![("payments".into(), "payments.Payments".into())];
    check(
        &input,
        "knit/protos/payments/src",
        expect![[r#"
        //- /knit/protos/payments/src/lib.rs
        //! Proto package `payments`, compiled once for the services of the group, with knit's
        //! in-process clients. Generated by knit.

        tonic::include_proto!("payments");
    "#]],
    );
    check(
        &input,
        "knit/merged",
        expect![[r#"
        //- /knit/merged/Cargo.toml
        # The merged binary of group `demo`. Generated by knit.
        [package]
        name = "merged"
        version = "0.1.0"
        edition = "2021"
        publish = false

        [dependencies]
        accounts = { package = "accounts-accounts", path = "../../accounts" }
        payments = { package = "payments-payments", path = "../../payments" }
        knit-runtime = { path = "../runtime" }
        //- /knit/merged/src/main.rs
        //! The merged binary of group `demo` (plan `knit.toml`): its services on one
        //! tokio runtime, calling each other in process. Generated by knit.

        fn main() -> std::process::ExitCode {
            knit_runtime::Host::new()
                .provides("payments", "payments.Payments")
                .service("accounts", true, accounts::knit_entry)
                .service("payments", true, payments::knit_entry)
                .run()
        }
    "#]],
    );
}

#[test]
fn a_host_of_several_services_and_settings() {
    let mut input = group(GREETER);
    let mut greeter = service("greeter");
    greeter.runtime = Some(RuntimeAsk {
        worker_threads: Some(("4".into(), Some(4))),
        thread_stack_size: Some(("4 * 1024 * 1024".into(), Some(4 << 20))),
    });
    greeter.env = vec![("GREETING".into(), "hello ${USER}".into())];
    let mut frontend = service("frontend");
    frontend.listen = false;
    frontend.runtime = Some(RuntimeAsk {
        worker_threads: Some(("workers()".into(), None)),
        thread_stack_size: None,
    });
    frontend.args = Some(vec!["--port".into(), "8080".into()]);
    frontend.cwd = Some("frontend".into());
    // Its code handles no signal: the host does not wait for it.
    frontend.on_signal = OnSignal::Dies;
    input.host.shutdown_grace_secs = Some(20);
    // Two roles of one binary, and two binaries of one package.
    let mut users = service("users");
    let mut orders = service("orders");
    for (s, bin) in [(&mut users, "users"), (&mut orders, "orders")] {
        s.package_dir = "apps/api".into();
        s.package = "api-api".into();
        s.entry = format!("{}::{}", names::bin_module(bin), names::ENTRY);
    }
    // A binary built only with a feature (`required-features`): the merged
    // build enables it on the package.
    orders.features = vec!["build-binary".into()];
    input.host.services = vec![greeter, frontend, users, orders];
    check(
        &input,
        "knit/merged",
        expect![[r#"
        //- /knit/merged/Cargo.toml
        # The merged binary of group `demo`. Generated by knit.
        [package]
        name = "merged"
        version = "0.1.0"
        edition = "2021"
        publish = false

        [dependencies]
        greeter = { package = "greeter-greeter", path = "../../greeter" }
        frontend = { package = "frontend-frontend", path = "../../frontend" }
        api_api = { package = "api-api", path = "../../apps/api", features = ["build-binary"] }
        knit-runtime = { path = "../runtime" }
        //- /knit/merged/src/main.rs
        //! The merged binary of group `demo` (plan `knit.toml`): its services on one
        //! tokio runtime, calling each other in process. Generated by knit.

        fn main() -> std::process::ExitCode {
            knit_runtime::Host::new()
                .provides("greeter", "helloworld.Greeter")
                .thread_stack_size(4194304)
                .grace_period(std::time::Duration::from_secs(20))
                .on_signal("frontend", knit_runtime::OnSignal::Dies)
                .env("greeter", "GREETING", "hello ${USER}")
                .args("frontend", "frontend", &["--port", "8080"])
                .cwd(concat!(env!("CARGO_MANIFEST_DIR"), "/../../frontend"))
                .service("greeter", true, greeter::knit_entry)
                .service("frontend", false, frontend::knit_entry)
                .service("users", true, api_api::knit_bin_users::knit_entry)
                .service("orders", true, api_api::knit_bin_orders::knit_entry)
                .run()
        }
        note: `greeter` asks for 4 worker threads, but not every service sizes its runtime: the merged runtime keeps tokio's default (one per core) unless the plan sets `worker_threads`
        note: the merged runtime's threads have stacks of 4194304 bytes, the largest a service asked for (`greeter`)
        note: `frontend` sizes its runtime with `workers()`, which knit cannot evaluate: the merged runtime does not apply it
        note: on SIGTERM the merged binary waits for `greeter`, `users`, `orders` (whose code stops them on SIGTERM) within the grace period, and does not wait for `frontend`: nothing in its code stops it on SIGTERM, so alone one SIGTERM ends its process
    "#]],
    );
    input.host.worker_threads = Some(2);
    check(
        &input,
        "knit/merged/src",
        expect![[r#"
        //- /knit/merged/src/main.rs
        //! The merged binary of group `demo` (plan `knit.toml`): its services on one
        //! tokio runtime, calling each other in process. Generated by knit.

        fn main() -> std::process::ExitCode {
            knit_runtime::Host::new()
                .provides("greeter", "helloworld.Greeter")
                .worker_threads(2)
                .thread_stack_size(4194304)
                .grace_period(std::time::Duration::from_secs(20))
                .on_signal("frontend", knit_runtime::OnSignal::Dies)
                .env("greeter", "GREETING", "hello ${USER}")
                .args("frontend", "frontend", &["--port", "8080"])
                .cwd(concat!(env!("CARGO_MANIFEST_DIR"), "/../../frontend"))
                .service("greeter", true, greeter::knit_entry)
                .service("frontend", false, frontend::knit_entry)
                .service("users", true, api_api::knit_bin_users::knit_entry)
                .service("orders", true, api_api::knit_bin_orders::knit_entry)
                .run()
        }
        note: the merged runtime's threads have stacks of 4194304 bytes, the largest a service asked for (`greeter`)
        note: `frontend` sizes its runtime with `workers()`, which knit cannot evaluate: the merged runtime does not apply it
        note: on SIGTERM the merged binary waits for `greeter`, `users`, `orders` (whose code stops them on SIGTERM) within the grace period, and does not wait for `frontend`: nothing in its code stops it on SIGTERM, so alone one SIGTERM ends its process
    "#]],
    );
}

#[test]
fn the_workspace_manifest_and_lockfile() {
    let mut input = group(GREETER);
    let root = |service: &str| WorkspaceRoot {
        service: service.into(),
        manifest: "[workspace]\n\n[patch.crates-io]\nh2 = { path = \"vendor/h2\" }\n".into(),
        dir: service.into(),
    };
    input.workspaces = vec![root("greeter")];
    // The driver merged it; it is written as it is.
    input.lock.text = Some(
        "version = 4\n\n[[package]]\nname = \"tokio\"\nversion = \"1.45.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n".into(),
    );
    check(
        &input,
        "Cargo",
        expect![[r#"
            //- /Cargo.toml
            # The merged workspace of group `demo`. Generated by knit: regenerate, do not edit.
            [workspace]
            resolver = "2"
            members = [
                "greeter",
                "knit/runtime",
                "knit/protos/helloworld",
                "knit/merged",
            ]

            [patch.crates-io]
            h2 = { path = "greeter/vendor/h2" }
            //- /Cargo.lock
            version = 4

            [[package]]
            name = "tokio"
            version = "1.45.1"
            source = "registry+https://github.com/rust-lang/crates.io-index"
        "#]],
    );
}

fn proto_crate_on(line: TonicLine, locked: &[(&str, &str)]) -> Input {
    let mut input = group(GREETER);
    input.tonic = line;
    input.lock.versions = locked::LockedVersions::of(line, |name, _| {
        let (_, version) = locked.iter().find(|(n, _)| *n == name)?;
        Some(version.to_string())
    });
    input
}

#[test]
fn proto_crates_on_tonic_0_12() {
    // tonic-build before 0.12.3 names `compile_protos` `compile`.
    let input = proto_crate_on(
        TonicLine::V0_12,
        &[
            ("prost", "0.13.5"),
            ("tonic", "0.12.1"),
            ("tonic-build", "0.12.1"),
        ],
    );
    check(
        &input,
        "knit/protos/helloworld/build.rs",
        expect![[r#"
        //- /knit/protos/helloworld/build.rs
        //! Generated by knit.

        /// Compiles the crate's protos with the system protoc when `PROTOC` is set,
        /// the vendored one otherwise (setting the variable is sound: build scripts
        /// are single-threaded).
        fn main() -> Result<(), Box<dyn std::error::Error>> {
            if std::env::var_os("PROTOC").is_none() {
                unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
            }
            tonic_build::configure().compile(&["proto/helloworld.proto"], &["proto"])?;
            Ok(())
        }
    "#]],
    );
    check(
        &input,
        "knit/protos/helloworld/Cargo.toml",
        expect![[r#"
        //- /knit/protos/helloworld/Cargo.toml
        # Proto package `helloworld`, shared by the services of the group. Generated by knit.
        [package]
        name = "knit-proto-helloworld"
        version = "0.1.0"
        edition = "2021"
        publish = false

        [dependencies]
        knit-runtime = { path = "../../runtime" }
        prost = "0.13.5"
        tonic = "0.12.1"

        [build-dependencies]
        protoc-bin-vendored = "3"
        tonic-build = "0.12.1"
    "#]],
    );
}

#[test]
fn proto_crates_on_tonic_0_13() {
    let input = proto_crate_on(TonicLine::V0_13, &[]);
    check(
        &input,
        "knit/protos/helloworld/build.rs",
        expect![[r#"
        //- /knit/protos/helloworld/build.rs
        //! Generated by knit.

        /// Compiles the crate's protos with the system protoc when `PROTOC` is set,
        /// the vendored one otherwise (setting the variable is sound: build scripts
        /// are single-threaded).
        fn main() -> Result<(), Box<dyn std::error::Error>> {
            if std::env::var_os("PROTOC").is_none() {
                unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
            }
            tonic_build::configure().compile_protos(&["proto/helloworld.proto"], &["proto"])?;
            Ok(())
        }
    "#]],
    );
    check(
        &input,
        "knit/protos/helloworld/Cargo.toml",
        expect![[r#"
        //- /knit/protos/helloworld/Cargo.toml
        # Proto package `helloworld`, shared by the services of the group. Generated by knit.
        [package]
        name = "knit-proto-helloworld"
        version = "0.1.0"
        edition = "2021"
        publish = false

        [dependencies]
        knit-runtime = { path = "../../runtime" }
        prost = "0.13"
        tonic = "0.13"

        [build-dependencies]
        protoc-bin-vendored = "3"
        tonic-build = "0.13"
    "#]],
    );
}

/// A proto that imports a well-known type: prost's code names it in
/// `prost_types`, which the crate then depends on, at the services' version.
#[test]
fn a_proto_crate_with_well_known_types_depends_on_prost_types() {
    let mut input = group(GREETER);
    input.protos[0].files[0].1 =
        "syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\n".into();
    input.lock.versions = locked::LockedVersions::of(TonicLine::V0_14, |name, _| {
        (name == "prost-types").then(|| "0.14.1".to_string())
    });
    check(
        &input,
        "knit/protos/helloworld/Cargo.toml",
        expect![[r#"
            //- /knit/protos/helloworld/Cargo.toml
            # Proto package `helloworld`, shared by the services of the group. Generated by knit.
            [package]
            name = "knit-proto-helloworld"
            version = "0.1.0"
            edition = "2021"
            publish = false

            [dependencies]
            knit-runtime = { path = "../../runtime" }
            prost = "0.14"
            prost-types = "0.14.1"
            tonic = "0.14"
            tonic-prost = "0.14"

            [build-dependencies]
            protoc-bin-vendored = "3"
            tonic-prost-build = "0.14"
        "#]],
    );
}

#[test]
fn proto_crates_on_tonic_0_14() {
    let input = proto_crate_on(
        TonicLine::V0_14,
        &[("tonic", "0.14.2"), ("tonic-prost-build", "0.14.2")],
    );
    check(
        &input,
        "knit/protos/helloworld/build.rs",
        expect![[r#"
        //- /knit/protos/helloworld/build.rs
        //! Generated by knit.

        /// Compiles the crate's protos with the system protoc when `PROTOC` is set,
        /// the vendored one otherwise (setting the variable is sound: build scripts
        /// are single-threaded).
        fn main() -> Result<(), Box<dyn std::error::Error>> {
            if std::env::var_os("PROTOC").is_none() {
                unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
            }
            tonic_prost_build::configure()
                .compile_protos(&["proto/helloworld.proto"], &["proto"])?;
            Ok(())
        }
    "#]],
    );
    check(
        &input,
        "knit/protos/helloworld/Cargo.toml",
        expect![[r#"
        //- /knit/protos/helloworld/Cargo.toml
        # Proto package `helloworld`, shared by the services of the group. Generated by knit.
        [package]
        name = "knit-proto-helloworld"
        version = "0.1.0"
        edition = "2021"
        publish = false

        [dependencies]
        knit-runtime = { path = "../../runtime" }
        prost = "0.14"
        tonic = "0.14.2"
        tonic-prost = "0.14"

        [build-dependencies]
        protoc-bin-vendored = "3"
        tonic-prost-build = "0.14.2"
    "#]],
    );
}

#[test]
fn standalone_mains() {
    let main = |runtime: StandaloneRuntime| {
        standalone(&Standalone {
            service: "greeter",
            lib: "greeter_greeter",
            runtime: &runtime,
            lifted_from: "greeter/src/main.rs",
        })
        .unwrap()
    };
    let attr = StandaloneRuntime::Attr("#[tokio::main(flavor = \"current_thread\")]".into());
    expect![[r#"
        //! The standalone binary of service `greeter`: runs the entry knit lifted from
        //! `fn main` in greeter/src/main.rs, alone, with its own listener. Generated by knit.

        #[tokio::main(flavor = "current_thread")]
        async fn main() -> std::process::ExitCode {
            let host = knit_runtime::ServiceHost::standalone("greeter");
            knit_runtime::exit(greeter_greeter::knit_entry(host).await)
        }
    "#]]
    .assert_eq(&main(attr));
    let chain = "tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_stack_size(8388608).enable_all()";
    expect![[r#"
        //! The standalone binary of service `greeter`: runs the entry knit lifted from
        //! `fn main` in greeter/src/main.rs, alone, with its own listener. Generated by knit.

        fn main() -> std::process::ExitCode {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(8388608)
                .enable_all()
                .build()
                .expect("the service's tokio runtime");
            let host = knit_runtime::ServiceHost::standalone("greeter");
            knit_runtime::exit(runtime.block_on(greeter_greeter::knit_entry(host)))
        }
    "#]]
    .assert_eq(&main(StandaloneRuntime::Builder(chain.into())));
    expect![[r#"
        //! The standalone binary of service `greeter`: runs the entry knit lifted from
        //! `fn main` in greeter/src/main.rs, alone, with its own listener. Generated by knit.

        fn main() -> std::process::ExitCode {
            let host = knit_runtime::ServiceHost::standalone("greeter");
            knit_runtime::exit(knit_runtime::block_on(greeter_greeter::knit_entry(host)))
        }
    "#]]
    .assert_eq(&main(StandaloneRuntime::Knit));
    let error = standalone(&Standalone {
        service: "greeter",
        lib: "greeter_greeter",
        runtime: &StandaloneRuntime::Attr("#[tokio::main(\"]".into()),
        lifted_from: "greeter/src/main.rs",
    });
    assert!(error.is_err(), "{error:?}");
}
