//! Call sites knit cannot attribute: `XClient::connect(..)` where `XClient` is
//! no client of a gRPC service the group's protos define, or a path the name
//! resolver cannot follow to generated code. Such a call stays RPC; the report
//! lists it as `unresolved` with the client type it saw, so that nothing a
//! reviewer expects converted is skipped in silence. A type the calling
//! service's own code defines by hand (a client of another protocol,
//! `DnsClient::connect`) is no gRPC client, and no call site.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, SyntaxKind, SyntaxNode, TextRange};

use crate::edit::{CallSite, Output, Tier};
use crate::model::{FileId, Group, ServiceId};
use crate::names::Index;
use crate::scan::Words;

/// An `XClient::connect(..)` (or `new`, ..) no mention covers.
struct Candidate {
    file: FileId,
    /// The client's path (`XClient`, `pb::XClient`).
    client: TextRange,
    /// Its last segment.
    name: String,
    /// The constructor called (`connect`).
    method: &'static str,
}

/// Constructors of tonic's generated clients: `connect` by name alone;
/// the others only for a client named through a generated module
/// (`x_client::XClient`), as many types have a `new`.
const CONSTRUCTORS: [&str; 4] = ["connect", "new", "with_interceptor", "with_origin"];

/// Every `XClient::connect(..)` of `group` that no mention covers and that
/// names no type the group's code defines: one call site per service that
/// reaches its file.
pub fn find(group: &Group, index: &Index) -> Output {
    let candidates = candidates(group, index);
    let names: BTreeSet<String> = candidates.iter().map(|c| c.name.clone()).collect();
    let written = hand_written(group, &names);
    let mut out = Output::default();
    for c in candidates {
        let file = group.file(c.file);
        let callers: BTreeSet<ServiceId> = file.owners().map(|o| o.service).collect();
        let text = &file.text[c.client];
        let written = written.get(&c.name);
        let from = outside_crate(group, c.file, c.client, &c.name);
        let outside = written.is_some() && from.is_some();
        let why = match &from {
            Some(krate) => outside_reason(group, file.service, krate),
            None => "no proto of the group defines it, or its path does not lead to generated code"
                .to_string(),
        };
        for caller in callers {
            if !outside && written.is_some_and(|s| s.contains(&caller)) {
                continue;
            }
            out.calls.push(CallSite {
                tier: Tier::Unresolved,
                at: (c.file, c.client.start()),
                caller,
                detail: format!(
                    "`{text}::{}`: knit cannot tell which gRPC service `{}` calls ({why}); the call stays RPC",
                    c.method, c.name
                ),
                callee: None,
            });
        }
    }
    out
}

/// Why a client named through `krate`, a crate outside the group's packages,
/// is not attributed: its sources are not in Cargo's cache, or they define no
/// gRPC service of that name.
fn outside_reason(group: &Group, service: ServiceId, krate: &str) -> String {
    let api = group.services[service]
        .external_apis
        .iter()
        .find(|a| a.krate == krate);
    match api {
        Some(api) if !api.read => format!(
            "its generated code is in `{krate}` ({}), whose sources are not in Cargo's cache here: `cargo fetch` in the service's workspace lets knit read them",
            api.package
        ),
        Some(api) => format!(
            "its generated code is in `{krate}` ({}), where knit finds no gRPC service of that name",
            api.package
        ),
        None => format!(
            "its generated code is in `{krate}`, a crate outside the group's packages, which knit does not read"
        ),
    }
}

