//! The promises every target checks on what knit answers.

use std::collections::BTreeMap;

use knit_rewriter::error::Error;
use knit_rewriter::load::Loaded;
use knit_rewriter::merge::{Content, Merged};

use crate::patch;

/// An error as `knit` prints it before exit 2: one line per diagnostic, each
/// starting `error: `, none empty.
pub fn one_line_errors(error: &Error) {
    assert!(!error.0.is_empty(), "an error with no diagnostic");
    for d in &error.0 {
        let shown = d.to_string();
        assert!(
            !shown.contains('\n') && !shown.contains('\r'),
            "a diagnostic spans lines: {shown:?}"
        );
        assert!(
            shown.starts_with("error: ") && shown.len() > "error: ".len(),
            "{shown:?}"
        );
    }
}

/// The merge is loss-free: applying `knit.diff` to the services' files gives
/// the output's files, and every file outside the diff is the input unchanged.
pub fn loss_free(loaded: &Loaded, merged: &Merged) {
    let diff = knit_rewriter::diff::render(&merged.changes);
    let patches = patch::parse(&diff).unwrap_or_else(|e| panic!("knit.diff: {e}\n{diff}"));
    let mut inputs: BTreeMap<&str, &str> = BTreeMap::new();
    for file in &loaded.group.files {
        inputs.insert(&file.path, &file.text);
    }
    for (path, hunks) in &patches {
        let old = inputs.get(path.as_str()).copied();
        let new = patch::apply(old.unwrap_or(""), hunks)
            .unwrap_or_else(|e| panic!("knit.diff does not apply to {path}: {e}"));
        match merged.files.get(path) {
            Some(Content::Text(text)) => assert!(
                *text == new,
                "knit.diff applied to {path} is not the output's file"
            ),
            other => panic!("knit.diff names {path}, the output has {other:?}"),
        }
    }
    for (path, text) in inputs {
        if patches.contains_key(path) {
            continue;
        }
        match merged.files.get(path) {
            Some(Content::Text(out)) => {
                assert!(out == text, "{path} changed but is not in knit.diff")
            }
            other => panic!("input {path} is not in the output: {other:?}"),
        }
    }
}

/// A second merge of the same inputs is byte-identical to the first.
pub fn deterministic(first: &Merged, second: &Merged) {
    assert!(
        first.files == second.files,
        "a second merge wrote other files"
    );
    assert!(
        first.changes == second.changes,
        "a second merge changed other lines"
    );
}

/// Every promise on one merge: its errors, or a loss-free output that a second
/// merge repeats. Runs on knit's worker threads.
pub fn merge_holds(loaded: &Loaded) {
    match knit_rewriter::merge::merge(loaded) {
        Err(e) => one_line_errors(&e),
        Ok(first) => {
            loss_free(loaded, &first);
            let second = knit_rewriter::merge::merge(loaded)
                .unwrap_or_else(|e| panic!("a second merge failed: {e}"));
            deterministic(&first, &second);
        }
    }
}
