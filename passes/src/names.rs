//! Which paths name the clients and servers that tonic generates for proto
//! services, resolved by name within each crate (not by text).
//!
//! The resolver follows: modules that include a proto package
//! (`tonic::include_proto!`, `include!(concat!(env!("OUT_DIR"), ..))`) or are
//! its generated code checked into the source tree, `use`
//! trees (with renames and globs) at module level and in blocks, re-exports
//! (`pub use`, globs included) to where a name is defined, `crate::`, `self::`
//! and `super::` paths, child modules, and the other crates of the same service
//! (a binary naming its package's library, a path dependency). A name it cannot
//! resolve is not a mention: knit never rewrites what it has not identified.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use ra_ap_syntax::ast::HasArgList;
use ra_ap_syntax::ast::{self, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, AstToken, SyntaxKind, SyntaxNode, TextRange, TextSize};
use rayon::prelude::*;

use crate::model::{FileId, Group, PackageId, PackageRef, ServiceId};
use crate::scan::Words;

/// A module of a crate whose contents are the code generated for a proto package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoModule {
    pub service: ServiceId,
    pub file: FileId,
    /// Module path from the crate root.
    pub module: Vec<String>,
    pub package: String,
    /// What the shared crate's re-export replaces: the include macro call with
    /// its `;`, the whole file of generated code checked into the sources, or
    /// the `;` of a `mod` whose file a build script writes (see `body`).
    pub include: TextRange,
    /// Whether `include` is a `mod` item's `;`, to become the module's body.
    pub body: bool,
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
    pub service: ServiceId,
    pub file: FileId,
    /// The path naming the type, generic arguments included.
    pub path: TextRange,
    pub named: Named,
    pub usage: Usage,
    /// Named through a `type` alias (`Names::new(..)` with `type Names =
    /// NamesClient<Channel>`): the alias is rewritten, not this path.
    pub aliased: bool,
    /// The API crate outside the group whose generated type the path names
    /// (`tonic-health 0.14.9`), when it names one.
    pub api_crate: Option<String>,
}

/// The proto modules and the client/server mentions of a group.
#[derive(Debug, Default)]
pub struct Index {
    pub proto_modules: Vec<ProtoModule>,
    pub mentions: Vec<Mention>,
    /// Paths spelled like a generated type that name a type the group's code
    /// defines (a client helper `AuthClient` that wraps the generated one).
    pub defined: Vec<(FileId, TextRange)>,
}

pub use knit_codegen::names::{snake_case, upper_camel};

/// A crate, by service, package and root file.
type CrateKey = (ServiceId, PackageId, FileId);

/// An absolute path: a crate and the segments from its root.
type Path = (CrateKey, Vec<String>);

/// A crate: files of one target tree of one package of one service.
struct Crate {
    service: ServiceId,
    files: Vec<FileId>,
    modules: BTreeSet<Vec<String>>,
    /// package -> proto service names, from the service's proto files.
    protos: BTreeMap<String, Vec<String>>,
    /// The proto modules of this crate: (module path, proto package).
    proto_modules: BTreeSet<(Vec<String>, String)>,
    /// The modules tonic generates in the proto modules (`pb::greeter_client`,
    /// `pb::greeter_server`).
    generated_modules: BTreeSet<Vec<String>>,
    /// Other crates of the service this crate can name: its package's library,
    /// and the libraries of the path dependencies, by crate name.
    externs: BTreeMap<String, CrateKey>,
    /// Module-level imports, by module path: what each module's `use` items
    /// (re-exports included) bring into scope.
    imports: BTreeMap<Vec<String>, Imports>,
    /// An API crate outside the group (a registry or git dependency holding
    /// generated code), by its package and version: known by the services it
    /// defines, not by its sources.
    external: Option<String>,
    /// The package's build script runs volo-build: the generated code it
    /// includes is Volo's (`XClient` there is no tonic client).
    volo: bool,
}

/// The crates of a group.
type Crates = BTreeMap<CrateKey, Crate>;

impl Index {
    pub fn of(group: &Group) -> Index {
        let mut index = Index::default();
        let mut crates: Crates = BTreeMap::new();
        for (id, file, rust) in group.rust_files() {
            // A package several services reach is a crate of each.
            // A file two crates of its package compile is a module of each.
            let owners = file.owners().flat_map(|PackageRef { service, package }| {
                rust.crates().map(move |krate| (service, package, krate))
            });
            for (service, package, root) in owners {
                let krate = crates
                    .entry((service, package, root))
                    .or_insert_with(|| Crate {
                        service,
                        files: Vec::new(),
                        modules: BTreeSet::new(),
                        protos: BTreeMap::new(),
                        proto_modules: BTreeSet::new(),
                        generated_modules: BTreeSet::new(),
                        externs: BTreeMap::new(),
                        imports: BTreeMap::new(),
                        external: None,
                        volo: group.services[service].packages[package.0]
                            .build_script
                            .as_deref()
                            .is_some_and(|script| script.contains("volo_build")),
                    });
                krate.files.push(id);
            }
        }
        let keys: Vec<CrateKey> = crates.keys().copied().collect();
        for key in keys {
            let externs = externs_of(group, key, &crates);
            let krate = crates.get_mut(&key).unwrap();
            krate.externs = externs;
            for proto in &group.services[krate.service].protos {
                let names = krate.protos.entry(proto.package.clone()).or_default();
                names.extend(proto.services.iter().map(|s| s.name.clone()));
            }
        }
        add_external_crates(group, &mut crates);
        let files: Vec<(CrateKey, FileId)> = crates
            .iter()
            .flat_map(|(&key, krate)| krate.files.iter().map(move |&id| (key, id)))
            .collect();
        let scanned: Vec<(CrateKey, Vec<Vec<String>>, Vec<ProtoModule>)> = files
            .par_iter()
            .map(|&(key, id)| {
                let (modules, protos) = modules_of_file(group, key, id);
                (key, modules, protos)
            })
            .collect();
        for (key, modules, protos) in scanned {
            let krate = crates.get_mut(&key).unwrap();
            krate.modules.extend(modules);
            for proto in protos {
                let module = (proto.module.clone(), proto.package.clone());
                for service in krate.protos.get(&proto.package).into_iter().flatten() {
                    let snake = snake_case(service);
                    for suffix in ["_client", "_server"] {
                        let mut generated = proto.module.clone();
                        generated.push(format!("{snake}{suffix}"));
                        krate.generated_modules.insert(generated);
                    }
                }
                krate.proto_modules.insert(module);
                let known = index.proto_modules.iter().any(|m| {
                    (m.service, m.file, m.include) == (proto.service, proto.file, proto.include)
                });
                if !known {
                    index.proto_modules.push(proto);
                }
            }
        }
        // Imports are resolved once every crate knows its modules.
        let imports: Vec<(CrateKey, ModuleImports)> = files
            .par_iter()
            .map(|&(key, id)| (key, imports_of_file(group, &crates, key, id)))
            .collect();
        for (key, modules) in imports {
            crates.get_mut(&key).unwrap().imports.extend(modules);
        }
        resolve_aliases(&mut crates);
        let names = type_names(&crates);
        let words = Words::new(&names);
        let found: Vec<(Vec<Mention>, Vec<TextRange>, FileId)> = files
            .par_iter()
            .map(|&(key, id)| {
                let mut mentions = Vec::new();
                let mut defined = Vec::new();
                // A mention's paths, macro arguments and block imports all spell
                // one of the names: a file without them has none, and only the
                // parts of a file that spell them are walked.
                let spelled = words.offsets(&group.file(id).text);
                if !spelled.is_empty() {
                    let out = (&mut mentions, &mut defined);
                    mentions_in(group, &crates, &names, (key, id), &spelled, out);
                }
                (mentions, defined, id)
            })
            .collect();
        // A file two crates compile is walked once for each: one mention.
        let mut seen = BTreeSet::new();
        for (mentions, defined, id) in found {
            index.mentions.extend(
                mentions
                    .into_iter()
                    .filter(|m| seen.insert((m.service, m.file, m.path.start(), m.path.end()))),
            );
            index
                .defined
                .extend(defined.into_iter().map(|range| (id, range)));
        }
        index
    }

