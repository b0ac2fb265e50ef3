//! rust-analyzer as the reference for what a name means: a differential test of
//! the resolver of `names.rs`.
//!
//! A group's services are loaded into rust-analyzer's analysis (`ra_ap_ide`):
//! one crate per knit crate, the dependencies Cargo gives them, a stub `tonic`
//! whose `include_proto!` includes `$OUT_DIR/<package>.rs`, and in each
//! service's `OUT_DIR` a stub of the module tonic generates for each of its
//! proto packages (or the generated code the sources check in). Every name of a generated client or server that the sources
//! write, and every name knit resolves, is then asked of rust-analyzer
//! (go to definition) and of knit ([`Index::of`]); the two must agree, but for
//! the [`KNOWN_DIFFERENCES`].

use std::collections::{BTreeMap, BTreeSet};

use ra_ap_base_db::{
    AbsPathBuf, CrateBuilderId, CrateName, CrateOrigin, CrateWorkspaceData, DependencyBuilder, Env,
    FileSet, VfsPath,
};
use ra_ap_ide::{
    Analysis, AnalysisHost, CrateGraphBuilder, Edition, FileChange, FileId as RaFileId,
    FilePosition, GotoDefinitionConfig, RaFixtureConfig, SourceRoot, SymbolKind,
};
use ra_ap_syntax::{AstNode, SyntaxKind, TextRange, TextSize};
use triomphe::Arc;

use super::{Index, Named, Role, snake_case};
use crate::fixture;
use crate::model::{FileId, Group, PackageId, ServiceId};

const NO_TOKIO: &str =
    "the oracle's crate graph has no tokio: rust-analyzer cannot expand `tokio::try_join!`";

/// Disagreements that are known and kept: (`case: path:line token`, why).
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "clients_built_in_macro_arguments: frontend/src/main.rs:6 GreeterClient",
        NO_TOKIO,
    ),
    (
        "clients_built_in_macro_arguments: frontend/src/main.rs:7 GreeterClient",
        NO_TOKIO,
    ),
    (
        "local_names_given_in_blocks: frontend/src/main.rs:9 G",
        NO_TOKIO,
    ),
    (
        "module_in_a_fn_body_shadows_an_import: frontend/src/main.rs:5 GreeterClient",
        "knit does not see items of fn bodies, which shadow the module's imports",
    ),
];

/// A name in a source file: the file, and where its identifier starts and ends.
type Site = (FileId, TextSize, TextSize);

/// The site of the identifier at `range` in `file`.
fn site(file: FileId, range: TextRange) -> Site {
    (file, range.start(), range.end())
}

/// What each site names, as one resolver says.
type Verdicts = BTreeMap<Site, Named>;

/// Checks that knit and rust-analyzer agree on every client and server name of
/// each case (a name and a fixture), but for the known differences; fails with
/// every disagreement, and with every known difference that no longer occurs.
pub(crate) fn assert_agrees(cases: impl IntoIterator<Item = (&'static str, String)>) {
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for (case, fixture) in cases {
        let found: Vec<(String, String)> = disagreements(&fixture::group(&fixture))
            .into_iter()
            .map(|(site, what)| (format!("{case}: {site}"), what))
            .collect();
        let known = KNOWN_DIFFERENCES.iter().map(|(key, _)| *key);
        let of_case =
            known.filter(|key| key.strip_prefix(case).is_some_and(|k| k.starts_with(':')));
        stale.extend(of_case.filter(|key| !found.iter().any(|(k, _)| k == key)));
        let is_known = |key: &str| KNOWN_DIFFERENCES.iter().any(|(k, _)| *k == key);
        let new = found.into_iter().filter(|(key, _)| !is_known(key));
        unexpected.extend(new.map(|(key, what)| format!("{key}: {what}")));
    }
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "knit and rust-analyzer disagree:\n{}\nknown differences that no longer occur \
         (delete them from KNOWN_DIFFERENCES):\n{}",
        unexpected.join("\n"),
        stale.join("\n"),
    );
}

