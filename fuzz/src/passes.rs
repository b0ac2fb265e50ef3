//! Every pass and the merge on a corpus system whose Rust file is replaced by
//! mutated source: the system is loaded once; each input puts its text in
//! place of one file (the first byte picks which), parsed as the loader parses
//! it, merges, and puts the file back.
//!
//! The system is `corpus/shop` unless `KNIT_FUZZ_SYSTEM` names another plan
//! (relative to the checkout).

use std::sync::{Mutex, OnceLock};

use knit_passes::FileId;
use knit_rewriter::fuzzing;
use knit_rewriter::load::{Loaded, Versions};

use crate::properties::{merge_holds, one_line_errors};

/// The loaded system and its Rust files.
struct System {
    loaded: Loaded,
    rust: Vec<FileId>,
}

fn system() -> &'static Mutex<System> {
    static SYSTEM: OnceLock<Mutex<System>> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        // Build scripts are read, never run: an input is merged in process.
        knit_rewriter::load::run_build_scripts(false);
        let plan = std::env::var("KNIT_FUZZ_SYSTEM").unwrap_or("corpus/shop/knit.toml".into());
        let (loaded, _) = knit_rewriter::prepare(&crate::root().join(&plan), Versions::Skip)
            .unwrap_or_else(|e| panic!("{plan} does not merge: {e}"));
        let rust = (0..loaded.group.files.len() as u32)
            .map(FileId)
            .filter(|&id| loaded.group.file(id).rust.is_some())
            .collect();
        Mutex::new(System { loaded, rust })
    })
}

/// The Rust files of the system, in order: what the first byte of an input
/// picks from (for making seeds).
pub fn files() -> Vec<(u8, String, String)> {
    let system = system().lock().unwrap_or_else(|e| e.into_inner());
    system
        .rust
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let file = system.loaded.group.file(id);
            (i as u8, file.path.clone(), file.text.clone())
        })
        .collect()
}

/// Replaces the file `data[0]` picks by `data[1..]` (UTF-8; else ignored) and
/// checks the merge.
pub fn run(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut guard = system().lock().unwrap_or_else(|e| e.into_inner());
    let System { loaded, rust } = &mut *guard;
    let id = rust[pick as usize % rust.len()];
    let text = text.to_string();
    let done = fuzzing::on_workers(move || match fuzzing::replace(loaded, id, text) {
        Err(e) => one_line_errors(&e),
        Ok(saved) => {
            merge_holds(loaded);
            fuzzing::restore(loaded, id, saved);
        }
    });
    if let Err(e) = done {
        panic!("{e}");
    }
}
