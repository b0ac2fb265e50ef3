fn main() -> Result<(), Box<dyn std::error::Error>> {
    apigen::compile(&["depot/v1/depot.proto"])
}
