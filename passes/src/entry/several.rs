//! Fixture tests: several services from one package, as two binaries sharing
//! its library, or as one binary in several roles chosen by `args`.

use expect_test::expect;

use crate::fixture::{check_all_group, group};
use crate::model::{Group, ServiceId};

/// A package `market` with a library and the binaries `users` and `orders`;
/// orders calls users. As the loader gives it: each binary's files belong to
/// the service that runs it, the library's to both.
const TWO_BINS: &str = r#"
//- /market/Cargo.toml
[package]
name = "market"
edition = "2021"
//- /market/proto/users.proto
package users;
service Users {
  rpc Lookup (LookupRequest) returns (User);
}
//- /market/src/lib.rs
pub mod pb {
    tonic::include_proto!("users");
}
pub fn addr() -> std::net::SocketAddr { std::env::var("ADDR").unwrap().parse().unwrap() }
//- /market/src/bin/users.rs
use market::pb::users_server::UsersServer;
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic::transport::Server::builder()
        .add_service(UsersServer::new(market::Directory))
        .serve(market::addr())
        .await?;
    Ok(())
}
//- /market/src/bin/orders.rs
use market::pb::users_client::UsersClient;
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users = UsersClient::connect("http://127.0.0.1:50081").await?;
    serve(users).await
}
"#;

/// How `users`'s binary in [`TWO_BINS`] serves.
const USERS_SERVES: &str = "    tonic::transport::Server::builder()\n        .add_service(UsersServer::new(market::Directory))\n        .serve(market::addr())\n        .await?;\n";

/// A third service, `front`, that calls `users.Users` with a proto of its own.
const FRONT: &str = "//- /front/Cargo.toml\n[package]\nname = \"front\"\nedition = \"2021\"\n//- /front/proto/users.proto\npackage users;\nservice Users {\n  rpc Lookup (LookupRequest) returns (User);\n}\n//- /front/src/main.rs\nmod pb { tonic::include_proto!(\"users\"); }\n#[tokio::main]\nasync fn main() {\n    let users = pb::users_client::UsersClient::connect(\"http://users\").await;\n}\n";

/// `fixture`'s first package, whose binaries are the services `a` and `b`
/// (name, binary's path under `src/`), then the fixture's other services;
/// when `a` and `b` run one binary, each is given its name as its argument
/// (its role).
fn two_services(fixture: &str, a: (&str, &str), b: (&str, &str)) -> Group {
    let package = fixture
        .split("//- /")
        .nth(1)
        .and_then(|f| f.split('/').next())
        .unwrap();
    // `src/main.rs` is the binary named after the package, `src/bin/x.rs` is `x`.
    let bin = |path: &str| match path {
        "main.rs" => package.to_string(),
        _ => path
            .trim_start_matches("bin/")
            .trim_end_matches(".rs")
            .to_string(),
    };
    let role = |name: &str| match a.1 == b.1 {
        true => format!("args = [\"{name}\"]\n"),
        false => String::new(),
    };
    let service = |(name, path): (&str, &str)| {
        format!(
            "[services.{name}]\npath = \"{package}\"\nbin = \"{}\"\n{}",
            bin(path),
            role(name)
        )
    };
    let others: Vec<&str> = fixture
        .split("//- /")
        .filter_map(|f| f.split_once("/Cargo.toml\n"))
        .map(|(dir, _)| dir)
        .filter(|dir| *dir != package && !dir.contains('/'))
        .collect();
    let mut plan = format!(
        "[group]\nname = \"fixture\"\nservices = [\"{}\", \"{}\"",
        a.0, b.0
    );
    for other in &others {
        plan.push_str(&format!(", \"{other}\""));
    }
    plan.push_str("]\n");
    plan.push_str(&service(a));
    plan.push_str(&service(b));
    for other in &others {
        plan.push_str(&format!("[services.{other}]\npath = \"{other}\"\n"));
    }
    group(&format!("{fixture}//- /knit.toml\n{plan}"))
}

/// The passes' output for `fixture`, whose first package's binaries
/// `users` and `orders` are those services (see [`two_services`]).
fn users_and_orders(fixture: &str) -> crate::fixture::Checked {
    check_all_group(two_services(
        fixture,
        ("users", "bin/users.rs"),
        ("orders", "bin/orders.rs"),
    ))
}

