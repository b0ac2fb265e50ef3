//! `cargo xtask bench calls`: first corpus/shop's request mix split against
//! merged (bench_mix.rs), then the per-call micro-benchmark (bench/calls.rs),
//! built against the crates knit generates for the greeter corpus, in release
//! mode. Ratios come from one run on one machine; nothing here is a test.

use std::process::Command;

use crate::{cargo, root};

/// `[--requests N] [--rounds R] [--request LABEL].. [--only mix|micro]`.
pub fn calls(args: &[String]) -> Result<(), String> {
    let mut options = crate::bench_mix::Options {
        iterations: 4000,
        rounds: 80,
        warmup: 200,
        only: Vec::new(),
    };
    let (mut mix, mut micro) = (true, true);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let number = |v: &String| v.parse::<u32>().map_err(|e| format!("{arg} {v}: {e}"));
        match arg.as_str() {
            "--requests" => options.iterations = number(value()?)?,
            "--rounds" => options.rounds = number(value()?)?.max(1),
            "--request" => options.only.push(value()?.clone()),
            "--only" => match value()?.as_str() {
                "mix" => micro = false,
                "micro" => mix = false,
                other => return Err(format!("--only {other}: expected mix or micro")),
            },
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if mix {
        crate::bench_mix::run("shop", &options)?;
    }
    if micro {
        println!();
        println!("bench calls: per-call micro-benchmark (corpus/greeter's generated crates)");
        println!("{}", crate::bench_mix::machine());
        println!();
        micro_benchmark()?;
    }
    Ok(())
}

/// The per-call micro-benchmark: one unary call through each path.
fn micro_benchmark() -> Result<(), String> {
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