    /// The proto modules of `service` that include `package`.
    pub fn modules_of(
        &self,
        service: ServiceId,
        package: &str,
    ) -> impl Iterator<Item = &ProtoModule> {
        self.proto_modules
            .iter()
            .filter(move |m| m.service == service && m.package == package)
    }
}

/// Every name a generated client or server goes by in `crates`: `XClient`,
/// `XServer`, and the local names imports give them (`use .. as G`). A path
/// whose last segment is none of these names no generated type, and is not
/// resolved at all.
fn type_names(crates: &Crates) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = crates
        .values()
        .flat_map(|k| k.protos.values().flatten())
        .flat_map(|s| {
            let name = upper_camel(s);
            [format!("{name}Client"), format!("{name}Server")]
        })
        .collect();
    // The functions API crates build their servers with.
    for krate in crates.values() {
        let Some(external) = krate.external.as_deref() else {
            continue;
        };
        for builder in SERVER_BUILDERS {
            if external.split(' ').next() == Some(builder.krate)
                && let Some(last) = builder.path.last()
            {
                names.insert(last.to_string());
            }
        }
    }
    let imports: Vec<&Imports> = crates.values().flat_map(|k| k.imports.values()).collect();
    loop {
        let before = names.len();
        for imports in &imports {
            extend_with_aliases(&mut names, imports);
        }
        if names.len() == before {
            return names;
        }
    }
}

/// Adds to `names` the local names `imports` give to a name in `names`.
fn extend_with_aliases(names: &mut BTreeSet<String>, imports: &Imports) {
    for (local, (_, target)) in &imports.names {
        if target.last().is_some_and(|last| names.contains(last)) && !names.contains(local) {
            names.insert(local.clone());
        }
    }
}

/// The module path of `rust` in the crate rooted at `root`.
fn module_in(rust: &crate::model::RustFile, root: FileId) -> &[String] {
    rust.module_in(root).unwrap_or(&rust.module)
}

/// The modules file `id` (of crate `key`) is and declares inline, and
/// the proto modules among them.
fn modules_of_file(
    group: &Group,
    (service, _, root): CrateKey,
    id: FileId,
) -> (Vec<Vec<String>>, Vec<ProtoModule>) {
    let file = group.file(id);
    let rust = file.rust.as_ref().unwrap();
    let own = module_in(rust, root);
    let tree = rust.tree();
    // Modules, and the macros that include generated code.
    static WORDS: LazyLock<Words> =
        LazyLock::new(|| Words::new(["mod", "include_proto", "include"]));
    let kinds = [SyntaxKind::MODULE, SyntaxKind::MACRO_CALL];
    let found = crate::scan::nodes_of_kinds(tree.syntax(), &kinds, &WORDS.offsets(&file.text));
    let mut modules = vec![own.to_vec()];
    for module in found.iter().cloned().filter_map(ast::Module::cast) {
        if module.item_list().is_some() {
            modules.push(scope_of(own, module.syntax()));
        }
    }
    let mut protos = Vec::new();
    let packages = &group.services[service].protos;
    let known = |stem: String, text: Option<&str>| package_of_stem(packages, stem, text);
    if let Some(package) = checked_in_package(&file.path, &file.text) {
        let package = known(package, Some(&file.text));
        // The whole file (but its last line break) is generated code.
        let range = TextRange::up_to(ra_ap_syntax::TextSize::of(file.text.trim_end()));
        protos.push(ProtoModule {
            service,
            file: id,
            module: own.to_vec(),
            package,
            include: range,
            body: false,
        });
    }
    for built in &rust.built_modules {
        let node = tree.syntax().covering_element(built.item);
        let Some(item) = node.ancestors().find_map(ast::Module::cast) else {
            continue;
        };
        let Some(semicolon) = item.semicolon_token() else {
            continue;
        };
        let module = scope_of(own, item.syntax());
        modules.push(module.clone());
        protos.push(ProtoModule {
            service,
            file: id,
            module,
            package: known(built.stem.clone(), None),
            include: semicolon.text_range(),
            body: true,
        });
    }
    for call in found.into_iter().filter_map(ast::MacroCall::cast) {
        if let Some(package) = included_package(&call).map(|p| known(p, None)) {
            protos.push(ProtoModule {
                service,
                file: id,
                module: scope_of(own, call.syntax()),
                package,
                include: crate::edit::code_range(call.syntax()),
                body: false,
            });
        }
    }
    (modules, protos)
}

/// The imports of modules, by module path.
type ModuleImports = Vec<(Vec<String>, Imports)>;

/// The imports of each module of file `id`: the file's own and its inline modules'.
fn imports_of_file(group: &Group, crates: &Crates, key: CrateKey, id: FileId) -> ModuleImports {
    let file = group.file(id);
    let rust = file.rust.as_ref().unwrap();
    let own = module_in(rust, key.2);
    let tree = rust.tree();
    let mut modules = vec![(own.to_vec(), imports_of(crates, key, own, tree.items()))];
    let mods = crate::scan::MOD.offsets(&file.text);
    let modules_found = crate::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::MODULE], &mods);
    for module in modules_found.into_iter().filter_map(ast::Module::cast) {
        if let Some(items) = module.item_list() {
            let scope = scope_of(own, module.syntax());
            let imports = imports_of(crates, key, &scope, items.items());
            modules.push((scope, imports));
        }
    }
    modules
}

/// The crates of its service that crate `key` names: the library of its own
/// package (from a binary) and the libraries of its path dependencies.
fn externs_of(group: &Group, key: CrateKey, crates: &Crates) -> BTreeMap<String, CrateKey> {
    let (service, package, root) = key;
    let packages = &group.services[service].packages;
    let lib_of = |p: PackageId| {
        let lib = packages[p].lib.as_ref()?;
        let key = (service, p, lib.root);
        crates
            .contains_key(&key)
            .then(|| (lib.name.replace('-', "_"), key))
    };
    let mut externs: BTreeMap<String, CrateKey> = BTreeMap::new();
    externs.extend(lib_of(package).filter(|(_, k)| k.2 != root));
    for dep in &packages[package].local_deps {
        let Some(p) = packages
            .iter()
            .position(|p| p.name == dep.package)
            .map(PackageId)
        else {
            continue;
        };
        if let Some((_, lib)) = lib_of(p) {
            externs.insert(dep.key.replace('-', "_"), lib);
        }
    }
    externs
}

