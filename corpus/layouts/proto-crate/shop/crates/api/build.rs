fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Use the system protoc when PROTOC is set, the vendored one otherwise.
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: build scripts are single-threaded.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    // Every proto of the shop, compiled once for every service.
    tonic_prost_build::configure().compile_protos(
        &[
            "proto/shop/v1/catalog.proto",
            "proto/shop/v1/storefront.proto",
        ],
        &["proto"],
    )?;
    Ok(())
}
