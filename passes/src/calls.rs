//! The `calls` pass: client constructors of services merged into the same binary
//! become in-process clients.
//!
//! For each decision of [`Sharing`]: an inline call site's client type mentions are
//! rewritten to the shared crate's in-process client (`X::connect(url)` keeps its
//! arguments; `XClient<Channel>` loses its transport parameter); calls on the
//! client stay as written. The modules of both services that include the shared
//! proto package re-export the shared crate, so one set of message types serves
//! both. Every other call site is reported with the reason it stays an RPC.

use std::collections::BTreeSet;

use crate::edit::Output;
use crate::model::{Group, relative_path};
use crate::names::{Role, Usage};
use crate::sharing::{Decision, Sharing, call_finding};

const PASS: &str = "calls";

pub fn run(group: &Group, sharing: &Sharing) -> Output {
    let mut out = Output::default();
    for m in sharing
        .index
        .mentions
        .iter()
        .filter(|m| m.named.role == Role::Client)
    {
        let decision = &sharing.calls[&(m.service, m.named.clone())];
        let shared = sharing.package(&m.named.package);
        if matches!(m.usage, Usage::Call { .. } | Usage::Other) {
            out.findings.push(call_finding(group, m, decision, shared));
        }
        let (Decision::Inline { .. }, Some(shared)) = (decision, shared) else {
            continue;
        };
        let client = format!(
            "{}::{}Client",
            shared.inline_module(&m.named.service),
            m.named.service
        );
        match &m.usage {
            Usage::Type => out.edit(
                PASS,
                m.file,
                m.path,
                &client,
                "client type: in-process client",
            ),
            Usage::Call { method, .. } => out.edit(
                PASS,
                m.file,
                m.path,
                &client,
                format!("`{method}`: in-process client"),
            ),
            Usage::Import | Usage::Other => {}
        }
    }
    for shared in &sharing.packages {
        let mut packages = BTreeSet::new();
        for &user in &shared.users {
            for module in sharing.index.modules_of(user, &shared.package) {
                let reexport = format!("pub use {}::*;", shared.crate_name());
                let note = format!("proto package `{}`: shared types", shared.package);
                out.edit(PASS, module.file, module.include, reexport, note);
                packages.insert((user, group.file(module.file).package));
            }
        }
        for (service, package) in packages {
            let package = &group.services[service].packages[package];
            let path = relative_path(&package.dir, &shared.dir());
            let op = crate::manifest::ManifestOp::AddPathDependency {
                key: shared.package_name(),
                path,
            };
            out.manifest_ops.push((package.manifest, op));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::fixture::{check, with_frontend};

    /// Checks the caller's rewritten main and the call findings.
    fn check_caller(main_rs: &str, expect: Expect) {
        expect.assert_eq(&check(&with_frontend(main_rs)).render("frontend/src/main.rs"));
    }

    #[test]
    fn connect_field_and_proto_module_convert() {
        check_caller(
            r#"use tonic::transport::{Channel, Server};
use hello::greeter_client::GreeterClient;
pub mod hello {
    // The greeter's API.
    tonic::include_proto!("helloworld");
}
struct Frontend { greeter: GreeterClient<Channel> }
#[tokio::main]
async fn main() {
    #[cfg(debug_assertions)]
    let url = format!("http://{}", "localhost:50051");
    let greeter = GreeterClient::connect(url).await.unwrap(); // keep me
}
"#,
            expect![[r#"
                //- /frontend/src/main.rs
                use tonic::transport::Server;
                pub mod hello {
                    // The greeter's API.
                    pub use knit_proto_helloworld::*;
                }
                struct Frontend { greeter: knit_proto_helloworld::greeter_inline::GreeterClient }
                pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                    #[cfg(debug_assertions)]
                    let url = format!("http://{}", "localhost:50051");
                    let greeter = knit_proto_helloworld::greeter_inline::GreeterClient::connect(url).await.unwrap(); // keep me
                }
                Call(Inline) frontend/src/main.rs:12: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            "#]],
        );
    }

    #[test]
    fn aliases_and_full_paths_resolve() {
        check_caller(
            r#"use hello::greeter_client::GreeterClient as Greeter;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = Greeter::connect("http://a").await.unwrap();
    let b = crate::hello::greeter_client::GreeterClient::connect("http://b").await.unwrap();
}
"#,
            expect![[r#"
                //- /frontend/src/main.rs
                mod hello { pub use knit_proto_helloworld::*; }
                pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                    let a = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await.unwrap();
                    let b = knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://b").await.unwrap();
                }
                Call(Inline) frontend/src/main.rs:5: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
                Call(Inline) frontend/src/main.rs:6: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            "#]],
        );
    }

    #[test]
    fn same_name_from_another_crate_is_untouched() {
        check_caller(
            r#"use other::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let c = GreeterClient::connect("http://elsewhere").await.unwrap();
}
"#,
            expect![[r#"
                //- /frontend/src/main.rs
                use other::greeter_client::GreeterClient;
                mod hello { tonic::include_proto!("helloworld"); }
                pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                    let c = GreeterClient::connect("http://elsewhere").await.unwrap();
                }
            "#]],
        );
    }

    #[test]
    fn custom_transport_keeps_every_site_rpc() {
        check_caller(
            r#"use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = GreeterClient::connect("http://a").await.unwrap();
    let b = GreeterClient::new(channel);
    let c = GreeterClient::new(ServiceBuilder::new().layer(auth).service(channel));
}
"#,
            expect![[r#"
                //- /frontend/src/main.rs
                use hello::greeter_client::GreeterClient;
                mod hello { tonic::include_proto!("helloworld"); }
                pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                    let a = GreeterClient::connect("http://a").await.unwrap();
                    let b = GreeterClient::new(channel);
                    let c = GreeterClient::new(ServiceBuilder::new().layer(auth).service(channel));
                }
                Call(Rpc) frontend/src/main.rs:5: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` over a custom transport (tower layers) is not converted yet
                Call(Rpc) frontend/src/main.rs:6: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` over a custom transport (tower layers) is not converted yet
                Call(Rpc) frontend/src/main.rs:7: calls to `helloworld.Greeter` stay RPC: `GreeterClient::new` over a custom transport (tower layers) is not converted yet
            "#]],
        );
    }

    #[test]
    fn callee_outside_the_group_stays_rpc() {
        let fixture = r#"
//- /frontend/Cargo.toml
[package]
name = "frontend"
//- /frontend/proto/helloworld.proto
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
}
//- /frontend/src/main.rs
use hello::greeter_client::GreeterClient;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = GreeterClient::connect("http://a").await.unwrap();
}
"#;
        expect![[r#"
            //- /frontend/src/main.rs
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) {
                let a = GreeterClient::connect("http://a").await.unwrap();
            }
            Call(Rpc) frontend/src/main.rs:5: calls to `helloworld.Greeter` stay RPC: `helloworld.Greeter` is not served by a service of the merge group
        "#]].assert_eq(&check(fixture).render("frontend/src/main.rs"));
    }

    #[test]
    fn different_definitions_stay_rpc() {
        let fixture = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        )
        .replacen("//- /frontend/proto/helloworld.proto\npackage helloworld;", "//- /frontend/proto/helloworld.proto\npackage helloworld;\nmessage Extra {}", 1);
        expect![[r#"
            //- /frontend/src/main.rs
            use hello::greeter_client::GreeterClient;
            mod hello { tonic::include_proto!("helloworld"); }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) { GreeterClient::connect("http://a").await; }
            Call(Rpc) frontend/src/main.rs:4: calls to `helloworld.Greeter` stay RPC: `frontend` and `greeter` compile different definitions of proto package `helloworld`
        "#]].assert_eq(&check(&fixture).render("frontend/src/main.rs"));
    }

    #[test]
    fn callee_interceptor_runs_in_process() {
        let fixture = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        )
        .replace("GreeterServer::new(MyGreeter)", "GreeterServer::with_interceptor(MyGreeter, check_auth)");
        expect![[r#"
            //- /frontend/src/main.rs
            mod hello { pub use knit_proto_helloworld::*; }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) { knit_proto_helloworld::greeter_inline::GreeterClient::connect("http://a").await; }
            Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&check(&fixture).render("frontend/src/main.rs"));
        expect![[r#"
            //- /greeter/src/main.rs
            use hello_world::greeter_server::Greeter;
            pub mod hello_world {
                pub use knit_proto_helloworld::*;
            }
            pub async fn knit_entry(knit_host: &'static knit_runtime::ServiceHost) -> Result<(), Box<dyn std::error::Error>> {
                Server::builder().add_service(knit_proto_helloworld::greeter_inline::with_interceptor(&knit_host, MyGreeter, check_auth)).serve_with_incoming_shutdown(knit_host.incoming(addr), knit_host.shutdown()).await?;
                Ok(())
            }
            Call(Inline) frontend/src/main.rs:4: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
        "#]].assert_eq(&check(&fixture).render("greeter/src/main.rs"));
    }

    #[test]
    fn callee_with_tower_layers_stays_rpc() {
        let fixture = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        )
        .replace("Server::builder()", "Server::builder().layer(AuthLayer::new())");
        expect!["Call(Rpc) frontend/src/main.rs:4: calls to `helloworld.Greeter` stay RPC: `greeter` adds tower layers to its server (`.layer(..)`): in-process calls would skip them"].assert_eq(&check(&fixture).findings.join("\n"));
    }

    #[test]
    fn imports_inside_functions_and_custom_codegen_stay_rpc() {
        let local_use = check(&with_frontend(
            "mod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() {\n    use hello::greeter_client::GreeterClient;\n    GreeterClient::connect(\"http://a\").await;\n}\n",
        ));
        let custom = crate::fixture::with_frontend(
            "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { GreeterClient::connect(\"http://a\").await; }\n",
        ) + "//- /greeter/build.rs\nfn main() { tonic_prost_build::configure().type_attribute(\".\", \"#[derive(serde::Serialize)]\").compile_protos(&[\"p.proto\"], &[\".\"]).unwrap(); }\n";
        let custom = check(&custom);
        expect![[r#"
            Call(Rpc) frontend/src/main.rs:4: calls to `helloworld.Greeter` stay RPC: a use of `GreeterClient` that knit does not convert yet
            Call(Rpc) frontend/src/main.rs:4: calls to `helloworld.Greeter` stay RPC: `greeter`'s build script customises the generated code (`type_attribute`): its types are not shared yet"#]].assert_eq(&format!("{}\n{}", local_use.findings.join("\n"), custom.findings.join("\n")));
    }

    #[test]
    fn clients_reached_through_reexports_stay_rpc() {
        let out = check(&format!(
            "{}//- /frontend/src/clients.rs\npub use crate::hello::greeter_client::GreeterClient;\n",
            with_frontend(
                "mod clients;\nmod hello { tonic::include_proto!(\"helloworld\"); }\nstruct S { g: hello::greeter_client::GreeterClient<Channel> }\n#[tokio::main]\nasync fn main() { clients::GreeterClient::connect(\"http://a\").await; }\n"
            )
        ));
        expect!["Call(Rpc) frontend/src/main.rs:5: calls to `helloworld.Greeter` stay RPC: a use of `GreeterClient` that knit does not convert yet"].assert_eq(&out.findings.join("\n"));
    }
}
