//! Loading the services of a plan: each service's Cargo workspace ([`workspace`]),
//! the module tree of every target, each file parsed with the crate's edition.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use knit_model::FileId;
use knit_model::model::{
    BuiltModule, Group, LocalDep, Package, PackageId, PackageRef, ProtoFile, RustFile, Service,
    ServiceId, SourceFile, Target,
};
use ra_ap_syntax::ast::{self, HasAttrs, HasModuleItem, HasName};
use ra_ap_syntax::{AstNode, AstToken, Edition, SyntaxKind, TextSize};
use rayon::prelude::*;

use crate::error::{Diagnostic, Error, Result};
use crate::git::{self, GitState};
use crate::paths::slash;
use crate::plan::{Plan, ServiceSpec};
use crate::workspace::{self, Kind, Member, Workspace};
use crate::{OUTPUT_MARKER, probe, protos, reads, tonic};

/// The loaded inputs of a merge.
#[derive(Debug)]
pub struct Loaded {
    pub plan: Plan,
    pub group: Group,
    /// For each file of the group (by [`FileId`]), where knit read it (for a
    /// service pinned to a revision: its export). Everything else knows a file
    /// by its path in the output ([`SourceFile::path`]), errors too
    /// ([`Loaded::shown`]).
    pub origins: Vec<PathBuf>,
    /// Files copied as they are: (where knit reads it, path in the output).
    pub copies: Vec<(PathBuf, String)>,
    /// For each of `copies`, the services that read it.
    pub copy_services: Vec<BTreeSet<usize>>,
    /// Each service's `Cargo.lock`, when it has one.
    pub lockfiles: Vec<Option<String>>,
    /// The plan's folder, canonical.
    pub canonical_dir: PathBuf,
    /// The plan's folder as an output path: the output mirrors the folder that
    /// holds the plan and every input.
    pub plan_place: String,
    /// Where each service was read, by service.
    pub sources: Vec<ServiceSource>,
    /// The tonic release line every service of the group builds with.
    pub tonic: tonic::Line,
    /// The `links` keys of the registry packages the merged build keeps.
    pub links: crate::links::LinksKeys,
    /// What loading found worth a note in the report: (output path of the
    /// file it is about, message).
    pub notes: Vec<(String, String)>,
    /// The Cargo configuration files the services' builds read from their
    /// repositories: (service index, path in the output tree, text), each
    /// service's deepest first.
    pub cargo_configs: Vec<(usize, String, String)>,
    /// The toolchain file rustup reads for each service's build
    /// (`rust-toolchain.toml`, or `rust-toolchain`): (service index, path in
    /// the output tree, text).
    pub toolchains: Vec<(usize, String, String)>,
}

/// Where a service's files came from.
#[derive(Clone, Debug)]
pub struct ServiceSource {
    /// The folder that the service's output folder `out_root` mirrors, as read
    /// (an export of the pinned revision, for a service with `rev`).
    pub read_root: PathBuf,
    /// The service workspace's folder in the output (empty: the output's root).
    pub out_root: String,
    /// The commit and state of the service's checkout, when it is a git checkout.
    pub git: Option<GitState>,
    /// The pinned revision, if any.
    pub rev: Option<String>,
}

impl Loaded {
    /// How errors name the input file whose output path is `path`: from the
    /// plan's folder as the plan was given (`corpus/greeter` +
    /// `greeter/src/main.rs`; `plans` + `../svc/src/main.rs` is `svc/src/main.rs`),
    /// also for a service pinned to a revision (its checkout's path, not the export's).
    pub fn shown(&self, path: &str) -> PathBuf {
        let rel = knit_model::model::relative_path(&self.plan_place, path);
        let shown = self.plan.dir.join(&rel);
        // Only a path that climbs out of the plan's folder is folded.
        if rel.starts_with("../") {
            crate::paths::normalize(&shown)
        } else {
            shown
        }
    }
}

/// What one service contributes before files get their ids and output paths.
/// Paths are where each thing stands in the input tree (for a service read from
/// an export of a pinned revision, the checkout's path): the output mirrors that
/// tree ([`place`]).
struct Loading {
    /// The service, its packages' folders, workspace roots and proto paths still
    /// unset (see `package_dirs`, `package_roots`, `proto_paths`).
    service: Service,
    source: ServiceSource,
    /// The service workspace's root folder.
    root: PathBuf,
    files: Vec<Input>,
    /// Each package's folder.
    package_dirs: Vec<PathBuf>,
    /// Each package's workspace root: its manifest and folder.
    package_roots: Vec<Option<(String, PathBuf)>>,
    /// Where each of `service.protos` is.
    proto_paths: Vec<PathBuf>,
    bin_root: PathBuf,
    /// Every crate root of the service; a `RustFile::krate` indexes it until
    /// files get their ids.
    crate_roots: Vec<PathBuf>,
    /// Each package's library root, if any.
    lib_roots: Vec<Option<PathBuf>>,
    /// Files copied as they are: (where knit reads it, where it is).
    copies: Vec<(PathBuf, PathBuf)>,
    /// Notes for the report: (where the file is, message).
    notes: Vec<(PathBuf, String)>,
    lockfile: Option<String>,
    /// The tonic line the service builds with, if it names tonic.
    tonic: Option<(tonic::Line, tonic::Uses)>,
    /// The Cargo configuration files its build reads: (where it is, text),
    /// the workspace's folder's first.
    cargo_configs: Vec<(PathBuf, String)>,
    /// The toolchain file rustup reads for its build: (where it is, text).
    toolchain: Option<(PathBuf, String)>,
}

/// A Rust file or manifest of a service: where knit reads it, where it is, and
/// the file (its `path` set by [`place`]).
struct Input {
    read: PathBuf,
    at: PathBuf,
    file: SourceFile,
}

/// Whether loading may run a build script to see what it compiles
/// ([`crate::probe`]): on unless turned off here (the fuzz targets do) or by
/// `KNIT_BUILD_SCRIPTS=never` in the environment.
static RUNS_BUILD_SCRIPTS: AtomicBool = AtomicBool::new(true);

/// Lets loading run build scripts, or not: without, a build script's literal
/// reading is all knit knows of it.
pub fn run_build_scripts(on: bool) {
    RUNS_BUILD_SCRIPTS.store(on, Ordering::Relaxed);
}

fn runs_build_scripts() -> bool {
    RUNS_BUILD_SCRIPTS.load(Ordering::Relaxed)
        && std::env::var_os("KNIT_BUILD_SCRIPTS").is_none_or(|v| v != "never")
}

/// Whether loading asks git which version of each service it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versions {
    /// Each checkout's commit and whether it has changes, for `knit.lock`.
    Read,
    /// Not asked (for what does not write `knit.lock`: the diff, the report).
    /// A service pinned to a revision still knows its commit.
    Skip,
}

/// Loads every service of `plan`. Errors name files as the plan does (relative
/// to where knit runs when the plan was given so).
pub fn load(plan: Plan, versions: Versions) -> Result<Loaded> {
    let plan_dir = canonical(&plan.dir, &plan.file)?;
    let shown = plan.dir.clone();
    load_canonical(plan, &plan_dir, versions).map_err(|Error(diagnostics)| {
        Error(
            diagnostics
                .into_iter()
                .map(|d| shown_relative(d, &plan_dir, &shown))
                .collect(),
        )
    })
}

/// `d` with a file path under `canonical` shown under `shown` instead, and one
/// beside it (a service outside the plan's folder) from `shown` too.
fn shown_relative(mut d: Diagnostic, canonical: &Path, shown: &Path) -> Diagnostic {
    let Some(file) = &d.file else { return d };
    if let Ok(rel) = file.strip_prefix(canonical) {
        d.file = Some(shown.join(rel));
    } else if file.is_absolute() {
        let rel = crate::paths::relative(canonical, file);
        d.file = Some(crate::paths::normalize(&shown.join(rel)));
    }
    d
}

/// The errors of loading a service pinned to a revision, with the files of its
/// export (`export`: the export and the checkout it mirrors) named in the checkout.
fn in_checkout(Error(diagnostics): Error, export: Option<(PathBuf, PathBuf)>) -> Error {
    let Some((exported, top)) = export else {
        return Error(diagnostics);
    };
    let moved = |mut d: Diagnostic| {
        if let Some(rel) = d.file.as_ref().and_then(|f| f.strip_prefix(&exported).ok()) {
            d.file = Some(top.join(rel));
        }
        d
    };
    Error(diagnostics.into_iter().map(moved).collect())
}