/// Adds the API crates outside the group that services depend on
/// (`ExternalApi`), each as a crate without files, named by every crate of its
/// service that does not give the name to another crate of the group.
fn add_external_crates(group: &Group, crates: &mut Crates) {
    let mut next = 0;
    for (service, s) in group.services.iter().enumerate() {
        let service = ServiceId(service);
        // One crate per name: the services of every version the lockfile holds.
        let mut by_name: BTreeMap<&str, Vec<&crate::model::ExternalApi>> = BTreeMap::new();
        for api in s.external_apis.iter().filter(|a| !a.services.is_empty()) {
            by_name.entry(api.krate.as_str()).or_default().push(api);
        }
        for (name, apis) in by_name {
            next += 1;
            let key = (
                service,
                PackageId(usize::MAX - next),
                FileId(u32::MAX - next as u32),
            );
            let packages: Vec<&str> = apis.iter().map(|a| a.package.as_str()).collect();
            let mut krate = Crate {
                service,
                files: Vec::new(),
                modules: BTreeSet::new(),
                protos: BTreeMap::new(),
                proto_modules: BTreeSet::new(),
                generated_modules: BTreeSet::new(),
                externs: BTreeMap::new(),
                imports: BTreeMap::new(),
                external: Some(packages.join(", ")),
                volo: false,
            };
            for (package, service_name) in apis.iter().flat_map(|a| &a.services) {
                let names = krate.protos.entry(package.clone()).or_default();
                if !names.contains(service_name) {
                    names.push(service_name.clone());
                }
                // tonic-build's nesting (`pkg::v1`): where most API crates put it.
                let module: Vec<String> = package
                    .split('.')
                    .filter(|p| !p.is_empty())
                    .map(snake_case)
                    .collect();
                for end in 1..=module.len() {
                    krate.modules.insert(module[..end].to_vec());
                }
                for suffix in ["_client", "_server"] {
                    let generated = format!("{}{suffix}", snake_case(service_name));
                    krate.generated_modules.insert(vec![generated.clone()]);
                    krate
                        .generated_modules
                        .insert([module.as_slice(), &[generated]].concat());
                }
                krate.proto_modules.insert((module, package.clone()));
            }
            for (k, own) in crates.iter_mut() {
                if k.0 == service && own.external.is_none() {
                    own.externs.entry(name.to_string()).or_insert(key);
                }
            }
            crates.insert(key, krate);
        }
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

/// The first line of the code prost-build generates (tonic's services follow).
const GENERATED_HEADER: &str = "// This file is @generated by prost-build.";

/// What tonic-build writes above its generated clients and servers.
const TONIC_MARKERS: [&str; 2] = [
    "/// Generated client implementations.",
    "/// Generated server implementations.",
];

/// The proto package whose generated code the file at `path` holds, when the
/// generated code is checked into the source tree (tonic-build's `out_dir`
/// inside `src/`, or a code generator of the repository's own that drops
/// prost-build's header): prost-build names the file after the package (`p.rs`).
fn checked_in_package(path: &str, text: &str) -> Option<String> {
    let tonic = || TONIC_MARKERS.iter().any(|m| text.contains(m));
    if !text.starts_with(GENERATED_HEADER) && !tonic() {
        return None;
    }
    let name = path.rsplit('/').next()?.strip_suffix(".rs")?;
    Some(name.to_string())
}

/// The proto package of `protos` that generated code in a file named `stem`
/// (`ballista.rs`) holds: `stem` itself when a proto declares it (prost-build
/// names the file after the package); else the package its tonic code routes
/// to (`"/ballista.protobuf.SchedulerGrpc/.."` in `text`), or the one package
/// under `stem` (a file renamed to its first segment); else `stem`.
fn package_of_stem(protos: &[crate::model::ProtoFile], stem: String, text: Option<&str>) -> String {
    let declared = |package: &str| protos.iter().any(|p| p.package == package);
    if declared(&stem) {
        return stem;
    }
    let routed = text.into_iter().flat_map(|text| {
        protos.iter().filter(move |p| {
            p.services
                .iter()
                .any(|s| text.contains(&format!("\"/{}.{}/", p.package, s.name)))
        })
    });
    if let Some(proto) = routed.into_iter().next() {
        return proto.package.clone();
    }
    let under: BTreeSet<&str> = protos
        .iter()
        .map(|p| p.package.as_str())
        .filter(|p| {
            p.strip_prefix(stem.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .collect();
    match under.into_iter().collect::<Vec<_>>()[..] {
        [one] => one.to_string(),
        _ => stem,
    }
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
        // `concat!(env!("OUT_DIR"), "/p.rs")`, or a checked-in `gen/p.rs`.
        "include" => strings.into_iter().find_map(|s| {
            let file = s.rsplit('/').next()?;
            file.strip_suffix(".rs").map(str::to_string)
        }),
        _ => None,
    }
}

/// The imports of one scope: local name -> absolute path, and glob prefixes.
#[derive(Default)]
struct Imports {
    names: BTreeMap<String, Path>,
    globs: Vec<Path>,
    /// Items the scope defines itself (but modules): they shadow globs and, in
    /// a block, the imports of the scopes around it.
    locals: BTreeSet<String>,
    /// The structs, enums and unions the scope defines: types of its own,
    /// never generated ones, whatever their names.
    own_types: BTreeSet<String>,
    /// `type` items without generic parameters that name a path: alias -> the
    /// path's segments. Those that name a generated type join `names`.
    aliases: BTreeMap<String, Vec<String>>,
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

/// Resolves `segs`, seen in module `scope` of crate `key` with the imports
/// `scopes` in force (innermost first), to an absolute path, following
/// re-exports (`pub use`) to where the name is defined.
fn resolve(
    crates: &Crates,
    key: CrateKey,
    scope: &[String],
    scopes: &[&Imports],
    segs: &[String],
) -> Option<Path> {
    let krate = &crates[&key];
    let (first, rest) = segs.split_first()?;
    let (key, mut base) = match first.as_str() {
        "crate" => (key, Vec::new()),
        "self" => (key, scope.to_vec()),
        "super" => (key, scope.split_last()?.1.to_vec()),
        _ => {
            let child = [scope, std::slice::from_ref(first)].concat();
            let named = scopes.iter().find_map(|i| match i.names.get(first) {
                Some(target) => Some(Some(target)),
                None => i.locals.contains(first).then_some(None),
            });
            if let Some(named) = named {
                // An item of the scope is not a generated type.
                named?.clone()
            } else if is_module(krate, &child) {
                (key, child)
            } else if let Some(&other) = krate.externs.get(first) {
                (other, Vec::new())
            } else {
                let globs = scopes.iter().flat_map(|i| &i.globs);
                globs
                    .into_iter()
                    .find_map(|g| through_glob(crates, g, first))?
            }
        }
    };
    let mut rest = rest;
    while first == "super" && rest.first().is_some_and(|s| s == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(follow_reexports(crates, (key, base)))
}

/// `path` with every prefix that a module re-exports from elsewhere replaced by
/// what it names: `crate::clients::GreeterClient`, where `clients` has
/// `pub use crate::pb::greeter_client::GreeterClient`, becomes the latter.
fn follow_reexports(crates: &Crates, path: Path) -> Path {
    follow(crates, path, &mut Seen::new())
}

/// The globs looked through for a name while one path resolves: (the glob's
/// crate, its module, the name). Each is looked through once, so that glob
/// imports in a cycle (`pub use m::*;` in the root, `use crate::*;` in `m`)
/// resolve to a fixed point, as rustc resolves them.
type Seen = BTreeSet<(CrateKey, Vec<String>, String)>;

/// [`follow_reexports`], with the globs looked through so far.
fn follow(crates: &Crates, mut path: Path, seen: &mut Seen) -> Path {
    // Bounded: re-exports may form cycles in code that does not compile.
    'follow: for _ in 0..16 {
        let (key, segs) = &path;
        let krate = &crates[key];
        for i in 0..segs.len() {
            let (module, name) = (&segs[..i], &segs[i]);
            if is_module(krate, &segs[..=i]) || classify(krate, &segs[..=i]).is_some() {
                continue;
            }
            let Some(imports) = krate.imports.get(module) else {
                continue;
            };
            let target = imports.names.get(name).cloned().or_else(|| {
                let mut globs = imports.globs.iter();
                globs.find_map(|g| look_through(crates, g, name, seen))
            });
            if let Some((to, mut target)) = target {
                target.extend(segs[i + 1..].iter().cloned());
                path = (to, target);
                continue 'follow;
            }
        }
        break;
    }
    path
}

/// What `name` names through the glob import `glob` (`use prefix::*`), when
/// the module it imports from has, defines or re-exports (by name or through
/// its own globs) a module or a generated client or server of that name.
fn through_glob(crates: &Crates, glob: &Path, name: &str) -> Option<Path> {
    look_through(crates, glob, name, &mut Seen::new())
}

/// [`through_glob`], with the globs looked through so far: one seen again
/// adds nothing.
fn look_through(
    crates: &Crates,
    (key, prefix): &Path,
    name: &str,
    seen: &mut Seen,
) -> Option<Path> {
    if !seen.insert((*key, prefix.clone(), name.to_string())) {
        return None;
    }
    let path = [prefix.as_slice(), &[name.to_string()]].concat();
    let krate = &crates[key];
    if classify(krate, &path).is_some() || is_module(krate, &path) {
        return Some((*key, path));
    }
    let imports = krate.imports.get(prefix)?;
    if let Some(target) = imports.names.get(name) {
        return Some(follow(crates, target.clone(), seen));
    }
    if imports.locals.contains(name) {
        return None;
    }
    let mut globs = imports.globs.iter();
    globs.find_map(|g| look_through(crates, g, name, seen))
}

/// Whether `path` is a module of `krate`: one its sources declare, or one that
/// tonic generates in a proto module (`greeter_client`, `greeter_server`).
fn is_module(krate: &Crate, path: &[String]) -> bool {
    krate.modules.contains(path)
        || krate.generated_modules.contains(path)
        // An API crate's generated module, wherever the crate nests it
        // (`acme_api::ledger::v1::ledger_client`).
        || (krate.external.is_some()
            && path
                .last()
                .is_some_and(|l| krate.generated_modules.contains(std::slice::from_ref(l))))
}

/// Whether the absolute path `path` names a generated client or server type.
fn classify(krate: &Crate, path: &[String]) -> Option<(Vec<String>, String, Named)> {
    if krate.external.is_some() {
        return classify_external(krate, path);
    }
    let [.., module, ty] = path else { return None };
    // `x_client::XClient` or `x_server::XServer`: the names are checked before
    // anything is spelled out.
    let (name, role, suffix) = if let Some(name) = ty.strip_suffix("Client") {
        (name, Role::Client, "_client")
    } else {
        (ty.strip_suffix("Server")?, Role::Server, "_server")
    };
    let snake = module.strip_suffix(suffix)?;
    let proto_module = &path[..path.len() - 2];
    // Two packages may each define a service of this name (`a.Session` and
    // `b.Session`): the one the proto module includes is meant.
    let packages = krate.protos.iter().filter_map(|(package, services)| {
        let service = services
            .iter()
            .find(|s| upper_camel(s) == name && snake_case(s) == snake)?;
        Some((package, service))
    });
    let mut first = None;
    for (package, service) in packages {
        first.get_or_insert((package, service));
        if krate
            .proto_modules
            .contains(&(proto_module.to_vec(), package.clone()))
        {
            first = Some((package, service));
            break;
        }
    }
    let (package, service) = first?;
    let named = Named {
        role,
        package: package.clone(),
        service: service.clone(),
    };
    Some((proto_module.to_vec(), package.clone(), named))
}

/// [`classify`] in an API crate outside the group, whose modules knit does
/// not read: a path ending in `XClient` or `XServer` (through any module:
/// such crates re-export them, `arrow_flight::flight_service_client::..`)
/// names service `X` of the crate: of the only package that defines an `X`,
/// or of the one whose name the path spells most of, from its last part
/// (`pb::v1alpha::..` is `grpc.reflection.v1alpha`'s, not `grpc.reflection.v1`'s);
/// none when that does not tell.
fn classify_external(krate: &Crate, path: &[String]) -> Option<(Vec<String>, String, Named)> {
    let (ty, module) = path.split_last()?;
    if let Some(built) = built_by_function(krate, path) {
        return Some(built);
    }
    let (name, role) = match ty.strip_suffix("Client") {
        Some(name) => (name, Role::Client),
        None => (ty.strip_suffix("Server")?, Role::Server),
    };
    let candidates: Vec<(&String, &String)> = krate
        .protos
        .iter()
        .filter_map(|(package, services)| {
            let service = services.iter().find(|s| upper_camel(s) == name)?;
            Some((package, service))
        })
        .collect();
    // How many of the package's parts, from its last, the path spells.
    let spelled = |package: &str| {
        package
            .rsplit('.')
            .take_while(|part| module.iter().any(|m| *m == snake_case(part)))
            .count()
    };
    let (package, service) = match candidates.as_slice() {
        [] => return None,
        [one] => *one,
        many => {
            let best = many.iter().map(|(p, _)| spelled(p)).max()?;
            let mut most = many.iter().filter(|(p, _)| spelled(p) == best);
            match (most.next(), most.next()) {
                (Some(one), None) if best > 0 => *one,
                _ => return None,
            }
        }
    };
    let named = Named {
        role,
        package: package.clone(),
        service: service.clone(),
    };
    Some((module.to_vec(), package.clone(), named))
}

/// A function of an API crate that builds one of its servers and returns it
/// as the second of a pair: `tonic_health::server::health_reporter()`.
pub struct ServerBuilder {
    /// The crate's package name.
    pub krate: &'static str,
    /// The function's path in the crate.
    pub path: &'static [&'static str],
    /// The proto package and service of the server it builds.
    pub package: &'static str,
    pub service: &'static str,
}

/// The functions of API crates that build their servers.
pub const SERVER_BUILDERS: &[ServerBuilder] = &[ServerBuilder {
    krate: "tonic-health",
    path: &["server", "health_reporter"],
    package: "grpc.health.v1",
    service: "Health",
}];

/// Whether `function` (a path's last segment) is one an API crate builds a
/// server with ([`SERVER_BUILDERS`]).
pub fn builds_a_server(function: &str) -> bool {
    SERVER_BUILDERS
        .iter()
        .any(|b| b.path.last() == Some(&function))
}

/// The server `path`, in the API crate `krate`, names by building it
/// ([`SERVER_BUILDERS`]).
fn built_by_function(krate: &Crate, path: &[String]) -> Option<(Vec<String>, String, Named)> {
    let external = krate.external.as_deref()?;
    let builder = SERVER_BUILDERS.iter().find(|b| {
        let ends = path.len() >= b.path.len()
            && path[path.len() - b.path.len()..]
                .iter()
                .zip(b.path.iter())
                .all(|(a, b)| a == b);
        external.split(' ').next() == Some(b.krate) && ends
    })?;
    let defined = krate
        .protos
        .iter()
        .any(|(p, services)| p == builder.package && services.iter().any(|s| s == builder.service));
    defined.then(|| {
        let named = Named {
            role: Role::Server,
            package: builder.package.to_string(),
            service: builder.service.to_string(),
        };
        let module = path[..path.len() - 1].to_vec();
        (module, builder.package.to_string(), named)
    })
}

/// The client a crate-internal path seems to name by its last segment, when
/// resolution cannot follow it to the generated module. A type of that name
/// the module defines itself (a client helper `pub struct AuthClient` that
/// wraps the generated one) is not, nor one of Volo's generated code (a
/// crate whose build script runs volo-build).
fn unfollowed_client(krate: &Crate, path: &[String]) -> Option<Named> {
    let last = path.last()?;
    if path.len() < 2 || krate.modules.contains(path) || krate.volo {
        return None;
    }
    if defines(krate, path) {
        return None;
    }
    generated_type_named(krate, last).filter(|named| named.role == Role::Client)
}

/// Whether the absolute path `path` names a struct, enum or union its module
/// defines (not a `type` alias, which may stand for a generated type).
fn defines(krate: &Crate, path: &[String]) -> bool {
    let Some((last, module)) = path.split_last() else {
        return false;
    };
    krate
        .imports
        .get(module)
        .is_some_and(|imports| imports.own_types.contains(last))
}

/// The imports of the `use` items among `items`, in module `scope` of crate `key`.
fn imports_of(
    crates: &Crates,
    key: CrateKey,
    scope: &[String],
    items: impl Iterator<Item = ast::Item>,
) -> Imports {
    let mut imports = Imports::default();
    for item in items {
        match item {
            ast::Item::Use(use_) => {
                if let Some(tree) = use_.use_tree() {
                    flatten(crates, key, scope, &[], &tree, &mut imports);
                }
            }
            ast::Item::Module(_) | ast::Item::MacroCall(_) | ast::Item::Impl(_) => {}
            // `extern crate stock as inventory;`: another crate of the service.
            ast::Item::ExternCrate(item) => {
                let Some(name) = item.name_ref().map(|n| n.text().to_string()) else {
                    continue;
                };
                let Some(&other) = crates[&key].externs.get(&name) else {
                    continue;
                };
                let alias = item
                    .rename()
                    .and_then(|r| r.name())
                    .map(|n| n.text().to_string());
                imports
                    .names
                    .insert(alias.unwrap_or(name), (other, Vec::new()));
            }
            item => {
                if let ast::Item::TypeAlias(alias) = &item
                    && let Some((name, path)) = aliased_path(alias)
                {
                    imports.aliases.insert(name, path);
                }
                let name = ra_ap_syntax::ast::AnyHasName::cast(item.syntax().clone())
                    .and_then(|i| i.name())
                    .map(|n| n.text().to_string());
                if matches!(
                    item,
                    ast::Item::Struct(_) | ast::Item::Enum(_) | ast::Item::Union(_)
                ) {
                    imports.own_types.extend(name.clone());
                }
                imports.locals.extend(name);
            }
        }
    }
    imports
}

/// `type Name = some::Path<..>;` (no generic parameters of its own) as the
/// name and the path's segments.
fn aliased_path(alias: &ast::TypeAlias) -> Option<(String, Vec<String>)> {
    use ra_ap_syntax::ast::HasGenericParams;
    if alias.generic_param_list().is_some() {
        return None;
    }
    let ast::Type::PathType(ty) = alias.ty()? else {
        return None;
    };
    Some((alias.name()?.text().to_string(), segments(&ty.path()?)?))
}

/// Gives each module-level `type` alias of a generated client or server the
/// meaning of an import (`type Names = NamesClient<Channel>` as `use .. as
/// Names`): paths through it name the type. Resolved once every module's
/// imports are known, in the alias's module.
fn resolve_aliases(crates: &mut Crates) {
    let mut found = Vec::new();
    for (&key, krate) in crates.iter() {
        for (module, imports) in &krate.imports {
            for (name, segs) in &imports.aliases {
                let Some((target, abs)) = resolve(crates, key, module, &[imports], segs) else {
                    continue;
                };
                if classify(&crates[&target], &abs).is_some() {
                    found.push((key, module.clone(), name.clone(), (target, abs)));
                }
            }
        }
    }
    for (key, module, name, target) in found {
        let imports = crates
            .get_mut(&key)
            .unwrap()
            .imports
            .get_mut(&module)
            .unwrap();
        imports.names.insert(name, target);
    }
}

/// Whether the last segment of `segs` (seen in module `scope` of crate `key`,
/// with `scopes` in force) names a `type` alias of a generated type: a path
/// through it is not rewritten, as the alias itself is.
fn names_type_alias(
    crates: &Crates,
    key: CrateKey,
    scope: &[String],
    scopes: &[&Imports],
    segs: &[String],
) -> bool {
    let Some((name, module)) = segs.split_last() else {
        return false;
    };
    let defined =
        |imports: &Imports| imports.aliases.contains_key(name) && imports.names.contains_key(name);
    if module.is_empty() {
        let innermost = scopes
            .iter()
            .find(|i| i.names.contains_key(name) || i.locals.contains(name));
        return innermost.is_some_and(|i| defined(i));
    }
    let Some((key, module)) = resolve(crates, key, scope, scopes, module) else {
        return false;
    };
    crates[&key].imports.get(&module).is_some_and(defined)
}

fn flatten(
    crates: &Crates,
    key: CrateKey,
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
            flatten(crates, key, scope, &path, &sub, out);
        }
        return;
    }
    // While imports are being gathered, none are in force yet.
    let Some((target_crate, target)) = resolve(crates, key, scope, &[], &path) else {
        return;
    };
    if tree.star_token().is_some() {
        out.globs.push((target_crate, target));
        return;
    }
    let local = match tree.rename() {
        Some(rename) => match rename.name() {
            Some(name) => name.text().to_string(),
            None => return,
        },
        None => match target.as_slice() {
            [.., module, last] if last == "self" => module.clone(),
            [.., last] if last != "self" => last.clone(),
            _ => return,
        },
    };
    let target = if target.last().is_some_and(|l| l == "self") {
        target[..target.len() - 1].to_vec()
    } else {
        target
    };
    out.names.insert(local, (target_crate, target));
}

/// The mentions of generated types in file `id` of crate `key`; `spelled`: the
/// offsets of `names` in its text.
fn mentions_in(
    group: &Group,
    crates: &Crates,
    names: &BTreeSet<String>,
    (key, id): (CrateKey, FileId),
    spelled: &[TextSize],
    (out, defined): (&mut Vec<Mention>, &mut Vec<TextRange>),
) {
    let rust = group.file(id).rust.as_ref().unwrap();
    let own = module_in(rust, key.2);
    let tree = rust.tree();
    let krate = &crates[&key];
    // One walk over the tree: blocks, candidate paths, macro calls. Imports in
    // blocks can give generated types local names: then again with those, as a
    // walk enters only what spells a name (a block or a macro call that spells
    // only a local name is found by the next walk), until no new name comes.
    let kinds = [SyntaxKind::STMT_LIST, SyntaxKind::MACRO_CALL];
    let mut local_names: Option<BTreeSet<String>> = None;
    let (calls, paths, blocks) = loop {
        let names = local_names.as_ref().unwrap_or(names);
        let within = match &local_names {
            None => std::borrow::Cow::Borrowed(spelled),
            Some(local) => std::borrow::Cow::Owned(Words::new(local).offsets(&group.file(id).text)),
        };
        let (found, paths) =
            crate::scan::nodes_and_paths_named(tree.syntax(), &kinds, names, &within);
        let calls: Vec<ast::MacroCall> = found
            .iter()
            .cloned()
            .filter_map(ast::MacroCall::cast)
            .collect();
        let paths: Vec<ast::Path> = paths.into_iter().filter_map(ast::Path::cast).collect();
        // The imports of each block with `use` items, by the block's range.
        let mut blocks: std::collections::HashMap<TextRange, Imports> = Default::default();
        for list in found.into_iter().filter_map(ast::StmtList::cast) {
            let items = list.statements().filter_map(|s| match s {
                ast::Stmt::Item(item) => Some(item),
                _ => None,
            });
            let scope = scope_of(own, list.syntax());
            let imports = imports_of(crates, key, &scope, items);
            if !imports.names.is_empty() || !imports.globs.is_empty() || !imports.locals.is_empty()
            {
                blocks.insert(list.syntax().text_range(), imports);
            }
        }
        let mut grown = None;
        for imports in blocks.values().filter(|i| !i.names.is_empty()) {
            extend_with_aliases(grown.get_or_insert_with(|| names.clone()), imports);
        }
        match grown {
            Some(grown) if grown.len() > names.len() => local_names = Some(grown),
            _ => break (calls, paths, blocks),
        }
    };
    // The imports in force at `node`, innermost first.
    let scopes_at = |node: &SyntaxNode, scope: &[String]| -> Vec<&Imports> {
        let mut scopes: Vec<&Imports> = node
            .ancestors()
            .filter(|a| a.kind() == SyntaxKind::STMT_LIST)
            .filter_map(|a| blocks.get(&a.text_range()))
            .collect();
        scopes.extend(krate.imports.get(scope));
        scopes
    };
    let names = local_names.as_ref().unwrap_or(names);
    let site = Site {
        crates,
        key,
        file: id,
        defined: Default::default(),
    };
    for path in paths {
        let scope = scope_of(own, path.syntax());
        let scopes = scopes_at(path.syntax(), &scope);
        site.mention(&path, &scope, &scopes, TextSize::from(0), out);
    }
    // Paths in macro arguments (`tokio::try_join!(XClient::connect(a), ..)`),
    // parsed as the expressions they are; arguments that are not expressions
    // make a client named there stay an RPC.
    for call in calls {
        let Some(tokens) = call.token_tree() else {
            continue;
        };
        let names_one = tokens
            .syntax()
            .descendants_with_tokens()
            .filter_map(|t| t.into_token())
            .any(|t| t.kind() == SyntaxKind::IDENT && names.contains(t.text()));
        if !names_one {
            continue;
        }
        let scope = scope_of(own, call.syntax());
        let scopes = scopes_at(call.syntax(), &scope);
        let items_macro = call
            .path()
            .and_then(|p| p.segment()?.name_ref())
            .is_some_and(|n| ITEM_MACROS.contains(&n.text()));
        let args = if items_macro {
            MacroArgs::parse_items(&tokens)
        } else {
            MacroArgs::parse(&tokens)
        };
        match args {
            Some(args) => {
                for path in args.tree.syntax().descendants().filter_map(ast::Path::cast) {
                    site.mention(&path, &scope, &scopes, args.shift, out);
                }
            }
            // Unparsed: each name of a generated type there is a use knit
            // cannot convert, unless the file's names make it a type of the
            // crate's own (a wrapper named like the client it wraps).
            None => {
                let tokens = tokens
                    .syntax()
                    .descendants_with_tokens()
                    .filter_map(|t| t.into_token())
                    .filter(|t| t.kind() == SyntaxKind::IDENT && names.contains(t.text()));
                let unconverted = tokens.filter_map(|token| {
                    let name = [token.text().to_string()];
                    let own = resolve(crates, key, &scope, &scopes, &name).is_some_and(
                        |(target, abs)| {
                            classify(&crates[&target], &abs).is_none()
                                && defines(&crates[&target], &abs)
                        },
                    );
                    // `volo_gen::a::XClient` written there: Volo's client.
                    let first = [path_start(&token)];
                    let volo = resolve(crates, key, &scope, &scopes, &first)
                        .is_some_and(|(target, _)| crates[&target].volo);
                    if volo {
                        return None;
                    }
                    let named = generated_type_named(krate, token.text()).filter(|_| !own)?;
                    Some(Mention {
                        service: krate.service,
                        file: id,
                        path: token.text_range(),
                        named,
                        usage: Usage::Other,
                        aliased: false,
                        api_crate: None,
                    })
                });
                out.extend(unconverted.take(1));
            }
        }
    }
    defined.extend(site.defined.take());
}

/// What the paths of one file resolve in.
struct Site<'a> {
    crates: &'a Crates,
    key: CrateKey,
    file: FileId,
    /// Paths that name a type the group's code defines (see [`Index::defined`]).
    defined: std::cell::RefCell<Vec<TextRange>>,
}

impl Site<'_> {
    /// The mention `path` makes, if it names a generated client or server; its
    /// ranges are `shift` bytes after where `path`'s tree puts them.
    fn mention(
        &self,
        path: &ast::Path,
        scope: &[String],
        scopes: &[&Imports],
        shift: TextSize,
        out: &mut Vec<Mention>,
    ) {
        let Some(mut segs) = segments(path) else {
            return;
        };
        if let [name] = segs.as_slice()
            && is_generic_parameter(path.syntax(), name)
        {
            return;
        }
        let in_use = path
            .syntax()
            .ancestors()
            .any(|a| a.kind() == SyntaxKind::USE);
        if in_use {
            let Some(mut prefix) = use_prefix(path) else {
                return;
            };
            prefix.append(&mut segs);
            segs = prefix;
        }
        let krate = &self.crates[&self.key];
        let Some((target, abs)) = resolve(self.crates, self.key, scope, scopes, &segs) else {
            return;
        };
        let range = path.syntax().text_range() + shift;
        let Some((module, package, named)) = classify(&self.crates[&target], &abs) else {
            // A path inside the crate that names a client type by a route the
            // resolver does not follow (a `type` in another module) makes the
            // client's sites stay RPC rather than half converted.
            if let Some(named) = unfollowed_client(&self.crates[&target], &abs) {
                out.push(Mention {
                    service: krate.service,
                    file: self.file,
                    path: range,
                    named,
                    usage: Usage::Other,
                    aliased: false,
                    api_crate: None,
                });
            } else if defines(&self.crates[&target], &abs) {
                self.defined.borrow_mut().push(range);
            }
            return;
        };
        // The generated module must be one that includes this package.
        let api_crate = self.crates[&target].external.clone();
        if api_crate.is_none()
            && !self.crates[&target]
                .proto_modules
                .contains(&(module, package))
        {
            return;
        }
        let mut usage = if in_use {
            Usage::Import
        } else {
            usage_of(path, shift)
        };
        // A function that builds a server is one where it is called, under
        // its own name (`use ..::health_reporter as make_health`); a local
        // variable of that name (`health_reporter.set_serving::<..>()`) is
        // none.
        if let Some(function) = abs.last().filter(|f| builds_a_server(f)) {
            match &mut usage {
                Usage::Call { method, .. } => *method = function.clone(),
                Usage::Import => {}
                _ => return,
            }
        }
        let aliased = !in_use && names_type_alias(self.crates, self.key, scope, scopes, &segs);
        out.push(Mention {
            service: krate.service,
            file: self.file,
            path: range,
            named,
            usage,
            aliased,
            api_crate,
        });
    }
}

