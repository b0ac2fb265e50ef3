//! Which paths name the clients and servers that tonic generates for proto
//! services, resolved by name within each crate (not by text).
//!
//! The resolver follows what the passes need today: modules that include a proto
//! package (`tonic::include_proto!`, `include!(concat!(env!("OUT_DIR"), ..))`),
//! `use` trees (with renames and globs) at module level, `crate::`, `self::` and
//! `super::` paths, and paths through child modules. A name it cannot resolve is
//! not a mention: knit never rewrites what it has not identified.

use std::collections::{BTreeMap, BTreeSet};

use ra_ap_syntax::ast::HasArgList;
use ra_ap_syntax::ast::{self, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, AstToken, SyntaxKind, SyntaxNode, TextRange};

use crate::model::{FileId, Group};

/// A module of a crate whose contents are the code generated for a proto package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoModule {
    pub service: usize,
    pub file: FileId,
    /// Module path from the crate root.
    pub module: Vec<String>,
    pub package: String,
    /// The include macro call, with its `;`.
    pub include: TextRange,
}

/// What a mention names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Named {
    pub role: Role,
    pub package: String,
    /// The proto service name (`Greeter`).
    pub service: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `greeter_client::GreeterClient`
    Client,
    /// `greeter_server::GreeterServer`
    Server,
}

/// How a mention is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Usage {
    /// In a type: field, signature, generic argument, alias.
    Type,
    /// `Type::method(args)`; `call` is the whole call expression.
    Call {
        method: String,
        method_range: TextRange,
        call: TextRange,
        args: Vec<TextRange>,
    },
    /// In a `use` item.
    Import,
    /// Anything else.
    Other,
}

/// A path that names a generated client or server type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    pub service: usize,
    pub file: FileId,
    /// The path naming the type, generic arguments included.
    pub path: TextRange,
    pub named: Named,
    pub usage: Usage,
}

/// The proto modules and the client/server mentions of a group.
#[derive(Debug, Default)]
pub struct Index {
    pub proto_modules: Vec<ProtoModule>,
    pub mentions: Vec<Mention>,
}

/// `SayHello` -> `say_hello`, as tonic names modules and methods.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A crate: files of one target tree of one package of one service.
struct Crate {
    service: usize,
    files: Vec<FileId>,
    modules: BTreeSet<Vec<String>>,
    /// package -> proto service names, from the service's proto files.
    protos: BTreeMap<String, Vec<String>>,
}

impl Index {
    pub fn of(group: &Group) -> Index {
        let mut index = Index::default();
        let mut crates: BTreeMap<(usize, usize, FileId), Crate> = BTreeMap::new();
        for (id, file, rust) in group.rust_files() {
            let krate = crates
                .entry((file.service, file.package, rust.krate))
                .or_insert_with(|| Crate {
                    service: file.service,
                    files: Vec::new(),
                    modules: BTreeSet::new(),
                    protos: BTreeMap::new(),
                });
            krate.files.push(id);
        }
        for krate in crates.values_mut() {
            for proto in &group.services[krate.service].protos {
                let names = krate.protos.entry(proto.package.clone()).or_default();
                names.extend(proto.services.iter().map(|s| s.name.clone()));
            }
            for &id in &krate.files {
                let rust = group.file(id).rust.as_ref().unwrap();
                let tree = rust.parse.tree();
                krate.modules.insert(rust.module.clone());
                for module in tree.syntax().descendants().filter_map(ast::Module::cast) {
                    if module.item_list().is_some() {
                        krate
                            .modules
                            .insert(scope_of(&rust.module, module.syntax()));
                    }
                }
                for call in tree.syntax().descendants().filter_map(ast::MacroCall::cast) {
                    if let Some(package) = included_package(&call) {
                        index.proto_modules.push(ProtoModule {
                            service: krate.service,
                            file: id,
                            module: scope_of(&rust.module, call.syntax()),
                            package,
                            include: crate::edit::code_range(call.syntax()),
                        });
                    }
                }
            }
        }
        for krate in crates.values() {
            let modules: Vec<&ProtoModule> = index
                .proto_modules
                .iter()
                .filter(|m| krate.files.contains(&m.file))
                .collect();
            for &id in &krate.files {
                mentions_in(group, krate, &modules, id, &mut index.mentions);
            }
        }
        index
    }

    /// The proto modules of `service` that include `package`.
    pub fn modules_of(&self, service: usize, package: &str) -> impl Iterator<Item = &ProtoModule> {
        self.proto_modules
            .iter()
            .filter(move |m| m.service == service && m.package == package)
    }
}

