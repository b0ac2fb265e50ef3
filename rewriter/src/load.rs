//! Loading the services of a plan: each service's Cargo workspace ([`workspace`]),
//! the module tree of every target, each file parsed with the crate's edition.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use knit_passes::FileId;
use knit_passes::model::{
    Group, LocalDep, Package, ProtoFile, RustFile, Service, SourceFile, Target,
};
use ra_ap_syntax::ast::{self, HasAttrs, HasName};
use ra_ap_syntax::{AstNode, AstToken, Edition, SyntaxKind};
use rayon::prelude::*;

use crate::error::{Diagnostic, Error, Result};
use crate::git::{self, GitState};
use crate::plan::{Plan, ServiceSpec};
use crate::workspace::{self, Kind, Member, Workspace};
use crate::{OUTPUT_MARKER, protos};

/// The loaded inputs of a merge.
#[derive(Debug)]
pub struct Loaded {
    pub plan: Plan,
    pub group: Group,
    /// For each file of the group (by [`FileId`]), where knit read it.
    pub origins: Vec<PathBuf>,
    /// Files copied as they are: (where knit reads it, path in the output).
    pub copies: Vec<(PathBuf, String)>,
    /// Each service's `Cargo.lock`, when it has one.
    pub lockfiles: Vec<Option<String>>,
    /// The plan's folder, canonical: where `origins` are.
    pub canonical_dir: PathBuf,
    /// Where each service was read, by service.
    pub sources: Vec<ServiceSource>,
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
    /// How errors name the input file at `origin`: under the plan's folder as
    /// the plan was given.
    pub fn shown(&self, origin: &Path) -> PathBuf {
        match origin.strip_prefix(&self.canonical_dir) {
            Ok(rel) => self.plan.dir.join(rel),
            Err(_) => origin.to_path_buf(),
        }
    }
}