fn load_canonical(plan: Plan, plan_dir: &Path, versions: Versions) -> Result<Loaded> {
    refuse_knit_output(plan_dir, &plan.file)?;
    let results = load_services(&plan, versions);
    let mut errors = Vec::new();
    let mut loadings = Vec::new();
    for result in results {
        match result {
            Ok(l) => loadings.push(l),
            // A package several services reach fails once for all of them.
            Err(Error(e)) => {
                for d in e {
                    if !errors.contains(&d) {
                        errors.push(d);
                    }
                }
            }
        }
    }
    // (Indices of `loadings` are the plan's only when every service loaded.)
    let all_loaded = errors.is_empty();
    for (i, loading) in loadings.iter().enumerate().filter(|_| all_loaded) {
        // One binary in several roles: each service names its role with `args`.
        let same_role = |l: &(usize, &Loading)| {
            let (a, b) = (&plan.services[l.0], &plan.services[i]);
            l.1.bin_root == loading.bin_root && (a.args.is_none() || a.args == b.args)
        };
        if let Some((first, _)) = loadings[..i].iter().enumerate().find(same_role) {
            let (a, b) = (&plan.services[first], &plan.services[i]);
            errors.push(Diagnostic::at(
                &plan.file,
                b.line,
                1,
                format!(
                    "services `{}` and `{}` are the same binary `{}` of package `{}` with the same arguments: a binary runs once in a merge, unless each service names its role with its own `args = [..]`",
                    a.name,
                    b.name,
                    loading.service.bin.name,
                    loading.service.packages[0].name
                ),
            ));
        }
    }
    // The group's tonic line: one for all (indices are the plan's when all loaded).
    let lines: Vec<_> = loadings.iter().map(|l| l.tonic.clone()).collect();
    let tonic = tonic::of_group(&lines).unwrap_or_else(|(a, b)| {
        let uses = |i: usize| {
            let uses = lines[i].as_ref().map(|(_, u)| u);
            let (version, whence) = uses.map_or(("?", ""), |u| (u.version.as_str(), u.whence));
            format!("`{}` on tonic {version} ({whence})", plan.services[i].name)
        };
        if all_loaded {
            errors.push(Diagnostic::at(&plan.file, plan.services[b].line, 1, format!(
                "services {} and {} build with different tonic lines: one merged binary holds one tonic; not supported yet (move both to one tonic line, or merge them in separate groups)",
                uses(a),
                uses(b)
            )));
        }
        tonic::Line::default()
    });
    if !errors.is_empty() {
        return Err(Error(errors));
    }
    let top = inputs_root(plan_dir, &loadings);
    let members: Vec<PathBuf> = loadings
        .iter()
        .flat_map(|l| l.package_dirs.iter().cloned())
        .collect();
    let mut group = Group {
        services: Vec::new(),
        files: Vec::new(),
        global_allocator: plan.global_allocator.clone(),
        tonic,
    };
    let (mut origins, mut copies, mut lockfiles): (Vec<PathBuf>, Vec<(PathBuf, String)>, Vec<_>) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut sources = Vec::new();
    let mut notes: Vec<(String, String)> = Vec::new();
    let mut cargo_configs = Vec::new();
    let mut toolchains = Vec::new();
    // Every file gets one id, however many services reach its package.
    let mut ids: HashMap<PathBuf, FileId> = HashMap::new();
    let mut by_path: HashMap<String, FileId> = HashMap::new();
    let mut copy_services: Vec<BTreeSet<usize>> = Vec::new();
    let mut copied: HashMap<String, usize> = HashMap::new();
    for (index, mut loading) in loadings.into_iter().enumerate() {
        let spec = &plan.services[index];
        let place = |at: &Path| place(at, &top);
        for ((package, dir), root) in loading
            .service
            .packages
            .iter_mut()
            .zip(&loading.package_dirs)
            .zip(loading.package_roots)
        {
            package.dir = place(dir);
            if package.dir.is_empty() {
                return Err(Diagnostic::at(&plan.file, spec.line, 1, format!(
                    "service `{}`: package `{}` is the plan's own folder; put the plan in a folder above the service",
                    spec.name, package.name
                ))
                .into());
            }
            package.workspace = root.map(|(text, dir)| (text, place(&dir)));
        }
        for (proto, at) in loading.service.protos.iter_mut().zip(&loading.proto_paths) {
            proto.path = place(at);
        }
        loading.source.out_root = place(&loading.root);
        loading.files.sort_by(|a, b| a.at.cmp(&b.at));
        let mut fresh = Vec::new();
        for Input { read, at, mut file } in loading.files {
            file.path = place(&at);
            if let Some(&id) = ids.get(&read) {
                // Compiled for tests only if it is so for every service.
                let shared = &mut group.files[id.0 as usize];
                if let (Some(first), Some(this)) = (shared.rust.as_mut(), file.rust.as_ref()) {
                    first.test_only &= this.test_only;
                }
                group.files[id.0 as usize].also.push(PackageRef {
                    service: ServiceId(index),
                    package: file.package,
                });
                continue;
            }
            if let Some(&other) = by_path.get(&file.path) {
                return Err(Diagnostic::at(&plan.file, spec.line, 1, format!(
                    "service `{}` reads `{}` from another revision than service `{}` does: one merge holds one version of a file",
                    spec.name,
                    file.path,
                    plan.services[group.files[other.0 as usize].service.0].name
                ))
                .into());
            }
            let id = FileId((group.files.len() + fresh.len()) as u32);
            ids.insert(read.clone(), id);
            by_path.insert(file.path.clone(), id);
            fresh.push((read, file));
        }
        let id_of = |path: &Path| ids[path];
        loading.service.bin.root = id_of(&loading.bin_root);
        let roots: Vec<FileId> = loading.crate_roots.iter().map(|r| id_of(r)).collect();
        for (_, file) in &mut fresh {
            if let Some(rust) = &mut file.rust {
                rust.krate = roots[rust.krate.0 as usize];
                for (krate, _) in &mut rust.also_in {
                    *krate = roots[krate.0 as usize];
                }
            }
        }
        for (package, lib_root) in loading.service.packages.iter_mut().zip(&loading.lib_roots) {
            if let (Some(lib), Some(root)) = (&mut package.lib, lib_root) {
                lib.root = id_of(root);
            }
            package.manifest = by_path[&format!("{}/Cargo.toml", package.dir)];
        }
        for (origin, file) in fresh {
            origins.push(origin);
            group.files.push(file);
        }
        group.services.push(loading.service);
        for (read, at) in loading.copies {
            let path = place(&at);
            if by_path.contains_key(&path) {
                continue;
            }
            let i = *copied.entry(path.clone()).or_insert_with(|| {
                copies.push((read, path));
                copy_services.push(BTreeSet::new());
                copies.len() - 1
            });
            copy_services[i].insert(index);
        }
        for (at, message) in loading.notes {
            let note = (place(&at), message);
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        // Those in the folder the output mirrors: one above it (the user's
        // own, the repository that holds a corpus) is not the services'.
        for (at, text) in loading.cargo_configs {
            if at.starts_with(&top) {
                cargo_configs.push((index, place(&at), text));
            }
        }
        if let Some((at, text)) = loading.toolchain
            && at.starts_with(&top)
        {
            toolchains.push((index, place(&at), text));
        }
        lockfiles.push(loading.lockfile);
        sources.push(loading.source);
    }
    // A file one service copies as it is (another binary of its package) and
    // a later one reads as its code is that code: written once, as code.
    let (copies, copy_services): (Vec<_>, Vec<_>) = copies
        .into_iter()
        .zip(copy_services)
        .filter(|((_, path), _)| !by_path.contains_key(path))
        .unzip();
    own_binaries(&mut group);
    for index in 0..group.services.len() {
        let enabled = crate::features::enabled(&group, &group.services[index]);
        for (package, features) in group.services[index].packages.iter_mut().zip(enabled) {
            package.features = features;
        }
    }
    for (service, spec) in group.services.iter_mut().zip(&plan.services) {
        service.cwd = match &spec.cwd {
            Some(cwd) => Some(cwd_in_output(&plan, plan_dir, spec, cwd, &top, &members)?),
            None => None,
        };
    }
    let locked = crate::lockmerge::with_lockfiles(&group.services, &lockfiles);
    let links = crate::links::LinksKeys::read(&locked, &crate::links::CargoHome::from_env());
    Ok(Loaded {
        links,
        plan,
        group,
        origins,
        copies,
        copy_services,
        lockfiles,
        canonical_dir: plan_dir.to_path_buf(),
        plan_place: place(plan_dir, &top),
        sources,
        tonic,
        notes,
        cargo_configs,
        toolchains,
    })
}

/// Gives the files of each binary crate that services of the group run only to
/// those services: a package whose binaries are two services (`src/bin/a.rs`,
/// `src/bin/b.rs`) is reached by both, but each binary's code is one service's.
fn own_binaries(group: &mut Group) {
    let runs: Vec<(FileId, usize)> = group
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.bin.root, i))
        .collect();
    for file in &mut group.files {
        // A file the library compiles too is not the binary's own.
        let Some(krate) = file
            .rust
            .as_ref()
            .filter(|r| r.also_in.is_empty())
            .map(|r| r.krate)
        else {
            continue;
        };
        let runners: Vec<ServiceId> = runs
            .iter()
            .filter(|(root, _)| *root == krate)
            .map(|(_, i)| ServiceId(*i))
            .collect();
        if runners.is_empty() {
            continue;
        }
        let owners: Vec<PackageRef> = file
            .owners()
            .filter(|o| runners.contains(&o.service))
            .collect();
        if let Some((own, rest)) = owners.split_first() {
            file.service = own.service;
            file.package = own.package;
            file.also = rest.to_vec();
        }
    }
}

