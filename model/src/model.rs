//! What the driver loads and the passes read: services, packages, source files
//! and proto definitions of one merge group.

use ra_ap_syntax::{
    AstNode, Edition, GreenNode, SourceFile as Ast, SyntaxNode, TextRange, TextSize,
};

/// Index of a file in [`Group::files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// Index of a service in [`Group::services`] (plan order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub usize);

/// Index of a package in its service's [`Service::packages`] (0: the
/// service's own package).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageId(pub usize);

impl PackageId {
    /// The service's own package.
    pub const OWN: PackageId = PackageId(0);
}

impl std::ops::Index<ServiceId> for Vec<Service> {
    type Output = Service;
    fn index(&self, id: ServiceId) -> &Service {
        &self[id.0]
    }
}

impl std::ops::IndexMut<ServiceId> for Vec<Service> {
    fn index_mut(&mut self, id: ServiceId) -> &mut Service {
        &mut self[id.0]
    }
}

/// One value per service of a group, indexed by [`ServiceId`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerService<T>(Vec<T>);

impl<T> PerService<T> {
    /// Each service's value, in plan order.
    pub fn new(values: Vec<T>) -> PerService<T> {
        PerService(values)
    }

    /// `f` of each service of `group`, in plan order.
    pub fn of(group: &Group, f: impl FnMut(ServiceId) -> T) -> PerService<T> {
        PerService(group.service_ids().map(f).collect())
    }

    /// Each service's value, in plan order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }
}

impl<T> std::ops::Index<ServiceId> for PerService<T> {
    type Output = T;
    fn index(&self, id: ServiceId) -> &T {
        &self.0[id.0]
    }
}

impl<T> std::ops::IndexMut<ServiceId> for PerService<T> {
    fn index_mut(&mut self, id: ServiceId) -> &mut T {
        &mut self.0[id.0]
    }
}

impl<T> IntoIterator for PerService<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl std::ops::Index<PackageId> for Vec<Package> {
    type Output = Package;
    fn index(&self, id: PackageId) -> &Package {
        &self[id.0]
    }
}

/// A loaded merge group.
#[derive(Debug)]
pub struct Group {
    /// Services in plan order.
    pub services: Vec<Service>,
    /// Every parsed Rust file and every manifest, by [`FileId`].
    pub files: Vec<SourceFile>,
    /// The service whose `#[global_allocator]` the merged binary keeps, when the
    /// plan picks one.
    pub global_allocator: Option<String>,
    /// The tonic release line every service of the group builds with.
    pub tonic: knit_codegen::TonicLine,
}

/// One service of the plan.
#[derive(Debug, Clone)]
pub struct Service {
    /// The name the plan gives the service.
    pub name: String,
    /// Whether the service keeps its own listener in the merged binary.
    pub listen: bool,
    /// Environment variables the plan gives this service alone in the merged
    /// binary: (name, value; `${VAR}` reads the host's `VAR`).
    pub env: Vec<(String, String)>,
    /// The command-line arguments the plan gives the service's entry (after the
    /// program name), when it gives some: merged, the service reads them
    /// instead of the process's.
    pub args: Option<Vec<String>>,
    /// The working directory the plan gives the service, relative to the
    /// output root (`.` for the root).
    pub cwd: Option<String>,
    /// The packages of the service knit copies: the service's package first, then
    /// the local packages it depends on by path.
    pub packages: Vec<Package>,
    /// The binary target whose `main` is the service's entry.
    pub bin: Target,
    /// The features Cargo builds that binary with only (its
    /// `required-features`): the merged build enables them.
    pub bin_features: Vec<String>,
    /// The proto files the service's packages hold or their build scripts name.
    pub protos: Vec<ProtoFile>,
    /// Generated gRPC code its packages reach in registry or git dependencies.
    pub external_apis: Vec<ExternalApi>,
}

