fn main() -> Result<(), Box<dyn std::error::Error>> {
    build_common::compile_protos("../../proto")
}
