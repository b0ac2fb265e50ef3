//! `knit check` and `knit status`: is a merged build still what knit would
//! generate from the services as they are now?
//!
//! Both start from `knit.lock`. When no input's hash, the plan, knit's version
//! or a pinned revision moved, the output is what knit would generate (merges
//! are deterministic), so checking it needs no parsing: only the hashes of the
//! output's files. Otherwise knit merges again and names what changed.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Diagnostic, Result, shown};
use crate::git;
use crate::load::Versions;
use crate::lockfile::{Lock, ServiceLock, hash, hash_file};
use crate::merge::Content;
use crate::outdir::{self, Entry};
use crate::paths::join;
use crate::report::Report;
use crate::{REPORT_JSON, cargolock, output_files, prepare};

/// What changed in one service's inputs since the lock was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputChanges {
    pub modified: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// A pinned revision that now names another commit: (recorded, now).
    pub moved_rev: Option<(String, String)>,
}

impl InputChanges {
    pub fn is_empty(&self) -> bool {
        self.modified.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.moved_rev.is_none()
    }

    /// `modified a, added b` for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((from, to)) = &self.moved_rev {
            parts.push(format!(
                "revision moved from {} to {}",
                short(from),
                short(to)
            ));
        }
        for (what, files) in [
            ("modified", &self.modified),
            ("added", &self.added),
            ("removed", &self.removed),
        ] {
            if !files.is_empty() {
                parts.push(format!("{what} {}", files.join(", ")));
            }
        }
        parts.join("; ")
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// The changes of `service`'s inputs, read below its folder `root`
/// ([`ServiceLock::root`]), since the lock recorded them; `checkout` is where
/// a pinned service's revision is resolved.
pub fn input_changes(service: &ServiceLock, root: &Path, checkout: Option<&Path>) -> InputChanges {
    let mut changes = InputChanges::default();
    if let (Some(rev), Some(recorded)) = (&service.rev, &service.git) {
        // A pinned revision's files cannot change; only what the revision names can.
        let now = checkout
            .and_then(git::toplevel)
            .and_then(|top| git::resolve(&top, rev).ok())
            .unwrap_or_else(|| "unresolved".into());
        if now != recorded.commit {
            changes.moved_rev = Some((recorded.commit.clone(), now));
        }
        return changes;
    }
    // Files are hashed and package folders walked in parallel; results keep
    // the lock's order.
    let hashed: Vec<(&String, std::io::Result<bool>)> = service
        .inputs
        .par_iter()
        .map(|(path, recorded)| {
            (
                path,
                hash_file(&service.origin(root, path)).map(|h| h == *recorded),
            )
        })
        .collect();
    for (path, same) in hashed {
        match same {
            Ok(true) => {}
            Ok(false) => changes.modified.push(path.clone()),
            Err(_) => changes.removed.push(path.clone()),
        }
    }
    let package_dirs: Vec<&str> = service
        .inputs
        .keys()
        .filter_map(|p| p.strip_suffix("/Cargo.toml"))
        .collect();
    let present: Vec<Vec<String>> = package_dirs
        .par_iter()
        .map(|dir| {
            let origin = service.origin(root, dir);
            crate::load::package_files(&origin)
                .iter()
                .map(|file| {
                    let rel = file
                        .strip_prefix(&origin)
                        .unwrap_or(file)
                        .to_string_lossy()
                        .replace('\\', "/");
                    format!("{dir}/{rel}")
                })
                .collect()
        })
        .collect();
    for path in present.into_iter().flatten() {
        if !service.inputs.contains_key(&path) {
            changes.added.push(path);
        }
    }
    changes
}

/// The verdict of `knit check`.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    UpToDate,
    /// Out of date, with one line per reason.
    Stale(Vec<String>),
}

