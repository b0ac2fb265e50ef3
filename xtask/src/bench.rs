//! `cargo xtask bench calls`: builds the per-call micro-benchmark (bench/calls.rs)
//! against the crates knit generates for the greeter corpus, in release mode, and
//! runs it. Ratios come from one run on one machine; nothing here is a test.

use std::process::Command;

use crate::{cargo, root};

pub fn calls() -> Result<(), String> {
    let target = root().join("target/e2e");
    let work = target.join("bench-calls");
    let merged = work.join("greeter-merged");
    let knit = crate::e2e::knit_binary()?;
    let status = Command::new(&knit)
        .args(["merge", "corpus/greeter/knit.toml", "--out"])
        .arg(&merged)
        .args(["--format", "json"])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("knit merge failed".into());
    }
    let bench = work.join("bench");
    std::fs::create_dir_all(bench.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"knit-bench-calls\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n\
         [dependencies]\nknit-proto-helloworld = {{ path = \"{m}/knit/protos/helloworld\" }}\nknit-runtime = {{ path = \"{m}/knit/runtime\" }}\n\
         libc = \"0.2\"\ntokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"net\"] }}\ntonic = \"0.14\"\n",
        m = merged.display()
    );
    std::fs::write(bench.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(bench.join("src/main.rs"), include_str!("../bench/calls.rs"))
        .map_err(|e| e.to_string())?;
    let _ = std::fs::copy(merged.join("Cargo.lock"), bench.join("Cargo.lock"));
    let status = cargo(&target)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(bench.join("Cargo.toml"))
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err("the benchmark failed".into())
    }
}
