//! Clients that keep their own channel (`Decision::Routed`): a transport of
//! their own around it, or a timeout an in-process client could not be given.
//! The client stays as written; where its channel is connected becomes
//! `knit_runtime::channel::connect(..)`, found through `let`s, wrappers and
//! functions of the service that return the channel.

use expect_test::{Expect, expect};

use crate::fixture::{check, with_frontend};
use crate::pass::PassId;

/// Checks `frontend`'s rewritten sources (not the files lifting adds) and the
/// call sites.
fn check_routed(main_rs: &str, files: &str, expect: Expect) {
    let mut out = check(PassId::Calls, &format!("{}{files}", with_frontend(main_rs)));
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

            #[tokio::main]
            async fn main() -> Result<(), Box<dyn std::error::Error>> {
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

            #[tokio::main]
            async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
            Call(Rpc) frontend/src/main.rs:7: calls to `helloworld.Greeter` stay RPC: `GreeterClient<Timeout<Channel>>` runs over `Timeout<Channel>`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:7 is connected: its channel is `channel`, a parameter of the function that makes the client, called nowhere knit finds
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

            #[tokio::main]
            async fn main() {}
            Call(Bridged) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10: `GreeterClient<Tracing<Channel>>` runs over `Tracing<Channel>`, a transport of the client's own
        "#]],
    );
}

/// `greeter` serving two services of one proto package.
const TWO_SERVICES: &str = r#"
//- /greeter/Cargo.toml
[package]
name = "greeter"
edition = "2021"
//- /greeter/proto/helloworld.proto
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
}
service Farewell {
  rpc SayBye (HelloRequest) returns (HelloReply);
}
//- /greeter/src/main.rs
use hello_world::greeter_server::GreeterServer;
use hello_world::farewell_server::FarewellServer;
use tonic::transport::Server;
pub mod hello_world {
    tonic::include_proto!("helloworld");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    Server::builder()
        .add_service(GreeterServer::new(MyGreeter))
        .add_service(FarewellServer::new(MyFarewell))
        .serve(addr)
        .await?;
    Ok(())
}
//- /frontend/Cargo.toml
[package]
name = "frontend"
edition = "2021"
//- /frontend/proto/helloworld.proto
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
}
service Farewell {
  rpc SayBye (HelloRequest) returns (HelloReply);
}
//- /frontend/src/main.rs
mod hello { tonic::include_proto!("helloworld"); }
mod pool;

#[tokio::main]
async fn main() {}
"#;

