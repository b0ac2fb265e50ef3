//! Shared build-script code: every service compiles the repository's protos the same way.

use std::error::Error;
use std::path::{Path, PathBuf};

/// Compiles every `.proto` file directly in `dir` (clients and servers), with
/// `dir` as the include path. Called from a build script.
pub fn compile_protos(dir: impl AsRef<Path>) -> Result<(), Box<dyn Error>> {
    let dir = dir.as_ref();
    // Use the system protoc when PROTOC is set, the vendored one otherwise.
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: build scripts are single-threaded.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "proto") {
            files.push(path);
        }
    }
    files.sort();
    println!("cargo:rerun-if-changed={}", dir.display());
    tonic_prost_build::configure().compile_protos(&files, &[dir.to_path_buf()])?;
    Ok(())
}