/// The sites where knit and rust-analyzer disagree: (`path:line token`, what
/// each says).
fn disagreements(group: &Group) -> Vec<(String, String)> {
    let knit = knit_says(group);
    let sites = sites(group, &knit);
    let ra = Oracle::load(group).says(&sites);
    let mut out = Vec::new();
    for site in sites {
        let (k, r) = (knit.get(&site), ra.get(&site));
        if k == r {
            continue;
        }
        let (file, start, end) = site;
        let file = group.file(file);
        let token = &file.text[TextRange::new(start, end)];
        let at = format!("{}:{} {token}", file.path, file.line_col(start).0);
        out.push((
            at,
            format!("knit: {}; rust-analyzer: {}", describe(k), describe(r)),
        ));
    }
    out
}

/// What a resolver says a site names, in words.
fn describe(named: Option<&Named>) -> String {
    match named {
        Some(n) => format!("{:?} of {}.{}", n.role, n.package, n.service),
        None => "no generated client or server".into(),
    }
}

/// What knit's mentions name, at the last segment of each mention's path.
fn knit_says(group: &Group) -> Verdicts {
    let mut verdicts = Verdicts::new();
    for mention in Index::of(group).mentions {
        // The path's last identifier (in a macro's arguments, a token).
        let tree = group.file(mention.file).rust.as_ref().unwrap().tree();
        let name = tree
            .syntax()
            .descendants_with_tokens()
            .filter_map(|t| t.into_token())
            .filter(|t| t.kind() == SyntaxKind::IDENT)
            .filter(|t| mention.path.contains_range(t.text_range()))
            .filter(|t| {
                let mut within = t
                    .parent_ancestors()
                    .take_while(|a| mention.path.contains_range(a.text_range()));
                !within.any(|a| a.kind() == SyntaxKind::GENERIC_ARG_LIST)
            })
            .last()
            .unwrap_or_else(|| {
                panic!(
                    "a mention's path ends in a name: {:?}",
                    &group.file(mention.file).text[mention.path]
                )
            });
        verdicts.insert(site(mention.file, name.text_range()), mention.named);
    }
    verdicts
}

/// The sites to check: every identifier that writes the name of a generated
/// client or server (in a path or a macro's arguments, not where a name is
/// defined), and every site knit resolves.
fn sites(group: &Group, knit: &Verdicts) -> BTreeSet<Site> {
    let names: BTreeSet<String> = group
        .services
        .iter()
        .flat_map(|s| &s.protos)
        .flat_map(|p| &p.services)
        .flat_map(|s| [format!("{}Client", s.name), format!("{}Server", s.name)])
        .collect();
    let mut sites: BTreeSet<Site> = knit.keys().copied().collect();
    for (id, _, rust) in group.rust_files() {
        let tree = rust.tree();
        let tokens = tree.syntax().descendants_with_tokens();
        let idents = tokens
            .filter_map(|t| t.into_token())
            .filter(|t| t.kind() == SyntaxKind::IDENT && names.contains(t.text()))
            .filter(|t| {
                let parent = t.parent().map(|p| p.kind());
                matches!(parent, Some(SyntaxKind::NAME_REF | SyntaxKind::TOKEN_TREE))
            });
        sites.extend(idents.map(|t| site(id, t.text_range())));
    }
    sites
}

/// The stub of `core`: the built-in macros `include_proto!` expands to, and a
/// prelude that brings them into scope.
const CORE: &str = r#"
#[rustc_builtin_macro] #[macro_export] macro_rules! include { () => {} }
#[rustc_builtin_macro] #[macro_export] macro_rules! concat { () => {} }
#[rustc_builtin_macro] #[macro_export] macro_rules! env { () => {} }
pub mod prelude { pub mod rust_2021 { pub use crate::{concat, env, include}; } }
"#;