/// Where `spec`'s `cwd` lands in the output: a folder inside one of the
/// packages the merge copies (`members`), else an error on the service's line.
fn cwd_in_output(
    plan: &Plan,
    plan_dir: &Path,
    spec: &ServiceSpec,
    cwd: &str,
    top: &Path,
    members: &[PathBuf],
) -> Result<String> {
    let folder = plan_dir.join(cwd);
    let folder = folder.canonicalize().unwrap_or(folder);
    if !members.iter().any(|m| folder.starts_with(m)) {
        return Err(Diagnostic::at(&plan.file, spec.line, 1, format!(
            "service `{}`: `cwd = {cwd:?}` is not inside a package the merge copies: the merged binary could not find the service's files there; name a folder inside one of the group's packages, or leave `cwd` out and give the service absolute paths",
            spec.name
        ))
        .into());
    }
    let placed = place(&folder, top);
    Ok(if placed.is_empty() {
        ".".into()
    } else {
        placed
    })
}

/// The folder the output mirrors: the plan's folder when it holds every input
/// (each service, what its build and code read), else the folder above both.
fn inputs_root(plan_dir: &Path, loadings: &[Loading]) -> PathBuf {
    let mut top = plan_dir.to_path_buf();
    let paths = loadings.iter().flat_map(|l| {
        let files = l.files.iter().map(|f| f.at.as_path());
        let copies = l.copies.iter().map(|(_, at)| at.as_path());
        let folders = l.package_dirs.iter().map(PathBuf::as_path);
        let roots = l
            .package_roots
            .iter()
            .flatten()
            .map(|(_, dir)| dir.as_path());
        std::iter::once(l.root.as_path())
            .chain(folders)
            .chain(roots)
            .chain(files)
            .chain(copies)
    });
    for path in paths {
        while !path.starts_with(&top) {
            if !top.pop() {
                break;
            }
        }
    }
    top
}

/// The output path of `at`, a path under `top`.
fn place(at: &Path, top: &Path) -> String {
    slash(at.strip_prefix(top).unwrap_or(at))
}

fn canonical(path: &Path, shown: &Path) -> Result<PathBuf> {
    path.canonicalize().map_err(|e| {
        Diagnostic::in_file(shown, format!("cannot open `{}`: {e}", path.display())).into()
    })
}

/// knit reads original services, never a workspace it generated.
fn refuse_knit_output(dir: &Path, shown: &Path) -> Result<()> {
    for ancestor in dir.ancestors() {
        let marker = ancestor.join(OUTPUT_MARKER);
        if marker.is_file() {
            return Err(Diagnostic::in_file(shown, format!(
                "`{}` is inside a workspace knit generated ({}): merge the original services instead",
                dir.display(),
                marker.display()
            ))
            .into());
        }
    }
    Ok(())
}

fn pick_package<'w>(
    spec: &ServiceSpec,
    read_dir: &Path,
    workspace: &'w Workspace,
    plan: &Plan,
) -> Result<&'w Member> {
    let members = &workspace.members;
    let at_plan = |message: String| Diagnostic::at(&plan.file, spec.line, 1, message);
    if let Some(name) = &spec.package {
        return members.iter().find(|p| p.name == *name).ok_or_else(|| {
            at_plan(format!(
                "service `{}`: no package `{name}` in `{}`",
                spec.name,
                spec.path.display()
            ))
            .into()
        });
    }
    let here = read_dir.join("Cargo.toml").canonicalize().ok();
    if let Some(p) = members.iter().find(|p| Some(&p.manifest) == here.as_ref()) {
        return Ok(p);
    }
    let with_bins: Vec<_> = members
        .iter()
        .filter(|p| p.bins().next().is_some())
        .collect();
    match with_bins.as_slice() {
        [one] => Ok(one),
        _ => {
            let names: Vec<&str> = with_bins.iter().map(|p| p.name.as_str()).collect();
            Err(at_plan(format!(
                "service `{}`: name its package with `package = ..` (one of: {})",
                spec.name,
                names.join(", ")
            ))
            .into())
        }
    }
}

fn pick_bin<'p>(
    spec: &ServiceSpec,
    package: &'p Member,
    plan: &Plan,
) -> Result<&'p workspace::Target> {
    let bins: Vec<_> = package.bins().collect();
    let chosen = match &spec.bin {
        Some(name) => bins.iter().find(|t| &t.name == name).copied(),
        None if bins.len() == 1 => Some(bins[0]),
        None => bins.iter().find(|t| t.name == package.name).copied(),
    };
    chosen.ok_or_else(|| {
        let names: Vec<&str> = bins.iter().map(|t| t.name.as_str()).collect();
        let reason = if names.is_empty() {
            format!(
                "package `{}` has no binary: a service needs a `fn main`",
                package.name
            )
        } else if let Some(name) = &spec.bin {
            format!(
                "no binary `{name}` in package `{}` (binaries: {})",
                package.name,
                names.join(", ")
            )
        } else {
            format!(
                "name the service's binary with `bin = ..` (one of: {})",
                names.join(", ")
            )
        };
        Diagnostic::at(
            &plan.file,
            spec.line,
            1,
            format!("service `{}`: {reason}", spec.name),
        )
        .into()
    })
}

/// Where a service is read and its Cargo workspace: the part of loading that
/// may wait on child processes (git, `cargo metadata`).
struct Located {
    /// The service's folder as read.
    read_dir: PathBuf,
    /// For a pinned service: (the export, the checkout it mirrors).
    export: Option<(PathBuf, PathBuf)>,
    git: Option<GitState>,
    workspace: Workspace,
}

/// The most services located at once (each may run `git` or `cargo metadata`).
const LOCATING_THREADS: usize = 16;

/// Loads every service of `plan`; results in plan order. Services are located
/// on threads of their own, which may wait on child processes; each located
/// service goes on to rayon's pool, which reads and parses its files meanwhile.
/// The git states of the services' checkouts (when `versions` asks) are read
/// on a thread of their own too, while the rest loads.
fn load_services(plan: &Plan, versions: Versions) -> Vec<Result<Loading>> {
    let next = AtomicUsize::new(0);
    let (located, ready) = mpsc::channel();
    let (mut results, states) = std::thread::scope(|scope| {
        let states = scope.spawn(|| {
            if versions == Versions::Skip {
                return vec![None; plan.services.len()];
            }
            let states = git::States::new(plan.services.iter().map(|s| s.path.clone()).collect());
            plan.services
                .iter()
                .map(|s| s.rev.is_none().then(|| states.state(&s.path)).flatten())
                .collect::<Vec<Option<GitState>>>()
        });
        for _ in 0..LOCATING_THREADS.min(plan.services.len()) {
            let located = located.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = plan.services.get(i) else {
                        break;
                    };
                    let service = (i, locate(plan, spec));
                    located
                        .send(service)
                        .expect("drained until the last sender is gone");
                }
            });
        }
        drop(located);
        let results: Vec<(usize, Result<Loading>)> = ready
            .into_iter()
            .par_bridge()
            .map(|(i, located)| {
                let spec = &plan.services[i];
                let loaded = located.and_then(|l| {
                    let export = l.export.clone();
                    load_service(plan, i, spec, l).map_err(|e| in_checkout(e, export))
                });
                (i, loaded)
            })
            .collect();
        (
            results,
            states.join().expect("reading git states does not panic"),
        )
    });
    results.sort_by_key(|(i, _)| *i);
    results
        .into_iter()
        .zip(states)
        .map(|((_, result), state)| {
            result.map(|mut loading| {
                if loading.source.rev.is_none() {
                    loading.source.git = state;
                }
                loading
            })
        })
        .collect()
}