#[test]
fn two_binaries_of_one_package_share_its_library() {
    let mut g = two_services(
        TWO_BINS,
        ("users", "bin/users.rs"),
        ("orders", "bin/orders.rs"),
    );
    // Code both binaries run reads the values of the service running it.
    g.services[1].env = vec![("ADDR".into(), "${ORDERS_ADDR}".into())];
    assert_eq!(
        super::entry_path(&g, ServiceId(0)),
        "knit_bin_users::knit_entry"
    );
    assert_eq!(
        super::entry_path(&g, ServiceId(1)),
        "knit_bin_orders::knit_entry"
    );
    let out = check_all_group(g);
    expect![[r#"
        //- /market/Cargo.toml
        [package]
        name = "shared-market"
        edition = "2021"

        [lib]
        name = "market"

        [dependencies]
        knit-runtime = { path = "../knit/runtime" }
        knit-proto-users = { path = "../knit/protos/users" }

        [[bin]]
        name = "users"
        path = "src/bin/users.rs"

        [[bin]]
        name = "orders"
        path = "src/bin/orders.rs"
        //- /market/src/lib.rs
        pub mod pb {
            pub use knit_proto_users::*;
        }
        pub fn addr() -> std::net::SocketAddr { knit_runtime::env::var(knit_runtime::env::current_service(), "ADDR").unwrap().parse().unwrap() }

        /// The items and modules of binary `users` (market/src/bin/users.rs), copied by knit with its `fn main`.
        #[doc(hidden)]
        #[allow(dead_code, unused_imports, unused_macros)]
        #[path = "bin"]
        pub mod knit_bin_users {
        use crate::pb::users_server::UsersServer;

        /// The entry of service `users`, lifted by knit from `fn main` in market/src/bin/users.rs: the
        /// merged binary's host runs it; the service's own binary runs `main` as before.
        pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
            knit_host.scope(async move {
            tonic::transport::Server::builder()
                .add_service(UsersServer::from_arc(knit_proto_users::users_inline::provide(knit_runtime::ServiceHost::current(), crate::Directory)))
                .serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(crate::addr()), knit_runtime::ServiceHost::current().shutdown())
                .await?;
            Ok(())
        }).await
        }
        }

        /// The items and modules of binary `orders` (market/src/bin/orders.rs), copied by knit with its `fn main`.
        #[doc(hidden)]
        #[allow(dead_code, unused_imports, unused_macros)]
        #[path = "bin"]
        pub mod knit_bin_orders {
        use crate::pb::users_client::UsersClient;

        /// The entry of service `orders`, lifted by knit from `fn main` in market/src/bin/orders.rs: the
        /// merged binary's host runs it; the service's own binary runs `main` as before.
        pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
            knit_host.scope(async move {
            let users = knit_proto_users::users_inline::UsersClient::connect("http://127.0.0.1:50081").await?;
            serve(users).await
        }).await
        }
        }
        //- /market/src/bin/orders.rs
        #[tokio::main]
        async fn main() -> Result<(), Box<dyn std::error::Error>> {
            let users = knit_proto_users::users_inline::UsersClient::connect("http://127.0.0.1:50081").await?;
            serve(users).await
        }
        Call(Inline) market/src/bin/orders.rs:4: calls to `users.Users` run in process on `users`'s handler (knit_proto_users::users_inline::UsersClient)
        Note market/src/bin/users.rs:1: `users` reads environment variables ADDR
    "#]]
    .assert_eq(&out.render("market/"));
}