/// The stub of `tonic`: its `include_proto!`, as tonic writes it.
const TONIC: &str = r#"
#[macro_export]
macro_rules! include_proto {
    ($package:tt) => {
        include!(concat!(env!("OUT_DIR"), concat!("/", $package, ".rs")));
    };
}
"#;

/// The module tonic generates for a proto package whose services are
/// `services`, reduced to the names knit resolves.
fn generated_module(services: &[String]) -> String {
    let mut out = String::new();
    for s in services {
        let snake = snake_case(s);
        out.push_str(&format!(
            "pub mod {snake}_client {{ pub struct {s}Client<T>(T); \
             impl<T> {s}Client<T> {{ pub fn new(t: T) -> Self {{ Self(t) }} }} \
             impl {s}Client<()> {{ pub async fn connect(d: &str) -> Result<Self, ()> {{ unimplemented!() }} }} }}\n\
             pub mod {snake}_server {{ pub struct {s}Server<T>(T); pub trait {s} {{}} }}\n"
        ));
    }
    out
}

/// A group loaded into rust-analyzer.
struct Oracle {
    analysis: Analysis,
    /// The generated modules: file -> (proto package, its services).
    generated: BTreeMap<RaFileId, (String, Vec<String>)>,
}

/// What the VFS and the crate graph are built from.
#[derive(Default)]
struct Load {
    change: FileChange,
    files: FileSet,
    graph: CrateGraphBuilder,
    next: u32,
}

impl Load {
    /// Adds a file at `path` (absolute) with `text`.
    fn file(&mut self, id: RaFileId, path: &str, text: &str) {
        self.change.change_file(id, Some(text.to_string()));
        let path = AbsPathBuf::try_from(path).expect("an absolute path");
        self.files.insert(id, VfsPath::from(path));
    }

    /// Adds a file after the group's and returns its id.
    fn extra_file(&mut self, path: &str, text: &str) -> RaFileId {
        let id = RaFileId::from_raw(self.next);
        self.next += 1;
        self.file(id, path, text);
        id
    }

    /// Adds a crate rooted at `root`, with `env`.
    fn krate(&mut self, root: RaFileId, env: Env) -> CrateBuilderId {
        let workspace = CrateWorkspaceData {
            target: Err("no target in a test".to_string().into()),
            toolchain: None,
        };
        self.graph.add_crate_root(
            root,
            Edition::Edition2021,
            None,
            None,
            Default::default(),
            None,
            env,
            CrateOrigin::Local {
                repo: None,
                name: None,
            },
            Vec::new(),
            false,
            Arc::new(AbsPathBuf::try_from("/").unwrap()),
            Arc::new(workspace),
        )
    }

    /// Makes `to` a dependency of `from`, named `name`.
    fn dep(&mut self, from: CrateBuilderId, name: &str, to: CrateBuilderId) {
        let name = CrateName::new(name).expect("a crate name");
        self.graph
            .add_dep(from, DependencyBuilder::new(name, to))
            .expect("no cycles");
    }
}

impl Oracle {
    /// Loads `group`: each Rust file under `/`, with the id of its [`FileId`];
    /// each service's generated modules under `/out/<service>/`; the stubs.
    fn load(group: &Group) -> Oracle {
        let mut load = Load {
            next: group.files.len() as u32,
            ..Load::default()
        };
        for (id, file, _) in group.rust_files() {
            let path = format!("/{}", file.path);
            load.file(RaFileId::from_raw(id.0), &path, &file.text);
        }
        let generated = generated_files(group, &mut load);
        let core_file = load.extra_file("/stub/core/lib.rs", CORE);
        let core = load.krate(core_file, Env::default());
        let tonic_file = load.extra_file("/stub/tonic/lib.rs", TONIC);
        let tonic = load.krate(tonic_file, Env::default());
        load.dep(tonic, "core", core);
        let crates = crates(group, &mut load);
        for (&(service, package, _), &krate) in &crates {
            load.dep(krate, "core", core);
            load.dep(krate, "tonic", tonic);
            for (name, (package, root)) in externs(group, service, package) {
                let to = crates.get(&(service, package, root));
                if let Some(&to) = to.filter(|&&to| to != krate) {
                    load.dep(krate, &name, to);
                }
            }
        }
        let mut change = load.change;
        change.set_roots(vec![SourceRoot::new_local(load.files)]);
        change.set_crate_graph(load.graph);
        let mut host = AnalysisHost::default();
        change.apply(host.raw_database_mut());
        Oracle {
            analysis: host.analysis(),
            generated,
        }
    }