/// The `XClient::connect(..)` calls of `group` whose `XClient` path no
/// mention covers and that name no generated type the index found defined,
/// and its other constructors' calls ([`CONSTRUCTORS`]) where `XClient` is
/// named through a generated client module (`use dragonfly_api::dfdaemon::
/// v2::dfdaemon_download_client::DfdaemonDownloadClient as Grpc;` then
/// `Grpc::new(channel)`).
fn candidates(group: &Group, index: &Index) -> Vec<Candidate> {
    static CONNECT: LazyLock<Words> = LazyLock::new(|| Words::new(CONSTRUCTORS));
    let covered: BTreeSet<(u32, u32, u32)> = index
        .mentions
        .iter()
        .map(|m| (m.file, m.path))
        .chain(index.defined.iter().copied())
        .map(|(file, path)| (file.0, path.start().into(), path.end().into()))
        .collect();
    let mut found = Vec::new();
    for (id, file, rust) in group.rust_files() {
        let offsets = CONNECT.offsets(&file.text);
        if offsets.is_empty() {
            continue;
        }
        let tree = rust.tree();
        // The file's `use` bindings, read once, when a candidate asks.
        let mut imports = None;
        let paths = crate::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::PATH], &offsets);
        for path in paths.into_iter().filter_map(ast::Path::cast) {
            let method = path
                .segment()
                .and_then(|s| s.name_ref())
                .and_then(|n| CONSTRUCTORS.into_iter().find(|c| n.text() == *c));
            let Some(method) = method else { continue };
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
            let named_client = name.len() > "Client".len() && name.ends_with("Client");
            if !is_call || (method == "connect" && !named_client) {
                continue;
            }
            let range = client.syntax().text_range();
            if covered.contains(&(id.0, range.start().into(), range.end().into())) {
                continue;
            }
            if method != "connect" {
                let imports = imports.get_or_insert_with(|| imports_of(tree.syntax(), &file.text));
                if !generated_module(imports, &client, &name) {
                    continue;
                }
            }
            found.push(Candidate {
                file: id,
                client: range,
                name,
                method,
            });
        }
    }
    found
}

/// Whether the client path `client` (last segment `name`) goes through a
/// module named like tonic's generated ones (`x_client::XClient`), written
/// there or in the `use` that binds `name` in its file (`imports`, see
/// [`imports_of`]).
fn generated_module(
    imports: &HashMap<String, Vec<String>>,
    client: &ast::Path,
    name: &str,
) -> bool {
    let mut full = segments(client);
    if full.len() == 1 {
        full = imports.get(name).cloned().unwrap_or_default();
    }
    match full.as_slice() {
        [.., module, last] => module.ends_with("_client") && last.ends_with("Client"),
        _ => false,
    }
}