fn locate(plan: &Plan, spec: &ServiceSpec) -> Result<Located> {
    let user_dir = canonical(&spec.path, &plan.file)?;
    refuse_knit_output(&user_dir, &plan.file)?;
    let at_plan = |message: String| Diagnostic::at(&plan.file, spec.line, 1, message);
    // A pinned service is read from an export of its revision: (export, checkout).
    let (read_dir, export, git) = match &spec.rev {
        // Its state is asked of git meanwhile ([`load_services`]).
        None => (user_dir.clone(), None, None),
        Some(rev) => {
            let top = git::toplevel(&user_dir)
                .and_then(|t| t.canonicalize().ok())
                .ok_or_else(|| {
                    at_plan(format!(
                        "service `{}`: `rev` needs a git checkout",
                        spec.name
                    ))
                })?;
            let commit = git::resolve(&top, rev)
                .map_err(|e| at_plan(format!("service `{}`: {e}", spec.name)))?;
            let exported = git::export(&top, &commit)
                .and_then(|d| d.canonicalize().map_err(|e| e.to_string()))
                .map_err(|e| {
                    at_plan(format!(
                        "service `{}`: cannot export `{rev}`: {e}",
                        spec.name
                    ))
                })?;
            let inside = user_dir.strip_prefix(&top).unwrap_or(Path::new(""));
            (
                exported.join(inside),
                Some((exported, top)),
                Some(GitState {
                    commit,
                    dirty: false,
                }),
            )
        }
    };
    let manifest = read_dir.join("Cargo.toml");
    let workspace = workspace::read(&manifest).map_err(|Error(e)| {
        let reason = e.first().map_or("cannot be read", |d| d.message.as_str());
        at_plan(format!(
            "service `{}`: {}: {reason}",
            spec.name,
            crate::error::shown(&spec.path.join("Cargo.toml"))
        ))
    })?;
    Ok(Located {
        read_dir,
        export,
        git,
        workspace,
    })
}

