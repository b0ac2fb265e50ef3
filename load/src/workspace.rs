//! A Cargo workspace's packages and their targets: what `cargo metadata
//! --no-deps` says of them, read in process when the manifests keep to what
//! [`read_in_process`] understands, and asked of cargo otherwise.
//!
//! Starting cargo costs about 20 ms a service, most of a small service's
//! loading. The reader follows Cargo's rules for the manifests teams write:
//! members and their globs, `exclude`, path dependencies as members, inherited
//! editions and dependencies, `[lib]`, `[[bin]]` and the targets Cargo infers.
//! Anything else (a manifest that does not parse, a `**` glob, a missing target
//! file, edition 2015's legacy paths, `package.workspace`) goes to cargo, whose
//! error messages knit then shows. A test compares both readers on every corpus
//! system and on fixtures of each rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cargo_metadata::MetadataCommand;
use toml::{Table, Value};

use crate::error::{Diagnostic, Result};
use crate::paths::normalize;

/// A workspace: its root folder and its member packages, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    pub root: PathBuf,
    pub members: Vec<Member>,
}

/// A package of a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// Its `Cargo.toml`.
    pub manifest: PathBuf,
    pub edition: String,
    /// Its dependencies by path (every kind), sorted and without repeats.
    pub path_deps: Vec<PathDep>,
    /// Its libraries, binaries and build script; other targets (examples,
    /// tests, benches, libraries of foreign crate types only) are left out.
    pub targets: Vec<Target>,
}

/// A dependency on the package in folder `path`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PathDep {
    /// The name the dependent uses: its key in the manifest.
    pub key: String,
    /// The package's name.
    pub package: String,
    pub path: PathBuf,
    /// Whether only `[dev-dependencies]` name it (tests, examples, benches).
    pub dev_only: bool,
}

/// A target of a package.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub name: String,
    pub kind: Kind,
    /// Its crate root (for a build script, the script).
    pub root: PathBuf,
    /// The features Cargo builds it with only (a binary's
    /// `required-features`).
    pub required_features: Vec<String>,
}

/// What a [`Target`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A Rust library (`lib` or `rlib`, possibly among other crate types).
    Lib,
    ProcMacro,
    Bin,
    BuildScript,
}

impl Member {
    /// The package's folder.
    pub fn dir(&self) -> &Path {
        self.manifest.parent().expect("a manifest is in a folder")
    }

    pub fn bins(&self) -> impl Iterator<Item = &Target> {
        self.targets.iter().filter(|t| t.kind == Kind::Bin)
    }

    pub fn lib(&self) -> Option<&Target> {
        self.targets.iter().find(|t| t.kind == Kind::Lib)
    }
}

/// The workspace of the package or workspace whose manifest is `manifest`.
/// A workspace whose members depend on each other in a cycle is refused, as
/// Cargo refuses to build it (`cargo metadata --no-deps` does not look).
pub fn read(manifest: &Path) -> Result<Workspace> {
    let workspace = match read_in_process(manifest) {
        Some(workspace) => workspace,
        None => from_cargo(manifest)?,
    };
    if let Some(cycle) = dependency_cycle(&workspace) {
        return Err(Diagnostic::in_file(
            manifest,
            format!(
                "path dependencies in a cycle ({}): cargo cannot build this workspace",
                cycle.join(" -> ")
            ),
        )
        .into());
    }
    Ok(workspace)
}

/// A cycle of the members' dependencies (dev-dependencies aside, which Cargo
/// allows in a cycle), as package names from one back to itself.
fn dependency_cycle(workspace: &Workspace) -> Option<Vec<String>> {
    let by_dir: BTreeMap<PathBuf, usize> = workspace
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (normalize(m.dir()), i))
        .collect();
    let edges: Vec<Vec<usize>> = workspace
        .members
        .iter()
        .map(|m| {
            m.path_deps
                .iter()
                .filter(|d| !d.dev_only)
                .filter_map(|d| by_dir.get(&normalize(&d.path)).copied())
                .collect()
        })
        .collect();
    // Depth first, with the path walked so far: a member met again on it
    // closes a cycle.
    let mut done = vec![false; edges.len()];
    for start in 0..edges.len() {
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            if done[node] {
                path.pop();
                continue;
            }
            let Some(&to) = edges[node].get(*next) else {
                done[node] = true;
                path.pop();
                continue;
            };
            *next += 1;
            if let Some(at) = path.iter().position(|(n, _)| *n == to) {
                let mut names: Vec<String> = path[at..]
                    .iter()
                    .map(|(n, _)| workspace.members[*n].name.clone())
                    .collect();
                names.push(workspace.members[to].name.clone());
                return Some(names);
            }
            path.push((to, 0));
        }
    }
    None
}