/// Whether an item around `node` declares a generic parameter `name`, which
/// shadows every other meaning of `name` inside it.
fn is_generic_parameter(node: &SyntaxNode, name: &str) -> bool {
    use ra_ap_syntax::ast::HasGenericParams;
    node.ancestors()
        .filter_map(ast::AnyHasGenericParams::cast)
        .filter_map(|item| item.generic_param_list())
        .flat_map(|list| list.type_or_const_params())
        .filter_map(|param| param.name())
        .any(|param| param.text() == name)
}

/// The path that the `use` trees around `path` put before it: `hello` for
/// `greeter_client::GreeterClient` in `use hello::{greeter_client::GreeterClient}`.
fn use_prefix(path: &ast::Path) -> Option<Vec<String>> {
    let own = path.syntax().ancestors().find_map(ast::UseTree::cast)?;
    let mut prefix = Vec::new();
    let mut node = own.syntax().parent();
    while let Some(list) = node.and_then(ast::UseTreeList::cast) {
        let parent = ast::UseTree::cast(list.syntax().parent()?)?;
        if let Some(p) = parent.path() {
            let mut outer = segments(&p)?;
            outer.append(&mut prefix);
            prefix = outer;
        }
        node = parent.syntax().parent();
    }
    Some(prefix)
}

