//! The client shapes real callers write, each as input → expected output: how
//! the client is named, where it is kept, how its channel is built.

use expect_test::{Expect, expect};

use crate::fixture::{check, with_frontend};
use crate::pass::PassId;

/// The fixture of a shape: `GREETER` and a `frontend` whose `src/main.rs` is
/// `main_rs`, its other files `files` (`//- /..` fixtures).
fn shape_fixture(main_rs: &str, files: &str) -> String {
    format!("{}{files}", with_frontend(main_rs))
}

/// Checks the rewritten sources of `frontend` (not the new files that lifting
/// `main` adds) and the findings.
fn check_shape(main_rs: &str, files: &str, expect: Expect) {
    let mut out = check(PassId::Calls, &shape_fixture(main_rs, files));
    out.files.retain(|(path, _)| !path.ends_with("(new)"));
    expect.assert_eq(&out.render("frontend/src/"));
}

/// Every shape: (test name, `frontend`'s `src/main.rs`, its other files).
const SHAPES: [(&str, &str, &str); 11] = [
    (
        "client_in_a_static_and_from_a_helper",
        STATIC_AND_HELPER,
        "",
    ),
    (
        "client_in_option_arc_mutex_and_type_alias",
        OPTION_ARC_MUTEX_AND_ALIAS,
        "",
    ),
    (
        "reexports_globs_and_nested_modules",
        REEXPORTS_GLOBS_AND_NESTED,
        REEXPORTS_GLOBS_AND_NESTED_FILES,
    ),
    ("imports_inside_functions", IMPORTS_INSIDE_FUNCTIONS, ""),
    (
        "client_built_in_the_library_used_by_the_binary",
        LIBRARY_USED_BY_THE_BINARY,
        LIBRARY_USED_BY_THE_BINARY_FILES,
    ),
    (
        "channels_endpoints_interceptors_and_builders",
        CHANNELS_AND_BUILDERS,
        "",
    ),
    (
        "generated_code_checked_into_the_sources",
        CHECKED_IN_GENERATED_CODE,
        CHECKED_IN_GENERATED_CODE_FILES,
    ),
    ("clients_built_in_macro_arguments", MACRO_ARGUMENTS, ""),
    (
        "renamed_reexport_used_where_the_generated_name_is_not_written",
        RENAMED_REEXPORT,
        RENAMED_REEXPORT_FILES,
    ),
    ("local_names_given_in_blocks", LOCAL_NAMES_IN_BLOCKS, ""),
    ("constructors_through_a_type_alias", TYPE_ALIAS, ""),
];

/// rust-analyzer resolves every client and server name of every shape as knit does.
#[test]
fn oracle_agrees_on_every_shape() {
    let cases = SHAPES.map(|(name, main_rs, files)| (name, shape_fixture(main_rs, files)));
    crate::names::oracle::assert_agrees(cases);
}

const STATIC_AND_HELPER: &str = r#"use std::sync::OnceLock;
use tonic::transport::Channel;
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

static GREETER: OnceLock<GreeterClient<Channel>> = OnceLock::new();

/// Dials the greeter.
async fn make_client(url: String) -> Result<GreeterClient<Channel>, tonic::transport::Error> {
    GreeterClient::connect(url).await
}

#[tokio::main]
async fn main() {
    let client = make_client("http://greeter:50051".into()).await.unwrap();
    GREETER.set(client).unwrap();
    let mut per_request = GREETER.get().unwrap().clone();
    per_request.say_hello(HelloRequest::default()).await.unwrap();
}
"#;

