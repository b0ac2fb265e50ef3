//! Impls a service writes on its own generated types. A service that compiles
//! a proto package itself owns the generated messages, and may write
//! `impl HelloReply { .. }` or `impl Display for HelloReply`. Merged, a shared
//! proto crate would own them, and Rust's orphan rule forbids both impls in the
//! service's crate (E0116, E0117): such a service keeps its own generated
//! types, and its calls are bridged (or stay RPC) with the reason.
//!
//! An impl counts when its type is a generated message or enum, named through
//! a module that includes the package (`pb::HelloReply`, or `HelloReply`
//! imported from one), and it is inherent, or of a trait the service does not
//! define and that takes no type parameters (`impl From<Local> for HelloReply`
//! stays allowed).

use std::collections::BTreeSet;

use ra_ap_syntax::ast::{self, HasGenericArgs};
use ra_ap_syntax::{AstNode, SyntaxKind};

use crate::model::{FileId, Group, ServiceId};
use crate::names::Index;
use crate::scan::Words;

/// The first impl of `service` on a generated type of proto `package` that a
/// shared proto crate would forbid: its file, byte offset and the type named.
pub fn impl_on_generated(
    group: &Group,
    index: &Index,
    service: ServiceId,
    package: &str,
) -> Option<(FileId, usize, String)> {
    let modules: BTreeSet<&str> = index
        .modules_of(service, package)
        .filter_map(|m| m.module.last().map(String::as_str))
        .collect();
    let types = generated_types(group, service, package);
    if modules.is_empty() || types.is_empty() {
        return None;
    }
    let files: Vec<(FileId, &crate::model::SourceFile)> = group
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (FileId(i as u32), f))
        .filter(|(_, f)| f.service == service && f.rust.is_some())
        .collect();
    let words = Words::new(["impl"]);
    let type_words = Words::new(&types);
    for (id, file) in &files {
        // The impls whose header (up to its `{` or `;`) names a generated
        // type: the others cannot be on one.
        let offsets: Vec<_> = words
            .offsets(&file.text)
            .into_iter()
            .filter(|at| {
                let rest = &file.text[usize::from(*at)..];
                let header = &rest[..rest.find(['{', ';']).unwrap_or(rest.len())];
                !type_words.offsets(header).is_empty()
            })
            .collect();
        if offsets.is_empty() {
            continue;
        }
        let tree = file.rust.as_ref()?.tree();
        let impls = crate::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::IMPL], &offsets);
        for imp in impls.into_iter().filter_map(ast::Impl::cast) {
            let Some(ast::Type::PathType(self_ty)) = imp.self_ty() else {
                continue;
            };
            let Some(path) = self_ty.path() else {
                continue;
            };
            let segments: Vec<String> = path
                .syntax()
                .descendants()
                .filter_map(ast::PathSegment::cast)
                .filter_map(|s| s.name_ref().map(|n| n.text().to_string()))
                .collect();
            let Some((last, before)) = segments.split_last() else {
                continue;
            };
            if !types.contains(last) {
                continue;
            }
            let generated = if before.is_empty() {
                imported_from(&tree, last, &modules)
            } else {
                before.iter().any(|s| modules.contains(s.as_str()))
            };
            if !generated {
                continue;
            }
            if let Some(trait_ty) = imp.trait_() {
                let ast::Type::PathType(trait_path) = trait_ty else {
                    continue;
                };
                let Some(segment) = trait_path.path().and_then(|p| p.segment()) else {
                    continue;
                };
                let name = segment.name_ref().map(|n| n.text().to_string());
                // Declared by the service (a word search: `trait Name`).
                let local = name.is_some_and(|name| {
                    let declared = format!("trait {name}");
                    files.iter().any(|(_, f)| f.text.contains(&declared))
                });
                if local || segment.generic_arg_list().is_some() {
                    continue;
                }
            }
            let at = usize::from(imp.syntax().text_range().start());
            return Some((*id, at, path.syntax().text().to_string()));
        }
    }
    None
}

/// Whether `tree` imports `name` by a path through one of `modules`.
fn imported_from(tree: &ast::SourceFile, name: &str, modules: &BTreeSet<&str>) -> bool {
    tree.syntax()
        .descendants()
        .filter_map(ast::Use::cast)
        .any(|u| {
            let text: String = u.syntax().text().to_string();
            let words: Vec<&str> = text
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .collect();
            words.contains(&name) && words.iter().any(|w| modules.contains(w))
        })
}

/// The Rust names of the messages and enums of `service`'s proto `package`:
/// the methods' input and output types, and each `message` and `enum` the
/// files declare.
fn generated_types(group: &Group, service: ServiceId, package: &str) -> BTreeSet<String> {
    let prefix = format!(".{package}.");
    let mut names = BTreeSet::new();
    for proto in group.services[service]
        .protos
        .iter()
        .filter(|p| p.package == package)
    {
        for m in proto.services.iter().flat_map(|s| &s.methods) {
            for ty in [&m.input, &m.output] {
                if let Some(name) = ty.strip_prefix(&prefix) {
                    names.insert(crate::names::upper_camel(name));
                }
            }
        }
        for line in proto.text.lines() {
            let mut words = line.split_whitespace();
            if let (Some("message" | "enum"), Some(name)) = (words.next(), words.next()) {
                let name = name.trim_end_matches('{');
                if !name.is_empty() {
                    names.insert(crate::names::upper_camel(name));
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use crate::fixture::{GREETER, HELLO_PROTO, check_all};

    /// The frontend of the fixture: calls the greeter.
    const FRONTEND: &str = "//- /frontend/Cargo.toml\n[package]\nname = \"frontend\"\nedition = \"2021\"\n//- /frontend/src/main.rs\nuse hello::greeter_client::GreeterClient;\nmod hello { tonic::include_proto!(\"helloworld\"); }\n#[tokio::main]\nasync fn main() { let c = GreeterClient::connect(\"http://a\").await; }\n";

    fn findings(greeter_items: &str) -> String {
        let fixture = format!(
            "{}{greeter_items}\n//- /frontend/proto/helloworld.proto\n{HELLO_PROTO}{FRONTEND}",
            GREETER.trim_end()
        );
        check_all(&fixture)
            .render("frontend/src/main.rs")
            .lines()
            .filter(|l| l.starts_with("Call"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// An inherent impl, or one of a foreign trait, on a generated message keeps
    /// the provider's types its own: the call is bridged, with the reason. An
    /// impl of the service's own trait, or `From<Local>`, shares as before.
    #[test]
    fn impls_on_generated_types_keep_them_the_services() {
        let inherent = findings("impl hello_world::HelloReply { fn shout(&self) {} }");
        assert!(inherent.starts_with("Call(Bridged)"), "{inherent}");
        assert!(
            inherent.contains("implements `hello_world::HelloReply`"),
            "{inherent}"
        );
        let imported = findings(
            "use hello_world::HelloRequest;\nimpl std::fmt::Display for HelloRequest { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { Ok(()) } }",
        );
        assert!(imported.starts_with("Call(Bridged)"), "{imported}");
        for allowed in [
            "trait Shout { fn shout(&self); }\nimpl Shout for hello_world::HelloReply { fn shout(&self) {} }",
            "struct Local;\nimpl From<Local> for hello_world::HelloReply { fn from(_: Local) -> Self { todo!() } }",
            "struct HelloReply;\nimpl HelloReply { fn own(&self) {} }",
        ] {
            let found = findings(allowed);
            assert!(found.starts_with("Call(Inline)"), "{allowed}: {found}");
        }
    }
}
