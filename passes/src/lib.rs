//! knit's transformations.
//!
//! Each pass reads a loaded merge [`Group`] and answers with edits as data
//! ([`Output`]): text edits of source files, operations on manifests, new files,
//! and findings for the report. Passes do no I/O and know nothing of the CLI; the
//! driver (`knit-rewriter`) loads the inputs, runs the passes and applies the edits.

pub use knit_model::{hash, model, proto, scan, versions};

pub mod calls;
mod channels;
mod compiled;
pub mod edit;
pub mod entry;
pub mod features;
mod fields;
pub mod globals;
pub mod imports;
mod locals;
pub mod manifest;
pub mod names;
pub mod namespace;
mod orphans;
pub mod pass;
mod router;
pub mod routes;
pub mod scope;
mod served;
pub mod sharing;
mod unresolved;
pub mod volo;

#[cfg(test)]
mod fixture;

pub use edit::{CallSite, Edit, Finding, Level, NewFile, Output, Tier};
pub use model::{FileId, Group, Package, Service, SourceFile};
pub use pass::PassId;

/// A pass: the group and the sharing decisions in, edits and findings out.
pub type Pass = fn(&Group, &sharing::Sharing) -> Output;

/// The passes in the order they run. Each sees the original sources; their edits
/// must not overlap.
pub const PASSES: &[(PassId, Pass)] = &[
    (PassId::Namespace, namespace::run),
    (PassId::Entry, entry::run),
    (PassId::Calls, calls::run),
    (PassId::Globals, globals::run),
    (PassId::Volo, volo::run),
];

/// Runs every pass over `group`, with the decisions of `sharing`, and gathers
/// their outputs.
pub fn run_all(group: &Group, sharing: &sharing::Sharing) -> Output {
    use rayon::prelude::*;
    let mut out = Output::default();
    // The passes read the original sources only: they run side by side, and
    // their outputs are gathered in their order.
    let outputs: Vec<(PassId, Output)> = PASSES
        .par_iter()
        .map(|(id, pass)| (*id, pass(group, sharing)))
        .collect();
    for (id, output) in outputs {
        // A Volo client the `volo` pass converts is its call site, not the
        // `calls` pass's (which saw a client it could not convert).
        if id == PassId::Volo {
            let sites: Vec<_> = output.calls.iter().map(|c| c.at).collect();
            out.calls.retain(|c| !sites.contains(&c.at));
        }
        out.extend(output);
    }
    let entries = entry::lib_entries(group, &out);
    out.extend(entries);
    let pruned = imports::prune(group, &sharing.index.proto_modules, &out.edits);
    out.extend(pruned);
    edit::drop_swallowed(&mut out.edits);
    // Passes may each add one dependency to a manifest: it is listed once.
    let mut seen = Vec::new();
    out.manifest_ops.retain(|op| {
        let first = !seen.contains(op);
        if first {
            seen.push(op.clone());
        }
        first
    });
    out.extend(unresolved::find(group, &sharing.index));
    out
}
