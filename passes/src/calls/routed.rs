//! Clients that keep their own channel (`Decision::Routed`): a transport of
//! their own around it, or a timeout an in-process client could not be given.
//! The client stays as written; where its channel is connected becomes
//! `knit_runtime::channel::connect(..)`, found through `let`s, wrappers and
//! functions of the service that return the channel.

use expect_test::{Expect, expect};

use crate::fixture::{check, with_frontend};

/// Checks `frontend`'s rewritten sources (not the files lifting adds) and the
/// call sites.
fn check_routed(main_rs: &str, files: &str, expect: Expect) {
    let mut out = check(&format!("{}{files}", with_frontend(main_rs)));
    out.files.retain(|(path, _)| !path.ends_with("(new)"));
    expect.assert_eq(&out.render("frontend/src/"));
}

#[test]
fn a_client_over_a_transport_of_its_own() {
    check_routed(
        r#"use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
use telemetry::Traced;
mod hello { tonic::include_proto!("helloworld"); }
mod telemetry;

struct Clients { greeter: GreeterClient<Traced<Channel>> }

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = Endpoint::from_shared(url())?.timeout(Duration::from_millis(timeout_ms()));
    let channel = endpoint.connect().await?;
    let greeter = GreeterClient::new(Traced::new(channel));
    Ok(())
}
"#,
        "//- /frontend/src/telemetry.rs\npub struct Traced<S> { inner: S }\nimpl<S> Traced<S> { pub fn new(inner: S) -> Self { Traced { inner } } }\n",
        expect![[r#"
            //- /frontend/src/main.rs
            use std::time::Duration;
            use tonic::transport::{Channel, Endpoint};
            use hello::greeter_client::GreeterClient;
            use telemetry::Traced;
            mod hello { tonic::include_proto!("helloworld"); }
            mod telemetry;

            struct Clients { greeter: GreeterClient<Traced<Channel>> }

            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let endpoint = Endpoint::from_shared(url())?.timeout(Duration::from_millis(timeout_ms()));
                let channel = knit_runtime::channel::connect(endpoint, &["helloworld.Greeter"]).await?;
                let greeter = GreeterClient::new(Traced::new(channel));
                Ok(())
            }
            Call(Bridged) frontend/src/main.rs:14: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:13: `GreeterClient<Traced<Channel>>` runs over `Traced<Channel>`, a transport of the client's own
        "#]],
    );
}

#[test]
fn a_channel_made_by_a_function_of_another_module_and_a_lazy_one() {
    check_routed(
        r#"use std::time::Duration;
use tonic::transport::Endpoint;
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
mod net;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dialled = GreeterClient::new(net::dial(&url(), settings().timeout).await?);
    let lazy = Endpoint::from_shared(url())?.timeout(settings().timeout).connect_lazy();
    let later = GreeterClient::new(lazy);
    let direct = GreeterClient::connect(Endpoint::from_shared(url())?.timeout(settings().timeout)).await?;
    Ok(())
}
"#,
        r#"//- /frontend/src/net.rs
use std::time::Duration;
use tonic::transport::{Channel, Endpoint, Error};

/// Every channel of the service, with its timeout.
pub async fn dial(url: &str, timeout: Duration) -> Result<Channel, Error> {
    let mut endpoint: Endpoint = url.parse().expect("a URL");
    endpoint = endpoint.timeout(timeout);
    if url.is_empty() {
        return Err(todo!());
    }
    Ok(endpoint.connect().await?)
}
"#,
        expect![[r#"
            //- /frontend/src/main.rs
            use std::time::Duration;
            use tonic::transport::Endpoint;
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }
            mod net;

            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                let dialled = GreeterClient::new(net::dial(&url(), settings().timeout).await?);
                let lazy = knit_runtime::channel::connect_lazy(Endpoint::from_shared(url())?.timeout(settings().timeout), &["helloworld.Greeter"]);
                let later = GreeterClient::new(lazy);
                let direct = knit_runtime::channel::client(Endpoint::from_shared(url())?.timeout(settings().timeout), &["helloworld.Greeter"], GreeterClient::new).await?;
                Ok(())
            }
            //- /frontend/src/net.rs
            use std::time::Duration;
            use tonic::transport::{Channel, Endpoint, Error};

            /// Every channel of the service, with its timeout.
            pub async fn dial(url: &str, timeout: Duration) -> Result<Channel, Error> {
                let mut endpoint: Endpoint = url.parse().expect("a URL");
                endpoint = endpoint.timeout(timeout);
                if url.is_empty() {
                    return Err(todo!());
                }
                Ok(knit_runtime::channel::connect(endpoint, &["helloworld.Greeter"]).await?)
            }
            Call(Bridged) frontend/src/main.rs:9: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10, frontend/src/main.rs:12, frontend/src/net.rs:11: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:10, which an in-process client would not keep
            Call(Bridged) frontend/src/main.rs:11: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10, frontend/src/main.rs:12, frontend/src/net.rs:11: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:10, which an in-process client would not keep
            Call(Bridged) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10, frontend/src/main.rs:12, frontend/src/net.rs:11: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:10, which an in-process client would not keep
        "#]],
    );
}

#[test]
fn a_channel_given_as_a_parameter_stays_rpc() {
    check_routed(
        r#"use tonic::transport::Channel;
use hello::greeter_client::GreeterClient;
use tower::timeout::Timeout;
mod hello { tonic::include_proto!("helloworld"); }

fn client(channel: Channel) -> GreeterClient<Timeout<Channel>> {
    GreeterClient::new(Timeout::new(channel, std::time::Duration::from_secs(1)))
}

#[tokio::main]
async fn main() {}
"#,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use tonic::transport::Channel;
            use hello::greeter_client::GreeterClient;
            use tower::timeout::Timeout;
            mod hello { tonic::include_proto!("helloworld"); }

            fn client(channel: Channel) -> GreeterClient<Timeout<Channel>> {
                GreeterClient::new(Timeout::new(channel, std::time::Duration::from_secs(1)))
            }

            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {}
            Call(Rpc) frontend/src/main.rs:7: calls to `helloworld.Greeter` stay RPC: `GreeterClient<Timeout<Channel>>` runs over `Timeout<Channel>`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:7 is connected: its channel is `channel`, a parameter of the function that makes the client
        "#]],
    );
}

#[test]
fn a_client_built_in_shadowing_lets() {
    check_routed(
        r#"use std::str::FromStr;
use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

pub struct Greeter(GreeterClient<Tracing<Channel>>);

async fn greeter(host: &str) -> Result<Greeter, Box<dyn std::error::Error>> {
    let endpoint = Endpoint::from_str(&format!("http://{host}:50051"))?;
    let channel = endpoint.connect().await?;
    let client = Tracing::new(channel);
    let client = GreeterClient::new(client);
    Ok(Greeter(client))
}

#[tokio::main]
async fn main() {}
"#,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use std::str::FromStr;
            use tonic::transport::{Channel, Endpoint};
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }

            pub struct Greeter(GreeterClient<Tracing<Channel>>);

            async fn greeter(host: &str) -> Result<Greeter, Box<dyn std::error::Error>> {
                let endpoint = Endpoint::from_str(&format!("http://{host}:50051"))?;
                let channel = knit_runtime::channel::connect(endpoint, &["helloworld.Greeter"]).await?;
                let client = Tracing::new(channel);
                let client = GreeterClient::new(client);
                Ok(Greeter(client))
            }

            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {}
            Call(Bridged) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10: `GreeterClient<Tracing<Channel>>` runs over `Tracing<Channel>`, a transport of the client's own
        "#]],
    );
}