/// The workspace of `manifest` by Cargo's rules, or `None` when the manifests
/// step outside what this reader knows (cargo then answers).
pub fn read_in_process(manifest: &Path) -> Option<Workspace> {
    let own = parse(manifest)?;
    if own
        .get("package")
        .and_then(|p| p.get("workspace"))
        .is_some()
    {
        return None;
    }
    let is_package = own.contains_key("package");
    let (root_manifest, root_toml) = if own.contains_key("workspace") {
        (manifest.to_path_buf(), own)
    } else {
        match ancestor_workspace(manifest)? {
            Some(found) => found,
            // No workspace above: the package is its own.
            None => {
                let member = member(manifest, &own, None)?;
                return Some(Workspace {
                    root: member.dir().to_path_buf(),
                    members: vec![member],
                });
            }
        }
    };
    let workspace = Members::read(&root_manifest, &root_toml)?;
    if is_package && !workspace.members.iter().any(|m| m.manifest == manifest) {
        // Cargo refuses a package that believes it is in a workspace it is not in.
        return None;
    }
    Some(workspace.into_workspace())
}

/// The first manifest above `manifest`'s folder with a `[workspace]` that does
/// not exclude it: `Some(None)` when there is none, `None` when one does not parse.
fn ancestor_workspace(manifest: &Path) -> Option<Option<(PathBuf, Table)>> {
    let dir = manifest.parent()?;
    for ancestor in dir.ancestors().skip(1) {
        let candidate = ancestor.join("Cargo.toml");
        if !candidate.is_file() {
            continue;
        }
        let toml = parse(&candidate)?;
        let Some(ws) = toml.get("workspace").and_then(Value::as_table) else {
            continue;
        };
        if !Exclusion::of(ancestor, ws)?.leaves_out(dir) {
            return Some(Some((candidate, toml)));
        }
    }
    Some(None)
}

/// A workspace's members as found from its root manifest.
struct Members {
    root: PathBuf,
    members: Vec<Member>,
}

impl Members {
    fn read(root_manifest: &Path, root_toml: &Table) -> Option<Members> {
        let root = root_manifest.parent()?.to_path_buf();
        let ws = root_toml.get("workspace")?.as_table()?;
        let exclusion = Exclusion::of(&root, ws)?;
        let excluded = |dir: &Path| exclusion.leaves_out(dir);
        let mut pending: Vec<PathBuf> = member_dirs(&root, ws)?
            .into_iter()
            .filter(|dir| !excluded(dir))
            .collect();
        // Members outside the root's folder: cargo's to judge.
        if !pending.iter().all(|dir| dir.starts_with(&root)) {
            return None;
        }
        if root_toml.contains_key("package") {
            pending.insert(0, root.clone());
        }
        let mut members: Vec<Member> = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(dir) = pending.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            let manifest = dir.join("Cargo.toml");
            let toml = if dir == root {
                root_toml.clone()
            } else {
                let toml = parse(&manifest)?;
                // A second workspace root, or a member naming its root: cargo's.
                let names_root = toml.get("package").and_then(|p| p.get("workspace"));
                if toml.contains_key("workspace") || names_root.is_some() {
                    return None;
                }
                toml
            };
            let member = member(&manifest, &toml, Some((&root, ws)))?;
            // Path dependencies inside the workspace's folder are members too.
            for dep in &member.path_deps {
                if dep.path.starts_with(&root) && !excluded(&dep.path) {
                    pending.push(dep.path.clone());
                }
            }
            members.push(member);
        }
        Some(Members { root, members })
    }

    fn into_workspace(mut self) -> Workspace {
        self.members
            .sort_by(|a, b| (&a.name, &a.manifest).cmp(&(&b.name, &b.manifest)));
        Workspace {
            root: self.root,
            members: self.members,
        }
    }
}