fn load_service(
    plan: &Plan,
    index: usize,
    spec: &ServiceSpec,
    located: Located,
) -> Result<Loading> {
    let Located {
        read_dir,
        export,
        git,
        workspace,
    } = located;
    // Where a path read stands in the input tree.
    let at = |p: &Path| -> PathBuf {
        match &export {
            Some((exported, top)) => p
                .strip_prefix(exported)
                .map_or_else(|_| p.to_path_buf(), |r| top.join(r)),
            None => p.to_path_buf(),
        }
    };
    let root = workspace.root.clone();
    let source = ServiceSource {
        read_root: root.clone(),
        out_root: String::new(),
        git,
        rev: spec.rev.clone(),
    };
    let main = pick_package(spec, &read_dir, &workspace, plan)?;
    let bin = pick_bin(spec, main, plan)?;
    let bin_root = bin.root.clone();
    let bin_features = bin.required_features.clone();
    let bin_name = bin.name.clone();
    let chosen = reached_packages(main.clone(), workspace)?;

    let mut packages = Vec::new();
    let mut files = Vec::new();
    let mut copies = Vec::new();
    let mut protos_found: Vec<PathBuf> = Vec::new();
    let mut crate_roots = Vec::new();
    let mut lib_roots = Vec::new();
    let mut package_dirs = Vec::new();
    let mut package_roots = Vec::new();
    let mut notes = Vec::new();
    let dirs: Vec<PathBuf> = chosen
        .iter()
        .map(|c| c.member.dir().to_path_buf())
        .collect();
    let files_of_dirs = packages_files(&root, &dirs);
    // The folder a build script's probe copies: the repository (its files
    // outside the packages are what a literal reading misses), holding every
    // package reached and its workspace.
    let probe_tree = || {
        let mut top = match &export {
            Some((exported, _)) => exported.clone(),
            None => git::toplevel(&root).unwrap_or_else(|| root.clone()),
        };
        let folders = chosen.iter().flat_map(|c| {
            std::iter::once(c.member.dir())
                .chain(c.workspace_root.as_ref().map(|(_, r)| r.as_path()))
        });
        for folder in std::iter::once(root.as_path()).chain(folders) {
            while !folder.starts_with(&top) && top.pop() {}
        }
        top
    };
    for (pi, (reached, dir_files)) in chosen.iter().zip(files_of_dirs).enumerate() {
        let package = &reached.member;
        let dir = package.dir().to_path_buf();
        let edition = Edition::from_str(&package.edition).unwrap_or(Edition::Edition2021);
        let local_deps = package
            .path_deps
            .iter()
            .filter(|d| !reached.dropped.contains(&d.key))
            .map(|d| LocalDep {
                key: d.key.clone(),
                package: d.package.clone(),
            })
            .collect();
        // The library, and the service's own binary: the package's other
        // binaries (a CLI beside the server) are not the service's code, and
        // stay as they are (another service of the group that runs one
        // reads it as its own).
        let roots: Vec<PathBuf> = package
            .targets
            .iter()
            .filter(|t| t.kind != Kind::BuildScript && (t.kind != Kind::Bin || t.root == bin_root))
            .map(|t| t.root.clone())
            .collect();
        let script_target = package.targets.iter().find(|t| t.kind == Kind::BuildScript);
        let build_script = script_target.and_then(|t| std::fs::read_to_string(&t.root).ok());
        let built_dirs = build_script
            .as_deref()
            .map(|script| reads::build_written_dirs(script, &dir))
            .unwrap_or_default();
        let tree = ModuleTree {
            first: crate_roots.len(),
            edition,
            dir: &dir,
            built_dirs: &built_dirs,
            build_script: build_script.is_some(),
            for_tests: reached.for_tests,
        };
        let rust = module_trees(&roots, &tree)?;
        // Files the code includes that are not there yet: the build script
        // must write them.
        let unbuilt: Vec<(&Path, &str, &reads::Include)> = rust
            .iter()
            .flat_map(|(path, parsed)| {
                parsed
                    .unbuilt
                    .iter()
                    .map(move |include| (path.as_path(), parsed.text.as_str(), include))
            })
            .collect();
        // Where reading the build script does not tell what it compiles, or
        // what it writes, what running it does.
        let uncertain = build_script
            .as_deref()
            .is_some_and(|script| !reads::literal_reading_is_certain(script, &dir));
        let wanted = uncertain || (build_script.is_some() && !unbuilt.is_empty());
        let probed = (wanted && runs_build_scripts()).then(|| {
            let manifest = reached
                .workspace_root
                .as_ref()
                .map_or_else(|| root.join("Cargo.toml"), |(_, r)| r.join("Cargo.toml"));
            let tree = probe_tree();
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "knit: running the build script of package `{}` to see what it compiles (cached after)",
                    package.name
                );
            }
            let compiled = probe::build_script_reads(&probe::Probe {
                package: &package.name,
                package_dir: &dir,
                workspace_manifest: &manifest,
                tree: &tree,
            });
            compiled.map(|compiled| {
                let mut protos = reads::protos_read(&compiled.read, &dir);
                let packages = compiled.packages.iter().cloned().collect();
                let by_package = reads::protos_of_packages(&tree, &packages);
                protos.extend(
                    reads::nearest_of_each_name(by_package, &dir)
                        .into_iter()
                        .filter(|p| !p.starts_with(&dir)),
                );
                protos.sort();
                protos.dedup();
                (protos, compiled.written)
            })
        });
        if let (Some(target), Some(script), None | Some(Err(_))) =
            (script_target, &build_script, &probed)
            && let Some((offset, literal)) = reads::missing_build_protos(script, &dir).first()
        {
            return Err(Diagnostic::at_offset(
                &target.root,
                script,
                *offset,
                format!(
                    "service `{}`: the build script compiles `{literal}`, which does not exist in package `{}`",
                    spec.name, package.name
                ),
            )
            .into());
        }
        if let Some(Ok((_, written))) = &probed
            && let Some((path, text, include)) = unbuilt
                .iter()
                .find(|(_, _, include)| !written.contains(&include.path))
        {
            return Err(Diagnostic::at_offset(
                path,
                text,
                include.offset,
                format!(
                    "includes \"{}\", and `{}` does not exist, nor does package `{}`'s build script write it when run, so rustc cannot build this file; \
                     add the file, or gate the item with a `cfg`",
                    include.literal,
                    include.path.display(),
                    package.name
                ),
            )
            .into());
        }
        crate_roots.extend(roots.iter().cloned());
        let lib_target = package.lib();
        lib_roots.push(lib_target.map(|t| t.root.clone()));
        let mut parsed: BTreeMap<PathBuf, ParsedFile> = rust.into_iter().collect();
        let new_file = |text: String, rust: Option<RustFile>| SourceFile {
            path: String::new(),
            text,
            service: ServiceId(index),
            package: PackageId(pi),
            also: Vec::new(),
            rust,
        };
        for entry in dir_files {
            let parsed_file = parsed.remove(&entry);
            let is_manifest = entry == dir.join("Cargo.toml");
            if parsed_file.is_some() || is_manifest {
                let file = match parsed_file {
                    Some(ParsedFile {
                        rust, text, reads, ..
                    }) => {
                        copies.extend(reads.into_iter().map(|r| (r.clone(), at(&r))));
                        new_file(text, Some(rust))
                    }
                    None => new_file(read(&entry)?, None),
                };
                files.push(Input {
                    at: at(&entry),
                    read: entry,
                    file,
                });
            } else {
                if entry.extension().is_some_and(|e| e == "proto") {
                    protos_found.push(entry.clone());
                }
                copies.push((entry.clone(), at(&entry)));
            }
        }
        // Module files outside the package folder (`#[path = "../x.rs"]`) stay
        // where they are, relative to the package.
        for (
            path,
            ParsedFile {
                rust, text, reads, ..
            },
        ) in parsed
        {
            copies.extend(reads.into_iter().map(|r| (r.clone(), at(&r))));
            files.push(Input {
                at: at(&path),
                read: path,
                file: new_file(text, Some(rust)),
            });
        }
        let script_at = || script_target.map_or_else(|| at(&dir), |t| at(&t.root));
        match &probed {
            Some(Err(reason)) => {
                let note = format!(
                    "package `{}`: reading its build script does not tell which protos it compiles, and running it failed ({reason}): knit takes the protos its literals name",
                    package.name
                );
                eprintln!("knit: {note}");
                notes.push((script_at(), note));
            }
            Some(Ok((protos, _))) => notes.push((
                script_at(),
                format!(
                    "package `{}`: reading its build script does not tell which protos it compiles; knit ran it (cargo check, in a copy of the repository; cached) and found {} proto file(s) outside the package",
                    package.name,
                    protos.len()
                ),
            )),
            None => {}
        }
        let mut script_protos = match (&probed, &build_script) {
            (Some(Ok((protos, _))), _) => protos.clone(),
            (_, Some(script)) => reads::build_protos(script, &dir),
            (_, None) => Vec::new(),
        };
        // volo-build reads its configuration, not its build script's literals.
        script_protos.extend(reads::volo_yml_protos(&dir));
        for proto in script_protos {
            copies.push((proto.clone(), at(&proto)));
            protos_found.push(proto);
        }
        package_dirs.push(at(&dir));
        package_roots.push(
            reached
                .workspace_root
                .as_ref()
                .map(|(text, root)| (text.clone(), at(root))),
        );
        packages.push(Package {
            name: package.name.clone(),
            dir: String::new(),
            manifest: FileId(0),
            lib: lib_target.map(|t| Target {
                name: t.name.replace('-', "_"),
                root: FileId(0),
            }),
            local_deps,
            build_script,
            bins: package
                .bins()
                .map(|t| {
                    let path = t.root.strip_prefix(&dir).map(slash);
                    (t.name.clone(), path.unwrap_or_default())
                })
                .collect(),
            dropped_dev_deps: reached.dropped.clone(),
            workspace: None,
            features: None,
        });
    }
    protos_found.sort();
    protos_found.dedup();
    let mut protos: Vec<ProtoFile> = Vec::new();
    let mut proto_paths = Vec::new();
    for origin in &protos_found {
        // Binary data under a `.proto` name (a test vector) is copied, not read.
        let Some(text) = proto_text(origin)? else {
            continue;
        };
        let logical = at(origin);
        protos.push(protos::read(&slash(&logical), origin, text)?);
        proto_paths.push(logical);
    }
    // Generated code checked in, or compiled by a tool of the repository rather
    // than by a build script: its protos are found in the repository by package.
    let missing: BTreeSet<String> = files
        .iter()
        .filter(|f| f.file.rust.is_some())
        .flat_map(|f| reads::included_proto_packages(&f.file.text, &f.read))
        .filter(|package| !protos.iter().any(|p| p.package == *package))
        .collect();
    if !missing.is_empty() {
        let mut roots: Vec<&Path> = vec![&root];
        roots.extend(
            chosen
                .iter()
                .filter_map(|c| c.workspace_root.as_ref())
                .map(|(_, r)| r.as_path()),
        );
        roots.sort();
        roots.dedup();
        for origin in roots
            .into_iter()
            .flat_map(|r| reads::protos_of_packages(r, &missing))
        {
            if protos_found.contains(&origin) {
                continue;
            }
            let logical = at(&origin);
            protos.push(protos::read(&slash(&logical), &origin, read(&origin)?)?);
            copies.push((origin.clone(), logical.clone()));
            proto_paths.push(logical);
            protos_found.push(origin);
        }
    }
    if let Some(input) = files.iter().find(|f| f.read == bin_root) {
        second_main(spec, input)?;
    }
    let lock_path = root.join("Cargo.lock");
    let lockfile = std::fs::read_to_string(&lock_path).ok();
    if let Some(text) = &lockfile
        && let Err(e) = crate::cargolock::CargoLock::parse(text)
    {
        let offset = e.span().map_or(0, |s| s.start);
        return Err(Diagnostic::at_offset(
            &lock_path,
            text,
            offset,
            format!(
                "service `{}`: Cargo.lock is not valid TOML: {}",
                spec.name,
                e.message().trim_end().replace('\n', "; ")
            ),
        )
        .into());
    }
    // The packages' manifests and their workspaces' (`tonic = { workspace = true }`).
    let manifests: Vec<&str> = files
        .iter()
        .filter(|f| f.read.file_name().is_some_and(|n| n == "Cargo.toml"))
        .map(|f| f.file.text.as_str())
        .chain(
            chosen
                .iter()
                .filter_map(|c| c.workspace_root.as_ref())
                .map(|(text, _)| text.as_str()),
        )
        .collect();
    let tonic = tonic::of_service(lockfile.as_deref(), &manifests).map_err(|uses| {
        Diagnostic::at(&plan.file, spec.line, 1, format!(
            "service `{}` uses tonic {} ({}): knit supports tonic {}; not supported yet (update the service to tonic 0.10 or later, or leave it out of the group)",
            spec.name,
            uses.version,
            uses.whence,
            tonic::SUPPORTED
        ))
    })?;
    let workspace_manifests: Vec<&str> = chosen
        .iter()
        .filter_map(|c| c.workspace_root.as_ref())
        .map(|(text, _)| text.as_str())
        .collect();
    let external_apis =
        crate::external::find(&root, &manifests, &workspace_manifests, lockfile.as_deref());
    let service = Service {
        name: spec.name.clone(),
        listen: spec.listen,
        env: spec.env.clone(),
        args: spec.args.clone(),
        cwd: None,
        packages,
        bin: Target {
            name: bin_name,
            root: FileId(0),
        },
        bin_features,
        protos,
        external_apis,
    };
    let repository = match &export {
        Some((exported, _)) => Some(exported.clone()),
        None => git::toplevel(&root),
    };
    let cargo_configs = cargo_configs(&root, repository.as_deref(), &at);
    let toolchain = toolchain(&root, repository.as_deref(), &at);
    Ok(Loading {
        service,
        source,
        root: at(&root),
        files,
        package_dirs,
        package_roots,
        proto_paths,
        bin_root,
        crate_roots,
        lib_roots,
        copies,
        notes,
        lockfile,
        tonic,
        cargo_configs,
        toolchain,
    })
}