/// The first name of the path that ends at `token` in a macro's unparsed
/// arguments (`a` of `a::b::XClient`).
fn path_start(token: &ra_ap_syntax::SyntaxToken) -> String {
    let mut first = token.clone();
    loop {
        // `::` is one token, or two `:` in some token trees.
        let mut before = first.prev_token();
        match before.as_ref().map(|t| t.kind()) {
            Some(SyntaxKind::COLON2) => before = before.and_then(|t| t.prev_token()),
            Some(SyntaxKind::COLON) => {
                before = before.and_then(|t| t.prev_token());
                if before.as_ref().map(|t| t.kind()) != Some(SyntaxKind::COLON) {
                    break;
                }
                before = before.and_then(|t| t.prev_token());
            }
            _ => break,
        }
        match before {
            Some(name) if name.kind() == SyntaxKind::IDENT => first = name,
            _ => break,
        }
    }
    first.text().to_string()
}

/// The generated client or server that an identifier names by its text.
fn generated_type_named(krate: &Crate, name: &str) -> Option<Named> {
    krate.protos.iter().find_map(|(package, services)| {
        services.iter().find_map(|service| {
            let rust_name = upper_camel(service);
            let role = if name == format!("{rust_name}Client") {
                Role::Client
            } else if name == format!("{rust_name}Server") {
                Role::Server
            } else {
                return None;
            };
            Some(Named {
                role,
                package: package.clone(),
                service: service.clone(),
            })
        })
    })
}