#[test]
fn client_in_a_static_and_from_a_helper() {
    check_shape(
        STATIC_AND_HELPER,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use std::sync::OnceLock;
            mod hello { pub use knit_proto_helloworld::*; }

            static GREETER: OnceLock<knit_proto_helloworld::greeter_inline::GreeterClient> = OnceLock::new();

            /// Dials the greeter.
            async fn make_client(url: String) -> Result<knit_proto_helloworld::greeter_inline::GreeterClient, tonic::transport::Error> {
                knit_proto_helloworld::greeter_inline::GreeterClient::connect(url).await
            }

            #[tokio::main]
            async fn main() {
                let client = make_client("http://greeter:50051".into()).await.unwrap();
                GREETER.set(client).unwrap();
                let mut per_request = GREETER.get().unwrap().clone();
                per_request.say_hello(HelloRequest::default()).await.unwrap();
            }
            Call(Inline) frontend/src/main.rs:10: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const OPTION_ARC_MUTEX_AND_ALIAS: &str = r#"use std::sync::Arc;
use tokio::sync::Mutex;
use tonic::transport::Channel;
use hello::greeter_client::GreeterClient as Greeter;
mod hello { tonic::include_proto!("helloworld"); }

type Shared = Arc<Mutex<Greeter<Channel>>>;

struct State {
    maybe: Option<Greeter<Channel>>,
    shared: Shared,
}

#[tokio::main]
async fn main() {
    let client = Greeter::connect("http://greeter:50051").await.unwrap();
    let state = State { maybe: Some(client.clone()), shared: Arc::new(Mutex::new(client)) };
    state.shared.lock().await.say_hello(HelloRequest::default()).await.unwrap();
}
"#;

#[test]
fn client_in_option_arc_mutex_and_type_alias() {
    check_shape(
        OPTION_ARC_MUTEX_AND_ALIAS,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use std::sync::Arc;
            use tokio::sync::Mutex;
            mod hello { pub use knit_proto_helloworld::*; }

            type Shared = Arc<Mutex<knit_proto_helloworld::greeter_inline::GreeterClient>>;

            struct State {
                maybe: Option<knit_proto_helloworld::greeter_inline::GreeterClient>,
                shared: Shared,
            }

            #[tokio::main]
            async fn main() {
                let client = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await.unwrap();
                let state = State { maybe: Some(client.clone()), shared: Arc::new(Mutex::new(client)) };
                state.shared.lock().await.say_hello(HelloRequest::default()).await.unwrap();
            }
            Call(Inline) frontend/src/main.rs:16: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const REEXPORTS_GLOBS_AND_NESTED: &str = r#"mod clients;
use clients::*;
pub mod pb {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/helloworld.rs"));
    }
}

#[tokio::main]
async fn main() {
    let a = GreeterClient::connect("http://greeter:50051").await.unwrap();
    let b = crate::pb::v1::greeter_client::GreeterClient::connect("http://greeter:50051").await;
}
"#;
const REEXPORTS_GLOBS_AND_NESTED_FILES: &str =
    "//- /frontend/src/clients.rs\npub use crate::pb::v1::greeter_client::GreeterClient;\n";

#[test]
fn reexports_globs_and_nested_modules() {
    check_shape(
        REEXPORTS_GLOBS_AND_NESTED,
        REEXPORTS_GLOBS_AND_NESTED_FILES,
        expect![[r#"
            //- /frontend/src/main.rs
            mod clients;
            use clients::*;
            pub mod pb {
                pub mod v1 {
                    pub use knit_proto_helloworld::*;
                }
            }

            #[tokio::main]
            async fn main() {
                let a = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await.unwrap();
                let b = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await;
            }
            Call(Inline) frontend/src/main.rs:11: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const IMPORTS_INSIDE_FUNCTIONS: &str = r#"mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    use hello::greeter_client::GreeterClient;
    GreeterClient::connect("http://a").await;
}
"#;

#[test]
fn imports_inside_functions() {
    check_shape(
        IMPORTS_INSIDE_FUNCTIONS,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }
            #[tokio::main]
            async fn main() {
                knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await;
            }
            Call(Inline) frontend/src/main.rs:5: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const LIBRARY_USED_BY_THE_BINARY: &str = r#"use frontend::pb::greeter_client::GreeterClient;
#[tokio::main]
async fn main() {
    let client: GreeterClient<tonic::transport::Channel> = frontend::dial().await;
}
"#;
const LIBRARY_USED_BY_THE_BINARY_FILES: &str = r#"//- /frontend/src/lib.rs
pub mod pb { tonic::include_proto!("helloworld"); }
pub async fn dial() -> pb::greeter_client::GreeterClient<tonic::transport::Channel> {
    pb::greeter_client::GreeterClient::connect("http://greeter:50051").await.unwrap()
}
"#;

#[test]
fn client_built_in_the_library_used_by_the_binary() {
    check_shape(
        LIBRARY_USED_BY_THE_BINARY,
        LIBRARY_USED_BY_THE_BINARY_FILES,
        expect![[r#"
            //- /frontend/src/lib.rs
            pub mod pb { pub use knit_proto_helloworld::*; }
            pub async fn dial() -> knit_proto_helloworld::greeter_inline::GreeterClient {
                knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await.unwrap()
            }
            //- /frontend/src/main.rs
            #[tokio::main]
            async fn main() {
                let client: knit_proto_helloworld::greeter_inline::GreeterClient = frontend::dial().await;
            }
            Call(Inline) frontend/src/lib.rs:3: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const CHANNELS_AND_BUILDERS: &str = r#"use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }

fn add_token(mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    req.metadata_mut().insert("authorization", "Bearer t".parse().unwrap());
    Ok(req)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let channel = Endpoint::from_static("http://greeter:50051")
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_millis(500))
        .tcp_nodelay(true)
        .connect_lazy();
    let plain = GreeterClient::new(channel.clone())
        .max_decoding_message_size(1 << 20)
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let authed = GreeterClient::with_interceptor(channel.clone(), add_token);
    let balanced = GreeterClient::new(Channel::balance_list(
        ["http://a:1", "http://b:1"].into_iter().map(Endpoint::from_static),
    ));
    let shared = Channel::from_shared("http://greeter:50051".to_string())?.connect().await?;
    let eager = GreeterClient::new(shared);
    // Also dials a service outside the group: stays as it is.
    let both = Endpoint::new("http://edge:443")?.connect().await?;
    let greeter = GreeterClient::new(both.clone());
    let billing = billing::BillingClient::new(both);
    let direct = GreeterClient::new(Endpoint::from_static("http://greeter:50051").connect().await?);
    Ok(())
}
"#;

#[test]
fn channels_endpoints_interceptors_and_builders() {
    check_shape(
        CHANNELS_AND_BUILDERS,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use std::time::Duration;
            use tonic::transport::{Channel, Endpoint};
            mod hello { pub use knit_proto_helloworld::*; }

            fn add_token(mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
                req.metadata_mut().insert("authorization", "Bearer t".parse().unwrap());
                Ok(req)
            }

            #[tokio::main]
            async fn main() -> Result<(), Box<dyn std::error::Error>> {
                let channel = Endpoint::from_static("http://greeter:50051")
                    .timeout(Duration::from_secs(2))
                    .connect_timeout(Duration::from_millis(500))
                    .tcp_nodelay(true)
                    .connect_lazy();
                let plain = knit_proto_helloworld::greeter_inline::GreeterClient::new(channel.clone()).with_channel_timeout(Duration::from_secs(2))
                    .max_decoding_message_size(1 << 20)
                    .send_compressed(tonic::codec::CompressionEncoding::Gzip);
                let authed = knit_proto_helloworld::greeter_inline::GreeterClient::with_interceptor(channel.clone(), add_token).with_channel_timeout(Duration::from_secs(2));
                let balanced = knit_proto_helloworld::greeter_inline::GreeterClient::new(Channel::balance_list(
                    ["http://a:1", "http://b:1"].into_iter().map(Endpoint::from_static),
                ));
                let shared = knit_runtime::registry::connect(Channel::from_shared("http://greeter:50051".to_string())?, &["helloworld.Greeter"]).await?;
                let eager = knit_proto_helloworld::greeter_inline::GreeterClient::new(shared);
                // Also dials a service outside the group: stays as it is.
                let both = Endpoint::new("http://edge:443")?.connect().await?;
                let greeter = knit_proto_helloworld::greeter_inline::GreeterClient::new(both.clone());
                let billing = billing::BillingClient::new(both);
                let direct = knit_proto_helloworld::greeter_inline::GreeterClient::new(knit_runtime::registry::connect(Endpoint::from_static("http://greeter:50051"), &["helloworld.Greeter"]).await?);
                Ok(())
            }
            Call(Inline) frontend/src/main.rs:18: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:21: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:22: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:26: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:29: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:31: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const CHECKED_IN_GENERATED_CODE: &str = r#"mod pb;
use pb::helloworld::greeter_client::GreeterClient;
#[tokio::main]
async fn main() {
    let client = GreeterClient::connect("http://greeter:50051").await;
}
"#;
const CHECKED_IN_GENERATED_CODE_FILES: &str = r#"//- /frontend/src/pb/mod.rs
pub mod helloworld;
//- /frontend/src/pb/helloworld.rs
// This file is @generated by prost-build.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: ::prost::alloc::string::String,
}
/// Generated client implementations.
pub mod greeter_client {
    pub struct GreeterClient<T> {
        inner: tonic::client::Grpc<T>,
    }
}
"#;

#[test]
fn generated_code_checked_into_the_sources() {
    check_shape(
        CHECKED_IN_GENERATED_CODE,
        CHECKED_IN_GENERATED_CODE_FILES,
        expect![[r#"
            //- /frontend/src/main.rs
            mod pb;
            #[tokio::main]
            async fn main() {
                let client = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await;
            }
            //- /frontend/src/pb/helloworld.rs
            pub use knit_proto_helloworld::*;
            Call(Inline) frontend/src/main.rs:5: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

/// Checked-in generated code in a file not named after its package
/// (`api.rs` for `helloworld`): the package is the one its client routes to.
#[test]
fn generated_code_checked_in_under_another_name() {
    let files = CHECKED_IN_GENERATED_CODE_FILES
        .replace("pub mod helloworld;", "pub mod api;")
        .replace("pb/helloworld.rs", "pb/api.rs")
        .replace(
            "        inner: tonic::client::Grpc<T>,\n    }\n",
            "        inner: tonic::client::Grpc<T>,\n    }\n    const PATH: &str = \"/helloworld.Greeter/SayHello\";\n",
        );
    check_shape(
        &CHECKED_IN_GENERATED_CODE.replace("pb::helloworld::", "pb::api::"),
        &files,
        expect![[r#"
            //- /frontend/src/main.rs
            mod pb;
            #[tokio::main]
            async fn main() {
                let client = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await;
            }
            //- /frontend/src/pb/api.rs
            pub use knit_proto_helloworld::*;
            Call(Inline) frontend/src/main.rs:5: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const MACRO_ARGUMENTS: &str = r#"use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() -> Result<(), tonic::transport::Error> {
    let (a, b) = tokio::try_join!(
        GreeterClient::connect("http://greeter:50051"),
        GreeterClient::connect(format!("http://{}", "greeter:50051")),
    )?;
    let all: Vec<GreeterClient<tonic::transport::Channel>> = vec![a, b];
    Ok(())
}
"#;

#[test]
fn clients_built_in_macro_arguments() {
    check_shape(
        MACRO_ARGUMENTS,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }
            #[tokio::main]
            async fn main() -> Result<(), tonic::transport::Error> {
                let (a, b) = tokio::try_join!(
                    knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051"),
                    knit_proto_helloworld::greeter_inline::GreeterClient::connect(format!("http://{}", "greeter:50051")),
                )?;
                let all: Vec<knit_proto_helloworld::greeter_inline::GreeterClient> = vec![a, b];
                Ok(())
            }
            Call(Inline) frontend/src/main.rs:6: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:7: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const RENAMED_REEXPORT: &str = r#"mod hello { tonic::include_proto!("helloworld"); }
mod clients;
mod greet;

#[tokio::main]
async fn main() {
    greet::hello().await;
}
"#;
const RENAMED_REEXPORT_FILES: &str = r#"//- /frontend/src/clients.rs
pub use crate::hello::greeter_client::GreeterClient as Greeter;
//- /frontend/src/greet.rs
use crate::clients::Greeter;
use crate::hello::HelloRequest;

pub async fn hello() {
    let mut client = Greeter::connect("http://greeter:50051").await.unwrap();
    client.say_hello(HelloRequest::default()).await.unwrap();
}
"#;

/// `greet.rs` names the client only by the alias `clients.rs` gives it: the
/// index still reads it (the alias is one of the names it looks for as a word).
#[test]
fn renamed_reexport_used_where_the_generated_name_is_not_written() {
    check_shape(
        RENAMED_REEXPORT,
        RENAMED_REEXPORT_FILES,
        expect![[r#"
            //- /frontend/src/greet.rs
            use crate::hello::HelloRequest;

            pub async fn hello() {
                let mut client = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await.unwrap();
                client.say_hello(HelloRequest::default()).await.unwrap();
            }
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }
            mod clients;
            mod greet;

            #[tokio::main]
            async fn main() {
                greet::hello().await;
            }
            Call(Inline) frontend/src/greet.rs:5: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const LOCAL_NAMES_IN_BLOCKS: &str = r#"mod hello { tonic::include_proto!("helloworld"); }
mod other {
    pub struct Client;
    impl Client { pub fn new() -> Self { Client } }
}
#[tokio::main]
async fn main() -> Result<(), tonic::transport::Error> {
    use hello::greeter_client::GreeterClient as G;
    let (a,) = tokio::try_join!(G::connect("http://greeter:50051"))?;
    {
        use hello::greeter_client::GreeterClient as Client;
        let b = Client::connect("http://greeter:50051").await?;
        {
            use crate::other::Client;
            let c = Client::new();
        }
    }
    Ok(())
}
"#;

/// Names that `use` items in blocks give the client: in a macro's arguments
/// (`try_join!` spells only the local name), and shadowed in an inner block by
/// an unrelated type of the same name, which stays as it is.
#[test]
fn local_names_given_in_blocks() {
    check_shape(
        LOCAL_NAMES_IN_BLOCKS,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }
            mod other {
                pub struct Client;
                impl Client { pub fn new() -> Self { Client } }
            }
            #[tokio::main]
            async fn main() -> Result<(), tonic::transport::Error> {
                let (a,) = tokio::try_join!(knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051"))?;
                {
                    use hello::greeter_client::GreeterClient as Client;
                    let b = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://greeter:50051").await?;
                    {
                        use crate::other::Client;
                        let c = Client::new();
                    }
                }
                Ok(())
            }
            Call(Inline) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:9: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}

const TYPE_ALIAS: &str = r#"use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
mod hello { tonic::include_proto!("helloworld"); }
mod api { pub use crate::hello::greeter_client::GreeterClient; }

type Greeter = api::GreeterClient<Channel>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let eager = Endpoint::from_static("http://greeter:50051")
        .timeout(Duration::from_millis(200))
        .connect()
        .await?;
    let timed: Greeter = Greeter::new(eager);
    let dialled = Greeter::connect("http://greeter:50051").await?;
    Ok(())
}
"#;

#[test]
fn constructors_through_a_type_alias() {
    check_shape(
        TYPE_ALIAS,
        "",
        expect![[r#"
            //- /frontend/src/main.rs
            use std::time::Duration;
            use tonic::transport::Endpoint;
            mod hello { pub use knit_proto_helloworld::*; }

            type Greeter = knit_proto_helloworld::greeter_inline::GreeterClient;

            #[tokio::main]
            async fn main() -> Result<(), Box<dyn std::error::Error>> {
                let eager = knit_runtime::registry::connect(Endpoint::from_static("http://greeter:50051")
                    .timeout(Duration::from_millis(200)), &["helloworld.Greeter"])
                    .await?;
                let timed: Greeter = Greeter::new(eager).with_channel_timeout(Duration::from_millis(200));
                let dialled = Greeter::connect("http://greeter:50051").await?;
                Ok(())
            }
            Call(Inline) frontend/src/main.rs:14: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:15: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]],
    );
}