/// The toolchain file rustup reads for a build in the workspace folder
/// `root`: the nearest `rust-toolchain` or `rust-toolchain.toml` (the first
/// where a folder has both, as rustup takes it) in `root` and the folders
/// above it up to `top` (the repository's), with where it stands in the
/// input tree (`at`).
fn toolchain(
    root: &Path,
    top: Option<&Path>,
    at: &dyn Fn(&Path) -> PathBuf,
) -> Option<(PathBuf, String)> {
    for dir in root.ancestors() {
        let file = ["rust-toolchain", "rust-toolchain.toml"]
            .iter()
            .map(|name| dir.join(name))
            .find(|f| f.is_file());
        if let Some(file) = file
            && let Ok(text) = std::fs::read_to_string(&file)
        {
            return Some((at(&file), text));
        }
        if top.is_none_or(|top| dir == top) {
            break;
        }
    }
    None
}

/// The Cargo configuration files (`.cargo/config.toml`, or `.cargo/config`)
/// a build in the workspace folder `root` reads from the repository: in
/// `root` and the folders above it up to `top` (the repository's), deepest
/// first, each with where it stands in the input tree (`at`).
fn cargo_configs(
    root: &Path,
    top: Option<&Path>,
    at: &dyn Fn(&Path) -> PathBuf,
) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for dir in root.ancestors() {
        let file = ["config.toml", "config"]
            .iter()
            .map(|name| dir.join(".cargo").join(name))
            .find(|f| f.is_file());
        if let Some(file) = file
            && let Ok(text) = std::fs::read_to_string(&file)
        {
            found.push((at(&file), text));
        }
        if top.is_none_or(|top| dir == top) {
            break;
        }
    }
    found
}

/// A second `fn main` at the root of the service's binary (neither under a
/// `#[cfg]`): the build would fail, and the merge would take the first.
fn second_main(spec: &ServiceSpec, input: &Input) -> Result<()> {
    let Some(rust) = &input.file.rust else {
        return Ok(());
    };
    let conditional = |f: &ast::Fn| {
        f.attrs()
            .any(|a| matches!(a.simple_name().as_deref(), Some("cfg" | "cfg_attr")))
    };
    let mains: Vec<ast::Fn> = rust
        .tree()
        .items()
        .filter_map(|item| match item {
            ast::Item::Fn(f) => Some(f),
            _ => None,
        })
        .filter(|f| f.name().is_some_and(|n| n.text() == "main") && !conditional(f))
        .collect();
    match mains.as_slice() {
        [_, second, ..] => {
            let name = second.name().expect("filtered on its name");
            Err(Diagnostic::at_offset(
                &input.read,
                &input.file.text,
                usize::from(name.syntax().text_range().start()),
                format!(
                    "service `{}`: a second `fn main` in the binary's root file",
                    spec.name
                ),
            )
            .into())
        }
        _ => Ok(()),
    }
}

/// A package a service builds: the service's own, or one it reaches by path.
struct Reached {
    member: Member,
    /// Its workspace root's manifest and folder, when the root has a manifest.
    workspace_root: Option<(String, PathBuf)>,
    /// Keys of its dev-dependencies by path that point outside every workspace
    /// the service builds: the merge drops them.
    dropped: Vec<String>,
    /// Whether the service reaches it only through dev-dependencies (a crate
    /// of test helpers and mock servers): compiled for its tests only.
    for_tests: bool,
}

/// The service's package `main`, then every package it reaches by path: in its
/// workspace or outside it (a sibling crate beside the repository, read with its
/// own workspace). Dev-dependencies into other workspaces are dropped.
fn reached_packages(main: Member, workspace: Workspace) -> Result<Vec<Reached>> {
    let root_of = |w: &Workspace| {
        std::fs::read_to_string(w.root.join("Cargo.toml"))
            .ok()
            .map(|text| (text, w.root.clone()))
    };
    let mut workspaces = vec![workspace];
    let mut chosen = vec![Reached {
        workspace_root: root_of(&workspaces[0]),
        member: main,
        dropped: Vec::new(),
        for_tests: false,
    }];
    let mut i = 0;
    while i < chosen.len() {
        for dep in chosen[i].member.path_deps.clone() {
            let known = |workspaces: &[Workspace]| {
                workspaces.iter().find_map(|w| {
                    let m = w
                        .members
                        .iter()
                        .find(|p| p.dir() == dep.path && p.name == dep.package)?;
                    Some((m.clone(), root_of(w)))
                })
            };
            let found = match known(&workspaces) {
                Some(found) => Some(found),
                None if dep.dev_only => None,
                None => {
                    let manifest = dep.path.join("Cargo.toml");
                    let workspace = workspace::read(&manifest).map_err(|Error(e)| {
                        let reason = e
                            .first()
                            .map_or_else(String::new, |d| format!(": {}", d.message));
                        Error::from(Diagnostic::in_file(
                            &chosen[i].member.manifest,
                            format!(
                                "path dependency `{}` at `{}` cannot be read{reason}",
                                dep.key,
                                dep.path.display()
                            ),
                        ))
                    })?;
                    workspaces.push(workspace);
                    known(&workspaces)
                }
            };
            match found {
                Some((member, _))
                    if chosen.iter().any(|c| c.member.manifest == member.manifest) => {}
                Some((member, workspace_root)) => chosen.push(Reached {
                    member,
                    workspace_root,
                    dropped: Vec::new(),
                    for_tests: false,
                }),
                None if dep.dev_only => chosen[i].dropped.push(dep.key.clone()),
                None => {
                    return Err(Diagnostic::in_file(
                        &chosen[i].member.manifest,
                        format!(
                            "path dependency `{}` at `{}`: no package `{}` there",
                            dep.key,
                            dep.path.display(),
                            dep.package
                        ),
                    )
                    .into());
                }
            }
        }
        i += 1;
    }
    // What the service's build compiles: the packages reached from `main` by
    // dependencies other than dev-dependencies.
    let mut built = vec![false; chosen.len()];
    built[0] = true;
    let mut grew = true;
    while grew {
        grew = false;
        for i in 0..chosen.len() {
            if !built[i] {
                continue;
            }
            for dep in chosen[i].member.path_deps.iter().filter(|d| !d.dev_only) {
                let reached = chosen
                    .iter()
                    .position(|c| c.member.dir() == dep.path && c.member.name == dep.package);
                if let Some(j) = reached.filter(|&j| !built[j]) {
                    built[j] = true;
                    grew = true;
                }
            }
        }
    }
    for (reached, built) in chosen.iter_mut().zip(built) {
        reached.for_tests = !built;
    }
    Ok(chosen)
}

/// The text of the `.proto` file at `path`; `None` when it is not UTF-8.
fn proto_text(path: &Path) -> Result<Option<String>> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::from(Diagnostic::in_file(path, format!("cannot read: {e}"))))?;
    Ok(String::from_utf8(bytes).ok())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::in_file(path, format!("cannot read: {e}")).into())
}

/// The files of a package, sorted: what `.gitignore` keeps, without build output
/// and without nested packages.
pub fn package_files(dir: &Path) -> Vec<PathBuf> {
    walk_packages(dir, std::slice::from_ref(&dir.to_path_buf())).remove(0)
}

/// The files of each package folder of `dirs`, as [`package_files`] lists them:
/// one walk from `top` (a folder above them) reads the `.gitignore` files above
/// the packages once, not once a package. A folder that walk does not reach as
/// its own walk would (outside `top`, or under a folder the walk skips: ignored,
/// a symbolic link, another package's, one named `target`) gets its own walk.
fn packages_files(top: &Path, dirs: &[PathBuf]) -> Vec<Vec<PathBuf>> {
    let mut files = walk_packages(top, dirs);
    for (dir, files) in dirs.iter().zip(&mut files) {
        // Every package folder holds its manifest: the walk reached it.
        if files.binary_search(&dir.join("Cargo.toml")).is_err() {
            *files = package_files(dir);
        }
    }
    files
}