/// Files of `dir` that differ from `expected` (path -> hash), and entries knit
/// did not write (build output under `target/` aside). Symbolic links are
/// never followed: knit writes none, so each is a difference. `Cargo.lock` may
/// differ as Cargo rewrites it ([`cargolock::keeps`] the lockfile knit writes,
/// `cargo_lock`).
fn output_changes(
    dir: &Path,
    expected: &BTreeMap<String, String>,
    cargo_lock: Option<&str>,
) -> Vec<String> {
    let present = match outdir::entries(dir) {
        Ok(present) => present,
        Err(e) => return vec![format!("cannot list {}: {e}", shown(dir))],
    };
    let hashed: Vec<(&String, Option<bool>)> = expected
        .par_iter()
        .map(|(path, recorded)| {
            let same = match present.get(path) {
                Some(Entry::File) => {
                    let text = std::fs::read(dir.join(path)).unwrap_or_default();
                    let kept = || {
                        let current = String::from_utf8_lossy(&text);
                        path == "Cargo.lock"
                            && cargo_lock.is_some_and(|w| cargolock::keeps(&current, w))
                    };
                    Some(hash(&text) == *recorded || kept())
                }
                _ => None,
            };
            (path, same)
        })
        .collect();
    let mut reasons = Vec::new();
    for (path, same) in hashed {
        match same {
            Some(true) => {}
            Some(false) => reasons.push(format!("{path} differs from what knit generates")),
            None if present.contains_key(path) => {
                reasons.push(format!("{path} is not a file knit wrote"));
            }
            None => reasons.push(format!("{path} is missing")),
        }
    }
    for (path, kind) in present {
        // Without the services' lockfiles knit writes none: Cargo makes its own.
        let cargos = path == "Cargo.lock" && kind == Entry::File;
        if expected.contains_key(&path) || path == crate::OUTPUT_MARKER || cargos {
            continue;
        }
        reasons.push(match kind {
            Entry::File => format!("{path} was not written by knit"),
            Entry::Other => format!("{path} was not written by knit (not a file)"),
        });
    }
    reasons
}

