//! The loader and the whole merge on generated services: a fixture
//! ([`crate::fixture`]) with a plan, manifests, module trees and protos,
//! written to a scratch folder and merged as `knit merge` would.

use knit_rewriter::load::Versions;
use knit_rewriter::{Lockfile, fuzzing, merge, output_files, prepare};

use crate::fixture;
use crate::properties::{deterministic, loss_free, one_line_errors};

/// Writes the fixture `data` (UTF-8; else ignored) and merges its `knit.toml`.
pub fn run(data: &[u8]) {
    // Build scripts are read, never run: an input is merged in process.
    knit_rewriter::load::run_build_scripts(false);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files = fixture::files(text);
    if !files.iter().any(|(p, _)| p == "knit.toml") {
        return;
    }
    let dir = crate::scratch("load");
    fixture::write(&dir, &files);
    match prepare(&dir.join("knit.toml"), Versions::Skip) {
        Err(e) => one_line_errors(&e),
        Ok((loaded, merged)) => {
            loss_free(&loaded, &merged);
            let second = fuzzing::on_workers(|| merge::merge(&loaded))
                .and_then(|r| r)
                .unwrap_or_else(|e| panic!("a second merge failed: {e}"));
            deterministic(&merged, &second);
            if let Err(e) =
                output_files(&loaded, &merged, &dir.join("knit-out"), Lockfile::AsMerged)
            {
                one_line_errors(&e);
            }
        }
    }
}