/// The files under `top` of each package folder of `dirs`, sorted, from one walk
/// that enters only the folders of those packages and the folders above them;
/// a file belongs to the innermost package folder that holds it.
fn walk_packages(top: &Path, dirs: &[PathBuf]) -> Vec<Vec<PathBuf>> {
    let mut files: Vec<Vec<PathBuf>> = vec![Vec::new(); dirs.len()];
    let wanted: Vec<PathBuf> = dirs.to_vec();
    let walked = {
        let top = top.to_path_buf();
        ignore::WalkBuilder::new(top.clone())
            .hidden(false)
            .filter_entry(move |e| {
                let p = e.path();
                if !e.file_type().is_some_and(|t| t.is_dir()) || p == top {
                    return true;
                }
                let name = e.file_name();
                // Another package's folder is walked only when it is wanted.
                let other_package =
                    p.join("Cargo.toml").is_file() && !wanted.iter().any(|w| w == p);
                !(name == "target" || name == ".git" || other_package)
                    // Folders neither in a package wanted nor above one.
                    && wanted.iter().any(|w| w.starts_with(p) || p.starts_with(w))
            })
            .build()
    };
    for entry in walked.filter_map(|e| e.ok()) {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.into_path();
        let owner = (0..dirs.len())
            .filter(|&i| path.starts_with(&dirs[i]))
            .max_by_key(|&i| dirs[i].components().count());
        if let Some(i) = owner {
            files[i].push(path);
        }
    }
    for list in &mut files {
        list.sort();
    }
    files
}

/// The value of a module's `#[path = ".."]` attribute.
fn path_attribute(module: &ast::Module) -> Option<String> {
    module
        .attrs()
        .filter(|a| a.simple_name().as_deref() == Some("path"))
        .find_map(|a| {
            let token = a
                .syntax()
                .descendants_with_tokens()
                .filter_map(|t| t.into_token())
                .find_map(ast::String::cast)?;
            token.value().ok().map(|v| v.to_string())
        })
}

/// Whether `attr` is `#[cfg(test)]`.
fn is_cfg_test(attr: &ast::Attr) -> bool {
    knit_model::scan::compact(attr.syntax()) == "#[cfg(test)]"
}

/// A file of a module tree still to read.
struct Pending {
    path: PathBuf,
    /// The index of its crate root, service-wide.
    krate: usize,
    module: Vec<String>,
    /// Whether its child modules live in its own folder (crate roots, `mod.rs`,
    /// `#[path]` files) rather than in a folder named after it.
    owns_dir: bool,
    /// The files of the modules around it, from its crate root.
    outer: Vec<PathBuf>,
    /// Whether it is compiled for tests only (see [`RustFile::test_only`]).
    test_only: bool,
}

/// A file of a module tree: its parse, the text it was parsed from, and the
/// files outside its package that it includes.
struct ParsedFile {
    rust: RustFile,
    text: String,
    reads: Vec<PathBuf>,
    /// Files it includes that do not exist, in a package whose build script
    /// may write them.
    unbuilt: Vec<reads::Include>,
}

/// How the module trees of one package are read.
struct ModuleTree<'a> {
    /// The service-wide index of the package's first crate root.
    first: usize,
    edition: Edition,
    /// The package's folder.
    dir: &'a Path,
    /// Folders the build script writes (see [`reads::build_written_dirs`]).
    built_dirs: &'a [PathBuf],
    /// Whether the package has a build script: it may write any file the
    /// code includes, by means knit does not follow.
    build_script: bool,
    /// Whether the service reaches the package only through dev-dependencies:
    /// all of it is compiled for tests only.
    for_tests: bool,
}

/// Whether the module file `candidate` is one the build script writes. Code
/// generators write their files straight into the folder they are given
/// (`v0.rs`, or a `mod.rs` by `include_file`), so only a file directly in
/// such a folder is the build's; a `mod.rs` there that is not generated code
/// (`src/discovery/mod.rs` declaring the generated `src/discovery/v0.rs`
/// beside it) is the package's own.
fn written_by_build(candidate: &Path, built_dirs: &[PathBuf]) -> bool {
    let in_built = candidate
        .parent()
        .is_some_and(|parent| built_dirs.iter().any(|d| d == parent));
    let own_mod = || {
        candidate.file_name().is_some_and(|n| n == "mod.rs")
            && std::fs::read_to_string(candidate).is_ok_and(|text| {
                !text
                    .trim_start_matches('\u{feff}')
                    .starts_with("// This file is @generated")
            })
    };
    in_built && !own_mod()
}