#[test]
fn clients_a_trait_factory_makes_over_a_balance_channel() {
    let pool = r#"//- /frontend/src/pool.rs
use tonic::transport::{Channel, Endpoint};
use tonic::transport::channel::Change;
use tower::ServiceBuilder;
use crate::hello::farewell_client::FarewellClient;
use crate::hello::greeter_client::GreeterClient as Greeter;
use crate::tracing::{Traced, TraceLayer};

pub trait FromChannel {
    fn from_channel(channel: Traced<Channel>) -> Self;
}

impl FromChannel for Greeter<Traced<Channel>> {
    fn from_channel(channel: Traced<Channel>) -> Self {
        Greeter::new(channel)
    }
}

impl FromChannel for FarewellClient<Traced<Channel>> {
    fn from_channel(channel: Traced<Channel>) -> Self {
        FarewellClient::new(channel)
    }
}

pub struct Pool<C> { clients: Vec<C>, per_node: usize }

impl<C> Pool<C>
where
    C: FromChannel + Clone,
{
    pub async fn add(&mut self, url: String) {
        let (channel, changes) = Channel::balance_channel::<String>(self.per_node);
        let channel = ServiceBuilder::new().layer(TraceLayer).service(channel);
        self.clients.push(C::from_channel(channel));
        let endpoint = Endpoint::from_shared(url.clone()).unwrap().timeout(self.timeout);
        changes.send(Change::Insert(url, endpoint)).await.unwrap();
    }
}

#[cfg(test)]
mod tests {
    fn client(channel: Traced<Channel>) -> super::Greeter<Traced<Channel>> {
        super::FromChannel::from_channel(channel)
    }
}
"#;
    let mut out = check(PassId::Calls, &format!("{TWO_SERVICES}{pool}"));
    out.files.retain(|(path, _)| path.ends_with("pool.rs"));
    expect![[r#"
        //- /frontend/src/pool.rs
        use tonic::transport::{Channel, Endpoint};
        use tonic::transport::channel::Change;
        use tower::ServiceBuilder;
        use crate::hello::farewell_client::FarewellClient;
        use crate::hello::greeter_client::GreeterClient as Greeter;
        use crate::tracing::{Traced, TraceLayer};

        pub trait FromChannel {
            fn from_channel(channel: Traced<Channel>) -> Self;
        }

        impl FromChannel for Greeter<Traced<Channel>> {
            fn from_channel(channel: Traced<Channel>) -> Self {
                Greeter::new(channel)
            }
        }

        impl FromChannel for FarewellClient<Traced<Channel>> {
            fn from_channel(channel: Traced<Channel>) -> Self {
                FarewellClient::new(channel)
            }
        }

        pub struct Pool<C> { clients: Vec<C>, per_node: usize }

        impl<C> Pool<C>
        where
            C: FromChannel + Clone,
        {
            pub async fn add(&mut self, url: String) {
                let (channel, changes) = knit_runtime::channel::balance_channel::<String>(self.per_node, &["helloworld.Farewell", "helloworld.Greeter"]);
                let channel = ServiceBuilder::new().layer(TraceLayer).service(channel);
                self.clients.push(C::from_channel(channel));
                let endpoint = Endpoint::from_shared(url.clone()).unwrap().timeout(self.timeout);
                changes.send(Change::Insert(url, endpoint)).await.unwrap();
            }
        }

        #[cfg(test)]
        mod tests {
            fn client(channel: Traced<Channel>) -> super::Greeter<Traced<Channel>> {
                super::FromChannel::from_channel(channel)
            }
        }
        Call(Bridged) frontend/src/pool.rs:14: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/pool.rs:31: `GreeterClient<Traced<Channel>>` runs over `Traced<Channel>`, a transport of the client's own
        Call(Bridged) frontend/src/pool.rs:20: calls to `helloworld.Farewell` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/pool.rs:31: `FarewellClient<Traced<Channel>>` runs over `Traced<Channel>`, a transport of the client's own
    "#]]
    .assert_eq(&out.render("frontend/src/"));
}

#[test]
fn a_factory_called_by_its_type_and_a_function_given_the_channel() {
    check_routed(
        r#"use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
use tower::timeout::Timeout;
mod hello { tonic::include_proto!("helloworld"); }

trait Make { fn make(channel: Channel) -> Self; }

impl Make for GreeterClient<Timeout<Channel>> {
    fn make(channel: Channel) -> Self {
        GreeterClient::new(Timeout::new(channel, std::time::Duration::from_secs(1)))
    }
}

fn client(channel: Channel) -> GreeterClient<Timeout<Channel>> {
    <GreeterClient<Timeout<Channel>> as Make>::make(channel)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoints = ["http://a", "http://b"].map(Endpoint::from_static);
    let first = client(Channel::balance_list(endpoints.clone().into_iter()));
    let second: GreeterClient<Timeout<Channel>> =
        Make::make(Endpoint::from_static("http://c").connect_lazy());
    Ok(())
}
"#,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use tonic::transport::{Channel, Endpoint};
            use hello::greeter_client::GreeterClient;
            use tower::timeout::Timeout;
            mod hello { tonic::include_proto!("helloworld"); }

            trait Make { fn make(channel: Channel) -> Self; }

            impl Make for GreeterClient<Timeout<Channel>> {
                fn make(channel: Channel) -> Self {
                    GreeterClient::new(Timeout::new(channel, std::time::Duration::from_secs(1)))
                }
            }

            fn client(channel: Channel) -> GreeterClient<Timeout<Channel>> {
                <GreeterClient<Timeout<Channel>> as Make>::make(channel)
            }

            #[tokio::main]
            async fn main() -> Result<(), Box<dyn std::error::Error>> {
                let endpoints = ["http://a", "http://b"].map(Endpoint::from_static);
                let first = client(knit_runtime::channel::balance_list(endpoints.clone().into_iter(), &["helloworld.Greeter"]));
                let second: GreeterClient<Timeout<Channel>> =
                    Make::make(knit_runtime::channel::connect_lazy(Endpoint::from_static("http://c"), &["helloworld.Greeter"]));
                Ok(())
            }
            Call(Bridged) frontend/src/main.rs:10: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:21, frontend/src/main.rs:23: `GreeterClient<Timeout<Channel>>` runs over `Timeout<Channel>`, a transport of the client's own
        "#]],
    );
}

#[test]
fn a_balance_channel_knit_cannot_follow_stays_rpc() {
    check_routed(
        r#"use tonic::transport::Channel;
use hello::greeter_client::GreeterClient;
use tower::timeout::Timeout;
mod hello { tonic::include_proto!("helloworld"); }

#[tokio::main]
async fn main() {
    let (changes, channel) = pair(Channel::balance_channel::<u8>(1));
    let client = GreeterClient::new(Timeout::new(channel, std::time::Duration::from_secs(1)));
}
"#,
        "",
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:9: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` is given its channel inside `Timeout::new(..)`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:9 is connected: its channel `channel` is bound in a tuple from `pair(Channel::balance_channel::<u8>(1))`, which knit does not follow
        "#]],
    );
}

#[test]
fn a_balance_channel_on_tonic_0_12_stays_rpc() {
    let main_rs = r#"use tonic::transport::Channel;
use hello::greeter_client::GreeterClient;
use tower::timeout::Timeout;
mod hello { tonic::include_proto!("helloworld"); }

#[tokio::main]
async fn main() {
    let (channel, changes) = Channel::balance_channel::<u8>(1);
    let client = GreeterClient::new(Timeout::new(channel, std::time::Duration::from_secs(1)));
}
"#;
    let fixture = with_frontend(main_rs).replace(
        "name = \"frontend\"\nedition = \"2021\"\n",
        "name = \"frontend\"\nedition = \"2021\"\n[dependencies]\ntonic = { version = \"0.12.3\", features = [\"tls\"] }\n",
    );
    expect!["Call(Rpc) frontend/src/main.rs:9: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` is given its channel inside `Timeout::new(..)`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:9 is connected: its channel is made by `Channel::balance_channel` on tonic 0.12, which knit routes on tonic 0.13 and later only"]
    .assert_eq(&check(PassId::Calls, &fixture).findings.join("\n"));
}

#[test]
fn a_channel_from_the_branches_of_an_if_and_a_match() {
    check_routed(
        r#"use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

pub struct Greeter(GreeterClient<Tracing<Channel>>);

async fn greeter(url: String, mode: u8) -> Result<Greeter, Box<dyn std::error::Error>> {
    let channel = if mode == 0 {
        let endpoint = Endpoint::from_shared(url)?;
        endpoint.connect_lazy()
    } else if mode == 1 {
        let endpoint = Endpoint::from_shared(url)?.user_agent("frontend")?;
        endpoint.connect().await.map_err(|e| format!("no greeter: {e}"))?
    } else {
        match mode {
            2 => spare().connect().await?,
            3 => return Err("no spare".into()),
            _ => Err(format!("mode {mode}"))?,
        }
    };
    Ok(Greeter(GreeterClient::new(Tracing::new(channel))))
}

fn spare() -> Endpoint {
    Endpoint::from_static("http://[::1]:50052")
}

#[tokio::main]
async fn main() {}
"#,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use tonic::transport::{Channel, Endpoint};
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }

            pub struct Greeter(GreeterClient<Tracing<Channel>>);

            async fn greeter(url: String, mode: u8) -> Result<Greeter, Box<dyn std::error::Error>> {
                let channel = if mode == 0 {
                    let endpoint = Endpoint::from_shared(url)?;
                    knit_runtime::channel::connect_lazy(endpoint, &["helloworld.Greeter"])
                } else if mode == 1 {
                    let endpoint = Endpoint::from_shared(url)?.user_agent("frontend")?;
                    knit_runtime::channel::connect(endpoint, &["helloworld.Greeter"]).await.map_err(|e| format!("no greeter: {e}"))?
                } else {
                    match mode {
                        2 => knit_runtime::channel::connect(spare(), &["helloworld.Greeter"]).await?,
                        3 => return Err("no spare".into()),
                        _ => Err(format!("mode {mode}"))?,
                    }
                };
                Ok(Greeter(GreeterClient::new(Tracing::new(channel))))
            }

            fn spare() -> Endpoint {
                Endpoint::from_static("http://[::1]:50052")
            }

            #[tokio::main]
            async fn main() {}
            Call(Bridged) frontend/src/main.rs:21: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10, frontend/src/main.rs:13, frontend/src/main.rs:16: `GreeterClient<Tracing<Channel>>` runs over `Tracing<Channel>`, a transport of the client's own
        "#]],
    );
}

#[test]
fn an_endpoint_passed_through_an_override_hook() {
    check_routed(
        r#"use std::sync::Arc;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Customize = Arc<dyn Fn(Endpoint) -> Result<Endpoint, Error> + Send + Sync>;

fn endpoint_for(url: String, timeout: Duration) -> Result<Endpoint, tonic::transport::Error> {
    Ok(Endpoint::from_shared(url)?.timeout(timeout))
}

async fn greeter(url: String, customize: Option<Customize>) -> Result<GreeterClient<Channel>, Error> {
    let mut endpoint = endpoint_for(url, Duration::from_secs(2)).map_err(|e| format!("bad url: {e}"))?;
    if let Some(ref customize) = customize {
        endpoint = customize(endpoint).map_err(|e| format!("customize: {e}"))?;
    }
    let channel = endpoint.connect().await?;
    Ok(GreeterClient::new(channel))
}

#[tokio::main]
async fn main() {}
"#,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use std::sync::Arc;
            use std::time::Duration;
            use tonic::transport::{Channel, Endpoint};
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }

            type Error = Box<dyn std::error::Error + Send + Sync>;
            pub type Customize = Arc<dyn Fn(Endpoint) -> Result<Endpoint, Error> + Send + Sync>;

            fn endpoint_for(url: String, timeout: Duration) -> Result<Endpoint, tonic::transport::Error> {
                Ok(Endpoint::from_shared(url)?.timeout(timeout))
            }

            async fn greeter(url: String, customize: Option<Customize>) -> Result<GreeterClient<Channel>, Error> {
                let mut endpoint = endpoint_for(url, Duration::from_secs(2)).map_err(|e| format!("bad url: {e}"))?;
                if let Some(ref customize) = customize {
                    endpoint = customize(endpoint).map_err(|e| format!("customize: {e}"))?;
                }
                let channel = knit_runtime::channel::connect(endpoint, &["helloworld.Greeter"]).await?;
                Ok(GreeterClient::new(channel))
            }

            #[tokio::main]
            async fn main() {}
            Call(Bridged) frontend/src/main.rs:20: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:19: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:11, which an in-process client would not keep
        "#]],
    );
}

/// The hook is a method of an object the endpoint is handed to.
#[test]
fn an_endpoint_passed_through_a_hook_method() {
    let main_rs = r#"use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

pub trait Configure { fn configure_endpoint(&self, e: Endpoint) -> Result<Endpoint, String>; }

async fn greeter(url: String, customize: Option<Box<dyn Configure>>) -> Result<GreeterClient<Channel>, Box<dyn std::error::Error>> {
    let mut endpoint = Endpoint::from_shared(url)?.timeout(Duration::from_secs(2));
    if let Some(ref customize) = customize {
        endpoint = customize.configure_endpoint(endpoint)?;
    }
    let channel = endpoint.connect().await?;
    Ok(GreeterClient::new(channel))
}

#[tokio::main]
async fn main() {}
"#;
    let findings = check(PassId::Calls, &with_frontend(main_rs)).findings;
    expect!["Call(Bridged) frontend/src/main.rs:14: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:13: `GreeterClient::new` is given a channel made elsewhere, and `frontend` sets a channel timeout at frontend/src/main.rs:9, which an in-process client would not keep"].assert_eq(&findings.join("\n"));
}

#[test]
fn a_branch_knit_cannot_follow_stays_rpc() {
    check_routed(
        r#"use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

pub struct Greeter(GreeterClient<Tracing<Channel>>);

async fn greeter(url: String, cached: Option<Channel>) -> Result<Greeter, Box<dyn std::error::Error>> {
    let channel = if cached.is_none() {
        Endpoint::from_shared(url)?.connect().await?
    } else {
        cached.unwrap()
    };
    Ok(Greeter(GreeterClient::new(Tracing::new(channel))))
}

#[tokio::main]
async fn main() {}
"#,
        "",
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:13: calls to `helloworld.Greeter` stay RPC: `GreeterClient<Tracing<Channel>>` runs over `Tracing<Channel>`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:13 is connected: its channel is `cached`, a parameter of the function that makes the client, called nowhere knit finds
        "#]],
    );
}

#[test]
fn an_endpoint_replaced_by_a_value_not_made_from_it_stays_rpc() {
    check_routed(
        r#"use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

pub struct Greeter(GreeterClient<Tracing<Channel>>);

async fn greeter(url: String, spare: Option<Endpoint>) -> Result<Greeter, Box<dyn std::error::Error>> {
    let mut endpoint = Endpoint::from_shared(url)?;
    if let Some(spare) = spare {
        endpoint = spare.tls_config(tls())?;
    }
    let channel = endpoint.connect().await?;
    Ok(Greeter(GreeterClient::new(Tracing::new(channel))))
}

#[tokio::main]
async fn main() {}
"#,
        "",
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:13: calls to `helloworld.Greeter` stay RPC: `GreeterClient<Tracing<Channel>>` runs over `Tracing<Channel>`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:13 is connected: its channel is connected at `endpoint.connect()`, on what knit cannot tell is a tonic `Endpoint` (or one with TLS, which is never routed)
        "#]],
    );
}

/// Channels a retry loop connects (waiting for the other service to start):
/// the values a `loop` breaks with, a variable assigned in a `while` loop and
/// taken out of its `Option` by a `match`, each followed to its `connect()`.
#[test]
fn channels_connected_in_retry_loops() {
    check_routed(
        r#"use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
use telemetry::Traced;
mod hello { tonic::include_proto!("helloworld"); }
mod telemetry;

async fn first(url: String) -> Result<GreeterClient<Traced<Channel>>, Box<dyn std::error::Error>> {
    let channel = loop {
        match Endpoint::from_shared(url.clone())?.timeout(Duration::from_secs(5)).connect().await {
            Ok(channel) => break channel,
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    Ok(GreeterClient::new(Traced::new(channel)))
}

fn make_endpoint(url: String) -> Result<Endpoint, tonic::transport::Error> {
    Endpoint::from_shared(url)
}

async fn second(url: String, hook: Option<fn(Endpoint) -> Result<Endpoint, String>>) -> Result<GreeterClient<Traced<Channel>>, Box<dyn std::error::Error>> {
    let mut connected = None;
    while connected.is_none() {
        match make_endpoint(url.clone()) {
            Ok(mut endpoint) => {
                if let Some(hook) = &hook {
                    match hook(endpoint) {
                        Ok(overridden) => endpoint = overridden,
                        Err(_) => continue,
                    }
                }
                match endpoint.connect().await {
                    Ok(connection) => connected = Some(connection),
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    let connection = match connected {
        Some(connection) => Ok(connection),
        None => Err("timed out"),
    }?;
    Ok(GreeterClient::new(Traced::new(connection)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    first(url()).await?;
    second(url(), None).await?;
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

            async fn first(url: String) -> Result<GreeterClient<Traced<Channel>>, Box<dyn std::error::Error>> {
                let channel = loop {
                    match knit_runtime::channel::connect(Endpoint::from_shared(url.clone())?.timeout(Duration::from_secs(5)), &["helloworld.Greeter"]).await {
                        Ok(channel) => break channel,
                        Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                    }
                };
                Ok(GreeterClient::new(Traced::new(channel)))
            }

            fn make_endpoint(url: String) -> Result<Endpoint, tonic::transport::Error> {
                Endpoint::from_shared(url)
            }

            async fn second(url: String, hook: Option<fn(Endpoint) -> Result<Endpoint, String>>) -> Result<GreeterClient<Traced<Channel>>, Box<dyn std::error::Error>> {
                let mut connected = None;
                while connected.is_none() {
                    match make_endpoint(url.clone()) {
                        Ok(mut endpoint) => {
                            if let Some(hook) = &hook {
                                match hook(endpoint) {
                                    Ok(overridden) => endpoint = overridden,
                                    Err(_) => continue,
                                }
                            }
                            match knit_runtime::channel::connect(endpoint, &["helloworld.Greeter"]).await {
                                Ok(connection) => connected = Some(connection),
                                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                            }
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                    }
                }
                let connection = match connected {
                    Some(connection) => Ok(connection),
                    None => Err("timed out"),
                }?;
                Ok(GreeterClient::new(Traced::new(connection)))
            }

            #[tokio::main]
            async fn main() -> Result<(), Box<dyn std::error::Error>> {
                first(url()).await?;
                second(url(), None).await?;
                Ok(())
            }
            Call(Bridged) frontend/src/main.rs:15: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10, frontend/src/main.rs:33: `GreeterClient<Traced<Channel>>` runs over `Traced<Channel>`, a transport of the client's own
            Call(Bridged) frontend/src/main.rs:45: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:10, frontend/src/main.rs:33: `GreeterClient<Traced<Channel>>` runs over `Traced<Channel>`, a transport of the client's own
        "#]],
    );
}

/// An endpoint held in a field of the caller's arguments (shuttle's deployer:
/// `args.logger_uri.connect()`, a clap `Args` field declared `Endpoint`):
/// the channel is routed, the endpoint cloned (`connect` borrows it). A field
/// of that name declared otherwise in another struct of the service
/// (`Arc<Endpoint>`, `String`) leaves it unknown.
#[test]
fn an_endpoint_in_a_field_of_the_arguments_is_routed() {
    let caller = |other: &str| {
        format!(
            r#"use tonic::transport::{{Channel, Endpoint}};
use hello::greeter_client::GreeterClient;
mod hello {{ tonic::include_proto!("helloworld"); }}

struct Args {{
    greeter_uri: Endpoint,
}}
{other}
#[tokio::main]
async fn main() {{
    let args = Args {{ greeter_uri: Endpoint::from_static("http://greeter:50051") }};
    let channel = args.greeter_uri.connect().await.unwrap();
    let _client = GreeterClient::new(Tracing::new(channel));
}}
"#
        )
    };
    check_routed(
        &caller(""),
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use tonic::transport::{Channel, Endpoint};
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }

            struct Args {
                greeter_uri: Endpoint,
            }

            #[tokio::main]
            async fn main() {
                let args = Args { greeter_uri: Endpoint::from_static("http://greeter:50051") };
                let channel = knit_runtime::channel::connect(args.greeter_uri.clone(), &["helloworld.Greeter"]).await.unwrap();
                let _client = GreeterClient::new(Tracing::new(channel));
            }
            Call(Bridged) frontend/src/main.rs:13: calls to `helloworld.Greeter` run in process through `greeter`'s server (encoded, no socket), on the caller's own channel, connected in process at frontend/src/main.rs:12: `GreeterClient::new` is given its channel inside `Tracing::new(..)`, a transport of the client's own
        "#]],
    );
    check_routed(
        &caller("struct Spare { greeter_uri: std::sync::Arc<Endpoint> }\n"),
        "",
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:14: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` is given its channel inside `Tracing::new(..)`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:14 is connected: its channel is connected at `args.greeter_uri.connect()`, on what knit cannot tell is a tonic `Endpoint` (or one with TLS, which is never routed)
        "#]],
    );
    check_routed(
        &caller("struct Config { greeter_uri: String }\n"),
        "",
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:14: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` is given its channel inside `Tracing::new(..)`, a transport of the client's own, and knit cannot tell where the channel of the client made at frontend/src/main.rs:14 is connected: its channel is connected at `args.greeter_uri.connect()`, on what knit cannot tell is a tonic `Endpoint` (or one with TLS, which is never routed)
        "#]],
    );
}