/// The module path of `node`: the file's module plus enclosing inline modules.
fn scope_of(file_module: &[String], node: &SyntaxNode) -> Vec<String> {
    let mut inner: Vec<String> = node
        .ancestors()
        .skip(1)
        .filter_map(ast::Module::cast)
        .filter_map(|m| m.name().map(|n| n.text().to_string()))
        .collect();
    inner.reverse();
    let mut path = file_module.to_vec();
    path.extend(inner);
    if let Some(module) = ast::Module::cast(node.clone()) {
        path.extend(module.name().map(|n| n.text().to_string()));
    }
    path
}

/// The proto package an include macro brings in, if `call` is one.
fn included_package(call: &ast::MacroCall) -> Option<String> {
    let name = call.path()?.segment()?.name_ref()?.text().to_string();
    let tokens = call.token_tree()?;
    let strings = tokens
        .syntax()
        .descendants_with_tokens()
        .filter_map(|t| t.into_token())
        .filter(|t| t.kind() == SyntaxKind::STRING)
        .filter_map(|t| ast::String::cast(t)?.value().ok().map(|v| v.to_string()));
    match name.as_str() {
        "include_proto" => strings.into_iter().next(),
        "include" => strings
            .into_iter()
            .find_map(|s| {
                s.strip_suffix(".rs")
                    .map(|p| p.trim_start_matches('/').to_string())
            })
            .filter(|p| !p.contains('/')),
        _ => None,
    }
}

/// Module-level imports: local name -> absolute path, and glob prefixes.
#[derive(Default)]
struct Imports {
    names: BTreeMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
}

fn segments(path: &ast::Path) -> Option<Vec<String>> {
    path.segments()
        .map(|s| match s.kind()? {
            ast::PathSegmentKind::Name(n) => Some(n.text().to_string()),
            ast::PathSegmentKind::CrateKw => Some("crate".into()),
            ast::PathSegmentKind::SelfKw => Some("self".into()),
            ast::PathSegmentKind::SuperKw => Some("super".into()),
            _ => None,
        })
        .collect()
}

