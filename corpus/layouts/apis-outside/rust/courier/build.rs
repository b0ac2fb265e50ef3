fn main() -> Result<(), Box<dyn std::error::Error>> {
    apigen::compile(&["courier/v1/courier.proto", "depot/v1/depot.proto"])
}