    /// What rust-analyzer says each of `sites` names, where it names a
    /// generated client or server.
    fn says(&self, sites: &BTreeSet<Site>) -> Verdicts {
        let config = GotoDefinitionConfig {
            ra_fixture: RaFixtureConfig::default(),
        };
        let mut verdicts = Verdicts::new();
        for &(file, start, end) in sites {
            let position = FilePosition {
                file_id: RaFileId::from_raw(file.0),
                offset: start,
            };
            verdicts.extend(
                self.names(position, &config)
                    .map(|n| ((file, start, end), n)),
            );
        }
        verdicts
    }

    /// The generated client or server the name at `position` names, through
    /// `type` aliases too (a path through `type G = GreeterClient<Channel>`
    /// names the client).
    fn names(&self, position: FilePosition, config: &GotoDefinitionConfig) -> Option<Named> {
        let targets = self.analysis.goto_definition(position, config);
        let targets = targets.expect("not cancelled").map(|t| t.info);
        let targets = targets.unwrap_or_default();
        let structs = targets
            .iter()
            .filter(|nav| nav.kind == Some(SymbolKind::Struct));
        let named = structs.into_iter().find_map(|nav| {
            let (package, services) = self.generated.get(&nav.file_id)?;
            named(package, services, nav.name.as_str())
        });
        if named.is_some() {
            return named;
        }
        let alias = targets
            .iter()
            .find(|nav| nav.kind == Some(SymbolKind::TypeAlias))?;
        let tree = self.analysis.parse(alias.file_id).expect("not cancelled");
        let item = tree
            .syntax()
            .covering_element(alias.full_range)
            .ancestors()
            .find_map(ra_ap_syntax::ast::TypeAlias::cast)?;
        let ra_ap_syntax::ast::Type::PathType(ty) = item.ty()? else {
            return None;
        };
        let name = ty.path()?.segment()?.name_ref()?;
        let position = FilePosition {
            file_id: alias.file_id,
            offset: name.syntax().text_range().start(),
        };
        self.names(position, config)
    }
}

/// The client or server of `services` (of proto package `package`) whose
/// struct is `name`.
fn named(package: &str, services: &[String], name: &str) -> Option<Named> {
    services.iter().find_map(|s| {
        let role = if name == format!("{s}Client") {
            Role::Client
        } else if name == format!("{s}Server") {
            Role::Server
        } else {
            return None;
        };
        Some(Named {
            role,
            package: package.to_string(),
            service: s.clone(),
        })
    })
}

/// The first line of the code prost-build generates.
const GENERATED_HEADER: &str = "// This file is @generated by prost-build.";

/// The generated modules of `group`, by file: (package, its proto services).
/// Adds those the build would write, at `/out/<service>/<package>.rs`; the
/// others are the group's files of generated code checked into the sources
/// (named after their package by prost-build).
fn generated_files(group: &Group, load: &mut Load) -> BTreeMap<RaFileId, (String, Vec<String>)> {
    let mut generated = BTreeMap::new();
    let packages = |service: ServiceId| {
        let mut packages: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for proto in &group.services[service].protos {
            let names = packages.entry(proto.package.clone()).or_default();
            names.extend(proto.services.iter().map(|s| s.name.clone()));
        }
        packages
    };
    for (i, service) in group.services_by_id() {
        for (package, services) in packages(i) {
            let path = format!("/out/{}/{package}.rs", service.name);
            let id = load.extra_file(&path, &generated_module(&services));
            generated.insert(id, (package, services));
        }
    }
    for (id, file, _) in group.rust_files() {
        let stem = file
            .path
            .rsplit('/')
            .next()
            .and_then(|n| n.strip_suffix(".rs"));
        let Some(package) = stem.filter(|_| file.text.starts_with(GENERATED_HEADER)) else {
            continue;
        };
        let services = packages(file.service).remove(package).unwrap_or_default();
        generated.insert(RaFileId::from_raw(id.0), (package.to_string(), services));
    }
    generated
}