/// Macros whose body is items that they emit with the types as written
/// (`pin_project!` adds projections beside a struct): a client type in a field
/// there is rewritten as in a struct of its own.
const ITEM_MACROS: &[&str] = &["pin_project"];

/// A macro's arguments parsed as a tuple of expressions (or, for
/// [`ITEM_MACROS`], as items).
pub(crate) struct MacroArgs {
    pub(crate) tree: ast::SourceFile,
    /// Where the parsed text's ranges are in the original file, less where
    /// they are in `tree`.
    pub(crate) shift: TextSize,
}

impl MacroArgs {
    const BEFORE: &str = "fn knit() { (";

    /// `None` when the arguments are not comma-separated expressions.
    pub(crate) fn parse(tokens: &ast::TokenTree) -> Option<MacroArgs> {
        let text = tokens.syntax().to_string();
        let inner = text.get(1..text.len().checked_sub(1)?)?.trim_end();
        let comma = if inner.ends_with(',') { "" } else { "," };
        let source = format!("{}{inner}{comma}); }}", Self::BEFORE);
        let parse = ast::SourceFile::parse(&source, ra_ap_syntax::Edition::Edition2021);
        if !parse.errors().is_empty() {
            return None;
        }
        let inner_start = tokens.syntax().text_range().start() + TextSize::from(1);
        Some(MacroArgs {
            tree: parse.tree(),
            shift: inner_start - TextSize::of(Self::BEFORE),
        })
    }

