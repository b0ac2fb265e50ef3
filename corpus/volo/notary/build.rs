fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Use the system protoc when PROTOC is set, the vendored one otherwise.
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: build scripts are single-threaded.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    tonic_prost_build::configure()
        .build_client(false)
        .compile_protos(&["../proto/notary.proto"], &["../proto"])?;
    Ok(())
}