/// Of `names`, those a type of the group's code is called, written by hand
/// (not tonic's generated client), each with the services that reach the
/// file defining it.
fn hand_written(group: &Group, names: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<ServiceId>> {
    let mut written: BTreeMap<String, BTreeSet<ServiceId>> = BTreeMap::new();
    if names.is_empty() {
        return written;
    }
    let words = Words::new(names);
    const KINDS: &[SyntaxKind] = &[
        SyntaxKind::STRUCT,
        SyntaxKind::ENUM,
        SyntaxKind::UNION,
        SyntaxKind::TYPE_ALIAS,
        SyntaxKind::TRAIT,
    ];
    for (_, file, rust) in group.rust_files() {
        let offsets = words.offsets(&file.text);
        if offsets.is_empty() {
            continue;
        }
        let tree = rust.tree();
        for item in crate::scan::nodes_of_kinds(tree.syntax(), KINDS, &offsets) {
            let name = ast::AnyHasName::cast(item.clone()).and_then(|i| i.name());
            let Some(name) = name.map(|n| n.text().to_string()) else {
                continue;
            };
            if names.contains(&name) && !is_generated(&item) {
                written
                    .entry(name)
                    .or_default()
                    .extend(file.owners().map(|o| o.service));
            }
        }
    }
    written
}

/// The crate outside the group's packages that `file` names the client
/// `name` (its path at `client`) from: by that path's first segment, or by
/// the `use` that imports it (a registry crate's generated client, `use
/// helium_proto::..::GatewayClient`); then a hand-written type of that name
/// elsewhere is not the one it calls.
fn outside_crate(group: &Group, file: FileId, client: TextRange, name: &str) -> Option<String> {
    let source = group.file(file);
    let rust = source.rust.as_ref()?;
    let tree = rust.tree();
    let written = ast::Path::cast(
        tree.syntax()
            .covering_element(client)
            .ancestors()
            .find(|n| n.kind() == SyntaxKind::PATH && n.text_range() == client)?,
    )?;
    let full = match segments(&written) {
        inline if inline.len() > 1 => inline,
        _ => imports_of(tree.syntax(), &source.text).remove(name)?,
    };
    let root = full[0].as_str();
    let package = &group.services[source.service].packages[source.package];
    let own = package
        .lib
        .iter()
        .map(|l| l.name.replace('-', "_"))
        .chain([package.name.replace('-', "_")]);
    let deps = package.local_deps.iter().map(|d| d.key.replace('-', "_"));
    let krate = ["crate", "self", "super"].contains(&root)
        || own.chain(deps).any(|k| k == root)
        || source.text.contains(&format!("mod {root}"));
    let module = || {
        group
            .rust_files()
            .any(|(_, _, r)| r.krate == rust.krate && r.module.iter().any(|m| m == root))
    };
    (!krate && !module()).then(|| root.to_string())
}

/// The segments of `path`, first to last (keywords as written).
fn segments(path: &ast::Path) -> Vec<String> {
    let mut segments = Vec::new();
    let mut at = Some(path.clone());
    while let Some(p) = at {
        let text = p.segment().map(|s| match s.name_ref() {
            Some(n) => n.text().to_string(),
            None => s.syntax().text().to_string(),
        });
        segments.push(text.unwrap_or_default());
        at = p.qualifier();
    }
    segments.reverse();
    segments
}

/// The full path each name a `use` item of `root` (the tree of `text`)
/// binds stands for (`use a::{b::C as Name}` binds `Name` to `a::b::C`); of
/// several items that bind one name, the first in the file.
fn imports_of(root: &SyntaxNode, text: &str) -> HashMap<String, Vec<String>> {
    let mut imports = HashMap::new();
    let uses = crate::scan::USE.offsets(text);
    let items = crate::scan::nodes_of_kinds(root, &[SyntaxKind::USE], &uses);
    let trees = items
        .iter()
        .flat_map(|item| item.descendants().filter_map(ast::UseTree::cast));
    for tree in trees {
        let Some(path) = tree.path() else { continue };
        if tree.use_tree_list().is_some() || tree.star_token().is_some() {
            continue;
        }
        let mut full = segments(&path);
        let bound = match tree.rename() {
            Some(rename) => rename.name().map(|n| n.text().to_string()),
            None => full.last().cloned(),
        };
        let Some(bound) = bound else { continue };
        if imports.contains_key(&bound) {
            continue;
        }
        let outer = tree
            .syntax()
            .ancestors()
            .skip(1)
            .filter_map(ast::UseTree::cast);
        for prefix in outer.filter_map(|t| t.path()) {
            let mut before = segments(&prefix);
            before.append(&mut full);
            full = before;
        }
        imports.insert(bound, full);
    }
    imports
}

/// Whether `item` is tonic's generated client (a struct over
/// `tonic::client::Grpc<T>`), or an alias of one (`type X =
/// pb::x_client::XClient<Channel>`): still a gRPC client, only of a service
/// knit could not identify.
fn is_generated(item: &SyntaxNode) -> bool {
    if let Some(s) = ast::Struct::cast(item.clone()) {
        return s
            .field_list()
            .is_some_and(|f| f.syntax().text().to_string().contains("Grpc<"));
    }
    if let Some(t) = ast::TypeAlias::cast(item.clone()) {
        return t
            .ty()
            .is_some_and(|ty| ty.syntax().text().to_string().contains("_client::"));
    }
    false
}

#[cfg(test)]
mod tests {
    use crate::fixture::{GREETER, group, with_frontend};
    use crate::sharing::Sharing;

    /// Each unresolved site's detail.
    fn details(fixture: &str) -> Vec<String> {
        let group = group(fixture);
        let sharing = Sharing::of(&group);
        let found = super::find(&group, &sharing.index).calls;
        found.into_iter().map(|c| c.detail).collect()
    }

    /// Each unresolved site's reason, after the client's name.
    fn reasons(fixture: &str) -> Vec<String> {
        let details = details(fixture).into_iter();
        details
            .map(|d| d.split_once(" calls (").unwrap().1.to_string())
            .collect()
    }

    #[test]
    fn a_registry_crates_client_is_named_with_its_crate() {
        let main = "use arrow_flight::flight_service_client::FlightServiceClient;\n\
                    #[tokio::main]\nasync fn main() {\n    let f = FlightServiceClient::new(channel());\n    \
                    let g = billing::v1::invoice_client::InvoiceClient::connect(\"http://b\").await;\n}\n";
        expect_test::expect![[r#"
            [
                "its generated code is in `arrow_flight`, a crate outside the group's packages, which knit does not read); the call stays RPC",
                "its generated code is in `billing`, a crate outside the group's packages, which knit does not read); the call stays RPC",
            ]
        "#]]
        .assert_debug_eq(&reasons(&format!("{GREETER}{}", with_frontend(main))));
    }

    /// Each unresolved site's client and constructor.
    fn unresolved(fixture: &str) -> Vec<String> {
        let details = details(fixture).into_iter();
        details
            .map(|d| d.split(": ").next().unwrap().to_string())
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
        let fixture = with_frontend(main);
        assert_eq!(unresolved(&fixture), Vec::<String>::new());
        let findings = crate::fixture::check_all(&fixture).findings;
        expect_test::expect!["Call(Inline) frontend/src/main.rs:6: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"].assert_eq(&findings.join("\n"));
    }

    /// Clients of other protocols the repository writes by hand are no gRPC
    /// clients; a generated client of a service no proto defines still is,
    /// and so is a type only another service defines.
    #[test]
    fn hand_written_clients_are_no_call_sites() {
        let main = "mod dns;\nmod tor {\n    pub struct TorControlPortClient { stream: tokio::net::TcpStream }\n    \
                    impl TorControlPortClient {\n        pub async fn connect(addr: &str) -> std::io::Result<Self> { todo!() }\n    }\n}\n\
                    mod pb {\n    pub mod billing_client {\n        pub struct BillingClient<T> { inner: tonic::client::Grpc<T> }\n    }\n}\n\
                    use dns::DnsClient;\n\
                    #[tokio::main]\nasync fn main() {\n    \
                    let tor = tor::TorControlPortClient::connect(\"127.0.0.1:9051\").await;\n    \
                    let dns = DnsClient::connect(\"1.1.1.1:53\").await;\n    \
                    let redis = redis::Client::open(\"redis://cache\").unwrap();\n    \
                    let http = reqwest::Client::new();\n    \
                    let billing = pb::billing_client::BillingClient::connect(\"http://billing\").await;\n    \
                    let made = pb::billing_client::BillingClient::new(channel());\n    \
                    let downloads = Grpc::new(channel());\n    \
                    let traced = TraceClient::new(channel());\n    \
                    let queue = queue::QueueClient::connect(\"http://queue\").await;\n}\n\
                    use dragonfly_api::dfdaemon::v2::dfdaemon_download_client::DfdaemonDownloadClient as Grpc;\n\
                    mod cli {\n    use helium_proto::services::{GatewayClient, Info};\n    \
                    async fn api() { GatewayClient::connect(\"http://config\").await; }\n}\n";
        // The frontend's own `GatewayClient` is not the one `cli` imports.
        let dns = "//- /frontend/src/dns.rs\npub enum DnsClient { Udp(std::net::UdpSocket) }\n\
                   pub struct GatewayClient { inner: helium_proto::services::GatewayClient<Channel> }\n";
        // Only the greeter defines a `QueueClient`: not the frontend's.
        let greeter = GREETER.replace(
            "#[tokio::main]",
            "pub struct QueueClient { url: String }\n#[tokio::main]",
        );
        assert_eq!(
            unresolved(&format!("{greeter}{}{dns}", with_frontend(main))),
            [
                "`pb::billing_client::BillingClient::connect`",
                "`pb::billing_client::BillingClient::new`",
                "`Grpc::new`",
                "`queue::QueueClient::connect`",
                "`GatewayClient::connect`"
            ]
        );
    }
}