    /// The body of an item macro parsed as items; `None` when it is not.
    fn parse_items(tokens: &ast::TokenTree) -> Option<MacroArgs> {
        let text = tokens.syntax().to_string();
        let inner = text.get(1..text.len().checked_sub(1)?)?;
        let parse = ast::SourceFile::parse(inner, ra_ap_syntax::Edition::Edition2021);
        if !parse.errors().is_empty() {
            return None;
        }
        Some(MacroArgs {
            tree: parse.tree(),
            shift: tokens.syntax().text_range().start() + TextSize::from(1),
        })
    }
}

/// How `path` is used; its ranges are `shift` bytes after where its tree has them.
fn usage_of(path: &ast::Path, shift: TextSize) -> Usage {
    let Some(parent) = path.syntax().parent() else {
        return Usage::Other;
    };
    if ast::PathType::can_cast(parent.kind()) {
        return Usage::Type;
    }
    // A function that builds a server, called (`health_reporter()`).
    if let Some(expr) = ast::PathExpr::cast(parent.clone())
        && let Some(call) = expr.syntax().parent().and_then(ast::CallExpr::cast)
        && let Some(name) = path.segment().and_then(|s| s.name_ref())
    {
        let args = call.arg_list().into_iter().flat_map(|l| l.args());
        return Usage::Call {
            method: name.text().to_string(),
            method_range: name.syntax().text_range() + shift,
            call: call.syntax().text_range() + shift,
            args: args.map(|a| a.syntax().text_range() + shift).collect(),
        };
    }
    let call = ast::Path::cast(parent.clone()).and_then(|outer| {
        let name = outer.segment()?.name_ref()?;
        let (method, method_range) = (name.text().to_string(), name.syntax().text_range() + shift);
        let expr = ast::PathExpr::cast(outer.syntax().parent()?)?;
        let call = ast::CallExpr::cast(expr.syntax().parent()?)?;
        let args = call
            .arg_list()?
            .args()
            .map(|a| a.syntax().text_range() + shift)
            .collect();
        Some(Usage::Call {
            method,
            method_range,
            call: call.syntax().text_range() + shift,
            args,
        })
    });
    call.unwrap_or(Usage::Other)
}