/// A server the shared library builds, in a function only `users`'s binary
/// calls, is `users`'s: a third service's calls to it run in process.
#[test]
fn a_server_the_library_builds_is_the_service_that_reaches_it() {
    let fixture = TWO_BINS
        .replace(
            "pub fn addr()",
            "pub async fn serve_users() -> Result<(), tonic::transport::Error> {\n    tonic::transport::Server::builder()\n        .add_service(pb::users_server::UsersServer::new(Directory))\n        .serve(addr())\n        .await\n}\npub fn addr()",
        )
        .replace(
            USERS_SERVES,
            "    market::serve_users().await?;\n",
        )
        + FRONT;
    let out = users_and_orders(&fixture);
    expect![[r#"
        Call(Inline) market/src/bin/orders.rs:4: calls to `users.Users` run in process on `users`'s handler (knit_proto_users::users_inline::UsersClient)
        Call(Inline) front/src/main.rs:4: calls to `users.Users` run in process on `users`'s handler (knit_proto_users::users_inline::UsersClient)
        Note market/src/bin/users.rs:1: `users` reads environment variables ADDR"#]].assert_eq(&out.findings.join("\n"));
    expect![[r#"
        //- /market/src/lib.rs
        pub mod pb {
            pub use knit_proto_users::*;
        }
        pub async fn serve_users() -> Result<(), tonic::transport::Error> {
            tonic::transport::Server::builder()
                .add_service(pb::users_server::UsersServer::from_arc(knit_proto_users::users_inline::provide(knit_runtime::ServiceHost::current(), Directory)))
                .serve_with_incoming_shutdown(knit_runtime::ServiceHost::current().incoming(addr()), knit_runtime::ServiceHost::current().shutdown())
                .await
        }
        pub fn addr() -> std::net::SocketAddr { std::env::var("ADDR").unwrap().parse().unwrap() }

        /// The items and modules of binary `users` (market/src/bin/users.rs), copied by knit with its `fn main`.
        #[doc(hidden)]
        #[allow(dead_code, unused_imports, unused_macros)]
        #[path = "bin"]
        pub mod knit_bin_users {
        use crate::pb::users_server::UsersServer;

        /// The entry of service `users`, lifted by knit from `fn main` in market/src/bin/users.rs: the
        /// merged binary's host runs it; the service's own binary runs `main` as before.
        pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
            knit_host.scope(async move {
            crate::serve_users().await?;
            Ok(())
        }).await
        }
        }

        /// The items and modules of binary `orders` (market/src/bin/orders.rs), copied by knit with its `fn main`.
        #[doc(hidden)]
        #[allow(dead_code, unused_imports, unused_macros)]
        #[path = "bin"]
        pub mod knit_bin_orders {
        use crate::pb::users_client::UsersClient;

        /// The entry of service `orders`, lifted by knit from `fn main` in market/src/bin/orders.rs: the
        /// merged binary's host runs it; the service's own binary runs `main` as before.
        pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
            knit_host.scope(async move {
            let users = knit_proto_users::users_inline::UsersClient::connect("http://127.0.0.1:50081").await?;
            serve(users).await
        }).await
        }
        }
        Call(Inline) market/src/bin/orders.rs:4: calls to `users.Users` run in process on `users`'s handler (knit_proto_users::users_inline::UsersClient)
        Call(Inline) front/src/main.rs:4: calls to `users.Users` run in process on `users`'s handler (knit_proto_users::users_inline::UsersClient)
        Note market/src/bin/users.rs:1: `users` reads environment variables ADDR
    "#]].assert_eq(&out.render("market/src/lib.rs"));
}

/// A method of the shared library that builds a server is reached by the
/// binary that makes a value of its type, not by another binary's call of a
/// method of the same name on another type: `users` serves, `orders` does not.
#[test]
fn a_method_of_another_type_does_not_reach_the_server() {
    let fixture = TWO_BINS
        .replace(
            "pub fn addr()",
            "pub struct Grpc;\nimpl Grpc {\n    pub async fn run(&self) -> Result<(), tonic::transport::Error> {\n        tonic::transport::Server::builder()\n            .add_service(pb::users_server::UsersServer::new(Directory))\n            .serve(addr())\n            .await\n    }\n}\npub struct Progress;\nimpl Progress {\n    pub async fn run(&self) {}\n}\npub fn addr()",
        )
        .replace(
            USERS_SERVES,
            "    market::Grpc.run().await?;\n",
        )
        .replace(
            "    serve(users).await\n",
            "    market::Progress.run().await;\n    serve(users).await\n",
        )
        + FRONT;
    let out = users_and_orders(&fixture);
    expect![[r#"
        Call(Inline) market/src/bin/orders.rs:4: calls to `users.Users` run in process on `users`'s handler (knit_proto_users::users_inline::UsersClient)
        Call(Inline) front/src/main.rs:4: calls to `users.Users` run in process on `users`'s handler (knit_proto_users::users_inline::UsersClient)
        Note market/src/bin/users.rs:1: `users` reads environment variables ADDR"#]].assert_eq(&out.findings.join("\n"));
}

#[test]
fn two_binaries_without_a_library_are_refused() {
    let lib = TWO_BINS.find("//- /market/src/lib.rs").unwrap();
    let bins = TWO_BINS.find("//- /market/src/bin/users.rs").unwrap();
    let fixture = format!("{}{}", &TWO_BINS[..lib], &TWO_BINS[bins..]);
    let out = users_and_orders(&fixture);
    expect![[r#"
        Error market/src/bin/orders.rs:1: services `users` and `orders` are two binaries (`users`, `orders`) of market and the package has no library: knit lifts each binary's `main` into its package's library, which holds one entry per binary; give the package a library (`src/lib.rs`) with the code the binaries share, or move each binary into a package of its own
        Call(Unresolved) market/src/bin/orders.rs:4: `UsersClient::connect`: knit cannot tell which gRPC service `UsersClient` calls (no proto of the group defines it, or its path does not lead to generated code); the call stays RPC"#]]
    .assert_eq(&out.findings.join("\n"));
}

/// One binary, `shopd`, serving the catalog or calling it, as its arguments say.
const ROLES: &str = r#"
//- /shopd/Cargo.toml
[package]
name = "shopd"
edition = "2021"
//- /shopd/proto/shop.proto
package shop;
service Catalog {
  rpc Price (PriceRequest) returns (PriceReply);
}
//- /shopd/src/main.rs
use clap::Parser;
use shop::catalog_client::CatalogClient;
use shop::catalog_server::CatalogServer;
pub mod shop {
    tonic::include_proto!("shop");
}
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let role = std::env::args().nth(1);
    let addr = std::env::var("ADDR")?;
    let cli = Cli::parse();
    let matches = clap::Command::new("shopd").get_matches();
    if role.as_deref() == Some("catalog") {
        tonic::transport::Server::builder()
            .add_service(CatalogServer::new(Shelf))
            .serve(addr)
            .await?;
    } else {
        let catalog = CatalogClient::connect("http://127.0.0.1:50091").await?;
        serve(catalog).await?;
    }
    Ok(())
}
"#;

#[test]
fn one_binary_in_two_roles_is_lifted_once() {
    let mut g = two_services(ROLES, ("catalog", "main.rs"), ("cart", "main.rs"));
    g.services[1].env = vec![("ADDR".into(), "${CART_ADDR}".into())];
    assert_eq!(g.role_of(ServiceId(1)), ServiceId(0));
    assert_eq!(super::entry_path(&g, ServiceId(1)), "knit_entry");
    let out = check_all_group(g);
    expect![[r#"
        //- /shopd/src/main.rs
        use clap::Parser;
        use shop::catalog_server::CatalogServer;
        pub mod shop {
            pub use knit_proto_shop::*;
        }
        pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
            let role = knit_runtime::env::args().nth(1);
            let addr = knit_runtime::env::var(knit_runtime::env::current_service(), "ADDR")?;
            let cli = Cli::parse_from(knit_runtime::env::args_os());
            let matches = clap::Command::new("shopd").get_matches_from(knit_runtime::env::args_os());
            if role.as_deref() == Some("catalog") {
                tonic::transport::Server::builder()
                    .add_service(CatalogServer::from_arc(knit_proto_shop::catalog_inline::provide(&knit_host, Shelf)))
                    .serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown())
                    .await?;
            } else {
                let catalog = knit_proto_shop::catalog_inline::CatalogClient::connect("http://127.0.0.1:50091").await?;
                serve(catalog).await?;
            }
            Ok(())
        }
        //- /shopd/src/knit_main.rs (new)
        //! The standalone binary of service `shopd`: runs the entry knit lifted from
        //! `fn main` in shopd/src/main.rs, alone, with its own listener. Generated by knit.

        #[tokio::main]
        async fn main() -> std::process::ExitCode {
            let host = knit_runtime::ServiceHost::standalone("shopd");
            knit_runtime::exit(shared_shopd::knit_entry(host).await)
        }
        Call(Inline) shopd/src/main.rs:19 by catalog: calls to `shop.Catalog` run in process on `catalog`'s handler (knit_proto_shop::catalog_inline::CatalogClient)
        Call(Inline) shopd/src/main.rs:19 by cart: calls to `shop.Catalog` run in process on `catalog`'s handler (knit_proto_shop::catalog_inline::CatalogClient)
        Note shopd/src/main.rs:1: `catalog` reads environment variables ADDR
        Note shopd/src/main.rs:1: shopd/src/main.rs reads its command line: merged, catalog, cart each read the `args` the plan gives them
    "#]]
    .assert_eq(&out.render("shopd/src/"));
}

/// A channel timeout in code of the shared library that the caller's binary
/// reaches only from its tests does not keep its calls an RPC: `orders` calls
/// through the client `plain()` makes, bridged (the generated code is an API
/// crate's); the channel `timed(..)` is given, with a timeout an in-process
/// client would not keep, is made in code `orders` never runs.
#[test]
fn a_timeout_in_library_code_the_caller_does_not_reach_is_no_obstacle() {
    let fixture = r#"
//- /market/Cargo.toml
[package]
name = "market"
edition = "2021"
//- /market/src/lib.rs
use acme_api::users::v1::users_client::UsersClient;
use tonic::transport::{Channel, Endpoint};
pub async fn plain() -> UsersClient<Channel> {
    UsersClient::connect("http://users").await.unwrap()
}
pub async fn timed(addr: String) -> UsersClient<Channel> {
    let channel = Channel::from_shared(addr)
        .inspect_err(|e| eprintln!("{e}"))
        .unwrap()
        .timeout(std::time::Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    UsersClient::new(channel)
}
//- /market/src/bin/users.rs
use acme_api::users::v1::users_server::UsersServer;
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic::transport::Server::builder()
        .add_service(UsersServer::new(Directory))
        .serve("[::]:50051".parse()?)
        .await?;
    Ok(())
}
//- /market/src/bin/orders.rs
#[tokio::main]
async fn main() {
    let users = market::plain().await;
}
#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn timed() {
        market::timed("http://users".into()).await;
    }
}
"#;
    let mut group = two_services(
        fixture,
        ("users", "bin/users.rs"),
        ("orders", "bin/orders.rs"),
    );
    for service in &mut group.services {
        service.external_apis.push(crate::model::ExternalApi {
            krate: "acme_api".into(),
            package: "acme-api 1.2.0".into(),
            services: vec![("acme.users.v1".into(), "Users".into())],
            read: true,
        });
    }
    let out = crate::fixture::check_group(crate::pass::PassId::Calls, group);
    expect![[r#"
        Call(Bridged) market/src/lib.rs:4 by users: calls to `acme.users.v1.Users` run in process through `users`'s server stack, bridged (each side encodes with its own generated types): `orders` takes the generated code of `acme.users.v1` from `acme-api 1.2.0`, a dependency knit does not edit
        Call(Bridged) market/src/lib.rs:14 by users: calls to `acme.users.v1.Users` run in process through `users`'s server stack, bridged (each side encodes with its own generated types): `orders` takes the generated code of `acme.users.v1` from `acme-api 1.2.0`, a dependency knit does not edit
        Call(Bridged) market/src/lib.rs:4 by orders: calls to `acme.users.v1.Users` run in process through `users`'s server stack, bridged (each side encodes with its own generated types): `orders` takes the generated code of `acme.users.v1` from `acme-api 1.2.0`, a dependency knit does not edit
        Call(Bridged) market/src/lib.rs:14 by orders: calls to `acme.users.v1.Users` run in process through `users`'s server stack, bridged (each side encodes with its own generated types): `orders` takes the generated code of `acme.users.v1` from `acme-api 1.2.0`, a dependency knit does not edit"#]].assert_eq(&out.findings.join("\n"));
}

/// What each binary reaches of the library, asked of the shapes reaching
/// takes: servers reached through aliases, macros and values; client code
/// reached from macros, fields and trait handlers, whose timeouts count.
mod reached {
    use super::*;

    fn server_case(lib_extra: &str, users_main: &str) -> Vec<String> {
        let fixture = TWO_BINS
            .replace("pub fn addr()", &format!("{lib_extra}\npub fn addr()"))
            .replace(USERS_SERVES, users_main)
            + FRONT;
        users_and_orders(&fixture).findings
    }

    const GRPC: &str = "pub struct Grpc;\nimpl Grpc {\n    pub async fn start() -> Result<(), tonic::transport::Error> {\n        tonic::transport::Server::builder()\n            .add_service(pb::users_server::UsersServer::new(Directory))\n            .serve(addr())\n            .await\n    }\n}\n";

    /// `users` serves `Grpc::start`'s server however its `main` names it,
    /// and `front`'s calls run on its handler.
    #[test]
    fn a_server_is_reached_through_aliases_macros_and_values() {
        for (name, extra, main) in [
            ("direct", "", "    market::Grpc::start().await?;\n"),
            (
                "type alias",
                "pub type Server = Grpc;",
                "    market::Server::start().await?;\n",
            ),
            (
                "use as",
                "",
                "    use market::Grpc as G;\n    G::start().await?;\n",
            ),
            (
                "try_join",
                "",
                "    tokio::try_join!(market::Grpc::start(), async { Ok::<(), tonic::transport::Error>(()) })?;\n",
            ),
            (
                "value",
                "",
                "    let f = market::Grpc::start;\n    f().await?;\n",
            ),
        ] {
            let findings = server_case(&format!("{GRPC}{extra}"), main);
            assert!(
                findings
                    .iter()
                    .any(|f| f.starts_with("Call(Inline) front/src/main.rs:4")),
                "{name}: {findings:#?}"
            );
        }
    }

    fn timeout_case(lib_extra: &str, orders_main: &str) -> Vec<String> {
        let fixture = format!(
            r#"
//- /market/Cargo.toml
[package]
name = "market"
edition = "2021"
//- /market/src/lib.rs
use acme_api::users::v1::users_client::UsersClient;
use tonic::transport::{{Channel, Endpoint}};
{lib_extra}
//- /market/src/bin/users.rs
use acme_api::users::v1::users_server::UsersServer;
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {{
    tonic::transport::Server::builder()
        .add_service(UsersServer::new(Directory))
        .serve("[::]:50051".parse()?)
        .await?;
    Ok(())
}}
//- /market/src/bin/orders.rs
#[tokio::main]
async fn main() {{
{orders_main}
}}
"#
        );
        let mut group = two_services(
            &fixture,
            ("users", "bin/users.rs"),
            ("orders", "bin/orders.rs"),
        );
        for service in &mut group.services {
            service.external_apis.push(crate::model::ExternalApi {
                krate: "acme_api".into(),
                package: "acme-api 1.2.0".into(),
                services: vec![
                    ("acme.users.v1".into(), "Users".into()),
                    ("acme.orders.v1".into(), "Orders".into()),
                ],
                read: true,
            });
        }
        crate::fixture::check_group(crate::pass::PassId::Calls, group).findings
    }

    const TIMED: &str = "pub async fn timed(addr: String) -> UsersClient<Channel> {\n    let channel = Channel::from_shared(addr)\n        .unwrap()\n        .timeout(std::time::Duration::from_secs(1))\n        .connect()\n        .await\n        .unwrap();\n    UsersClient::new(channel)\n}\n";
    const CLIENTS: &str = "pub struct Clients;\nimpl Clients {\n    pub async fn users(&self) -> UsersClient<Channel> {\n        let channel = Channel::from_shared(String::new())\n            .unwrap()\n            .timeout(std::time::Duration::from_secs(1))\n            .connect()\n            .await\n            .unwrap();\n        UsersClient::new(channel)\n    }\n}\npub struct App { pub clients: Clients }\npub fn app() -> App { todo!() }\n";

    const HANDLER: &str = "pub use acme_api::orders::v1::orders_server::OrdersServer;\npub struct Shop;\n#[tonic::async_trait]\nimpl acme_api::orders::v1::orders_server::Orders for Shop {\n    async fn place(&self, r: tonic::Request<()>) -> Result<tonic::Response<()>, tonic::Status> {\n        let channel = Channel::from_shared(String::new())\n            .unwrap()\n            .timeout(std::time::Duration::from_secs(1))\n            .connect()\n            .await\n            .unwrap();\n        let users = UsersClient::new(channel);\n        todo!()\n    }\n}\n";

    /// A channel timeout in library code `orders` reaches (called in a
    /// macro, through a field's type, in a gRPC handler its server runs)
    /// keeps its calls on their own channel.
    #[test]
    fn a_timeout_in_reached_library_code_counts() {
        for (name, extra, main) in [
            (
                "direct",
                TIMED,
                "    let users = market::timed(\"http://users\".into()).await;",
            ),
            (
                "join!",
                TIMED,
                "    let (users, _) = tokio::join!(market::timed(\"http://users\".into()), async {});",
            ),
            (
                "field",
                CLIENTS,
                "    let users = market::app().clients.users().await;",
            ),
            (
                "handler",
                HANDLER,
                "    tonic::transport::Server::builder().add_service(market::OrdersServer::new(market::Shop)).serve(\"[::]:1\".parse().unwrap()).await.unwrap();",
            ),
        ] {
            let findings = timeout_case(extra, main);
            let orders: Vec<&String> = findings
                .iter()
                .filter(|f| {
                    f.contains(" by orders: calls to `acme.users.v1.Users`")
                        || (f.contains("calls to `acme.users.v1.Users`") && !f.contains(" by "))
                })
                .collect();
            assert!(
                !orders.is_empty() && orders.iter().all(|f| f.contains("timeout")),
                "{name}: {findings:#?}"
            );
        }
    }
}