/// The folders a workspace's `members` name, globs expanded.
fn member_dirs(root: &Path, ws: &Table) -> Option<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for pattern in strings(ws.get("members"))? {
        dirs.extend(expand(root, &pattern)?);
    }
    Some(dirs)
}

/// What a workspace's `exclude` leaves out.
struct Exclusion {
    /// The folders `exclude` names (joined as cargo joins them).
    excluded: Vec<PathBuf>,
    /// The folders `members` names as written: as in Cargo, a glob's matches do
    /// not outweigh `exclude`, a folder named does.
    named: Vec<PathBuf>,
}

impl Exclusion {
    /// The exclusion of the workspace at `root`; `None` when `exclude` or
    /// `members` is not a list of strings, or an `exclude` entry has `.` or
    /// `..` in it (cargo's to read).
    fn of(root: &Path, ws: &Table) -> Option<Exclusion> {
        let excluded = strings(ws.get("exclude"))?
            .iter()
            .map(|ex| {
                let plain = Path::new(ex)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)));
                plain.then(|| root.join(ex))
            })
            .collect::<Option<_>>()?;
        let named = strings(ws.get("members"))?
            .iter()
            .map(|m| normalize(&root.join(m)))
            .collect();
        Some(Exclusion { excluded, named })
    }

    /// Whether the package in `dir` is left out: under a folder of `exclude`
    /// and not under one `members` names.
    fn leaves_out(&self, dir: &Path) -> bool {
        self.excluded.iter().any(|ex| dir.starts_with(ex))
            && !self.named.iter().any(|m| dir.starts_with(m))
    }
}

/// The member folders a `members` pattern names: the folder itself, or every
/// folder matching a glob whose parts each stay in one folder (`*`, `?`, `[..]`).
fn expand(root: &Path, pattern: &str) -> Option<Vec<PathBuf>> {
    let is_glob = |s: &str| s.contains(['*', '?', '[']);
    if !is_glob(pattern) {
        return Some(vec![normalize(&root.join(pattern))]);
    }
    // `**`, and what globset reads otherwise than cargo's `glob` crate
    // (braces, `[^..]`, escapes): cargo's to expand.
    if pattern.contains("**") || pattern.contains(['{', '}', '^', '!', '\\']) {
        return None;
    }
    let mut dirs = vec![root.to_path_buf()];
    for part in Path::new(pattern).components() {
        let part = part.as_os_str().to_str()?;
        if !is_glob(part) {
            dirs = dirs.into_iter().map(|d| normalize(&d.join(part))).collect();
            continue;
        }
        let matcher = globset::GlobBuilder::new(part)
            .literal_separator(true)
            .build()
            .ok()?
            .compile_matcher();
        let mut next = Vec::new();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if matcher.is_match(entry.file_name()) {
                    next.push(entry.path());
                }
            }
        }
        dirs = next;
    }
    // A match that holds no package is cargo's to judge.
    dirs.iter()
        .all(|d| d.join("Cargo.toml").is_file())
        .then_some(dirs)
}

/// The package of `manifest` (its parsed `toml`), in the workspace `(root,
/// [workspace])` when it has one.
fn member(manifest: &Path, toml: &Table, ws: Option<(&Path, &Table)>) -> Option<Member> {
    let dir = manifest.parent()?;
    let package = toml.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let edition = match package.get("edition") {
        Some(Value::String(e)) => e.clone(),
        Some(Value::Table(t)) if inherits(t) => {
            ws?.1.get("package")?.get("edition")?.as_str()?.to_string()
        }
        // Edition 2015 has legacy target paths: cargo's to find.
        _ => return None,
    };
    if !matches!(edition.as_str(), "2018" | "2021" | "2024") {
        return None;
    }
    Some(Member {
        path_deps: path_deps(dir, toml, ws)?,
        targets: targets(dir, &name, toml)?,
        name,
        manifest: manifest.to_path_buf(),
        edition,
    })
}

/// Whether a manifest value is `{ workspace = true }`.
fn inherits(t: &Table) -> bool {
    t.get("workspace").and_then(Value::as_bool) == Some(true)
}

