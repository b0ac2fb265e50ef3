//! knit's driver: loads the services of a plan, runs the passes, applies their
//! edits, and renders the merged workspace, its diff and its report.
//!
//! Data flow: [`plan`] → [`load`] → passes (`knit-passes`) → [`merge`] (apply
//! edits, generate support crates) → [`diff`], [`report`], [`emit`]; then, on
//! request, [`verify`] (`cargo check` of the output).

pub mod cargo_config;
pub mod check;
pub mod deploy;
pub mod diff;
pub mod emit;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod init;
pub mod lockfile;
pub mod merge;
mod mermaid;
pub mod outdir;
pub mod render;
pub mod report;
pub mod resolve;
mod servers;
pub mod verify;
mod volo;

pub use knit_load::{
    OUTPUT_MARKER, cargolock, error, git, links, load, lockmerge, nesting, parse, paths, plan,
    tonic, workspace,
};

use std::path::Path;

use error::{Diagnostic, Result};
use load::{Loaded, Versions};
use merge::{Content, Merged};

/// Names of the files knit writes next to the workspace.
pub const DIFF_FILE: &str = "knit.diff";
pub const REPORT_MD: &str = "report.md";
pub const REPORT_JSON: &str = "report.json";

/// Reads the plan at `plan`, loads its services and merges them in memory, on
/// the threads of [`workers`].
pub fn prepare(plan: &Path, versions: Versions) -> Result<(Loaded, Merged)> {
    in_workers(|| {
        let loaded = load::load(plan::Plan::read(plan)?, versions)?;
        let merged = merge::merge(&loaded)?;
        Ok((loaded, merged))
    })?
}

/// Runs `f` on the threads of [`workers`] (their stacks hold deep syntax trees).
fn in_workers<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    let workers = workers()
        .as_ref()
        .map_err(|e| Diagnostic::new(format!("cannot start knit's worker threads: {e}")))?;
    Ok(workers.install(f))
}

/// The stack of a thread of [`workers`]: the parser and the passes descend one
/// call per level of nesting, up to [`nesting::MAX_NESTING`] brackets and
/// [`nesting::MAX_DEPTH`] tree levels, a few hundred bytes to a few kilobytes
/// each in a debug build. Only the pages a thread touches take memory.
const WORKER_STACK: usize = 64 << 20;

/// The threads that parse the services and run the passes (rayon's global
/// pool has threads of 2 MiB).
fn workers() -> &'static Result<rayon::ThreadPool, String> {
    static POOL: std::sync::OnceLock<Result<rayon::ThreadPool, String>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK)
            .thread_name(|i| format!("knit-worker-{i}"))
            .build()
            .map_err(|e| e.to_string())
    })
}

/// How [`output_files`] gives the output's `Cargo.lock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lockfile {
    /// Completed by cargo ([`resolve`]): what `knit merge` writes.
    Resolved,
    /// As knit merged it from the services' lockfiles, with no cargo run
    /// (`knit check`, which accepts what cargo adds; the fuzz targets).
    AsMerged,
}

/// Every file of the output folder `out`: the workspace, the diff, the report
/// and `knit.lock`. Refuses an `out` that is, holds or lies inside a service's
/// folder ([`emit::refuse_overlap`]).
pub fn output_files(
    loaded: &Loaded,
    merged: &Merged,
    out: &Path,
    lockfile: Lockfile,
) -> Result<Vec<(String, Content)>> {
    let out_resolved = paths::resolved(out)
        .map_err(|e| Diagnostic::in_file(out, format!("cannot resolve the output folder: {e}")))?;
    emit::refuse_overlap(out, &out_resolved, loaded)?;
    let report = report::Report::new(loaded, merged);
    let mut files: Vec<(String, Content)> = merged
        .files
        .iter()
        .map(|(p, c)| (p.clone(), c.clone()))
        .collect();
    let recipes = deploy::files(loaded);
    let knits = [
        (DIFF_FILE.to_string(), diff::render(&merged.changes)),
        (REPORT_MD.to_string(), report.to_markdown()),
        (REPORT_JSON.to_string(), report.to_json()),
    ];
    for (path, text) in knits.into_iter().chain(recipes) {
        if merged.files.contains_key(&path) {
            return Err(Diagnostic::new(format!(
                "a service has `{path}` at the output's top, where knit writes its own"
            ))
            .into());
        }
        files.push((path, Content::Text(text)));
    }
    if lockfile == Lockfile::Resolved
        && let Err(why) = resolve::complete(&mut files)
    {
        eprintln!(
            "knit: Cargo.lock holds what the services locked; cargo could not add what knit's crates need ({why}): the first build adds it, and `cargo build --locked` refuses the output until then"
        );
    }
    let lock = lockfile::lock(loaded, &files, &out_resolved)
        .map_err(|e| Diagnostic::new(format!("cannot hash the inputs: {e}")))?;
    files.push((OUTPUT_MARKER.to_string(), Content::Text(lock.render())));
    Ok(files)
}