/// A registry or git dependency of a service that holds tonic's generated code
/// for proto packages (an API crate: `dragonfly-api`, `arrow-flight`): read from
/// Cargo's cache of sources, never copied or edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalApi {
    /// The name the service's sources give the crate (`dragonfly_api`).
    pub krate: String,
    /// The package and its version, as reasons name it (`dragonfly-api 2.3.1`).
    pub package: String,
    /// The gRPC services its generated code defines: (proto package, service).
    /// Empty when its sources are not in Cargo's cache (`cargo fetch` puts them there).
    pub services: Vec<(String, String)>,
    /// Whether knit found its sources.
    pub read: bool,
}

/// One Cargo package of a service.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    /// The package folder, relative to the output root (`/`-separated).
    pub dir: String,
    /// The manifest (`Cargo.toml`).
    pub manifest: FileId,
    /// The package's library target, if it has one.
    pub lib: Option<Target>,
    /// The package's build script, when it has one.
    pub build_script: Option<String>,
    /// The package's binary targets: (name, path from the package folder).
    pub bins: Vec<(String, String)>,
    /// The package's path dependencies on other packages of the service.
    pub local_deps: Vec<LocalDep>,
    /// Keys of the package's dev-dependencies by path that point outside what
    /// the service builds (another workspace's test kit): the merge drops them.
    pub dropped_dev_deps: Vec<String>,
    /// The manifest of the package's Cargo workspace root and the root's folder
    /// in the output: what the package inherits with `workspace = true`.
    pub workspace: Option<(String, String)>,
    /// The features the service's build enables in the package, when knit
    /// can tell (`knit_load::features`).
    pub features: Option<std::collections::BTreeSet<String>>,
}

/// A path dependency between two packages of one service.
#[derive(Debug, Clone)]
pub struct LocalDep {
    /// The key in `[dependencies]`: the crate name sources use.
    pub key: String,
    /// The package it names.
    pub package: String,
}

/// A binary or library target.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// The crate root file.
    pub root: FileId,
}

/// A file knit read: Rust source (with its parse) or a manifest.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the output root (`/`-separated); the diff shows it as is.
    pub path: String,
    pub text: String,
    /// The service that reads the file first.
    pub service: ServiceId,
    /// The package of that service the file belongs to.
    pub package: PackageId,
    /// The other services' packages this file's package is: a package that
    /// several services reach (a proto crate, a client helper) is kept once.
    pub also: Vec<PackageRef>,
    /// Rust source: its module path from the crate root, edition and parse.
    pub rust: Option<RustFile>,
}

/// A parsed Rust file.
#[derive(Debug)]
pub struct RustFile {
    /// The root file of the crate (target) the file belongs to.
    pub krate: FileId,
    /// Module path from the crate root (empty for a crate root).
    pub module: Vec<String>,
    pub edition: Edition,
    /// The file's syntax tree (lossless: its text is the file's).
    pub green: GreenNode,
    /// Its `mod` items whose file the package's build script writes (tonic's
    /// `out_dir("src/generated")`): not read, since every build writes them anew.
    pub built_modules: Vec<BuiltModule>,
    /// The other crates that compile this same file, each with the module
    /// path the file has there: `mod proto;` in both `lib.rs` and `main.rs`.
    pub also_in: Vec<(FileId, Vec<String>)>,
    /// Compiled for tests only: its `mod` (or one around it) is under
    /// `#[cfg(test)]`.
    pub test_only: bool,
}

/// A `mod x;` whose file a build script writes.
#[derive(Debug, Clone)]
pub struct BuiltModule {
    /// The `mod` item.
    pub item: TextRange,
    /// The file's name without `.rs`: tonic names it after the proto package.
    pub stem: String,
}

impl RustFile {
    /// The module path of the file in crate `krate` (its root file), if that
    /// crate compiles it.
    pub fn module_in(&self, krate: FileId) -> Option<&[String]> {
        if krate == self.krate {
            return Some(&self.module);
        }
        self.also_in
            .iter()
            .find(|(k, _)| *k == krate)
            .map(|(_, module)| module.as_slice())
    }

