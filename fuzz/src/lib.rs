//! knit's fuzz targets. Each `run` takes the fuzzer's bytes and panics when knit
//! breaks a promise (docs/reliability.md):
//!
//! - [`plan`]: the plan parser on any text;
//! - [`load`]: the loader and the whole merge on generated services (manifests,
//!   module trees, plans);
//! - [`passes`]: every pass and the merge on a corpus system with one Rust file
//!   replaced by mutated source;
//! - [`check`]: `knit check` on a merged output with one file changed, removed or
//!   added.
//!
//! The promises checked: no panic, no abort, no hang (libFuzzer's timeout);
//! every error one line per diagnostic (what `knit` prints before exit 2); the
//! diff loss-free (applying `knit.diff` to the inputs gives the output, and
//! files outside it are unchanged); a second merge byte-identical; `check` up to
//! date only for an unchanged output.
//!
//! `cargo xtask fuzz --minutes N` builds the libFuzzer binaries (`src/bin`) with
//! coverage instrumentation on stable Rust and runs them; `cargo test -p
//! knit-fuzz` replays the committed seeds and regressions (`seeds/`).

pub mod check;
pub mod fixture;
pub mod load;
pub mod passes;
pub mod patch;
pub mod plan;
pub mod properties;

use std::path::{Path, PathBuf};

/// The root of knit's checkout.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("fuzz/ is inside the checkout")
        .to_path_buf()
}

/// A scratch folder of this process, emptied: `/tmp/knit-fuzz-PID/NAME`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("knit-fuzz-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch folder can be made");
    dir
}
