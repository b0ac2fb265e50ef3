//! Call sites knit cannot attribute: `XClient::connect(..)` where `XClient` is
//! no client of a gRPC service the group's protos define, or a path the name
//! resolver cannot follow to generated code. Such a call stays RPC; the report
//! lists it as `unresolved` with the client type it saw, so that nothing a
//! reviewer expects converted is skipped in silence.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use ra_ap_syntax::{AstNode, SyntaxKind, ast};

use crate::edit::{CallSite, Output, Tier};
use crate::model::Group;
use crate::names::Index;
use crate::scan::Words;

/// Every `XClient::connect(..)` of `group` that no mention covers and that
/// names no type the group's code defines.
pub fn find(group: &Group, index: &Index) -> Output {
    static CONNECT: LazyLock<Words> = LazyLock::new(|| Words::new(["connect"]));
    let covered: BTreeSet<(u32, u32, u32)> = index
        .mentions
        .iter()
        .map(|m| (m.file, m.path))
        .chain(index.defined.iter().copied())
        .map(|(file, path)| (file.0, path.start().into(), path.end().into()))
        .collect();
    let mut out = Output::default();
    for (id, file, rust) in group.rust_files() {
        let offsets = CONNECT.offsets(&file.text);
        if offsets.is_empty() {
            continue;
        }
        let tree = rust.tree();
        let paths = crate::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::PATH], &offsets);
        for path in paths.into_iter().filter_map(ast::Path::cast) {
            let is_connect = path
                .segment()
                .and_then(|s| s.name_ref())
                .is_some_and(|n| n.text() == "connect");
            let Some(client) = path.qualifier() else {
                continue;
            };
            let Some(name) = client
                .segment()
                .and_then(|s| s.name_ref())
                .map(|n| n.text().to_string())
            else {
                continue;
            };
            let is_call = path
                .syntax()
                .parent()
                .and_then(ast::PathExpr::cast)
                .and_then(|e| e.syntax().parent())
                .is_some_and(|p| p.kind() == SyntaxKind::CALL_EXPR);
            if !is_connect || !is_call || name.len() <= "Client".len() || !name.ends_with("Client")
            {
                continue;
            }
            let range = client.syntax().text_range();
            if covered.contains(&(id.0, range.start().into(), range.end().into())) {
                continue;
            }
            out.calls.push(CallSite {
                tier: Tier::Unresolved,
                at: (id, range.start()),
                detail: format!(
                    "`{}::connect`: knit cannot tell which gRPC service `{name}` calls (no proto of the group defines it, or its path does not lead to generated code); the call stays RPC",
                    client.syntax()
                ),
                callee: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::fixture::{GREETER, group, with_frontend};
    use crate::sharing::Sharing;

    fn unresolved(fixture: &str) -> Vec<String> {
        let group = group(fixture);
        let sharing = Sharing::of(&group);
        super::find(&group, &sharing.index)
            .calls
            .into_iter()
            .map(|c| c.detail.split(": ").next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn clients_of_unknown_services_are_listed() {
        let main = "use hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n\
                    #[tokio::main]\nasync fn main() {\n    GreeterClient::connect(\"http://a\").await;\n    \
                    billing::v1::invoice_client::InvoiceClient::connect(\"http://b\").await;\n    \
                    let pool = Pool::connect(\"postgres://\").await;\n    \
                    let client = reqwest::Client::connect;\n}\n";
        assert_eq!(
            unresolved(&format!("{GREETER}{}", with_frontend(main))),
            ["`billing::v1::invoice_client::InvoiceClient::connect`"]
        );
    }

    #[test]
    fn a_client_helper_named_like_the_generated_client_is_no_call_site() {
        // A helper of the caller's own that wraps the generated client under
        // its name: its `connect` is the helper's, and the generated client's
        // inside it is the call site.
        let main = "mod hello { tonic::include_proto!(\"helloworld\"); }\n\
                    mod helper {\n    pub struct GreeterClient(crate::hello::greeter_client::GreeterClient<tonic::transport::Channel>);\n    \
                    impl GreeterClient {\n        pub async fn connect(url: String) -> Self {\n            \
                    Self(crate::hello::greeter_client::GreeterClient::connect(url).await.unwrap())\n        }\n    }\n}\n\
                    #[tokio::main]\nasync fn main() {\n    helper::GreeterClient::connect(\"http://a\".into()).await;\n}\n";
        let fixture = format!("{GREETER}{}", with_frontend(main));
        assert_eq!(unresolved(&fixture), Vec::<String>::new());
        let findings = crate::fixture::check(&fixture).findings;
        expect_test::expect!["Call(Rpc) frontend/src/main.rs:6: calls to `helloworld.Greeter` stay RPC: `greeter` builds `GreeterServer` at greeter/src/main.rs:8, outside its `fn main`: knit does not see how that one is served"].assert_eq(&findings.join("\n"));
    }
}