/// The dependencies by path of every kind and platform, sorted.
fn path_deps(dir: &Path, toml: &Table, ws: Option<(&Path, &Table)>) -> Option<Vec<PathDep>> {
    // The old spellings (`dev_dependencies`), which cargo reads only without the
    // new and refuses in edition 2024: cargo's to read.
    let old =
        |t: &Table| t.contains_key("dev_dependencies") || t.contains_key("build_dependencies");
    if old(toml) {
        return None;
    }
    let mut tables = tables_of_kinds(toml);
    if let Some(platforms) = toml.get("target").and_then(Value::as_table) {
        for platform in platforms.values() {
            let platform = platform.as_table()?;
            if old(platform) {
                return None;
            }
            tables.extend(tables_of_kinds(platform));
        }
    }
    let inherited = ws.and_then(|(root, ws)| Some((root, ws.get("dependencies")?.as_table()?)));
    let mut deps = BTreeSet::new();
    let entries = tables
        .into_iter()
        .flat_map(|(dev, table)| table.iter().map(move |(key, spec)| (dev, key, spec)));
    for (dev_only, key, spec) in entries {
        let Value::Table(spec) = spec else { continue };
        // `{ workspace = true }` takes `path` and `package` from the workspace's entry.
        let (base, spec) = if inherits(spec) {
            let (root, table) = inherited?;
            match table.get(key)? {
                Value::Table(t) => (root, t),
                _ => continue,
            }
        } else {
            (dir, spec)
        };
        let Some(path) = spec.get("path") else {
            continue;
        };
        // Both a path and a git source: cargo refuses it.
        if spec.contains_key("git") {
            return None;
        }
        deps.insert(PathDep {
            key: key.clone(),
            package: match spec.get("package") {
                Some(p) => p.as_str()?.to_string(),
                None => key.clone(),
            },
            path: normalize(&base.join(path.as_str()?)),
            dev_only,
        });
    }
    Some(one_per_dependency(deps))
}

/// The dependency tables of `toml` (one platform's or the package's own), each
/// with whether it holds dev-dependencies.
fn tables_of_kinds(toml: &Table) -> Vec<(bool, &Table)> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    KINDS
        .iter()
        .filter_map(|k| Some((*k == "dev-dependencies", toml.get(*k)?.as_table()?)))
        .collect()
}

/// Each dependency once, `dev_only` when no other kind names it.
fn one_per_dependency(deps: BTreeSet<PathDep>) -> Vec<PathDep> {
    let mut out: Vec<PathDep> = Vec::new();
    for dep in deps {
        match out.last_mut() {
            Some(last)
                if (&last.key, &last.package, &last.path)
                    == (&dep.key, &dep.package, &dep.path) =>
            {
                last.dev_only &= dep.dev_only;
            }
            _ => out.push(dep),
        }
    }
    out
}