/// A knit crate: service, package and root file.
type CrateKey = (ServiceId, PackageId, FileId);

/// Adds a crate for each knit crate of `group` (the files of one target tree),
/// each with `OUT_DIR` at its service's generated modules.
fn crates(group: &Group, load: &mut Load) -> BTreeMap<CrateKey, CrateBuilderId> {
    let mut crates = BTreeMap::new();
    for (_, file, rust) in group.rust_files() {
        let key = (file.service, file.package, rust.krate);
        if crates.contains_key(&key) {
            continue;
        }
        let out_dir = format!("/out/{}", group.services[file.service].name);
        let env = Env::from_iter([("OUT_DIR".to_string(), out_dir)]);
        crates.insert(key, load.krate(RaFileId::from_raw(rust.krate.0), env));
    }
    crates
}

/// The libraries a crate of `package` of `service` depends on, as Cargo gives
/// them: (crate name, (package, root)) for its own package's library and the
/// libraries of its path dependencies.
fn externs(
    group: &Group,
    service: ServiceId,
    package: PackageId,
) -> Vec<(String, (PackageId, FileId))> {
    let packages = &group.services[service].packages;
    let lib_of = |p: PackageId| packages[p].lib.as_ref().map(|lib| (p, lib.root));
    let own = packages[package].lib.as_ref();
    let mut out: Vec<_> = own
        .map(|lib| (lib.name.replace('-', "_"), (package, lib.root)))
        .into_iter()
        .collect();
    for dep in &packages[package].local_deps {
        let Some(p) = packages
            .iter()
            .position(|p| p.name == dep.package)
            .map(PackageId)
        else {
            continue;
        };
        out.extend(lib_of(p).map(|lib| (dep.key.replace('-', "_"), lib)));
    }
    out
}

#[test]
fn oracle_agrees_on_targeted_cases() {
    assert_agrees(cases());
}

/// rust-analyzer sees the generated module through `include_proto!`, so the
/// oracle does not agree with knit by resolving nothing.
#[test]
fn oracle_resolves_through_include_proto() {
    let group = fixture::group(&fixture::with_frontend(ALIASES));
    let sites = sites(&group, &Verdicts::new());
    let says = Oracle::load(&group).says(&sites);
    let roles: Vec<Role> = says.values().map(|n| n.role).collect();
    assert_eq!(sites.len(), 4);
    assert_eq!(
        roles,
        [Role::Server, Role::Server, Role::Client, Role::Client]
    );
}

/// `calls.rs`'s `aliases_and_full_paths_resolve`.
const ALIASES: &str = r#"use hello::greeter_client::GreeterClient as Greeter;
mod hello { tonic::include_proto!("helloworld"); }
#[tokio::main]
async fn main() {
    let a = Greeter::connect("http://a").await.unwrap();
    let b = crate::hello::greeter_client::GreeterClient::connect("http://b").await.unwrap();
}
"#;