/// Reads and parses every file of the module trees under `roots`, in parallel.
fn module_trees(roots: &[PathBuf], tree: &ModuleTree) -> Result<Vec<(PathBuf, ParsedFile)>> {
    let first = tree.first;
    let mut wave: Vec<Pending> = roots
        .iter()
        .enumerate()
        .map(|(i, r)| Pending {
            path: r.clone(),
            krate: first + i,
            module: Vec::new(),
            owns_dir: true,
            outer: Vec::new(),
            test_only: tree.for_tests,
        })
        .collect();
    let mut done: Vec<(PathBuf, ParsedFile)> = Vec::new();
    let mut errors = Vec::new();
    while !wave.is_empty() {
        let results: Vec<Result<(Pending, ParsedFile, Vec<Pending>)>> =
            wave.into_par_iter().map(|p| parse_file(p, tree)).collect();
        wave = Vec::new();
        for result in results {
            match result {
                Ok((pending, file, children)) => {
                    // A file two crates declare (`mod proto;` in `lib.rs` and
                    // `main.rs`) is read once, and is a module of both.
                    if let Some((_, first)) = done.iter_mut().find(|(p, _)| *p == pending.path) {
                        let krate = FileId(pending.krate as u32);
                        let rust = &mut first.rust;
                        rust.test_only &= pending.test_only;
                        if rust.module_in(krate).is_none() {
                            rust.also_in.push((krate, pending.module));
                            wave.extend(children);
                        }
                        continue;
                    }
                    done.push((pending.path, file));
                    wave.extend(children);
                }
                Err(Error(e)) => errors.extend(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(done)
    } else {
        Err(Error(errors))
    }
}

fn parse_file(
    pending: Pending,
    package: &ModuleTree,
) -> Result<(Pending, ParsedFile, Vec<Pending>)> {
    let edition = package.edition;
    let text = read(&pending.path)?;
    let (green, error) = crate::parse::source_file(&text, edition);
    if let Some(error) = error {
        return Err(Diagnostic::at_offset(
            &pending.path,
            &text,
            usize::from(error.offset),
            format!("syntax error: {}", error.message),
        )
        .into());
    }
    let mut rust = RustFile {
        krate: FileId(pending.krate as u32),
        module: pending.module.clone(),
        edition,
        green,
        built_modules: Vec::new(),
        also_in: Vec::new(),
        test_only: pending.test_only,
    };
    let tree = rust.tree();
    let file_dir = pending
        .path
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let own_dir = if pending.owns_dir {
        file_dir.clone()
    } else {
        file_dir.join(pending.path.file_stem().unwrap_or_default())
    };
    let mut children = Vec::new();
    let mods = knit_model::scan::MOD.offsets(&text);
    let modules = knit_model::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::MODULE], &mods);
    // Declared in the file's tree, then in the branches of its `cfg_if!`s.
    // (the module, where its tree starts in the file, the inline modules
    // around it, whether a `cfg_if!` branch declares it).
    let mut declared: Vec<(ast::Module, TextSize, Vec<ast::Module>, bool)> = modules
        .into_iter()
        .filter_map(ast::Module::cast)
        .map(|module| {
            let mut around: Vec<ast::Module> = module
                .syntax()
                .ancestors()
                .skip(1)
                .filter_map(ast::Module::cast)
                .collect();
            around.reverse();
            (module, TextSize::from(0), around, false)
        })
        .collect();
    if text.contains("cfg_if") {
        declared.extend(
            crate::cfg_if::modules(tree.syntax(), edition)
                .into_iter()
                .map(|d| {
                    let around = d.around();
                    (d.module, d.shift, around, true)
                }),
        );
    }
    // The module paths declared so far: a `cfg_if!` branch's second
    // declaration of one is another platform's.
    let mut declared_paths: BTreeSet<Vec<String>> = BTreeSet::new();
    for (module, shift, around, in_cfg_if) in declared {
        if module.item_list().is_some() {
            continue;
        }
        let Some(name) = module.name().map(|n| n.text().to_string()) else {
            continue;
        };
        // `mod r#type;` lives in `type.rs`.
        let file_name = name.strip_prefix("r#").unwrap_or(&name);
        // The inline modules around it: their names, and the folders they
        // stand for (`#[path = ".."]` on an inline module names its folder).
        let inline: Vec<String> = around
            .iter()
            .filter_map(|m| m.name().map(|n| n.text().to_string()))
            .collect();
        let inline_dirs: Vec<String> = around
            .iter()
            .filter_map(|m| {
                let name = m.name()?.text().trim_start_matches("r#").to_string();
                Some(path_attribute(m).unwrap_or(name))
            })
            .collect();
        let path_attr = path_attribute(&module);
        let base = if path_attr.is_some() && inline.is_empty() {
            file_dir.clone()
        } else {
            own_dir.clone()
        };
        let base = inline_dirs.iter().fold(base, |b, n| b.join(n));
        let (candidates, owns_dir) = match &path_attr {
            Some(p) => (vec![crate::paths::normalize(&base.join(p))], true),
            None => (
                vec![
                    base.join(format!("{file_name}.rs")),
                    base.join(file_name).join("mod.rs"),
                ],
                false,
            ),
        };
        let mut module_path = pending.module.clone();
        module_path.extend(inline.iter().cloned());
        module_path.push(name.clone());
        if in_cfg_if && declared_paths.contains(&module_path) {
            continue;
        }
        // Written by the build script: made anew by every build, so not read
        // (one a `cfg_if!` declares is not followed).
        if let Some(built) = candidates
            .iter()
            .find(|c| written_by_build(c, package.built_dirs))
        {
            if in_cfg_if {
                continue;
            }
            declared_paths.insert(module_path);
            let stem = built.file_stem().unwrap_or_default().to_string_lossy();
            rust.built_modules.push(BuiltModule {
                item: module.syntax().text_range() + shift,
                stem: stem.to_string(),
            });
            continue;
        }
        let Some(found) = candidates.iter().find(|c| c.is_file()) else {
            // Gated: a build that compiles it has the file.
            if in_cfg_if
                || module
                    .attrs()
                    .any(|a| a.syntax().text().to_string().starts_with("#[cfg"))
            {
                continue;
            }
            let offset = usize::from(module.syntax().text_range().start() + shift);
            return Err(Diagnostic::at_offset(
                &pending.path,
                &text,
                offset,
                format!(
                    "module `{name}`: none of {} exists",
                    candidates
                        .iter()
                        .map(|c| format!("`{}`", c.display()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into());
        };
        let offset = usize::from(module.syntax().text_range().start() + shift);
        if path_attr.is_none() && candidates.iter().all(|c| c.is_file()) {
            return Err(Diagnostic::at_offset(
                &pending.path,
                &text,
                offset,
                format!(
                    "module `{name}`: both {} exist, and rustc refuses a module with two files \
                     (E0761); remove one of them",
                    candidates
                        .iter()
                        .map(|c| format!("`{}`", c.display()))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            )
            .into());
        }
        if *found == pending.path || pending.outer.contains(found) {
            return Err(Diagnostic::at_offset(
                &pending.path,
                &text,
                offset,
                format!(
                    "module `{name}`: `{}` is a file of a module around it, and rustc refuses \
                     circular modules; point the `#[path]` at another file",
                    found.display()
                ),
            )
            .into());
        }
        let owns_dir = owns_dir || found.file_name().is_some_and(|n| n == "mod.rs");
        declared_paths.insert(module_path.clone());
        let mut outer = pending.outer.clone();
        outer.push(pending.path.clone());
        let test_only = pending.test_only
            || module.attrs().any(|a| is_cfg_test(&a))
            || around.iter().any(|m| m.attrs().any(|a| is_cfg_test(&a)));
        children.push(Pending {
            path: found.clone(),
            krate: pending.krate,
            module: module_path,
            owns_dir,
            outer,
            test_only,
        });
    }
    let (unbuilt, missing): (Vec<reads::Include>, Vec<reads::Include>) =
        reads::missing_includes(&text, tree.syntax(), &pending.path, package.built_dirs)
            .into_iter()
            .partition(|missing| package.build_script && !missing.path.is_dir());
    if let Some(missing) = missing.into_iter().next() {
        return Err(Diagnostic::at_offset(
            &pending.path,
            &text,
            missing.offset,
            format!(
                "includes \"{}\", and `{}` {}, so rustc cannot build this file; \
                 add the file, or gate the item with a `cfg`",
                missing.literal,
                missing.path.display(),
                if missing.path.is_dir() {
                    "is a folder"
                } else {
                    "does not exist"
                }
            ),
        )
        .into());
    }
    let reads = reads::included_files(&text, tree.syntax(), &pending.path, package.dir);
    Ok((
        pending,
        ParsedFile {
            rust,
            text,
            reads,
            unbuilt,
        },
        children,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Of the files a module can be in, only those straight in a folder the
    /// build script writes are the build's; a hand-written `mod.rs` there is
    /// the package's.
    #[test]
    fn only_files_in_a_written_folder_are_the_builds() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let built = [src.join("discovery"), src.join("generated")];
        std::fs::create_dir_all(&built[0]).unwrap();
        std::fs::create_dir_all(&built[1]).unwrap();
        std::fs::write(built[0].join("mod.rs"), "pub mod v0;\n").unwrap();
        std::fs::write(
            built[1].join("mod.rs"),
            "// This file is @generated by prost-build.\n",
        )
        .unwrap();
        let written = |path: &str| written_by_build(&src.join(path), &built);
        assert!(written("discovery/v0.rs"));
        assert!(!written("discovery/mod.rs"));
        assert!(written("generated/mod.rs"));
        assert!(written("generated/p.v1.rs"));
        assert!(!written("discovery.rs"));
        assert!(!written("generated/deeper/x.rs"));
    }

    /// One walk gives each package wanted its own files: not another package's
    /// (wanted or not), not build output, not what `.gitignore` ignores, not
    /// the files of folders above the packages.
    #[test]
    fn packages_files_splits_one_walk_by_package() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path();
        for file in [
            "Cargo.toml",
            "README.md",
            ".gitignore",
            "crates/a/Cargo.toml",
            "crates/a/src/lib.rs",
            "crates/a/debug.log",
            "crates/a/target/out.rs",
            "crates/a/inner/Cargo.toml",
            "crates/a/inner/src/lib.rs",
            "crates/a/examples/Cargo.toml",
            "crates/a/examples/main.rs",
            "crates/b/Cargo.toml",
            "crates/b/build.rs",
            "crates/c/Cargo.toml",
            // Reached only through an ignored folder, another package's folder,
            // a folder named `target`, a symbolic link: each gets its own walk.
            "gen/Cargo.toml",
            "gen/proto/Cargo.toml",
            "gen/proto/a.proto",
            "crates/c/d/Cargo.toml",
            "crates/c/d/src/lib.rs",
            "crates/target/Cargo.toml",
            "crates/target/src/lib.rs",
            "elsewhere/real/Cargo.toml",
            "elsewhere/real/src/main.rs",
        ] {
            let path = top.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "").unwrap();
        }
        std::fs::write(top.join(".gitignore"), "*.log\n/gen/\n").unwrap();
        std::os::unix::fs::symlink(top.join("elsewhere/real"), top.join("crates/linked")).unwrap();
        // `ignore` reads `.gitignore` files inside a git checkout.
        std::fs::create_dir(top.join(".git")).unwrap();
        let dirs: Vec<PathBuf> = [
            "crates/a",
            "crates/a/inner",
            "crates/b",
            "gen/proto",
            "crates/c/d",
            "crates/target",
            "crates/linked",
        ]
        .iter()
        .map(|d| top.join(d))
        .collect();
        let rel = |files: &Vec<PathBuf>| -> Vec<String> {
            files
                .iter()
                .map(|f| slash(f.strip_prefix(top).unwrap()))
                .collect()
        };
        let found: Vec<Vec<String>> = packages_files(top, &dirs).iter().map(rel).collect();
        assert_eq!(
            found,
            [
                vec!["crates/a/Cargo.toml", "crates/a/src/lib.rs"],
                vec!["crates/a/inner/Cargo.toml", "crates/a/inner/src/lib.rs"],
                vec!["crates/b/Cargo.toml", "crates/b/build.rs"],
                vec!["gen/proto/Cargo.toml", "gen/proto/a.proto"],
                vec!["crates/c/d/Cargo.toml", "crates/c/d/src/lib.rs"],
                vec!["crates/target/Cargo.toml", "crates/target/src/lib.rs"],
                vec!["crates/linked/Cargo.toml", "crates/linked/src/main.rs"],
            ]
        );
        // Walked alone, a package's files are the same.
        for (dir, files) in dirs.iter().zip(&found) {
            assert_eq!(&rel(&package_files(dir)), files);
        }
    }
}