/// What one service contributes before files get their ids.
struct Loading {
    service: Service,
    source: ServiceSource,
    files: Vec<(PathBuf, SourceFile)>,
    bin_root: PathBuf,
    /// Every crate root of the service; a `RustFile::krate` indexes it until
    /// files get their ids.
    crate_roots: Vec<PathBuf>,
    /// Each package's library root, if any.
    lib_roots: Vec<Option<PathBuf>>,
    copies: Vec<(PathBuf, String)>,
    lockfile: Option<String>,
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

/// `d` with a file path under `canonical` shown under `shown` instead.
fn shown_relative(mut d: Diagnostic, canonical: &Path, shown: &Path) -> Diagnostic {
    if let Some(rel) = d.file.as_ref().and_then(|f| f.strip_prefix(canonical).ok()) {
        d.file = Some(shown.join(rel));
    }
    d
}

fn load_canonical(plan: Plan, plan_dir: &Path, versions: Versions) -> Result<Loaded> {
    refuse_knit_output(plan_dir, &plan.file)?;
    let results = load_services(&plan, plan_dir, versions);
    let mut errors = Vec::new();
    let mut loadings = Vec::new();
    for result in results {
        match result {
            Ok(l) => loadings.push(l),
            Err(Error(e)) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error(errors));
    }
    let mut group = Group {
        services: Vec::new(),
        files: Vec::new(),
        global_allocator: plan.global_allocator.clone(),
    };
    let (mut origins, mut copies, mut lockfiles) = (Vec::new(), Vec::new(), Vec::new());
    let mut sources = Vec::new();
    // Every file gets one id, however many services reach its package.
    let mut ids: HashMap<PathBuf, FileId> = HashMap::new();
    let mut by_path: HashMap<String, FileId> = HashMap::new();
    for mut loading in loadings {
        loading.files.sort_by(|a, b| a.1.path.cmp(&b.1.path));
        let mut fresh = Vec::new();
        for (origin, file) in loading.files {
            if ids.contains_key(&origin) {
                continue;
            }
            let id = FileId((group.files.len() + fresh.len()) as u32);
            ids.insert(origin.clone(), id);
            by_path.insert(file.path.clone(), id);
            fresh.push((origin, file));
        }
        let id_of = |path: &Path| ids[path];
        loading.service.bin.root = id_of(&loading.bin_root);
        let roots: Vec<FileId> = loading.crate_roots.iter().map(|r| id_of(r)).collect();
        for (_, file) in &mut fresh {
            if let Some(rust) = &mut file.rust {
                rust.krate = roots[rust.krate.0 as usize];
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
        for (origin, path) in loading.copies {
            if !copies.iter().any(|(_, p)| *p == path) {
                copies.push((origin, path));
            }
        }
        lockfiles.push(loading.lockfile);
        sources.push(loading.source);
    }
    Ok(Loaded {
        plan,
        group,
        origins,
        copies,
        lockfiles,
        canonical_dir: plan_dir.to_path_buf(),
        sources,
    })
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
fn load_services(plan: &Plan, plan_dir: &Path, versions: Versions) -> Vec<Result<Loading>> {
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
                (
                    i,
                    located.and_then(|l| load_service(plan, plan_dir, i, spec, l)),
                )
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
    let workspace = workspace::read(&read_dir.join("Cargo.toml"))?;
    Ok(Located {
        read_dir,
        export,
        git,
        workspace,
    })
}

fn load_service(
    plan: &Plan,
    plan_dir: &Path,
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
    let at_plan = |message: String| Diagnostic::at(&plan.file, spec.line, 1, message);
    let logical = |p: &Path| -> PathBuf {
        match &export {
            Some((exported, top)) => p
                .strip_prefix(exported)
                .map_or_else(|_| p.to_path_buf(), |r| top.join(r)),
            None => p.to_path_buf(),
        }
    };
    let root = workspace.root.clone();
    let out_root = match logical(&root).strip_prefix(plan_dir) {
        Ok(rel) => slash(rel),
        Err(_) => format!("services/{}", spec.name),
    };
    let source = ServiceSource {
        read_root: root.clone(),
        out_root: out_root.clone(),
        git,
        rev: spec.rev.clone(),
    };
    let main = pick_package(spec, &read_dir, &workspace, plan)?;
    let bin = pick_bin(spec, main, plan)?;

    // The service's package, then the workspace packages it reaches by path.
    let mut chosen: Vec<&Member> = vec![main];
    let mut i = 0;
    while i < chosen.len() {
        for dep in &chosen[i].path_deps {
            let found = workspace
                .members
                .iter()
                .find(|p| p.dir() == dep.path && p.name == dep.package);
            match found {
                Some(p) if !chosen.iter().any(|c| c.manifest == p.manifest) => chosen.push(p),
                Some(_) => {}
                None => {
                    return Err(Diagnostic::in_file(&chosen[i].manifest, format!(
                        "path dependency `{}` at `{}` is not a package of the service's workspace: not supported yet",
                        dep.package,
                        dep.path.display()
                    ))
                    .into());
                }
            }
        }
        i += 1;
    }

    let mut packages = Vec::new();
    let mut files = Vec::new();
    let mut copies = Vec::new();
    let mut protos_found = Vec::new();
    let mut crate_roots = Vec::new();
    let mut lib_roots = Vec::new();
    let dirs: Vec<PathBuf> = chosen.iter().map(|p| p.dir().to_path_buf()).collect();
    let files_of_dirs = packages_files(&root, &dirs);
    for (((pi, package), dir), dir_files) in chosen.iter().enumerate().zip(dirs).zip(files_of_dirs)
    {
        let rel = dir.strip_prefix(&root).map(slash).unwrap_or_default();
        let out_dir = join(&out_root, &rel);
        if out_dir.is_empty() {
            return Err(at_plan(format!(
                "service `{}`: package `{}` is the plan's own folder; put the plan in a folder above the service",
                spec.name, package.name
            ))
            .into());
        }
        let edition = Edition::from_str(&package.edition).unwrap_or(Edition::Edition2021);
        let local_deps = package
            .path_deps
            .iter()
            .map(|d| LocalDep {
                key: d.key.clone(),
                package: d.package.clone(),
            })
            .collect();
        let roots: Vec<PathBuf> = package
            .targets
            .iter()
            .filter(|t| t.kind != Kind::BuildScript)
            .map(|t| t.root.clone())
            .collect();
        let rust = module_trees(&roots, crate_roots.len(), edition)?;
        crate_roots.extend(roots.iter().cloned());
        let lib_target = package.lib();
        lib_roots.push(lib_target.map(|t| t.root.clone()));
        let mut parsed: BTreeMap<PathBuf, ParsedFile> = rust.into_iter().collect();
        for entry in dir_files {
            let rel = slash(entry.strip_prefix(&dir).unwrap());
            let out_path = format!("{out_dir}/{rel}");
            // Rust files of the module trees are parsed; manifests kept as text.
            let parsed_file = parsed.remove(&entry);
            if parsed_file.is_some() || rel == "Cargo.toml" {
                let (rust, text) = match parsed_file {
                    Some(ParsedFile { rust, text }) => (Some(rust), text),
                    None => (None, read(&entry)?),
                };
                let file = SourceFile {
                    path: out_path,
                    text,
                    service: index,
                    package: pi,
                    rust,
                };
                files.push((entry, file));
            } else {
                if rel.ends_with(".proto") {
                    protos_found.push((entry.clone(), out_path.clone()));
                }
                copies.push((entry, out_path));
            }
        }
        // Module files outside the package folder (`#[path = "../x.rs"]`) are not copied.
        if let Some((path, _)) = parsed.into_iter().next() {
            return Err(Diagnostic::in_file(
                &path,
                "module file outside its package folder: not supported yet",
            )
            .into());
        }
        packages.push(Package {
            name: package.name.clone(),
            dir: out_dir,
            manifest: FileId(0),
            lib: lib_target.map(|t| Target {
                name: t.name.replace('-', "_"),
                root: FileId(0),
            }),
            local_deps,
            build_script: package
                .targets
                .iter()
                .find(|t| t.kind == Kind::BuildScript)
                .and_then(|t| std::fs::read_to_string(&t.root).ok()),
            bins: package
                .bins()
                .map(|t| {
                    let path = t.root.strip_prefix(&dir).map(slash);
                    (t.name.clone(), path.unwrap_or_default())
                })
                .collect(),
        });
    }
    let mut protos: Vec<ProtoFile> = Vec::new();
    for (origin, out_path) in protos_found {
        protos.push(protos::read(&out_path, &origin, read(&origin)?)?);
    }
    let lockfile = std::fs::read_to_string(root.join("Cargo.lock")).ok();
    let service = Service {
        name: spec.name.clone(),
        listen: spec.listen,
        env: spec.env.clone(),
        workspace: std::fs::read_to_string(root.join("Cargo.toml"))
            .ok()
            .map(|m| (m, out_root.clone())),
        packages,
        bin: Target {
            name: bin.name.clone(),
            root: FileId(0),
        },
        protos,
    };
    let bin_root = bin.root.clone();
    Ok(Loading {
        service,
        source,
        files,
        bin_root,
        crate_roots,
        lib_roots,
        copies,
        lockfile,
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::in_file(path, format!("cannot read: {e}")).into())
}

/// `a/b`, where either may be empty.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The files of a package, sorted: what `.gitignore` keeps, without build output
/// and without nested packages.
pub(crate) fn package_files(dir: &Path) -> Vec<PathBuf> {
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

/// A file of a module tree still to read.
struct Pending {
    path: PathBuf,
    /// The index of its crate root, service-wide.
    krate: usize,
    module: Vec<String>,
    /// Whether its child modules live in its own folder (crate roots, `mod.rs`,
    /// `#[path]` files) rather than in a folder named after it.
    owns_dir: bool,
}

/// A file of a module tree: its parse, and the text it was parsed from.
struct ParsedFile {
    rust: RustFile,
    text: String,
}

/// Reads and parses every file of the module trees under `roots`, in parallel.
/// `first` is the service-wide index of `roots[0]`.
fn module_trees(
    roots: &[PathBuf],
    first: usize,
    edition: Edition,
) -> Result<Vec<(PathBuf, ParsedFile)>> {
    let mut wave: Vec<Pending> = roots
        .iter()
        .enumerate()
        .map(|(i, r)| Pending {
            path: r.clone(),
            krate: first + i,
            module: Vec::new(),
            owns_dir: true,
        })
        .collect();
    let mut done: Vec<(PathBuf, ParsedFile)> = Vec::new();
    let mut errors = Vec::new();
    while !wave.is_empty() {
        let results: Vec<Result<(Pending, ParsedFile, Vec<Pending>)>> = wave
            .into_par_iter()
            .map(|p| parse_file(p, edition))
            .collect();
        wave = Vec::new();
        for result in results {
            match result {
                Ok((pending, file, children)) => {
                    if done.iter().any(|(p, _)| *p == pending.path) {
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

/// `path` with `.` and `name/..` folded, without reading the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if matches!(
                    out.components().next_back(),
                    Some(std::path::Component::Normal(_))
                ) =>
            {
                out.pop();
            }
            _ => out.push(part),
        }
    }
    out
}

fn parse_file(pending: Pending, edition: Edition) -> Result<(Pending, ParsedFile, Vec<Pending>)> {
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
    let rust = RustFile {
        krate: FileId(pending.krate as u32),
        module: pending.module.clone(),
        edition,
        green,
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
    let mods = knit_passes::scan::MOD.offsets(&text);
    let modules = knit_passes::scan::nodes_of_kinds(tree.syntax(), &[SyntaxKind::MODULE], &mods);
    for module in modules.into_iter().filter_map(ast::Module::cast) {
        if module.item_list().is_some() {
            continue;
        }
        let Some(name) = module.name().map(|n| n.text().to_string()) else {
            continue;
        };
        let inline: Vec<String> = {
            let mut names: Vec<String> = module
                .syntax()
                .ancestors()
                .skip(1)
                .filter_map(ast::Module::cast)
                .filter_map(|m| m.name().map(|n| n.text().to_string()))
                .collect();
            names.reverse();
            names
        };
        let path_attr = module
            .attrs()
            .filter(|a| a.simple_name().as_deref() == Some("path"))
            .find_map(|a| {
                let token = a
                    .syntax()
                    .descendants_with_tokens()
                    .filter_map(|t| t.into_token())
                    .find_map(ast::String::cast)?;
                token.value().ok().map(|v| v.to_string())
            });
        let base = if path_attr.is_some() && inline.is_empty() {
            file_dir.clone()
        } else {
            own_dir.clone()
        };
        let base = inline.iter().fold(base, |b, n| b.join(n));
        let (candidates, owns_dir) = match &path_attr {
            Some(p) => (vec![base.join(p)], true),
            None => (
                vec![
                    base.join(format!("{name}.rs")),
                    base.join(&name).join("mod.rs"),
                ],
                false,
            ),
        };
        let Some(found) = candidates.iter().find(|c| c.is_file()) else {
            if module
                .attrs()
                .any(|a| a.syntax().text().to_string().starts_with("#[cfg"))
            {
                continue;
            }
            let offset = usize::from(module.syntax().text_range().start());
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
        let owns_dir = owns_dir || found.file_name().is_some_and(|n| n == "mod.rs");
        let mut module_path = pending.module.clone();
        module_path.extend(inline);
        module_path.push(name);
        children.push(Pending {
            // `src/bin/../db/mod.rs` is `src/db/mod.rs`: one name per file.
            path: lexical(found),
            krate: pending.krate,
            module: module_path,
            owns_dir,
        });
    }
    Ok((pending, ParsedFile { rust, text }, children))
}

#[cfg(test)]
mod tests {
    use super::*;

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
