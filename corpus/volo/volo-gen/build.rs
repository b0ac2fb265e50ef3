fn main() {
    // volo.yml names the protos in ../proto.
    println!("cargo:rerun-if-changed=../proto");
    volo_build::ConfigBuilder::default().write().unwrap();
}