#[cfg(test)]
pub(crate) mod oracle;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_camel_matches_prost() {
        // prost-build names a service's types after its name in upper camel case.
        assert_eq!(upper_camel("HTTP"), "Http");
        assert_eq!(upper_camel("Greeter"), "Greeter");
        assert_eq!(upper_camel("route_guide"), "RouteGuide");
        assert_eq!(upper_camel("GetHTTPProxy"), "GetHttpProxy");
    }

    #[test]
    fn snake_case_matches_tonic() {
        assert_eq!(snake_case("SayHello"), "say_hello");
        assert_eq!(snake_case("Greeter"), "greeter");
        assert_eq!(snake_case("RouteGuide"), "route_guide");
        assert_eq!(snake_case("HTTPProxy"), "http_proxy");
        assert_eq!(snake_case("GetV2"), "get_v2");
    }

    /// The caller of `with_frontend` whose crate root glob-imports each of
    /// `modules` (`pub use m::*;`) while each module glob-imports the root
    /// back (`use crate::*;`, `use super::*;`) and re-exports the client.
    /// `defines` gives the root its `GreeterClient`.
    fn glob_cycle(modules: usize, defines: &str) -> String {
        let mut fixture = String::new();
        let mut root =
            format!("mod hello {{ tonic::include_proto!(\"helloworld\"); }}\n{defines}\n");
        for i in 0..modules {
            root.push_str(&format!("mod m{i};\npub use m{i}::*;\n"));
            let back = if i % 2 == 0 { "crate" } else { "super" };
            fixture.push_str(&format!(
                "//- /frontend/src/m{i}.rs\nuse {back}::*;\npub use crate::GreeterClient;\n"
            ));
        }
        root.push_str("#[tokio::main]\nasync fn main() {\n    let c = m0::GreeterClient::connect(\"http://a\").await.unwrap();\n    let d = hello::greeter_client::GreeterClient::connect(\"http://b\").await.unwrap();\n}\n");
        format!("{}{fixture}", crate::fixture::with_frontend(&root))
    }

    #[test]
    fn glob_imports_in_a_cycle_resolve() {
        // `GreeterClient` in the root comes from a macro knit does not expand.
        let checked = crate::fixture::check_all(&glob_cycle(2, "clients::define!();"));
        expect_test::expect![[r#"
            Call(Inline) frontend/src/main.rs:10: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Unresolved) frontend/src/main.rs:9: `m0::GreeterClient::connect`: knit cannot tell which gRPC service `GreeterClient` calls (no proto of the group defines it, or its path does not lead to generated code); the call stays RPC"#]]
        .assert_eq(&checked.findings.join("\n"));
        let reexported = "pub use hello::greeter_client::GreeterClient;";
        let checked = crate::fixture::check_all(&glob_cycle(2, reexported));
        expect_test::expect![[r#"
            Call(Inline) frontend/src/main.rs:9: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Inline) frontend/src/main.rs:10: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)"#]].assert_eq(&checked.findings.join("\n"));
    }

    #[test]
    fn a_glob_cycle_of_forty_modules_resolves() {
        let checked = crate::fixture::check_all(&glob_cycle(40, "clients::define!();"));
        expect_test::expect![[r#"
            Call(Inline) frontend/src/main.rs:86: calls to `helloworld.Greeter` run in process on `greeter`'s handler (knit_proto_helloworld::greeter_inline::GreeterClient)
            Call(Unresolved) frontend/src/main.rs:85: `m0::GreeterClient::connect`: knit cannot tell which gRPC service `GreeterClient` calls (no proto of the group defines it, or its path does not lead to generated code); the call stays RPC"#]]
        .assert_eq(&checked.findings.join("\n"));
    }

    #[test]
    fn a_module_file_both_crates_declare_is_a_module_of_each() {
        // auth's `proto.rs` is `mod proto;` of its library and of its binary:
        // the binary's server and the library's client helper both name it.
        let fixture = r#"
//- /auth/Cargo.toml
[package]
name = "auth"
edition = "2021"
//- /auth/src/lib.rs
pub mod client;
pub mod proto;
//- /auth/src/proto.rs
tonic::include_proto!("helloworld");
//- /auth/src/client.rs
use crate::proto::greeter_client::GreeterClient;
pub async fn connect() -> GreeterClient<tonic::transport::Channel> {
    GreeterClient::connect("http://auth").await.unwrap()
}
//- /auth/src/main.rs
mod proto;
use crate::proto::greeter_server::GreeterServer;
#[tokio::main]
async fn main() {
    tonic::transport::Server::builder()
        .add_service(GreeterServer::new(Greeter))
        .serve("0.0.0.0:1".parse().unwrap())
        .await
        .unwrap();
}
//- /auth/proto/helloworld.proto
package helloworld;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
}
//- /gateway/Cargo.toml
[package]
name = "gateway"
edition = "2021"
[dependencies]
auth = { path = "../auth" }
//- /gateway/src/main.rs
#[tokio::main]
async fn main() {
    let client = auth::client::connect().await;
}
"#;
        let group = crate::fixture::group(fixture);
        let index = Index::of(&group);
        let mut found: Vec<String> = index
            .mentions
            .iter()
            .map(|m| {
                let file = group.file(m.file);
                format!(
                    "{} {:?} {}",
                    group.services[m.service].name, m.named.role, file.path
                )
            })
            .collect();
        found.sort();
        found.dedup();
        expect_test::expect![[r#"
            auth Client auth/src/client.rs
            auth Server auth/src/main.rs
            gateway Client auth/src/client.rs"#]]
        .assert_eq(&found.join("\n"));
        let modules: Vec<String> = index
            .proto_modules
            .iter()
            .map(|m| {
                let service = &group.services[m.service].name;
                format!(
                    "{service} {} {}",
                    group.file(m.file).path,
                    m.module.join("::")
                )
            })
            .collect();
        // Once for each service that reaches it: gateway depends on auth.
        expect_test::expect![[r#"
            auth auth/src/proto.rs proto
            gateway auth/src/proto.rs proto"#]]
        .assert_eq(&modules.join("\n"));
    }
}
