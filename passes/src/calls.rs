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
    for m in sharing.index.mentions.iter().filter(|m| m.named.role == Role::Client) {
        let decision = &sharing.calls[&(m.service, m.named.clone())];
        let shared = sharing.package(&m.named.package);
        if matches!(m.usage, Usage::Call { .. }) {
            out.findings.push(call_finding(group, m, decision, shared));
        }
        let (Decision::Inline { .. }, Some(shared)) = (decision, shared) else { continue };
        let client = format!("{}::{}Client", shared.inline_module(&m.named.service), m.named.service);
        match &m.usage {
            Usage::Type => out.edit(PASS, m.file, m.path, &client, "client type: in-process client"),
            Usage::Call { method, .. } => {
                out.edit(PASS, m.file, m.path, &client, format!("`{method}`: in-process client"))
            }
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
            let op = crate::manifest::ManifestOp::AddPathDependency { key: shared.package_name(), path };
            out.manifest_ops.push((package.manifest, op));
        }
    }
    out
}
