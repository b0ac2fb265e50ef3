//! The in-process module of one gRPC service (`greeter_inline`), written into
//! its proto crate: what a provider registers, and a client with the API of
//! tonic's that calls the handler in process when the binary hosts it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::names::{inline_module, snake_case, upper_camel};
use crate::rust::{doc, ident, runtime};
use crate::{ProtoMethod, ProtoService};

/// The Rust type prost generates for message `fq` (`.pkg.Outer.Inner`), seen
/// from a module at the package's root.
pub fn message_type(package: &str, fq: &str) -> TokenStream {
    if fq == ".google.protobuf.Empty" {
        return quote!(());
    }
    let local = fq.strip_prefix(&format!(".{package}.")).unwrap_or(fq);
    let parts: Vec<&str> = local.split('.').filter(|p| !p.is_empty()).collect();
    let Some((last, parents)) = parts.split_last() else {
        return quote!(());
    };
    let parents = parents.iter().map(|p| ident(&snake_case(p)));
    let last = ident(&upper_camel(last));
    quote!(super:: #(#parents::)* #last)
}

fn streams(m: &ProtoMethod) -> bool {
    m.client_streaming || m.server_streaming
}

/// The module of gRPC service `service` of proto package `package`, served by
/// service `provider` of the group.
pub fn module(package: &str, service: &ProtoService, provider: &str) -> TokenStream {
    let rt = runtime();
    let full = service.full_name(package);
    let snake = snake_case(&service.name);
    let module = ident(&inline_module(&service.name));
    let client_module = ident(&format!("{snake}_client"));
    let server_module = ident(&format!("{snake}_server"));
    let name = upper_camel(&service.name);
    let trait_name = ident(&name);
    let client = format_ident!("{}Client", trait_name);
    let server = format_ident!("{}Server", trait_name);
    // A handler trait with streaming methods has associated types, so no trait
    // object: the provider registers its methods boxed (`Served`).
    let served = service.methods.iter().any(streams);
    let methods = service.methods.iter().map(|m| {
        let method = ident(&snake_case(&m.name));
        if !served {
            unary_method(package, m, quote!(service.handler.#method(request)))
        } else if streams(m) {
            streaming_method(package, m)
        } else {
            unary_method(package, m, quote!(service.handler.unary_.#method(request)))
        }
    });
    let (target, provide, provide_intercepted, served_items) = if served {
        (
            quote!(Served),
            quote!(host.provide(SERVICE, Arc::new(Served::new(&handler)))),
            quote!(host.provide_intercepted(
                SERVICE,
                Arc::new(Served::new(&handler)),
                Some(interceptor.clone())
            )),
            served_table(package, service),
        )
    } else {
        (
            quote!(dyn Handler),
            quote!(host.provide::<dyn Handler>(SERVICE, handler.clone())),
            quote!(host.provide_intercepted::<dyn Handler>(
                SERVICE,
                handler.clone(),
                Some(interceptor.clone())
            )),
            TokenStream::new(),
        )
    };
    let module_doc = doc(&format!(
        "In-process access to `{full}`, served by service `{provider}` of the group."
    ));
    let with_interceptor_doc = doc(&format!(
        "`{name}Server::with_interceptor`: in-process calls pass through `interceptor`"
    ));
    let client_doc = [
        doc(&format!(
            "A client of `{full}` with the API of tonic's `{name}Client`: it calls the"
        )),
        doc("handler in process when a service of this binary provides it, the network"),
        doc("otherwise (a service's own binary, run alone)."),
    ];
    quote! {
        #[doc = #module_doc]
        pub mod #module {
            use std::sync::Arc;

            use #rt::call::{self, SharedInterceptor};
            use tonic::service::Interceptor;
            use tonic::transport::Channel;

            use super::#client_module::#client as NetworkClient;
            use super::#server_module::{#trait_name as Handler, #server};

            /// The gRPC service name.
            pub const SERVICE: &str = #full;

            /// Registers `handler` for in-process calls; the listener serves the same handler.
            pub fn provide<T: Handler>(host: &#rt::ServiceHost, handler: T) -> Arc<T> {
                let handler = Arc::new(handler);
                #provide;
                handler
            }

            #[doc = #with_interceptor_doc]
            /// as the listener's do.
            pub fn with_interceptor<T, F>(
                host: &#rt::ServiceHost,
                handler: T,
                interceptor: F,
            ) -> tonic::service::interceptor::InterceptedService<#server<T>, SharedInterceptor>
            where
                T: Handler,
                F: Interceptor + Send + 'static,
            {
                let handler = Arc::new(handler);
                let interceptor = SharedInterceptor::new(interceptor);
                #provide_intercepted;
                tonic::service::interceptor::InterceptedService::new(#server::from_arc(handler), interceptor)
            }

            #served_items

            #(#[doc = #client_doc])*
            #[derive(Clone, Debug)]
            pub struct #client {
                route: Route,
                interceptor: Option<SharedInterceptor>,
                /// The timeout of the channel the client was made with, in process.
                timeout: Option<std::time::Duration>,
            }

            #[derive(Clone, Debug)]
            enum Route {
                InProcess(#rt::registry::Target<#target>),
                /// Boxed: a client in process stays small to clone and to move.
                Network(Box<NetworkClient<Channel>>),
            }

            impl #client {
                fn route(network: impl FnOnce() -> NetworkClient<Channel>) -> Route {
                    if #rt::registry::is_hosted(SERVICE) {
                        Route::InProcess(#rt::registry::Target::new(SERVICE))
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
                    let route = if #rt::registry::is_hosted(SERVICE) {
                        Route::InProcess(#rt::registry::Target::new(SERVICE))
                    } else {
                        Route::Network(Box::new(NetworkClient::connect(dst).await?))
                    };
                    Ok(Self { route, interceptor: None, timeout: None })
                }

                /// Like tonic's `new`; in process, the channel is not used.
                pub fn new(channel: Channel) -> Self {
                    Self { route: Self::route(|| NetworkClient::new(channel)), interceptor: None, timeout: None }
                }

                /// Like tonic's `with_origin`; in process, the channel is not used.
                pub fn with_origin(channel: Channel, origin: tonic::codegen::http::Uri) -> Self {
                    Self { route: Self::route(|| NetworkClient::with_origin(channel, origin)), interceptor: None, timeout: None }
                }

                /// Like tonic's `with_interceptor`: `interceptor` runs on every call, in
                /// process too.
                pub fn with_interceptor<F>(channel: Channel, interceptor: F) -> Self
                where
                    F: Interceptor + Send + 'static,
                {
                    let route = Self::route(|| NetworkClient::new(channel));
                    Self { route, interceptor: Some(SharedInterceptor::new(interceptor)), timeout: None }
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
                pub fn send_compressed(mut self, encoding: tonic::codec::CompressionEncoding) -> Self {
                    self.route = self.map_network(|c| c.send_compressed(encoding));
                    self
                }

                /// Applies to calls over the network; in process nothing is compressed.
                pub fn accept_compressed(mut self, encoding: tonic::codec::CompressionEncoding) -> Self {
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

                fn map_network(&self, f: impl FnOnce(NetworkClient<Channel>) -> NetworkClient<Channel>) -> Route {
                    match &self.route {
                        Route::InProcess(target) => Route::InProcess(target.clone()),
                        Route::Network(client) => Route::Network(Box::new(f((**client).clone()))),
                    }
                }

                #(#methods)*
            }
        }
    }
}

/// One unary method of the in-process client: `call` calls the handler's
/// method on `request` (on the trait object, or on the served service's table
/// of unary methods).
fn unary_method(package: &str, m: &ProtoMethod, call: TokenStream) -> TokenStream {
    let method = ident(&snake_case(&m.name));
    let input = message_type(package, &m.input);
    let output = message_type(package, &m.output);
    let head = doc(&format!(
        "`{}`: in process, the request (metadata and extensions too) passes",
        m.name
    ));
    quote! {
        #[doc = #head]
        /// the client's and the server's interceptors and reaches the handler as it
        /// is; the caller's deadline holds and a panic becomes an error status.
        pub async fn #method(
            &mut self,
            request: impl tonic::IntoRequest<#input>,
        ) -> Result<tonic::Response<#output>, tonic::Status> {
            // Over the network, boxed: tonic's future is large, and an in-process
            // call would otherwise carry (and move) room for it.
            let target = match &mut self.route {
                Route::Network(client) => {
                    let request = call::intercept(request.into_request(), self.interceptor.as_ref())?;
                    return Box::pin(client.#method(request)).await;
                }
                Route::InProcess(target) => target,
            };
            // The first call waits for the provider, which counts against the
            // channel's timeout as connecting does over the network, then calls
            // again with what is left of it (boxed: later calls do not carry
            // that future).
            let Some(service) = target.cached() else {
                let mut client = self.clone();
                return Box::pin(async move {
                    if let Route::InProcess(target) = &client.route {
                        client.timeout = target.get(client.timeout).await?.1;
                    }
                    client.#method(request).await
                })
                .await;
            };
            // Made after the only wait, so this future does not keep the request.
            let mut request = request.into_request();
            if self.interceptor.is_some() {
                request = call::intercept(request, self.interceptor.as_ref())?;
            }
            if service.interceptor.is_some() {
                request = call::intercept_as_server(request, service.interceptor.as_ref())?;
            }
            call::unary(request, self.timeout, |request| #call).await
        }
    }
}

/// One streaming method of the in-process client: the handler's method is
/// called with the caller's request, and messages are handed over as values.
fn streaming_method(package: &str, m: &ProtoMethod) -> TokenStream {
    let rt = runtime();
    let method = ident(&snake_case(&m.name));
    let input = message_type(package, &m.input);
    let mut output = message_type(package, &m.output);
    let (into, into_fn) = match m.client_streaming {
        true => (
            quote!(tonic::IntoStreamingRequest<Message = #input>),
            quote!(into_streaming_request),
        ),
        false => (quote!(tonic::IntoRequest<#input>), quote!(into_request)),
    };
    if m.server_streaming {
        output = quote!(tonic::codec::Streaming<#output>);
    }
    let request = match m.client_streaming {
        true => quote!(#rt::stream::requests(request)),
        false => quote!(request),
    };
    let call = match m.server_streaming {
        true => quote! {
            #rt::stream::responses(#request, timeout, |request| (service.handler.#method)(request)).await
        },
        false => quote! {
            call::unary(request, timeout, |request| (service.handler.#method)(#request)).await
        },
    };
    let head = doc(&format!(
        "`{}`: in process, the request (metadata and extensions too) passes",
        m.name
    ));
    quote! {
        #[doc = #head]
        /// the client's and the server's interceptors and reaches the handler; each
        /// message is handed over as it is, never encoded. The caller's deadline
        /// bounds the handler's future, a panic becomes an error status, and
        /// streams end as over the network (`knit_runtime::stream`).
        pub async fn #method(
            &mut self,
            request: impl #into,
        ) -> Result<tonic::Response<#output>, tonic::Status> {
            match &mut self.route {
                Route::Network(client) => {
                    let request = call::intercept(request.#into_fn(), self.interceptor.as_ref())?;
                    client.#method(request).await
                }
                Route::InProcess(target) => {
                    // The wait for the provider (the first call) counts against the
                    // channel's timeout, as connecting does over the network, and
                    // comes before the client's interceptor, as there.
                    let (service, timeout) = target.get(self.timeout).await?;
                    let request = call::intercept(request.#into_fn(), self.interceptor.as_ref())?;
                    let request = call::intercept_as_server(request, service.interceptor.as_ref())?;
                    #call
                }
            }
        }
    }
}

/// What a provider of a service with streaming methods registers: each method
/// of its handler, boxed (the handler trait has associated stream types, so
/// there is no trait object to call them on).
fn served_table(package: &str, service: &ProtoService) -> TokenStream {
    let unary: Vec<&ProtoMethod> = service.methods.iter().filter(|m| !streams(m)).collect();
    let streaming: Vec<&ProtoMethod> = service.methods.iter().filter(|m| streams(m)).collect();
    let unary_methods = unary_methods(package, &unary);
    let field_names: Vec<_> = streaming
        .iter()
        .map(|m| ident(&snake_case(&m.name)))
        .collect();
    let field_types = streaming.iter().map(|m| {
        let mut input = message_type(package, &m.input);
        if m.client_streaming {
            input = quote!(tonic::Streaming<#input>);
        }
        let mut output = message_type(package, &m.output);
        if m.server_streaming {
            output = quote!(ResponseStream<#output>);
        }
        quote!(Method<#input, #output>)
    });
    let calls = streaming.iter().zip(&field_names).map(|(m, name)| {
        if m.server_streaming {
            let output = message_type(package, &m.output);
            quote!(Ok(h.#name(r).await?.map(|s| Box::pin(s) as ResponseStream<#output>)))
        } else {
            quote!(h.#name(r).await)
        }
    });
    // `unary_`: no method of a proto service has that name in snake case.
    let (unary_field, unary_init) = match unary.is_empty() {
        true => (TokenStream::new(), TokenStream::new()),
        false => (
            quote!(unary_: Arc<dyn UnaryMethods>,),
            quote!(unary_: handler.clone(),),
        ),
    };
    quote! {
        /// A method of the handler, callable in process: `O` is the response, or,
        /// for a server-streaming or bidirectional method, a `ResponseStream<O>`.
        type Method<I, O> = Box<
            dyn Fn(tonic::Request<I>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<tonic::Response<O>, tonic::Status>> + Send>>
                + Send
                + Sync,
        >;

        /// The stream of a server-streaming or bidirectional method, boxed.
        type ResponseStream<O> = tonic::codegen::BoxStream<O>;

        /// `handler`'s method `call` as a [`Method`].
        fn method<T: Handler, I: 'static, O: 'static>(
            handler: &Arc<T>,
            call: fn(Arc<T>, tonic::Request<I>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<tonic::Response<O>, tonic::Status>> + Send>>,
        ) -> Method<I, O> {
            let handler = handler.clone();
            Box::new(move |request| call(handler.clone(), request))
        }

        #unary_methods

        /// What the provider registers: its handler's methods.
        pub struct Served {
            #(#field_names: #field_types,)*
            #unary_field
        }

        impl Served {
            fn new<T: Handler>(handler: &Arc<T>) -> Self {
                Self {
                    #(#field_names: method(handler, |h, r| Box::pin(async move { #calls })),)*
                    #unary_init
                }
            }
        }
    }
}

/// The unary methods of a handler with streaming ones, on a trait object: each
/// returns the handler's own boxed future, with no box or closure of knit's.
fn unary_methods(package: &str, unary: &[&ProtoMethod]) -> TokenStream {
    if unary.is_empty() {
        return TokenStream::new();
    }
    let signatures: Vec<TokenStream> = unary
        .iter()
        .map(|m| {
            let name = ident(&snake_case(&m.name));
            let input = message_type(package, &m.input);
            let output = message_type(package, &m.output);
            quote! {
                fn #name(&self, request: tonic::Request<#input>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<tonic::Response<#output>, tonic::Status>> + Send + '_>>
            }
        })
        .collect();
    let names = unary.iter().map(|m| ident(&snake_case(&m.name)));
    quote! {
        /// The handler's unary methods, callable on a trait object (the handler
        /// trait, with its stream types, cannot be one).
        trait UnaryMethods: Send + Sync + 'static {
            #(#signatures;)*
        }

        impl<T: Handler> UnaryMethods for T {
            #(#signatures {
                Handler::#names(self, request)
            })*
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_follow_prost() {
        let text = |package, fq| message_type(package, fq).to_string();
        assert_eq!(
            text("helloworld", ".helloworld.HelloRequest"),
            "super :: HelloRequest"
        );
        assert_eq!(
            text("shop.v1", ".shop.v1.Cart.Item"),
            "super :: cart :: Item"
        );
        assert_eq!(text("a", ".a.HTTPRequest"), "super :: HttpRequest");
        assert_eq!(text("a", ".google.protobuf.Empty"), "()");
    }
}
