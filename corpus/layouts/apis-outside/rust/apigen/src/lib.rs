//! Shared build-script code: compiles protos of the repository's `apis/`
//! folder, which it finds from its own place in the repository.

use std::error::Error;
use std::path::{Path, PathBuf};

/// The repository's API folder: two levels above this crate.
fn apis() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..").join("apis")
}

/// Compiles `protos`, named relative to the API folder (`"depot/v1/depot.proto"`),
/// clients and servers. Called from a build script.
pub fn compile(protos: &[&str]) -> Result<(), Box<dyn Error>> {
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: build scripts are single-threaded.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    let root = apis();
    let files: Vec<PathBuf> = protos.iter().map(|p| root.join(p)).collect();
    tonic_prost_build::configure().compile_protos(&files, &[root])?;
    Ok(())
}