/// Checks that `dir` is exactly what knit generates from `plan` now.
pub fn check(plan_file: &Path, dir: &Path) -> Result<Verdict> {
    let lock = Lock::read(dir)?;
    let plan = crate::plan::Plan::read(plan_file)?;
    let plan_dir = plan_folder(plan_file)?;
    let mut reasons = Vec::new();
    if lock.knit != env!("CARGO_PKG_VERSION") {
        reasons.push(format!(
            "written by knit {}, this is knit {}",
            lock.knit,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if lock.plan_hash != hash(plan.text.as_bytes()) {
        reasons.push(format!("the plan {} changed", plan_file.display()));
    }
    let names: Vec<&str> = plan.services.iter().map(|s| s.name.as_str()).collect();
    let locked: Vec<&str> = lock.services.iter().map(|s| s.name.as_str()).collect();
    if names != locked {
        reasons.push(format!(
            "the plan's services are {names:?}, the build holds {locked:?}"
        ));
    } else {
        let changes: Vec<InputChanges> = lock
            .services
            .par_iter()
            .zip(plan.services.par_iter())
            .map(|(service, spec)| {
                input_changes(service, &service.root(&plan_dir), Some(&spec.path))
            })
            .collect();
        for (service, changes) in lock.services.iter().zip(changes) {
            if !changes.is_empty() {
                reasons.push(format!(
                    "service `{}` changed: {}",
                    service.name,
                    changes.describe()
                ));
            }
        }
    }
    if reasons.is_empty() {
        // The inputs are as recorded: so is the lockfile knit merged from them.
        let lockfiles: Vec<(&str, String)> = lock
            .services
            .iter()
            .filter_map(|s| {
                let path = join(&s.out_root, "Cargo.lock");
                s.inputs.get(&path)?;
                let text = std::fs::read_to_string(s.origin(&s.root(&plan_dir), &path));
                Some((s.name.as_str(), text.ok()?))
            })
            .collect();
        let lockfiles: Vec<(&str, &str)> =
            lockfiles.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let (written, _) = crate::lockmerge::merge(&lockfiles);
        let changed = output_changes(dir, &lock.outputs, Some(&written));
        return Ok(if changed.is_empty() {
            Verdict::UpToDate
        } else {
            Verdict::Stale(changed)
        });
    }
    // The inputs moved: merge again, and say what that changes.
    let (loaded, merged) = prepare(plan_file, Versions::Read)?;
    let files = output_files(&loaded, &merged, dir, crate::Lockfile::AsMerged)?;
    let now = Report::new(&loaded, &merged);
    if let Some(before) = std::fs::read_to_string(dir.join(REPORT_JSON))
        .ok()
        .and_then(|t| serde_json::from_str::<Report>(&t).ok())
    {
        reasons.extend(call_changes(&before, &now));
    }
    let mut expected = BTreeMap::new();
    for (path, content) in &files {
        let h = match content {
            Content::Text(text) => hash(text.as_bytes()),
            Content::Copy(origin) => hash_file(origin).unwrap_or_default(),
        };
        expected.insert(path.clone(), h);
    }
    expected.remove(crate::OUTPUT_MARKER);
    let written = files.iter().find_map(|(p, c)| match c {
        Content::Text(text) if p == "Cargo.lock" => Some(text.as_str()),
        _ => None,
    });
    reasons.extend(
        output_changes(dir, &expected, written)
            .into_iter()
            .filter(|r| !r.ends_with("was not written by knit")),
    );
    Ok(Verdict::Stale(reasons))
}

/// Call sites that converted before and do not now, per caller and callee.
fn call_changes(before: &Report, now: &Report) -> Vec<String> {
    let count = |report: &Report| {
        let mut inline: BTreeMap<(String, String), usize> = BTreeMap::new();
        for c in report
            .calls
            .iter()
            .filter(|c| c.tier == knit_passes::Tier::Inline)
        {
            *inline
                .entry((c.service.clone(), c.callee.clone()))
                .or_default() += 1;
        }
        inline
    };
    let (was, is) = (count(before), count(now));
    let mut reasons = Vec::new();
    for ((service, callee), n) in &was {
        let m = is
            .get(&(service.clone(), callee.clone()))
            .copied()
            .unwrap_or(0);
        if m < *n {
            let why: Vec<String> = now
                .calls
                .iter()
                .filter(|c| {
                    c.service == *service && c.callee == *callee && c.tier == knit_passes::Tier::Rpc
                })
                .map(|c| format!("{}: {}", c.site, c.detail))
                .collect();
            reasons.push(format!(
                "call sites of `{service}` to `{callee}` stopped converting ({n} inline before, {m} now){}",
                if why.is_empty() { String::new() } else { format!(": {}", why.join("; ")) }
            ));
        }
    }
    reasons
}

/// The folder of the plan `file`, resolved: where the lock's inputs are.
fn plan_folder(file: &Path) -> Result<std::path::PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    dir.canonicalize().map_err(|e| {
        Diagnostic::in_file(file, format!("cannot open the plan's folder: {e}")).into()
    })
}

/// One line of `knit status`.
#[derive(Debug)]
pub struct StatusRow {
    pub service: String,
    pub recorded: String,
    pub now: String,
    pub moved: bool,
}

/// Each service of the merged build in `dir`: its recorded version, and whether
/// its sources have moved on since.
pub fn status(dir: &Path) -> Result<Vec<StatusRow>> {
    let lock = Lock::read(dir)?;
    let plan_file = dir.join(&lock.plan);
    let plan_dir = plan_folder(&plan_file)?;
    let mut rows = Vec::new();
    for service in &lock.services {
        let version = match (&service.git, &service.rev) {
            (Some(g), Some(rev)) => format!("rev {rev} = {}", short(&g.commit)),
            (Some(g), None) => format!(
                "{}{}",
                short(&g.commit),
                if g.dirty {
                    " (with uncommitted changes)"
                } else {
                    ""
                }
            ),
            (None, _) => "not a git checkout".into(),
        };
        let recorded = format!("{version}, {} files", service.inputs.len());
        let checkout = service.root(&plan_dir);
        let changes = input_changes(service, &checkout, Some(&checkout));
        let now = if changes.is_empty() {
            "current".to_string()
        } else {
            let commit = git::state(&checkout)
                .map(|g| format!(" (now at {})", short(&g.commit)))
                .unwrap_or_default();
            format!("moved on{commit}: {}", changes.describe())
        };
        rows.push(StatusRow {
            service: service.name.clone(),
            recorded,
            now,
            moved: !changes.is_empty(),
        });
    }
    Ok(rows)
}