/// Resolves `segs` seen in module `scope` to an absolute path in the crate.
fn resolve(
    krate: &Crate,
    scope: &[String],
    imports: Option<&Imports>,
    segs: &[String],
) -> Option<Vec<String>> {
    let (first, rest) = segs.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => scope.to_vec(),
        "super" => scope.split_last()?.1.to_vec(),
        _ => {
            let child = [scope, std::slice::from_ref(first)].concat();
            if let Some(target) = imports.and_then(|i| i.names.get(first)) {
                target.clone()
            } else if krate.modules.contains(&child) {
                child
            } else {
                let globbed = imports?
                    .globs
                    .iter()
                    .map(|g| [g.as_slice(), std::slice::from_ref(first)].concat());
                globbed
                    .into_iter()
                    .find(|p| classify(krate, p).is_some() || krate.modules.contains(p))?
            }
        }
    };
    let mut rest = rest;
    while first == "super" && rest.first().is_some_and(|s| s == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Whether the absolute path `path` names a generated client or server type.
fn classify(krate: &Crate, path: &[String]) -> Option<(Vec<String>, String, Named)> {
    let [.., module, ty] = path else { return None };
    for (package, services) in &krate.protos {
        for service in services {
            let snake = snake_case(service);
            let role = if *module == format!("{snake}_client") && *ty == format!("{service}Client")
            {
                Role::Client
            } else if *module == format!("{snake}_server") && *ty == format!("{service}Server") {
                Role::Server
            } else {
                continue;
            };
            let named = Named {
                role,
                package: package.clone(),
                service: service.clone(),
            };
            return Some((path[..path.len() - 2].to_vec(), package.clone(), named));
        }
    }
    None
}

/// The client a crate-internal path seems to name by its last segment, when
/// resolution cannot follow it to the generated module.
fn unfollowed_client(krate: &Crate, path: &[String]) -> Option<Named> {
    let last = path.last()?;
    if path.len() < 2 || krate.modules.contains(path) {
        return None;
    }
    krate.protos.iter().find_map(|(package, services)| {
        let service = services.iter().find(|s| *last == format!("{s}Client"))?;
        Some(Named {
            role: Role::Client,
            package: package.clone(),
            service: service.clone(),
        })
    })
}

fn imports_of(krate: &Crate, scope: &[String], items: impl Iterator<Item = ast::Item>) -> Imports {
    let mut imports = Imports::default();
    for item in items {
        let ast::Item::Use(use_) = item else { continue };
        if let Some(tree) = use_.use_tree() {
            flatten(krate, scope, &[], &tree, &mut imports);
        }
    }
    imports
}

fn flatten(
    krate: &Crate,
    scope: &[String],
    prefix: &[String],
    tree: &ast::UseTree,
    out: &mut Imports,
) {
    let mut path = prefix.to_vec();
    if let Some(p) = tree.path() {
        let Some(segs) = segments(&p) else { return };
        path.extend(segs);
    }
    if let Some(list) = tree.use_tree_list() {
        for sub in list.use_trees() {
            flatten(krate, scope, &path, &sub, out);
        }
        return;
    }
    let Some(target) = resolve(krate, scope, None, &path) else {
        return;
    };
    if tree.star_token().is_some() {
        out.globs.push(target);
        return;
    }
    let local = match tree.rename() {
        Some(rename) => match rename.name() {
            Some(name) => name.text().to_string(),
            None => return,
        },
        None => match target.last() {
            Some(last) if last != "self" => last.clone(),
            _ => return,
        },
    };
    let target = if target.last().is_some_and(|l| l == "self") {
        target[..target.len() - 1].to_vec()
    } else {
        target
    };
    out.names.insert(local, target);
}

fn mentions_in(
    group: &Group,
    krate: &Crate,
    modules: &[&ProtoModule],
    id: FileId,
    out: &mut Vec<Mention>,
) {
    let rust = group.file(id).rust.as_ref().unwrap();
    let tree = rust.parse.tree();
    let mut scopes: BTreeMap<Vec<String>, Imports> = BTreeMap::new();
    scopes.insert(
        rust.module.clone(),
        imports_of(krate, &rust.module, tree.items()),
    );
    for module in tree.syntax().descendants().filter_map(ast::Module::cast) {
        if let Some(items) = module.item_list() {
            let scope = scope_of(&rust.module, module.syntax());
            let imports = imports_of(krate, &scope, items.items());
            scopes.insert(scope, imports);
        }
    }
    for path in tree.syntax().descendants().filter_map(ast::Path::cast) {
        let Some(segs) = segments(&path) else {
            continue;
        };
        let scope = scope_of(&rust.module, path.syntax());
        let in_use = path
            .syntax()
            .ancestors()
            .any(|a| a.kind() == SyntaxKind::USE);
        let Some(abs) = resolve(krate, &scope, scopes.get(&scope), &segs) else {
            continue;
        };
        let Some((module, package, named)) = classify(krate, &abs) else {
            // A path inside the crate that names a client type by another route
            // (a `pub use` re-export, a `type` in another module) is not followed:
            // it makes the client's sites stay RPC rather than half converted.
            if let Some(named) = unfollowed_client(krate, &abs) {
                let usage = Usage::Other;
                out.push(Mention {
                    service: krate.service,
                    file: id,
                    path: path.syntax().text_range(),
                    named,
                    usage,
                });
            }
            continue;
        };
        // The generated module must be one that includes this package.
        if !modules
            .iter()
            .any(|m| m.module == module && m.package == package)
        {
            continue;
        }
        // A `use` inside a function body is not resolved: its names stay unknown,
        // so the mention makes every site of this client stay an RPC.
        let in_body = path
            .syntax()
            .ancestors()
            .any(|a| a.kind() == SyntaxKind::BLOCK_EXPR);
        let usage = match (in_use, in_body) {
            (true, false) => Usage::Import,
            (true, true) => Usage::Other,
            (false, _) => usage_of(&path),
        };
        out.push(Mention {
            service: krate.service,
            file: id,
            path: path.syntax().text_range(),
            named,
            usage,
        });
    }
}

fn usage_of(path: &ast::Path) -> Usage {
    let Some(parent) = path.syntax().parent() else {
        return Usage::Other;
    };
    if ast::PathType::can_cast(parent.kind()) {
        return Usage::Type;
    }
    let call = ast::Path::cast(parent.clone()).and_then(|outer| {
        let name = outer.segment()?.name_ref()?;
        let (method, method_range) = (name.text().to_string(), name.syntax().text_range());
        let expr = ast::PathExpr::cast(outer.syntax().parent()?)?;
        let call = ast::CallExpr::cast(expr.syntax().parent()?)?;
        let args = call
            .arg_list()?
            .args()
            .map(|a| a.syntax().text_range())
            .collect();
        Some(Usage::Call {
            method,
            method_range,
            call: call.syntax().text_range(),
            args,
        })
    });
    call.unwrap_or(Usage::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_matches_tonic() {
        assert_eq!(snake_case("SayHello"), "say_hello");
        assert_eq!(snake_case("Greeter"), "greeter");
        assert_eq!(snake_case("RouteGuide"), "route_guide");
        assert_eq!(snake_case("HTTPProxy"), "http_proxy");
        assert_eq!(snake_case("GetV2"), "get_v2");
    }
}
