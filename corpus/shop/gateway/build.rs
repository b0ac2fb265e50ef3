fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: build scripts are single-threaded.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    tonic_prost_build::compile_protos("proto/gateway.proto")?;
    // Only clients of the services this one calls.
    tonic_prost_build::configure()
        .build_server(false)
        .compile_protos(
            &[
                "proto/catalog.proto",
                "proto/cart.proto",
                "proto/checkout.proto",
                "proto/pricing.proto",
                "proto/payment.proto",
            ],
            &["proto"],
        )?;
    Ok(())
}