    /// Every crate that compiles the file (its root file), its own first.
    pub fn crates(&self) -> impl Iterator<Item = FileId> + '_ {
        std::iter::once(self.krate).chain(self.also_in.iter().map(|(k, _)| *k))
    }

    /// The file's syntax tree.
    pub fn tree(&self) -> Ast {
        Ast::cast(SyntaxNode::new_root(self.green.clone()))
            .expect("a Rust file's tree is a source file")
    }
}

/// A `.proto` file as the service's build compiles it.
#[derive(Debug, Clone)]
pub struct ProtoFile {
    /// Path relative to the output root.
    pub path: String,
    pub text: String,
    /// The proto package (`helloworld`, `shop.v1`).
    pub package: String,
    pub services: Vec<ProtoService>,
    /// Fingerprint of the definitions (messages, services), blind to comments
    /// and layout: equal fingerprints mean the same generated types.
    pub fingerprint: u64,
    /// Names of the files it imports.
    pub imports: Vec<String>,
}

/// A gRPC service of a proto file, and one RPC of it.
pub use knit_codegen::{ProtoMethod, ProtoService};

impl Group {
    /// The first service of the group that runs the same binary as `service`
    /// (one binary in several roles, each chosen by its `args`): the service
    /// whose entry is lifted, which every role of that binary runs.
    pub fn role_of(&self, service: ServiceId) -> ServiceId {
        let root = self.services[service].bin.root;
        self.services
            .iter()
            .position(|s| s.bin.root == root)
            .map_or(service, ServiceId)
    }

    /// Whether `service` runs a binary that other services of the group run
    /// too, in other roles.
    pub fn has_roles(&self, service: ServiceId) -> bool {
        let root = self.services[service].bin.root;
        self.services.iter().filter(|s| s.bin.root == root).count() > 1
    }

    /// The services with their ids, in plan order.
    pub fn services_by_id(&self) -> impl Iterator<Item = (ServiceId, &Service)> {
        self.services
            .iter()
            .enumerate()
            .map(|(i, s)| (ServiceId(i), s))
    }

    /// The ids of the services, in plan order.
    pub fn service_ids(&self) -> impl Iterator<Item = ServiceId> + use<> {
        (0..self.services.len()).map(ServiceId)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Rust files with their ids.
    pub fn rust_files(&self) -> impl Iterator<Item = (FileId, &SourceFile, &RustFile)> {
        self.files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.rust.as_ref().map(|r| (FileId(i as u32), f, r)))
    }
}

/// A package of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageRef {
    pub service: ServiceId,
    pub package: PackageId,
}

impl SourceFile {
    /// Every service's package this file belongs to: its own first, then
    /// [`SourceFile::also`].
    pub fn owners(&self) -> impl Iterator<Item = PackageRef> + '_ {
        let own = PackageRef {
            service: self.service,
            package: self.package,
        };
        std::iter::once(own).chain(self.also.iter().copied())
    }

    /// This file's package as one of `service`'s, when the service reaches it.
    pub fn package_ref(&self, service: ServiceId) -> Option<PackageRef> {
        let package = self.package_in(service)?;
        Some(PackageRef { service, package })
    }

    /// The index of this file's package among `service`'s packages, when the
    /// service reaches it.
    pub fn package_in(&self, service: ServiceId) -> Option<PackageId> {
        if self.service == service {
            return Some(self.package);
        }
        self.also
            .iter()
            .find_map(|r| (r.service == service).then_some(r.package))
    }

    /// 1-based line and column of `offset`.
    pub fn line_col(&self, offset: TextSize) -> (usize, usize) {
        let before = &self.text[..usize::from(offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, col)
    }
}

pub use knit_codegen::names::relative_path;

/// The folder of a `/`-separated path (empty for a top-level file).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}
