//! The Volo rows of `cargo xtask bench calls` (bench/volo_calls.rs): a unary
//! Volo call split (loopback TCP) against merged (knit's Unix socket of the
//! process, and knit's inline client) and a direct call of the handler, built
//! in release against the
//! crates knit writes for corpus/volo (its volo-gen crate, knit-runtime with
//! its `volo` feature).

use std::path::Path;
use std::process::Command;

use crate::{cargo, root};

/// Rounds of the interleaved split/merged measurement, and calls per
/// measurement: about 25 s of calls on a loaded 2-core machine.
const ROUNDS: usize = 5;
const CALLS: u32 = 2000;

/// Merges corpus/volo, builds the benchmark against its crates and runs it.
pub fn run() -> Result<(), String> {
    let target = root().join("target/e2e");
    let work = target.join("bench-calls");
    let merged = crate::bench::merge_for_bench("volo", "volo-merged")?;
    let bench = work.join("volo-bench");
    std::fs::create_dir_all(bench.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"knit-bench-volo\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n\
         [dependencies]\nvolo_gen = {{ package = \"{gen}\", path = \"{m}/volo-gen\" }}\nknit-runtime = {{ path = \"{m}/knit/runtime\" }}\n\
         libc = \"0.2\"\ntokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"net\", \"time\"] }}\n\
         volo = \"0.12\"\nvolo-grpc = {{ version = \"0.12\", default-features = false }}\npilota = \"0.13\"\n\
         metainfo = \"0.7\"\nfutures-util = \"0.3\"\n",
        gen = package_name(&merged.join("volo-gen/Cargo.toml"))?,
        m = merged.display()
    );
    std::fs::write(bench.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(
        bench.join("src/main.rs"),
        include_str!("../bench/volo_calls.rs"),
    )
    .map_err(|e| e.to_string())?;
    // knit's generated modules of corpus/volo: teller's client of rates, and
    // what rates registers.
    for (from, to) in [
        ("teller/src/knit_volo.rs", "src/knit_client.rs"),
        ("rates/src/knit_volo.rs", "src/knit_provider.rs"),
    ] {
        std::fs::copy(merged.join(from), bench.join(to))
            .map_err(|e| format!("{from} of the merged corpus/volo: {e}"))?;
    }
    let _ = std::fs::copy(merged.join("Cargo.lock"), bench.join("Cargo.lock"));
    let status = cargo(&target)
        .arg("build")
        .args(crate::quiet_unless_terminal())
        .args(["--release", "--manifest-path"])
        .arg(bench.join("Cargo.toml"))
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the Volo benchmark does not build".into());
    }
    println!("load average before: {}", load_average());
    let status = Command::new(target.join("release/knit-bench-volo"))
        .args([ROUNDS.to_string(), CALLS.to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the Volo benchmark failed".into());
    }
    println!("load average after: {}", load_average());
    Ok(())
}

/// The 1, 5 and 15 minute load averages: the machine may be shared.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    if fields.is_empty() {
        "?".into()
    } else {
        fields.join(" ")
    }
}

/// The `[package] name` of `manifest` (knit renames the packages it merges).
fn package_name(manifest: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("{manifest:?}: {e}"))?;
    let doc: toml::Table = text.parse().map_err(|e| format!("{manifest:?}: {e}"))?;
    doc.get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("{manifest:?}: no package name"))
}