/// The library, binaries and build script of the package `name` in `dir`:
/// those its manifest declares and those Cargo infers from its folder.
fn targets(dir: &Path, name: &str, toml: &Table) -> Option<Vec<Target>> {
    let package = toml.get("package")?.as_table()?;
    let auto = |key: &str| package.get(key).map_or(Some(true), Value::as_bool);
    let mut targets = Vec::new();

    let default_lib = dir.join("src/lib.rs");
    let no_settings = Table::new();
    let lib = match toml.get("lib") {
        Some(lib) => Some(lib.as_table()?),
        None if auto("autolib")? && default_lib.is_file() => Some(&no_settings),
        None => None,
    };
    if let Some(lib) = lib {
        let root = match lib.get("path") {
            Some(p) => normalize(&dir.join(p.as_str()?)),
            None => default_lib,
        };
        let types = match lib.get("crate-type").or_else(|| lib.get("crate_type")) {
            Some(types) => strings(Some(types))?,
            None if lib.get("proc-macro").or_else(|| lib.get("proc_macro"))
                == Some(&Value::Boolean(true)) =>
            {
                vec!["proc-macro".to_string()]
            }
            None => vec!["lib".to_string()],
        };
        let kind = if types.iter().any(|t| t == "proc-macro") {
            Some(Kind::ProcMacro)
        } else if types.iter().any(|t| t == "lib" || t == "rlib") {
            Some(Kind::Lib)
        } else {
            None
        };
        if !root.is_file() {
            return None;
        }
        if let Some(kind) = kind {
            let lib_name = match lib.get("name") {
                Some(n) => n.as_str()?.to_string(),
                None => name.replace('-', "_"),
            };
            targets.push(Target {
                name: lib_name,
                kind,
                root,
                required_features: Vec::new(),
            });
        }
    }

    let inferred = inferred_bins(dir, name);
    let declared = match toml.get("bin") {
        Some(bins) => bins.as_array()?.as_slice(),
        None => &[],
    };
    let mut bins: Vec<Target> = Vec::new();
    for bin in declared {
        let bin = bin.as_table()?;
        let bin_name = bin.get("name")?.as_str()?.to_string();
        let root = match bin.get("path") {
            Some(p) => normalize(&dir.join(p.as_str()?)),
            None => {
                let mut found = inferred.iter().filter(|(n, _)| *n == bin_name);
                match (found.next(), found.next()) {
                    (Some((_, root)), None) => root.clone(),
                    _ => return None,
                }
            }
        };
        if !root.is_file() {
            return None;
        }
        let required_features = match bin.get("required-features") {
            Some(list) => list
                .as_array()?
                .iter()
                .map(|f| f.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()?,
            None => Vec::new(),
        };
        bins.push(Target {
            name: bin_name,
            kind: Kind::Bin,
            root,
            required_features,
        });
    }
    if auto("autobins")? {
        let more: Vec<Target> = inferred
            .into_iter()
            .filter(|(n, p)| !bins.iter().any(|b| b.name == *n || b.root == *p))
            .map(|(name, root)| Target {
                name,
                kind: Kind::Bin,
                root,
                required_features: Vec::new(),
            })
            .collect();
        bins.extend(more);
    }
    // Cargo lists binaries by name, and refuses two of one name or a name its
    // build output uses.
    bins.sort();
    let reserved = ["build", "deps", "examples", "incremental"];
    let clash = bins.windows(2).any(|w| w[0].name == w[1].name);
    if clash || bins.iter().any(|b| reserved.contains(&b.name.as_str())) {
        return None;
    }
    targets.extend(bins);

    let build = match package.get("build") {
        Some(Value::String(path)) => Some(normalize(&dir.join(path))),
        Some(Value::Boolean(false)) => None,
        Some(Value::Boolean(true)) => Some(dir.join("build.rs")),
        None => Some(dir.join("build.rs")).filter(|b| b.is_file()),
        Some(_) => return None,
    };
    if let Some(root) = build {
        if !root.is_file() {
            return None;
        }
        let stem = root.file_stem()?.to_str()?;
        targets.push(Target {
            name: format!("build-script-{stem}"),
            kind: Kind::BuildScript,
            root,
            required_features: Vec::new(),
        });
    }
    Some(targets)
}

/// The binaries Cargo infers in `dir`: `src/main.rs` named after the package,
/// `src/bin/NAME.rs` and `src/bin/NAME/main.rs`.
fn inferred_bins(dir: &Path, package: &str) -> Vec<(String, PathBuf)> {
    let mut bins = Vec::new();
    let main = dir.join("src/main.rs");
    if main.is_file() {
        bins.push((package.to_string(), main));
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("src/bin")) {
        for entry in entries.flatten() {
            let path = entry.path();
            // As cargo: hidden entries are skipped, and a folder is one itself
            // (not a link to one).
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if path.join("main.rs").exists() {
                    bins.push((name, path.join("main.rs")));
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            {
                bins.push((stem.to_string(), path.clone()));
            }
        }
    }
    bins.sort();
    bins
}

/// A value that is an array of strings (absent: empty).
fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    match value {
        None => Some(Vec::new()),
        Some(v) => v
            .as_array()?
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect(),
    }
}

fn parse(manifest: &Path) -> Option<Table> {
    std::fs::read_to_string(manifest).ok()?.parse().ok()
}

/// The cargo that answers `cargo metadata`: `$CARGO` when cargo runs knit, else
/// the toolchain's own binary, found once through `rustc --print sysroot` (run
/// where knit runs, as `cargo` would be), so that each service does not start
/// rustup's proxy as well as cargo; `cargo` from `PATH` when that finds none.
pub fn cargo() -> &'static Path {
    static CARGO: OnceLock<PathBuf> = OnceLock::new();
    CARGO.get_or_init(|| {
        if let Some(cargo) = std::env::var_os("CARGO") {
            return PathBuf::from(cargo);
        }
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                let sysroot = String::from_utf8_lossy(&o.stdout).trim().to_string();
                Path::new(&sysroot)
                    .join("bin")
                    .join(format!("cargo{}", std::env::consts::EXE_SUFFIX))
            })
            .filter(|cargo| cargo.is_file())
            .unwrap_or_else(|| PathBuf::from("cargo"))
    })
}