/// The targeted cases: (name, fixture). Each is `GREETER` plus a `frontend`.
fn cases() -> Vec<(&'static str, String)> {
    let frontend =
        |main_rs: &str, files: &str| format!("{}{files}", fixture::with_frontend(main_rs));
    vec![
        ("calls::aliases_and_full_paths_resolve", frontend(ALIASES, "")),
        (
            "unrelated_crate",
            frontend(
                r#"use other::GreeterClient;
use other::greeter_client::GreeterClient as Other;
mod hello { tonic::include_proto!("helloworld"); }
fn main() {
    let a = GreeterClient::new(1);
    let b = other::greeter_client::GreeterClient::new(2);
    let c = Other::new(3);
}
"#,
                "",
            ),
        ),
        (
            "hand_written_lookalike_module",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
mod greeter_client { pub struct GreeterClient; }
use greeter_client::GreeterClient;
fn main() {
    let a = GreeterClient;
    let b = hello::greeter_client::GreeterClient::new(1);
}
"#,
                "",
            ),
        ),
        (
            "local_module_shadows_a_glob_import",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::*;
mod greeter_client { pub struct GreeterClient; }
fn main() {
    let a = greeter_client::GreeterClient;
}
"#,
                "",
            ),
        ),
        (
            "glob_import_of_a_proto_module",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::*;
fn main() {
    let a = greeter_client::GreeterClient::new(1);
}
"#,
                "",
            ),
        ),
        (
            "local_item_shadows_a_glob_import",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::greeter_client::*;
struct GreeterClient;
fn main() {
    let a = GreeterClient;
}
"#,
                "",
            ),
        ),
        (
            "module_in_a_fn_body_shadows_an_import",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::greeter_client;
fn main() {
    mod greeter_client { pub struct GreeterClient; }
    let a = greeter_client::GreeterClient;
}
fn other() {
    let b = greeter_client::GreeterClient::new(1);
}
"#,
                "",
            ),
        ),
        (
            "generic_parameter_shadows_an_import",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::greeter_client::GreeterClient;
fn wrap<GreeterClient>(c: GreeterClient) -> GreeterClient { c }
fn main() {
    let a = GreeterClient::new(1);
}
"#,
                "",
            ),
        ),
        (
            "glob_reexports",
            frontend(
                r#"pub mod hello { tonic::include_proto!("helloworld"); }
pub mod api { pub use crate::hello::*; }
pub mod flat {
    pub use crate::api::greeter_client::*;
    pub use crate::api::greeter_server::*;
}
use api::greeter_client::GreeterClient;
fn main() {
    let a = GreeterClient::new(1);
    let b = flat::GreeterClient::new(2);
    let c = api::greeter_server::GreeterServer::new(3);
    let d = flat::GreeterServer::new(4);
}
"#,
                "",
            ),
        ),
        (
            "pub_use_chains",
            frontend(
                r#"pub mod hello { tonic::include_proto!("helloworld"); }
pub mod a { pub use crate::hello::greeter_client::GreeterClient; }
pub mod b { pub use super::a::GreeterClient as Dial; }
pub mod c { pub use crate::b::*; }
use c::Dial;
fn main() {
    let x = Dial::new(1);
    let y = c::Dial::new(2);
    let z = b::Dial::new(3);
    let w = a::GreeterClient::new(4);
}
"#,
                "",
            ),
        ),
        (
            "pub_use_chain_across_crates",
            frontend(
                r#"use frontend::Dial;
fn main() {
    let a = Dial::new(1);
    let b = frontend::GreeterClient::new(2);
    let c = ::frontend::clients::GreeterClient::new(3);
}
"#,
                r#"//- /frontend/src/lib.rs
pub mod pb { tonic::include_proto!("helloworld"); }
pub mod clients { pub use crate::pb::greeter_client::*; }
pub use clients::GreeterClient;
pub use self::GreeterClient as Dial;
"#,
            ),
        ),
        (
            "use_in_fn_bodies",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
mod fake { pub struct GreeterClient; }
fn main() {
    use hello::greeter_client::GreeterClient;
    let a = GreeterClient::new(1);
    {
        use crate::fake::GreeterClient;
        let b = GreeterClient;
    }
    let c = || {
        use self::hello::greeter_client::*;
        GreeterClient::new(2)
    };
}
fn other() {
    let d = GreeterClient::new(3);
}
"#,
                "",
            ),
        ),
        (
            "super_paths",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
mod net;
mod inner {
    fn f() {
        let a = super::hello::greeter_client::GreeterClient::new(1);
    }
    mod deeper {
        use super::super::hello::greeter_server::GreeterServer;
        fn g() {
            let b = GreeterServer::new(2);
        }
    }
}
fn main() {}
"#,
                r#"//- /frontend/src/net/mod.rs
pub mod dial;
//- /frontend/src/net/dial.rs
use super::super::hello::greeter_client::GreeterClient;
pub fn go() {
    let a = GreeterClient::new(1);
    let b = super::super::hello::greeter_client::GreeterClient::new(2);
    let c = crate::hello::greeter_client::GreeterClient::new(3);
}
"#,
            ),
        ),
        (
            "nested_pb_v1_modules",
            frontend(
                r#"pub mod pb {
    pub mod shop {
        pub mod v1 { tonic::include_proto!("shop.v1"); }
    }
    pub mod raw {
        include!(concat!(env!("OUT_DIR"), "/shop.v1.rs"));
    }
}
use pb::shop::v1::checkout_client::CheckoutClient;
use self::pb::shop::v1 as shop_v1;
fn main() {
    let a = CheckoutClient::new(1);
    let b = shop_v1::checkout_server::CheckoutServer::new(2);
    let c = pb::shop::v1::checkout_client::CheckoutClient::new(3);
    let d = pb::raw::checkout_client::CheckoutClient::new(4);
}
"#,
                "//- /frontend/proto/shop.proto\npackage shop.v1;\nservice Checkout {\n  rpc Pay (PayRequest) returns (PayReply);\n}\n",
            ),
        ),
        (
            "use_group",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::{greeter_client::GreeterClient, greeter_server::GreeterServer as S};
fn main() {
    let a = GreeterClient::new(1);
    let b = S::new(2);
}
"#,
                "",
            ),
        ),
        (
            "use_self_in_a_group",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::greeter_client::{self};
fn main() {
    let a = greeter_client::GreeterClient::new(1);
    let b = self::hello::greeter_client::GreeterClient::new(2);
}
"#,
                "",
            ),
        ),
        (
            "path_dependency",
            frontend(
                r#"use api_client::GreeterClient;
fn main() {
    let a = GreeterClient::new(1);
    let b = api_client::pb::greeter_client::GreeterClient::new(2);
}
"#,
                r#"//- /frontend/api/Cargo.toml
[package]
name = "api"
edition = "2021"
//- /frontend/api/src/lib.rs
pub mod pb { tonic::include_proto!("helloworld"); }
pub use pb::greeter_client::GreeterClient;
"#,
            )
            .replace(
                "name = \"frontend\"\nedition = \"2021\"\n",
                "name = \"frontend\"\nedition = \"2021\"\n[dependencies]\napi-client = { path = \"api\", package = \"api\" }\n",
            ),
        ),
        (
            "extern_crate_alias",
            frontend(
                r#"extern crate frontend as fe;
fn main() {
    let a = fe::pb::greeter_client::GreeterClient::new(1);
}
"#,
                "//- /frontend/src/lib.rs\npub mod pb { tonic::include_proto!(\"helloworld\"); }\n",
            ),
        ),
        (
            "type_alias_with_a_client_name",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
mod clients { pub type GreeterClient = crate::hello::greeter_client::GreeterClient<u8>; }
fn main() {
    let a = clients::GreeterClient::new(1);
}
"#,
                "",
            ),
        ),
        (
            "macro_arguments",
            frontend(
                r#"mod hello { tonic::include_proto!("helloworld"); }
use hello::greeter_client::GreeterClient;
macro_rules! build { ($e:expr) => { $e }; }
fn main() {
    let a = build!(GreeterClient::new(1));
}
"#,
                "",
            ),
        ),
    ]
}
