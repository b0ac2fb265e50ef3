//! Regenerates the checked-in gRPC code from `proto/`: `cargo run -p codegen`.

use std::error::Error;
use std::path::{Path, PathBuf};

/// Where the generated file goes: the shared crate, and picker's own copy.
const OUTPUTS: [&str; 2] = ["crates/proto/src/gen", "services/picker/generated"];

fn main() -> Result<(), Box<dyn Error>> {
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Use the system protoc when PROTOC is set, the vendored one otherwise.
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: nothing else runs yet.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    for out in OUTPUTS {
        let out = root.join(out);
        std::fs::create_dir_all(&out)?;
        tonic_prost_build::configure()
            .out_dir(&out)
            .compile_protos(&[root.join("proto/inventory.proto")], &[root.join("proto")])?;
        let file = out.join("inventory.v1.rs");
        strip_generated_header(&file)?;
        println!("wrote {}", file.display());
    }
    Ok(())
}

/// Drops the `@generated` marker line, so review tools show the file.
fn strip_generated_header(file: &Path) -> Result<(), Box<dyn Error>> {
    let text = std::fs::read_to_string(file)?;
    let kept: String = text
        .lines()
        .filter(|line| !line.contains("@generated"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(file, kept)?;
    Ok(())
}