/// The workspace of `manifest` as `cargo metadata --no-deps` gives it.
/// Cargo's error message on one line: its lines from the first `error:` on,
/// joined with `; `, without the source excerpt and caret art (a `-->` location
/// is kept, as `(at FILE:LINE:COL)`), blank lines and `Caused by:` headings.
pub fn cargo_reason(stderr: &str) -> String {
    let from_error = stderr
        .lines()
        .position(|l| l.starts_with("error"))
        .unwrap_or(0);
    let mut parts: Vec<String> = Vec::new();
    for line in stderr.lines().skip(from_error) {
        let line = line.trim();
        let gutter = line
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
        if line.is_empty() || line == "Caused by:" || gutter.starts_with('|') || line == "..." {
            continue;
        }
        if let Some(at) = line.strip_prefix("-->") {
            if let Some(last) = parts.last_mut() {
                last.push_str(&format!(" (at {})", at.trim()));
            }
            continue;
        }
        let line = line.strip_prefix("error: ").unwrap_or(line);
        let line = line.strip_prefix("= ").unwrap_or(line);
        parts.push(line.to_string());
    }
    if parts.is_empty() {
        "failed".to_string()
    } else {
        parts.join("; ")
    }
}

pub fn from_cargo(manifest: &Path) -> Result<Workspace> {
    let meta = MetadataCommand::new()
        .cargo_path(cargo())
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .map_err(|e| {
            let reason = match &e {
                cargo_metadata::Error::CargoMetadata { stderr } => cargo_reason(stderr),
                other => other.to_string(),
            };
            Diagnostic::in_file(manifest, format!("cargo metadata: {reason}"))
        })?;
    let members = meta
        .workspace_packages()
        .into_iter()
        .map(|p| {
            let path_deps: BTreeSet<PathDep> = p
                .dependencies
                .iter()
                .filter_map(|d| {
                    Some(PathDep {
                        key: d.rename.clone().unwrap_or_else(|| d.name.clone()),
                        package: d.name.clone(),
                        path: d.path.as_ref()?.as_std_path().to_path_buf(),
                        dev_only: d.kind == cargo_metadata::DependencyKind::Development,
                    })
                })
                .collect();
            let targets = p
                .targets
                .iter()
                .filter_map(|t| {
                    let has = |k: cargo_metadata::TargetKind| t.kind.contains(&k);
                    let kind = if has(cargo_metadata::TargetKind::ProcMacro) {
                        Kind::ProcMacro
                    } else if has(cargo_metadata::TargetKind::Lib)
                        || has(cargo_metadata::TargetKind::RLib)
                    {
                        Kind::Lib
                    } else if has(cargo_metadata::TargetKind::Bin) {
                        Kind::Bin
                    } else if has(cargo_metadata::TargetKind::CustomBuild) {
                        Kind::BuildScript
                    } else {
                        return None;
                    };
                    Some(Target {
                        name: t.name.clone(),
                        kind,
                        root: t.src_path.as_std_path().to_path_buf(),
                        required_features: t.required_features.clone(),
                    })
                })
                .collect();
            Member {
                name: p.name.to_string(),
                manifest: p.manifest_path.as_std_path().to_path_buf(),
                edition: p.edition.as_str().to_string(),
                path_deps: one_per_dependency(path_deps),
                targets,
            }
        })
        .collect();
    Ok(Members {
        root: meta.workspace_root.as_std_path().to_path_buf(),
        members,
    }
    .into_workspace())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Both readers on `manifest` (targets in order: the order of crate roots).
    fn both(manifest: &Path) -> (Option<Workspace>, Workspace) {
        let cargo = from_cargo(manifest).unwrap_or_else(|e| panic!("{manifest:?}: {e:?}"));
        (read_in_process(manifest), cargo)
    }

    #[test]
    fn agrees_with_cargo_on_every_corpus_manifest() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
        let corpus = corpus.canonicalize().unwrap();
        let manifests: Vec<PathBuf> = ignore::WalkBuilder::new(&corpus)
            .build()
            .filter_map(|e| e.ok())
            .map(|e| e.into_path())
            .filter(|p| p.file_name().is_some_and(|n| n == "Cargo.toml"))
            .collect();
        assert!(manifests.len() >= 15, "{manifests:?}");
        for manifest in manifests {
            let (ours, cargo) = both(&manifest);
            assert_eq!(ours.as_ref(), Some(&cargo), "{}", manifest.display());
        }
    }

    /// Writes `files` (path, text) into a fresh folder.
    pub(crate) fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const MAIN: &str = "fn main() {}\n";
    const LIB: &str = "\n";

    fn package(name: &str, rest: &str) -> String {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{rest}")
    }

    /// Each of Cargo's rules that the reader follows, against cargo itself: the
    /// reader must answer (not hand over to cargo) and agree.
    #[test]
    fn agrees_with_cargo_on_each_rule() {
        let inferred_bins = package("svc", "");
        let declared_bins = package(
            "svc",
            "[[bin]]\nname = \"tool\"\n\n[[bin]]\nname = \"server\"\npath = \"src/../src/server.rs\"\n",
        );
        let no_autobins = package("svc", "autobins = false\n[[bin]]\nname = \"svc\"\n");
        let lib_settings = package(
            "my-svc",
            "build = \"gen/generate.rs\"\n[lib]\nname = \"core_lib\"\npath = \"./src/core.rs\"\ncrate-type = [\"cdylib\", \"rlib\"]\n",
        );
        let cdylib_only = package("svc", "build = false\n[lib]\ncrate-type = [\"cdylib\"]\n");
        let macros = package("macros", "[lib]\nproc-macro = true\n");
        let root = "[workspace]\nmembers = [\"services/*\", \"crates/model\"]\nexclude = [\"services/old\"]\n\
                    [workspace.package]\nedition = \"2024\"\n\
                    [workspace.dependencies]\nutil = { path = \"crates/util\", package = \"team-util\" }\n";
        let member = "[package]\nname = \"api\"\nversion = \"0.1.0\"\nedition.workspace = true\n\
                      [dependencies]\nutil.workspace = true\nmodel = { path = \"../../crates/model\" }\n\
                      [target.'cfg(unix)'.dev-dependencies]\nhelpers = { path = \"../../helpers\" }\n\
                      [build-dependencies]\nmodel = { path = \"../../crates/model\" }\n";
        // (the rule, the files, the manifest read)
        type Case = (&'static str, Vec<(&'static str, String)>, &'static str);
        let cases: Vec<Case> = vec![
            (
                "bins inferred from src/main.rs and src/bin",
                vec![
                    ("Cargo.toml", inferred_bins),
                    ("src/main.rs", MAIN.into()),
                    ("src/lib.rs", LIB.into()),
                    ("src/bin/admin.rs", MAIN.into()),
                    ("src/bin/worker/main.rs", MAIN.into()),
                    ("src/bin/._admin.rs", "\u{0}".into()),
                    ("src/bin/.hidden/main.rs", MAIN.into()),
                    ("src/bin/notes.txt", "".into()),
                    ("build.rs", MAIN.into()),
                ],
                "Cargo.toml",
            ),
            (
                "bins declared, with and without a path, next to inferred ones",
                vec![
                    ("Cargo.toml", declared_bins),
                    ("src/server.rs", MAIN.into()),
                    ("src/main.rs", MAIN.into()),
                    ("src/bin/tool.rs", MAIN.into()),
                    ("src/bin/extra.rs", MAIN.into()),
                ],
                "Cargo.toml",
            ),
            (
                "autobins = false",
                vec![
                    ("Cargo.toml", no_autobins),
                    ("src/main.rs", MAIN.into()),
                    ("src/bin/extra.rs", MAIN.into()),
                ],
                "Cargo.toml",
            ),
            (
                "[lib] name, path and crate types; a build script elsewhere",
                vec![
                    ("Cargo.toml", lib_settings),
                    ("src/core.rs", LIB.into()),
                    ("src/main.rs", MAIN.into()),
                    ("gen/generate.rs", MAIN.into()),
                ],
                "Cargo.toml",
            ),
            (
                "a cdylib only, build = false",
                vec![
                    ("Cargo.toml", cdylib_only),
                    ("src/lib.rs", LIB.into()),
                    ("build.rs", MAIN.into()),
                ],
                "Cargo.toml",
            ),
            (
                "a proc-macro library",
                vec![("Cargo.toml", macros), ("src/lib.rs", LIB.into())],
                "Cargo.toml",
            ),
            (
                "a workspace: globs, exclude, inherited edition and dependencies, path members",
                vec![
                    ("Cargo.toml", root.into()),
                    ("services/api/Cargo.toml", member.into()),
                    ("services/api/src/main.rs", MAIN.into()),
                    ("services/old/Cargo.toml", package("old", "[workspace]\n")),
                    ("services/old/src/main.rs", MAIN.into()),
                    ("crates/model/Cargo.toml", package("model", "")),
                    ("crates/model/src/lib.rs", LIB.into()),
                    ("crates/util/Cargo.toml", package("team-util", "")),
                    ("crates/util/src/lib.rs", LIB.into()),
                    ("helpers/Cargo.toml", package("helpers", "")),
                    ("helpers/src/lib.rs", LIB.into()),
                ],
                "services/api/Cargo.toml",
            ),
        ];
        for (rule, files, manifest) in cases {
            let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
            let dir = fixture(&files);
            let manifest = dir.path().canonicalize().unwrap().join(manifest);
            let (ours, cargo) = both(&manifest);
            assert_eq!(ours.as_ref(), Some(&cargo), "{rule}");
        }
    }

    /// What the reader does not know goes to cargo.
    #[test]
    fn hands_over_what_it_does_not_know() {
        let cases = [
            (
                "a brace glob",
                "[workspace]\nmembers = [\"crates/*-{a,b}\"]\n",
            ),
            (
                "a negated class",
                "[workspace]\nmembers = [\"crates/[^a]*\"]\n",
            ),
            (
                "`..` in exclude",
                "[workspace]\nmembers = []\nexclude = [\"x/../y\"]\n",
            ),
            (
                "a member outside",
                "[workspace]\nmembers = [\"../elsewhere\"]\n",
            ),
            (
                "the old dependency tables",
                &*package("svc", "[dev_dependencies]\nx = { path = \"x\" }\n"),
            ),
            (
                "git and path",
                &*package(
                    "svc",
                    "[dependencies]\nx = { path = \"x\", git = \"https://example.com/x\" }\n",
                ),
            ),
            (
                "two binaries of one name",
                &*package(
                    "svc",
                    "[[bin]]\nname = \"svc\"\npath = \"src/main.rs\"\n[[bin]]\nname = \"svc\"\npath = \"src/other.rs\"\n",
                ),
            ),
            (
                "a reserved binary name",
                &*package("svc", "[[bin]]\nname = \"build\"\npath = \"src/main.rs\"\n"),
            ),
            (
                "edition 2015",
                "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n",
            ),
            (
                "package.workspace",
                &*package("svc", "workspace = \"..\"\n"),
            ),
            ("a `**` glob", "[workspace]\nmembers = [\"**/x\"]\n"),
            (
                "a declared bin without its file",
                &*package("svc", "[[bin]]\nname = \"gone\"\n"),
            ),
            ("not TOML", "[package\n"),
        ];
        for (what, manifest) in cases {
            let dir = fixture(&[
                ("Cargo.toml", manifest),
                ("src/main.rs", MAIN),
                ("src/other.rs", MAIN),
            ]);
            assert_eq!(
                read_in_process(&dir.path().join("Cargo.toml")),
                None,
                "{what}"
            );
        }
        // A member that is a workspace root of its own.
        let nested = package("inner", "[workspace]\n");
        let dir = fixture(&[
            ("Cargo.toml", "[workspace]\nmembers = [\"inner\"]\n"),
            ("inner/Cargo.toml", &nested),
            ("inner/src/main.rs", MAIN),
        ]);
        assert_eq!(read_in_process(&dir.path().join("Cargo.toml")), None);
    }
}
