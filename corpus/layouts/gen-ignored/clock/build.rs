fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Use the system protoc when PROTOC is set, the vendored one otherwise.
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: build scripts are single-threaded.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    // The generated code goes next to the sources (gitignored), for editors
    // to see; a clean checkout has no src/generated/ yet.
    std::fs::create_dir_all("src/generated")?;
    println!("cargo:rerun-if-changed=src/generated");
    tonic_prost_build::configure()
        .out_dir("src/generated")
        .compile_protos(&["proto/clock.proto"], &["proto"])?;
    Ok(())
}
